"""Read a field from a file: a NetCDF variable's last snapshot, or a greyscale image.

The I/O behind ``--initial @FILE.nc``, ``--initial @IMAGE.png`` and
``--param NAME=@FILE.nc:VAR``. Files are untrusted: a NetCDF file is opened by
:func:`rdnet.dataset.open_dataset` (its header checked before the NetCDF library reads
it, the dataset convention validated), a variable's shape is checked against the grid
before its values are read, and non-finite values are refused.

A NetCDF file is an rdnet dataset or any file meeting the convention's documented
minimum (``docs/dataset.md``: fields whose last dims are ``y, x``, with uniform 1-D
coordinates); the variable must have exactly the grid's shape (``z, y, x`` in 3-D),
optionally after a leading ``time`` dimension (its last entry is used).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["read_snapshot", "read_grey_image", "MAX_FIELD_VALUES"]

#: largest field read (values)
MAX_FIELD_VALUES = 2**28


def read_snapshot(path: str | os.PathLike, variable: str, shape: tuple[int, ...], *, what: str) -> np.ndarray:
    """The last snapshot of ``variable`` in a NetCDF file, checked to have the grid's ``shape``.

    Parameters
    ----------
    path
        NetCDF file (an rdnet dataset or any file meeting the documented minimum).
    variable
        Variable name.
    shape
        The grid's shape ``(ny, nx)`` or ``(nz, ny, nx)``.
    what
        Named in error messages (``"--initial"``).

    Returns
    -------
    numpy.ndarray
        float64 values of ``shape``.

    Raises
    ------
    ConfigError
        Missing file or variable, another shape, non-finite values, not NetCDF.
    """
    import warnings

    from rdnet.dataset import open_dataset
    from rdnet.errors import DatasetError

    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigError(f"{what}: file not found: {path}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a file not written by rdnet: fine if it meets the minimum
            dataset = open_dataset(path)
    except DatasetError as error:
        raise ConfigError(f"{what}: {error}") from None
    with dataset:
        if variable not in dataset.variables:
            names = ", ".join(sorted(str(name) for name in dataset.data_vars)) or "none"
            raise ConfigError(f"{what}: {path} has no variable {variable!r} (variables: {names})")
        array = dataset[variable]
        dims, sizes = tuple(array.dims), tuple(array.shape)
        if dims[:1] == ("time",) and len(sizes) == len(shape) + 1:
            if sizes[0] == 0:
                raise ConfigError(f"{what}: {path}:{variable} has no time entries")
            array = array.isel(time=-1)
            dims, sizes = dims[1:], sizes[1:]
        if sizes != tuple(shape):
            wanted = "x".join(str(n) for n in reversed(shape))
            got = "x".join(str(n) for n in reversed(sizes)) or "a scalar"
            raise ConfigError(f"{what}: {path}:{variable} is {got} (dims {', '.join(map(str, dims))}), the grid is {wanted}")
        if int(np.prod(sizes)) > MAX_FIELD_VALUES:
            raise ConfigError(f"{what}: {path}:{variable} is too large")
        try:
            values = np.asarray(array.values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"{what}: {path}:{variable} is not numeric") from None
    if not np.isfinite(values).all():
        raise ConfigError(f"{what}: {path}:{variable} holds NaN or infinite values")
    return values


def read_grey_image(path: str | os.PathLike, shape: tuple[int, ...], *, what: str) -> np.ndarray:
    """A PNG image as grey levels in ``[0, 1]`` on a 2-D grid of ``shape`` (nearest-neighbour resampling).

    Colour images are turned grey by luminance (0.299 R + 0.587 G + 0.114 B); 16-bit grey
    images keep their 16 bits (level / 65535). The
    image's top row lands on the grid's last row (largest y), so the pattern appears
    upright in rdnet's figures, whose y axis points up.

    Raises
    ------
    ConfigError
        Missing or unreadable file, a grid that is not 2-D.
    """
    path = Path(path).expanduser()
    if len(shape) != 2 or shape[0] == 1:
        raise ConfigError(f"{what}: an image initial condition needs a 2-D grid")
    if not path.is_file():
        raise ConfigError(f"{what}: file not found: {path}")
    if path.suffix.lower() != ".png":
        raise ConfigError(f"{what}: images must be PNG files, got {path.name}")
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_FIELD_VALUES:
                raise ConfigError(f"{what}: {path} is too large an image")
            if image.mode.startswith("I"):  # 16-bit grey (a PNG sample has at most 16 bits); RGB would clip it at 255
                grey = np.asarray(image, dtype=np.float64) / 65535.0
            else:
                grey = np.asarray(image.convert("RGB"), dtype=np.float64) / 255.0 @ np.array([0.299, 0.587, 0.114])
    except ConfigError:
        raise
    except Exception as error:  # noqa: BLE001 - any decoder failure is a bad input file
        raise ConfigError(f"{what}: cannot read {path} as an image ({str(error)[:200]})") from None
    ny, nx = shape
    rows = (np.arange(ny) * grey.shape[0]) // ny
    columns = (np.arange(nx) * grey.shape[1]) // nx
    return np.flipud(grey[rows][:, columns]).copy()
