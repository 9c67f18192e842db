"""Compare the spectra of a Gray-Scott pattern and of a network trained with and without an adversary.

The two systems write the same dataset convention, so one set of tools measures both.
This script runs a Gray-Scott preset (``rdnet simulate``) and trains the two-layer network
twice from the same seed (``rdnet train``, supervised; ``rdnet train --adversary``), then
uses the library directly: :mod:`rdnet.comparison` matches the species/morphogens u, v and
the per-neuron distance from initialisation across the files, computes the radial spectra
with the surrogate band and the homogeneity metrics, and :mod:`rdnet.plotting.spectra`
draws them on one figure.

Usage::

    python examples/compare_spectra.py OUT_FOLDER [--quick] [--preset NAME]

Writes ``OUT_FOLDER/spectra.png``, ``OUT_FOLDER/metrics.csv`` and the three datasets.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def rdnet(*args: str) -> None:
    """Run an rdnet command as from the shell (``rdnet simulate ...``)."""
    from rdnet.cli.main import cli

    cli.main(args=list(args), prog_name="rdnet", standalone_mode=False)


def main(argv: list[str] | None = None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="output folder (created if missing)")
    parser.add_argument("--quick", action="store_true", help="small grids, few steps (seconds)")
    parser.add_argument("--preset", default="theta", help="Gray-Scott preset (default theta: labyrinth stripes)")
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    options.out.mkdir(parents=True, exist_ok=True)
    size, grid, steps, samples = ("64", "12x12", "100", "128") if options.quick else ("128", "24x24", "400", "256")

    files = {name: options.out / f"{name}.nc" for name in ("gray_scott", "supervised", "adversarial")}
    common = ["--seed", str(options.seed), "--overwrite", "--quiet"]
    rdnet("simulate", "--model", "gray-scott", "--preset", options.preset, "--size", size, "--out", str(files["gray_scott"]), *common)
    train = ["train", "--dataset", "digits", "--samples", samples, "--grid", grid, "--steps", steps, "--lr", "0.1", "--layout", "embedding", "--save", "full", *common]
    rdnet(*train, "--out", str(files["supervised"]))
    rdnet(*train, "--adversary", "--out", str(files["adversarial"]))

    from rdnet.comparison import build_entries, compute_spectra, format_table, match_variables, metrics_table
    from rdnet.dataset import open_dataset
    from rdnet.plotting import save_figure
    from rdnet.plotting.spectra import spectra_figure

    labels = list(files)
    datasets = [open_dataset(path) for path in files.values()]
    # the species v of every file, then the pattern the adversary leaves on the neuron grid:
    # Gray-Scott's v against each network's per-neuron distance from initialisation
    matches = match_variables(datasets, ["v", "v,displacement_u,displacement_u"], labels=labels)
    entries = build_entries(datasets, labels, matches, time_index=-1)
    for dataset in datasets:
        dataset.close()
    table = metrics_table(entries, n_surrogates=19 if options.quick else 99)
    spectra = compute_spectra(entries, n_surrogates=19 if options.quick else 99)
    figure_path = save_figure(spectra_figure(spectra, title="Gray-Scott vs network: radial spectra at the last snapshot"), options.out / "spectra.png")
    table.to_csv(options.out / "metrics.csv", index=False)
    print(format_table(table))
    print(f"figure: {figure_path}")
    print(f"table: {options.out / 'metrics.csv'}")
    return table


if __name__ == "__main__":
    main()
