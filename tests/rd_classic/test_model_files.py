"""Model files: the whitelist parser, hostile and malformed files, user models through the CLI, resume."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from click.testing import CliRunner

import rdnet
from rdnet.cli.main import cli
from rdnet.errors import ConfigError
from rd_classic.expressions import parse_condition, parse_expression
from rd_classic.model_file import parse_model_text

#: a small user model (Schnakenberg's kinetics under other names), written as a researcher would
USER_MODEL = """
name = "my-activator"
description = "a user's activator-substrate model"
species = ["a", "s"]

[parameters]
p = 0.1
q = { value = 0.9, units = "1", description = "substrate feed" }
Da = 1.0
Ds = { value = 20.0, units = "length^2/time" }

[diffusion]
a = "Da"
s = "Ds"

[reaction]
a = "p - a + a**2*s"
s = "q - a**2*s"
"""

SMALL = ["--size", "24x20", "--steps", "40", "--snapshot-every", "20", "--quiet"]


def _model_file(tmp_path, text=USER_MODEL, name="model.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


# -- the expression language ---------------------------------------------------------------


def test_expressions_evaluate_like_python_arithmetic():
    names = {"u", "v", "a"}
    cases = {
        "a - (a + 1)*u + u**2*v": lambda u, v, a: a - (a + 1) * u + u**2 * v,
        "-u**2 / (1 + v) + +a": lambda u, v, a: -(u**2) / (1 + v) + a,
        "exp(-u) * sqrt(v) + log(a) - sin(u)*cos(v) + tanh(a*u)": lambda u, v, a: math.exp(-u) * math.sqrt(v)
        + math.log(a) - math.sin(u) * math.cos(v) + math.tanh(a * u),
        "abs(u - v) + min(u, v, a) + max(u, v) + heaviside(u - v) + heaviside(0*u)": lambda u, v, a: abs(u - v)
        + min(u, v, a) + max(u, v) + (1.0 if u > v else 0.0) + 0.5,
        "2*pi*u + e**a + 1e-3 + 3": lambda u, v, a: 2 * math.pi * u + math.e**a + 1e-3 + 3,
    }  # fmt: skip
    values = {"u": 0.7, "v": 0.3, "a": 1.3}
    for text, reference in cases.items():
        expression = parse_expression(text, names, where="test")
        assert float(expression.evaluate(values)) == pytest.approx(reference(**values), rel=1e-14), text
    assert parse_expression("a*u + v", names).names == {"a", "u", "v"}
    condition = parse_condition("a + u >= 2", names)
    assert condition.holds({"a": 1.5, "u": 0.5}) and not condition.holds({"a": 1.0, "u": 0.5})


HOSTILE_EXPRESSIONS = [
    ("__import__('os').system('touch pwned')", "attribute access is not allowed"),
    ("__import__('os')", "calls to '__import__' are not allowed"),
    ("u.__class__", "attribute access is not allowed"),
    ("u[0]", "subscripts are not allowed"),
    ("(lambda: 1)()", "calling an expression is not allowed"),
    ("[u for u in v]", "comprehensions are not allowed"),
    ("exp(x=u)", "takes no keyword arguments"),
    ("'abc'", "strings are not allowed"),
    ("f'{u}'", "strings are not allowed"),
    ("u > 1", "comparisons are not allowed"),
    ("u // 2", "the operator // is not allowed"),
    ("u ^ 2", "use ** for powers"),
    ("(w := 1)", "assignment"),
    ("open('/etc/passwd')", "calls to 'open' are not allowed"),
    ("w + u", "name 'w' is not declared"),
    ("u +* v", "cannot parse"),
    ("exp(u, v)", "exp() takes 1 argument(s), got 2"),
    ("True + u", "bool constants are not allowed"),
    ("1j*u", "complex constants are not allowed"),
    ("9**9**9**9", "is too large"),
    ("(" * 300 + "u" + ")" * 300, "nested"),
    ("u" + "+u" * 600_000, "characters long"),
    # constant parts that are no finite real number, refused when the text is read (log(-1) was a
    # codegen error naming sympy's ImaginaryUnit, exp(1000) an infinite rate at the first step)
    ("log(-1)*u", "log(-1) is not a finite real number"),
    ("u + sqrt(-4)", "sqrt(-4) is not a finite real number"),
    ("exp(1000) - u", "exp(1000) is not a finite real number"),
    ("u*(-8)**(1/3)", "-8**0.333333 is not a finite real number"),
    ("1/(2 - 2) + u", "division by zero"),
    ("u + 1e300*1e300", "is not a finite number"),
    # a species to a huge constant power: sympy expanded u**(2**60) as a polynomial of that degree when
    # looking for steady states, and `rdnet stability` never finished; u/0 failed only later, in sympy
    ("u**(2**60)", "the constant exponent 1.15292e+18 is too large"),
    ("1 - u**1025", "the constant exponent 1025 is too large"),
    ("u**-2000", "the constant exponent -2000 is too large"),
    ("u/0", "division by zero"),
    ("u/(1 - 1)", "division by zero"),
]


@pytest.mark.parametrize("text,message", HOSTILE_EXPRESSIONS, ids=[m for _, m in HOSTILE_EXPRESSIONS])
def test_hostile_expressions_are_refused_naming_the_key(text, message):
    with pytest.raises(ConfigError) as error:
        parse_expression(text, {"u", "v"}, where="reaction.u")
    assert str(error.value).startswith("reaction.u: ") and message in str(error.value)


def _replace(old, new):
    assert old in USER_MODEL
    return USER_MODEL.replace(old, new, 1)


#: hostile and malformed files: (what, text or bytes, words of the one error line)
BAD_FILES = [
    ("code in a reaction", _replace('"p - a + a**2*s"', "\"__import__('os').system('touch pwned')\""),
     "reaction.a: attribute access is not allowed"),
    ("a call of a builtin", _replace('"p - a + a**2*s"', "\"__import__('os')\""),
     "reaction.a: calls to '__import__' are not allowed"),
    ("attribute access", _replace('"p - a + a**2*s"', '"a.__class__"'), "reaction.a: attribute access"),
    ("a 10^6-character expression", _replace('"p - a + a**2*s"', '"' + "a+" * 500_000 + 'a"'),
     "reaction.a: the expression is 1000001 characters long"),
    ("an undeclared name", _replace('"p - a + a**2*s"', '"p - a + w"'), "reaction.a: name 'w' is not declared"),
    ("code in a diffusion", _replace('a = "Da"', "a = \"exec('1')\""), "diffusion.a: calls to 'exec'"),
    ("species in a diffusion", _replace('a = "Da"', 'a = "s*Da"'), "diffusion.a: name 's' is not declared"),
    ("not TOML", "name = \n[[", "not valid TOML"),
    ("no reaction table", USER_MODEL.split("[reaction]")[0], "the key 'reaction' is missing"),
    ("a species without reaction", _replace('s = "q - a**2*s"', ""), "reaction: no entry for species 's'"),
    ("a misspelt table", USER_MODEL + "\n[intial]\na = 1\n", "unknown key 'intial'"),
    ("a reserved species name", _replace('species = ["a", "s"]', 'species = ["a", "t"]'), "the name 't' is reserved"),
    ("a keyword as a name", _replace("p = 0.1", "lambda = 0.1"), "'lambda' is a Python keyword"),
    ("too many species", _replace('species = ["a", "s"]', "species = " + json.dumps([f"s{i}" for i in range(9)])),
     "at most 8"),
    ("a parameter that is text", _replace("p = 0.1", 'p = "0.1"'), "parameters.p must be a number"),
    ("a non-finite parameter", _replace("p = 0.1", "p = nan"), "parameters.p must be finite"),
    ("a giant constant power", _replace('"q - a**2*s"', '"9**9**9**9"'), "reaction.s: the constant exponent"),
    ("a huge power of a species", _replace('"q - a**2*s"', '"q - a**(2**60)"'),
     "reaction.s: the constant exponent 1.15292e+18 is too large"),
    ("a subscript", _replace('"q - a**2*s"', '"a[0]"'), "reaction.s: subscripts are not allowed"),
    ("a bad constraint", _replace("[parameters]", 'constraints = ["p"]\n[parameters]'), "a constraint must be one"),
    ("a duplicated species", _replace('species = ["a", "s"]', 'species = ["a", "a"]'), "'a' is listed twice"),
    ("not UTF-8", b"\xff\xfe\x00name", "not a UTF-8 text file"),
    ("over 4 MiB", USER_MODEL + "# " + "x" * 4_200_000 + "\n", "too large for a model file"),
]  # fmt: skip


@pytest.mark.parametrize("what,text,words", BAD_FILES, ids=[what for what, _, _ in BAD_FILES])
def test_hostile_and_malformed_model_files_are_refused_and_nothing_is_written(tmp_path, monkeypatch, what, text, words):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    for command in (["simulate", *SMALL, "--out", "x.nc"], ["stability"], ["models"]):
        option = ["--model-file", str(path)]
        result = CliRunner().invoke(cli, [*command, *option])
        assert result.exit_code == 2, (what, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: model file ") and words in lines[0], (what, lines)
    assert sorted(item.name for item in tmp_path.iterdir()) == ["bad.toml"]  # nothing run, nothing written


def test_generated_source_holds_no_text_of_the_model_file(tmp_path):
    from rd_classic.codegen import functions_source, kernels_source

    zebra = """
