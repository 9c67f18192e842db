"""A PRD run's snapshots read back as the exact states of its dynamics (for :mod:`rdnet.prd.stability`).

A run's file (:mod:`rdnet.prd.output`) holds, at every snapshot, V (``v``), the hidden layer U
(``u`` in full, or ``u_coefficients`` B with U(t) = U(0) + Bᵀ X, or ``u_weights``) and, with an
adversary, the critic (``critic_w``, ``critic_a``, Adam's second moments). The data X, Y and U(0)
are regenerated from the file's ``parameters`` (the data are checked against the stored
``training_data_sha256``). Every rebuilt state is then checked against what the run recorded
at that snapshot: the per-neuron distances ``displacement_u`` and, for full-batch runs, the
per-neuron reaction and diffusion norms. A state that does not reproduce them is refused.

Files written before rdnet stored the critic and the hidden layer stay readable: a run saved
in full (``u``) still gives the reaction Jacobian; what they lack is named in the error.
"""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from rdnet.errors import ConfigError, DatasetError
from rdnet.prd.networks import CriticWeights, GeneratorWeights
from rdnet.prd.stability import NetworkState
from rdnet.prd.training import generator_rates

__all__ = ["HIDDEN_LAYER_VARIABLES", "CRITIC_VARIABLES", "REPRODUCTION_RTOL", "NetworkRun", "open_network_run"]

#: the variables that can hold a snapshot's hidden layer, in order of preference
HIDDEN_LAYER_VARIABLES = ("u", "u_coefficients", "u_weights")
#: the variables that hold a snapshot's critic
CRITIC_VARIABLES = ("critic_w", "critic_a")
#: largest relative difference between the rebuilt state's per-neuron norms and the recorded ones
REPRODUCTION_RTOL = {"float64": 1e-7, "float32": 1e-3}


