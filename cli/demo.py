"""``rdnet demo``: the main job, end to end — a Gray-Scott pattern beside a network trained
with and without an adversary, measured with the same spectra and metrics."""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from rdnet.errors import ConfigError, RunError


@dataclass(frozen=True)
class DemoSettings:
    """Sizes of one demo run (the defaults, or ``--quick``)."""

    gray_scott_preset: str
    gray_scott_size: int
    dataset: str
    samples: int
    neuron_grid: str
    train_steps: int
    train_snapshot_every: int
    learning_rate: float
    surrogates: int
    stability_eigenvalues: int


FULL = DemoSettings(
    gray_scott_preset="mitosis",
    gray_scott_size=128,
    dataset="digits",
    samples=256,
    neuron_grid="24x24",
    train_steps=400,
    train_snapshot_every=40,
    learning_rate=0.1,
    surrogates=39,
    stability_eigenvalues=6,
)
QUICK = DemoSettings(
    gray_scott_preset="mitosis",
    gray_scott_size=64,
    dataset="digits",
    samples=128,
    neuron_grid="12x12",
    train_steps=100,
    train_snapshot_every=10,
    learning_rate=0.1,
    surrogates=19,
    stability_eigenvalues=4,
)

#: what the demo compares: the species / morphogens u and v of the three runs, then the
#: pattern each system forms — Gray-Scott's v beside each network's per-neuron distance
#: from initialisation ‖u_j(t) − u_j(0)‖ on the neuron grid
COMPARED = ("u", "v", "v,displacement_u,displacement_u")

#: the files a demo writes into its folder
DATASETS = {"gray_scott": "gray_scott.nc", "supervised": "supervised.nc", "adversarial": "adversarial.nc"}
OUTPUTS = ("spectra.png", "stability.png", "metrics.csv", "metrics.json", "training.csv")
#: the Jacobians of the network's stability panel: reaction alone, reaction + diffusion (critic frozen)
STABILITY_JACOBIANS = ("reaction", "frozen")

#: what the demo reports of each network run: (column, variable, reduction, description)
TRAINING_SUMMARY = (
    ("loss_sup", "loss_sup", "last", "final supervised loss L_sup"),
    ("distance_u", "distance_u", "last", "||U(t) - U(0)||_F at the end"),
    ("distance_u_second_half", "distance_u", "gain", "how much ||U - U(0)||_F grew over the second half"),
    ("mean_displacement_u", "displacement_u", "mean", "mean per-neuron ||u_j(t) - u_j(0)|| at the end"),
    ("max_displacement_u", "displacement_u", "max", "largest per-neuron ||u_j(t) - u_j(0)|| at the end"),
    ("max_rate_u", "max_rate_u", "last", "max |du/dt| at the end (0: stationary)"),
)


def run_subcommand(name: str, args: list[str]) -> None:
    """Run another rdnet command through its click command (no copy of its logic).

    Raises
    ------
    RunError
        When the command rejects the arguments the demo gives it (a usage error is a
        bug of the demo, not of the user's input).
    """
    from rdnet.cli.main import COMMANDS

    module = importlib.import_module(f"rdnet.cli.{COMMANDS[name]}")
    try:
        module.command.main(args=args, prog_name=f"rdnet {name}", standalone_mode=False)
    except click.exceptions.UsageError as error:
        raise RunError(f"demo: `rdnet {name} {' '.join(args)}` was refused: {error.format_message()}") from None
    except click.exceptions.Exit as stop:
        if stop.exit_code:
            raise RunError(f"demo: `rdnet {name}` stopped with exit code {stop.exit_code}") from None


def demo_commands(folder: Path, settings: DemoSettings, *, seed: int, quiet: bool) -> list[tuple[str, str, list[str]]]:
    """The three runs of the demo as ``(description, command, arguments)``."""
    common = ["--seed", str(seed), "--overwrite"] + (["--quiet"] if quiet else [])
    train = [
        "--dataset", settings.dataset,
        "--samples", str(settings.samples),
        "--grid", settings.neuron_grid,
        "--steps", str(settings.train_steps),
        "--lr", str(settings.learning_rate),  # digits' correlated inputs: 2/λ_max ≈ 0.12 at n = 256, below the default 0.2
        "--snapshot-every", str(settings.train_snapshot_every),
        "--save", "full",
        "--layout", "embedding",  # neighbours on the grid start alike, so spatial metrics mean something
    ]  # fmt: skip
    return [
        (
            f"Gray-Scott, preset '{settings.gray_scott_preset}' (Pearson's set-up), {settings.gray_scott_size}² grid",
            "simulate",
            [
                "--model", "gray-scott",
                "--preset", settings.gray_scott_preset,
                "--size", str(settings.gray_scott_size),
                "--out", str(folder / DATASETS["gray_scott"]),
            ] + common,
        ),  # fmt: skip
        (
            f"network, supervised only ({settings.dataset}, {settings.neuron_grid} neurons)",
            "train",
            train + ["--out", str(folder / DATASETS["supervised"])] + common,
        ),
        (
            f"network with the WGAN-GP adversary (same seed {seed})",
            "train",
            ["--adversary"] + train + ["--out", str(folder / DATASETS["adversarial"])] + common,
        ),
    ]


