"""Tests of rdnet.analysis.surrogates against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments), never copied from its output.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from analysis_helpers import plane_wave

from rdnet import analysis

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
