"""Tests of the dataset reader and validation: bad files are refused with a message naming what is wrong."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import xarray as xr
from dataset_helpers import make_writer, minimal_dataset, snapshot

from rdnet.dataset import (
    DatasetWarning,
    open_dataset,
    write_dataset,
)
from rdnet.errors import DatasetError

pytestmark = pytest.mark.filterwarnings("ignore::rdnet.dataset.DatasetWarning")


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
    path = write_dataset(minimal_dataset(), tmp_path / "a.nc", system="external", model="m", parameters={})
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
    ds = minimal_dataset(x=np.array([0.0, 2.0, 1.0, 3.0, 4.0]))
    with pytest.raises(DatasetError, match="'x' is not strictly increasing"):
        open_dataset(_write_raw(tmp_path, ds))


def test_non_uniform_coordinate(tmp_path):
    ds = minimal_dataset(y=np.array([0.0, 1.0, 2.0, 4.0]))
    with pytest.raises(DatasetError, match="'y' is not uniformly spaced"):
        open_dataset(_write_raw(tmp_path, ds))


def test_non_numeric_coordinate(tmp_path):
    ds = minimal_dataset(x=np.array(list("abcde")))
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
    path = _write_raw(tmp_path, minimal_dataset())
    with pytest.warns(DatasetWarning, match="not written by rdnet"):
        ds = open_dataset(path)
    assert ds.sizes == {"y": 4, "x": 5}


def test_netcdf3_classic_file_is_read(tmp_path):
    path = tmp_path / "classic.nc"
    minimal_dataset().to_netcdf(path, format="NETCDF3_CLASSIC")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DatasetWarning)
        assert open_dataset(path)["v"].shape == (4, 5)


def test_bad_parameters_json(tmp_path):
    ds = minimal_dataset()
    ds.attrs["parameters"] = "{not json"
    with pytest.warns(DatasetWarning), pytest.raises(DatasetError, match=r"raw\.nc: attribute 'parameters' is not valid JSON"):
        open_dataset(_write_raw(tmp_path, ds))  # the message names the file, as every other one does


def test_large_files_open_lazily_with_dask(tmp_path, monkeypatch):
    import rdnet.dataset.reader as reader

    writer = make_writer(tmp_path / "run.nc")
    for index in range(3):
        writer.append(float(index), snapshot(index))
    path = writer.close()
    monkeypatch.setattr(reader, "LAZY_THRESHOLD_BYTES", 0)
    ds = open_dataset(path)
    assert ds["u"].chunks is not None and ds["u"].chunks[0] == (1, 1, 1)


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


# ------------------------------------------------------------------ 3-D fields (time, z, y, x)


def test_a_streamed_three_dimensional_run_opens_with_its_z_axis(tmp_path):
    from rdnet.dataset import VariableSpec, StreamingWriter, spatial_dims

    axes = {name: np.arange(n) * 0.25 for name, n in zip("zyx", (3, 4, 5))}
    writer = StreamingWriter(
        tmp_path / "run.nc", system="classic", model="m", parameters={},
        coords={name: (values, {"units": "mm"}) for name, values in axes.items()},
        variables={"v": VariableSpec(("time", "z", "y", "x"), "activator", "1")},
    )  # fmt: skip
    values = np.random.default_rng(1).random((2, 3, 4, 5))
    for index in range(2):
        writer.append(float(index), {"v": values[index]})
    ds = open_dataset(writer.close())
    assert ds["v"].dims == ("time", "z", "y", "x") and spatial_dims(ds["v"].dims) == ("z", "y", "x")
    np.testing.assert_array_equal(ds["v"].values, values)
    assert ds["z"].attrs["units"] == "mm"


def volume(**coords):
    data = {"v": (("z", "y", "x"), np.ones((3, 4, 5)))}
    axes = {"z": np.arange(3.0), "y": np.arange(4.0), "x": np.arange(5.0)}
    axes.update(coords)
    return xr.Dataset(data, coords={name: values for name, values in axes.items() if values is not None})


@pytest.mark.parametrize(
    "coords, message",
    [
        ({"z": None}, "dimension 'z' has no coordinate variable"),
        ({"z": np.array([0.0, 2.0, 1.0])}, "'z' is not strictly increasing"),
        ({"z": np.array([0.0, 1.0, 3.0])}, "'z' is not uniformly spaced"),
        ({"z": np.array([0.0, np.nan, 2.0])}, "'z' has NaN or infinite values"),
    ],
)
def test_the_z_coordinate_is_checked_like_y_and_x(tmp_path, coords, message):
    with pytest.raises(DatasetError, match=message):
        open_dataset(_write_raw(tmp_path, volume(**coords)))


def test_z_must_come_directly_before_y_and_x(tmp_path):
    ds = xr.Dataset(
        {"v": (("z", "feature", "y", "x"), np.ones((2, 3, 4, 5)))},
        coords={"z": np.arange(2.0), "y": np.arange(4.0), "x": np.arange(5.0)},
    )
    with pytest.raises(DatasetError, match=r"'v' has 'z' but not directly before 'y', 'x'"):
        open_dataset(_write_raw(tmp_path, ds))


def test_spatial_dims_name_the_axes_of_two_and_three_dimensional_fields():
    from rdnet.dataset import spatial_dims

    assert spatial_dims(("time", "z", "y", "x")) == ("z", "y", "x")
    assert spatial_dims(("time", "feature", "y", "x")) == ("y", "x")
    assert spatial_dims(("z", "feature", "y", "x")) == ("y", "x")  # z not before y, x: validate refuses it
    assert spatial_dims(("time",)) == ()


def test_grid_coordinates_in_different_units_are_refused(tmp_path):
    ds = volume()
    for axis, unit in zip("zyx", ("mm", "m", "m")):
        ds[axis].attrs["units"] = unit
    with pytest.raises(DatasetError, match=r"different units \(z \[mm\], y \[m\], x \[m\]\)"):
        open_dataset(_write_raw(tmp_path, ds))


def test_a_sweeps_store_of_every_point_is_named_with_the_way_to_take_one_run_out(tmp_path):
    """``rdnet sweep --format zarr`` keeps every run in ``points.zarr`` with the sweep's axes first; opening
    it was refused as "'time' but not as its first dim", as if the file were broken."""
    from click.testing import CliRunner

    from rdnet.cli.main import cli
    from rdnet.dataset.cf import global_attrs

    shape = (2, 3, 2, 4, 5)  # F, k, time, y, x
    store = xr.Dataset(
        {"v": (("F", "k", "time", "y", "x"), np.random.default_rng(0).normal(size=shape), {"units": "1"})},
        coords={"F": [0.02, 0.03], "k": [0.05, 0.06, 0.07], "time": ("time", [0.0, 1.0], {"units": "s"}),
                "y": ("y", np.arange(4.0), {"units": "m"}), "x": ("x", np.arange(5.0), {"units": "m"})},
        attrs={**global_attrs(system="sweep", model="gray-scott", version="0", title="sweep"), "sweep_dims": "F k",
               "system": "sweep", "model": "gray-scott",
               "rdnet_schema": "1.0", "parameters": "{}", "rdnet_version": "0", "created": "now", "history": "test",
               "Conventions": "CF-1.10"},
    )  # fmt: skip
    path = tmp_path / "points.zarr"
    store.to_zarr(path)
    with pytest.raises(DatasetError, match=r"a sweep's store of every point's run \(leading dims F, k\)") as refused:
        open_dataset(path)
    assert ".sel(F=0.02, k=0.05)" in str(refused.value)
    one_run = xr.open_zarr(path).sel(F=0.02, k=0.05)  # the way the message gives works
    assert one_run["v"].dims == ("time", "y", "x")
    result = CliRunner().invoke(cli, ["info", str(path)])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "sweep's store" in result.output, result.output


def _rdnet_attrs(schema: str) -> dict[str, str]:
    return {"rdnet_schema": schema, "system": "classic", "model": "linear", "parameters": "{}", "rdnet_version": "0",
            "created": "now", "history": "test", "Conventions": "CF-1.10"}


@pytest.mark.parametrize("schema", ["2.0", "0.9", "draft"])
def test_a_file_of_another_schema_is_read_with_one_warning(tmp_path, schema):
    """A file whose rdnet_schema this rdnet does not read (another major version) was read silently."""
    ds = minimal_dataset()
    ds.attrs.update(_rdnet_attrs(schema))
    with pytest.warns(DatasetWarning, match=f"rdnet_schema '{schema}' is not schema 1.x") as caught:
        open_dataset(_write_raw(tmp_path, ds)).close()
    assert len(caught) == 1


def test_a_file_of_this_schemas_minor_versions_is_read_without_a_warning(tmp_path):
    ds = minimal_dataset()
    ds.attrs.update(_rdnet_attrs("1.7"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        open_dataset(_write_raw(tmp_path, ds)).close()
