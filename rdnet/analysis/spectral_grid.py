"""The spectral geometry of a grid: wavevectors of its real-FFT modes, radial bins, windows, mode power.

Everything here depends only on the grid's shape and spacing and is cached per grid.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from rdnet.analysis.fields import _anomaly


#: Window names accepted by the spectral functions.
WINDOWS = (None, "hann")


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
