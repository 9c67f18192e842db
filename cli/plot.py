"""``rdnet plot``: field images, hidden-filter mosaics and training series of a run."""

from __future__ import annotations

from pathlib import Path

import click

from rdnet.errors import ConfigError

FIGURE_SUFFIXES = (".png", ".pdf", ".svg")
KINDS = ("auto", "fields", "filters", "series")


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

    from rdnet.cli.paths import check_new_output

    out = Path(out)
    dataset = open_dataset(file)
    try:
        figures = _draw(dataset, Path(file).name, out, variables=variables, time_index=time_index, kind=kind,
                        z_index=z_index)  # fmt: skip
    finally:
        dataset.close()
    for path, _ in figures:
        check_new_output(path, overwrite=overwrite, inputs=[file])
    return [save_figure(figure, path) for path, figure in figures]


def _draw(dataset, name: str, out: Path, *, variables, time_index, kind, z_index=None) -> list[tuple[Path, object]]:
    """The figures of a dataset and the paths they go to (nothing written yet)."""
    from rdnet.comparison import match_variables
    from rdnet.dataset.vocabulary import resolve_role, select_snapshot, spatial_variables

    system = str(dataset.attrs.get("system", ""))
    if z_index is not None and (system in ("gan-dynamics", "sweep", "spectra") or kind not in ("auto", "fields")):
        raise ConfigError(f"--z-index chooses the plane of 3-D field images; {name} with --kind {kind} draws none")
    if system == "gan-dynamics":
        from rdnet.plotting.gan_dynamics import overlaps_figure, weights_figure

        figures = [(out, overlaps_figure(dataset))]
        if "discriminator_weights" in dataset:
            figures.append((sibling(out, "weights"), weights_figure(dataset)))
        return figures
    if system == "sweep":
        from rdnet.plotting.phase_diagram import phase_diagram_figure

        return [(out, phase_diagram_figure(dataset))]
    if system == "spectra":  # written by `rdnet analyze --out`: its spectra over time
        from rdnet.plotting.spectra import spectra_file_figure

        source = dataset.attrs.get("model", "")
        title = f"{name}: spectra from rdnet analyze" + (f" ({source})" if source else "")
        return [(out, spectra_file_figure(dataset, variables=variables or None, time_index=time_index, title=title))]

    if system == "prd-stability" and not variables and kind == "auto":  # rdnet stability --network --out
        from rdnet.plotting.stability import stability_figure

        source = Path(str(dataset.attrs.get("source", name))).name
        title = f"{source}: linear stability ({dataset.attrs.get('model', '')} run; critic: {dataset.attrs.get('critic', '')})"
        return [(out, stability_figure(dataset, title=title))]

    header = f"{name}: {system or 'unknown system'}, {dataset.attrs.get('model', '')}".rstrip(", ")
    index_asked = -1 if time_index is None else time_index
    figures: list[tuple[Path, object]] = []
    if kind in ("auto", "fields"):
        matches = match_variables([dataset], variables or None, labels=[name])
        names = list(dict.fromkeys(n for match in matches for n in match.names))
        if z_index is not None and not any("z" in dataset[variable].dims for variable in names):
            raise ConfigError(f"--z-index applies to 3-D fields (dims ..., z, y, x); the fields drawn from {name} "
                              f"({', '.join(names)}) are 2-D")  # fmt: skip
        fields, titles = [], []
        for variable in names:
            snapshot, index = select_snapshot(dataset[variable], index_asked, label=name)
            fields.append(snapshot)
            titles.append(_snapshot_title(dataset, variable, index))
        from rdnet.plotting.fields import fields_figure

        figures.append((out, fields_figure(fields, titles=titles, suptitle=header, z_index=z_index)))
    if kind in ("auto", "filters"):
        u_name = resolve_role(dataset, "u")
        u = dataset[u_name] if u_name == "u" else None
        component = _component_dim(u) if u is not None else None
        from rdnet.plotting.network import filter_mosaic_figure, square_side

        if component is not None and square_side(u.sizes[component]) is not None:
            final, index = select_snapshot(u, index_asked, label=name)
            initial, _ = select_snapshot(u, 0, label=name)
            side = square_side(u.sizes[component])
            panels = [(_snapshot_title(dataset, "u", 0), initial), (_snapshot_title(dataset, "u", index), final)]
            figure = filter_mosaic_figure(
                panels,
                component_dim=component,
                title=f"{header}: hidden filters u_j (d_in = {side}×{side})",
            )
            figures.append((out if kind == "filters" else sibling(out, "filters"), figure))
        elif kind == "filters":
            raise ConfigError(
                f"{name} has no full hidden-layer tensor u with a square input dimension "
                f"(spatial variables: {', '.join(spatial_variables(dataset))}); "
                "train with --save full on square inputs (digits: 8x8, idx: 28x28)"
            )
    if kind in ("auto", "series"):
        from rdnet.plotting.network import series_figure

        figure = series_figure(dataset, title=f"{header}: training series")
        if figure is not None:
            figures.append((out if kind == "series" else sibling(out, "series"), figure))
        elif kind == "series":
            raise ConfigError(f"{name} holds no 1-D series (losses, distances) to plot")
    return figures


def _component_dim(variable) -> str | None:
    extra = [dim for dim in variable.dims if dim not in ("time", "z", "y", "x")]
    return extra[0] if len(extra) == 1 else None


def _snapshot_title(dataset, variable: str, index: int) -> str:
    from rdnet.dataset.cf import model_time_units

    if "time" in dataset[variable].dims and "time" in dataset.coords:
        time = dataset["time"]
        units = model_time_units(time.attrs)
        unit_text = f" {units}" if units else ""
        return f"{variable} at t = {float(time.values[index]):.5g}{unit_text} (snapshot {index})"
    return variable


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
    --kind auto, the hidden filters u_j are also drawn as images when d_in is a square
    (FIG-filters.png, the first and the chosen snapshot) and the training series
    (FIG-series.png: losses; distance from initialisation with the Theorem 1/2 bounds
    when the file holds them).

    A 3-D field (dims time, z, y, x) is drawn as one (y, x) plane: the mid-plane
    z = nz//2, or the plane --z-index chooses; each panel's title names it by its
    z coordinate and index.

    Files of the solvable GAN (gan-dynamics) and of sweeps get their own figures;
    a spectra file written by `rdnet analyze --out` is drawn as its spectra over time,
    and a modes file of `rdnet stability --network --out` as its growth rates and
    leading modes (its fields with --var).
    Existing figures are refused unless --overwrite is given; each figure appears
    under its name only when complete.

    \b
    Examples:
      rdnet plot gs.nc --out gs.png
      rdnet plot gs.nc --var v --time 0 --out initial.png
      rdnet plot gs3d.nc --var v --z-index 0 --out bottom.png   # a 3-D run's z = 0 plane
      rdnet plot adv.nc --out adv.png        # adv.png, adv-filters.png, adv-series.png
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
