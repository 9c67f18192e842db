r"""Linear (Turing) stability of the PRD dynamics at a saved state: reaction alone against reaction + diffusion.

The generator follows the gradient flow dθ/dt = R(θ) + D(θ) = −∇_θ (L_sup − β L_adv), θ = (U, V)
(paper eqs. 3–5). Linearised at a state, a small perturbation δθ evolves as dδθ/dt = J δθ, and
grows along the eigenvectors of J with Re λ > 0. Three Jacobians answer the Turing question
(:data:`JACOBIANS`):

``reaction``
    J_R = −∇²_θ L_sup: the supervised gradient flow alone (a symmetric matrix, eigenvalues real).
``frozen``
    J_RD = −∇²_θ (L_sup − β L_adv) with the critic (W, a) of the state held fixed (symmetric).
``game``
    The alternating generator–critic dynamics linearised in s = (θ, φ), φ = (W, a), together:

    .. math:: \frac{d}{dt}\begin{pmatrix}\theta\\ \varphi\end{pmatrix} =
              \begin{pmatrix} -\nabla_\theta L_{aug}(\theta, \varphi) \\
              -\rho P \nabla_\varphi L_{critic}(\theta, \varphi) \end{pmatrix},
              \qquad J_{game} = \begin{pmatrix} -H^{aug}_{\theta\theta} & -H^{aug}_{\theta\varphi} \\
              -\rho P H^{crit}_{\varphi\theta} & -\rho P H^{crit}_{\varphi\varphi} \end{pmatrix},

    L_critic = Σ_p g(z_p) − Σ_p g(y_p) + λ_gp · mean (‖∇g(ŷ)‖ − 1)² (the WGAN-GP loss the critic
    minimises, penalty included), ρ = critic_steps · critic_lr / lr the critic's speed per unit of
    the generator's gradient-flow time and P a diagonal preconditioner (I for a gradient-descent
    critic; 1/(sqrt(v̂) + ε) from Adam's second moments for an Adam critic). Not symmetric.

Nothing of size P × P is formed for large networks. Every product J v is a Hessian–vector
product by double-backward autograd (the first gradient's graph is built once per state and
reused), and the leading eigenvalues come from ARPACK (``scipy.sparse.linalg.eigsh`` for the
symmetric J_R and J_RD, ``eigs`` for the game) on a ``LinearOperator``.

**Exact reduction.** Every loss depends on U only through the pre-activations X Uᵀ. With Q the
r × d_in orthonormal basis of the rows of X (r = rank X ≤ min(n, d_in)) and R = X Qᵀ, the network
on inputs R with hidden weights C = U Qᵀ (m × r) computes the same losses, and the map
δC ↦ δU = δC Q is an isometry onto the directions that change any pre-activation. The other
m (d_in − r) directions of U are exactly neutral (J δU = 0): they are reported as
``structural_neutral_dimension``, and the eigen-solve runs on the m r + d_out m (+ critic)
reduced coordinates. At the ``rdnet train`` defaults (d_in = 784, n = 64) that is 12× smaller.

**Neutral directions.** Over-parameterised networks have many zero curvatures. An eigenvalue
with |Re λ| ≤ tolerance = ``rtol`` · max |λ| (the largest modulus found, the Jacobian's own
scale; :data:`NEUTRAL_RTOL` by default) is *neutral*, not unstable. Above it, *unstable*; below
−tolerance, *stable*.

The gradient penalty's expectation over the interpolation weights ε ~ U(0, 1) is replaced by the
mean over :data:`PENALTY_NODES` fixed midpoints ε_i = (i + ½)/Q, and like the trainer's own
gradient it is differentiated almost everywhere (ReLU activation patterns held fixed).
Computations run in float64 whatever the run's dtype.

Reference: L. Rout, "Why Adversarial Interaction Creates Non-Homogeneous Patterns: A
Pseudo-Reaction-Diffusion Model for Turing Instability", AAAI-21.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from rdnet.errors import ConfigError, RunError
from rdnet.prd.networks import CriticWeights, critic_value, generator_forward
from rdnet.prd.training import TRAIN_LAYERS, critic_gradients

__all__ = [
    "JACOBIANS",
    "NEUTRAL_RTOL",
    "EIGEN_ACCURACY",
    "DENSE_MAX_PARAMETERS",
    "PENALTY_NODES",
    "NetworkState",
    "ParameterLayout",
    "JacobianOperator",
    "Spectrum",
    "ModeOnGrid",
    "input_basis",
    "jacobian_operator",
    "vector_field",
    "dense_jacobian",
    "dense_spectrum",
    "leading_spectrum",
    "mode_on_grid",
    "mode_pattern",
    "per_neuron_field",
    "classify",
    "turing_reading",
    "best_response_critic",
    "with_critic",
]

#: the Jacobians: reaction alone, reaction + diffusion with the critic frozen, the full game
JACOBIANS = ("reaction", "frozen", "game")
#: |Re λ| ≤ NEUTRAL_RTOL · max |λ| counts as neutral (zero up to the eigen-solve's accuracy and
#: the state's distance from an exact critical point; see docs/prd_stability.md)
NEUTRAL_RTOL = 1e-6
#: the dense path (full coordinates, every entry formed) is offered up to this many parameters
DENSE_MAX_PARAMETERS = 2000
#: fixed interpolation weights ε_i = (i + ½)/Q of the gradient penalty's expectation
PENALTY_NODES = 8
#: reduced problems this small are solved densely (from J applied to the unit vectors)
_SMALL_PROBLEM = 64
#: requested accuracy of the leading eigenvalues, relative to the Jacobian's scale max |λ| (a tenth of
#: the neutral band, so that the classification is reliable)
EIGEN_ACCURACY = 1e-7
#: relative accuracy of the largest-modulus eigenvalues (they only set the scale)
SCALE_ACCURACY = 1e-6
#: an eigen-solve gives up (RunError) after about this many Jacobian–vector products
MAX_PRODUCTS = 50_000


@dataclass(frozen=True)
class NetworkState:
    """A state of the PRD model to linearise at: data, generator, critic, and the dynamics' constants.

    Attributes
    ----------
    X : (n, d_in) tensor
        Inputs as rows.
    Y : (n, d_out) tensor
        Targets as rows.
    U : (m, d_in) tensor
    V : (d_out, m) tensor
    critic : CriticWeights or None
        The critic (W, a); None for sole supervision (then only ``reaction`` applies).
    adversary_weight : float
        β in L_aug = L_sup − β L_adv.
    train_layers : {"both", "hidden"}
        Which generator layers are dynamical (``hidden``: V is fixed, θ = U).
    gp_weight : float
        λ_gp of the critic's loss.
    critic_rate : float
        ρ: critic updates' speed per unit of generator time (critic_steps · critic_lr / lr).
    critic_preconditioner : tuple of two tensors or None
        Diagonal preconditioner P of the critic's flow, shaped like (W, a); None means P = I.
    """

    X: torch.Tensor
    Y: torch.Tensor
    U: torch.Tensor
    V: torch.Tensor
    critic: CriticWeights | None = None
    adversary_weight: float = 1.0
    train_layers: str = "both"
    gp_weight: float = 10.0
    critic_rate: float = 1.0
    critic_preconditioner: tuple[torch.Tensor, torch.Tensor] | None = None

    def __post_init__(self) -> None:
        if self.train_layers not in TRAIN_LAYERS:
            raise ConfigError(f"unknown train_layers {self.train_layers!r}; choose one of: {', '.join(TRAIN_LAYERS)}")
        as64 = {name: getattr(self, name).detach().to(torch.float64) for name in ("X", "Y", "U", "V")}
        for name, value in as64.items():
            object.__setattr__(self, name, value)
        if self.critic is not None:
            object.__setattr__(self, "critic", CriticWeights(W=self.critic.W.detach().to(torch.float64),
                                                            a=self.critic.a.detach().to(torch.float64)))
        if self.critic_preconditioner is not None:
            object.__setattr__(self, "critic_preconditioner",
                               tuple(p.detach().to(torch.float64) for p in self.critic_preconditioner))

    @property
    def neurons(self) -> int:
        """m."""
        return self.U.shape[0]

    @property
    def trains_top_layer(self) -> bool:
        """Whether V is dynamical."""
        return self.train_layers == "both"


@dataclass(frozen=True)
class ParameterLayout:
    """How named parameter blocks are packed into one flat vector (row-major, in order).

    Attributes
    ----------
    names : tuple of str
        Block names: ``u`` (hidden layer, or its coefficients in the input basis), ``v``, ``w``, ``a``.
    shapes : tuple of tuple of int
    """

    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        """Number of entries of each block."""
        return tuple(math.prod(shape) for shape in self.shapes)

    @property
    def size(self) -> int:
        """Length of the flat vector."""
        return sum(self.sizes)

    def offsets(self) -> dict[str, slice]:
        """Each block's slice of the flat vector."""
        result, start = {}, 0
        for name, size in zip(self.names, self.sizes):
            result[name] = slice(start, start + size)
            start += size
        return result

    def split(self, flat: np.ndarray | torch.Tensor) -> dict[str, np.ndarray | torch.Tensor]:
        """The blocks of a flat vector (views, reshaped)."""
        return {name: flat[part].reshape(shape) for (name, part), shape in zip(self.offsets().items(), self.shapes)}


