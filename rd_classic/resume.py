"""Continuing a run from its file: an interrupted one from its last durable snapshot, and a finished
or interrupted one to a later end.

A run's file holds everything that defines it (``parameters``, the model's declaration) and
its snapshots at the run's dtype, so the last snapshot is the exact state to continue from.
:func:`resume_point` reads it and sets the run's end (``steps`` or ``time``); the continued
run then equals, bit for bit on the CPU, a run asked for that end from the start with the
same snapshot spacing:

- a snapshot at the old end that is not on the snapshot grid (the last step of a run whose
  length is not a multiple of ``snapshot_every``) is left out of the continued file, as the
  longer run would not have taken it; the run continues from its state;
- ``time`` with a resumed run keeps the run's ``dt``: the end must be a whole number of steps;
- an adaptive run (``rk23``, ``rk45``) has no fixed steps: its later end is a ``time`` that keeps
  the snapshots' spacing (a whole number of snapshot intervals), and it continues from the
  controller's state at its last snapshot (time, next step size, rejected steps).

:func:`open_resumed_writer` opens the writer: the partial file itself for an interrupted run,
or a new ``FILE.partial`` holding the kept snapshots for a finished ``FILE`` (which stays as
it is until the continued run completes and replaces it).
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rdnet.errors import ConfigError, DatasetError

from rd_classic.run import SimulationConfig

__all__ = ["ResumePoint", "resume_point", "open_resumed_writer", "recent_snapshots"]


@dataclass(frozen=True)
class ResumePoint:
    """Where a resumed run starts.

    Attributes
    ----------
    source : pathlib.Path
        The file read: a finished file or store, or a ``.partial`` one.
    config : SimulationConfig
        The run as stored, with its end set (``steps``).
    state : tuple of numpy.ndarray
        The fields of the snapshot to continue from, at the run's dtype.
    step : int
        That snapshot's step.
    records : int
        Snapshots the continued file keeps (those up to ``step``, less an off-grid last one).
    partial : bool
        Whether ``source`` is an interrupted run's partial file.
    stored_end : float
        The run's end time as stored in the file.
    steady_tolerance : float or None
        The run's ``stop_when_steady`` tolerance, if it was given one.
    """

    source: Path
    config: SimulationConfig
    state: tuple[np.ndarray, ...]
    step: int
    records: int
    partial: bool
    stored_end: float
    steady_tolerance: float | None = None

    @property
    def rewrites_file(self) -> bool:
        """Whether the continued run needs a new partial file (a finished source, or a changed end)."""
        return not self.partial or self.config.end_time != self.stored_end


def resume_point(source: str | os.PathLike, *, steps: int | None = None, time: float | None = None) -> ResumePoint:
    """Read a run's file and set where its continuation ends.

    Parameters
    ----------
    source
        An interrupted run's ``.partial`` file (or store), or a finished one.
    steps, time
        The new end: a number of steps, or a model time (a whole number of the run's
        steps ``dt``). Default: the stored end (an interrupted run completes as asked).

    Returns
    -------
    ResumePoint

    Raises
    ------
    ConfigError
        The file holds no complete snapshot, the end is before the last snapshot, a
        finished run is given no later end, or ``time`` is not a whole number of steps.
    DatasetError
        The file is unreadable or not a classic run.
    """
    import json

    from rdnet.dataset import PARTIAL_SUFFIX, open_dataset

    source = Path(source).expanduser()
    partial = source.name.endswith(PARTIAL_SUFFIX)
    if not source.exists():
        raise ConfigError(f"{'partial file' if partial else 'file'} not found: {source}")
    if steps is not None and time is not None:
        raise ConfigError("give --steps or --time for the new end, not both")
    with open_dataset(source) as ds:
        if ds.attrs.get("system") != "classic":
            raise DatasetError(f"{source} is not a classic run (system={ds.attrs.get('system')!r})")
        records = ds.sizes.get("time", 0)
        if records == 0:
            raise ConfigError(f"{source} holds no complete snapshot; start the run again")
        try:
            parameters = json.loads(ds.attrs["parameters"])
        except (KeyError, TypeError, ValueError):
            raise DatasetError(f"{source} has no readable 'parameters' attribute") from None
        if not isinstance(parameters, dict):
            raise DatasetError(f"{source}: the 'parameters' attribute is not a JSON object")
        stored = {str(name)[len("parameter_"):]: ds[name].values for name in ds.data_vars
                  if str(name).startswith("parameter_")}  # fmt: skip
        config = SimulationConfig.from_parameters(parameters, stored_fields=stored)
        missing = [name for name in config.model.species if name not in ds.data_vars]
        if missing:
            raise DatasetError(f"{source} lacks the species {', '.join(missing)} of {config.model.name}")
        dtype = np.dtype(config.dtype)
        last = ds.isel(time=records - 1)
        state = tuple(np.asarray(last[name].values, dtype=dtype) for name in config.model.species)
        step = int(last["step"].values)
        if config.adaptive:  # where the controller was: the state's time, the next step size, the rejections so far
            clock = (float(last["time"].values), float(last["step_size_next"].values), int(last["rejected_steps"].values))
    tolerance = parameters.get("stop_when_steady")
    tolerance = float(tolerance) if isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance > 0 else None
    if config.adaptive:
        resumed = _adaptive_end(config, clock, steps, time, source, partial)
        return ResumePoint(source=source, config=resumed, state=state, step=step, records=records, partial=partial,
                           stored_end=config.end_time, steady_tolerance=tolerance)  # fmt: skip
    end = _new_end(config, steps, time)
    if end is None:
        if not partial:
            raise ConfigError(f"{source} is a finished run (its last snapshot: step {step}, t = {step * config.dt:g}); "
                              f"give --steps or --time for a later end to continue it")  # fmt: skip
        end = config.steps
    if end < step or (end == step and not partial):
        raise ConfigError(f"the new end (step {end}, t = {end * config.dt:g}) must come after the last snapshot "
                          f"of {source.name} (step {step}, t = {step * config.dt:g})")  # fmt: skip
    if end > step and step % config.snapshot_every != 0:
        records -= 1  # an off-grid final snapshot: the longer run does not take it
    return ResumePoint(source=source, config=dataclasses.replace(config, steps=end), state=state, step=step,
                       records=records, partial=partial, stored_end=config.end_time,
                       steady_tolerance=tolerance)  # fmt: skip


def _new_end(config: SimulationConfig, steps: int | None, time: float | None) -> int | None:
    if steps is not None:
        if int(steps) != steps or steps < 1:
            raise ConfigError(f"--steps must be a positive integer, got {steps}")
        return int(steps)
    if time is None:
        return None
    count = float(time) / config.dt
    whole = round(count)
    if not (math.isfinite(count) and whole >= 1 and abs(count - whole) <= 1e-9 * max(1.0, count)):
        raise ConfigError(f"--time {time:g} is not a whole number of the run's steps (dt = {config.dt:.17g}); "
                          f"a resumed run keeps its dt: give --steps, or --time {whole * config.dt:.17g}")  # fmt: skip
    return whole


def _adaptive_end(config: SimulationConfig, clock: tuple[float, float, int], steps: int | None, time: float | None,
                  source: Path, partial: bool) -> SimulationConfig:  # fmt: skip
    """An adaptive run's configuration to continue from ``clock`` to its new end ``time`` (the stored one by default)."""
    from rd_classic.run import snapshot_times

    if steps is not None:
        raise ConfigError(f"{source.name} is an adaptive run ({config.integrator}): it chooses its own steps; give "
                          f"--time for a later end, not --steps")  # fmt: skip
    now = clock[0]
    if time is None:
        if not partial:
            raise ConfigError(f"{source.name} is a finished run (t = {config.end_time:g}); give --time for a later "
                              f"end to continue it")  # fmt: skip
        return dataclasses.replace(config, adaptive_start=clock)
    interval = config.duration / config.snapshot_count
    count = float(time) / interval
    whole = round(count)
    if not (math.isfinite(count) and abs(count - whole) <= 1e-9 * max(1.0, count)):
        raise ConfigError(f"--time {time:g} is not a whole number of the run's snapshot intervals ({interval:.17g}); "
                          f"a resumed adaptive run keeps its snapshot times: give --time {whole * interval:.17g}")  # fmt: skip
    resumed = dataclasses.replace(config, duration=float(time), snapshot_count=whole, adaptive_start=clock)
    if float(time) <= now:
        raise ConfigError(f"the new end (t = {time:g}) must come after the last snapshot of {source.name} "
                          f"(t = {now:g})")  # fmt: skip
    if snapshot_times(resumed)[: config.snapshot_count + 1] != snapshot_times(config):
        raise ConfigError(f"--time {time:g} would move the snapshot times of {source.name} in the last digit; "
                          f"give --time as a multiple of the interval {interval:.17g} that keeps them")  # fmt: skip
    return resumed


