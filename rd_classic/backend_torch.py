"""The schemes on torch tensors (CPU or CUDA), and a model's terms as differentiable torch functions.

:class:`TorchModelTerms` holds a model's reaction (its generated array functions,
:mod:`rd_classic.codegen`, run with torch) and diffusion (the discrete Laplacian of the
grid, 3-, 5- or 7-point, or the spectral one) as whole-tensor operations. The
parameters may be given as tensors, so the terms — and a whole simulation built on
them — are differentiable by autograd (for fitting parameters to an observed pattern).

:class:`TorchExplicitStepper` runs any explicit Runge-Kutta tableau
(:mod:`rd_classic.schemes`; a full ``A`` too) and :class:`TorchETDRK4Stepper` the
spectral ETDRK4 scheme, on any torch device; on the CPU they cross-check the numba
kernels. Both keep the species stacked as one ``(N, *shape)`` tensor.

:func:`make_batched_step` builds a pure step function on a batch of runs
``(N, B, *shape)`` whose parameters may differ from run to run, with nothing done in
place: autograd (reverse or forward mode) and :mod:`torch.utils.checkpoint` run
through it (:mod:`rdnet.fit` fits parameters to observed patterns with it).
"""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from rdnet.errors import ConfigError, RunError

from rd_classic.boundaries import AXES, SIDES, BoundaryConditions, conditions_or_uniform, face_points
from rd_classic.grids import Grid
from rd_classic.models import Model, array_namespace
from rd_classic.noise import NoiseTerms
from rd_classic.schemes import ExplicitScheme, etdrk4_coefficients, rate_names

__all__ = [
    "TorchModelTerms",
    "TorchExplicitStepper",
    "TorchETDRK4Stepper",
    "torch_laplacian",
    "torch_device",
    "make_batched_step",
    "tableau_step",
]


