"""Initial conditions: named ones, the model file's expressions, a dataset's snapshot, an image.

An initial condition is given by a specification string:

``pearson``
    Two-species models: ``u = 1, v = 0`` with a central square of 20 × 20 cells (a cube
    of 20³ in 3-D; at most half the grid side) at ``u = 1/2, v = 1/4``, then uniform
    noise of ±1 % (Pearson 1993: "a 20 by 20 mesh point area located symmetrically
    about the center of the grid").
``patches``
    Two-species models: Pearson's seed scattered over the whole grid, so that a pattern
    fills it within a few hundred time units instead of growing out of one square:
    ``u = 1, v = 0`` with one square (a cube in 3-D) of 8 cells per 16 × 16 cells
    (16³ in 3-D) on average, at random places (wrapping around the edges), at
    ``u = 1/2, v = 1/4``, then Pearson's ±1 % noise. The start of ``rdnet fit``'s
    Gray-Scott runs.
``noise``
    The model's first homogeneous steady state plus uniform noise of ±1 % of each
    species' magnitude (±0.01 where it is 0): seeds a Turing instability from all
    wavenumbers. Any model with a steady state.
``expr``
    The model file's ``[initial]`` table: one expression per species in ``x, y, z``
    (cell centres, physical units), ``Lx, Ly, Lz`` (the domain lengths), the parameters
    (a field-valued parameter at each cell's value) and ``pi``, ``e``, plus seeded
    uniform noise of ± ``noise`` (its ``noise`` key).
``@FILE.nc`` or ``@FILE.nc:VAR1,VAR2,...``
    The last snapshot of a dataset on the same grid: each species from the variable
    of its own name, or from the listed variables in species order
    (:func:`rd_classic.field_files.read_snapshot` states the minimum a file must meet).
``@IMAGE.png`` or ``@IMAGE.png:SPECIES``
    A greyscale PNG (2-D grids): its grey level in [0, 1] (resampled to the grid) is
    added to one species (default: the last) at the model's first homogeneous steady
    state; the other species sit at that state.

Every random draw comes from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.grids import Grid
from rd_classic.models import Model

__all__ = ["INITIAL_CONDITIONS", "PEARSON_SEED_CELLS", "initial_state", "check_initial_condition"]

#: the named initial conditions
INITIAL_CONDITIONS = ("pearson", "patches", "noise", "expr")
#: side of Pearson's initial square, in cells
PEARSON_SEED_CELLS = 20
#: side of each square of the ``patches`` initial condition, and the side of the area per square, in cells
PATCH_CELLS, PATCH_SPACING_CELLS = 8, 16


def file_specification(spec: str) -> tuple[str, str]:
    """``@FILE[:NAMES]`` split into the file and the names after it (``""`` when none)."""
    path, _, names = spec[1:].partition(":")
    return path, names


def check_initial_condition(spec: str, model: Model) -> str:
    """Check a specification's form (no file is read): one of :data:`INITIAL_CONDITIONS` or ``@...``.

    Raises
    ------
    ConfigError
        Unknown name, ``pearson`` for a model without two species, ``expr`` without an
        ``[initial]`` table, a malformed ``@`` specification.
    """
    if not isinstance(spec, str) or not spec:
        raise ConfigError(f"initial condition must be a name or @FILE, got {spec!r}")
    if spec.startswith("@"):
        path, names = file_specification(spec)
        if not path:
            raise ConfigError(f"initial condition {spec!r}: give a file after @ (@run.nc, @run.nc:u,v or @image.png)")
        if path.lower().endswith(".png"):
            if names and names not in model.species:
                raise ConfigError(f"initial condition {spec!r}: {names!r} is not a species of {model.name} "
                                  f"({', '.join(model.species)})")  # fmt: skip
        elif names and len(names.split(",")) != model.n_species:
            raise ConfigError(f"initial condition {spec!r}: name one variable per species "
                              f"({model.n_species}: {', '.join(model.species)})")  # fmt: skip
        return spec
    if spec not in INITIAL_CONDITIONS:
        raise ConfigError(f"unknown initial condition {spec!r}; valid: {', '.join(INITIAL_CONDITIONS)}, "
                          f"@FILE.nc[:VAR,...] or @IMAGE.png[:SPECIES]")  # fmt: skip
    if spec in ("pearson", "patches") and model.n_species != 2:
        raise ConfigError(f"the {spec} initial condition is for two-species models; {model.name} has "
                          f"{model.n_species} (use noise or expr)")  # fmt: skip
    if spec == "expr" and model.declaration.initial is None:
        raise ConfigError(f"initial condition 'expr' needs an [initial] table in the model file of {model.name}")
    return spec


def initial_state(spec: str, model: Model, grid: Grid, *, seed: int, noise: float = 0.01,
                  parameter_fields: Mapping[str, np.ndarray] | None = None) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Build an initial condition: one float64 array of the grid's shape per species.

    Parameters
    ----------
    spec
        See the module docstring.
    model
        The model (its steady state, species and ``[initial]`` table).
    grid
        The grid.
    seed
        Seed of the noise (``numpy.random.default_rng``).
    noise
        Relative noise amplitude of ``pearson`` and ``noise``.
    parameter_fields
        Field-valued parameters (name → array of the grid's shape): ``expr`` reads them
        cell by cell instead of the model's scalar values.
    """
    check_initial_condition(spec, model)
    rng = np.random.default_rng(seed)
    shape = grid.shape
    if spec == "pearson":
        return _pearson(shape, rng, noise)
    if spec == "patches":
        return _patches(shape, rng, noise)
    if spec == "noise":
        state = _homogeneous(model, spec)
        fields = []
        for value in state:
            scale = abs(value) if value != 0 else 1.0
            fields.append(value + noise * scale * rng.uniform(-1.0, 1.0, shape))
        return tuple(fields)
    if spec == "expr":
        return _expressions(model, grid, rng, parameter_fields or {})
    path, names = file_specification(spec)
    from rd_classic import field_files

    if path.lower().endswith(".png"):
        grey = field_files.read_grey_image(path, shape, what="--initial")
        state = _homogeneous(model, spec)
        target = model.species.index(names) if names else model.n_species - 1
        return tuple(np.full(shape, value) + (grey if index == target else 0.0) for index, value in enumerate(state))
    variables = names.split(",") if names else list(model.species)
    return tuple(field_files.read_snapshot(path, variable, shape, what="--initial") for variable in variables)


