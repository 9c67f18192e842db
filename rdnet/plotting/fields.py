"""A spatial field as an image: physical axes, a labelled colour bar, one panel per field."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rdnet.plotting import axis_label, new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

__all__ = ["reduce_components", "image_extent", "coordinate_label", "field_label", "draw_field", "fields_figure"]


def reduce_components(field: xr.DataArray) -> xr.DataArray:
    """A 2-D view of a field: the Euclidean norm over any dims before ``(y, x)``.

    A network morphogen ``u`` has dims ``(feature, y, x)``; its image is the norm
    ``‖u_j‖`` of each neuron's weight vector. Dims of length one are dropped (the signed
    value is kept), so a field that is 2-D in effect is returned unchanged.

    Parameters
    ----------
    field : xarray.DataArray
        Dims ``(..., y, x)`` (no ``time``).

    Returns
    -------
    xarray.DataArray
        Dims ``(y, x)``; ``long_name`` says which dims were reduced.
    """
    extra = [dim for dim in field.dims if dim not in ("y", "x")]
    single = [dim for dim in extra if field.sizes[dim] == 1]
    if single:  # one component (a network with d_out = 1): keep its sign
        field = field.isel({dim: 0 for dim in single}, drop=True)
        extra = [dim for dim in extra if dim not in single]
    if not extra:
        return field.transpose("y", "x")
    reduced = np.sqrt((field**2).sum(extra))
    name = field.attrs.get("long_name", field.name or "field")
    reduced.attrs = {"long_name": f"‖{name}‖ over {', '.join(map(str, extra))}", "units": field.attrs.get("units", "1")}
    reduced.name = field.name
    return reduced.transpose("y", "x")


def image_extent(field: xr.DataArray) -> tuple[float, float, float, float]:
    """``(left, right, bottom, top)`` of the cell edges, from the ``x`` and ``y`` coordinates.

    Parameters
    ----------
    field : xarray.DataArray
        Dims ``(y, x)``; grid indices stand in for missing coordinates.

    Returns
    -------
    tuple of float
    """

    def edges(dim: str) -> tuple[float, float]:
        if dim in field.coords:
            values = np.asarray(field[dim].values, dtype=float)
        else:
            values = np.arange(field.sizes[dim], dtype=float)
        step = values[1] - values[0] if values.size > 1 else 1.0
        return values[0] - step / 2, values[-1] + step / 2

    left, right = edges("x")
    bottom, top = edges("y")
    return left, right, bottom, top


def coordinate_label(field: xr.DataArray, dim: str) -> str:
    """Axis label of a grid dim: its ``long_name`` (or the dim name) and units."""
    if dim in field.coords:
        attrs = field[dim].attrs
        name = str(attrs.get("long_name", dim))
        if name.split(" ")[0] != dim:
            name = f"{dim} ({name})"
        return axis_label(name, attrs.get("units"))
    return f"{dim} (grid index)"


def field_label(field: xr.DataArray) -> str:
    """Colour-bar label of a field: its ``long_name`` and units."""
    return axis_label(str(field.attrs.get("long_name", field.name or "value")), field.attrs.get("units"))


def draw_field(
    axes: Axes,
    field: xr.DataArray,
    *,
    title: str | None = None,
    cmap: str = "viridis",
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
) -> AxesImage:
    """Draw one field as an image with physical axes and (by default) a colour bar.

    Parameters
    ----------
    axes : matplotlib.axes.Axes
        Where to draw.
    field : xarray.DataArray
        Dims ``(..., y, x)``; extra dims are reduced with :func:`reduce_components`.
    title : str, optional
        Panel title.
    cmap : str, optional
        Colour map name.
    vmin, vmax : float, optional
        Colour range (default the field's range).
    colorbar : bool, optional
        Add a colour bar labelled with the field's long name and units.

    Returns
    -------
    matplotlib.image.AxesImage or matplotlib.lines.Line2D
        The image; for a 1-D field (one point along y or x) the profile drawn as a line
        against the other coordinate, the value on the vertical axis (no colour bar).
    """
    plane = reduce_components(field)
    if 1 in (plane.sizes["y"], plane.sizes["x"]):
        return _draw_profile(axes, plane, title=title, vmin=vmin, vmax=vmax)
    values = np.asarray(plane.transpose("y", "x").values, dtype=float)
    image = axes.imshow(
        values,
        origin="lower",
        extent=image_extent(plane),
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        interpolation="nearest",
        aspect="equal",
    )
    axes.set_xlabel(coordinate_label(plane, "x"))
    axes.set_ylabel(coordinate_label(plane, "y"))
    if title:
        axes.set_title(title, fontsize=10)
    if colorbar:
        bar = axes.figure.colorbar(image, ax=axes, shrink=0.85)
        bar.set_label(field_label(plane))
    return image


def _draw_profile(axes: Axes, plane: xr.DataArray, *, title, vmin, vmax):
    """A 1-D field as a line: value against the coordinate of its long dim."""
    dim = "x" if plane.sizes["y"] == 1 else "y"
    profile = plane.squeeze("y" if dim == "x" else "x")
    (line,) = axes.plot(np.asarray(profile[dim].values, dtype=float), np.asarray(profile.values, dtype=float), linewidth=1.2)
    axes.set_xlabel(coordinate_label(plane, dim))
    axes.set_ylabel(field_label(plane))
    if vmin is not None or vmax is not None:
        axes.set_ylim(vmin, vmax)
    axes.grid(True, alpha=0.3)
    if title:
        axes.set_title(title, fontsize=10)
    return line


def fields_figure(
    fields: Sequence[xr.DataArray],
    *,
    titles: Sequence[str] | None = None,
    suptitle: str | None = None,
    cmap: str = "viridis",
    panel_size: float = 3.6,
    shared_scale: bool = False,
) -> Figure:
    """One image panel per field, side by side (wrapping after three), each with its colour bar.

    Parameters
    ----------
    fields : sequence of xarray.DataArray
        Fields with dims ``(..., y, x)``.
    titles : sequence of str, optional
        Panel titles (default the variable names).
    suptitle : str, optional
        Figure title.
    cmap : str, optional
        Colour map.
    panel_size : float, optional
        Width of a panel in inches.
    shared_scale : bool, optional
        One colour range for every panel (fields of the same quantity).

    Returns
    -------
    matplotlib.figure.Figure
    """
    count = len(fields)
    columns = min(count, 3)
    rows = -(-count // columns)
    figure = new_figure(width=panel_size * columns + 0.6, height=panel_size * 0.95 * rows + (0.4 if suptitle else 0))
    grid = figure.subplots(rows, columns, squeeze=False)
    titles = list(titles) if titles is not None else [str(field.name) for field in fields]
    limits: dict[str, float] = {}
    if shared_scale:
        planes = [np.asarray(reduce_components(field).values, dtype=float) for field in fields]
        limits = {"vmin": min(float(np.nanmin(p)) for p in planes), "vmax": max(float(np.nanmax(p)) for p in planes)}
    for index, field in enumerate(fields):
        draw_field(grid[index // columns][index % columns], field, title=titles[index], cmap=cmap, **limits)
    for index in range(count, rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    if suptitle:
        figure.suptitle(suptitle, fontsize=11)
    return figure
