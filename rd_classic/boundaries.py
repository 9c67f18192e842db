"""Boundary conditions per species and per side: periodic, Neumann, Dirichlet and Robin.

A side of the box is named by its axis and direction: ``x-`` is the face at ``x = 0``
(outward normal ``-x``), ``x+`` the face at ``x = Lx``; likewise ``y-``, ``y+``, ``z-``,
``z+``. Each species has one condition on every side, written as text:

``periodic``
    wraps around (then the opposite side of that axis is periodic too);
``neumann G``
    a given outward flux ``∂u/∂n = G`` (``no-flux`` is ``neumann 0``);
``dirichlet V``
    a value ``u = V`` at the face;
``robin A B C``
    ``A u + B ∂u/∂n = C`` (the three may be separated by commas instead of spaces, which
    an expression containing spaces needs: ``robin 1, 0.5, 2 + x``).

``G``, ``V`` and ``C`` are expressions (:mod:`rd_classic.expressions`: parsed with the
whitelist, never executed) in the parameters, the face's coordinates ``x, y, z``, the time
``t`` and ``Lx, Ly, Lz``; ``A`` and ``B`` in the parameters. Neumann and Dirichlet are the
Robin conditions ``(0, 1, G)`` and ``(1, 0, V)``.

**Ghost cells.** Cells are centred, so a face lies half a cell outside its edge cell
(value ``u_e``). A ghost cell half a cell beyond the face (value ``u_g``) gives the
face value ``(u_e + u_g)/2`` and the outward derivative ``(u_g - u_e)/dx``, both second
order at the face; a Robin condition then fixes the ghost value linearly:

.. math::

    u_g = \\alpha u_e + \\beta, \\qquad
    \\alpha = \\frac{B/dx - A/2}{B/dx + A/2}, \\qquad \\beta = \\frac{C}{B/dx + A/2}

(Dirichlet: ``α = -1``, ``β = 2V``; Neumann: ``α = 1``, ``β = G dx``), and the 3-, 5- or
7-point Laplacian reads the ghost where its stencil leaves the box. The discrete operator
of one axis is then symmetric tridiagonal: its eigenvectors are the cosine modes
``cos(π m (j + ½)/n)`` for ``α = 1`` on both sides (DCT-II) and the sine modes
``sin(π (m + 1)(j + ½)/n)`` for ``α = -1`` (DST-II), which :func:`axis_eigenvalues` and the
spectral steppers use.

This module holds the conditions as data and their discrete coefficients; it imports
nothing heavy (the CPU corrections are in :mod:`rd_classic.ghost_cells`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.expressions import Expression, parse_expression

__all__ = [
    "SIDES",
    "AXES",
    "KINDS",
    "SideCondition",
    "BoundaryConditions",
    "parse_side_condition",
    "declared_boundary",
    "resolve_boundary_conditions",
    "conditions_or_uniform",
    "face_points",
    "axis_eigenvalues",
]

#: the six sides, in the order every array of per-side values uses
SIDES = ("x-", "x+", "y-", "y+", "z-", "z+")
#: the axes, in the order of :data:`SIDES`
AXES = ("x", "y", "z")
#: the kinds of condition
KINDS = ("periodic", "neumann", "dirichlet", "robin")
#: the words a condition may start with (``no-flux`` is ``neumann 0``)
WORDS = ("periodic", "no-flux", "neumann", "dirichlet", "robin")
#: names a condition's value may use besides the parameters
VALUE_NAMES = ("x", "y", "z", "t", "Lx", "Ly", "Lz")
#: names the coefficients ``A`` and ``B`` of a Robin condition may use besides the parameters
COEFFICIENT_NAMES = ("Lx", "Ly", "Lz")


@dataclass(frozen=True)
class SideCondition:
    """The condition of one species on one side.

    Parameters
    ----------
    kind
        ``"periodic"``, ``"neumann"``, ``"dirichlet"`` or ``"robin"``.
    coefficients
        ``(A, B, C)`` of ``A u + B ∂u/∂n = C`` (None for ``periodic``).
    text
        The condition as stored (normalised: ``neumann 0``, ``robin 1, 2, x``).
    """

    kind: str
    coefficients: tuple[Expression, Expression, Expression] | None
    text: str

    @property
    def periodic(self) -> bool:
        """Whether the side wraps around."""
        return self.kind == "periodic"

    @property
    def homogeneous(self) -> bool:
        """Whether the right-hand side ``C`` is the constant 0 (the condition is linear, not affine)."""
        if self.coefficients is None:
            return True
        value = self.coefficients[2]
        return not value.names and float(value.evaluate({})) == 0.0

    @property
    def zero_flux(self) -> bool:
        """Whether this is ``neumann 0`` (the mirrored edge cell of a no-flux grid)."""
        return self.kind == "neumann" and self.homogeneous

    @property
    def time_dependent(self) -> bool:
        """Whether the value depends on ``t`` (then it is evaluated at every stage's time)."""
        return self.coefficients is not None and "t" in self.coefficients[2].names

    def ghost_alpha(self, values: Mapping[str, Any], dx: float) -> float:
        """``α`` of the ghost value ``u_g = α u_e + β`` (see the module docstring).

        Raises
        ------
        ConfigError
            ``B/dx + A/2 = 0``: the condition leaves the ghost value undetermined on this grid.
        """
        return float(self._coefficients(values, dx)[0])

    def ghost_beta(self, values: Mapping[str, Any], dx: float, *, library: str = "numpy") -> Any:
        """``β`` of the ghost value at the face's points (``values`` holds their ``x, y, z``, ``t``)."""
        denominator = self._coefficients(values, dx)[1]
        return self.coefficients[2].evaluate(values, library=library) / denominator

    def _coefficients(self, values: Mapping[str, Any], dx: float) -> tuple[float, float]:
        if self.coefficients is None:
            raise ValueError("a periodic side has no ghost coefficients")
        a = float(self.coefficients[0].evaluate(values))
        b = float(self.coefficients[1].evaluate(values))
        denominator = b / dx + a / 2.0
        if not math.isfinite(denominator) or abs(denominator) <= 1e-12 * (abs(b / dx) + abs(a / 2.0)):
            raise ConfigError(f"boundary condition '{self.text}': A/2 + B/dx = 0 at dx = {dx:g}, so it fixes no "
                              f"ghost value; change A or B")  # fmt: skip
        return (b / dx - a / 2.0) / denominator, denominator


def parse_side_condition(text: Any, parameters: Iterable[str], *, where: str = "boundary") -> SideCondition:
    """Parse one condition (``periodic``, ``no-flux``, ``neumann G``, ``dirichlet V``, ``robin A B C``).

    Parameters
    ----------
    text
        The condition.
    parameters
        The model's parameter names (the values may use them).
    where
        Named in error messages (``boundary.u``).

    Raises
    ------
    ConfigError
        An unknown word, the wrong number of values, or a value outside the expression language.
    """
    if not isinstance(text, str):
        raise ConfigError(f"{where}: a boundary condition must be a string like \"dirichlet 1\", got {type(text).__name__}")
    stripped = text.strip()
    word, _, rest = stripped.partition(" ")
    word = word.lower()
    rest = rest.strip()
    parameters = tuple(parameters)
    value_names = set(parameters) | set(VALUE_NAMES)
    coefficient_names = set(parameters) | set(COEFFICIENT_NAMES)
    if word not in WORDS:
        raise ConfigError(f"{where}: unknown boundary condition {stripped[:40]!r}; valid: periodic, no-flux, "
                          f"neumann G, dirichlet V, robin A B C")  # fmt: skip
    if word in ("periodic", "no-flux"):
        if rest:
            raise ConfigError(f"{where}: '{word}' takes no value, got {stripped[:60]!r}")
        if word == "periodic":
            return SideCondition("periodic", None, "periodic")
        word, rest = "neumann", "0"
    if word in ("neumann", "dirichlet"):
        if not rest:
            raise ConfigError(f"{where}: '{word}' needs a value, like \"{word} 0\"")
        value = parse_expression(rest, value_names, where=f"{where} ({word})")
        one, zero = parse_expression("1", ()), parse_expression("0", ())
        coefficients = (zero, one, value) if word == "neumann" else (one, zero, value)
        return SideCondition(word, coefficients, f"{word} {value.text}")
    parts = _split_values(rest)
    if len(parts) != 3:
        raise ConfigError(f"{where}: 'robin' needs three values A B C (A u + B du/dn = C), got {len(parts)} in "
                          f"{stripped[:60]!r}; separate them with commas when they contain spaces")  # fmt: skip
    a = parse_expression(parts[0], coefficient_names, where=f"{where} (robin A)")
    b = parse_expression(parts[1], coefficient_names, where=f"{where} (robin B)")
    c = parse_expression(parts[2], value_names, where=f"{where} (robin C)")
    return SideCondition("robin", (a, b, c), f"robin {a.text}, {b.text}, {c.text}")


def _split_values(text: str) -> list[str]:
    """Split at top-level commas if there are any, else at top-level whitespace."""
    depth, pieces, current = 0, [], []
    separator = "," if _top_level(text, ",") else None
    for character in text:
        depth += character == "("
        depth -= character == ")"
        at_top = depth == 0
        if at_top and ((separator == "," and character == ",") or (separator is None and character.isspace())):
            pieces.append("".join(current))
            current = []
        else:
            current.append(character)
    pieces.append("".join(current))
    if separator == ",":  # an empty value between commas (or after the last) is a missing value, not no value
        return [piece.strip() for piece in pieces]
    return [piece.strip() for piece in pieces if piece.strip()]


def _top_level(text: str, character: str) -> bool:
    depth = 0
    for item in text:
        depth += item == "("
        depth -= item == ")"
        if depth == 0 and item == character:
            return True
    return False


#: the keys of a per-species table: single sides, or both sides of an axis
_SIDE_KEYS = {**{side: (side,) for side in SIDES}, **{axis: (f"{axis}-", f"{axis}+") for axis in AXES}}


def declared_boundary(table: Any, species: Sequence[str], parameters: Iterable[str]) -> dict[str, dict[str, SideCondition]]:
    """Read a model file's ``[boundary]`` table: species → side → condition (only the sides it names).

    ``u = "dirichlet 1"`` sets every side of ``u``; a sub-table ``[boundary.u]`` sets single
    sides (``"x-"``, ``"x+"``, ... ``"z+"``) or both sides of an axis (``x``, ``y``, ``z``).

    Raises
    ------
    ConfigError
        Not a table, an unknown species or side, or a condition :func:`parse_side_condition` refuses.
    """
    if not isinstance(table, dict):
        raise ConfigError('boundary must be a table (species = "condition", or [boundary.SPECIES] with sides)')
    parameters = tuple(parameters)
    declared: dict[str, dict[str, SideCondition]] = {}
    for name, entry in table.items():
        if name not in species:
            raise ConfigError(f"boundary: {name!r} is not a species (species: {', '.join(species)})")
        if isinstance(entry, dict):
            sides: dict[str, SideCondition] = {}
            for key, text in entry.items():
                if key not in _SIDE_KEYS:
                    raise ConfigError(f"boundary.{name}: unknown side {key!r} (sides: {', '.join(SIDES)}, or x, y, z "
                                      f"for both sides of an axis)")  # fmt: skip
                condition = parse_side_condition(text, parameters, where=f"boundary.{name}.{key}")
                sides.update({side: condition for side in _SIDE_KEYS[key]})
            declared[name] = sides
        else:
            condition = parse_side_condition(entry, parameters, where=f"boundary.{name}")
            declared[name] = {side: condition for side in SIDES}
    return declared


@dataclass(frozen=True)
class BoundaryConditions:
    """Every species' condition on every side.

    Build one with :func:`resolve_boundary_conditions` (or :meth:`uniform`).

    Parameters
    ----------
    conditions
        species → side (all of :data:`SIDES`) → :class:`SideCondition`.
    """

    conditions: Mapping[str, Mapping[str, SideCondition]]

    @classmethod
    def uniform(cls, text: str, species: Sequence[str], parameters: Iterable[str] = ()) -> BoundaryConditions:
        """The same condition on every side of every species (``"periodic"``, ``"no-flux"``, ``"dirichlet 0"``...)."""
        condition = parse_side_condition(text, parameters, where="boundary")
        return cls({name: {side: condition for side in SIDES} for name in species})

    @property
    def species(self) -> tuple[str, ...]:
        """The species, in order."""
        return tuple(self.conditions)

    def side(self, species: str, side: str) -> SideCondition:
        """The condition of ``species`` on ``side``."""
        return self.conditions[species][side]

    @staticmethod
    def sides_of(ndim: int) -> tuple[str, ...]:
        """The sides a grid of dimension ``ndim`` has (a 1-D grid only ``x-``, ``x+``)."""
        return SIDES[: 2 * ndim]

    def used(self, ndim: int) -> list[SideCondition]:
        """Every species' condition on every side a grid of dimension ``ndim`` has."""
        return [self.conditions[name][side] for name in self.species for side in self.sides_of(ndim)]

    def all_periodic(self, ndim: int) -> bool:
        """Whether every side the grid has is periodic for every species."""
        return all(condition.periodic for condition in self.used(ndim))

    def all_zero_flux(self, ndim: int) -> bool:
        """Whether every side the grid has is ``neumann 0`` for every species."""
        return all(condition.zero_flux for condition in self.used(ndim))

    def summary(self, ndim: int) -> str:
        """``"periodic"``, ``"no-flux"`` (every side, every species) or ``"mixed"``."""
        if self.all_periodic(ndim):
            return "periodic"
        if self.all_zero_flux(ndim):
            return "no-flux"
        return "mixed"

    def check(self, ndim: int) -> None:
        """Refuse a species periodic on one side of an axis and not on the other."""
        for name in self.species:
            for axis in AXES[:ndim]:
                low, high = self.conditions[name][f"{axis}-"], self.conditions[name][f"{axis}+"]
                if low.periodic != high.periodic:
                    raise ConfigError(f"boundary of {name}: {axis}- is '{low.text}' and {axis}+ is '{high.text}'; "
                                      f"a periodic axis is periodic on both sides")  # fmt: skip

    def check_finite_at_start(self, shape: Sequence[int], axes: Sequence[str], ndim: int, base: Mapping[str, Any],
                              dx: float) -> None:  # fmt: skip
        """Refuse a side whose value is not finite at ``t = 0`` (``dirichlet log(t)``, ``1/x`` on ``x-``...).

        ``base`` holds the parameters and the grid's coordinates
        (:meth:`~rd_classic.grids.Grid.expression_values`); the run would otherwise start
        with NaN or infinite ghost cells and stop at its first step as if ``dt`` were too large.
        """
        for name in self.species:
            for side in self.sides_of(ndim):
                condition = self.conditions[name][side]
                if condition.periodic or condition.homogeneous:
                    continue
                values, _ = face_points(shape, axes, side, {**base, "t": 0.0})
                with np.errstate(all="ignore"):
                    beta = np.asarray(condition.ghost_beta(values, dx), dtype=float)
                if not np.all(np.isfinite(beta)):
                    raise ConfigError(f"boundary of {name} on {side}: '{condition.text}' is not finite at t = 0 "
                                      f"on that side")  # fmt: skip

    def to_json(self) -> dict[str, dict[str, str]]:
        """species → side → text (what a run's ``parameters`` store as ``boundary_conditions``)."""
        return {name: {side: condition.text for side, condition in sides.items()} for name, sides in self.conditions.items()}

    @classmethod
    def from_json(cls, data: Any, species: Sequence[str], parameters: Iterable[str]) -> BoundaryConditions:
        """Rebuild from :meth:`to_json` (stored text is untrusted: parsed with the same checks)."""
        if not isinstance(data, dict) or set(data) != set(species):
            raise ConfigError("the stored boundary_conditions do not name every species")
        parameters = tuple(parameters)
        conditions = {}
        for name in species:
            sides = data[name]
            if not isinstance(sides, dict) or set(sides) != set(SIDES):
                raise ConfigError(f"the stored boundary_conditions of {name} do not name every side")
            conditions[name] = {side: parse_side_condition(sides[side], parameters, where=f"boundary_conditions.{name}.{side}")
                                for side in SIDES}  # fmt: skip
        return cls(conditions)

    def axis_alphas(self, species: str, axis: str, values: Mapping[str, Any], dx: float) -> tuple[float, float] | None:
        """``(α-, α+)`` of the ghost values on both sides of ``axis`` (None when the axis is periodic)."""
        low, high = self.conditions[species][f"{axis}-"], self.conditions[species][f"{axis}+"]
        if low.periodic:
            return None
        return low.ghost_alpha(values, dx), high.ghost_alpha(values, dx)


def resolve_boundary_conditions(
    species: Sequence[str],
    parameters: Iterable[str],
    *,
    declared: Mapping[str, Mapping[str, SideCondition]] | None = None,
    specifications: str | Sequence[str] | Mapping[str, str] | None = None,
    default: str = "periodic",
    ndim: int | None = None,
) -> BoundaryConditions:
    """Every species' conditions: ``default``, then a model file's, then the user's specifications.

    Parameters
    ----------
    species, parameters
        The model's species and parameter names.
    declared
        The model file's ``[boundary]`` (see :func:`declared_boundary`).
    specifications
        In order, each ``CONDITION`` (every species, every side: a bare ``periodic`` or
        ``no-flux`` keeps its old meaning), ``SPECIES=CONDITION`` (every side of one
        species) or ``SPECIES.SIDE=CONDITION`` (``SIDE`` one of :data:`SIDES`, or an axis
        ``x``, ``y``, ``z`` for both its sides); a mapping ``{target: condition}`` is the
        same with ``target`` left of ``=``.
    default
        The condition of every side nothing else sets.
    ndim
        The grid's dimension: a specification naming a side it lacks (``z+`` on a 2-D grid,
        ``y-`` on a 1-D one) is refused. A model file's table may name any side (it serves
        every grid).

    Raises
    ------
    ConfigError
        An unknown species or side, a side the grid lacks, or a condition
        :func:`parse_side_condition` refuses.
    """
    parameters = tuple(parameters)
    base = parse_side_condition(default, parameters, where="boundary")
    conditions = {name: {side: base for side in SIDES} for name in species}
    for name, sides in (declared or {}).items():
        conditions[name].update(sides)
    if specifications is None:
        items: list[tuple[str | None, str]] = []
    elif isinstance(specifications, str):
        items = [_split_target(specifications)]
    elif isinstance(specifications, Mapping):
        items = [(str(target), text) for target, text in specifications.items()]
    elif isinstance(specifications, (list, tuple)):
        items = [_split_target(text) for text in specifications]
    else:
        raise ConfigError(f"--boundary must be a condition like 'no-flux', a list of them or a mapping "
                          f"{{'u': 'dirichlet 1'}}, got {specifications!r}")
    for target, text in items:
        where = f"--boundary {target}" if target else "--boundary"
        condition = parse_side_condition(text, parameters, where=where)
        if target is None:
            for name in species:
                conditions[name] = {side: condition for side in SIDES}
            continue
        name, _, side = target.partition(".")
        if name not in conditions:
            raise ConfigError(f"{where}: {name!r} is not a species (species: {', '.join(species)})")
        if side and side not in _SIDE_KEYS:
            raise ConfigError(f"{where}: unknown side {side!r} (sides: {', '.join(SIDES)}, or x, y, z)")
        if side and ndim is not None and side[0] not in AXES[:ndim]:
            raise ConfigError(f"{where}: the grid is {ndim}-D: it has no side {side} "
                              f"(sides: {', '.join(SIDES[:2 * ndim])})")  # fmt: skip
        for one in _SIDE_KEYS[side] if side else SIDES:
            conditions[name][one] = condition
    return BoundaryConditions(conditions)


def conditions_or_uniform(boundary: BoundaryConditions | None, species: Sequence[str], word: str,
                          ndim: int) -> BoundaryConditions:  # fmt: skip
    """``boundary`` checked for these species and this grid dimension, or ``word`` on every side of every species."""
    if boundary is None:
        return BoundaryConditions.uniform(word, species)
    if boundary.species != tuple(species):
        raise ConfigError(f"the boundary conditions are for species {', '.join(boundary.species)}, "
                          f"the model has {', '.join(species)}")  # fmt: skip
    boundary.check(ndim)
    return boundary


_TARGET = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*(?:\.[xyz][+-]?)?)\s*=(.*)\Z", re.S)


