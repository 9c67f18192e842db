"""One call that trains the PRD model and returns its dataset: :func:`train` (``rdnet train`` is built on it).

>>> import rdnet.prd
>>> ds = rdnet.prd.train(adversary=True, neurons=256, steps=200, quiet=True)  # doctest: +SKIP
>>> ds.rd.spectrum("displacement_u")  # doctest: +SKIP

The options are those of ``rdnet train``, keyword-only and named as the command's options
(``--critic-lr`` is ``critic_lr``). The run is kept in memory unless ``out`` names a file
(``.nc``) or a zarr store (``.zarr``), written snapshot by snapshot with the command's
promises (a partial file and its checkpoint until complete; ``resume`` continues it).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdnet.errors import ConfigError

__all__ = ["train", "run", "TrainingResult", "RESUME_OPTIONS"]

#: the options a resumed run takes besides ``resume``: everything else comes from its file
RESUME_OPTIONS = ("steps", "quiet")
_OPTIONS = (
    "adversary", "adversary_weight", "dataset", "samples", "input_dim", "outputs", "no_normalize", "neurons", "grid",
    "steps", "lr", "optimizer", "batch_size", "critic_steps", "critic_lr", "critic_optimizer", "critic_neurons",
    "gp_weight", "train_layers", "init", "layout", "embedding", "device", "dtype", "seed", "data_seed",
    "snapshot_every", "save", "delta", "threads", "out", "overwrite", "resume", "quiet",
)  # fmt: skip


@dataclass
class TrainingResult:
    """What :func:`run` did: ``run`` (the :class:`~rdnet.prd.run.PreparedRun`), ``dataset``
    (in memory, or opened lazily from ``path``) and ``path`` (None in memory)."""

    run: Any
    dataset: Any
    path: Path | None


class _Progress:
    """A tqdm progress bar with the live losses (stderr; silent when not a terminal or quiet)."""

    def __init__(self, total: int, initial: int, quiet: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, initial=initial, disable=True if quiet else None, file=sys.stderr,
                        unit="step", dynamic_ncols=True)  # fmt: skip
        self.every = max(1, total // 200)

    def start(self, run, step: int) -> None:

        """Note whether the run has an adversary (its losses join the bar)."""
        self.adversary = run.spec.training.adversary

    def progress(self, step: int, result) -> None:

        """Advance the progress bar past ``step``, with the losses every few steps."""
        self.bar.update(1)
        if step % self.every == 0:
            metrics = result.metrics
            postfix = {"L_sup": f"{metrics['loss_sup']:.3g}", "|U-U0|": f"{metrics['distance_u']:.3g}"}
            if self.adversary:
                postfix["L_adv"] = f"{metrics['loss_adv']:.3g}"
                postfix["W_est"] = f"{metrics['wasserstein_estimate']:.3g}"
            self.bar.set_postfix(postfix, refresh=False)

    def finish(self) -> None:

        """Close the progress bar."""
        self.bar.close()

    def abort(self) -> None:

        """Close the progress bar."""
        self.bar.close()


def train(
    *,
    adversary: bool | None = None,
    adversary_weight: float | None = None,
    dataset: str | None = None,
    samples: int | None = None,
    input_dim: int | None = None,
    outputs: int | None = None,
    no_normalize: bool | None = None,
    neurons: int | None = None,
    grid: str | None = None,
    steps: int | None = None,
    lr: float | None = None,
    optimizer: str | None = None,
    batch_size: int | None = None,
    critic_steps: int | None = None,
    critic_lr: float | None = None,
    critic_optimizer: str | None = None,
    critic_neurons: int | None = None,
    gp_weight: float | None = None,
    train_layers: str | None = None,
    init: str | None = None,
    layout: str | None = None,
    embedding: str | None = None,
    device: str | None = None,
    dtype: str | None = None,
    seed: int | None = None,
    data_seed: int | None = None,
    snapshot_every: int | None = None,
    save: str | None = None,
    delta: float | None = None,
    threads: int | None = None,
    out: str | os.PathLike | None = None,
    overwrite: bool | None = None,
    resume: str | os.PathLike | None = None,
    quiet: bool | None = None,
):
    """Train the two-layer ReLU generator, alone or against a WGAN-GP critic, and return its dataset.

    Every option is that of ``rdnet train`` (``rdnet train --help``, ``docs/cli.md``); None
    means the command's default (:mod:`rdnet.prd.defaults`).

    Parameters
    ----------
    adversary, adversary_weight
        Train a critic and add β L_adv (``adversary_weight`` β, 1 with ``adversary``;
        a nonzero β implies ``adversary``).
    dataset, samples, input_dim, outputs, no_normalize, data_seed
        The training data: ``synthetic``, ``digits`` or ``idx:FOLDER``; n, d_in, d_out.
    neurons, grid
        Hidden neurons m (a perfect square) or the neuron grid ``"HxW"``.
    steps, lr, optimizer, batch_size
        Generator updates, learning rate η (time t = step · η), ``gd``/``sgd``/``adam``.
    critic_steps, critic_lr, critic_optimizer, critic_neurons, gp_weight
        The critic.
    train_layers, init, layout, embedding, device, dtype, seed, snapshot_every, save, delta, threads
        As the command's options.
    out
        Write the run to this file (``.nc``) or zarr store (``.zarr``) and return it opened
        lazily; default: keep it in memory.
    overwrite
        Replace an existing ``out``.
    resume
        Continue a run from its file: an interrupted run's ``.partial`` file, or any run to
        a later end ``steps``. Every other option is taken from the file, and giving one is
        refused.
    quiet
        No progress bar.

    Returns
    -------
    xarray.Dataset
        The run (``docs/prd.md``, ``docs/dataset.md``).

    Raises
    ------
    ConfigError
        A bad option, or one given with ``resume``.
    rdnet.prd.run.TrainingDiverged
        The generator or the critic blew up.

    Examples
    --------
    >>> sup = train(neurons=64, samples=16, steps=50, quiet=True)  # doctest: +SKIP
    >>> adv = train(adversary=True, neurons=64, samples=16, steps=50, out="adv.zarr")  # doctest: +SKIP
    """
    options = {key: value for key, value in locals().items() if value is not None}
    return run(**options).dataset


def run(*, history: str | None = None, **options: Any) -> TrainingResult:
    """Run :func:`train`'s options and report what was done (the command line's call).

    Parameters
    ----------
    history
        The command line, stored in the file's ``history`` attribute.
    **options
        The options of :func:`train` that were given (the others take their defaults).

    Returns
    -------
    TrainingResult

    Raises
    ------
    KeyboardInterrupt
        Ctrl-C; the partial file and its checkpoint are kept (``partial_path`` on the exception).
    """
    import torch

    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise TypeError(f"train() got unexpected options: {', '.join(sorted(unknown))}")
    threads_before = torch.get_num_threads()
    try:
        return _run(history, options)
    finally:
        torch.set_num_threads(threads_before)  # a library call leaves torch as it found it


def _run(history: str | None, options: dict[str, Any]) -> TrainingResult:
    import torch

    from rdnet.prd.output import NetworkDatasetObserver, check_output, checkpoint_path, resume_run
    from rdnet.prd.run import RunSpec, TrainingDiverged, check_option_types, prepare_run, run_training, torch_threads

    check_option_types(options)
    quiet = bool(options.get("quiet"))
    observer = progress = None
    try:
        if options.get("resume") is not None:
            _refuse_with_resume(options)
            run_state, observer = resume_run(options["resume"], steps=options.get("steps"), history=history)
        else:
            spec = RunSpec.from_options(options)
            out, overwrite = options.get("out"), bool(options.get("overwrite"))
            if out is None and overwrite:
                raise ConfigError("overwrite applies only with out (a file to write); an in-memory run replaces nothing")
            if out is not None:
                _refuse_earlier_partial(out, overwrite=overwrite)
                check_output(out, overwrite=overwrite)
            threads = options.get("threads")
            if threads is not None and threads < 1:
                raise ConfigError(f"threads must be at least 1, got {threads}")
            run_state = prepare_run(spec)
            threads = torch_threads(run_state, threads)
            if threads is not None:
                torch.set_num_threads(threads)
            progress = _Progress(run_state.spec.steps + 1, run_state.state.step, quiet)
            observer = _started(lambda: NetworkDatasetObserver.create(
                out, run_state, save=options.get("save", "auto"), overwrite=overwrite, history=history), out)
        if progress is None:
            progress = _Progress(run_state.spec.steps + 1, run_state.state.step, quiet)
        run_training(run_state, [observer, progress])
    except KeyboardInterrupt as interrupt:
        if progress is not None:
            progress.bar.close()
        interrupt.partial_path = None if observer is None else _resumable(observer, checkpoint_path)
        interrupt.step = None if observer is None else run_state.state.step
        raise
    except TrainingDiverged as error:
        progress.bar.close()
        raise TrainingDiverged(f"{error}{_kept(observer, checkpoint_path)}") from None
    except BaseException:
        if progress is not None:
            progress.bar.close()
        if observer is not None:
            observer.abort()
        raise
    path = observer.writer.path
    if path is None:
        dataset = observer.writer.dataset
    else:
        from rdnet.dataset import open_dataset

        dataset = open_dataset(path)
    return TrainingResult(run=run_state, dataset=dataset, path=path)


def _refuse_with_resume(options: dict[str, Any]) -> None:
    """Refuse, in one line, an option that a resumed run takes from its file."""
    for name in options:
        if name != "resume" and name not in RESUME_OPTIONS:
            option = "--" + name.replace("_", "-")
            raise ConfigError(
                f"{option} cannot be given with --resume: the resumed run takes it from "
                f"{Path(options['resume']).name} (with --resume only --steps, for a later end, and --quiet apply)"
            )


def _refuse_earlier_partial(out, *, overwrite: bool) -> None:
    """Refuse to start over an earlier run's partial file, saying how to continue it or start afresh."""
    from rdnet.dataset import PARTIAL_SUFFIX

    partial = Path(out).expanduser().absolute()
    partial = partial.with_name(partial.name + PARTIAL_SUFFIX)
    if not overwrite and partial.exists():
        raise ConfigError(
            f"an earlier run's partial file exists: {partial} (if it was interrupted, continue it with "
            f"rdnet train --resume {partial}; to start afresh, delete it or pass --overwrite)"
        )


