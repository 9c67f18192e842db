"""``rdnet gan-dynamics``: the solvable high-dimensional GAN (simulation + ODE, phase diagram)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from rdnet.errors import ConfigError


def _parse_lambdas(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(item) for item in text.split(",") if item.strip())
    except ValueError:
        raise ConfigError(f"--lambda must be comma-separated numbers such as 3,5; got {text!r}") from None
    if not values:
        raise ConfigError("--lambda needs at least one value, e.g. --lambda 3")
    return values


def _parse_value_or_range(text: str, option: str):
    """``"2"`` -> 2.0; ``"0.5:5:40"`` -> 40 values from 0.5 to 5."""
    parts = text.split(":")
    try:
        if len(parts) == 1:
            return float(parts[0])
        if len(parts) == 3:
            start, stop, count = float(parts[0]), float(parts[1]), int(parts[2])
            if count < 2 or stop <= start:
                raise ValueError
            import numpy as np

            return np.linspace(start, stop, count)
    except ValueError:
        pass
    raise ConfigError(f"{option} must be a number or a range START:STOP:COUNT (e.g. 0.5:5:40), got {text!r}")


def _check_rates(**values: float) -> None:
    for name, value in values.items():
        if value is not None and not value > 0:
            raise ConfigError(f"--{name} must be positive, got {value}")


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
              help="frame: exact in law, O(d³)/step; vector: literal n-dim model, O(n d)/step.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), default=None, help="Output NetCDF file (.nc).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.pass_context
def command(ctx: click.Context, features, dimension, final_time, tau_d, tau_g, noise, noise_gen, lambdas,
            lambda_gen, p0, q0, r0, replicas, records, engine, seed, out, overwrite) -> None:
    """Simulate the solvable high-dimensional GAN and integrate its ODE.

    Runs R replicas of the online training at dimension n (time t = k/n) and the macroscopic
    ODE on the same time axis, and writes one NetCDF file (system "gan-dynamics") with the
    overlaps P, q, r, S (simulation mean, std, quantiles; ODE), per-coordinate weights at a few
    times and the linear-theory phase. Draw it with `rdnet plot FILE.nc --out FIG.png`.

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
    import numpy as np

    from rdnet.dataset import check_output_path
    from rdnet.gan_dynamics.model import GanModel, initial_state

    _check_rates(**{"tau-d": tau_d, "tau-g": tau_g, "dim": dimension, "time": final_time,
                    "replicas": replicas})
    if noise < 0 or (noise_gen is not None and noise_gen < 0):
        raise ConfigError(f"--noise must be >= 0 (a variance), got {noise if noise < 0 else noise_gen}")
    lambda_real = _parse_lambdas(lambdas)
    lambda_generator = _parse_lambdas(lambda_gen) if lambda_gen else lambda_real
    if features is not None and features != len(lambda_real):
        raise ConfigError(
            f"--features {features} does not match the {len(lambda_real)} value(s) of --lambda {lambdas}; "
            "give one λ per feature"
        )
    if records < 2:
        raise ConfigError(f"--records must be >= 2, got {records}")
    model = GanModel(tau_d, tau_g, lambda_real, lambda_generator, noise,
                     noise if noise_gen is None else noise_gen)
    initial = initial_state(model.features, P0=p0, q0=q0, r0=r0)
    if dimension <= 2 * model.features + 1:
        raise ConfigError(f"--dim must exceed 2d+1 = {2 * model.features + 1}, got {dimension}")
    path = check_output_path(out, overwrite=overwrite)

    from tqdm import tqdm

    from rdnet.dataset import write_dataset
    from rdnet.gan_dynamics.run import MODEL, SYSTEM, run_dataset

    total = int(round(final_time * dimension)) * replicas
    with tqdm(total=total, unit="step", unit_scale=True, file=sys.stderr, disable=None,
              desc="gan-dynamics") as bar:
        ds = run_dataset(model, initial, dimension=dimension, time=final_time, records=records,
                         replicas=replicas, seed=seed, engine=engine, progress=bar.update)
    parameters = {
        **model.as_dict(),
        "features": model.features, "dimension": dimension, "time": final_time, "P0": p0, "q0": q0,
        "r0": r0, "replicas": replicas, "records": records, "engine": engine, "seed": seed,
    }
    write_dataset(ds, path, system=SYSTEM, model=MODEL, parameters=parameters,
                  history=shlex.join(["rdnet", *sys.argv[1:]]), overwrite=overwrite)
    diag = np.diagonal(ds["P_mean"].values[-1])
    click.echo(
        f"wrote {path}: linear theory {ds.attrs['linear_phase']}, ODE {ds.attrs['ode_phase']}; "
        f"final diag P: simulation {np.round(diag, 3).tolist()}, "
        f"ODE {np.round(np.diagonal(ds['P_ode'].values[-1]), 3).tolist()}"
    )


