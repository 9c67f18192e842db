"""Fuzzing the readers: whatever file a user hands rdnet, it fails only with DatasetError.

Hypothesis builds NetCDF files with random dimensions, names, dtypes, attributes,
NaNs, empty arrays and huge declared sizes, and corrupts valid rdnet files byte by
byte (flipped bytes, overwritten ranges, truncation). Each is fed to
:func:`rdnet.open_dataset` (the only exception allowed is :class:`DatasetError`; a
dataset it accepts must satisfy the convention it promises and load), and to
``rdnet analyze`` / ``rdnet compare`` (exit 0, or one clean ``Error:`` line with
exit code 2 or 1 and no traceback).

The default run tries a few dozen files per test (profile ``hardening``); the slow
suite ``pytest -m slow tests/hardening`` at least 1,000 (profile ``hardening-slow``).
"""

from __future__ import annotations

import functools
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hardening.helpers import (
    assert_command_line_contains_the_hang,
    command_available,
    finishes_in_child,
    invoke_rdnet,
)

DIM_NAMES = ["time", "y", "x", "feature", "step", "output", "k"]
RDNET_SYSTEMS = ["classic", "prd", "gan-dynamics", "sweep", "external", "", "bogus"]
NUMERIC_DTYPES_NC3 = ["f4", "f8", "i1", "i2", "i4"]
NUMERIC_DTYPES_NC4 = [*NUMERIC_DTYPES_NC3, "i8", "u1", "u2", "u4", "u8"]
#: A declared length far beyond what any test writes: the file stays small (chunked, unwritten).
HUGE = 2**31 - 1

names = st.one_of(
    st.sampled_from(DIM_NAMES),
    st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,7}", fullmatch=True),
)


@st.composite
def netcdf_layouts(draw) -> dict:
    """A random description of a NetCDF file (written by :func:`write_layout`)."""
    file_format = draw(st.sampled_from(["NETCDF4", "NETCDF3_64BIT_DATA", "NETCDF3_CLASSIC"]))
    dims: dict[str, int | None] = {}
    for name in draw(st.lists(names, min_size=0, max_size=5, unique=True)):
        if name == "time" and draw(st.booleans()):
            dims[name] = None  # unlimited
        else:
            dims[name] = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 8, 16]))
    if file_format == "NETCDF4" and dims and draw(st.integers(0, 9)) == 0:
        # a huge declared size: the variable stays unwritten, so the file is tiny
        dims[draw(st.sampled_from(sorted(dims)))] = HUGE
    if file_format == "NETCDF3_CLASSIC" and sum(size is None for size in dims.values()) > 1:
        dims = {name: (size if size is not None else 1) for name, size in dims.items()}
    variables = []
    dtypes = NUMERIC_DTYPES_NC4 if file_format == "NETCDF4" else NUMERIC_DTYPES_NC3
    for name in draw(st.lists(names, min_size=0, max_size=5, unique=True)):
        if name in dims and draw(st.booleans()):
            var_dims = (name,)  # a coordinate variable
        else:
            var_dims = tuple(draw(st.lists(st.sampled_from(sorted(dims)), max_size=4, unique=True))) if dims else ()
        unlimited = [dim for dim in var_dims if dims[dim] is None]
        if unlimited and file_format != "NETCDF4" and var_dims[0] != unlimited[0]:
            var_dims = (unlimited[0], *[dim for dim in var_dims if dim != unlimited[0]])
        dtype = draw(st.sampled_from(dtypes))
        if file_format == "NETCDF4" and draw(st.integers(0, 14)) == 0:
            dtype = "str"
        variables.append(
            {
                "name": name,
                "dims": var_dims,
                "dtype": dtype,
                "fill": draw(st.sampled_from(["random", "monotonic", "nan", "special", "unwritten"])),
                "attrs": draw(
                    st.dictionaries(
                        st.sampled_from(["units", "long_name", "_FillValue", "axis", "calendar", "scale_factor"]),
                        st.one_of(st.text(max_size=8), st.floats(allow_nan=True), st.integers(-5, 5)),
                        max_size=3,
                    )
                ),
            }
        )
    attrs = {}
    if draw(st.booleans()):
        attrs.update(
            {
                "rdnet_schema": draw(st.sampled_from(["1.0", "0.9", "x"])),
                "system": draw(st.sampled_from(RDNET_SYSTEMS)),
                "model": draw(st.sampled_from(["gray-scott", "two-layer-relu", ""])),
                "parameters": draw(
                    st.sampled_from(['{"seed": 1}', "[1, 2]", "{", "", "null", '{"seed": NaN}', '"text"', "1e400"])
                ),
                "rdnet_version": "0.1.0",
                "created": "2021-02-01T00:00:00+00:00",
                "history": "fuzz",
                "Conventions": "CF-1.10",
            }
        )
        for key in draw(st.lists(st.sampled_from(sorted(attrs)), unique=True, max_size=3)):
            del attrs[key]
    seed = draw(st.integers(0, 2**32 - 1))
    return {"format": file_format, "dims": dims, "variables": variables, "attrs": attrs, "seed": seed}


