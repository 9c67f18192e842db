"""The generated kernels against NumPy integrations written here from the published equations.

Every built-in model's reaction terms and diffusion coefficients are written below
again, by hand, from the sources its model file cites — not from the model file or the
generated code — and integrated with plain NumPy (``np.roll`` / edge padding for the
Laplacian). The generated numba kernels (and the torch backend) must follow these
integrations to 1e-12 after 100 steps, on 1-D, 2-D and 3-D grids, for two and three
species, with periodic and no-flux boundaries.
"""

from __future__ import annotations

import numpy as np
import pytest

from rd_classic import kernels_numba
from rd_classic.grids import Grid
from rd_classic.integrators import largest_stable_dt, make_stepper
from rd_classic.models import get_model, model_names
from rd_classic.presets import default_preset


def _thomas_rate(u, v, p):
    return p["rho"] * u * v / (1 + u + p["K"] * u * u)


#: reaction terms R(s, p) and diffusion coefficients D(p), transcribed from the literature
REFERENCE = {
    "gray-scott": (lambda s, p: (-s[0] * s[1] ** 2 + p["F"] * (1 - s[0]), s[0] * s[1] ** 2 - (p["F"] + p["k"]) * s[1]),
                   lambda p: (p["Du"], p["Dv"])),
    "schnakenberg": (lambda s, p: (p["a"] - s[0] + s[0] ** 2 * s[1], p["b"] - s[0] ** 2 * s[1]),
                     lambda p: (p["Du"], p["Dv"])),
    "gierer-meinhardt": (lambda s, p: (p["a"] - p["b"] * s[0] + s[0] ** 2 / s[1], s[0] ** 2 - s[1]),
                         lambda p: (p["Du"], p["Dv"])),
    "brusselator": (lambda s, p: (p["a"] - (p["b"] + 1) * s[0] + s[0] ** 2 * s[1], p["b"] * s[0] - s[0] ** 2 * s[1]),
                    lambda p: (p["Du"], p["Dv"])),
    "fitzhugh-nagumo": (lambda s, p: (s[0] - s[0] ** 3 - s[1], p["epsilon"] * (s[0] - p["a1"] * s[1] - p["a0"])),
                        lambda p: (p["Du"], p["Dv"])),
    "linear": (lambda s, p: (p["a"] * s[0] + p["b"] * s[1], p["c"] * s[0] + p["d"] * s[1]),
               lambda p: (p["Du"], p["Dv"])),
    # Lengyel & Epstein 1991/1992: u' = a - u - 4uv/(1+u^2) + lap u, v' = sigma [b (u - uv/(1+u^2)) + d lap v]
    "lengyel-epstein": (lambda s, p: (p["a"] - s[0] - 4 * s[0] * s[1] / (1 + s[0] ** 2),
                                      p["sigma"] * p["b"] * (s[0] - s[0] * s[1] / (1 + s[0] ** 2))),
                        lambda p: (1.0, p["sigma"] * p["d"])),
    # Thomas (Murray II eq. 2.8): f = a - u - rho R, g = alpha (b - v) - rho R, R = uv / (1 + u + K u^2)
    "thomas": (lambda s, p: (p["a"] - s[0] - _thomas_rate(s[0], s[1], p),
                             p["alpha"] * (p["b"] - s[1]) - _thomas_rate(s[0], s[1], p)),
               lambda p: (p["Du"], p["Dv"])),
    # Barrio et al. 1999: u' = D delta lap u + alpha u (1 - r1 v^2) + v (1 - r2 u),
    #                     v' = delta lap v + beta v (1 + alpha r1 u v / beta) + u (gamma + r2 v)
    "barrio-varea-aragon-maini": (
        lambda s, p: (p["alpha"] * s[0] * (1 - p["r1"] * s[1] ** 2) + s[1] * (1 - p["r2"] * s[0]),
                      p["beta"] * s[1] * (1 + p["alpha"] * p["r1"] * s[0] * s[1] / p["beta"])
                      + s[0] * (p["gamma"] + p["r2"] * s[1])),
        lambda p: (p["D"] * p["delta"], p["delta"])),
    # Yang, Dolnik, Zhabotinsky & Epstein 2002: x' = a - (1 + b) x + x^2 y - c x + d z, y' = b x - x^2 y, z' = c x - d z
    "extended-brusselator": (
        lambda s, p: (p["a"] - (1 + p["b"]) * s[0] + s[0] ** 2 * s[1] - p["c"] * s[0] + p["d"] * s[2],
                      p["b"] * s[0] - s[0] ** 2 * s[1], p["c"] * s[0] - p["d"] * s[2]),
        lambda p: (p["Du"], p["Dv"], p["Dw"])),
}  # fmt: skip


