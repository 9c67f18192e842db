"""``rdnet train``: train the PRD model (a two-layer ReLU generator, optionally against a critic)."""

from __future__ import annotations

import shlex
import sys

import click

from rdnet.errors import ConfigError
from rdnet.prd import defaults

#: below this many multiply-adds per step (n · m · d_in) one thread is fastest (and immune to
#: oversubscription on a busy machine); above, torch's default thread count is kept
SINGLE_THREAD_WORK = 2**26


class _Progress:
    """A tqdm progress bar with the live losses (stderr; silent when not a terminal or --quiet)."""

    def __init__(self, total: int, initial: int, quiet: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=initial, disable=True if quiet else None, file=sys.stderr,
                        unit="step", dynamic_ncols=True)
        self.every = max(1, total // 200)

    def on_step(self, result, run) -> None:
        self.bar.update(1)
        if result.step % self.every == 0:
            metrics = result.metrics
            postfix = {"L_sup": f"{metrics['loss_sup']:.3g}", "|U-U0|": f"{metrics['distance_u']:.3g}"}
            if run.spec.training.adversary:
                postfix["L_adv"] = f"{metrics['loss_adv']:.3g}"
                postfix["W_est"] = f"{metrics['wasserstein_estimate']:.3g}"
            self.bar.set_postfix(postfix, refresh=False)

    def on_snapshot(self, result, run) -> None:
        pass

    def on_finish(self, run) -> None:
        self.bar.close()


def _grid(neurons: int | None, grid: str | None):
    from rdnet.prd.layout import grid_for_neurons, parse_grid

    if grid is not None:
        parsed = parse_grid(grid)
        if neurons is not None and neurons != parsed.neurons:
            raise ConfigError(f"--neurons {neurons} disagrees with --grid {grid} ({parsed.neurons} neurons)")
        return parsed
    return grid_for_neurons(defaults.GRID_HEIGHT * defaults.GRID_WIDTH if neurons is None else neurons)


def _refuse_earlier_partial(out: str, *, overwrite: bool) -> None:
    """Refuse to start over an earlier run's partial file, saying how to continue it or start afresh."""
    from pathlib import Path

    from rdnet.dataset import PARTIAL_SUFFIX

    partial = Path(out).expanduser().absolute()
    partial = partial.with_name(partial.name + PARTIAL_SUFFIX)
    if not overwrite and partial.is_file():
        raise ConfigError(
            f"an earlier run's partial file exists: {partial} (if it was interrupted, continue it with "
            f"rdnet train --resume {partial}; to start afresh, delete it or pass --overwrite)"
        )


def _kept(observer) -> str:
    """What a failed run leaves: its partial file to inspect or delete (removed when it holds nothing)."""
    from rdnet.prd.output import checkpoint_path

    partial = observer.abort()
    if observer.writer.n_records == 0:  # failed before the first snapshot: nothing to keep
        partial.unlink(missing_ok=True)
        checkpoint_path(partial).unlink(missing_ok=True)
        return " (before the first snapshot: no partial file kept)"
    return (f" (partial file kept: {partial}; inspect it with rdnet info {partial}, "
            f"or delete it and its .npz checkpoint to start again)")


@click.command(name="train")
@click.option("--adversary/--no-adversary", default=False,
              help="Train a WGAN-GP critic and add its term to the loss (implied by a nonzero --adversary-weight).")
@click.option("--adversary-weight", type=float, default=None,
              help="β in L_aug = L_sup − β L_adv [1 with --adversary]. 0 with --adversary trains the critic "
                   "but leaves the generator exactly supervised.")
@click.option("--dataset", default=defaults.DATASET, show_default=True, help="synthetic | digits | idx:FOLDER")
@click.option("--samples", type=int, default=defaults.SAMPLES, show_default=True, help="Training samples n.")
@click.option("--input-dim", type=int, default=defaults.INPUT_DIM, show_default=True, help="d_in of synthetic data.")
@click.option("--outputs", type=int, default=defaults.OUTPUTS, show_default=True,
              help="d_out of synthetic data (1 for the theory's setting).")
@click.option("--no-normalize", is_flag=True, help="Keep the inputs' norms (the theory assumes unit norm).")
@click.option("--neurons", type=int, default=None,
              help=f"Hidden neurons m, a perfect square [{defaults.GRID_HEIGHT * defaults.GRID_WIDTH}].")
@click.option("--grid", default=None, help="Neuron grid HxW instead of --neurons (e.g. 32x48).")
@click.option("--steps", type=int, default=defaults.STEPS, show_default=True, help="Generator updates.")
@click.option("--lr", type=float, default=defaults.LR, show_default=True, help="Learning rate η (time t = step·η).")
@click.option("--optimizer", type=click.Choice(["gd", "sgd", "adam"]), default=defaults.OPTIMIZER, show_default=True)
@click.option("--batch-size", type=int, default=None, help="Minibatch size for sgd/adam [all samples].")
@click.option("--critic-steps", type=int, default=defaults.CRITIC_STEPS, show_default=True,
              help="Critic updates per generator step.")
@click.option("--critic-lr", type=float, default=defaults.CRITIC_LR, show_default=True)
@click.option("--critic-optimizer", type=click.Choice(["gd", "adam"]), default=defaults.CRITIC_OPTIMIZER,
              show_default=True)
@click.option("--critic-neurons", type=int, default=None, help="Critic width m_c [m, as in the paper].")
@click.option("--gp-weight", type=float, default=defaults.GP_WEIGHT, show_default=True,
              help="Gradient-penalty weight λ_gp.")
@click.option("--train-layers", type=click.Choice(["hidden", "both"]), default=defaults.TRAIN_LAYERS, show_default=True,
              help="'hidden' keeps V fixed (with --outputs 1 the theory's setting, where the bound curves are stored).")
@click.option("--init", "init", type=click.Choice(["paper", "gaussian"]), default=defaults.INIT, show_default=True)
@click.option("--layout", type=click.Choice(["index", "embedding"]), default=defaults.LAYOUT, show_default=True,
              help="Neuron arrangement on the grid.")
@click.option("--embedding", type=click.Choice(["pca", "tsne"]), default=defaults.EMBEDDING, show_default=True,
              help="2-D embedding for --layout embedding.")
@click.option("--device", default=defaults.DEVICE, show_default=True, help="cpu or cuda.")
@click.option("--dtype", type=click.Choice(["float64", "float32"]), default=defaults.DTYPE, show_default=True,
              help="Precision. float32 is about 2x faster and runs the float64 run (same seed, weights rounded) "
                   "to ~1e-7 at first; see docs/benchmarks_prd.md for how far it strays.")
@click.option("--seed", type=int, default=defaults.SEED, show_default=True,
              help="Seed of weights, minibatches, critic noise.")
@click.option("--data-seed", type=int, default=defaults.DATA_SEED, show_default=True,
              help="Seed of the synthetic data.")
@click.option("--snapshot-every", type=int, default=None, help=f"Steps between snapshots [steps/{defaults.SNAPSHOTS}].")
@click.option("--save", type=click.Choice(["auto", "full", "norms"]), default="auto", show_default=True,
              help="Store u and its reaction/diffusion in full, or per-neuron norms only (auto: full if ≤ 64 MiB).")
@click.option("--delta", type=float, default=defaults.DELTA, show_default=True, help="δ of the theory's bounds.")
@click.option("--threads", type=int, default=None, help="CPU threads for torch [1 for small runs].")
@click.option("--out", "out", default="train.nc", show_default=True, help="Output dataset (NetCDF).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--resume", "resume", default=None,
              help="Continue an interrupted run from its FILE.nc.partial (other options are ignored).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
def command(**options) -> None:
    """Train the pseudo-reaction-diffusion model and write the run as a dataset.

    A two-layer ReLU generator f(U, V, x) = V σ(U x)/sqrt(d_out m) is trained by gradient
    descent on the supervised loss, or, with --adversary, on L_sup − β L_adv against a
    WGAN-GP critic. Every snapshot stores, per neuron on the H × W grid, the reaction
    (−∂L_sup/∂θ) and diffusion (+∂L_adv/∂θ) parts of its update and its distance from
    initialisation; every step stores the losses, distances and (in the theory's setting
    --train-layers hidden --outputs 1) the Theorem 1/2 bounds. Time is t = step · lr.

    \b
    Examples:
      rdnet train --out sup.nc
      rdnet train --adversary --out adv.nc
      rdnet train --adversary --dtype float32 --out adv32.nc
      rdnet train --adversary --outputs 1 --train-layers hidden --neurons 4096 --out theory.nc
      rdnet train --dataset digits --samples 256 --grid 16x32 --adversary --out digits.nc
      rdnet train --dataset idx:~/data/mnist --samples 512 --optimizer adam --lr 1e-3 --out mnist.nc
      rdnet train --resume adv.nc.partial
    """
    import torch

    from rdnet.prd.output import DatasetObserver, check_output, resume_run
    from rdnet.prd.run import RunSpec, TrainingDiverged, prepare_run, run_training
    from rdnet.prd.training import TrainingConfig

    history = "rdnet train " + " ".join(shlex.quote(arg) for arg in sys.argv[1:]) if sys.argv else None
    quiet = options["quiet"]
    if options["resume"]:
        run, observer = resume_run(options["resume"], history=history)
    else:
        grid = _grid(options["neurons"], options["grid"])
        weight = options["adversary_weight"]
        adversary = options["adversary"] or (weight is not None and weight != 0)
        training = TrainingConfig(
            lr=options["lr"], optimizer=options["optimizer"], batch_size=options["batch_size"],
            train_layers=options["train_layers"], adversary=adversary,
            adversary_weight=1.0 if weight is None else weight,
            critic_steps=options["critic_steps"], critic_lr=options["critic_lr"],
            critic_optimizer=options["critic_optimizer"], gp_weight=options["gp_weight"],
        )
        if options["batch_size"] is not None and options["optimizer"] == "gd":
            raise ConfigError(
                f"--batch-size {options['batch_size']} applies only to --optimizer sgd or adam; "
                f"--optimizer gd always uses all samples (drop --batch-size, or choose sgd or adam)"
            )
        steps = options["steps"]
        snapshot_every = options["snapshot_every"]  # None: RunSpec's default spacing
        spec = RunSpec(
            dataset=options["dataset"], samples=options["samples"], input_dim=options["input_dim"],
            outputs=options["outputs"], normalize=not options["no_normalize"], data_seed=options["data_seed"],
            grid_height=grid.height, grid_width=grid.width, critic_neurons=options["critic_neurons"],
            steps=steps, snapshot_every=snapshot_every, init=options["init"], layout=options["layout"],
            embedding=options["embedding"], seed=options["seed"], dtype=options["dtype"],
            device=options["device"], delta=options["delta"], training=training,
        )
        _refuse_earlier_partial(options["out"], overwrite=options["overwrite"])
        check_output(options["out"], overwrite=options["overwrite"])
        threads = options["threads"]
        if threads is not None and threads < 1:
            raise ConfigError(f"--threads must be at least 1, got {threads}")
        run = prepare_run(spec)
        if threads is None and run.data.samples * spec.neurons * run.data.input_dim < SINGLE_THREAD_WORK:
            threads = 1
        if threads is not None:
            torch.set_num_threads(threads)
        observer = DatasetObserver.create(options["out"], run, save=options["save"],
                                          overwrite=options["overwrite"], history=history)
    progress = _Progress(run.spec.steps + 1, run.state.step, quiet)
    try:
        run_training(run, [observer, progress])
    except KeyboardInterrupt:
        progress.bar.close()
        partial = observer.abort()
        click.echo(f"interrupted at step {run.state.step}; resume with: rdnet train --resume {partial}", err=True)
        raise click.exceptions.Exit(130) from None
    except TrainingDiverged as error:
        progress.bar.close()
        raise TrainingDiverged(f"{error}{_kept(observer)}") from None
    except BaseException:
        progress.bar.close()
        observer.abort()
        raise
    if not quiet:
        click.echo(f"wrote {observer.writer.path}", err=True)
