"""Pattern analysis: spectra and homogeneity metrics of spatial fields.

Every function takes a field whose **last two dims are** ``(y, x)`` — a numpy array
or an :class:`xarray.DataArray`, eager or dask-backed — and returns xarray objects
with physical coordinates. Grid spacing comes from the DataArray's ``y``/``x``
coordinates (they must be uniform) or from ``dx=``/``dy=`` (which win over the
coordinates when given; default 1). Fields are treated as **periodic** by default,
as on the simulators' grids; ``window="hann"`` (spectral functions) and
``periodic=False`` (real-space functions) handle non-periodic fields.

Leading dims
    On a DataArray, every leading dim other than ``"time"`` is by default a
    **component** dim (``component_dims=`` overrides): a field with dims
    ``("time", "feature", "y", "x")`` is analysed as one vector-valued field per
    time, its power summed over ``feature``. Other leading dims are independent
    fields, kept in the result. On a numpy array the leading axes are independent
    fields named ``dim_0, dim_1, ...`` (pass ``component_dims=("dim_0",)`` to make
    one a component axis).

Dask
    The work runs through :func:`xarray.apply_ufunc` with ``dask="parallelized"``:
    a chunked ``(time, y, x)`` array is processed chunk by chunk (each chunk holds
    whole ``(y, x)`` planes; spatial chunks are merged first) and never loaded whole.
    Results stay lazy until computed.

1-D fields
    A field with one point along y (a row, e.g. a 1-D run's ``(time, 1, x)``) or along
    x (a column) is a 1-D field: the spectra are over the one axis (``|k| = |k_x|``),
    Moran's I uses the line's two neighbours (a ring when periodic) and the correlation
    length the lags along the line, up to half its length; the spacing of the
    one-point axis is ignored. Orientation is not defined on a line, so
    :func:`angular_spectrum` and :func:`anisotropy` are NaN, and so are the rotation
    scores and the mirror across the line (a trivial identity) in
    :func:`symmetry_scores`; the mirror along the line is scored.

Defined results
    A field containing NaN or infinite values raises ``ValueError("field contains
    NaN or infinite values ...")`` (on dask input: when computed). A constant field
    (no spatial variation) has a zero spectrum; the metrics that are ratios to the
    variance are then undefined and returned as NaN (dominant wavelength, spectral
    entropy, anisotropy, Moran's I, correlation length, symmetry scores), while the
    coefficient of variation is 0, the distance from its own mean is 0, and the
    surrogate p-value is 1 (no evidence of structure). See ``docs/analysis.md``.

Examples
--------
>>> import numpy as np
>>> from rdnet.analysis import dominant_wavelength, morans_i
>>> x = np.arange(64)
>>> stripes = np.cos(2 * np.pi * x / 16)[None, :].repeat(32, axis=0)
>>> round(float(dominant_wavelength(stripes)), 6)
16.0
>>> bool(np.isclose(float(morans_i(stripes)), (np.cos(2 * np.pi / 16) + 1) / 2))
True
"""

from __future__ import annotations

import dataclasses
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import xarray as xr

__all__ = [
    "HOMOGENEITY_KEYS",
    "SYMMETRIES",
    "SurrogateResult",
    "radial_power_spectrum",
    "dominant_wavelength",
    "spectral_entropy",
    "angular_spectrum",
    "anisotropy",
    "coefficient_of_variation",
    "morans_i",
    "correlation_length",
    "symmetry_scores",
    "distance_from_reference",
    "surrogate_test",
    "homogeneity_metrics",
]

#: Keys of the dictionary returned by :func:`homogeneity_metrics`, in display order.
HOMOGENEITY_KEYS = (
    "dominant_wavelength",
    "spectral_entropy",
    "coefficient_of_variation",
    "morans_i",
    "anisotropy",
    "correlation_length",
    "surrogate_p_value",
)
#: Transformations scored by :func:`symmetry_scores`, in output order.
SYMMETRIES = ("mirror_x", "mirror_y", "rotation_90", "rotation_180")
#: Window names accepted by the spectral functions.
WINDOWS = (None, "hann")

_Field = Any  # numpy array or xarray.DataArray
#: A field's power below this fraction of its squared magnitude counts as zero (a constant field).
_ZERO_VARIANCE_RTOL = 1e-24
#: A spectral bin holding less than this fraction of the power is rounding noise (entropy).
_NEGLIGIBLE_FRACTION = 1e-15
#: A mean below this fraction of the field's RMS counts as zero (coefficient of variation: inf).
_ZERO_MEAN_RTOL = 1e-12


# --------------------------------------------------------------------------------------
# Field preparation: names, spacing, component dims
# --------------------------------------------------------------------------------------


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


def _scalar_result(result: xr.DataArray, name: str, long_name: str, units: str) -> xr.DataArray:
    result.name = name
    result.attrs.update(long_name=long_name, units=units)
    return result


def _spectral_scalar(info, kernel, window, name: str, long_name: str, units: str) -> xr.DataArray:
    """Apply a per-field spectral kernel (``kernel(values, grid, window)``) and label the scalar result."""
    window = _check_window(window)
    grid = _spectral_grid(*info.shape, info.dy, info.dx)
    result = _apply(functools.partial(kernel, grid=grid, window=window), info)
    return _scalar_result(result, name, long_name, units)


def _wavenumber_units(length_units: str) -> str:
    return "1" if length_units in ("", "1") else f"1/{length_units}"


