"""Parameters and macroscopic state of the solvable high-dimensional GAN.

The model (Wang, Hu & Lu, "A Solvable High-Dimensional Model of GAN", NeurIPS 2019, with the
concrete choices documented in ``docs/gan_dynamics.md``):

.. math::

    y_k = U c_k + \\sqrt{\\eta_T}\\, a_k, \\qquad
    \\tilde y_k = V \\tilde c_k + \\sqrt{\\eta_G}\\, \\tilde a_k, \\qquad
    D(y) = \\tfrac12 (y^\\top w)^2,

with :math:`c_k \\sim N(0, \\Lambda_T)`, :math:`\\tilde c_k \\sim N(0, \\Lambda_G)`,
:math:`U \\in R^{n\\times d}` orthonormal (the planted features), :math:`V \\in R^{n\\times d}` with unit
columns (the generator) and a unit discriminator vector :math:`w`. The macroscopic state is the set
of overlaps :math:`P = U^\\top V`, :math:`q = U^\\top w`, :math:`r = V^\\top w`, :math:`S = V^\\top V`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from rdnet.errors import ConfigError

__all__ = ["GanModel", "OverlapState", "initial_state"]


def _as_positive_tuple(values, name: str) -> tuple[float, ...]:
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if array.ndim != 1 or array.size == 0:
        raise ConfigError(f"{name} must be a non-empty list of numbers, got {values!r}")
    if not np.all(np.isfinite(array)) or np.any(array <= 0):
        raise ConfigError(f"{name} must be positive and finite, got {array.tolist()}")
    return tuple(float(v) for v in array)


@dataclass(frozen=True)
class GanModel:
    """Learning rates, feature strengths and noise levels of the solvable GAN.

    Parameters
    ----------
    tau_d : float
        Discriminator learning rate :math:`\\tau` (the step is :math:`\\tau/n`).
    tau_g : float
        Generator learning rate :math:`\\tilde\\tau` (the step is :math:`\\tilde\\tau/n`).
    lambda_real : tuple of float
        Feature strengths :math:`\\Lambda_T = \\mathrm{diag}(\\lambda_1, \\dots, \\lambda_d)` of the real data.
    lambda_gen : tuple of float
        Feature strengths :math:`\\Lambda_G` of the generator (same length as ``lambda_real``).
    noise_real : float
        Noise variance :math:`\\eta_T` of the real data.
    noise_gen : float
        Noise variance :math:`\\eta_G` of the generator.

    Raises
    ------
    ConfigError
        If a rate or strength is not positive, a noise is negative, or the lengths differ.

    Examples
    --------
    >>> model = GanModel.copy_model(tau_d=0.2, tau_g=0.04, lambdas=(3.0,), noise=2.0)
    >>> model.features
    1
    """

    tau_d: float
    tau_g: float
    lambda_real: tuple[float, ...]
    lambda_gen: tuple[float, ...]
    noise_real: float
    noise_gen: float

    def __post_init__(self) -> None:
        for name in ("tau_d", "tau_g"):
            value = getattr(self, name)
            if not np.isfinite(value) or value <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be a positive number, got {value}")
            object.__setattr__(self, name, float(value))
        for name in ("noise_real", "noise_gen"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ConfigError(f"{name.replace('_', '-')} (a noise variance) must be >= 0, got {value}")
            object.__setattr__(self, name, float(value))
        real = _as_positive_tuple(self.lambda_real, "lambda (real feature strengths)")
        gen = _as_positive_tuple(self.lambda_gen, "lambda (generator feature strengths)")
        if len(real) != len(gen):
            raise ConfigError(
                f"lambda_real has {len(real)} values but lambda_gen has {len(gen)}; give one per feature"
            )
        object.__setattr__(self, "lambda_real", real)
        object.__setattr__(self, "lambda_gen", gen)

    @classmethod
    def copy_model(cls, *, tau_d: float, tau_g: float, lambdas, noise: float) -> GanModel:
        """The "copy model": the generator has the real data's form (Λ_G = Λ_T, η_G = η_T)."""
        lambdas = tuple(np.atleast_1d(np.asarray(lambdas, dtype=float)).tolist())
        return cls(tau_d, tau_g, lambdas, lambdas, noise, noise)

    @property
    def features(self) -> int:
        """Number of features d."""
        return len(self.lambda_real)

    @property
    def is_copy_model(self) -> bool:
        """Whether generator and real data share Λ and η."""
        return self.lambda_real == self.lambda_gen and self.noise_real == self.noise_gen

    def as_dict(self) -> dict:
        """JSON-able parameters."""
        return {
            "tau_d": self.tau_d,
            "tau_g": self.tau_g,
            "lambda_real": list(self.lambda_real),
            "lambda_gen": list(self.lambda_gen),
            "noise_real": self.noise_real,
            "noise_gen": self.noise_gen,
        }


