"""A fit: its validated configuration, and the pipeline that runs it.

>>> result = fit_pattern(target, model="gray-scott", fit=["F", "k"], time=1500)  # doctest: +SKIP

is :func:`build_fit_config` (every choice checked, defaults from the model's preset)
followed by :func:`run_fit`:

>>> config = build_fit_config("gray-scott", fit=["F", "k"], bounds={"F": (0.02, 0.05), "k": (0.055, 0.068)},
...                           shape=(128, 128), time=1500)  # doctest: +SKIP
>>> result = run_fit(config, target)  # doctest: +SKIP
>>> result.values, result.uncertainty.interval_low  # doctest: +SKIP

The pipeline (each stage reports to an optional ``progress`` callback):

1. the target's statistics (:class:`~rdnet.fit.statistics.PatternDistance`) and its
   dominant wavelength;
2. the first guess from the linear analysis (:mod:`rdnet.fit.first_guess`);
3. the starts: that guess and the screened points of the bounds
   (:func:`~rdnet.fit.optimise.screen`);
4. the search (:func:`~rdnet.fit.optimise.search`: ``gradient``, ``de`` or ``nelder-mead``);
5. intervals and identifiability at the best point (:mod:`rdnet.fit.uncertainty`),
   with one run at the fit kept for the result file.
"""

from __future__ import annotations

import math
import numbers
import os
import time as clock
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from rdnet.errors import ConfigError, RunError

from rd_classic.grids import Grid
from rd_classic.model_file import ModelDeclaration
from rd_classic.models import Model, builtin_declaration, get_model

from rdnet.fit.first_guess import WavelengthGuess
from rdnet.fit.optimise import METHODS, Progress, StartResult, _silent
from rdnet.fit.parameters import ParameterSpace, fitted_names, parameter_space
from rdnet.fit.simulation import SimulationSetup
from rdnet.fit.statistics import StatisticsSettings
from rdnet.fit.uncertainty import INTERVAL_METHOD, Uncertainty

__all__ = ["FitConfig", "FitResult", "build_fit_config", "run_fit", "fit_pattern", "MIN_TARGET_CELLS", "DTYPES"]

#: smallest target side (cells) with enough spectral bins to compare
MIN_TARGET_CELLS = 8
#: precisions a fit runs in
DTYPES = ("float32", "float64")
#: initial conditions drawn from a seed (a fit needs several different ones)
SEEDED_INITIAL_CONDITIONS = ("patches", "pearson", "noise", "expr")
#: the seed offset of the uncertainty runs (fresh noise, not the fit's)
UNCERTAINTY_SEED_OFFSET = 1000
#: relative spread below which the run at the fit counts as uniform (no pattern grew)
UNIFORM_SPREAD = 1e-4


@dataclass(frozen=True)
class FitConfig:
    """Everything that defines a fit (and is stored in its result file's ``parameters``).

    Attributes
    ----------
    setup
        The simulated runs (:class:`~rdnet.fit.simulation.SimulationSetup`).
    space
        The fitted parameters and bounds.
    statistics
        How patterns are compared.
    method, starts, iterations, replicates, uncertainty_replicates, learning_rate, screen, level, seed
        See :func:`build_fit_config`.
    preset
        The preset whose values the model starts from.
    """

    setup: SimulationSetup
    space: ParameterSpace
    statistics: StatisticsSettings
    method: str = "gradient"
    starts: int = 4
    iterations: int = 20
    replicates: int = 2
    uncertainty_replicates: int = 8
    learning_rate: float = 0.1
    screen: int = 16
    level: float = 0.95
    seed: int = 0
    preset: str | None = None

    @property
    def model(self) -> Model:
        """The model (fixed parameters set; the fitted ones at their starting values)."""
        return self.setup.model

    def to_parameters(self) -> dict[str, Any]:
        """JSON-able description of the fit (the model's declaration text included)."""
        setup, space = self.setup, self.space
        return {
            "model": self.model.name,
            "model_declaration": self.model.declaration.text,
            "preset": self.preset,
            "fixed_parameters": {name: value for name, value in self.model.parameters().items() if name not in space.names},
            "fitted": list(space.names),
            "bounds": {name: [low, high] for name, low, high in zip(space.names, space.low, space.high)},
            "log_scale": dict(zip(space.names, space.log_scale)),
            "size": list(setup.grid.shape),
            "dx": setup.grid.dx,
            "boundary": setup.grid.boundary,
            "dt": setup.dt,
            "steps": setup.n_steps,
            "time": setup.end_time,
            "integrator": setup.integrator,
            "initial_condition": setup.initial_condition,
            "observed_species": setup.observed,
            "device": setup.device,
            "dtype": setup.dtype,
            "checkpoint_every": setup.checkpoint_every,
            "window": setup.window,
            "method": self.method,
            "starts": self.starts,
            "iterations": self.iterations,
            "replicates": self.replicates,
            "uncertainty_replicates": self.uncertainty_replicates,
            "learning_rate": self.learning_rate,
            "screen": self.screen,
            "level": self.level,
            "seed": self.seed,
            "periodic_statistics": self.statistics.periodic,
            "standardise": self.statistics.standardise,
            "quantiles": self.statistics.n_quantiles,
            "boundary_levels": list(self.statistics.boundary_levels),
            "softness": self.statistics.softness,
            "interval_method": INTERVAL_METHOD,
        }


