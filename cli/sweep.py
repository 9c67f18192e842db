"""``rdnet sweep``: parameter sweeps and ensembles of ``simulate`` / ``train`` on Dask.

Thin click layer over :mod:`rdnet.sweep` (the plan, the Dask execution, fault handling,
the journal and the summary): it reads ``--grid NAME=SPEC`` with the value types of the
swept command's options, turns the command's other options into the keywords of its
one-call function (:func:`rd_classic.simulate`, :func:`rdnet.prd.train`) and prints.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Sequence

import click

from rdnet.errors import ConfigError, RunError

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}
_NEURON_GRID = re.compile(r"^\d+x\d+$")


def _sweep_options(function):
    """Options shared by ``sweep simulate`` and ``sweep train``."""
    options = [
        click.option(
            "--grid",
            "grid_specs",
            multiple=True,
            required=True,
            metavar="NAME=SPEC",
            help="A swept parameter: NAME=START:STOP:COUNT (inclusive), NAME=START:STOP "
            "(integers: START..STOP-1, e.g. seed=0:16 is 16 seeds) or NAME=A,B,C. Repeat per parameter.",
        ),
        click.option(
            "--out",
            "directory",
            required=True,
            type=click.Path(file_okay=False, path_type=str),
            help="Folder for one dataset per point (or points.zarr), summary.nc and the sweep journal.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Worker processes of the local Dask cluster [default: all cores].",
        ),
        click.option(
            "--scheduler",
            metavar="ADDRESS",
            default=None,
            help="Submit to a running Dask scheduler (e.g. tcp://10.0.0.5:8786) instead of a "
            "local cluster; its workers need rdnet installed and DIR on a shared file system.",
        ),
        click.option(
            "--format",
            "store_format",
            type=click.Choice(["netcdf", "zarr"]),
            default="netcdf",
            show_default=True,
            help="netcdf: one DIR/<point>.nc per point; zarr: every point in one store DIR/points.zarr, "
            "one region per point written by the workers (open it with xarray.open_zarr; the points must "
            "share grid and snapshot times).",
        ),
        click.option("--quiet", is_flag=True, help="No progress bar or status lines."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


#: the module of the command behind each sweepable engine: its click ``command`` and ``engine_options(ctx)``
_ENGINE_COMMANDS = {"simulate": "rdnet.cli.simulate", "train": "rdnet.cli.train"}


def plan_from_command_line(command: str, grid_specs: Sequence[str], arguments: Sequence[str], directory: str,
                           *, store_format: str = "netcdf"):  # fmt: skip
    """The :class:`rdnet.sweep.SweepPlan` of a ``rdnet sweep COMMAND`` command line.

    Parameters
    ----------
    command : {"simulate", "train"}
    grid_specs : sequence of str
        The ``--grid NAME=SPEC`` texts; each NAME's values take the type of the
        command's option ``--NAME`` (a model parameter's are numbers).
    arguments : sequence of str
        The command's other options, given to every point.
    directory : str
        The sweep folder.
    store_format : {"netcdf", "zarr"}

    Raises
    ------
    ConfigError
        Bad grid syntax, an option the command does not have or refuses, one both swept
        and fixed, ``--out`` or ``--resume`` among the options.
    """
    import importlib

    from rdnet.sweep import ENGINES, parse_axis, plan_sweep, split_axis_spec

    if not grid_specs:
        raise ConfigError("a sweep needs at least one --grid NAME=SPEC")
    module = importlib.import_module(_ENGINE_COMMANDS[command])
    click_command = module.command
    given = {argument.split("=", 1)[0] for argument in arguments if argument.startswith("--")}
    for reserved in ("--out", "--resume"):
        if reserved in given:
            raise ConfigError(f"{reserved} cannot be passed to the points of a sweep; "
                              "the sweep names each point's file in its --out DIR")  # fmt: skip
    try:
        context = click_command.make_context(f"rdnet {command}", list(arguments), resilient_parsing=False)
    except click.exceptions.Exit:
        raise ConfigError("--help cannot be passed to the points of a sweep") from None
    except click.ClickException as error:
        raise ConfigError(f"rdnet {command}: {error.format_message()}") from None
    fixed = module.engine_options(context)
    axes = []
    for spec in grid_specs:
        name, _ = split_axis_spec(spec)
        option = _option_for(click_command, name)
        if option is None and ENGINES[command].parameter_option is None:
            raise ConfigError(f"--grid {name}: 'rdnet {command}' has no option --{name} (see 'rdnet {command} --help')")
        if option is not None and option.name in {"out", "resume", "quiet", "overwrite"}:
            raise ConfigError(f"--grid {name}: --{name} cannot be swept")
        if option is not None and option.name != name.replace("-", "_"):
            raise ConfigError(f"--grid {name}: sweep it as --grid {option.name.replace('_', '-')}=...")
        value_type, choices = _value_type(option)
        axes.append(parse_axis(spec, value_type=value_type, choices=choices))
    return plan_sweep(command, axes, fixed, directory, format=store_format)


def _option_for(click_command: click.Command, name: str) -> click.Option | None:
    """The click option ``--name`` of a command, or None."""
    wanted = f"--{name}"
    for parameter in click_command.params:
        if isinstance(parameter, click.Option) and (wanted in parameter.opts or wanted in parameter.secondary_opts):
            return parameter
    return None


def _value_type(option: click.Option | None) -> tuple[str, list[str] | None]:
    """The value type (and choices) of a swept option; a model parameter (None) takes numbers."""
    if option is None:
        return "float", None
    if option.is_flag and not option.count:
        return "bool", None
    kind = option.type
    if isinstance(kind, click.types.IntParamType):
        return "int", None
    if isinstance(kind, click.types.FloatParamType):
        return "float", None
    if isinstance(kind, click.Choice):
        return "str", [str(choice) for choice in kind.choices]
    return "str", None


def _run(command: str, grid_specs, directory, workers, scheduler, quiet, arguments, store_format) -> None:
    from rdnet.sweep import execute_plan

    if workers is not None and scheduler is not None:
        raise ConfigError("--workers sets up a local cluster; it cannot go with --scheduler")
    if not directory.strip():  # '' would be the current folder
        raise ConfigError(f"--out {directory!r}: give the sweep's folder a name")
    plan = plan_from_command_line(command, grid_specs, arguments, directory, store_format=store_format)

    def echo(line: str) -> None:
        if not quiet:
            click.echo(line, err=True)

    outcome = execute_plan(
        plan,
        workers=workers,
        scheduler=scheduler,
        progress=not quiet,
        history=shlex.join(["rdnet", *sys.argv[1:]]) if sys.argv else None,
        echo=echo,
    )
    failed = outcome.count("failed")
    echo(
        f"{outcome.count('ok')} ok ({outcome.skipped} already done), {failed} failed "
        f"in {outcome.wall_time:.1f} s; summary: {outcome.summary_path}"
    )
    if failed:
        first = next(result for result in outcome.results if result["status"] != "ok")
        if not outcome.count("ok"):
            raise RunError(f"all {failed} points failed; first: {first['name']}: {first['error']}")
        echo(f"first failure: {first['name']}: {first['error']}  (all errors: variable 'error' of the summary)")


@click.group(name="sweep")
def command() -> None:
    """Run a command over a grid of parameters on Dask, one dataset per point.

    Points run in parallel on a local Dask cluster (worker processes on
    127.0.0.1, all cores by default) or on an existing cluster (--scheduler).
    Each point writes DIR/<point>.nc; DIR/summary.nc holds per point the dominant
    wavelength, coefficient of variation, Moran's I, surrogate p-value, a
    pattern / no-pattern label, the run status and wall time, with the swept
    parameters as dims. 'rdnet plot DIR/summary.nc' draws the phase diagram.

    A failed point is recorded and the sweep goes on; running the same command
    again skips finished points and redoes failed or missing ones.

    \b
    Examples:
      rdnet sweep simulate --model gray-scott --grid F=0.010:0.070:24 \\
          --grid k=0.040:0.070:24 --size 128 --steps 10000 --out gs-sweep
      rdnet sweep train --grid seed=0:16 --grid adversary-weight=0,0.5,1 \\
          --adversary --out seeds
      rdnet plot gs-sweep/summary.nc --out phase.png
    """


@command.command(name="simulate", context_settings=_PASS_THROUGH)
@_sweep_options
@click.pass_context
def simulate(context: click.Context, grid_specs, directory, workers, scheduler, store_format, quiet) -> None:
    """Sweep 'rdnet simulate' over a parameter grid.

    A grid NAME that is an option of 'rdnet simulate' (seed, dt, size, ...)
    is passed as --NAME VALUE; any other NAME is a model parameter, passed as
    --param NAME=VALUE. Every other option given here goes unchanged to every
    point (see 'rdnet simulate --help'); --out and --quiet are set per point.

    \b
    Examples:
      # Pearson's F-k map of Gray-Scott, 24 x 24 points
      rdnet sweep simulate --model gray-scott --grid F=0.010:0.070:24 \\
          --grid k=0.040:0.070:24 --size 128 --steps 10000 --out gs-sweep
      # an ensemble of 8 seeds on 4 local worker processes
      rdnet sweep simulate --model gray-scott --preset alpha --grid seed=0:8 \\
          --workers 4 --out seeds
      # every point in one zarr store, written in parallel by the workers
      rdnet sweep simulate --grid F=0.02:0.06:8 --grid k=0.05:0.07:8 --size 64 \\
          --format zarr --out gs-zarr
      # on a running Dask cluster
      rdnet sweep simulate --model schnakenberg --grid b=0.8,0.9,1.0 \\
          --scheduler tcp://10.0.0.5:8786 --out /shared/sweep
    """
    _run("simulate", grid_specs, directory, workers, scheduler, quiet, context.args, store_format)


@command.command(name="train", context_settings=_PASS_THROUGH)
@_sweep_options
@click.pass_context
def train(context: click.Context, grid_specs, directory, workers, scheduler, store_format, quiet) -> None:
    """Sweep 'rdnet train' over a parameter grid.

    Every grid NAME must be an option of 'rdnet train' (seed, lr,
    adversary-weight, neurons, ...) and is passed as --NAME VALUE; flags take
    true/false (--grid adversary=false,true). Every other option given here goes
    unchanged to every point (see 'rdnet train --help'). The neuron grid of
    'rdnet train --grid HxW' is given as --grid HxW (no '='); to sweep it, write
    --grid grid=8x8,16x16.

    \b
    Examples:
      # 16 seeds x 3 adversary weights
      rdnet sweep train --grid seed=0:16 --grid adversary-weight=0,0.5,1 \\
          --adversary --out seeds
      # learning rate against width, 2 workers
      rdnet sweep train --grid lr=0.1,0.3,1 --grid neurons=64,256,1024 \\
          --workers 2 --out widths
      # seeds on a 16x16 neuron grid
      rdnet sweep train --grid 16x16 --grid seed=0:8 --adversary --out grid16
    """
    # 'rdnet train --grid HxW' (the neuron grid) cannot be passed through under its own name:
    # a --grid without '=' that looks like HxW is the neuron grid of every point
    neuron_grids = [spec for spec in grid_specs if "=" not in spec and _NEURON_GRID.match(spec.strip())]
    sweep_specs = [spec for spec in grid_specs if spec not in neuron_grids]
    fixed = [*context.args, *(item for spec in neuron_grids for item in ("--grid", spec.strip()))]
    _run("train", sweep_specs, directory, workers, scheduler, quiet, fixed, store_format)
