"""``rdnet train`` end to end: the dataset, bad input, sweep-style calls, SIGINT and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner

import rdnet
from rdnet.cli.train import command
from rdnet.errors import ConfigError

SMALL = ["--samples", "8", "--input-dim", "12", "--neurons", "64", "--lr", "0.2", "--threads", "1"]


def test_train_writes_a_valid_dataset(tmp_path):
    out = tmp_path / "adv.nc"
    result = CliRunner().invoke(command, [*SMALL, "--steps", "30", "--snapshot-every", "10", "--adversary",
                                          "--train-layers", "hidden", "--outputs", "1", "--out", str(out), "--quiet"])
    assert result.exit_code == 0, result.output
    ds = rdnet.open_dataset(out)
    assert ds.attrs["system"] == "prd"
    assert ds.sizes["time"] == 4 and ds.sizes["step"] == 31 and ds.sizes["y"] == 8
    np.testing.assert_allclose(ds["time"].values, [0, 2, 4, 6])  # t = step · lr
    for name in ("u", "reaction_u", "diffusion_u", "displacement_u", "reaction_u_norm", "diffusion_u_norm",
                 "v", "loss_sup", "bound_neuron_distance_u", "wasserstein_estimate"):
        assert name in ds and "long_name" in ds[name].attrs
    # per-neuron norms equal the norms of the stored full tensors (on the grid)
    np.testing.assert_allclose(np.sqrt((ds.reaction_u ** 2).sum("feature")), ds.reaction_u_norm, rtol=1e-12)
    # displacement at time 0 is zero, and the theory bound holds in the theory setting
    assert float(abs(ds.displacement_u.isel(time=0)).max()) == 0
    assert np.all(ds.max_neuron_distance_u.values <= ds.bound_neuron_distance_u.values + 1e-12)
    assert ds.attrs["parameters"] and '"adversary": true' in ds.attrs["parameters"]


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    runner = CliRunner()
    result = runner.invoke(command, ["--neurons", "1000", "--out", str(tmp_path / "a.nc")], standalone_mode=True)
    assert result.exit_code != 0
    with pytest.raises(ConfigError, match="961 or 1024"):
        command.main(args=["--neurons", "1000", "--out", str(tmp_path / "a.nc")], standalone_mode=False)
    existing = tmp_path / "exists.nc"
    existing.write_bytes(b"x")
    with pytest.raises(ConfigError, match="exists"):
        command.main(args=[*SMALL, "--out", str(existing)], standalone_mode=False)
    with pytest.raises(ConfigError, match="batch-size"):
        command.main(args=[*SMALL, "--optimizer", "sgd", "--out", str(tmp_path / "b.nc")], standalone_mode=False)
    with pytest.raises(ConfigError, match="--batch-size 9 is larger than the 8 samples"):  # it was clamped to 8
        command.main(args=[*SMALL, "--optimizer", "adam", "--batch-size", "9", "--out", str(tmp_path / "b.nc")],
                     standalone_mode=False)  # fmt: skip
    assert not (tmp_path / "a.nc").exists() and not (tmp_path / "b.nc").exists()


def test_cli_group_reports_config_errors_with_exit_code_2(tmp_path):
    from rdnet.cli.main import cli

    result = CliRunner().invoke(cli, ["train", "--neurons", "99", "--out", str(tmp_path / "c.nc")])
    assert result.exit_code == 2
    assert "81 or 100" in result.output and "Traceback" not in result.output


def test_sigint_keeps_partial_and_resume_reproduces_uninterrupted_run(tmp_path):
    args = [*SMALL, "--steps", "800", "--snapshot-every", "20", "--adversary", "--save", "full"]
    reference = tmp_path / "reference.nc"
    command.main(args=[*args, "--out", str(reference), "--quiet"], standalone_mode=False)

    out = tmp_path / "run.nc"
    partial = Path(str(out) + ".partial")
    sidecar = Path(str(partial) + ".npz")
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "rdnet", "train", *args, "--out", str(out), "--quiet"],
        cwd=root, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    while not sidecar.exists() and time.time() < deadline and process.poll() is None:
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    if process.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert process.returncode == 130, stderr
    assert "resume with: rdnet train --resume" in stderr
    assert partial.exists() and not out.exists()

    command.main(args=["--resume", str(partial), "--quiet"], standalone_mode=False)
    assert out.exists() and not partial.exists() and not sidecar.exists()
    expected, resumed = xr.open_dataset(reference), xr.open_dataset(out)
    for name in expected.data_vars:
        np.testing.assert_array_equal(resumed[name].values, expected[name].values, err_msg=name)
    np.testing.assert_array_equal(resumed["time"].values, expected["time"].values)
