"""Benchmark of the torch paths on a GPU (not a test): one script, under 5 minutes on one GPU.

Prints, on ``--device`` (default ``cuda``) and against this machine's CPU in the same run:

1. **the device's memory bandwidth**: two triads in torch (``a = b + s c`` out of place and
   ``a += s c`` in place, 24 B counted per element, best of a few), the roofline of every
   stencil figure below;
2. **Gray-Scott explicit Euler** on the torch backend (``make_stepper(..., backend="torch")``) at
   1024², 4096² and 8192², float32 and float64, the stepper's step unfused (one kernel per
   tensor operation) and fused by ``torch.compile`` (``fused=True``, the default on CUDA):
   cell updates per second against the roofline (bandwidth / 32 B per float64 cell update,
   16 B in float32: read u, v; write u, v), the variants and the triads interleaved over
   ``--rounds`` rounds (medians). With ``--compile``, also the same step written by hand as one
   function and fused by ``torch.compile`` (what the stepper's fused step should reach), and on
   CUDA the same with ``mode="reduce-overhead"`` (CUDA graphs: the launch cost of small grids);
3. **the ETDRK4 step** (torch, periodic) on the device against the CPU's (scipy FFT, numba),
   seconds per step;
4. **the network step** (supervised and adversarial; ``rdnet train``'s defaults and the
   benchmark shape m = 4096, d_in = 784, n = 1024) on the device against the CPU, with
   :func:`bench_train.measure`;
5. **GPU-vs-CPU agreement**: the same Gray-Scott run (Euler unfused and fused, RK4 fused, 256²,
   200 steps) and ETDRK4 run on the device and on the CPU's numba/scipy steppers, and 20 network
   steps of each kind, as the largest difference relative to the largest value.

Without a CUDA device the script says ``no CUDA device`` and stops (exit status 0);
``--device cpu`` runs every part on the CPU's torch instead (``--quick`` with small sizes
checks the script itself in seconds).

Run:  python benchmarks/bench_gpu.py                        # on a machine with a GPU
      python benchmarks/bench_gpu.py --compile --rounds 5
      python benchmarks/bench_gpu.py --device cpu --quick   # the script's own check
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_train, the network step's timing
# as bench_train does, before torch starts its OpenMP runtime: idle CPU workers sleep instead of spinning
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

GS = dict(F=0.035, k=0.065, Du=0.16, Dv=0.08)
DT = 1.0


def synchronizer(device: str):
    """A function that waits for the device's queued work (nothing to wait for on the CPU)."""
    import torch

    return torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)


def timed(function, synchronize, repeats: int = 1) -> float:
    """Seconds of ``repeats`` calls of ``function``, the device's queue drained before and after."""
    synchronize()
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    synchronize()
    return time.perf_counter() - start


def triads(device: str, values: int):
    """The two torch triads on ``device`` as functions; each moves ``24 * values`` bytes (float64)."""
    import torch

    a, b, c = (torch.ones(values, dtype=torch.float64, device=device) for _ in range(3))
    return {"triad": lambda: torch.add(b, c, alpha=1e-9, out=a), "in-place triad": lambda: a.add_(c, alpha=1e-9)}


def initial(n: int, dtype) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return (1.0 - 0.5 * rng.uniform(0, 1, (n, n))).astype(dtype), (0.25 * rng.uniform(0, 1, (n, n))).astype(dtype)


def gray_scott_stepper(n: int, dtype: str, *, backend: str, device: str = "cpu", integrator: str = "euler",
                       dx: float = 1.0, dt: float = DT, fused: bool | None = None):  # fmt: skip
    from rd_classic.grids import Grid
    from rd_classic.integrators import make_stepper
    from rd_classic.models import get_model

    stepper = make_stepper(get_model("gray-scott", **GS), Grid((n, n), dx), dt=dt, integrator=integrator,
                           backend=backend, device=device, dtype=dtype, fused=fused)  # fmt: skip
    stepper.set_state(*initial(n, dtype))
    return stepper


def compiled_gray_scott(n: int, dtype: str, device: str, mode: str | None = None):
    """The Euler step as one function of the two fields, fused by ``torch.compile`` (``mode``); ``advance(steps)``."""
    import torch

    F, k, Du, Dv = GS["F"], GS["k"], GS["Du"], GS["Dv"]

    def laplacian(a):
        return torch.roll(a, 1, 0) + torch.roll(a, -1, 0) + torch.roll(a, 1, 1) + torch.roll(a, -1, 1) - 4 * a

    @torch.compile(fullgraph=True, mode=mode)
    def step(u, v):
        uvv = u * v * v
        return u + DT * (Du * laplacian(u) - uvv + F * (1 - u)), v + DT * (Dv * laplacian(v) + uvv - (F + k) * v)

    state = [torch.as_tensor(field, device=device) for field in initial(n, dtype)]

    def advance(steps: int) -> None:
        for _ in range(steps):
            state[:] = step(*state)

    return advance


