"""Tests of ``rdnet --version`` and ``rdnet info``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet import __version__
from rdnet.dataset import write_dataset

ROOT = Path(__file__).resolve().parents[2]


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and __version__ in result.output


def test_info_describes_grid_snapshots_and_parameters(tmp_path):
    ds = xr.Dataset(
        {"v": (("time", "y", "x"), np.zeros((3, 4, 5)), {"long_name": "inhibitor", "units": "mol"})},
        coords={"time": [0.0, 1.0, 2.5], "y": np.arange(4) * 0.25, "x": np.arange(5) * 0.25},
    )
    path = write_dataset(ds, tmp_path / "a.nc", system="classic", model="gray-scott", parameters={"F": 0.04})
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 0, result.output
    assert "system classic, model gray-scott" in result.output
    assert "grid: 4 x 5 (y x), spacing 0.25 x 0.25" in result.output
    assert "snapshots: 3, time 0 to 2.5" in result.output
    assert re.search(r"v\s+\(time=3, y=4, x=5\) inhibitor \[mol\]", result.output)
    assert "F=0.04" in result.output


def test_info_on_a_text_file_is_one_error_line(tmp_path):
    path = tmp_path / "a.nc"
    path.write_text("hello")
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"Error: {path} is not a NetCDF file (it does not start with a NetCDF or HDF5 signature)"]


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```(?:bash|sh)\n(.+?)\n```", readme, flags=re.S)
    test_commands = [command for command in commands if "pytest" in command]
    assert test_commands, "the README must print the test command"
    assert test_commands[0] in (ROOT / ".ci" / "run").read_text()


# ----------------------------------------------------------------------------- one line per message, every command


def _foreign_file(path: Path) -> Path:
    """A file from another tool: the minimum convention, no rdnet attributes, two snapshots."""
    ds = xr.Dataset(
        {"v": (("time", "y", "x"), np.arange(2 * 8 * 8, dtype=float).reshape(2, 8, 8) % 5)},
        coords={"time": [0.0, 1.0], "y": np.arange(8.0), "x": np.arange(8.0)},
    )
    ds.to_netcdf(path, engine="netcdf4")
    return path


@pytest.mark.parametrize(
    "arguments",
    [
        ["info", "{file}"],
        ["analyze", "{file}", "--surrogates", "0"],
        ["compare", "{file}", "{file}", "--surrogates", "3"],
        ["plot", "{file}", "--out", "{dir}/f.png"],
        ["animate", "{file}", "--var", "v", "--out", "{dir}/f.gif", "--quiet"],
    ],
    ids=lambda arguments: arguments[0],
)
def test_every_command_prints_a_foreign_file_warning_as_one_line(tmp_path, arguments):
    file = _foreign_file(tmp_path / "other.nc")
    result = CliRunner().invoke(cli, [a.format(file=file, dir=tmp_path) for a in arguments])
    assert result.exit_code == 0, result.output
    expected = (f"warning: {file}: not written by rdnet (missing attributes: rdnet_schema, system, model, parameters, "
                "rdnet_version, created, history, Conventions); analysing it under the minimum convention")  # fmt: skip
    assert result.stderr.splitlines().count(expected) == 1, result.stderr
    assert "DatasetWarning" not in result.stderr and ".py:" not in result.stderr  # no file name, line, source


def test_a_library_warning_is_one_line_naming_its_category():
    import warnings

    from rdnet.cli.main import one_line_warnings

    runner = CliRunner()
    with runner.isolation() as (_, __, err):
        with one_line_warnings():
            warnings.warn("invalid value encountered", RuntimeWarning, stacklevel=1)
            warnings.warn("invalid value encountered", RuntimeWarning, stacklevel=1)  # the same: once
    assert err.getvalue().decode().splitlines() == ["warning: invalid value encountered (RuntimeWarning)"]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["compare", "a.nc", "b.nc", "--time", "x"],
         "Error: Invalid value for '--time': 'x' is not a valid integer (see 'rdnet compare --help')"),
        (["plot", "a.nc"], "Error: Missing option '--out' (see 'rdnet plot --help')"),
        (["analyze", "a.nc", "--surrogates", "-1"],
         "Error: Invalid value for '--surrogates': -1 is not in the range x>=0 (see 'rdnet analyze --help')"),
        (["analyze", "a.nc", "--nosuch"], "Error: No such option '--nosuch'. Did you mean '--out'? (see 'rdnet analyze --help')"),
        (["nosuch"], "Error: No such command 'nosuch' (see 'rdnet --help')"),
        (["--nosuch"], "Error: No such option '--nosuch' (see 'rdnet --help')"),
        (["sweep", "simulate", "--out", "x"], "Error: Missing option '--grid' (see 'rdnet sweep simulate --help')"),
    ],
)
def test_usage_errors_are_one_line_exit_2(arguments, message):
    result = CliRunner().invoke(cli, arguments, prog_name="rdnet")
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [message]


def test_help_is_unchanged_by_the_one_line_errors():
    result = CliRunner().invoke(cli, ["compare", "--help"], prog_name="rdnet")
    assert result.exit_code == 0 and result.output.startswith("Usage: rdnet compare [OPTIONS] FILES...")
    bare = CliRunner().invoke(cli, [], prog_name="rdnet")  # no command: the group's help, as click prints it
    assert "Commands:" in bare.output and "Error" not in bare.output


def test_ctrl_c_in_a_command_is_one_line_exit_130(tmp_path, monkeypatch):
    import rdnet.cli.analyze as analyze_module

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(analyze_module, "measure", interrupted)
    file = _foreign_file(tmp_path / "other.nc")
    result = CliRunner().invoke(cli, ["analyze", str(file)])
    assert result.exit_code == 130
    assert result.stdout == "" and result.stderr.splitlines()[-1] == "interrupted"
    assert "Aborted" not in result.output


# ----------------------------------------------------------------------------- docs/cli.md


def test_docs_cli_md_is_generated_from_the_current_help_texts():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_cli_md", ROOT / "docs" / "make_cli_md.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    document, missing = module.render()
    assert missing == []
    for command in ("rdnet sweep simulate", "rdnet sweep train", "rdnet gan-dynamics phase-diagram"):
        assert f"### {command}\n" in document and f"]({'#' + command.replace(' ', '-')})" in document
    committed = (ROOT / "docs" / "cli.md").read_text()
    assert document == committed, "docs/cli.md is stale: run .venv/bin/python docs/make_cli_md.py"


def test_the_entry_point_makes_idle_openmp_threads_sleep_unless_the_user_chose():
    from rdnet.cli.main import idle_openmp_threads_sleep

    environ: dict[str, str] = {}
    idle_openmp_threads_sleep(environ)
    assert environ == {"OMP_WAIT_POLICY": "PASSIVE"}
    for chosen in ({"OMP_WAIT_POLICY": "ACTIVE"}, {"GOMP_SPINCOUNT": "10000"}):
        environ = dict(chosen)
        idle_openmp_threads_sleep(environ)
        assert environ == chosen


def test_no_help_text_shows_a_doubled_percent_sign():
    """click prints help texts as written (no %-formatting), so '%%' would show as two signs."""
    committed = (ROOT / "docs" / "cli.md").read_text()
    assert "%%" not in committed