def _refuse_what_a_fit_would_ignore(declaration: ModelDeclaration) -> None:
    """A fit simulates on a periodic 2-D grid without noise: refuse a model file's [noise] or non-periodic [boundary]."""
    if declaration.noise:
        raise ConfigError(f"the model file's [noise] table (on {', '.join(declaration.noise)}) cannot apply: a fit "
                          f"simulates without noise; remove the table for the fit")  # fmt: skip
    for species, sides in declaration.boundary.items():
        for side, condition in sides.items():
            if side[0] in "xy" and not condition.periodic:
                raise ConfigError(f"the model file's [boundary] sets {species}.{side} = '{condition.text}', which "
                                  f"cannot apply: a fit simulates on a periodic grid; remove the table for the fit")  # fmt: skip


def _declaration(model: str | os.PathLike | ModelDeclaration) -> ModelDeclaration:
    """A declaration as it is; a path (or a name ending in .toml) read as a model file; else a built-in name."""
    from rd_classic.models import load_model_file

    if isinstance(model, ModelDeclaration):
        return model
    if isinstance(model, os.PathLike) or (isinstance(model, str) and model.lower().endswith(".toml")):
        return load_model_file(model)
    return builtin_declaration(model)


def _refuse_parameters_nothing_uses(declaration: ModelDeclaration, names: Sequence[str], initial: str) -> None:
    """Refuse a fitted parameter that neither the equations nor the initial condition use (no pattern depends on it)."""
    expressions = [*declaration.reaction.values(), *declaration.diffusion.values()]
    if initial == "expr" and declaration.initial is not None:
        expressions += list(declaration.initial.values())
    elif initial != "expr":  # noise and patches start from the steady state, which a closed form may give
        expressions += [expression for state in declaration.steady_states for expression in state.values()]
    used = frozenset().union(*(expression.names for expression in expressions))
    unused = [name for name in names if name not in used]
    if unused:
        raise ConfigError(f"{unused[0]} appears in none of {declaration.name}'s reaction, diffusion or initial "
                          f"expressions: no pattern depends on it, so it cannot be fitted")  # fmt: skip


