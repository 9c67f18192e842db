"""Pattern statistics as differentiable torch functions, and the fit's distance between two patterns.

A simulated pattern grown from other noise than the observed one is shifted and
rearranged, so the two are compared **in law**, through statistics invariant under
translations and rotations. Each is the torch twin of a definition of
:mod:`rdnet.analysis` (same bins, same normalisation; the tests hold them equal):

* :func:`radial_power_spectrum` — :func:`rdnet.analysis.radial_power_spectrum`
  (Parseval-normalised shell sums, optional Hann window): the scale of the pattern;
* :func:`value_quantiles` — :func:`numpy.quantile` (linear interpolation): the
  histogram of values (mean, amplitude, skewness: spots against holes);
* :func:`boundary_length` — the Crofton boundary length per area of the high phase
  ``{f > t}`` of :func:`rdnet.analysis.morphology_metrics` (``softness = 0``); with
  ``softness > 0`` the indicator is the sigmoid ``σ((f − t)/softness)``, differentiable.
  At fixed area fractions it separates spots from stripes of one wavelength (a
  labyrinth has less boundary per area than spots of the same size and spacing).

:class:`PatternDistance` holds the target's statistics and turns a batch of simulated
fields into a vector of weighted residuals ``r`` whose squared norm is the loss:

``spectrum``
    The cumulative normalised spectrum ``C(k) = Σ_{k' ≤ k} S(k') / Σ S`` at every bin
    up to the Nyquist wavenumber. Comparing cumulative distributions (a Cramér–von
    Mises distance) gives a gradient even when the two spectral peaks do not overlap,
    which a bin-by-bin difference of spectra does not. Weight ``1/√J`` over ``J`` bins.
``quantiles``
    The values at ``M`` evenly spaced probability levels; the sum of their squared
    differences is ``M`` times the squared 2-Wasserstein distance between the two
    histograms. Weight ``1/(σ_target √M)``.
``boundary``
    Soft boundary lengths at the target's quartiles (fixed thresholds), relative to
    the target's mean boundary length. Weight ``1/(L̄_target √T)``.

With ``standardise`` each field is first shifted and scaled to zero mean and unit
variance (for targets in arbitrary units: a photograph's grey levels).

The Euler characteristic and the component counts are left out: they are
piecewise constant in the field values, so their gradient is zero almost everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "radial_power_spectrum",
    "spectrum_wavenumbers",
    "value_quantiles",
    "boundary_length",
    "StatisticsSettings",
    "PatternDistance",
    "BLOCKS",
]

#: the residual blocks, in the order of the residual vector
BLOCKS = ("spectrum", "quantiles", "boundary")


def radial_power_spectrum(fields, *, spacing: tuple[float, float], window: str | None = None):
    """Radially summed power spectrum of a batch of 2-D fields, differentiable.

    The torch twin of :func:`rdnet.analysis.radial_power_spectrum`: the mean (or, with
    the Hann window, the window-weighted mean) removed, power of every FFT mode
    normalised so that the bins sum to the variance, summed into the same radial bins.

    Parameters
    ----------
    fields
        Tensor ``(B, ny, nx)``.
    spacing
        ``(dy, dx)``.
    window
        ``None`` (periodic fields) or ``"hann"``.

    Returns
    -------
    torch.Tensor
        ``(B, n_bins)``; the bins' wavenumbers are :func:`spectrum_wavenumbers`.
    """
    import torch

    from rdnet.analysis.spectral_grid import _check_window, _hann, _rfft_multiplicity, _spectral_grid

    window = _check_window(window)
    shape = tuple(fields.shape[-2:])
    grid = _spectral_grid(shape, tuple(float(d) for d in spacing))
    n_points = shape[0] * shape[1]
    if window is None:
        anomaly = fields - fields.mean(dim=(-2, -1), keepdim=True)
        norm = float(n_points) ** 2
    else:
        weights = torch.tensor(_hann(shape), dtype=fields.dtype, device=fields.device)
        weighted_mean = (fields * weights).sum(dim=(-2, -1), keepdim=True) / weights.sum()
        anomaly = (fields - weighted_mean) * weights
        norm = n_points * float(np.sum(_hann(shape) ** 2))
    transformed = torch.fft.rfftn(anomaly, dim=(-2, -1))
    multiplicity = torch.as_tensor(_rfft_multiplicity(shape[-1]) / norm, dtype=fields.dtype, device=fields.device)
    power = (transformed.real**2 + transformed.imag**2) * multiplicity
    bins = torch.tensor(grid.radial_bin, device=fields.device)
    spectrum = torch.zeros((fields.shape[0], grid.wavenumber.size), dtype=fields.dtype, device=fields.device)
    return spectrum.index_add(1, bins, power.reshape(fields.shape[0], -1))


def spectrum_wavenumbers(shape: tuple[int, int], spacing: tuple[float, float]) -> tuple[np.ndarray, float]:
    """The bin centres (cycles per length) of :func:`radial_power_spectrum` on a grid, and its Nyquist wavenumber."""
    from rdnet.analysis.spectral_grid import _spectral_grid

    grid = _spectral_grid(tuple(shape), tuple(float(d) for d in spacing))
    return grid.wavenumber, grid.nyquist


def value_quantiles(fields, levels):
    """Quantiles of every field's values, differentiable (``numpy.quantile``'s linear method).

    Parameters
    ----------
    fields
        Tensor ``(B, ...)``.
    levels
        Probability levels in ``[0, 1]`` (a sequence or 1-D tensor).

    Returns
    -------
    torch.Tensor
        ``(B, len(levels))``.
    """
    import torch

    values = torch.sort(fields.reshape(fields.shape[0], -1), dim=1).values
    n = values.shape[1]
    position = torch.as_tensor(np.asarray(levels, dtype=np.float64) * (n - 1), dtype=torch.float64)
    below = torch.clamp(torch.floor(position).long(), 0, n - 1)
    above = torch.clamp(below + 1, 0, n - 1)
    fraction = (position - below).to(values.dtype).to(values.device)
    low = values[:, below.to(values.device)]
    high = values[:, above.to(values.device)]
    return low + fraction * (high - low)


def boundary_length(fields, thresholds, *, spacing: tuple[float, float], periodic: bool = True,
                    softness: float = 0.0):  # fmt: skip
    """Boundary length per area of the high phase ``{f > t}`` of 2-D fields (Crofton), at several thresholds.

    With ``softness = 0`` this is the ``boundary_length`` of
    :func:`rdnet.analysis.morphology_metrics` (the phase changes between neighbouring
    cells along the 4 lattice directions, each per unit line length, weighted by the
    direction's share of the circle, times ``π/2``). With ``softness > 0`` the indicator
    of the high phase is ``σ((f − t)/softness)`` and a phase change counts
    ``|σ_a − σ_b|``: differentiable in the field, and equal to the sharp count where no
    value lies within a few ``softness`` of ``t``.

    Parameters
    ----------
    fields
        Tensor ``(B, ny, nx)``.
    thresholds
        ``T`` thresholds (same for every field).
    spacing
        ``(dy, dx)``.
    periodic
        Neighbours wrap around the edges; otherwise only the pairs inside the grid count.
    softness
        Width of the sigmoid, in the field's units.

    Returns
    -------
    torch.Tensor
        ``(B, T)``, in 1/length.
    """
    import torch

    from rdnet.analysis.morphology import _crofton_directions

    levels = torch.as_tensor(np.asarray(thresholds, dtype=np.float64), dtype=fields.dtype, device=fields.device)
    expanded = fields[:, None, :, :] - levels[None, :, None, None]  # (B, T, ny, nx)
    if softness > 0:
        phase = torch.sigmoid(expanded / softness)
    else:
        phase = (expanded > 0).to(fields.dtype)
    directions, lengths, weights = _crofton_directions(tuple(float(d) for d in spacing))
    total = None
    ny, nx = fields.shape[-2:]
    for (sy, sx), length, weight in zip(directions, lengths, weights):
        if periodic:
            first, second = phase, torch.roll(phase, (-sy, -sx), dims=(-2, -1))
        else:
            first = phase[..., max(0, -sy): ny - max(0, sy), max(0, -sx): nx - max(0, sx)]
            second = phase[..., max(0, sy): ny - max(0, -sy), max(0, sx): nx - max(0, -sx)]
        cells = first.shape[-1] * first.shape[-2]
        if cells == 0:
            continue
        changes = (first - second).abs().sum(dim=(-2, -1)) * (float(weight) / (cells * float(length)))
        total = changes if total is None else total + changes
    return (math.pi / 2) * total


@dataclass(frozen=True)
class StatisticsSettings:
    """How two patterns are compared.

    Parameters
    ----------
    periodic
        The fields are periodic: no window on the spectrum, boundaries wrap around.
        Otherwise (a photograph, another code's bounded domain) both the target and the
        simulated fields are seen through a Hann window and without wrap-around.
    standardise
        Compare the fields after scaling each to zero mean and unit variance (targets
        whose values are in other units than the model's).
    n_quantiles
        Levels of the histogram's quantile function.
    boundary_levels
        Probability levels of the target whose values are the boundary thresholds.
    softness
        Width of the soft threshold, in standard deviations of the target.
    """

    periodic: bool = True
    standardise: bool = False
    n_quantiles: int = 32
    boundary_levels: tuple[float, ...] = (0.25, 0.5, 0.75)
    softness: float = 0.25

    @property
    def quantile_levels(self) -> np.ndarray:
        """The probability levels ``(m + 1/2)/M``."""
        return (np.arange(self.n_quantiles) + 0.5) / self.n_quantiles


def _standardised(fields):
    import torch

    anomaly = fields - fields.mean(dim=(-2, -1), keepdim=True)
    scale = torch.sqrt(anomaly.square().mean(dim=(-2, -1), keepdim=True))
    return anomaly / scale.clamp_min(torch.finfo(fields.dtype).tiny ** 0.5)


class PatternDistance:
    """The target's statistics, and the weighted residuals of simulated fields against them.

    Parameters
    ----------
    target
        The observed field ``(ny, nx)`` on the simulation grid.
    spacing
        ``(dy, dx)`` of that grid.
    settings
        See :class:`StatisticsSettings`.

    Attributes
    ----------
    target_statistics : numpy.ndarray
        The target's statistic vector ``s_t``.
    scale : numpy.ndarray
        The weight of every statistic: the residual is ``scale · (s − s_t)``.
    blocks : dict
        Name -> slice of the statistic vector (:data:`BLOCKS`).
    """

    def __init__(self, target: np.ndarray, *, spacing: tuple[float, float], settings: StatisticsSettings) -> None:
        import torch

        self.settings = settings
        self.spacing = (float(spacing[0]), float(spacing[1]))
        self.shape = tuple(int(n) for n in np.shape(target))
        wavenumber, nyquist = spectrum_wavenumbers(self.shape, self.spacing)
        #: spectral bins k > 0 up to the Nyquist wavenumber (the corners hold few modes)
        self.n_spectral = int(np.count_nonzero((wavenumber > 0) & (wavenumber <= nyquist * (1 + 1e-12))))
        field = torch.as_tensor(np.asarray(target, dtype=np.float64))[None]
        if settings.standardise:
            field = _standardised(field)
        values = field.numpy()[0]
        deviation = float(values.std())
        self.thresholds = np.quantile(values, settings.boundary_levels)
        self.softness = settings.softness * deviation
        self.target_statistics = self._statistics(field).numpy()[0]
        boundary = self.target_statistics[self.blocks["boundary"]]
        boundary_scale = float(np.mean(boundary)) if np.mean(boundary) > 0 else 1.0 / min(self.spacing)
        self.scale = np.concatenate([
            np.full(self.n_spectral, 1.0 / math.sqrt(self.n_spectral)),
            np.full(settings.n_quantiles, 1.0 / (deviation * math.sqrt(settings.n_quantiles))),
            np.full(len(settings.boundary_levels), 1.0 / (boundary_scale * math.sqrt(len(settings.boundary_levels)))),
        ])  # fmt: skip

    @property
    def blocks(self) -> dict[str, slice]:
        """Name -> slice of the statistic vector."""
        sizes = (self.n_spectral, self.settings.n_quantiles, len(self.settings.boundary_levels))
        ends = np.cumsum(sizes)
        return {name: slice(int(end - size), int(end)) for name, size, end in zip(BLOCKS, sizes, ends)}

    @property
    def size(self) -> int:
        """Length of the statistic vector."""
        return self.n_spectral + self.settings.n_quantiles + len(self.settings.boundary_levels)

    def _statistics(self, fields):
        import torch

        settings = self.settings
        window = None if settings.periodic else "hann"
        spectrum = radial_power_spectrum(fields, spacing=self.spacing, window=window)[:, 1:]
        total = spectrum.sum(dim=1, keepdim=True).clamp_min(torch.finfo(fields.dtype).tiny)
        cumulative = torch.cumsum(spectrum[:, : self.n_spectral], dim=1) / total
        quantiles = value_quantiles(fields, settings.quantile_levels)
        boundary = boundary_length(fields, self.thresholds, spacing=self.spacing, periodic=settings.periodic,
                                   softness=self.softness)  # fmt: skip
        return torch.cat([cumulative, quantiles, boundary], dim=1)

    def statistics(self, fields):
        """The statistic vector of each field: ``(B, ny, nx)`` -> ``(B, size)`` (differentiable)."""
        if tuple(fields.shape[-2:]) != self.shape:
            raise ValueError(f"fields of shape {tuple(fields.shape[-2:])}, the target is {self.shape}")
        if self.settings.standardise:
            fields = _standardised(fields)
        return self._statistics(fields)

    def residuals(self, statistics) -> Any:
        """``scale · (s − s_t)`` for statistic vectors ``(..., size)`` (torch or numpy)."""
        if hasattr(statistics, "detach"):
            import torch

            target = torch.as_tensor(self.target_statistics, dtype=statistics.dtype, device=statistics.device)
            scale = torch.as_tensor(self.scale, dtype=statistics.dtype, device=statistics.device)
            return (statistics - target) * scale
        return (np.asarray(statistics) - self.target_statistics) * self.scale
