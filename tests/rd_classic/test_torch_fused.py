"""The torch stepper's fused step (:func:`torch.compile`) against independent truth and the unfused step.

The fused step is compiled on the CPU here (inductor's C++ backend), the same graph a GPU
runs through Triton: the discrete decay of a Dirichlet sine mode is its truth here, the NumPy
integrations written from the published equations in ``test_generated_kernels.py`` too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdnet.errors import ConfigError, RunError
from rd_classic.boundaries import resolve_boundary_conditions
from rd_classic.grids import Grid
from rd_classic.integrators import make_stepper
from rd_classic.model_file import parse_model_text
from rd_classic.models import get_model

pytest.importorskip("torch")

FORCED_MODEL = """
name = "forced"
species = ["u", "v"]
[parameters]
k = 0.7
c = 0.2
[diffusion]
u = 0.3
v = "0.1 + k/10"
[reaction]
u = "-k*u + c*sin(t)*x/Lx + u*v"
v = "c*u - v*(1 + y/Ly)"
"""


def test_fused_step_with_time_coordinates_field_parameters_and_dirichlet_and_robin_sides(rng):
    """Time enters the compiled step as a tensor: a run whose reaction depends on t, x and y, with a diffusion
    coefficient and a reaction rate that vary in space, matches the unfused one."""
    model = get_model(parse_model_text(FORCED_MODEL))
    grid = Grid((10, 12), 0.5, "periodic")
    conditions = resolve_boundary_conditions(model.species, model.parameter_names(),
                                             specifications=["no-flux", "u.x-=dirichlet 0.5*c", "v.x+=robin 1, 0.5, c", "v.y=periodic"])  # fmt: skip
    k_field = 0.7 + 0.2 * rng.uniform(size=grid.shape)
    fields = (rng.uniform(size=grid.shape), rng.uniform(size=grid.shape))
    ends = []
    for fused in (False, True):
        stepper = make_stepper(model, grid, dt=0.05, integrator="rk2", backend="torch", fused=fused, boundary=conditions,
                               parameter_fields={"k": k_field})  # fmt: skip
        stepper.set_state(*fields)
        stepper.advance(30)
        assert stepper.step == 30 and stepper.fused == fused
        ends.append(stepper.get_state())
    for fused, unfused in zip(*ends):
        assert np.abs(unfused - fields[0]).max() > 1e-3  # the run moved
        np.testing.assert_allclose(fused, unfused, rtol=1e-13, atol=1e-13)


def test_fused_euler_damps_a_dirichlet_sine_mode_by_its_discrete_amplification_factor():
    # u_t = D u_xx, u = 0 at both ends: sin(pi x / L) is an eigenvector of the 3-point Laplacian with
    # eigenvalue mu = -(4/dx^2) sin^2(pi / 2n); explicit Euler multiplies it by (1 + D dt mu) every step
    model = get_model("linear", a=0.0, b=0.0, c=0.0, d=0.0, Du=1.0, Dv=0.5)
    n = 20
    grid = Grid((1, n), 1.0 / n)
    _, x = grid.coordinates()
    mode = np.sin(np.pi * x)[None, :]
    conditions = resolve_boundary_conditions(model.species, model.parameter_names(), specifications=["dirichlet 0"])
    dt, steps = 0.2 * grid.dx**2, 50
    stepper = make_stepper(model, grid, dt=dt, backend="torch", fused=True, boundary=conditions)
    stepper.set_state(mode, mode)
    stepper.advance(steps)
    mu = -(4 / grid.dx**2) * math.sin(math.pi / (2 * n)) ** 2
    for field, diffusion in zip(stepper.get_state(), (1.0, 0.5)):
        np.testing.assert_allclose(field, mode * (1 + diffusion * dt * mu) ** steps, rtol=1e-12, atol=1e-14)


def test_fused_step_is_off_on_the_cpu_by_default_and_refused_where_it_cannot_apply():
    model, grid = get_model("gray-scott"), Grid((8, 8), 1.0)
    assert make_stepper(model, grid, dt=0.5, backend="torch").fused is False
    moving = resolve_boundary_conditions(model.species, model.parameter_names(), specifications=["dirichlet sin(t)"])
    with pytest.raises(ConfigError, match="depends on t"):
        make_stepper(model, grid, dt=0.5, backend="torch", fused=True, boundary=moving)
    assert make_stepper(model, grid, dt=0.5, backend="torch", boundary=moving).fused is False
    for options in (dict(backend="numba"), dict(backend="torch", integrator="etdrk4"),
                    dict(backend="numpy", integrator="imex")):  # fmt: skip
        with pytest.raises(ConfigError, match="fused steps"):
            make_stepper(model, grid, dt=0.5, fused=False, **options)


def test_a_compiler_failure_is_an_error_when_fusing_was_asked_for_and_a_warning_otherwise(monkeypatch):
    import torch

    def broken_compile(function, **options):
        def compiled(*arguments):
            raise RuntimeError("no compiler here")

        return compiled

    monkeypatch.setattr(torch, "compile", broken_compile)
    model, grid = get_model("gray-scott"), Grid((8, 8), 1.0)
    fields = (np.ones(grid.shape), np.full(grid.shape, 0.25))
    stepper = make_stepper(model, grid, dt=0.5, backend="torch", fused=True)
    stepper.set_state(*fields)
    with pytest.raises(RunError, match="no compiler here"):
        stepper.advance(1)
    automatic = make_stepper(model, grid, dt=0.5, backend="torch", fused=True)
    automatic._fuse_required = False  # what fused=None means on a CUDA device
    automatic.set_state(*fields)
    with pytest.warns(RuntimeWarning, match="runs unfused"):
        automatic.advance(2)
    assert automatic.fused is False and automatic.step == 2
    reference = make_stepper(model, grid, dt=0.5, backend="torch", fused=False)
    reference.set_state(*fields)
    reference.advance(2)
    for a, b in zip(automatic.get_state(), reference.get_state()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_more_fused_steppers_than_torch_compiles_by_default_stay_fused(rng):
    """torch.compile keeps 8 specialisations of a function and runs the rest unfused: the stepper lifts that."""
    from torch._dynamo.utils import counters

    model = get_model("gray-scott")
    graphs = counters["stats"]["unique_graphs"]
    for n in range(6, 17):  # eleven grids: eleven compiled steps
        fields = (1 - 0.5 * rng.uniform(size=(n, n)), 0.25 * rng.uniform(size=(n, n)))
        ends = []
        for fused in (True, False):
            stepper = make_stepper(model, Grid((n, n), 1.0), dt=0.5, backend="torch", fused=fused)
            stepper.set_state(*fields)
            stepper.advance(3)
            ends.append(stepper.get_state())
        for a, b in zip(*ends):
            np.testing.assert_allclose(a, b, rtol=1e-14, atol=0)
    assert counters["stats"]["unique_graphs"] - graphs >= 11


@pytest.mark.parametrize("fused", [False, True])
def test_a_diffusion_coefficient_that_varies_in_space_follows_numpy(fused, rng):
    """``u_t = D(x) ∇²u - k u`` with ``D`` a field parameter: one Euler step against NumPy written here."""
    text = 'name = "patchy"\nspecies = ["u"]\n[parameters]\nD = 1.0\nk = 0.3\n[diffusion]\nu = "D"\n[reaction]\nu = "-k*u"\n'
    model = get_model(parse_model_text(text))
    grid = Grid((7, 9), 0.5, "periodic")
    diffusion = 0.5 + rng.uniform(size=grid.shape)
    u = rng.uniform(size=grid.shape)
    dt = 0.02
    stepper = make_stepper(model, grid, dt=dt, backend="torch", fused=fused, parameter_fields={"D": diffusion})
    stepper.set_state(u)
    stepper.advance(1)
    laplacian = (np.roll(u, 1, 0) + np.roll(u, -1, 0) + np.roll(u, 1, 1) + np.roll(u, -1, 1) - 4 * u) / 0.25
    np.testing.assert_allclose(stepper.get_state()[0], u + dt * (diffusion * laplacian - 0.3 * u), rtol=1e-14, atol=1e-15)
