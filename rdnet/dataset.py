"""The shared dataset convention: writing, validating and reading rdnet NetCDF files.

Both engines store one :class:`xarray.Dataset` per run (see ``docs/dataset.md``):
spatial fields whose last two dims are ``y``, ``x`` with 1-D physical coordinates,
an optional leading ``time`` record dimension, and global attributes that make the
run reproducible (``parameters`` holds every parameter as JSON).

Writing is streaming. A :class:`StreamingWriter` appends one snapshot at a time to
``PATH.partial``, a NetCDF-3 (CDF-5) file whose append-only record layout survives a
killed process: each snapshot is followed by a ``snapshot_complete`` flag and an
``fsync``, so after a crash every snapshot whose :meth:`~StreamingWriter.append`
returned is on disk and readable. :meth:`~StreamingWriter.close` copies the records
into a compressed NetCDF-4 file, which appears under the final name by an atomic
rename, and removes the partial file.
"""

from __future__ import annotations

import errno
import json
import math
import os
import signal
import sys
import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from rdnet.errors import ConfigError, DatasetError

__all__ = [
    "SCHEMA_VERSION",
    "PARTIAL_SUFFIX",
    "COMPLETE_FLAG",
    "DatasetError",
    "DatasetWarning",
    "VariableSpec",
    "StreamingWriter",
    "check_output_path",
    "check_netcdf_file",
    "load_snapshot",
    "set_open_timeout",
    "standard_attrs",
    "write_dataset",
    "read_partial",
    "open_dataset",
    "validate",
    "spatial_variables",
    "parameters_of",
]

#: Version of the convention written into every file's ``rdnet_schema`` attribute.
SCHEMA_VERSION = "1.0"
#: Suffix of the file a run writes to until it is complete.
PARTIAL_SUFFIX = ".partial"
#: Name of the per-snapshot flag variable of a partial file.
COMPLETE_FLAG = "snapshot_complete"
#: Files larger than this open with one dask chunk per snapshot.
LAZY_THRESHOLD_BYTES = 256 * 2**20
#: Longest coordinate the reader accepts: xarray loads coordinates whole when it opens
#: a file, so a corrupt file declaring ~2**31 entries would otherwise exhaust memory.
MAX_COORDINATE_LENGTH = 2**24
#: Most values of one snapshot of a field that the readers load at once (2 GiB of float64):
#: far above real fields (a 2048² grid holds 2**22; a network's u, d_in × m, a few million),
#: it stops a corrupt file that declares a huge extra dim (its unwritten data reads as fill
#: values) from exhausting memory.
MAX_SNAPSHOT_VALUES = 2**28
#: Attributes every rdnet writer sets; files from other tools may lack them.
RDNET_ATTRS = ("rdnet_schema", "system", "model", "parameters", "rdnet_version", "created", "history", "Conventions")
#: Systems whose files carry no spatial field by design.
NON_SPATIAL_SYSTEMS = ("gan-dynamics", "sweep", "spectra")
#: (seconds, callback) of the watch on the library's work in :func:`open_dataset`; None: off.
_open_timeout: tuple[float, Callable[[str], None]] | None = None

_NETCDF3_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


class DatasetWarning(UserWarning):
    """A file is readable but does not carry everything rdnet's writers add."""


