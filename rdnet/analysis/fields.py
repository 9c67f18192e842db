"""Field plumbing shared by every metric: wrap a field, find its spatial dims, spacing and components, run a kernel.

A field's spatial dims are its last two dims ``(y, x)``, or its last three ``(z, y, x)``
when the dim before them is named ``z`` (:data:`DEPTH_DIM`; a 3-D field). A kernel is a
function of a float64 array ``(batch, components, *spatial)``; :func:`_apply` runs it on
every field of a (possibly dask-backed) DataArray through :func:`xarray.apply_ufunc`, and
:func:`_scalar_result` labels what comes back.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import xarray as xr


_Field = Any  # numpy array or xarray.DataArray
#: A field's power below this fraction of its squared magnitude counts as zero (a constant field).
_ZERO_VARIANCE_RTOL = 1e-24
#: The dim that, directly before the last two, makes a field 3-D: ``(..., z, y, x)``.
DEPTH_DIM = "z"


@dataclass(frozen=True)
class _FieldInfo:
    """What the kernels need to know about a prepared field."""

    data: xr.DataArray  # dims (..., *component_dims, *spatial_dims)
    component_dims: tuple[str, ...]
    spatial_dims: tuple[str, ...]  # (y, x) or (z, y, x)
    spacing: tuple[float, ...]  # one per spatial dim
    length_units: str
    field_units: str
    original_dims: tuple[str, ...] = ()

    @property
    def core_dims(self) -> list[str]:
        return [*self.component_dims, *self.spatial_dims]

    @property
    def n_components(self) -> int:
        return int(np.prod([self.data.sizes[d] for d in self.component_dims], dtype=int))

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.data.sizes[d] for d in self.spatial_dims)


def _prepare(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
    keep_order: bool = False,
) -> _FieldInfo:
    """Wrap ``field`` as a DataArray, find its spatial dims, spacing and component dims.

    A spatial dim whose coordinate decreases is reversed, so that every kernel sees
    coordinates that increase along the array's axes (directions, such as an angular
    spectrum's orientations, are then those of the coordinates); ``keep_order=True``
    leaves the order (for a metric that pairs the field with another array by position).
    """
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
    if np.issubdtype(data.dtype, np.complexfloating):
        raise ValueError(f"a field must be real; got dtype {data.dtype}: analyse its real part, imaginary part "
                         f"or modulus (e.g. np.abs(field))")
    requested = None
    if component_dims is not None:
        requested = (component_dims,) if isinstance(component_dims, str) else tuple(component_dims)
    n_spatial = 3 if data.ndim >= 3 and data.dims[-3] == DEPTH_DIM and DEPTH_DIM not in (requested or ()) else 2
    spatial_dims = tuple(data.dims[-n_spatial:])
    leading = list(data.dims[:-n_spatial])
    if requested is None:
        components = () if from_numpy else tuple(d for d in leading if d != "time")
    else:
        components = requested
        unknown = [d for d in components if d not in leading]
        if unknown:
            raise ValueError(f"component_dims {unknown} are not leading dims of the field (leading dims: {leading})")
    batch = [d for d in leading if d not in components]
    original_dims = tuple(data.dims)
    data = data.transpose(*batch, *components, *spatial_dims)
    sizes = [data.sizes[d] for d in spatial_dims]
    empty = [str(d) for d, n in zip(spatial_dims, sizes) if n == 0]
    if empty and max(sizes) > 1:  # a (0, 8) field: every grid has at least one point along each axis
        raise ValueError(f"a field is empty along {', '.join(empty)}; got {' x '.join(map(str, sizes))} points")
    if max(sizes) < 2:
        names = ", ".join(map(str, spatial_dims))
        raise ValueError(
            f"a field needs at least 2 points along one of {names} (a 1-D field has one point along the others); "
            f"got {' x '.join(map(str, sizes))}"
        )
    if dz is not None and n_spatial == 2:
        raise ValueError(f"dz applies to a 3-D field (dims ..., {DEPTH_DIM}, y, x); this field's spatial dims are {spatial_dims}")
    # dy and dz default to dx when dx is given (a cubic grid), else come from their coordinates
    given = dict(zip(("z", "y", "x")[-n_spatial:], (dz if dz is not None else dx, dy if dy is not None else dx, dx)[-n_spatial:]))
    spacing = [
        _spacing(data, dim, given[axis]) if size > 1 else None
        for dim, axis, size in zip(spatial_dims, given, sizes)
    ]
    # a one-point axis has no extent: its spacing is never used; it takes the spacing of an axis with extent
    reference = next(d for d in spacing if d is not None)
    if not keep_order:
        descending = [d for d in spatial_dims if d in data.coords and data.sizes[d] > 1 and _decreases(data[d])]
        data = data.isel({d: slice(None, None, -1) for d in descending}) if descending else data
    x_dim = spatial_dims[-1]
    units = data[x_dim].attrs.get("units", "1") if x_dim in data.coords else "1"
    return _FieldInfo(
        data=data,
        component_dims=components,
        spatial_dims=spatial_dims,
        spacing=tuple(reference if d is None else d for d in spacing),
        length_units=str(units),
        field_units=str(data.attrs.get("units", "1")),
        original_dims=original_dims,
    )


def _decreases(coordinate: xr.DataArray) -> bool:
    """Whether a (uniform) coordinate runs from high to low."""
    values = np.asarray(coordinate.values)
    return values.dtype.kind in "iuf" and bool(values[1] < values[0])


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

    ``kernel`` takes a float64 array of shape ``(batch, components, *spatial)`` (``spatial``
    being ``(ny, nx)`` or ``(nz, ny, nx)``) and returns an array of shape
    ``(batch, *output_shape)``. It runs once per dask chunk.
    """
    n_core = len(info.core_dims)
    n_spatial = len(info.spatial_dims)
    n_components = info.n_components

    def run(values: np.ndarray) -> np.ndarray:
        leading = values.shape[: values.ndim - n_core]
        stacked = np.asarray(values, dtype=np.float64).reshape(-1, n_components, *values.shape[-n_spatial:])
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


