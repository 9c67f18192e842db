"""The counter-based normals against an independent reference: the documented bits through ``math``'s functions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from rd_classic.random_numbers import (fill_normal_pairs, fill_normals, noise_normals, normal_pair, standard_normals,
                                      stream_key)

MASK = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15
ROW_SALT = 0xD1B54A32D192ED03
#: the accuracy the module documents (its RELATIVE_ERROR), written out here so that the test checks the claim
CLAIMED_RELATIVE_ERROR = 4e-9


def _mix64(x: int) -> int:
    """SplitMix64's finaliser (Stafford's Mix13) on Python integers."""
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def _reference_pair(bits: int) -> tuple[float, float]:
    """Box-Muller on a pair's 64 bits as the module docstring lays them out, with math.log/cos/sin."""
    u = ((bits >> 24) + 0.5) * 2.0**-40
    phi = ((bits & ((1 << 21) - 1)) + 0.5) * 2.0**-21 * math.pi / 4
    a, b = math.cos(phi), math.sin(phi)
    if bits >> 21 & 1:
        a, b = b, a
    if bits >> 22 & 1:
        a = -a
    if bits >> 23 & 1:
        b = -b
    radius = math.sqrt(-2.0 * math.log(u))
    return radius * a, radius * b


def _row_start(key: int, row: int) -> int:
    return _mix64(key ^ _mix64((row + ROW_SALT) & MASK))


def _reference_row(key: int, row: int, n: int) -> np.ndarray:
    """A species drawing alone: pair q of the row gives cells q and q + ⌈n/2⌉."""
    start = _row_start(key, row)
    half = (n + 1) // 2
    values = np.empty(n)
    for q in range(half):
        a, b = _reference_pair(_mix64((start + (q + 1) * GOLDEN) & MASK))
        values[q] = a
        if q + half < n:
            values[q + half] = b
    return values


@pytest.mark.parametrize("n", [1, 2, 7, 64, 1001])
def test_rows_are_box_muller_on_the_documented_bits_to_the_stated_accuracy(n):
    key = int(stream_key(3, 17, 1))
    for row in (0, 1, 12345):
        values = np.empty(n)
        fill_normals(np.uint64(key), row, 1.0, values)
        reference = _reference_row(key, row, n)
        np.testing.assert_allclose(values, reference, rtol=CLAIMED_RELATIVE_ERROR, atol=0)
        narrow = np.empty(n, np.float32)  # the float32 kernels' row buffers: the same numbers, rounded
        fill_normals(np.uint64(key), row, 1.0, narrow)
        np.testing.assert_allclose(narrow, reference, rtol=1.2e-7, atol=0)
        fill_normals(np.uint64(key), row, 0.3, values)  # the kernels' increments: scale times the numbers
        np.testing.assert_allclose(values, 0.3 * reference, rtol=CLAIMED_RELATIVE_ERROR, atol=0)


def test_two_species_drawing_together_take_both_numbers_of_the_cells_pair():
    key = int(stream_key(5, 2, 0))
    n = 37
    first, second = np.empty(n), np.empty(n)
    for row in (0, 3):
        fill_normal_pairs(np.uint64(key), row, 1.0, first, second)
        start = _row_start(key, row)
        reference = np.array([_reference_pair(_mix64((start + (j + 1) * GOLDEN) & MASK)) for j in range(n)])
        np.testing.assert_allclose(first, reference[:, 0], rtol=CLAIMED_RELATIVE_ERROR, atol=0)
        np.testing.assert_allclose(second, reference[:, 1], rtol=CLAIMED_RELATIVE_ERROR, atol=0)
    # what the kernels draw: species 0 and 2 together from species 0's stream, species 3 alone from its own
    values = noise_normals(5, 2, (0, 2, 3), (4, n))
    fill_normal_pairs(np.uint64(key), 3, 1.0, first, second)
    np.testing.assert_array_equal(values[0, 3], first)
    np.testing.assert_array_equal(values[1, 3], second)
    np.testing.assert_array_equal(values[2], standard_normals(5, 2, 3, (4, n)))


def test_the_polynomial_logarithm_sine_and_cosine_hold_at_the_ends_of_their_ranges():
    # radius bits at the smallest and largest u, around every power of two and around √2 times one (where the
    # mantissa's reduction switches), with angle bits at the ends of the octant and in every octant
    radius_bits = {0, 1, 2, 3, (1 << 40) - 1, (1 << 40) - 2}
    for p in range(1, 40):
        for k in ((1 << p) - 1, 1 << p, int(math.sqrt(2) * (1 << p)) - 1, int(math.sqrt(2) * (1 << p)) + 1):
            radius_bits.add(k)
    rng = np.random.default_rng(4)
    radius_bits.update(int(k) for k in rng.integers(0, 1 << 40, 300))
    angle_bits = [0, 1, (1 << 21) - 1, (1 << 21) - 2, *(int(k) for k in rng.integers(0, 1 << 21, 40))]
    worst = 0.0
    for k in sorted(radius_bits):
        for fraction in angle_bits:
            for octant in range(8):
                bits = (k << 24) | (octant << 21) | fraction
                values = normal_pair(np.uint64(bits))
                for value, reference in zip(values, _reference_pair(bits)):
                    worst = max(worst, abs(value - reference) / abs(reference))
    assert worst < CLAIMED_RELATIVE_ERROR


def test_normals_in_a_large_sample_match_the_normal_distribution_and_its_tails():
    values = np.concatenate([standard_normals(21, step, 0, (1000, 1000)).ravel() for step in range(2)])
    assert stats.kstest(values, "norm").pvalue > 1e-3
    assert stats.anderson(values, method="interpolate").pvalue > 1e-3
    for threshold in (3.0, 4.0, 4.5):  # two-sided tail counts within 4 sigma of their Poisson spread
        expected = values.size * 2 * stats.norm.sf(threshold)
        assert abs(np.sum(np.abs(values) > threshold) - expected) < 4 * math.sqrt(expected) + 1
    # the two numbers of a pair (cells q and q + n/2 of a row) are uncorrelated, also in square
    rows = values.reshape(-1, 1000)
    first, second = rows[:, :500].ravel(), rows[:, 500:].ravel()
    limit = 4 / math.sqrt(first.size)
    assert abs(np.corrcoef(first, second)[0, 1]) < limit
    assert abs(np.corrcoef(first**2, second**2)[0, 1]) < limit


def test_species_drawing_together_are_standard_normal_and_independent():
    together = noise_normals(8, 1, (0, 1), (500, 600))
    limit = 4 / math.sqrt(together[0].size)
    for values in together:
        assert stats.kstest(values.ravel(), "norm").pvalue > 1e-3
    a, b = together[0].ravel(), together[1].ravel()
    assert abs(np.corrcoef(a, b)[0, 1]) < limit
    assert abs(np.corrcoef(a**2, b**2)[0, 1]) < limit  # independent, not only uncorrelated
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < limit  # neighbouring cells
    later = noise_normals(8, 2, (0, 1), (500, 600))  # the next step
    assert abs(np.corrcoef(a, later[0].ravel())[0, 1]) < limit
    assert abs(np.corrcoef(b, later[1].ravel())[0, 1]) < limit
