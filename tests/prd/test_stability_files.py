"""Runs' files hold what the stability analysis needs; ``rdnet stability --network`` end to end.

The states rebuilt from a file are held against the trainer's own weights at the snapshots,
files written before the stability analysis (``tests/data/prd_*_v1.nc``, made by commit
0b6384c) stay readable, and a file that is not a network run or lacks what is needed is refused
in one line."""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np
import pytest
import torch
import xarray as xr
from click.testing import CliRunner

import rdnet
from rdnet.cli.main import cli
from rdnet.errors import DatasetError
from rdnet.prd.output import NetworkDatasetObserver
from rdnet.prd.run import RunSpec, prepare_run, run_training
from rdnet.prd.snapshots import open_network_run
from rdnet.prd.training import TrainingConfig

DATA = Path(__file__).parents[1] / "data"
OLD_ADVERSARIAL = DATA / "prd_adversarial_v1.nc"  # --save full: u stored, no critic
OLD_SUPERVISED_NORMS = DATA / "prd_supervised_norms_v1.nc"  # --save norms: no hidden layer


class _Recorder:
    """Keeps the trainer's own weights at every snapshot."""

    def __init__(self) -> None:
        self.weights = []

    def start(self, run, step) -> None:
        self.run = run

    def snapshot(self, step, time, result) -> None:
        critic = self.run.state.critic
        self.weights.append((result.weights_U.clone(), result.weights_V.clone(),
                             None if critic is None else (critic.W.clone(), critic.a.clone())))  # fmt: skip


def _train(path: Path, *, save: str, samples: int, adversary: bool = True, critic_optimizer: str = "adam",
           optimizer: str = "gd") -> _Recorder:  # fmt: skip
    training = TrainingConfig(adversary=adversary, lr=0.1, critic_optimizer=critic_optimizer, optimizer=optimizer,
                              batch_size=None if optimizer == "gd" else samples)  # fmt: skip
    spec = RunSpec(samples=samples, input_dim=8, outputs=2, grid_height=4, grid_width=4, steps=8, snapshot_every=4,
                   training=training)  # fmt: skip
    run = prepare_run(spec)
    recorder = _Recorder()
    run_training(run, [NetworkDatasetObserver.create(path, run, save=save, history="test"), recorder])
    return recorder


@pytest.mark.parametrize("save,samples,stored", [("norms", 6, "u_coefficients"), ("full", 6, "u"),
                                                 ("norms", 12, "u_weights")])  # fmt: skip
def test_every_snapshot_rebuilds_the_trainers_exact_state(tmp_path, save, samples, stored):
    path = tmp_path / "run.nc"
    recorder = _train(path, save=save, samples=samples)
    with rdnet.open_dataset(path) as dataset:
        assert stored in dataset and "critic_w" in dataset and "critic_second_moment_a" in dataset
        assert [name for name in ("u", "u_coefficients", "u_weights") if name in dataset] == [stored]
    with open_network_run(path) as run:
        assert run.count == len(recorder.weights) == 3
        for index, (U, V, (W, a)) in enumerate(recorder.weights):
            state = run.state(index, with_critic=True)
            torch.testing.assert_close(state.U, U, rtol=0, atol=1e-13)
            torch.testing.assert_close(state.V, V, rtol=0, atol=0)
            torch.testing.assert_close(state.critic.W, W, rtol=0, atol=0)
            torch.testing.assert_close(state.critic.a, a, rtol=0, atol=0)
            assert state.critic_rate == pytest.approx(5 * 1e-2 / 0.1)
            assert state.critic_preconditioner is not None  # Adam has updated the critic before snapshot 0


def test_a_gradient_descent_critic_has_no_preconditioner(tmp_path):
    path = tmp_path / "run.nc"
    _train(path, save="norms", samples=6, critic_optimizer="gd")
    with open_network_run(path) as run:
        assert "critic_second_moment_w" not in run.dataset
        assert run.state(-1, with_critic=True).critic_preconditioner is None


