"""Fused stencil kernels for the CPU, compiled with numba and cached on disk.

Each kernel makes one pass over memory: for every cell it reads the fields (and the
previous stage), evaluates the 5-point Laplacian and the reaction in registers, and
writes the result. No temporaries are allocated; rows are spread over threads
(``prange``). Kernels are compiled once per dtype and cached (``cache=True``), so a
second process starts without compiling.

The reaction of every registered model is a scalar function here, selected by the
model's ``kernel_id`` (a loop-invariant branch, hoisted out of the loop by LLVM). A
model's parameters arrive as a small float64 array in its
``kernel_parameter_names`` order. Arithmetic is float64 (parameters and constants
are float64); results are stored at the arrays' dtype.

The grid is ``(ny, nx)``; ``ny == 1`` is 1-D (the y-term of the Laplacian vanishes
because both y-neighbours are the cell itself). ``periodic`` selects wrap-around
neighbours, otherwise the edge cell mirrors itself (no-flux).
"""

from __future__ import annotations

from numba import njit, prange

__all__ = ["reaction_scalar", "euler_step", "rk_stage", "rk_final_stage", "rates"]


@njit(cache=True, inline="always")
def reaction_scalar(model_id, u, v, p):
    """Reaction terms ``(f, g)`` of model ``model_id`` at one cell (see rd_classic.models)."""
    if model_id == 0:  # gray-scott: F, k
        uvv = u * v * v
        return -uvv + p[0] * (1.0 - u), uvv - (p[0] + p[1]) * v
    elif model_id == 1:  # schnakenberg: a, b
        uuv = u * u * v
        return p[0] - u + uuv, p[1] - uuv
    elif model_id == 2:  # gierer-meinhardt: a, b
        uu = u * u
        return p[0] - p[1] * u + uu / v, uu - v
    elif model_id == 3:  # brusselator: a, b
        uuv = u * u * v
        return p[0] - (p[1] + 1.0) * u + uuv, p[1] * u - uuv
    elif model_id == 4:  # fitzhugh-nagumo: epsilon, a1, a0
        return u - u * u * u - v, p[0] * (u - p[1] * v - p[2])
    else:  # linear: a, b, c, d
        return p[0] * u + p[1] * v, p[2] * u + p[3] * v


@njit(cache=True, inline="always")
def _row_neighbours(i, ny, periodic):
    if i > 0:
        im = i - 1
    else:
        im = ny - 1 if periodic else 0
    if i < ny - 1:
        ip = i + 1
    else:
        ip = 0 if periodic else ny - 1
    return im, ip


@njit(cache=True, inline="always")
def _laplacian(a, i, im, ip, j, jm, jp):
    return a[im, j] + a[ip, j] + a[i, jm] + a[i, jp] - 4.0 * a[i, j]


@njit(cache=True, inline="always")
def _euler_cell(model_id, p, du, dv, dt, inv_dx2, u, v, u_out, v_out, i, im, ip, j, jm, jp):
    uc = u[i, j]
    vc = v[i, j]
    f, g = reaction_scalar(model_id, uc, vc, p)
    u_out[i, j] = uc + dt * (du * inv_dx2 * _laplacian(u, i, im, ip, j, jm, jp) + f)
    v_out[i, j] = vc + dt * (dv * inv_dx2 * _laplacian(v, i, im, ip, j, jm, jp) + g)


@njit(cache=True, parallel=True)
def euler_step(model_id, p, du, dv, dt, inv_dx2, periodic, u, v, u_out, v_out):
    """One explicit Euler step ``u_out = u + dt (D ∇²u + f(u, v))``, fused."""
    ny, nx = u.shape
    for i in prange(ny):
        im, ip = _row_neighbours(i, ny, periodic)
        _euler_cell(model_id, p, du, dv, dt, inv_dx2, u, v, u_out, v_out, i, im, ip, 0, nx - 1 if periodic else 0, 1)
        for j in range(1, nx - 1):
            _euler_cell(model_id, p, du, dv, dt, inv_dx2, u, v, u_out, v_out, i, im, ip, j, j - 1, j + 1)
        _euler_cell(
            model_id, p, du, dv, dt, inv_dx2, u, v, u_out, v_out, i, im, ip, nx - 1, nx - 2, 0 if periodic else nx - 1
        )


