"""IDX folders that are corrupt, hostile or oddly named: one clear line from ``rdnet train``, no traceback.

Every file is written here; a header may declare far more data than the file holds (the reader
must compare the two before it allocates anything).
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.errors import ConfigError
from rdnet.prd.data import MAX_CLASSES, idx_data, read_idx

TYPE_CODES = {np.dtype("uint8"): 0x08, np.dtype("int8"): 0x09, np.dtype("int16"): 0x0B, np.dtype("int32"): 0x0C,
              np.dtype("float32"): 0x0D, np.dtype("float64"): 0x0E}  # fmt: skip


def idx_bytes(array: np.ndarray, *, shape: tuple[int, ...] | None = None) -> bytes:
    """An IDX file holding ``array``; ``shape`` overrides the dims its header declares."""
    shape = array.shape if shape is None else shape
    header = bytes([0, 0, TYPE_CODES[array.dtype], len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, payload: bytes) -> Path:
    path.write_bytes(gzip.compress(payload) if path.name.endswith(".gz") else payload)
    return path


def mnist_like(folder: Path, *, count: int = 30, prefix: str = "train", images_name: str | None = None,
               labels_name: str | None = None, seed: int = 0) -> np.ndarray:  # fmt: skip
    """A small images/labels pair in ``folder``; returns the labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(1, 255, size=(count, 4, 4)).astype(np.uint8)
    labels = rng.integers(0, 10, size=count).astype(np.uint8)
    write(folder / (images_name or f"{prefix}-images-idx3-ubyte"), idx_bytes(images))
    write(folder / (labels_name or f"{prefix}-labels-idx1-ubyte"), idx_bytes(labels))
    return labels


def train(folder: Path, tmp_path: Path, *extra: str):
    """``rdnet train --dataset idx:FOLDER --samples 20 --neurons 16``; returns (result, output path)."""
    out = tmp_path / "out.nc"
    arguments = ["train", "--dataset", f"idx:{folder}", "--samples", "20", "--neurons", "16", "--steps", "2",
                 "--threads", "1", "--quiet", "--out", str(out), *extra]  # fmt: skip
    return CliRunner().invoke(cli, arguments), out


def assert_refused(result, out: Path, *words: str) -> str:
    """Exit 2, exactly one ``Error:`` line holding ``words``, no traceback, nothing written."""
    output = result.output
    assert result.exit_code == 2, output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output and "out of memory" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and len(output.strip().splitlines()) == 1, output
    for word in words:
        assert word in errors[0], errors[0]
    assert not out.exists() and not Path(str(out) + ".partial").exists()
    return errors[0]


@pytest.fixture
def folder(tmp_path) -> Path:
    path = tmp_path / "idx"
    path.mkdir()
    return path


# ----------------------------------------------------------------------------- (a), (b): the declared size