def _laplacian(a, dx, periodic):
    """The 3-, 5- or 7-point Laplacian of one field (axes of length 1 contribute nothing)."""
    total = np.zeros_like(a)
    for axis in range(a.ndim):
        if a.shape[axis] == 1:
            continue
        if periodic:
            total += np.roll(a, 1, axis) + np.roll(a, -1, axis) - 2 * a
        else:
            padded = np.concatenate([np.take(a, [0], axis), a, np.take(a, [-1], axis)], axis)
            total += np.take(padded, range(0, a.shape[axis]), axis) + np.take(padded, range(2, a.shape[axis] + 2), axis) - 2 * a
    return total / dx**2


def _rate(name, fields, p, dx, periodic):
    reaction, diffusion = REFERENCE[name]
    return [d * _laplacian(f, dx, periodic) + r for f, d, r in zip(fields, diffusion(p), reaction(fields, p))]


def _numpy_run(name, fields, p, dx, periodic, dt, steps, integrator):
    fields = [f.copy() for f in fields]
    for _ in range(steps):
        if integrator == "euler":
            fields = [f + dt * k for f, k in zip(fields, _rate(name, fields, p, dx, periodic))]
            continue
        k1 = _rate(name, fields, p, dx, periodic)
        k2 = _rate(name, [f + 0.5 * dt * k for f, k in zip(fields, k1)], p, dx, periodic)
        k3 = _rate(name, [f + 0.5 * dt * k for f, k in zip(fields, k2)], p, dx, periodic)
        k4 = _rate(name, [f + dt * k for f, k in zip(fields, k3)], p, dx, periodic)
        fields = [f + dt / 6 * (a + 2 * b + 2 * c + d) for f, a, b, c, d in zip(fields, k1, k2, k3, k4)]
    return fields


def _set_up(name, shape, boundary, rng):
    model = get_model(name, a=-0.3, b=1.2, c=-0.7, d=-0.4) if name == "linear" else get_model(name)
    grid = Grid(shape, default_preset(name).dx, boundary)
    state = model.homogeneous_state()
    fields = [value + 0.05 * (abs(value) + 0.1) * rng.uniform(-1, 1, shape) for value in state]
    return model, grid, fields


def test_every_built_in_model_has_a_reference():
    assert set(REFERENCE) == set(model_names())


