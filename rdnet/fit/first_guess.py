"""The cheap first guess: parameters whose fastest-growing wavelength is the target's dominant one.

A Turing pattern's wavelength starts near the fastest-growing wavelength of the
linearised dynamics, ``2π/q_max`` (:func:`rd_classic.stability.fastest_growing_mode`),
and often stays near it. Over a spread of points of the bounds (scrambled Sobol), each
homogeneous steady state of the model is linearised and the one that grows fastest at
some ``q > 0`` predicts a wavelength; the points are ranked by
``|log(λ_predicted / λ_target)|``, with ``λ_target`` the dominant wavelength of the target
(:func:`rdnet.analysis.dominant_wavelength`). No simulation is run: a few hundred
eigenvalue problems per point.

Where no state is Turing unstable (Gray-Scott's spots and worms, which need a finite
seed to grow from the stable state ``u = 1, v = 0``), the point predicts nothing; with
no prediction anywhere the fit starts from the screened points alone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.models import Model

from rdnet.fit.parameters import ParameterSpace, unit_box_points

__all__ = ["WavelengthGuess", "predicted_wavelength", "wavelength_guesses"]


@dataclass(frozen=True)
class WavelengthGuess:
    """A point of the bounds and the wavelength the linear analysis predicts there."""

    unit: np.ndarray  # (P,) unit-box coordinates
    values: dict[str, float]
    wavelength: float
    mismatch: float  # |log(wavelength / target)|


def predicted_wavelength(model: Model) -> float:
    """The fastest-growing wavelength ``2π/q_max`` of the model's fastest-growing steady state (NaN if none grows at q > 0)."""
    from rd_classic.stability import fastest_growing_mode

    try:
        states = model.steady_states()
    except ConfigError:
        return math.nan
    best_rate, best_q = 0.0, 0.0
    for state in states:
        try:
            q, rate = fastest_growing_mode(model, state=state)
        except (ValueError, np.linalg.LinAlgError, ConfigError):
            continue
        if 0 < q < math.inf and rate > best_rate:  # q = inf (a species that does not diffuse): no wavelength
            best_rate, best_q = rate, q
    return 2.0 * math.pi / best_q if best_q > 0 else math.nan


def wavelength_guesses(model: Model, space: ParameterSpace, target_wavelength: float, *, candidates: int = 32,
                       seed: int = 0) -> list[WavelengthGuess]:  # fmt: skip
    """Points of the bounds ranked by how well their fastest-growing wavelength matches the target's.

    Parameters
    ----------
    model
        The model (fixed parameters set).
    space
        The fitted parameters and bounds.
    target_wavelength
        The target's dominant wavelength (length units of the model).
    candidates
        Points tried.
    seed
        Seed of the scrambled Sobol points.

    Returns
    -------
    list of WavelengthGuess
        The points with a prediction, best match first (empty if none predicts).
    """
    if not (math.isfinite(target_wavelength) and target_wavelength > 0):
        return []
    points = unit_box_points(candidates, space.size, seed=seed)
    guesses = []
    for unit, values in zip(points, space.as_dicts(space.to_values(points))):
        try:
            varied = model.with_parameters(**values)
        except ConfigError:
            continue
        wavelength = predicted_wavelength(varied)
        if math.isfinite(wavelength):
            guesses.append(WavelengthGuess(unit, values, wavelength, abs(math.log(wavelength / target_wavelength))))
    return sorted(guesses, key=lambda guess: guess.mismatch)
