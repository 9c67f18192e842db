"""benchmarks/equal_accuracy.py: the fewest steps within an error, and the alternating rounds."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "equal_accuracy.py"


@pytest.fixture(scope="module")
def equal_accuracy():
    spec = importlib.util.spec_from_file_location("equal_accuracy", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("constant,order,target", [(1.0, 4, 1.1e-4), (3.0, 2, 2e-3), (0.5, 1, 0.07), (1e-9, 4, 1e-3)])
def test_fewest_steps_is_the_analytic_one_for_an_error_growing_as_a_power_of_dt(equal_accuracy, constant, order, target):
    end = 10.0
    calls = []

    def error(steps):
        calls.append(steps)
        return constant * (end / steps) ** order

    steps, found = equal_accuracy.fewest_steps_within(error, target, end)
    # error <= target  <=>  steps >= end (constant / target)^(1/order); never fewer than the list's first, 5
    expected = max(5, math.ceil(end * (constant / target) ** (1 / order) - 1e-9))
    assert steps == expected
    assert found == pytest.approx(constant * (end / expected) ** order)
    assert found <= target
    assert len(set(calls)) == len(calls)  # every count run once


def test_when_no_candidate_passes_the_last_is_returned(equal_accuracy):
    steps, found = equal_accuracy.fewest_steps_within(lambda steps: 1.0, 0.5, 10.0, candidates=4)
    assert steps == round(10.0 / (2.0 / math.sqrt(2.0) ** 3)) and found == 1.0


def test_rounds_alternate_the_order(equal_accuracy):
    order = []
    runs = {name: (lambda name=name: order.append(name) or 1.0) for name in "abc"}
    walls = equal_accuracy.interleaved_walls(runs, 3)
    assert order == list("abccbaabc")
    assert walls == {name: [1.0, 1.0, 1.0] for name in "abc"}
    assert equal_accuracy.median_ratio([2.0, 9.0, 4.0], [1.0, 1.0, 4.0]) == 2.0
