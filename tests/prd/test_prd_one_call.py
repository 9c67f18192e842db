"""``rdnet.prd.train``: one call returning the dataset ``rdnet train`` writes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import rdnet.prd
from one_call_helpers import assert_equals_the_file
from rdnet.cli.main import cli


@pytest.mark.parametrize("adversary", [False, True], ids=["supervised", "adversarial"])
def test_the_in_memory_dataset_equals_the_commands_file_variable_for_variable(tmp_path, adversary):
    path = tmp_path / "run.nc"
    arguments = ["train", "--neurons", "16", "--samples", "8", "--steps", "6", "--snapshot-every", "3",
                 "--seed", "5", "--quiet", "--out", str(path), *(["--adversary"] if adversary else [])]  # fmt: skip
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    dataset = rdnet.prd.train(adversary=adversary, neurons=16, samples=8, steps=6, snapshot_every=3, seed=5,
                              quiet=True)  # fmt: skip
    assert dataset.sizes["time"] == 3
    assert_equals_the_file(dataset, path)


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        rdnet.prd.train(True)  # type: ignore[misc]


def test_overwrite_without_a_file_is_refused():
    """``overwrite=True`` with no ``out`` replaced nothing and was silently dropped."""
    from rdnet.errors import ConfigError

    with pytest.raises(ConfigError, match="overwrite applies only with out"):
        rdnet.prd.train(neurons=4, samples=4, input_dim=3, steps=1, overwrite=True, quiet=True)
