"""The loss of parameter sets, and the searches that minimise it: gradient, differential evolution, Nelder–Mead.

:class:`Objective` maps points of the unit box (:mod:`rdnet.fit.parameters`) to the
loss ``‖scale · (s̄(θ) − s_target)‖²`` (:class:`~rdnet.fit.statistics.PatternDistance`),
``s̄`` the mean statistic vector over ``R`` runs from different initial noise (the same
seeds at every evaluation: common random numbers, so the loss is a deterministic, smooth
function of θ wherever the pattern changes smoothly). Every point of a call is simulated
in one batch; with ``gradient=True`` the loss is differentiated by reverse mode through
the checkpointed rollout (:func:`rdnet.fit.simulation.rollout`).

The searches:

``gradient``
    Adam's direction (the bias-corrected first moment of the gradients over the
    second's square root, scaled to a largest component of 1) with a line search: each
    iteration tries :data:`TRIAL_FACTORS` times the start's step length along it, all
    trials of all starts in one forward-only batch, and moves to the best trial if it
    lowers the loss (the step then grows when the longest trial won), else shrinks the
    step and stays. The loss therefore never rises, which a fixed step size does not
    give: Gray-Scott's loss is a narrow valley (a step of 1/13 of the bounds in ``k``
    raises it a hundredfold at 64², t = 1500), where Adam's steps of ``learning_rate``
    jumped out of it and never improved on the screened start (measured, ``docs/fit.md``).
    A gradient (forward and backward pass) is computed only at points that improved.
    A start stops when its step falls below :data:`SMALLEST_STEP`.
``de``
    :func:`scipy.optimize.differential_evolution`, its population simulated as one batch
    per generation (``vectorized=True``), started from the screened points.
``nelder-mead``
    :func:`scipy.optimize.minimize` (``Nelder-Mead`` in the box) from each start in turn.

:func:`screen` picks the starts: the best wavelength guesses
(:mod:`rdnet.fit.first_guess`) and the scrambled Sobol points of the box with the lowest
loss from one run each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from rdnet.fit.parameters import ParameterSpace, unit_box_points
from rdnet.fit.simulation import BatchedSimulator
from rdnet.fit.statistics import PatternDistance

__all__ = ["METHODS", "Objective", "StartResult", "screen", "gradient_search", "evolution_search",
           "nelder_mead_search", "search"]  # fmt: skip

#: the searches, by the name ``--method`` takes
METHODS = ("gradient", "de", "nelder-mead")
#: the loss given to scipy for a failed run (NaN/Inf)
FAILED_LOSS = 1e10
#: the gradient search's trial steps, as shares of its current step length
TRIAL_FACTORS = (1.0, 0.25, 0.0625)
#: its longest step and the step length below which a start has converged (unit box)
MAX_STEP, SMALLEST_STEP = 0.25, 1e-4

#: progress callback: (stage, done, total, best loss so far)
Progress = Callable[[str, int, int, float], None]


def _silent(stage: str, done: int, total: int, loss: float) -> None:
    """The progress callback that reports nothing."""


class Objective:
    """The loss of parameter sets, each simulated from ``replicates`` initial conditions.

    Parameters
    ----------
    simulator
        The batched forward model.
    space
        The fitted parameters and bounds.
    distance
        The target's statistics.
    replicates
        Runs (initial conditions) per parameter set.
    seed
        Seed of the first run's initial condition (the others: ``seed + 1``, ...).
    """

    def __init__(self, simulator: BatchedSimulator, space: ParameterSpace, distance: PatternDistance, *,
                 replicates: int, seed: int) -> None:  # fmt: skip
        self.simulator, self.space, self.distance = simulator, space, distance
        self.seeds = [int(seed) + offset for offset in range(int(replicates))]
        #: number of loss evaluations (parameter sets) so far
        self.evaluations = 0

    def __call__(self, unit: np.ndarray, *, gradient: bool = False,
                 seeds: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
        """Losses (and their gradients in the unit box) of points ``(S, P)``.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray or None)
            ``(S,)`` losses, ``inf`` where a run failed; ``(S, P)`` gradients (0 where a
            run failed) when ``gradient``.
        """
        torch = self.simulator.torch
        seeds = self.seeds if seeds is None else list(seeds)
        unit = np.atleast_2d(np.asarray(unit, dtype=np.float64))
        count, repeats = unit.shape[0], len(seeds)
        x = torch.tensor(unit, dtype=torch.float64, requires_grad=gradient)
        with torch.set_grad_enabled(gradient):
            values = self.space.to_values(x)
            parameters = self.simulator.parameter_tensors(
                {name: values[:, index] for index, name in enumerate(self.space.names)}, repeats)
            state = self.simulator.initial_states(self.space.as_dicts(values.detach().numpy()), seeds, parameters)
            final = self.simulator.run(state, parameters)
            statistics = self.distance.statistics(self.simulator.observed(final)).to(torch.float64)
            finite = self.simulator.finite(final) & torch.isfinite(statistics).all(dim=1)
            statistics = torch.where(finite[:, None], statistics, torch.zeros_like(statistics))
            mean = statistics.reshape(count, repeats, -1).mean(dim=1)
            losses = self.distance.residuals(mean).square().sum(dim=1)
            ok = finite.reshape(count, repeats).all(dim=1)
            gradients = None
            if gradient:
                total = losses[ok].sum()
                if bool(ok.any()) and total.requires_grad:  # a loss that no parameter reaches has no graph
                    total.backward()
                if x.grad is not None:
                    gradients = torch.nan_to_num(x.grad, nan=0.0, posinf=0.0, neginf=0.0).numpy().copy()
                    gradients[~ok.cpu().numpy()] = 0.0
                else:
                    gradients = np.zeros_like(unit)
        self.evaluations += count
        result = losses.detach().cpu().numpy().copy()
        result[~ok.cpu().numpy()] = np.inf
        return result, gradients


@dataclass
class StartResult:
    """One start of a search.

    Attributes
    ----------
    origin
        ``wavelength guess``, ``screened`` or ``population``.
    initial, final
        Unit-box points where it started and the best it reached.
    loss
        The loss at ``final``.
    history
        The loss at every evaluation, in order.
    """

    origin: str
    initial: np.ndarray
    final: np.ndarray
    loss: float
    history: list[float] = field(default_factory=list)


def screen(objective: Objective, *, starts: int, candidates: int, guesses: Sequence[np.ndarray], seed: int,
           progress: Progress = _silent) -> tuple[np.ndarray, list[str], np.ndarray]:  # fmt: skip
    """Choose the starts: the best wavelength guess, then the points of lowest loss (one run each).

    Parameters
    ----------
    objective
        The loss.
    starts
        Number of starts wanted.
    candidates
        Scrambled Sobol points of the box screened (besides the guesses).
    guesses
        Unit-box points of the wavelength guesses, best first (the first is always a start).
    seed
        Seed of the Sobol points and of the screening runs' initial condition.

    Returns
    -------
    (numpy.ndarray, list of str, numpy.ndarray)
        The starts ``(starts, P)``, the origin of each, and every screened point's loss.
    """
    size = objective.space.size
    sobol = unit_box_points(max(candidates, starts), size, seed=seed)
    guess_points = [np.asarray(point, dtype=np.float64) for point in guesses]
    points = np.concatenate([np.reshape(guess_points, (-1, size)), sobol]) if guess_points else sobol
    origins = ["wavelength guess"] * len(guess_points) + ["screened"] * len(sobol)
    progress("screen", 0, 1, math.inf)
    losses, _ = objective(points, seeds=[objective.seeds[0]])
    progress("screen", 1, 1, float(np.min(losses)))
    order = list(np.argsort(losses, kind="stable"))
    if guess_points:  # the best wavelength guess is a start whatever its loss
        order.remove(0)
        order.insert(0, 0)
    chosen: list[int] = []
    separation = 0.5 / max(2, starts) ** (1 / size)
    for index in order:
        if len(chosen) == starts:
            break
        if all(np.max(np.abs(points[index] - points[other])) >= separation for other in chosen):
            chosen.append(index)
    for index in order:  # not enough well-separated points: the next best
        if len(chosen) == starts:
            break
        if index not in chosen:
            chosen.append(index)
    return points[chosen], [origins[index] for index in chosen], losses


def gradient_search(objective: Objective, starts: np.ndarray, origins: Sequence[str], *, iterations: int,
                    learning_rate: float, progress: Progress = _silent) -> list[StartResult]:  # fmt: skip
    """Adam's direction with a batched line search, from every start at once (see the module's description)."""
    x = np.array(starts, dtype=np.float64)
    count = x.shape[0]
    losses, gradients = objective(x, gradient=True)
    first_moment, second_moment = np.zeros_like(x), np.zeros_like(x)
    beta1, beta2, epsilon = 0.9, 0.999, 1e-12
    steps = np.full(count, float(learning_rate))
    updates = np.zeros(count, dtype=int)
    initial_losses = losses.copy()
    histories: list[list[float]] = [[float(loss)] for loss in losses]
    progress("gradient", 0, iterations, float(np.min(losses)))
    for iteration in range(iterations):
        active = np.isfinite(losses) & (steps >= SMALLEST_STEP)
        if not active.any():
            break
        first_moment[active] = beta1 * first_moment[active] + (1 - beta1) * gradients[active]
        second_moment[active] = beta2 * second_moment[active] + (1 - beta2) * gradients[active] ** 2
        updates[active] += 1
        power = updates[active, None]
        direction = -(first_moment[active] / (1 - beta1**power)) / (
            np.sqrt(second_moment[active] / (1 - beta2**power)) + epsilon)
        direction /= np.maximum(np.max(np.abs(direction), axis=1, keepdims=True), epsilon)
        trials = np.concatenate([np.clip(x[active] + (factor * steps[active])[:, None] * direction, 0.0, 1.0)
                                 for factor in TRIAL_FACTORS])  # fmt: skip
        trial_losses, _ = objective(trials)
        trial_losses = trial_losses.reshape(len(TRIAL_FACTORS), -1)
        best_trial = np.argmin(np.where(np.isfinite(trial_losses), trial_losses, np.inf), axis=0)
        rows = np.nonzero(active)[0]
        improved_rows = []
        for position, row in enumerate(rows):
            loss = trial_losses[best_trial[position], position]
            if loss < losses[row]:
                x[row] = trials[best_trial[position] * len(rows) + position]
                losses[row] = loss
                steps[row] = min(MAX_STEP, steps[row] * TRIAL_FACTORS[best_trial[position]] * 2.0)
                improved_rows.append(row)
            else:  # no trial lowered the loss: look closer
                steps[row] *= TRIAL_FACTORS[-1] / 2.0
        if improved_rows:
            new_losses, new_gradients = objective(x[improved_rows], gradient=True)
            gradients[improved_rows] = new_gradients
            losses[improved_rows] = np.minimum(losses[improved_rows], new_losses)
        for row, history in enumerate(histories):
            history.append(float(losses[row]))
        progress("gradient", iteration + 1, iterations, float(np.min(losses)))
    return [StartResult(origin, np.array(start), x[index].copy(), float(losses[index]), histories[index])
            for index, (origin, start) in enumerate(zip(origins, starts))]  # fmt: skip


def evolution_search(objective: Objective, population: np.ndarray, origins: Sequence[str], *, iterations: int,
                     seed: int, progress: Progress = _silent) -> list[StartResult]:  # fmt: skip
    """Differential evolution from a given population, one batch per generation; one result per member."""
    from scipy.optimize import differential_evolution

    population = np.array(population, dtype=np.float64)
    members, energies = population.copy(), np.full(population.shape[0], np.inf)
    histories: list[list[float]] = [[] for _ in range(population.shape[0])]
    calls = [0]

    def batch_loss(points: np.ndarray) -> np.ndarray:  # points (P, M)
        trial = points.T
        losses, _ = objective(trial)
        losses = np.where(np.isfinite(losses), losses, FAILED_LOSS)
        replace = losses <= energies
        members[replace], energies[replace] = trial[replace], losses[replace]
        for history, loss in zip(histories, energies):
            history.append(float(loss))
        progress("de", calls[0], iterations, float(np.min(energies)))
        calls[0] += 1
        return losses

    differential_evolution(batch_loss, bounds=[(0.0, 1.0)] * population.shape[1], init=population,
                           maxiter=iterations, vectorized=True, updating="deferred", polish=False, tol=0.0,
                           seed=seed)  # fmt: skip
    return [StartResult(origin, population[index].copy(), members[index].copy(), float(energies[index]),
                        histories[index]) for index, origin in enumerate(origins)]  # fmt: skip


def nelder_mead_search(objective: Objective, starts: np.ndarray, origins: Sequence[str], *, iterations: int,
                       progress: Progress = _silent) -> list[StartResult]:  # fmt: skip
    """Nelder–Mead in the box from each start in turn (initial simplex: steps of 0.1 into the box)."""
    from scipy.optimize import minimize

    results = []
    for index, (origin, start) in enumerate(zip(origins, starts)):
        history: list[float] = []

        def loss(point: np.ndarray) -> float:
            value = float(objective(point[None])[0][0])
            history.append(value)
            return value if math.isfinite(value) else FAILED_LOSS

        simplex = [np.array(start, dtype=np.float64)]
        for axis in range(len(start)):
            vertex = simplex[0].copy()
            vertex[axis] += 0.1 if vertex[axis] <= 0.9 else -0.1
            simplex.append(vertex)

        def report(intermediate) -> None:
            progress("nelder-mead", index * iterations + len(history), len(starts) * iterations, min(history))

        result = minimize(loss, simplex[0], method="Nelder-Mead", bounds=[(0.0, 1.0)] * len(start), callback=report,
                          options={"maxiter": iterations, "initial_simplex": np.array(simplex), "xatol": 1e-4,
                                   "fatol": 1e-10})  # fmt: skip
        final_loss = float(result.fun) if result.fun < FAILED_LOSS else math.inf
        results.append(StartResult(origin, np.array(start), np.clip(result.x, 0.0, 1.0), final_loss, history))
    return results


def search(method: str, objective: Objective, starts: np.ndarray, origins: Sequence[str], *, iterations: int,
           learning_rate: float, seed: int, progress: Progress = _silent) -> list[StartResult]:  # fmt: skip
    """Run the search ``method`` (one of :data:`METHODS`) from the starts (for ``de``: the initial population)."""
    if method == "gradient":
        return gradient_search(objective, starts, origins, iterations=iterations, learning_rate=learning_rate,
                               progress=progress)  # fmt: skip
    if method == "de":
        return evolution_search(objective, starts, origins, iterations=iterations, seed=seed, progress=progress)
    if method == "nelder-mead":
        return nelder_mead_search(objective, starts, origins, iterations=iterations, progress=progress)
    raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
