"""Phase diagrams of parameter sweeps (the ``summary.nc`` of ``rdnet sweep``).

With two swept parameters the figure is a map (for Gray-Scott the Pearson F-k
diagram: k across, F up): points with a pattern are coloured by their dominant
wavelength, points without a pattern are grey, failed points are red crosses.
With one swept parameter it shows the dominant wavelength and the surrogate-test
p-value against the parameter. A ``seed`` dimension is an ensemble: a point counts
as a pattern when most of its seeds show one, and wavelengths are averaged over
the seeds with a pattern.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rdnet.errors import ConfigError
from rdnet.plotting import axis_label, new_figure, save_figure

__all__ = ["plot_dataset", "phase_diagram_figure", "ENSEMBLE_DIMS"]

#: dims treated as repetitions of one parameter point rather than as axes
ENSEMBLE_DIMS = ("seed",)

_PATTERN_COLOUR_MAP = "viridis"
_NO_PATTERN_COLOUR = "0.80"
_FAILED_COLOUR = "tab:red"


def plot_dataset(ds, out_path: str | Path) -> Path:
    """Draw the phase diagram of a sweep summary and save it.

    Parameters
    ----------
    ds : xarray.Dataset
        A sweep summary (``system`` attribute ``"sweep"``) with variables ``pattern``
        (1 pattern, 0 no pattern, -1 failed), ``dominant_wavelength`` and
        ``surrogate_p_value`` over the swept dims.
    out_path : str or Path
        Figure file (.png, .pdf, .svg).

    Returns
    -------
    Path
        The written figure.

    Raises
    ------
    ConfigError
        The dataset is not a sweep summary, or has more than two swept
        parameters besides ``seed``.
    """
    return save_figure(phase_diagram_figure(ds), out_path)


def phase_diagram_figure(ds):
    """The phase diagram of a sweep summary as a matplotlib figure.

    Parameters
    ----------
    ds : xarray.Dataset
        See :func:`plot_dataset`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    missing = [name for name in ("pattern", "dominant_wavelength", "surrogate_p_value") if name not in ds]
    if missing:
        raise ConfigError(f"not a sweep summary: missing {', '.join(missing)}")
    dims = list(ds["pattern"].dims)
    ensemble = [dim for dim in dims if dim in ENSEMBLE_DIMS]
    axes_dims = [dim for dim in dims if dim not in ENSEMBLE_DIMS]
    if len(axes_dims) > 2:
        raise ConfigError(
            f"a phase diagram shows at most 2 swept parameters besides seed; this sweep has "
            f"{', '.join(axes_dims)}: select a slice with xarray first (e.g. ds.isel({axes_dims[-1]}=0))"
        )
    if not axes_dims:  # a pure ensemble: the seed becomes the axis
        axes_dims, ensemble = ensemble, []
    reduced = _reduce_ensemble(ds, ensemble)
    counts = {
        label: int((ds["pattern"] == value).sum()) for label, value in (("pattern", 1), ("no pattern", 0), ("failed", -1))
    }
    title = (
        f"{ds.attrs.get('model', 'sweep')}: "
        + ", ".join(f"{count} {label}" for label, count in counts.items())
        + (f" (points over {ds.sizes[ensemble[0]]} seeds, majority label)" if ensemble else "")
    )
    if len(axes_dims) == 2:
        figure = new_figure(width=7.0, height=5.6)
        _draw_map(figure.add_subplot(), reduced, axes_dims[1], axes_dims[0])
    else:
        figure = new_figure(width=7.0, height=6.0)
        top, bottom = figure.subplots(2, 1, sharex=True)
        _draw_line(top, bottom, reduced, axes_dims[0], ds if ensemble else None, ensemble)
    figure.suptitle(title, fontsize=10)
    return figure


def _reduce_ensemble(ds, ensemble: list[str]) -> dict[str, Any]:
    """Per-axis-point label, wavelength and p-value, combining the seeds of an ensemble."""
    pattern = ds["pattern"]
    wavelength = ds["dominant_wavelength"].where(pattern == 1)
    p_value = ds["surrogate_p_value"].where(pattern >= 0)
    if ensemble:
        ran = (pattern >= 0).sum(ensemble)
        fraction = (pattern == 1).sum(ensemble) / ran.where(ran > 0)
        label = (fraction >= 0.5).astype(int).where(ran > 0, -1).fillna(-1).astype(int)
        wavelength = wavelength.mean(ensemble)
        p_value = p_value.median(ensemble)
    else:
        label = pattern.astype(int)
    return {"label": label, "wavelength": wavelength, "p_value": p_value, "units": _units(ds)}


def _units(ds) -> str:
    """The wavelength's units; a dimensionless length (CF units "1") is named as the grid's length units."""
    units = str(ds["dominant_wavelength"].attrs.get("units", ""))
    return "grid length units" if units in ("", "1") else units


