"""Tests of rdnet.analysis.homogeneity (all metrics at once) and the documented special fields against analytic results and theorems.

Each expected value below is derived independently of the code (closed forms in the
comments), never copied from its output.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from analysis_helpers import as_dataarray, checkerboard, plane_wave

from rdnet import analysis

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
