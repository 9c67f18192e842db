"""A gallery of Gray-Scott regimes, each with the label and measures rdnet.analysis gives it.

Simulates Pearson's classes (the Gray-Scott presets, Pearson's set-up: a seeded square,
``dx = 2.5/256``, t = 10 000) and the six regimes of The Well's Gray-Scott set
(``gray_scott_reaction_diffusion``; its dataset card: Du = 2e-5, Dv = 1e-5 on [-1, 1]²,
periodic, 128², t = 10 000, started from random clusters of Gaussians) with rdnet, then
names each final v with :func:`rdnet.analysis.pattern_summary` (regime) and the second half
of its snapshots with :func:`rdnet.analysis.time_behaviour`. Each panel shows the label,
the Euler characteristic χ, the components of both phases and the stripe fraction; the
JSON holds every number and the label a reader of the sources would expect.

Usage::

    python examples/regime_gallery.py OUT_FOLDER [--quick]

Writes ``OUT_FOLDER/regime_gallery.png``, ``OUT_FOLDER/regime_gallery.json`` and one dataset
per run.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

#: The Well's six regimes: (F, k) from its dataset card, and the spatial class its name and
#: animation show for the v field (bubbles are round blobs of v; spirals are broken waves).
WELL_REGIMES = {
    "gliders": (0.014, 0.054, "spots"),
    "bubbles": (0.098, 0.057, "spots"),
    "maze": (0.029, 0.057, "stripes"),
    "worms": (0.058, 0.065, "mixed"),
    "spirals": (0.018, 0.051, "mixed"),
    "spots": (0.030, 0.062, "spots"),
}
#: The spatial class of v expected from each preset's published description (Pearson 1993
#: Fig. 3, Munafo's catalogue). Pearson draws u, so his "negative" spots/stripes are holes in v.
PEARSON_EXPECTED = {
    "alpha": "spots", "beta": "holes", "gamma": "mixed", "delta": "holes", "epsilon": "spots",
    "zeta": "spots", "eta": "mixed", "theta": "stripes", "iota": "holes", "kappa": "stripes",
    "lambda": "spots", "mu": "mixed", "mitosis": "spots", "coral": "stripes",
}  # fmt: skip
QUICK = {"pearson": ("theta", "lambda"), "well": ("maze", "spots")}


def gaussian_clusters(n: int, seed: int, *, count: int = 30, width: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """The Well's second kind of initial condition: v = clusters of Gaussians on [-1, 1]², u = 1 - v."""
    rng = np.random.default_rng(seed)
    centre = (np.arange(n) + 0.5) * 2 / n - 1
    x, y = np.meshgrid(centre, centre)
    v = np.zeros((n, n))
    for cx, cy in rng.uniform(-1, 1, size=(count, 2)):
        dx, dy = (x - cx + 1) % 2 - 1, (y - cy + 1) % 2 - 1
        v += np.exp(-(dx**2 + dy**2) / (2 * width**2))
    v = 0.5 * np.clip(v, 0.0, 1.0)
    return 1.0 - v, v


def simulate_pearson(name: str, size: int, out: Path) -> Path:
    from rdnet.cli.main import cli

    path = out / f"pearson_{name}.nc"
    arguments = ["simulate", "--model", "gray-scott", "--preset", name, "--size", str(size),
                 "--snapshot-every", "250", "--seed", "0", "--out", str(path), "--overwrite", "--quiet"]  # fmt: skip
    cli.main(args=arguments, prog_name="rdnet", standalone_mode=False)
    return path


def simulate_well(name: str, size: int, out: Path) -> Path:
    from rd_classic.observers import ClassicDatasetObserver
    from rd_classic.run import build_config, run_simulation

    F, k, _ = WELL_REGIMES[name]
    config = build_config("gray-scott", preset="theta", parameters={"F": F, "k": k, "Du": 2e-5, "Dv": 1e-5},
                          size=str(size), dx=2.0 / size, time=10000.0, snapshot_every=250, seed=1)  # fmt: skip
    path = out / f"well_{name}.nc"
    run_simulation(config, observers=[ClassicDatasetObserver(path, overwrite=True)], state=gaussian_clusters(size, seed=1))
    return path


