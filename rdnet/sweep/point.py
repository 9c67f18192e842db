"""One sweep point, run on a worker: the engine's call, publication exactly once, and its metrics.

Fault model
-----------
Every attempt of a point writes to its own hidden temporary name in the sweep folder and
the finished file is *linked* to ``DIR/<point>.nc`` (``os.link`` fails when the name
exists), so a point is published exactly once even when a killed worker's task is re-run.
With a zarr store, the attempt's file is written into the point's region of the store,
whose completion flag is set last (:mod:`rdnet.dataset.sweep_store`). A point whose final
file exists and opens as a valid rdnet dataset (or whose region is flagged complete) is
skipped; a failed point records its error and the sweep goes on. Every start, publication,
failure and skip is an event of the sweep's journal (:mod:`rdnet.sweep.journal`).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

from rdnet.errors import RunError
from rdnet.sweep.engines import engine
from rdnet.sweep.journal import error_line, record_event
from rdnet.sweep.metrics import with_metrics
from rdnet.sweep.plan import PointTask

__all__ = ["run_point", "is_complete", "ATTEMPT_MARK"]

#: part of the hidden temporary name of an attempt's file
ATTEMPT_MARK = ".attempt-"


def is_complete(path: Path) -> bool:
    """Whether ``path`` is a finished rdnet dataset with at least one snapshot."""
    if not path.is_file():
        return False
    from rdnet.dataset import open_dataset

    try:
        with open_dataset(path) as dataset:
            return dataset.sizes.get("time", 0) > 0
    except Exception:  # noqa: BLE001 - any unreadable file counts as not done
        return False


def _remove_attempt_files(temp: Path) -> None:
    """Delete an attempt's file and what its engine left beside it (partial file, training checkpoint)."""
    for leftover in temp.parent.glob(glob.escape(temp.name) + "*"):
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()


def _without_attempt_files(message: str, temp: Path) -> str:
    """An engine's error without the parenthesis that points at the attempt's files (removed with it)."""
    return re.sub(rf" \([^()]*{re.escape(str(temp))}[^()]*\)", "", message)


def _publish(temp: Path, final: Path) -> bool:
    """Give the finished file its final name unless another attempt already did; True if we did."""
    try:
        os.link(temp, final)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: rename (atomic, last attempt wins)
        if final.exists():
            return False
        os.replace(temp, final)
        return True
    temp.unlink()
    return True


def run_point(task: PointTask) -> dict[str, Any]:
    """Run one sweep point on this process and return its status and metrics.

    Skips the run when the point's final file is already complete. A failing run
    (bad parameter, NaN blow-up) is caught and reported as ``status="failed"``; errors of
    the sweep's own machinery (disk full while publishing) propagate so that Dask retries.

    Parameters
    ----------
    task : PointTask

    Returns
    -------
    dict
        ``name``, ``index``, ``status`` (``ok`` / ``failed``), ``error``, ``wall_time``
        (seconds of the engine's run, None when skipped), ``task_time`` (seconds of this whole
        call, analysis included), ``skipped``, ``model`` and the metrics of
        :func:`rdnet.sweep.metrics.analyse_point` (NaN when failed).
    """
    entered = time.perf_counter()
    result = _run_point(task)
    result["task_time"] = time.perf_counter() - entered
    return result


def _run_point(task: PointTask) -> dict[str, Any]:
    final = task.final_path
    result: dict[str, Any] = {"name": task.name, "index": task.index, "skipped": False, "error": ""}
    if task.store:
        done = _point_in_store(task)
        if done is not None:
            record_event(task.journal_path, "skipped", task.name)
            result.update(status="ok", skipped=True, wall_time=None)
            return with_metrics(result, done)
    elif is_complete(final):
        record_event(task.journal_path, "skipped", task.name)
        result.update(status="ok", skipped=True, wall_time=None)
        return with_metrics(result, final)
    token = uuid.uuid4().hex[:12]
    temp = final.with_name(f".{task.name}{ATTEMPT_MARK}{token}.nc")
    record_event(task.journal_path, "start", task.name, attempt=token)
    started = time.perf_counter()
    try:
        engine(task.command).run(**task.options, out=str(temp), quiet=True, history=_history(task))
        if not temp.is_file():
            raise RunError(f"{task.command} finished without writing the point's file")
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a failing point is data, not a crash
        wall_time = time.perf_counter() - started
        _remove_attempt_files(temp)
        message = error_line(error, _without_attempt_files(str(error), temp))
        record_event(task.journal_path, "failed", task.name, attempt=token, wall_time=wall_time, error=message)
        result.update(status="failed", error=message, wall_time=wall_time)
        return with_metrics(result, None)
    wall_time = time.perf_counter() - started
    if task.store:
        return _write_region(task, temp, result, token, wall_time)
    if _publish(temp, final):
        record_event(task.journal_path, "written", task.name, attempt=token, wall_time=wall_time)
    else:
        _remove_attempt_files(temp)
        record_event(task.journal_path, "skipped", task.name, attempt=token)
        result["skipped"] = True
    result.update(status="ok", wall_time=wall_time)
    return with_metrics(result, final)


def _point_in_store(task: PointTask):
    """The point's run as held in the sweep's zarr store, or None when its region is not written."""
    from rdnet.dataset import PARTIAL_SUFFIX
    from rdnet.dataset.sweep_store import completed_points

    store = Path(task.store)
    published = store.with_name(store.name[: -len(PARTIAL_SUFFIX)])
    for candidate in (store, published):
        flags = completed_points(candidate)
        if flags is not None and flags[task.index]:
            import xarray as xr

            ds = xr.open_zarr(candidate, consolidated=False, decode_times=False)
            axes = [axis for axis, _, _ in task.store_axes]
            point = ds.isel(dict(zip(axes, task.index))).drop_vars(["point_complete", *axes])
            point.attrs = {"system": engine(task.command).system}  # for MAIN_FIELD
            return point
    return None


def _write_region(task: PointTask, temp: Path, result: dict[str, Any], token: str, wall_time: float) -> dict[str, Any]:
    """Write a finished point's run (its temporary file) into its region of the sweep's store."""
    import numpy as np

    from rdnet.dataset import DatasetError, open_dataset
    from rdnet.dataset import sweep_store

    result = with_metrics(result, temp)
    axes = {dim: (np.asarray(values), attrs) for dim, values, attrs in task.store_axes}
    try:
        with open_dataset(temp) as point:
            point = point.load()
        sweep_store.create(task.store, point, axes, {"system": "sweep", "sweep_dims": " ".join(axes)})
        sweep_store.write_point(task.store, task.index, point)
    except DatasetError as error:  # a point of another layout: this point fails, the sweep goes on
        message = error_line(error)
        record_event(task.journal_path, "failed", task.name, attempt=token, wall_time=wall_time, error=message)
        result.update(status="failed", error=message, wall_time=wall_time)
        return result
    finally:
        _remove_attempt_files(temp)
    record_event(task.journal_path, "written", task.name, attempt=token, wall_time=wall_time)
    result.update(status="ok", wall_time=wall_time)
    return result




def _history(task: PointTask) -> str:
    """The ``history`` of a point's file: which sweep ran it, and as which point."""
    return f"rdnet.sweep {task.command} point {task.name} of the sweep in {task.directory}"
