"""The run loop with the dataset writer: output convention, resume, guards."""

from __future__ import annotations

import json

import numpy as np
import pytest

import rdnet
from rdnet.errors import ConfigError, RunError
from rd_classic.observers import ClassicDatasetObserver, load_resume_point
from rd_classic.run import MemoryObserver, SimulationInterrupted, build_config, run_simulation


def _small(**changes):
    options = dict(size="24x20", steps=60, snapshot_every=10, dx=1.0,
                   parameters={"F": 0.035, "k": 0.065, "Du": 0.16, "Dv": 0.08})  # fmt: skip
    options.update(changes)
    return build_config("gray-scott", **options)


def test_dataset_holds_fields_rates_and_reproducible_parameters(tmp_path):
    config = _small()
    path = tmp_path / "gs.nc"
    memory = MemoryObserver()
    run_simulation(config, observers=[ClassicDatasetObserver(path), memory])
    ds = rdnet.open_dataset(path)
    assert ds.attrs["system"] == "classic" and ds.attrs["model"] == "gray-scott"
    for name in ("u", "v", "reaction_u", "reaction_v", "diffusion_u", "diffusion_v"):
        assert ds[name].dims == ("time", "y", "x")
        assert ds[name].attrs["units"] and ds[name].attrs["long_name"]
    assert ds.sizes == {"time": 7, "y": 20, "x": 24}
    np.testing.assert_array_equal(ds["step"].values, np.arange(0, 61, 10))
    np.testing.assert_allclose(ds["time"].values, np.arange(0, 61, 10) * config.dt)
    # the first snapshot is the initial state, and the file equals what the loop produced
    np.testing.assert_array_equal(ds["u"].values, memory.stacked("u"))
    # reaction + diffusion is the rate of change: u(t + dt) ~ u + dt (R + D) (Euler is exactly that)
    parameters = json.loads(ds.attrs["parameters"])
    for key in ("F", "k", "Du", "Dv", "dx", "dt", "integrator", "boundary", "seed", "initial_condition",
                "size", "steps", "snapshot_every", "dtype", "device"):  # fmt: skip
        assert key in parameters
    # rerunning from the stored parameters reproduces the run exactly
    from rd_classic.run import SimulationConfig

    again = MemoryObserver()
    run_simulation(SimulationConfig.from_parameters(parameters), observers=[again])
    np.testing.assert_array_equal(again.stacked("v"), ds["v"].values)


def test_euler_rates_are_the_step(tmp_path):
    config = _small(steps=1, snapshot_every=1)
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    u0, u1 = memory.fields["u"]
    rate = memory.fields["reaction_u"][0] + memory.fields["diffusion_u"][0]
    np.testing.assert_allclose(u1, u0 + config.dt * rate, rtol=1e-14)


class _InterruptAfter:
    def __init__(self, snapshots):
        self.left = snapshots

    def snapshot(self, step, time, fields):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


@pytest.mark.parametrize("integrator", ["euler", "rk4", "etdrk4"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_resumed_run_equals_the_uninterrupted_one_bit_for_bit(tmp_path, integrator, dtype):
    config = _small(integrator=integrator, dtype=dtype, dt=0.5)
    whole = tmp_path / "whole.nc"
    run_simulation(config, observers=[ClassicDatasetObserver(whole)])
    cut = tmp_path / "cut.nc"
    with pytest.raises(SimulationInterrupted):
        run_simulation(config, observers=[ClassicDatasetObserver(cut), _InterruptAfter(3)])
    partial = tmp_path / "cut.nc.partial"
    assert partial.exists() and not cut.exists()
    resumed_config, state, step = load_resume_point(partial)
    assert step == 20 and state[0].dtype == np.dtype(dtype)
    run_simulation(resumed_config, observers=[ClassicDatasetObserver(resume_from=partial)], state=state, start_step=step)
    assert cut.exists() and not partial.exists()
    a, b = rdnet.open_dataset(whole), rdnet.open_dataset(cut)
    for name in ("u", "v", "reaction_v", "diffusion_u", "step", "time"):
        np.testing.assert_array_equal(a[name].values, b[name].values)


def test_blow_up_stops_names_the_step_and_keeps_the_partial(tmp_path):
    config = _small(dt=20.0, allow_unstable=True, steps=200)
    path = tmp_path / "blow.nc"
    with pytest.raises(RunError, match=r"NaN/Inf appeared between step \d+ and step \d+"):
        run_simulation(config, observers=[ClassicDatasetObserver(path)])
    assert not path.exists()
    kept = rdnet.open_dataset(tmp_path / "blow.nc.partial")
    assert kept.sizes["time"] >= 1
    assert np.isfinite(kept["u"].values).all()


def test_unstable_dt_is_refused_with_the_largest_stable_dt():
    # at u = 1, v = 0 the Jacobian is diag(-F, -(F + k)); the checkerboard adds -8 D / dx^2, so the
    # fastest decay is F + 8 Du = 1.315 and forward Euler needs dt <= 2 / 1.315 = 1.520913
    with pytest.raises(ConfigError, match=r"largest stable dt is 1\.52091"):
        _small(dt=1.53)
    _small(dt=1.52)
    # RK4 reaches 2.7853 on the negative real axis: dt <= 2.785293563 / 1.315
    with pytest.raises(ConfigError, match=r"largest stable dt is 2\.11809"):
        _small(dt=2.2, integrator="rk4")


def test_time_ends_exactly_at_the_requested_time():
    config = _small(steps=None, time=10.0, dt=0.3)  # 10 / 0.3 is not an integer
    assert config.steps == 34 and config.dt == pytest.approx(10.0 / 34) and config.dt <= 0.3
    assert config.steps * config.dt == pytest.approx(10.0, rel=1e-15)
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    assert memory.times[-1] == pytest.approx(10.0, rel=1e-15)
    # a duration that dt divides keeps dt as given
    assert _small(steps=None, time=10.0, dt=0.25).dt == 0.25


def test_a_run_given_by_its_time_has_evenly_spaced_snapshots_up_to_the_last():
    # 10 / 0.3 needs 34 steps, which 4 snapshot intervals do not divide: the run takes 36 (the fewest that they
    # divide), so that the temporal analysis, which needs even spacing, reads every run rdnet writes
    config = _small(steps=None, snapshot_every=None, time=10.0, dt=0.3, snapshots=4)
    assert config.steps == 36 and config.snapshot_every == 9 and config.dt == pytest.approx(10.0 / 36)
    memory = MemoryObserver()
    run_simulation(config, observers=[memory])
    np.testing.assert_allclose(memory.times, np.linspace(0.0, 10.0, 5), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"parameters": {"Du": -1.0}}, "Du must be >= 0"),
        ({"preset": "omega"}, "valid presets: alpha"),
        ({"size": "0"}, "size"),
        ({"size": "2x2"}, "at least 3 cells"),
        ({"parameters": {"F": float("nan")}}, "finite"),
        ({"integrator": "leapfrog"}, "valid integrators"),
        ({"steps": 0}, "positive integer"),
        ({"dx": -1.0}, "dx"),
        ({"integrator": "etdrk4", "boundary": "robin 1 1 0", "dt": 0.5}, "Robin side"),
        ({"integrator": "etdrk4", "boundary": "no-flux", "dt": 0.5, "backend": "torch"}, "every side periodic"),
        ({"integrator": "imex", "backend": "torch"}, "runs on the CPU"),
    ],
)
def test_bad_configuration_is_a_config_error(changes, message):
    with pytest.raises(ConfigError, match=message):
        config = _small(**changes)
        run_simulation(config)


