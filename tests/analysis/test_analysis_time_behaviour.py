"""Time behaviour from snapshots: a travelling wave's velocity, the temporal spectrum of an
oscillation, the decorrelation time of a moving plane wave, and the four labels; the
steady-state detector on a run that relaxes and one that oscillates."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from rdnet.analysis import (
    SteadyStateDetector,
    decorrelation_time,
    pattern_velocity,
    temporal_spectrum,
    time_behaviour,
)


def travelling_wave(n_times: int, velocity: tuple[float, float], *, n: int = 64, dt: float = 0.5,
                    spacing: float = 0.25) -> xr.DataArray:  # fmt: skip
    """Σ cos(2π k·(r − c t) / L) over two oblique lattice wavevectors k (periodic; two, so that
    the motion is seen in both directions), c in length units per time."""
    length = n * spacing
    r = np.arange(n) * spacing
    y, x = np.meshgrid(r, r, indexing="ij")
    times = np.arange(n_times) * dt
    frames = [
        sum(np.cos(2 * np.pi * (ky * (y - velocity[0] * t) + kx * (x - velocity[1] * t)) / length) for ky, kx in ((2, 3), (3, -1)))
        for t in times
    ]
    return xr.DataArray(np.array(frames), dims=("time", "y", "x"), coords={"time": times, "y": r, "x": r})


def test_a_travelling_wave_has_its_velocity():
    velocity = (0.13, -0.21)  # length units per time: 0.26 and 0.42 cells per snapshot
    series = travelling_wave(6, velocity)
    measured = pattern_velocity(series)
    np.testing.assert_allclose(measured["velocity"].values, [velocity] * 5, rtol=0.02)
    np.testing.assert_allclose(measured["speed"].values, np.hypot(*velocity), rtol=0.02)
    assert np.all(measured["residual_ratio"].values < 0.05)


def test_a_series_read_by_plain_xarray_keeps_model_time(tmp_path):
    """rdnet files store model time as seconds after a nominal 1970-01-01 (CF needs a reference date):
    plain xarray.open_dataset decodes it to datetime64, which must read as the same model times
    (it was read in nanoseconds, velocities 1e9 times too small); a timedelta64 axis likewise."""
    velocity = (0.13, -0.21)
    series = travelling_wave(6, velocity)
    epoch = np.datetime64("1970-01-01T00:00:00", "ns")
    dated = series.assign_coords(time=epoch + (series["time"].values * 1e9).astype("timedelta64[ns]"))
    elapsed = series.assign_coords(time=(series["time"].values * 1e9).astype("timedelta64[ns]"))
    for decoded in (dated, elapsed):
        measured = pattern_velocity(decoded)
        np.testing.assert_allclose(measured["velocity"].values, [velocity] * 5, rtol=0.02)
        np.testing.assert_allclose(measured["time"].values, np.arange(1, 6) * 0.5)
        assert decorrelation_time(decoded) == pytest.approx(decorrelation_time(series), rel=1e-12)
        assert float(temporal_spectrum(decoded)["frequency"][1]) == pytest.approx(1 / 3)  # 1 / (6 snapshots · 0.5)


def test_a_translated_pattern_moves_in_both_directions(rng):
    base = rng.normal(size=(48, 48))
    k = np.fft.fftfreq(48)
    base = np.fft.ifft2(np.fft.fft2(base) * np.exp(-(k[:, None] ** 2 + k[None, :] ** 2) * 2 * np.pi**2 * 9)).real
    frames = np.array([np.roll(base, (2 * i, -i), axis=(0, 1)) for i in range(5)])  # 2 cells down, 1 left per step
    measured = pattern_velocity(frames, times=np.arange(5) * 4.0)
    np.testing.assert_allclose(measured["velocity"].values, [[0.5, -0.25]] * 4, atol=1e-3)
    assert time_behaviour(frames, times=np.arange(5) * 4.0, window=1.0).label == "travelling"


def test_temporal_spectrum_peaks_at_the_oscillation_and_sums_to_the_variance(rng):
    times = np.arange(128) * 0.5
    pattern = rng.normal(size=(16, 16))
    series = np.cos(2 * np.pi * times / 8.0)[:, None, None] * pattern  # period 8: 16 snapshots
    spectrum = temporal_spectrum(series, times=times)
    assert float(spectrum["frequency"][int(spectrum.argmax("frequency"))]) == pytest.approx(1 / 8)
    # window-weighted temporal variance, averaged over the grid (Parseval with the Hann weights)
    weights = np.sin(np.pi * (np.arange(128) + 0.5) / 128) ** 2
    anomaly = series - (weights[:, None, None] * series).sum(0) / weights.sum()
    expected = np.mean((weights[:, None, None] ** 2 * anomaly**2).sum(0) / (weights**2).sum())
    assert float(spectrum.sum()) == pytest.approx(expected, rel=1e-10)


def test_decorrelation_time_of_a_moving_plane_wave():
    # a plane wave moving at c: C(τ) = cos(2π c τ / λ); it falls to 1/e at τ = arccos(1/e) λ / (2π c)
    wavelength, speed, dt = 16.0, 0.4, 1.0
    x = np.arange(64.0)
    frames = np.array([np.cos(2 * np.pi * (x - speed * t) / wavelength) for t in np.arange(30) * dt])[:, None, :] * np.ones((1, 4, 1))
    expected = math.acos(math.exp(-1)) * wavelength / (2 * math.pi * speed)
    assert decorrelation_time(frames, times=np.arange(30) * dt) == pytest.approx(expected, rel=0.03)
    frozen = np.repeat(frames[:1], 10, axis=0)
    assert decorrelation_time(frozen) == math.inf


def test_the_labels(rng):
    times = np.arange(40, dtype=float)
    pattern = rng.normal(size=(24, 24))
    frozen = pattern[None] * np.ones((40, 1, 1)) + 1e-4 * rng.normal(size=(40, 24, 24))
    assert time_behaviour(frozen, times=times).label == "stationary"
    standing = np.cos(2 * np.pi * times / 5)[:, None, None] * pattern[None]  # period 5 snapshots
    oscillating = time_behaviour(standing, times=times)
    assert oscillating.label == "oscillating"
    assert oscillating.evidence["period"] == pytest.approx(5.0, rel=0.1)
    moving = travelling_wave(40, (0.1, 0.05))
    travelling = time_behaviour(moving)
    assert travelling.label == "travelling"
    assert travelling.evidence["speed"] > 0
    chaotic = time_behaviour(rng.normal(size=(40, 24, 24)), times=times)
    assert chaotic.label == "chaotic"
    assert chaotic.evidence["decorrelation_time"] < 1.0
    assert time_behaviour(frozen[:6], times=times[:6]).label == "undetermined"  # 3 snapshots in the window


def test_a_run_that_ended_between_two_snapshot_times_is_labelled_from_its_evenly_spaced_snapshots():
    velocity = (0.1, 0.05)
    moving = travelling_wave(41, velocity)  # times 0, 0.5, ..., 20
    ended = moving.isel(time=list(range(40)) + [40]).assign_coords(time=[*moving["time"].values[:40], 19.6])
    ended[-1] = travelling_wave(41, velocity, dt=19.6 / 40)[-1]  # the wave at t = 19.6, 0.1 after the previous one
    result = time_behaviour(ended)
    assert result.label == "travelling" and result.evidence["left_out_last_snapshot"]
    assert result.evidence["velocity"] == pytest.approx(velocity, rel=0.05)
    with pytest.raises(ValueError, match="evenly spaced"):  # uneven anywhere else is still refused
        time_behaviour(moving.assign_coords(time=np.r_[moving["time"].values[:30], moving["time"].values[30:] + 0.2]))


def test_bad_series_are_refused():
    with pytest.raises(ValueError, match="evenly spaced"):
        temporal_spectrum(np.zeros((4, 3, 3)), times=[0, 1, 2, 4])
    with pytest.raises(ValueError, match="'time' as its first dim"):
        time_behaviour(xr.DataArray(np.zeros((3, 3)), dims=("y", "x")))
    with pytest.raises(ValueError, match="window"):
        time_behaviour(np.zeros((4, 3, 3)), window=0)


def test_steady_state_detector_stops_a_relaxing_run_and_not_an_oscillating_one(rng):
    pattern = rng.normal(size=(16, 16))
    relaxing, oscillating = SteadyStateDetector(1e-3, window=3), SteadyStateDetector(1e-3, window=3)
    stopped_at = None
    for t in np.arange(0.0, 200.0, 2.0):
        fields = {"u": 1.0 + np.exp(-t / 10) * pattern, "v": 0.5 * np.exp(-t / 10) * pattern}
        if relaxing.update(t, fields) and stopped_at is None:
            stopped_at = t
        assert not oscillating.update(t, {"u": 1.0 + 0.3 * np.sin(2 * np.pi * t / 50) * pattern})
    # the documented rate, |f_i - f_{i-1}| / (dt |f_i|) over both species, first at or below 1e-3
    # for three intervals in a row: the run stops at the third
    def state(t):
        return np.stack([1.0 + np.exp(-t / 10) * pattern, 0.5 * np.exp(-t / 10) * pattern])

    times = np.arange(0.0, 200.0, 2.0)
    rates = [np.sqrt(np.mean((state(b) - state(a)) ** 2) / np.mean(state(b) ** 2)) / 2.0 for a, b in zip(times, times[1:])]
    first = next(i for i in range(len(rates)) if all(r <= 1e-3 for r in rates[i : i + 3]))
    assert stopped_at == times[first + 3]
    assert 30 < stopped_at < 100
    assert "steady state" in relaxing.reason and oscillating.reason == ""
    with pytest.raises(ValueError, match="tolerance"):
        SteadyStateDetector(0.0)


def test_a_state_decaying_to_zero_stops_once_below_the_absolute_floor(rng):
    """u = exp(-t/10) pattern keeps the relative rate at its decay rate (0.1 > 1e-3) and never stopped;
    floored at 1e-8 in the denominator (py-pde's atol) the rate falls once the state is below the floor."""
    pattern = rng.normal(size=(8, 8))
    times = np.arange(0.0, 400.0, 2.0)
    detector, unfloored = SteadyStateDetector(1e-3), SteadyStateDetector(1e-3, absolute=0.0)
    stopped = [t for t in times if detector.update(t, {"u": np.exp(-t / 10) * pattern})]
    assert not any(unfloored.update(t, {"u": np.exp(-t / 10) * pattern}) for t in times)
    norm = np.sqrt(np.mean(pattern**2))
    rates = [norm * abs(np.exp(-b / 10) - np.exp(-a / 10)) / (2.0 * max(norm * np.exp(-b / 10), 1e-8))
             for a, b in zip(times, times[1:])]  # fmt: skip
    first = next(i for i in range(len(rates)) if all(r <= 1e-3 for r in rates[i : i + 3]))
    assert stopped[0] == times[first + 3]
    assert norm * np.exp(-stopped[0] / 10) < 1e-8 * 1e-3 / 0.1  # far below the floor, as the rule says
    with pytest.raises(ValueError, match="floor"):
        SteadyStateDetector(1e-3, absolute=-1.0)


def test_a_homogeneous_state_with_decaying_noise_is_stationary_and_a_homogeneous_oscillation_oscillates():
    """A relaxed homogeneous state keeps only fresh round-off-sized noise: relative to its own tiny spread each
    snapshot differs completely from the last (it read as chaotic); nothing moves by the regime's floor."""
    rng = np.random.default_rng(3)
    times = np.arange(12) * 0.5
    relaxed = 0.6 + 1e-8 * rng.standard_normal((12, 32, 32)) * np.exp(-times)[:, None, None]
    behaviour = time_behaviour(relaxed, times=times)
    assert behaviour.label == "stationary" and "nothing moves" in behaviour.reason
    # the same noise on a field of ~1e-9 (a rate at its steady state) is above the absolute floor only if larger
    assert time_behaviour(1e-7 * rng.standard_normal((12, 32, 32)), times=times).label == "stationary"
    assert time_behaviour(1e-3 * rng.standard_normal((12, 32, 32)), times=times).label == "chaotic"
    # a homogeneous oscillation (Hopf) is far above the floor: it still oscillates
    waves = 0.6 + 0.05 * np.sin(2 * np.pi * np.arange(40) / 5)[:, None, None] + 1e-9 * rng.standard_normal((40, 16, 16))
    assert time_behaviour(waves, times=np.arange(40.0), window=1.0).label == "oscillating"


def test_a_pattern_moving_towards_larger_x_has_a_positive_velocity_however_x_is_stored():
    """cos(2π(x − c t)/16) moves at +c along x; with the x coordinate stored descending the
    velocity came out −c (the spacing was taken as |Δx|)."""
    t, x = np.arange(12.0), np.arange(64.0) * 0.5
    c = 0.25
    values = np.cos(2 * np.pi * (x[None, None, :] - c * t[:, None, None]) / 8) * np.ones((1, 4, 1))
    series = xr.DataArray(values, dims=("time", "y", "x"), coords={"time": t, "y": np.arange(4.0), "x": x})
    for stored in (series, series.isel(x=slice(None, None, -1))):
        velocity = pattern_velocity(stored)["velocity"].sel(axis="x").values
        np.testing.assert_allclose(velocity, c, rtol=1e-9)
        assert time_behaviour(stored).evidence["velocity"][-1] == pytest.approx(c)


def test_a_series_on_a_non_uniform_grid_is_refused_not_measured_with_its_first_step():
    t, x = np.arange(4.0), np.r_[0.0, np.cumsum(np.linspace(0.5, 1.5, 31))]
    series = xr.DataArray(np.ones((4, 2, 1)) * np.cos(x)[None, None, :], dims=("time", "y", "x"),
                          coords={"time": t, "x": x})  # fmt: skip
    with pytest.raises(ValueError, match="uniformly spaced"):
        pattern_velocity(series)
