"""The classic-header bounds check: it accepts every header netCDF-C writes, refuses impossible counts.

Truth for "valid" is the netCDF-C library itself (files written through netCDF4 in
the three classic formats); truth for "corrupt" is the format specification
(https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html):
the headers below are packed by hand, field by field.
"""

from __future__ import annotations

import io
import struct

import netCDF4
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rdnet.dataset import DatasetError, open_dataset
from rdnet.dataset.netcdf_header import HeaderError, check_classic_header

CLASSIC_FORMATS = {"NETCDF3_CLASSIC": 1, "NETCDF3_64BIT_OFFSET": 2, "NETCDF3_64BIT_DATA": 5}
CLASSIC_DTYPES = ["i1", "S1", "i2", "i4", "f4", "f8"]
CDF5_DTYPES = [*CLASSIC_DTYPES, "u1", "u2", "u4", "i8", "u8"]


def check_file(path) -> None:
    with open(path, "rb") as handle:
        check_classic_header(handle, path.stat().st_size)


def check_bytes(data: bytes) -> None:
    check_classic_header(io.BytesIO(data), len(data))


@st.composite
def classic_files(draw):
    """A description of a classic-format file: dims, global and variable attributes, variables."""
    file_format = draw(st.sampled_from(sorted(CLASSIC_FORMATS)))
    dtypes = CDF5_DTYPES if file_format == "NETCDF3_64BIT_DATA" else CLASSIC_DTYPES
    n_dims = draw(st.integers(0, 5))
    dims = {f"d{i}": draw(st.sampled_from([1, 2, 7, 300])) for i in range(n_dims)}
    if dims and draw(st.booleans()):
        dims["d0"] = None  # the record dimension
    names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,20}", fullmatch=True)
    attr_values = st.one_of(
        st.text(st.characters(codec="ascii", exclude_categories=["Cc", "Cs"]), min_size=1, max_size=40),
        st.tuples(st.sampled_from([d for d in dtypes if d != "S1"]), st.integers(1, 9)),
    )
    attributes = st.dictionaries(names, attr_values, max_size=4)
    variables = []
    for index in range(draw(st.integers(0, 4))):
        var_dims = draw(st.lists(st.sampled_from(sorted(dims)), max_size=3, unique=True)) if dims else []
        if "d0" in var_dims and dims["d0"] is None:
            var_dims = ["d0", *[dim for dim in var_dims if dim != "d0"]]
        variables.append((f"v{index}", draw(st.sampled_from(dtypes)), tuple(var_dims), draw(attributes)))
    return file_format, dims, draw(attributes), variables


def write_classic(path, description) -> None:
    file_format, dims, global_attrs, variables = description
    with netCDF4.Dataset(path, "w", format=file_format) as nc:
        for name, size in dims.items():
            nc.createDimension(name, size)
        for name, value in global_attrs.items():
            nc.setncattr(name, value if isinstance(value, str) else np.arange(value[1], dtype=value[0]))
        for name, dtype, var_dims, attrs in variables:
            variable = nc.createVariable(name, dtype, var_dims)
            for key, value in attrs.items():
                variable.setncattr(key, value if isinstance(value, str) else np.arange(value[1], dtype=value[0]))
            if var_dims and dims[var_dims[0]] is None:
                variable[0:2] = np.ones((2, *variable.shape[1:]), dtype=dtype if dtype != "S1" else "S1")


@settings(max_examples=60, deadline=None)
@given(description=classic_files())
def test_every_header_netcdf_c_writes_is_accepted(description, tmp_path_factory):
    path = tmp_path_factory.mktemp("header") / "valid.nc"
    write_classic(path, description)
    check_file(path)


# ------------------------------------------------------------------ hand-packed headers (CDF-5)


def _count(value: int) -> bytes:
    return struct.pack(">q", value)  # NON_NEG in CDF-5: 64-bit


def _name(text: bytes) -> bytes:
    return _count(len(text)) + text + b"\0" * (-len(text) % 4)


