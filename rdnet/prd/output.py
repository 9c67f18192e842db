"""Writing a PRD run as an rdnet dataset, with a checkpoint sidecar so an interrupted run resumes.

The dataset (system ``prd``) holds, on the neuron grid (y, x):

- per snapshot: the per-neuron norms ``reaction_u_norm``, ``diffusion_u_norm``,
  ``reaction_v_norm``, ``diffusion_v_norm``, the distances from initialisation
  ``displacement_u`` = ‖u_j(t) − u_j(0)‖ and ``displacement_v``; the top-layer morphogens ``v``
  and their ``reaction_v``/``diffusion_v`` (dims time, output, y, x) always; the hidden-layer
  morphogens ``u`` and ``reaction_u``/``diffusion_u`` (dims time, feature, y, x) when saved in full;
- per step (dim ``step``, length steps + 1): every metric of :data:`rdnet.prd.training.METRIC_NAMES`,
  the theory bounds, and ``step_time`` (t = step · η);
- global attributes: λ0, λ_max, λ1, κ of H∞ (n ≤ 4096) and, in the theory's setting, after the
  run, μ, κμ, L, ‖z(0) − y‖, ε and T0 (:func:`rdnet.prd.run.theory_constants`);
- ``neuron_index`` (y, x): which neuron sits at each cell;
- what the linear-stability analysis (:mod:`rdnet.prd.stability`) needs to rebuild the exact state
  of every snapshot: the critic's weights ``critic_w`` (time, critic_neuron, output) and
  ``critic_a`` (time, critic_neuron) and, for an Adam critic, its bias-corrected second moments
  ``critic_second_moment_w``/``_a``; when ``u`` is not saved in full, the hidden layer as
  ``u_coefficients`` (time, sample, neuron), B with U(t) = U(0) + Bᵀ X (gradient descent keeps
  U(t) − U(0) in the span of the inputs; n < d_in), or else ``u_weights`` (time, neuron, feature);
  and the attribute ``training_data_sha256`` (:func:`training_data_digest`). U(0) and X are
  regenerated from ``parameters``.

After each snapshot the complete training state is written to ``<partial>.npz`` atomically
(temporary file, fsync, rename): plain arrays only, loaded with ``allow_pickle=False``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import torch

from rdnet.dataset import DatasetObserver, DatasetWarning, StreamingWriter, VariableSpec, check_output_path
from rdnet.errors import ConfigError, DatasetError
from rdnet.prd.run import BOUND_NAMES, PreparedRun, RunSpec, prepare_run, theory_constants
from rdnet.prd.training import METRIC_NAMES, StepResult

__all__ = ["SAVE_MODES", "FULL_SAVE_BUDGET_BYTES", "RESUME_GROUP", "NetworkDatasetObserver", "checkpoint_path",
           "checkpoint_arrays", "restore_checkpoint", "save_checkpoint", "resume_run", "saves_full",
           "hidden_layer_storage", "training_data_digest"]

#: ``full`` stores u and its reaction/diffusion in full, ``norms`` only per-neuron norms,
#: ``auto`` full when it fits :data:`FULL_SAVE_BUDGET_BYTES`
SAVE_MODES = ("full", "norms", "auto")
#: size budget of the full hidden-layer fields under ``--save auto``
FULL_SAVE_BUDGET_BYTES = 64 * 2**20
#: group of a finished file holding the training state its last step started from
RESUME_GROUP = "resume_state"
#: prefix, in a checkpoint taken after the final snapshot, of that same state
_FINAL_PREFIX = "final__"

_SERIES_DESCRIPTIONS = {
    "loss_sup": ("supervised loss L_sup = 1/2 ||f(X) - Y||_F^2", "1"),
    "loss_adv": ("adversarial term L_adv = sum_p g(f(x_p))", "1"),
    "critic_loss": ("WGAN-GP critic loss (minimised by the critic)", "1"),
    "gradient_penalty": ("gradient penalty mean (||grad g|| - 1)^2", "1"),
    "wasserstein_estimate": ("Wasserstein estimate mean g(y) - mean g(f(x))", "1"),
    "distance_u": ("||U(t) - U(0)||_F", "1"),
    "distance_v": ("||V(t) - V(0)||_F", "1"),
    "residual_norm": ("||z(t) - y||, z the predictions", "1"),
    "max_rate_u": ("max |du_jk/dt| (epsilon-stationarity)", "1"),
    "max_rate_v": ("max |dv_ij/dt| (epsilon-stationarity)", "1"),
    "max_neuron_distance_u": ("max_j ||u_j(t) - u_j(0)||", "1"),
    "lambda_min_gram": ("smallest eigenvalue of the finite-width Gram matrix H(t)", "1"),
    "critic_weight_norm": ("critic hidden-layer norm ||W||_F", "1"),
    "reaction_u_frobenius": ("||R^U||_F, R^U = -dL_sup/dU (every step where cheap, else at snapshots)", "1"),
    "diffusion_u_frobenius": ("||D^U||_F, D^U = +beta dL_adv/dU (every step where cheap, else at snapshots)", "1"),
    "reaction_v_frobenius": ("||R^V||_F, R^V = -dL_sup/dV (every step where cheap, else at snapshots)", "1"),
    "diffusion_v_frobenius": ("||D^V||_F, D^V = +beta dL_adv/dV (every step where cheap, else at snapshots)", "1"),
    "max_neuron_diffusion_u": ("max_j ||D_j^u|| (every step where cheap, else at snapshots)", "1"),
    "bound_residual": ("theory bound on ||z(t) - y|| (Remark 3 / Theorem 2 eq. 31)", "1"),
    "bound_neuron_distance_u": ("theory bound on ||u_j(t) - u_j(0)|| (Theorem 1 eq. 12 / Theorem 2 eq. 39)", "1"),
    "bound_distance_u": ("theory bound on ||U(t) - U(0)||_F (Theorem 1 eq. 15 / Theorem 2 eq. 41)", "1"),
    "bound_diffusion_u": ("theory bound on every ||D_j^u|| (Theorem 2 eq. 38)", "1"),
}


def checkpoint_path(partial_path: str | os.PathLike) -> Path:
    """The sidecar holding the training state of an interrupted run: ``<partial>.npz``."""
    return Path(str(partial_path) + ".npz")


def saves_full(spec: RunSpec, mode: str, input_dim: int) -> bool:
    """Whether the hidden-layer fields are stored in full under save mode ``mode``."""
    if mode not in SAVE_MODES:
        raise ConfigError(f"unknown --save {mode!r}; choose one of: {', '.join(SAVE_MODES)}")
    if mode != "auto":
        return mode == "full"
    snapshots = spec.steps // spec.snapshot_every + 2
    return 3 * spec.neurons * input_dim * 8 * snapshots <= FULL_SAVE_BUDGET_BYTES


def hidden_layer_storage(spec: RunSpec, full: bool, samples: int, input_dim: int) -> str:
    """How the hidden layer U of each snapshot is stored: ``u`` (in full, on the grid),
    ``u_coefficients`` (U(t) = U(0) + Bᵀ X, for gd/sgd with n < d_in) or ``u_weights`` (U itself)."""
    if full:
        return "u"
    if spec.training.optimizer in ("gd", "sgd") and samples < input_dim:
        return "u_coefficients"
    return "u_weights"


def training_data_digest(inputs: np.ndarray, targets: np.ndarray) -> str:
    """SHA-256 of the training inputs and targets as C-ordered float64 (what a run stores to check regenerated data)."""
    digest = hashlib.sha256()
    for array in (inputs, targets):
        array = np.ascontiguousarray(array, dtype=np.float64)
        digest.update(repr(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _on_grid(per_neuron: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(..., m) per-neuron values to (..., H, W) on the grid."""
    return per_neuron[..., cells]


