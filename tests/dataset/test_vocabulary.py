"""Tests of rdnet.dataset.vocabulary: which variables are spatial fields, one snapshot by index."""

from __future__ import annotations

import numpy as np
import pytest
from engine_datasets import classic_dataset, prd_dataset

from rdnet.dataset.vocabulary import select_snapshot, spatial_variables
from rdnet.errors import ConfigError


def test_spatial_variables_are_fields_on_the_grid(rng):
    dataset = prd_dataset(rng)
    assert spatial_variables(dataset) == ["u", "v", "reaction_u_norm", "displacement_u"]



def test_select_snapshot_counts_from_the_end_and_refuses_out_of_range(rng):
    dataset = classic_dataset(rng, snapshots=3)
    snapshot, index = select_snapshot(dataset["v"], -1)
    assert index == 2 and snapshot.dims == ("y", "x")
    np.testing.assert_array_equal(snapshot.values, dataset["v"].values[2])
    with pytest.raises(ConfigError, match=r"--time 3 is out of range: gs.nc has 3 snapshots \(use 0..2"):
        select_snapshot(dataset["v"], 3, label="gs.nc")
    with pytest.raises(ConfigError):
        select_snapshot(dataset["v"], -4)
