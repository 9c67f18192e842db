"""Benchmark of ``rdnet fit`` (not a test): cost per step, memory, a 128² fit, and a recovery table.

Issue 16's measurements, each a sub-command:

``cost``
    Forward and backward cost per step of the fit's batched torch stepper against the plain
    steppers on the same grid (rd_classic's numba kernel and its torch stepper, one run),
    interleaved over ``--rounds`` rounds (the machine is shared: medians and ratios); and
    the peak memory of a differentiated rollout with checkpointing (segments of √steps)
    against without, each measured in a fresh process (peak resident set size minus the
    size before the rollout), with glibc's default allocator (which keeps freed
    medium-sized blocks in its heap, so the peak counts tensors already freed) and with
    ``MALLOC_MMAP_THRESHOLD_=65536`` (every tensor of 64 KiB or more its own mapping,
    returned when freed: the peak is the tensors alive at once).
``fit128``
    A two-parameter Gray-Scott fit, (F, k), on a 128² target simulated at hidden values
    (target: 2 cores, under 5 minutes): wall time, fitted values, intervals.
``recovery``
    Patterns simulated at hidden parameters (seed 99) and fitted from that single
    snapshot (the fit's runs use other seeds): six Gray-Scott points over Pearson's
    classes and one Schnakenberg diffusion ratio; true, fitted, interval, wall time, as
    a Markdown table for docs/fit.md.

``methods``
    The gradient search against the gradient-free baselines (differential evolution,
    Nelder–Mead) on the same 64² spot fit: fitted values, loss, runs simulated, wall time.

Run:  python benchmarks/bench_fit.py cost [--size 128] [--steps 200] [--batch 8] [--rounds 3]
      python benchmarks/bench_fit.py fit128 [--threads 2]
      python benchmarks/bench_fit.py recovery [--size 64] [--threads 2]
      python benchmarks/bench_fit.py methods [--size 64]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import torch

#: Gray-Scott points of the recovery table: Pearson's class, F, k, and the model time of the snapshot
GRAY_SCOTT_POINTS = [
    ("beta (chaos)", 0.026, 0.051, 1500.0),
    ("delta (holes)", 0.030, 0.055, 1500.0),
    ("theta (worms/holes)", 0.030, 0.057, 1500.0),
    ("eta (worms)", 0.034, 0.063, 2000.0),
    ("lambda (spots)", 0.034, 0.065, 2000.0),
    ("kappa (worms)", 0.050, 0.063, 2000.0),
]
#: search range around a hidden value, as factors (a prior range a scientist would give)
F_RANGE, K_RANGE = (0.75, 1.33), (0.93, 1.07)


def _target(model: str, fitted: dict[str, tuple[float, float]], hidden: dict[str, float], **options):
    """A fit's configuration and its target: one run at the hidden values from seed 99."""
    from rdnet.fit.run import build_fit_config
    from rdnet.fit.simulation import BatchedSimulator, SimulationSetup

    config = build_fit_config(model, fit=list(fitted), bounds=fitted, **options)
    setup = config.setup
    hidden_setup = SimulationSetup(**{**setup.__dict__, "model": setup.model.with_parameters(**hidden)})
    simulator = BatchedSimulator(hidden_setup)
    with torch.no_grad():
        state = simulator.run(simulator.initial_states([{}], [99]), {})
    return config, simulator.observed(state)[0].to(torch.float64).numpy()


def _fit_row(label: str, model: str, hidden: dict[str, float], fitted: dict[str, tuple[float, float]], **options):
    from rdnet.fit.run import run_fit

    config, target = _target(model, fitted, hidden, **options)
    started = time.perf_counter()
    result = run_fit(config, target)
    wall = time.perf_counter() - started
    rows = []
    for index, name in enumerate(result.names):
        low, high = result.uncertainty.interval_low[index], result.uncertainty.interval_high[index]
        true, value = hidden[name], result.values[index]
        rows.append({"point": label, "parameter": name, "true": true, "fitted": float(value),
                     "error_percent": 100 * (value - true) / true, "low": float(low), "high": float(high),
                     "covered": bool(low <= true <= high), "wall_s": wall, "runs": result.runs,
                     "notes": result.uncertainty.notes})  # fmt: skip
    return rows


