"""Spatial and temporal accuracy of every integrator on every backend, against exact solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from rd_classic.grids import Grid
from rd_classic.integrators import EXPLICIT_SCHEMES, make_stepper
from rd_classic.models import get_model

# (integrator, backend) pairs: every explicit scheme on both array backends, ETDRK4 on both FFTs
STEPPERS = [(name, backend) for name in EXPLICIT_SCHEMES for backend in ("numba", "torch")]
STEPPERS += [("etdrk4", "numpy"), ("etdrk4", "torch")]
ORDERS = {"euler": 1, "rk2": 2, "rk4": 4, "etdrk4": 4}


def _laplacian(values, grid, backend):
    model = get_model("linear", Du=1.0, Dv=1.0)
    if backend == "torch":
        import torch

        from rd_classic.backend_torch import torch_laplacian

        return torch_laplacian(torch.as_tensor(values), inv_dx2=1 / grid.dx**2, periodic=grid.periodic).numpy()
    stepper = make_stepper(model, grid, dt=1.0, integrator="euler")
    stepper.set_state(values, values)
    return stepper.rates()["diffusion_u"]


@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("boundary", ["periodic", "no-flux"])
def test_laplacian_is_second_order(backend, boundary):
    errors = []
    for n in (16, 32, 64):
        length = 2 * math.pi
        grid = Grid((n, n), length / n, boundary)
        y, x = grid.coordinates()
        if boundary == "periodic":
            field = np.sin(2 * x)[None, :] * np.cos(y)[:, None]
            exact = -5.0 * field
        else:  # cos modes of the domain have zero normal derivative at the faces
            field = np.cos(2 * x / 2)[None, :] * np.cos(3 * y / 2)[:, None]
            exact = -(1.0 + 2.25) * field
        errors.append(np.abs(_laplacian(field, grid, backend) - exact).max())
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2.0) < 0.15), orders


def _mode_problem(integrator):
    """A coupled linear system on one Fourier mode, with its exact amplitude matrix."""
    n, length = 16, 2 * math.pi
    grid = Grid((n, n), length / n)
    y, x = grid.coordinates()
    mode = np.sin(2 * x)[None, :] * np.cos(y)[:, None]
    model = get_model("linear", a=-0.2, b=1.0, c=-1.0, d=-0.3, Du=0.1, Dv=0.05)
    if integrator == "etdrk4":
        eigenvalue = -5.0  # spectral Laplacian: -(qx^2 + qy^2)
    else:  # 5-point Laplacian acting on this mode
        eigenvalue = -(4 / grid.dx**2) * (math.sin(2 * grid.dx / 2) ** 2 + math.sin(grid.dx / 2) ** 2)
    return grid, model, mode, eigenvalue


@pytest.mark.parametrize("integrator,backend", STEPPERS)
def test_temporal_order_on_coupled_linear_mode(integrator, backend):
    grid, model, mode, eigenvalue = _mode_problem(integrator)
    end = 2.0
    amplitude0 = np.array([1.0, 0.5])
    exact = expm(end * (model.jacobian(0, 0) + eigenvalue * np.diag(model.diffusion))) @ amplitude0
    order = ORDERS[integrator]
    counts = (40, 80) if order == 1 else (10, 20)
    errors = []
    for count in counts:
        stepper = make_stepper(model, grid, dt=end / count, integrator=integrator, backend=backend)
        stepper.set_state(amplitude0[0] * mode, amplitude0[1] * mode)
        stepper.advance(count)
        u, v = stepper.get_state()
        errors.append(max(np.abs(u - exact[0] * mode).max(), np.abs(v - exact[1] * mode).max()))
    observed = math.log2(errors[0] / errors[1])
    assert abs(observed - order) < 0.25, (errors, observed)


@pytest.mark.parametrize("integrator,backend", [s for s in STEPPERS if s[0] != "etdrk4"])
def test_diffusing_fourier_mode_decays_as_exp_minus_D_k2_t(integrator, backend):
    # pure diffusion: the mode decays at the Laplacian eigenvalue; the scheme converges at its order
    n = 32
    grid = Grid((1, n), 1.0 / n)  # 1-D, unit length
    _, x = grid.coordinates()
    k = 2 * math.pi * 3
    mode = np.cos(k * x)[None, :]
    model = get_model("linear", Du=0.01, Dv=0.02)
    end = 0.5
    errors = []
    steps = (100, 200) if integrator == "euler" else (25, 50)
    for count in steps:
        stepper = make_stepper(model, grid, dt=end / count, integrator=integrator, backend=backend)
        stepper.set_state(mode, mode)
        stepper.advance(count)
        u, _ = stepper.get_state()
        discrete_k2 = (4 / grid.dx**2) * math.sin(k * grid.dx / 2) ** 2
        errors.append(np.abs(u - mode * math.exp(-0.01 * discrete_k2 * end)).max())
    assert abs(math.log2(errors[0] / errors[1]) - ORDERS[integrator]) < 0.25, errors
    # against the continuous exp(-D k^2 t) the gap is the Laplacian's k^2 (k dx)^2 / 12 error
    # (to leading order exp(-D k^2 t) D t k^4 dx^2 / 12), plus the time error
    gap = np.abs(u - mode * math.exp(-0.01 * k * k * end)).max()
    predicted = math.exp(-0.01 * k * k * end) * 0.01 * end * k**4 * grid.dx**2 / 12
    assert 0.8 * predicted - errors[1] < gap < 1.2 * predicted + errors[1]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("integrator,backend", STEPPERS)
def test_gray_scott_trivial_state_stays_fixed(integrator, backend, dtype):
    grid = Grid((8, 12), 1.0)
    stepper = make_stepper(get_model("gray-scott", Du=0.16, Dv=0.08), grid, dt=0.5,
                           integrator=integrator, backend=backend, dtype=dtype)  # fmt: skip
    stepper.set_state(np.ones(grid.shape), np.zeros(grid.shape))
    stepper.advance(50)
    u, v = stepper.get_state()
    assert u.dtype == np.dtype(dtype)
    np.testing.assert_allclose(u, 1.0, atol=1e-12)
    np.testing.assert_allclose(v, 0.0, atol=1e-12)


@pytest.mark.parametrize("integrator", ["euler", "rk4"])
@pytest.mark.parametrize("boundary", ["periodic", "no-flux"])
def test_numba_and_torch_give_the_same_trajectory(integrator, boundary, rng):
    # documented tolerance: float64 backends agree to 1e-11 relative after 400 nonlinear steps
    grid = Grid((40, 48), 1.0, boundary)
    model = get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08)
    u0 = 1 - 0.5 * rng.uniform(0, 1, grid.shape)
    v0 = 0.25 * rng.uniform(0, 1, grid.shape)
    results = []
    for backend in ("numba", "torch"):
        stepper = make_stepper(model, grid, dt=1.0, integrator=integrator, backend=backend)
        stepper.set_state(u0, v0)
        stepper.advance(400)
        results.append((*stepper.get_state(), stepper.rates()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-11, atol=1e-12)
    for name in results[0][2]:
        np.testing.assert_allclose(results[0][2][name], results[1][2][name], rtol=1e-9, atol=1e-12)


def test_float32_follows_float64_within_single_precision(rng):
    grid = Grid((32, 32), 1.0)
    model = get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08)
    u0 = 1 - 0.5 * rng.uniform(0, 1, grid.shape)
    v0 = 0.25 * rng.uniform(0, 1, grid.shape)
    states = []
    for dtype in ("float64", "float32"):
        stepper = make_stepper(model, grid, dt=1.0, dtype=dtype)
        stepper.set_state(u0, v0)
        stepper.advance(100)
        states.append(stepper.get_state())
    np.testing.assert_allclose(states[1][0], states[0][0], atol=1e-4)


@pytest.mark.parametrize("integrator", list(EXPLICIT_SCHEMES))
@pytest.mark.parametrize("shape", [(1, 16), (16, 16)])
def test_stability_limit_separates_decay_from_blow_up(integrator, shape):
    # the checkerboard is the Laplacian's most negative mode: it must decay just below the
    # guard's limit and grow just above it
    from rd_classic.integrators import largest_stable_dt

    grid = Grid(shape, 1.0)
    model = get_model("linear", Du=1.0, Dv=1.0)
    limit = largest_stable_dt(model, grid, integrator)
    yy, xx = np.indices(shape)
    checkerboard = (-1.0) ** (xx + yy)
    amplitudes = []
    for factor in (0.98, 1.02):
        stepper = make_stepper(model, grid, dt=factor * limit, integrator=integrator)
        stepper.set_state(checkerboard, checkerboard)
        stepper.advance(300)
        amplitudes.append(np.abs(stepper.get_state()[0]).max())
    assert amplitudes[0] < 1.0 < amplitudes[1]
