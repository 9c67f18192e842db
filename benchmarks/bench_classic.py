"""Benchmark of the classic solver against its peers, all measured in the same run.

Prints, for Gray-Scott with explicit Euler on periodic grids, in interleaved rounds
(:func:`interleaved_euler`: every candidate once per round, the order reversed from round
to round, medians and medians of per-round ratios reported):

* cell updates per second of rd_classic's generated, fused in-place numba kernel, float64
  and float32, as a run takes it (in passes of 2 steps over memory: temporal blocking);
* the same for its peers, each the strongest form its users write: (a) a hand-written
  numba ``prange`` kernel of the same step (:func:`numba_prange_euler`), (b) the step in
  JAX on the CPU (``jax.jit`` over a ``lax.fori_loop``: XLA fuses it; when JAX is
  installed), (c) a plain NumPy ``np.roll`` implementation, (d) py-pde's numba
  ``EulerSolver`` (fixed step, no tracker, its stepping function called directly) on its
  string ``PDE`` and on a ``PDEBase`` subclass whose ``make_evolution_rate`` returns one
  fused numba loop (py-pde's documented fast path), each compiled with py-pde's
  multithreading on (``mt``) and off (``1t``), float64 only; the fastest peer is named;
* the memory-bandwidth roofline, measured in every round: the larger bandwidth of two
  STREAM-style triads, converted to cell updates per second with the bytes one Euler
  cell update must move (read u, v; write u, v: 4 values = 32 B in float64, 16 B in
  float32): STREAM's ``a = b + s c`` (24 B counted per element; the write-allocate read
  of ``a`` moves 8 B more that STREAM does not count) and the in-place ``a = a + s c``
  (24 B, all of them moved: no write-allocate, which is how rd_classic's in-place Euler
  kernel writes); both measured the way the kernels are: on arrays of one field's size and
  dtype (``n``² values: 12 B per element in float32), on the same threads, each repeated
  for as long as a kernel's timing; and the same two triads on arrays of STREAM's size (each at
  least four times the last-level cache, :func:`stream_values`), the **memory** roofline: where
  a field fits in that cache (2048² float32: 16 MB a field, 32 MB of state on a 32 MB L3) the
  first triad measures the cache, not the memory;
* (d) the time to the first step in a fresh process, cold (empty kernel and numba caches)
  and warm;
* (e) the generated kernel against the **hand-written** one it replaced: the Euler kernel
  of ``rd_classic/kernels_numba.py`` at commit :data:`HANDWRITTEN_COMMIT` (the last with
  hand-written per-model kernels) is read with ``git show`` into a temporary folder and
  imported there, and the two Gray-Scott steps are timed in alternation in this process
  (:func:`generated_versus_handwritten`); and a three-species model's cost per species
  against Gray-Scott's (:func:`cost_per_species`);
* ETDRK4 against Euler at equal accuracy on a stiff Schnakenberg case (Dv/Du = 20), see
  :func:`etdrk4_versus_euler`.

Usage::

    python benchmarks/bench_classic.py                      # everything; peers at 512² and 2048²
    python benchmarks/bench_classic.py --only peers --sizes 2048 --rounds 9
    python benchmarks/bench_classic.py --sizes 256,512 --quick
    python benchmarks/bench_classic.py --only generated     # (e) alone, 2048² float64
    python benchmarks/bench_classic.py --only stiff         # ETDRK4 vs Euler alone
    python benchmarks/bench_classic.py --only passes --sizes 1024,2048   # Euler's steps per pass
    python benchmarks/bench_classic.py --only row-loops --sizes 2048      # euler_steps' generated forms
    python benchmarks/bench_classic.py --only rk-stages --sizes 256,512,1024,2048   # RK: one pass vs per stage

Ratios, not absolute numbers, are the point: every figure comes from this run on this machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Before numba (or torch) starts its OpenMP runtime: idle workers sleep at once instead of spinning after
# every parallel region (GNU OpenMP's default). On a machine shared with other jobs a spinning worker takes
# the core from the thread with work, and each parallel region then waits for a scheduler tick: at load 2
# on 2 cores a 2-thread Gray-Scott Euler step at 1024² took 13-16 ms with spinning workers against 1.1 ms
# with sleeping ones (docs/benchmarks.md). Set OMP_WAIT_POLICY=ACTIVE in the environment to measure the default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
from numba import prange  # noqa: E402

GS = dict(F=0.035, k=0.065, Du=0.16, Dv=0.08)
DT = 1.0
#: the last commit whose rd_classic/kernels_numba.py holds the hand-written per-model kernels
HANDWRITTEN_COMMIT = "0b6384c"
#: the last commit whose rd_classic/codegen.py updates the RK stages' weighted sum inside the stage's cell loop
RK_ACCUMULATE_IN_CELL_LOOP_COMMIT = "1126f26"
REPOSITORY = Path(__file__).resolve().parents[1]


def initial(n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    u = (1.0 - 0.5 * rng.uniform(0, 1, (n, n))).astype(dtype)
    v = (0.25 * rng.uniform(0, 1, (n, n))).astype(dtype)
    return u, v


def rdnet_euler(n: int, dtype: str):
    """rd_classic's generated, fused in-place Euler step (through its stepper): ``advance(steps)``."""
    from rd_classic.grids import Grid
    from rd_classic.integrators import make_stepper
    from rd_classic.models import get_model

    stepper = make_stepper(get_model("gray-scott", **GS), Grid((n, n), 1.0), dt=DT, dtype=dtype)
    stepper.set_state(*initial(n, dtype))
    return stepper.advance


