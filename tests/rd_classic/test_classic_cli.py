"""`rdnet simulate` and `rdnet stability` through click, as a user (or the sweep) calls them."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

import rdnet
from rdnet.cli.main import cli
from rdnet.errors import ConfigError

SMALL = ["--size", "32x24", "--steps", "40", "--snapshot-every", "20", "--dx", "1",
         "--param", "Du=0.16", "--param", "Dv=0.08", "--quiet"]  # fmt: skip


def test_simulate_writes_a_valid_dataset(tmp_path):
    out = tmp_path / "gs.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "gray-scott", *SMALL, "--param", "F=0.035",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    ds = rdnet.open_dataset(out)
    assert ds.sizes["time"] == 3 and ds.sizes["x"] == 32 and ds.sizes["y"] == 24
    parameters = json.loads(ds.attrs["parameters"])
    assert parameters["F"] == 0.035 and parameters["Du"] == 0.16 and parameters["steps"] == 40
    history = ds.attrs["history"]
    assert "rdnet simulate --model gray-scott --size 32x24" in history
    assert "--param Du=0.16 --param Dv=0.08 --param F=0.035" in history


def test_sweep_style_call_raises_exceptions_instead_of_exiting(tmp_path):
    from rdnet.cli.simulate import command

    out = tmp_path / "a.nc"
    command.main(args=[*SMALL, "--out", str(out)], standalone_mode=False)
    assert out.exists()
    with pytest.raises(ConfigError, match="exists"):
        command.main(args=[*SMALL, "--out", str(out)], standalone_mode=False)
    command.main(args=[*SMALL, "--out", str(out), "--overwrite"], standalone_mode=False)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--model", "nope"], "valid models"),
        (["--param", "Du=-1"], "Du must be >= 0"),  # in place of SMALL's Du (a --param given twice is refused)
        (["--dt", "50"], "largest stable dt"),
        (["--param", "F"], "NAME=VALUE"),
        (["--preset", "zz"], "valid presets"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_file(tmp_path, args, message):
    out = tmp_path / "bad.nc"
    replaced = {f"--param {arg.split('=')[0]}" for option, arg in zip(args, args[1:]) if option == "--param"}
    small = list(SMALL)
    for index in reversed(range(len(small) - 1)):
        if f"{small[index]} {small[index + 1].split('=')[0]}" in replaced:
            del small[index : index + 2]
    result = CliRunner().invoke(cli, ["simulate", *small, *args, "--out", str(out)])
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_blow_up_exits_1_and_keeps_the_partial(tmp_path):
    out = tmp_path / "blow.nc"
    result = CliRunner().invoke(cli, ["simulate", *SMALL, "--dt", "30", "--allow-unstable", "--out", str(out)])
    assert result.exit_code == 1
    assert "NaN/Inf" in result.output and "partial file kept" in result.output
    assert not out.exists() and (tmp_path / "blow.nc.partial").exists()


def test_resume_from_the_command_line(tmp_path):
    from rd_classic.observers import ClassicDatasetObserver
    from rd_classic.run import SimulationInterrupted, build_config, run_simulation

    class Stop:
        def snapshot(self, step, time, fields):
            if step == 20:
                raise KeyboardInterrupt

    config = build_config("gray-scott", size="32x24", steps=40, snapshot_every=20, dx=1.0,
                          parameters={"Du": 0.16, "Dv": 0.08})  # fmt: skip
    out = tmp_path / "r.nc"
    with pytest.raises(SimulationInterrupted):
        run_simulation(config, observers=[ClassicDatasetObserver(out), Stop()])
    result = CliRunner().invoke(cli, ["simulate", "--resume", str(out) + ".partial", "--quiet"])
    assert result.exit_code == 0, result.output
    whole = tmp_path / "whole.nc"
    CliRunner().invoke(cli, ["simulate", *SMALL, "--out", str(whole)])
    np.testing.assert_array_equal(rdnet.open_dataset(out)["v"].values, rdnet.open_dataset(whole)["v"].values)


def test_interrupt_prints_the_resume_command_and_exits_130(tmp_path, monkeypatch):
    import rd_classic.run as run_module

    original = run_module._emit

    def emit_then_interrupt(stepper, observers, step, config):
        done = original(stepper, observers, step, config)
        if step == 20:
            raise KeyboardInterrupt  # what Ctrl-C does between two snapshots
        return done

    monkeypatch.setattr(run_module, "_emit", emit_then_interrupt)
    out = tmp_path / "i.nc"
    result = CliRunner().invoke(cli, ["simulate", *SMALL, "--out", str(out)])
    assert result.exit_code == 130
    assert f"interrupted at step 20; resume with: rdnet simulate --resume {out}.partial" in result.output


def test_help_has_examples():
    for name in ("simulate", "stability"):
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0 and "Examples:" in result.output


def test_stability_json_matches_the_schnakenberg_closed_form(tmp_path):
    plot = tmp_path / "dispersion.png"
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--json", "--plot", str(plot),
                                      "--critical", "Dv", "--bracket", "1", "100"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    state = data["states"][0]
    assert state["state"] == pytest.approx([1.0, 0.9])  # (a + b, b / (a + b)^2)
    assert state["turing_unstable"] is True
    assert data["critical"]["value"] == pytest.approx(8.5676, rel=1e-4)  # root of 0.64 d^2 - 5.6 d + 1
    assert plot.stat().st_size > 0


def _refuse_constant(name):
    raise ValueError(f"not strict JSON: {name}")


def test_stability_json_is_strict_where_the_wavelength_is_infinite():
    # Gray-Scott at u = 1, v = 0: J = diag(-F, -(F + k)), so the largest rate is -F at q = 0, whose wavelength
    # 2π/q is infinite; that was printed as the bare token Infinity, which strict JSON parsers refuse
    result = CliRunner().invoke(cli, ["stability", "--model", "gray-scott", "--param", "F=0.04", "--json"])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output, parse_constant=_refuse_constant)["states"][0]
    assert state["fastest_wavenumber"] == 0.0 and state["fastest_wavelength"] is None
    assert state["max_growth_rate"] == pytest.approx(-0.04)


def test_a_grid_too_large_for_memory_fails_in_one_line_before_any_file(tmp_path):
    # the address-space limit makes the allocation fail at once (nothing is touched): a 8000^2
    # float64 run needs ~6 GB, the limit is 3 GB (imports need well under 1 GB)
    import resource
    import subprocess
    import sys

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (3_000_000_000, 3_000_000_000))

    command = [sys.executable, "-c", "from rdnet.cli.main import cli; cli()", "simulate", "--size", "8000", "--steps", "1",
               "--out", "big.nc"]  # fmt: skip
    for _ in range(2):  # the rerun meets the same clean state, not "partial file exists"
        result = subprocess.run(command, cwd=tmp_path, preexec_fn=limit_memory, capture_output=True, text=True,
                                timeout=120)  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert result.stderr.startswith("Error: out of memory for a 8000x8000 grid"), result.stderr
        assert "no file was written" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert list(tmp_path.iterdir()) == []


def test_time_that_dt_does_not_divide_is_reached_exactly(tmp_path):
    out = tmp_path / "t.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "linear", "--size", "16", "--dx", "2", "--time", "10",
                                      "--dt", "0.3", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    # 10 / 0.3 needs 34 steps; the 20 snapshot intervals divide 40 (the fewest)
    assert "dt lowered from 0.3 to 0.25 so that 40 steps end at t = 10 with 21 evenly spaced snapshots" in result.output
    ds = rdnet.open_dataset(out)
    assert float(ds["time"][-1]) == pytest.approx(10.0, rel=1e-14) and int(ds["step"][-1]) == 40
    np.testing.assert_allclose(ds["time"].values, np.linspace(0.0, 10.0, 21), rtol=1e-14, atol=1e-14)


def test_a_dt_that_divides_the_time_is_not_said_to_be_lowered(tmp_path):
    # 0.3 / 3 is 0.09999999999999999 in floating point: the note said "dt lowered from 0.1 to 0.1"
    out = tmp_path / "t.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "linear", "--size", "16", "--dx", "2", "--time", "0.3",
                                      "--dt", "0.1", "--snapshots", "3", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "lowered" not in result.output
    ds = rdnet.open_dataset(out)
    assert int(ds["step"][-1]) == 3 and float(ds["time"][-1]) == pytest.approx(0.3, rel=1e-14)


def test_snapshots_sets_the_intervals_evenly_spaced_up_to_the_requested_time(tmp_path):
    out = tmp_path / "t.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "linear", "--size", "16", "--dx", "2", "--time", "10",
                                      "--dt", "0.3", "--snapshots", "4", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    ds = rdnet.open_dataset(out)  # 34 steps are needed; 4 intervals divide 36
    np.testing.assert_allclose(ds["time"].values, np.linspace(0.0, 10.0, 5), rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(ds["step"].values, [0, 9, 18, 27, 36])


@pytest.mark.parametrize("name", ["x.xyz", "noext"])
def test_stability_plot_with_an_unknown_image_type_is_one_line_exit_2(tmp_path, name):
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--plot", str(tmp_path / name)])
    assert result.exit_code == 2
    assert "unsupported image type" in result.output and ".png" in result.output
    assert len(result.output.strip().splitlines()) == 1 and list(tmp_path.iterdir()) == []


def test_stability_refuses_a_bracket_without_critical():
    """--bracket only bounds --critical's search: alone it cannot apply, so it is refused, not ignored."""
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--bracket", "1", "100"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == ["Error: --bracket applies only with --critical NAME"]


