"""Draw the figures of docs/models.md: the three worked user models.

Run: ``.venv/bin/python docs/make_model_figures.py [--quick]`` (writes docs/figures/models-*.png
beside this file; about 3 minutes on 2 cores, ``--quick`` a few seconds on small grids).

1. ``models-three-species.png`` — a three-species model file (the extended Brusselator of
   Yang et al. 2002, written out as a user would) on a 2-D grid: u, v and w at the end.
2. ``models-3d-slice.png`` — the Brusselator on a 64³ grid (ETDRK4): the mid-plane slice
   ``z = Lz/2`` of u, and the slice ``y = Ly/2``.
3. ``models-pearson-map.png`` — Pearson's F–k map in one run: Gray-Scott with ``k`` a field
   growing along x and ``F`` one growing along y, started from seeds everywhere (the
   model file's ``[initial]`` table).

Each run goes through the command line (``rdnet simulate``), as the page shows it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FIGURES = HERE / "figures"

THREE_SPECIES = """\
name = "three-species"
description = "the extended Brusselator (Yang, Dolnik, Zhabotinsky & Epstein 2002) as a user writes it"
species = ["u", "v", "w"]

[parameters]
a = 3.0
b = 9.0
c = 2.0
d = 1.0
Du = 1.0
Dv = 20.0
Dw = 1.0

[diffusion]
u = "Du"
v = "Dv"
w = "Dw"

[reaction]
u = "a - (1 + b)*u + u**2*v - c*u + d*w"
v = "b*u - u**2*v"
w = "c*u - d*w"

[presets.default]
dx = 0.5
time = 50.0
initial = "noise"
"""

PEARSON_MAP = """\
name = "gray-scott-map"
description = "Gray-Scott with seeds everywhere, for a map of Pearson's (F, k) plane in one run"
species = ["u", "v"]
constraints = ["F >= 0", "k >= 0"]

[parameters]
F = { value = 0.04, units = "1/time", description = "feed rate" }
k = { value = 0.06, units = "1/time", description = "removal rate of v minus F" }
Du = { value = 2e-5, units = "length^2/time" }
Dv = { value = 1e-5, units = "length^2/time" }

[diffusion]
u = "Du"
v = "Dv"

[reaction]
u = "-u*v**2 + F*(1 - u)"
v = "u*v**2 - (F + k)*v"

[[steady_states]]
u = "1"
v = "0"

[initial]
# seeds of u = 1/2, v = 1/4 (Pearson's square) on a 12 x 12 lattice: on a 512^2 grid each is
# about 16 cells wide, close to Pearson's 20
u = "1 - 0.5*heaviside(sin(2*pi*12*x/Lx)*sin(2*pi*12*y/Ly) - 0.3)"
v = "0.25*heaviside(sin(2*pi*12*x/Lx)*sin(2*pi*12*y/Ly) - 0.3)"
noise = 0.01

