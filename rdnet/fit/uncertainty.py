"""Intervals of the fitted parameters, and which of them trade off.

The fit is a minimum-distance estimate: ``θ̂ = argmin ‖W (s̄(θ) − s_t)‖²`` with ``s_t``
the statistics of **one** observed pattern — one realisation among all those the same
parameters grow from other noise. Its uncertainty is that realisation noise, carried to
``θ`` by the delta method (a Laplace, Gauss–Newton approximation of the loss with the
sandwich correction of minimum-distance estimators; Hansen 1982, Wood 2010 for
simulated statistics):

.. math::

    \\operatorname{Cov}(\\hat\\theta) \\approx H^{-1} (J^T W^2 \\Sigma W^2 J) H^{-1} (1 + 1/R),
    \\qquad H = J^T W^2 J,

``W`` the diagonal of the statistics' weights (the loss's residual is ``W (s̄ − s_t)``),
``J = ∂E[s]/∂θ`` the slope of the mean statistics at the fit, ``Σ`` the covariance of
one pattern's statistics, estimated from ``R_u`` runs at the fit from fresh initial
noise, and ``R`` the runs averaged in the fit's loss (their mean carries ``Σ/R``).
Only ``P``-dimensional projections of ``Σ`` enter (``J^T W² (s_b − s̄)`` of each run
``b``), so a handful of runs estimates them although the statistic vector is long.

``J`` is a central difference (a step of :data:`JACOBIAN_STEP` of each bound width)
of the statistics averaged over ``R_u`` runs with the same seeds, all ``(2P + 1) R_u``
runs in one batch. Not the exact derivative of each run (forward or reverse mode):
a pattern that forms through discrete events — a spot splitting or dying — depends on
the parameters through jumps that the pathwise derivative of one run does not see,
so its derivative is not the slope of the mean. The step trades the noise of a small
difference (which inflates ``H`` and shrinks the interval) against curvature: on the
recovery table of ``docs/fit.md`` (seven hidden points, 13 parameters) the intervals
covered the truth 9 times at a step of 0.02 and 10 times at 0.05.

Why not the spread of multi-start optima? It measures the optimiser (whether starts
reach one basin), not the data: starts that converge agree to far better than the
realisation noise. That spread is still reported (the starts whose loss is within
the loss's realisation noise of the best) as a check of multimodality.

The interval is ``θ̂ ± z σ`` (``z`` the normal quantile of the level), clipped to the
bounds. Two parameters whose correlation exceeds :data:`TRADE_OFF_CORRELATION` in
magnitude trade off: the pattern fixes a combination of them (the ridge
``Δa/Δb ≈ Cov_ab / Var_b``) better than either; a parameter the statistics do not
depend on (``H`` singular along it) is not identifiable and its interval is its bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rdnet.fit.parameters import ParameterSpace
from rdnet.fit.simulation import BatchedSimulator
from rdnet.fit.statistics import PatternDistance

__all__ = ["Uncertainty", "parameter_uncertainty", "TRADE_OFF_CORRELATION", "INTERVAL_METHOD"]

#: |correlation| above which two parameters are said to trade off
TRADE_OFF_CORRELATION = 0.9
#: an eigenvalue of the (bound-scaled) Gauss-Newton matrix below this share of the largest: not identifiable
SINGULAR_SHARE = 1e-10
#: central-difference step of the Jacobian, as a share of each parameter's bound width
JACOBIAN_STEP = 0.05
#: how the intervals are computed, as the result file states it
INTERVAL_METHOD = ("Laplace (Gauss-Newton) approximation of the loss with the sandwich correction for the "
                   "realisation noise of the target's statistics; Jacobian of the mean statistics by central "
                   "differences over runs with common seeds")  # fmt: skip


@dataclass
class Uncertainty:
    """Intervals and identifiability at the fit.

    Attributes
    ----------
    standard_error, interval_low, interval_high
        Per parameter (physical units).
    level
        Coverage of the intervals.
    covariance, correlation
        ``P × P``.
    identifiable
        Per parameter: the statistics depend on it.
    clipped
        Per parameter: the interval reached a bound.
    notes
        Sentences on identifiability and trade-offs.
    replicate_losses
        The loss of each uncertainty run alone against the target (their spread is the
        loss's realisation noise).
    jacobian
        ``∂s̄/∂θ``, ``(size, P)``.
    final_state
        One run at the fit (the first uncertainty seed), ``(N, ny, nx)``.
    """

    standard_error: np.ndarray
    interval_low: np.ndarray
    interval_high: np.ndarray
    level: float
    covariance: np.ndarray
    correlation: np.ndarray
    identifiable: np.ndarray
    clipped: np.ndarray
    notes: list[str] = field(default_factory=list)
    replicate_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    jacobian: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    final_state: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def loss_noise(self) -> float:
        """Standard deviation of the loss of one run against the target, over initial conditions."""
        return float(np.std(self.replicate_losses, ddof=1)) if self.replicate_losses.size > 1 else math.nan


def _jacobian_runs(simulator: BatchedSimulator, distance: PatternDistance, space: ParameterSpace, values: np.ndarray,
                   seeds: list[int], step: float):  # fmt: skip
    """Statistics of every run at ``values`` and the central-difference slope of their mean along each parameter.

    The ``2P + 1`` parameter sets × ``R`` seeds are one batch; every set uses the same
    seeds (common random numbers), so the difference is the parameters' effect.
    """
    torch = simulator.torch
    size, repeats = space.size, len(seeds)
    centre = space.to_unit(values)
    points = [centre]
    for index in range(size):
        for sign in (1.0, -1.0):
            point = centre.copy()
            point[index] = np.clip(point[index] + sign * step, 0.0, 1.0)
            points.append(point)
    physical = space.to_values(np.array(points))
    physical[0] = values  # the fit itself, not its round trip through the unit box
    state = simulator.initial_states(space.as_dicts(physical), seeds)
    parameters = simulator.parameter_tensors({name: physical[:, index] for index, name in enumerate(space.names)},
                                             repeats)  # fmt: skip
    with torch.no_grad():
        final = simulator.run(state, parameters)
        statistics = distance.statistics(simulator.observed(final)).to(torch.float64).cpu().numpy()
    statistics = statistics.reshape(len(points), repeats, -1)
    means = statistics.mean(axis=1)
    jacobian = np.stack([(means[1 + 2 * index] - means[2 + 2 * index])
                         / (physical[1 + 2 * index, index] - physical[2 + 2 * index, index])
                         for index in range(size)], axis=1)  # fmt: skip
    return statistics[0], jacobian, final[:, 0].detach().cpu().numpy().astype(np.float64)


def parameter_uncertainty(simulator: BatchedSimulator, distance: PatternDistance, space: ParameterSpace,
                          values: np.ndarray, *, replicates: int, fit_replicates: int, seed: int,
                          level: float = 0.95, step: float = JACOBIAN_STEP) -> Uncertainty:  # fmt: skip
    """Intervals at the fit ``values`` (see the module's description).

    Parameters
    ----------
    simulator, distance, space
        The forward model, the target's statistics, the fitted parameters.
    values
        The fitted values ``(P,)``.
    replicates
        Runs from fresh initial noise used for ``J`` and ``Σ`` (at least 2).
    fit_replicates
        Runs averaged in the fit's loss (``R``).
    seed
        Seed of the first of these runs.
    level
        Coverage of the intervals.
    step
        Central-difference step of the Jacobian, in the unit box (a share of each
        parameter's bound width).
    """
    from scipy.stats import norm

    values = np.asarray(values, dtype=np.float64)
    size = space.size
    seeds = [int(seed) + offset for offset in range(max(2, int(replicates)))]
    statistics, jacobian, final_state = _jacobian_runs(simulator, distance, space, values, seeds, step)
    scale = distance.scale
    finite = np.isfinite(statistics).all() and np.isfinite(jacobian).all()
    weighted_jacobian = scale[:, None] * jacobian
    deviations = scale * (statistics - statistics.mean(axis=0))
    replicate_losses = np.sum(distance.residuals(statistics) ** 2, axis=1)
    width = np.subtract(space.high, space.low)
    notes: list[str] = []
    if not finite:
        covariance = np.full((size, size), np.nan)
        identifiable = np.zeros(size, dtype=bool)
        notes.append("the runs at the fit blew up (NaN/Inf): no interval")
    else:
        # scale the parameters by their bound widths so that the singularity test is unit-free
        scaled = weighted_jacobian * width
        gauss_newton = scaled.T @ scaled
        eigenvalues, eigenvectors = np.linalg.eigh(gauss_newton)
        top = max(float(eigenvalues[-1]), 0.0)
        singular = eigenvalues <= SINGULAR_SHARE * top if top > 0 else np.ones(size, dtype=bool)
        identifiable = np.ones(size, dtype=bool)
        for index in np.nonzero(singular)[0]:
            identifiable &= np.abs(eigenvectors[:, index]) < 0.5
        inverse = np.linalg.pinv(gauss_newton, rcond=SINGULAR_SHARE, hermitian=True)
        projected = deviations @ scaled  # (R_u, P)
        middle = projected.T @ projected / max(1, len(seeds) - 1)
        covariance = (inverse @ middle @ inverse) * (1.0 + 1.0 / max(1, fit_replicates)) * np.outer(width, width)
    standard_error = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
    z = float(norm.ppf(0.5 + level / 2))
    low = np.where(identifiable, values - z * standard_error, space.low)
    high = np.where(identifiable, values + z * standard_error, space.high)
    clipped = (low < np.array(space.low)) | (high > np.array(space.high)) | ~identifiable
    low, high = np.maximum(low, space.low), np.minimum(high, space.high)
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = covariance / np.outer(standard_error, standard_error)
    notes.extend(identifiability_notes(space.names, covariance, correlation, identifiable))
    return Uncertainty(standard_error=standard_error, interval_low=low, interval_high=high, level=float(level),
                       covariance=covariance, correlation=correlation, identifiable=identifiable, clipped=clipped,
                       notes=notes, replicate_losses=replicate_losses, jacobian=jacobian,
                       final_state=final_state)  # fmt: skip


def identifiability_notes(names, covariance: np.ndarray, correlation: np.ndarray, identifiable: np.ndarray) -> list[str]:
    """Sentences: parameters the statistics do not depend on, and pairs that trade off."""
    notes = [f"{name} is not identifiable: the compared statistics do not change with it (its interval is its bounds)"
             for name, known in zip(names, identifiable) if not known]  # fmt: skip
    largest = 0.0
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            if not (identifiable[i] and identifiable[j]) or not np.isfinite(correlation[i, j]):
                continue
            rho = float(correlation[i, j])
            largest = max(largest, abs(rho))
            if abs(rho) > TRADE_OFF_CORRELATION:
                slope = covariance[i, j] / covariance[j, j]
                notes.append(f"{names[i]} and {names[j]} trade off (correlation {rho:+.2f}): along "
                             f"d{names[i]}/d{names[j]} = {slope:.3g} the pattern barely changes, so it fixes that "
                             f"combination better than either parameter alone")  # fmt: skip
    if len(names) > 1 and all(identifiable) and largest <= TRADE_OFF_CORRELATION:
        notes.append(f"no pair of parameters trades off (largest |correlation| {largest:.2f})")
    return notes
