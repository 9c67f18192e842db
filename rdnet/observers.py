"""One observer protocol for every engine's run loop: what the loop calls, and how.

py-pde's trackers are the model: the run loop knows nothing of files, progress bars or
stopping rules; it is handed observers and calls the same hooks, whichever engine runs
(:func:`rd_classic.run.run_simulation`, :func:`rdnet.prd.run.run_training`). Every hook
is optional; :func:`notify` calls those an observer has.

================  ============================================  =====================
hook              when                                          py-pde tracker
================  ============================================  =====================
``start``         once, before the first step                   ``initialize``
``progress``      after every step (or chunk of steps)          (``interrupts``)
``snapshot``      at every snapshot step, the state measured     ``handle``
``finish``        once, when the run completed                   ``finalize``
``abort``         once, when the run ends early (error, Ctrl-C)  –
================  ============================================  =====================

An adaptive classic run (``rk23``, ``rk45``) also calls two hooks of its own: ``progress_time(time)``
after every accepted step (in place of ``progress``) and ``step_sizes(times, sizes, rejected,
dt_next)`` before every snapshot; an observer without them is unaffected.

An observer whose ``stop_requested`` is true after a snapshot ends the run there, as
completed (a steady state reached). A dataset writer is an observer
(:class:`rd_classic.observers.ClassicDatasetObserver`, :class:`rdnet.prd.output.NetworkDatasetObserver`),
as are the progress bars.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

__all__ = ["RunObserver", "notify", "stop_requested"]


class RunObserver(Protocol):
    """The hooks a run loop calls (each optional).

    The arguments are the engine's own objects: ``run`` is its configuration
    (:class:`rd_classic.run.SimulationConfig`, :class:`rdnet.prd.run.PreparedRun`),
    ``measured`` what a step measured (None when the engine measures nothing per step)
    and ``state`` what a snapshot holds (the fields by name; the training step's result).
    """

    def start(self, run: Any, step: int) -> None:
        """Before the first step; ``step`` is the step the run starts from (0, or a resumed run's)."""

    def progress(self, step: int, measured: Any) -> None:
        """After step ``step`` (or a chunk of steps ending there)."""

    def snapshot(self, step: int, time: float, state: Any) -> None:
        """At a snapshot step, with the model time and the state to record."""

    def finish(self) -> None:
        """Once, after the last step, when the run completed."""

    def abort(self) -> Any:
        """Once, when the run ends early; a writer keeps what it has (and may return where)."""


def notify(observers: Sequence[Any], hook: str, *arguments: Any) -> None:
    """Call ``hook(*arguments)`` on every observer that has it, in order."""
    for observer in observers:
        function = getattr(observer, hook, None)
        if function is not None:
            function(*arguments)


def stop_requested(observers: Sequence[Any]) -> bool:
    """Whether an observer asks the run to end at this snapshot (as completed)."""
    return any(getattr(observer, "stop_requested", False) for observer in observers)
