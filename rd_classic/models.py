"""Two-species reaction-diffusion models, registered by name.

Every model is a small frozen dataclass holding its parameters (with defaults and
units in the field metadata). It knows its reaction terms :math:`f(u, v)`,
:math:`g(u, v)`, its diffusion coefficients, its homogeneous steady states and its
Jacobian, and nothing about grids, time stepping or files:

.. math::

    \\partial_t u = f(u, v) + D_u \\nabla^2 u, \\qquad
    \\partial_t v = g(u, v) + D_v \\nabla^2 v .

``reaction`` uses only arithmetic, so it works on NumPy arrays and torch tensors
alike. The compiled CPU kernels (:mod:`rd_classic.kernels_numba`) carry a scalar copy
of each reaction, selected by the model's ``kernel_id``; the tests hold the two
against each other.

Examples
--------
>>> from rd_classic.models import get_model
>>> model = get_model("gray-scott", F=0.035, k=0.065)
>>> model.diffusion
(2e-05, 1e-05)
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from rdnet.errors import ConfigError

__all__ = [
    "ReactionDiffusionModel",
    "GrayScott",
    "Schnakenberg",
    "GiererMeinhardt",
    "Brusselator",
    "FitzHughNagumo",
    "LinearReaction",
    "MODELS",
    "register_model",
    "get_model",
    "model_names",
]

#: name -> model class
MODELS: dict[str, type[ReactionDiffusionModel]] = {}


def register_model(cls: type[ReactionDiffusionModel]) -> type[ReactionDiffusionModel]:
    """Class decorator adding a model to :data:`MODELS` under ``cls.name``."""
    if cls.name in MODELS:
        raise ValueError(f"model {cls.name!r} is registered twice")
    MODELS[cls.name] = cls
    return cls


def model_names() -> list[str]:
    """Names of the registered models, sorted."""
    return sorted(MODELS)


def get_model(name: str, **parameters: float) -> ReactionDiffusionModel:
    """Build a registered model by name, with some parameters changed.

    Parameters
    ----------
    name
        A registered name (see :func:`model_names`).
    **parameters
        Parameter values replacing the defaults.

    Returns
    -------
    ReactionDiffusionModel

    Raises
    ------
    ConfigError
        Unknown model or parameter name, non-finite value, negative diffusion.
    """
    try:
        cls = MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(model_names())}") from None
    return cls().with_parameters(**parameters)


def _param(default: float, units: str, description: str) -> Any:
    return field(default=default, metadata={"units": units, "description": description})


@dataclass(frozen=True)
class ReactionDiffusionModel:
    """Base class: parameters, validation and the linearisation shared by all models.

    Subclasses define the dataclass fields (parameters), ``name``, ``kernel_id``,
    ``reaction``, ``jacobian`` and ``steady_states``; the last two must agree with
    ``reaction`` (the tests check the Jacobian by finite differences and the states
    by evaluating the reaction there).
    """

    #: registry name
    name: ClassVar[str] = ""
    #: index of the scalar reaction in :mod:`rd_classic.kernels_numba`
    kernel_id: ClassVar[int] = -1
    #: names of the two species and their long names
    species_long_names: ClassVar[tuple[str, str]] = ("species u", "species v")
    #: names of the parameters passed to the compiled kernel, in order
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ()

    # -- parameters ---------------------------------------------------------------
    @classmethod
    def parameter_names(cls) -> list[str]:
        """Names of the model's parameters, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def parameter_units(cls) -> dict[str, str]:
        """Units of every parameter."""
        return {f.name: f.metadata.get("units", "1") for f in dataclasses.fields(cls)}

    @classmethod
    def parameter_descriptions(cls) -> dict[str, str]:
        """One-line description of every parameter."""
        return {f.name: f.metadata.get("description", "") for f in dataclasses.fields(cls)}

    def parameters(self) -> dict[str, float]:
        """The parameter values as a plain dict (JSON-able)."""
        return {name: float(getattr(self, name)) for name in self.parameter_names()}

    def with_parameters(self, **changes: float) -> ReactionDiffusionModel:
        """A copy with some parameters changed, validated.

        Raises
        ------
        ConfigError
            Unknown name, a value that is not a finite number, negative diffusion,
            or a model-specific constraint violated.
        """
        valid = self.parameter_names()
        for key, value in changes.items():
            if key not in valid:
                raise ConfigError(f"model {self.name!r} has no parameter {key!r}; valid parameters: {', '.join(valid)}")
            try:
                number = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"parameter {key} must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise ConfigError(f"parameter {key} must be finite, got {value!r}")
            changes[key] = number
        model = dataclasses.replace(self, **changes)
        model.validate()
        return model

    def validate(self) -> None:
        """Check the parameters; raise :class:`ConfigError` naming the bad one."""
        for key, value in zip(("Du", "Dv"), self.diffusion):
            if value < 0:
                raise ConfigError(f"diffusion coefficient {key} must be >= 0, got {value}")

    # -- model ----------------------------------------------------------------------
    @property
    def diffusion(self) -> tuple[float, float]:
        """The diffusion coefficients ``(Du, Dv)``."""
        return (float(self.Du), float(self.Dv))  # type: ignore[attr-defined]

    def kernel_parameters(self) -> np.ndarray:
        """Parameters of the compiled scalar reaction, in ``kernel_parameter_names`` order."""
        values = [float(getattr(self, name)) for name in self.kernel_parameter_names]
        return np.array(values + [0.0] * (4 - len(values)), dtype=np.float64)

    def reaction(self, u, v):
        """Reaction terms ``(f(u, v), g(u, v))``; works on arrays and tensors."""
        raise NotImplementedError

    def jacobian(self, u: float, v: float) -> np.ndarray:
        """The 2×2 Jacobian ``[[f_u, f_v], [g_u, g_v]]`` of the reaction at ``(u, v)``."""
        raise NotImplementedError

    def steady_states(self) -> list[tuple[float, float]]:
        """All homogeneous steady states (real, physically admissible)."""
        raise NotImplementedError

    def homogeneous_state(self) -> tuple[float, float]:
        """The steady state used by default for linear stability analysis."""
        return self.steady_states()[0]


