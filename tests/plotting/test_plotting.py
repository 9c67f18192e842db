"""Tests of rdnet.plotting: what the figures show is the data, labelled, without overlapping text."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import xarray as xr

from rdnet.comparison import build_entries, compute_spectra, match_variables
from rdnet.plotting import axis_label, save_figure, written_atomically
from rdnet.plotting.animation import AnimationInterrupted, animate_field, movie_format
from rdnet.plotting.fields import draw_field, fields_figure, image_extent, reduce_components
from rdnet.plotting.network import classify_series, filter_mosaic_figure, series_figure, series_scale, square_side
from rdnet.plotting.spectra import spectra_figure, spectra_file_figure
from engine_datasets import classic_dataset, prd_dataset, volume_dataset


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
            for tick in [*axis.get_major_ticks(), *axis.get_minor_ticks()]:  # a log axis labels minor ticks too
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


def test_series_recorded_only_at_snapshots_are_drawn_and_the_diffusion_bound_goes_with_the_diffusion(rng):
    dataset = prd_dataset(rng, adversarial=True)
    sparse = np.full(dataset["distance_u"].shape, np.nan)
    sparse[::4] = np.linspace(1.0, 2.0, sparse[::4].size)  # a value every 4th step, NaN between
    dataset["reaction_u_frobenius"] = (dataset["distance_u"].dims, sparse)
    dataset["max_neuron_diffusion_u"] = (dataset["distance_u"].dims, np.full(sparse.shape, 0.5))
    dataset["bound_diffusion_u"] = (dataset["distance_u"].dims, np.full(sparse.shape, 3.0))
    assert classify_series("bound_diffusion_u") == "other_bound"
    figure = series_figure(dataset)
    other = next(axes for axes in figure.axes if axes.get_title().startswith("other diagnostics"))
    lines = {line.get_label().split(" (")[-1].rstrip(")"): line for line in other.get_lines()}
    np.testing.assert_array_equal(lines["reaction_u_frobenius"].get_ydata(), sparse[::4])  # joined, not lost in NaNs
    assert lines["reaction_u_frobenius"].get_marker() == "o"
    assert lines["bound_diffusion_u"].get_linestyle() == "--"
    distance = next(axes for axes in figure.axes if axes.get_title().startswith("distance from"))
    assert not any("bound_diffusion_u" in line.get_label() for line in distance.get_lines())


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


# ----------------------------------------------------------------------------- movies


class _FrameRecorder:
    """Patches PillowWriter.grab_frame: records what each frame shows; can fail at a chosen frame."""

    def __init__(self, monkeypatch, *, fail_at: int | None = None, error: BaseException | None = None):
        from matplotlib.animation import PillowWriter

        self.frames: list[dict] = []
        original = PillowWriter.grab_frame
        recorder = self

        def grab_frame(writer, **kwargs):
            if fail_at is not None and len(recorder.frames) == fail_at:
                raise error
            figure = writer.fig
            renderer = figure.canvas.get_renderer()
            original(writer, **kwargs)  # draws the frame
            image_axes = next(axes for axes in figure.axes if axes.images)
            recorder.frames.append(
                {
                    "positions": [tuple(np.round(axes.get_position().bounds, 6)) for axes in figure.axes],
                    "clim": image_axes.images[0].get_clim(),
                    "label_boxes": [axes.yaxis.label.get_window_extent(renderer) for axes in figure.axes]
                    + [axes.xaxis.label.get_window_extent(renderer) for axes in figure.axes]
                    + [image_axes.title.get_window_extent(renderer)],
                    "figure_box": figure.bbox,
                }
            )

        monkeypatch.setattr(PillowWriter, "grab_frame", grab_frame)


def test_animation_frames_keep_their_layout_and_colour_scale_and_show_every_label(rng, tmp_path, monkeypatch):
    dataset = classic_dataset(rng, size=16, snapshots=12)
    dataset["time"] = dataset["time"] * 123.456  # captions of changing width
    recorder = _FrameRecorder(monkeypatch)
    animate_field(dataset["v"], tmp_path / "v.gif", fps=5, progress=False, title="a rather long file name.nc: v")
    assert len(recorder.frames) == 12
    first = recorder.frames[0]
    for frame in recorder.frames[1:]:
        assert frame["positions"] == first["positions"]  # nothing jumps between frames
        assert frame["clim"] == first["clim"]  # one colour scale for the whole movie
    values = dataset["v"].values
    assert first["clim"] == pytest.approx((values.min(), values.max()))
    for frame in recorder.frames:
        box = frame["figure_box"]
        for label in frame["label_boxes"]:  # axis labels and the title are not clipped
            assert label.x0 >= box.x0 - 0.5 and label.x1 <= box.x1 + 0.5, label
            assert label.y0 >= box.y0 - 0.5 and label.y1 <= box.y1 + 0.5, label


def test_interrupted_animation_leaves_no_movie_and_keeps_an_existing_one(rng, tmp_path, monkeypatch):
    dataset = classic_dataset(rng, size=16, snapshots=6)
    path = tmp_path / "v.gif"
    path.write_bytes(b"an earlier movie")
    _FrameRecorder(monkeypatch, fail_at=3, error=KeyboardInterrupt())
    with pytest.raises(AnimationInterrupted) as caught:
        animate_field(dataset["v"], path, progress=False)
    assert (caught.value.frames_done, caught.value.frames_total, caught.value.path) == (3, 6, path)
    assert isinstance(caught.value, KeyboardInterrupt)
    assert path.read_bytes() == b"an earlier movie"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.gif"]  # no temporary file left


@pytest.mark.parametrize("fail_at", [0, 2])
def test_failed_animation_raises_its_own_error_and_leaves_nothing(rng, tmp_path, monkeypatch, fail_at):
    dataset = classic_dataset(rng, size=16, snapshots=4)
    _FrameRecorder(monkeypatch, fail_at=fail_at, error=RuntimeError("disk on fire"))
    with pytest.raises(RuntimeError, match="disk on fire"):  # not an IndexError from the writer's finish()
        animate_field(dataset["v"], tmp_path / "v.gif", progress=False)
    assert list(tmp_path.iterdir()) == []


def test_written_atomically_renames_on_success_and_deletes_on_failure(tmp_path):
    path = tmp_path / "table.csv"
    path.write_text("old")
    with pytest.raises(ValueError):
        with written_atomically(path) as temporary:
            assert temporary.parent == tmp_path and temporary.suffix == ".csv" and temporary != path
            temporary.write_text("half")
            raise ValueError
    assert path.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]
    with written_atomically(path) as temporary:
        temporary.write_text("new")
        assert path.read_text() == "old"  # not visible until complete
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]


# ----------------------------------------------------------------------------- spectra figure


def _spectra(datasets, labels, roles=None, **options):
    matches = match_variables(datasets, roles, labels=labels)
    return compute_spectra(build_entries(datasets, labels, matches), n_surrogates=5, **options)


def test_spectra_figure_log_tick_labels_do_not_overlap_on_a_short_wavenumber_range(rng):
    # an 8 x 8 grid: k from 1/8 to ~0.7 cycles per cell, less than one decade
    spectra = _spectra([prd_dataset(rng, side=8), prd_dataset(rng, side=8, adversarial=True)], ["a.nc", "b.nc"], ["u"])
    figure = spectra_figure(spectra, title="short range")
    physical = figure.axes[0]
    assert physical.get_xscale() == "log"
    figure.canvas.draw()
    shown = [t.get_text() for t in physical.get_xticklabels(minor=False) + physical.get_xticklabels(minor=True) if t.get_text()]
    assert shown, "no wavenumber is labelled"
    assert overlapping_texts(figure) == []


def test_spectra_figure_names_a_constant_field_and_keeps_identical_curves_apart(rng):
    first = prd_dataset(rng, side=8)
    constant = first.copy()
    constant["displacement_u"] = constant["displacement_u"] * 0.0
    spectra = _spectra([first, first.copy(), constant], ["a.nc", "same.nc", "zero.nc"], ["displacement_u"])
    figure = spectra_figure(spectra)
    relative = figure.axes[1]
    legend = [text.get_text() for text in relative.get_legend().get_texts()]
    assert "zero.nc  (constant: no spectrum)" in legend
    assert not any("zero.nc  (p =" in text for text in legend)
    lines = {line.get_label(): line for line in relative.get_lines() if not line.get_label().startswith("_")}
    a, same = lines[legend[0]], lines[legend[1]]
    np.testing.assert_array_equal(a.get_ydata(), same.get_ydata())  # the same curve twice ...
    assert (a.get_linestyle(), a.get_marker()) != (same.get_linestyle(), same.get_marker())  # ... drawn differently
    assert overlapping_texts(figure) == []
    only_constant = spectra_figure(_spectra([constant, constant.copy()], ["zero.nc", "nil.nc"], ["displacement_u"]))
    only_constant.canvas.draw()  # no log axis without positive data
    assert "constant field(s): no spectrum" in [text.get_text() for text in only_constant.axes[0].texts]


def test_spectra_file_figure_draws_the_stored_spectra(rng):
    k = np.linspace(0.05, 1.0, 20)
    spectra = np.stack([np.exp(-((k - 0.3) / 0.1) ** 2) * (t + 1) + 1e-3 for t in range(8)])
    dataset = xr.Dataset(
        {
            "v_spectrum": (("time", "wavenumber"), spectra, {"units": "1"}),
            "v_dominant_wavelength": (("time",), np.full(8, 1 / 0.3)),
        },
        coords={"time": ("time", np.arange(8.0), {"units": "s"}), "wavenumber": ("wavenumber", k, {"units": "1"})},
        attrs={"system": "spectra"},
    )
    figure = spectra_file_figure(dataset, title="spectra.nc")
    axes = figure.axes[0]
    curves = [line for line in axes.get_lines() if line.get_label().startswith("t = ")]
    assert len(curves) == 6 and curves[-1].get_label().endswith("(#7)")  # spread over the run, the last one included
    np.testing.assert_allclose(curves[-1].get_ydata(), spectra[-1])
    assert axes.get_xscale() == "log" and axes.get_yscale() == "log"
    assert overlapping_texts(figure) == []
    single = spectra_file_figure(dataset, time_index=2)
    assert [line.get_label() for line in single.axes[0].get_lines()][0] == "t = 2 s (#2)"


# ----------------------------------------------------------------------------- series figure


def test_series_scale_follows_the_spread_of_the_values():
    assert series_scale([np.array([1.0, 2.0, 3.0])]) == ("linear", {})
    assert series_scale([np.array([1800.0, 30.0, 5.0, 2.0])]) == ("log", {})
    name, options = series_scale([np.array([1800.0, 30.0, 5.0, 2.0]), np.array([-8.0, -13.0, -5.0, -6.0])])
    assert name == "symlog" and 0 < options["linthresh"] <= 2.0
    assert series_scale([np.array([-1.0, 2.0, -3.0])]) == ("linear", {})


def test_series_legends_sit_beside_the_panels_and_an_early_spike_gets_a_log_scale(rng):
    dataset = prd_dataset(rng, adversarial=True)
    steps = dataset.sizes["step"]
    spike = 5.0 + 30.0 * np.exp(-np.arange(steps) / 3.0)
    spike[0] = 1800.0
    dataset["loss_sup"] = ("step", spike, {"long_name": "supervised loss"})
    dataset["loss_adv"] = ("step", -6.0 - np.sin(np.arange(steps)), {"long_name": "adversarial term"})
    dataset["critic_loss"] = ("step", 25.0 * np.exp(-np.arange(steps) / 5.0) + 7.0, {"long_name": "critic loss"})
    dataset["gradient_penalty"] = ("step", 0.2 + 0.01 * np.arange(steps), {"long_name": "gradient penalty"})
    dataset["max_rate_u"] = ("step", 0.1 + 0.0 * np.arange(steps), {"long_name": "largest rate"})
    figure = series_figure(dataset, title="run")
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    panels = {axes.get_title().split("  ")[0]: axes for axes in figure.axes if axes.get_visible()}
    assert {"losses", "critic", "other diagnostics"} <= set(panels)
    assert panels["losses"].get_yscale() == "symlog"  # 1800 beside 2 and negative values
    for title, axes in panels.items():
        legend = axes.get_legend().get_window_extent(renderer)
        assert not legend.overlaps(axes.get_window_extent(renderer)), f"the legend of {title!r} covers its panel"
    assert overlapping_texts(figure) == []


def test_a_one_dimensional_field_is_drawn_as_a_profile_with_its_coordinate(rng):
    from rdnet.plotting.fields import fields_figure

    x = np.arange(32) * 0.5
    values = np.cos(2 * np.pi * x / 4.0)
    field = xr.DataArray(values[None, :], dims=("y", "x"), coords={"y": [0.0], "x": x}, name="u",
                         attrs={"long_name": "activator", "units": "1"})  # fmt: skip
    field["x"].attrs["units"] = "m"
    figure = fields_figure([field])
    axes = figure.axes[0]
    assert not axes.get_images()  # not a one-pixel-high image
    (line,) = axes.get_lines()
    np.testing.assert_array_equal(line.get_xdata(), x)
    np.testing.assert_array_equal(line.get_ydata(), values)
    assert "m" in axes.get_xlabel() and "activator" in axes.get_ylabel()


# ----------------------------------------------------------------------------- 3-D fields: one plane


def test_a_three_dimensional_field_is_drawn_as_its_mid_plane_named_in_the_title(rng):
    dataset = volume_dataset(rng, shape=(7, 12, 16), spacing=(0.5, 1.0, 0.5))
    field = dataset["v"].isel(time=-1)
    figure = fields_figure([field], titles=["v at t = 20"])
    image_axes = next(axes for axes in figure.axes if axes.images)
    # nz = 7: the mid-plane is index 3, at z = 3 · 0.5 m
    np.testing.assert_array_equal(image_axes.images[0].get_array(), dataset["v"].values[-1, 3])
    assert image_axes.get_title() == "v at t = 20\nz = 1.5 m (index 3 of 7)"
    assert image_axes.get_xlabel().startswith("x") and image_axes.get_ylabel().startswith("y")
    assert image_extent(field.isel(z=3)) == pytest.approx((-0.25, 7.75, -0.5, 11.5))
    assert overlapping_texts(figure) == []


def test_the_plane_of_a_three_dimensional_field_can_be_chosen_and_is_checked(rng):
    from rdnet.errors import ConfigError
    from rdnet.plotting.fields import z_slice

    dataset = volume_dataset(rng, shape=(6, 8, 8))
    field = dataset["v"].isel(time=0)
    figure = fields_figure([field, dataset["u"].isel(time=0)], z_index=-1)
    panels = [axes for axes in figure.axes if axes.images]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), dataset["v"].values[0, 5])
    np.testing.assert_array_equal(panels[1].images[0].get_array(), dataset["u"].values[0, 5])
    assert panels[0].get_title().endswith("z = 2.5 m (index 5 of 6)")
    with pytest.raises(ConfigError, match=r"z index 6 is out of range: v has 6 points along z \(use 0..5"):
        z_slice(field, 6)
    with pytest.raises(ConfigError, match="applies to 3-D fields"):
        fields_figure([classic_dataset(rng, size=8)["v"].isel(time=0)], z_index=0)
    plane, caption = z_slice(classic_dataset(rng, size=8)["v"].isel(time=0))
    assert caption == "" and plane.dims == ("y", "x")  # a 2-D field is its own plane


def test_an_animated_volume_shows_the_mid_plane_of_every_snapshot(rng, tmp_path, monkeypatch):
    from matplotlib.animation import PillowWriter

    dataset = volume_dataset(rng, shape=(5, 8, 10), snapshots=3)
    shown = []
    original = PillowWriter.grab_frame

    def grab_frame(writer, **kwargs):
        image_axes = next(axes for axes in writer.fig.axes if axes.images)
        shown.append((np.array(image_axes.images[0].get_array()), image_axes.get_title()))
        original(writer, **kwargs)

    monkeypatch.setattr(PillowWriter, "grab_frame", grab_frame)
    animate_field(dataset["v"], tmp_path / "v.gif", progress=False, title="run.nc: v")
    assert len(shown) == 3
    for index, (values, title) in enumerate(shown):
        np.testing.assert_array_equal(values, dataset["v"].values[index, 2])  # nz = 5: index 2, z = 1 m
        assert title.endswith(f"(snapshot {index})\nz = 1 m (index 2 of 5)")


def test_an_animated_one_dimensional_field_shows_its_profile_in_every_frame(tmp_path, monkeypatch):
    """A 1-D run (one point along y) is drawn as a line per frame (it was a matplotlib ValueError)."""
    from matplotlib.animation import PillowWriter

    x = np.arange(16) * 0.5
    values = np.stack([np.cos(2 * np.pi * x / 4.0) * amplitude for amplitude in (1.0, 0.5, 0.25)])[:, None, :]
    field = xr.DataArray(values, dims=("time", "y", "x"), coords={"time": [0.0, 1.0, 2.0], "y": [0.25], "x": x},
                         name="u", attrs={"long_name": "activator", "units": "1"})  # fmt: skip
    shown = []
    original = PillowWriter.grab_frame

    def grab_frame(writer, **kwargs):
        (line,) = writer.fig.axes[0].get_lines()
        shown.append((np.array(line.get_xdata()), np.array(line.get_ydata())))
        original(writer, **kwargs)

    monkeypatch.setattr(PillowWriter, "grab_frame", grab_frame)
    animate_field(field, tmp_path / "u.gif", progress=False)
    assert len(shown) == 3
    for index, (xs, ys) in enumerate(shown):
        np.testing.assert_array_equal(xs, x)
        np.testing.assert_array_equal(ys, values[index, 0])


@pytest.mark.parametrize(("options", "option"), [
    ({"kind": "series", "time_index": 2}, "--time"),  # the series are drawn whole
    ({"kind": "series", "variables": ["u"]}, "--var"),
    ({"kind": "filters", "variables": ["v"]}, "--var"),  # the filters are always u's
])  # fmt: skip
def test_options_a_figure_kind_does_not_use_are_refused(rng, options, option):
    """rdnet plot --kind series --time 2 drew the whole series and ignored --time; now refused."""
    from rdnet.errors import ConfigError
    from rdnet.plotting.dataset import dataset_figures

    with pytest.raises(ConfigError, match=rf"{option} does not apply to --kind {options['kind']}"):
        dataset_figures(prd_dataset(rng, adversarial=True), "adv.nc", **options)
