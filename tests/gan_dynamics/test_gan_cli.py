"""The ``rdnet gan-dynamics`` command and its phase-diagram sub-command."""

from __future__ import annotations

import numpy as np
import xarray as xr
from click.testing import CliRunner

from cli.main import cli


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
