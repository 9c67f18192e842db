"""Tests of rdnet.analysis on 3-D fields ``(..., z, y, x)`` against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments, or a NumPy reference written here), never copied from its output.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import xarray as xr
from analysis_helpers import as_volume, volume_wave
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import ndimage, optimize

from rdnet import analysis

#: An anisotropic grid: (nz, ny, nx) points with spacings (dz, dy, dx); sides (8, 24, 24) m.
SHAPE = (16, 24, 32)
SPACING = (0.5, 1.0, 0.75)
#: The finest wavenumber resolution of that grid, min over axes of 1 / (n d).
BIN_WIDTH = 1 / 24


def mode_wavevector(modes):
    """The wavevector (k_z, k_y, k_x) of integer mode numbers on the SHAPE/SPACING grid: k = m / (n d)."""
    return tuple(m / (n * d) for m, n, d in zip(modes, SHAPE, SPACING))


# ------------------------------------------------------------------------------ spectrum / Parseval


@settings(max_examples=30, deadline=None)
@given(
    shape=st.tuples(st.integers(2, 8), st.integers(2, 8), st.integers(2, 8)),
    spacing=st.tuples(st.floats(0.1, 10.0), st.floats(0.1, 10.0), st.floats(0.1, 10.0)),
    seed=st.integers(0, 2**32 - 1),
    offset=st.floats(-100, 100),
)
def test_parseval_in_three_dimensions(shape, spacing, seed, offset):
    values = np.random.default_rng(seed).normal(size=shape) + offset
    spectrum = analysis.radial_power_spectrum(as_volume(values, spacing))
    assert spectrum.dims == ("wavenumber",)
    assert float(spectrum.sum()) == pytest.approx(values.var(), rel=1e-9, abs=1e-12)
    assert float(spectrum.isel(wavenumber=0)) == pytest.approx(0.0, abs=1e-9 * (1 + offset**2))
    assert int(spectrum.mode_count.sum()) == math.prod(shape)  # every mode in exactly one shell


def test_spectrum_coordinates_of_an_anisotropic_volume(rng):
    spectrum = analysis.radial_power_spectrum(as_volume(rng.normal(size=SHAPE), SPACING, units="mm"))
    assert float(spectrum.wavenumber[1]) == pytest.approx(BIN_WIDTH)
    # Nyquist: min over axes of 1/(2d) = 1/(2 · 1.0)
    np.testing.assert_allclose(spectrum.relative_wavenumber, spectrum.wavenumber / 0.5)
    assert spectrum.wavenumber.attrs["units"] == "1/mm"
    # the corner of the grid, |k| = sqrt(Σ (1/(2d))²), is the last shell's
    corner = math.sqrt(sum((0.5 / d) ** 2 for d in SPACING))
    assert float(spectrum.wavenumber[-1]) == pytest.approx(corner, abs=BIN_WIDTH / 2)


def test_parseval_over_components_of_a_volume(rng):
    values = rng.normal(size=(2, 3, 4, 6, 8)) * np.array([1.0, 2.0, 3.0])[:, None, None, None]
    spectrum = analysis.radial_power_spectrum(as_volume(values))
    assert spectrum.dims == ("time", "wavenumber")
    np.testing.assert_allclose(spectrum.sum("wavenumber"), values.var(axis=(-3, -2, -1)).sum(axis=1), rtol=1e-10)


def test_z_named_as_a_component_dim_gives_planes_summed_over_z(rng):
    values = rng.normal(size=(4, 6, 8))
    spectrum = analysis.radial_power_spectrum(as_volume(values), component_dims=("z",))
    # 2-D spectra of the planes, their power added: the sum is Σ_z var(plane z)
    assert spectrum.wavenumber.size < analysis.radial_power_spectrum(as_volume(values)).wavenumber.size
    assert float(spectrum.sum()) == pytest.approx(values.var(axis=(-2, -1)).sum())


def test_hann_window_preserves_variance_in_expectation_in_three_dimensions(rng):
    fields = as_volume(rng.normal(size=(12, 12, 12, 12)) * 2.0)
    totals = analysis.radial_power_spectrum(fields, window="hann").sum("wavenumber")
    assert float(totals.mean()) == pytest.approx(4.0, rel=0.03)


# ------------------------------------------------------------------------------ dominant wavelength, entropy


def test_dominant_wavelength_of_an_oblique_plane_wave_on_an_anisotropic_grid():
    # modes (1, 2, 6): k = (1/8, 2/24, 6/(24)) = (3, 2, 6)/24, |k| = 7/24, on a shell centre
    field = as_volume(volume_wave(SHAPE, mode_wavevector((1, 2, 6)), SPACING), SPACING)
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(24 / 7, rel=1e-12)
    assert float(analysis.spectral_entropy(field)) == pytest.approx(0.0, abs=1e-12)  # one shell holds the power


@pytest.mark.parametrize("modes", [(1, 3, 5), (2, 5, 3), (3, 1, 9), (0, 7, 2)])
def test_dominant_wavelength_of_oblique_waves_is_within_half_a_shell(modes):
    wavevector = mode_wavevector(modes)
    magnitude = math.sqrt(sum(k**2 for k in wavevector))
    field = as_volume(volume_wave(SHAPE, wavevector, SPACING), SPACING)
    measured = 1.0 / float(analysis.dominant_wavelength(field))
    assert abs(measured - magnitude) <= BIN_WIDTH / 2


def test_spacing_options_override_the_coordinates_and_dz_defaults_to_dx():
    values = volume_wave((8, 8, 16), (0.0, 0.0, 1 / 8))  # 8 cells along x
    field = as_volume(values)  # coordinates with spacing 1
    assert float(analysis.dominant_wavelength(field, dx=0.5)) == pytest.approx(4.0)
    # the wave varies along z instead: dz follows dx unless given
    along_z = as_volume(np.transpose(values, (2, 1, 0)))  # (16, 8, 8), 8 cells along z
    assert float(analysis.dominant_wavelength(along_z, dx=0.5)) == pytest.approx(4.0)
    assert float(analysis.dominant_wavelength(along_z, dx=0.5, dz=2.0)) == pytest.approx(16.0)
    with pytest.raises(ValueError, match="dz applies to a 3-D field"):
        analysis.dominant_wavelength(np.ones((4, 4)), dz=1.0)


def test_spectral_entropy_of_two_equal_waves_in_different_shells():
    shape, spacing = (8, 8, 8), (1.0, 1.0, 1.0)
    field = volume_wave(shape, (0.0, 0.0, 1 / 8)) + volume_wave(shape, (1 / 4, 1 / 4, 0.0), phase=1.0)
    # J = the shells with k > 0 that hold modes: |k| of every mode of the full 8³ grid, rounded to Δk = 1/8
    k = np.meshgrid(*(np.fft.fftfreq(n, d) for n, d in zip(shape, spacing)), indexing="ij")
    shells = np.unique(np.floor(np.sqrt(sum(c**2 for c in k)) * 8 + 0.5))
    n_shells = np.count_nonzero(shells > 0)
    # two shells holding half the variance each: H = log 2 / log J
    expected = math.log(2) / math.log(n_shells)
    assert float(analysis.spectral_entropy(as_volume(field, spacing))) == pytest.approx(expected, rel=1e-9)


# ------------------------------------------------------------------------------ Moran's I (6 neighbours)


def morans_i_by_enumeration(values: np.ndarray, periodic: bool) -> float:
    """Moran's I with rook weights, summing over every point and each of its (up to) 6 neighbours."""
    z = values - values.mean()
    shape = values.shape
    numerator, weight_sum = 0.0, 0
    for point in itertools.product(*(range(n) for n in shape)):
        for axis, step in itertools.product(range(3), (-1, 1)):
            neighbour = list(point)
            neighbour[axis] += step
            if not 0 <= neighbour[axis] < shape[axis]:
                if not periodic:
                    continue
                neighbour[axis] %= shape[axis]
            numerator += z[point] * z[tuple(neighbour)]
            weight_sum += 1
    return values.size / weight_sum * numerator / np.sum(z**2)


