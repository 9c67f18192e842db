"""Data loading (IDX reader, digits, synthetic) and the neuron grid."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from rdnet.errors import ConfigError
from rdnet.prd.data import digits_data, idx_data, load_training_data, read_idx
from rdnet.prd.layout import NeuronGrid, grid_for_neurons, neuron_layout, parse_grid


def _idx_bytes(array: np.ndarray) -> bytes:
    codes = {np.dtype("uint8"): 0x08, np.dtype("int32"): 0x0C, np.dtype("float64"): 0x0E}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("compressed", [False, True])
@pytest.mark.parametrize("dtype", ["uint8", "int32", "float64"])
def test_idx_reader_round_trips_arrays(tmp_path, rng, compressed, dtype):
    array = (rng.random((7, 4, 3)) * 200).astype(dtype)
    path = tmp_path / ("a.idx.gz" if compressed else "a.idx")
    payload = _idx_bytes(array)
    path.write_bytes(gzip.compress(payload) if compressed else payload)
    np.testing.assert_array_equal(read_idx(path), array)
    np.testing.assert_array_equal(read_idx(path, max_items=2), array[:2])


def test_idx_reader_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_idx(tmp_path / "missing.idx")
    truncated = tmp_path / "short.idx"
    truncated.write_bytes(_idx_bytes(np.zeros((5, 2, 2), np.uint8))[:-3])
    with pytest.raises(ConfigError, match="truncated"):
        read_idx(truncated)
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"PK\x03\x04junk")
    with pytest.raises(ConfigError, match="not an IDX file"):
        read_idx(bad)


def test_idx_folder_gives_unit_inputs_and_one_hot_targets(tmp_path, rng):
    images = rng.integers(1, 255, size=(12, 5, 5)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8], dtype=np.uint8)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(_idx_bytes(images)))
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(labels))
    data = load_training_data(f"idx:{tmp_path}", samples=10)
    assert data.inputs.shape == (10, 25) and data.targets.shape == (10, 10)
    np.testing.assert_allclose(np.linalg.norm(data.inputs, axis=1), 1.0)
    np.testing.assert_array_equal(data.targets.argmax(axis=1), labels[:10])
    with pytest.raises(ConfigError, match="hold 12 samples"):
        idx_data(tmp_path, 20)
    with pytest.raises(ConfigError, match="no labels file"):
        (tmp_path / "train-labels-idx1-ubyte").unlink()
        idx_data(tmp_path, 5)


def test_digits_and_synthetic_shapes():
    digits = digits_data(30)
    assert digits.inputs.shape == (30, 64)
    np.testing.assert_array_equal(digits.targets.sum(axis=1), 1.0)
    synthetic = load_training_data("synthetic", samples=20, input_dim=50, output_dim=2, seed=1)
    np.testing.assert_allclose(np.linalg.norm(synthetic.inputs, axis=1), 1.0)
    assert synthetic.targets.shape == (20, 2)
    with pytest.raises(ConfigError, match="unknown dataset"):
        load_training_data("cifar", samples=3)


def test_grid_sizes_and_suggestions():
    assert grid_for_neurons(1024) == NeuronGrid(32, 32)
    with pytest.raises(ConfigError, match="961 or 1024"):
        grid_for_neurons(1000)
    assert parse_grid("16x32") == NeuronGrid(16, 32)
    for bad in ("16", "0x4", "ax3"):
        with pytest.raises(ConfigError):
            parse_grid(bad)


@pytest.mark.parametrize("neurons", [64, 1600])  # optimal assignment and sort-based assignment
def test_embedding_layout_is_a_permutation_with_similar_neighbours(rng, neurons):
    side = int(np.sqrt(neurons))
    # weights with a 2-D latent structure, as PCA should recover it
    latent = rng.random((neurons, 2))
    weights = latent @ rng.standard_normal((2, 20)) + 0.01 * rng.standard_normal((neurons, 20))
    grid = NeuronGrid(side, side)
    cells = neuron_layout(weights, grid, layout="embedding")
    assert sorted(cells.ravel()) == list(range(neurons))

    def neighbour_distance(cells):
        placed = weights[cells]
        return np.mean(np.linalg.norm(placed[1:] - placed[:-1], axis=-1)) + np.mean(
            np.linalg.norm(placed[:, 1:] - placed[:, :-1], axis=-1))

    index_cells = neuron_layout(weights, grid, layout="index")
    np.testing.assert_array_equal(index_cells.ravel(), np.arange(neurons))
    assert neighbour_distance(cells) < 0.5 * neighbour_distance(index_cells)


@pytest.mark.parametrize("height", [1, 5])
def test_pca_embedding_of_one_input_direction_sorts_a_column_by_the_weight(rng, height):
    """d_in = 1 (or one neuron) gives PCA fewer than two components; it once raised IndexError.
    On an m x 1 column the rows then follow the ranks of the single weight u_j(0)."""
    weights = rng.normal(size=(height, 1))
    cells = neuron_layout(weights, NeuronGrid(height, 1), layout="embedding")
    np.testing.assert_array_equal(cells[:, 0], np.argsort(weights[:, 0]))


def test_tsne_embedding_needs_three_neurons_and_runs_on_one_input_direction(rng):
    """t-SNE's perplexity must stay below the neuron count (sklearn's ValueError before) and its
    PCA initialisation needs two input directions (d_in = 1 crashed inside sklearn)."""
    for neurons in (1, 2):
        with pytest.raises(ConfigError, match="at least 3 neurons"):
            neuron_layout(rng.normal(size=(neurons, 4)), NeuronGrid(1, neurons), layout="embedding", embedding="tsne")
    cells = neuron_layout(rng.normal(size=(4, 1)), NeuronGrid(2, 2), layout="embedding", embedding="tsne")
    assert sorted(cells.ravel()) == [0, 1, 2, 3]


def test_train_refuses_tsne_on_two_neurons_in_one_line(tmp_path):
    from click.testing import CliRunner

    from rdnet.cli.main import cli

    out = tmp_path / "run.nc"
    result = CliRunner().invoke(cli, ["train", "--grid", "1x2", "--samples", "4", "--input-dim", "3", "--steps", "2",
                                      "--layout", "embedding", "--embedding", "tsne", "--quiet", "--out", str(out)])
    assert result.exit_code == 2 and isinstance(result.exception, SystemExit), result.output
    assert result.output.strip().count("\n") == 0 and "at least 3 neurons" in result.output, result.output
    assert list(tmp_path.iterdir()) == []
