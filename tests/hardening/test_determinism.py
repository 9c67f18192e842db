"""Determinism: the same command with the same seed writes identical data variables (CPU).

Each command runs twice in separate processes, the second with a different
``PYTHONHASHSEED`` (so nothing may depend on set or dict-of-str ordering), and
every data variable, coordinate and the ``parameters`` attribute must be equal
bit for bit. Only measurements of the machine (a sweep's ``wall_time``) may differ.
A different seed must change the data, so the comparison can fail.
"""

from __future__ import annotations

import json
import sys
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest

from hardening.helpers import child_environment, command_available, rdnet_command

#: Variables that measure the machine, not the model.
MACHINE_MEASUREMENTS = {"wall_time"}

RUNS = {
    "simulate": ["simulate", "--size", "24", "--steps", "200", "--snapshot-every", "50", "--quiet"],
    "train": ["train", "--adversary", "--neurons", "16", "--steps", "20", "--snapshot-every", "5", "--samples", "16",
              "--input-dim", "16", "--quiet"],
    "gan-dynamics": ["gan-dynamics", "--dim", "200", "--time", "2", "--replicas", "2", "--records", "5"],
}  # fmt: skip


def _needs(command: str):
    return pytest.mark.skipif(not command_available(command), reason=f"rdnet {command} not available yet")


def run(arguments: list[str], cwd: Path, *, hash_seed: str) -> None:
    env = child_environment()
    env["PYTHONHASHSEED"] = hash_seed
    completed = subprocess.run(
        [*rdnet_command(), *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-3000:]


def contents(path: Path) -> dict[str, object]:
    """Data variables, coordinates and decoded parameters of a file."""
    from rdnet.dataset import open_dataset, parameters_of

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = open_dataset(path)
    try:
        data = {name: np.asarray(ds[name].values) for name in ds.variables if name not in MACHINE_MEASUREMENTS}
        data["parameters"] = json.dumps(parameters_of(ds), sort_keys=True)
    finally:
        ds.close()
    return data


def differences(left: dict[str, object], right: dict[str, object]) -> list[str]:
    names = sorted(set(left) | set(right))
    different = []
    for name in names:
        if name not in left or name not in right:
            different.append(f"{name} (in one file only)")
            continue
        a, b = left[name], right[name]
        if isinstance(a, str) or isinstance(b, str):
            same = a == b
        else:
            a, b = np.asarray(a), np.asarray(b)
            same = a.shape == b.shape and (
                np.array_equal(a, b, equal_nan=True) if a.dtype.kind in "fc" else np.array_equal(a, b)
            )
        if not same:
            different.append(name)
    return different


@pytest.mark.parametrize("command", [pytest.param(name, marks=_needs(name)) for name in RUNS])
def test_same_seed_same_data(command, tmp_path):
    base = RUNS[command]
    run([*base, "--seed", "7", "--out", "first.nc"], tmp_path, hash_seed="0")
    run([*base, "--seed", "7", "--out", "second.nc"], tmp_path, hash_seed="12345")
    run([*base, "--seed", "8", "--out", "other-seed.nc"], tmp_path, hash_seed="0")
    first, second = contents(tmp_path / "first.nc"), contents(tmp_path / "second.nc")
    assert differences(first, second) == []
    # the comparison can fail: another seed gives other data
    other = contents(tmp_path / "other-seed.nc")
    assert set(differences(first, other)) - {"parameters"}, "a different seed changed nothing"


@pytest.mark.slow  # starts a Dask cluster twice (about a minute)
@_needs("sweep")
def test_sweep_same_grid_same_data(tmp_path):
    arguments = ["sweep", "simulate", "--grid", "seed=0:2", "--size", "16", "--steps", "40", "--workers", "1", "--quiet"]
    run([*arguments, "--out", "first"], tmp_path, hash_seed="0")
    run([*arguments, "--out", "second"], tmp_path, hash_seed="999")
    first_files = sorted(path.name for path in (tmp_path / "first").glob("*.nc"))
    assert first_files == sorted(path.name for path in (tmp_path / "second").glob("*.nc"))
    assert "summary.nc" in first_files and len(first_files) == 3
    for name in first_files:
        left, right = contents(tmp_path / "first" / name), contents(tmp_path / "second" / name)
        assert differences(left, right) == [], name
    # the two seeds of the sweep are different runs
    seeds = [contents(tmp_path / "first" / name) for name in first_files if name != "summary.nc"]
    assert set(differences(*seeds)) - {"parameters"}


def test_hash_seed_reaches_children():
    """The harness really varies PYTHONHASHSEED between the two runs."""
    env = child_environment()
    outputs = set()
    for hash_seed in ("0", "12345"):
        env["PYTHONHASHSEED"] = hash_seed
        outputs.add(
            subprocess.run(
                [sys.executable, "-c", "print(hash('rdnet'))"], env=env, capture_output=True,
                text=True,
            ).stdout
        )
    assert len(outputs) == 2