def open_resumed_writer(point: ResumePoint, *, history: str | None = None):
    """The writer of a resumed run: its next append writes the snapshot after ``point.records``.

    Parameters
    ----------
    point : ResumePoint
    history : str, optional
        The resuming command (appended to ``history`` of a rewritten file; else stored as
        ``resumed_by``).

    Returns
    -------
    rdnet.dataset.StreamingWriter
    """
    from rdnet.dataset import StreamingWriter

    parameters = point.config.to_parameters()
    if not point.rewrites_file:
        writer = StreamingWriter.resume(point.source, records=point.records)
        if history:
            writer.set_attrs(resumed_by=history)
        return writer
    if point.partial:
        writer = StreamingWriter.resume(point.source, records=point.records)
        writer.set_attrs(parameters=parameters, **({"resumed_by": history} if history else {}))
        return writer
    return StreamingWriter.continue_from(point.source, records=point.records, history=history,
                                         attrs={"parameters": parameters, "stop_reason": None})  # fmt: skip


def recent_snapshots(point: ResumePoint, count: int) -> list[tuple[int, float, dict[str, np.ndarray]]]:
    """The last ``count`` snapshots the continued run keeps: ``(step, time, species fields)``, oldest first.

    What a steady-state check of the continued run has to have seen (its window of rates) to
    decide as the uninterrupted run would.
    """
    from rdnet.dataset import open_dataset

    species = point.config.model.species
    first = max(0, point.records - int(count))
    with open_dataset(point.source) as ds:
        times = np.asarray(ds["time"].values[first : point.records], dtype=np.float64)
        steps = np.asarray(ds["step"].values[first : point.records])
        fields = {name: np.asarray(ds[name].values[first : point.records]) for name in species}
    return [(int(steps[i]), float(times[i]), {name: fields[name][i] for name in species}) for i in range(len(times))]
