"""NetCDF storage of a run in progress: an append-only NetCDF-3 (CDF-5) partial file, made a
compressed NetCDF-4 file when the run completes.

The partial file's record layout survives a killed process: each snapshot is followed by
a ``snapshot_complete`` flag and an ``fsync``, so after a crash every snapshot whose
:meth:`~NetCDFStore.append` returned is on disk and readable. :meth:`~NetCDFStore.finish`
copies the complete records into a NetCDF-4 file, which appears under the final name by
an atomic rename, and removes the partial file.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rdnet.dataset.convention import COMPLETE_FLAG, PARTIAL_SUFFIX, _leading_complete
from rdnet.dataset.file_safety import _fsync_file, _fsync_folder, _partial_path, _temporary_path, check_netcdf_file
from rdnet.dataset.store import SnapshotStore, VariableSpec
from rdnet.errors import DatasetError

__all__ = ["NetCDFStore"]


class NetCDFStore(SnapshotStore):
    """A run written to ``PATH.partial`` (NetCDF-3, CDF-5) and finished as NetCDF-4 at ``PATH``.

    See :class:`~rdnet.dataset.store.SnapshotStore` for the methods.
    """

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        variables: Mapping[str, VariableSpec],
        time_attrs: Mapping[str, str],
        attrs: Mapping[str, Any],
    ) -> NetCDFStore:
        import netCDF4

        partial_path = _partial_path(path)
        if partial_path.exists():
            partial_path.unlink()  # the writer checked that it may be replaced
        nc = netCDF4.Dataset(partial_path, "w", format="NETCDF3_64BIT_DATA")
        try:
            nc.createDimension("time", None)
            time = nc.createVariable("time", "f8", ("time",))
            time.setncatts(dict(time_attrs))
            for name, (values, coord_attrs) in coords.items():
                values = np.asarray(values)
                nc.createDimension(name, values.shape[0])
                coord = nc.createVariable(name, _storage_dtype(values.dtype), (name,))
                coord.setncatts(dict(coord_attrs))
                coord[:] = values
            for name, spec in variables.items():
                dtype = _storage_dtype(np.dtype(spec.dtype))
                fill = np.nan if dtype.kind == "f" else None
                variable = nc.createVariable(name, dtype, spec.dims, fill_value=fill)
                variable.setncatts(spec.attrs())
            flag = nc.createVariable(COMPLETE_FLAG, "i1", ("time",), fill_value=0)
            flag.setncatts({"long_name": "1 once the snapshot is complete and durable", "units": "1"})
            nc.setncatts(dict(attrs))
        except BaseException:
            nc.close()
            partial_path.unlink(missing_ok=True)
            raise
        return cls(nc, path=path, partial_path=partial_path, n_records=0)

    @classmethod
    def reopen(cls, partial_path: Path, *, records: int | None = None) -> NetCDFStore:
        import netCDF4

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
        path = partial_path.with_name(partial_path.name[: -len(PARTIAL_SUFFIX)])
        store = cls(nc, path=path, partial_path=partial_path, n_records=records)
        store._make_durable()
        return store

    def __init__(self, nc, *, path: Path, partial_path: Path, n_records: int) -> None:
        self._nc = nc
        self.path = path
        self.partial_path = partial_path
        self._write_failed = False
        self._groups: dict[str, dict[str, np.ndarray]] = {}
        self.n_records = n_records
        self._record_variables = {
            name: variable
            for name, variable in nc.variables.items()
            if variable.dimensions[:1] == ("time",) and name not in ("time", COMPLETE_FLAG)
        }
        self.snapshot_shapes = {name: variable.shape[1:] for name, variable in self._record_variables.items()}
        self._make_durable()

    def append(self, time: float, fields: Mapping[str, np.ndarray]) -> None:
        index = self.n_records
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

    def write_fixed(self, name: str, values: np.ndarray, start: int = 0) -> None:
        variable = self._nc.variables[name]
        if name in self._record_variables:
            raise ValueError(f"{name} is a snapshot variable: use append()")
        values = np.asarray(values)
        if variable.ndim == 0:
            variable.assignValue(values)
        else:
            variable[start : start + values.shape[0]] = values

    def get_attr(self, name: str) -> Any:
        return self._nc.getncattr(name)

    def write_group(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        # the partial file is NetCDF-3, which has no groups: kept until finish() writes NetCDF-4
        self._groups[name] = dict(arrays)

    @classmethod
    def replace_partial(cls, source: Path, destination: Path) -> None:
        os.replace(source, destination)
        _fsync_folder(destination.parent)

    @classmethod
    def remove_partial(cls, path: Path) -> None:
        path.unlink(missing_ok=True)

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        self._nc.setncatts(dict(attrs))

    def flush(self) -> None:
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

    def finish(self) -> Path:
        self._nc.close()
        try:
            _convert_to_netcdf4(self.partial_path, self.path, groups=self._groups)
        except (OSError, RuntimeError) as error:
            raise _as_os_error(error, self.path) from None
        self.partial_path.unlink()
        return self.path


def _storage_dtype(dtype: np.dtype) -> np.dtype:
    if dtype.kind == "b":
        return np.dtype("i1")
    return dtype


def _count_complete(nc) -> int:
    flags = nc.variables[COMPLETE_FLAG]
    if len(flags) == 0:
        return 0
    return _leading_complete(np.ma.filled(flags[:], 0))


def _convert_to_netcdf4(source: Path, destination: Path, *, groups: Mapping[str, Mapping[str, np.ndarray]] = {}) -> None:
    """Copy the complete records of a partial file (and ``groups`` of plain arrays) into a NetCDF-4 file, atomically."""
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
            for group_name, arrays in groups.items():
                _write_group(dst.createGroup(group_name), arrays)
        _fsync_file(temporary)
        os.replace(temporary, destination)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(destination.parent)


def _write_group(group, arrays: Mapping[str, np.ndarray]) -> None:
    """Plain arrays as variables of a NetCDF-4 group, each with its own dims ``<name>_<axis>``."""
    for name, values in arrays.items():
        values = np.asarray(values)
        dims = tuple(f"{name}_{axis}" for axis in range(values.ndim))
        for dim, size in zip(dims, values.shape):
            group.createDimension(dim, size)
        variable = group.createVariable(name, values.dtype, dims)
        if values.ndim == 0:
            variable.assignValue(values)
        else:
            variable[:] = values


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