def gray_scott_update(u, v, u_out, v_out, F, k, Du, Dv, dt, keep):
    """``out = keep * field + dt * rate`` of one Gray-Scott Euler step, one fused loop over rows (``prange``);
    compiled by numba for the hand-written peer (``keep = 1``: the step) and by py-pde's backend for its
    fused ``PDEBase`` rate (``keep = 0``, ``dt = 1``: the rate)."""
    ny, nx = u.shape
    for i in prange(ny):
        im = i - 1 if i > 0 else ny - 1
        ip = i + 1 if i < ny - 1 else 0
        for j in range(nx):
            jm = j - 1 if j > 0 else nx - 1
            jp = j + 1 if j < nx - 1 else 0
            uc, vc = u[i, j], v[i, j]
            uvv = uc * vc * vc
            lu = u[im, j] + u[ip, j] + u[i, jm] + u[i, jp] - 4 * uc
            lv = v[im, j] + v[ip, j] + v[i, jm] + v[i, jp] - 4 * vc
            u_out[i, j] = keep * uc + dt * (Du * lu - uvv + F * (1 - uc))
            v_out[i, j] = keep * vc + dt * (Dv * lv + uvv - (F + k) * vc)


def numba_prange_euler(n: int, dtype: str):
    """The hand-written numba Gray-Scott Euler step a performance-minded user writes: one fused ``prange`` loop
    over rows (:func:`gray_scott_update`) into ping-pong output arrays, ``fastmath``."""
    from numba import njit

    step = njit(parallel=True, fastmath=True, cache=False)(gray_scott_update)
    scalar = np.dtype(dtype).type
    constants = [scalar(value) for value in (GS["F"], GS["k"], GS["Du"], GS["Dv"], DT, 1.0)]
    fields = [list(initial(n, dtype)), [np.empty((n, n), dtype), np.empty((n, n), dtype)]]

    def advance(steps: int) -> None:
        for _ in range(steps):
            step(*fields[0], *fields[1], *constants)
            fields.reverse()

    return advance


def numpy_euler(n: int, dtype: str):
    """A plain NumPy ``np.roll`` implementation of the same step."""
    state = list(initial(n, dtype))
    F, k, Du, Dv = GS["F"], GS["k"], GS["Du"], GS["Dv"]

    def laplacian(a):
        return np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1) - 4 * a

    def advance(steps: int) -> None:
        u, v = state
        for _ in range(steps):
            uvv = u * v * v
            u, v = (u + DT * (Du * laplacian(u) - uvv + F * (1 - u)),
                    v + DT * (Dv * laplacian(v) + uvv - (F + k) * v))  # fmt: skip
        state[:] = u, v

    return advance


def jax_euler(n: int, dtype: str):
    """The same step in JAX on the CPU: ``jnp.roll`` stencils, ``jax.jit`` over a ``lax.fori_loop`` of steps
    (XLA fuses the step into one loop); ``None`` when JAX is not installed."""
    try:
        import jax
    except ImportError:
        return None
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    from jax import lax

    F, k, Du, Dv = GS["F"], GS["k"], GS["Du"], GS["Dv"]

    def laplacian(a):
        return jnp.roll(a, 1, 0) + jnp.roll(a, -1, 0) + jnp.roll(a, 1, 1) + jnp.roll(a, -1, 1) - 4 * a

    def one_step(_, fields):
        u, v = fields
        uvv = u * v * v
        return (u + DT * (Du * laplacian(u) - uvv + F * (1 - u)), v + DT * (Dv * laplacian(v) + uvv - (F + k) * v))

    run = jax.jit(lambda u, v, steps: lax.fori_loop(0, steps, one_step, (u, v)))
    state = [tuple(jnp.asarray(field) for field in initial(n, dtype))]

    def advance(steps: int) -> None:
        state[0] = run(*state[0], steps)
        jax.block_until_ready(state[0])

    return advance


def _pypde_fused_pde():
    """py-pde's documented fast path: a ``PDEBase`` subclass whose ``make_evolution_rate`` returns one fused
    loop over the grid (a numba ``prange`` over rows compiled by py-pde's backend, whose multithreading
    setting decides whether the loop runs on threads)."""
    import pde

    F, k, Du, Dv = GS["F"], GS["k"], GS["Du"], GS["Dv"]

    class GrayScottFused(pde.PDEBase):
        def evolution_rate(self, state, t=0):  # py-pde's NumPy path (not the one timed)
            u, v = state
            uvv = u.data * v.data**2
            rate = state.copy()
            rate[0].data[...] = Du * u.laplace("periodic").data - uvv + F * (1 - u.data)
            rate[1].data[...] = Dv * v.laplace("periodic").data + uvv - (F + k) * v.data
            return rate

        def make_evolution_rate(self, state, backend):
            update = backend.compile_function(gray_scott_update, parallel=True)

            def rate(data, t=0):
                out = np.empty_like(data)
                update(data[0], data[1], out[0], out[1], F, k, Du, Dv, 1.0, 0.0)
                return out

            return backend.compile_function(rate)

    return GrayScottFused()


def pypde_euler(n: int, *, fused: bool, threads: bool):
    """py-pde's numba ``EulerSolver`` (fixed step, no tracker) on the string ``PDE`` or the fused ``PDEBase``
    subclass (:func:`_pypde_fused_pde`), compiled with py-pde's ``backend.numba.multithreading`` set to
    ``"always"`` (``threads``) or ``"never"``; the solver's own stepping function advances the field in place
    (no controller, so no set-up cost is timed)."""
    import pde

    grid = pde.CartesianGrid([[0, n], [0, n]], [n, n], periodic=True)
    u, v = initial(n, np.float64)
    state = pde.FieldCollection([pde.ScalarField(grid, u, label="u"), pde.ScalarField(grid, v, label="v")])
    if fused:
        equation = _pypde_fused_pde()
    else:
        equation = pde.PDE({"u": f"{GS['Du']} * laplace(u) - u * v**2 + {GS['F']} * (1 - u)",
                            "v": f"{GS['Dv']} * laplace(v) + u * v**2 - {GS['F'] + GS['k']} * v"})  # fmt: skip
    setting = pde.config["backend.numba.multithreading"]
    pde.config["backend.numba.multithreading"] = "always" if threads else "never"
    try:
        stepper = pde.EulerSolver(equation, backend="numba", adaptive=False).make_stepper(state, dt=DT)
        stepper(state, 0.0, DT)  # compile (one step)
    finally:
        pde.config["backend.numba.multithreading"] = setting
    clock = [DT]

    def advance(steps: int) -> None:
        stepper(state, clock[0], clock[0] + steps * DT)  # round((t_end - t_start) / dt) = steps steps
        clock[0] += steps * DT

    return advance


