"""The regime label of synthetic patterns whose class is known by construction, and the rule itself."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.analysis import classify_regime, pattern_regime
from rdnet.analysis.regime import SPOTS_EULER, SPOTS_FRACTION, STRIPES_FRACTION

N = 96


def bumps(centres, width: float = 2.5) -> np.ndarray:
    """Gaussian bumps of height 1 at the given centres on the N x N torus."""
    y, x = np.mgrid[0:N, 0:N]
    field = np.zeros((N, N))
    for cy, cx in centres:
        dy = (y - cy + N / 2) % N - N / 2
        dx = (x - cx + N / 2) % N - N / 2
        field += np.exp(-(dx**2 + dy**2) / (2 * width**2))
    return field


def hexagonal_centres(spacing: float = 12.0):
    rows = int(N / (spacing * np.sqrt(3) / 2))
    return [((r * spacing * np.sqrt(3) / 2) % N, (c * spacing + (r % 2) * spacing / 2) % N)
            for r in range(rows) for c in range(int(N / spacing))]  # fmt: skip


@pytest.fixture
def spots(rng):
    return bumps(hexagonal_centres()) + 0.01 * rng.normal(size=(N, N))


def test_spots(spots):
    regime = pattern_regime(spots, n_surrogates=39)
    assert regime.label == "spots"
    assert regime.evidence["components"] == len(hexagonal_centres())  # one component per bump
    assert regime.evidence["components_low"] == 1


def test_holes_are_inverted_spots(spots):
    regime = pattern_regime(1.0 - spots, n_surrogates=39)
    assert regime.label == "holes"
    assert regime.evidence["euler_number"] == -len(hexagonal_centres())


def test_stripes_and_a_labyrinth_of_bent_stripes(rng):
    y, x = np.mgrid[0:N, 0:N]
    assert pattern_regime(np.cos(2 * np.pi * x / 12) + 0.01 * rng.normal(size=(N, N)), n_surrogates=39).label == "stripes"
    # stripes bent by a slow sinusoidal meander (wavelength 12, bend over the whole box)
    meander = np.cos(2 * np.pi * (x + 8 * np.sin(2 * np.pi * y / N)) / 12)
    regime = pattern_regime(meander, n_surrogates=39)
    assert regime.label == "stripes"
    assert regime.evidence["stripe_fraction"] >= STRIPES_FRACTION


def test_a_mixture_of_spots_and_stripes(spots):
    y, x = np.mgrid[0:N, 0:N]
    stripes = 0.5 + 0.5 * np.cos(2 * np.pi * x / 12)
    left = (x % N) < N / 2
    mixture = np.where(left, stripes, spots)
    regime = pattern_regime(mixture, n_surrogates=39)
    assert regime.label == "mixed"


def test_noise_and_a_constant_are_homogeneous(rng):
    assert pattern_regime(rng.normal(size=(N, N)), n_surrogates=39).label == "homogeneous"
    constant = pattern_regime(np.full((N, N), 0.3), n_surrogates=39)
    assert constant.label == "homogeneous"
    assert constant.evidence["field_std"] == 0


def test_the_rule_by_hand():
    base = dict(surrogate_p_value=0.01, field_std=0.1, field_mean=0.5, orientation_order=0.5)
    assert classify_regime(**base, stripe_fraction=STRIPES_FRACTION, euler_number=0, components=3, components_low=3).label == "stripes"
    # spots need both few striped points and a high Euler fraction chi / (N+ + N-)
    just_spots = dict(euler_number=SPOTS_EULER * 10, components=9, components_low=1)
    assert classify_regime(**base, stripe_fraction=SPOTS_FRACTION - 0.01, **just_spots).label == "spots"
    assert classify_regime(**base, stripe_fraction=SPOTS_FRACTION, **just_spots).label == "mixed"
    assert classify_regime(**base, stripe_fraction=0.1, euler_number=-9, components=1, components_low=9).label == "holes"
    assert classify_regime(**base, stripe_fraction=0.1, euler_number=2, components=5, components_low=4).label == "mixed"
    # no pattern: the surrogate test does not reject, or the amplitude is at round-off level
    assert classify_regime(**{**base, "surrogate_p_value": 0.05}, stripe_fraction=0.9, euler_number=0,
                           components=1, components_low=1).label == "homogeneous"  # fmt: skip
    assert classify_regime(**{**base, "field_std": 1e-7, "field_mean": 1.0}, stripe_fraction=0.9,
                           euler_number=0, components=1, components_low=1).label == "homogeneous"  # fmt: skip
    regime = classify_regime(**base, stripe_fraction=0.0, euler_number=40, components=40, components_low=1)
    assert regime.evidence["euler_fraction"] == pytest.approx(40 / 41)
    assert "Euler fraction" in regime.reason


def test_balls_in_a_volume_are_spots_and_slabs_are_stripes(rng):
    import xarray as xr

    n = 24
    z, y, x = np.meshgrid(*(np.arange(n),) * 3, indexing="ij")
    # a simple cubic lattice of Gaussian balls, spacing 8 cells: 27 balls
    balls = sum(
        np.exp(-(((z - cz) % n - 4) ** 2 + ((y - cy) % n - 4) ** 2 + ((x - cx) % n - 4) ** 2) / (2 * 1.5**2))
        for cz in range(0, n, 8) for cy in range(0, n, 8) for cx in range(0, n, 8)
    ) + 0.01 * rng.normal(size=(n, n, n))  # fmt: skip
    volume = xr.DataArray(balls, dims=("z", "y", "x"))
    regime = pattern_regime(volume, n_surrogates=39)
    assert regime.label == "spots"
    assert regime.evidence["components"] == 27 and regime.evidence["euler_number"] == 27
    slabs = xr.DataArray(np.cos(2 * np.pi * z / 8) + 0.01 * rng.normal(size=(n, n, n)), dims=("z", "y", "x"))
    assert pattern_regime(slabs, n_surrogates=39).label == "stripes"


@pytest.mark.parametrize("n_surrogates", [0, 1, 5, 19])
def test_stripes_are_undetermined_when_no_test_can_reach_significance(n_surrogates):
    """With n surrogates the smallest p-value is 1/(n + 1): never below 0.05 for n < 20 (nor
    without a test). Perfect stripes were labelled 'homogeneous' there, as if the test had said so."""
    x = np.arange(N)
    stripes = np.cos(2 * np.pi * x / 8.0)[None, :] * np.ones((N, 1))
    regime = pattern_regime(stripes, n_surrogates=n_surrogates)
    assert regime.label == "undetermined", regime
    assert (n_surrogates == 0) or 1.0 / (n_surrogates + 1) >= 0.05  # the truth the rule rests on
    assert pattern_regime(stripes, n_surrogates=20).label == "stripes"  # 1/21 < 0.05: decidable
    flat = np.full((N, N), 3.0)  # round-off alone decides, test or not
    assert pattern_regime(flat, n_surrogates=n_surrogates).label == "homogeneous"


def test_the_fewest_surrogates_that_can_label_a_pattern():
    from rdnet.analysis.regime import MIN_PATTERN_SURROGATES, PATTERN_P_VALUE, check_pattern_surrogates

    reachable = [n for n in range(1, 100) if 1.0 / (n + 1) < PATTERN_P_VALUE]
    assert MIN_PATTERN_SURROGATES == reachable[0] == 20
    check_pattern_surrogates(0)
    check_pattern_surrogates(20)
    with pytest.raises(ValueError, match="smallest p-value is 1/20 = 0.05"):
        check_pattern_surrogates(19)


@pytest.mark.parametrize("exponent", [600, -600, 1000, -1000])
def test_the_summary_of_a_huge_or_tiny_field_is_that_of_the_field_at_unit_scale(exponent):
    """Multiplying a field by 2^e changes no scale-free metric (and scales threshold, std and mean
    by 2^e exactly). Beyond |f| ~ 1e154 the squares overflowed (below 1e-154 underflowed): a huge
    stripe pattern had wavelength NaN and CV 0, as if constant."""
    y, x = np.mgrid[0:24, 0:32]
    field = 1.5 + np.cos(2 * np.pi * x / 8) + 0.3 * np.sin(2 * np.pi * y / 12)
    scale = 2.0**exponent
    reference = pattern_regime(field, n_surrogates=20)
    assert reference.label == "stripes"
    with np.errstate(all="raise"):
        from rdnet.analysis import pattern_summary

        unit, scaled = pattern_summary(field, n_surrogates=20), pattern_summary(field * scale, n_surrogates=20)
    for key, value in unit.items():
        if isinstance(value, float):
            expected = value * scale if key in ("threshold", "field_std", "field_mean") else value
            assert scaled[key] == pytest.approx(expected, rel=1e-12, nan_ok=True), key
    if exponent > 0:  # tiny fields fall under the absolute round-off floor (1e-6): homogeneous by the rule
        assert scaled["regime"] == "stripes"