def measure(path: Path) -> dict:
    from rdnet.analysis import pattern_summary, time_behaviour
    from rdnet.dataset import open_dataset

    with open_dataset(path) as dataset:
        v = dataset["v"].load()
    summary = pattern_summary(v.isel(time=-1), n_surrogates=39)
    behaviour = time_behaviour(v)
    return {
        "v": v.isel(time=-1),
        "regime": summary["regime"],
        "regime_reason": summary["regime_reason"],
        "time_behaviour": behaviour.label,
        "time_behaviour_reason": behaviour.reason,
        **{key: summary[key] for key in ("euler_number", "components", "components_low", "orientation_order",
                                         "stripe_fraction", "area_fraction", "dominant_wavelength")},
        "euler_fraction": summary["regime_evidence"]["euler_fraction"],
        "decorrelation_time": behaviour.evidence["decorrelation_time"],
        "speed": behaviour.evidence["speed"],
    }  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="two Pearson classes and two of The Well's regimes (same 128² grids: coarser ones under-resolve the patterns)")
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)

    from rd_classic.presets import get_preset, preset_names

    size = 128  # the sources' resolution: on 64² The Well's dx = 1/32 under-resolves its patterns
    pearson = QUICK["pearson"] if options.quick else [n for n in preset_names("gray-scott") if n in PEARSON_EXPECTED]
    well = QUICK["well"] if options.quick else list(WELL_REGIMES)
    runs = []
    for name in well:
        F, k, expected = WELL_REGIMES[name]
        runs.append((f"Well: {name}", F, k, expected, simulate_well(name, size, options.out)))
    for name in pearson:
        parameters = get_preset("gray-scott", name).parameters
        runs.append((f"Pearson: {name}", parameters["F"], parameters["k"], PEARSON_EXPECTED[name],
                     simulate_pearson(name, size, options.out)))  # fmt: skip
    summary, panels = {}, []
    for title, F, k, expected, path in runs:
        measures = measure(path)
        panels.append((title, F, k, measures))
        summary[title] = {
            "F": F, "k": k, "expected_regime": expected, "matches": measures["regime"] == expected, "file": str(path),
            **{key: value for key, value in measures.items() if key != "v"},
        }  # fmt: skip

    from rdnet.plotting import new_figure, save_figure
    from rdnet.plotting.fields import draw_field

    columns = min(5, len(panels))
    rows = -(-len(panels) // columns)
    figure = new_figure(width=3.1 * columns + 0.4, height=3.5 * rows + 0.6)
    grid = np.atleast_2d(figure.subplots(rows, columns, squeeze=False))
    for axes, (title, F, k, m) in zip(grid.ravel(), panels):
        draw_field(axes, m["v"], title=f"{title} (F={F:g}, k={k:g})\n{m['regime']}, {m['time_behaviour']}", cmap="magma", colorbar=False)
        axes.title.set_fontsize(8)
        axes.tick_params(labelsize=6)
        axes.xaxis.label.set_fontsize(7)
        axes.yaxis.label.set_fontsize(7)
        note = (f"χ={m['euler_number']:.0f}  N+={m['components']:.0f}  N−={m['components_low']:.0f}\n"
                f"stripe frac.={m['stripe_fraction']:.2f}  order={m['orientation_order']:.2f}")  # fmt: skip
        axes.text(0.02, 0.02, note, transform=axes.transAxes, fontsize=6, color="white", va="bottom",
                  bbox={"facecolor": "black", "alpha": 0.55, "pad": 1.5, "edgecolor": "none"})  # fmt: skip
    for axes in grid.ravel()[len(panels):]:
        axes.set_visible(False)
    figure.suptitle(f"Gray-Scott regimes simulated by rdnet, v at t = 10000 ({size}² grid), labelled by rdnet.analysis", fontsize=10)
    figure_path = save_figure(figure, options.out / "regime_gallery.png")
    (options.out / "regime_gallery.json").write_text(json.dumps(summary, indent=2, default=float) + "\n")
    matched = sum(row["matches"] for row in summary.values())
    print(f"figure: {figure_path}; {matched} of {len(summary)} labels match the expected regime")
    return summary


if __name__ == "__main__":
    main()
