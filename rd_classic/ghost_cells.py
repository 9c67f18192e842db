"""Ghost-cell corrections of the CPU stencil kernels: any boundary condition on top of two stencils.

The generated kernels (:mod:`rd_classic.kernels_numba`) know two neighbour rules: wrap
around (``periodic``) or mirror the edge cell (``no-flux``). Every other condition of
:mod:`rd_classic.boundaries` differs from the mirror only in the value the Laplacian
reads beyond an edge cell: the ghost ``u_g = α u_e + β`` (or, for a species periodic
along an axis while the kernel mirrors, the cell on the opposite side) instead of
``u_e`` itself. So the true rate of an edge cell is the kernel's plus

.. math::

    \\frac{D}{dx^2}\\,(u_g - u_e) = \\frac{D}{dx^2}\\,\\big((\\alpha - 1)\\,u_e + \\beta\\big)

for each side it touches (a corner, one per side). :class:`FaceCorrections` computes
these terms from the point a stage is evaluated at (before the kernel runs, so the
in-place Euler step may overwrite the edge) and adds them, scaled, to what the kernel
wrote: one pass over the faces, ``O(n^{d-1})`` work, and none when every side is
periodic or ``no-flux`` (the kernels alone are exact then).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
from numba import njit

from rd_classic.boundaries import AXES, SIDES, BoundaryConditions, face_points
from rd_classic.grids import Grid

__all__ = ["FaceCorrections"]

#: what a side needs: nothing (the kernel's own rule is right), a ghost value, or the opposite side's cell
NOTHING, GHOST, WRAP = 0, 1, 2


class FaceCorrections:
    """The boundary corrections of one run's CPU stepper (see the module docstring).

    Parameters
    ----------
    model_values
        Every parameter's value (the conditions' expressions may use them).
    species_coefficients
        ``D_s / dx²`` of every species, in the fields' dtype.
    grid, boundary
        The grid and every species' conditions.
    dtype
        The fields' dtype.
    sources_only
        Compute only the affine part ``D β / dx²`` of the ghost sides (the fluxes and values):
        what a spectral stepper adds to its explicit term, its transforms taking the
        linear part ``α u_e`` (and the periodic sides) exactly.

    Attributes
    ----------
    periodic : bool
        The neighbour rule the stencil kernels must use: wrap when every side of every
        species is periodic, else mirror.
    active : bool
        Whether any correction is needed (False: the kernels alone are exact).
    """

    def __init__(self, model_values: Mapping[str, float], species_coefficients: np.ndarray, grid: Grid,
                 boundary: BoundaryConditions, dtype, *, sources_only: bool = False) -> None:  # fmt: skip
        boundary.check(grid.ndim)
        self.grid = grid
        self._base = {**{name: float(value) for name, value in model_values.items()}, **grid.expression_values()}
        boundary.check_finite_at_start(grid.shape, grid.axes, grid.ndim, self._base, grid.dx)
        self.dtype = np.dtype(dtype)
        self.periodic = boundary.all_periodic(grid.ndim)
        species = boundary.species
        n_sides = 2 * len(grid.shape)
        self._coefficients = np.asarray(species_coefficients, dtype=self.dtype)
        self._kinds = np.zeros((len(species), n_sides), np.int64)
        self._alpha = np.zeros((len(species), n_sides), self.dtype)
        time_dependent: list[tuple[int, int, Any]] = []
        faces = [_without_axis(grid, SIDES[index]) for index in range(n_sides)]
        pad = tuple(max(sizes) for sizes in zip(*faces))
        self._beta = np.zeros((len(species), n_sides, *pad), self.dtype)
        self._out = np.zeros_like(self._beta)
        self._faces = faces
        if not self.periodic or sources_only:
            for s, name in enumerate(species):
                for index in range(n_sides):
                    side = SIDES[index]
                    condition = boundary.side(name, side)
                    if side[0] not in AXES[: grid.ndim] or condition.zero_flux:
                        continue
                    if condition.periodic or (sources_only and condition.homogeneous):
                        self._kinds[s, index] = NOTHING if sources_only else WRAP
                        continue
                    self._kinds[s, index] = GHOST
                    self._alpha[s, index] = 1.0 if sources_only else condition.ghost_alpha(self._base, grid.dx)
                    self._set_beta(s, index, condition, 0.0)
                    if condition.time_dependent:
                        time_dependent.append((s, index, condition))
        self._time_dependent = self._gather_faces(time_dependent)
        self.active = bool(self._kinds.any())
        self._storage = len(grid.shape)
        self._kernel = _corrections_2d if self._storage == 2 else _corrections_3d
        self._apply = _apply_2d if self._storage == 2 else _apply_3d
        self._scalar = self.dtype.type

    def _set_beta(self, s: int, index: int, condition, time: float) -> None:
        values, shape = face_points(self.grid.shape, self.grid.axes, SIDES[index], {**self._base, "t": time})
        self._place_beta(s, index, np.broadcast_to(condition.ghost_beta(values, self.grid.dx), shape))

    def _place_beta(self, s: int, index: int, beta: np.ndarray) -> None:
        """Store one side's ghost-cell source terms (its face's values, any shape of that size)."""
        face = self._faces[index]
        self._beta[s, index][tuple(slice(0, n) for n in face)] = beta.reshape(face)

    def _gather_faces(self, sides: list[tuple[int, int, Any]]) -> list[tuple[Any, dict[str, Any], list[tuple[int, int, slice]]]]:
        """The time-dependent sides grouped by condition, each group's face points in flat arrays.

        Every step then evaluates each distinct condition once, on the points of all its faces
        together (``O(n^{d-1})`` values), instead of once per species and side.
        """
        groups: dict[str, tuple[Any, list[tuple[int, int]]]] = {}
        for s, index, condition in sides:
            groups.setdefault(condition.text, (condition, []))[1].append((s, index))
        gathered = []
        for condition, members in groups.values():
            coordinates: dict[str, list[np.ndarray]] = {name: [] for name in AXES}
            placed, offset = [], 0
            for s, index in members:
                values, shape = face_points(self.grid.shape, self.grid.axes, SIDES[index], self._base)
                for name in AXES:
                    coordinates[name].append(np.broadcast_to(values[name], shape).ravel())
                size = int(np.prod(shape))
                placed.append((s, index, slice(offset, offset + size)))
                offset += size
            values = {**self._base, **{name: np.concatenate(parts) for name, parts in coordinates.items()}}
            gathered.append((condition, values, placed))
        return gathered

    def compute(self, fields, ks, a, time: float) -> None:
        """The corrections at the point ``fields + a ks`` (tuples of one array per species) at ``time``."""
        for condition, values, placed in self._time_dependent:
            values["t"] = float(time)
            beta = condition.ghost_beta(values, self.grid.dx)
            beta = np.broadcast_to(beta, values["x"].shape)
            for s, index, part in placed:
                self._place_beta(s, index, beta[part])
        self._kernel(fields, ks, self._scalar(a), self._coefficients, self._kinds, self._alpha, self._beta, self._out)

    def apply(self, targets, scale) -> None:
        """``targets[edge] += scale * correction`` for every corrected side."""
        self._apply(targets, self._kinds, self._out, self._scalar(scale))


def _without_axis(grid: Grid, side: str) -> tuple[int, ...]:
    """The shape of a side's face: the grid's shape without the side's axis."""
    storage = grid.axes.index(side[0])
    return tuple(n for index, n in enumerate(grid.shape) if index != storage)


