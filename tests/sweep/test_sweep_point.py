"""One sweep point run in this process (``rdnet.sweep.point.run_point``; no cluster needed)."""

from __future__ import annotations

from rdnet.sweep import plan_sweep
from rdnet.sweep.point import run_point

#: a tiny network whose learning rate makes the generator blow up within a few steps
DIVERGING = {"samples": 4, "input_dim": 6, "outputs": 2, "neurons": 4, "steps": 20}


def test_a_failed_point_leaves_no_attempt_file_and_its_error_names_none(tmp_path):
    plan = plan_sweep("train", {"lr": [1e6]}, DIVERGING, tmp_path / "sweep")
    plan.directory.mkdir()
    result = run_point(plan.tasks[0])
    assert result["status"] == "failed" and "diverged" in result["error"]
    # the attempt's partial file and its .npz checkpoint are removed with the attempt...
    assert sorted(path.name for path in plan.directory.iterdir()) == ["sweep-journal.jsonl"]
    # ...so the recorded error must not send the user to inspect or resume them
    assert ".attempt-" not in result["error"] and "partial file kept" not in result["error"]
