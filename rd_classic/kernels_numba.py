"""Fused stencil kernels for the CPU, compiled with numba and cached on disk.

Each kernel makes one pass over memory: for every cell it reads the fields (and the
previous stage), evaluates the 5-point Laplacian and the reaction in registers, and
writes the result. No temporaries are allocated; rows are spread over threads
(``prange``), and inside a row the wrap-around (or mirror) neighbour is needed only at
the first and last cell, so the interior loop is branch-free and vectorises.

The Euler step works in place, so a step moves 2 reads and 2 writes per cell and no
more: each thread takes a block of rows, computes row ``i`` into a small row buffer
and stores it over row ``i - 1``'s place only once row ``i`` no longer needs the old
row ``i - 1``; the rows bordering each block are saved before any block starts. Writing
into separate output arrays would add the write-allocate reads of those arrays (1.5×
the memory traffic) on grids larger than the cache.

Kernels are specialised per model and dtype without writing them once per model: the
scalar reaction of every registered model is a small function here (``REACTIONS``,
indexed by the model's ``kernel_id``), and :func:`kernels_for` builds, once per
``(kernel_id, dtype)``, the four kernels closed over that reaction
(:func:`make_kernels`). A model's parameters arrive as a small array in its
``kernel_parameter_names`` order. Arithmetic is done in the arrays' dtype: the
constants of the kernels (``1``, ``4``) are closure constants of that dtype, and the
callers pass parameters and coefficients already cast to it, so float32 runs in
float32 (and float64 exactly as before).

The kernels are compiled with ``fastmath`` limited to flags that cannot change a
finite result's rounding beyond contraction (``nnan``, ``ninf``, ``nsz``,
``contract``); no reassociation, so results are deterministic from run to run and
thread count. They are cached on disk under a stable key ``(kernel_id, dtype)``
(:class:`_KeyedCache`), so a fresh process loads them without compiling.

The grid is ``(ny, nx)``; ``ny == 1`` is 1-D (the y-term of the Laplacian vanishes
because both y-neighbours are the cell itself). ``periodic`` selects wrap-around
neighbours, otherwise the edge cell mirrors itself (no-flux).

The module-level functions :func:`euler_step`, :func:`rk_stage`,
:func:`rk_final_stage` and :func:`rates` take the model's ``kernel_id`` first and
dispatch to the specialised kernel (a dictionary look-up per call).
"""

from __future__ import annotations

import hashlib

import numpy as np
from numba import get_num_threads, njit, prange
from numba.core.caching import FunctionCache

__all__ = [
    "REACTIONS",
    "make_kernels",
    "kernels_for",
    "euler_step",
    "euler_buffers",
    "rk_stage",
    "rk_final_stage",
    "rates",
]

#: fast-math flags: no NaN/inf, signed zeros and FMA contraction; no reassociation
FASTMATH = {"nnan", "ninf", "nsz", "contract"}


class _KeyedCache(FunctionCache):
    """numba's on-disk cache for a kernel built by a factory, keyed by a stable name.

    numba keys the cache of a closure by the pickled closure variables; ours are
    dispatchers, whose pickles differ from process to process, so every process would
    miss and recompile. Everything a kernel closes over is defined in this file (the
    reactions, the dtype constants), and numba discards the cache whenever this file
    changes, so ``(kernel_id, dtype)`` with the bytecode identifies a kernel.
    """

    def __init__(self, py_func, key: str):
        self._stable_key = key
        super().__init__(py_func)

    def _index_key(self, sig, codegen):
        def digest(data: bytes) -> str:
            return hashlib.sha256(data).hexdigest()

        return (sig, codegen.magic_tuple(), (digest(self._py_func.__code__.co_code), digest(self._stable_key.encode())))


def _keyed_njit(key: str, **options):
    """``njit(**options)`` with the on-disk cache keyed by ``key`` (see :class:`_KeyedCache`)."""

    def decorate(py_func):
        dispatcher = njit(**options)(py_func)
        dispatcher._cache = _KeyedCache(py_func, key)
        return dispatcher

    return decorate


# -- scalar reactions (see rd_classic.models); ``one`` is 1 in the arrays' dtype ------
def _gray_scott(one):
    @njit(inline="always")
    def reaction(u, v, p):  # F, k
        uvv = u * v * v
        return -uvv + p[0] * (one - u), uvv - (p[0] + p[1]) * v

    return reaction


def _schnakenberg(one):
    @njit(inline="always")
    def reaction(u, v, p):  # a, b
        uuv = u * u * v
        return p[0] - u + uuv, p[1] - uuv

    return reaction


