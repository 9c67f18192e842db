"""Spectra of a field and the scalars read from them: radial and angular spectrum, dominant
wavelength, spectral entropy, anisotropy. 2-D fields ``(y, x)`` and 3-D fields ``(z, y, x)``
alike: the radial spectrum bins the magnitude of the 2-D or 3-D wavevector."""

from __future__ import annotations

import functools
import math
from typing import Callable, Iterable

import numpy as np
import xarray as xr

from rdnet.analysis.fields import (
    _anomaly,
    _apply,
    _Field,
    _FieldInfo,
    _extent_dimension,
    _is_constant,
    _prepare,
    _scalar_result,
    _squared_units,
    _wavenumber_units,
)
from rdnet.analysis.spectral_grid import (
    _check_window,
    _mode_power,
    _radial_centroid,
    _radial_sum,
    _spectral_grid,
    _SpectralGrid,
)

__all__ = ["radial_power_spectrum", "dominant_wavelength", "spectral_entropy", "angular_spectrum", "anisotropy"]


#: A spectral bin holding less than this fraction of the power is rounding noise (entropy).
_NEGLIGIBLE_FRACTION = 1e-15


def _spectral_scalar(info, kernel, window, name: str, long_name: str, units: str) -> xr.DataArray:
    """Apply a per-field spectral kernel (``kernel(values, grid, window)``) and label the scalar result."""
    window = _check_window(window)
    grid = _spectral_grid(info.shape, info.spacing)
    result = _apply(functools.partial(kernel, grid=grid, window=window), info)
    return _scalar_result(result, name, long_name, units)


def _radial_spectrum_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    return _radial_sum(_mode_power(values, window), grid)


def radial_power_spectrum(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Radially binned power spectrum ``S(k)``, normalised so that ``Σ_k S(k)`` is the variance.

    The spatial mean is removed first, so the ``k = 0`` bin holds no power and the sum
    over all bins equals the field's (population) variance exactly (Parseval). Each bin
    holds the **summed** power of the FFT modes whose ``|k|`` rounds to it (a shell
    sum, not a mean): divide by the ``mode_count`` coordinate for the power per mode,
    which is flat for white noise. On a 3-D field ``|k| = sqrt(k_z² + k_y² + k_x²)``:
    the bins are spherical shells.

    Parameters
    ----------
    field
        Array or DataArray with last dims ``(y, x)``, or ``(z, y, x)`` for a 3-D field
        (a DataArray whose dim before the last two is named ``z``; a numpy array's last
        two axes are always ``(y, x)``, wrap a 3-D one as
        ``xr.DataArray(a, dims=("z", "y", "x"))``).
    dx, dy, dz
        Grid spacing along x, y and z (override the coordinates; ``dy`` and ``dz``
        default to ``dx`` when ``dx`` is given, else to their coordinate's step; 1
        without coordinates). ``dz`` is refused for a 2-D field.
    window
        ``None`` (default): the field is periodic. ``"hann"``: multiply by a Hann
        window (the outer product over the spatial axes) (after removing the window-weighted mean) for non-periodic fields; the
        power is divided by the window's mean square so that the sum over k is the
        window-weighted variance (equal to the variance in expectation).
    component_dims
        Leading dims summed over as components (default: every leading dim except
        ``"time"`` on a DataArray, none on a numpy array).

    Returns
    -------
    xarray.DataArray
        Dims ``(..., "wavenumber")``. Coordinates: ``wavenumber`` (bin centres ``j Δk``,
        cycles per length unit, ``Δk = min(1/(n_x dx), 1/(n_y dy)[, 1/(n_z dz)])``, the
        finest resolution; a mode goes to the bin nearest its ``|k|``),
        ``relative_wavenumber`` (``k / k_Nyquist`` with ``k_Nyquist = min(1/(2dx),
        1/(2dy)[, 1/(2dz)])``, so grids of different size compare) and ``mode_count``.
        Bins run up to the grid's corner ``|k|`` (about ``√2 k_Nyquist`` in 2-D, ``√3``
        in 3-D): the corner modes keep their own bins (``relative_wavenumber > 1``) so
        Parseval holds with nothing folded.

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
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    window = _check_window(window)
    grid = _spectral_grid(info.shape, info.spacing)
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


