"""A run's kernels take as many threads as its grid pays for, and restore numba's count afterwards."""

from __future__ import annotations

import numba
import pytest

from rd_classic.kernel_threads import VALUES_PER_THREAD, kernel_threads, thread_count
from rd_classic.run import build_config, run_simulation


@pytest.mark.parametrize(
    ("n_values", "available", "expected"),
    [(0, 2, 1), (VALUES_PER_THREAD - 1, 2, 1), (2 * VALUES_PER_THREAD, 2, 2), (2 * VALUES_PER_THREAD, 1, 1),
     (3 * VALUES_PER_THREAD + 5, 8, 3), (10**9, 4, 4)],
)
def test_thread_count_is_one_per_block_of_values_within_the_available_threads(n_values, available, expected):
    assert thread_count(n_values, available) == expected


def test_kernel_threads_sets_numba_s_count_inside_and_restores_it():
    before = numba.get_num_threads()
    with kernel_threads(1) as chosen:
        assert chosen == 1
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


class _ThreadsSeen:
    """An observer recording numba's thread count when the run starts and when it snapshots."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def start(self, config, step) -> None:
        self.seen.append(numba.get_num_threads())

    def snapshot(self, step, time, fields) -> None:
        self.seen.append(numba.get_num_threads())


@pytest.mark.parametrize("size", [32, 256])
def test_a_run_uses_one_thread_on_a_small_grid_and_numba_s_threads_on_a_large_one(size):
    config = build_config("gray-scott", size=str(size), steps=2, snapshots=1)
    observer = _ThreadsSeen()
    before = numba.get_num_threads()
    run_simulation(config, observers=[observer])
    cells_times_species = size * size * 2
    expected = max(1, min(before, cells_times_species // VALUES_PER_THREAD))
    assert observer.seen and set(observer.seen) == {expected}
    assert numba.get_num_threads() == before
