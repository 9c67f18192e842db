"""Checks of the file names a command is given, before any work (one clear error each).

Every command that writes a file refuses to replace an existing one unless it is
given ``--overwrite``, and never writes over a file it reads (``--overwrite``
included): the output would be written while the input is still being read.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rdnet.errors import ConfigError


def existing_input(file: str) -> Path:
    """The input file (or zarr store) as a path; ConfigError when it does not exist."""
    from rdnet.dataset.zarr_store import is_zarr_path

    path = Path(file).expanduser()
    if not (path.is_file() or (path.is_dir() and is_zarr_path(path))):
        raise ConfigError(f"no such file: {file}" if not path.is_dir() else
                          f"{file} is a folder, not a NetCDF file or a zarr store (NAME.zarr)")  # fmt: skip
    return path


def check_new_output(out: str | os.PathLike, *, overwrite: bool, inputs: Iterable[str | os.PathLike] = (), option: str = "--out") -> Path:
    """The output path; ConfigError when it is an input, a folder, or an existing file without ``overwrite``."""
    from rdnet.dataset.file_safety import refuse_input_as_output

    path = Path(out).expanduser()
    refuse_input_as_output(path, inputs, option=option)
    if path.is_dir():
        raise ConfigError(f"{option} {out}: is a folder, not a file")
    if path.exists() and not overwrite:
        raise ConfigError(f"output file exists: {out} (pass --overwrite to replace it)")
    return path


def output_with_suffix(
    out: str,
    suffixes: tuple[str, ...],
    kind: str,
    *,
    overwrite: bool = True,
    inputs: Iterable[str | os.PathLike] = (),
    option: str = "--out",
) -> Path:
    """The output path, checked before any work.

    ConfigError when its suffix is not one of ``suffixes``, its folder is missing, it
    is one of the ``inputs``, or it exists and ``overwrite`` is false.
    """
    path = Path(out).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ConfigError(f"{option} {out}: unsupported {kind} type {path.suffix or '(none)'}; use {', '.join(suffixes)}")
    if not path.parent.is_dir():
        raise ConfigError(f"{option} {out}: folder {path.parent} does not exist")
    return check_new_output(path, overwrite=overwrite, inputs=inputs, option=option)
