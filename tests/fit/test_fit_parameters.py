"""The fitted parameters' bounds and unit box, and the wavelength first guess against a NumPy dispersion relation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rd_classic.models import get_model

from rdnet.errors import ConfigError
from rdnet.fit.first_guess import wavelength_guesses
from rdnet.fit.parameters import parameter_space


def test_the_unit_box_maps_linearly_or_logarithmically_and_back():
    space = parameter_space(get_model("schnakenberg"), ["a", "Dv"], {"a": (0.05, 0.2), "Dv": (2.0, 80.0)})
    assert space.log_scale == (False, True)
    values = space.to_values(np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]]))
    np.testing.assert_allclose(values, [[0.05, 2.0], [0.125, math.sqrt(2.0 * 80.0)], [0.2, 80.0]])
    np.testing.assert_allclose(space.to_unit(values), [[0.0, 0.0], [0.5, 0.5], [1.0, 1.0]], atol=1e-15)


def test_default_bounds_are_half_to_twice_the_value():
    space = parameter_space(get_model("gray-scott"), ["F"], {})
    assert space.low == (0.0367 / 2,) and space.high == (0.0367 * 2,)


@pytest.mark.parametrize("names, bounds, message", [
    ([], {}, "at least one parameter"),
    (["F", "F"], {}, "more than once"),
    (["F"], {"F": (0.05, 0.05)}, "impossible"),
    (["F"], {"F": (float("nan"), 0.05)}, "finite"),
    (["F"], {"F": (-0.01, 0.05)}, "corner F=-0.01"),
    (["F"], {"k": (0.05, 0.06)}, "not fitted"),
])  # fmt: skip
def test_impossible_choices_are_refused(names, bounds, message):
    with pytest.raises(ConfigError, match=message):
        parameter_space(get_model("gray-scott"), names, bounds)


def _numpy_fastest_wavelength(a: float, b: float, Du: float, Dv: float) -> float:
    """Schnakenberg's fastest-growing wavelength from its Jacobian at (a + b, b/(a + b)²), by a fine scan in q."""
    u, v = a + b, b / (a + b) ** 2
    jacobian = np.array([[-1 + 2 * u * v, u**2], [-2 * u * v, -(u**2)]])
    q = np.linspace(1e-3, 3.0, 30001)
    rates = [np.linalg.eigvals(jacobian - np.diag([Du, Dv]) * qq**2).real.max() for qq in q]
    return 2 * math.pi / q[int(np.argmax(rates))]


def test_the_wavelength_guess_recovers_a_diffusion_ratio_from_its_fastest_wavelength():
    model = get_model("schnakenberg")
    space = parameter_space(model, ["Dv"], {"Dv": (10.0, 40.0)})
    target = _numpy_fastest_wavelength(0.1, 0.9, 1.0, 25.0)
    guesses = wavelength_guesses(model, space, target, candidates=64)
    assert guesses[0].values["Dv"] == pytest.approx(25.0, rel=0.03)
    assert guesses[0].wavelength == pytest.approx(target, rel=0.01)
    assert [guess.mismatch for guess in guesses] == sorted(guess.mismatch for guess in guesses)


@pytest.mark.parametrize("table, message", [
    ('[noise]\nv = "0.01"\n', r"\[noise\] table \(on v\) cannot apply"),
    ('[boundary]\nu = "no-flux"\n', r"sets u\.x- = 'neumann 0', which cannot apply"),
    ('[boundary.v]\n"y+" = "dirichlet 1"\n', r"sets v\.y\+ = 'dirichlet 1', which cannot apply"),
])  # fmt: skip
def test_a_model_file_s_noise_or_boundary_is_refused_not_ignored(table, message):
    # a fit simulates on a periodic grid without noise: these tables were silently dropped
    from rd_classic.model_file import parse_model_text
    from rd_classic.models import builtin_declaration
    from rdnet.fit.run import build_fit_config

    text = builtin_declaration("schnakenberg").text + "\n" + table
    with pytest.raises(ConfigError, match=message):
        build_fit_config(parse_model_text(text), fit=["b"], shape=(16, 16), time=1.0)
    periodic = parse_model_text(builtin_declaration("schnakenberg").text + '\n[boundary]\nu = "periodic"\n')
    assert build_fit_config(periodic, fit=["b"], shape=(16, 16), time=1.0).space.names == ("b",)