def _squared_units(field_units: str) -> str:
    return "1" if field_units in ("", "1") else f"({field_units})^2"


# --------------------------------------------------------------------------------------
# Spectral geometry (cached per grid)
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _SpectralGrid:
    """Wavevectors of a grid's real-FFT modes and their radial bins.

    Only the half-plane ``k_x ≥ 0`` of a real field's spectrum is stored (``rfft2``);
    ``multiplicity`` counts each stored mode's conjugate twin, so sums over stored modes
    weighted by it are sums over all ``n_y n_x`` modes.
    """

    radial_bin: np.ndarray  # (ny * (nx // 2 + 1),) bin index of each stored mode
    wavenumber: np.ndarray  # (n_bins,) bin centres, cycles per length unit
    mode_count: np.ndarray  # (n_bins,) modes per bin (of the full spectrum)
    nyquist: float
    ky: np.ndarray  # (ny * (nx // 2 + 1),)
    kx: np.ndarray  # (ny * (nx // 2 + 1),)
    multiplicity: np.ndarray  # (ny * (nx // 2 + 1),) 1 or 2


#: Most radial bins of a spectrum. The bin width follows the finer wavenumber resolution,
#: so a grid whose y and x spacings differ by a factor r gets about r times more bins than
#: points: a 4096² grid with r = 1000 needs ~2·10⁶, while a corrupt file's coordinates
#: (spacings 1 and 2**30) would ask for ~10⁹ bins and exhaust memory.
MAX_RADIAL_BINS = 2**24


def _axes_with_extent(ny: int, nx: int, dy: float, dx: float) -> list[tuple[int, float]]:
    """``(points, spacing)`` of the axes with more than one point (just one for a 1-D field)."""
    return [(n, d) for n, d in ((ny, dy), (nx, dx)) if n > 1]