def run_demo(folder: str | Path, *, quick: bool = False, seed: int = 0, overwrite: bool = False, quiet: bool = False) -> dict[str, Path]:
    """Run the whole demo into ``folder``; return the paths written by name.

    Raises
    ------
    ConfigError
        Before anything runs, when the folder holds an earlier demo and ``overwrite`` is False.
    """
    from rdnet.cli.compare import run_comparison
    from rdnet.cli.plot import plot_file
    from rdnet.comparison import format_table

    if not str(folder).strip():  # '' would be the current folder
        raise ConfigError(f"--out {str(folder)!r}: give the demo's folder a name")
    if isinstance(seed, bool) or int(seed) != seed or seed < 0:  # before the folder is made and the first run starts
        raise ConfigError(f"--seed must be a non-negative integer, got {seed}")
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"--out {folder}: is a file, not a folder")
    existing = [name for name in (*DATASETS.values(), *OUTPUTS) if (folder / name).exists()]
    if existing and not overwrite:
        raise ConfigError(f"--out {folder} already holds a demo ({', '.join(existing)}); add --overwrite or choose another folder")
    folder.mkdir(parents=True, exist_ok=True)
    settings = QUICK if quick else FULL

    steps = demo_commands(folder, settings, seed=seed, quiet=quiet)
    total = len(steps) + 1
    for number, (description, name, args) in enumerate(steps, start=1):
        click.echo(f"[{number}/{total}] {description}: rdnet {name} {' '.join(args)}", err=True)
        run_subcommand(name, args)

    click.echo(f"[{total}/{total}] comparing spectra and homogeneity metrics", err=True)
    paths = {key: folder / name for key, name in DATASETS.items()}
    files = [str(paths[key]) for key in ("gray_scott", "supervised", "adversarial")]
    paths["spectra"] = folder / "spectra.png"
    paths["metrics_csv"] = folder / "metrics.csv"
    paths["metrics_json"] = folder / "metrics.json"
    table = run_comparison(
        files,
        variables=list(COMPARED),
        figure_path=paths["spectra"],
        table_path=paths["metrics_csv"],
        n_surrogates=settings.surrogates,
        seed=seed,
    )
    import json

    from rdnet.comparison import table_records
    from rdnet.plotting import written_atomically

    training = {key: network_summary(paths[key]) for key in ("supervised", "adversarial")}
    paths["training_csv"] = folder / "training.csv"
    with written_atomically(paths["training_csv"]) as temporary:
        temporary.write_text(format_training_csv(training))
    click.echo("linear stability: the Gray-Scott dispersion relation beside the adversarial network's "
               "leading growth rates", err=True)  # fmt: skip
    paths["stability"] = folder / "stability.png"
    stability = stability_panel(paths["gray_scott"], paths["adversarial"], paths["stability"], settings, seed=seed)
    with written_atomically(paths["metrics_json"]) as temporary:
        temporary.write_text(json.dumps({"metrics": table_records(table), "training": training,
                                         "stability": stability.to_dict()}, indent=2, default=_json_number) + "\n")
    for key in ("gray_scott", "supervised", "adversarial"):
        for written in plot_file(paths[key], folder / f"{key}.png"):
            paths[f"figure {written.stem}"] = written
    click.echo(format_table(table))
    click.echo("")
    click.echo(format_training_table(training))
    click.echo("")
    click.echo(f"adversarial network at t = {stability.snapshots[-1].time:g}:")
    for line in stability.snapshots[-1].reading:
        click.echo(f"  {line}")
    return paths


def _json_number(value):
    import math

    value = float(value)
    return value if math.isfinite(value) else None


