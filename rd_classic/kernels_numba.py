"""Fused stencil kernels for the CPU: generated per model, compiled by numba, cached on disk.

The kernels of a model are generated from its declaration (:mod:`rd_classic.codegen`)
for one dtype, grid storage (``(N, ny, nx)`` for 1-D and 2-D grids, ``(N, nz, ny, nx)``
for 3-D) and choice of field-valued parameters, written to the kernel cache and
imported (:mod:`rd_classic.kernel_cache`); numba compiles each kernel on its first
call and keeps the machine code beside the module, so a later process compiles
nothing. :func:`kernels_for` returns the module; its kernels are:

``euler_step(p, c, pf, dx, t, dt, periodic, state, halo, work)``
    One explicit Euler step ``u ← u + dt (D ∇²u + R(u))``, fused and **in place**: a
    step moves one read and one write of every species per cell and no more. Each
    thread takes a block of rows (planes in 3-D), computes row ``i`` into a small
    buffer (``work``) and stores it over row ``i - 1`` only once row ``i`` no longer
    needs the old row ``i - 1``; the rows bordering each block are saved (``halo``)
    before any block starts (:func:`euler_buffers`). Any cut into blocks gives the
    same bits.
``rk_stage(p, c, pf, dx, t, periodic, state, k, a_dt, k_out, acc, b, first)``
    ``k_out = F(u + a_dt k)`` and ``acc = b k_out`` (``first``) or ``acc += b k_out``.
``rk_final_stage(p, c, pf, dx, t, periodic, state, k, a_dt, acc, b, dt, out)``
    ``out = u + dt (acc + b F(u + a_dt k))``.
``rk_step(p, c, pf, dx, t, dt, periodic, state, halo, rings, acc, done, a_dts, weights, nodes_dt)``
    A whole step of a sub-diagonal Runge-Kutta tableau (RK2, RK4; 2-D storage) in one pass over
    memory, **in place**: the stages run as a wavefront over the rows of each thread's block, the
    rows a stencil needs kept in ring buffers (:func:`rk_buffers`); ``a_dts`` holds ``0`` then each
    stage's ``a dt``, ``weights`` the ``b``, ``nodes_dt`` the ``c dt``. The same cells as the
    per-stage kernels, and any cut into blocks gives the same bits.
``euler_steps(p, c, pf, dx, times, dt, periodic, state, halo, rings)``
    ``len(times)`` Euler steps (2-D storage) in one pass over memory, **in place** (temporal
    blocking): the steps run as a wavefront over the rows of each thread's block, each step's
    last rows kept in ring buffers that stay in the cache (:func:`euler_steps_buffers`), the
    last step written straight over the state; ``times`` holds each step's time. Without noise
    terms, in float64 and for at most two species (:data:`rd_classic.codegen.ROW_PAIRS`), each
    step computes its rows two by two in one loop over the cells (the two middle rows loaded once
    for both); in float32 it prefetches the state rows its next wavefront reads
    (:mod:`rd_classic.cache_hints`). The cells' arithmetic is ``euler_step``'s (results equal to
    1 ulp: a few row-end cells contract a product into a fused multiply-add differently), the same
    bits for any cut into blocks; memory traffic per step is ``1 / len(times)`` of ``euler_step``'s.
``rates(p, c, pf, dx, t, periodic, state, reaction, diffusion)``
    The two parts of the rate of change, ``R(u)`` and ``D ∇²u``.
``rhs(p, c, pf, dx, t, periodic, state, out)``
    The whole right-hand side ``out = D ∇²u + R(u)``, for tableaux the fused kernels do not cover.
``reaction_fields(p, pf, dx, t, state, out)``
    ``out = R(state)`` (serial; ETDRK4's nonlinear term).

A run with noise has one more module (:func:`noise_kernels_for`) with
``noisy_euler_step(p, c, pf, dx, t, dt, periodic, state, halo, work, keys, scale, normals)``:
the Euler step plus each noisy species' ``g ΔW`` (Euler–Maruyama, or Milstein), the
normal numbers made by the counter-based generator of :mod:`rd_classic.random_numbers`,
keyed per species and step: two species at a time in the loop over a row's cells, an
unpaired last species row by row into ``normals`` (:func:`noise_buffers`); and, for 2-D
storage, ``noisy_euler_steps(p, c, pf, dx, times, dt, periodic, state, halo, rings, keys, scale,
normals)``: ``euler_steps`` with the same noise terms, ``keys[st]`` the stream keys of step ``st``.

Arguments: ``state``, ``k``, ``k_out``, ``acc``, ``out``, ``reaction`` and ``diffusion`` are
tuples of one array per species, of the grid's shape (:func:`species_fields` places them so
that no two are a power of two apart in memory: such arrays share cache sets and 4 KiB
aliasing, which cost the fused step up to 15 %); ``reaction_fields`` takes stacked
``(N, ...)`` arrays (ETDRK4 transforms all species at once). ``p`` the scalar parameters in
declaration order followed by ``Lx, Ly, Lz`` (:func:`parameter_vector`), ``c`` the diffusion
coefficients over ``dx²``, ``pf`` the field parameters stacked ``(M, ...)`` in declaration order
(an empty stack when none), ``dx`` the spacing, ``t`` the time, every scalar of the arrays' dtype. The
wrap-around (periodic) or mirror (no-flux) neighbour is needed only at the first and
last cell of a row, so the interior loop is branch-free and vectorises. Arithmetic is
done in the arrays' dtype with ``fastmath`` limited to ``nnan, ninf, nsz, contract`` (no
reassociation: results are the same from run to run and for any thread count).

ETDRK4's transform-space combinations (:func:`etd_first`, :func:`etd_second`,
:func:`etd_third`, :func:`etd_final`) do not depend on the model and are compiled here once.
"""

