"""Benchmarks of the solver's depth: stiff boxes, adaptive steps, noise, boundary conditions.

Prints, each figure a ratio of two runs of this script on this machine:

* **stiff** — ETDRK4 with cosine transforms (and the IMEX scheme) against explicit Euler at
  equal accuracy on a stiff Neumann box: Schnakenberg (a = 0.1, b = 0.9), Du = 1, Dv = 20,
  no-flux ``n``² box of spacing ``dx``, smooth cosine perturbation, t = 10. Accuracy is
  measured against the PDE: a reference on the grid refined twice (ETDRK4 at dt = 0.005),
  carried to the coarse cell centres by 4-point cubic interpolation per axis; every
  coarse run has the same 5-point spatial error, and Euler (at 0.95 of its stability
  limit) adds almost no time error. ETDRK4 and IMEX run at the fewest steps whose error
  is at most Euler's, found by one rule for both (``equal_accuracy.fewest_steps_within``:
  a geometric list of dt, then a bisection on the number of steps). Wall time =
  ``advance`` only, the three runs timed in 3 alternating rounds (median and best quoted).
* **adaptive** — rk45 under ``rtol`` against fixed steps of equal accuracy (rk45 itself, and
  the fused rk4) on FitzHugh–Nagumo relaxation oscillations (ε = 0.05, a1 = 0, Du = Dv = 0.1,
  64², t = 100), whose fast jumps and slow phases want steps 20× apart; error = max over
  the grid against an rk45 run at rtol 1e-11.
* **noise** — the cost of a noisy Euler–Maruyama (Milstein) step against the deterministic
  Euler step of the same model and grid (the default stepper, in passes of several steps, and
  the one-step kernel the noisy one is built on), the normal numbers drawn in the kernel; and the
  alternative of a separate array pass (normals drawn into arrays, then added), on Gray-Scott
  and the three-species extended Brusselator; median of alternating rounds; and the normals alone
  (nanoseconds per number, one thread, for a species drawing alone and two drawing together), and
  where their time goes: the hash alone, with the radius, with the angle (one thread).
  ``--threads 1`` times the noise steps by the CPU time of that one thread, which other jobs on
  a shared machine do not inflate.
* **boundary** — an Euler step with Dirichlet/Robin sides (ghost-cell corrections) against the
  periodic one.

Usage::

    python benchmarks/bench_solver.py                 # everything (a few minutes)
    python benchmarks/bench_solver.py --only stiff --stiff-sizes 128 256
    python benchmarks/bench_solver.py --only noise --size 1024
    python benchmarks/bench_solver.py --only noise --size 1024 --threads 1
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import time

# Before numba (or torch) starts its OpenMP runtime: idle workers sleep at once instead of spinning after
# every parallel region (GNU OpenMP's default). On a machine shared with other jobs a spinning worker takes
# the core from the thread with work, and each parallel region then waits for a scheduler tick: at load 2
# on 2 cores a 2-thread Gray-Scott Euler step at 1024² took 13-16 ms with spinning workers against 1.1 ms
# with sleeping ones (docs/benchmarks.md). Set OMP_WAIT_POLICY=ACTIVE in the environment to measure the default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402


def _timed(stepper, fields, steps, repeats=2):
    """Best wall time of ``steps`` steps from ``fields`` (kernels compiled before)."""
    stepper.set_state(*fields)
    stepper.advance(1)
    best = math.inf
    for _ in range(repeats):
        stepper.set_state(*fields)
        start = time.perf_counter()
        stepper.advance(steps)
        best = min(best, time.perf_counter() - start)
    return stepper.get_state(), best


def _cubic_to_coarse(values: np.ndarray) -> np.ndarray:
    """A field on the twice-refined cell-centred grid at the coarse cell centres (4-point cubic, mirrored edges)."""
    for axis in range(values.ndim):
        padded = np.concatenate([np.take(values, [1, 0], axis=axis), values,
                                 np.take(values, [-1, -2], axis=axis)], axis=axis)  # fmt: skip
        n = values.shape[axis] // 2

        def part(offset):
            return np.take(padded, 2 * np.arange(n) + offset, axis=axis)

        values = (-part(1) + 9 * part(2) + 9 * part(3) - part(4)) / 16
    return values


def stiff_neumann(n: int = 256, dx: float = 0.25, end: float = 10.0, rounds: int = 3) -> dict:
    """Euler, ETDRK4 (DCT) and IMEX at equal accuracy on a stiff no-flux Schnakenberg box (see the module docstring).

    Returns ``{name: (dt, error, walls)}``, ``walls`` one per alternating round.
    """
    from equal_accuracy import fewest_steps_within, interleaved_walls, wall_of

    from rd_classic.boundaries import resolve_boundary_conditions
    from rd_classic.grids import Grid
    from rd_classic.integrators import largest_stable_dt, make_stepper
    from rd_classic.models import get_model

    model = get_model("schnakenberg", Du=1.0, Dv=20.0)
    boundary = resolve_boundary_conditions(model.species, model.parameter_names(), specifications="no-flux")
    u_star, v_star = model.homogeneous_state()

    def initial(grid):
        y, x = grid.coordinates()
        length = grid.lengths[1]
        bump = 0.1 * np.cos(np.pi * 3 * x / length)[None, :] * np.cos(np.pi * 2 * y / length)[:, None]
        return u_star + bump, v_star - bump

    fine = Grid((2 * n, 2 * n), dx / 2)
    stepper = make_stepper(model, fine, dt=0.005, integrator="etdrk4", boundary=boundary)
    stepper.set_state(*initial(fine))
    stepper.advance(round(end / 0.005))
    reference = _cubic_to_coarse(stepper.get_state()[0])
    grid = Grid((n, n), dx)
    fields = initial(grid)

    def stepper(integrator, steps):
        return make_stepper(model, grid, dt=end / steps, integrator=integrator, boundary=boundary)

    def error(integrator, steps):
        run = stepper(integrator, steps)
        run.set_state(*fields)
        run.advance(steps)
        return float(np.abs(run.get_state()[0] - reference).max() / np.abs(reference).max())

    steps = {"euler": round(end / (0.95 * largest_stable_dt(model, grid, "euler", boundary=boundary)))}
    errors = {"euler": error("euler", steps["euler"])}
    for integrator in ("etdrk4", "imex"):
        steps[integrator], errors[integrator] = fewest_steps_within(
            lambda count, integrator=integrator: error(integrator, count), errors["euler"], end)  # fmt: skip
    walls = {}
    for name, count in steps.items():
        run = stepper(name, count)
        run.set_state(*fields)
        run.advance(1)  # compile / load the kernels
        walls[name] = wall_of(run.advance, lambda run=run: run.set_state(*fields), count)
    walls = interleaved_walls(walls, rounds)
    return {name: (end / steps[name], errors[name], walls[name]) for name in steps}


def adaptive_versus_fixed(n: int = 64, end: float = 100.0, rtol: float = 1e-6) -> dict:
    """rk45 under ``rtol`` against fixed rk45 and fused rk4 steps of equal accuracy (see the module docstring)."""
    from rd_classic.adaptive import AdaptiveStepper
    from rd_classic.grids import Grid
    from rd_classic.integrators import largest_stable_dt, make_stepper
    from rd_classic.models import get_model

    model = get_model("fitzhugh-nagumo", epsilon=0.05, a1=0.0, a0=0.0, Du=0.1, Dv=0.1)
    grid = Grid((n, n), 1.0)
    rng = np.random.default_rng(3)
    fields = (0.5 * rng.standard_normal(grid.shape), 0.5 * rng.standard_normal(grid.shape))
    limit = largest_stable_dt(model, grid, "rk45")

    def adaptive(tolerance, repeats=2):
        stepper = AdaptiveStepper(make_stepper(model, grid, dt=0.01, integrator="rk45"), rtol=tolerance,
                                  atol=tolerance * 1e-3, dt_max=limit, dt_initial=0.01)  # fmt: skip
        stepper.set_state(*fields)
        stepper.advance_to(0.1)  # the first trial steps load the kernels: not timed
        best = math.inf
        for _ in range(repeats):
            stepper.set_state(*fields)
            start = time.perf_counter()
            _, sizes = stepper.advance_to(end)
            best = min(best, time.perf_counter() - start)
        return stepper.get_state()[0], best, sizes, stepper.rejected

    reference = adaptive(1e-11, repeats=1)[0]
    u, seconds, sizes, rejected = adaptive(rtol)
    results = {"adaptive rk45": (len(sizes), float(np.abs(u - reference).max()), seconds,
                                 (float(sizes.min()), float(sizes.max()), rejected))}  # fmt: skip
    for integrator in ("rk45", "rk4"):
        steps = max(10, round(end / limit))
        while True:
            with np.errstate(over="ignore", invalid="ignore"):  # the first tries may blow up: then more steps
                (u, _), seconds = _timed(make_stepper(model, grid, dt=end / steps, integrator=integrator), fields,
                                         steps, repeats=1)  # fmt: skip
            error = float(np.abs(u - reference).max()) if np.isfinite(u).all() else math.inf
            if error <= results["adaptive rk45"][1] or steps > 10**6:
                break
            steps = int(steps * 1.25) + 1
        results[f"fixed {integrator}"] = (steps, error, seconds, None)
    return results


def noise_overhead(n: int = 1024, rounds: int = 7, *, cpu_time: bool = False) -> dict:
    """Median cost of noisy steps relative to the deterministic Euler step (see the module docstring);
    ``cpu_time``: timed by the calling thread's CPU time (for one numba thread), else by the wall clock."""
    from rd_classic.grids import Grid
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper, make_stepper
    from rd_classic.models import get_model
    from rd_classic.noise import resolve_noise
    from rd_classic.random_numbers import noise_normals

    grid = Grid((n, n), 1.0)
    rng = np.random.default_rng(0)
    results = {}
    cases = {
        "gray-scott": (get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08), 1.0,
                       (1 - 0.5 * rng.uniform(size=grid.shape), 0.25 * rng.uniform(size=grid.shape))),
        "extended-brusselator": (get_model("extended-brusselator"), 1e-3,
                                 tuple(value + 0.01 * rng.standard_normal(grid.shape) for value in (3.0, 3.0, 6.0))),
    }  # fmt: skip
    for name, (model, dt, fields) in cases.items():
        every = ",".join(f"{s}=0.001" for s in model.species)
        variants = {
            "deterministic euler": dict(),
            "deterministic euler, one step per pass": dict(steps_per_pass=1),
            "EM, additive, every species": dict(noise=every.split(",")),
            "EM, additive, one species": dict(noise=[f"{model.species[-1]}=0.001"]),
            "Milstein, multiplicative, every species": dict(noise=[f"{s}=0.001*{s}" for s in model.species],
                                                            integrator="milstein"),
        }  # fmt: skip
        steppers = {}
        for label, options in variants.items():
            noise = resolve_noise(model.species, model.parameter_names(), specifications=options.get("noise"))
            if "steps_per_pass" in options:  # the deterministic kernel a noisy step is built on (no temporal blocking)
                steppers[label] = NumbaExplicitStepper(model, grid, EXPLICIT_SCHEMES["euler"], dt=dt, dtype="float64",
                                                       steps_per_pass=options["steps_per_pass"])  # fmt: skip
            else:
                steppers[label] = make_stepper(model, grid, dt=dt, integrator=options.get("integrator", "euler"),
                                               noise=noise)  # fmt: skip
            steppers[label].set_state(*fields)
            steppers[label].advance(2)
        separate = make_stepper(model, grid, dt=dt)
        separate.set_state(*fields)
        scale = math.sqrt(dt)

        def separate_pass():  # the alternative: a deterministic step, then normals drawn into arrays and added
            separate.advance(1)
            kicks = noise_normals(0, separate.step, range(model.n_species), grid.shape)
            for field, kick in zip(separate._state, kicks):
                field += 0.001 * scale * kick

        separate_pass()
        steps = max(3, int(2e7 / grid.n_cells))
        clock = time.thread_time if cpu_time else time.perf_counter
        times = {label: [] for label in [*steppers, "deterministic + separate array pass"]}
        for _ in range(rounds):
            for label, stepper in steppers.items():
                start = clock()
                stepper.advance(steps)
                times[label].append((clock() - start) / steps)
            start = clock()
            for _ in range(steps):
                separate_pass()
            times["deterministic + separate array pass"].append((clock() - start) / steps)
        base = np.median(times["deterministic euler"])
        results[name] = {label: (float(np.median(values)), float(np.median(values) / base)) for label, values in times.items()}
    return results