def _gierer_meinhardt(one):
    @njit(inline="always")
    def reaction(u, v, p):  # a, b
        uu = u * u
        return p[0] - p[1] * u + uu / v, uu - v

    return reaction


def _brusselator(one):
    @njit(inline="always")
    def reaction(u, v, p):  # a, b
        uuv = u * u * v
        return p[0] - (p[1] + one) * u + uuv, p[1] * u - uuv

    return reaction


def _fitzhugh_nagumo(one):
    @njit(inline="always")
    def reaction(u, v, p):  # epsilon, a1, a0
        return u - u * u * u - v, p[0] * (u - p[1] * v - p[2])

    return reaction


def _linear(one):
    @njit(inline="always")
    def reaction(u, v, p):  # a, b, c, d
        return p[0] * u + p[1] * v, p[2] * u + p[3] * v

    return reaction


#: reaction factories by ``kernel_id`` (each takes the constant 1 of the dtype)
REACTIONS = (_gray_scott, _schnakenberg, _gierer_meinhardt, _brusselator, _fitzhugh_nagumo, _linear)


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
def _row_block(b, n_blocks, ny):
    """Rows ``[start, stop)`` of block ``b`` when ``ny`` rows are cut into ``n_blocks``."""
    return b * ny // n_blocks, (b + 1) * ny // n_blocks


@njit(cache=True, inline="always")
def _copy_row(source, target):
    for j in range(source.shape[0]):
        target[j] = source[j]


