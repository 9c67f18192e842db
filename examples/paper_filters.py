"""The paper's Figs. 3, 7 and 8: hidden-layer filters u_j as images, without and with diffusion.

Each hidden neuron j of the generator has an input weight vector u_j ∈ R^{d_in}; when
d_in is a square (8 × 8 for scikit-learn's digits, 28 × 28 for the paper's synthetic
inputs with d_in = 784) it can be looked at as an image. The script trains the same
network from the same initialisation twice — supervised only (no diffusion) and with the
adversary (with diffusion) — and shows the filters at initialisation and after each run,
laid out as the neurons sit on their grid, plus the per-neuron distance from
initialisation ‖u_j(t) − u_j(0)‖ as a field on that grid.

Usage::

    python examples/paper_filters.py OUT_FOLDER [--quick] [--dataset digits|synthetic]

Writes ``OUT_FOLDER/filters.png``, ``OUT_FOLDER/displacement.png``,
``OUT_FOLDER/filters.json`` and the two datasets.
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
    parser.add_argument("--dataset", choices=["digits", "synthetic"], default=None, help="default: synthetic (d_in = 784); digits with --quick")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)

    dataset_name = options.dataset or ("digits" if options.quick else "synthetic")
    grid, steps, samples = ("8x8", 100, 64) if options.quick else ("16x16", 300, 256)
    options.out.mkdir(parents=True, exist_ok=True)

    from rdnet.dataset.vocabulary import select_snapshot
    from rdnet.dataset import open_dataset
    from rdnet.plotting import save_figure
    from rdnet.plotting.fields import fields_figure
    from rdnet.plotting.network import filter_mosaic_figure, square_side

    paths = {mode: options.out / f"filters_{mode}.nc" for mode in ("supervised", "adversarial")}
    for mode, path in paths.items():
        rdnet(
            "train", *(["--adversary"] if mode == "adversarial" else []),
            "--dataset", dataset_name, "--samples", str(samples), "--grid", grid, "--steps", str(steps), "--lr", "0.1",
            "--save", "full", "--seed", str(options.seed), "--out", str(path), "--overwrite", "--quiet",
        )  # fmt: skip

    panels, displacements, summary = [], [], {"dataset": dataset_name, "grid": grid, "steps": steps}
    for mode, path in paths.items():
        with open_dataset(path) as dataset:
            u = dataset["u"]
            component = next(dim for dim in u.dims if dim not in ("time", "y", "x"))
            if not panels:
                initial, _ = select_snapshot(u, 0)
                panels.append(("initialisation u_j(0)", initial))
            final, index = select_snapshot(u, -1)
            time = float(dataset["time"].values[index])  # gradient-flow time t = step · lr
            title = "supervised (no diffusion)" if mode == "supervised" else "adversarial (with diffusion)"
            panels.append((f"{title}, t = {time:g}", final))
            displacement, _ = select_snapshot(dataset["displacement_u"], -1)
            displacements.append((title, displacement))
            summary[f"{mode}_mean_displacement_u"] = float(np.mean(displacement.values))
            summary[f"{mode}_file"] = str(path)
    side = square_side(panels[0][1].sizes[component])
    figure = filter_mosaic_figure(panels, component_dim=component, title=f"Hidden filters u_j as {side}×{side} images ({dataset_name}, {grid} neurons)")
    filters_path = save_figure(figure, options.out / "filters.png")
    figure = fields_figure(
        [field for _, field in displacements],
        titles=[title for title, _ in displacements],
        suptitle="Per-neuron distance from initialisation ‖u_j(t) − u_j(0)‖ on the neuron grid",
        cmap="magma",
        shared_scale=True,
    )
    displacement_path = save_figure(figure, options.out / "displacement.png")
    (options.out / "filters.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"figures: {filters_path}, {displacement_path}")
    return summary


if __name__ == "__main__":
    main()
