r"""One training step of the PRD model, with the per-neuron reaction/diffusion split.

The generator minimises the augmented loss (paper eq. 3)

.. math:: L_{aug} = L_{sup} - \beta L_{adv}, \quad
          L_{sup} = \tfrac12 \lVert f(U, V, X) - Y \rVert_F^2, \quad
          L_{adv} = \sum_p g(W, a, f(x_p)),

with β the adversary weight (β = 1 is the paper). Every step computes, for each neuron j and
both layers, the **reaction** R_j = −∂L_sup/∂θ_j and the **diffusion** D_j = +β ∂L_adv/∂θ_j
(paper eq. 5) from one shared forward pass and activation pattern, in closed form. The rate of
change applied (the gradient-flow right-hand side) is exactly −∂L_aug/∂θ = R + D:

.. math:: -\frac{\partial L_{aug}}{\partial U} = -c\,\big[((E - \beta G) V) \odot A\big]^T X,
          \qquad
          -\frac{\partial L_{aug}}{\partial V} = -c\,(E - \beta G)^T \sigma(X U^T),

with c = 1/sqrt(d_out m), E = Z − Y the residuals, G = ∇_z g(W, a, Z) the critic's input
gradient and A the 0/1 activation pattern. The diffusion part is the same expression with
−βG in place of E − βG; the reaction is the total minus the diffusion. The critic is trained
as the WGAN-GP critic (Gulrajani et al. 2017), ``critic_steps`` updates before each generator
update, maximising Σ_p g(y_p) − Σ_p g(z_p) − λ_gp · mean_p (‖∇g(ŷ_p)‖ − 1)² on interpolates
ŷ = ε y + (1 − ε) z, ε ~ U(0, 1).

A step k runs the critic's updates first and then measures everything at θ_k with the updated
critic, the one the generator's update uses. The norms of R and D are measured at every step
through K = X Xᵀ when that costs little (:data:`SPLIT_NORM_COST_RATIO`), the full per-neuron
split only when asked for.

Every critic evaluation (an update, or the measurement) forms the activation patterns of the
real, fake and interpolated samples with one product and an in-place comparison, and reads each
pattern once more in one product per quantity it needs; the critic's values come from its input
gradients (the critic is positively homogeneous, g(y) = yᵀ∇g(y)). The large (n, m) and (3n, m_c)
arrays live in buffers a trainer allocates once and reuses (:class:`_Scratch`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from rdnet.errors import ConfigError
from rdnet.prd import defaults
from rdnet.prd.networks import (
    CriticWeights,
    GeneratorWeights,
    critic_activation,
    critic_input_gradient,
    critic_value,
    generator_forward,
)

__all__ = [
    "OPTIMIZERS",
    "CRITIC_OPTIMIZERS",
    "TRAIN_LAYERS",
    "METRIC_NAMES",
    "TrainingConfig",
    "TrainingState",
    "ReactionDiffusion",
    "StepResult",
    "generator_rates",
    "split_norms",
    "critic_gradients",
    "critic_measurements",
    "finite_width_gram",
    "make_trainer",
]

#: generator optimisers: full-batch gradient descent (the paper), minibatch SGD, Adam
OPTIMIZERS = ("gd", "sgd", "adam")
#: critic optimisers
CRITIC_OPTIMIZERS = ("gd", "adam")
#: which generator layers move: the hidden layer only (the theory's setting, V fixed) or both
TRAIN_LAYERS = ("hidden", "both")

#: names of the scalar diagnostics each step returns, in order
METRIC_NAMES = (
    "loss_sup",
    "loss_adv",
    "critic_loss",
    "gradient_penalty",
    "wasserstein_estimate",
    "distance_u",
    "distance_v",
    "residual_norm",
    "max_rate_u",
    "max_rate_v",
    "max_neuron_distance_u",
    "lambda_min_gram",
    "critic_weight_norm",
    "reaction_u_frobenius",
    "diffusion_u_frobenius",
    "reaction_v_frobenius",
    "diffusion_v_frobenius",
    "max_neuron_diffusion_u",
)

#: λ_min(H(t)) is computed at every step only up to this many samples (it costs n² m + n³)
GRAM_EIGENVALUE_MAX_SAMPLES = 256
#: with a critic, the reaction/diffusion norms are measured at every step (through K = X Xᵀ, n² m
#: multiply-adds) when this many times the batch size is at most d_in, i.e. when they cost at most
#: 1/8 of one of the generator's n m d_in products (a few % of a step); else at snapshot steps only
SPLIT_NORM_COST_RATIO = 8


@dataclass(frozen=True)
class TrainingConfig:
    """Everything the training step needs besides the data and the weights.

    The defaults are those of ``rdnet train`` (:mod:`rdnet.prd.defaults`).

    Attributes
    ----------
    lr : float
        Generator learning rate η (gradient-flow time advances by η per step).
    optimizer : {"gd", "sgd", "adam"}
        ``gd``: full-batch gradient descent θ ← θ − η ∂L/∂θ (the paper's algorithm);
        ``sgd``: the same on a random minibatch of ``batch_size`` samples each step;
        ``adam``: Adam on the (mini)batch.
    batch_size : int or None
        Minibatch size for ``sgd``/``adam``; None means the full batch.
    train_layers : {"hidden", "both"}
        ``hidden`` keeps V fixed (the theory's setting); ``both`` trains U and V.
    adversary : bool
        Whether a critic is trained and its gradient enters the generator's loss.
    adversary_weight : float
        β ≥ 0 in L_aug = L_sup − β L_adv; 0 reproduces supervised training exactly.
    critic_steps : int
        Critic updates per generator step (0 freezes the critic at its initialisation).
    critic_lr : float
        Critic learning rate, positive (``critic_steps=0`` freezes the critic).
    critic_optimizer : {"gd", "adam"}
        How the critic ascends its objective.
    gp_weight : float
        λ_gp, the weight of the gradient penalty.
    adam_betas, adam_eps : tuple of float, float
        Adam's constants for the generator.
    critic_betas : tuple of float
        Adam's constants for the critic (WGAN-GP's (0.5, 0.9) by default).
    """

    lr: float = defaults.LR
    optimizer: str = defaults.OPTIMIZER
    batch_size: int | None = None
    train_layers: str = defaults.TRAIN_LAYERS
    adversary: bool = False
    adversary_weight: float = 1.0
    critic_steps: int = defaults.CRITIC_STEPS
    critic_lr: float = defaults.CRITIC_LR
    critic_optimizer: str = defaults.CRITIC_OPTIMIZER
    gp_weight: float = defaults.GP_WEIGHT
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    critic_betas: tuple[float, float] = (0.5, 0.9)

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        if self.critic_optimizer not in CRITIC_OPTIMIZERS:
            raise ConfigError(
                f"unknown critic optimizer {self.critic_optimizer!r}; choose one of: {', '.join(CRITIC_OPTIMIZERS)}"
            )
        if self.train_layers not in TRAIN_LAYERS:
            raise ConfigError(
                f"unknown --train-layers {self.train_layers!r}; choose one of: {', '.join(TRAIN_LAYERS)}"
            )
        if not (self.lr > 0 and math.isfinite(self.lr)):
            raise ConfigError(f"learning rate must be a positive number, got {self.lr}")
        if self.critic_steps < 0:
            raise ConfigError(f"critic steps must be 0 or more, got {self.critic_steps}")
        if not (self.critic_lr > 0 and math.isfinite(self.critic_lr)):
            raise ConfigError(f"critic learning rate must be a positive number, got {self.critic_lr} "
                              f"(--critic-steps 0 freezes the critic)")  # fmt: skip
        if not (self.gp_weight >= 0 and math.isfinite(self.gp_weight)):
            raise ConfigError(f"gradient-penalty weight must be 0 or more, got {self.gp_weight}")
        if not math.isfinite(self.adversary_weight):
            raise ConfigError(f"adversary weight must be a finite number, got {self.adversary_weight}")
        if not self.adversary_weight >= 0:
            raise ConfigError(
                f"adversary weight must be 0 or more, got {self.adversary_weight}: β < 0 would reverse the "
                f"diffusion term β ∂L_adv/∂θ, the generator helping the critic instead of opposing it"
            )
        if self.batch_size is not None and self.batch_size < 1:
            raise ConfigError(f"batch size must be at least 1, got {self.batch_size}")


@dataclass
class TrainingState:
    """The complete mutable state of a run: enough to continue it bit for bit.

    Attributes
    ----------
    generator, critic : GeneratorWeights, CriticWeights or None
        Current weights (critic None without an adversary).
    initial_U, initial_V : torch.Tensor
        U(0) and V(0), for distances from initialisation.
    step : int
        Index of the next state to evaluate (0 at the start).
    generator_moments, critic_moments : dict of str to torch.Tensor
        Adam's first/second moments (empty for plain gradient descent).
    generator_updates, critic_updates : int
        Number of optimiser updates so far (Adam's bias correction).
    extras : dict of str to float
        Scalars the run carries along (initial residual, largest critic norm so far).
    batch_rng, critic_rng : torch.Generator
        CPU random streams for minibatches and for the gradient-penalty interpolates; separate,
        so that the critic never changes the generator's minibatch sequence.
    """

    generator: GeneratorWeights
    critic: CriticWeights | None
    initial_U: torch.Tensor
    initial_V: torch.Tensor
    batch_rng: torch.Generator
    critic_rng: torch.Generator
    step: int = 0
    generator_moments: dict[str, torch.Tensor] = field(default_factory=dict)
    critic_moments: dict[str, torch.Tensor] = field(default_factory=dict)
    generator_updates: int = 0
    critic_updates: int = 0
    extras: dict[str, float] = field(default_factory=dict)


@dataclass
class ReactionDiffusion:
    """Per-neuron reaction and diffusion parts of the generator's rate of change.

    Attributes
    ----------
    reaction_U, diffusion_U : (m, d_in) tensors
        −∂L_sup/∂u_j and +β ∂L_adv/∂u_j as rows.
    reaction_V, diffusion_V : (d_out, m) tensors
        −∂L_sup/∂v_j and +β ∂L_adv/∂v_j as columns.
    """

    reaction_U: torch.Tensor
    diffusion_U: torch.Tensor
    reaction_V: torch.Tensor
    diffusion_V: torch.Tensor


@dataclass
class StepResult:
    """What one step measured, at the state *before* its update.

    Attributes
    ----------
    step : int
        Index k of the state θ_k measured.
    metrics : dict of str to float
        The scalars named in :data:`METRIC_NAMES`.
    rate_U, rate_V : torch.Tensor
        −∂L_aug/∂U and −∂L_aug/∂V (the gradient-flow rates, R + D).
    split : ReactionDiffusion or None
        The split, when it was asked for.
    weights_U, weights_V : torch.Tensor or None
        Copies of U(k) and V(k) (the weights measured), when the split was asked for.
    """

    step: int
    metrics: dict[str, float]
    rate_U: torch.Tensor
    rate_V: torch.Tensor
    split: ReactionDiffusion | None
    weights_U: torch.Tensor | None = None
    weights_V: torch.Tensor | None = None


def generator_rates(
    X: torch.Tensor,
    Y: torch.Tensor,
    generator: GeneratorWeights,
    critic: CriticWeights | None,
    adversary_weight: float = 1.0,
    *,
    with_split: bool = False,
    with_diffusion_factors: bool = False,
    forward: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    critic_terms: tuple[torch.Tensor, torch.Tensor] | None = None,
    workspace: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[torch.Tensor, torch.Tensor, ReactionDiffusion | None, dict[str, torch.Tensor]]:
    """Rates of change −∂L_aug/∂U, −∂L_aug/∂V and (optionally) their reaction/diffusion split.

    Parameters
    ----------
    X : (n, d_in) tensor
    Y : (n, d_out) tensor
    generator : GeneratorWeights
    critic : CriticWeights or None
        None means sole supervision (the diffusion is then exactly zero).
    adversary_weight : float
        β in L_aug = L_sup − β L_adv.
    with_split : bool
        Also return R and D per neuron (costs one more (m × n) · (n × d_in) product).
    with_diffusion_factors : bool
        Also return, in ``internals``, the small factors of the diffusion (``diffusion_factor``,
        with D^U = diffusion_factorᵀ X, and ``diffusion_V``), for :func:`split_norms`.
    forward : tuple of tensors, optional
        The output of :func:`generator_forward` for these weights and inputs, when already computed.
    critic_terms : tuple of tensors, optional
        ∇_z g at the predictions (n, d_out) and L_adv = Σ_p g(z_p), when already computed
        (:func:`critic_measurements` returns both).
    workspace : pair of (n, m) tensors, optional
        Where to write ``rate_factor`` and ``diffusion_factor`` (buffers reused from step to step).

    Returns
    -------
    rate_U : (m, d_in) tensor
    rate_V : (d_out, m) tensor
    split : ReactionDiffusion or None
    internals : dict
        ``Z`` (predictions), ``active`` (activation pattern), ``loss_sup``, ``loss_adv``,
        ``residual_norm``, ``rate_factor`` (the (n, m) factor with rate_U = rate_factorᵀ X) and,
        when asked for, ``diffusion_factor`` and ``diffusion_V`` (None without a critic).
    """
    U, V = generator.U, generator.V
    active, hidden, Z = generator_forward(U, V, X) if forward is None else forward
    residual = Z - Y
    scale = 1.0 / math.sqrt(V.shape[0] * U.shape[0])
    if critic is None:
        critic_gradient = None
        output_gradient = residual
        loss_adv = torch.zeros((), dtype=X.dtype, device=X.device)
    else:
        if critic_terms is None:
            critic_gradient = critic_input_gradient(critic.W, critic.a, Z)
            loss_adv = critic_value(critic.W, critic.a, Z).sum()
        else:
            critic_gradient, loss_adv = critic_terms
        output_gradient = residual - adversary_weight * critic_gradient
    # one shared forward pass and activation pattern feed both layers and both parts
    # scale the small (n, d_out) factor, not the large (m, d_in) product
    scaled_gradient = output_gradient * (-scale)
    rate_buffer, diffusion_buffer = (None, None) if workspace is None else workspace
    rate_factor = torch.mm(scaled_gradient, V, out=rate_buffer).mul_(active)
    rate_U = rate_factor.T @ X
    rate_V = scaled_gradient.T @ hidden
    diffusion_factor = diffusion_V = None
    if critic_gradient is not None and (with_split or with_diffusion_factors):
        weighted = critic_gradient * (adversary_weight * scale)
        diffusion_factor = torch.mm(weighted, V, out=diffusion_buffer).mul_(active)
        diffusion_V = weighted.T @ hidden
    split = None
    if with_split:
        if critic_gradient is None:
            diffusion_U = torch.zeros_like(rate_U)
            split_diffusion_V = torch.zeros_like(rate_V)
        else:
            diffusion_U = diffusion_factor.T @ X
            split_diffusion_V = diffusion_V
        split = ReactionDiffusion(
            reaction_U=rate_U - diffusion_U,
            diffusion_U=diffusion_U,
            reaction_V=rate_V - split_diffusion_V,
            diffusion_V=split_diffusion_V,
        )
    internals = {
        "Z": Z,
        "active": active,
        "loss_sup": 0.5 * (residual * residual).sum(),
        "loss_adv": loss_adv,
        "residual_norm": torch.linalg.vector_norm(residual),
        "rate_factor": rate_factor,
        "diffusion_factor": diffusion_factor,
        "diffusion_V": diffusion_V,
    }
    return rate_U, rate_V, split, internals


def split_norms(
    rate_U: torch.Tensor,
    rate_V: torch.Tensor,
    rate_factor: torch.Tensor,
    diffusion_factor: torch.Tensor | None,
    diffusion_V: torch.Tensor | None,
    input_gram: torch.Tensor | None,
) -> tuple[torch.Tensor, ...]:
    r"""Norms of the reaction and diffusion without forming D^U: ‖R^U‖_F, ‖D^U‖_F, ‖R^V‖_F, ‖D^V‖_F, max_j ‖D_j^u‖.

    With D^U = Bᵀ X (B the (n, m) ``diffusion_factor``) and K = X Xᵀ, every neuron's
    ‖D_j^u‖² = (Bᵀ K B)_jj = Σ_p B_pj (K B)_pj and the rate's overlap
    rate_j · D_j^u = Σ_p C_pj (K B)_pj (C the ``rate_factor``), so ‖R_j^u‖² = ‖rate_j‖² − 2 rate_j · D_j^u
    + ‖D_j^u‖²: n² m multiply-adds instead of the n m d_in of D^U itself. Without a critic
    (``diffusion_factor`` None) D = 0 and R = rate.

    Parameters
    ----------
    rate_U, rate_V : tensors
        −∂L_aug/∂U (m, d_in) and −∂L_aug/∂V (d_out, m).
    rate_factor, diffusion_factor : (n, m) tensors
        rate_U = rate_factorᵀ X, D^U = diffusion_factorᵀ X.
    diffusion_V : (d_out, m) tensor or None
    input_gram : (n, n) tensor or None
        K = X Xᵀ of the batch (needed with a critic).

    Returns
    -------
    tuple of five 0-d tensors
    """
    zero = torch.zeros((), dtype=rate_U.dtype, device=rate_U.device)
    if diffusion_factor is None:
        return torch.linalg.vector_norm(rate_U), zero, torch.linalg.vector_norm(rate_V), zero, zero
    projected = input_gram @ diffusion_factor
    diffusion_squared = (diffusion_factor * projected).sum(0)
    overlap = (rate_factor * projected).sum(0)
    reaction_squared = (torch.linalg.vector_norm(rate_U, dim=1).square() - 2 * overlap + diffusion_squared).clamp_min(0)
    return (
        reaction_squared.sum().sqrt(),
        diffusion_squared.sum().clamp_min(0).sqrt(),
        torch.linalg.vector_norm(rate_V - diffusion_V),
        torch.linalg.vector_norm(diffusion_V),
        diffusion_squared.max().clamp_min(0).sqrt(),
    )


def _critic_rows(real: torch.Tensor, fake: torch.Tensor, interpolation: torch.Tensor) -> torch.Tensor:
    """The rows one evaluation of the critic reads, stacked (3n, d_out): real, fake, interpolates."""
    return torch.cat((real, fake, interpolation * real + (1 - interpolation) * fake))


def critic_gradients(
    critic: CriticWeights,
    real: torch.Tensor,
    fake: torch.Tensor,
    interpolation: torch.Tensor,
    gp_weight: float,
    *,
    workspace: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Gradients of the WGAN-GP critic loss (the negative of the objective it maximises), in closed form.

    With s = sqrt(m_c), h = y Wᵀ and A = 1{h > 0}: ∂Σ_p g(y_p)/∂W = (A ∘ a)ᵀ Y / s and
    ∂Σ_p g(y_p)/∂a = Σ_p σ(h_p) / s. The input gradient at an interpolate is
    q_p = (Â_p ∘ a) W / s; with P = mean_p (‖q_p‖ − 1)² and C_p = ∂P/∂q_p = 2(‖q_p‖ − 1) q_p / (n ‖q_p‖)
    (0 where q_p = 0), ∂P/∂W = (Â ∘ a)ᵀ C / s and ∂P/∂a = Σ_p Â_p ∘ (C Wᵀ)_p / s (the activation
    pattern is piecewise constant, so it has no derivative almost everywhere).

    Every term is a pattern summed over samples with a small factor: with the patterns of the
    real, fake and interpolated samples stacked (3n, m_c) (one product, :func:`critic_activation`)
    and the factors F = [−Y; Z; λ_gp C] (3n, d_out), S = Fᵀ A (one more product) holds, for every
    critic neuron r, S_r = Σ_p A_pr f_p, so that ∂/∂W_r = a_r S_r / s and, as
    Σ_p σ(h_pr) = w_r · Σ_p A_pr y_p, ∂/∂a_r = w_r · S_r / s. The critic's values are
    :func:`critic_measurements`'.

    Parameters
    ----------
    critic : CriticWeights
    real, fake : (n, d_out) tensors
        Targets y_p and generated samples z_p (treated as constants).
    interpolation : (n, 1) tensor
        ε_p in [0, 1] for the interpolates ŷ_p = ε_p y_p + (1 − ε_p) z_p.
    gp_weight : float
        λ_gp.
    workspace : (3n, m_c) tensor, optional
        Where the activation patterns are written (see :func:`~rdnet.prd.networks.critic_activation`).

    Returns
    -------
    grad_W, grad_a : torch.Tensor
        ∂(critic loss)/∂W and ∂/∂a, the critic loss being −Σ g(y) + Σ g(z) + λ_gp · penalty.
    """
    W, a = critic.W, critic.a
    n = real.shape[0]
    inverse_width = 1.0 / math.sqrt(W.shape[0])
    active = critic_activation(W, _critic_rows(real, fake, interpolation), out=workspace)
    scaled_a = a * inverse_width
    input_gradient = active[2 * n:] @ (W * scaled_a[:, None])  # q_p = Σ_r Â_pr a_r w_r / s
    norms = torch.linalg.vector_norm(input_gradient, dim=1, keepdim=True)
    safe_norms = torch.where(norms > 0, norms, torch.ones_like(norms))
    penalty_gradient = torch.where(norms > 0, 2 * (norms - 1) / (n * safe_norms), torch.zeros_like(norms)) * input_gradient
    # (d_out, 3n) contiguous times (3n, m_c): every pattern read once, in one product
    factors = torch.cat((-real.T, fake.T, gp_weight * penalty_gradient.T), dim=1)
    sums = factors @ active
    grad_W = sums.T * scaled_a[:, None]
    grad_a = torch.linalg.vecdot(sums, W.T, dim=0) * inverse_width
    return grad_W, grad_a


def critic_measurements(
    critic: CriticWeights,
    real: torch.Tensor,
    fake: torch.Tensor,
    interpolation: torch.Tensor,
    gp_weight: float,
    *,
    workspace: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """The critic's diagnostics and what the generator needs from it, in one pass (no parameter gradients).

    One product forms the activation patterns of the real, fake and interpolated samples and one
    more their input gradients q_p = ∇g; the values follow from these, as the critic (no biases)
    is positively homogeneous of degree 1: g(y) = yᵀ ∇g(y).

    Parameters
    ----------
    critic : CriticWeights
    real, fake : (n, d_out) tensors
        Targets y_p and generated samples z_p.
    interpolation : (n, 1) tensor
        ε_p of the interpolates ŷ_p = ε_p y_p + (1 − ε_p) z_p of the gradient penalty.
    gp_weight : float
        λ_gp.
    workspace : (3n, m_c) tensor, optional
        Where the activation patterns are written (see :func:`~rdnet.prd.networks.critic_activation`).

    Returns
    -------
    dict
        ``critic_loss`` = Σ g(z) − Σ g(y) + λ_gp · ``gradient_penalty`` (mean (‖∇g(ŷ)‖ − 1)²),
        ``wasserstein_estimate`` = mean g(y) − mean g(z), ``loss_adv`` = Σ_p g(z_p) and
        ``input_gradient`` = ∇_z g at every z_p (n, d_out): the values of
        :func:`~rdnet.prd.networks.critic_value` and
        :func:`~rdnet.prd.networks.critic_input_gradient`.
    """
    W, a = critic.W, critic.a
    n = real.shape[0]
    active = critic_activation(W, _critic_rows(real, fake, interpolation), out=workspace)
    input_gradients = active @ (W * (a[:, None] / math.sqrt(W.shape[0])))
    value_real = (real * input_gradients[:n]).sum()
    loss_adv = (fake * input_gradients[n:2 * n]).sum()
    norms = torch.linalg.vector_norm(input_gradients[2 * n:], dim=1)
    penalty = ((norms - 1) ** 2).mean()
    return {
        "critic_loss": loss_adv - value_real + gp_weight * penalty,
        "gradient_penalty": penalty,
        "wasserstein_estimate": (value_real - loss_adv) / n,
        "loss_adv": loss_adv,
        "input_gradient": input_gradients[n:2 * n],
    }


def finite_width_gram(X: torch.Tensor, active: torch.Tensor) -> torch.Tensor:
    r"""The finite-width Gram matrix H(t)_pq = x_pᵀx_q · (1/m) Σ_r 1{u_rᵀx_p ≥ 0, u_rᵀx_q ≥ 0} (eq. 20).

    Parameters
    ----------
    X : (n, d_in) tensor
    active : (n, m) tensor
        The 0/1 activation pattern.
    """
    return (X @ X.T) * (active @ active.T) / active.shape[1]


class _Scratch:
    """Large temporaries of a trainer, allocated once and reused at every step.

    A fresh allocation of tens of MB costs its page faults on first touch every time (the
    allocator hands such blocks back to the system when freed): at the benchmark's shapes that
    costs as much as the products that fill them. Only what never leaves the step lives here.
    """

    def __init__(self, dtype: torch.dtype, device: torch.device) -> None:
        self.dtype, self.device = dtype, device
        self.tensors: dict[str, torch.Tensor] = {}

    def __call__(self, name: str, *shape: int) -> torch.Tensor:
        """An uninitialised tensor of ``shape`` (the same storage at every call with that shape)."""
        tensor = self.tensors.get(name)
        if tensor is None or tensor.shape != shape:
            tensor = self.tensors[name] = torch.empty(shape, dtype=self.dtype, device=self.device)
        return tensor


def _largest_magnitude(tensor: torch.Tensor) -> torch.Tensor:
    """max |x| over a tensor (NaN if any is) in one pass, without the temporary of ``tensor.abs()``."""
    smallest, largest = torch.aminmax(tensor)
    return torch.maximum(-smallest, largest)


def _adam_update(
    parameter: torch.Tensor,
    gradient: torch.Tensor,
    moments: dict[str, torch.Tensor],
    name: str,
    count: int,
    lr: float,
    betas: tuple[float, float],
    eps: float,
) -> None:
    """θ ← θ − lr m̂ / (sqrt(v̂) + eps), m̂ = m / (1 − β1^t), v̂ = v / (1 − β2^t), in place (moments too)."""
    if f"{name}_m" not in moments:
        moments[f"{name}_m"], moments[f"{name}_v"] = torch.zeros_like(parameter), torch.zeros_like(parameter)
    first, second = moments[f"{name}_m"], moments[f"{name}_v"]
    first.mul_(betas[0]).add_(gradient, alpha=1 - betas[0])
    second.mul_(betas[1]).addcmul_(gradient, gradient, value=1 - betas[1])
    denominator = torch.div(second, 1 - betas[1] ** count).sqrt_().add_(eps)
    parameter.addcdiv_(first, denominator, value=-lr / (1 - betas[0] ** count))


def make_trainer(
    X: torch.Tensor, Y: torch.Tensor, config: TrainingConfig
) -> Callable[..., StepResult]:
    """Build the step function for a data set and a configuration (build once, step many).

    Parameters
    ----------
    X : (n, d_in) tensor
        Inputs as rows (on the device and in the dtype of the run).
    Y : (n, d_out) tensor
        Targets as rows.
    config : TrainingConfig

    Returns
    -------
    callable
        ``step(state, *, with_split=False, update=True) -> StepResult``: first runs the critic's
        updates for this step, then measures the state θ_k with the updated critic (every value,
        the critic's included), then — when ``update`` — applies the generator's update and
        advances ``state.step``. ``update=False`` only measures (used for the final state of a
        run). The norms of the reaction and diffusion are measured at every step when that is
        cheap (batch size n with 8 n ≤ d_in, or no critic), else only with ``with_split``.
    """
    n = X.shape[0]
    batch_size = n if config.batch_size is None else min(config.batch_size, n)
    full_batch = config.optimizer == "gd" or batch_size >= n
    train_V = config.train_layers == "both"
    batch_rows = n if full_batch else batch_size
    with_gram = batch_rows <= GRAM_EIGENVALUE_MAX_SAMPLES
    beta = float(config.adversary_weight)
    nan = torch.tensor(float("nan"), dtype=X.dtype, device=X.device)
    # per-step split norms through K = X Xᵀ cost n² m, against the n m d_in of each generator product
    input_gram = X @ X.T if config.adversary and SPLIT_NORM_COST_RATIO * batch_rows <= X.shape[1] else None
    scratch = _Scratch(X.dtype, X.device)

    def interpolation_weights(state: TrainingState, rows: int) -> torch.Tensor:
        # drawn in float64 whatever the run's dtype: a float32 run sees the float64 run's ε, rounded
        return torch.rand((rows, 1), generator=state.critic_rng, dtype=torch.float64).to(X.device, X.dtype)

    def critic_round(state: TrainingState, real: torch.Tensor, fake: torch.Tensor, update: bool):
        critic = state.critic
        epsilon = None
        # the activation patterns of real, fake and interpolated samples, rewritten at every evaluation
        patterns = scratch("critic_patterns", 3 * real.shape[0], critic.W.shape[0])
        for _ in range(config.critic_steps if update else 0):
            epsilon = interpolation_weights(state, real.shape[0])
            grad_W, grad_a = critic_gradients(critic, real, fake, epsilon, config.gp_weight, workspace=patterns)
            state.critic_updates += 1
            if config.critic_optimizer == "gd":
                critic.W.sub_(config.critic_lr * grad_W)
                critic.a.sub_(config.critic_lr * grad_a)
            else:
                for name, parameter, gradient in (("W", critic.W, grad_W), ("a", critic.a, grad_a)):
                    _adam_update(parameter, gradient, state.critic_moments, name, state.critic_updates,
                                 config.critic_lr, config.critic_betas, config.adam_eps)
        if epsilon is None:  # frozen critic or final measurement: fresh interpolates
            epsilon = interpolation_weights(state, real.shape[0])
        # measured with the updated critic (on the last update's interpolates): the critic the
        # generator's update of this step uses
        return critic_measurements(critic, real, fake, epsilon, config.gp_weight, workspace=patterns)

    def step(state: TrainingState, *, with_split: bool = False, update: bool = True) -> StepResult:
        if full_batch:
            X_batch, Y_batch, gram_batch = X, Y, input_gram
        else:
            index = torch.randperm(n, generator=state.batch_rng)[:batch_size].to(X.device)
            X_batch, Y_batch = X[index], Y[index]
            gram_batch = None if input_gram is None else input_gram[index][:, index]
        generator = state.generator
        critic = state.critic if config.adversary else None
        rows, neurons = X_batch.shape[0], generator.U.shape[0]
        with torch.no_grad():
            forward = generator_forward(generator.U, generator.V, X_batch,
                                        out=(scratch("active", rows, neurons), scratch("hidden", rows, neurons)))
            critic_terms = None
            if critic is not None:
                critic_values = critic_round(state, Y_batch, forward[2], update)
                critic_terms = (critic_values["input_gradient"], critic_values["loss_adv"])
            per_step_norms = not with_split and (critic is None or gram_batch is not None)
            rate_U, rate_V, split, internals = generator_rates(
                X_batch, Y_batch, generator, critic, beta, with_split=with_split,
                with_diffusion_factors=per_step_norms, forward=forward, critic_terms=critic_terms,
                workspace=(scratch("rate_factor", rows, neurons),
                           None if critic is None else scratch("diffusion_factor", rows, neurons)),
            )
            if not train_V:
                rate_V = torch.zeros_like(rate_V)
                if split is not None:
                    split.reaction_V = torch.zeros_like(rate_V)
                    split.diffusion_V = torch.zeros_like(rate_V)
                if internals["diffusion_V"] is not None:
                    internals["diffusion_V"] = torch.zeros_like(rate_V)
            if split is not None:
                norms = (
                    torch.linalg.vector_norm(split.reaction_U),
                    torch.linalg.vector_norm(split.diffusion_U),
                    torch.linalg.vector_norm(split.reaction_V),
                    torch.linalg.vector_norm(split.diffusion_V),
                    torch.linalg.vector_norm(split.diffusion_U, dim=1).max(),
                )
            elif per_step_norms:
                norms = split_norms(rate_U, rate_V, internals["rate_factor"], internals["diffusion_factor"],
                                    internals["diffusion_V"], gram_batch)
            else:
                norms = (nan,) * 5
            if with_gram:
                gram = finite_width_gram(X_batch, internals["active"])
                lambda_min = torch.linalg.eigvalsh(gram)[0]
            else:
                lambda_min = nan
            displacement = torch.sub(generator.U, state.initial_U, out=scratch("displacement", *generator.U.shape))
            neuron_distances = torch.linalg.vector_norm(displacement, dim=1)
            scalars = [
                internals["loss_sup"],
                internals["loss_adv"],
                critic_values["critic_loss"] if critic is not None else nan,
                critic_values["gradient_penalty"] if critic is not None else nan,
                critic_values["wasserstein_estimate"] if critic is not None else nan,
                torch.linalg.vector_norm(neuron_distances),
                torch.linalg.vector_norm(generator.V - state.initial_V),
                internals["residual_norm"],
                _largest_magnitude(rate_U),
                _largest_magnitude(rate_V),
                neuron_distances.max(),
                lambda_min,
                torch.linalg.vector_norm(critic.W) if critic is not None else nan,
                *norms,
            ]
            metrics = dict(zip(METRIC_NAMES, torch.stack([s.to(X.dtype) for s in scalars]).tolist()))
            result = StepResult(step=state.step, metrics=metrics, rate_U=rate_U, rate_V=rate_V, split=split)
            if with_split:
                result.weights_U = generator.U.clone()
                result.weights_V = generator.V.clone()
            if update:
                state.generator_updates += 1
                if config.optimizer == "adam":
                    count = state.generator_updates
                    _adam_update(generator.U, -rate_U, state.generator_moments, "U", count,
                                 config.lr, config.adam_betas, config.adam_eps)
                    if train_V:
                        _adam_update(generator.V, -rate_V, state.generator_moments, "V", count,
                                     config.lr, config.adam_betas, config.adam_eps)
                else:
                    generator.U.add_(rate_U, alpha=config.lr)
                    if train_V:
                        generator.V.add_(rate_V, alpha=config.lr)
                state.step += 1
        return result

    return step