class NetworkRun:
    """An open PRD run file whose snapshots can be rebuilt as :class:`~rdnet.prd.stability.NetworkState`.

    Open with :func:`open_network_run`; close with :meth:`close` (or use it as a context manager).

    Attributes
    ----------
    path : pathlib.Path
    spec : RunSpec
        The run's parameters.
    dataset : xarray.Dataset
        The file (lazy).
    cells : (H, W) int array
        The neuron index at each grid cell.
    times : float array
        Gradient-flow time of each snapshot.
    """

    def __init__(self, path: Path, dataset, spec, prepared) -> None:
        self.path = path
        self.dataset = dataset
        self.spec = spec
        self._prepared = prepared
        self.cells = np.asarray(dataset["neuron_index"].values, dtype=np.int64)
        self.times = np.asarray(dataset["time"].values, dtype=float)

    @property
    def count(self) -> int:
        """Number of snapshots."""
        return self.times.size

    @property
    def has_critic(self) -> bool:
        """Whether the snapshots carry a critic (an adversarial run written by a recent rdnet)."""
        return all(name in self.dataset for name in CRITIC_VARIABLES)

    @property
    def adversarial(self) -> bool:
        """Whether the run trained against a critic."""
        return bool(self.spec.training.adversary)

    def snapshot_index(self, index: int) -> int:
        """``index`` (negative counts from the end) as a non-negative snapshot index; ConfigError when out of range."""
        if not -self.count <= index < self.count:
            raise ConfigError(
                f"--snapshot {index} is out of range: {self.path.name} has {self.count} snapshots "
                f"(use 0..{self.count - 1}, -1 for the last, or all)"
            )
        return index % self.count

    def initial_critic(self) -> CriticWeights:
        """The critic an adversarial run of this spec and seed starts from."""
        adversarial = replace(self.spec, training=replace(self.spec.training, adversary=True))
        from rdnet.prd.run import prepare_run

        critic = prepare_run(adversarial).state.critic
        return CriticWeights(W=critic.W.to(torch.float64), a=critic.a.to(torch.float64))

    def state(self, index: int, *, with_critic: bool) -> NetworkState:
        """The state of snapshot ``index``, checked against what the run recorded there.

        Parameters
        ----------
        index : int
            Snapshot index (negative counts from the end).
        with_critic : bool
            Load the snapshot's critic (an adversarial run's; DatasetError when the file lacks it).

        Raises
        ------
        DatasetError
            The file lacks the hidden layer or the critic, or the rebuilt state does not
            reproduce the recorded per-neuron values.
        """
        index = self.snapshot_index(index)
        snapshot = self.dataset.isel(time=index)
        prepared = self._prepared
        X = prepared.X.to(torch.float64)
        U = self._hidden_layer(snapshot, X)
        V = _from_grid(np.asarray(snapshot["v"].values), self.cells)
        critic = preconditioner = None
        if with_critic:
            critic, preconditioner = self._critic(snapshot)
        training = self.spec.training
        state = NetworkState(
            X=X, Y=prepared.Y, U=U, V=torch.from_numpy(V), critic=critic,
            adversary_weight=training.adversary_weight, train_layers=training.train_layers,
            gp_weight=training.gp_weight, critic_rate=training.critic_steps * training.critic_lr / training.lr,
            critic_preconditioner=preconditioner,
        )  # fmt: skip
        self._check_reproduces(state, snapshot, index)
        return state

    def _hidden_layer(self, snapshot, X: torch.Tensor) -> torch.Tensor:
        name = next((name for name in HIDDEN_LAYER_VARIABLES if name in snapshot), None)
        if name is None:
            raise DatasetError(
                f"{self.path}: lacks the hidden layer U at its snapshots (none of {', '.join(HIDDEN_LAYER_VARIABLES)}; "
                "written with --save norms by an rdnet older than the stability analysis): train the run again"
            )
        values = np.asarray(snapshot[name].values, dtype=np.float64)
        if name == "u":  # (feature, y, x) on the grid
            return torch.from_numpy(_from_grid(values, self.cells).T.copy())
        if name == "u_weights":
            return torch.from_numpy(values)
        initial = self._prepared.state.initial_U.to(torch.float64)
        return initial + torch.from_numpy(values).T @ X

    def _critic(self, snapshot) -> tuple[CriticWeights, tuple[torch.Tensor, torch.Tensor] | None]:
        if not self.adversarial:
            raise DatasetError(f"{self.path}: a supervised run has no critic (train one against it with --train-critic)")
        if not self.has_critic:
            raise DatasetError(
                f"{self.path}: lacks the critic's weights at its snapshots ({', '.join(CRITIC_VARIABLES)}; written by an "
                "rdnet older than the stability analysis): use --jacobian reaction, or train the run again"
            )
        critic = CriticWeights(W=torch.from_numpy(np.asarray(snapshot["critic_w"].values, dtype=np.float64)),
                               a=torch.from_numpy(np.asarray(snapshot["critic_a"].values, dtype=np.float64)))
        if "critic_second_moment_w" not in snapshot:
            return critic, None
        seconds = [np.asarray(snapshot[f"critic_second_moment_{name}"].values, dtype=np.float64) for name in ("w", "a")]
        if not any(second.any() for second in seconds):  # before the critic's first update
            return critic, None
        eps = self.spec.training.adam_eps
        return critic, tuple(torch.from_numpy(1.0 / (np.sqrt(second) + eps)) for second in seconds)

    def _check_reproduces(self, state: NetworkState, snapshot, index: int) -> None:
        """Refuse a rebuilt state whose per-neuron values differ from those the run recorded."""
        tolerance = REPRODUCTION_RTOL.get(self.spec.dtype, 1e-3)
        initial = self._prepared.state.initial_U.to(torch.float64)
        rebuilt = {"displacement_u": torch.linalg.vector_norm(state.U - initial, dim=1).numpy()}
        full_batch = self.spec.training.optimizer == "gd" or (self.spec.training.batch_size or math.inf) >= state.X.shape[0]
        if full_batch:
            critic = state.critic if self.adversarial and state.critic is not None else None
            _, _, split, _ = generator_rates(state.X, state.Y, GeneratorWeights(U=state.U, V=state.V), critic,
                                             state.adversary_weight, with_split=True)  # fmt: skip
            rebuilt["reaction_u_norm"] = torch.linalg.vector_norm(split.reaction_U, dim=1).numpy()
            if critic is not None:
                rebuilt["diffusion_u_norm"] = torch.linalg.vector_norm(split.diffusion_U, dim=1).numpy()
        for name, values in rebuilt.items():
            recorded = np.asarray(snapshot[name].values, dtype=np.float64)
            expected = _from_grid(recorded, self.cells)
            scale = max(float(np.abs(expected).max()), np.finfo(float).tiny)
            difference = float(np.abs(values - expected).max()) / scale
            if not difference <= tolerance:
                raise DatasetError(
                    f"{self.path}: the state rebuilt at snapshot {index} does not reproduce the recorded {name} "
                    f"(relative difference {difference:.2g} > {tolerance:g}); the data or the initial weights "
                    "regenerated from its parameters differ from the run's (another rdnet or torch version?)"
                )

    def close(self) -> None:
        """Close the file."""
        self.dataset.close()

    def __enter__(self) -> NetworkRun:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _from_grid(values: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(..., H, W) values on the grid back to (..., m) per neuron."""
    per_neuron = np.empty(values.shape[:-2] + (cells.size,), dtype=values.dtype)
    per_neuron[..., cells.reshape(-1)] = values.reshape(values.shape[:-2] + (-1,))
    return per_neuron


def open_network_run(path: str | os.PathLike) -> NetworkRun:
    """Open a network run's file and regenerate its data and initial weights.

    Raises
    ------
    DatasetError
        The file is not a network run (``system`` other than ``prd``), lacks its parameters,
        or its regenerated training data differ from the recorded digest.
    ConfigError
        The data cannot be regenerated (an IDX folder that is gone).
    """
    from rdnet.dataset import open_dataset, parameters_of
    from rdnet.prd.output import training_data_digest
    from rdnet.prd.run import RunSpec, prepare_run

    path = Path(path).expanduser()
    dataset = open_dataset(path)
    try:
        system = dataset.attrs.get("system")
        if system != "prd":
            raise DatasetError(
                f"{path} is not a network run (system {system!r}); --network takes a file written by rdnet train"
            )
        parameters = parameters_of(dataset)
        if not parameters or "neuron_index" not in dataset or "v" not in dataset:
            raise DatasetError(f"{path}: a network run without its parameters, neuron_index or v; cannot rebuild its states")
        try:
            spec = RunSpec.from_parameters(parameters)
        except (TypeError, ValueError) as error:
            raise DatasetError(f"{path}: its parameters do not describe a run ({error})") from None
        spec = replace(spec, device="cpu")
        try:
            prepared = prepare_run(spec)
        except ConfigError as error:
            raise ConfigError(f"cannot regenerate the training data of {path}: {error}") from None
        digest = dataset.attrs.get("training_data_sha256")
        if digest is not None and digest != training_data_digest(prepared.data.inputs, prepared.data.targets):
            raise DatasetError(
                f"{path}: the training data regenerated from its parameters (dataset {spec.dataset!r}) differ from "
                "those it was trained on (SHA-256 mismatch)"
            )
        return NetworkRun(path, dataset, spec, prepared)
    except BaseException:
        dataset.close()
        raise
