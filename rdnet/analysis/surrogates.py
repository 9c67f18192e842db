"""Significance test against spatially shuffled surrogates: is there structure beyond chance?"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import xarray as xr

from rdnet.analysis.fields import _anomaly, _apply, _check_count, _Field, _is_constant, _n_points, _prepare, _scalar_result
from rdnet.analysis.spectra import _label_spectrum
from rdnet.analysis.spectral_grid import _check_window, _mode_power, _radial_sum, _spectral_grid, _SpectralGrid

__all__ = ["SurrogateResult", "surrogate_test"]


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
    batch, n_components = values.shape[:2]
    spatial_shape = values.shape[2:]
    n_points = _n_points(values)
    n_bins = grid.wavenumber.size
    output = np.empty((batch, 1 + 3 * n_bins))
    constant = _is_constant(_anomaly(values), values)
    for b in range(batch):
        spectrum = _radial_sum(_mode_power(values[b : b + 1], window), grid)[0]
        if constant[b]:
            spectrum[:] = 0.0
        # the same permutations for every field: results do not depend on dask chunking
        rng = np.random.default_rng(seed)
        pixels = values[b].reshape(n_components, n_points)
        surrogate_spectra = np.empty((n_surrogates, n_bins))
        for start in range(0, n_surrogates, _SURROGATE_BATCH):
            count = min(_SURROGATE_BATCH, n_surrogates - start)
            order = np.stack([rng.permutation(n_points) for _ in range(count)])
            shuffled = np.moveaxis(pixels[:, order], 0, 1).reshape(count, n_components, *spatial_shape)
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
    dz: float | None = None,
    window: str | None = None,
    component_dims: Iterable[str] | None = None,
) -> SurrogateResult:
    """Test for spatial structure against spatially shuffled copies of the field.

    Each surrogate is a random permutation of the field's pixels (voxels in 3-D; the
    values at a pixel, all components together, move as one): it keeps the value distribution
    and destroys all spatial structure. The statistic is the height of the highest
    bin (``k > 0``) of the radial power spectrum; the Monte-Carlo p-value is
    ``(1 + #{surrogates whose peak ≥ the field's}) / (n_surrogates + 1)``, exact
    under the null hypothesis "the pixels are exchangeable", so white noise gives a
    uniformly distributed p-value and a pattern gives ``1 / (n_surrogates + 1)``.

    Parameters
    ----------
    field, dx, dy, dz, window, component_dims
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
    n_surrogates = _check_count("n_surrogates", n_surrogates, 1)
    seed = _check_count("seed", seed, 0)
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    window = _check_window(window)
    grid = _spectral_grid(info.shape, info.spacing)
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
