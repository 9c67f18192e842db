"""Boundary conditions per species and side: parsing, ghost cells against analytic solutions, both backends."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rd_classic.boundaries import (
    BoundaryConditions,
    axis_eigenvalues,
    parse_side_condition,
    resolve_boundary_conditions,
)
from rd_classic.grids import Grid
from rd_classic.integrators import largest_stable_dt, make_stepper
from rd_classic.model_file import parse_model_text
from rd_classic.models import get_model

BACKENDS = ["numba", "torch"]


def _conditions(model, *specifications):
    return resolve_boundary_conditions(model.species, model.parameter_names(), specifications=list(specifications))


# -- parsing -----------------------------------------------------------------------------


def test_conditions_parse_to_robin_coefficients_and_ghost_values():
    # a ghost cell dx/2 outside: u_face = (u_e + u_g)/2, du/dn = (u_g - u_e)/dx
    dx = 0.1
    for text, u_edge in (("dirichlet 2", 0.5), ("neumann 3", 0.5), ("robin 2, 0.5, 1 + a", 0.25), ("robin 2 0.5 4", 1.0)):
        condition = parse_side_condition(text, ["a"])
        values = {"a": 3.0, "x": 0.0, "y": 0.0, "z": 0.0, "t": 0.0, "Lx": 1.0, "Ly": 1.0, "Lz": 1.0}
        ghost = condition.ghost_alpha(values, dx) * u_edge + condition.ghost_beta(values, dx)
        face, slope = (u_edge + ghost) / 2, (ghost - u_edge) / dx
        a, b, c = (float(part.evaluate(values)) for part in condition.coefficients)
        assert a * face + b * slope == pytest.approx(c, rel=1e-12)
    assert parse_side_condition("no-flux", []).zero_flux
    assert parse_side_condition("neumann 0", []).text == "neumann 0"
    assert parse_side_condition(" periodic ", []).periodic


@pytest.mark.parametrize("text,message", [
    ("diriclet 1", "unknown boundary condition"),
    ("dirichlet", "needs a value"),
    ("robin 1 2", "three values"),
    ("robin 1 - 2 3", "three values"),
    ("robin 1, 0.5, 2,", "three values"),  # a trailing comma was dropped and the condition accepted
    ("robin 1,, 2", "empty"),
    ("periodic 1", "takes no value"),
    ("dirichlet __import__('os')", "not allowed"),
    ("neumann u", "not declared"),
    ("robin x, 1, 0", "not declared"),  # A and B are constants (parameters only)
])  # fmt: skip
def test_bad_conditions_are_refused_with_one_line(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_side_condition(text, ["a"])


MODEL_WITH_BOUNDARY = """
name = "walls"
species = ["u", "v"]
[parameters]
a = 1.0
[diffusion]
u = 1.0
v = 2.0
[reaction]
u = "-u"
v = "-v"
[boundary]
u = "dirichlet a"
[boundary.v]
x = "periodic"
"y+" = "robin 1, 2, t"
"""


def test_model_file_table_then_command_line_specifications_in_order():
    declaration = parse_model_text(MODEL_WITH_BOUNDARY)
    resolved = resolve_boundary_conditions(declaration.species, declaration.parameter_names, declared=declaration.boundary)
    assert resolved.side("u", "z+").text == "dirichlet a"
    assert [resolved.side("v", side).text for side in ("x-", "x+", "y-", "y+")] == [
        "periodic", "periodic", "periodic", "robin 1, 2, t"]  # fmt: skip
    assert resolved.summary(2) == "mixed"
    later = resolve_boundary_conditions(declaration.species, declaration.parameter_names, declared=declaration.boundary,
                                        specifications=["no-flux", "u.x+=dirichlet 0"])  # fmt: skip
    assert later.side("v", "y+").zero_flux and later.side("u", "x-").zero_flux  # the bare word: every species
    assert later.side("u", "x+").text == "dirichlet 0"
    with pytest.raises(ConfigError, match="periodic on both sides"):
        resolve_boundary_conditions(["u"], [], specifications=["u.x-=dirichlet 1"]).check(2)
    with pytest.raises(ConfigError, match="not a species"):
        resolve_boundary_conditions(["u"], [], specifications=["w=dirichlet 1"])
    with pytest.raises(ConfigError, match="unknown side"):
        parse_model_text(MODEL_WITH_BOUNDARY.replace('"y+"', '"w+"'))
    stored = BoundaryConditions.from_json(later.to_json(), declaration.species, declaration.parameter_names)
    assert stored.to_json() == later.to_json()


# -- the discrete operator against closed forms -------------------------------------------


@pytest.mark.parametrize("alphas", [None, (1.0, 1.0), (-1.0, -1.0), (-1.0, 1.0), (0.3, -0.6)])
def test_axis_eigenvalues_are_those_of_the_assembled_matrix(alphas):
    n, dx = 9, 0.7
    matrix = (np.diag(np.full(n, -2.0)) + np.diag(np.ones(n - 1), 1) + np.diag(np.ones(n - 1), -1)) / dx**2
    if alphas is None:
        matrix[0, -1] = matrix[-1, 0] = 1 / dx**2
    else:
        matrix[0, 0] += alphas[0] / dx**2
        matrix[-1, -1] += alphas[1] / dx**2
    np.testing.assert_allclose(axis_eigenvalues(n, dx, alphas), np.sort(np.linalg.eigvalsh(matrix)), atol=1e-12)


def _decay_rate(backend, integrator, grid, conditions, mode, dt, steps, model):
    stepper = make_stepper(model, grid, dt=dt, integrator=integrator, backend=backend, boundary=conditions)
    stepper.set_state(mode, 0.5 * mode)
    stepper.advance(steps)
    u, v = stepper.get_state()
    return (math.log(np.sum(u * mode) / np.sum(mode * mode)) / (steps * dt),
            math.log(np.sum(v * mode) / np.sum(0.5 * mode * mode)) / (steps * dt))  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
def test_sine_mode_decays_under_dirichlet_and_cosine_mode_under_neumann_at_the_discrete_rate(backend):
    # u: sin(pi x / L) with u = 0 on both x faces; v: the same field, but v has zero flux
    # there, so v sees it as a sum of cosine modes: only u is checked at 1e-6; the cosine
    # mode is checked on its own below. y is periodic, the mode constant along it.
    model = get_model("linear", Du=1.0, Dv=0.5)
    n, length = 24, 1.0
    grid = Grid((6, n), length / n)
    _, x = grid.coordinates()
    sine = np.broadcast_to(np.sin(np.pi * x / length)[None, :], grid.shape).copy()
    cosine = np.broadcast_to(np.cos(np.pi * x / length)[None, :], grid.shape).copy()
    mu = -(4 / grid.dx**2) * math.sin(math.pi / (2 * n)) ** 2  # the same for both: sin^2(pi m / 2n)
    dt = 0.2 * grid.dx**2
    for conditions, mode in ((_conditions(model, "u.x=dirichlet 0", "v.x=dirichlet 0"), sine),
                             (_conditions(model, "u.x=no-flux", "v.x=no-flux"), cosine)):  # fmt: skip
        rate_u, rate_v = _decay_rate(backend, "rk4", grid, conditions, mode, dt, 200, model)
        assert rate_u == pytest.approx(1.0 * mu, rel=1e-6)
        assert rate_v == pytest.approx(0.5 * mu, rel=1e-6)


def test_decay_rate_converges_at_second_order_in_dx_under_dirichlet():
    # the discrete rate D (4/dx^2) sin^2(pi dx / 2L) -> D (pi/L)^2, error ~ dx^2
    model = get_model("linear", Du=1.0, Dv=1.0)
    errors = []
    for n in (8, 16, 32):
        grid = Grid((1, n), 1.0 / n)
        _, x = grid.coordinates()
        mode = np.sin(np.pi * x)[None, :]
        rate, _ = _decay_rate("numba", "rk4", grid, _conditions(model, "dirichlet 0"), mode, 0.1 * grid.dx**2, 100, model)
        errors.append(abs(rate + math.pi**2))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 2.0) < 0.05), orders


@pytest.mark.parametrize("backend", BACKENDS)
def test_3d_box_with_dirichlet_z_and_neumann_xy(backend):
    model = get_model("linear", Du=1.0, Dv=1.0)
    n = 8
    grid = Grid((n, n, n), 1.0 / n)
    z, y, x = grid.coordinates()
    mode = np.sin(np.pi * z)[:, None, None] * np.cos(np.pi * x)[None, None, :] * np.cos(2 * np.pi * y)[None, :, None]
    mu = -(4 / grid.dx**2) * (math.sin(math.pi / (2 * n)) ** 2 * 2 + math.sin(math.pi / n) ** 2)
    conditions = _conditions(model, "no-flux", "u.z=dirichlet 0", "v.z=dirichlet 0")
    rate_u, rate_v = _decay_rate(backend, "rk4", grid, conditions, mode, 0.1 * grid.dx**2, 60, model)
    assert rate_u == pytest.approx(mu, rel=1e-6) and rate_v == pytest.approx(mu, rel=1e-6)


def test_robin_steady_state_in_1d_against_its_closed_form():
    # u_t = D u'' - k u on [0, L], u(0) = 1 (Dirichlet), A u + B u'(L) = C (Robin, outward normal +x):
    # u = cosh(m x) + c2 sinh(m x), m = sqrt(k/D); second order in dx, at the faces too
    D, k, L, A, B, C = 1.0, 4.0, 1.0, 2.0, 0.5, 0.3
    m = math.sqrt(k / D)
    c2 = (C - A * math.cosh(m * L) - B * m * math.sinh(m * L)) / (A * math.sinh(m * L) + B * m * math.cosh(m * L))

    def exact(x):
        return np.cosh(m * x) + c2 * np.sinh(m * x)

    model = get_model("linear", a=-k, Du=D, Dv=D)
    errors, face_errors = [], []
    for n in (8, 16, 32):
        grid = Grid((1, n), L / n)
        _, x = grid.coordinates()
        conditions = _conditions(model, "u.x-=dirichlet 1", f"u.x+=robin {A} {B} {C}", "v=no-flux")
        stepper = make_stepper(model, grid, dt=0.2 * grid.dx**2 / D, integrator="rk4", boundary=conditions)
        stepper.set_state(np.zeros(grid.shape), np.zeros(grid.shape))
        stepper.advance(round(12.0 / k / (0.2 * grid.dx**2)))  # e^-48: steady
        u, _ = stepper.get_state()
        errors.append(np.abs(u[0] - exact(x)).max())
        # the Robin face: u_face and du/dn from the edge cell and its ghost
        alpha = (B / grid.dx - A / 2) / (B / grid.dx + A / 2)
        ghost = alpha * u[0, -1] + C / (B / grid.dx + A / 2)
        face_errors.append(abs((u[0, -1] + ghost) / 2 - exact(L)))
    for series in (errors, face_errors):
        orders = np.log2(np.array(series[:-1]) / np.array(series[1:]))
        assert np.all(orders > 1.85), (series, orders)
    assert errors[-1] < 1e-3


def test_time_dependent_dirichlet_value_is_taken_at_each_stage_time():
    # RK4 with u(0, t) = sin(3t) converges at fourth order in time (a value frozen at the step's
    # start would give first order)
    model = get_model("linear", Du=1.0, Dv=1.0)
    grid = Grid((1, 12), 1.0 / 12)
    conditions = _conditions(model, "no-flux", "u.x-=dirichlet sin(3*t)")

    def run(steps):
        stepper = make_stepper(model, grid, dt=0.5 / steps, integrator="rk4", boundary=conditions)
        stepper.set_state(np.zeros(grid.shape), np.zeros(grid.shape))
        stepper.advance(steps)
        return stepper.get_state()[0]

    reference = run(3200)
    errors = [np.abs(run(steps) - reference).max() for steps in (400, 800)]
    assert math.log2(errors[0] / errors[1]) == pytest.approx(4.0, abs=0.3)


def test_numba_and_torch_agree_with_mixed_conditions_and_expressions(rng):
    model = get_model("gray-scott", F=0.035, k=0.065, Du=0.16, Dv=0.08)
    grid = Grid((10, 12), 1.0)
    conditions = _conditions(model, "u.x=robin 1, 2, 1 + 0.1*sin(y)", "u.y=dirichlet 1", "v.x=periodic",
                             "v.y-=neumann 0.01*t", "v.y+=dirichlet 0.25*F/0.035")  # fmt: skip
    fields = (1 - 0.5 * rng.uniform(size=grid.shape), 0.25 * rng.uniform(size=grid.shape))
    results = {}
    for backend in BACKENDS:
        for integrator in ("euler", "rk4"):
            stepper = make_stepper(model, grid, dt=0.5, integrator=integrator, backend=backend, boundary=conditions)
            stepper.set_state(*fields)
            stepper.advance(50)
            results[backend, integrator] = (stepper.get_state(), stepper.rates())
    for integrator in ("euler", "rk4"):
        (numba_state, numba_rates), (torch_state, torch_rates) = results["numba", integrator], results["torch", integrator]
        for a, b in zip(numba_state, torch_state):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
        for name in numba_rates:
            np.testing.assert_allclose(numba_rates[name], torch_rates[name], rtol=0, atol=1e-12)


def test_stability_limit_of_a_dirichlet_box_is_that_of_its_assembled_operator():
    # Euler: dt_max = 2 / max|eig| of the assembled (reaction + diffusion) operator
    model = get_model("linear", a=-3.0, d=-1.0, Du=1.0, Dv=0.2)
    grid = Grid((5, 7), 1.0)
    conditions = _conditions(model, "u=dirichlet 0", "v=robin 1, 1, 0")
    stepper = make_stepper(model, grid, dt=1.0, integrator="euler", boundary=conditions)
    size = 2 * grid.n_cells
    matrix = np.zeros((size, size))
    for column in range(size):
        unit = np.zeros(size)
        unit[column] = 1.0
        stepper.set_state(unit[: grid.n_cells].reshape(grid.shape), unit[grid.n_cells :].reshape(grid.shape))
        rates = stepper.rates()
        matrix[:, column] = np.concatenate([(rates["reaction_u"] + rates["diffusion_u"]).ravel(),
                                            (rates["reaction_v"] + rates["diffusion_v"]).ravel()])  # fmt: skip
    largest = np.abs(np.linalg.eigvals(matrix)).max()
    assert largest_stable_dt(model, grid, "euler", boundary=conditions) == pytest.approx(2 / largest, rel=1e-9)


def test_run_stores_its_conditions_and_resumes_with_them(tmp_path):
    import json

    from rdnet.dataset import open_dataset
    from rd_classic.observers import ClassicDatasetObserver
    from rd_classic.run import MemoryObserver, SimulationConfig, build_config, run_simulation

    config = build_config("schnakenberg", size="16x8", steps=40, snapshot_every=20,
                          boundary=["no-flux", "u.x-=dirichlet 1 + 0.1*sin(pi*y/Ly)"])  # fmt: skip
    parameters = config.to_parameters()
    assert parameters["boundary"] == "mixed"
    assert parameters["boundary_conditions"]["u"]["x-"] == "dirichlet 1 + 0.1*sin(pi*y/Ly)"
    whole = MemoryObserver()
    run_simulation(config, observers=[whole])
    path = tmp_path / "run.nc"
    writer = ClassicDatasetObserver(path)
    run_simulation(config, observers=[writer])
    # rebuild the run from the file's stored parameters (as --resume does) and continue from its middle snapshot
    with open_dataset(path) as ds:
        stored = json.loads(ds.attrs["parameters"])
        middle = tuple(np.asarray(ds[name].values[1]) for name in ("u", "v"))
    again = SimulationConfig.from_parameters(stored)
    assert again.boundary.to_json() == config.boundary.to_json()
    resumed = MemoryObserver()
    run_simulation(again, observers=[resumed], state=middle, start_step=20)
    np.testing.assert_array_equal(resumed.fields["u"][-1], whole.fields["u"][-1])


def test_a_condition_using_a_field_valued_parameter_is_refused():
    from rd_classic.run import build_config

    with pytest.raises(ConfigError, match="varies in space"):
        build_config("schnakenberg", size="16", steps=2, parameters={"a": "0.1 + 0.01*x"},
                     boundary=["no-flux", "u=dirichlet a"])  # fmt: skip


@pytest.mark.parametrize(("size", "specification", "side"), [
    ("16", "u.z+=no-flux", "z+"),  # a 2-D grid has no z sides
    ("16", "u.z=dirichlet 1", "z"),
    ("16x1", "u.y-=dirichlet 1", "y-"),  # a 1-D grid has no y sides
])  # fmt: skip
def test_a_command_line_side_the_grid_lacks_is_refused(size, specification, side):
    """A side named on the command line that the grid does not have would be silently ignored."""
    from rd_classic.run import build_config

    with pytest.raises(ConfigError, match=rf"--boundary u\.{re.escape(side)}: the grid is \d-D: it has no side "):
        build_config("schnakenberg", size=size, steps=2, boundary=["no-flux", specification])


def test_the_sides_a_grid_has_and_whole_species_specifications_are_accepted():
    from rd_classic.run import build_config

    config = build_config("schnakenberg", size="16x1", steps=2, boundary=["no-flux", "u.x-=dirichlet 1", "v=no-flux"])
    assert config.boundary.side("u", "x-").text == "dirichlet 1"


@pytest.mark.parametrize(("backend", "integrator"), [("numba", "euler"), ("torch", "rk4"), ("numpy", "etdrk4"),
                                                     ("numpy", "imex")])  # fmt: skip
def test_a_side_value_that_is_not_finite_at_the_start_is_refused(backend, integrator):
    """log(t) at t = 0 and 1/x on the x- face (x = 0) are infinite: refused, not a run of NaN ghost cells."""
    model = get_model("linear", Du=1.0, Dv=0.5)
    grid = Grid((6, 8), 0.25)
    for specifications, side in ((["dirichlet log(t)"], "x-"), (["no-flux", "v.x=neumann 1/x"], "x-"),
                                 (["no-flux", "u.y+=neumann sqrt(y - Ly - 1)"], "y+")):  # fmt: skip
        with pytest.raises(ConfigError, match=f"on {re.escape(side)}: .* is not finite at t = 0"):
            make_stepper(model, grid, dt=1e-3, integrator=integrator, backend=backend,
                         boundary=_conditions(model, *specifications))  # fmt: skip
    finite = make_stepper(model, grid, dt=1e-3, integrator=integrator, backend=backend,
                          boundary=_conditions(model, "dirichlet log(t + 1)", "v.x=neumann 1/(x + 1)"))  # fmt: skip
    finite.set_state(np.ones(grid.shape), np.ones(grid.shape))
    finite.advance(2)
    assert all(np.all(np.isfinite(field)) for field in finite.get_state())
