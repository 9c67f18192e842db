"""Draw the solver-depth figures of docs/classic.md from three small runs (about a minute on 2 cores).

* ``solver-dirichlet.png`` — a Schnakenberg pattern on a no-flux box whose left side holds
  ``u`` at a fixed value (Dirichlet): the stripes line up with the driven side.
* ``solver-noisy-turing.png`` — the Brusselator *below* its Turing threshold
  (b = 6.3 < b_c = (1 + a sqrt(Du/Dv))² ≈ 6.71): without noise the initial perturbation dies
  away; with additive noise on ``u`` a noisy Turing pattern persists at the band's wavelength.
* ``solver-adaptive-dt.png`` — an adaptive rk45 run of FitzHugh–Nagumo relaxation oscillations
  (ε = 0.05, a1 = 0, Du = Dv = 0.1):
  the smallest and largest accepted step between snapshots against model time.

Usage::

    python docs/make_solver_figures.py            # writes docs/figures/solver-*.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import rd_classic  # noqa: E402

FIGURES = Path(__file__).resolve().parent / "figures"


def _field(ax, ds, name: str, title: str) -> None:
    """Draw the last snapshot of ``name`` on ``ax`` with labelled axes and a colour bar."""
    last = ds[name].isel(time=-1)
    image = ax.pcolormesh(ds["x"], ds["y"], last.values, shading="auto", cmap="viridis")
    ax.set_aspect("equal")
    ax.set_xlabel("x (model length units)")
    ax.set_ylabel("y (model length units)")
    ax.set_title(title)
    ax.figure.colorbar(image, ax=ax, label=f"{name} (model units)")


def dirichlet_figure(path: Path) -> None:
    """A Schnakenberg pattern driven by a Dirichlet left side (u = 2) in a no-flux box."""
    ds = rd_classic.simulate(model="schnakenberg", size="64x64", time=40.0, seed=1, quiet=True,
                             boundary=["no-flux", "u.x-=dirichlet 2"])  # fmt: skip
    fig, ax = plt.subplots(figsize=(5.2, 4.2), constrained_layout=True)
    _field(ax, ds, "u", f"Schnakenberg, u = 2 held on the left side, t = {float(ds.time[-1]):g}")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def noisy_turing_figure(path: Path) -> None:
    """The Brusselator below its Turing threshold, with and without additive noise."""
    common = dict(model="brusselator", param={"b": 6.3}, size="64x64", time=60.0, seed=2, quiet=True)
    quiet_run = rd_classic.simulate(**common)
    noisy_run = rd_classic.simulate(**common, noise="u=0.3")
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    _field(axes[0], quiet_run, "u", "b = 6.3 < b_c ≈ 6.71, no noise: decays")
    _field(axes[1], noisy_run, "u", "with additive noise on u (0.3): noisy Turing pattern")
    fig.savefig(path, dpi=120)
    plt.close(fig)


def adaptive_figure(path: Path) -> None:
    """The accepted step sizes of an adaptive rk45 run of FitzHugh-Nagumo relaxation oscillations."""
    ds = rd_classic.simulate(model="fitzhugh-nagumo", param={"epsilon": 0.05, "a1": 0.0, "Du": 0.1, "Dv": 0.1},
                             size="32x32", dx=1.0, time=100.0, integrator="rk45", rtol=1e-5, seed=3,
                             quiet=True)  # fmt: skip
    fig, ax = plt.subplots(figsize=(6.4, 3.6), constrained_layout=True)
    time = ds["time"].values
    ax.step(time, ds["step_size_max"].values, where="pre", label="largest accepted step")
    ax.step(time, ds["step_size_min"].values, where="pre", label="smallest accepted step")
    ax.set_yscale("log")
    ax.set_xlabel("model time")
    ax.set_ylabel("step size dt (model time)")
    ax.set_title(f"rk45, rtol 1e-5: {int(ds['rejected_steps'].values[-1])} rejected steps")
    ax.legend()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    """Write the three figures into docs/figures/."""
    FIGURES.mkdir(exist_ok=True)
    for name, draw in [("solver-dirichlet.png", dirichlet_figure), ("solver-noisy-turing.png", noisy_turing_figure),
                       ("solver-adaptive-dt.png", adaptive_figure)]:  # fmt: skip
        draw(FIGURES / name)
        print(f"wrote {FIGURES / name}")


if __name__ == "__main__":
    main()