def build_fit_config(
    model: str | os.PathLike | ModelDeclaration = "gray-scott",
    *,
    fit: Sequence[str],
    shape: tuple[int, int],
    time: float | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    preset: str | None = None,
    parameters: Mapping[str, float] | None = None,
    dx: float | None = None,
    dt: float | None = None,
    integrator: str = "euler",
    initial_condition: str | None = None,
    observed: str | None = None,
    method: str = "gradient",
    starts: int = 4,
    iterations: int = 20,
    replicates: int = 2,
    uncertainty_replicates: int = 8,
    learning_rate: float = 0.1,
    screen: int | None = None,
    level: float = 0.95,
    seed: int = 0,
    device: str = "cpu",
    dtype: str = "float32",
    checkpoint_every: int | None = None,
    window: int | None = None,
    periodic: bool = True,
    standardise: bool = False,
) -> FitConfig:
    """Validate a fit's choices and fill the defaults from the model's preset.

    Parameters
    ----------
    model, preset
        A built-in model's name, a model file's path (``.toml``, a string or a path) or
        its declaration, and the preset whose parameter values, ``dx``, ``dt``, duration
        and initial condition are the defaults.
    fit
        The parameters to fit.
    shape
        The simulation grid ``(ny, nx)`` (the target's, after any resampling), 2-D.
    time
        Model time of the compared state (default: the preset's duration).
    bounds
        Name -> ``(low, high)``; default half to twice the starting value.
    parameters
        Fixed values of other parameters (numbers).
    dx, dt, integrator
        Grid spacing (default the preset's), time step (default the preset's when stable
        everywhere in the bounds, else 80 % of the smallest explicit limit over the
        bounds' corners and centre), explicit scheme.
    initial_condition
        A seeded initial condition (``patches``, ``pearson``, ``noise``, ``expr``);
        default the preset's, with ``pearson`` (one central seed, slow to fill the grid)
        replaced by ``patches``.
    observed
        The species compared with the target (default: the last).
    method, starts, iterations, learning_rate
        The search (:data:`~rdnet.fit.optimise.METHODS`), its starts (for ``de``: the
        initial population, at least 5), gradient steps / generations / Nelder–Mead
        iterations, and the gradient search's first step length in the unit box.
    replicates, uncertainty_replicates
        Initial conditions per parameter set in the loss, and runs at the fit for the intervals.
    screen
        Points of the bounds screened for the starts (default ``max(4 starts, 8)``).
    level
        Coverage of the intervals.
    seed
        Seed of the first initial condition and of the screening points.
    device, dtype
        Where and in what precision.
    checkpoint_every, window
        Steps per checkpointed segment (default ``√steps``; 0: none) and steps
        differentiated (default all); see :func:`rdnet.fit.simulation.rollout`.
    periodic, standardise
        See :class:`~rdnet.fit.statistics.StatisticsSettings`.

    Raises
    ------
    ConfigError
        Anything invalid, in one line saying what and what would be valid.
    """
    from rd_classic.initial import check_initial_condition
    from rd_classic.presets import default_preset, get_preset
    from rd_classic.run import _initial_state_limit, _positive, _round_down
    from rd_classic.schemes import EXPLICIT_SCHEMES

    declaration = _declaration(model)
    _refuse_what_a_fit_would_ignore(declaration)
    chosen = get_preset(declaration, preset) if preset is not None else default_preset(declaration)
    for name, value in (("parameters", parameters), ("bounds", bounds)):
        if value is not None and not isinstance(value, Mapping):
            raise ConfigError(f"{name} must map parameter names to values, got {value!r}")
    for name, value in (("periodic", periodic), ("standardise", standardise)):
        if not isinstance(value, (bool, np.bool_)):  # "no" is truthy
            raise ConfigError(f"{name} must be True or False, got {value!r}")
    fit = fitted_names(fit)
    if not isinstance(device, str):
        raise ConfigError(f"device must be a name like 'cpu' or 'cuda', got {device!r}")
    fixed = dict(parameters or {})
    overlap = sorted(set(fixed) & set(fit))
    if overlap:
        raise ConfigError(f"{', '.join(overlap)} is both fixed (--param) and fitted (--params); choose one")
    model_object = get_model(declaration, **{**chosen.parameters, **fixed})
    space = parameter_space(model_object, fit, dict(bounds or {}))
    shape = tuple(_count("each entry of shape", n, 1) for n in (shape if isinstance(shape, (tuple, list)) else [shape]))
    if len(shape) != 2 or min(shape) < MIN_TARGET_CELLS:
        raise ConfigError(f"a fit needs a 2-D grid of at least {MIN_TARGET_CELLS}x{MIN_TARGET_CELLS} cells, "
                          f"got {'x'.join(map(str, reversed(shape)))}")  # fmt: skip
    grid = Grid(shape, chosen.dx if dx is None else _positive("dx", dx), "periodic")
    if integrator not in EXPLICIT_SCHEMES:
        raise ConfigError(f"a fit steps with an explicit scheme; valid: {', '.join(EXPLICIT_SCHEMES)}, got {integrator!r}")
    initial = initial_condition if initial_condition is not None else (
        "patches" if chosen.initial_condition == "pearson" else chosen.initial_condition)
    if initial not in SEEDED_INITIAL_CONDITIONS:
        raise ConfigError(f"a fit draws its initial conditions from seeds; use one of "
                          f"{', '.join(SEEDED_INITIAL_CONDITIONS)}, not {initial!r}")  # fmt: skip
    check_initial_condition(initial, model_object)
    _refuse_parameters_nothing_uses(declaration, space.names, initial)
    # a model without a homogeneous state is also linearised at its initial state (any seed's: seed 0)
    limit = min(_initial_state_limit(model_object.with_parameters(**point), grid, integrator, None, initial, 0)
                for point in space.as_dicts(space.to_values(_probe_points(space.size))))  # fmt: skip
    if dt is None:
        if chosen.dt is not None and chosen.dt <= limit:
            dt = chosen.dt
        else:
            dt = _round_down(0.8 * limit) if math.isfinite(limit) else (chosen.dt or 0.1)
    else:
        dt = _positive("dt", dt)
        if dt > limit:
            raise ConfigError(f"dt={dt:g} exceeds the stability limit of {integrator} somewhere in the bounds; "
                              f"the largest stable dt there is {limit:.6g}")  # fmt: skip
    duration = chosen.time if time is None else _positive("time", time)
    n_steps = max(1, math.ceil(duration / dt - 1e-9))
    dt = duration / n_steps
    observed = model_object.species[-1] if observed is None else observed
    if observed not in model_object.species:
        raise ConfigError(f"{observed!r} is not a species of {model_object.name} ({', '.join(model_object.species)})")
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; valid: {', '.join(DTYPES)}")
    _count("starts", starts, 1)
    _count("iterations", iterations, 0)
    _count("replicates", replicates, 1)
    _count("uncertainty replicates", uncertainty_replicates, 2)
    _count("seed", seed, 0)
    screen = max(4 * int(starts), 8) if screen is None else _count("screen", screen, 1)
    for option, value in (("checkpoint-every", checkpoint_every), ("window", window)):
        if value is not None and method != "gradient":
            raise ConfigError(f"--{option} shapes the gradient's backward pass; it cannot apply to --method {method}")
    if checkpoint_every is not None:
        _count("checkpoint-every", checkpoint_every, 0)
    if window is not None:
        _count("window", window, 1)
        if window > n_steps:
            raise ConfigError(f"--window {window} is longer than the run ({n_steps} steps of dt={dt:.6g})")
    learning_rate = _positive("learning rate", learning_rate)
    if isinstance(level, (bool, str)) or not isinstance(level, numbers.Real) or not 0 < level < 1:
        raise ConfigError(f"level must be between 0 and 1 (e.g. 0.95), got {level!r}")
    setup = SimulationSetup(model=model_object, grid=grid, dt=float(dt), n_steps=int(n_steps), initial_condition=initial,
                            observed=observed, integrator=integrator, device=device, dtype=dtype,
                            checkpoint_every=checkpoint_every, window=window)  # fmt: skip
    return FitConfig(setup=setup, space=space, statistics=StatisticsSettings(periodic=bool(periodic),
                     standardise=bool(standardise)), method=method, starts=int(starts), iterations=int(iterations),
                     replicates=int(replicates), uncertainty_replicates=int(uncertainty_replicates),
                     learning_rate=float(learning_rate), screen=int(screen), level=float(level), seed=int(seed),
                     preset=chosen.name)  # fmt: skip


