"""Transforms that make the Laplacian diagonal: FFT on periodic boxes, DCT/DST on Neumann and Dirichlet boxes.

The spectral steppers (ETDRK4, the IMEX scheme's implicit diffusion) need the Laplacian
as a multiplication. On a box whose every side is periodic that is the Fourier
transform with the spectral symbol ``-|q|²`` (:meth:`Grid.squared_wavenumbers`), as
before. On any other box the operator is the ghost-cell one of the explicit schemes
(:mod:`rd_classic.boundaries`): along one axis a symmetric tridiagonal matrix whose
eigenvectors are those of a real trigonometric transform when both ghost coefficients
are ``±1`` (ducc0's real transforms: the forward one unnormalised, the inverse
divided by ``2n`` per axis, so that a round trip is the identity):

======================= ============= ==========================================
sides (x-, x+)          transform     eigenvalue of mode ``m = 0 .. n-1``
======================= ============= ==========================================
periodic                FFT           ``-(4/dx²) sin²(π m / n)``
Neumann, Neumann        DCT-II        ``-(4/dx²) sin²(π m / 2n)``
Dirichlet, Dirichlet    DST-II        ``-(4/dx²) sin²(π (m + 1) / 2n)``
Dirichlet, Neumann      DST-IV        ``-(4/dx²) sin²(π (2m + 1) / 4n)``
Neumann, Dirichlet      DCT-IV        ``-(4/dx²) sin²(π (2m + 1) / 4n)``
======================= ============= ==========================================

(Neumann/Dirichlet by their ghost coefficient ``α = 1`` or ``-1``: any flux or value;
the affine part ``β`` is a source the steppers add to their explicit term.) So on such a
box the spectral steppers integrate exactly the semi-discrete system of the explicit
schemes, second order in space. A Robin side (``|α| ≠ 1``) has no such transform:
:func:`axis_transforms` returns None and the IMEX scheme solves with a sparse
factorisation instead (:mod:`rd_classic.stiff`).

Species with different conditions are transformed in groups of equal transforms; the
coefficients of all groups are laid out one after another in a flat array.
"""

from __future__ import annotations

import os
from typing import Any, Mapping, Sequence

import numpy as np

from rd_classic.boundaries import AXES, BoundaryConditions
from rd_classic.grids import Grid

__all__ = ["axis_transforms", "SpectralBox", "TRANSFORMS"]

#: the transform of an axis from its ghost coefficients (α-, α+)
TRANSFORMS = {(1.0, 1.0): "dct2", (-1.0, -1.0): "dst2", (-1.0, 1.0): "dst4", (1.0, -1.0): "dct4"}


def axis_transforms(grid: Grid, boundary: BoundaryConditions, species: str,
                    values: Mapping[str, Any]) -> tuple[str, ...] | None:  # fmt: skip
    """The transform of every stored axis for one species (``fft``, ``dct2``, ``dst2``, ``dst4``, ``dct4``,
    or ``none`` for an axis of one cell), or None if a side is Robin (no trigonometric transform)."""
    kinds = []
    for name, n in zip(grid.axes, grid.shape):
        if name not in AXES[: grid.ndim] or n == 1:
            kinds.append("none")
            continue
        alphas = boundary.axis_alphas(species, name, values, grid.dx)
        if alphas is None:
            kinds.append("fft")
        elif alphas in TRANSFORMS:
            kinds.append(TRANSFORMS[alphas])
        else:
            return None
    return tuple(kinds)


def _eigenvalues(kind: str, n: int, dx: float, spectral: bool) -> np.ndarray:
    """The Laplacian's eigenvalue of every coefficient along one axis, in the transform's order."""
    if kind == "none":
        return np.zeros(n)
    m = np.arange(n)
    if kind == "fft":
        if spectral:
            return -(2.0 * np.pi * np.fft.fftfreq(n, d=dx)) ** 2
        return -(4.0 / dx**2) * np.sin(np.pi * m / n) ** 2
    angle = {"dct2": np.pi * m / (2 * n), "dst2": np.pi * (m + 1) / (2 * n),
             "dst4": np.pi * (2 * m + 1) / (4 * n), "dct4": np.pi * (2 * m + 1) / (4 * n)}[kind]  # fmt: skip
    return -(4.0 / dx**2) * np.sin(angle) ** 2