@pytest.mark.parametrize("axis, wavelength", [(0, 4), (1, 6), (2, 5)])
def test_morans_i_of_a_cosine_along_one_axis_on_an_anisotropic_grid(axis, wavelength):
    shape = (8, 12, 10)  # λ divides the axis it varies along
    index = np.arange(shape[axis])
    profile = np.cos(2 * np.pi * index / wavelength + 0.4)
    values = np.broadcast_to(np.expand_dims(profile, [a for a in range(3) if a != axis]), shape).copy()
    # periodic, 6 neighbours, W = 6N: each axis holds N links and carries weight 1/3. Along the
    # cosine's axis Σ z_i z_{i+1} = (N/2) cos(2π/λ); along the two others Σ z_i z_{i+1} = N/2 = Σ z².
    weight = 1 / 3
    expected = weight * math.cos(2 * math.pi / wavelength) + 2 * weight * 1.0
    field = as_volume(values, spacing=(0.3, 1.0, 2.5))  # Moran's I does not depend on the spacing
    assert float(analysis.morans_i(field)) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("periodic", [True, False])
def test_morans_i_matches_neighbour_enumeration(rng, periodic):
    values = rng.normal(size=(3, 4, 5)) + np.arange(5) * 0.3  # a trend along x: I well away from 0
    expected = morans_i_by_enumeration(values, periodic)
    assert float(analysis.morans_i(as_volume(values), periodic=periodic)) == pytest.approx(expected, rel=1e-12)


