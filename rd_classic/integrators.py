"""Time integrators: the explicit step limit, and the steppers that run a scheme on the CPU.

A stepper owns the state (one field per species) of one run on one backend and
advances it:

>>> stepper = make_stepper(model, grid, dt=1.0, integrator="rk4")  # doctest: +SKIP
>>> stepper.set_state(u0, v0); stepper.advance(100); u, v = stepper.get_state()  # doctest: +SKIP

The schemes themselves are data (:mod:`rd_classic.schemes`). This module runs them on
the CPU: :class:`NumbaExplicitStepper` steps an explicit Runge-Kutta tableau with the
model's generated, fused kernels (:mod:`rd_classic.kernels_numba`; discrete Laplacian:
3-, 5- or 7-point), :class:`ETDRK4Stepper` the spectral ETDRK4 scheme with ducc0's FFT
(the diffusion exact in Fourier space, so periodic grids only and no diffusive step
limit). :mod:`rd_classic.backend_torch` runs both on torch devices.

Every stepper has the same interface: ``set_state(*fields, step=0)``, ``get_state()``,
``advance(n_steps)``, ``rates()`` (the reaction and diffusion parts of the rate of
change, by name ``reaction_<species>``, ``diffusion_<species>``), ``n_steps`` (steps
taken) and ``step`` (the current step number; the time is ``step * dt``).
"""

from __future__ import annotations

import math
import os
from typing import Mapping

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.boundaries import BoundaryConditions, conditions_or_uniform
from rd_classic.grids import Grid
from rd_classic.models import Model
from rd_classic.noise import NoiseTerms
from rd_classic.schemes import (  # noqa: F401  (EXPLICIT_SCHEMES, INTEGRATORS: also read from here)
    BACKENDS,
    DTYPES,
    EXPLICIT_SCHEMES,
    IMEX_SCHEMES,
    INTEGRATORS,
    NOISE_INTEGRATORS,
    SMALLEST_RADIUS,
    ExplicitScheme,
    check_integrator,
    etdrk4_coefficients,
    exit_radius,
    rate_names,
    reaction_polynomial,
    stability_polynomial,
)

__all__ = ["largest_stable_dt", "mode_eigenvalues", "make_stepper", "NumbaExplicitStepper", "ETDRK4Stepper", "field_stack"]


def largest_stable_dt(
    model: Model,
    grid: Grid,
    integrator: str,
    *,
    state: tuple[float, ...] | None = None,
    boundary: BoundaryConditions | None = None,
    jacobian: np.ndarray | None = None,
) -> float:
    r"""Largest time step for which an explicit scheme keeps every decaying linear mode decaying.

    Linearised about a homogeneous state :math:`s^*`, a grid mode whose
    discrete-Laplacian eigenvalue is :math:`\mu = -q_h^2` (see
    :meth:`~rd_classic.grids.Grid.laplacian_eigenvalues`) evolves with the
    eigenvalues :math:`\lambda` of :math:`J(s^*) + \mu D`, ``D`` the diagonal of the
    diffusion coefficients: reaction and diffusion together, any number of species.
    One step of an explicit Runge-Kutta scheme multiplies such a mode by
    :math:`R(\lambda\,dt)`, the scheme's stability polynomial (``1 + z`` for Euler,
    ``1 + z + z²/2`` for RK2, :math:`\sum_{j \le 4} z^j / j!` for RK4; built from the
    scheme's tableau). The limit is the largest ``dt`` such that
    :math:`|R(\lambda s)| \le 1` for every ``0 < s <= dt`` and every such
    :math:`\lambda`, found along each ray :math:`\lambda s` to ~1e-12 relative (for real
    :math:`\lambda < 0` it is ``stability_radius / |λ|``: ``2/|λ|`` for Euler).

    Modes that no positive ``dt`` keeps from growing are **not** bounded: the growing
    ones (:math:`\operatorname{Re}\lambda > 0`, the Turing or Hopf instability the run
    is meant to show, which grow whatever the step) and the neutral oscillations
    (:math:`\operatorname{Re}\lambda = 0`, :math:`\operatorname{Im}\lambda \ne 0`),
    which Euler and RK2 amplify slightly at any ``dt``. Weakly damped oscillations are
    bounded (Euler needs :math:`dt \le -2\operatorname{Re}\lambda / |\lambda|^2`).

    Parameters
    ----------
    model, grid
        The model and its grid (spacing and boundary fix the modes).
    integrator
        ``"euler"``, ``"rk2"``, ``"rk4"``, ``"milstein"``, an adaptive pair, ``"etdrk4"`` or ``"imex"``.
    state
        The homogeneous state to linearise about. Default: ``model.homogeneous_state()``,
        the state a run starts near (the ``noise`` initial condition perturbs it, and it
        is Gray-Scott's ``u = 1, v = 0`` background of Pearson's set-up). Other steady
        states and the pattern's own values are not checked (the NaN guard catches a
        run that leaves the linear regime unstably); a model without a homogeneous
        steady state (none exists, or the reaction depends on position or time) is
        bounded by its diffusion alone, unless ``jacobian`` is given.
    boundary
        Every species' conditions (default ``grid.boundary`` everywhere): they fix the
        modes of each axis (:func:`rd_classic.boundaries.axis_eigenvalues`: cosine modes on
        no-flux sides, sine modes on Dirichlet sides, the tridiagonal operator's own for
        Robin). When species have different modes along an axis, the union of their
        eigenvalues is used for all of them (the diffusive extremes are kept exactly; the
        coupling through the reaction is then approximate).
    jacobian
        The ``N × N`` reaction Jacobian to linearise with, instead of the one at ``state``
        (e.g. at one cell of a run's initial state, for a reaction that depends on
        position or time).

    Returns
    -------
    float
        The limit; ``inf`` when no mode constrains the step (e.g. no reaction and no
        diffusion). For ``etdrk4`` and ``imex`` (diffusion exact or implicit) only the
        explicitly treated reaction is bounded, on the uniform mode, where one step is
        the explicit part alone (:func:`~rd_classic.schemes.reaction_polynomial`: RK4's
        polynomial for ETDRK4, ``1 + z + z²/2`` for ``imex``): ``u' = -100 u`` gives
        ``2.785/100`` and ``2/100``.

    Notes
    -----
    Every mode of the grid is used when the grid has at most ``2**14`` distinct sums
    of per-axis eigenvalues; larger grids sample ``μ`` uniformly (4097 points, both
    ends exact) over its range, which contains every mode.
    """
    check_integrator(integrator)
    if integrator == "milstein":  # the deterministic part is Euler's
        integrator = "euler"
    if integrator in EXPLICIT_SCHEMES:
        polynomial = stability_polynomial(EXPLICIT_SCHEMES[integrator])
    else:  # etdrk4, imex: the diffusion is exact or implicit, the reaction explicit (bounded on the uniform mode)
        polynomial = reaction_polynomial(integrator)
    if jacobian is None and state is None:
        try:
            states = model.steady_states()
        except ConfigError:  # the reaction depends on position or time
            states = []
        state = states[0] if states else None
    if jacobian is not None:
        jacobian = np.asarray(jacobian, dtype=float)
    elif state is None:  # no steady state: diffusion alone
        jacobian = np.zeros((model.n_species, model.n_species))
    else:
        jacobian = np.asarray(model.jacobian(*(float(value) for value in state)), dtype=float)
    modes = _laplacian_modes(model, grid, boundary) if integrator in EXPLICIT_SCHEMES else np.zeros(1)
    eigenvalues = mode_eigenvalues(jacobian, model.diffusion, modes)
    eigenvalues = eigenvalues[eigenvalues != 0]
    if eigenvalues.size == 0:
        return float("inf")
    # |R| depends on the direction of λ only through the ray; conjugates give the same |R|
    angle = np.abs(np.angle(eigenvalues))
    directions, where = np.unique(angle, return_inverse=True)
    radius = exit_radius(polynomial, directions)[where]
    bounded = radius > SMALLEST_RADIUS
    if not bounded.any():
        return float("inf")
    return float(np.min(radius[bounded] / np.abs(eigenvalues[bounded])))


