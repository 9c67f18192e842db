"""The options of a solvable-GAN run, checked: limits, numbers, λ lists and ranges.

:func:`rdnet.gan_dynamics.simulate` and ``rdnet gan-dynamics phase-diagram`` check every value
here before anything runs or is written; a bad one raises :class:`~rdnet.errors.ConfigError`
naming the command-line option.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

from rdnet.errors import ConfigError

__all__ = [
    "MAX_DIMENSION", "MAX_STEPS", "MAX_REPLICAS", "MAX_RECORDS", "MAX_RESULT_BYTES", "MAX_RATE", "MAX_STRENGTH",
    "MAX_GRID_COUNT", "MAX_HORIZON", "check_number", "check_integer", "parse_lambdas", "parse_value_or_range",
]  # fmt: skip

#: limits of the options (beyond them a run is unphysical, overflows, or cannot finish)
MAX_DIMENSION = 10**7  # the planted features are stored as n-vectors
MAX_STEPS = 10**12  # online steps T·n of one replica (days at ~10^6 steps/s)
MAX_REPLICAS = 10**4
MAX_RECORDS = 10**5
MAX_RESULT_BYTES = 4 * 2**30
MAX_RATE = 100.0  # τ, τ̃
MAX_STRENGTH = 1e4  # λ, η
MAX_GRID_COUNT = 200
MAX_HORIZON = 1e5


def check_number(value: float, option: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False) -> float:  # fmt: skip
    """``value`` if finite and within [low, high] (low excluded when ``low_open``).

    Parameters
    ----------
    value : float
    option : str
        The option's name in the message, e.g. ``"--tau-d"``.
    low, high : float, optional
        The bounds.
    low_open : bool
        Exclude ``low``.

    Returns
    -------
    float

    Raises
    ------
    ConfigError
        Not finite, or out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{option} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ConfigError(f"{option} must be a finite number, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{option} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and value > high:
        raise ConfigError(f"{option} must be <= {high:g}, got {value:g}")
    return value


def check_integer(value: int, option: str, *, low: int, high: int | None = None) -> int:
    """``value`` if an integer within [low, high]; else ConfigError naming ``option``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(f"{option} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigError(f"{option} must be an integer {bound}, got {value}")
    return value


def parse_lambdas(text: str | float | Sequence[float], option: str = "--lambda") -> tuple[float, ...]:
    """Feature strengths from ``"3,5"`` (or a number, or a sequence of numbers), each in (0, MAX_STRENGTH]."""
    if isinstance(text, str):
        try:
            values = tuple(float(item) for item in text.split(","))
        except ValueError:
            raise ConfigError(f"{option} must be comma-separated numbers such as 3,5; got {text!r}") from None
    else:
        values = tuple(float(item) for item in ((text,) if isinstance(text, (int, float)) else text))
    for value in values:
        check_number(value, option, low=0.0, high=MAX_STRENGTH, low_open=True)
    return values


def parse_value_or_range(text: str, option: str, *, low: float, low_open: bool, high: float):
    """``"2"`` -> 2.0; ``"0.5:5:40"`` -> 40 values from 0.5 to 5 (checked against [low, high])."""
    import numpy as np

    parts = text.split(":")
    usage = f"{option} must be a number or a range START:STOP:COUNT (e.g. 0.5:5:40), got {text!r}"
    if len(parts) not in (1, 3):
        raise ConfigError(usage)
    try:
        numbers = [float(part) for part in parts[:2]]
        count = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise ConfigError(usage) from None
    for number in numbers:
        check_number(number, option, low=low, high=high, low_open=low_open)
    if count is None:
        return numbers[0]
    start, stop = numbers
    if not stop > start:
        raise ConfigError(f"{option}: a range START:STOP:COUNT needs START < STOP, got {text!r}")
    check_integer(count, f"{option}'s COUNT", low=2, high=MAX_GRID_COUNT)
    return np.linspace(start, stop, count)
