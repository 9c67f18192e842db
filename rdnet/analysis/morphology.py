"""Morphology of a pattern: Minkowski functionals, connected components, stripe order and defects.

A field is cut at a threshold ``t`` into two phases: the **high phase** ``{f > t}`` (the
excursion set) and the **low phase** ``{f ≤ t}``. On the periodic grid (the simulators'
grids) everything below wraps around the edges: a shape cut by an edge is one shape.

Minkowski functionals of the high phase, as densities (per unit area of the domain; per
unit length in 1-D, per unit volume in 3-D):

===========================  =========================  ============================  ========================
key                          1-D                        2-D                           3-D
===========================  =========================  ============================  ========================
``area_fraction``            length fraction            area fraction                 volume fraction
``boundary_length``          end points per length      boundary length per area      surface area per volume
``mean_curvature``           NaN                        NaN                           ∫ (κ₁+κ₂)/2 dS per volume
``euler_characteristic``     intervals per length       χ per area                    χ per volume
===========================  =========================  ============================  ========================

How each is computed (the pixels are the cells of the grid, spacing ``dx``, ``dy``, ``dz``):

* **area** — the fraction of cells above the threshold;
* **boundary length / surface area** — Crofton's formula: the number of phase changes
  between neighbouring cells along each lattice direction (4 directions in 2-D, 13 in 3-D,
  the periodic wrap included) per unit line length ``P_L``, averaged over the directions
  with the weight of each one's share of the circle (sphere) of directions, then
  ``L_A = (π/2) P_L`` in 2-D and ``S_V = 2 P_L`` in 3-D; exact in expectation for shapes
  placed at random (a disc gives ``2πr``, a sphere ``4πr²``);
* **Euler characteristic** — :func:`skimage.measure.euler_number` (8-connected high phase
  in 2-D, 26-connected in 3-D, so the low phase is 4-/6-connected), made periodic: the
  count is additive over the 2ᵈ-cell windows, so the number on an image tiled ``a × b``
  times is ``ab·χ + a·α + b·β + γ`` and ``χ = S(2,2) − S(1,2) − S(2,1) + S(1,1)`` is the
  torus's Euler characteristic exactly (the same mixed difference over ``{1, 2}³`` in 3-D);
  a disc has χ = 1, an annulus 0, a stripe around the torus 0;
* **integrated mean curvature** (3-D) — ``M_V = 2π χ_A`` (Crofton), with ``χ_A`` the
  Euler characteristic per unit area of the planar sections along the three axes;
* **components** — :func:`skimage.measure.label`, whose labels are merged across the
  periodic edges (a graph of the labels that touch across an edge,
  :func:`scipy.sparse.csgraph.connected_components`); sizes in physical units (area,
  length or volume);
* **orientation order** — the nematic order of the gradient directions within a window:
  the structure tensor ``J = G_σ * (∇f ∇fᵀ)`` (:func:`skimage.feature.structure_tensor`,
  periodic) with ``σ`` half the pattern's characteristic length, and
  ``S = Σ (d·λ_max − tr J) / ((d − 1) Σ tr J)`` over the grid (``d`` the dimension):
  1 for straight stripes (and for a labyrinth whose stripes bend slowly), near 0 for
  spots, holes and noise; the **stripe fraction** is the share of the grid where the
  local order ``(d·λ_max − tr J) / ((d − 1) tr J)`` exceeds ``STRIPE_LOCAL_ORDER`` (1/2):
  near 1 for stripes and labyrinths, near 0 for spots and holes, between for a mixture;
* **defects** — the ends and junctions of the stripes: the skeleton
  (:func:`skimage.morphology.skeletonize`, on the grid padded periodically) of the
  minority phase (the thinner one), its cells with one neighbour (ends) and its clusters of
  cells with three or more (junctions). 2-D only.

The **characteristic length** (the window of the orientation order) is ``1/k̄`` with
``k̄ = Σ |k| P(k) / Σ P(k)`` the power-weighted mean wavenumber: the wavelength of a
plane wave.

Expected curves for a Gaussian random field (Tomita 1986; Adler 1981), with ``ν`` the
threshold in standard deviations and ``λ₂ = ⟨(∂ₓf)²⟩`` (``σ²`` the variance):
``a(ν) = ½ erfc(ν/√2)``, ``L_A(ν) = ½ √(λ₂)/σ · e^{−ν²/2}``,
``χ_A(ν) = λ₂/σ² · (2π)^{−3/2} ν e^{−ν²/2}``.
"""