def torch_device(device: str):
    """The torch device named ``device``; :class:`ConfigError` if unknown or without a GPU."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} requested but torch sees no CUDA GPU (use --device cpu)")
    try:
        return torch.device(device)
    except RuntimeError:
        raise ConfigError(f"unknown torch device {device!r}; use cpu or cuda") from None


def torch_laplacian(values, *, inv_dx2: float, periodic: bool, dims: tuple[int, ...] | None = None):
    """Discrete Laplacian of a tensor along ``dims`` (default all): 3-, 5- or 7-point.

    Parameters
    ----------
    values
        Tensor; e.g. one field ``(ny, nx)`` or stacked species ``(N, ny, nx)`` with ``dims=(1, 2)``.
    inv_dx2
        ``1 / dx²``.
    periodic
        Wrap-around neighbours; otherwise the edge cell mirrors itself (no-flux).
    dims
        The spatial dimensions.
    """
    import torch

    dims = tuple(range(values.ndim)) if dims is None else dims
    total = None
    for dim in dims:
        if periodic:
            minus, plus = torch.roll(values, 1, dim), torch.roll(values, -1, dim)
        else:
            n = values.shape[dim]
            minus = torch.cat([values.narrow(dim, 0, 1), values.narrow(dim, 0, n - 1)], dim)
            plus = torch.cat([values.narrow(dim, 1, n - 1), values.narrow(dim, n - 1, 1)], dim)
        total = minus + plus if total is None else total + minus + plus
    return (total - (2.0 * len(dims)) * values) * inv_dx2


class TorchModelTerms:
    """A model's reaction and diffusion terms as torch functions on stacked species ``(N, *shape)``.

    Parameters
    ----------
    model, grid
        The model and its grid.
    device, dtype
        Where and in what precision.
    parameter_fields
        Parameters that vary in space (name → array of the grid's shape).
    spectral
        Use the spectral Laplacian (periodic grids; ETDRK4) instead of the stencil.
    boundary
        Every species' condition on every side (:mod:`rd_classic.boundaries`); default
        ``grid.boundary`` everywhere. Sides other than periodic and no-flux read ghost
        values ``α u_e + β`` (their values ``β`` are constants for autograd).

    Examples
    --------
    Gradients of a loss with respect to a parameter, through the reaction:

    >>> terms = TorchModelTerms(get_model("gray-scott"), Grid((8, 8), 1.0), device="cpu", dtype="float64")  # doctest: +SKIP
    >>> parameters = terms.parameter_tensors(requires_grad=True)  # doctest: +SKIP
    >>> terms.rate(state, 0.0, parameters).square().sum().backward()  # doctest: +SKIP
    """

    def __init__(self, model: Model, grid: Grid, *, device: str = "cpu", dtype: str = "float64",
                 parameter_fields: Mapping[str, np.ndarray] | None = None, spectral: bool = False,
                 boundary: BoundaryConditions | None = None):  # fmt: skip
        import torch

        from rd_classic.kernels_numba import functions_for

        self.torch = torch
        self.model, self.grid = model, grid
        self.boundary = conditions_or_uniform(boundary, model.species, grid.boundary, grid.ndim)
        self.device = torch_device(device)
        self.dtype = getattr(torch, dtype)
        self._reaction = functions_for(model.declaration).reaction
        self._xp = array_namespace("torch")
        values = grid.expression_values()
        self._coordinates = [self._tensor(values[name]) for name in ("x", "y", "z")]
        self._lengths = [float(values[name]) for name in ("Lx", "Ly", "Lz")]
        self._fields = {name: self._tensor(array) for name, array in (parameter_fields or {}).items()}
        self._dims = tuple(range(1, len(grid.shape) + 1))
        self._inv_dx2 = 1.0 / grid.dx**2
        self._spectral = spectral
        if spectral:
            self._laplacian_symbol = self._tensor(-grid.squared_wavenumbers())
        self._uniform = self.boundary.summary(grid.ndim) in ("periodic", "no-flux")
        self._base = {**dict(model.values), **values}
        if not self._uniform:
            self.boundary.check_finite_at_start(grid.shape, grid.axes, grid.ndim, self._base, grid.dx)
        self._ghosts = {} if self._uniform else self._ghost_coefficients()

    @property
    def boundary_depends_on_time(self) -> bool:
        """Whether a side's ghost values depend on time (computed on the host at every stage's time)."""
        return any(entry[0] == "ghost" and entry[3].time_dependent
                   for sides in self._ghosts.values() for entry in sides.values())  # fmt: skip

    def _ghost_coefficients(self) -> dict:
        """species index → side → ``("wrap",)`` or ``("ghost", α, β tensor or None, condition)``."""
        ghosts: dict = {}
        for s, name in enumerate(self.model.species):
            for side in SIDES[: 2 * self.grid.ndim]:
                condition = self.boundary.side(name, side)
                if condition.periodic:
                    ghosts.setdefault(s, {})[side] = ("wrap",)
                    continue
                alpha = condition.ghost_alpha(self._base, self.grid.dx)
                beta = None if condition.time_dependent else self._ghost_beta(condition, side, 0.0)
                ghosts.setdefault(s, {})[side] = ("ghost", alpha, beta, condition)
        return ghosts

    def _ghost_beta(self, condition, side: str, time: float):
        values, shape = face_points(self.grid.shape, self.grid.axes, side, {**self._base, "t": float(time)})
        return self._tensor(np.broadcast_to(condition.ghost_beta(values, self.grid.dx), shape).copy())

    def _tensor(self, values):
        return self.torch.as_tensor(np.asarray(values), dtype=self.dtype, device=self.device)

    def parameter_tensors(self, *, requires_grad: bool = False) -> dict[str, Any]:
        """Every scalar parameter as a 0-d tensor (leaves for autograd when ``requires_grad``)."""
        return {name: self.torch.tensor(value, dtype=self.dtype, device=self.device, requires_grad=requires_grad)
                for name, value in self.model.values.items()}  # fmt: skip

    def _values(self, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
        values: dict[str, Any] = dict(self.model.values)
        values.update(self._fields)
        if parameters:
            values.update(parameters)
        return values

    def reaction(self, state, t: float = 0.0, parameters: Mapping[str, Any] | None = None):
        """``R(state)``, stacked ``(N, *shape)``."""
        values = self._values(parameters)
        terms = self._reaction(self._xp, *state, *values.values(), *self._coordinates, t, *self._lengths)
        return self.torch.stack([term if hasattr(term, "shape") and term.shape == state.shape[1:]
                                 else self.torch.broadcast_to(self.torch.as_tensor(term, dtype=self.dtype,
                                                                                   device=self.device),
                                                              state.shape[1:])
                                 for term in terms])  # fmt: skip

    def diffusion_coefficients(self, parameters: Mapping[str, Any] | None = None):
        """The diffusion coefficients, differentiable in the parameters.

        A ``(N, 1, ..., 1)`` tensor, or ``(N, *shape)`` where a coefficient depends on a
        parameter that varies in space (``D(x) ∇²u``, as the numba kernels compute it).
        """
        values = self._values(parameters)
        coefficients = [self.torch.as_tensor(self.model.declaration.diffusion[name].evaluate(values, library="torch"),
                                             dtype=self.dtype, device=self.device)
                        for name in self.model.species]  # fmt: skip
        if all(coefficient.ndim == 0 for coefficient in coefficients):
            return self.torch.stack(coefficients).reshape((-1,) + (1,) * len(self.grid.shape))
        return self.torch.stack([self.torch.broadcast_to(coefficient, self.grid.shape) for coefficient in coefficients])

    def laplacian(self, state, t: float = 0.0):
        """The discrete (or spectral) Laplacian of every species, boundary conditions included."""
        torch = self.torch
        if self._spectral:
            return torch.fft.irfftn(self._laplacian_symbol * torch.fft.rfftn(state, dim=self._dims), s=self.grid.shape,
                                    dim=self._dims)  # fmt: skip
        if self._uniform:
            return torch_laplacian(state, inv_dx2=self._inv_dx2, periodic=self.boundary.all_periodic(self.grid.ndim),
                                   dims=self._dims)  # fmt: skip
        return torch.stack([self._ghost_laplacian(state[s], s, t) for s in range(self.model.n_species)])

    def _ghost_laplacian(self, field, s: int, t: float):
        """One species' Laplacian with its ghost cells (periodic axes wrap; axes the grid lacks add nothing)."""
        torch = self.torch
        total = None
        for dim, axis in enumerate(self.grid.axes):
            n = field.shape[dim]
            if axis not in AXES[: self.grid.ndim]:
                minus = plus = field  # one cell thick: no second difference
            elif self._ghosts[s][f"{axis}-"][0] == "wrap":
                minus, plus = torch.roll(field, 1, dim), torch.roll(field, -1, dim)
            else:
                low = self._ghost(field.narrow(dim, 0, 1), s, f"{axis}-", t)
                high = self._ghost(field.narrow(dim, n - 1, 1), s, f"{axis}+", t)
                minus = torch.cat([low, field.narrow(dim, 0, n - 1)], dim)
                plus = torch.cat([field.narrow(dim, 1, n - 1), high], dim)
            total = minus + plus if total is None else total + minus + plus
        return (total - (2.0 * len(self.grid.axes)) * field) * self._inv_dx2

    def _ghost(self, edge, s: int, side: str, t: float):
        _, alpha, beta, condition = self._ghosts[s][side]
        if beta is None:
            beta = self._ghost_beta(condition, side, t)
        return alpha * edge + beta

    def diffusion(self, state, parameters: Mapping[str, Any] | None = None, t: float = 0.0):
        """``D ∇²state`` for every species."""
        return self.diffusion_coefficients(parameters) * self.laplacian(state, t)

    def rate(self, state, t: float = 0.0, parameters: Mapping[str, Any] | None = None):
        """The whole right-hand side ``D ∇²s + R(s)``."""
        return self.diffusion(state, parameters, t) + self.reaction(state, t, parameters)

    def noise_amplitudes(self, noise: NoiseTerms, state, t: float = 0.0, parameters: Mapping[str, Any] | None = None,
                         *, slopes: bool = False) -> list:  # fmt: skip
        """``g_s`` of every species with noise (and ``g_s ∂g_s/∂s`` when ``slopes``), broadcast to the grid."""
        from rd_classic.kernels_numba import noise_functions_for

        functions = noise_functions_for(self.model.declaration, noise, milstein=slopes)
        values = self._values(parameters)
        arguments = (self._xp, *state, *values.values(), *self._coordinates, t, *self._lengths)
        terms = (functions.noise_slope if slopes else functions.noise)(*arguments)
        return [self.torch.broadcast_to(self.torch.as_tensor(term, dtype=self.dtype, device=self.device), state.shape[1:])
                for term in terms]  # fmt: skip


