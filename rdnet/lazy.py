"""Lazy imports: package attributes loaded on first use, and work done when a module is imported.

rdnet's packages keep their import cheap (``import rdnet.errors`` and
``import rd_classic.grids`` load neither xarray nor torch), as py-pde, SciPy and
scikit-image do: a package names its public attributes and the submodule holding each
(:func:`lazy_exports`, PEP 562), and the submodule is imported when the attribute is
first read. :func:`when_imported` runs a function right after a module (xarray) has been
imported, however and whenever that happens, so the ``.rd`` accessor is registered
before any user code can meet a Dataset.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports", "when_imported"]


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module ``__getattr__`` and ``__dir__`` of a package whose public names load on first use.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to str
        Public name to the module defining it (absolute, or relative to ``package``
        when it starts with ``"."``).

    Returns
    -------
    getattr, dir : callable
        Assign them to the package's ``__getattr__`` and ``__dir__``. The first read of a
        name imports its module and caches the value on the package.

    Examples
    --------
    >>> __getattr__, __dir__ = lazy_exports(__name__, {"Grid": ".grids"})  # doctest: +SKIP
    """

    def __getattr__(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module_name, package), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__


def when_imported(module_name: str, callback: Callable[[], object]) -> None:
    """Call ``callback()`` right after the top-level module ``module_name`` is imported.

    Called at once when the module is already imported. Otherwise a one-shot import
    hook (a :class:`importlib.abc.MetaPathFinder`) waits for the module's first import
    and runs the callback when the module's code has run, before the importing
    statement returns. A callback that fails is reported as a warning, never as a
    failed import of ``module_name``.

    Parameters
    ----------
    module_name : str
        A top-level module name (``"xarray"``).
    callback : callable
        Called with no arguments.
    """
    if module_name in sys.modules:
        callback()
        return
    sys.meta_path.insert(0, _AfterImport(module_name, callback))


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the real loader of one module so that a callback runs after it."""

    def __init__(self, module_name: str, callback: Callable[[], object]) -> None:
        self.module_name = module_name
        self.callback = callback

    def find_spec(self, fullname, path, target=None):
        if fullname != self.module_name:
            return None
        try:
            sys.meta_path.remove(self)  # one shot, and the search below must not find this finder
        except ValueError:  # pragma: no cover - removed by another thread's import
            return None
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        run_module = loader.exec_module
        callback = self.callback

        def exec_module(module) -> None:
            run_module(module)
            try:
                callback()
            except Exception as error:  # noqa: BLE001 - the user's import must not fail for it
                warnings.warn(f"after importing {fullname}: {type(error).__name__}: {error}", stacklevel=2)

        loader.exec_module = exec_module  # this module's own loader object: nothing else is affected
        return spec
