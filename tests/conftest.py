"""Shared fixtures for the rdnet test suite."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, so every test is repeatable."""
    return np.random.default_rng(20210201)
