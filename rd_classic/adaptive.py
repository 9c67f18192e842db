"""Adaptive time stepping: an embedded Runge-Kutta pair whose error estimate chooses each step.

:class:`AdaptiveStepper` drives a stepper of an embedded pair (``rk23``: Bogacki–Shampine
3(2); ``rk45``: Dormand–Prince 5(4); :mod:`rd_classic.schemes`) with the standard
controller (Hairer, Nørsett & Wanner, *Solving ODEs I*, §II.4):

* a trial step of size ``h`` gives the candidate ``u_new`` and the error estimate
  ``e = h Σ (b_i - b̂_i) k_i``; its norm is the root mean square, over every cell and
  species, of ``e / (atol + rtol max(|u|, |u_new|))``;
* norm ``<= 1``: the step is accepted; otherwise it is **rejected** and retried;
* either way the next size is ``h · min(5, max(0.2, 0.9 · norm^(-1/(q+1))))`` (at most
  ``h`` after a rejection), ``q`` the order of the lower member of the pair;
* every size is capped by the scheme's explicit stability limit
  (:func:`~rd_classic.integrators.largest_stable_dt`), so a stiff diffusive mode never
  forces a train of rejections; steps are shortened to land **exactly** on each
  requested time (a snapshot), and a step shortened that way does not shrink the next.

The accepted step sizes are returned per call (:meth:`AdaptiveStepper.advance_to`), so
the run records the step size of every step. With a first-same-as-last pair the last
stage of an accepted step is the next step's first; it is recomputed after every
requested time, so a run resumed there repeats the uninterrupted one bit for bit.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from rdnet.errors import RunError

__all__ = ["AdaptiveStepper", "SAFETY", "SMALLEST_FACTOR", "LARGEST_FACTOR", "SMALLEST_STEP"]

#: the controller's safety factor
SAFETY = 0.9
#: the most a step may shrink, and grow, from one try to the next
SMALLEST_FACTOR, LARGEST_FACTOR = 0.2, 5.0
#: the smallest step, relative to ``1 + |t|``, the controller chooses before it gives up
SMALLEST_STEP = 1e-14


class AdaptiveStepper:
    """Step an embedded pair to requested times under ``rtol``/``atol``.

    Parameters
    ----------
    base
        A stepper of an embedded pair with ``attempt(time, dt, rtol, atol, reuse_first=...)``,
        ``accept()``, ``get_state()``, ``set_state(...)`` and ``rates(time)``
        (:class:`~rd_classic.integrators.NumbaExplicitStepper`,
        :class:`~rd_classic.backend_torch.TorchExplicitStepper`).
    rtol, atol
        Relative and absolute tolerances (positive).
    dt_max
        The largest step (the explicit stability limit; ``inf`` for none).
    dt_initial
        The first step to try.

    Attributes
    ----------
    time : float
        The state's time.
    step : int
        Accepted steps so far.
    rejected : int
        Rejected trial steps so far.
    dt_next : float
        The size the controller will try next.
    """

    def __init__(self, base, *, rtol: float, atol: float, dt_max: float, dt_initial: float) -> None:
        self.base = base
        self.scheme = base.scheme
        self.rtol, self.atol = float(rtol), float(atol)
        self.dt_max = float(dt_max)
        self.exponent = 1.0 / (min(self.scheme.order, self.scheme.embedded_order) + 1)
        self.time = 0.0
        self.step = 0
        self.rejected = 0
        self.dt_next = min(float(dt_initial), self.dt_max)
        self._first_valid = False

    @property
    def n_steps(self) -> int:
        """Accepted steps taken by this stepper (not counting a resumed run's earlier ones)."""
        return self.base.n_steps

    def set_state(self, *fields: np.ndarray, step: int = 0, time: float = 0.0, dt_next: float | None = None,
                  rejected: int = 0) -> None:  # fmt: skip
        """Set the fields, their time, the accepted and rejected step counts and the next step size."""
        self.base.set_state(*fields, step=step)
        self.time, self.step, self.rejected = float(time), int(step), int(rejected)
        if dt_next is not None:
            self.dt_next = min(float(dt_next), self.dt_max)
        self._first_valid = False

    def get_state(self) -> tuple[np.ndarray, ...]:
        """Copies of the current fields."""
        return self.base.get_state()

    def rates(self) -> dict[str, np.ndarray]:
        """Reaction and diffusion parts of the rate of change at the current state and time."""
        return self.base.rates(self.time)

    def advance_to(self, end: float, *, progress: Callable[[float], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Step until ``time == end`` exactly.

        Parameters
        ----------
        end
            The time to reach (``>= time``).
        progress
            Called with the time after every accepted step.

        Returns
        -------
        times, sizes : numpy.ndarray
            The end time and the size of every step accepted on the way.

        Raises
        ------
        RunError
            The step size fell below ``SMALLEST_STEP (1 + |t|)`` (a step that lands on ``end``
            may be shorter): the error estimate cannot be met (a blow-up, or a tolerance below
            rounding).
        """
        times, sizes = [], []
        while self.time < end:
            proposal = min(self.dt_next, self.dt_max)
            remaining = end - self.time
            landing = proposal >= remaining * (1.0 - 1e-12)
            dt = remaining if landing else proposal
            if dt < SMALLEST_STEP * (1.0 + abs(self.time)) and not landing:  # a landing step is what is left
                raise RunError(f"the adaptive step fell to {dt:.3g} at t = {self.time:g}: the tolerances rtol={self.rtol:g}, "
                               f"atol={self.atol:g} cannot be met (a blow-up, or tolerances below rounding)")  # fmt: skip
            norm = self.base.attempt(self.time, dt, self.rtol, self.atol, reuse_first=self._first_valid)
            self._first_valid = True  # the first stage, at the unchanged state, stays valid on a retry
            factor = SAFETY * norm ** -self.exponent if norm > 0 else LARGEST_FACTOR
            if not math.isfinite(norm) or norm > 1.0:
                self.rejected += 1
                self.dt_next = dt * (min(1.0, max(SMALLEST_FACTOR, factor)) if math.isfinite(norm) else SMALLEST_FACTOR)
                continue
            self.base.accept()
            self._first_valid = self.scheme.first_same_as_last
            self.time = end if landing else self.time + dt
            self.step += 1
            grown = dt * min(LARGEST_FACTOR, max(SMALLEST_FACTOR, factor))
            self.dt_next = max(grown, proposal) if landing else grown  # landing shortened the step: keep the proposal
            times.append(self.time)
            sizes.append(dt)
            if progress is not None:
                progress(self.time)
        self._first_valid = False  # recomputed after each requested time: a resumed run repeats this one
        return np.array(times), np.array(sizes)