@dataclass(frozen=True)
class OverlapState:
    """Macroscopic state: the overlaps P = UᵀV (d×d), q = Uᵀw, r = Vᵀw (d) and S = VᵀV (d×d).

    Arrays may carry leading batch dimensions (for example replicas or time).
    """

    P: np.ndarray
    q: np.ndarray
    r: np.ndarray
    S: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        P = np.asarray(self.P, dtype=float)
        object.__setattr__(self, "P", P)
        object.__setattr__(self, "q", np.asarray(self.q, dtype=float))
        object.__setattr__(self, "r", np.asarray(self.r, dtype=float))
        if self.S is None:
            d = P.shape[-1]
            object.__setattr__(self, "S", np.broadcast_to(np.eye(d), P.shape).copy())
        else:
            object.__setattr__(self, "S", np.asarray(self.S, dtype=float))

    @property
    def features(self) -> int:
        """Number of features d."""
        return self.P.shape[-1]

    def gram_matrix(self) -> np.ndarray:
        """The Gram matrix of the vectors (u_1..u_d, v_1..v_d, w), shape (2d+1, 2d+1)."""
        d = self.features
        gram = np.empty((2 * d + 1, 2 * d + 1))
        gram[:d, :d] = np.eye(d)
        gram[:d, d : 2 * d] = self.P
        gram[d : 2 * d, :d] = self.P.T
        gram[d : 2 * d, d : 2 * d] = self.S
        gram[:d, 2 * d] = gram[2 * d, :d] = self.q
        gram[d : 2 * d, 2 * d] = gram[2 * d, d : 2 * d] = self.r
        gram[2 * d, 2 * d] = 1.0
        return gram

    def frame_coordinates(self) -> np.ndarray:
        """Coordinates of (U, V, w) in an orthonormal frame whose first d vectors are U.

        Returns the upper-triangular R with ``R.T @ R == gram_matrix()``; its first d columns are
        the unit vectors (U), the next d columns are V and the last one is w.

        Raises
        ------
        ConfigError
            If the overlaps are not those of unit vectors (the Gram matrix is not positive definite).
        """
        try:
            lower = np.linalg.cholesky(self.gram_matrix())
        except np.linalg.LinAlgError:
            raise ConfigError(
                "the initial overlaps (P, q, r, S) are not realisable by unit vectors; "
                "use smaller overlaps (e.g. P0=0.1, q0=0.1, r0=0.01)"
            ) from None
        return lower.T.copy()


def initial_state(
    features: int,
    *,
    P0: float = 0.1,
    q0: float = 0.1,
    r0: float = 0.01,
) -> OverlapState:
    """The standard initial overlaps: P = P0·I, q = q0, r = r0 in every feature, S = I.

    Parameters
    ----------
    features : int
        Number of features d.
    P0, q0, r0 : float
        Initial feature/generator, feature/discriminator and generator/discriminator overlaps.

    Returns
    -------
    OverlapState

    Raises
    ------
    ConfigError
        If ``features`` < 1 or the overlaps cannot be realised by unit vectors.
    """
    if int(features) < 1:
        raise ConfigError(f"the number of features must be >= 1, got {features}")
    d = int(features)
    state = OverlapState(P=P0 * np.eye(d), q=np.full(d, q0), r=np.full(d, r0), S=np.eye(d))
    state.frame_coordinates()  # validates
    return state
