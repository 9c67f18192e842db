"""Benchmark of the PRD training step (not a test): steps per second, GFLOP/s, and float32 against float64.

Measures, at the benchmark shape m = 4096, d_in = 784, n = 1024, d_out = 10 (full batch, lr 0.01)
or, with ``--train-defaults``, at the shape of ``rdnet train``'s defaults (m = 1024, d_in = 784,
n = 64, d_out = 10, lr 0.2): supervised, adversarial (5 WGAN-GP critic updates) and adversarial
with the reaction/diffusion split computed at every step, against a torch matmul of the
generator's shapes (n × d_in) · (d_in × m) timed in the same run. Targets: the adversarial step
at most 2.5× the supervised one (issue 15), the split at most 1.25× the plain adversarial step
(issue 4). ``--float32`` adds the supervised and adversarial steps in float32 to the same rounds.

The variants are timed **interleaved**: each of ``--rounds`` rounds times ``--steps-per-round``
steps of each variant in turn, so that a change of machine speed during the benchmark (common on
a shared machine) falls on all of them alike. Reported: the median time per step of each (with
min–max), the ratio of the medians and the median over rounds of the per-round ratios (each
round's adversarial time divided by the supervised time of the same round: the figure least
sensitive to drift).

``--deviation STEPS`` measures instead how far a float32 run strays from the float64 run of the
same seed (same shape and settings), beside how far the float64 run strays from itself when U(0)
is changed by one unit in the last place: the floor below which no change of arithmetic can stay
once the training dynamics amplify rounding.

Run:  python benchmarks/bench_train.py [--rounds 7] [--threads N] [--float32]
      python benchmarks/bench_train.py --train-defaults --rounds 11 --float32
      python benchmarks/bench_train.py --train-defaults --deviation 1000
      python benchmarks/bench_train.py --quick      # a small shape, to check that it works
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

# Before torch starts its OpenMP runtime: idle workers sleep at once instead of spinning after every
# parallel region (GNU OpenMP's default). On a machine shared with other jobs the spinning worker
# takes the core from the thread with work: at load 5 on 2 cores it made every 2-thread step 2-3x
# slower, most of all the adversarial step's many short operations (docs/benchmarks_prd.md). Set
# OMP_WAIT_POLICY=ACTIVE in the environment to measure the default.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402

from rdnet.prd import defaults  # noqa: E402
from rdnet.prd.run import RunSpec, prepare_run  # noqa: E402
from rdnet.prd.training import METRIC_NAMES, TrainingConfig, make_trainer  # noqa: E402

#: the timed variants, in their order within a round: (label, adversary, split at every step, dtype)
VARIANTS = (
    ("supervised", False, False, "float64"),
    ("adversarial", True, False, "float64"),
    ("adversarial+split", True, True, "float64"),
)
FLOAT32_VARIANTS = (("supervised f32", False, False, "float32"), ("adversarial f32", True, False, "float32"))
#: (n·m·d_in)-sized products per step: forward and ∂L/∂U; the split adds one more
BIG_PRODUCTS = {"supervised": 2, "adversarial": 2, "adversarial+split": 3, "supervised f32": 2, "adversarial f32": 2}
#: the benchmark shape, and that of rdnet train's defaults (with the learning rates they run at)
BENCHMARK_SHAPE = dict(neurons=4096, input_dim=784, samples=1024, outputs=defaults.OUTPUTS, lr=0.01)
TRAIN_DEFAULTS_SHAPE = dict(neurons=defaults.GRID_HEIGHT * defaults.GRID_WIDTH, input_dim=defaults.INPUT_DIM,
                            samples=defaults.SAMPLES, outputs=defaults.OUTPUTS, lr=defaults.LR)  # fmt: skip
#: recorded values compared by --deviation
DEVIATION_METRICS = ("loss_sup", "distance_u", "distance_v", "residual_norm", "loss_adv", "wasserstein_estimate",
                     "critic_weight_norm")  # fmt: skip


def _spec(*, neurons: int, input_dim: int, samples: int, outputs: int, lr: float, adversary: bool,
          dtype: str = "float64", device: str = "cpu") -> RunSpec:  # fmt: skip
    side = int(round(neurons ** 0.5))
    return RunSpec(samples=samples, input_dim=input_dim, outputs=outputs, grid_height=side, grid_width=side,
                   device=device, dtype=dtype, training=TrainingConfig(adversary=adversary, lr=lr))  # fmt: skip


def _timed(function, synchronize, steps: int) -> float:
    start = time.perf_counter()
    for _ in range(steps):
        function()
    synchronize()
    return (time.perf_counter() - start) / steps


def measure(*, neurons: int, input_dim: int, samples: int, outputs: int, lr: float, rounds: int,
            steps_per_round: int = 1, device: str = "cpu", float32: bool = False) -> dict[str, list[float]]:  # fmt: skip
    """Seconds of one step of each variant and of the matmul, per round (interleaved).

    Returns
    -------
    dict
        ``{label: [seconds per step in round 1, …]}`` for every variant and ``matmul``.
    """
    synchronize = torch.cuda.synchronize if device.startswith("cuda") else (lambda: None)
    shape = dict(neurons=neurons, input_dim=input_dim, samples=samples, outputs=outputs, lr=lr)
    functions = {}
    for label, adversary, split, dtype in VARIANTS + (FLOAT32_VARIANTS if float32 else ()):
        spec = _spec(**shape, adversary=adversary, dtype=dtype, device=device)
        run = prepare_run(spec)
        step = make_trainer(run.X, run.Y, spec.training)
        functions[label] = (lambda step=step, run=run, split=split: step(run.state, with_split=split))
        if label == "supervised":
            X, U = run.X, run.state.generator.U.clone()
            functions["matmul"] = lambda: X @ U.T
    for function in functions.values():  # warm-up: allocations, thread pools, caches
        function()
    synchronize()
    seconds: dict[str, list[float]] = {label: [] for label in functions}
    for _ in range(rounds):
        for label, function in functions.items():
            seconds[label].append(_timed(function, synchronize, steps_per_round))
    return seconds


def report(seconds: dict[str, list[float]], *, neurons: int, input_dim: int, samples: int) -> str:
    """The table and the ratios of :func:`measure`'s timings, as printed."""
    side = int(round(neurons ** 0.5))
    n, m, d = samples, side * side, input_dim
    flops_matmul = 2.0 * n * m * d
    median = {label: statistics.median(values) for label, values in seconds.items()}

    def spread(label: str) -> str:
        return f"[{min(seconds[label]) * 1e3:.2f}–{max(seconds[label]) * 1e3:.2f}]"

    matmul_rate = flops_matmul / median["matmul"] / 1e9
    lines = [
        f"torch matmul (n x d_in)(d_in x m): {median['matmul'] * 1e3:8.2f} ms {spread('matmul')}, "
        f"{matmul_rate:.1f} GFLOP/s",
    ]
    for label in seconds:
        if label == "matmul":
            continue
        rate = BIG_PRODUCTS[label] * flops_matmul / median[label] / 1e9
        lines.append(f"{label:>18}: {1 / median[label]:8.3f} steps/s {median[label] * 1e3:9.2f} ms/step "
                     f"{spread(label)}  {rate:6.1f} GFLOP/s ({rate / matmul_rate:.2f} of matmul)")  # fmt: skip

    def ratio(numerator: str, denominator: str, title: str, target: float | None = None) -> None:
        per_round = [a / b for a, b in zip(seconds[numerator], seconds[denominator])]
        paired = statistics.median(per_round)
        verdict = "" if target is None else f" (target <= {target}: {'met' if paired <= target else 'NOT met'})"
        lines.append(f"{title:<32}ratio of medians {median[numerator] / median[denominator]:.3f}, "
                     f"median per-round ratio {paired:.3f} [{min(per_round):.3f}–{max(per_round):.3f}]{verdict}")  # fmt: skip

    ratio("adversarial", "supervised", "adversarial / supervised:", 2.5)
    ratio("adversarial+split", "adversarial", "split / plain adversarial:", 1.25)
    if "supervised f32" in seconds:
        ratio("supervised", "supervised f32", "supervised float64 / float32:")
        ratio("adversarial", "adversarial f32", "adversarial float64 / float32:")
        ratio("adversarial f32", "supervised f32", "float32 adversarial / supervised:")
    return "\n".join(lines)


