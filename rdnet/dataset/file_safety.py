"""File safety: check a path before a run writes it and a file before the NetCDF library reads it.

A run's output goes to ``PATH.partial`` and appears under its final name only when
complete (by an atomic rename after an ``fsync``). A file to read is checked first: its
signature, its classic header (:mod:`rdnet.dataset.netcdf_header`), the sizes it
declares; and :func:`set_open_timeout` can watch the library's work on it.
"""

from __future__ import annotations

import math
import os
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable

from rdnet.dataset.convention import PARTIAL_SUFFIX
from rdnet.errors import ConfigError, DatasetError

__all__ = ["MAX_COORDINATE_LENGTH", "check_output_path", "check_netcdf_file", "refuse_input_as_output",
           "set_open_timeout"]


#: Longest coordinate the reader accepts: xarray loads coordinates whole when it opens
#: a file, so a corrupt file declaring ~2**31 entries would otherwise exhaust memory.
MAX_COORDINATE_LENGTH = 2**24
#: (seconds, callback) of the watch on the library's work in :func:`open_dataset`; None: off.
_open_timeout: tuple[float, Callable[[str], None]] | None = None
_NETCDF3_MAGIC = (b"CDF\x01", b"CDF\x02", b"CDF\x05")
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def check_output_path(path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    """Check that a run may write ``path``, before anything is computed.

    Parameters
    ----------
    path
        The final file name.
    overwrite
        Whether an existing file (and an interrupted run's partial file) may be replaced.

    Returns
    -------
    pathlib.Path
        The path, made absolute.

    Raises
    ------
    ConfigError
        The name ends in ``.partial``, the folder is missing or not writable, the path is a folder, or the file
        (or the partial file of an interrupted run) exists and ``overwrite`` is false.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"the output path must be a str or os.PathLike, got {path!r}")
    if not isinstance(overwrite, bool):  # "no" is truthy: it would replace the file
        raise ConfigError(f"overwrite must be True or False, got {overwrite!r}")
    path = Path(path).expanduser().absolute()
    if path.name.endswith(PARTIAL_SUFFIX):
        raise ConfigError(
            f"output name ends in {PARTIAL_SUFFIX}, the mark of an interrupted run's file: {path} "
            f"(choose another name; a run writes NAME{PARTIAL_SUFFIX} itself while it works)"
        )
    folder = path.parent
    if not folder.is_dir():
        raise ConfigError(f"output folder does not exist: {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"output folder is not writable: {folder}")
    store = path.name.endswith(".zarr")  # a zarr store is a folder (rdnet.dataset.zarr_store)
    if path.is_dir() and not store:
        raise ConfigError(f"output path is a folder, not a file: {path}")
    if not overwrite:
        if path.exists():
            kind = "store" if store else "file"
            raise ConfigError(f"output {kind} exists: {path} (pass --overwrite to replace it)")
        partial = _partial_path(path)
        if partial.exists():
            raise ConfigError(
                f"an interrupted run's partial file exists: {partial} "
                f"(resume it with --resume {partial}, or pass --overwrite to discard it)"
            )
    return path


def refuse_input_as_output(out: str | os.PathLike, inputs: Iterable[str | os.PathLike], *, option: str = "--out") -> None:
    """ConfigError when ``out`` is one of the ``inputs`` (the same file, whatever the path says)."""
    path = Path(out).expanduser()
    if not path.exists():
        return
    for source in inputs:
        source = Path(source).expanduser()
        try:
            same = source.exists() and os.path.samefile(path, source)
        except OSError:  # unreadable: not provably the same file
            same = False
        if same:
            raise ConfigError(
                f"{option} {out} is the input file {source}: choose another name "
                "(rdnet never writes over a file it reads, --overwrite included)"
            )


def check_netcdf_file(path: str | os.PathLike) -> None:
    """Check that a file is NetCDF before the netCDF-C library opens it.

    The file must start with a NetCDF-3 (CDF-1, 2, 5) or HDF5 signature. A NetCDF-3
    header is also walked by :func:`rdnet.dataset.netcdf_header.check_classic_header`, which
    refuses counts the file cannot hold. The C library trusts them, so a corrupt header
    could otherwise make it allocate gigabytes.

    Raises
    ------
    DatasetError
        The file is unreadable, empty, not NetCDF, or has a corrupt classic header.
    """
    from rdnet.dataset.netcdf_header import HeaderError, check_classic_header

    path = Path(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            if not head:
                raise DatasetError(f"{path} is empty, not a NetCDF file")
            if head == _HDF5_MAGIC:
                return
            if head[:4] not in _NETCDF3_MAGIC:
                raise DatasetError(
                    f"{path} is not a NetCDF file (it does not start with a NetCDF or HDF5 signature)"
                )
            handle.seek(0)
            check_classic_header(handle, os.fstat(handle.fileno()).st_size)
    except HeaderError as error:
        raise DatasetError(f"{path}: corrupt NetCDF header: {error}") from None
    except OSError as error:
        raise DatasetError(f"cannot read {path}: {error.strerror}") from None


def _check_declared_sizes(path: Path) -> None:
    """Refuse coordinates and string variables too long to load before xarray loads them whole."""
    import netCDF4

    try:
        nc = netCDF4.Dataset(path, "r")
    except Exception as error:  # netCDF4/HDF5 raise many types for corrupt files
        raise DatasetError(f"cannot read {path} as NetCDF: {_first_line(error)}") from None
    try:
        for name, dimension in nc.dimensions.items():
            if name in nc.variables and len(dimension) > MAX_COORDINATE_LENGTH:
                raise DatasetError(
                    f"{path}: dimension '{name}' declares {len(dimension)} entries, more than the "
                    f"{MAX_COORDINATE_LENGTH} rdnet reads (a corrupt file?)"
                )
        for name, variable in nc.variables.items():  # strings are decoded whole when the file opens
            if variable.dtype is str and variable.size > MAX_COORDINATE_LENGTH:
                raise DatasetError(
                    f"{path}: string variable '{name}' declares {variable.size} entries, more than the "
                    f"{MAX_COORDINATE_LENGTH} rdnet reads (a corrupt file?)"
                )
    finally:
        nc.close()


def set_open_timeout(seconds: float | None, on_timeout: Callable[[str], None] | None = None) -> None:
    """Watch the NetCDF/HDF5 library's work in :func:`open_dataset`.

    Parameters
    ----------
    seconds
        How long opening and validating one file may take; None switches the watch off
        (the default).
    on_timeout
        Called with a one-line message on a watchdog thread, while the library call goes
        on, when ``seconds`` have passed. The call cannot be interrupted, so ending the
        process is the only useful thing the function can do: the command line prints
        the message and exits with code 2.
    """
    global _open_timeout
    if seconds is None:
        _open_timeout = None
        return
    if not 0 < seconds < math.inf or on_timeout is None:
        raise ValueError("set_open_timeout needs a finite number of seconds > 0 and an on_timeout function")
    _open_timeout = (float(seconds), on_timeout)


@contextmanager
def _watch_the_library(path: Path):
    """Run the block under the watch of :func:`set_open_timeout`, if one is set."""
    if _open_timeout is None:
        yield
        return
    seconds, on_timeout = _open_timeout
    message = (
        f"{path}: the NetCDF/HDF5 library has spent {seconds:g} s opening this file without finishing; "
        f"it is probably corrupt (a known HDF5 failure on damaged files: HDFGroup/hdf5#1707)"
    )
    watchdog = threading.Timer(seconds, on_timeout, args=(message,))
    watchdog.daemon = True
    watchdog.start()
    try:
        yield
    finally:
        watchdog.cancel()


def _partial_path(path: Path) -> Path:
    return path.with_name(path.name + PARTIAL_SUFFIX)


def _temporary_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def _fsync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - some filesystems refuse
        return
    try:
        os.fsync(descriptor)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(descriptor)


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
