"""Linear-noise theory of the finite-n fluctuations, checked against the update rule and the simulation."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rdnet.gan_dynamics import GanModel, initial_state, integrate_overlaps
from rdnet.gan_dynamics.fluctuations import overlap_diffusion, stationary_covariance, stationary_fluctuations
from rdnet.gan_dynamics.ode import make_overlap_rhs
from rdnet.gan_dynamics.phases import uninformative_jacobian
from rdnet.gan_dynamics.simulation import simulate_ensemble

MODEL = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
# a d = 2 point with everything switched on: not a copy model, P not diagonal, S not the identity
MODEL_2 = GanModel(0.2, 0.05, (3.0, 5.0), (2.5, 4.0), 2.0, 1.5)
P_2 = np.array([[0.8, 0.1], [-0.2, 0.7]])
S_2 = np.array([[1.0, 0.3], [0.3, 1.0]])


def _literal_one_step_increments(model, P, S, n, samples, seed):
    """(q, r) after one online step from q = r = 0, written straight from the update rule with n-vectors."""
    rng = np.random.default_rng(seed)
    d = model.features
    gram = np.eye(2 * d + 1)
    gram[:d, d : 2 * d] = P
    gram[d : 2 * d, :d] = P.T
    gram[d : 2 * d, d : 2 * d] = S
    basis, _ = np.linalg.qr(rng.standard_normal((n, 2 * d + 1)))
    vectors = basis @ np.linalg.cholesky(gram).T  # columns u_1..u_d, v_1..v_d, w with that Gram matrix
    U, V, w = vectors[:, :d], vectors[:, d : 2 * d], vectors[:, 2 * d]
    out = []
    for _ in range(samples // 5000):
        c = rng.standard_normal((5000, d)) * np.sqrt(model.lambda_real)
        c_gen = rng.standard_normal((5000, d)) * np.sqrt(model.lambda_gen)
        y = c @ U.T + np.sqrt(model.noise_real) * rng.standard_normal((5000, n))
        y_gen = c_gen @ V.T + np.sqrt(model.noise_gen) * rng.standard_normal((5000, n))
        x, x_gen = y @ w, y_gen @ w
        w_new = w + model.tau_d / n * (x[:, None] * y - x_gen[:, None] * y_gen)
        w_new /= np.linalg.norm(w_new, axis=1, keepdims=True)
        V_new = V + model.tau_g / n * (x_gen[:, None] * c_gen)[:, None, :] * w[None, :, None]
        V_new /= np.linalg.norm(V_new, axis=1, keepdims=True)
        out.append(np.concatenate([w_new @ U, np.einsum("mid,mi->md", V_new, w_new)], axis=1))
    return np.concatenate(out)


def test_diffusion_matches_the_one_step_covariance_of_the_update_rule():
    n = 100
    increments = _literal_one_step_increments(MODEL_2, P_2, S_2, n, samples=40000, seed=4)
    measured = np.cov(increments.T) * n**2  # n × covariance per unit time t (n steps)
    predicted = overlap_diffusion(MODEL_2, P_2, S_2)
    # 40000 samples: ~1 % sampling error on the entries; O(1/n) corrections are smaller
    assert np.abs(measured - predicted).max() < 0.04 * np.abs(predicted).max()
    # the copy model at the plateau, by hand: D_qq = τ²η(Λ(1+P²) + 2η), D_rr, D_qr (module docstring)
    tau, tau_g, lam, eta, P = 0.2, 0.04, 3.0, 2.0, 0.92
    d_qq = tau**2 * eta * (lam * (1 + P**2) + 2 * eta)
    d_rr = tau**2 * eta * (P**2 * lam + eta) + eta * ((tau_g - tau) ** 2 * lam + tau**2 * eta)
    d_qr = tau * eta * P * ((2 * tau - tau_g) * lam + 2 * tau * eta)
    assert np.allclose(overlap_diffusion(MODEL, [[P]]), [[d_qq, d_qr], [d_qr, d_rr]], rtol=1e-12)


def test_drift_matrix_is_the_ode_jacobian_at_q_r_zero():
    rhs = make_overlap_rhs(MODEL_2.tau_d, MODEL_2.tau_g, MODEL_2.lambda_real, MODEL_2.lambda_gen,
                           MODEL_2.noise_real, MODEL_2.noise_gen)
    d = 2
    base = np.concatenate([P_2.ravel(), np.zeros(2 * d), S_2.ravel()])
    h = 1e-6
    columns = []
    for k in range(2 * d):
        step = np.zeros_like(base)
        step[d * d + k] = h
        columns.append((rhs((base + step)[None])[0] - rhs((base - step)[None])[0]) / (2 * h))
    numeric = np.array(columns).T
    # (q, r) rows and columns: the Jacobian used by the theory
    assert np.allclose(numeric[d * d : d * d + 2 * d], uninformative_jacobian(MODEL_2, P_2, S_2), atol=1e-7)
    # P and S do not move to first order at q = r = 0, so the (q, r) block decouples
    assert np.allclose(numeric[: d * d], 0.0, atol=1e-7) and np.allclose(numeric[d * d + 2 * d :], 0.0, atol=1e-7)


def test_stationary_covariance_solves_the_lyapunov_equation():
    plateau = integrate_overlaps(MODEL, initial_state(1), [0.0, 300.0]).P[-1]
    sigma = stationary_covariance(MODEL, plateau)
    jacobian = uninformative_jacobian(MODEL, plateau)
    assert np.allclose(jacobian @ sigma + sigma @ jacobian.T + overlap_diffusion(MODEL, plateau), 0.0, atol=1e-10)
    assert np.all(np.linalg.eigvalsh(sigma) > 0)
    q_scale, r_scale = stationary_fluctuations(MODEL, plateau)
    assert q_scale[0] == pytest.approx(2.227, abs=1e-3) and r_scale[0] == pytest.approx(2.129, abs=1e-3)
    # closer to P_c the restoring force weakens and the fluctuations grow
    assert stationary_fluctuations(MODEL, [[0.90]])[0][0] > q_scale[0] > stationary_fluctuations(MODEL, [[0.95]])[0][0]


def test_unstable_points_and_bad_shapes_are_refused():
    with pytest.raises(ConfigError, match="not linearly stable"):
        stationary_covariance(MODEL, [[0.8]])  # below P_c = 0.884
    oscillating = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=1.0)
    with pytest.raises(ConfigError, match="not linearly stable"):
        stationary_fluctuations(oscillating, [[0.95]])
    with pytest.raises(ConfigError):
        overlap_diffusion(MODEL_2, [[0.9]])
    with pytest.raises(ConfigError):
        overlap_diffusion(MODEL, [[0.9]], S=np.eye(2))


def test_settled_runs_fluctuate_as_the_linear_noise_theory_predicts():
    """Started on the plateau (q = r = 0), the runs' spread settles at sqrt(Σ) within a few relaxation times."""
    n = 2000
    plateau = float(integrate_overlaps(MODEL, initial_state(1), [0.0, 300.0]).P[-1, 0, 0])
    q_scale, r_scale = stationary_fluctuations(MODEL, [[plateau]])
    times = np.arange(0.0, 151.0, 1.0)
    run = simulate_ensemble(MODEL, initial_state(1, P0=plateau, q0=0.0, r0=0.0), dimension=n, times=times,
                            replicas=32, seed=0)
    settled = times >= 30.0  # the slowest mode relaxes at rate 0.1 (the variance at 0.2)
    q = run.overlaps.q[:, settled, 0]
    r = run.overlaps.r[:, settled, 0]
    # the ODE stays at q = r = 0, so the mean square is the variance; 32 replicas × 120 time units give
    # a ~2.5 % standard error on the std, and the O(1/n) corrections at n = 2000 are a few % (low)
    assert np.sqrt(np.mean(q**2) * n) == pytest.approx(q_scale[0], rel=0.12)
    assert np.sqrt(np.mean(r**2) * n) == pytest.approx(r_scale[0], rel=0.12)
    assert abs(q.mean()) * np.sqrt(n) < 0.3 * q_scale[0]
