"""Benchmark of the PRD training step (not a test): steps per second and GFLOP/s.

Measures, at m = 4096, d_in = 784, n = 1024 (d_out = 1, full batch, float64 by default):
supervised, adversarial (5 critic steps) and adversarial with the reaction/diffusion split
computed at every step, against a torch matmul of the generator's shapes (n × d_in) · (d_in × m)
timed in the same run. The split's target: at most 1.25× the plain adversarial step.

Run:  python benchmarks/bench_train.py [--repeats 5] [--device cpu] [--dtype float64] [--threads N]
"""

from __future__ import annotations

import argparse
import time

import torch

from rdnet.prd.run import RunSpec, prepare_run
from rdnet.prd.training import TrainingConfig, make_trainer


def _time(function, repeats: int) -> float:
    function()  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neurons", type=int, default=4096)
    parser.add_argument("--input-dim", type=int, default=784)
    parser.add_argument("--samples", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--threads", type=int, default=None)
    options = parser.parse_args()
    if options.threads:
        torch.set_num_threads(options.threads)
    side = int(options.neurons ** 0.5)
    n, m, d = options.samples, side * side, options.input_dim
    flops_matmul = 2.0 * n * m * d
    timings = {}
    for label, adversary, split in (("supervised", False, False), ("adversarial", True, False),
                                    ("adversarial+split", True, True)):
        spec = RunSpec(samples=n, input_dim=d, grid_height=side, grid_width=side, device=options.device,
                       dtype=options.dtype, training=TrainingConfig(adversary=adversary, lr=0.01))
        run = prepare_run(spec)
        step = make_trainer(run.X, run.Y, spec.training)
        timings[label] = _time(lambda: step(run.state, with_split=split), options.repeats)
    X, U = run.X, run.state.generator.U
    timings["matmul"] = _time(lambda: X @ U.T, options.repeats)
    matmul_rate = flops_matmul / timings["matmul"] / 1e9
    print(f"m={m} d_in={d} n={n} device={options.device} dtype={options.dtype} threads={torch.get_num_threads()}")
    print(f"torch matmul (n x d_in)(d_in x m): {timings['matmul'] * 1e3:.1f} ms, {matmul_rate:.1f} GFLOP/s")
    big_products = {"supervised": 2, "adversarial": 2, "adversarial+split": 3}  # n·m·d_in products
    for label in ("supervised", "adversarial", "adversarial+split"):
        seconds = timings[label]
        rate = big_products[label] * flops_matmul / seconds / 1e9
        print(f"{label:>18}: {1 / seconds:7.3f} steps/s  {seconds * 1e3:8.1f} ms/step  "
              f"{rate:6.1f} GFLOP/s ({rate / matmul_rate:.2f} of matmul)")
    print(f"adversarial / supervised      = {timings['adversarial'] / timings['supervised']:.3f}")
    print(f"(adversarial+split) / adversarial = {timings['adversarial+split'] / timings['adversarial']:.3f}"
          "  (target <= 1.25)")


if __name__ == "__main__":
    main()