def _variables(run: PreparedRun, full: bool) -> dict[str, VariableSpec]:
    grid = ("time", "y", "x")
    variables = {
        "displacement_u": VariableSpec(grid, "distance from initialisation ||u_j(t) - u_j(0)||", "1"),
        "displacement_v": VariableSpec(grid, "distance from initialisation ||v_j(t) - v_j(0)||", "1"),
        "reaction_u_norm": VariableSpec(grid, "norm of the reaction -dL_sup/du_j", "1/time"),
        "diffusion_u_norm": VariableSpec(grid, "norm of the diffusion +dL_adv/du_j", "1/time"),
        "reaction_v_norm": VariableSpec(grid, "norm of the reaction -dL_sup/dv_j", "1/time"),
        "diffusion_v_norm": VariableSpec(grid, "norm of the diffusion +dL_adv/dv_j", "1/time"),
        "v": VariableSpec(("time", "output", "y", "x"), "top-layer morphogen v_j", "1"),
        "reaction_v": VariableSpec(("time", "output", "y", "x"), "reaction -dL_sup/dv_j", "1/time"),
        "diffusion_v": VariableSpec(("time", "output", "y", "x"), "diffusion +dL_adv/dv_j", "1/time"),
    }
    if full:
        variables.update({
            "u": VariableSpec(("time", "feature", "y", "x"), "hidden-layer morphogen u_j", "1"),
            "reaction_u": VariableSpec(("time", "feature", "y", "x"), "reaction -dL_sup/du_j", "1/time"),
            "diffusion_u": VariableSpec(("time", "feature", "y", "x"), "diffusion +dL_adv/du_j", "1/time"),
        })
    storage = hidden_layer_storage(run.spec, full, run.data.samples, run.data.input_dim)
    if storage == "u_coefficients":
        variables["u_coefficients"] = VariableSpec(
            ("time", "sample", "neuron"), "coefficients B of the hidden layer, U(t) = U(0) + B^T X", "1")
    elif storage == "u_weights":
        variables["u_weights"] = VariableSpec(("time", "neuron", "feature"), "hidden layer U (row j is u_j)", "1")
    if run.spec.training.adversary:
        variables["critic_w"] = VariableSpec(("time", "critic_neuron", "output"), "critic hidden layer W", "1")
        variables["critic_a"] = VariableSpec(("time", "critic_neuron"), "critic output weights a", "1")
        if run.spec.training.critic_optimizer == "adam":
            variables["critic_second_moment_w"] = VariableSpec(
                ("time", "critic_neuron", "output"), "Adam's bias-corrected second moment of the critic's W gradient", "1")
            variables["critic_second_moment_a"] = VariableSpec(
                ("time", "critic_neuron"), "Adam's bias-corrected second moment of the critic's a gradient", "1")
    variables["neuron_index"] = VariableSpec(("y", "x"), "index j of the neuron at this grid cell", "1", "int64")
    variables["step_time"] = VariableSpec(("step",), "gradient-flow time t = step * lr", "1")
    for name in (*METRIC_NAMES, *BOUND_NAMES):
        long_name, units = _SERIES_DESCRIPTIONS[name]
        variables[name] = VariableSpec(("step",), long_name, units)
    return variables