name = "zebra-model"
species = ["zebra", "s"]
[parameters]
quokka = 0.1
q = 0.9
[diffusion]
zebra = 1.0
s = 20.0
[reaction]
zebra = "quokka - zebra + zebra**2*s + exp(-zebra)"
s = "q - zebra**2*s"
"""
    declaration = parse_model_text(zebra)
    for source in (functions_source(declaration), kernels_source(declaration, dtype="float32", ndim=3,
                                                                 fields=(True, False))):  # fmt: skip
        assert "zebra" not in source and "quokka" not in source


# -- user models through the command line ------------------------------------------------------


def test_simulate_a_user_model_and_store_its_declaration(tmp_path):
    path = _model_file(tmp_path)
    out = tmp_path / "mine.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model-file", str(path), *SMALL, "--out", str(out)])
    assert result.exit_code == 0, result.output
    ds = rdnet.open_dataset(out)
    assert ds.attrs["model"] == "my-activator"
    for name in ("a", "s", "reaction_a", "reaction_s", "diffusion_a", "diffusion_s"):
        assert ds[name].dims == ("time", "y", "x")
    parameters = json.loads(ds.attrs["parameters"])
    assert parameters["model_declaration"] == USER_MODEL and parameters["q"] == 0.9
    # the noise initial condition sits at the homogeneous state (p + q, q / (p + q)^2) = (1, 0.9)
    np.testing.assert_allclose(ds["a"].values[0].mean(), 1.0, atol=0.01)
    np.testing.assert_allclose(ds["s"].values[0].mean(), 0.9, atol=0.01)


def test_model_and_model_file_together_are_refused(tmp_path):
    path = _model_file(tmp_path)
    result = CliRunner().invoke(cli, ["simulate", "--model", "brusselator", "--model-file", str(path), *SMALL,
                                      "--out", str(tmp_path / "x.nc")])  # fmt: skip
    assert result.exit_code == 2 and "give --model or --model-file, not both" in result.output
    assert not (tmp_path / "x.nc").exists()


def test_resumed_user_model_run_equals_the_uninterrupted_one_without_the_model_file(tmp_path, monkeypatch):
    import rd_classic.run as run_module

    path = _model_file(tmp_path)
    whole, cut = tmp_path / "whole.nc", tmp_path / "cut.nc"
    arguments = ["simulate", "--model-file", str(path), "--size", "24x20", "--steps", "60", "--snapshot-every", "20",
                 "--integrator", "rk4", "--quiet"]  # fmt: skip
    assert CliRunner().invoke(cli, [*arguments, "--out", str(whole)]).exit_code == 0
    original = run_module._emit

    def emit_then_interrupt(stepper, observers, step, config):
        done = original(stepper, observers, step, config)
        if step == 40:
            raise KeyboardInterrupt
        return done

    monkeypatch.setattr(run_module, "_emit", emit_then_interrupt)
    assert CliRunner().invoke(cli, [*arguments, "--out", str(cut)]).exit_code == 130
    monkeypatch.setattr(run_module, "_emit", original)
    path.unlink()  # the run's file alone must reproduce the model
    result = CliRunner().invoke(cli, ["simulate", "--resume", f"{cut}.partial", "--quiet"])
    assert result.exit_code == 0, result.output
    a, b = rdnet.open_dataset(whole), rdnet.open_dataset(cut)
    for name in ("a", "s", "reaction_a", "diffusion_s", "step", "time"):
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_a_hostile_declaration_stored_in_a_partial_file_is_refused_on_resume(tmp_path, monkeypatch):
    import netCDF4

    import rd_classic.run as run_module

    monkeypatch.chdir(tmp_path)

    def interrupt(stepper, observers, step, config):
        raise KeyboardInterrupt

    original = run_module._emit
    monkeypatch.setattr(run_module, "_emit", lambda *args: original(*args) and interrupt(*args))
    CliRunner().invoke(cli, ["simulate", *SMALL, "--out", "run.nc"])
    monkeypatch.setattr(run_module, "_emit", original)
    with netCDF4.Dataset("run.nc.partial", "a") as nc:
        parameters = json.loads(nc.getncattr("parameters"))
        parameters["model_declaration"] = parameters["model_declaration"].replace(
            'u = "-u*v**2 + F*(1 - u)"', "u = \"__import__('os')\"")
        nc.setncattr("parameters", json.dumps(parameters))
    result = CliRunner().invoke(cli, ["simulate", "--resume", "run.nc.partial", "--quiet"])
    assert result.exit_code == 2
    assert "stored model declaration: reaction.u: calls to '__import__' are not allowed" in result.output
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "run.nc").exists()


def test_resume_refuses_a_model_file_with_other_equations(tmp_path, monkeypatch):
    import rd_classic.run as run_module

    path = _model_file(tmp_path)
    original = run_module._emit

    def interrupt(stepper, observers, step, config):
        original(stepper, observers, step, config)
        raise KeyboardInterrupt

    monkeypatch.setattr(run_module, "_emit", interrupt)
    CliRunner().invoke(cli, ["simulate", "--model-file", str(path), *SMALL, "--out", str(tmp_path / "r.nc")])
    monkeypatch.setattr(run_module, "_emit", original)
    other = _model_file(tmp_path, USER_MODEL.replace("q - a**2*s", "q - a**2*s - s"), "other.toml")
    result = CliRunner().invoke(cli, ["simulate", "--resume", f"{tmp_path / 'r.nc'}.partial", "--model-file",
                                      str(other), "--quiet"])  # fmt: skip
    # a resumed run takes its model from its file: any --model-file is refused
    assert result.exit_code == 2 and "--model-file cannot be given with --resume" in result.output


def test_models_lists_every_built_in_model_and_shows_one(tmp_path):
    from rd_classic.models import model_names

    listing = CliRunner().invoke(cli, ["models"])
    assert listing.exit_code == 0
    for name in model_names():
        assert f"\n{name} " in listing.output
    shown = CliRunner().invoke(cli, ["models", "gray-scott"])
    assert shown.exit_code == 0
    assert "du/dt = -u*v**2 + F*(1 - u)" in shown.output and "1/time" in shown.output
    assert "default preset: mitosis (F=0.0367, k=0.0649)" in shown.output
    # --toml prints the model file: read back, it is the same model
    text = CliRunner().invoke(cli, ["models", "extended-brusselator", "--toml"]).output
    path = _model_file(tmp_path, text, "copy.toml")
    from rd_classic.models import MODELS, load_model_file

    assert load_model_file(path).digest == MODELS["extended-brusselator"].digest
    mine = CliRunner().invoke(cli, ["models", "--model-file", str(_model_file(tmp_path))])
    assert mine.exit_code == 0 and "da/dt = p - a + a**2*s" in mine.output
    unknown = CliRunner().invoke(cli, ["models", "grey-scott"])
    assert unknown.exit_code == 2 and "valid models: " in unknown.output


@pytest.mark.parametrize("change,words", [
    (('a = "Da"', 'a = "-Da"'), "preset 'default': diffusion coefficient of a (-Da) must be >= 0, got -1"),
    (("[parameters]", 'constraints = ["p > 1"]\n[parameters]'), "preset 'default': my-activator needs p > 1, got p=0.1"),
    (("", '\n[presets.bad]\nparameters = { Ds = -2.0 }\n'), "preset 'bad': diffusion coefficient Ds must be >= 0, got -2"),
])  # fmt: skip
def test_models_checks_a_model_files_parameters_as_simulate_would(tmp_path, change, words):
    # `rdnet models --model-file` ("checked as simulate would") showed a model with a negative diffusion
    # coefficient or a violated constraint and exited 0, while simulate and stability refused it
    old, new = change
    text = USER_MODEL.replace(old, new, 1) if old else USER_MODEL + new
    path = _model_file(tmp_path, text, "bad.toml")
    for command in (["models"], ["simulate", *SMALL, "--out", "x.nc"] + (["--preset", "bad"] if "bad" in text else [])):
        result = CliRunner().invoke(cli, [*command, "--model-file", str(path)])
        lines = result.output.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1, (command, result.output)
    models = CliRunner().invoke(cli, ["models", "--model-file", str(path)]).output.strip()
    assert models.startswith("Error: model file ") and words in models


def test_stability_of_a_user_model_file(tmp_path):
    result = CliRunner().invoke(cli, ["stability", "--model-file", str(_model_file(tmp_path)), "--json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output)["states"][0]
    # the Schnakenberg kinetics: state (p + q, q / (p + q)^2), Turing unstable for Ds/Da = 20
    assert state["state"] == pytest.approx([1.0, 0.9])
    assert state["turing_unstable"] is True and state["stable_without_diffusion"] is True
    for key in ("fastest_wavelength", "max_growth_rate", "unstable_band", "jacobian", "conditions"):
        assert key in state


def _names_in(source: str) -> set[str]:
    import io
    import tokenize

    return {token.string for token in tokenize.generate_tokens(io.StringIO(source).readline)
            if token.type == tokenize.NAME}  # fmt: skip


def test_generated_source_uses_only_the_generator_s_own_names():
    # every identifier of a generated module is a template word or a numbered generated name
    import re

    from rd_classic.codegen import functions_source, kernels_source
    from rd_classic.models import MODELS

    template = _names_in(kernels_source(MODELS["linear"], dtype="float64", ndim=3, fields=(True,) + (False,) * 5))
    template |= _names_in(kernels_source(MODELS["linear"], dtype="float32", ndim=2, fields=(False,) * 6))
    template |= _names_in(functions_source(MODELS["linear"]))
    template = {name for name in template if not re.fullmatch(r"[a-zA-Z]+\d+[a-z]*", name)}
    assert template <= {"import", "as", "numpy", "np", "from", "numba", "njit", "prange", "DTYPE", "float64", "float32",
                        "ZERO", "HALF", "ONE", "FOUR", "SIX", "FASTMATH", "def", "return", "if", "else", "for", "in",
                        "range", "inline", "cache", "True", "parallel", "fastmath", "error_model", "fusion", "False",
                        "xp", "reaction", "jacobian", "row_neighbours", "row_block", "copy_row", "copy_plane",
                        "power2", "power3", "power4", "heaviside", "i", "n", "im", "ip", "b", "n_blocks", "source",
                        "target", "j", "x", "y", "p", "c", "pf", "dx", "t", "dt", "periodic", "state", "halo",
                        "work", "ny", "nx", "nz", "first_m", "last_p", "start", "stop", "above", "below", "s",
                        "new", "edge", "jm", "jp", "done", "kk", "km", "kp", "k", "a_dt", "k_out", "acc", "first",
                        "out", "diffusion", "euler_step", "rk_stage", "rk_final_stage", "rates", "rhs", "reaction_fields",
                        "cx", "cy", "cz", "ct", "gx", "gy", "gz", "shape", "not", "and", "or", "rk_step", "rings",
                        "a_dts", "weights", "nodes_dt", "depth", "q", "w", "st", "r", "reach", "continue", "b_st",
                        "euler_steps", "times", "RING_ROWS", "end", "g", "gm", "gp", "ib", "ahead", "ahead_start",
                        "ahead_stop", "prefetch_cells", "rd_classic", "cache_hints", "min"}  # fmt: skip
    template |= {"exp", "log", "sqrt", "sin", "cos", "tanh", "abs", "sign", "min", "max", "minimum", "maximum"}
    hostile = parse_model_text("""
