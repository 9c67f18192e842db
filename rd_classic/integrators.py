"""Time integrators: explicit Runge-Kutta schemes as coefficient tables, and ETDRK4.

A stepper owns the state ``(u, v)`` of one run on one backend and advances it:

>>> stepper = make_stepper(model, grid, dt=1.0, integrator="rk4")  # doctest: +SKIP
>>> stepper.set_state(u0, v0); stepper.advance(100); u, v = stepper.get_state()  # doctest: +SKIP

Explicit schemes (``euler``, ``rk2``, ``rk4``) are *data*: an :class:`ExplicitScheme`
lists the stage offsets and weights of a Runge-Kutta method whose Butcher matrix has
only a sub-diagonal (each stage evaluated at ``u + a_i dt k_{i-1}``); the backends
(:mod:`rd_classic.kernels_numba` fused stencils on the CPU, :mod:`rd_classic.backend_torch`
for torch devices) do the stepping. They use the 5-point Laplacian (3-point in 1-D).

``etdrk4`` is the exponential time-differencing fourth-order Runge-Kutta scheme of
Cox & Matthews (J. Comput. Phys. 176:430, 2002) with the contour-integral
coefficients of Kassam & Trefethen (SIAM J. Sci. Comput. 26:1214, 2005). The
diffusion is treated exactly in Fourier space (spectral Laplacian), so it needs a
periodic grid and has no diffusive step limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.grids import Grid
from rd_classic.models import ReactionDiffusionModel

__all__ = [
    "ExplicitScheme",
    "EXPLICIT_SCHEMES",
    "INTEGRATORS",
    "BACKENDS",
    "DTYPES",
    "largest_stable_dt",
    "make_stepper",
    "NumbaExplicitStepper",
    "ETDRK4Stepper",
    "etdrk4_coefficients",
]


@dataclass(frozen=True)
class ExplicitScheme:
    """An explicit Runge-Kutta method with a sub-diagonal Butcher matrix.

    Parameters
    ----------
    name
        Registry name.
    order
        Order of accuracy in time.
    stage_offsets
        ``a_i`` for stages ``i = 1 .. s-1``: stage ``i`` is evaluated at
        ``u + a_i dt k_{i-1}`` (stage 0 at ``u``).
    weights
        ``b_i`` for the ``s`` stages: ``u_new = u + dt sum_i b_i k_i``.
    stability_radius
        Where the stability region meets the negative real axis: the scheme is
        stable for a real eigenvalue ``λ < 0`` when ``dt |λ| <= stability_radius``.
    """

    name: str
    order: int
    stage_offsets: tuple[float, ...]
    weights: tuple[float, ...]
    stability_radius: float

    @property
    def n_stages(self) -> int:
        """Number of stages."""
        return len(self.weights)


#: explicit schemes by name
EXPLICIT_SCHEMES: dict[str, ExplicitScheme] = {
    scheme.name: scheme
    for scheme in (
        ExplicitScheme("euler", 1, (), (1.0,), 2.0),
        ExplicitScheme("rk2", 2, (0.5,), (0.0, 1.0), 2.0),
        ExplicitScheme("rk4", 4, (0.5, 0.5, 1.0), (1 / 6, 1 / 3, 1 / 3, 1 / 6), 2.785293563405282),
    )
}
#: every integrator name
INTEGRATORS: tuple[str, ...] = (*EXPLICIT_SCHEMES, "etdrk4")
#: array backends: numba (fused CPU kernels), torch (CPU or CUDA), numpy (ETDRK4 only)
BACKENDS: tuple[str, ...] = ("numba", "torch", "numpy")
#: supported floating-point types
DTYPES: tuple[str, ...] = ("float64", "float32")


def largest_stable_dt(
    model: ReactionDiffusionModel,
    grid: Grid,
    integrator: str,
    *,
    state: tuple[float, float] | None = None,
) -> float:
    r"""Largest time step for which an explicit scheme keeps every decaying linear mode decaying.

    Linearised about a homogeneous state :math:`(u^*, v^*)`, a grid mode whose
    discrete-Laplacian eigenvalue is :math:`\mu = -q_h^2` (see
    :meth:`~rd_classic.grids.Grid.laplacian_eigenvalues`) evolves with the two
    eigenvalues :math:`\lambda` of :math:`J(u^*, v^*) + \mu D`, ``D = diag(Du, Dv)``:
    reaction and diffusion together. One step of an explicit Runge-Kutta scheme
    multiplies such a mode by :math:`R(\lambda\,dt)`, the scheme's stability polynomial
    (``1 + z`` for Euler, ``1 + z + z²/2`` for RK2, :math:`\sum_{j \le 4} z^j / j!` for
    RK4; built from the scheme's coefficient table). The limit is the largest ``dt``
    such that :math:`|R(\lambda s)| \le 1` for every ``0 < s <= dt`` and every such
    :math:`\lambda`, found along each ray :math:`\lambda s` to ~1e-12 relative
    (for real :math:`\lambda < 0` it is ``stability_radius / |λ|``: ``2/|λ|`` for Euler).

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
        ``"euler"``, ``"rk2"``, ``"rk4"`` or ``"etdrk4"``.
    state
        The homogeneous state to linearise about. Default: ``model.homogeneous_state()``,
        the state a run starts near (the ``noise`` initial condition perturbs it, and it
        is Gray-Scott's ``u = 1, v = 0`` background of Pearson's set-up). Other steady
        states and the pattern's own values are not checked (the NaN guard catches a
        run that leaves the linear regime unstably); a model without a steady state is
        bounded by its diffusion alone.

    Returns
    -------
    float
        The limit; ``inf`` for ``etdrk4`` (diffusion exact; the explicitly treated
        reaction is not checked) or when no mode constrains the step (e.g. no
        reaction and no diffusion).

    Notes
    -----
    Every mode of the grid is used when the grid has at most ``2**14`` distinct
    ``μ_y + μ_x``; larger grids sample ``μ`` uniformly (4097 points, both ends exact)
    over its range, which contains every mode.
    """
    check_integrator(integrator)
    if integrator == "etdrk4":
        return float("inf")
    scheme = EXPLICIT_SCHEMES[integrator]
    if state is None and model.steady_states():
        state = model.homogeneous_state()
    if state is None:  # no steady state: diffusion alone
        jacobian = np.zeros((2, 2))
    else:
        jacobian = np.asarray(model.jacobian(float(state[0]), float(state[1])), dtype=float)
    eigenvalues = _mode_eigenvalues(jacobian, model.diffusion, _laplacian_modes(grid))
    eigenvalues = eigenvalues[eigenvalues != 0]
    if eigenvalues.size == 0:
        return float("inf")
    # |R| depends on the direction of λ only through the ray; conjugates give the same |R|
    angle = np.abs(np.angle(eigenvalues))
    directions, where = np.unique(angle, return_inverse=True)
    radius = _exit_radius(_stability_polynomial(scheme), directions)[where]
    bounded = radius > _SMALLEST_RADIUS
    if not bounded.any():
        return float("inf")
    return float(np.min(radius[bounded] / np.abs(eigenvalues[bounded])))


#: distinct Laplacian eigenvalues used exactly up to this many; beyond, their range is sampled
_MAX_EXACT_MODES = 1 << 14
#: samples of the Laplacian eigenvalue range on larger grids
_MODE_SAMPLES = 4097
#: exit radii below this count as zero: no positive step keeps the mode from growing
_SMALLEST_RADIUS = 1e-7


def _laplacian_modes(grid: Grid) -> np.ndarray:
    """The discrete Laplacian's eigenvalues ``μ`` (distinct, or a sampling of their range)."""
    along_y, along_x = grid.laplacian_eigenvalues()
    if along_y.size * along_x.size <= _MAX_EXACT_MODES:
        return np.unique(np.add.outer(along_y, along_x))
    lowest = along_y.min() + along_x.min()
    return np.linspace(lowest, 0.0, _MODE_SAMPLES)


