"""Exception types shared by every part of rdnet.

The command line turns these into one clear line and an exit code:
:class:`ConfigError` and :class:`DatasetError` are the user's input (exit 2),
:class:`RunError` is a run that failed after it started (exit 1).
"""

from __future__ import annotations

__all__ = ["RdnetError", "ConfigError", "DatasetError", "RunError"]


class RdnetError(Exception):
    """Base class of every error rdnet raises on purpose."""

    exit_code = 1


class ConfigError(RdnetError, ValueError):
    """A parameter, option or name given by the user is invalid."""

    exit_code = 2


class DatasetError(RdnetError, ValueError):
    """A file does not follow the rdnet dataset convention (or is not NetCDF)."""

    exit_code = 2


class RunError(RdnetError, RuntimeError):
    """A run failed after it started (blow-up, full disk, interrupted worker)."""

    exit_code = 1
