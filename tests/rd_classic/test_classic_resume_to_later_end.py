"""``rdnet simulate --resume FILE --steps N``: a run continued to a later end equals the longer run.

The reference is a run asked for the later end from the start, with the same snapshot
spacing: the continued file must hold the same snapshots, bit for bit (CPU), and the same
parameters. Every option a resumed run takes from its file is refused with one line.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.dataset import open_dataset

BASE = ["--model", "gray-scott", "--size", "16", "--snapshot-every", "10", "--seed", "3", "--quiet"]


def simulate(*arguments):
    result = CliRunner().invoke(cli, ["simulate", *arguments])
    assert result.exit_code == 0, result.output
    return result


def assert_same_run(path, reference):
    with open_dataset(path) as got, open_dataset(reference) as want:
        assert sorted(got.variables) == sorted(want.variables)
        for name in want.variables:
            np.testing.assert_array_equal(got[name].values, want[name].values, err_msg=name)
            assert got[name].dims == want[name].dims
        assert json.loads(got.attrs["parameters"]) == json.loads(want.attrs["parameters"])


@pytest.mark.parametrize(
    "old_steps, suffix", [(30, ".nc"), (25, ".nc"), (25, ".zarr")],
    ids=["end on the snapshot grid", "end off the grid", "zarr store"],
)
def test_a_finished_run_continued_to_a_later_end_equals_the_longer_run(tmp_path, old_steps, suffix):
    reference = tmp_path / f"long{suffix}"
    simulate(*BASE, "--steps", "50", "--out", str(reference))
    run = tmp_path / f"run{suffix}"
    simulate(*BASE, "--steps", str(old_steps), "--out", str(run))
    simulate("--resume", str(run), "--steps", "50", "--quiet")
    assert not (tmp_path / f"run{suffix}.partial").exists()
    assert_same_run(run, reference)
    with open_dataset(run) as ds:
        history = ds.attrs["history"].splitlines()
    assert len(history) == 2 and "--resume" in history[1]


def test_an_interrupted_run_continued_to_a_later_end_equals_the_longer_run(tmp_path, monkeypatch):
    import rd_classic.run as run_module

    reference = tmp_path / "long.nc"
    simulate(*BASE, "--steps", "50", "--out", str(reference))
    original = run_module._emit
    emitted = []

    def interrupt_after_two(stepper, observers, step, config):
        result = original(stepper, observers, step, config)
        emitted.append(step)
        if len(emitted) == 2:
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(run_module, "_emit", interrupt_after_two)
    cut = tmp_path / "cut.nc"
    result = CliRunner().invoke(cli, ["simulate", *BASE, "--steps", "30", "--out", str(cut)])
    assert result.exit_code == 130
    monkeypatch.setattr(run_module, "_emit", original)
    simulate("--resume", f"{cut}.partial", "--steps", "50", "--quiet")
    assert_same_run(cut, reference)


def test_time_sets_the_new_end_in_whole_steps_of_the_runs_dt(tmp_path):
    reference = tmp_path / "long.nc"
    simulate(*BASE, "--dt", "1", "--steps", "50", "--out", str(reference))
    run = tmp_path / "run.nc"
    simulate(*BASE, "--dt", "1", "--steps", "20", "--out", str(run))
    simulate("--resume", str(run), "--time", "50", "--quiet")
    assert_same_run(run, reference)
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(run), "--time", "60.5", "--quiet"])
    assert result.exit_code == 2 and "not a whole number of the run's steps" in result.output


def test_a_finished_run_needs_a_later_end(tmp_path):
    run = tmp_path / "run.nc"
    simulate(*BASE, "--steps", "20", "--out", str(run))
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(run)])
    assert result.exit_code == 2 and "is a finished run" in result.output and "--steps or --time" in result.output
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(run), "--steps", "10"])
    assert result.exit_code == 2 and "must come after the last snapshot" in result.output
    assert not run.with_name("run.nc.partial").exists()


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("finished") / "run.nc"
    simulate(*BASE, "--steps", "20", "--out", str(run))
    return run


@pytest.mark.parametrize(
    "option",
    [
        ["--model", "gray-scott"], ["--model-file", "x.toml"], ["--preset", "coral"], ["--param", "F=0.03"],
        ["--size", "16"], ["--dt", "0.5"], ["--dx", "0.5"], ["--integrator", "rk4"], ["--boundary", "no-flux"],
        ["--device", "cpu"], ["--backend", "numpy"], ["--dtype", "float32"], ["--snapshot-every", "10"],
        ["--seed", "3"], ["--initial", "noise"], ["--out", "other.nc"], ["--overwrite"], ["--allow-unstable"],
    ],
    ids=lambda option: option[0],
)
def test_every_option_taken_from_the_file_is_refused_with_resume(finished_run, option):
    run = finished_run
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(run), "--steps", "40", *option])
    assert result.exit_code == 2
    assert result.output == (f"Error: {option[0]} cannot be given with --resume: the resumed run takes it from "
                             f"run.nc (with --resume only --steps or --time for a later end, --stop-when-steady "
                             f"and --quiet apply)\n")  # fmt: skip
    assert not run.with_name("run.nc.partial").exists()
