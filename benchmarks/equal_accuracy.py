"""Comparisons at equal accuracy, shared by ``bench_classic.py`` and ``bench_solver.py``.

A stiff scheme is compared with explicit Euler at the largest step whose error is at most
Euler's. :func:`fewest_steps_within` finds that step by one rule for every scheme: walk a
geometric list of step sizes (2, 2/√2, 1, ...) down to the first that passes, then bisect
on the number of steps between it and the last that failed. The √2 list alone quantised
the answer (ETDRK4 at 512² passed at dt = 0.25 with half of Euler's error and failed at
0.354); the bisection gives the fewest steps to within one. :func:`interleaved_walls` times
the runs in alternating rounds, so that a change of the machine's load falls on all of them.
"""

from __future__ import annotations

import statistics
import time
from typing import Callable

import numpy as np

__all__ = ["fewest_steps_within", "interleaved_walls", "median_ratio", "wall_of"]


def fewest_steps_within(error_of_steps: Callable[[int], float], target: float, end: float, *,
                        largest_dt: float = 2.0, candidates: int = 16) -> tuple[int, float]:  # fmt: skip
    """The fewest steps over ``[0, end]`` whose error is at most ``target``, and that error.

    Parameters
    ----------
    error_of_steps
        The error of a run of the given number of equal steps.
    target
        The error to stay within (Euler's).
    end
        The run's final time.
    largest_dt, candidates
        The geometric list ``largest_dt / √2**k``, ``k < candidates``, walked first.

    Returns
    -------
    tuple
        ``(steps, error)``: at least ``end / largest_dt`` steps; the list's last entry and its error if
        none passed.

    Notes
    -----
    The bisection assumes the error grows with the step between the two bracketing
    candidates (true in the asymptotic regime, where the error goes as ``dt**order``).
    """
    errors: dict[int, float] = {}

    def error(steps: int) -> float:
        if steps not in errors:
            errors[steps] = error_of_steps(steps)
        return errors[steps]

    failing = None
    for dt in largest_dt / np.sqrt(2.0) ** np.arange(candidates):
        steps = max(1, round(end / dt))
        if error(steps) <= target:
            break
        failing = steps
    else:
        return steps, errors[steps]
    passing = steps
    if failing is None:  # the largest dt passed: no larger one is tried
        return passing, errors[passing]
    while passing - failing > 1:
        middle = (passing + failing) // 2
        if error(middle) <= target:
            passing = middle
        else:
            failing = middle
    return passing, errors[passing]


def interleaved_walls(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Every run's wall time (each callable returns its own), once per round, the order reversed every round."""
    walls: dict[str, list[float]] = {name: [] for name in runs}
    for index in range(rounds):
        for name in (list(runs) if index % 2 == 0 else list(reversed(runs))):
            walls[name].append(runs[name]())
    return walls


def median_ratio(numerator: list[float], denominator: list[float]) -> float:
    """The median of the per-round ratios ``numerator[i] / denominator[i]``."""
    return statistics.median(a / b for a, b in zip(numerator, denominator))


def wall_of(advance: Callable[[int], None], reset: Callable[[], None], steps: int) -> Callable[[], float]:
    """A callable that resets the state and returns the wall time of ``advance(steps)``."""

    def run() -> float:
        reset()
        start = time.perf_counter()
        advance(steps)
        return time.perf_counter() - start

    return run