class _TorchStepper:
    """State handling shared by the torch steppers."""

    def __init__(self, model: Model, grid: Grid, *, dt: float, dtype: str, device: str,
                 parameter_fields: Mapping[str, np.ndarray] | None, spectral: bool,
                 boundary: BoundaryConditions | None = None) -> None:  # fmt: skip
        self.terms = TorchModelTerms(model, grid, device=device, dtype=dtype, parameter_fields=parameter_fields,
                                     spectral=spectral, boundary=boundary)  # fmt: skip
        self.torch = self.terms.torch
        self.device = self.terms.device
        self.model, self.grid, self.dt = model, grid, float(dt)
        self.dtype = np.dtype(dtype)
        self.n_steps = 0
        self.step = 0
        self._state = self.torch.zeros((model.n_species, *grid.shape), dtype=self.terms.dtype, device=self.device)
        self._rate_names = rate_names(model.species)
        self._parameter_field_names = frozenset(parameter_fields or ())

    def set_state(self, *fields: np.ndarray, step: int = 0) -> None:
        """Set the fields (cast to the stepper's dtype, moved to its device) and their step number."""
        if len(fields) != self.model.n_species:
            raise ValueError(f"{self.model.name} needs {self.model.n_species} fields, got {len(fields)}")
        stacked = np.stack([np.asarray(field, dtype=self.dtype) for field in fields])
        self._state = self.torch.as_tensor(stacked.copy(), device=self.device)
        self.step = int(step)

    def get_state(self) -> tuple[np.ndarray, ...]:
        """Copies of the current fields as NumPy arrays."""
        values = self._state.detach().cpu().numpy()
        return tuple(np.array(field, dtype=self.dtype, copy=True) for field in values)

    def rates(self, time: float | None = None) -> dict[str, np.ndarray]:
        """Reaction and diffusion parts of the rate of change at the current state (at ``time``, default the step's)."""
        with self.torch.no_grad():
            time = self.step * self.dt if time is None else float(time)
            reaction = self.terms.reaction(self._state, time)
            diffusion = self.terms.diffusion(self._state, t=time)
        values = [part.detach().cpu().numpy().astype(self.dtype) for part in (*reaction, *diffusion)]
        return dict(zip(self._rate_names, values))


