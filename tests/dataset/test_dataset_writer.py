"""Tests of the dataset writer: streaming, durable snapshots, resume, atomic files, crash safety."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import netCDF4
import numpy as np
import pytest
from dataset_helpers import make_writer, minimal_dataset, snapshot

from rdnet.dataset.cf import TIME_UNITS
from rdnet.dataset import (
    COMPLETE_FLAG,
    StreamingWriter,
    open_dataset,
    parameters_of,
    read_partial,
    write_dataset,
)
from rdnet.errors import ConfigError, DatasetError

pytestmark = pytest.mark.filterwarnings("ignore::rdnet.dataset.DatasetWarning")


def test_round_trip_values_and_attributes(tmp_path):
    path = tmp_path / "run.nc"
    writer = make_writer(path, attrs={"extra": {"a": 1}, "note": "hello"})
    for index in range(4):
        writer.append(0.25 * index, snapshot(index))
    writer.write_fixed("loss", np.linspace(1, 0, 10))
    assert not path.exists(), "the final file must not exist before close()"
    assert writer.close() == path
    assert not writer.partial_path.exists()

    with netCDF4.Dataset(path) as nc:
        assert nc.data_model == "NETCDF4"
        assert nc.dimensions["time"].isunlimited()
    ds = open_dataset(path)
    np.testing.assert_array_equal(ds["time"].values, [0.0, 0.25, 0.5, 0.75])
    for index in range(4):
        expected = snapshot(index)
        np.testing.assert_array_equal(ds["u"].isel(time=index).values, expected["u"])
        np.testing.assert_array_equal(ds["v"].isel(time=index).values, expected["v"])
    assert ds["v"].dtype == np.float32
    np.testing.assert_array_equal(ds["loss"].values, np.linspace(1, 0, 10))
    assert ds["u"].attrs == {"long_name": "activator", "units": "mol"}
    assert ds["x"].attrs["units"] == "m"
    assert ds["time"].attrs["units"] == TIME_UNITS and ds["time"].attrs["standard_name"] == "time"
    assert COMPLETE_FLAG not in ds.variables
    assert parameters_of(ds) == {"F": 0.035, "k": 0.065, "seed": 7, "nested": {"dx": 0.5}}
    for name in ("rdnet_schema", "system", "model", "rdnet_version", "created", "history", "Conventions"):
        assert name in ds.attrs
    assert ds.attrs["system"] == "classic" and ds.attrs["Conventions"] == "CF-1.10"
    assert json.loads(ds.attrs["extra"]) == {"a": 1} and ds.attrs["note"] == "hello"


def test_partial_file_holds_every_appended_snapshot(tmp_path):
    writer = make_writer(tmp_path / "run.nc")
    for index in range(3):
        writer.append(float(index), snapshot(index))
    partial = writer.abort()
    ds = read_partial(partial)
    assert ds.sizes["time"] == 3
    np.testing.assert_array_equal(ds["u"].isel(time=2).values, snapshot(2)["u"])


def test_ctrl_c_inside_a_write_is_raised_after_the_snapshot_is_complete(tmp_path, monkeypatch):
    """A SIGINT landing mid-append must neither tear the snapshot nor vanish.

    netCDF4's compiled layer swallows a KeyboardInterrupt raised inside it (a Ctrl-C
    during a write was once lost and the run went on to the end); the writer holds
    the interrupt until the snapshot is flagged complete and durable, then raises it.
    """
    writer = make_writer(tmp_path / "run.nc")
    writer.append(0.0, snapshot(0))
    make_durable = writer.store._make_durable
    calls = []

    def interrupt_between_data_and_flag():
        calls.append(1)
        if len(calls) == 1:  # the first sync of the append: data written, flag not yet
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # let the signal be delivered here, inside the write
        make_durable()

    monkeypatch.setattr(writer.store, "_make_durable", interrupt_between_data_and_flag)
    with pytest.raises(KeyboardInterrupt):
        writer.append(1.0, snapshot(1))
    assert len(calls) == 2, "the interrupt cut the append short"
    assert writer.n_records == 2
    ds = read_partial(writer.abort())
    assert ds.sizes["time"] == 2
    np.testing.assert_array_equal(ds["u"].isel(time=1).values, snapshot(1)["u"])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler, "the Ctrl-C handler was not restored"


def test_resume_continues_after_given_record(tmp_path):
    writer = make_writer(tmp_path / "run.nc")
    for index in range(4):
        writer.append(float(index), snapshot(index))
    partial = writer.abort()
    resumed = StreamingWriter.resume(partial, records=2)
    assert resumed.n_records == 2
    assert read_partial(partial).sizes["time"] == 2, "records after the resume point no longer count"
    for index in range(2, 5):
        resumed.append(float(index), snapshot(index))
    path = resumed.close()
    ds = open_dataset(path)
    np.testing.assert_array_equal(ds["time"].values, [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(ds["u"].isel(time=4).values, snapshot(4)["u"])


def test_resume_refuses_more_records_than_written(tmp_path):
    writer = make_writer(tmp_path / "run.nc")
    writer.append(0.0, snapshot(0))
    partial = writer.abort()
    with pytest.raises(DatasetError, match="holds 1 complete snapshots"):
        StreamingWriter.resume(partial, records=3)


def test_existing_output_is_refused_unless_overwrite(tmp_path):
    path = tmp_path / "run.nc"
    path.write_text("precious")
    with pytest.raises(ConfigError, match="exists.*--overwrite"):
        make_writer(path)
    assert path.read_text() == "precious", "refusing must not touch the user's file"
    writer = make_writer(path, overwrite=True)
    writer.append(0.0, snapshot(0))
    writer.close()
    assert open_dataset(path).sizes["time"] == 1


def test_interrupted_partial_is_protected(tmp_path):
    writer = make_writer(tmp_path / "run.nc")
    writer.append(0.0, snapshot(0))
    partial = writer.abort()
    with pytest.raises(ConfigError, match="partial file exists.*--resume"):
        make_writer(tmp_path / "run.nc")
    assert read_partial(partial).sizes["time"] == 1


def test_missing_and_read_only_folders_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="output folder does not exist"):
        make_writer(tmp_path / "missing" / "run.nc")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        if os.access(folder, os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        with pytest.raises(ConfigError, match="not writable"):
            make_writer(folder / "run.nc")
    finally:
        folder.chmod(0o700)


def test_non_finite_parameters_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="not finite"):
        write_dataset(minimal_dataset(), tmp_path / "a.nc", system="classic", model="m", parameters={"F": float("nan")})
    assert not (tmp_path / "a.nc").exists()


def test_write_dataset_is_atomic_and_complete(tmp_path):
    path = write_dataset(minimal_dataset(), tmp_path / "a.nc", system="external", model="m", parameters={"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["a.nc"], "no temporary file may be left behind"
    ds = open_dataset(path)
    assert ds.attrs["model"] == "m" and ds["v"].attrs["long_name"] == "v"


# ------------------------------------------------------------------ crash safety

WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    sys.path.insert(0, {tests!r})
    from dataset_helpers import make_writer, snapshot
    writer = make_writer({path!r})
    for index in range(100000):
        writer.append(float(index), snapshot(index))
        print(index, flush=True)
    """
)


