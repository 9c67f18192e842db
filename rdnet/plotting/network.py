"""Figures of network (PRD) runs: hidden-filter mosaics and training time series.

- :func:`filter_mosaic_figure` shows the hidden-layer morphogens u_j (rows of U) as
  images when the input dimension d_in is a perfect square (28 × 28 for MNIST, 8 × 8
  for scikit-learn's digits), laid out as the neurons sit on their grid — the paper's
  Figs. 3, 7 and 8.
- :func:`series_figure` draws the per-step series a run stores: the losses, and the
  distance from initialisation with the Theorem 1 / Theorem 2 bound curves overlaid
  when the file holds them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import axis_label, new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.figure import Figure

__all__ = [
    "square_side",
    "mosaic_indices",
    "filter_mosaic_figure",
    "classify_series",
    "series_variables",
    "series_figure",
    "series_scale",
    "SERIES_PANELS",
]

_CRITIC_WORDS = ("critic", "penalty", "wasserstein")
_DISTANCE_WORDS = ("distance", "displacement", "from_init")
_BOUND_WORDS = ("bound", "theorem")


def square_side(size: int) -> int | None:
    """The side s with s² = size, or None when ``size`` is not a perfect square."""
    side = math.isqrt(int(size))
    return side if side * side == size and side > 1 else None


def mosaic_indices(count: int, shown: int) -> np.ndarray:
    """``shown`` evenly spread indices out of ``count`` (all of them when fewer)."""
    if count <= shown:
        return np.arange(count)
    return np.unique(np.round(np.linspace(0, count - 1, shown)).astype(int))


def filter_mosaic_figure(
    panels: Sequence[tuple[str, xr.DataArray]],
    *,
    component_dim: str = "feature",
    max_side: int = 8,
    title: str | None = None,
) -> Figure:
    """Mosaics of hidden filters u_j as images, one mosaic per panel, sharing a colour scale.

    Parameters
    ----------
    panels : sequence of (str, xarray.DataArray)
        Titles and snapshots of ``u`` with dims ``(feature, y, x)`` (the neuron grid is
        ``(y, x)``; ``feature`` has length d_in, a perfect square).
    component_dim : str, optional
        Name of the input-feature dim.
    max_side : int, optional
        At most ``max_side`` × ``max_side`` neurons per mosaic, evenly spread over the
        neuron grid.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        When d_in is not a perfect square.
    """
    first = panels[0][1]
    d_in = first.sizes[component_dim]
    side = square_side(d_in)
    if side is None:
        raise ValueError(f"d_in = {d_in} is not a perfect square: filters cannot be shown as images")
    rows = mosaic_indices(first.sizes["y"], max_side)
    columns = mosaic_indices(first.sizes["x"], max_side)
    mosaics = []
    for _, u in panels:
        block = np.asarray(u.transpose("y", "x", component_dim).values, dtype=float)[np.ix_(rows, columns)]
        image = block.reshape(len(rows), len(columns), side, side)
        gap = np.full((len(rows), len(columns), side, 1), np.nan)
        image = np.concatenate([image, gap], axis=3)
        gap = np.full((len(rows), len(columns), 1, side + 1), np.nan)
        image = np.concatenate([image, gap], axis=2)
        mosaics.append(image.transpose(0, 2, 1, 3).reshape(len(rows) * (side + 1), len(columns) * (side + 1))[:-1, :-1])
    limit = float(np.nanpercentile(np.abs(np.concatenate([m.ravel() for m in mosaics])), 99.5)) or 1.0

    import matplotlib as mpl

    colour_map = mpl.colormaps["RdBu_r"].with_extremes(bad="white")
    figure = new_figure(width=3.9 * len(panels) + 1.0, height=4.3 + (0.3 if title else 0.0))
    grid = figure.subplots(1, len(panels), squeeze=False)[0]
    image = None
    for axes, (panel_title, _), mosaic in zip(grid, panels, mosaics):
        image = axes.imshow(mosaic, cmap=colour_map, vmin=-limit, vmax=limit, interpolation="nearest")
        axes.set_xticks([])
        axes.set_yticks([])
        axes.set_title(panel_title, fontsize=10)
        axes.set_xlabel(f"neuron grid columns {columns[0]}..{columns[-1]} ({len(columns)} shown)", fontsize=8)
        axes.set_ylabel(f"neuron grid rows {rows[0]}..{rows[-1]} ({len(rows)} shown)", fontsize=8)
    units = first.attrs.get("units")
    bar = figure.colorbar(image, ax=list(grid), shrink=0.8)
    bar.set_label(axis_label(f"weight u_jk (each tile: u_j as {side}×{side} image)", units))
    if title:
        figure.suptitle(title, fontsize=11)
    return figure


def classify_series(name: str) -> str:
    """The panel of a series, from its name.

    Returns one of ``"loss"`` (generator losses), ``"critic"`` (critic loss, gradient
    penalty, Wasserstein estimate), ``"distance"`` (distance from initialisation of a
    whole layer, ‖U(t) − U(0)‖_F), ``"neuron_distance"`` (of single neurons,
    max_j ‖u_j(t) − u_j(0)‖), ``"residual"`` (‖z − y‖), ``"distance_bound"``,
    ``"neuron_bound"``, ``"residual_bound"``, ``"other_bound"`` (theorem bounds, drawn
    over the series they bound; eq. 38's bound of the diffusion goes with "other") or
    ``"other"``.
    """
    lowered = name.lower()
    if any(word in lowered for word in _BOUND_WORDS):
        if "residual" in lowered:
            return "residual_bound"
        if "diffusion" in lowered:  # eq. 38, over the per-neuron diffusion in "other"
            return "other_bound"
        return "neuron_bound" if "neuron" in lowered else "distance_bound"
    if any(word in lowered for word in _CRITIC_WORDS):
        return "critic"
    if any(word in lowered for word in _DISTANCE_WORDS):
        return "neuron_distance" if "neuron" in lowered else "distance"
    if "residual" in lowered:
        return "residual"
    if "loss" in lowered:
        return "loss"
    return "other"


#: panels of :func:`series_figure`: (title, y label, series kind, bound kind)
SERIES_PANELS = (
    ("losses", "loss", "loss", None),
    ("distance from initialisation, whole layers", "distance", "distance", "distance_bound"),
    ("largest distance of one neuron (Theorems 1/2 bound it)", "distance", "neuron_distance", "neuron_bound"),
    ("residual ‖z − y‖", "residual norm", "residual", "residual_bound"),
    ("critic", "value", "critic", None),
    ("other diagnostics", "value [see legend]", "other", "other_bound"),
)


def series_variables(dataset: xr.Dataset) -> dict[str, list[str]]:
    """The 1-D series of a dataset (not on the spatial grid) with data, grouped by :func:`classify_series`.

    Parameters
    ----------
    dataset : xarray.Dataset
        A run's dataset.

    Returns
    -------
    dict of str to list of str
        Every kind :func:`classify_series` returns, each with its series (all-NaN
        series, such as the critic's in a supervised run, are left out).
    """
    kinds = ("loss", "critic", "distance", "neuron_distance", "residual", "distance_bound", "neuron_bound", "residual_bound",
             "other", "other_bound")  # fmt: skip
    groups: dict[str, list[str]] = {kind: [] for kind in kinds}
    for name, variable in dataset.data_vars.items():
        if str(name).endswith("_time"):  # an axis mapping (step -> gradient-flow time), not a diagnostic
            continue
        if variable.ndim == 1 and variable.dtype.kind in "iuf" and variable.dims[0] not in ("y", "x", "time"):
            if np.any(np.isfinite(np.asarray(variable.values, dtype=float))):
                groups[classify_series(str(name))].append(str(name))
    return groups


def _legend_label(name: str, long_name: str, width: int = 36) -> str:
    """``long_name (name)``, wrapped onto lines of at most ``width`` characters."""
    import textwrap

    text = long_name if long_name == name else f"{long_name} ({name})"
    return "\n".join(textwrap.wrap(text, width=width)) or name


def series_scale(values: Sequence[np.ndarray]) -> tuple[str, dict]:
    """The y scale of a panel of series: ``(name, keyword arguments of set_yscale)``.

    Values spanning more than two decades (an early spike over a slow decay, series
    of very different size in one panel) get a log scale when none is negative, else
    a symmetric log scale whose linear part around zero reaches up to the smaller
    values (the power of ten below their 10th percentile in absolute value); other
    panels stay linear.

    Parameters
    ----------
    values : sequence of numpy.ndarray
        The series drawn in the panel.

    Returns
    -------
    tuple
        ``("linear", {})``, ``("log", {})`` or ``("symlog", {"linthresh": ...})``.
    """
    finite = np.concatenate([np.asarray(v, dtype=float)[np.isfinite(v)] for v in values]) if values else np.array([])
    magnitude = np.abs(finite[finite != 0])
    if magnitude.size == 0:
        return "linear", {}
    if not np.any(finite < 0):
        return ("log", {}) if float(magnitude.max()) > 100.0 * float(magnitude.min()) else ("linear", {})
    small = float(np.percentile(magnitude, 10))
    if float(magnitude.max()) <= 100.0 * small:
        return "linear", {}
    return "symlog", {"linthresh": float(10.0 ** np.floor(np.log10(small)))}


def _draw_series(axes, dataset: xr.Dataset, names: Sequence[str], *, dashed: bool = False) -> list[np.ndarray]:
    """Plot series against their dim; return the values drawn."""
    drawn = []
    for index, name in enumerate(names):
        variable = dataset[name]
        dim = variable.dims[0]
        x = np.asarray(dataset[dim].values if dim in dataset.coords else np.arange(variable.size), dtype=float)
        y = np.asarray(variable.values, dtype=float)
        label = _legend_label(name, str(variable.attrs.get("long_name", name)))
        style = {"linestyle": "--", "linewidth": 1.4, "color": ("0.2", "0.5", "0.35", "0.65")[index % 4]} if dashed else {"linewidth": 1.5}
        finite = np.isfinite(y)
        if not finite.all():  # a series recorded only at some steps (snapshots): join its points, mark them
            style.update(marker="o", markersize=3)
        axes.plot(x[finite], y[finite], label=label, **style)
        drawn.append(y[finite])
    return drawn


def _x_label(dataset: xr.Dataset, names: Sequence[str]) -> str:
    dim = dataset[names[0]].dims[0]
    if dim in dataset.coords:
        attrs = dataset[dim].attrs
        name = str(attrs.get("long_name", dim))
        return axis_label(name if name.split(" ")[0] == dim or dim in name else f"{dim} ({name})", attrs.get("units"))
    return str(dim)


def series_figure(dataset: xr.Dataset, *, title: str | None = None) -> Figure | None:
    """The training series of a run, one panel per kind (see :data:`SERIES_PANELS`).

    Losses; distance from initialisation with the Theorem 1 / 2 bounds dashed over it;
    the residual ‖z − y‖ with its bound; the critic's diagnostics; anything else.
    Panels without data (the critic of a supervised run) are left out; a panel whose
    values span more than two decades is on a log (or, with negative values,
    symmetric log) scale (:func:`series_scale`). Each legend sits to the right of its
    panel, so it never covers a curve.

    Parameters
    ----------
    dataset : xarray.Dataset
        A network run.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure or None
        None when the dataset holds no 1-D series.
    """
    groups = series_variables(dataset)
    panels = [panel for panel in SERIES_PANELS if groups[panel[2]] or (panel[3] and groups[panel[3]])]
    if not panels:
        return None
    columns = min(len(panels), 2)
    rows = -(-len(panels) // columns)
    figure = new_figure(width=7.6 * columns, height=3.5 * rows + (0.3 if title else 0.0))
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, (panel_title, y_label, kind, bound_kind) in enumerate(panels):
        axes = grid[index // columns][index % columns]
        names = groups[kind]
        bounds = groups[bound_kind] if bound_kind else []
        drawn = _draw_series(axes, dataset, names)
        if bounds:
            drawn += _draw_series(axes, dataset, bounds, dashed=True)
        scale, options = series_scale(drawn)
        axes.set_yscale(scale, **options)
        axes.set_title(panel_title + ("  (symmetric log scale)" if scale == "symlog" else ""), fontsize=10)
        axes.set_xlabel(_x_label(dataset, names or bounds))
        axes.set_ylabel(y_label)
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, borderaxespad=0.0)
    for index in range(len(panels), rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    if title:
        figure.suptitle(title, fontsize=11)
    return figure
