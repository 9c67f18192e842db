"""One zarr store for all the points of a sweep: one region per point, written in parallel.

``rdnet sweep --format zarr`` keeps every point's run in ``DIR/points.zarr``, where each
variable of a run gains the sweep's axes as leading dims (``u (F, k, time, y, x)``), so
``xr.open_zarr("DIR/points.zarr").sel(F=0.03, k=0.06)`` is that point's run. The Dask
workers write their points themselves; the store is safe under worker loss and retries:

- the store is created once, by the first point to finish: its skeleton (the arrays'
  metadata and the shared coordinates) is built in a private folder and renamed into place;
  a worker that loses that race checks its point against the winner's layout instead;
- each point owns its chunks (chunk length 1 along every sweep axis), so two points never
  write the same file, and zarr writes each chunk file atomically;
- a point's region is written, made durable, and only then its ``point_complete`` flag is
  set (and made durable): an attempt killed half-way leaves the flag unset, and the retry
  rewrites the whole region;
- the store is written as ``points.zarr.partial`` and renamed to ``points.zarr`` once, when
  the sweep ends (:func:`publish`).

The points must share their layout: the same variables, shapes and snapshot times (a sweep
over ``size``, ``steps`` or ``dt`` writes one NetCDF file per point instead).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rdnet.dataset.convention import PARTIAL_SUFFIX
from rdnet.errors import DatasetError

__all__ = ["POINT_FLAG", "STORE_NAME", "create", "write_point", "completed_points", "publish", "unpublish"]

#: The flag array: 1 where a point's region is complete and durable.
POINT_FLAG = "point_complete"
#: The store's name in the sweep folder.
STORE_NAME = "points.zarr"


def create(path: str | os.PathLike, template, axes: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
           attrs: Mapping[str, Any]) -> bool:  # fmt: skip
    """Create the store for points shaped like ``template``, unless another worker did first.

    Parameters
    ----------
    path
        The store (``DIR/points.zarr.partial``).
    template : xarray.Dataset
        One point's run; every data variable gains the sweep's axes as leading dims.
    axes
        The sweep's axes in order: dim name to ``(values, attrs)``.
    attrs
        The store's global attributes.

    Returns
    -------
    bool
        True if this call created it.
    """
    import dask.array
    import xarray as xr

    from rdnet.dataset.zarr_store import _flush_file_system, _remove_store

    path = Path(path)
    if path.exists():
        return False
    lengths = tuple(len(values) for values, _ in axes.values())
    data_vars = {}
    encoding = {}
    for name, variable in template.data_vars.items():
        shape = (*lengths, *variable.shape)
        chunks = (*(1 for _ in lengths), *(1 if dim == "time" else size for dim, size in variable.sizes.items()))
        data_vars[name] = ((*axes, *variable.dims), dask.array.zeros(shape, chunks=chunks, dtype=variable.dtype),
                           _plain_attrs(variable.attrs))  # fmt: skip
        encoding[name] = {"chunks": chunks, "fill_value": np.nan if variable.dtype.kind == "f" else 0}
    data_vars[POINT_FLAG] = (tuple(axes), dask.array.zeros(lengths, chunks=(1,) * len(lengths), dtype="i1"),
                             {"long_name": "1 once the point's region is complete and durable", "units": "1",
                              "flag_values": [0, 1], "flag_meanings": "not_written written"})  # fmt: skip
    encoding[POINT_FLAG] = {"chunks": (1,) * len(lengths), "fill_value": 0}
    coords = {dim: (dim, np.asarray(values), _plain_attrs(coord_attrs)) for dim, (values, coord_attrs) in axes.items()}
    for name, coordinate in template.coords.items():
        coords[name] = (coordinate.dims, np.asarray(coordinate.values), _plain_attrs(coordinate.attrs))
        encoding[name] = {"fill_value": None} if coordinate.dtype.kind == "f" else {}
    skeleton = xr.Dataset(data_vars, coords=coords, attrs=dict(attrs))
    private = path.with_name(f".{path.name}.create-{uuid.uuid4().hex[:8]}")
    try:
        skeleton.to_zarr(private, compute=False, encoding=encoding, zarr_format=3, consolidated=False)
        _flush_file_system(private)
        try:
            os.rename(private, path)  # atomic; fails when another worker's store is there
        except OSError:
            if not path.is_dir():
                raise
            return False
    finally:
        if private.exists():
            _remove_store(private)
    _flush_file_system(path.parent)
    return True


def write_point(path: str | os.PathLike, index: tuple[int, ...], point) -> None:
    """Write one point's run into its region, make it durable, then set its flag.

    Parameters
    ----------
    path
        The store.
    index
        The point's position along each sweep axis.
    point : xarray.Dataset
        Its run (the variables and layout the store was created for).

    Raises
    ------
    DatasetError
        The run's variables, shapes or snapshot times differ from the store's.
    """
    import xarray as xr
    import zarr

    from rdnet.dataset.zarr_store import _flush_file_system

    path = Path(path)
    store = xr.open_zarr(path, consolidated=False, decode_times=False, chunks=None)
    axes = list(store[POINT_FLAG].dims)
    _check_layout(store, point, axes, path)
    region = {dim: slice(position, position + 1) for dim, position in zip(axes, index)}
    values = point.drop_vars(list(point.coords)).expand_dims({dim: 1 for dim in axes})
    for variable in values.variables.values():
        variable.encoding = {}
        variable.attrs = {}
    values.to_zarr(path, region=region, mode="r+", consolidated=False)
    _flush_file_system(path)  # the region first, then its flag
    flags = zarr.open_array(path / POINT_FLAG, mode="r+")
    flags[tuple(index)] = 1
    _flush_file_system(path)


def completed_points(path: str | os.PathLike) -> np.ndarray | None:
    """The ``point_complete`` flags of a store as booleans (None when there is no store)."""
    import zarr

    path = Path(path)
    if not path.is_dir():
        return None
    return np.asarray(zarr.open_array(path / POINT_FLAG, mode="r")[...]) == 1


def publish(partial: str | os.PathLike) -> Path:
    """Give the finished store its final name (``points.zarr``), once, with consolidated metadata."""
    from rdnet.dataset.zarr_store import _consolidate, _flush_file_system, _replace_store

    partial = Path(partial)
    final = partial.with_name(partial.name[: -len(PARTIAL_SUFFIX)])
    _consolidate(partial)
    _flush_file_system(partial)
    _replace_store(partial, final)
    return final


def unpublish(final: str | os.PathLike) -> Path:
    """Turn a published store back into a partial one, for a rerun that redoes failed points."""
    final = Path(final)
    partial = final.with_name(final.name + PARTIAL_SUFFIX)
    os.replace(final, partial)
    return partial


def _check_layout(store, point, axes, path: Path) -> None:
    for name, variable in point.data_vars.items():
        if name not in store.data_vars:
            raise DatasetError(f"{path.name}: the point's variable {name!r} is not in the store (the points of a "
                               f"zarr sweep must hold the same variables)")  # fmt: skip
        expected = (*axes, *variable.dims)
        if store[name].dims != expected or store[name].shape[len(axes):] != variable.shape:
            raise DatasetError(f"{path.name}: the point's {name!r} has dims {dict(variable.sizes)}, the store's "
                               f"{dict(store[name].sizes)}; a zarr sweep needs points of one shape (sweep size, "
                               f"steps or the like with --format netcdf)")  # fmt: skip
    missing = set(store.data_vars) - set(point.data_vars) - {POINT_FLAG}
    if missing:
        raise DatasetError(f"{path.name}: the point lacks {sorted(missing)}")
    for name in point.coords:
        if name in store.coords and not np.array_equal(np.asarray(store[name].values), np.asarray(point[name].values)):
            raise DatasetError(f"{path.name}: the point's {name!r} coordinate differs from the store's (a zarr "
                               f"sweep needs the same snapshot times and grid at every point; sweep dt, steps or "
                               f"size with --format netcdf)")  # fmt: skip


def _plain_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    from rdnet.dataset.zarr_store import _json_attrs

    return _json_attrs({key: value for key, value in attrs.items() if key != "_FillValue"})
