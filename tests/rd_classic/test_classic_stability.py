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


def test_three_species_dispersion_relation_against_a_numpy_eigenvalue_scan():
    # extended Brusselator at (a, b/a, c a/d): J written by hand from the equations
    #   f = a - (1 + b) u + u^2 v - c u + d w,  g = b u - u^2 v,  h = c u - d w
    a, b, c, d, du, dv, dw = 3.0, 9.0, 2.0, 1.0, 1.0, 20.0, 1.0
    model = get_model("extended-brusselator", a=a, b=b, c=c, d=d, Du=du, Dv=dv, Dw=dw)
    u, v = a, b / a
    jacobian = np.array([[-(1 + b) + 2 * u * v - c, u * u, d], [b - 2 * u * v, -u * u, 0.0], [c, 0.0, -d]])
    np.testing.assert_allclose(model.jacobian(*model.homogeneous_state()), jacobian, rtol=1e-14)
    q = np.linspace(0.0, 4.0, 401)
    scan = np.array([np.linalg.eigvals(jacobian - qi**2 * np.diag([du, dv, dw])) for qi in q])
    computed = dispersion_relation(model, q)
    for row, expected in zip(computed, scan):
        np.testing.assert_allclose(np.sort_complex(row), np.sort_complex(expected), atol=1e-12)
    growth = scan.real.max(axis=1)
    analysis = turing_analysis(model)
    assert analysis.stable_without_diffusion and analysis.turing_unstable and analysis.instability == "stationary"
    best = int(np.argmax(growth))
    assert analysis.fastest_wavenumber == pytest.approx(q[best], abs=0.01)
    assert analysis.max_growth_rate == pytest.approx(growth[best], rel=1e-4)
    low, high = analysis.unstable_band
    unstable = q[growth > 0]
    assert low == pytest.approx(unstable.min(), abs=0.01) and high == pytest.approx(unstable.max(), abs=0.01)


def test_a_three_species_wave_instability_is_reported_as_oscillatory():
    # extended Brusselator with a slow inhibitor and a fast exchanging species (Yang et al. 2002's wave
    # instability): stable at q = 0, and a complex pair grows at q > 0 (impossible with two species)
    model = get_model("extended-brusselator", a=1.0, b=3.0, c=1.0, d=1.0, Du=1.0, Dv=0.1, Dw=100.0)
    jacobian = model.jacobian(*model.homogeneous_state())
    assert np.linalg.eigvals(jacobian).real.max() < 0
    q = np.linspace(0.0, 2.0, 2001)
    scan = np.array([np.linalg.eigvals(jacobian - qi**2 * np.diag(model.diffusion)) for qi in q])
    row = int(np.argmax(scan.real.max(axis=1)))
    leading = scan[row, np.argmax(scan[row].real)]
    assert leading.real > 0 and abs(leading.imag) > 0.5  # the scan's own verdict: an oscillating mode grows
    analysis = turing_analysis(model)
    assert analysis.turing_unstable and analysis.instability == "oscillatory"
    assert analysis.fastest_wavenumber == pytest.approx(q[row], abs=2e-3)
    assert analysis.max_growth_rate == pytest.approx(leading.real, rel=1e-5)


def test_a_state_unstable_at_q_0_is_reported_growing_on_its_band():
    # u' = u + lap u, v' = -v + lap v, w' = -w + lap w about 0: max Re lambda(q) = 1 - q^2 grows for
    # 0 <= q < 1, fastest at q = 0; "grows_at_some_q" said False beside the printed band 0 < q < 1
    from rd_classic.model_file import parse_model_text

    text = ('name = "three"\nspecies = ["u", "v", "w"]\n[diffusion]\nu = 1\nv = 1\nw = 1\n'
            '[reaction]\nu = "u"\nv = "-v"\nw = "-w"\n')  # fmt: skip
    analysis = turing_analysis(get_model(parse_model_text(text)))
    assert analysis.state == pytest.approx((0.0, 0.0, 0.0))
    assert analysis.fastest_wavenumber == 0.0 and analysis.max_growth_rate == pytest.approx(1.0)
    assert analysis.unstable_band == pytest.approx((0.0, 1.0))
    assert analysis.conditions == {"stable_without_diffusion": False, "grows_at_some_q": True}
    assert not analysis.turing_unstable  # unstable without diffusion: no Turing instability


