"""The pseudo-reaction-diffusion (PRD) engine: a two-layer ReLU generator trained by gradient
descent, alone or against a WGAN-GP critic, with every neuron's update split into a reaction
part (the supervised gradient) and a diffusion part (the adversarial gradient).

Modules
-------
defaults
    The one set of defaults (data, sizes, learning rates) the library and ``rdnet train`` share.
networks
    The generator f(U, V, x) and the critic g(W, a, y), their initialisations.
training
    The training step: closed-form gradients, the reaction/diffusion split, the critic update,
    the optimisers.
theory
    The paper's quantities: H∞, λ0, λ_max, κ, μ, T0, Theorem 1 and 2 bounds.
layout
    Placing the m neurons on an H × W grid.
data
    Synthetic, digits and IDX (MNIST-format) training sets.
run
    The training loop that feeds observers (progress bars, dataset writers).
output
    The observer that writes an rdnet dataset (and the resume sidecar).
one_call
    :func:`train`, the one call that trains and returns the run's dataset (``rdnet train`` is built on it).

Reference: L. Rout, "Why Adversarial Interaction Creates Non-Homogeneous Patterns: A
Pseudo-Reaction-Diffusion Model for Turing Instability", AAAI-21.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.lazy import lazy_exports

__all__ = ["train"]

__getattr__, __dir__ = lazy_exports(__name__, {"train": ".one_call"})

if TYPE_CHECKING:  # pragma: no cover
    from rdnet.prd.one_call import train
