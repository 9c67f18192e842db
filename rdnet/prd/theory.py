r"""The paper's theoretical quantities for the simplified setting (d_out = 1, V fixed, ‖x_p‖ = 1).

All functions take and return numpy arrays / floats; times ``t`` are gradient-flow times
(t = step · η for gradient descent with learning rate η).

Gram matrix (Definition 1, Du et al. 2018)

.. math:: H^\infty_{pq} = E_{u \sim N(0, I)}\big[x_p^T x_q 1\{u^T x_p \ge 0, u^T x_q \ge 0\}\big]
          = x_p^T x_q \frac{\pi - \arccos(\cos\theta_{pq})}{2\pi}

with θ_pq the angle between x_p and x_q (for unit inputs cos θ_pq = x_pᵀx_q).
λ0 = λ_min(H∞), λ1 = 2(λ_max(H∞) + λ0/2) (Lemma 4), κ = λ1/λ0,
μ = L n sqrt(2 log(2/δ)) / sqrt(m) (with ‖w‖ ≤ L the critic's bound).

Theorem 1 (supervised), eq. 12:
‖u_j(t) − u_j(0)‖ ≤ 2 sqrt(n) ‖z(0) − y‖ (1 − e^{−λ0 t/2}) / (sqrt(m) λ0).

Theorem 2 (adversarial), eqs. 31, 38, 39 (with an adversary weight β ≠ 1 in L_aug = L_sup − β L_adv,
μ becomes abs(β) μ throughout; β = 0 gives Theorem 1):
‖z(t) − y‖ ≤ (‖z(0) − y‖ − κμ) e^{−λ0 t/2} + κμ,
‖D_j^u‖ ≤ L n sqrt(2 log(2/δ)) / m,
‖u_j(t) − u_j(0)‖ ≤ 2 sqrt(n) (‖z(0) − y‖ − κμ)(1 − e^{−λ0 t/2}) / (sqrt(m) λ0) + μ (1 + κ sqrt(n)) t / sqrt(m),
and ε-stationarity after T0 = (2/λ0) log((‖z(0) − y‖ − κμ)/(ε − κμ)), needing κμ < ε.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

__all__ = [
    "GramSpectrum",
    "gram_infinity",
    "gram_finite_width",
    "gram_spectrum",
    "hoeffding_mu",
    "supervised_residual_bound",
    "theorem1_neuron_bound",
    "theorem1_frobenius_bound",
    "theorem2_residual_bound",
    "theorem2_neuron_bound",
    "theorem2_frobenius_bound",
    "diffusion_bound",
    "stationarity_time",
]


def gram_infinity(X: np.ndarray) -> np.ndarray:
    """The infinite-width Gram matrix H∞ in closed form.

    Parameters
    ----------
    X : (n, d_in) array
        Inputs as rows (any norms; the theory assumes unit norm).

    Returns
    -------
    (n, n) array
    """
    X = np.asarray(X, dtype=float)
    inner = X @ X.T
    norms = np.linalg.norm(X, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cosine = inner / np.outer(norms, norms)
    cosine = np.clip(np.nan_to_num(cosine), -1.0, 1.0)
    return inner * (np.pi - np.arccos(cosine)) / (2 * np.pi)


def gram_finite_width(X: np.ndarray, U: np.ndarray) -> np.ndarray:
    """The finite-width Gram matrix H_pq = x_pᵀx_q · (1/m) Σ_r 1{u_rᵀx_p ≥ 0, u_rᵀx_q ≥ 0} (eq. 20).

    Parameters
    ----------
    X : (n, d_in) array
    U : (m, d_in) array
    """
    active = (np.asarray(X) @ np.asarray(U).T >= 0).astype(float)
    return (X @ X.T) * (active @ active.T) / active.shape[1]


@dataclass(frozen=True)
class GramSpectrum:
    """The spectral constants of H∞ that enter the bounds.

    Attributes
    ----------
    lambda_0 : float
        λ0 = λ_min(H∞) (Assumption 1 needs it positive).
    lambda_max : float
        λ_max(H∞).
    lambda_1 : float
        λ1 = 2(λ_max(H∞) + λ0/2) (Lemma 4).
    kappa : float
        κ = λ1 / λ0.
    """

    lambda_0: float
    lambda_max: float
    lambda_1: float
    kappa: float


def gram_spectrum(X: np.ndarray) -> GramSpectrum:
    """λ0, λ_max, λ1 and κ of H∞ for the inputs ``X`` (rows)."""
    eigenvalues = np.linalg.eigvalsh(gram_infinity(X))
    lambda_0, lambda_max = float(eigenvalues[0]), float(eigenvalues[-1])
    lambda_1 = 2 * (lambda_max + lambda_0 / 2)
    kappa = lambda_1 / lambda_0 if lambda_0 > 0 else math.inf
    return GramSpectrum(lambda_0=lambda_0, lambda_max=lambda_max, lambda_1=lambda_1, kappa=kappa)


def hoeffding_mu(critic_bound: float, samples: int, neurons: int, delta: float) -> float:
    """μ = L n sqrt(2 log(2/δ)) / sqrt(m) (Theorem 2), L the bound on the critic's ‖w‖."""
    if not 0 < delta < 1:
        raise ConfigError(f"delta must lie in (0, 1), got {delta}")
    return critic_bound * samples * math.sqrt(2 * math.log(2 / delta)) / math.sqrt(neurons)


