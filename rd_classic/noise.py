r"""Noise terms: per-species additive or multiplicative noise, spatially white on the grid (Itô).

With noise a model reads

.. math::

    \partial_t s_i = R_i(s) + D_i \nabla^2 s_i + g_i(s, x, t)\, \xi_i(x, t),
    \qquad \langle \xi_i(x, t)\, \xi_j(x', t') \rangle = \delta_{ij}\, \delta(x - x')\, \delta(t - t'),

independent space-time white noises, one per species, in the Itô sense. ``g_i`` is an
expression (:mod:`rd_classic.expressions`) in the species, the parameters, ``x, y, z, t``
and ``Lx, Ly, Lz``: ``"0.01"`` is additive noise, ``"sigma*v"`` multiplicative.

**On the grid.** White noise averaged over a cell of volume ``dx^d`` (``d`` the grid's
dimension: 1, 2 or 3) and over a step ``dt`` has variance ``dt / dx^d``, so one step of
Euler–Maruyama adds ``g_i \sqrt{dt/dx^d}\, Z`` to each cell, ``Z`` standard normal,
independent between cells, species and steps (:mod:`rd_classic.random_numbers`).
**Units**: ``g_i`` is in units of ``s_i`` times ``length^{d/2} / time^{1/2}``; halving
``dx`` doubles (in 2-D) the variance of each cell's kick while the variance of the field
averaged over a fixed area stays the same, so statistics at scales above the grid do
not depend on ``dx`` (in 1-D the solution itself converges as ``dx → 0``).

**Schemes.** ``euler`` with noise is Euler–Maruyama (strong order 1/2, weak order 1).
``milstein`` adds Milstein's correction ``½ g_i ∂g_i/∂s_i (ΔW² − dt/dx^d)`` (strong
order 1) and needs diagonal noise: each ``g_i`` may depend on its own species only
(other species' dependence would need Lévy areas). The derivative is symbolic.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.expressions import Expression, parse_expression

__all__ = ["NoiseTerms", "resolve_noise", "NOISE_NAMES"]

#: names a noise amplitude may use besides the species and the parameters
NOISE_NAMES = ("x", "y", "z", "t", "Lx", "Ly", "Lz")


@dataclass(frozen=True)
class NoiseTerms:
    """The noise amplitude ``g_i`` of every species that has noise.

    Parameters
    ----------
    species
        All the model's species, in order.
    terms
        species → its amplitude (species without noise are absent).
    """

    species: tuple[str, ...]
    terms: Mapping[str, Expression]

    @property
    def noisy(self) -> tuple[int, ...]:
        """Indices of the species with noise."""
        return tuple(index for index, name in enumerate(self.species) if name in self.terms)

    @property
    def diagonal(self) -> bool:
        """Whether each species' amplitude depends on no other species (what Milstein needs)."""
        return all(not (term.names & (set(self.species) - {name})) for name, term in self.terms.items())

    @property
    def additive(self) -> bool:
        """Whether no amplitude depends on a species (Euler–Maruyama is then Milstein)."""
        return all(not (term.names & set(self.species)) for term in self.terms.values())

    def to_json(self) -> dict[str, str]:
        """species → text (what a run's ``parameters`` store as ``noise_terms``)."""
        return {name: self.terms[name].text for name in self.species if name in self.terms}

    def canonical(self) -> str:
        """The amplitudes normalised (part of the generated kernels' cache key)."""
        return json.dumps({name: term.canonical for name, term in self.terms.items()}, sort_keys=True)

    def check_milstein(self) -> None:
        """Refuse noise that is not diagonal (Milstein's correction would need Lévy areas)."""
        for name, term in self.terms.items():
            others = sorted(term.names & (set(self.species) - {name}))
            if others:
                raise ConfigError(f"milstein needs diagonal noise: the noise of {name} ({term.text}) depends on "
                                  f"{others[0]}; use --integrator euler (Euler-Maruyama)")  # fmt: skip

    @staticmethod
    def increment_scale(dx: float, dt: float, ndim: int) -> float:
        """``sqrt(dt / dx^d)``: the standard deviation of a cell's Wiener increment over one step."""
        return float(np.sqrt(dt / dx**ndim))


def resolve_noise(
    species: Sequence[str],
    parameters: Iterable[str],
    *,
    declared: Mapping[str, Expression] | None = None,
    specifications: str | Sequence[str] | Mapping[str, str] | None = None,
) -> NoiseTerms | None:
    """The noise of a run: a model file's ``[noise]``, then the user's specifications; None without noise.

    Parameters
    ----------
    species, parameters
        The model's species and parameter names.
    declared
        The model file's ``[noise]`` (species → amplitude).
    specifications
        In order, ``SPECIES=AMPLITUDE`` (``0`` removes that species' noise) or ``none``
        (removes all); a mapping ``{species: amplitude}`` is the same.

    Raises
    ------
    ConfigError
        An unknown species, or an amplitude outside the expression language.
    """
    names = set(species) | set(parameters) | set(NOISE_NAMES)
    terms: dict[str, Expression] = dict(declared or {})
    if specifications is None:
        items: list[tuple[str, Any]] = []
    elif isinstance(specifications, Mapping):
        items = list(specifications.items())
    elif isinstance(specifications, (str, list, tuple)):
        items = [_split(text) for text in ([specifications] if isinstance(specifications, str) else specifications)]
    else:
        raise ConfigError(f"--noise must be a term like 'u=0.01', a list of them or a mapping {{'u': '0.01'}}, "
                          f"got {specifications!r}")
    for name, text in items:
        if name is None:
            terms.clear()
            continue
        if name not in species:
            raise ConfigError(f"--noise {name}: not a species (species: {', '.join(species)})")
        expression = parse_expression(text, names, where=f"--noise {name}")
        if not expression.names and float(expression.evaluate({})) == 0.0:
            terms.pop(name, None)
        else:
            terms[name] = expression
    if not terms:
        return None
    return NoiseTerms(tuple(species), {name: terms[name] for name in species if name in terms})


def _split(text: Any) -> tuple[str | None, Any]:
    if not isinstance(text, str):
        raise ConfigError(f"--noise needs SPECIES=AMPLITUDE, got {type(text).__name__}")
    if text.strip().lower() == "none":
        return None, None
    name, separator, amplitude = text.partition("=")
    if not separator or not name.strip():
        raise ConfigError(f"--noise needs SPECIES=AMPLITUDE (like u=0.01 or v=0.1*v) or none, got {text[:60]!r}")
    return name.strip(), amplitude.strip()
