"""Benchmark of the classic solver against its peers, all measured in the same run.

Prints, for Gray-Scott with explicit Euler on periodic grids:

* cell updates per second of rd_classic's fused numba kernel, float64 and float32;
* the same for (a) a plain NumPy ``np.roll`` implementation and (b) py-pde's fastest
  documented path (``pde.PDE`` expressions compiled with numba, fixed-step explicit
  solver, no tracker), float64;
* (c) the memory-bandwidth roofline: the bandwidth of a STREAM-style triad measured
  here, converted to cell updates per second with the bytes one Euler cell update
  must move (read u, v; write u, v: 4 values = 32 B in float64, 16 B in float32). Two
  triads are timed and the faster one sets the roofline (the stricter figure): STREAM's
  ``a = b + s c`` (24 B counted per element; the write-allocate read of ``a`` moves 8 B
  more that STREAM does not count) and the in-place ``a = a + s c`` (24 B, all of them
  moved: no write-allocate, which is how rd_classic's in-place Euler kernel writes);
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

    python benchmarks/bench_classic.py                      # 256, 1024, 2048
    python benchmarks/bench_classic.py --sizes 256,512 --quick
    python benchmarks/bench_classic.py --only generated     # (e) alone, 2048² float64

Ratios, not absolute numbers, are the point: every figure comes from this run on this machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

GS = dict(F=0.035, k=0.065, Du=0.16, Dv=0.08)
DT = 1.0
#: the last commit whose rd_classic/kernels_numba.py holds the hand-written per-model kernels
HANDWRITTEN_COMMIT = "0b6384c"
REPOSITORY = Path(__file__).resolve().parents[1]


def initial(n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    u = (1.0 - 0.5 * rng.uniform(0, 1, (n, n))).astype(dtype)
    v = (0.25 * rng.uniform(0, 1, (n, n))).astype(dtype)
    return u, v


def rate_rdnet(n: int, dtype: str, steps: int) -> float:
    from rd_classic.grids import Grid
    from rd_classic.integrators import make_stepper
    from rd_classic.models import get_model

    stepper = make_stepper(get_model("gray-scott", **GS), Grid((n, n), 1.0), dt=DT, dtype=dtype)
    stepper.set_state(*initial(n, dtype))
    stepper.advance(2)  # compile / load from cache, touch memory
    best = math.inf
    for _ in range(3):
        start = time.perf_counter()
        stepper.advance(steps)
        best = min(best, time.perf_counter() - start)
    return steps * n * n / best


def rate_numpy(n: int, dtype: str, steps: int) -> float:
    u, v = initial(n, dtype)
    F, k, Du, Dv = GS["F"], GS["k"], GS["Du"], GS["Dv"]

    def laplacian(a):
        return np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1) - 4 * a

    start = time.perf_counter()
    for _ in range(steps):
        uvv = u * v * v
        u, v = (u + DT * (Du * laplacian(u) - uvv + F * (1 - u)),
                v + DT * (Dv * laplacian(v) + uvv - (F + k) * v))  # fmt: skip
    return steps * n * n / (time.perf_counter() - start)


def rate_pypde(n: int, steps: int) -> float:
    import pde

    grid = pde.CartesianGrid([[0, n], [0, n]], [n, n], periodic=True)
    u, v = initial(n, np.float64)
    state = pde.FieldCollection([pde.ScalarField(grid, u, label="u"), pde.ScalarField(grid, v, label="v")])
    eq = pde.PDE({"u": f"{GS['Du']} * laplace(u) - u * v**2 + {GS['F']} * (1 - u)",
                  "v": f"{GS['Dv']} * laplace(v) + u * v**2 - {GS['F'] + GS['k']} * v"})  # fmt: skip

    def solve(n_steps: int) -> float:
        solver = pde.EulerSolver(eq, backend="numba", adaptive=False)
        controller = pde.Controller(solver, t_range=n_steps * DT, tracker=None)
        start = time.perf_counter()
        controller.run(state.copy(), dt=DT)
        return time.perf_counter() - start

    solve(2)  # compile
    short, long = solve(2), solve(2 + steps)  # the difference removes set-up cost
    if long - short < 0.2 * long:  # set-up dominates: the difference is noise, report nothing
        return float("nan")
    return steps * n * n / (long - short)


def triad_bandwidth(n_values: int = 2**25) -> float:
    """The larger bandwidth of two STREAM-style triads with numba threads, in bytes/s.

    STREAM's ``a = b + s c`` and the in-place ``a = a + s c``, each counting 24 B per
    element (see the module docstring), best of 5.
    """
    from numba import njit, prange

    @njit(parallel=True, cache=False)
    def triad(a, b, c, s):
        for i in prange(a.size):
            a[i] = b[i] + s * c[i]

    a, b, c = np.ones(n_values), np.ones(n_values), np.ones(n_values)
    triad(a, b, c, 3.0)
    triad(a, a, c, 3.0)
    best = math.inf
    for _ in range(5):
        for source in (b, a):  # STREAM's triad, then the in-place one
            start = time.perf_counter()
            triad(a, source, c, 1e-9)
            best = min(best, time.perf_counter() - start)
    return 24 * n_values / best


def _handwritten_kernels():
    """The hand-written kernel module of :data:`HANDWRITTEN_COMMIT`, imported from a temporary copy."""
    source = subprocess.run(["git", "show", f"{HANDWRITTEN_COMMIT}:rd_classic/kernels_numba.py"], cwd=REPOSITORY,
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="rdnet-handwritten-"))
    path = folder / "handwritten_kernels.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("handwritten_kernels", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["handwritten_kernels"] = module
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
    from rd_classic.integrators import make_stepper
    from rd_classic.models import get_model

    old = _handwritten_kernels()
    old_kernel = old.kernels_for(0, np.float64)["euler_step"]  # kernel_id 0 was Gray-Scott
    old_p = np.array([GS["F"], GS["k"], 0.0, 0.0])
    u, v = initial(n, np.float64)
    old_halo, old_work = old.euler_buffers((n, n), np.float64)
    stepper = make_stepper(get_model("gray-scott", **GS), Grid((n, n), 1.0), dt=DT)
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
                        reference_dt: float = 0.02) -> dict:
    """Wall time of explicit Euler and ETDRK4 at equal accuracy on a stiff Schnakenberg case.

    Schnakenberg (a = 0.1, b = 0.9), Du = 1, Dv = ``dv`` (default 20), periodic ``n``² grid of
    spacing ``dx``, smooth perturbation of the homogeneous state (modes (3, 2)), final time
    ``end``. Accuracy = relative max error of ``u`` at ``end`` against a reference: ETDRK4
    at ``reference_dt`` (its time error there is far below either run's). Euler runs at its
    largest stable dt (0.95 × dx²/(4 Dv)); its error includes the 5-point Laplacian's
    spatial error, which is what a user of it gets. ETDRK4 runs at the largest dt from a
    geometric list (2, 2/√2, 1, ...) whose error is at most Euler's. Wall time =
    ``advance`` only (kernels compiled or loaded beforehand; best of two runs).
    """
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

    def run(integrator, dt, repeats=2):
        steps = round(end / dt)
        stepper = make_stepper(model, grid, dt=end / steps, integrator=integrator)
        stepper.set_state(u0, v0)
        stepper.advance(1)  # compile / load the kernels
        best = math.inf
        for _ in range(repeats):
            stepper.set_state(u0, v0)
            start = time.perf_counter()
            stepper.advance(steps)
            best = min(best, time.perf_counter() - start)
        return stepper.get_state()[0], best, end / steps

    reference, _, _ = run("etdrk4", reference_dt, repeats=1)

    def error(u):
        return float(np.abs(u - reference).max() / np.abs(reference).max())

    results = {}
    u, seconds, dt = run("euler", 0.95 * largest_stable_dt(model, grid, "euler"))
    results["euler"] = (dt, error(u), seconds)
    for candidate in 2.0 / np.sqrt(2.0) ** np.arange(12):  # 2 down to 0.044
        u, seconds, dt = run("etdrk4", candidate)
        results["etdrk4"] = (dt, error(u), seconds)
        if results["etdrk4"][1] <= results["euler"][1]:
            break
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="256,1024,2048")
    parser.add_argument("--quick", action="store_true", help="fewer steps (noisier)")
    parser.add_argument("--no-pypde", action="store_true")
    parser.add_argument("--only", choices=["generated"], default=None,
                        help="run only (e), the generated kernel against the hand-written one")
    args = parser.parse_args()
    if args.only == "generated":
        report_generated()
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    budget = 2e8 if args.quick else 1e9  # cell updates per timing of the fast kernels

    bandwidth = triad_bandwidth()
    print(f"threads: {os.cpu_count()} cores; STREAM triad: {bandwidth / 1e9:.2f} GB/s")
    print("roofline = triad bandwidth / bytes per cell update (32 B float64, 16 B float32); the triads are")
    print("re-measured just before each row's rd_classic timing and the larger of the two figures is used")
    print("(on a shared machine the bandwidth drifts; the larger one gives the stricter % roofline)\n")
    header = f"{'size':>6} {'dtype':>8} {'rd_classic':>12} {'numpy roll':>11} {'py-pde':>10} {'roofline':>10} "
    header += f"{'x numpy':>8} {'x py-pde':>8} {'% roofline':>10}"
    print(header + "   (cell updates/s)")
    for n in sizes:
        for dtype in ("float64", "float32"):
            cells = n * n
            row_bandwidth = max(bandwidth, triad_bandwidth(2**24))
            ours = rate_rdnet(n, dtype, max(5, int(budget / cells)))
            numpy_rate = rate_numpy(n, dtype, max(2, int(budget / 20 / cells)))
            pypde_rate = float("nan")
            if dtype == "float64" and not args.no_pypde:
                pypde_rate = rate_pypde(n, max(3, int(budget / 5 / cells)))
            roofline = row_bandwidth / (32 if dtype == "float64" else 16)
            print(f"{n:>6} {dtype:>8} {ours:12.3e} {numpy_rate:11.3e} {pypde_rate:10.3e} {roofline:10.3e} "
                  f"{ours / numpy_rate:8.1f} {ours / pypde_rate:8.1f} {100 * ours / roofline:9.0f}%")  # fmt: skip
    cold, warm = time_to_first_step()
    print(f"\ntime to first step (fresh process, imports included): cold {cold:.2f} s, warm {warm:.2f} s")
    report_generated()
    for n, dx in ((128, 0.5), (256, 0.25), (512, 0.125)):
        results = etdrk4_versus_euler(n=n, dx=dx)
        print(f"\nstiff Schnakenberg (Dv/Du = 20, {n}^2, dx = {dx}, t = 10), error vs ETDRK4 reference at dt = 0.02:")
        for name, (dt, error, seconds) in results.items():
            print(f"  {name:>7}: dt = {dt:.4g}, error = {error:.2e}, wall {seconds:.3f} s")
        met = "" if results["etdrk4"][1] <= results["euler"][1] else " (ETDRK4 did NOT reach Euler's error)"
        print(f"  ETDRK4 speed-up at equal accuracy: {results['euler'][2] / results['etdrk4'][2]:.1f}x{met}")


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