def supervised_residual_bound(t, *, initial_residual: float, lambda_0: float):
    """‖z(t) − y‖ ≤ e^{−λ0 t/2} ‖z(0) − y‖ (Remark 3)."""
    return initial_residual * np.exp(-0.5 * lambda_0 * np.asarray(t, dtype=float))


def theorem1_neuron_bound(t, *, samples: int, neurons: int, lambda_0: float, initial_residual: float):
    """Theorem 1 (eq. 12): the bound on one neuron's distance ‖u_j(t) − u_j(0)‖ under supervision.

    Parameters
    ----------
    t : float or array
        Gradient-flow time.
    samples, neurons : int
        n and m.
    lambda_0 : float
        λ_min(H∞).
    initial_residual : float
        ‖z(0) − y‖.
    """
    t = np.asarray(t, dtype=float)
    return (2 * math.sqrt(samples) * initial_residual / (math.sqrt(neurons) * lambda_0)
            * (1 - np.exp(-0.5 * lambda_0 * t)))


def theorem1_frobenius_bound(t, *, samples: int, neurons: int, lambda_0: float, initial_residual: float):
    """Theorem 1 (eq. 15): ‖U(t) − U(0)‖_F ≤ sqrt(m) × the per-neuron bound (independent of m)."""
    return math.sqrt(neurons) * theorem1_neuron_bound(
        t, samples=samples, neurons=neurons, lambda_0=lambda_0, initial_residual=initial_residual
    )


def theorem2_residual_bound(t, *, initial_residual: float, lambda_0: float, kappa: float, mu: float):
    """Theorem 2 (eq. 31): ‖z(t) − y‖ ≤ (‖z(0) − y‖ − κμ) e^{−λ0 t/2} + κμ."""
    t = np.asarray(t, dtype=float)
    return (initial_residual - kappa * mu) * np.exp(-0.5 * lambda_0 * t) + kappa * mu


def theorem2_neuron_bound(
    t, *, samples: int, neurons: int, lambda_0: float, kappa: float, mu: float, initial_residual: float
):
    """Theorem 2 (eq. 39): the bound on ‖u_j(t) − u_j(0)‖ under adversarial interaction.

    It grows linearly in t: the adversary lets neurons travel away from initialisation.
    """
    t = np.asarray(t, dtype=float)
    transient = (2 * math.sqrt(samples) * (initial_residual - kappa * mu) / (math.sqrt(neurons) * lambda_0)
                 * (1 - np.exp(-0.5 * lambda_0 * t)))
    return transient + mu * (1 + kappa * math.sqrt(samples)) * t / math.sqrt(neurons)


def theorem2_frobenius_bound(
    t, *, samples: int, neurons: int, lambda_0: float, kappa: float, mu: float, initial_residual: float
):
    """Theorem 2 (eq. 41): ‖U(t) − U(0)‖_F ≤ sqrt(m) × the per-neuron bound."""
    return math.sqrt(neurons) * theorem2_neuron_bound(
        t, samples=samples, neurons=neurons, lambda_0=lambda_0, kappa=kappa, mu=mu,
        initial_residual=initial_residual,
    )


def diffusion_bound(
    critic_bound: float,
    samples: int,
    neurons: int,
    delta: float,
    *,
    critic_neurons: int | None = None,
    adversary_weight: float = 1.0,
) -> float:
    """Eq. 38: ‖D_j^u‖ ≤ abs(β) L n sqrt(2 log(2/δ)) / sqrt(m m_c), i.e. L n sqrt(2 log(2/δ)) / m for β = 1, m_c = m.

    D_j^u = β Σ_p v_j 1{u_jᵀx_p ≥ 0} x_p ∇g(z_p) / sqrt(m) and, by Hoeffding over the critic's
    random signs a_r, abs(∇g(z)) ≤ ‖w‖ sqrt(2 log(2/δ)) / sqrt(m_c) with probability 1 − δ; so the
    bound is abs(β) μ / sqrt(m) with μ of :func:`hoeffding_mu` at the critic width m_c.

    Parameters
    ----------
    critic_bound : float
        L, the bound on the critic's ‖w‖.
    samples, neurons : int
        n and the generator width m.
    delta : float
        δ.
    critic_neurons : int, optional
        The critic width m_c (default m, as in the paper).
    adversary_weight : float
        β (the diffusion scales with it).
    """
    critic_width = neurons if critic_neurons is None else critic_neurons
    return abs(adversary_weight) * hoeffding_mu(critic_bound, samples, critic_width, delta) / math.sqrt(neurons)


def stationarity_time(
    epsilon: float, *, initial_residual: float, lambda_0: float, kappa: float, mu: float
) -> float:
    """T0 = (2/λ0) log((‖z(0) − y‖ − κμ)/(ε − κμ)), the time after which ‖z − y‖ ≤ ε (Theorem 2).

    Returns ``inf`` when κμ ≥ ε (the bound never reaches ε) and 0 when ε ≥ ‖z(0) − y‖.
    """
    floor = kappa * mu
    if epsilon <= floor:
        return math.inf
    if epsilon >= initial_residual:
        return 0.0
    return 2.0 / lambda_0 * math.log((initial_residual - floor) / (epsilon - floor))
