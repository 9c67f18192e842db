"""A run killed after its last snapshot but before completion resumes without a duplicate record."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.dataset import open_dataset
from rdnet.prd.output import NetworkDatasetObserver

ARGS = ["train", "--adversary", "--neurons", "16", "--samples", "16", "--input-dim", "36",
        "--steps", "12", "--snapshot-every", "4", "--seed", "3", "--quiet"]  # fmt: skip


def test_interrupt_between_last_snapshot_and_completion(tmp_path, monkeypatch):
    runner = CliRunner()
    reference = tmp_path / "reference.nc"
    assert runner.invoke(cli, [*ARGS, "--out", str(reference)]).exit_code == 0

    out = tmp_path / "interrupted.nc"

    def killed_before_completion(self):
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(NetworkDatasetObserver, "finish", killed_before_completion)
        result = runner.invoke(cli, [*ARGS, "--out", str(out)])
    assert result.exit_code == 130, result.output
    partial = tmp_path / "interrupted.nc.partial"
    assert partial.exists() and not out.exists()

    resumed = runner.invoke(cli, ["train", "--resume", str(partial), "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    expected, actual = open_dataset(reference), open_dataset(out)
    np.testing.assert_array_equal(actual["time"].values, expected["time"].values)
    for name in expected.data_vars:
        np.testing.assert_array_equal(actual[name].values, expected[name].values, err_msg=name)