from __future__ import annotations

import functools
import itertools
import math
import numbers
from typing import Any, Iterable, Sequence

import numpy as np
import xarray as xr

from rdnet.analysis.fields import DEPTH_DIM, _apply, _check_finite, _check_flag, _Field, _FieldInfo, _prepare
from rdnet.analysis.metric_names import MORPHOLOGY_DETAIL_KEYS, extent_ndim, metric_units

__all__ = [
    "THRESHOLDS",
    "morphology_metrics",
    "minkowski_curves",
    "component_sizes",
    "periodic_label",
    "orientation_order",
]

#: Named thresholds: the spatial mean (default), the median, Otsu's threshold.
THRESHOLDS = ("mean", "median", "otsu")
#: A point belongs to a stripe when its local nematic order exceeds this (``stripe_fraction``).
STRIPE_LOCAL_ORDER = 0.5


# --------------------------------------------------------------------------- a field's geometry


def _prepare_spatial(
    field: _Field,
    *,
    ndim: int | None,
    dx: float | None,
    dy: float | None,
    dz: float | None,
    component_dims: Iterable[str] | None,
) -> _FieldInfo:
    """Wrap a field as :func:`~rdnet.analysis.fields._prepare` does; ``ndim=3`` makes a numpy
    array's last three axes ``(z, y, x)``, and a given ``ndim`` must match the field's."""
    if ndim not in (None, 2, 3):
        raise ValueError(f"ndim must be 2 or 3 (the spatial dims of the field); got {ndim!r}")
    if ndim == 3 and not isinstance(field, (xr.DataArray, xr.Dataset)):
        array = field if hasattr(field, "ndim") and hasattr(field, "shape") else np.asarray(field)
        if array.ndim < 3:
            raise ValueError(f"a 3-D field needs at least three dims (z, y, x); got shape {tuple(array.shape)}")
        field = xr.DataArray(array, dims=[f"dim_{i}" for i in range(array.ndim - 3)] + [DEPTH_DIM, "y", "x"])
        component_dims = () if component_dims is None else component_dims
    info = _prepare(field, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    if ndim is not None and len(info.spatial_dims) != ndim:
        raise ValueError(f"ndim={ndim} but the field's spatial dims are {info.spatial_dims}")
    return info


def _squeeze_line(values: np.ndarray, spacings: tuple[float, ...]) -> tuple[np.ndarray, tuple[float, ...]]:
    """Drop one-point axes (a 1-D field stored as ``(1, nx)``); keep at least one axis."""
    keep = [axis for axis, n in enumerate(values.shape) if n > 1] or [values.ndim - 1]
    return values.reshape([values.shape[axis] for axis in keep]), tuple(spacings[axis] for axis in keep)


def _scalar_of(values: np.ndarray) -> np.ndarray:
    """One scalar field from ``(components, *spatial)``: itself, or the norm over components."""
    if values.shape[0] == 1:
        return values[0]
    return np.sqrt(np.sum(values**2, axis=0))


def _resolve_threshold(field: np.ndarray, threshold: float | str) -> float:
    if isinstance(threshold, str):
        if threshold == "mean":
            return float(field.mean())
        if threshold == "median":
            return float(np.median(field))
        if threshold == "otsu":
            from skimage.filters import threshold_otsu

            return float(threshold_otsu(field)) if np.ptp(field) > 0 else float(field.mean())
        raise ValueError(f"unknown threshold {threshold!r}; valid: a number or one of {', '.join(THRESHOLDS)}")
    is_number = isinstance(threshold, numbers.Real) and not isinstance(threshold, (bool, np.bool_))
    value = float(threshold) if is_number else math.nan
    if not math.isfinite(value):
        raise ValueError(f"threshold must be a finite number or one of {', '.join(THRESHOLDS)}; got {threshold!r}")
    return value


# --------------------------------------------------------------------------- Euler characteristic and labels


def _euler_number(binary: np.ndarray, periodic: bool = True) -> int:
    """Euler characteristic of a binary image on the torus (full connectivity of the ones).

    :func:`skimage.measure.euler_number` sums a weight over every 2ᵈ-cell window of the
    zero-padded image; on an image tiled ``r₁ × … × r_d`` times that sum is multilinear in
    the ``rᵢ``, and its ``r₁⋯r_d`` coefficient, the mixed difference over ``{1, 2}ᵈ``, is
    the sum over the torus's windows: its Euler characteristic.
    """
    from skimage.measure import euler_number

    if binary.ndim == 1:  # the number of runs of ones (on the ring a full ring is a circle, χ = 0)
        before = np.roll(binary, 1) if periodic else np.concatenate([[False], binary[:-1]])
        return int(np.count_nonzero(binary & ~before))
    if not binary.any():
        return 0
    if not periodic:
        return int(euler_number(binary, connectivity=binary.ndim))
    total = 0
    for repeats in itertools.product((1, 2), repeat=binary.ndim):
        sign = (-1) ** sum(2 - r for r in repeats)
        total += sign * int(euler_number(np.tile(binary, repeats), connectivity=binary.ndim))
    return total


def periodic_label(binary: np.ndarray, *, connectivity: int | None = None, periodic: bool = True) -> tuple[np.ndarray, int]:
    """Label the connected components of a binary image on the periodic grid.

    :func:`skimage.measure.label`, then the labels that touch across an edge (with the
    same connectivity, corners included) are merged, so a shape cut by the edge is one
    component.

    Parameters
    ----------
    binary
        Boolean array, 1-D to 3-D.
    connectivity
        As in :func:`skimage.measure.label`: the most axes one step may change along
        (1: 4-/6-neighbours; ``ndim`` (default): 8-/26-neighbours).
    periodic
        Merge across the edges (default); ``False`` is plain :func:`skimage.measure.label`.

    Returns
    -------
    (numpy.ndarray, int)
        Labels ``1..n`` (0 where ``binary`` is False) and ``n``.

    Examples
    --------
    >>> import numpy as np
    >>> band = np.zeros((6, 6), dtype=bool); band[0, :] = band[-1, :] = True
    >>> periodic_label(band)[1]  # the top and bottom rows are one band on the torus
    1
    """
    periodic = _check_flag("periodic", periodic)
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components
    from skimage.measure import label

    binary = np.asarray(binary, dtype=bool)
    connectivity = binary.ndim if connectivity is None else int(connectivity)
    if not 1 <= connectivity <= binary.ndim:
        raise ValueError(f"connectivity must be between 1 and {binary.ndim}; got {connectivity}")
    source = binary[None, :] if binary.ndim == 1 else binary
    labels, count = label(source, connectivity=min(connectivity, source.ndim), return_num=True)
    labels = labels.reshape(binary.shape)
    if count == 0 or not periodic:
        return labels, int(count)
    left, right = [], []
    for axis in range(binary.ndim):
        last, first = np.take(labels, -1, axis=axis), np.take(labels, 0, axis=axis)
        others = tuple(range(binary.ndim - 1))
        for shift in itertools.product((-1, 0, 1), repeat=binary.ndim - 1):
            if 1 + sum(s != 0 for s in shift) > connectivity:
                continue
            moved = np.roll(first, shift, axis=others) if others else first
            touching = (last > 0) & (moved > 0)
            left.append(last[touching])
            right.append(moved[touching])
    a, b = np.concatenate(left), np.concatenate(right)
    graph = coo_matrix((np.ones(a.size), (a, b)), shape=(count + 1, count + 1))
    _, merged = connected_components(graph, directed=False)
    # renumber: background stays 0, components 1..n in order of first appearance
    roots = merged[1:]
    _, renumbered = np.unique(roots, return_inverse=True)
    lookup = np.concatenate([[0], renumbered + 1])
    return lookup[labels], int(renumbered.max()) + 1


def _component_sizes(binary: np.ndarray, connectivity: int, cell_volume: float, periodic: bool = True) -> np.ndarray:
    labels, count = periodic_label(binary, connectivity=connectivity, periodic=periodic)
    return np.bincount(labels.ravel(), minlength=count + 1)[1:] * cell_volume


# --------------------------------------------------------------------------- boundary length and surface area


@functools.lru_cache(maxsize=32)
def _crofton_directions(spacings: tuple[float, ...]) -> tuple[tuple[tuple[int, ...], ...], np.ndarray, np.ndarray]:
    """Lattice directions (one of each ± pair), their step lengths and Crofton weights.

    The weight of a direction is the share of the circle (2-D) or sphere (3-D) of
    directions closer to it (or to its opposite) than to any other lattice direction.
    """
    ndim = len(spacings)
    steps = [s for s in itertools.product((-1, 0, 1), repeat=ndim) if any(s)]
    half = [s for s in steps if s[next(i for i, c in enumerate(s) if c)] > 0]
    vectors = np.array([np.multiply(s, spacings) for s in half], dtype=float)
    lengths = np.linalg.norm(vectors, axis=1)
    if ndim == 1:
        weights = np.ones(1)
    elif ndim == 2:
        angles = np.mod(np.arctan2(vectors[:, 0], vectors[:, 1]), np.pi)
        order = np.argsort(angles)
        sorted_angles = angles[order]
        gaps = np.diff(np.concatenate([sorted_angles, [sorted_angles[0] + np.pi]]))
        shares = 0.5 * (gaps + np.roll(gaps, 1)) / np.pi
        weights = np.empty_like(shares)
        weights[order] = shares
    else:
        from scipy.spatial import SphericalVoronoi

        units = vectors / lengths[:, None]
        voronoi = SphericalVoronoi(np.concatenate([units, -units]))
        areas = voronoi.calculate_areas() / (4 * np.pi)
        weights = areas[: len(half)] + areas[len(half) :]
    return tuple(half), lengths, weights


def _boundary_density(binary: np.ndarray, spacings: tuple[float, ...], periodic: bool = True) -> float:
    """Boundary measure per unit domain measure (points per length, length per area, area per volume).

    On a bounded grid only the pairs of cells inside it are looked at (the edge is no boundary).
    """
    directions, lengths, weights = _crofton_directions(spacings)
    per_length = 0.0
    for step, length, weight in zip(directions, lengths, weights):
        if periodic:
            first, second = binary, np.roll(binary, tuple(-s for s in step), axis=tuple(range(binary.ndim)))
        else:
            first = binary[tuple(slice(max(0, -s), n - max(0, s)) for s, n in zip(step, binary.shape))]
            second = binary[tuple(slice(max(0, s), n - max(0, -s)) for s, n in zip(step, binary.shape))]
        if first.size:
            per_length += weight * np.count_nonzero(first != second) / (first.size * length)
    factor = {1: 1.0, 2: math.pi / 2, 3: 2.0}[binary.ndim]
    return factor * per_length


def _mean_curvature_density(binary: np.ndarray, spacings: tuple[float, ...], periodic: bool = True) -> float:
    """3-D: integrated mean curvature per volume, ``2π`` times the sections' Euler characteristic per area."""
    volume = binary.size * float(np.prod(spacings))
    total = 0.0
    for axis in range(3):
        euler = sum(_euler_number(np.take(binary, i, axis=axis), periodic) for i in range(binary.shape[axis]))
        total += euler * spacings[axis] / volume
    return 2 * math.pi * total / 3


# --------------------------------------------------------------------------- order and defects


def _characteristic_length(field: np.ndarray, spacings: tuple[float, ...]) -> float:
    """``1/k̄``, ``k̄`` the power-weighted mean wavenumber (cycles per length); NaN for a constant field."""
    power = np.abs(np.fft.fftn(field - field.mean())) ** 2
    grids = np.meshgrid(*[np.fft.fftfreq(n, d=d) for n, d in zip(field.shape, spacings)], indexing="ij")
    wavenumber = np.sqrt(sum(k**2 for k in grids))
    total = power.sum()
    if not total > 0:
        return math.nan
    return float(total / np.sum(power * wavenumber))


def _orientation_order(field: np.ndarray, spacings: tuple[float, ...], window: float | None, periodic: bool = True) -> tuple[float, float]:
    """(energy-weighted mean local nematic order, share of the grid whose local order exceeds 1/2)."""
    from skimage.feature import structure_tensor

    ndim = field.ndim
    if ndim < 2 or np.ptp(field) == 0:
        return math.nan, math.nan
    length = _characteristic_length(field, spacings) if window is None else float(window)
    sigma = tuple(max(0.5 * length / d, 0.5) for d in spacings)
    elements = structure_tensor(field, sigma=sigma, mode="wrap" if periodic else "reflect", order="rc")
    pairs = list(itertools.combinations_with_replacement(range(ndim), 2))
    tensor = np.empty(field.shape + (ndim, ndim))
    for (i, j), element in zip(pairs, elements):
        scaled = element / (spacings[i] * spacings[j])  # derivatives per length, not per cell
        tensor[..., i, j] = scaled
        tensor[..., j, i] = scaled
    largest = np.linalg.eigvalsh(tensor)[..., -1]
    trace = np.trace(tensor, axis1=-2, axis2=-1)
    total = trace.sum()
    if not total > 0:
        return math.nan, math.nan
    order = np.sum(ndim * largest - trace) / ((ndim - 1) * total)
    with np.errstate(divide="ignore", invalid="ignore"):
        local = (ndim * largest - trace) / ((ndim - 1) * trace)
    stripe_fraction = np.count_nonzero(local > STRIPE_LOCAL_ORDER) / local.size
    return float(np.clip(order, 0.0, 1.0)), float(stripe_fraction)


def _stripe_defects(minority: np.ndarray, pad: int, periodic: bool = True) -> tuple[int, int]:
    """Ends and junctions of the skeleton of a 2-D binary phase (on the torus when periodic)."""
    from skimage.morphology import skeletonize

    if minority.ndim != 2 or not minority.any() or minority.all():
        return 0, 0
    ny, nx = minority.shape
    pad_y, pad_x = min(pad, ny), min(pad, nx)
    if periodic:
        padded = np.pad(minority, ((pad_y, pad_y), (pad_x, pad_x)), mode="wrap")
        skeleton = skeletonize(padded)[pad_y : pad_y + ny, pad_x : pad_x + nx]
        ring = skeleton
    else:
        skeleton = skeletonize(minority)
        ring = np.pad(skeleton, 1)  # no neighbours beyond the edge
    neighbours = sum(
        np.roll(ring, (sy, sx), axis=(0, 1)).astype(np.int8)
        for sy, sx in itertools.product((-1, 0, 1), repeat=2)
        if (sy, sx) != (0, 0)
    )
    if not periodic:
        neighbours = neighbours[1:-1, 1:-1]
    ends = int(np.count_nonzero(skeleton & (neighbours == 1)))
    _, junctions = periodic_label(skeleton & (neighbours >= 3), periodic=periodic)
    return ends, junctions


# --------------------------------------------------------------------------- the kernel


def _morphology_of(field: np.ndarray, spacings: tuple[float, ...], threshold: float | str, window: float | None,
                   periodic: bool = True) -> dict[str, float]:  # fmt: skip
    """Every morphology number of one scalar field (any of 1-D, 2-D, 3-D after squeezing)."""
    field, spacings = _squeeze_line(field, spacings)
    ndim = field.ndim
    level = _resolve_threshold(field, threshold)
    high = field > level
    cell = float(np.prod(spacings))
    domain = field.size * cell
    euler = _euler_number(high, periodic)
    sizes_high = _component_sizes(high, ndim, cell, periodic)
    sizes_low = _component_sizes(~high, 1, cell, periodic)
    area_fraction = float(np.count_nonzero(high)) / field.size
    result = {
        "threshold": level,
        "area_fraction": area_fraction,
        "boundary_length": _boundary_density(high, spacings, periodic),
        "mean_curvature": _mean_curvature_density(high, spacings, periodic) if ndim == 3 else math.nan,
        "euler_characteristic": euler / domain,
        "euler_number": float(euler),
        "components": float(sizes_high.size),
        "components_low": float(sizes_low.size),
        "mean_component_size": float(sizes_high.mean()) if sizes_high.size else math.nan,
        "mean_component_size_low": float(sizes_low.mean()) if sizes_low.size else math.nan,
        "orientation_order": math.nan,
        "stripe_fraction": math.nan,
        "stripe_ends": math.nan,
        "stripe_junctions": math.nan,
        "defects": math.nan,
    }
    if ndim >= 2 and np.ptp(field) > 0:
        result["orientation_order"], result["stripe_fraction"] = _orientation_order(field, spacings, window, periodic)
    if ndim == 2 and np.ptp(field) > 0:
        length = _characteristic_length(field, spacings)
        pad = max(4, int(math.ceil(length / min(spacings)))) if math.isfinite(length) else 4
        minority = high if area_fraction <= 0.5 else ~high
        ends, junctions = _stripe_defects(minority, pad, periodic)
        result.update(stripe_ends=float(ends), stripe_junctions=float(junctions), defects=float(ends + junctions))
    return result


def _morphology_kernel(values: np.ndarray, spacings: tuple[float, ...], threshold: float | str, window: float | None,
                       periodic: bool) -> np.ndarray:  # fmt: skip
    """``(batch, components, *spatial)`` -> ``(batch, len(MORPHOLOGY_DETAIL_KEYS))``."""
    _check_finite(values)
    out = np.empty((values.shape[0], len(MORPHOLOGY_DETAIL_KEYS)))
    for b in range(values.shape[0]):
        numbers = _morphology_of(_scalar_of(values[b]), spacings, threshold, window, periodic)
        out[b] = [numbers[key] for key in MORPHOLOGY_DETAIL_KEYS]
    return out


def morphology_metrics(
    field: _Field,
    *,
    threshold: float | str = "mean",
    window: float | None = None,
    periodic: bool = True,
    ndim: int | None = None,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Minkowski functionals, components, orientation order and defects at one threshold.

    The field is cut at ``threshold`` into the high phase ``{f > t}`` and the low phase;
    the grid is periodic (see the module's description for every formula).

    Parameters
    ----------
    field
        Array or DataArray with last dims ``(y, x)`` (``(z, y, x)`` for a 3-D field: a
        DataArray whose third-last dim is ``z``, or ``ndim=3``). A 1-D field has one
        point along y (or x). A field with component dims (a network's vector-valued
        neuron fields) is analysed as its norm over the components.
    threshold
        A number in the field's units, or ``"mean"`` (the spatial mean, default),
        ``"median"`` or ``"otsu"`` (:func:`skimage.filters.threshold_otsu`).
    window
        Width (in length units) of the orientation order's window; default half the
        pattern's characteristic length.
    periodic
        The grid wraps around (default). ``False``: a bounded grid — shapes cut by the
        edge stay cut, the edge is no boundary, the windows reflect at the edge.
    ndim
        2 or 3: the number of spatial dims (default: 3 when the third-last dim is ``z``).
    dx, dy, dz, component_dims
        As in :func:`radial_power_spectrum`; ``dz`` for 3-D fields.

    Returns
    -------
    dict
        Keys :data:`~rdnet.analysis.metric_names.MORPHOLOGY_DETAIL_KEYS`:
        ``threshold``; ``area_fraction``; ``boundary_length`` (per area: 1/length;
        3-D: surface area per volume); ``mean_curvature`` (3-D, per volume; NaN otherwise);
        ``euler_characteristic`` (per area, 1/length²; per length in 1-D, per volume in
        3-D) and ``euler_number`` (the count χ); ``components`` and ``components_low``
        (connected components of each phase); ``mean_component_size`` and
        ``mean_component_size_low`` (area, or length/volume, per component; NaN without
        one); ``orientation_order`` and ``stripe_fraction`` (NaN in 1-D and for a constant
        field); ``stripe_ends``,
        ``stripe_junctions``, ``defects`` (their sum; 2-D only). Floats for a single
        field, DataArrays over the leading dims otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> y, x = np.mgrid[0:64, 0:64]
    >>> disc = (np.hypot(x - 10.5, y - 31.5) < 12).astype(float)  # cut by the left edge
    >>> m = morphology_metrics(disc, threshold=0.5)
    >>> m["components"], m["euler_number"]
    (1.0, 1.0)
    """
    periodic = _check_flag("periodic", periodic)
    info = _prepare_spatial(field, ndim=ndim, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    spacings, length_units = info.spacing, info.length_units
    if window is not None and (isinstance(window, (bool, str)) or not isinstance(window, numbers.Real)
                               or not (math.isfinite(window) and window > 0)):  # fmt: skip
        raise ValueError(f"window must be a positive length; got {window!r}")
    if not isinstance(threshold, str):
        _resolve_threshold(np.zeros(1), threshold)  # refuse a bad number now, not in a dask task
    elif threshold not in THRESHOLDS:
        raise ValueError(f"unknown threshold {threshold!r}; valid: a number or one of {', '.join(THRESHOLDS)}")
    kernel = functools.partial(_morphology_kernel, spacings=spacings, threshold=threshold, window=window, periodic=bool(periodic))
    packed = _apply(kernel, info, ["metric"], {"metric": len(MORPHOLOGY_DETAIL_KEYS)})
    if packed.ndim == 1:
        return {key: float(value) for key, value in zip(MORPHOLOGY_DETAIL_KEYS, np.asarray(packed.values, dtype=float))}
    n_spatial = extent_ndim(info.shape)
    metrics = {}
    for position, key in enumerate(MORPHOLOGY_DETAIL_KEYS):
        metric = packed.isel(metric=position, drop=True)
        metric.name = key
        metric.attrs.update(long_name=key.replace("_", " "), units=metric_units(key, length_units, n_spatial))
        metrics[key] = metric
    return metrics


def _curves_kernel(values: np.ndarray, spacings: tuple[float, ...], thresholds: np.ndarray, standardised: bool,
                   periodic: bool) -> np.ndarray:  # fmt: skip
    _check_finite(values)
    out = np.empty((values.shape[0], thresholds.size, 4))
    for b in range(values.shape[0]):
        field, cells = _squeeze_line(_scalar_of(values[b]), spacings)
        domain = field.size * float(np.prod(cells))
        levels = field.mean() + thresholds * field.std() if standardised else thresholds
        for i, level in enumerate(levels):
            high = field > level
            out[b, i] = (
                np.count_nonzero(high) / field.size,
                _boundary_density(high, cells, periodic),
                _mean_curvature_density(high, cells, periodic) if field.ndim == 3 else math.nan,
                _euler_number(high, periodic) / domain,
            )
    return out


def minkowski_curves(
    field: _Field,
    *,
    thresholds: int | Sequence[float] = 33,
    standardised: bool = False,
    periodic: bool = True,
    ndim: int | None = None,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.Dataset:
    """The Minkowski functionals of the high phase ``{f > t}`` as curves over thresholds ``t``.

    Parameters
    ----------
    field, periodic, ndim, dx, dy, dz, component_dims
        As in :func:`morphology_metrics`.
    thresholds
        The thresholds, or their number (default 33) evenly spaced strictly between the
        field's minimum and maximum (``standardised``: between −3 and 3).
    standardised
        Read ``thresholds`` as ``ν``, in standard deviations from the spatial mean
        (``t = mean + ν·std`` per field): the variable of Tomita's expectation curves for
        Gaussian random fields.

    Returns
    -------
    xarray.Dataset
        ``area_fraction``, ``boundary_length``, ``mean_curvature`` (NaN but in 3-D) and
        ``euler_characteristic`` (densities, as in :func:`morphology_metrics`) with dims
        ``(..., "threshold")``; coordinate ``threshold`` in the field's units (or ``ν``).

    Examples
    --------
    >>> import numpy as np
    >>> field = np.cos(2 * np.pi * np.arange(32) / 8)[None, :] * np.ones((16, 1))  # stripes
    >>> curves = minkowski_curves(field, thresholds=[-0.5, 0.0, 0.5])
    >>> curves["euler_characteristic"].values.tolist()  # bands around the torus
    [0.0, 0.0, 0.0]
    """
    periodic = _check_flag("periodic", periodic)
    info = _prepare_spatial(field, ndim=ndim, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    data, spacings, length_units = info.data, info.spacing, info.length_units
    if isinstance(thresholds, (int, np.integer)) and not isinstance(thresholds, bool):
        if thresholds < 1:
            raise ValueError(f"thresholds must be a positive number of thresholds or a list; got {thresholds}")
        if standardised:
            levels = np.linspace(-3.0, 3.0, int(thresholds))
        else:
            low, high = float(data.min()), float(data.max())
            levels = np.linspace(low, high, int(thresholds) + 2)[1:-1]
    else:
        levels = np.asarray(thresholds, dtype=float).ravel()
        if levels.size == 0 or not np.all(np.isfinite(levels)):
            raise ValueError("thresholds must be finite numbers (at least one)")
    kernel = functools.partial(_curves_kernel, spacings=spacings, thresholds=levels, standardised=bool(standardised),
                               periodic=bool(periodic))  # fmt: skip
    packed = _apply(kernel, info, ["threshold", "functional"], {"threshold": levels.size, "functional": 4})
    n_spatial = extent_ndim(info.shape)
    names = ("area_fraction", "boundary_length", "mean_curvature", "euler_characteristic")
    curves = xr.Dataset(
        {
            name: packed.isel(functional=i, drop=True).assign_attrs(
                long_name=name.replace("_", " "), units=metric_units(name, length_units, n_spatial)
            )
            for i, name in enumerate(names)
        }
    )
    units = "1" if standardised else str(data.attrs.get("units", "1"))
    long_name = "threshold in standard deviations from the mean" if standardised else "threshold"
    return curves.assign_coords(threshold=("threshold", levels, {"long_name": long_name, "units": units}))


def component_sizes(
    field: _Field,
    *,
    threshold: float | str = "mean",
    phase: str = "high",
    periodic: bool = True,
    ndim: int | None = None,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
) -> xr.DataArray:
    """Sizes of the connected components of one phase of a single field (periodic grid).

    Parameters
    ----------
    field, threshold, periodic, ndim, dx, dy, dz
        As in :func:`morphology_metrics` (one field: no leading dims but components).
    phase
        ``"high"`` (``f > t``, 8-/26-connected) or ``"low"`` (``f ≤ t``, 4-/6-connected).

    Returns
    -------
    xarray.DataArray
        Dim ``component``: the area (length in 1-D, volume in 3-D) of each component, in
        physical units, largest first.
    """
    periodic = _check_flag("periodic", periodic)
    if phase not in ("high", "low"):
        raise ValueError(f"phase must be 'high' or 'low'; got {phase!r}")
    info = _prepare_spatial(field, ndim=ndim, dx=dx, dy=dy, dz=dz, component_dims=None)
    data, components, spatial, spacings, length_units = info.data, info.component_dims, info.spatial_dims, info.spacing, info.length_units
    if data.ndim > len(components) + len(spatial):
        raise ValueError(f"component_sizes takes one field; got leading dims {data.dims[: data.ndim - len(spatial)]}")
    _check_finite(np.asarray(data.values, dtype=float))
    values = _scalar_of(np.asarray(data.values, dtype=float).reshape((-1, *data.shape[len(components) :])))
    values, cells = _squeeze_line(values, spacings)
    high = values > _resolve_threshold(values, threshold)
    binary = high if phase == "high" else ~high
    connectivity = values.ndim if phase == "high" else 1
    sizes = np.sort(_component_sizes(binary, connectivity, float(np.prod(cells)), bool(periodic)))[::-1]
    return xr.DataArray(
        sizes,
        dims=("component",),
        name="component_size",
        attrs={"long_name": f"size of each connected component of the {phase} phase", "units": metric_units("mean_component_size", length_units, values.ndim)},
    )


def orientation_order(
    field: _Field,
    *,
    window: float | None = None,
    periodic: bool = True,
    ndim: int | None = None,
    dx: float | None = None,
    dy: float | None = None,
    dz: float | None = None,
    component_dims: Iterable[str] | None = None,
) -> xr.DataArray:
    """Nematic order of the gradient directions within a window, in ``[0, 1]``.

    ``S = Σ (d·λ_max − tr J) / ((d − 1) Σ tr J)`` over the grid, with ``J`` the structure
    tensor (the gradient's outer product, derivatives per unit length, smoothed by a
    periodic Gaussian of width ``window/2``; default ``window`` the characteristic length
    ``1/k̄``) and ``d`` the dimension: the energy-weighted mean of the local order
    ``(λ₁ − λ₂)/(λ₁ + λ₂)`` in 2-D. Straight stripes give 1, a labyrinth of slowly bending
    stripes nearly 1, spots, holes and noise near 0. Unlike :func:`anisotropy` (one
    orientation over the whole field) it sees order within each window.

    Returns
    -------
    xarray.DataArray
        One value per field; NaN for a 1-D or constant field.
    """
    periodic = _check_flag("periodic", periodic)
    info = _prepare_spatial(field, ndim=ndim, dx=dx, dy=dy, dz=dz, component_dims=component_dims)
    spacings = info.spacing

    def kernel(values: np.ndarray) -> np.ndarray:
        _check_finite(values)
        orders = np.empty(values.shape[0])
        for b in range(values.shape[0]):
            scalar, cells = _squeeze_line(_scalar_of(values[b]), spacings)
            orders[b] = _orientation_order(scalar, cells, window, bool(periodic))[0]
        return orders

    result = _apply(kernel, info)
    result.name = "orientation_order"
    result.attrs.update(long_name="nematic order of the gradient directions within a window", units="1")
    return result