def _axis_values(array, dim: str) -> tuple[np.ndarray, list[str] | None]:
    """Plot positions of a dim's coordinate (index positions for non-numeric values)."""
    values = np.asarray(array[dim].values)
    if values.dtype.kind in "iuf":
        return values.astype(float), None
    return np.arange(values.size, dtype=float), [str(value) for value in values]


def _coordinate_label(array, dim: str) -> str:
    coordinate = array[dim]
    return axis_label(str(coordinate.attrs.get("option", dim)), coordinate.attrs.get("units"))


def _draw_map(axes, reduced: dict[str, Any], x_dim: str, y_dim: str) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    label = reduced["label"].transpose(y_dim, x_dim)
    wavelength = reduced["wavelength"].transpose(y_dim, x_dim)
    x, x_ticks = _axis_values(label, x_dim)
    y, y_ticks = _axis_values(label, y_dim)
    x_order, y_order = np.argsort(x), np.argsort(y)
    x, y = x[x_order], y[y_order]
    labels = np.asarray(label.values)[np.ix_(y_order, x_order)]
    lengths = np.asarray(wavelength.values, dtype=float)[np.ix_(y_order, x_order)]

    background = np.where(labels == 0, 1.0, np.nan)
    axes.pcolormesh(x, y, background, shading="nearest", cmap="Greys", vmin=0, vmax=5)
    coloured = np.ma.masked_invalid(np.where(labels == 1, lengths, np.nan))
    mesh = None
    if coloured.count():
        mesh = axes.pcolormesh(x, y, coloured, shading="nearest", cmap=_PATTERN_COLOUR_MAP)
        axes.figure.colorbar(mesh, ax=axes, label=axis_label("dominant wavelength", reduced["units"]))
    failed_y, failed_x = np.nonzero(labels < 0)
    if failed_x.size:
        axes.plot(x[failed_x], y[failed_y], "x", color=_FAILED_COLOUR, markersize=7, mew=1.5, linestyle="none")

    axes.set_xlabel(_coordinate_label(label, x_dim))
    axes.set_ylabel(_coordinate_label(label, y_dim))
    if x_ticks is not None:
        axes.set_xticks(x, [x_ticks[i] for i in x_order])
    if y_ticks is not None:
        axes.set_yticks(y, [y_ticks[i] for i in y_order])
    handles = [
        Patch(facecolor=_colour_of_map(), label="pattern (colour: dominant wavelength)"),
        Patch(facecolor=_NO_PATTERN_COLOUR, edgecolor="0.5", label="no pattern"),
        Line2D([], [], marker="x", color=_FAILED_COLOUR, linestyle="none", mew=1.5, label="failed"),
    ]
    axes.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3, fontsize=8, frameon=False)


def _colour_of_map():
    import matplotlib

    return matplotlib.colormaps[_PATTERN_COLOUR_MAP](0.6)


def _draw_line(top, bottom, reduced: dict[str, Any], dim: str, full, ensemble: list[str]) -> None:
    label = reduced["label"]
    x, ticks = _axis_values(label, dim)
    labels = np.asarray(label.values)
    lengths = np.asarray(reduced["wavelength"].values, dtype=float)
    p_values = np.asarray(reduced["p_value"].values, dtype=float)

    if full is not None:  # every seed's wavelength, faint, behind the ensemble mean
        per_seed = full["dominant_wavelength"].where(full["pattern"] == 1).transpose(dim, *ensemble)
        flat = np.asarray(per_seed.values, dtype=float).reshape(x.size, -1)
        for column in flat.T:
            top.plot(x, column, ".", color="0.6", markersize=4)
    pattern = labels == 1
    top.plot(x[pattern], lengths[pattern], "o-", color=_colour_of_map(), label="pattern")
    top.set_ylabel(axis_label("dominant wavelength", reduced["units"]))

    threshold = 0.05
    for value, name, style in ((1, "pattern", "o"), (0, "no pattern", "s")):
        chosen = labels == value
        colour = _colour_of_map() if value == 1 else "0.5"
        bottom.plot(x[chosen], np.clip(p_values[chosen], 1e-4, 1), style, color=colour, label=name, linestyle="none")
    failed = labels < 0
    if failed.any():
        bottom.plot(x[failed], np.ones(failed.sum()), "x", color=_FAILED_COLOUR, label="failed", mew=1.5, linestyle="none")
        top.plot(x[failed], np.full(failed.sum(), np.nanmin(lengths) if pattern.any() else 0.0), "x", color=_FAILED_COLOUR, mew=1.5, linestyle="none")
    bottom.axhline(threshold, color="0.3", linewidth=0.8, linestyle="--", label=f"p = {threshold}")
    bottom.set_yscale("log")
    bottom.set_ylim(5e-4, 1.5)
    bottom.set_ylabel("surrogate p-value")
    bottom.set_xlabel(_coordinate_label(label, dim))
    if ticks is not None:
        bottom.set_xticks(x, ticks)
    bottom.legend(fontsize=8, loc="lower right")