def input_basis(X: torch.Tensor) -> torch.Tensor:
    """An orthonormal basis Q (r × d_in) of the row space of X, r = numerical rank of X.

    The rank counts the singular values above ``max(n, d_in) · eps · σ_max`` (NumPy's
    ``matrix_rank`` rule).
    """
    _, singular, right = torch.linalg.svd(X, full_matrices=False)
    if singular.numel() == 0 or singular[0] == 0:
        return X.new_zeros((0, X.shape[1]))
    threshold = max(X.shape) * torch.finfo(X.dtype).eps * singular[0]
    rank = int((singular > threshold).sum())
    return right[:rank]


def _generator_blocks(state: NetworkState, hidden_shape: tuple[int, int]) -> tuple[list[str], list[tuple]]:
    names, shapes = ["u"], [hidden_shape]
    if state.trains_top_layer:
        names.append("v")
        shapes.append(tuple(state.V.shape))
    return names, shapes


def _check_kind(state: NetworkState, kind: str) -> None:
    if kind not in JACOBIANS:
        raise ConfigError(f"unknown Jacobian {kind!r}; choose one of: {', '.join(JACOBIANS)}")
    if kind != "reaction" and state.critic is None:
        raise ConfigError(f"the {kind!r} Jacobian needs a critic; this state has none (sole supervision)")


