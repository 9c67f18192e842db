"""Simulations held against linear theory and against Pearson's pattern classes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rdnet.analysis import dominant_wavelength
from rd_classic.grids import Grid
from rd_classic.integrators import largest_stable_dt, make_stepper
from rd_classic.models import get_model
from rd_classic.run import MemoryObserver, build_config, run_simulation
from rd_classic.stability import fastest_growing_mode, growth_rate


@pytest.mark.parametrize("integrator,backend", [("rk4", "numba"), ("etdrk4", "numpy")])
@pytest.mark.parametrize("name", ["schnakenberg", "brusselator"])
def test_single_mode_grows_at_the_dispersion_relation_rate(name, integrator, backend):
    model = get_model(name)
    q_fast, _ = fastest_growing_mode(model)
    wavelength = 2 * math.pi / q_fast
    cells = 128 if integrator == "etdrk4" else 64
    grid = Grid((1, cells), 4 * wavelength / cells)  # 1-D, 4 wavelengths
    _, x = grid.coordinates()
    mode = np.cos(q_fast * x)[None, :]
    u_star, v_star = model.homogeneous_state()
    dt = 0.05 if integrator == "etdrk4" else 0.8 * largest_stable_dt(model, grid, "rk4")
    stepper = make_stepper(model, grid, dt=dt, integrator=integrator, backend=backend)
    stepper.set_state(u_star + 1e-7 * mode, v_star + 1e-7 * mode)

    def amplitude():
        u, _ = stepper.get_state()
        return abs(np.sum((u - u_star) * mode))

    first = round(5.0 / dt)
    stepper.advance(first)  # let the decaying eigenvector die out
    a1 = amplitude()
    second = round(15.0 / dt)
    stepper.advance(second)
    a2 = amplitude()
    measured = math.log(a2 / a1) / (second * dt)
    if integrator == "etdrk4":  # spectral Laplacian: the continuous dispersion relation
        q_theory = q_fast
    else:  # the 3-point Laplacian sees the mode at q_h^2 = (4/dx^2) sin^2(q dx / 2)
        q_theory = 2 / grid.dx * math.sin(q_fast * grid.dx / 2)
    predicted = growth_rate(model, q_theory)[0]
    assert measured == pytest.approx(predicted, rel=0.01)


def test_schnakenberg_early_wavelength_is_the_fastest_growing_one(rng):
    model = get_model("schnakenberg")
    q_fast, rate = fastest_growing_mode(model)
    predicted = 2 * math.pi / q_fast
    n = 128
    grid = Grid((n, n), 16 * predicted / n)  # the domain holds 16 fastest wavelengths
    u_star, v_star = model.homogeneous_state()
    stepper = make_stepper(model, grid, dt=0.1, integrator="etdrk4")
    stepper.set_state(u_star + 1e-4 * rng.standard_normal(grid.shape), v_star + 1e-4 * rng.standard_normal(grid.shape))
    stepper.advance(round(25.0 / 0.1))  # ~ e^6.6 growth: still linear (amplitude ~ 0.1)
    u, _ = stepper.get_state()
    assert np.abs(u - u_star).max() < 0.3  # early, linear regime
    measured = float(dominant_wavelength(u - u_star, dx=grid.dx))
    assert measured == pytest.approx(predicted, rel=0.05)


def _final_v(parameters, steps=6000):
    config = build_config("gray-scott", parameters=parameters, size="128", steps=steps, snapshot_every=steps)
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    return memory.fields["v"][-1]


def test_pearson_preset_forms_a_pattern_and_a_point_outside_relaxes():
    # inside: Pearson's lambda region (mitosis); outside: k beyond the pattern region, the square dies
    patterned = _final_v({"F": 0.0367, "k": 0.0649})
    relaxed = _final_v({"F": 0.04, "k": 0.075})
    assert patterned.std() > 0.05 and patterned.max() > 0.2
    assert relaxed.std() < 1e-3 and np.abs(relaxed).max() < 1e-2


USER_MODEL = """
name = "lengyel-epstein-copy"
description = "the CIMA model as a user writes it, with its own names"
species = ["iodide", "chlorite"]

[parameters]
a = 12.0
b = 0.3
sigma = 50.0
d = 1.07

[diffusion]
iodide = 1.0
chlorite = "sigma*d"

[reaction]
iodide = "a - iodide - 4*iodide*chlorite/(1 + iodide**2)"
chlorite = "sigma*b*(iodide - iodide*chlorite/(1 + iodide**2))"
"""


def test_user_model_early_wavelength_is_its_fastest_growing_one(tmp_path, rng):
    # a Turing-unstable model from a file: its steady state found from the equations, its fastest
    # wavelength predicted from the symbolic Jacobian, measured with rdnet.analysis in the linear regime
    from rd_classic.models import load_model_file

    (tmp_path / "user.toml").write_text(USER_MODEL)
    model = get_model(load_model_file(tmp_path / "user.toml"))
    u_star, v_star = model.homogeneous_state()
    assert (u_star, v_star) == pytest.approx((12 / 5, 1 + 12**2 / 25))  # (a/5, 1 + a^2/25)
    q_fast, rate = fastest_growing_mode(model)
    predicted = 2 * math.pi / q_fast
    n = 128
    grid = Grid((n, n), 16 * predicted / n)
    stepper = make_stepper(model, grid, dt=0.02, integrator="etdrk4")
    stepper.set_state(u_star + 1e-4 * rng.standard_normal(grid.shape), v_star + 1e-4 * rng.standard_normal(grid.shape))
    stepper.advance(round(6.0 / rate / 0.02))  # ~ e^6 growth: still linear
    u, _ = stepper.get_state()
    assert np.abs(u - u_star).max() < 0.3
    measured = float(dominant_wavelength(u - u_star, dx=grid.dx))
    assert measured == pytest.approx(predicted, rel=0.05)


def test_torch_terms_are_differentiable_in_the_parameters(rng):
    # d/dF of sum(R_u) for Gray-Scott is sum(1 - u): autograd through the generated functions
    import torch

    from rd_classic.backend_torch import TorchModelTerms

    model = get_model("gray-scott", F=0.035, k=0.065)
    terms = TorchModelTerms(model, Grid((6, 5), 1.0))
    parameters = terms.parameter_tensors(requires_grad=True)
    state = torch.as_tensor(rng.uniform(0, 1, (2, 6, 5)))
    rate = terms.rate(state, 0.0, parameters)
    rate[0].sum().backward()
    np.testing.assert_allclose(parameters["F"].grad.item(), (1 - state[0]).sum().item(), rtol=1e-12)
    assert parameters["k"].grad.item() == 0.0
    # and through a diffusion coefficient: d/dDu of sum(Du lap u) = sum(lap u) = 0 on a periodic grid
    assert abs(parameters["Du"].grad.item()) < 1e-12
