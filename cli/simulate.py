"""``rdnet simulate``: run a classic reaction-diffusion model and write its dataset."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from rdnet.errors import ConfigError, RunError
from rd_classic.schemes import INTEGRATORS


def engine_options(ctx: click.Context) -> dict[str, Any]:
    """The options given to ``rdnet simulate``, as keywords of :func:`rd_classic.simulate` (``rdnet sweep`` too)."""
    from rdnet.cli.options import given_options, parse_parameters

    given = given_options(ctx)
    if "param" in given:
        given["param"] = parse_parameters(given["param"])
    return given


def model_choice(ctx: click.Context, model: str, model_file: str | None):
    """The model named by ``--model`` or read from ``--model-file`` (not both)."""
    from rd_classic.models import load_model_file

    if model_file is None:
        return model
    if ctx.get_parameter_source("model") != click.core.ParameterSource.DEFAULT:
        raise ConfigError("give --model or --model-file, not both")
    return load_model_file(model_file)


def _command_line(ctx: click.Context) -> str:
    """The command as typed when run from a shell, else rebuilt from the options given."""
    argv = sys.argv
    if len(argv) > 1 and argv[1] == "simulate" and Path(argv[0]).name.startswith("rdnet"):
        return "rdnet " + " ".join(shlex.quote(arg) for arg in argv[1:])
    words = ["rdnet", "simulate"]
    for name, value in ctx.params.items():
        if value is None or value is False or value == ():
            continue
        if ctx.get_parameter_source(name) == click.core.ParameterSource.DEFAULT:
            continue
        option = "--" + name.replace("_", "-")
        for item in value if isinstance(value, tuple) else (value,):
            words += [option] if item is True else [option, shlex.quote(str(item))]
    return " ".join(words)


@click.command("simulate")
@click.option("--model", "model", default="gray-scott", show_default=True,
              help="A built-in model (list them with 'rdnet models').")
@click.option("--model-file", "model_file", default=None, metavar="FILE.toml",
              help="A model file declaring your own equations (docs/models.md); instead of --model.")
@click.option("--preset", default=None, help="Named parameter set (default: the model's, e.g. mitosis for gray-scott).")
@click.option("--param", "param", multiple=True, metavar="NAME=VALUE",
              help="Set a model parameter (repeatable): a number, an expression in x, y, z, Lx, Ly, Lz that makes "
                   "it vary in space (\"F=0.02 + 0.04*x/Lx\"), or a NetCDF variable (F=@ramp.nc:F).")
@click.option("--size", default="256", show_default=True,
              help="Grid cells: 256 (square), 512x256 (nx x ny), 512x1 (1-D), 64x64x64 (3-D, nx x ny x nz).")
@click.option("--steps", type=int, default=None, help="Number of time steps (default: the preset's duration).")
@click.option("--time", "time", type=float, default=None,
              help="Model time to simulate (instead of --steps); dt is lowered, if needed, so that the last "
                   "step ends at it.")
@click.option("--dt", type=float, default=None,
              help="Time step (default: the preset's, or 80% of the stability limit, reaction included).")
@click.option("--dx", type=float, default=None, help="Grid spacing (default: the preset's).")
@click.option("--integrator", type=click.Choice(INTEGRATORS), default="euler", show_default=True,
              help="Time stepping: euler, rk2, rk4 (explicit; dt within the stability limit); rk23, rk45 (adaptive "
                   "embedded pairs: --rtol/--atol choose every step, capped by the stability limit; --dt is the first "
                   "try); etdrk4 (exponential, diffusion exact: FFT on periodic boxes, cosine/sine transforms on "
                   "Neumann/Dirichlet boxes); imex (ARS(2,2,2): diffusion implicit, any boundary); milstein (noise). "
                   "No diffusive step limit for etdrk4 and imex.")
@click.option("--rtol", type=float, default=None,
              help="Relative tolerance of rk23/rk45 (default 1e-3): the RMS over the grid of each step's error "
                   "estimate / (atol + rtol |u|) stays <= 1.")
@click.option("--atol", type=float, default=None, help="Absolute tolerance of rk23/rk45 (default 1e-6).")
@click.option("--boundary", "boundary", multiple=True, metavar="[SPECIES[.SIDE]=]CONDITION",
              help="Boundary condition (repeatable, applied in order after the model file's [boundary]): periodic "
                   "(the default), no-flux, 'neumann G' (outward flux), 'dirichlet V', 'robin A B C' "
                   "(A u + B du/dn = C); values may be expressions in the parameters, x, y, z, t. A bare condition "
                   "sets every side of every species; u=COND one species; u.x-=COND one side (x-, x+, y-, y+, z-, z+).")
@click.option("--noise", "noise", multiple=True, metavar="SPECIES=AMPLITUDE",
              help="Noise term g of a species (repeatable, after the model file's [noise]): additive (u=0.01) or "
                   "multiplicative (v=0.1*v), an expression in the species, parameters, x, y, z, t; spatially white "
                   "on the grid, Ito (docs/classic.md#noise). 0 removes one, 'none' all. Needs --integrator euler "
                   "(Euler-Maruyama) or milstein; --seed seeds it.")
@click.option("--device", default="cpu", show_default=True, help="cpu, or cuda (torch on a GPU).")
@click.option("--backend", type=click.Choice(["numba", "torch", "numpy"]), default=None,
              help="Array backend (default: numba on cpu, numpy FFT for etdrk4, torch on cuda).")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default="float64", show_default=True)
@click.option("--snapshot-every", type=int, default=None,
              help="Steps between snapshots (default: the run's steps over --snapshots).")
@click.option("--snapshots", type=int, default=None,
              help="Intervals between snapshots (default 20: 21 snapshots, the initial state first), evenly spaced "
                   "in time (a run given by --time takes a multiple of it steps; an adaptive run lands on them "
                   "exactly); instead of --snapshot-every.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the initial noise and of --noise.")
@click.option("--initial", "initial", default=None, metavar="NAME|@FILE.nc[:VAR,..]|@IMAGE.png[:SPECIES]",
              help="Initial condition (default: the preset's): pearson, noise (homogeneous state + 1% noise), "
                   "expr (the model file's [initial] table), the last snapshot of a dataset on the same grid, or a "
                   "greyscale PNG added to one species.")
@click.option("--out", "out", default=None,
              help="Output file (default: <model>.nc), or a zarr store (a name ending in .zarr).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--allow-unstable", is_flag=True, help="Accept a --dt beyond the explicit stability limit.")
@click.option("--resume", "resume", default=None, metavar="FILE.partial",
              help="Continue a run from its file: an interrupted run's FILE.partial from its last durable snapshot, "
                   "or a finished FILE (or FILE.partial) to a later end given by --steps or --time. Every other "
                   "option is taken from the file and refused here; the continued run equals one asked for that "
                   "end from the start (with the same --snapshot-every).")
@click.option("--quiet", is_flag=True, help="No progress bar and no messages.")
@click.option("--stop-when-steady", "stop_when_steady", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="TOL",
              help="Stop once the state's relative rate of change |f_i - f_i-1| / (dt |f_i|) (RMS over the grid and "
                   "species, per time unit; |f_i| floored at 1e-8, so a state decaying to zero stops too) stays <= TOL over "
                   "3 snapshot intervals; the file's stop_reason says why the run stopped. With --noise the rate includes the noise: a stationary noisy state changes by "
                   "about sqrt(2) times its RMS fluctuation per interval, so it stops only for TOL above that over "
                   "the interval (lengthen --snapshot-every). Example: --stop-when-steady 1e-6.")
@click.pass_context
def command(ctx: click.Context, **options) -> None:
    """Simulate a reaction-diffusion model (built in, or your model file) on a 1-D, 2-D or 3-D grid.

    Writes every species and, at each snapshot, the reaction and diffusion parts of
    their rate of change (reaction_u, diffusion_u, ...) to an rdnet dataset (NetCDF,
    or zarr for a name ending in .zarr), with the model's full declaration in its
    parameters. The file appears under its name only when the run completes; until
    then it is FILE.nc.partial, which --resume continues after Ctrl-C or a crash.
    --resume with --steps or --time continues a run, finished or not, to a later end.
    In Python: rd_classic.simulate(...) with the same options.

    \b
    Examples:
      rdnet simulate --model gray-scott --out gs.nc
      rdnet simulate --model gray-scott --preset coral --size 512 --steps 40000
      rdnet simulate --model gray-scott --param F=0.035 --param k=0.065 --out spots.nc
      rdnet simulate --model-file my_model.toml --size 128 --out mine.nc
      rdnet simulate --model gray-scott --param "F=0.01 + 0.05*x/Lx" --param "k=0.045 + 0.025*y/Ly"
      rdnet simulate --model brusselator --size 64x64x64 --time 20 --out cube.zarr
      rdnet simulate --model schnakenberg --integrator etdrk4 --dt 0.05 --time 200
      rdnet simulate --model gray-scott --initial @logo.png:v --preset coral
      rdnet simulate --model brusselator --size 1024x1 --boundary no-flux
      rdnet simulate --model schnakenberg --boundary no-flux --boundary "u=dirichlet 1"
      rdnet simulate --model gray-scott --boundary "v.x-=dirichlet 0.25" --boundary "v.x+=dirichlet 0"
      rdnet simulate --model schnakenberg --param b=1.05 --noise u=0.01 --noise v=0.01 --seed 3
      rdnet simulate --model schnakenberg --integrator imex --dt 0.05 --boundary no-flux
      rdnet simulate --model brusselator --integrator rk45 --rtol 1e-5 --time 50
      rdnet simulate --model gray-scott --device cuda --dtype float32 --size 2048
      rdnet simulate --resume gs.nc.partial
      rdnet simulate --resume gs.nc --steps 40000
      rdnet simulate --preset theta --time 100000 --stop-when-steady 1e-7
    """
    from rd_classic.run import SimulationInterrupted
    from rd_classic.simulation import run

    quiet = options["quiet"]
    try:
        result = run(history=_command_line(ctx), **engine_options(ctx))
    except SimulationInterrupted as interrupt:
        click.echo(_interrupted_message(interrupt.step, getattr(interrupt, "partial_path", None)), err=True)
        ctx.exit(130)
    config = result.config
    if quiet:
        return
    if result.dt_lowered_from is not None:
        intervals = config.steps // config.snapshot_every
        click.echo(f"note: dt lowered from {result.dt_lowered_from:g} to {config.dt:.6g} so that {config.steps} "
                   f"steps end at t = {config.end_time:g} with {intervals + 1} evenly spaced snapshots", err=True)  # fmt: skip
    if result.stopped_steady:
        click.echo(f"wrote {result.path}: {result.stop_reason}", err=True)
    else:
        steps = f"{config.integrator} under rtol {config.rtol:g}" if config.adaptive else f"{config.steps} steps"
        click.echo(f"wrote {result.path} ({steps} of {config.model.name}, t = {config.end_time:g})", err=True)


def _interrupted_message(step: int, partial) -> str:
    """What to tell a user after Ctrl-C: the resume command, or why there is nothing to resume."""
    import warnings
    from pathlib import Path

    from rdnet.dataset import DatasetError, open_dataset

    before = f"interrupted at step {step}, before the first snapshot was saved; nothing to resume: run the command again"
    if partial is None or not Path(partial).exists():
        return before
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with open_dataset(partial) as ds:
                snapshots = ds.sizes.get("time", 0)
    except DatasetError:
        snapshots = 0
    if snapshots == 0:
        Path(partial).unlink()  # it holds nothing, and would block the rerun
        return before
    return f"interrupted at step {step}; resume with: rdnet simulate --resume {partial}"