@st.composite
def near_valid_layouts(draw) -> dict:
    """An rdnet-like file (time, y, x fields with coordinates) with random defects."""
    file_format = draw(st.sampled_from(["NETCDF4", "NETCDF3_64BIT_DATA"]))
    sizes = st.sampled_from([0, 1, 2, 3, 8])
    dims = {"time": draw(st.sampled_from([None, 0, 1, 3])), "y": draw(sizes), "x": draw(sizes)}
    if file_format == "NETCDF4" and draw(st.integers(0, 7)) == 0:
        dims[draw(st.sampled_from(["y", "x", "time"]))] = HUGE
    if draw(st.booleans()):
        dims["feature"] = draw(sizes)
    field_dims = draw(
        st.sampled_from(
            [("time", "y", "x"), ("y", "x"), ("y", "time", "x"), ("x", "y"), ("time", "feature", "y", "x"), ("time",)]
        )
    )
    field_dims = tuple(dim for dim in field_dims if dim in dims)
    variables = [
        {"name": name, "dims": field_dims, "fill": draw(st.sampled_from(["random", "nan", "special", "unwritten"])),
         "dtype": draw(st.sampled_from(["f8", "f4", "i4", *(["str", "u8"] if file_format == "NETCDF4" else [])])),
         "attrs": {"units": "1", "long_name": name}}
        for name in draw(st.lists(st.sampled_from(["u", "v", "reaction_u", "W_norm"]), min_size=1, max_size=3, unique=True))
    ]
    for axis in ("time", "y", "x"):
        if draw(st.integers(0, 5)) > 0:
            variables.append(
                {"name": axis, "dims": (axis,),
                 "fill": draw(st.sampled_from(["monotonic", "monotonic", "monotonic", "random", "nan", "unwritten"])),
                 "dtype": draw(st.sampled_from(["f8", "f8", "i4", "f4", *(["str"] if file_format == "NETCDF4" else [])])),
                 "attrs": {"units": "1"}}
            )
    layout = draw(netcdf_layouts())
    return {**layout, "format": file_format, "dims": dims, "variables": variables}


