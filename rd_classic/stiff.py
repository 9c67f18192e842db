"""Implicit diffusion: its solves, and the IMEX stepper (reaction explicit, diffusion implicit).

A stiff reaction-diffusion run — a fast inhibitor, ``Dv/Du ≥ 20`` — spends an explicit
scheme's steps on the diffusive limit ``dt ≤ dx²/(2 d D_max)``, far below what its
dynamics need. :class:`IMEXStepper` runs an implicit-explicit Runge-Kutta scheme
(:class:`~rd_classic.schemes.IMEXScheme`; ``imex`` is ARS(2,2,2), second order,
L-stable) whose stages solve ``(1 - γ dt D L) U = r`` for each species, ``L`` the
ghost-cell Laplacian of the explicit schemes (:mod:`rd_classic.boundaries`): the
diffusion has no step limit, the reaction keeps its own (usually far larger) one.

:class:`DiffusionSolver` does the solves: with a transform where one makes ``L``
diagonal (periodic, Neumann and Dirichlet sides, :mod:`rd_classic.spectral`), else —
a Robin side — with a sparse LU factorisation (scipy's SuperLU) of the assembled
operator, computed once per ``γ dt``. The sides' fluxes and values are sources at the
edge cells, treated implicitly with the diffusion.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from rd_classic.boundaries import AXES, BoundaryConditions
from rd_classic.grids import Grid
from rd_classic.integrators import _CpuStepper
from rd_classic.models import Model
from rd_classic.schemes import IMEXScheme

__all__ = ["DiffusionSolver", "IMEXStepper"]


class DiffusionSolver:
    """``(1 - h D_s L_s)⁻¹`` and ``D_s L_s`` for every species (``L_s`` the ghost-cell Laplacian, linear part).

    Parameters
    ----------
    model, grid, boundary
        The diffusion coefficients, the grid and every species' conditions.
    """

    def __init__(self, model: Model, grid: Grid, boundary: BoundaryConditions) -> None:
        from rd_classic.spectral import SpectralBox, axis_transforms

        self.grid = grid
        self.diffusion = np.asarray(model.diffusion, dtype=float)
        values = {**dict(model.values), **grid.expression_values()}
        kinds = [axis_transforms(grid, boundary, name, values) for name in model.species]
        self._spectral = [s for s, kind in enumerate(kinds) if kind is not None]
        self._sparse = [s for s, kind in enumerate(kinds) if kind is None]
        self._box = SpectralBox(grid, [kinds[s] for s in self._spectral]) if self._spectral else None
        if self._box is not None:
            self._box_diffusion = self._box.per_species(self.diffusion[self._spectral]) * self._box.symbol
        self._operators = {s: _assembled_laplacian(grid, boundary, model.species[s], values) for s in self._sparse}
        self._factors: dict[float, dict[int, object]] = {}

    def solve(self, rhs: np.ndarray, h: float) -> np.ndarray:
        """``U`` with ``(1 - h D L) U = rhs`` for stacked fields ``(N, *shape)``."""
        out = np.empty(rhs.shape)
        if self._box is not None:
            coefficients = self._box.forward(np.ascontiguousarray(rhs[self._spectral], dtype=float))
            out[self._spectral] = self._box.inverse(coefficients / (1.0 - h * self._box_diffusion))
        if self._sparse:
            factors = self._factors.get(h)
            if factors is None:
                factors = self._factors[h] = self._factorise(h)
            for s in self._sparse:
                out[s] = factors[s].solve(np.asarray(rhs[s], dtype=float).ravel()).reshape(self.grid.shape)
        return out

    def apply(self, values: np.ndarray) -> np.ndarray:
        """``D L U`` for stacked fields (the linear part of the diffusion: no sources)."""
        out = np.empty(values.shape)
        if self._box is not None:
            coefficients = self._box.forward(np.ascontiguousarray(values[self._spectral], dtype=float))
            out[self._spectral] = self._box.inverse(coefficients * self._box_diffusion)
        for s in self._sparse:
            out[s] = self.diffusion[s] * (self._operators[s] @ np.asarray(values[s], dtype=float).ravel()).reshape(self.grid.shape)
        return out

    def _factorise(self, h: float) -> dict[int, object]:
        from scipy.sparse import identity
        from scipy.sparse.linalg import splu

        size = self.grid.n_cells
        return {s: splu((identity(size, format="csc") - (h * self.diffusion[s]) * self._operators[s]).tocsc())
                for s in self._sparse}  # fmt: skip


def _assembled_laplacian(grid: Grid, boundary: BoundaryConditions, species: str, values) -> object:
    """The ghost-cell Laplacian of one species as a sparse matrix (C order: x fastest)."""
    from scipy.sparse import diags, identity, kron

    total = None
    storage = len(grid.shape)
    for index, (name, n) in enumerate(zip(grid.axes, grid.shape)):
        if name not in AXES[: grid.ndim] or n == 1:
            continue
        matrix = diags([np.full(n - 1, 1.0), np.full(n, -2.0), np.full(n - 1, 1.0)], [-1, 0, 1], format="lil")
        alphas = boundary.axis_alphas(species, name, values, grid.dx)
        if alphas is None:
            matrix[0, n - 1] += 1.0
            matrix[n - 1, 0] += 1.0
        else:
            matrix[0, 0] += alphas[0]
            matrix[n - 1, n - 1] += alphas[1]
        term = matrix.tocsr() / grid.dx**2
        for other in range(storage):
            if other < index:
                term = kron(identity(grid.shape[other]), term)
            elif other > index:
                term = kron(term, identity(grid.shape[other]))
        total = term if total is None else total + term
    return (total if total is not None else identity(grid.n_cells) * 0.0).tocsr()


class IMEXStepper(_CpuStepper):
    """An implicit-explicit Runge-Kutta scheme: the reaction explicit, the diffusion implicit.

    The reaction is the model's generated kernel (as ETDRK4's); the implicit solves are
    :class:`DiffusionSolver`'s. The state is kept stacked ``(N, *shape)`` in physical
    space, so a run restarted from a stored snapshot continues exactly as the
    uninterrupted one.

    Parameters
    ----------
    model, grid, dt, dtype, parameter_fields, boundary
        See :func:`rd_classic.integrators.make_stepper`.
    scheme
        The IMEX tableau pair.
    """

    def __init__(self, model: Model, grid: Grid, scheme: IMEXScheme, *, dt: float, dtype: str = "float64",
                 parameter_fields: Mapping[str, np.ndarray] | None = None,
                 boundary: BoundaryConditions | None = None):  # fmt: skip
        from rd_classic.ghost_cells import FaceCorrections

        super().__init__(model, grid, dt=dt, dtype=dtype, parameter_fields=parameter_fields, boundary=boundary)
        self.scheme = scheme
        self.solver = DiffusionSolver(model, grid, self.boundary)
        self._sources = FaceCorrections(model.values, self._c, grid, self.boundary, self.dtype, sources_only=True)
        self._values = np.empty_like(self._state)
        s = scheme.n_stages
        # which stage values later stages or the result need
        self._needs_reaction = [any(scheme.explicit_a[k][i] for k in range(i + 1, s)) or
                                (scheme.explicit_weights[i] != 0 and not scheme.stiffly_accurate) for i in range(s)]  # fmt: skip
        self._needs_diffusion = [any(scheme.implicit_a[k][i] for k in range(i + 1, s)) or
                                 (scheme.implicit_weights[i] != 0 and not scheme.stiffly_accurate) for i in range(s)]  # fmt: skip

    def _allocate(self) -> np.ndarray:
        """The state stacked ``(N, *shape)``."""
        return np.zeros((self.model.n_species, *self.grid.shape), self.dtype)

    def _reaction(self, state: np.ndarray, time: float) -> np.ndarray:
        self._kernels.reaction_fields(self._p, self._pf, self._dx, self._scalar(time), state, self._values)
        return self._values.astype(float)

    def _boundary_sources(self, state: np.ndarray, time: float) -> np.ndarray | float:
        """``D β / dx²`` at the edge cells (the sides' fluxes and values), or 0."""
        if not self._sources.active:
            return 0.0
        sources = np.zeros(state.shape, self.dtype)
        self._sources.compute(state, state, 0.0, time)
        self._sources.apply(sources, 1.0)
        return sources.astype(float)

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        scheme, dt = self.scheme, self.dt
        for _ in range(n_steps):
            time = self.step * dt
            u = self._state.astype(float)
            reactions: list[np.ndarray | None] = [None] * scheme.n_stages
            diffusions: list[np.ndarray | None] = [None] * scheme.n_stages
            stage = u
            for i in range(scheme.n_stages):
                stage_time = time + scheme.nodes[i] * dt
                rhs = u.copy()
                for j in range(i):
                    if scheme.explicit_a[i][j]:
                        rhs += (dt * scheme.explicit_a[i][j]) * reactions[j]
                    if scheme.implicit_a[i][j]:
                        rhs += (dt * scheme.implicit_a[i][j]) * diffusions[j]
                h = dt * scheme.implicit_a[i][i]
                if h:
                    stage = self.solver.solve(rhs + h * self._boundary_sources(u, stage_time), h)
                    diffusions[i] = (stage - rhs) / h  # = D L U_i + sources, without applying L
                else:
                    stage = rhs
                    if self._needs_diffusion[i]:
                        diffusions[i] = self.solver.apply(stage) + self._boundary_sources(stage, stage_time)
                if self._needs_reaction[i]:
                    reactions[i] = self._reaction(np.ascontiguousarray(stage, dtype=self.dtype), stage_time)
            if not scheme.stiffly_accurate:
                stage = u.copy()
                for i in range(scheme.n_stages):
                    if scheme.explicit_weights[i]:
                        stage += (dt * scheme.explicit_weights[i]) * reactions[i]
                    if scheme.implicit_weights[i]:
                        stage += (dt * scheme.implicit_weights[i]) * diffusions[i]
            self._state = np.ascontiguousarray(stage, dtype=self.dtype)
            self.step += 1
            self.n_steps += 1

    def rates(self) -> dict[str, np.ndarray]:
        """Reaction ``R(u)`` and diffusion ``D ∇²u`` (ghost cells included) at the current state."""
        time = self.step * self.dt
        reaction = self._reaction(self._state, time)
        diffusion = self.solver.apply(self._state) + self._boundary_sources(self._state, time)
        return dict(zip(self._rate_names, (*reaction.astype(self.dtype), *diffusion.astype(self.dtype))))
