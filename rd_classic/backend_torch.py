"""Explicit Runge-Kutta schemes on torch tensors (CPU or CUDA).

The same 5-point Laplacian and the same model reaction (``model.reaction`` is plain
arithmetic) as the numba kernels, written with whole-array torch operations so it
runs on a GPU (``device="cuda"``) and, on the CPU, cross-checks the compiled kernels.
"""

from __future__ import annotations

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.grids import Grid
from rd_classic.integrators import RATE_NAMES, ExplicitScheme, _to_numpy
from rd_classic.models import ReactionDiffusionModel

__all__ = ["TorchExplicitStepper", "torch_laplacian"]


def torch_laplacian(values, *, inv_dx2: float, periodic: bool):
    """5-point Laplacian of a 2-D tensor (3-point along x when it has one row).

    Parameters
    ----------
    values
        Tensor of shape ``(ny, nx)``.
    inv_dx2
        ``1 / dx²``.
    periodic
        Wrap-around neighbours; otherwise the edge cell mirrors itself (no-flux).
    """
    import torch

    if periodic:
        up, down = torch.roll(values, 1, 0), torch.roll(values, -1, 0)
        left, right = torch.roll(values, 1, 1), torch.roll(values, -1, 1)
    else:
        up = torch.cat([values[:1], values[:-1]], 0)
        down = torch.cat([values[1:], values[-1:]], 0)
        left = torch.cat([values[:, :1], values[:, :-1]], 1)
        right = torch.cat([values[:, 1:], values[:, -1:]], 1)
    return (up + down + left + right - 4.0 * values) * inv_dx2


class TorchExplicitStepper:
    """Explicit Runge-Kutta (a :class:`~rd_classic.integrators.ExplicitScheme`) in torch.

    Parameters
    ----------
    model, grid, scheme, dt, dtype
        See :func:`rd_classic.integrators.make_stepper`.
    device
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    """

    def __init__(self, model: ReactionDiffusionModel, grid: Grid, scheme: ExplicitScheme, *, dt: float,
                 dtype: str = "float64", device: str = "cpu"):  # fmt: skip
        import torch

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise ConfigError(f"device {device!r} requested but torch sees no CUDA GPU (use --device cpu)")
        try:
            self.device = torch.device(device)
        except RuntimeError:
            raise ConfigError(f"unknown torch device {device!r}; use cpu or cuda") from None
        self._torch = torch
        self.model, self.grid, self.scheme, self.dt = model, grid, scheme, float(dt)
        self.dtype = np.dtype(dtype)
        self._torch_dtype = getattr(torch, dtype)
        self.n_steps = 0
        self._du, self._dv = model.diffusion
        self._inv_dx2 = 1.0 / grid.dx**2
        self._periodic = grid.periodic
        self._u = torch.zeros(grid.shape, dtype=self._torch_dtype, device=self.device)
        self._v = torch.zeros_like(self._u)

    def set_state(self, u: np.ndarray, v: np.ndarray) -> None:
        """Set the fields (cast to the stepper's dtype, moved to its device)."""
        torch = self._torch
        self._u = torch.as_tensor(np.asarray(u, dtype=self.dtype).copy(), device=self.device)
        self._v = torch.as_tensor(np.asarray(v, dtype=self.dtype).copy(), device=self.device)

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the current fields as NumPy arrays."""
        return _to_numpy(self._u, self.dtype), _to_numpy(self._v, self.dtype)

    def _rate(self, u, v):
        f, g = self.model.reaction(u, v)
        lu = torch_laplacian(u, inv_dx2=self._inv_dx2, periodic=self._periodic)
        lv = torch_laplacian(v, inv_dx2=self._inv_dx2, periodic=self._periodic)
        return self._du * lu + f, self._dv * lv + g

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        scheme, dt = self.scheme, self.dt
        with self._torch.no_grad():
            for _ in range(n_steps):
                u, v = self._u, self._v
                ku, kv = self._rate(u, v)
                acc_u, acc_v = scheme.weights[0] * ku, scheme.weights[0] * kv
                for stage in range(1, scheme.n_stages):
                    offset = scheme.stage_offsets[stage - 1] * dt
                    ku, kv = self._rate(u + offset * ku, v + offset * kv)
                    acc_u = acc_u + scheme.weights[stage] * ku
                    acc_v = acc_v + scheme.weights[stage] * kv
                self._u = u + dt * acc_u
                self._v = v + dt * acc_v
                self.n_steps += 1

    def rates(self) -> dict[str, np.ndarray]:
        """Reaction and diffusion parts of the rate of change at the current state."""
        f, g = self.model.reaction(self._u, self._v)
        diffusion_u = self._du * torch_laplacian(self._u, inv_dx2=self._inv_dx2, periodic=self._periodic)
        diffusion_v = self._dv * torch_laplacian(self._v, inv_dx2=self._inv_dx2, periodic=self._periodic)
        values = (f, g, diffusion_u, diffusion_v)
        return {name: _to_numpy(value, self.dtype) for name, value in zip(RATE_NAMES, values)}