def test_the_unstable_band_around_the_fastest_mode_starts_after_a_dip_below_zero():
    # a three-species Brusselator variant whose growth rate is positive at q = 0, negative near q = 0.3 and
    # positive again around the fastest q = 0.61: the band was reported as 0 < q < 1.08, as if all grew
    from rd_classic.model_file import parse_model_text
    from rd_classic.stability import unstable_band

    text = ('name = "tri"\nspecies = ["u", "v", "w"]\n[parameters]\na = 1.0\nb = 2.5\n'
            '[diffusion]\nu = 1.0\nv = 8.0\nw = 0.5\n[reaction]\n'
            'u = "a - (b + 1)*u + u**2*v + 0.1*(w - u)"\nv = "b*u - u**2*v"\nw = "0.1*(u - w)"\n')  # fmt: skip
    model = get_model(parse_model_text(text))
    state = model.homogeneous_state()
    jacobian = model.jacobian(*state)
    q = np.linspace(0.0, 2.0, 20001)
    growth = np.array([np.linalg.eigvals(jacobian - qi**2 * np.diag(model.diffusion)).real.max() for qi in q])
    best = int(np.argmax(growth))
    assert growth[0] > 0 and growth[: best].min() < 0  # the scan's own verdict: a dip between 0 and the peak
    below = np.nonzero(growth[: best] <= 0)[0].max()  # the last stable q before the peak
    above = best + np.nonzero(growth[best:] <= 0)[0].min()
    low, high = unstable_band(model)
    assert low == pytest.approx(q[below], abs=2e-4) and high == pytest.approx(q[above], abs=2e-4)


def test_the_unstable_band_around_the_fastest_mode_ends_at_the_first_root_above_it():
    # u grows at 10 - 10 q^2 (fastest at q = 0, band 0 <= q < 1); the decoupled Turing pair (v, w) grows on
    # a second band near 1.07 < q < 1.7: the band around the fastest mode ends at q = 1, not at 1.7
    from rd_classic.model_file import parse_model_text
    from rd_classic.stability import unstable_band

    text = ('name = "two-bands"\nspecies = ["u", "v", "w"]\n[diffusion]\nu = 10\nv = 1\nw = 5\n[reaction]\n'
            'u = "10*u"\nv = "5.75*(v + w)"\nw = "5.75*(-2*v - 1.5*w)"\n')  # fmt: skip
    model = get_model(parse_model_text(text))
    jacobian = model.jacobian(*model.homogeneous_state())
    q = np.linspace(0.0, 3.0, 30001)
    growth = np.array([np.linalg.eigvals(jacobian - qi**2 * np.diag(model.diffusion)).real.max() for qi in q])
    first_stable = np.nonzero(growth <= 0)[0].min()
    assert growth[first_stable:].max() > 0  # the scan's own verdict: the rate grows again beyond the first root
    low, high = unstable_band(model)
    assert low == 0.0 and high == pytest.approx(q[first_stable], abs=2e-4)


def test_steady_states_found_from_the_equations_are_every_real_root():
    # FitzHugh-Nagumo has no declared states: a1 u^3 + (1 - a1) u - a0 = 0 (v = u - u^3) has three real
    # roots for a1 = 2, a0 = 0.1; the admissible ones (all species >= 0) come first
    model = get_model("fitzhugh-nagumo", a1=2.0, a0=0.1)
    roots = np.sort(np.roots([2.0, 0.0, 1.0 - 2.0, -0.1]).real)
    expected = [(u, u - u**3) for u in roots]
    expected = sorted(expected, key=lambda state: (min(state) < 0, state))
    np.testing.assert_allclose(model.steady_states(), expected, rtol=1e-12, atol=1e-14)


def test_steady_states_at_a_huge_parameter_value():
    # the residual check squared its scale (1 + the largest parameter) with **, which raised OverflowError
    # for Dv = 1e300; the states do not depend on Dv: Schnakenberg's (a + b, b / (a + b)^2)
    model = get_model("schnakenberg", Dv=1e300)
    a, b = model.values["a"], model.values["b"]
    assert model.steady_states() == [pytest.approx((a + b, b / (a + b) ** 2))]


