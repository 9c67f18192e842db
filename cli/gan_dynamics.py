"""``rdnet gan-dynamics``: the solvable high-dimensional GAN (simulation + ODE, phase diagram).

Every numeric option is checked before anything runs or is written: a bad value ends the command
with one line ``Error: ...`` and exit status 2.
"""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path

import click

from rdnet.errors import ConfigError

#: limits of the options (beyond them a run is unphysical, overflows, or cannot finish)
MAX_DIMENSION = 10**7  # the planted features are stored as n-vectors
MAX_STEPS = 10**12  # online steps T·n of one replica (days at ~10^6 steps/s)
MAX_REPLICAS = 10**4
MAX_RECORDS = 10**5
MAX_RESULT_BYTES = 4 * 2**30
MAX_RATE = 100.0  # τ, τ̃
MAX_STRENGTH = 1e4  # λ, η
MAX_GRID_COUNT = 200
MAX_HORIZON = 1e5


def _number(value: float, option: str, *, low: float | None = None, high: float | None = None,
            low_open: bool = False) -> float:
    """``value`` if finite and within [low, high] (low excluded when ``low_open``); else ConfigError."""
    if not math.isfinite(value):
        raise ConfigError(f"{option} must be a finite number, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{option} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and value > high:
        raise ConfigError(f"{option} must be <= {high:g}, got {value:g}")
    return value


def _integer(value: int, option: str, *, low: int, high: int | None = None) -> int:
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigError(f"{option} must be an integer {bound}, got {value}")
    return value


def _parse_lambdas(text: str, option: str = "--lambda") -> tuple[float, ...]:
    try:
        values = tuple(float(item) for item in text.split(","))
    except ValueError:
        raise ConfigError(f"{option} must be comma-separated numbers such as 3,5; got {text!r}") from None
    for value in values:
        _number(value, option, low=0.0, high=MAX_STRENGTH, low_open=True)
    return values


def _parse_value_or_range(text: str, option: str, *, low: float, low_open: bool, high: float):
    """``"2"`` -> 2.0; ``"0.5:5:40"`` -> 40 values from 0.5 to 5 (checked against [low, high])."""
    import numpy as np

    parts = text.split(":")
    usage = f"{option} must be a number or a range START:STOP:COUNT (e.g. 0.5:5:40), got {text!r}"
    if len(parts) not in (1, 3):
        raise ConfigError(usage)
    try:
        numbers = [float(part) for part in parts[:2]]
        count = int(parts[2]) if len(parts) == 3 else None
    except ValueError:
        raise ConfigError(usage) from None
    for number in numbers:
        _number(number, option, low=low, high=high, low_open=low_open)
    if count is None:
        return numbers[0]
    start, stop = numbers
    if not stop > start:
        raise ConfigError(f"{option}: a range START:STOP:COUNT needs START < STOP, got {text!r}")
    _integer(count, f"{option}'s COUNT", low=2, high=MAX_GRID_COUNT)
    return np.linspace(start, stop, count)


@click.group(name="gan-dynamics", invoke_without_command=True)
@click.option("--features", "-d", type=int, default=None, help="Number of features d (default: one per --lambda value).")
@click.option("--dim", "-n", "dimension", type=int, default=2000, show_default=True, help="Dimension n.")
@click.option("--time", "-T", "final_time", type=float, default=200.0, show_default=True, help="Final time T (T·n steps).")
@click.option("--tau-d", type=float, default=0.2, show_default=True, help="Discriminator learning rate τ.")
@click.option("--tau-g", type=float, default=0.04, show_default=True, help="Generator learning rate τ̃.")
@click.option("--noise", "-e", "noise", type=float, default=2.0, show_default=True, help="Noise variance η (real data).")
@click.option("--noise-gen", type=float, default=None, help="Generator noise η_G (default: --noise, the copy model).")
@click.option("--lambda", "lambdas", default="3", show_default=True, help="Feature strengths λ_1,...,λ_d (comma-separated).")
@click.option("--lambda-gen", default=None, help="Generator strengths (default: --lambda, the copy model).")
@click.option("--p0", type=float, default=0.1, show_default=True, help="Initial P = P0·I.")
@click.option("--q0", type=float, default=0.1, show_default=True, help="Initial q.")
@click.option("--r0", type=float, default=0.01, show_default=True, help="Initial r.")
@click.option("--replicas", "-R", type=int, default=10, show_default=True, help="Independent runs in the ensemble.")
@click.option("--records", type=int, default=201, show_default=True, help="Number of record times.")
@click.option("--engine", type=click.Choice(["frame", "vector"]), default="frame", show_default=True,
              help="frame: exact in law, O(d³)/step (the default microscopic model); "
                   "vector: the literal n-dim update, O(n d)/step, for cross-checking.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (>= 0).")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None, help="Output NetCDF file (.nc).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.pass_context
def command(ctx: click.Context, features, dimension, final_time, tau_d, tau_g, noise, noise_gen, lambdas,
            lambda_gen, p0, q0, r0, replicas, records, engine, seed, out, overwrite) -> None:
    """Simulate the solvable high-dimensional GAN and integrate its ODE.

    Runs R replicas of the online training at dimension n (time t = k/n) and the macroscopic
    ODE on the same time axis, and writes one NetCDF file (system "gan-dynamics") with the
    overlaps P, q, r, S (simulation mean, std, quantiles; ODE), per-coordinate weights at a few
    times, the linear-theory phase and the ODE's phase. The ODE's phase is read from a separate
    long integration (to t = 300, longer while still moving, at most max(3000, T)), so a short
    run is not mistaken for an oscillation; "undetermined" means still moving at the cap.
    Draw the file with `rdnet plot FILE.nc --out FIG.png`.

    \b
    Examples:
      rdnet gan-dynamics --noise 2 --out converge.nc
      rdnet gan-dynamics --lambda 3,5 --noise 4 --dim 10000 --replicas 20 --out collapse.nc
      rdnet plot collapse.nc --out collapse.png
      rdnet gan-dynamics phase-diagram --noise 0.5:5:40 --tau-g 0.01:0.3:30 --out phases.png
    """
    if ctx.invoked_subcommand is not None:
        return
    if out is None:
        raise ConfigError("--out FILE.nc is required (or use the phase-diagram sub-command)")
    from rdnet.gan_dynamics.model import GanModel, initial_state
    from rdnet.gan_dynamics.ode import check_ode_cost
    from rdnet.gan_dynamics.phases import DEFAULT_MAX_HORIZON

    lambda_real = _parse_lambdas(lambdas)
    lambda_generator = _parse_lambdas(lambda_gen, "--lambda-gen") if lambda_gen is not None else lambda_real
    if len(lambda_generator) != len(lambda_real):
        raise ConfigError(f"--lambda-gen has {len(lambda_generator)} value(s) but --lambda has "
                          f"{len(lambda_real)}; give one per feature")
    d = len(lambda_real)
    if features is not None and features != d:
        raise ConfigError(f"--features {features} does not match the {d} value(s) of --lambda {lambdas}; "
                          "give one λ per feature")
    _integer(dimension, "--dim", low=2 * d + 2, high=MAX_DIMENSION)
    _number(final_time, "--time", low=0.0, low_open=True)
    steps = final_time * dimension
    if steps < 1 or steps > MAX_STEPS:
        raise ConfigError(f"--time × --dim is the number of online steps, between 1 and {MAX_STEPS:.0e}; "
                          f"got {final_time:g} × {dimension} = {steps:.3g}")
    for option, value in (("--tau-d", tau_d), ("--tau-g", tau_g)):
        _number(value, option, low=0.0, high=MAX_RATE, low_open=True)
    _number(noise, "--noise", low=0.0, high=MAX_STRENGTH)
    if noise_gen is not None:
        _number(noise_gen, "--noise-gen", low=0.0, high=MAX_STRENGTH)
    for option, value in (("--p0", p0), ("--q0", q0), ("--r0", r0)):
        _number(value, option, low=-1.0, high=1.0)
    _integer(replicas, "--replicas", low=1, high=MAX_REPLICAS)
    _integer(records, "--records", low=2, high=MAX_RECORDS)
    _integer(seed, "--seed", low=0)
    # the series (mean, std, quantiles, ODE, every replica) and the weight snapshots held in memory
    result_bytes = 8 * (records * (replicas + 6) * (2 * d * d + 3 * d + 1) + replicas * 3 * 2000 * (d + 1))
    if result_bytes > MAX_RESULT_BYTES:
        raise ConfigError(f"--replicas {replicas} with --records {records} would hold about "
                          f"{result_bytes / 2**30:.1f} GiB of results (at most {MAX_RESULT_BYTES / 2**30:g}); "
                          "use fewer replicas or records")
    model = GanModel(tau_d, tau_g, lambda_real, lambda_generator, noise, noise if noise_gen is None else noise_gen)
    initial = initial_state(d, P0=p0, q0=q0, r0=r0)
    check_ode_cost(tau_d, tau_g, lambda_real, lambda_generator, max(DEFAULT_MAX_HORIZON, final_time))

    from rdnet.dataset import check_output_path

    path = check_output_path(out, overwrite=overwrite)

    import numpy as np
    from tqdm import tqdm

    from rdnet.dataset import write_dataset
    from rdnet.gan_dynamics.phases import ode_phase_summary
    from rdnet.gan_dynamics.run import MODEL, SYSTEM, run_dataset

    total = int(round(steps)) * replicas
    with tqdm(total=total, unit="step", unit_scale=True, file=sys.stderr, disable=None,
              desc="gan-dynamics") as bar:
        ds = run_dataset(model, initial, dimension=dimension, time=final_time, records=records,
                         replicas=replicas, seed=seed, engine=engine, progress=bar.update)
    parameters = {
        **model.as_dict(),
        "features": d, "dimension": dimension, "time": final_time, "P0": p0, "q0": q0,
        "r0": r0, "replicas": replicas, "records": records, "engine": engine, "seed": seed,
    }
    write_dataset(ds, path, system=SYSTEM, model=MODEL, parameters=parameters,
                  history=shlex.join(["rdnet", *sys.argv[1:]]), overwrite=overwrite)
    diag = np.diagonal(ds["P_mean"].values[-1])
    click.echo(
        f"wrote {path}: linear theory {ds.attrs['linear_phase']}; long-horizon ODE {ode_phase_summary(ds.attrs)}; "
        f"final diag P at t = {final_time:g}: simulation {np.round(diag, 3).tolist()}, "
        f"ODE {np.round(np.diagonal(ds['P_ode'].values[-1]), 3).tolist()}"
    )


@command.command(name="phase-diagram")
@click.option("--tau-d", default="0.2", show_default=True, help="τ: a number or START:STOP:COUNT.")
@click.option("--tau-g", default="0.01:0.3:30", show_default=True, help="τ̃: a number or START:STOP:COUNT.")
@click.option("--noise", default="0.5:5:40", show_default=True, help="η: a number or START:STOP:COUNT.")
@click.option("--lambda", "lambdas", default="3", show_default=True, help="Feature strengths (comma-separated).")
@click.option("--time", "-T", "final_time", type=float, default=300.0, show_default=True,
              help="First ODE horizon; points still moving there are integrated further.")
@click.option("--max-time", type=float, default=None,
              help="Cap on the ODE horizon [default: max(3000, --time)]; points still moving there are "
                   "'undetermined'.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True, help="Figure (.png, .pdf, .svg).")
@click.option("--overwrite", is_flag=True, help="Replace an existing figure.")
def phase_diagram(tau_d, tau_g, noise, lambdas, final_time, max_time, out, overwrite) -> None:
    """Phase diagram: ODE-classified phases with the linear-theory boundaries drawn over them.

    Exactly two of --tau-d, --tau-g, --noise are ranges START:STOP:COUNT; the first range in
    the order noise, tau-d, tau-g is the x axis. Each grid point is integrated with the copy
    model's ODE (all points in batched solve_ivp calls) to --time and classified from the
    trajectory: a settled state (convergence, failure; an informative fixed point counts as
    oscillation), a sustained cycle (oscillation) or, for d > 1, mode collapse. Points still
    moving are integrated further, doubling the horizon up to --max-time, and are drawn as
    "undetermined" if still moving there.

    \b
    Examples:
      rdnet gan-dynamics phase-diagram --out phases.png
      rdnet gan-dynamics phase-diagram --lambda 3,5 --tau-g 0.04 --tau-d 0.05:0.4:30 --out d2.png
    """
    import numpy as np

    from rdnet.gan_dynamics.model import GanModel
    from rdnet.gan_dynamics.ode import check_ode_cost
    from rdnet.gan_dynamics.phases import DEFAULT_MAX_HORIZON, PHASES, linear_boundaries, ode_phase_survey
    from rdnet.plotting import save_figure
    from rdnet.plotting.gan_dynamics import phase_diagram_figure

    from rdnet.cli.paths import output_with_suffix

    out = output_with_suffix(out, (".png", ".pdf", ".svg"), "figure", overwrite=overwrite)
    values = {
        "noise": _parse_value_or_range(noise, "--noise", low=0.0, low_open=False, high=MAX_STRENGTH),
        "tau_d": _parse_value_or_range(tau_d, "--tau-d", low=0.0, low_open=True, high=MAX_RATE),
        "tau_g": _parse_value_or_range(tau_g, "--tau-g", low=0.0, low_open=True, high=MAX_RATE),
    }
    ranges = {name: v for name, v in values.items() if isinstance(v, np.ndarray)}
    if len(ranges) != 2:
        raise ConfigError(
            f"give exactly two of --noise, --tau-d, --tau-g as ranges START:STOP:COUNT (got {len(ranges)})"
        )
    lambda_values = _parse_lambdas(lambdas)
    _number(final_time, "--time", low=0.0, high=MAX_HORIZON, low_open=True)
    if max_time is None:
        max_time = max(DEFAULT_MAX_HORIZON, final_time)
    _number(max_time, "--max-time", low=final_time, high=MAX_HORIZON)
    largest = {name: float(np.max(v)) for name, v in values.items()}
    check_ode_cost(largest["tau_d"], largest["tau_g"], lambda_values, lambda_values, max_time)

    fixed = {name: (1.0 if name in ranges else float(v)) for name, v in values.items()}
    base = GanModel.copy_model(tau_d=fixed["tau_d"], tau_g=fixed["tau_g"], lambdas=lambda_values,
                               noise=fixed["noise"])
    survey = ode_phase_survey(base, ranges, time=final_time, max_time=max_time)
    boundaries = linear_boundaries(base, ranges)
    (x_name, x_values), (y_name, y_values) = ranges.items()
    symbols = {"tau_d": "τ", "tau_g": "τ̃", "noise": "η"}
    fixed_text = ", ".join(f"{symbols[k]} = {v:g}" for k, v in fixed.items() if k not in ranges)
    title = (f"solvable GAN, λ = {lambdas}, {fixed_text}; cells: ODE from t = {final_time:g}, "
             f"integrated up to t = {max_time:g} while still moving")
    figure = phase_diagram_figure(x_name, x_values, y_name, y_values, survey.codes, boundaries, title=title,
                                  informative_fixed_point=survey.has_behaviour("informative fixed point"))
    save_figure(figure, out)
    codes = survey.codes
    counts = ", ".join(f"{p} {int(np.sum(codes == i))}" for i, p in enumerate(PHASES) if np.any(codes == i))
    click.echo(f"wrote {out} ({codes.size} ODE points: {counts})")
