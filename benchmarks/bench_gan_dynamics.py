"""Speed of the solvable-GAN simulation: the frame engine against the literal n-vector engine.

Run: ``.venv/bin/python benchmarks/bench_gan_dynamics.py``. Prints the wall time of the issue's
target run (n = 10^4, t = 200, i.e. 2*10^6 online steps) with the frame engine, the literal
vector engine's time per step measured on a short run in the same process, and their ratio.
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from rdnet.gan_dynamics import GanModel, initial_state
from rdnet.gan_dynamics.simulation import simulate_ensemble


def wall(function, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    state = initial_state(1)
    for engine in ("frame", "vector"):  # compile the kernels first
        simulate_ensemble(model, state, dimension=100, times=[0, 1], replicas=1, engine=engine)
    n, horizon = 10_000, 200.0
    frame = wall(lambda: simulate_ensemble(model, state, dimension=n, times=np.linspace(0, horizon, 201), replicas=1), 3)
    short = 0.5
    vector = wall(lambda: simulate_ensemble(model, state, dimension=n, times=[0, short], replicas=1, engine="vector"), 3)
    vector_full = vector * horizon / short
    steps = int(n * horizon)
    print(f"n={n}, t={horizon:g} ({steps:.1e} steps), d=1, 1 replica, median of 3")
    print(f"  frame engine : {frame:8.2f} s  ({steps / frame:.3g} steps/s)")
    print(f"  vector engine: {vector_full:8.1f} s  (extrapolated from t={short}: {vector:.2f} s)")
    print(f"  ratio vector/frame: {vector_full / frame:.0f}x")


if __name__ == "__main__":
    main()
