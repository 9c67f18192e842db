"""Datasets of both engines with known patterns, shared by the comparison, plotting and CLI tests.

Built here (stripes of a chosen wavelength, structureless noise), so every expected number
in the tests comes from the construction, not from the code under test.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def stripes(size: int, spacing: float, wavelength: float, *, angle: float = 0.0, phase: float = 0.0) -> np.ndarray:
    """A plane wave cos(2π (x cosθ + y sinθ)/λ) on a periodic size × size grid."""
    coordinate = np.arange(size) * spacing
    y, x = np.meshgrid(coordinate, coordinate, indexing="ij")
    return np.cos(2 * np.pi * (x * np.cos(angle) + y * np.sin(angle)) / wavelength + phase)


def grid_coords(size: int, spacing: float, units: str, name: str = "grid") -> dict:
    coordinate = np.arange(size) * spacing
    return {
        "y": ("y", coordinate, {"units": units, "long_name": f"{name} row position"}),
        "x": ("x", coordinate, {"units": units, "long_name": f"{name} column position"}),
    }


def classic_dataset(
    rng: np.random.Generator,
    *,
    size: int = 64,
    spacing: float = 0.5,
    wavelength: float = 8.0,
    snapshots: int = 3,
) -> xr.Dataset:
    """A Gray-Scott-like run: v forms stripes of ``wavelength`` (growing in time); u mirrors them."""
    times = np.arange(snapshots, dtype=float) * 10.0
    growth = np.linspace(0.1, 1.0, snapshots)[:, None, None]
    pattern = stripes(size, spacing, wavelength)[None]
    noise = 0.01 * rng.standard_normal((snapshots, size, size))
    v = 0.25 + 0.2 * growth * pattern + noise
    u = 0.5 - 0.1 * growth * pattern + noise
    dims = ("time", "y", "x")

    def spec(values, long_name, units="1"):
        return (dims, values, {"long_name": long_name, "units": units})

    return xr.Dataset(
        {
            "u": spec(u, "substrate concentration u"),
            "v": spec(v, "activator concentration v"),
            "reaction_u": spec(-u * v**2, "reaction term of u", "1/s"),
            "reaction_v": spec(u * v**2, "reaction term of v", "1/s"),
            "diffusion_u": spec(0.2 * pattern.repeat(snapshots, 0), "diffusion term of u", "1/s"),
            "diffusion_v": spec(-0.1 * pattern.repeat(snapshots, 0), "diffusion term of v", "1/s"),
        },
        coords={"time": ("time", times, {"units": "s", "long_name": "time"}), **grid_coords(size, spacing, "m", "grid")},
        attrs={"system": "classic", "model": "gray-scott"},
    )


def prd_dataset(
    rng: np.random.Generator,
    *,
    side: int = 12,
    d_in: int = 16,
    snapshots: int = 3,
    steps: int = 20,
    adversarial: bool = False,
    full_reaction: bool = False,
) -> xr.Dataset:
    """A network-like run: morphogens u (feature, y, x) and v (output, y, x) of structureless noise."""
    shape = (snapshots, d_in, side, side)
    u0 = rng.standard_normal(shape[1:])
    drift = (1.0 if adversarial else 0.05) * np.linspace(0, 1, snapshots)[:, None, None, None]
    u = u0[None] + drift * rng.standard_normal(shape)
    v = rng.choice([-1.0, 1.0], size=(snapshots, 1, side, side))
    displacement = np.sqrt(((u - u0[None]) ** 2).sum(axis=1))
    step = np.arange(steps + 1)
    loss = 10.0 * np.exp(-step / 2.0) + 0.01  # three decades: drawn on a log scale
    data = {
        "u": (("time", "feature", "y", "x"), u, {"long_name": "hidden-layer weights u_j", "units": "1"}),
        "v": (("time", "output", "y", "x"), v, {"long_name": "top-layer weights v_j", "units": "1"}),
        "reaction_u_norm": (("time", "y", "x"), np.abs(rng.standard_normal((snapshots, side, side))), {"long_name": "norm of reaction on u_j", "units": "1"}),
        "displacement_u": (("time", "y", "x"), displacement, {"long_name": "distance of u_j from initialisation", "units": "1"}),
        "supervised_loss": (("step",), loss, {"long_name": "supervised loss L_sup", "units": "1"}),
        "distance_u": (("step",), 0.5 * np.sqrt(step) * (3.0 if adversarial else 0.2), {"long_name": "distance ||U(t)-U(0)||_F", "units": "1"}),
        "theorem1_bound_u": (("step",), np.full(step.shape, 4.0), {"long_name": "Theorem 1 bound", "units": "1"}),
    }
    if full_reaction:
        data["reaction_u"] = (("time", "feature", "y", "x"), rng.standard_normal(shape), {"long_name": "reaction on u_j", "units": "1"})
    cells = np.arange(side, dtype=float)
    return xr.Dataset(
        data,
        coords={
            "time": ("time", np.linspace(0, steps, snapshots), {"units": "1", "long_name": "training step"}),
            "step": ("step", step, {"units": "1", "long_name": "training step"}),
            "y": ("y", cells, {"units": "1", "long_name": "neuron grid row"}),
            "x": ("x", cells, {"units": "1", "long_name": "neuron grid column"}),
            "feature": ("feature", np.arange(d_in), {"units": "1", "long_name": "input feature"}),
            "output": ("output", np.arange(1), {"units": "1", "long_name": "output"}),
        },
        attrs={"system": "prd", "model": "adversarial" if adversarial else "supervised"},
    )


def volume_dataset(
    rng: np.random.Generator,
    *,
    shape: tuple[int, int, int] = (8, 12, 16),
    spacing: tuple[float, float, float] = (0.5, 1.0, 0.5),
    modes: tuple[int, int, int] = (1, 2, 2),
    snapshots: int = 3,
) -> xr.Dataset:
    """A 3-D classic run (dims time, z, y, x): v a plane wave of mode numbers ``modes`` along (z, y, x).

    The wavevector is ``k = m / (n d)`` per axis; ``v`` also varies with z by construction,
    so every z plane differs. ``u`` is v's mirror image plus noise.
    """
    axes = [np.arange(n) * d for n, d in zip(shape, spacing)]
    z, y, x = np.meshgrid(*axes, indexing="ij")
    k_z, k_y, k_x = (m / (n * d) for m, n, d in zip(modes, shape, spacing))
    pattern = np.cos(2 * np.pi * (k_z * z + k_y * y + k_x * x))
    growth = np.linspace(0.2, 1.0, snapshots)[:, None, None, None]
    v = 0.25 + 0.2 * growth * pattern[None]
    u = 0.5 - 0.1 * growth * pattern[None] + 0.01 * rng.standard_normal((snapshots, *shape))
    dims = ("time", "z", "y", "x")
    coords = {
        axis: (axis, values, {"units": "m", "long_name": f"{axis} position (cell centre)", "axis": axis.upper()})
        for axis, values in zip("zyx", axes)
    }
    return xr.Dataset(
        {
            "u": (dims, u, {"long_name": "substrate concentration u", "units": "1"}),
            "v": (dims, v, {"long_name": "activator concentration v", "units": "1"}),
        },
        coords={"time": ("time", np.arange(snapshots) * 10.0, {"units": "s", "long_name": "time"}), **coords},
        attrs={"system": "classic", "model": "gray-scott"},
    )
