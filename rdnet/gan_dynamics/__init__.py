"""The solvable high-dimensional GAN (Wang, Hu & Lu, NeurIPS 2019).

Three levels, one module each: :mod:`~rdnet.gan_dynamics.simulation` (the microscopic online
training, an ensemble of replicas at finite n), :mod:`~rdnet.gan_dynamics.ode` (the macroscopic ODE of
the overlaps, the n → ∞ limit) and :mod:`~rdnet.gan_dynamics.phases` (linear-stability phases,
P_c, and phases classified from ODE trajectories); :mod:`~rdnet.gan_dynamics.fluctuations` gives the
finite-n fluctuations at a stable fixed point (linear-noise theory). :mod:`~rdnet.gan_dynamics.model`
holds the parameters and the overlap state; :mod:`~rdnet.gan_dynamics.options` checks a run's options
and :mod:`~rdnet.gan_dynamics.one_call` holds :func:`simulate`, the one call that runs the GAN and
returns its dataset (``rdnet gan-dynamics`` is built on it; it loads on first use).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.gan_dynamics.model import GanModel, OverlapState, initial_state
from rdnet.gan_dynamics.ode import integrate_overlaps
from rdnet.lazy import lazy_exports

__all__ = ["GanModel", "OverlapState", "initial_state", "integrate_overlaps", "simulate"]

__getattr__, __dir__ = lazy_exports(__name__, {"simulate": ".one_call"})


if TYPE_CHECKING:  # pragma: no cover
    from rdnet.gan_dynamics.one_call import simulate
