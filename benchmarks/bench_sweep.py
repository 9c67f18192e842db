"""Benchmark of ``rdnet sweep``: parallel efficiency and per-task overhead on Dask.

Runs the same N-point Gray-Scott sweep (real ``rd_classic.simulate`` points, each
calibrated to take about ``--task-seconds``) three ways, in this one run:

1. a plain Python loop calling the same point function in this process (the peer);
2. ``rdnet.sweep.execute_plan`` on a LocalCluster with 1 worker process;
3. the same on a LocalCluster with 2 worker processes.

and prints

- per-task overhead = (T_1worker - T_loop) / T_loop (target <= 5 % at 5-second tasks),
- parallel efficiency = T_1worker / (2 * T_2workers) (target >= 85 %),
- and, measured inside each Dask run, the share of worker-seconds spent running points
  (what the orchestration leaves idle; meaningful even on a shared machine),

with cluster start-up timed separately (it is paid once per sweep, not per task).
The three ways are interleaved in ``--rounds`` rounds (each round runs points/rounds
points each way, on the same two warmed clusters), so that a change of machine speed
during the benchmark, common on a shared machine, falls on all three alike; run one
after the other, they differed by up to 15 % for that reason alone. Every point uses one numerics thread (NUMBA/OMP_NUM_THREADS=1) in all three runs so
that the work per point is identical.

Usage::

    python benchmarks/bench_sweep.py                      # 32 points of ~5 s each way (about 7 minutes)
    python benchmarks/bench_sweep.py --points 8 --rounds 2 --task-seconds 1   # a quick look
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time

for _name in ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_name] = "1"  # before numba / torch are imported: one thread per point everywhere


def _plan(directory: str, points: int, steps: int, size: int):
    from rdnet.sweep import parse_axis, plan_sweep

    fixed = {"model": "gray-scott", "size": size, "steps": steps, "snapshot_every": steps}
    # a row of F values inside Pearson's pattern region; k fixed
    return plan_sweep("simulate", [parse_axis(f"F=0.030:0.040:{points}"), parse_axis("k=0.0625")], fixed, directory)


def _calibrate(task_seconds: float, size: int) -> int:
    """Steps for which one point (run + analysis) takes about ``task_seconds`` here."""
    from rdnet.sweep import run_point

    steps = 200
    with tempfile.TemporaryDirectory() as scratch:
        plan = _plan(scratch, 2, steps, size)
        run_point(plan.tasks[0])  # warm-up: imports and compiled-kernel cache
        while True:
            plan = _plan(tempfile.mkdtemp(dir=scratch), 2, steps, size)
            started = time.perf_counter()
            run_point(plan.tasks[1])
            elapsed = time.perf_counter() - started
            if elapsed > 0.3 * task_seconds:
                return max(1, int(steps * task_seconds / elapsed))
            steps *= 4


def _loop(points: int, steps: int, size: int) -> tuple[float, list[float]]:
    from rdnet.sweep import run_point

    with tempfile.TemporaryDirectory() as scratch:
        plan = _plan(scratch, points, steps, size)
        started = time.perf_counter()
        results = [run_point(task) for task in plan.tasks]
        elapsed = time.perf_counter() - started
    assert all(result["status"] == "ok" for result in results), results
    return elapsed, [result["task_time"] for result in results]


def _warm_up(size: int) -> None:
    """Run one tiny point in this process (imports, compiled-kernel cache)."""
    from rdnet.sweep import run_point

    with tempfile.TemporaryDirectory() as scratch:
        run_point(_plan(scratch, 2, 20, size).tasks[0])


def _dask(client, points: int, steps: int, size: int) -> tuple[float, list[float]]:
    from rdnet.sweep import execute_plan

    with tempfile.TemporaryDirectory() as scratch:
        plan = _plan(scratch, points, steps, size)
        started = time.perf_counter()
        outcome = execute_plan(plan, client=client, progress=False, echo=lambda line: None)
        elapsed = time.perf_counter() - started
    assert outcome.count("ok") == points, [r["error"] for r in outcome.results if r["status"] != "ok"]
    return elapsed, [result["task_time"] for result in outcome.results]


def _start_cluster(stack: contextlib.ExitStack, workers: int, size: int):
    """A warmed LocalCluster of ``workers`` processes (as ``rdnet sweep`` makes it) and its start-up time."""
    from rdnet.sweep import dask_client

    started = time.perf_counter()
    client = stack.enter_context(dask_client(workers=workers, threads_per_point=1, echo=lambda line: None))
    client.run(_warm_up, size)  # imports and kernel cache, like the loop's warm-up in _calibrate
    return client, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=32)
    parser.add_argument("--task-seconds", type=float, default=5.0)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=4,
                        help="interleaved rounds; each runs points/rounds points in each of the three ways")
    arguments = parser.parse_args()
    block = arguments.points // arguments.rounds
    if block < 2 or block * arguments.rounds != arguments.points:
        parser.error("--points must be a multiple of --rounds, with at least 2 points per round")

    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}")
    steps = _calibrate(arguments.task_seconds, arguments.size)
    print(f"point: gray-scott {arguments.size}^2, {steps} Euler steps, calibrated to ~{arguments.task_seconds} s")
    totals = {"loop": 0.0, "one": 0.0, "two": 0.0}
    points = {"loop": [], "one": [], "two": []}
    with contextlib.ExitStack() as stack:
        one_client, start_one = _start_cluster(stack, 1, arguments.size)
        two_client, start_two = _start_cluster(stack, 2, arguments.size)
        # interleaved so that a change of machine speed (other jobs, frequency) during the
        # run falls on all three ways alike; the idle cluster only keeps its heartbeats
        for _ in range(arguments.rounds):
            for way, run in (
                ("loop", lambda: _loop(block, steps, arguments.size)),
                ("one", lambda: _dask(one_client, block, steps, arguments.size)),
                ("two", lambda: _dask(two_client, block, steps, arguments.size)),
            ):
                elapsed, times = run()
                totals[way] += elapsed
                points[way] += times
    n = arguments.points
    loop, one, two = totals["loop"], totals["one"], totals["two"]
    print(f"{arguments.rounds} interleaved rounds of {block} points each way")
    print(f"plain loop      : {loop:8.2f} s  ({loop / n:.2f} s per point)")
    print(f"dask, 1 worker  : {one:8.2f} s  (+ {start_one:.1f} s cluster start-up and warm-up, once per sweep)")
    print(f"dask, 2 workers : {two:8.2f} s  (+ {start_two:.1f} s cluster start-up and warm-up, once per sweep)")
    overhead = (one - loop) / loop
    efficiency = one / (2 * two)
    print(f"per-task overhead vs loop : {100 * overhead:+.1f} %  ({1000 * (one - loop) / n:+.0f} ms per task; target <= 5 %)")
    print(f"parallel efficiency 1->2  : {100 * efficiency:.1f} %  (speed-up {one / two:.2f}x; target >= 85 %)")
    # measured inside each Dask run: worker-seconds spent running points (command +
    # analysis, exactly what the loop does per point) against worker-seconds available
    busy_one, busy_two = sum(points["one"]), sum(points["two"])
    print(f"in-run: 1 worker busy {100 * busy_one / one:.1f} % of the sweep's wall time "
          f"(orchestration overhead {100 * (one - busy_one) / busy_one:+.1f} %)")
    print(f"in-run: 2 workers busy {100 * busy_two / (2 * two):.1f} % of 2 x the sweep's wall time")
    # where a difference comes from: a point itself running slower in a worker process
    # (as it did with dask's profiler and eager malloc trimming) or time between points
    print(f"median point (command + analysis): loop {statistics.median(points['loop']):.3f} s, "
          f"1 worker {statistics.median(points['one']):.3f} s, 2 workers {statistics.median(points['two']):.3f} s")
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
