"""Tests of rdnet.analysis against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments), never copied from its output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, optimize, special

from rdnet import analysis

# ------------------------------------------------------------------------------ helpers


def plane_wave(ny: int, nx: int, wavelength: float, *, along: str = "x", phase: float = 0.3, spacing: float = 1.0):
    """cos(2π s / λ + φ) varying along one axis, constant along the other."""
    y, x = np.mgrid[0:ny, 0:nx] * spacing
    s = x if along == "x" else y
    return np.cos(2 * np.pi * s / wavelength + phase)


def checkerboard(ny: int, nx: int) -> np.ndarray:
    y, x = np.mgrid[0:ny, 0:nx]
    return np.where((x + y) % 2 == 0, 1.0, -1.0)


def as_dataarray(values: np.ndarray, spacing: float = 1.0, units: str = "m") -> xr.DataArray:
    ny, nx = values.shape[-2:]
    dims = ("time", "y", "x")[-values.ndim :] if values.ndim <= 3 else ("time", "feature", "y", "x")
    coords = {
        "y": ("y", np.arange(ny) * spacing, {"units": units}),
        "x": ("x", np.arange(nx) * spacing, {"units": units}),
    }
    if "time" in dims:
        coords["time"] = np.arange(values.shape[0], dtype=float)
    return xr.DataArray(values, dims=dims, coords=coords, attrs={"units": "mol"})


# ------------------------------------------------------------------------------ spectrum / Parseval


@settings(max_examples=40, deadline=None)
@given(
    ny=st.integers(2, 24),
    nx=st.integers(2, 24),
    dx=st.floats(0.01, 10.0),
    dy=st.floats(0.01, 10.0),
    seed=st.integers(0, 2**32 - 1),
    offset=st.floats(-100, 100),
)
def test_parseval_sum_of_spectrum_is_variance(ny, nx, dx, dy, seed, offset):
    field = np.random.default_rng(seed).normal(size=(ny, nx)) + offset
    spectrum = analysis.radial_power_spectrum(field, dx=dx, dy=dy)
    assert float(spectrum.sum()) == pytest.approx(field.var(), rel=1e-9, abs=1e-12)
    assert float(spectrum.isel(wavenumber=0)) == pytest.approx(0.0, abs=1e-9 * (1 + offset**2))
    # every mode is in exactly one bin
    assert int(spectrum.mode_count.sum()) == ny * nx


@settings(max_examples=15, deadline=None)
@given(n_components=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_parseval_over_components_sums_the_variances(n_components, seed):
    values = np.random.default_rng(seed).normal(size=(3, n_components, 10, 14)) * np.arange(1, n_components + 1)[:, None, None]
    spectrum = analysis.radial_power_spectrum(as_dataarray(values))
    assert spectrum.dims == ("time", "wavenumber")
    np.testing.assert_allclose(spectrum.sum("wavenumber").values, values.var(axis=(-2, -1)).sum(axis=1), rtol=1e-10)


def test_hann_window_preserves_variance_in_expectation(rng):
    fields = rng.normal(size=(40, 48, 48)) * 3.0
    totals = analysis.radial_power_spectrum(fields, window="hann").sum("wavenumber")
    assert float(totals.mean()) == pytest.approx(9.0, rel=0.03)


def test_spectrum_coordinates_are_physical():
    field = as_dataarray(plane_wave(32, 64, 16, spacing=0.5), spacing=0.5, units="mm")
    spectrum = analysis.radial_power_spectrum(field)
    # Δk = 1/(64 · 0.5 mm), Nyquist 1/(2 · 0.5 mm)
    assert float(spectrum.wavenumber[1]) == pytest.approx(1 / 32)
    assert spectrum.wavenumber.attrs["units"] == "1/mm"
    np.testing.assert_allclose(spectrum.relative_wavenumber, spectrum.wavenumber / 1.0)
    assert spectrum.attrs["units"] == "(mol)^2"
    # the wave (λ = 16 mm) puts all its variance 1/2 at k = 1/16 mm⁻¹
    assert float(spectrum.sel(wavenumber=1 / 16)) == pytest.approx(0.5)


def test_white_noise_power_per_mode_is_flat(rng):
    fields = rng.normal(size=(20, 64, 64))
    spectrum = analysis.radial_power_spectrum(fields)
    per_mode = (spectrum / spectrum.mode_count).mean("dim_0")
    inside = per_mode.where((spectrum.mode_count >= 20) & (spectrum.relative_wavenumber <= 1), drop=True)
    # E|FFT|²/N² per mode of unit white noise is 1/N (N = 4096 points)
    np.testing.assert_allclose(inside.values, 1 / 4096, rtol=0.2)
    low, high = np.array_split(inside.values, 2)
    assert low.mean() == pytest.approx(high.mean(), rel=0.05)


# ------------------------------------------------------------------------------ dominant wavelength


@pytest.mark.parametrize("wavelength", [2, 4, 8, 16, 32, 64])
def test_plane_wave_dividing_the_grid_gives_its_wavelength_exactly(wavelength):
    assert float(analysis.dominant_wavelength(plane_wave(48, 64, wavelength))) == pytest.approx(wavelength, rel=1e-9)


@pytest.mark.parametrize("wavelength", [3.3, 5.5, 7.3, 10.0, 13.0, 21.3])
def test_plane_wave_not_dividing_the_grid_is_found_within_a_few_percent(wavelength):
    field = plane_wave(48, 64, wavelength)
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(wavelength, rel=0.025)
    assert float(analysis.dominant_wavelength(field, window="hann")) == pytest.approx(wavelength, rel=0.01)


def test_dominant_wavelength_in_physical_units_along_y_and_diagonal():
    # λ = 3 length units = 12 cells of 0.25, dividing the 96 rows
    field = as_dataarray(plane_wave(96, 30, 3.0, along="y", spacing=0.25), spacing=0.25)
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(3.0)
    y, x = np.mgrid[0:64, 0:64]
    diagonal = np.sin(2 * np.pi * (3 * x + 4 * y) / 64)  # |k| = 5/64, λ = 64/5
    assert float(analysis.dominant_wavelength(diagonal, dx=2.0)) == pytest.approx(2.0 * 64 / 5)


def test_dominant_wavelength_of_a_dataarray_uses_its_coordinates():
    field = as_dataarray(plane_wave(32, 32, 8), spacing=0.1)
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(0.8)
    assert float(analysis.dominant_wavelength(field, dx=1.0)) == pytest.approx(8.0)


# ------------------------------------------------------------------------------ entropy, orientation


def test_spectral_entropy_of_one_wave_is_zero_and_of_noise_matches_mode_counts(rng):
    assert float(analysis.spectral_entropy(plane_wave(32, 32, 8))) == pytest.approx(0.0, abs=1e-12)
    noise = rng.normal(size=(64, 64))
    # Expected shell power of white noise is proportional to the number of modes per shell.
    counts = analysis.radial_power_spectrum(noise).mode_count.values[1:]
    p = counts / counts.sum()
    expected = -(p * np.log(p)).sum() / np.log(p.size)
    measured = float(analysis.spectral_entropy(noise))
    assert measured > 0.9
    assert measured == pytest.approx(expected, abs=0.02)


def test_anisotropy_stripes_high_spots_and_noise_low(rng):
    assert float(analysis.anisotropy(plane_wave(64, 64, 8))) == pytest.approx(1.0)
    y, x = np.mgrid[0:64, 0:64]
    assert float(analysis.anisotropy(np.sin(2 * np.pi * (3 * x + 4 * y) / 64))) == pytest.approx(1.0)
    # square lattice of spots: power split equally between 0° and 90°, whose doubled angles cancel
    spots = np.cos(2 * np.pi * x / 8) + np.cos(2 * np.pi * y / 8)
    assert float(analysis.anisotropy(spots)) == pytest.approx(0.0, abs=1e-12)
    # white noise: |Σ P e^{2iθ}| / Σ P ~ 1/sqrt(#modes) ≈ 0.02
    assert float(analysis.anisotropy(rng.normal(size=(64, 64)))) < 0.1


def test_angular_spectrum_puts_stripes_at_their_orientation():
    along_x = analysis.angular_spectrum(plane_wave(32, 32, 8, along="x"), n_orientations=12)
    along_y = analysis.angular_spectrum(plane_wave(32, 32, 8, along="y"), n_orientations=12)
    assert float(along_x.sel(orientation=0.0)) == pytest.approx(0.5)
    assert float(along_y.sel(orientation=90.0)) == pytest.approx(0.5)
    assert float(along_x.sum()) == pytest.approx(0.5)
    assert along_x.orientation.attrs["units"] == "degree"


# ------------------------------------------------------------------------------ real-space metrics


@pytest.mark.parametrize("periodic", [True, False])
@pytest.mark.parametrize("shape", [(8, 8), (16, 10), (6, 32)])
def test_checkerboard_morans_i_is_minus_one(shape, periodic):
    assert float(analysis.morans_i(checkerboard(*shape), periodic=periodic)) == pytest.approx(-1.0, abs=1e-12)


@pytest.mark.parametrize("wavelength", [3, 4, 8, 16])
def test_stripes_morans_i_closed_form(wavelength):
    # z = cos(a x), a = 2π/λ, λ | n_x. Along x: Σ z_i z_{i+1} = (N/2) cos a; along y: Σ z_i² = N/2.
    # I = (N/W) · 2(C_x + C_y) / Σ z² with W = 4N  ->  I = (cos a + 1) / 2.
    expected = (math.cos(2 * math.pi / wavelength) + 1) / 2
    assert float(analysis.morans_i(plane_wave(24, 48, wavelength))) == pytest.approx(expected, abs=1e-12)


def test_morans_i_of_a_vector_field_sums_numerators_and_denominators():
    # components a cos(2πx/4) and b cos(2πy/8): numerator a²(N/2)(cos(π/2)+1)/... ->
    # I = [a² (cos(2π/4)+1)/2 + b² (cos(2π/8)+1)/2] / (a² + b²)
    a, b = 2.0, 1.0
    values = np.stack([a * plane_wave(16, 16, 4, along="x"), b * plane_wave(16, 16, 8, along="y")])[None]
    expected = (a**2 * (math.cos(math.pi / 2) + 1) / 2 + b**2 * (math.cos(math.pi / 4) + 1) / 2) / (a**2 + b**2)
    assert float(analysis.morans_i(as_dataarray(values)).squeeze()) == pytest.approx(expected)


def test_white_noise_morans_i_is_near_zero(rng):
    values = analysis.morans_i(rng.normal(size=(20, 64, 64)))
    # E[I] = -1/(N-1), standard deviation about 1/sqrt(2N) ≈ 0.011 for rook weights
    assert abs(float(values.mean()) + 1 / 4095) < 0.01


def test_coefficient_of_variation_closed_forms():
    wave = plane_wave(16, 16, 8)
    # std of cos over full periods is 1/sqrt(2)
    assert float(analysis.coefficient_of_variation(5.0 + wave)) == pytest.approx(1 / math.sqrt(2) / 5.0)
    assert float(analysis.coefficient_of_variation(-5.0 + wave)) == pytest.approx(1 / math.sqrt(2) / 5.0)
    vector = np.stack([3.0 + 2 * wave, 4.0 + plane_wave(16, 16, 4, along="y")])[None]
    # total std sqrt((4 + 1)/2), mean norm 5
    assert float(analysis.coefficient_of_variation(as_dataarray(vector)).squeeze()) == pytest.approx(math.sqrt(2.5) / 5)
    assert math.isinf(float(analysis.coefficient_of_variation(wave)))


def test_correlation_length_of_a_plane_wave_is_the_bessel_crossing():
    # Autocorrelation of cos(2πx/λ) is cos(2π r_x/λ); its average over a circle of radius r is
    # J0(2πr/λ), so the 1/e crossing is at r = z* λ / (2π) with J0(z*) = 1/e.
    wavelength = 32
    z_star = optimize.brentq(lambda z: special.j0(z) - math.exp(-1), 0.1, 2.4)
    expected = z_star * wavelength / (2 * math.pi)
    field = plane_wave(128, 128, wavelength)
    assert float(analysis.correlation_length(field)) == pytest.approx(expected, rel=0.01)
    assert float(analysis.correlation_length(field, dx=0.5)) == pytest.approx(0.5 * expected, rel=0.01)
    assert float(analysis.correlation_length(field, periodic=False)) == pytest.approx(expected, rel=0.05)


def test_correlation_length_of_gaussian_smoothed_noise(rng):
    # White noise convolved with a Gaussian of width s has autocorrelation exp(-r²/(4s²)): 1/e at r = 2s.
    sigma = 3.0
    fields = np.stack([ndimage.gaussian_filter(rng.normal(size=(128, 128)), sigma, mode="wrap") for _ in range(4)])
    lengths = analysis.correlation_length(fields).values
    assert lengths.mean() == pytest.approx(2 * sigma, rel=0.1)


def test_symmetry_scores_of_stripes_and_spots():
    stripes = analysis.symmetry_scores(plane_wave(32, 32, 8, phase=0.0))
    assert list(stripes.symmetry.values) == list(analysis.SYMMETRIES)
    for name in ("mirror_x", "mirror_y", "rotation_180"):
        assert float(stripes.sel(symmetry=name)) == pytest.approx(1.0)
    # phase φ: f(s - x) = cos(ax - as - φ) correlates with cos(ax + φ) as cos(as + 2φ); the axis
    # can only sit on whole or half cells, so the score is the max over integer shifts s.
    shifted = analysis.symmetry_scores(plane_wave(32, 32, 8, phase=0.7))
    expected = np.max(np.cos(2 * np.pi * np.arange(32) / 8 + 1.4))
    assert expected < 0.99
    assert float(shifted.sel(symmetry="mirror_x")) == pytest.approx(expected)
    assert float(shifted.sel(symmetry="rotation_180")) == pytest.approx(expected)
    assert float(shifted.sel(symmetry="mirror_y")) == pytest.approx(1.0)
    # rotating x-stripes gives y-stripes, orthogonal to the original for every shift
    assert float(stripes.sel(symmetry="rotation_90")) == pytest.approx(0.0, abs=1e-12)
    y, x = np.mgrid[0:32, 0:32]
    spots = np.cos(2 * np.pi * x / 8) + np.cos(2 * np.pi * y / 8)
    np.testing.assert_allclose(analysis.symmetry_scores(spots).values, 1.0)


def test_symmetry_score_of_an_asymmetric_profile_matches_the_closed_form():
    # g(x) = sin(t) + sin(2t), t = 2πx/λ. Mirrored and shifted by s: correlation
    # ⟨g(s-x) g(x)⟩ / ⟨g²⟩ = -(cos(as) + cos(2as)) / 2; the score is its max over integer s.
    wavelength = 32
    t = 2 * np.pi * np.arange(64) / wavelength
    field = (np.sin(t) + np.sin(2 * t))[None, :] * np.ones((16, 1))
    shifts = 2 * np.pi * np.arange(64) / wavelength
    expected = np.max(-(np.cos(shifts) + np.cos(2 * shifts)) / 2)
    score = analysis.symmetry_scores(field).sel(symmetry="mirror_x")
    assert float(score) == pytest.approx(expected, abs=1e-9)
    assert expected == pytest.approx(9 / 16, abs=0.01)  # the continuum maximum
    # about the grid centre (not periodic): g is odd about x = 0, and the centre mirror maps
    # x -> 63 - x = -1 - x (mod 64): correlation -(cos a + cos 2a)/2 with a = 2π/λ
    centred = analysis.symmetry_scores(field, periodic=False).sel(symmetry="mirror_x")
    a = 2 * np.pi / wavelength
    assert float(centred) == pytest.approx(-(np.cos(-a) + np.cos(-2 * a)) / 2, abs=1e-9)


def test_rotation_90_is_nan_on_non_square_grids():
    scores = analysis.symmetry_scores(plane_wave(16, 32, 8))
    assert math.isnan(float(scores.sel(symmetry="rotation_90")))
    assert float(scores.sel(symmetry="mirror_y")) == pytest.approx(1.0)


def test_distance_from_reference(rng):
    field = rng.normal(size=(3, 16, 16))
    reference = rng.normal(size=(16, 16))
    np.testing.assert_allclose(analysis.distance_from_reference(reference + 0.5, reference).values, 0.5)
    np.testing.assert_allclose(analysis.distance_from_reference(field).values, field.std(axis=(-2, -1)))
    array = as_dataarray(field)
    np.testing.assert_allclose(analysis.distance_from_reference(array, array.isel(time=0)).values[0], 0.0)
    vector = as_dataarray(np.stack([np.full((16, 16), 3.0), np.full((16, 16), 4.0)])[None])
    assert float(analysis.distance_from_reference(vector, 0.0).squeeze()) == pytest.approx(5.0)


# ------------------------------------------------------------------------------ surrogate test


def test_surrogate_test_white_noise_is_not_significant_and_a_pattern_is(rng):
    # Under "pixels exchangeable" the p-value is uniform on {1/20, ..., 1}: with 30 noise
    # fields, P(more than 8 at p <= 0.05) < 1e-4.
    noise = rng.normal(size=(30, 32, 32))
    p_noise = analysis.surrogate_test(noise, n_surrogates=19, seed=3).p_value.values
    assert np.count_nonzero(p_noise <= 0.05) <= 8
    assert p_noise.mean() == pytest.approx(0.525, abs=0.15)
    pattern = plane_wave(32, 32, 8) + 0.5 * rng.normal(size=(32, 32))
    result = analysis.surrogate_test(pattern, n_surrogates=99, seed=1)
    assert float(result.p_value) == pytest.approx(1 / 100)
    assert float(result.spectrum.sel(wavenumber=1 / 8)) > float(result.band_high.sel(wavenumber=1 / 8))
    assert (result.band_low <= result.band_high).all()


def test_surrogate_test_is_reproducible_with_a_seed(rng):
    noise = rng.normal(size=(16, 16))
    first = analysis.surrogate_test(noise, n_surrogates=19, seed=7)
    second = analysis.surrogate_test(noise, n_surrogates=19, seed=7)
    assert float(first.p_value) == float(second.p_value)
    xr.testing.assert_identical(first.band_high, second.band_high)


# ------------------------------------------------------------------------------ metrics dict, special fields


def test_homogeneity_metrics_keys_and_values_of_stripes():
    metrics = analysis.homogeneity_metrics(3.0 + plane_wave(32, 32, 8), n_surrogates=19)
    assert tuple(metrics) == (
        "dominant_wavelength",
        "spectral_entropy",
        "coefficient_of_variation",
        "morans_i",
        "anisotropy",
        "correlation_length",
        "surrogate_p_value",
    )
    assert all(isinstance(value, float) for value in metrics.values())
    assert metrics["dominant_wavelength"] == pytest.approx(8.0)
    assert metrics["morans_i"] == pytest.approx((math.cos(2 * math.pi / 8) + 1) / 2)
    assert metrics["coefficient_of_variation"] == pytest.approx(1 / math.sqrt(2) / 3)
    assert metrics["surrogate_p_value"] == pytest.approx(1 / 20)
    assert metrics["spectral_entropy"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["anisotropy"] == pytest.approx(1.0)


def test_homogeneity_metrics_over_time_are_dataarrays():
    values = np.stack([plane_wave(16, 16, 4), plane_wave(16, 16, 8)])
    metrics = analysis.homogeneity_metrics(as_dataarray(values), n_surrogates=0)
    np.testing.assert_allclose(metrics["dominant_wavelength"].values, [4.0, 8.0])
    assert metrics["dominant_wavelength"].dims == ("time",)
    assert metrics["dominant_wavelength"].attrs["units"] == "m"
    assert np.isnan(metrics["surrogate_p_value"].values).all()


def test_constant_field_has_documented_results():
    constant = np.full((16, 16), 2.5)
    metrics = analysis.homogeneity_metrics(constant, n_surrogates=9)
    assert metrics["coefficient_of_variation"] == 0.0
    assert metrics["surrogate_p_value"] == 1.0
    for key in ("dominant_wavelength", "spectral_entropy", "morans_i", "anisotropy", "correlation_length"):
        assert math.isnan(metrics[key]), key
    assert np.isnan(analysis.symmetry_scores(constant).values).all()
    assert float(analysis.distance_from_reference(constant)) == 0.0
    assert float(analysis.radial_power_spectrum(constant).sum()) == 0.0


@pytest.mark.parametrize(
    "function",
    [analysis.radial_power_spectrum, analysis.dominant_wavelength, analysis.morans_i, analysis.homogeneity_metrics],
)
def test_nan_input_raises_a_clear_error(function):
    field = np.ones((8, 8))
    field[2, 3] = np.nan
    with pytest.raises(ValueError, match="field contains NaN or infinite values"):
        function(field)


def test_bad_options_raise_clear_errors():
    field = np.zeros((8, 8))
    with pytest.raises(ValueError, match="unknown window 'hamming'"):
        analysis.radial_power_spectrum(field, window="hamming")
    with pytest.raises(ValueError, match="at least two dims"):
        analysis.morans_i(np.zeros(8))
    uneven = xr.DataArray(field, dims=("y", "x"), coords={"x": [0, 1, 2, 3, 5, 6, 7, 8]})
    with pytest.raises(ValueError, match="uniformly spaced"):
        analysis.radial_power_spectrum(uneven)
    with pytest.raises(ValueError, match="component_dims"):
        analysis.morans_i(as_dataarray(np.zeros((2, 8, 8))), component_dims=("feature",))


def test_numpy_leading_axes_are_independent_unless_named_components():
    values = np.stack([checkerboard(8, 8), plane_wave(8, 8, 4)])
    per_field = analysis.morans_i(values)
    assert per_field.dims == ("dim_0",)
    np.testing.assert_allclose(per_field.values, [-1.0, (math.cos(math.pi / 2) + 1) / 2])
    combined = analysis.morans_i(values, component_dims=("dim_0",))
    # checkerboard Σz² = 64 with I = -1; wave Σz² = 32 with I = 1/2
    assert float(combined) == pytest.approx((-64 + 0.5 * 32) / 96)


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
