"""Parameter sweeps on dask.distributed: grids, point names, orchestration, resume and summary.

This module holds everything behind ``rdnet sweep`` except the click parsing
(:mod:`rdnet.cli.sweep`): it turns ``--grid NAME=SPEC`` strings into grid axes, builds
one argument list per grid point for the real ``rdnet simulate`` / ``rdnet train``
command, runs the points on a Dask cluster, and combines the per-point metrics
into ``DIR/summary.nc``.

Grid syntax (one ``--grid`` per swept parameter)
------------------------------------------------
``NAME=START:STOP:COUNT``
    ``COUNT`` values from ``START`` to ``STOP`` *inclusive*, evenly spaced
    (``numpy.linspace``). For an integer option the values must be whole numbers.
``NAME=START:STOP``
    Integer options only (``seed``, ``steps``, ...): the Python range
    ``START, START+1, ..., STOP-1``. ``seed=0:16`` is the 16 seeds 0..15.
    A float parameter written this way is refused (it lacks a count).
``NAME=A,B,C`` or ``NAME=A``
    An explicit list; strings are allowed for options that take them
    (``integrator=euler,rk4``), ``true``/``false`` for on/off flags.

Which option a grid name drives: when the sub-command has an option ``--NAME``
it gets ``--NAME VALUE``; otherwise ``rdnet simulate`` gets ``--param NAME=VALUE``
(a model parameter such as Gray-Scott's ``F`` and ``k``) and ``rdnet train``
refuses the name.

Fault model
-----------
Every attempt of a point writes to its own hidden temporary name in ``DIR`` and
the finished file is *linked* to ``DIR/<point>.nc`` (``os.link`` fails when the
name exists), so a point is published exactly once even when a killed worker's
task is re-run. A point whose final file exists and opens as a valid rdnet
dataset is skipped; a failed point records its error and the sweep goes on.
Every start, publication, failure and skip is appended as one JSON line to
``DIR/sweep-journal.jsonl``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import re
import shlex
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdnet.analysis.metric_names import HOMOGENEITY_KEYS, MORPHOLOGY_KEYS, metric_units
from rdnet.errors import ConfigError, RunError

__all__ = [
    "GridAxis",
    "PointTask",
    "SweepPlan",
    "SweepOutcome",
    "parse_grid",
    "split_grid_spec",
    "point_names",
    "build_plan",
    "run_point",
    "run_sweep",
    "build_summary",
    "MAIN_FIELD",
    "REGIME_FLAGS",
    "TIME_BEHAVIOUR_FLAGS",
]

#: sub-commands a sweep can run, and the click option through which model parameters go
SWEEPABLE_COMMANDS: dict[str, str | None] = {"simulate": "--param", "train": None}
#: module holding each sweepable command's click ``command``
COMMAND_MODULES: dict[str, str] = {"simulate": "rdnet.cli.simulate", "train": "rdnet.cli.train"}

#: the field analysed per point, by the dataset's ``system`` attribute (documented in docs/sweep.md)
MAIN_FIELD: dict[str, str] = {"classic": "v", "prd": "displacement_u", "gan-dynamics": "displacement_u"}

#: the summary's ``regime`` flags: -1 failed, then the labels of :data:`rdnet.analysis.regime.REGIMES`
REGIME_FLAGS: dict[str, int] = {"failed": -1, "homogeneous": 0, "stripes": 1, "spots": 2, "holes": 3, "mixed": 4}
#: the summary's ``time_behaviour`` flags: -1 failed, then :data:`rdnet.analysis.temporal.TIME_BEHAVIOURS`
TIME_BEHAVIOUR_FLAGS: dict[str, int] = {
    "failed": -1, "stationary": 0, "travelling": 1, "oscillating": 2, "chaotic": 3, "undetermined": 4,
}  # fmt: skip

#: metrics of :func:`rdnet.analysis.pattern_summary` stored per point, with their units
#: in "grid length" (replaced by the point's x units when known)
METRIC_UNITS: dict[str, str] = {key: metric_units(key, "grid length") for key in (*HOMOGENEITY_KEYS, *MORPHOLOGY_KEYS)}

JOURNAL_NAME = "sweep-journal.jsonl"
MANIFEST_NAME = "sweep.json"
SUMMARY_NAME = "summary.nc"
_TEMP_MARK = ".attempt-"
#: Dask settings of rdnet's own LocalCluster (not of a cluster given by ``--scheduler``).
#: Both defaults cost a CPU-bound point time measured by ``benchmarks/bench_sweep.py``:
#: the statistical profiler samples the worker thread every 10 ms and so contends for the
#: GIL (+7 % on a Gray-Scott point), and ``MALLOC_TRIM_THRESHOLD_=65536`` makes glibc give
#: memory back after every large free, doubling the time of the allocation-heavy analysis.
#: The first is handed to each worker (also one the nanny restarts); the second is read by
#: the nannies when they are created.
LOCAL_WORKER_CONFIG = {"distributed.worker.profile.enabled": False}
LOCAL_NANNY_CONFIG = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}

_NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_UNSAFE_FILE_CHARACTERS = re.compile(r"[^A-Za-z0-9.+-]")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


# --------------------------------------------------------------------------- grids


@dataclass(frozen=True)
class GridAxis:
    """One swept parameter.

    Parameters
    ----------
    name : str
        The name as the user wrote it (``F``, ``seed``, ``adversary-weight``).
    values : tuple
        The values in sweep order (``int``, ``float``, ``str`` or ``bool``).
    units : str
        Units of the parameter (``"1"`` when unknown or dimensionless).
    """

    name: str
    values: tuple[Any, ...]
    units: str = "1"

    @property
    def dim(self) -> str:
        """Dimension name in the summary dataset (``-`` becomes ``_``)."""
        return self.name.replace("-", "_")

    def __len__(self) -> int:
        return len(self.values)


def split_grid_spec(spec: str) -> tuple[str, str]:
    """Split ``NAME=SPEC`` into its name and value part.

    Parameters
    ----------
    spec : str
        The text of one ``--grid`` option.

    Returns
    -------
    name, values : str
        The parameter name and the unparsed value specification.

    Raises
    ------
    ConfigError
        When there is no ``=``, the name is not a valid identifier or the values are empty.
    """
    name, equals, values = spec.partition("=")
    name, values = name.strip(), values.strip()
    if not equals or not values:
        raise ConfigError(
            f"--grid {spec!r}: expected NAME=START:STOP:COUNT or NAME=A,B,C (e.g. F=0.01:0.07:24)"
        )
    if not _NAME_PATTERN.match(name):
        raise ConfigError(f"--grid {spec!r}: {name!r} is not a parameter name (letters, digits, _ . -)")
    return name, values


def parse_grid(spec: str, *, value_type: str = "float", choices: Sequence[str] | None = None) -> GridAxis:
    """Parse one ``--grid`` specification into a :class:`GridAxis`.

    Parameters
    ----------
    spec : str
        ``NAME=START:STOP:COUNT`` (inclusive, evenly spaced), ``NAME=START:STOP``
        (integer range, stop excluded, integer parameters only) or ``NAME=A,B,C``.
    value_type : {"float", "int", "str", "bool"}
        Type of the parameter the grid drives.
    choices : sequence of str, optional
        Allowed values of a ``str`` parameter.

    Returns
    -------
    GridAxis

    Raises
    ------
    ConfigError
        Malformed specification, values of the wrong type, duplicates, or an empty grid.

    Examples
    --------
    >>> parse_grid("k=0.04:0.07:4").values
    (0.04, 0.05, 0.06, 0.07)
    >>> parse_grid("seed=0:3", value_type="int").values
    (0, 1, 2)
    """
    name, text = split_grid_spec(spec)
    where = f"--grid {name}={text}"
    if value_type not in {"float", "int", "str", "bool"}:
        raise ValueError(f"unknown value_type {value_type!r}")
    if ":" in text and value_type in {"float", "int"}:
        values = _parse_range(text, value_type, where)
    elif ":" in text:
        raise ConfigError(f"{where}: {name} takes {value_type} values; give a comma list")
    else:
        items = [item.strip() for item in text.split(",")]
        if any(not item for item in items):
            raise ConfigError(f"{where}: empty item in the comma list")
        values = tuple(_convert(item, value_type, choices, where) for item in items)
    duplicates = sorted({str(v) for v in values if values.count(v) > 1})
    if duplicates:
        raise ConfigError(f"{where}: repeated value(s) {', '.join(duplicates)}")
    return GridAxis(name=name, values=values)


def _parse_range(text: str, value_type: str, where: str) -> tuple[Any, ...]:
    import numpy as np

    parts = [part.strip() for part in text.split(":")]
    if len(parts) == 2:
        if value_type != "int":
            raise ConfigError(
                f"{where}: a float range needs a count: START:STOP:COUNT (inclusive), "
                f"e.g. {where.split('=')[0].split()[-1]}={parts[0]}:{parts[1]}:10"
            )
        start, stop = (_convert(part, "int", None, where) for part in parts)
        if stop <= start:
            raise ConfigError(f"{where}: START:STOP is the range START..STOP-1; STOP must exceed START")
        return tuple(range(start, stop))
    if len(parts) != 3:
        raise ConfigError(f"{where}: expected START:STOP:COUNT (inclusive) or a comma list")
    start, stop = (_convert(part, "float", None, where) for part in parts[:2])
    try:
        count = int(parts[2])
    except ValueError:
        raise ConfigError(f"{where}: COUNT must be a whole number, got {parts[2]!r}") from None
    if count < 1 or (count == 1 and start != stop):
        raise ConfigError(f"{where}: COUNT must be at least 2 (or 1 with START == STOP), got {count}")
    values = np.linspace(start, stop, count)
    if value_type == "int":
        if not np.allclose(values, np.round(values), rtol=0, atol=1e-9):
            raise ConfigError(
                f"{where}: gives non-whole values for an integer parameter; "
                f"use START:STOP (a range) or a comma list"
            )
        return tuple(int(round(v)) for v in values)
    # round away linspace's last-bit noise so that 0.04:0.07:4 gives 0.05, not 0.05000000000000001
    return tuple(float(f"{v:.15g}") for v in values)


def _convert(item: str, value_type: str, choices: Sequence[str] | None, where: str) -> Any:
    if value_type == "int":
        try:
            return int(item)
        except ValueError:
            raise ConfigError(f"{where}: {item!r} is not a whole number") from None
    if value_type == "float":
        try:
            value = float(item)
        except ValueError:
            raise ConfigError(f"{where}: {item!r} is not a number") from None
        if not math.isfinite(value):
            raise ConfigError(f"{where}: {item!r} is not a finite number")
        return value
    if value_type == "bool":
        if item.lower() in _TRUE:
            return True
        if item.lower() in _FALSE:
            return False
        raise ConfigError(f"{where}: {item!r} is not true or false")
    if choices is not None and item not in choices:
        raise ConfigError(f"{where}: {item!r} is not one of {', '.join(choices)}")
    return item


def _format_value(value: Any, digits: int) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return _UNSAFE_FILE_CHARACTERS.sub("-", str(value))


def _axis_labels(axis: GridAxis) -> list[str]:
    """Shortest labels (at least 6 significant digits) that tell the axis' values apart."""
    for digits in range(6, 18):
        labels = [_format_value(value, digits) for value in axis.values]
        if len(set(labels)) == len(labels):
            return labels
    raise ConfigError(f"--grid {axis.name}: values cannot be told apart in a file name")


