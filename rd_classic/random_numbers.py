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
* **Bits.** Output ``q`` of a row is the ``q``-th number of a SplitMix64 sequence
  (G. Steele, D. Lea & C. Flood, OOPSLA 2014) from the row's starting point: the
  starting point plus ``(q + 1)`` times the golden-ratio increment, through the
  Stafford "Mix13" finaliser (:func:`mix64`). Its low 32 bits belong to cell ``2q`` of
  the row, its high 32 bits to cell ``2q + 1``: one 64-bit hash, two numbers. The
  sequence passes BigCrush; distinct rows start at independent random points of the
  2⁶⁴ cycle.
* **Normals.** Marsaglia & Tsang's ziggurat (J. Stat. Softw. 5(8), 2000) with 1024 layers
  on a cell's 32 bits: 10 bits choose the layer, 1 the sign, 21 the abscissa. Precision:
  a number is a multiple of ``2⁻²¹`` of its layer's width (steps of about ``2·10⁻⁶`` at
  ``|x| = 3``, ``4·10⁻⁷`` near 0), and a layer's width is stored in float32 beside its
  acceptance threshold, so the fast path reads one 64-bit table entry (8 KiB in all): the
  density is the normal's to a relative ``10⁻⁷`` (the float32 rounding of the widths), far
  below what any ensemble resolves. About 99.6 % of the numbers cost that one look-up and
  one comparison, in a loop without branches that vectorises. The rare rejections draw
  further numbers from a SplitMix64 sequence that starts at the cell's own 64 bits (offset
  by the half it took), so they stay a function of the coordinates.

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
_MASK64 = (1 << 64) - 1
_ELEVEN, _ONE = np.uint64(11), np.uint64(1)
#: a cell's 32 bits: the layer (low _LAYER_BITS bits), the sign (the next bit), the abscissa (the rest)
_LAYER_BITS = 10
_LAYER_MASK, _SIGN_SHIFT, _ABSCISSA_SHIFT = np.uint64((1 << _LAYER_BITS) - 1), np.uint64(_LAYER_BITS), np.uint64(_LAYER_BITS + 1)
_TO_UNIT = 2.0**-53


def _ziggurat_tables(layers: int, r: float, area: float, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


_ABSCISSA_BITS = 32 - _LAYER_BITS - 1
#: the base layer's edge r and the layers' common area v of a 1024-layer ziggurat (f(x) = exp(-x²/2)), solved
#: so that the recursion x_{i-1} = f⁻¹(v / x_i + f(x_i)) from x_{1023} = r ends at f(0) = 1
_R = 4.038849846109505
_AREA = 0.0012263246463530852
_K, _W, _F = _ziggurat_tables(1 << _LAYER_BITS, _R, _AREA, _ABSCISSA_BITS)
#: the fast path's table: a layer's acceptance threshold (high 32 bits) and its width in float32 (low 32 bits)
_TABLE = (_K << np.uint64(32)) | np.frombuffer(_W.astype(np.float32).tobytes(), np.uint32).astype(np.uint64)
_W = _W.astype(np.float32).astype(np.float64)  # the widths the fast path uses, for the slow path
_REJECTED = 2.0**100
_R_INVERSE = 1.0 / _R
_LOW32 = np.uint64(0xFFFFFFFF)
_THIRTY_TWO = np.uint64(32)


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


@njit(inline="always")
def _half(bits, half):
    """The 32 bits of one of the two cells an output serves: the low half (``half`` 0) or the high half."""
    return (bits >> _THIRTY_TWO) if half else (bits & _LOW32)


@njit(inline="always")
def _fast_normal(word):
    """The ziggurat's fast path on a cell's 32 bits: the number, or :data:`_REJECTED` (branch-free)."""
    entry = _TABLE[word & _LAYER_MASK]
    mantissa = word >> _ABSCISSA_SHIFT
    width = np.float64(np.uint32(entry & _LOW32).view(np.float32))
    sign = 1.0 - np.float64(((word >> _SIGN_SHIFT) & _ONE) << _ONE)
    return np.float64(mantissa) * width * sign if mantissa < (entry >> _THIRTY_TWO) else _REJECTED


@njit(cache=True)
def _normal_rejected(word, state):
    """The ziggurat's slow path (about 0.4 % of the numbers): the wedges and the tail.

    ``word``: the cell's 32 bits (in a uint64); ``state``: where its own SplitMix64 sequence starts.
    """
    while True:
        layer = word & _LAYER_MASK
        negative = (word >> _SIGN_SHIFT) & _ONE
        mantissa = word >> _ABSCISSA_SHIFT
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
        word = mix64(state) >> _THIRTY_TWO


@njit(cache=True)
def _fast_pass(start, out):
    """The fast path of every cell of a row, two cells per 64-bit hash; rejected cells get :data:`_REJECTED`."""
    n = out.shape[0]
    for q in range(n // 2):
        bits = mix64(start + np.uint64(q + 1) * GOLDEN)
        out[2 * q] = _fast_normal(_half(bits, 0))
        out[2 * q + 1] = _fast_normal(_half(bits, 1))
    if n % 2:
        out[n - 1] = _fast_normal(_half(mix64(start + np.uint64(n // 2 + 1) * GOLDEN), 0))


@njit(cache=True)
def _slow_pass(start, out):
    """The slow path of the cells the fast path rejected."""
    for j in range(out.shape[0]):
        if out[j] == _REJECTED:
            bits = mix64(start + np.uint64(j // 2 + 1) * GOLDEN)
            half = j % 2
            out[j] = _normal_rejected(_half(bits, half), bits + np.uint64(half + 1) * _ROW_SALT)


@njit(cache=True)
def fill_normals(key, row, out):
    """``out[j]``: the standard normal number of cell ``j`` of row ``row`` of the stream ``key`` (a uint64).

    Two passes (two functions: compiled apart, each loop is optimised on its own, 15 % faster than
    one function): the ziggurat's fast path for every cell, branch-free (it vectorises: the table
    look-up becomes a gather), two cells per 64-bit hash, marking the ~0.4 % it rejects with
    :data:`_REJECTED` (2¹⁰⁰, exact in float32 and float64, never a value); then the slow path for those.
    """
    start = mix64(np.uint64(key) ^ mix64(np.uint64(row) + _ROW_SALT))
    _fast_pass(start, out)
    _slow_pass(start, out)


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