#: how many compiled steps (grids, dtypes, models, schemes) one process may hold (torch.compile's default: 8)
_FUSED_SPECIALISATIONS = 256


class TorchExplicitStepper(_TorchStepper):
    """An explicit Runge-Kutta tableau (:class:`~rd_classic.schemes.ExplicitScheme`) in torch.

    Parameters
    ----------
    model, grid, scheme, dt, dtype, parameter_fields, boundary
        See :func:`rd_classic.integrators.make_stepper`.
    device
        ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    noise, seed, milstein
        Noise terms (Euler only): Euler–Maruyama, or Milstein. On the CPU the normal numbers
        are the numba kernels' own (:mod:`rd_classic.random_numbers`), so both backends draw
        the same noise; on a GPU they come from torch's generator seeded per step from
        ``(seed, step)`` (reproducible on the same device, and on resume).
    fused
        Fuse the deterministic step (every stage's stencil and reaction) into a few kernels
        with :func:`torch.compile` (inductor: Triton on a GPU, C++ on the CPU). Unfused, each
        tensor operation of a step reads and writes the whole grid, far from the memory
        bandwidth on a GPU (``benchmarks/bench_gpu.py``). ``None`` (default): fused on CUDA
        devices, where it pays, unless a side's boundary value depends on time; should
        compiling fail there, the step runs unfused with a warning. ``True``: fused on any
        device (a compile error is raised; a time-dependent side refused). ``False``: never.
        The first step compiles (seconds); results equal the unfused step's to rounding.
    """

    def __init__(self, model: Model, grid: Grid, scheme: ExplicitScheme, *, dt: float, dtype: str = "float64",
                 device: str = "cpu", parameter_fields: Mapping[str, np.ndarray] | None = None,
                 boundary: BoundaryConditions | None = None, noise: NoiseTerms | None = None, seed: int = 0,
                 milstein: bool = False, fused: bool | None = None):  # fmt: skip
        super().__init__(model, grid, dt=dt, dtype=dtype, device=device, parameter_fields=parameter_fields,
                         spectral=False, boundary=boundary)  # fmt: skip
        self.scheme = scheme
        if fused and self.terms.boundary_depends_on_time:
            raise ConfigError("a fused step needs boundary values that do not change in time (a side's value "
                              "depends on t: it is computed on the host at every stage)")  # fmt: skip
        self.fused = self.device.type == "cuda" and not self.terms.boundary_depends_on_time if fused is None else fused
        self._fuse_required = fused is True
        self._diffusion = self.terms.diffusion_coefficients()
        self._step_function = self._first_fused_step if self.fused else self._deterministic_step
        self.noise, self.seed, self.milstein = noise, int(seed), milstein
        if noise is not None and scheme.n_stages != 1:
            raise ConfigError(f"noise is integrated by Euler-Maruyama or Milstein, not {scheme.name}")
        self._noise_scale = NoiseTerms.increment_scale(grid.dx, self.dt, grid.ndim)

    def attempt(self, time: float, dt: float, rtol: float, atol: float, *, reuse_first: bool = False) -> float:
        """One trial step of an embedded pair (see :meth:`rd_classic.integrators.NumbaExplicitStepper.attempt`)."""
        scheme, rate, state = self.scheme, self.terms.rate, self._state
        with self.torch.no_grad():
            stages = [self._first if reuse_first else rate(state, time)]
            for i in range(1, scheme.n_stages):
                point = state
                for j in range(i):
                    if scheme.a[i][j]:
                        point = point + (scheme.a[i][j] * dt) * stages[j]
                stages.append(rate(point, time + scheme.nodes[i] * dt))
            candidate, error = state, self.torch.zeros_like(state)
            for i, stage in enumerate(stages):
                if scheme.weights[i]:
                    candidate = candidate + (scheme.weights[i] * dt) * stage
                if scheme.weights[i] != scheme.embedded_weights[i]:
                    error = error + ((scheme.weights[i] - scheme.embedded_weights[i]) * dt) * stage
            scale = atol + rtol * self.torch.maximum(state.abs(), candidate.abs())
            self._candidate, self._stages = candidate, stages
            self._first = stages[0]
            return float(self.torch.sqrt(self.torch.mean(self.torch.square(error / scale).double())))

    def accept(self) -> None:
        """Make the last :meth:`attempt`'s candidate the state."""
        self._state = self._candidate
        if self.scheme.first_same_as_last:
            self._first = self._stages[-1]
        self.n_steps += 1

    def _normals(self, step: int):
        """The standard normal numbers of every noisy species at ``step``, ``(k, *shape)``."""
        from rd_classic.random_numbers import noise_normals, stream_key

        torch, shape = self.torch, self.grid.shape
        if self.device.type == "cpu":
            values = noise_normals(self.seed, step, self.noise.noisy, shape)
            return torch.as_tensor(values, dtype=self.terms.dtype)
        generator = torch.Generator(device=self.device)
        generator.manual_seed(int(stream_key(self.seed, step, 0)) >> 1)
        return torch.randn((len(self.noise.noisy), *shape), generator=generator, dtype=self.terms.dtype,
                           device=self.device)  # fmt: skip

    def _noise_increment(self, state, time: float):
        """``g ΔW`` (+ Milstein's ``½ g g' (ΔW² - scale²)``) of every species, zero where there is no noise."""
        kicks = self._noise_scale * self._normals(self.step)
        amplitudes = self.terms.noise_amplitudes(self.noise, state, time)
        slopes = self.terms.noise_amplitudes(self.noise, state, time, slopes=True) if self.milstein else None
        increment = self.torch.zeros_like(state)
        for slot, s in enumerate(self.noise.noisy):
            kick = kicks[slot]
            increment[s] = amplitudes[slot] * kick
            if slopes is not None:
                increment[s] += 0.5 * slopes[slot] * (kick * kick - self._noise_scale**2)
        return increment

    def _rate(self, state, time, parameters=None):
        """``D ∇²s + R(s)`` with the diffusion coefficients computed once (the stepper's parameters are fixed)."""
        return self._diffusion * self.terms.laplacian(state, time) + self.terms.reaction(state, time, parameters)

    def _deterministic_step(self, state, time, parameters=None, dt=None):
        """One step of the tableau without noise, out of place (``parameters``, ``dt``: tensors in the fused step)."""
        return tableau_step(self.scheme, lambda point, at: self._rate(point, at, parameters), state, time,
                            self.dt if dt is None else dt)  # fmt: skip

    def _first_fused_step(self, state, time: float):
        """Compile the step with :func:`torch.compile` and take it; unfused again if that fails and was not asked for.

        The compiled step takes the time, ``dt`` and the scalar parameters as 0-d tensors
        (Python numbers would be compiled in as constants: every step, and every run with
        other values, would compile again), so runs that differ only in those values share
        one compiled step.
        """
        torch = self.torch
        compiled = torch.compile(self._deterministic_step, dynamic=False)
        clock = torch.zeros((), dtype=torch.float64, device=self.device)
        dt = torch.tensor(self.dt, dtype=torch.float64, device=self.device)
        parameters = {name: value for name, value in self.terms.parameter_tensors().items()
                      if name not in self._parameter_field_names}  # fmt: skip

        def fused_step(state, time: float):
            return compiled(state, clock.fill_(time), parameters, dt)

        try:
            # torch.compile keeps at most `recompile_limit` (8) specialisations of one function and
            # silently runs it unfused beyond: every stepper of a process (other grids, dtypes,
            # models) is one, so this stepper's own compilation is allowed past that limit
            config = torch._dynamo.config
            limit = "recompile_limit" if hasattr(config, "recompile_limit") else "cache_size_limit"  # torch < 2.6
            with config.patch(**{limit: _FUSED_SPECIALISATIONS}):
                result = fused_step(state, time)
        except Exception as error:  # noqa: BLE001 (any compiler failure: report it, or run unfused)
            if self._fuse_required:
                raise RunError(f"torch.compile could not fuse the step: {type(error).__name__}: {error}") from None
            warnings.warn(f"torch.compile failed ({type(error).__name__}); the step runs unfused", RuntimeWarning,
                          stacklevel=3)  # fmt: skip
            self.fused, self._step_function = False, self._deterministic_step
            return self._deterministic_step(state, time)
        self._step_function = fused_step
        return result

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        dt = self.dt
        with self.torch.no_grad():
            for _ in range(n_steps):
                state, time = self._state, self.step * dt
                self._state = self._step_function(state, time)
                if self.noise is not None:
                    self._state = self._state + self._noise_increment(state, time)
                self.step += 1
                self.n_steps += 1