def _coords(run: PreparedRun, full: bool) -> dict:
    """The fixed coordinates of a new run's file (every dim :func:`_variables` may use)."""
    coords = {
        "y": (np.arange(run.grid.height, dtype=float), {"units": "1", "long_name": "neuron grid row"}),
        "x": (np.arange(run.grid.width, dtype=float), {"units": "1", "long_name": "neuron grid column"}),
        "output": (np.arange(run.data.output_dim), {"units": "1", "long_name": "output component i"}),
        "step": (np.arange(run.spec.steps + 1), {"units": "1", "long_name": "generator step"}),
    }
    storage = hidden_layer_storage(run.spec, full, run.data.samples, run.data.input_dim)
    if full or storage == "u_weights":
        coords["feature"] = (np.arange(run.data.input_dim), {"units": "1", "long_name": "input feature k"})
    if storage == "u_coefficients":
        coords["sample"] = (np.arange(run.data.samples), {"units": "1", "long_name": "training sample p"})
    if storage != "u":
        coords["neuron"] = (np.arange(run.spec.neurons), {"units": "1", "long_name": "hidden neuron j"})
    if run.spec.training.adversary:
        critic_width = run.spec.critic_neurons or run.spec.neurons
        coords["critic_neuron"] = (np.arange(critic_width), {"units": "1", "long_name": "critic neuron r"})
    return coords


