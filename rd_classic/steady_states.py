"""Homogeneous steady states of a model: ``R(s*) = 0`` with every species uniform.

Found in this order:

1. **Declared closed forms.** A model file's ``[[steady_states]]`` tables (one
   expression in the parameters per species) are evaluated; a state is kept when it
   is real and finite and the reaction vanishes there (relative residual below
   :data:`RESIDUAL_TOLERANCE`). A form that is not finite in floating point is
   evaluated again exactly (the parameters as rationals), so that a square root of a
   discriminant that is 0 but rounds below it keeps its state; forms giving the same
   state give it once. The order is the file's: the first is the default state.
2. **Exact elimination (sympy).** Otherwise, when the reaction terms are rational in
   the species (over a common denominator each numerator is a polynomial) with at most
   four species and a Bézout bound (the product of the numerators' total degrees) of at
   most :data:`MAX_BEZOUT`: the parameter values are substituted as exact rationals
   and the numerators put in a lexicographic Gröbner basis (exact rational
   arithmetic), a triangular system whose last polynomial holds the first species
   alone. Its roots are taken level by level, the real ones kept, polished by Newton's
   method on the original equations and kept where the reaction vanishes (not where a
   denominator does). Every real state of the system is found this way.
3. **Multi-start root search.** Otherwise (a reaction that is not rational in the
   species, more than four species, a larger Bézout bound, or a continuum of states):
   damped Newton iterations (60, with the symbolic Jacobian, every step at most half
   the current magnitude per species) run from the origin and the :data:`N_STARTS`
   first points of a Halton sequence filling the box ``[-S, 2S]`` in every species,
   ``S = max(1, |p|)`` the largest parameter magnitude, all starts at once; each end
   point is polished with :func:`scipy.optimize.root` (``hybr``), kept when the reaction
   vanishes there, and duplicates (within 1e-7 relative) merged. This finds the states
   a user is likely to care about but cannot promise all. A continuum of states (no
   reaction at all, or one that vanishes along a curve) gives the one reached from the
   origin.

Found states (2, 3) are ordered with the states whose species are all non-negative (the
admissible ones for concentrations) first, each group sorted by the species' values
(lexicographically ascending); the first is the default state.
A reaction that depends on ``x, y, z, t`` or the domain lengths has no homogeneous
steady state and is refused.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.expressions import ArrayBuilder

if TYPE_CHECKING:  # pragma: no cover
    from rd_classic.models import Model

__all__ = ["steady_states", "RESIDUAL_TOLERANCE", "MAX_BEZOUT", "N_STARTS"]

#: a state is kept when max |R_i| <= this × (1 + the largest |term| scale)
RESIDUAL_TOLERANCE = 1e-8
#: largest Bézout bound given to the exact elimination (a lex Gröbner basis of three dense cubics, 27,
#: or of degrees 3, 3, 2, 18, did not finish in minutes; 9 takes about a second)
MAX_BEZOUT = 9
#: starts of the root search (besides the origin)
N_STARTS = 255

_CACHE: dict[tuple, list[tuple[float, ...]]] = {}
_CACHE_SIZE = 1024
#: what :func:`_solved` returns for a continuum of states
_CONTINUUM: list = []


def steady_states(model: Model) -> list[tuple[float, ...]]:
    """The homogeneous steady states of ``model`` at its parameter values (see the module docstring).

    Raises
    ------
    ConfigError
        The reaction depends on position, time or the domain size.
    """
    declaration = model.declaration
    if declaration.coordinates_used:
        used = ", ".join(sorted(declaration.coordinates_used))
        raise ConfigError(f"{model.name}: the reaction depends on {used}, so there is no homogeneous steady state")
    key = (declaration.digest, declaration.text, tuple(model.values.items()))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:  # a long search over parameters: start over
            _CACHE.clear()
        if declaration.steady_states:
            states = _declared(model)
        else:
            states = _solved(model)
            if states is _CONTINUUM:
                states = _searched(model, origin_only=True)
            elif states is None:
                states = _searched(model)
        _CACHE[key] = states
    return list(_CACHE[key])


def _residual_ok(model: Model, state: tuple[float, ...]) -> bool:
    values = np.array([float(value) for value in model.reaction(*state)])
    if not np.all(np.isfinite(values)):
        return False
    scale = 1.0 + max(abs(value) for value in (*state, *model.values.values()))
    return bool(np.abs(values).max() <= RESIDUAL_TOLERANCE * scale * scale)  # (scale**2 raises OverflowError)


def _declared(model: Model) -> list[tuple[float, ...]]:
    states: list[tuple[float, ...]] = []
    for entry in model.declaration.steady_states:
        builder_values = dict(model.values)
        with np.errstate(all="ignore"):
            state = tuple(float(entry[name].fold(ArrayBuilder(builder_values))) for name in model.species)
        if not all(math.isfinite(value) for value in state):
            state = _exact(model, entry)  # sqrt(F**2 - 4*F*(F + k)**2) at a fold: 0 exactly, -2e-19 in floats
        if state is not None and _residual_ok(model, state) and not any(_same(state, other) for other in states):
            states.append(state)  # two forms meeting (a double state at a fold) give one state
    return states


def _exact(model: Model, entry) -> tuple[float, ...] | None:
    """A declared state evaluated in exact rational arithmetic (sympy); None unless every species is real and finite."""
    import sympy

    from rd_classic.expressions import SympyBuilder

    exact = {name: sympy.Rational(repr(float(value))) for name, value in model.values.items()}
    state = []
    for name in model.species:
        try:  # a division by an exact zero, or a value sympy cannot make a number of (zoo, nan)
            value = complex(sympy.N(entry[name].fold(SympyBuilder(exact, where=entry[name].where)), 30))
        except (ConfigError, TypeError, ValueError, ZeroDivisionError):
            return None
        if value.imag != 0.0 or not math.isfinite(value.real):
            return None
        state.append(value.real)
    return tuple(state)


def _solved(model: Model) -> list[tuple[float, ...]] | None:
    """All states of a polynomial system, by exact elimination; None when sympy should not try.

    The numerators are put in a lexicographic Gröbner basis (rational arithmetic, so the
    elimination is exact): its last polynomial has the first species alone, the ones
    before it add one species at a time. The roots are taken level by level (NumPy's
    companion-matrix roots of each univariate polynomial, the real ones) and polished by
    Newton's method on the original equations.
    """
    import sympy

    from rd_classic.codegen import symbolic_model

    symbolic = symbolic_model(model.declaration)
    species = symbolic.species
    if len(species) > 4:
        return None
    exact = {symbol: sympy.Rational(repr(float(value))) for symbol, value in zip(symbolic.parameters, model.values.values())}
    numerators, bound = [], 1
    for term in symbolic.reaction:
        numerator, denominator = sympy.fraction(sympy.together(term.xreplace(exact)))
        try:
            polynomial = sympy.Poly(numerator, *species)
            sympy.Poly(denominator, *species)
        except sympy.PolynomialError:
            return None
        bound *= max(1, polynomial.total_degree())
        numerators.append(polynomial.as_expr())
    if all(numerator == 0 for numerator in numerators):
        return _CONTINUUM  # no reaction at all: every uniform state is steady
    if bound > MAX_BEZOUT:
        return None
    basis = sympy.groebner(numerators, *reversed(species), order="lex")
    if list(basis.exprs) == [1]:
        return []  # no state at all, even complex
    if not basis.is_zero_dimensional:
        return _CONTINUUM
    partial: list[dict] = [{}]
    for level, symbol in enumerate(species):
        known = set(species[:level])
        polynomials = [g for g in basis.exprs if symbol in g.free_symbols and g.free_symbols <= known | {symbol}]
        extended = []
        for assignment in partial:
            substituted = [sympy.Poly(g.xreplace({k: sympy.Float(v, 30) for k, v in assignment.items()}), symbol)
                           for g in polynomials]  # fmt: skip
            substituted = [p for p in substituted if p.degree() > 0 and any(abs(complex(c)) > 1e-12 for c in p.all_coeffs()[:1])]
            if not substituted:
                continue
            lowest = min(substituted, key=lambda p: p.degree())
            coefficients = np.array([complex(c) for c in lowest.all_coeffs()])
            for root in np.roots(coefficients):
                if abs(root.imag) <= 1e-7 * (1.0 + abs(root.real)):
                    extended.append({**assignment, symbol: float(root.real)})
        partial = extended
    states = []
    for assignment in partial:
        state = _polished(model, np.array([assignment[symbol] for symbol in species]))
        if state is not None and not any(_same(state, other) for other in states):
            states.append(state)
    return _ordered(states)


def _polished(model: Model, start: np.ndarray) -> tuple[float, ...] | None:
    """Newton's method (scipy's ``hybr``, the symbolic Jacobian) from ``start``; None unless it converges to a state."""
    from scipy.optimize import root

    with np.errstate(all="ignore"):
        result = root(lambda x: np.array([float(r) for r in model.reaction(*x)]), start,
                      jac=lambda x: model.jacobian(*x), method="hybr", options={"xtol": 1e-14})  # fmt: skip
    state = tuple(float(value) for value in result.x)
    if not all(math.isfinite(value) for value in state) or not _residual_ok(model, state):
        return None
    return state


def _same(state: tuple[float, ...], other: tuple[float, ...]) -> bool:
    return all(abs(a - b) <= 1e-7 * (1.0 + abs(b)) for a, b in zip(state, other))


def _searched(model: Model, *, origin_only: bool = False) -> list[tuple[float, ...]]:
    """Damped Newton iterations from every start at once (the generated functions take arrays), then polished.

    ``origin_only``: for a continuum of states, only the one reached from the origin.
    """
    from scipy.stats import qmc

    n = model.n_species
    scale = max([1.0, *(abs(value) for value in model.values.values())])
    starts = np.vstack([np.zeros(n), -scale + 3 * scale * qmc.Halton(d=n, scramble=False).random(N_STARTS)]).T
    if origin_only:
        starts = starts[:, :1]
    x = starts.copy()
    with np.errstate(all="ignore"):
        for _ in range(60):
            residual = np.array([np.broadcast_to(term, x.shape[1:]) for term in model.reaction(*x)], dtype=float)
            jacobian = np.moveaxis(model.jacobian_array(*x), -1, 0)  # (S, N, N)
            alive = np.isfinite(residual).all(axis=0) & np.isfinite(jacobian).all(axis=(1, 2))
            jacobian[~alive] = np.eye(n)
            step = -np.einsum("sij,js->is", np.linalg.pinv(jacobian), np.where(alive, residual, 0.0))
            limit = 0.5 * (1.0 + np.abs(x))  # damped: at most half the magnitude per iteration
            x = np.where(alive, x + np.clip(step, -limit, limit), np.nan)
    states: list[tuple[float, ...]] = []
    for candidate in x.T:
        if not np.isfinite(candidate).all():
            continue
        state = _polished(model, candidate)
        if state is not None and not any(_same(state, other) for other in states):
            states.append(state)
    return _ordered(states)


def _ordered(states: list[tuple[float, ...]]) -> list[tuple[float, ...]]:
    """States with every species >= 0 (concentrations) first, each group in ascending order."""
    return sorted(states, key=lambda state: (any(value < 0 for value in state), state))