def make_kernels(reaction, dtype, key: str) -> dict:
    """The four fused kernels closed over the scalar ``reaction`` (arrays of ``dtype``).

    ``key`` names the pair (reaction, dtype) for numba's on-disk cache.

    Returns
    -------
    dict
        ``euler_step``, ``rk_stage``, ``rk_final_stage`` and ``rates``, each taking
        ``(p, cu, cv, ...)`` with ``cu = Du / dx²``, ``cv = Dv / dx²`` and every
        scalar already of ``dtype`` (see the module-level wrappers for the meaning).
    """
    four = np.dtype(dtype).type(4.0)
    kernel = _keyed_njit(key, parallel=True, fastmath=FASTMATH, error_model="numpy")

    @njit(inline="always")
    def laplacian(a_c, a_n, a_s, j, jm, jp):
        # same order of operations as before: n + s + w + e - 4 c
        return a_n[j] + a_s[j] + a_c[jm] + a_c[jp] - four * a_c[j]

    @njit(inline="always")
    def euler_cell(p, cu, cv, dt, u_c, u_n, u_s, v_c, v_n, v_s, u_o, v_o, j, jm, jp):
        uc = u_c[j]
        vc = v_c[j]
        f, g = reaction(uc, vc, p)
        u_o[j] = uc + dt * (cu * laplacian(u_c, u_n, u_s, j, jm, jp) + f)
        v_o[j] = vc + dt * (cv * laplacian(v_c, v_n, v_s, j, jm, jp) + g)

    @njit(inline="always")
    def euler_row(p, cu, cv, dt, rows, u_o, v_o, first_m, last_p):
        u_c, u_n, u_s, v_c, v_n, v_s = rows
        nx = u_c.shape[0]
        for j in range(1, nx - 1):
            euler_cell(p, cu, cv, dt, u_c, u_n, u_s, v_c, v_n, v_s, u_o, v_o, j, j - 1, j + 1)
        # the first and last cell of the row, in a loop of their own: three inlined calls
        # around the interior loop made numba 0.68 drop the last call's stores
        for edge in range(2):
            j = edge * (nx - 1)
            jm = first_m if edge == 0 else j - 1
            jp = 1 if edge == 0 else last_p
            euler_cell(p, cu, cv, dt, u_c, u_n, u_s, v_c, v_n, v_s, u_o, v_o, j, jm, jp)

    @kernel
    def euler_step(p, cu, cv, dt, periodic, u, v, halo, work):
        ny, nx = u.shape
        n_blocks = halo.shape[0]
        # neighbours across the left and right edges (computed outside the loop)
        first_m = nx - 1 if periodic else 0
        last_p = 0 if periodic else nx - 1
        # the rows bordering each block of rows, saved before any block overwrites them
        for b in prange(n_blocks):
            start, stop = _row_block(b, n_blocks, ny)
            if start < stop:
                above = _row_neighbours(start, ny, periodic)[0]
                below = _row_neighbours(stop - 1, ny, periodic)[1]
                _copy_row(u[above], halo[b, 0])
                _copy_row(v[above], halo[b, 1])
                _copy_row(u[below], halo[b, 2])
                _copy_row(v[below], halo[b, 3])
        for b in prange(n_blocks):
            start, stop = _row_block(b, n_blocks, ny)
            for i in range(start, stop):
                u_n = halo[b, 0] if i == start else u[i - 1]
                v_n = halo[b, 1] if i == start else v[i - 1]
                u_s = halo[b, 2] if i == stop - 1 else u[i + 1]
                v_s = halo[b, 3] if i == stop - 1 else v[i + 1]
                new = work[b, (i - start) % 2]
                euler_row(p, cu, cv, dt, (u[i], u_n, u_s, v[i], v_n, v_s), new[0], new[1], first_m, last_p)
                # row i - 1 is no longer anyone's neighbour: store its new values
                if i > start:
                    done = work[b, (i - 1 - start) % 2]
                    _copy_row(done[0], u[i - 1])
                    _copy_row(done[1], v[i - 1])
            if start < stop:
                done = work[b, (stop - 1 - start) % 2]
                _copy_row(done[0], u[stop - 1])
                _copy_row(done[1], v[stop - 1])

    @njit(inline="always")
    def stage_rate(p, cu, cv, rows, a_dt, j, jm, jp):
        # right-hand side at the stage state u + a_dt * k (the Laplacian is linear)
        u_c, u_n, u_s, v_c, v_n, v_s, ku_c, ku_n, ku_s, kv_c, kv_n, kv_s = rows
        us = u_c[j] + a_dt * ku_c[j]
        vs = v_c[j] + a_dt * kv_c[j]
        lu = laplacian(u_c, u_n, u_s, j, jm, jp) + a_dt * laplacian(ku_c, ku_n, ku_s, j, jm, jp)
        lv = laplacian(v_c, v_n, v_s, j, jm, jp) + a_dt * laplacian(kv_c, kv_n, kv_s, j, jm, jp)
        f, g = reaction(us, vs, p)
        return cu * lu + f, cv * lv + g

    @njit(inline="always")
    def stage_cell(p, cu, cv, rows, a_dt, ku_o, kv_o, acc_u, acc_v, b, first, j, jm, jp):
        ru, rv = stage_rate(p, cu, cv, rows, a_dt, j, jm, jp)
        ku_o[j] = ru
        kv_o[j] = rv
        if first:
            acc_u[j] = b * ru
            acc_v[j] = b * rv
        else:
            acc_u[j] += b * ru
            acc_v[j] += b * rv

    @kernel
    def rk_stage(p, cu, cv, periodic, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first):
        ny, nx = u.shape
        # neighbours across the left and right edges (computed outside the loop)
        first_m = nx - 1 if periodic else 0
        last_p = 0 if periodic else nx - 1
        for i in prange(ny):
            im, ip = _row_neighbours(i, ny, periodic)
            rows = (u[i], u[im], u[ip], v[i], v[im], v[ip], ku[i], ku[im], ku[ip], kv[i], kv[im], kv[ip])
            ku_o, kv_o, au, av = ku_out[i], kv_out[i], acc_u[i], acc_v[i]
            for j in range(1, nx - 1):
                stage_cell(p, cu, cv, rows, a_dt, ku_o, kv_o, au, av, b, first, j, j - 1, j + 1)
            # the first and last cell of the row, in a loop of their own: three inlined calls
            # around the interior loop made numba 0.68 drop the last call's stores
            for edge in range(2):
                j = edge * (nx - 1)
                jm = first_m if edge == 0 else j - 1
                jp = 1 if edge == 0 else last_p
                stage_cell(p, cu, cv, rows, a_dt, ku_o, kv_o, au, av, b, first, j, jm, jp)

    @njit(inline="always")
    def final_cell(p, cu, cv, rows, a_dt, au, av, b, dt, u_o, v_o, j, jm, jp):
        ru, rv = stage_rate(p, cu, cv, rows, a_dt, j, jm, jp)
        u_o[j] = rows[0][j] + dt * (au[j] + b * ru)
        v_o[j] = rows[3][j] + dt * (av[j] + b * rv)

    @kernel
    def rk_final_stage(p, cu, cv, periodic, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out):
        ny, nx = u.shape
        # neighbours across the left and right edges (computed outside the loop)
        first_m = nx - 1 if periodic else 0
        last_p = 0 if periodic else nx - 1
        for i in prange(ny):
            im, ip = _row_neighbours(i, ny, periodic)
            rows = (u[i], u[im], u[ip], v[i], v[im], v[ip], ku[i], ku[im], ku[ip], kv[i], kv[im], kv[ip])
            au, av, u_o, v_o = acc_u[i], acc_v[i], u_out[i], v_out[i]
            for j in range(1, nx - 1):
                final_cell(p, cu, cv, rows, a_dt, au, av, b, dt, u_o, v_o, j, j - 1, j + 1)
            # the first and last cell of the row, in a loop of their own: three inlined calls
            # around the interior loop made numba 0.68 drop the last call's stores
            for edge in range(2):
                j = edge * (nx - 1)
                jm = first_m if edge == 0 else j - 1
                jp = 1 if edge == 0 else last_p
                final_cell(p, cu, cv, rows, a_dt, au, av, b, dt, u_o, v_o, j, jm, jp)

    @njit(inline="always")
    def rates_cell(p, cu, cv, u_c, u_n, u_s, v_c, v_n, v_s, r_u, r_v, d_u, d_v, j, jm, jp):
        f, g = reaction(u_c[j], v_c[j], p)
        r_u[j] = f
        r_v[j] = g
        d_u[j] = cu * laplacian(u_c, u_n, u_s, j, jm, jp)
        d_v[j] = cv * laplacian(v_c, v_n, v_s, j, jm, jp)

    @kernel
    def rates(p, cu, cv, periodic, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v):
        ny, nx = u.shape
        # neighbours across the left and right edges (computed outside the loop)
        first_m = nx - 1 if periodic else 0
        last_p = 0 if periodic else nx - 1
        for i in prange(ny):
            im, ip = _row_neighbours(i, ny, periodic)
            u_c, u_n, u_s, v_c, v_n, v_s = u[i], u[im], u[ip], v[i], v[im], v[ip]
            r_u, r_v, d_u, d_v = reaction_u[i], reaction_v[i], diffusion_u[i], diffusion_v[i]
            for j in range(1, nx - 1):
                rates_cell(p, cu, cv, u_c, u_n, u_s, v_c, v_n, v_s, r_u, r_v, d_u, d_v, j, j - 1, j + 1)
            # the first and last cell of the row, in a loop of their own: three inlined calls
            # around the interior loop made numba 0.68 drop the last call's stores
            for edge in range(2):
                j = edge * (nx - 1)
                jm = first_m if edge == 0 else j - 1
                jp = 1 if edge == 0 else last_p
                rates_cell(p, cu, cv, u_c, u_n, u_s, v_c, v_n, v_s, r_u, r_v, d_u, d_v, j, jm, jp)

    return {"euler_step": euler_step, "rk_stage": rk_stage, "rk_final_stage": rk_final_stage, "rates": rates}