def write_layout(layout: dict, path: Path) -> Path:
    """Write the file a layout describes (skipping what the format cannot hold)."""
    import netCDF4

    rng = np.random.default_rng(layout["seed"])
    with np.errstate(all="ignore"), netCDF4.Dataset(path, "w", format=layout["format"]) as nc:
        for name, size in layout["dims"].items():
            try:
                nc.createDimension(name, size)
            except RuntimeError:  # NetCDF-3 holds one unlimited dim (size 0 or None)
                nc.createDimension(name, 1)
        for spec in layout["variables"]:
            dtype = str if spec["dtype"] == "str" else np.dtype(spec["dtype"])
            kwargs = {}
            if layout["format"] == "NETCDF4" and any(layout["dims"][dim] == HUGE for dim in spec["dims"]):
                kwargs["chunksizes"] = [1] * len(spec["dims"])
            try:
                variable = nc.createVariable(spec["name"], dtype, spec["dims"], **kwargs)
            except (RuntimeError, ValueError, TypeError, OverflowError, KeyError):
                continue  # the format refuses it; a reader never sees it
            for key, value in spec["attrs"].items():
                try:
                    variable.setncattr(key, value)
                except (RuntimeError, ValueError, TypeError, AttributeError, OverflowError):
                    pass
            shape = tuple(len(nc.dimensions[dim]) for dim in spec["dims"])
            if spec["fill"] == "unwritten" or any(size == HUGE for size in shape):
                continue
            if any(nc.dimensions[dim].isunlimited() for dim in spec["dims"]):
                unlimited = next(dim for dim in spec["dims"] if nc.dimensions[dim].isunlimited())
                shape = tuple(3 if dim == unlimited else len(nc.dimensions[dim]) for dim in spec["dims"])
            size = int(np.prod(shape)) if shape else 1
            if spec["dtype"] == "str":
                values = np.array(["a", "", "é", "\x00b"] * size, dtype=object)[:size].reshape(shape)
            elif spec["fill"] == "monotonic":
                values = np.arange(size, dtype=float).reshape(shape)
            elif spec["fill"] in ("nan", "special"):
                values = rng.choice([np.nan, np.inf, -np.inf, 0.0, 1.0, -1e300], size=size).reshape(shape)
            else:
                values = (rng.standard_normal(size) * 10.0 ** rng.integers(-3, 4)).reshape(shape)
            if spec["dtype"] != "str" and np.dtype(spec["dtype"]).kind in "iu":  # keep in range
                info = np.iinfo(np.dtype(spec["dtype"]))
                values = np.clip(np.nan_to_num(values), info.min // 2, info.max // 2).astype(spec["dtype"])
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    variable[...] = values
            except (RuntimeError, ValueError, TypeError, IndexError, OverflowError):
                pass
        for key, value in layout["attrs"].items():
            nc.setncattr(key, value)
    return path


def assert_open_dataset_contract(path: Path) -> None:
    """``open_dataset`` raises only DatasetError; what it accepts meets the convention."""
    from hypothesis import event

    from rdnet.dataset import DatasetError, open_dataset, spatial_variables

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            ds = open_dataset(path)
        except DatasetError as error:
            message = str(error)
            assert message and "\n" not in message.strip(), f"multi-line message: {message!r}"
            event("open_dataset: DatasetError")
            return
    event("open_dataset: accepted")
    try:
        fields = spatial_variables(ds)
        system = ds.attrs.get("system")
        if not fields:
            assert system in ("gan-dynamics", "sweep"), f"accepted a file without spatial field: {ds}"
        for axis in ("y", "x") if fields else ():
            values = np.asarray(ds[axis].values, dtype=float)
            assert values.size >= 1 and np.all(np.isfinite(values))
            assert np.all(np.diff(values) > 0)
        if "parameters" in ds.attrs:
            assert isinstance(json.loads(ds.attrs["parameters"]), dict)
        for name in fields:
            try:
                ds[name].isel({dim: slice(0, 2) for dim in ds[name].dims}).load()
            except RuntimeError as error:
                # Reading is lazy: a corrupt data chunk is found only when read, and
                # netCDF4 then raises RuntimeError("NetCDF: ..."); the CLI must turn it
                # into one line (tested below), the Python API documents it.
                assert str(error).startswith("NetCDF:"), error
                event("open_dataset: accepted, corrupt chunk found on read")
    finally:
        ds.close()


def assert_cli_clean(arguments: list[str], cwd: Path) -> None:
    """``rdnet ...`` either succeeds or fails with one clean error line (exit 1 or 2)."""
    outcome = invoke_rdnet(arguments, cwd=cwd)  # an escaping exception fails the test
    assert "Traceback" not in outcome.stderr, outcome.describe()
    if outcome.exit_code != 0:
        assert outcome.exit_code in (1, 2), outcome.describe()
        assert len(outcome.error_lines) == 1, outcome.describe()


# --------------------------------------------------------------------- valid seeds for corruption


def _valid_files(folder: Path) -> list[Path]:
    """A NetCDF-4 file made by write_dataset and a CDF-5 partial file made by the writer."""
    import xarray as xr

    from rdnet.dataset import StreamingWriter, VariableSpec, write_dataset

    rng = np.random.default_rng(8)
    y, x = np.arange(8) * 0.5, np.arange(8) * 0.5
    ds = xr.Dataset(
        {
            "u": (("time", "y", "x"), rng.random((3, 8, 8))),
            "v": (("time", "y", "x"), rng.random((3, 8, 8))),
            "loss": (("time",), rng.random(3)),
        },
        coords={"time": [0.0, 1.0, 2.0], "y": ("y", y, {"units": "m"}), "x": ("x", x, {"units": "m"})},
    )
    final = write_dataset(ds, folder / "valid.nc", system="classic", model="gray-scott", parameters={"seed": 1})
    writer = StreamingWriter(
        folder / "valid-run.nc",
        system="classic",
        model="gray-scott",
        parameters={"seed": 1},
        coords={"y": (y, {"units": "m"}), "x": (x, {"units": "m"})},
        variables={
            "u": VariableSpec(("time", "y", "x"), "activator", "1"),
            "v": VariableSpec(("time", "y", "x"), "inhibitor", "1"),
        },
    )
    for step in range(3):
        writer.append(float(step), {"u": rng.random((8, 8)), "v": rng.random((8, 8))})
    partial = writer.abort()
    return [final, partial]


@functools.lru_cache(maxsize=1)
def valid_file_bytes() -> tuple[tuple[str, bytes], ...]:
    """Name and bytes of each valid seed file (made once per session)."""
    with tempfile.TemporaryDirectory() as folder:
        return tuple((path.name, path.read_bytes()) for path in _valid_files(Path(folder)))


@st.composite
def corruptions(draw, size: int) -> list[tuple]:
    """A list of byte-level edits of a file of ``size`` bytes."""
    edits = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "overwrite", "truncate", "zero"]))
        position = draw(st.one_of(st.integers(0, 512), st.integers(0, size - 1)))
        length = draw(st.integers(1, 64))
        edits.append((kind, position, length, draw(st.binary(min_size=length, max_size=length))))
    return edits


