"""Phases of the solvable GAN: failure, convergence, oscillation (and mode collapse for d > 1).

Linear theory. At the uninformative line q = r = 0 (any P, S = I, P diagonal) the overlap ODE
decouples per feature i into

.. math::

    \\frac{d}{dt}\\begin{pmatrix} q_i \\\\ r_i \\end{pmatrix} =
    \\begin{pmatrix} a_i & -\\tau\\lambda^G_i P_{ii} \\\\ \\tau\\lambda^T_i P_{ii} & b_i \\end{pmatrix}
    \\begin{pmatrix} q_i \\\\ r_i \\end{pmatrix},\\quad
    a_i = \\tau\\lambda^T_i - \\tfrac{\\tau^2}{2}\\rho_0,\\;
    b_i = (\\tilde\\tau - \\tau)\\lambda^G_i - \\tfrac{\\tau^2}{2}\\rho_0,\\;
    \\rho_0 = \\eta_T^2 + \\eta_G^2 .

- **failure** (a_i ≤ 0; copy model: τη² ≥ λ): the discriminator never picks up feature i, P_ii stays;
- **oscillation** (a_i > 0 and a_i + b_i > 0; copy model: τ̃λ > 2τ²η²): the line is never stable;
- **convergence** otherwise: P_ii grows until the determinant a_i b_i + τ²λ^Tλ^G P_ii² turns
  positive, at :math:`P_c^2 = -a_i b_i / (\\tau^2 \\lambda^T_i \\lambda^G_i)`, and freezes just above.

For d > 1 the run's phase is "convergence" when every feature converges, "mode-collapse" when some
fail and the others converge, "failure" when all fail and "oscillation" when any oscillates.

ODE classification integrates the overlap ODE and reads the phase from the trajectory's tail.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError
from rdnet.gan_dynamics.model import GanModel, OverlapState, initial_state
from rdnet.gan_dynamics.ode import integrate_batch, make_overlap_rhs, pack_state, unpack_state

__all__ = [
    "PHASES",
    "PhasePrediction",
    "linear_phase",
    "linear_coefficients",
    "uninformative_jacobian",
    "combine_feature_phases",
    "classify_trajectory",
    "ode_phase_grid",
    "linear_phase_grid",
    "linear_boundaries",
]

#: phase names; their index is the integer code used in phase grids
PHASES = ("failure", "convergence", "oscillation", "mode-collapse")


@dataclass(frozen=True)
class PhasePrediction:
    """Linear-theory prediction for one parameter set.

    Attributes
    ----------
    phase : str
        One of :data:`PHASES`.
    feature_phases : tuple of str
        Phase of each feature ("failure", "convergence" or "oscillation").
    critical_overlap : ndarray, shape (d,)
        P_c per feature (NaN where the feature does not converge; 0 when the line is stable at P = 0).
    plateau : ndarray, shape (d,)
        Predicted long-time diag P: max(P_c, P0) for converging features, P0 for failing ones, NaN for
        oscillating ones. (P_c is a lower bound: the ODE overshoots it slightly.)
    """

    phase: str
    feature_phases: tuple[str, ...]
    critical_overlap: np.ndarray
    plateau: np.ndarray


def linear_coefficients(model: GanModel) -> tuple[np.ndarray, np.ndarray]:
    """The diagonal entries (a_i, b_i) of the per-feature linearisation at q = r = 0.

    Returns
    -------
    a, b : ndarray, shape (d,)
    """
    lam_t = np.asarray(model.lambda_real)
    lam_g = np.asarray(model.lambda_gen)
    ito = 0.5 * model.tau_d**2 * (model.noise_real**2 + model.noise_gen**2)
    a = model.tau_d * lam_t - ito
    b = (model.tau_g - model.tau_d) * lam_g - ito
    return a, b


def uninformative_jacobian(model: GanModel, P: np.ndarray, S: np.ndarray | None = None) -> np.ndarray:
    """Jacobian of (dq/dt, dr/dt) with respect to (q, r) on the line q = r = 0.

    Parameters
    ----------
    model : GanModel
    P : ndarray, shape (d, d)
        Overlaps UᵀV on the line.
    S : ndarray, shape (d, d), optional
        Overlaps VᵀV (default identity).

    Returns
    -------
    ndarray, shape (2d, 2d)
        Block matrix [[τΛ_T − c, −τPΛ_G], [τPᵀΛ_T, (τ̃ I − τS)Λ_G − c]] with c = τ²(η_T² + η_G²)/2.
    """
    d = model.features
    P = np.asarray(P, dtype=float).reshape(d, d)
    S = np.eye(d) if S is None else np.asarray(S, dtype=float).reshape(d, d)
    lam_t = np.diag(model.lambda_real)
    lam_g = np.diag(model.lambda_gen)
    tau, tau_g = model.tau_d, model.tau_g
    c = 0.5 * tau**2 * (model.noise_real**2 + model.noise_gen**2)
    jac = np.empty((2 * d, 2 * d))
    jac[:d, :d] = tau * lam_t - c * np.eye(d)
    jac[:d, d:] = -tau * P @ lam_g
    jac[d:, :d] = tau * P.T @ lam_t
    jac[d:, d:] = (tau_g * np.eye(d) - tau * S) @ lam_g - c * np.eye(d)
    return jac


def combine_feature_phases(feature_phases) -> str:
    """Overall phase from per-feature phases (see the module docstring)."""
    phases = set(feature_phases)
    if "oscillation" in phases:
        return "oscillation"
    if phases == {"convergence"}:
        return "convergence"
    if phases == {"failure"}:
        return "failure"
    return "mode-collapse"


def linear_phase(model: GanModel, *, P0: float = 0.1) -> PhasePrediction:
    """Classify a parameter set by linear stability of the uninformative line.

    Parameters
    ----------
    model : GanModel
    P0 : float
        Initial feature/generator overlap (for the predicted plateau of failing features).

    Returns
    -------
    PhasePrediction

    Examples
    --------
    >>> model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    >>> prediction = linear_phase(model)
    >>> prediction.phase, round(float(prediction.critical_overlap[0]), 3)
    ('convergence', 0.884)
    """
    a, b = linear_coefficients(model)
    lam_t = np.asarray(model.lambda_real)
    lam_g = np.asarray(model.lambda_gen)
    feature_phases = []
    critical = np.full(model.features, np.nan)
    plateau = np.full(model.features, np.nan)
    for i in range(model.features):
        if a[i] <= 0:
            feature_phases.append("failure")
            plateau[i] = P0
        elif a[i] + b[i] > 0:
            feature_phases.append("oscillation")
        else:
            feature_phases.append("convergence")
            critical[i] = np.sqrt(max(-a[i] * b[i], 0.0) / (model.tau_d**2 * lam_t[i] * lam_g[i]))
            plateau[i] = max(critical[i], P0)
    return PhasePrediction(
        phase=combine_feature_phases(feature_phases),
        feature_phases=tuple(feature_phases),
        critical_overlap=critical,
        plateau=plateau,
    )


def classify_trajectory(
    times: np.ndarray,
    path: OverlapState,
    *,
    tail_fraction: float = 0.2,
    discriminator_tolerance: float = 1e-2,
    learned_increase: float = 0.05,
) -> tuple[str, tuple[str, ...]]:
    """Read the phase from an ODE trajectory (time is the first axis of the overlaps).

    A feature i *oscillates* when max(|q_i|, |r_i|) over the second half of the final
    ``tail_fraction`` of the run exceeds ``discriminator_tolerance`` and is not decaying (at least
    0.8 times its maximum over the first half): a limit cycle, or a fixed point with an informative
    discriminator. Otherwise it *converged* when P_ii rose by more than ``learned_increase`` and
    *failed* when it did not.

    Returns
    -------
    phase : str
        Overall phase (one of :data:`PHASES`).
    feature_phases : tuple of str
    """
    times = np.asarray(times)
    span = times[-1] - times[0]
    early = (times >= times[-1] - tail_fraction * span) & (times < times[-1] - 0.5 * tail_fraction * span)
    late = times >= times[-1] - 0.5 * tail_fraction * span
    d = path.q.shape[-1]
    feature_phases = []
    for i in range(d):
        late_amplitude = max(np.abs(path.q[late, i]).max(), np.abs(path.r[late, i]).max())
        early_amplitude = max(np.abs(path.q[early, i]).max(initial=0.0), np.abs(path.r[early, i]).max(initial=0.0))
        if late_amplitude > discriminator_tolerance and late_amplitude >= 0.8 * early_amplitude:
            feature_phases.append("oscillation")
        elif path.P[-1, i, i] - path.P[0, i, i] > learned_increase:
            feature_phases.append("convergence")
        else:
            feature_phases.append("failure")
    return combine_feature_phases(feature_phases), tuple(feature_phases)


_AXES = ("tau_d", "tau_g", "noise")


def _grid_models(base: GanModel, axes: dict[str, np.ndarray]):
    if len(axes) != 2 or not set(axes) <= set(_AXES):
        raise ConfigError(f"a phase diagram needs exactly two axes among {', '.join(_AXES)}, got {list(axes)}")
    (name_x, values_x), (name_y, values_y) = axes.items()
    X, Y = np.meshgrid(np.asarray(values_x, float), np.asarray(values_y, float))
    params = {"tau_d": base.tau_d, "tau_g": base.tau_g, "noise": base.noise_real}
    grids = {}
    for name in _AXES:
        grids[name] = X if name == name_x else Y if name == name_y else np.full(X.shape, params[name])
    return grids, X.shape


def linear_phase_grid(base: GanModel, axes: dict[str, np.ndarray], *, P0: float = 0.1) -> np.ndarray:
    """Linear-theory phase codes (indices into :data:`PHASES`) on a 2-D grid of a copy model.

    Parameters
    ----------
    base : GanModel
        Copy model giving the parameters that are not on an axis.
    axes : dict
        Exactly two of "tau_d", "tau_g", "noise" mapped to their values (first: x, second: y).

    Returns
    -------
    ndarray of int, shape (len(y), len(x))
    """
    grids, shape = _grid_models(base, axes)
    codes = np.empty(shape, dtype=int)
    for index in np.ndindex(shape):
        model = GanModel.copy_model(
            tau_d=grids["tau_d"][index], tau_g=grids["tau_g"][index],
            lambdas=base.lambda_real, noise=grids["noise"][index],
        )
        codes[index] = PHASES.index(linear_phase(model, P0=P0).phase)
    return codes


def ode_phase_grid(
    base: GanModel,
    axes: dict[str, np.ndarray],
    *,
    initial: OverlapState | None = None,
    time: float = 300.0,
    samples: int = 601,
) -> np.ndarray:
    """Phase codes (indices into :data:`PHASES`) from integrating the ODE on a 2-D grid.

    All grid points are integrated together as one batched system (one ``solve_ivp`` call).

    Parameters
    ----------
    base : GanModel
        Copy model giving the parameters that are not on an axis.
    axes : dict
        Exactly two of "tau_d", "tau_g", "noise" mapped to their values (first: x, second: y).
    initial : OverlapState, optional
        Initial overlaps (default :func:`~rdnet.gan_dynamics.model.initial_state`).
    time : float
        Integration horizon T.
    samples : int
        Output times used for the classification.

    Returns
    -------
    ndarray of int, shape (len(y), len(x))
    """
    grids, shape = _grid_models(base, axes)
    d = base.features
    initial = initial or initial_state(d)
    lambdas = np.asarray(base.lambda_real)
    noise = grids["noise"].ravel()
    rhs = make_overlap_rhs(grids["tau_d"].ravel(), grids["tau_g"].ravel(), lambdas, lambdas, noise, noise)
    start = np.repeat(pack_state(initial)[None, :], noise.size, axis=0)
    times = np.linspace(0.0, time, samples)
    flat = integrate_batch(rhs, start, times, rtol=1e-6, atol=1e-9)
    codes = np.empty(noise.size, dtype=int)
    for member in range(noise.size):
        phase, _ = classify_trajectory(times, unpack_state(flat[:, member, :], d))
        codes[member] = PHASES.index(phase)
    return codes.reshape(shape)


def linear_boundaries(
    base: GanModel, axes: dict[str, np.ndarray], *, resolution: int = 300
) -> dict[str, np.ndarray]:
    """Linear-theory boundary fields on a fine grid of a copy model (zero on each boundary).

    For every feature i: ``a_i`` (failure boundary, τλ_i = τ²η², with the copy model's
    ρ₀ = 2η²) and ``a_i + b_i`` (oscillation boundary, τ̃λ_i = 2τ²η²).

    Returns
    -------
    dict
        "fine_x", "fine_y" (the fine grid's values) and one field per boundary, labelled.
    """
    (name_x, values_x), (name_y, values_y) = axes.items()
    fine = {
        name_x: np.linspace(np.min(values_x), np.max(values_x), resolution),
        name_y: np.linspace(np.min(values_y), np.max(values_y), resolution),
    }
    grids, _ = _grid_models(base, fine)
    tau, tau_g, noise = grids["tau_d"], grids["tau_g"], grids["noise"]
    ito = tau**2 * noise**2  # τ²(η_T² + η_G²)/2 for the copy model
    result = {"fine_x": fine[name_x], "fine_y": fine[name_y]}
    for i, lam in enumerate(base.lambda_real):
        a = tau * lam - ito
        b = (tau_g - tau) * lam - ito
        suffix = f" (λ = {lam:g})" if base.features > 1 else ""
        result[f"theory: failure boundary τη² = λ{suffix}"] = a
        result[f"theory: oscillation boundary τ̃λ = 2τ²η²{suffix}"] = a + b
    return result
