"""One observer protocol for both engines: the same hooks, in the same order, with the engines' own objects."""

from __future__ import annotations

import numpy as np
import pytest

from rdnet.observers import notify, stop_requested


class Recorder:
    """Records every hook of :class:`rdnet.observers.RunObserver` it is called with."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def start(self, run, step):
        self.calls.append(("start", step))

    def progress(self, step, measured):
        self.calls.append(("progress", step))

    def snapshot(self, step, time, state):
        self.calls.append(("snapshot", step, time))

    def finish(self):
        self.calls.append(("finish",))

    def abort(self):
        self.calls.append(("abort",))


def _check_sequence(calls, *, steps: int, snapshots: list[int], dt: float) -> None:
    assert calls[0] == ("start", 0) and calls[-1] == ("finish",)
    assert [call[1] for call in calls if call[0] == "snapshot"] == snapshots
    np.testing.assert_allclose([call[2] for call in calls if call[0] == "snapshot"], np.array(snapshots) * dt)
    progress = [call[1] for call in calls if call[0] == "progress"]
    assert progress == sorted(progress) and progress[-1] == steps
    assert ("abort",) not in calls


def test_the_classic_loop_calls_the_protocol_hooks():
    from rd_classic.run import build_config, run_simulation

    config = build_config("gray-scott", size="8", steps=6, snapshot_every=3, dt=0.5)
    recorder = Recorder()
    run_simulation(config, observers=[recorder])
    _check_sequence(recorder.calls, steps=6, snapshots=[0, 3, 6], dt=0.5)


def test_the_training_loop_calls_the_same_hooks():
    from rdnet.prd.run import RunSpec, prepare_run, run_training
    from rdnet.prd.training import TrainingConfig

    spec = RunSpec(samples=4, input_dim=4, outputs=1, grid_height=2, grid_width=2, steps=6, snapshot_every=3,
                   training=TrainingConfig(lr=0.25))  # fmt: skip
    recorder = Recorder()
    run_training(prepare_run(spec), [recorder])
    _check_sequence(recorder.calls, steps=6, snapshots=[0, 3, 6], dt=0.25)
    assert [call[1] for call in recorder.calls if call[0] == "progress"] == list(range(7))  # every step


def test_both_loops_abort_their_observers_when_a_hook_fails():
    from rd_classic.run import build_config, run_simulation
    from rdnet.prd.run import RunSpec, prepare_run, run_training

    class Failing(Recorder):
        def snapshot(self, step, time, state):
            super().snapshot(step, time, state)
            if step > 0:
                raise RuntimeError("disk full")

    for run in (lambda observer: run_simulation(build_config("gray-scott", size="8", steps=4, snapshot_every=2),
                                                observers=[observer]),
                lambda observer: run_training(prepare_run(RunSpec(samples=4, input_dim=4, grid_height=2, grid_width=2,
                                                                  steps=4, snapshot_every=2)), [observer])):  # fmt: skip
        observer = Failing()
        with pytest.raises(RuntimeError, match="disk full"):
            run(observer)
        assert observer.calls[-1] == ("abort",) and ("finish",) not in observer.calls


def test_notify_calls_only_the_hooks_an_observer_has_and_stop_is_asked_by_any():
    class OnlyFinish:
        stop_requested = True

        def __init__(self):
            self.finished = 0

        def finish(self):
            self.finished += 1

    quiet, recorder = OnlyFinish(), Recorder()
    notify([quiet, recorder], "progress", 5, None)
    notify([quiet, recorder], "finish")
    assert quiet.finished == 1 and recorder.calls == [("progress", 5), ("finish",)]
    assert stop_requested([recorder, quiet]) and not stop_requested([recorder])
