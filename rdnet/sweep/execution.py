"""Running a sweep on dask.distributed: the cluster, the points as futures, Ctrl-C, the summary.

:func:`run_sweep` is the one call (the engine, the axes, the fixed options, a folder: the
summary dataset back); :func:`execute_plan` runs a plan made by
:func:`rdnet.sweep.plan.plan_sweep` and reports every point. Points run on a local
cluster of worker processes on 127.0.0.1 (:func:`dask_client`) or on a running scheduler;
a failed point is recorded and the sweep goes on, and running the same sweep again skips
finished points and redoes failed or missing ones.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdnet.errors import ConfigError, RunError
from rdnet.sweep.axes import ParameterAxis
from rdnet.sweep.journal import check_manifest, error_line, write_manifest
from rdnet.sweep.metrics import with_metrics
from rdnet.sweep.plan import PointTask, SweepPlan, plan_sweep
from rdnet.sweep.point import ATTEMPT_MARK, run_point
from rdnet.sweep.summary import SUMMARY_NAME, build_summary, summary_parameters

__all__ = ["run_sweep", "execute_plan", "SweepOutcome", "dask_client", "LOCAL_WORKER_CONFIG", "LOCAL_NANNY_CONFIG"]

#: Dask settings of rdnet's own LocalCluster (not of a cluster given by ``--scheduler``).
#: Both defaults cost a CPU-bound point time measured by ``benchmarks/bench_sweep.py``:
#: the statistical profiler samples the worker thread every 10 ms and so contends for the
#: GIL (+7 % on a Gray-Scott point), and ``MALLOC_TRIM_THRESHOLD_=65536`` makes glibc give
#: memory back after every large free, doubling the time of the allocation-heavy analysis.
#: The first is handed to each worker (also one the nanny restarts); the second is read by
#: the nannies when they are created.
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
LOCAL_NANNY_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}


@dataclass
class SweepOutcome:
    """What a finished sweep did.

    Parameters
    ----------
    summary_path : Path
    results : list of dict
        One per point, as returned by :func:`run_point`.
    wall_time : float
        Seconds for the whole sweep, cluster start-up included.
    summary : xarray.Dataset
        The summary written to ``summary_path`` (:func:`rdnet.sweep.summary.build_summary`).
    """

    summary_path: Path
    results: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0
    summary: Any = None

    def count(self, status: str) -> int:
        """Number of points with this status (``ok`` or ``failed``)."""
        return sum(result["status"] == status for result in self.results)

    @property
    def skipped(self) -> int:
        """Points whose dataset already existed."""
        return sum(bool(result["skipped"]) for result in self.results)


def _prepare_directory(plan: SweepPlan) -> None:
    parent = plan.directory.parent
    if not parent.is_dir():
        raise ConfigError(f"sweep folder {plan.directory}: its parent {parent} does not exist")
    if plan.directory.exists() and not plan.directory.is_dir():
        raise ConfigError(f"sweep folder {plan.directory} is a file; give a folder")
    check_manifest(plan.directory, plan.command, plan.fixed)
    if not os.access(plan.directory if plan.directory.exists() else parent, os.W_OK):
        raise ConfigError(f"sweep folder {plan.directory} is not writable")
    plan.directory.mkdir(exist_ok=True)
    write_manifest(plan.directory, plan.command, plan.fixed)


@contextlib.contextmanager
def dask_client(
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    threads_per_point: int | None = None,
    echo: Callable[[str], None] = print,
) -> Iterator[Any]:
    """A dask.distributed client: on an existing scheduler, or on a new loopback LocalCluster.

    Parameters
    ----------
    workers : int, optional
        Worker processes of the local cluster (default: all cores), one thread each;
        the cores are shared out among workers for the numerics' own threads.
    scheduler : str, optional
        Address of a running scheduler (``tcp://host:8786``); ``workers`` is then ignored.
    threads_per_point : int, optional
        Threads the numerics of one point may use (OpenMP, MKL, numba, torch) on a local
        cluster [default: cores // workers, at least 1].
    echo : callable
        Where to print the dashboard address.

    Yields
    ------
    distributed.Client
        Closed, with its cluster, on exit (also on Ctrl-C).
    """
    import dask
    from dask.distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as error:  # ValueError: not an address ('', 'tcp://host')
            raise ConfigError(f"Dask scheduler {scheduler!r}: cannot connect ({error_line(error)})") from None
        with client:
            _echo_dashboard(client, echo)
            yield client
        return
    cores = os.cpu_count() or 1
    n_workers = workers or cores
    threads_each = str(threads_per_point or max(1, cores // n_workers))
    environment = {
        name: threads_each
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
    }
    # the scheduler's HTTP server (dashboard when bokeh is installed, /health otherwise):
    # loopback only, on a free port so that several sweeps can run side by side
    dashboard = "127.0.0.1:0"
    # Ctrl-C in a terminal signals the whole process group: the worker processes inherit
    # "ignore SIGINT" so that only this process reacts, cancels the points and shuts the
    # cluster down in order (a worker dying on its own would be retried first)
    with _workers_ignore_ctrl_c(), dask.config.set(LOCAL_NANNY_CONFIG):
        cluster = LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=dashboard,
            silence_logs=logging.ERROR,
            env=environment,
            config=LOCAL_WORKER_CONFIG,
        )
    try:
        with Client(cluster) as client:
            _echo_dashboard(client, echo)
            yield client
    finally:
        cluster.close()


@contextlib.contextmanager
def _workers_ignore_ctrl_c() -> Iterator[None]:
    """Ignore SIGINT while child processes are started (they inherit it), then restore."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _have_bokeh() -> bool:
    import importlib.util

    return importlib.util.find_spec("bokeh") is not None


def _echo_dashboard(client: Any, echo: Callable[[str], None]) -> None:
    link = None
    with contextlib.suppress(Exception):
        if _have_bokeh() and client.scheduler_info().get("services", {}).get("dashboard"):
            link = client.dashboard_link
    if link:
        echo(f"dask dashboard: {link}")


def _check_execution_options(*, workers, scheduler, threads_per_point, progress) -> None:
    """Refuse, before any folder or worker exists, a count that is not a positive integer (``workers=0``
    was taken as "all cores"), a scheduler that is not an address, a progress that is not True or False."""
    for name, value in (("workers", workers), ("threads_per_point", threads_per_point)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1):
            raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    if scheduler is not None and not isinstance(scheduler, str):
        raise ConfigError(f"scheduler must be an address like 'tcp://host:8786', got {scheduler!r}")
    if not isinstance(progress, bool):
        raise ConfigError(f"progress must be True or False, got {progress!r}")


def execute_plan(
    plan: SweepPlan,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: bool = True,
    history: str | None = None,
    threads_per_point: int | None = None,
    echo: Callable[[str], None] = print,
    client: Any = None,
) -> SweepOutcome:
    """Run every point of a plan on Dask and write ``DIR/summary.nc``; what :func:`run_sweep` does with a plan.

    Parameters
    ----------
    plan : SweepPlan
        From :func:`rdnet.sweep.plan.plan_sweep`.
    workers, scheduler, threads_per_point : optional
        See :func:`dask_client`.
    progress : bool
        Show a progress bar over points (on stderr).
    history : str, optional
        The command line, stored in the summary's ``history``.
    echo : callable
        Where status lines go.
    client : distributed.Client, optional
        Use this client instead of making one (the caller keeps ownership).

    Returns
    -------
    SweepOutcome

    Raises
    ------
    ConfigError
        The folder cannot be used, or the scheduler cannot be reached.
    RunError
        Interrupted (Ctrl-C): unfinished points are cancelled, the cluster is shut down,
        finished points are kept for the next run.
    """
    _check_execution_options(workers=workers, scheduler=scheduler, threads_per_point=threads_per_point,
                             progress=progress)  # fmt: skip
    _prepare_directory(plan)
    started = time.perf_counter()
    if plan.format == "zarr":
        existing = _reopen_store(plan)
    else:
        existing = sum(task.final_path.exists() for task in plan.tasks)
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(
                dask_client(workers=workers, scheduler=scheduler, threads_per_point=threads_per_point, echo=echo)
            )
        n_workers = len(client.scheduler_info().get("workers", {}))
        echo(
            f"sweep: {len(plan.tasks)} points of {plan.command} "
            f"({existing} already written) on {n_workers} Dask workers -> {plan.directory}"
        )
        results = _gather(client, plan, progress)
    _remove_stale_attempts(plan.directory)
    summary = build_summary(plan, results)
    outcome = SweepOutcome(plan.directory / SUMMARY_NAME, results, time.perf_counter() - started, summary)
    from rdnet.dataset import write_dataset

    if plan.format == "zarr":
        _publish_store(plan, summary, history)
    write_dataset(
        summary,
        outcome.summary_path,
        system="sweep",
        model=summary.attrs.get("model", plan.model),
        parameters=summary_parameters(plan),
        history=history,
        overwrite=True,
    )
    return outcome


def _gather(client: Any, plan: SweepPlan, progress: bool) -> list[dict[str, Any]]:
    from dask.distributed import as_completed
    from tqdm.auto import tqdm

    run_id = uuid.uuid4().hex[:8]
    futures = [
        client.submit(run_point, task, key=f"rdnet-sweep-{run_id}-{task.name}", pure=False, retries=2)
        for task in plan.tasks
    ]
    task_of = {future.key: task for future, task in zip(futures, plan.tasks)}
    results: list[dict[str, Any]] = []
    failed = 0
    bar = tqdm(
        total=len(futures),
        unit="point",
        desc="sweep",
        file=sys.stderr,
        disable=not progress or None,
        dynamic_ncols=True,
    )
    pending = as_completed(futures)
    try:
        with _ctrl_c_sets_flag() as interrupted:
            while not pending.is_empty():
                if interrupted.is_set():
                    _cancel(client, futures)
                    finished = sum(task.final_path.exists() for task in plan.tasks)
                    raise RunError(
                        f"sweep interrupted: {finished} of {len(futures)} points have their dataset; "
                        "run the same sweep again to continue"
                    )
                batch = pending.next_batch(block=False)
                if not batch:
                    interrupted.wait(0.05)
                    continue
                for future in batch:
                    result = _result_of(future, task_of[future.key])
                    failed += result["status"] != "ok"
                    results.append(result)
                    bar.update(1)
                    bar.set_postfix(failed=failed, refresh=False)
    finally:
        bar.close()
    return results


def _result_of(future: Any, task: PointTask) -> dict[str, Any]:
    """A point's result, or a failed record when its task itself failed (killed too often)."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 - KilledWorker, or the sweep's own I/O failed
        record = {"name": task.name, "index": task.index, "skipped": False, "status": "failed"}
        record.update(error=f"worker: {error_line(error)}", wall_time=None)
        return with_metrics(record, None)


def _cancel(client: Any, futures: list[Any]) -> None:
    logging.getLogger("distributed").setLevel(logging.CRITICAL)  # workers going away is expected now
    with contextlib.suppress(Exception):
        client.cancel(futures, force=True)


@contextlib.contextmanager
def _ctrl_c_sets_flag() -> Iterator[Any]:
    """Turn Ctrl-C into a flag checked between batches, so no Dask call is cut in half.

    A second Ctrl-C raises KeyboardInterrupt at once.
    """
    import signal
    import threading

    flag = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield flag
        return

    def on_interrupt(signum, frame):
        if flag.is_set():
            raise KeyboardInterrupt
        flag.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield flag
    finally:
        signal.signal(signal.SIGINT, previous)


def _remove_stale_attempts(directory: Path) -> None:
    """Delete temporary files of attempts that died with their worker (and store skeletons they left)."""
    import shutil

    for leftover in [*directory.glob(f".*{ATTEMPT_MARK}*"), *directory.glob(".*.zarr.partial.create-*")]:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()


def _reopen_store(plan: SweepPlan) -> int:
    """Points already in the sweep's store; a published store missing points becomes partial again."""
    from rdnet.dataset.sweep_store import completed_points, unpublish

    final = plan.store_path
    partial = Path(plan.tasks[0].store)
    if final.is_dir() and not partial.exists():
        flags = completed_points(final)
        if flags is not None and flags.all():
            return int(flags.sum())
        unpublish(final)
    flags = completed_points(partial)
    return 0 if flags is None else int(flags.sum())


def _publish_store(plan: SweepPlan, summary, history: str | None) -> None:
    """Give the sweep's store rdnet's attributes and its final name (once every point has been tried)."""
    import zarr

    from rdnet.dataset import standard_attrs
    from rdnet.dataset.sweep_store import publish

    partial = Path(plan.tasks[0].store)
    if not partial.is_dir():
        return
    attrs = standard_attrs(system="sweep", model=summary.attrs.get("model", plan.model),
                           parameters=summary_parameters(plan), history=history)  # fmt: skip
    attrs["sweep_dims"] = " ".join(axis.dim for axis in plan.axes)
    zarr.open_group(partial, mode="r+").attrs.update(attrs)
    publish(partial)


def run_sweep(
    command: str,
    grid: Mapping[str, Sequence[Any]] | Sequence[ParameterAxis],
    fixed: Mapping[str, Any] | None = None,
    *,
    out: str | os.PathLike,
    format: str = "netcdf",
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    threads_per_point: int | None = None,
    progress: bool = True,
    history: str | None = None,
    echo: Callable[[str], None] = print,
):
    """Run an engine over a grid of parameters on Dask, one dataset per point, and return the summary.

    Parameters
    ----------
    command : {"simulate", "train"}
        The engine run at every point: :func:`rd_classic.simulate` or :func:`rdnet.prd.train`.
    grid : mapping of str to sequence, or sequence of ParameterAxis
        The parameter axes (``{"F": np.linspace(0.01, 0.07, 24), "k": [0.05, 0.06]}``): options
        of the engine, or (``simulate``) parameters of the model.
    fixed : mapping, optional
        Options of the engine given to every point (``{"size": 128, "steps": 10000}``).
    out : path
        The sweep folder: one ``<point>.nc`` per point (or ``points.zarr``), ``summary.nc``,
        the journal ``sweep-journal.jsonl`` and the manifest ``sweep.json``.
    format : {"netcdf", "zarr"}
        One NetCDF file per point, or every point in one zarr store ``points.zarr``.
    workers, scheduler, threads_per_point
        See :func:`dask_client`.
    client : distributed.Client, optional
        Use this client instead of making one (the caller keeps ownership).
    progress : bool
        Show a progress bar over points (on stderr).
    history : str, optional
        Stored in the summary's ``history``.
    echo : callable
        Where status lines go.

    Returns
    -------
    xarray.Dataset
        The summary (also written to ``out/summary.nc``): per point the metrics, regime,
        time behaviour, pattern label, status, error, file and wall time, with the swept
        parameters as dims.

    Raises
    ------
    ConfigError
        A bad sweep (see :func:`rdnet.sweep.plan.plan_sweep`), an unusable folder or scheduler.
    RunError
        Interrupted (Ctrl-C): finished points are kept for the next run.

    Examples
    --------
    >>> from rdnet.sweep import run_sweep
    >>> summary = run_sweep("simulate", {"F": [0.02, 0.035], "k": [0.06, 0.065]},
    ...                     {"model": "gray-scott", "size": 64, "steps": 2000}, out="gs-sweep")  # doctest: +SKIP
    >>> summary["regime"]  # doctest: +SKIP
    """
    plan = plan_sweep(command, grid, fixed, out, format=format)
    outcome = execute_plan(plan, workers=workers, scheduler=scheduler, threads_per_point=threads_per_point,
                           progress=progress, history=history, echo=echo, client=client)  # fmt: skip
    return outcome.summary
