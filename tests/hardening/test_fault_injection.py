"""Fault injection against real runs: SIGKILL, SIGINT and a full disk during ``simulate`` and ``train``.

Every trial runs the console script in a subprocess (see :mod:`hardening.faults`)
and holds the result against the same run uninterrupted, bit for bit (CPU, same
seed). The default suite runs a few trials; ``pytest -m slow tests/hardening``
runs at least 20 kill trials per command.
"""

from __future__ import annotations

import signal
import subprocess
import time

import numpy as np
import pytest

from hardening.faults import file_size_limit, load_data, run_to_completion, same_data, signal_trial
from hardening.helpers import child_environment, command_available, rdnet_command

#: Small, quick runs with many snapshots, so a random kill lands between, or inside, writes.
RUNS = {
    "simulate": ["simulate", "--model", "gray-scott", "--size", "32", "--steps", "1200", "--snapshot-every", "40",
                 "--seed", "3", "--quiet"],
    "train": ["train", "--adversary", "--neurons", "16", "--steps", "300", "--snapshot-every", "10", "--seed", "3",
              "--quiet"],
}  # fmt: skip
#: Snapshots the small runs write; a kill is aimed after a random number of them.
SNAPSHOTS = {"simulate": 31, "train": 31}
#: Seconds of extra random delay after the aimed snapshot (a kill between or inside writes).
JITTER_SECONDS = 0.02
SLOW_TRIALS = 20

COMMANDS = [
    pytest.param(name, marks=pytest.mark.skipif(not command_available(name), reason=f"rdnet {name} not available yet"))
    for name in RUNS
]


@pytest.fixture(scope="module")
def references(tmp_path_factory):
    """The uninterrupted run of each command, loaded (computed on first use)."""
    folder = tmp_path_factory.mktemp("reference")
    cache: dict[str, dict[str, np.ndarray]] = {}

    def get(command: str) -> dict[str, np.ndarray]:
        if command not in cache:
            out = folder / f"{command}.nc"
            completed = run_to_completion([*RUNS[command], "--out", str(out)], cwd=folder)
            assert completed.returncode == 0, completed.stderr
            cache[command] = load_data(out)
        return cache[command]

    return get


def kill_moments(command: str, count: int, rng: np.random.Generator) -> list[tuple[int, float]]:
    """``count`` (snapshots durable, extra delay) pairs spread over the whole run."""
    return [(int(rng.integers(1, SNAPSHOTS[command] + 1)), float(rng.uniform(0, JITTER_SECONDS))) for _ in range(count)]


def _kill_trials(command: str, reference, folder, moments: list[tuple], *, after=None, suffix: str = ".nc"):
    results = []
    for number, (records, delay) in enumerate(moments):
        out = folder / f"kill-{number}{suffix}"
        result = signal_trial(
            [*RUNS[command], "--out", str(out)], out, reference, delay=delay, after=records if after is None else after,
            resume_command=[command, "--resume"], cwd=folder,
        )  # fmt: skip
        assert result.ok, f"trial {number} (kill {delay:.3f} s after {after or records}): {result.problems}\n{result}"
        results.append(result)
    return results


@pytest.mark.parametrize("command", COMMANDS)
def test_sigkill_while_writing_loses_nothing_durable_and_resumes_exactly(command, references, tmp_path):
    reference = references(command)
    results = _kill_trials(command, reference, tmp_path, kill_moments(command, 1, np.random.default_rng(1)))
    # the trials must have exercised the resume path, not just finished first
    assert any(result.resume_matches for result in results), results


