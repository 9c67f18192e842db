"""Linear (Turing) stability analysis of a homogeneous steady state, for any number of species.

A perturbation :math:`\\delta \\propto e^{\\lambda t + i q \\cdot x}` of a homogeneous
state :math:`s^*` grows at the eigenvalues of :math:`A(q) = J - q^2 D`, with :math:`J`
the reaction Jacobian (symbolic, from the model's equations) and :math:`D` the
diagonal of the diffusion coefficients: this is the **dispersion relation**
:math:`\\lambda(q)`, and :math:`\\max \\operatorname{Re} \\lambda(q)` the growth rate of
wavenumber ``q``. The state is **Turing unstable** (the generalised test, any number
of species) when it is stable without diffusion — every eigenvalue of :math:`J` has a
negative real part — and some ``q > 0`` grows. With two species this is Murray's four
inequalities (*Mathematical Biology II*, §2.3): :math:`\\operatorname{tr} J < 0`,
:math:`\\det J > 0`, :math:`D_v f_u + D_u g_v > 0` and
:math:`(D_v f_u + D_u g_v)^2 > 4 D_u D_v \\det J`, reported in ``conditions``. With three
or more species the growing mode may oscillate (a wave instability); ``instability``
says which (``stationary`` or ``oscillatory``). Wavenumbers are angular (radians per
length unit); wavelength is :math:`2\\pi / q`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.models import Model

__all__ = [
    "dispersion_relation",
    "growth_rate",
    "TuringAnalysis",
    "turing_analysis",
    "fastest_growing_mode",
    "critical_parameter",
    "wavenumber_range",
    "unstable_band",
    "BoxModes",
    "box_modes",
    "box_axis_kinds",
    "AXIS_KINDS",
]


def _state(model: Model, state) -> tuple[float, ...]:
    """The state to linearise about: ``state`` (one finite number per species) or the model's homogeneous state."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a rd_classic Model (e.g. rd_classic.get_model('schnakenberg')), got {model!r}")
    if state is None:
        return model.homogeneous_state()
    species = ", ".join(model.species)
    try:
        if isinstance(state, (str, bytes, dict)):
            raise TypeError
        values = tuple(float(value) for value in state)
    except (TypeError, ValueError):
        raise ValueError(f"state must be one number per species ({species}), got {state!r}") from None
    if not all(math.isfinite(value) for value in values):
        raise ValueError(f"state must be finite numbers, one per species ({species}), got {state!r}")
    return values


def _wavenumbers(wavenumbers) -> np.ndarray:
    """``wavenumbers`` as a float array of at least one dim; finite real numbers only."""
    try:
        if wavenumbers is None or isinstance(wavenumbers, (str, bytes)) or np.iscomplexobj(wavenumbers):
            raise TypeError
        q = np.atleast_1d(np.asarray(wavenumbers, dtype=float))
    except (TypeError, ValueError):
        raise ValueError(f"wavenumbers must be real numbers (array-like), got {wavenumbers!r}") from None
    if not np.all(np.isfinite(q)):
        raise ValueError(f"wavenumbers must be finite; got {np.count_nonzero(~np.isfinite(q))} NaN or infinite")
    return q


def _matrices(model: Model, wavenumbers, state) -> tuple[np.ndarray, np.ndarray]:
    q = _wavenumbers(wavenumbers)
    jacobian = model.jacobian(*_state(model, state))
    return q, jacobian[None, :, :] - (q * q)[:, None, None] * np.diag(model.diffusion)[None, :, :]


def dispersion_relation(model: Model, wavenumbers, *, state=None) -> np.ndarray:
    """Every eigenvalue of ``J - q² D`` for each angular wavenumber ``q``.

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
        Complex array of shape ``(len(q), N)``, sorted by real part, largest first.
    """
    _, matrices = _matrices(model, wavenumbers, state)
    eigenvalues = np.linalg.eigvals(matrices).astype(complex)
    order = np.argsort(-eigenvalues.real, axis=-1, kind="stable")
    return np.take_along_axis(eigenvalues, order, axis=-1)