def point_names(axes: Sequence[GridAxis]) -> list[tuple[str, tuple[int, ...], dict[str, Any]]]:
    """Name every point of the grid, in C order (the last axis varies fastest).

    Parameters
    ----------
    axes : sequence of GridAxis

    Returns
    -------
    list of (name, index, values)
        ``name`` is ``F=0.01_k=0.04`` style: it depends only on the values, so a rerun
        (or an extended grid) finds the points already done; ``index`` is the position
        in the summary arrays and ``values`` maps each axis name to its value.
    """
    import itertools

    labels = [_axis_labels(axis) for axis in axes]
    points = []
    for index in itertools.product(*(range(len(axis)) for axis in axes)):
        name = "_".join(f"{axis.name}={labels[a][i]}" for a, (axis, i) in enumerate(zip(axes, index)))
        values = {axis.name: axis.values[i] for axis, i in zip(axes, index)}
        points.append((name, tuple(index), values))
    return points


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class PointTask:
    """Everything a worker needs to run one point (picklable, no open handles).

    Parameters
    ----------
    name : str
        The point's name; its dataset is ``directory/name.nc``.
    index : tuple of int
        Position in the summary arrays.
    command : str
        ``"simulate"`` or ``"train"``.
    arguments : tuple of str
        The command's arguments, everything except ``--out`` and ``--quiet``.
    directory : str
        Absolute path of the sweep folder.
    module : str
        Importable module whose ``command`` attribute is the click command run.
    store : str
        With ``--format zarr``: the sweep's zarr store (its partial name), where the point
        writes its region (:mod:`rdnet.dataset.sweep_store`); empty for one file per point.
    store_axes : tuple
        The sweep's axes for creating that store: ``(dim, values, attrs)`` per axis.
    """

    name: str
    index: tuple[int, ...]
    command: str
    arguments: tuple[str, ...]
    directory: str
    module: str = ""
    store: str = ""
    store_axes: tuple = ()

    @property
    def final_path(self) -> Path:
        """Where the finished dataset of the point lives."""
        return Path(self.directory) / f"{self.name}.nc"

    @property
    def journal_path(self) -> Path:
        """The sweep's append-only event log."""
        return Path(self.directory) / JOURNAL_NAME


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: axes, the fixed options and one task per point.

    Parameters
    ----------
    command : str
        ``"simulate"`` or ``"train"``.
    axes : tuple of GridAxis
    fixed_arguments : tuple of str
        Options passed unchanged to every point.
    directory : Path
    tasks : tuple of PointTask
        In C order of the axes.
    model : str
        The model name for the summary (``--model`` of simulate, ``"prd"`` for train).
    format : {"netcdf", "zarr"}
        One NetCDF file per point, or every point in one zarr store ``points.zarr``.
    """

    command: str
    axes: tuple[GridAxis, ...]
    fixed_arguments: tuple[str, ...]
    directory: Path
    tasks: tuple[PointTask, ...]
    model: str
    format: str = "netcdf"

    @property
    def store_path(self) -> Path:
        """The zarr store of a ``--format zarr`` sweep (published name)."""
        from rdnet.dataset.sweep_store import STORE_NAME

        return self.directory / STORE_NAME

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values along each axis."""
        return tuple(len(axis) for axis in self.axes)


