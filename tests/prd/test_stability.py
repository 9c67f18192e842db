"""The Jacobians of the PRD dynamics and their spectra, held against independent references:
finite differences of the engine's closed-form rates, NumPy's dense eigenvalues, a hand-derived
one-neuron case, a converged supervised minimum and a plane wave on the grid."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from rdnet.errors import ConfigError
from rdnet.prd import stability
from rdnet.prd.networks import CriticWeights, GeneratorWeights, initialise_critic, initialise_generator
from rdnet.prd.training import (
    TrainingConfig,
    TrainingState,
    critic_gradients,
    critic_measurements,
    generator_rates,
    make_trainer,
)

from random_networks import random_problem


def _state(seed: int = 1, *, n: int = 5, d_in: int = 6, d_out: int = 2, m: int = 16, m_critic: int = 7,
           beta: float = 0.7, train_layers: str = "both", gp_weight: float = 10.0, rate: float = 0.3):  # fmt: skip
    X, Y, weights, critic = random_problem(seed, n, d_in, d_out, m, m_critic)
    return stability.NetworkState(X=X, Y=Y, U=weights.U, V=weights.V, critic=critic, adversary_weight=beta,
                                  train_layers=train_layers, gp_weight=gp_weight, critic_rate=rate)  # fmt: skip


def _engine_rates(state: stability.NetworkState, layout, flat: np.ndarray, *, critic_rows: bool) -> np.ndarray:
    """The trainer's closed-form rates (R + D, and −ρ ∇_φ of the critic's loss without penalty) at a flat point."""
    blocks = {name: torch.from_numpy(np.array(value)) for name, value in layout.split(flat).items()}
    V = blocks.get("v", state.V)
    critic = None if state.critic is None else CriticWeights(W=blocks.get("w", state.critic.W),
                                                              a=blocks.get("a", state.critic.a))
    rate_U, rate_V, _, internals = generator_rates(state.X, state.Y, GeneratorWeights(U=blocks["u"], V=V), critic,
                                                   state.adversary_weight)  # fmt: skip
    parts = [rate_U.reshape(-1)] + ([rate_V.reshape(-1)] if "v" in blocks else [])
    if critic_rows:
        epsilon = torch.full((state.X.shape[0], 1), 0.5, dtype=torch.float64)  # irrelevant without penalty
        grad_W, grad_a = critic_gradients(critic, state.Y, internals["Z"], epsilon, gp_weight=0.0)
        parts += [-state.critic_rate * grad_W.reshape(-1), -state.critic_rate * grad_a.reshape(-1)]
    return torch.cat(parts).numpy()


def _finite_differences(function, point: np.ndarray, step: float = 1e-6) -> np.ndarray:
    columns = []
    for i in range(point.size):
        shift = np.zeros_like(point)
        shift[i] = step
        columns.append((function(point + shift) - function(point - shift)) / (2 * step))
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("kind,train_layers", [("reaction", "both"), ("frozen", "both"), ("frozen", "hidden")])
def test_dense_jacobian_matches_finite_differences_of_the_engine_rate(kind, train_layers):
    state = _state(train_layers=train_layers)
    if kind == "reaction":
        state = stability.NetworkState(X=state.X, Y=state.Y, U=state.U, V=state.V, critic=None,
                                       train_layers=train_layers)  # fmt: skip
    layout, matrix = stability.dense_jacobian(state, kind)
    _, point, _ = stability.vector_field(state, kind)
    reference = _finite_differences(lambda x: _engine_rates(state, layout, x, critic_rows=False), point)
    np.testing.assert_allclose(matrix, reference, rtol=0, atol=1e-7 * np.abs(reference).max())
    assert np.abs(matrix).max() > 0.05  # a Jacobian, not zeros


def test_game_jacobian_matches_finite_differences_of_the_generator_and_critic_rates():
    state = _state(gp_weight=0.0, rate=0.4)
    layout, matrix = stability.dense_jacobian(state, "game")
    _, point, _ = stability.vector_field(state, "game")
    reference = _finite_differences(lambda x: _engine_rates(state, layout, x, critic_rows=True), point)
    np.testing.assert_allclose(matrix, reference, rtol=0, atol=1e-7 * np.abs(reference).max())
    critic = layout.offsets()["w"].start
    assert np.abs(matrix[critic:, :critic]).max() > 1e-3  # the critic feels the generator


@pytest.mark.parametrize("kind", stability.JACOBIANS)
def test_iterative_leading_eigenvalues_match_the_dense_spectrum(kind):
    state = _state(seed=3)
    spectrum = stability.leading_spectrum(state, kind, count=4)
    assert spectrum.layout.size > 64 and spectrum.products > 0  # ARPACK's path, not the small dense one
    dense = stability.dense_spectrum(state, kind)
    np.testing.assert_allclose(spectrum.eigenvalues.real, dense[:4].real, rtol=1e-6)
    np.testing.assert_allclose(np.abs(spectrum.eigenvalues.imag), np.abs(dense[:4].imag), atol=1e-6 * np.abs(dense[0]))
    # the exact reduction: the full spectrum holds m (d_in − r) more zeros
    zeros = np.count_nonzero(np.abs(dense) < 1e-10 * np.abs(dense).max())
    assert zeros >= spectrum.structural_neutral_dimension == 16 * (6 - 5)


def test_eigenvectors_are_eigenvectors_of_the_dense_jacobian_in_full_coordinates():
    state = _state(seed=4)
    spectrum = stability.leading_spectrum(state, "frozen", count=3)
    _, matrix = stability.dense_jacobian(state, "frozen")
    for value, reduced in zip(spectrum.eigenvalues, spectrum.eigenvectors.T):
        blocks = spectrum.layout.split(reduced.real)
        full = np.concatenate([(blocks["u"] @ spectrum.basis.numpy()).ravel(), blocks["v"].ravel()])
        # ARPACK's criterion on J + s·I: a residual of at most accuracy · |Ritz value| ≤ 2 accuracy · s
        residual = np.linalg.norm(matrix @ full - value.real * full) / np.linalg.norm(full)
        scale = np.abs(spectrum.largest_modulus).max()
        assert residual <= 2 * stability.EIGEN_ACCURACY * scale
        assert np.linalg.norm(matrix @ full) > 1e3 * residual  # not a zero vector passing trivially


def test_a_trained_supervised_minimum_has_no_eigenvalue_above_the_tolerance():
    generator = torch.Generator().manual_seed(7)
    n, d_in, m = 4, 5, 25
    X = torch.randn(n, d_in, generator=generator, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    Y = torch.randn(n, 1, generator=generator, dtype=torch.float64) * 0.3
    weights = initialise_generator(m, d_in, 1, generator=generator)
    state = TrainingState(generator=weights, critic=None, initial_U=weights.U.clone(), initial_V=weights.V.clone(),
                          batch_rng=torch.Generator(), critic_rng=torch.Generator())  # fmt: skip
    step = make_trainer(X, Y, TrainingConfig(lr=0.2))
    for _ in range(3000):
        result = step(state)
    assert result.metrics["residual_norm"] < 1e-11  # interpolates the data: a global minimum
    at_minimum = stability.NetworkState(X=X, Y=Y, U=weights.U, V=weights.V)
    spectrum = stability.leading_spectrum(at_minimum, "reaction", count=8)
    assert spectrum.max_real_part <= spectrum.tolerance
    assert spectrum.unstable_count == 0 and spectrum.neutral_count >= 1
    assert spectrum.largest_modulus.real.min() < -0.01  # and the data directions decay: stable, not zero


def test_without_adversary_weight_the_frozen_jacobian_is_the_reaction_jacobian():
    state = _state(beta=0.0)
    _, frozen = stability.dense_jacobian(state, "frozen")
    _, reaction = stability.dense_jacobian(state, "reaction")
    np.testing.assert_array_equal(frozen, reaction)
    with_diffusion = stability.leading_spectrum(state, "frozen", count=3)
    alone = stability.leading_spectrum(state, "reaction", count=3)
    np.testing.assert_allclose(with_diffusion.eigenvalues, alone.eigenvalues, rtol=1e-9)
    assert not np.allclose(stability.dense_jacobian(_state(beta=0.7), "frozen")[1], reaction)


def _one_neuron(critic_slope: float, beta: float = 1.0, rate: float = 0.5) -> stability.NetworkState:
    one = torch.ones((1, 1), dtype=torch.float64)
    # f = v relu(u x) with x = 1, u = v = 1 hits y = 1 exactly; the critic g(z) = a relu(w z), w = 1,
    # has the constant gradient a = G at z > 0: a known linear function of the generator's output
    critic = CriticWeights(W=one.clone(), a=torch.tensor([critic_slope], dtype=torch.float64))
    return stability.NetworkState(X=one, Y=one, U=one, V=one, critic=critic, adversary_weight=beta,
                                  gp_weight=0.0, critic_rate=rate)  # fmt: skip


def test_one_neuron_with_a_known_critic_gradient_gives_the_analytic_eigenvalues():
    # L_aug = (uv − 1)²/2 − β G uv: the Hessian at u = v = 1 is [[1, 1 − βG], [1 − βG, 1]], so
    # J_R has {0, −2} (neutral and stable) and J_RD has −1 ± |1 − βG|: {1, −3} for βG = 3
    state = _one_neuron(critic_slope=3.0)
    reaction = stability.leading_spectrum(state, "reaction", count=2)
    np.testing.assert_allclose(reaction.eigenvalues.real, [0.0, -2.0], atol=1e-12)
    assert list(reaction.labels) == ["neutral", "stable"]
    frozen = stability.leading_spectrum(state, "frozen", count=2)
    np.testing.assert_allclose(frozen.eigenvalues.real, [1.0, -3.0], atol=1e-12)
    assert frozen.unstable_count == 1
    # the game: critic L = a w (z − y), ρ = 0.5; J derived by hand at (u, v, w, a) = (1, 1, 1, G)
    beta, slope, rho = 1.0, 3.0, 0.5
    analytic = -np.array([
        [1.0, 1 - beta * slope, -beta * slope, -beta],
        [1 - beta * slope, 1.0, -beta * slope, -beta],
        [rho * slope, rho * slope, 0.0, 0.0],
        [rho, rho, 0.0, 0.0],
    ])  # fmt: skip
    expected = np.linalg.eigvals(analytic)
    expected = expected[np.argsort(-expected.real)]
    game = stability.leading_spectrum(state, "game", count=4)
    np.testing.assert_allclose(np.sort_complex(game.eigenvalues), np.sort_complex(expected), atol=1e-10)
    lines = stability.turing_reading({"reaction": reaction, "frozen": frozen})
    assert lines[0].startswith("reaction alone (J_R): neutral")
    assert lines[-1].endswith("yes: the diffusion makes the state unstable (Turing-like)")


def test_a_plane_wave_mode_on_the_grid_gives_its_wavelength():
    height, width, rank, outputs, wavelength = 8, 16, 3, 2, 4.0
    m = height * width
    cells = np.random.default_rng(0).permutation(m).reshape(height, width)  # any arrangement
    column = np.empty(m)
    column[cells.ravel()] = np.tile(np.arange(width), height)  # x of every neuron
    wave = np.cos(2 * np.pi * column / wavelength)
    layout = stability.ParameterLayout(("u", "v"), ((m, rank), (outputs, m)))
    hidden = wave[:, None] * np.array([1.0, -0.5, 0.25])
    top = np.array([[0.3], [-0.7]]) * wave[None, :]
    vector = np.concatenate([hidden.ravel(), top.ravel()])
    mode = stability.mode_on_grid(vector / np.linalg.norm(vector), layout, cells)
    found, p_value = stability.mode_pattern(mode, n_surrogates=39)
    assert found == pytest.approx(wavelength, rel=1e-9)
    assert p_value == pytest.approx(1 / 40)
    assert mode.components.shape == (rank + outputs, height, width)
    np.testing.assert_allclose(mode.u_norm, np.abs(np.cos(2 * np.pi * np.arange(width) / wavelength))[None, :].repeat(height, 0)
                               * np.linalg.norm([1.0, -0.5, 0.25]) / np.linalg.norm(vector), rtol=1e-12)  # fmt: skip


def test_best_response_critic_trains_against_the_fixed_generator():
    state = _state(seed=5)
    initial = initialise_critic(7, 2, generator=torch.Generator().manual_seed(9))
    trained, preconditioner = stability.best_response_critic(state, initial, steps=50, lr=1e-2)
    epsilon = torch.full((state.X.shape[0], 1), 0.5, dtype=torch.float64)
    from rdnet.prd.networks import generator_forward

    Z = generator_forward(state.U, state.V, state.X)[2]
    before = critic_measurements(initial, state.Y, Z, epsilon, state.gp_weight)["critic_loss"]
    after = critic_measurements(trained, state.Y, Z, epsilon, state.gp_weight)["critic_loss"]
    assert after < before  # it minimised its loss
    assert preconditioner[0].shape == trained.W.shape and torch.all(preconditioner[0] > 0)


def test_options_that_cannot_apply_are_refused():
    state = _state()
    reaction_only = stability.NetworkState(X=state.X, Y=state.Y, U=state.U, V=state.V)
    with pytest.raises(ConfigError, match="needs a critic"):
        stability.leading_spectrum(reaction_only, "frozen")
    with pytest.raises(ConfigError, match="unknown Jacobian"):
        stability.leading_spectrum(state, "diffusion")
    with pytest.raises(ConfigError, match="at most 2000 parameters"):
        stability.dense_jacobian(_state(d_in=100, m=25), "reaction")
    assert math.isfinite(stability.leading_spectrum(state, "reaction", count=1).max_real_part)


def test_the_diffusion_couples_no_two_neurons():
    # with a ReLU critic ∇²g = 0 almost everywhere, so −β∇²L_adv = β Σ_p Σ_i ∂g/∂z_pi ∇²z_pi, and
    # ∇²z_pi only couples v_ij with u_j of the same neuron j: J_RD − J_R is block-diagonal per neuron
    state = _state(seed=6)
    layout, frozen = stability.dense_jacobian(state, "frozen")
    _, reaction = stability.dense_jacobian(state, "reaction")
    difference = frozen - reaction
    parts = layout.offsets()
    neuron = np.empty(layout.size, dtype=int)
    neuron[parts["u"]] = np.repeat(np.arange(16), 6)  # U is (m, d_in), row-major
    neuron[parts["v"]] = np.tile(np.arange(16), 2)  # V is (d_out, m)
    across = neuron[:, None] != neuron[None, :]
    assert np.abs(difference[across]).max() < 1e-14
    assert np.abs(difference[~across]).max() > 1e-2