def growth_rate(model: Model, wavenumbers, *, state=None) -> np.ndarray:
    """Largest real part of the dispersion relation, ``max Re λ(q)``, for each ``q``."""
    return dispersion_relation(model, wavenumbers, state=state)[..., 0].real


def _wavenumber_scale(model: Model, jacobian: np.ndarray) -> float:
    diffusion = [value for value in model.diffusion if value > 0]
    rate = max(float(np.abs(jacobian).max()), 1e-300)
    return 10.0 * math.sqrt(rate / max(min(diffusion), 1e-300)) + 1.0 if diffusion else 1.0


def _limit_eigenvalue(model: Model, jacobian: np.ndarray) -> complex | None:
    """The eigenvalue of largest real part that ``λ(q)`` tends to as ``q → ∞`` (None if every species diffuses).

    The diffusing species' eigenvalues fall like ``-D q²``; the others tend to the eigenvalues of
    ``J`` restricted to the species that do not diffuse.
    """
    still = [index for index, coefficient in enumerate(model.diffusion) if coefficient == 0]
    if not still:
        return None
    eigenvalues = np.linalg.eigvals(jacobian[np.ix_(still, still)])
    return complex(eigenvalues[int(np.argmax(eigenvalues.real))])


def fastest_growing_mode(model: Model, *, state=None) -> tuple[float, float]:
    """The angular wavenumber ``q >= 0`` with the largest growth rate, and that rate.

    The maximum is bracketed on a logarithmic grid reaching well past the diffusive
    scale ``sqrt(max|J| / min D)`` and refined with a bounded scalar search. When a
    species does not diffuse the rate may still rise at the top of that grid: it then
    tends to the largest real part of the eigenvalues of ``J`` restricted to the
    non-diffusing species, approached as ``q → ∞`` (``q_max = inf``, a pattern at the
    grid's scale).

    Returns
    -------
    (float, float)
        ``(q_max, rate)``; ``q_max = 0`` if the homogeneous mode grows fastest,
        ``inf`` if the rate rises without end towards its limit.
    """
    from scipy.optimize import minimize_scalar

    state = _state(model, state)
    jacobian = model.jacobian(*state)
    q_top = _wavenumber_scale(model, jacobian)
    grid = np.concatenate([[0.0], np.geomspace(q_top * 1e-6, q_top, 4000)])
    rates = growth_rate(model, grid, state=state)
    best = int(np.argmax(rates))
    if best == 0:
        return 0.0, float(rates[0])
    limit = _limit_eigenvalue(model, jacobian)
    if best == grid.size - 1 and limit is not None:
        return math.inf, float(limit.real)
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)]
    result = minimize_scalar(
        lambda q: -growth_rate(model, q, state=state)[0],
        bounds=(low, high),
        method="bounded",
        options={"xatol": 1e-12 * high},
    )
    return float(result.x), float(-result.fun)


