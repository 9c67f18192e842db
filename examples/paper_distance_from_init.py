"""The paper's Fig. 1: distance from initialisation, supervised vs adversarial, over several seeds.

Rout (AAAI-21) shows that under sole supervision the weights of a wide two-layer ReLU
network stay close to their initialisation (Theorem 1: a homogeneous equilibrium),
while with an adversary they keep travelling (Theorem 2: the distance grows linearly
in time). This script trains the network both ways for several seeds with both layers
trained, and draws the Frobenius distances ‖U(t) − U(0)‖_F (hidden layer) and
‖V(t) − V(0)‖_F (top layer) against the training step.

Usage::

    python examples/paper_distance_from_init.py OUT_FOLDER [--quick] [--seeds 3]

Writes ``OUT_FOLDER/distance_from_init.png``, ``OUT_FOLDER/distance_from_init.json``
(final distances per run) and the datasets ``OUT_FOLDER/runs/*.nc``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def rdnet(*args: str) -> None:
    """Run an rdnet command as from the shell (``rdnet train ...``)."""
    from rdnet.cli.main import cli

    cli.main(args=list(args), prog_name="rdnet", standalone_mode=False)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small network, few steps (seconds)")
    parser.add_argument("--seeds", type=int, default=None, help="number of initialisations (default 3, quick 2)")
    options = parser.parse_args(argv)

    seeds = range(options.seeds or (2 if options.quick else 3))
    grid, steps, samples = ("8x8", 100, 64) if options.quick else ("16x16", 400, 256)
    runs_folder = options.out / "runs"
    runs_folder.mkdir(parents=True, exist_ok=True)

    from rdnet.dataset import open_dataset
    from rdnet.plotting import new_figure, save_figure

    figure = new_figure(width=10.5, height=4.2)
    hidden_axes, top_axes = figure.subplots(1, 2)
    summary: dict[str, list[dict]] = {"supervised": [], "adversarial": []}
    for seed in seeds:
        for mode, colour in (("supervised", "C0"), ("adversarial", "C3")):
            path = runs_folder / f"{mode}_seed{seed}.nc"
            rdnet(
                "train", *(["--adversary"] if mode == "adversarial" else []),
                "--dataset", "digits", "--samples", str(samples), "--grid", grid,
                "--steps", str(steps), "--lr", "0.1", "--train-layers", "both", "--save", "norms",
                "--seed", str(seed), "--out", str(path), "--overwrite", "--quiet",
            )  # fmt: skip
            with open_dataset(path) as dataset:
                step = np.asarray(dataset["step"].values, dtype=float)
                hidden = np.asarray(dataset["distance_u"].values, dtype=float)
                top = np.asarray(dataset["distance_v"].values, dtype=float)
            label = mode if seed == seeds[0] else None
            hidden_axes.plot(step, hidden, color=colour, alpha=0.8, label=label)
            top_axes.plot(step, top, color=colour, alpha=0.8, label=label)
            summary[mode].append({"seed": seed, "file": str(path), "final_distance_u": float(hidden[-1]), "final_distance_v": float(top[-1])})

    for axes, layer, symbol in ((hidden_axes, "hidden layer", "‖U(t) − U(0)‖_F"), (top_axes, "top layer", "‖V(t) − V(0)‖_F")):
        axes.set_xlabel("training step")
        axes.set_ylabel(f"distance from initialisation {symbol}")
        axes.set_title(f"{layer}: {len(seeds)} initialisations each", fontsize=10)
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=9)
    figure.suptitle("Distance from initialisation with and without the adversary (cf. Rout, AAAI-21, Fig. 1)", fontsize=11)
    figure_path = save_figure(figure, options.out / "distance_from_init.png")
    for mode in ("supervised", "adversarial"):
        summary[f"{mode}_mean_final_distance_u"] = float(np.mean([run["final_distance_u"] for run in summary[mode]]))
        summary[f"{mode}_mean_final_distance_v"] = float(np.mean([run["final_distance_v"] for run in summary[mode]]))
    (options.out / "distance_from_init.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"figure: {figure_path}")
    print(f"summary: {options.out / 'distance_from_init.json'}")
    return summary


if __name__ == "__main__":
    main()