@njit(cache=True, inline="always")
def _stage_rate(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, i, im, ip, j, jm, jp):
    # right-hand side at the stage state u + a_dt * k (Laplacian is linear)
    us = u[i, j] + a_dt * ku[i, j]
    vs = v[i, j] + a_dt * kv[i, j]
    lu = _laplacian(u, i, im, ip, j, jm, jp) + a_dt * _laplacian(ku, i, im, ip, j, jm, jp)
    lv = _laplacian(v, i, im, ip, j, jm, jp) + a_dt * _laplacian(kv, i, im, ip, j, jm, jp)
    f, g = reaction_scalar(model_id, us, vs, p)
    return du * inv_dx2 * lu + f, dv * inv_dx2 * lv + g


@njit(cache=True, inline="always")
def _stage_cell(
    model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first, i, im, ip, j, jm, jp
):
    ru, rv = _stage_rate(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, i, im, ip, j, jm, jp)
    ku_out[i, j] = ru
    kv_out[i, j] = rv
    if first:
        acc_u[i, j] = b * ru
        acc_v[i, j] = b * rv
    else:
        acc_u[i, j] += b * ru
        acc_v[i, j] += b * rv


@njit(cache=True, parallel=True)
def rk_stage(model_id, p, du, dv, inv_dx2, periodic, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first):
    """An intermediate Runge-Kutta stage, fused.

    Computes ``k_out = F(u + a_dt k)`` and ``acc = b k_out`` (``first``) or
    ``acc += b k_out``. For the first stage pass ``a_dt = 0`` (``k`` is then unused
    but must have the right shape).
    """
    ny, nx = u.shape
    for i in prange(ny):
        im, ip = _row_neighbours(i, ny, periodic)
        _stage_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first,
                    i, im, ip, 0, nx - 1 if periodic else 0, 1)  # fmt: skip
        for j in range(1, nx - 1):
            _stage_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first,
                        i, im, ip, j, j - 1, j + 1)  # fmt: skip
        _stage_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first,
                    i, im, ip, nx - 1, nx - 2, 0 if periodic else nx - 1)  # fmt: skip


@njit(cache=True, inline="always")
def _final_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out,
                i, im, ip, j, jm, jp):  # fmt: skip
    ru, rv = _stage_rate(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, i, im, ip, j, jm, jp)
    u_out[i, j] = u[i, j] + dt * (acc_u[i, j] + b * ru)
    v_out[i, j] = v[i, j] + dt * (acc_v[i, j] + b * rv)


@njit(cache=True, parallel=True)
def rk_final_stage(model_id, p, du, dv, inv_dx2, periodic, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out):
    """The last Runge-Kutta stage, fused with the update ``u_out = u + dt (acc + b F(u + a_dt k))``."""
    ny, nx = u.shape
    for i in prange(ny):
        im, ip = _row_neighbours(i, ny, periodic)
        _final_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out,
                    i, im, ip, 0, nx - 1 if periodic else 0, 1)  # fmt: skip
        for j in range(1, nx - 1):
            _final_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out,
                        i, im, ip, j, j - 1, j + 1)  # fmt: skip
        _final_cell(model_id, p, du, dv, inv_dx2, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out,
                    i, im, ip, nx - 1, nx - 2, 0 if periodic else nx - 1)  # fmt: skip


@njit(cache=True, inline="always")
def _rates_cell(model_id, p, du, dv, inv_dx2, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v,
                i, im, ip, j, jm, jp):  # fmt: skip
    f, g = reaction_scalar(model_id, u[i, j], v[i, j], p)
    reaction_u[i, j] = f
    reaction_v[i, j] = g
    diffusion_u[i, j] = du * inv_dx2 * _laplacian(u, i, im, ip, j, jm, jp)
    diffusion_v[i, j] = dv * inv_dx2 * _laplacian(v, i, im, ip, j, jm, jp)


@njit(cache=True, parallel=True)
def rates(model_id, p, du, dv, inv_dx2, periodic, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v):
    """The two parts of the rate of change: reaction ``f(u, v)`` and diffusion ``D ∇²u``."""
    ny, nx = u.shape
    for i in prange(ny):
        im, ip = _row_neighbours(i, ny, periodic)
        _rates_cell(model_id, p, du, dv, inv_dx2, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v,
                    i, im, ip, 0, nx - 1 if periodic else 0, 1)  # fmt: skip
        for j in range(1, nx - 1):
            _rates_cell(model_id, p, du, dv, inv_dx2, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v,
                        i, im, ip, j, j - 1, j + 1)  # fmt: skip
        _rates_cell(model_id, p, du, dv, inv_dx2, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v,
                    i, im, ip, nx - 1, nx - 2, 0 if periodic else nx - 1)  # fmt: skip
