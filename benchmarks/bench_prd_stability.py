"""Benchmark of the network's linear-stability analysis (not a test): leading eigenvalues of J_RD.

The target (issue 13): at the ``rdnet train`` defaults (m = 1024, d_in = 784, n = 64, d_out = 10,
both layers), the 10 leading eigenvalues of J_RD = −∇²(L_sup − β L_adv), critic frozen, in
under 60 s on 2 cores. The state is the end of the default adversarial run (``rdnet train
--adversary``: 1000 steps), trained here first (or read with ``--run FILE``).

Against the dense path, at widths where it still fits: J formed column by column from the same
Hessian–vector products in the reduced coordinates (size products) and diagonalised with
``numpy.linalg.eigh``, timed **interleaved** with the iterative solve in each of ``--rounds``
rounds (the machine is shared: medians, and the ratio per round). The largest width also prints
what the dense Hessian would need: reduced (m r + d_out m)² and full ((m d_in + d_out m)²) float64.

Run:  python benchmarks/bench_prd_stability.py [--rounds 3] [--threads 1] [--run adv.nc]
      python benchmarks/bench_prd_stability.py --quick       # small widths, to check that it works
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from rdnet.prd import stability
from rdnet.prd.networks import CriticWeights
from rdnet.prd.run import RunSpec, prepare_run, run_training
from rdnet.prd.training import TrainingConfig


def trained_state(neurons: int, steps: int) -> stability.NetworkState:
    """The end of an adversarial run at the defaults with ``neurons`` hidden neurons."""
    side = int(round(neurons ** 0.5))
    spec = RunSpec(grid_height=side, grid_width=neurons // side, steps=steps, training=TrainingConfig(adversary=True))
    run = prepare_run(spec)
    run_training(run, [])
    training, state = spec.training, run.state
    return stability.NetworkState(
        X=run.X, Y=run.Y, U=state.generator.U, V=state.generator.V,
        critic=CriticWeights(W=state.critic.W, a=state.critic.a), adversary_weight=training.adversary_weight,
        critic_rate=training.critic_steps * training.critic_lr / training.lr,
    )  # fmt: skip


def state_from_file(path: str) -> stability.NetworkState:
    """The last snapshot of a run's file."""
    from rdnet.prd.snapshots import open_network_run

    with open_network_run(path) as run:
        return run.state(-1, with_critic=True)


def iterative(state: stability.NetworkState, count: int) -> tuple[float, int, np.ndarray]:
    """Seconds, products and eigenvalues of the leading-``count`` solve."""
    started = time.perf_counter()
    spectrum = stability.leading_spectrum(state, "frozen", count=count)
    return time.perf_counter() - started, spectrum.products, spectrum.eigenvalues.real


def dense(state: stability.NetworkState, count: int) -> tuple[float, int, np.ndarray]:
    """Seconds, products and leading eigenvalues of forming J (reduced) and diagonalising it."""
    started = time.perf_counter()
    operator = stability.jacobian_operator(state, "frozen")
    matrix = operator.dense()
    values = np.linalg.eigvalsh(0.5 * (matrix + matrix.T))[::-1][:count]
    return time.perf_counter() - started, operator.products, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the products")
    parser.add_argument("--eigenvalues", type=int, default=10)
    parser.add_argument("--steps", type=int, default=1000, help="training steps before the analysis")
    parser.add_argument("--run", default=None, help="take the default-size state from this run's last snapshot")
    parser.add_argument("--quick", action="store_true")
    arguments = parser.parse_args()
    torch.set_num_threads(arguments.threads)
    dense_widths = (16,) if arguments.quick else (16, 36, 64)
    headline = 64 if arguments.quick else 1024
    steps = 50 if arguments.quick else arguments.steps
    print(f"torch threads {arguments.threads}; {arguments.eigenvalues} leading eigenvalues of J_RD; "
          f"states after {steps} adversarial steps at the defaults (n = 64, d_in = 784, d_out = 10)")  # fmt: skip
    print(f"{'m':>6} {'reduced':>8} {'iterative s':>12} {'products':>9} {'dense s':>9} {'products':>9} "
          f"{'dense/iter':>10} {'max |Δλ|/|λ1|':>14}")  # fmt: skip
    for width in dense_widths:
        state = trained_state(width, steps)
        times = {"iterative": [], "dense": []}
        ratios, products, values = [], {}, {}
        for _ in range(arguments.rounds):
            for label, solve in (("iterative", iterative), ("dense", dense)):
                seconds, products[label], values[label] = solve(state, arguments.eigenvalues)
                times[label].append(seconds)
            ratios.append(times["dense"][-1] / times["iterative"][-1])
        size = stability.jacobian_operator(state, "frozen").layout.size
        error = np.abs(values["iterative"] - values["dense"]).max() / abs(values["dense"][0])
        print(f"{width:>6} {size:>8} {statistics.median(times['iterative']):>12.3f} {products['iterative']:>9} "
              f"{statistics.median(times['dense']):>9.3f} {products['dense']:>9} {statistics.median(ratios):>10.1f} "
              f"{error:>14.2e}")  # fmt: skip
    state = state_from_file(arguments.run) if arguments.run else trained_state(headline, steps)
    seconds, products = [], 0
    for _ in range(arguments.rounds):
        elapsed, products, leading = iterative(state, arguments.eigenvalues)
        seconds.append(elapsed)
    operator = stability.jacobian_operator(state, "frozen")
    per_product = []
    probe = np.random.default_rng(0).standard_normal(operator.layout.size)
    for _ in range(20):
        started = time.perf_counter()
        operator.matvec(probe)
        per_product.append(time.perf_counter() - started)
    reduced, full = operator.layout.size, operator.dimension
    print(f"\nm = {state.neurons}: J_RD's {arguments.eigenvalues} leading eigenvalues in {statistics.median(seconds):.2f} s "
          f"(median of {arguments.rounds}; min {min(seconds):.2f}, max {max(seconds):.2f}), {products} Hessian-vector "
          f"products, {statistics.median(per_product) * 1e3:.2f} ms each; target < 60 s")  # fmt: skip
    print(f"  max Re λ = {leading.max():.6g}; leading {np.array2string(leading, precision=5)}")
    print(f"  dense Hessian would need {reduced ** 2 * 8 / 2**30:.1f} GiB reduced ({reduced} parameters) and "
          f"{full ** 2 * 8 / 2**30:.0f} GiB full ({full}), and {reduced} products just to form it")  # fmt: skip


if __name__ == "__main__":
    main()