class NetworkDatasetObserver(DatasetObserver):
    """Streams a network run into an rdnet dataset and keeps a checkpoint for resuming.

    A :class:`rdnet.dataset.DatasetObserver` that also records the per-step series and,
    at each snapshot of a file, the checkpoint that resuming needs. A run stopped before
    its first snapshot keeps its partial file for the caller to report and remove.

    Parameters
    ----------
    writer : StreamingWriter
        Open writer (new, or resumed).
    run : PreparedRun
    full : bool
        Whether the hidden-layer fields are stored in full.
    first_step : int
        First step whose series values this observer has not written yet.
    stability_state : bool
        Whether the file stores what the stability analysis needs (critic weights, the hidden
        layer when not in full); False only for a partial file of an older rdnet being resumed.
    """

    def __init__(self, writer: StreamingWriter, run: PreparedRun, *, full: bool, first_step: int = 0,
                 stability_state: bool = True) -> None:  # fmt: skip
        super().__init__(writer, keep_empty_partial=True)
        self.run = run
        self.full = full
        self.stability_state = stability_state
        self.hidden_storage = hidden_layer_storage(run.spec, full, run.data.samples, run.data.input_dim)
        self.written_until = first_step
        steps = run.spec.steps + 1
        self.series = {name: np.full(steps, np.nan) for name in (*METRIC_NAMES, *BOUND_NAMES)}
        #: the training state at the start of the last step (what continuing the run to a later end needs)
        self.final_step_state: dict[str, np.ndarray] | None = None

    @classmethod
    def create(
        cls, path: str | os.PathLike, run: PreparedRun, *, save: str = "auto", overwrite: bool = False,
        history: str | None = None,
    ) -> NetworkDatasetObserver:
        """Start a new dataset for ``run`` at ``path``."""
        full = saves_full(run.spec, save, run.data.input_dim)
        parameters = run.spec.to_parameters()
        parameters["save"] = save
        parameters["saved_full"] = full
        parameters["neurons"] = run.spec.neurons
        parameters["input_dim_actual"] = run.data.input_dim
        parameters["output_dim"] = run.data.output_dim
        parameters["torch_threads"] = torch.get_num_threads()
        parameters["stores_stability_state"] = True
        model = "adversarial" if run.spec.training.adversary else "supervised"
        attrs = {"time_meaning": "gradient-flow time t = step * lr",
                 "training_data_sha256": training_data_digest(run.data.inputs, run.data.targets)}
        if run.gram is not None:
            attrs.update(lambda_0=run.gram.lambda_0, lambda_max=run.gram.lambda_max, lambda_1=run.gram.lambda_1,
                         kappa=run.gram.kappa)
        writer = StreamingWriter(
            path, system="prd", model=model, parameters=parameters,
            coords=_coords(run, full), variables=_variables(run, full),
            time_long_name="gradient-flow time t = step * lr",
            history=history, attrs=attrs, overwrite=overwrite,
        )
        writer.write_fixed("neuron_index", run.cells)
        writer.write_fixed("step_time", run.times)
        return cls(writer, run, full=full)

    def progress(self, step: int, result: StepResult) -> None:
        """Record the step's measurements (the series are written at the next snapshot)."""
        run, k = self.run, step
        for name, values in self.series.items():
            values[k] = result.metrics[name]
        if k == run.spec.steps - 1:
            # after the update of step steps - 1: the state the last step starts from. The last
            # step only measures (no update, no critic update), so a longer run, which updates
            # there, continues from this state, not from the one after the last snapshot.
            self.final_step_state = checkpoint_arrays(run, record=-1, next_step=run.spec.steps)

    def snapshot(self, step: int, time: float, result: StepResult) -> None:
        """Write the series so far and the snapshot's fields (and the checkpoint of a file)."""
        run, k = self.run, step
        for name, values in self.series.items():
            self.writer.write_fixed(name, values[self.written_until:k + 1], start=self.written_until)
        self.written_until = k + 1
        super().snapshot(step, time, result)
        if self.writer.partial_path is not None:  # None: a run kept in memory
            save_checkpoint(self.writer.partial_path, run, record=self.writer.n_records - 1, next_step=k + 1,
                            final_step_state=self.final_step_state if k == run.spec.steps else None)

    def snapshot_fields(self, step: int, result: StepResult) -> dict[str, np.ndarray]:
        """The fields of one snapshot on the neuron grid (and the state the stability analysis needs)."""
        run = self.run
        state, split, cells = run.state, result.split, run.cells
        # the generator is updated right after measuring: the trainer keeps a copy of θ_k
        U = result.weights_U.cpu().numpy()
        V = result.weights_V.cpu().numpy()
        U0, V0 = state.initial_U.cpu().numpy(), state.initial_V.cpu().numpy()
        reaction_U = split.reaction_U.cpu().numpy()
        diffusion_U = split.diffusion_U.cpu().numpy()
        reaction_V = split.reaction_V.cpu().numpy()
        diffusion_V = split.diffusion_V.cpu().numpy()
        fields = {
            "displacement_u": _on_grid(np.linalg.norm(U - U0, axis=1), cells),
            "displacement_v": _on_grid(np.linalg.norm(V - V0, axis=0), cells),
            "reaction_u_norm": _on_grid(np.linalg.norm(reaction_U, axis=1), cells),
            "diffusion_u_norm": _on_grid(np.linalg.norm(diffusion_U, axis=1), cells),
            "reaction_v_norm": _on_grid(np.linalg.norm(reaction_V, axis=0), cells),
            "diffusion_v_norm": _on_grid(np.linalg.norm(diffusion_V, axis=0), cells),
            "v": _on_grid(V, cells),
            "reaction_v": _on_grid(reaction_V, cells),
            "diffusion_v": _on_grid(diffusion_V, cells),
        }
        if self.full:
            fields["u"] = _on_grid(U.T, cells)
            fields["reaction_u"] = _on_grid(reaction_U.T, cells)
            fields["diffusion_u"] = _on_grid(diffusion_U.T, cells)
        if not self.stability_state:
            return fields
        if self.hidden_storage == "u_weights":
            fields["u_weights"] = U
        elif self.hidden_storage == "u_coefficients":  # U − U(0) = Bᵀ X: the least-squares B is exact up to rounding (the update stays in X's row span)
            inputs = run.X.cpu().numpy().astype(np.float64)
            fields["u_coefficients"] = np.linalg.lstsq(inputs.T, (U - U0).T.astype(np.float64), rcond=None)[0]
        critic = state.critic
        if critic is not None:
            fields["critic_w"] = critic.W.cpu().numpy()
            fields["critic_a"] = critic.a.cpu().numpy()
            if run.spec.training.critic_optimizer == "adam":
                fields.update(_critic_second_moments(run))
        return fields

    def finish(self) -> None:
        """Complete the dataset: the theory's constants, the resume state, the final name."""
        constants = theory_constants(self.run)
        if constants:
            self.writer.set_attrs(**constants)
        if self.final_step_state is not None:
            self.writer.write_group(RESUME_GROUP, self.final_step_state)
        partial = self.writer.partial_path
        super().finish()
        if partial is not None:
            checkpoint_path(partial).unlink(missing_ok=True)