@pytest.mark.parametrize("command", [COMMANDS[0], pytest.param("train", marks=pytest.mark.slow)])
def test_sigkill_while_writing_a_zarr_store_loses_nothing_durable_and_resumes_exactly(command, references, tmp_path):
    """The same trial with ``--out run.zarr``, held against the NetCDF run: the stores hold the same data."""
    reference = references(command)
    # seed 6 aims the kill mid-run (after 14 of 31 snapshots): seed 3 aimed after 26, which a loaded
    # machine's late poll often missed, the run finishing first and no resume exercised
    results = _kill_trials(command, reference, tmp_path, kill_moments(command, 1, np.random.default_rng(6)),
                           suffix=".zarr")  # fmt: skip
    assert any(result.resume_matches for result in results), results


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".nc", ".zarr"])
@pytest.mark.parametrize("command", COMMANDS)
def test_sigkill_many_random_moments(command, suffix, references, tmp_path):
    reference = references(command)
    rng = np.random.default_rng(2021)
    (tmp_path / "writes").mkdir()
    (tmp_path / "startup").mkdir()
    during_writes = _kill_trials(command, reference, tmp_path / "writes", kill_moments(command, SLOW_TRIALS, rng),
                                 suffix=suffix)  # fmt: skip
    startup_moments = [(0, float(delay)) for delay in rng.uniform(0, 3.0, size=4)]
    during_startup = _kill_trials(command, reference, tmp_path / "startup", startup_moments, after="partial",
                                  suffix=suffix)  # fmt: skip
    resumed = [result for result in during_writes + during_startup if result.resume_matches]
    assert len(resumed) >= SLOW_TRIALS // 2
    assert sum(result.snapshots_lost for result in during_writes + during_startup) == 0


@pytest.mark.parametrize("command", COMMANDS)
def test_sigint_stops_cleanly_and_says_how_to_resume(command, references, tmp_path):
    reference = references(command)
    out = tmp_path / "interrupted.nc"
    result = signal_trial(
        [*RUNS[command], "--out", str(out)], out, reference, delay=0.0, after=5, send=signal.SIGINT,
        resume_command=[command, "--resume"], cwd=tmp_path,
    )  # fmt: skip
    assert result.ok, f"{result.problems}\n{result}"
    if result.finished_before_signal:
        pytest.skip("the run finished before the interrupt")
    assert "Traceback" not in result.stderr
    assert f"--resume {out}.partial" in result.stderr, result.stderr
    assert result.partial_records and result.partial_records >= result.durable_seen
    assert result.resume_matches, result


@pytest.mark.parametrize("delay", [0.0, pytest.param(0.3, marks=pytest.mark.slow)])
@pytest.mark.parametrize("command", COMMANDS)
def test_sigint_before_first_snapshot_does_not_promise_a_resume_that_fails(command, delay, tmp_path):
    """Ctrl-C while the run is still starting (compiling): what it prints must be true.

    The interrupt lands ``delay`` s after the partial file appears, before the first
    snapshot on a loaded machine. If the message names a resume command, that command
    must work; otherwise it should say to start again.
    """
    out = tmp_path / "early.nc"
    partial = out.with_name(out.name + ".partial")
    process = subprocess.Popen(
        [*rdnet_command(), *RUNS[command], "--out", str(out)], cwd=tmp_path, env=child_environment(),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while not partial.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(delay)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    assert "Traceback" not in stderr, stderr
    if "--resume" in stderr:
        assert f"--resume {partial}" in stderr, f"the resume command names the wrong file: {stderr.strip()!r}"
        completed = run_to_completion([command, "--resume", str(partial), "--quiet"], cwd=tmp_path)
        assert completed.returncode == 0, f"interrupt said {stderr.strip()!r}; resume said {completed.stderr.strip()!r}"


@pytest.mark.parametrize("command", COMMANDS)
def test_full_disk_gives_one_error_line_and_keeps_earlier_snapshots(command, references, tmp_path):
    reference = references(command)
    out = tmp_path / "full.nc"
    partial = out.with_name(out.name + ".partial")
    snapshot_bytes = sum(
        value[0].nbytes for name, value in reference.items() if value.ndim and len(value) == len(reference["time"])
    )
    limit = 16_384 + int(3.5 * snapshot_bytes)  # the header and about three snapshots
    completed = subprocess.run(
        [*rdnet_command(), *RUNS[command], "--out", str(out)], cwd=tmp_path, env=child_environment(),
        capture_output=True, text=True, timeout=600, preexec_fn=file_size_limit(limit),
    )  # fmt: skip
    assert "Traceback" not in completed.stderr, completed.stderr[-3000:]
    assert completed.returncode == 1, (completed.returncode, completed.stderr[-3000:])
    errors = [line for line in completed.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and ("size limit" in errors[0] or "space" in errors[0]), completed.stderr
    assert not out.exists()
    kept = load_data(partial)
    records = len(kept["time"])
    assert records >= 1
    assert same_data(kept, reference, records=records) == []