#: distinct Laplacian eigenvalues used exactly up to this many; beyond, their range is sampled
_MAX_EXACT_MODES = 1 << 14
#: samples of the Laplacian eigenvalue range on larger grids
_MODE_SAMPLES = 4097


def _laplacian_modes(model: Model, grid: Grid, boundary: BoundaryConditions | None) -> np.ndarray:
    """The discrete Laplacian's eigenvalues ``μ`` (distinct, or a sampling of their range)."""
    axes = axis_mode_eigenvalues(model, grid, boundary)
    if math.prod(axis.size for axis in axes) <= _MAX_EXACT_MODES:
        total = np.zeros(1)
        for axis in axes:
            total = np.add.outer(total, axis).ravel()
        return np.unique(total)
    lowest = sum(axis.min() for axis in axes)
    return np.linspace(lowest, 0.0, _MODE_SAMPLES)


def axis_mode_eigenvalues(model: Model, grid: Grid, boundary: BoundaryConditions | None) -> tuple[np.ndarray, ...]:
    """The distinct eigenvalues of each stored axis' second difference, over every species' conditions."""
    from rd_classic.boundaries import AXES, axis_eigenvalues

    boundary = conditions_or_uniform(boundary, model.species, grid.boundary, grid.ndim)
    values = {**dict(model.values), **grid.expression_values()}
    axes = []
    for name, n in zip(grid.axes, grid.shape):
        if name not in AXES[: grid.ndim]:  # one cell thick: no second difference
            axes.append(np.zeros(1))
            continue
        sets = {boundary.axis_alphas(species, name, values, grid.dx) for species in model.species}
        axes.append(np.unique(np.concatenate([axis_eigenvalues(n, grid.dx, alphas) for alphas in sets])))
    return tuple(axes)


def mode_eigenvalues(jacobian: np.ndarray, diffusion: tuple[float, ...], modes: np.ndarray) -> np.ndarray:
    """Every eigenvalue of ``J + μ diag(D)`` for every ``μ`` in ``modes`` (complex, flat)."""
    matrices = jacobian[None, :, :] + np.asarray(modes)[:, None, None] * np.diag(diffusion)[None, :, :]
    if jacobian.shape == (1, 1):
        return matrices.reshape(-1).astype(complex)
    return np.linalg.eigvals(matrices).reshape(-1)