def _split_target(text: Any) -> tuple[str | None, str]:
    if not isinstance(text, str):
        raise ConfigError(f"--boundary needs text like 'no-flux' or 'u=dirichlet 1', got {type(text).__name__}")
    match = _TARGET.match(text)
    if match is None:
        if "=" in text:
            raise ConfigError(f"--boundary {text[:60]!r}: write SPECIES=CONDITION or SPECIES.SIDE=CONDITION "
                              f"(sides x-, x+, y-, y+, z-, z+)")  # fmt: skip
        return None, text
    return match.group(1), match.group(2).strip()


def face_points(shape: Sequence[int], axes: Sequence[str], side: str, base: Mapping[str, Any]) -> tuple[dict[str, Any], tuple[int, ...]]:
    """The names an expression on one face may use, and the shape its values broadcast to.

    Parameters
    ----------
    shape, axes
        The grid's stored shape and axis names (``Grid.shape``, ``Grid.axes``).
    side
        One of :data:`SIDES` (its axis must be stored).
    base
        The grid's cell-centre coordinates ``x, y, z`` (broadcastable arrays, as
        :meth:`~rd_classic.grids.Grid.expression_values` gives them), ``Lx, Ly, Lz`` and
        whatever else the expressions use (parameters, ``t``).

    Returns
    -------
    values, shape
        ``base`` with the side's own coordinate at the face (0 or the domain length) and the
        other coordinates cut to one cell along that axis; and the face's shape with that axis
        kept at length 1.
    """
    values = dict(base)
    axis_name = side[0]
    storage = list(axes).index(axis_name)
    values[axis_name] = 0.0 if side[1] == "-" else float(base[f"L{axis_name}"])
    for name in axes:
        if name != axis_name and np.ndim(base[name]):
            values[name] = np.take(np.asarray(base[name]), [0], axis=storage)
    face = list(shape)
    face[storage] = 1
    return values, tuple(face)


