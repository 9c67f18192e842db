"""``rdnet fit``: infer a model's parameters from an observed pattern, with intervals."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from rdnet.errors import ConfigError

from rdnet.cli.options import parse_parameters
from rdnet.cli.simulate import model_choice


def _parse_names(text: str) -> list[str]:
    names = [name.strip() for name in str(text).split(",") if name.strip()]
    if not names:
        raise ConfigError(f"--params needs parameter names like F,k, got {text!r}")
    return names


def _parse_bounds(pairs: tuple[str, ...]) -> dict[str, tuple[float, float]]:
    """``--bounds NAME=LOW:HIGH`` pairs."""
    bounds: dict[str, tuple[float, float]] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        low, colon, high = text.partition(":")
        if not (sep and colon and name.strip()):
            raise ConfigError(f"--bounds needs NAME=LOW:HIGH (e.g. F=0.01:0.08), got {pair!r}")
        try:
            bounds[name.strip()] = (float(low), float(high))
        except ValueError:
            raise ConfigError(f"--bounds {name.strip()}: LOW and HIGH must be numbers, got {text!r}") from None
    return bounds


class _ProgressLine:
    """One tqdm line per stage of the fit, with the best loss so far."""

    def __init__(self, enabled: bool) -> None:
        self.enabled, self.bar, self.stage = enabled, None, None

    def __call__(self, stage: str, done: int, total: int, loss: float) -> None:
        if not self.enabled:
            return
        from tqdm import tqdm

        if stage != self.stage:
            self.close()
            self.stage = stage
            self.bar = tqdm(desc=stage, total=max(total, 1), file=sys.stderr, disable=None, leave=False)
        self.bar.n = done
        if loss == loss and loss != float("inf"):
            self.bar.set_postfix_str(f"best loss {loss:.4g}", refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@click.command("fit")
@click.option("--model", "model", default="gray-scott", show_default=True,
              help="A built-in model (list them with 'rdnet models').")
@click.option("--model-file", "model_file", default=None, metavar="FILE.toml",
              help="A model file declaring your own equations (docs/models.md); instead of --model.")
@click.option("--preset", default=None,
              help="Preset whose values, dx, dt, duration and initial condition are the defaults.")
@click.option("--params", "fitted", required=True, metavar="NAME,NAME",
              help="The parameters to fit, comma-separated: F,k or Dv or any declared parameter.")
@click.option("--target", required=True, metavar="TARGET",
              help="The observed pattern: FILE.nc[:VAR][@INDEX] (a dataset's field, snapshot INDEX, default the "
                   "last), STORE.zarr[:VAR][@INDEX], ARRAY.npy (2-D) or IMAGE.png (greyscale).")
@click.option("--bounds", "bounds", multiple=True, metavar="NAME=LOW:HIGH",
              help="Search range of a fitted parameter (repeatable); default half to twice its preset value.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE", help="Fix another parameter (repeatable).")
@click.option("--size", default=None, metavar="N|NXxNY",
              help="Resample the target to this grid (same aspect ratio) before fitting; default its own size.")
@click.option("--time", "duration", type=float, default=None,
              help="Model time of each simulated pattern (default: the preset's duration).")
@click.option("--dt", type=float, default=None, help="Time step (default: the preset's, or 80% of the stability "
                                                     "limit over the bounds).")  # fmt: skip
@click.option("--dx", type=float, default=None,
              help="Grid spacing of the target in model length units (default: the dataset's x spacing, else "
                   "the preset's).")
@click.option("--species", "observed", default=None, metavar="NAME",
              help="The species compared with the target (default: the model's last, e.g. v).")
@click.option("--initial", "initial_condition", default=None, metavar="NAME",
              help="Initial condition of the simulated runs: patches, pearson, noise or expr (default: the "
                   "preset's, pearson replaced by patches).")
@click.option("--integrator", type=click.Choice(["euler", "rk2", "rk4"]), default="euler", show_default=True)
@click.option("--method", type=click.Choice(["gradient", "de", "nelder-mead"]), default="gradient", show_default=True,
              help="gradient: autograd gradients (Adam direction, line search); de: scipy differential evolution; nelder-mead: scipy "
                   "Nelder-Mead (both gradient-free, on the same loss).")
@click.option("--starts", type=int, default=4, show_default=True,
              help="Starting points (the linear analysis's wavelength guess and the best screened points); for "
                   "de the population (at least 5).")
@click.option("--iterations", type=int, default=20, show_default=True,
              help="Gradient steps, de generations or Nelder-Mead iterations per start.")
@click.option("--replicates", type=int, default=2, show_default=True,
              help="Initial conditions averaged in the loss of each parameter set.")
@click.option("--uncertainty-runs", "uncertainty_replicates", type=int, default=8, show_default=True,
              help="Runs at the fit from fresh noise, for the intervals.")
@click.option("--level", type=float, default=0.95, show_default=True, help="Coverage of the intervals.")
@click.option("--statistics", "statistics", type=click.Choice(["auto", "periodic", "windowed"]), default="auto",
              show_default=True,
              help="periodic: the target wraps around (a periodic simulation); windowed: a Hann window (a photograph, "
                   "a bounded domain). auto: periodic for an rdnet run on a periodic grid, else windowed.")
@click.option("--standardise/--no-standardise", "standardise", default=None,
              help="Compare patterns after scaling each to zero mean and unit variance (default: only for images).")
@click.option("--checkpoint-every", type=int, default=None, metavar="STEPS",
              help="Steps per checkpointed segment of the backward pass (default sqrt(steps); 0: keep every step).")
@click.option("--window", type=int, default=None, metavar="STEPS",
              help="Differentiate only the last STEPS steps (truncated backpropagation, for chaotic regimes).")
@click.option("--device", default="cpu", show_default=True, help="cpu, or cuda (torch on a GPU).")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the simulated runs' initial noise.")
@click.option("--out", required=True, metavar="FIT.nc", help="Result file: fitted values, intervals, loss histories, "
                                                               "target and a run at the fit.")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace an existing result file.")
@click.option("--quiet", is_flag=True, help="No progress and no summary.")
@click.pass_context
def command(ctx: click.Context, model, model_file, preset, fitted, target, bounds, params, size, duration, dt, dx,
            observed, initial_condition, integrator, method, starts, iterations, replicates, uncertainty_replicates,
            level, statistics, standardise, checkpoint_every, window, device, dtype, seed, out, overwrite,
            quiet):  # fmt: skip
    """Infer parameters of a model (built in, or your model file) from an observed 2-D pattern.

    Simulated patterns grown from other noise are compared with the target in law,
    through translation- and rotation-invariant statistics (cumulative power
    spectrum, histogram of values, boundary length), and the parameters are searched
    within their bounds by gradients through the simulation (or gradient-free with
    --method). The result file holds the fitted values with intervals (a Laplace
    approximation with the sandwich correction for the target's realisation noise),
    which parameters trade off, every start's loss history, the target and a run at
    the fit; 'rdnet plot FIT.nc' draws them side by side with their spectra. The file
    appears under its name only when complete. See docs/fit.md.

    \b
    Examples:
      rdnet fit --params F,k --target spots.nc:v --bounds F=0.02:0.06 --bounds k=0.055:0.068 --out fit.nc
      rdnet fit --params F,k --target spots.nc@-1 --time 2000 --starts 8 --out fit.nc
      rdnet fit --model schnakenberg --params Dv --target turing.npy --dx 1 --out fit.nc
      rdnet fit --model-file my_model.toml --params a,b --target pattern.nc:u --out fit.nc
      rdnet fit --params F,k --target skin.png --size 128 --dx 0.01 --method de --out fit.nc
      rdnet fit --params F,k --target spots.nc --device cuda --starts 16 --out fit.nc
      rdnet plot fit.nc --out fit.png
    """
    from rdnet.dataset import check_output_path
    from rdnet.fit.files import read_target, target_file, write_fit_result
    from rdnet.fit.run import build_fit_config, run_fit

    from rd_classic.grids import parse_size

    from rdnet.dataset.file_safety import refuse_input_as_output

    chosen = model_choice(ctx, model, model_file)
    names = _parse_names(fitted)
    parsed_bounds = _parse_bounds(bounds)
    fixed = parse_parameters(params, fields=False)
    shape = None
    if size is not None:
        shape = parse_size(size)
        if len(shape) != 2:
            raise ConfigError(f"--size must be 2-D (N or NXxNY), got {size!r}")
    refuse_input_as_output(out, [target_file(target)])
    check_output_path(out, overwrite=overwrite)
    if observed is None:  # the default species, to pick a dataset's variable
        from rd_classic.models import builtin_declaration

        declaration = chosen if not isinstance(chosen, str) else builtin_declaration(chosen)
        variable = declaration.species[-1]
    else:
        variable = observed
    pattern = read_target(target, variable=variable, size=shape)
    periodic = pattern.periodic if statistics == "auto" else statistics == "periodic"
    config = build_fit_config(
        chosen, fit=names, shape=pattern.values.shape, time=duration, bounds=parsed_bounds, preset=preset,
        parameters=fixed, dx=dx if dx is not None else pattern.dx, dt=dt, integrator=integrator,
        initial_condition=initial_condition, observed=observed, method=method, starts=starts, iterations=iterations,
        replicates=replicates, uncertainty_replicates=uncertainty_replicates, level=level, seed=seed, device=device,
        dtype=dtype, checkpoint_every=checkpoint_every, window=window, periodic=periodic,
        standardise=pattern.standardise if standardise is None else standardise,
    )  # fmt: skip
    progress = _ProgressLine(enabled=not quiet)
    try:
        result = run_fit(config, pattern.values, progress=progress)
    finally:
        progress.close()
    written = write_fit_result(result, out, target_source=pattern.source, history=_command_line(), overwrite=overwrite)
    if quiet:
        return
    uncertainty = result.uncertainty
    for index, name in enumerate(result.names):
        click.echo(f"{name} = {result.values[index]:.6g}  [{uncertainty.interval_low[index]:.6g}, "
                   f"{uncertainty.interval_high[index]:.6g}] ({uncertainty.level:.0%})")  # fmt: skip
    for note in uncertainty.notes:
        click.echo(f"note: {note}")
    click.echo(f"wrote {written} (loss {result.loss:.4g}, loss noise {uncertainty.loss_noise:.2g}, "
               f"{result.runs} runs, {result.wall_time:.1f} s)", err=True)  # fmt: skip


def _command_line() -> str:
    argv = sys.argv
    if len(argv) > 1 and argv[1] == "fit" and Path(argv[0]).name.startswith("rdnet"):
        return "rdnet " + " ".join(shlex.quote(arg) for arg in argv[1:])
    return "rdnet fit"