def test_a_state_that_does_not_reproduce_the_record_is_refused(tmp_path):
    path = tmp_path / "run.nc"
    _train(path, save="norms", samples=6)
    with netCDF4.Dataset(path, "a") as nc:
        nc["u_coefficients"][2, 0, 3] += 1e-3
    with open_network_run(path) as run:
        run.state(1, with_critic=True)  # untouched snapshot
        with pytest.raises(DatasetError, match="snapshot 2 does not reproduce the recorded displacement_u"):
            run.state(2, with_critic=True)


def test_training_data_that_regenerate_differently_are_refused(tmp_path):
    path = tmp_path / "run.nc"
    _train(path, save="norms", samples=6)
    with netCDF4.Dataset(path, "a") as nc:
        parameters = json.loads(nc.getncattr("parameters"))
        parameters["data_seed"] = 1
        nc.setncattr("parameters", json.dumps(parameters))
    with pytest.raises(DatasetError, match="training data regenerated from its parameters .* differ"):
        open_network_run(path)


def _stability(*args: str):
    return CliRunner().invoke(cli, ["stability", *args])


def test_old_files_stay_readable_and_give_what_they_hold(tmp_path):
    for old in (OLD_ADVERSARIAL, OLD_SUPERVISED_NORMS):
        with rdnet.open_dataset(old) as dataset:  # the convention still reads them
            assert dataset.attrs["system"] == "prd" and "critic_w" not in dataset
        assert CliRunner().invoke(cli, ["analyze", str(old), "--surrogates", "0"]).exit_code == 0
    result = _stability("--network", str(OLD_ADVERSARIAL), "--jacobian", "reaction", "--eigenvalues", "2", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert set(document["snapshots"][0]["jacobians"]) == {"reaction"}
    # "all" on an old adversarial run gives what it can: the reaction
    result = _stability("--network", str(OLD_ADVERSARIAL), "--eigenvalues", "2")
    assert result.exit_code == 0 and "J_R" in result.output and "J_RD" not in result.output


@pytest.mark.parametrize("arguments,message", [
    ([str(OLD_SUPERVISED_NORMS)], "lacks the hidden layer U at its snapshots"),
    ([str(OLD_ADVERSARIAL), "--jacobian", "frozen"], "lacks the critic's weights at its snapshots (critic_w, critic_a"),
    ([str(OLD_ADVERSARIAL), "--train-critic", "10"], "--train-critic applies to a supervised run"),
])  # fmt: skip
def test_files_without_what_is_needed_are_refused_in_one_line(arguments, message):
    result = _stability("--network", *arguments)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0]


def test_a_file_that_is_not_a_network_run_is_refused(tmp_path):
    classic = tmp_path / "classic.nc"
    field = xr.Dataset({"u": (("time", "y", "x"), np.zeros((1, 4, 4)))},
                       coords={"time": [0.0], "y": np.arange(4.0), "x": np.arange(4.0)})  # fmt: skip
    rdnet.dataset.write_dataset(field, classic, system="classic", model="gray-scott", parameters={})
    result = _stability("--network", str(classic))
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: {classic} is not a network run (system 'classic'); "
                                     "--network takes a file written by rdnet train")  # fmt: skip


def test_options_of_one_side_are_refused_on_the_other():
    assert "--model describes a model" in _stability("--network", str(OLD_ADVERSARIAL), "--model", "brusselator").output
    assert "--eigenvalues applies only with --network" in _stability("--eigenvalues", "3").output


@pytest.mark.parametrize("option", [("--box", "10"), ("--boundary", "no-flux")])
def test_the_box_options_are_refused_with_network(option):
    """--box/--boundary describe a model's box: with --network they would be ignored, so they are refused."""
    result = _stability("--network", str(OLD_ADVERSARIAL), *option)
    assert result.exit_code == 2
    assert result.output.strip() == f"Error: {option[0]} describes a model; it cannot apply with --network"