class _Group:
    """Species sharing one transform: their stacked fields ``(k, *shape)`` to coefficients and back."""

    def __init__(self, members: list[int], kinds: tuple[str, ...], grid: Grid, spectral: bool, workers: int) -> None:
        import ducc0
        import scipy.fft

        self.members = members
        self.kinds = kinds
        self.shape = grid.shape
        storage = len(grid.shape)
        real_axes = [(axis - storage, kind) for axis, kind in enumerate(kinds) if kind not in ("fft", "none")]
        #: runs of neighbouring axes with the same transform: ``(axes, kind)``, one ducc0 call each
        self.real_runs: list[tuple[tuple[int, ...], str]] = []
        for axis, kind in real_axes:
            if self.real_runs and self.real_runs[-1][1] == kind:
                self.real_runs[-1] = (self.real_runs[-1][0] + (axis,), kind)
            else:
                self.real_runs.append(((axis,), kind))
        self.fft_axes = tuple(axis - storage for axis, kind in enumerate(kinds) if kind == "fft")
        self._fft = scipy.fft
        self._real = ducc0.fft
        self._workers = workers
        symbol = 0.0
        for axis, (kind, n) in enumerate(zip(kinds, grid.shape)):
            values = _eigenvalues(kind, n, grid.dx, spectral)
            if self.fft_axes and axis - storage == self.fft_axes[-1]:
                values = values[: n // 2 + 1]  # the real FFT's halved axis
            view = [1] * storage
            view[axis] = values.size
            symbol = symbol + values.reshape(view)
        self.symbol = np.asarray(symbol)
        self.coefficient_shape = (len(members), *np.broadcast_shapes(self.symbol.shape, (1,) * storage))
        self.complex = bool(self.fft_axes)

    def _real_transforms(self, values: np.ndarray, inverse: bool, out: np.ndarray | None = None) -> np.ndarray:
        """The cosine/sine transforms along the non-periodic axes (ducc0: 3.4x scipy.fft's per-axis ``dct`` on two
        256² fields, 2 threads); forward unnormalised, inverse (DCT/DST-III for -II, -IV for -IV) divided by ``2n``.

        Axes of one transform go to ducc0 in one call; the first call writes into ``out`` (when given), the later
        ones transform it in place."""
        for axes, kind in (reversed(self.real_runs) if inverse else self.real_runs):
            transform = self._real.dct if kind.startswith("dct") else self._real.dst
            order = int(kind[-1])
            if inverse and order == 2:
                order = 3
            values = transform(values, type=order, axes=axes[::-1] if inverse else axes, inorm=2 if inverse else 0,
                               out=out, nthreads=self._workers)  # fmt: skip
            out = values
        return values

    def forward(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Fields ``(k, *shape)`` → coefficients (into ``out`` when given)."""
        if not self.fft_axes:
            return self._real_transforms(values, inverse=False, out=out)
        values = self._fft.rfftn(self._real_transforms(values, inverse=False), axes=self.fft_axes, workers=self._workers)
        if out is None:
            return values
        out[...] = values
        return out

    def inverse(self, coefficients: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Coefficients → fields ``(k, *shape)`` (into ``out`` when given; never in place)."""
        if not self.fft_axes:
            if out is None:
                out = np.empty(coefficients.shape, coefficients.dtype)
            return self._real_transforms(coefficients, inverse=True, out=out)
        sizes = [self.shape[axis] for axis in self.fft_axes]
        values = self._fft.irfftn(coefficients, s=sizes, axes=self.fft_axes, workers=self._workers)
        values = self._real_transforms(values, inverse=True)
        if out is None:
            return values
        out[...] = values
        return out


class SpectralBox:
    """The transform of every species' Laplacian on one box, and its eigenvalues.

    Parameters
    ----------
    grid
        The grid.
    kinds
        Every species' axis transforms (:func:`axis_transforms`; none may be None).
    spectral
        On a box periodic everywhere, use the spectral symbol ``-|q|²`` (the classic
        pseudo-spectral ETDRK4) instead of the 3/5/7-point Laplacian's eigenvalues.

    Attributes
    ----------
    symbol : numpy.ndarray
        The Laplacian's eigenvalue of every coefficient, flat (the layout of :meth:`forward`).
    species_index : numpy.ndarray
        The species of every flat coefficient.
    """

    def __init__(self, grid: Grid, kinds: Sequence[tuple[str, ...]], *, spectral: bool = False) -> None:
        workers = os.cpu_count() or 1
        groups: dict[tuple[str, ...], list[int]] = {}
        for species, axis_kinds in enumerate(kinds):
            groups.setdefault(tuple(axis_kinds), []).append(species)
        self.groups = [_Group(members, group_kinds, grid, spectral, workers) for group_kinds, members in groups.items()]
        self.n_species = len(kinds)
        self.shape = grid.shape
        self.complex = any(group.complex for group in self.groups)
        self.symbol = np.concatenate([np.broadcast_to(group.symbol, group.coefficient_shape).ravel()
                                      for group in self.groups])  # fmt: skip
        self.species_index = np.concatenate([np.broadcast_to(np.reshape(group.members, (-1,) + (1,) * len(grid.shape)),
                                                             group.coefficient_shape).ravel()
                                             for group in self.groups])  # fmt: skip
        self._single = len(self.groups) == 1 and self.groups[0].members == list(range(self.n_species))

    def forward(self, values: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Stacked fields ``(N, *shape)`` → flat coefficients (into the flat ``out`` when given)."""
        if self._single:
            group = self.groups[0]
            return group.forward(values, out=None if out is None else out.reshape(group.coefficient_shape)).reshape(-1)
        parts = [group.forward(values[group.members]).reshape(-1) for group in self.groups]
        coefficients = np.concatenate(parts).astype(complex if self.complex else float, copy=False)
        if out is None:
            return coefficients
        out[...] = coefficients
        return out

    def inverse(self, coefficients: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Flat coefficients → stacked fields ``(N, *shape)`` (into ``out`` when given, else a new array)."""
        if self._single:
            group = self.groups[0]
            return group.inverse(coefficients.reshape(group.coefficient_shape), out=out)
        if out is None:
            out = np.empty((self.n_species, *self.shape))
        start = 0
        for group in self.groups:
            size = int(np.prod(group.coefficient_shape))
            block = coefficients[start : start + size].reshape(group.coefficient_shape)
            if not group.complex:
                block = np.ascontiguousarray(block.real)
            out[group.members] = group.inverse(block)
            start += size
        return out

    def per_species(self, values: Sequence[float]) -> np.ndarray:
        """A value per species spread over the flat coefficients (e.g. the diffusion coefficients)."""
        return np.asarray(values, dtype=float)[self.species_index]