from __future__ import annotations

import functools
from types import ModuleType
from typing import Sequence

import numpy as np
from numba import get_num_threads, njit

from rd_classic.model_file import ModelDeclaration

__all__ = [
    "kernels_for",
    "functions_for",
    "noise_kernels_for",
    "noise_functions_for",
    "noise_buffers",
    "euler_buffers",
    "rk_buffers",
    "species_fields",
    "parameter_vector",
    "cast_scalars",
    "etd_first",
    "etd_second",
    "etd_third",
    "etd_final",
    "FASTMATH",
]

#: fast-math flags: no NaN/inf, signed zeros and FMA contraction; no reassociation
FASTMATH = {"nnan", "ninf", "nsz", "contract"}


#: LLVM options for the generated kernels' compilation. The loop vectoriser leaves a loop scalar when proving that
#: its rows do not overlap takes more run-time checks than ``vectorize-memory-check-threshold`` (LLVM's default 128):
#: a loop over a row's cells that writes a row of each of N species beside the 3N it reads needs of the order of N²
#: of them, and from 5 species on every kernel's cell loop ran unvectorised (``euler_step``: no packed FMA). With
#: this option it vectorises (1.35-4.82x at 5 and 8 species: benchmarks/bench_many_species.py, docs/benchmarks.md
#: "Many species"). The checks run once per row, beside thousands of cells. LLVM's options are process-wide: other
#: numba code compiled in the process gets the same limit. Part of the kernels' cache key.
LLVM_OPTIONS = ("-vectorize-memory-check-threshold=4096",)


@functools.cache
def _set_llvm_options() -> None:
    """Give LLVM :data:`LLVM_OPTIONS` (once per process, before the first generated kernel compiles)."""
    import llvmlite.binding as llvm

    for option in LLVM_OPTIONS:
        llvm.set_option("rdnet", option)


def kernels_for(declaration: ModelDeclaration, dtype, ndim: int, fields: Sequence[bool] = ()) -> ModuleType:
    """The generated kernels of a model (built once, cached on disk and in memory).

    Parameters
    ----------
    declaration
        The model's declaration.
    dtype
        The arrays' dtype (float64 or float32).
    ndim
        Storage dimension: 2 for 1-D and 2-D grids, 3 for 3-D grids.
    fields
        For each parameter, whether it is passed as a field; default all scalars.

    Returns
    -------
    module
        With ``euler_step``, ``rk_stage``, ``rk_final_stage``, ``rates``, ``rhs``, ``reaction_fields``.
    """
    import numba

    from rd_classic import codegen
    from rd_classic.kernel_cache import load_generated, module_key

    dtype = np.dtype(dtype).name
    fields = tuple(bool(flag) for flag in fields) or (False,) * len(declaration.parameters)
    flags = "".join("1" if flag else "0" for flag in fields)
    key = module_key("kernels", codegen.GENERATOR_SIGNATURE, numba.__version__, *LLVM_OPTIONS, declaration.digest,
                     dtype, str(ndim), flags)  # fmt: skip
    _set_llvm_options()
    return load_generated(key, lambda: codegen.kernels_source(declaration, dtype=dtype, ndim=ndim, fields=fields))


