"""Adaptive time stepping: the embedded pairs' error estimates, the controller, snapshots at requested times, resume."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.linalg import expm

import rdnet
from rdnet.errors import ConfigError
from rd_classic.adaptive import AdaptiveStepper
from rd_classic.grids import Grid
from rd_classic.integrators import largest_stable_dt, make_stepper
from rd_classic.models import get_model
from rd_classic.schemes import ADAPTIVE_SCHEMES, EXPLICIT_SCHEMES


def _mode_problem():
    """A coupled linear system on one Fourier mode, its 5-point eigenvalue and exact amplitudes."""
    n = 16
    grid = Grid((n, n), 2 * math.pi / n)
    y, x = grid.coordinates()
    mode = np.sin(2 * x)[None, :] * np.cos(y)[:, None]
    model = get_model("linear", a=-0.2, b=1.0, c=-1.0, d=-0.3, Du=0.1, Dv=0.05)
    mu = -(4 / grid.dx**2) * (math.sin(grid.dx) ** 2 + math.sin(grid.dx / 2) ** 2)

    def exact(time):
        return expm(time * (model.jacobian(0, 0) + mu * np.diag(model.diffusion))) @ np.array([1.0, 0.5])

    return grid, model, mode, exact


def _adaptive(integrator, grid, model, rtol, atol, backend="numba", dt_initial=0.01):
    base = make_stepper(model, grid, dt=dt_initial, integrator=integrator, backend=backend)
    return AdaptiveStepper(base, rtol=rtol, atol=atol, dt_max=largest_stable_dt(model, grid, integrator),
                           dt_initial=dt_initial)  # fmt: skip


@pytest.mark.parametrize("integrator", ADAPTIVE_SCHEMES)
def test_error_estimate_has_the_lower_members_local_order(integrator):
    # one step of size h from the same state: |e(h)| ~ h^(q+1), q the embedded (lower) order
    grid, model, mode, _ = _mode_problem()
    scheme = EXPLICIT_SCHEMES[integrator]
    norms = []
    for h in (0.2, 0.1):
        stepper = make_stepper(model, grid, dt=h, integrator=integrator)
        stepper.set_state(mode, 0.5 * mode)
        norms.append(stepper.attempt(0.0, h, rtol=0.0, atol=1.0))  # atol 1, rtol 0: the plain RMS of e
    assert math.log2(norms[0] / norms[1]) == pytest.approx(scheme.embedded_order + 1, abs=0.2)


@pytest.mark.parametrize("integrator", ADAPTIVE_SCHEMES)
def test_global_error_stays_below_the_tolerance_and_follows_it(integrator):
    grid, model, mode, exact = _mode_problem()
    errors, counts = [], []
    tolerances = (1e-3, 1e-5, 1e-7) if integrator == "rk23" else (1e-4, 1e-6, 1e-8)
    for rtol in tolerances:
        stepper = _adaptive(integrator, grid, model, rtol, 1e-3 * rtol)
        stepper.set_state(mode, 0.5 * mode)
        _, sizes = stepper.advance_to(5.0)
        assert stepper.time == 5.0 and sizes.sum() == pytest.approx(5.0, rel=1e-12)
        u, v = stepper.get_state()
        amplitude = exact(5.0)
        error = max(np.abs(u - amplitude[0] * mode).max(), np.abs(v - amplitude[1] * mode).max())
        assert error < rtol * 1.0  # the tolerance is relative to the solution's scale, 1 at the start
        errors.append(error)
        counts.append(sizes.size)
    # tolerance proportionality: the error falls with the tolerance, the step count as tol^(-1/(q+1))
    assert errors[0] / errors[-1] > 1e3
    q = EXPLICIT_SCHEMES[integrator].embedded_order
    assert math.log(counts[-1] / counts[0]) / math.log(tolerances[0] / tolerances[-1]) == pytest.approx(1 / (q + 1), abs=0.06)


def test_rejected_steps_are_retried_and_steps_are_capped_by_the_stability_limit():
    # a first try far too large is rejected; pure diffusion of a checkerboard-rich field then runs
    # at the explicit limit (the controller never exceeds it)
    model = get_model("linear", Du=1.0, Dv=1.0)
    grid = Grid((1, 32), 1.0)
    rng = np.random.default_rng(1)
    stepper = _adaptive("rk45", grid, model, 1e-3, 1e-6, dt_initial=50.0)
    assert stepper.dt_next == largest_stable_dt(model, grid, "rk45")  # the first try is capped too
    stepper = AdaptiveStepper(make_stepper(model, grid, dt=1.0, integrator="rk23"), rtol=1e-6, atol=1e-9,
                              dt_max=math.inf, dt_initial=5.0)  # fmt: skip
    field = rng.standard_normal(grid.shape)
    stepper.set_state(field, field)
    stepper.advance_to(1.0)
    assert stepper.rejected >= 1
    limit = largest_stable_dt(model, grid, "rk45")
    capped = _adaptive("rk45", grid, model, 1e-2, 1e-2)
    capped.set_state(field, field)
    _, sizes = capped.advance_to(20.0)
    assert sizes.max() <= limit and sizes[5:-1].min() > 0.9 * limit


def test_numba_and_torch_take_the_same_steps():
    grid, model, mode, _ = _mode_problem()
    runs = []
    for backend in ("numba", "torch"):
        stepper = _adaptive("rk45", grid, model, 1e-6, 1e-9, backend=backend)
        stepper.set_state(mode, 0.5 * mode)
        runs.append((stepper.advance_to(3.0)[1], stepper.get_state()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-9)
    np.testing.assert_allclose(runs[0][1][0], runs[1][1][0], atol=1e-12)


def test_adaptive_run_snapshots_at_the_requested_times_and_records_every_step(tmp_path):
    from rd_classic.observers import ClassicDatasetObserver
    from rd_classic.run import MemoryObserver, StepSizeRecorder, build_config, run_simulation

    config = build_config("brusselator", size="24x16", integrator="rk45", rtol=1e-4, time=3.0, snapshots=6,
                          boundary="no-flux")  # fmt: skip
    assert config.adaptive and config.end_time == 3.0
    recorder, memory = StepSizeRecorder(), MemoryObserver()
    path = tmp_path / "adaptive.nc"
    run_simulation(config, observers=[recorder, memory, ClassicDatasetObserver(path)])
    assert memory.times == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert recorder.times[-1] == 3.0 and sum(recorder.sizes) == pytest.approx(3.0, rel=1e-12)
    assert max(recorder.sizes) <= largest_stable_dt(config.model, config.grid, "rk45", boundary=config.boundary)
    with rdnet.open_dataset(path) as ds:
        np.testing.assert_array_equal(ds["time"].values, memory.times)
        assert ds["step"].values[-1] == len(recorder.sizes)
        sizes = np.array(recorder.sizes)
        for index in range(1, 7):  # each snapshot's smallest and largest step of its interval
            chosen = sizes[(np.array(recorder.times) > memory.times[index - 1]) & (np.array(recorder.times) <= memory.times[index])]
            assert ds["step_size_min"].values[index] == chosen.min() and ds["step_size_max"].values[index] == chosen.max()
        assert ds["rejected_steps"].values[-1] == recorder.rejected


class _InterruptAfter:
    def __init__(self, snapshots):
        self.left = snapshots

    def snapshot(self, step, time, fields):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


def test_resumed_adaptive_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path):
    from rd_classic.observers import ClassicDatasetObserver, load_resume_point
    from rd_classic.run import SimulationInterrupted, build_config, run_simulation

    config = build_config("schnakenberg", size="16x12", integrator="rk23", rtol=1e-4, time=4.0, snapshots=5,
                          boundary=["no-flux", "u.x-=dirichlet 1 + 0.1*sin(t)"])  # fmt: skip
    whole = tmp_path / "whole.nc"
    run_simulation(config, observers=[ClassicDatasetObserver(whole)])
    cut = tmp_path / "cut.nc"
    with pytest.raises(SimulationInterrupted):
        run_simulation(config, observers=[ClassicDatasetObserver(cut), _InterruptAfter(3)])
    partial = tmp_path / "cut.nc.partial"
    resumed, state, step = load_resume_point(partial)
    assert resumed.adaptive_start[0] == pytest.approx(1.6)
    run_simulation(resumed, observers=[ClassicDatasetObserver(resume_from=partial)], state=state, start_step=step)
    a, b = rdnet.open_dataset(whole), rdnet.open_dataset(cut)
    for name in ("u", "v", "reaction_u", "diffusion_v", "step", "time", "step_size_min", "step_size_next",
                 "rejected_steps"):  # fmt: skip
        np.testing.assert_array_equal(a[name].values, b[name].values)


@pytest.mark.parametrize("changes,message", [
    ({"integrator": "rk4", "rtol": 1e-4}, "adaptive integrator"),
    ({"integrator": "rk45", "steps": 10}, "not steps"),
    ({"integrator": "rk45", "snapshot_every": 10}, "snapshot_every"),
    ({"integrator": "rk45", "rtol": -1.0}, "rtol"),
    ({"integrator": "rk45", "noise": ["u=0.01"]}, "euler .Euler-Maruyama. or milstein"),
])  # fmt: skip
def test_adaptive_options_are_checked(changes, message):
    from rd_classic.run import build_config

    with pytest.raises(ConfigError, match=message):
        build_config("schnakenberg", size="8", **{"time": 1.0, **changes})


def test_a_float32_run_refuses_a_tolerance_below_float32_rounding():
    # float32 rounds every stored value by up to 6e-8 relative: on the mode problem rk45 meets rtol 1e-7 but at
    # rtol 1e-9 its error against the exact solution stays near 8e-9, eight times the tolerance; rtol 1e-12 was
    # accepted for a float32 run (the float64 bound 1e-13 was the only one) and took 12000 tiny steps
    from rd_classic.run import build_config

    grid, model, mode, exact = _mode_problem()
    errors = {}
    for rtol in (1e-7, 1e-9):
        base = make_stepper(model, grid, dt=0.01, integrator="rk45", dtype="float32")
        stepper = AdaptiveStepper(base, rtol=rtol, atol=1e-3 * rtol, dt_max=largest_stable_dt(model, grid, "rk45"),
                                  dt_initial=0.01)  # fmt: skip
        stepper.set_state(mode.astype(np.float32), (0.5 * mode).astype(np.float32))
        stepper.advance_to(5.0)
        u, v = stepper.get_state()
        amplitude = exact(5.0)
        errors[rtol] = max(np.abs(u - amplitude[0] * mode).max(), np.abs(v - amplitude[1] * mode).max())
    assert errors[1e-7] < 1e-7 and errors[1e-9] > 3e-9
    with pytest.raises(ConfigError, match="below what float32 can resolve; use rtol >= 1e-07 or --dtype float64"):
        build_config("schnakenberg", size="8", time=1.0, integrator="rk45", dtype="float32", rtol=1e-9)
    assert build_config("schnakenberg", size="8", time=1.0, integrator="rk45", dtype="float32", rtol=1e-7).rtol == 1e-7
    assert build_config("schnakenberg", size="8", time=1.0, integrator="rk45", rtol=1e-9).rtol == 1e-9


def test_a_first_try_below_the_smallest_step_is_refused_before_the_run():
    # it was a RunError at t = 0 ("the adaptive step fell to 1e-300") and a partial file
    from rd_classic.run import build_config

    with pytest.raises(ConfigError, match=r"dt=1e-300 is below the smallest step rk45 takes"):
        build_config("schnakenberg", size="8", time=1.0, integrator="rk45", dt=1e-300)


def test_a_duration_shorter_than_the_smallest_step_is_one_landing_step():
    # a run of t = 1e-20 takes the one step that lands on its end (it was refused as a collapsed step);
    # the fields move by 1e-20 times their rate: nothing a float64 of order 1 can show
    from rd_classic.run import MemoryObserver, build_config, run_simulation

    config = build_config("schnakenberg", size="8", time=1e-20, integrator="rk45", initial_condition="noise")
    observer = MemoryObserver()
    run_simulation(config, observers=[observer])
    assert observer.times[-1] == 1e-20
    np.testing.assert_allclose(observer.stacked("u")[-1], observer.stacked("u")[0], rtol=1e-15)