def unstable_band(model: Model, *, state=None) -> tuple[float, float] | None:
    """The interval of ``q`` around the fastest-growing mode where ``max Re λ(q) > 0`` (None if nothing grows).

    Its ends are the roots of the growth rate, found by bracketing on the scan of
    :func:`fastest_growing_mode` and refined with ``brentq`` (``q_low = 0`` when every
    ``q`` from 0 to the fastest grows; a band that the rate leaves between ``q = 0`` and the
    fastest mode starts at its last root before it).
    """
    from scipy.optimize import brentq

    state = _state(model, state)
    q_fast, rate = fastest_growing_mode(model, state=state)
    if rate <= 0:
        return None

    def rate_at(q: float) -> float:
        return float(growth_rate(model, q, state=state)[0])

    low = 0.0
    # the rate rising to q = inf (a species that does not diffuse): look for the band's start below the scan's top
    q_peak = q_fast if math.isfinite(q_fast) else _wavenumber_scale(model, model.jacobian(*state))
    if q_peak > 0:  # the last root below the peak: the rate may grow at q = 0 and dip below zero before it
        scan = np.linspace(0.0, q_peak, 2001)
        stable = np.nonzero(growth_rate(model, scan, state=state) <= 0)[0]
        if stable.size:
            last_stable = int(stable.max())
            low = brentq(rate_at, scan[last_stable], scan[last_stable + 1], xtol=1e-15, rtol=1e-15)
    if not math.isfinite(q_fast):
        return (float(low), math.inf)
    top = max(q_fast, 1e-12)
    while rate_at(top) > 0:
        top *= 2.0
        if top > 1e12:
            return (low, math.inf)
    scan = np.linspace(q_fast, top, 2001)  # the first root above q_fast (the rate may grow again beyond it)
    first_stable = int(np.nonzero(growth_rate(model, scan, state=state) <= 0)[0].min())
    high = brentq(rate_at, scan[first_stable - 1], scan[first_stable], xtol=1e-15, rtol=1e-15)
    return (float(low), float(high))


def wavenumber_range(model: Model, *, state=None) -> float:
    """An upper angular wavenumber that shows the dispersion relation's features.

    The largest of: twice the top of the unstable band and four times its start,
    three times the fastest-growing wavenumber (those that are finite), and three times
    the diffusive scale :math:`q_d = \\sqrt{r / D_{max}}`
    at which the fastest diffusion's damping :math:`D_{max} q^2` equals the reaction
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
    if analysis.unstable_band is not None and math.isfinite(analysis.unstable_band[1]):
        candidates.append(2.0 * analysis.unstable_band[1])
    rate, diffusion = float(np.abs(jacobian).max()), max(model.diffusion)
    if rate > 0 and diffusion > 0:
        candidates.append(3.0 * math.sqrt(rate / diffusion))
    if analysis.unstable_band is not None and analysis.unstable_band[0] > 0:
        candidates.append(4.0 * analysis.unstable_band[0])
    candidates = [candidate for candidate in candidates if math.isfinite(candidate) and candidate > 0]
    return max(candidates, default=1.0)


@dataclass(frozen=True)
class TuringAnalysis:
    """Result of :func:`turing_analysis` (all wavenumbers angular)."""

    model: str
    species: tuple[str, ...]
    parameters: dict[str, float]
    state: tuple[float, ...]
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
    instability: str | None

    def to_dict(self) -> dict:
        """A JSON-able dict."""
        return {
            "model": self.model,
            "species": list(self.species),
            "parameters": self.parameters,
            "state": list(self.state),
            "jacobian": self.jacobian.tolist(),
            "trace": self.trace,
            "determinant": self.determinant,
            "stable_without_diffusion": self.stable_without_diffusion,
            "turing_unstable": self.turing_unstable,
            "instability": self.instability,
            "conditions": self.conditions,
            "unstable_band": list(self.unstable_band) if self.unstable_band else None,
            "fastest_wavenumber": self.fastest_wavenumber,
            "fastest_wavelength": self.fastest_wavelength,
            "max_growth_rate": self.max_growth_rate,
        }


def _murray_conditions(jacobian: np.ndarray, diffusion: tuple[float, ...]) -> dict[str, bool]:
    """Murray's four Turing inequalities of a two-species system."""
    du, dv = diffusion
    trace = float(np.trace(jacobian))
    determinant = float(np.linalg.det(jacobian))
    mixed = float(dv * jacobian[0, 0] + du * jacobian[1, 1])
    return {
        "trace_negative": trace < 0,
        "determinant_positive": determinant > 0,
        "diffusion_weighted_trace_positive": mixed > 0,
        "discriminant_positive": mixed * mixed > 4.0 * du * dv * determinant,
    }