def recovery(args) -> None:
    size = (args.size, args.size)
    common = dict(shape=size, starts=args.starts, iterations=args.iterations, replicates=args.replicates,
                  uncertainty_replicates=8)  # fmt: skip
    rows = []
    for label, F, k, duration in GRAY_SCOTT_POINTS:
        bounds = {"F": (F * F_RANGE[0], F * F_RANGE[1]), "k": (k * K_RANGE[0], k * K_RANGE[1])}
        rows += _fit_row(f"gray-scott {label}", "gray-scott", {"F": F, "k": k}, bounds, time=duration, **common)
        _print_rows(rows[-2:])
    rows += _fit_row("schnakenberg (spots), d = Dv/Du", "schnakenberg", {"Dv": 20.0}, {"Dv": (10.0, 40.0)},
                     dx=2.0, time=60.0, **common)  # fmt: skip
    _print_rows(rows[-1:])
    print("\n| pattern | parameter | true | fitted | error | 95 % interval | covers | wall time |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['point']} | {row['parameter']} | {row['true']:.4g} | {row['fitted']:.4g} | "
              f"{row['error_percent']:+.1f} % | [{row['low']:.4g}, {row['high']:.4g}] | "
              f"{'yes' if row['covered'] else 'no'} | {row['wall_s']:.0f} s |")  # fmt: skip
    covered = sum(row["covered"] for row in rows)
    within = sum(abs(row["error_percent"]) <= 5 for row in rows)
    print(f"\n{covered}/{len(rows)} intervals cover the truth; {within}/{len(rows)} values within 5 %")


def methods(args) -> None:
    """The gradient search against the gradient-free baselines on one fit (same loss, starts and budget)."""
    hidden = {"F": 0.034, "k": 0.065}
    bounds = {"F": (0.034 * F_RANGE[0], 0.034 * F_RANGE[1]), "k": (0.065 * K_RANGE[0], 0.065 * K_RANGE[1])}
    print("| method | F (true 0.034) | k (true 0.065) | loss | runs simulated | wall time |")
    print("|---|---|---|---|---|---|")
    for method, starts, iterations in (("gradient", 4, 10), ("de", 8, 10), ("nelder-mead", 4, 10)):
        from rdnet.fit.run import run_fit

        config, target = _target("gray-scott", bounds, hidden, shape=(args.size, args.size), time=args.time,
                                 method=method, starts=starts, iterations=iterations)  # fmt: skip
        started = time.perf_counter()
        result = run_fit(config, target)
        wall = time.perf_counter() - started
        print(f"| {method} ({starts} starts, {iterations} iterations) | {result.values[0]:.5f} | "
              f"{result.values[1]:.5f} | {result.loss:.4g} | {result.runs} | {wall:.0f} s |", flush=True)  # fmt: skip


def _print_rows(rows) -> None:
    for row in rows:
        print(json.dumps({key: value for key, value in row.items() if key != "notes"}), flush=True)


def fit128(args) -> None:
    hidden = {"F": 0.034, "k": 0.065}
    bounds = {"F": (0.034 * F_RANGE[0], 0.034 * F_RANGE[1]), "k": (0.065 * K_RANGE[0], 0.065 * K_RANGE[1])}
    rows = _fit_row("gray-scott lambda (spots), 128²", "gray-scott", hidden, bounds, shape=(128, 128), time=args.time,
                    starts=args.starts, iterations=args.iterations, replicates=args.replicates,
                    uncertainty_replicates=6)  # fmt: skip
    _print_rows(rows)
    print(f"wall time {rows[0]['wall_s']:.0f} s for a two-parameter fit on a 128² target "
          f"(t = {args.time:g}, {rows[0]['runs']} runs of 128²); target: under 300 s")  # fmt: skip


def _plain_steppers(size: int, steps: int):
    """Seconds per step of rd_classic's numba kernel and of its torch stepper (one run), float32 and float64."""
    from rd_classic.run import build_config, run_simulation

    timings = {}
    for backend in ("numba", "torch"):
        config = build_config("gray-scott", size=str(size), steps=steps, dt=1.0, backend=backend, dtype="float32",
                              snapshot_every=steps, initial_condition="pearson")  # fmt: skip
        run_simulation(config, observers=[])  # compile / warm up
        started = time.perf_counter()
        run_simulation(config, observers=[])
        timings[f"plain {backend} (1 run)"] = (time.perf_counter() - started) / steps
    return timings


def _batched(size: int, steps: int, batch: int):
    """Seconds per run-step of the fit's stepper: forward without a graph, forward + backward (checkpointed)."""
    from rdnet.fit.run import build_fit_config
    from rdnet.fit.simulation import BatchedSimulator

    config = build_fit_config("gray-scott", fit=["F", "k"], shape=(size, size), time=float(steps), dt=1.0)
    simulator = BatchedSimulator(config.setup)
    sets = [{"F": 0.034, "k": 0.065}] * batch
    state = simulator.initial_states(sets, [0])
    values = {"F": np.full(batch, 0.034), "k": np.full(batch, 0.065)}
    timings = {}
    with torch.no_grad():
        started = time.perf_counter()
        simulator.run(state, simulator.parameter_tensors(values, 1))
        timings["fit stepper forward"] = (time.perf_counter() - started) / steps / batch
    parameters = {name: tensor.requires_grad_() for name, tensor in simulator.parameter_tensors(values, 1).items()}
    _warm_up(simulator, state, parameters)
    started = time.perf_counter()
    final = simulator.run(state, parameters)
    forward = time.perf_counter() - started
    final[1].square().mean().backward()
    total = time.perf_counter() - started
    timings["fit stepper forward, recording"] = forward / steps / batch
    timings["fit stepper backward"] = (total - forward) / steps / batch
    return timings


