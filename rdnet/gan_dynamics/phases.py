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

ODE classification integrates the overlap ODE and reads the phase from the trajectory's tail: a
settled state (uninformative: convergence or failure by the rise of P; informative: the "chasing"
fixed point of the oscillation phase), a sustained cycle (oscillation), or neither, a slow transient
that is integrated further (:func:`classify_ode`) and left "undetermined" at the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError
from rdnet.gan_dynamics.model import GanModel, OverlapState, initial_state
from rdnet.gan_dynamics.ode import (
    check_ode_cost,
    integrate_batch,
    make_overlap_rhs,
    pack_state,
    solver_method,
    unpack_state,
)

__all__ = [
    "PHASES",
    "PhasePrediction",
    "linear_phase",
    "linear_coefficients",
    "uninformative_jacobian",
    "combine_feature_phases",
    "BEHAVIOURS",
    "DEFAULT_HORIZON",
    "DEFAULT_MAX_HORIZON",
    "feature_behaviours",
    "classify_trajectory",
    "OdeClassification",
    "classify_ode",
    "ode_phase_summary",
    "OdePhaseGrid",
    "ode_phase_survey",
    "ode_phase_grid",
    "linear_phase_grid",
    "linear_boundaries",
]

#: phase names; their index is the integer code used in phase grids ("undetermined": an ODE
#: trajectory still moving at the end of its horizon; linear theory never gives it)
PHASES = ("failure", "convergence", "oscillation", "mode-collapse", "undetermined")

#: what one feature's ODE trajectory does at the end of its horizon (:func:`feature_behaviours`)
BEHAVIOURS = ("limit cycle", "informative fixed point", "uninformative fixed point", "still moving")

_BEHAVIOUR_PHASE = {"limit cycle": "oscillation", "informative fixed point": "oscillation", "still moving": "undetermined"}

#: first ODE horizon and its cap for reading a phase (:func:`classify_ode`, :func:`ode_phase_grid`)
DEFAULT_HORIZON = 300.0
DEFAULT_MAX_HORIZON = 3000.0

_MAX_SAMPLED_VALUES = 2e7  # floats of sampled trajectory held at once while classifying a batch


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
    """Overall phase from per-feature phases (see the module docstring).

    Any oscillating feature makes the run "oscillation"; otherwise any undetermined feature makes
    it "undetermined".
    """
    phases = set(feature_phases)
    if "oscillation" in phases:
        return "oscillation"
    if "undetermined" in phases:
        return "undetermined"
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