def turing_analysis(model: Model, *, state=None) -> TuringAnalysis:
    """Turing test, unstable band and fastest-growing mode of a homogeneous state.

    Parameters
    ----------
    model
        The model (any number of species).
    state
        The homogeneous steady state (default ``model.homogeneous_state()``).

    Returns
    -------
    TuringAnalysis
        ``stable_without_diffusion``: every eigenvalue of ``J`` has a negative real part;
        ``turing_unstable``: that, and ``max Re λ(q) > 0`` at some ``q > 0``;
        ``instability``: whether the fastest-growing mode is ``stationary`` (real
        eigenvalue) or ``oscillatory``, None if nothing grows; ``conditions``: Murray's
        four inequalities for two species, the two parts of the generalised test otherwise.
    """
    state = _state(model, state)
    jacobian = model.jacobian(*state)
    diffusion = model.diffusion
    stable = bool(np.all(np.linalg.eigvals(jacobian).real < 0))
    q_fast, rate = fastest_growing_mode(model, state=state)
    turing = stable and q_fast > 0 and rate > 0
    if model.n_species == 2:
        conditions = _murray_conditions(jacobian, diffusion)
    else:
        # a rate > 0 at q = 0 grows on a band around it too (the growth rate is continuous in q)
        conditions = {"stable_without_diffusion": stable, "grows_at_some_q": rate > 0}
    instability = None
    if rate > 0:
        limit = _limit_eigenvalue(model, jacobian)
        fastest = limit if math.isinf(q_fast) else dispersion_relation(model, q_fast, state=state)[0, 0]
        instability = "oscillatory" if abs(fastest.imag) > 1e-12 * max(1.0, abs(fastest.real)) else "stationary"
    return TuringAnalysis(
        model=model.name,
        species=model.species,
        parameters=model.parameters(),
        state=state,
        jacobian=jacobian,
        trace=float(np.trace(jacobian)),
        determinant=float(np.linalg.det(jacobian)),
        stable_without_diffusion=stable,
        turing_unstable=turing,
        conditions=conditions,
        unstable_band=unstable_band(model, state=state),
        fastest_wavenumber=q_fast,
        fastest_wavelength=2.0 * math.pi / q_fast if q_fast > 0 else math.inf,
        max_growth_rate=rate,
        instability=instability,
    )