def _probe_points(size: int) -> np.ndarray:
    """The corners and the centre of the unit box."""
    import itertools

    return np.array([*itertools.product((0.0, 1.0), repeat=size), [0.5] * size])


def _count(name: str, value: int, smallest: int) -> int:
    whole = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value) and value == int(value)
    if not whole or value < smallest:
        raise ConfigError(f"{name} must be an integer >= {smallest}, got {value!r}")
    return int(value)


@dataclass
class FitResult:
    """What a fit found.

    Attributes
    ----------
    config
        The fit's configuration.
    values
        The fitted values (best start), ``(P,)``.
    loss
        Their loss.
    uncertainty
        Intervals, correlations, identifiability notes, one run at the fit.
    starts
        Every start of the search (initial and final points in the unit box, loss history).
    best_start
        Index of the best start.
    indistinguishable_starts
        Starts whose final loss is within the loss's realisation noise of the best.
    target
        The target on the simulation grid.
    target_wavelength
        Its dominant wavelength.
    guesses
        The wavelength guesses (best first).
    screen_losses
        Loss of every screened point.
    wall_time
        Seconds the fit took.
    runs
        Single runs simulated (each the whole duration).
    """

    config: FitConfig
    values: np.ndarray
    loss: float
    uncertainty: Uncertainty
    starts: list[StartResult]
    best_start: int
    indistinguishable_starts: list[int]
    target: np.ndarray
    target_wavelength: float
    guesses: list[WavelengthGuess] = field(default_factory=list)
    screen_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))
    wall_time: float = 0.0
    runs: int = 0

    @property
    def names(self) -> tuple[str, ...]:
        """The fitted parameters."""
        return self.config.space.names

    def as_dict(self) -> dict[str, Any]:
        """The fitted values, intervals and notes as JSON-able data."""
        space, uncertainty = self.config.space, self.uncertainty
        return {
            "fitted": {name: float(value) for name, value in zip(space.names, self.values)},
            "standard_error": {name: float(value) for name, value in zip(space.names, uncertainty.standard_error)},
            "interval": {name: [float(low), float(high)] for name, low, high in
                         zip(space.names, uncertainty.interval_low, uncertainty.interval_high)},
            "level": uncertainty.level,
            "correlation": uncertainty.correlation.tolist(),
            "identifiability": list(uncertainty.notes),
            "loss": self.loss,
            "loss_noise": uncertainty.loss_noise,
            "method": self.config.method,
            "best_start": self.best_start,
            "indistinguishable_starts": self.indistinguishable_starts,
            "target_wavelength": self.target_wavelength,
            "wavelength_guess": ({**self.guesses[0].values, "predicted_wavelength": self.guesses[0].wavelength}
                                 if self.guesses else None),
            "wall_time_s": self.wall_time,
            "runs": self.runs,
        }  # fmt: skip


