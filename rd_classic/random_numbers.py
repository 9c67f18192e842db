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
* **Bits.** The bits of pair ``q`` of a row are the ``q``-th number of a SplitMix64
  sequence (G. Steele, D. Lea & C. Flood, OOPSLA 2014) from the row's starting point: the
  starting point plus ``(q + 1)`` times the golden-ratio increment, through the Stafford
  "Mix13" finaliser (:func:`mix64`). The sequence passes BigCrush; distinct rows start at
  independent random points of the 2⁶⁴ cycle. Each pair makes two normal numbers:
* **Which cells.** Species with noise draw two by two (:func:`noise_normals`): species
  ``2k`` and ``2k + 1`` of the noisy ones take, in cell ``j``, the two numbers of pair ``j``
  of the stream of species ``2k`` (:func:`fill_normal_pairs`; the kernels compute them in
  their loop over the row's cells). A species drawing alone (an unpaired last one, and
  :func:`standard_normals`) takes its row of ``n`` cells from ``h = ⌈n/2⌉`` pairs: pair
  ``q`` gives cells ``q`` and ``q + h`` (:func:`fill_normals`, into a row buffer).
* **Normals.** Box & Muller (Ann. Math. Stat. 29, 1958): a pair's numbers are ``r a`` and
  ``r b``, with ``r = √(−2 ln u)`` and ``(a, b)`` the cosine and sine of an angle uniform on
  the circle, independent standard normals. The high 40 bits ``k`` make ``u = (k + ½) 2⁻⁴⁰``
  (so ``0 < u < 1`` and ``r ≤ √(82 ln 2) = 7.54``: the exact radius exceeds that with
  probability 2⁻⁴¹ = 4.5·10⁻¹³); the low 24 bits make the angle: 21 bits an angle
  ``φ = (k' + ½) 2⁻²¹ π/4`` inside an octant (steps of 3.7·10⁻⁷), 3 bits the octant
  (whether ``a`` and ``b`` swap cosine and sine, and their two signs), so ``(a, b)`` is
  ``(cos φ, sin φ)`` carried onto one of the eight octants, each equally likely.
* **Arithmetic without library calls** (numba has no vector ``log``/``sin``/``cos`` without
  Intel's SVML; this compiles to a loop without branches or table look-ups that
  vectorises): ``ln u = e ln 2 + ln m`` from the float's exponent ``e`` and mantissa ``m``
  (taken into ``[√½, √2)`` by integer arithmetic on the float's bits, as musl's ``log``
  does), ``ln m = 2 artanh s = 2 (s + s³/3 + s⁵/5 + s⁷/7 + s⁹/9)``
  with ``s = (m − 1)/(m + 1)``, ``|s| ≤ 0.1716`` (Abramowitz & Stegun 4.1.27; the fdlibm
  ``log`` reduction); ``sin φ`` to ``φ⁹`` and ``cos φ`` to ``φ¹⁰`` by their Taylor
  polynomials on ``0 < φ < π/4``. The series' first terms left out bound every number's
  relative error against ``√(−2 ln u)`` times the exact cosine or sine of its ``φ`` by
  :data:`RELATIVE_ERROR` (4·10⁻⁹; tested against ``math.log``, ``math.cos`` and
  ``math.sin`` on the same bits).

Everything is compiled by numba (``cache=True``); :func:`noise_normals` fills NumPy arrays
with the numbers the kernels draw (for the torch backend on the CPU and for tests).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Sequence

import numpy as np
from numba import njit

__all__ = ["mix64", "row_start", "normal_radius", "unit_pair", "normal_pair", "stream_key", "stream_keys", "fill_normals", "fill_normal_pairs",
           "standard_normals", "noise_normals", "RELATIVE_ERROR", "SIGNATURE"]

#: changes whenever this file changes: part of the cache key of the kernels that call it
SIGNATURE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_ROW_SALT = np.uint64(0xD1B54A32D192ED03)
_MASK64 = (1 << 64) - 1
#: the 64 bits of a pair: the angle's fraction of an octant (bits 0-20), the octant (21: swap cosine and
#: sine, 22 and 23: the signs), the radius' uniform number (bits 24-63)
_FRACTION_BITS, _RADIUS_SHIFT = 21, np.uint64(24)
_FRACTION_MASK = np.uint64((1 << _FRACTION_BITS) - 1)
_SWAP = np.uint64(1 << 21)
#: the shifts that carry bits 22 and 23 (the signs) onto bit 63 (a float's sign bit)
_FIRST_SIGN_SHIFT, _SECOND_SIGN_SHIFT, _SIGN_BIT = np.uint64(63 - 22), np.uint64(63 - 23), np.uint64(1 << 63)
_OCTANT_STEP = math.pi / 4 * 2.0**-_FRACTION_BITS
_RADIUS_BITS = 40
#: the bits from 23 up as an integer, its lowest bit set: 2k + 1 for the radius bits k
_ODD_SHIFT, _ONE = np.uint64(_RADIUS_SHIFT - 1), np.uint64(1)
#: subtracted from the exponent e of 2k + 1 = m 2^e: 2u = (2k + 1) 2^-40, so ln u = (e - 41) ln 2 + ln m
_EXPONENT_OFFSET = np.int64(_RADIUS_BITS + 1)
_FIFTY_TWO = np.int64(52)
#: the bits of the float √½: x's bits minus these, shifted right by 52, are the e of x = m 2^e with m in [√½, √2)
_SQRT_HALF_BITS = np.int64(np.float64(math.sqrt(0.5)).view(np.int64))
_MINUS_TWO_LN2 = -2.0 * math.log(2.0)
#: -2 ln m = -4 artanh s = -4 Σ_k s^(2k+1)/(2k+1), |s| ≤ (√2 - 1)/(√2 + 1): the terms k = 0 … 4 as s times a
#: polynomial in z = s² (coefficients -4/(2k+1)); the terms left out sum to less than 2|s| z⁵/11/(1 - z), a relative
#: 2.1e-9 of ln u. (Folded into these constants at compile time; -2 scale² folded in at run time cost the
#: Milstein kernel 45 %.)
_R1, _R3, _R5, _R7, _R9 = -4.0, -4 / 3, -4 / 5, -4 / 7, -4 / 9
#: Taylor coefficients of sin φ (to φ⁹) and cos φ (to φ¹⁰) on 0 < φ < π/4; the first terms left out bound the
#: errors by (π/4)¹¹/11! = 1.8e-9 (relative 2.5e-9) and (π/4)¹²/12! = 1.2e-10 (relative 1.7e-10)
_S3, _S5, _S7, _S9 = -1 / 6, 1 / 120, -1 / 5040, 1 / 362880
_C2, _C4, _C6, _C8, _C10 = -1 / 2, 1 / 24, -1 / 720, 1 / 40320, -1 / 3628800
#: a bound on every number's relative error against √(-2 ln u) cos θ (or sin θ) of its u and θ: half the
#: logarithm's (the square root), plus the sine's, plus rounding
RELATIVE_ERROR = 4e-9


@njit(inline="always")
def mix64(x):
    """Stafford's Mix13 finaliser of SplitMix64 (a bijection of 64-bit integers)."""
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


@njit(inline="always")
def row_start(key, row):
    """The SplitMix64 starting point of row ``row`` of the stream ``key``."""
    return mix64(np.uint64(key) ^ mix64(np.uint64(row) + _ROW_SALT))


@njit(inline="always")
def normal_radius(bits, scale=1.0):
    """``scale √(−2 ln u)``: the radius of a pair's 64 bits, ``u = (k + ½) 2⁻⁴⁰`` from their high 40 bits ``k``.

    ``2u 2⁴⁰ = 2k + 1 = m 2^e`` with ``m`` in ``[√½, √2)`` (converted at once, taken apart by integer arithmetic
    on the float's bits), so ``ln u = (e − 41) ln 2 + ln m``; the series by Estrin's scheme with compile-time
    coefficients.
    """
    odd_bits = np.float64((bits >> _ODD_SHIFT) | _ONE).view(np.int64)
    exponent = (odd_bits - _SQRT_HALF_BITS) >> _FIFTY_TWO
    m = np.int64(odd_bits - (exponent << _FIFTY_TWO)).view(np.float64)
    s = (m - 1.0) / (m + 1.0)
    z = s * s
    z2 = z * z
    series = (_R1 + _R3 * z) + z2 * ((_R5 + _R7 * z) + _R9 * z2)
    return np.sqrt(np.float64(exponent - _EXPONENT_OFFSET) * _MINUS_TWO_LN2 + s * series) * scale


@njit(inline="always")
def unit_pair(bits):
    """The cosine and sine of a pair's angle, from its low 24 bits: ``(cos φ, sin φ)`` carried onto an octant.

    ``φ`` in ``(0, π/4)`` from bits 0-20; bit 21 swaps the cosine and the sine, bits 22 and 23 are the two
    numbers' signs (moved onto their sign bits: no compare or select waits on the polynomials).
    """
    phi = np.float64(bits & _FRACTION_MASK) * _OCTANT_STEP + 0.5 * _OCTANT_STEP
    phi2 = phi * phi
    sine = phi + phi * phi2 * (((_S9 * phi2 + _S7) * phi2 + _S5) * phi2 + _S3)
    cosine = 1.0 + phi2 * ((((_C10 * phi2 + _C8) * phi2 + _C6) * phi2 + _C4) * phi2 + _C2)
    swap = (bits & _SWAP) != 0
    first = sine if swap else cosine
    second = cosine if swap else sine
    first = np.uint64(np.float64(first).view(np.uint64) ^ ((bits << _FIRST_SIGN_SHIFT) & _SIGN_BIT)).view(np.float64)
    second = np.uint64(np.float64(second).view(np.uint64) ^ ((bits << _SECOND_SIGN_SHIFT) & _SIGN_BIT)).view(np.float64)
    return first, second


@njit(inline="always")
def normal_pair(bits, scale=1.0):
    """``scale`` times the two standard normal numbers of a pair's 64 bits (Box-Muller; see the module docstring).

    :func:`normal_radius` times :func:`unit_pair`: the radius and the angle wait only on the bits, so the
    kernels' cell loops (which wait on this) see two short chains side by side.
    """
    radius = normal_radius(bits, scale)
    first, second = unit_pair(bits)
    return radius * first, radius * second


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def fill_normals(key, row, scale, out):
    """``out[j]``: ``scale`` times the standard normal number of cell ``j`` of row ``row`` of the stream ``key``.

    ``key`` is a uint64 (:func:`stream_keys`); the noisy kernels pass their increment's scale ``√(dt/dx^d)``
    so that a row holds the increments ``ΔW`` (one multiplication per pair, none per cell). Pair
    ``q = 0 … h - 1`` (``h = ⌈n/2⌉``) fills cells ``q`` and ``q + h`` (the last pair only cell ``h - 1`` if ``n``
    is odd), in one loop without branches that vectorises (eight pairs per AVX-512 iteration).
    """
    start = row_start(key, row)
    factor = np.float64(scale)
    n = out.shape[0]
    half = (n + 1) // 2
    first = out[:half]  # two views: stores the vectoriser can tell apart
    second = out[half:]
    counter = start
    for q in range(n // 2):
        counter += GOLDEN
        a, b = normal_pair(mix64(counter), factor)
        first[q] = a
        second[q] = b
    if n % 2:
        first[half - 1] = normal_pair(mix64(start + np.uint64(half) * GOLDEN), factor)[0]


@njit(cache=True, error_model="numpy", fastmath={"contract"})
def fill_normal_pairs(key, row, scale, first, second):
    """``first[j]``, ``second[j]``: ``scale`` times the two numbers of pair ``j`` of row ``row`` of the stream ``key``.

    The layout of two species drawing together (cell ``j`` of both from pair ``j``), what the noisy kernels
    compute inside their loop over the row's cells.
    """
    counter = row_start(key, row)
    factor = np.float64(scale)
    for j in range(first.shape[0]):
        counter += GOLDEN  # start + (j + 1) GOLDEN
        first[j], second[j] = normal_pair(mix64(counter), factor)


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
        fill_normals(key, row, 1.0, values[row])


@njit(cache=True)
def _fill_pair_rows(key, first, second):
    for row in range(first.shape[0]):
        fill_normal_pairs(key, row, 1.0, first[row], second[row])


def standard_normals(seed: int, step: int, stream: int, shape: tuple[int, ...]) -> np.ndarray:
    """The numbers one stream draws on a grid of ``shape`` at one step, row by row (:func:`fill_normals`), float64."""
    values = np.empty((int(np.prod(shape[:-1])), shape[-1]))
    _fill_rows(stream_key(seed, step, stream), values)
    return values.reshape(shape)


def noise_normals(seed: int, step: int, species: Sequence[int], shape: tuple[int, ...]) -> np.ndarray:
    """The numbers the noisy kernels draw at one step for the noisy ``species`` (in order), ``(len(species), *shape)``.

    Species ``2k`` and ``2k + 1`` of the list draw together from the stream of species ``2k``
    (:func:`fill_normal_pairs`); an unpaired last one draws alone from its own (:func:`standard_normals`).
    """
    count = len(species)
    values = np.empty((count, int(np.prod(shape[:-1])), shape[-1]))
    for slot in range(0, count - 1, 2):
        _fill_pair_rows(stream_key(seed, step, species[slot]), values[slot], values[slot + 1])
    if count % 2:
        _fill_rows(stream_key(seed, step, species[-1]), values[-1])
    return values.reshape((count, *shape))
