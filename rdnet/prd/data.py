"""Training sets for the PRD engine: the paper's synthetic inputs, scikit-learn's digits, IDX files.

A data set is named by a string:

``synthetic``
    n inputs drawn from N(0, I) in d_in dimensions (784 by default) and normalised to unit norm
    (the theory's setting); targets y = f*(x) from a seeded random teacher network of the same
    form as the generator (width 32, paper initialisation).
``digits``
    The 8 × 8 handwritten digits that scikit-learn ships (1797 images, d_in = 64), the first n,
    with one-hot targets (d_out = 10).
``idx:PATH``
    MNIST / Fashion-MNIST files in the IDX format, gzipped or raw, from the folder PATH: an
    images file ``*images-idx3-ubyte[.gz]`` and a labels file ``*labels-idx1-ubyte[.gz]``
    (``train-*`` preferred over ``t10k-*``); the first n images, one-hot targets.

Inputs are scaled to unit norm by default, as the theory assumes.
"""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["DATASETS", "TrainingData", "load_training_data", "synthetic_data", "digits_data",
           "read_idx", "idx_data"]

#: the data-set names (``idx:`` takes a folder)
DATASETS = ("synthetic", "digits", "idx:PATH")

_IDX_TYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@dataclass(frozen=True)
class TrainingData:
    """Inputs and targets, samples as rows.

    Attributes
    ----------
    inputs : (n, d_in) float64 array
    targets : (n, d_out) float64 array
    name : str
        The data-set string it was loaded from.
    """

    inputs: np.ndarray
    targets: np.ndarray
    name: str

    @property
    def samples(self) -> int:
        """n."""
        return self.inputs.shape[0]

    @property
    def input_dim(self) -> int:
        """d_in."""
        return self.inputs.shape[1]

    @property
    def output_dim(self) -> int:
        """d_out."""
        return self.targets.shape[1]