def test_an_immobile_activator_grows_fastest_as_q_goes_to_infinity():
    # Schnakenberg with Du = 0, Dv = 40 (a = 0.1, b = 0.9; state u = 1, v = 0.9): J = [[0.8, 1], [-1.8, -1]].
    # det(J - q^2 D) = 0.8 (-1 - 40 q^2) + 1.8 = 0 gives the band's start q^2 = 1/32; the rate then rises
    # towards J_uu = 0.8 as q -> infinity and never falls. The analysis reported the top of its scan
    # (q = 3.12, rate 0.7954) as the fastest mode, and a box listed faster allowed modes than it.
    from rd_classic.model_file import parse_model_text
    from rd_classic.stability import unstable_band, wavenumber_range

    text = ('name = "immobile"\nspecies = ["u", "v"]\n[parameters]\na = 0.1\nb = 0.9\n[diffusion]\nu = 0\nv = 40\n'
            '[reaction]\nu = "a - u + u**2*v"\nv = "b - u**2*v"\n')  # fmt: skip
    model = get_model(parse_model_text(text))
    jacobian = np.array([[0.8, 1.0], [-1.8, -1.0]])
    q = np.geomspace(0.2, 30.0, 2000)
    growth = np.array([np.linalg.eigvals(jacobian - qi**2 * np.diag([0.0, 40.0])).real.max() for qi in q])
    assert np.all(np.diff(growth) > 0) and growth[-1] < 0.8  # the scan's own verdict: rising towards 0.8
    analysis = turing_analysis(model)
    assert analysis.turing_unstable and analysis.instability == "stationary"
    assert analysis.fastest_wavenumber == math.inf and analysis.fastest_wavelength == 0.0
    assert analysis.max_growth_rate == pytest.approx(0.8, rel=1e-12)
    low, high = unstable_band(model)
    assert low == pytest.approx(math.sqrt(1 / 32), rel=1e-9) and high == math.inf
    top = wavenumber_range(model)
    assert math.isfinite(top) and top > math.sqrt(1 / 32)
    # in a box every allowed mode beyond the band's start grows: infinitely many, none fastest
    from rd_classic.stability import box_modes
    from rdnet.fit.first_guess import predicted_wavelength

    box = box_modes(model, (20.0,), ("no-flux",))
    assert box.unbounded and box.growing == math.inf and box.to_dict()["growing_modes"] is None
    assert math.isnan(predicted_wavelength(model))  # no finite wavelength to start a fit from


@pytest.mark.parametrize("F,k", [(0.04, 0.06), (0.01, 0.04)])
def test_gray_scott_on_its_saddle_node_curve_keeps_the_double_state(F, k):
    # on F = 4 (F + k)^2 the two non-trivial states meet at v = F / (2 (F + k)), u = (F + k) / v; the
    # declared closed form's square root of F^2 - 4 F (F + k)^2 = 0 rounded to -2e-19 and the state was lost
    assert F == pytest.approx(4 * (F + k) ** 2, rel=1e-12)
    v = F / (2 * (F + k))
    states = get_model("gray-scott", F=F, k=k).steady_states()
    assert len(states) == 2 and states[0] == (1.0, 0.0)
    assert states[1] == pytest.approx(((F + k) / v, v), rel=1e-12)


