"""The run: a validated configuration and the loop that steps it and calls observers.

>>> config = build_config("gray-scott", size="128", steps=2000)  # doctest: +SKIP
>>> memory = MemoryObserver()  # doctest: +SKIP
>>> run_simulation(config, observers=[memory])  # doctest: +SKIP

The loop knows nothing about files or terminals: it hands each snapshot (fields and
the reaction/diffusion parts of their rate of change) to the observers it is given
(:mod:`rd_classic.observers` has a dataset writer and a progress bar). It checks every
snapshot for NaN/Inf and stops with :class:`~rdnet.errors.RunError` naming the step;
on an error or Ctrl-C the observers are told to ``abort`` (the writer keeps its
partial file if it holds a snapshot). The stepper, the initial state and the first
snapshot are allocated before any observer starts, so a grid too large for memory
fails before a file is created.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from rdnet.errors import ConfigError, RunError
from rdnet.observers import RunObserver, notify, stop_requested

from rd_classic.adaptive import SMALLEST_STEP
from rd_classic.boundaries import BoundaryConditions, resolve_boundary_conditions
from rd_classic.grids import BOUNDARIES, Grid, check_spacing, parse_size
from rd_classic.initial import check_initial_condition, initial_state
from rd_classic.integrators import largest_stable_dt, make_stepper
from rd_classic.model_file import ModelDeclaration
from rd_classic.models import Model, builtin_declaration, get_model, model_from_text
from rd_classic.noise import NoiseTerms, resolve_noise
from rd_classic.parameter_fields import ParameterField, is_field_specification, parameter_field
from rd_classic.presets import default_preset, get_preset
from rd_classic.schemes import ADAPTIVE_SCHEMES, BACKENDS, DTYPES, IMEX_SCHEMES, NOISE_INTEGRATORS, check_integrator

__all__ = [
    "SimulationConfig",
    "build_config",
    "RunObserver",
    "MemoryObserver",
    "SimulationInterrupted",
    "run_simulation",
    "snapshot_steps",
    "snapshot_times",
    "StepSizeRecorder",
]

#: steps between progress updates are capped so that one chunk is about this many cell updates
_CELL_UPDATES_PER_CHUNK = 50_000_000


@dataclass(frozen=True)
class SimulationConfig:
    """Everything that defines a run (and is stored in its ``parameters`` attribute)."""

    model: Model
    grid: Grid
    dt: float
    steps: int
    snapshot_every: int
    integrator: str = "euler"
    backend: str = "numba"
    device: str = "cpu"
    dtype: str = "float64"
    seed: int = 0
    initial_condition: str = "noise"
    preset: str | None = None
    parameter_fields: Mapping[str, ParameterField] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    boundary_conditions: BoundaryConditions | None = None
    noise: NoiseTerms | None = None
    #: an adaptive run (:mod:`rd_classic.adaptive`): tolerances, end time and number of snapshot intervals
    #: (its ``dt`` is the first step to try; ``steps`` and ``snapshot_every`` are 0)
    rtol: float | None = None
    atol: float | None = None
    duration: float | None = None
    snapshot_count: int = 0
    #: a resumed adaptive run: the time, next step size and rejected steps of its state
    adaptive_start: tuple[float, float, int] | None = None

    @property
    def adaptive(self) -> bool:
        """Whether the step size is chosen by an embedded pair's error estimate."""
        return self.rtol is not None

    @property
    def boundary(self) -> BoundaryConditions:
        """Every species' condition on every side (``grid.boundary`` everywhere unless given)."""
        if self.boundary_conditions is not None:
            return self.boundary_conditions
        return BoundaryConditions.uniform(self.grid.boundary, self.model.species)

    def to_parameters(self) -> dict[str, Any]:
        """JSON-able parameters: model parameters (flat), the model's declaration and the run set-up.

        ``model_declaration`` is the model file's text, so the run can be repeated (or
        resumed) with no other file; ``parameter_fields`` maps each field-valued
        parameter to its specification (its values are in the dataset as
        ``parameter_<name>``); ``boundary`` is ``periodic``, ``no-flux`` or ``mixed`` and
        ``boundary_conditions`` every species' condition on every side; ``noise_terms`` the
        noise amplitude of every species with noise (its numbers are seeded by ``seed``);
        an adaptive run's ``adaptive`` its ``rtol``, ``atol``, ``duration`` and ``snapshots``
        (``dt`` is then the first step tried).
        """
        return {
            "model": self.model.name,
            **self.model.parameters(),
            "preset": self.preset,
            "size": list(self.grid.shape),
            "dx": self.grid.dx,
            "boundary": self.boundary.summary(self.grid.ndim),
            "boundary_conditions": self.boundary.to_json(),
            "noise_terms": self.noise.to_json() if self.noise is not None else {},
            "dt": self.dt,
            "steps": self.steps,
            "snapshot_every": self.snapshot_every,
            "integrator": self.integrator,
            "backend": self.backend,
            "device": self.device,
            "dtype": self.dtype,
            "seed": self.seed,
            "initial_condition": self.initial_condition,
            "parameter_fields": {name: item.specification for name, item in self.parameter_fields.items()},
            "model_declaration": self.model.declaration.text,
            **({"adaptive": {"rtol": self.rtol, "atol": self.atol, "duration": self.duration,
                             "snapshots": self.snapshot_count}} if self.adaptive else {}),  # fmt: skip
            **self.extra,
        }

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any], *,
                        stored_fields: Mapping[str, np.ndarray] | None = None) -> SimulationConfig:  # fmt: skip
        """Rebuild the configuration stored by :meth:`to_parameters`.

        The stored declaration is untrusted text: it is parsed by the same checks as a
        model file. A file without one (written before model files) names a built-in model.

        Parameters
        ----------
        parameters
            The stored parameters.
        stored_fields
            Field-valued parameters as the run's dataset keeps them (``parameter_<name>``),
            used for fields that were read from files.
        """
        try:
            text = parameters.get("model_declaration")
            if text is not None:
                declaration = model_from_text(text, origin="the run's stored model declaration")
                if declaration.name != parameters["model"]:
                    raise ConfigError(f"the stored declaration is of {declaration.name!r}, the run of {parameters['model']!r}")
            else:
                declaration = builtin_declaration(parameters["model"])
            model = get_model(declaration)
            model = model.with_parameters(**{key: parameters[key] for key in model.parameter_names() if key in parameters})
            word = parameters["boundary"]
            grid = Grid(tuple(int(n) for n in parameters["size"]), float(parameters["dx"]),
                        word if word in BOUNDARIES else "no-flux")  # fmt: skip
            stored = parameters.get("boundary_conditions")
            conditions = None if stored is None else BoundaryConditions.from_json(stored, model.species,
                                                                                   model.parameter_names())  # fmt: skip
            noise_terms = parameters.get("noise_terms") or {}
            if not isinstance(noise_terms, dict):
                raise ConfigError("the stored noise_terms are not a table of species")
            noise = resolve_noise(model.species, model.parameter_names(), specifications=noise_terms)
            adaptive = parameters.get("adaptive") or {}
            fields = {}
            for name, specification in (parameters.get("parameter_fields") or {}).items():
                stored = (stored_fields or {}).get(name)
                fields[name] = parameter_field(model, name, str(specification), grid, stored=stored)
            return cls(
                model=model,
                grid=grid,
                dt=float(parameters["dt"]),
                steps=int(parameters["steps"]),
                snapshot_every=int(parameters["snapshot_every"]),
                integrator=parameters["integrator"],
                backend=parameters["backend"],
                device=parameters["device"],
                dtype=parameters["dtype"],
                seed=int(parameters["seed"]),
                initial_condition=parameters["initial_condition"],
                preset=parameters.get("preset"),
                parameter_fields=fields,
                boundary_conditions=conditions,
                noise=noise,
                rtol=None if not adaptive else float(adaptive["rtol"]),
                atol=None if not adaptive else float(adaptive["atol"]),
                duration=None if not adaptive else float(adaptive["duration"]),
                snapshot_count=0 if not adaptive else int(adaptive["snapshots"]),
            )
        except KeyError as missing:
            raise ConfigError(f"the file's parameters lack {missing}; cannot rebuild the run") from None
        except (TypeError, ValueError) as error:
            raise ConfigError(f"the file's parameters are malformed ({error}); cannot rebuild the run") from None

    @property
    def end_time(self) -> float:
        """Model time at the last step."""
        return self.duration if self.adaptive else self.steps * self.dt

    @property
    def field_arrays(self) -> dict[str, np.ndarray]:
        """The field-valued parameters' arrays, by name."""
        return {name: item.values for name, item in self.parameter_fields.items()}