def make_stepper(
    model: Model,
    grid: Grid,
    *,
    dt: float,
    integrator: str = "euler",
    backend: str = "numba",
    device: str = "cpu",
    dtype: str = "float64",
    parameter_fields: Mapping[str, np.ndarray] | None = None,
    boundary: BoundaryConditions | None = None,
    noise: NoiseTerms | None = None,
    seed: int = 0,
    fused: bool | None = None,
):
    """Build the stepper for one run.

    Parameters
    ----------
    model, grid
        What to integrate and where.
    dt
        Time step (checked to be positive and finite; stability is the caller's guard,
        see :func:`largest_stable_dt`).
    integrator
        ``"euler"``, ``"rk2"``, ``"rk4"``, ``"etdrk4"`` or ``"imex"``.
    backend
        ``"numba"`` (explicit schemes on the CPU), ``"torch"`` (the explicit schemes and
        periodic ``etdrk4``, ``device`` ``"cpu"`` or ``"cuda"``), ``"numpy"`` (``etdrk4``
        with ducc0's FFT and scipy's DCT and DST; ``imex``). ``etdrk4`` and ``imex`` with
        ``"numba"`` run on ``"numpy"``.
    device
        Torch device name; the numba and numpy backends need ``"cpu"``.
    dtype
        ``"float64"`` or ``"float32"``.
    parameter_fields
        Parameters that vary in space: name → array of the grid's shape.
    boundary
        Every species' condition on every side (:mod:`rd_classic.boundaries`); default
        ``grid.boundary`` on every side of every species.
    noise, seed
        Noise terms (:mod:`rd_classic.noise`) and the seed of their random numbers: the run
        is then integrated by Euler–Maruyama (``euler``) or Milstein (``milstein``).
    fused
        The torch backend's explicit schemes only: fuse each step with :func:`torch.compile`
        (``None``: on CUDA devices; see :class:`~rd_classic.backend_torch.TorchExplicitStepper`).

    Returns
    -------
    object
        A stepper (see the module docstring).

    Raises
    ------
    ConfigError
        Unknown integrator/backend/dtype, bad ``dt``, ``etdrk4`` with a Robin side
        (or on torch, a side that is not periodic), ``imex`` on torch, a CUDA device
        without the torch backend, a field of the wrong shape.
    """
    check_integrator(integrator)
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    if dtype not in DTYPES:
        raise ConfigError(f"unknown dtype {dtype!r}; valid dtypes: {', '.join(DTYPES)}")
    if not (np.isfinite(dt) and dt > 0):
        raise ConfigError(f"dt must be a positive number, got {dt}")
    if backend != "torch" and device != "cpu":
        raise ConfigError(f"device {device!r} needs the torch backend (the {backend} backend runs on the CPU)")
    fields = dict(parameter_fields or {})
    for name, values in fields.items():
        if name not in model.values:
            raise ConfigError(f"model {model.name!r} has no parameter {name!r}")
        if np.shape(values) != grid.shape:
            raise ConfigError(f"the field of parameter {name} has shape {np.shape(values)}, the grid {grid.shape}")
    if noise is not None and integrator not in NOISE_INTEGRATORS:
        raise ConfigError(f"a run with noise is integrated by euler (Euler-Maruyama) or milstein, not {integrator}")
    if integrator == "milstein":
        if noise is None:
            raise ConfigError("milstein integrates noise; this run has none (add a [noise] table or --noise)")
        noise.check_milstein()
    if fused is not None and (backend != "torch" or integrator not in (*EXPLICIT_SCHEMES, "milstein")):
        raise ConfigError(f"fused steps are the torch backend's explicit schemes, not {integrator} on {backend}")
    if integrator == "etdrk4":
        if backend == "torch":
            from rd_classic.backend_torch import TorchETDRK4Stepper

            conditions = conditions_or_uniform(boundary, model.species, grid.boundary, grid.ndim)
            if not conditions.all_periodic(grid.ndim):
                raise ConfigError("etdrk4 on the torch backend needs every side periodic; the cosine and sine "
                                  "transforms of other boxes run on --backend numpy")  # fmt: skip
            return TorchETDRK4Stepper(model, grid, dt=dt, dtype=dtype, device=device, parameter_fields=fields)
        return ETDRK4Stepper(model, grid, dt=dt, dtype=dtype, parameter_fields=fields, boundary=boundary)
    if integrator in IMEX_SCHEMES:
        if backend == "torch":
            raise ConfigError(f"{integrator} runs on the CPU (--backend numpy): its implicit solves use scipy")
        from rd_classic.stiff import IMEXStepper

        return IMEXStepper(model, grid, IMEX_SCHEMES[integrator], dt=dt, dtype=dtype, parameter_fields=fields,
                           boundary=boundary)  # fmt: skip
    scheme = EXPLICIT_SCHEMES["euler" if integrator == "milstein" else integrator]
    noise_options = {"noise": noise, "seed": seed, "milstein": integrator == "milstein"}
    if backend == "torch":
        from rd_classic.backend_torch import TorchExplicitStepper

        return TorchExplicitStepper(model, grid, scheme, dt=dt, dtype=dtype, device=device, parameter_fields=fields,
                                    boundary=boundary, fused=fused, **noise_options)  # fmt: skip
    if backend == "numpy":
        raise ConfigError(f"the numpy backend runs only etdrk4 and imex; use numba or torch for {integrator}")
    return NumbaExplicitStepper(model, grid, scheme, dt=dt, dtype=dtype, parameter_fields=fields, boundary=boundary,
                                **noise_options)  # fmt: skip


def field_stack(model: Model, grid: Grid, parameter_fields: Mapping[str, np.ndarray], dtype) -> tuple[tuple[bool, ...], np.ndarray]:
    """Which parameters are fields, and the fields stacked in declaration order (``(M, *shape)``)."""
    flags = tuple(name in parameter_fields for name in model.parameter_names())
    arrays = [np.asarray(parameter_fields[name], dtype=dtype) for name in model.parameter_names() if name in parameter_fields]
    if arrays:
        return flags, np.ascontiguousarray(np.stack(arrays))
    return flags, np.zeros((0,) + (1,) * len(grid.shape), dtype)


