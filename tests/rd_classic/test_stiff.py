"""Stiff time stepping beyond periodic boxes: ETDRK4 with cosine/sine transforms, the IMEX scheme, their solves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

from rdnet.errors import ConfigError
from rd_classic.boundaries import resolve_boundary_conditions
from rd_classic.grids import Grid
from rd_classic.integrators import largest_stable_dt, make_stepper
from rd_classic.models import get_model
from rd_classic.run import build_config
from rd_classic.schemes import IMEX_SCHEMES
from rd_classic.spectral import SpectralBox, axis_transforms
from rd_classic.stiff import DiffusionSolver


def _conditions(model, *specifications):
    return resolve_boundary_conditions(model.species, model.parameter_names(), specifications=list(specifications))


def _laplacian_of(field_u, field_v, grid, conditions, model):
    stepper = make_stepper(model, grid, dt=1.0, integrator="euler", boundary=conditions)
    stepper.set_state(field_u, field_v)
    rates = stepper.rates()
    return np.stack([rates["diffusion_u"] / model.diffusion[0], rates["diffusion_v"] / model.diffusion[1]])


@pytest.mark.parametrize("specifications,kinds", [
    (("no-flux",), ("dct2", "dct2", "dct2", "dct2")),
    (("dirichlet 0",), ("dst2", "dst2", "dst2", "dst2")),
    (("u.x-=dirichlet 0", "u.x+=neumann 0", "u.y=periodic", "v.y=periodic", "v.x-=neumann 0", "v.x+=dirichlet 0"),
     ("fft", "dst4", "fft", "dct4")),
])  # fmt: skip
def test_the_transforms_diagonalise_the_ghost_cell_laplacian(specifications, kinds, rng):
    # transform(L u) = symbol * transform(u), L from the explicit stepper's rates (an independent path)
    model = get_model("linear", Du=1.0, Dv=1.0)
    grid = Grid((6, 10), 0.3)
    conditions = _conditions(model, *specifications)
    values = {**dict(model.values), **grid.expression_values()}
    axis_kinds = [axis_transforms(grid, conditions, name, values) for name in model.species]
    assert tuple(kind for pair in axis_kinds for kind in pair) == kinds
    box = SpectralBox(grid, axis_kinds)
    fields = rng.standard_normal((2, *grid.shape))
    coefficients = box.forward(fields)
    np.testing.assert_allclose(box.inverse(coefficients), fields, atol=1e-12)
    laplacian = _laplacian_of(fields[0], fields[1], grid, conditions, model)
    np.testing.assert_allclose(box.forward(laplacian), box.symbol * coefficients, atol=1e-9)


@pytest.mark.parametrize("specifications", [("robin 1, 0.5, 0.2*t",), ("no-flux", "u=dirichlet 0.3", "v.y=periodic")])
def test_implicit_diffusion_solve_inverts_its_operator(specifications, rng):
    # (1 - h D L) U = r, checked with L from the explicit stepper's rates (linear part: homogeneous sides)
    model = get_model("linear", Du=0.7, Dv=2.0)
    grid = Grid((5, 7), 0.5)
    conditions = _conditions(model, *specifications)
    solver = DiffusionSolver(model, grid, conditions)
    rhs = rng.standard_normal((2, *grid.shape))
    solved = solver.solve(rhs, 0.3)
    homogeneous = _conditions(model, *(text.replace("0.2*t", "0").replace("dirichlet 0.3", "dirichlet 0")
                                       for text in specifications))  # fmt: skip
    laplacian = _laplacian_of(solved[0], solved[1], grid, homogeneous, model)
    residual = solved - 0.3 * np.asarray(model.diffusion)[:, None, None] * laplacian - rhs
    assert np.abs(residual).max() < 1e-10


@pytest.mark.parametrize("specifications,mode", [(("no-flux",), "cos"), (("dirichlet 0",), "sin")])
def test_etdrk4_on_a_box_is_fourth_order_on_a_coupled_linear_mode(specifications, mode):
    # one cosine (sine) mode of the ghost-cell Laplacian: amplitudes evolve by expm((J + mu D) t)
    n, length = 16, 2.0
    grid = Grid((1, n), length / n)
    _, x = grid.coordinates()
    profile = (np.cos if mode == "cos" else np.sin)(math.pi * x / length)[None, :]
    model = get_model("linear", a=-0.2, b=1.0, c=-1.0, d=-0.3, Du=0.1, Dv=0.05)
    mu = -(4 / grid.dx**2) * math.sin(math.pi / (2 * n)) ** 2
    end, amplitude0 = 2.0, np.array([1.0, 0.5])
    exact = expm(end * (model.jacobian(0, 0) + mu * np.diag(model.diffusion))) @ amplitude0
    errors = []
    for count in (5, 10, 20):
        stepper = make_stepper(model, grid, dt=end / count, integrator="etdrk4", boundary=_conditions(model, *specifications))
        stepper.set_state(amplitude0[0] * profile, amplitude0[1] * profile)
        stepper.advance(count)
        u, v = stepper.get_state()
        errors.append(max(np.abs(u - exact[0] * profile).max(), np.abs(v - exact[1] * profile).max()))
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert np.all(np.abs(orders - 4.0) < 0.3), (errors, orders)


def _reference(model, grid, conditions, fields, end):
    steps = 4000
    stepper = make_stepper(model, grid, dt=end / steps, integrator="rk4", boundary=conditions)
    stepper.set_state(*fields)
    stepper.advance(steps)
    return stepper.get_state()


def _error(integrator, model, grid, conditions, fields, end, count, reference):
    stepper = make_stepper(model, grid, dt=end / count, integrator=integrator, boundary=conditions)
    stepper.set_state(*fields)
    stepper.advance(count)
    return max(np.abs(a - b).max() for a, b in zip(stepper.get_state(), reference))


@pytest.mark.parametrize("integrator,order,counts", [("etdrk4", 4, (40, 80, 160)), ("imex", 2, (20, 40))])
def test_nonlinear_orders_with_values_fluxes_and_robin_sides(integrator, order, counts, rng):
    # Schnakenberg with a time-dependent Dirichlet value, a flux and (imex) a Robin side, against
    # RK4 at a small step on the same grid (the same semi-discrete system)
    model = get_model("schnakenberg")
    grid = Grid((8, 12), 1.0)
    u_star, v_star = model.homogeneous_state()
    fields = (u_star + 0.1 * rng.standard_normal(grid.shape), v_star + 0.1 * rng.standard_normal(grid.shape))
    specifications = ["no-flux", "u.x-=dirichlet 0.9 + 0.1*sin(t)", "v.x+=neumann 0.2", "u.y=periodic", "v.y=periodic"]
    if integrator == "imex":
        specifications.append("v.x-=robin 1, 2, 0.5")
    conditions = _conditions(model, *specifications)
    reference = _reference(model, grid, conditions, fields, 1.0)
    errors = [_error(integrator, model, grid, conditions, fields, 1.0, count, reference) for count in counts]
    orders = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
    assert orders[-1] > order - 0.45, (errors, orders)


def test_imex_runs_a_stiff_neumann_box_far_beyond_the_diffusive_limit():
    # Dv/Du = 40: the explicit limit is set by Dv; imex at 50x that step stays within 1e-3 of the reference
    model = get_model("gierer-meinhardt")
    assert model.diffusion[1] / model.diffusion[0] >= 20
    grid = Grid((1, 64), 0.5)
    conditions = _conditions(model, "no-flux")
    limit = largest_stable_dt(model, grid, "euler", boundary=conditions)
    u_star, v_star = model.homogeneous_state()
    _, x = grid.coordinates()
    fields = (u_star * (1 + 0.05 * np.cos(2 * math.pi * x / 8))[None, :], np.full(grid.shape, v_star))
    end = 2.0
    reference = _reference(model, grid, conditions, fields, end)
    count = math.ceil(end / (50 * limit))
    assert end / count > 40 * limit
    assert _error("imex", model, grid, conditions, fields, end, count, reference) < 1e-3
    assert largest_stable_dt(model, grid, "imex", boundary=conditions) > 50 * limit  # the reaction's own limit


@pytest.mark.parametrize("integrator,radius", [("etdrk4", 2.785293563405282), ("imex", 2.0)])
def test_the_explicit_reaction_of_etdrk4_and_imex_has_its_step_limit(integrator, radius, tmp_path):
    # u' = -100 u + D u'': the uniform mode has no diffusion, so one step is the explicit part alone, RK4 for ETDRK4
    # (radius 2.785 on the negative axis) and 1 + z + z²/2 for ARS(2,2,2) (radius 2). At dt = 0.05 (z = -5) both
    # amplify it (RK4 by 14.5, ARS(2,2,2) by 8.5 per step) where the exact solution decays as exp(-100 t); the run
    # was accepted and wrote |u| = 1e7..1e9 after 10 steps without an error.
    model = get_model("linear", a=-100.0, d=-100.0)
    grid = Grid((16, 16), 1.0)
    limit = largest_stable_dt(model, grid, integrator)
    assert limit == pytest.approx(radius / 100, rel=1e-9)
    for dt, grows in ((0.05, True), (0.95 * limit, False)):
        stepper = make_stepper(model, grid, dt=dt, integrator=integrator, backend="numpy")
        stepper.set_state(np.ones(grid.shape), np.ones(grid.shape))
        stepper.advance(10)
        assert (np.abs(stepper.get_state()[0]).max() > 1.0) == grows
    with pytest.raises(ConfigError, match=f"largest stable dt is {limit:.6g}"):
        build_config(model, size="16", dt=0.05, steps=10, integrator=integrator)
    config = build_config(model, size="16", dt=0.05, steps=10, integrator=integrator, allow_unstable=True)
    assert config.dt == 0.05
    assert build_config(model, size="16", time=1.0, integrator=integrator).dt <= limit  # the default dt is within it
    # without a preset dt the default stays 0.1 where that is within the limit (not 80 % of a loose reaction limit)
    assert build_config("schnakenberg", size="16", steps=10, integrator=integrator).dt == 0.1


def test_imex_scheme_table_is_ars222():
    scheme = IMEX_SCHEMES["imex"]
    gamma = 1 - 1 / math.sqrt(2)
    assert scheme.stiffly_accurate and scheme.nodes == pytest.approx((0.0, gamma, 1.0))
    # second-order conditions of both tableaux: sum b = 1, sum b c = 1/2
    for weights in (scheme.explicit_weights, scheme.implicit_weights):
        assert sum(weights) == pytest.approx(1.0)
        assert sum(b * c for b, c in zip(weights, scheme.nodes)) == pytest.approx(0.5)


def test_spectral_steppers_refuse_what_they_cannot_run():
    model = get_model("linear")
    grid = Grid((4, 4), 1.0)
    with pytest.raises(ConfigError, match="Robin"):
        make_stepper(model, grid, dt=0.1, integrator="etdrk4", boundary=_conditions(model, "robin 1 1 0"))
    with pytest.raises(ConfigError, match="periodic"):
        make_stepper(model, grid, dt=0.1, integrator="etdrk4", backend="torch", boundary=_conditions(model, "no-flux"))