def test_morans_i_of_a_three_dimensional_checkerboard_is_minus_one():
    z, y, x = np.indices((4, 6, 8))
    board = np.where((x + y + z) % 2 == 0, 1.0, -1.0)
    for periodic in (True, False):
        assert float(analysis.morans_i(as_volume(board), periodic=periodic)) == pytest.approx(-1.0)


# ------------------------------------------------------------------------------ correlation length


def test_correlation_length_of_a_plane_wave_is_the_spherical_sinc_crossing():
    # Autocorrelation of cos(2πx/λ) is cos(2π r_x/λ); its average over a sphere of radius r is
    # sin(q r)/(q r), q = 2π/λ, so the 1/e crossing is at r = z* λ / (2π) with sin(z*)/z* = 1/e.
    wavelength, n = 16, 32
    z_star = optimize.brentq(lambda z: math.sin(z) / z - math.exp(-1), 0.1, 3.0)
    expected = z_star * wavelength / (2 * math.pi)
    field = as_volume(volume_wave((n, n, n), (0.0, 0.0, 1 / wavelength), phase=0.0))
    assert float(analysis.correlation_length(field)) == pytest.approx(expected, rel=0.01)
    # the wave along z with dz = 0.5: the same number of cells, half the length
    along_z = as_volume(volume_wave((n, n, n), (1 / (wavelength * 0.5), 0.0, 0.0), spacing=(0.5, 1, 1)), (0.5, 1, 1))
    assert float(analysis.correlation_length(along_z)) == pytest.approx(0.5 * expected, rel=0.02)


def test_correlation_length_of_gaussian_smoothed_noise_in_three_dimensions(rng):
    # White noise convolved with a Gaussian of width s has autocorrelation exp(-r²/(4s²)) in any
    # dimension: 1/e at r = 2s.
    sigma = 2.0
    fields = np.stack([ndimage.gaussian_filter(rng.normal(size=(32, 32, 32)), sigma, mode="wrap") for _ in range(3)])
    lengths = analysis.correlation_length(as_volume(fields)).values
    assert lengths.mean() == pytest.approx(2 * sigma, rel=0.1)


# ------------------------------------------------------------------------------ CV, distance, surrogates


def test_coefficient_of_variation_and_distance_of_a_volume(rng):
    values = 3.0 + rng.normal(size=(5, 6, 7))
    field = as_volume(values)
    assert float(analysis.coefficient_of_variation(field)) == pytest.approx(values.std() / values.mean())
    assert float(analysis.distance_from_reference(field)) == pytest.approx(values.std())
    reference = rng.normal(size=values.shape)
    expected = np.sqrt(np.mean((values - reference) ** 2))
    assert float(analysis.distance_from_reference(field, reference)) == pytest.approx(expected)


def test_surrogate_test_finds_a_three_dimensional_pattern_and_not_a_constant():
    wave = as_volume(volume_wave((8, 8, 8), (1 / 4, 0.0, 1 / 8)))
    assert float(analysis.surrogate_test(wave, n_surrogates=19).p_value) == pytest.approx(1 / 20)
    assert float(analysis.surrogate_test(as_volume(np.full((4, 4, 4), 2.0)), n_surrogates=19).p_value) == 1.0


# ------------------------------------------------------------------------------ orientation and symmetry


def test_anisotropy_is_the_order_of_the_wavevectors_in_three_dimensions(rng):
    # lamellae (one wavevector direction, oblique) -> 1
    lamellae = as_volume(volume_wave(SHAPE, mode_wavevector((1, 2, 6)), SPACING), SPACING)
    assert float(analysis.anisotropy(lamellae)) == pytest.approx(1.0, abs=1e-9)
    # square tubes along z: equal power along k_x and k_y, none along k_z. M = diag(0, 1/2, 1/2),
    # Q = (3M − I)/2 = diag(−1/2, 1/4, 1/4): largest eigenvalue 1/4
    tubes = volume_wave((8, 16, 16), (0.0, 0.0, 1 / 8)) + volume_wave((8, 16, 16), (0.0, 1 / 8, 0.0))
    assert float(analysis.anisotropy(as_volume(tubes))) == pytest.approx(0.25, abs=1e-9)
    # white noise on a cube: isotropic
    assert float(analysis.anisotropy(as_volume(rng.normal(size=(16, 16, 16))))) < 0.05


