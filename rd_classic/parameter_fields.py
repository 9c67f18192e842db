"""Parameters that vary in space: an expression in ``x, y, z`` or a NetCDF variable.

``--param F=0.035`` sets a number; ``--param "F=0.02 + 0.04*x/Lx"`` makes ``F`` a field,
an expression (the language of :mod:`rd_classic.expressions`) in the cell-centre
coordinates ``x, y, z``, the domain lengths ``Lx, Ly, Lz``, the model's other
parameters (their scalar values) and ``pi``, ``e``; ``--param F=@ramp.nc:F`` reads the
field from a file (:func:`rd_classic.field_files.read_snapshot`). The kernels then read
``F`` cell by cell: one run draws, for instance, Pearson's whole F–k map.

A parameter that sets a diffusion coefficient cannot vary in space (the diffusion
term would no longer be ``D ∇²u``). A model file's constraints must hold at every
value of the field (they are checked at its minimum and maximum).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.expressions import parse_expression
from rd_classic.grids import Grid
from rd_classic.model_file import DOMAIN_LENGTHS
from rd_classic.models import Model

__all__ = ["ParameterField", "parameter_field", "is_field_specification", "check_field_parameter"]


@dataclass(frozen=True)
class ParameterField:
    """A parameter's values on the grid, and how they were specified.

    Parameters
    ----------
    name
        The parameter.
    specification
        The expression, or ``@FILE:VAR``.
    values
        float64 array of the grid's shape.
    """

    name: str
    specification: str
    values: np.ndarray = field(repr=False)

    @property
    def from_file(self) -> bool:
        """Whether the values were read from a file (the run's dataset keeps them)."""
        return self.specification.startswith("@")

    @property
    def file(self) -> str | None:
        """The file the values were read from (None for an expression)."""
        return field_file_specification(self.specification)[0] if self.from_file else None


def field_file_specification(specification: str) -> tuple[str, str]:
    """``@FILE:VARIABLE`` split into the file and the variable (the last ``:`` separates them)."""
    path, _, variable = specification[1:].rpartition(":")
    return path, variable


def is_field_specification(text: str) -> bool:
    """Whether a ``--param`` value is a field (an expression or ``@FILE:VAR``) rather than a number."""
    try:
        float(text)
    except (TypeError, ValueError):
        return True
    return False


def check_field_parameter(model: Model, name: str) -> None:
    """Refuse a field for a parameter the model lacks or one that sets a diffusion coefficient."""
    if name not in model.values:
        valid = ", ".join(model.parameter_names())
        raise ConfigError(f"model {model.name!r} has no parameter {name!r}; valid parameters: {valid}")
    for species in model.species:
        if name in model.declaration.diffusion[species].names:
            raise ConfigError(f"parameter {name} sets the diffusion coefficient of {species} and cannot vary in space")


def parameter_field(model: Model, name: str, specification: str, grid: Grid, *,
                    stored: np.ndarray | None = None) -> ParameterField:  # fmt: skip
    """Evaluate (or read) a field-valued parameter on the grid.

    Parameters
    ----------
    model
        The model (its other parameters' values may appear in the expression).
    name
        The parameter.
    specification
        An expression in ``x, y, z, Lx, Ly, Lz`` and the parameters, or ``@FILE:VAR``.
    grid
        Where.
    stored
        The values as a run's dataset keeps them (used instead of reading ``@FILE`` again).

    Raises
    ------
    ConfigError
        Unknown parameter, a diffusion parameter, a malformed expression, a file that
        does not fit the grid, non-finite values, a violated constraint.
    """
    check_field_parameter(model, name)
    where = f"--param {name}"
    if stored is not None:
        values = np.asarray(stored, dtype=np.float64)
        if values.shape != grid.shape:
            raise ConfigError(f"{where}: the stored field has shape {values.shape}, the grid {grid.shape}")
    elif specification.startswith("@"):
        path, variable = field_file_specification(specification)
        if not path or not variable:
            raise ConfigError(f"{where}: a field from a file is @FILE.nc:VARIABLE, got {specification!r}")
        from rd_classic.field_files import read_snapshot

        values = read_snapshot(path, variable, grid.shape, what=where)
    else:
        names = {*model.parameter_names(), "x", "y", "z", *DOMAIN_LENGTHS} - {name}
        try:
            expression = parse_expression(specification, names, where=where)
        except ConfigError as error:
            raise ConfigError(f"{error} (--param needs a number, an expression in x, y, z, Lx, Ly, Lz, or "
                              f"@FILE.nc:VARIABLE)") from None  # fmt: skip
        values = np.broadcast_to(expression.evaluate({**model.values, **grid.expression_values()}), grid.shape)
        values = np.array(values, dtype=np.float64)
    if not np.isfinite(values).all():
        raise ConfigError(f"{where}: the field is not finite everywhere on this grid")
    for extreme in (float(values.min()), float(values.max())):
        if math.isfinite(extreme):
            model.with_parameters(**{name: extreme})  # the model's constraints at both ends
    return ParameterField(name, specification, values)
