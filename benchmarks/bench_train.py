"""Benchmark of the PRD training step (not a test): steps per second and GFLOP/s.

Measures, at m = 4096, d_in = 784, n = 1024 (d_out = 1, full batch, float64 by default):
supervised, adversarial (5 critic steps) and adversarial with the reaction/diffusion split
computed at every step, against a torch matmul of the generator's shapes (n × d_in) · (d_in × m)
timed in the same run. The split's target: at most 1.25× the plain adversarial step.

The four are timed **interleaved**: each of ``--rounds`` rounds times one step of each, in the
order supervised, adversarial, adversarial+split, matmul. A change of machine speed during the
benchmark (common on a shared machine) then falls on all four alike instead of on whichever ran
last; timed one after the other (best of N each), the split once came out faster than the plain
adversarial step it contains. Reported: the median time of each (with min–max), the ratio of
the medians, and the median over rounds of the per-round ratio (each round's split step divided
by the adversarial step timed just before it, the figure least sensitive to drift).

Run:  python benchmarks/bench_train.py [--rounds 7] [--device cpu] [--dtype float64] [--threads N]
      python benchmarks/bench_train.py --quick      # a small shape, to check that it works
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from rdnet.prd.run import RunSpec, prepare_run
from rdnet.prd.training import TrainingConfig, make_trainer

#: the timed variants, in their order within a round: (label, adversary, split at every step)
VARIANTS = (("supervised", False, False), ("adversarial", True, False), ("adversarial+split", True, True))
#: (n·m·d_in)-sized products per step: forward and ∂L/∂U; the split adds one more
BIG_PRODUCTS = {"supervised": 2, "adversarial": 2, "adversarial+split": 3}


def _timed(function, synchronize) -> float:
    start = time.perf_counter()
    function()
    synchronize()
    return time.perf_counter() - start


def measure(*, neurons: int, input_dim: int, samples: int, rounds: int, device: str = "cpu",
            dtype: str = "float64") -> dict[str, list[float]]:  # fmt: skip
    """Seconds of one step of each variant and of the matmul, per round (interleaved).

    Returns
    -------
    dict
        ``{label: [seconds of round 1, …]}`` for every variant and ``matmul``.
    """
    side = int(round(neurons ** 0.5))
    synchronize = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    functions = {}
    for label, adversary, split in VARIANTS:
        spec = RunSpec(samples=samples, input_dim=input_dim, grid_height=side, grid_width=side, device=device,
                       dtype=dtype, training=TrainingConfig(adversary=adversary, lr=0.01))  # fmt: skip
        run = prepare_run(spec)
        step = make_trainer(run.X, run.Y, spec.training)
        functions[label] = (lambda step=step, run=run, split=split: step(run.state, with_split=split))
    X, U = run.X, run.state.generator.U.clone()
    functions["matmul"] = lambda: X @ U.T
    for function in functions.values():  # warm-up: allocations, thread pools, caches
        function()
    synchronize()
    seconds: dict[str, list[float]] = {label: [] for label in functions}
    for _ in range(rounds):
        for label, function in functions.items():
            seconds[label].append(_timed(function, synchronize))
    return seconds


def report(seconds: dict[str, list[float]], *, neurons: int, input_dim: int, samples: int) -> str:
    """The table and the ratios of :func:`measure`'s timings, as printed."""
    side = int(round(neurons ** 0.5))
    n, m, d = samples, side * side, input_dim
    flops_matmul = 2.0 * n * m * d
    median = {label: statistics.median(values) for label, values in seconds.items()}

    def spread(label: str) -> str:
        return f"[{min(seconds[label]) * 1e3:.1f}–{max(seconds[label]) * 1e3:.1f}]"

    matmul_rate = flops_matmul / median["matmul"] / 1e9
    lines = [
        f"torch matmul (n x d_in)(d_in x m): {median['matmul'] * 1e3:8.1f} ms {spread('matmul')}, "
        f"{matmul_rate:.1f} GFLOP/s",
    ]
    for label, _, _ in VARIANTS:
        rate = BIG_PRODUCTS[label] * flops_matmul / median[label] / 1e9
        lines.append(f"{label:>18}: {1 / median[label]:7.3f} steps/s {median[label] * 1e3:9.1f} ms/step "
                     f"{spread(label)}  {rate:6.1f} GFLOP/s ({rate / matmul_rate:.2f} of matmul)")  # fmt: skip

    def ratio(numerator: str, denominator: str) -> tuple[float, float, list[float]]:
        per_round = [a / b for a, b in zip(seconds[numerator], seconds[denominator])]
        return median[numerator] / median[denominator], statistics.median(per_round), per_round

    of_medians, paired, per_round = ratio("adversarial", "supervised")
    lines.append(f"adversarial / supervised:       ratio of medians {of_medians:.3f}, "
                 f"median per-round ratio {paired:.3f} [{min(per_round):.3f}–{max(per_round):.3f}]")
    of_medians, paired, per_round = ratio("adversarial+split", "adversarial")
    verdict = "met" if paired <= 1.25 else "NOT met"
    lines.append(f"split / plain adversarial:      ratio of medians {of_medians:.3f}, "
                 f"median per-round ratio {paired:.3f} [{min(per_round):.3f}–{max(per_round):.3f}] "
                 f"(target <= 1.25: {verdict})")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neurons", type=int, default=4096)
    parser.add_argument("--input-dim", type=int, default=784)
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--rounds", "--repeats", type=int, default=7,
                        help="Interleaved rounds (one step of each per round); --repeats is the old name.")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help="A small shape (m = 1024, n = 512) and 3 rounds: checks that the benchmark runs.")
    options = parser.parse_args()
    if options.quick:
        options.neurons, options.samples, options.rounds = 1024, 512, 3
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    if options.threads:
        torch.set_num_threads(options.threads)
    shape = dict(neurons=options.neurons, input_dim=options.input_dim, samples=options.samples)
    seconds = measure(**shape, rounds=options.rounds, device=options.device, dtype=options.dtype)
    side = int(round(options.neurons ** 0.5))
    print(f"m={side * side} d_in={options.input_dim} n={options.samples} device={options.device} "
          f"dtype={options.dtype} threads={torch.get_num_threads()}; {options.rounds} interleaved rounds "
          f"(supervised, adversarial, adversarial+split, matmul); medians [min–max]")  # fmt: skip
    print(report(seconds, **shape))


if __name__ == "__main__":
    main()