_KERNELS: dict[tuple[int, str], dict] = {}


def kernels_for(kernel_id: int, dtype) -> dict:
    """The kernels of model ``kernel_id`` for arrays of ``dtype`` (built once, memoised)."""
    dtype = np.dtype(dtype)
    key = (int(kernel_id), dtype.name)
    kernels = _KERNELS.get(key)
    if kernels is None:
        if not 0 <= key[0] < len(REACTIONS):
            raise ValueError(f"no compiled reaction for kernel_id {kernel_id}")
        kernels = _KERNELS[key] = make_kernels(REACTIONS[key[0]](dtype.type(1.0)), dtype, f"{key[0]}-{key[1]}")
    return kernels


def cast_scalars(dtype, *values):
    """``values`` as scalars of ``dtype`` (so that the kernels compute in ``dtype``)."""
    scalar = np.dtype(dtype).type
    return tuple(scalar(value) for value in values)


# -- wrappers taking the model's kernel_id and its float64 parameters ---------------
def euler_step(model_id, p, du, dv, dt, inv_dx2, periodic, u, v):
    """One explicit Euler step ``u ← u + dt (D ∇²u + f(u, v))``, fused and in place."""
    cu, cv, dt = cast_scalars(u.dtype, du * inv_dx2, dv * inv_dx2, dt)
    halo, work = euler_buffers(u.shape, u.dtype)
    kernels_for(model_id, u.dtype)["euler_step"](p.astype(u.dtype), cu, cv, dt, periodic, u, v, halo, work)


