"""Entry point of the ``rdnet`` command line.

Sub-commands live in their own modules (``cli/<name>.py``, each exporting a click
command called ``command``) and are imported only when used, so ``rdnet --help``
stays fast and a heavy import (torch, dask) is paid only by the command needing it.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterator, MutableMapping

import click

from rdnet import __version__
from rdnet.errors import RdnetError

#: command name -> module under ``cli`` holding ``command``
COMMANDS: dict[str, str] = {
    "simulate": "simulate",
    "stability": "stability",
    "models": "models",
    "train": "train",
    "gan-dynamics": "gan_dynamics",
    "info": "info",
    "analyze": "analyze",
    "compare": "compare",
    "plot": "plot",
    "animate": "animate",
    "sweep": "sweep",
    "fit": "fit",
    "demo": "demo",
}


class RdnetGroup(click.Group):
    """A click group that imports sub-commands lazily and reports errors in one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, module in COMMANDS.items() if _module_exists(module))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMANDS.get(cmd_name)
        if module is None or not _module_exists(module):
            return None
        return importlib.import_module(f"rdnet.cli.{module}").command

    def make_context(self, info_name, args, parent=None, **extra):
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except click.UsageError as error:  # an option of the group itself
            raise _one_line_usage_error(error) from None

    def invoke(self, ctx: click.Context):
        arguments = [*getattr(ctx, "_protected_args", []), *ctx.args]
        try:
            with one_line_warnings():
                return super().invoke(ctx)
        except click.UsageError as error:
            raise _one_line_usage_error(error) from None
        except RdnetError as error:
            raise _OneLineError(str(error), error.exit_code) from None
        except KeyboardInterrupt:  # a command that does not handle Ctrl-C itself: one line, 130
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(130) from None
        except BrokenPipeError:  # output piped into `head` and the like: stop quietly
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
            raise click.exceptions.Exit(0) from None
        except OSError as error:
            raise _OneLineError(_describe_os_error(error), 1) from None
        except RuntimeError as error:
            if str(error).startswith("NetCDF:"):  # netCDF4 reading a corrupt chunk, lazily
                files = ", ".join(a for a in arguments if a.endswith((".nc", ".partial")) and os.path.isfile(a))
                raise _OneLineError(f"cannot read the data of {files or 'the file'} ({error}): the file is corrupt", 2) from None
            if not _is_allocation_failure(error):
                raise
            raise _out_of_memory(arguments) from None
        except MemoryError:
            raise _out_of_memory(arguments) from None


def _is_allocation_failure(error: RuntimeError) -> bool:
    """Whether torch failed to allocate memory (its allocators raise RuntimeError, not MemoryError)."""
    message = str(error).lower()
    return "out of memory" in message or ("allocate" in message and "memory" in message)


def _out_of_memory(arguments: list[str]) -> click.ClickException:
    return _OneLineError(f"out of memory: {_MEMORY_HINTS.get(arguments[0] if arguments else '', _MEMORY_HINT)}", 1)


#: what to try when a command runs out of memory
_MEMORY_HINT = "try smaller inputs"
_MEMORY_HINTS = {
    "simulate": "try a smaller --size",
    "train": "try fewer --neurons or --samples, or --save norms",
    "sweep": "try smaller points (e.g. a smaller --size) or fewer --workers",
    "gan-dynamics": "try a smaller --dim, fewer --replicas or --records",
    "analyze": "try fewer --surrogates or one --time",
    "compare": "try one --time",
}


