"""Spatial and temporal accuracy of every integrator on every backend, against exact solutions."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from rd_classic.grids import Grid
from rd_classic.integrators import EXPLICIT_SCHEMES, make_stepper
from rd_classic.models import get_model
from rd_classic.run import MemoryObserver, run_simulation

# (integrator, backend) pairs: every explicit scheme on both array backends, ETDRK4 on both FFTs
STEPPERS = [(name, backend) for name in EXPLICIT_SCHEMES for backend in ("numba", "torch")]
STEPPERS += [("etdrk4", "numpy"), ("etdrk4", "torch")]
ORDERS = {**{name: scheme.order for name, scheme in EXPLICIT_SCHEMES.items()}, "etdrk4": 4}


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


def _gray_scott_trajectories(rng, steps, backends, **stepper_options):
    """Final states and rates of one nonlinear Gray-Scott trajectory on each backend."""
    grid = Grid((40, 48), 1.0)
    model = get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08)
    u0 = 1 - 0.5 * rng.uniform(0, 1, grid.shape)
    v0 = 0.25 * rng.uniform(0, 1, grid.shape)
    results = {}
    for backend in backends:
        stepper = make_stepper(model, grid, dt=1.0, backend=backend, **stepper_options)
        stepper.set_state(u0, v0)
        stepper.advance(steps)
        results[backend] = (*stepper.get_state(), stepper.rates())
    return list(results.values()), v0


def test_etdrk4_numpy_and_torch_give_the_same_nonlinear_trajectory(rng):
    # documented tolerance: the two FFT back ends agree to 1e-12 absolute after 400 nonlinear steps
    # (observed ~6e-14) while the fields move by O(0.3)
    (numpy_run, torch_run), v0 = _gray_scott_trajectories(rng, 400, integrator="etdrk4", backends=("numpy", "torch"))
    assert np.abs(numpy_run[1] - v0).max() > 0.1  # a nonlinear trajectory, not a fixed point
    np.testing.assert_allclose(numpy_run[0], torch_run[0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(numpy_run[1], torch_run[1], rtol=0, atol=1e-12)
    for name in numpy_run[2]:
        np.testing.assert_allclose(numpy_run[2][name], torch_run[2][name], rtol=0, atol=1e-12)


@pytest.mark.parametrize("integrator", ["euler", "rk4"])
def test_float32_numba_and_torch_agree_to_single_precision(integrator, rng):
    # documented tolerance: float32 numba and float32 torch agree to 5e-5 absolute after 400 steps
    # (observed <= 1.6e-5, ~130 float32 ulps of values ~1: the kernels round in different orders)
    (numba_run, torch_run), _ = _gray_scott_trajectories(rng, 400, integrator=integrator, dtype="float32",
                                                         backends=("numba", "torch"))  # fmt: skip
    assert numba_run[0].dtype == torch_run[0].dtype == np.float32
    np.testing.assert_allclose(numba_run[0], torch_run[0], rtol=0, atol=5e-5)
    np.testing.assert_allclose(numba_run[1], torch_run[1], rtol=0, atol=5e-5)


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


def _numpy_euler_step(u, v, *, F, k, Du, Dv, dt, periodic):
    """An independent out-of-place Gray-Scott Euler step (np.roll / edge padding)."""

    def laplacian(a):
        if periodic:
            return np.roll(a, 1, 0) + np.roll(a, -1, 0) + np.roll(a, 1, 1) + np.roll(a, -1, 1) - 4 * a
        p = np.pad(a, 1, mode="edge")
        return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:] - 4 * a

    uvv = u * v * v
    return u + dt * (Du * laplacian(u) - uvv + F * (1 - u)), v + dt * (Dv * laplacian(v) + uvv - (F + k) * v)


@pytest.mark.parametrize("shape", [(1, 17), (2, 5), (7, 9), (40, 48)])
@pytest.mark.parametrize("boundary", ["periodic", "no-flux"])
def test_in_place_euler_kernel_matches_out_of_place_step_for_any_row_blocks(shape, boundary, rng):
    # the Euler kernel overwrites its input row by row; every cut into blocks of rows must
    # give the same bits, and the step must be the plain out-of-place formula
    from rd_classic import kernels_numba

    params = dict(F=0.035, k=0.065, Du=0.16, Dv=0.08)
    model = get_model("gray-scott", **params)
    u0 = 1 - 0.5 * rng.uniform(0, 1, shape)
    v0 = 0.25 * rng.uniform(0, 1, shape)
    expected = (u0, v0)
    for _ in range(3):
        expected = _numpy_euler_step(*expected, **params, dt=0.9, periodic=boundary == "periodic")
    results = []
    kernel = kernels_numba.kernels_for(model.declaration, np.float64, 2).euler_step
    p = kernels_numba.parameter_vector(list(model.values.values()), (1.0, 1.0, 1.0), np.float64)
    for n_blocks in sorted({1, 2, 3, 5, shape[0]}):
        state = (u0.copy(), v0.copy())
        halo, work = kernels_numba.euler_buffers(shape, np.float64, 2, n_blocks)
        for _ in range(3):
            kernel(p, np.array([0.16, 0.08]), np.zeros((0, 1, 1)), 1.0, 0.0, 0.9, boundary == "periodic", state,
                   halo, work)  # fmt: skip
        results.append(tuple(state))
    for u, v in results[1:]:
        assert np.array_equal(u, results[0][0]) and np.array_equal(v, results[0][1])
    np.testing.assert_allclose(results[0][0], expected[0], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(results[0][1], expected[1], rtol=1e-14, atol=1e-15)


# --------------------------------------------------------------------------------------
# The stability limit with reaction terms
# --------------------------------------------------------------------------------------


def test_stability_polynomials_and_radii_are_the_known_ones():
    # R(z) of Euler, midpoint RK2 and classic RK4 is the Taylor polynomial of e^z to their order; the
    # real-axis radii are 2, 2 and 2.785293563405282, and RK4 keeps |z| <= 2 sqrt(2) on the imaginary axis;
    # Bogacki-Shampine's is e^z's to order 3 (radius 2.5127), Dormand-Prince's to order 5 plus z^6/600
    from rd_classic.schemes import exit_radius as _exit_radius
    from rd_classic.schemes import stability_polynomial as _stability_polynomial

    for name, scheme in EXPLICIT_SCHEMES.items():
        coefficients = _stability_polynomial(scheme)
        expected = [1 / math.factorial(j) for j in range(scheme.order + 1)] + ([1 / 600] if name == "rk45" else [])
        np.testing.assert_allclose(coefficients, expected, rtol=1e-13)
        assert _exit_radius(coefficients, np.array([math.pi]))[0] == pytest.approx(scheme.stability_radius, rel=1e-10)
    rk4 = _stability_polynomial(EXPLICIT_SCHEMES["rk4"])
    assert _exit_radius(rk4, np.array([math.pi / 2]))[0] == pytest.approx(2 * math.sqrt(2), rel=1e-10)
    euler = _stability_polynomial(EXPLICIT_SCHEMES["euler"])
    assert _exit_radius(euler, np.array([math.pi / 2]))[0] == 0.0  # Euler amplifies every pure oscillation


@pytest.mark.parametrize("integrator", ["euler", "rk4"])
def test_stiff_linear_reaction_is_refused_above_its_limit_and_decays_below(integrator):
    # u' = -100 u (no diffusion): the exact solution decays as exp(-100 t); one Euler step multiplies
    # by 1 - 100 dt, so Euler needs dt <= 2/100; RK4 needs dt <= 2.785293563405282/100
    from rd_classic.integrators import largest_stable_dt
    from rd_classic.run import build_config
    from rdnet.errors import ConfigError

    radius = EXPLICIT_SCHEMES[integrator].stability_radius
    options = dict(parameters={"a": -100.0, "Du": 0.0, "Dv": 0.0}, size="16", steps=400, integrator=integrator)
    assert largest_stable_dt(build_config("linear", **options).model, Grid((16, 16), 1.0), integrator) == \
        pytest.approx(radius / 100, rel=1e-10)  # fmt: skip
    with pytest.raises(ConfigError, match="largest stable dt is"):
        build_config("linear", dt=1.02 * radius / 100, **options)
    amplitudes = {}
    for factor in (0.98, 1.02):
        config = build_config("linear", dt=factor * radius / 100, allow_unstable=True, **options)
        stepper = make_stepper(config.model, config.grid, dt=config.dt, integrator=integrator)
        stepper.set_state(np.ones(config.grid.shape), np.zeros(config.grid.shape))
        stepper.advance(400)
        amplitudes[factor] = np.abs(stepper.get_state()[0]).max()
    assert amplitudes[0.98] < 1e-3 and amplitudes[1.02] > 1e3
    # with diffusion the checkerboard adds 8 D / dx^2: the Euler limit is 2 / (100 + 8)
    model = get_model("linear", a=-100.0)
    assert largest_stable_dt(model, Grid((16, 16), 1.0), "euler") == pytest.approx(2 / 108, rel=1e-10)


def test_oscillating_decay_bounds_euler_by_its_disc():
    # J = [[-1, 10], [-10, -1]]: lambda = -1 +- 10i; Euler keeps |1 + dt lambda| <= 1 only for
    # dt <= -2 Re(lambda) / |lambda|^2 = 2/101; the mode decays just below and grows just above
    from rd_classic.integrators import largest_stable_dt

    model = get_model("linear", a=-1.0, b=10.0, c=-10.0, d=-1.0, Du=0.0, Dv=0.0)
    grid = Grid((1, 8), 1.0)
    limit = largest_stable_dt(model, grid, "euler")
    assert limit == pytest.approx(2 / 101, rel=1e-10)
    amplitudes = []
    for factor in (0.97, 1.03):
        stepper = make_stepper(model, grid, dt=factor * limit)
        stepper.set_state(np.ones(grid.shape), np.zeros(grid.shape))
        stepper.advance(3000)
        amplitudes.append(np.abs(stepper.get_state()[0]).max())
    assert amplitudes[0] < 1.0 < amplitudes[1]


def test_growing_and_neutral_modes_do_not_bound_the_step():
    # a pure rotation (lambda = +-i) and a growing mode are excluded for Euler (no dt keeps them from
    # growing); RK4 keeps the rotation for |dt lambda| <= 2 sqrt(2)
    from rd_classic.integrators import largest_stable_dt

    grid = Grid((1, 8), 1.0)
    rotation = get_model("linear", b=1.0, c=-1.0, Du=0.0, Dv=0.0)
    assert largest_stable_dt(rotation, grid, "euler") == math.inf
    assert largest_stable_dt(rotation, grid, "rk4") == pytest.approx(2 * math.sqrt(2), rel=1e-10)
    growth_and_decay = get_model("linear", a=0.5, d=-4.0, Du=0.0, Dv=0.0)  # lambda = 0.5 (excluded) and -4
    assert largest_stable_dt(growth_and_decay, grid, "euler") == pytest.approx(2 / 4, rel=1e-10)


def _brute_force_euler_limit(model, grid):
    """Euler's limit from every mode of the explicitly built periodic 2-D Laplacian."""

    def second_difference(n):
        matrix = -2 * np.eye(n) + np.eye(n, k=1) + np.eye(n, k=-1)
        matrix[0, -1] = matrix[-1, 0] = 1.0
        return np.linalg.eigvalsh(matrix) / grid.dx**2

    ny, nx = grid.shape
    limit = math.inf
    for mu in np.add.outer(second_difference(ny), second_difference(nx)).ravel():
        matrix = model.jacobian(*model.homogeneous_state()) + mu * np.diag(model.diffusion)
        for lam in np.linalg.eigvals(matrix):
            if lam.real < 0:
                limit = min(limit, -2 * lam.real / abs(lam) ** 2)
    return limit


