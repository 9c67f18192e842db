"""Spectra of a field and the scalars read from them: radial and angular spectrum, dominant
wavelength, spectral entropy, anisotropy."""

from __future__ import annotations

import functools
import math
from typing import Iterable

import numpy as np
import xarray as xr

from rdnet.analysis.fields import (
    _anomaly,
    _apply,
    _Field,
    _FieldInfo,
    _is_constant,
    _is_line,
    _prepare,
    _scalar_result,
    _squared_units,
    _wavenumber_units,
)
from rdnet.analysis.spectral_grid import _check_window, _mode_power, _radial_sum, _spectral_grid, _SpectralGrid

__all__ = ["radial_power_spectrum", "dominant_wavelength", "spectral_entropy", "angular_spectrum", "anisotropy"]


#: A spectral bin holding less than this fraction of the power is rounding noise (entropy).
_NEGLIGIBLE_FRACTION = 1e-15


def _spectral_scalar(info, kernel, window, name: str, long_name: str, units: str) -> xr.DataArray:
    """Apply a per-field spectral kernel (``kernel(values, grid, window)``) and label the scalar result."""
    window = _check_window(window)
    grid = _spectral_grid(*info.shape, info.dy, info.dx)
    result = _apply(functools.partial(kernel, grid=grid, window=window), info)
    return _scalar_result(result, name, long_name, units)


def _radial_spectrum_kernel(values: np.ndarray, grid: _SpectralGrid, window: str | None) -> np.ndarray:
    return _radial_sum(_mode_power(values, window), grid)


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
