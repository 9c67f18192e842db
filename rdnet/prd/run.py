"""A PRD training run: its specification, its set-up, and the loop that feeds observers.

The loop measures the state θ_k at every step k = 0 … steps (losses, distances, rates) and
updates it to θ_{k+1} for k < steps; at snapshot steps it also computes the per-neuron
reaction/diffusion split. Observers (a progress bar, a dataset writer) receive every step's
:class:`~rdnet.prd.training.StepResult`; the run itself never opens files. Time is gradient-flow
time t = k · η (η the learning rate).
"""

from __future__ import annotations

import math
import numbers
import os
from dataclasses import asdict, dataclass, field, fields
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch

from rdnet.errors import ConfigError, RunError
from rdnet.observers import notify
from rdnet.prd import defaults, theory
from rdnet.prd.data import TrainingData, load_training_data
from rdnet.prd.layout import EMBEDDINGS, LAYOUTS, NeuronGrid, grid_for_neurons, neuron_layout, parse_grid
from rdnet.prd.networks import INITIALISATIONS, initialise_critic, initialise_generator
from rdnet.prd.training import StepResult, TrainingConfig, TrainingState, make_trainer

__all__ = [
    "DTYPES",
    "RunSpec",
    "check_option_types",
    "PreparedRun",
    "prepare_run",
    "run_training",
    "BOUND_NAMES",
    "theory_applies",
    "adversarial_mu",
    "theory_bounds",
    "theory_constants",
    "TrainingDiverged",
    "torch_threads",
    "SINGLE_THREAD_WORK",
]

DTYPES = {"float64": torch.float64, "float32": torch.float32}
#: names of the theory bound series computed in the theory's setting
BOUND_NAMES = ("bound_residual", "bound_neuron_distance_u", "bound_distance_u", "bound_diffusion_u")
#: ε of the stationarity time T0 recorded in the theory's setting, as a fraction of ‖z(0) − y‖
STATIONARITY_FRACTION = 0.01
#: H∞ is diagonalised (n³) only up to this many samples
THEORY_MAX_SAMPLES = 4096


