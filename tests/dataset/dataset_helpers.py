"""The writer and the data shared by the dataset tests (values written here, not taken from the code)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rdnet.dataset import StreamingWriter, VariableSpec

NY, NX = 6, 8


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
        **kwargs,
    )


def snapshot(index):
    base = np.arange(NY * NX, dtype=float).reshape(NY, NX)
    return {"u": base + index, "v": (base * 0.5 - index).astype(np.float32)}


def minimal_dataset(**overrides):
    data = {"v": (("y", "x"), np.random.default_rng(0).random((4, 5)))}
    coords = {"y": np.arange(4.0), "x": np.arange(5.0)}
    coords.update(overrides)
    return xr.Dataset(data, coords=coords)
