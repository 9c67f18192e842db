"""Real-space homogeneity metrics: coefficient of variation, Moran's I, correlation length,
symmetry scores, distance from a reference state. 2-D fields ``(y, x)`` and 3-D fields
``(z, y, x)`` alike (neighbours, lags and means over every spatial axis)."""

from __future__ import annotations

import dataclasses
import functools
import math
from typing import Iterable

import numpy as np
import xarray as xr

from rdnet.analysis.fields import (
    _anomaly,
    _apply,
    _check_flag,
    _Field,
    _field_axes,
    _is_constant,
    _n_points,
    _prepare,
    _scalar_result,
    _spatial_axes,
)
from rdnet.analysis.spectral_grid import _axes_with_extent

__all__ = [
    "SYMMETRIES",
    "coefficient_of_variation",
    "morans_i",
    "correlation_length",
    "symmetry_scores",
    "distance_from_reference",
]


#: Transformations scored by :func:`symmetry_scores`, in output order.
SYMMETRIES = ("mirror_x", "mirror_y", "rotation_90", "rotation_180")
#: A mean below this fraction of the field's RMS counts as zero (coefficient of variation: inf).
_ZERO_MEAN_RTOL = 1e-12


def _cv_kernel(values: np.ndarray) -> np.ndarray:
    mean = values.mean(axis=_spatial_axes(values), keepdims=True)  # (batch, components, 1, ...)
    anomaly = values - mean
    total_std = np.sqrt(np.sum(anomaly**2, axis=_field_axes(values)) / _n_points(values))
    mean_norm = np.sqrt(np.sum(mean**2, axis=_field_axes(values)))
    constant = _is_constant(anomaly, values)
    rms = np.sqrt(np.mean(values**2, axis=_field_axes(values)) * values.shape[1])
    zero_mean = mean_norm <= _ZERO_MEAN_RTOL * rms  # a mean that is zero up to rounding
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(zero_mean, np.inf, total_std / np.where(zero_mean, 1.0, mean_norm))
    ratio[constant] = 0.0
    return ratio


def coefficient_of_variation(field: _Field, *, component_dims: Iterable[str] | None = None) -> xr.DataArray:
    """Coefficient of variation: spatial standard deviation over the magnitude of the mean.

    For a vector field (component dims) ``CV = sqrt(Σ_c var_c) / ‖mean‖`` — the total
    standard deviation over the norm of the mean vector. A constant field gives 0;
    a varying field with zero mean (below ``1e-12`` of its RMS, i.e. zero up to
    rounding) gives ``inf``: the ratio is unbounded.

    Parameters
    ----------
    field
        Array or DataArray with last dims ``(y, x)`` or ``(z, y, x)``.
    component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        CV per field (population standard deviation).
    """
    info = _prepare(field, component_dims=component_dims)
    return _scalar_result(_apply(_cv_kernel, info), "coefficient_of_variation", "coefficient of variation", "1")


def _morans_kernel(values: np.ndarray, periodic: bool) -> np.ndarray:
    anomaly = _anomaly(values)
    per_field = _field_axes(values)
    denominator = np.sum(anomaly**2, axis=per_field)
    n_points = _n_points(values)
    pairs = np.zeros(values.shape[0])
    n_links = 0
    for axis in _spatial_axes(values):  # undirected rook links along every axis with extent
        n = values.shape[axis]
        if n < 2:
            continue
        if periodic:  # on the torus (the ring, for a 1-D field)
            pairs += np.sum(anomaly * np.roll(anomaly, -1, axis=axis), axis=per_field)
            n_links += n_points
        else:
            ahead = np.take(anomaly, np.arange(1, n), axis=axis)
            behind = np.take(anomaly, np.arange(n - 1), axis=axis)
            pairs += np.sum(ahead * behind, axis=per_field)
            n_links += n_points // n * (n - 1)
    # I = (N / W) Σ_ij w_ij z_i z_j / Σ_i z_i², with W = 2 n_links (each link counted both ways)
    with np.errstate(divide="ignore", invalid="ignore"):
        moran = (n_points / (2 * n_links)) * 2 * pairs / denominator
    moran[_is_constant(anomaly, values)] = np.nan
    return moran


