"""Fault-injection harness: kill, interrupt or starve a real ``rdnet`` run and judge what it left.

Used by ``tests/hardening/test_fault_injection.py`` (a few trials) and by
``benchmarks/fault_trials.py`` (many). A trial starts the console script in a
subprocess, watches its ``.partial`` file with an independent reader (netCDF4,
read-only) to learn which snapshots had been made durable, sends a signal at a
random moment, and then checks the promise of ``docs/dataset.md``:

* either no final file, or a complete one equal to the uninterrupted run;
* the partial file holds every snapshot seen durable before the kill, each equal
  to the same snapshot of the uninterrupted run;
* ``--resume`` from the partial file completes a final file equal, variable by
  variable and bit for bit, to the uninterrupted run (CPU, same seed).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hardening.helpers import child_environment, rdnet_command

#: Seconds between two looks at the partial file.
POLL_SECONDS = 0.005


@dataclass
class TrialResult:
    """What one kill (or interrupt) trial found."""

    delay: float
    durable_seen: int = 0
    partial_records: int | None = None
    final_exists: bool = False
    final_matches: bool | None = None
    prefix_matches: bool | None = None
    resumed: bool = False
    resume_matches: bool | None = None
    resume_message: str = ""
    finished_before_signal: bool = False
    stderr: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def snapshots_lost(self) -> int:
        """Snapshots seen durable before the kill but missing afterwards."""
        if self.final_exists and self.final_matches:
            return 0
        return max(0, self.durable_seen - (self.partial_records or 0))

    @property
    def ok(self) -> bool:
        return not self.problems


def durable_records(partial: Path) -> int | None:
    """Leading complete snapshots of a partial file or zarr store, read independently (None if unreadable)."""
    try:
        if partial.is_dir():  # a zarr store: its flag array, read with zarr itself
            import zarr

            flags = np.asarray(zarr.open_array(partial / "snapshot_complete", mode="r")[:])
        else:
            import netCDF4

            with netCDF4.Dataset(partial, "r") as nc:
                flags = np.ma.filled(nc.variables["snapshot_complete"][:], 0)
    except Exception:  # being created or mid-write: not readable yet
        return None
    incomplete = np.flatnonzero(np.asarray(flags) != 1)
    return int(incomplete[0]) if incomplete.size else int(flags.size)


def load_data(path: Path) -> dict[str, np.ndarray]:
    """Every data variable and the time coordinate of a dataset, loaded, via rdnet's reader."""
    from rdnet.dataset import open_dataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = open_dataset(path)
    try:
        data = {name: np.asarray(ds[name].values) for name in ds.data_vars}
        if "time" in ds.coords:
            data["time"] = np.asarray(ds["time"].values)
    finally:
        ds.close()
    return data


def same_data(left: dict[str, np.ndarray], right: dict[str, np.ndarray], *, records: int | None = None) -> list[str]:
    """Names of the variables that differ (bit for bit, NaN equal to NaN).

    With ``records``, compare only the first ``records`` snapshots of the variables
    that have a time dimension (those whose first axis is as long as ``time``).
    """
    differences = []
    if set(left) != set(right):
        differences.append(f"variables {sorted(set(left) ^ set(right))} in only one file")
    n_time = len(right.get("time", ()))
    for name in sorted(set(left) & set(right)):
        a, b = left[name], right[name]
        if records is not None and b.ndim and b.shape[0] == n_time:
            b = b[:records]
            if a.ndim and a.shape[0] == len(left.get("time", ())):
                a = a[:records]
        elif records is not None:
            continue  # fixed (non-snapshot) series of an interrupted run may be partly written
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f"):
            differences.append(name)
    return differences