@pytest.mark.parametrize("name", ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz"])
@pytest.mark.parametrize("dims", [(50, 2**31, 2**31), (50, 60000, 60000)], ids=["overflowing", "huge"])
def test_header_declaring_more_than_the_file_holds_is_refused(folder, tmp_path, name, dims):
    labels = np.arange(50, dtype=np.uint8) % 10
    write(folder / "train-labels-idx1-ubyte", idx_bytes(labels))
    write(folder / name, idx_bytes(np.zeros((50, 4, 4), np.uint8), shape=dims))
    result, out = train(folder, tmp_path)
    message = assert_refused(result, out, name, " x ".join(str(d) for d in dims), "holds")
    assert f"{50 * dims[1] * dims[2]:,} bytes" in message


def test_file_holding_more_than_its_header_declares_is_refused(tmp_path):
    path = write(tmp_path / "a-images-idx3-ubyte", idx_bytes(np.zeros((5, 2, 2), np.uint8)) + b"extra")
    with pytest.raises(ConfigError, match=r"does not match its header.*\(20 bytes\).*holds 25 bytes of data"):
        read_idx(path)


def test_truncated_gzip_stream_is_refused(tmp_path):
    payload = gzip.compress(idx_bytes(np.arange(4000, dtype=np.int32).reshape(40, 100)))
    path = tmp_path / "a-images-idx3-ubyte.gz"
    path.write_bytes(payload[: len(payload) // 2])
    with pytest.raises(ConfigError, match="a-images-idx3-ubyte.gz"):
        read_idx(path)


def test_multi_member_gzip_is_read_whole(tmp_path):
    """``cat a.gz b.gz``: the trailer's size covers the last member only, so the reader counts."""
    array = np.arange(60, dtype=np.int16).reshape(5, 3, 4)
    payload = idx_bytes(array)
    path = tmp_path / "a.idx.gz"
    path.write_bytes(gzip.compress(payload[:30]) + gzip.compress(payload[30:]))
    np.testing.assert_array_equal(read_idx(path), array)
    path.write_bytes(gzip.compress(payload[:30]) + gzip.compress(payload[30:-2]))
    with pytest.raises(ConfigError, match="truncated"):
        read_idx(path)


# ----------------------------------------------------------------------------- (b), (c): the labels


@pytest.mark.parametrize("bad_label", [2**30, MAX_CLASSES, -1])
def test_labels_must_be_small_class_numbers(folder, tmp_path, bad_label):
    mnist_like(folder)
    labels = np.arange(30, dtype=np.int32) % 10
    labels[7] = bad_label
    write(folder / "train-labels-idx1-ubyte", idx_bytes(labels))
    result, out = train(folder, tmp_path)
    assert_refused(result, out, "train-labels-idx1-ubyte", f"holds label {bad_label}", f"0 to {MAX_CLASSES - 1}")


def test_labels_must_be_integers(folder, tmp_path):
    mnist_like(folder)
    labels = (np.arange(30) % 10).astype(np.float32)
    labels[3] = np.nan
    write(folder / "train-labels-idx1-ubyte", idx_bytes(labels))
    result, out = train(folder, tmp_path)
    assert_refused(result, out, "train-labels-idx1-ubyte", "float labels", "integer")


def test_images_must_be_finite(folder, tmp_path):
    mnist_like(folder)
    images = np.ones((30, 4, 4), np.float32)
    images[2, 1, 1] = np.inf
    write(folder / "train-images-idx3-ubyte", idx_bytes(images))
    result, out = train(folder, tmp_path)
    assert_refused(result, out, "train-images-idx3-ubyte", "non-finite")


# ----------------------------------------------------------------------------- (d): names


@pytest.mark.parametrize(
    "images_name, labels_name",
    [
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
        ("train-images.idx3-ubyte", "train-labels.idx1-ubyte"),  # Kaggle
        ("t10k-images.idx3-ubyte", "t10k-labels.idx1-ubyte"),  # Kaggle, test set only
        ("train-images.idx3-ubyte.gz", "train-labels-idx1-ubyte"),
        ("train_images_idx3_ubyte", "train_labels_idx1_ubyte"),
        ("emnist-digits-train-images-idx3-ubyte.gz", "emnist-digits-train-labels-idx1-ubyte.gz"),
    ],
)
def test_common_file_names_are_found(folder, tmp_path, images_name, labels_name):
    labels = mnist_like(folder, images_name=images_name, labels_name=labels_name)
    data = idx_data(folder, 20)
    np.testing.assert_array_equal(data.targets.argmax(axis=1), labels[:20])
    result, out = train(folder, tmp_path)
    assert result.exit_code == 0, result.output
    assert out.exists()


def test_kaggle_folder_per_file_is_found(folder):
    """Kaggle's MNIST unpacks every file into a folder of the same name."""
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (folder / name).mkdir()
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 10, size=25).astype(np.uint8)
    write(folder / "train-images-idx3-ubyte" / "train-images-idx3-ubyte", idx_bytes(np.ones((25, 3, 3), np.uint8)))
    write(folder / "train-labels-idx1-ubyte" / "train-labels-idx1-ubyte", idx_bytes(labels))
    np.testing.assert_array_equal(idx_data(folder, 20).targets.argmax(axis=1), labels[:20])


# ----------------------------------------------------------------------------- (e): pairing


def test_training_images_are_not_paired_with_test_labels(folder, tmp_path):
    mnist_like(folder, prefix="train")
    (folder / "train-labels-idx1-ubyte").rename(folder / "t10k-labels-idx1-ubyte")
    result, out = train(folder, tmp_path)
    assert_refused(result, out, "no labels file for train-images-idx3-ubyte", "train-labels-idx1-ubyte[.gz]",
                   "t10k-labels-idx1-ubyte belongs to another set")  # fmt: skip


def test_training_set_is_preferred_and_paired_with_its_own_labels(folder):
    train_labels = mnist_like(folder, prefix="train", seed=1)
    test_labels = mnist_like(folder, prefix="t10k", seed=2)
    assert not np.array_equal(train_labels[:20], test_labels[:20])
    np.testing.assert_array_equal(idx_data(folder, 20).targets.argmax(axis=1), train_labels[:20])
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
        (folder / name).unlink()
    np.testing.assert_array_equal(idx_data(folder, 20).targets.argmax(axis=1), test_labels[:20])


def test_images_and_labels_counts_must_agree(folder, tmp_path):
    mnist_like(folder, count=30)
    write(folder / "train-labels-idx1-ubyte", idx_bytes(np.arange(25, dtype=np.uint8) % 10))
    result, out = train(folder, tmp_path)
    assert_refused(result, out, "disagree", "train-images-idx3-ubyte holds 30 images",
                   "train-labels-idx1-ubyte 25 labels")  # fmt: skip


def test_several_training_sets_in_one_folder_are_ambiguous(folder):
    mnist_like(folder, prefix="emnist-letters-train")
    mnist_like(folder, prefix="emnist-digits-train")
    with pytest.raises(ConfigError, match="several data sets"):
        idx_data(folder, 10)


def test_empty_folder_names_what_it_expects(folder, tmp_path):
    result, out = train(folder, tmp_path)
    assert_refused(result, out, "no images file", "train-images-idx3-ubyte[.gz]")


@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
def test_images_of_zero_pixels_are_refused(folder, tmp_path, suffix):
    """A header declaring 20 x 0 x 4 images (d_in = 0) is refused before training; it once failed
    inside the writer (a misleading 'file is corrupt' for NetCDF, a torch traceback for zarr)."""
    write(folder / "train-images-idx3-ubyte", idx_bytes(np.zeros((20, 0, 4), np.uint8)))
    write(folder / "train-labels-idx1-ubyte", idx_bytes(np.arange(20, dtype=np.uint8) % 10))
    out = tmp_path / f"out{suffix}"
    arguments = ["train", "--dataset", f"idx:{folder}", "--samples", "20", "--neurons", "16", "--steps", "2",
                 "--threads", "1", "--quiet", "--out", str(out)]  # fmt: skip
    assert_refused(CliRunner().invoke(cli, arguments), out, "empty images", "0 pixels")
