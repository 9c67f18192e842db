"""Models: Jacobians against finite differences, steady states, compiled reactions, validation."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rd_classic.models import MODELS, get_model, model_names

ALL_MODELS = model_names()


def _test_model(name):
    # the linear model's defaults are all zero: give it a non-trivial Jacobian
    return get_model(name, a=0.3, b=-1.2, c=0.7, d=-0.4) if name == "linear" else get_model(name)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_jacobian_matches_central_differences(name, rng):
    model = _test_model(name)
    u_star, v_star = model.steady_states()[-1]
    for _ in range(5):
        u = u_star + 0.3 * rng.uniform(-1, 1) * (abs(u_star) + 0.5)
        v = v_star + 0.3 * rng.uniform(-1, 1) * (abs(v_star) + 0.5)
        if name == "gierer-meinhardt":
            v = abs(v) + 0.2  # u^2 / v needs v away from 0
        h = 1e-6
        numeric = np.empty((2, 2))
        for column, (du, dv) in enumerate(((h, 0.0), (0.0, h))):
            plus = np.array(model.reaction(u + du, v + dv))
            minus = np.array(model.reaction(u - du, v - dv))
            numeric[:, column] = (plus - minus) / (2 * h)
        np.testing.assert_allclose(model.jacobian(u, v), numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ALL_MODELS)
def test_steady_states_are_zeros_of_the_reaction(name):
    model = _test_model(name)
    states = model.steady_states()
    assert states
    for u, v in states:
        np.testing.assert_allclose(model.reaction(u, v), 0.0, atol=1e-12)


def test_gray_scott_has_three_states_inside_the_saddle_node_curve():
    # F >= 4 (F + k)^2 is the saddle-node condition (Pearson 1993)
    inside = get_model("gray-scott", F=0.05, k=0.05)
    outside = get_model("gray-scott", F=0.05, k=0.07)
    assert 0.05 >= 4 * (0.1) ** 2 and 0.05 < 4 * 0.12**2
    assert len(inside.steady_states()) == 3
    assert len(outside.steady_states()) == 1


@pytest.mark.parametrize("name", ALL_MODELS)
def test_compiled_reaction_equals_the_model_reaction(name, rng):
    from rd_classic import kernels_numba

    model = _test_model(name)
    u = rng.uniform(0.2, 2.0, (4, 5))
    v = rng.uniform(0.2, 2.0, (4, 5))
    out = [np.empty_like(u) for _ in range(4)]
    kernels_numba.rates(model.kernel_id, model.kernel_parameters(), 0.0, 0.0, 1.0, True, u, v, *out)
    f, g = model.reaction(u, v)
    np.testing.assert_allclose(out[0], f, rtol=1e-14)
    np.testing.assert_allclose(out[1], g, rtol=1e-14)


def test_kernel_ids_are_unique():
    ids = [cls.kernel_id for cls in MODELS.values()]
    assert len(set(ids)) == len(ids)


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
