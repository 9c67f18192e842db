"""Name what a pattern is: ``homogeneous``, ``spots``, ``holes``, ``stripes`` or ``mixed``.

The rule uses four numbers anyone can check on a picture of the field, cut at its
spatial mean into the high phase ``{f > mean}`` and the low phase:

* whether there is a pattern at all: the surrogate test's p-value (spatial structure
  beyond chance, :func:`~rdnet.analysis.surrogate_test`) and the field's standard deviation
  against its mean (not round-off);
* the **stripe fraction** ``s`` (:func:`~rdnet.analysis.morphology.morphology_metrics`): the
  share of the grid where the local nematic order of the gradient directions exceeds 1/2 —
  near 1 for stripes and labyrinths, near 0 for spots and holes, between for a mixture;
* the **Euler fraction** ``e = χ / (N₊ + N₋)``: the Euler characteristic of the high phase
  over the number of connected components of both phases. Spots are many high-phase
  components in one connected background: ``χ ≈ N₊``, ``N₋ = 1``, ``e ≈ 1``. Holes are the
  negative: ``χ ≈ −N₋``, ``e ≈ −1``. Stripes around the torus have ``χ = 0``.

The rule, tried in order (constants of this module):

1. ``homogeneous`` — ``p ≥ PATTERN_P_VALUE`` (0.05), or ``std ≤ PATTERN_RELATIVE_AMPLITUDE ·
   |mean| + PATTERN_ABSOLUTE_AMPLITUDE`` (1e-3, 1e-6): no structure beyond chance, or none
   beyond round-off (white noise is homogeneous: its pixels are exchangeable);
   ``undetermined`` — a field above round-off without a test that could say whether its
   structure is beyond chance: no surrogate test (``p`` NaN), or fewer than
   ``MIN_PATTERN_SURROGATES`` (20) surrogates, whose smallest p-value ``1/(n + 1)`` is never
   below 0.05;
2. ``stripes`` — ``s ≥ STRIPES_FRACTION`` (0.7), labyrinths included;
3. ``spots`` — ``s < SPOTS_FRACTION`` (0.3) and ``e ≥ SPOTS_EULER`` (0.5);
4. ``holes`` — ``s < SPOTS_FRACTION`` and ``e ≤ −SPOTS_EULER``;
5. ``mixed`` — anything else: spots beside stripes, worms, or a pattern between classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Iterable

import numpy as np

from rdnet.analysis.fields import _check_flag, _Field

__all__ = [
    "REGIMES",
    "PATTERN_P_VALUE",
    "PATTERN_RELATIVE_AMPLITUDE",
    "PATTERN_ABSOLUTE_AMPLITUDE",
    "STRIPES_FRACTION",
    "SPOTS_FRACTION",
    "SPOTS_EULER",
    "MIN_PATTERN_SURROGATES",
    "Regime",
    "check_pattern_surrogates",
    "classify_regime",
    "pattern_regime",
    "pattern_summary",
    "is_pattern",
]

#: The labels of :func:`pattern_regime`, in the order the rule tries them.
REGIMES = ("homogeneous", "stripes", "spots", "holes", "mixed", "undetermined")
#: A pattern needs the surrogate test to reject "no spatial structure" at this level ...
PATTERN_P_VALUE = 0.05
#: ... which it can only with at least this many surrogates (its smallest p-value is 1/(n + 1))
MIN_PATTERN_SURROGATES = math.floor(1 / PATTERN_P_VALUE - 1) + 1
#: ... and a standard deviation above this fraction of the mean's magnitude ...
PATTERN_RELATIVE_AMPLITUDE = 1e-3
#: ... plus this absolute floor (a decayed homogeneous state keeps only round-off structure).
PATTERN_ABSOLUTE_AMPLITUDE = 1e-6
#: Stripes: at least this share of the grid is striped (local order above 1/2).
STRIPES_FRACTION = 0.7
#: Spots or holes: less than this share of the grid is striped ...
SPOTS_FRACTION = 0.3
#: ... and an Euler fraction of at least this (spots) or at most its negative (holes).
SPOTS_EULER = 0.5


@dataclass(frozen=True)
class Regime:
    """A regime label and the numbers that decided it.

    Attributes
    ----------
    label
        One of :data:`REGIMES`.
    evidence
        ``surrogate_p_value``, ``field_std``, ``field_mean``, ``orientation_order``,
        ``stripe_fraction``, ``euler_number`` (χ of the high phase), ``components`` and ``components_low``
        (``N₊``, ``N₋``) and ``euler_fraction`` (``χ / (N₊ + N₋)``).
    reason
        The rule that decided, in words.
    """

    label: str
    evidence: dict[str, float] = dataclass_field(default_factory=dict)
    reason: str = ""


def check_pattern_surrogates(n_surrogates: int) -> None:
    """Refuse a surrogate count that can never label a pattern: 1 to ``MIN_PATTERN_SURROGATES − 1``.

    The test's smallest p-value is ``1/(n + 1)``; below :data:`MIN_PATTERN_SURROGATES` it is at
    least :data:`PATTERN_P_VALUE`, so every field, stripes included, would be called homogeneous.
    0 (no test) is allowed. :func:`classify_regime` labels a field above round-off
    ``undetermined`` with either, and ``rdnet analyze``/``compare`` print this message as a note.

    Raises
    ------
    ValueError
        With the smallest reachable p-value and the counts that work.
    """
    if 0 < n_surrogates < MIN_PATTERN_SURROGATES:
        raise ValueError(
            f"{n_surrogates} surrogates cannot label a pattern: their smallest p-value is "
            f"1/{n_surrogates + 1} = {1 / (n_surrogates + 1):.3g}, never below {PATTERN_P_VALUE}; "
            f"use {MIN_PATTERN_SURROGATES} or more"
        )


def _round_off_floor(field_mean: float) -> float:
    """The standard deviation at or below which a field holds only round-off structure."""
    return PATTERN_RELATIVE_AMPLITUDE * abs(field_mean) + PATTERN_ABSOLUTE_AMPLITUDE


def is_pattern(surrogate_p_value: float, field_std: float, field_mean: float) -> bool:
    """Whether a field shows a pattern: structure beyond chance and beyond round-off.

    ``p < PATTERN_P_VALUE`` and ``std > PATTERN_RELATIVE_AMPLITUDE · |mean| +
    PATTERN_ABSOLUTE_AMPLITUDE``; a NaN p-value (no test) is no evidence of a pattern.
    """
    if not math.isfinite(surrogate_p_value):
        return False
    return bool(surrogate_p_value < PATTERN_P_VALUE and field_std > _round_off_floor(field_mean))


def classify_regime(
    *,
    surrogate_p_value: float,
    field_std: float,
    field_mean: float,
    orientation_order: float,
    stripe_fraction: float,
    euler_number: float,
    components: float,
    components_low: float,
    n_surrogates: int | None = None,
) -> Regime:
    """Apply the documented rule (see the module) to measured numbers.

    Parameters
    ----------
    surrogate_p_value, field_std, field_mean
        The surrogate test's p-value and the field's spatial standard deviation and mean.
    orientation_order, stripe_fraction
        As :func:`~rdnet.analysis.morphology.morphology_metrics` measures them (the order is
        evidence only; the stripe fraction decides).
    euler_number, components, components_low
        The Euler characteristic (a count) of the high phase and the number of connected
        components of each phase, at the spatial mean.
    n_surrogates
        How many surrogates gave the p-value (None: enough); fewer than
        :data:`MIN_PATTERN_SURROGATES` cannot reach ``p < PATTERN_P_VALUE``: ``undetermined``.

    Returns
    -------
    Regime

    Examples
    --------
    >>> classify_regime(surrogate_p_value=0.01, field_std=0.2, field_mean=0.1, orientation_order=0.1,
    ...                 stripe_fraction=0.0, euler_number=40, components=40, components_low=1).label
    'spots'
    """
    total = components + components_low
    euler_fraction = euler_number / total if total > 0 else math.nan
    evidence = {
        "surrogate_p_value": float(surrogate_p_value),
        "field_std": float(field_std),
        "field_mean": float(field_mean),
        "orientation_order": float(orientation_order),
        "stripe_fraction": float(stripe_fraction),
        "euler_number": float(euler_number),
        "components": float(components),
        "components_low": float(components_low),
        "euler_fraction": float(euler_fraction),
    }
    if field_std > _round_off_floor(field_mean):
        if not math.isfinite(surrogate_p_value):
            return Regime("undetermined", evidence,
                          f"no surrogate test (p = nan) and std {field_std:.3g} above round-off: "
                          f"a pattern needs p < {PATTERN_P_VALUE}")  # fmt: skip
        try:
            check_pattern_surrogates(0 if n_surrogates is None else n_surrogates)
        except ValueError as too_few:
            return Regime("undetermined", evidence, str(too_few))
    if not is_pattern(surrogate_p_value, field_std, field_mean):
        return Regime(
            "homogeneous", evidence,
            f"p = {surrogate_p_value:.3g} (pattern needs < {PATTERN_P_VALUE}) or std {field_std:.3g} at round-off level",
        )  # fmt: skip
    striped = stripe_fraction if math.isfinite(stripe_fraction) else 0.0
    if striped >= STRIPES_FRACTION:
        return Regime("stripes", evidence, f"stripe fraction {striped:.3g} >= {STRIPES_FRACTION}")
    if striped < SPOTS_FRACTION and euler_fraction >= SPOTS_EULER:
        return Regime("spots", evidence, f"stripe fraction {striped:.3g} < {SPOTS_FRACTION} and Euler fraction {euler_fraction:.3g} >= {SPOTS_EULER}")
    if striped < SPOTS_FRACTION and euler_fraction <= -SPOTS_EULER:
        return Regime("holes", evidence, f"stripe fraction {striped:.3g} < {SPOTS_FRACTION} and Euler fraction {euler_fraction:.3g} <= -{SPOTS_EULER}")
    return Regime("mixed", evidence, f"stripe fraction {striped:.3g} and Euler fraction {euler_fraction:.3g} fit no single class")


def pattern_summary(
    field: _Field,
    *,
    periodic: bool = True,
    n_surrogates: int = 99,
    seed: int = 0,
    threshold: float | str = "mean",
    ndim: int | None = None,
    component_dims: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Everything :mod:`rdnet.analysis` says about one field: metrics, morphology and the regime.

    Parameters
    ----------
    field
        One field (dims ``(y, x)``, a line, or ``(z, y, x)``; component dims are summed as
        power by the spectra and reduced to the norm by the morphology).
    periodic, n_surrogates, seed
        As in :func:`~rdnet.analysis.homogeneity_metrics`; with 0 (no test) or fewer than
        :data:`MIN_PATTERN_SURROGATES` the label of a field above round-off is ``undetermined``.
    threshold, ndim, component_dims
        As in :func:`~rdnet.analysis.morphology.morphology_metrics`.

    Returns
    -------
    dict
        The floats of :data:`~rdnet.analysis.metric_names.HOMOGENEITY_KEYS` and
        :data:`~rdnet.analysis.metric_names.MORPHOLOGY_DETAIL_KEYS`, ``field_std`` and
        ``field_mean``, then ``regime`` (the label), ``regime_reason`` and
        ``regime_evidence`` (see :class:`Regime`).

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:64, 0:64]
    >>> summary = pattern_summary(np.cos(2 * np.pi * x / 8), n_surrogates=39)
    >>> summary["regime"], summary["euler_characteristic"], summary["dominant_wavelength"]
    ('stripes', 0.0, 8.0)
    """
    periodic = _check_flag("periodic", periodic)
    from rdnet.analysis.homogeneity import homogeneity_metrics
    from rdnet.analysis.morphology import _prepare_spatial, _resolve_threshold, morphology_metrics

    info = _prepare_spatial(field, ndim=ndim, dx=None, dy=None, dz=None, component_dims=component_dims)
    data, components, spatial = info.data, info.component_dims, info.spatial_dims
    if data.ndim != len(components) + len(spatial):
        raise ValueError(f"a summary takes one field; got leading dims {data.dims[: data.ndim - len(components) - len(spatial)]}")
    # every metric but the threshold, std and mean is scale-invariant: measure the field scaled
    # exactly (by a power of two) to magnitude ~1, so that squares neither overflow (|f| > 1e154)
    # nor underflow (|f| < 1e-154), and scale those three back
    scale = _unit_scale(np.asarray(data.values, dtype=float))
    data = data.copy(data=np.asarray(data.values, dtype=float) * scale)
    values = np.asarray(data.values)
    scalar = np.sqrt(np.sum(values**2, axis=tuple(range(len(components))))) if components else values
    summary = homogeneity_metrics(data, periodic=periodic, n_surrogates=n_surrogates, seed=seed, component_dims=components)
    if not isinstance(threshold, str):
        threshold = _resolve_threshold(np.zeros(1), threshold)  # a number: refuse anything else before scaling it
    scaled_threshold = threshold if isinstance(threshold, str) else threshold * scale
    morphology = morphology_metrics(data, threshold=scaled_threshold, periodic=periodic, ndim=len(spatial),
                                    component_dims=components)  # fmt: skip
    morphology["threshold"] = morphology["threshold"] / scale
    summary.update(morphology)
    summary.update(field_std=float(scalar.std()) / scale, field_mean=float(scalar.mean()) / scale)
    regime = classify_regime(
        surrogate_p_value=summary["surrogate_p_value"],
        field_std=summary["field_std"],
        field_mean=summary["field_mean"],
        orientation_order=morphology["orientation_order"],
        stripe_fraction=morphology["stripe_fraction"],
        euler_number=morphology["euler_number"],
        components=morphology["components"],
        components_low=morphology["components_low"],
        n_surrogates=n_surrogates,
    )
    summary.update(regime=regime.label, regime_reason=regime.reason, regime_evidence=regime.evidence)
    return summary


