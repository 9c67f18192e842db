"""One call that runs a model and returns its dataset: :func:`simulate` (``rdnet simulate`` is built on it).

>>> import rd_classic
>>> ds = rd_classic.simulate(model="gray-scott", size=64, steps=2000, quiet=True)  # doctest: +SKIP
>>> ds.rd.spectrum("v")  # doctest: +SKIP

The options are those of ``rdnet simulate``, keyword-only and named as the command's options
(``--model-file`` is ``model_file``, ``--stop-when-steady`` is ``stop_when_steady``). The run
is kept in memory unless ``out`` names a file (``.nc``) or a zarr store (``.zarr``), which is
then written snapshot by snapshot with the same promises as the command (a partial file
until complete; ``resume`` continues it).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from rdnet.errors import ConfigError, RunError

__all__ = ["simulate", "run", "SimulationResult", "RESUME_OPTIONS"]

#: the options a resumed run takes besides ``resume``: everything else comes from its file
RESUME_OPTIONS = ("steps", "time", "quiet", "stop_when_steady")
#: option name to the keyword of :func:`rd_classic.run.build_config`
_CONFIG_KEYWORDS = {
    "preset": "preset", "size": "size", "steps": "steps", "time": "time", "dt": "dt", "dx": "dx",
    "integrator": "integrator", "rtol": "rtol", "atol": "atol", "boundary": "boundary", "noise": "noise",
    "backend": "backend", "device": "device", "dtype": "dtype",
    "snapshot_every": "snapshot_every", "snapshots": "snapshots", "seed": "seed", "initial": "initial_condition",
    "allow_unstable": "allow_unstable",
}  # fmt: skip


@dataclass
class SimulationResult:
    """What :func:`run` did.

    Attributes
    ----------
    config : rd_classic.run.SimulationConfig
        The run.
    dataset : xarray.Dataset
        In memory, or opened lazily from ``path``.
    path : pathlib.Path or None
        The file written (None in memory).
    stop_reason : str or None
        Why a run with ``stop_when_steady`` stopped.
    stopped_steady : bool
        Whether it stopped at a steady state (before its end).
    dt_lowered_from : float or None
        The ``dt`` asked for, when it was lowered so that the steps end at ``time``.
    """

    config: Any
    dataset: Any
    path: Path | None
    stop_reason: str | None = None
    stopped_steady: bool = False
    dt_lowered_from: float | None = None


def simulate(
    *,
    model: str | None = None,
    model_file: str | os.PathLike | None = None,
    preset: str | None = None,
    param: Mapping[str, float | str] | None = None,
    size: str | int | tuple[int, ...] | None = None,
    steps: int | None = None,
    time: float | None = None,
    dt: float | None = None,
    dx: float | None = None,
    integrator: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    boundary: str | Sequence[str] | Mapping[str, str] | None = None,
    noise: str | Sequence[str] | Mapping[str, str] | None = None,
    device: str | None = None,
    backend: str | None = None,
    dtype: str | None = None,
    snapshot_every: int | None = None,
    snapshots: int | None = None,
    seed: int | None = None,
    initial: str | None = None,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    allow_unstable: bool = False,
    resume: str | os.PathLike | None = None,
    quiet: bool = False,
    stop_when_steady: float | None = None,
):
    """Simulate a reaction-diffusion model and return its dataset.

    Every option is that of ``rdnet simulate`` (see ``rdnet simulate --help`` and
    ``docs/cli.md``); None means the command's default.

    Parameters
    ----------
    model, model_file
        A built-in model (default ``"gray-scott"``) or a model file (``.toml``); not both.
    preset
        A named parameter set (default: the model's).
    param
        Model parameters: name to a number, an expression in ``x, y, z, Lx, Ly, Lz``
        (a field), or ``"@FILE.nc:VAR"``.
    size
        Grid cells: ``256``, ``"512x256"``, ``"512x1"`` (1-D), ``"64x64x64"`` (3-D); text is
        nx × ny (× nz), a tuple the array shape ``(ny, nx)`` or ``(nz, ny, nx)``.
    steps, time
        The run's length in steps, or the model time to reach.
    dt, dx, integrator, device, backend, dtype, snapshot_every, snapshots, seed, initial
        As the command's options (``initial`` is ``--initial``).
    rtol, atol
        Tolerances of an adaptive integrator (``rk23``, ``rk45``).
    boundary
        Boundary conditions: ``"no-flux"``, ``"u=dirichlet 1"``, ``"u.x-=neumann 0.1"``, a list of
        these applied in order (the command's repeated ``--boundary``), or a mapping
        ``{"u": "dirichlet 1"}``; see :func:`rd_classic.run.build_config`.
    noise
        Noise terms: ``"u=0.01"``, a list of these (the command's repeated ``--noise``), or a
        mapping ``{"u": "0.01"}``.
    out
        Write the run to this file (``.nc``) or zarr store (``.zarr``) snapshot by snapshot,
        and return it opened lazily; default: keep it in memory.
    overwrite
        Replace an existing ``out``.
    allow_unstable
        Accept a ``dt`` beyond the explicit stability limit.
    resume
        Continue a run from its file: an interrupted run's ``.partial`` file, or a finished
        file with a later end (``steps`` or ``time``). Every other option is taken from the
        file, and giving one is refused.
    quiet
        No progress bar.
    stop_when_steady
        Stop once the relative rate of change stays at or below this tolerance.

    Returns
    -------
    xarray.Dataset
        The run, in the dataset convention (``docs/dataset.md``).

    Raises
    ------
    ConfigError
        A bad option, or one given with ``resume``.
    RunError
        The run blew up (NaN/Inf) or ran out of memory.
    rd_classic.run.SimulationInterrupted
        Ctrl-C; with ``out``, its partial file keeps the durable snapshots.

    Examples
    --------
    >>> ds = simulate(model="gray-scott", preset="mitosis", size=64, steps=1000, quiet=True)  # doctest: +SKIP
    >>> ds = simulate(model="brusselator", size="64x64x16", time=20, out="cube.zarr")  # doctest: +SKIP
    >>> ds = simulate(resume="cube.zarr", time=40)  # doctest: +SKIP
    >>> ds = simulate(model="schnakenberg", boundary=["no-flux", "u=dirichlet 1"], noise="u=0.01")  # doctest: +SKIP
    """
    options = {key: value for key, value in locals().items() if value is not None and value is not False}
    return run(**options).dataset


def run(*, history: str | None = None, **options: Any) -> SimulationResult:
    """Run :func:`simulate`'s options and report what was done (the command line's call).

    Parameters
    ----------
    history
        The command line, stored in the file's ``history`` attribute.
    **options
        The options of :func:`simulate` that were given (the others take their defaults).

    Returns
    -------
    SimulationResult
    """
    from rd_classic.observers import ClassicDatasetObserver, ProgressObserver, SteadyStateObserver
    from rd_classic.resume import open_resumed_writer, resume_point
    from rd_classic.run import SimulationInterrupted, build_config, run_simulation

    unknown = set(options) - {*_CONFIG_KEYWORDS, "model", "model_file", "param", "out", "overwrite", "resume",
                              "quiet", "stop_when_steady"}  # fmt: skip
    if unknown:
        raise TypeError(f"simulate() got unexpected options: {', '.join(sorted(unknown))}")
    _check_option_types(options)
    tolerance = options.get("stop_when_steady")
    if tolerance is not None and (isinstance(tolerance, bool) or not (
            isinstance(tolerance, (int, float)) and math.isfinite(tolerance) and tolerance > 0)):  # fmt: skip
        raise ConfigError(f"stop_when_steady must be a positive finite number, got {tolerance!r}")
    resume = options.get("resume")
    lowered_from = None
    if resume is not None:
        _refuse_with_resume(options, resume)
        point = resume_point(resume, steps=options.get("steps"), time=options.get("time"))
        if tolerance is None and point.partial:  # an interrupted run completes as it was asked to
            tolerance = point.steady_tolerance
        point = dataclasses.replace(point, config=_with_steady_tolerance(point.config, tolerance))
        config, state, start_step = point.config, point.state, point.step
        writer = ClassicDatasetObserver(open_resumed=lambda: open_resumed_writer(point, history=history))
    else:
        config = build_config(_model(options), parameters=options.get("param"), **{
            _CONFIG_KEYWORDS[key]: _option_value(key, value)
            for key, value in options.items() if key in _CONFIG_KEYWORDS
        })  # fmt: skip
        out = options.get("out")
        if out is not None:
            from rdnet.dataset import check_output_path
            from rdnet.dataset.file_safety import refuse_input_as_output

            refuse_input_as_output(out, _input_files(config, options.get("model_file")))
            check_output_path(out, overwrite=bool(options.get("overwrite")))
        config = _with_steady_tolerance(config, tolerance)
        state, start_step = None, 0
        writer = ClassicDatasetObserver(out, history=history, overwrite=bool(options.get("overwrite")))
        asked = options.get("dt")
        if asked is not None and not config.adaptive and not math.isclose(config.dt, asked, rel_tol=1e-12):
            lowered_from = asked  # time / steps off dt by a rounding error (0.3 / 3) is not a lowered dt
    steady = None if tolerance is None else SteadyStateObserver(tolerance, record=writer)
    if steady is not None and resume is not None:
        from rd_classic.resume import recent_snapshots

        # the check sees the snapshots before the resumed one, as the uninterrupted run's did
        for snapshot in recent_snapshots(point, steady.detector.window + 1):
            steady.snapshot(*snapshot)
    observers = [*([steady] if steady else []), writer, ProgressObserver(enabled=False if options.get("quiet") else None)]
    try:
        run_simulation(config, observers=observers, state=state, start_step=start_step)
    except SimulationInterrupted as interrupt:
        interrupt.partial_path = writer.partial_path  # for the resume command
        raise
    except RunError as error:
        where = f" (partial file kept: {writer.partial_path})" if writer.partial_path else ""
        raise RunError(f"{error}{where}") from None
    except MemoryError:
        raise RunError(_out_of_memory_message(config, writer.partial_path)) from None
    except RuntimeError as error:  # torch on a GPU: torch.cuda.OutOfMemoryError
        if "out of memory" not in str(error).lower():
            raise
        raise RunError(_out_of_memory_message(config, writer.partial_path)) from None
    if writer.final_path is None:
        dataset = writer.writer.dataset
    else:
        from rdnet.dataset import open_dataset

        dataset = open_dataset(writer.final_path)
    return SimulationResult(config=config, dataset=dataset, path=writer.final_path,
                            stop_reason=steady.reason if steady is not None else None,
                            stopped_steady=steady is not None and steady.stop_requested,
                            dt_lowered_from=lowered_from)  # fmt: skip


def _check_option_types(options: Mapping[str, Any]) -> None:
    """Refuse a file option that is not a path, or a switch that is not True or False (``"no"`` is truthy)."""
    for name in ("model_file", "out", "resume"):
        value = options.get(name)
        if value is not None and not isinstance(value, (str, os.PathLike)):
            raise ConfigError(f"{name} must be a path (str or os.PathLike), got {value!r}")
    for name in ("overwrite", "allow_unstable", "quiet"):
        value = options.get(name)
        if value is not None and not isinstance(value, bool):
            raise ConfigError(f"{name} must be True or False, got {value!r}")


def _with_steady_tolerance(config, tolerance: float | None):
    """The configuration with its steady-state tolerance among the stored parameters (a resumed run reuses it)."""
    if tolerance is None:
        return config
    return dataclasses.replace(config, extra={**config.extra, "stop_when_steady": float(tolerance)})


def _refuse_with_resume(options: Mapping[str, Any], resume) -> None:
    """Refuse, in one line, an option that a resumed run takes from its file."""
    for name in options:
        if name != "resume" and name not in RESUME_OPTIONS:
            option = "--" + name.replace("_", "-")
            raise ConfigError(
                f"{option} cannot be given with --resume: the resumed run takes it from {Path(resume).name} "
                f"(with --resume only --steps or --time for a later end, --stop-when-steady and --quiet apply)"
            )


def _model(options: Mapping[str, Any]):
    """The model named by ``model`` or read from ``model_file`` (not both); default Gray-Scott."""
    from rd_classic.models import load_model_file

    model_file = options.get("model_file")
    if model_file is None:
        return options.get("model", "gray-scott")
    if options.get("model") is not None:
        raise ConfigError("give --model or --model-file, not both")
    return load_model_file(model_file)


def _input_files(config, model_file) -> list[str]:
    """The files a run reads: its model file, an ``@FILE`` initial condition, parameter fields' files."""
    from rd_classic.initial import file_specification

    files = [] if model_file is None else [model_file]
    if config.initial_condition.startswith("@"):
        files.append(file_specification(config.initial_condition)[0])
    files.extend(item.file for item in config.parameter_fields.values() if item.file)
    return files


def _option_value(name: str, value):
    """An option as :func:`rd_classic.run.build_config` takes it: a size as text, repeated options as a list."""
    if name == "size" and isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))  # a NumPy integer too
    if name in ("boundary", "noise") and isinstance(value, tuple):
        return list(value) or None
    return value


def _out_of_memory_message(config, partial) -> str:
    """One line for a run whose arrays do not fit in memory."""
    import numpy as np

    gib = config.grid.n_cells * np.dtype(config.dtype).itemsize / 2**30
    where = f"on {config.device} " if config.device != "cpu" else ""
    kept = f"; snapshots kept in {partial}" if partial else "; no file was written"
    return (f"out of memory {where}for a {config.grid.size_text} grid ({gib:.3g} GiB per {config.dtype} field, and a "
            f"run holds about a dozen): try a smaller --size or --dtype float32{kept}")  # fmt: skip