# -- the kernels: 2-D storage (ny, nx), sides x-, x+, y-, y+; 3-D storage (nz, ny, nx), z-, z+ too --


@njit(cache=True)
def _corrections_2d(fields, ks, a, c, kinds, alpha, beta, out):
    for s in range(len(fields)):
        u, k, cs = fields[s], ks[s], c[s]
        ny, nx = u.shape
        for side in range(4):
            kind = kinds[s, side]
            if kind == NOTHING:
                continue
            low = side % 2 == 0
            if side < 2:  # a column: x- or x+
                j, jo = (0, nx - 1) if low else (nx - 1, 0)
                for i in range(ny):
                    edge = u[i, j] + a * k[i, j]
                    if kind == GHOST:
                        out[s, side, i] = cs * ((alpha[s, side] - 1.0) * edge + beta[s, side, i])
                    else:
                        out[s, side, i] = cs * (u[i, jo] + a * k[i, jo] - edge)
            else:  # a row: y- or y+
                i, io = (0, ny - 1) if low else (ny - 1, 0)
                for j in range(nx):
                    edge = u[i, j] + a * k[i, j]
                    if kind == GHOST:
                        out[s, side, j] = cs * ((alpha[s, side] - 1.0) * edge + beta[s, side, j])
                    else:
                        out[s, side, j] = cs * (u[io, j] + a * k[io, j] - edge)


