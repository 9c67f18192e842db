"""A bounds check of the header of a classic-format NetCDF file, before the C library reads it.

The netCDF-C library trusts the counts in a classic (CDF-1, CDF-2, CDF-5) header: a
corrupt file of a few hundred bytes whose header claims a 4-billion-element attribute
makes ``nc_open`` allocate, and touch, gigabytes. The fuzzed files of
``tests/hardening/test_fuzz_readers.py`` drove it into the kernel's OOM killer.
:func:`check_classic_header` walks the header as the format specification lays it out
(https://docs.unidata.ucar.edu/netcdf-c/current/file_format_specifications.html) and
refuses it as soon as a count or a length claims more bytes than the file holds. It
reads only the header and never allocates more than the file's size.

The walk checks what drives allocation (the numbers of dimensions, attributes and
variables, name lengths, attribute lengths, dimension ids and type codes); it leaves
the data section (``vsize``, ``begin``, ``numrecs``) to the library, which tolerates
short files and reports them when data is read.
"""

from __future__ import annotations

import os
from typing import BinaryIO

__all__ = ["HeaderError", "check_classic_header"]

#: Format version byte -> (bytes of a count (NON_NEG), bytes of a variable's begin offset).
_LAYOUT = {1: (4, 4), 2: (4, 8), 5: (8, 8)}
#: Bytes per element of each nc_type (1 byte, 2 char, 3 short, 4 int, 5 float, 6 double;
#: CDF-5 adds 7 ubyte, 8 ushort, 9 uint, 10 int64, 11 uint64).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 4, 6: 8, 7: 1, 8: 2, 9: 4, 10: 8, 11: 8}
_CLASSIC_TYPES = range(1, 7)
_NC_DIMENSION, _NC_VARIABLE, _NC_ATTRIBUTE = 0x0A, 0x0B, 0x0C


class HeaderError(ValueError):
    """The header of a classic NetCDF file is corrupt; the message says where."""


class _Cursor:
    """Reads big-endian integers from the header, never past the end of the file."""

    def __init__(self, handle: BinaryIO, size: int, count_bytes: int) -> None:
        self.handle = handle
        self.size = size
        self.count_bytes = count_bytes

    @property
    def remaining(self) -> int:
        return self.size - self.handle.tell()

    def integer(self, n_bytes: int, what: str) -> int:
        data = self.handle.read(n_bytes)
        if len(data) != n_bytes:
            raise HeaderError(f"the file ends inside the header (reading {what})")
        return int.from_bytes(data, "big", signed=True)

    def count(self, what: str, *, element_bytes: int = 1) -> int:
        """A non-negative count of items of at least ``element_bytes`` each that must fit in the file."""
        value = self.integer(self.count_bytes, what)
        if value < 0 or value * element_bytes > self.remaining:
            raise HeaderError(f"{what} is {value}, more than the {self.size}-byte file can hold")
        return value

    def skip(self, n_bytes: int, what: str) -> None:
        padded = n_bytes + (-n_bytes) % 4
        if padded > self.remaining:
            raise HeaderError(f"{what} runs past the end of the file")
        self.handle.seek(padded, os.SEEK_CUR)


def check_classic_header(handle: BinaryIO, size: int) -> None:
    """Walk a classic-format NetCDF header and check every count against the file size.

    Parameters
    ----------
    handle
        The file, opened in binary mode and positioned at its start (``b"CDF"``).
    size
        The file's size in bytes.

    Raises
    ------
    HeaderError
        A count, length, type code or dimension id is impossible for this file.
    """
    magic = handle.read(4)
    if len(magic) != 4 or magic[:3] != b"CDF" or magic[3] not in _LAYOUT:
        raise HeaderError("not a classic NetCDF signature")
    version = magic[3]
    count_bytes, offset_bytes = _LAYOUT[version]
    types = _TYPE_SIZES if version == 5 else {code: _TYPE_SIZES[code] for code in _CLASSIC_TYPES}
    cursor = _Cursor(handle, size, count_bytes)
    cursor.integer(count_bytes, "the number of records")  # may be STREAMING (-1): not checked

    n_dims = _list_header(cursor, _NC_DIMENSION, "dimensions")
    for _ in range(n_dims):
        _name(cursor, "a dimension name")
        if cursor.integer(count_bytes, "a dimension length") < 0:
            raise HeaderError("a dimension length is negative")
    _attributes(cursor, types, "global attributes")
    n_vars = _list_header(cursor, _NC_VARIABLE, "variables")
    for _ in range(n_vars):
        _name(cursor, "a variable name")
        n_var_dims = cursor.count("the number of a variable's dimensions", element_bytes=count_bytes)
        for _ in range(n_var_dims):
            dim_id = cursor.integer(count_bytes, "a dimension id")
            if not 0 <= dim_id < n_dims:
                raise HeaderError(f"a variable refers to dimension id {dim_id}; the file declares {n_dims}")
        _attributes(cursor, types, "variable attributes")
        _type(cursor, types)
        cursor.integer(count_bytes, "a variable size")
        cursor.integer(offset_bytes, "a variable offset")


def _list_header(cursor: _Cursor, tag: int, what: str) -> int:
    """The tag and number of items of a dimension, attribute or variable list (0 when ABSENT)."""
    found = cursor.integer(4, f"the tag of the {what}")
    if found not in (0, tag):
        raise HeaderError(f"bad tag {found:#x} where the {what} start")
    n_items = cursor.count(f"the number of {what}", element_bytes=8)
    if found == 0 and n_items != 0:
        raise HeaderError(f"an absent list of {what} claims {n_items} items")
    return n_items


def _attributes(cursor: _Cursor, types: dict[int, int], what: str) -> None:
    for _ in range(_list_header(cursor, _NC_ATTRIBUTE, what)):
        _name(cursor, "an attribute name")
        element_bytes = _type(cursor, types)
        n_values = cursor.count("the length of an attribute", element_bytes=element_bytes)
        cursor.skip(n_values * element_bytes, "an attribute's values")


def _name(cursor: _Cursor, what: str) -> None:
    length = cursor.count(f"the length of {what}")
    cursor.skip(length, what)


def _type(cursor: _Cursor, types: dict[int, int]) -> int:
    code = cursor.integer(4, "a type code")
    if code not in types:
        raise HeaderError(f"unknown type code {code}")
    return types[code]