name = "hostile"
species = ["os", "sys"]
[parameters]
eval_ = 1.0
exec_ = 2.0
[diffusion]
os = 1.0
sys = "exec_"
[reaction]
os = "eval_*os - sys*exp(-os) + max(os, sys) + heaviside(os) + abs(sys)**3 + sqrt(os)**0.5 + tanh(sys)/os"
sys = "log(os) + sin(sys)*cos(os) + 1e300*os + min(sys, 2, os)**2 + os**-2 + pi*e"
""")
    for source in (functions_source(hostile), kernels_source(hostile, dtype="float32", ndim=3, fields=(True, False))):
        assert _names_in(source) - template <= {name for name in _names_in(source)
                                                if re.fullmatch(r"[a-zA-Z]+\d+[a-z]*", name)}  # fmt: skip
        assert not {"os", "sys", "eval_", "exec_", "hostile"} & _names_in(source)


def test_a_second_process_imports_no_sympy_and_writes_nothing(tmp_path):
    # the generated modules are cached on disk by the declaration: a later process loads them
    import os
    import subprocess
    import sys

    path = _model_file(tmp_path)
    script = (
        "import sys\n"
        "from rd_classic.models import get_model, load_model_file\n"
        "model = get_model(load_model_file(sys.argv[1]))\n"
        "print(model.jacobian(1.0, 0.9).tolist(), 'sympy' in sys.modules)\n"
    )
    environment = dict(os.environ, RDNET_KERNEL_CACHE=str(tmp_path / "cache"))
    outputs = []
    for _ in range(2):
        result = subprocess.run([sys.executable, "-c", script, str(path)], env=environment, capture_output=True,
                                text=True, timeout=120, check=True)  # fmt: skip
        outputs.append(result.stdout.strip())
        written = {item.name: item.stat().st_mtime_ns for item in (tmp_path / "cache").iterdir()}
        if len(outputs) == 1:
            first_files = written
    # J of Schnakenberg's kinetics at (1, 0.9): [[-1 + 2 a s, a^2], [-2 a s, -a^2]]
    assert outputs[0] == "[[0.8, 1.0], [-1.8, -1.0]] True"
    assert outputs[1] == "[[0.8, 1.0], [-1.8, -1.0]] False"
    assert written == first_files


@pytest.mark.slow
def test_a_second_run_compiles_no_kernel(tmp_path):
    import os
    import subprocess
    import sys

    script = (
        "import sys, numpy as np\n"
        "from rd_classic.grids import Grid\n"
        "from rd_classic.integrators import make_stepper\n"
        "from rd_classic.models import get_model, load_model_file\n"
        "stepper = make_stepper(get_model(load_model_file(sys.argv[1])), Grid((8, 8), 1.0), dt=0.01)\n"
        "stepper.set_state(np.ones((8, 8)), np.ones((8, 8))); stepper.advance(2)\n"
        "stats = stepper._kernels.euler_step.stats\n"
        "print(sum(stats.cache_misses.values()), sum(stats.cache_hits.values()), 'sympy' in sys.modules)\n"
    )
    environment = dict(os.environ, RDNET_KERNEL_CACHE=str(tmp_path / "cache"))
    outputs = [subprocess.run([sys.executable, "-c", script, str(_model_file(tmp_path))], env=environment,
                              capture_output=True, text=True, timeout=300, check=True).stdout.split()
               for _ in range(2)]  # fmt: skip
    assert outputs[0] == ["1", "0", "True"]  # compiled (and the module generated with sympy)
    assert outputs[1] == ["0", "1", "False"]  # loaded from the cache: no compilation, no sympy


def test_a_sweep_over_a_user_model_passes_its_file_by_absolute_path(tmp_path, monkeypatch):
    # the points may run in other processes or folders: the plan holds the file's absolute path,
    # checks the swept names against the file's parameters and takes their units from it
    from rdnet.sweep import plan_sweep

    monkeypatch.chdir(tmp_path)
    _model_file(tmp_path)
    plan = plan_sweep("simulate", {"q": [0.8, 0.9]}, {"model_file": "model.toml", "size": 16, "steps": 5},
                      tmp_path / "sweep")  # fmt: skip
    assert plan.fixed["model_file"] == str((tmp_path / "model.toml").resolve())
    assert all(task.options["model_file"] == plan.fixed["model_file"] for task in plan.tasks)
    assert [axis.units for axis in plan.axes] == ["1"] and len(plan.tasks) == 2
    with pytest.raises(ConfigError, match="no parameter 'F'"):
        plan_sweep("simulate", {"F": [0.01, 0.02]}, {"model_file": "model.toml"}, tmp_path / "other")
    with pytest.raises(ConfigError, match="file not found"):
        plan_sweep("simulate", {"q": [0.8, 0.9]}, {"model_file": "missing.toml"}, tmp_path / "third")


def test_torch_functions_of_numbers_keep_double_precision():
    """A function of a number (the time t, a scalar parameter) on torch is computed in float64: it was
    taken to torch's default float32, so a float64 torch run of k*sin(t) strayed ~1e-9 from numba."""
    torch = pytest.importorskip("torch")
    names = {"t", "k", "u"}
    values = {"t": 5.3, "k": 0.1}
    text = "sin(t) + exp(k) + sqrt(k) + log(t) + tanh(k) + abs(-t) + cos(t) + min(t, k) + max(t, k) + heaviside(t)"
    expected = (math.sin(5.3) + math.exp(0.1) + math.sqrt(0.1) + math.log(5.3) + math.tanh(0.1) + 5.3 + math.cos(5.3)
                + 0.1 + 5.3 + 1.0)  # fmt: skip
    value = parse_expression(text, names).evaluate(values, library="torch")
    assert value.dtype == torch.float64 and float(value) == pytest.approx(expected, rel=1e-15, abs=1e-15)
    single = parse_expression("u*sin(t)", names).evaluate({"u": torch.ones(3, dtype=torch.float32), "t": 5.3},
                                                           library="torch")  # fmt: skip
    assert single.dtype == torch.float32  # a float32 field stays float32