def critical_parameter(
    model: Model,
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
        Unknown parameter, a state that does not exist along the way, or no change of
        stability inside ``bracket``.
    """
    from scipy.optimize import brentq

    if name not in model.parameter_names():
        valid = ", ".join(model.parameter_names())
        raise ConfigError(f"model {model.name!r} has no parameter {name!r}; valid parameters: {valid}")

    def largest_rate(value: float) -> float:
        varied = model.with_parameters(**{name: value})
        states = varied.steady_states()
        if state_index >= len(states):
            raise ConfigError(f"at {name}={value:g} {model.name} has {len(states)} steady state(s); "
                              f"state {state_index} does not exist there")  # fmt: skip
        return fastest_growing_mode(varied, state=states[state_index])[1]

    low, high = bracket
    rate_low, rate_high = largest_rate(low), largest_rate(high)
    if np.sign(rate_low) == np.sign(rate_high):
        raise ConfigError(
            f"no change of stability for {name} in [{low}, {high}] "
            f"(largest growth rate {rate_low:.3g} and {rate_high:.3g}); widen the bracket"
        )
    return float(brentq(largest_rate, low, high, xtol=1e-12 * max(abs(low), abs(high), 1.0)))


#: the modes an axis of a box admits: kind -> (angular wavenumber of mode m) * L / pi, and the first m
AXIS_KINDS = {
    "periodic": (lambda m: 2.0 * m, 0),
    "no-flux": (lambda m: 1.0 * m, 0),
    "dirichlet": (lambda m: m + 1.0, 0),
    "dirichlet-no-flux": (lambda m: m + 0.5, 0),
}

#: the most mode-number combinations :func:`box_modes` enumerates (before keeping those with |q| <= top)
MAX_BOX_MODES = 1 << 22


def box_axis_kinds(boundary, ndim: int) -> tuple[str, ...]:
    """The kind of every axis of a box (x first): from every species' conditions' homogeneous parts.

    Raises
    ------
    ConfigError
        A Robin side, or species whose conditions differ in kind along an axis (their modes
        would not be shared, so the modes would not decouple). A mixed axis counts its
        orientation: Dirichlet at ``x-`` and no-flux at ``x+`` (sines) is not no-flux at
        ``x-`` and Dirichlet at ``x+`` (cosines), though their wavenumbers are the same.
    """
    kinds = []
    for axis in "xyz"[:ndim]:
        found = set()
        for name in boundary.species:
            low, high = boundary.side(name, f"{axis}-"), boundary.side(name, f"{axis}+")
            if low.periodic:
                found.add("periodic")
                continue
            if "robin" in (low.kind, high.kind):
                raise ConfigError(f"the allowed modes are computed for periodic, no-flux (Neumann) and Dirichlet "
                                  f"sides; {name} has a Robin side on {axis}")  # fmt: skip
            words = ["no-flux" if kind == "neumann" else kind for kind in (low.kind, high.kind)]
            found.add(words[0] if words[0] == words[1] else f"{words[0]} at {axis}-, {words[1]} at {axis}+")
        if len(found) != 1:
            raise ConfigError(f"the species have different kinds of condition along {axis} ({'; '.join(sorted(found))}): "
                              f"their modes are not shared, so the box has no common set of modes")  # fmt: skip
        kind = found.pop()
        kinds.append(kind if kind in AXIS_KINDS else "dirichlet-no-flux")
    return tuple(kinds)


@dataclass(frozen=True)
class BoxModes:
    """The modes a box admits and their growth rates (:func:`box_modes`).

    Attributes
    ----------
    lengths, kinds
        The box's side lengths and axis kinds, x first.
    modes
        ``(K, d)`` mode numbers of every mode up to the wavenumber range, by growth rate (largest first).
    wavenumbers, rates
        Each mode's ``|q|`` and growth rate ``max Re λ(|q|)``.
    unbounded
        Whether modes grow without end beyond those listed (a species that does not diffuse:
        the unstable band reaches ``q = inf``, so infinitely many allowed modes grow).
    multiplicities
        How many modes each row stands for: on a periodic axis the row's ``m > 0`` is the
        Fourier modes ``±m`` (cosine and sine), so 2 per such axis (None: 1 each).
    """

    lengths: tuple[float, ...]
    kinds: tuple[str, ...]
    modes: np.ndarray
    wavenumbers: np.ndarray
    rates: np.ndarray
    unbounded: bool = False
    multiplicities: np.ndarray | None = None

    @property
    def growing(self) -> float:
        """How many modes grow, ``±m`` on a periodic axis counted apart (``inf`` when :attr:`unbounded`)."""
        if self.unbounded:
            return math.inf
        weights = np.ones(len(self.rates), dtype=np.int64) if self.multiplicities is None else self.multiplicities
        return int(np.sum(weights[self.rates > 0]))

    def to_dict(self, limit: int = 10) -> dict:
        """A JSON-able summary: the kinds, the fastest ``limit`` listed modes, how many grow (None: infinitely many)."""
        fastest = [{"mode": [int(m) for m in self.modes[i]], "wavenumber": float(self.wavenumbers[i]),
                    "wavelength": float(2 * math.pi / self.wavenumbers[i]) if self.wavenumbers[i] > 0 else math.inf,
                    "growth_rate": float(self.rates[i])} for i in range(min(limit, len(self.rates)))]  # fmt: skip
        return {"lengths": list(self.lengths), "kinds": list(self.kinds),
                "growing_modes": None if self.unbounded else self.growing, "unbounded": self.unbounded,
                "fastest_modes": fastest}  # fmt: skip


def _positive_wavenumber(value) -> float:
    try:
        if isinstance(value, (bool, str, bytes)):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"max_wavenumber must be a positive finite number, got {value!r}")
    return number


def box_modes(model: Model, lengths, kinds, *, state=None, max_wavenumber: float | None = None) -> BoxModes:
    """The modes of a box (x first: ``lengths`` and ``kinds`` of :data:`AXIS_KINDS`), largest growth rate first.

    Every combination of allowed mode numbers with ``|q| <=`` ``max_wavenumber`` (default
    :func:`wavenumber_range`) is listed, with its growth rate from the dispersion relation;
    on a periodic axis a row's ``m > 0`` stands for the two Fourier modes ``±m``.
    When the unstable band reaches ``q = inf`` (a species that does not diffuse) the modes
    beyond the list grow too: ``unbounded`` says so.

    Raises
    ------
    ConfigError
        Lengths and kinds that do not match, an unknown kind, or a box with more than
        :data:`MAX_BOX_MODES` mode-number combinations up to that wavenumber.
    """
    try:
        if isinstance(lengths, (str, bytes)):
            raise TypeError
        lengths = tuple(float(length) for length in ([lengths] if np.ndim(lengths) == 0 else lengths))
    except (TypeError, ValueError):
        raise ConfigError(f"lengths must be one number per axis, got {lengths!r}") from None
    if not all(math.isfinite(length) and length > 0 for length in lengths):
        raise ConfigError(f"a box's lengths must be positive finite numbers, got {lengths}")
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if len(lengths) != len(kinds) or not 1 <= len(lengths) <= 3:
        raise ConfigError("give one length and one kind per axis (1 to 3 axes)")
    unknown = [kind for kind in kinds if kind not in AXIS_KINDS]
    if unknown:
        raise ConfigError(f"unknown axis kind {unknown[0]!r}; valid: {', '.join(AXIS_KINDS)}")
    state = _state(model, state)
    top = wavenumber_range(model, state=state) if max_wavenumber is None else _positive_wavenumber(max_wavenumber)
    counts = [top * length / math.pi + 2 for length in lengths]
    if math.prod(counts) > MAX_BOX_MODES:
        raise ConfigError(f"a box of {'x'.join(f'{length:g}' for length in lengths)} admits about "
                          f"{math.prod(counts):.3g} modes with q <= {top:.3g} (at most {MAX_BOX_MODES} are listed): "
                          f"give a smaller box")  # fmt: skip
    axes = []
    for length, kind, count in zip(lengths, kinds, counts):
        scale, first = AXIS_KINDS[kind]
        count = int(count)
        numbers = np.arange(first, first + count)
        axes.append((numbers, math.pi * np.array([scale(m) for m in numbers]) / length))
    grids = np.meshgrid(*[numbers for numbers, _ in axes], indexing="ij")
    squares = sum(np.meshgrid(*[q * q for _, q in axes], indexing="ij"))
    keep = squares.ravel() <= top * top
    modes = np.stack([g.ravel()[keep] for g in grids], axis=1)
    wavenumbers = np.sqrt(squares.ravel()[keep])
    rates = growth_rate(model, wavenumbers, state=state) if wavenumbers.size else np.zeros(0)
    order = np.argsort(-rates, kind="stable")
    band = unstable_band(model, state=state)
    unbounded = band is not None and math.isinf(band[1])
    periodic = np.array([kind == "periodic" for kind in kinds])
    multiplicities = 2 ** np.sum((modes != 0) & periodic[None, :], axis=1)  # exp(±i q x) on a periodic axis
    return BoxModes(lengths, kinds, modes[order], wavenumbers[order], rates[order], unbounded, multiplicities[order])