def _mode_eigenvalues(jacobian: np.ndarray, diffusion: tuple[float, float], modes: np.ndarray) -> np.ndarray:
    """Both eigenvalues of ``J + μ diag(Du, Dv)`` for every ``μ`` in ``modes`` (complex, flat)."""
    du, dv = diffusion
    a = jacobian[0, 0] + modes * du
    d = jacobian[1, 1] + modes * dv
    half_trace = (a + d) / 2.0
    root = np.sqrt(((a - d) ** 2 / 4.0 + jacobian[0, 1] * jacobian[1, 0]).astype(complex))
    return np.concatenate([half_trace + root, half_trace - root])


def _stability_polynomial(scheme: ExplicitScheme) -> np.ndarray:
    """Coefficients (lowest degree first) of ``R(z)``: one step of ``y' = λ y`` is ``y R(λ dt)``.

    From the coefficient table: ``k_0 = z``, ``k_i = z (1 + a_i k_{i-1})``,
    ``R = 1 + Σ b_i k_i`` (``y = 1``, ``dt = 1``).
    """
    from numpy.polynomial import polynomial

    z = np.array([0.0, 1.0])
    stage = z
    total = polynomial.polyadd([1.0], scheme.weights[0] * stage)
    for offset, weight in zip(scheme.stage_offsets, scheme.weights[1:]):
        stage = polynomial.polymul(z, polynomial.polyadd([1.0], offset * stage))
        total = polynomial.polyadd(total, weight * stage)
    return np.trim_zeros(total, "b")