def test_a_long_reaction_may_span_lines_of_a_multi_line_string():
    """A TOML multi-line string (\"\"\"...\"\"\" or '''...''', a backslash continuation too) is one
    expression, as in Python within parentheses; it was refused as 'invalid syntax'."""
    text = _replace('a = "p - a + a**2*s"', 'a = """\np - a\n  + a**2*s\n"""').replace(
        's = "q - a**2*s"', "s = '''q \\\r\n - a**2*s'''")  # fmt: skip
    declaration = parse_model_text(text)
    values = {"p": 0.1, "q": 0.9, "a": 0.7, "s": 0.3}
    assert float(declaration.reaction["a"].evaluate(values)) == pytest.approx(0.1 - 0.7 + 0.49 * 0.3, rel=1e-15)
    assert float(declaration.reaction["s"].evaluate(values)) == pytest.approx(0.9 - 0.49 * 0.3, rel=1e-15)
    with pytest.raises(ConfigError, match="cannot parse"):
        parse_expression("u\nimport os", {"u"})  # still one expression, never a statement


def test_a_model_file_saved_with_a_byte_order_mark_or_windows_line_ends_reads(tmp_path):
    """Windows editors (Notepad) save UTF-8 with a byte order mark and CRLF line ends: the BOM was
    refused as 'not valid TOML (Invalid statement (at line 1, column 1))'."""
    from rd_classic.model_file import read_model_file

    path = tmp_path / "windows.toml"
    path.write_bytes(b"\xef\xbb\xbf" + USER_MODEL.replace("\n", "\r\n").encode())
    declaration = read_model_file(path)
    assert declaration.name == "my-activator" and declaration.species == ("a", "s")


