"""Pearson's Gray-Scott classes against the published catalogue."""

from __future__ import annotations

import pytest

from rd_classic.presets import get_preset

# Representative (F, k) of Pearson's classes (J. E. Pearson, Science 261:189, 1993, Fig. 3) as
# listed in R. Munafo's catalogue, mrob.com/pub/comp/xmorphia/pearson-classes.html (the "left"
# example of each class where it gives two), transcribed here independently of rd_classic.
XMORPHIA = {
    "alpha": (0.010, 0.047),
    "beta": (0.026, 0.051),
    "gamma": (0.022, 0.051),
    "delta": (0.030, 0.055),
    "epsilon": (0.018, 0.055),
    "zeta": (0.022, 0.061),
    "eta": (0.034, 0.063),
    "theta": (0.030, 0.057),
    "iota": (0.046, 0.0594),
    "kappa": (0.050, 0.063),
    "lambda": (0.034, 0.065),
    "mu": (0.046, 0.065),
}


@pytest.mark.parametrize("name", sorted(XMORPHIA))
def test_pearson_class_matches_the_catalogue(name):
    preset = get_preset("gray-scott", name)
    F, k = XMORPHIA[name]
    assert preset.parameters["F"] == pytest.approx(F, abs=1e-9)
    assert preset.parameters["k"] == pytest.approx(k, abs=1e-9)
    assert preset.initial_condition == "pearson"