def run_fit(config: FitConfig, target: np.ndarray, *, progress: Progress = _silent) -> FitResult:
    """Fit the configured parameters to a target pattern (see the module's description).

    Parameters
    ----------
    config
        From :func:`build_fit_config`.
    target
        The observed field on the simulation grid, ``config.setup.grid.shape``.
    progress
        ``progress(stage, done, total, best_loss)``; stages ``guess``, ``screen``, the
        method's name and ``uncertainty``.

    Notes
    -----
    Sets glibc's memory-mapping threshold for the process
    (:func:`~rdnet.fit.simulation.return_freed_tensors_to_the_system`): long differentiated
    rollouts otherwise fragment the heap until the machine runs out of memory.

    Raises
    ------
    ConfigError
        A target of another shape, not finite or constant.
    RunError
        Every start failed (the runs blew up everywhere in the bounds).
    """
    from rdnet.analysis import dominant_wavelength

    from rdnet.fit.first_guess import wavelength_guesses
    from rdnet.fit.optimise import Objective, screen, search
    from rdnet.fit.simulation import BatchedSimulator, return_freed_tensors_to_the_system
    from rdnet.fit.statistics import PatternDistance
    from rdnet.fit.uncertainty import parameter_uncertainty

    started = clock.perf_counter()
    return_freed_tensors_to_the_system()
    setup, space = config.setup, config.space
    target = check_target(target)
    if target.shape != setup.grid.shape:
        raise ConfigError(f"the target is {target.shape}, the simulation grid {setup.grid.shape}")
    spacing = (setup.grid.dx, setup.grid.dx)
    distance = PatternDistance(target, spacing=spacing, settings=config.statistics)
    window = None if config.statistics.periodic else "hann"
    target_wavelength = float(dominant_wavelength(target, dx=setup.grid.dx, window=window))
    progress("guess", 0, 1, math.inf)
    guesses = wavelength_guesses(setup.model, space, target_wavelength, seed=config.seed)
    progress("guess", 1, 1, math.inf)
    simulator = BatchedSimulator(setup)
    objective = Objective(simulator, space, distance, replicates=config.replicates, seed=config.seed)
    n_starts = max(config.starts, 5) if config.method == "de" else config.starts
    starts, origins, screen_losses = screen(objective, starts=n_starts, candidates=config.screen,
                                            guesses=[guess.unit for guess in guesses[:1]], seed=config.seed,
                                            progress=progress)  # fmt: skip
    results = search(config.method, objective, starts, origins, iterations=config.iterations,
                     learning_rate=config.learning_rate, seed=config.seed, progress=progress)  # fmt: skip
    losses = np.array([result.loss for result in results])
    if not np.isfinite(losses).any():
        raise RunError("every start of the fit failed (the runs blew up: NaN/Inf); narrow the bounds or lower --dt")
    best = int(np.argmin(losses))
    values = space.to_values(results[best].final)
    progress("uncertainty", 0, 1, float(losses[best]))
    uncertainty = parameter_uncertainty(simulator, distance, space, values, replicates=config.uncertainty_replicates,
                                        fit_replicates=config.replicates,
                                        seed=config.seed + UNCERTAINTY_SEED_OFFSET, level=config.level)  # fmt: skip
    progress("uncertainty", 1, 1, float(losses[best]))
    observed_at_fit = uncertainty.final_state[simulator.observed_index]
    if observed_at_fit.size and np.ptp(observed_at_fit) <= UNIFORM_SPREAD * max(1.0, float(np.abs(observed_at_fit).max())):
        uncertainty.notes.insert(0, f"the run at the fit grows no pattern ({setup.observed} is uniform): no parameter "
                                    "set the search reached grows one like the target; widen or move --bounds, or "
                                    "change --time")  # fmt: skip
    noise = uncertainty.loss_noise
    margin = noise if math.isfinite(noise) else 0.0
    close = [index for index, loss in enumerate(losses) if loss <= losses[best] + margin]
    return FitResult(config=config, values=values, loss=float(losses[best]), uncertainty=uncertainty, starts=results,
                     best_start=best, indistinguishable_starts=close, target=target,
                     target_wavelength=target_wavelength, guesses=guesses, screen_losses=screen_losses,
                     wall_time=clock.perf_counter() - started, runs=simulator.runs)  # fmt: skip


