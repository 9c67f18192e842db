"""Observers for the run loop: the dataset writer and a progress bar.

These are the only parts of ``rd_classic`` that touch files or the terminal; the
loop (:func:`rd_classic.run.run_simulation`) just calls them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import numpy as np

from rdnet.dataset.observer import DatasetObserver

from rd_classic.run import SimulationConfig

__all__ = ["ClassicDatasetObserver", "ProgressObserver", "SteadyStateObserver", "snapshot_variables", "load_resume_point"]


def snapshot_variables(config: SimulationConfig) -> dict[str, Any]:
    """The :class:`rdnet.dataset.VariableSpec` of every variable a classic run writes.

    Per species ``s``: ``s``, ``reaction_s`` and ``diffusion_s`` with dims ``(time, y, x)``
    (``(time, z, y, x)`` on a 3-D grid); a ``step`` series; and ``parameter_<name>`` (dims
    ``(y, x)`` or ``(z, y, x)``) for every field-valued parameter; for an adaptive run, the
    series ``step_size_min``, ``step_size_max`` (of the steps accepted since the previous
    snapshot), ``step_size_next`` (the size the controller tries next) and ``rejected_steps``
    (rejected trial steps so far).
    """
    from rdnet.dataset import VariableSpec

    axes = config.grid.axes
    dims = ("time", *axes)
    dtype = config.dtype
    model = config.model
    variables = {}
    for name, long_name in zip(model.species, model.species_long_names):
        variables[name] = VariableSpec(dims, long_name, "1", dtype)
    for name in model.species:
        variables[f"reaction_{name}"] = VariableSpec(dims, f"reaction term of {name}", "1/time", dtype)
    for name in model.species:
        variables[f"diffusion_{name}"] = VariableSpec(dims, f"diffusion term D laplacian({name}) of {name}",
                                                      "1/time", dtype)  # fmt: skip
    variables["step"] = VariableSpec(("time",), "time step number", "1", "int64")
    if config.adaptive:
        variables["step_size_min"] = VariableSpec(("time",), "smallest step accepted since the previous snapshot",
                                                  "time", "float64")  # fmt: skip
        variables["step_size_max"] = VariableSpec(("time",), "largest step accepted since the previous snapshot",
                                                  "time", "float64")  # fmt: skip
        variables["step_size_next"] = VariableSpec(("time",), "step size the controller tries next", "time", "float64")
        variables["rejected_steps"] = VariableSpec(("time",), "rejected trial steps so far", "1", "int64")
    units = model.parameter_units()
    for name in config.parameter_fields:
        variables[f"parameter_{name}"] = VariableSpec(axes, f"field-valued parameter {name}", units[name], "float64")
    return variables


class ClassicDatasetObserver(DatasetObserver):
    """Stream a classic run's snapshots into an rdnet dataset (:class:`rdnet.dataset.DatasetObserver`).

    Parameters
    ----------
    path
        Final file name (``.nc``, or ``.zarr`` for a zarr store); data goes to ``path.partial``
        until the run completes. None keeps the run in memory (``writer.dataset`` once finished).
        A run stopped before its first snapshot deletes the partial file (nothing to
        resume); one stopped later keeps it for ``--resume``.
    history
        The command line, stored in the ``history`` attribute.
    overwrite
        Replace an existing file.
    resume_from
        A ``.partial`` file to continue (then ``path`` is ignored).
    open_resumed
        Instead of ``path`` or ``resume_from``: a function that opens the writer when the run
        starts (:func:`rd_classic.resume.open_resumed_writer` for a continued run).
    """

    def __init__(self, path: str | os.PathLike | None = None, *, history: str | None = None,
                 overwrite: bool = False, resume_from: str | os.PathLike | None = None,
                 open_resumed: Callable[[], Any] | None = None):  # fmt: skip
        super().__init__()
        self.path = None if path is None else Path(path)
        self.history = history
        self.overwrite = overwrite
        self.resume_from = resume_from
        self.open_resumed = open_resumed
        self._step_sizes: dict[str, Any] = {}

    def open_writer(self, config: SimulationConfig, step: int):

        """Open the writer: the resumed one, a partial file to continue, or a new file (or memory)."""
        from rdnet.dataset import StreamingWriter

        if self.open_resumed is not None:
            return self.open_resumed()
        if self.resume_from is not None:
            return StreamingWriter.resume(self.resume_from)
        coords = {
            axis: (values, {"units": "1", "long_name": f"{axis} position (cell centre, model length units)"})
            for axis, values in zip(config.grid.axes, config.grid.coordinates())
        }
        writer = StreamingWriter(
            self.path, system="classic", model=config.model.name, parameters=config.to_parameters(),
            coords=coords, variables=snapshot_variables(config), time_long_name="model time", history=self.history, overwrite=self.overwrite,
        )  # fmt: skip
        for name, item in config.parameter_fields.items():
            writer.write_fixed(f"parameter_{name}", item.values)
        return writer

    def step_sizes(self, times: np.ndarray, sizes: np.ndarray, rejected: int, dt_next: float) -> None:
        """Keep the step-size series of the snapshot about to be written (an adaptive run's hook)."""
        self._step_sizes = {
            "step_size_min": np.float64(sizes.min() if sizes.size else np.nan),
            "step_size_max": np.float64(sizes.max() if sizes.size else np.nan),
            "step_size_next": np.float64(dt_next),
            "rejected_steps": np.int64(rejected),
        }

    def snapshot_fields(self, step: int, fields: dict[str, np.ndarray]) -> dict[str, np.ndarray]:

        """The fields, the step and (in an adaptive run) the step-size series written at a snapshot."""
        return {**fields, "step": np.int64(step), **self._step_sizes}


#: an adaptive run's bar: model time reached of the duration
_TIME_BAR = "{desc}: {percentage:3.0f}%|{bar}| t = {n:.4g}/{total:.4g} [{elapsed}<{remaining}]"


class ProgressObserver:
    """A tqdm progress bar on stderr with steps per second (hidden when not a terminal)."""

    def __init__(self, *, enabled: bool | None = None) -> None:
        self.enabled = enabled
        self.bar = None

    def start(self, config: SimulationConfig, start_step: int) -> None:
        """Open the progress bar at ``start_step``."""
        from tqdm.auto import tqdm

        disable = (not sys.stderr.isatty()) if self.enabled is None else not self.enabled
        if config.adaptive:  # in model time: the number of steps is not known in advance
            start = config.adaptive_start[0] if config.adaptive_start and start_step else 0.0
            self.bar = tqdm(total=config.end_time, initial=start, unit="time", file=sys.stderr, disable=disable,
                            desc=config.model.name, dynamic_ncols=True, bar_format=_TIME_BAR)  # fmt: skip
            self._last = start
            return
        self.bar = tqdm(total=config.steps, initial=start_step, unit="step", file=sys.stderr,
                        disable=disable, desc=config.model.name, dynamic_ncols=True)  # fmt: skip
        self._last = start_step

    def progress(self, step: int, measured: Any = None) -> None:

        """Advance the bar to ``step``."""
        self.bar.update(step - self._last)
        self._last = step

    def progress_time(self, time: float) -> None:
        """Advance the bar to model time ``time``."""
        self.bar.update(time - self._last)
        self._last = time

    def finish(self) -> None:
        """Close the bar."""
        self.bar.close()

    def abort(self) -> None:
        """Close the bar."""
        if self.bar is not None:
            self.bar.close()


class SteadyStateObserver:
    """Ask the run to stop once it is steady (:class:`rdnet.analysis.SteadyStateDetector`), and say why it stopped.

    Parameters
    ----------
    tolerance, window
        Of the detector: the largest relative rate of change (1/time) that counts as
        steady, over this many consecutive snapshot intervals.
    record
        A :class:`ClassicDatasetObserver` whose file gets the global attribute ``stop_reason``;
        put this observer before it in the list, so the attribute is set before the file
        is completed.
    """

    def __init__(self, tolerance: float, *, window: int = 3, record: ClassicDatasetObserver | None = None) -> None:
        from rdnet.analysis import SteadyStateDetector

        self.detector = SteadyStateDetector(tolerance, window=window)
        self.record = record
        self.step: int | None = None

    @property
    def stop_requested(self) -> bool:
        """Whether the run loop should stop after this snapshot."""
        return self.detector.steady

    def snapshot(self, step: int, time: float, fields: dict[str, np.ndarray]) -> None:
        """Measure the rate of change since the last snapshot; request a stop once steady."""
        species = {name: values for name, values in fields.items() if not name.startswith(("reaction_", "diffusion_"))}
        if self.detector.update(time, species) and self.step is None:
            self.step = step

    @property
    def reason(self) -> str:
        """Why the run stopped: the steady state reached, or its end without one."""
        if self.detector.steady:
            return f"{self.detector.reason}, step {self.step}"
        last = f" (last rate {self.detector.rates[-1]:.3g})" if self.detector.rates else ""
        return f"completed: no steady state within the run (tolerance {self.detector.tolerance:g}){last}"

    def finish(self) -> None:
        """Record the stop reason in the dataset's attributes."""
        if self.record is not None and self.record.writer is not None:
            self.record.writer.set_attrs(stop_reason=self.reason)


def load_resume_point(partial_path: str | os.PathLike) -> tuple[SimulationConfig, tuple[np.ndarray, ...], int]:
    """Read an interrupted run's partial file: its configuration and last durable state.

    Parameters
    ----------
    partial_path
        The ``.partial`` file.

    Returns
    -------
    (SimulationConfig, fields, step)
        The run as it was configured (its model rebuilt from the declaration the file
        stores, parsed with the same checks as a model file), the fields of its last
        complete snapshot (at the run's dtype, so the state is exact) and that
        snapshot's step number; an adaptive run's configuration also holds the
        snapshot's time, next step size and rejected steps (``adaptive_start``).

    Raises
    ------
    ConfigError
        The file holds no complete snapshot, is not a classic run, or its stored
        declaration or parameters are refused.
    DatasetError
        The file is not a readable partial file.
    """
    from rdnet.dataset import PARTIAL_SUFFIX
    from rdnet.errors import ConfigError

    from rd_classic.resume import resume_point

    if not Path(partial_path).name.endswith(PARTIAL_SUFFIX):
        raise ConfigError(f"--resume needs the run's {PARTIAL_SUFFIX} file, got {partial_path}")
    point = resume_point(partial_path)
    return point.config, point.state, point.step
