"""Uniform Cartesian grids: shape, spacing, boundary condition, physical coordinates.

A grid is 1-D, 2-D or 3-D. It is stored as ``(ny, nx)`` for 1-D (``ny == 1``) and 2-D,
so every kernel and every dataset sees ``(y, x)`` arrays, and as ``(nz, ny, nx)`` for
3-D (datasets: ``(z, y, x)``). Cells are centred and square: cell ``j`` sits at
``x = (j + 1/2) dx``, likewise along y and z. ``"periodic"`` wraps around; ``"no-flux"``
mirrors the edge cell (zero normal derivative at the domain face, second order for
cell-centred values). The discrete Laplacian is the sum of one second difference per
axis: 3-point in 1-D, 5-point in 2-D, 7-point in 3-D.

This module imports nothing heavy (no xarray, torch, sympy or numba).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["Grid", "BOUNDARIES", "check_spacing", "parse_size"]

#: valid boundary conditions
BOUNDARIES = ("periodic", "no-flux")
#: largest number of cells accepted (beyond this a user almost certainly mistyped)
MAX_CELLS = 2**31


def check_spacing(dx: float, shape: tuple[int, ...], dtype: str = "float64") -> None:
    """Refuse a spacing whose Laplacian scale 1/dx² or domain length overflows ``dtype``.

    Raises
    ------
    ConfigError
        ``dx`` outside [1/sqrt(max), max/n] with max the dtype's largest number and n the
        most cells along an axis, or beyond sqrt(float64's largest number) (dx² overflows).
    """
    largest = float(np.finfo(dtype).max)
    low = largest**-0.5
    high = min(largest / max(shape), float(np.finfo(np.float64).max) ** 0.5)  # dx² itself is taken in float64
    if not low <= dx <= high:
        raise ConfigError(f"dx = {dx:g} is out of {dtype}'s range on this grid (1/dx² and the domain length must be "
                          f"finite: {low:.2g} <= dx <= {high:.2g})")  # fmt: skip


@dataclass(frozen=True)
class Grid:
    """A uniform 1-D, 2-D or 3-D grid.

    Parameters
    ----------
    shape
        ``(ny, nx)`` (``ny == 1``: a 1-D grid along x) or ``(nz, ny, nx)``.
    dx
        Cell size (the same along every axis), in model length units.
    boundary
        ``"periodic"`` or ``"no-flux"``.
    """

    shape: tuple[int, ...]
    dx: float
    boundary: str = "periodic"

    def __post_init__(self) -> None:
        if len(self.shape) not in (2, 3):
            raise ConfigError(f"grid shape must be (ny, nx) or (nz, ny, nx), got {self.shape}")
        object.__setattr__(self, "shape", tuple(int(n) for n in self.shape))
        if len(self.shape) == 3:
            if min(self.shape) < 3:
                nz, ny, nx = self.shape
                raise ConfigError(f"a 3-D grid needs at least 3 cells along each axis, got {nx}x{ny}x{nz}")
        else:
            ny, nx = self.shape
            if ny < 1 or nx < 3:
                raise ConfigError(f"grid needs at least 3 cells along x and 1 along y, got {nx}x{ny}")
            if ny == 2:
                raise ConfigError("a grid needs 1 row (1-D) or at least 3 rows (2-D), got 2")
        if int(np.prod(self.shape, dtype=object)) > MAX_CELLS:
            size = "x".join(str(n) for n in reversed(self.shape))
            raise ConfigError(f"grid of {size} cells is too large (at most {MAX_CELLS} cells)")
        if not (np.isfinite(self.dx) and self.dx > 0):
            raise ConfigError(f"dx must be a positive number, got {self.dx}")
        check_spacing(self.dx, self.shape)
        if self.boundary not in BOUNDARIES:
            raise ConfigError(f"unknown boundary {self.boundary!r}; valid boundaries: {', '.join(BOUNDARIES)}")

    @property
    def ndim(self) -> int:
        """Spatial dimension: 1 for a single row, 2, or 3."""
        if len(self.shape) == 3:
            return 3
        return 1 if self.shape[0] == 1 else 2

    @property
    def axes(self) -> tuple[str, ...]:
        """Names of the stored axes: ``("y", "x")`` or ``("z", "y", "x")``."""
        return ("z", "y", "x") if len(self.shape) == 3 else ("y", "x")

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return int(np.prod(self.shape))

    @property
    def periodic(self) -> bool:
        """Whether the boundary is periodic."""
        return self.boundary == "periodic"

    @property
    def lengths(self) -> tuple[float, ...]:
        """Domain size along each stored axis, ``(Ly, Lx)`` or ``(Lz, Ly, Lx)``."""
        return tuple(n * self.dx for n in self.shape)

    @property
    def size_text(self) -> str:
        """The size as ``--size`` writes it (``nx x ny [x nz]``)."""
        return "x".join(str(n) for n in reversed(self.shape))

    def coordinates(self) -> tuple[np.ndarray, ...]:
        """Cell-centre coordinates along each stored axis, ``(y, x)`` or ``(z, y, x)``."""
        return tuple((np.arange(n) + 0.5) * self.dx for n in self.shape)

    def expression_values(self) -> dict[str, np.ndarray | float]:
        """``x, y, z`` (broadcastable cell-centre arrays) and ``Lx, Ly, Lz`` for expressions.

        A grid is a slab one cell thick along the axes it lacks: on a 2-D grid
        ``z = dx/2`` and ``Lz = dx``; on a 1-D grid also ``y = dx/2`` and ``Ly = dx``.
        """
        lengths = dict(zip(("Lz", "Ly", "Lx")[-len(self.shape):], self.lengths))
        values: dict[str, np.ndarray | float] = {"Lx": lengths["Lx"], "Ly": lengths["Ly"],
                                                  "Lz": lengths.get("Lz", self.dx)}  # fmt: skip
        coordinates = self.coordinates()
        n = len(self.shape)
        for axis, (name, centres) in enumerate(zip(self.axes, coordinates)):
            shape = [1] * n
            shape[axis] = centres.size
            values[name] = centres.reshape(shape)
        values.setdefault("z", 0.5 * self.dx)
        return values

    def angular_wavenumbers(self) -> tuple[np.ndarray, ...]:
        """Angular wavenumbers along each stored axis of a real FFT (``rfftn`` layout: the last axis halved)."""
        *leading, last = self.shape
        return (*(2.0 * np.pi * np.fft.fftfreq(n, d=self.dx) for n in leading),
                2.0 * np.pi * np.fft.rfftfreq(last, d=self.dx))  # fmt: skip

    def squared_wavenumbers(self) -> np.ndarray:
        """``|q|²`` on the ``rfftn`` grid of the fields (the spectral Laplacian is ``-|q|²``)."""
        q2 = 0.0
        for axis, q in enumerate(self.angular_wavenumbers()):
            shape = [1] * len(self.shape)
            shape[axis] = q.size
            q2 = q2 + q.reshape(shape) ** 2
        return np.asarray(q2)

    def laplacian_eigenvalue_bound(self) -> float:
        """Bound on the magnitude of the discrete Laplacian's eigenvalues: 4 ndim / dx²."""
        return 4.0 * self.ndim / self.dx**2

    def laplacian_eigenvalues(self) -> tuple[np.ndarray, ...]:
        """Eigenvalues of the discrete second difference along each stored axis.

        The discrete Laplacian is the sum of one second difference per axis, so its
        eigenvalues are all sums of one value per returned set (``-q_h²``, the
        discrete analogue of ``-|q|²``). Periodic: the Fourier modes,
        ``μ_m = -(4/dx²) sin²(π m / n)``; no-flux (edge cell mirrored, cell-centred):
        the cosine modes ``cos(π m (j + 1/2) / n)``, ``μ_m = -(4/dx²) sin²(π m / (2n))``,
        ``m = 0 .. n-1``. An axis of one cell (a 1-D grid's y) has ``μ = [0]``.

        Returns
        -------
        tuple of numpy.ndarray
            The distinct eigenvalues along each stored axis (each ``<= 0``, sorted).
        """

        from rd_classic.boundaries import axis_eigenvalues

        alphas = None if self.periodic else (1.0, 1.0)
        return tuple(np.unique(axis_eigenvalues(n, self.dx, alphas)) for n in self.shape)


def parse_size(text: str) -> tuple[int, ...]:
    """Parse ``"256"`` (square), ``"512x256"`` (nx by ny), ``"512x1"`` (1-D) or ``"64x64x64"`` (nx by ny by nz).

    Returns the stored shape: ``(ny, nx)``, or ``(nz, ny, nx)`` for 3-D (a third size of
    1 gives a 2-D grid).

    Raises
    ------
    ConfigError
        Not one to three positive integers.
    """
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise ConfigError(f"size must look like 256, 512x256 or 64x64x64, got {text!r}") from None
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) not in (2, 3) or min(numbers) < 1:
        raise ConfigError(f"size must be one to three positive integers like 256, 512x256 or 64x64x64, got {text!r}")
    if len(numbers) == 3 and numbers[2] == 1:
        numbers = numbers[:2]
    return tuple(reversed(numbers))
