"""A gallery of Pearson's Gray-Scott pattern classes (Pearson, Science 261:189, 1993).

Simulates every Gray-Scott preset (Pearson's classes alpha ... mu and a few popular
extras) from Pearson's initial condition — u = 1, v = 0 with a perturbed central
square and small noise — and shows the final v of each on one grid of images, titled
with its (F, k). The coefficient of variation of each final v is saved too: near zero
for a homogeneous state, clearly positive for a pattern. Some classes (kappa, coral)
need the full 128² grid: on the small --quick grid their seed square dies out.

Usage::

    python examples/pearson_gallery.py OUT_FOLDER [--quick]

Writes ``OUT_FOLDER/pearson_gallery.png``, ``OUT_FOLDER/pearson_gallery.json`` and one
dataset per preset.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

QUICK_PRESETS = ("theta", "eta", "lambda", "mitosis")


def rdnet(*args: str) -> None:
    """Run an rdnet command as from the shell (``rdnet simulate ...``)."""
    from rdnet.cli.main import cli

    cli.main(args=list(args), prog_name="rdnet", standalone_mode=False)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help=f"four presets ({', '.join(QUICK_PRESETS)}) on 64² grids")
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)

    from rd_classic.presets import get_preset, preset_names
    from rdnet.analysis import coefficient_of_variation
    from rdnet.dataset import open_dataset

    names = list(QUICK_PRESETS) if options.quick else preset_names("gray-scott")
    size = 64 if options.quick else 128
    fields, summary = [], {}
    for name in names:
        preset = get_preset("gray-scott", name)
        path = options.out / f"gray_scott_{name}.nc"
        rdnet("simulate", "--model", "gray-scott", "--preset", name, "--size", str(size), "--seed", "0", "--out", str(path), "--overwrite", "--quiet")
        with open_dataset(path) as dataset:
            v = dataset["v"].isel(time=-1).load()
            time = float(dataset["time"].values[-1])
        fields.append((name, preset, v, time))
        summary[name] = {
            "F": preset.parameters["F"],
            "k": preset.parameters["k"],
            "description": preset.description,
            "time": time,
            "coefficient_of_variation_v": float(coefficient_of_variation(v)),
            "file": str(path),
        }

    from rdnet.plotting import new_figure, save_figure
    from rdnet.plotting.fields import draw_field

    columns = min(4, len(fields))
    rows = -(-len(fields) // columns)
    figure = new_figure(width=3.0 * columns + 1.2, height=2.9 * rows + 0.5)
    grid = np.atleast_2d(figure.subplots(rows, columns, squeeze=False))
    limits = {"vmin": 0.0, "vmax": max(float(v.max()) for _, _, v, _ in fields)}
    image = None
    for axes, (name, preset, v, time) in zip(grid.ravel(), fields):
        image = draw_field(axes, v, title=f"{name}: F={preset.parameters['F']:g}, k={preset.parameters['k']:g}", cmap="magma", colorbar=False, **limits)
        axes.tick_params(labelsize=7)
        axes.xaxis.label.set_fontsize(8)
        axes.yaxis.label.set_fontsize(8)
    for axes in grid.ravel()[len(fields):]:
        axes.set_visible(False)
    bar = figure.colorbar(image, ax=list(grid.ravel()), shrink=0.6)
    bar.set_label("autocatalyst concentration v")
    figure.suptitle(f"Pearson's Gray-Scott classes: v at t = {fields[0][3]:g} ({size}² grid, Du = 2e-5, Dv = 1e-5)", fontsize=11)
    figure_path = save_figure(figure, options.out / "pearson_gallery.png")
    (options.out / "pearson_gallery.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"figure: {figure_path}")
    return summary


if __name__ == "__main__":
    main()
