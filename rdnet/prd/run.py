"""A PRD training run: its specification, its set-up, and the loop that feeds observers.

The loop measures the state θ_k at every step k = 0 … steps (losses, distances, rates) and
updates it to θ_{k+1} for k < steps; at snapshot steps it also computes the per-neuron
reaction/diffusion split. Observers (a progress bar, a dataset writer) receive every step's
:class:`~rdnet.prd.training.StepResult`; the run itself never opens files. Time is gradient-flow
time t = k · η (η the learning rate).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Protocol

import numpy as np
import torch

from rdnet.errors import ConfigError, RunError
from rdnet.prd import theory
from rdnet.prd.data import TrainingData, load_training_data
from rdnet.prd.layout import EMBEDDINGS, LAYOUTS, NeuronGrid, neuron_layout
from rdnet.prd.networks import INITIALISATIONS, initialise_critic, initialise_generator
from rdnet.prd.training import StepResult, TrainingConfig, TrainingState, make_trainer

__all__ = [
    "DTYPES",
    "RunSpec",
    "PreparedRun",
    "TrainingObserver",
    "prepare_run",
    "run_training",
    "BOUND_NAMES",
]

DTYPES = {"float64": torch.float64, "float32": torch.float32}
#: names of the theory bound series computed in the theory's setting
BOUND_NAMES = ("bound_residual", "bound_neuron_distance_u")
#: H∞ is diagonalised (n³) only up to this many samples
THEORY_MAX_SAMPLES = 4096


@dataclass(frozen=True)
class RunSpec:
    """Every parameter of a run (stored as the dataset's ``parameters``).

    Attributes
    ----------
    dataset : str
        ``synthetic``, ``digits`` or ``idx:PATH``.
    samples : int
        n.
    input_dim, outputs : int
        d_in and d_out of the synthetic data.
    normalize : bool
        Unit-norm inputs.
    data_seed : int
        Seed of the synthetic data (kept apart from ``seed`` so that several initialisations
        can train on the same data).
    grid_height, grid_width : int
        The neuron grid; m = H · W.
    critic_neurons : int or None
        Critic width m_c (None: m, as in the paper).
    steps : int
        Generator updates.
    snapshot_every : int
        Steps between snapshots (the last step is always a snapshot).
    init : {"paper", "gaussian"}
        Initialisation of both networks.
    layout, embedding : str
        Neuron arrangement on the grid (see :mod:`rdnet.prd.layout`).
    seed : int
        Seed of the weights, minibatches and critic noise.
    dtype : {"float64", "float32"}
    device : str
        ``cpu`` or ``cuda`` (or ``cuda:N``).
    delta : float
        δ of the theory's high-probability bounds.
    training : TrainingConfig
    """

    dataset: str = "synthetic"
    samples: int = 64
    input_dim: int = 784
    outputs: int = 1
    normalize: bool = True
    data_seed: int = 0
    grid_height: int = 32
    grid_width: int = 32
    critic_neurons: int | None = None
    steps: int = 2000
    snapshot_every: int = 100
    init: str = "paper"
    layout: str = "index"
    embedding: str = "pca"
    seed: int = 0
    dtype: str = "float64"
    device: str = "cpu"
    delta: float = 0.05
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"--steps must be 1 or more, got {self.steps}")
        if self.snapshot_every < 1:
            raise ConfigError(f"--snapshot-every must be at least 1, got {self.snapshot_every}")
        if self.init not in INITIALISATIONS:
            raise ConfigError(f"unknown init {self.init!r}; choose one of: {', '.join(INITIALISATIONS)}")
        if self.layout not in LAYOUTS:
            raise ConfigError(f"unknown layout {self.layout!r}; choose one of: {', '.join(LAYOUTS)}")
        if self.embedding not in EMBEDDINGS:
            raise ConfigError(f"unknown embedding {self.embedding!r}; choose one of: {', '.join(EMBEDDINGS)}")
        if self.dtype not in DTYPES:
            raise ConfigError(f"unknown dtype {self.dtype!r}; choose one of: {', '.join(DTYPES)}")
        if self.critic_neurons is not None and self.critic_neurons < 1:
            raise ConfigError(f"--critic-neurons must be positive, got {self.critic_neurons}")
        if not 0 < self.delta < 1:
            raise ConfigError(f"delta must lie in (0, 1), got {self.delta}")
        if self.grid_height < 1 or self.grid_width < 1:
            raise ConfigError("the neuron grid needs positive height and width")

    @property
    def neurons(self) -> int:
        """m."""
        return self.grid_height * self.grid_width

    @property
    def theory_setting(self) -> bool:
        """Whether the paper's simplified setting holds (d_out = 1, V fixed, paper init, unit inputs, GD)."""
        return (
            self.training.train_layers == "hidden"
            and self.init == "paper"
            and self.normalize
            and self.training.optimizer == "gd"
        )

    def to_parameters(self) -> dict[str, Any]:
        """A JSON-able dict of every parameter (``training`` nested)."""
        parameters = asdict(self)
        parameters["training"]["adam_betas"] = list(self.training.adam_betas)
        parameters["training"]["critic_betas"] = list(self.training.critic_betas)
        return parameters

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> RunSpec:
        """Rebuild a spec from :meth:`to_parameters`' output (unknown keys are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {key: value for key, value in parameters.items() if key in known}
        training = dict(values.pop("training", {}))
        training_known = {f.name for f in fields(TrainingConfig)}
        training = {key: value for key, value in training.items() if key in training_known}
        for key in ("adam_betas", "critic_betas"):
            if key in training:
                training[key] = tuple(training[key])
        return cls(**values, training=TrainingConfig(**training))


@dataclass
class PreparedRun:
    """What a run needs besides its spec: data, tensors, grid, theory constants, initial state.

    Attributes
    ----------
    spec : RunSpec
    data : TrainingData
    X, Y : torch.Tensor
        Inputs and targets on the run's device and dtype.
    grid : NeuronGrid
    cells : (H, W) int array
        Neuron index at each grid cell.
    state : TrainingState
    gram : theory.GramSpectrum or None
        Constants of H∞ (None when n is too large to diagonalise cheaply).
    """

    spec: RunSpec
    data: TrainingData
    X: torch.Tensor
    Y: torch.Tensor
    grid: NeuronGrid
    cells: np.ndarray
    state: TrainingState
    gram: theory.GramSpectrum | None

    @property
    def times(self) -> np.ndarray:
        """Gradient-flow time of every step k = 0 … steps."""
        return np.arange(self.spec.steps + 1) * self.spec.training.lr


class TrainingObserver(Protocol):
    """Something the loop reports to (progress bars, dataset writers)."""

    def on_step(self, result: StepResult, run: PreparedRun) -> None:
        """Called after every step with what it measured."""

    def on_snapshot(self, result: StepResult, run: PreparedRun) -> None:
        """Called at snapshot steps (after :meth:`on_step`), when the split is available."""

    def on_finish(self, run: PreparedRun) -> None:
        """Called once when the last step is done."""


def _seeds(seed: int) -> dict[str, int]:
    children = np.random.SeedSequence(seed).spawn(5)
    names = ("generator", "critic", "batches", "critic_noise", "layout")
    return {name: int(child.generate_state(1)[0]) for name, child in zip(names, children)}


def _device(name: str) -> torch.device:
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"unknown device {name!r}; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda asked for, but no CUDA GPU is available to torch; use --device cpu")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {name!r}; use cpu or cuda")
    return device


def prepare_run(spec: RunSpec) -> PreparedRun:
    """Load the data, draw the weights, lay out the neurons, compute the theory constants.

    Parameters
    ----------
    spec : RunSpec

    Returns
    -------
    PreparedRun
        With the state at step 0.
    """
    device = _device(spec.device)
    dtype = DTYPES[spec.dtype]
    data = load_training_data(
        spec.dataset, samples=spec.samples, input_dim=spec.input_dim, output_dim=spec.outputs,
        normalize=spec.normalize, seed=spec.data_seed,
    )
    training = spec.training
    if training.optimizer == "sgd" and (training.batch_size is None or training.batch_size >= data.samples):
        raise ConfigError(
            f"--optimizer sgd needs --batch-size smaller than the {data.samples} samples (else use gd)"
        )
    seeds = _seeds(spec.seed)
    m = spec.neurons
    generator = initialise_generator(
        m, data.input_dim, data.output_dim, scheme=spec.init,
        generator=torch.Generator().manual_seed(seeds["generator"]), dtype=dtype, device=device,
    )
    critic = None
    if training.adversary:
        critic = initialise_critic(
            spec.critic_neurons or m, data.output_dim, scheme=spec.init,
            generator=torch.Generator().manual_seed(seeds["critic"]), dtype=dtype, device=device,
        )
    state = TrainingState(
        generator=generator,
        critic=critic,
        initial_U=generator.U.clone(),
        initial_V=generator.V.clone(),
        batch_rng=torch.Generator().manual_seed(seeds["batches"]),
        critic_rng=torch.Generator().manual_seed(seeds["critic_noise"]),
    )
    grid = NeuronGrid(spec.grid_height, spec.grid_width)
    cells = neuron_layout(
        generator.U.cpu().numpy(), grid, layout=spec.layout, embedding=spec.embedding, seed=seeds["layout"]
    )
    gram = theory.gram_spectrum(data.inputs) if data.samples <= THEORY_MAX_SAMPLES else None
    X = torch.as_tensor(data.inputs, dtype=dtype).to(device)
    Y = torch.as_tensor(data.targets, dtype=dtype).to(device)
    return PreparedRun(spec=spec, data=data, X=X, Y=Y, grid=grid, cells=cells, state=state, gram=gram)


def theory_bounds(run: PreparedRun, result: StepResult) -> dict[str, float]:
    """The Theorem 1/2 bound curves at the step of ``result`` (NaN outside the theory's setting).

    ``bound_residual`` bounds ‖z(t) − y‖ (Remark 3 / eq. 31) and ``bound_neuron_distance_u`` bounds
    every ‖u_j(t) − u_j(0)‖ (eq. 12 / eq. 39). With the adversary, L is the largest critic ‖w‖ seen
    up to t (the theorem needs ‖w(s)‖ ≤ L for s ≤ t) and μ uses the critic width.
    """
    spec, extras = run.spec, run.state.extras
    nan = {name: math.nan for name in BOUND_NAMES}
    if not spec.theory_setting or run.data.output_dim != 1 or run.gram is None or run.gram.lambda_0 <= 0:
        return nan
    if result.step == 0:
        extras["initial_residual"] = result.metrics["residual_norm"]
    initial_residual = extras.get("initial_residual", math.nan)
    t = result.step * spec.training.lr
    n, m = run.data.samples, spec.neurons
    lambda_0 = run.gram.lambda_0
    if not spec.training.adversary:
        return {
            "bound_residual": float(theory.supervised_residual_bound(t, initial_residual=initial_residual,
                                                                      lambda_0=lambda_0)),
            "bound_neuron_distance_u": float(theory.theorem1_neuron_bound(
                t, samples=n, neurons=m, lambda_0=lambda_0, initial_residual=initial_residual)),
        }
    critic_norm = result.metrics["critic_weight_norm"]
    extras["critic_norm_max"] = max(extras.get("critic_norm_max", 0.0), critic_norm)
    mu = theory.hoeffding_mu(extras["critic_norm_max"], n, spec.critic_neurons or m, spec.delta)
    kappa = run.gram.kappa
    return {
        "bound_residual": float(theory.theorem2_residual_bound(
            t, initial_residual=initial_residual, lambda_0=lambda_0, kappa=kappa, mu=mu)),
        "bound_neuron_distance_u": float(theory.theorem2_neuron_bound(
            t, samples=n, neurons=m, lambda_0=lambda_0, kappa=kappa, mu=mu, initial_residual=initial_residual)),
    }


def run_training(run: PreparedRun, observers: tuple[TrainingObserver, ...] | list = ()) -> TrainingState:
    """Train from ``run.state.step`` to ``run.spec.steps``, reporting to the observers.

    Parameters
    ----------
    run : PreparedRun
        Prepared by :func:`prepare_run` (or restored from a checkpoint).
    observers : sequence of TrainingObserver

    Returns
    -------
    TrainingState
        The final state (also ``run.state``).

    Raises
    ------
    RunError
        When the losses stop being finite (the learning rate is too large).
    """
    spec = run.spec
    step = make_trainer(run.X, run.Y, spec.training)
    state = run.state
    for k in range(state.step, spec.steps + 1):
        snapshot = k % spec.snapshot_every == 0 or k == spec.steps
        result = step(state, with_split=snapshot, update=k < spec.steps)
        result.metrics.update(theory_bounds(run, result))
        if not (math.isfinite(result.metrics["loss_sup"]) and math.isfinite(result.metrics["max_rate_u"])):
            raise RunError(
                f"training diverged at step {k} (L_sup = {result.metrics['loss_sup']}); "
                f"try a smaller --lr than {spec.training.lr}"
            )
        for observer in observers:
            observer.on_step(result, run)
        if snapshot:
            for observer in observers:
                observer.on_snapshot(result, run)
    for observer in observers:
        observer.on_finish(run)
    return state