@pytest.mark.parametrize(("dx", "dtype"), [("1e-300", "float64"), ("1e308", "float64"), ("1e300", "float64"),
                                           ("1e-100", "float32"), ("1e38", "float32")])  # fmt: skip
def test_a_spacing_the_dtype_cannot_hold_is_refused(tmp_path, dx, dtype):
    """1/dx² (the Laplacian's scale) and the domain length must be finite in the run's dtype: a
    tiny dx was a ZeroDivisionError traceback, a huge one an OverflowError, in float32 a NaN run;
    1e300 (a finite domain, but dx² beyond float64) was an OverflowError traceback."""
    out = tmp_path / "t.nc"
    result = CliRunner().invoke(cli, ["simulate", "--model", "linear", "--size", "8", "--steps", "2", "--dx", dx,
                                      "--dtype", dtype, "--out", str(out)])  # fmt: skip
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: dx = {float(dx):g} is out of {dtype}'s range"), lines
    assert list(tmp_path.iterdir()) == []


def test_stability_keeps_an_existing_plot_unless_overwrite(tmp_path):
    """--plot replaced an existing image silently; like rdnet plot/compare it now needs --overwrite."""
    existing = tmp_path / "dispersion.png"
    existing.write_bytes(b"the user's figure")
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--plot", str(existing)])
    assert result.exit_code == 2
    assert "exists" in result.output and "--overwrite" in result.output
    assert existing.read_bytes() == b"the user's figure"
    result = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--plot", str(existing), "--overwrite"])
    assert result.exit_code == 0, result.output
    assert existing.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    alone = CliRunner().invoke(cli, ["stability", "--model", "schnakenberg", "--overwrite"])
    assert alone.exit_code == 2 and "--overwrite applies only with --plot" in alone.output


def test_critical_with_several_steady_states_needs_state():
    """Thomas has three steady states at its defaults: --critical followed the first one found, silently."""
    result = CliRunner().invoke(cli, ["stability", "--model", "thomas", "--critical", "Dv", "--bracket", "1", "100"])
    assert result.exit_code == 2
    assert "--critical follows one steady state and thomas has 3 here; choose one with --state (0..2)" in result.output
