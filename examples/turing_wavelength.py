"""Linear stability prediction vs simulation: the Turing wavelength of every registered model.

For each registered model whose default preset is Turing-unstable (a stable homogeneous
state that diffusion destabilises), ``rd_classic.stability`` predicts the fastest-growing
wavelength 2π/q* from the dispersion relation. The script simulates the model from small
noise around that state (``rdnet simulate``) and measures the dominant wavelength of the
pattern with ``rdnet.analysis.dominant_wavelength``; a table and a bar chart put the two side
by side. Models without a Turing instability (Gray-Scott's trivial state, pure diffusion)
are listed as skipped.

Usage::

    python examples/turing_wavelength.py OUT_FOLDER [--quick]

Writes ``OUT_FOLDER/turing_wavelength.png``, ``OUT_FOLDER/turing_wavelength.json`` and one
dataset per model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def rdnet(*args: str) -> None:
    """Run an rdnet command as from the shell (``rdnet simulate ...``)."""
    from rdnet.cli.main import cli

    cli.main(args=list(args), prog_name="rdnet", standalone_mode=False)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="64² grids (seconds per model)")
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    size = 64 if options.quick else 128

    from rd_classic.models import MODELS, get_model
    from rd_classic.presets import default_preset
    from rd_classic.stability import turing_analysis
    from rdnet.analysis import dominant_wavelength
    from rdnet.dataset import open_dataset

    results: dict[str, dict] = {}
    skipped: dict[str, str] = {}
    for name in sorted(MODELS):
        preset = default_preset(name)
        model = get_model(name, **preset.parameters)
        analysis = turing_analysis(model)
        if not analysis.turing_unstable:
            skipped[name] = "not Turing-unstable at its homogeneous state"
            continue
        path = options.out / f"{name}.nc"
        rdnet(
            "simulate", "--model", name, "--size", str(size),
            "--seed", "0", "--out", str(path), "--overwrite", "--quiet",
        )  # fmt: skip
        with open_dataset(path) as dataset:
            field = dataset["v"].isel(time=-1).load()
            measured = float(dominant_wavelength(field))
            domain = float(field.sizes["x"] * abs(float(field["x"][1] - field["x"][0])))
        predicted = float(analysis.fastest_wavelength)
        results[name] = {
            "predicted_wavelength": predicted,
            "measured_wavelength": measured,
            "relative_difference": (measured - predicted) / predicted,
            "domain_length": domain,
            "wavelength_resolution": predicted**2 / domain,  # one radial bin, 1/L, in wavelength
            "file": str(path),
        }

    from rdnet.plotting import new_figure, save_figure

    names = list(results)
    figure = new_figure(width=max(5.0, 1.6 * len(names) + 2.0), height=4.0)
    axes = figure.subplots()
    positions = np.arange(len(names))
    predicted = [results[name]["predicted_wavelength"] for name in names]
    measured = [results[name]["measured_wavelength"] for name in names]
    errors = [results[name]["wavelength_resolution"] for name in names]
    axes.bar(positions - 0.2, predicted, width=0.4, label="linear stability: 2π / q*", color="C0")
    axes.bar(positions + 0.2, measured, width=0.4, yerr=errors, capsize=3, label="simulation: dominant wavelength (±1 bin)", color="C1")
    axes.set_xticks(positions, names)
    axes.set_ylabel("wavelength [model length units]")
    axes.set_title(f"Turing wavelength: prediction vs simulation ({size}² grids)", fontsize=10)
    axes.legend(fontsize=8, loc="upper left")
    axes.grid(True, axis="y", alpha=0.3)
    figure_path = save_figure(figure, options.out / "turing_wavelength.png")
    summary = {"models": results, "skipped": skipped}
    (options.out / "turing_wavelength.json").write_text(json.dumps(summary, indent=2) + "\n")
    for name in names:
        row = results[name]
        print(f"{name:18s} predicted {row['predicted_wavelength']:8.3f}  measured {row['measured_wavelength']:8.3f}  ({100 * row['relative_difference']:+.1f}%)")
    for name, reason in skipped.items():
        print(f"{name:18s} skipped: {reason}")
    print(f"figure: {figure_path}")
    return summary


if __name__ == "__main__":
    main()