class _CpuStepper:
    """What the NumPy/numba steppers share: the parameters as the kernels take them, the state, time."""

    def __init__(self, model: Model, grid: Grid, *, dt: float, dtype: str,
                 parameter_fields: Mapping[str, np.ndarray] | None,
                 boundary: BoundaryConditions | None = None) -> None:  # fmt: skip
        from rd_classic import kernels_numba
        from rd_classic.ghost_cells import FaceCorrections

        self.model, self.grid, self.dt = model, grid, float(dt)
        self.boundary = conditions_or_uniform(boundary, model.species, grid.boundary, grid.ndim)
        self.dtype = np.dtype(dtype)
        self.n_steps = 0
        self.step = 0
        self.parameter_fields = dict(parameter_fields or {})
        flags, self._pf = field_stack(model, grid, self.parameter_fields, self.dtype)
        self._kernels = kernels_numba.kernels_for(model.declaration, self.dtype, len(grid.shape), flags)
        values = grid.expression_values()
        lengths = (values["Lx"], values["Ly"], values["Lz"])
        self._p = kernels_numba.parameter_vector(list(model.values.values()), lengths, self.dtype)
        self._c = np.array([coefficient / grid.dx**2 for coefficient in model.diffusion], dtype=self.dtype)
        self._dx, self._dt_cast = kernels_numba.cast_scalars(self.dtype, grid.dx, self.dt)
        self._scalar = self.dtype.type
        self._state = self._allocate()
        self._rate_names = rate_names(model.species)
        self._faces = FaceCorrections(model.values, self._c, grid, self.boundary, self.dtype)
        self._periodic = self._faces.periodic

    def _allocate(self):
        """The state: one array per species (see :func:`rd_classic.kernels_numba.species_fields`)."""
        from rd_classic.kernels_numba import species_fields

        return species_fields(self.model.n_species, self.grid.shape, self.dtype)

    def set_state(self, *fields: np.ndarray, step: int = 0) -> None:
        """Set the fields (copied, cast to the stepper's dtype) and the step number they are at."""
        if len(fields) != self.model.n_species:
            raise ValueError(f"{self.model.name} needs {self.model.n_species} fields, got {len(fields)}")
        for index, values in enumerate(fields):
            self._state[index][...] = values
        self.step = int(step)

    def get_state(self) -> tuple[np.ndarray, ...]:
        """Copies of the current fields."""
        return tuple(field.copy() for field in self._state)

    def _time(self, offset: float = 0.0):
        return self._scalar(self.step * self.dt + offset)