def _critic_second_moments(run: PreparedRun) -> dict[str, np.ndarray]:
    """Adam's bias-corrected second moments v̂ of the critic's gradients (zeros before its first update)."""
    state, betas = run.state, run.spec.training.critic_betas
    moments = {}
    # the trainer keeps Adam's second moments under "<parameter>_v"
    for variable, key, parameter in (("critic_second_moment_w", "W_v", state.critic.W),
                                     ("critic_second_moment_a", "a_v", state.critic.a)):  # fmt: skip
        second = state.critic_moments.get(key)
        if second is None or state.critic_updates == 0:
            moments[variable] = np.zeros(tuple(parameter.shape))
        else:
            moments[variable] = (second / (1 - betas[1] ** state.critic_updates)).cpu().numpy()
    return moments


def _rng_state(generator: torch.Generator) -> np.ndarray:
    return generator.get_state().numpy().copy()


def checkpoint_arrays(run: PreparedRun, *, record: int, next_step: int) -> dict[str, np.ndarray]:
    """The complete training state of ``run`` as plain arrays (what :func:`restore_checkpoint` reads).

    Parameters
    ----------
    run : PreparedRun
        Its ``state`` is the state to continue from.
    record : int
        Index of the snapshot this state follows.
    next_step : int
        The step a resumed run starts at.
    """
    state = run.state
    arrays = {
        "record": np.array(record),
        "step": np.array(next_step),
        "generator_updates": np.array(state.generator_updates),
        "critic_updates": np.array(state.critic_updates),
        "U": state.generator.U.cpu().numpy().copy(),
        "V": state.generator.V.cpu().numpy().copy(),
        "initial_U": state.initial_U.cpu().numpy(),
        "initial_V": state.initial_V.cpu().numpy(),
        "batch_rng": _rng_state(state.batch_rng),
        "critic_rng": _rng_state(state.critic_rng),
    }
    if state.critic is not None:
        arrays["W"] = state.critic.W.cpu().numpy().copy()
        arrays["a"] = state.critic.a.cpu().numpy().copy()
    for name, tensor in state.generator_moments.items():
        arrays[f"generator_moment__{name}"] = tensor.cpu().numpy().copy()
    for name, tensor in state.critic_moments.items():
        arrays[f"critic_moment__{name}"] = tensor.cpu().numpy().copy()
    for name, value in state.extras.items():
        arrays[f"extra__{name}"] = np.array(value, dtype=float)
    return arrays