def run_to_completion(arguments: list[str], *, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``rdnet ARGUMENTS`` and wait."""
    return subprocess.run(
        [*rdnet_command(), *arguments], cwd=cwd, env=child_environment(), capture_output=True, text=True,
        timeout=timeout,
    )  # fmt: skip


def signal_trial(
    arguments: list[str],
    out: Path,
    reference: dict[str, np.ndarray],
    *,
    delay: float,
    resume_command: list[str],
    send: int = signal.SIGKILL,
    after: str | int = "first-snapshot",
    cwd: Path,
    resume: bool = True,
    timeout: float = 600,
) -> TrialResult:
    """Start a run, send ``send`` at a chosen moment, check what it left, resume it.

    Parameters
    ----------
    arguments
        The command line after ``rdnet`` (it must write ``out``).
    out
        The final output file of the run.
    reference
        :func:`load_data` of the same run, uninterrupted.
    delay
        Seconds after ``after`` before the signal.
    resume_command
        ``rdnet`` arguments before the partial path to resume (``["simulate", "--resume"]``).
    send
        The signal (SIGKILL, SIGINT, ...).
    after
        ``"partial"``: count ``delay`` from the moment the partial file appears (the
        run may still be compiling); ``"first-snapshot"``: from the first durable
        snapshot; an integer ``k``: from the moment ``k`` snapshots are durable (so
        the kill lands while the run writes, however fast the machine is).
    cwd
        Working folder of the run.
    resume
        Whether to resume from the partial file and compare the result.
    """
    partial = out.with_name(out.name + ".partial")
    result = TrialResult(delay=delay)
    process = subprocess.Popen(
        [*rdnet_command(), *arguments], cwd=cwd, env=child_environment(), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    appeared = None
    while process.poll() is None and time.monotonic() < deadline:
        now = time.monotonic()
        if partial.exists():
            seen = durable_records(partial)
            if seen is not None:
                result.durable_seen = max(result.durable_seen, seen)
            threshold = after if isinstance(after, int) else 1
            if appeared is None and (after == "partial" or result.durable_seen >= threshold):
                appeared = now
            if appeared is not None and now - appeared >= delay:
                break
        time.sleep(POLL_SECONDS)
    if process.poll() is None:
        process.send_signal(send)
    else:
        result.finished_before_signal = True
    try:
        _, result.stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        _, result.stderr = process.communicate()
        result.problems.append("the run did not stop after the signal")
    if "Traceback" in result.stderr:
        result.problems.append("a traceback was printed")

    result.final_exists = out.exists()
    if result.final_exists:
        try:
            differences = same_data(load_data(out), reference)
        except Exception as error:  # an unreadable final file is exactly what must never happen
            differences = [f"unreadable final file: {error}"]
        result.final_matches = not differences
        if differences:
            result.problems.append(f"final file differs from the uninterrupted run: {differences}")
    if partial.exists() and not result.final_exists:
        try:
            data = load_data(partial)
            result.partial_records = len(data.get("time", ()))
            differences = same_data(data, reference, records=result.partial_records)
        except Exception as error:
            result.partial_records = 0
            differences = [] if result.durable_seen == 0 else [f"unreadable partial file: {error}"]
        result.prefix_matches = not differences
        if differences:
            result.problems.append(f"partial snapshots differ from the uninterrupted run: {differences}")
        if result.snapshots_lost:
            result.problems.append(
                f"{result.snapshots_lost} snapshot(s) seen durable before the kill are missing from the partial file"
            )
        if resume:
            _resume_and_compare(result, partial, out, reference, resume_command, cwd, timeout)
    elif not result.final_exists and result.durable_seen:
        result.problems.append("snapshots were durable but neither a partial nor a final file is left")
    return result


def _resume_and_compare(result, partial, out, reference, resume_command, cwd, timeout) -> None:
    completed = run_to_completion([*resume_command, str(partial), "--quiet"], cwd=cwd, timeout=timeout)
    result.resumed = True
    result.resume_message = completed.stderr.strip()
    if "Traceback" in completed.stderr:
        result.problems.append(f"resume printed a traceback: {completed.stderr[-800:]}")
    if completed.returncode != 0:
        if result.partial_records:  # snapshots were there to resume from
            result.problems.append(f"resume failed (exit {completed.returncode}): {completed.stderr.strip()[-400:]}")
        return
    if not out.exists():
        result.problems.append("resume exited 0 but wrote no final file")
        return
    differences = same_data(load_data(out), reference)
    result.resume_matches = not differences
    if differences:
        result.problems.append(f"resumed run differs from the uninterrupted run in {differences}")
    if partial.exists():
        result.problems.append("resume left the partial file behind")


def file_size_limit(limit_bytes: int):
    """A ``preexec_fn`` that caps the files a child writes (a full disk, simulated).

    SIGXFSZ is ignored so that a write beyond the limit fails with EFBIG instead
    of killing the child.
    """

    def apply() -> None:
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return apply


def kill_process_group(process: subprocess.Popen) -> None:
    """Kill a child started with ``start_new_session`` and everything it started."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
