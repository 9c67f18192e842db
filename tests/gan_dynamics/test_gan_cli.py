"""The ``rdnet gan-dynamics`` command and its phase-diagram sub-command."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

from rdnet.cli.main import cli


def test_run_writes_dataset_with_simulation_and_ode(tmp_path):
    out = tmp_path / "run.nc"
    result = CliRunner().invoke(cli, ["gan-dynamics", "--dim", "200", "--time", "20", "--replicas", "3",
                                      "--records", "11", "--out", str(out)])
    assert result.exit_code == 0, result.output
    with xr.open_dataset(out) as ds:
        assert ds.attrs["system"] == "gan-dynamics"
        assert {"P_mean", "P_std", "P_ode", "q_mean", "q_ode", "r_mean", "S_mean", "discriminator_weights"} <= set(ds)
        assert ds.sizes["time"] == 11 and ds.sizes["replica"] == 3
        assert np.allclose(ds["w_norm"], 1.0)
        assert '"noise_real": 2.0' in ds.attrs["parameters"]
        assert ds.attrs["linear_phase"] == "convergence"
    figure = tmp_path / "run.png"
    plotted = CliRunner().invoke(cli, ["plot", str(out), "--out", str(figure)])
    assert plotted.exit_code == 0, plotted.output
    assert figure.stat().st_size > 0 and (tmp_path / "run-weights.png").exists()


def test_phase_diagram_writes_png(tmp_path):
    out = tmp_path / "phases.png"
    result = CliRunner().invoke(cli, ["gan-dynamics", "phase-diagram", "--noise", "0.5:5:6",
                                      "--tau-g", "0.02:0.2:4", "--time", "100", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # an existing figure is kept unless --overwrite
    out.write_bytes(b"mine")
    again = CliRunner().invoke(cli, ["gan-dynamics", "phase-diagram", "--noise", "0.5:5:3", "--tau-g", "0.02:0.2:2",
                                     "--time", "50", "--out", str(out)])  # fmt: skip
    assert again.exit_code == 2 and "--overwrite" in again.output and out.read_bytes() == b"mine"
    again = CliRunner().invoke(cli, ["gan-dynamics", "phase-diagram", "--noise", "0.5:5:3", "--tau-g", "0.02:0.2:2",
                                     "--time", "50", "--out", str(out), "--overwrite"])  # fmt: skip
    assert again.exit_code == 0 and out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_input_is_one_line_and_creates_nothing(tmp_path):
    out = tmp_path / "bad.nc"
    runner = CliRunner()
    for args in (["--tau-d", "-1"], ["--noise", "-2"], ["--features", "2", "--lambda", "3"],
                 ["--lambda", "3,x"]):
        result = runner.invoke(cli, ["gan-dynamics", *args, "--out", str(out)])
        assert result.exit_code == 2, (args, result.output)
        assert "Traceback" not in result.output and result.output.count("\n") <= 2
    result = runner.invoke(cli, ["gan-dynamics", "phase-diagram", "--noise", "2", "--out", str(tmp_path / "p.png")])
    assert result.exit_code == 2
    assert not list(tmp_path.iterdir())


def test_short_run_is_classified_on_a_long_ode_horizon(tmp_path):
    """T = 40 is mid-transient (P still rising): the run's own time axis would look like an oscillation."""
    out = tmp_path / "short.nc"
    result = CliRunner().invoke(cli, ["gan-dynamics", "--dim", "500", "--time", "40", "--replicas", "2",
                                      "--records", "21", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "linear theory convergence; long-horizon ODE convergence (uninformative fixed point by t = 300)" \
        in result.output
    with xr.open_dataset(out) as ds:
        assert ds.attrs["ode_phase"] == "convergence"
        assert ds.attrs["ode_behaviours"] == "uninformative fixed point"
        assert ds.attrs["ode_phase_time"] >= 300.0
        assert float(ds["P_ode"][-1, 0, 0]) < 0.5  # the run itself stops long before P freezes (0.92)


RUN = ["gan-dynamics", "--dim", "50", "--time", "1", "--replicas", "1", "--records", "3"]
BAD_RUN_OPTIONS = [
    (["--seed", "-1"], "--seed"),
    (["--time", "inf"], "finite"),
    (["--time", "nan"], "finite"),
    (["--time", "1e12"], "online steps"),
    (["--time", "1e-4"], "online steps"),
    (["--tau-g", "inf"], "finite"),
    (["--tau-d", "1e9"], "--tau-d"),
    (["--noise", "nan"], "finite"),
    (["--noise-gen", "-1"], "--noise-gen"),
    (["--lambda", "3,inf"], "finite"),
    (["--lambda", "1e300"], "--lambda"),
    (["--lambda-gen", "3,5"], "--lambda-gen"),
    (["--p0", "nan"], "finite"),
    (["--q0", "2"], "--q0"),
    (["--dim", "3"], "--dim"),
    (["--dim", "1000000000"], "--dim"),
    (["--replicas", "0"], "--replicas"),
    (["--records", "1"], "--records"),
    (["--records", "100000", "--replicas", "10000"], "GiB"),
    (["--tau-d", "100", "--tau-g", "100", "--lambda", "1000"], "too fast"),
]


@pytest.mark.parametrize(("options", "words"), BAD_RUN_OPTIONS, ids=[" ".join(o) for o, _ in BAD_RUN_OPTIONS])
def test_bad_run_options_give_one_line(tmp_path, options, words):
    _assert_one_line_error([*RUN, *options], tmp_path / "bad.nc", words)


def _assert_one_line_error(args, out, words):
    """The command exits with status 2, one line "Error: ..." naming ``words``, and writes no ``out``."""
    result = CliRunner().invoke(cli, [*args, "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1, result.output
    assert words in result.output and "Traceback" not in result.output
    assert not out.exists()


GRID = ["gan-dynamics", "phase-diagram", "--noise", "0.5:5:4", "--tau-g", "0.01:0.3:3"]
BAD_GRID_OPTIONS = [
    (["--time", "inf"], "finite"),  # used to hang
    (["--time", "0"], "--time"),
    (["--max-time", "100"], "--max-time"),
    (["--max-time", "nan"], "finite"),
    (["--max-time", "1e9"], "--max-time"),
    (["--noise", "0.5:5"], "START:STOP:COUNT"),
    (["--noise", "5:0.5:4"], "START < STOP"),
    (["--noise", "0.5:5:1"], "COUNT"),
    (["--noise", "0.5:5:2.5"], "START:STOP:COUNT"),
    (["--noise", "0.5:5:100000"], "COUNT"),
    (["--noise", "0.5:inf:4"], "finite"),
    (["--noise", "-1:5:4"], "--noise"),
    (["--tau-g", "0:0.3:3"], "--tau-g"),
    (["--tau-d", "nan"], "finite"),
    (["--lambda", "0"], "--lambda"),
    (["--tau-d", "60", "--tau-g", "50:60:3", "--lambda", "100"], "too fast"),
]


@pytest.mark.parametrize(("options", "words"), BAD_GRID_OPTIONS, ids=[" ".join(o) for o, _ in BAD_GRID_OPTIONS])
def test_bad_phase_diagram_options_give_one_line(tmp_path, options, words):
    _assert_one_line_error([*GRID, *options], tmp_path / "p.png", words)


def test_options_before_the_sub_command_are_refused_not_ignored(tmp_path):
    out = tmp_path / "p.png"
    result = CliRunner().invoke(cli, ["gan-dynamics", "--noise", "3", "--quiet", "phase-diagram", "--noise", "0.5:5:3",
                                      "--tau-g", "0.02:0.2:2", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2 and "--noise, --quiet before 'phase-diagram'" in result.output
    assert not out.exists()


def test_quiet_run_prints_nothing_and_writes_the_file(tmp_path):
    out = tmp_path / "run.nc"
    result = CliRunner().invoke(cli, ["gan-dynamics", "--dim", "100", "--time", "5", "--replicas", "2", "--records", "3",
                                      "--out", str(out), "--quiet"])  # fmt: skip
    assert result.exit_code == 0 and result.output == ""
    with xr.open_dataset(out) as ds:
        assert ds.sizes["replica"] == 2