def normals_cost(n: int = 1024, rounds: int = 7) -> dict:
    """Median seconds per number of the counter-based normals alone, ``n``² of them drawn row by row on one thread
    into preallocated arrays: a species drawing alone (the row layout, what an unpaired species' row buffer and
    :func:`standard_normals` get) and two drawing together (the pair layout the kernels compute in their cell loop)."""
    from rd_classic.random_numbers import _fill_pair_rows, _fill_rows, stream_key

    values, partner = np.empty((n, n)), np.empty((n, n))
    draws = {"a species alone": lambda key: _fill_rows(key, values),
             "two species together": lambda key: _fill_pair_rows(key, values, partner)}  # fmt: skip
    for draw in draws.values():
        draw(stream_key(0, 0, 0))
    times = {name: [] for name in draws}
    for step in range(rounds):
        for name, draw in draws.items():
            start = time.perf_counter()
            draw(stream_key(0, step, 0))
            times[name].append(time.perf_counter() - start)
    numbers = {"a species alone": values.size, "two species together": 2 * values.size}
    return {name: float(np.median(seconds)) / numbers[name] for name, seconds in times.items()}


def normals_parts(n: int = 1024, rounds: int = 9) -> dict:
    """Median seconds per number, one thread, of the pair layout's loop with parts of the generator only:
    the whole generator, the hash with the radius alone (:func:`normal_radius`), the hash with the angle alone
    (:func:`unit_pair`), and the hash alone (its bits converted to a float), each storing two numbers per hash
    into ``n``² cells of two arrays; timed by the thread's CPU time in alternating rounds. Where the numbers'
    time goes: the floor of the noise's cost in the kernels' cell loop."""
    from numba import njit

    from rd_classic.random_numbers import GOLDEN, mix64, normal_pair, normal_radius, row_start, unit_pair

    def hash_alone(bits):
        value = np.float64(bits >> np.uint64(11))
        return value, value

    def radius_alone(bits):
        radius = normal_radius(bits)
        return radius, radius

    parts = {"the whole generator": normal_pair, "the hash and the radius": radius_alone,
             "the hash and the angle": unit_pair, "the hash alone": hash_alone}  # fmt: skip

    def pair_loop(generator):
        generator = njit(inline="always")(generator) if not hasattr(generator, "py_func") else generator

        @njit(error_model="numpy", fastmath={"contract"})
        def fill(key, first, second):
            for row in range(first.shape[0]):
                counter = row_start(key, row)
                a, b = first[row], second[row]
                for j in range(a.shape[0]):
                    counter += GOLDEN
                    a[j], b[j] = generator(mix64(counter))

        return fill

    first, second = np.empty((n, n)), np.empty((n, n))
    loops = {name: pair_loop(generator) for name, generator in parts.items()}
    for loop in loops.values():
        loop(np.uint64(1), first, second)
    times = {name: [] for name in loops}
    for step in range(rounds):
        for name, loop in loops.items():
            start = time.thread_time()
            loop(np.uint64(step), first, second)
            times[name].append(time.thread_time() - start)
    return {name: float(np.median(seconds)) / (2 * n * n) for name, seconds in times.items()}