def euler_buffers(shape, dtype, n_blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The row buffers of the in-place Euler kernel for fields of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)`` of the fields.
    dtype : numpy dtype
        Their dtype.
    n_blocks : int, optional
        Blocks of rows, one per thread; defaults to numba's thread count (at most ``ny``).
        Any value gives the same result; it only sets the parallelism.

    Returns
    -------
    halo, work : numpy.ndarray
        ``(n_blocks, 4, nx)`` and ``(n_blocks, 2, 2, nx)``.
    """
    ny, nx = shape
    n_blocks = max(1, min(ny, get_num_threads() if n_blocks is None else n_blocks))
    return np.empty((n_blocks, 4, nx), dtype), np.empty((n_blocks, 2, 2, nx), dtype)


def rk_stage(model_id, p, du, dv, inv_dx2, periodic, u, v, ku, kv, a_dt, ku_out, kv_out, acc_u, acc_v, b, first):
    """An intermediate Runge-Kutta stage, fused.

    Computes ``k_out = F(u + a_dt k)`` and ``acc = b k_out`` (``first``) or
    ``acc += b k_out``. For the first stage pass ``a_dt = 0`` (``k`` is then unused
    but must have the right shape).
    """
    cu, cv, a_dt, b = cast_scalars(u.dtype, du * inv_dx2, dv * inv_dx2, a_dt, b)
    kernels_for(model_id, u.dtype)["rk_stage"](p.astype(u.dtype), cu, cv, periodic, u, v, ku, kv, a_dt,
                                               ku_out, kv_out, acc_u, acc_v, b, first)  # fmt: skip


def rk_final_stage(model_id, p, du, dv, inv_dx2, periodic, u, v, ku, kv, a_dt, acc_u, acc_v, b, dt, u_out, v_out):
    """The last Runge-Kutta stage, fused with the update ``u_out = u + dt (acc + b F(u + a_dt k))``."""
    cu, cv, a_dt, b, dt = cast_scalars(u.dtype, du * inv_dx2, dv * inv_dx2, a_dt, b, dt)
    kernels_for(model_id, u.dtype)["rk_final_stage"](p.astype(u.dtype), cu, cv, periodic, u, v, ku, kv, a_dt,
                                                     acc_u, acc_v, b, dt, u_out, v_out)  # fmt: skip


def rates(model_id, p, du, dv, inv_dx2, periodic, u, v, reaction_u, reaction_v, diffusion_u, diffusion_v):
    """The two parts of the rate of change: reaction ``f(u, v)`` and diffusion ``D ∇²u``."""
    cu, cv = cast_scalars(u.dtype, du * inv_dx2, dv * inv_dx2)
    kernels_for(model_id, u.dtype)["rates"](p.astype(u.dtype), cu, cv, periodic, u, v,
                                            reaction_u, reaction_v, diffusion_u, diffusion_v)  # fmt: skip


# -- ETDRK4 helpers: the reaction on a stacked (2, ny, nx) field, and the fused ----
# -- Fourier-space combinations on flat arrays (coefficients real, values complex) -
# Serial on purpose: numba's OpenMP threads spin after a parallel region and starve
# the FFT's worker threads that run next (measured: 2.5x slower steps at 128²).
def reaction_kernel(kernel_id: int, dtype):
    """``out[0], out[1] = f(uv[0], uv[1]), g(uv[0], uv[1])`` for ``(2, ny, nx)`` arrays (memoised)."""
    kernels = kernels_for(kernel_id, dtype)
    if "reaction" not in kernels:
        reaction = REACTIONS[int(kernel_id)](np.dtype(dtype).type(1.0))

        @_keyed_njit(f"{int(kernel_id)}-{np.dtype(dtype).name}", fastmath=FASTMATH, error_model="numpy")
        def reaction_fields(p, uv, out):
            ny, nx = uv.shape[1], uv.shape[2]
            for i in range(ny):
                u_c, v_c, f_o, g_o = uv[0, i], uv[1, i], out[0, i], out[1, i]
                for j in range(nx):
                    f, g = reaction(u_c[j], v_c[j], p)
                    f_o[j] = f
                    g_o[j] = g

        kernels["reaction"] = reaction_fields
    return kernels["reaction"]


@njit(cache=True, fastmath=FASTMATH)
def etd_stage(e2, q, x, m, n0, extrapolate, out):
    """``out = e2 x + q m``, or ``out = e2 x + q (2 m - n0)`` when ``extrapolate`` (flat arrays)."""
    for k in range(out.size):
        if extrapolate:
            out[k] = e2[k] * x[k] + q[k] * ((m[k] + m[k]) - n0[k])
        else:
            out[k] = e2[k] * x[k] + q[k] * m[k]


@njit(cache=True, fastmath=FASTMATH)
def etd_final(e, f1, f2, f3, x, n0, na, nb, nc, out):
    """``out = e x + f1 n0 + 2 f2 (na + nb) + f3 nc`` (flat arrays)."""
    for k in range(out.size):
        out[k] = e[k] * x[k] + f1[k] * n0[k] + (f2[k] + f2[k]) * (na[k] + nb[k]) + f3[k] * nc[k]
