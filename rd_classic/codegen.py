"""Source code generated from a model declaration: array functions and numba kernels.

From a :class:`~rd_classic.model_file.ModelDeclaration` this module builds, once:

* the sympy form of the reaction terms and their **symbolic Jacobian**
  (:func:`symbolic_model`; every expression is built from the validated tree by
  :class:`~rd_classic.expressions.SympyBuilder`, never from text);
* the **array functions** module (:func:`functions_source`): ``reaction`` and
  ``jacobian`` written against a small namespace ``xp`` of array functions, so the
  same code runs on floats, NumPy arrays and torch tensors (differentiable by
  autograd, on any device);
* the **numba kernels** module (:func:`kernels_source`) for one dtype, grid
  dimension (2: 1-D and 2-D grids stored ``(ny, nx)``; 3: ``(nz, ny, nx)``) and choice
  of field-valued parameters: the fused in-place Euler step, the Runge-Kutta stage
  kernels, the rates (reaction and diffusion parts) and the reaction on whole fields
  for ETDRK4's nonlinear term; and, for a run with noise (:mod:`rd_classic.noise`), a
  module with the Euler–Maruyama/Milstein step (:func:`noise_kernels_source`: the
  Euler step with the noise term, its normal numbers drawn in the kernel's cell loop,
  :mod:`rd_classic.random_numbers`). The design is the hand-written kernels': one pass
  over memory per Euler step, rows (planes in 3-D) spread over threads, the reaction
  evaluated in registers with common subexpressions taken out (``sympy.cse``), the
  species unrolled, arithmetic in the arrays' dtype (numbers are typed module
  constants), ``fastmath`` limited to flags that cannot change a finite result
  beyond contraction.

**Safety.** The printer (:class:`_Printer`) accepts a fixed set of sympy node types
and writes only generated identifiers (``a0`` for the first species, ``p1`` for the
second parameter, ``e3`` for a common subexpression...), finite float literals or
typed constants, operators and the fixed function names of this file: no text of
the model file reaches the source. The modules are written to the on-disk cache and
imported by :mod:`rd_classic.kernel_cache`; nothing here executes text.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rdnet.errors import ConfigError

from rd_classic.model_file import COORDINATES, DOMAIN_LENGTHS, ModelDeclaration

__all__ = [
    "SymbolicModel",
    "symbolic_model",
    "functions_source",
    "kernels_source",
    "noise_kernels_source",
    "noise_functions_source",
    "argument_names",
    "GENERATOR_SIGNATURE",
]

#: changes whenever this file changes: part of every cache key, so an updated generator
#: never loads a module (or numba machine code) written by an older one
GENERATOR_SIGNATURE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
#: fast-math flags of the kernels: no NaN/inf, signed zeros and FMA contraction; no reassociation
FASTMATH = '{"nnan", "ninf", "nsz", "contract"}'
#: dtypes whose ``euler_steps`` (without noise terms) computes each step's rows two by two, in one loop over
#: the cells (:func:`_pair_of_rows`): the rows between the two are loaded once for both (4 loads per species and
#: cell instead of 5). Measured (docs/benchmarks.md, ``bench_classic.py --only row-loops`` and ``--only passes``):
#: 1.1-1.3x in float64 for two species, 0.9-1.0x in float32, 0.16-0.29x for three species (not analysed), so
#: float64 only, and only up to :data:`ROW_PAIRS_MAX_SPECIES` species
ROW_PAIRS = frozenset({"float64"})
#: the most species a model may have for :data:`ROW_PAIRS` to apply
ROW_PAIRS_MAX_SPECIES = 2
#: dtypes whose ``euler_steps`` prefetches the state rows its next wavefront reads
#: (:func:`rd_classic.cache_hints.prefetch_cells`); same runs: float32 two rows at a time 1.19-1.27x with it against
#: 0.80-1.00x without, one row at a time 1.01-1.12x; float64 two rows at a time 0.88-1.06x with it against
#: 1.15-1.31x without (its rows come in time already; the prefetches only cost load slots), so not there
PREFETCH_STATE_ROWS = frozenset({"float32"})
#: rows of each step's ring buffer in ``euler_steps`` (3 are needed one row at a time, 6 two rows at a time)
RING_ROWS = 6
#: the prefetch's lead in wavefronts: step 0's rows of the wavefront after next are prefetched during this one
#: (float32, 2 steps per pass, one row at a time, one run: a lead of 1 1.11x, of 2 1.15x; within the noise)
PREFETCH_WAVEFRONTS_AHEAD = 1


@dataclass(frozen=True)
class SymbolicModel:
    """The sympy form of a declaration's equations.

    Attributes
    ----------
    species, parameters, coordinates
        sympy symbols (real) of the species, the parameters and ``x, y, z, t, Lx, Ly, Lz``.
    reaction
        One expression per species.
    jacobian
        ``jacobian[i][j] = ∂R_i/∂s_j`` (a sympy Matrix).
    """

    species: tuple[Any, ...]
    parameters: tuple[Any, ...]
    coordinates: tuple[Any, ...]
    reaction: tuple[Any, ...]
    jacobian: Any


_SYMBOLIC: dict[str, SymbolicModel] = {}


def symbolic_model(declaration: ModelDeclaration) -> SymbolicModel:
    """The declaration's reaction terms and Jacobian in sympy (built once per equations)."""
    cached = _SYMBOLIC.get(declaration.digest)
    if cached is not None:
        return cached
    import sympy

    from rd_classic.expressions import SympyBuilder

    # symbols get neutral names (the generated identifiers) so that no declared text matters
    species = tuple(sympy.Symbol(f"a{i}", real=True) for i in range(len(declaration.species)))
    parameters = tuple(sympy.Symbol(f"p{i}", real=True) for i in range(len(declaration.parameters)))
    coordinates = tuple(sympy.Symbol(name, real=True) for name in _COORDINATE_IDENTIFIERS)
    by_name = dict(zip(declaration.species, species))
    by_name.update(zip(declaration.parameter_names, parameters))
    by_name.update(zip(COORDINATES + DOMAIN_LENGTHS, coordinates))
    try:
        reaction = tuple(
            declaration.reaction[name].fold(SympyBuilder(by_name, where=f"reaction.{name}"))
            for name in declaration.species
        )
    except ConfigError as error:
        raise ConfigError(f"{declaration.origin}: {error}") from None
    jacobian = sympy.Matrix([[sympy.diff(term, symbol) for symbol in species] for term in reaction])
    model = _SYMBOLIC[declaration.digest] = SymbolicModel(species, parameters, coordinates, reaction, jacobian)
    return model


#: generated names of x, y, z, t, Lx, Ly, Lz
_COORDINATE_IDENTIFIERS = ("cx", "cy", "cz", "ct", "gx", "gy", "gz")


def argument_names(declaration: ModelDeclaration) -> list[str]:
    """Arguments of the generated array functions after ``xp``: species, parameters, x y z t Lx Ly Lz."""
    return ([f"a{i}" for i in range(len(declaration.species))]
            + [f"p{i}" for i in range(len(declaration.parameters))] + list(_COORDINATE_IDENTIFIERS))  # fmt: skip


# -- the printer -------------------------------------------------------------------------


