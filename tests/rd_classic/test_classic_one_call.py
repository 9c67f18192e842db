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
