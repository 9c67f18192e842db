"""The solvable high-dimensional GAN (Wang, Hu & Lu, NeurIPS 2019).

Three levels, one module each: :mod:`~rdnet.gan_dynamics.simulation` (the microscopic online
training, an ensemble of replicas at finite n), :mod:`~rdnet.gan_dynamics.ode` (the macroscopic ODE of
the overlaps, the n → ∞ limit) and :mod:`~rdnet.gan_dynamics.phases` (linear-stability phases,
P_c, and phases classified from ODE trajectories); :mod:`~rdnet.gan_dynamics.fluctuations` gives the
finite-n fluctuations at a stable fixed point (linear-noise theory). :mod:`~rdnet.gan_dynamics.model`
holds the parameters and the overlap state.
"""

from __future__ import annotations

from rdnet.gan_dynamics.model import GanModel, OverlapState, initial_state
from rdnet.gan_dynamics.ode import integrate_overlaps

__all__ = ["GanModel", "OverlapState", "initial_state", "integrate_overlaps"]
