"""The fit's forward model: the batched torch step against a NumPy reference, and its gradients.

The gradients are held against central finite differences (float64, a short smooth
run), and the checkpointed and truncated rollouts against the plain graph.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rd_classic.backend_torch import make_batched_step
from rd_classic.grids import Grid
from rd_classic.models import get_model
from rd_classic.schemes import EXPLICIT_SCHEMES

from rdnet.fit.optimise import Objective
from rdnet.fit.parameters import parameter_space
from rdnet.fit.simulation import BatchedSimulator, SimulationSetup, rollout
from rdnet.fit.statistics import PatternDistance, StatisticsSettings


def _numpy_gray_scott_euler(u, v, F, k, Du, Dv, dt, dx, steps):
    """Explicit Euler of Pearson's Gray-Scott with the 5-point Laplacian on a periodic grid."""

    def laplacian(f):
        return (np.roll(f, 1, 0) + np.roll(f, -1, 0) + np.roll(f, 1, 1) + np.roll(f, -1, 1) - 4 * f) / dx**2

    for _ in range(steps):
        uvv = u * v * v
        u, v = (u + dt * (Du * laplacian(u) - uvv + F * (1 - u)),
                v + dt * (Dv * laplacian(v) + uvv - (F + k) * v))  # fmt: skip
    return u, v


def test_a_batched_step_with_per_run_parameters_equals_separate_numpy_runs(rng):
    model, grid = get_model("gray-scott"), Grid((12, 16), 0.01, "periodic")
    step = make_batched_step(model, grid, EXPLICIT_SCHEMES["euler"], dt=1.0, dtype="float64")
    u, v = 1 - 0.5 * rng.random((2, 12, 16)), 0.25 * rng.random((2, 12, 16))
    F, k = np.array([0.03, 0.045]), np.array([0.06, 0.065])
    state = torch.as_tensor(np.stack([u, v]))
    parameters = {"F": torch.as_tensor(F).reshape(2, 1, 1), "k": torch.as_tensor(k).reshape(2, 1, 1)}
    final = rollout(step, state, parameters, n_steps=20, dt=1.0).numpy()
    for run in range(2):
        expected = _numpy_gray_scott_euler(u[run], v[run], F[run], k[run], 2e-5, 1e-5, 1.0, 0.01, 20)
        np.testing.assert_allclose(final[:, run], np.stack(expected), rtol=1e-12, atol=1e-14)


def _gradient(segment=None, window=None):
    model, grid = get_model("gray-scott"), Grid((8, 8), 0.01, "periodic")
    step = make_batched_step(model, grid, EXPLICIT_SCHEMES["rk2"], dt=1.0, dtype="float64")
    rng = np.random.default_rng(1)
    state = torch.as_tensor(np.stack([1 - 0.5 * rng.random((1, 8, 8)), 0.25 * rng.random((1, 8, 8))]))
    F = torch.tensor([[[0.04]]], dtype=torch.float64, requires_grad=True)
    final = rollout(step, state, {"F": F}, n_steps=30, dt=1.0, checkpoint_every=segment, window=window)
    (final[1] ** 2).sum().backward()
    return float(F.grad), step, state


def test_checkpointed_gradients_equal_the_plain_graph():
    plain = _gradient(segment=0)[0]
    assert plain != 0
    for segment in (None, 1, 7, 30):
        assert _gradient(segment=segment)[0] == pytest.approx(plain, rel=1e-12)


def test_a_truncated_gradient_is_that_of_the_last_window_with_the_state_before_held_fixed():
    truncated, step, state = _gradient(window=10)
    F = torch.tensor([[[0.04]]], dtype=torch.float64)
    with torch.no_grad():
        held = rollout(step, state, {"F": F}, n_steps=20, dt=1.0)
    F.requires_grad_()
    final = rollout(step, held, {"F": F}, n_steps=10, dt=1.0, start_step=20, checkpoint_every=0)
    (final[1] ** 2).sum().backward()
    assert truncated == pytest.approx(float(F.grad), rel=1e-12)
    assert truncated != pytest.approx(_gradient(segment=0)[0], rel=1e-3)


def test_the_gradient_of_the_loss_equals_finite_differences_at_a_smooth_point():
    """Schnakenberg from noise about its steady state, short of any pattern: the loss is smooth in (a, Dv)."""
    model = get_model("schnakenberg")
    grid = Grid((16, 16), 2.0, "periodic")
    setup = SimulationSetup(model=model, grid=grid, dt=0.01, n_steps=150, initial_condition="noise", observed="u",
                            integrator="rk2", dtype="float64")  # fmt: skip
    simulator = BatchedSimulator(setup)
    space = parameter_space(model, ["a", "Dv"], {"a": (0.05, 0.2), "Dv": (10.0, 40.0)})
    target_model = model.with_parameters(a=0.12, Dv=30.0)
    target_setup = SimulationSetup(**{**setup.__dict__, "model": target_model})
    target_simulator = BatchedSimulator(target_setup)
    with torch.no_grad():
        target = target_simulator.observed(target_simulator.run(target_simulator.initial_states([{}], [7]), {}))[0]
    distance = PatternDistance(target.numpy(), spacing=(2.0, 2.0), settings=StatisticsSettings(softness=1.0))
    objective = Objective(simulator, space, distance, replicates=2, seed=0)
    point = np.array([0.4, 0.6])
    _, gradient = objective(point[None], gradient=True)
    step = 1e-5
    differences = []
    for axis in range(2):
        shift = np.zeros(2)
        shift[axis] = step
        high, _ = objective((point + shift)[None])
        low, _ = objective((point - shift)[None])
        differences.append((high[0] - low[0]) / (2 * step))
    assert np.all(np.abs(differences) > 1e-6)
    np.testing.assert_allclose(gradient[0], differences, rtol=1e-4)


def test_freed_tensors_go_back_to_the_system_on_glibc():
    """The fit sets glibc's mapping threshold (a long rollout otherwise fragments the heap)."""
    import platform

    from rdnet.fit.simulation import return_freed_tensors_to_the_system

    applied = return_freed_tensors_to_the_system()
    assert applied == (platform.libc_ver()[0] == "glibc")