def _peak_wavenumber(spectrum: np.ndarray, wavenumber: np.ndarray,
                     centroid: Callable[[int], np.ndarray] | None = None) -> np.ndarray:  # fmt: skip
    """Wavenumber of the largest bin (k > 0) of each spectrum, refined by a parabola.

    The parabola goes through the logarithms of the power at the peak bin and its neighbours
    (Gaussian interpolation, exact for a Gaussian peak and far less biased than a parabola
    through the power itself for leaking sinusoids) and moves the peak at most halfway to
    either. When both adjacent bins hold power (at least 1e-12 of the peak's) the bins stand at
    their centres. Otherwise the bins stand at ``centroid(b)`` (spectrum ``b``'s power-weighted mean
    ``|k|`` of each bin's modes, :func:`~rdnet.analysis.spectral_grid._radial_centroid`, computed only
    for a spectrum that needs it), and the
    neighbours are the nearest bins on either side that hold power: on a grid with
    ``n_y dy ≠ n_x dx`` the bins follow the finer resolution, so modes along the shorter side
    fill only some bins, each up to half a bin off its centre; a bin within half a bin of the
    peak holds the same line (spread off the axis by a window) and is passed over. A peak with
    no such bin on one side (one plane wave: its power is one mode) is not refined, nor one at
    the first bin. All-zero spectra give NaN.
    """
    batch, n_bins = spectrum.shape
    result = np.full(batch, np.nan)
    if n_bins < 2:
        return result
    positive = spectrum[:, 1:]
    for b in range(batch):
        row = positive[b]
        peak = int(np.argmax(row))
        height = row[peak]
        if not height > 0:
            continue
        holding = np.flatnonzero(row > height * 1e-12)
        below, above = holding[holding < peak], holding[holding > peak]
        adjacent = below.size > 0 and below[-1] == peak - 1 and above.size > 0 and above[0] == peak + 1
        if adjacent or centroid is None:
            positions = wavenumber[1:]
        else:
            centres = centroid(b)[1:]
            positions = np.where(np.isfinite(centres), centres, wavenumber[1:])
        result[b] = positions[peak]
        if not adjacent:  # a bin within half a bin of the peak holds the same line's power, spread by a window
            apart = np.abs(positions[holding] - positions[peak]) >= 0.5 * (wavenumber[1] - wavenumber[0])
            below, above = holding[apart & (holding < peak)], holding[apart & (holding > peak)]
        if peak == 0 or below.size == 0 or above.size == 0:
            continue
        neighbours = [below[-1], peak, above[0]]
        (k_left, k_centre, k_right), (left, centre, right) = positions[neighbours], np.log(row[neighbours])
        slope_left, slope_right = (centre - left) / (k_centre - k_left), (right - centre) / (k_right - k_centre)
        curvature = (slope_right - slope_left) / (k_right - k_left)
        if curvature < 0:
            vertex = 0.5 * (k_left + k_centre) - 0.5 * slope_left / curvature
            result[b] = float(np.clip(vertex, 0.5 * (k_left + k_centre), 0.5 * (k_centre + k_right)))
    return result


def _peak_wavelength(power: np.ndarray, spectrum: np.ndarray, grid: _SpectralGrid) -> np.ndarray:
    """Dominant wavelength of each radial ``spectrum`` (``_radial_sum`` of the modes' ``power``)."""

    def centroid(b: int) -> np.ndarray:
        return _radial_centroid(power[b : b + 1], spectrum[b : b + 1], grid)[0]

    return 1.0 / _peak_wavenumber(spectrum, grid.wavenumber, centroid)


def _dominant_wavelength_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    power = _mode_power(values, window)
    spectrum = _radial_sum(power, grid)
    spectrum[_is_constant(_anomaly(values), values)] = 0.0
    return _peak_wavelength(power, spectrum, grid)


