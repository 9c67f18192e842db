"""Minkowski functionals, components and order of shapes with closed forms, and of Gaussian random fields.

Truths: a disc of radius r has area πr², perimeter 2πr and Euler characteristic 1; an annulus
χ = 0; n disjoint discs χ = n; a band around the torus χ = 0; a sphere volume 4πr³/3, surface
4πr², integrated mean curvature 4πr, χ = 1; a spherical shell χ = 2; a solid torus χ = 0.
For a Gaussian random field, Tomita's (Adler's) expectation curves (formulas in the test).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr
from scipy.special import erfc
from skimage.measure import label as planar_label

from rdnet.analysis import component_sizes, minkowski_curves, morphology_metrics, orientation_order, periodic_label


def disc(n: int, centre: tuple[float, float], radius: float, *, dy: float = 1.0, dx: float = 1.0) -> np.ndarray:
    """1 inside a disc (physical units) on an n x n periodic grid, distances measured on the torus."""
    y = (np.arange(n) + 0.5) * dy
    x = (np.arange(n) + 0.5) * dx
    Y, X = np.meshgrid(y, x, indexing="ij")
    ry = (Y - centre[0] + n * dy / 2) % (n * dy) - n * dy / 2
    rx = (X - centre[1] + n * dx / 2) % (n * dx) - n * dx / 2
    return (np.hypot(ry, rx) < radius).astype(float)


@pytest.mark.parametrize("centre", [(40.3, 50.7), (2.0, 60.0), (127.5, 0.2)], ids=["inside", "cut-by-edge", "corner"])
def test_disc_area_perimeter_and_euler(centre):
    radius = 20.0
    m = morphology_metrics(disc(128, centre, radius), threshold=0.5)
    area = 128 * 128
    assert m["area_fraction"] * area == pytest.approx(math.pi * radius**2, rel=0.01)
    assert m["boundary_length"] * area == pytest.approx(2 * math.pi * radius, rel=0.03)
    assert m["euler_number"] == 1
    assert m["euler_characteristic"] == pytest.approx(1 / area)
    assert m["components"] == 1 and m["components_low"] == 1
    assert m["mean_component_size"] == pytest.approx(math.pi * radius**2, rel=0.01)


def test_disc_in_physical_units_on_an_anisotropic_grid():
    radius = 6.0  # physical units on a grid with dy = 0.25, dx = 0.5
    field = disc(128, (16.0, 32.0), radius, dy=0.25, dx=0.5)
    coords = {"y": np.arange(128) * 0.25, "x": np.arange(128) * 0.5}
    m = morphology_metrics(xr.DataArray(field, dims=("y", "x"), coords=coords), threshold=0.5)
    domain = 128 * 0.25 * 128 * 0.5
    assert m["area_fraction"] * domain == pytest.approx(math.pi * radius**2, rel=0.01)
    assert m["boundary_length"] * domain == pytest.approx(2 * math.pi * radius, rel=0.03)
    assert m["mean_component_size"] == pytest.approx(math.pi * radius**2, rel=0.01)


def test_annulus_has_euler_characteristic_zero():
    ring = disc(96, (48, 48), 30) - disc(96, (48, 48), 15)
    m = morphology_metrics(ring, threshold=0.5)
    assert m["euler_number"] == 0
    assert (m["components"], m["components_low"]) == (1, 2)  # the ring; the hole and the outside
    assert m["boundary_length"] * 96**2 == pytest.approx(2 * math.pi * (30 + 15), rel=0.03)


def test_n_discs_have_euler_characteristic_n(rng):
    centres = []
    while len(centres) < 9:  # disjoint discs of radius 5 on the torus, some across an edge
        c = rng.uniform(0, 128, 2)
        if all(np.hypot(*(((c - o) + 64) % 128 - 64)) > 13 for o in centres):
            centres.append(c)
    field = sum(disc(128, tuple(c), 5.0) for c in centres)
    m = morphology_metrics(field, threshold=0.5)
    assert m["euler_number"] == 9
    assert m["components"] == 9
    sizes = component_sizes(field, threshold=0.5)
    assert sizes.sizes["component"] == 9
    np.testing.assert_allclose(sizes.values, math.pi * 25, rtol=0.06)


def test_stripes_have_euler_characteristic_zero_and_full_order():
    x = np.arange(96)
    field = np.cos(2 * np.pi * x / 12)[None, :] * np.ones((64, 1))
    m = morphology_metrics(field)
    assert m["euler_number"] == 0
    assert m["components"] == 8 and m["components_low"] == 8  # each band wraps around the torus
    assert m["area_fraction"] == pytest.approx(0.5, abs=0.02)
    # two straight edges per band; Crofton's 4 directions see an edge along an axis as
    # (π/2)(1/4 + 2 · 1/(4√2)) of its length (exact only averaged over orientations)
    crofton_factor = math.pi / 2 * (0.25 + 0.5 / math.sqrt(2))
    assert m["boundary_length"] == pytest.approx(2 * 8 / 96 * crofton_factor, rel=1e-9)
    assert m["orientation_order"] == pytest.approx(1.0, abs=1e-6)
    assert m["defects"] == 0


def test_periodic_wrap_joins_a_shape_cut_by_the_edges():
    field = disc(64, (0.0, 0.0), 10.0) > 0.5  # centred on the corner: four pieces on the plane
    assert planar_label(field, connectivity=2).max() == 4  # what a non-periodic labelling sees
    labels, count = periodic_label(field)
    assert count == 1
    assert set(np.unique(labels)) == {0, 1}
    m = morphology_metrics(field.astype(float), threshold=0.5)
    assert m["components"] == 1 and m["euler_number"] == 1


def test_a_bounded_grid_keeps_shapes_cut_by_the_edge_apart():
    field = disc(64, (0.0, 0.0), 10.0)  # four quarter discs in the corners of a bounded box
    m = morphology_metrics(field, threshold=0.5, periodic=False)
    assert m["components"] == 4 and m["euler_number"] == 4
    # the box's edge is no boundary: four quarter arcs make one circle
    assert m["boundary_length"] * 64**2 == pytest.approx(2 * math.pi * 10, rel=0.05)


def test_diagonal_neighbours_across_the_edge_join_only_with_full_connectivity():
    field = np.zeros((8, 8), dtype=bool)
    field[0, 0] = field[-1, -1] = True  # corner cells touch diagonally through the corner of the torus
    assert periodic_label(field, connectivity=2)[1] == 1
    assert periodic_label(field, connectivity=1)[1] == 2


def test_a_line_counts_intervals_on_the_ring():
    row = np.zeros(100)
    row[10:20] = row[40:45] = 1
    row[95:] = row[:3] = 1  # one interval across the end
    m = morphology_metrics(row[None, :], threshold=0.5, dx=0.5)
    assert m["euler_number"] == 3
    assert m["components"] == 3 and m["components_low"] == 3
    assert m["euler_characteristic"] == pytest.approx(3 / 50)  # per unit length (100 cells of 0.5)
    assert m["boundary_length"] == pytest.approx(6 / 50)  # end points per unit length
    assert m["mean_component_size"] == pytest.approx((10 + 5 + 8) * 0.5 / 3)
    assert math.isnan(m["orientation_order"])


def test_the_threshold_choices():
    field = np.zeros((32, 32))
    field[8:16, 8:16] = 3.0
    assert morphology_metrics(field)["threshold"] == pytest.approx(field.mean())
    assert morphology_metrics(field, threshold="median")["threshold"] == 0.0
    otsu = morphology_metrics(field, threshold="otsu")
    assert 0.0 <= otsu["threshold"] < 3.0 and otsu["area_fraction"] == pytest.approx(64 / 1024)
    with pytest.raises(ValueError, match="unknown threshold"):
        morphology_metrics(field, threshold="half")
    with pytest.raises(ValueError, match="window"):
        morphology_metrics(field, window=-1.0)


def test_a_vector_field_is_cut_by_its_norm_and_a_batch_keeps_its_dims():
    spot = disc(48, (24, 24), 8)
    vector = xr.DataArray(np.stack([0.6 * spot, 0.8 * spot]), dims=("feature", "y", "x"))
    assert morphology_metrics(vector, threshold=0.5)["area_fraction"] == pytest.approx(spot.mean())
    batch = xr.DataArray(np.stack([spot, 1 - spot]), dims=("time", "y", "x"), coords={"time": [0.0, 1.0]})
    result = morphology_metrics(batch, threshold=0.5)
    assert result["euler_number"].dims == ("time",)
    assert result["euler_number"].values.tolist() == [1.0, -1.0]  # a disc; the torus minus a disc (0 - 1)
    chunked = morphology_metrics(batch.chunk({"time": 1}), threshold=0.5)
    assert chunked["components"].chunks is not None
    np.testing.assert_array_equal(chunked["components"].values, result["components"].values)


def ball(n: int, centre, radius: float) -> np.ndarray:
    z, y, x = np.meshgrid(*(np.arange(n) + 0.5,) * 3, indexing="ij")
    return np.sqrt((z - centre[0]) ** 2 + (y - centre[1]) ** 2 + (x - centre[2]) ** 2) < radius


def test_a_ball_has_the_four_functionals_of_a_sphere():
    n, radius = 48, 14.0
    field = xr.DataArray(ball(n, (24.2, 23.7, 24.9), radius).astype(float), dims=("z", "y", "x"))
    m = morphology_metrics(field, threshold=0.5)
    volume = n**3
    assert m["area_fraction"] * volume == pytest.approx(4 / 3 * math.pi * radius**3, rel=0.01)
    assert m["boundary_length"] * volume == pytest.approx(4 * math.pi * radius**2, rel=0.04)
    assert m["mean_curvature"] * volume == pytest.approx(4 * math.pi * radius, rel=0.08)
    assert m["euler_number"] == 1 and m["components"] == 1


def test_three_d_topology_shell_solid_torus_and_periodic_rod():
    n = 40
    shell = ball(n, (20, 20, 20), 14) & ~ball(n, (20, 20, 20), 8)  # a sphere with a cavity
    assert morphology_metrics(shell.astype(float), threshold=0.5, ndim=3)["euler_number"] == 2
    z, y, x = np.meshgrid(*(np.arange(n) + 0.5,) * 3, indexing="ij")
    torus = (np.hypot(np.hypot(y - 20, x - 20) - 11, z - 20) < 4).astype(float)
    m = morphology_metrics(torus, threshold=0.5, ndim=3)
    assert m["euler_number"] == 0 and m["components"] == 1
    # surface 4π²Rr and integrated mean curvature π²R of a torus (R = 11, r = 4)
    assert m["boundary_length"] * n**3 == pytest.approx(4 * math.pi**2 * 11 * 4, rel=0.06)
    rod = (np.hypot(y - 20, x - 20) < 5).astype(float)  # along z, through the periodic faces
    assert morphology_metrics(rod, threshold=0.5, ndim=3)["euler_number"] == 0


def gaussian_random_field(rng, n: int, smoothing: float) -> np.ndarray:
    """White noise smoothed by a Gaussian of width ``smoothing`` cells (periodic, by FFT)."""
    k = 2 * np.pi * np.fft.fftfreq(n)
    k2 = k[:, None] ** 2 + k[None, :] ** 2
    return np.fft.ifft2(np.fft.fft2(rng.normal(size=(n, n))) * np.exp(-0.5 * k2 * smoothing**2)).real


def test_gaussian_random_field_follows_tomitas_curves(rng):
    """Area, boundary length and Euler characteristic against their expectations, within 3 %,
    5 % and 10 % of each curve's peak (one 256² field with some 600 features)."""
    n, smoothing = 256, 3.0
    field = gaussian_random_field(rng, n, smoothing)
    nu = np.linspace(-2.5, 2.5, 21)
    curves = minkowski_curves(field, thresholds=nu, standardised=True)
    # spectral moments of this very field: variance, lambda_2 = <(d f / dx)^2> (band-limited)
    spectrum = np.abs(np.fft.fft2(field - field.mean())) ** 2 / n**4
    k = 2 * np.pi * np.fft.fftfreq(n)
    sigma2 = spectrum.sum()
    lambda2 = 0.5 * np.sum(spectrum * (k[:, None] ** 2 + k[None, :] ** 2))
    area = 0.5 * erfc(nu / np.sqrt(2))
    length = 0.5 * np.sqrt(lambda2 / sigma2) * np.exp(-(nu**2) / 2)
    euler = lambda2 / sigma2 * (2 * np.pi) ** -1.5 * nu * np.exp(-(nu**2) / 2)
    assert np.max(np.abs(curves["area_fraction"].values - area)) < 0.03
    assert np.max(np.abs(curves["boundary_length"].values - length)) < 0.05 * length.max()
    assert np.max(np.abs(curves["euler_characteristic"].values - euler)) < 0.10 * np.abs(euler).max()


def test_curves_over_raw_thresholds_and_their_coordinates():
    spot = disc(40, (20, 20), 9) * 2.0
    curves = minkowski_curves(spot, thresholds=3)
    assert curves["threshold"].values.tolist() == [0.5, 1.0, 1.5]
    np.testing.assert_array_equal(curves["euler_characteristic"].values * 1600, [1, 1, 1])
    assert np.all(np.isnan(curves["mean_curvature"].values))


def test_orientation_order_separates_stripes_from_spots(rng):
    y, x = np.mgrid[0:96, 0:96]
    k = 2 * np.pi / 12
    stripes = np.cos(2 * np.pi * (4 * x + 3 * y) / 96)  # oblique stripes that fit the torus
    spots = sum(np.cos(k * (np.cos(a) * x + np.sin(a) * y)) for a in (0, 2 * np.pi / 3, 4 * np.pi / 3))
    assert float(orientation_order(stripes)) > 0.95
    assert float(orientation_order(spots)) < 0.2
    assert float(orientation_order(gaussian_random_field(rng, 96, 1.0))) < 0.35
