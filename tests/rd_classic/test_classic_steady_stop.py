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