class _Printer:
    """sympy → Python source, from a whitelist of node types.

    ``mode="numba"``: numbers become typed module constants (``K0 = DTYPE(0.5)``),
    functions ``np.exp`` etc. and the module's helpers; ``mode="array"``: numbers are
    float literals and functions go through the namespace ``xp``.
    """

    def __init__(self, names: dict[Any, str], mode: str) -> None:
        import sympy

        self.sympy = sympy
        self.names = names
        self.mode = mode
        self.constants: dict[float, str] = {}

    def constant(self, value: float) -> str:
        value = float(value)
        if not math.isfinite(value):
            raise ConfigError(f"the equations contain a constant that is not finite ({value})")
        if self.mode == "array":
            return f"({value!r})" if value < 0 else repr(value)
        key = value if value != 0 else 0.0  # -0.0 and 0.0 share a constant
        if key not in self.constants:
            self.constants[key] = f"K{len(self.constants)}"
        return self.constants[key]

    def function(self, name: str) -> str:
        return f"np.{name}" if self.mode == "numba" else f"xp.{name}"

    def __call__(self, expr) -> str:
        sympy = self.sympy
        if expr in self.names:
            return self.names[expr]
        if expr.is_Number:
            return self.constant(float(expr))
        if expr is sympy.pi or expr is sympy.E:
            return self.constant(float(expr))
        if isinstance(expr, sympy.Add):
            return self._add(expr)
        if isinstance(expr, sympy.Mul):
            return self._mul(expr)
        if isinstance(expr, sympy.Pow):
            return self._pow(expr)
        for sympy_function, name in ((sympy.exp, "exp"), (sympy.log, "log"), (sympy.sin, "sin"), (sympy.cos, "cos"),
                                     (sympy.tanh, "tanh"), (sympy.Abs, "abs"), (sympy.sign, "sign")):  # fmt: skip
            if isinstance(expr, sympy_function):
                return f"{self.function(name)}({self(expr.args[0])})"
        if isinstance(expr, (sympy.Min, sympy.Max)):
            name = "min" if isinstance(expr, sympy.Min) else "max"
            array_name = "minimum" if name == "min" else "maximum"
            text = self(expr.args[-1])
            for argument in reversed(expr.args[:-1]):
                text = f"{name}({self(argument)}, {text})" if self.mode == "numba" else \
                    f"xp.{array_name}({self(argument)}, {text})"  # fmt: skip
            return text
        if isinstance(expr, sympy.Heaviside):
            return f"heaviside({self(expr.args[0])})" if self.mode == "numba" else f"xp.heaviside({self(expr.args[0])})"
        if isinstance(expr, sympy.DiracDelta):
            return self.constant(0.0)  # the derivative of a step: zero away from the step
        raise ConfigError(f"cannot generate code for {type(expr).__name__} (not part of the expression language)")

    def _add(self, expr) -> str:
        terms = []
        for index, term in enumerate(expr.as_ordered_terms()):
            coefficient, rest = term.as_coeff_Mul()
            if coefficient.is_Number and coefficient < 0:
                text = self(-term)
                terms.append(f"- {text}" if index else f"-{text}")
            else:
                terms.append(f"+ {self(term)}" if index else self(term))
        return "(" + " ".join(terms) + ")"

    def _mul(self, expr) -> str:
        sympy = self.sympy
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient == -1:
            return f"(-{self(rest)})"
        numerator, denominator = [], []
        for factor in sympy.Mul.make_args(rest):
            if isinstance(factor, sympy.Pow) and factor.exp.is_Number and factor.exp < 0:
                denominator.append(self(factor.base ** (-factor.exp)))
            else:
                numerator.append(self(factor))
        if coefficient != 1:
            numerator.insert(0, self(coefficient))
        if not numerator:
            numerator = [self.constant(1.0)]
        text = " * ".join(numerator)
        if denominator:
            below = denominator[0] if len(denominator) == 1 else "(" + " * ".join(denominator) + ")"
            text = f"{text} / {below}"
        return f"({text})"

    def _pow(self, expr) -> str:
        sympy = self.sympy
        base, exponent = expr.base, expr.exp
        if exponent.is_Integer:
            n = int(exponent)
            if n < 0:
                return f"({self.constant(1.0)} / {self(base ** (-n))})"
            if n <= 4:
                base_text = self(base)
                if base.is_Symbol or base in self.names:
                    return "(" + " * ".join([base_text] * n) + ")"
                if self.mode == "numba":
                    return f"power{n}({base_text})"
                return f"({base_text} ** {n})"
        if exponent == sympy.Rational(1, 2):
            return f"{self.function('sqrt')}({self(base)})"
        if exponent == sympy.Rational(-1, 2):
            return f"({self.constant(1.0)} / {self.function('sqrt')}({self(base)}))"
        return f"({self(base)} ** {self(exponent)})"


def _cse(expressions: Sequence[Any], names: dict[Any, str], mode: str) -> tuple[list[str], list[str], _Printer]:
    """Common subexpressions of ``expressions`` as assignment lines, and the final texts."""
    import sympy

    replacements, reduced = sympy.cse(list(expressions), symbols=sympy.numbered_symbols("t"))
    printer = _Printer(names, mode)
    lines = []
    trivial: dict[Any, Any] = {}  # a negated name is not worth a temporary: put it back
    for symbol, value in replacements:
        value = value.xreplace(trivial)
        if value.could_extract_minus_sign() and (-value).is_Atom:
            trivial[symbol] = value
            continue
        names[symbol] = f"e{len(lines)}"
        lines.append(f"e{len(lines)} = {printer(value)}")
    return lines, [printer(expression.xreplace(trivial)) for expression in reduced], printer


def _header(declaration: ModelDeclaration, what: str) -> str:
    return (f"# {what}, generated by rd_classic.codegen {GENERATOR_SIGNATURE} from equations with digest "
            f"{declaration.digest}; do not edit\n")  # fmt: skip


def _indent(lines: Sequence[str], depth: int) -> str:
    return "".join("    " * depth + line + "\n" for line in lines)


# -- the array functions -------------------------------------------------------------------


def functions_source(declaration: ModelDeclaration) -> str:
    """Source of the array-functions module of a declaration.

    It defines ``reaction(xp, a0.., p0.., cx, cy, cz, ct, gx, gy, gz)`` returning one
    value per species, and ``jacobian(...)`` returning rows of entries (see
    :func:`argument_names`); ``xp`` supplies ``exp log sqrt sin cos tanh abs sign
    minimum maximum heaviside`` for the arrays in use.
    """
    model = symbolic_model(declaration)
    arguments = ", ".join(["xp", *argument_names(declaration)])
    parts = [_header(declaration, "array functions")]
    names = _base_names(model)
    lines, results, _ = _cse(model.reaction, dict(names), "array")
    parts.append(f"\n\ndef reaction({arguments}):\n")
    parts.append(_indent(lines + [f"return ({', '.join(results)},)"], 1))
    n = len(model.species)
    entries = [model.jacobian[i, j] for i in range(n) for j in range(n)]
    lines, results, _ = _cse(entries, dict(names), "array")
    rows = ", ".join("(" + ", ".join(results[i * n : (i + 1) * n]) + ",)" for i in range(n))
    parts.append(f"\n\ndef jacobian({arguments}):\n")
    parts.append(_indent(lines + [f"return ({rows},)"], 1))
    return "".join(parts)


def _base_names(model: SymbolicModel) -> dict[Any, str]:
    names = {symbol: f"a{i}" for i, symbol in enumerate(model.species)}
    names.update({symbol: f"p{i}" for i, symbol in enumerate(model.parameters)})
    names.update(dict(zip(model.coordinates, _COORDINATE_IDENTIFIERS)))
    return names


# -- the numba kernels ---------------------------------------------------------------------


_HELPERS = '''

@njit(inline="always")
def row_neighbours(i, n, periodic):
    if i > 0:
        im = i - 1
    else:
        im = n - 1 if periodic else 0
    if i < n - 1:
        ip = i + 1
    else:
        ip = 0 if periodic else n - 1
    return im, ip


@njit(inline="always")
def row_block(b, n_blocks, n):
    return b * n // n_blocks, (b + 1) * n // n_blocks


@njit(inline="always")
def copy_row(source, target):
    for j in range(source.shape[0]):
        target[j] = source[j]


@njit(inline="always")
def copy_plane(source, target):
    for i in range(source.shape[0]):
        for j in range(source.shape[1]):
            target[i, j] = source[i, j]


@njit(inline="always")
def power2(x):
    return x * x


@njit(inline="always")
def power3(x):
    return x * x * x


@njit(inline="always")
def power4(x):
    y = x * x
    return y * y


@njit(inline="always")
def heaviside(x):
    if x > ZERO:
        return ONE
    if x < ZERO:
        return ZERO
    return HALF
'''