def morans_i(
    field: _Field,
    *,
    periodic: bool = True,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    r"""Moran's I with rook weights (4 neighbours in 2-D, 6 in 3-D).

    .. math:: I = \frac{N}{W} \frac{\sum_{ij} w_{ij} z_i z_j}{\sum_i z_i^2},\quad z = f - \bar f,

    with ``w_ij = 1`` for rook neighbours (the nearest points along each axis, wrapping
    around on the periodic grid) and ``W = Σ w_ij``. A checkerboard gives −1, a smooth
    field approaches +1, white noise about 0. For a vector field the numerators and the
    denominators are each summed over components. Independent of the grid spacing. On
    the periodic grid each axis with extent holds ``N`` links, so ``I`` is the mean over
    those axes of the lag-one autocorrelation along each: a sampled cosine of wavelength
    ``λ`` points along one axis gives ``(cos(2π/λ) + D − 1) / D`` with ``D`` the number of
    axes with extent (2 on a plane, 3 in a volume). On a 1-D field the neighbours are
    the two along the line (a ring when periodic): the cosine gives ``cos(2π/λ)``.

    Parameters
    ----------
    field
        Array or DataArray with last dims ``(y, x)`` or ``(z, y, x)``.
    periodic
        Wrap neighbours around the edges (default). ``False``: edge points have fewer
        neighbours.
    component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Moran's I per field; NaN for a constant field (no variation to correlate).
    """
    periodic = _check_flag("periodic", periodic)
    info = _prepare(field, component_dims=component_dims)
    result = _apply(functools.partial(_morans_kernel, periodic=bool(periodic)), info)
    return _scalar_result(result, "morans_i", "Moran's I (rook weights)", "1")


@functools.lru_cache(maxsize=32)
def _lag_bins(
    shape: tuple[int, ...], spacing: tuple[float, ...], periodic: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Radial lag bins of the autocorrelation grid (2-D rings or 3-D shells).

    Returns (bin index per lag or −1 if beyond half the shortest side, mean radius per
    bin, overlap count per lag for the non-periodic normalisation, shape of the lag grid).
    """
    lag_shape = tuple(shape) if periodic else tuple(2 * n for n in shape)
    lags = np.meshgrid(*(np.fft.fftfreq(m, d=1.0 / m) for m in lag_shape), indexing="ij")
    radius = functools.reduce(np.hypot, [lag * d for lag, d in zip(lags, spacing)])
    axes = _axes_with_extent(shape, spacing)
    width = max(d for _, d in axes)
    max_radius = 0.5 * min(n * d for n, d in axes)
    index = np.floor(radius / width + 0.5).astype(np.int64)
    index[radius > max_radius] = -1
    if not periodic:
        overlap = functools.reduce(np.multiply, [n - np.abs(lag) for n, lag in zip(shape, lags)])
        index[overlap <= 0] = -1
    else:
        overlap = np.ones(lag_shape)
    n_bins = int(index.max()) + 1
    inside = index >= 0
    counts = np.bincount(index[inside], minlength=n_bins)
    mean_radius = np.bincount(index[inside], weights=radius[inside], minlength=n_bins) / np.maximum(counts, 1)
    return index.ravel(), mean_radius, np.maximum(overlap, 1).ravel(), lag_shape


def _correlation_length_kernel(values: np.ndarray, spacing: tuple[float, ...], periodic: bool) -> np.ndarray:
    batch = values.shape[0]
    anomaly = _anomaly(values)
    axes = _spatial_axes(values)
    index, radius, overlap, lag_shape = _lag_bins(values.shape[2:], spacing, periodic)
    transformed = np.fft.fftn(anomaly, s=lag_shape, axes=axes)
    autocovariance = np.fft.ifftn((transformed.real**2 + transformed.imag**2).sum(axis=1), axes=[a - 1 for a in axes]).real
    autocovariance = autocovariance.reshape(batch, -1) / overlap
    inside = index >= 0
    n_bins = radius.size
    counts = np.bincount(index[inside], minlength=n_bins)
    constant = _is_constant(anomaly, values)
    result = np.full(batch, np.inf)
    threshold = math.exp(-1.0)
    for b in range(batch):
        if constant[b]:
            result[b] = np.nan
            continue
        profile = np.bincount(index[inside], weights=autocovariance[b, inside], minlength=n_bins) / np.maximum(counts, 1)
        profile = profile / autocovariance[b, 0]
        below = np.flatnonzero(profile[1:] < threshold)
        if below.size:
            j = int(below[0]) + 1
            fraction = (profile[j - 1] - threshold) / (profile[j - 1] - profile[j])
            result[b] = radius[j - 1] + fraction * (radius[j] - radius[j - 1])
    return result


def correlation_length(
    field: _Field,
    *,
    periodic: bool = True,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Lag at which the radially averaged autocorrelation first falls below ``1/e``.

    The autocorrelation ``C(r) = ⟨z(p) z(p + r)⟩ / ⟨z²⟩`` (``z`` the anomaly; summed over
    components for a vector field) is computed by FFT — circularly on the periodic grid,
    or with zero padding and per-lag overlap normalisation when ``periodic=False`` — then
    averaged over lags in rings (spherical shells on a 3-D field) of width
    ``max(dx, dy[, dz])`` (each at its mean radius) and linearly interpolated at the
    first crossing of ``1/e``.

    Parameters
    ----------
    field, dx, dy, dz, component_dims
        As in :func:`radial_power_spectrum`.
    periodic
        Wrap the field around (default) or treat it as bounded.

    Returns
    -------
    xarray.DataArray
        Correlation length in length units. ``inf`` when ``C`` stays above ``1/e``
        out to half the shortest side of the domain (half the line's length for a 1-D
        field; correlated across the domain); NaN for a constant field.
    """
    periodic = _check_flag("periodic", periodic)
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    result = _apply(
        functools.partial(_correlation_length_kernel, spacing=info.spacing, periodic=bool(periodic)),
        info,
    )
    return _scalar_result(result, "correlation_length", "correlation length (1/e of the autocorrelation)", info.length_units)


def _transform(anomaly: np.ndarray, symmetry: str) -> np.ndarray:
    if symmetry == "mirror_x":
        return anomaly[..., :, ::-1]
    if symmetry == "mirror_y":
        return anomaly[..., ::-1, :]
    if symmetry == "rotation_180":
        return anomaly[..., ::-1, ::-1]
    return np.rot90(anomaly, k=1, axes=(-2, -1))


def _symmetry_kernel(values: np.ndarray, periodic: bool, square: bool) -> np.ndarray:
    anomaly = _anomaly(values)
    per_field = _field_axes(values)
    axes = _spatial_axes(values)
    variance = np.sum(anomaly**2, axis=per_field)
    constant = _is_constant(anomaly, values)
    scores = np.full((values.shape[0], len(SYMMETRIES)), np.nan)
    if periodic:
        spectrum = np.conj(np.fft.fftn(anomaly, axes=axes))
    ny, nx = values.shape[-2:]
    # a mirror across a one-point axis is the identity, and rotations in the (y, x) plane need both axes
    defined = {"mirror_x"} if nx > 1 else set()
    if ny > 1:
        defined.add("mirror_y")
    if nx > 1 and ny > 1:
        defined.update({"rotation_180", "rotation_90"} if square else {"rotation_180"})
    for column, symmetry in enumerate(SYMMETRIES):
        if symmetry not in defined:
            continue
        image = _transform(anomaly, symmetry)
        if periodic:
            cross = np.fft.ifftn(spectrum * np.fft.fftn(image, axes=axes), axes=axes).real.sum(axis=1)
            covariance = cross.reshape(cross.shape[0], -1).max(axis=1)
        else:
            covariance = np.sum(anomaly * image, axis=per_field)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores[:, column] = np.clip(covariance / variance, -1.0, 1.0)
    scores[constant] = np.nan
    return scores


def symmetry_scores(
    field: _Field,
    *,
    periodic: bool = True,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Correlation of the field with its mirror images and rotations, each in ``[-1, 1]``.

    Scores, in order ``mirror_x`` (``x → −x``), ``mirror_y`` (``y → −y``),
    ``rotation_90`` and ``rotation_180``: the Pearson correlation between the anomaly
    ``z`` and the transformed anomaly (summed over components for a vector field).
    On the periodic grid (default) the mirror axis or rotation centre may sit
    anywhere, so the best correlation over all cyclic shifts is reported (1 means
    "symmetric about some axis/centre"); with ``periodic=False`` the axis/centre is
    the grid's centre. ``rotation_90`` is NaN unless the grid is square (``n_y = n_x``
    and ``dy = dx``). On a 1-D field only the mirror along the line is scored
    (``mirror_x`` for a row, ``mirror_y`` for a column); the mirror across it is the
    identity and rotations leave the line, so those scores are NaN.

    On a 3-D field the same four operations act in every ``(y, x)`` plane: the mirrors
    are the planes ``x → −x`` and ``y → −y``, the rotations turn about an axis parallel
    to ``z`` (the periodic search also shifts along ``z``, so a mirror combined with a
    shift along z counts, as a glide does in 2-D). ``z → −z`` is not scored.

    Parameters
    ----------
    field, dx, dy, dz, component_dims
        As in :func:`radial_power_spectrum` (spacing only matters for ``rotation_90``).
    periodic
        Search all axis/centre positions on the torus (default) or use the centre.

    Returns
    -------
    xarray.DataArray
        Dims ``(..., "symmetry")``; NaN everywhere for a constant field.
    """
    periodic = _check_flag("periodic", periodic)
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    ny, nx = info.shape[-2:]
    dy, dx = info.spacing[-2:]
    square = ny == nx and math.isclose(dy, dx, rel_tol=1e-9)
    result = _apply(
        functools.partial(_symmetry_kernel, periodic=bool(periodic), square=square),
        info,
        ["symmetry"],
        {"symmetry": len(SYMMETRIES)},
    )
    result = result.assign_coords(symmetry=("symmetry", list(SYMMETRIES)))
    return _scalar_result(result, "symmetry_score", "correlation with the transformed field", "1")


def _rms_kernel(values: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(values**2, axis=_field_axes(values)) / _n_points(values))


def distance_from_reference(
    field: _Field,
    reference: _Field | float | None = None,
    *,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Root-mean-square distance of the field from a reference state.

    ``d = sqrt(mean_{y,x} Σ_c (f_c − r_c)²)`` (the mean over ``z, y, x`` for a 3-D
    field). Without a reference, ``r`` is the
    field's own spatial mean, so ``d`` is its total standard deviation (0 for a
    homogeneous field) — how far the state is from homogeneity.

    Parameters
    ----------
    field
        Array or DataArray with last dims ``(y, x)`` or ``(z, y, x)``.
    reference
        ``None`` (the spatial mean), a number, or an array/DataArray that broadcasts
        against the field (a numpy array is matched to the field's trailing dims;
        DataArray coordinates must match exactly).
    component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Distance per field, in the field's units.
    """
    info = _prepare(field, component_dims=component_dims, keep_order=True)  # the reference pairs with it by position
    data = info.data
    if reference is None:
        difference = data - data.mean(dim=list(info.spatial_dims))
    else:
        if not isinstance(reference, xr.DataArray):
            array = np.asarray(reference)
            if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or np.iscomplexobj(array):
                raise ValueError(f"reference must be a real number or a field of them; got {reference!r}")
            if array.ndim > data.ndim:
                raise ValueError(f"reference has more dims ({array.ndim}) than the field ({data.ndim})")
            reference = xr.DataArray(array, dims=info.original_dims[data.ndim - array.ndim :])
        with xr.set_options(arithmetic_join="exact"):
            try:
                difference = data - reference
            except ValueError as error:
                raise ValueError(f"reference does not match the field's coordinates: {error}") from None
        difference = difference.transpose(*data.dims)
    result = _apply(_rms_kernel, dataclasses.replace(info, data=difference))
    return _scalar_result(result, "distance_from_reference", "RMS distance from the reference state", info.field_units)
