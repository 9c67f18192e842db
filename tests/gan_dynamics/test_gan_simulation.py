"""Microscopic simulation vs the ODE: the n^(-1/2) law, unit norms, and engine agreement."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rdnet.gan_dynamics import GanModel, initial_state, integrate_overlaps
from rdnet.gan_dynamics.fluctuations import stationary_fluctuations
from rdnet.gan_dynamics.simulation import simulate_ensemble

MODEL = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)


@pytest.mark.parametrize("engine", ["frame", "vector"])
def test_norms_stay_unit(engine):
    model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0, 5.0), noise=2.0)
    run = simulate_ensemble(model, initial_state(2), dimension=64, times=np.linspace(0, 5, 6),
                            replicas=2, seed=1, engine=engine)
    assert np.allclose(run.w_norm, 1.0, atol=1e-12)
    assert np.allclose(run.v_norm, 1.0, atol=1e-12)
    assert np.allclose(np.diagonal(run.overlaps.S, axis1=-2, axis2=-1), 1.0, atol=1e-12)
    # the stored coordinates are those of unit vectors consistent with the overlaps
    if engine == "vector":
        assert run.discriminator.shape == (2, 3, 64)
        w = run.discriminator[:, -1]
        assert np.allclose(np.linalg.norm(w, axis=-1), 1.0)
        assert np.allclose(w @ run.features, run.overlaps.q[:, -1], atol=1e-10)


def test_frame_weights_reproduce_the_overlaps():
    run = simulate_ensemble(MODEL, initial_state(1), dimension=300, times=np.linspace(0, 3, 4),
                            replicas=2, seed=3, max_weights=300)
    w = run.discriminator[:, -1]
    V = run.generator[:, -1]
    assert np.allclose(np.einsum("ri,id->rd", w, run.features), run.overlaps.q[:, -1], atol=1e-10)
    assert np.allclose(np.einsum("rid,ie->rde", V, run.features)[:, 0, 0], run.overlaps.P[:, -1, 0, 0], atol=1e-10)
    assert np.allclose(np.einsum("rid,ri->rd", V, w), run.overlaps.r[:, -1], atol=1e-10)


def test_frame_and_vector_engines_have_the_same_law():
    """The frame engine is the vector engine's Markov chain in a moving frame: same moments."""
    times = np.array([0.0, 2.0])
    kwargs = dict(dimension=60, times=times, replicas=600)
    frame = simulate_ensemble(MODEL, initial_state(1), seed=11, engine="frame", **kwargs).overlaps
    vector = simulate_ensemble(MODEL, initial_state(1), seed=12, engine="vector", **kwargs).overlaps
    for name in ("q", "r"):
        a = getattr(frame, name)[:, -1, 0]
        b = getattr(vector, name)[:, -1, 0]
        standard_error = np.sqrt(a.var() / a.size + b.var() / b.size)
        assert abs(a.mean() - b.mean()) < 4 * standard_error
        assert a.std() == pytest.approx(b.std(), rel=0.2)


def _deviation_and_spread(n: int, replicas: int, seed: int):
    times = np.linspace(0.0, 120.0, 25)
    ode = integrate_overlaps(MODEL, initial_state(1), times)
    run = simulate_ensemble(MODEL, initial_state(1), dimension=n, times=times, replicas=replicas, seed=seed)
    q = run.overlaps.q[..., 0]
    deviation = np.sqrt(np.mean((q.mean(axis=0) - ode.q[:, 0]) ** 2))
    late = times >= 60.0
    spread = q[:, late].std(axis=0, ddof=1).mean() * np.sqrt(n)
    return deviation, spread


def test_ensemble_mean_approaches_ode_and_spread_scales_as_inverse_sqrt_n():
    small_dev, small_spread = _deviation_and_spread(300, 30, seed=5)
    large_dev, large_spread = _deviation_and_spread(2400, 30, seed=6)
    # 8x larger n: the mean's RMS deviation from the ODE shrinks (by ~2.8 for a 1/sqrt(n) noise)
    assert large_dev < small_dev / 1.5
    # std(q)·sqrt(n) is size-independent. Over t in [60, 120] the spread is still building up towards its
    # plateau sqrt(Σ_qq) = 2.23 (P freezes at t ≈ 90), so this window averages to ~2 (measured 1.9-2.2);
    # the plateau itself is checked in test_gan_fluctuations.py and in the slow test below
    assert 0.7 < large_spread / small_spread < 1.4
    assert 1.5 < large_spread < 3.0