def _unit_scale(values: np.ndarray) -> float:
    """The power of two that brings the largest finite magnitude of ``values`` into [0.5, 1) (1 if none)."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if finite.size else 0.0
    if largest == 0.0:
        return 1.0
    return math.ldexp(1.0, -math.frexp(largest)[1])


def pattern_regime(
    field: _Field,
    *,
    periodic: bool = True,
    n_surrogates: int = 99,
    seed: int = 0,
    ndim: int | None = None,
    component_dims: Iterable[str] | None = None,
) -> Regime:
    """Label one field's pattern: homogeneous, spots, holes, stripes or mixed.

    Parameters
    ----------
    field
        One field (dims ``(y, x)``, ``(z, y, x)`` or a line; component dims are reduced to
        the norm).
    periodic, n_surrogates, seed
        Of the surrogate test and the morphology.
    ndim, component_dims
        As in :func:`~rdnet.analysis.morphology.morphology_metrics`.

    Returns
    -------
    Regime
        The label, the numbers that decided it and the rule in words (see the module).

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:64, 0:64]
    >>> pattern_regime(np.cos(2 * np.pi * x / 8), n_surrogates=39).label
    'stripes'
    """
    summary = pattern_summary(field, periodic=periodic, n_surrogates=n_surrogates, seed=seed, ndim=ndim,
                              component_dims=component_dims)  # fmt: skip
    return Regime(summary["regime"], summary["regime_evidence"], summary["regime_reason"])
