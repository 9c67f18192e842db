"""A small random problem of the PRD engine (unit-norm inputs, Gaussian targets, paper initialisation),
shared by the tests of the split and of the stability analysis."""

from __future__ import annotations

import torch

from rdnet.prd.networks import CriticWeights, GeneratorWeights, initialise_critic, initialise_generator


def random_problem(seed: int, n: int, d_in: int, d_out: int, m: int,
                   m_critic: int) -> tuple[torch.Tensor, torch.Tensor, GeneratorWeights, CriticWeights]:  # fmt: skip
    """Inputs X (n, d_in) on the unit sphere, targets Y (n, d_out), a generator of width m and a critic of width m_critic."""
    generator_rng = torch.Generator().manual_seed(seed)
    X = torch.randn(n, d_in, generator=generator_rng, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    Y = torch.randn(n, d_out, generator=generator_rng, dtype=torch.float64)
    generator = initialise_generator(m, d_in, d_out, generator=generator_rng)
    critic = initialise_critic(m_critic, d_out, generator=generator_rng)
    return X, Y, generator, critic
