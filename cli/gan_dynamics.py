"""``rdnet gan-dynamics``: the solvable high-dimensional GAN (simulation + ODE, phase diagram).

Every numeric option is checked before anything runs or is written: a bad value ends the command
with one line ``Error: ...`` and exit status 2.
"""

from __future__ import annotations

import shlex
import sys

import click
from click.core import ParameterSource

from rdnet.errors import ConfigError
from rdnet.gan_dynamics.options import (
    MAX_HORIZON, MAX_RATE, MAX_STRENGTH, check_number, parse_lambdas, parse_value_or_range,
)  # fmt: skip

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
@click.option("--out", "-o", type=click.Path(), default=None,
              help="Output NetCDF file (.nc), or zarr store (a name ending in .zarr).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--quiet", is_flag=True, help="No progress bar and no summary line.")
@click.pass_context
def command(ctx: click.Context, features, dimension, final_time, tau_d, tau_g, noise, noise_gen, lambdas,
            lambda_gen, p0, q0, r0, replicas, records, engine, seed, out, overwrite, quiet) -> None:
    """Simulate the solvable high-dimensional GAN and integrate its ODE.

    Runs R replicas of the online training at dimension n (time t = k/n) and the macroscopic
    ODE on the same time axis, and writes one NetCDF file (system "gan-dynamics") with the
    overlaps P, q, r, S (simulation mean, std, quantiles; ODE), per-coordinate weights at a few
    times, the linear-theory phase and the ODE's phase. The ODE's phase is read from a separate
    long integration (to t = 300, longer while still moving, at most max(3000, T)), so a short
    run is not mistaken for an oscillation; "undetermined" means still moving at the cap.
    Draw the file with `rdnet plot FILE.nc --out FIG.png`. In Python:
    rdnet.gan_dynamics.simulate(...) with the same options (--lambda is lambdas).

    \b
    Examples:
      rdnet gan-dynamics --noise 2 --out converge.nc
      rdnet gan-dynamics --lambda 3,5 --noise 4 --dim 10000 --replicas 20 --out collapse.nc
      rdnet plot collapse.nc --out collapse.png
      rdnet gan-dynamics phase-diagram --noise 0.5:5:40 --tau-g 0.01:0.3:30 --out phases.png
    """
    if ctx.invoked_subcommand is not None:
        given = [max(parameter.opts, key=len) for parameter in ctx.command.params
                 if ctx.get_parameter_source(parameter.name) != ParameterSource.DEFAULT]  # fmt: skip
        if given:  # they would be ignored: the sub-command reads its own options
            raise ConfigError(f"{', '.join(given)} before '{ctx.invoked_subcommand}' apply to the simulation; "
                              f"give the sub-command's options after its name")  # fmt: skip
        return
    if out is None:
        raise ConfigError("--out FILE.nc is required (or use the phase-diagram sub-command)")
    import numpy as np

    from rdnet.gan_dynamics.one_call import run
    from rdnet.gan_dynamics.phases import ode_phase_summary

    result = run(features=features, dim=dimension, time=final_time, tau_d=tau_d, tau_g=tau_g, noise=noise,
                 noise_gen=noise_gen, lambdas=lambdas, lambda_gen=lambda_gen, p0=p0, q0=q0, r0=r0,
                 replicas=replicas, records=records, engine=engine, seed=seed, out=out, overwrite=overwrite,
                 quiet=quiet, history=shlex.join(["rdnet", *sys.argv[1:]]))  # fmt: skip
    ds = result.dataset
    if quiet:
        ds.close()
        return
    diag = np.diagonal(ds["P_mean"].values[-1])
    click.echo(
        f"wrote {result.path}: linear theory {ds.attrs['linear_phase']}; long-horizon ODE "
        f"{ode_phase_summary(ds.attrs)}; final diag P at t = {final_time:g}: simulation "
        f"{np.round(diag, 3).tolist()}, ODE {np.round(np.diagonal(ds['P_ode'].values[-1]), 3).tolist()}"
    )
    ds.close()


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
        "noise": parse_value_or_range(noise, "--noise", low=0.0, low_open=False, high=MAX_STRENGTH),
        "tau_d": parse_value_or_range(tau_d, "--tau-d", low=0.0, low_open=True, high=MAX_RATE),
        "tau_g": parse_value_or_range(tau_g, "--tau-g", low=0.0, low_open=True, high=MAX_RATE),
    }
    ranges = {name: v for name, v in values.items() if isinstance(v, np.ndarray)}
    if len(ranges) != 2:
        raise ConfigError(
            f"give exactly two of --noise, --tau-d, --tau-g as ranges START:STOP:COUNT (got {len(ranges)})"
        )
    lambda_values = parse_lambdas(lambdas)
    check_number(final_time, "--time", low=0.0, high=MAX_HORIZON, low_open=True)
    if max_time is None:
        max_time = max(DEFAULT_MAX_HORIZON, final_time)
    check_number(max_time, "--max-time", low=final_time, high=MAX_HORIZON)
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