def test_a_model_file_that_is_no_regular_file_is_named_so(tmp_path):
    import os

    from rd_classic.model_file import read_model_file

    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"pipe\.toml: not a regular file"):
        read_model_file(fifo)  # it was 'not found' (and reading it would wait for a writer)
    with pytest.raises(ConfigError, match=r"nosuch\.toml: not found"):
        read_model_file(tmp_path / "nosuch.toml")


# -- user-written models against closed forms -----------------------------------------------

USER_GIERER_MEINHARDT = """
name = "my-gm"
species = ["act", "inh"]
[parameters]
a = 0.1
b = 1.0
Dinh = 40.0
[diffusion]
act = 1.0
inh = "Dinh"
[reaction]
act = "a - b*act + act**2/inh"
inh = "act**2 - inh"
"""


def test_a_user_gierer_meinhardt_file_has_the_hand_computed_turing_threshold():
    """At u* = (a + 1)/b, v* = u*²: J = [[-b + 2/u*, -1/u*²], [2u*, -1]], det J = b; with Du = 1 the
    diffusion ratio d = Dv is critical where (d f_u - 1)² = 4 d det J, d f_u > 1 (Murray II §2.3)."""
    from rd_classic.models import get_model
    from rd_classic.stability import critical_parameter, turing_analysis

    a, b = 0.1, 1.0
    u = (a + 1) / b
    f_u = -b + 2 / u
    roots = np.roots([f_u**2, -2 * f_u - 4 * b, 1.0])  # (d f_u - 1)² - 4 d b = 0
    expected = max(root.real for root in roots if root.real * f_u > 1)
    model = get_model(parse_model_text(USER_GIERER_MEINHARDT))
    assert model.steady_states()[0] == pytest.approx((u, u**2), rel=1e-12)
    assert critical_parameter(model, "Dinh", bracket=(2.0, 40.0)) == pytest.approx(expected, rel=1e-6)
    assert turing_analysis(model).turing_unstable  # Dinh = 40 lies beyond the threshold
    assert not turing_analysis(model.with_parameters(Dinh=0.9 * expected)).turing_unstable