@pytest.mark.parametrize("trial", range(6))
def test_sigkill_while_appending_keeps_every_durable_snapshot(tmp_path, trial):
    path = tmp_path / "run.nc"
    script = WRITER_SCRIPT.format(tests=os.path.dirname(__file__), path=str(path))
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    target = 3 + 7 * trial
    durable = -1
    for line in process.stdout:
        durable = int(line)
        if durable >= target:
            break
    time.sleep(0.001 * trial)  # land the kill at varying points of the next append
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not path.exists(), "a killed run must not leave a final file"
    ds = read_partial(path.with_name(path.name + ".partial"))
    assert ds.sizes["time"] >= durable + 1
    for index in range(ds.sizes["time"]):
        expected = snapshot(index)
        np.testing.assert_array_equal(ds["u"].isel(time=index).values, expected["u"])
        np.testing.assert_array_equal(ds["v"].isel(time=index).values, expected["v"])


def test_an_output_named_like_a_partial_file_is_refused(tmp_path):
    """``--out run.nc.partial`` once wrote a finished run under the name that marks an interrupted
    one (and that ``--resume`` takes for one); it is refused before anything is written."""
    from click.testing import CliRunner

    from rdnet.cli.main import cli
    from rdnet.dataset import check_output_path
    from rdnet.errors import ConfigError

    with pytest.raises(ConfigError, match="interrupted run"):
        check_output_path(tmp_path / "run.nc.partial")
    result = CliRunner().invoke(cli, ["train", "--grid", "2x2", "--samples", "4", "--input-dim", "3", "--steps", "2",
                                      "--quiet", "--out", str(tmp_path / "run.nc.partial")])
    assert result.exit_code == 2 and result.output.startswith("Error:"), result.output
    assert list(tmp_path.iterdir()) == []