def _started(create, out) -> Any:
    """The new run's dataset observer; a Ctrl-C while it creates the partial file removes that file."""
    try:
        return create()
    except KeyboardInterrupt:
        if out is not None:
            from rdnet.dataset import PARTIAL_SUFFIX

            partial = Path(out).expanduser().absolute()
            partial = partial.with_name(partial.name + PARTIAL_SUFFIX)
            shutil.rmtree(partial, ignore_errors=True) if partial.is_dir() else partial.unlink(missing_ok=True)
        raise


def _resumable(observer, checkpoint_path) -> Path | None:
    """The partial file an interrupted run keeps to resume from; None (and no file) before its first snapshot."""
    partial = observer.abort()
    if partial is not None and observer.writer.n_records == 0:  # nothing to resume from
        observer.writer.store.remove_partial(partial)
        checkpoint_path(partial).unlink(missing_ok=True)
        return None
    return partial


def _kept(observer, checkpoint_path) -> str:
    """What a failed run leaves: its partial file to inspect or delete (removed when it holds nothing)."""
    had_partial = observer.abort() is not None
    partial = _resumable(observer, checkpoint_path)
    if not had_partial:
        return ""
    if partial is None:  # failed before the first snapshot: nothing to keep
        return " (before the first snapshot: no partial file kept)"
    return (f" (partial file kept: {partial}; inspect it with rdnet info {partial}, "
            f"or delete it and its .npz checkpoint to start again)")  # fmt: skip