@register_model
@dataclass(frozen=True)
class GrayScott(ReactionDiffusionModel):
    r"""Gray-Scott model in Pearson's form.

    .. math::

        \partial_t u = -u v^2 + F (1 - u) + D_u \nabla^2 u, \qquad
        \partial_t v = u v^2 - (F + k) v + D_v \nabla^2 v .

    Source: J. E. Pearson, "Complex patterns in a simple system", Science 261:189 (1993);
    P. Gray and S. K. Scott, Chem. Eng. Sci. 38:29 (1983). Pearson's set-up: a
    2.5 × 2.5 domain on a 256² grid, :math:`D_u = 2\cdot 10^{-5}`, :math:`D_v = 10^{-5}`.
    """

    name: ClassVar[str] = "gray-scott"
    kernel_id: ClassVar[int] = 0
    species_long_names: ClassVar[tuple[str, str]] = ("substrate concentration u", "autocatalyst concentration v")
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ("F", "k")

    F: float = _param(0.0367, "1/time", "feed rate")
    k: float = _param(0.0649, "1/time", "removal rate of v minus F")
    Du: float = _param(2e-5, "length^2/time", "diffusion coefficient of u")
    Dv: float = _param(1e-5, "length^2/time", "diffusion coefficient of v")

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.F < 0 or self.k < 0:
            raise ConfigError(f"gray-scott needs F >= 0 and k >= 0, got F={self.F}, k={self.k}")

    def reaction(self, u, v):  # noqa: D102
        uvv = u * v * v
        return -uvv + self.F * (1.0 - u), uvv - (self.F + self.k) * v

    def jacobian(self, u: float, v: float) -> np.ndarray:  # noqa: D102
        return np.array([[-v * v - self.F, -2.0 * u * v], [v * v, 2.0 * u * v - (self.F + self.k)]])

    def steady_states(self) -> list[tuple[float, float]]:
        """The trivial state (1, 0), then the two others where F ≥ 4(F + k)²."""
        states = [(1.0, 0.0)]
        F, k = self.F, self.k
        if F > 0:
            # g = 0 with v != 0 gives u = (F + k)/v; then f = 0 gives
            # (F + k) v^2 - F v + F (F + k) = 0
            discriminant = F * F - 4.0 * F * (F + k) ** 2
            if discriminant >= 0:
                root = math.sqrt(discriminant)
                for v in ((F + root) / (2.0 * (F + k)), (F - root) / (2.0 * (F + k))):
                    states.append(((F + k) / v, v))
        return states


