"""Microscopic online training of the solvable GAN, for an ensemble of independent replicas.

One step (k → k+1, time t = k/n) draws a fresh real sample y = U c + sqrt(η_T) a and a fresh generated
sample ỹ = V c̃ + sqrt(η_G) ã, and with x = yᵀw, x̃ = ỹᵀw updates

    w ← normalise(w + (τ/n)(x y − x̃ ỹ)),     v_j ← normalise(v_j + (τ̃/n) x̃ c̃_j w)

(both from the old w). Two engines run exactly this model:

``"vector"``
    The literal model: U, V, w are n-vectors, a and ã are drawn coordinate by coordinate.
    O(n d) per step; its cost is dominated by the 2n Gaussian draws of every step.
``"frame"`` (default)
    The same Markov chain written in a moving orthonormal frame of span(U, V, w) (2d + 1 vectors).
    The model is invariant under rotations that fix U, so the part of a (and ã) outside the frame
    enters only through one direction and its length, a χ² variable with n − 2d − 1 degrees of
    freedom; ``x a − x̃ ã`` outside the frame is one isotropic Gaussian vector of variance
    η_T x² + η_G x̃². The overlaps then follow *the same law* as in the vector engine, at O(d³) per
    step, independent of n. Per-coordinate weights at snapshot times are drawn from their exact
    conditional law given the overlaps (the frame completed by random orthonormal vectors), so their
    histograms at each snapshot are exact; the coordinates of one replica are not a single trajectory
    across snapshots (use ``engine="vector"`` for that).

Both engines run the replicas in parallel threads (numba, ``nogil``); each replica has its own seed
spawned from the run's seed, so results do not depend on the number of threads.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
import os

import numba
import numpy as np

from rdnet.errors import ConfigError
from rdnet.gan_dynamics.model import GanModel, OverlapState

__all__ = ["EnsembleRun", "simulate_ensemble", "ENGINES"]

#: names of the simulation engines
ENGINES = ("frame", "vector")


@dataclass(frozen=True)
class EnsembleRun:
    """Result of :func:`simulate_ensemble`.

    Attributes
    ----------
    times : ndarray, shape (T,)
        Record times t = k/n.
    overlaps : OverlapState
        P (R, T, d, d), q (R, T, d), r (R, T, d), S (R, T, d, d) for R replicas.
    w_norm : ndarray, shape (R, T)
        ‖w‖ at the record times (1 up to rounding).
    v_norm : ndarray, shape (R, T, d)
        Norms of V's columns at the record times.
    weight_times : ndarray, shape (Tw,)
        Times of the per-coordinate weight snapshots.
    features : ndarray, shape (K, d)
        The first K coordinates of U (the planted features).
    discriminator : ndarray, shape (R, Tw, K)
        The first K coordinates of w at the snapshot times.
    generator : ndarray, shape (R, Tw, K, d)
        The first K coordinates of V's columns at the snapshot times.
    """

    times: np.ndarray
    overlaps: OverlapState
    w_norm: np.ndarray
    v_norm: np.ndarray
    weight_times: np.ndarray
    features: np.ndarray
    discriminator: np.ndarray
    generator: np.ndarray


# --------------------------------------------------------------------------- kernels


@numba.njit(cache=True, nogil=True)
def _vector_steps(U, V, w, y, y_gen, noise, tau, tau_g, sqrt_lam_t, sqrt_lam_g, sqrt_eta_t, sqrt_eta_g):
    """Advance the literal n-dimensional model by ``len(noise)`` steps, in place.

    ``noise[k]`` holds the standard normal draws of step k: c, c̃ (2d), then a, ã (2n).
    """
    n_steps = noise.shape[0]
    n, d = U.shape
    c = np.empty(d)
    c_gen = np.empty(d)
    v_sq = np.empty(d)
    step_d = tau / n
    step_g = tau_g / n
    for step in range(n_steps):
        draws = noise[step]
        for j in range(d):
            c[j] = sqrt_lam_t[j] * draws[j]
            c_gen[j] = sqrt_lam_g[j] * draws[d + j]
        x = 0.0
        x_gen = 0.0
        for i in range(n):
            real = sqrt_eta_t * draws[2 * d + i]
            fake = sqrt_eta_g * draws[2 * d + n + i]
            for j in range(d):
                real += U[i, j] * c[j]
                fake += V[i, j] * c_gen[j]
            y[i] = real
            y_gen[i] = fake
            x += real * w[i]
            x_gen += fake * w[i]
        for j in range(d):
            v_sq[j] = 0.0
        w_sq = 0.0
        for i in range(n):
            w_old = w[i]
            for j in range(d):
                value = V[i, j] + step_g * x_gen * c_gen[j] * w_old
                V[i, j] = value
                v_sq[j] += value * value
            value = w_old + step_d * (x * y[i] - x_gen * y_gen[i])
            w[i] = value
            w_sq += value * value
        w_scale = 1.0 / np.sqrt(w_sq)
        for j in range(d):
            v_sq[j] = 1.0 / np.sqrt(v_sq[j])
        for i in range(n):
            w[i] *= w_scale
            for j in range(d):
                V[i, j] *= v_sq[j]


@numba.njit(cache=True, nogil=True)
def _frame_steps(R, n, noise, chi_square, tau, tau_g, sqrt_lam_t, sqrt_lam_g, sqrt_eta_t, sqrt_eta_g):
    """Advance the frame coordinates R (k×k, k = 2d+1; columns U, V, w) by ``len(noise)`` steps.

    ``noise[k]`` holds step k's standard normal draws: c, c̃ (2d), then a and ã in the frame (2k);
    ``chi_square[k]`` is its χ²(n − k) draw (the squared length of the noise outside the frame).
    """
    n_steps = noise.shape[0]
    k = R.shape[0]
    d = (k - 1) // 2
    step_d = tau / n
    step_g = tau_g / n
    c = np.empty(d)
    c_gen = np.empty(d)
    a = np.empty(k)
    a_gen = np.empty(k)
    A = np.zeros((k + 1, k))  # new (U, V, w) in the frame extended by one direction
    Q = np.zeros((k + 1, k))  # orthonormal basis built by Gram-Schmidt
    for step in range(n_steps):
        draws = noise[step]
        for j in range(d):
            c[j] = sqrt_lam_t[j] * draws[j]
            c_gen[j] = sqrt_lam_g[j] * draws[d + j]
        x = 0.0
        x_gen = 0.0
        for i in range(k):
            a[i] = sqrt_eta_t * draws[2 * d + i]
            a_gen[i] = sqrt_eta_g * draws[2 * d + k + i]
            x += a[i] * R[i, k - 1]
            x_gen += a_gen[i] * R[i, k - 1]
        for j in range(d):
            x += c[j] * R[j, k - 1]  # q_j = R[j, w]
            r_j = 0.0
            for i in range(k):
                r_j += R[i, d + j] * R[i, k - 1]
            x_gen += c_gen[j] * r_j
        # w' in the frame: w + (τ/n)(x y − x̃ ỹ); ỹ's frame part is V c̃ + sqrt(η_G) ã_F
        for i in range(k):
            y_real = a[i]
            if i < d:
                y_real += c[i]
            y_fake = a_gen[i]
            for j in range(d):
                y_fake += R[i, d + j] * c_gen[j]
            A[i, k - 1] = R[i, k - 1] + step_d * (x * y_real - x_gen * y_fake)
        outside = np.sqrt(sqrt_eta_t**2 * x * x + sqrt_eta_g**2 * x_gen * x_gen)
        A[k, k - 1] = step_d * outside * np.sqrt(chi_square[step])
        for j in range(d):
            for i in range(k):
                A[i, d + j] = R[i, d + j] + step_g * x_gen * c_gen[j] * R[i, k - 1]
            A[k, d + j] = 0.0
            for i in range(k + 1):
                A[i, j] = 1.0 if i == j else 0.0
        # normalise V's columns and w
        for col in range(d, k):
            norm = 0.0
            for i in range(k + 1):
                norm += A[i, col] * A[i, col]
            norm = 1.0 / np.sqrt(norm)
            for i in range(k + 1):
                A[i, col] *= norm
        # Gram-Schmidt (modified): A = Q R_new, the first d columns of Q stay the unit vectors
        for col in range(k):
            for i in range(k + 1):
                Q[i, col] = A[i, col]
            for prev in range(col):
                dot = 0.0
                for i in range(k + 1):
                    dot += Q[i, prev] * Q[i, col]
                R[prev, col] = dot
                for i in range(k + 1):
                    Q[i, col] -= dot * Q[i, prev]
            norm = 0.0
            for i in range(k + 1):
                norm += Q[i, col] * Q[i, col]
            norm = np.sqrt(norm)
            R[col, col] = norm
            if norm > 1e-300:
                for i in range(k + 1):
                    Q[i, col] /= norm
            for row in range(col + 1, k):
                R[row, col] = 0.0


# --------------------------------------------------------------------------- helpers


def _overlaps_from_frame(R: np.ndarray, d: int) -> tuple[np.ndarray, ...]:
    V = R[:, d : 2 * d]
    w = R[:, 2 * d]
    return V[:d, :], w[:d], V.T @ w, V.T @ V, np.linalg.norm(w), np.linalg.norm(V, axis=0)


def _random_frame(U: np.ndarray, extra: int, rng: np.random.Generator) -> np.ndarray:
    """An orthonormal n×(d+extra) frame whose first d columns are U, the rest uniformly random."""
    n, d = U.shape
    G = rng.standard_normal((n, extra))
    G -= U @ (U.T @ G)
    Q, _ = np.linalg.qr(G)
    Q -= U @ (U.T @ Q)  # once more, for rounding
    Q, _ = np.linalg.qr(Q)
    return np.concatenate([U, Q], axis=1)


def _record_indices(times: np.ndarray, n: int) -> np.ndarray:
    steps = np.rint(np.asarray(times, dtype=float) * n).astype(np.int64)
    if steps[0] != 0 or np.any(np.diff(steps) <= 0):
        raise ConfigError("record times must start at 0 and be increasing on the step grid t = k/n")
    return steps


def simulate_ensemble(
    model: GanModel,
    initial: OverlapState,
    *,
    dimension: int,
    times,
    replicas: int = 1,
    seed: int = 0,
    engine: str = "frame",
    weight_times=None,
    max_weights: int = 2000,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> EnsembleRun:
    """Run R independent replicas of the online GAN training at dimension n.

    Parameters
    ----------
    model : GanModel
        Rates, feature strengths and noise levels.
    initial : OverlapState
        Initial overlaps (P, q, r, S); the vectors are otherwise uniformly random.
    dimension : int
        The dimension n (n > 2d + 1).
    times : array_like
        Record times t = k/n of the overlaps, starting at 0 (rounded to the step grid).
    replicas : int
        Number R of independent runs.
    seed : int
        Seed; replica i uses the i-th child of ``numpy.random.SeedSequence(seed)``.
    engine : {"frame", "vector"}
        ``"frame"``: exact in law, O(d³) per step; ``"vector"``: the literal n-dimensional
        model, O(n d) per step (see the module docstring).
    weight_times : array_like, optional
        Times (a subset of ``times``) at which to keep per-coordinate weights; default: first,
        middle and last record time.
    max_weights : int
        Number K of coordinates kept per snapshot (the coordinates are exchangeable).
    workers : int, optional
        Threads running replicas in parallel (default: all cores).
    progress : callable, optional
        Called with a number of completed steps as the run advances (for a progress bar).

    Returns
    -------
    EnsembleRun

    Raises
    ------
    ConfigError
        If the dimension, replica count, engine, seed or times are invalid.
    """
    d = model.features
    if initial.features != d:
        raise ConfigError(f"the initial state has {initial.features} features but the model has {d}")
    n = int(dimension)
    if n <= 2 * d + 1:
        raise ConfigError(f"the dimension n must exceed 2d+1 = {2 * d + 1}, got {dimension}")
    if int(replicas) < 1:
        raise ConfigError(f"replicas must be >= 1, got {replicas}")
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"the seed must be a non-negative integer, got {seed!r}")
    times = np.asarray(times, dtype=float)
    record_steps = _record_indices(times, n)
    times = record_steps / n
    if weight_times is None:
        weight_steps = np.unique(record_steps[[0, len(record_steps) // 2, -1]])
    else:
        weight_steps = np.unique(np.rint(np.asarray(weight_times, dtype=float) * n).astype(np.int64))
        if not np.all(np.isin(weight_steps, record_steps)):
            raise ConfigError("weight snapshot times must be among the record times")
    keep = min(n, int(max_weights))
    R0 = initial.frame_coordinates()
    children = np.random.SeedSequence(seed).spawn(int(replicas) + 1)
    feature_rng = np.random.default_rng(children[-1])
    U_full = _random_frame(np.zeros((n, 0)), d, feature_rng)  # planted features, shared by replicas
    T = len(times)
    P = np.empty((replicas, T, d, d))
    q = np.empty((replicas, T, d))
    r = np.empty((replicas, T, d))
    S = np.empty((replicas, T, d, d))
    w_norm = np.empty((replicas, T))
    v_norm = np.empty((replicas, T, d))
    discriminator = np.empty((replicas, len(weight_steps), keep))
    generator = np.empty((replicas, len(weight_steps), keep, d))
    args = (
        model.tau_d,
        model.tau_g,
        np.sqrt(np.asarray(model.lambda_real)),
        np.sqrt(np.asarray(model.lambda_gen)),
        np.sqrt(model.noise_real),
        np.sqrt(model.noise_gen),
    )

    k = 2 * d + 1
    draws_per_step = 2 * d + (2 * n if engine == "vector" else 2 * k)
    block_steps = max(1, 2**19 // draws_per_step)

    def run_replica(index: int) -> None:
        child = children[index]
        rng = np.random.default_rng(child)
        snapshot = 0
        if engine == "vector":
            F = _random_frame(U_full, d + 1, rng)
            V = np.ascontiguousarray(F @ R0[:, d : 2 * d])
            w = np.ascontiguousarray(F @ R0[:, 2 * d])
            U = np.ascontiguousarray(U_full)
            y = np.empty(n)
            y_gen = np.empty(n)
        else:
            R = R0.copy()
        previous = 0
        for slot, step in enumerate(record_steps):
            if step > previous:
                remaining = int(step - previous)
                while remaining > 0:
                    block = min(remaining, block_steps)
                    noise = rng.standard_normal((block, draws_per_step))
                    if engine == "vector":
                        _vector_steps(U, V, w, y, y_gen, noise, *args)
                    else:
                        _frame_steps(R, n, noise, rng.chisquare(n - 2 * d - 1, block), *args)
                    if progress is not None:
                        progress(block)
                    remaining -= block
                previous = step
            if engine == "vector":
                P[index, slot] = U.T @ V
                q[index, slot] = U.T @ w
                r[index, slot] = V.T @ w
                S[index, slot] = V.T @ V
                w_norm[index, slot] = np.linalg.norm(w)
                v_norm[index, slot] = np.linalg.norm(V, axis=0)
            else:
                (P[index, slot], q[index, slot], r[index, slot], S[index, slot], w_norm[index, slot],
                 v_norm[index, slot]) = _overlaps_from_frame(R, d)
            if snapshot < len(weight_steps) and step == weight_steps[snapshot]:
                if engine == "vector":
                    discriminator[index, snapshot] = w[:keep]
                    generator[index, snapshot] = V[:keep]
                else:
                    F = _random_frame(U_full[:, :], d + 1, rng)
                    discriminator[index, snapshot] = F[:keep] @ R[:, 2 * d]
                    generator[index, snapshot] = F[:keep] @ R[:, d : 2 * d]
                snapshot += 1

    n_workers = workers or min(int(replicas), os.cpu_count() or 1)
    if n_workers <= 1:
        for index in range(replicas):
            run_replica(index)
    else:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            for future in [pool.submit(run_replica, index) for index in range(replicas)]:
                future.result()
    return EnsembleRun(
        times=times,
        overlaps=OverlapState(P=P, q=q, r=r, S=S),
        w_norm=w_norm,
        v_norm=v_norm,
        weight_times=weight_steps / n,
        features=U_full[:keep].copy(),
        discriminator=discriminator,
        generator=generator,
    )
