"""The overlap ODE and the phase classification against SOLVABLE_GAN.md's reproduction targets."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rdnet.gan_dynamics import GanModel, initial_state, integrate_overlaps
from rdnet.gan_dynamics.phases import (
    classify_trajectory,
    linear_phase,
    ode_phase_grid,
    uninformative_jacobian,
)

TIMES = np.linspace(0.0, 300.0, 601)


def copy_model(noise: float, lambdas=(3.0,)) -> GanModel:
    return GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=lambdas, noise=noise)


@pytest.mark.parametrize(
    ("noise", "phase"), [(2.0, "convergence"), (1.0, "oscillation"), (4.0, "failure")]
)
def test_d1_reproduction_points_ode_and_linear_theory_agree(noise, phase):
    model = copy_model(noise)
    path = integrate_overlaps(model, initial_state(1), TIMES)
    assert classify_trajectory(TIMES, path)[0] == phase
    assert linear_phase(model).phase == phase


def test_d1_convergence_plateau_and_critical_overlap():
    model = copy_model(2.0)
    path = integrate_overlaps(model, initial_state(1), TIMES)
    assert path.P[-1, 0, 0] == pytest.approx(0.9216, abs=2e-3)
    prediction = linear_phase(model)
    # closed form: P_c² = −ab/(τ²Λ²), a = τΛ − τ²η², b = τ̃Λ − τΛ − τ²η²  (η = 2: 0.8844)
    assert prediction.critical_overlap[0] == pytest.approx(0.884, abs=1e-3)
    # P freezes just above P_c, and the discriminator becomes uninformative
    assert prediction.critical_overlap[0] < path.P[-1, 0, 0] < prediction.critical_overlap[0] + 0.06
    assert abs(path.q[-1, 0]) < 1e-4 and abs(path.r[-1, 0]) < 1e-4


def test_d1_failure_keeps_initial_overlap():
    path = integrate_overlaps(copy_model(4.0), initial_state(1), TIMES)
    assert np.abs(path.P[:, 0, 0] - 0.1).max() < 0.01


def test_critical_overlap_is_where_the_jacobian_determinant_vanishes():
    model = copy_model(2.0)
    p_c = linear_phase(model).critical_overlap[0]
    below = np.linalg.det(uninformative_jacobian(model, [[p_c - 0.01]]))
    at = np.linalg.det(uninformative_jacobian(model, [[p_c]]))
    above = np.linalg.det(uninformative_jacobian(model, [[p_c + 0.01]]))
    assert below < 0 < above and abs(at) < 1e-10


def test_oscillation_has_a_growing_complex_mode():
    eigenvalues = np.linalg.eigvals(uninformative_jacobian(copy_model(1.0), [[0.95]]))
    assert np.max(eigenvalues.real) > 0 and np.max(np.abs(eigenvalues.imag)) > 0


@pytest.mark.parametrize(
    ("noise", "expected", "phase"),
    [(2.0, (0.921, 0.939), "convergence"), (4.0, (0.100, None), "mode-collapse")],
)
def test_d2_fig1_cases(noise, expected, phase):
    model = copy_model(noise, lambdas=(3.0, 5.0))
    path = integrate_overlaps(model, initial_state(2), TIMES)
    final = np.diag(path.P[-1])
    for value, target in zip(final, expected):
        if target is not None:
            assert value == pytest.approx(target, abs=3e-3)
    assert classify_trajectory(TIMES, path)[0] == phase
    assert linear_phase(model).phase == phase
    if phase == "mode-collapse":
        # only the strong feature is learnt; it freezes above its own P_c = 0.72
        p_c = linear_phase(model).critical_overlap[1]
        assert p_c == pytest.approx(0.72, abs=1e-3)
        assert p_c < final[1] < p_c + 0.05


def test_d2_weak_noise_oscillates():
    model = copy_model(1.0, lambdas=(3.0, 5.0))
    path = integrate_overlaps(model, initial_state(2), TIMES)
    assert classify_trajectory(TIMES, path)[0] == "oscillation"


def test_d2_ode_reduces_to_d1_for_identical_decoupled_features():
    one = integrate_overlaps(copy_model(2.0, (3.0,)), initial_state(1), TIMES[:200])
    # two features, the second with tiny overlaps: the first follows the d=1 equations up to the
    # coupling through m and ρ, which vanishes with the second feature's overlaps
    two = integrate_overlaps(copy_model(2.0, (3.0, 3.0)), initial_state(2, q0=0.1, r0=0.01), TIMES[:200])
    assert np.allclose(two.P[:, 0, 0], two.P[:, 1, 1], atol=1e-8)  # symmetric features stay symmetric
    assert np.abs(one.P[:20, 0, 0] - two.P[:20, 0, 0]).max() < 0.05


def test_phase_grid_agrees_with_linear_theory_away_from_boundaries():
    base = copy_model(1.0)
    noise = np.array([1.0, 2.0, 4.5])
    tau_g = np.array([0.04])
    codes = ode_phase_grid(base, {"noise": noise, "tau_g": tau_g})
    assert codes.tolist() == [[2, 1, 0]]  # oscillation, convergence, failure


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError):
        GanModel.copy_model(tau_d=-0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    with pytest.raises(ConfigError):
        GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=-1.0)
    with pytest.raises(ConfigError):
        GanModel(0.2, 0.04, (3.0, 5.0), (3.0,), 1.0, 1.0)
    with pytest.raises(ConfigError):
        initial_state(1, P0=0.9, q0=0.9, r0=-0.9)