def test_write_dataset_to_a_zarr_name_writes_a_zarr_store_equal_to_the_netcdf_file(tmp_path):
    """A name ending in .zarr means a zarr store everywhere in rdnet; write_dataset (analyze --out,
    stability --out, gan-dynamics --out) wrote a NetCDF file under that name, which zarr cannot open."""
    import xarray as xr
    from click.testing import CliRunner

    from rdnet.cli.main import cli
    from rdnet.dataset import open_dataset, write_dataset
    from rdnet.errors import ConfigError

    ds = minimal_dataset()
    ds["v"].attrs["units"] = "1"
    netcdf = write_dataset(ds, tmp_path / "run.nc", system="classic", model="linear", parameters={"seed": 1})
    store = write_dataset(ds, tmp_path / "run.zarr", system="classic", model="linear", parameters={"seed": 1})
    assert store.is_dir() and [path.name for path in tmp_path.iterdir() if ".tmp-" in path.name] == []
    with xr.open_zarr(store) as from_zarr, xr.open_dataset(netcdf) as from_netcdf:
        for name in from_netcdf.variables:
            np.testing.assert_array_equal(from_zarr[name].values, from_netcdf[name].values)
        assert from_zarr.attrs["system"] == "classic" and json.loads(from_zarr.attrs["parameters"]) == {"seed": 1}
    with open_dataset(store) as reread:
        np.testing.assert_array_equal(reread["v"].values, ds["v"].values)
    with pytest.raises(ConfigError, match="output store exists"):
        write_dataset(ds * 2, store, system="classic", model="linear", parameters={})
    write_dataset(ds * 2, store, system="classic", model="linear", parameters={}, overwrite=True)
    with xr.open_zarr(store) as replaced:
        np.testing.assert_array_equal(replaced["v"].values, 2 * ds["v"].values)
    for _ in range(2):  # the command replaces its own store with --overwrite (click refused a folder)
        result = CliRunner().invoke(cli, ["analyze", str(netcdf), "--surrogates", "0", "--out", str(tmp_path / "s.zarr"),
                                          "--overwrite"])  # fmt: skip
        assert result.exit_code == 0, result.output
    with xr.open_zarr(tmp_path / "s.zarr") as spectra:
        assert "v_spectrum" in spectra


def test_resuming_a_partial_file_without_a_snapshot_says_there_is_nothing_to_resume(tmp_path):
    """A run killed before its first snapshot leaves a partial file of no snapshot; '--resume' said only that
    the file holds no snapshot, not what to do."""
    from click.testing import CliRunner

    from rdnet.cli.main import cli

    partial = make_writer(tmp_path / "run.nc").abort()
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(partial)])
    assert result.exit_code == 2
    assert "holds no snapshot" in result.output and "nothing to resume from it: run the command again" in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1