def fit_pattern(target: np.ndarray, model: str | os.PathLike | ModelDeclaration = "gray-scott", *, fit: Sequence[str],
                progress: Progress = _silent, **options: Any) -> FitResult:  # fmt: skip
    """Fit parameters of a model to one observed 2-D pattern: :func:`build_fit_config` then :func:`run_fit`.

    Parameters
    ----------
    target
        The observed field, ``(ny, nx)``; the simulation grid takes its shape.
    model
        A built-in model's name, a model file's path (``.toml``) or its declaration
        (:func:`rd_classic.models.load_model_file`).
    fit
        The parameters to fit.
    progress
        See :func:`run_fit`.
    **options
        Any keyword of :func:`build_fit_config` (``bounds``, ``time``, ``dx``,
        ``method``, ``starts``, ...).

    Returns
    -------
    FitResult
        The fitted values, their intervals and identifiability, every start's history.

    Raises
    ------
    ConfigError
        A bad target (not 2-D, non-finite, constant) or a bad choice.
    """
    target = check_target(target)
    config = build_fit_config(model, fit=fit, shape=target.shape, **options)
    return run_fit(config, target, progress=progress)


def check_target(target: Any, *, source: str = "the target") -> np.ndarray:
    """A target as a float64 ``(ny, nx)`` array; ConfigError when it is not 2-D, not finite or constant."""
    if np.iscomplexobj(target):  # casting would drop the imaginary part with only a warning
        raise ConfigError(f"{source} is complex: fit its real part, imaginary part or modulus (np.abs)")
    try:
        values = np.asarray(target, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(f"{source} is not numeric") from None
    values = np.squeeze(values) if values.ndim > 2 else values
    if values.ndim != 2 or min(values.shape) < MIN_TARGET_CELLS:
        raise ConfigError(f"{source} must be a 2-D field of at least {MIN_TARGET_CELLS}x{MIN_TARGET_CELLS} values, "
                          f"got shape {np.shape(target)}")  # fmt: skip
    if not np.isfinite(values).all():
        raise ConfigError(f"{source} holds NaN or infinite values ({np.count_nonzero(~np.isfinite(values))} of "
                          f"{values.size})")  # fmt: skip
    spread = float(values.max() - values.min())
    if spread <= 1e-12 * max(1.0, float(np.abs(values).max())):
        raise ConfigError(f"{source} is constant ({float(values.flat[0]):g} everywhere): it has no pattern to fit")
    return values
