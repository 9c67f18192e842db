"""Field plumbing shared by every metric: wrap a field, find its spacing and components, run a kernel.

A kernel is a function of a float64 array ``(batch, components, ny, nx)``; :func:`_apply`
runs it on every field of a (possibly dask-backed) DataArray through
:func:`xarray.apply_ufunc`, and :func:`_scalar_result` labels what comes back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import xarray as xr


_Field = Any  # numpy array or xarray.DataArray
#: A field's power below this fraction of its squared magnitude counts as zero (a constant field).
_ZERO_VARIANCE_RTOL = 1e-24


@dataclass(frozen=True)
class _FieldInfo:
    """What the kernels need to know about a prepared field."""

    data: xr.DataArray  # dims (..., *component_dims, y, x)
    component_dims: tuple[str, ...]
    y_dim: str
    x_dim: str
    dy: float
    dx: float
    length_units: str
    field_units: str
    original_dims: tuple[str, ...] = ()

    @property
    def core_dims(self) -> list[str]:
        return [*self.component_dims, self.y_dim, self.x_dim]

    @property
    def n_components(self) -> int:
        return int(np.prod([self.data.sizes[d] for d in self.component_dims], dtype=int))

    @property
    def shape(self) -> tuple[int, int]:
        return self.data.sizes[self.y_dim], self.data.sizes[self.x_dim]


def _prepare(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> _FieldInfo:
    """Wrap ``field`` as a DataArray, find its spatial spacing and component dims."""
    if isinstance(field, xr.Dataset):
        raise TypeError("expected one field (a DataArray or array), got a Dataset: select a variable, e.g. ds['v']")
    if isinstance(field, xr.DataArray):
        data = field
        from_numpy = False
    else:
        array = field if hasattr(field, "ndim") and hasattr(field, "shape") else np.asarray(field)
        if array.ndim < 2:
            raise ValueError(f"a field needs at least two dims (y, x); got shape {tuple(array.shape)}")
        names = [f"dim_{i}" for i in range(array.ndim - 2)] + ["y", "x"]
        data = xr.DataArray(array, dims=names)
        from_numpy = True
    if data.ndim < 2:
        raise ValueError(f"a field needs at least two dims (y, x); got dims {data.dims}")
    if not (np.issubdtype(data.dtype, np.number) or data.dtype == bool):
        raise ValueError(f"a field must be numeric; got dtype {data.dtype}")
    y_dim, x_dim = data.dims[-2], data.dims[-1]
    leading = list(data.dims[:-2])
    if component_dims is None:
        components = () if from_numpy else tuple(d for d in leading if d != "time")
    else:
        components = (component_dims,) if isinstance(component_dims, str) else tuple(component_dims)
        unknown = [d for d in components if d not in leading]
        if unknown:
            raise ValueError(f"component_dims {unknown} are not leading dims of the field (leading dims: {leading})")
    batch = [d for d in leading if d not in components]
    original_dims = tuple(data.dims)
    data = data.transpose(*batch, *components, y_dim, x_dim)
    sizes = data.sizes
    if max(sizes[y_dim], sizes[x_dim]) < 2 or min(sizes[y_dim], sizes[x_dim]) < 1:
        raise ValueError(
            f"a field needs at least 2 points along x or y (a 1-D field has one point along the other); "
            f"got {sizes[y_dim]} x {sizes[x_dim]}"
        )
    if sizes[y_dim] == 1:  # a row: the spacing along y is that along x (y has no extent)
        spacing_x = _spacing(data, x_dim, dx)
        spacing_y = spacing_x
    elif sizes[x_dim] == 1:  # a column
        spacing_y = _spacing(data, y_dim, dy if dy is not None else dx)
        spacing_x = spacing_y
    else:
        spacing_x = _spacing(data, x_dim, dx)
        spacing_y = _spacing(data, y_dim, dy if dy is not None else dx)
    units = data[x_dim].attrs.get("units", "1") if x_dim in data.coords else "1"
    return _FieldInfo(
        data=data,
        component_dims=components,
        y_dim=y_dim,
        x_dim=x_dim,
        dy=spacing_y,
        dx=spacing_x,
        length_units=str(units),
        field_units=str(data.attrs.get("units", "1")),
        original_dims=original_dims,
    )


def _spacing(data: xr.DataArray, dim: str, given: float | None) -> float:
    """Grid spacing along ``dim``: ``given`` if set, else from the coordinate, else 1."""
    if given is not None:
        value = float(given)
        if not (math.isfinite(value) and value > 0):
            raise ValueError(f"grid spacing along {dim} must be a positive number; got {given!r}")
        return value
    if dim not in data.coords:
        return 1.0
    coord = np.asarray(data[dim].values, dtype=float)
    steps = np.diff(coord)
    if not np.all(np.isfinite(coord)):
        raise ValueError(f"coordinate {dim!r} contains NaN or infinite values")
    step = float(np.mean(steps))
    if step == 0 or not np.allclose(steps, step, rtol=1e-6, atol=0):
        raise ValueError(f"coordinate {dim!r} must be uniformly spaced (found steps from {steps.min():g} to {steps.max():g})")
    return abs(step)


def _apply(
    kernel: Callable[[np.ndarray], np.ndarray],
    info: _FieldInfo,
    output_dims: Sequence[str] = (),
    output_sizes: dict[str, int] | None = None,
) -> xr.DataArray:
    """Run ``kernel`` on every field of ``info.data``.

    ``kernel`` takes a float64 array of shape ``(batch, components, ny, nx)`` and returns
    an array of shape ``(batch, *output_shape)``. It runs once per dask chunk.
    """
    n_core = len(info.core_dims)
    n_components = info.n_components

    def run(values: np.ndarray) -> np.ndarray:
        leading = values.shape[: values.ndim - n_core]
        ny, nx = values.shape[-2:]
        stacked = np.asarray(values, dtype=np.float64).reshape(-1, n_components, ny, nx)
        _check_finite(stacked)
        result = kernel(stacked)
        return result.reshape(tuple(leading) + result.shape[1:])

    return xr.apply_ufunc(
        run,
        info.data,
        input_core_dims=[info.core_dims],
        output_core_dims=[list(output_dims)],
        dask="parallelized",
        output_dtypes=[np.float64],
        dask_gufunc_kwargs={"output_sizes": dict(output_sizes or {}), "allow_rechunk": True},
        keep_attrs=False,
    )


def _check_finite(values: np.ndarray) -> None:
    if values.size and not np.all(np.isfinite(values)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(
            f"field contains NaN or infinite values ({bad} of {values.size} points); "
            "fill or mask them before analysis (e.g. field.fillna(value))"
        )


def _anomaly(values: np.ndarray) -> np.ndarray:
    """Each component minus its spatial mean."""
    return values - values.mean(axis=(-2, -1), keepdims=True)


def _is_constant(anomaly: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per field of the batch: True where the anomaly is zero up to rounding."""
    power = np.sum(anomaly**2, axis=(1, 2, 3))
    scale = np.sum(values**2, axis=(1, 2, 3))
    return power <= _ZERO_VARIANCE_RTOL * np.maximum(scale, np.finfo(float).tiny)


def _is_line(values: np.ndarray) -> bool:
    """Whether the fields are 1-D (one point along y or x)."""
    return min(values.shape[-2:]) == 1


def _scalar_result(result: xr.DataArray, name: str, long_name: str, units: str) -> xr.DataArray:
    result.name = name
    result.attrs.update(long_name=long_name, units=units)
    return result


def _wavenumber_units(length_units: str) -> str:
    return "1" if length_units in ("", "1") else f"1/{length_units}"


def _squared_units(field_units: str) -> str:
    return "1" if field_units in ("", "1") else f"({field_units})^2"
