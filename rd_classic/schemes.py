"""Time-stepping schemes as data: Butcher tableaux, stability polynomials, ETDRK4 coefficients.

A scheme is its coefficient table, apart from the backends that run it
(:mod:`rd_classic.integrators` for NumPy/numba, :mod:`rd_classic.backend_torch`):

* :class:`ExplicitScheme` — an explicit Runge-Kutta method, its Butcher tableau
  ``(A, b, c)`` (``A`` strictly lower triangular). The fused numba kernels run the
  tableaux whose ``A`` has only a sub-diagonal (each stage at ``u + a_i dt k_{i-1}``:
  Euler, the midpoint RK2, classic RK4); full tableaux run one right-hand side per
  stage. An **embedded pair** has a second weight row ``b̂`` of lower order: ``rk23``
  (Bogacki & Shampine, Appl. Math. Lett. 2:321, 1989; 3rd order, error estimate of
  2nd) and ``rk45`` (Dormand & Prince, J. Comput. Appl. Math. 6:19, 1980; 5th order,
  estimate of 4th), both first-same-as-last; :mod:`rd_classic.adaptive` controls
  their step.
* :func:`stability_polynomial` and :func:`exit_radius` — what one step does to a
  linear mode ``y' = λ y``, used for the explicit step limit.
* :func:`etdrk4_coefficients` — the exponential time differencing RK4 of Cox &
  Matthews (J. Comput. Phys. 176:430, 2002) with the contour-integral coefficients of
  Kassam & Trefethen (SIAM J. Sci. Comput. 26:1214, 2005).
* Noise (:mod:`rd_classic.noise`): ``euler`` is then Euler–Maruyama (Itô), and
  ``milstein`` adds Milstein's correction for diagonal noise (strong order 1); both step
  the deterministic part as Euler does.
* :class:`IMEXScheme` — an implicit-explicit Runge-Kutta pair (the reaction explicit,
  the diffusion implicit): ``imex`` is Ascher, Ruuth & Spiteri's L-stable, stiffly
  accurate ARS(2,2,2) (Appl. Numer. Math. 25:151, 1997, §2.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

__all__ = [
    "ExplicitScheme",
    "EXPLICIT_SCHEMES",
    "INTEGRATORS",
    "BACKENDS",
    "DTYPES",
    "check_integrator",
    "rate_names",
    "stability_polynomial",
    "reaction_polynomial",
    "exit_radius",
    "etdrk4_coefficients",
    "IMEXScheme",
    "IMEX_SCHEMES",
    "NOISE_INTEGRATORS",
    "ADAPTIVE_SCHEMES",
    "SMALLEST_RADIUS",
]


@dataclass(frozen=True)
class ExplicitScheme:
    """An explicit Runge-Kutta method given by its Butcher tableau.

    Parameters
    ----------
    name
        Registry name.
    order
        Order of accuracy in time.
    a
        The tableau's ``A`` as rows (strictly lower triangular, ``s × s``).
    weights
        ``b_i``: ``u_new = u + dt Σ_i b_i k_i``.
    stability_radius
        Where the stability region meets the negative real axis: the scheme is
        stable for a real eigenvalue ``λ < 0`` when ``dt |λ| <= stability_radius``.
    embedded_weights, embedded_order
        An embedded pair's second weight row ``b̂`` and its order: ``dt Σ (b_i - b̂_i) k_i``
        estimates the step's local error (None: no estimate, fixed steps only).
    """

    name: str
    order: int
    a: tuple[tuple[float, ...], ...]
    weights: tuple[float, ...]
    stability_radius: float
    embedded_weights: tuple[float, ...] | None = None
    embedded_order: int | None = None

    def __post_init__(self) -> None:
        s = len(self.weights)
        if len(self.a) != s or any(len(row) != s for row in self.a):
            raise ValueError(f"{self.name}: A must be {s} x {s}")
        if any(self.a[i][j] != 0 for i in range(s) for j in range(i, s)):
            raise ValueError(f"{self.name}: an explicit scheme's A is strictly lower triangular")

    @classmethod
    def subdiagonal(cls, name: str, order: int, offsets: tuple[float, ...], weights: tuple[float, ...],
                    stability_radius: float) -> ExplicitScheme:  # fmt: skip
        """A scheme whose stage ``i`` is evaluated at ``u + a_i dt k_{i-1}`` (``offsets`` = ``a_1 .. a_{s-1}``)."""
        s = len(weights)
        a = [[0.0] * s for _ in range(s)]
        for i, offset in enumerate(offsets, start=1):
            a[i][i - 1] = offset
        return cls(name, order, tuple(tuple(row) for row in a), tuple(weights), stability_radius)

    @property
    def n_stages(self) -> int:
        """Number of stages."""
        return len(self.weights)

    @property
    def nodes(self) -> tuple[float, ...]:
        """``c_i = Σ_j a_ij``: stage ``i`` is evaluated at time ``t + c_i dt``."""
        return tuple(float(sum(row)) for row in self.a)

    @property
    def is_subdiagonal(self) -> bool:
        """Whether only ``a_{i, i-1}`` are nonzero (what the fused kernels run)."""
        return all(self.a[i][j] == 0 for i in range(self.n_stages) for j in range(i - 1))

    @property
    def stage_offsets(self) -> tuple[float, ...]:
        """``a_{i, i-1}`` for stages ``i = 1 .. s-1`` (the sub-diagonal)."""
        return tuple(self.a[i][i - 1] for i in range(1, self.n_stages))

    @property
    def adaptive(self) -> bool:
        """Whether the scheme estimates its error (an embedded pair)."""
        return self.embedded_weights is not None

    @property
    def first_same_as_last(self) -> bool:
        """Whether the last stage is evaluated at the step's result (it is then the next step's first stage)."""
        return abs(self.nodes[-1] - 1.0) < 1e-12 and tuple(self.a[-1]) == tuple(self.weights)


_DORMAND_PRINCE_A = (
    (0.0,) * 7,
    (1 / 5,) + (0.0,) * 6,
    (3 / 40, 9 / 40) + (0.0,) * 5,
    (44 / 45, -56 / 15, 32 / 9) + (0.0,) * 4,
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729) + (0.0,) * 3,
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656) + (0.0,) * 2,
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84, 0.0),
)
_DORMAND_PRINCE_B = _DORMAND_PRINCE_A[-1]
#: explicit schemes by name
EXPLICIT_SCHEMES: dict[str, ExplicitScheme] = {
    scheme.name: scheme
    for scheme in (
        ExplicitScheme.subdiagonal("euler", 1, (), (1.0,), 2.0),
        ExplicitScheme.subdiagonal("rk2", 2, (0.5,), (0.0, 1.0), 2.0),
        ExplicitScheme.subdiagonal("rk4", 4, (0.5, 0.5, 1.0), (1 / 6, 1 / 3, 1 / 3, 1 / 6), 2.785293563405282),
        ExplicitScheme("rk23", 3, ((0.0, 0.0, 0.0, 0.0), (0.5, 0.0, 0.0, 0.0), (0.0, 0.75, 0.0, 0.0),
                                   (2 / 9, 1 / 3, 4 / 9, 0.0)), (2 / 9, 1 / 3, 4 / 9, 0.0), 2.5127453266183286,
                       (7 / 24, 1 / 4, 1 / 3, 1 / 8), 2),
        ExplicitScheme("rk45", 5, _DORMAND_PRINCE_A, _DORMAND_PRINCE_B, 3.3065678926349467,
                       (5179 / 57600, 0.0, 7571 / 16695, 393 / 640, -92097 / 339200, 187 / 2100, 1 / 40), 4),
    )
}
@dataclass(frozen=True)
class IMEXScheme:
    """An implicit-explicit Runge-Kutta scheme: an explicit tableau for the reaction, a diagonally implicit one
    for the diffusion, on the same nodes.

    Stage ``i`` solves ``(1 - a_ii dt L) U_i = u + dt Σ_{j<i} (â_ij N(U_j) + a_ij L U_j)`` (``L`` the
    diffusion, ``N`` the reaction); ``u_new = u + dt Σ_i (b̂_i N(U_i) + b_i L U_i)``, which is the last
    stage when the scheme is stiffly accurate.

    Parameters
    ----------
    name, order
        Registry name and order of accuracy.
    explicit_a, explicit_weights
        ``â`` (strictly lower triangular) and ``b̂``.
    implicit_a, implicit_weights
        ``a`` (lower triangular) and ``b``.
    """

    name: str
    order: int
    explicit_a: tuple[tuple[float, ...], ...]
    explicit_weights: tuple[float, ...]
    implicit_a: tuple[tuple[float, ...], ...]
    implicit_weights: tuple[float, ...]

    @property
    def n_stages(self) -> int:
        """Number of stages."""
        return len(self.explicit_weights)

    @property
    def nodes(self) -> tuple[float, ...]:
        """``c_i``: stage ``i`` is at ``t + c_i dt`` (the row sums of either tableau)."""
        return tuple(float(sum(row)) for row in self.implicit_a)

    @property
    def stiffly_accurate(self) -> bool:
        """Whether both weight rows are the tableaux' last rows (the step's result is the last stage)."""
        return self.implicit_weights == self.implicit_a[-1] and self.explicit_weights == self.explicit_a[-1]


def _ars222() -> IMEXScheme:
    gamma = 1.0 - 1.0 / np.sqrt(2.0)
    delta = 1.0 - 1.0 / (2.0 * gamma)
    return IMEXScheme("imex", 2, ((0.0, 0.0, 0.0), (gamma, 0.0, 0.0), (delta, 1.0 - delta, 0.0)), (delta, 1.0 - delta, 0.0),
                      ((0.0, 0.0, 0.0), (0.0, gamma, 0.0), (0.0, 1.0 - gamma, gamma)), (0.0, 1.0 - gamma, gamma))  # fmt: skip


#: implicit-explicit schemes by name
IMEX_SCHEMES: dict[str, IMEXScheme] = {scheme.name: scheme for scheme in (_ars222(),)}
#: the embedded pairs: their step is chosen by the error estimate (--rtol, --atol)
ADAPTIVE_SCHEMES: tuple[str, ...] = tuple(name for name, scheme in EXPLICIT_SCHEMES.items() if scheme.adaptive)
#: the integrators of a run with noise: Euler–Maruyama and Milstein
NOISE_INTEGRATORS: tuple[str, ...] = ("euler", "milstein")
#: every integrator name
INTEGRATORS: tuple[str, ...] = (*EXPLICIT_SCHEMES, "etdrk4", *IMEX_SCHEMES, "milstein")
#: array backends: numba (fused CPU kernels), torch (CPU or CUDA), numpy (ETDRK4 only)
BACKENDS: tuple[str, ...] = ("numba", "torch", "numpy")
#: supported floating-point types
DTYPES: tuple[str, ...] = ("float64", "float32")
#: exit radii below this count as zero: no positive step keeps the mode from growing
SMALLEST_RADIUS = 1e-7


def check_integrator(integrator: str) -> None:
    """Raise :class:`ConfigError` listing the valid integrators if ``integrator`` is unknown."""
    if integrator not in INTEGRATORS:
        raise ConfigError(f"unknown integrator {integrator!r}; valid integrators: {', '.join(INTEGRATORS)}")


def rate_names(species: tuple[str, ...]) -> list[str]:
    """Names of the rate fields a stepper reports: ``reaction_<s>`` for every species, then ``diffusion_<s>``."""
    return [f"reaction_{name}" for name in species] + [f"diffusion_{name}" for name in species]


def stability_polynomial(scheme: ExplicitScheme) -> np.ndarray:
    """Coefficients (lowest degree first) of ``R(z)``: one step of ``y' = λ y`` is ``y R(λ dt)``.

    From the tableau: ``R(z) = 1 + z bᵀ (I - z A)⁻¹ 1 = 1 + Σ_j z^{j+1} bᵀ A^j 1``
    (``A`` is nilpotent, so the sum ends at ``j = s - 1``).
    """
    return _tableau_polynomial(scheme.a, scheme.weights)


def reaction_polynomial(integrator: str) -> np.ndarray:
    """``R(z)`` of the explicitly treated reaction of ``etdrk4`` or an IMEX scheme, on a mode without diffusion.

    The uniform mode has no diffusion, so one step of ``y' = λ y`` there is the explicit part alone:
    classic RK4 for ETDRK4 (Cox & Matthews' scheme with ``L = 0``), the explicit tableau ``(â, b̂)``
    for an IMEX scheme (``1 + z + z²/2`` for ARS(2,2,2)).
    """
    if integrator == "etdrk4":
        return stability_polynomial(EXPLICIT_SCHEMES["rk4"])
    scheme = IMEX_SCHEMES[integrator]
    return _tableau_polynomial(scheme.explicit_a, scheme.explicit_weights)


def _tableau_polynomial(a, weights) -> np.ndarray:
    """``1 + Σ_j z^{j+1} bᵀ A^j 1`` of a strictly lower triangular tableau."""
    a = np.array(a, dtype=float)
    b = np.array(weights, dtype=float)
    coefficients = [1.0]
    power = np.ones(b.size)
    for _ in range(b.size):
        coefficients.append(float(b @ power))
        power = a @ power
    return np.trim_zeros(np.array(coefficients), "b")


def exit_radius(coefficients: np.ndarray, angles: np.ndarray) -> np.ndarray:
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
    scan = np.geomspace(SMALLEST_RADIUS / 10, r_max, 600)
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
