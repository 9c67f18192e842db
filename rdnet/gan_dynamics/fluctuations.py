"""Finite-n fluctuations of the overlaps at a stable uninformative fixed point (linear-noise theory).

At finite n the overlaps of one run deviate from the ODE by O(n^{-1/2}). Near a stable point of the
uninformative set q = r = 0 (the end state of the convergence and failure phases, and of mode
collapse) the scaled deviations ξ = sqrt(n)·(q, r) follow, to leading order in 1/n, the
Ornstein–Uhlenbeck process (van Kampen's linear-noise approximation)

.. math::

    d\\xi = J \\xi\\, dt + B\\, dW, \\qquad B B^\\top = D,

with J the (q, r) block of the ODE's Jacobian (:func:`~rdnet.gan_dynamics.phases.uninformative_jacobian`;
P and S enter neither J nor D to first order and are frozen) and D the covariance per unit time of
the one-step increments, times n. With x = yᵀw = sqrt(η_T) a_w and x̃ = ỹᵀw = sqrt(η_G) ã_w at
q = r = 0, one step changes (q, r) by (1/n)[τ x z − x̃ z̃] with

.. math::

    z = \\begin{pmatrix} c + \\sqrt{\\eta_T}\\, U^\\top a \\\\ P^\\top c + \\sqrt{\\eta_T}\\, V^\\top a \\end{pmatrix},
    \\qquad
    \\tilde z = \\begin{pmatrix} \\tau (P \\tilde c + \\sqrt{\\eta_G}\\, U^\\top \\tilde a) \\\\
              \\tau (S \\tilde c + \\sqrt{\\eta_G}\\, V^\\top \\tilde a) - \\tilde\\tau \\tilde c \\end{pmatrix}

(the last term is the generator's step Δv_j·w = (τ̃/n) x̃ c̃_j), and a_w, ã_w independent of z, z̃, so
D = τ² η_T Cov(z) + η_G Cov(z̃). The stationary covariance of ξ solves the Lyapunov equation
J Σ + Σ Jᵀ + D = 0: a run that has settled has std(q_i)·sqrt(n) → sqrt(Σ_{q_i q_i}).

At finite n the frozen P still drifts by O(1/n) per unit time (the mean of the quadratic terms of
dP/dt), so the prediction holds for times t ≪ n after the run has settled.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_continuous_lyapunov

from rdnet.errors import ConfigError
from rdnet.gan_dynamics.model import GanModel
from rdnet.gan_dynamics.phases import uninformative_jacobian

__all__ = ["overlap_diffusion", "stationary_covariance", "stationary_fluctuations"]


def _square(name: str, value, d: int) -> np.ndarray:
    matrix = np.asarray(value, dtype=float)
    if matrix.size != d * d:
        raise ConfigError(f"{name} must be a {d}x{d} matrix for a model with {d} features, got shape {matrix.shape}")
    return matrix.reshape(d, d)


def _fixed_point(model: GanModel, P, S) -> tuple[np.ndarray, np.ndarray]:
    d = model.features
    P = _square("P", P, d)
    S = np.eye(d) if S is None else _square("S", S, d)
    if not (np.all(np.isfinite(P)) and np.all(np.isfinite(S))):
        raise ConfigError("P and S must be finite")
    return P, S


def overlap_diffusion(model: GanModel, P, S=None) -> np.ndarray:
    """Diffusion matrix D of sqrt(n)·(q, r) at the uninformative point q = r = 0.

    D is n times the covariance per unit time t of the overlap increments, i.e. n² times the
    covariance of one online step (see the module docstring for the derivation).

    Parameters
    ----------
    model : GanModel
        Rates, feature strengths and noise variances.
    P : array_like, shape (d, d)
        Overlaps UᵀV at the point.
    S : array_like, shape (d, d), optional
        Overlaps VᵀV (default identity).

    Returns
    -------
    ndarray, shape (2d, 2d)
        Symmetric, ordered (q_1..q_d, r_1..r_d).

    Raises
    ------
    ConfigError
        If P or S has the wrong size or is not finite.

    Examples
    --------
    >>> model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    >>> overlap_diffusion(model, [[0.9216]]).round(3)
    array([[0.764, 0.693],
           [0.693, 0.677]])
    """
    return _diffusion(model, *_fixed_point(model, P, S))


def _diffusion(model: GanModel, P: np.ndarray, S: np.ndarray) -> np.ndarray:
    """:func:`overlap_diffusion` for P, S already checked by :func:`_fixed_point`."""
    d = model.features
    lam_t = np.diag(model.lambda_real)
    lam_g = np.diag(model.lambda_gen)
    eta_t, eta_g = model.noise_real, model.noise_gen
    tau, tau_g = model.tau_d, model.tau_g
    eye = np.eye(d)
    # real sample: z = (c + sqrt(η_T) Uᵀa, Pᵀc + sqrt(η_T) Vᵀa), c ~ N(0, Λ_T), Cov(Uᵀa, Vᵀa) = P
    real = np.block(
        [
            [lam_t + eta_t * eye, (lam_t + eta_t * eye) @ P],
            [P.T @ (lam_t + eta_t * eye), P.T @ lam_t @ P + eta_t * S],
        ]
    )
    # generated sample: z̃ = (A c̃ − τ sqrt(η_G) Uᵀã, B c̃ − τ sqrt(η_G) Vᵀã), c̃ ~ N(0, Λ_G)
    A = -tau * P
    B = tau_g * eye - tau * S
    fake = np.block(
        [
            [A @ lam_g @ A.T + tau**2 * eta_g * eye, A @ lam_g @ B.T + tau**2 * eta_g * P],
            [B @ lam_g @ A.T + tau**2 * eta_g * P.T, B @ lam_g @ B.T + tau**2 * eta_g * S],
        ]
    )
    diffusion = tau**2 * eta_t * real + eta_g * fake
    return 0.5 * (diffusion + diffusion.T)


def stationary_covariance(model: GanModel, P, S=None) -> np.ndarray:
    """Stationary covariance Σ of sqrt(n)·(q, r) at a stable uninformative point (Lyapunov equation).

    Solves J Σ + Σ Jᵀ + D = 0 with J from
    :func:`~rdnet.gan_dynamics.phases.uninformative_jacobian` and D from :func:`overlap_diffusion`.

    Parameters
    ----------
    model : GanModel
        Rates, feature strengths and noise variances.
    P : array_like, shape (d, d)
        Overlaps UᵀV at the point (for example the ODE's plateau).
    S : array_like, shape (d, d), optional
        Overlaps VᵀV (default identity).

    Returns
    -------
    ndarray, shape (2d, 2d)
        Σ, ordered (q_1..q_d, r_1..r_d): Cov(q, r) ≈ Σ / n for a run that has settled.

    Raises
    ------
    ConfigError
        If the point is not linearly stable (an eigenvalue of J has real part >= 0: oscillation
        phase, or P below the critical overlap), or P, S are malformed.
    """
    P, S = _fixed_point(model, P, S)
    jacobian = uninformative_jacobian(model, P, S)
    growth = np.linalg.eigvals(jacobian).real.max()
    if not growth < 0:
        raise ConfigError(
            f"the point q = r = 0 with this P is not linearly stable (largest growth rate {growth:.3g} >= 0); "
            "stationary fluctuations exist only at a stable point (convergence/failure, P above P_c)"
        )
    sigma = solve_continuous_lyapunov(jacobian, -_diffusion(model, P, S))
    return 0.5 * (sigma + sigma.T)


def stationary_fluctuations(model: GanModel, P, S=None) -> tuple[np.ndarray, np.ndarray]:
    """Predicted std(q_i)·sqrt(n) and std(r_i)·sqrt(n) of a settled run at a stable uninformative point.

    Parameters
    ----------
    model : GanModel
        Rates, feature strengths and noise variances.
    P : array_like, shape (d, d)
        Overlaps UᵀV at the point (for example the ODE's plateau).
    S : array_like, shape (d, d), optional
        Overlaps VᵀV (default identity).

    Returns
    -------
    q_scale, r_scale : ndarray, shape (d,)
        sqrt of the diagonal of :func:`stationary_covariance`.

    Raises
    ------
    ConfigError
        As :func:`stationary_covariance`.

    Examples
    --------
    >>> model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    >>> q_scale, r_scale = stationary_fluctuations(model, [[0.9216]])
    >>> round(float(q_scale[0]), 2), round(float(r_scale[0]), 2)
    (2.23, 2.13)
    """
    sigma = stationary_covariance(model, P, S)
    d = model.features
    std = np.sqrt(np.diag(sigma))
    return std[:d], std[d:]