def functions_for(declaration: ModelDeclaration) -> ModuleType:
    """The generated array functions (``reaction``, ``jacobian``) of a model."""
    from rd_classic import codegen
    from rd_classic.kernel_cache import load_generated, module_key

    key = module_key("functions", codegen.GENERATOR_SIGNATURE, declaration.digest)
    return load_generated(key, lambda: codegen.functions_source(declaration))


def noise_kernels_for(declaration: ModelDeclaration, noise, dtype, ndim: int, fields: Sequence[bool] = (), *,
                      milstein: bool = False) -> ModuleType:  # fmt: skip
    """The generated noisy Euler kernel of a model with these noise terms (see the module docstring)."""
    import numba

    from rd_classic import codegen, random_numbers
    from rd_classic.kernel_cache import load_generated, module_key

    dtype = np.dtype(dtype).name
    fields = tuple(bool(flag) for flag in fields) or (False,) * len(declaration.parameters)
    flags = "".join("1" if flag else "0" for flag in fields)
    key = module_key("noise-kernels", codegen.GENERATOR_SIGNATURE, random_numbers.SIGNATURE, numba.__version__,
                     *LLVM_OPTIONS, declaration.digest, noise.canonical(), str(milstein), dtype, str(ndim), flags)  # fmt: skip
    _set_llvm_options()
    return load_generated(key, lambda: codegen.noise_kernels_source(declaration, noise, dtype=dtype, ndim=ndim,
                                                                    fields=fields, milstein=milstein))  # fmt: skip


def noise_functions_for(declaration: ModelDeclaration, noise, *, milstein: bool = False) -> ModuleType:
    """The generated array functions ``noise`` and ``noise_slope`` of a model with these noise terms."""
    from rd_classic import codegen
    from rd_classic.kernel_cache import load_generated, module_key

    key = module_key("noise-functions", codegen.GENERATOR_SIGNATURE, declaration.digest, noise.canonical(), str(milstein))
    return load_generated(key, lambda: codegen.noise_functions_source(declaration, noise, milstein=milstein))


def noise_buffers(shape, dtype, n_noisy: int, n_blocks: int) -> np.ndarray:
    """The row buffers of the noisy Euler kernel's normal numbers: ``(n_blocks, n_noisy, nx)``."""
    return np.empty((n_blocks, n_noisy, shape[-1]), dtype)


def parameter_vector(values: Sequence[float], lengths: Sequence[float], dtype) -> np.ndarray:
    """The kernels' ``p``: parameter values then ``Lx, Ly, Lz``, in ``dtype``."""
    return np.array([*values, *lengths], dtype=dtype)


def cast_scalars(dtype, *values):
    """``values`` as scalars of ``dtype`` (so that the kernels compute in ``dtype``)."""
    scalar = np.dtype(dtype).type
    return tuple(scalar(value) for value in values)


#: bytes between the end of one species' array and the start of the next (a page and a cache line)
SPECIES_GAP_BYTES = 4096 + 64


