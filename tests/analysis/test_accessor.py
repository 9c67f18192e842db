"""Tests of the ``.rd`` accessor: it picks the variable and delegates to rdnet.analysis."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

import rdnet.accessor  # noqa: F401  (registers .rd)
from rdnet import analysis
from rdnet.errors import ConfigError


@pytest.fixture
def stripes_dataset() -> xr.Dataset:
    x = np.arange(32) * 0.5
    wave = np.cos(2 * np.pi * x / 4.0)[None, None, :] * np.ones((2, 16, 1))  # λ = 4 m = 8 cells
    return xr.Dataset(
        {
            "v": (("time", "y", "x"), wave * [[[1.0]], [[2.0]]], {"units": "1", "long_name": "v"}),
            "loss": (("time",), [1.0, 0.5]),
        },
        coords={"time": [0.0, 1.0], "y": ("y", np.arange(16) * 0.5, {"units": "m"}), "x": ("x", x, {"units": "m"})},
    )


def test_dataset_accessor_measures_the_named_variable(stripes_dataset):
    np.testing.assert_allclose(stripes_dataset.rd.dominant_wavelength("v").values, [4.0, 4.0])
    spectrum = stripes_dataset.rd.spectrum("v")
    assert spectrum.dims == ("time", "wavenumber")
    # variance of a·cos is a²/2
    np.testing.assert_allclose(spectrum.sum("wavenumber").values, [0.5, 2.0])
    expected_moran = (math.cos(2 * math.pi / 8) + 1) / 2
    np.testing.assert_allclose(stripes_dataset.rd.morans_i("v").values, expected_moran)
    assert stripes_dataset.rd.spatial_variables == ["v"]


def test_dataset_and_dataarray_accessors_agree_with_the_functions(stripes_dataset):
    field = stripes_dataset["v"]
    metrics = stripes_dataset.rd.homogeneity("v", n_surrogates=9)
    direct = analysis.homogeneity_metrics(field, n_surrogates=9)
    for key in analysis.HOMOGENEITY_KEYS:
        xr.testing.assert_identical(metrics[key], direct[key])
    xr.testing.assert_identical(field.rd.symmetry(), analysis.symmetry_scores(field))
    xr.testing.assert_identical(field.rd.angular_spectrum(n_orientations=4), analysis.angular_spectrum(field, n_orientations=4))
    np.testing.assert_allclose(field.rd.distance().values, [1 / math.sqrt(2), 2 / math.sqrt(2)])
    assert float(field.isel(time=0).rd.surrogate_test(n_surrogates=19).p_value) == pytest.approx(1 / 20)


def test_unknown_variable_lists_the_spatial_ones(stripes_dataset):
    with pytest.raises(KeyError, match="no variable 'w'.*spatial variables: v"):
        stripes_dataset.rd.spectrum("w")


def test_the_accessor_measures_a_three_dimensional_variable(rng):
    from engine_datasets import volume_dataset

    # modes (1, 2, 4) on (8, 12, 16) points with spacings (0.5, 1, 0.5) m: k = (1/4, 1/6, 1/2) per m
    dataset = volume_dataset(rng, shape=(8, 12, 16), spacing=(0.5, 1.0, 0.5), modes=(1, 2, 4))
    np.testing.assert_allclose(dataset.rd.dominant_wavelength("v").values, 1 / math.sqrt(1 / 16 + 1 / 36 + 1 / 4))
    assert dataset.rd.spatial_variables == ["u", "v"]
    spectrum = dataset["v"].rd.spectrum()
    assert spectrum.dims == ("time", "wavenumber")  # z is space, not a component
    np.testing.assert_allclose(spectrum.sum("wavenumber"), dataset["v"].var(dim=("z", "y", "x")), rtol=1e-10)


def test_accessor_names_the_pattern_and_follows_it_in_time(stripes_dataset):
    morphology = stripes_dataset.rd.morphology("v", threshold=0.1)
    # above 0.1: the cells at cos = 1, 0.71, 0.71 of every 8: four bands 1.5 m wide around the
    # torus (8 m), chi = 0
    np.testing.assert_array_equal(morphology["euler_number"].values, [0, 0])
    np.testing.assert_array_equal(morphology["components"].values, [4, 4])
    np.testing.assert_allclose(morphology["mean_component_size"].values, 12.0)
    assert morphology["mean_component_size"].attrs["units"] == "m^2"
    regime = stripes_dataset.rd.regime("v", n_surrogates=39)
    assert regime.label == "stripes" and regime.evidence["euler_number"] == 0
    assert stripes_dataset.rd.time_behaviour("v").label == "undetermined"  # two snapshots
    curves = stripes_dataset["v"].isel(time=0).rd.minkowski_curves(thresholds=[0.5])
    assert float(curves["area_fraction"].squeeze()) == pytest.approx(3 / 8)  # cos > 0.5 at 1, 0.71, 0.71 of 8
    velocity = stripes_dataset.rd.pattern_velocity("v")
    np.testing.assert_allclose(velocity["speed"].values, 0.0, atol=1e-9)  # the wave grows in place


def test_plot_draws_the_chosen_snapshot_of_the_chosen_field(tmp_path):
    import rd_classic

    ds = rd_classic.simulate(size="12x10", steps=20, snapshot_every=10, seed=1, quiet=True)
    figure = ds.rd.plot("v", time=1, out=tmp_path / "v.png")
    image_axes = [axes for axes in figure.axes if axes.images]
    assert len(image_axes) == 1
    np.testing.assert_array_equal(image_axes[0].images[0].get_array(), ds["v"].values[1])
    assert (tmp_path / "v.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ConfigError, match="kind must be one of"):
        ds.rd.plot(kind="movie")
