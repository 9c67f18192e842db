"""The dataset convention (``docs/dataset.md``): what a file holds, the attributes rdnet writes, and
the check of both.

Both engines store one :class:`xarray.Dataset` per run: spatial fields whose last two dims
are ``y``, ``x`` (``z``, ``y``, ``x`` for a 3-D field) with 1-D physical coordinates, an
optional leading ``time`` record dimension, and global attributes that make the run
reproducible (``parameters`` holds every parameter as JSON). :func:`spatial_variables` is
the one definition of "which variables are spatial fields" and :func:`spatial_dims` of
which of their dims are space; :func:`validate` checks a dataset against the convention.
"""

from __future__ import annotations

import json
import math
import sys
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rdnet.errors import ConfigError, DatasetError

__all__ = [
    "SCHEMA_VERSION",
    "PARTIAL_SUFFIX",
    "COMPLETE_FLAG",
    "RDNET_ATTRS",
    "NON_SPATIAL_SYSTEMS",
    "DatasetWarning",
    "standard_attrs",
    "parameters_of",
    "validate",
    "spatial_variables",
    "spatial_dims",
    "SPATIAL_DIMS",
]


#: Version of the convention written into every file's ``rdnet_schema`` attribute.
SCHEMA_VERSION = "1.0"
#: Suffix of the file a run writes to until it is complete.
PARTIAL_SUFFIX = ".partial"
#: Name of the per-snapshot flag variable of a partial file.
COMPLETE_FLAG = "snapshot_complete"
#: Attributes every rdnet writer sets; files from other tools may lack them.
RDNET_ATTRS = ("rdnet_schema", "system", "model", "parameters", "rdnet_version", "created", "history", "Conventions")
#: The spatial dims of a 3-D field, in storage order; a 2-D field has the last two.
SPATIAL_DIMS = ("z", "y", "x")
#: Systems whose files carry no spatial field by design.
NON_SPATIAL_SYSTEMS = ("gan-dynamics", "sweep", "spectra")


class DatasetWarning(UserWarning):
    """A file is readable but does not carry everything rdnet's writers add."""