def test_anisotropy_in_two_dimensions_is_the_doubled_angle_vector_strength(rng):
    # the order-tensor eigenvalue equals |Σ P e^{2iθ}| / Σ P, computed here on the full FFT
    # (odd sides: no Nyquist modes, whose sign of k is a convention)
    values = ndimage.gaussian_filter(rng.normal(size=(25, 31)), (1.0, 3.0), mode="wrap")
    dy, dx = 0.7, 1.3
    power = np.abs(np.fft.fft2(values - values.mean())) ** 2
    k_y, k_x = np.meshgrid(np.fft.fftfreq(25, dy), np.fft.fftfreq(31, dx), indexing="ij")
    phase = np.where((k_x == 0) & (k_y == 0), 0.0, np.exp(2j * np.arctan2(k_y, k_x)))
    expected = abs(np.sum(power * phase)) / np.sum(power)
    assert float(analysis.anisotropy(values, dx=dx, dy=dy)) == pytest.approx(expected, rel=1e-9)


def test_angular_spectrum_is_undefined_in_a_volume_and_planar_in_a_one_plane_volume(rng):
    assert np.all(np.isnan(analysis.angular_spectrum(as_volume(rng.normal(size=(4, 8, 8)))).values))
    plane = rng.normal(size=(8, 10))
    one_plane = analysis.angular_spectrum(as_volume(plane[None]))
    # one point along z: the field is the plane, whose orientations sum to its variance
    assert float(one_plane.sum()) == pytest.approx(plane.var())
    np.testing.assert_allclose(one_plane.values, analysis.angular_spectrum(as_volume(plane[None])[0]).values)


def test_symmetry_scores_act_in_the_planes_of_a_volume():
    shape = (8, 16, 16)
    # a = cos(2πx/8) is even in x and in (y, x) → (−y, −x); b = cos(2π(y/8 + z/4)) maps under
    # y → −y (and under the half turn) to a wave of another wavevector, orthogonal at every shift.
    # Each carries half the variance, so: mirror_x 1, mirror_y 1/2, rotation_180 1/2; a quarter turn
    # sends both to wavevectors absent from the field: rotation_90 0.
    field = volume_wave(shape, (0.0, 0.0, 1 / 8), phase=0.0) + volume_wave(shape, (1 / 4, 1 / 8, 0.0))
    scores = analysis.symmetry_scores(as_volume(field))
    expected = {"mirror_x": 1.0, "mirror_y": 0.5, "rotation_90": 0.0, "rotation_180": 0.5}
    for name, value in expected.items():
        assert float(scores.sel(symmetry=name)) == pytest.approx(value, abs=1e-9), name
    non_square = analysis.symmetry_scores(as_volume(field[:, :, :8]))
    assert np.isnan(float(non_square.sel(symmetry="rotation_90")))


# ------------------------------------------------------------------------------ all metrics, dask


def test_homogeneity_metrics_of_a_volume_lazy_equals_eager(rng):
    values = 0.3 * rng.normal(size=(3, 8, 12, 10)) + volume_wave((8, 12, 10), (1 / 4, 0.0, 1 / 5))
    eager = as_volume(values)
    lazy = eager.chunk({"time": 2, "z": 4})
    metrics_lazy = analysis.homogeneity_metrics(lazy, n_surrogates=9)
    metrics_eager = analysis.homogeneity_metrics(eager, n_surrogates=9)
    for key in analysis.HOMOGENEITY_KEYS:
        assert metrics_lazy[key].chunks is not None
        xr.testing.assert_allclose(metrics_lazy[key].compute(), metrics_eager[key])
    # the snapshots' common wave, |k| = sqrt(1/16 + 1/25), found within half a shell (Δk = 1/12)
    measured = 1 / metrics_eager["dominant_wavelength"].values
    assert np.all(np.abs(measured - math.hypot(1 / 4, 1 / 5)) <= 1 / 24)


def test_a_numpy_array_stays_a_batch_of_planes(rng):
    values = rng.normal(size=(4, 6, 8))
    spectrum = analysis.radial_power_spectrum(values)
    assert spectrum.dims == ("dim_0", "wavenumber")
    np.testing.assert_allclose(spectrum.sum("wavenumber"), values.var(axis=(-2, -1)))