def _memory_child(size: int, steps: int, batch: int, segment: int) -> None:
    """In a fresh process: peak RSS growth (MiB) of one differentiated rollout."""
    from rdnet.fit.run import build_fit_config
    from rdnet.fit.simulation import BatchedSimulator

    config = build_fit_config("gray-scott", fit=["F"], shape=(size, size), time=float(steps), dt=1.0,
                              checkpoint_every=segment)  # fmt: skip
    simulator = BatchedSimulator(config.setup)
    state = simulator.initial_states([{"F": 0.034}] * batch, [0])
    parameters = {"F": torch.full((batch, 1, 1), 0.034, dtype=simulator.dtype, requires_grad=True)}
    _warm_up(simulator, state, parameters)
    with open("/proc/self/clear_refs", "w") as handle:  # Linux: reset the peak (VmHWM) to the current size
        handle.write("5")
    before = _status_kib("VmRSS")
    final = simulator.run(state, parameters)
    final[1].square().mean().backward()
    print(json.dumps({"peak_growth_mib": (_status_kib("VmHWM") - before) / 1024}))


def _warm_up(simulator, state, parameters) -> None:
    """A short differentiated rollout: the first loads torch's checkpointing (and its modules)."""
    from rdnet.fit.simulation import rollout

    rollout(simulator.step, state, parameters, n_steps=4, dt=1.0, checkpoint_every=2)[1].sum().backward()
    for tensor in parameters.values():
        tensor.grad = None


def _status_kib(field: str) -> int:
    """A size from /proc/self/status, in KiB."""
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def cost(args) -> None:
    torch.set_num_threads(args.threads)
    rounds: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for name, seconds in {**_plain_steppers(args.size, args.steps), **_batched(args.size, args.steps, args.batch)}.items():
            rounds.setdefault(name, []).append(seconds)
    plain = statistics.median(rounds["plain torch (1 run)"])
    print(f"Gray-Scott {args.size}², float32, Euler, batch {args.batch}, {args.steps} steps, {args.threads} threads, "
          f"{args.rounds} rounds (median per run-step; ratio to the plain torch stepper):")  # fmt: skip
    for name, values in rounds.items():
        median = statistics.median(values)
        print(f"  {name:34s} {1e3 * median:8.3f} ms   x{median / plain:5.2f}")
    state_mib = 2 * args.batch * args.size**2 * 4 / 2**20
    for allocator, environment in (("glibc default", {}), ("MALLOC_MMAP_THRESHOLD_=65536", {"MALLOC_MMAP_THRESHOLD_": "65536"})):
        for label, segment in (("checkpointed (segments of sqrt(steps))", None), ("without checkpointing", 0)):
            command = [sys.executable, __file__, "memory-child", "--size", str(args.size), "--steps", str(args.steps),
                       "--batch", str(args.batch), "--segment", "-1" if segment is None else str(segment)]  # fmt: skip
            output = subprocess.run(command, capture_output=True, text=True, check=True,
                                    env={**os.environ, **environment}).stdout  # fmt: skip
            growth = json.loads(output.strip().splitlines()[-1])["peak_growth_mib"]
            print(f"  peak memory, {allocator}, {label:40s} {growth:8.1f} MiB ({growth / state_mib:6.1f} states "
                  f"of {state_mib:.2f} MiB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("cost", "memory-child"):
        sub = commands.add_parser(name)
        sub.add_argument("--size", type=int, default=128)
        sub.add_argument("--steps", type=int, default=400)
        sub.add_argument("--batch", type=int, default=8)
        sub.add_argument("--rounds", type=int, default=3)
        sub.add_argument("--threads", type=int, default=2)
        sub.add_argument("--segment", type=int, default=-1)
    for name, default_size in (("fit128", 128), ("recovery", 64), ("methods", 64)):
        sub = commands.add_parser(name)
        sub.add_argument("--size", type=int, default=default_size)
        sub.add_argument("--time", type=float, default=2000.0)
        sub.add_argument("--starts", type=int, default=4)
        sub.add_argument("--iterations", type=int, default=10)
        sub.add_argument("--replicates", type=int, default=2)
        sub.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.command == "memory-child":
        _memory_child(args.size, args.steps, args.batch, None if args.segment < 0 else args.segment)
    else:
        {"cost": cost, "fit128": fit128, "recovery": recovery, "methods": methods}[args.command](args)


if __name__ == "__main__":
    main()