class NumbaExplicitStepper(_CpuStepper):
    """Explicit Runge-Kutta on the model's generated, fused CPU kernels.

    Parameters
    ----------
    model, grid, scheme, dt, dtype, parameter_fields, boundary
        See :func:`make_stepper`. A sub-diagonal tableau (Euler, RK2, RK4) runs on the fused
        stage kernels; any other explicit tableau one ``rhs`` pass per stage, the stages
        combined with NumPy (the place for embedded pairs). Boundary conditions other than
        periodic and no-flux are ghost-cell corrections added to what the kernels write
        (:mod:`rd_classic.ghost_cells`).
    noise, seed, milstein
        Noise terms, the seed of their numbers, and whether to add Milstein's correction:
        the Euler step becomes Euler–Maruyama (Milstein), generated with the noise term in
        the fused kernel (:func:`rd_classic.kernels_numba.noise_kernels_for`). The numbers
        of step ``n`` depend only on ``(seed, n, species, cell)``: a resumed run draws what
        the uninterrupted one drew.
    fuse_stages
        Run RK2, RK4 (any sub-diagonal tableau of 2 to 8 stages) on 1-D and 2-D grids with
        periodic or no-flux sides as one in-place pass over memory per step (default ``None``:
        when the state is at least :attr:`FUSED_STAGES_FROM_BYTES`) (the generated
        ``rk_step``: the stages as a wavefront over rows, :mod:`rd_classic.codegen`), which moves
        what an Euler step moves (one read and one write of each species per cell); ``False``:
        one pass per stage (``rk_stage``, ``rk_final_stage``), as on 3-D grids and with ghost-cell
        corrections. The arithmetic of a cell is the same either way.
    steps_per_pass
        Euler (Euler–Maruyama, Milstein) on 1-D and 2-D grids with periodic or no-flux sides runs
        its steps in passes of this many steps over memory (the generated ``euler_steps``,
        ``noisy_euler_steps``: temporal blocking, a wavefront of steps over rows; with noise each
        step draws its own numbers; 1: one step per pass). Default ``None``:
        :attr:`EULER_STEPS_PER_PASS` where each thread's block of rows is deep enough
        (:attr:`ROWS_PER_BLOCK_PER_STEP`). Results equal to 1 ulp in a few cells either way.
    """

    def __init__(self, model: Model, grid: Grid, scheme: ExplicitScheme, *, dt: float, dtype: str,
                 parameter_fields: Mapping[str, np.ndarray] | None = None,
                 boundary: BoundaryConditions | None = None, noise: NoiseTerms | None = None, seed: int = 0,
                 milstein: bool = False, fuse_stages: bool | None = None,
                 steps_per_pass: int | None = None):  # fmt: skip
        from rd_classic import kernels_numba, random_numbers

        super().__init__(model, grid, dt=dt, dtype=dtype, parameter_fields=parameter_fields, boundary=boundary)
        self.scheme = scheme
        self.noise = noise
        if noise is not None and scheme.n_stages != 1:
            raise ConfigError(f"noise is integrated by Euler-Maruyama or Milstein, not {scheme.name}")
        self._weights = kernels_numba.cast_scalars(self.dtype, *scheme.weights)
        self._offsets_dt = kernels_numba.cast_scalars(self.dtype, *(a * self.dt for a in scheme.stage_offsets))
        self._nodes_dt = [c * self.dt for c in scheme.nodes]
        self._zero = self._scalar(0.0)
        if not scheme.is_subdiagonal:  # a general tableau: whole right-hand sides, combined by NumPy
            self._stages = [self._allocate() for _ in range(scheme.n_stages)]
            self._point = self._allocate()
        elif scheme.n_stages == 1:
            self._halo, self._work = kernels_numba.euler_buffers(grid.shape, self.dtype, model.n_species)
            self._pass_depth = self._euler_pass_depth(steps_per_pass)
            if self._pass_depth > 1:
                self._pass_buffers = kernels_numba.euler_steps_buffers(grid.shape, self.dtype, model.n_species,
                                                                       self._pass_depth, self._halo.shape[0])  # fmt: skip
                self._pass_times = np.empty(self._pass_depth, self.dtype)
                self._pass_offsets = np.arange(self._pass_depth)
            if noise is not None:
                flags = tuple(name in self.parameter_fields for name in model.parameter_names())
                noisy_kernels = kernels_numba.noise_kernels_for(model.declaration, noise, self.dtype, len(grid.shape),
                                                                flags, milstein=milstein)  # fmt: skip
                self._noisy_step = noisy_kernels.noisy_euler_step
                self._noisy_steps = getattr(noisy_kernels, "noisy_euler_steps", None)  # 2-D storage only
                self._streams = np.array(noise.noisy, dtype=np.int64)
                self._keys = np.empty(len(noise.noisy), np.uint64)
                self._pass_keys = np.empty((self._pass_depth, len(noise.noisy)), np.uint64)
                self._normals = kernels_numba.noise_buffers(grid.shape, self.dtype, len(noise.noisy), self._halo.shape[0])
                self._noise_scale = self._scalar(NoiseTerms.increment_scale(grid.dx, self.dt, grid.ndim))
                self._seed = np.uint64(int(seed) & (2**64 - 1))
                self._stream_keys = random_numbers.stream_keys
        elif self._fused_stages_apply(fuse_stages):  # every stage in one in-place pass over memory
            n_stages = scheme.n_stages
            self._rk_buffers = kernels_numba.rk_buffers(grid.shape, self.dtype, model.n_species, n_stages)
            self._rk_coefficients = (np.array([0.0, *self._offsets_dt], self.dtype), np.array(self._weights, self.dtype),
                                     np.array(self._nodes_dt, self.dtype))  # fmt: skip
        else:
            self._out = self._allocate()
            self._k = [self._allocate() for _ in range(2)]  # ping-pong stage values
            self._acc = self._allocate()

    #: Euler steps per pass over memory (``euler_steps``, temporal blocking). Measured against the one-step kernel
    #: (2 threads, docs/benchmarks.md): Gray-Scott 2048² float64 2, 3, 4 steps per pass 1.60x, 1.50x, 1.46x (float32
    #: 1.95x, 1.91x, 1.80x); the three-species extended Brusselator at 1024² 1.95x, 1.30x, 1.24x (float32 1.23x,
    #: 0.88x, 0.77x): deeper passes read more ring rows from beyond the L1 cache than they save
    EULER_STEPS_PER_PASS = 2
    #: the rows a thread's block needs per step of a pass: each block recomputes ``depth (depth - 1)`` rows
    #: beyond its ends per pass, under 5 % of the work from 16 rows per step
    ROWS_PER_BLOCK_PER_STEP = 16

    def _euler_pass_depth(self, steps_per_pass: int | None) -> int:
        """Euler steps per pass of ``euler_steps``: ``steps_per_pass``, by default :attr:`EULER_STEPS_PER_PASS`
        when a thread's block has enough rows; 1 (the one-step kernel) on 3-D grids and with ghost-cell
        corrections to add between the steps."""
        if len(self.grid.shape) == 3 or self._faces.active:
            return 1
        if steps_per_pass is not None:
            if int(steps_per_pass) < 1:
                raise ConfigError(f"steps_per_pass must be at least 1, got {steps_per_pass}")
            return int(steps_per_pass)
        depth = self.EULER_STEPS_PER_PASS
        return depth if self._state[0].shape[0] // self._halo.shape[0] >= self.ROWS_PER_BLOCK_PER_STEP * depth else 1

    #: state size (all species) from which the one-pass step is the default: below it the per-stage arrays stay
    #: in the caches and the two are even (Gray-Scott, 2 threads, one pass / per stage: 128²-256² 0.88-1.55x,
    #: 512² float32 0.91-1.01x; 512² float64 and 1024², 1.76-2.34x: docs/benchmarks.md, "RK stages")
    FUSED_STAGES_FROM_BYTES = 4 << 20

    def _fused_stages_apply(self, fuse_stages: bool | None) -> bool:
        """Whether the fused in-place step (``rk_step``) runs this sub-diagonal tableau: 2-D storage (1-D and 2-D
        grids), up to 8 stages, no ghost-cell corrections to add between the stages (periodic or no-flux sides),
        and ``fuse_stages`` (``None``: a state of at least :attr:`FUSED_STAGES_FROM_BYTES`)."""
        if fuse_stages is None:
            fuse_stages = self.model.n_species * self.grid.n_cells * self.dtype.itemsize >= self.FUSED_STAGES_FROM_BYTES
        return fuse_stages and len(self.grid.shape) == 2 and 2 <= self.scheme.n_stages <= 8 and not self._faces.active

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        p, c, pf, dx, dt, periodic = self._p, self._c, self._pf, self._dx, self._dt_cast, self._periodic
        faces = self._faces if self._faces.active else None
        if not self.scheme.is_subdiagonal:
            self._advance_general(n_steps)
            return
        if self.scheme.n_stages == 1:
            euler_step = self._kernels.euler_step
            state, halo, work = self._state, self._halo, self._work
            depth = self._pass_depth
            if depth > 1:  # the steps in passes of depth steps (temporal blocking), the rest one by one below
                times = self._pass_times
                for _ in range(n_steps // depth):
                    times[:] = (self.step + self._pass_offsets) * self.dt
                    if self.noise is None:
                        self._kernels.euler_steps(p, c, pf, dx, times, dt, periodic, state, *self._pass_buffers)
                    else:
                        for st in range(depth):
                            self._stream_keys(self._seed, np.uint64(self.step + st), self._streams, self._pass_keys[st])
                        self._noisy_steps(p, c, pf, dx, times, dt, periodic, state, *self._pass_buffers,
                                          self._pass_keys, self._noise_scale, self._normals)  # fmt: skip
                    self.step += depth
                    self.n_steps += depth
                n_steps %= depth
            for _ in range(n_steps):
                if faces:  # from the old edge values, before the kernel overwrites them
                    faces.compute(state, state, 0.0, self._time())
                if self.noise is None:
                    euler_step(p, c, pf, dx, self._time(), dt, periodic, state, halo, work)  # in place
                else:
                    self._stream_keys(self._seed, np.uint64(self.step), self._streams, self._keys)
                    self._noisy_step(p, c, pf, dx, self._time(), dt, periodic, state, halo, work, self._keys,
                                     self._noise_scale, self._normals)  # fmt: skip
                if faces:
                    faces.apply(state, self.dt)
                self.step += 1
                self.n_steps += 1
            return
        if hasattr(self, "_rk_buffers"):
            rk_step, buffers, coefficients = self._kernels.rk_step, self._rk_buffers, self._rk_coefficients
            for _ in range(n_steps):
                rk_step(p, c, pf, dx, self._time(), dt, periodic, self._state, *buffers, *coefficients)
                self.step += 1
                self.n_steps += 1
            return
        rk_stage, rk_final_stage = self._kernels.rk_stage, self._kernels.rk_final_stage
        weights, offsets_dt, nodes_dt = self._weights, self._offsets_dt, self._nodes_dt
        last = self.scheme.n_stages - 1
        for _ in range(n_steps):
            state, out, acc = self._state, self._out, self._acc
            k_previous, k_out = self._k
            # stage 0 at u itself (k argument unused: a_dt = 0)
            if faces:
                faces.compute(state, state, 0.0, self._time())
            rk_stage(p, c, pf, dx, self._time(), periodic, state, state, self._zero, k_out, acc, weights[0], True)
            if faces:
                self._correct_stage(k_out, acc, weights[0])
            for stage in range(1, last):
                k_previous, k_out = k_out, k_previous
                if faces:
                    faces.compute(state, k_previous, offsets_dt[stage - 1], self._time(nodes_dt[stage]))
                rk_stage(p, c, pf, dx, self._time(nodes_dt[stage]), periodic, state, k_previous,
                         offsets_dt[stage - 1], k_out, acc, weights[stage], False)  # fmt: skip
                if faces:
                    self._correct_stage(k_out, acc, weights[stage])
            if faces:
                faces.compute(state, k_out, offsets_dt[-1], self._time(nodes_dt[last]))
            rk_final_stage(p, c, pf, dx, self._time(nodes_dt[last]), periodic, state, k_out, offsets_dt[-1],
                           acc, weights[-1], dt, out)  # fmt: skip
            if faces:
                faces.apply(out, self.dt * self.scheme.weights[-1])
            self._state, self._out = out, state
            self.step += 1
            self.n_steps += 1

    def _correct_stage(self, k_out, acc, weight) -> None:
        """Add the boundary corrections to a stage's rate and to the weighted sum of rates."""
        self._faces.apply(k_out, 1.0)
        self._faces.apply(acc, weight)

    def stage_rates(self, state, time: float, dt: float, *, reuse_first: bool = False) -> list:
        """``k_i = F(t + c_i dt, u + dt Σ_j a_ij k_j)`` of every stage, from ``state`` (one ``rhs`` pass each;
        with ``reuse_first`` the first stage already holds ``F(t, u)``)."""
        scheme, stages, point = self.scheme, self._stages, self._point
        for i in range(scheme.n_stages):
            if i == 0 and reuse_first:
                continue
            for s, (target, field) in enumerate(zip(point, state)):
                np.copyto(target, field)
                for j in range(i):
                    if scheme.a[i][j]:
                        target += self._scalar(scheme.a[i][j] * dt) * stages[j][s]
            self.rhs(point, time + scheme.nodes[i] * dt, stages[i])
        return stages

    def attempt(self, time: float, dt: float, rtol: float, atol: float, *, reuse_first: bool = False) -> float:
        """One trial step of an embedded pair from the current state at ``time``; the candidate is kept for
        :meth:`accept`. Returns the error norm ``sqrt(mean((e / (atol + rtol max(|u|, |u_new|)))²))``
        over every cell and species, ``e = dt Σ (b_i - b̂_i) k_i`` (``<= 1``: accept)."""
        scheme, state = self.scheme, self._state
        if not hasattr(self, "_candidate"):
            self._candidate, self._error = self._allocate(), self._allocate()
        stages = self.stage_rates(state, time, dt, reuse_first=reuse_first)
        weights = [self._scalar(b * dt) for b in scheme.weights]
        differences = [self._scalar((b - e) * dt) for b, e in zip(scheme.weights, scheme.embedded_weights)]
        total = 0.0
        for s, (field, candidate, error) in enumerate(zip(state, self._candidate, self._error)):
            np.copyto(candidate, field)
            error.fill(0.0)
            for i, stage in enumerate(stages):
                if scheme.weights[i]:
                    candidate += weights[i] * stage[s]
                if scheme.weights[i] != scheme.embedded_weights[i]:
                    error += differences[i] * stage[s]
            scale = atol + rtol * np.maximum(np.abs(field), np.abs(candidate), dtype=np.float64)
            total += float(np.sum(np.square(error / scale)))
        return math.sqrt(total / (len(state) * self.grid.n_cells))

    def accept(self) -> None:
        """Make the last :meth:`attempt`'s candidate the state (first-same-as-last: its last stage becomes the
        next step's first)."""
        self._state, self._candidate = self._candidate, self._state
        if self.scheme.first_same_as_last:
            self._stages[0], self._stages[-1] = self._stages[-1], self._stages[0]
        self.n_steps += 1

    def rhs(self, state, time: float, out) -> None:
        """``out = D ∇²u + R(u)`` at ``state`` and ``time``, boundary conditions included."""
        self._kernels.rhs(self._p, self._c, self._pf, self._dx, self._scalar(time), self._periodic, state, out)
        if self._faces.active:
            self._faces.compute(state, state, 0.0, time)
            self._faces.apply(out, 1.0)

    def _advance_general(self, n_steps: int) -> None:
        """Any explicit tableau: ``k_i = F(u + dt Σ_j a_ij k_j)``, ``u += dt Σ_i b_i k_i`` (one ``rhs`` pass per stage)."""
        b = [self._scalar(weight * self.dt) for weight in self.scheme.weights]
        for _ in range(n_steps):
            state = self._state
            stages = self.stage_rates(state, self.step * self.dt, self.dt)
            for weight, stage in zip(b, stages):
                if weight:
                    for field, rate in zip(state, stage):
                        field += weight * rate
            self.step += 1
            self.n_steps += 1

    def rates(self, time: float | None = None) -> dict[str, np.ndarray]:
        """Reaction and diffusion parts of the rate of change at the current state (at ``time``, default the step's)."""
        time = self._time() if time is None else self._scalar(time)
        reaction, diffusion = self._allocate(), self._allocate()
        self._kernels.rates(self._p, self._c, self._pf, self._dx, time, self._periodic, self._state,
                            reaction, diffusion)  # fmt: skip
        if self._faces.active:
            self._faces.compute(self._state, self._state, 0.0, time)
            self._faces.apply(diffusion, 1.0)
        return dict(zip(self._rate_names, (*(field.copy() for field in reaction), *(field.copy() for field in diffusion))))


class ETDRK4Stepper(_CpuStepper):
    """ETDRK4 with scipy's transforms and the model's generated reaction kernel.

    On a periodic box the pseudo-spectral scheme: FFT and the spectral Laplacian
    ``-|q|²``. On a box whose sides are periodic, Neumann or Dirichlet (any flux or
    value) the ghost-cell Laplacian of the explicit schemes, made diagonal by cosine
    and sine transforms along the non-periodic axes (:mod:`rd_classic.spectral`); the
    fluxes and values enter as sources at the edge cells, with the reaction. All
    species are stacked ``(N, *shape)`` so that every transform is one batched call
    (per group of species with the same transforms); the reaction is evaluated by a
    generated numba kernel into a preallocated array and the transform-space
    combinations are fused (numba) on flat arrays. The state is kept in physical space
    between :meth:`advance` calls and in transform space within one (8 transforms per
    step); a run's snapshots fall between calls, so a run restarted from a stored
    snapshot continues exactly as the uninterrupted one.

    Parameters
    ----------
    model, grid, dt, dtype, parameter_fields, boundary
        See :func:`make_stepper`.
    """

    def __init__(self, model: Model, grid: Grid, *, dt: float, dtype: str = "float64",
                 parameter_fields: Mapping[str, np.ndarray] | None = None,
                 boundary: BoundaryConditions | None = None):  # fmt: skip

        from rd_classic import kernels_numba
        from rd_classic.ghost_cells import FaceCorrections

        super().__init__(model, grid, dt=dt, dtype=dtype, parameter_fields=parameter_fields, boundary=boundary)
        self._kn = kernels_numba
        self._nonlinear_values = np.empty_like(self._state)
        self._sources = FaceCorrections(model.values, self._c, grid, self.boundary, self.dtype, sources_only=True)
        self._box = None
        if not self.boundary.all_periodic(grid.ndim):
            self._set_up_box()
            return
        q2 = grid.squared_wavenumbers()
        self._laplacian = (-q2).astype(self.dtype)
        coefficients = [etdrk4_coefficients(-diffusion * q2, self.dt) for diffusion in model.diffusion]
        self._flat = {key: np.ascontiguousarray(np.stack([c[key] for c in coefficients]), dtype=self.dtype).reshape(-1)
                      for key in coefficients[0]}  # fmt: skip
        # ducc0's multi-dimensional real transforms (pocketfft's successor): 2.6x scipy.fft's inverse and 1.5x its
        # forward transform on two 512² fields on 2 threads (the FFTs are 85 % of a step; the step 1.26x faster)
        import ducc0

        workers = os.cpu_count() or 1
        shape = grid.shape
        axes = tuple(range(1, len(shape) + 1))
        self._spectral_shape = (model.n_species, *q2.shape)

        def forward(values, out=None):
            return ducc0.fft.r2c(values, axes=axes, nthreads=workers, out=out)

        def inverse(coefficients, out=None, overwrite=False):
            return ducc0.fft.c2r(coefficients, axes=axes, lastsize=shape[-1], forward=False, inorm=2, out=out,
                                 nthreads=workers, allow_overwriting_input=overwrite)  # fmt: skip

        # outputs written in place (no fresh pages per transform); c2r may overwrite the stages it consumes (1.4x
        # faster at 512²: no internal copy)
        self._rfftn, self._irfftn = forward, inverse

    def _set_up_box(self) -> None:
        """Cosine/sine/Fourier transforms per axis and species, the ghost-cell Laplacian's eigenvalues."""
        from rd_classic.spectral import SpectralBox, axis_transforms

        values = {**dict(self.model.values), **self.grid.expression_values()}
        kinds = [axis_transforms(self.grid, self.boundary, name, values) for name in self.model.species]
        if any(kind is None for kind in kinds):
            raise ConfigError("etdrk4 needs every side periodic, Neumann or Dirichlet (a Robin side has no cosine or "
                              "sine transform); use --integrator imex")  # fmt: skip
        self._box = box = SpectralBox(self.grid, kinds)
        self._diffusion_symbol = box.per_species(self.model.diffusion) * box.symbol
        coefficients = etdrk4_coefficients(self._diffusion_symbol, self.dt)
        self._flat = {key: np.ascontiguousarray(value, dtype=self.dtype) for key, value in coefficients.items()}
        complex_dtype = np.result_type(self.dtype, np.complex64)
        coefficient_dtype = complex_dtype if box.complex else self.dtype

        def forward(values, out=None):
            if out is None:
                return box.forward(values).astype(coefficient_dtype, copy=False)
            return box.forward(values, out=out)

        def inverse(coefficients, out=None, overwrite=False):
            return box.inverse(coefficients, out=out)

        self._rfftn, self._irfftn = forward, inverse

    def _allocate(self) -> np.ndarray:
        """The state stacked ``(N, *shape)``: every transform is one batched FFT."""
        return np.zeros((self.model.n_species, *self.grid.shape), self.dtype)

    def _react(self, state, offset: float) -> None:
        self._kernels.reaction_fields(self._p, self._pf, self._dx, self._time(offset), state, self._nonlinear_values)
        if self._sources.active:  # the fluxes and values of the sides, as sources at the edge cells
            self._sources.compute(state, state, 0.0, self._time(offset))
            self._sources.apply(self._nonlinear_values, 1.0)

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps.

        Within one call the state stays in transform space (its transform is computed once, at the start, and the
        physical fields of every step come from the inverse transform the next step's reaction needs anyway): 8
        transforms per step, not 9. Every output goes to a preallocated buffer, and every inverse transform consumes
        (overwrites) its input: the combination that makes a stage writes what the inverse transform may spend and
        keeps, beside it, what is needed later (the third stage's part ``e2 a - q n0``, the new state's transform).
        """
        if n_steps <= 0:
            return
        fft, ifft, kn, c = self._rfftn, self._irfftn, self._kn, self._flat
        values, half = self._nonlinear_values, 0.5 * self.dt
        e, e2, q, f1, f2, f3 = c["E"], c["E2"], c["Q"], c["f1"], c["f2"], c["f3"]
        state = self._state
        x = fft(state)
        n0, na, nb, nc, a, b, partial = (np.empty_like(x) for _ in range(7))
        fx, f0, fa, fb, fc, fa_, fb_, fp = (array.reshape(-1) for array in (x, n0, na, nb, nc, a, b, partial))
        stage = np.empty_like(state)
        for _ in range(n_steps):
            self._react(state, 0.0)
            fft(values, out=n0)
            kn.etd_first(e2, q, fx, f0, fa_, fp)
            self._react(ifft(a, out=stage, overwrite=True), half)
            fft(values, out=na)
            kn.etd_second(e2, q, fx, fa, fb_)
            self._react(ifft(b, out=stage, overwrite=True), half)
            fft(values, out=nb)
            kn.etd_third(q, fb, fp)
            self._react(ifft(partial, out=stage, overwrite=True), self.dt)
            fft(values, out=nc)
            kn.etd_final(e, f1, f2, f3, fx, f0, fa, fb, fc, fb_, fa_)  # the new transform into b, a copy into a
            x, b, fx, fb_ = b, x, fb_, fx
            state = ifft(a, out=state, overwrite=True)  # the old fields are spent
            self.step += 1
            self.n_steps += 1
        self._state = state

    def rates(self) -> dict[str, np.ndarray]:
        """Reaction ``R(u)`` and spectral diffusion ``D ∇²u`` at the current state."""
        self._kernels.reaction_fields(self._p, self._pf, self._dx, self._time(), self._state, self._nonlinear_values)
        reaction = self._nonlinear_values.copy()
        if self._box is not None:
            diffusion = np.ascontiguousarray(self._irfftn(self._rfftn(self._state) * self._diffusion_symbol), dtype=self.dtype)
            if self._sources.active:
                self._sources.compute(self._state, self._state, 0.0, self._time())
                self._sources.apply(diffusion, 1.0)
            return dict(zip(self._rate_names, (*reaction, *diffusion)))
        spectral = self._rfftn(self._state).reshape(self._spectral_shape)
        scale = np.array(self.model.diffusion, dtype=self.dtype).reshape((-1,) + (1,) * len(self.grid.shape)) * self._laplacian
        diffusion = np.asarray(self._irfftn(spectral * scale), dtype=self.dtype)
        return dict(zip(self._rate_names, (*reaction, *diffusion)))