def _unit_rows(X: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    return X / np.where(norms > 0, norms, 1.0)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    targets = np.zeros((len(labels), classes))
    targets[np.arange(len(labels)), labels.astype(np.int64)] = 1.0
    return targets


def synthetic_data(
    samples: int, input_dim: int = 784, output_dim: int = 1, *, seed: int = 0, teacher_width: int = 32
) -> TrainingData:
    """The paper's synthetic setting: unit-norm Gaussian inputs, targets from a random teacher.

    Parameters
    ----------
    samples, input_dim, output_dim : int
        n, d_in, d_out.
    seed : int
        Seed of the inputs and the teacher.
    teacher_width : int
        Hidden width of the teacher y = V* σ(U* x)/sqrt(d_out k), U* ~ N(0, 1), V* ∈ {±1}.
    """
    rng = np.random.default_rng(seed)
    X = _unit_rows(rng.standard_normal((samples, input_dim)))
    teacher_U = rng.standard_normal((teacher_width, input_dim))
    teacher_V = rng.choice([-1.0, 1.0], size=(output_dim, teacher_width))
    Y = np.maximum(X @ teacher_U.T, 0) @ teacher_V.T / math.sqrt(output_dim * teacher_width)
    return TrainingData(inputs=X, targets=Y, name="synthetic")


def digits_data(samples: int) -> TrainingData:
    """The first ``samples`` of scikit-learn's 8 × 8 digits, pixel values as inputs, one-hot targets."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    if samples > len(digits.target):
        raise ConfigError(f"the digits data set has {len(digits.target)} samples; asked for {samples}")
    return TrainingData(
        inputs=digits.data[:samples].astype(float), targets=_one_hot(digits.target[:samples], 10), name="digits"
    )


def read_idx(path: str | Path, *, max_items: int | None = None) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped (``.gz``) or raw.

    Parameters
    ----------
    path : str or Path
    max_items : int, optional
        Read only the first items along the first dimension.

    Returns
    -------
    numpy.ndarray
        With the shape and type the header declares (native byte order).

    Raises
    ------
    ConfigError
        If the file is missing, not IDX, or shorter than its header says.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"IDX file not found: {path}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as stream:
            header = stream.read(4)
            if len(header) < 4 or header[0] != 0 or header[1] != 0 or header[2] not in _IDX_TYPES:
                raise ConfigError(f"{path} is not an IDX file (bad magic number {header.hex() or 'empty'})")
            dtype = _IDX_TYPES[header[2]]
            ndim = header[3]
            dims_bytes = stream.read(4 * ndim)
            if len(dims_bytes) < 4 * ndim:
                raise ConfigError(f"{path} is truncated: its header ends early")
            shape = list(np.frombuffer(dims_bytes, dtype=">u4").astype(np.int64))
            if max_items is not None and shape:
                shape[0] = min(shape[0], max_items)
            count = int(np.prod(shape)) if shape else 1
            data = stream.read(count * dtype.itemsize)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ConfigError(f"cannot read IDX file {path}: {error}") from None
    if len(data) < count * dtype.itemsize:
        raise ConfigError(
            f"{path} is truncated: expected {count * dtype.itemsize} bytes of data, found {len(data)}"
        )
    return np.frombuffer(data, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(folder: Path, kind: str) -> Path:
    candidates = []
    for prefix in ("train", "t10k", ""):
        for suffix in ("", ".gz"):
            for separator in ("-", "_", "."):
                pattern = f"{prefix}*{kind}{separator}idx{'3' if kind == 'images' else '1'}{separator}ubyte{suffix}"
                candidates.extend(sorted(folder.glob(pattern)))
        if candidates:
            return candidates[0]
    raise ConfigError(
        f"no {kind} file in {folder}: expected e.g. train-{kind}-idx{'3' if kind == 'images' else '1'}-ubyte[.gz]"
    )


def idx_data(folder: str | Path, samples: int) -> TrainingData:
    """The first ``samples`` images and labels of the IDX files in ``folder``, one-hot targets."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"IDX folder not found: {folder}")
    images = read_idx(_find_idx(folder, "images"), max_items=samples)
    labels = read_idx(_find_idx(folder, "labels"), max_items=samples)
    if images.ndim < 2 or labels.ndim != 1:
        raise ConfigError(f"IDX files in {folder} have unexpected shapes {images.shape} and {labels.shape}")
    if len(images) < samples or len(labels) < samples:
        raise ConfigError(f"IDX files in {folder} hold {min(len(images), len(labels))} samples; asked for {samples}")
    if labels.min() < 0:
        raise ConfigError(f"IDX labels in {folder} must be non-negative class numbers")
    classes = max(10, int(labels.max()) + 1)
    return TrainingData(
        inputs=images.reshape(len(images), -1).astype(float),
        targets=_one_hot(labels, classes),
        name=f"idx:{folder}",
    )


def load_training_data(
    name: str,
    *,
    samples: int,
    input_dim: int = 784,
    output_dim: int = 1,
    normalize: bool = True,
    seed: int = 0,
) -> TrainingData:
    """Load a training set by name (see the module docstring).

    Parameters
    ----------
    name : str
        ``synthetic``, ``digits`` or ``idx:PATH``.
    samples : int
        n.
    input_dim, output_dim : int
        d_in and d_out of ``synthetic`` (the others fix their own).
    normalize : bool
        Scale every input to unit norm.
    seed : int
        Seed of ``synthetic``.
    """
    if samples < 1:
        raise ConfigError(f"--samples must be positive, got {samples}")
    if name == "synthetic":
        if input_dim < 1 or output_dim < 1:
            raise ConfigError("synthetic data needs positive --input-dim and --outputs")
        data = synthetic_data(samples, input_dim, output_dim, seed=seed)
    elif name == "digits":
        data = digits_data(samples)
    elif name.startswith("idx:"):
        if not name[4:]:
            raise ConfigError("idx: needs a folder, e.g. --dataset idx:~/data/mnist")
        data = idx_data(Path(name[4:]).expanduser(), samples)
    else:
        raise ConfigError(f"unknown dataset {name!r}; choose one of: {', '.join(DATASETS)}")
    if normalize:
        data = TrainingData(inputs=_unit_rows(data.inputs), targets=data.targets, name=data.name)
    return data
