"""``rdnet compare``: spectra and homogeneity metrics of several runs, side by side."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from rdnet.cli.options import note_surrogates_that_cannot_label
from rdnet.errors import ConfigError

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
TABLE_SUFFIXES = (".csv", ".json")


def run_comparison(
    files: list[str],
    *,
    variables: list[str] | None = None,
    time_index: int = -1,
    figure_path: Path | None = None,
    table_path: Path | None = None,
    n_surrogates: int = 39,
    seed: int = 0,
    normalize: bool = True,
    window: str | None = None,
    overwrite: bool = True,
):
    """Open the files, match variables, measure them; write the figure and table when asked.

    The figure and the table are written under temporary names and renamed when
    complete; neither may be one of the input files.

    Parameters
    ----------
    overwrite : bool, optional
        Replace an existing figure or table (the default of this Python function; the
        command ``rdnet compare`` refuses them unless given ``--overwrite``).

    Returns
    -------
    pandas.DataFrame
        The metrics table.
    """
    from rdnet.comparison import (
        build_entries,
        compute_spectra,
        match_variables,
        metrics_table,
        table_records,
        unique_labels,
    )
    from rdnet.dataset import open_dataset
    from rdnet.errors import DatasetError

    from rdnet.cli.paths import check_new_output

    for path, option in ((figure_path, "--out"), (table_path, "--table")):
        if path is not None:
            check_new_output(path, overwrite=overwrite, inputs=files, option=option)
    datasets = [open_dataset(path) for path in files]
    try:
        labels = unique_labels([Path(path).name for path in files])
        matches = match_variables(datasets, variables or None, labels=labels)
        entries = build_entries(datasets, labels, matches, time_index=time_index)
    finally:
        for dataset in datasets:
            dataset.close()
    for entry in entries:
        if max(entry.field.sizes["y"], entry.field.sizes["x"]) < 2:  # a 1-D run is measured along its line
            raise DatasetError(
                f"{entry.label}: '{entry.variable}' has {entry.field.sizes['y']} x {entry.field.sizes['x']} points; "
                "a spectrum needs at least 2 along y or x"
            )
    try:
        table = metrics_table(entries, n_surrogates=n_surrogates, seed=seed, periodic=window is None)
        spectra = None
        if figure_path is not None:
            spectra = compute_spectra(entries, normalize=normalize, n_surrogates=n_surrogates, seed=seed, window=window)
    except ValueError as error:  # the analysis refuses a field (NaN, too small): the file's fault
        raise DatasetError(f"cannot compare these fields: {error}") from None
    if figure_path is not None:
        from rdnet.plotting import save_figure
        from rdnet.plotting.spectra import spectra_figure

        times = dict.fromkeys(f"{entry.label} at t = {entry.time:g} (snapshot {entry.time_index})" for entry in entries)
        title = "Radial power spectra: " + "; ".join(times)
        save_figure(spectra_figure(spectra, title=title), figure_path)
    if table_path is not None:
        from rdnet.plotting import written_atomically

        with written_atomically(table_path) as temporary:
            if table_path.suffix.lower() == ".csv":
                table.to_csv(temporary, index=False)
            else:
                temporary.write_text(json.dumps(table_records(table), indent=2) + "\n")
    return table


@click.command(name="compare")
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--var",
    "variables",
    multiple=True,
    metavar="NAME",
    help="Role or variable to compare (u, v, reaction_u, ...; groups: species, reaction, diffusion, all), "
    "or one name per file joined by commas (v,u). Repeatable. Default: the species u and v.",
)
@click.option("--time", "time_index", metavar="INDEX", type=int, default=-1, show_default=True, help="Snapshot index in every file (-1: last).")
@click.option("--json", "as_json", is_flag=True, help="Print the metrics table as JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print the metrics table as CSV.")
@click.option("--out", "figure", metavar="FIG.png", type=click.Path(dir_okay=False), help="Write the spectra figure (.png, .pdf, .svg).")
@click.option("--table", "table", metavar="TABLE.csv|json", type=click.Path(dir_okay=False), help="Also save the metrics table (.csv or .json).")
@click.option("--surrogates", type=click.IntRange(min=1), default=39, show_default=True,
              help="Shuffled surrogates for the significance test and band (a regime other than homogeneous "
                   "needs p < 0.05, so 20 or more; with fewer a field above round-off is 'undetermined').")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the surrogates.")
@click.option("--absolute", is_flag=True, help="Plot absolute power instead of the fraction of each field's variance.")
@click.option("--window", type=click.Choice(["none", "hann"]), default="none", show_default=True, help="Window before the FFT (hann for non-periodic grids).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out figure or --table file.")
def command(files, variables, time_index, as_json, as_csv, figure, table, surrogates, seed, absolute, window, overwrite):
    """Compare the spatial patterns of several runs: spectra, metrics, morphology, regime.

    Variables of the same role are matched across the FILES automatically (the
    species/morphogens u, v; reaction_*, diffusion_*; a network run's *_norm stands in
    when it saved norms only, and then has no u: compare its displacement_u), so a Gray-Scott simulation and a trained network compare
    directly. The metrics of rdnet.analysis.pattern_summary are printed side by side:
    the spectral and homogeneity metrics, the morphology at each field's mean (area
    fraction, boundary length, Euler characteristic, components, orientation order)
    and the regime label; --out draws the radial spectra of every file on one figure, against the
    wavenumber in physical units and relative to each grid's Nyquist wavenumber, with
    the band of shuffled surrogates. Grids in different length units (m, cm, mm, µm)
    are converted to the first file's units; lengths in the table carry their units.

    \b
    Examples:
      rdnet compare gs.nc sup.nc adv.nc --out spectra.png
      rdnet compare sup.nc adv.nc --var displacement_u --var reaction_u --time -1
      rdnet compare gs.nc adv.nc --var v,displacement_u --csv > metrics.csv
      rdnet compare gs.nc adv.nc --json --table metrics.json
    """
    if as_json and as_csv:
        raise ConfigError("--json and --csv are exclusive: choose one output format")
    if overwrite and figure is None and table is None:
        raise ConfigError("--overwrite applies only with --out or --table")
    if absolute and figure is None:
        raise ConfigError("--absolute applies only with --out (it scales the spectra figure)")
    from rdnet.cli.paths import existing_input, output_with_suffix

    for path in files:
        existing_input(path)
    figure_path = table_path = None
    if figure is not None:
        figure_path = output_with_suffix(figure, FIGURE_SUFFIXES, "file", overwrite=overwrite, inputs=files, option="--out")
    if table is not None:
        table_path = output_with_suffix(table, TABLE_SUFFIXES, "file", overwrite=overwrite, inputs=files, option="--table")
    if not (as_json or as_csv):  # machine-readable output stays alone on the terminal
        note_surrogates_that_cannot_label(surrogates)
    result = run_comparison(
        list(files),
        variables=list(variables),
        time_index=time_index,
        figure_path=figure_path,
        table_path=table_path,
        n_surrogates=surrogates,
        seed=seed,
        normalize=not absolute,
        window=None if window == "none" else window,
        overwrite=overwrite,
    )
    from rdnet.comparison import format_table, table_records

    if as_json:
        click.echo(json.dumps(table_records(result), indent=2))
    elif as_csv:
        click.echo(result.to_csv(index=False), nl=False)
    else:
        click.echo(format_table(result))
    for label, path in (("figure", figure_path), ("table", table_path)):
        if path is not None:
            click.echo(f"{label}: {path}", err=as_json or as_csv)
    sys.stdout.flush()
