"""The on-disk cache of generated modules (array functions and numba kernels).

A generated module is a Python file named by a hash of everything its text depends
on — the model's equations (:attr:`~rd_classic.model_file.ModelDeclaration.digest`),
what is generated (kind, dtype, grid dimension, field parameters), the generator
(:data:`~rd_classic.codegen.GENERATOR_SIGNATURE`) and, for kernels, numba's version.
The first use writes the file (atomically: a temporary file hard-linked to its name,
so concurrent processes never see half a file and never replace one another's) and
imports it with :mod:`importlib`; numba's own ``cache=True`` then keeps the machine
code beside it, in ``__pycache__``. A later process finds both and compiles nothing,
without importing sympy.

The folder is ``$RDNET_KERNEL_CACHE`` when set, else ``$XDG_CACHE_HOME/rdnet/kernels``
(``~/.cache/rdnet/kernels``); when it cannot be written, a folder under the system's
temporary directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import sys
import tempfile
import uuid
from pathlib import Path
from types import ModuleType
from typing import Callable

from rdnet.errors import ConfigError

__all__ = ["cache_directory", "load_generated", "CACHE_ENVIRONMENT_VARIABLE"]

#: environment variable naming the cache folder
CACHE_ENVIRONMENT_VARIABLE = "RDNET_KERNEL_CACHE"
#: modules imported in this process, by file name
_LOADED: dict[str, ModuleType] = {}


def cache_directory() -> Path:
    """The folder of the generated modules (created if missing)."""
    chosen = os.environ.get(CACHE_ENVIRONMENT_VARIABLE)
    if chosen:
        folder = Path(chosen).expanduser()
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        folder = Path(base) / "rdnet" / "kernels"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{uuid.uuid4().hex[:8]}"
        probe.touch()
        probe.unlink()
    except OSError:
        if chosen:
            raise ConfigError(f"{CACHE_ENVIRONMENT_VARIABLE}={chosen}: the kernel cache folder cannot be written") from None
        folder = Path(tempfile.gettempdir()) / f"rdnet-kernels-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def module_key(*parts: str) -> str:
    """The file stem for a generated module: a hash of what its text depends on."""
    return "rd_" + hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def load_generated(key: str, source: Callable[[], str]) -> ModuleType:
    """Import the generated module ``key``, writing it from ``source()`` first if absent.

    Parameters
    ----------
    key
        File stem from :func:`module_key`.
    source
        Builds the module's text (called only when the file is missing or damaged).

    Returns
    -------
    module
    """
    module = _LOADED.get(key)
    if module is not None:
        return module
    folder = cache_directory()
    path = folder / f"{key}.py"
    if not _intact(path, key):
        _write(path, _stamped(source(), key))
    try:
        module = _import(path, key)
    except (SyntaxError, ImportError, ValueError):  # a damaged file: write it again, once
        path.unlink(missing_ok=True)
        _write(path, _stamped(source(), key))
        module = _import(path, key)
    _LOADED[key] = module
    return module


def _stamped(text: str, key: str) -> str:
    return f"# rdnet generated module {key}\n{text}\n# end of {key}\n"


def _intact(path: Path, key: str) -> bool:
    """Whether ``path`` holds a complete module written for ``key`` (first and last lines)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline()
            handle.seek(max(0, path.stat().st_size - 200))
            tail = handle.read()
    except OSError:
        return False
    return first == f"# rdnet generated module {key}\n".encode() and tail.endswith(f"# end of {key}\n".encode())


def _write(path: Path, text: str) -> None:
    """Publish ``text`` at ``path`` unless an intact copy appeared meanwhile (never replace one)."""
    temporary = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        temporary.write_text(text)
        try:
            os.link(temporary, path)
        except FileExistsError:
            if not _intact(path, path.stem):  # a damaged leftover: replace it
                os.replace(temporary, path)
        except OSError:  # no hard links on this file system
            os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _import(path: Path, key: str) -> ModuleType:
    name = f"rd_classic_generated_{key}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # numba's cache finds the module of a function by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module
