"""The spectral geometry of a grid: wavevectors of its real-FFT modes, radial bins, windows, mode power.

Everything here depends only on the grid's shape and spacing (2-D ``(ny, nx)`` or 3-D
``(nz, ny, nx)``) and is cached per grid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rdnet.analysis.fields import _anomaly, _n_points, _spatial_axes


#: Window names accepted by the spectral functions.
WINDOWS = (None, "hann")


@dataclass(frozen=True)
class _SpectralGrid:
    """Wavevectors of a grid's real-FFT modes and their radial bins.

    Only the half-space ``k_x ≥ 0`` of a real field's spectrum is stored (``rfftn`` over
    the spatial axes, the last one halved); ``multiplicity`` counts each stored mode's
    conjugate twin, so sums over stored modes weighted by it are sums over all modes.
    """

    shape: tuple[int, ...]  # (ny, nx) or (nz, ny, nx)
    radial_bin: np.ndarray  # (n_modes,) bin index of each stored mode
    wavenumber: np.ndarray  # (n_bins,) bin centres, cycles per length unit
    mode_count: np.ndarray  # (n_bins,) modes per bin (of the full spectrum)
    nyquist: float
    wavevector: tuple[np.ndarray, ...]  # one (n_modes,) component per spatial axis, in axis order
    multiplicity: np.ndarray  # (n_modes,) 1 or 2
    mode_wavenumber: np.ndarray  # (n_modes,) |k| of each stored mode

    @property
    def extended_wavevector(self) -> tuple[np.ndarray, ...]:
        """The wavevector components along the axes with more than one point (a 1-D field has one)."""
        return tuple(k for k, n in zip(self.wavevector, self.shape) if n > 1)


#: Most radial bins of a spectrum. The bin width follows the finest wavenumber resolution,
#: so a grid whose spacings differ by a factor r gets about r times more bins than
#: points along a side: a 4096² grid with r = 1000 needs ~2·10⁶, while a corrupt file's
#: coordinates (spacings 1 and 2**30) would ask for ~10⁹ bins and exhaust memory.
MAX_RADIAL_BINS = 2**24


def _axes_with_extent(shape: tuple[int, ...], spacing: tuple[float, ...]) -> list[tuple[int, float]]:
    """``(points, spacing)`` of the axes with more than one point (just one for a 1-D field)."""
    return [(n, d) for n, d in zip(shape, spacing) if n > 1]


@functools.lru_cache(maxsize=64)
def _spectral_grid(shape: tuple[int, ...], spacing: tuple[float, ...]) -> _SpectralGrid:
    """The modes of a grid of ``shape`` points with ``spacing`` per axis (2-D or 3-D, last axis x)."""
    frequencies = [np.fft.fftfreq(n, d=d) for n, d in zip(shape[:-1], spacing[:-1])]
    frequencies.append(np.fft.rfftfreq(shape[-1], d=spacing[-1]))
    wavevector = tuple(k.ravel() for k in np.meshgrid(*frequencies, indexing="ij"))
    half_shape = (*shape[:-1], shape[-1] // 2 + 1)
    multiplicity = np.broadcast_to(_rfft_multiplicity(shape[-1]), half_shape).ravel().copy()
    # the finest of the resolutions (of the axes with extent: one for a 1-D field)
    axes = _axes_with_extent(shape, spacing)
    bin_width = min(1.0 / (n * d) for n, d in axes)
    mode_wavenumber = functools.reduce(np.hypot, wavevector)
    radial_bin = np.floor(mode_wavenumber / bin_width + 0.5).astype(np.int64)
    n_bins = int(radial_bin.max()) + 1
    if n_bins > MAX_RADIAL_BINS:
        spacings = ", ".join(f"{d:.6g}" for d in spacing)
        along = "z, y and x" if len(spacing) == 3 else "y and x"
        raise ValueError(
            f"the grid spacings along {along} ({spacings}) differ too much for a radial spectrum "
            f"({n_bins} radial bins for a {'x'.join(map(str, shape))} grid); resample to comparable spacings"
        )
    mode_count = np.bincount(radial_bin, weights=multiplicity, minlength=n_bins)
    for array in (radial_bin, mode_count, multiplicity, mode_wavenumber, *wavevector):
        array.setflags(write=False)
    return _SpectralGrid(
        shape=tuple(shape),
        radial_bin=radial_bin,
        wavenumber=np.arange(n_bins) * bin_width,
        mode_count=mode_count,
        nyquist=min(0.5 / d for _, d in axes),
        wavevector=wavevector,
        multiplicity=multiplicity,
        mode_wavenumber=mode_wavenumber,
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
def _hann(shape: tuple[int, ...]) -> np.ndarray:
    """Periodic (DFT-even) Hann window ``w[n] = sin²(π n / N)``, outer product over the axes.

    A one-point axis (a 1-D field) gets weight 1.
    """

    def hann(n: int) -> np.ndarray:
        return np.ones(1) if n == 1 else np.sin(np.pi * np.arange(n) / n) ** 2

    window = functools.reduce(np.multiply.outer, [hann(n) for n in shape])
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

    ``values`` has shape ``(batch, components, *spatial)``; returns ``(batch, n_modes)``
    over the stored half-space of modes, each counted with its conjugate twin.
    Without a window: ``P = |FFT(f - mean)|² / N²`` (``N`` grid points; Parseval:
    ``ΣP = variance``). With a window ``w``: ``P = |FFT((f - m_w) w)|² / (N Σw²)`` where
    ``m_w`` is the ``w``-weighted mean, so ``ΣP`` is the ``w²``-weighted variance (equal to
    the variance in expectation for a statistically homogeneous field).
    """
    batch = values.shape[0]
    axes = _spatial_axes(values)
    n_points = _n_points(values)
    if window is None:
        transformed = np.fft.rfftn(_anomaly(values), axes=axes)
        norm = float(n_points) ** 2
    else:
        weights = _hann(values.shape[2:])
        weighted_mean = np.sum(values * weights, axis=axes, keepdims=True) / weights.sum()
        transformed = np.fft.rfftn((values - weighted_mean) * weights, axes=axes)
        norm = n_points * float(np.sum(weights**2))
    power = (transformed.real**2 + transformed.imag**2).sum(axis=1) * (_rfft_multiplicity(values.shape[-1]) / norm)
    return power.reshape(batch, -1)


def _radial_centroid(mode_power: np.ndarray, spectrum: np.ndarray, grid: _SpectralGrid) -> np.ndarray:
    """Power-weighted mean ``|k|`` of each radial bin's modes: ``(batch, n_bins)``, NaN where a bin holds no power.

    ``spectrum`` is ``_radial_sum(mode_power, grid)``. A bin's modes lie within half a bin of its
    centre; off a square grid (``n_y dy ≠ n_x dx``) or off the axes they rarely sit on it.
    """
    weighted = _radial_sum(mode_power * grid.mode_wavenumber, grid)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spectrum > 0, weighted / spectrum, np.nan)


def _radial_sum(mode_power: np.ndarray, grid: _SpectralGrid) -> np.ndarray:
    """Sum mode power into the radial bins: ``(batch, modes) -> (batch, n_bins)``."""
    batch = mode_power.shape[0]
    n_bins = grid.wavenumber.size
    index = (np.arange(batch)[:, None] * n_bins + grid.radial_bin[None, :]).ravel()
    return np.bincount(index, weights=mode_power.ravel(), minlength=batch * n_bins).reshape(batch, n_bins)