def _load_command(command: str, module: str = ""):
    import importlib

    if command not in SWEEPABLE_COMMANDS:
        raise ConfigError(f"cannot sweep {command!r}; valid: {', '.join(SWEEPABLE_COMMANDS)}")
    name = module or COMMAND_MODULES[command]
    try:
        return importlib.import_module(name).command
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        raise ConfigError(f"'rdnet {command}' is not available in this installation ({name} missing)") from None


def _option_for(click_command, name: str):
    """The click option ``--name`` of a command, or None."""
    import click

    wanted = f"--{name}"
    for parameter in click_command.params:
        if isinstance(parameter, click.Option) and (
            wanted in parameter.opts or wanted in parameter.secondary_opts
        ):
            return parameter
    return None


def _value_type(option) -> tuple[str, list[str] | None]:
    import click

    if option is None:
        return "float", None
    if option.is_flag and not option.count:
        return "bool", None
    kind = option.type
    if isinstance(kind, click.types.IntParamType) or kind is click.INT:
        return "int", None
    if isinstance(kind, click.types.FloatParamType) or kind is click.FLOAT:
        return "float", None
    if isinstance(kind, click.Choice):
        return "str", [str(choice) for choice in kind.choices]
    return "str", None


def _point_arguments(command: str, option_of: dict[str, Any], values: dict[str, Any]) -> list[str]:
    arguments: list[str] = []
    for name, value in values.items():
        option = option_of[name]
        if option is None:
            arguments += [SWEEPABLE_COMMANDS[command], f"{name}={_exact(value)}"]
        elif option.is_flag and not option.count:
            if value:
                arguments.append(_long_opt(option.opts, name))
            elif option.secondary_opts:
                arguments.append(_long_opt(option.secondary_opts, name))
        else:
            arguments += [f"--{name}", _exact(value)]
    return arguments


