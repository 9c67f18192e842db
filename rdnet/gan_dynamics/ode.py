"""Macroscopic ODE of the solvable GAN: the n → ∞ limit of the overlaps.

With :math:`g = \\Lambda_G r`, :math:`m = q^\\top\\Lambda_T q - r^\\top\\Lambda_G r` and
:math:`\\rho = \\eta_T(q^\\top\\Lambda_T q + \\eta_T) + \\eta_G(r^\\top\\Lambda_G r + \\eta_G)`:

.. math::

    \\dot q &= \\tau(\\Lambda_T q - P g - m q) - \\tfrac{\\tau^2}{2}\\rho\\, q \\\\
    \\dot r &= \\tau(P^\\top\\Lambda_T q - S g - m r) - \\tfrac{\\tau^2}{2}\\rho\\, r
              + \\tilde\\tau\\, g\\circ(1 - r\\circ r) \\\\
    \\dot P_{ij} &= \\tilde\\tau\\, g_j (q_i - P_{ij} r_j) \\\\
    \\dot S_{ij} &= \\tilde\\tau\\,[g_i (r_j - S_{ij} r_i) + g_j (r_i - S_{ij} r_j)]

The τ² terms are the Itô correction of normalising w after a noisy step; they make the noise level
decide the phase. For d = 1 these reduce to the scalar equations of ``docs/gan_dynamics.md``.
Source: Wang, Hu & Lu (NeurIPS 2019), derived for the choices stated in ``docs/gan_dynamics.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.integrate import solve_ivp

from rdnet.errors import ConfigError, RunError
from rdnet.gan_dynamics.model import GanModel, OverlapState

__all__ = [
    "make_overlap_rhs",
    "pack_state",
    "unpack_state",
    "rate_scale",
    "solver_method",
    "check_ode_cost",
    "integrate_overlaps",
    "integrate_batch",
    "STIFF_RATE",
]

#: above this :func:`rate_scale` the integrators switch from RK45 to LSODA (stiff decay of q, r)
STIFF_RATE = 20.0

#: largest drift rate × horizon accepted (:func:`check_ode_cost`): about the number of steps
MAX_DRIFT_TURNS = 1e6


def rate_scale(tau_d, tau_g, lambda_real, lambda_gen, noise_real, noise_gen) -> np.ndarray:
    """An upper estimate of the overlap ODE's fastest rate (1/time), per parameter set.

    :math:`\\tau(\\lambda^T_{max} + \\lambda^G_{max}) + \\tilde\\tau\\lambda^G_{max}
    + \\tfrac{\\tau^2}{2}[\\eta_T(\\lambda^T_{max} + \\eta_T) + \\eta_G(\\lambda^G_{max} + \\eta_G)]`: the drift
    terms and the Itô term at abs(q), abs(r) ≤ 1. An explicit integrator needs about this many steps per
    unit time; above :data:`STIFF_RATE` the integrators use LSODA.

    Parameters
    ----------
    tau_d, tau_g, noise_real, noise_gen : float or array of shape (B,)
    lambda_real, lambda_gen : array of shape (d,) or (B, d)

    Returns
    -------
    ndarray, shape (B,) (or () for scalars)
    """
    lam_t = np.max(np.asarray(lambda_real, dtype=float), axis=-1)
    lam_g = np.max(np.asarray(lambda_gen, dtype=float), axis=-1)
    tau, tau_tilde = np.asarray(tau_d, dtype=float), np.asarray(tau_g, dtype=float)
    eta_t, eta_g = np.asarray(noise_real, dtype=float), np.asarray(noise_gen, dtype=float)
    ito = 0.5 * tau**2 * (eta_t * (lam_t + eta_t) + eta_g * (lam_g + eta_g))
    return tau * (lam_t + lam_g) + tau_tilde * lam_g + ito


def solver_method(tau_d, tau_g, lambda_real, lambda_gen, noise_real, noise_gen) -> str:
    """The :func:`~scipy.integrate.solve_ivp` method for one or a batch of parameter sets.

    "LSODA" when the largest :func:`rate_scale` exceeds :data:`STIFF_RATE` (stiff decay of q, r),
    else "RK45". Arguments as :func:`rate_scale`.
    """
    rate = np.max(rate_scale(tau_d, tau_g, lambda_real, lambda_gen, noise_real, noise_gen))
    return "LSODA" if rate > STIFF_RATE else "RK45"


def pack_state(state: OverlapState) -> np.ndarray:
    """Flatten an :class:`OverlapState` (leading batch dims allowed) to (..., 2d² + 2d)."""
    d = state.features
    batch = state.P.shape[:-2]
    return np.concatenate(
        [
            state.P.reshape(*batch, d * d),
            state.q.reshape(*batch, d),
            state.r.reshape(*batch, d),
            state.S.reshape(*batch, d * d),
        ],
        axis=-1,
    )


def unpack_state(flat: np.ndarray, features: int) -> OverlapState:
    """Inverse of :func:`pack_state`: (..., 2d² + 2d) -> :class:`OverlapState`."""
    d = features
    flat = np.asarray(flat)
    batch = flat.shape[:-1]
    P = flat[..., : d * d].reshape(*batch, d, d)
    q = flat[..., d * d : d * d + d]
    r = flat[..., d * d + d : d * d + 2 * d]
    S = flat[..., d * d + 2 * d :].reshape(*batch, d, d)
    return OverlapState(P=P, q=q, r=r, S=S)


def make_overlap_rhs(
    tau_d,
    tau_g,
    lambda_real: np.ndarray,
    lambda_gen: np.ndarray,
    noise_real,
    noise_gen,
) -> Callable[[np.ndarray], np.ndarray]:
    """Build the right-hand side of the overlap ODE for a batch of parameter sets.

    Parameters
    ----------
    tau_d, tau_g, noise_real, noise_gen : float or array of shape (B,)
        Rates and noise variances (one per batch member, or shared).
    lambda_real, lambda_gen : array of shape (d,) or (B, d)
        Feature strengths.

    Returns
    -------
    callable
        ``rhs(flat)`` mapping packed states of shape (B, 2d² + 2d) to their time derivatives.
    """
    lam_t = np.atleast_2d(np.asarray(lambda_real, dtype=float))
    lam_g = np.atleast_2d(np.asarray(lambda_gen, dtype=float))
    d = lam_t.shape[-1]
    tau = np.atleast_1d(np.asarray(tau_d, dtype=float))[:, None]
    tau_tilde = np.atleast_1d(np.asarray(tau_g, dtype=float))[:, None]
    eta_t = np.atleast_1d(np.asarray(noise_real, dtype=float))[:, None]
    eta_g = np.atleast_1d(np.asarray(noise_gen, dtype=float))[:, None]

    def rhs(flat: np.ndarray) -> np.ndarray:
        B = flat.shape[0]
        P = flat[:, : d * d].reshape(B, d, d)
        q = flat[:, d * d : d * d + d]
        r = flat[:, d * d + d : d * d + 2 * d]
        S = flat[:, d * d + 2 * d :].reshape(B, d, d)
        g = lam_g * r
        lam_q = lam_t * q
        energy_real = np.sum(q * lam_q, axis=-1, keepdims=True)
        energy_gen = np.sum(r * g, axis=-1, keepdims=True)
        m = energy_real - energy_gen
        rho = eta_t * (energy_real + eta_t) + eta_g * (energy_gen + eta_g)
        ito = 0.5 * tau**2 * rho
        dq = tau * (lam_q - np.einsum("bij,bj->bi", P, g) - m * q) - ito * q
        dr = (
            tau * (np.einsum("bij,bi->bj", P, lam_q) - np.einsum("bij,bj->bi", S, g) - m * r)
            - ito * r
            + tau_tilde * g * (1.0 - r * r)
        )
        tt = tau_tilde[:, :, None]
        dP = tt * g[:, None, :] * (q[:, :, None] - P * r[:, None, :])
        dS = tt * (
            g[:, :, None] * (r[:, None, :] - S * r[:, :, None])
            + g[:, None, :] * (r[:, :, None] - S * r[:, None, :])
        )
        return np.concatenate([dP.reshape(B, d * d), dq, dr, dS.reshape(B, d * d)], axis=-1)

    return rhs


def check_ode_cost(tau_d, tau_g, lambda_real, lambda_gen, horizon: float) -> None:
    """Refuse parameter sets whose ODE oscillates too fast to integrate up to ``horizon``.

    The drift part of :func:`rate_scale`, τ(λ^T + λ^G) + τ̃λ^G, sets how fast q and r can turn
    (a stiff decay from the τ² term is handled by LSODA); an integration to ``horizon`` needs
    about rate × horizon steps, and more than :data:`MAX_DRIFT_TURNS` is refused.

    Raises
    ------
    ConfigError
        Naming the rate and the largest horizon it allows.
    """
    zero = np.zeros_like(np.asarray(tau_d, dtype=float))
    drift = float(np.max(rate_scale(tau_d, tau_g, lambda_real, lambda_gen, zero, zero)))
    if drift * float(horizon) > MAX_DRIFT_TURNS:
        raise ConfigError(
            f"the overlap ODE turns too fast to integrate to t = {float(horizon):g}: its rate "
            f"τ(λ_T + λ_G) + τ̃λ_G = {drift:.3g} allows t ≤ {MAX_DRIFT_TURNS / drift:.3g}; "
            "use smaller rates or strengths, or a shorter horizon"
        )


def integrate_batch(
    rhs: Callable[[np.ndarray], np.ndarray],
    initial: np.ndarray,
    times: Sequence[float] | np.ndarray,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    method: str = "RK45",
) -> np.ndarray:
    """Integrate a batch of packed overlap states with :func:`scipy.integrate.solve_ivp`.

    Parameters
    ----------
    rhs : callable
        From :func:`make_overlap_rhs`.
    initial : ndarray, shape (B, 2d² + 2d)
        Packed initial states.
    times : array_like
        Increasing output times, starting at the initial time.
    rtol, atol : float
        Tolerances of the integrator.
    method : str
        A :func:`~scipy.integrate.solve_ivp` method ("RK45", "DOP853", "LSODA", ...). LSODA is told
        that the Jacobian is banded (batch members are independent), so it stays cheap for large batches.

    Returns
    -------
    ndarray, shape (len(times), B, 2d² + 2d)

    Raises
    ------
    RunError
        If the integrator fails.
    """
    times = np.asarray(times, dtype=float)
    initial = np.atleast_2d(np.asarray(initial, dtype=float))
    shape = initial.shape

    def fun(_t, y):
        return rhs(y.reshape(shape)).ravel()

    options = {"lband": shape[1] - 1, "uband": shape[1] - 1} if method == "LSODA" else {}
    solution = solve_ivp(
        fun, (times[0], times[-1]), initial.ravel(), t_eval=times, rtol=rtol, atol=atol, method=method, **options
    )
    if not solution.success:
        raise RunError(f"the overlap ODE integration failed: {solution.message}")
    return solution.y.T.reshape(len(times), *shape)


def integrate_overlaps(
    model: GanModel,
    initial: OverlapState,
    times: Sequence[float] | np.ndarray,
    *,
    rtol: float = 1e-8,
    atol: float = 1e-10,
    method: str | None = None,
) -> OverlapState:
    """Integrate the macroscopic ODE of one model from one initial state.

    Parameters
    ----------
    model : GanModel
        Rates, strengths and noise levels.
    initial : OverlapState
        Initial overlaps (no batch dims).
    times : array_like
        Increasing output times (t = k/n), the first being the initial time.
    rtol, atol : float
        Integrator tolerances.
    method : str, optional
        :func:`~scipy.integrate.solve_ivp` method; default RK45, or LSODA when the
        :func:`rate_scale` exceeds :data:`STIFF_RATE`.

    Returns
    -------
    OverlapState
        Overlaps with a leading time dimension: P (T, d, d), q (T, d), r (T, d), S (T, d, d).

    Examples
    --------
    >>> from rdnet.gan_dynamics.model import initial_state
    >>> model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    >>> path = integrate_overlaps(model, initial_state(1), [0.0, 100.0, 200.0])
    >>> round(float(path.P[-1, 0, 0]), 2)
    0.92
    """
    rhs = make_overlap_rhs(
        model.tau_d, model.tau_g, model.lambda_real, model.lambda_gen, model.noise_real, model.noise_gen
    )
    if method is None:
        method = solver_method(model.tau_d, model.tau_g, model.lambda_real, model.lambda_gen, model.noise_real,
                               model.noise_gen)
    flat = integrate_batch(rhs, pack_state(initial)[None, :], times, rtol=rtol, atol=atol, method=method)[:, 0, :]
    return unpack_state(flat, model.features)
