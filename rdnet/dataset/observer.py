"""The dataset observer: a run observer that streams a run's snapshots into an rdnet dataset.

Both engines write through this one class (:class:`rdnet.observers.RunObserver` hooks over a
:class:`~rdnet.dataset.writer.StreamingWriter`): it opens the writer when the run starts,
appends a snapshot at each ``snapshot``, completes the file at ``finish`` and keeps the
partial file at ``abort``. An engine's subclass says only what it writes:
:meth:`DatasetObserver.open_writer` (the variables, coordinates and attributes of its runs)
and :meth:`DatasetObserver.snapshot_fields` (one snapshot's arrays);
:class:`rd_classic.observers.ClassicDatasetObserver` and
:class:`rdnet.prd.output.NetworkDatasetObserver` are those two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DatasetObserver"]


class DatasetObserver:
    """Stream a run into an rdnet dataset, one durable snapshot at a time.

    Parameters
    ----------
    writer : StreamingWriter, optional
        An open writer (a continued run's); default: :meth:`open_writer` at ``start``.
    keep_empty_partial : bool
        Keep the partial file of a run stopped before its first snapshot (default: delete
        it, since it holds nothing to resume and would block a rerun).

    Attributes
    ----------
    writer : StreamingWriter or None
    partial_path : pathlib.Path or None
        Where the run is written while it runs (None in memory, or once deleted).
    final_path : pathlib.Path or None
        The completed file (None until ``finish``, and for a run kept in memory).
    """

    def __init__(self, writer: Any = None, *, keep_empty_partial: bool = False) -> None:
        self.writer = writer
        self.keep_empty_partial = keep_empty_partial
        self.partial_path: Path | None = None if writer is None else writer.partial_path
        self.final_path: Path | None = None
        self._aborted = False

    def open_writer(self, run: Any, step: int) -> Any:
        """The writer of a new run (called by :meth:`start` when none was given)."""
        raise NotImplementedError

    def snapshot_fields(self, step: int, state: Any) -> dict[str, Any]:
        """The arrays of one snapshot, by variable name."""
        raise NotImplementedError

    def start(self, run: Any, step: int) -> None:
        """Open the writer (unless one was given)."""
        if self.writer is None:
            self.writer = self.open_writer(run, step)
        self.partial_path = self.writer.partial_path

    def snapshot(self, step: int, time: float, state: Any) -> None:
        """Append one snapshot (durable when this returns)."""
        self.writer.append(time, self.snapshot_fields(step, state))

    def finish(self) -> None:
        """Complete the dataset: its final name, atomically."""
        self.final_path = self.writer.close()

    def abort(self) -> Path | None:
        """Stop writing and keep the partial file for resuming; return it (None when there is none).

        Called by the run loop when the run ends early; calling it again returns the same path.
        """
        if self.writer is None:
            return None
        if not self._aborted:
            self._aborted = True
            self.partial_path = self.writer.abort()
            if self.partial_path is not None and self.writer.n_records == 0 and not self.keep_empty_partial:
                self.writer.store.remove_partial(Path(self.partial_path))  # nothing to resume; it would block a rerun
                self.partial_path = None
        return self.partial_path
