"""The expression language of model files: parsed with a whitelist, never executed.

A model file's reaction terms, diffusion coefficients, initial conditions, steady
states and constraints, and a ``--param NAME=EXPR`` field, are short arithmetic
expressions. They are untrusted text, so they are **parsed, never run**: Python's
:mod:`ast` turns the text into a tree (parsing executes nothing) and one walk
(:func:`fold`) accepts only these nodes:

* numbers (``2``, ``0.5``, ``1e-3``; not booleans, complex numbers or strings);
* the names the caller declares (species, parameters, ``x y z t``, ``Lx Ly Lz``...)
  and the constants ``pi`` and ``e``;
* ``+ - * / **``, unary ``-`` and ``+``, parentheses;
* calls of the functions in :data:`FUNCTIONS` by name, with positional arguments:
  ``exp log sqrt sin cos tanh abs`` (one argument), ``min max`` (two or more),
  ``heaviside`` (one; ``heaviside(0) = 1/2``).

Everything else — attribute access (``u.__class__``), subscripts, other calls
(``__import__('os')``), lambdas, comprehensions, keywords, strings, comparisons
(except in a constraint, :func:`parse_condition`), ``//`` and ``%`` — is refused with
:class:`~rdnet.errors.ConfigError` naming the key and the construct, before anything
is built. Texts longer than :data:`MAX_CHARACTERS`, expressions nested deeper than
:data:`MAX_DEPTH` (a chain ``a + b - c`` or ``a*b/c`` is one level, of at most
:data:`MAX_CHAIN` terms) or larger than :data:`MAX_NODES`, integers beyond 2⁵³ and
non-finite numbers are refused too, and so are a constant exponent beyond
:data:`MAX_CONSTANT_EXPONENT` whatever the base (``u**(2**60)``) and a division by a
constant zero (``u/0``).

The same walk builds every consumer's object from the validated tree with a
*builder* (numbers, names, operators, calls):

* :class:`SympyBuilder` — sympy expressions (symbolic Jacobian, steady states, the
  generated kernels); sympy is imported only there, and never parses text;
* :class:`ArrayBuilder` — values computed at once with NumPy or torch (initial
  conditions, parameter fields, diffusion coefficients, constraints).

Examples
--------
>>> expression = parse_expression("a - (b + 1)*u + u**2*v", {"a", "b", "u", "v"}, where="reaction.u")
>>> sorted(expression.names)
['a', 'b', 'u', 'v']
>>> float(expression.evaluate({"a": 1.0, "b": 3.0, "u": 1.0, "v": 3.0}))
1.0
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from rdnet.errors import ConfigError

__all__ = [
    "FUNCTIONS",
    "CONSTANTS",
    "MAX_CHARACTERS",
    "MAX_DEPTH",
    "MAX_NODES",
    "Expression",
    "Condition",
    "parse_expression",
    "parse_condition",
    "fold",
    "ArrayBuilder",
    "SympyBuilder",
]

#: longest expression text accepted (characters)
MAX_CHARACTERS = 2000
#: deepest expression accepted (a chain of one operator family, ``a + b - c`` or ``a*b/c``, is one level)
MAX_DEPTH = 60
#: deepest expression tree accepted, chains included (Python's parser nests a chain; later stages recurse)
MAX_CHAIN = 250
#: most nodes in one expression tree
MAX_NODES = 2000
#: largest integer literal accepted (beyond it a float would round it)
MAX_INTEGER = 2**53
#: largest |exponent| of a power whose exponent is a number (its base a number or not)
MAX_CONSTANT_EXPONENT = 1024


@dataclass(frozen=True)
class Function:
    """One function of the expression language.

    Parameters
    ----------
    name
        Its name in expressions.
    min_arguments, max_arguments
        How many positional arguments it takes (``max_arguments`` None: no limit).
    description
        One line for the documentation and ``rdnet models``.
    """

    name: str
    min_arguments: int
    max_arguments: int | None
    description: str


#: the functions an expression may call, by name
FUNCTIONS: dict[str, Function] = {
    function.name: function
    for function in (
        Function("exp", 1, 1, "exponential"),
        Function("log", 1, 1, "natural logarithm"),
        Function("sqrt", 1, 1, "square root"),
        Function("sin", 1, 1, "sine (radians)"),
        Function("cos", 1, 1, "cosine (radians)"),
        Function("tanh", 1, 1, "hyperbolic tangent"),
        Function("abs", 1, 1, "absolute value"),
        Function("min", 2, None, "smallest argument"),
        Function("max", 2, None, "largest argument"),
        Function("heaviside", 1, 1, "step: 0 below 0, 1 above, 1/2 at 0"),
    )
}
#: named constants allowed in every expression
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
#: operators whose chains (``a + b - c``, ``a*b/c``) are one level of nesting
_FAMILIES = {"+": "sum", "-": "sum", "*": "product", "/": "product"}
_COMPARISONS = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.NotEq: "!="}
#: how a refused node is described in the error message
_REFUSED = {
    ast.Attribute: "attribute access is",
    ast.Subscript: "subscripts are",
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and'/'or' are",
    ast.IfExp: "'if ... else' is",
    ast.NamedExpr: "assignment (':=') is",
    ast.Starred: "'*' unpacking is",
    ast.JoinedStr: "strings are",
    ast.List: "lists are",
    ast.Tuple: "tuples are",
    ast.Dict: "dicts are",
    ast.Set: "sets are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
}


class Builder:
    """What :func:`fold` calls for each node of a validated tree (subclass and override).

    ``binary`` adds, subtracts and multiplies with the operands' own operators and hands
    ``/`` and ``**`` to :meth:`divide` and :meth:`power`, where the builders differ.
    """

    def number(self, value: int | float) -> Any:
        """A numeric literal."""
        raise NotImplementedError

    def name(self, name: str) -> Any:
        """A parameter, field or coordinate name."""
        raise NotImplementedError

    def binary(self, operator: str, left: Any, right: Any) -> Any:
        """``left operator right`` for ``+ - * / **``."""
        if operator == "+":
            return left + right
        if operator == "-":
            return left - right
        if operator == "*":
            return left * right
        if operator == "/":
            return self.divide(left, right)
        return self.power(left, right)

    def divide(self, left: Any, right: Any) -> Any:
        """``left / right``."""
        raise NotImplementedError

    def power(self, base: Any, exponent: Any) -> Any:
        """``base ** exponent``."""
        raise NotImplementedError

    def negate(self, operand: Any) -> Any:
        """``-operand``."""
        raise NotImplementedError

    def call(self, function: str, arguments: list[Any]) -> Any:
        """A whitelisted function applied to its arguments."""
        raise NotImplementedError


class _Checker(Builder):
    """The builder of the validation pass: collects the names and computes constant parts.

    A part made of numbers only is computed in floating point, so that a constant
    power too large for any later stage (``9**9**9**9``) and a constant part that is no
    finite real number (``log(-1)``, ``1/0``, ``exp(1000)``) are refused when the text is read.
    """

    def __init__(self, where: str) -> None:
        self.names: set[str] = set()
        self.where = where

    def number(self, value):  # noqa: D102
        return float(value)

    def name(self, name):  # noqa: D102
        if name in CONSTANTS:
            return CONSTANTS[name]
        self.names.add(name)
        return None

    def binary(self, operator, left, right):  # noqa: D102
        if operator == "/" and right == 0.0:  # u/0: whatever u is
            raise ConfigError(f"{self.where}: division by zero")
        if operator == "**" and right is not None and abs(right) > MAX_CONSTANT_EXPONENT:  # u**(2**60) too
            raise ConfigError(f"{self.where}: the constant exponent {right:g} is too large (at most {MAX_CONSTANT_EXPONENT})")
        if left is None or right is None:
            return None
        value = super().binary(operator, left, right)
        if not math.isfinite(value):
            raise ConfigError(f"{self.where}: {left:g} {operator} {right:g} is not a finite number")
        return value

    def divide(self, left, right):  # noqa: D102
        if right == 0.0:
            raise ConfigError(f"{self.where}: division by zero")
        return left / right

    def power(self, base, exponent):  # noqa: D102
        if abs(exponent) > MAX_CONSTANT_EXPONENT:
            raise ConfigError(f"{self.where}: the constant exponent {exponent:g} is too large")
        value = _float_power(base, exponent)
        if not math.isfinite(value):
            raise ConfigError(f"{self.where}: {base:g}**{exponent:g} is not a finite real number")
        return value

    def negate(self, operand):  # noqa: D102
        return None if operand is None else -operand

    def call(self, function, arguments):  # noqa: D102
        if any(argument is None for argument in arguments):
            return None
        with np.errstate(all="ignore"):
            value = float(array_functions("numpy")[function](*arguments))
        if not math.isfinite(value):
            shown = ", ".join(f"{argument:g}" for argument in arguments)
            raise ConfigError(f"{self.where}: {function}({shown}) is not a finite real number")
        return value


@dataclass(frozen=True)
class Expression:
    """A validated expression: its text, its checked tree and the names it uses.

    Build one with :func:`parse_expression`; the tree holds only whitelisted nodes.

    Parameters
    ----------
    text
        The expression as written.
    tree
        The validated :mod:`ast` tree (``ast.Expression``).
    names
        The declared names it uses (constants ``pi``, ``e`` excluded).
    where
        The key it came from (``reaction.u``), for messages.
    """

    text: str
    tree: ast.Expression
    names: frozenset[str]
    where: str = "expression"

    @property
    def canonical(self) -> str:
        """The expression re-printed from its tree (spacing and redundant parentheses normalised)."""
        return ast.unparse(self.tree)

    def fold(self, builder: Builder) -> Any:
        """Build ``builder``'s object for this expression (see :func:`fold`)."""
        return fold(self.tree, builder, where=self.where)

    def evaluate(self, values: Mapping[str, Any], *, library: str = "numpy") -> Any:
        """The expression's value with NumPy (or torch) for the names in ``values``.

        Parameters
        ----------
        values
            A number or an array (tensor) for every name the expression uses.
        library
            ``"numpy"`` or ``"torch"``.

        Raises
        ------
        ConfigError
            A name without a value.
        """
        missing = self.names - set(values)
        if missing:
            raise ConfigError(f"{self.where}: no value for {', '.join(sorted(missing))}")
        return self.fold(ArrayBuilder(values, library=library))