@pytest.mark.parametrize("integrator", ["euler", "rk2", "rk4", "rk45", "etdrk4", "imex"])
def test_a_one_species_linear_decay_file_decays_as_exp_minus_k_t(integrator):
    """u' = -k u (no diffusion) from u = 1: every scheme lands on exp(-k t) within its order's error."""
    import rd_classic

    text = ('name = "decay"\nspecies = ["u"]\n[parameters]\nk = 0.7\n[diffusion]\nu = 0\n'
            '[reaction]\nu = "-k*u"\n[initial]\nu = "1"\n')  # fmt: skip
    tolerance = {"euler": 5e-3, "rk2": 5e-5, "imex": 5e-5, "rk45": 1e-3}.get(integrator, 1e-8)  # orders 1, 2, 2, adaptive
    ds = rd_classic.simulate(model=parse_model_text(text), size="8x1", time=1.0, dt=0.01, integrator=integrator,
                             initial="expr", quiet=True)  # fmt: skip
    np.testing.assert_allclose(ds["u"].values[-1], math.exp(-0.7 * float(ds["time"][-1])), rtol=tolerance)


def test_a_non_ascii_name_is_refused_saying_names_are_ascii():
    """Python folds some non-ASCII names (NFKC: 'µ' is read as 'μ'), so names are ASCII; the message said 'a letter'."""
    with pytest.raises(ConfigError, match=r"'φ' is not a valid name \(an ASCII letter, then ASCII letters, digits or _"):
        parse_model_text(_replace('species = ["a", "s"]', 'species = ["φ", "s"]'))


