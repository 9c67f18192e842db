"""An in-memory store: a run kept as an :class:`xarray.Dataset` with the attributes its file would have.

The one-call APIs (:func:`rd_classic.simulate`, :func:`rdnet.prd.train`) return their run in
memory when no ``out`` is given. They write through the same
:class:`~rdnet.dataset.StreamingWriter` as a file does, into this store, so the dataset
equals the file (opened with :func:`rdnet.open_dataset`) variable for variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rdnet.dataset.store import SnapshotStore, VariableSpec
from rdnet.errors import DatasetError

__all__ = ["MemoryStore"]


class MemoryStore(SnapshotStore):
    """Snapshots kept in memory; :meth:`finish` builds :attr:`dataset`.

    ``path`` and ``partial_path`` are None: nothing is written, nothing can be resumed.

    Attributes
    ----------
    dataset : xarray.Dataset or None
        The run, once finished.
    groups : dict
        What :meth:`write_group` was given.
    """

    @classmethod
    def create(
        cls,
        path: Path | None,
        *,
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        variables: Mapping[str, VariableSpec],
        time_attrs: Mapping[str, str],
        attrs: Mapping[str, Any],
    ) -> MemoryStore:
        return cls(coords=coords, variables=variables, time_attrs=time_attrs, attrs=attrs)

    @classmethod
    def reopen(cls, partial_path: Path, *, records: int | None = None) -> MemoryStore:
        raise DatasetError("a run kept in memory cannot be resumed")

    def __init__(self, *, coords, variables, time_attrs, attrs) -> None:
        self.path = None
        self.partial_path = None
        self.n_records = 0
        self.dataset = None
        self.groups: dict[str, dict[str, np.ndarray]] = {}
        self._coords = {name: (np.asarray(values), dict(coord_attrs)) for name, (values, coord_attrs) in coords.items()}
        self._variables = dict(variables)
        self._time_attrs = dict(time_attrs)
        self._attrs = dict(attrs)
        self._times: list[float] = []
        lengths = {name: values.shape[0] for name, (values, _) in self._coords.items()}
        self.snapshot_shapes = {
            name: tuple(lengths[dim] for dim in spec.dims[1:])
            for name, spec in self._variables.items() if spec.dims[:1] == ("time",)
        }  # fmt: skip
        self._snapshots: dict[str, list[np.ndarray]] = {name: [] for name in self.snapshot_shapes}
        self._fixed = {
            name: np.full(tuple(lengths[dim] for dim in spec.dims), _fill(spec.dtype), dtype=_dtype(spec.dtype))
            for name, spec in self._variables.items() if spec.dims[:1] != ("time",)
        }  # fmt: skip

    def append(self, time: float, fields: Mapping[str, np.ndarray]) -> None:
        for name, values in fields.items():
            self._snapshots[name].append(np.array(values, dtype=_dtype(self._variables[name].dtype)))
        self._times.append(float(time))
        self.n_records += 1

    def write_fixed(self, name: str, values: np.ndarray, start: int = 0) -> None:
        if name in self._snapshots:
            raise ValueError(f"{name} is a snapshot variable: use append()")
        target = self._fixed[name]
        values = np.asarray(values)
        if target.ndim == 0:
            target[...] = values
        else:
            target[start : start + values.shape[0]] = values

    def get_attr(self, name: str) -> Any:
        return self._attrs[name]

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        self._attrs.update(attrs)

    def write_group(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        self.groups[name] = dict(arrays)

    @classmethod
    def replace_partial(cls, source: Path, destination: Path) -> None:
        raise DatasetError("a run kept in memory has no partial store")

    @classmethod
    def remove_partial(cls, path: Path) -> None:
        return None

    def flush(self) -> None:
        return None

    def abort(self) -> None:
        return None

    def finish(self) -> None:
        import xarray as xr

        data_vars = {}
        for name, spec in self._variables.items():
            if name in self._snapshots:
                shape = (self.n_records, *self.snapshot_shapes[name])
                values = np.stack(self._snapshots[name]) if self.n_records else np.empty(shape, _dtype(spec.dtype))
            else:
                values = self._fixed[name]
            data_vars[name] = (spec.dims, values, spec.attrs())
        coords = {name: (name, values, coord_attrs) for name, (values, coord_attrs) in self._coords.items()}
        coords["time"] = ("time", np.asarray(self._times, dtype=float), self._time_attrs)
        self.dataset = xr.Dataset(data_vars, coords=coords, attrs=self._attrs)
        self._snapshots = {name: [] for name in self._snapshots}
        return None


def _dtype(name: str) -> np.dtype:
    dtype = np.dtype(name)
    return np.dtype("i1") if dtype.kind == "b" else dtype


def _fill(name: str):
    return np.nan if np.dtype(name).kind == "f" else 0
