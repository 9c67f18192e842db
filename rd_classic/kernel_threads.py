"""How many threads the compiled kernels of a run use: as many as pay for themselves.

numba's parallel kernels run on OpenMP threads; every parallel region costs a few
microseconds to wake the workers (more on a loaded machine, where a worker may wait for a
core), and a step runs one or two regions. On a small grid that overhead is most of the
step: Gray-Scott at 64² took 8 µs per Euler step on one thread and 24 µs on two, at 128² 21
and 35 µs (this 2-core machine, ``OMP_WAIT_POLICY=PASSIVE``, under load). A run therefore
uses one thread per :data:`VALUES_PER_THREAD` species values of its state (at least one, at
most numba's thread count): a 128² Gray-Scott run takes one thread, a 256² run two.

The kernels give the same bits whatever the thread count (their blocks of rows are
independent; the counter-based noise is a function of the cell), so this choice never
changes a result. numba's thread count is per calling thread: :func:`kernel_threads` sets it
for the duration of a run and restores it afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["VALUES_PER_THREAD", "thread_count", "kernel_threads"]

#: species values of the state per thread below which another thread costs more than it saves
#: (2¹⁶: 32 768 cells of a two-species model, about 30 µs of an Euler step on one thread in cache)
VALUES_PER_THREAD = 1 << 16


def thread_count(n_values: int, available: int) -> int:
    """The threads for a state of ``n_values`` species values with ``available`` threads (at least 1)."""
    return max(1, min(int(available), int(n_values) // VALUES_PER_THREAD))


@contextlib.contextmanager
def kernel_threads(n_values: int) -> Iterator[int]:
    """Run the enclosed numba kernels (and size their per-thread buffers) on :func:`thread_count` threads.

    Parameters
    ----------
    n_values
        Species values of the state (cells times species).

    Yields
    ------
    int
        The thread count in force.
    """
    from numba import get_num_threads, set_num_threads

    previous = get_num_threads()
    chosen = thread_count(n_values, previous)
    set_num_threads(chosen)
    try:
        yield chosen
    finally:
        set_num_threads(previous)