def test_a_model_written_in_numbers_alone_needs_no_parameters_table(tmp_path):
    """Logistic growth u' = u (1 - u) has no parameters: the file was refused ('parameters' is missing) and
    'rdnet models' crashed on an empty parameter list; a homogeneous run follows 1 / (1 + 9 exp(-t)) from 0.1."""
    import rd_classic

    text = 'name = "logistic"\nspecies = ["u"]\n[diffusion]\nu = 1\n[reaction]\nu = "u*(1 - u)"\n[initial]\nu = "0.1"\n'
    ds = rd_classic.simulate(model=parse_model_text(text), size="8x1", time=2.0, dt=0.01, integrator="rk4",
                             initial="expr", quiet=True)  # fmt: skip
    np.testing.assert_allclose(ds["u"].values[-1], 1 / (1 + 9 * math.exp(-2.0)), rtol=1e-9)
    shown = CliRunner().invoke(cli, ["models", "--model-file", str(_model_file(tmp_path, text))])
    assert shown.exit_code == 0, shown.output
    assert "du/dt = u*(1 - u)" in shown.output and "parameters: none" in shown.output


def test_a_sum_of_many_terms_is_not_nesting(tmp_path):
    # a sum of 64 parameters minus u was refused as 'nested more than 60 levels deep': Python's parser
    # makes a chain of additions a left-nested tree, but a sum is one level of the expression
    import rd_classic

    names = [f"k{i}" for i in range(64)]
    text = ('name = "long-sum"\nspecies = ["u"]\n[parameters]\n' + "".join(f"{n} = {i + 1}.25\n" for i, n in enumerate(names))
            + '[diffusion]\nu = 1\n[reaction]\nu = "' + " + ".join(names) + ' - u*k0*k1 - u/k2/k3"\n'
            + '[initial]\nu = "0.5"\n')  # fmt: skip
    sum_of_values = sum(i + 1.25 for i in range(64))
    declaration = parse_model_text(text)
    values = {n: i + 1.25 for i, n in enumerate(names)}
    expected = sum_of_values - 0.5 * 1.25 * 2.25 - 0.5 / 3.25 / 4.25
    assert float(declaration.reaction["u"].evaluate({**values, "u": 0.5})) == pytest.approx(expected, rel=1e-14)
    ds = rd_classic.simulate(model_file=_model_file(tmp_path, text), size=8, steps=1, dt=1e-3, integrator="euler",
                             initial="expr", quiet=True)  # fmt: skip
    assert ds["u"].isel(time=-1).values == pytest.approx(0.5 + 1e-3 * expected, rel=1e-14)
    # nesting that is nesting stays limited, and so does a chain too long for the recursion of later stages
    with pytest.raises(ConfigError, match="nested more than 60 levels deep"):
        parse_expression("exp(" * 61 + "u" + ")" * 61, {"u"})
    with pytest.raises(ConfigError, match="more than 250 terms in a row"):
        parse_expression("+".join(["u"] * 300), {"u"})
    with pytest.raises(ConfigError, match="more than 250 terms in a row"):
        parse_expression("*".join(["u"] * 990), {"u"})

