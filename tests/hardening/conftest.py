"""Fixtures of the hardening suite (hypothesis profiles live in :mod:`hardening.helpers`)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """An empty folder for one command's files."""
    folder = tmp_path / "work"
    folder.mkdir()
    return folder
