"""Uniform Cartesian grids: shape, spacing, boundary condition, physical coordinates.

A grid is 1-D or 2-D, stored as ``(ny, nx)`` with ``ny == 1`` for 1-D so every
kernel and every dataset sees ``(y, x)`` arrays. Cells are centred: cell ``j`` sits at
``x = (j + 1/2) dx``. ``"periodic"`` wraps around; ``"no-flux"`` mirrors the edge
cell (zero normal derivative at the domain face, second order for cell-centred
values).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["Grid", "BOUNDARIES", "parse_size"]

#: valid boundary conditions
BOUNDARIES = ("periodic", "no-flux")
#: largest number of cells accepted (beyond this a user almost certainly mistyped)
MAX_CELLS = 2**31


@dataclass(frozen=True)
class Grid:
    """A uniform 1-D or 2-D grid.

    Parameters
    ----------
    shape
        ``(ny, nx)``; ``ny == 1`` is a 1-D grid along x.
    dx
        Cell size (the same along x and y), in model length units.
    boundary
        ``"periodic"`` or ``"no-flux"``.
    """

    shape: tuple[int, int]
    dx: float
    boundary: str = "periodic"

    def __post_init__(self) -> None:
        if len(self.shape) != 2:
            raise ConfigError(f"grid shape must be (ny, nx), got {self.shape}")
        ny, nx = self.shape
        if ny < 1 or nx < 3:
            raise ConfigError(f"grid needs at least 3 cells along x and 1 along y, got {ny}x{nx}")
        if ny * nx > MAX_CELLS:
            raise ConfigError(f"grid of {ny}x{nx} cells is too large (at most {MAX_CELLS} cells)")
        if ny == 2:
            raise ConfigError("a grid needs 1 row (1-D) or at least 3 rows (2-D), got 2")
        if not (np.isfinite(self.dx) and self.dx > 0):
            raise ConfigError(f"dx must be a positive number, got {self.dx}")
        if self.boundary not in BOUNDARIES:
            raise ConfigError(f"unknown boundary {self.boundary!r}; valid boundaries: {', '.join(BOUNDARIES)}")

    @property
    def ndim(self) -> int:
        """1 for a single row, else 2."""
        return 1 if self.shape[0] == 1 else 2

    @property
    def n_cells(self) -> int:
        """Number of cells."""
        return self.shape[0] * self.shape[1]

    @property
    def periodic(self) -> bool:
        """Whether the boundary is periodic."""
        return self.boundary == "periodic"

    @property
    def lengths(self) -> tuple[float, float]:
        """Domain size ``(Ly, Lx)``."""
        return (self.shape[0] * self.dx, self.shape[1] * self.dx)

    def coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """Cell-centre coordinates ``(y, x)``."""
        ny, nx = self.shape
        return (np.arange(ny) + 0.5) * self.dx, (np.arange(nx) + 0.5) * self.dx

    def angular_wavenumbers(self) -> tuple[np.ndarray, np.ndarray]:
        """Angular wavenumbers ``(qy, qx)`` of a real 2-D FFT (``rfft2`` layout)."""
        ny, nx = self.shape
        qy = 2.0 * np.pi * np.fft.fftfreq(ny, d=self.dx)
        qx = 2.0 * np.pi * np.fft.rfftfreq(nx, d=self.dx)
        return qy, qx

    def laplacian_eigenvalue_bound(self) -> float:
        """Bound on the magnitude of the 5-point (3-point in 1-D) Laplacian's eigenvalues: 4 ndim / dx²."""
        return 4.0 * self.ndim / self.dx**2

    def laplacian_eigenvalues(self) -> tuple[np.ndarray, np.ndarray]:
        """Eigenvalues of the discrete second difference along y and along x.

        The 5-point Laplacian (3-point in 1-D) is the sum of one second difference per
        axis, so its eigenvalues are all sums ``μ_y + μ_x`` of the two returned sets
        (``-q_h²``, the discrete analogue of ``-|q|²``). Periodic: the Fourier modes,
        ``μ_m = -(4/dx²) sin²(π m / n)``; no-flux (edge cell mirrored, cell-centred):
        the cosine modes ``cos(π m (j + 1/2) / n)``, ``μ_m = -(4/dx²) sin²(π m / (2n))``,
        ``m = 0 .. n-1``. A 1-D grid has ``μ_y = [0]``.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            The distinct eigenvalues along y and along x (each ``<= 0``, sorted).
        """

        def axis(n: int) -> np.ndarray:
            if n == 1:
                return np.zeros(1)
            m = np.arange(n)
            angle = np.pi * m / n if self.periodic else np.pi * m / (2 * n)
            return np.unique(-4.0 / self.dx**2 * np.sin(angle) ** 2)

        ny, nx = self.shape
        return axis(ny), axis(nx)


def parse_size(text: str) -> tuple[int, int]:
    """Parse ``"256"`` (square), ``"512x256"`` (nx by ny) or ``"512x1"`` (1-D) into ``(ny, nx)``.

    Raises
    ------
    ConfigError
        Not one or two positive integers.
    """
    parts = str(text).lower().replace("×", "x").split("x")
    try:
        numbers = [int(part) for part in parts]
    except ValueError:
        raise ConfigError(f"size must look like 256 or 512x256, got {text!r}") from None
    if len(numbers) == 1:
        numbers = numbers * 2
    if len(numbers) != 2 or min(numbers) < 1:
        raise ConfigError(f"size must be one or two positive integers like 256 or 512x256, got {text!r}")
    nx, ny = numbers
    return (ny, nx)