def _relative_deviation(values: list[float], reference: list[float]) -> float:
    """max_k |values_k − reference_k| / max_k |reference_k| over the steps given."""
    scale = max(abs(value) for value in reference) or 1.0
    return max(abs(a - b) for a, b in zip(values, reference)) / scale


def deviation(*, neurons: int, input_dim: int, samples: int, outputs: int, lr: float, steps: int,
              adversary: bool) -> dict[str, dict[str, dict[int, float]]]:  # fmt: skip
    """How far a float32 run, and a float64 run from U(0) one ulp off, stray from the float64 run.

    Returns
    -------
    dict
        ``{"float32" | "float64, U(0) + 1 ulp": {metric: {k: deviation up to step k}}}``, the
        deviation being the largest |difference| up to step k over the largest |value| of the
        float64 run up to step k, at k = 10, 100, … and ``steps``.
    """
    shape = dict(neurons=neurons, input_dim=input_dim, samples=samples, outputs=outputs, lr=lr)
    runs = {}
    for label, dtype in (("float64", "float64"), ("float32", "float32"), ("float64, U(0) + 1 ulp", "float64")):
        spec = _spec(**shape, adversary=adversary, dtype=dtype)
        run = prepare_run(spec)
        if label.endswith("ulp"):
            U = run.state.generator.U
            U.copy_(torch.nextafter(U, torch.full_like(U, torch.inf)))
            run.state.initial_U.copy_(U)
        runs[label] = (make_trainer(run.X, run.Y, spec.training), run.state)
    series = {label: {name: [] for name in METRIC_NAMES} for label in runs}
    for _ in range(steps + 1):
        for label, (step, state) in runs.items():
            metrics = step(state).metrics
            for name, value in metrics.items():
                series[label][name].append(value)
    checkpoints = sorted({k for k in (10, 100, 1000, 10000) if k < steps} | {steps})
    names = [name for name in DEVIATION_METRICS if adversary or name not in ("loss_adv", "wasserstein_estimate",
                                                                              "critic_weight_norm")]  # fmt: skip
    return {
        label: {name: {k: _relative_deviation(series[label][name][:k + 1], series["float64"][name][:k + 1])
                       for k in checkpoints} for name in names}
        for label in runs if label != "float64"
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--neurons", type=int, default=None, help="m [4096; 1024 with --train-defaults]")
    parser.add_argument("--input-dim", type=int, default=None, help="d_in [784]")
    parser.add_argument("--samples", type=int, default=None, help="n [1024; 64 with --train-defaults]")
    parser.add_argument("--outputs", type=int, default=None, help="d_out [10]")
    parser.add_argument("--train-defaults", action="store_true",
                        help="The shape and learning rate of rdnet train's defaults (and one thread, as rdnet train "
                             "picks for that size, unless --threads).")
    parser.add_argument("--rounds", "--repeats", type=int, default=7,
                        help="Interleaved rounds; --repeats is the old name.")
    parser.add_argument("--steps-per-round", type=int, default=None,
                        help="Steps of each variant per round [1; 20 with --train-defaults].")
    parser.add_argument("--float32", action="store_true", help="Also time the supervised and adversarial steps in float32.")
    parser.add_argument("--deviation", type=int, default=None, metavar="STEPS",
                        help="Instead of timing: how far float32 strays from float64 over STEPS steps (supervised "
                             "and adversarial).")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true",
                        help="A small shape (m = 1024, n = 512) and 3 rounds: checks that the benchmark runs.")
    options = parser.parse_args()
    shape = dict(TRAIN_DEFAULTS_SHAPE if options.train_defaults else BENCHMARK_SHAPE)
    if options.quick:
        shape.update(neurons=1024, samples=512)
        options.rounds = 3
    for name in ("neurons", "input_dim", "samples", "outputs"):
        if getattr(options, name) is not None:
            shape[name] = getattr(options, name)
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    threads = options.threads or (1 if options.train_defaults else None)
    if threads:
        torch.set_num_threads(threads)
    side = int(round(shape["neurons"] ** 0.5))
    print(f"m={side * side} d_in={shape['input_dim']} n={shape['samples']} d_out={shape['outputs']} lr={shape['lr']} "
          f"device={options.device} threads={torch.get_num_threads()} OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']} "
          f"torch={torch.__version__}")  # fmt: skip
    if options.deviation is not None:
        for adversary in (False, True):
            print(f"{'adversarial' if adversary else 'supervised'}: max |difference| / max |float64 value| "
                  f"up to step k, over {options.deviation} steps")  # fmt: skip
            for label, metrics in deviation(**shape, steps=options.deviation, adversary=adversary).items():
                print(f"  {label}:")
                for name, by_step in metrics.items():
                    print(f"    {name:>22}: " + "  ".join(f"k={k} {value:.1e}" for k, value in by_step.items()))
        return
    steps_per_round = options.steps_per_round or (20 if options.train_defaults else 1)
    seconds = measure(**shape, rounds=options.rounds, steps_per_round=steps_per_round, device=options.device,
                      float32=options.float32)  # fmt: skip
    print(f"{options.rounds} interleaved rounds of {steps_per_round} step(s) each ({', '.join(seconds)}); "
          f"medians per step [min–max]")  # fmt: skip
    print(report(seconds, neurons=shape["neurons"], input_dim=shape["input_dim"], samples=shape["samples"]))


if __name__ == "__main__":
    main()
