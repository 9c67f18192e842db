"""The store interface: what :class:`~rdnet.dataset.writer.StreamingWriter` needs from a storage format.

The writer owns the convention (the attributes, the declarations, the shape checks, the
Ctrl-C deferral); a store owns the bytes. A store holds a run in progress under its
``partial_path``, appends one snapshot at a time and makes each durable before it
returns, and on :meth:`~SnapshotStore.finish` puts the complete dataset under the final
name in one atomic step. :class:`~rdnet.dataset.netcdf_store.NetCDFStore` implements it
for NetCDF (the default); a zarr store implements the same methods.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np

__all__ = ["VariableSpec", "SnapshotStore"]


@dataclass(frozen=True)
class VariableSpec:
    """Declaration of one variable of a :class:`~rdnet.dataset.writer.StreamingWriter` (and of its store).

    Parameters
    ----------
    dims
        Dimension names. A snapshot variable starts with ``"time"``; the other
        dims must be fixed coordinates given to the writer.
    long_name, units
        CF attributes stored on the variable; ``units`` in UDUNITS or in the model notation
        of :func:`rdnet.dataset.cf.udunits` (``1/time``).
    dtype
        NumPy dtype name (``"float64"``, ``"float32"``, ``"int64"``, ...).
    """

    dims: tuple[str, ...]
    long_name: str
    units: str
    dtype: str = "float64"

    def attrs(self) -> dict[str, str]:
        """The variable's stored attributes: ``long_name`` and ``units`` in UDUNITS
        (:func:`rdnet.dataset.cf.variable_attrs`, which keeps the model's notation in ``model_units``)."""
        from rdnet.dataset.cf import variable_attrs

        return variable_attrs({"long_name": self.long_name, "units": self.units})


class SnapshotStore(abc.ABC):
    """A dataset being written snapshot by snapshot, durably.

    Attributes
    ----------
    path : pathlib.Path
        The final name, where the complete dataset appears on :meth:`finish`.
    partial_path : pathlib.Path
        Where the run in progress lives until then (``path + ".partial"``).
    n_records : int
        Complete, durable snapshots so far.
    snapshot_shapes : dict of str to tuple of int
        The shape of one snapshot (without ``time``) of each snapshot variable.
    """

    path: Path
    partial_path: Path
    n_records: int
    snapshot_shapes: dict[str, tuple[int, ...]]

    @classmethod
    @abc.abstractmethod
    def create(
        cls,
        path: Path,
        *,
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        variables: Mapping[str, VariableSpec],
        time_attrs: Mapping[str, str],
        attrs: Mapping[str, Any],
    ) -> SnapshotStore:
        """Start a new run at ``path`` (checked and absolute), replacing any partial file there.

        ``coords`` are the fixed coordinates (name to values and attributes), ``variables``
        name to :class:`VariableSpec` (checked against ``coords``),
        ``time_attrs`` the attributes of the unlimited ``time`` coordinate and ``attrs``
        the global attributes, already encoded (strings and numbers).
        """

    @classmethod
    @abc.abstractmethod
    def reopen(cls, partial_path: Path, *, records: int | None = None) -> SnapshotStore:
        """Reopen an interrupted run's partial store to continue after ``records`` snapshots
        (default: every complete one); later snapshots no longer count.

        Raises :class:`~rdnet.errors.DatasetError` when it is not a readable partial store
        or holds fewer complete snapshots than ``records``.
        """

    @abc.abstractmethod
    def append(self, time: float, fields: Mapping[str, np.ndarray]) -> None:
        """Write one snapshot (every snapshot variable, of its shape), make it durable, then
        mark it complete and make that durable too; :attr:`n_records` then counts it."""

    @abc.abstractmethod
    def write_fixed(self, name: str, values: np.ndarray, start: int = 0) -> None:
        """Write ``values`` into the non-snapshot variable ``name`` along its first dim from
        ``start`` (durable with the next :meth:`append` or :meth:`flush`)."""

    @abc.abstractmethod
    def get_attr(self, name: str) -> Any:
        """The global attribute ``name``."""

    @abc.abstractmethod
    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        """Add or replace global attributes (already encoded)."""

    @abc.abstractmethod
    def write_group(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Store plain arrays in a group ``name`` that appears with the final dataset (:meth:`finish`)."""

    @classmethod
    @abc.abstractmethod
    def replace_partial(cls, source: Path, destination: Path) -> None:
        """Move the partial store ``source`` to ``destination`` atomically, replacing what is there."""

    @classmethod
    @abc.abstractmethod
    def remove_partial(cls, path: Path) -> None:
        """Delete a partial store (nothing if there is none)."""

    @abc.abstractmethod
    def flush(self) -> None:
        """Make everything written so far durable."""

    @abc.abstractmethod
    def finish(self) -> Path:
        """Put the complete snapshots under :attr:`path` atomically, remove the partial store,
        and return :attr:`path`."""

    @abc.abstractmethod
    def abort(self) -> Path:
        """Stop writing and keep the partial store, which holds every complete snapshot;
        return :attr:`partial_path`."""
