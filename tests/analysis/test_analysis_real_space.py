"""Tests of rdnet.analysis.real_space against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments), never copied from its output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from analysis_helpers import as_dataarray, checkerboard, plane_wave
from scipy import ndimage, optimize, special

from rdnet import analysis

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
