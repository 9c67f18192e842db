"""Helpers of the hardening suite: run the real ``rdnet`` command and judge its failure.

A failure is *clean* when the command exits with the documented code (2 for bad
input, 1 for a run that failed), prints exactly one ``Error:`` line and no
traceback, and leaves no file under the final output name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

REPOSITORY = Path(__file__).resolve().parents[2]
#: The console script of the virtualenv running the tests (falls back to ``python -m rdnet``).
RDNET_SCRIPT = Path(sys.executable).with_name("rdnet")

#: Hypothesis profiles: a few dozen derandomised examples by default, >= 1,000 in the slow suite.
settings.register_profile(
    "hardening",
    max_examples=int(os.environ.get("RDNET_FUZZ_EXAMPLES", "30")),
    derandomize=True,  # the default suite tries the same files on every run
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(
    "hardening-slow",
    max_examples=int(os.environ.get("RDNET_FUZZ_EXAMPLES_SLOW", "1000")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Outcome:
    """What a finished ``rdnet`` command left behind."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def error_lines(self) -> list[str]:
        """Lines of stderr that report an error (click prefixes them with ``Error:``)."""
        return [line for line in self.stderr.splitlines() if line.startswith("Error:")]

    def describe(self) -> str:
        return f"exit {self.exit_code}\n--- stdout\n{self.stdout[-2000:]}\n--- stderr\n{self.stderr[-4000:]}"


def command_available(name: str) -> bool:
    """Whether ``cli/<module>.py`` of command ``name`` exists yet."""
    from rdnet.cli.main import COMMANDS

    return (REPOSITORY / "cli" / f"{COMMANDS[name]}.py").exists()


def rdnet_command() -> list[str]:
    """The argv prefix that runs the rdnet console script."""
    if RDNET_SCRIPT.exists():
        return [str(RDNET_SCRIPT)]
    return [sys.executable, "-m", "rdnet"]


def child_environment() -> dict[str, str]:
    """Environment of a child ``rdnet``: one thread per library, no GPU, no colour."""
    env = dict(os.environ)
    env.update(
        {
            "OMP_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "NUMBA_NUM_THREADS": "1",
            "CUDA_VISIBLE_DEVICES": "",
            "PYTHONHASHSEED": "0",
            "MPLBACKEND": "Agg",
            "NO_COLOR": "1",
        }
    )
    return env


def run_rdnet(arguments: list[str], *, cwd: Path, timeout: float = 120, preexec_fn=None) -> Outcome:
    """Run ``rdnet ARGUMENTS`` in a subprocess and collect what it printed."""
    process = subprocess.run(
        [*rdnet_command(), *map(str, arguments)],
        cwd=cwd,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=preexec_fn,
    )
    return Outcome(process.returncode, process.stdout, process.stderr)


def invoke_rdnet(arguments: list[str], *, cwd: Path) -> Outcome:
    """Run ``rdnet ARGUMENTS`` in this process through click's test runner (fast).

    An exception that escapes the command (a traceback a user would see) is
    re-raised, so the test shows it.
    """
    from click.testing import CliRunner

    from rdnet.cli.main import cli

    runner = CliRunner()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(cli, [str(argument) for argument in arguments], prog_name="rdnet")
    finally:
        os.chdir(previous)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"rdnet {' '.join(map(str, arguments))} raised {type(result.exception).__name__} "
            f"(a traceback for the user): {result.exception}"
        ) from result.exception
    return Outcome(result.exit_code, result.stdout, result.stderr)


def assert_clean_failure(outcome: Outcome, *, exit_code: int, final_paths: list[Path] = ()) -> None:
    """One ``Error:`` line, no traceback, the given exit code, no final output file."""
    assert "Traceback" not in outcome.stderr + outcome.stdout, outcome.describe()
    assert outcome.exit_code == exit_code, outcome.describe()
    assert len(outcome.error_lines) == 1, outcome.describe()
    assert outcome.stderr.rstrip("\n").splitlines()[-1] == outcome.error_lines[0], f"the error goes on past its line\n{outcome.describe()}"
    for path in final_paths:
        assert not Path(path).exists(), f"{path} was left under the final name\n{outcome.describe()}"




#: Seconds a fuzzed file may keep the reader busy before it counts as a library hang.
HANG_SECONDS = 30.0


def finishes_in_child(function, *args, timeout: float = HANG_SECONDS) -> bool:
    """Run ``function(*args)`` in a forked child; False if it was still running after ``timeout`` s.

    Some corrupt HDF5 files send the HDF5 library into an endless loop in a C call
    (HDFGroup/hdf5#1707) that no Python code can interrupt; in a child, the test can
    kill it and go on. A failure in the child is raised here as AssertionError with the
    child's traceback.
    """
    import signal
    import time
    import traceback

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report a failure through the pipe, never return into pytest
        os.close(read_end)
        status = 0
        try:
            function(*args)
        except BaseException:  # noqa: BLE001 - everything goes back to the parent
            os.write(write_end, traceback.format_exc().encode()[-20000:])  # below the pipe's buffer
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    deadline = time.monotonic() + timeout
    try:
        while True:
            finished, status = os.waitpid(pid, os.WNOHANG)
            if finished:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return False
            time.sleep(0.002)
        with os.fdopen(read_end, "rb") as pipe:
            report = pipe.read().decode(errors="replace")
            read_end = None
    finally:
        if read_end is not None:
            os.close(read_end)
    if os.waitstatus_to_exitcode(status) != 0:
        raise AssertionError(f"in the child:\n{report or f'exit status {status}'}")
    return True


def assert_command_line_contains_the_hang(arguments: list[str], cwd: Path) -> None:
    """The real console script ends a library hang with one error line and exit code 2."""
    completed = subprocess.run(
        [*rdnet_command(), *map(str, arguments)], cwd=cwd, capture_output=True, text=True, timeout=120,
        env={**child_environment(), "RDNET_OPEN_TIMEOUT": "2"},
    )  # fmt: skip
    outcome = Outcome(completed.returncode, completed.stdout, completed.stderr)
    assert "Traceback" not in outcome.stderr, outcome.describe()
    assert outcome.exit_code == 2 and len(outcome.error_lines) == 1, outcome.describe()