def stability_panel(classic_path: Path, network_path: Path, figure_path: Path, settings: DemoSettings, *, seed: int):
    """The demo's stability panel: Gray-Scott's dispersion relation beside the network's leading growth rates.

    The classic side is :mod:`rd_classic.stability` at every homogeneous steady state of the
    preset; the network side is :func:`rdnet.prd.stability_report.analyse_network_run` at the
    adversarial run's last snapshot (J_R and J_RD). Returns that analysis.
    """
    import numpy as np

    from rd_classic.models import get_model
    from rd_classic.presets import get_preset
    from rd_classic.stability import fastest_growing_mode, growth_rate, wavenumber_range
    from rdnet.dataset import open_dataset
    from rdnet.plotting import save_figure
    from rdnet.plotting.stability import dispersion_comparison_figure
    from rdnet.prd.stability_report import analyse_network_run, modes_dataset

    model = get_model("gray-scott", **get_preset("gray-scott", settings.gray_scott_preset).parameters)
    curves, fastest = {}, (None, -np.inf)
    for state in model.steady_states():
        q = np.linspace(0.0, wavenumber_range(model, state=state), 600)
        label = "state (" + ", ".join(f"{value:.3g}" for value in state) + ")"
        curves[label] = (q / (2 * np.pi), growth_rate(model, q, state=state))
        q_max, rate = fastest_growing_mode(model, state=state)
        if q_max > 0 and rate > fastest[1]:
            fastest = (2 * np.pi / q_max, rate)
    with open_dataset(classic_path) as classic:
        units = str(classic["x"].attrs.get("units", "1"))
    result = analyse_network_run(network_path, jacobians=list(STABILITY_JACOBIANS),
                                 count=settings.stability_eigenvalues, n_surrogates=settings.surrogates, seed=seed)  # fmt: skip
    figure = dispersion_comparison_figure(
        curves, modes_dataset(result), classic_fastest_wavelength=fastest[0], classic_length_units=units,
        title=f"Gray-Scott '{settings.gray_scott_preset}' beside the adversarial network (linear stability)",
    )  # fmt: skip
    save_figure(figure, figure_path)
    return result


def network_summary(path: Path) -> dict[str, float]:
    """The numbers of :data:`TRAINING_SUMMARY` for one network run's file."""
    from rdnet.dataset import open_dataset

    summary = {}
    with open_dataset(path) as dataset:
        for column, variable, reduction, _ in TRAINING_SUMMARY:
            values = dataset[variable]
            if reduction == "last":
                value = values.isel({values.dims[0]: -1})
            elif reduction == "gain":
                value = values.isel({values.dims[0]: -1}) - values.isel({values.dims[0]: values.shape[0] // 2})
            else:
                last = values.isel(time=-1)
                value = last.mean() if reduction == "mean" else last.max()
            summary[column] = float(value)
    return summary


def format_training_csv(training: dict[str, dict[str, float]]) -> str:
    """``training.csv``: one row per network run, the columns of :data:`TRAINING_SUMMARY`."""
    columns = [column for column, *_ in TRAINING_SUMMARY]
    lines = [",".join(["run", *columns])]
    lines += [",".join([run, *(repr(values[column]) for column in columns)]) for run, values in training.items()]
    return "\n".join(lines) + "\n"


def format_training_table(training: dict[str, dict[str, float]]) -> str:
    """The network runs side by side, one line per quantity, for the terminal."""
    runs = list(training)
    lines = [f"{'network runs':<24}" + "".join(f"{run:>14}" for run in runs)]
    for column, _, _, description in TRAINING_SUMMARY:
        lines.append(f"{column:<24}" + "".join(f"{training[run][column]:>14.4g}" for run in runs) + f"   {description}")
    return "\n".join(lines)


@click.command(name="demo")
@click.option("--out", "folder", metavar="DIR", default="rdnet-demo", show_default=True, type=click.Path(file_okay=False), help="Folder for the datasets, figures and tables.")
@click.option("--quick", is_flag=True, help="Smaller grids and fewer steps (about a minute on 2 cores).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of every run (the two network runs share it).")
@click.option("--overwrite", is_flag=True, help="Replace an earlier demo in the folder.")
@click.option("--quiet", is_flag=True, help="No progress bars from the runs.")
def command(folder, quick, seed, overwrite, quiet):
    """Run the comparison end to end: a classic Turing pattern beside the network's
    pseudo-reaction-diffusion, measured with the same tools.

    It simulates a Gray-Scott preset, trains the two-layer network on the same data
    and seed twice (supervised; with the WGAN-GP adversary), then compares the three
    runs' spectra and homogeneity metrics (rdnet compare): the species u and v, and
    the pattern each system forms — Gray-Scott's v beside the networks' per-neuron
    distance from initialisation (displacement_u). It prints and writes (training.csv)
    how far each network's neurons travelled and its final loss, draws Gray-Scott's
    dispersion relation beside the adversarial network's leading growth rates
    (stability.png; rdnet stability --network), writes the figures (rdnet plot) and
    prints where everything is. The defaults finish in a few minutes on 2 cores.

    \b
    Examples:
      rdnet demo
      rdnet demo --quick --out /tmp/rdnet-demo
      rdnet demo --seed 3 --out demo-seed3 --overwrite
    """
    paths = run_demo(folder, quick=quick, seed=seed, overwrite=overwrite, quiet=quiet)
    click.echo("")
    click.echo("datasets:")
    for key in ("gray_scott", "supervised", "adversarial"):
        click.echo(f"  {paths[key]}")
    click.echo("comparison:")
    for key in ("spectra", "stability", "metrics_csv", "metrics_json", "training_csv"):
        click.echo(f"  {paths[key]}")
    click.echo("figures:")
    for key, path in paths.items():
        if key.startswith("figure "):
            click.echo(f"  {path}")
    click.echo("next: rdnet compare " + " ".join(str(paths[k]) for k in ("gray_scott", "supervised", "adversarial")) + " --var all")
    sys.stdout.flush()