[presets.default]
dx = 0.009765625
dt = 1.0
time = 10000.0
initial = "expr"
"""


def rdnet(*arguments: str) -> None:
    """Run ``rdnet`` (the CLI of this checkout) and stop on failure."""
    subprocess.run([sys.executable, "-m", "rdnet", *arguments], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small grids and short runs (a check, not the figures)")
    options = parser.parse_args(argv)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rdnet.dataset import open_dataset

    FIGURES.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        # 1. three species
        (work / "three.toml").write_text(THREE_SPECIES)
        size = "64" if options.quick else "192"
        rdnet("simulate", "--model-file", str(work / "three.toml"), "--size", size, "--integrator", "etdrk4",
              "--dt", "0.01", "--time", "5" if options.quick else "50", "--seed", "1", "--out", str(work / "three.nc"),
              "--quiet")  # fmt: skip
        with open_dataset(work / "three.nc") as ds:
            last = ds.isel(time=-1).load()
        figure, axes = plt.subplots(1, 3, figsize=(11, 3.6), constrained_layout=True)
        for ax, name in zip(axes, ("u", "v", "w")):
            field = last[name]
            extent = (0, float(ds.x[-1] + ds.x[0]), 0, float(ds.y[-1] + ds.y[0]))
            image = ax.imshow(field.values, origin="lower", extent=extent, cmap="viridis")
            ax.set_title(f"{name} at t = {float(last.time):g}")
            ax.set_xlabel("x (length units)")
            ax.set_ylabel("y (length units)")
            figure.colorbar(image, ax=ax, shrink=0.8, label=f"{name} (concentration, 1)")
        figure.suptitle("three-species model file (extended Brusselator), ETDRK4, periodic")
        figure.savefig(FIGURES / "models-three-species.png", dpi=110)
        plt.close(figure)

        # 2. 3-D
        size = "24x24x24" if options.quick else "64x64x64"
        rdnet("simulate", "--model", "brusselator", "--size", size, "--integrator", "etdrk4", "--dt", "0.02",
              "--time", "4" if options.quick else "40", "--seed", "2", "--out", str(work / "cube.nc"), "--quiet")  # fmt: skip
        with open_dataset(work / "cube.nc") as ds:
            u = ds["u"].isel(time=-1).load()
        middle_z, middle_y = u.sizes["z"] // 2, u.sizes["y"] // 2
        figure, axes = plt.subplots(1, 2, figsize=(9, 3.9), constrained_layout=True)
        length = float(u.x[-1] + u.x[0])
        for ax, plane, title, ylabel in (
            (axes[0], u.isel(z=middle_z), f"mid-plane z = {float(u.z[middle_z]):.2f} (of Lz = {length:g})", "y"),
            (axes[1], u.isel(y=middle_y), f"slice y = {float(u.y[middle_y]):.2f}", "z"),
        ):
            image = ax.imshow(plane.values, origin="lower", extent=(0, length, 0, length), cmap="magma")
            ax.set_title(title)
            ax.set_xlabel("x (length units)")
            ax.set_ylabel(f"{ylabel} (length units)")
            figure.colorbar(image, ax=ax, shrink=0.8, label="u (concentration, 1)")
        figure.suptitle(f"Brusselator on a {size.replace('x', ' x ')} grid (7-point storage, ETDRK4), "
                        f"u at t = {float(u.time):g}")  # fmt: skip
        figure.savefig(FIGURES / "models-3d-slice.png", dpi=110)
        plt.close(figure)

        # 3. Pearson's map in one run: k along x, F along y
        (work / "map.toml").write_text(PEARSON_MAP)
        size = "128" if options.quick else "512"
        rdnet("simulate", "--model-file", str(work / "map.toml"), "--size", size, "--param", "k=0.03 + 0.04*x/Lx",
              "--param", "F=0.08*y/Ly", "--time", "1000" if options.quick else "10000", "--out", str(work / "map.nc"),
              "--quiet")  # fmt: skip
        with open_dataset(work / "map.nc") as ds:
            v = ds["v"].isel(time=-1).load()
            k_field, f_field = ds["parameter_k"].values, ds["parameter_F"].values
        figure, ax = plt.subplots(figsize=(6.4, 5.6), constrained_layout=True)
        extent = (float(k_field.min()), float(k_field.max()), float(f_field.min()), float(f_field.max()))
        image = ax.imshow(v.values, origin="lower", extent=extent, aspect="auto", cmap="inferno")
        ax.set_xlabel("k (1/time), varying along x")
        ax.set_ylabel("F (1/time), varying along y")
        ax.set_title(f"Gray-Scott v at t = {float(v.time):g}: Pearson's (F, k) map in one run")
        figure.colorbar(image, ax=ax, shrink=0.85, label="v (autocatalyst, 1)")
        figure.savefig(FIGURES / "models-pearson-map.png", dpi=110)
        plt.close(figure)
    print(f"wrote {', '.join(str(p.relative_to(HERE)) for p in sorted(FIGURES.glob('models-*.png')))}")


if __name__ == "__main__":
    main()