def test_brusselator_on_a_coarse_grid_is_limited_by_its_reaction():
    # at dx = 8 diffusion alone would allow dt = 1.0; the reaction eigenvalue -12.07 at (a, b/a) alone
    # needs dt < 2/12.07 = 0.166, and with the checkerboard's diffusion the fastest decay is -15.16
    from rd_classic.integrators import largest_stable_dt
    from rd_classic.run import build_config

    model = get_model("brusselator")
    grid = Grid((32, 32), 8.0)
    limit = largest_stable_dt(model, grid, "euler")
    reaction_alone = 2 / np.abs(np.linalg.eigvals(model.jacobian(*model.homogeneous_state()))).max()
    assert reaction_alone == pytest.approx(0.1657, abs=1e-4)
    assert limit == pytest.approx(_brute_force_euler_limit(model, grid), rel=1e-9)
    assert limit < reaction_alone
    # every mode decays at this spacing: below the limit the run relaxes to (a, b/a); above it a
    # spurious grid-scale pattern grows (the default dt, 80 % of the limit, relaxes too)
    for factor, relaxes in ((None, True), (0.95, True), (1.1, False)):
        dt = None if factor is None else factor * limit
        config = build_config("brusselator", size="32", dx=8.0, dt=dt, steps=2000, snapshot_every=2000,
                              allow_unstable=dt is not None)  # fmt: skip
        memory = MemoryObserver()
        run_simulation(config, observers=[memory])
        deviation = np.abs(memory.fields["u"][-1] - model.a).max()
        assert bool(deviation < 1e-6) is relaxes, (factor, deviation)


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_a_general_tableau_runs_at_its_order(backend):
    # Kutta's third-order method has a full A (a_31 = -1, a_32 = 2): not a sub-diagonal tableau, so the
    # numba backend takes the general path; on the coupled linear mode it converges at order 3
    from rd_classic.schemes import ExplicitScheme

    kutta = ExplicitScheme("kutta3", 3, ((0, 0, 0), (0.5, 0, 0), (-1.0, 2.0, 0)), (1 / 6, 2 / 3, 1 / 6), 2.5127453266183286)
    assert not kutta.is_subdiagonal and kutta.nodes == (0.0, 0.5, 1.0)
    grid, model, mode, eigenvalue = _mode_problem("rk4")
    end = 2.0
    amplitude0 = np.array([1.0, 0.5])
    exact = expm(end * (model.jacobian(0, 0) + eigenvalue * np.diag(model.diffusion))) @ amplitude0
    errors = []
    for count in (10, 20):
        if backend == "numba":
            from rd_classic.integrators import NumbaExplicitStepper

            stepper = NumbaExplicitStepper(model, grid, kutta, dt=end / count, dtype="float64")
        else:
            from rd_classic.backend_torch import TorchExplicitStepper

            stepper = TorchExplicitStepper(model, grid, kutta, dt=end / count)
        stepper.set_state(amplitude0[0] * mode, amplitude0[1] * mode)
        stepper.advance(count)
        u, v = stepper.get_state()
        errors.append(max(np.abs(u - exact[0] * mode).max(), np.abs(v - exact[1] * mode).max()))
    assert abs(math.log2(errors[0] / errors[1]) - 3) < 0.25, errors
