"""A corrupt HDF5 file that hangs the HDF5 library: the command line ends it with one error line.

``tests/data/hdf5_endless_loop.nc`` is a NetCDF-4 file written by rdnet with 63 bytes
zeroed at offset 2647, found by the slow fuzz suite: with HDF5 2.x (netCDF-C 4.10)
both ``netCDF4.Dataset`` and ``h5py`` spin for ever at 100 % CPU on it (the upstream
bug HDFGroup/hdf5#1707). The library call cannot be interrupted, so ``rdnet`` watches
it (``RDNET_OPEN_TIMEOUT``, default 60 s) and exits with code 2.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from hardening.helpers import (
    Outcome,
    assert_command_line_contains_the_hang,
    child_environment,
    finishes_in_child,
    rdnet_command,
)
from rdnet.dataset import open_dataset, set_open_timeout

HANGING_FILE = Path(__file__).resolve().parents[1] / "data" / "hdf5_endless_loop.nc"


def test_the_command_line_ends_a_library_hang_with_one_error_line(tmp_path):
    started = time.monotonic()
    assert_command_line_contains_the_hang(["analyze", HANGING_FILE], tmp_path)
    assert time.monotonic() - started < 60, "the watch did not end the command"


def test_the_hang_is_real_in_this_hdf5_or_refused_cleanly():
    """Documents the library behaviour the watch exists for (a fixed HDF5 may refuse the file)."""

    def open_it():
        from rdnet.dataset import DatasetError

        try:
            open_dataset(HANGING_FILE)
        except DatasetError:
            pass

    finishes_in_child(open_it, timeout=5)  # either outcome is fine; a traceback is not


@pytest.mark.parametrize("value", ["abc", "0", "-3", "inf", "nan"])
def test_a_bad_timeout_setting_is_one_error_line(value, tmp_path):
    completed = subprocess.run(
        [*rdnet_command(), "info", str(HANGING_FILE)], cwd=tmp_path, capture_output=True, text=True, timeout=60,
        env={**child_environment(), "RDNET_OPEN_TIMEOUT": value},
    )  # fmt: skip
    outcome = Outcome(completed.returncode, completed.stdout, completed.stderr)
    assert outcome.exit_code == 2 and outcome.error_lines == [
        f"Error: RDNET_OPEN_TIMEOUT={value!r}: give a positive number of seconds"
    ], outcome.describe()


def test_the_watch_stays_quiet_on_a_good_file_and_is_switched_off_again(tmp_path):
    import numpy as np
    import xarray as xr

    from rdnet.dataset import write_dataset

    ds = xr.Dataset({"u": (("y", "x"), np.ones((4, 4)))}, coords={"y": np.arange(4.0), "x": np.arange(4.0)})
    path = write_dataset(ds, tmp_path / "good.nc", system="classic", model="gray-scott", parameters={})
    calls = []
    set_open_timeout(0.2, calls.append)
    try:
        open_dataset(path).close()
        time.sleep(0.4)  # longer than the watch: a timer left running would fire now
    finally:
        set_open_timeout(None)
    assert calls == []
    with pytest.raises(ValueError):
        set_open_timeout(0, calls.append)
