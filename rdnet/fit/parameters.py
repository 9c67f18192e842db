"""The fitted parameters: names, bounds, and the unit box the optimisers work in.

Every optimiser sees the parameters as ``x ∈ [0, 1]^P``: ``θ = low + x (high − low)``,
or, for a positive parameter whose bounds span a factor of 10 or more,
``θ = low (high/low)^x`` (equal steps in ``x`` are equal factors in ``θ``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.models import Model

__all__ = ["ParameterSpace", "fitted_names", "parameter_space", "unit_box_points", "LOG_SCALE_RATIO", "MAX_FITTED"]

#: bounds ``high/low`` from which a positive parameter is searched on a log scale
LOG_SCALE_RATIO = 10.0
#: most parameters fitted at once (their bound corners are all checked)
MAX_FITTED = 8


@dataclass(frozen=True)
class ParameterSpace:
    """The fitted parameters and their bounds.

    Parameters
    ----------
    names
        Parameter names, in the order of ``x``'s columns.
    low, high
        Bounds.
    log_scale
        Per parameter: searched on a log scale.
    """

    names: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    log_scale: tuple[bool, ...]

    @property
    def size(self) -> int:
        """Number of fitted parameters ``P``."""
        return len(self.names)

    def to_values(self, x):
        """Physical values of unit-box points ``x`` (``(..., P)``, numpy or torch), same shape."""
        columns = []
        for index, (low, high, log) in enumerate(zip(self.low, self.high, self.log_scale)):
            column = x[..., index]
            if log:
                columns.append(low * (high / low) ** column)
            else:
                columns.append(low + column * (high - low))
        if hasattr(x, "detach"):
            import torch

            return torch.stack(columns, dim=-1)
        return np.stack(columns, axis=-1)

    def to_unit(self, values) -> np.ndarray:
        """Unit-box coordinates of physical values ``(..., P)``."""
        values = np.asarray(values, dtype=np.float64)
        columns = []
        for index, (low, high, log) in enumerate(zip(self.low, self.high, self.log_scale)):
            column = values[..., index]
            if log:
                columns.append(np.log(column / low) / math.log(high / low))
            else:
                columns.append((column - low) / (high - low))
        return np.stack(columns, axis=-1)

    def as_dicts(self, values) -> list[dict[str, float]]:
        """Rows of physical values ``(S, P)`` as dicts name -> value."""
        values = np.atleast_2d(np.asarray(values, dtype=np.float64))
        return [dict(zip(self.names, map(float, row))) for row in values]

    def bounds_text(self) -> list[str]:
        """``NAME=LOW:HIGH`` per parameter."""
        return [f"{name}={low:g}:{high:g}" for name, low, high in zip(self.names, self.low, self.high)]


def fitted_names(names) -> tuple[str, ...]:
    """The names of the parameters to fit: a list of names, or one name (not its letters)."""
    if isinstance(names, str):
        return (names,)
    try:
        return tuple(names)
    except TypeError:
        raise ConfigError(f"give the parameters to fit as a list of names, e.g. ['F', 'k'], got {names!r}") from None


def parameter_space(model: Model, names: Sequence[str], bounds: Mapping[str, tuple[float, float]]) -> ParameterSpace:
    """Check the fitted names and their bounds against the model; default bounds are half to twice the value.

    Parameters
    ----------
    model
        The model at its starting values (preset and fixed parameters applied).
    names
        The parameters to fit.
    bounds
        Name -> ``(low, high)``; a fitted parameter left out gets ``(v/2, 2v)`` around
        its value ``v`` (ordered; refused for ``v = 0``).

    Raises
    ------
    ConfigError
        An unknown or repeated name, bounds for a parameter that is not fitted,
        ``low >= high``, non-finite bounds, or a corner of the bounds where the model is
        invalid (a constraint of its model file, a negative diffusion coefficient).
    """
    valid = model.parameter_names()
    names = fitted_names(names)
    if not names:
        raise ConfigError("give at least one parameter to fit (--params F,k)")
    if len(names) > MAX_FITTED:
        raise ConfigError(f"at most {MAX_FITTED} parameters can be fitted at once, got {len(names)}")
    for name in names:
        if name not in valid:
            raise ConfigError(f"model {model.name!r} has no parameter {name!r}; valid parameters: {', '.join(valid)}")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"--params names {', '.join(repeated)} more than once")
    unused = sorted(set(bounds) - set(names))
    if unused:
        raise ConfigError(f"--bounds given for {', '.join(unused)}, which is not fitted (--params {','.join(names)})")
    low, high = [], []
    for name in names:
        if name in bounds:
            try:
                lower, upper = (float(value) for value in bounds[name])
            except (TypeError, ValueError):
                raise ConfigError(f"bounds of {name} must be a pair (low, high), got {bounds[name]!r}") from None
        else:
            value = float(model.values[name])
            if value == 0:
                raise ConfigError(f"{name} is 0 in the model; give its range with --bounds {name}=LOW:HIGH")
            lower, upper = sorted((value / 2, value * 2))
        if not (math.isfinite(lower) and math.isfinite(upper)):
            raise ConfigError(f"bounds of {name} must be finite numbers, got {lower:g}:{upper:g}")
        if not lower < upper:
            raise ConfigError(f"bounds of {name} are impossible: low {lower:g} is not below high {upper:g}")
        low.append(lower)
        high.append(upper)
    for corner in itertools.product(*zip(low, high)):
        try:
            model.with_parameters(**dict(zip(names, corner)))
        except ConfigError as error:
            where = ", ".join(f"{name}={value:g}" for name, value in zip(names, corner))
            raise ConfigError(f"bounds are impossible: at the corner {where} {error}") from None
    log_scale = tuple(lower > 0 and upper / lower >= LOG_SCALE_RATIO for lower, upper in zip(low, high))
    return ParameterSpace(names, tuple(low), tuple(high), log_scale)


def unit_box_points(count: int, dimension: int, *, seed: int) -> np.ndarray:
    """``count`` scrambled Sobol points of the unit box (spread evenly over the bounds)."""
    import warnings

    from scipy.stats import qmc

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "balance properties" of non-powers of two: irrelevant here
        return qmc.Sobol(dimension, scramble=True, seed=seed).random(count)
