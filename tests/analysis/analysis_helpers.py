"""Test fields with known answers, shared by the analysis tests (written here, not taken from the code)."""

from __future__ import annotations

import numpy as np
import xarray as xr


def plane_wave(ny: int, nx: int, wavelength: float, *, along: str = "x", phase: float = 0.3, spacing: float = 1.0):
    """cos(2π s / λ + φ) varying along one axis, constant along the other."""
    y, x = np.mgrid[0:ny, 0:nx] * spacing
    s = x if along == "x" else y
    return np.cos(2 * np.pi * s / wavelength + phase)


def checkerboard(ny: int, nx: int) -> np.ndarray:
    y, x = np.mgrid[0:ny, 0:nx]
    return np.where((x + y) % 2 == 0, 1.0, -1.0)


def as_dataarray(values: np.ndarray, spacing: float = 1.0, units: str = "m") -> xr.DataArray:
    ny, nx = values.shape[-2:]
    dims = ("time", "y", "x")[-values.ndim :] if values.ndim <= 3 else ("time", "feature", "y", "x")
    coords = {
        "y": ("y", np.arange(ny) * spacing, {"units": units}),
        "x": ("x", np.arange(nx) * spacing, {"units": units}),
    }
    if "time" in dims:
        coords["time"] = np.arange(values.shape[0], dtype=float)
    return xr.DataArray(values, dims=dims, coords=coords, attrs={"units": "mol"})


def as_volume(values: np.ndarray, spacing: tuple[float, float, float] = (1.0, 1.0, 1.0), units: str = "m") -> xr.DataArray:
    """A 3-D field ``(..., z, y, x)`` with physical coordinates (``spacing`` is ``(dz, dy, dx)``)."""
    shape = values.shape[-3:]
    coords = {dim: (dim, np.arange(n) * step, {"units": units}) for dim, n, step in zip("zyx", shape, spacing)}
    leading = {3: (), 4: ("time",), 5: ("time", "feature")}[values.ndim]
    if leading:
        coords["time"] = np.arange(values.shape[0], dtype=float)
    return xr.DataArray(values, dims=(*leading, "z", "y", "x"), coords=coords, attrs={"units": "mol"})


def volume_wave(shape: tuple[int, int, int], wavevector, spacing=(1.0, 1.0, 1.0), phase: float = 0.3) -> np.ndarray:
    """cos(2π k·r + φ) on a ``(nz, ny, nx)`` grid; ``wavevector`` is ``(k_z, k_y, k_x)`` in cycles per length."""
    z, y, x = np.meshgrid(*(np.arange(n) * d for n, d in zip(shape, spacing)), indexing="ij")
    k_z, k_y, k_x = wavevector
    return np.cos(2 * np.pi * (k_z * z + k_y * y + k_x * x) + phase)
