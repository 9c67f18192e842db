"""A spatial field as an image: physical axes, a labelled colour bar, one panel per field.

A 3-D field ``(..., z, y, x)`` is drawn as one ``(y, x)`` plane, the mid-plane ``z = nz // 2``
unless another index is chosen (:func:`z_slice`); the panel title names the plane drawn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from rdnet.errors import ConfigError
from rdnet.plotting import axis_label, new_figure

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

__all__ = [
    "z_slice",
    "plane_view",
    "reduce_components",
    "image_extent",
    "coordinate_label",
    "field_label",
    "draw_field",
    "fields_figure",
]


def z_slice(field: xr.DataArray, z_index: int | None = None) -> tuple[xr.DataArray, str]:
    """The ``(y, x)`` plane of a 3-D field at one index along ``z``, and a caption naming it.

    Parameters
    ----------
    field : xarray.DataArray
        Dims ``(..., z, y, x)`` (a 3-D field) or ``(..., y, x)`` (returned unchanged); may
        be lazy (only the plane is selected, nothing is loaded).
    z_index : int, optional
        Index along ``z`` (negative counts from the end). Default: the mid-plane
        ``nz // 2``.

    Returns
    -------
    plane : xarray.DataArray
        The field without its ``z`` dim (its ``z`` coordinate kept as a scalar).
    caption : str
        ``"z = 7.5 mm (index 8 of 16)"``: the plane's coordinate and index; ``""`` for a
        field without ``z``.

    Raises
    ------
    ConfigError
        ``z_index`` is outside ``[-nz, nz)``, or is given for a field without ``z``.
    """
    if "z" not in field.dims:
        if z_index is not None:
            raise ConfigError(
                f"a z index ({z_index}) applies to 3-D fields (dims ..., z, y, x); "
                f"{field.name or 'this field'!s} has dims {tuple(field.dims)}"
            )
        return field, ""
    count = field.sizes["z"]
    index = count // 2 if z_index is None else int(z_index)
    if not -count <= index < count:
        raise ConfigError(f"z index {index} is out of range: {field.name or 'the field'!s} has {count} points along z "
                          f"(use 0..{count - 1}, or negative counts from the end)")  # fmt: skip
    index %= count
    plane = field.isel(z=index)
    if "z" in field.coords:
        units = field["z"].attrs.get("units", "")
        unit_text = "" if units in ("", "1") else f" {units}"
        caption = f"z = {float(plane['z']):.5g}{unit_text} (index {index} of {count})"
    else:
        caption = f"z index {index} of {count}"
    return plane, caption


def plane_view(field: xr.DataArray, z_index: int | None = None) -> tuple[xr.DataArray, str]:
    """What a figure draws of a field: its ``(y, x)`` plane and the caption of the z slice.

    :func:`z_slice` (a 3-D field's plane; the mid-plane by default), then
    :func:`reduce_components`.

    Parameters
    ----------
    field : xarray.DataArray
        Dims ``(..., y, x)`` or ``(..., z, y, x)``, without ``time``.
    z_index : int, optional
        As in :func:`z_slice`.

    Returns
    -------
    plane : xarray.DataArray
        Dims ``(y, x)``.
    caption : str
        As in :func:`z_slice` (``""`` for a 2-D field).
    """
    plane, caption = z_slice(field, z_index)
    return reduce_components(plane), caption


def reduce_components(field: xr.DataArray) -> xr.DataArray:
    """A 2-D view of a 2-D field: the Euclidean norm over any dims before ``(y, x)``.

    A network morphogen ``u`` has dims ``(feature, y, x)``; its image is the norm
    ``‖u_j‖`` of each neuron's weight vector. Dims of length one are dropped (the signed
    value is kept), so a field that is 2-D in effect is returned unchanged.

    Parameters
    ----------
    field : xarray.DataArray
        Dims ``(..., y, x)`` (no ``time``; a 3-D field's plane from :func:`z_slice`).

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
    z_index: int | None = None,
) -> AxesImage:
    """Draw one field as an image with physical axes and (by default) a colour bar.

    Parameters
    ----------
    axes : matplotlib.axes.Axes
        Where to draw.
    field : xarray.DataArray
        Dims ``(..., y, x)`` or ``(..., z, y, x)``; a 3-D field is drawn as its plane at
        ``z_index`` and extra dims are reduced (:func:`plane_view`).
    title : str, optional
        Panel title; for a 3-D field the plane drawn is added on a second line
        (``z = 7.5 (index 8 of 16)``).
    cmap : str, optional
        Colour map name.
    vmin, vmax : float, optional
        Colour range (default the field's range).
    colorbar : bool, optional
        Add a colour bar labelled with the field's long name and units.
    z_index : int, optional
        The plane of a 3-D field (default the mid-plane ``nz // 2``; see :func:`z_slice`).

    Returns
    -------
    matplotlib.image.AxesImage or matplotlib.lines.Line2D
        The image; for a 1-D field (one point along y or x) the profile drawn as a line
        against the other coordinate, the value on the vertical axis (no colour bar).
    """
    plane, caption = plane_view(field, z_index)
    if caption:
        title = f"{title}\n{caption}" if title else caption
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
    z_index: int | None = None,
) -> Figure:
    """One image panel per field, side by side (wrapping after three), each with its colour bar.

    Parameters
    ----------
    fields : sequence of xarray.DataArray
        Fields with dims ``(..., y, x)``, or ``(..., z, y, x)`` drawn as the plane at
        ``z_index`` (named in the panel's title).
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
    z_index : int, optional
        The plane drawn of each 3-D field (default its mid-plane; see :func:`z_slice`);
        2-D fields beside them are drawn whole. Refused when no field is 3-D.

    Returns
    -------
    matplotlib.figure.Figure
    """
    count = len(fields)
    columns = min(count, 3)
    rows = -(-count // columns)
    volumes = [field for field in fields if "z" in field.dims]
    if z_index is not None and not volumes:
        z_slice(fields[0], z_index)  # refuses: a z index needs a 3-D field
    caption_height = 0.25 * rows if volumes else 0.0  # the second title line naming the plane
    figure = new_figure(
        width=panel_size * columns + 0.6, height=panel_size * 0.95 * rows + caption_height + (0.4 if suptitle else 0)
    )
    grid = figure.subplots(rows, columns, squeeze=False)
    titles = list(titles) if titles is not None else [str(field.name) for field in fields]
    limits: dict[str, float] = {}
    if shared_scale:
        planes = [np.asarray(plane_view(field, _own_index(field, z_index))[0].values, dtype=float) for field in fields]
        limits = {"vmin": min(float(np.nanmin(p)) for p in planes), "vmax": max(float(np.nanmax(p)) for p in planes)}
    for index, field in enumerate(fields):
        panel = grid[index // columns][index % columns]
        draw_field(panel, field, title=titles[index], cmap=cmap, z_index=_own_index(field, z_index), **limits)
    for index in range(count, rows * columns):
        grid[index // columns][index % columns].set_visible(False)
    if suptitle:
        figure.suptitle(suptitle, fontsize=11)
    return figure


def _own_index(field: xr.DataArray, z_index: int | None) -> int | None:
    """The z index for one panel of a figure: the chosen one for a 3-D field, none for a 2-D field."""
    return z_index if "z" in field.dims else None