def test_cli_writes_a_modes_dataset_that_plot_analyze_and_compare_read(tmp_path):
    run = tmp_path / "adv.nc"
    _train(run, save="norms", samples=6)
    modes, figure = tmp_path / "modes.nc", tmp_path / "stability.png"
    result = _stability("--network", str(run), "--eigenvalues", "3", "--json", "--surrogates", "19",
                        "--out", str(modes), "--plot", str(figure))  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(result.output[result.output.index("{"):result.output.rindex("}") + 1])
    frozen = document["snapshots"][0]["jacobians"]["frozen"]
    for key in ("eigenvalues", "max_real_part", "unstable_count", "neutral_count", "tolerance", "modes"):
        assert key in frozen
    assert {"dominant_wavelength", "surrogate_p_value"} <= set(frozen["modes"][0])
    assert frozen["max_real_part"] == max(value[0] for value in frozen["eigenvalues"])
    assert figure.stat().st_size > 0
    with rdnet.open_dataset(modes) as dataset:
        assert dataset.attrs["system"] == "prd-stability"
        assert dataset["mode1_frozen"].dims == ("time", "component_frozen", "y", "x")
        wavelength = float(dataset["dominant_wavelength_frozen"].isel(time=0, rank=0))
    analyzed = CliRunner().invoke(cli, ["analyze", str(modes), "--var", "mode1_frozen", "--json", "--surrogates", "19"])
    assert analyzed.exit_code == 0, analyzed.output
    assert json.loads(analyzed.output)["mode1_frozen"]["dominant_wavelength"] == pytest.approx(
        frozen["modes"][0]["dominant_wavelength"], rel=1e-5) == pytest.approx(wavelength, rel=1e-5)
    plotted = CliRunner().invoke(cli, ["plot", str(modes), "--var", "mode1_frozen_u_norm", "--out", str(tmp_path / "m.png")])
    assert plotted.exit_code == 0, plotted.output
    compared = CliRunner().invoke(cli, ["compare", str(modes), str(run), "--var", "mode1_frozen_u_norm,displacement_u",
                                        "--surrogates", "9"])  # fmt: skip
    assert compared.exit_code == 0, compared.output


def test_a_supervised_run_gets_a_critic_trained_against_it(tmp_path):
    run = tmp_path / "sup.nc"
    _train(run, save="norms", samples=6, adversary=False)
    alone = _stability("--network", str(run), "--eigenvalues", "2", "--json")
    assert set(json.loads(alone.output)["snapshots"][0]["jacobians"]) == {"reaction"}
    refused = _stability("--network", str(run), "--jacobian", "frozen")
    assert refused.exit_code == 2 and "--train-critic" in refused.output
    result = _stability("--network", str(run), "--eigenvalues", "2", "--train-critic", "20", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["critic"] == "trained 20 steps against the snapshot"
    assert set(document["snapshots"][0]["jacobians"]) == {"reaction", "frozen", "game"}


def test_a_one_neuron_network_has_eigenvalues_but_no_pattern(tmp_path):
    """A 1 x 1 neuron grid has no spatial structure: its modes' wavelength and p-value are
    undefined (null), while the eigenvalues are still computed (it was a traceback)."""
    path = tmp_path / "one.nc"
    spec = RunSpec(samples=4, input_dim=3, outputs=1, grid_height=1, grid_width=1, steps=2, snapshot_every=1,
                   training=TrainingConfig(adversary=True, lr=0.1))  # fmt: skip
    run = prepare_run(spec)
    run_training(run, [NetworkDatasetObserver.create(path, run, save="full", history="test")])
    result = _stability("--network", str(path), "--eigenvalues", "2", "--surrogates", "3", "--json")
    assert result.exit_code == 0, result.output
    snapshot = json.loads(result.output)["snapshots"][0]
    assert snapshot["pattern"]["dominant_wavelength"] is None and snapshot["pattern"]["surrogate_p_value"] is None
    modes = snapshot["jacobians"]["reaction"]["modes"]
    assert modes and all(mode["dominant_wavelength"] is None and mode["surrogate_p_value"] is None for mode in modes)


def test_network_stability_keeps_an_existing_plot_unless_overwrite(tmp_path):
    existing = tmp_path / "stability.png"
    existing.write_bytes(b"the user's figure")
    result = _stability("--network", str(OLD_ADVERSARIAL), "--jacobian", "reaction", "--eigenvalues", "2",
                        "--plot", str(existing))  # fmt: skip
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert existing.read_bytes() == b"the user's figure"
