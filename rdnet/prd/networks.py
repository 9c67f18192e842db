r"""The two networks of the PRD model: a two-layer ReLU generator and a two-layer ReLU critic.

Generator (paper eq. 1)

.. math:: f(U, V, x) = \frac{1}{\sqrt{d_{out} m}} V \sigma(U x), \quad
          U \in \mathbb{R}^{m \times d_{in}},\ V \in \mathbb{R}^{d_{out} \times m}

Critic (the adversary)

.. math:: g(W, a, y) = \frac{1}{\sqrt{m_c}} a^T \sigma(W y), \quad
          W \in \mathbb{R}^{m_c \times d_{out}},\ a \in \mathbb{R}^{m_c}

with σ = ReLU. The paper takes m_c = m. Samples are stored as rows here: ``X`` is (n, d_in),
predictions ``Z`` and targets ``Y`` are (n, d_out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from rdnet.errors import ConfigError

__all__ = [
    "INITIALISATIONS",
    "GeneratorWeights",
    "CriticWeights",
    "initialise_generator",
    "initialise_critic",
    "generator_forward",
    "critic_value",
    "critic_activation",
    "critic_input_gradient",
]

#: initialisation schemes: ``paper`` (u ~ N(0, I), v uniform on {±1}) and ``gaussian`` (both N(0, 1))
INITIALISATIONS = ("paper", "gaussian")


@dataclass
class GeneratorWeights:
    """Weights of the generator f(U, V, x).

    Attributes
    ----------
    U : torch.Tensor
        Hidden layer, shape (m, d_in); row j is the hidden morphogen u_j.
    V : torch.Tensor
        Top layer, shape (d_out, m); column j is the top morphogen v_j.
    """

    U: torch.Tensor
    V: torch.Tensor

    @property
    def neurons(self) -> int:
        """Number of hidden neurons m."""
        return self.U.shape[0]


@dataclass
class CriticWeights:
    """Weights of the critic g(W, a, y).

    Attributes
    ----------
    W : torch.Tensor
        Hidden layer, shape (m_c, d_out).
    a : torch.Tensor
        Output weights, shape (m_c,).
    """

    W: torch.Tensor
    a: torch.Tensor


def _check_scheme(scheme: str) -> None:
    if scheme not in INITIALISATIONS:
        raise ConfigError(
            f"unknown initialisation {scheme!r}; choose one of: {', '.join(INITIALISATIONS)}"
        )


def _signs(shape: tuple[int, ...], generator: torch.Generator, dtype: torch.dtype) -> torch.Tensor:
    return torch.randint(0, 2, shape, generator=generator).to(dtype) * 2 - 1


def _draw(
    shape_first: tuple[int, ...],
    shape_second: tuple[int, ...],
    *,
    scheme: str,
    generator: torch.Generator,
    dtype: torch.dtype,
    device: str | torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    _check_scheme(scheme)
    # draw on the CPU with a CPU generator and in float64, then round: the same seed gives the
    # same weights on every device, and in float32 the float64 weights rounded (torch draws
    # another sequence in each dtype)
    first = torch.randn(shape_first, generator=generator, dtype=torch.float64)
    if scheme == "paper":
        second = _signs(shape_second, generator, torch.float64)
    else:
        second = torch.randn(shape_second, generator=generator, dtype=torch.float64)
    return first.to(device, dtype), second.to(device, dtype)


def initialise_generator(
    neurons: int,
    input_dim: int,
    output_dim: int,
    *,
    scheme: str = "paper",
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> GeneratorWeights:
    """Draw the generator's initial weights.

    Parameters
    ----------
    neurons, input_dim, output_dim : int
        m, d_in and d_out.
    scheme : {"paper", "gaussian"}
        ``paper``: u_j ~ N(0, I), entries of v_j uniform on {+1, −1} (Theorems 1, 2).
        ``gaussian``: every entry of U and V ~ N(0, 1).
    generator : torch.Generator
        A CPU random generator (seeded by the caller).
    dtype, device
        Where the weights live.

    Returns
    -------
    GeneratorWeights
    """
    U, V = _draw(
        (neurons, input_dim), (output_dim, neurons),
        scheme=scheme, generator=generator, dtype=dtype, device=device,
    )
    return GeneratorWeights(U=U, V=V)


def initialise_critic(
    neurons: int,
    output_dim: int,
    *,
    scheme: str = "paper",
    generator: torch.Generator,
    dtype: torch.dtype = torch.float64,
    device: str | torch.device = "cpu",
) -> CriticWeights:
    """Draw the critic's initial weights: w_r ~ N(0, I), a_r uniform on {±1} (``paper``) or N(0, 1).

    Parameters
    ----------
    neurons : int
        Critic width m_c.
    output_dim : int
        d_out, the dimension of the samples the critic reads.
    scheme, generator, dtype, device
        As :func:`initialise_generator`.

    Returns
    -------
    CriticWeights
    """
    W, a = _draw(
        (neurons, output_dim), (neurons,),
        scheme=scheme, generator=generator, dtype=dtype, device=device,
    )
    return CriticWeights(W=W, a=a)


def generator_forward(
    U: torch.Tensor, V: torch.Tensor, X: torch.Tensor, *, out: tuple[torch.Tensor, torch.Tensor] | None = None
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Evaluate the generator on a batch.

    Parameters
    ----------
    U : (m, d_in) tensor
    V : (d_out, m) tensor
    X : (n, d_in) tensor
        Inputs as rows.
    out : pair of (n, m) tensors, optional
        Where to write ``active`` and ``hidden`` (buffers reused from step to step spare the page
        faults of fresh large arrays); the pre-activations are formed in the second in place.

    Returns
    -------
    active : (n, m) tensor
        The activation pattern 1{u_jᵀ x_p > 0} as 0/1 in X's dtype.
    hidden : (n, m) tensor
        σ(U x_p) as rows.
    Z : (n, d_out) tensor
        Predictions f(U, V, x_p) as rows.
    """
    active, hidden = (None, None) if out is None else out
    pre = torch.mm(X, U.T, out=hidden)
    active = (pre > 0).to(X.dtype) if active is None else torch.gt(pre, 0, out=active)
    hidden = pre.mul_(active)
    scale = 1.0 / math.sqrt(V.shape[0] * U.shape[0])
    Z = (hidden @ V.T) * scale
    return active, hidden, Z


