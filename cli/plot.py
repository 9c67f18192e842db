"""``rdnet plot``: field images, hidden-filter mosaics and training series of a run."""

from __future__ import annotations

from pathlib import Path

import click

from rdnet.plotting.dataset import KINDS

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")


def sibling(path: Path, tag: str) -> Path:
    """``FIG.png`` -> ``FIG-<tag>.png``."""
    return path.with_name(f"{path.stem}-{tag}{path.suffix}")


def plot_file(
    file: str | Path,
    out: str | Path,
    *,
    variables: list[str] | None = None,
    time_index: int | None = None,
    kind: str = "auto",
    overwrite: bool = True,
    z_index: int | None = None,
) -> list[Path]:
    """Draw the figures of one dataset; return the paths written.

    ``kind="auto"`` writes the field images to ``out`` and, for a network run, the
    filter mosaic (``out`` with ``-filters``) when d_in is square and the series
    (``-series``) when the file holds any. Every figure is drawn before any is
    written; each is written under a temporary name and renamed when complete.

    Parameters
    ----------
    overwrite : bool, optional
        Replace existing figures (the default of this Python function; the command
        ``rdnet plot`` refuses them unless given ``--overwrite``). False: ConfigError
        naming the first existing file, before anything is written.
    time_index : int, optional
        Snapshot index (negative counts from the end); default the last (for a
        spectra file: several snapshots).
    z_index : int, optional
        The ``(y, x)`` plane drawn of 3-D fields (negative counts from the end); default
        the mid-plane ``nz // 2``. Each panel's title names the plane.

    Raises
    ------
    ConfigError
        A figure file is the input file, or exists and ``overwrite`` is False; or
        ``z_index`` is given but no field drawn is 3-D, or is out of range.
    """
    from rdnet.dataset import open_dataset
    from rdnet.plotting import save_figure
    from rdnet.plotting.dataset import dataset_figures

    from rdnet.cli.paths import check_new_output

    out = Path(out)
    dataset = open_dataset(file)
    try:
        drawn = dataset_figures(dataset, Path(file).name, variables=variables, time_index=time_index, kind=kind,
                                z_index=z_index)  # fmt: skip
        figures = [(sibling(out, tag) if tag else out, figure) for tag, figure in drawn]
    finally:
        dataset.close()
    for path, _ in figures:
        check_new_output(path, overwrite=overwrite, inputs=[file])
    return [save_figure(figure, path) for path, figure in figures]


@click.command(name="plot")
@click.argument("file", type=click.Path())
@click.option("--var", "variables", multiple=True, metavar="NAME", help="Field(s) to draw (default: u and v). Repeatable.")
@click.option("--time", "time_index", metavar="INDEX", type=int, default=None,
              help="Snapshot index (negative counts from the end). Default: the last; for a spectra file, several.")
@click.option(
    "--kind",
    type=click.Choice(KINDS),
    default="auto",
    show_default=True,
    help="auto: field images to --out, plus FIG-filters / FIG-series beside it for network runs.",
)
@click.option("--z-index", "z_index", metavar="INDEX", type=int, default=None,
              help="For 3-D fields: the z index of the (y, x) plane drawn (negative counts from the end). "
                   "Default: the mid-plane nz//2. Each panel's title names the plane.")
@click.option("--out", required=True, metavar="FIG.png", type=click.Path(dir_okay=False), help="Figure file (.png, .pdf, .svg).")
@click.option("--overwrite", is_flag=True, help="Replace existing figure files (FIG and its -filters/-series siblings).")
def command(file, variables, time_index, kind, z_index, out, overwrite):
    """Draw a run: field images, hidden-filter mosaics and training series.

    Field images have physical axes and labelled colour bars. For network runs, with
    --kind auto, the hidden filters u_j are also drawn as images when the run stored u in
    full and d_in is a square (FIG-filters.png, the first and the chosen snapshot) and the training series
    (FIG-series.png: losses; distance from initialisation with the Theorem 1/2 bounds
    when the file holds them).

    A 3-D field (dims time, z, y, x) is drawn as one (y, x) plane: the mid-plane
    z = nz//2, or the plane --z-index chooses; each panel's title names it by its
    z coordinate and index.

    Files of the solvable GAN (gan-dynamics) and of sweeps get their own figures;
    a spectra file written by `rdnet analyze --out` is drawn as its spectra over time,
    and a modes file of `rdnet stability --network --out` as its growth rates and
    leading modes (its fields with --var).
    In Python: ds.rd.plot(...) returns the --out figure of a dataset.
    Existing figures are refused unless --overwrite is given; each figure appears
    under its name only when complete.

    \b
    Examples:
      rdnet plot gs.nc --out gs.png
      rdnet plot gs.nc --var v --time 0 --out initial.png
      rdnet plot gs3d.nc --var v --z-index 0 --out bottom.png   # a 3-D run's z = 0 plane
      rdnet plot adv.nc --out adv.png        # adv.png, adv-series.png (+ adv-filters.png: --save full, digits)
      rdnet plot adv.nc --kind series --out losses.pdf
      rdnet plot spectra.nc --out spectra.png    # from rdnet analyze --out spectra.nc
      rdnet plot modes.nc --out stability.png    # from rdnet stability --network --out
    """
    from rdnet.cli.paths import existing_input, output_with_suffix

    existing_input(file)
    out_path = output_with_suffix(out, FIGURE_SUFFIXES, "file", overwrite=overwrite, inputs=[file])
    for path in plot_file(file, out_path, variables=list(variables), time_index=time_index, kind=kind,
                          overwrite=overwrite, z_index=z_index):  # fmt: skip
        click.echo(f"figure: {path}")