def euler_on_device(sizes: list[int], device: str, *, rounds: int, seconds: float, triad_values: int,
                    compile_step: bool) -> None:  # fmt: skip
    """Part 2: Gray-Scott Euler on the torch stepper (and torch.compile) against the device's triads."""
    synchronize = synchronizer(device)
    bandwidth_functions = triads(device, triad_values)
    print(f"\nGray-Scott explicit Euler on torch ({device}), cell updates/s, median of {rounds} interleaved rounds; "
          f"roofline = the round's larger triad bandwidth / (32 B float64, 16 B float32)")  # fmt: skip
    for n in sizes:
        candidates = {}
        for dtype in ("float32", "float64"):
            for fused in (False, True):
                stepper = gray_scott_stepper(n, dtype, backend="torch", device=device, fused=fused)
                candidates[f"stepper {'fused' if fused else 'unfused'} {dtype}"] = (stepper.advance, dtype)
            if compile_step:
                for mode in (None, "reduce-overhead") if device.startswith("cuda") else (None,):
                    name = f"torch.compile{' graphs' if mode else ''} {dtype}"  # reduce-overhead: CUDA graphs
                    try:
                        candidates[name] = (compiled_gray_scott(n, dtype, device, mode), dtype)
                    except Exception as error:  # noqa: BLE001 (reported, the benchmark goes on)
                        print(f"  {name} unavailable: {type(error).__name__}: {error}")
        steps = {}
        for name, (advance, _) in list(candidates.items()):
            try:
                timed(lambda: advance(2), synchronize)  # compile, allocate
                per_step = timed(lambda: advance(2), synchronize) / 2
            except Exception as error:  # noqa: BLE001
                print(f"  {name} failed at {n}²: {type(error).__name__}: {error}")
                del candidates[name]
                continue
            steps[name] = max(2, int(seconds / max(per_step, 1e-9)))
        rates = {name: [] for name in candidates}
        roofline = []
        for round_index in range(rounds):
            order = list(candidates) if round_index % 2 == 0 else list(reversed(candidates))
            for name in order:
                advance = candidates[name][0]
                rates[name].append(steps[name] * n * n / timed(lambda: advance(steps[name]), synchronize))
            roofline.append(max(24 * triad_values / timed(function, synchronize)
                                for function in bandwidth_functions.values()))  # fmt: skip
        bandwidth = statistics.median(roofline)
        print(f"  {n}²: triad bandwidth {bandwidth / 1e9:.1f} GB/s (median of rounds)")
        for name, values in rates.items():
            bytes_per_update = 4 * np.dtype(candidates[name][1]).itemsize
            share = statistics.median(rate * bytes_per_update / peak for rate, peak in zip(values, roofline))
            print(f"    {name:>22}: {statistics.median(values):10.3e}  ({100 * share:5.1f} % of the roofline, "
                  f"{steps[name]} steps per timing)")  # fmt: skip
        del candidates
        _empty_cache(device)


def _empty_cache(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.empty_cache()


def etdrk4_step(n: int, device: str, *, repeats: int) -> None:
    """Part 3: seconds per ETDRK4 step, torch on ``device`` against the CPU (scipy FFT + numba), float64."""
    results = {}
    for label, backend, where in ((f"torch {device}", "torch", device), ("cpu numpy", "numpy", "cpu")):
        stepper = gray_scott_stepper(n, "float64", backend=backend, device=where, integrator="etdrk4")
        synchronize = synchronizer(where)
        timed(lambda: stepper.advance(1), synchronize)
        results[label] = min(timed(lambda: stepper.advance(1), synchronize) for _ in range(repeats))
    first, second = results
    print(f"\nETDRK4 step, Gray-Scott {n}² float64 (best of {repeats}): {first} {results[first] * 1e3:.2f} ms, "
          f"{second} {results[second] * 1e3:.2f} ms; ratio {results[second] / results[first]:.1f}x")  # fmt: skip


def network_steps(device: str, *, quick: bool, rounds: int) -> None:
    """Part 4: the network step (supervised, adversarial) on ``device`` and on the CPU, with bench_train's timing."""
    import bench_train

    shapes = {"rdnet train defaults": dict(bench_train.TRAIN_DEFAULTS_SHAPE),
              "benchmark shape": dict(bench_train.BENCHMARK_SHAPE)}  # fmt: skip
    if quick:
        shapes = {"small shape": dict(bench_train.TRAIN_DEFAULTS_SHAPE, neurons=64, samples=16)}
    print(f"\nnetwork step, seconds per step (median of {rounds} interleaved rounds, float64)")
    for title, shape in shapes.items():
        per_device = {}
        for where in dict.fromkeys((device, "cpu")):
            seconds = bench_train.measure(**shape, rounds=rounds, steps_per_round=1, device=where)
            per_device[where] = {label: statistics.median(values) for label, values in seconds.items()}
        for label in ("supervised", "adversarial"):
            line = ", ".join(f"{where} {values[label] * 1e3:.2f} ms" for where, values in per_device.items())
            ratio = per_device["cpu"][label] / per_device[device][label]
            print(f"  {title} (m = {shape['neurons']}, n = {shape['samples']}) {label:>11}: {line}; "
                  f"cpu / {device} {ratio:.1f}x")  # fmt: skip


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) / max(np.max(np.abs(b)), 1e-300))