def dominant_wavelength(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Wavelength ``1/k`` at the peak of the radial power spectrum (``k = 0`` excluded).

    The peak bin is refined by a parabola through the log power of it and its two
    neighbours, so a plane wave whose wavelength does not divide the grid is still
    found to within a few percent (exactly when it does divide the grid).

    Parameters
    ----------
    field, dx, dy, dz, window, component_dims
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
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
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
    dz: float | None = None,
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
    field, dx, dy, dz, window, component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Entropy per field; NaN for a constant field.
    """
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    return _spectral_scalar(info, _spectral_entropy_kernel, window, "spectral_entropy", "normalised spectral entropy", "1")


def _orientation_axes(grid: _SpectralGrid) -> tuple[np.ndarray, np.ndarray]:
    """The two wavevector components an orientation is measured in: those of the plane's two axes.

    A plane is the two axes with extent; otherwise (a line or a volume, where the angular
    spectrum is NaN) the last two axes ``(y, x)``, which only label the bins.
    """
    extended = grid.extended_wavevector
    return extended if len(extended) == 2 else grid.wavevector[-2:]


def _orientation_bins(grid: _SpectralGrid, n_orientations: int) -> tuple[np.ndarray, np.ndarray]:
    """Orientation bin of every mode (bins centred on ``j π / n``) and the mask of modes with k ≠ 0.

    The orientation is ``atan2(k_y, k_x)`` folded into ``[0, π)`` (0: along +x).
    """
    k_first, k_second = _orientation_axes(grid)
    orientation = np.mod(np.arctan2(k_first, k_second), np.pi)
    bins = np.mod(np.floor(orientation / (np.pi / n_orientations) + 0.5).astype(np.int64), n_orientations)
    return bins, (k_first != 0) | (k_second != 0)


def _angular_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None, n_orientations: int) -> np.ndarray:
    if _extent_dimension(grid.shape) != 2:  # one angle orients a wavevector only in a plane
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
    dz: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Power by wavevector orientation (summed over ``k > 0``; sums to the variance).

    Orientation ``θ = atan2(k_y, k_x)`` folded into ``[0°, 180°)`` (a real field's
    spectrum is symmetric under ``k → −k``): ``0°`` is a wave varying along x
    (stripes parallel to y), ``90°`` one varying along y. Bins are centred on
    ``j · 180°/n_orientations``. Defined on a plane: a 2-D field, or a 3-D one with a
    single point along one axis (then measured in the plane of the two other axes).

    Parameters
    ----------
    field, dx, dy, dz, window, component_dims
        As in :func:`radial_power_spectrum`.
    n_orientations
        Number of orientation bins.

    Returns
    -------
    xarray.DataArray
        Dims ``(..., "orientation")``, coordinate in degrees, with ``mode_count``. All
        NaN for a 1-D field (every wavevector lies along the line: orientation is not
        defined) and for a 3-D field (a direction in space takes two angles; its
        orientational order is :func:`anisotropy`).
    """
    if int(n_orientations) != n_orientations or n_orientations < 1:
        raise ValueError(f"n_orientations must be a positive integer; got {n_orientations!r}")
    n_orientations = int(n_orientations)
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    window = _check_window(window)
    grid = _spectral_grid(info.shape, info.spacing)
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
    extended = grid.extended_wavevector
    dimension = len(extended)
    if dimension < 2:  # orientation is not defined on a line
        return np.full(values.shape[0], np.nan)
    power = _mode_power(values, window)
    power[_is_constant(_anomaly(values), values)] = 0.0
    wavevector = np.stack(extended, axis=1)  # (modes, D)
    magnitude = np.linalg.norm(wavevector, axis=1)
    nonzero = magnitude > 0
    direction = wavevector[nonzero] / magnitude[nonzero, None]
    power = power[:, nonzero]
    total = power.sum(axis=1)
    # power-weighted second moment of the wavevector directions, M = Σ P k̂ k̂ᵀ / Σ P ...
    with np.errstate(divide="ignore", invalid="ignore"):
        moment = np.einsum("bm,mi,mj->bij", power, direction, direction) / total[:, None, None]
    moment[~(total > 0)] = 0.0
    # ... made traceless and scaled so that one direction gives 1: Q = (D M − I) / (D − 1)
    order = (dimension * moment - np.eye(dimension)) / (dimension - 1)
    strength = np.linalg.eigvalsh(order)[:, -1]
    strength[~(total > 0)] = np.nan
    return np.clip(strength, 0.0, 1.0)


def anisotropy(
    field: _Field,
    *,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Orientational order of the spectrum in ``[0, 1]``: the largest eigenvalue of its order tensor.

    With ``M = Σ P(k) k̂ k̂ᵀ / Σ P(k)`` over ``k ≠ 0`` (``k̂`` the unit wavevector over
    the ``D`` axes with extent), the order tensor is ``Q = (D M − I) / (D − 1)`` and the
    anisotropy its largest eigenvalue. In 2-D this is exactly the vector strength of
    the doubled orientations, ``|Σ P(k) e^{2iθ_k}| / Σ P(k)``; in 3-D it is the nematic
    order parameter of the wavevectors. One wavevector direction (stripes; lamellae in
    3-D) gives 1; isotropic fields (noise, labyrinths, spots on a hexagonal or square
    lattice; spots or a gyroid in 3-D) give values near 0; in 3-D, tubes along one
    axis (wavevectors isotropic in the plane across it) give 1/4. On a square or cubic
    grid with equal spacings the set of modes is symmetric, so equal power in every
    mode gives 0 (up to the unpaired Nyquist modes); on other grids white noise shows
    a small bias.

    Parameters
    ----------
    field, dx, dy, dz, window, component_dims
        As in :func:`radial_power_spectrum`.

    Returns
    -------
    xarray.DataArray
        Anisotropy per field; NaN for a constant field, and for a 1-D field (all
        wavevectors lie along the line: orientation is not defined, and 1 would say
        nothing about the pattern).
    """
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    return _spectral_scalar(
        info, _anisotropy_kernel, window, "anisotropy", "spectral anisotropy (orientational order of the wavevectors)", "1"
    )
