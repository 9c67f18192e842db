"""Steady-state detection for long runs: stop when the pattern has stopped changing.

Engine-agnostic: a :class:`SteadyStateDetector` is fed the snapshots of a run, one at a
time, and says when the run may stop. The rule (py-pde's ``SteadyStateTracker`` asks the
same of every value): the **relative rate of change**

.. math:: r_i = \\frac{\\lVert f_i - f_{i-1} \\rVert}{(t_i - t_{i-1})\\,\\lVert f_i \\rVert},
   \\qquad \\lVert f \\rVert^2 = \\sum_s \\mathrm{mean}_{grid}\\, f_s^2

(the state vector of all species together, so a species that decays to zero does not
hold the run; units 1/time) stays at or below the tolerance for ``window`` consecutive
snapshot intervals. The norm in the denominator is floored at ``absolute`` (default
:data:`ABSOLUTE_FLOOR`, 1e-8 in the fields' units, py-pde's default absolute tolerance): a
state decaying to zero everywhere keeps its relative rate at the decay rate, and would
never stop, but its change falls below ``tolerance · absolute`` per time unit once it has
decayed below the floor. A state that is zero everywhere counts as steady when it stays zero.
A pattern that oscillates or travels keeps ``r`` near its amplitude times its frequency
(or speed over wavelength) and never stops the run.
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

__all__ = ["SteadyStateDetector", "ABSOLUTE_FLOOR"]

#: The smallest norm ``‖f_i‖`` the rate is taken relative to (the fields' units): py-pde's default atol.
ABSOLUTE_FLOOR = 1e-8


class SteadyStateDetector:
    """Say when a run has reached a steady state.

    Parameters
    ----------
    tolerance
        Largest relative rate of change (1/time) that counts as steady.
    window
        Number of consecutive snapshot intervals the rate must stay at or below
        ``tolerance`` (default 3).
    absolute
        Floor of the norm the change is taken relative to, in the fields' units (default
        :data:`ABSOLUTE_FLOOR`): a state decaying to zero stops once it is far below it.

    Attributes
    ----------
    rates : list of float
        The relative rate of change of every interval so far.
    steady : bool
        Whether the last ``window`` rates were all at or below the tolerance.

    Examples
    --------
    >>> import numpy as np
    >>> detector = SteadyStateDetector(2e-3, window=2)
    >>> field = np.ones((4, 4))
    >>> [detector.update(t, {"u": field * (1 + np.exp(-t))}) for t in (0.0, 5.0, 10.0, 15.0)]
    [False, False, False, True]
    >>> detector.reason
    'steady state: relative rate of change <= 0.002 per time unit over 2 snapshot intervals (last 9.02e-06 at t = 15)'
    """

    def __init__(self, tolerance: float, *, window: int = 3, absolute: float = ABSOLUTE_FLOOR) -> None:
        tolerance = float(tolerance)
        if not (math.isfinite(tolerance) and tolerance > 0):
            raise ValueError(f"the steady-state tolerance must be a positive number; got {tolerance!r}")
        if int(window) != window or window < 1:
            raise ValueError(f"the steady-state window must be a positive number of snapshots; got {window!r}")
        absolute = float(absolute)
        if not (math.isfinite(absolute) and absolute >= 0):
            raise ValueError(f"the steady-state floor must be a non-negative number; got {absolute!r}")
        self.tolerance = tolerance
        self.absolute = absolute
        self.window = int(window)
        self.rates: list[float] = []
        self._previous: tuple[float, dict[str, np.ndarray]] | None = None
        self._time = math.nan

    def update(self, time: float, fields: Mapping[str, np.ndarray]) -> bool:
        """Take the next snapshot; return whether the run is now steady.

        Parameters
        ----------
        time
            The snapshot's time (increasing).
        fields
            The species' fields by name (the same names every time).

        Returns
        -------
        bool
            :attr:`steady`.
        """
        current = {name: np.array(values, dtype=np.float64, copy=True) for name, values in fields.items()}
        if self._previous is not None:
            earlier_time, earlier = self._previous
            interval = float(time) - earlier_time
            if not interval > 0:
                raise ValueError(f"snapshot times must increase (got {time} after {earlier_time})")
            change = sum(float(np.mean((current[name] - earlier[name]) ** 2)) for name in current)
            scale = sum(float(np.mean(values**2)) for values in current.values())
            self.rates.append(self._relative_rate(change, max(scale, self.absolute**2), interval))
        self._previous = (float(time), current)
        self._time = float(time)
        return self.steady

    @staticmethod
    def _relative_rate(change_squared: float, scale_squared: float, interval: float) -> float:
        if scale_squared == 0:
            return 0.0 if change_squared == 0 else math.inf
        return math.sqrt(change_squared / scale_squared) / interval

    @property
    def steady(self) -> bool:
        """Whether the last ``window`` rates are all at or below ``tolerance``."""
        recent = self.rates[-self.window :]
        return len(recent) == self.window and all(rate <= self.tolerance for rate in recent)

    @property
    def reason(self) -> str:
        """Why a run stopped (or would stop) here, in words; empty while not steady."""
        if not self.steady:
            return ""
        return (
            f"steady state: relative rate of change <= {self.tolerance:g} per time unit over {self.window} "
            f"snapshot intervals (last {self.rates[-1]:.3g} at t = {self._time:g})"
        )