def _exit_radius(coefficients: np.ndarray, angles: np.ndarray) -> np.ndarray:
    """For each ray ``z = r e^{iθ}``: the largest ``r`` with ``|R(s e^{iθ})| <= 1`` for all ``s <= r``.

    ``|R(r e^{iθ})|² - 1 = r Q(r)`` with ``Q(r) = Σ_n a_n r^{n-1}``,
    ``a_n = Σ_{j+k=n} c_j c_k cos((j - k) θ)``; ``Q`` is evaluated from its
    coefficients (no cancellation near ``r = 0``) on a scan of radii, and its first
    sign change is refined by bisection. ``0`` where ``Q > 0`` from the start (the ray
    leaves the stability region at once).
    """
    c = np.asarray(coefficients, dtype=float)
    degree = c.size - 1
    angles = np.asarray(angles, dtype=float)
    a = np.zeros((angles.size, 2 * degree + 1))
    size = np.zeros(2 * degree + 1)  # Σ |c_j c_k|: the scale of a_n's rounding error
    for j in range(degree + 1):
        for k in range(degree + 1):
            a[:, j + k] += c[j] * c[k] * np.cos((j - k) * angles)
            size[j + k] += abs(c[j] * c[k])
    a[np.abs(a) <= 1e-13 * size] = 0.0  # cancelled to rounding: exactly zero (e.g. a_1 = 2 cos θ at θ = π/2)
    q_coefficients = a[:, 1:]  # drop n = 0 (the 1 of |R|²), divide by r

    def unstable(r: np.ndarray) -> np.ndarray:  # r: (rays, radii)
        value = np.zeros(r.shape)
        for n in range(q_coefficients.shape[1] - 1, -1, -1):  # Horner
            value = value * r + q_coefficients[:, n, None]
        return value > 0.0

    r_max = 2.0 * degree**2 + 2.0  # beyond every explicit RK stability region of this degree
    scan = np.geomspace(_SMALLEST_RADIUS / 10, r_max, 600)
    exits = unstable(np.broadcast_to(scan, (angles.size, scan.size)))
    exits[:, -1] = True
    first = np.argmax(exits, axis=1)
    low = np.where(first > 0, scan[np.maximum(first - 1, 0)], 0.0)
    high = scan[first]
    for _ in range(60):
        middle = 0.5 * (low + high)
        bad = unstable(middle[:, None])[:, 0]
        high = np.where(bad, middle, high)
        low = np.where(bad, low, middle)
    return low


def check_integrator(integrator: str) -> None:
    """Raise :class:`ConfigError` listing the valid integrators if ``integrator`` is unknown."""
    if integrator not in INTEGRATORS:
        raise ConfigError(f"unknown integrator {integrator!r}; valid integrators: {', '.join(INTEGRATORS)}")


