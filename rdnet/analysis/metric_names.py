"""Names of the scalar pattern metrics: the one list every caller uses.

This module imports nothing, so the command line and the sweep can name the metrics
(table columns, summary variables) without importing xarray.
"""

from __future__ import annotations

__all__ = ["HOMOGENEITY_KEYS", "LENGTH_METRICS"]


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