def _long_opt(opts: Sequence[str], name: str) -> str:
    longs = [opt for opt in opts if opt.startswith("--")]
    return longs[0] if longs else f"--{name}"


def _exact(value: Any) -> str:
    return repr(value) if isinstance(value, float) else str(value)


def _given_options(arguments: Sequence[str]) -> set[str]:
    return {arg.split("=", 1)[0] for arg in arguments if arg.startswith("--")}


def build_plan(
    command: str,
    grid_specs: Sequence[str],
    fixed_arguments: Sequence[str],
    directory: str | os.PathLike,
    *,
    format: str = "netcdf",
) -> SweepPlan:
    """Validate a sweep completely before anything is written.

    Parameters
    ----------
    command : {"simulate", "train"}
        The rdnet command run at every point.
    grid_specs : sequence of str
        The ``--grid NAME=SPEC`` texts.
    fixed_arguments : sequence of str
        Options given to every point (e.g. ``["--model", "gray-scott", "--size", "64"]``).
    directory : path
        The sweep folder (created by :func:`run_sweep`).
    format : {"netcdf", "zarr"}
        One NetCDF file per point, or all points in one zarr store.

    Returns
    -------
    SweepPlan

    Raises
    ------
    ConfigError
        Bad grid syntax or names, an option both swept and fixed, ``--out`` among the
        fixed options, or point arguments the command rejects (checked by click's parser
        for every point, without running anything).
    """
    import click

    if not grid_specs:
        raise ConfigError("a sweep needs at least one --grid NAME=SPEC")
    module = COMMAND_MODULES.get(command, "")
    click_command = _load_command(command, module)
    fixed_arguments = _absolute_model_file(tuple(fixed_arguments))
    given = _given_options(fixed_arguments)
    for reserved in ("--out", "--resume"):
        if reserved in given:
            raise ConfigError(
                f"{reserved} cannot be passed to the points of a sweep; "
                "the sweep names each point's file in its --out DIR"
            )
    axes: list[GridAxis] = []
    option_of: dict[str, Any] = {}
    for spec in grid_specs:
        name, _ = split_grid_spec(spec)
        if name in option_of:
            raise ConfigError(f"--grid {name} is given twice")
        option = _option_for(click_command, name)
        if option is None and SWEEPABLE_COMMANDS[command] is None:
            raise ConfigError(
                f"--grid {name}: 'rdnet {command}' has no option --{name} "
                f"(see 'rdnet {command} --help')"
            )
        if option is not None:
            if option.name in {"out", "resume", "quiet", "help"}:
                raise ConfigError(f"--grid {name}: --{name} cannot be swept")
            if f"--{name}" in given or any(opt in given for opt in option.opts + option.secondary_opts):
                raise ConfigError(f"--{name} is both swept (--grid) and fixed; give it once")
        value_type, choices = _value_type(option)
        axes.append(parse_grid(spec, value_type=value_type, choices=choices))
        option_of[name] = option
    if option_of and SWEEPABLE_COMMANDS[command]:
        for position, argument in enumerate(fixed_arguments[:-1]):
            if argument == SWEEPABLE_COMMANDS[command]:
                fixed_name = fixed_arguments[position + 1].split("=", 1)[0]
                if fixed_name in option_of:
                    raise ConfigError(f"{fixed_name} is both swept (--grid) and fixed (--param); give it once")

    directory = Path(directory).expanduser().resolve()
    tasks = []
    model = "prd" if command == "train" else "unknown"
    model_file = None
    for name, index, values in point_names(axes):
        arguments = (*fixed_arguments, *_point_arguments(command, option_of, values))
        check = [*arguments, "--out", str(directory / f"{name}.nc"), "--quiet"]
        try:
            context = click_command.make_context(f"rdnet {command}", list(check), resilient_parsing=False)
        except click.exceptions.Exit:
            raise ConfigError("--help cannot be passed to the points of a sweep") from None
        except click.ClickException as error:
            raise ConfigError(f"point {name}: {error.format_message()}") from None
        if command == "simulate" and not tasks:
            model = str(context.params.get("model") or "unknown")
            model_file = context.params.get("model_file")
        tasks.append(PointTask(name, index, command, arguments, str(directory), module))
    units: dict[str, str] = {}
    if command == "simulate":
        known = _model_parameter_units(model, model_file)
        if model_file:
            model = Path(model_file).stem
        if known is not None:
            unknown = [name for name, option in option_of.items() if option is None and name not in known]
            if unknown:
                raise ConfigError(
                    f"--grid {unknown[0]}: {model} has no parameter {unknown[0]!r} and 'rdnet simulate' no "
                    f"option --{unknown[0]}; parameters: {', '.join(known)}"
                )
            units = {name: known[name] for name, option in option_of.items() if option is None}
    axes = [GridAxis(axis.name, axis.values, units.get(axis.name, "1")) for axis in axes]
    if format not in ("netcdf", "zarr"):
        raise ConfigError(f"--format must be netcdf or zarr, got {format!r}")
    if format == "zarr":
        from rdnet.dataset import PARTIAL_SUFFIX
        from rdnet.dataset.sweep_store import STORE_NAME

        store = str(directory / (STORE_NAME + PARTIAL_SUFFIX))
        store_axes = tuple((axis.dim, tuple(axis.values), _axis_attrs(axis)) for axis in axes)
        tasks = [dataclasses.replace(task, store=store, store_axes=store_axes) for task in tasks]
    return SweepPlan(command, tuple(axes), fixed_arguments, directory, tuple(tasks), model, format)


