"""The fit's files: reading a target pattern, writing the result file.

A target is given as text (``rdnet fit --target``):

``FILE.nc[:VAR][@INDEX]``, ``STORE.zarr[:VAR][@INDEX]``
    A field of an rdnet dataset or of any NetCDF/zarr file meeting the dataset
    convention's minimum (``docs/dataset.md``: last dims ``y, x`` with uniform
    coordinates): variable ``VAR`` (default: the fit's observed species, or the file's
    only field), snapshot ``INDEX`` along ``time`` (default the last; negative counts
    from the end). The grid spacing is read from the ``x`` coordinate.
``ARRAY.npy``
    A 2-D NumPy array (read without pickles).
``IMAGE.png``
    A greyscale (or colour, taken by luminance) image, top row up.

Files are untrusted data: NetCDF files go through :func:`rdnet.dataset.open_dataset`
(header checked before the library reads it), ``.npy`` through
``numpy.load(allow_pickle=False)``, images through Pillow with a size limit; the
target is then checked (2-D, finite, not constant: :func:`rdnet.fit.run.check_target`).
A target larger than the simulation should be is resampled (``size``, anti-aliased by
:func:`skimage.transform.resize`), keeping its physical extent.

The result file (:func:`write_fit_result`) is an rdnet dataset (``system = "fit"``),
written atomically: the target and one run at the fit on the same grid, the fitted
values with their intervals, the correlation matrix, every start's loss history, and in
its ``parameters`` attribute everything needed to run the fit again.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rdnet.errors import ConfigError, DatasetError

from rdnet.fit.run import MIN_TARGET_CELLS, FitResult, check_target

__all__ = ["Target", "read_target", "target_file", "write_fit_result", "TARGET_FORMS", "MAX_TARGET_VALUES"]

#: the target's text forms, as the CLI's help lists them
TARGET_FORMS = "FILE.nc[:VAR][@INDEX], STORE.zarr[:VAR][@INDEX], ARRAY.npy or IMAGE.png"
#: largest target read (values)
MAX_TARGET_VALUES = 2**26

_DATASET_TARGET = re.compile(r"^(?P<path>.+?\.(?:nc|nc4|netcdf|zarr))(?::(?P<variable>[^:@]+))?(?:@(?P<index>-?\d+))?$",
                             re.IGNORECASE)  # fmt: skip


@dataclass(frozen=True)
class Target:
    """An observed pattern, ready to fit.

    Attributes
    ----------
    values
        The field ``(ny, nx)``, float64, on the fit's grid (resampled if asked).
    dx
        Its grid spacing in the model's length units when the file says it (a dataset's
        ``x`` coordinate, scaled by any resampling), else None.
    periodic
        Whether the source is periodic (an rdnet run on a periodic grid); otherwise the
        statistics see it through a Hann window.
    standardise
        Whether its values are in arbitrary units (an image's grey levels) and are
        compared after scaling to zero mean and unit variance.
    source
        The target's text, and what was read (variable, snapshot).
    """

    values: np.ndarray
    dx: float | None
    periodic: bool
    standardise: bool
    source: str


def read_target(spec: str, *, variable: str | None = None, size: tuple[int, int] | None = None) -> Target:
    """Read and check a target pattern given as text (see the module's description).

    Parameters
    ----------
    spec
        ``FILE.nc[:VAR][@INDEX]``, ``STORE.zarr[:VAR][@INDEX]``, ``ARRAY.npy`` or ``IMAGE.png``.
    variable
        The variable of a dataset read when the text names none (the fit's observed
        species); a file with one field needs none.
    size
        ``(ny, nx)`` to resample to (the same aspect ratio as the target; default its own).

    Returns
    -------
    Target

    Raises
    ------
    ConfigError
        A missing or unreadable file, an unknown variable or snapshot, a field that is
        not 2-D, NaN/Inf values, a constant field, a size of another aspect ratio.
    """
    text = str(spec).strip()
    match = _DATASET_TARGET.match(text)
    if match:
        values, dx, periodic, described = _dataset_field(match["path"], match["variable"] or variable,
                                                         match["index"], text)  # fmt: skip
        standardise = False
    else:
        path = Path(text).expanduser()
        suffix = path.suffix.lower()
        if suffix not in (".npy", ".png"):
            raise ConfigError(f"--target {text}: give {TARGET_FORMS}")
        if not path.is_file():
            raise ConfigError(f"--target: file not found: {path}")
        values = _npy_field(path, text) if suffix == ".npy" else _image_field(path, text)
        dx, periodic, standardise, described = None, False, suffix == ".png", text
    values = check_target(values, source=f"--target {described}")
    if size is not None and tuple(size) != values.shape:
        values, dx = _resampled(values, dx, tuple(int(n) for n in size), described)
    return Target(values=values, dx=dx, periodic=periodic, standardise=standardise, source=described)


def target_file(spec: str) -> Path:
    """The file (or zarr store) a target's text names, without its ``:VAR`` and ``@INDEX``."""
    text = str(spec).strip()
    match = _DATASET_TARGET.match(text)
    return Path(match["path"] if match else text).expanduser()


def _dataset_field(path_text: str, variable: str | None, index_text: str | None, text: str):
    """A 2-D field of a dataset, its spacing, whether it is periodic, and what was read."""
    import warnings

    from rdnet.dataset import open_dataset
    from rdnet.dataset.convention import parameters_of, spatial_variables
    from rdnet.dataset.vocabulary import select_snapshot

    path = Path(path_text).expanduser()
    if not path.exists():
        raise ConfigError(f"--target: file not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a file from another tool: fine if it meets the minimum
            dataset = open_dataset(path)
    except DatasetError as error:
        raise ConfigError(f"--target {text}: {error}") from None
    with dataset:
        fields = spatial_variables(dataset)
        if variable is None and len(fields) == 1:
            variable = fields[0]
        if variable is None or variable not in dataset.data_vars:
            named = f"no variable {variable!r}" if variable else "several fields"
            raise ConfigError(f"--target {text}: {path.name} has {named}; name one as {path_text}:VAR "
                              f"(fields: {', '.join(fields) or 'none'})")  # fmt: skip
        field = dataset[variable]
        if tuple(field.dims[-2:]) != ("y", "x"):
            raise ConfigError(f"--target {text}: {variable} is not a field on y, x (dims {', '.join(field.dims)})")
        index = -1 if index_text is None else int(index_text)
        if "time" in field.dims:
            count = field.sizes["time"]
            if not -count <= index < count:  # said here: select_snapshot's message names --time, fit's model time
                raise ConfigError(f"--target {text}: snapshot {index} is out of range: {path.name} has {count} "
                                  f"snapshots (use @0..@{count - 1}, or @-1 for the last)")  # fmt: skip
            field, index = select_snapshot(field, index, label=path.name)
        elif index_text is not None and index not in (0, -1):
            raise ConfigError(f"--target {text}: {variable} has no time dim, so no snapshot {index}")
        extra = [dim for dim in field.dims if dim not in ("y", "x")]
        if extra:
            raise ConfigError(f"--target {text}: {variable} is not a 2-D field (it also has dims {', '.join(extra)}); "
                              f"a fit compares one (y, x) pattern")  # fmt: skip
        if field.size > MAX_TARGET_VALUES:
            raise ConfigError(f"--target {text}: {variable} is too large ({field.size} values)")
        values = np.asarray(field.transpose("y", "x").values, dtype=np.float64)
        dx = _spacing(field, "x")
        dy = _spacing(field, "y")
        if dx is not None and dy is not None and not np.isclose(dx, dy, rtol=1e-6):
            raise ConfigError(f"--target {text}: cells are not square (dx = {dx:g}, dy = {dy:g}); a fit needs dx = dy")
        try:
            boundary = parameters_of(dataset).get("boundary")
        except DatasetError:
            boundary = None
    where = f"{path_text}:{variable}" + (f"@{index}" if "time" in dataset[variable].dims else "")
    return values, dx, boundary == "periodic", where


def _spacing(field, axis: str) -> float | None:
    if axis not in field.coords or field.sizes[axis] < 2:
        return None
    step = float(field[axis].values[1] - field[axis].values[0])
    return abs(step) if step != 0 else None


def _npy_field(path: Path, text: str) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False, mmap_mode="r")
    except (ValueError, OSError, EOFError) as error:
        raise ConfigError(f"--target {text}: cannot read it as a NumPy array ({str(error)[:200]})") from None
    if array.size > MAX_TARGET_VALUES:
        raise ConfigError(f"--target {text}: too large ({array.size} values)")
    if array.dtype.kind not in "iuf":
        raise ConfigError(f"--target {text}: not a numeric array (dtype {array.dtype})")
    return np.array(array, dtype=np.float64)


def _image_field(path: Path, text: str) -> np.ndarray:
    from PIL import Image

    from rd_classic.field_files import read_grey_image

    try:
        with Image.open(path) as image:
            width, height = image.size
    except Exception as error:  # noqa: BLE001 - any decoder failure is a bad input file
        raise ConfigError(f"--target {text}: cannot read it as an image ({str(error)[:200]})") from None
    if width * height > MAX_TARGET_VALUES:
        raise ConfigError(f"--target {text}: too large an image ({width}x{height})")
    if min(width, height) < MIN_TARGET_CELLS:
        raise ConfigError(f"--target {text}: the image is {width}x{height}; a fit needs at least "
                          f"{MIN_TARGET_CELLS}x{MIN_TARGET_CELLS} pixels")  # fmt: skip
    return read_grey_image(path, (height, width), what="--target")


def _resampled(values: np.ndarray, dx: float | None, shape: tuple[int, int], text: str):
    """The field resampled to ``shape`` (anti-aliased), and its spacing keeping the physical extent."""
    from skimage.transform import resize

    if len(shape) != 2 or min(shape) < MIN_TARGET_CELLS:
        raise ConfigError(f"--size must be at least {MIN_TARGET_CELLS}x{MIN_TARGET_CELLS}, got {shape}")
    factors = (shape[0] / values.shape[0], shape[1] / values.shape[1])
    if not np.isclose(factors[0], factors[1], rtol=0.02):
        raise ConfigError(f"--size {shape[1]}x{shape[0]} changes the aspect ratio of the target {text} "
                          f"({values.shape[1]}x{values.shape[0]}); keep it, e.g. --size "
                          f"{shape[1]}x{round(values.shape[0] * factors[1])}")  # fmt: skip
    resampled = resize(values, shape, order=1, mode="reflect", anti_aliasing=factors[0] < 1, preserve_range=True)
    return np.asarray(resampled, dtype=np.float64), (None if dx is None else dx / factors[1])


def write_fit_result(result: FitResult, path: str | Path, *, target_source: str, history: str | None = None,
                     overwrite: bool = False) -> Path:  # fmt: skip
    """Write a fit's result file (an rdnet dataset, ``system = "fit"``), atomically.

    Parameters
    ----------
    result
        From :func:`rdnet.fit.run.run_fit`.
    path
        The file (``.nc``); it appears under this name only once complete.
    target_source
        The target's text (stored with the parameters).
    history
        The command line (default: this process's).
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import xarray as xr

    from rdnet.dataset import write_dataset

    config, uncertainty = result.config, result.uncertainty
    setup, space = config.setup, config.space
    model = config.model
    units = model.parameter_units()
    axes = {axis: (axis, values, {"units": "1", "long_name": f"{axis} position (cell centre, model length units)"})
            for axis, values in zip(setup.grid.axes, setup.grid.coordinates())}  # fmt: skip
    names = list(space.names)
    longest = max((len(start.history) for start in result.starts), default=0)
    loss_history = np.full((len(result.starts), longest), np.nan)
    for row, start in enumerate(result.starts):
        loss_history[row, : len(start.history)] = start.history

    def per_parameter(values, long_name: str, unit_of=True):
        attrs = {"long_name": long_name}
        if unit_of:
            attrs["units"] = "; ".join(f"{name}: {units.get(name, '1')}" for name in names)
        return ("parameter", np.asarray(values, dtype=np.float64), attrs)

    variables: dict[str, Any] = {
        "target": (("y", "x"), result.target, {"long_name": "target pattern", "source": target_source,
                                                "units": "1" if config.statistics.standardise else "species units"}),
        "fitted_value": per_parameter(result.values, "fitted parameter value (best start)"),
        "standard_error": per_parameter(uncertainty.standard_error, "standard error (Laplace, sandwich)"),
        "interval_low": per_parameter(uncertainty.interval_low, f"lower end of the {uncertainty.level:.0%} interval"),
        "interval_high": per_parameter(uncertainty.interval_high, f"upper end of the {uncertainty.level:.0%} interval"),
        "bound_low": per_parameter(space.low, "lower bound searched"),
        "bound_high": per_parameter(space.high, "upper bound searched"),
        "identifiable": ("parameter", uncertainty.identifiable.astype(np.int8),
                         {"long_name": "the statistics depend on the parameter (1) or not (0)", "units": "1"}),
        "correlation": (("parameter", "parameter_other"), uncertainty.correlation,
                        {"long_name": "correlation of the fitted parameters", "units": "1"}),
        "loss_history": (("start", "evaluation"), loss_history,
                         {"long_name": "loss at each evaluation of each start (NaN after its last)", "units": "1"}),
        "start_loss": ("start", np.array([start.loss for start in result.starts]),
                       {"long_name": "best loss of each start", "units": "1"}),
        "start_initial": (("start", "parameter"), space.to_values(np.array([s.initial for s in result.starts])),
                          {"long_name": "where each start began"}),
        "start_final": (("start", "parameter"), space.to_values(np.array([s.final for s in result.starts])),
                        {"long_name": "the best point each start reached"}),
        "replicate_loss": ("replicate", uncertainty.replicate_losses,
                           {"long_name": "loss of single runs at the fit from fresh noise (its spread: the loss's "
                                         "realisation noise)", "units": "1"}),
    }  # fmt: skip
    for index, species in enumerate(model.species):
        variables[f"fit_{species}"] = (("y", "x"), uncertainty.final_state[index],
                                       {"long_name": f"{species} at the fit",
                                        "comment": "a run at the fitted parameters from fresh initial noise",
                                        "units": "species units"})  # fmt: skip
    coords = {axis: (dim, values, attrs) for axis, (dim, values, attrs) in axes.items()}
    coords["parameter"] = ("parameter", names)
    coords["parameter_other"] = ("parameter_other", names)
    coords["start"] = ("start", np.arange(len(result.starts)))
    dataset = xr.Dataset({name: xr.Variable(*spec) for name, spec in variables.items()},
                         coords={name: xr.Variable(*spec) for name, spec in coords.items()})  # fmt: skip
    parameters = {**config.to_parameters(), "target": target_source}
    dataset.attrs["fit_result"] = json.dumps(_json_safe(result.as_dict()))
    dataset.attrs["observed_species"] = setup.observed
    dataset.attrs["start_origins"] = json.dumps([start.origin for start in result.starts])
    return write_dataset(dataset, path, system="fit", model=model.name, parameters=parameters, history=history,
                         overwrite=overwrite)  # fmt: skip


def _json_safe(value):
    """NaN/Inf as None, numpy scalars as numbers (the result's JSON must be strict)."""
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if np.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
