"""Linear stability: dispersion relation, Turing conditions, critical values, against closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rd_classic.models import get_model, model_names
from rd_classic.stability import critical_parameter, dispersion_relation, turing_analysis


@pytest.mark.parametrize("name", [n for n in model_names() if n != "linear"])
def test_dispersion_relation_equals_matrix_eigenvalues(name):
    model = get_model(name)
    state = model.steady_states()[0]
    q = np.linspace(0.0, 2.0, 7)
    computed = dispersion_relation(model, q, state=state)
    for qi, pair in zip(q, computed):
        matrix = model.jacobian(*state) - qi**2 * np.diag(model.diffusion)
        expected = np.sort_complex(np.linalg.eigvals(matrix))
        np.testing.assert_allclose(np.sort_complex(pair), expected, atol=1e-12)


def test_schnakenberg_critical_diffusion_ratio_matches_closed_form():
    # Murray II §2.4: (d fu + gv)^2 = 4 d det J at onset, with fu = (b - a)/(a + b), gv = -(a + b)^2
    a, b = 0.1, 0.9
    model = get_model("schnakenberg", a=a, b=b, Du=1.0)
    fu, gv, det = (b - a) / (a + b), -((a + b) ** 2), (a + b) ** 2
    # fu^2 d^2 + (2 fu gv - 4 det) d + gv^2 = 0, larger root
    A, B, C = fu * fu, 2 * fu * gv - 4 * det, gv * gv
    expected = (-B + math.sqrt(B * B - 4 * A * C)) / (2 * A)
    assert critical_parameter(model, "Dv", bracket=(1.0, 100.0)) == pytest.approx(expected, rel=1e-8)


def test_brusselator_turing_threshold_matches_closed_form():
    a, du, dv = 4.5, 2.0, 16.0
    threshold = (1 + a * math.sqrt(du / dv)) ** 2
    below = turing_analysis(get_model("brusselator", a=a, b=threshold * 0.99, Du=du, Dv=dv))
    above = turing_analysis(get_model("brusselator", a=a, b=threshold * 1.01, Du=du, Dv=dv))
    assert not below.turing_unstable and below.max_growth_rate < 0
    assert above.turing_unstable and above.max_growth_rate > 0
    # at onset the critical wavenumber is q_c^2 = sqrt(det J / (Du Dv)) (Murray II eq. 2.29) = a / sqrt(Du Dv)
    at = get_model("brusselator", a=a, b=threshold, Du=du, Dv=dv)
    q_onset = turing_analysis(at).fastest_wavenumber
    assert q_onset**2 == pytest.approx(a / math.sqrt(du * dv), rel=1e-4)


@pytest.mark.parametrize("name", ["schnakenberg", "gierer-meinhardt", "brusselator", "fitzhugh-nagumo"])
def test_default_presets_are_turing_unstable(name):
    analysis = turing_analysis(get_model(name))
    assert analysis.stable_without_diffusion and analysis.turing_unstable
    low, high = analysis.unstable_band
    assert low < analysis.fastest_wavenumber < high


def test_gray_scott_trivial_state_is_linearly_stable():
    analysis = turing_analysis(get_model("gray-scott"), state=(1.0, 0.0))
    # J = diag(-F, -(F + k)): the largest rate is -F at q = 0
    assert analysis.max_growth_rate == pytest.approx(-0.0367)
    assert not analysis.turing_unstable


def test_plot_range_reaches_where_the_dispersion_relation_falls():
    from rd_classic.stability import growth_rate, wavenumber_range

    # Gray-Scott's trivial state: lambda = -F - Du q^2 and -(F + k) - Dv q^2; no band, no fastest q > 0.
    # The range is 3 sqrt(max|J| / max D) = 3 sqrt((F + k) / Du), ~214, not [0, 1]
    model = get_model("gray-scott")
    top = wavenumber_range(model, state=(1.0, 0.0))
    assert top == pytest.approx(3 * math.sqrt((model.F + model.k) / model.Du), rel=1e-12)
    assert growth_rate(model, top)[0] < 10 * growth_rate(model, 0.0)[0]  # clearly falling (-0.56 vs -0.037)
    # Schnakenberg: twice the top of the unstable band, h(q^2) = Du Dv q^4 - (Dv fu + Du gv) q^2 + det = 0
    model = get_model("schnakenberg")
    (fu, fv), (gu, gv) = model.jacobian(*model.homogeneous_state())
    mixed, det = model.Dv * fu + model.Du * gv, fu * gv - fv * gu
    band_top = math.sqrt((mixed + math.sqrt(mixed**2 - 4 * model.Du * model.Dv * det)) / (2 * model.Du * model.Dv))
    assert wavenumber_range(model) == pytest.approx(2 * band_top, rel=1e-9)
