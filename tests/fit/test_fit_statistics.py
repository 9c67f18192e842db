"""The fit's differentiable statistics equal rdnet.analysis's definitions, and its distance behaves as documented."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rdnet.analysis import morphology_metrics, radial_power_spectrum as analysis_spectrum
from rdnet.fit.statistics import (PatternDistance, StatisticsSettings, boundary_length, radial_power_spectrum,
                                  value_quantiles)  # fmt: skip


def _pattern(rng, shape=(24, 32)):
    """A smooth random pattern (low-pass filtered noise) with values spread over a range."""
    noise = rng.normal(size=shape)
    ky = np.fft.fftfreq(shape[0])[:, None]
    kx = np.fft.fftfreq(shape[1])[None, :]
    return np.fft.ifft2(np.fft.fft2(noise) * np.exp(-((kx**2 + ky**2) / 0.01))).real


@pytest.mark.parametrize("window", [None, "hann"])
def test_radial_power_spectrum_equals_the_analysis_definition(rng, window):
    fields = np.stack([_pattern(rng), rng.normal(size=(24, 32))])
    ours = radial_power_spectrum(torch.as_tensor(fields), spacing=(0.5, 0.5), window=window).numpy()
    for field, spectrum in zip(fields, ours):
        expected = analysis_spectrum(field, dx=0.5, window=window).values
        np.testing.assert_allclose(spectrum, expected, rtol=1e-10, atol=1e-14)


def test_value_quantiles_equal_numpy_quantile(rng):
    fields = rng.normal(size=(3, 10, 7))
    levels = np.array([0.0, 0.03, 0.5, 0.77, 1.0])
    ours = value_quantiles(torch.as_tensor(fields), levels).numpy()
    np.testing.assert_allclose(ours, np.quantile(fields.reshape(3, -1), levels, axis=1).T, rtol=1e-12)


@pytest.mark.parametrize("periodic", [True, False])
def test_sharp_boundary_length_equals_the_morphology_metric(rng, periodic):
    field = _pattern(rng)
    thresholds = np.quantile(field, [0.25, 0.5, 0.75])
    ours = boundary_length(torch.as_tensor(field[None]), thresholds, spacing=(0.5, 0.5), periodic=periodic).numpy()[0]
    expected = [morphology_metrics(field, threshold=float(t), periodic=periodic, dx=0.5)["boundary_length"]
                for t in thresholds]  # fmt: skip
    np.testing.assert_allclose(ours, expected, rtol=1e-10)


def test_soft_boundary_length_tends_to_the_sharp_one_and_has_a_gradient(rng):
    field = torch.as_tensor(_pattern(rng)[None])
    threshold = [float(field.mean())]  # no value within a few softness of it
    sharp = boundary_length(field, threshold, spacing=(1.0, 1.0)).item()
    soft = boundary_length(field, threshold, spacing=(1.0, 1.0), softness=1e-6 * float(field.std())).item()
    assert soft == pytest.approx(sharp, rel=1e-3)
    field.requires_grad_()
    boundary_length(field, threshold, spacing=(1.0, 1.0), softness=0.25 * float(field.detach().std())).sum().backward()
    assert torch.count_nonzero(field.grad) > field.numel() // 4


def test_the_distance_is_zero_at_the_target_and_invariant_under_translation_and_rotation(rng):
    target = _pattern(rng, (32, 32))
    distance = PatternDistance(target, spacing=(1.0, 1.0), settings=StatisticsSettings())
    moved = np.stack([target, np.roll(target, (7, -11), axis=(0, 1)), np.rot90(target), target.T])
    residuals = distance.residuals(distance.statistics(torch.as_tensor(moved)).numpy())
    np.testing.assert_allclose(residuals, 0.0, atol=1e-10)
    other = distance.residuals(distance.statistics(torch.as_tensor(_pattern(rng, (32, 32))[None] * 2)).numpy())
    assert np.sum(other**2) > 0.01


def test_the_spectral_residual_is_a_cramer_von_mises_distance_between_two_waves():
    """Two single-wavenumber patterns: the residual norm grows with the distance between their wavenumbers."""
    x = np.arange(64)
    wave = lambda cycles: np.tile(np.cos(2 * np.pi * cycles * x / 64), (64, 1))  # noqa: E731
    distance = PatternDistance(wave(8), spacing=(1.0, 1.0), settings=StatisticsSettings())
    spectral = distance.blocks["spectrum"]
    fields = torch.as_tensor(np.stack([wave(cycles) for cycles in (8, 9, 12, 16)]))
    norms = np.sum(distance.residuals(distance.statistics(fields).numpy())[:, spectral] ** 2, axis=1)
    # the cumulative spectra differ by 1 in each bin between the two peaks: (cycle gap) / J
    np.testing.assert_allclose(norms, np.array([0, 1, 4, 8]) / distance.n_spectral, atol=1e-12)


def test_standardised_statistics_ignore_units():
    rng = np.random.default_rng(3)
    target = _pattern(rng)
    distance = PatternDistance(target, spacing=(1.0, 1.0), settings=StatisticsSettings(standardise=True))
    scaled = torch.as_tensor((3.0 * target + 5.0)[None])
    np.testing.assert_allclose(distance.residuals(distance.statistics(scaled).numpy()), 0.0, atol=1e-10)
