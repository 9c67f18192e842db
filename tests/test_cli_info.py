"""Tests of ``rdnet --version`` and ``rdnet info``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr
from click.testing import CliRunner

from cli.main import cli
from rdnet import __version__
from rdnet.dataset import write_dataset

ROOT = Path(__file__).resolve().parents[1]


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