def _layout(state: NetworkState, kind: str, hidden_shape: tuple[int, int]) -> ParameterLayout:
    names, shapes = _generator_blocks(state, hidden_shape)
    if kind == "game":
        names += ["w", "a"]
        shapes += [tuple(state.critic.W.shape), tuple(state.critic.a.shape)]
    return ParameterLayout(tuple(names), tuple(shapes))


def _penalty(W: torch.Tensor, a: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """mean over samples and the fixed interpolation weights of (‖∇g(ŷ)‖ − 1)², masks held fixed."""
    nodes = (torch.arange(PENALTY_NODES, dtype=real.dtype) + 0.5) / PENALTY_NODES
    interpolates = nodes[:, None, None] * real + (1 - nodes[:, None, None]) * fake.detach()
    active = ((interpolates @ W.T) > 0).to(W.dtype)
    input_gradient = (active * a) @ W / math.sqrt(W.shape[0])
    # an interpolate where no critic neuron is active has ∇g = 0 whatever (W, a): a constant term
    # (the norm's square root is kept away from 0, whose second derivative is not finite)
    some_active = active.any(dim=-1)
    squared = (input_gradient * input_gradient).sum(dim=-1)
    norms = torch.where(some_active, torch.where(some_active, squared, 1.0).sqrt(), 0.0)
    return ((norms - 1) ** 2).mean()


def _losses(state: NetworkState, blocks: dict[str, torch.Tensor], inputs: torch.Tensor,
            kind: str) -> dict[str, torch.Tensor]:  # fmt: skip
    """L_sup, L_aug and (game) L_critic at the parameters ``blocks`` (others taken from ``state``)."""
    V = blocks.get("v", state.V)
    _, _, Z = generator_forward(blocks["u"], V, inputs)
    residual = Z - state.Y
    losses = {"supervised": 0.5 * (residual * residual).sum()}
    if kind == "reaction":
        return losses
    W, a = blocks.get("w", state.critic.W), blocks.get("a", state.critic.a)
    adversarial = critic_value(W, a, Z).sum()
    losses["augmented"] = losses["supervised"] - state.adversary_weight * adversarial
    if kind == "game":
        losses["critic"] = (adversarial - critic_value(W, a, state.Y).sum()
                            + state.gp_weight * _penalty(W, a, state.Y, Z))
    return losses


class _Field:
    """The vector field F(s) of one Jacobian at given parameter blocks, with its first-gradient graph.

    F is built from row groups: each holds the gradient of one loss L with respect to *every*
    block s, the blocks it supplies rates for, and their scale: F_rows = −c P ∇_rows L
    (``reaction``: −∇L_sup; ``frozen``: −∇L_aug; ``game``: −∇_θ L_aug, then −ρ P ∇_φ L_critic).
    Then (∂F_rows/∂s) v = −c P (H v)_rows and H v = ∇_s (∇_s L · v), a double-backward product.
    """

    def __init__(self, state: NetworkState, kind: str, layout: ParameterLayout, start: dict[str, torch.Tensor],
                 inputs: torch.Tensor, *, create_graph: bool) -> None:  # fmt: skip
        self.layout = layout
        self.leaves = [start[name] for name in layout.names]
        losses = _losses(state, dict(zip(layout.names, self.leaves)), inputs, kind)
        generator_rows = [i for i, name in enumerate(layout.names) if name in ("u", "v")]
        critic_rows = [i for i, name in enumerate(layout.names) if name in ("w", "a")]
        if kind == "game":
            preconditioner = state.critic_preconditioner or (None, None)
            critic_scales = [-state.critic_rate if p is None else -state.critic_rate * p for p in preconditioner]
            groups = [(losses["augmented"], generator_rows, [-1.0] * len(generator_rows)),
                      (losses["critic"], critic_rows, critic_scales)]  # fmt: skip
        else:
            loss = losses["supervised" if kind == "reaction" else "augmented"]
            groups = [(loss, generator_rows, [-1.0] * len(generator_rows))]
        self.groups = []
        rates: dict[int, torch.Tensor] = {}
        for loss, rows, scales in groups:
            gradient = _grad(loss, self.leaves, create_graph=create_graph, retain_graph=True)
            self.groups.append((gradient, rows, scales))
            for row, scale in zip(rows, scales):
                rates[row] = scale * gradient[row]
        self.rates = [rates[i] for i in range(len(self.leaves))]

    def flat_rates(self) -> torch.Tensor:
        return torch.cat([rate.reshape(-1) for rate in self.rates])

    def jacobian_times(self, directions: list[torch.Tensor]) -> list[torch.Tensor]:
        """(∂F/∂s) v for the blocks ``directions`` of v."""
        products: dict[int, torch.Tensor] = {}
        for gradient, rows, scales in self.groups:
            inner = sum((part * direction).sum() for part, direction in zip(gradient, directions))
            hessian_times = _grad(inner, self.leaves, retain_graph=True)
            for row, scale in zip(rows, scales):
                products[row] = scale * hessian_times[row]
        return [products[i] for i in range(len(self.leaves))]


def _grad(output: torch.Tensor, inputs: list[torch.Tensor], *, create_graph: bool = False,
          retain_graph: bool | None = None) -> list[torch.Tensor]:  # fmt: skip
    """∂output/∂inputs, zeros for the inputs it does not depend on."""
    if not output.requires_grad:
        return [torch.zeros_like(x) for x in inputs]
    parts = torch.autograd.grad(output, inputs, create_graph=create_graph, retain_graph=retain_graph,
                                allow_unused=True)  # fmt: skip
    return [torch.zeros_like(x) if part is None else part for part, x in zip(parts, inputs)]


def _leaves(values: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: value.detach().clone().requires_grad_(True) for name, value in values.items()}


class JacobianOperator:
    """J of one of :data:`JACOBIANS` at a state, in the reduced coordinates, as a ``LinearOperator``.

    Build with :func:`jacobian_operator`. ``matvec`` applies J (double-backward autograd);
    ``products`` counts the applications.

    Attributes
    ----------
    kind : str
    layout : ParameterLayout
        The reduced blocks (``u`` is C = U Qᵀ, m × r).
    basis : (r, d_in) tensor
        Q.
    symmetric : bool
        Whether J is symmetric (``reaction``, ``frozen``).
    structural_neutral_dimension : int
        m (d_in − r): directions of U that change no pre-activation (J δU = 0 exactly).
    dimension : int
        Number of dynamical parameters in the full coordinates.
    products : int
    """

    def __init__(self, state: NetworkState, kind: str, *,
                 progress: Callable[[int], None] | None = None) -> None:  # fmt: skip
        _check_kind(state, kind)
        self.kind = kind
        self.symmetric = kind != "game"
        self.basis = input_basis(state.X)
        rank = self.basis.shape[0]
        self.layout = _layout(state, kind, (state.neurons, rank))
        start = {"u": state.U @ self.basis.T, "v": state.V}
        if kind == "game":
            start.update(w=state.critic.W, a=state.critic.a)
        self._field = _Field(state, kind, self.layout, _leaves({n: start[n] for n in self.layout.names}),
                             state.X @ self.basis.T, create_graph=True)
        self.structural_neutral_dimension = state.neurons * (state.X.shape[1] - rank)
        self.dimension = self.layout.size + self.structural_neutral_dimension
        self.products = 0
        self._progress = progress

    @property
    def shape(self) -> tuple[int, int]:
        """``(n, n)``, n the size of the reduced parameter layout the operator acts on."""
        return (self.layout.size, self.layout.size)

    def matvec(self, vector: np.ndarray) -> np.ndarray:
        """J v for a flat (reduced) vector v, real or complex."""
        vector = np.asarray(vector).reshape(-1)
        if np.iscomplexobj(vector):
            return self.matvec(vector.real) + 1j * self.matvec(vector.imag)
        blocks = self.layout.split(torch.from_numpy(np.ascontiguousarray(vector, dtype=np.float64)))
        products = self._field.jacobian_times([blocks[name] for name in self.layout.names])
        self.products += 1
        if self._progress is not None:
            self._progress(self.products)
        return torch.cat([p.detach().reshape(-1) for p in products]).numpy()

    def to_linear_operator(self):
        """This operator as a ``scipy.sparse.linalg.LinearOperator`` (float64)."""
        from scipy.sparse.linalg import LinearOperator

        return LinearOperator(self.shape, matvec=self.matvec, dtype=np.float64)

    def dense(self) -> np.ndarray:
        """J formed column by column from products with the unit vectors (small problems only)."""
        size = self.layout.size
        return np.stack([self.matvec(np.eye(1, size, i)[0]) for i in range(size)], axis=1)


def jacobian_operator(state: NetworkState, kind: str, *,
                      progress: Callable[[int], None] | None = None) -> JacobianOperator:  # fmt: skip
    """J of ``kind`` (one of :data:`JACOBIANS`) at ``state``, applied by autograd in the reduced coordinates.

    Parameters
    ----------
    state : NetworkState
    kind : {"reaction", "frozen", "game"}
    progress : callable, optional
        Called with the number of products so far after each one (a progress line).

    Returns
    -------
    JacobianOperator
    """
    return JacobianOperator(state, kind, progress=progress)


def _full_layout(state: NetworkState, kind: str) -> ParameterLayout:
    return _layout(state, kind, tuple(state.U.shape))


def _full_start(state: NetworkState, layout: ParameterLayout) -> dict[str, torch.Tensor]:
    values = {"u": state.U, "v": state.V}
    if state.critic is not None:
        values.update(w=state.critic.W, a=state.critic.a)
    return {name: values[name] for name in layout.names}


def vector_field(state: NetworkState, kind: str) -> tuple[ParameterLayout, np.ndarray, Callable[[torch.Tensor], torch.Tensor]]:
    """The vector field of ``kind`` in the full coordinates (U, V[, W, a]), as a function of a flat vector.

    Returns
    -------
    layout : ParameterLayout
    point : ndarray
        The flat state.
    field : callable
        ``field(flat) -> flat rates``: −∇L_sup, −∇L_aug, or the game's (−∇_θ L_aug, −ρ P ∇_φ L_critic).
    """
    _check_kind(state, kind)
    layout = _full_layout(state, kind)
    point = torch.cat([v.reshape(-1) for v in _full_start(state, layout).values()])

    def field_at(flat: torch.Tensor) -> torch.Tensor:
        blocks = layout.split(flat)
        return _Field(state, kind, layout, {name: blocks[name] for name in layout.names}, state.X,
                      create_graph=flat.requires_grad).flat_rates()

    return layout, point.numpy(), field_at


def dense_jacobian(state: NetworkState, kind: str) -> tuple[ParameterLayout, np.ndarray]:
    """J of ``kind`` formed entry by entry in the full coordinates (no reduction): the cross-check path.

    Raises
    ------
    ConfigError
        Above :data:`DENSE_MAX_PARAMETERS` parameters.
    """
    layout, point, field_at = vector_field(state, kind)
    if layout.size > DENSE_MAX_PARAMETERS:
        raise ConfigError(
            f"the dense Jacobian is for at most {DENSE_MAX_PARAMETERS} parameters; this state has {layout.size} "
            "(use the iterative path)"
        )
    matrix = torch.autograd.functional.jacobian(field_at, torch.from_numpy(point.copy()), vectorize=False)
    return layout, matrix.numpy()


def dense_spectrum(state: NetworkState, kind: str) -> np.ndarray:
    """Every eigenvalue of the dense J (full coordinates), sorted by real part, largest first."""
    _, matrix = dense_jacobian(state, kind)
    if kind == "game":
        values = np.linalg.eigvals(matrix)
    else:
        values = np.linalg.eigvalsh(0.5 * (matrix + matrix.T)).astype(complex)
    return values[np.argsort(-values.real, kind="stable")]


@dataclass
class Spectrum:
    """The leading eigenvalues of one Jacobian, their eigenvectors and their classification.

    Attributes
    ----------
    kind : str
    eigenvalues : (k,) complex array
        Largest real part first.
    eigenvectors : (size, k) complex array
        Unit-norm right eigenvectors in the reduced coordinates of ``layout``.
    largest_modulus : complex array
        A few eigenvalues of largest modulus (the Jacobian's scale; the fastest decay).
    tolerance : float
        |Re λ| ≤ tolerance is neutral.
    layout : ParameterLayout
    basis : (r, d_in) tensor
    structural_neutral_dimension, dimension : int
        See :class:`JacobianOperator`.
    products : int
        Jacobian–vector products the solve took.
    seconds : float
        Wall time of the solve.
    """

    kind: str
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    largest_modulus: np.ndarray
    tolerance: float
    layout: ParameterLayout
    basis: torch.Tensor
    structural_neutral_dimension: int
    dimension: int
    products: int = 0
    seconds: float = 0.0
    labels: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.labels = classify(self.eigenvalues, self.tolerance)

    @property
    def max_real_part(self) -> float:
        """max Re λ."""
        return float(self.eigenvalues.real.max())

    @property
    def unstable_count(self) -> int:
        """How many of the leading eigenvalues have Re λ > tolerance."""
        return int(np.count_nonzero(self.labels == "unstable"))

    @property
    def neutral_count(self) -> int:
        """How many of the leading eigenvalues have |Re λ| ≤ tolerance."""
        return int(np.count_nonzero(self.labels == "neutral"))

    @property
    def unstable_count_complete(self) -> bool:
        """Whether every unstable eigenvalue was found (some leading eigenvalue is not unstable)."""
        return bool(np.any(self.labels != "unstable"))

    def to_dict(self) -> dict:
        """The JSON-ready summary (no eigenvectors)."""
        return {
            "jacobian": self.kind,
            "eigenvalues": [[float(v.real), float(v.imag)] for v in self.eigenvalues],
            "largest_modulus": [[float(v.real), float(v.imag)] for v in self.largest_modulus],
            "max_real_part": self.max_real_part,
            "unstable_count": self.unstable_count,
            "unstable_count_complete": self.unstable_count_complete,
            "neutral_count": self.neutral_count,
            "structural_neutral_dimension": self.structural_neutral_dimension,
            "tolerance": self.tolerance,
            "dimension": self.dimension,
            "reduced_dimension": self.layout.size,
            "products": self.products,
            "seconds": self.seconds,
        }


def classify(eigenvalues: np.ndarray, tolerance: float) -> np.ndarray:
    """``unstable`` (Re λ > tolerance), ``neutral`` (|Re λ| ≤ tolerance) or ``stable`` for each eigenvalue."""
    real = np.real(eigenvalues)
    return np.where(real > tolerance, "unstable", np.where(real < -tolerance, "stable", "neutral"))


def _arpack(operator: JacobianOperator, count: int, which: str, *, shift: float, accuracy: float, seed: int,
            vectors: bool, max_products: int):  # fmt: skip
    """``count`` eigenpairs of J by ARPACK, run on J + shift·I (same eigenvectors) with BLAS on one thread.

    ARPACK stops when every Ritz pair's residual is at most ``accuracy`` times its Ritz value: on the
    shifted matrix, whose Ritz values are near ``shift``, that bounds each eigenvalue's error by about
    ``accuracy · shift`` even for eigenvalues near zero, where a relative criterion on J itself
    would never be met. Its vector work (tall, thin products) runs on one BLAS thread: with two
    threads on a loaded machine it ran ~5× slower.
    """
    from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigs, eigsh
    from threadpoolctl import threadpool_limits

    size = operator.layout.size
    start = np.random.default_rng(seed).standard_normal(size)
    shifted = LinearOperator((size, size), matvec=lambda x: operator.matvec(x) + shift * np.asarray(x).reshape(-1),
                             dtype=np.float64)  # fmt: skip
    krylov = min(size - 1, max(2 * count + 1, 4 * count, 20))
    restarts = max(10, max_products // max(1, krylov - count))
    before = operator.products
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            if operator.symmetric:
                result = eigsh(shifted, k=count, which={"LR": "LA", "LM": "LM"}[which], v0=start, ncv=krylov,
                               tol=accuracy, maxiter=restarts, return_eigenvectors=vectors)  # fmt: skip
            else:
                result = eigs(shifted, k=count, which=which, v0=start, ncv=krylov, tol=accuracy, maxiter=restarts,
                              return_eigenvectors=vectors)  # fmt: skip
    except ArpackNoConvergence as failure:
        raise RunError(
            f"the eigen-solve of the {operator.kind} Jacobian did not converge in {operator.products - before} "
            f"products ({len(failure.eigenvalues)} of {count} eigenvalues converged): ask for fewer eigenvalues "
            "or a looser accuracy"
        ) from None
    values, basis = result if vectors else (result, None)
    values = np.asarray(values, dtype=complex) - shift
    return values, None if basis is None else np.asarray(basis, dtype=complex)


def leading_spectrum(
    state: NetworkState,
    kind: str,
    *,
    count: int = 10,
    modulus_count: int = 3,
    rtol: float = NEUTRAL_RTOL,
    accuracy: float = EIGEN_ACCURACY,
    max_products: int = MAX_PRODUCTS,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> Spectrum:
    """The ``count`` eigenvalues of largest real part of J (and ``modulus_count`` of largest modulus).

    The solve runs in two steps: the eigenvalues of largest modulus (the Jacobian's scale
    s = max |λ|, found in a few dozen products), then those of largest real part on J + s·I
    to an absolute accuracy of about ``accuracy`` · s (see :func:`_arpack`).

    Parameters
    ----------
    state : NetworkState
    kind : {"reaction", "frozen", "game"}
    count : int
        Leading eigenvalues wanted (capped by the reduced dimension).
    modulus_count : int
        Eigenvalues of largest modulus, which set the scale.
    rtol : float
        Relative width of the neutral band: tolerance = rtol · s.
    accuracy : float
        Requested accuracy of the eigenvalues, relative to s (keep it below ``rtol``).
    max_products : int
        Give up (RunError) after about this many Jacobian–vector products per solve.
    seed : int
        Seed of ARPACK's starting vector.
    progress : callable, optional
        Called with the running count of Jacobian–vector products.

    Returns
    -------
    Spectrum
    """
    if count < 1:
        raise ConfigError(f"the number of eigenvalues must be at least 1, got {count}")
    if not (rtol >= 0 and math.isfinite(rtol)):
        raise ConfigError(f"the neutral tolerance must be a finite number ≥ 0, got {rtol}")
    if not 0 < accuracy < 1:
        raise ConfigError(f"the eigenvalue accuracy must lie in (0, 1), got {accuracy}")
    started = time.perf_counter()
    operator = jacobian_operator(state, kind, progress=progress)
    size = operator.layout.size
    count = min(count, size)
    modulus_count = min(max(modulus_count, 1), size)
    # ARPACK needs k < n − 1 and a Krylov space well above k: small problems are solved densely
    if size <= max(_SMALL_PROBLEM, 4 * max(count, modulus_count) + 2):
        matrix = operator.dense()
        if operator.symmetric:
            values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.T))
            values, vectors = values.astype(complex), vectors.astype(complex)
        else:
            values, vectors = np.linalg.eig(matrix)
        order = np.argsort(-values.real, kind="stable")
        leading, leading_vectors = values[order[:count]], vectors[:, order[:count]]
        modulus = values[np.argsort(-np.abs(values), kind="stable")[:modulus_count]]
    else:
        modulus, _ = _arpack(operator, modulus_count, "LM", shift=0.0, accuracy=SCALE_ACCURACY, seed=seed + 1,
                             vectors=False, max_products=max_products)  # fmt: skip
        modulus = modulus[np.argsort(-np.abs(modulus), kind="stable")]
        shift = float(np.abs(modulus).max()) or 1.0
        leading, leading_vectors = _arpack(operator, count, "LR", shift=shift, accuracy=accuracy, seed=seed,
                                           vectors=True, max_products=max_products)  # fmt: skip
        order = np.argsort(-leading.real, kind="stable")
        leading, leading_vectors = leading[order], leading_vectors[:, order]
    leading_vectors = leading_vectors / np.linalg.norm(leading_vectors, axis=0, keepdims=True)
    scale = float(max(np.abs(modulus).max(initial=0.0), np.abs(leading).max(initial=0.0)))
    return Spectrum(
        kind=kind, eigenvalues=leading, eigenvectors=leading_vectors, largest_modulus=modulus,
        tolerance=rtol * scale, layout=operator.layout, basis=operator.basis,
        structural_neutral_dimension=operator.structural_neutral_dimension, dimension=operator.dimension,
        products=operator.products, seconds=time.perf_counter() - started,
    )  # fmt: skip


# --------------------------------------------------------------------------------------
# Modes on the neuron grid
# --------------------------------------------------------------------------------------


@dataclass
class ModeOnGrid:
    """One eigenvector drawn on the neuron grid.

    Attributes
    ----------
    components : (c, H, W) float array
        The signed per-neuron perturbation δθ_j on the grid: the coefficients of δu_j in the
        input basis (an isometry of δu_j), then δv_j (when V is dynamical); for a complex
        eigenvector the real parts, then the imaginary parts (the real trajectory of a complex
        mode turns between the two). Its spectrum (power summed over
        components) is the mode's spectrum.
    u_norm, v_norm : (H, W) float arrays
        ‖δu_j‖ and ‖δv_j‖ (v_norm zero when V is fixed).
    critic_share : float
        Fraction of the eigenvector's squared norm in the critic's parameters (game only; else 0).
    participation : float
        How many neurons carry the generator's part of the mode: (Σ_j w_j)² / Σ_j w_j², w_j =
        ‖δθ_j‖² (1 for a mode on one neuron, m for one spread evenly).
    """

    components: np.ndarray
    u_norm: np.ndarray
    v_norm: np.ndarray
    critic_share: float
    participation: float


def per_neuron_field(per_neuron: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """(..., m) per-neuron values to (..., H, W) on the grid, ``cells`` holding each cell's neuron index."""
    return np.asarray(per_neuron)[..., np.asarray(cells)]


def mode_on_grid(vector: np.ndarray, layout: ParameterLayout, cells: np.ndarray, *,
                 imaginary: bool | None = None) -> ModeOnGrid:  # fmt: skip
    """Split an eigenvector (reduced coordinates) per neuron and place it on the grid.

    Parameters
    ----------
    vector : (size,) array, real or complex
    layout : ParameterLayout
        The eigenvector's layout (``u`` of shape (m, r); ``v`` of shape (d_out, m) when present).
    cells : (H, W) int array
        The neuron index at each grid cell.
    imaginary : bool, optional
        Whether ``components`` holds the imaginary parts after the real ones (default: when
        the vector has a nonzero imaginary part). Pass True for every mode of a non-symmetric
        Jacobian so that all have the same components.
    """
    vector = np.asarray(vector)
    blocks = layout.split(vector)
    hidden = blocks["u"].T  # (r, m): component-major, the neuron last
    top = blocks["v"] if "v" in blocks else np.zeros((0, hidden.shape[1]), dtype=vector.dtype)
    signed = np.concatenate([hidden, top], axis=0)
    if imaginary is None:
        imaginary = bool(np.any(np.imag(signed)))
    signed = np.concatenate([signed.real, signed.imag], axis=0) if imaginary else np.real(signed)
    critic = sum(float(np.sum(np.abs(blocks[name]) ** 2)) for name in ("w", "a") if name in blocks)
    total = float(np.sum(np.abs(vector) ** 2))
    weights = np.sum(np.abs(hidden) ** 2, axis=0) + np.sum(np.abs(top) ** 2, axis=0)
    participation = float(weights.sum() ** 2 / np.sum(weights**2)) if weights.any() else 0.0
    return ModeOnGrid(
        components=per_neuron_field(signed, cells),
        u_norm=per_neuron_field(np.linalg.norm(hidden, axis=0), cells),
        v_norm=per_neuron_field(np.linalg.norm(top, axis=0), cells),
        critic_share=critic / total if total > 0 else 0.0,
        participation=participation,
    )


def mode_pattern(mode: ModeOnGrid, *, n_surrogates: int = 99, seed: int = 0) -> tuple[float, float]:
    """The mode's dominant wavelength on the grid (cells) and its surrogate p-value.

    Both come from :mod:`rdnet.analysis` on the signed per-neuron field ``mode.components``
    (power summed over its components), exactly as for a run's fields.

    Returns
    -------
    dominant_wavelength : float
        NaN for a mode that is the same on every neuron.
    surrogate_p_value : float
        Against pixel-shuffled copies of the field; small means spatial structure beyond chance.
    """
    return field_pattern(mode.components, component_dims=("dim_0",), n_surrogates=n_surrogates, seed=seed)


def field_pattern(field: np.ndarray, *, component_dims: tuple[str, ...] = (), n_surrogates: int = 99,
                  seed: int = 0) -> tuple[float, float]:  # fmt: skip
    """A field's dominant wavelength (cells) and surrogate p-value on the neuron grid (its last two axes).

    Both are NaN on a grid of one neuron, which has no spatial structure to measure.
    """
    from rdnet.analysis import dominant_wavelength, surrogate_test

    field = np.asarray(field)
    if field.shape[-1] * field.shape[-2] < 2:
        return math.nan, math.nan
    wavelength = float(dominant_wavelength(field, component_dims=component_dims))
    p_value = float(surrogate_test(field, n_surrogates=n_surrogates, seed=seed, component_dims=component_dims).p_value)
    return wavelength, p_value


# --------------------------------------------------------------------------------------
# The Turing reading
# --------------------------------------------------------------------------------------


def _verdict(spectrum: Spectrum) -> str:
    if spectrum.unstable_count:
        return "unstable"
    return "neutral" if spectrum.neutral_count else "stable"


def turing_reading(spectra: dict[str, Spectrum]) -> list[str]:
    """The Turing question answered in one line per Jacobian, then one line for the comparison.

    Parameters
    ----------
    spectra : dict
        Jacobian name to its :class:`Spectrum` (any subset of :data:`JACOBIANS`).

    Returns
    -------
    list of str
    """
    names = {"reaction": "reaction alone (J_R)", "frozen": "reaction + diffusion, critic frozen (J_RD)",
             "game": "full generator-critic game (J_game)"}  # fmt: skip
    lines = []
    for kind in JACOBIANS:
        if kind not in spectra:
            continue
        spectrum = spectra[kind]
        verdict = _verdict(spectrum)
        text = f"{names[kind]}: {verdict}, max Re λ = {spectrum.max_real_part:.4g} (tolerance ±{spectrum.tolerance:.2g})"
        if spectrum.unstable_count:
            rates = ", ".join(f"{v.real:.3g}" for v in spectrum.eigenvalues[spectrum.labels == "unstable"])
            bound = "" if spectrum.unstable_count_complete else "at least "
            text += f"; {bound}{spectrum.unstable_count} unstable direction(s), growth rates {rates}"
        text += (f"; {spectrum.neutral_count} of {spectrum.eigenvalues.size} leading eigenvalues neutral, "
                 f"+{spectrum.structural_neutral_dimension} structural zero directions")  # fmt: skip
        lines.append(text)
    if "reaction" in spectra and ("frozen" in spectra or "game" in spectra):
        reaction_unstable = spectra["reaction"].unstable_count > 0
        for kind in ("frozen", "game"):
            if kind not in spectra:
                continue
            with_diffusion = spectra[kind].unstable_count > 0
            if not reaction_unstable and with_diffusion:
                answer = "yes: the diffusion makes the state unstable (Turing-like)"
            elif not reaction_unstable:
                answer = "no: stable or neutral with and without the diffusion"
            elif with_diffusion:
                growth = spectra[kind].max_real_part - spectra["reaction"].max_real_part
                answer = (f"not a Turing instability: already unstable under the reaction alone "
                          f"(the diffusion changes max Re λ by {growth:+.3g})")  # fmt: skip
            else:
                answer = "no: the diffusion stabilises a state the reaction alone leaves unstable"
            lines.append(f"does the diffusion ({names[kind].split(' (')[0].split(', ')[-1]}) destabilise it? {answer}")
    return lines


# --------------------------------------------------------------------------------------
# A critic for a state trained without one
# --------------------------------------------------------------------------------------


def best_response_critic(
    state: NetworkState,
    critic: CriticWeights,
    *,
    steps: int,
    lr: float,
    optimizer: str = "adam",
    betas: Sequence[float] = (0.5, 0.9),
    eps: float = 1e-8,
    seed: int = 0,
) -> tuple[CriticWeights, tuple[torch.Tensor, torch.Tensor] | None]:
    """Train a WGAN-GP critic against the generator of ``state`` held fixed (the adversary switched on there).

    Uses the trainer's closed-form critic gradients (:func:`rdnet.prd.training.critic_gradients`)
    with fresh interpolation weights each update, as ``rdnet train --adversary`` does.

    Parameters
    ----------
    state : NetworkState
        Its generator and data (its critic, if any, is ignored).
    critic : CriticWeights
        The critic to start from (e.g. the initialisation a run of the same seed would draw).
    steps : int
        Critic updates.
    lr : float
    optimizer : {"adam", "gd"}
    betas, eps
        Adam's constants (WGAN-GP's (0.5, 0.9)).
    seed : int
        Seed of the interpolation weights.

    Returns
    -------
    critic : CriticWeights
    preconditioner : tuple of tensors or None
        Adam's 1/(sqrt(v̂) + ε) at the end (the game Jacobian's P); None for gd.
    """
    if steps < 0:
        raise ConfigError(f"critic steps must be 0 or more, got {steps}")
    W = critic.W.detach().to(torch.float64).clone()
    a = critic.a.detach().to(torch.float64).clone()
    _, _, Z = generator_forward(state.U, state.V, state.X)
    random = torch.Generator().manual_seed(seed)
    if optimizer == "adam":
        W.requires_grad_(True)
        a.requires_grad_(True)
        adam = torch.optim.Adam([W, a], lr=lr, betas=tuple(betas), eps=eps)
    elif optimizer != "gd":
        raise ConfigError(f"unknown critic optimizer {optimizer!r}; choose adam or gd")
    for _ in range(steps):
        epsilon = torch.rand((state.Y.shape[0], 1), generator=random, dtype=torch.float64)
        with torch.no_grad():
            grad_W, grad_a = critic_gradients(CriticWeights(W=W.detach(), a=a.detach()), state.Y, Z, epsilon,
                                                 state.gp_weight)  # fmt: skip
        if optimizer == "adam":
            W.grad, a.grad = grad_W, grad_a
            adam.step()
        else:
            W -= lr * grad_W
            a -= lr * grad_a
    trained = CriticWeights(W=W.detach().clone(), a=a.detach().clone())
    if optimizer != "adam" or steps == 0:
        return trained, None
    preconditioner = []
    for parameter in (W, a):
        moments = adam.state[parameter]
        count = int(moments["step"])
        second = moments["exp_avg_sq"] / (1 - betas[1] ** count)
        preconditioner.append(1.0 / (second.sqrt() + eps))
    return trained, tuple(preconditioner)


def with_critic(state: NetworkState, critic: CriticWeights,
                preconditioner: tuple[torch.Tensor, torch.Tensor] | None) -> NetworkState:  # fmt: skip
    """``state`` with another critic (and its preconditioner)."""
    return replace(state, critic=critic, critic_preconditioner=preconditioner)
