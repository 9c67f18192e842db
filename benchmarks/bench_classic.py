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
* (d) the time to the first step in a fresh process, cold (empty numba cache) and warm;
* ETDRK4 against Euler at equal accuracy on a stiff Schnakenberg case (Dv/Du = 20), see
  :func:`etdrk4_versus_euler`.

Usage::

    python benchmarks/bench_classic.py                      # 256, 1024, 2048
    python benchmarks/bench_classic.py --sizes 256,512 --quick

Ratios, not absolute numbers, are the point: every figure comes from this run on this machine.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

GS = dict(F=0.035, k=0.065, Du=0.16, Dv=0.08)
DT = 1.0


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
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache)
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
    args = parser.parse_args()
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
    for n, dx in ((128, 0.5), (256, 0.25), (512, 0.125)):
        results = etdrk4_versus_euler(n=n, dx=dx)
        print(f"\nstiff Schnakenberg (Dv/Du = 20, {n}^2, dx = {dx}, t = 10), error vs ETDRK4 reference at dt = 0.02:")
        for name, (dt, error, seconds) in results.items():
            print(f"  {name:>7}: dt = {dt:.4g}, error = {error:.2e}, wall {seconds:.3f} s")
        met = "" if results["etdrk4"][1] <= results["euler"][1] else " (ETDRK4 did NOT reach Euler's error)"
        print(f"  ETDRK4 speed-up at equal accuracy: {results['euler'][2] / results['etdrk4'][2]:.1f}x{met}")


if __name__ == "__main__":
    main()
