"""rdnet: reaction-diffusion pattern formation in classic grids and in neural networks.

Importing rdnet is cheap: the error types (:mod:`rdnet.errors`) load with it, everything
else when first used (:func:`open_dataset` and ``__version__`` through a PEP 562
``__getattr__``). The ``.rd`` accessor (:mod:`rdnet.accessor`) is registered on xarray
objects as soon as xarray is imported — at once if it already is, else the moment it is —
so ``import rdnet`` then any Dataset's ``.rd`` works without rdnet importing xarray itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rdnet.errors import ConfigError, DatasetError, RdnetError, RunError
from rdnet.lazy import lazy_exports, when_imported

__all__ = ["open_dataset", "ConfigError", "DatasetError", "RdnetError", "RunError", "__version__"]

_lazy_getattr, __dir__ = lazy_exports(__name__, {"open_dataset": "rdnet.dataset"})


def __getattr__(name: str) -> Any:
    if name == "__version__":
        global __version__
        __version__ = _installed_version()
        return __version__
    return _lazy_getattr(name)


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rdnet")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


if TYPE_CHECKING:  # pragma: no cover
    from rdnet.dataset import open_dataset

    __version__: str

when_imported("xarray", lambda: importlib.import_module("rdnet.accessor"))