def triad_kernel():
    """STREAM's triad ``a[i] = b[i] + s c[i]`` on numba's threads (``b`` may be ``a``: the in-place triad)."""
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def triad(a, b, c, s):
        for i in prange(a.size):
            a[i] = b[i] + s * c[i]

    return triad


def last_level_cache_bytes() -> int:
    """The size of the CPU's largest cache in bytes (Linux's ``/sys`` cache description); 32 MiB if unknown."""
    sizes = []
    for level in Path("/sys/devices/system/cpu/cpu0/cache").glob("index*"):
        try:
            size = (level / "size").read_text().strip()
        except OSError:
            continue
        units = {"K": 2**10, "M": 2**20, "G": 2**30}
        sizes.append(int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size))
    return max(sizes, default=32 * 2**20)


def stream_values(n: int, dtype: str) -> int:
    """Values per array of the memory triad: STREAM's rule, each array at least four times the last-level cache
    (J. McCalpin, STREAM FAQ), and never fewer than ``n``²."""
    return max(n * n, -(-4 * last_level_cache_bytes() // np.dtype(dtype).itemsize))


def euler_candidates(n: int, dtype: str, *, pypde: bool) -> dict:
    """The Euler steps timed against each other, by column name (py-pde runs in float64 only)."""
    candidates = {"rd_classic": rdnet_euler(n, dtype), "numba prange": numba_prange_euler(n, dtype)}
    jax_advance = jax_euler(n, dtype)
    if jax_advance is not None:
        candidates["jax jit"] = jax_advance
    candidates["numpy roll"] = numpy_euler(n, dtype)
    if pypde and dtype == "float64":
        for fused in (True, False):
            for threads in (True, False):
                name = f"py-pde {'fused' if fused else 'PDE'} {'mt' if threads else '1t'}"
                candidates[name] = pypde_euler(n, fused=fused, threads=threads)
    return candidates


def interleaved_euler(n: int, dtype: str, *, rounds: int, seconds: float, pypde: bool) -> dict[str, list[float]]:
    """Every Euler candidate (:func:`euler_candidates`) and the triads, timed in interleaved rounds at ``n``²
    (:func:`_interleaved`); adds under ``"roofline"`` each round's roofline: the round's triad bandwidth divided
    by the bytes one Euler cell update moves (read u, v; write u, v)."""
    rates = _interleaved(euler_candidates(n, dtype, pypde=pypde), n, rounds=rounds, seconds=seconds, dtype=dtype,
                         memory_triad=True)  # fmt: skip
    rates["roofline"] = [bandwidth / (4 * np.dtype(dtype).itemsize) for bandwidth in rates["bandwidth"]]
    rates["memory roofline"] = [bandwidth / (4 * np.dtype(dtype).itemsize) for bandwidth in rates.pop("memory bandwidth")]
    return rates


def _interleaved(candidates: dict, n: int, *, rounds: int, seconds: float, dtype: str = "float64",
                 memory_triad: bool = False) -> dict[str, list[float]]:
    """Time ``advance(steps)`` of every candidate at ``n``² in interleaved rounds, and the triads.

    Each candidate's step count is set from a first timing so that one timing lasts about
    ``seconds``; each round times every candidate once, then the two triads (STREAM's and the
    in-place one), measured the way the candidates are: on arrays of one field's size and dtype
    (``n``² values of ``dtype``), on the same threads, each triad repeated for about ``seconds``
    (one timing of a few milliseconds caught the moments a shared machine was idle: the triad's
    rounds then spread 56-86 GB/s while the kernels' did not); the order of the candidates
    reverses from round to round. Returns, per candidate, the rate (cell updates/s) of every
    round, under ``"bandwidth"`` each round's larger triad bandwidth (bytes/s, 3 values
    counted per element), and with ``memory_triad`` under ``"memory bandwidth"`` the same on arrays
    of STREAM's size (:func:`stream_values`), which no cache holds.
    """
    steps = {}
    for name, advance in candidates.items():
        advance(2)  # compile, touch memory
        start = time.perf_counter()
        advance(2)
        steps[name] = max(2, int(2 * seconds / max(time.perf_counter() - start, 1e-9)))
        advance(steps[name])  # warm at this count (jax compiles nothing more: the count is traced)
    triads = {"bandwidth": _triad_timer(n * n, dtype, seconds)}
    if memory_triad:
        triads["memory bandwidth"] = _triad_timer(stream_values(n, dtype), dtype, seconds)
    rates: dict[str, list[float]] = {name: [] for name in [*candidates, *triads]}
    for round_index in range(rounds):
        order = list(candidates) if round_index % 2 == 0 else list(reversed(candidates))
        for name in order:
            start = time.perf_counter()
            candidates[name](steps[name])
            rates[name].append(steps[name] * n * n / (time.perf_counter() - start))
        for name, measure in triads.items():
            rates[name].append(measure())
    return rates


def _triad_timer(values: int, dtype: str, seconds: float):
    """A function timing STREAM's triad and the in-place one on three arrays of ``values`` values of ``dtype``, each
    repeated for about ``seconds``, and returning the larger bandwidth (bytes/s, 3 values counted per element)."""
    triad = triad_kernel()
    a, b, c = (np.ones(values, dtype) for _ in range(3))
    scale = np.dtype(dtype).type(1e-9)
    triad(a, b, c, scale)
    start = time.perf_counter()
    triad(a, b, c, scale)
    repeats = max(2, int(seconds / max(time.perf_counter() - start, 1e-9)))
    moved = 3 * np.dtype(dtype).itemsize * values * repeats

    def measure() -> float:
        bandwidth = 0.0
        for source in (b, a):
            start = time.perf_counter()
            for _ in range(repeats):
                triad(a, source, c, scale)
            bandwidth = max(bandwidth, moved / (time.perf_counter() - start))
        return bandwidth

    return measure


#: state bytes one cell update moves per species, per explicit scheme (reads + writes of field values, a write
#: to a freshly written array counted twice for its write-allocate read), in units of the value's size
SCHEME_TRAFFIC = {
    "euler": 1,  # passes of 2 steps (temporal blocking), in place: read u, write u once per 2 steps
    "euler one-step": 2,  # one step per pass, in place: read u, write u
    "rk2": 2,  # fused rk_step, in place: read u, write u
    "rk4": 2,
    "rk2 per stage": 10,  # stage 0: read u, write k (+1), write acc (+1); final: read u, k, acc, write out (+1)
    "rk4 per stage": 22,  # stage 0: 5; two middle stages: read u, k, acc, write k (+1), acc: 6 each; final: 5
}


def interleaved_schemes(n: int, dtype: str, *, rounds: int, seconds: float) -> dict[str, list[float]]:
    """Gray-Scott with Euler, fused RK2/RK4 and per-stage RK2/RK4 (``fuse_stages=False``) at ``n``², timed in
    interleaved rounds with the triads; rates in cell updates per second, ``"bandwidth"`` in bytes/s."""
    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper
    from rd_classic.models import get_model

    candidates = {}
    for name in SCHEME_TRAFFIC:
        scheme = EXPLICIT_SCHEMES[name.split()[0]]
        stepper = NumbaExplicitStepper(get_model("gray-scott", **GS), Grid((n, n), 1.0), scheme, dt=0.5, dtype=dtype,
                                       fuse_stages="per stage" not in name,
                                       steps_per_pass=1 if name == "euler one-step" else None)  # fmt: skip
        stepper.set_state(*initial(n, dtype))
        candidates[name] = stepper.advance
    return _interleaved(candidates, n, rounds=rounds, seconds=seconds, dtype=dtype, memory_triad=True)


def _module_at(commit: str, path: str, name: str):
    """The repository's module ``path`` as it was at ``commit``, imported as ``name`` from a temporary copy (a
    generator's kernels are then cached under their own key: its signature is the hash of its text)."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=REPOSITORY, capture_output=True, text=True,
                            check=True).stdout  # fmt: skip
    copy = Path(tempfile.mkdtemp(prefix="rdnet-old-module-")) / f"{name}.py"
    copy.write_text(source)
    spec = importlib.util.spec_from_file_location(name, copy)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def generated_versus_handwritten(n: int = 2048, rounds: int = 21, cells_per_round: float = 1e8) -> dict:
    """Gray-Scott Euler steps at ``n``² float64: the generated kernel (through its stepper) against
    the hand-written one, timed in alternation in this process, on all of numba's threads and on one.

    Each round times one batch of steps of each (the order alternates from round to round);
    reported per thread count: the median and best rate of each and the median of the
    per-round ratios. On a loaded machine a parallel step waits for its slowest thread, so
    the one-thread figures show the kernels' own speed more steadily. The hand-written kernel
    runs twice: on fields allocated as its stepper did (two separate arrays, whose rows share
    their page offsets) and on the generated stepper's placement
    (:func:`rd_classic.kernels_numba.species_fields`), which separates the kernel code from
    the memory layout.
    """
    from numba import get_num_threads, set_num_threads

    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper
    from rd_classic.models import get_model

    old = _module_at(HANDWRITTEN_COMMIT, "rd_classic/kernels_numba.py", "handwritten_kernels")
    old_kernel = old.kernels_for(0, np.float64)["euler_step"]  # kernel_id 0 was Gray-Scott
    old_p = np.array([GS["F"], GS["k"], 0.0, 0.0])
    u, v = initial(n, np.float64)
    old_halo, old_work = old.euler_buffers((n, n), np.float64)
    # one step per pass, as the hand-written kernel takes them (the passes of several steps are another matter)
    stepper = NumbaExplicitStepper(get_model("gray-scott", **GS), Grid((n, n), 1.0), EXPLICIT_SCHEMES["euler"], dt=DT,
                                   dtype="float64", steps_per_pass=1)  # fmt: skip
    stepper.set_state(u, v)

    def handwritten(steps):
        for _ in range(steps):
            old_kernel(old_p, GS["Du"], GS["Dv"], DT, True, u, v, old_halo, old_work)

    # the same hand-written kernel on the generated stepper's placement of the two fields
    from rd_classic.kernels_numba import species_fields

    u_placed, v_placed = species_fields(2, (n, n), np.float64)
    u_placed[...], v_placed[...] = u, v
    placed_halo, placed_work = old.euler_buffers((n, n), np.float64)

    def handwritten_placed(steps):
        for _ in range(steps):
            old_kernel(old_p, GS["Du"], GS["Dv"], DT, True, u_placed, v_placed, placed_halo, placed_work)

    candidates = {"handwritten": handwritten, "handwritten, fields placed": handwritten_placed,
                  "generated": stepper.advance}  # fmt: skip
    for run in candidates.values():
        run(2)  # compile or load from the cache, touch memory
    steps = max(3, int(cells_per_round / (n * n)))
    threads = get_num_threads()
    results = {}
    for count in sorted({threads, 1}, reverse=True):
        set_num_threads(count)
        rates: dict[str, list[float]] = {name: [] for name in candidates}
        for round_index in range(rounds):
            order = list(candidates) if round_index % 2 == 0 else list(reversed(candidates))
            for name in order:
                start = time.perf_counter()
                candidates[name](steps)
                rates[name].append(steps * n * n / (time.perf_counter() - start))
        ratios = np.array(rates["generated"]) / np.array(rates["handwritten"])
        placed = np.array(rates["generated"]) / np.array(rates["handwritten, fields placed"])
        results[count] = {
            "median": {name: float(np.median(values)) for name, values in rates.items()},
            "best": {name: float(np.max(values)) for name, values in rates.items()},
            "median_ratio": float(np.median(ratios)),
            "best_ratio": max(rates["generated"]) / max(rates["handwritten"]),
            "median_ratio_placed": float(np.median(placed)),
        }
    set_num_threads(threads)
    return results


def cost_per_species(n: int = 2048, rounds: int = 15, cells_per_round: float = 1e8) -> dict:
    """Seconds per cell update per species: the three-species extended Brusselator against Gray-Scott.

    Both generated, Euler, ``n``² float64, timed in alternation; the bar (≤ 1.3) is the median
    of the per-round ratios (three-species cost per species over Gray-Scott's).
    """
    from rd_classic.grids import Grid
    from rd_classic.integrators import make_stepper
    from rd_classic.models import get_model

    grid = Grid((n, n), 1.0)
    gray_scott = make_stepper(get_model("gray-scott", **GS), grid, dt=DT)
    gray_scott.set_state(*initial(n, np.float64))
    three = get_model("extended-brusselator")
    rng = np.random.default_rng(0)
    brusselator = make_stepper(three, grid, dt=1e-3)
    brusselator.set_state(*(value + 0.01 * rng.uniform(-1, 1, (n, n)) for value in three.homogeneous_state()))
    steppers = {"gray-scott": (gray_scott, 2), "extended-brusselator": (brusselator, 3)}
    for stepper, _ in steppers.values():
        stepper.advance(2)
    steps = max(3, int(cells_per_round / (n * n)))
    costs: dict[str, list[float]] = {name: [] for name in steppers}
    for round_index in range(rounds):
        order = list(steppers) if round_index % 2 == 0 else list(reversed(steppers))
        for name in order:
            stepper, species = steppers[name]
            start = time.perf_counter()
            stepper.advance(steps)
            costs[name].append((time.perf_counter() - start) / (steps * n * n * species))
    ratios = np.array(costs["extended-brusselator"]) / np.array(costs["gray-scott"])
    return {"median": {name: float(np.median(values)) for name, values in costs.items()},
            "ratio": float(np.median(ratios))}  # fmt: skip


FIRST_STEP = """
import time; start = time.perf_counter()
import numpy as np
from rd_classic.grids import Grid
from rd_classic.integrators import make_stepper
from rd_classic.models import get_model
s = make_stepper(get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08), Grid((256, 256), 1.0), dt=1.0)
s.set_state(np.ones((256, 256)), np.zeros((256, 256))); s.advance(1)
print(time.perf_counter() - start)
"""


def time_to_first_step() -> tuple[float, float]:
    """Fresh-process time to the first Gray-Scott step (imports included): with empty caches, then warm."""
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, RDNET_KERNEL_CACHE=os.path.join(cache, "kernels"))
        times = [float(subprocess.run([sys.executable, "-c", FIRST_STEP], env=env, capture_output=True,
                                      text=True, check=True).stdout) for _ in range(2)]  # fmt: skip
    return times[0], times[1]


def etdrk4_versus_euler(n: int = 256, dx: float = 0.25, dv: float = 20.0, end: float = 10.0,
                        reference_dt: float = 0.02, rounds: int = 3) -> dict:
    """Wall time of explicit Euler and ETDRK4 at equal accuracy on a stiff Schnakenberg case.

    Schnakenberg (a = 0.1, b = 0.9), Du = 1, Dv = ``dv`` (default 20), periodic ``n``² grid of
    spacing ``dx``, smooth perturbation of the homogeneous state (modes (3, 2)), final time
    ``end``. Accuracy = relative max error of ``u`` at ``end`` against a reference: ETDRK4
    at ``reference_dt`` (its time error there is far below either run's). Euler runs at its
    largest stable dt (0.95 × dx²/(4 Dv)); its error includes the 5-point Laplacian's
    spatial error, which is what a user of it gets. ETDRK4 runs at the fewest steps whose
    error is at most Euler's (:func:`equal_accuracy.fewest_steps_within`: the geometric list
    2, 2/√2, 1, ... then a bisection on the number of steps). Wall time = ``advance`` only
    (kernels compiled or loaded beforehand), the two runs timed in ``rounds`` alternating
    rounds (:func:`equal_accuracy.interleaved_walls`).

    Returns
    -------
    dict
        ``{"euler": (dt, error, walls), "etdrk4": (dt, error, walls)}``, ``walls`` one per round.
    """
    from equal_accuracy import fewest_steps_within, interleaved_walls, wall_of

    from rd_classic.grids import Grid
    from rd_classic.integrators import largest_stable_dt, make_stepper
    from rd_classic.models import get_model

    model = get_model("schnakenberg", Du=1.0, Dv=dv)
    grid = Grid((n, n), dx)
    y, x = grid.coordinates()
    u_star, v_star = model.homogeneous_state()
    length = grid.lengths[1]
    bump = 0.1 * np.cos(2 * np.pi * 3 * x / length)[None, :] * np.cos(2 * np.pi * 2 * y / length)[:, None]
    u0, v0 = u_star + bump, v_star - bump

    def stepper(integrator, steps):
        return make_stepper(model, grid, dt=end / steps, integrator=integrator)

    def final_u(integrator, steps):
        run = stepper(integrator, steps)
        run.set_state(u0, v0)
        run.advance(steps)
        return run.get_state()[0]

    reference = final_u("etdrk4", round(end / reference_dt))

    def error(u):
        return float(np.abs(u - reference).max() / np.abs(reference).max())

    euler_steps = round(end / (0.95 * largest_stable_dt(model, grid, "euler")))
    euler_error = error(final_u("euler", euler_steps))
    etdrk4_steps, etdrk4_error = fewest_steps_within(lambda steps: error(final_u("etdrk4", steps)), euler_error, end)
    walls = {}
    for name, steps in (("euler", euler_steps), ("etdrk4", etdrk4_steps)):
        run = stepper(name, steps)
        run.set_state(u0, v0)
        run.advance(1)  # compile / load the kernels
        walls[name] = wall_of(run.advance, lambda run=run: run.set_state(u0, v0), steps)
    walls = interleaved_walls(walls, rounds)
    return {"euler": (end / euler_steps, euler_error, walls["euler"]),
            "etdrk4": (end / etdrk4_steps, etdrk4_error, walls["etdrk4"])}  # fmt: skip


def report_peers(sizes: list[int], *, rounds: int, seconds: float, pypde: bool) -> None:
    """Print (a)-(c): every Euler candidate's median rate, rd_classic's ratio to each, the roofline share."""
    print(f"Gray-Scott explicit Euler, periodic, cell updates/s: median of {rounds} interleaved rounds "
          f"(~{seconds:.1f} s per timing); numba threads {_numba_threads()}, {os.cpu_count()} cores")
    print("roofline = the round's larger triad bandwidth (STREAM's a = b + s c, in-place a = a + s c; 3 values counted; "
          "n² values of the dtype, as long as a kernel timing)")
    print("           / 32 B (float64) or 16 B (float32) per cell update; ratios are medians of per-round ratios")
    print(f"memory roofline = the same with arrays of STREAM's size (each >= 4x the {last_level_cache_bytes() / 2**20:.0f} "
          f"MiB last-level cache), which no cache holds\n")
    for n in sizes:
        for dtype in ("float64", "float32"):
            rates = interleaved_euler(n, dtype, rounds=rounds, seconds=seconds, pypde=pypde)
            ours = np.array(rates["rd_classic"])
            print(f"{n}² {dtype}:")
            bandwidth = rates.pop("bandwidth")
            print(f"  triad bandwidth {np.median(bandwidth) / 1e9:.1f} GB/s (median of rounds)")
            for name, values in rates.items():
                values = np.array(values)
                line = f"  {name:>16}: {np.median(values):10.3e}  [{values.min():.2e}-{values.max():.2e}]"
                if name in ("roofline", "memory roofline"):
                    line += f"   rd_classic at {100 * np.median(ours / values):.0f} % of it (median of rounds)"
                elif name != "rd_classic":
                    line += f"   rd_classic / this: {np.median(ours / values):6.2f}x"
                print(line)
            peers = {name: np.median(values) for name, values in rates.items()
                     if name not in ("rd_classic", "roofline", "memory roofline")}  # fmt: skip
            fastest = max(peers, key=peers.get)
            print(f"  fastest peer: {fastest} ({peers[fastest]:.3e}); rd_classic / fastest peer "
                  f"{np.median(ours / np.array(rates[fastest])):.2f}x\n")


def report_schemes(n: int, *, rounds: int, seconds: float) -> None:
    """Print every explicit scheme's rate, its state bytes per cell update and its share of the roofline: of the
    triad on the kernel's working set (one field's size) and of the memory triad (STREAM's size)."""
    print(f"\nexplicit schemes, Gray-Scott {n}², cell updates/s (median of {rounds} interleaved rounds); bytes = state "
          f"bytes one cell update moves (2 species; a freshly written array counted twice); numba threads "
          f"{_numba_threads()}, OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for dtype in ("float64", "float32"):
        rates = interleaved_schemes(n, dtype, rounds=rounds, seconds=seconds)
        bandwidth = np.array(rates.pop("bandwidth"))
        memory = np.array(rates.pop("memory bandwidth"))
        size = np.dtype(dtype).itemsize
        print(f"  {dtype} (triad on one field's size {np.median(bandwidth) / 1e9:.1f} GB/s, on STREAM's size "
              f"{np.median(memory) / 1e9:.1f} GB/s):")  # fmt: skip
        for name, values in rates.items():
            moved = 2 * SCHEME_TRAFFIC[name] * size
            share = np.median(np.array(values) * moved / bandwidth)
            roofline = np.median(np.array(values) * 4 * size / bandwidth)
            memory_roofline = np.median(np.array(values) * 4 * size / memory)
            print(f"    {name:>14}: {np.median(values):10.3e}  {moved:4g} B per cell update  "
                  f"{100 * share:5.1f} % of the bandwidth  {100 * roofline:5.1f} % of the one-step roofline  "
                  f"{100 * memory_roofline:5.1f} % of the one-step memory roofline")  # fmt: skip


def _numba_threads() -> int:
    from numba import get_num_threads

    return get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="512,2048")
    parser.add_argument("--rounds", type=int, default=9, help="interleaved rounds of the Euler peers")
    parser.add_argument("--quick", action="store_true", help="shorter timings and 3 rounds (noisier)")
    parser.add_argument("--no-pypde", action="store_true")
    parser.add_argument("--threads", type=int, default=None,
                        help="numba threads of every kernel, the triads and py-pde's 'mt' runs [numba's default]; on a "
                             "loaded machine one thread gives steadier figures (a parallel step waits for its slowest "
                             "thread)")  # fmt: skip
    parser.add_argument("--only", choices=["peers", "schemes", "passes", "row-loops", "rk-stages", "generated", "stiff"],
                        default=None,
                        help="run one part: the Euler peers, the explicit schemes, Euler's steps per pass, euler_steps' "
                             "row loops (one or two rows at a time, with or without the prefetch), RK2/RK4 in one "
                             "pass, per stage and as generated before their weighted sums left the cell loop, (e) "
                             "generated vs "
                             "hand-written, or ETDRK4 vs Euler")  # fmt: skip
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.threads is not None:
        from numba import set_num_threads

        set_num_threads(args.threads)
    if args.only in (None, "peers"):
        report_peers(sizes, rounds=3 if args.quick else args.rounds, seconds=0.3 if args.quick else 1.0,
                     pypde=not args.no_pypde)  # fmt: skip
    if args.only in (None, "schemes"):
        report_schemes(max(sizes), rounds=3 if args.quick else 5, seconds=0.3 if args.quick else 1.0)
    if args.only == "passes":
        report_pass_depths(sizes, rounds=3 if args.quick else 5)
    if args.only == "row-loops":
        report_row_loops(max(sizes), rounds=3 if args.quick else 9)
    if args.only == "rk-stages":
        report_rk_stages(sizes, rounds=3 if args.quick else 7)
    if args.only is None:
        cold, warm = time_to_first_step()
        print(f"time to first step (fresh process, imports included): cold {cold:.2f} s, warm {warm:.2f} s")
    if args.only in (None, "generated"):
        report_generated()
    if args.only in (None, "stiff"):
        report_stiff()


def _model_cases(models, sizes: list[int]):
    """``(name, model, n, dtype, fields)`` for each model, size and dtype: Gray-Scott at :data:`GS` from
    :func:`initial`, another model near its homogeneous state (1 % uniform noise)."""
    from rd_classic.models import get_model

    for name in models:
        model = get_model(name, **GS) if name == "gray-scott" else get_model(name)
        for n in sizes:
            for dtype in ("float64", "float32"):
                rng = np.random.default_rng(0)
                fields = initial(n, dtype) if name == "gray-scott" else \
                    [(value + 0.01 * rng.uniform(-1, 1, (n, n))).astype(dtype) for value in model.homogeneous_state()]  # fmt: skip
                yield name, model, n, dtype, fields


def report_pass_depths(sizes: list[int], *, rounds: int, models=("gray-scott", "extended-brusselator"),
                       depths=(1, 2, 3, 4)) -> None:
    """Print the Euler rate in passes of ``d`` steps over memory against one step per pass, per model, size, dtype."""
    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper

    print(f"\nEuler in passes of d steps (euler_steps) / one step per pass, median of {rounds} alternating rounds; "
          f"numba threads {_numba_threads()}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for name, model, n, dtype, fields in _model_cases(models, sizes):
        steppers = {}
        for depth in depths:
            stepper = NumbaExplicitStepper(model, Grid((n, n), 1.0), EXPLICIT_SCHEMES["euler"], dt=DT if name ==
                                           "gray-scott" else 1e-3, dtype=dtype, steps_per_pass=depth)  # fmt: skip
            stepper.set_state(*fields)
            stepper.advance(12)
            steppers[depth] = stepper.advance
        rates = _interleaved(steppers, n, rounds=rounds, seconds=0.5, dtype=dtype)
        rates.pop("bandwidth", None)
        base = np.median(rates[1])
        cells = ", ".join(f"d = {depth}: {np.median(rates[depth]) / base:.2f}x" for depth in depths[1:])
        print(f"  {name} {n}² {dtype}: one step per pass {base:.3e} cell updates/s; {cells}")


def report_row_loops(n: int, *, rounds: int, depth: int = 2) -> None:
    """Print Gray-Scott's ``euler_steps`` (passes of ``depth`` steps) at ``n``² in its four generated forms, float64
    and float32: one row or two rows at a time (``codegen.ROW_PAIRS``), with or without the prefetch of the rows
    ahead (``codegen.PREFETCH_STATE_ROWS``, :mod:`rd_classic.cache_hints`); ratios to one row at a time without it."""
    from rd_classic import codegen, kernels_numba
    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper
    from rd_classic.kernel_cache import load_generated, module_key
    from rd_classic.models import get_model

    model = get_model("gray-scott", **GS)
    chosen = {"ROW_PAIRS": codegen.ROW_PAIRS, "PREFETCH_STATE_ROWS": codegen.PREFETCH_STATE_ROWS}
    print(f"\neuler_steps ({depth} steps per pass), Gray-Scott {n}², its generated forms, median of {rounds} interleaved "
          f"rounds; numba threads {_numba_threads()}, load {os.getloadavg()[0]:.2f}; the library takes two rows at a "
          f"time in {', '.join(sorted(codegen.ROW_PAIRS)) or 'no dtype'}, prefetches in "
          f"{', '.join(sorted(codegen.PREFETCH_STATE_ROWS)) or 'no dtype'}")  # fmt: skip
    for dtype in ("float64", "float32"):
        stepper = NumbaExplicitStepper(model, Grid((n, n), 1.0), EXPLICIT_SCHEMES["euler"], dt=DT, dtype=dtype,
                                       steps_per_pass=depth)  # fmt: skip
        stepper.set_state(*initial(n, dtype))
        stepper.advance(4 * depth)  # past the first steps' transient
        times = np.arange(depth).astype(dtype) * stepper.dt
        buffers = kernels_numba.euler_steps_buffers((n, n), dtype, model.n_species, depth)
        arguments = (stepper._p, stepper._c, stepper._pf, stepper._dx, times, stepper._dt_cast, stepper._periodic)
        candidates = {}
        for pairs, prefetch in ((False, False), (False, True), (True, False), (True, True)):
            name = f"{'two rows' if pairs else 'one row'}{' + prefetch' if prefetch else ''}"
            codegen.ROW_PAIRS = frozenset({dtype}) if pairs else frozenset()
            codegen.PREFETCH_STATE_ROWS = frozenset({dtype}) if prefetch else frozenset()
            try:
                source = codegen.kernels_source(model.declaration, dtype=dtype, ndim=2, fields=(False,) * len(model.values))
            finally:
                codegen.ROW_PAIRS, codegen.PREFETCH_STATE_ROWS = chosen["ROW_PAIRS"], chosen["PREFETCH_STATE_ROWS"]
            kernel = load_generated(module_key("bench-row-loops", codegen.GENERATOR_SIGNATURE, model.declaration.digest,
                                               dtype, name), lambda: source).euler_steps  # fmt: skip
            state = tuple(field.copy() for field in stepper._state)

            def advance(steps, kernel=kernel, state=state):  # whole passes: at most depth - 1 steps more than counted
                for _ in range(-(-steps // depth)):
                    kernel(*arguments, state, *buffers)

            candidates[name] = advance
        rates = _interleaved(candidates, n, rounds=rounds, seconds=0.5, dtype=dtype)
        rates.pop("bandwidth")
        base = np.array(rates["one row"])
        print(f"  {dtype}: " + ", ".join(f"{name} {np.median(values):.3e} ({np.median(np.array(values) / base):.3f}x)"
                                         for name, values in rates.items()))  # fmt: skip


def report_rk_stages(sizes: list[int], *, rounds: int, models=("gray-scott", "extended-brusselator")) -> None:
    """Print RK2 and RK4 per model, size and dtype: the one-pass step (``rk_step``) against the per-stage kernels, and
    against the one-pass step generated at :data:`RK_ACCUMULATE_IN_CELL_LOOP_COMMIT`; checks that all give the same
    bits."""
    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper
    from rd_classic.kernel_cache import load_generated, module_key

    before = _module_at(RK_ACCUMULATE_IN_CELL_LOOP_COMMIT, "rd_classic/codegen.py", "codegen_before")
    print(f"\nRK2/RK4 in one pass (rk_step) / per stage, and / the one pass generated at "
          f"{RK_ACCUMULATE_IN_CELL_LOOP_COMMIT} (weighted sums in the cell loop); median of {rounds} interleaved rounds "
          f"of per-round ratios; numba threads {_numba_threads()}, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    for name, model, n, dtype, fields in _model_cases(models, sizes):
        old_kernels = load_generated(
            module_key("bench-rk-before", before.GENERATOR_SIGNATURE, model.declaration.digest, dtype),
            lambda: before.kernels_source(model.declaration, dtype=dtype, ndim=2, fields=(False,) * len(model.values)))  # fmt: skip
        line = []
        for scheme in ("rk2", "rk4"):
            steppers = {}
            for variant in ("one pass", "per stage", "before"):
                stepper = NumbaExplicitStepper(model, Grid((n, n), 1.0), EXPLICIT_SCHEMES[scheme],
                                               dt=0.5 if name == "gray-scott" else 1e-3, dtype=dtype,
                                               fuse_stages=variant != "per stage")  # fmt: skip
                if variant == "before":
                    stepper._kernels = old_kernels
                stepper.set_state(*fields)
                stepper.advance(3)
                steppers[variant] = stepper
            same = all(np.array_equal(before_field, field) for before_field, field
                       in zip(steppers["before"]._state, steppers["one pass"]._state))  # fmt: skip
            rates = _interleaved({variant: stepper.advance for variant, stepper in steppers.items()}, n,
                                 rounds=rounds, seconds=0.3, dtype=dtype)  # fmt: skip
            ours = np.array(rates["one pass"])
            line.append(f"{scheme} {np.median(ours):.2e}: / per stage {np.median(ours / rates['per stage']):.2f}x, "
                        f"/ before {np.median(ours / rates['before']):.2f}x{'' if same else ' (BITS DIFFER)'}")  # fmt: skip
        print(f"  {name} {n}² {dtype}: " + "; ".join(line))


def report_stiff() -> None:
    """Print ETDRK4 against Euler at equal accuracy on the stiff Schnakenberg case, 128² to 512²."""
    from equal_accuracy import median_ratio

    for n, dx in ((128, 0.5), (256, 0.25), (512, 0.125)):
        results = etdrk4_versus_euler(n=n, dx=dx)
        print(f"\nstiff Schnakenberg (Dv/Du = 20, {n}^2, dx = {dx}, t = 10), error vs ETDRK4 reference at dt = 0.02 "
              f"(load {os.getloadavg()[0]:.2f}):")  # fmt: skip
        for name, (dt, error, walls) in results.items():
            print(f"  {name:>7}: dt = {dt:.4g} ({round(10 / dt)} steps), error = {error:.2e}, wall median "
                  f"{statistics.median(walls):.3f} s, best {min(walls):.3f} s ({len(walls)} alternating rounds)")  # fmt: skip
        met = "" if results["etdrk4"][1] <= results["euler"][1] else " (ETDRK4 did NOT reach Euler's error)"
        euler, etdrk4 = results["euler"][2], results["etdrk4"][2]
        print(f"  ETDRK4 speed-up at equal accuracy: median of the per-round ratios {median_ratio(euler, etdrk4):.1f}x, "
              f"best / best {min(euler) / min(etdrk4):.1f}x{met}")


def report_generated() -> None:
    """Print (e): generated against hand-written, and the cost per species of three species."""
    comparison = generated_versus_handwritten()
    print(f"\ngenerated vs hand-written Gray-Scott Euler kernel (2048², float64; hand-written from commit "
          f"{HANDWRITTEN_COMMIT}), cell updates/s, alternating rounds:")
    for threads, result in comparison.items():
        print(f"  {threads} thread(s):")
        for name, median in result["median"].items():
            print(f"    {name:>26}: median {median:.3e}, best {result['best'][name]:.3e}")
        print(f"    generated / hand-written: median of the per-round ratios {100 * result['median_ratio']:.1f} %, "
              f"best / best {100 * result['best_ratio']:.1f} %  (bar: >= 95 %); against the hand-written kernel "
              f"on the same placement of the fields: {100 * result['median_ratio_placed']:.1f} %")
    species = cost_per_species()
    print(f"cost per cell update per species (2048², float64, Euler): gray-scott {species['median']['gray-scott']:.3e} s, "
          f"extended-brusselator (3 species) {species['median']['extended-brusselator']:.3e} s; "
          f"median of the per-round ratios {species['ratio']:.2f} (bar: <= 1.3)")


if __name__ == "__main__":
    main()
