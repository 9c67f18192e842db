"""The one dataset observer (``rdnet.dataset.DatasetObserver``): open at start, append, complete, keep on abort."""

from __future__ import annotations

import numpy as np

from rdnet.dataset import DatasetObserver, StreamingWriter, VariableSpec, open_dataset


class RampObserver(DatasetObserver):
    """Writes a 2 x 3 field equal to the step number at each snapshot."""

    def __init__(self, path, **options):
        super().__init__(**options)
        self.path = path

    def open_writer(self, run, step):
        return StreamingWriter(self.path, system="classic", model="ramp", parameters={"run": run},
                               coords={"y": (np.arange(2.0), {"units": "1"}), "x": (np.arange(3.0), {"units": "1"})},
                               variables={"u": VariableSpec(("time", "y", "x"), "ramp", "1")})  # fmt: skip

    def snapshot_fields(self, step, state):
        return {"u": np.full((2, 3), float(state))}


def test_a_completed_run_holds_every_snapshot_under_its_final_name(tmp_path):
    observer = RampObserver(tmp_path / "ramp.nc")
    observer.start("a", 0)
    for step in range(3):
        observer.snapshot(step, 0.5 * step, step)
    observer.finish()
    assert observer.final_path == tmp_path / "ramp.nc" and not (tmp_path / "ramp.nc.partial").exists()
    with open_dataset(observer.final_path) as ds:
        np.testing.assert_array_equal(ds["time"].values, [0.0, 0.5, 1.0])
        np.testing.assert_array_equal(ds["u"].values[:, 0, 0], [0.0, 1.0, 2.0])


def test_abort_keeps_a_partial_file_with_snapshots_and_drops_an_empty_one(tmp_path):
    kept = RampObserver(tmp_path / "kept.nc")
    kept.start("a", 0)
    kept.snapshot(0, 0.0, 7)
    partial = kept.abort()
    assert partial == tmp_path / "kept.nc.partial" and partial.exists()
    assert kept.abort() == partial  # the loop aborts, and its caller may ask again
    empty = RampObserver(tmp_path / "empty.nc")
    empty.start("a", 0)
    assert empty.abort() is None and not (tmp_path / "empty.nc.partial").exists()
    asked_to_keep = RampObserver(tmp_path / "asked.nc", keep_empty_partial=True)
    asked_to_keep.start("a", 0)
    assert asked_to_keep.abort() == tmp_path / "asked.nc.partial"
    assert RampObserver(tmp_path / "never.nc").abort() is None  # aborted before it started
