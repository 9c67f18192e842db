"""Writing rdnet datasets: streaming, one durable snapshot at a time, and whole in-memory datasets.

A :class:`StreamingWriter` is the observer a run loop calls once per snapshot. It holds
the convention — the attributes every file carries, the declared variables and their
shapes, a Ctrl-C held until the snapshot in progress is durable — and hands the bytes to
a :class:`~rdnet.dataset.store.SnapshotStore`: :class:`~rdnet.dataset.netcdf_store.NetCDFStore`
(``PATH.partial``, then NetCDF-4 at ``PATH``) by default. :func:`write_dataset` writes a
dataset already in memory (a summary, spectra) atomically.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rdnet.dataset.cf import encode, time_coordinate_attrs, variable_attrs
from rdnet.dataset.convention import COMPLETE_FLAG, PARTIAL_SUFFIX, _attr_values, standard_attrs
from rdnet.dataset.file_safety import _fsync_file, _fsync_folder, _temporary_path, check_output_path
from rdnet.dataset.netcdf_store import NetCDFStore
from rdnet.dataset.store import SnapshotStore, VariableSpec
from rdnet.errors import DatasetError

__all__ = ["StreamingWriter", "store_type_for", "write_dataset", "prepare_dataset"]


def store_type_for(path: Path | None) -> type[SnapshotStore]:
    """The store that writes a run to ``path``: zarr for a name ending in ``.zarr``, NetCDF for
    another name, memory for None (:class:`~rdnet.dataset.memory_store.MemoryStore`)."""
    from rdnet.dataset.memory_store import MemoryStore
    from rdnet.dataset.zarr_store import ZarrStore, is_zarr_path

    if path is None:
        return MemoryStore
    return ZarrStore if is_zarr_path(path) else NetCDFStore


class StreamingWriter:
    """Append snapshots to a dataset one at a time, durably.

    Parameters
    ----------
    path
        Final file name (``.nc``; a name ending in ``.zarr`` is a zarr store). Until
        :meth:`close`, data goes to ``path + ".partial"``. None keeps the run in memory
        (:class:`~rdnet.dataset.memory_store.MemoryStore`): :attr:`dataset` after :meth:`close`.
    system, model, parameters, history
        See :func:`~rdnet.dataset.convention.standard_attrs`.
    coords
        Fixed (non-record) coordinates: name to ``(values, attrs)``; e.g. ``y``, ``x``,
        ``feature`` or ``step``. Each becomes a dimension of that length.
    variables
        Name to :class:`VariableSpec`. Variables whose first dim is ``"time"`` are
        snapshot variables, written by :meth:`append`; the others by :meth:`write_fixed`.
    time_long_name
        What the ``time`` coordinate holds (model time, written with the CF encoding of
        :func:`rdnet.dataset.cf.time_coordinate_attrs`).
    attrs
        Extra global attributes (dicts and lists are stored as JSON strings).
    overwrite
        Replace an existing final file (and discard an interrupted run's partial file).

    Attributes
    ----------
    store : SnapshotStore
        Where the bytes go (:func:`store_type_for` the path).

    Examples
    --------
    >>> writer = StreamingWriter(
    ...     "run.nc", system="classic", model="gray-scott", parameters={"F": 0.035},
    ...     coords={"y": (y, {"units": "1"}), "x": (x, {"units": "1"})},
    ...     variables={"u": VariableSpec(("time", "y", "x"), "activator", "1")},
    ... )  # doctest: +SKIP
    >>> writer.append(0.0, {"u": u0})  # doctest: +SKIP
    >>> writer.close()  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | os.PathLike | None,
        *,
        system: str,
        model: str,
        parameters: Mapping[str, Any],
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        variables: Mapping[str, VariableSpec],
        time_long_name: str = "model time",
        history: str | None = None,
        attrs: Mapping[str, Any] | None = None,
        overwrite: bool = False,
    ) -> None:
        path = None if path is None else check_output_path(path, overwrite=overwrite)
        _check_declarations(coords, variables)
        global_attrs = standard_attrs(system=system, model=model, parameters=parameters, history=history)
        if attrs:
            global_attrs.update(_attr_values(attrs))
        self.store = store_type_for(path).create(
            path,
            coords={name: (values, variable_attrs(_attr_values(coord_attrs))) for name, (values, coord_attrs) in coords.items()},
            variables=variables,
            time_attrs=time_coordinate_attrs(time_long_name),
            attrs=global_attrs,
        )

    @classmethod
    def resume(cls, partial_path: str | os.PathLike, *, records: int | None = None) -> StreamingWriter:
        """Reopen the partial file of an interrupted run to continue writing.

        Parameters
        ----------
        partial_path
            The ``.partial`` file left by the interrupted run.
        records
            Continue after this many snapshots (default: every complete one). Later
            snapshots are marked incomplete and will be overwritten.

        Returns
        -------
        StreamingWriter
            A writer whose next :meth:`append` writes snapshot number ``records``.

        Raises
        ------
        DatasetError
            The file is not a readable partial file, or holds fewer snapshots than ``records``.
        """
        partial_path = Path(partial_path).expanduser().absolute()
        if not partial_path.name.endswith(PARTIAL_SUFFIX):
            raise DatasetError(f"not a partial file (name must end in {PARTIAL_SUFFIX}): {partial_path}")
        final_path = partial_path.with_name(partial_path.name[: -len(PARTIAL_SUFFIX)])
        self = cls.__new__(cls)
        self.store = store_type_for(final_path).reopen(partial_path, records=records)
        return self

    @classmethod
    def continue_from(
        cls,
        source: str | os.PathLike,
        *,
        records: int,
        coords: Mapping[str, np.ndarray] | None = None,
        attrs: Mapping[str, Any] | None = None,
        history: str | None = None,
    ) -> StreamingWriter:
        """Continue a run, finished or interrupted, in a new partial file holding its first snapshots.

        The new partial file is ``PATH.partial`` for a finished ``PATH`` (which stays as it is
        until the continued run completes and replaces it), or rebuilt in place of a partial
        ``source``. It holds the first ``records`` snapshots and every non-snapshot variable of
        ``source``, copied one snapshot at a time, with the same attributes.

        Parameters
        ----------
        source
            A finished file or store, or a ``.partial`` one.
        records
            Snapshots to keep (at most those complete in ``source``).
        coords
            New values of fixed coordinates (a ``step`` axis made longer); the variables
            along them keep their values at the start and are NaN beyond.
        attrs
            Global attributes to add or replace (the continued run's ``parameters``); None
            removes one.
        history
            The continuing command, appended as a line to ``history``.

        Returns
        -------
        StreamingWriter
            Writing snapshot number ``records`` next.

        Raises
        ------
        DatasetError
            ``source`` is unreadable, holds fewer snapshots, or (finished) an interrupted
            continuation's partial file exists beside it.
        """
        from rdnet.dataset.reader import open_dataset

        source = Path(source).expanduser().absolute()
        partial_source = source.name.endswith(PARTIAL_SUFFIX)
        final_path = source.with_name(source.name[: -len(PARTIAL_SUFFIX)]) if partial_source else source
        target = final_path.with_name(final_path.name + PARTIAL_SUFFIX)
        if not partial_source and target.exists():
            raise DatasetError(f"an interrupted continuation of {source.name} exists: {target} "
                               f"(continue it with --resume {target}, or delete it)")  # fmt: skip
        with open_dataset(source) as ds:
            available = ds.sizes.get("time", 0)
            if not 0 < records <= available:
                raise DatasetError(f"{source} holds {available} complete snapshots, cannot keep {records}")
            # a hidden name in the same folder, with the same suffix (so the same store type)
            scratch = final_path.with_name(f".{final_path.stem}.continue-{os.getpid()}{final_path.suffix}")
            writer = cls._copy_of(ds, scratch, records=records, coords=coords or {}, attrs=attrs or {},
                                  history=history)  # fmt: skip
        scratch_partial = writer.abort()
        try:
            store_type_for(target).replace_partial(scratch_partial, target)
        except BaseException:
            store_type_for(target).remove_partial(scratch_partial)
            raise
        return cls.resume(target)

    @classmethod
    def _copy_of(cls, ds, path: Path, *, records: int, coords, attrs, history) -> StreamingWriter:
        """A new writer at ``path`` holding ``ds``'s first ``records`` snapshots (see :meth:`continue_from`)."""
        fixed_coords = {}
        for name in ds.dims:
            if name == "time":
                continue
            values = np.asarray(coords.get(name, ds[name].values if name in ds.coords else np.arange(ds.sizes[name])))
            coord_attrs = {key: value for key, value in ds[name].attrs.items() if key != "_FillValue"} if name in ds.coords else {}
            fixed_coords[name] = (values, coord_attrs)
        variables = {
            str(name): VariableSpec(tuple(map(str, variable.dims)), str(variable.attrs.get("long_name", name)),
                                    str(variable.attrs.get("model_units", variable.attrs.get("units", "1"))),
                                    str(variable.dtype))
            for name, variable in ds.data_vars.items()
        }  # fmt: skip
        kept = {key: value for key, value in ds.attrs.items() if key not in ("system", "model", "history")}
        for key, value in attrs.items():
            if value is None:
                kept.pop(key, None)
            else:
                kept[key] = value
        parameters = kept.pop("parameters", "{}")
        writer = cls(
            path, system=str(ds.attrs.get("system", "external")), model=str(ds.attrs.get("model", "")),
            parameters=json.loads(parameters) if isinstance(parameters, str) else parameters,
            coords=fixed_coords, variables=variables,
            time_long_name=str(ds["time"].attrs.get("long_name", "model time")).removesuffix(" (dimensionless)"),
            history=history, attrs=kept, overwrite=True,
        )  # fmt: skip
        old_history = str(ds.attrs.get("history", "")).strip()
        new_line = writer.store.get_attr("history")
        writer.set_attrs(history=f"{old_history}\n{new_line}" if old_history else new_line)
        snapshot_names = [name for name, spec in variables.items() if spec.dims[:1] == ("time",)]
        for name, spec in variables.items():
            if spec.dims[:1] != ("time",) and spec.dims:
                values = np.asarray(ds[name].values)
                writer.write_fixed(name, values[: len(fixed_coords[spec.dims[0]][0])])
        times = np.asarray(ds["time"].values)
        for index in range(records):
            writer.append(float(times[index]), {name: np.asarray(ds[name].isel(time=index).values) for name in snapshot_names})
        return writer

    def write_group(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        """Store plain arrays in a group ``name`` of the final file (a NetCDF-4 group, a zarr subgroup).

        The group appears with the final file (:meth:`close`); the dataset itself does not show
        it (``xarray.open_dataset(path, group=name)`` or :func:`rdnet.dataset.read_group` do).
        """
        self.store.write_group(name, {key: np.asarray(value) for key, value in arrays.items()})

    @property
    def path(self) -> Path:
        """The final file name."""
        return self.store.path

    @property
    def partial_path(self) -> Path:
        """The file the run writes to until it is complete."""
        return self.store.partial_path

    @property
    def dataset(self):
        """The run as an :class:`xarray.Dataset`, for a run kept in memory (``path`` None) once closed."""
        return getattr(self.store, "dataset", None)

    @property
    def n_records(self) -> int:
        """Complete, durable snapshots so far."""
        return self.store.n_records

    @property
    def parameters(self) -> dict[str, Any]:
        """The run's parameters, decoded from the file's ``parameters`` attribute."""
        return json.loads(self.store.get_attr("parameters"))

    def append(self, time: float, fields: Mapping[str, np.ndarray]) -> int:
        """Write one snapshot and make it durable before returning.

        Parameters
        ----------
        time
            Value of the ``time`` coordinate.
        fields
            A value for every snapshot variable, each of the declared shape.

        Returns
        -------
        int
            Index of the snapshot just written.
        """
        shapes = self.store.snapshot_shapes
        missing = set(shapes) - set(fields)
        unknown = set(fields) - set(shapes)
        if missing or unknown:
            raise ValueError(f"append() needs exactly the snapshot variables: missing {sorted(missing)}, unknown {sorted(unknown)}")
        index = self.n_records
        for name, values in fields.items():
            values = np.asarray(values)
            if values.shape != shapes[name]:
                raise ValueError(f"{name}: shape {values.shape}, declared {shapes[name]}")
        with _interrupts_deferred():
            self.store.append(time, fields)
        return index

    def write_fixed(self, name: str, values: np.ndarray, start: int = 0) -> None:
        """Write ``values`` into a non-snapshot variable along its first dim from ``start``.

        The values become durable with the next :meth:`append` or :meth:`flush`.
        """
        with _interrupts_deferred():
            self.store.write_fixed(name, values, start)

    def set_attrs(self, **attrs: Any) -> None:
        """Add or replace global attributes (dicts and lists are stored as JSON)."""
        with _interrupts_deferred():
            self.store.set_attrs(_attr_values(attrs))

    def flush(self) -> None:
        """Make everything written so far durable."""
        with _interrupts_deferred():
            self.store.flush()

    def abort(self) -> Path:
        """Stop writing and keep the partial file (for an interrupted or failed run).

        Returns
        -------
        pathlib.Path
            The partial file, which holds every complete snapshot.
        """
        return self.store.abort()

    def close(self) -> Path:
        """Complete the run: write the final file atomically, remove the partial.

        Returns
        -------
        pathlib.Path
            The final file.
        """
        self.flush()
        return self.store.finish()

    def __enter__(self) -> StreamingWriter:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_dataset(
    ds,
    path: str | os.PathLike,
    *,
    system: str,
    model: str,
    parameters: Mapping[str, Any],
    history: str | None = None,
    overwrite: bool = False,
) -> Path:
    """Write an in-memory dataset with rdnet's attributes, atomically.

    Parameters
    ----------
    ds : xarray.Dataset
        The data, completed as by :func:`prepare_dataset`.
    path
        Final file name; the file appears there only once complete. A name ending in
        ``.zarr`` is written as a zarr store (a folder), any other as NetCDF-4.
    system, model, parameters, history
        See :func:`standard_attrs`.
    overwrite
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    path = check_output_path(path, overwrite=overwrite)
    ds = prepare_dataset(ds, system=system, model=model, parameters=parameters, history=history)
    if path.name.endswith(".zarr"):  # a zarr store, as every rdnet output named so (it was NetCDF under that name)
        from rdnet.dataset.zarr_store import write_store

        return write_store(ds, path)
    encoding = {
        name: {"zlib": True, "complevel": 1, "shuffle": True}
        for name, variable in ds.data_vars.items()
        if variable.dtype.kind in "iuf" and variable.ndim > 0
    }
    encoding.update({name: {"_FillValue": None} for name in ds.coords if ds[name].dtype.kind == "f"})
    temporary = _temporary_path(path)
    try:
        unlimited = ["time"] if "time" in ds.dims else None  # as in a streamed file (CF's dimension order)
        ds.to_netcdf(temporary, engine="netcdf4", format="NETCDF4", encoding=encoding, unlimited_dims=unlimited)
        _fsync_file(temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    _fsync_folder(path.parent)
    return path


def prepare_dataset(ds, *, system: str, model: str, parameters: Mapping[str, Any], history: str | None = None):
    """An in-memory dataset with everything :func:`write_dataset` stores: rdnet's attributes and the CF encoding.

    Parameters
    ----------
    ds : xarray.Dataset
        The data. Variables without ``long_name`` get their name; without ``units``, ``"1"``;
        units, the ``time`` coordinate and the grid coordinates get the CF encoding of
        :func:`rdnet.dataset.cf.encode`.
    system, model, parameters, history
        See :func:`standard_attrs`.

    Returns
    -------
    xarray.Dataset
        A copy, as :func:`write_dataset` writes it (and :func:`rdnet.open_dataset` reads it).
    """
    import xarray as xr

    if not isinstance(ds, xr.Dataset):
        hint = ": make it one with da.to_dataset(name='u')" if isinstance(ds, xr.DataArray) else ""
        raise TypeError(f"expected an xarray.Dataset, got {type(ds).__name__}{hint}")
    ds = ds.copy()
    for name in list(ds.data_vars) + list(ds.coords):
        variable = ds[name]
        variable.attrs.setdefault("long_name", str(name))
        if variable.dtype.kind in "iufc":
            variable.attrs.setdefault("units", "1")
    ds = encode(ds)
    ds.attrs.update(standard_attrs(system=system, model=model, parameters=parameters, history=history))
    return ds


def _check_declarations(coords, variables) -> None:
    known = {"time", *coords}
    for name, (values, _) in coords.items():
        if np.ndim(values) != 1:
            raise ValueError(f"coordinate {name} must be 1-D")
    for name, spec in variables.items():
        unknown = [dim for dim in spec.dims if dim not in known]
        if unknown:
            raise ValueError(f"variable {name}: dims {unknown} are not declared coordinates")
        if "time" in spec.dims[1:]:
            raise ValueError(f"variable {name}: 'time' must be the first dim")
        if name in coords or name in ("time", COMPLETE_FLAG):
            raise ValueError(f"variable {name}: name is taken")


@contextmanager
def _interrupts_deferred():
    """Hold a Ctrl-C (SIGINT) that arrives inside the block until the block has finished.

    netCDF4's compiled layer swallows a KeyboardInterrupt raised while it runs, so an
    interrupt landing inside a write would be lost and the run would go on to the end.
    Deferred, it is raised after the write, with the snapshot complete and durable.
    Only the main thread can handle signals; elsewhere the block runs unchanged.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or not callable(previous):
        yield
        return
    pending = []
    signal.signal(signal.SIGINT, lambda signum, frame: pending.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        previous(signal.SIGINT, pending[-1])