@register_model
@dataclass(frozen=True)
class Schnakenberg(ReactionDiffusionModel):
    r"""Schnakenberg (activator-substrate) model.

    .. math::

        \partial_t u = a - u + u^2 v + D_u \nabla^2 u, \qquad
        \partial_t v = b - u^2 v + D_v \nabla^2 v .

    Source: J. Schnakenberg, J. Theor. Biol. 81:389 (1979); J. D. Murray,
    *Mathematical Biology II*, §2.4. Steady state :math:`u^* = a + b`,
    :math:`v^* = b / (a + b)^2`.
    """

    name: ClassVar[str] = "schnakenberg"
    kernel_id: ClassVar[int] = 1
    species_long_names: ClassVar[tuple[str, str]] = ("activator u", "substrate v")
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ("a", "b")

    a: float = _param(0.1, "1", "production of u")
    b: float = _param(0.9, "1", "production of v")
    Du: float = _param(1.0, "length^2/time", "diffusion coefficient of u")
    Dv: float = _param(20.0, "length^2/time", "diffusion coefficient of v")

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.a + self.b <= 0:
            raise ConfigError(f"schnakenberg needs a + b > 0, got a={self.a}, b={self.b}")

    def reaction(self, u, v):  # noqa: D102
        uuv = u * u * v
        return self.a - u + uuv, self.b - uuv

    def jacobian(self, u: float, v: float) -> np.ndarray:  # noqa: D102
        return np.array([[-1.0 + 2.0 * u * v, u * u], [-2.0 * u * v, -u * u]])

    def steady_states(self) -> list[tuple[float, float]]:  # noqa: D102
        s = self.a + self.b
        return [(s, self.b / (s * s))]


@register_model
@dataclass(frozen=True)
class GiererMeinhardt(ReactionDiffusionModel):
    r"""Gierer-Meinhardt activator-inhibitor model (Murray's non-dimensional form).

    .. math::

        \partial_t u = a - b u + \frac{u^2}{v} + D_u \nabla^2 u, \qquad
        \partial_t v = u^2 - v + D_v \nabla^2 v .

    Source: A. Gierer and H. Meinhardt, Kybernetik 12:30 (1972); J. D. Murray,
    *Mathematical Biology II*, §2.4. Steady state :math:`u^* = (a + 1)/b`,
    :math:`v^* = {u^*}^2`.
    """

    name: ClassVar[str] = "gierer-meinhardt"
    kernel_id: ClassVar[int] = 2
    species_long_names: ClassVar[tuple[str, str]] = ("activator u", "inhibitor v")
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ("a", "b")

    a: float = _param(0.1, "1", "basal production of u")
    b: float = _param(1.0, "1", "decay rate of u")
    Du: float = _param(1.0, "length^2/time", "diffusion coefficient of u")
    Dv: float = _param(40.0, "length^2/time", "diffusion coefficient of v")

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.b <= 0 or self.a <= -1:
            raise ConfigError(f"gierer-meinhardt needs b > 0 and a > -1, got a={self.a}, b={self.b}")

    def reaction(self, u, v):  # noqa: D102
        uu = u * u
        return self.a - self.b * u + uu / v, uu - v

    def jacobian(self, u: float, v: float) -> np.ndarray:  # noqa: D102
        return np.array([[-self.b + 2.0 * u / v, -u * u / (v * v)], [2.0 * u, -1.0]])

    def steady_states(self) -> list[tuple[float, float]]:  # noqa: D102
        u = (self.a + 1.0) / self.b
        return [(u, u * u)]


@register_model
@dataclass(frozen=True)
class Brusselator(ReactionDiffusionModel):
    r"""Brusselator.

    .. math::

        \partial_t u = a - (b + 1) u + u^2 v + D_u \nabla^2 u, \qquad
        \partial_t v = b u - u^2 v + D_v \nabla^2 v .

    Source: I. Prigogine and R. Lefever, J. Chem. Phys. 48:1695 (1968). Steady state
    :math:`(a, b/a)`; Turing unstable for :math:`b > (1 + a\sqrt{D_u/D_v})^2`, Hopf
    stable for :math:`b < 1 + a^2`.
    """

    name: ClassVar[str] = "brusselator"
    kernel_id: ClassVar[int] = 3
    species_long_names: ClassVar[tuple[str, str]] = ("activator u", "inhibitor v")
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ("a", "b")

    a: float = _param(4.5, "1", "production of u")
    b: float = _param(7.5, "1", "conversion rate of u into v")
    Du: float = _param(2.0, "length^2/time", "diffusion coefficient of u")
    Dv: float = _param(16.0, "length^2/time", "diffusion coefficient of v")

    def validate(self) -> None:  # noqa: D102
        super().validate()
        if self.a <= 0:
            raise ConfigError(f"brusselator needs a > 0, got a={self.a}")

    def reaction(self, u, v):  # noqa: D102
        uuv = u * u * v
        return self.a - (self.b + 1.0) * u + uuv, self.b * u - uuv

    def jacobian(self, u: float, v: float) -> np.ndarray:  # noqa: D102
        return np.array([[-(self.b + 1.0) + 2.0 * u * v, u * u], [self.b - 2.0 * u * v, -u * u]])

    def steady_states(self) -> list[tuple[float, float]]:  # noqa: D102
        return [(self.a, self.b / self.a)]