def species_fields(n_species: int, shape, dtype) -> tuple[np.ndarray, ...]:
    """``n_species`` zeroed C-contiguous arrays of ``shape`` carved from one buffer, 4160 bytes apart.

    Consecutive species never start a power of two apart, so their rows do not compete
    for the same cache sets or alias in the store buffer.
    """
    dtype = np.dtype(dtype)
    size = int(np.prod(shape))
    stride = size + SPECIES_GAP_BYTES // dtype.itemsize
    buffer = np.zeros(stride * (n_species - 1) + size + 64 // dtype.itemsize, dtype)
    first = (-buffer.ctypes.data % 64) // dtype.itemsize  # every array 64-byte aligned
    return tuple(buffer[first + s * stride : first + s * stride + size].reshape(shape) for s in range(n_species))


def euler_buffers(shape, dtype, n_species: int = 2, n_blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The buffers of the in-place Euler kernel for fields of grid ``shape``.

    Parameters
    ----------
    shape : tuple of int
        The grid's shape, ``(ny, nx)`` or ``(nz, ny, nx)``.
    dtype : numpy dtype
        The fields' dtype.
    n_species : int
        Number of species.
    n_blocks : int, optional
        Blocks of rows (planes in 3-D), one per thread; defaults to numba's thread
        count (at most the number of rows). Any value gives the same result.

    Returns
    -------
    halo, work : numpy.ndarray
        ``(n_blocks, 2 N, *row)`` and ``(n_blocks, 2, N, *row)``, a row being ``(nx,)``
        (2-D storage) or a plane ``(ny, nx)`` (3-D).
    """
    outer, row = shape[0], tuple(shape[1:])
    n_blocks = max(1, min(outer, get_num_threads() if n_blocks is None else n_blocks))
    return np.empty((n_blocks, 2 * n_species, *row), dtype), np.empty((n_blocks, 2, n_species, *row), dtype)


def rk_buffers(shape, dtype, n_species: int, n_stages: int, n_blocks: int | None = None) -> tuple[np.ndarray, ...]:
    """The buffers of the fused in-place Runge-Kutta step ``rk_step`` (2-D storage ``(ny, nx)``).

    Returns
    -------
    halo, rings, acc, done : numpy.ndarray
        ``(n_blocks, 2, n_stages, N, nx)`` (the rows beyond each block's ends),
        ``(n_blocks, n_stages - 1, 3, N, nx)`` (ring buffers of the stage rates: the rows a stencil
        needs), ``(n_blocks, n_stages, N, nx)`` (the weighted sums of the rows in flight) and ``(n_blocks, 2, N, nx)`` (new rows
        waiting to be stored); ``n_blocks`` as in :func:`euler_buffers`. Any value gives the same result.
    """
    ny, nx = shape
    n_blocks = max(1, min(ny, get_num_threads() if n_blocks is None else n_blocks))
    return (np.empty((n_blocks, 2, n_stages, n_species, nx), dtype),
            np.empty((n_blocks, max(1, n_stages - 1), 3, n_species, nx), dtype),
            np.empty((n_blocks, n_stages, n_species, nx), dtype), np.empty((n_blocks, 2, n_species, nx), dtype))  # fmt: skip


def euler_steps_buffers(shape, dtype, n_species: int, depth: int, n_blocks: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The buffers of ``euler_steps``, ``depth`` Euler steps in one pass (2-D storage ``(ny, nx)``).

    Returns
    -------
    halo, rings : numpy.ndarray
        ``(n_blocks, 2, depth, N, nx)`` (the old rows beyond each block's ends) and
        ``(n_blocks, depth - 1, 6, N, nx)`` (a ring of rows of every step but the last:
        :data:`rd_classic.codegen.RING_ROWS`); ``n_blocks`` as in :func:`euler_buffers`. Any value gives the
        same result.
    """
    from rd_classic.codegen import RING_ROWS

    ny, nx = shape
    n_blocks = max(1, min(ny, get_num_threads() if n_blocks is None else n_blocks))
    return (np.empty((n_blocks, 2, depth, n_species, nx), dtype),
            np.empty((n_blocks, max(1, depth - 1), RING_ROWS, n_species, nx), dtype))  # fmt: skip


# -- ETDRK4's transform-space combinations on flat arrays (coefficients real, values complex) --
# Serial on purpose: numba's OpenMP threads spin after a parallel region and starve the
# FFT's worker threads that run next (measured: 2.5x slower steps at 128²); and split over
# two Python threads (nogil) the final combination at 512² took as long as on one (1.44
# against 1.35 ms, the best of 400 alternating calls at load 3.7: one core already moves
# what the memory can). Each writes what the next inverse transform may overwrite (ducc0's
# c2r without its internal copy) and, where a stage's value is needed later, keeps what is
# needed of it.


@njit(cache=True, fastmath=FASTMATH)
def etd_first(e2, q, x, n0, a, partial):
    """``a = e2 x + q n0`` and ``partial = e2 a - q n0`` (the part of the third stage known now)."""
    for k in range(a.size):
        value = e2[k] * x[k] + q[k] * n0[k]
        a[k] = value
        partial[k] = e2[k] * value - q[k] * n0[k]


@njit(cache=True, fastmath=FASTMATH)
def etd_second(e2, q, x, na, b):
    """``b = e2 x + q na``."""
    for k in range(b.size):
        b[k] = e2[k] * x[k] + q[k] * na[k]


@njit(cache=True, fastmath=FASTMATH)
def etd_third(q, nb, partial):
    """``partial += 2 q nb``: the third stage ``c = e2 a + q (2 nb - n0)``, in place."""
    for k in range(partial.size):
        partial[k] = partial[k] + q[k] * (nb[k] + nb[k])


@njit(cache=True, fastmath=FASTMATH)
def etd_final(e, f1, f2, f3, x, n0, na, nb, nc, out, copy):
    """``out = copy = e x + f1 n0 + 2 f2 (na + nb) + f3 nc`` (the copy for the inverse transform to consume)."""
    for k in range(out.size):
        value = e[k] * x[k] + f1[k] * n0[k] + (f2[k] + f2[k]) * (na[k] + nb[k]) + f3[k] * nc[k]
        out[k] = value
        copy[k] = value
