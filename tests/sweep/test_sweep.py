"""``rdnet.sweep`` and ``rdnet sweep`` on a real dask.distributed LocalCluster (worker processes on loopback).

Every test runs the real ``rd_classic.simulate`` in the workers on a tiny Gray-Scott grid.
One cluster is shared by the module (it is what ``--scheduler ADDRESS`` talks to); the
Ctrl-C test starts its own through the command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from rdnet.cli.main import cli
from rdnet.sweep import (
    JOURNAL_NAME,
    REGIME_FLAGS,
    TIME_BEHAVIOUR_FLAGS,
    dask_client,
    execute_plan,
    plan_sweep,
    read_journal,
    run_sweep,
)
from rdnet.dataset import open_dataset

#: options of every test point: a small grid, Pearson's set-up, a short run
SMALL = ("--model", "gray-scott", "--size", "32", "--steps", "400", "--snapshot-every", "400")
#: the same options as keywords of rd_classic.simulate (the library's sweep)
SMALL_OPTIONS = {"model": "gray-scott", "size": 32, "steps": 400, "snapshot_every": 400}
#: a point that decays to the trivial state u = 1, v = 0: v obeys dv/dt = -(F + k) v there,
#: so after t = 400 its amplitude is below exp(-0.1 * 400) of the start (pure decay, no pattern)
DECAYING = {"F": 0.02, "k": 0.08}


@pytest.fixture(scope="module")
def client():
    """A local cluster of 2 worker processes on 127.0.0.1, one thread each."""
    with dask_client(workers=2, threads_per_point=1, echo=lambda line: None) as dask:
        yield dask


def _events(directory: Path) -> list[dict]:
    return read_journal(directory)


def _count(directory: Path, event: str) -> Counter:
    return Counter(item["point"] for item in _events(directory) if item["event"] == event)


def _find(parameters, key):
    """A value anywhere in a nested parameters dict (writers may group model parameters)."""
    if isinstance(parameters, dict):
        if key in parameters:
            return parameters[key]
        for value in parameters.values():
            found = _find(value, key)
            if found is not None:
                return found
    return None


def test_every_point_is_written_once_with_its_own_parameters(client, tmp_path):
    directory = tmp_path / "sweep"
    grid = {"F": [0.02, 0.035], "k": [0.06, 0.08]}
    returned = run_sweep("simulate", grid, SMALL_OPTIONS, out=directory, client=client, progress=False,
                         echo=lambda line: None)  # fmt: skip

    assert set(returned["status"].values.ravel()) == {"ok"}
    assert _count(directory, "written") == {name: 1 for name in ("F=0.02_k=0.06", "F=0.02_k=0.08", "F=0.035_k=0.06",
                                                                 "F=0.035_k=0.08")}  # fmt: skip
    summary = open_dataset(directory / "summary.nc")
    np.testing.assert_array_equal(returned["dominant_wavelength"].values, summary["dominant_wavelength"].values)
    assert summary.attrs["system"] == "sweep" and summary.attrs["model"] == "gray-scott"
    assert summary["pattern"].dims == ("F", "k")
    np.testing.assert_array_equal(summary["F"].values, [0.02, 0.035])
    np.testing.assert_array_equal(summary["k"].values, [0.06, 0.08])
    assert summary["F"].attrs["units"] == "1/s" and summary["F"].attrs["model_units"] == "1/time"
    for i, F in enumerate(summary["F"].values):
        for j, k in enumerate(summary["k"].values):
            point = summary.isel(F=i, k=j)
            assert str(point["status"].values) == "ok"
            assert float(point["wall_time"]) > 0
            with open_dataset(directory / str(point["file"].values)) as dataset:
                parameters = json.loads(dataset.attrs["parameters"])
                assert _find(parameters, "F") == F and _find(parameters, "k") == k
                assert dataset.sizes["time"] >= 2
    # the trivial state is linearly stable with rate F + k: the decaying point has no pattern
    decayed = summary.sel(**DECAYING)
    assert int(decayed["pattern"]) == 0
    assert int(decayed["regime"]) == REGIME_FLAGS["homogeneous"]
    assert float(decayed["field_std"]) < 1e-6
    assert summary["regime"].attrs["flag_meanings"].split() == list(REGIME_FLAGS)
    # two snapshots: too few to tell a time behaviour
    assert set(summary["time_behaviour"].values.ravel()) == {TIME_BEHAVIOUR_FLAGS["undetermined"]}
    assert summary["euler_characteristic"].dims == ("F", "k")
    # no temporary file of any attempt is left behind
    assert sorted(path.name for path in directory.iterdir() if path.name.startswith(".")) == []
    # the phase diagram through the real 'rdnet plot'
    figure = tmp_path / "phase.png"
    drawn = CliRunner().invoke(cli, ["plot", str(directory / "summary.nc"), "--out", str(figure)])
    assert drawn.exit_code == 0, drawn.output
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_records_a_failing_point_goes_on_and_a_rerun_redoes_only_what_is_missing(client, tmp_path):
    directory = tmp_path / "sweep"
    arguments = ["sweep", "simulate", *SMALL, "--grid", "F=-0.01,0.02", "--grid", "k=0.08"]
    arguments += ["--scheduler", client.scheduler_info()["address"], "--out", str(directory), "--quiet"]

    first = CliRunner().invoke(cli, arguments)
    assert first.exit_code == 0, first.output
    summary = open_dataset(directory / "summary.nc").load()
    bad, good = summary.sel(F=-0.01, k=0.08), summary.sel(F=0.02, k=0.08)
    assert str(bad["status"].values) == "failed" and "F" in str(bad["error"].values)
    assert int(bad["pattern"]) == -1 and np.isnan(float(bad["dominant_wavelength"]))
    assert int(bad["regime"]) == REGIME_FLAGS["failed"] and np.isnan(float(bad["euler_characteristic"]))
    assert str(good["status"].values) == "ok"
    assert not (directory / str(bad["file"].values)).exists()
    good_file = directory / str(good["file"].values)
    written_at = good_file.stat().st_mtime_ns

    second = CliRunner().invoke(cli, arguments)
    assert second.exit_code == 0, second.output
    assert good_file.stat().st_mtime_ns == written_at
    starts = _count(directory, "start")
    assert starts[good_file.stem] == 1  # skipped on the rerun
    assert starts[Path(str(bad["file"].values)).stem] == 2  # tried again

    good_file.unlink()  # a missing point is run again, and only that one
    third = CliRunner().invoke(cli, arguments)
    assert third.exit_code == 0, third.output
    assert _count(directory, "written")[good_file.stem] == 2
    rerun = open_dataset(directory / "summary.nc")
    assert str(rerun.sel(F=0.02, k=0.08)["status"].values) == "ok"


@pytest.mark.parametrize("store_format", ["netcdf", "zarr"])
def test_a_worker_killed_mid_point_is_retried_and_every_point_is_written_once(client, tmp_path, store_format):
    directory = tmp_path / "sweep"
    plan = plan_sweep("simulate", {"F": [0.03, 0.035], "k": [0.06, 0.065]}, SMALL_OPTIONS, directory,
                      format=store_format)  # fmt: skip
    outcome: dict = {}
    sweep = threading.Thread(
        target=lambda: outcome.update(result=execute_plan(plan, client=client, progress=False, echo=lambda line: None))
    )
    sweep.start()
    victim = None
    deadline = time.monotonic() + 120
    while victim is None and time.monotonic() < deadline:
        starts = [event for event in _events(directory) if event["event"] == "start"] if directory.exists() else []
        if starts:
            victim = starts[0]
            os.kill(victim["pid"], signal.SIGKILL)  # what the kernel's OOM killer does
        time.sleep(0.01)
    sweep.join(timeout=240)
    assert victim is not None and not sweep.is_alive()

    result = outcome["result"]
    assert result.count("ok") == 4
    assert not any(event["event"] == "written" and event["attempt"] == victim["attempt"] for event in _events(directory))
    assert _count(directory, "written") == {task.name: 1 for task in plan.tasks}
    assert _count(directory, "start")[victim["point"]] >= 2
    assert sorted(path.name for path in directory.iterdir() if path.name.startswith(".")) == []
    if store_format == "netcdf":
        assert (directory / f"{victim['point']}.nc").is_file()
    else:  # every region written once the retry is done, the store published
        import xarray as xr

        points = xr.open_zarr(directory / "points.zarr", decode_times=False)
        np.testing.assert_array_equal(points["point_complete"].values, np.ones((2, 2)))
        assert np.isfinite(points["v"].values).all()


def test_local_workers_run_without_the_profiler_and_eager_malloc_trim(client):
    """The two dask defaults that slow a CPU-bound point are off in every worker.

    Dask's statistical profiler contends for the GIL every 10 ms and its
    ``MALLOC_TRIM_THRESHOLD_=65536`` doubles the analysis time (docs/benchmarks_sweep.md).
    This runs after the worker-kill test, so it also covers a worker the nanny restarted.
    """
    import dask

    def settings():
        return dask.config.get("distributed.worker.profile.enabled"), os.environ.get("MALLOC_TRIM_THRESHOLD_")

    expected_trim = os.environ.get("MALLOC_TRIM_THRESHOLD_")  # a user's own setting is inherited
    client.wait_for_workers(2, timeout=120)  # the killed worker's replacement
    found = client.run(settings)
    assert len(found) == 2
    assert set(found.values()) == {(False, expected_trim)}, found


def _session_processes(session: int) -> list[int]:
    """Live (non-zombie) processes of a session, i.e. everything the sweep command started."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid", "status"]):
        try:
            if os.getsid(process.pid) == session and process.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(process.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return found


def test_bad_input_is_one_error_line_before_anything_is_written(tmp_path):
    directory = tmp_path / "sweep"
    cases = [
        (["--grid", "F=0.01:0.07"], "needs a count"),
        (["--grid", "G=1,2"], "no parameter 'G'"),
        (["--grid", "seed=0:4", "--seed", "3"], "both swept"),
        (["--grid", "F=0.01", "--resume", "x.nc.partial"], "--resume cannot be passed"),
        (["--grid", "F=0.01", "--integrator", "leapfrog"], "integrator"),
        (["--grid", "F=0.01", "--steps", "many"], "steps"),
        (["--grid", "steps=10,20.5"], "not a whole number"),
        (["--grid", "F=0.01", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "cannot go with"),
    ]
    for extra, fragment in cases:
        result = CliRunner().invoke(cli, ["sweep", "simulate", *extra, "--out", str(directory)])
        assert result.exit_code == 2, (extra, result.output)
        assert fragment in result.output, (extra, result.output)
        assert len(result.output.strip().splitlines()) == 1, result.output
        assert not directory.exists()
    help_text = CliRunner().invoke(cli, ["sweep", "simulate", "--help"]).output
    assert "Examples:" in help_text and "--grid" in help_text


@pytest.mark.slow
def test_ctrl_c_stops_the_sweep_cleanly_and_the_same_command_continues(tmp_path, client):
    directory = tmp_path / "sweep"
    grid = ["--grid", "F=0.03:0.045:4", "--grid", "k=0.055:0.07:4"]
    command = [sys.executable, "-m", "rdnet", "sweep", "simulate", *SMALL, *grid, "--workers", "2"]
    command += ["--out", str(directory)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if (directory / JOURNAL_NAME).exists() and _count(directory, "written"):
            break
        time.sleep(0.05)
    assert process.poll() is None, process.communicate()[1]
    os.killpg(process.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the whole group
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1
    assert "interrupted" in stderr and "Traceback" not in stderr
    deadline = time.monotonic() + 10
    while _session_processes(process.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _session_processes(process.pid) == []  # no worker, nanny or scheduler left
    done_before = set(_count(directory, "written"))
    assert 0 < len(done_before) < 16

    rerun = command[3:-4] + ["--scheduler", client.scheduler_info()["address"], "--out", str(directory), "--quiet"]
    result = CliRunner().invoke(cli, rerun)
    assert result.exit_code == 0, result.output
    assert set(_count(directory, "written")) == {
        name for name in (path.stem for path in directory.glob("F=*.nc"))
    }
    assert all(count == 1 for count in _count(directory, "written").values())
    assert len(list(directory.glob("F=*.nc"))) == 16


def test_train_sweep_of_seeds_and_adversary_weights(client, tmp_path):
    directory = tmp_path / "seeds"
    arguments = ["sweep", "train", "--grid", "seed=0:2", "--grid", "adversary-weight=0,1", "--grid", "4x4"]
    arguments += ["--adversary", "--samples", "16", "--input-dim", "16", "--steps", "10"]
    arguments += ["--scheduler", client.scheduler_info()["address"], "--out", str(directory), "--quiet"]
    result = CliRunner().invoke(cli, arguments)
    assert result.exit_code == 0, result.output
    summary = open_dataset(directory / "summary.nc")
    assert summary["pattern"].dims == ("seed", "adversary_weight")
    assert summary["adversary_weight"].attrs["option"] == "adversary-weight"
    assert summary["seed"].values.tolist() == [0, 1]
    assert set(summary["status"].values.ravel()) == {"ok"}
    assert summary.attrs["analysed_variable"] == "displacement_u"
    for seed in (0, 1):
        for weight in (0.0, 1.0):
            name = str(summary.sel(seed=seed, adversary_weight=weight)["file"].values)
            with open_dataset(directory / name) as dataset:
                assert (dataset.sizes["y"], dataset.sizes["x"]) == (4, 4)  # the neuron grid passed through
                parameters = json.loads(dataset.attrs["parameters"])
                assert _find(parameters, "seed") == seed
                assert float(_find(parameters, "adversary_weight")) == weight


def test_a_zarr_sweep_holds_every_point_in_one_store_equal_to_the_netcdf_sweep(client, tmp_path):
    import xarray as xr

    grid = {"F": [0.02, 0.035], "k": [0.06, 0.08]}
    netcdf = plan_sweep("simulate", grid, SMALL_OPTIONS, tmp_path / "netcdf")
    execute_plan(netcdf, client=client, progress=False, echo=lambda line: None)
    zarr_plan = plan_sweep("simulate", grid, SMALL_OPTIONS, tmp_path / "zarr", format="zarr")
    outcome = execute_plan(zarr_plan, client=client, progress=False, echo=lambda line: None)
    assert outcome.count("ok") == 4
    store = tmp_path / "zarr" / "points.zarr"
    assert store.is_dir() and not (tmp_path / "zarr" / "points.zarr.partial").exists()
    assert sorted(path.name for path in (tmp_path / "zarr").glob("*.nc*")) == ["summary.nc"]
    points = xr.open_zarr(store, decode_times=False)
    assert points["v"].dims == ("F", "k", "time", "y", "x")
    np.testing.assert_array_equal(points["point_complete"].values, np.ones((2, 2)))
    for task in netcdf.tasks:
        with open_dataset(task.final_path) as expected:
            got = points.isel(F=task.index[0], k=task.index[1])
            for name in expected.data_vars:
                np.testing.assert_array_equal(got[name].values, expected[name].values, err_msg=f"{task.name} {name}")
            for name in ("time", "y", "x"):
                np.testing.assert_array_equal(got[name].values, expected[name].values)
    # the summary's metrics are those of the NetCDF sweep (the same runs analysed)
    with open_dataset(tmp_path / "netcdf" / "summary.nc") as a, open_dataset(tmp_path / "zarr" / "summary.nc") as b:
        np.testing.assert_array_equal(a["dominant_wavelength"].values, b["dominant_wavelength"].values)
        assert set(np.unique(b["file"].values)) == {"points.zarr"}
    # a second run skips every point: the store is published, nothing is rewritten
    again = execute_plan(zarr_plan, client=client, progress=False, echo=lambda line: None)
    assert again.skipped == 4