def make_stepper(
    model: ReactionDiffusionModel,
    grid: Grid,
    *,
    dt: float,
    integrator: str = "euler",
    backend: str = "numba",
    device: str = "cpu",
    dtype: str = "float64",
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
        ``"euler"``, ``"rk2"``, ``"rk4"`` or ``"etdrk4"``.
    backend
        ``"numba"`` (explicit schemes on the CPU), ``"torch"`` (any scheme, ``device``
        ``"cpu"`` or ``"cuda"``), ``"numpy"`` (``etdrk4`` with scipy's FFT). ``etdrk4``
        with ``"numba"`` runs on ``"numpy"``.
    device
        Torch device name; the numba and numpy backends need ``"cpu"``.
    dtype
        ``"float64"`` or ``"float32"``.

    Returns
    -------
    object
        A stepper with ``set_state(u, v)``, ``get_state()``, ``advance(n_steps)``,
        ``rates()`` (reaction and diffusion parts) and ``n_steps`` taken.

    Raises
    ------
    ConfigError
        Unknown integrator/backend/dtype, bad ``dt``, ``etdrk4`` on a no-flux grid,
        a CUDA device without the torch backend.
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
    if integrator == "etdrk4":
        if not grid.periodic:
            raise ConfigError("etdrk4 is spectral and needs --boundary periodic (use euler or rk4 for no-flux)")
        return ETDRK4Stepper(model, grid, dt=dt, dtype=dtype, backend="torch" if backend == "torch" else "numpy",
                             device=device)  # fmt: skip
    scheme = EXPLICIT_SCHEMES[integrator]
    if backend == "torch":
        from rd_classic.backend_torch import TorchExplicitStepper

        return TorchExplicitStepper(model, grid, scheme, dt=dt, dtype=dtype, device=device)
    if backend == "numpy":
        raise ConfigError(f"the numpy backend runs only etdrk4; use numba or torch for {integrator}")
    return NumbaExplicitStepper(model, grid, scheme, dt=dt, dtype=dtype)


class NumbaExplicitStepper:
    """Explicit Runge-Kutta on the fused CPU kernels of :mod:`rd_classic.kernels_numba`.

    Parameters
    ----------
    model, grid, scheme, dt, dtype
        See :func:`make_stepper`.
    """

    def __init__(self, model: ReactionDiffusionModel, grid: Grid, scheme: ExplicitScheme, *, dt: float, dtype: str):
        from rd_classic import kernels_numba

        self.model, self.grid, self.scheme, self.dt = model, grid, scheme, float(dt)
        self.dtype = np.dtype(dtype)
        self.n_steps = 0
        # kernels specialised for this model's reaction and dtype; scalars cast to the
        # dtype so that float32 runs compute in float32
        self._kernels = kernels_numba.kernels_for(model.kernel_id, self.dtype)
        self._p = model.kernel_parameters().astype(self.dtype)
        du, dv = model.diffusion
        inv_dx2 = 1.0 / grid.dx**2
        self._cu, self._cv = kernels_numba.cast_scalars(self.dtype, du * inv_dx2, dv * inv_dx2)
        self._periodic = grid.periodic
        self._dt_cast = kernels_numba.cast_scalars(self.dtype, self.dt)[0]
        self._weights = kernels_numba.cast_scalars(self.dtype, *scheme.weights)
        self._offsets_dt = kernels_numba.cast_scalars(self.dtype, *(a * self.dt for a in scheme.stage_offsets))
        self._zero = kernels_numba.cast_scalars(self.dtype, 0.0)[0]
        shape = grid.shape
        self._u = np.zeros(shape, self.dtype)
        self._v = np.zeros(shape, self.dtype)
        if scheme.n_stages == 1:
            self._halo, self._work = kernels_numba.euler_buffers(shape, self.dtype)
        else:
            self._u_out = np.empty(shape, self.dtype)
            self._v_out = np.empty(shape, self.dtype)
            self._k = [np.empty(shape, self.dtype) for _ in range(4)]  # (ku, kv) ping-pong pairs
            self._acc_u = np.empty(shape, self.dtype)
            self._acc_v = np.empty(shape, self.dtype)

    def set_state(self, u: np.ndarray, v: np.ndarray) -> None:
        """Set the fields (copied, cast to the stepper's dtype)."""
        self._u[...] = u
        self._v[...] = v

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the current fields."""
        return self._u.copy(), self._v.copy()

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        p, cu, cv, dt, periodic = self._p, self._cu, self._cv, self._dt_cast, self._periodic
        scheme, weights, offsets_dt = self.scheme, self._weights, self._offsets_dt
        if scheme.n_stages == 1:
            euler_step = self._kernels["euler_step"]
            u, v, halo, work = self._u, self._v, self._halo, self._work
            for _ in range(n_steps):
                euler_step(p, cu, cv, dt, periodic, u, v, halo, work)  # in place
                self.n_steps += 1
            return
        rk_stage, rk_final_stage = self._kernels["rk_stage"], self._kernels["rk_final_stage"]
        for _ in range(n_steps):
            u, v, u_out, v_out = self._u, self._v, self._u_out, self._v_out
            ku_prev, kv_prev, ku_out, kv_out = self._k
            acc_u, acc_v = self._acc_u, self._acc_v
            # stage 0 at u itself (k argument unused: a_dt = 0)
            rk_stage(p, cu, cv, periodic, u, v, u, v, self._zero, ku_out, kv_out, acc_u, acc_v, weights[0], True)
            for stage in range(1, scheme.n_stages - 1):
                ku_prev, kv_prev, ku_out, kv_out = ku_out, kv_out, ku_prev, kv_prev
                rk_stage(p, cu, cv, periodic, u, v, ku_prev, kv_prev, offsets_dt[stage - 1],
                         ku_out, kv_out, acc_u, acc_v, weights[stage], False)  # fmt: skip
            rk_final_stage(p, cu, cv, periodic, u, v, ku_out, kv_out, offsets_dt[-1],
                           acc_u, acc_v, weights[-1], dt, u_out, v_out)  # fmt: skip
            self._u, self._u_out = u_out, u
            self._v, self._v_out = v_out, v
            self.n_steps += 1

    def rates(self) -> dict[str, np.ndarray]:
        """Reaction and diffusion parts of the rate of change at the current state."""
        out = {name: np.empty(self.grid.shape, self.dtype) for name in RATE_NAMES}
        self._kernels["rates"](self._p, self._cu, self._cv, self._periodic,
                               self._u, self._v, *(out[name] for name in RATE_NAMES))  # fmt: skip
        return out


#: names of the rate fields, in the order the kernels write them
RATE_NAMES = ("reaction_u", "reaction_v", "diffusion_u", "diffusion_v")


def etdrk4_coefficients(linear: np.ndarray, dt: float, n_contour: int = 32) -> dict[str, np.ndarray]:
    """ETDRK4 coefficients for a diagonal linear operator (Kassam & Trefethen 2005).

    The functions ``(e^z - 1)/z`` and the three ``f_i(z)`` suffer cancellation near
    ``z = 0``; they are evaluated as means over ``n_contour`` points on a circle of
    radius 1 around each ``z = dt L``.

    Parameters
    ----------
    linear
        The diagonal of the linear operator ``L`` (real, e.g. ``-D |q|²``).
    dt
        Time step.
    n_contour
        Number of contour points (32 gives full double precision for ``|z|`` up to ~ 10⁴).

    Returns
    -------
    dict
        ``E = e^{L dt}``, ``E2 = e^{L dt/2}``, ``Q``, ``f1``, ``f2``, ``f3`` (real arrays
        of ``linear``'s shape), so that one step reads
        ``a = E2 v + Q N(v)``, ..., ``v_new = E v + f1 N(v) + 2 f2 (N(a) + N(b)) + f3 N(c)``.
    """
    z = dt * np.asarray(linear, dtype=np.float64)
    q = np.zeros_like(z)
    f1 = np.zeros_like(z)
    f2 = np.zeros_like(z)
    f3 = np.zeros_like(z)
    for j in range(1, n_contour + 1):
        r = np.exp(1j * np.pi * (j - 0.5) / n_contour)
        lr = z + r
        exp_lr = np.exp(lr)
        q += ((np.exp(lr / 2) - 1.0) / lr).real
        f1 += ((-4.0 - lr + exp_lr * (4.0 - 3.0 * lr + lr * lr)) / lr**3).real
        f2 += ((2.0 + lr + exp_lr * (-2.0 + lr)) / lr**3).real
        f3 += ((-4.0 - 3.0 * lr - lr * lr + exp_lr * (4.0 - lr)) / lr**3).real
    scale = dt / n_contour
    return {
        "E": np.exp(z),
        "E2": np.exp(z / 2),
        "Q": q * scale,
        "f1": f1 * scale,
        "f2": f2 * scale,
        "f3": f3 * scale,
    }


class ETDRK4Stepper:
    """Spectral ETDRK4 on a periodic grid (numpy/scipy FFT, or torch on any device).

    The state is kept in physical space between steps (one extra FFT per step), so a
    run restarted from a stored snapshot continues exactly as the uninterrupted one.

    Parameters
    ----------
    model, grid, dt, dtype
        See :func:`make_stepper`.
    backend
        ``"numpy"`` or ``"torch"``.
    device
        Torch device (torch backend only).
    """

    def __init__(self, model: ReactionDiffusionModel, grid: Grid, *, dt: float, dtype: str = "float64",
                 backend: str = "numpy", device: str = "cpu"):  # fmt: skip
        self.model, self.grid, self.dt = model, grid, float(dt)
        self.dtype = np.dtype(dtype)
        self.n_steps = 0
        self.backend = backend
        qy, qx = grid.angular_wavenumbers()
        q2 = qy[:, None] ** 2 + qx[None, :] ** 2
        du, dv = model.diffusion
        coefficients = [etdrk4_coefficients(-diffusion * q2, self.dt) for diffusion in (du, dv)]
        laplacian = -q2
        if backend == "torch":
            import torch

            self._torch = torch
            self._device = torch.device(device)
            torch_dtype = getattr(torch, dtype)

            def convert(array):
                return torch.as_tensor(array, dtype=torch_dtype, device=self._device)

            self._fft = torch.fft.rfft2
            self._ifft = lambda values: torch.fft.irfft2(values, s=grid.shape)
        else:
            import scipy.fft

            workers = os.cpu_count() or 1

            def convert(array):
                return np.asarray(array, dtype=self.dtype)

            self._fft = lambda values: scipy.fft.rfft2(values, workers=workers)
            self._ifft = lambda values: scipy.fft.irfft2(values, s=grid.shape, workers=workers)
        self._convert = convert
        self._coefficients = [{key: convert(value) for key, value in c.items()} for c in coefficients]
        self._laplacian = convert(laplacian)
        self._u = convert(np.zeros(grid.shape))
        self._v = convert(np.zeros(grid.shape))
        if backend != "torch":
            self._setup_fused(model, grid, coefficients, workers)

    def _setup_fused(self, model, grid, coefficients, workers) -> None:
        # numpy backend: both fields stacked as (2, ny, nx) so that every FFT is one
        # batched rfft2/irfft2 call, the reaction evaluated by a fused numba kernel
        # into a preallocated array, and the Fourier-space combinations fused (numba)
        # on flat arrays with the coefficients stacked once
        import scipy.fft

        from rd_classic import kernels_numba

        self._kn = kernels_numba
        self._reaction_kernel = kernels_numba.reaction_kernel(model.kernel_id, self.dtype)
        self._p = model.kernel_parameters().astype(self.dtype)
        shape = grid.shape
        self._uv = np.zeros((2, *shape), self.dtype)
        self._u, self._v = self._uv[0], self._uv[1]
        self._nonlinear_values = np.empty((2, *shape), self.dtype)
        self._flat = {key: np.ascontiguousarray(np.stack([c[key] for c in coefficients]), dtype=self.dtype).reshape(-1)
                      for key in coefficients[0]}  # fmt: skip
        self._spectral_shape = (2, shape[0], shape[1] // 2 + 1)
        self._rfft2 = lambda values: scipy.fft.rfft2(values, axes=(-2, -1), workers=workers).reshape(-1)
        self._irfft2 = lambda values: scipy.fft.irfft2(values.reshape(self._spectral_shape), s=shape, axes=(-2, -1),
                                                       workers=workers)  # fmt: skip

    def set_state(self, u: np.ndarray, v: np.ndarray) -> None:
        """Set the fields (cast to the stepper's dtype)."""
        if self.backend != "torch":
            self._uv[0] = u
            self._uv[1] = v
            return
        self._u = self._convert(np.asarray(u, dtype=self.dtype).copy())
        self._v = self._convert(np.asarray(v, dtype=self.dtype).copy())

    def get_state(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the current fields as NumPy arrays."""
        return _to_numpy(self._u, self.dtype), _to_numpy(self._v, self.dtype)

    def _nonlinear(self, u, v):
        f, g = self.model.reaction(u, v)
        return self._fft(f), self._fft(g)

    def _advance_fused(self, n_steps: int) -> None:
        fft, ifft, kn, c = self._rfft2, self._irfft2, self._kn, self._flat
        react, p, values = self._reaction_kernel, self._p, self._nonlinear_values
        e, e2, q = c["E"], c["E2"], c["Q"]
        uv = self._uv
        for _ in range(n_steps):
            x = fft(uv)
            react(p, uv, values)
            n0 = fft(values)
            a = np.empty_like(x)
            kn.etd_stage(e2, q, x, n0, n0, False, a)
            react(p, ifft(a), values)
            na = fft(values)
            b = np.empty_like(x)
            kn.etd_stage(e2, q, x, na, n0, False, b)
            react(p, ifft(b), values)
            nb = fft(values)
            kn.etd_stage(e2, q, a, nb, n0, True, b)  # b's values are no longer needed: c into b
            react(p, ifft(b), values)
            nc = fft(values)
            kn.etd_final(e, c["f1"], c["f2"], c["f3"], x, n0, na, nb, nc, a)
            uv = ifft(a)
            self.n_steps += 1
        self._uv = np.ascontiguousarray(uv, dtype=self.dtype)
        self._u, self._v = self._uv[0], self._uv[1]

    def advance(self, n_steps: int) -> None:
        """Take ``n_steps`` steps."""
        if self.backend != "torch":
            self._advance_fused(n_steps)
            return
        cu, cv = self._coefficients
        fft, ifft = self._fft, self._ifft
        for _ in range(n_steps):
            u_hat, v_hat = fft(self._u), fft(self._v)
            nu, nv = self._nonlinear(self._u, self._v)
            au_hat = cu["E2"] * u_hat + cu["Q"] * nu
            av_hat = cv["E2"] * v_hat + cv["Q"] * nv
            nau, nav = self._nonlinear(ifft(au_hat), ifft(av_hat))
            bu_hat = cu["E2"] * u_hat + cu["Q"] * nau
            bv_hat = cv["E2"] * v_hat + cv["Q"] * nav
            nbu, nbv = self._nonlinear(ifft(bu_hat), ifft(bv_hat))
            cu_hat = cu["E2"] * au_hat + cu["Q"] * (2.0 * nbu - nu)
            cv_hat = cv["E2"] * av_hat + cv["Q"] * (2.0 * nbv - nv)
            ncu, ncv = self._nonlinear(ifft(cu_hat), ifft(cv_hat))
            u_hat = cu["E"] * u_hat + cu["f1"] * nu + 2.0 * cu["f2"] * (nau + nbu) + cu["f3"] * ncu
            v_hat = cv["E"] * v_hat + cv["f1"] * nv + 2.0 * cv["f2"] * (nav + nbv) + cv["f3"] * ncv
            self._u, self._v = ifft(u_hat), ifft(v_hat)
            self.n_steps += 1

    def rates(self) -> dict[str, np.ndarray]:
        """Reaction ``f(u, v)`` and spectral diffusion ``D ∇²u`` at the current state."""
        du, dv = self.model.diffusion
        f, g = self.model.reaction(self._u, self._v)
        diffusion_u = self._ifft(du * self._laplacian * self._fft(self._u))
        diffusion_v = self._ifft(dv * self._laplacian * self._fft(self._v))
        values = (f, g, diffusion_u, diffusion_v)
        return {name: _to_numpy(value, self.dtype) for name, value in zip(RATE_NAMES, values)}


def _to_numpy(values, dtype: np.dtype) -> np.ndarray:
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.array(values, dtype=dtype, copy=True)
