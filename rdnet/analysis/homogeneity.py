"""All scalar pattern metrics of a field in one pass (:func:`homogeneity_metrics`)."""

from __future__ import annotations

import functools
from typing import Any, Iterable

import numpy as np

from rdnet.analysis.fields import _anomaly, _apply, _check_count, _check_flag, _Field, _is_constant, _prepare, _scalar_result
from rdnet.analysis.metric_names import HOMOGENEITY_KEYS, LENGTH_METRICS
from rdnet.analysis.real_space import _correlation_length_kernel, _cv_kernel, _morans_kernel
from rdnet.analysis.spectra import _anisotropy_kernel, _entropy_of_spectrum, _peak_wavelength
from rdnet.analysis.spectral_grid import _mode_power, _radial_sum, _spectral_grid, _SpectralGrid
from rdnet.analysis.surrogates import _surrogate_kernel

__all__ = ["homogeneity_metrics"]


def _homogeneity_kernel(
    values: np.ndarray,
    grid: _SpectralGrid,
    window: str | None,
    periodic: bool,
    spacing: tuple[float, ...],
    n_surrogates: int,
    seed: int,
) -> np.ndarray:
    power = _mode_power(values, window)
    spectrum = _radial_sum(power, grid)
    spectrum[_is_constant(_anomaly(values), values)] = 0.0
    columns = [
        _peak_wavelength(power, spectrum, grid),
        _entropy_of_spectrum(spectrum, grid.mode_count),
        _cv_kernel(values),
        _morans_kernel(values, periodic),
        _anisotropy_kernel(values, grid, window),
        _correlation_length_kernel(values, spacing, periodic),
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
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> dict[str, Any]:
    """All scalar pattern metrics of a field, computed in one pass.

    Parameters
    ----------
    field, dx, dy, dz, component_dims
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
    periodic = _check_flag("periodic", periodic)
    n_surrogates = _check_count("n_surrogates", n_surrogates, 0)
    seed = _check_count("seed", seed, 0)
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    grid = _spectral_grid(info.shape, info.spacing)
    packed = _apply(
        functools.partial(
            _homogeneity_kernel,
            grid=grid,
            window=None if periodic else "hann",
            periodic=bool(periodic),
            spacing=info.spacing,
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
    metrics = {}
    for position, key in enumerate(HOMOGENEITY_KEYS):
        metric = packed.isel(metric=position, drop=True)
        units = info.length_units if key in LENGTH_METRICS else "1"
        metrics[key] = _scalar_result(metric, key, key.replace("_", " "), units)
    return metrics