class TorchETDRK4Stepper(_TorchStepper):
    """Spectral ETDRK4 on a periodic grid, on any torch device (see :class:`rd_classic.integrators.ETDRK4Stepper`)."""

    def __init__(self, model: Model, grid: Grid, *, dt: float, dtype: str = "float64", device: str = "cpu",
                 parameter_fields: Mapping[str, np.ndarray] | None = None):  # fmt: skip
        super().__init__(model, grid, dt=dt, dtype=dtype, device=device, parameter_fields=parameter_fields,
                         spectral=True)  # fmt: skip
        q2 = grid.squared_wavenumbers()
        coefficients = [etdrk4_coefficients(-diffusion * q2, self.dt) for diffusion in model.diffusion]
        self._coefficients = {key: self.terms._tensor(np.stack([c[key] for c in coefficients]))
                              for key in coefficients[0]}  # fmt: skip

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        torch, c = self.torch, self._coefficients
        dims, shape = self.terms._dims, self.grid.shape

        def fft(values):
            return torch.fft.rfftn(values, dim=dims)

        def ifft(values):
            return torch.fft.irfftn(values, s=shape, dim=dims)

        def nonlinear(values, time):
            return fft(self.terms.reaction(values, time))

        with torch.no_grad():
            for _ in range(n_steps):
                time = self.step * self.dt
                x = fft(self._state)
                n0 = nonlinear(self._state, time)
                a = c["E2"] * x + c["Q"] * n0
                na = nonlinear(ifft(a), time + 0.5 * self.dt)
                b = c["E2"] * x + c["Q"] * na
                nb = nonlinear(ifft(b), time + 0.5 * self.dt)
                cc = c["E2"] * a + c["Q"] * (2.0 * nb - n0)
                nc = nonlinear(ifft(cc), time + self.dt)
                x = c["E"] * x + c["f1"] * n0 + 2.0 * c["f2"] * (na + nb) + c["f3"] * nc
                self._state = ifft(x)
                self.step += 1
                self.n_steps += 1


