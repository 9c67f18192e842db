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
    images file ``PREFIXimages-idx3-ubyte[.gz]`` and the labels file of the same prefix
    ``PREFIXlabels-idx1-ubyte[.gz]`` (``-``, ``_`` or ``.`` around ``idx3``, as in Kaggle's
    ``train-images.idx3-ubyte``; the training set preferred over ``t10k``/test); the first n
    images, one-hot targets of the integer labels.

Inputs are scaled to unit norm by default, as the theory assumes.
"""

from __future__ import annotations

import gzip
import math
import os
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["DATASETS", "MAX_CLASSES", "TrainingData", "load_training_data", "synthetic_data", "digits_data",
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
_IDX_TYPE_NAMES = {0x08: "unsigned byte", 0x09: "byte", 0x0B: "short", 0x0C: "int", 0x0D: "float", 0x0E: "double"}
#: an IDX file name: PREFIX (images|labels) SEP idxN SEP ubyte [.gz], SEP one of - _ .
_IDX_NAME = re.compile(
    r"^(?P<prefix>.*?)(?P<kind>images|labels)(?P<sep1>[-_.])idx(?P<rank>\d)(?P<sep2>[-_.])ubyte(?:\.gz)?$",
    re.IGNORECASE,
)
_GZIP_MAGIC = b"\x1f\x8b"
#: deflate expands data at most about 1032-fold: a gzipped file whose header declares more is malformed
_GZIP_MAX_RATIO = 1032
_CHUNK_BYTES = 2**24
#: labels are class numbers 0 … MAX_CLASSES − 1 (the one-hot targets have a column per class)
MAX_CLASSES = 1024


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


@dataclass(frozen=True)
class _IdxHeader:
    """What an IDX file's header declares."""

    path: Path
    type_code: int
    shape: tuple[int, ...]
    offset: int  # bytes before the data
    compressed: bool

    @property
    def dtype(self) -> np.dtype:
        return _IDX_TYPES[self.type_code]

    @property
    def data_bytes(self) -> int:
        """Bytes of data the header declares (Python ints: no overflow)."""
        return math.prod(self.shape) * self.dtype.itemsize

    def describe(self) -> str:
        """E.g. ``60000 x 28 x 28 unsigned byte values``."""
        dims = " x ".join(str(size) for size in self.shape) or "1"
        return f"{dims} {_IDX_TYPE_NAMES[self.type_code]} values"


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


def _read_header(path: Path) -> _IdxHeader:
    """The header of the IDX file at ``path`` (gzipped or raw: told by the first two bytes)."""
    if not path.is_file():
        raise ConfigError(f"IDX file not found: {path}")
    try:
        with open(path, "rb") as raw:
            compressed = raw.read(2) == _GZIP_MAGIC
        with (gzip.open if compressed else open)(path, "rb") as stream:
            magic = stream.read(4)
            if len(magic) < 4 or magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_TYPES:
                raise ConfigError(f"{path} is not an IDX file (bad magic number {magic.hex() or 'empty'})")
            ndim = magic[3]
            dims = stream.read(4 * ndim)
    except (OSError, EOFError, zlib.error) as error:
        raise ConfigError(f"cannot read IDX file {path}: {error}") from None
    if len(dims) < 4 * ndim:
        raise ConfigError(f"{path} is truncated: its header ends early")
    shape = tuple(int.from_bytes(dims[4 * i:4 * i + 4], "big") for i in range(ndim))
    return _IdxHeader(path, magic[2], shape, 4 + 4 * ndim, compressed)


