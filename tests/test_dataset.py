"""Tests of the shared dataset convention: writer, reader, validation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import netCDF4
import numpy as np
import pytest
import xarray as xr

from rdnet.dataset import (
    COMPLETE_FLAG,
    DatasetWarning,
    StreamingWriter,
    VariableSpec,
    open_dataset,
    parameters_of,
    read_partial,
    write_dataset,
)
from rdnet.errors import ConfigError, DatasetError

NY, NX = 6, 8

pytestmark = pytest.mark.filterwarnings("ignore::rdnet.dataset.DatasetWarning")


def make_writer(path, **kwargs):
    y = np.arange(NY) * 0.5
    x = np.arange(NX) * 0.5
    return StreamingWriter(
        path,
        system="classic",
        model="gray-scott",
        parameters={"F": 0.035, "k": 0.065, "seed": 7, "nested": {"dx": 0.5}},
        coords={
            "y": (y, {"units": "m", "long_name": "grid row"}),
            "x": (x, {"units": "m", "long_name": "grid column"}),
            "step": (np.arange(10), {"units": "1", "long_name": "step"}),
        },
        variables={
            "u": VariableSpec(("time", "y", "x"), "activator", "mol"),
            "v": VariableSpec(("time", "y", "x"), "inhibitor", "mol", "float32"),
            "loss": VariableSpec(("step",), "supervised loss", "1"),
        },
        time_units="s",
        **kwargs,
    )


def snapshot(index):
    base = np.arange(NY * NX, dtype=float).reshape(NY, NX)
    return {"u": base + index, "v": (base * 0.5 - index).astype(np.float32)}


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
    assert ds["time"].attrs["units"] == "s"
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
        write_dataset(_minimal_dataset(), tmp_path / "a.nc", system="classic", model="m", parameters={"F": float("nan")})
    assert not (tmp_path / "a.nc").exists()


def _minimal_dataset(**overrides):
    data = {"v": (("y", "x"), np.random.default_rng(0).random((4, 5)))}
    coords = {"y": np.arange(4.0), "x": np.arange(5.0)}
    coords.update(overrides)
    return xr.Dataset(data, coords=coords)


def test_write_dataset_is_atomic_and_complete(tmp_path):
    path = write_dataset(_minimal_dataset(), tmp_path / "a.nc", system="external", model="m", parameters={"a": 1})
    assert [p.name for p in tmp_path.iterdir()] == ["a.nc"], "no temporary file may be left behind"
    ds = open_dataset(path)
    assert ds.attrs["model"] == "m" and ds["v"].attrs["long_name"] == "v"


# ------------------------------------------------------------------ bad files


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="no such file"):
        open_dataset(tmp_path / "nope.nc")


def test_text_file_is_not_netcdf(tmp_path):
    path = tmp_path / "notes.nc"
    path.write_text("this is text\n")
    with pytest.raises(DatasetError, match="is not a NetCDF file"):
        open_dataset(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.nc"
    path.write_bytes(b"")
    with pytest.raises(DatasetError, match="is empty"):
        open_dataset(path)


def test_hdf5_file_that_is_not_netcdf(tmp_path):
    h5py = pytest.importorskip("h5py")
    path = tmp_path / "plain.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("values", data=np.arange(10.0))
    with pytest.raises(DatasetError):
        open_dataset(path)


def test_truncated_netcdf(tmp_path):
    path = write_dataset(_minimal_dataset(), tmp_path / "a.nc", system="external", model="m", parameters={})
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(DatasetError, match="cannot read"):
        open_dataset(path)


def _write_raw(tmp_path, ds, name="raw.nc"):
    path = tmp_path / name
    ds.to_netcdf(path, engine="netcdf4")
    return path


def test_no_spatial_dims(tmp_path):
    ds = xr.Dataset({"loss": (("step",), np.arange(5.0))})
    with pytest.raises(DatasetError, match=r"no spatial field.*loss\('step',\)"):
        open_dataset(_write_raw(tmp_path, ds))


def test_missing_coordinate(tmp_path):
    ds = xr.Dataset({"v": (("y", "x"), np.ones((3, 4)))}, coords={"y": np.arange(3.0)})
    with pytest.raises(DatasetError, match="dimension 'x' has no coordinate variable"):
        open_dataset(_write_raw(tmp_path, ds))


def test_non_monotonic_coordinate(tmp_path):
    ds = _minimal_dataset(x=np.array([0.0, 2.0, 1.0, 3.0, 4.0]))
    with pytest.raises(DatasetError, match="'x' is not strictly increasing"):
        open_dataset(_write_raw(tmp_path, ds))


def test_non_uniform_coordinate(tmp_path):
    ds = _minimal_dataset(y=np.array([0.0, 1.0, 2.0, 4.0]))
    with pytest.raises(DatasetError, match="'y' is not uniformly spaced"):
        open_dataset(_write_raw(tmp_path, ds))


def test_non_numeric_coordinate(tmp_path):
    ds = _minimal_dataset(x=np.array(list("abcde")))
    with pytest.raises(DatasetError, match="'x' is not numeric"):
        open_dataset(_write_raw(tmp_path, ds))


def test_time_must_come_first(tmp_path):
    ds = xr.Dataset(
        {"v": (("feature", "time", "y", "x"), np.ones((2, 2, 3, 4)))},
        coords={"y": np.arange(3.0), "x": np.arange(4.0), "time": [0.0, 1.0]},
    )
    with pytest.raises(DatasetError, match="'time' but not as its first dim"):
        open_dataset(_write_raw(tmp_path, ds))


def test_empty_time(tmp_path):
    ds = xr.Dataset(
        {"v": (("time", "y", "x"), np.ones((0, 3, 4)))},
        coords={"y": np.arange(3.0), "x": np.arange(4.0), "time": np.zeros(0)},
    )
    with pytest.raises(DatasetError, match="holds no snapshot"):
        open_dataset(_write_raw(tmp_path, ds))


def test_foreign_file_meeting_the_minimum_is_accepted_with_a_warning(tmp_path):
    path = _write_raw(tmp_path, _minimal_dataset())
    with pytest.warns(DatasetWarning, match="not written by rdnet"):
        ds = open_dataset(path)
    assert ds.sizes == {"y": 4, "x": 5}


def test_netcdf3_classic_file_is_read(tmp_path):
    path = tmp_path / "classic.nc"
    _minimal_dataset().to_netcdf(path, format="NETCDF3_CLASSIC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        assert open_dataset(path)["v"].shape == (4, 5)


def test_bad_parameters_json(tmp_path):
    ds = _minimal_dataset()
    ds.attrs["parameters"] = "{not json"
    with pytest.warns(DatasetWarning), pytest.raises(DatasetError, match="'parameters' is not valid JSON"):
        open_dataset(_write_raw(tmp_path, ds))


def test_large_files_open_lazily_with_dask(tmp_path, monkeypatch):
    import rdnet.dataset.reader as reader

    writer = make_writer(tmp_path / "run.nc")
    for index in range(3):
        writer.append(float(index), snapshot(index))
    path = writer.close()
    monkeypatch.setattr(reader, "LAZY_THRESHOLD_BYTES", 0)
    ds = open_dataset(path)
    assert ds["u"].chunks is not None and ds["u"].chunks[0] == (1, 1, 1)


# ------------------------------------------------------------------ crash safety

WRITER_SCRIPT = textwrap.dedent(
    """
    import sys, numpy as np
    sys.path.insert(0, {tests!r})
    from test_dataset import make_writer, snapshot
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


def test_a_huge_declared_string_variable_is_refused_before_xarray_decodes_it(tmp_path):
    # netCDF-4 strings are decoded whole when the file opens: an unwritten 2**31 - 1 entry
    # string variable (a fuzzed file) made the reader allocate until the OOM killer stopped it
    import netCDF4

    path = tmp_path / "strings.nc"
    with netCDF4.Dataset(path, "w", format="NETCDF4") as nc:
        nc.createDimension("n", 2**31 - 1)
        nc.createVariable("feature", str, ("n",))
    with pytest.raises(DatasetError, match="string variable 'feature' declares 2147483647 entries"):
        open_dataset(path)