def tableau_step(scheme: ExplicitScheme, rate, state, time: float, dt: float):
    """One step of an explicit tableau, out of place: ``rate(state, time)`` at each stage, the weighted sum added.

    Differentiable by autograd (nothing is changed in place); used by the torch steppers
    and :func:`make_batched_step`.
    """
    a, weights, nodes = scheme.a, scheme.weights, scheme.nodes
    stages = []
    for i in range(scheme.n_stages):
        point = state
        for j in range(i):
            if a[i][j]:
                point = point + (a[i][j] * dt) * stages[j]
        stages.append(rate(point, time + nodes[i] * dt))
    increment = weights[0] * stages[0]
    for weight, stage in zip(weights[1:], stages[1:]):
        increment = increment + weight * stage
    return state + dt * increment


def make_batched_step(model: Model, grid: Grid, scheme: ExplicitScheme, *, dt: float, device: str = "cpu",
                      dtype: str = "float64"):  # fmt: skip
    """A pure, differentiable step of an explicit tableau on a batch of independent runs.

    Parameters
    ----------
    model, grid
        The model (the values of the parameters not given to ``step``) and its grid.
    scheme
        An explicit tableau (:data:`rd_classic.schemes.EXPLICIT_SCHEMES`).
    dt
        Time step.
    device, dtype
        Where and in what precision (the state passed to ``step`` must match).

    Returns
    -------
    callable
        ``step(state, time, parameters) -> new_state``. ``state`` is ``(N, B, *shape)``:
        the species first, then ``B`` runs. ``parameters`` maps parameter names to
        tensors that broadcast against one species of the batch, ``(B, *shape)`` (e.g.
        ``(B, 1, 1)`` in 2-D: one value per run) or to numbers; the others keep the
        model's values. Diffusion coefficients given by expressions of the parameters
        follow them. Nothing is changed in place and no state is kept, so gradients with
        respect to the state and the parameters flow through any number of steps.

    Examples
    --------
    >>> step = make_batched_step(get_model("gray-scott"), Grid((64, 64), 0.01), EXPLICIT_SCHEMES["euler"], dt=1.0)  # doctest: +SKIP
    >>> F = torch.tensor([0.03, 0.04]).reshape(2, 1, 1).requires_grad_()  # doctest: +SKIP
    >>> state = step(state, 0.0, {"F": F})  # two runs at two values of F  # doctest: +SKIP
    """
    terms = TorchModelTerms(model, grid, device=device, dtype=dtype)
    torch = terms.torch
    spatial = tuple(range(2, 2 + len(grid.shape)))
    inv_dx2, periodic = 1.0 / grid.dx**2, grid.periodic
    diffusion = [model.declaration.diffusion[name] for name in model.species]
    dt = float(dt)

    def rate(state, time: float, parameters: Mapping[str, Any]):
        values = {**model.values, **parameters}
        laplacian = torch_laplacian(state, inv_dx2=inv_dx2, periodic=periodic, dims=spatial)
        reaction = terms.reaction(state, time, parameters)
        return torch.stack([expression.evaluate(values, library="torch") * laplacian[i] + reaction[i]
                            for i, expression in enumerate(diffusion)])  # fmt: skip

    def step(state, time: float, parameters: Mapping[str, Any]):
        return tableau_step(scheme, lambda point, at: rate(point, at, parameters), state, time, dt)

    return step