def _homogeneous(model: Model, spec: str) -> tuple[float, ...]:
    try:
        states = model.steady_states()
    except ConfigError as error:
        raise ConfigError(f"initial condition {spec!r} needs a homogeneous steady state: {error}") from None
    if not states:
        raise ConfigError(f"initial condition {spec!r} needs a homogeneous steady state, and {model.name} has none "
                          f"at these parameters (use expr or @FILE)")  # fmt: skip
    return states[0]


def _pearson(shape: tuple[int, ...], rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    u = np.ones(shape)
    v = np.zeros(shape)
    # Pearson's 20 x 20 mesh points (so the seed keeps its physical size at the preset's dx
    # on any grid), at most half the side on small grids
    *outer, ny, nx = shape
    side_x = max(2, min(PEARSON_SEED_CELLS, nx // 2))
    side_y = max(1, min(PEARSON_SEED_CELLS, ny // 2)) if ny > 1 else 1
    region = [slice((ny - side_y) // 2, (ny - side_y) // 2 + side_y), slice((nx - side_x) // 2, (nx - side_x) // 2 + side_x)]
    if outer:
        nz = outer[0]
        side_z = max(1, min(PEARSON_SEED_CELLS, nz // 2))
        region.insert(0, slice((nz - side_z) // 2, (nz - side_z) // 2 + side_z))
    u[tuple(region)] = 0.5
    v[tuple(region)] = 0.25
    return _pearson_noise(u, v, rng, noise)


def _pearson_noise(u: np.ndarray, v: np.ndarray, rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    """Pearson's relative noise on both species (v's on its seeded cells, absolute elsewhere), v kept >= 0."""
    u += noise * rng.uniform(-1.0, 1.0, u.shape) * u
    v += noise * rng.uniform(-1.0, 1.0, v.shape) * np.where(v > 0, v, 1.0)
    np.clip(v, 0.0, None, out=v)
    return u, v


def _patches(shape: tuple[int, ...], rng: np.random.Generator, noise: float) -> tuple[np.ndarray, np.ndarray]:
    u = np.ones(shape)
    v = np.zeros(shape)
    sides = [min(PATCH_CELLS, max(1, n // 2)) for n in shape]
    area = int(np.prod([PATCH_SPACING_CELLS if n > 1 else 1 for n in shape]))
    for _ in range(max(1, u.size // area)):
        corner = [int(rng.integers(0, n)) for n in shape]
        cells = np.ix_(*[(start + np.arange(side)) % n for start, side, n in zip(corner, sides, shape)])
        u[cells] = 0.5
        v[cells] = 0.25
    return _pearson_noise(u, v, rng, noise)


def _expressions(model: Model, grid: Grid, rng: np.random.Generator,
                 parameter_fields: Mapping[str, np.ndarray]) -> tuple[np.ndarray, ...]:  # fmt: skip
    values = {**model.values, **parameter_fields, **grid.expression_values()}
    amplitude = model.declaration.initial_noise
    fields = []
    for name in model.species:
        expression = model.declaration.initial[name]
        field = np.broadcast_to(np.asarray(expression.evaluate(values), dtype=np.float64), grid.shape).copy()
        if not np.isfinite(field).all():
            raise ConfigError(f"initial.{name} = {expression.text!r} is not finite everywhere on this grid")
        if amplitude:
            field += amplitude * rng.uniform(-1.0, 1.0, grid.shape)
        fields.append(field)
    return tuple(fields)
