"""``rd_classic.simulate``: one call returning the dataset ``rdnet simulate`` writes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import rd_classic
from one_call_helpers import assert_equals_the_file
from rdnet.cli.main import cli
from rdnet.errors import ConfigError


@pytest.mark.parametrize("size", ["16", "24x1"], ids=["2-D", "1-D"])
def test_the_in_memory_dataset_equals_the_commands_file_variable_for_variable(tmp_path, size):
    path = tmp_path / "run.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "schnakenberg", "--size", size, "--steps", "30",
                                      "--snapshot-every", "10", "--seed", "2", "--quiet", "--out", str(path)])
    assert result.exit_code == 0, result.output
    dataset = rd_classic.simulate(model="schnakenberg", size=size, steps=30, snapshot_every=10, seed=2, quiet=True)
    assert dataset.sizes["time"] == 4
    assert_equals_the_file(dataset, path)


def test_out_streams_to_a_zarr_store_and_returns_it(tmp_path):
    path = tmp_path / "run.zarr"
    options = {"size": 16, "steps": 20, "snapshot_every": 10, "seed": 1, "quiet": True}
    written = rd_classic.simulate(out=path, **options)
    assert path.is_dir() and written.sizes["time"] == 3
    assert_equals_the_file(rd_classic.simulate(**options), path)


def test_options_are_keyword_only_and_conflicts_are_refused():
    with pytest.raises(TypeError):
        rd_classic.simulate("gray-scott")  # type: ignore[misc]
    with pytest.raises(ConfigError, match="give --model or --model-file, not both"):
        rd_classic.simulate(model="gray-scott", model_file="x.toml", steps=1)


def test_a_numpy_integer_size_is_a_square_grid_like_a_python_int():
    """size=np.int64(16) (a loop over np.arange) was a TypeError ('not iterable')."""
    import numpy as np

    import rd_classic

    ds = rd_classic.simulate(model="linear", size=np.int64(8), steps=1, quiet=True)
    assert (ds.sizes["y"], ds.sizes["x"]) == (8, 8)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"size": 16.5}, "size must be like 256"),
        ({"size": True}, "size must be like 256"),
        ({"size": (16.5, 16)}, "each entry of size (16.5, 16) must be a positive integer"),  # was cut to 16 silently
        ({"steps": True}, "steps must be a positive integer, got True"),  # was one step
        ({"steps": float("nan")}, "steps must be a positive integer, got nan"),
        ({"steps": [10]}, "steps must be a positive integer"),
        ({"snapshot_every": "2"}, "snapshot_every must be a positive integer, got '2'"),
        ({"seed": "a"}, "seed must be a non-negative integer, got 'a'"),
        ({"seed": float("nan")}, "seed must be a non-negative integer, got nan"),
        ({"seed": True}, "seed must be a non-negative integer, got True"),
        ({"dt": "0.1"}, "dt must be a number, got '0.1'"),  # was a TypeError from math.isclose
        ({"dx": True}, "dx must be a number, got True"),
        ({"device": 0}, "device must be a name like 'cpu'"),  # was an AttributeError
        ({"param": 3}, "parameters must map names to values"),  # was an AttributeError
        ({"param": [("F", 0.03)]}, "parameters must map names to values"),
        ({"param": {3: 0.03}}, "a parameter's name must be a string, got 3"),
        ({"model": "gray-scott", "param": {"F": True}}, "parameter F must be a number, got True"),  # was F = 1.0
        ({"boundary": 3}, "--boundary must be a condition like 'no-flux'"),  # was 'int' object is not iterable
        ({"noise": 3}, "--noise must be a term like 'u=0.01'"),
        ({"allow_unstable": "no"}, "allow_unstable must be True or False, got 'no'"),  # "no" allowed an unstable dt
        ({"quiet": "no"}, "quiet must be True or False"),
        ({"stop_when_steady": True}, "stop_when_steady must be a positive finite number, got True"),
        ({"out": 3}, "out must be a path (str or os.PathLike), got 3"),  # was a TypeError from pathlib
        ({"model": None, "model_file": 3}, "model_file must be a path"),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else "",
)
def test_an_option_of_the_wrong_type_is_refused_in_one_line_naming_it(options, words):
    arguments = {"model": "linear", "size": 8, "steps": 2, "quiet": True, **options}
    with pytest.raises(ConfigError) as caught:
        rd_classic.simulate(**{key: value for key, value in arguments.items() if value is not None})
    assert words in str(caught.value) and "\n" not in str(caught.value)