def test_a_parameter_that_nothing_uses_is_refused():
    # z0 is declared but used nowhere: the fit ran for minutes and then died in autograd with a traceback
    # ("element 0 of tensors does not require grad")
    from rd_classic.model_file import parse_model_text
    from rd_classic.models import builtin_declaration
    from rdnet.fit.run import build_fit_config

    text = builtin_declaration("schnakenberg").text.replace("[parameters]", "[parameters]\nz0 = 1.0", 1)
    with pytest.raises(ConfigError, match="z0 appears in none of schnakenberg's reaction, diffusion or initial"):
        build_fit_config(parse_model_text(text), fit=["b", "z0"], shape=(16, 16), time=1.0)
    assert build_fit_config(parse_model_text(text), fit=["b"], shape=(16, 16), time=1.0).space.names == ("b",)


def test_a_model_file_path_is_a_model_for_the_python_api(tmp_path):
    # fit_pattern(target, "mine.toml", ...) said "unknown model 'mine.toml' ... (or give a model file with
    # --model-file)", an option the Python call does not have; rd_classic.simulate takes model files too
    from rd_classic.model_file import parse_model_text
    from rd_classic.models import builtin_declaration
    from rdnet.fit.run import build_fit_config

    text = builtin_declaration("schnakenberg").text.replace('name = "schnakenberg"', 'name = "mine"', 1)
    path = tmp_path / "mine.toml"
    path.write_text(text)
    for model in (path, str(path)):
        config = build_fit_config(model, fit=["b"], shape=(16, 16), time=1.0)
        assert config.model.declaration.digest == parse_model_text(text).digest and config.model.name == "mine"
    with pytest.raises(ConfigError, match="not found"):
        build_fit_config(str(tmp_path / "missing.toml"), fit=["b"], shape=(16, 16), time=1.0)


@pytest.mark.parametrize("options, message", [
    ({"fit": 3}, r"give the parameters to fit as a list of names, e.g. \['F', 'k'\], got 3"),  # 'int' not iterable
    ({"bounds": {"F": (0.1,)}}, r"bounds of F must be a pair \(low, high\), got \(0.1,\)"),  # 'not enough values to unpack'
    ({"bounds": 3}, "bounds must map parameter names to values, got 3"),
    ({"parameters": 3}, "parameters must map parameter names to values, got 3"),
    ({"shape": (16.5, 16)}, "each entry of shape must be an integer >= 1, got 16.5"),  # was a 16 x 16 grid
    ({"starts": True}, "starts must be an integer >= 1, got True"),  # was one start
    ({"iterations": float("nan")}, "iterations must be an integer >= 0, got nan"),  # 'cannot convert float NaN'
    ({"seed": "a"}, "seed must be an integer >= 0, got 'a'"),  # 'invalid literal for int()'
    ({"learning_rate": "x"}, "learning rate must be a number, got 'x'"),  # 'must be real number, not str'
    ({"level": "x"}, r"level must be between 0 and 1 \(e.g. 0.95\), got 'x'"),  # "'<' not supported"
    ({"device": 0}, "device must be a name like 'cpu' or 'cuda', got 0"),
    ({"periodic": "no"}, "periodic must be True or False, got 'no'"),  # "no" was a periodic fit
    ({"standardise": "no"}, "standardise must be True or False, got 'no'"),
])  # fmt: skip
def test_build_fit_config_refuses_options_of_the_wrong_type_in_one_line(options, message):
    from rdnet.fit.run import build_fit_config

    with pytest.raises(ConfigError, match=message):
        build_fit_config("gray-scott", **{"fit": ["F"], "shape": (16, 16), **options})


def test_one_name_to_fit_is_that_parameter_not_its_letters():
    """fit='Dv' was read as the names 'D' and 'v' ("no parameter 'D'")."""
    from rdnet.fit.run import build_fit_config

    assert build_fit_config("gray-scott", fit="Dv", shape=(16, 16)).space.names == ("Dv",)


def test_a_complex_target_is_refused_not_cut_to_its_real_part():
    from rdnet.fit.run import check_target

    target = 1j * np.cos(2 * np.pi * np.arange(16) / 8)[None, :] * np.ones((16, 1))
    with pytest.raises(ConfigError, match="the target is complex"):
        check_target(target)
