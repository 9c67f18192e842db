"""The defaults of a PRD run, defined once: :class:`~rdnet.prd.run.RunSpec`,
:class:`~rdnet.prd.training.TrainingConfig` and ``rdnet train`` all read them from here.

Plain values only (no torch), so that the command line can show them without importing torch.

They are chosen so that ``rdnet train`` and ``rdnet train --adversary`` each finish in about a
minute on 2 CPU cores and show the paper's effect (Rout, AAAI-21, Fig. 1): under sole supervision
the network settles near its initialisation (‖U − U(0)‖_F = 17.4, ε-stationary after about 500
steps); with the adversary its neurons travel 2.4 times as far (41.8) and are still moving at the
last step. The measurements behind each choice are in ``docs/prd.md`` ("Defaults"); in short:

- two layers trained (``both``) and d_out = 10 outputs (synthetic data shaped like MNIST,
  784 → 10): with d_out = 1 the bias-free critic g(z) = aᵀσ(w z)/sqrt(m) is just two slopes
  through the origin, its gradient penalty traps it in a local optimum, and the game settles
  at a fixed point where the generator stops; with V fixed the network is lazy and its
  distance from initialisation is set by where the predictions end, not by how long the
  adversary pushes. The theory's own setting (``--outputs 1 --train-layers hidden``) stays one
  option away and is where the bound curves are stored.
- ``CRITIC_LR`` 1e-2 (Adam): at 1e-3 the critic is too slow to matter in 1000 steps.
- ``LR`` 0.2: with d_out = 10 the generator's step is stable well beyond it; the
  sum-over-samples loss makes the top layer's kernel scale with n/d_out, so d_out = 1 with
  both layers wants ``--lr`` ≤ about 0.15 at n = 64.
"""

from __future__ import annotations

#: training set: ``synthetic`` (unit-norm Gaussian inputs, targets of a random teacher)
DATASET = "synthetic"
#: n
SAMPLES = 64
#: d_in of the synthetic data (MNIST's 28 × 28)
INPUT_DIM = 784
#: d_out of the synthetic data (MNIST's 10 classes); the theory's setting has 1
OUTPUTS = 10
#: the neuron grid H × W (m = 1024)
GRID_HEIGHT = 32
GRID_WIDTH = 32
#: generator updates
STEPS = 1000
#: snapshots per run when ``snapshot_every`` is not given: snapshot_every = max(1, steps // SNAPSHOTS)
SNAPSHOTS = 15
#: generator learning rate η (gradient-flow time t = step · η)
LR = 0.2
#: generator optimiser: full-batch gradient descent, the paper's algorithm
OPTIMIZER = "gd"
#: which generator layers move
TRAIN_LAYERS = "both"
#: critic updates per generator update (WGAN-GP's 5)
CRITIC_STEPS = 5
#: critic learning rate
CRITIC_LR = 1e-2
#: critic optimiser (WGAN-GP's Adam with β = (0.5, 0.9))
CRITIC_OPTIMIZER = "adam"
#: weight λ_gp of the gradient penalty (WGAN-GP's 10)
GP_WEIGHT = 10.0
#: initialisation of both networks (the paper's: u ~ N(0, I), v ∈ {±1}, likewise w, a)
INIT = "paper"
#: neuron arrangement on the grid and the embedding of ``layout="embedding"``
LAYOUT = "index"
EMBEDDING = "pca"
#: seeds of the weights (and minibatches, critic noise) and of the synthetic data
SEED = 0
DATA_SEED = 0
DTYPE = "float64"
DEVICE = "cpu"
#: δ of the theory's high-probability bounds
DELTA = 0.05


def snapshot_every(steps: int) -> int:
    """The default spacing of snapshots: about :data:`SNAPSHOTS` per run, the last step always one."""
    return max(1, steps // SNAPSHOTS)