@pytest.mark.slow
def test_large_n_matches_the_ode_and_the_linear_noise_spread():
    """SOLVABLE_GAN.md's simulation-vs-ODE targets at n = 10000 with 100 runs (about 80 s on 2 cores).

    The published "std(q)·sqrt(n) stays ≈ 2.7" is read as the largest spread along the run: the spread
    is not constant in time (docs/gan_dynamics.md). It peaks at t ≈ 4, while the discriminator learns
    the feature (2.60 from the linear-noise covariance integrated along the ODE path), drops to ~0.4 for
    10 < t < 50, and settles once P has frozen at the stationary Lyapunov value sqrt(Σ_qq) = 2.23.
    """
    n = 10000
    times = np.concatenate([np.arange(0.0, 8.0, 0.25), np.arange(8.0, 200.5, 2.0)])
    ode = integrate_overlaps(MODEL, initial_state(1), times)
    run = simulate_ensemble(MODEL, initial_state(1), dimension=n, times=times, replicas=100, seed=7)
    q = run.overlaps.q[..., 0]
    r = run.overlaps.r[..., 0]
    # the mean of 100 runs follows the ODE (target: within ≈ 0.005 at n = 10000; its standard error
    # is std(q)/10 ≈ 0.0026 at the plateau)
    assert np.abs(q.mean(axis=0) - ode.q[:, 0]).max() < 0.012
    # settled (t >= 120, P frozen): the spread is the linear-noise (Lyapunov) prediction at the ODE plateau
    q_scale, r_scale = stationary_fluctuations(MODEL, ode.P[-1])
    settled = times >= 120.0
    assert np.sqrt(np.mean((q[:, settled] - ode.q[settled, 0]) ** 2) * n) == pytest.approx(q_scale[0], rel=0.1)
    assert np.sqrt(np.mean((r[:, settled] - ode.r[settled, 0]) ** 2) * n) == pytest.approx(r_scale[0], rel=0.1)
    # the transient peak (the "≈ 2.7"): linear-noise theory 2.60 at t ≈ 4; 100 runs: ±7 %
    early = times <= 8.0
    peak = q[:, early].std(axis=0, ddof=1).max() * np.sqrt(n)
    assert 2.2 < peak < 3.1
    assert 3.0 < times[early][q[:, early].std(axis=0).argmax()] < 5.5
    # between the two, a long quiet stretch far below both (the ODE's q is large and stiff there)
    quiet = (times >= 12.0) & (times <= 40.0)
    assert q[:, quiet].std(axis=0, ddof=1).max() * np.sqrt(n) < 1.0


def test_results_do_not_depend_on_threads():
    kwargs = dict(dimension=50, times=np.linspace(0, 1, 3), replicas=3, seed=9)
    one = simulate_ensemble(MODEL, initial_state(1), workers=1, **kwargs)
    two = simulate_ensemble(MODEL, initial_state(1), workers=2, **kwargs)
    assert np.array_equal(one.overlaps.q, two.overlaps.q)


def test_bad_arguments():
    with pytest.raises(ConfigError):
        simulate_ensemble(MODEL, initial_state(1), dimension=3, times=[0, 1])
    with pytest.raises(ConfigError):
        simulate_ensemble(MODEL, initial_state(2), dimension=100, times=[0, 1])
    with pytest.raises(ConfigError):
        simulate_ensemble(MODEL, initial_state(1), dimension=100, times=[0, 1], engine="magic")
    with pytest.raises(ConfigError):  # numpy's SeedSequence would raise a bare ValueError
        simulate_ensemble(MODEL, initial_state(1), dimension=100, times=[0, 1], seed=-1)