def boundary_overhead(n: int = 1024, rounds: int = 7) -> dict:
    """Median cost of an Euler step with Dirichlet and Robin sides relative to the periodic one."""
    from rd_classic.boundaries import resolve_boundary_conditions
    from rd_classic.grids import Grid
    from rd_classic.integrators import make_stepper
    from rd_classic.models import get_model

    model = get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08)
    grid = Grid((n, n), 1.0)
    rng = np.random.default_rng(0)
    fields = (1 - 0.5 * rng.uniform(size=grid.shape), 0.25 * rng.uniform(size=grid.shape))
    variants = {"periodic": "periodic", "no-flux": "no-flux", "dirichlet": "dirichlet 1",
                "robin, time-dependent": "robin 1, 2, 1 + 0.1*sin(t + x + y)"}  # fmt: skip
    steppers = {}
    for label, text in variants.items():
        boundary = resolve_boundary_conditions(model.species, model.parameter_names(), specifications=text)
        steppers[label] = make_stepper(model, grid, dt=1.0, boundary=boundary)
        steppers[label].set_state(*fields)
        steppers[label].advance(2)
    steps = max(3, int(2e7 / grid.n_cells))
    times = {label: [] for label in steppers}
    for _ in range(rounds):
        for label, stepper in steppers.items():
            stepper.set_state(*fields)
            start = time.perf_counter()
            stepper.advance(steps)
            times[label].append((time.perf_counter() - start) / steps)
    base = np.median(times["periodic"])
    return {label: (float(np.median(values)), float(np.median(values) / base)) for label, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["stiff", "adaptive", "noise", "boundary"], default=None)
    parser.add_argument("--size", type=int, default=1024, help="grid side of the noise and boundary timings")
    parser.add_argument("--threads", type=int, default=None,
                        help="numba threads (default: all); 1 times the noise steps by their thread's CPU time")
    parser.add_argument("--stiff-sizes", type=int, nargs="+", default=[128],
                        help="grid sides of the stiff case (box 64 long; 256 takes several minutes more)")
    args = parser.parse_args()
    if args.threads:
        import numba

        numba.set_num_threads(args.threads)
    from equal_accuracy import median_ratio

    print(f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.2f}; OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}")
    if args.only in (None, "stiff"):
        for n in args.stiff_sizes:
            dx = 64.0 / n  # one box, 64 long, resolved ever finer
            results = stiff_neumann(n, dx)
            print(f"\nstiff Schnakenberg, no-flux box (Dv/Du = 20, {n}^2, dx = {dx}, t = 10), error vs the PDE "
                  f"(2x refined reference):")  # fmt: skip
            for name, (dt, error, walls) in results.items():
                print(f"  {name:>7}: dt = {dt:.4g} ({round(10 / dt)} steps), error = {error:.3e}, wall median "
                      f"{statistics.median(walls):.3f} s, best {min(walls):.3f} s ({len(walls)} alternating rounds)")
            for name in ("etdrk4", "imex"):
                met = "" if results[name][1] <= results["euler"][1] else f" ({name} did NOT reach Euler's error)"
                euler, walls = results["euler"][2], results[name][2]
                print(f"  {name} speed-up over Euler at equal accuracy: median of the per-round ratios "
                      f"{median_ratio(euler, walls):.1f}x, best / best {min(euler) / min(walls):.1f}x{met}")
    if args.only in (None, "adaptive"):
        results = adaptive_versus_fixed()
        print("\nFitzHugh-Nagumo relaxation oscillations (64^2, t = 100), error vs rk45 at rtol 1e-11:")
        for name, (steps, error, seconds, extra) in results.items():
            detail = f", dt {extra[0]:.3g} .. {extra[1]:.3g}, {extra[2]} rejected" if extra else ""
            print(f"  {name:>14}: {steps} steps, error {error:.3e}, wall {seconds:.3f} s{detail}")
        for name in ("fixed rk45", "fixed rk4"):
            print(f"  adaptive rk45 vs {name} at equal accuracy: {results[name][2] / results['adaptive rk45'][2]:.2f}x "
                  f"faster, {results[name][0] / results['adaptive rk45'][0]:.1f}x fewer steps")
    if args.only in (None, "noise"):
        for name, seconds in normals_cost(args.size).items():
            print(f"\ncounter-based normals alone, {name}, one thread, {args.size}^2 cells: "
                  f"{seconds * 1e9:.2f} ns per number (median of 7)")
        print("\nwhere the normals' time goes (the pair layout's loop with parts of the generator, one thread, "
              "CPU time, median of 9 alternating rounds):")
        for name, seconds in normals_parts(args.size).items():
            print(f"  {name:>26}: {seconds * 1e9:.3f} ns per number")
        clock = "CPU time of one thread" if args.threads == 1 else "wall"
        for name, rows in noise_overhead(args.size, cpu_time=args.threads == 1).items():
            print(f"\nnoise, {name}, {args.size}^2, float64, per step ({clock}, median of alternating rounds):")
            for label, (seconds, ratio) in rows.items():
                print(f"  {label:>42}: {seconds * 1e3:8.3f} ms  {ratio:5.2f}x")
    if args.only in (None, "boundary"):
        print(f"\nboundary conditions, gray-scott Euler, {args.size}^2, per step (median of alternating rounds):")
        for label, (seconds, ratio) in boundary_overhead(args.size).items():
            print(f"  {label:>22}: {seconds * 1e3:8.3f} ms  {ratio:5.2f}x")
    print(f"\nload at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