def _axis_attrs(axis: GridAxis) -> dict[str, str]:
    """The attributes of a swept parameter's coordinate (in the summary and the zarr store)."""
    return {"long_name": f"swept parameter {axis.name}", "units": axis.units, "option": axis.name}


def _absolute_model_file(arguments: tuple[str, ...]) -> tuple[str, ...]:
    """``--model-file PATH`` with PATH made absolute and checked to exist (the points may run elsewhere)."""
    result = list(arguments)
    for position, argument in enumerate(result):
        if argument == "--model-file" and position + 1 < len(result):
            path = Path(result[position + 1]).expanduser().resolve()
            if not path.is_file():
                raise ConfigError(f"--model-file {result[position + 1]}: file not found")
            result[position + 1] = str(path)
        elif argument.startswith("--model-file="):
            raise ConfigError("write --model-file PATH (with a space) in a sweep")
    return tuple(result)


def _model_parameter_units(model: str, model_file: str | None = None) -> dict[str, str] | None:
    """Parameter names and units of a classic model (built in, or read from its file), or None when unknown here."""
    try:
        from rd_classic.models import MODELS, load_model_file
    except ImportError:  # pragma: no cover - rd_classic is part of the distribution
        return None
    declaration = load_model_file(model_file) if model_file else MODELS.get(model)
    return None if declaration is None else {p.name: p.units for p in declaration.parameters}


# --------------------------------------------------------------------------- one point (on a worker)