def axis_eigenvalues(n: int, dx: float, alphas: tuple[float, float] | None) -> np.ndarray:
    """Eigenvalues of one axis' second difference with ghost cells (``<= 0`` for ``|α| <= 1``), ascending.

    Parameters
    ----------
    n
        Cells along the axis (1: the axis has no extent, eigenvalue 0).
    dx
        Spacing.
    alphas
        ``(α-, α+)`` of the ghost values, or None for a periodic axis.

    Returns
    -------
    numpy.ndarray
        ``n`` eigenvalues. Periodic: ``-(4/dx²) sin²(π m / n)``; ``α = 1`` on both sides
        (Neumann 0): ``-(4/dx²) sin²(π m / 2n)``; ``α = -1`` on both sides (Dirichlet 0):
        ``-(4/dx²) sin²(π (m + 1) / 2n)``, ``m = 0 .. n-1``; otherwise those of the
        symmetric tridiagonal matrix (LAPACK).
    """
    if n == 1:
        return np.zeros(1)
    scale = 4.0 / dx**2
    m = np.arange(n)
    if alphas is None:
        values = -scale * np.sin(np.pi * m / n) ** 2
    elif alphas == (1.0, 1.0):
        values = -scale * np.sin(np.pi * m / (2 * n)) ** 2
    elif alphas == (-1.0, -1.0):
        values = -scale * np.sin(np.pi * (m + 1) / (2 * n)) ** 2
    else:
        from scipy.linalg import eigvalsh_tridiagonal

        diagonal = np.full(n, -2.0 / dx**2)
        diagonal[0] += alphas[0] / dx**2
        diagonal[-1] += alphas[1] / dx**2
        values = eigvalsh_tridiagonal(diagonal, np.full(n - 1, 1.0 / dx**2))
    return np.sort(values)
