"""Checks of the file names a command is given, before any work (one clear error each)."""

from __future__ import annotations

from pathlib import Path

from rdnet.errors import ConfigError


def existing_input(file: str) -> Path:
    """The input file as a path; ConfigError when it does not exist."""
    path = Path(file).expanduser()
    if not path.is_file():
        raise ConfigError(f"no such file: {file}")
    return path


def output_with_suffix(out: str, suffixes: tuple[str, ...], kind: str) -> Path:
    """The output path; ConfigError when its suffix is not one of ``suffixes`` or its folder is missing."""
    path = Path(out).expanduser()
    if path.suffix.lower() not in suffixes:
        raise ConfigError(f"--out {out}: unsupported {kind} type {path.suffix or '(none)'}; use {', '.join(suffixes)}")
    if not path.parent.is_dir():
        raise ConfigError(f"--out {out}: folder {path.parent} does not exist")
    return path
