"""The reaction/diffusion split and the critic's gradients, held against torch.autograd."""

from __future__ import annotations

import math

import pytest
import torch

from rdnet.prd.networks import (
    critic_input_gradient,
    critic_value,
    generator_forward,
    initialise_critic,
    initialise_generator,
)
from rdnet.prd.training import (
    TrainingConfig,
    TrainingState,
    critic_gradients,
    critic_measurements,
    generator_rates,
    make_trainer,
)

from random_networks import random_problem


def _autograd_losses(X, Y, generator, critic):
    U = generator.U.clone().requires_grad_(True)
    V = generator.V.clone().requires_grad_(True)
    m, d_out = U.shape[0], V.shape[0]
    Z = V @ torch.relu(U @ X.T) / math.sqrt(d_out * m)  # the paper's column convention: (d_out, n)
    loss_sup = 0.5 * ((Z - Y.T) ** 2).sum()
    loss_adv = critic_value(critic.W, critic.a, Z.T).sum()
    return U, V, loss_sup, loss_adv


@pytest.mark.parametrize("d_out", [1, 3])
@pytest.mark.parametrize("weight", [1.0, 0.7])
def test_reaction_plus_diffusion_is_minus_autograd_gradient_of_augmented_loss(d_out, weight):
    X, Y, generator, critic = random_problem(1, n=12, d_in=9, d_out=d_out, m=40, m_critic=30)
    rate_U, rate_V, split, _ = generator_rates(X, Y, generator, critic, weight, with_split=True)
    U, V, loss_sup, loss_adv = _autograd_losses(X, Y, generator, critic)
    grad_U, grad_V = torch.autograd.grad(loss_sup - weight * loss_adv, (U, V))
    torch.testing.assert_close(split.reaction_U + split.diffusion_U, -grad_U, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(split.reaction_V + split.diffusion_V, -grad_V, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(rate_U, -grad_U, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(rate_V, -grad_V, rtol=1e-12, atol=1e-13)
    # and each part on its own: R = −∂L_sup/∂θ, D = +β ∂L_adv/∂θ
    U, V, loss_sup, loss_adv = _autograd_losses(X, Y, generator, critic)
    sup_U, sup_V = torch.autograd.grad(loss_sup, (U, V))
    U, V, loss_sup, loss_adv = _autograd_losses(X, Y, generator, critic)
    adv_U, adv_V = torch.autograd.grad(loss_adv, (U, V))
    torch.testing.assert_close(split.reaction_U, -sup_U, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(split.diffusion_U, weight * adv_U, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(split.reaction_V, -sup_V, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(split.diffusion_V, weight * adv_V, rtol=1e-10, atol=1e-12)
    assert split.diffusion_U.abs().max() > 0  # the adversary does act


def test_diffusion_is_exactly_zero_under_sole_supervision():
    X, Y, generator, _ = random_problem(2, n=10, d_in=7, d_out=2, m=25, m_critic=25)
    rate_U, rate_V, split, _ = generator_rates(X, Y, generator, None, with_split=True)
    assert torch.count_nonzero(split.diffusion_U) == 0
    assert torch.count_nonzero(split.diffusion_V) == 0
    assert torch.equal(split.reaction_U, rate_U)


@pytest.mark.parametrize("d_out", [1, 4])
def test_closed_form_critic_gradients_match_autograd_wgan_gp(d_out):
    generator_rng = torch.Generator().manual_seed(3)
    critic = initialise_critic(50, d_out, generator=generator_rng)
    real = torch.randn(20, d_out, generator=generator_rng, dtype=torch.float64)
    fake = torch.randn(20, d_out, generator=generator_rng, dtype=torch.float64)
    epsilon = torch.rand(20, 1, generator=generator_rng, dtype=torch.float64)
    grad_W, grad_a = critic_gradients(critic, real, fake, epsilon, gp_weight=10.0)
    values = critic_measurements(critic, real, fake, epsilon, gp_weight=10.0)

    W = critic.W.clone().requires_grad_(True)
    a = critic.a.clone().requires_grad_(True)
    interpolates = (epsilon * real + (1 - epsilon) * fake).requires_grad_(True)
    (input_gradient,) = torch.autograd.grad(critic_value(W, a, interpolates).sum(), interpolates, create_graph=True)
    penalty = ((input_gradient.norm(dim=1) - 1) ** 2).mean()
    objective = critic_value(W, a, real).sum() - critic_value(W, a, fake).sum() - 10.0 * penalty
    reference_W, reference_a = torch.autograd.grad(-objective, (W, a))
    torch.testing.assert_close(grad_W, reference_W, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(grad_a, reference_a, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(values["gradient_penalty"], penalty.detach())
    torch.testing.assert_close(values["critic_loss"], -objective.detach())


def _train(X, Y, config, steps, seed=0):
    generator = initialise_generator(64, X.shape[1], Y.shape[1], generator=torch.Generator().manual_seed(seed))
    critic = initialise_critic(64, Y.shape[1], generator=torch.Generator().manual_seed(seed + 1))
    state = TrainingState(
        generator=generator, critic=critic, initial_U=generator.U.clone(), initial_V=generator.V.clone(),
        batch_rng=torch.Generator().manual_seed(seed + 2), critic_rng=torch.Generator().manual_seed(seed + 3),
    )
    step = make_trainer(X, Y, config)
    losses = [step(state, with_split=(k % 7 == 0)).metrics["loss_sup"] for k in range(steps)]
    return state, losses


@pytest.mark.parametrize("optimizer", ["gd", "adam", "sgd"])
def test_adversary_weight_zero_reproduces_supervised_trajectory_exactly(optimizer):
    generator_rng = torch.Generator().manual_seed(4)
    X = torch.randn(16, 10, generator=generator_rng, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    Y = torch.randn(16, 2, generator=generator_rng, dtype=torch.float64)
    common = dict(lr=0.05 if optimizer != "adam" else 1e-2, optimizer=optimizer, train_layers="both",
                  batch_size=8 if optimizer == "sgd" else None)
    supervised, losses_sup = _train(X, Y, TrainingConfig(adversary=False, **common), 40)
    weight_zero, losses_zero = _train(X, Y, TrainingConfig(adversary=True, adversary_weight=0.0, **common), 40)
    adversarial, _ = _train(X, Y, TrainingConfig(adversary=True, adversary_weight=1.0, **common), 40)
    assert torch.equal(supervised.generator.U, weight_zero.generator.U)
    assert torch.equal(supervised.generator.V, weight_zero.generator.V)
    assert losses_sup == losses_zero
    # the comparison can fail: a real adversary changes the trajectory
    assert not torch.equal(supervised.generator.U, adversarial.generator.U)
    # the critic did train in the weight-0 run
    assert weight_zero.critic_updates == 40 * 5


def test_critic_measurements_share_one_pass_and_match_the_separate_functions():
    generator_rng = torch.Generator().manual_seed(5)
    critic = initialise_critic(40, 3, generator=generator_rng)
    real = torch.randn(15, 3, generator=generator_rng, dtype=torch.float64)
    fake = torch.randn(15, 3, generator=generator_rng, dtype=torch.float64)
    epsilon = torch.rand(15, 1, generator=generator_rng, dtype=torch.float64)
    measured = critic_measurements(critic, real, fake, epsilon, gp_weight=10.0)
    # the values from the critic's outputs g(y) (not through g(y) = yᵀ∇g(y), as measured)
    W, a = critic.W, critic.a
    value_real, value_fake = critic_value(W, a, real), critic_value(W, a, fake)
    interpolates = epsilon * real + (1 - epsilon) * fake
    penalty = ((critic_input_gradient(W, a, interpolates).norm(dim=1) - 1) ** 2).mean()
    expected = {"critic_loss": value_fake.sum() - value_real.sum() + 10.0 * penalty, "gradient_penalty": penalty,
                "wasserstein_estimate": value_real.mean() - value_fake.mean(), "loss_adv": value_fake.sum()}
    for name, value in expected.items():
        torch.testing.assert_close(measured[name], value, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(measured["input_gradient"], critic_input_gradient(critic.W, critic.a, fake),
                               rtol=1e-12, atol=1e-12)


def _state(X, Y, seed=0, m=64):
    generator = initialise_generator(m, X.shape[1], Y.shape[1], generator=torch.Generator().manual_seed(seed))
    critic = initialise_critic(m, Y.shape[1], generator=torch.Generator().manual_seed(seed + 1))
    return TrainingState(
        generator=generator, critic=critic, initial_U=generator.U.clone(), initial_V=generator.V.clone(),
        batch_rng=torch.Generator().manual_seed(seed + 2), critic_rng=torch.Generator().manual_seed(seed + 3),
    )


def test_a_step_reports_every_critic_value_with_the_updated_critic():
    """The values at step k all come from the critic after that step's updates (the one the generator's update uses)."""
    generator_rng = torch.Generator().manual_seed(6)
    X = torch.randn(12, 20, generator=generator_rng, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    Y = torch.randn(12, 2, generator=generator_rng, dtype=torch.float64)
    state = _state(X, Y)
    step = make_trainer(X, Y, TrainingConfig(adversary=True, critic_lr=1e-2, lr=0.05))
    for _ in range(3):
        step(state)
    critic_before = (state.critic.W.clone(), state.critic.a.clone())
    _, _, Z = generator_forward(state.generator.U, state.generator.V, X)
    metrics = step(state).metrics  # the critic updates, then θ_k is measured, then the generator moves
    W, a = state.critic.W, state.critic.a
    assert not torch.equal(W, critic_before[0])  # the critic did change during the step
    updated = {"loss_adv": float(critic_value(W, a, Z).sum()),
               "wasserstein_estimate": float(critic_value(W, a, Y).mean() - critic_value(W, a, Z).mean())}
    stale = float(critic_value(*critic_before, Y).mean() - critic_value(*critic_before, Z).mean())
    for name, value in updated.items():
        assert metrics[name] == pytest.approx(value, rel=1e-12, abs=1e-14), name
    assert metrics["wasserstein_estimate"] != pytest.approx(stale, rel=1e-6)
    # critic loss = Σ g(z) − Σ g(y) + λ_gp · penalty, all of the same (updated) critic
    expected_loss = critic_value(W, a, Z).sum() - critic_value(W, a, Y).sum() + 10.0 * metrics["gradient_penalty"]
    assert metrics["critic_loss"] == pytest.approx(float(expected_loss), rel=1e-12)


@pytest.mark.parametrize("train_layers", ["hidden", "both"])
@pytest.mark.parametrize("adversary", [False, True])
def test_per_step_reaction_and_diffusion_norms_equal_those_of_the_split(train_layers, adversary):
    """Every step measures ‖R‖_F, ‖D‖_F (both layers) and max_j ‖D_j^u‖ without forming D^U (K = X Xᵀ)."""
    generator_rng = torch.Generator().manual_seed(7)
    X = torch.randn(6, 60, generator=generator_rng, dtype=torch.float64)  # 8 n ≤ d_in: cheap per step
    X = X / X.norm(dim=1, keepdim=True)
    Y = torch.randn(6, 3, generator=generator_rng, dtype=torch.float64)
    config = TrainingConfig(adversary=adversary, lr=0.05, train_layers=train_layers, critic_lr=1e-2)
    names = ("reaction_u_frobenius", "diffusion_u_frobenius", "reaction_v_frobenius", "diffusion_v_frobenius",
             "max_neuron_diffusion_u")
    with_split, without = _state(X, Y), _state(X, Y)
    step_split, step_plain = make_trainer(X, Y, config), make_trainer(X, Y, config)
    for k in range(4):
        result = step_split(with_split, with_split=True)
        plain = step_plain(without).metrics
        split = result.split
        exact = {
            "reaction_u_frobenius": split.reaction_U.norm(), "diffusion_u_frobenius": split.diffusion_U.norm(),
            "reaction_v_frobenius": split.reaction_V.norm(), "diffusion_v_frobenius": split.diffusion_V.norm(),
            "max_neuron_diffusion_u": split.diffusion_U.norm(dim=1).max(),
        }
        for name in names:
            assert result.metrics[name] == pytest.approx(float(exact[name]), rel=1e-12, abs=1e-14), name
            assert plain[name] == pytest.approx(float(exact[name]), rel=1e-9, abs=1e-12), (k, name)
    assert (plain["diffusion_u_frobenius"] > 0) == adversary
    assert (plain["reaction_v_frobenius"] > 0) == (train_layers == "both")


def test_per_step_norms_fall_back_to_snapshots_when_not_cheap():
    generator_rng = torch.Generator().manual_seed(8)
    X = torch.randn(10, 12, generator=generator_rng, dtype=torch.float64)  # 8 n > d_in
    X = X / X.norm(dim=1, keepdim=True)
    Y = torch.randn(10, 1, generator=generator_rng, dtype=torch.float64)
    state = _state(X, Y)
    step = make_trainer(X, Y, TrainingConfig(adversary=True, lr=0.05))
    assert math.isnan(step(state).metrics["diffusion_u_frobenius"])
    assert step(state, with_split=True).metrics["diffusion_u_frobenius"] > 0
    supervised = make_trainer(X, Y, TrainingConfig(adversary=False, lr=0.05))
    assert supervised(_state(X, Y)).metrics["diffusion_u_frobenius"] == 0  # D = 0 exactly: free
