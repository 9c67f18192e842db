"""How a pattern behaves in time, from its snapshots: temporal spectrum, pattern velocity,
decorrelation time, and the label ``stationary`` / ``travelling`` / ``oscillating`` / ``chaotic``.

A *series* is a field with a ``time`` dim first, then ``(y, x)`` (or ``(z, y, x)``, or a
line); a numpy array ``(time, ...)`` takes its times from ``times=`` (default 0, 1, 2, ...).
Component dims are reduced to the norm over components, as in
:mod:`~rdnet.analysis.morphology`. Snapshot times must be evenly spaced (as every rdnet run
writes them) for the temporal spectrum and the decorrelation time.

The label (:func:`time_behaviour`) looks at the last ``window`` fraction of the snapshots
(default the second half, after the pattern has formed), with ``A`` the standard deviation
of the field over space and those snapshots together:

0. ``stationary`` (nothing moves) — ``A`` is at most the regime's pattern floor
   (:data:`~rdnet.analysis.regime.PATTERN_RELATIVE_AMPLITUDE` · |mean| +
   :data:`~rdnet.analysis.regime.PATTERN_ABSOLUTE_AMPLITUDE`): a homogeneous state with only
   round-off or decaying noise left, whose relative changes would otherwise read as chaos;
1. ``stationary`` (frozen) — every snapshot of the window is within ``STATIONARY_CHANGE``
   (5 %) of the first, in RMS relative to ``A`` (``max_i RMS(f_i − f_0) / A ≤ 0.05``);
2. ``travelling`` — consecutive snapshots are the same pattern shifted: after undoing the
   shift found by cross-correlation the median remaining change is at most
   ``TRAVELLING_RESIDUAL`` (30 %) of the raw change, and the median shift is at least
   ``TRAVELLING_MIN_SHIFT`` (0.1 cell) per snapshot; the velocity is the median shift over
   the time between snapshots;
3. ``oscillating`` — the temporal spectrum has one peak: the strongest frequency (with its
   two neighbouring bins) holds at least ``OSCILLATION_PEAK_SHARE`` (50 %) of the temporal
   variance, and it is not one of the two lowest non-zero frequencies (at least three
   periods fit in the window); the period is ``1/frequency``;
4. ``stationary`` (persisting, slowly relaxing) — the pattern keeps its identity: the
   correlation between the spatial anomalies of any two snapshots of the window, averaged
   per lag, stays at least ``STATIONARY_CORRELATION`` (0.8);
5. ``chaotic`` — it changes, but neither rigidly, nor periodically, nor slowly.

With fewer than ``MIN_SNAPSHOTS`` (4) snapshots in the window the label is ``undetermined``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Iterable

import numpy as np
import xarray as xr

from rdnet.analysis.fields import _check_finite, _decreases, _Field, _model_times, _spacing
from rdnet.analysis.regime import PATTERN_ABSOLUTE_AMPLITUDE, PATTERN_RELATIVE_AMPLITUDE

__all__ = [
    "TIME_BEHAVIOURS",
    "STATIONARY_CHANGE",
    "STATIONARY_CORRELATION",
    "TRAVELLING_RESIDUAL",
    "TRAVELLING_MIN_SHIFT",
    "OSCILLATION_PEAK_SHARE",
    "MIN_SNAPSHOTS",
    "TimeBehaviour",
    "temporal_spectrum",
    "pattern_velocity",
    "decorrelation_time",
    "time_behaviour",
    "classify_time_behaviour",
]

#: The labels of :func:`time_behaviour`, in the order the rule tries them.
TIME_BEHAVIOURS = ("stationary", "travelling", "oscillating", "chaotic", "undetermined")
#: Stationary: no snapshot of the window differs from its first by more than this share of the amplitude.
STATIONARY_CHANGE = 0.05
#: Travelling: the change left after undoing the shift is at most this share of the raw change ...
TRAVELLING_RESIDUAL = 0.3
#: ... and the pattern moves at least this many cells per snapshot.
TRAVELLING_MIN_SHIFT = 0.1
#: Oscillating: the strongest temporal frequency (and its two neighbours) holds this share of the variance.
OSCILLATION_PEAK_SHARE = 0.5
#: Stationary (persisting): the pattern correlation between snapshots of the window stays at least this.
STATIONARY_CORRELATION = 0.8
#: Fewer snapshots than this in the window: ``undetermined``.
MIN_SNAPSHOTS = 4


@dataclass(frozen=True)
class TimeBehaviour:
    """A time-behaviour label and the numbers that decided it.

    Attributes
    ----------
    label
        One of :data:`TIME_BEHAVIOURS`.
    evidence
        ``relative_change`` (largest RMS change from the window's first snapshot, over
        the amplitude), ``residual_ratio`` (median change left after undoing the shift,
        over the raw change), ``shift_cells`` (median shift per snapshot, cells),
        ``speed`` (length per time), ``velocity`` (per spatial axis, ``(…, y, x)`` order),
        ``peak_share`` (share of the temporal variance at the strongest frequency),
        ``peak_index`` (its bin), ``period`` (1 / that frequency, in time units),
        ``decorrelation_time``, ``min_correlation`` (the lowest mean correlation between
        snapshots at one lag) and ``snapshots`` (in the window).
    reason
        The rule that decided, in words.
    """

    label: str
    evidence: dict[str, Any] = dataclass_field(default_factory=dict)
    reason: str = ""


# --------------------------------------------------------------------------- the series as an array


def _series_array(series: _Field, times: Iterable[float] | None, component_dims: Iterable[str] | None):
    """``(values (time, *spatial) float64, times, spacings per spatial axis)``.

    A DataArray: ``time`` must be its first dim; its last two (three, with ``z``) dims are
    spatial, other dims are components (reduced to the norm).
    """
    if isinstance(series, xr.DataArray):
        if "time" not in series.dims or series.dims[0] != "time":
            raise ValueError(f"a series needs 'time' as its first dim; got dims {series.dims}")
        n_spatial = 3 if series.ndim >= 4 and series.dims[-3] == "z" else 2
        spatial = list(series.dims[-n_spatial:])
        components = [d for d in series.dims[1:-n_spatial]]
        if component_dims is not None:
            components = [component_dims] if isinstance(component_dims, str) else list(component_dims)
        if set(series.dims) != {"time", *components, *spatial}:
            raise ValueError(f"dims {series.dims}: expected (time, components..., spatial dims)")
        data = series.transpose("time", *components, *spatial)
        values = np.asarray(data.values, dtype=np.float64)
        spacings = []
        for dim in spatial:  # signed: a coordinate that decreases along the axis turns a shift's direction
            step = _spacing(data, dim, None) if data.sizes[dim] > 1 else 1.0
            spacings.append(-step if dim in data.coords and data.sizes[dim] > 1 and _decreases(data[dim]) else step)
        if times is None:
            times = _model_times(data["time"].values) if "time" in data.coords else None
        if components:
            values = np.sqrt(np.sum(values**2, axis=tuple(range(1, 1 + len(components)))))
    else:
        values = np.asarray(series, dtype=np.float64)
        if values.ndim < 2:
            raise ValueError(f"a series needs a time axis and at least one spatial axis; got shape {values.shape}")
        spacings = [1.0] * (values.ndim - 1)
    _check_finite(values)
    times = np.arange(values.shape[0], dtype=float) if times is None else np.asarray(list(times), dtype=float)
    if times.shape != (values.shape[0],):
        raise ValueError(f"times has {times.size} entries for {values.shape[0]} snapshots")
    if times.size > 1 and not np.all(np.diff(times) > 0):
        raise ValueError("snapshot times must increase")
    keep = [axis for axis in range(1, values.ndim) if values.shape[axis] > 1] or [values.ndim - 1]
    values = values.reshape((values.shape[0], *[values.shape[a] for a in keep]))
    return values, times, tuple(spacings[a - 1] for a in keep)


def _time_step(times: np.ndarray) -> float:
    steps = np.diff(times)
    step = float(steps.mean())
    if not np.allclose(steps, step, rtol=1e-3, atol=0):
        raise ValueError(f"snapshot times must be evenly spaced (steps from {steps.min():g} to {steps.max():g})")
    return step


def _short_last_interval(times: np.ndarray) -> bool:
    """Whether only the last interval between snapshots is uneven, and shorter: a run that ended between two
    snapshot times (its last snapshot is its end), whose other snapshots are evenly spaced."""
    if times.size < 3:
        return False
    steps = np.diff(times)
    step = float(steps[:-1].mean())
    return bool(steps[-1] < step * (1 - 1e-3) and np.allclose(steps[:-1], step, rtol=1e-3, atol=0))


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2)))


# --------------------------------------------------------------------------- the measures


def _temporal_spectrum(values: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, power) of the anomaly about each point's time mean, Hann window in time.

    The power is normalised so that it sums to the Hann-weighted temporal variance,
    averaged over the grid (the temporal variance in expectation).
    """
    n = values.shape[0]
    weights = np.sin(np.pi * (np.arange(n) + 0.5) / n) ** 2
    flat = values.reshape(n, -1)
    weighted_mean = (weights[:, None] * flat).sum(axis=0) / weights.sum()
    transformed = np.fft.rfft((flat - weighted_mean) * weights[:, None], axis=0)
    multiplicity = np.full(n // 2 + 1, 2.0)
    multiplicity[0] = 1.0
    if n % 2 == 0:
        multiplicity[-1] = 1.0
    power = (np.abs(transformed) ** 2).mean(axis=1) * multiplicity / (n * np.sum(weights**2))
    return np.fft.rfftfreq(n, d=dt), power


def temporal_spectrum(series: _Field, *, times: Iterable[float] | None = None,
                      component_dims: Iterable[str] | None = None) -> xr.DataArray:  # fmt: skip
    """Power spectrum in time of a series of snapshots, averaged over the grid.

    Each point's anomaly about its time mean is multiplied by a Hann window in time
    (snapshots need not be periodic in time) and transformed; the power is normalised
    so that its sum is the (window-weighted) temporal variance averaged over the grid.

    Parameters
    ----------
    series
        DataArray with dims ``(time, ..., y, x)``, or an array ``(time, ...)``.
    times
        Snapshot times (default: the ``time`` coordinate, else 0, 1, 2, ...); evenly spaced.
    component_dims
        Dims reduced to the norm (default: every dim between ``time`` and the spatial dims).

    Returns
    -------
    xarray.DataArray
        Dim ``frequency`` (cycles per time unit).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(64.0)
    >>> series = np.cos(2 * np.pi * t / 8)[:, None, None] * np.ones((1, 4, 4))
    >>> spectrum = temporal_spectrum(series)
    >>> float(spectrum["frequency"][int(spectrum.argmax("frequency"))])
    0.125
    """
    values, times, _ = _series_array(series, times, component_dims)
    if values.shape[0] < 2:
        raise ValueError("a temporal spectrum needs at least 2 snapshots")
    frequency, power = _temporal_spectrum(values, _time_step(times))
    return xr.DataArray(
        power, dims=("frequency",), coords={"frequency": ("frequency", frequency, {"long_name": "frequency", "units": "1/time"})},
        name="temporal_spectrum", attrs={"long_name": "temporal power spectrum averaged over the grid", "window": "hann"},
    )  # fmt: skip


def _shift_between(earlier: np.ndarray, later: np.ndarray) -> tuple[np.ndarray, float, float]:
    """(shift in cells that moves ``earlier`` onto ``later``, remaining RMS change, raw RMS change).

    The shift ``s`` maximises the cross-correlation ``C(s) = Re Σ_k P_k e^{2πi k·s}``,
    ``P_k = F̂_later(k) conj(F̂_earlier(k))``: the phase change of every Fourier mode,
    weighted by its power. The best whole-cell shift within half the pattern's
    characteristic length is refined by Newton's method on ``C`` (analytic gradient and
    Hessian), so the result is sub-cell and unique even for a periodic pattern.
    """
    from rdnet.analysis.morphology import _characteristic_length

    raw = _rms(later - earlier)
    if raw == 0 or np.ptp(earlier) == 0 or np.ptp(later) == 0:
        return np.zeros(earlier.ndim), raw, raw
    cross = np.fft.fftn(later - later.mean()) * np.conj(np.fft.fftn(earlier - earlier.mean()))
    correlation = np.fft.ifftn(cross).real
    lags = np.meshgrid(*[np.fft.fftfreq(n, d=1.0 / n) for n in earlier.shape], indexing="ij")
    reach = 0.5 * _characteristic_length(earlier, (1.0,) * earlier.ndim)
    allowed = np.sqrt(sum(lag**2 for lag in lags)) <= max(reach, 1.0)
    peak = np.unravel_index(np.argmax(np.where(allowed, correlation, -np.inf)), correlation.shape)
    shift = np.array([lag[peak] for lag in lags], dtype=float)
    wavenumbers = np.meshgrid(*[np.fft.fftfreq(n) for n in earlier.shape], indexing="ij")
    k = np.stack([w.ravel() for w in wavenumbers])  # (ndim, modes), cycles per cell
    weights = cross.ravel()
    for _ in range(8):
        phase = weights * np.exp(2j * np.pi * (shift @ k))
        gradient = -2 * np.pi * (k @ phase.imag)
        hessian = -(2 * np.pi) ** 2 * ((k * phase.real) @ k.T)
        curvature, directions = np.linalg.eigh(hessian)
        seen = np.abs(curvature) > 1e-9 * max(np.abs(curvature).max(), np.finfo(float).tiny)
        if not seen.any() or np.any(curvature[seen] >= 0):
            break  # not at a maximum: keep the shift found so far
        # Newton step along the directions the pattern varies in (a stripe shows no motion along itself)
        step = -directions[:, seen] @ ((directions[:, seen].T @ gradient) / curvature[seen])
        shift = shift + np.clip(step, -0.5, 0.5)
        if np.max(np.abs(step)) < 1e-9:
            break
    moved = np.fft.ifftn(np.fft.fftn(earlier) * np.exp(-2j * np.pi * np.tensordot(shift, np.stack(wavenumbers), axes=1))).real
    return shift, _rms(later - moved), raw


def pattern_velocity(series: _Field, *, times: Iterable[float] | None = None,
                     component_dims: Iterable[str] | None = None) -> xr.Dataset:  # fmt: skip
    """Velocity of the pattern between consecutive snapshots, from the phases of its Fourier modes.

    A pattern that moves rigidly by ``c Δt`` changes the phase of every Fourier mode ``k``
    by ``−2π k·c Δt``. For each pair of snapshots the shift is the one that best explains
    the phase changes of all modes, weighted by their power: the peak of the periodic
    cross-correlation, searched within half the pattern's characteristic length and
    refined below one cell by Newton's method. A pattern that moves more than half its
    wavelength between snapshots aliases: snapshots must be close enough to follow it.

    Returns
    -------
    xarray.Dataset
        Over dim ``interval`` (between snapshot ``i`` and ``i + 1``, coordinate ``time``
        at the later one): ``velocity`` (dims ``(interval, axis)``, length per time unit,
        axes in the field's order, e.g. ``y, x``), ``speed`` and ``residual_ratio`` (RMS
        change left after undoing the shift over the raw RMS change: 0 for a rigid
        translation, near 1 when the pattern does not move as a whole).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(64)
    >>> wave = np.array([np.cos(2 * np.pi * (x - 1.5 * t) / 16) for t in range(5)])[:, None, :] * np.ones((1, 8, 1))
    >>> velocity = pattern_velocity(wave)["velocity"]
    >>> np.round(velocity.sel(axis="x").values, 3).tolist()
    [1.5, 1.5, 1.5, 1.5]
    """
    values, times, spacings = _series_array(series, times, component_dims)
    if values.shape[0] < 2:
        raise ValueError("a velocity needs at least 2 snapshots")
    velocities, residuals = [], []
    for i in range(values.shape[0] - 1):
        shift, remaining, raw = _shift_between(values[i], values[i + 1])
        velocities.append(shift * np.asarray(spacings) / (times[i + 1] - times[i]))
        residuals.append(remaining / raw if raw > 0 else math.nan)
    axes = ["x"] if values.ndim == 2 else (["y", "x"] if values.ndim == 3 else ["z", "y", "x"])
    velocity = np.array(velocities)
    return xr.Dataset(
        {
            "velocity": (("interval", "axis"), velocity, {"long_name": "pattern velocity", "units": "length/time"}),
            "speed": ("interval", np.linalg.norm(velocity, axis=1), {"long_name": "pattern speed", "units": "length/time"}),
            "residual_ratio": ("interval", np.array(residuals), {"long_name": "change left after undoing the shift, over the change", "units": "1"}),
        },
        coords={"axis": axes, "time": ("interval", times[1:])},
    )


def _pattern_correlation(values: np.ndarray) -> np.ndarray:
    """Correlation of the spatial anomaly between snapshots ``lag`` apart, averaged over pairs."""
    flat = values.reshape(values.shape[0], -1)
    anomaly = flat - flat.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(anomaly, axis=1)
    correlation = np.full(values.shape[0], np.nan)
    for lag in range(values.shape[0]):
        products = np.sum(anomaly[: values.shape[0] - lag] * anomaly[lag:], axis=1)
        scale = norms[: values.shape[0] - lag] * norms[lag:]
        valid = scale > 0
        if valid.any():
            correlation[lag] = float(np.mean(products[valid] / scale[valid]))
    return correlation


def _decorrelation_time(values: np.ndarray, dt: float, correlation: np.ndarray | None = None) -> float:
    correlation = _pattern_correlation(values) if correlation is None else correlation
    if not np.isfinite(correlation[0]):
        return math.nan
    threshold = math.exp(-1.0)
    below = np.flatnonzero(correlation[1:] < threshold)
    if not below.size:
        return math.inf
    j = int(below[0]) + 1
    fraction = (correlation[j - 1] - threshold) / (correlation[j - 1] - correlation[j])
    return (j - 1 + fraction) * dt


def decorrelation_time(series: _Field, *, times: Iterable[float] | None = None,
                       component_dims: Iterable[str] | None = None) -> float:  # fmt: skip
    """Lag at which snapshots of the pattern stop resembling each other.

    ``C(τ)`` is the correlation between the spatial anomalies (each snapshot minus its
    spatial mean) of snapshots ``τ`` apart, averaged over all such pairs; the
    decorrelation time is the first ``τ`` at which ``C`` falls below ``1/e`` (linearly
    interpolated), in time units.

    Returns
    -------
    float
        ``inf`` when ``C`` stays above ``1/e`` over the series (a frozen or slowly moving
        pattern); NaN when every snapshot is spatially constant.
    """
    values, times, _ = _series_array(series, times, component_dims)
    if values.shape[0] < 2:
        raise ValueError("a decorrelation time needs at least 2 snapshots")
    return _decorrelation_time(values, _time_step(times))


# --------------------------------------------------------------------------- the label


def classify_time_behaviour(evidence: dict[str, Any]) -> TimeBehaviour:
    """Apply the documented rule (see the module) to measured numbers.

    Parameters
    ----------
    evidence
        ``snapshots``, ``amplitude`` (the standard deviation over space and the window),
        ``amplitude_floor`` (:data:`~rdnet.analysis.regime.PATTERN_RELATIVE_AMPLITUDE` · |mean|
        + :data:`~rdnet.analysis.regime.PATTERN_ABSOLUTE_AMPLITUDE`, the regime's floor),
        ``relative_change``, ``residual_ratio``, ``shift_cells``, ``peak_share``,
        ``peak_index`` (the strongest frequency's bin, 0 the mean) and ``min_correlation``,
        as :func:`time_behaviour` measures them.

    Returns
    -------
    TimeBehaviour
    """
    if evidence["snapshots"] < MIN_SNAPSHOTS:
        return TimeBehaviour("undetermined", evidence, f"fewer than {MIN_SNAPSHOTS} snapshots in the window")
    amplitude, floor = evidence.get("amplitude", math.inf), evidence.get("amplitude_floor", 0.0)
    if amplitude <= floor:
        return TimeBehaviour("stationary", evidence, f"nothing moves: the field varies by {amplitude:.3g} over space "
                                                     f"and the window, at most the pattern floor {floor:.3g}")  # fmt: skip
    change = evidence["relative_change"]
    if not change > STATIONARY_CHANGE:
        return TimeBehaviour("stationary", evidence, f"relative change {change:.3g} <= {STATIONARY_CHANGE}")
    residual, shift = evidence["residual_ratio"], evidence["shift_cells"]
    if residual <= TRAVELLING_RESIDUAL and shift >= TRAVELLING_MIN_SHIFT:
        return TimeBehaviour(
            "travelling", evidence,
            f"residual ratio {residual:.3g} <= {TRAVELLING_RESIDUAL} and shift {shift:.3g} >= {TRAVELLING_MIN_SHIFT} cells per snapshot",
        )  # fmt: skip
    share = evidence["peak_share"]
    if share >= OSCILLATION_PEAK_SHARE and evidence["peak_index"] >= 3:
        return TimeBehaviour(
            "oscillating", evidence,
            f"the strongest frequency holds {share:.3g} >= {OSCILLATION_PEAK_SHARE} of the temporal variance",
        )  # fmt: skip
    correlation = evidence["min_correlation"]
    if correlation >= STATIONARY_CORRELATION:
        return TimeBehaviour(
            "stationary", evidence,
            f"the pattern persists: correlation between snapshots {correlation:.3g} >= {STATIONARY_CORRELATION}",
        )  # fmt: skip
    return TimeBehaviour(
        "chaotic", evidence,
        f"changes (relative change {change:.3g}, correlation down to {correlation:.3g}) but not rigidly "
        f"(residual ratio {residual:.3g}) nor periodically (peak share {share:.3g})",
    )  # fmt: skip


def time_behaviour(
    series: _Field,
    *,
    times: Iterable[float] | None = None,
    window: float = 0.5,
    component_dims: Iterable[str] | None = None,
) -> TimeBehaviour:
    """Label how a pattern behaves in time: stationary, travelling, oscillating or chaotic.

    Parameters
    ----------
    series
        DataArray with dims ``(time, ..., y, x)``, or an array ``(time, ...)``.
    times
        Snapshot times (default: the ``time`` coordinate, else 0, 1, 2, ...); evenly spaced, but for a
        shorter last interval (a run that ended between two snapshot times): that last snapshot is left out
        (``evidence["left_out_last_snapshot"]``).
    window
        Fraction of the snapshots, counted from the end, that the rule looks at
        (default 0.5: the second half).
    component_dims
        Dims reduced to the norm (default: every dim between ``time`` and the spatial dims).

    Returns
    -------
    TimeBehaviour
        The label, the numbers that decided it and the rule in words (see the module).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(64)
    >>> wave = np.array([np.cos(2 * np.pi * (x - 0.7 * t) / 16) for t in range(12)])[:, None, :] * np.ones((1, 8, 1))
    >>> time_behaviour(wave).label
    'travelling'
    """
    if not 0 < window <= 1:
        raise ValueError(f"window must be a fraction in (0, 1]; got {window!r}")
    values, times, spacings = _series_array(series, times, component_dims)
    short_last = _short_last_interval(times)
    if short_last:
        values, times = values[:-1], times[:-1]
    count = max(1, int(math.ceil(window * values.shape[0])))
    values, times = values[-count:], times[-count:]
    evidence: dict[str, Any] = {
        "snapshots": int(count), "left_out_last_snapshot": short_last, "relative_change": math.nan, "residual_ratio": math.nan, "shift_cells": math.nan,
        "speed": math.nan, "velocity": [math.nan] * values[0].ndim, "peak_share": math.nan, "peak_index": 0,
        "period": math.nan, "decorrelation_time": math.nan, "min_correlation": math.nan,
    }  # fmt: skip
    if count < MIN_SNAPSHOTS:
        return classify_time_behaviour(evidence)
    dt = _time_step(times)
    amplitude = float(values.std())
    evidence["amplitude"] = amplitude
    evidence["amplitude_floor"] = PATTERN_RELATIVE_AMPLITUDE * abs(float(values.mean())) + PATTERN_ABSOLUTE_AMPLITUDE
    change = max(_rms(snapshot - values[0]) for snapshot in values)
    evidence["relative_change"] = change / amplitude if amplitude > 0 else 0.0
    shifts, residuals = [], []
    for i in range(count - 1):
        shift, remaining, raw = _shift_between(values[i], values[i + 1])
        shifts.append(shift)
        residuals.append(remaining / raw if raw > 0 else 0.0)
    median_shift = np.median(np.array(shifts), axis=0)
    velocity = median_shift * np.asarray(spacings) / dt
    frequency, power = _temporal_spectrum(values, dt)
    correlation = _pattern_correlation(values)
    total = power[1:].sum()
    peak = int(np.argmax(power[1:])) + 1 if power.size > 1 else 0
    share = float(power[max(1, peak - 1) : peak + 2].sum() / total) if total > 0 else 0.0
    evidence.update(
        residual_ratio=float(np.median(residuals)),
        shift_cells=float(np.linalg.norm(median_shift)),
        speed=float(np.linalg.norm(velocity)),
        velocity=[float(v) for v in velocity],
        peak_share=share,
        peak_index=peak,
        period=float(1.0 / frequency[peak]) if peak > 0 else math.nan,
        decorrelation_time=_decorrelation_time(values, dt, correlation),
        min_correlation=float(np.nanmin(correlation)) if np.any(np.isfinite(correlation)) else math.nan,
    )
    return classify_time_behaviour(evidence)
