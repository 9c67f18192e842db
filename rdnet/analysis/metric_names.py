"""Names of the scalar pattern metrics: the one list every caller uses.

This module imports nothing, so the command line and the sweep can name the metrics
(table columns, summary variables) without importing xarray.
"""

from __future__ import annotations

__all__ = ["HOMOGENEITY_KEYS", "LENGTH_METRICS", "MORPHOLOGY_KEYS", "MORPHOLOGY_DETAIL_KEYS", "LABEL_KEYS", "metric_units", "extent_ndim"]


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

#: The metrics that are lengths, in the units of the grid coordinates (the others are pure numbers).
LENGTH_METRICS: tuple[str, ...] = ("dominant_wavelength", "correlation_length")

#: The morphology metrics every table, summary and command shows (a subset of
#: :data:`MORPHOLOGY_DETAIL_KEYS`), in display order.
MORPHOLOGY_KEYS = (
    "area_fraction",
    "boundary_length",
    "euler_characteristic",
    "components",
    "mean_component_size",
    "orientation_order",
)

#: Keys of the dictionary returned by :func:`morphology_metrics`, in order.
MORPHOLOGY_DETAIL_KEYS = (
    "threshold",
    "area_fraction",
    "boundary_length",
    "mean_curvature",
    "euler_characteristic",
    "euler_number",
    "components",
    "components_low",
    "mean_component_size",
    "mean_component_size_low",
    "orientation_order",
    "stripe_fraction",
    "stripe_ends",
    "stripe_junctions",
    "defects",
)

#: The two labels: the pattern's regime (:func:`pattern_regime`) and its time behaviour.
LABEL_KEYS = ("regime", "time_behaviour")

#: The power of length in each morphology metric's units, for a field of ``ndim`` spatial dims.
_LENGTH_POWER = {
    "boundary_length": lambda ndim: -1,
    "mean_curvature": lambda ndim: -2,
    "euler_characteristic": lambda ndim: -ndim,
    "mean_component_size": lambda ndim: ndim,
    "mean_component_size_low": lambda ndim: ndim,
    "dominant_wavelength": lambda ndim: 1,
    "correlation_length": lambda ndim: 1,
}


def extent_ndim(shape) -> int:
    """The number of spatial axes of ``shape`` with more than one cell (1 for a single cell).

    The ``ndim`` of :func:`metric_units`: per-area metrics are per length on a ``512 x 1`` grid
    and per volume on a 3-D one.

    Examples
    --------
    >>> extent_ndim((64, 1)), extent_ndim((12, 12, 12)), extent_ndim((1, 1))
    (1, 3, 1)
    """
    return sum(int(n) > 1 for n in shape) or 1


def metric_units(key: str, length_units: str, ndim: int = 2) -> str:
    """Units of a metric given the grid's length units: ``"1/m"``, ``"m^2"``, or ``"1"``.

    Examples
    --------
    >>> metric_units("euler_characteristic", "mm"), metric_units("mean_component_size", "m", ndim=3)
    ('1/mm^2', 'm^3')
    """
    power = _LENGTH_POWER.get(key, lambda ndim: 0)(ndim)
    if power == 0 or length_units in ("", "1"):
        return "1"
    magnitude = length_units if abs(power) == 1 else f"{length_units}^{abs(power)}"
    return magnitude if power > 0 else f"1/{magnitude}"