#: intervals between the snapshots of a run by default (``snapshots``): 21 snapshots, the initial state first
DEFAULT_SNAPSHOTS = 20

def build_config(
    model: str | ModelDeclaration | Model = "gray-scott",
    *,
    preset: str | None = None,
    parameters: Mapping[str, float | str] | None = None,
    size: str | tuple[int, ...] = "256",
    steps: int | None = None,
    time: float | None = None,
    dt: float | None = None,
    dx: float | None = None,
    integrator: str = "euler",
    boundary: str | Sequence[str] | Mapping[str, str] | None = None,
    noise: str | Sequence[str] | Mapping[str, str] | None = None,
    backend: str | None = None,
    device: str = "cpu",
    dtype: str = "float64",
    snapshot_every: int | None = None,
    snapshots: int | None = None,
    seed: int = 0,
    initial_condition: str | None = None,
    allow_unstable: bool = False,
    rtol: float | None = None,
    atol: float | None = None,
) -> SimulationConfig:
    """Validate user choices and fill defaults from the model's preset.

    Parameters
    ----------
    model, preset
        A built-in model's name, or a model's declaration (a model file read with
        :func:`rd_classic.models.load_model_file`); and a preset name (default: the
        model's default preset, e.g. ``mitosis`` for Gray-Scott).
    parameters
        Model parameters overriding the preset's: a number, or a field (an expression
        in ``x, y, z, Lx, Ly, Lz``, or ``@FILE.nc:VAR``; see
        :mod:`rd_classic.parameter_fields`).
    size
        ``"256"``, ``"512x256"`` (nx by ny), ``"512x1"`` (1-D), ``"64x64x64"`` (3-D) or
        the stored shape as a tuple.
    steps, time
        Number of steps, or the model time to reach; default: the preset's duration.
        With a duration, the run takes ``n = ceil(time / dt)`` steps and ``dt`` is
        lowered to ``time / n`` so that the last step ends exactly at ``time``.
    dt
        Time step; default the preset's, or 80 % of the explicit stability limit
        (:func:`~rd_classic.integrators.largest_stable_dt`, reaction and diffusion
        linearised at the homogeneous state, or where there is none at the stiffest cells
        of the initial condition; for a field-valued parameter the smallest limit over its
        minimum and maximum) when the preset's is beyond it.
    dx
        Grid spacing; default the preset's.
    integrator
        ``euler``, ``rk2``, ``rk4`` or ``etdrk4``.
    boundary
        Boundary conditions (:mod:`rd_classic.boundaries`), applied after the model file's
        ``[boundary]`` table: ``"periodic"`` or ``"no-flux"`` (every side of every species),
        any condition (``"dirichlet 0"``), ``"u=dirichlet 1"`` (one species),
        ``"u.x-=neumann 0.1"`` (one side), a list of these in order, or a mapping
        ``{"u": "dirichlet 1"}``. Sides nothing sets are periodic.
    noise
        Noise terms (:mod:`rd_classic.noise`), applied after the model file's ``[noise]``:
        ``"u=0.01"``, ``"v=0.1*v"`` (``0`` removes one, ``"none"`` all), a list of these,
        or a mapping ``{"u": "0.01"}``. A run with noise is integrated by ``euler``
        (Euler–Maruyama) or ``milstein``, its numbers seeded by ``seed``.
    backend
        ``numba``, ``torch`` or ``numpy``; default ``numba`` on the CPU (``numpy``
        for ``etdrk4``) and ``torch`` on other devices.
    device, dtype
        ``cpu``/``cuda``; ``float64``/``float32``.
    snapshot_every, snapshots
        Steps between snapshots, or the number of intervals between them (default
        :data:`DEFAULT_SNAPSHOTS`: ``snapshots + 1`` snapshots, the initial state first); not both.
        ``snapshot_every`` defaults to ``steps // snapshots``; a run given by its ``time`` takes a
        multiple of ``snapshots`` steps (at most ``snapshots - 1`` more, ``dt`` a little smaller), so that
        its snapshots are evenly spaced up to the last.
    seed
        Seed of the initial noise and of the noise terms' numbers.
    initial_condition
        See :mod:`rd_classic.initial`; default the preset's.
    allow_unstable
        Accept an explicit ``dt`` beyond the stability limit.
    rtol, atol
        Tolerances of an adaptive run (``integrator`` ``rk23`` or ``rk45``; default 1e-3 and
        1e-6): its step is chosen by the pair's error estimate and capped by the stability
        limit, ``dt`` is only the first step tried, the run needs ``time`` (or the preset's
        duration), not ``steps``, and takes ``snapshots`` snapshots at equal times.

    Raises
    ------
    ConfigError
        Anything invalid, with one line saying what and what would be valid.
    """
    if isinstance(model, Model):
        declaration = model.declaration
        base_values = dict(model.values)
    else:
        declaration = model if isinstance(model, ModelDeclaration) else builtin_declaration(model)
        base_values = {}
    chosen = get_preset(declaration, preset) if preset is not None else default_preset(declaration)
    numbers: dict[str, float] = {**base_values, **chosen.parameters}
    field_specifications: dict[str, str] = {}
    if parameters is not None and not isinstance(parameters, Mapping):
        raise ConfigError(f"parameters must map names to values, e.g. {{'F': 0.035}}; got {parameters!r}")
    for name, value in (parameters or {}).items():
        if not isinstance(name, str):
            raise ConfigError(f"a parameter's name must be a string, got {name!r}")
        if isinstance(value, str) and is_field_specification(value):
            field_specifications[name] = value
        else:
            numbers[name] = value
    model_object = get_model(declaration, **numbers)
    shape = _shape(size)
    spacing = chosen.dx if dx is None else _positive("dx", dx)
    probe = Grid(shape, spacing)  # the grid's dimension decides which sides exist
    conditions = resolve_boundary_conditions(declaration.species, declaration.parameter_names,
                                             declared=declaration.boundary, specifications=boundary,
                                             ndim=probe.ndim)  # fmt: skip
    conditions.check(probe.ndim)
    grid = Grid(shape, spacing, "periodic" if conditions.all_periodic(probe.ndim) else "no-flux")
    fields = {name: parameter_field(model_object, name, text, grid) for name, text in field_specifications.items()}
    _check_boundary_values(conditions, grid, fields)
    check_integrator(integrator)
    noise_terms = resolve_noise(declaration.species, declaration.parameter_names, declared=declaration.noise,
                                specifications=noise)  # fmt: skip
    _check_noise(noise_terms, integrator)
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; valid dtypes: {', '.join(DTYPES)}")
    check_spacing(grid.dx, grid.shape, dtype)
    if not isinstance(device, str):
        raise ConfigError(f"device must be a name like 'cpu', 'cuda' or 'cuda:1', got {device!r}")
    if backend is None:
        backend = "torch" if device != "cpu" else ("numpy" if integrator in ("etdrk4", *IMEX_SCHEMES) else "numba")
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    seed = _whole_number("seed", seed, smallest=0)
    initial = check_initial_condition(chosen.initial_condition if initial_condition is None else initial_condition,
                                      model_object)
    _check_noise_at_start(noise_terms, model_object, grid, fields, initial, int(seed))
    limit = _stability_limit(model_object, grid, integrator, fields, conditions, initial=initial, seed=int(seed))
    snapshots_given = snapshots is not None
    if snapshots is None:
        snapshots = DEFAULT_SNAPSHOTS
    elif snapshot_every is not None:
        raise ConfigError("give snapshots (intervals) or snapshot_every (steps between snapshots), not both")
    snapshots = _whole_number("snapshots", snapshots)
    if allow_unstable and (integrator in ADAPTIVE_SCHEMES or math.isinf(limit)):
        raise ConfigError(f"allow_unstable applies only to the explicit fixed-step schemes (euler, rk2, rk4, milstein), "
                          f"not {integrator}: it has no step limit to exceed")  # fmt: skip
    if integrator in ADAPTIVE_SCHEMES:
        return _adaptive_config(model_object, grid, chosen, integrator, backend, device, dtype, seed, fields,
                                conditions, noise_terms, initial_condition, dt=dt, limit=limit, steps=steps,
                                time=time, snapshots=snapshots, snapshot_every=snapshot_every, rtol=rtol, atol=atol)  # fmt: skip
    if rtol is not None or atol is not None:
        raise ConfigError(f"rtol and atol set the step of an adaptive integrator (rk23 or rk45), not {integrator}")
    if dt is None:
        if allow_unstable:  # the default dt is within the limit: nothing to allow
            raise ConfigError("allow_unstable accepts a dt beyond the stability limit; it cannot apply without a dt")
        dt = _default_dt(chosen, limit, integrator)
    else:
        dt = _positive("dt", dt)
        if dt > limit and not allow_unstable:
            what = ("its explicit reaction at the homogeneous state; the diffusion has no limit"
                    if integrator in ("etdrk4", *IMEX_SCHEMES) else "reaction and diffusion at the homogeneous state")
            raise ConfigError(
                f"dt={dt:g} exceeds the stability limit of {integrator} for this model on this grid ({what}); "
                f"the largest stable dt is {limit:.6g} (pass --allow-unstable to run anyway)"
            )
    if steps is not None and time is not None:
        raise ConfigError("give either steps or time, not both")
    if steps is None:
        duration = chosen.time if time is None else _positive("time", time)
        steps = max(1, math.ceil(duration / dt - 1e-9))
        if snapshot_every is None and steps > snapshots:
            # a whole number of steps between snapshots, so that they are evenly spaced in time up to the last
            # (the temporal analysis needs even spacing): at most snapshots - 1 steps more
            steps = int(snapshots) * math.ceil(steps / int(snapshots))
        dt = duration / steps  # the last step lands on the duration exactly (dt only shrinks)
    steps = _whole_number("steps", steps)
    if snapshots_given and steps % snapshots:
        raise ConfigError(f"{snapshots} snapshot intervals cannot be evenly spaced over the run's {steps} steps; give "
                          f"a number of snapshots that divides the steps (or a smaller dt), or snapshot_every")  # fmt: skip
    if snapshot_every is None:
        snapshot_every = max(1, steps // snapshots)
    snapshot_every = _whole_number("snapshot_every", snapshot_every)
    config = SimulationConfig(
        model=model_object,
        grid=grid,
        dt=float(dt),
        steps=steps,
        snapshot_every=int(snapshot_every),
        integrator=integrator,
        backend=backend,
        device=device,
        dtype=dtype,
        seed=int(seed),
        initial_condition=initial,
        preset=chosen.name,
        parameter_fields=fields,
        boundary_conditions=conditions,
        noise=noise_terms,
    )
    return config


def _default_dt(chosen, limit: float, integrator: str) -> float:
    """The preset's dt when within the limit, else 80 % of the limit rounded down to two digits.

    Without a preset dt, ``etdrk4`` and ``imex`` (whose limit is their reaction's alone, no diffusion)
    take 0.1 when it is within the limit: 80 % of a reaction limit is a stable step, not an accurate one.
    """
    if chosen.dt is not None and chosen.dt <= limit:
        return chosen.dt
    if chosen.dt is None and integrator in ("etdrk4", *IMEX_SCHEMES) and limit >= 0.1:
        return 0.1
    if math.isfinite(limit):
        return _round_down(0.8 * limit)
    return chosen.dt if chosen.dt is not None else 0.1


#: the smallest rtol an adaptive run takes, per dtype: about 450 units of float64 rounding (2.2e-16), and float32's
#: (1.2e-7: every stored value is rounded by half of it, so a smaller tolerance cannot be met)
_SMALLEST_RTOL = {"float64": 1e-13, "float32": 1e-7}


def _adaptive_config(model: Model, grid: Grid, chosen, integrator: str, backend: str, device: str, dtype: str,
                     seed, fields, conditions, noise_terms, initial_condition, *, dt, limit, steps, time, snapshots,
                     snapshot_every, rtol, atol) -> SimulationConfig:  # fmt: skip
    """The configuration of an adaptive run (an embedded pair): tolerances, duration, snapshots at equal times."""
    if steps is not None:
        raise ConfigError(f"{integrator} chooses its own steps: give a duration (time), not steps")
    if snapshot_every is not None:
        raise ConfigError(f"{integrator} chooses its own steps: give the number of snapshots, not snapshot_every")
    rtol = 1e-3 if rtol is None else _positive("rtol", rtol)
    atol = 1e-6 if atol is None else _positive("atol", atol)
    smallest = _SMALLEST_RTOL[dtype]
    if rtol < smallest:
        raise ConfigError(f"rtol={rtol:g} is below what {dtype} can resolve; use rtol >= {smallest:g}"
                          + (" or --dtype float64" if dtype == "float32" else ""))
    duration = chosen.time if time is None else _positive("time", time)
    count = snapshots
    first = _default_dt(chosen, limit, integrator) if dt is None else min(_positive("dt", dt), limit)
    if first < SMALLEST_STEP:
        raise ConfigError(f"dt={first:g} is below the smallest step {integrator} takes ({SMALLEST_STEP:g}); dt is only "
                          f"the first step it tries: leave it out or give a larger one")  # fmt: skip
    return SimulationConfig(
        model=model, grid=grid, dt=float(min(first, duration)), steps=0, snapshot_every=0, integrator=integrator,
        backend=backend, device=device, dtype=dtype, seed=int(seed),
        initial_condition=check_initial_condition(initial_condition or chosen.initial_condition, model),
        preset=chosen.name, parameter_fields=fields, boundary_conditions=conditions, noise=noise_terms,
        rtol=rtol, atol=atol, duration=duration, snapshot_count=count,
    )  # fmt: skip


def _blow_up_hint(config: SimulationConfig) -> str:
    """What to try after a run's fields became NaN or infinite."""
    if config.noise is None:
        return "Try a smaller dt or another integrator."
    scale = NoiseTerms.increment_scale(config.grid.dx, config.dt, config.grid.ndim)
    return (f"With noise, each step kicks a cell by amplitude × {scale:.3g} (sqrt(dt/dx^{config.grid.ndim}), "
            f"spatially white noise): try a smaller noise amplitude, or a smaller dt.")


def _check_noise(noise: NoiseTerms | None, integrator: str) -> None:
    """A run with noise is integrated by euler or milstein; milstein needs diagonal noise."""
    if noise is not None and integrator not in NOISE_INTEGRATORS:
        raise ConfigError(f"a run with noise is integrated by euler (Euler-Maruyama) or milstein, not {integrator} "
                          f"(noise on: {', '.join(noise.terms)})")  # fmt: skip
    if integrator == "milstein":
        if noise is None:
            raise ConfigError("milstein integrates noise; this run has none (add a [noise] table or --noise)")
        noise.check_milstein()


def _check_noise_at_start(noise: NoiseTerms | None, model: Model, grid: Grid, fields: Mapping[str, ParameterField],
                          initial: str, seed: int) -> None:  # fmt: skip
    """Refuse a noise amplitude that is not finite at ``t = 0`` on the initial state (``log(t)``, ``1/(x - 8)``,
    ``sqrt(u)`` where u < 0): the run would otherwise stop at its first step as if dt were too large."""
    if noise is None:
        return
    arrays = {name: item.values for name, item in fields.items()}
    values: dict[str, Any] = {**dict(model.values), **arrays, **grid.expression_values(), "t": 0.0}
    if any(term.names & set(model.species) for term in noise.terms.values()):
        values.update(zip(model.species, initial_state(initial, model, grid, seed=seed, parameter_fields=arrays)))
    for name, term in noise.terms.items():
        with np.errstate(all="ignore"):
            amplitude = np.asarray(term.evaluate(values), dtype=float)
        if not np.all(np.isfinite(amplitude)):
            raise ConfigError(f"noise of {name}: '{term.text}' is not finite at t = 0 on the initial state")


def _check_boundary_values(conditions: BoundaryConditions, grid: Grid, fields: Mapping[str, ParameterField]) -> None:
    """Refuse a condition on a side the grid has that uses a field-valued parameter (its value is per face, not per cell)."""
    for condition in conditions.used(grid.ndim):
        for expression in condition.coefficients or ():
            used = sorted(expression.names & set(fields))
            if used:
                raise ConfigError(f"boundary condition '{condition.text}' uses {used[0]}, which varies in space; "
                                  f"give the condition its own expression in x, y, z instead")  # fmt: skip


def _stability_limit(model: Model, grid: Grid, integrator: str, fields: Mapping[str, ParameterField],
                     boundary: BoundaryConditions | None = None, *, initial: str | None = None,
                     seed: int = 0) -> float:  # fmt: skip
    """The explicit step limit; with field-valued parameters, the smallest over each field's extremes.

    A model without a homogeneous steady state (its reaction depends on ``x, y, z, t``, or it has
    none) is also linearised at the cells of its ``initial`` condition (at ``t = 0``) whose
    reaction Jacobian is largest, smallest in trace and largest in trace: its diffusion alone
    would not bound a stiff reaction such as ``-100*u + sin(x)``.
    """
    arrays = {name: item.values for name, item in fields.items()}
    return min(_initial_state_limit(varied, grid, integrator, boundary, initial, seed, arrays)
               for varied in _extreme_models(model, fields))  # fmt: skip


def _extreme_models(model: Model, fields: Mapping[str, ParameterField]) -> list[Model]:
    """The model, and the model at each field-valued parameter's minimum and maximum."""
    models = [model]
    for name, item in fields.items():
        models.extend(model.with_parameters(**{name: extreme})
                      for extreme in (float(item.values.min()), float(item.values.max())))  # fmt: skip
    return models


def _initial_state_limit(model: Model, grid: Grid, integrator: str, boundary: BoundaryConditions | None,
                         initial: str | None, seed: int,
                         parameter_fields: Mapping[str, np.ndarray] | None = None) -> float:  # fmt: skip
    """The step limit at the homogeneous state; without one, also at the stiffest cells of the initial state."""
    if initial is None:
        return largest_stable_dt(model, grid, integrator, boundary=boundary)
    try:
        states = model.steady_states()  # searched once here, handed to largest_stable_dt
    except ConfigError:  # the reaction depends on position or time
        states = []
    if states:
        return largest_stable_dt(model, grid, integrator, state=states[0], boundary=boundary)
    state = initial_state(initial, model, grid, seed=seed, parameter_fields=parameter_fields)
    with np.errstate(all="ignore"):
        jacobians = model.jacobian_array(*state, t=0.0, coordinates=grid.expression_values())
    jacobians = jacobians.reshape(model.n_species, model.n_species, -1)
    jacobians = np.where(np.isfinite(jacobians), jacobians, 0.0)
    traces = np.einsum("iic->c", jacobians)
    cells = {int(np.argmax(np.sum(jacobians**2, axis=(0, 1)))), int(np.argmin(traces)), int(np.argmax(traces))}
    diffusion_alone = np.zeros((model.n_species, model.n_species))
    return min(largest_stable_dt(model, grid, integrator, boundary=boundary, jacobian=jacobian)
               for jacobian in [diffusion_alone, *(jacobians[:, :, cell] for cell in cells)])  # fmt: skip


def _shape(size) -> tuple[int, ...]:
    """The grid shape of ``size``: text (``"512x256"``), a whole number, or the array shape as a sequence."""
    if isinstance(size, str):
        return parse_size(size)
    if isinstance(size, numbers.Integral) and not isinstance(size, bool):
        return parse_size(str(int(size)))
    if isinstance(size, (Sequence, np.ndarray)) and not isinstance(size, (bytes, bytearray)):
        return tuple(_whole_number(f"each entry of size {tuple(size)}", n) for n in size)
    raise ConfigError(f"size must be like 256, '512x256' or the shape (ny, nx), got {size!r}")


def _whole_number(name: str, value, *, smallest: int = 1) -> int:
    """``value`` as an int: a whole number (``10`` or ``10.0``, not ``True``, ``"10"`` or ``10.5``) at least ``smallest``."""
    what = "a positive integer" if smallest == 1 else f"an integer >= {smallest}" if smallest else "a non-negative integer"
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value != int(value):
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    if value < smallest:
        raise ConfigError(f"{name} must be {what}, got {value!r}")
    return int(value)


def _positive(name: str, value: float) -> float:
    if isinstance(value, (bool, str, bytes)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not (math.isfinite(number) and number > 0):
        raise ConfigError(f"{name} must be a positive finite number, got {value!r}")
    return number


def _round_down(value: float) -> float:
    """Round down to 2 significant digits (a readable default dt)."""
    exponent = math.floor(math.log10(value)) - 1
    return math.floor(value / 10**exponent) * 10**exponent


class MemoryObserver:
    """Keep every snapshot in memory (``steps``, ``times``, ``fields[name]`` lists)."""

    def __init__(self) -> None:
        self.steps: list[int] = []
        self.times: list[float] = []
        self.fields: dict[str, list[np.ndarray]] = {}

    def snapshot(self, step: int, time: float, fields: dict[str, np.ndarray]) -> None:
        """Append the snapshot to the lists."""
        self.steps.append(step)
        self.times.append(time)
        for name, values in fields.items():
            self.fields.setdefault(name, []).append(values)

    def stacked(self, name: str) -> np.ndarray:
        """The snapshots of one field as an array ``(time, y, x)`` (``(time, z, y, x)`` in 3-D)."""
        return np.stack(self.fields[name])


class SimulationInterrupted(KeyboardInterrupt):
    """Ctrl-C during a run; ``step`` is the last step completed."""

    def __init__(self, step: int) -> None:
        super().__init__(f"interrupted at step {step}")
        self.step = step


def snapshot_times(config: SimulationConfig) -> list[float]:
    """Times of an adaptive run's snapshots: ``snapshot_count`` equal intervals up to ``duration`` (ends exact)."""
    count = config.snapshot_count
    return [config.duration * k / count for k in range(count)] + [config.duration]


class StepSizeRecorder:
    """Keep the end time and size of every accepted step of an adaptive run (``times``, ``sizes``), and the
    rejected steps so far (``rejected``)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.sizes: list[float] = []
        self.rejected = 0

    def step_sizes(self, times: np.ndarray, sizes: np.ndarray, rejected: int, dt_next: float) -> None:
        """Append the accepted steps since the last snapshot."""
        self.times.extend(float(value) for value in times)
        self.sizes.extend(float(value) for value in sizes)
        self.rejected = int(rejected)


def snapshot_steps(config: SimulationConfig) -> list[int]:
    """Steps at which snapshots are taken: 0, every ``snapshot_every``, and the last step."""
    steps = list(range(0, config.steps + 1, config.snapshot_every))
    if steps[-1] != config.steps:
        steps.append(config.steps)
    return steps


def run_simulation(
    config: SimulationConfig,
    *,
    observers: Sequence[Any] = (),
    state: tuple[np.ndarray, ...] | None = None,
    start_step: int = 0,
) -> tuple[np.ndarray, ...]:
    """Run ``config`` and hand every snapshot to the observers.

    Parameters
    ----------
    config
        The run.
    observers
        Objects with any of the hooks of :class:`rdnet.observers.RunObserver` (``start``, ``progress``,
        ``snapshot``, ``finish``, ``abort``).
    state
        One field per species to start from (a resumed run); default: the configured
        initial condition, which is also the first snapshot.
    start_step
        Step number of ``state`` (its snapshot is not repeated).

    Returns
    -------
    tuple of numpy.ndarray
        The final fields, one per species.

    Raises
    ------
    RunError
        NaN or Inf appeared (the message names the step), or the initial state is
        not finite (before the observers start).
    MemoryError
        The stepper, the initial state or its first snapshot do not fit in memory;
        they are allocated before the observers' ``start``, so no file exists yet.
    SimulationInterrupted
        Ctrl-C; observers were aborted (a writer keeps its partial file when it
        holds a snapshot).

    Notes
    -----
    The compiled kernels run on as many threads as the grid pays for
    (:func:`rd_classic.kernel_threads.kernel_threads`: one on a small grid); the
    result does not depend on it.
    """
    from rd_classic.kernel_threads import kernel_threads

    with kernel_threads(config.grid.n_cells * config.model.n_species):
        return _run_simulation(config, observers, state, start_step)


def _run_simulation(config: SimulationConfig, observers: Sequence[Any], state: tuple[np.ndarray, ...] | None,
                    start_step: int) -> tuple[np.ndarray, ...]:
    """:func:`run_simulation`'s work, on the thread count it chose."""
    # everything big is allocated before the observers start (before an output file
    # exists): a grid too large for memory fails here and leaves nothing behind
    stepper = make_stepper(config.model, config.grid, dt=config.dt, integrator=config.integrator,
                           backend=config.backend, device=config.device, dtype=config.dtype,
                           parameter_fields=config.field_arrays, boundary=config.boundary, noise=config.noise,
                           seed=config.seed)  # fmt: skip
    if config.adaptive:
        from rd_classic.adaptive import AdaptiveStepper

        limit = _stability_limit(config.model, config.grid, config.integrator, config.parameter_fields, config.boundary)
        stepper = AdaptiveStepper(stepper, rtol=config.rtol, atol=config.atol, dt_max=limit, dt_initial=config.dt)
    if state is None:
        if start_step != 0:
            raise ValueError("start_step needs a state")
        stepper.set_state(*initial_state(config.initial_condition, config.model, config.grid, seed=config.seed,
                                         parameter_fields=config.field_arrays))  # fmt: skip
        first = _snapshot_fields(stepper, config)
        if first is None:
            raise RunError("the initial state is not finite (NaN/Inf in the fields or their rates); nothing was written")
    elif config.adaptive:
        time, dt_next, rejected = config.adaptive_start or (0.0, config.dt, 0)
        stepper.set_state(*state, step=start_step, time=time, dt_next=dt_next, rejected=rejected)
        first = None
    else:
        stepper.set_state(*state, step=start_step)
        first = None
    step = start_step
    try:
        notify(observers, "start", config, start_step)
        if first is not None:
            if config.adaptive:
                notify(observers, "step_sizes", np.zeros(0), np.zeros(0), 0, stepper.dt_next)
            notify(observers, "snapshot", 0, 0.0, first)
            del first
        last_good = step
        for target in snapshot_times(config) if config.adaptive else snapshot_steps(config):
            if config.adaptive:
                if target <= stepper.time:
                    continue
                times, sizes = stepper.advance_to(target, progress=lambda now: notify(observers, "progress_time", now))
                step, time = stepper.step, target
                notify(observers, "step_sizes", times, sizes, stepper.rejected, stepper.dt_next)
            else:
                if target <= step:
                    continue
                step = _advance_steps(stepper, observers, step, target, config)
                time = step * config.dt
            if not _emit(stepper, observers, step, config):
                raise RunError(
                    f"NaN/Inf appeared between step {last_good} and step {step} (time {time:g}); "
                    f"the run stopped, snapshots up to step {last_good} are kept. {_blow_up_hint(config)}"
                )
            last_good = step
            if stop_requested(observers):
                break  # e.g. a steady state: the run is complete
    except KeyboardInterrupt:
        notify(observers, "abort")
        raise SimulationInterrupted(step) from None
    except BaseException:
        notify(observers, "abort")
        raise
    notify(observers, "finish")
    return stepper.get_state()


def _advance_steps(stepper, observers: Sequence[Any], step: int, target: int, config: SimulationConfig) -> int:
    """Fixed steps up to ``target``, in chunks that keep the progress bar moving; returns ``target``."""
    chunk = max(1, min(config.snapshot_every, _CELL_UPDATES_PER_CHUNK // config.grid.n_cells))
    while step < target:
        n = min(chunk, target - step)
        stepper.advance(n)
        step += n
        notify(observers, "progress", step, None)
    return step


def _snapshot_fields(stepper, config: SimulationConfig) -> dict[str, np.ndarray] | None:
    """The fields and rates of the stepper's state; None if a field is not finite."""
    fields = stepper.get_state()
    if not all(np.isfinite(values).all() for values in fields):
        return None
    return {**dict(zip(config.model.species, fields)), **stepper.rates()}


def _emit(stepper, observers: Sequence[Any], step: int, config: SimulationConfig) -> bool:
    """Send a snapshot to the observers; False (nothing sent) if a field is not finite."""
    fields = _snapshot_fields(stepper, config)
    if fields is None:
        return False
    notify(observers, "snapshot", step, stepper.time if config.adaptive else step * config.dt, fields)
    return True
