"""``rdnet train --resume FILE --steps N``: a run continued to a later end equals the longer run.

The last step of a run only measures its state (no update, no critic update), while a longer
run updates there: continuing must start from the state that step began with, so its
snapshot and series values are replaced, not kept. The reference is a run asked for the
later end from the start, with the same snapshot spacing; everything must match bit for bit.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.dataset import open_dataset

SMALL = ["--neurons", "16", "--samples", "8", "--input-dim", "12", "--outputs", "2", "--snapshot-every", "5",
         "--seed", "4", "--quiet"]  # fmt: skip
ADVERSARIAL = ["--adversary", "--critic-steps", "2", "--optimizer", "sgd", "--batch-size", "4"]


def train(*arguments):
    result = CliRunner().invoke(cli, ["train", *arguments])
    assert result.exit_code == 0, result.output
    return result


def assert_same_run(path, reference):
    with open_dataset(path) as got, open_dataset(reference) as want:
        assert sorted(got.variables) == sorted(want.variables)
        for name in want.variables:
            np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
        assert json.loads(got.attrs["parameters"]) == json.loads(want.attrs["parameters"])


@pytest.mark.parametrize(
    "kind, old_steps, suffix",
    [("supervised", 13, ".nc"), ("adversarial", 15, ".nc"), ("adversarial", 13, ".zarr")],
)
def test_a_finished_run_continued_to_a_later_end_equals_the_longer_run(tmp_path, kind, old_steps, suffix):
    options = [*SMALL, *(ADVERSARIAL if kind == "adversarial" else [])]
    reference = tmp_path / f"long{suffix}"
    train(*options, "--steps", "25", "--out", str(reference))
    run = tmp_path / f"run{suffix}"
    train(*options, "--steps", str(old_steps), "--out", str(run))
    train("--resume", str(run), "--steps", "25", "--quiet")
    assert not (tmp_path / f"run{suffix}.partial").exists()
    assert not (tmp_path / f"run{suffix}.partial.npz").exists()
    assert_same_run(run, reference)


def test_an_interrupted_run_continued_to_a_later_end_equals_the_longer_run(tmp_path, monkeypatch):
    from rdnet.prd import output

    options = [*SMALL, *ADVERSARIAL]
    reference = tmp_path / "long.nc"
    train(*options, "--steps", "25", "--out", str(reference))
    original = output.NetworkDatasetObserver.snapshot

    def stop_after_two(self, step, time, result):
        original(self, step, time, result)
        if self.writer.n_records == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(output.NetworkDatasetObserver, "snapshot", stop_after_two)
    cut = tmp_path / "cut.nc"
    assert CliRunner().invoke(cli, ["train", *options, "--steps", "15", "--out", str(cut)]).exit_code == 130
    monkeypatch.setattr(output.NetworkDatasetObserver, "snapshot", original)
    train("--resume", f"{cut}.partial", "--steps", "25", "--quiet")
    assert_same_run(cut, reference)


def test_a_finished_run_needs_a_later_end(tmp_path):
    run = tmp_path / "run.nc"
    train(*SMALL, "--steps", "10", "--out", str(run))
    result = CliRunner().invoke(cli, ["train", "--resume", str(run)])
    assert result.exit_code == 2 and "is a finished run" in result.output and "--steps" in result.output
    result = CliRunner().invoke(cli, ["train", "--resume", str(run), "--steps", "10"])
    assert result.exit_code == 2 and "must come after the last snapshot" in result.output


@pytest.mark.parametrize(
    "option",
    [["--adversary"], ["--lr", "0.1"], ["--neurons", "16"], ["--seed", "1"], ["--dataset", "digits"],
     ["--critic-lr", "0.1"], ["--snapshot-every", "5"], ["--save", "full"], ["--threads", "1"], ["--out", "x.nc"],
     ["--overwrite"], ["--dtype", "float32"]],
    ids=lambda option: option[0],
)
def test_every_option_taken_from_the_file_is_refused_with_resume(tmp_path, option):
    result = CliRunner().invoke(cli, ["train", "--resume", str(tmp_path / "run.nc"), "--steps", "40", *option])
    assert result.exit_code == 2
    assert result.output == (f"Error: {option[0]} cannot be given with --resume: the resumed run takes it from "
                             f"run.nc (with --resume only --steps, for a later end, and --quiet apply)\n")  # fmt: skip