def standard_attrs(
    *,
    system: str,
    model: str,
    parameters: Mapping[str, Any],
    history: str | None = None,
    title: str | None = None,
) -> dict[str, str]:
    """The global attributes rdnet writes into every file.

    Parameters
    ----------
    system
        ``"classic"``, ``"prd"``, ``"gan-dynamics"``, ``"sweep"`` or ``"external"``.
    model
        Model name (``"gray-scott"``, ``"two-layer-relu"``, ...).
    parameters
        Every parameter needed to reproduce the run (seed included); stored as JSON.
    history
        The command line that made the file (default: this process's ``sys.argv``).
    title
        The file's ``title`` (default: what files of ``system`` hold, and the model;
        :func:`rdnet.dataset.cf.global_attrs`).

    Returns
    -------
    dict
        Attribute name to string value: rdnet's provenance and CF's recommended ``title``,
        ``source``, ``history``, ``Conventions`` (and ``references`` where one applies).
    """
    from rdnet import __version__
    from rdnet.dataset.cf import CONVENTIONS, global_attrs

    for name, value in (("system", system), ("model", model)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{name} must be a non-empty string, got {value!r}")
    if not isinstance(parameters, Mapping):
        raise ConfigError(f"parameters must map names to values, got {parameters!r}")

    now = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    command = history if history is not None else " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])
    return {
        "rdnet_schema": SCHEMA_VERSION,
        "system": system,
        "model": model,
        "parameters": _to_json(dict(parameters)),
        "rdnet_version": __version__,
        "created": now,
        "history": f"{now}: {command}",
        "Conventions": CONVENTIONS,
        **global_attrs(system=system, model=model, version=__version__, title=title),
    }


def parameters_of(ds) -> dict[str, Any]:
    """The ``parameters`` attribute of a dataset, decoded from JSON.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset written by rdnet.

    Returns
    -------
    dict
        The parameters; empty when the attribute is missing.

    Raises
    ------
    DatasetError
        The attribute is not valid JSON.
    """
    text = ds.attrs.get("parameters")
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as error:
        raise DatasetError(f"attribute 'parameters' is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise DatasetError("attribute 'parameters' is not a JSON object")
    return value


def _warn_of_a_newer_schema(schema: Any, source: str) -> None:
    """Warn when ``rdnet_schema`` is not a version this rdnet reads (another major version, or no
    version at all): its variables may mean something else."""
    from rdnet import __version__

    if schema is None:
        return  # a file from another tool: the missing attributes are warned of together
    major = str(schema).strip().split(".")[0]
    if major == SCHEMA_VERSION.split(".")[0]:
        return
    warnings.warn(
        f"{source}: rdnet_schema {str(schema)!r} is not schema {SCHEMA_VERSION.split('.')[0]}.x, the one this rdnet "
        f"({__version__}) reads; reading it as {SCHEMA_VERSION}, so its variables may be misread",
        DatasetWarning,
        stacklevel=4,
    )


def _refuse_a_store_of_many_runs(ds, fields: list[str], source: str) -> None:
    """A sweep's ``points.zarr`` holds one run per point, its fields led by the sweep's axes: name
    it and say how to take one run out (rather than report a misplaced ``time`` dim)."""
    if ds.attrs.get("system") != "sweep":
        return
    axes = [axis for axis in str(ds.attrs.get("sweep_dims", "")).split() if axis in ds.dims]
    if not axes or not any(axis in ds[name].dims for name in fields for axis in axes):
        return
    example = ", ".join(f"{axis}={ds[axis].values[0].item()!r}" if axis in ds.coords else f"{axis}=0" for axis in axes)
    raise DatasetError(
        f"{source}: a sweep's store of every point's run (leading dims {', '.join(axes)}); take one run out, "
        f"e.g. xarray.open_zarr(path).sel({example}).to_netcdf('point.nc'), or run the sweep with "
        f"--format netcdf for one file per point (its summary.nc holds the metrics of all)"
    )


def validate(ds, *, source: str = "dataset") -> list[str]:
    """Check a dataset against the convention.

    Parameters
    ----------
    ds : xarray.Dataset
        The dataset.
    source
        How to name it in messages (a file name).

    Returns
    -------
    list of str
        The spatial variables (last two dims ``y``, ``x``; ``z``, ``y``, ``x`` for 3-D fields).

    Raises
    ------
    DatasetError
        Naming exactly what is missing or wrong.

    Warns
    -----
    DatasetWarning
        When rdnet's own attributes are missing (a file from another tool).
    """
    system = ds.attrs.get("system")
    missing_attrs = [name for name in RDNET_ATTRS if name not in ds.attrs]
    if missing_attrs:
        warnings.warn(
            f"{source}: not written by rdnet (missing attributes: {', '.join(missing_attrs)}); "
            "analysing it under the minimum convention",
            DatasetWarning,
            stacklevel=3,
        )
    if "parameters" in ds.attrs:
        try:
            parameters_of(ds)
        except DatasetError as error:
            raise DatasetError(f"{source}: {error}") from None
    _warn_of_a_newer_schema(ds.attrs.get("rdnet_schema"), source)
    fields = spatial_variables(ds)
    if not fields:
        if system in NON_SPATIAL_SYSTEMS and not missing_attrs:
            return []
        found = ", ".join(f"{name}{tuple(ds[name].dims)}" for name in ds.data_vars) or "no data variables"
        raise DatasetError(
            f"{source}: no spatial field: no data variable has 'y', 'x' as its last two dims (found: {found})"
        )
    _refuse_a_store_of_many_runs(ds, fields, source)
    for name in fields:
        if ds[name].dtype.kind not in "iuf":
            raise DatasetError(f"{source}: variable '{name}' is not numeric (dtype {ds[name].dtype})")
        dims = ds[name].dims
        if "time" in dims and dims[0] != "time":
            raise DatasetError(f"{source}: variable '{name}' has 'time' but not as its first dim {dims}")
        if "z" in dims and spatial_dims(dims) != SPATIAL_DIMS:
            raise DatasetError(
                f"{source}: variable '{name}' has 'z' but not directly before 'y', 'x' {dims} "
                "(a 3-D field's last dims are z, y, x)"
            )
    three_d = any(spatial_dims(ds[name].dims) == SPATIAL_DIMS for name in fields)
    axes = SPATIAL_DIMS if three_d else SPATIAL_DIMS[1:]
    for axis in axes:
        _check_axis(ds, axis, source)
    units = {axis: str(ds[axis].attrs["units"]).strip() for axis in axes if "units" in ds[axis].attrs}
    if len(set(units.values())) > 1:
        found = ", ".join(f"{axis} [{unit}]" for axis, unit in units.items())
        raise DatasetError(f"{source}: the grid coordinates have different units ({found}); "
                           "lengths along every axis must share one unit")  # fmt: skip
    if "time" in ds.dims:
        _check_time(ds, source)
    return fields


def spatial_variables(ds) -> list[str]:
    """Names of the spatial fields of a dataset: the data variables whose last two dims are ``y``, ``x``.

    The one definition of a spatial field (``docs/dataset.md``), used by the reader's
    validation, the ``.rd`` accessor, the variable vocabulary and every command. A 3-D
    field's last dims are ``z``, ``y``, ``x`` (:func:`spatial_dims`). :func:`validate`
    further requires a file's spatial fields to be numeric.

    Parameters
    ----------
    ds : xarray.Dataset
        A dataset.

    Returns
    -------
    list of str
        Variable names in the dataset's order.
    """
    return [str(name) for name, variable in ds.data_vars.items() if variable.dims[-2:] == SPATIAL_DIMS[1:]]


def spatial_dims(dims) -> tuple[str, ...]:
    """The spatial dims of a field with these dims: ``("z", "y", "x")``, ``("y", "x")`` or ``()``.

    A field is 3-D when ``z`` comes directly before its last two dims ``y``, ``x``; the
    dims before the spatial ones are ``time`` and then component dims.

    Parameters
    ----------
    dims : sequence of str
        A variable's dims (``variable.dims``).

    Returns
    -------
    tuple of str
        Empty when the last two dims are not ``y``, ``x`` (not a spatial field).
    """
    dims = tuple(dims)
    if dims[-3:] == SPATIAL_DIMS:
        return SPATIAL_DIMS
    if dims[-2:] == SPATIAL_DIMS[1:]:
        return SPATIAL_DIMS[1:]
    return ()


def _check_axis(ds, axis: str, source: str) -> None:
    if axis not in ds.coords:
        raise DatasetError(f"{source}: dimension '{axis}' has no coordinate variable")
    coordinate = ds[axis]
    if coordinate.ndim != 1:
        raise DatasetError(f"{source}: coordinate '{axis}' is not 1-D")
    if coordinate.dtype.kind not in "iuf":
        raise DatasetError(f"{source}: coordinate '{axis}' is not numeric (dtype {coordinate.dtype})")
    values = np.asarray(coordinate.values, dtype=float)
    if values.size == 0:
        raise DatasetError(f"{source}: dimension '{axis}' is empty")
    if not np.all(np.isfinite(values)):
        raise DatasetError(f"{source}: coordinate '{axis}' has NaN or infinite values")
    if values.size < 2:
        return
    steps = np.diff(values)
    if np.any(steps <= 0):
        raise DatasetError(f"{source}: coordinate '{axis}' is not strictly increasing")
    if not np.allclose(steps, steps[0], rtol=1e-6, atol=0):
        raise DatasetError(
            f"{source}: coordinate '{axis}' is not uniformly spaced "
            f"(spacing from {steps.min():.6g} to {steps.max():.6g})"
        )


def _check_time(ds, source: str) -> None:
    if ds.sizes["time"] == 0:
        nothing = "; nothing to resume from it: run the command again" if str(source).endswith(".partial") else ""
        raise DatasetError(f"{source}: the file holds no snapshot (dimension 'time' has length 0){nothing}")
    if "time" not in ds.coords:
        raise DatasetError(f"{source}: dimension 'time' has no coordinate variable")
    values = np.asarray(ds["time"].values)
    if values.dtype.kind not in "iuf":
        raise DatasetError(f"{source}: coordinate 'time' is not numeric (dtype {values.dtype})")
    if not np.all(np.isfinite(values.astype(float))):
        raise DatasetError(f"{source}: coordinate 'time' has NaN or infinite values")
    if values.size > 1 and np.any(np.diff(values.astype(float)) <= 0):
        raise DatasetError(f"{source}: coordinate 'time' is not strictly increasing")


def _attr_values(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for key, value in attrs.items():
        if isinstance(value, (str, int, float, np.integer, np.floating)) and not isinstance(value, bool):
            out[key] = value
        elif isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
            out[key] = value
        else:
            out[key] = _to_json(value)
    return out


def _to_json(value: Any) -> str:
    def default(item):
        if isinstance(item, np.generic):
            return item.item()
        if isinstance(item, np.ndarray):
            return item.tolist()
        if isinstance(item, Path):
            return str(item)
        raise TypeError(f"not JSON-serialisable: {type(item).__name__}")

    _check_finite(value)
    return json.dumps(value, sort_keys=True, default=default)


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"parameter value {value} is not finite")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item)


def _leading_complete(flags: np.ndarray) -> int:
    incomplete = np.flatnonzero(np.asarray(flags) != 1)
    return int(incomplete[0]) if incomplete.size else int(flags.size)