def critic_value(W: torch.Tensor, a: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Critic output g(W, a, y_p) for every row of ``Y`` (shape (n, d_out)); returns shape (n,)."""
    return torch.relu(Y @ W.T) @ a / math.sqrt(W.shape[0])


def critic_activation(W: torch.Tensor, Y: torch.Tensor, *, out: torch.Tensor | None = None) -> torch.Tensor:
    """The critic's activation pattern 1{w_rᵀ y_p > 0} for every row of ``Y``, as 0/1 in Y's dtype.

    One product and one in-place comparison: the pattern overwrites the pre-activations.

    Parameters
    ----------
    W : (m_c, d_out) tensor
    Y : (n, d_out) tensor
        Samples as rows.
    out : (n, m_c) tensor, optional
        Where to write the pattern (a buffer reused from step to step spares the allocation of a
        fresh (n, m_c) array, whose page faults cost as much as the product itself at large n m_c).

    Returns
    -------
    torch.Tensor
        Shape (n, m_c); ``out`` when given.
    """
    return torch.mm(Y, W.T, out=out).gt_(0)


def critic_input_gradient(W: torch.Tensor, a: torch.Tensor, Z: torch.Tensor) -> torch.Tensor:
    r"""Gradient of the critic with respect to its input, ∇_z g(W, a, z_p), for every row of ``Z``.

    .. math:: \nabla_z g = \frac{1}{\sqrt{m_c}} \sum_r a_r\, 1\{w_r^T z > 0\}\, w_r

    Returns
    -------
    torch.Tensor
        Shape (n, d_out).
    """
    return (critic_activation(W, Z) * a) @ W / math.sqrt(W.shape[0])