@njit(cache=True)
def _apply_2d(targets, kinds, out, scale):
    for s in range(len(targets)):
        target = targets[s]
        ny, nx = target.shape
        for side in range(4):
            if kinds[s, side] == NOTHING:
                continue
            if side < 2:
                j = 0 if side == 0 else nx - 1
                for i in range(ny):
                    target[i, j] += scale * out[s, side, i]
            else:
                i = 0 if side == 2 else ny - 1
                for j in range(nx):
                    target[i, j] += scale * out[s, side, j]


@njit(cache=True)
def _corrections_3d(fields, ks, a, c, kinds, alpha, beta, out):
    for s in range(len(fields)):
        u, k, cs = fields[s], ks[s], c[s]
        nz, ny, nx = u.shape
        for side in range(6):
            kind = kinds[s, side]
            if kind == NOTHING:
                continue
            low = side % 2 == 0
            if side < 2:  # x: faces (nz, ny)
                j, jo = (0, nx - 1) if low else (nx - 1, 0)
                for kk in range(nz):
                    for i in range(ny):
                        edge = u[kk, i, j] + a * k[kk, i, j]
                        if kind == GHOST:
                            out[s, side, kk, i] = cs * ((alpha[s, side] - 1.0) * edge + beta[s, side, kk, i])
                        else:
                            out[s, side, kk, i] = cs * (u[kk, i, jo] + a * k[kk, i, jo] - edge)
            elif side < 4:  # y: faces (nz, nx)
                i, io = (0, ny - 1) if low else (ny - 1, 0)
                for kk in range(nz):
                    for j in range(nx):
                        edge = u[kk, i, j] + a * k[kk, i, j]
                        if kind == GHOST:
                            out[s, side, kk, j] = cs * ((alpha[s, side] - 1.0) * edge + beta[s, side, kk, j])
                        else:
                            out[s, side, kk, j] = cs * (u[kk, io, j] + a * k[kk, io, j] - edge)
            else:  # z: faces (ny, nx)
                kk, ko = (0, nz - 1) if low else (nz - 1, 0)
                for i in range(ny):
                    for j in range(nx):
                        edge = u[kk, i, j] + a * k[kk, i, j]
                        if kind == GHOST:
                            out[s, side, i, j] = cs * ((alpha[s, side] - 1.0) * edge + beta[s, side, i, j])
                        else:
                            out[s, side, i, j] = cs * (u[ko, i, j] + a * k[ko, i, j] - edge)


@njit(cache=True)
def _apply_3d(targets, kinds, out, scale):
    for s in range(len(targets)):
        target = targets[s]
        nz, ny, nx = target.shape
        for side in range(6):
            if kinds[s, side] == NOTHING:
                continue
            if side < 2:
                j = 0 if side == 0 else nx - 1
                for kk in range(nz):
                    for i in range(ny):
                        target[kk, i, j] += scale * out[s, side, kk, i]
            elif side < 4:
                i = 0 if side == 2 else ny - 1
                for kk in range(nz):
                    for j in range(nx):
                        target[kk, i, j] += scale * out[s, side, kk, j]
            else:
                kk = 0 if side == 4 else nz - 1
                for i in range(ny):
                    for j in range(nx):
                        target[kk, i, j] += scale * out[s, side, i, j]
