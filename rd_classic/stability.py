"""Linear (Turing) stability analysis of a homogeneous steady state.

A perturbation :math:`\\delta \\propto e^{\\lambda t + i q \\cdot x}` of a homogeneous
state :math:`(u^*, v^*)` grows at the eigenvalues of :math:`A(q) = J - q^2 D` with
:math:`J` the reaction Jacobian and :math:`D = \\mathrm{diag}(D_u, D_v)`: this is the
dispersion relation :math:`\\lambda(q)`. The state is Turing unstable when it is stable
without diffusion (:math:`\\operatorname{tr} J < 0`, :math:`\\det J > 0`) and
:math:`h(q^2) = \\det A(q)` becomes negative for some :math:`q`, i.e.
:math:`D_v f_u + D_u g_v > 0` and :math:`(D_v f_u + D_u g_v)^2 > 4 D_u D_v \\det J`
(Murray, *Mathematical Biology II*, §2.3). Wavenumbers are angular (radians per
length unit); wavelength is :math:`2\\pi / q`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.models import ReactionDiffusionModel

__all__ = [
    "dispersion_relation",
    "growth_rate",
    "TuringAnalysis",
    "turing_analysis",
    "fastest_growing_mode",
    "critical_parameter",
    "wavenumber_range",
]


def _state(model: ReactionDiffusionModel, state: tuple[float, float] | None) -> tuple[float, float]:
    return model.homogeneous_state() if state is None else (float(state[0]), float(state[1]))


def dispersion_relation(model: ReactionDiffusionModel, wavenumbers, *, state: tuple[float, float] | None = None):
    """Both eigenvalues of ``J - q² D`` for each angular wavenumber ``q``.

    Parameters
    ----------
    model
        The model (its Jacobian and diffusion coefficients are used).
    wavenumbers
        Angular wavenumbers ``q`` (array-like, radians per length unit).
    state
        Homogeneous state to linearise about (default ``model.homogeneous_state()``).

    Returns
    -------
    numpy.ndarray
        Complex array of shape ``(len(q), 2)``, the eigenvalue with the larger real part first.
    """
    q = np.atleast_1d(np.asarray(wavenumbers, dtype=float))
    jacobian = model.jacobian(*_state(model, state))
    du, dv = model.diffusion
    q2 = q * q
    a = jacobian[0, 0] - du * q2
    d = jacobian[1, 1] - dv * q2
    trace = a + d
    determinant = a * d - jacobian[0, 1] * jacobian[1, 0]
    root = np.sqrt((trace * trace / 4.0 - determinant).astype(complex))
    return np.stack([trace / 2.0 + root, trace / 2.0 - root], axis=-1)


def growth_rate(model: ReactionDiffusionModel, wavenumbers, *, state: tuple[float, float] | None = None):
    """Largest real part of the dispersion relation, ``max Re λ(q)``, for each ``q``."""
    return dispersion_relation(model, wavenumbers, state=state)[..., 0].real


def fastest_growing_mode(
    model: ReactionDiffusionModel, *, state: tuple[float, float] | None = None
) -> tuple[float, float]:
    """The angular wavenumber ``q >= 0`` with the largest growth rate, and that rate.

    The maximum is bracketed on a logarithmic grid and refined with a bounded scalar
    search.

    Returns
    -------
    (float, float)
        ``(q_max, rate)``; ``q_max = 0`` if the homogeneous mode grows fastest.
    """
    from scipy.optimize import minimize_scalar

    state = _state(model, state)
    jacobian = model.jacobian(*state)
    du, dv = model.diffusion
    scale = max(float(np.abs(jacobian).max()), 1e-300) / max(min(du, dv), 1e-300)
    q_top = 10.0 * math.sqrt(scale) + 1.0
    grid = np.concatenate([[0.0], np.geomspace(q_top * 1e-6, q_top, 4000)])
    rates = growth_rate(model, grid, state=state)
    best = int(np.argmax(rates))
    if best == 0:
        return 0.0, float(rates[0])
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    result = minimize_scalar(
        lambda q: -growth_rate(model, q, state=state)[0],
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-12 * high},
    )
    return float(result.x), float(-result.fun)


def wavenumber_range(model: ReactionDiffusionModel, *, state: tuple[float, float] | None = None) -> float:
    """An upper angular wavenumber that shows the dispersion relation's features.

    The largest of: twice the top of the unstable band, three times the fastest-growing
    wavenumber, and three times the diffusive scale :math:`q_d = \\sqrt{r / D_{max}}`
    at which the faster diffusion's damping :math:`D_{max} q^2` equals the reaction
    rate :math:`r = \\max |J_{ij}|` (beyond it :math:`\\lambda(q)` falls like
    :math:`-D q^2`). Used to choose the q axis of a plot: Gray-Scott's trivial state,
    with ``D ~ 1e-5``, needs ``q`` up to ~200, Schnakenberg's default ~1.6.

    Returns
    -------
    float
        ``q_max > 0`` (1 when the model has neither reaction nor diffusion).
    """
    state = _state(model, state)
    jacobian = model.jacobian(*state)
    analysis = turing_analysis(model, state=state)
    candidates = [3.0 * analysis.fastest_wavenumber]
    if analysis.unstable_band is not None:
        candidates.append(2.0 * analysis.unstable_band[1])
    rate, diffusion = float(np.abs(jacobian).max()), max(model.diffusion)
    if rate > 0 and diffusion > 0:
        candidates.append(3.0 * math.sqrt(rate / diffusion))
    top = max(candidates)
    return top if math.isfinite(top) and top > 0 else 1.0


@dataclass(frozen=True)
class TuringAnalysis:
    """Result of :func:`turing_analysis` (all wavenumbers angular)."""

    model: str
    parameters: dict[str, float]
    state: tuple[float, float]
    jacobian: np.ndarray = field(repr=False)
    trace: float
    determinant: float
    stable_without_diffusion: bool
    turing_unstable: bool
    conditions: dict[str, bool]
    unstable_band: tuple[float, float] | None
    fastest_wavenumber: float
    fastest_wavelength: float
    max_growth_rate: float

    def to_dict(self) -> dict:
        """A JSON-able dict."""
        return {
            "model": self.model,
            "parameters": self.parameters,
            "state": list(self.state),
            "jacobian": self.jacobian.tolist(),
            "trace": self.trace,
            "determinant": self.determinant,
            "stable_without_diffusion": self.stable_without_diffusion,
            "turing_unstable": self.turing_unstable,
            "conditions": self.conditions,
            "unstable_band": list(self.unstable_band) if self.unstable_band else None,
            "fastest_wavenumber": self.fastest_wavenumber,
            "fastest_wavelength": self.fastest_wavelength,
            "max_growth_rate": self.max_growth_rate,
        }


def turing_analysis(model: ReactionDiffusionModel, *, state: tuple[float, float] | None = None) -> TuringAnalysis:
    """Turing conditions, unstable band and fastest-growing mode of a homogeneous state.

    Parameters
    ----------
    model
        The model.
    state
        The homogeneous steady state (default ``model.homogeneous_state()``).

    Returns
    -------
    TuringAnalysis
        ``conditions`` holds the four classical inequalities: ``trace < 0``,
        ``det > 0``, ``Dv fu + Du gv > 0``, ``(Dv fu + Du gv)² > 4 Du Dv det``.
        ``unstable_band`` is the ``(q_low, q_high)`` interval where ``det(J - q²D) < 0``.
    """
    state = _state(model, state)
    jacobian = model.jacobian(*state)
    du, dv = model.diffusion
    trace = float(np.trace(jacobian))
    determinant = float(np.linalg.det(jacobian))
    mixed = float(dv * jacobian[0, 0] + du * jacobian[1, 1])
    conditions = {
        "trace_negative": trace < 0,
        "determinant_positive": determinant > 0,
        "diffusion_weighted_trace_positive": mixed > 0,
        "discriminant_positive": mixed * mixed > 4.0 * du * dv * determinant,
    }
    stable_without_diffusion = conditions["trace_negative"] and conditions["determinant_positive"]
    turing = all(conditions.values())
    band = None
    if du * dv > 0 and conditions["diffusion_weighted_trace_positive"] and conditions["discriminant_positive"]:
        # h(s) = Du Dv s^2 - mixed s + det < 0 between its roots (s = q^2)
        root = math.sqrt(mixed * mixed - 4.0 * du * dv * determinant)
        s_low = max((mixed - root) / (2.0 * du * dv), 0.0)
        s_high = (mixed + root) / (2.0 * du * dv)
        band = (math.sqrt(s_low), math.sqrt(s_high))
    q_fast, rate = fastest_growing_mode(model, state=state)
    return TuringAnalysis(
        model=model.name,
        parameters=model.parameters(),
        state=state,
        jacobian=jacobian,
        trace=trace,
        determinant=determinant,
        stable_without_diffusion=stable_without_diffusion,
        turing_unstable=turing,
        conditions=conditions,
        unstable_band=band,
        fastest_wavenumber=q_fast,
        fastest_wavelength=2.0 * math.pi / q_fast if q_fast > 0 else math.inf,
        max_growth_rate=rate,
    )


def critical_parameter(
    model: ReactionDiffusionModel,
    name: str,
    *,
    bracket: tuple[float, float],
    state_index: int = 0,
) -> float:
    """Value of one parameter at which the homogeneous state loses stability.

    Finds the root of ``max_q Re λ(q) = 0`` as ``name`` varies within ``bracket``
    (e.g. the critical diffusion ratio through ``Dv``).

    Parameters
    ----------
    model
        The model; its other parameters stay fixed.
    name
        Parameter to vary.
    bracket
        ``(low, high)`` with the state stable at one end and unstable at the other.
    state_index
        Which of ``model.steady_states()`` to follow.

    Raises
    ------
    ConfigError
        Unknown parameter, or no change of stability inside ``bracket``.
    """
    from scipy.optimize import brentq

    if name not in model.parameter_names():
        valid = ", ".join(model.parameter_names())
        raise ConfigError(f"model {model.name!r} has no parameter {name!r}; valid parameters: {valid}")

    def largest_rate(value: float) -> float:
        varied = model.with_parameters(**{name: value})
        return fastest_growing_mode(varied, state=varied.steady_states()[state_index])[1]

    low, high = bracket
    rate_low, rate_high = largest_rate(low), largest_rate(high)
    if np.sign(rate_low) == np.sign(rate_high):
        raise ConfigError(
            f"no change of stability for {name} in [{low}, {high}] "
            f"(largest growth rate {rate_low:.3g} and {rate_high:.3g}); widen the bracket"
        )
    return float(brentq(largest_rate, low, high, xtol=1e-12 * max(abs(low), abs(high), 1.0)))