def _model_times(values: Any) -> np.ndarray:
    """Times as float64 numbers of model time units.

    rdnet's files write model time as seconds after a nominal 1970-01-01 (CF needs a reference
    date; :mod:`rdnet.dataset.cf`), which :func:`xarray.open_dataset` decodes to ``datetime64``:
    such times are read back as seconds after 1970-01-01, ``timedelta64`` as seconds, numbers as
    they are.
    """
    times = np.asarray(values)
    if times.dtype.kind == "M":
        return (times - np.datetime64("1970-01-01T00:00:00", "ns")) / np.timedelta64(1, "s")
    if times.dtype.kind == "m":
        return times / np.timedelta64(1, "s")
    return times.astype(float)


def _check_flag(name: str, value: Any) -> bool:
    """``value`` as a bool; a ``TypeError`` naming ``name`` for anything else (``"no"`` is not False)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _check_count(name: str, value: Any, smallest: int) -> int:
    """``value`` as an int of at least ``smallest`` (0 or 1); a ``ValueError`` naming ``name`` for anything else
    (``True``, ``2.5``, ``nan``, ``"5"``)."""
    whole = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_)) and math.isfinite(value)
    if not (whole and value == int(value) and value >= smallest):
        raise ValueError(f"{name} must be a {'positive' if smallest else 'non-negative'} integer; got {value!r}")
    return int(value)


def _check_finite(values: np.ndarray) -> None:
    if values.size and not np.all(np.isfinite(values)):
        bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise ValueError(
            f"field contains NaN or infinite values ({bad} of {values.size} points); "
            "fill or mask them before analysis (e.g. field.fillna(value))"
        )


def _spatial_axes(values: np.ndarray) -> tuple[int, ...]:
    """The spatial axes of a kernel's ``(batch, components, *spatial)`` array."""
    return tuple(range(2, values.ndim))


def _field_axes(values: np.ndarray) -> tuple[int, ...]:
    """The axes of one field of the batch: components and spatial axes (sum over them per field)."""
    return tuple(range(1, values.ndim))


def _n_points(values: np.ndarray) -> int:
    """Grid points of one field (``ny nx`` or ``nz ny nx``)."""
    return math.prod(values.shape[2:])


def _anomaly(values: np.ndarray) -> np.ndarray:
    """Each component minus its spatial mean."""
    return values - values.mean(axis=_spatial_axes(values), keepdims=True)


def _is_constant(anomaly: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per field of the batch: True where the anomaly is zero up to rounding."""
    power = np.sum(anomaly**2, axis=_field_axes(values))
    scale = np.sum(values**2, axis=_field_axes(values))
    return power <= _ZERO_VARIANCE_RTOL * np.maximum(scale, np.finfo(float).tiny)


def _extent_dimension(shape: Sequence[int]) -> int:
    """How many axes of a grid have more than one point: 1 (a line), 2 (a plane) or 3 (a volume)."""
    return sum(1 for n in shape if n > 1)


def _scalar_result(result: xr.DataArray, name: str, long_name: str, units: str) -> xr.DataArray:
    result.name = name
    result.attrs.update(long_name=long_name, units=units)
    return result


def _wavenumber_units(length_units: str) -> str:
    return "1" if length_units in ("", "1") else f"1/{length_units}"


def _squared_units(field_units: str) -> str:
    return "1" if field_units in ("", "1") else f"({field_units})^2"