def restore_checkpoint(run: PreparedRun, arrays: dict[str, np.ndarray]) -> None:
    """Set ``run.state`` to the state stored by :func:`checkpoint_arrays`."""
    device, dtype = run.X.device, run.X.dtype

    def tensor(name: str) -> torch.Tensor:
        return torch.as_tensor(arrays[name], dtype=dtype).to(device)

    state = run.state
    state.generator.U = tensor("U")
    state.generator.V = tensor("V")
    state.initial_U = tensor("initial_U")
    state.initial_V = tensor("initial_V")
    if state.critic is not None:
        state.critic.W = tensor("W")
        state.critic.a = tensor("a")
    state.step = int(arrays["step"])
    state.generator_updates = int(arrays["generator_updates"])
    state.critic_updates = int(arrays["critic_updates"])
    state.batch_rng.set_state(torch.as_tensor(arrays["batch_rng"], dtype=torch.uint8))
    state.critic_rng.set_state(torch.as_tensor(arrays["critic_rng"], dtype=torch.uint8))
    state.generator_moments = {name.split("__", 1)[1]: tensor(name) for name in arrays
                               if name.startswith("generator_moment__")}
    state.critic_moments = {name.split("__", 1)[1]: tensor(name) for name in arrays
                            if name.startswith("critic_moment__")}
    state.extras = {name.split("__", 1)[1]: float(arrays[name]) for name in arrays if name.startswith("extra__")}


def save_checkpoint(partial_path: str | os.PathLike, run: PreparedRun, *, record: int, next_step: int,
                    final_step_state: dict[str, np.ndarray] | None = None) -> Path:  # fmt: skip
    """Write the complete training state beside the partial file, atomically and durably.

    Parameters
    ----------
    partial_path : path
        The partial dataset file.
    run : PreparedRun
        Its ``state`` is the state to continue from (step k + 1 after snapshot k).
    record : int
        Index of the snapshot this state follows.
    next_step : int
        The step a resumed run starts at: the snapshot's step + 1. (After the final snapshot
        the state is not updated, so ``run.state.step`` would repeat the recorded step.)
    final_step_state : dict, optional
        After the final snapshot: the state the final step started from (stored with the
        prefix ``final__``), which continuing the run to a later end needs.
    """
    arrays = checkpoint_arrays(run, record=record, next_step=next_step)
    for name, values in (final_step_state or {}).items():
        arrays[f"{_FINAL_PREFIX}{name}"] = values
    return _write_checkpoint(checkpoint_path(partial_path), arrays)


def _write_checkpoint(target: Path, arrays: dict[str, np.ndarray]) -> Path:
    temporary = target.with_name(target.name + ".tmp")
    with open(temporary, "wb") as stream:
        np.savez(stream, **arrays)
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(temporary, target)
    folder = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return target


def _read_parameters(path: Path) -> dict:
    """The stored parameters of a run's file (partial or finished, NetCDF or zarr)."""
    import warnings

    from rdnet.dataset import open_dataset

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DatasetWarning)
            with open_dataset(path) as ds:
                if ds.attrs.get("system") != "prd":
                    raise DatasetError(f"{path} is not a network training run (system={ds.attrs.get('system')!r})")
                return json.loads(ds.attrs["parameters"])
    except (KeyError, TypeError, json.JSONDecodeError) as error:
        raise DatasetError(f"{path} is not the file of an rdnet train run ({error})") from None


