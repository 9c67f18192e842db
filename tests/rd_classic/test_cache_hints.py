"""The software prefetch of the generated kernels (:mod:`rd_classic.cache_hints`)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from rd_classic.cache_hints import prefetch_cells


@njit
def _prefetch_then_sum(rows, row, start, stop):
    prefetch_cells(rows[row], start, stop)
    return rows[row, start:stop].sum()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prefetch_cells_compiles_to_prefetch_instructions_and_leaves_the_values(dtype):
    rows = np.arange(3 * 100, dtype=dtype).reshape(3, 100)
    before = rows.copy()
    for start, stop in ((0, 100), (7, 8), (50, 50), (99, 100)):  # whole row, one cell, nothing, the last cell
        assert _prefetch_then_sum(rows, 1, start, stop) == before[1, start:stop].sum()
    assert np.array_equal(rows, before)
    assembly = "\n".join(_prefetch_then_sum.inspect_asm().values())
    assert "prefetch" in assembly


def test_prefetch_cells_refuses_what_is_not_a_contiguous_row():
    from numba.core.errors import TypingError

    @njit
    def prefetch_a_whole_array(rows):
        prefetch_cells(rows, 0, 1)

    with pytest.raises(TypingError):
        prefetch_a_whole_array(np.zeros((2, 2)))