@dataclass(frozen=True)
class Condition:
    """A validated comparison ``left OP right`` (a model's constraint on its parameters).

    Parameters
    ----------
    text
        As written (``"F >= 0"``).
    left, right
        The two sides.
    operator
        ``<``, ``<=``, ``>``, ``>=`` or ``!=``.
    """

    text: str
    left: Expression
    right: Expression
    operator: str

    @property
    def names(self) -> frozenset[str]:
        """The names both sides use."""
        return self.left.names | self.right.names

    def holds(self, values: Mapping[str, float]) -> bool:
        """Whether the comparison is true for these values (NaN makes it false)."""
        left = float(self.left.evaluate(values))
        right = float(self.right.evaluate(values))
        return {
            "<": left < right,
            "<=": left <= right,
            ">": left > right,
            ">=": left >= right,
            "!=": left != right,
        }[self.operator]


#: a line break, with the backslash of an explicit continuation before it
_LINE_BREAK = re.compile(r"\\?\r?\n")


def _parse_tree(text: Any, where: str) -> ast.expr:
    if isinstance(text, bool) or not isinstance(text, (str, int, float)):
        raise ConfigError(f"{where}: an expression must be a number or a string, got {type(text).__name__}")
    if not isinstance(text, str):
        if not math.isfinite(text):
            raise ConfigError(f"{where}: the number {text!r} is not finite")
        text = repr(text)
    if len(text) > MAX_CHARACTERS:
        raise ConfigError(f"{where}: the expression is {len(text)} characters long (at most {MAX_CHARACTERS})")
    if not text.strip():
        raise ConfigError(f"{where}: the expression is empty")
    try:  # line breaks (a TOML multi-line string) join the lines, as within parentheses in Python
        tree = ast.parse(_LINE_BREAK.sub(" ", text).strip(), mode="eval")
    except (SyntaxError, ValueError) as error:
        reason = getattr(error, "msg", None) or str(error)
        raise ConfigError(f"{where}: cannot parse {_quote(text)}: {reason}") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{where}: the expression is nested too deeply") from None
    return tree


