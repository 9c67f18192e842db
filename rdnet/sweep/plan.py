"""A sweep plan: the engine, the parameter axes, the fixed options and one task per point.

:func:`plan_sweep` validates a sweep completely before anything is written or run: every
swept name is an option of the engine or (for an engine with model parameters) a parameter
of the model, no option is both swept and fixed, and the options the sweep sets itself
(each point's output) are not given. Each :class:`PointTask` is what a worker needs to run
one point: picklable, without open handles.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdnet.errors import ConfigError
from rdnet.sweep.axes import ParameterAxis, axis_attrs, point_names
from rdnet.sweep.engines import RESERVED_OPTIONS, engine
from rdnet.sweep.journal import JOURNAL_NAME

__all__ = ["PointTask", "SweepPlan", "plan_sweep", "FORMATS"]

#: how a sweep stores its points: one NetCDF file each, or all in one zarr store
FORMATS = ("netcdf", "zarr")


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
        The engine (``"simulate"`` or ``"train"``, :data:`rdnet.sweep.engines.ENGINES`).
    options : dict
        The one-call function's options for this point, everything except the output.
    directory : str
        Absolute path of the sweep folder.
    store : str
        With ``format="zarr"``: the sweep's zarr store (its partial name), where the point
        writes its region (:mod:`rdnet.dataset.sweep_store`); empty for one file per point.
    store_axes : tuple
        The sweep's axes for creating that store: ``(dim, values, attrs)`` per axis.
    """

    name: str
    index: tuple[int, ...]
    command: str
    options: dict[str, Any]
    directory: str
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
        The engine, ``"simulate"`` or ``"train"``.
    axes : tuple of ParameterAxis
    fixed : dict
        Options given unchanged to every point.
    directory : Path
    tasks : tuple of PointTask
        In C order of the axes.
    model : str
        The model name for the summary (the simulated model, ``"prd"`` for train).
    format : {"netcdf", "zarr"}
        One NetCDF file per point, or every point in one zarr store ``points.zarr``.
    """

    command: str
    axes: tuple[ParameterAxis, ...]
    fixed: dict[str, Any]
    directory: Path
    tasks: tuple[PointTask, ...]
    model: str
    format: str = "netcdf"

    @property
    def store_path(self) -> Path:
        """The zarr store of a ``format="zarr"`` sweep (published name)."""
        from rdnet.dataset.sweep_store import STORE_NAME

        return self.directory / STORE_NAME

    @property
    def shape(self) -> tuple[int, ...]:
        """Number of values along each axis."""
        return tuple(len(axis) for axis in self.axes)


def plan_sweep(
    command: str,
    grid: Mapping[str, Sequence[Any]] | Sequence[ParameterAxis],
    fixed: Mapping[str, Any] | None,
    directory: str | os.PathLike,
    *,
    format: str = "netcdf",
) -> SweepPlan:
    """Validate a sweep completely before anything is written.

    Parameters
    ----------
    command : {"simulate", "train"}
        The engine run at every point: :func:`rd_classic.simulate` or :func:`rdnet.prd.train`.
    grid : mapping of str to sequence, or sequence of ParameterAxis
        The parameter axes: name to its values (``{"F": [0.02, 0.03], "seed": range(4)}``).
        A name is an option of the engine (``-`` read as ``_``: ``adversary-weight``) or,
        for ``simulate``, a parameter of the model.
    fixed : mapping, optional
        Options given to every point, as keywords of the one-call function
        (``{"model": "gray-scott", "size": 64, "steps": 2000}``).
    directory : path
        The sweep folder (created when the sweep runs).
    format : {"netcdf", "zarr"}
        One NetCDF file per point, or all points in one zarr store.

    Returns
    -------
    SweepPlan

    Raises
    ------
    ConfigError
        No axes, an unknown name, a name both swept and fixed, an option the sweep sets
        itself (``out``, ``resume``, ...), a missing model file, or an unknown format.
    """
    sweep_engine = engine(command)
    options = sweep_engine.options()
    axes = _axes(grid)
    if fixed is not None and not isinstance(fixed, Mapping):
        raise ConfigError(f"fixed must map option names to values, e.g. {{'size': 64}}, got {fixed!r}")
    if not isinstance(directory, (str, os.PathLike)):
        raise ConfigError(f"the sweep's folder must be a str or os.PathLike, got {directory!r}")
    fixed = _fixed_options(dict(fixed or {}), options)
    if format not in FORMATS:
        raise ConfigError(f"format must be one of {', '.join(FORMATS)}, got {format!r}")
    swept_options: set[str] = set()
    model_parameters: list[str] = []
    for axis in axes:
        keyword = axis.name.replace("-", "_")
        if keyword in RESERVED_OPTIONS:
            raise ConfigError(f"{axis.name} cannot be swept: the sweep sets it for every point")
        if keyword in options:
            if keyword in fixed:
                raise ConfigError(f"{axis.name} is both swept and fixed; give it once")
            swept_options.add(keyword)
        elif sweep_engine.parameter_option is None:
            raise ConfigError(f"{command} has no option {keyword!r} to sweep; options: {', '.join(options)}")
        else:
            if axis.name in (fixed.get(sweep_engine.parameter_option) or {}):
                raise ConfigError(
                    f"{axis.name} is both swept and fixed (in {sweep_engine.parameter_option}); give it once"
                )
            model_parameters.append(axis.name)
    if len({axis.name.replace("-", "_") for axis in axes}) != len(axes):
        raise ConfigError("a parameter is swept twice; give one axis per parameter")

    model, units = sweep_engine.default_model, {}
    if sweep_engine.parameter_option is not None:
        model, units = _model_and_units(fixed, sweep_engine.default_model, model_parameters)
    axes = [ParameterAxis(axis.name, axis.values, units.get(axis.name, axis.units)) for axis in axes]

    directory = Path(directory).expanduser().resolve()
    store, store_axes = "", ()
    if format == "zarr":
        from rdnet.dataset import PARTIAL_SUFFIX
        from rdnet.dataset.sweep_store import STORE_NAME

        store = str(directory / (STORE_NAME + PARTIAL_SUFFIX))
        store_axes = tuple((axis.dim, tuple(axis.values), axis_attrs(axis)) for axis in axes)
    tasks = []
    for name, index, values in point_names(axes):
        point = dict(fixed)
        for axis_name, value in values.items():
            if axis_name in model_parameters:
                point[sweep_engine.parameter_option] = {**point.get(sweep_engine.parameter_option, {}),
                                                        axis_name: value}  # fmt: skip
            else:
                point[axis_name.replace("-", "_")] = value
        tasks.append(PointTask(name, index, command, point, str(directory), store, store_axes))
    return SweepPlan(command, tuple(axes), fixed, directory, tuple(tasks), model, format)


def _axes(grid: Mapping[str, Sequence[Any]] | Sequence[ParameterAxis]) -> list[ParameterAxis]:
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
                raise ConfigError(f"the values of axis {name} must be a list, e.g. [0.03, 0.04], got {values!r}")
        axes = [ParameterAxis(str(name), tuple(values)) for name, values in grid.items()]
    elif isinstance(grid, Sequence) and not isinstance(grid, (str, bytes)) and all(
            isinstance(axis, ParameterAxis) for axis in grid):  # fmt: skip
        axes = list(grid)
    else:
        raise ConfigError(f"grid must map names to lists of values, e.g. {{'F': [0.03, 0.04]}}, got {grid!r}")
    if not axes:
        raise ConfigError("a sweep needs at least one parameter axis")
    for axis in axes:
        if not len(axis):
            raise ConfigError(f"parameter axis {axis.name} has no values")
        if len(set(map(repr, axis.values))) != len(axis):
            raise ConfigError(f"parameter axis {axis.name} repeats a value")
        if any(isinstance(value, float) and not math.isfinite(value) for value in axis.values):
            raise ConfigError(f"parameter axis {axis.name} holds a value that is not finite: {list(axis.values)}")
    return axes


def _fixed_options(fixed: dict[str, Any], options: Sequence[str]) -> dict[str, Any]:
    """The fixed options checked against the engine's, paths made absolute (the points may run elsewhere)."""
    for name in fixed:
        if name in RESERVED_OPTIONS:
            raise ConfigError(f"{name!r} cannot be given to the points of a sweep; the sweep sets it for every point")
        if name not in options:
            raise ConfigError(f"unknown option {name!r}; options: {', '.join(options)}")
    if fixed.get("model_file") is not None:
        path = Path(fixed["model_file"]).expanduser().resolve()
        if not path.is_file():
            raise ConfigError(f"model file {fixed['model_file']}: file not found")
        fixed["model_file"] = str(path)
    for name, value in fixed.items():
        if isinstance(value, os.PathLike):
            fixed[name] = os.fspath(value)
    return fixed


def _model_and_units(fixed: Mapping[str, Any], default_model: str, swept: Sequence[str]) -> tuple[str, dict[str, str]]:
    """The simulated model's name and the units of the swept model parameters (checked to exist)."""
    from rd_classic.models import MODELS, load_model_file

    model_file = fixed.get("model_file")
    model = Path(model_file).stem if model_file else str(fixed.get("model") or default_model)
    declaration = load_model_file(model_file) if model_file else MODELS.get(model)
    if declaration is None:  # an unknown model: the points fail with the engine's own message
        return model, {}
    known = {parameter.name: parameter.units for parameter in declaration.parameters}
    unknown = [name for name in swept if name not in known]
    if unknown:
        raise ConfigError(
            f"{unknown[0]}: {model} has no parameter {unknown[0]!r} and no option of that name; "
            f"parameters: {', '.join(known)}"
        )
    return model, {name: known[name] for name in swept}