@register_model
@dataclass(frozen=True)
class FitzHughNagumo(ReactionDiffusionModel):
    r"""FitzHugh-Nagumo in a Turing-unstable (activator-inhibitor) form.

    .. math::

        \partial_t u = u - u^3 - v + D_u \nabla^2 u, \qquad
        \partial_t v = \varepsilon (u - a_1 v - a_0) + D_v \nabla^2 v .

    Source: R. FitzHugh, Biophys. J. 1:445 (1961); the Turing form follows VisualPDE's
    "FitzHugh-Nagumo" example (Walker et al., Bull. Math. Biol. 85:113, 2023). With
    :math:`a_0 = 0` and :math:`a_1 < 1` the only steady state is (0, 0).
    """

    name: ClassVar[str] = "fitzhugh-nagumo"
    kernel_id: ClassVar[int] = 4
    species_long_names: ClassVar[tuple[str, str]] = ("activator u", "inhibitor v")
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ("epsilon", "a1", "a0")

    epsilon: float = _param(2.0, "1", "time-scale ratio of v")
    a1: float = _param(0.75, "1", "self-inhibition of v")
    a0: float = _param(0.0, "1", "offset of the v-nullcline")
    Du: float = _param(1.0, "length^2/time", "diffusion coefficient of u")
    Dv: float = _param(10.0, "length^2/time", "diffusion coefficient of v")

    def reaction(self, u, v):  # noqa: D102
        return u - u * u * u - v, self.epsilon * (u - self.a1 * v - self.a0)

    def jacobian(self, u: float, v: float) -> np.ndarray:  # noqa: D102
        return np.array([[1.0 - 3.0 * u * u, -1.0], [self.epsilon, -self.epsilon * self.a1]])

    def steady_states(self) -> list[tuple[float, float]]:
        """Real roots of u - u³ = (u - a0)/a1 (v = u - u³), or u = a0 when a1 = 0."""
        if self.a1 == 0:
            u = self.a0
            return [(u, u - u**3)]
        # a1 u^3 + (1 - a1) u - a0 = 0
        roots = np.roots([self.a1, 0.0, 1.0 - self.a1, -self.a0])
        real = sorted(float(r.real) for r in roots if abs(r.imag) < 1e-10)
        return [(u, u - u**3) for u in real]


@register_model
@dataclass(frozen=True)
class LinearReaction(ReactionDiffusionModel):
    r"""Linear reaction: the exactly solvable test problem.

    .. math::

        \partial_t u = a u + b v + D_u \nabla^2 u, \qquad
        \partial_t v = c u + d v + D_v \nabla^2 v .

    A Fourier mode :math:`e^{i q x}` evolves as :math:`\exp[(J - q^2 D) t]`, so this
    model checks integrators and the dispersion relation against closed forms. With
    all reaction coefficients zero it is pure diffusion.
    """

    name: ClassVar[str] = "linear"
    kernel_id: ClassVar[int] = 5
    kernel_parameter_names: ClassVar[tuple[str, ...]] = ("a", "b", "c", "d")

    a: float = _param(0.0, "1/time", "coefficient of u in f")
    b: float = _param(0.0, "1/time", "coefficient of v in f")
    c: float = _param(0.0, "1/time", "coefficient of u in g")
    d: float = _param(0.0, "1/time", "coefficient of v in g")
    Du: float = _param(1.0, "length^2/time", "diffusion coefficient of u")
    Dv: float = _param(1.0, "length^2/time", "diffusion coefficient of v")

    def reaction(self, u, v):  # noqa: D102
        return self.a * u + self.b * v, self.c * u + self.d * v

    def jacobian(self, u: float, v: float) -> np.ndarray:  # noqa: D102
        return np.array([[self.a, self.b], [self.c, self.d]])

    def steady_states(self) -> list[tuple[float, float]]:  # noqa: D102
        return [(0.0, 0.0)]