def test_a_dense_polynomial_system_beyond_the_exact_bound_is_searched_not_eliminated(monkeypatch):
    # three species of degrees 3, 3, 2 (Bezout bound 18) with dense terms: sympy's lex Groebner basis did
    # not finish in minutes, so `rdnet stability` hung; such a system goes to the multi-start search.
    # The constants make (0.9, -0.4, 0.6) a state.
    import sympy
    from scipy.optimize import fsolve

    from rd_classic.model_file import parse_model_text

    def refuse(*args, **kwargs):
        raise AssertionError("exact elimination attempted beyond its bound")

    monkeypatch.setattr(sympy, "groebner", refuse)
    reactions = {"u": "u**3 - 0.37*v**2*w + 1.13*u*v*w - 0.71*w**3 + 0.3*u - 0.56604",
                 "v": "v**3 + 0.37*u**2*w - 0.71*u*v**2 + 1.13*w**2*u - 0.7*v - 0.6597",
                 "w": "w**2 - 1.13*u*v + 0.37*v*w + 0.71*u**2 - 0.4*w - 1.0131"}  # fmt: skip
    text = ('name = "dense"\nspecies = ["u", "v", "w"]\n[diffusion]\nu = 1\nv = 1\nw = 1\n[reaction]\n'
            + "".join(f'{name} = "{term}"\n' for name, term in reactions.items()))  # fmt: skip
    model = get_model(parse_model_text(text))
    states = model.steady_states()

    def residual(s):
        u, v, w = s
        return [u**3 - 0.37*v**2*w + 1.13*u*v*w - 0.71*w**3 + 0.3*u - 0.56604,
                v**3 + 0.37*u**2*w - 0.71*u*v**2 + 1.13*w**2*u - 0.7*v - 0.6597,
                w**2 - 1.13*u*v + 0.37*v*w + 0.71*u**2 - 0.4*w - 1.0131]  # fmt: skip

    assert all(np.abs(residual(s)).max() < 1e-9 for s in states)
    assert any(np.allclose(s, (0.9, -0.4, 0.6), atol=1e-9) for s in states)
    rng = np.random.default_rng(0)
    for start in rng.uniform(-2.0, 2.0, (200, 3)):  # an independent search's roots near the origin are found
        root, info, ok, _ = fsolve(residual, start, full_output=True)
        if ok == 1 and np.abs(residual(root)).max() < 1e-12 and np.abs(root).max() < 2.0:
            assert any(np.allclose(root, s, atol=1e-7) for s in states), root


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda m: dispersion_relation(m, [np.nan]), ValueError, "wavenumbers must be finite"),  # was a LinAlgError
        (lambda m: dispersion_relation(m, None), ValueError, "wavenumbers must be real numbers"),
        (lambda m: dispersion_relation(m, [1j]), ValueError, "wavenumbers must be real numbers"),
        (lambda m: turing_analysis(m, state=[np.nan, 1.0]), ValueError, "state must be finite numbers"),
        (lambda m: turing_analysis(m, state={"u": 1.0, "v": 0.9}), ValueError, "state must be one number per species (u, v)"),
        (lambda m: turing_analysis("schnakenberg"), TypeError, "model must be a rd_classic Model"),  # was AttributeError
    ],
)
def test_bad_wavenumbers_states_and_models_are_refused_naming_the_argument(call, error, words):
    with pytest.raises(error) as caught:
        call(get_model("schnakenberg"))
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("lengths", "options", "words"),
    [
        ((-20.0,), {}, "lengths must be positive finite numbers"),  # was one mode, q = 0, for a negative box
        ((0.0,), {}, "lengths must be positive finite numbers"),  # was no modes at all
        ((np.nan,), {}, "lengths must be positive finite numbers"),  # was 'cannot convert float NaN to integer'
        ("20", {}, "lengths must be one number per axis"),
        ((20.0,), {"max_wavenumber": -1.0}, "max_wavenumber must be a positive finite number"),  # was no modes
        ((20.0,), {"max_wavenumber": np.nan}, "max_wavenumber must be a positive finite number"),
    ],
)
def test_box_modes_refuses_a_box_that_is_not_one(lengths, options, words):
    from rd_classic.stability import box_modes
    from rdnet.errors import ConfigError

    with pytest.raises(ConfigError, match=words):
        box_modes(get_model("schnakenberg"), lengths, ("periodic",), **options)


def test_box_modes_of_a_one_axis_box_given_as_a_number_are_those_of_the_tuple():
    """A number for lengths was 'float object is not iterable'; the periodic modes are q = 2 pi m / L."""
    from rd_classic.stability import box_modes

    modes = box_modes(get_model("schnakenberg"), 20.0, "periodic")
    assert modes.lengths == (20.0,) and modes.kinds == ("periodic",)
    np.testing.assert_allclose(np.sort(modes.wavenumbers), 2 * np.pi * np.arange(modes.wavenumbers.size) / 20.0)