@command.command(name="phase-diagram")
@click.option("--tau-d", default="0.2", show_default=True, help="τ: a number or START:STOP:COUNT.")
@click.option("--tau-g", default="0.01:0.3:30", show_default=True, help="τ̃: a number or START:STOP:COUNT.")
@click.option("--noise", default="0.5:5:40", show_default=True, help="η: a number or START:STOP:COUNT.")
@click.option("--lambda", "lambdas", default="3", show_default=True, help="Feature strengths (comma-separated).")
@click.option("--time", "-T", "final_time", type=float, default=300.0, show_default=True,
              help="ODE horizon used to classify each point.")
@click.option("--out", "-o", type=click.Path(dir_okay=False), required=True, help="Figure (.png, .pdf, .svg).")
def phase_diagram(tau_d, tau_g, noise, lambdas, final_time, out) -> None:
    """Phase diagram: ODE-classified phases with the linear-theory boundaries drawn over them.

    Exactly two of --tau-d, --tau-g, --noise are ranges START:STOP:COUNT; the first range in
    the order noise, tau-d, tau-g is the x axis. Each grid point is integrated with the copy
    model's ODE (all points in one batched solve_ivp call) and classified as failure,
    convergence, oscillation or (d > 1) mode collapse.

    \b
    Examples:
      rdnet gan-dynamics phase-diagram --out phases.png
      rdnet gan-dynamics phase-diagram --lambda 3,5 --tau-g 0.04 --tau-d 0.05:0.4:30 --out d2.png
    """
    import numpy as np

    from rdnet.gan_dynamics.model import GanModel
    from rdnet.gan_dynamics.phases import PHASES, linear_boundaries, ode_phase_grid
    from rdnet.plotting import save_figure
    from rdnet.plotting.gan_dynamics import phase_diagram_figure

    out = Path(out)
    if out.suffix.lower() not in (".png", ".pdf", ".svg"):
        raise ConfigError(f"--out must end in .png, .pdf or .svg, got {out.name}")
    if not out.parent.resolve().is_dir():
        raise ConfigError(f"the folder of --out does not exist: {out.parent}")
    values = {
        "noise": _parse_value_or_range(noise, "--noise"),
        "tau_d": _parse_value_or_range(tau_d, "--tau-d"),
        "tau_g": _parse_value_or_range(tau_g, "--tau-g"),
    }
    ranges = {name: v for name, v in values.items() if isinstance(v, np.ndarray)}
    if len(ranges) != 2:
        raise ConfigError(
            f"give exactly two of --noise, --tau-d, --tau-g as ranges START:STOP:COUNT (got {len(ranges)})"
        )
    for name, value in values.items():
        if np.any(np.asarray(value) <= 0):
            raise ConfigError(f"--{name.replace('_', '-')} values must be positive")
    if not final_time > 0:
        raise ConfigError(f"--time must be positive, got {final_time}")
    fixed = {name: (1.0 if name in ranges else float(v)) for name, v in values.items()}
    base = GanModel.copy_model(tau_d=fixed["tau_d"], tau_g=fixed["tau_g"], lambdas=_parse_lambdas(lambdas),
                               noise=fixed["noise"])
    codes = ode_phase_grid(base, ranges, time=final_time)
    boundaries = linear_boundaries(base, ranges)
    (x_name, x_values), (y_name, y_values) = ranges.items()
    fixed_text = ", ".join(f"{k} = {v:g}" for k, v in fixed.items() if k not in ranges)
    title = f"solvable GAN, λ = {lambdas}, {fixed_text}; cells: ODE to t = {final_time:g}"
    figure = phase_diagram_figure(x_name, x_values, y_name, y_values, codes, boundaries, title=title)
    save_figure(figure, out)
    counts = ", ".join(f"{p} {int(np.sum(codes == i))}" for i, p in enumerate(PHASES) if np.any(codes == i))
    click.echo(f"wrote {out} ({codes.size} ODE points: {counts})")
