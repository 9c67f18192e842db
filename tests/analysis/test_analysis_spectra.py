"""Tests of rdnet.analysis.spectra and spectral_grid against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments), never copied from its output.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from analysis_helpers import as_dataarray, plane_wave
from hypothesis import given, settings
from hypothesis import strategies as st

from rdnet import analysis

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


@pytest.mark.parametrize("wavelength", [3, 4, 6, 8, 12])
def test_plane_wave_along_the_shorter_side_of_a_rectangle_gives_its_wavelength_exactly(wavelength):
    # 24 rows, 40 columns: bins are 1/40 wide, so k = 1/λ (a multiple of 1/24) is off every bin centre
    # but for λ = 4 and 8 (multiples of 1/40 too); the wave is one mode, at |k| = 1/λ
    field = plane_wave(24, 40, wavelength, along="y")
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(wavelength, rel=1e-9)
    assert analysis.homogeneity_metrics(field, n_surrogates=0)["dominant_wavelength"] == pytest.approx(wavelength)


@pytest.mark.parametrize("wavelength", [4.5, 7.3, 10.0])
def test_plane_wave_not_dividing_the_shorter_side_of_a_rectangle_is_found_within_a_few_percent(wavelength):
    # along the 24 rows of a 24 x 40 grid the modes j/24 fill only some of the 1/40-wide bins:
    # the leaking power's neighbours are the nearest bins holding power, not the adjacent ones
    # (λ = 10 was found at 15.4, λ = 4.5 at 5.27)
    field = plane_wave(24, 40, wavelength, along="y")
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(wavelength, rel=0.06)
    assert float(analysis.dominant_wavelength(field, window="hann")) == pytest.approx(wavelength, rel=0.02)


def test_a_windowed_lamella_along_the_shortest_side_of_a_box_is_not_refined_against_its_own_sidelobes():
    # 12 x 20 x 32 cells, λ = 5.5 along z: the Hann window spreads the line at k_z = 2/12 into a
    # bin half a bin away (off-axis modes, |k| = 0.175 against 0.168); that bin is the same line,
    # and a parabola through it put the peak at λ = 7.36
    z = np.arange(12)[:, None, None] * np.ones((1, 20, 32))
    field = xr.DataArray(np.cos(2 * np.pi * z / 5.5 + 0.3), dims=("z", "y", "x"))
    assert float(analysis.dominant_wavelength(field, window="hann")) == pytest.approx(5.5, rel=0.06)


def test_an_oblique_plane_wave_off_the_bin_centres_gives_its_wavelength_exactly():
    y, x = np.mgrid[0:24, 0:40]
    field = np.cos(2 * np.pi * (x / 8 + y / 6))  # |k| = sqrt(1/64 + 1/36) = 5/24, λ = 4.8 (bin centres j/40)
    assert float(analysis.dominant_wavelength(field)) == pytest.approx(4.8, rel=1e-9)
    checker = np.where((x + y) % 2 == 0, 1.0, -1.0)  # k = (1/2, 1/2): λ = sqrt(2) cells along the diagonal
    assert float(analysis.dominant_wavelength(checker)) == pytest.approx(np.sqrt(2), rel=1e-9)


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