def cdf5_header(*, dims=((b"x", 8),), attrs=((b"title", 2, b"abc"),), variables=((b"u", (0,), 6),),
                n_attrs=None, attr_length=None, n_dims=None) -> bytes:
    """A CDF-5 header, field by field, with optional lies in the counts."""
    out = b"CDF\x05" + _count(0)
    out += struct.pack(">i", 0x0A) + _count(len(dims) if n_dims is None else n_dims)
    for name, length in dims:
        out += _name(name) + _count(length)
    out += struct.pack(">i", 0x0C) + _count(len(attrs) if n_attrs is None else n_attrs)
    for name, nc_type, values in attrs:
        out += _name(name) + struct.pack(">i", nc_type)
        out += _count(len(values) if attr_length is None else attr_length) + values + b"\0" * (-len(values) % 4)
    out += struct.pack(">i", 0x0B) + _count(len(variables))
    ends = []  # where each variable's begin offset goes, filled in once the header's length is known
    for name, dim_ids, nc_type in variables:
        out += _name(name) + _count(len(dim_ids)) + b"".join(_count(i) for i in dim_ids)
        out += struct.pack(">i", 0) + _count(0)  # no variable attributes (ABSENT)
        out += struct.pack(">i", nc_type) + _count(64) + _count(0)
        ends.append(len(out))
    for index, end in enumerate(ends):  # the data of variable i (64 bytes each) follows the header
        out = out[: end - 8] + _count(len(out) + 64 * index) + out[end:]
    return out


def test_the_hand_packed_header_is_what_netcdf_c_reads(tmp_path):
    """The packer itself follows the specification: netCDF-C opens its header."""
    header = cdf5_header()
    path = tmp_path / "packed.nc"
    path.write_bytes(header + np.arange(8, dtype=">f8").tobytes())
    check_file(path)
    with netCDF4.Dataset(path) as nc:
        assert nc.data_model == "NETCDF3_64BIT_DATA"
        assert nc.getncattr("title") == "abc"
        np.testing.assert_array_equal(nc["u"][:], np.arange(8.0))


@pytest.mark.parametrize(
    ("header", "message"),
    [
        # the file the slow fuzz suite found: an attribute claiming 2**32 - 4 characters
        (cdf5_header(attr_length=2**32 - 4), "the length of an attribute is 4294967292"),
        (cdf5_header(n_attrs=2**40), "the number of global attributes"),
        (cdf5_header(n_dims=2**62), "the number of dimensions"),
        (cdf5_header(attr_length=-1), "the length of an attribute is -1"),
        (cdf5_header(variables=((b"u", (3,), 6),)), "dimension id 3; the file declares 1"),
        (cdf5_header(variables=((b"u", (0,), 12),)), "unknown type code 12"),
        (cdf5_header(attrs=((b"t", 0, b""),)), "unknown type code 0"),
        (cdf5_header()[:40], "the file ends inside the header"),
        (cdf5_header().replace(struct.pack(">i", 0x0B), struct.pack(">i", 0x0D)), "bad tag 0xd"),
    ],
)
def test_impossible_counts_are_refused(header, message):
    with pytest.raises(HeaderError, match=message):
        check_bytes(header)


def test_cdf5_types_are_refused_in_a_classic_file():
    header = b"CDF\x01" + b"\0" * 4 + b"\0" * 8 + struct.pack(">ii", 0x0C, 1) + struct.pack(">i", 1) + b"a\0\0\0"
    header += struct.pack(">ii", 10, 1) + b"\0" * 8  # nc_type 10 (int64) is CDF-5 only
    with pytest.raises(HeaderError, match="unknown type code 10"):
        check_bytes(header)


def test_open_dataset_refuses_a_corrupt_header_in_one_line_before_netcdf_c_reads_it(tmp_path):
    path = tmp_path / "corrupt.nc"
    path.write_bytes(cdf5_header(attr_length=2**32 - 4) + bytes(64))
    with pytest.raises(DatasetError, match=r"corrupt NetCDF header: the length of an attribute") as caught:
        open_dataset(path)
    assert "\n" not in str(caught.value)
