"""Many SIGKILL / resume trials against real ``rdnet simulate`` and ``rdnet train`` runs.

Each trial starts the console script, kills it (SIGKILL) at a random moment —
mostly a few ms after a random snapshot k became durable, one in five while it is
still starting — checks what
it left (no final file or a complete one; every snapshot seen durable before the
kill still in the partial file, equal to the uninterrupted run), resumes it with
``--resume`` and compares the result, bit for bit, with the uninterrupted run.
The figures go into ``docs/reliability.md``.

Usage (from the repository root):
    .venv/bin/python benchmarks/fault_trials.py --trials 20
    .venv/bin/python benchmarks/fault_trials.py --trials 50 --command simulate
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY / "tests"))

from hardening.faults import load_data, run_to_completion, signal_trial  # noqa: E402
from hardening.test_fault_injection import JITTER_SECONDS, RUNS, SNAPSHOTS  # noqa: E402


def trials_for(command: str, count: int, seed: int, folder: Path) -> dict[str, float]:
    """Run ``count`` kill trials of ``command``; return the figures."""
    reference_path = folder / "reference.nc"
    started = time.perf_counter()
    completed = run_to_completion([*RUNS[command], "--out", str(reference_path)], cwd=folder)
    if completed.returncode != 0:
        raise SystemExit(f"the reference run failed: {completed.stderr}")
    reference_seconds = time.perf_counter() - started
    reference = load_data(reference_path)
    rng = np.random.default_rng(seed)
    figures = dict.fromkeys(
        ["trials", "killed_while_writing", "killed_while_starting", "finished_before_kill", "durable_snapshots_seen",
         "snapshots_lost", "final_files_left", "final_files_valid", "resumes", "resumes_matched", "problems"], 0,
    )  # fmt: skip
    for number in range(count):
        during_startup = number % 5 == 4  # one trial in five kills the run while it starts
        delay = rng.uniform(0, 3.0) if during_startup else rng.uniform(0, JITTER_SECONDS)
        aim = "partial" if during_startup else int(rng.integers(1, SNAPSHOTS[command] + 1))
        out = folder / f"trial-{number}.nc"
        result = signal_trial(
            [*RUNS[command], "--out", str(out)], out, reference, delay=delay, after=aim,
            resume_command=[command, "--resume"], cwd=folder,
        )  # fmt: skip
        figures["trials"] += 1
        if result.finished_before_signal:
            figures["finished_before_kill"] += 1
        elif during_startup:
            figures["killed_while_starting"] += 1
        else:
            figures["killed_while_writing"] += 1
        figures["durable_snapshots_seen"] += result.durable_seen
        figures["snapshots_lost"] += result.snapshots_lost
        figures["final_files_left"] += result.final_exists
        figures["final_files_valid"] += bool(result.final_matches)
        figures["resumes"] += result.resumed and bool(result.partial_records)
        figures["resumes_matched"] += bool(result.resume_matches)
        figures["problems"] += not result.ok
        status = "ok" if result.ok else "PROBLEM: " + "; ".join(result.problems)
        print(
            f"  {command} trial {number:3d}: kill {delay:5.3f} s after {'start' if during_startup else f'snapshot {aim}'}, "
            f"durable seen {result.durable_seen:3d}, kept {result.partial_records}, "
            f"resume {'matched' if result.resume_matches else '-'}: {status}",
            file=sys.stderr,
        )
    figures["reference_run_seconds"] = round(reference_seconds, 2)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=20, help="kill trials per command [20]")
    parser.add_argument("--command", choices=sorted(RUNS), action="append", help="command(s) to try [all]")
    parser.add_argument("--seed", type=int, default=2021, help="seed of the kill moments [2021]")
    arguments = parser.parse_args()
    for command in arguments.command or sorted(RUNS):
        with tempfile.TemporaryDirectory(prefix=f"rdnet-faults-{command}-") as folder:
            started = time.perf_counter()
            figures = trials_for(command, arguments.trials, arguments.seed, Path(folder))
            elapsed = time.perf_counter() - started
        print(f"{command}: " + ", ".join(f"{key} {value}" for key, value in figures.items()) + f", wall {elapsed:.0f} s")


if __name__ == "__main__":
    main()
