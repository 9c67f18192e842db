"""``rdnet stability --network RUN.nc``: the Turing analysis of a trained network (its options and output).

``cli/stability.py`` adds :func:`network_options` to its command and hands over to
:func:`dispatch` when ``--network`` is given. The numerics are :mod:`rdnet.prd.stability`,
the file reading and the report :mod:`rdnet.prd.stability_report`.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from rdnet.cli.options import cpu_threads
from rdnet.errors import ConfigError

#: the options that belong to --network, with their defaults (refused without --network)
NETWORK_DEFAULTS = {"snapshot": "-1", "eigenvalues": 6, "jacobian": "all", "train_critic": None, "tolerance": None,
                    "surrogates": 99, "seed": 0, "out": None, "threads": 1}
#: the classic options refused with --network (they describe a model file)
CLASSIC_OPTIONS = ("model", "model_file", "preset", "params", "state_index", "critical", "bracket", "box", "boundary")
#: image types --plot can write
PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def network_options(function):
    """Add the ``--network`` options to a click command."""
    options = [
        click.option("--network", "network", default=None, metavar="RUN.nc",
                     help="Analyse a network run (written by rdnet train) instead of a model: the Jacobians of its "
                          "training dynamics at a snapshot, reaction alone against reaction + diffusion."),
        click.option("--snapshot", "snapshot", default="-1", show_default=True, metavar="INDEX|all",
                     help="[--network] Snapshot index (negative counts from the end) or 'all' (the leading "
                          "eigenvalues through training)."),
        click.option("--eigenvalues", "eigenvalues", type=int, default=6, show_default=True, metavar="K",
                     help="[--network] Leading eigenvalues (largest real part) per Jacobian."),
        click.option("--jacobian", "jacobian", type=click.Choice(["reaction", "frozen", "game", "all"]),
                     default="all", show_default=True, metavar="KIND",
                     help="[--network] reaction: J_R = -Hess L_sup; frozen: J_RD = -Hess(L_sup - beta L_adv), critic "
                          "fixed; game: generator and critic linearised together; all: those the run allows."),
        click.option("--train-critic", "train_critic", type=int, default=None, metavar="STEPS",
                     help="[--network, supervised run] Train a WGAN-GP critic for STEPS updates against the snapshot "
                          "(the adversary switched on at the supervised state)."),
        click.option("--tolerance", "tolerance", type=float, default=None, metavar="RTOL",
                     help="[--network] |Re λ| <= RTOL · max|λ| is neutral [1e-6]."),
        click.option("--surrogates", "surrogates", type=click.IntRange(min=1), default=99, show_default=True,
                     help="[--network] Shuffled surrogates of each mode's significance test."),
        click.option("--seed", "seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="[--network] Seed of the eigen-solver's start, the surrogates and --train-critic."),
        click.option("--threads", "threads", type=int, callback=cpu_threads, default=1, show_default=True,
                     help="[--network] torch threads of the Jacobian-vector products (at most the CPUs of this machine)."),
        click.option("--out", "out", default=None, metavar="MODES.nc",
                     help="[--network] Write the leading modes as fields on the neuron grid (rdnet plot / analyze / "
                          "compare read it)."),
        click.option("--overwrite", "overwrite", is_flag=True,
                     help="Replace an existing --plot image (or --out file of --network)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def dispatch(*, as_json: bool, plot_path: str | None, **network) -> bool:
    """Run the network analysis when ``--network`` was given (True); else refuse its options (False).

    Raises
    ------
    ConfigError
        A model option given with ``--network``, or a network option without it.
    """
    context = click.get_current_context()
    given = {name for name in context.params
             if context.get_parameter_source(name) not in (click.core.ParameterSource.DEFAULT, None)}  # fmt: skip
    path = network.pop("network")
    if path is None:
        stray = sorted(name for name in given if name in NETWORK_DEFAULTS)
        if stray:
            raise ConfigError(f"--{stray[0].replace('_', '-')} applies only with --network RUN.nc")
        return False
    classic = sorted(name for name in given if name in CLASSIC_OPTIONS)
    if classic:
        names = {"params": "param", "state_index": "state", "model_file": "model-file"}
        raise ConfigError(f"--{names.get(classic[0], classic[0])} describes a model; it cannot apply with --network")
    run_network_stability(path, as_json=as_json, plot_path=plot_path, **network)
    return True


class _ProductsLine:
    """One tqdm line per eigen-solve: what is solved and how many Jacobian–vector products so far."""

    def __init__(self) -> None:
        self.bar = None
        self.label = None

    def __call__(self, label: str, products: int) -> None:
        from tqdm import tqdm

        if label != self.label:
            self.close()
            self.label = label
            self.bar = tqdm(desc=f"eigen-solve {label}", unit="product", file=sys.stderr, disable=None, leave=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run_network_stability(path: str, *, as_json: bool, plot_path: str | None, snapshot: str, eigenvalues: int,
                          jacobian: str, train_critic: int | None, tolerance: float | None, surrogates: int,
                          seed: int, threads: int, out: str | None, overwrite: bool) -> None:  # fmt: skip
    """Analyse ``path``, print the reading (or JSON), write --out and --plot."""
    import torch

    from rdnet.cli.paths import check_new_output, existing_input, output_with_suffix
    from rdnet.prd.stability import EIGEN_ACCURACY, NEUTRAL_RTOL
    from rdnet.prd.stability_report import analyse_network_run, modes_dataset

    existing_input(path)
    snapshots = _parse_snapshot(snapshot)
    if eigenvalues < 1:
        raise ConfigError(f"--eigenvalues must be at least 1, got {eigenvalues}")
    rtol = NEUTRAL_RTOL if tolerance is None else tolerance
    if not (0 < rtol < 1 and math.isfinite(rtol)):
        raise ConfigError(f"--tolerance must lie in (0, 1), got {tolerance}")
    out_path = None
    if out is not None:  # checked before any work
        from rdnet.dataset import check_output_path

        check_new_output(out, overwrite=overwrite, inputs=[path])
        out_path = check_output_path(out, overwrite=overwrite)
    elif overwrite and plot_path is None:
        raise ConfigError("--overwrite applies only with --plot or --out MODES.nc")
    plot_file = output_with_suffix(plot_path, PLOT_SUFFIXES, "image", overwrite=overwrite, inputs=[path],
                                   option="--plot") if plot_path is not None else None  # fmt: skip
    if out_path is not None and plot_file is not None and Path(out_path).resolve() == plot_file.resolve():
        raise ConfigError(f"--out {out} and --plot {plot_path} name the same file; give the modes and the figure "
                          f"different names")  # fmt: skip
    torch.set_num_threads(threads)
    progress = _ProductsLine()
    try:
        result = analyse_network_run(
            path, snapshots=snapshots, jacobians=jacobian, count=eigenvalues, rtol=rtol,
            accuracy=min(EIGEN_ACCURACY, rtol / 10), train_critic=train_critic, n_surrogates=surrogates, seed=seed,
            progress=progress,
        )  # fmt: skip
    finally:
        progress.close()
    modes = modes_dataset(result) if out_path is not None or plot_file is not None else None
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=_json_default))
    else:
        click.echo(format_report(result))
    if out_path is not None:
        from rdnet.dataset import write_dataset

        write_dataset(modes, out_path, system="prd-stability", model=result.model,
                      parameters={"source": str(path), "critic": result.critic_source, **result.parameters},
                      overwrite=overwrite)  # fmt: skip
        click.echo(f"modes written to {out_path}", err=True)
    if plot_file is not None:
        from rdnet.plotting import save_figure
        from rdnet.plotting.stability import stability_figure

        save_figure(stability_figure(modes, title=f"{path}: linear stability ({result.model} run)"), plot_file)
        click.echo(f"figure: {plot_file}", err=True)


def _parse_snapshot(text: str) -> int | str:
    if text.strip().lower() == "all":
        return "all"
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--snapshot {text!r}: expected a snapshot index (e.g. 0, -1) or 'all'") from None


def _json_default(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return float(value)


def format_report(result) -> str:
    """The analysis as text: per snapshot the Turing reading and the leading eigenvalues with their modes."""
    from rdnet.prd.stability_report import JACOBIAN_SYMBOLS

    lines = [f"{result.path}: {result.model} run; critic: {result.critic_source}"]
    for snapshot in result.snapshots:
        lines.append(f"snapshot {snapshot.index} (t = {snapshot.time:g}):")
        lines += [f"  {line}" for line in snapshot.reading]
        for kind, modes in snapshot.modes.items():
            spectrum = snapshot.spectra[kind]
            lines.append(f"  {JACOBIAN_SYMBOLS[kind]}: {spectrum.products} products in {spectrum.seconds:.1f} s; "
                         "rank, eigenvalue, label, wavelength [cells], p(surr), neurons"
                         + (", critic share" if kind == "game" else ""))  # fmt: skip
            for mode in modes:
                value = mode.eigenvalue
                text = f"{value.real:.6g}" + (f"{value.imag:+.3g}i" if value.imag else "")
                row = (f"    {mode.rank:>3}  {text:>22}  {mode.label:<8}  {mode.dominant_wavelength:8.3g}  "
                       f"{mode.surrogate_p_value:5.3g}  {mode.grid.participation:7.1f}")  # fmt: skip
                if kind == "game":
                    row += f"  {mode.critic_share:.2f}"
                lines.append(row)
        lines.append(f"  pattern formed (displacement_u): wavelength {snapshot.pattern_wavelength:.3g} cells, "
                     f"p(surr) {snapshot.pattern_p_value:.3g}")  # fmt: skip
    return "\n".join(lines)