class _OneLineError(click.ClickException):
    """An error printed as one ``Error:`` line: a line break in it (from a name the user typed) shown as ``\\n``."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message.replace("\r", "\\r").replace("\n", "\\n"))
        self.exit_code = exit_code


def _one_line_usage_error(error: click.UsageError) -> click.ClickException:
    """click's usage error (usage, hint and message on three lines) as one ``Error:`` line.

    ``rdnet`` and ``rdnet sweep`` without a sub-command still print their help.
    """
    if isinstance(error, click.exceptions.NoArgsIsHelpError):
        return error
    message = error.format_message().rstrip(".")
    if error.ctx is not None and error.ctx.command.get_help_option(error.ctx) is not None:
        message += f" (see '{error.ctx.command_path} --help')"
    return _OneLineError(message, error.exit_code)


def format_warning(message: Warning | str, category: type[Warning]) -> str:
    """A warning as the command line prints it: ``warning: <message>``, one line.

    rdnet's own warnings (about the user's files and options) are shown as they are;
    a library's warning names its category, which says where it comes from.
    """
    text = " ".join(str(message).split())
    if category.__module__.split(".")[0] in ("rdnet", "rd_classic"):
        return f"warning: {text}"
    return f"warning: {text} ({category.__name__})"


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Print every warning raised while a command runs as one ``warning: ...`` line on stderr.

    rdnet's own warnings are shown every time a command meets them (once per distinct
    message within the command), never with Python's file name, line number and source line.
    """
    from rdnet.dataset import DatasetWarning

    shown: set[tuple[type[Warning], str]] = set()

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        key = (category, str(message))
        if key in shown:
            return
        shown.add(key)
        click.echo(format_warning(message, category), err=True)

    with warnings.catch_warnings():
        warnings.simplefilter("always", DatasetWarning)
        warnings.showwarning = show
        yield


def _module_exists(module: str) -> bool:
    return importlib.util.find_spec(f"rdnet.cli.{module}") is not None


def _describe_os_error(error: OSError) -> str:
    where = f": {error.filename}" if error.filename else ""
    if error.errno == errno.ENOSPC:
        return f"no space left on device{where} (earlier snapshots are kept)"
    if error.errno == errno.EFBIG:
        return f"file size limit exceeded{where} (earlier snapshots are kept)"
    return f"{error.strerror or error}{where}"


@click.group(cls=RdnetGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rdnet")
def cli() -> None:
    """rdnet: reaction-diffusion patterns in Turing systems and in neural networks.

    \b
    Examples:
      rdnet simulate --model gray-scott --out gs.nc
      rdnet train --adversary --out adv.nc
      rdnet analyze gs.nc
      rdnet compare gs.nc adv.nc --out spectra.png

    \b
    Environment:
      RDNET_OPEN_TIMEOUT  seconds the NetCDF/HDF5 library may spend opening one input
                          file before rdnet gives up on it as corrupt (default 60)
    """


#: Environment variable: seconds the NetCDF/HDF5 library may spend opening one input file.
OPEN_TIMEOUT_VARIABLE = "RDNET_OPEN_TIMEOUT"
DEFAULT_OPEN_TIMEOUT_SECONDS = 60.0


def main() -> None:
    """Run the command line (the ``rdnet`` console script)."""
    from rdnet.dataset import set_open_timeout

    idle_openmp_threads_sleep(os.environ)
    text = os.environ.get(OPEN_TIMEOUT_VARIABLE, "")
    try:  # float() and set_open_timeout both refuse what is not a finite positive number
        set_open_timeout(float(text) if text else DEFAULT_OPEN_TIMEOUT_SECONDS, _give_up)
    except ValueError:
        click.echo(f"Error: {OPEN_TIMEOUT_VARIABLE}={text!r}: give a positive number of seconds", err=True)
        sys.exit(2)
    cli(prog_name="rdnet")


def idle_openmp_threads_sleep(environ: MutableMapping[str, str]) -> None:
    """Make OpenMP's idle worker threads sleep instead of spinning, unless the user chose a policy.

    numba's kernels and torch run on OpenMP threads. GNU OpenMP's default lets a worker that
    finished spin for a while, holding a core; on a machine shared with other work the thread
    that still has work then waits for that core, at every parallel region. ``rdnet simulate
    --size 1024 --steps 3000`` (Gray-Scott, 2 threads, a 2-core machine at load 3) took 34-72 s
    with the default and 21-28 s with ``OMP_WAIT_POLICY=PASSIVE`` (docs/benchmarks.md). It must
    be set before numba or torch load OpenMP, hence here, first thing. ``OMP_WAIT_POLICY`` or
    ``GOMP_SPINCOUNT`` in the environment are kept as they are.
    """
    if "OMP_WAIT_POLICY" not in environ and "GOMP_SPINCOUNT" not in environ:
        environ["OMP_WAIT_POLICY"] = "PASSIVE"


def _give_up(message: str) -> None:
    """End the process from the watchdog thread: the library call it watches cannot be interrupted."""
    try:
        sys.stderr.write(f"Error: {message}\n")
        sys.stderr.flush()
    finally:
        os._exit(2)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
