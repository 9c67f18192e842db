"""The training rules of the run specification (``RunSpec.from_options``), shared by ``rdnet train``,
``rdnet.prd.train`` and a sweep's points."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rdnet.prd.run import SINGLE_THREAD_WORK, RunSpec, prepare_run, torch_threads


@pytest.mark.parametrize(
    ("options", "adversary", "weight"),
    [
        ({}, False, 1.0),
        ({"adversary": True}, True, 1.0),
        ({"adversary_weight": 0.5}, True, 0.5),  # a nonzero weight implies the adversary
        ({"adversary_weight": 0.0}, False, 0.0),  # a zero weight alone does not
        ({"adversary": True, "adversary_weight": 0.0}, True, 0.0),  # critic trained, its term weighted 0
    ],
)
def test_the_adversary_follows_its_flag_or_a_nonzero_weight(options, adversary, weight):
    training = RunSpec.from_options(options).training
    assert (training.adversary, training.adversary_weight) == (adversary, weight)


def test_a_batch_size_with_full_batch_gd_is_refused_and_applies_to_sgd():
    with pytest.raises(ConfigError, match="gd always uses all samples"):
        RunSpec.from_options({"optimizer": "gd", "batch_size": 4})
    assert RunSpec.from_options({"optimizer": "sgd", "batch_size": 4}).training.batch_size == 4


def test_neurons_and_the_neuron_grid_must_agree():
    spec = RunSpec.from_options({"neurons": 64, "grid": "4x16"})
    assert (spec.grid_height, spec.grid_width) == (4, 16)
    assert (RunSpec.from_options({"neurons": 36}).grid_height, RunSpec.from_options({"neurons": 36}).grid_width) == (6, 6)
    with pytest.raises(ConfigError, match="disagree"):
        RunSpec.from_options({"neurons": 16, "grid": "4x8"})


def test_small_runs_take_one_thread_and_an_explicit_count_wins():
    small = prepare_run(RunSpec.from_options({"samples": 4, "input_dim": 4, "neurons": 4, "steps": 1}))
    assert small.data.samples * small.spec.neurons * small.data.input_dim < SINGLE_THREAD_WORK
    assert torch_threads(small, None) == 1
    assert torch_threads(small, 3) == 3


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"embedding": "tsne"}, "--embedding applies only with --layout embedding"),
        ({"layout": "index", "embedding": "pca"}, "--embedding applies only with --layout embedding"),
        ({"dataset": "digits", "input_dim": 5}, "--input-dim applies only to --dataset synthetic"),
        ({"dataset": "digits", "outputs": 3}, "--outputs applies only to --dataset synthetic"),
        ({"dataset": "idx:data", "data_seed": 2}, "--data-seed applies only to --dataset synthetic"),
        # an explicit --no-adversary was once silently overridden by a nonzero weight (an adversarial run)
        ({"adversary": False, "adversary_weight": 0.5}, "--no-adversary turns off"),
        # negative seeds once reached numpy's SeedSequence: a ValueError traceback
        ({"seed": -1}, "--seed must be 0 or more"),
        ({"data_seed": -3}, "--data-seed must be 0 or more"),
        # the critic's options were once silently dropped by a run without a critic
        ({"critic_lr": 0.5}, "--critic-lr applies only to a run with a critic"),
        ({"critic_steps": 3}, "--critic-steps applies only to a run with a critic"),
        ({"critic_optimizer": "gd"}, "--critic-optimizer applies only to a run with a critic"),
        ({"critic_neurons": 4}, "--critic-neurons applies only to a run with a critic"),
        ({"gp_weight": 2.0}, "--gp-weight applies only to a run with a critic"),
        ({"adversary_weight": 0.0, "gp_weight": 2.0}, "--gp-weight applies only to a run with a critic"),
        # ... and the update options by a critic frozen at its initialisation
        ({"adversary": True, "critic_steps": 0, "critic_lr": 0.3}, "--critic-steps 0 freezes it"),
        ({"adversary": True, "critic_steps": 0, "gp_weight": 1.0}, "--critic-steps 0 freezes it"),
        # δ enters only Theorem 2's bounds; elsewhere it was stored but used by nothing
        ({"delta": 0.1}, "--delta applies only to Theorem 2's bounds"),
        ({"adversary": True, "delta": 0.1}, "--delta applies only to Theorem 2's bounds"),
        ({"adversary": True, "train_layers": "hidden", "outputs": 1, "optimizer": "adam", "delta": 0.1},
         "--delta applies only"),
        # a zero critic rate trained nothing (--critic-steps 0 says that); β < 0 reversed the diffusion
        ({"adversary": True, "critic_lr": 0.0}, "critic learning rate must be a positive number"),
        ({"adversary": True, "critic_lr": -0.01}, "critic learning rate must be a positive number"),
        ({"adversary_weight": -1.0}, "adversary weight must be 0 or more"),
        ({"adversary": True, "adversary_weight": -0.5}, "adversary weight must be 0 or more"),
    ],
)
def test_options_that_cannot_apply_are_refused(options, message):
    """An option the run would not use is refused, never silently dropped."""
    with pytest.raises(ConfigError, match=message):
        RunSpec.from_options(options)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"steps": "5"}, "--steps must be an integer, got '5'"),
        ({"samples": 4.0}, "--samples must be an integer, got 4.0"),
        ({"neurons": True}, "--neurons must be an integer, got True"),
        ({"lr": "0.1"}, "--lr must be a number, got '0.1'"),
        ({"adversary": "yes"}, "--adversary must be True or False, got 'yes'"),
        ({"dataset": 3}, "--dataset must be a string, got 3"),  # was "'int' object has no attribute 'startswith'"
        ({"grid": 4}, "--grid must be a string, got 4"),  # was "expected string or bytes-like object" from re
        ({"out": 3}, r"--out must be a path \(str or os.PathLike\), got 3"),  # was a TypeError from pathlib
        ({"resume": 3}, r"--resume must be a path \(str or os.PathLike\), got 3"),
    ],
)
def test_options_of_the_wrong_type_are_one_config_error(options, message):
    """The Python call's options are checked as click checks the command's (a str step count
    failed with "'<' not supported between instances of 'str' and 'int'")."""
    with pytest.raises(ConfigError, match=message):
        RunSpec.from_options(options)


def test_numpy_numbers_are_accepted_as_options():
    spec = RunSpec.from_options({"steps": np.int64(7), "lr": np.float32(0.25), "adversary": np.bool_(True)})
    assert (spec.steps, spec.training.adversary) == (7, True) and spec.training.lr == pytest.approx(0.25)


def test_the_options_that_apply_are_accepted():
    assert RunSpec.from_options({"layout": "embedding", "embedding": "tsne"}).embedding == "tsne"
    critic = RunSpec.from_options({"adversary": True, "adversary_weight": 0.0, "critic_lr": 0.1, "gp_weight": 0.0})
    assert (critic.training.critic_lr, critic.training.gp_weight) == (0.1, 0.0)
    assert RunSpec.from_options({"adversary_weight": 0.5, "critic_steps": 0, "critic_neurons": 4}).critic_neurons == 4
    theory_options = {"adversary": True, "train_layers": "hidden", "outputs": 1, "delta": 0.1}
    assert RunSpec.from_options(theory_options).delta == 0.1
    assert RunSpec.from_options({"dataset": "synthetic", "input_dim": 5, "outputs": 2, "data_seed": 3}).input_dim == 5


@pytest.mark.parametrize("arguments", [["--seed", "-1"], ["--data-seed", "-1"], ["--no-adversary", "--adversary-weight", "1"],
                                       ["--critic-lr", "0.5"], ["--adversary", "--critic-lr", "0"],
                                       ["--adversary-weight", "-1"], ["--delta", "0.1"]])
def test_train_refuses_contradictory_or_negative_options_in_one_line(tmp_path, arguments):
    from click.testing import CliRunner

    from rdnet.cli.main import cli

    out = tmp_path / "run.nc"
    result = CliRunner().invoke(cli, ["train", "--grid", "2x2", "--samples", "4", "--input-dim", "3", "--steps", "2",
                                      "--quiet", "--out", str(out), *arguments])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.output.startswith("Error:") and result.output.strip().count("\n") == 0, result.output
    assert list(tmp_path.iterdir()) == []


def test_network_stability_refuses_a_negative_seed_by_name(tmp_path):
    """``rdnet stability --network RUN --seed -1`` once died in numpy's SeedSequence with a traceback."""
    from click.testing import CliRunner

    from rdnet.cli.main import cli

    result = CliRunner().invoke(cli, ["stability", "--network", str(tmp_path / "run.nc"), "--seed", "-1"])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert "'--seed'" in result.output and "x>=0" in result.output, result.output
