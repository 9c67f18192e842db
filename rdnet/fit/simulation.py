"""Many runs of one model at once, differentiable in its parameters: the forward model of a fit.

A batch holds ``S`` parameter sets times ``R`` initial conditions (replicates, seeds
``seed, seed + 1, ...``), stacked as one ``(N, S·R, ny, nx)`` tensor and advanced by
:func:`rd_classic.backend_torch.make_batched_step`, each run with its own parameter
values. :func:`rollout` runs the steps:

* with gradients, in **checkpointed** segments (:func:`torch.utils.checkpoint.checkpoint`):
  only the state at each segment's start is kept, and a segment's steps are run again
  during the backward pass, so memory grows with ``n_steps / segment + segment`` states
  instead of ``n_steps`` (the default segment is ``√n_steps``);
* optionally **truncated**: only the last ``window`` steps are differentiated, the earlier
  ones run without a graph. For chaotic regimes, where the sensitivity of the final
  state to the parameters grows exponentially with the horizon, the truncated gradient
  stays bounded (it is the sensitivity of the last ``window`` steps, the state before
  them held fixed);
* without gradients (or under forward-mode differentiation), as a plain loop.

The initial conditions are data, not differentiated: those that depend on the
parameters (``noise`` about the steady state) are rebuilt for every parameter set.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.grids import Grid
from rd_classic.models import Model

__all__ = ["SimulationSetup", "BatchedSimulator", "rollout", "default_segment"]


def default_segment(n_steps: int) -> int:
    """Steps per checkpointed segment by default: ``ceil(√n)`` (memory ~ 2√n states)."""
    return max(1, math.ceil(math.sqrt(max(1, n_steps))))


def rollout(step, state, parameters: Mapping[str, Any], *, n_steps: int, dt: float, start_step: int = 0,
            checkpoint_every: int | None = None, window: int | None = None):  # fmt: skip
    """Advance a batch ``n_steps`` steps; differentiable in ``parameters`` through the last ``window`` steps.

    Parameters
    ----------
    step
        ``step(state, time, parameters)`` (:func:`~rd_classic.backend_torch.make_batched_step`).
    state
        ``(N, B, *shape)`` tensor.
    parameters
        Name -> tensor (one value per run, broadcastable) or number.
    n_steps, dt, start_step
        Steps to take, their size, and the step number of ``state`` (for the time).
    checkpoint_every
        Steps per checkpointed segment (default :func:`default_segment` of the
        differentiated steps); 0 keeps every step's graph (no checkpointing).
    window
        Differentiate only the last ``window`` steps (default all).

    Returns
    -------
    torch.Tensor
        The state after ``n_steps``.
    """
    import torch
    from torch.utils.checkpoint import checkpoint

    window = n_steps if window is None else max(0, min(int(window), n_steps))
    recording = torch.is_grad_enabled() and any(getattr(value, "requires_grad", False) for value in parameters.values())
    number = start_step
    with torch.no_grad():
        for _ in range(n_steps - window if recording else 0):
            state = step(state, number * dt, parameters)
            number += 1
    if not recording:
        for _ in range(n_steps):
            state = step(state, number * dt, parameters)
            number += 1
        return state
    segment = default_segment(window) if checkpoint_every is None else int(checkpoint_every)
    if segment <= 0:
        for _ in range(window):
            state = step(state, number * dt, parameters)
            number += 1
        return state
    names = list(parameters)

    def run_segment(first: int, count: int):
        def run(values, *tensors):
            given = dict(zip(names, tensors))
            for offset in range(count):
                values = step(values, (first + offset) * dt, given)
            return values

        return run

    end = start_step + n_steps
    while number < end:
        count = min(segment, end - number)
        state = checkpoint(run_segment(number, count), state, *(parameters[name] for name in names),
                           use_reentrant=False)  # fmt: skip
        number += count
    return state


@dataclass(frozen=True)
class SimulationSetup:
    """The runs a fit compares with the target.

    Parameters
    ----------
    model
        The model with every parameter that is not fitted set.
    grid
        The 2-D grid (periodic).
    dt, n_steps
        Time step and number of steps (explicit scheme ``integrator``).
    initial_condition
        A specification of :mod:`rd_classic.initial` (``patches``, ``noise``, ...).
    observed
        The species compared with the target.
    integrator
        ``euler``, ``rk2`` or ``rk4``.
    device, dtype
        Where and in what precision the runs are made.
    checkpoint_every, window
        See :func:`rollout`.
    """

    model: Model
    grid: Grid
    dt: float
    n_steps: int
    initial_condition: str
    observed: str
    integrator: str = "euler"
    device: str = "cpu"
    dtype: str = "float32"
    checkpoint_every: int | None = None
    window: int | None = None

    @property
    def end_time(self) -> float:
        """Model time of the compared state."""
        return self.n_steps * self.dt


class BatchedSimulator:
    """Run a batch of parameter sets × initial conditions and return the observed species.

    Parameters
    ----------
    setup
        The runs.
    """

    def __init__(self, setup: SimulationSetup) -> None:
        import torch

        from rd_classic.backend_torch import make_batched_step, torch_device
        from rd_classic.schemes import EXPLICIT_SCHEMES

        if setup.integrator not in EXPLICIT_SCHEMES:
            raise ConfigError(f"a fit steps with an explicit scheme ({', '.join(EXPLICIT_SCHEMES)}), "
                              f"not {setup.integrator!r}")  # fmt: skip
        self.setup = setup
        self.torch = torch
        self.device = torch_device(setup.device)
        self.dtype = getattr(torch, setup.dtype)
        self.step = make_batched_step(setup.model, setup.grid, EXPLICIT_SCHEMES[setup.integrator], dt=setup.dt,
                                      device=setup.device, dtype=setup.dtype)  # fmt: skip
        self.observed_index = setup.model.species.index(setup.observed)
        #: number of single runs simulated so far (each ``n_steps`` long)
        self.runs = 0

    def initial_states(self, parameter_sets: Sequence[Mapping[str, float]], seeds: Sequence[int]):
        """The initial states of every parameter set × seed, ``(N, S·R, ny, nx)`` (set-major).

        A parameter set outside the model's constraints gets NaN fields (its runs fail).
        """
        from rd_classic.initial import initial_state

        setup = self.setup
        states = []
        for values in parameter_sets:
            try:
                model = setup.model.with_parameters(**values)
                fields = [initial_state(setup.initial_condition, model, setup.grid, seed=int(seed)) for seed in seeds]
            except ConfigError:
                fields = [tuple(np.full(setup.grid.shape, np.nan) for _ in setup.model.species) for _ in seeds]
            states.extend(fields)
        stacked = np.stack([np.stack(fields) for fields in states], axis=1)  # (N, S·R, ny, nx)
        return self.torch.as_tensor(stacked, dtype=self.dtype, device=self.device)

    def parameter_tensors(self, values: Mapping[str, Any], repeats: int) -> dict[str, Any]:
        """Per-run parameter tensors ``(S·R, 1, 1)`` from per-set values ``(S,)`` (numpy or torch)."""
        torch = self.torch
        tensors = {}
        for name, column in values.items():
            tensor = column if hasattr(column, "detach") else torch.as_tensor(np.asarray(column, dtype=np.float64))
            tensor = tensor.to(dtype=self.dtype, device=self.device)
            tensors[name] = torch.repeat_interleave(tensor, repeats).reshape(-1, 1, 1)
        return tensors

    def run(self, state, parameters: Mapping[str, Any]):
        """Advance initial states ``(N, B, ny, nx)`` with per-run parameters; the final state."""
        setup = self.setup
        self.runs += int(state.shape[1])
        return rollout(self.step, state, parameters, n_steps=setup.n_steps, dt=setup.dt,
                       checkpoint_every=setup.checkpoint_every, window=setup.window)  # fmt: skip

    def observed(self, state):
        """The compared species of a state, ``(B, ny, nx)``."""
        return state[self.observed_index]

    def finite(self, state):
        """Per run: whether every value of its final state is finite, ``(B,)``."""
        return self.torch.isfinite(state).flatten(2).all(dim=2).all(dim=0)