@dataclass(frozen=True)
class VariableSpec:
    """Declaration of one variable of a :class:`StreamingWriter`.

    Parameters
    ----------
    dims
        Dimension names. A snapshot variable starts with ``"time"``; the other
        dims must be fixed coordinates given to the writer.
    long_name, units
        CF attributes stored on the variable.
    dtype
        NumPy dtype name (``"float64"``, ``"float32"``, ``"int64"``, ...).
    """

    dims: tuple[str, ...]
    long_name: str
    units: str
    dtype: str = "float64"


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check that a run may write ``path``, before anything is computed.

    Parameters
    ----------
    path
        The final file name.
    overwrite
        Whether an existing file (and an interrupted run's partial file) may be replaced.

    Returns
    -------
    pathlib.Path
        The path, made absolute.

    Raises
    ------
    ConfigError
        The folder is missing or not writable, the path is a folder, or the file
        (or the partial file of an interrupted run) exists and ``overwrite`` is false.
    """
    path = Path(path).expanduser().absolute()
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"output folder is not writable: {folder}")
    if path.is_dir():
        raise ConfigError(f"output path is a folder, not a file: {path}")
    if not overwrite:
        if path.exists():
            raise ConfigError(f"output file exists: {path} (pass --overwrite to replace it)")
        partial = _partial_path(path)
        if partial.exists():
            raise ConfigError(
                f"an interrupted run's partial file exists: {partial} "
                f"(resume it with --resume {partial}, or pass --overwrite to discard it)"
            )
    return path


def standard_attrs(
    *,
    system: str,
    model: str,
    parameters: Mapping[str, Any],
    history: str | None = None,
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

    Returns
    -------
    dict
        Attribute name to string value.
    """
    from rdnet import __version__

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
        "Conventions": "CF-1.10",
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


class StreamingWriter:
    """Append snapshots to a NetCDF file one at a time, durably.

    Parameters
    ----------
    path
        Final file name. Until :meth:`close`, data goes to ``path + ".partial"``.
    system, model, parameters, history
        See :func:`standard_attrs`.
    coords
        Fixed (non-record) coordinates: name to ``(values, attrs)``; e.g. ``y``, ``x``,
        ``feature`` or ``step``. Each becomes a dimension of that length.
    variables
        Name to :class:`VariableSpec`. Variables whose first dim is ``"time"`` are
        snapshot variables, written by :meth:`append`; the others by :meth:`write_fixed`.
    time_units, time_long_name
        Attributes of the ``time`` coordinate.
    attrs
        Extra global attributes (dicts and lists are stored as JSON strings).
    overwrite
        Replace an existing final file (and discard an interrupted run's partial file).

    Examples
    --------
    >>> writer = StreamingWriter(
    ...     "run.nc", system="classic", model="gray-scott", parameters={"F": 0.035},
    ...     coords={"y": (y, {"units": "1"}), "x": (x, {"units": "1"})},
    ...     variables={"u": VariableSpec(("time", "y", "x"), "activator", "1")},
    ... )  # doctest: +SKIP
    >>> writer.append(0.0, {"u": u0})  # doctest: +SKIP
    >>> writer.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike,
        *,
        system: str,
        model: str,
        parameters: Mapping[str, Any],
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        variables: Mapping[str, VariableSpec],
        time_units: str = "1",
        time_long_name: str = "time",
        history: str | None = None,
        attrs: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> None:
        import netCDF4

        self.path = check_output_path(path, overwrite=overwrite)
        _check_declarations(coords, variables)
        self.partial_path = _partial_path(self.path)
        if self.partial_path.exists():
            self.partial_path.unlink()  # overwrite=True was checked above
        nc = netCDF4.Dataset(self.partial_path, "w", format="NETCDF3_64BIT_DATA")
        try:
            nc.createDimension("time", None)
            time = nc.createVariable("time", "f8", ("time",))
            time.setncatts({"units": time_units, "long_name": time_long_name, "axis": "T"})
            for name, (values, coord_attrs) in coords.items():
                values = np.asarray(values)
                nc.createDimension(name, values.shape[0])
                coord = nc.createVariable(name, _storage_dtype(values.dtype), (name,))
                coord.setncatts(_attr_values(coord_attrs))
                coord[:] = values
            for name, spec in variables.items():
                dtype = _storage_dtype(np.dtype(spec.dtype))
                fill = np.nan if dtype.kind == "f" else None
                variable = nc.createVariable(name, dtype, spec.dims, fill_value=fill)
                variable.setncatts({"long_name": spec.long_name, "units": spec.units})
            flag = nc.createVariable(COMPLETE_FLAG, "i1", ("time",), fill_value=0)
            flag.setncatts({"long_name": "1 once the snapshot is complete and durable", "units": "1"})
            nc.setncatts(standard_attrs(system=system, model=model, parameters=parameters, history=history))
            if attrs:
                nc.setncatts(_attr_values(attrs))
        except BaseException:
            nc.close()
            self.partial_path.unlink(missing_ok=True)
            raise
        self._open(nc, n_records=0)

    @classmethod
    def resume(cls, partial_path: str | os.PathLike, *, records: int | None = None) -> StreamingWriter:
        """Reopen the partial file of an interrupted run to continue writing.

        Parameters
        ----------
        partial_path
            The ``.partial`` file left by the interrupted run.
        records
            Continue after this many snapshots (default: every complete one). Later
            snapshots are marked incomplete and will be overwritten.

        Returns
        -------
        StreamingWriter
            A writer whose next :meth:`append` writes snapshot number ``records``.

        Raises
        ------
        DatasetError
            The file is not a readable partial file, or holds fewer snapshots than ``records``.
        """
        import netCDF4

        partial_path = Path(partial_path).expanduser().absolute()
        if not partial_path.name.endswith(PARTIAL_SUFFIX):
            raise DatasetError(f"not a partial file (name must end in {PARTIAL_SUFFIX}): {partial_path}")
        check_netcdf_file(partial_path)
        try:
            nc = netCDF4.Dataset(partial_path, "a")
        except OSError as error:
            raise DatasetError(f"cannot open partial file {partial_path}: {error}") from None
        if COMPLETE_FLAG not in nc.variables:
            nc.close()
            raise DatasetError(f"not an rdnet partial file (no '{COMPLETE_FLAG}' variable): {partial_path}")
        complete = _count_complete(nc)
        if records is None:
            records = complete
        if not 0 <= records <= complete:
            nc.close()
            raise DatasetError(f"{partial_path} holds {complete} complete snapshots, cannot resume after {records}")
        flags = nc.variables[COMPLETE_FLAG]
        if len(flags) > records:
            flags[records:] = np.zeros(len(flags) - records, dtype="i1")
        self = cls.__new__(cls)
        self.partial_path = partial_path
        self.path = partial_path.with_name(partial_path.name[: -len(PARTIAL_SUFFIX)])
        self._open(nc, n_records=records)
        self._make_durable()
        return self

    def _open(self, nc, *, n_records: int) -> None:
        self._nc = nc
        self._write_failed = False
        self.n_records = n_records
        self._record_variables = {
            name: variable
            for name, variable in nc.variables.items()
            if variable.dimensions[:1] == ("time",) and name not in ("time", COMPLETE_FLAG)
        }
        self._shapes = {name: variable.shape[1:] for name, variable in self._record_variables.items()}
        self._make_durable()

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameters, decoded from the file's ``parameters`` attribute."""
        return json.loads(self._nc.getncattr("parameters"))

    def append(self, time: float, fields: Mapping[str, np.ndarray]) -> int:
        """Write one snapshot and make it durable before returning.

        Parameters
        ----------
        time
            Value of the ``time`` coordinate.
        fields
            A value for every snapshot variable, each of the declared shape.

        Returns
        -------
        int
            Index of the snapshot just written.
        """
        missing = set(self._record_variables) - set(fields)
        unknown = set(fields) - set(self._record_variables)
        if missing or unknown:
            raise ValueError(f"append() needs exactly the snapshot variables: missing {sorted(missing)}, unknown {sorted(unknown)}")
        index = self.n_records
        for name, values in fields.items():
            values = np.asarray(values)
            if values.shape != self._shapes[name]:
                raise ValueError(f"{name}: shape {values.shape}, declared {self._shapes[name]}")
        with _interrupts_deferred():
            try:
                for name, values in fields.items():
                    self._record_variables[name][index] = np.asarray(values)
                self._nc.variables["time"][index] = time
                self._make_durable()  # data first, then the flag: a kill between leaves no flag
                self._nc.variables[COMPLETE_FLAG][index] = 1
                self._make_durable()
            except (OSError, RuntimeError) as error:
                self._write_failed = True
                raise _as_os_error(error, self.partial_path) from None
            self.n_records = index + 1
        return index

    def write_fixed(self, name: str, values: np.ndarray, start: int = 0) -> None:
        """Write ``values`` into a non-snapshot variable along its first dim from ``start``.

        The values become durable with the next :meth:`append` or :meth:`flush`.
        """
        variable = self._nc.variables[name]
        if name in self._record_variables:
            raise ValueError(f"{name} is a snapshot variable: use append()")
        values = np.asarray(values)
        with _interrupts_deferred():
            if variable.ndim == 0:
                variable.assignValue(values)
            else:
                variable[start : start + values.shape[0]] = values

    def set_attrs(self, **attrs: Any) -> None:
        """Add or replace global attributes (dicts and lists are stored as JSON)."""
        with _interrupts_deferred():
            self._nc.setncatts(_attr_values(attrs))

    def flush(self) -> None:
        """Make everything written so far durable."""
        with _interrupts_deferred():
            try:
                self._make_durable()
            except (OSError, RuntimeError) as error:
                self._write_failed = True
                raise _as_os_error(error, self.partial_path) from None

    def _make_durable(self) -> None:
        self._nc.sync()
        descriptor = os.open(self.partial_path, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def abort(self) -> Path:
        """Stop writing and keep the partial file (for an interrupted or failed run).

        Returns
        -------
        pathlib.Path
            The partial file, which holds every complete snapshot.
        """
        if self._nc is None:
            return self.partial_path
        if not self._write_failed and self._nc.isopen():
            try:
                self._make_durable()
            except (OSError, RuntimeError):  # e.g. the disk is full: complete snapshots are durable
                self._write_failed = True
        if self._write_failed:
            # After a failed write, netCDF's close() fails too (the pending bytes cannot be
            # written), and a Dataset whose close() failed segfaults when touched again, even
            # by the garbage collector. Leave the one close attempt to the garbage collector.
            self._record_variables = {}
            self._nc = None
        elif self._nc.isopen():
            self._nc.close()
        return self.partial_path

    def close(self) -> Path:
        """Complete the run: write the final NetCDF-4 file atomically, remove the partial.

        Returns
        -------
        pathlib.Path
            The final file.
        """
        self.flush()
        self._nc.close()
        try:
            _convert_to_netcdf4(self.partial_path, self.path)
        except (OSError, RuntimeError) as error:
            raise _as_os_error(error, self.path) from None
        self.partial_path.unlink()
        return self.path

    def __enter__(self) -> StreamingWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_dataset(
    ds,
    path: str | os.PathLike,
    *,
    system: str,
    model: str,
    parameters: Mapping[str, Any],
    history: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write an in-memory dataset with rdnet's attributes, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        The data. Variables without ``long_name`` get their name; without ``units``, ``"1"``.
    path
        Final file name; the file appears there only once complete.
    system, model, parameters, history
        See :func:`standard_attrs`.
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = check_output_path(path, overwrite=overwrite)
    ds = ds.copy()
    for name in list(ds.data_vars) + list(ds.coords):
        variable = ds[name]
        variable.attrs.setdefault("long_name", str(name))
        if variable.dtype.kind in "iufc":
            variable.attrs.setdefault("units", "1")
    ds.attrs.update(standard_attrs(system=system, model=model, parameters=parameters, history=history))
    encoding = {
        name: {"zlib": True, "complevel": 1, "shuffle": True}
        for name, variable in ds.data_vars.items()
        if variable.dtype.kind in "iuf" and variable.ndim > 0
    }
    temporary = _temporary_path(path)
    try:
        ds.to_netcdf(temporary, engine="netcdf4", format="NETCDF4", encoding=encoding)
        _fsync_file(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return path


def read_partial(partial_path: str | os.PathLike):
    """Read the complete snapshots of an interrupted run into memory.

    Parameters
    ----------
    partial_path
        The ``.partial`` file.

    Returns
    -------
    xarray.Dataset
        Every complete snapshot, without the ``snapshot_complete`` flag.
    """
    ds = open_dataset(partial_path)
    return ds.load()


def open_dataset(path: str | os.PathLike, *, chunks: Any = "default"):
    """Open an rdnet (or compatible) NetCDF file, validating the convention.

    Parameters
    ----------
    path
        A NetCDF-3 or NetCDF-4 file, or a run's ``.partial`` file (only its complete
        snapshots are returned).
    chunks
        Passed to :func:`xarray.open_dataset`. The default opens files over 256 MiB
        with one dask chunk per snapshot, so analysis never loads them whole, and
        smaller files lazily without dask.

    Returns
    -------
    xarray.Dataset
        The dataset (lazy).

    Raises
    ------
    DatasetError
        The file is missing, not NetCDF, or breaks the convention; the message says what.

    Notes
    -----
    Some corrupt HDF5 (NetCDF-4) files send the HDF5 library into an endless loop inside a
    C call that Python cannot interrupt (HDFGroup/hdf5#1707). :func:`set_open_timeout`
    puts a watch on the library's work here; the command line uses it to end the process
    with one error line.
    """
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetError(f"no such file: {path}")
    if path.is_dir():
        raise DatasetError(f"is a folder, not a NetCDF file: {path}")
    check_netcdf_file(path)
    with _watch_the_library(path):
        return _open_checked(path, chunks)


def _open_checked(path: Path, chunks: Any):
    import xarray as xr

    _check_declared_sizes(path)
    if chunks == "default":
        chunks = {"time": 1} if path.stat().st_size > LAZY_THRESHOLD_BYTES else None
    try:
        ds = xr.open_dataset(
            path, engine="netcdf4", chunks=chunks, decode_times=False, decode_timedelta=False
        )
    except Exception as error:  # netCDF4/HDF5 raise many types for corrupt files
        raise DatasetError(f"cannot read {path} as NetCDF: {_first_line(error)}") from None
    try:
        if COMPLETE_FLAG in ds.variables:
            if ds[COMPLETE_FLAG].dims != ("time",):
                raise DatasetError(
                    f"{path}: variable '{COMPLETE_FLAG}' must have dims ('time',), found {ds[COMPLETE_FLAG].dims}"
                )
            complete = _leading_complete(np.asarray(ds[COMPLETE_FLAG].values))
            ds = ds.isel(time=slice(0, complete)).drop_vars(COMPLETE_FLAG)
        validate(ds, source=str(path))
    except BaseException:
        ds.close()
        raise
    return ds


def set_open_timeout(seconds: float | None, on_timeout: Callable[[str], None] | None = None) -> None:
    """Watch the NetCDF/HDF5 library's work in :func:`open_dataset`.

    Parameters
    ----------
    seconds
        How long opening and validating one file may take; None switches the watch off
        (the default).
    on_timeout
        Called with a one-line message on a watchdog thread, while the library call goes
        on, when ``seconds`` have passed. The call cannot be interrupted, so ending the
        process is the only useful thing the function can do: the command line prints
        the message and exits with code 2.
    """
    global _open_timeout
    if seconds is None:
        _open_timeout = None
        return
    if not 0 < seconds < math.inf or on_timeout is None:
        raise ValueError("set_open_timeout needs a finite number of seconds > 0 and an on_timeout function")
    _open_timeout = (float(seconds), on_timeout)


@contextmanager
def _watch_the_library(path: Path):
    """Run the block under the watch of :func:`set_open_timeout`, if one is set."""
    if _open_timeout is None:
        yield
        return
    seconds, on_timeout = _open_timeout
    message = (
        f"{path}: the NetCDF/HDF5 library has spent {seconds:g} s opening this file without finishing; "
        f"it is probably corrupt (a known HDF5 failure on damaged files: HDFGroup/hdf5#1707)"
    )
    watchdog = threading.Timer(seconds, on_timeout, args=(message,))
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()


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
        The spatial variables (last two dims ``y``, ``x``).

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
        parameters_of(ds)
    fields = spatial_variables(ds)
    if not fields:
        if system in NON_SPATIAL_SYSTEMS and not missing_attrs:
            return []
        found = ", ".join(f"{name}{tuple(ds[name].dims)}" for name in ds.data_vars) or "no data variables"
        raise DatasetError(
            f"{source}: no spatial field: no data variable has 'y', 'x' as its last two dims (found: {found})"
        )
    for name in fields:
        if ds[name].dtype.kind not in "iuf":
            raise DatasetError(f"{source}: variable '{name}' is not numeric (dtype {ds[name].dtype})")
        dims = ds[name].dims
        if "time" in dims and dims[0] != "time":
            raise DatasetError(f"{source}: variable '{name}' has 'time' but not as its first dim {dims}")
    for axis in ("y", "x"):
        _check_axis(ds, axis, source)
    if "time" in ds.dims:
        _check_time(ds, source)
    return fields


def spatial_variables(ds) -> list[str]:
    """Names of the data variables whose last two dims are ``y``, ``x``."""
    return [name for name, variable in ds.data_vars.items() if variable.dims[-2:] == ("y", "x")]


# --------------------------------------------------------------------------- helpers


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
        raise DatasetError(f"{source}: the file holds no snapshot (dimension 'time' has length 0)")
    if "time" not in ds.coords:
        raise DatasetError(f"{source}: dimension 'time' has no coordinate variable")
    values = np.asarray(ds["time"].values)
    if values.dtype.kind not in "iuf":
        raise DatasetError(f"{source}: coordinate 'time' is not numeric (dtype {values.dtype})")
    if not np.all(np.isfinite(values.astype(float))):
        raise DatasetError(f"{source}: coordinate 'time' has NaN or infinite values")
    if values.size > 1 and np.any(np.diff(values.astype(float)) <= 0):
        raise DatasetError(f"{source}: coordinate 'time' is not strictly increasing")


def check_netcdf_file(path: str | os.PathLike) -> None:
    """Check that a file is NetCDF before the netCDF-C library opens it.

    The file must start with a NetCDF-3 (CDF-1, 2, 5) or HDF5 signature. A NetCDF-3
    header is also walked by :func:`rdnet.netcdf_header.check_classic_header`, which
    refuses counts the file cannot hold. The C library trusts them, so a corrupt header
    could otherwise make it allocate gigabytes.

    Raises
    ------
    DatasetError
        The file is unreadable, empty, not NetCDF, or has a corrupt classic header.
    """
    from rdnet.netcdf_header import HeaderError, check_classic_header

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if not head:
                raise DatasetError(f"{path} is empty, not a NetCDF file")
            if head == _HDF5_MAGIC:
                return
            if head[:4] not in _NETCDF3_MAGIC:
                raise DatasetError(
                    f"{path} is not a NetCDF file (it does not start with a NetCDF or HDF5 signature)"
                )
            handle.seek(0)
            check_classic_header(handle, os.fstat(handle.fileno()).st_size)
    except HeaderError as error:
        raise DatasetError(f"{path}: corrupt NetCDF header: {error}") from None
    except OSError as error:
        raise DatasetError(f"cannot read {path}: {error.strerror}") from None


def load_snapshot(field: xr.DataArray, *, label: str = "") -> xr.DataArray:
    """Load one snapshot of a field into memory, refusing one too large to hold.

    Parameters
    ----------
    field : xarray.DataArray
        One snapshot (no ``time`` dim left, or a static field), possibly lazy.
    label : str, optional
        The file's name, for the message.

    Returns
    -------
    xarray.DataArray
        The field, loaded.

    Raises
    ------
    DatasetError
        When the snapshot holds more than :data:`MAX_SNAPSHOT_VALUES` values.
    """
    if field.size > MAX_SNAPSHOT_VALUES:
        sizes = " x ".join(f"{dim} {size}" for dim, size in field.sizes.items())
        where = f"{label}: " if label else ""
        raise DatasetError(
            f"{where}{field.name!r} holds {field.size} values per snapshot ({sizes}), more than the "
            f"{MAX_SNAPSHOT_VALUES} rdnet loads at once (a corrupt file?)"
        )
    return field.load()


def _check_declared_sizes(path: Path) -> None:
    """Refuse coordinates and string variables too long to load before xarray loads them whole."""
    import netCDF4

    try:
        nc = netCDF4.Dataset(path, "r")
    except Exception as error:  # netCDF4/HDF5 raise many types for corrupt files
        raise DatasetError(f"cannot read {path} as NetCDF: {_first_line(error)}") from None
    try:
        for name, dimension in nc.dimensions.items():
            if name in nc.variables and len(dimension) > MAX_COORDINATE_LENGTH:
                raise DatasetError(
                    f"{path}: dimension '{name}' declares {len(dimension)} entries, more than the "
                    f"{MAX_COORDINATE_LENGTH} rdnet reads (a corrupt file?)"
                )
        for name, variable in nc.variables.items():  # strings are decoded whole when the file opens
            if variable.dtype is str and variable.size > MAX_COORDINATE_LENGTH:
                raise DatasetError(
                    f"{path}: string variable '{name}' declares {variable.size} entries, more than the "
                    f"{MAX_COORDINATE_LENGTH} rdnet reads (a corrupt file?)"
                )
    finally:
        nc.close()


def _check_declarations(coords, variables) -> None:
    known = {"time", *coords}
    for name, (values, _) in coords.items():
        if np.ndim(values) != 1:
            raise ValueError(f"coordinate {name} must be 1-D")
    for name, spec in variables.items():
        unknown = [dim for dim in spec.dims if dim not in known]
        if unknown:
            raise ValueError(f"variable {name}: dims {unknown} are not declared coordinates")
        if "time" in spec.dims[1:]:
            raise ValueError(f"variable {name}: 'time' must be the first dim")
        if name in coords or name in ("time", COMPLETE_FLAG):
            raise ValueError(f"variable {name}: name is taken")


def _storage_dtype(dtype: np.dtype) -> np.dtype:
    if dtype.kind == "b":
        return np.dtype("i1")
    return dtype


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


@contextmanager
def _interrupts_deferred():
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block has finished.

    netCDF4's compiled layer swallows a KeyboardInterrupt raised while it runs, so an
    interrupt landing inside a write would be lost and the run would go on to the end.
    Deferred, it is raised after the write, with the snapshot complete and durable.
    Only the main thread can handle signals; elsewhere the block runs unchanged.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    pending = []
    signal.signal(signal.SIGINT, lambda signum, frame: pending.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        previous(signal.SIGINT, pending[-1])


def _partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _temporary_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _count_complete(nc) -> int:
    flags = nc.variables[COMPLETE_FLAG]
    if len(flags) == 0:
        return 0
    return _leading_complete(np.ma.filled(flags[:], 0))


def _leading_complete(flags: np.ndarray) -> int:
    incomplete = np.flatnonzero(np.asarray(flags) != 1)
    return int(incomplete[0]) if incomplete.size else int(flags.size)


def _convert_to_netcdf4(source: Path, destination: Path) -> None:
    """Copy the complete records of a partial file into a NetCDF-4 file, atomically."""
    import netCDF4

    temporary = _temporary_path(destination)
    try:
        with netCDF4.Dataset(source, "r") as src, netCDF4.Dataset(temporary, "w", format="NETCDF4") as dst:
            src.set_auto_mask(False)
            records = _count_complete(src)
            for name, dimension in src.dimensions.items():
                dst.createDimension(name, None if dimension.isunlimited() else len(dimension))
            for name, variable in src.variables.items():
                if name == COMPLETE_FLAG:
                    continue
                attrs = {key: variable.getncattr(key) for key in variable.ncattrs() if key != "_FillValue"}
                fill = variable.getncattr("_FillValue") if "_FillValue" in variable.ncattrs() else None
                is_record = variable.dimensions[:1] == ("time",)
                chunks = (1, *variable.shape[1:]) if is_record and variable.ndim > 1 else None
                out = dst.createVariable(
                    name,
                    variable.dtype,
                    variable.dimensions,
                    zlib=variable.ndim > 1,
                    complevel=1,
                    shuffle=True,
                    fill_value=fill,
                    chunksizes=chunks,
                )
                out.setncatts(attrs)
                if is_record:
                    if variable.ndim == 1:
                        out[:records] = variable[:records]
                    else:
                        for index in range(records):  # one snapshot at a time: flat memory
                            out[index] = variable[index]
                elif variable.ndim == 0:
                    out.assignValue(variable.getValue())
                else:
                    out[:] = variable[:]
            dst.setncatts({key: src.getncattr(key) for key in src.ncattrs()})
        _fsync_file(temporary)
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(destination.parent)


#: netCDF4 reports a failed write as RuntimeError(strerror): give such errors back their errno.
_ERRNO_OF_MESSAGE = {
    os.strerror(code): code for code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EIO, errno.EROFS)
}


def _as_os_error(error: BaseException, path: Path) -> BaseException:
    """An OSError (with errno and file name) for a failed write, so the CLI reports it in one line."""
    if isinstance(error, OSError):
        if error.filename is None:
            error.filename = str(path)
        return error
    code = _ERRNO_OF_MESSAGE.get(str(error).strip())
    if code is None:
        return error
    return OSError(code, os.strerror(code), str(path))


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - some filesystems refuse
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
