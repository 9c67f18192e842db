"""Models: Jacobians against finite differences, steady states, compiled reactions, validation."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rd_classic.models import get_model, model_names

ALL_MODELS = model_names()


def _test_model(name):
    # the linear model's defaults are all zero: give it a non-trivial Jacobian
    return get_model(name, a=0.3, b=-1.2, c=0.7, d=-0.4) if name == "linear" else get_model(name)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_jacobian_matches_central_differences(name, rng):
    # the symbolic Jacobian of every shipped model against central differences of its reaction
    model = _test_model(name)
    centre = np.array(model.steady_states()[0])
    n = model.n_species
    for _ in range(5):
        state = centre + 0.3 * rng.uniform(-1, 1, n) * (np.abs(centre) + 0.5)
        if name == "gierer-meinhardt":
            state[1] = abs(state[1]) + 0.2  # u^2 / v needs v away from 0
        h = 1e-6 * (1.0 + np.abs(state))
        numeric = np.empty((n, n))
        for column in range(n):
            step = np.zeros(n)
            step[column] = h[column]
            plus = np.array(model.reaction(*(state + step)), dtype=float)
            minus = np.array(model.reaction(*(state - step)), dtype=float)
            numeric[:, column] = (plus - minus) / (2 * h[column])
        np.testing.assert_allclose(model.jacobian(*state), numeric, rtol=1e-6, atol=1e-7 * (1 + np.abs(numeric).max()))


@pytest.mark.parametrize("name", ALL_MODELS)
def test_steady_states_are_zeros_of_the_reaction(name):
    model = _test_model(name)
    states = model.steady_states()
    assert states
    for state in states:
        scale = 1 + max(abs(value) for value in (*state, *model.values.values()))
        np.testing.assert_allclose(np.array(model.reaction(*state), dtype=float), 0.0, atol=1e-12 * scale**2)


def test_gray_scott_has_three_states_inside_the_saddle_node_curve():
    # F >= 4 (F + k)^2 is the saddle-node condition (Pearson 1993)
    inside = get_model("gray-scott", F=0.05, k=0.05)
    outside = get_model("gray-scott", F=0.05, k=0.07)
    assert 0.05 >= 4 * (0.1) ** 2 and 0.05 < 4 * 0.12**2
    assert len(inside.steady_states()) == 3
    assert len(outside.steady_states()) == 1


@pytest.mark.parametrize("name", ALL_MODELS)
def test_compiled_reaction_equals_the_model_reaction(name, rng):
    # the numba kernels and the array functions are generated separately from the same equations
    from rd_classic import kernels_numba

    model = _test_model(name)
    n = model.n_species
    fields = rng.uniform(0.2, 2.0, (n, 4, 5))
    kernels = kernels_numba.kernels_for(model.declaration, np.float64, 2)
    p = kernels_numba.parameter_vector(list(model.values.values()), (5.0, 4.0, 1.0), np.float64)
    reaction, diffusion = tuple(np.empty((4, 5)) for _ in range(n)), tuple(np.empty((4, 5)) for _ in range(n))
    kernels.rates(p, np.zeros(n), np.zeros((0, 1, 1)), 1.0, 0.0, True, tuple(fields), reaction, diffusion)
    for computed, expected in zip(reaction, model.reaction(*fields)):
        np.testing.assert_allclose(computed, expected, rtol=1e-14)


def test_unknown_model_lists_valid_names():
    with pytest.raises(ConfigError, match="valid models: .*gray-scott"):
        get_model("grey-scott")


def test_unknown_parameter_lists_valid_names():
    with pytest.raises(ConfigError, match="valid parameters: F, k, Du, Dv"):
        get_model("gray-scott", f=0.1)


@pytest.mark.parametrize("bad", [{"Du": -1.0}, {"Dv": -0.1}, {"F": float("nan")}, {"k": float("inf")}, {"F": "x"}])
def test_bad_parameter_values_are_refused(bad):
    with pytest.raises(ConfigError):
        get_model("gray-scott", **bad)
