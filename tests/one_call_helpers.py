"""Comparing a one-call API's in-memory dataset with the file the command line writes."""

from __future__ import annotations

import json

import numpy as np

from rdnet.dataset import open_dataset

#: global attributes that name the call (the command line, the clock) rather than the run
CALL_ATTRIBUTES = ("history", "created")


def assert_equals_the_file(dataset, path) -> None:
    """Every variable, coordinate and attribute of ``dataset`` equals the file's, bit for bit."""
    with open_dataset(path) as written:
        assert sorted(dataset.variables) == sorted(written.variables)
        for name in written.variables:
            got, want = dataset[name], written[name]
            assert got.dims == want.dims, name
            np.testing.assert_array_equal(np.asarray(got.values), np.asarray(want.values), err_msg=name)
            for key, value in want.attrs.items():
                assert str(got.attrs.get(key)) == str(value), (name, key)
        for key, value in written.attrs.items():
            if key in CALL_ATTRIBUTES:
                continue
            if key == "parameters":
                assert json.loads(dataset.attrs[key]) == json.loads(value)
            else:
                assert str(dataset.attrs.get(key)) == str(value), key