@dataclass(frozen=True)
class _KernelPlan:
    """What one kernel module needs to know while its text is written."""

    n_species: int
    n_parameters: int
    ndim: int
    fields: tuple[bool, ...]
    uses: frozenset[str]
    reaction_lines: tuple[str, ...]
    reaction_results: tuple[str, ...]
    #: the noise amplitude of every species with noise, by species index (empty: no noise)
    noise_results: tuple[tuple[int, str], ...] = ()
    #: with Milstein's correction: ∂g_s/∂s of the same species
    slope_results: tuple[tuple[int, str], ...] = ()
    #: whether ``euler_steps`` prefetches the state rows of its next wavefronts (:data:`PREFETCH_STATE_ROWS`)
    prefetch_rows: bool = False
    #: whether ``euler_steps`` computes its rows two by two (:data:`ROW_PAIRS`; not with noise terms)
    row_pairs: bool = False

    @property
    def species(self) -> range:
        return range(self.n_species)

    def field_slots(self) -> list[tuple[int, int]]:
        """``(parameter index, slot in pf)`` of every field parameter."""
        return [(index, slot) for slot, index in enumerate(i for i, flag in enumerate(self.fields) if flag)]


def kernels_source(declaration: ModelDeclaration, *, dtype: str, ndim: int, fields: Sequence[bool]) -> str:
    """Source of the numba kernels of a declaration for one dtype, grid dimension and field choice.

    Parameters
    ----------
    declaration
        The model.
    dtype
        ``"float64"`` or ``"float32"``: the arrays' dtype, and the constants'.
    ndim
        2 (grids stored ``(ny, nx)``, 1-D included) or 3 (``(nz, ny, nx)``).
    fields
        For each parameter, whether it is a field (read per cell from ``pf``) or a scalar.

    Returns
    -------
    str
        A module defining ``euler_step``, ``rk_stage``, ``rk_final_stage``, ``rates``,
        ``rhs``, ``reaction_fields`` and, for 2-D storage, ``rk_step`` and ``euler_steps`` (see
        :mod:`rd_classic.kernels_numba` for their arguments).
    """
    if dtype not in ("float64", "float32") or ndim not in (2, 3):
        raise ValueError(f"no kernels for dtype {dtype!r}, ndim {ndim}")
    fields = tuple(bool(flag) for flag in fields)
    if len(fields) != len(declaration.parameters):
        raise ValueError("fields needs one flag per parameter")
    model = symbolic_model(declaration)
    names = _base_names(model)
    # a field parameter's value at the cell is q<i>; a scalar one is the local p<i>; the
    # domain lengths follow the parameters in the kernels' parameter array
    for index, symbol in enumerate(model.parameters):
        if fields[index]:
            names[symbol] = f"q{index}"
    lines, results, printer = _cse(model.reaction, names, "numba")
    body_text = "\n".join(lines + results)
    uses = frozenset(name for name in (*_COORDINATE_IDENTIFIERS, *(f"p{i}" for i in range(len(fields))))
                     if _mentions(body_text, name))  # fmt: skip
    plan = _KernelPlan(len(model.species), len(fields), ndim, fields, uses, tuple(lines), tuple(results),
                       prefetch_rows=dtype in PREFETCH_STATE_ROWS,
                       row_pairs=dtype in ROW_PAIRS and len(model.species) <= ROW_PAIRS_MAX_SPECIES)  # fmt: skip
    what = f"numba kernels ({dtype}, {ndim}-D storage, fields {''.join('1' if f else '0' for f in fields)})"
    kernels = [_euler_kernel(plan), _stage_kernel(plan, final=False), _stage_kernel(plan, final=True),
               _rates_kernel(plan), _rhs_kernel(plan), _reaction_fields_kernel(plan)]  # fmt: skip
    if ndim == 2:
        kernels += [_fused_rk_kernel(plan), _euler_steps_kernel(plan)]
    return _module(declaration, printer, dtype, what, kernels, _imports(plan))


def _symbolic_noise(declaration: ModelDeclaration, noise, milstein: bool) -> tuple[list[int], list, list[int], list]:
    """sympy amplitudes ``g`` of the species with noise, and (Milstein) ``g ∂g/∂s``, their derivatives in their own
    species times themselves: the product is formed symbolically, so that ``c sqrt(v)`` gives ``c²/2`` (finite at
    ``v = 0``, where ``∂g/∂v`` is infinite and ``g · ∂g/∂v`` evaluated apart is NaN)."""
    import sympy

    from rd_classic.expressions import SympyBuilder

    model = symbolic_model(declaration)
    by_name = dict(zip(declaration.species, model.species))
    by_name.update(zip(declaration.parameter_names, model.parameters))
    by_name.update(zip(COORDINATES + DOMAIN_LENGTHS, model.coordinates))
    indices = list(noise.noisy)
    amplitudes = [noise.terms[declaration.species[s]].fold(SympyBuilder(by_name, where=f"noise.{declaration.species[s]}"))
                  for s in indices]  # fmt: skip
    slopes = [term * sympy.diff(term, model.species[s]) for s, term in zip(indices, amplitudes)] if milstein else []
    return indices, amplitudes, (indices if milstein else []), slopes


def noise_kernels_source(declaration: ModelDeclaration, noise, *, dtype: str, ndim: int, fields: Sequence[bool],
                         milstein: bool) -> str:  # fmt: skip
    """Source of the Euler–Maruyama (``milstein``: Milstein) kernel of a declaration with noise terms.

    The module defines ``noisy_euler_step(p, c, pf, dx, t, dt, periodic, state, halo, work,
    keys, scale, normals)``: :func:`kernels_source`'s in-place Euler step plus, in every cell
    of a species with noise, ``g ΔW`` (and ``½ g ∂g/∂s (ΔW² - scale²)``) with ``ΔW = scale Z``;
    ``keys`` holds each noisy species' stream key for this step
    (:func:`rd_classic.random_numbers.stream_key`), ``normals`` a row buffer per block and noisy
    species, ``(n_blocks, n_noisy, nx)`` (only an unpaired last species uses its own; pairs of species
    draw in the cell loop, :func:`_noise_increments`). Amplitudes and reaction share one
    common-subexpression pass.
    """
    if dtype not in ("float64", "float32") or ndim not in (2, 3):
        raise ValueError(f"no kernels for dtype {dtype!r}, ndim {ndim}")
    fields = tuple(bool(flag) for flag in fields)
    model = symbolic_model(declaration)
    names = _base_names(model)
    for index, symbol in enumerate(model.parameters):
        if fields[index]:
            names[symbol] = f"q{index}"
    noisy, amplitudes, sloped, slopes = _symbolic_noise(declaration, noise, milstein)
    expressions = [*model.reaction, *amplitudes, *slopes]
    lines, results, printer = _cse(expressions, names, "numba")
    n = len(model.species)
    body_text = "\n".join(lines + results)
    uses = frozenset(name for name in (*_COORDINATE_IDENTIFIERS, *(f"p{i}" for i in range(len(fields))))
                     if _mentions(body_text, name))  # fmt: skip
    plan = _KernelPlan(n, len(fields), ndim, fields, uses, tuple(lines), tuple(results[:n]),
                       tuple(zip(noisy, results[n : n + len(noisy)])), tuple(zip(sloped, results[n + len(noisy) :])),
                       prefetch_rows=dtype in PREFETCH_STATE_ROWS)  # fmt: skip
    what = f"noisy Euler kernel ({'Milstein' if milstein else 'Euler-Maruyama'}, {dtype}, {ndim}-D storage)"
    imports = "from rd_classic.random_numbers import GOLDEN, fill_normals, mix64, normal_pair, row_start\n"
    kernels = [_euler_kernel(plan)] + ([_euler_steps_kernel(plan)] if ndim == 2 else [])
    return _module(declaration, printer, dtype, what, kernels, imports + _imports(plan))


def _module(declaration: ModelDeclaration, printer: _Printer, dtype: str, what: str, kernels: Sequence[str],
            imports: str = "") -> str:  # fmt: skip
    """A kernel module: header, typed constants, helpers and ``kernels``."""
    constants = dict(printer.constants)
    for value in (0.0, 0.5, 1.0, 4.0, 6.0):
        if value not in constants:
            constants[value] = f"K{len(constants)}"
    named = {"ZERO": constants[0.0], "HALF": constants[0.5], "ONE": constants[1.0], "FOUR": constants[4.0],
             "SIX": constants[6.0]}  # fmt: skip
    parts = [_header(declaration, what), "import numpy as np\nfrom numba import njit, prange\n", imports, "\n"]
    parts.append(f"DTYPE = np.{dtype}\n")
    for value, name in sorted(constants.items(), key=lambda item: int(item[1][1:])):
        parts.append(f"{name} = DTYPE({value!r})\n")
    parts.append("".join(f"{alias} = {name}\n" for alias, name in named.items()))
    parts.append(f"FASTMATH = {FASTMATH}\nRING_ROWS = {RING_ROWS}\n")
    parts.append(_HELPERS)
    parts.extend(kernels)
    return "".join(parts)


