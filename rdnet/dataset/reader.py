"""Reading rdnet datasets: open and validate a file (lazily), read a partial file, load one snapshot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rdnet.dataset.convention import COMPLETE_FLAG, PARTIAL_SUFFIX, _leading_complete, validate
from rdnet.dataset.file_safety import _check_declared_sizes, _first_line, _watch_the_library, check_netcdf_file
from rdnet.dataset.zarr_store import check_zarr_store, is_zarr_path, open_partial_store
from rdnet.errors import DatasetError

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = ["LAZY_THRESHOLD_BYTES", "MAX_SNAPSHOT_VALUES", "open_dataset", "read_partial", "read_group", "load_snapshot"]


#: Files larger than this open with one dask chunk per snapshot.
LAZY_THRESHOLD_BYTES = 256 * 2**20
#: Most values of one snapshot of a field that the readers load at once (2 GiB of float64):
#: far above real fields (a 2048² grid holds 2**22; a network's u, d_in × m, a few million),
#: it stops a corrupt file that declares a huge extra dim (its unwritten data reads as fill
#: values) from exhausting memory.
MAX_SNAPSHOT_VALUES = 2**28


def open_dataset(path: str | os.PathLike, *, chunks: Any = "default"):
    """Open an rdnet (or compatible) NetCDF file or zarr store, validating the convention.

    Parameters
    ----------
    path
        A NetCDF-3 or NetCDF-4 file, a zarr store (a folder whose name ends in ``.zarr``),
        or a run's ``.partial`` file or store (only its complete snapshots are returned).
    chunks
        Passed to :func:`xarray.open_dataset`. The default opens files over 256 MiB
        with one dask chunk per snapshot, so analysis never loads them whole, and
        smaller files lazily without dask; a zarr store always opens with dask, one
        chunk per stored chunk (a snapshot).

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
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"open_dataset needs a file name (str or os.PathLike), got {path!r}")
    path = Path(path).expanduser()
    if not path.exists():
        raise DatasetError(f"no such file: {path}")
    if is_zarr_path(path) and path.is_dir():
        return _open_zarr(path, chunks)
    if path.is_dir():
        raise DatasetError(f"is a folder, not a NetCDF file or a zarr store (NAME.zarr): {path}")
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
        ds = _complete_snapshots(ds, path)
        validate(ds, source=str(path))
    except BaseException:
        ds.close()
        raise
    return ds


def _complete_snapshots(ds, path: Path):
    """The dataset's complete snapshots, without the completion flag (a file that holds one)."""
    if COMPLETE_FLAG not in ds.variables:
        return ds
    if ds[COMPLETE_FLAG].dims != ("time",):
        raise DatasetError(f"{path}: variable '{COMPLETE_FLAG}' must have dims ('time',), found {ds[COMPLETE_FLAG].dims}")
    complete = _leading_complete(np.asarray(ds[COMPLETE_FLAG].values))
    return ds.isel(time=slice(0, complete)).drop_vars(COMPLETE_FLAG)


def _open_zarr(path: Path, chunks: Any):
    import xarray as xr

    check_zarr_store(path)
    try:
        if path.name.endswith(PARTIAL_SUFFIX):
            ds = open_partial_store(path)
        else:
            # default: dask chunks as stored (one per snapshot)
            ds = xr.open_zarr(path, chunks={} if chunks == "default" else chunks, consolidated=False,
                              decode_times=False, decode_timedelta=False)  # fmt: skip
            ds = _complete_snapshots(ds, path)  # a store killed between its rename and dropping its flag
        ds = ds[sorted(ds.data_vars)]  # a store lists its arrays in no set order
    except DatasetError:
        raise
    except Exception as error:  # noqa: BLE001 - zarr raises many types for a damaged store
        raise DatasetError(f"cannot read {path} as a zarr store: {_first_line(error)}") from None
    try:
        validate(ds, source=str(path))
    except BaseException:
        ds.close()
        raise
    return ds


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


def read_group(path: str | os.PathLike, name: str) -> dict[str, np.ndarray] | None:
    """The plain arrays a run stored in a group of its file (:meth:`StreamingWriter.write_group`).

    Parameters
    ----------
    path
        A finished NetCDF-4 file or zarr store.
    name
        The group.

    Returns
    -------
    dict of str to numpy.ndarray, or None
        None when the file has no such group (a NetCDF-3 or an older file).
    """
    path = Path(path).expanduser()
    if is_zarr_path(path) and path.is_dir():
        import zarr

        check_zarr_store(path)
        root = zarr.open_group(path, mode="r")
        if name not in root:
            return None
        return {key: np.asarray(array[...]) for key, array in root[name].arrays()}
    import netCDF4

    check_netcdf_file(path)
    with _watch_the_library(path), netCDF4.Dataset(path, "r") as nc:
        group = nc.groups.get(name)
        if group is None:
            return None
        group.set_auto_mask(False)
        return {key: np.asarray(variable[...]) for key, variable in group.variables.items()}
