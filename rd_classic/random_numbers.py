"""Counter-based standard normal numbers: the value at (seed, step, stream, row, cell) is a pure function of them.

A noisy run draws one standard normal number per species, cell and step. Drawing them
from a sequential generator would tie the numbers to the order of the draws (threads,
blocks, a restart); here each is computed from its coordinates, so the stepper's kernel
makes them where it needs them (no array of numbers is written and read back), any cut
into threads gives the same bits, and a run resumed at step ``n`` draws exactly what the
uninterrupted run drew.

* **Keys.** :func:`stream_key` hashes ``(seed, step, stream)`` into a 64-bit key (a
  stream is a species); each row of the grid (a ``y`` row, or a row of a ``z`` plane,
  numbered ``k ny + i``) gets its own 64-bit starting point by hashing the key with the
  row number.
* **Bits.** Cell ``j`` of a row takes the ``j``-th output of a SplitMix64 sequence
  (G. Steele, D. Lea & C. Flood, OOPSLA 2014) from the row's starting point: the
  starting point plus ``(j + 1)`` times the golden-ratio increment, through the
  Stafford "Mix13" finaliser (:func:`mix64`). The sequence passes BigCrush; distinct
  rows start at independent random points of the 2⁶⁴ cycle.
* **Normals.** Marsaglia & Tsang's ziggurat (J. Stat. Softw. 5(8), 2000) with 256 layers
  and a 52-bit mantissa, as NumPy's ``standard_normal`` uses: 8 bits choose the layer, 1
  the sign, 52 the abscissa; about 99 % of the numbers cost one table look-up and one
  comparison. The rare rejections draw further numbers from a SplitMix64 sequence that
  starts at the cell's own bits, so they stay a function of the coordinates.

Everything is compiled by numba (``cache=True``); :func:`standard_normals` fills a NumPy
array with the same numbers (for the torch backend on the CPU and for tests).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import numpy as np
from numba import njit

__all__ = ["mix64", "stream_key", "stream_keys", "fill_normals", "standard_normals", "SIGNATURE"]

#: changes whenever this file changes: part of the cache key of the kernels that call it
SIGNATURE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_ROW_SALT = np.uint64(0xD1B54A32D192ED03)
_MASK52 = np.uint64((1 << 52) - 1)
_MASK64 = (1 << 64) - 1
_EIGHT, _NINE, _ELEVEN, _BYTE, _ONE = np.uint64(8), np.uint64(9), np.uint64(11), np.uint64(0xFF), np.uint64(1)
_TO_UNIT = 2.0**-53


def _ziggurat_tables(layers: int = 256, r: float = 3.6541528853610088, area: float = 0.00492867323399,
                     bits: int = 52) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """Marsaglia & Tsang's tables: acceptance thresholds ``k``, widths ``w``, heights ``f`` (``r``: the base layer's edge)."""
    scale = 2.0**bits
    k = np.zeros(layers, np.uint64)
    w = np.zeros(layers)
    f = np.zeros(layers)
    edge = previous = r
    q = area / math.exp(-0.5 * edge * edge)
    k[0] = np.uint64(edge / q * scale)
    w[0] = q / scale
    w[layers - 1] = edge / scale
    f[0] = 1.0
    f[layers - 1] = math.exp(-0.5 * edge * edge)
    for i in range(layers - 2, 0, -1):
        edge = math.sqrt(-2.0 * math.log(area / edge + math.exp(-0.5 * edge * edge)))
        k[i + 1] = np.uint64(edge / previous * scale)
        previous = edge
        f[i] = math.exp(-0.5 * edge * edge)
        w[i] = edge / scale
    return k, w, f


_K, _W, _F = _ziggurat_tables()
_R = 3.6541528853610088
_REJECTED = 2.0**100
_R_INVERSE = 1.0 / _R


@njit(inline="always")
def mix64(x):
    """Stafford's Mix13 finaliser of SplitMix64 (a bijection of 64-bit integers)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@njit(inline="always")
def _unit(bits):
    """A uniform number in [0, 1) from the top 53 bits."""
    return np.float64(bits >> _ELEVEN) * _TO_UNIT


@njit(cache=True)
def _normal_rejected(bits):
    """The ziggurat's slow path (about 1 % of the numbers): the wedges and the tail."""
    state = bits
    while True:
        layer = bits & _BYTE
        negative = (bits >> _EIGHT) & _ONE
        mantissa = (bits >> _NINE) & _MASK52
        x = np.float64(mantissa) * _W[layer]
        if negative:
            x = -x
        if mantissa < _K[layer]:
            return x
        if layer == 0:  # the tail beyond r (Marsaglia 1964)
            while True:
                state += GOLDEN
                tail = -_R_INVERSE * np.log1p(-_unit(mix64(state)))
                state += GOLDEN
                height = -np.log1p(-_unit(mix64(state)))
                if height + height > tail * tail:
                    return -(_R + tail) if negative else _R + tail
        state += GOLDEN
        if (_F[layer - 1] - _F[layer]) * _unit(mix64(state)) + _F[layer] < np.exp(-0.5 * x * x):
            return x
        state += GOLDEN
        bits = mix64(state)


@njit(cache=True)
def fill_normals(key, row, out):
    """``out[j]``: the standard normal number of cell ``j`` of row ``row`` of the stream ``key`` (a uint64).

    Two passes: the ziggurat's fast path for every cell, branch-free (it vectorises: the table
    look-ups become gathers), marking the ~1 % it rejects with :data:`_REJECTED` (2¹⁰⁰, exact in
    float32 and float64, never a value); then the slow path for those.
    """
    start = mix64(np.uint64(key) ^ mix64(np.uint64(row) + _ROW_SALT))
    for j in range(out.shape[0]):
        bits = mix64(start + np.uint64(j + 1) * GOLDEN)
        layer = bits & _BYTE
        mantissa = (bits >> _NINE) & _MASK52
        sign = 1.0 - np.float64(((bits >> _EIGHT) & _ONE) << _ONE)
        out[j] = np.float64(mantissa) * _W[layer] * sign if mantissa < _K[layer] else _REJECTED
    for j in range(out.shape[0]):
        if out[j] == _REJECTED:
            out[j] = _normal_rejected(mix64(start + np.uint64(j + 1) * GOLDEN))


@njit(cache=True)
def stream_keys(seed, step, streams, out):
    """``out[i]``: the 64-bit key of stream ``streams[i]`` (a species) at ``step`` of a run seeded with ``seed``."""
    key = mix64(mix64(np.uint64(seed)) + np.uint64(step) * GOLDEN)
    for i in range(streams.shape[0]):
        out[i] = mix64(key + np.uint64(streams[i] + 1) * _ROW_SALT)


def stream_key(seed: int, step: int, stream: int) -> np.uint64:
    """The 64-bit key of one stream (a species) at one step of a run seeded with ``seed``."""
    out = np.empty(1, np.uint64)
    stream_keys(np.uint64(int(seed) & _MASK64), np.uint64(int(step) & _MASK64), np.array([stream], np.int64), out)
    return out[0]


@njit(cache=True)
def _fill_rows(key, values):
    for row in range(values.shape[0]):
        fill_normals(key, row, values[row])


def standard_normals(seed: int, step: int, stream: int, shape: tuple[int, ...]) -> np.ndarray:
    """The numbers one stream draws on a grid of ``shape`` at one step (what the kernels draw), float64."""
    values = np.empty((int(np.prod(shape[:-1])), shape[-1]))
    _fill_rows(stream_key(seed, step, stream), values)
    return values.reshape(shape)