def _journal(path: Path, event: str, name: str, **extra: Any) -> None:
    """Append one event line (a single ``write`` on an ``O_APPEND`` file: lines never interleave)."""
    record = {"event": event, "point": name, "pid": os.getpid(), "time": time.time(), **extra}
    line = (json.dumps(record) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_journal(directory: str | os.PathLike) -> list[dict[str, Any]]:
    """All events of a sweep folder's journal, oldest first (a torn last line is ignored).

    Parameters
    ----------
    directory : path
        The sweep folder.

    Returns
    -------
    list of dict
        Each with ``event`` (``start``, ``written``, ``failed``, ``skipped``), ``point``,
        ``pid`` and ``time``; ``written`` and ``failed`` also carry ``wall_time``.
    """
    path = Path(directory) / JOURNAL_NAME
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            events.append(json.loads(line))
    return events


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
    for leftover in (temp, temp.with_name(temp.name + ".partial")):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if not isinstance(error, Exception) or type(error).__module__ == "builtins":
        text = f"{type(error).__name__}: {text}"
    return text[:500]


def _invoke(command: str, module: str, arguments: list[str]) -> None:
    """Run an rdnet sub-command in this process; raise on any failure, including exit codes."""
    import click

    click_command = _load_command(command, module)
    try:
        with click_command.make_context(f"rdnet {command}", arguments) as context:
            click_command.invoke(context)
    except click.exceptions.Exit as stop:
        if stop.exit_code:
            raise RunError(f"'rdnet {command}' exited with code {stop.exit_code}") from None


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

    Skips the run when the point's final file is already complete. A failing command
    (bad parameter, NaN blow-up) is caught and reported as ``status="failed"``; errors of
    the sweep's own machinery (disk full while publishing) propagate so that Dask retries.

    Parameters
    ----------
    task : PointTask

    Returns
    -------
    dict
        ``name``, ``index``, ``status`` (``ok`` / ``failed``), ``error``, ``wall_time``
        (seconds of the command, None when skipped), ``task_time`` (seconds of this whole
        call, analysis included), ``skipped``, ``model`` and the metrics of
        :func:`analyse_point` (NaN when failed).
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
            _journal(task.journal_path, "skipped", task.name)
            result.update(status="ok", skipped=True, wall_time=None)
            return _with_metrics(result, done)
    elif is_complete(final):
        _journal(task.journal_path, "skipped", task.name)
        result.update(status="ok", skipped=True, wall_time=None)
        return _with_metrics(result, final)
    token = uuid.uuid4().hex[:12]
    temp = final.with_name(f".{task.name}{_TEMP_MARK}{token}.nc")
    _journal(task.journal_path, "start", task.name, attempt=token)
    started = time.perf_counter()
    try:
        _invoke(task.command, task.module, [*task.arguments, "--out", str(temp), "--quiet"])
        if not temp.is_file():
            raise RunError(f"'rdnet {task.command}' finished without writing its --out file")
    except (Exception, SystemExit) as error:  # noqa: BLE001 - a failing point is data, not a crash
        wall_time = time.perf_counter() - started
        _remove_attempt_files(temp)
        message = _one_line(error)
        _journal(task.journal_path, "failed", task.name, attempt=token, wall_time=wall_time, error=message)
        result.update(status="failed", error=message, wall_time=wall_time)
        return _with_metrics(result, None)
    wall_time = time.perf_counter() - started
    if task.store:
        return _write_region(task, temp, result, token, wall_time)
    if _publish(temp, final):
        _journal(task.journal_path, "written", task.name, attempt=token, wall_time=wall_time)
    else:
        _remove_attempt_files(temp)
        _journal(task.journal_path, "skipped", task.name, attempt=token)
        result["skipped"] = True
    result.update(status="ok", wall_time=wall_time)
    return _with_metrics(result, final)


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
            point.attrs = {"system": "classic" if task.command == "simulate" else "prd"}  # for MAIN_FIELD
            return point
    return None


def _write_region(task: PointTask, temp: Path, result: dict[str, Any], token: str, wall_time: float) -> dict[str, Any]:
    """Write a finished point's run (its temporary file) into its region of the sweep's store."""
    import numpy as np

    from rdnet.dataset import DatasetError, open_dataset
    from rdnet.dataset import sweep_store

    result = _with_metrics(result, temp)
    axes = {dim: (np.asarray(values), attrs) for dim, values, attrs in task.store_axes}
    try:
        with open_dataset(temp) as point:
            point = point.load()
        sweep_store.create(task.store, point, axes, {"system": "sweep", "sweep_dims": " ".join(axes)})
        sweep_store.write_point(task.store, task.index, point)
    except DatasetError as error:  # a point of another layout: this point fails, the sweep goes on
        message = _one_line(error)
        _journal(task.journal_path, "failed", task.name, attempt=token, wall_time=wall_time, error=message)
        result.update(status="failed", error=message, wall_time=wall_time)
        return result
    finally:
        _remove_attempt_files(temp)
    _journal(task.journal_path, "written", task.name, attempt=token, wall_time=wall_time)
    result.update(status="ok", wall_time=wall_time)
    return result


def _with_metrics(result: dict[str, Any], path: Path | None) -> dict[str, Any]:
    metrics = {key: math.nan for key in (*METRIC_UNITS, "field_std", "field_mean")}
    metrics.update(model="", variable="", length_units="", field_units="", regime="failed", time_behaviour="failed")
    if path is not None:
        try:
            metrics.update(analyse_point(path))
        except Exception as error:  # noqa: BLE001 - the run is kept; only its analysis failed
            result.update(status="failed", error=f"analysis failed: {_one_line(error)}")
            metrics.update(regime="failed", time_behaviour="failed")
    result.update(metrics)
    return result


def analyse_point(path) -> dict[str, Any]:
    """Metrics, morphology, regime and time behaviour of a point's main field.

    The main field is :data:`MAIN_FIELD` of the dataset's ``system`` (``v`` for classic
    runs, ``displacement_u`` for the network engine); when absent, the first variable
    with dims ``(time, ..., y, x)``. The metrics and the regime are of its last snapshot;
    the time behaviour is of the second half of its snapshots.

    Parameters
    ----------
    path : path or xarray.Dataset
        A point's dataset (its file, or the run itself).

    Returns
    -------
    dict
        The metrics of :func:`rdnet.analysis.pattern_summary` named in :data:`METRIC_UNITS`,
        ``field_std``, ``field_mean``, ``regime`` (:func:`rdnet.analysis.pattern_regime`),
        ``time_behaviour`` (:func:`rdnet.analysis.time_behaviour`), ``model``, ``variable``
        and ``length_units``.
    """
    import numpy as np

    from rdnet.analysis import MIN_SNAPSHOTS, pattern_summary, time_behaviour
    from rdnet.dataset import open_dataset, spatial_variables

    with (contextlib.nullcontext(path) if hasattr(path, "data_vars") else open_dataset(path)) as dataset:
        variable = MAIN_FIELD.get(str(dataset.attrs.get("system")), "")
        if variable not in dataset:
            spatial = [name for name in spatial_variables(dataset) if dataset[name].dims[0] == "time"]
            if not spatial:
                raise RunError(f"the point's run has no (time, y, x) field to analyse")
            variable = spatial[0]
        count = dataset.sizes["time"]
        window = (count + 1) // 2
        series = dataset[variable].isel(time=slice(count - window, None)).load()
        model = str(dataset.attrs.get("model", ""))
        periodic = _is_periodic(dataset)
        length_units = str(dataset["x"].attrs.get("units", "")) if "x" in dataset.coords else ""
    field_values = series.isel(time=-1)
    if not np.all(np.isfinite(np.asarray(field_values.values, dtype=float))):
        raise RunError(f"{variable} holds NaN or Inf in the last snapshot")
    summary = pattern_summary(field_values, periodic=periodic)
    metrics = {key: float(summary[key]) for key in METRIC_UNITS}
    behaviour = "undetermined"
    if window >= MIN_SNAPSHOTS:
        try:
            behaviour = time_behaviour(series, window=1.0).label
        except ValueError:  # uneven snapshot times (a resumed run): the spatial analysis stands
            behaviour = "undetermined"
    metrics.update(
        field_std=summary["field_std"],
        field_mean=summary["field_mean"],
        regime=summary["regime"],
        time_behaviour=behaviour,
        model=model,
        variable=variable,
        length_units=length_units,
        field_units=str(series.attrs.get("units", "1")),
    )
    return metrics


def _is_periodic(dataset) -> bool:
    """Whether a point's grid is periodic (its ``parameters`` say ``boundary``; default yes)."""
    try:
        parameters = json.loads(dataset.attrs.get("parameters", "{}"))
    except (TypeError, json.JSONDecodeError):
        return True
    boundary = parameters.get("boundary", "periodic") if isinstance(parameters, dict) else "periodic"
    return str(boundary).lower() == "periodic"


# --------------------------------------------------------------------------- the sweep (on the client)


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
    """

    summary_path: Path
    results: list[dict[str, Any]] = field(default_factory=list)
    wall_time: float = 0.0

    def count(self, status: str) -> int:
        """Number of points with this status (``ok`` or ``failed``)."""
        return sum(result["status"] == status for result in self.results)

    @property
    def skipped(self) -> int:
        """Points whose dataset already existed."""
        return sum(bool(result["skipped"]) for result in self.results)


def _check_manifest(plan: SweepPlan) -> None:
    """Refuse a folder holding a sweep of another command or other fixed options."""
    manifest = plan.directory / MANIFEST_NAME
    wanted = {"command": plan.command, "fixed_arguments": list(plan.fixed_arguments)}
    if manifest.exists():
        try:
            found = json.loads(manifest.read_text())
        except (OSError, json.JSONDecodeError):
            found = None
        if found is not None and {key: found.get(key) for key in wanted} != wanted:
            old = shlex.join([found.get("command", "?"), *found.get("fixed_arguments", [])])
            raise ConfigError(
                f"{plan.directory} holds a sweep of 'rdnet {old}'; points with other fixed "
                "options must go to another --out DIR (the grid itself may change)"
            )
    elif plan.directory.exists() and any(plan.directory.glob("*.nc")):
        raise ConfigError(f"{plan.directory} already holds .nc files that are not from a sweep; use another --out DIR")


def _write_manifest(plan: SweepPlan) -> None:
    manifest = plan.directory / MANIFEST_NAME
    if manifest.exists():
        return
    content = {
        "command": plan.command,
        "fixed_arguments": list(plan.fixed_arguments),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    temp = manifest.with_name(manifest.name + ".tmp")
    temp.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(temp, manifest)


def _prepare_directory(plan: SweepPlan) -> None:
    parent = plan.directory.parent
    if not parent.is_dir():
        raise ConfigError(f"--out {plan.directory}: the folder {parent} does not exist")
    if plan.directory.exists() and not plan.directory.is_dir():
        raise ConfigError(f"--out {plan.directory} is a file; give a folder")
    _check_manifest(plan)
    if not os.access(plan.directory if plan.directory.exists() else parent, os.W_OK):
        raise ConfigError(f"--out {plan.directory}: folder is not writable")
    plan.directory.mkdir(exist_ok=True)
    _write_manifest(plan)


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
        except (OSError, TimeoutError) as error:
            raise ConfigError(f"--scheduler {scheduler}: cannot connect ({_one_line(error)})") from None
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


def run_sweep(
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
    """Run every point of a plan on Dask and write ``DIR/summary.nc``.

    Parameters
    ----------
    plan : SweepPlan
        From :func:`build_plan`.
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
            f"sweep: {len(plan.tasks)} points of 'rdnet {plan.command}' "
            f"({existing} already written) on {n_workers} Dask workers -> {plan.directory}"
        )
        results = _gather(client, plan, progress)
    _remove_stale_attempts(plan.directory)
    outcome = SweepOutcome(plan.directory / SUMMARY_NAME, results, time.perf_counter() - started)
    summary = build_summary(plan, results)
    from rdnet.dataset import write_dataset

    if plan.format == "zarr":
        _publish_store(plan, summary, history)
    write_dataset(
        summary,
        outcome.summary_path,
        system="sweep",
        model=summary.attrs.get("model", plan.model),
        parameters=_summary_parameters(plan),
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
                        "run the same command again to continue"
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
        record.update(error=f"worker: {_one_line(error)}", wall_time=None)
        return _with_metrics(record, None)


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

    for leftover in [*directory.glob(f".*{_TEMP_MARK}*"), *directory.glob(".*.zarr.partial.create-*")]:
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
                           parameters=_summary_parameters(plan), history=history)  # fmt: skip
    attrs["sweep_dims"] = " ".join(axis.dim for axis in plan.axes)
    zarr.open_group(partial, mode="r+").attrs.update(attrs)
    publish(partial)