@pytest.mark.parametrize("name", model_names())
@pytest.mark.parametrize("shape,boundary", [((10, 12), "periodic"), ((1, 17), "no-flux")])
def test_generated_euler_kernel_follows_the_numpy_integration(name, shape, boundary, rng):
    model, grid, fields = _set_up(name, shape, boundary, rng)
    dt = 0.5 * largest_stable_dt(model, grid, "euler")
    stepper = make_stepper(model, grid, dt=dt)
    stepper.set_state(*fields)
    stepper.advance(100)
    expected = _numpy_run(name, fields, model.values, grid.dx, grid.periodic, dt, 100, "euler")
    assert max(np.abs(e - f).max() for e, f in zip(expected, fields)) > 1e-9  # the run moved
    for result, reference in zip(stepper.get_state(), expected):
        np.testing.assert_allclose(result, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("name", ["gray-scott", "extended-brusselator", "thomas"])
@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_generated_rk4_kernels_follow_the_numpy_integration(name, backend, rng):
    model, grid, fields = _set_up(name, (9, 11), "no-flux", rng)
    dt = 0.5 * largest_stable_dt(model, grid, "rk4")
    stepper = make_stepper(model, grid, dt=dt, integrator="rk4", backend=backend)
    stepper.set_state(*fields)
    stepper.advance(100)
    expected = _numpy_run(name, fields, model.values, grid.dx, grid.periodic, dt, 100, "rk4")
    for result, reference in zip(stepper.get_state(), expected):
        np.testing.assert_allclose(result, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("integrator", ["euler", "rk4"])
def test_torch_fused_step_follows_the_numpy_integration(integrator, rng):
    """The torch stepper's step compiled by torch.compile (inductor, C++ on the CPU; Triton on a GPU)."""
    model, grid, fields = _set_up("extended-brusselator", (9, 11), "no-flux", rng)
    dt = 0.5 * largest_stable_dt(model, grid, integrator)
    stepper = make_stepper(model, grid, dt=dt, integrator=integrator, backend="torch", fused=True)
    assert stepper.fused
    stepper.set_state(*fields)
    stepper.advance(40)
    assert stepper.fused  # compiled, not fallen back to the unfused step
    expected = _numpy_run("extended-brusselator", fields, model.values, grid.dx, grid.periodic, dt, 40, integrator)
    for result, reference in zip(stepper.get_state(), expected):
        np.testing.assert_allclose(result, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("shape,boundary", [((13, 11), "periodic"), ((9, 7), "no-flux"), ((1, 15), "periodic")])
def test_fused_rk_step_follows_the_numpy_integration_for_any_row_blocks(shape, boundary, rng):
    """The one-pass RK4 step (stages as a wavefront over rows, in place): the NumPy RK4 run for 1 to 13 blocks
    of rows (down to one row per block, where every block computes its stages from the saved neighbours)."""
    model, grid, fields = _set_up("extended-brusselator", shape, boundary, rng)
    dt = 0.5 * largest_stable_dt(model, grid, "rk4")
    expected = _numpy_run("extended-brusselator", fields, model.values, grid.dx, grid.periodic, dt, 60, "rk4")
    kernel = kernels_numba.kernels_for(model.declaration, np.float64, 2).rk_step
    p = kernels_numba.parameter_vector(list(model.values.values()), (1.0, 1.0, 1.0), np.float64)
    c = np.array(model.diffusion) / grid.dx**2
    coefficients = (np.array([0.0, 0.5 * dt, 0.5 * dt, dt]), np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]),
                    np.array([0.0, 0.5 * dt, 0.5 * dt, dt]))  # fmt: skip

    def run(state, n_blocks):
        buffers = kernels_numba.rk_buffers(grid.shape, np.float64, model.n_species, 4, n_blocks)
        for _ in range(60):
            kernel(p, c, np.zeros((0, 1, 1)), grid.dx, 0.0, dt, grid.periodic, state, *buffers, *coefficients)

    _assert_any_blocks_follow(run, sorted({1, 2, 3, shape[0]}), model, grid, fields, expected)


def _assert_any_blocks_follow(run, block_counts, model, grid, fields, expected):
    """``run(state, n_blocks)`` from ``fields`` gives the same bits for every block count, and ``expected`` to 1e-12."""
    results = []
    for n_blocks in block_counts:
        state = kernels_numba.species_fields(model.n_species, grid.shape, np.float64)
        for target, values in zip(state, fields):
            target[...] = values
        run(state, n_blocks)
        results.append(state)
    for state in results[1:]:
        assert np.array_equal(np.stack(state), np.stack(results[0]))  # any cut into blocks: the same bits
    for result, reference in zip(results[0], expected):
        np.testing.assert_allclose(result, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("integrator", ["rk2", "rk4"])
def test_fused_and_per_stage_rk_steps_agree(integrator, rng):
    """The stepper's one-pass step and its pass-per-stage kernels compute the same cells (to rounding)."""
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper

    model, grid, fields = _set_up("gray-scott", (24, 20), "periodic", rng)
    dt = 0.5 * largest_stable_dt(model, grid, integrator)
    ends = []
    for fuse in (True, False):
        stepper = NumbaExplicitStepper(model, grid, EXPLICIT_SCHEMES[integrator], dt=dt, dtype="float64",
                                       fuse_stages=fuse)  # fmt: skip
        assert hasattr(stepper, "_rk_buffers") == fuse
        stepper.set_state(*fields)
        stepper.advance(50)
        ends.append(stepper.get_state())
    for fused, staged in zip(*ends):
        np.testing.assert_allclose(fused, staged, rtol=1e-14, atol=0)


@pytest.mark.parametrize("name", ["gray-scott", "extended-brusselator"])
@pytest.mark.parametrize("boundary", ["periodic", "no-flux"])
def test_3d_in_place_euler_follows_the_numpy_integration_for_any_plane_blocks(name, boundary, rng):
    model, grid, fields = _set_up(name, (6, 5, 7), boundary, rng)
    dt = 0.5 * largest_stable_dt(model, grid, "euler")
    expected = _numpy_run(name, fields, model.values, grid.dx, grid.periodic, dt, 100, "euler")
    kernel = kernels_numba.kernels_for(model.declaration, np.float64, 3).euler_step
    p = kernels_numba.parameter_vector(list(model.values.values()), (1.0, 1.0, 1.0), np.float64)
    c = np.array(model.diffusion) / grid.dx**2

    def run(state, n_blocks):
        halo, work = kernels_numba.euler_buffers(grid.shape, np.float64, model.n_species, n_blocks)
        for _ in range(100):
            kernel(p, c, np.zeros((0, 1, 1, 1)), grid.dx, 0.0, dt, grid.periodic, state, halo, work)

    _assert_any_blocks_follow(run, (1, 2, 4, 6), model, grid, fields, expected)  # blocks of planes


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_3d_rk4_and_rates_follow_numpy(backend, rng):
    model, grid, fields = _set_up("extended-brusselator", (5, 6, 7), "periodic", rng)
    dt = 0.5 * largest_stable_dt(model, grid, "rk4")
    stepper = make_stepper(model, grid, dt=dt, integrator="rk4", backend=backend)
    stepper.set_state(*fields)
    rates = stepper.rates()
    reaction, diffusion = REFERENCE["extended-brusselator"]
    for name, expected in zip(model.species, reaction(fields, model.values)):
        np.testing.assert_allclose(rates[f"reaction_{name}"], expected, rtol=1e-13, atol=1e-13)
    stepper.advance(100)
    expected = _numpy_run("extended-brusselator", fields, model.values, grid.dx, True, dt, 100, "rk4")
    for result, reference in zip(stepper.get_state(), expected):
        np.testing.assert_allclose(result, reference, rtol=1e-12, atol=1e-12 * np.abs(reference).max())


@pytest.mark.parametrize("shape", [(1, 32), (16, 12), (8, 6, 10)])
def test_etdrk4_diffuses_a_fourier_mode_exactly_on_every_grid(shape):
    # pure diffusion: ETDRK4 treats the linear part exactly, so a Fourier mode decays as exp(-D |q|^2 t)
    model = get_model("linear", Du=0.3, Dv=0.1)
    grid = Grid(shape, 0.5)
    coordinates = grid.expression_values()
    lengths = [coordinates[name] for name in ("Lx", "Ly", "Lz")]
    q = [2 * np.pi * 2 / lengths[0], 2 * np.pi / lengths[1] if grid.ndim > 1 else 0.0, 2 * np.pi / lengths[2] if grid.ndim > 2 else 0.0]
    mode = np.broadcast_to(np.cos(q[0] * coordinates["x"] + q[1] * coordinates["y"] + q[2] * coordinates["z"]), shape)
    for backend in ("numpy", "torch"):
        stepper = make_stepper(model, grid, dt=0.1, integrator="etdrk4", backend=backend)
        stepper.set_state(mode, 2 * mode)
        stepper.advance(20)
        u, v = stepper.get_state()
        q2 = sum(value**2 for value in q)
        np.testing.assert_allclose(u, mode * np.exp(-0.3 * q2 * 2.0), atol=1e-13)
        np.testing.assert_allclose(v, 2 * mode * np.exp(-0.1 * q2 * 2.0), atol=1e-13)


def test_three_species_etdrk4_numpy_and_torch_agree(rng):
    model, grid, fields = _set_up("extended-brusselator", (16, 16), "periodic", rng)
    runs = []
    for backend in ("numpy", "torch"):
        stepper = make_stepper(model, grid, dt=0.01, integrator="etdrk4", backend=backend)
        stepper.set_state(*fields)
        stepper.advance(50)
        runs.append((stepper.get_state(), stepper.rates()))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    for name in runs[0][1]:
        np.testing.assert_allclose(runs[0][1][name], runs[1][1][name], rtol=0, atol=1e-10)


def test_float32_kernels_compute_in_float32(rng):
    # the generated constants are typed: a float32 run must equal a float32 NumPy integration
    # far better than float32 follows float64
    model, grid, fields = _set_up("gray-scott", (8, 8), "periodic", rng)
    fields32 = [f.astype(np.float32) for f in fields]
    dt = np.float32(0.5)
    stepper = make_stepper(model, grid, dt=0.5, dtype="float32")
    stepper.set_state(*fields32)
    stepper.advance(1)
    p = {k: np.float32(v) for k, v in model.values.items()}
    expected = [f + dt * k for f, k in zip(fields32, _rate("gray-scott", fields32, p, np.float32(grid.dx), True))]
    for result, reference in zip(stepper.get_state(), expected):
        assert result.dtype == np.float32
        np.testing.assert_allclose(result, reference, rtol=2e-6)


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("shape,boundary", [((13, 11), "periodic"), ((9, 7), "no-flux"), ((1, 15), "periodic")])
def test_euler_steps_in_one_pass_follow_the_numpy_integration_for_any_row_blocks(depth, shape, boundary, rng):
    """``euler_steps`` (depth Euler steps as a wavefront over rows, in place): the NumPy Euler run for 1 to 13
    blocks of rows (down to one row per block, where a block's steps reach beyond both of its ends)."""
    model, grid, fields = _set_up("extended-brusselator", shape, boundary, rng)
    dt = 0.5 * largest_stable_dt(model, grid, "euler")
    expected = _numpy_run("extended-brusselator", fields, model.values, grid.dx, grid.periodic, dt, 60, "euler")
    kernel = kernels_numba.kernels_for(model.declaration, np.float64, 2).euler_steps
    p = kernels_numba.parameter_vector(list(model.values.values()), (1.0, 1.0, 1.0), np.float64)
    c = np.array(model.diffusion) / grid.dx**2

    def run(state, n_blocks):
        buffers = kernels_numba.euler_steps_buffers(grid.shape, np.float64, model.n_species, depth, n_blocks)
        for _ in range(60 // depth):
            kernel(p, c, np.zeros((0, 1, 1)), grid.dx, np.zeros(depth), dt, grid.periodic, state, *buffers)

    _assert_any_blocks_follow(run, sorted({1, 2, 3, shape[0]}), model, grid, fields, expected)



@pytest.mark.parametrize("shape,boundary", [((13, 11), "periodic"), ((9, 7), "no-flux"), ((1, 15), "periodic"),
                                            ((8, 6), "no-flux")])
def test_euler_steps_two_rows_at_a_time_and_prefetching_changes_no_bit(shape, boundary, rng, tmp_path, monkeypatch):
    """``euler_steps`` computing each step's rows two by two with the prefetch of the rows ahead (float32's
    kernels: :data:`rd_classic.codegen.ROW_PAIRS`, :mod:`rd_classic.cache_hints`) gives the bits of the kernel
    computing one row at a time without prefetch, for any cut into row blocks: blocks of odd and even row counts
    (a last row alone), down to one row per block, the grid's edges (no-flux) and rows wrapping around."""
    from rd_classic import codegen
    from rd_classic.kernel_cache import load_generated, module_key

    monkeypatch.setenv("RDNET_KERNEL_CACHE", str(tmp_path))
    monkeypatch.setattr(codegen, "ROW_PAIRS_MAX_SPECIES", 3)
    model, grid, fields = _set_up("extended-brusselator", shape, boundary, rng)
    dt = np.float32(0.5 * largest_stable_dt(model, grid, "euler"))
    p = kernels_numba.parameter_vector(list(model.values.values()), (1.0, 1.0, 1.0), np.float32)
    c = (np.array(model.diffusion) / grid.dx**2).astype(np.float32)
    depth = 3
    results = []
    for chosen in (frozenset({"float32"}), frozenset()):
        monkeypatch.setattr(codegen, "ROW_PAIRS", chosen)
        monkeypatch.setattr(codegen, "PREFETCH_STATE_ROWS", chosen)
        source = codegen.kernels_source(model.declaration, dtype="float32", ndim=2, fields=(False,) * len(model.values))
        assert ("prefetch_cells(" in source) == ("ob0[j]" in source) == bool(chosen)
        key = module_key("row-pairs-test", codegen.GENERATOR_SIGNATURE, model.declaration.digest, str(bool(chosen)))
        kernel = load_generated(key, lambda: source).euler_steps
        for n_blocks in sorted({1, 2, 3, shape[0]}):
            state = kernels_numba.species_fields(model.n_species, grid.shape, np.float32)
            for target, values in zip(state, fields):
                target[...] = values
            buffers = kernels_numba.euler_steps_buffers(grid.shape, np.float32, model.n_species, depth, n_blocks)
            for _ in range(4):
                kernel(p, c, np.zeros((0, 1, 1), np.float32), np.float32(grid.dx), np.zeros(depth, np.float32), dt,
                       grid.periodic, state, *buffers)  # fmt: skip
            results.append(np.stack(state))
    assert not np.array_equal(results[0], np.stack(fields).astype(np.float32))  # the steps moved the state
    for result in results[1:]:
        assert np.array_equal(result, results[0])


#: a forced model whose terms read the time, the coordinates and a field-valued parameter
_FORCED_MODEL = """
name = "forced"
species = ["u", "v"]
[parameters]
a = 0.4
b = 0.7
[diffusion]
u = "0.3"
v = "0.05"
[reaction]
u = "a - u + u**2*v + 0.1*sin(2*t)*cos(x)"
v = "b - u**2*v + 0.05*y*exp(-t)"
"""


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("boundary", ["periodic", "no-flux"])
def test_the_euler_stepper_s_passes_of_steps_agree_with_single_steps(dtype, boundary, rng):
    """The stepper's temporally blocked Euler steps (``euler_steps``, passes of several steps) against its one-step
    kernel, on a model reading the time, the coordinates and a field-valued parameter, also for a step count that
    leaves a remainder after the passes: the same cells to rounding (the compiler contracts a product into a
    fused multiply-add differently in a few edge cells of the two kernels: 1 ulp, as between the fused and the
    per-stage Runge-Kutta kernels)."""
    from rd_classic.models import model_from_text

    model = get_model(model_from_text(_FORCED_MODEL))
    grid = Grid((150, 20), 0.25, boundary)
    field_a = 0.4 + 0.1 * rng.uniform(-1, 1, grid.shape)
    fields = [1.1 + 0.05 * rng.uniform(-1, 1, grid.shape), 0.6 + 0.05 * rng.uniform(-1, 1, grid.shape)]
    dt = 0.5 * largest_stable_dt(model, grid, "euler")
    ends = []
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper

    for steps_per_pass in (None, 1):
        stepper = NumbaExplicitStepper(model, grid, EXPLICIT_SCHEMES["euler"], dt=dt, dtype=dtype,
                                       parameter_fields={"a": field_a}, steps_per_pass=steps_per_pass)  # fmt: skip
        assert hasattr(stepper, "_pass_buffers") == (steps_per_pass is None)  # the default takes passes here
        stepper.set_state(*fields, step=3)
        stepper.advance(23)
        assert stepper.step == 26
        ends.append(stepper.get_state())
    tolerance = 1e-14 if dtype == "float64" else 1e-6
    for passes, single in zip(*ends):
        np.testing.assert_allclose(passes, single, rtol=tolerance, atol=0)


_FIVE_SPECIES = """
name = "five-species-ring"
description = "five species, each fed by the next: the cell loop reads 15 rows and writes 5"
species = ["s0", "s1", "s2", "s3", "s4"]
[parameters]
a = { value = 0.1 }
D = { value = 0.2 }
[diffusion]
s0 = "D"
s1 = "D"
s2 = "D"
s3 = "D"
s4 = "D"
[reaction]
s0 = "a*s1 - s0"
s1 = "a*s2 - s1"
s2 = "a*s3 - s2"
s3 = "a*s4 - s3"
s4 = "a*s0 - s4"
"""


def _packed_fmas(model, tmp_path, monkeypatch) -> tuple[int, np.ndarray]:
    """Packed (vector) fused multiply-adds in the compiled ``euler_step`` of ``model`` (float64), compiled afresh: its
    module loaded under a key of this test into a kernel cache of its own (numba shows no assembly for cached code,
    and :func:`kernels_numba.kernels_for` returns the module an earlier test may have loaded from the disk cache);
    and the state after two steps."""
    import re

    from rd_classic import codegen
    from rd_classic.integrators import EXPLICIT_SCHEMES, NumbaExplicitStepper
    from rd_classic.kernel_cache import load_generated, module_key

    monkeypatch.setenv("RDNET_KERNEL_CACHE", str(tmp_path / model.name))
    grid = Grid((8, 64), 1.0)
    stepper = NumbaExplicitStepper(model, grid, EXPLICIT_SCHEMES["euler"], dt=0.1, dtype="float64", steps_per_pass=1)
    source = codegen.kernels_source(model.declaration, dtype="float64", ndim=2, fields=(False,) * len(model.values))
    stepper._kernels = load_generated(module_key("packed-fma-test", str(tmp_path), model.declaration.digest),
                                      lambda: source)  # fmt: skip
    stepper.set_state(*(np.full(grid.shape, 1.0 + s) for s in range(model.n_species)))
    stepper.advance(2)
    (assembly,) = stepper._kernels.euler_step.inspect_asm().values()
    return len(re.findall(r"\bvfn?m(?:add|sub)\w*pd\s", assembly)), stepper.get_state()


def test_a_five_species_cell_loop_is_vectorised(tmp_path, monkeypatch):
    """The cell loop of a five-species model (15 rows read, 5 written: more run-time overlap checks than LLVM's
    default allows, :data:`rd_classic.kernels_numba.LLVM_OPTIONS`) compiles to packed fused multiply-adds wherever
    Gray-Scott's does; the five-species step is checked against its closed form (uniform fields: no diffusion)."""
    from rd_classic.models import model_from_text

    gray_scott, _ = _packed_fmas(get_model("gray-scott"), tmp_path, monkeypatch)
    if gray_scott == 0:
        pytest.skip("this CPU's kernels use no packed fused multiply-add")
    packed, state = _packed_fmas(get_model(model_from_text(_FIVE_SPECIES)), tmp_path, monkeypatch)
    assert packed > 0
    expected = np.array([1.0 + s for s in range(5)])
    for _ in range(2):
        expected = expected + 0.1 * (0.1 * np.roll(expected, -1) - expected)
    np.testing.assert_allclose([field.mean() for field in state], expected, rtol=1e-14)
    assert all(np.ptp(field) == 0 for field in state)