def agreement(device: str, *, n: int, steps: int) -> None:
    """Part 5: the same runs on ``device`` (torch) and on the CPU (numba, scipy; the network on torch's CPU)."""
    print(f"\nagreement of {device} and the CPU (max |difference| / max |CPU value|):")
    for integrator, dtype, fused in (("euler", "float64", False), ("euler", "float64", True), ("euler", "float32", True),
                                     ("rk4", "float64", True), ("etdrk4", "float64", None)):  # fmt: skip
        cpu_backend = "numpy" if integrator == "etdrk4" else "numba"
        ends = []
        for backend, where, fuse in (("torch", device, fused), (cpu_backend, "cpu", None)):
            stepper = gray_scott_stepper(n, dtype, backend=backend, device=where, integrator=integrator, fused=fuse)
            stepper.advance(steps)
            ends.append(stepper.get_state())
        difference = max(_relative(a, b) for a, b in zip(*ends))
        kind = "" if fused is None else (" fused" if fused else " unfused")
        print(f"  Gray-Scott {integrator}{kind} {dtype} {n}², {steps} steps: {difference:.2e} "
              f"(torch {device} vs {cpu_backend})")  # fmt: skip
    import bench_train
    from rdnet.prd.run import prepare_run
    from rdnet.prd.training import make_trainer

    shape = dict(bench_train.TRAIN_DEFAULTS_SHAPE, neurons=64, samples=32)
    for adversary in (False, True):
        losses = []
        for where in (device, "cpu"):
            spec = bench_train._spec(**shape, adversary=adversary, device=where)
            run = prepare_run(spec)
            step = make_trainer(run.X, run.Y, spec.training)
            losses.append([step(run.state).metrics["loss_sup"] for _ in range(20)])
            losses[-1].append(run.state.generator.U.detach().cpu().numpy())
        difference = _relative(np.array(losses[0][:-1]), np.array(losses[1][:-1]))
        weights = _relative(losses[0][-1], losses[1][-1])
        print(f"  network {'adversarial' if adversary else 'supervised'} (m = 64, n = 32, 20 steps): loss {difference:.2e}, "
              f"U {weights:.2e}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     epilog=__doc__[__doc__.index("Run:"):],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--device", default="cuda", help="torch device to measure: cuda, cuda:N or cpu [cuda]")
    parser.add_argument("--sizes", default=None, help="Euler grid sizes [1024,4096,8192; 64 with --quick]")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds [3]")
    parser.add_argument("--compile", action="store_true", help="also time the Euler step fused by torch.compile")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: checks that the script runs")
    options = parser.parse_args()
    import torch

    if options.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"no CUDA device (torch {torch.__version__}: torch.cuda.is_available() is False); nothing measured. "
              f"--device cpu runs the same parts on the CPU.")  # fmt: skip
        return
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    quick = options.quick
    sizes = [int(size) for size in (options.sizes or ("64" if quick else "1024,4096,8192")).split(",")]
    rounds = 1 if quick else options.rounds
    name = torch.cuda.get_device_name(options.device) if options.device.startswith("cuda") else "CPU"
    print(f"device {options.device} ({name}), torch {torch.__version__}, host CPU threads {torch.get_num_threads()}, "
          f"{os.cpu_count()} cores")  # fmt: skip
    start = time.perf_counter()
    euler_on_device(sizes, options.device, rounds=rounds, seconds=0.05 if quick else 0.5,
                    triad_values=2**16 if quick else 2**27, compile_step=options.compile)  # fmt: skip
    etdrk4_step(64 if quick else 1024, options.device, repeats=1 if quick else 3)
    network_steps(options.device, quick=quick, rounds=rounds)
    agreement(options.device, n=32 if quick else 256, steps=10 if quick else 200)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
