"""Reproduce the solvable GAN's Fig. 1 (d = 2, Λ = diag(3, 5), η = 2, 1, 4) and its phase diagram.

Usage::

    python examples/gan_phase_diagram.py OUT_FOLDER [--quick]

Writes ``fig1_eta<η>.png`` (simulation mean ± std as dots over the ODE curves) and
``fig1_eta<η>-weights.png`` (every weight coordinate against each planted feature: which features
were learnt) for each η, and ``phase_diagram_d1.png`` / ``phase_diagram_d2.png`` (ODE phases from
t = 300, integrated up to t = 3000 while still moving, under the linear-theory boundaries).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rdnet.gan_dynamics import GanModel, initial_state
from rdnet.gan_dynamics.phases import PHASES, linear_boundaries, ode_phase_summary, ode_phase_survey
from rdnet.gan_dynamics.run import run_dataset
from rdnet.plotting import save_figure
from rdnet.plotting.gan_dynamics import phase_diagram_figure, plot_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small n, few replicas, coarse grids")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    n, replicas, grid = (1000, 4, 12) if args.quick else (10000, 20, 40)
    for noise in (2.0, 1.0, 4.0):
        model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0, 5.0), noise=noise)
        ds = run_dataset(model, initial_state(2), dimension=n, time=200.0, replicas=replicas, seed=1)
        paths = plot_dataset(ds, args.out / f"fig1_eta{noise:g}.png")
        final = np.diagonal(ds["P_ode"].values[-1])
        print(f"η = {noise:g}: ODE {ode_phase_summary(ds.attrs)}, final diag P (ODE) {np.round(final, 3).tolist()},"
              f" simulation {np.round(np.diagonal(ds['P_mean'].values[-1]), 3).tolist()} -> {paths[0]}")
    for lambdas, name, axes in (
        ((3.0,), "d1", {"noise": np.linspace(0.5, 5, grid), "tau_g": np.linspace(0.01, 0.3, grid)}),
        ((3.0, 5.0), "d2", {"noise": np.linspace(0.5, 5, grid), "tau_d": np.linspace(0.05, 0.4, grid)}),
    ):
        base = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=lambdas, noise=1.0)
        survey = ode_phase_survey(base, axes, time=300.0, max_time=3000.0)
        (x_name, x), (y_name, y) = axes.items()
        fixed = "τ̃ = 0.04" if "tau_d" in axes else "τ = 0.2"
        figure = phase_diagram_figure(
            x_name, x, y_name, y, survey.codes, linear_boundaries(base, axes),
            title=f"solvable GAN, λ = {lambdas}, {fixed}; cells: ODE from t = 300, up to t = 3000 while still moving",
            informative_fixed_point=survey.has_behaviour("informative fixed point"),
        )
        counts = ", ".join(f"{p} {int(np.sum(survey.codes == i))}" for i, p in enumerate(PHASES)
                           if np.any(survey.codes == i))
        print("wrote", save_figure(figure, args.out / f"phase_diagram_{name}.png"), f"({counts})")


if __name__ == "__main__":
    main()