def test_a_run_that_fails_before_its_first_snapshot_leaves_no_file(tmp_path):
    # the writer's partial file holds no snapshot: nothing to resume, so it must not block a rerun
    class FailFirstSnapshot:
        def snapshot(self, step, time, fields):
            raise MemoryError

    config = _small()
    path = tmp_path / "gs.nc"
    with pytest.raises(MemoryError):
        run_simulation(config, observers=[FailFirstSnapshot(), ClassicDatasetObserver(path)])
    assert list(tmp_path.iterdir()) == []
    run_simulation(config, observers=[ClassicDatasetObserver(path)])  # the rerun is not refused
    assert path.exists()


def test_state_and_first_snapshot_are_allocated_before_the_writer_starts(tmp_path, monkeypatch):
    # a grid too large for memory must fail before any file exists
    import rd_classic.run as run_module

    def no_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(run_module, "initial_state", no_memory)
    path = tmp_path / "gs.nc"
    with pytest.raises(MemoryError):
        run_simulation(_small(), observers=[ClassicDatasetObserver(path)])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("integrator,model", [("etdrk4", "linear"), ("imex", "linear"), ("rk45", "schnakenberg")])
def test_allow_unstable_is_refused_where_no_step_limit_is_checked(integrator, model):
    """etdrk4 and imex bound only their explicit reaction (none in the default linear model: no limit) and
    rk23/rk45 choose their steps under it: --allow-unstable cannot apply there (it was ignored)."""
    with pytest.raises(ConfigError, match=f"allow_unstable applies only to .*not {integrator}"):
        build_config(model, size="16", time=1.0, dt=0.05, integrator=integrator, allow_unstable=True)


def test_a_noisy_blow_up_names_the_kick_per_step(tmp_path):
    """Spatially white noise kicks a cell by σ·sqrt(dt/dx^d) per step: the error says so (and its size)."""
    config = build_config(model="gray-scott", size=(16, 16), dx=0.01, steps=40, noise=["u=0.05"], seed=1)
    with pytest.raises(RunError, match=r"amplitude × 100 \(sqrt\(dt/dx\^2\)"):  # sqrt(1 / 0.01^2)
        run_simulation(config, observers=[ClassicDatasetObserver(tmp_path / "noisy.nc")])


POSITION_DEPENDENT_DECAY = """
name = "forced-decay"
species = ["u"]
[parameters]
k = 100.0
[diffusion]
u = 1.0
[reaction]
u = "-k*u + sin(2*pi*x/Lx)"
[initial]
u = "0"
"""


def test_a_reaction_that_depends_on_position_bounds_the_default_dt(tmp_path):
    # no homogeneous steady state (the forcing depends on x), but the Jacobian is -k everywhere: on a
    # periodic 1-D grid of dx = 1 the fastest mode decays at k + 4 D = 104, so Euler needs dt <= 2/104.
    # Diffusion alone (the limit before) allowed dt = 0.4, which grew every mode by |1 - 41.6| per step.
    from rd_classic.models import load_model_file

    path = tmp_path / "forced.toml"
    path.write_text(POSITION_DEPENDENT_DECAY)
    declaration = load_model_file(path)
    with pytest.raises(ConfigError, match=r"largest stable dt is 0\.0192308"):
        build_config(declaration, size="16x1", dt=0.1, steps=10)
    config = build_config(declaration, size="16x1", time=10.0)
    assert config.dt <= 2 / 104
    observer = MemoryObserver()
    run_simulation(config, observers=[observer])
    # the steady state: u = sin(2πx/L) / (k + λ), λ = 4 sin²(π/16) the discrete Laplacian's eigenvalue
    x = (np.arange(16) + 0.5)
    expected = np.sin(2 * np.pi * x / 16) / (100 + 4 * np.sin(np.pi / 16) ** 2)
    np.testing.assert_allclose(observer.stacked("u")[-1].ravel(), expected, atol=1e-12)