def _imports(plan: _KernelPlan) -> str:
    """The import lines a kernel module needs beyond numpy and numba (the prefetch of :func:`_prefetch_rows`)."""
    return "from rd_classic.cache_hints import prefetch_cells\n" if plan.prefetch_rows and plan.ndim == 2 else ""


def noise_functions_source(declaration: ModelDeclaration, noise, *, milstein: bool) -> str:
    """Source of ``noise(xp, ...)`` (the amplitudes of the species with noise, in order) and ``noise_slope``
    (Milstein: ``g ∂g/∂s``, each amplitude times its derivative in its own species), array functions like
    :func:`functions_source`'s."""
    noisy, amplitudes, _, slopes = _symbolic_noise(declaration, noise, milstein)
    model = symbolic_model(declaration)
    arguments = ", ".join(["xp", *argument_names(declaration)])
    parts = [_header(declaration, "noise array functions")]
    for name, expressions in (("noise", amplitudes), ("noise_slope", slopes)):
        lines, results, _ = _cse(expressions, dict(_base_names(model)), "array") if expressions else ([], [], None)
        parts.append(f"\n\ndef {name}({arguments}):\n")
        parts.append(_indent(lines + [f"return ({', '.join(results)}{',' if results else ''})"], 1))
    return "".join(parts)


def _mentions(text: str, name: str) -> bool:
    import re

    return re.search(rf"\b{name}\b", text) is not None


_DECORATOR = '@njit(cache=True, parallel=True, fastmath=FASTMATH, error_model="numpy")'
# the in-place Euler step has two parallel loops, the second overwriting what the first saves:
# numba must not fuse them (it did, for the 3-D kernel, and block b's update ran before block
# b + 1 saved its bordering plane)
_DECORATOR_UNFUSED = '@njit(cache=True, parallel={"fusion": False}, fastmath=FASTMATH, error_model="numpy")'
_SERIAL = '@njit(cache=True, fastmath=FASTMATH, error_model="numpy")'


def _prologue(plan: _KernelPlan) -> list[str]:
    """Bind the scalar parameters and the diffusion coefficients to locals."""
    lines = [f"p{i} = p[{i}]" for i in range(plan.n_parameters) if not plan.fields[i] and f"p{i}" in plan.uses]
    for offset, name in enumerate(("gx", "gy", "gz")):
        if name in plan.uses:
            lines.append(f"{name} = p[{plan.n_parameters + offset}]")
    return lines


def _diffusion_locals(plan: _KernelPlan) -> list[str]:
    return [f"c{s} = c[{s}]" for s in plan.species]


def _laplacian(prefix: str, s: int, ndim: int, centre: str | None = None) -> str:
    centre = centre or f"{prefix}{s}c[j]"
    z = f"{prefix}{s}zn[j] + {prefix}{s}zs[j] + " if ndim == 3 else ""
    weight = "SIX" if ndim == 3 else "FOUR"
    return f"({z}{prefix}{s}n[j] + {prefix}{s}s[j] + {prefix}{s}c[jm] + {prefix}{s}c[jp] - {weight} * {centre})"


def _cell_values(plan: _KernelPlan, values: Sequence[str]) -> list[str]:
    """The species values ``a<s>``, field parameters, coordinates and the reaction ``g<s>`` of one cell."""
    lines = [f"a{s} = {value}" for s, value in zip(plan.species, values)]
    lines += [f"q{i} = f{i}[j]" for i in range(plan.n_parameters) if plan.fields[i]]
    if "cx" in plan.uses:
        lines.append("cx = (DTYPE(j) + HALF) * dx")
    lines += list(plan.reaction_lines)
    lines += [f"g{s} = {result}" for s, result in zip(plan.species, plan.reaction_results)]
    lines += [f"n{s} = {result}" for s, result in plan.noise_results]
    lines += [f"m{s} = {result}" for s, result in plan.slope_results]
    return lines


def _row_coordinates(plan: _KernelPlan, row: str, plane: str | None) -> list[str]:
    lines = []
    if "cy" in plan.uses:
        lines.append(f"cy = (DTYPE({row}) + HALF) * dx")
    if "cz" in plan.uses:
        lines.append(f"cz = (DTYPE({plane}) + HALF) * dx" if plane else "cz = HALF * dx")
    return lines


def _loop_over_row(body: list[str], depth: int, counters: dict[str, str] | None = None) -> list[str]:
    """The interior loop and, in a loop of their own, the first and last cell of the row.

    (Three inlined copies around the interior loop once made numba drop the last
    copy's stores; the edge loop keeps two.) ``counters``: the noise's hash counters, by name, and the
    row's starting point of each (:func:`_noise_counters`); the body steps each by ``GOLDEN`` before
    cell ``j`` draws, so it holds ``start + (j + 1) GOLDEN`` there.
    """
    counters = counters or {}
    lines = [f"{name} = {start} + GOLDEN" for name, start in counters.items()]
    lines += ["for j in range(1, nx - 1):", *("    " + line for line in body.replace_j("j - 1", "j + 1"))]
    lines += ["for edge in range(2):", "    j = edge * (nx - 1)", "    jm = first_m if edge == 0 else j - 1",
              "    jp = 1 if edge == 0 else last_p", *(f"    {name} = {start} + np.uint64(j) * GOLDEN"
                                                     for name, start in counters.items()),
              *("    " + line for line in body.replace_j("jm", "jp"))]  # fmt: skip
    return ["    " * depth + line for line in lines]


class _Body(list):
    """Lines of a cell's body written with ``jm``/``jp``; the interior loop uses ``j - 1``/``j + 1``."""

    def replace_j(self, minus: str, plus: str) -> list[str]:
        import re

        return [re.sub(r"\bjp\b", plus, re.sub(r"\bjm\b", minus, line)) for line in self]


def _edge_neighbours() -> list[str]:
    return ["first_m = nx - 1 if periodic else 0", "last_p = 0 if periodic else nx - 1"]


def _field_rows(plan: _KernelPlan, index: str) -> list[str]:
    return [f"f{i} = pf[{slot}, {index}]" for i, slot in plan.field_slots()]


def _bind_species_arrays(plan: _KernelPlan, arrays: dict[str, str]) -> list[str]:
    """Name every species' array of the tuple arguments: ``sa0 = state[0]`` and so on.

    The species of a stepper are separate arrays (a tuple), placed in memory so that no two
    are a power of two apart (:func:`rd_classic.kernels_numba.species_fields`): arrays exactly
    2^k bytes apart share cache sets and 4 KiB aliasing, which cost the fused step up to 15 %.
    """
    return [f"{alias}{s} = {argument}[{s}]" for alias, argument in arrays.items() for s in plan.species]


