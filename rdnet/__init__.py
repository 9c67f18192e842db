"""rdnet: reaction-diffusion pattern formation in classic grids and in neural networks."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rdnet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

from rdnet import accessor  # noqa: E402,F401  (registers the ``.rd`` accessor on xarray objects)
from rdnet.errors import ConfigError, DatasetError, RdnetError, RunError  # noqa: E402


def open_dataset(path, **kwargs):
    """Open and validate an rdnet dataset; see :func:`rdnet.dataset.open_dataset`."""
    from rdnet.dataset import open_dataset as _open

    return _open(path, **kwargs)


__all__ = ["open_dataset", "ConfigError", "DatasetError", "RdnetError", "RunError", "__version__"]