def apply_corruption(data: bytes, edits: list[tuple]) -> bytes:
    buffer = bytearray(data)
    for kind, position, length, noise in edits:
        position = min(position, max(len(buffer) - 1, 0))
        if kind == "truncate":
            del buffer[position:]
        elif kind == "flip":
            for offset in range(min(length, len(buffer) - position)):
                buffer[position + offset] ^= 0xFF
        elif kind == "zero":
            buffer[position : position + length] = bytes(len(buffer[position : position + length]))
        else:
            buffer[position : position + length] = noise[: len(buffer[position : position + length])]
    return bytes(buffer)


# --------------------------------------------------------------------------------- the tests

any_layouts = st.one_of(netcdf_layouts(), near_valid_layouts())


def _fuzz_open_dataset(layout: dict) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.nc"
        write_layout(layout, path)
        assert_open_dataset_contract(path)


def _fuzz_corruption(choice: int, data) -> None:
    valid_files = valid_file_bytes()
    name, original = valid_files[choice % len(valid_files)]
    edits = data.draw(corruptions(len(original)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(apply_corruption(original, edits))
        # in a child: a corrupt HDF5 file can hang the HDF5 library (see finishes_in_child)
        if not finishes_in_child(assert_open_dataset_contract, path):
            assert_command_line_contains_the_hang(["analyze", path.name], Path(folder))


@settings(settings.get_profile("hardening"))
@given(layout=any_layouts)
def test_open_dataset_random_files(layout):
    _fuzz_open_dataset(layout)


@settings(settings.get_profile("hardening"))
@given(choice=st.integers(0, 1), data=st.data())
def test_open_dataset_corrupted_files(choice, data):
    _fuzz_corruption(choice, data)


@pytest.mark.slow
@settings(settings.get_profile("hardening-slow"))
@given(layout=any_layouts)
def test_open_dataset_random_files_many(layout):
    _fuzz_open_dataset(layout)


@pytest.mark.slow
@settings(settings.get_profile("hardening-slow"))
@given(choice=st.integers(0, 1), data=st.data())
def test_open_dataset_corrupted_files_many(choice, data):
    _fuzz_corruption(choice, data)


def _fuzz_cli(command: str, layout: dict) -> None:
    valid_files = valid_file_bytes()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = write_layout(layout, folder / "fuzz.nc")
        if command == "analyze":
            assert_cli_clean(["analyze", path.name], folder)
        else:
            name, data = valid_files[0]
            (folder / name).write_bytes(data)
            assert_cli_clean(["compare", name, path.name, "--surrogates", "3"], folder)


def _fuzz_cli_corrupted(command: str, choice: int, data) -> None:
    valid_files = valid_file_bytes()
    name, original = valid_files[choice % len(valid_files)]
    edits = data.draw(corruptions(len(original)))
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        path = folder / ("bad-" + name)
        path.write_bytes(apply_corruption(original, edits))
        if command == "analyze":
            arguments = ["analyze", path.name]
        else:
            (folder / valid_files[0][0]).write_bytes(valid_files[0][1])
            arguments = ["compare", valid_files[0][0], path.name, "--surrogates", "3"]
        if not finishes_in_child(assert_cli_clean, arguments, folder):
            assert_command_line_contains_the_hang(arguments, folder)


def _needs(command: str):
    return pytest.mark.skipif(not command_available(command), reason=f"rdnet {command} not available yet")


CLI_COMMANDS = [pytest.param("analyze", marks=_needs("analyze")), pytest.param("compare", marks=_needs("compare"))]


@pytest.mark.parametrize("command", CLI_COMMANDS)
@settings(settings.get_profile("hardening"), max_examples=15)
@given(layout=any_layouts)
def test_cli_random_files(command, layout):
    _fuzz_cli(command, layout)


@pytest.mark.parametrize("command", CLI_COMMANDS)
@settings(settings.get_profile("hardening"), max_examples=15)
@given(choice=st.integers(0, 1), data=st.data())
def test_cli_corrupted_files(command, choice, data):
    _fuzz_cli_corrupted(command, choice, data)


@pytest.mark.slow
@pytest.mark.parametrize("command", CLI_COMMANDS)
@settings(settings.get_profile("hardening-slow"))
@given(layout=any_layouts)
def test_cli_random_files_many(command, layout):
    _fuzz_cli(command, layout)


@pytest.mark.slow
@pytest.mark.parametrize("command", CLI_COMMANDS)
@settings(settings.get_profile("hardening-slow"))
@given(choice=st.integers(0, 1), data=st.data())
def test_cli_corrupted_files_many(command, choice, data):
    _fuzz_cli_corrupted(command, choice, data)
