"""Tests of rdnet.plotting: what the figures show is the data, labelled, without overlapping text."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr

from rdnet.plotting import axis_label, save_figure
from rdnet.plotting.animation import animate_field, movie_format
from rdnet.plotting.fields import draw_field, fields_figure, image_extent, reduce_components
from rdnet.plotting.network import classify_series, filter_mosaic_figure, series_figure, square_side
from test_comparison import classic_dataset, prd_dataset


def _drawn_texts(figure):
    """The texts a figure shows: titles, axis labels, legend entries, tick labels inside the view."""
    texts = [figure._suptitle] if figure._suptitle is not None else []
    for axes in figure.axes:
        texts += [axes.title, axes._left_title, axes._right_title, axes.xaxis.label, axes.yaxis.label]
        if axes.get_legend() is not None:
            texts += axes.get_legend().get_texts()
        for axis in (axes.xaxis, axes.yaxis):
            low, high = sorted(axis.get_view_interval())
            margin = 1e-9 * max(1.0, abs(high - low))
            for tick in axis.get_major_ticks():
                if low - margin <= tick.get_loc() <= high + margin:
                    texts += [tick.label1, tick.label2]
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


def overlapping_texts(figure, *, tolerance: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of shown texts whose boxes overlap by more than ``tolerance`` pixels."""
    renderer = figure.canvas.get_renderer()
    figure.draw(renderer)
    boxes = []
    for text in _drawn_texts(figure):
        box = text.get_window_extent(renderer)
        if box.width > 0 and box.height > 0:
            boxes.append((text.get_text(), box.padded(-tolerance)))
    return [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]


def test_axis_label_leaves_out_dimensionless_units():
    assert axis_label("x", "m") == "x [m]"
    assert axis_label("x", "1") == "x"


def test_reduce_components_is_the_euclidean_norm_and_keeps_a_single_component_signed(rng):
    values = rng.standard_normal((5, 4, 3))
    field = xr.DataArray(values, dims=("feature", "y", "x"), attrs={"long_name": "u", "units": "1"})
    np.testing.assert_allclose(reduce_components(field).values, np.linalg.norm(values, axis=0))
    single = xr.DataArray(values[:1], dims=("output", "y", "x"))
    np.testing.assert_array_equal(reduce_components(single).values, values[0])


def test_field_image_has_physical_extent_units_and_a_labelled_colour_bar(rng):
    dataset = classic_dataset(rng, size=32, spacing=0.5)
    field = dataset["v"].isel(time=-1)
    assert image_extent(field) == pytest.approx((-0.25, 15.75, -0.25, 15.75))
    figure = fields_figure([field, dataset["u"].isel(time=0)], titles=["v", "u"], suptitle="test")
    image_axes = [axes for axes in figure.axes if axes.images]
    assert len(image_axes) == 2
    np.testing.assert_array_equal(image_axes[0].images[0].get_array(), field.values)
    assert image_axes[0].get_xlabel().endswith("[m]") and image_axes[0].get_ylabel().endswith("[m]")
    colour_bars = [axes for axes in figure.axes if not axes.images]
    assert colour_bars[0].get_ylabel() == "activator concentration v"
    assert overlapping_texts(figure) == []


def test_filter_mosaic_places_each_neuron_filter_at_its_grid_cell():
    side, grid = 3, 4
    d_in = side * side
    # neuron (r, c) carries the filter k + 100 r + 10 c, k = 0..d_in-1: every tile is identifiable
    r, c, k = np.meshgrid(np.arange(grid), np.arange(grid), np.arange(d_in), indexing="ij")
    values = (k + 100 * r + 10 * c).transpose(2, 0, 1).astype(float)
    u = xr.DataArray(values, dims=("feature", "y", "x"), attrs={"units": "1"})
    figure = filter_mosaic_figure([("start", u), ("end", -u)], max_side=8)
    mosaic = np.asarray(figure.axes[0].images[0].get_array().filled(np.nan))
    assert mosaic.shape == (grid * (side + 1) - 1, grid * (side + 1) - 1)
    for row, column in [(0, 0), (2, 3), (3, 1)]:
        tile = mosaic[row * (side + 1) : row * (side + 1) + side, column * (side + 1) : column * (side + 1) + side]
        np.testing.assert_array_equal(tile, np.arange(d_in).reshape(side, side) + 100 * row + 10 * column)
    assert np.isnan(mosaic[side, 0])  # the white gap between tiles
    second = figure.axes[1].images[0]
    assert second.get_clim() == figure.axes[0].images[0].get_clim()  # shared, symmetric scale
    assert second.get_clim()[0] == -second.get_clim()[1]
    assert overlapping_texts(figure) == []


def test_filter_mosaic_refuses_non_square_inputs():
    u = xr.DataArray(np.zeros((10, 2, 2)), dims=("feature", "y", "x"))
    assert square_side(10) is None and square_side(784) == 28
    with pytest.raises(ValueError, match="not a perfect square"):
        filter_mosaic_figure([("u", u)])


def test_series_figure_overlays_the_bound_dashed_and_uses_log_scale_for_losses(rng):
    dataset = prd_dataset(rng, adversarial=True)
    assert classify_series("theorem2_bound_u") == "distance_bound"
    assert classify_series("bound_neuron_distance_u") == "neuron_bound"
    assert classify_series("max_neuron_distance_u") == "neuron_distance"
    assert classify_series("theorem2_residual_bound") == "residual_bound"
    assert classify_series("distance_from_init_u") == "distance"
    assert classify_series("critic_loss") == "critic"
    assert classify_series("loss_sup") == "loss"
    figure = series_figure(dataset, title="run")
    loss_axes, distance_axes = figure.axes[:2]
    assert loss_axes.get_yscale() == "log"  # 10 down to 0.01: three decades
    styles = {line.get_label().replace("\n", " "): line.get_linestyle() for line in distance_axes.get_lines()}
    assert styles["Theorem 1 bound (theorem1_bound_u)"] == "--"
    assert styles["distance ||U(t)-U(0)||_F (distance_u)"] == "-"
    np.testing.assert_array_equal(distance_axes.get_lines()[0].get_ydata(), dataset["distance_u"].values)
    assert overlapping_texts(figure) == []


def test_series_figure_is_none_without_series(rng):
    assert series_figure(classic_dataset(rng)) is None


def test_animation_has_one_frame_per_snapshot(rng, tmp_path):
    from PIL import Image

    dataset = classic_dataset(rng, size=16, snapshots=4)
    path = animate_field(dataset["v"], tmp_path / "v.gif", fps=5, progress=False)
    with Image.open(path) as movie:
        assert movie.n_frames == 4
    assert movie_format(tmp_path / "a.gif") == (tmp_path / "a.gif", "pillow")


def test_saved_figure_is_a_png(rng, tmp_path):
    from matplotlib.figure import Figure

    figure = Figure()
    draw_field(figure.subplots(), classic_dataset(rng, size=8)["v"].isel(time=0))
    path = save_figure(figure, tmp_path / "f.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
