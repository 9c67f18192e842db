"""Tests of rdnet.analysis.fields: dask input and 1-D fields through every metric against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments), never copied from its output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from analysis_helpers import as_dataarray, plane_wave
from hypothesis import given, settings
from hypothesis import strategies as st

from rdnet import analysis

# ------------------------------------------------------------------------------ dask


FUNCTIONS = [
    analysis.radial_power_spectrum,
    analysis.dominant_wavelength,
    analysis.spectral_entropy,
    analysis.angular_spectrum,
    analysis.anisotropy,
    analysis.coefficient_of_variation,
    analysis.morans_i,
    analysis.correlation_length,
    analysis.symmetry_scores,
    analysis.distance_from_reference,
]


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.__name__)
def test_dask_chunked_input_gives_the_eager_numbers_lazily(function, rng):
    values = rng.normal(size=(5, 2, 24, 20)) + plane_wave(24, 20, 5)
    eager = as_dataarray(values)
    lazy = eager.chunk({"time": 2, "y": 12})
    lazy_result = function(lazy)
    assert lazy_result.chunks is not None  # nothing computed yet
    xr.testing.assert_allclose(lazy_result.compute(), function(eager))


def test_dask_surrogates_and_metrics_match_eager(rng):
    eager = as_dataarray(rng.normal(size=(4, 16, 16)))
    lazy = eager.chunk({"time": 1})
    result_lazy = analysis.surrogate_test(lazy, n_surrogates=9)
    result_eager = analysis.surrogate_test(eager, n_surrogates=9)
    xr.testing.assert_allclose(result_lazy.p_value.compute(), result_eager.p_value)
    xr.testing.assert_allclose(result_lazy.band_high.compute(), result_eager.band_high)
    metrics_lazy = analysis.homogeneity_metrics(lazy, n_surrogates=9)
    metrics_eager = analysis.homogeneity_metrics(eager, n_surrogates=9)
    for key in analysis.HOMOGENEITY_KEYS:
        xr.testing.assert_allclose(metrics_lazy[key].compute(), metrics_eager[key])


def test_dask_nan_raises_when_computed():
    values = np.ones((2, 8, 8))
    values[1, 0, 0] = np.nan
    lazy = as_dataarray(values).chunk({"time": 1})
    result = analysis.morans_i(lazy)
    with pytest.raises(ValueError, match="field contains NaN"):
        result.compute()


# ------------------------------------------------------------------------------ 1-D fields (a row or a column)


def one_dimensional(values: np.ndarray, *, column: bool) -> np.ndarray:
    """A 1-D profile as a (1, n) row or an (n, 1) column."""
    return values[:, None] if column else values[None, :]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 64), dx=st.floats(0.01, 10.0), seed=st.integers(0, 2**32 - 1), column=st.booleans())
def test_parseval_in_one_dimension(n, dx, seed, column):
    profile = np.random.default_rng(seed).normal(size=n)
    spectrum = analysis.radial_power_spectrum(one_dimensional(profile, column=column), dx=dx)
    assert float(spectrum.sum()) == pytest.approx(profile.var(), rel=1e-10, abs=1e-14)
    # the bins are the line's own: k_j = j / (n dx) up to the Nyquist wavenumber 1/(2 dx)
    np.testing.assert_allclose(spectrum["wavenumber"], np.arange(n // 2 + 1) / (n * dx))


@pytest.mark.parametrize("column", [False, True])
@pytest.mark.parametrize("wavelength", [4, 8, 16, 32])
def test_one_dimensional_cosine_closed_forms(wavelength, column):
    n = 128
    profile = np.cos(2 * np.pi * np.arange(n) / wavelength + 0.3)
    field = one_dimensional(profile, column=column)
    assert float(analysis.dominant_wavelength(field, dx=0.5)) == pytest.approx(0.5 * wavelength, rel=1e-12)
    assert float(analysis.spectral_entropy(field)) == pytest.approx(0.0, abs=1e-12)
    # on the ring each point has two neighbours: I = Σ z_i z_{i+1} / Σ z_i² = cos(2π/λ)
    assert float(analysis.morans_i(field)) == pytest.approx(math.cos(2 * math.pi / wavelength), rel=1e-12)
    # the autocorrelation is cos(2π r/λ): it crosses 1/e at r = λ acos(1/e) / (2π) (linear interpolation
    # between whole lags: within 1 % for λ >= 16)
    if wavelength >= 16:
        expected = wavelength * math.acos(math.exp(-1)) / (2 * math.pi)
        assert float(analysis.correlation_length(field)) == pytest.approx(expected, rel=0.01)
    assert float(analysis.coefficient_of_variation(field + 2.0)) == pytest.approx(math.sqrt(0.5) / 2.0, rel=1e-12)


def test_one_dimensional_alternating_field_and_bounded_neighbours():
    alternating = np.array([[1.0, -1.0] * 8])
    assert float(analysis.morans_i(alternating)) == pytest.approx(-1.0)
    assert float(analysis.morans_i(alternating.T, periodic=False)) == pytest.approx(-1.0)
    # bounded line: n - 1 links; for a linear ramp z_i = i - mean, I = (n/(n-1)) Σ z_i z_{i+1} / Σ z_i²
    ramp = np.arange(10.0)
    z = ramp - ramp.mean()
    expected = (10 / 9) * np.sum(z[1:] * z[:-1]) / np.sum(z * z)
    assert float(analysis.morans_i(ramp[None, :], periodic=False)) == pytest.approx(expected, rel=1e-12)


def test_one_dimensional_orientation_metrics_are_nan_not_errors():
    field = one_dimensional(np.cos(2 * np.pi * np.arange(64) / 8), column=False)
    assert math.isnan(float(analysis.anisotropy(field)))
    assert np.isnan(analysis.angular_spectrum(field).values).all()
    scores = analysis.symmetry_scores(field)
    assert float(scores.sel(symmetry="mirror_x")) == pytest.approx(1.0)  # cos is even about some point
    assert np.isnan(scores.sel(symmetry=["mirror_y", "rotation_90", "rotation_180"]).values).all()
    column_scores = analysis.symmetry_scores(field.T)
    assert float(column_scores.sel(symmetry="mirror_y")) == pytest.approx(1.0)
    assert np.isnan(column_scores.sel(symmetry="mirror_x"))
    metrics = analysis.homogeneity_metrics(field, n_surrogates=19)
    assert metrics["dominant_wavelength"] == pytest.approx(8.0) and math.isnan(metrics["anisotropy"])
    assert metrics["surrogate_p_value"] == pytest.approx(0.05)


def test_one_dimensional_run_layout_uses_the_x_coordinate():
    # a 1-D run stores (time, y, x) with one y (its coordinate gives no spacing)
    dx = 0.25
    x = (np.arange(96) + 0.5) * dx
    values = np.stack([np.cos(2 * np.pi * x / 3.0), np.cos(2 * np.pi * x / 6.0)])[:, None, :]
    field = xr.DataArray(values, dims=("time", "y", "x"),
                         coords={"time": [0.0, 1.0], "y": [0.5 * dx], "x": ("x", x, {"units": "1"})})  # fmt: skip
    np.testing.assert_allclose(analysis.dominant_wavelength(field).values, [3.0, 6.0], rtol=1e-12)
    # a non-periodic line (Hann window) still finds the wavelength within a few percent
    assert float(analysis.dominant_wavelength(field.isel(time=1), window="hann")) == pytest.approx(6.0, rel=0.03)
    with pytest.raises(ValueError, match="at least 2 points"):
        analysis.morans_i(np.zeros((1, 1)))


def test_wildly_different_spacings_are_refused_not_binned_into_memory():
    # x spacing 2**30 against y spacing 1 (a fuzzed file): the radial bins would number ~10**9
    from rdnet.analysis import radial_power_spectrum

    field = xr.DataArray(np.arange(9.0).reshape(3, 3), dims=("y", "x"),
                         coords={"y": [0.0, 1.0, 2.0], "x": [-(2.0**30), 0.0, 2.0**30]})  # fmt: skip
    with pytest.raises(ValueError, match="spacings along y and x"):
        radial_power_spectrum(field)
    # a moderate anisotropy (10x) is still a spectrum
    field = field.assign_coords(x=[0.0, 10.0, 20.0])
    assert radial_power_spectrum(field).size > 0


def test_a_single_point_field_is_refused_naming_its_dims():
    with pytest.raises(ValueError, match=r"at least 2 points along one of y, x .*; got 1 x 1"):
        analysis.dominant_wavelength(np.ones((1, 1)))


@pytest.mark.parametrize(
    "function",
    [analysis.morans_i, analysis.correlation_length, analysis.symmetry_scores, analysis.homogeneity_metrics,
     analysis.morphology_metrics, analysis.minkowski_curves, analysis.orientation_order, analysis.pattern_summary,
     analysis.pattern_regime],
)  # fmt: skip
@pytest.mark.parametrize("flag", ["no", None, 0])
def test_periodic_must_be_a_bool_not_a_truthy_value(function, flag):
    """periodic="no" was truthy (a periodic measurement), periodic=None falsy: neither is what was asked."""
    field = np.cos(2 * np.pi * np.arange(16) / 8)[None, :] * np.ones((8, 1))
    with pytest.raises(TypeError, match="periodic must be True or False"):
        function(field, periodic=flag)


def test_component_sizes_and_periodic_label_refuse_a_non_bool_periodic():
    binary = np.eye(8, dtype=bool)
    with pytest.raises(TypeError, match="periodic must be True or False"):
        analysis.periodic_label(binary, periodic="no")
    with pytest.raises(TypeError, match="periodic must be True or False"):
        analysis.component_sizes(binary.astype(float), periodic="no")


@pytest.mark.parametrize("function", [analysis.dominant_wavelength, analysis.morans_i, analysis.homogeneity_metrics])
def test_a_complex_field_is_refused_not_cut_to_its_real_part(function):
    """i·cos(2πx/8) has a real part of zeros: it was once measured as a constant field (NaN wavelength)
    behind a ComplexWarning; its modulus has wavelength 4."""
    x = np.arange(32)
    field = 1j * np.cos(2 * np.pi * x / 8)[None, :] * np.ones((8, 1))
    with pytest.raises(ValueError, match="must be real"):
        function(field)
    assert float(analysis.dominant_wavelength(np.abs(field))) == pytest.approx(4.0)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda f: analysis.surrogate_test(f, n_surrogates=True), "n_surrogates must be a positive integer; got True"),
        (lambda f: analysis.surrogate_test(f, n_surrogates=5, seed=np.nan), "seed must be a non-negative integer; got nan"),
        # seed=1.5 was cut to 1 without a word
        (lambda f: analysis.homogeneity_metrics(f, n_surrogates=5, seed=1.5), "seed must be a non-negative integer; got 1.5"),
        (lambda f: analysis.homogeneity_metrics(f, n_surrogates=True), "n_surrogates must be a non-negative integer"),
        (lambda f: analysis.morphology_metrics(f, window="hann"), "window must be a positive length; got 'hann'"),
        (lambda f: analysis.morphology_metrics(f, threshold=True), "threshold must be a finite number"),  # was 1.0
        (lambda f: analysis.pattern_summary(f, threshold=[0.5]), "threshold must be a finite number"),
        (lambda f: analysis.distance_from_reference(f, reference="mean"), "reference must be a real number"),
    ],
)
def test_options_of_the_wrong_type_are_one_value_error_naming_them(call, words):
    field = np.cos(2 * np.pi * np.arange(16) / 8)[None, :] * np.ones((8, 1))
    with pytest.raises(ValueError) as caught:
        call(field)
    assert words in str(caught.value)


@pytest.mark.parametrize("reverse", ["x", "y", "both"])
def test_a_descending_coordinate_gives_the_orientations_of_the_coordinates(reverse):
    """A plane wave cos(2π(2x/64 + y/64)) has its wavevector at atan2(1, 2) = 26.6° from x (bin 30°)
    whichever way its coordinates are stored; with x descending it was put at 150°."""
    y, x = np.meshgrid(np.arange(64.0), np.arange(64.0), indexing="ij")
    field = xr.DataArray(np.cos(2 * np.pi * (2 * x + y) / 64), dims=("y", "x"), coords={"y": y[:, 0], "x": x[0]})
    flips = {"x": {"x": slice(None, None, -1)}, "y": {"y": slice(None, None, -1)},
             "both": {"x": slice(None, None, -1), "y": slice(None, None, -1)}}[reverse]  # fmt: skip
    stored = field.isel(flips)
    spectrum = analysis.angular_spectrum(stored)
    truth = np.degrees(np.arctan2(1, 2))
    peak = float(spectrum["orientation"][int(spectrum.argmax())])
    assert abs(peak - truth) <= 5.0
    np.testing.assert_allclose(spectrum.values, analysis.angular_spectrum(field).values, rtol=1e-12, atol=1e-15)
    assert float(analysis.dominant_wavelength(stored)) == pytest.approx(64 / np.hypot(2, 1))
