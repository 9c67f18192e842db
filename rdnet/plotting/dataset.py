"""The figures of an rdnet dataset of any system, as ``rdnet plot`` and ``ds.rd.plot`` draw them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rdnet.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["KINDS", "dataset_figures"]

#: what ``kind`` may ask for
KINDS = ("auto", "fields", "filters", "series")


def _refuse_unused_choices(name: str, system: str, kind: str, variables, time_index) -> None:
    """Refuse --var/--time where the figures drawn do not use them (rather than ignore them)."""
    unused = {"--var": bool(variables) and kind in ("series", "filters"), "--time": time_index is not None and kind == "series"}
    for option, given in unused.items():
        if given:
            what = "the series are drawn whole" if kind == "series" else "the filters are the hidden layer u's"
            raise ConfigError(f"{option} does not apply to --kind {kind} ({what})")
    if system in ("gan-dynamics", "sweep") and (variables or time_index is not None):
        option = "--var" if variables else "--time"
        raise ConfigError(f"{option} does not apply to a {system} file of {name} (its figures are drawn whole)")


def dataset_figures(dataset, name: str = "dataset", *, variables: Sequence[str] | None = None,
                    time_index: int | None = None, kind: str = "auto",
                    z_index: int | None = None) -> list[tuple[str, Figure]]:  # fmt: skip
    """The figures ``rdnet plot`` draws of a dataset, each with its tag (nothing written).

    Parameters
    ----------
    dataset : xarray.Dataset
        An rdnet dataset of any system.
    name : str
        The dataset's name in titles and messages (its file name).
    variables : sequence of str, optional
        Fields to draw (default: the roles u and v).
    time_index : int, optional
        Snapshot index (negative counts from the end); default the last (for a spectra
        dataset: several snapshots).
    kind : {"auto", "fields", "filters", "series"}
        ``"auto"``: the system's figures; for a run, the field images and, for a network
        run, the hidden-filter mosaic (when d_in is square) and the training series.
    z_index : int, optional
        The ``(y, x)`` plane drawn of 3-D fields; default the mid-plane ``nz // 2``.

    Returns
    -------
    list of (str, matplotlib.figure.Figure)
        ``""`` tags the main figure (``rdnet plot``'s ``--out``); ``"filters"``, ``"series"``
        and ``"weights"`` the others (written beside it as ``FIG-<tag>.png``). With a single
        ``kind`` other than auto, its figure carries the tag ``""``.

    Raises
    ------
    ConfigError
        ``z_index`` given where no 3-D field is drawn; a ``kind`` the dataset cannot give.
    """
    from rdnet.comparison import match_variables
    from rdnet.dataset.vocabulary import resolve_role, select_snapshot, spatial_variables

    if kind not in KINDS:
        raise ConfigError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    system = str(dataset.attrs.get("system", ""))
    if z_index is not None and (system in ("gan-dynamics", "sweep", "spectra") or kind not in ("auto", "fields")):
        raise ConfigError(f"--z-index chooses the plane of 3-D field images; {name} with --kind {kind} draws none")
    _refuse_unused_choices(name, system, kind, variables, time_index)
    if system == "gan-dynamics":
        from rdnet.plotting.gan_dynamics import overlaps_figure, weights_figure

        figures = [("", overlaps_figure(dataset))]
        if "discriminator_weights" in dataset:
            figures.append(("weights", weights_figure(dataset)))
        return figures
    if system == "sweep":
        from rdnet.plotting.phase_diagram import phase_diagram_figure

        return [("", phase_diagram_figure(dataset))]
    if system == "spectra":  # written by `rdnet analyze --out`: its spectra over time
        from rdnet.plotting.spectra import spectra_file_figure

        source = dataset.attrs.get("model", "")
        title = f"{name}: spectra from rdnet analyze" + (f" ({source})" if source else "")
        return [("", spectra_file_figure(dataset, variables=variables or None, time_index=time_index, title=title))]

    if system == "fit" and not variables and kind == "auto":  # rdnet fit --out
        from rdnet.dataset.convention import parameters_of
        from rdnet.plotting.fit import fit_figure

        target = parameters_of(dataset).get("target", "a target")
        return [("", fit_figure(dataset, title=f"{name}: {dataset.attrs.get('model', '')} fitted to {target}"))]
    if system == "prd-stability" and not variables and kind == "auto":  # rdnet stability --network --out
        from rdnet.plotting.stability import stability_figure

        source = Path(str(dataset.attrs.get("source", name))).name
        title = f"{source}: linear stability ({dataset.attrs.get('model', '')} run; critic: {dataset.attrs.get('critic', '')})"
        return [("", stability_figure(dataset, title=title))]

    header = f"{name}: {system or 'unknown system'}, {dataset.attrs.get('model', '')}".rstrip(", ")
    index_asked = -1 if time_index is None else time_index
    figures: list[tuple[str, Figure]] = []
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

        figures.append(("", fields_figure(fields, titles=titles, suptitle=header, z_index=z_index)))
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
            figures.append(("" if kind == "filters" else "filters", figure))
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
            figures.append(("" if kind == "series" else "series", figure))
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