def parse_expression(text: str | float, names: Iterable[str], *, where: str = "expression") -> Expression:
    """Parse and validate an expression that may use ``names`` (and ``pi``, ``e``).

    Parameters
    ----------
    text
        The expression (a number is accepted as its own expression).
    names
        The names it may use.
    where
        The key it came from, named in every error message.

    Returns
    -------
    Expression

    Raises
    ------
    ConfigError
        Anything outside the whitelist (see the module docstring), one line naming
        ``where`` and the problem.
    """
    tree = _parse_tree(text, where)
    checker = _Checker(where)
    fold(tree, checker, where=where, allowed=frozenset(names))
    source = text if isinstance(text, str) else repr(text)
    return Expression(source.strip(), tree, frozenset(checker.names), where)


def parse_condition(text: str, names: Iterable[str], *, where: str = "constraint") -> Condition:
    """Parse a comparison ``left OP right`` of two expressions (one operator, no chains).

    Raises
    ------
    ConfigError
        Not a single comparison, or a side outside the whitelist.
    """
    if not isinstance(text, str):
        raise ConfigError(f"{where}: a constraint must be a string like \"F >= 0\", got {type(text).__name__}")
    tree = _parse_tree(text, where)
    body = tree.body
    if not isinstance(body, ast.Compare) or len(body.ops) != 1 or type(body.ops[0]) not in _COMPARISONS:
        raise ConfigError(f"{where}: a constraint must be one comparison like \"F >= 0\" "
                          f"(<, <=, >, >=, !=), got {_quote(text)}")  # fmt: skip
    allowed = frozenset(names)
    sides = []
    for node in (body.left, body.comparators[0]):
        side = ast.Expression(body=node)
        checker = _Checker(where)
        fold(side, checker, where=where, allowed=allowed)
        sides.append(Expression(ast.unparse(node), side, frozenset(checker.names), where))
    return Condition(text.strip(), sides[0], sides[1], _COMPARISONS[type(body.ops[0])])