@functools.lru_cache(maxsize=64)
def _spectral_grid(ny: int, nx: int, dy: float, dx: float) -> _SpectralGrid:
    ky, kx = np.meshgrid(np.fft.fftfreq(ny, d=dy), np.fft.rfftfreq(nx, d=dx), indexing="ij")
    ky, kx = ky.ravel(), kx.ravel()
    multiplicity = np.broadcast_to(_rfft_multiplicity(nx), (ny, nx // 2 + 1)).ravel().copy()
    # the finer of the two resolutions (of the one axis with extent, for a 1-D field)
    axes = _axes_with_extent(ny, nx, dy, dx)
    bin_width = min(1.0 / (n * d) for n, d in axes)
    radial_bin = np.floor(np.hypot(ky, kx) / bin_width + 0.5).astype(np.int64)
    n_bins = int(radial_bin.max()) + 1
    if n_bins > MAX_RADIAL_BINS:
        raise ValueError(
            f"the grid spacings along y and x ({dy:.6g}, {dx:.6g}) differ too much for a radial spectrum "
            f"({n_bins} radial bins for a {ny}x{nx} grid); resample to comparable spacings"
        )
    mode_count = np.bincount(radial_bin, weights=multiplicity, minlength=n_bins)
    for array in (radial_bin, ky, kx, mode_count, multiplicity):
        array.setflags(write=False)
    return _SpectralGrid(
        radial_bin=radial_bin,
        wavenumber=np.arange(n_bins) * bin_width,
        mode_count=mode_count,
        nyquist=min(0.5 / d for _, d in axes),
        ky=ky,
        kx=kx,
        multiplicity=multiplicity,
    )


@functools.lru_cache(maxsize=64)
def _rfft_multiplicity(nx: int) -> np.ndarray:
    """How many modes of the full spectrum each ``rfft`` column stands for (1 or 2)."""
    multiplicity = np.full(nx // 2 + 1, 2.0)
    multiplicity[0] = 1.0
    if nx % 2 == 0:
        multiplicity[-1] = 1.0  # the Nyquist column is its own twin
    multiplicity.setflags(write=False)
    return multiplicity


@functools.lru_cache(maxsize=16)
def _hann_2d(ny: int, nx: int) -> np.ndarray:
    """Periodic (DFT-even) Hann window ``w[n] = sin²(π n / N)``, outer product over y and x.

    A one-point axis (a 1-D field) gets weight 1.
    """

    def hann(n: int) -> np.ndarray:
        return np.ones(1) if n == 1 else np.sin(np.pi * np.arange(n) / n) ** 2

    window = np.outer(hann(ny), hann(nx))
    window.setflags(write=False)
    return window


def _check_window(window: str | None) -> str | None:
    if window is None or window == "none":
        return None
    if window == "hann":
        return "hann"
    raise ValueError(f"unknown window {window!r}; valid: None (periodic field) or 'hann' (non-periodic field)")


def _mode_power(values: np.ndarray, window: str | None) -> np.ndarray:
    """Power of every FFT mode, summed over components, normalised so it sums to the variance.

    ``values`` has shape ``(batch, components, ny, nx)``; returns ``(batch, ny * (nx//2 + 1))``
    over the stored half-plane of modes, each counted with its conjugate twin.
    Without a window: ``P = |FFT(f - mean)|² / N²`` (Parseval: ``ΣP = variance``).
    With a window ``w``: ``P = |FFT((f - m_w) w)|² / (N Σw²)`` where ``m_w`` is the
    ``w``-weighted mean, so ``ΣP`` is the ``w²``-weighted variance (equal to the variance
    in expectation for a statistically homogeneous field).
    """
    batch, _, ny, nx = values.shape
    n_points = ny * nx
    if window is None:
        transformed = np.fft.rfft2(_anomaly(values))
        norm = float(n_points) ** 2
    else:
        weights = _hann_2d(ny, nx)
        weighted_mean = np.sum(values * weights, axis=(-2, -1), keepdims=True) / weights.sum()
        transformed = np.fft.rfft2((values - weighted_mean) * weights)
        norm = n_points * float(np.sum(weights**2))
    power = (transformed.real**2 + transformed.imag**2).sum(axis=1) * (_rfft_multiplicity(nx) / norm)
    return power.reshape(batch, -1)


def _radial_sum(mode_power: np.ndarray, grid: _SpectralGrid) -> np.ndarray:
    """Sum mode power into the radial bins: ``(batch, modes) -> (batch, n_bins)``."""
    batch = mode_power.shape[0]
    n_bins = grid.wavenumber.size
    index = (np.arange(batch)[:, None] * n_bins + grid.radial_bin[None, :]).ravel()
    return np.bincount(index, weights=mode_power.ravel(), minlength=batch * n_bins).reshape(batch, n_bins)


def _radial_spectrum_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    return _radial_sum(_mode_power(values, window), grid)


# --------------------------------------------------------------------------------------
# Spectra
# --------------------------------------------------------------------------------------


def radial_power_spectrum(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Radially binned power spectrum ``S(k)``, normalised so that ``Σ_k S(k)`` is the variance.

    The spatial mean is removed first, so the ``k = 0`` bin holds no power and the sum
    over all bins equals the field's (population) variance exactly (Parseval). Each bin
    holds the **summed** power of the FFT modes whose ``|k|`` rounds to it (a shell
    sum, not a mean): divide by the ``mode_count`` coordinate for the power per mode,
    which is flat for white noise.

    Parameters
    ----------
    field
        Array or DataArray with last two dims ``(y, x)``.
    dx, dy
        Grid spacing along x and y (override the coordinates; ``dy`` defaults to ``dx``
        when ``dx`` is given, else to the y coordinate's step; 1 without coordinates).
    window
        ``None`` (default): the field is periodic. ``"hann"``: multiply by a 2-D Hann
        window (after removing the window-weighted mean) for non-periodic fields; the
        power is divided by the window's mean square so that the sum over k is the
        window-weighted variance (equal to the variance in expectation).
    component_dims
        Leading dims summed over as components (default: every leading dim except
        ``"time"`` on a DataArray, none on a numpy array).

    Returns
    -------
    xarray.DataArray
        Dims ``(..., "wavenumber")``. Coordinates: ``wavenumber`` (bin centres ``j Δk``,
        cycles per length unit, ``Δk = min(1/(n_x dx), 1/(n_y dy))``, the finer resolution;
        a mode goes to the bin nearest its ``|k|``),
        ``relative_wavenumber`` (``k / k_Nyquist`` with ``k_Nyquist = min(1/(2dx),
        1/(2dy))``, so grids of different size compare) and ``mode_count``. Bins run up
        to the grid's corner ``|k|`` (about ``√2 k_Nyquist``): the corner modes keep
        their own bins (``relative_wavenumber > 1``) so Parseval holds with nothing
        folded.

    Raises
    ------
    ValueError
        If the field contains NaN or infinite values, or a coordinate is not uniform.

    Examples
    --------
    >>> import numpy as np
    >>> field = np.random.default_rng(0).normal(size=(32, 32))
    >>> spectrum = radial_power_spectrum(field)
    >>> bool(np.isclose(float(spectrum.sum()), field.var()))
    True
    """
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    window = _check_window(window)
    grid = _spectral_grid(*info.shape, info.dy, info.dx)
    spectrum = _apply(
        functools.partial(_radial_spectrum_kernel, grid=grid, window=window),
        info,
        ["wavenumber"],
        {"wavenumber": grid.wavenumber.size},
    )
    return _label_spectrum(spectrum, info, grid, window)


def _label_spectrum(spectrum: xr.DataArray, info: _FieldInfo, grid: _SpectralGrid, window: str | None) -> xr.DataArray:
    k_units = _wavenumber_units(info.length_units)
    spectrum = spectrum.assign_coords(
        wavenumber=("wavenumber", grid.wavenumber, {"long_name": "wavenumber", "units": k_units}),
        relative_wavenumber=(
            "wavenumber",
            grid.wavenumber / grid.nyquist,
            {"long_name": "wavenumber relative to the Nyquist wavenumber", "units": "1"},
        ),
        mode_count=("wavenumber", grid.mode_count, {"long_name": "number of Fourier modes in the bin", "units": "1"}),
    )
    spectrum.name = "power_spectrum"
    spectrum.attrs.update(
        long_name="radially summed power spectrum (sums to the variance)",
        units=_squared_units(info.field_units),
        window=str(window),
        length_units=info.length_units,
    )
    return spectrum


def _peak_wavenumber(spectrum: np.ndarray, wavenumber: np.ndarray) -> np.ndarray:
    """Wavenumber of the largest bin (k > 0) of each spectrum, refined by a parabola.

    The parabola goes through the logarithms of the peak bin and its two neighbours
    (Gaussian interpolation, exact for a Gaussian peak and far less biased than a
    parabola through the power itself for leaking sinusoids). A peak at the first or
    last bin is not refined. All-zero spectra give NaN.
    """
    batch, n_bins = spectrum.shape
    result = np.full(batch, np.nan)
    if n_bins < 2:
        return result
    positive = spectrum[:, 1:]
    bin_width = wavenumber[1] - wavenumber[0]
    for b in range(batch):
        row = positive[b]
        peak = int(np.argmax(row))
        height = row[peak]
        if not height > 0:
            continue
        offset = 0.0
        if 0 < peak < row.size - 1:
            floor = height * 1e-12
            left, centre, right = np.log(np.maximum(row[peak - 1 : peak + 2], floor))
            curvature = left - 2 * centre + right
            if curvature < 0:
                offset = float(np.clip(0.5 * (left - right) / curvature, -0.5, 0.5))
        result[b] = wavenumber[peak + 1] + offset * bin_width
    return result


def _dominant_wavelength_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    spectrum = _radial_sum(_mode_power(values, window), grid)
    spectrum[_is_constant(_anomaly(values), values)] = 0.0
    return 1.0 / _peak_wavenumber(spectrum, grid.wavenumber)


def dominant_wavelength(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Wavelength ``1/k`` at the peak of the radial power spectrum (``k = 0`` excluded).

    The peak bin is refined by a parabola through the log power of it and its two
    neighbours, so a plane wave whose wavelength does not divide the grid is still
    found to within a few percent (exactly when it does divide the grid).

    Parameters
    ----------
    field, dx, dy, window, component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Wavelength in the grid's length units, one per field (0-d for a single field;
        ``float(...)`` gives the number). NaN for a constant field.

    Examples
    --------
    >>> import numpy as np
    >>> wave = np.cos(2 * np.pi * np.arange(60) / 12)[None, :] * np.ones((30, 1))
    >>> float(dominant_wavelength(wave, dx=0.5))
    6.0
    """
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    return _spectral_scalar(
        info, _dominant_wavelength_kernel, window,
        "dominant_wavelength", "dominant wavelength (1/k at the spectral peak)", info.length_units,
    )  # fmt: skip


def _entropy_of_spectrum(spectrum: np.ndarray, mode_count: np.ndarray) -> np.ndarray:
    """Normalised Shannon entropy of the spectra's k > 0 bins that hold modes."""
    occupied = mode_count[1:] > 0
    positive = spectrum[:, 1:][:, occupied]
    n_bins = positive.shape[1]
    total = positive.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        probability = positive / total[:, None]
        probability[probability < _NEGLIGIBLE_FRACTION] = 0.0  # FFT rounding noise, not power
        terms = np.where(probability > 0, probability * np.log(np.where(probability > 0, probability, 1.0)), 0.0)
        entropy = (0.0 - terms.sum(axis=1) / math.log(n_bins)) if n_bins > 1 else np.zeros_like(total)
    entropy[~(total > 0)] = np.nan
    return entropy


def _spectral_entropy_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    spectrum = _radial_sum(_mode_power(values, window), grid)
    spectrum[_is_constant(_anomaly(values), values)] = 0.0
    return _entropy_of_spectrum(spectrum, grid.mode_count)


def spectral_entropy(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Normalised Shannon entropy of the radial power spectrum, in ``[0, 1]``.

    With ``p_j = S(k_j) / Σ S`` over the ``J`` bins with ``k > 0``,
    ``H = −Σ p_j log p_j / log J`` (bins with ``p_j < 1e-15``, FFT rounding noise, count
    as empty). A single plane wave that fits the grid gives ``H = 0``; power
    spread over all scales gives ``H`` near 1 (white noise: about 0.95, since its
    shell-summed power grows with ``k``).

    Parameters
    ----------
    field, dx, dy, window, component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Entropy per field; NaN for a constant field.
    """
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    return _spectral_scalar(info, _spectral_entropy_kernel, window, "spectral_entropy", "normalised spectral entropy", "1")


def _orientation(grid: _SpectralGrid) -> np.ndarray:
    """Orientation of each mode's wavevector in ``[0, π)`` (0: along +x)."""
    return np.mod(np.arctan2(grid.ky, grid.kx), np.pi)


def _orientation_bins(grid: _SpectralGrid, n_orientations: int) -> tuple[np.ndarray, np.ndarray]:
    """Orientation bin of every mode (bins centred on ``j π / n``) and the mask of modes with k ≠ 0."""
    bins = np.mod(np.floor(_orientation(grid) / (np.pi / n_orientations) + 0.5).astype(np.int64), n_orientations)
    return bins, (grid.kx != 0) | (grid.ky != 0)


def _is_line(values: np.ndarray) -> bool:
    """Whether the fields are 1-D (one point along y or x)."""
    return min(values.shape[-2:]) == 1


def _angular_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None, n_orientations: int) -> np.ndarray:
    if _is_line(values):  # orientation is not defined on a line
        return np.full((values.shape[0], n_orientations), np.nan)
    power = _mode_power(values, window)
    bins, nonzero = _orientation_bins(grid, n_orientations)
    batch = power.shape[0]
    index = (np.arange(batch)[:, None] * n_orientations + bins[None, nonzero]).ravel()
    return np.bincount(index, weights=power[:, nonzero].ravel(), minlength=batch * n_orientations).reshape(
        batch, n_orientations
    )


def angular_spectrum(
    field: _Field,
    *,
    n_orientations: int = 18,
    dx: float | None = None,
    dy: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Power by wavevector orientation (summed over ``k > 0``; sums to the variance).

    Orientation ``θ = atan2(k_y, k_x)`` folded into ``[0°, 180°)`` (a real field's
    spectrum is symmetric under ``k → −k``): ``0°`` is a wave varying along x
    (stripes parallel to y), ``90°`` one varying along y. Bins are centred on
    ``j · 180°/n_orientations``.

    Parameters
    ----------
    field, dx, dy, window, component_dims
        As in :func:`radial_power_spectrum`.
    n_orientations
        Number of orientation bins.

    Returns
    -------
    xarray.DataArray
        Dims ``(..., "orientation")``, coordinate in degrees, with ``mode_count``. All
        NaN for a 1-D field (every wavevector lies along the line: orientation is not
        defined).
    """
    if int(n_orientations) != n_orientations or n_orientations < 1:
        raise ValueError(f"n_orientations must be a positive integer; got {n_orientations!r}")
    n_orientations = int(n_orientations)
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    window = _check_window(window)
    grid = _spectral_grid(*info.shape, info.dy, info.dx)
    result = _apply(
        functools.partial(_angular_kernel, grid=grid, window=window, n_orientations=n_orientations),
        info,
        ["orientation"],
        {"orientation": n_orientations},
    )
    bins, nonzero = _orientation_bins(grid, n_orientations)
    result = result.assign_coords(
        orientation=("orientation", np.arange(n_orientations) * 180.0 / n_orientations, {"long_name": "wavevector orientation", "units": "degree"}),
        mode_count=("orientation", np.bincount(bins[nonzero], weights=grid.multiplicity[nonzero], minlength=n_orientations), {"long_name": "number of Fourier modes in the bin", "units": "1"}),
    )
    result.name = "angular_spectrum"
    result.attrs.update(long_name="power by wavevector orientation", units=_squared_units(info.field_units), window=str(window))
    return result


def _anisotropy_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    if _is_line(values):  # orientation is not defined on a line
        return np.full(values.shape[0], np.nan)
    power = _mode_power(values, window)
    power[_is_constant(_anomaly(values), values)] = 0.0
    phase = np.exp(2j * _orientation(grid))
    phase[(grid.kx == 0) & (grid.ky == 0)] = 0.0
    total = power.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        strength = np.abs(power @ phase) / total
    strength[~(total > 0)] = np.nan
    return np.clip(strength, 0.0, 1.0)


def anisotropy(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Orientational order of the spectrum: ``|Σ P(k) e^{2iθ_k}| / Σ P(k)`` in ``[0, 1]``.

    The vector strength of the doubled wavevector orientations, weighted by power
    (doubling makes ``θ`` and ``θ + π`` the same orientation). Stripes (one
    orientation) give 1; isotropic fields (noise, labyrinths, spots on a hexagonal
    or square lattice) give values near 0. On a square grid with ``dx = dy`` the
    set of modes is symmetric, so equal power in every mode gives 0 (up to the
    unpaired Nyquist corner); on other grids white noise shows a small bias.

    Parameters
    ----------
    field, dx, dy, window, component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Anisotropy per field; NaN for a constant field, and for a 1-D field (all
        wavevectors lie along the line: orientation is not defined, and 1 would say
        nothing about the pattern).
    """
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    return _spectral_scalar(
        info, _anisotropy_kernel, window, "anisotropy", "spectral anisotropy (orientational vector strength)", "1"
    )


# --------------------------------------------------------------------------------------
# Real-space metrics
# --------------------------------------------------------------------------------------


def _cv_kernel(values: np.ndarray) -> np.ndarray:
    mean = values.mean(axis=(-2, -1))  # (batch, components)
    anomaly = values - mean[..., None, None]
    total_std = np.sqrt(np.sum(anomaly**2, axis=(1, 2, 3)) / (values.shape[-2] * values.shape[-1]))
    mean_norm = np.sqrt(np.sum(mean**2, axis=1))
    constant = _is_constant(anomaly, values)
    rms = np.sqrt(np.mean(values**2, axis=(1, 2, 3)) * values.shape[1])
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
        Array or DataArray with last two dims ``(y, x)``.
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
    denominator = np.sum(anomaly**2, axis=(1, 2, 3))
    ny, nx = values.shape[-2:]
    if periodic:  # undirected rook links on the torus (on the ring, for a 1-D field)
        zero = np.zeros(values.shape[0])
        pairs_x = np.sum(anomaly * np.roll(anomaly, -1, axis=-1), axis=(1, 2, 3)) if nx > 1 else zero
        pairs_y = np.sum(anomaly * np.roll(anomaly, -1, axis=-2), axis=(1, 2, 3)) if ny > 1 else zero
        n_links = (ny * nx if nx > 1 else 0) + (ny * nx if ny > 1 else 0)
    else:
        pairs_x = np.sum(anomaly[..., :, 1:] * anomaly[..., :, :-1], axis=(1, 2, 3))
        pairs_y = np.sum(anomaly[..., 1:, :] * anomaly[..., :-1, :], axis=(1, 2, 3))
        n_links = ny * (nx - 1) + nx * (ny - 1)
    n_points = ny * nx
    # I = (N / W) Σ_ij w_ij z_i z_j / Σ_i z_i², with W = 2 n_links (each link counted both ways)
    with np.errstate(divide="ignore", invalid="ignore"):
        moran = (n_points / (2 * n_links)) * 2 * (pairs_x + pairs_y) / denominator
    moran[_is_constant(anomaly, values)] = np.nan
    return moran


def morans_i(
    field: _Field,
    *,
    periodic: bool = True,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    r"""Moran's I with rook (4-neighbour) weights.

    .. math:: I = \frac{N}{W} \frac{\sum_{ij} w_{ij} z_i z_j}{\sum_i z_i^2},\quad z = f - \bar f,

    with ``w_ij = 1`` for rook neighbours (wrapping around on the periodic grid) and
    ``W = Σ w_ij``. A checkerboard gives −1, a smooth field approaches +1, white noise
    about 0. For a vector field the numerators and the denominators are each summed
    over components. Independent of the grid spacing. On a 1-D field the neighbours
    are the two along the line (a ring when periodic): a sampled cosine of wavelength
    ``λ`` points gives ``cos(2π/λ)``.

    Parameters
    ----------
    field
        Array or DataArray with last two dims ``(y, x)``.
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
    info = _prepare(field, component_dims=component_dims)
    result = _apply(functools.partial(_morans_kernel, periodic=bool(periodic)), info)
    return _scalar_result(result, "morans_i", "Moran's I (rook weights)", "1")


@functools.lru_cache(maxsize=32)
def _lag_bins(ny: int, nx: int, dy: float, dx: float, periodic: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Radial lag bins of the autocorrelation grid.

    Returns (bin index per lag or −1 if beyond half the shorter side, mean radius per
    bin, overlap count per lag for the non-periodic normalisation, shape of the lag grid).
    """
    shape = (ny, nx) if periodic else (2 * ny, 2 * nx)
    lag_y = np.fft.fftfreq(shape[0], d=1.0 / shape[0])
    lag_x = np.fft.fftfreq(shape[1], d=1.0 / shape[1])
    lag_y, lag_x = np.meshgrid(lag_y, lag_x, indexing="ij")
    radius = np.hypot(lag_y * dy, lag_x * dx)
    axes = _axes_with_extent(ny, nx, dy, dx)
    width = max(d for _, d in axes)
    max_radius = 0.5 * min(n * d for n, d in axes)
    index = np.floor(radius / width + 0.5).astype(np.int64)
    index[radius > max_radius] = -1
    if not periodic:
        overlap = (ny - np.abs(lag_y)) * (nx - np.abs(lag_x))
        index[overlap <= 0] = -1
    else:
        overlap = np.ones(shape)
    n_bins = int(index.max()) + 1
    inside = index >= 0
    counts = np.bincount(index[inside], minlength=n_bins)
    mean_radius = np.bincount(index[inside], weights=radius[inside], minlength=n_bins) / np.maximum(counts, 1)
    return index.ravel(), mean_radius, np.maximum(overlap, 1).ravel(), np.array(shape)


def _correlation_length_kernel(values: np.ndarray, dy: float, dx: float, periodic: bool) -> np.ndarray:
    batch, _, ny, nx = values.shape
    anomaly = _anomaly(values)
    index, radius, overlap, shape = _lag_bins(ny, nx, dy, dx, periodic)
    transformed = np.fft.fft2(anomaly, s=tuple(shape))
    autocovariance = np.fft.ifft2((transformed.real**2 + transformed.imag**2).sum(axis=1)).real
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
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Lag at which the radially averaged autocorrelation first falls below ``1/e``.

    The autocorrelation ``C(r) = ⟨z(p) z(p + r)⟩ / ⟨z²⟩`` (``z`` the anomaly; summed over
    components for a vector field) is computed by FFT — circularly on the periodic grid,
    or with zero padding and per-lag overlap normalisation when ``periodic=False`` — then
    averaged over lags in rings of width ``max(dx, dy)`` (each ring at its mean radius)
    and linearly interpolated at the first crossing of ``1/e``.

    Parameters
    ----------
    field, dx, dy, component_dims
        As in :func:`radial_power_spectrum`.
    periodic
        Wrap the field around (default) or treat it as bounded.

    Returns
    -------
    xarray.DataArray
        Correlation length in length units. ``inf`` when ``C`` stays above ``1/e``
        out to half the shorter side of the domain (half the line's length for a 1-D
        field; correlated across the domain); NaN for a constant field.
    """
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    result = _apply(
        functools.partial(_correlation_length_kernel, dy=info.dy, dx=info.dx, periodic=bool(periodic)),
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
    variance = np.sum(anomaly**2, axis=(1, 2, 3))
    constant = _is_constant(anomaly, values)
    scores = np.full((values.shape[0], len(SYMMETRIES)), np.nan)
    if periodic:
        spectrum = np.conj(np.fft.fft2(anomaly))
    defined = set(SYMMETRIES)
    if _is_line(values):  # a line: only the mirror along it is a symmetry that is not trivial
        defined = {"mirror_x"} if values.shape[-2] == 1 else {"mirror_y"}
    elif not square:
        defined.discard("rotation_90")
    for column, symmetry in enumerate(SYMMETRIES):
        if symmetry not in defined:
            continue
        image = _transform(anomaly, symmetry)
        if periodic:
            cross = np.fft.ifft2(spectrum * np.fft.fft2(image)).real.sum(axis=1)
            covariance = cross.reshape(cross.shape[0], -1).max(axis=1)
        else:
            covariance = np.sum(anomaly * image, axis=(1, 2, 3))
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

    Parameters
    ----------
    field, dx, dy, component_dims
        As in :func:`radial_power_spectrum` (spacing only matters for ``rotation_90``).
    periodic
        Search all axis/centre positions on the torus (default) or use the centre.

    Returns
    -------
    xarray.DataArray
        Dims ``(..., "symmetry")``; NaN everywhere for a constant field.
    """
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    ny, nx = info.shape
    square = ny == nx and math.isclose(info.dy, info.dx, rel_tol=1e-9)
    result = _apply(
        functools.partial(_symmetry_kernel, periodic=bool(periodic), square=square),
        info,
        ["symmetry"],
        {"symmetry": len(SYMMETRIES)},
    )
    result = result.assign_coords(symmetry=("symmetry", list(SYMMETRIES)))
    return _scalar_result(result, "symmetry_score", "correlation with the transformed field", "1")


def _rms_kernel(values: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(values**2, axis=(1, 2, 3)) / (values.shape[-2] * values.shape[-1]))


def distance_from_reference(
    field: _Field,
    reference: _Field | float | None = None,
    *,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Root-mean-square distance of the field from a reference state.

    ``d = sqrt(mean_{y,x} Σ_c (f_c − r_c)²)``. Without a reference, ``r`` is the
    field's own spatial mean, so ``d`` is its total standard deviation (0 for a
    homogeneous field) — how far the state is from homogeneity.

    Parameters
    ----------
    field
        Array or DataArray with last two dims ``(y, x)``.
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
    info = _prepare(field, component_dims=component_dims)
    data = info.data
    if reference is None:
        difference = data - data.mean(dim=[info.y_dim, info.x_dim])
    else:
        if not isinstance(reference, xr.DataArray):
            array = np.asarray(reference)
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


# --------------------------------------------------------------------------------------
# Surrogate test
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurrogateResult:
    """Outcome of :func:`surrogate_test`.

    Attributes
    ----------
    p_value
        ``(1 + #{surrogates with max_k S ≥ the field's max_k S}) / (n_surrogates + 1)``,
        per field. Small: spatially structured beyond chance.
    spectrum
        The field's radial power spectrum (as :func:`radial_power_spectrum`).
    band_low, band_high
        2.5th and 97.5th percentiles of the surrogates' spectra, per wavenumber.
    """

    p_value: xr.DataArray
    spectrum: xr.DataArray
    band_low: xr.DataArray
    band_high: xr.DataArray


#: Surrogates transformed per FFT batch (bounds memory at this many copies of the field).
_SURROGATE_BATCH = 16


def _surrogate_kernel(
    values: np.ndarray, grid: _SpectralGrid, window: str | None, n_surrogates: int, seed: int
) -> np.ndarray:
    batch, n_components, ny, nx = values.shape
    n_bins = grid.wavenumber.size
    output = np.empty((batch, 1 + 3 * n_bins))
    constant = _is_constant(_anomaly(values), values)
    for b in range(batch):
        spectrum = _radial_sum(_mode_power(values[b : b + 1], window), grid)[0]
        if constant[b]:
            spectrum[:] = 0.0
        # the same permutations for every field: results do not depend on dask chunking
        rng = np.random.default_rng(seed)
        pixels = values[b].reshape(n_components, ny * nx)
        surrogate_spectra = np.empty((n_surrogates, n_bins))
        for start in range(0, n_surrogates, _SURROGATE_BATCH):
            count = min(_SURROGATE_BATCH, n_surrogates - start)
            order = np.stack([rng.permutation(ny * nx) for _ in range(count)])
            shuffled = np.moveaxis(pixels[:, order], 0, 1).reshape(count, n_components, ny, nx)
            surrogate_spectra[start : start + count] = _radial_sum(_mode_power(shuffled, window), grid)
        if constant[b]:
            surrogate_spectra[:] = 0.0
        observed = spectrum[1:].max() if n_bins > 1 else 0.0
        # relative tolerance: a surrogate equal to the field up to rounding counts as "at least as large"
        peaks = surrogate_spectra[:, 1:].max(axis=1) if n_bins > 1 else np.zeros(n_surrogates)
        exceed = np.count_nonzero(peaks >= observed * (1 - 1e-12))
        output[b, 0] = (1 + exceed) / (n_surrogates + 1)
        output[b, 1 : 1 + n_bins] = spectrum
        output[b, 1 + n_bins : 1 + 2 * n_bins] = np.percentile(surrogate_spectra, 2.5, axis=0)
        output[b, 1 + 2 * n_bins :] = np.percentile(surrogate_spectra, 97.5, axis=0)
    return output


def surrogate_test(
    field: _Field,
    *,
    n_surrogates: int = 99,
    seed: int = 0,
    dx: float | None = None,
    dy: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> SurrogateResult:
    """Test for spatial structure against spatially shuffled copies of the field.

    Each surrogate is a random permutation of the field's pixels (the values at a
    pixel, all components together, move as one): it keeps the value distribution
    and destroys all spatial structure. The statistic is the height of the highest
    bin (``k > 0``) of the radial power spectrum; the Monte-Carlo p-value is
    ``(1 + #{surrogates whose peak ≥ the field's}) / (n_surrogates + 1)``, exact
    under the null hypothesis "the pixels are exchangeable", so white noise gives a
    uniformly distributed p-value and a pattern gives ``1 / (n_surrogates + 1)``.

    Parameters
    ----------
    field, dx, dy, window, component_dims
        As in :func:`radial_power_spectrum`.
    n_surrogates
        Number of shuffled copies (the smallest reachable p-value is ``1/(n+1)``).
    seed
        Seed of the permutations; every field of a batch uses the same permutations,
        so the result does not depend on how a dask array is chunked.

    Returns
    -------
    SurrogateResult
        ``p_value`` (per field; 1 for a constant field), ``spectrum``, ``band_low``,
        ``band_high`` (2.5 % and 97.5 % of the surrogate spectra).
    """
    if int(n_surrogates) != n_surrogates or n_surrogates < 1:
        raise ValueError(f"n_surrogates must be a positive integer; got {n_surrogates!r}")
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    window = _check_window(window)
    grid = _spectral_grid(*info.shape, info.dy, info.dx)
    n_bins = grid.wavenumber.size
    packed = _apply(
        functools.partial(_surrogate_kernel, grid=grid, window=window, n_surrogates=int(n_surrogates), seed=int(seed)),
        info,
        ["surrogate_output"],
        {"surrogate_output": 1 + 3 * n_bins},
    )
    p_value = _scalar_result(
        packed.isel(surrogate_output=0, drop=True), "surrogate_p_value", "p-value against shuffled surrogates", "1"
    )
    p_value.attrs["n_surrogates"] = int(n_surrogates)

    def band(start: int) -> xr.DataArray:
        part = packed.isel(surrogate_output=slice(start, start + n_bins)).rename(surrogate_output="wavenumber")
        return _label_spectrum(part.drop_vars("surrogate_output", errors="ignore"), info, grid, window)

    low, high = band(1 + n_bins), band(1 + 2 * n_bins)
    low.name, high.name = "surrogate_band_low", "surrogate_band_high"
    low.attrs["long_name"] = "2.5th percentile of the shuffled surrogates' spectra"
    high.attrs["long_name"] = "97.5th percentile of the shuffled surrogates' spectra"
    return SurrogateResult(p_value=p_value, spectrum=band(1), band_low=low, band_high=high)


# --------------------------------------------------------------------------------------
# All metrics at once
# --------------------------------------------------------------------------------------


def _homogeneity_kernel(
    values: np.ndarray,
    grid: _SpectralGrid,
    window: str | None,
    periodic: bool,
    dy: float,
    dx: float,
    n_surrogates: int,
    seed: int,
) -> np.ndarray:
    spectrum = _radial_sum(_mode_power(values, window), grid)
    spectrum[_is_constant(_anomaly(values), values)] = 0.0
    columns = [
        1.0 / _peak_wavenumber(spectrum, grid.wavenumber),
        _entropy_of_spectrum(spectrum, grid.mode_count),
        _cv_kernel(values),
        _morans_kernel(values, periodic),
        _anisotropy_kernel(values, grid, window),
        _correlation_length_kernel(values, dy, dx, periodic),
    ]
    if n_surrogates > 0:
        columns.append(_surrogate_kernel(values, grid, window, n_surrogates, seed)[:, 0])
    else:
        columns.append(np.full(values.shape[0], np.nan))
    return np.stack(columns, axis=1)


def homogeneity_metrics(
    field: _Field,
    *,
    periodic: bool = True,
    n_surrogates: int = 99,
    seed: int = 0,
    dx: float | None = None,
    dy: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> dict[str, Any]:
    """All scalar pattern metrics of a field, computed in one pass.

    Parameters
    ----------
    field, dx, dy, component_dims
        As in :func:`radial_power_spectrum`.
    periodic
        ``True`` (default): periodic field, no window. ``False``: the spectral
        metrics use a Hann window and the real-space ones treat the edges as bounded.
    n_surrogates, seed
        As in :func:`surrogate_test`; ``n_surrogates=0`` skips the test
        (``surrogate_p_value`` is then NaN).

    Returns
    -------
    dict
        Keys exactly :data:`HOMOGENEITY_KEYS`: ``dominant_wavelength``,
        ``spectral_entropy``, ``coefficient_of_variation``, ``morans_i``,
        ``anisotropy``, ``correlation_length``, ``surrogate_p_value``. Values are
        ``float`` for a single field (computed now) and DataArrays over the leading
        dims otherwise (lazy for dask input).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(32)
    >>> metrics = homogeneity_metrics(np.cos(2 * np.pi * x / 8)[None, :] * np.ones((32, 1)), n_surrogates=19)
    >>> metrics["dominant_wavelength"], metrics["surrogate_p_value"]
    (8.0, 0.05)
    """
    if int(n_surrogates) != n_surrogates or n_surrogates < 0:
        raise ValueError(f"n_surrogates must be a non-negative integer; got {n_surrogates!r}")
    info = _prepare(field, dx=dx, dy=dy, component_dims=component_dims)
    grid = _spectral_grid(*info.shape, info.dy, info.dx)
    packed = _apply(
        functools.partial(
            _homogeneity_kernel,
            grid=grid,
            window=None if periodic else "hann",
            periodic=bool(periodic),
            dy=info.dy,
            dx=info.dx,
            n_surrogates=int(n_surrogates),
            seed=int(seed),
        ),
        info,
        ["metric"],
        {"metric": len(HOMOGENEITY_KEYS)},
    )
    if packed.ndim == 1:
        values = np.asarray(packed.values, dtype=float)
        return {key: float(value) for key, value in zip(HOMOGENEITY_KEYS, values)}
    units = {"dominant_wavelength": info.length_units, "correlation_length": info.length_units}
    metrics = {}
    for position, key in enumerate(HOMOGENEITY_KEYS):
        metric = packed.isel(metric=position, drop=True)
        metrics[key] = _scalar_result(metric, key, key.replace("_", " "), units.get(key, "1"))
    return metrics
