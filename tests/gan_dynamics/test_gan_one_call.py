"""``rdnet.gan_dynamics.simulate``: one call returning the dataset ``rdnet gan-dynamics`` writes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import rdnet.gan_dynamics
from rdnet.cli.main import cli
from rdnet.errors import ConfigError
from one_call_helpers import assert_equals_the_file

OPTIONS = {"dim": 60, "time": 5.0, "replicas": 2, "records": 6, "noise": 1.0, "lambdas": "3,5", "seed": 4}


def test_the_in_memory_dataset_equals_the_commands_file_variable_for_variable(tmp_path):
    path = tmp_path / "run.nc"
    arguments = ["gan-dynamics", "--dim", "60", "--time", "5", "--replicas", "2", "--records", "6", "--noise", "1",
                 "--lambda", "3,5", "--seed", "4", "--out", str(path)]  # fmt: skip
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    dataset = rdnet.gan_dynamics.simulate(**OPTIONS, quiet=True)
    assert dataset.attrs["system"] == "gan-dynamics" and dataset.sizes["replica"] == 2
    assert_equals_the_file(dataset, path)


def test_out_writes_the_file_and_returns_it(tmp_path):
    path = tmp_path / "run.nc"
    dataset = rdnet.gan_dynamics.simulate(**OPTIONS, out=path, quiet=True)
    assert path.exists() and dataset.attrs["system"] == "gan-dynamics"
    assert_equals_the_file(rdnet.gan_dynamics.simulate(**OPTIONS, quiet=True), path)
    dataset.close()
    with pytest.raises(ConfigError, match="--overwrite"):
        rdnet.gan_dynamics.simulate(**OPTIONS, out=path, quiet=True)


@pytest.mark.parametrize(
    "options, message",
    [({"tau_d": -1.0}, "--tau-d must be > 0"), ({"lambdas": [3.0, 5.0], "features": 3}, "--features 3 does not match"),
     ({"engine": "other"}, "--engine must be frame or vector"), ({"lambdas": "3,x"}, "comma-separated numbers"),
     # wrong types were TypeErrors ("'<' not supported between instances of 'str' and 'int'")
     ({"dim": "50"}, "--dim must be an integer, got '50'"), ({"replicas": 2.5}, "--replicas must be an integer"),
     ({"noise": "2"}, "--noise must be a number, got '2'"), ({"dim": True}, "--dim must be an integer, got True")],
)  # fmt: skip
def test_a_bad_option_is_refused_before_anything_runs(tmp_path, options, message):
    with pytest.raises(ConfigError, match=message):
        rdnet.gan_dynamics.simulate(**{**OPTIONS, **options}, out=tmp_path / "run.nc", quiet=True)
    assert not list(tmp_path.iterdir())


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        rdnet.gan_dynamics.simulate(60)  # type: ignore[misc]


def test_overwrite_without_a_file_is_refused():
    """``overwrite=True`` with no ``out`` replaced nothing and was silently dropped."""
    with pytest.raises(ConfigError, match="overwrite applies only with out"):
        rdnet.gan_dynamics.simulate(**OPTIONS, overwrite=True, quiet=True)