def _euler_kernel(plan: _KernelPlan) -> str:
    """The in-place Euler step: blocks of rows (2-D storage) or planes (3-D) over threads.

    Each thread computes slab ``i`` (a row, or a plane) of its block into a buffer and stores
    it over slab ``i - 1`` once slab ``i`` no longer needs the old slab ``i - 1``; the slabs
    bordering each block are saved before any block starts.
    """
    n, three = plan.n_species, plan.ndim == 3
    extent, copy, slab = ("nz", "copy_plane", "kk") if three else ("ny", "copy_row", "i")
    signature = "def euler_step(p, c, pf, dx, t, dt, periodic, state, halo, work):"
    if plan.noise_results:  # Euler-Maruyama (Milstein): the normal numbers drawn per row and cell
        signature = "def noisy_euler_step(p, c, pf, dx, t, dt, periodic, state, halo, work, keys, scale, normals):"
    lines = [_DECORATOR_UNFUSED, signature]
    shapes = ["nz = sa0.shape[0]", "ny = sa0.shape[1]", "nx = sa0.shape[2]"] if three else \
        ["ny = sa0.shape[0]", "nx = sa0.shape[1]"]  # fmt: skip
    head = _bind_species_arrays(plan, {"sa": "state"}) + shapes + ["n_blocks = halo.shape[0]"]
    head += _prologue(plan) + _diffusion_locals(plan) + _edge_neighbours() + (["ct = t"] if "ct" in plan.uses else [])
    lines += ["    " + line for line in head]
    lines += [f"    # the {'planes' if three else 'rows'} bordering each block, saved before any block overwrites them",
              "    for b in prange(n_blocks):", f"        start, stop = row_block(b, n_blocks, {extent})",
              "        if start < stop:", f"            above = row_neighbours(start, {extent}, periodic)[0]",
              f"            below = row_neighbours(stop - 1, {extent}, periodic)[1]"]  # fmt: skip
    for s in plan.species:
        lines += [f"            {copy}(sa{s}[above], halo[b, {s}])", f"            {copy}(sa{s}[below], halo[b, {n + s}])"]
    lines += ["    for b in prange(n_blocks):", f"        start, stop = row_block(b, n_blocks, {extent})",
              f"        for {slab} in range(start, stop):"]  # fmt: skip
    inner = []
    body = _Body(_cell_values(plan, [f"u{s}c[j]" for s in plan.species]))
    body += _noise_increments(plan)
    body += _euler_update(plan, {s: f" + w{s}" for s, _ in plan.noise_results})
    if three:
        for s in plan.species:
            inner += [f"P{s}n = halo[b, {s}] if kk == start else sa{s}[kk - 1]",
                      f"P{s}s = halo[b, {n + s}] if kk == stop - 1 else sa{s}[kk + 1]"]  # fmt: skip
        inner += ["new = work[b, (kk - start) % 2]", "for i in range(ny):"]
        row = ["im, ip = row_neighbours(i, ny, periodic)"]
        for s in plan.species:
            row += [f"u{s}c = sa{s}[kk, i]", f"u{s}n = sa{s}[kk, im]", f"u{s}s = sa{s}[kk, ip]",
                    f"u{s}zn = P{s}n[i]", f"u{s}zs = P{s}s[i]", f"o{s} = new[{s}, i]"]  # fmt: skip
        row += _field_rows(plan, "kk, i") + _row_coordinates(plan, "i", "kk") + _row_normals(plan, "kk * ny + i")
        row += _loop_over_row(body, 0, _noise_counters(plan))
        inner += ["    " + line for line in row]
    else:
        for s in plan.species:
            inner += [f"u{s}c = sa{s}[i]", f"u{s}n = halo[b, {s}] if i == start else sa{s}[i - 1]",
                      f"u{s}s = halo[b, {n + s}] if i == stop - 1 else sa{s}[i + 1]"]  # fmt: skip
        inner.append("new = work[b, (i - start) % 2]")
        inner += [f"o{s} = new[{s}]" for s in plan.species]
        inner += _field_rows(plan, "i") + _row_coordinates(plan, "i", None) + _row_normals(plan, "i")
        inner += _loop_over_row(body, 0, _noise_counters(plan))
    inner += [f"# {slab} - 1 is no longer anyone's neighbour: store its new values",
              f"if {slab} > start:", f"    done = work[b, ({slab} - 1 - start) % 2]"]  # fmt: skip
    inner += [f"    {copy}(done[{s}], sa{s}[{slab} - 1])" for s in plan.species]
    lines += ["            " + line for line in inner]
    lines += ["        if start < stop:", "            done = work[b, (stop - 1 - start) % 2]"]
    lines += [f"            {copy}(done[{s}], sa{s}[stop - 1])" for s in plan.species]
    return "\n\n" + "\n".join(lines) + "\n"


def _euler_update(plan: _KernelPlan, kicks: dict[int, str]) -> list[str]:
    """A cell's Euler update ``o<s>[j] = a + dt (c ∇²u + g)`` of every species, plus ``kicks[s]`` (a noise term)."""
    return [f"o{s}[j] = a{s} + dt * (c{s} * {_laplacian('u', s, plan.ndim, f'a{s}')} + g{s}){kicks.get(s, '')}"
            for s in plan.species]  # fmt: skip