@dataclass(frozen=True)
class RunSpec:
    """Every parameter of a run (stored as the dataset's ``parameters``).

    The defaults are those of ``rdnet train`` (:mod:`rdnet.prd.defaults`).

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
    snapshot_every : int or None
        Steps between snapshots (the last step is always a snapshot); None: about 15 per run.
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

    dataset: str = defaults.DATASET
    samples: int = defaults.SAMPLES
    input_dim: int = defaults.INPUT_DIM
    outputs: int = defaults.OUTPUTS
    normalize: bool = True
    data_seed: int = defaults.DATA_SEED
    grid_height: int = defaults.GRID_HEIGHT
    grid_width: int = defaults.GRID_WIDTH
    critic_neurons: int | None = None
    steps: int = defaults.STEPS
    snapshot_every: int | None = None
    init: str = defaults.INIT
    layout: str = defaults.LAYOUT
    embedding: str = defaults.EMBEDDING
    seed: int = defaults.SEED
    dtype: str = defaults.DTYPE
    device: str = defaults.DEVICE
    delta: float = defaults.DELTA
    training: TrainingConfig = field(default_factory=TrainingConfig)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise ConfigError(f"--steps must be 1 or more, got {self.steps}")
        if self.snapshot_every is None:
            object.__setattr__(self, "snapshot_every", defaults.snapshot_every(self.steps))
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
        for name in ("seed", "data_seed"):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')} must be 0 or more, got {getattr(self, name)}")
        if self.grid_height < 1 or self.grid_width < 1:
            raise ConfigError("the neuron grid needs positive height and width")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> RunSpec:
        """The run of the options of :func:`rdnet.prd.train` that were given (defaults for the others).

        The training rules live here, so that ``rdnet train``, :func:`rdnet.prd.train` and a
        sweep's points share them: a nonzero ``adversary_weight`` implies the adversary (and
        ``adversary`` alone means weight 1); ``batch_size`` applies only to ``sgd``/``adam``
        (``gd`` always uses every sample); ``neurons`` and the neuron layout ``grid`` (``"HxW"``)
        must agree, and without either the default layout is used.

        Raises
        ------
        ConfigError
            A rule broken, or a value :class:`RunSpec` or :class:`TrainingConfig` refuses.
        """

        def option(name: str, default: Any) -> Any:
            value = options.get(name)
            return default if value is None else value

        check_option_types(options)
        _refuse_options_that_cannot_apply(options)
        grid = _neuron_grid(options.get("neurons"), options.get("grid"))
        weight = options.get("adversary_weight")
        if options.get("adversary") is False and weight is not None and weight != 0:
            raise ConfigError(f"--adversary-weight {weight} asks for the adversary that --no-adversary turns off; "
                              f"drop one of them")
        adversary = _adversary_asked(options)
        optimizer = option("optimizer", defaults.OPTIMIZER)
        if options.get("batch_size") is not None and optimizer == "gd":
            raise ConfigError(
                f"--batch-size {options['batch_size']} applies only to --optimizer sgd or adam; "
                f"--optimizer gd always uses all samples (drop --batch-size, or choose sgd or adam)"
            )
        training = TrainingConfig(
            lr=option("lr", defaults.LR), optimizer=optimizer, batch_size=options.get("batch_size"),
            train_layers=option("train_layers", defaults.TRAIN_LAYERS), adversary=adversary,
            adversary_weight=1.0 if weight is None else weight,
            critic_steps=option("critic_steps", defaults.CRITIC_STEPS), critic_lr=option("critic_lr", defaults.CRITIC_LR),
            critic_optimizer=option("critic_optimizer", defaults.CRITIC_OPTIMIZER),
            gp_weight=option("gp_weight", defaults.GP_WEIGHT),
        )  # fmt: skip
        spec = cls(
            dataset=option("dataset", defaults.DATASET), samples=option("samples", defaults.SAMPLES),
            input_dim=option("input_dim", defaults.INPUT_DIM), outputs=option("outputs", defaults.OUTPUTS),
            normalize=not options.get("no_normalize", False), data_seed=option("data_seed", defaults.DATA_SEED),
            grid_height=grid.height, grid_width=grid.width, critic_neurons=options.get("critic_neurons"),
            steps=option("steps", defaults.STEPS), snapshot_every=options.get("snapshot_every"),
            init=option("init", defaults.INIT), layout=option("layout", defaults.LAYOUT),
            embedding=option("embedding", defaults.EMBEDDING), seed=option("seed", defaults.SEED),
            dtype=option("dtype", defaults.DTYPE), device=option("device", defaults.DEVICE),
            delta=option("delta", defaults.DELTA), training=training,
        )  # fmt: skip
        if options.get("delta") is not None and not spec.uses_delta:
            raise ConfigError("--delta applies only to Theorem 2's bounds: an adversarial run in the theory's "
                              "setting (--adversary --train-layers hidden --outputs 1, paper init, unit inputs, gd)")
        return spec

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

    @property
    def uses_delta(self) -> bool:
        """Whether δ enters the run: Theorem 2's bounds, stored for an adversarial run in the theory's
        setting with one output (the synthetic data's ``outputs``; digits and IDX have 10)."""
        return self.training.adversary and self.theory_setting and self.dataset == "synthetic" and self.outputs == 1

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


#: options that only the synthetic data set uses
_SYNTHETIC_DATA_OPTIONS = ("input_dim", "outputs", "data_seed")
#: options that only a run with a critic uses
_CRITIC_OPTIONS = ("critic_steps", "critic_lr", "critic_optimizer", "critic_neurons", "gp_weight")
#: options of the critic's updates, which a critic frozen by ``critic_steps=0`` never makes
_CRITIC_UPDATE_OPTIONS = ("critic_lr", "critic_optimizer", "gp_weight")


def _adversary_asked(options: Mapping[str, Any]) -> bool:
    """Whether the options ask for a critic: ``adversary``, or a nonzero ``adversary_weight``."""
    weight = options.get("adversary_weight")
    return bool(options.get("adversary")) or (weight is not None and weight != 0)


#: the options of :func:`rdnet.prd.train` by the type they take (None always means the default)
_INTEGER_OPTIONS = ("samples", "input_dim", "outputs", "neurons", "steps", "batch_size", "critic_steps",
                    "critic_neurons", "seed", "data_seed", "snapshot_every", "threads")  # fmt: skip
_NUMBER_OPTIONS = ("lr", "critic_lr", "gp_weight", "adversary_weight", "delta")
_FLAG_OPTIONS = ("adversary", "no_normalize", "overwrite", "quiet")
_TEXT_OPTIONS = ("dataset", "grid", "optimizer", "critic_optimizer", "train_layers", "init", "layout", "embedding",
                 "device", "dtype", "save")  # fmt: skip
_PATH_OPTIONS = ("out", "resume")


def check_option_types(options: Mapping[str, Any]) -> None:
    """Refuse an option of the wrong type (``steps="5"``, ``samples=4.0``, ``adversary="yes"``) in one line.

    The command line's types are click's; this makes :func:`rdnet.prd.train` as clear.

    Raises
    ------
    ConfigError
        An integer option that is not an integer, a number that is not real, a flag that is not a bool,
        a name that is not a string, a file that is not a path.
    """
    for name, value in options.items():
        if value is None:
            continue
        option, flag = "--" + name.replace("_", "-"), isinstance(value, (bool, np.bool_))
        if name in _INTEGER_OPTIONS and (flag or not isinstance(value, numbers.Integral)):
            raise ConfigError(f"{option} must be an integer, got {value!r}")
        if name in _NUMBER_OPTIONS and (flag or not isinstance(value, numbers.Real)):
            raise ConfigError(f"{option} must be a number, got {value!r}")
        if name in _FLAG_OPTIONS and not flag:
            raise ConfigError(f"{option} must be True or False, got {value!r}")
        if name in _TEXT_OPTIONS and not isinstance(value, str):
            raise ConfigError(f"{option} must be a string, got {value!r}")
        if name in _PATH_OPTIONS and not isinstance(value, (str, os.PathLike)):
            raise ConfigError(f"{option} must be a path (str or os.PathLike), got {value!r}")


def _refuse_options_that_cannot_apply(options: Mapping[str, Any]) -> None:
    """Refuse a given option that the run would not use (an embedding of the index layout, the
    critic's options without a critic, or its update options with a frozen one, the synthetic
    data's shape and seed with another data set), rather than drop it silently."""
    if options.get("embedding") is not None and (options.get("layout") or defaults.LAYOUT) != "embedding":
        raise ConfigError("--embedding applies only with --layout embedding")
    adversary = _adversary_asked(options)
    for name in _CRITIC_OPTIONS:
        if options.get(name) is not None and not adversary:
            raise ConfigError(f"--{name.replace('_', '-')} applies only to a run with a critic "
                              f"(add --adversary, or a nonzero --adversary-weight)")  # fmt: skip
    if options.get("critic_steps") == 0:
        for name in _CRITIC_UPDATE_OPTIONS:
            if options.get(name) is not None:
                raise ConfigError(f"--{name.replace('_', '-')} applies only to a critic that is trained; "
                                  f"--critic-steps 0 freezes it at its initialisation")  # fmt: skip
    dataset = options.get("dataset") or defaults.DATASET
    if not isinstance(dataset, str) or (dataset != "digits" and not dataset.startswith("idx:")):
        return  # synthetic, or a name the data loader refuses with the list of valid ones
    for name in _SYNTHETIC_DATA_OPTIONS:
        if options.get(name) is not None:
            raise ConfigError(f"--{name.replace('_', '-')} applies only to --dataset synthetic "
                              f"(--dataset {dataset} fixes its own)")  # fmt: skip


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
    if training.batch_size is not None and training.batch_size > data.samples:  # else stored but not what ran
        raise ConfigError(f"--batch-size {training.batch_size} is larger than the {data.samples} samples")
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


def theory_applies(run: PreparedRun) -> bool:
    """Whether the paper's bounds apply: the theory's setting with d_out = 1 and λ0 > 0 known."""
    return (run.spec.theory_setting and run.data.output_dim == 1 and run.gram is not None
            and run.gram.lambda_0 > 0)


def adversarial_mu(run: PreparedRun, critic_bound: float) -> float:
    """|β| μ, μ = L n sqrt(2 log(2/δ)) / sqrt(m_c) (Theorem 2) with the critic's bound L = ``critic_bound``.

    The diffusion is β ∂L_adv/∂θ, so every adversarial term of Theorem 2 scales with β:
    β = 0 turns Theorem 2's bounds into Theorem 1's.
    """
    spec = run.spec
    critic_width = spec.critic_neurons or spec.neurons
    return abs(spec.training.adversary_weight) * theory.hoeffding_mu(
        critic_bound, run.data.samples, critic_width, spec.delta
    )


def theory_bounds(run: PreparedRun, result: StepResult) -> dict[str, float]:
    """The Theorem 1/2 bound curves at the step of ``result`` (NaN outside the theory's setting).

    ``bound_residual`` bounds ‖z(t) − y‖ (Remark 3 / eq. 31), ``bound_neuron_distance_u`` every
    ‖u_j(t) − u_j(0)‖ (eq. 12 / eq. 39), ``bound_distance_u`` ‖U(t) − U(0)‖_F (eq. 15 / eq. 41),
    and, with an adversary, ``bound_diffusion_u`` every ‖D_j^u‖ (eq. 38). With the adversary, L is
    the largest critic ‖w‖ seen up to t (the theorem needs ‖w(s)‖ ≤ L for s ≤ t), μ uses the
    critic width m_c, and μ is multiplied by |β| (see :func:`adversarial_mu`).
    """
    spec, extras = run.spec, run.state.extras
    if not theory_applies(run):
        return {name: math.nan for name in BOUND_NAMES}
    if result.step == 0:
        extras["initial_residual"] = result.metrics["residual_norm"]
    initial_residual = extras.get("initial_residual", math.nan)
    t = result.step * spec.training.lr
    n, m = run.data.samples, spec.neurons
    lambda_0 = run.gram.lambda_0
    if not spec.training.adversary:
        neuron = theory.theorem1_neuron_bound(t, samples=n, neurons=m, lambda_0=lambda_0,
                                              initial_residual=initial_residual)
        return {
            "bound_residual": float(theory.supervised_residual_bound(t, initial_residual=initial_residual,
                                                                      lambda_0=lambda_0)),
            "bound_neuron_distance_u": float(neuron),
            "bound_distance_u": float(theory.theorem1_frobenius_bound(
                t, samples=n, neurons=m, lambda_0=lambda_0, initial_residual=initial_residual)),
            "bound_diffusion_u": math.nan,
        }
    critic_norm = result.metrics["critic_weight_norm"]
    extras["critic_norm_max"] = max(extras.get("critic_norm_max", 0.0), critic_norm)
    critic_bound = extras["critic_norm_max"]
    mu = adversarial_mu(run, critic_bound)
    kappa = run.gram.kappa
    common = dict(samples=n, neurons=m, lambda_0=lambda_0, kappa=kappa, mu=mu, initial_residual=initial_residual)
    return {
        "bound_residual": float(theory.theorem2_residual_bound(
            t, initial_residual=initial_residual, lambda_0=lambda_0, kappa=kappa, mu=mu)),
        "bound_neuron_distance_u": float(theory.theorem2_neuron_bound(t, **common)),
        "bound_distance_u": float(theory.theorem2_frobenius_bound(t, **common)),
        "bound_diffusion_u": theory.diffusion_bound(
            critic_bound, n, m, spec.delta, critic_neurons=spec.critic_neurons or m,
            adversary_weight=spec.training.adversary_weight,
        ),
    }


def theory_constants(run: PreparedRun) -> dict[str, float]:
    """The paper's constants of a run in the theory's setting (empty outside it), for the dataset's attributes.

    ``lambda_1`` (= 2(λ_max + λ0/2)), ``initial_residual`` ‖z(0) − y‖, ``critic_norm_bound`` L
    (the largest critic ‖W‖_F of the run; only with an adversary), ``mu`` (|β| μ; 0 without an
    adversary), ``kappa_mu`` (κ|β|μ, the floor of the residual bound eq. 31),
    ``stationarity_epsilon`` ε = :data:`STATIONARITY_FRACTION` · ‖z(0) − y‖ and
    ``stationarity_time`` T0 (the gradient-flow time after which the bound guarantees
    ‖z − y‖ ≤ ε; ``inf`` when κμ ≥ ε, i.e. the bound never does). Call after the run (L grows with it).
    """
    extras = run.state.extras
    if not theory_applies(run) or "initial_residual" not in extras:
        return {}
    gram = run.gram
    initial_residual = extras["initial_residual"]
    constants = {"lambda_1": gram.lambda_1, "initial_residual": initial_residual}
    mu = 0.0
    if run.spec.training.adversary:
        constants["critic_norm_bound"] = extras.get("critic_norm_max", math.nan)
        mu = adversarial_mu(run, constants["critic_norm_bound"])
    epsilon = STATIONARITY_FRACTION * initial_residual
    return {
        **constants,
        "mu": mu,
        "kappa_mu": gram.kappa * mu,
        "stationarity_epsilon": epsilon,
        "stationarity_time": theory.stationarity_time(
            epsilon, initial_residual=initial_residual, lambda_0=gram.lambda_0, kappa=gram.kappa, mu=mu),
    }


#: below this many multiply-adds per step (n · m · d_in) one thread is fastest (and immune to
#: oversubscription on a busy machine); above, torch's default thread count is kept
SINGLE_THREAD_WORK = 2**26


def torch_threads(run: PreparedRun, threads: int | None) -> int | None:
    """The torch threads for a run: those asked for, else 1 for a small run, else None (torch's default).

    Parameters
    ----------
    run : PreparedRun
    threads : int or None
        Asked for (at least 1), or None to decide by the run's size.
    """
    if threads is not None:
        return threads
    work = run.data.samples * run.spec.neurons * run.data.input_dim
    return 1 if work < SINGLE_THREAD_WORK else None


def _neuron_grid(neurons: int | None, grid: str | None) -> NeuronGrid:
    """The neuron layout asked for by ``neurons`` (a perfect square) or ``grid`` (``"HxW"``), which must agree."""
    if grid is not None:
        parsed = parse_grid(grid)
        if neurons is not None and neurons != parsed.neurons:
            raise ConfigError(f"{neurons} neurons disagree with the neuron grid {grid} ({parsed.neurons} neurons)")
        return parsed
    return grid_for_neurons(defaults.GRID_HEIGHT * defaults.GRID_WIDTH if neurons is None else neurons)


def run_training(run: PreparedRun, observers: Sequence[Any] = ()) -> TrainingState:
    """Train from ``run.state.step`` to ``run.spec.steps``, reporting to the observers.

    Parameters
    ----------
    run : PreparedRun
        Prepared by :func:`prepare_run` (or restored from a checkpoint).
    observers : sequence
        Objects with any of the hooks of :class:`rdnet.observers.RunObserver`: ``start(run,
        step)``, ``progress(step, result)`` after every step with what it measured,
        ``snapshot(step, time, result)`` at snapshot steps (after ``progress``, when the
        split is available), ``finish()``, and ``abort()`` when the run ends early.

    Returns
    -------
    TrainingState
        The final state (also ``run.state``).

    Raises
    ------
    TrainingDiverged
        When the generator's or the critic's values stop being finite (its learning rate is
        too large); the message says which, and the option to change.
    """
    spec = run.spec
    step = make_trainer(run.X, run.Y, spec.training)
    state = run.state
    previous: dict[str, float] | None = None
    notify(observers, "start", run, state.step)
    try:
        for k in range(state.step, spec.steps + 1):
            snapshot = k % spec.snapshot_every == 0 or k == spec.steps
            result = step(state, with_split=snapshot, update=k < spec.steps)
            result.metrics.update(theory_bounds(run, result))
            divergence = _divergence(result.metrics, previous, spec.training)
            if divergence:
                raise TrainingDiverged(f"training diverged at step {k}: {divergence}")
            previous = result.metrics
            notify(observers, "progress", k, result)
            if snapshot:
                notify(observers, "snapshot", k, k * spec.training.lr, result)
    except BaseException:
        notify(observers, "abort")
        raise
    notify(observers, "finish")
    return state


class TrainingDiverged(RunError):
    """The generator's or the critic's values stopped being finite: resuming would diverge again."""


#: the critic's diagnostics: any of them non-finite means the critic blew up
_CRITIC_METRICS = ("critic_loss", "gradient_penalty", "wasserstein_estimate", "critic_weight_norm", "loss_adv")
#: WGAN-GP keeps ‖∇g‖ near 1: a gradient penalty above this (‖∇g‖ ≳ 1000) before the generator
#: blows up shows that the critic blew up first (only used to say which; it stops nothing itself)
CRITIC_BLOWUP_PENALTY = 1e6


def _critic_sign(metrics: dict[str, float] | None, *, penalty: bool) -> str | None:
    """The first sign in a step's values that the critic has blown up, or None.

    Non-finite critic values always count; a gradient penalty above :data:`CRITIC_BLOWUP_PENALTY`
    only when ``penalty``.
    """
    if metrics is None:
        return None
    for name in _CRITIC_METRICS:
        if not math.isfinite(metrics[name]):
            return f"{name} = {metrics[name]:g}"
    if penalty and metrics["gradient_penalty"] > CRITIC_BLOWUP_PENALTY:
        return f"gradient penalty = {metrics['gradient_penalty']:.3g}, so ||grad g|| >> 1"
    return None


def _divergence(
    metrics: dict[str, float], previous: dict[str, float] | None, training: TrainingConfig
) -> str | None:
    """Which part of the model stopped being finite, and the option to change; None while all is finite.

    ``previous`` holds the values of the step before (None at the first step of a run). The
    generator's θ_k came from an update with the critic of step k − 1: a non-finite L_sup after
    a blown-up critic is the critic's doing, otherwise the generator's step size; non-finite
    critic values beside a finite L_sup are the critic's.
    """
    generator_finite = math.isfinite(metrics["loss_sup"])
    rates_finite = math.isfinite(metrics["max_rate_u"]) and math.isfinite(metrics["max_rate_v"])
    critic_now = _critic_sign(metrics, penalty=False) if training.adversary else None
    if generator_finite and rates_finite and critic_now is None:
        return None
    lr = f"try a smaller --lr than {training.lr:g}"
    if training.adversary and training.adversary_weight > 1:  # β beyond the paper's 1 scales the critic's push
        lr += f" or a smaller --adversary-weight than {training.adversary_weight:g}"
    critic_lr = f"try a smaller --critic-lr than {training.critic_lr:g}"
    if training.critic_optimizer == "gd":
        critic_lr += " or --critic-optimizer adam"
    if not generator_finite:
        before = _critic_sign(previous, penalty=True) if training.adversary else None
        if before:
            return (f"the critic blew up at the step before ({before}) and threw the generator off "
                    f"(L_sup = {metrics['loss_sup']:g}); {critic_lr}")
        return f"the generator blew up (L_sup = {metrics['loss_sup']:g}); {lr}"
    if critic_now is not None:
        return (f"the critic blew up ({critic_now}) while the generator's L_sup = {metrics['loss_sup']:.4g} "
                f"is finite; {critic_lr}")
    if training.adversary and (penalty_sign := _critic_sign(metrics, penalty=True)):
        return (f"the critic blew up ({penalty_sign}) and made the generator's update "
                f"non-finite (max |du/dt| = {metrics['max_rate_u']:g}); {critic_lr}")
    return f"the generator's update blew up (max |du/dt| = {metrics['max_rate_u']:g}); {lr}"
