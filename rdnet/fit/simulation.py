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

The initial conditions are drawn for every parameter set. ``noise`` about the
homogeneous steady state ``s*(θ)`` follows the parameters differentiably: the state is
one Newton step ``s₁ = s₀ − J⁻¹ R(s₀, θ)`` from the root ``s₀`` found by
:meth:`rd_classic.models.Model.steady_states` (``J`` held fixed), which equals ``s₀``
and has the implicit-function derivative ``ds*/dθ = −J⁻¹ ∂R/∂θ``; the noise, relative
to each species' magnitude, scales with it. The other initial conditions (``patches``,
``pearson``: fixed values; ``expr``: the model file's expressions) are data.
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


#: tensors at least this large (bytes) get their own memory mapping, returned to the system when freed
MMAP_THRESHOLD_BYTES = 65536


def return_freed_tensors_to_the_system() -> bool:
    """Make glibc give every freed block of 64 KiB or more back to the system at once.

    glibc raises its mapping threshold after the first large frees, and the tensors a
    long differentiated rollout frees then stay in its heap, fragmented: a Lengyel–Epstein
    fit at 48² with 38 462 steps grew past 24 GB and was killed; at 3 846 steps its peak was
    2.8 GB with the default and 0.97 GB with this setting (the same as
    ``MALLOC_MMAP_THRESHOLD_=65536`` in the environment). Process-wide; a no-op where the C
    library is not glibc.

    Returns
    -------
    bool
        Whether the setting was applied.
    """
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, OSError):
        return False
    return bool(mallopt(-3, MMAP_THRESHOLD_BYTES))  # -3: M_MMAP_THRESHOLD


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

        from rd_classic.backend_torch import TorchModelTerms, make_batched_step, torch_device
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
        self.terms = TorchModelTerms(setup.model, setup.grid, device=setup.device, dtype=setup.dtype)
        self.observed_index = setup.model.species.index(setup.observed)
        #: number of single runs simulated so far (each ``n_steps`` long)
        self.runs = 0

    def initial_states(self, parameter_sets: Sequence[Mapping[str, float]], seeds: Sequence[int],
                       parameters: Mapping[str, Any] | None = None):  # fmt: skip
        """The initial states of every parameter set × seed, ``(N, S·R, ny, nx)`` (set-major).

        A parameter set outside the model's constraints gets NaN fields (its runs fail).
        With per-run ``parameters`` (:meth:`parameter_tensors`) that autograd records, a
        ``noise`` state follows the steady state differentiably (see the module's
        description).
        """
        from rd_classic.initial import initial_state

        setup = self.setup
        states, bases = [], []
        for values in parameter_sets:
            try:
                model = setup.model.with_parameters(**values)
                fields = [initial_state(setup.initial_condition, model, setup.grid, seed=int(seed)) for seed in seeds]
                base = model.steady_states()[0] if setup.initial_condition == "noise" else None
            except ConfigError:
                fields = [tuple(np.full(setup.grid.shape, np.nan) for _ in setup.model.species) for _ in seeds]
                base = None
            states.extend(fields)
            bases.extend([base] * len(seeds))
        stacked = np.stack([np.stack(fields) for fields in states], axis=1)  # (N, S·R, ny, nx)
        state = self.torch.as_tensor(stacked, dtype=self.dtype, device=self.device)
        recording = self.torch.is_grad_enabled() and any(getattr(value, "requires_grad", False)
                                                         for value in (parameters or {}).values())  # fmt: skip
        if not recording or setup.initial_condition != "noise":
            return state
        missing = np.full(self.setup.model.n_species, np.nan)
        base = np.stack([missing if point is None else np.asarray(point, dtype=np.float64) for point in bases], axis=1)
        return self._following_the_steady_state(state, base, parameters)

    def _following_the_steady_state(self, state, base: np.ndarray, parameters: Mapping[str, Any]):
        """``state`` (noise about the steady states ``base``, ``(N, B)``) moved with ``s*(θ)`` to first order."""
        torch = self.torch
        n_species, runs = base.shape
        root = torch.as_tensor(base, dtype=self.dtype, device=self.device).reshape(n_species, runs, 1, 1)
        fixed = {name: value.detach() if hasattr(value, "detach") else value for name, value in parameters.items()}
        point = root.clone().requires_grad_()
        with torch.enable_grad():
            rate = self.terms.reaction(point.expand(n_species, runs, 1, 1), 0.0, fixed).reshape(n_species, runs)
            rows = [torch.autograd.grad(rate[i].sum(), point, retain_graph=i + 1 < n_species)[0].reshape(n_species, runs)
                    for i in range(n_species)]  # fmt: skip
        jacobian = torch.stack(rows).permute(2, 0, 1)  # (B, N, N): dR_i/ds_j of each run
        residual = self.terms.reaction(root, 0.0, parameters).reshape(n_species, runs)
        step = torch.linalg.solve(jacobian, residual.T.unsqueeze(-1)).squeeze(-1).T
        followed = root.reshape(n_species, runs) - step
        magnitude = root.reshape(n_species, runs).abs()
        ratio = torch.where(magnitude > 0, followed.abs() / magnitude.clamp_min(torch.finfo(self.dtype).tiny),
                            torch.ones_like(magnitude))  # fmt: skip
        return followed[..., None, None] + (state - root) * ratio[..., None, None]

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
