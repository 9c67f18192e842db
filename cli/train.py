"""``rdnet train``: train the PRD model (a two-layer ReLU generator, optionally against a critic)."""

from __future__ import annotations

import shlex
import sys
from typing import Any

import click

from rdnet.cli.options import cpu_threads
from rdnet.prd import defaults


@click.command(name="train")
@click.option("--adversary/--no-adversary", default=False,
              help="Train a WGAN-GP critic and add its term to the loss (implied by a nonzero --adversary-weight).")
@click.option("--adversary-weight", type=float, default=None,
              help="β ≥ 0 in L_aug = L_sup − β L_adv [1 with --adversary]. 0 with --adversary trains the critic "
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
@click.option("--critic-lr", type=float, default=defaults.CRITIC_LR, show_default=True,
              help="Critic learning rate, positive (--critic-steps 0 freezes the critic).")
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
@click.option("--delta", type=float, default=defaults.DELTA, show_default=True, help="δ of Theorem 2's bounds (adversarial runs in the theory's setting).")
@click.option("--threads", type=int, default=None, callback=cpu_threads, help="CPU threads for torch, at most the CPUs of this machine [1 for small runs].")
@click.option("--out", "out", default="train.nc", show_default=True,
              help="Output dataset: NetCDF, or a zarr store (a name ending in .zarr).")
@click.option("--overwrite", is_flag=True, help="Replace an existing output file.")
@click.option("--resume", "resume", default=None,
              help="Continue a run from its file: an interrupted run's FILE.nc.partial, or a finished FILE.nc "
                   "(or FILE.nc.partial) to a later end given by --steps. Every other option is taken from the "
                   "file and refused here; the continued run equals one asked for that end from the start "
                   "(with the same --snapshot-every).")
@click.option("--quiet", is_flag=True, help="No progress bar or summary.")
@click.pass_context
def command(ctx: click.Context, **options) -> None:
    """Train the pseudo-reaction-diffusion model and write the run as a dataset.

    A two-layer ReLU generator f(U, V, x) = V σ(U x)/sqrt(d_out m) is trained by gradient
    descent on the supervised loss, or, with --adversary, on L_sup − β L_adv against a
    WGAN-GP critic. Every snapshot stores, per neuron on the H × W grid, the reaction
    (−∂L_sup/∂θ) and diffusion (+∂L_adv/∂θ) parts of its update and its distance from
    initialisation; every step stores the losses, distances and (in the theory's setting
    --train-layers hidden --outputs 1) the Theorem 1/2 bounds. Time is t = step · lr.
    In Python: rdnet.prd.train(...) with the same options.

    \b
    Examples:
      rdnet train --out sup.nc
      rdnet train --adversary --out adv.nc
      rdnet train --adversary --dtype float32 --out adv32.nc
      rdnet train --adversary --outputs 1 --train-layers hidden --neurons 4096 --out theory.nc
      rdnet train --dataset digits --samples 256 --grid 16x32 --adversary --out digits.zarr
      rdnet train --dataset idx:~/data/mnist --samples 512 --optimizer adam --lr 1e-3 --out mnist.nc
      rdnet train --resume adv.nc.partial
      rdnet train --resume adv.nc --steps 2000
    """
    from rdnet.prd.one_call import run

    history = "rdnet train " + " ".join(shlex.quote(arg) for arg in sys.argv[1:]) if sys.argv else None
    given = engine_options(ctx)
    if options["resume"] is None:
        given.setdefault("out", options["out"])  # the command's default file name
    try:
        result = run(history=history, **given)
    except KeyboardInterrupt as interrupt:
        partial, step = getattr(interrupt, "partial_path", None), getattr(interrupt, "step", None)
        where = "while starting" if step is None else f"at step {step}"
        if partial is None:
            click.echo(f"interrupted {where}, before the first snapshot was saved; nothing to resume: run the "
                       f"command again", err=True)  # fmt: skip
        else:
            click.echo(f"interrupted {where}; resume with: rdnet train --resume {partial}", err=True)
        raise click.exceptions.Exit(130) from None
    if not options["quiet"]:
        click.echo(f"wrote {result.path}", err=True)


def engine_options(ctx: click.Context) -> dict[str, Any]:
    """The options given to ``rdnet train``, as keywords of :func:`rdnet.prd.train` (``rdnet sweep`` too)."""
    from rdnet.cli.options import given_options

    return given_options(ctx)