def _summary_parameters(plan: SweepPlan) -> dict[str, Any]:
    return {
        "command": plan.command,
        "grid": {axis.name: list(axis.values) for axis in plan.axes},
        "fixed_arguments": list(plan.fixed_arguments),
        "regime_rule": "rdnet.analysis.regime (docs/analysis.md)",
    }


def build_summary(plan: SweepPlan, results: Sequence[dict[str, Any]]):
    """Combine per-point results into one dataset whose dims are the sweep parameters.

    Parameters
    ----------
    plan : SweepPlan
    results : sequence of dict
        From :func:`run_point`; points without a result are marked ``missing``.

    Returns
    -------
    xarray.Dataset
        Float metrics (NaN where failed), ``regime`` and ``time_behaviour`` (CF flags,
        :data:`REGIME_FLAGS` and :data:`TIME_BEHAVIOUR_FLAGS`: colour a phase diagram by
        them), ``pattern`` (1 for any regime but homogeneous, 0 homogeneous, -1 failed),
        ``status``, ``error``, ``file`` (strings) and ``wall_time``. Wall times of skipped
        points come from the sweep journal.
    """
    import numpy as np
    import xarray as xr

    shape = plan.shape
    by_name = {result["name"]: result for result in results}
    last_wall_time: dict[str, float] = {}
    for event in read_journal(plan.directory):
        if event.get("event") == "written":
            last_wall_time[event["point"]] = float(event["wall_time"])
    float_names = [*METRIC_UNITS, "field_std", "wall_time"]
    floats = {name: np.full(shape, np.nan) for name in float_names}
    regime = np.full(shape, REGIME_FLAGS["failed"], dtype=np.int8)
    behaviour = np.full(shape, TIME_BEHAVIOUR_FLAGS["failed"], dtype=np.int8)
    status = np.full(shape, "missing", dtype=object)
    error = np.full(shape, "", dtype=object)
    files = np.full(shape, "", dtype=object)
    models, variables, length_units, field_units = set(), set(), set(), set()
    for task in plan.tasks:
        result = by_name.get(task.name)
        files[task.index] = plan.store_path.name if plan.format == "zarr" else task.final_path.name
        if result is None:
            error[task.index] = "not run (sweep interrupted)"
            continue
        status[task.index] = result["status"]
        error[task.index] = result.get("error", "")
        wall_time = result.get("wall_time")
        if wall_time is None:
            wall_time = last_wall_time.get(task.name, math.nan)
        floats["wall_time"][task.index] = wall_time
        if result["status"] != "ok":
            continue
        for name in (*METRIC_UNITS, "field_std"):
            floats[name][task.index] = result.get(name, math.nan)
        regime[task.index] = REGIME_FLAGS[result.get("regime", "failed")]
        behaviour[task.index] = TIME_BEHAVIOUR_FLAGS[result.get("time_behaviour", "failed")]
        models.add(result.get("model") or "")
        variables.add(result.get("variable") or "")
        length_units.add(result.get("length_units") or "")
        field_units.add(result.get("field_units") or "")
    models.discard("")
    variables.discard("")
    length_units.discard("")
    field_units.discard("")
    length = length_units.pop() if len(length_units) == 1 else "grid length"
    analysed = ", ".join(sorted(variables)) or MAIN_FIELD.get("classic" if plan.command == "simulate" else "prd")

    dims = tuple(axis.dim for axis in plan.axes)
    coords = {
        axis.dim: (axis.dim, np.asarray(axis.values), _axis_attrs(axis))
        for axis in plan.axes
    }
    descriptions = {
        "dominant_wavelength": f"dominant wavelength of {analysed} at the last snapshot",
        "spectral_entropy": f"spectral entropy of {analysed}",
        "coefficient_of_variation": f"coefficient of variation of {analysed}",
        "morans_i": f"Moran's I of {analysed} on the periodic grid",
        "anisotropy": f"anisotropy of the angular spectrum of {analysed}",
        "correlation_length": f"correlation length of {analysed}",
        "surrogate_p_value": f"surrogate-test p-value of {analysed} (small: spatial structure)",
        "area_fraction": f"area fraction of {analysed} above its mean",
        "boundary_length": f"boundary length per area of {analysed} at its mean",
        "euler_characteristic": f"Euler characteristic per area of {analysed} above its mean",
        "components": f"connected components of {analysed} above its mean",
        "mean_component_size": f"mean area of the components of {analysed} above its mean",
        "orientation_order": f"orientation order (local nematic order of the gradients) of {analysed}",
        "field_std": f"standard deviation of {analysed} over the grid",
        "wall_time": "wall time of the point's run",
    }
    units = {key: metric_units(key, length) for key in METRIC_UNITS}
    units.update(field_std=field_units.pop() if len(field_units) == 1 else "1", wall_time="s")
    data_vars = {
        name: (dims, values, {"long_name": descriptions[name], "units": units[name]})
        for name, values in floats.items()
    }
    pattern = np.where(regime < 0, -1, (regime != REGIME_FLAGS["homogeneous"]).astype(np.int8)).astype(np.int8)
    regime_rule = ("rdnet.analysis.regime: homogeneous (no structure beyond chance or round-off), stripes (stripe "
                   "fraction >= 0.7), spots/holes (stripe fraction < 0.3 and Euler fraction >= 0.5 / <= -0.5), mixed; "
                   "see docs/analysis.md")  # fmt: skip
    for name, values, flags, long_name, rule in (
        ("regime", regime, REGIME_FLAGS, f"regime of {analysed} at the last snapshot", regime_rule),
        ("time_behaviour", behaviour, TIME_BEHAVIOUR_FLAGS, f"time behaviour of {analysed} over the second half of the snapshots", None),
        ("pattern", pattern, {"failed": -1, "no_pattern": 0, "pattern": 1}, "pattern label (from the regime)",
         "pattern when the regime is not homogeneous"),
    ):  # fmt: skip
        attrs = {"long_name": long_name, "units": "1", "flag_values": np.array(list(flags.values()), dtype=np.int8),
                 "flag_meanings": " ".join(flags)}  # fmt: skip
        data_vars[name] = (dims, values, attrs if rule is None else {**attrs, "rule": rule})
    data_vars["status"] = (dims, status.astype(str), {"long_name": "run status (ok, failed, missing)", "units": "1"})
    data_vars["error"] = (dims, error.astype(str), {"long_name": "error message of a failed point", "units": "1"})
    data_vars["file"] = (dims, files.astype(str), {"long_name": "dataset of the point, relative to this folder", "units": "1"})
    summary = xr.Dataset(data_vars, coords=coords)
    summary.attrs["model"] = models.pop() if len(models) == 1 else plan.model
    summary.attrs["analysed_variable"] = analysed
    summary.attrs["sweep_command"] = plan.command
    return summary