def _gzip_content_size(header: _IdxHeader, limit: int) -> int:
    """Bytes the gzipped file decompresses to, counting no further than just past ``limit``."""
    with open(header.path, "rb") as raw:
        raw.seek(0, os.SEEK_END)
        if raw.tell() >= 18:  # the trailer's ISIZE: the size modulo 2³², exact for one member < 4 GiB
            raw.seek(-4, os.SEEK_END)
            if int.from_bytes(raw.read(4), "little") == limit % 2**32 and limit < 2**32:
                return limit
    total = 0
    try:
        with gzip.open(header.path, "rb") as stream:
            while total <= limit and (chunk := stream.read(_CHUNK_BYTES)):
                total += len(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise ConfigError(f"cannot read IDX file {header.path}: {error}") from None
    return total


def _check_size(header: _IdxHeader) -> None:
    """Refuse a file that does not hold exactly the data its header declares, before reading it."""
    declared = header.data_bytes
    claim = f"the header declares {header.describe()} ({declared:,} bytes)"
    if header.compressed:
        stored = header.path.stat().st_size
        if header.offset + declared > _GZIP_MAX_RATIO * stored:
            raise ConfigError(
                f"{header.path} does not match its header: {claim}, but a gzip file of {stored:,} bytes "
                f"holds at most {_GZIP_MAX_RATIO * stored:,} bytes of data"
            )
        held = _gzip_content_size(header, header.offset + declared) - header.offset
    else:
        held = header.path.stat().st_size - header.offset
    if held < declared:
        raise ConfigError(
            f"{header.path} is truncated or its header is wrong: {claim}, but the file holds "
            f"{max(held, 0):,} bytes of data"
        )
    if held > declared:
        holds = "more" if header.compressed else f"{held:,} bytes"
        raise ConfigError(f"{header.path} does not match its header: {claim}, but the file holds {holds} of data")


def read_idx(path: str | Path, *, max_items: int | None = None) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or raw.

    The file's size is checked against its header before any data is read, so a corrupt
    or hostile header cannot make the reader allocate more than the file holds.

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
        If the file is missing, not IDX, or holds more or less data than its header declares.
    """
    return _read_data(_read_header(Path(path)), max_items)


def _read_data(header: _IdxHeader, max_items: int | None) -> np.ndarray:
    """The data of the IDX file whose header is ``header`` (:func:`read_idx` once the header is read)."""
    _check_size(header)
    shape = list(header.shape)
    if max_items is not None and shape:
        shape[0] = min(shape[0], max(max_items, 0))
    count = math.prod(shape)
    try:
        with (gzip.open if header.compressed else open)(header.path, "rb") as stream:
            stream.seek(header.offset)
            data = stream.read(count * header.dtype.itemsize)
    except (OSError, EOFError, zlib.error) as error:
        raise ConfigError(f"cannot read IDX file {header.path}: {error}") from None
    if len(data) < count * header.dtype.itemsize:  # the file changed under us
        raise ConfigError(f"{header.path} is truncated: it ends before the data its header declares")
    return np.frombuffer(data, dtype=header.dtype).reshape(shape).astype(header.dtype.newbyteorder("="))


def _idx_files(folder: Path) -> dict[str, dict[str, tuple[Path, re.Match]]]:
    """The IDX files in ``folder`` by set (``train``, ``t10k``, …) and kind (``images``, ``labels``).

    Kaggle's copies unpack each file into a folder of the same name; such a folder counts as its file.
    A raw file is preferred over a gzipped one of the same set and kind.
    """
    found: dict[str, dict[str, tuple[Path, re.Match]]] = {}
    for entry in sorted(folder.iterdir(), key=lambda entry: (entry.name.lower().endswith(".gz"), entry.name)):
        match = _IDX_NAME.match(entry.name)
        if match is None:
            continue
        path = entry / entry.name if entry.is_dir() else entry
        if not path.is_file():
            continue
        kinds = found.setdefault(match["prefix"].rstrip("-_.").lower(), {})
        kinds.setdefault(match["kind"].lower(), (path, match))
    return found


def _set_rank(name: str) -> int:
    """Training sets first, then test sets, then the rest."""
    return 0 if "train" in name else 1 if ("t10k" in name or "test" in name) else 2


def _find_idx_pair(folder: Path) -> tuple[Path, Path]:
    """The images and labels files of one set in ``folder``, paired by their prefix (``train-`` …)."""
    found = _idx_files(folder)
    complete = sorted((name for name, kinds in found.items() if len(kinds) == 2), key=lambda n: (_set_rank(n), n))
    if complete:
        best = [name for name in complete if _set_rank(name) == _set_rank(complete[0])]
        if len(best) > 1:
            raise ConfigError(
                f"IDX folder {folder} holds several data sets ({', '.join(best)}); "
                f"point --dataset idx: at a folder holding one"
            )
        kinds = found[best[0]]
        return kinds["images"][0], kinds["labels"][0]
    if not found:
        raise ConfigError(
            f"no images file in {folder}: expected e.g. train-images-idx3-ubyte[.gz] (or train-images.idx3-ubyte) "
            f"beside train-labels-idx1-ubyte[.gz]"
        )
    name = min(found, key=lambda n: (_set_rank(n), n))
    (have, (path, match)), = found[name].items()
    missing = "labels" if have == "images" else "images"
    expected = f"{match['prefix']}{missing}{match['sep1']}idx{1 if missing == 'labels' else 3}{match['sep2']}ubyte[.gz]"
    others = [kinds[missing][0].name for other, kinds in found.items() if other != name and missing in kinds]
    hint = (f" ({', '.join(others)} belongs to another set: images and labels are paired by their prefix)"
            if others else "")
    raise ConfigError(f"no {missing} file for {path.name} in {folder}: expected {expected}{hint}")


def idx_data(folder: str | Path, samples: int) -> TrainingData:
    """The first ``samples`` images and labels of one IDX set in ``folder``, one-hot targets.

    Images and labels are paired by prefix (``train-images…`` with ``train-labels…``; a
    training set is preferred over ``t10k``/test); both must declare the same number of
    items, the labels must be integers 0 … :data:`MAX_CLASSES` − 1.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"IDX folder not found: {folder}")
    images_path, labels_path = _find_idx_pair(folder)
    images_header, labels_header = _read_header(images_path), _read_header(labels_path)
    if len(images_header.shape) < 2:
        raise ConfigError(
            f"{images_path} is not an images file: its header declares shape {images_header.shape}, "
            f"expected count x height x width"
        )
    if 0 in images_header.shape[1:]:
        raise ConfigError(
            f"{images_path} holds empty images: its header declares shape {images_header.shape}, "
            f"so every input has 0 pixels"
        )
    if len(labels_header.shape) != 1:
        raise ConfigError(
            f"{labels_path} is not a labels file: its header declares shape {labels_header.shape}, expected (count,)"
        )
    if labels_header.dtype.kind not in "iu":
        raise ConfigError(
            f"{labels_path} holds {_IDX_TYPE_NAMES[labels_header.type_code]} labels; labels must be integer class "
            f"numbers (IDX type unsigned byte, byte, short or int)"
        )
    if images_header.shape[0] != labels_header.shape[0]:
        raise ConfigError(
            f"IDX files in {folder} disagree: {images_path.name} holds {images_header.shape[0]:,} images, "
            f"{labels_path.name} {labels_header.shape[0]:,} labels"
        )
    if images_header.shape[0] < samples:
        raise ConfigError(f"IDX files in {folder} hold {images_header.shape[0]} samples; asked for {samples}")
    images = _read_data(images_header, samples)
    labels = _read_data(labels_header, samples)
    if images.dtype.kind == "f" and not np.isfinite(images).all():
        raise ConfigError(f"{images_path} holds non-finite pixel values (NaN or infinity)")
    bad = labels[(labels < 0) | (labels >= MAX_CLASSES)]
    if bad.size:
        raise ConfigError(
            f"{labels_path} holds label {int(bad[0])}; labels must be class numbers 0 to {MAX_CLASSES - 1}"
        )
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
