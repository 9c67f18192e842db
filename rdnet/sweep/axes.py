"""Parameter axes of a sweep: the values swept, their text form ``NAME=SPEC``, and point names.

A sweep's *parameter axis* (not the spatial grid of a run, nor the neuron layout of the
network engine) is one swept parameter and its values; the points of a sweep are the
Cartesian product of its axes, in C order.

Text form of an axis (``rdnet sweep --grid NAME=SPEC``; :func:`parse_axis`)
--------------------------------------------------------------------------
``NAME=START:STOP:COUNT``
    ``COUNT`` values from ``START`` to ``STOP`` *inclusive*, evenly spaced
    (``numpy.linspace``). For an integer parameter the values must be whole numbers.
``NAME=START:STOP``
    Integer parameters only (``seed``, ``steps``, ...): the Python range
    ``START, START+1, ..., STOP-1``. ``seed=0:16`` is the 16 seeds 0..15.
    A float parameter written this way is refused (it lacks a count).
``NAME=A,B,C`` or ``NAME=A``
    An explicit list; strings are allowed for options that take them
    (``integrator=euler,rk4``), ``true``/``false`` for on/off flags.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rdnet.errors import ConfigError

__all__ = ["ParameterAxis", "parse_axis", "split_axis_spec", "point_names", "axis_attrs"]

_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9.+-]")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclass(frozen=True)
class ParameterAxis:
    """One swept parameter.

    Parameters
    ----------
    name : str
        The name as the user wrote it (``F``, ``seed``, ``adversary-weight``).
    values : tuple
        The values in sweep order (``int``, ``float``, ``str`` or ``bool``).
    units : str
        Units of the parameter (``"1"`` when unknown or dimensionless).
    """

    name: str
    values: tuple[Any, ...]
    units: str = "1"

    @property
    def dim(self) -> str:
        """Dimension name in the summary dataset (``-`` becomes ``_``)."""
        return self.name.replace("-", "_")

    def __post_init__(self) -> None:
        # numpy scalars (a user's np.linspace) become Python numbers: picklable, JSON-able, exact
        values = tuple(value.item() if hasattr(value, "item") else value for value in self.values)
        object.__setattr__(self, "values", values)

    def __len__(self) -> int:
        return len(self.values)


def split_axis_spec(spec: str) -> tuple[str, str]:
    """Split ``NAME=SPEC`` into its name and value part.

    Parameters
    ----------
    spec : str
        The text form of one axis (``rdnet sweep --grid`` takes it).

    Returns
    -------
    name, values : str
        The parameter name and the unparsed value specification.

    Raises
    ------
    ConfigError
        When there is no ``=``, the name is not a valid identifier or the values are empty.
    """
    name, equals, values = spec.partition("=")
    name, values = name.strip(), values.strip()
    if not equals or not values:
        raise ConfigError(
            f"parameter axis {spec!r}: expected NAME=START:STOP:COUNT or NAME=A,B,C (e.g. F=0.01:0.07:24)"
        )
    if not _NAME_PATTERN.match(name):
        raise ConfigError(f"parameter axis {spec!r}: {name!r} is not a parameter name (letters, digits, _ . -)")
    return name, values


def parse_axis(spec: str, *, value_type: str = "float", choices: Sequence[str] | None = None) -> ParameterAxis:
    """Parse the text form of one parameter axis into a :class:`ParameterAxis`.

    Parameters
    ----------
    spec : str
        ``NAME=START:STOP:COUNT`` (inclusive, evenly spaced), ``NAME=START:STOP``
        (integer range, stop excluded, integer parameters only) or ``NAME=A,B,C``.
    value_type : {"float", "int", "str", "bool"}
        Type of the parameter the axis drives.
    choices : sequence of str, optional
        Allowed values of a ``str`` parameter.

    Returns
    -------
    ParameterAxis

    Raises
    ------
    ConfigError
        Malformed specification, values of the wrong type, duplicates, or no values.

    Examples
    --------
    >>> parse_axis("k=0.04:0.07:4").values
    (0.04, 0.05, 0.06, 0.07)
    >>> parse_axis("seed=0:3", value_type="int").values
    (0, 1, 2)
    """
    name, text = split_axis_spec(spec)
    where = f"parameter axis {name}={text}"
    if value_type not in {"float", "int", "str", "bool"}:
        raise ValueError(f"unknown value_type {value_type!r}")
    if ":" in text and value_type in {"float", "int"}:
        values = _parse_range(text, value_type, where)
    elif ":" in text:
        raise ConfigError(f"{where}: {name} takes {value_type} values; give a comma list")
    else:
        items = [item.strip() for item in text.split(",")]
        if any(not item for item in items):
            raise ConfigError(f"{where}: empty item in the comma list")
        values = tuple(_convert(item, value_type, choices, where) for item in items)
    duplicates = sorted({str(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise ConfigError(f"{where}: repeated value(s) {', '.join(duplicates)}")
    return ParameterAxis(name=name, values=values)


def _parse_range(text: str, value_type: str, where: str) -> tuple[Any, ...]:
    import numpy as np

    parts = [part.strip() for part in text.split(":")]
    if len(parts) == 2:
        if value_type != "int":
            raise ConfigError(
                f"{where}: a float range needs a count: START:STOP:COUNT (inclusive), "
                f"e.g. {where.split('=')[0].split()[-1]}={parts[0]}:{parts[1]}:10"
            )
        start, stop = (_convert(part, "int", None, where) for part in parts)
        if stop <= start:
            raise ConfigError(f"{where}: START:STOP is the range START..STOP-1; STOP must exceed START")
        return tuple(range(start, stop))
    if len(parts) != 3:
        raise ConfigError(f"{where}: expected START:STOP:COUNT (inclusive) or a comma list")
    start, stop = (_convert(part, "float", None, where) for part in parts[:2])
    try:
        count = int(parts[2])
    except ValueError:
        raise ConfigError(f"{where}: COUNT must be a whole number, got {parts[2]!r}") from None
    if count < 1 or (count == 1 and start != stop):
        raise ConfigError(f"{where}: COUNT must be at least 2 (or 1 with START == STOP), got {count}")
    values = np.linspace(start, stop, count)
    if value_type == "int":
        if not np.allclose(values, np.round(values), rtol=0, atol=1e-9):
            raise ConfigError(
                f"{where}: gives non-whole values for an integer parameter; "
                f"use START:STOP (a range) or a comma list"
            )
        return tuple(int(round(v)) for v in values)
    # round away linspace's last-bit noise so that 0.04:0.07:4 gives 0.05, not 0.05000000000000001
    return tuple(float(f"{v:.15g}") for v in values)


def _convert(item: str, value_type: str, choices: Sequence[str] | None, where: str) -> Any:
    if value_type == "int":
        try:
            return int(item)
        except ValueError:
            raise ConfigError(f"{where}: {item!r} is not a whole number") from None
    if value_type == "float":
        try:
            value = float(item)
        except ValueError:
            raise ConfigError(f"{where}: {item!r} is not a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {item!r} is not a finite number")
        return value
    if value_type == "bool":
        if item.lower() in _TRUE:
            return True
        if item.lower() in _FALSE:
            return False
        raise ConfigError(f"{where}: {item!r} is not true or false")
    if choices is not None and item not in choices:
        raise ConfigError(f"{where}: {item!r} is not one of {', '.join(choices)}")
    return item


def _format_value(value: Any, digits: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return _UNSAFE_FILE_CHARACTERS.sub("-", str(value))


def _axis_labels(axis: ParameterAxis) -> list[str]:
    """Shortest labels (at least 6 significant digits) that tell the axis' values apart."""
    for digits in range(6, 18):
        labels = [_format_value(value, digits) for value in axis.values]
        if len(set(labels)) == len(labels):
            return labels
    raise ConfigError(f"parameter axis {axis.name}: values cannot be told apart in a file name")


def point_names(axes: Sequence[ParameterAxis]) -> list[tuple[str, tuple[int, ...], dict[str, Any]]]:
    """Name every point of a sweep over these axes, in C order (the last axis varies fastest).

    Parameters
    ----------
    axes : sequence of ParameterAxis

    Returns
    -------
    list of (name, index, values)
        ``name`` is ``F=0.01_k=0.04`` style: it depends only on the values, so a rerun
        (or one over longer axes) finds the points already done; ``index`` is the position
        in the summary arrays and ``values`` maps each axis name to its value.
    """
    import itertools

    labels = [_axis_labels(axis) for axis in axes]
    points = []
    for index in itertools.product(*(range(len(axis)) for axis in axes)):
        name = "_".join(f"{axis.name}={labels[a][i]}" for a, (axis, i) in enumerate(zip(axes, index)))
        values = {axis.name: axis.values[i] for axis, i in zip(axes, index)}
        points.append((name, tuple(index), values))
    return points


def axis_attrs(axis: ParameterAxis) -> dict[str, str]:
    """The attributes of a swept parameter's coordinate (in the summary and the zarr store)."""
    return {"long_name": f"swept parameter {axis.name}", "units": axis.units, "option": axis.name}