def _row_normals(plan: _KernelPlan, row: str, keys: str = "keys") -> list[str]:
    """Per row: where each pair of species with noise starts drawing (``ns<k>``; they draw in the cell loop, see
    :func:`_noise_increments`), and an unpaired last one's increments ``ΔW = scale Z`` in its row buffer ``z<s>``;
    ``keys``: the name of the step's stream keys."""
    slots = plan.noise_results
    lines = [f"ns{pair} = row_start({keys}[{2 * pair}], {row})" for pair in range(len(slots) // 2)]
    if len(slots) % 2:
        s, slot = slots[-1][0], len(slots) - 1
        lines += [f"z{s} = normals[b, {slot}]", f"fill_normals({keys}[{slot}], {row}, scale, z{s})"]
    return lines


def _noise_counters(plan: _KernelPlan) -> dict[str, str]:
    """The hash counter of each pair of species with noise and its row's starting point (:func:`_row_normals`)."""
    return {f"nc{pair}": f"ns{pair}" for pair in range(len(plan.noise_results) // 2)}


def _noise_increments(plan: _KernelPlan) -> list[str]:
    """``w<s>``: the noise's increment ``g ΔW`` (plus Milstein's ``½ g g' (ΔW² - Δ)``).

    Species with noise draw two by two (:func:`rd_classic.random_numbers.noise_normals`): cell ``j`` of a pair
    of species takes the two numbers of the pair's hash ``j``, computed here, in the loop over the row's cells
    (it vectorises with the rest of the cell's arithmetic); an unpaired last species reads its row buffer.
    The hash's input ``start + (j + 1) GOLDEN`` is a counter stepped once per cell (:func:`_loop_over_row`):
    an addition per 8 cells where ``(j + 1) GOLDEN`` took a 64-bit vector multiplication.
    """
    slots = plan.noise_results
    lines = []
    for pair in range(len(slots) // 2):
        first, second = slots[2 * pair][0], slots[2 * pair + 1][0]
        lines += [f"nc{pair} += GOLDEN", f"h{first}, h{second} = normal_pair(mix64(nc{pair}), scale)",
                  f"k{first} = DTYPE(h{first})", f"k{second} = DTYPE(h{second})"]  # fmt: skip
    if len(slots) % 2:
        lines.append(f"k{slots[-1][0]} = z{slots[-1][0]}[j]")
    slopes = dict(plan.slope_results)
    for s, _ in slots:
        if s in slopes:
            lines.append(f"w{s} = n{s} * k{s} + HALF * m{s} * (k{s} * k{s} - scale * scale)")
        else:
            lines.append(f"w{s} = n{s} * k{s}")
    return lines


def _over_rows(plan: _KernelPlan, signature: str, arrays: dict[str, str], head: list[str], row_lines: list[str],
               body: _Body, after_row: Sequence[str] = ()) -> str:  # fmt: skip
    """A kernel looping over every row (in parallel over rows, or planes in 3-D); ``arrays`` are its tuple arguments;
    ``after_row``: lines run after each row's cell loops."""
    lines = [_DECORATOR, signature]
    bind = _bind_species_arrays(plan, arrays)
    if plan.ndim == 2:
        bind += ["ny = sa0.shape[0]", "nx = sa0.shape[1]"]
    else:
        bind += ["nz = sa0.shape[0]", "ny = sa0.shape[1]", "nx = sa0.shape[2]"]
    lines += ["    " + line for line in bind + _prologue(plan) + _diffusion_locals(plan) + _edge_neighbours() + head]
    if plan.ndim == 2:
        loop = ["for i in prange(ny):", "    im, ip = row_neighbours(i, ny, periodic)"]
        index = "{}"
        inner = [*(_field_rows(plan, "i")), *_row_coordinates(plan, "i", None)]
        depth = 1
    else:
        loop = ["for kk in prange(nz):", "    km, kp = row_neighbours(kk, nz, periodic)",
                "    for i in range(ny):", "        im, ip = row_neighbours(i, ny, periodic)"]  # fmt: skip
        index = "kk, {}"
        inner = [*_field_rows(plan, "kk, i"), *_row_coordinates(plan, "i", "kk")]
        depth = 2
    rows = [_format_index(line, index) for line in row_lines]
    lines += ["    " + line for line in loop]
    lines += ["    " * (depth + 1) + line for line in rows + inner]
    lines += ["    " + line for line in _loop_over_row(body, depth)]
    lines += ["    " * (depth + 1) + line for line in after_row]
    return "\n\n" + "\n".join(lines) + "\n"


def _format_index(line: str, index: str) -> str:
    """Replace ``[s, @i]`` style placeholders: ``@X`` becomes the row index of row ``X``."""
    import re

    return re.sub(r"@(\w+)", lambda match: index.format(match.group(1)), line)


def _stage_rows(plan: _KernelPlan, arrays: dict[str, str], outputs: dict[str, str]) -> list[str]:
    """Row bindings: ``<prefix><s>c/n/s(/zn/zs)`` of the input arrays ``{prefix: alias}``, ``<prefix><s>`` of the outputs."""
    lines = []
    for prefix, alias in arrays.items():
        for s in plan.species:
            lines += [f"{prefix}{s}c = {alias}{s}[@i]", f"{prefix}{s}n = {alias}{s}[@im]",
                      f"{prefix}{s}s = {alias}{s}[@ip]"]  # fmt: skip
            if plan.ndim == 3:
                lines += [f"{prefix}{s}zn = {alias}{s}[km, i]", f"{prefix}{s}zs = {alias}{s}[kp, i]"]
    for prefix, alias in outputs.items():
        lines += [f"{prefix}{s} = {alias}{s}[@i]" for s in plan.species]
    return lines


def _stage_body(plan: _KernelPlan, *, final: bool) -> _Body:
    """One cell of a Runge-Kutta stage at ``u + a_dt k``: ``ko = F`` (the row's ``ac (+)= b F`` follows in loops of
    their own, :func:`_accumulate_stage`), or (``final``) the update ``o = u + dt (ac + b F)``; the rows are
    ``u<s>c/n/s``, ``k<s>c/n/s``, ``ko<s>``, ``ac<s>``, ``o<s>``."""
    body = _Body(_cell_values(plan, [f"u{s}c[j] + a_dt * k{s}c[j]" for s in plan.species]))
    for s in plan.species:
        body.append(f"l{s} = {_laplacian('u', s, plan.ndim)} + a_dt * {_laplacian('k', s, plan.ndim)}")
        body.append(f"r{s} = c{s} * l{s} + g{s}")
        if final:
            body.append(f"o{s}[j] = u{s}c[j] + dt * (ac{s}[j] + b * r{s})")
        else:
            body.append(f"ko{s}[j] = r{s}")
    return body


def _accumulate_stage(plan: _KernelPlan, weight: str = "b") -> list[str]:
    """After a stage's row: ``ac = weight ko`` (``first``) or ``ac += weight ko``, one loop per species.

    Loops of their own, each writing one row: in the stage's cell loop these stores made four
    rows written beside up to fourteen read, more than LLVM checks for overlap at run time,
    and the loop ran unvectorised (Gray-Scott RK4, fused: 1/24 of an Euler step's rate). The
    values are the same bits (``ko`` holds ``F`` as stored, and contraction makes the same
    fused multiply-add of it).
    """
    lines = []
    for branch, update in (("if first:", "="), ("else:", "+=")):
        lines.append(branch)
        for s in plan.species:
            lines += ["    for j in range(nx):", f"        ac{s}[j] {update} {weight} * ko{s}[j]"]
    return lines


def _stage_kernel(plan: _KernelPlan, *, final: bool) -> str:
    """``rk_stage``: ``k_out = F(u + a_dt k)`` and ``acc (+)= b k_out``; ``rk_final_stage``: the update."""
    if final:
        signature = "def rk_final_stage(p, c, pf, dx, t, periodic, state, k, a_dt, acc, b, dt, out):"
        arrays = {"sa": "state", "ka": "k", "wa": "acc", "xa": "out"}
        outputs = {"ac": "wa", "o": "xa"}
    else:
        signature = "def rk_stage(p, c, pf, dx, t, periodic, state, k, a_dt, k_out, acc, b, first):"
        arrays = {"sa": "state", "ka": "k", "za": "k_out", "wa": "acc"}
        outputs = {"ko": "za", "ac": "wa"}
    head = ["ct = t"] if "ct" in plan.uses else []
    row_lines = _stage_rows(plan, {"u": "sa", "k": "ka"}, outputs)
    return _over_rows(plan, signature, arrays, head, row_lines, _stage_body(plan, final=final),
                      () if final else _accumulate_stage(plan))  # fmt: skip


def _fused_rk_kernel(plan: _KernelPlan) -> str:
    """``rk_step``: a whole step of a sub-diagonal Runge-Kutta tableau in one pass over memory, in place (2-D storage).

    The stages run as a wavefront over the rows of each thread's block: at wavefront ``w``
    stage ``st`` computes row ``w - st`` (its stencil needs the previous stage's rows
    ``w - st - 1 .. w - st + 1``, computed at this wavefront or before), into ring buffers
    of rows (``rings``: 3 rows of each stage's rate; ``acc``: ``n_stages`` rows of the weighted sum),
    and the new row ``r`` (finished at wavefront ``r + n_stages - 1``) is stored over the old
    one at wavefront ``r + n_stages``, when no stencil needs the old row any more. Each block
    also computes the stages on the ``n_stages - 1 - st`` rows beyond each of its ends from the
    ``n_stages`` rows beyond them, saved (``halo``) before any block starts. A step reads and
    writes each species once, as the Euler step does; the arithmetic of every cell is the stage
    kernels' (:func:`_stage_body`), so the results are theirs, bit for bit.
    """
    signature = "def rk_step(p, c, pf, dx, t, dt, periodic, state, halo, rings, acc, done, a_dts, weights, nodes_dt):"
    # the last wavefront stores the row finished one wavefront before
    lines = [_DECORATOR_UNFUSED, signature, *_wavefront_loops(plan, "weights.shape[0]", "stop + depth")]
    inner = _wavefront_row(plan)
    inner += ["if st == 0:", *(f"    k{s}{x} = u{s}{x}" for s in plan.species for x in "cns"), "else:",
              *(f"    k{s}{x} = rings[b, st - 1, {row} % 3, {s}]" for s in plan.species
                for x, row in (("c", "r"), ("n", "im"), ("s", "ip"))),
              "a_dt = a_dts[st]", "b_st = weights[st]", "first = st == 0"]  # fmt: skip
    inner += [f"ac{s} = acc[b, r % depth, {s}]" for s in plan.species]
    inner += _field_rows(plan, "i") + _row_coordinates(plan, "i", None)
    if "ct" in plan.uses:
        inner.append("ct = t + nodes_dt[st]")
    final = [f"o{s} = done[b, r & 1, {s}]" for s in plan.species]
    stage = [f"ko{s} = rings[b, st, r % 3, {s}]" for s in plan.species]
    inner += ["if st == depth - 1:", *("    " + line for line in final + _loop_over_row(_rename_b(_stage_body(plan, final=True)), 0)),
              "else:", *("    " + line for line in stage + _loop_over_row(_rename_b(_stage_body(plan, final=False)), 0)
                         + _accumulate_stage(plan, "b_st"))]  # fmt: skip
    lines += ["                " + line for line in inner]
    tail = ["# the row finished one wavefront ago is no longer anyone's neighbour: store it",
            "r = w - depth", "if start <= r < stop:"]  # fmt: skip
    tail += [f"    copy_row(done[b, r & 1, {s}], sa{s}[r])" for s in plan.species]
    lines += ["            " + line for line in tail]
    return "\n\n" + "\n".join(lines) + "\n"


def _euler_steps_kernel(plan: _KernelPlan) -> str:
    """``euler_steps``: ``len(times)`` Euler steps in one pass over memory, in place (2-D storage).

    Temporal blocking: the steps run as a wavefront over the rows of each thread's block, as the
    stages of :func:`_fused_rk_kernel` do. At wavefront ``w`` step ``st`` computes row ``w - st``
    from step ``st - 1``'s rows ``w - st - 1 .. w - st + 1`` (ring buffers of :data:`RING_ROWS` rows per step,
    ``rings``, which stay in the cache), the first step from the state, the last one straight over
    the state's row: no stencil needs that old row any more (the first step read it at this
    wavefront or before). Each block also computes step ``st`` on the ``depth - 1 - st`` rows
    beyond each of its ends, from the ``depth`` old rows beyond them saved (``halo``) before any
    block starts. A pass of ``depth`` steps reads and writes each species once: ``depth`` times
    less memory traffic per step than :func:`_euler_kernel`'s, for the same arithmetic per cell
    (:func:`_cell_values` and the Euler update): the results are ``depth`` Euler steps', to 1 ulp in a
    few cells at the ends of rows (the compiler contracts a product into a fused multiply-add
    differently there), and the same bits for any cut into blocks.
    ``times[st]``: the time of step ``st`` (as the stepper computes it for one step). With noise terms
    (``noisy_euler_steps``), step ``st`` draws from its own stream keys ``keys[st]``, row by row as
    :func:`_euler_kernel` does: the numbers of a cell and step are the one-step kernel's. In the dtypes of
    :data:`ROW_PAIRS` (and without noise terms) a wavefront ``w`` advances two rows: step ``st`` computes rows
    ``g, g + 1`` with ``g = start - (depth - 1 - st) + 2 (w - st)`` in one loop over the cells
    (:func:`_pair_of_rows`), one row alone where only one of them is to be computed (an odd count, a grid's
    edge); in those of :data:`PREFETCH_STATE_ROWS` each step of a wavefront also prefetches a part of the state
    rows a later wavefront reads first (:func:`_prefetch_rows`).
    """
    signature = "def euler_steps(p, c, pf, dx, times, dt, periodic, state, halo, rings):"
    if plan.noise_results:  # Euler-Maruyama (Milstein): keys[st] are step st's stream keys
        signature = "def noisy_euler_steps(p, c, pf, dx, times, dt, periodic, state, halo, rings, keys, scale, normals):"
    body = _Body(_cell_values(plan, [f"u{s}c[j]" for s in plan.species]))
    body += _noise_increments(plan)
    body += _euler_update(plan, {s: f" + w{s}" for s, _ in plan.noise_results})
    time = ["ct = times[st]"] if "ct" in plan.uses else []
    if plan.row_pairs and not plan.noise_results:
        # wavefront w: step st computes its rows g, g + 1 (the last step writes them at once)
        loops = _wavefront_loops(plan, "times.shape[0]", "(stop - start + 1) // 2 + depth - 1", first="0")
        inner = [*_prefetch_rows(plan), *_pair_of_rows_head(), *time, "if g + 1 < end and (periodic or 0 <= g < ny - 1):",
                 *("    " + line for line in _pair_of_rows(plan, body)), "else:",
                 "    for r in range(g, min(g + 2, end)):  # one row: the last of an odd count, or a grid's edge",
                 "        if not (periodic or 0 <= r < ny):", "            continue",
                 *("        " + line for line in _row_around(plan) + _step_row(plan, body))]  # fmt: skip
    else:
        # the last step writes its row at the wavefront that computes it
        loops = _wavefront_loops(plan, "times.shape[0]", "stop + depth - 1")
        inner = _prefetch_rows(plan) + _wavefront_row(plan) + time + _step_row(plan, body)
    lines = [_DECORATOR_UNFUSED, signature, *loops]
    lines += ["                " + line for line in inner]
    return "\n\n" + "\n".join(lines) + "\n"


def _step_row(plan: _KernelPlan, body: _Body) -> list[str]:
    """Lines computing row ``r`` (storage row ``i``) of Euler step ``st`` of ``euler_steps`` from the old rows
    ``u<s>c/n/s`` (:func:`_row_around`; from the ring of step ``st - 1`` after the first step)."""
    lines = ["if st > 0:", *(f"    u{s}{x} = rings[b, st - 1, {row} % RING_ROWS, {s}]" for s in plan.species
                             for x, row in (("c", "r"), ("n", "im"), ("s", "ip")))]  # fmt: skip
    lines += _field_rows(plan, "i") + _row_coordinates(plan, "i", None)
    if plan.noise_results:
        lines += ["step_keys = keys[st]", *_row_normals(plan, "i", "step_keys")]
    lines += ["if st == depth - 1:", *(f"    o{s} = sa{s}[i]" for s in plan.species), "else:",
              *(f"    o{s} = rings[b, st, r % RING_ROWS, {s}]" for s in plan.species)]  # fmt: skip
    return lines + _loop_over_row(body, 0, _noise_counters(plan))


def _pair_of_rows_head() -> list[str]:
    """Lines choosing the rows ``g, g + 1`` step ``st`` computes at wavefront ``w`` (two rows a wavefront), or skipping."""
    return ["reach = depth - 1 - st  # rows this step computes beyond the block", "end = stop + reach",
            "g = start - reach + 2 * (w - st)", "if w < st or g >= end:", "    continue"]  # fmt: skip


def _pair_of_rows(plan: _KernelPlan, body: _Body) -> list[str]:
    """Lines computing rows ``g`` and ``g + 1`` of Euler step ``st`` in one loop over the cells.

    The old rows are ``u<s>n`` (above ``g``), ``u<s>c`` (``g``), ``u<s>d`` (``g + 1``) and ``u<s>s`` (below
    ``g + 1``): each cell of the two middle rows is loaded once and serves both rows' stencils. Every cell's
    arithmetic is ``body``'s, in the same order (:func:`_second_row_body`).
    """
    rows = (("n", "gm"), ("c", "g"), ("d", "g + 1"), ("s", "gp"))
    lines = ["gm = g - 1 if periodic or g > 0 else g", "gp = g + 2 if periodic or g < ny - 2 else g + 1",
             "i = g % ny", "ib = (g + 1) % ny"]  # fmt: skip
    lines += [f"u{s}{x} = {_old_row(s, row)}" for s in plan.species for x, row in rows]
    lines += ["if st > 0:", *(f"    u{s}{x} = rings[b, st - 1, ({row}) % RING_ROWS, {s}]" for s in plan.species
                             for x, row in rows)]  # fmt: skip
    lines += _field_rows(plan, "i") + [line.replace("f", "fb", 1) for line in _field_rows(plan, "ib")]
    lines += _row_coordinates(plan, "i", None) + [line.replace("cy", "cyb", 1) for line in _row_coordinates(plan, "ib", None)]
    lines += ["if st == depth - 1:", *(f"    o{s} = sa{s}[i]" for s in plan.species),
              *(f"    ob{s} = sa{s}[ib]" for s in plan.species), "else:",
              *(f"    o{s} = rings[b, st, g % RING_ROWS, {s}]" for s in plan.species),
              *(f"    ob{s} = rings[b, st, (g + 1) % RING_ROWS, {s}]" for s in plan.species)]  # fmt: skip
    first = _Body(re.sub(r"\bu(\d+)s\[j\]", r"a\1b", line) for line in body)  # row g's south: row g + 1's value
    second = _second_row_body(body)
    loaded = [line for line in first if re.match(r"a\d+ = ", line)] + [line for line in second if re.match(r"a\d+b = ", line)]
    rest = [line for line in first if not re.match(r"a\d+ = ", line)] + \
        [line for line in second if not re.match(r"a\d+b = ", line)]  # fmt: skip
    return lines + _loop_over_row(_Body(loaded + rest), 0)


def _second_row_body(body: _Body) -> _Body:
    """``body`` (a cell of row ``g``) for row ``g + 1``: its locals renamed ``<name>b`` (``a0b``: a numbered name), its centre row ``u<s>d``,
    its north neighbour row ``g``'s value ``a<s>``, its output row ``ob<s>``, field rows ``fb<i>``, ``cyb``."""
    assigned = sorted({match.group(1) for line in body if (match := re.match(r"(\w+) = ", line))}, key=len, reverse=True)
    local = re.compile(r"\b(" + "|".join(assigned) + r")\b")
    renamed = []
    for line in body:
        line = local.sub(r"\1b", line)
        line = re.sub(r"\bu(\d+)n\[j\]", r"a\1", line)
        line = re.sub(r"\bu(\d+)c\[", r"u\1d[", line)
        line = re.sub(r"\bo(\d+)\[", r"ob\1[", line)
        line = re.sub(r"\bf(\d+)\[", r"fb\1[", line)
        renamed.append(re.sub(r"\bcy\b", "cyb", line))
    return _Body(renamed)


def _wavefront_loops(plan: _KernelPlan, depth: str, end: str, first: str = "start - depth + 1") -> list[str]:
    """A wavefront kernel's lines down to its loop over the stages (steps) ``st``: the locals, ``depth`` (the
    stage count, from an argument's length), the saved block borders, and the wavefronts ``w`` from ``first`` up
    to ``end`` (none for an empty block)."""
    head = _bind_species_arrays(plan, {"sa": "state"}) + ["ny = sa0.shape[0]", "nx = sa0.shape[1]",
                                                          "n_blocks = halo.shape[0]", f"depth = {depth}"]  # fmt: skip
    head += _prologue(plan) + _diffusion_locals(plan) + _edge_neighbours()
    lines = ["    " + line for line in head]
    lines += _save_block_borders(plan)
    lines += ["    for b in prange(n_blocks):", "        start, stop = row_block(b, n_blocks, ny)",
              f"        for w in range({first}, {end} if start < stop else {first}):",
              "            for st in range(depth):"]  # fmt: skip
    return lines


def _prefetch_rows(plan: _KernelPlan) -> list[str]:
    """Lines of a wavefront (``w``), step ``st``: prefetch the ``st``-th of ``depth`` parts of the state rows
    step 0 first reads :data:`PREFETCH_WAVEFRONTS_AHEAD` wavefronts later (none without ``plan.prefetch_rows``).

    One row at a time step 0 reads row ``w + 1`` first at wavefront ``w``; two rows at a time (``row_pairs``) rows
    ``2 w + start - depth + 2`` and the next. A part per step spreads the prefetches over the wavefront. Rows
    beyond the grid's last wrap around to its first (a valid row: a hint never changes a value).
    """
    if not plan.prefetch_rows:
        return []
    ahead = PREFETCH_WAVEFRONTS_AHEAD
    rows = [f"2 * w + start - depth + {2 + 2 * ahead + k}" for k in range(2)] if plan.row_pairs else [f"w + {1 + ahead}"]
    lines = ["ahead_start = st * nx // depth", "ahead_stop = (st + 1) * nx // depth"]
    for row in rows:
        lines += [f"ahead = ({row}) % ny", *(f"prefetch_cells(sa{s}[ahead], ahead_start, ahead_stop)" for s in plan.species)]
    return lines


def _save_block_borders(plan: _KernelPlan) -> list[str]:
    """Lines saving the ``depth`` old rows beyond each block's ends into ``halo[b, 0 | 1, q]`` (wavefront kernels)."""
    lines = ["    # the depth rows beyond each block's ends, saved before any block overwrites them",
             "    for b in prange(n_blocks):", "        start, stop = row_block(b, n_blocks, ny)",
             "        for q in range(depth if start < stop else 0):", "            above = start - depth + q",
             "            below = stop + q"]  # fmt: skip
    lines += ["            if periodic or above >= 0:"]
    lines += [f"                copy_row(sa{s}[above % ny], halo[b, 0, q, {s}])" for s in plan.species]
    lines += ["            if periodic or below < ny:"]
    lines += [f"                copy_row(sa{s}[below % ny], halo[b, 1, q, {s}])" for s in plan.species]
    return lines


def _wavefront_row(plan: _KernelPlan) -> list[str]:
    """Lines choosing row ``r = w - st`` of a wavefront kernel (or skipping it), its neighbours ``im``/``ip``,
    its storage row ``i``, and the old rows ``u<s>c/n/s`` around it (from ``halo`` beyond the block's ends)."""
    lines = ["r = w - st", "reach = depth - 1 - st  # rows this stage computes beyond the block",
             "if r < start - reach or r >= stop + reach or not (periodic or 0 <= r < ny):", "    continue"]  # fmt: skip
    return lines + _row_around(plan)


def _row_around(plan: _KernelPlan) -> list[str]:
    """Lines naming row ``r``'s neighbours ``im``/``ip``, its storage row ``i`` and the old rows ``u<s>c/n/s``."""
    lines = ["im = r - 1 if periodic or r > 0 else r", "ip = r + 1 if periodic or r < ny - 1 else r", "i = r % ny"]
    return lines + [f"u{s}{suffix} = {_old_row(s, row)}" for s in plan.species
                    for suffix, row in (("c", "r"), ("n", "im"), ("s", "ip"))]  # fmt: skip


def _old_row(s: int, row: str) -> str:
    """The old (pass-start) values of species ``s``'s row ``row``: from ``halo`` beyond the block's ends."""
    return (f"halo[b, 0, {row} - start + depth, {s}] if {row} < start else "
            f"(halo[b, 1, {row} - stop, {s}] if {row} >= stop else sa{s}[{row}])")


def _rename_b(body: _Body) -> _Body:
    """The stage body with its weight ``b`` named ``b_st`` (``b`` is the block index in the fused kernel)."""
    import re

    return _Body(re.sub(r"\bb\b", "b_st", line) for line in body)


def _rates_kernel(plan: _KernelPlan) -> str:
    """``rates``: the reaction ``R(u)`` and the diffusion ``D ∇²u`` of every species, separately."""
    signature = "def rates(p, c, pf, dx, t, periodic, state, reaction, diffusion):"
    head = ["ct = t"] if "ct" in plan.uses else []
    row_lines = _stage_rows(plan, {"u": "sa"}, {"r": "ra", "d": "da"})
    body = _Body(_cell_values(plan, [f"u{s}c[j]" for s in plan.species]))
    for s in plan.species:
        body += [f"r{s}[j] = g{s}", f"d{s}[j] = c{s} * {_laplacian('u', s, plan.ndim, f'a{s}')}"]
    return _over_rows(plan, signature, {"sa": "state", "ra": "reaction", "da": "diffusion"}, head, row_lines, body)


def _rhs_kernel(plan: _KernelPlan) -> str:
    """``rhs``: the whole right-hand side ``D ∇²u + R(u)`` (the building block of a general tableau)."""
    signature = "def rhs(p, c, pf, dx, t, periodic, state, out):"
    head = ["ct = t"] if "ct" in plan.uses else []
    row_lines = _stage_rows(plan, {"u": "sa"}, {"o": "xa"})
    body = _Body(_cell_values(plan, [f"u{s}c[j]" for s in plan.species]))
    body += [f"o{s}[j] = c{s} * {_laplacian('u', s, plan.ndim, f'a{s}')} + g{s}" for s in plan.species]
    return _over_rows(plan, signature, {"sa": "state", "xa": "out"}, head, row_lines, body)


def _reaction_fields_kernel(plan: _KernelPlan) -> str:
    """``reaction_fields``: the reaction of every cell into ``out`` (serial; ETDRK4's nonlinear term).

    Serial on purpose: numba's threads spin after a parallel region and would starve
    the FFT's worker threads that run next.
    """
    lines = [_SERIAL, "def reaction_fields(p, pf, dx, t, state, out):"]
    if plan.ndim == 2:
        lines += ["    ny = state.shape[1]", "    nx = state.shape[2]"]
    else:
        lines += ["    nz = state.shape[1]", "    ny = state.shape[2]", "    nx = state.shape[3]"]
    lines += ["    " + line for line in _prologue(plan)]
    if "ct" in plan.uses:
        lines.append("    ct = t")
    if plan.ndim == 2:
        lines += ["    for i in range(ny):"]
        index, depth, rows = "i", 2, _row_coordinates(plan, "i", None)
    else:
        lines += ["    for kk in range(nz):", "        for i in range(ny):"]
        index, depth, rows = "kk, i", 3, _row_coordinates(plan, "i", "kk")
    rows += [f"u{s}c = state[{s}, {index}]" for s in plan.species]
    rows += [f"o{s} = out[{s}, {index}]" for s in plan.species]
    rows += _field_rows(plan, index)
    body = _cell_values(plan, [f"u{s}c[j]" for s in plan.species])
    body += [f"o{s}[j] = g{s}" for s in plan.species]
    lines += ["    " * depth + line for line in rows]
    lines += ["    " * depth + "for j in range(nx):"]
    lines += ["    " * (depth + 1) + line for line in body]
    return "\n\n" + "\n".join(lines) + "\n"