def _load_checkpoint(sidecar: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(sidecar, allow_pickle=False) as stored:
            return {name: stored[name] for name in stored.files}
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read checkpoint {sidecar}: {error}") from None


def resume_run(source: str | os.PathLike, *, steps: int | None = None,
               history: str | None = None) -> tuple[PreparedRun, NetworkDatasetObserver]:  # fmt: skip
    """Restore a run from its file: an interrupted run to go on, or any run to continue to a later end.

    An interrupted run's ``.partial`` file has its training state in the ``.npz`` checkpoint
    beside it; a finished file keeps the state its last step started from in its group
    ``resume_state`` (:data:`RESUME_GROUP`). Continued to a later end ``steps``, the run
    equals, bit for bit on the CPU, a run asked for that end from the start with the same
    ``snapshot_every``: the last step of the shorter run only measured the state (no
    update), so it is run again, with its update, and its snapshot and series values are
    replaced.

    Parameters
    ----------
    source : path
        The ``.partial`` file (or store) of an interrupted run, or a finished one.
    steps : int, optional
        The new end (generator steps); default the stored one (an interrupted run completes).
    history : str, optional
        The resuming command line, stored in the file.

    Returns
    -------
    run : PreparedRun
        With the state to continue from.
    observer : NetworkDatasetObserver
        Writing into the reopened or rebuilt partial file.

    Raises
    ------
    ConfigError
        Nothing to resume from, a finished run given no later end, an end before the last
        snapshot, or a file written before rdnet stored the state.
    """
    from rdnet.dataset import PARTIAL_SUFFIX
    from rdnet.dataset.reader import read_group

    source = Path(source).expanduser().absolute()
    partial = source.name.endswith(PARTIAL_SUFFIX)
    if not source.exists():
        raise ConfigError(f"no {'partial ' if partial else ''}file to resume: {source}")
    try:
        parameters = _read_parameters(source)
    except DatasetError as error:
        raise DatasetError(f"cannot resume {source.name}: {error} (resume takes an interrupted run's .partial "
                           f"file or a finished run's file)") from None  # fmt: skip
    spec = RunSpec.from_parameters(parameters)
    if steps is not None and (int(steps) != steps or steps < 1):
        raise ConfigError(f"--steps must be a positive integer, got {steps}")
    end = spec.steps if steps is None else int(steps)
    if partial:
        sidecar = checkpoint_path(source)
        if not sidecar.is_file():
            raise ConfigError(f"cannot resume {source}: its checkpoint {sidecar.name} is missing")
        arrays = _load_checkpoint(sidecar)
        records = int(arrays["record"]) + 1
        last_snapshot = int(arrays["step"]) - 1
        if end != spec.steps and last_snapshot == spec.steps:  # the final snapshot is in
            arrays = {name[len(_FINAL_PREFIX):]: values for name, values in arrays.items()
                      if name.startswith(_FINAL_PREFIX)}  # fmt: skip
            records -= 1
    else:
        if steps is None:
            raise ConfigError(f"{source} is a finished run ({spec.steps} steps); give --steps for a later end "
                              f"to continue it")  # fmt: skip
        arrays = read_group(source, RESUME_GROUP)
        if not arrays:
            raise ConfigError(f"{source} does not store its training state (written by an earlier rdnet); "
                              f"it cannot be continued")  # fmt: skip
        records = _snapshot_count(source) - 1
        last_snapshot = spec.steps
    if not arrays:
        raise ConfigError(f"{source} holds the run's final snapshot but not the state before it; complete it "
                          f"with --resume {source.name} and continue the finished file")  # fmt: skip
    if end <= last_snapshot and not (partial and end == spec.steps):
        raise ConfigError(f"the new end (step {end}) must come after the last snapshot of {source.name} "
                          f"(step {last_snapshot})")  # fmt: skip
    if parameters.get("torch_threads"):
        torch.set_num_threads(int(parameters["torch_threads"]))
    new_spec = dataclasses.replace(spec, steps=end)
    run = prepare_run(new_spec)
    restore_checkpoint(run, arrays)
    full = bool(parameters.get("saved_full"))
    if partial and end == spec.steps:
        writer = StreamingWriter.resume(source, records=records)
        if history:
            writer.set_attrs(resumed_by=history)
    else:
        parameters["steps"] = end
        writer = StreamingWriter.continue_from(source, records=records, history=history,
                                               coords={"step": np.arange(end + 1)},
                                               attrs={"parameters": parameters})  # fmt: skip
        writer.write_fixed("step_time", run.times)
        _write_checkpoint(checkpoint_path(writer.partial_path), {**arrays, "record": np.array(records - 1)})
    observer = NetworkDatasetObserver(writer, run, full=full, first_step=run.state.step,
                               stability_state=bool(parameters.get("stores_stability_state")))
    if run.state.step == end:  # the last step is next: this is the state it starts from
        observer.final_step_state = {**arrays, "record": np.array(-1)}
    return run, observer


def _snapshot_count(path: Path) -> int:
    from rdnet.dataset import open_dataset

    with open_dataset(path) as ds:
        return ds.sizes.get("time", 0)


def check_output(path: str | os.PathLike, *, overwrite: bool) -> Path:
    """Refuse an existing output (or a missing folder) before any work starts."""
    return check_output_path(path, overwrite=overwrite)
