"""``rdnet simulate --stop-when-steady``: a run that relaxes stops early and says why; one that
oscillates runs to its end."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.dataset import open_dataset


def simulate(*args):
    return CliRunner().invoke(cli, ["simulate", "--size", "16", *map(str, args)])


def test_a_relaxing_run_stops_once_steady_and_records_why(tmp_path):
    # Gray-Scott at (F, k) = (0.02, 0.08) from small noise: the trivial state u = 1, v = 0 is
    # linearly stable with rates F and F + k, so the noise decays and the state stops changing
    path = tmp_path / "decay.nc"
    result = simulate("--model", "gray-scott", "--param", "F=0.02", "--param", "k=0.08", "--initial", "noise",
                      "--dt", "1", "--steps", "5000", "--snapshot-every", "50", "--stop-when-steady", "1e-6",
                      "--out", path)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "steady state" in result.output
    with open_dataset(path) as dataset:
        reason = dataset.attrs["stop_reason"]
        last_step = int(dataset["step"].values[-1])
        u = dataset["u"].values
    assert reason.startswith("steady state") and f"step {last_step}" in reason
    assert 0 < last_step < 5000  # stopped before the end
    # the documented rate: |u_i - u_i-1, v_i - v_i-1| / (50 |u_i, v_i|) was <= 1e-6 at the last snapshot
    with open_dataset(path) as dataset:
        v = dataset["v"].values
    change = np.sqrt(np.mean((u[-1] - u[-2]) ** 2) + np.mean((v[-1] - v[-2]) ** 2))
    scale = np.sqrt(np.mean(u[-1] ** 2) + np.mean(v[-1] ** 2))
    assert change / (50 * scale) <= 1e-6


def test_a_run_decaying_to_zero_under_dirichlet_sides_stops(tmp_path):
    # pure diffusion with u = v = 0 on every side of the 16 x 16 grid: every mode decays, the slowest at
    # 2 * 4 D sin^2(pi / 32) / dx^2 = 0.077 per time unit, so the relative rate never fell below 1e-3
    # and the run went on to its end; the norm is floored at ABSOLUTE_FLOOR (1e-8)
    path = tmp_path / "zero.nc"
    result = simulate("--model", "linear", "--boundary", "dirichlet 0", "--time", "4000", "--snapshot-every", "50",
                      "--stop-when-steady", "1e-3", "--out", path)  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_dataset(path) as dataset:
        assert dataset.attrs["stop_reason"].startswith("steady state")
        assert float(dataset["time"].values[-1]) < 4000
        rms = float(np.sqrt(np.mean(dataset["u"].values[-1] ** 2) + np.mean(dataset["v"].values[-1] ** 2)))
    assert rms < 1e-8


def test_an_oscillating_run_is_not_stopped(tmp_path):
    # Brusselator with a = 1, b = 3 > 1 + a^2: the homogeneous state is Hopf unstable (a limit
    # cycle of period about 2π), and with Du = Dv no Turing pattern forms: it keeps oscillating
    path = tmp_path / "cycle.nc"
    result = simulate("--model", "brusselator", "--param", "a=1", "--param", "b=3", "--param", "Du=1", "--param", "Dv=1",
                      "--dt", "0.05", "--steps", "1200", "--snapshot-every", "20", "--stop-when-steady", "1e-3",
                      "--out", path)  # fmt: skip
    assert result.exit_code == 0, result.output
    with open_dataset(path) as dataset:
        assert int(dataset["step"].values[-1]) == 1200
        assert dataset.attrs["stop_reason"].startswith("completed: no steady state")
        u_mean = dataset["u"].mean(("y", "x")).values
    assert np.ptp(u_mean[len(u_mean) // 2 :]) > 0.5  # still oscillating at the end


def test_a_bad_tolerance_is_refused():
    result = simulate("--stop-when-steady", "0")
    assert result.exit_code == 2 and "--stop-when-steady" in result.output


def test_a_tolerance_that_is_no_finite_number_is_refused_before_any_file(tmp_path):
    """nan passed click's range check (every comparison with nan is false) and was a traceback."""
    import pytest

    import rd_classic
    from rdnet.errors import ConfigError

    for text in ("nan", "inf"):
        result = simulate("--stop-when-steady", text, "--out", str(tmp_path / "t.nc"))
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines() == [
            f"Error: stop_when_steady must be a positive finite number, got {float(text)!r}"]
    with pytest.raises(ConfigError, match="stop_when_steady must be a positive finite number"):
        rd_classic.simulate(model="linear", size=8, steps=2, stop_when_steady=-1.0, quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_a_noisy_stationary_run_stops_only_above_its_noise_rate(tmp_path):
    # u' = 1 - u + 0.1 xi (1-D, dx = 1, no diffusion): each cell is an Ornstein-Uhlenbeck process of
    # stationary variance 0.1^2 / 2, snapshots dt * 100 = 5 apart are nearly independent, so the
    # relative rate settles at sqrt(2 * 0.005) / 5 = 0.02 (docs/classic.md): 0.05 stops, 0.01 does not
    model = tmp_path / "ou.toml"
    model.write_text('name = "ou"\nspecies = ["u"]\n[diffusion]\nu = 0\n[reaction]\nu = "1 - u"\n'
                     '[initial]\nu = "1"\n[noise]\nu = "0.1"\n')  # fmt: skip
    expected_rate = np.sqrt(2 * 0.1**2 / 2) / 5.0
    for tolerance, stops in ((2.5 * expected_rate, True), (0.5 * expected_rate, False)):
        path = tmp_path / f"ou-{tolerance:g}.nc"
        result = CliRunner().invoke(cli, ["simulate", "--model-file", str(model), "--size", "256x1", "--dt", "0.05",
                                          "--time", "150", "--snapshot-every", "100", "--stop-when-steady",
                                          str(tolerance), "--quiet", "--out", str(path)])  # fmt: skip
        assert result.exit_code == 0, result.output
        with open_dataset(path) as dataset:
            assert dataset.attrs["stop_reason"].startswith("steady state" if stops else "completed")


def test_an_interrupted_steady_run_resumed_stops_where_the_uninterrupted_one_did(tmp_path, monkeypatch):
    # the tolerance was not stored, so '--resume X.partial' ran on to the full end; and a check given it
    # again started its window afresh, stopping snapshots later than the uninterrupted run
    import json

    import rd_classic.run as run_module

    options = ["--model", "gray-scott", "--param", "F=0.02", "--param", "k=0.08", "--initial", "noise", "--dt", "1",
               "--steps", "5000", "--snapshot-every", "50", "--stop-when-steady", "1e-6", "--quiet"]  # fmt: skip
    reference = tmp_path / "reference.nc"
    assert simulate(*options, "--out", reference).exit_code == 0
    original, emitted = run_module._emit, []

    def interrupt_after_five(stepper, observers, step, config):
        result = original(stepper, observers, step, config)
        emitted.append(step)
        if len(emitted) == 5:
            raise KeyboardInterrupt  # Ctrl-C between two snapshots
        return result

    monkeypatch.setattr(run_module, "_emit", interrupt_after_five)
    cut = tmp_path / "cut.nc"
    assert simulate(*options, "--out", cut).exit_code == 130
    monkeypatch.setattr(run_module, "_emit", original)
    resumed = CliRunner().invoke(cli, ["simulate", "--resume", f"{cut}.partial", "--quiet"])
    assert resumed.exit_code == 0, resumed.output
    with open_dataset(cut) as got, open_dataset(reference) as want:
        assert 250 < int(want["step"].values[-1]) < 5000  # the reference stopped early, after the cut
        np.testing.assert_array_equal(got["step"].values, want["step"].values)
        np.testing.assert_array_equal(got["v"].values, want["v"].values)
        assert got.attrs["stop_reason"] == want.attrs["stop_reason"]
        assert json.loads(got.attrs["parameters"])["stop_when_steady"] == 1e-6


def test_a_run_stopped_steady_is_named_by_its_last_snapshot_when_resumed_without_an_end(tmp_path):
    # the message quoted the asked-for end (t = 5000, 5000 steps) of a run that had stopped at a steady state
    path = tmp_path / "steady.nc"
    assert simulate("--model", "gray-scott", "--param", "F=0.02", "--param", "k=0.08", "--initial", "noise", "--dt",
                    "1", "--steps", "5000", "--snapshot-every", "50", "--stop-when-steady", "1e-6", "--quiet",
                    "--out", path).exit_code == 0  # fmt: skip
    with open_dataset(path) as dataset:
        last = int(dataset["step"].values[-1])
    assert last < 5000
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(path)])
    assert result.exit_code == 2 and f"its last snapshot: step {last}, t = {last:g})" in result.output