def _direction_swings(signal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Peak-to-trough swings of a sampled signal between its successive turning points.

    Returns the swings and the sample index at which each one ends.
    """
    steps = np.diff(signal)
    moving = np.nonzero(steps != 0.0)[0]
    if moving.size < 2:
        return np.empty(0), np.empty(0, dtype=int)
    direction = np.sign(steps[moving])
    turns = moving[1:][direction[1:] != direction[:-1]]  # first step in the new direction
    return np.abs(np.diff(signal[turns])), turns[1:]


def feature_behaviours(
    times: np.ndarray,
    path: OverlapState,
    *,
    settle_tolerance: float = 1e-3,
    cycle_tolerance: float = 1e-2,
    discriminator_tolerance: float = 1e-2,
    decay_tolerance: float = 0.02,
    min_swings: int = 6,
) -> tuple[str, ...]:
    """What each feature's overlaps do over the second half of an ODE trajectory.

    One of :data:`BEHAVIOURS` per feature i, read from the trajectory's second half (the *tail*)
    of length L/2, L being the trajectory's length:

    - **settled** when the overlaps have stopped: their largest speed (any entry of P, q, r, by
      finite differences) over the last L/32 of the trajectory, times L, is below
      ``settle_tolerance`` (the state would not move by more than that over as long again), and
      that speed is no larger than over the L/32 before (a slowly unstable direction leaving a
      fixed point is not settled). It is an *informative fixed point*
      when max(abs(q_i), abs(r_i)) exceeds ``discriminator_tolerance`` (the "chasing" fixed point of the
      oscillation phase), else an *uninformative fixed point*;
    - a **limit cycle** when q_i keeps turning with a non-decaying amplitude: at least
      ``min_swings`` swings between successive turning points of q_i in the tail, and an envelope
      (the largest swing in each third of the tail) whose last value exceeds ``cycle_tolerance`` and
      that is not decaying: decaying means the envelope falls from the first third to the second
      and by more than ``decay_tolerance`` (relative) from the second to the last. A growing or
      irregular (d > 1) oscillation counts as a cycle; a decaying spiral does not;
    - **still moving** otherwise (a slow transient, neither settled nor cycling).

    Parameters
    ----------
    times : ndarray, shape (T,)
        Sample times; the tail must be sampled finely enough to resolve a cycle (a few samples
        per period).
    path : OverlapState
        Overlaps with time as the first axis.
    settle_tolerance, cycle_tolerance, discriminator_tolerance, decay_tolerance : float
    min_swings : int

    Returns
    -------
    tuple of str
    """
    times = np.asarray(times, dtype=float)
    span = times[-1] - times[0]
    tail = times >= times[-1] - 0.5 * span
    flat = np.concatenate([path.P.reshape(len(times), -1), path.q, path.r], axis=1)
    speed = np.max(np.abs(np.diff(flat, axis=0)) / np.diff(times)[:, None], axis=1)  # per interval
    ends = times[1:]  # end of each sampling interval
    late_intervals = ends >= times[-1] - span / 32
    late_intervals[-1] = True
    late = speed[late_intervals].max()
    before = speed[(ends >= times[-1] - span / 16) & ~late_intervals].max(initial=0.0)
    settled = late * span < settle_tolerance and (late <= before or late * span < 1e-2 * settle_tolerance)
    tail_times = times[tail]
    thirds = tail_times[0] + np.array([1.0, 2.0]) / 3.0 * (tail_times[-1] - tail_times[0])
    behaviours = []
    for i in range(path.q.shape[-1]):
        if settled:
            informative = max(abs(path.q[-1, i]), abs(path.r[-1, i])) > discriminator_tolerance
            behaviours.append("informative fixed point" if informative else "uninformative fixed point")
            continue
        swings, ends = _direction_swings(path.q[tail, i])
        third = np.searchsorted(thirds, tail_times[ends])  # 0, 1, 2
        envelope = [swings[third == k].max(initial=0.0) for k in range(3)]
        cycling = swings.size >= min_swings and envelope[2] > cycle_tolerance
        decaying = envelope[2] < (1.0 - decay_tolerance) * envelope[1] and envelope[1] < envelope[0]
        behaviours.append("limit cycle" if cycling and not decaying else "still moving")
    return tuple(behaviours)


def classify_trajectory(
    times: np.ndarray,
    path: OverlapState,
    *,
    initial_P: np.ndarray | None = None,
    learned_increase: float = 0.05,
    **tolerances,
) -> tuple[str, tuple[str, ...]]:
    """Read the phase from an ODE trajectory (time is the first axis of the overlaps).

    Each feature's behaviour (:func:`feature_behaviours`) gives its phase: a *limit cycle* or an
    *informative fixed point* is "oscillation" (the uninformative line is never reached, as the
    linear theory's oscillation phase says), an *uninformative fixed point* is "convergence" when
    P_ii rose by more than ``learned_increase`` from ``initial_P`` and "failure" when it did not,
    and a trajectory *still moving* is "undetermined": integrate longer (:func:`classify_ode` does).

    Parameters
    ----------
    times : ndarray, shape (T,)
    path : OverlapState
        Overlaps with time as the first axis.
    initial_P : ndarray, shape (d, d), optional
        P at the start of the run (default: the trajectory's first P), for the rise of P_ii.
    learned_increase : float
        Rise of P_ii that counts as learning the feature.
    **tolerances
        Passed to :func:`feature_behaviours`.

    Returns
    -------
    phase : str
        Overall phase (one of :data:`PHASES`).
    feature_phases : tuple of str
    """
    phase, feature_phases, _ = _read_phase(
        times, path, path.P[0] if initial_P is None else initial_P, learned_increase=learned_increase, **tolerances
    )
    return phase, feature_phases


def _read_phase(
    times, path: OverlapState, initial_P, *, learned_increase: float = 0.05, **tolerances
) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """(phase, feature phases, behaviours) of a trajectory (:func:`classify_trajectory`)."""
    behaviours = feature_behaviours(times, path, **tolerances)
    rise = np.diagonal(np.asarray(path.P[-1], dtype=float)) - np.diagonal(np.asarray(initial_P, dtype=float))
    feature_phases = tuple(
        ("convergence" if rise[i] > learned_increase else "failure") if kind == "uninformative fixed point"
        else _BEHAVIOUR_PHASE[kind]
        for i, kind in enumerate(behaviours)
    )
    return combine_feature_phases(feature_phases), feature_phases, behaviours


@dataclass(frozen=True)
class OdeClassification:
    """Phase of one parameter set read from its ODE trajectory (:func:`classify_ode`).

    Attributes
    ----------
    phase : str
        One of :data:`PHASES` ("undetermined" when still moving at ``max_time``).
    feature_phases : tuple of str
    behaviours : tuple of str
        Per feature, one of :data:`BEHAVIOURS`.
    horizon : float
        The time up to which the ODE was integrated when the phase was read.
    """

    phase: str
    feature_phases: tuple[str, ...]
    behaviours: tuple[str, ...]
    horizon: float

    def describe(self) -> str:
        """One line, e.g. ``"convergence (uninformative fixed point by t = 300)"``."""
        when = f"{'at' if self.phase == 'undetermined' else 'by'} t = {self.horizon:g}"
        if len(self.behaviours) == 1:
            return f"{self.phase} ({self.behaviours[0]} {when})"
        return f"{self.phase} {when} (features: {', '.join(self.behaviours)})"


def ode_phase_summary(attrs) -> str:
    """The ODE phase recorded in a gan-dynamics dataset's attrs (:func:`~rdnet.gan_dynamics.run.run_dataset`), in words.

    For example "convergence (uninformative fixed point by t = 300)" or "undetermined (still moving
    at t = 3000)"; files written before the long-horizon classification give the bare phase.
    """
    phase = str(attrs.get("ode_phase", "?"))
    if "ode_phase_time" not in attrs:
        return phase
    behaviours = tuple(str(attrs.get("ode_behaviours", "")).split(","))
    return OdeClassification(phase, (), behaviours, float(attrs["ode_phase_time"])).describe()


def _classify_batch(
    tau_d: np.ndarray,
    tau_g: np.ndarray,
    lambda_real: np.ndarray,
    lambda_gen: np.ndarray,
    noise_real: np.ndarray,
    noise_gen: np.ndarray,
    initial: OverlapState,
    *,
    time: float,
    max_time: float | None,
    spacing: float,
    rtol: float,
    atol: float,
) -> list[OdeClassification]:
    """Integrate a batch of parameter sets until each one's phase is decided (or ``max_time``).

    The first window is [0, time]; members still moving at its end are continued from their end
    state over windows that double the elapsed time ([T, 2T], [2T, 4T], ...) up to ``max_time``.
    Only the start of each window and its second half (every ``spacing``) are sampled, and members
    are integrated in chunks so that the samples held at once stay bounded. RK45, or LSODA when the
    chunk's :func:`~rdnet.gan_dynamics.ode.rate_scale` exceeds :data:`~rdnet.gan_dynamics.ode.STIFF_RATE`
    (:func:`~rdnet.gan_dynamics.ode.solver_method`).
    """
    d = initial.features
    max_time = 10.0 * time if max_time is None else max(float(max_time), float(time))
    check_ode_cost(tau_d, tau_g, lambda_real, lambda_gen, max_time)
    size = tau_d.size
    state = np.repeat(pack_state(initial)[None, :], size, axis=0)
    results: list[OdeClassification | None] = [None] * size
    pending = np.arange(size)
    start, end = 0.0, float(time)
    while pending.size:
        length = end - start
        count = max(8, int(np.ceil(0.5 * length / spacing)) + 1)
        times = np.concatenate([[start], np.linspace(end - 0.5 * length, end, count)])
        last = end >= max_time * (1 - 1e-12)
        chunk = max(1, int(_MAX_SAMPLED_VALUES // (times.size * state.shape[1])))  # bounds the memory
        still = []
        for first in range(0, pending.size, chunk):
            members = pending[first : first + chunk]
            parameters = (tau_d[members], tau_g[members], lambda_real[members], lambda_gen[members],
                          noise_real[members], noise_gen[members])
            flat = integrate_batch(make_overlap_rhs(*parameters), state[members], times, rtol=rtol, atol=atol,
                                   method=solver_method(*parameters))
            for column, member in enumerate(members):
                path = unpack_state(flat[:, column, :], d)
                phase, feature_phases, behaviours = _read_phase(times, path, initial.P)
                if phase == "undetermined" and not last:
                    still.append(member)
                else:
                    results[member] = OdeClassification(phase, feature_phases, behaviours, end)
                state[member] = flat[-1, column]
        pending = np.asarray(still, dtype=int)
        start, end = end, min(2.0 * end, max_time)
    return results  # type: ignore[return-value]


def classify_ode(
    model: GanModel,
    initial: OverlapState | None = None,
    *,
    time: float = DEFAULT_HORIZON,
    max_time: float | None = DEFAULT_MAX_HORIZON,
    spacing: float = 0.5,
) -> OdeClassification:
    """Integrate the overlap ODE of one parameter set until its phase is decided.

    The ODE is integrated to ``time`` and classified (:func:`classify_trajectory`); while it is still
    moving the integration is continued over windows doubling the elapsed time, up to ``max_time``,
    after which the phase is "undetermined".

    Parameters
    ----------
    model : GanModel
    initial : OverlapState, optional
        Initial overlaps (default :func:`~rdnet.gan_dynamics.model.initial_state`).
    time : float
        First horizon.
    max_time : float, optional
        Cap on the horizon (None: 10 × ``time``).
    spacing : float
        Sampling interval of the windows' second halves (must resolve a cycle).

    Returns
    -------
    OdeClassification

    Examples
    --------
    >>> model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=1.0)
    >>> result = classify_ode(model)
    >>> result.phase, result.behaviours, result.horizon
    ('oscillation', ('limit cycle',), 300.0)
    """
    initial = initial or initial_state(model.features)
    one = np.ones(1)
    return _classify_batch(
        model.tau_d * one, model.tau_g * one, np.asarray(model.lambda_real)[None, :],
        np.asarray(model.lambda_gen)[None, :], model.noise_real * one, model.noise_gen * one, initial,
        time=_check_horizon(time), max_time=max_time, spacing=spacing, rtol=1e-8, atol=1e-10,
    )[0]


def _check_horizon(time: float) -> float:
    time = float(time)
    if not (np.isfinite(time) and time > 0):
        raise ConfigError(f"the ODE horizon must be a positive finite time, got {time}")
    return time


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


@dataclass(frozen=True)
class OdePhaseGrid:
    """ODE phases on a 2-D parameter grid (:func:`ode_phase_survey`); arrays of shape (len(y), len(x)).

    Attributes
    ----------
    codes : ndarray of int
        Indices into :data:`PHASES`.
    behaviour_codes : ndarray of int, shape (len(y), len(x), d)
        Per feature, indices into :data:`BEHAVIOURS`.
    horizon : ndarray of float
        Time up to which each point was integrated when its phase was read.
    """

    codes: np.ndarray
    behaviour_codes: np.ndarray
    horizon: np.ndarray

    def has_behaviour(self, behaviour: str) -> np.ndarray:
        """Boolean grid: points where some feature shows ``behaviour`` (one of :data:`BEHAVIOURS`)."""
        return np.any(self.behaviour_codes == BEHAVIOURS.index(behaviour), axis=-1)


def ode_phase_survey(
    base: GanModel,
    axes: dict[str, np.ndarray],
    *,
    initial: OverlapState | None = None,
    time: float = DEFAULT_HORIZON,
    max_time: float | None = DEFAULT_MAX_HORIZON,
    spacing: float = 0.5,
) -> OdePhaseGrid:
    """Classify every point of a 2-D grid of a copy model from its ODE trajectory.

    All grid points are integrated together as one batched system (one ``solve_ivp`` call per
    window): first to ``time``; the points still moving are continued over windows that double the
    elapsed time, up to ``max_time`` (:func:`classify_ode`).

    Parameters
    ----------
    base : GanModel
        Copy model giving the parameters that are not on an axis.
    axes : dict
        Exactly two of "tau_d", "tau_g", "noise" mapped to their values (first: x, second: y).
    initial : OverlapState, optional
        Initial overlaps (default :func:`~rdnet.gan_dynamics.model.initial_state`).
    time : float
        First horizon.
    max_time : float, optional
        Cap on the horizon (None: 10 × ``time``); points still moving there are "undetermined".
    spacing : float
        Sampling interval of each window's second half.

    Returns
    -------
    OdePhaseGrid
    """
    grids, shape = _grid_models(base, axes)
    d = base.features
    initial = initial or initial_state(d)
    lambdas = np.repeat(np.asarray(base.lambda_real)[None, :], grids["noise"].size, axis=0)
    noise = grids["noise"].ravel()
    results = _classify_batch(
        grids["tau_d"].ravel(), grids["tau_g"].ravel(), lambdas, lambdas, noise, noise, initial,
        time=_check_horizon(time), max_time=max_time, spacing=spacing, rtol=1e-6, atol=1e-9,
    )
    return OdePhaseGrid(
        codes=np.array([PHASES.index(result.phase) for result in results]).reshape(shape),
        behaviour_codes=np.array([[BEHAVIOURS.index(b) for b in result.behaviours] for result in results])
        .reshape(*shape, d),
        horizon=np.array([result.horizon for result in results]).reshape(shape),
    )


def ode_phase_grid(
    base: GanModel,
    axes: dict[str, np.ndarray],
    *,
    initial: OverlapState | None = None,
    time: float = DEFAULT_HORIZON,
    max_time: float | None = DEFAULT_MAX_HORIZON,
    spacing: float = 0.5,
) -> np.ndarray:
    """Phase codes (indices into :data:`PHASES`) from the ODE on a 2-D grid: :func:`ode_phase_survey`'s codes.

    Returns
    -------
    ndarray of int, shape (len(y), len(x))
    """
    return ode_phase_survey(base, axes, initial=initial, time=time, max_time=max_time, spacing=spacing).codes


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