def fold(tree: ast.AST, builder: Builder, *, where: str = "expression", allowed: frozenset[str] | None = None) -> Any:
    """Walk a tree with the whitelist and build ``builder``'s object bottom-up.

    Parameters
    ----------
    tree
        An ``ast.Expression`` (or an expression node).
    builder
        Receives numbers, names, operators and calls (see :class:`Builder`).
    where
        Named in error messages.
    allowed
        The names that may appear (besides ``pi`` and ``e``); None skips the name
        check (a tree already validated by :func:`parse_expression`).

    Raises
    ------
    ConfigError
        A node outside the whitelist, an undeclared name, a tree too deep or too large.
    """
    count = [0]

    def walk(node: ast.AST, depth: int, level: int = 0) -> Any:
        count[0] += 1
        if count[0] > MAX_NODES:
            raise ConfigError(f"{where}: the expression has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise ConfigError(f"{where}: the expression is nested more than {MAX_DEPTH} levels deep")
        if level > MAX_CHAIN:  # the tree's own depth, chains included
            raise ConfigError(f"{where}: the expression has more than {MAX_CHAIN} terms in a row; split it with parentheses")
        if isinstance(node, ast.Expression):
            return walk(node.body, depth + 1, level + 1)
        if isinstance(node, ast.Constant):
            return builder.number(_number(node.value, where))
        if isinstance(node, ast.Name):
            if not isinstance(node.ctx, ast.Load):
                raise ConfigError(f"{where}: assignment is not allowed")
            if allowed is not None and node.id not in allowed and node.id not in CONSTANTS:
                if node.id in FUNCTIONS:
                    raise ConfigError(f"{where}: {node.id} is a function; call it as {node.id}(...)")
                valid = ", ".join(sorted(allowed | set(CONSTANTS)))
                raise ConfigError(f"{where}: name {node.id!r} is not declared (names allowed here: {valid})")
            return builder.name(node.id)
        if isinstance(node, ast.BinOp):
            operator = _OPERATORS.get(type(node.op))
            if operator is None:
                symbol = {ast.FloorDiv: "//", ast.Mod: "%", ast.MatMult: "@", ast.BitXor: "^", ast.BitAnd: "&",
                          ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>"}.get(type(node.op), "this operator")  # fmt: skip
                hint = " (use ** for powers)" if symbol == "^" else ""
                raise ConfigError(f"{where}: the operator {symbol} is not allowed; use + - * / **{hint}")
            family = _FAMILIES.get(operator)

            def operand(child: ast.AST) -> Any:  # a + b + c: the same family continues the level
                same = isinstance(child, ast.BinOp) and family is not None and _FAMILIES.get(
                    _OPERATORS.get(type(child.op))) == family  # fmt: skip
                return walk(child, depth if same else depth + 1, level + 1)

            left = operand(node.left)
            right = operand(node.right)
            return builder.binary(operator, left, right)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return builder.negate(walk(node.operand, depth + 1, level + 1))
            if isinstance(node.op, ast.UAdd):
                return walk(node.operand, depth + 1, level + 1)
            raise ConfigError(f"{where}: the operator {'not' if isinstance(node.op, ast.Not) else '~'} is not allowed")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                what = "attribute access" if isinstance(node.func, ast.Attribute) else "calling an expression"
                raise ConfigError(f"{where}: {what} is not allowed")
            function = FUNCTIONS.get(node.func.id)
            if function is None:
                raise ConfigError(f"{where}: calls to {node.func.id!r} are not allowed; functions: {', '.join(FUNCTIONS)}")
            if node.keywords:
                raise ConfigError(f"{where}: {function.name}() takes no keyword arguments")
            count_args = len(node.args)
            too_few = count_args < function.min_arguments
            too_many = function.max_arguments is not None and count_args > function.max_arguments
            if too_few or too_many:
                wanted = (str(function.min_arguments) if function.max_arguments == function.min_arguments
                          else f"at least {function.min_arguments}")  # fmt: skip
                raise ConfigError(f"{where}: {function.name}() takes {wanted} argument(s), got {count_args}")
            arguments = [walk(argument, depth + 1, level + 1) for argument in node.args]
            return builder.call(function.name, arguments)
        what = _REFUSED.get(type(node), f"{type(node).__name__} nodes are")
        raise ConfigError(f"{where}: {what} not allowed in an expression")

    try:
        return walk(tree, 0)
    except RecursionError:
        raise ConfigError(f"{where}: the expression is nested too deeply") from None


def _number(value: Any, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "strings" if isinstance(value, (str, bytes)) else f"{type(value).__name__} constants"
        raise ConfigError(f"{where}: {kind} are not allowed in an expression")
    if isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise ConfigError(f"{where}: the integer {str(value)[:20]}... is too large (at most 2**53)")
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{where}: the number {value!r} is not finite")
    return value


def _quote(text: str, limit: int = 60) -> str:
    text = " ".join(str(text).split())
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


# -- builders -------------------------------------------------------------------------


def _numpy_heaviside(x):
    return np.heaviside(x, 0.5)


def _torch_heaviside(x):
    import torch

    x = _as_tensor(x)
    return torch.heaviside(x, torch.full_like(x, 0.5))


def _as_tensor(value):
    """A tensor as it is; a number as a float64 0-d tensor (torch's default float32 would round the
    time t or a parameter; a 0-d tensor does not change the dtype of the fields it meets)."""
    import torch

    return value if isinstance(value, torch.Tensor) else torch.as_tensor(value, dtype=torch.float64)


def _reduce(pairwise: Callable) -> Callable:
    def reduce(*arguments):
        result = arguments[0]
        for argument in arguments[1:]:
            result = pairwise(result, argument)
        return result

    return reduce


def _numpy_functions() -> dict[str, Callable]:
    return {
        "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos, "tanh": np.tanh,
        "abs": np.abs, "min": _reduce(np.minimum), "max": _reduce(np.maximum), "heaviside": _numpy_heaviside,
        "sign": np.sign,
    }  # fmt: skip


def _torch_functions() -> dict[str, Callable]:
    import torch

    def tensor(function):
        return lambda *arguments: function(*(_as_tensor(argument) for argument in arguments))

    return {
        "exp": tensor(torch.exp), "log": tensor(torch.log), "sqrt": tensor(torch.sqrt), "sin": tensor(torch.sin),
        "cos": tensor(torch.cos), "tanh": tensor(torch.tanh), "abs": tensor(torch.abs),
        "min": _reduce(tensor(torch.minimum)), "max": _reduce(tensor(torch.maximum)),
        "heaviside": _torch_heaviside, "sign": tensor(torch.sign),
    }  # fmt: skip


#: array functions by library name (built on first use)
_LIBRARIES: dict[str, dict[str, Callable]] = {}


def array_functions(library: str) -> dict[str, Callable]:
    """The language's functions (plus ``sign``) for ``"numpy"`` or ``"torch"`` arrays."""
    if library not in _LIBRARIES:
        if library == "numpy":
            _LIBRARIES[library] = _numpy_functions()
        elif library == "torch":
            _LIBRARIES[library] = _torch_functions()
        else:
            raise ValueError(f"unknown array library {library!r}")
    return _LIBRARIES[library]


class ArrayBuilder(Builder):
    """Evaluate at once, with NumPy or torch, for the given values of the names.

    Numbers stay Python floats, so an expression of float32 arrays stays float32.
    """

    def __init__(self, values: Mapping[str, Any], *, library: str = "numpy") -> None:
        self.values = values
        self.functions = array_functions(library)

    def number(self, value):
        """The literal as a float."""
        return float(value)

    def name(self, name):
        """The array bound to ``name``."""
        return CONSTANTS[name] if name in CONSTANTS else self.values[name]

    def binary(self, operator, left, right):
        """``left operator right`` on arrays."""
        with np.errstate(all="ignore"):
            return super().binary(operator, left, right)

    def divide(self, left, right):
        """``left / right`` on arrays."""
        if isinstance(left, float) and isinstance(right, float):
            return _float_division(left, right)
        return left / right

    def power(self, base, exponent):
        """``base ** exponent`` on arrays."""
        if isinstance(base, float) and isinstance(exponent, float):
            return _float_power(base, exponent)
        return base**exponent

    def negate(self, operand):
        """``-operand``."""
        return -operand

    def call(self, function, arguments):
        """The NumPy function of the whitelisted name, applied."""
        with np.errstate(all="ignore"):
            result = self.functions[function](*arguments)
        return float(result) if np.ndim(result) == 0 and not hasattr(result, "requires_grad") else result


def _float_division(left: float, right: float) -> float:
    if right == 0.0:
        return math.nan if left == 0.0 else math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


def _float_power(base: float, exponent: float) -> float:
    try:
        result = base**exponent
    except (OverflowError, ZeroDivisionError):
        return math.inf
    return math.nan if isinstance(result, complex) else float(result)


class SympyBuilder(Builder):
    """Build a sympy expression (symbols given by name; constants become ``pi``, ``E``).

    Powers of two numbers are computed in floating point (sympy would compute
    ``9**9**9`` exactly and never finish); an overflow or a complex result is refused.
    """

    def __init__(self, symbols: Mapping[str, Any], *, where: str = "expression") -> None:
        import sympy

        self.sympy = sympy
        self.symbols = symbols
        self.where = where
        self._functions = {
            "exp": sympy.exp, "log": sympy.log, "sqrt": sympy.sqrt, "sin": sympy.sin, "cos": sympy.cos,
            "tanh": sympy.tanh, "abs": sympy.Abs, "min": sympy.Min, "max": sympy.Max,
            "heaviside": lambda x: sympy.Heaviside(x, sympy.Rational(1, 2)),
        }  # fmt: skip

    def number(self, value):
        """The literal as a SymPy Integer or Float."""
        return self.sympy.Integer(value) if isinstance(value, int) else self.sympy.Float(value)

    def name(self, name):
        """The SymPy symbol of ``name``."""
        if name == "pi":
            return self.sympy.pi
        if name == "e":
            return self.sympy.E
        return self.symbols[name]

    def divide(self, left, right):
        """``left / right`` as a SymPy expression."""
        if right == 0:
            raise ConfigError(f"{self.where}: division by zero")
        return left / right

    def power(self, base, exponent):
        """``base ** exponent`` as a SymPy expression."""
        if base.is_Number and exponent.is_Number:
            return self._constant_power(base, exponent)
        return base**exponent

    def _constant_power(self, base, exponent):
        base_value, exponent_value = float(base), float(exponent)  # sympy Numbers: exact to float at once
        if abs(exponent_value) > MAX_CONSTANT_EXPONENT:
            raise ConfigError(f"{self.where}: the constant exponent {exponent_value:g} is too large")
        value = _float_power(base_value, exponent_value)
        if not math.isfinite(value):
            raise ConfigError(f"{self.where}: {base_value:g}**{exponent_value:g} is not a finite real number")
        if exponent.is_Integer and base.is_Rational:
            return base**exponent  # exact and small
        return self.sympy.Float(value)

    def negate(self, operand):
        """``-operand``."""
        return -operand

    def call(self, function, arguments):
        """The SymPy function of the whitelisted name, applied."""
        return self._functions[function](*arguments)
