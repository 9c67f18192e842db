"""zarr storage of a run: ``PATH.zarr.partial`` while it runs, ``PATH.zarr`` when complete.

The same convention and promises as the NetCDF store (:mod:`~rdnet.dataset.netcdf_store`),
written with the ``zarr`` library (format 3, one chunk per snapshot) so that
:func:`xarray.open_zarr` reads the finished store:

- every snapshot variable has ``time`` first and one chunk per snapshot, so an append writes
  new chunk files and never rewrites an old one; zarr writes each chunk file atomically (a
  temporary file renamed into place);
- each :meth:`~ZarrStore.append` writes the snapshot's chunks and its time, makes them durable
  (one ``syncfs``), then sets the snapshot's ``snapshot_complete`` flag and makes that durable: a process killed
  at any moment leaves every snapshot whose append returned, complete and readable;
- the record arrays grow by doubling (fewer metadata rewrites); a killed run may leave them
  with different lengths or unwritten rows, which the flag makes harmless: readers take the
  leading complete snapshots (:func:`open_partial_store`);
- :meth:`~ZarrStore.finish` trims the arrays to the complete snapshots, drops the flag and
  renames the folder to its final name in one step.

A store read from disk is untrusted: :func:`check_zarr_store` refuses a store whose metadata
names a codec outside :data:`SAFE_CODECS` (zarr's ``pickle`` codec would run code) before
zarr opens it.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from rdnet.dataset.convention import COMPLETE_FLAG, PARTIAL_SUFFIX, _leading_complete
from rdnet.dataset.file_safety import _fsync_file, _fsync_folder, _partial_path
from rdnet.dataset.store import SnapshotStore, VariableSpec
from rdnet.errors import DatasetError

__all__ = ["ZARR_SUFFIX", "SAFE_CODECS", "ZarrStore", "is_zarr_path", "check_zarr_store", "open_partial_store"]

#: Name ending of a zarr store (a folder).
ZARR_SUFFIX = ".zarr"
#: Codecs (zarr 3 names and zarr 2 ids) a store read from disk may use; anything else is refused.
SAFE_CODECS = frozenset({
    "bytes", "zstd", "blosc", "gzip", "zlib", "lz4", "crc32c", "transpose", "vlen-utf8", "vlen-bytes",
    "sharding_indexed", "shuffle", "bz2", "lzma", "fixedscaleoffset", "delta", "astype", "categorize",
})  # fmt: skip
#: Most metadata documents :func:`check_zarr_store` reads (a store with more arrays is refused).
MAX_METADATA_FILES = 10_000
_METADATA_NAMES = ("zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata")


def is_zarr_path(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a zarr store: its name ends in ``.zarr`` (or ``.zarr.partial``)."""
    name = Path(path).name
    return name.endswith(ZARR_SUFFIX) or name.endswith(ZARR_SUFFIX + PARTIAL_SUFFIX)


def check_zarr_store(path: str | os.PathLike) -> None:
    """Check a zarr store before zarr opens it: a folder whose metadata uses only :data:`SAFE_CODECS`.

    Parameters
    ----------
    path
        The store's folder.

    Raises
    ------
    DatasetError
        Not a folder, no zarr metadata, unreadable metadata, or a codec outside the list.
    """
    path = Path(path)
    if not path.is_dir():
        raise DatasetError(f"{path} is not a zarr store (not a folder)")
    documents = []
    for folder, _, files in os.walk(path):
        documents += [Path(folder) / name for name in files if name in _METADATA_NAMES]
        if len(documents) > MAX_METADATA_FILES:
            raise DatasetError(f"{path}: more than {MAX_METADATA_FILES} zarr metadata files; refused")
    if not any(document.parent == path for document in documents):
        raise DatasetError(f"{path} is not a zarr store (no zarr.json or .zgroup at its top)")
    for document in documents:
        try:
            metadata = json.loads(document.read_text())
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise DatasetError(f"{path}: unreadable zarr metadata {document.relative_to(path)} ({error})") from None
        unsafe = sorted(_codec_names(metadata) - SAFE_CODECS)
        if unsafe:
            raise DatasetError(f"{path}: {document.relative_to(path)} uses the codec(s) {', '.join(unsafe)}, "
                               f"which rdnet does not read (allowed: {', '.join(sorted(SAFE_CODECS))})")  # fmt: skip


def _codec_names(metadata: Any) -> set[str]:
    """Every codec named in a metadata document (zarr 3 ``codecs``; zarr 2 ``compressor``/``filters``)."""
    names: set[str] = set()
    if isinstance(metadata, dict):
        for key, value in metadata.items():
            if key in ("codecs", "filters", "compressors") and isinstance(value, list):
                for codec in value:
                    if isinstance(codec, dict):
                        names.add(str(codec.get("name", codec.get("id", ""))).lower())
                        names |= _codec_names(codec.get("configuration", {}))
            elif key == "compressor" and isinstance(value, dict):
                names.add(str(value.get("id", "")).lower())
            elif key == "object_codec_id" and value:
                names.add(str(value).lower())
            else:
                names |= _codec_names(value)
    elif isinstance(metadata, list):
        for item in metadata:
            names |= _codec_names(item)
    return names


class ZarrStore(SnapshotStore):
    """A run written to ``PATH.zarr.partial`` and renamed to ``PATH.zarr`` when complete.

    See :class:`~rdnet.dataset.store.SnapshotStore` for the methods.
    """

    @classmethod
    def create(
        cls,
        path: Path,
        *,
        coords: Mapping[str, tuple[np.ndarray, Mapping[str, Any]]],
        variables: Mapping[str, VariableSpec],
        time_attrs: Mapping[str, str],
        attrs: Mapping[str, Any],
    ) -> ZarrStore:
        import zarr

        partial_path = _partial_path(path)
        _remove_store(partial_path)  # the writer checked that it may be replaced
        try:
            root = zarr.open_group(partial_path, mode="w", zarr_format=3)
            _new_array(root, "time", (0,), (1,), "float64", ("time",), time_attrs)
            for name, (values, coord_attrs) in coords.items():
                values = np.asarray(values)
                array = _new_array(root, name, values.shape, values.shape, values.dtype, (name,), coord_attrs)
                array[...] = values.astype(array.dtype, copy=False)
            lengths = {name: np.asarray(values).shape[0] for name, (values, _) in coords.items()}
            for name, spec in variables.items():
                shape = tuple(0 if dim == "time" else lengths[dim] for dim in spec.dims)
                chunks = tuple(1 if dim == "time" else lengths[dim] for dim in spec.dims)
                _new_array(root, name, shape, chunks, spec.dtype, spec.dims, spec.attrs())
            _new_array(root, COMPLETE_FLAG, (0,), (1,), "int8", ("time",),
                       {"long_name": "1 once the snapshot is complete and durable", "units": "1"})  # fmt: skip
            root.attrs.update(_json_attrs(attrs))
        except BaseException:
            _remove_store(partial_path)
            raise
        store = cls(root, path=path, partial_path=partial_path, n_records=0)
        store._make_durable()
        return store

    @classmethod
    def reopen(cls, partial_path: Path, *, records: int | None = None) -> ZarrStore:
        import zarr

        check_zarr_store(partial_path)
        _remove_torn_writes(partial_path)
        try:
            root = zarr.open_group(partial_path, mode="r+")
        except Exception as error:  # noqa: BLE001 - zarr raises many types for a damaged store
            raise DatasetError(f"cannot open partial store {partial_path}: {error}") from None
        if COMPLETE_FLAG not in root:
            raise DatasetError(f"not an rdnet partial store (no '{COMPLETE_FLAG}' array): {partial_path}")
        complete = _complete_records(root)
        if records is None:
            records = complete
        if not 0 <= records <= complete:
            raise DatasetError(f"{partial_path} holds {complete} complete snapshots, cannot resume after {records}")
        flags = root[COMPLETE_FLAG]
        if flags.shape[0] > records:
            flags[records:] = 0
        path = partial_path.with_name(partial_path.name[: -len(PARTIAL_SUFFIX)])
        store = cls(root, path=path, partial_path=partial_path, n_records=records)
        store._make_durable()
        return store

    def __init__(self, root, *, path: Path, partial_path: Path, n_records: int) -> None:
        self._root = root
        self.path = path
        self.partial_path = partial_path
        self.n_records = n_records
        arrays = dict(root.arrays())
        self._record_arrays = {
            name: array for name, array in arrays.items()
            if _dims(array)[:1] == ("time",) and name not in ("time", COMPLETE_FLAG)
        }  # fmt: skip
        self._time = arrays["time"]
        self._flags = arrays[COMPLETE_FLAG]
        self.snapshot_shapes = {name: tuple(array.shape[1:]) for name, array in self._record_arrays.items()}
        # the shortest record array: a run killed while growing them may leave different lengths
        self._capacity = min(array.shape[0] for array in (*self._record_arrays.values(), self._time, self._flags))
        self._dirty: set[str] = set()

    def append(self, time: float, fields: Mapping[str, np.ndarray]) -> None:
        index = self.n_records
        if index >= self._capacity:
            self._grow(max(index + 1, 2 * self._capacity))
        for name, values in fields.items():
            self._record_arrays[name][index] = np.asarray(values)
        self._time[index] = time
        self._make_durable()  # data first, then the flag
        self._flags[index] = 1
        self._make_durable()
        self.n_records = index + 1

    def write_fixed(self, name: str, values: np.ndarray, start: int = 0) -> None:
        if name in self._record_arrays:
            raise ValueError(f"{name} is a snapshot variable: use append()")
        array = self._root[name]
        values = np.asarray(values)
        if array.ndim == 0:
            array[...] = values
        else:
            array[start : start + values.shape[0]] = values
        self._dirty.add(name)

    def get_attr(self, name: str) -> Any:
        return self._root.attrs[name]

    def set_attrs(self, attrs: Mapping[str, Any]) -> None:
        self._root.attrs.update(_json_attrs(attrs))
        self._dirty.add("")

    def write_group(self, name: str, arrays: Mapping[str, np.ndarray]) -> None:
        group = self._root.require_group(name)
        for key, values in arrays.items():
            values = np.asarray(values)
            dims = tuple(f"{key}_{axis}" for axis in range(values.ndim))
            array = group.create_array(key, shape=values.shape, chunks=tuple(max(1, n) for n in values.shape),
                                       dtype=values.dtype, dimension_names=dims, overwrite=True)  # fmt: skip
            array[...] = values
        self._make_durable()

    @classmethod
    def replace_partial(cls, source: Path, destination: Path) -> None:
        _replace_store(source, destination)

    @classmethod
    def remove_partial(cls, path: Path) -> None:
        _remove_store(path)

    def flush(self) -> None:
        self._make_durable()

    def abort(self) -> Path:
        try:
            self._make_durable()
        except OSError:  # e.g. the disk is full: the complete snapshots are durable already
            pass
        return self.partial_path

    def finish(self) -> Path:
        import zarr

        records = self.n_records
        for array in (*self._record_arrays.values(), self._time, self._flags):
            array.resize((records, *array.shape[1:]))
        self._make_durable()
        # the flag goes only once the store has its final name: killed at any moment, the run
        # leaves a readable partial store, or a final one whose flag marks every snapshot complete
        # (the reader drops it)
        _replace_store(self.partial_path, self.path)
        del zarr.open_group(str(self.path), mode="r+")[COMPLETE_FLAG]
        _consolidate(self.path)
        _flush_file_system(self.path)
        return self.path

    # ---------------------------------------------------------------- durability

    def _grow(self, capacity: int) -> None:
        """Lengthen every record array (the flag last) to ``capacity`` snapshots."""
        for array in (*self._record_arrays.values(), self._time, self._flags):
            if array.shape[0] < capacity:
                array.resize((capacity, *array.shape[1:]))
        self._capacity = capacity

    def _make_durable(self) -> None:
        """Make every file written so far durable."""
        _flush_file_system(self.partial_path)
        self._dirty.clear()


def open_partial_store(path: str | os.PathLike):
    """The complete snapshots of a zarr store that holds a ``snapshot_complete`` flag, as a lazy dataset.

    A run's partial store may hold record arrays of different lengths and unwritten rows
    (:class:`ZarrStore`): this reads each array with dask, cut to the leading complete
    snapshots, so it opens what :func:`xarray.open_zarr` would refuse.

    Parameters
    ----------
    path
        The ``.zarr.partial`` folder (checked with :func:`check_zarr_store` first).

    Returns
    -------
    xarray.Dataset
        Without the flag.
    """
    import dask.array
    import xarray as xr
    import zarr

    path = Path(path)
    check_zarr_store(path)
    root = zarr.open_group(path, mode="r")
    records = _complete_records(root)
    variables, coords = {}, {}
    for name, array in root.arrays():
        if name == COMPLETE_FLAG:
            continue
        dims = _dims(array)
        data = dask.array.from_zarr(array)
        if dims[:1] == ("time",):
            data = data[:records]
        target = coords if dims == (name,) else variables
        target[name] = xr.Variable(dims, data, attrs=dict(array.attrs))
    return xr.Dataset(variables, coords=coords, attrs=dict(root.attrs))


def _complete_records(root) -> int:
    flags = root[COMPLETE_FLAG]
    lengths = [array.shape[0] for _, array in root.arrays() if _dims(array)[:1] == ("time",)]
    usable = min(lengths) if lengths else 0
    if usable == 0:
        return 0
    return _leading_complete(np.asarray(flags[:usable]))


def _dims(array) -> tuple[str, ...]:
    names = getattr(array.metadata, "dimension_names", None)
    if names is None:
        names = array.attrs.get("_ARRAY_DIMENSIONS", ())
    return tuple(str(name) for name in names)


def _new_array(root, name, shape, chunks, dtype, dims, attrs):
    dtype = np.dtype(dtype).newbyteorder("=")  # values read from a NetCDF-3 file are big-endian
    if dtype.kind == "b":
        dtype = np.dtype("i1")
    fill = np.nan if dtype.kind == "f" else 0
    return root.create_array(name, shape=tuple(shape), chunks=tuple(max(1, n) for n in chunks), dtype=dtype,
                             dimension_names=tuple(dims), fill_value=fill, attributes=_json_attrs(attrs))  # fmt: skip


def _json_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Attributes as JSON values (zarr stores attributes as JSON)."""
    out = {}
    for key, value in attrs.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def _flush_file_system(path: Path) -> None:
    """Make every write under ``path`` durable in one call: ``syncfs(2)`` on its file system.

    A snapshot of a zarr store is many small files (a chunk per variable, the metadata of
    the arrays written); one ``syncfs`` costs about what one ``fsync`` does, where an
    ``fsync`` of each file and folder cost 0.3 s per snapshot of a network run on a busy
    disk. Where ``syncfs`` is missing (not Linux), every file and folder is ``fsync``-ed.
    """
    descriptor = os.open(path, os.O_RDONLY)
    try:
        if _syncfs is not None and _syncfs(descriptor) == 0:
            return
    finally:
        os.close(descriptor)
    _fsync_tree(path)


def _load_syncfs():
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        function = libc.syncfs
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return function


_syncfs = _load_syncfs()


def _fsync_tree(path: Path) -> None:
    """``fsync`` a file, or every file and folder under a folder (nothing if it does not exist)."""
    if path.is_file():
        _fsync_file(path)
        return
    if not path.is_dir():
        return
    for folder, _, files in os.walk(path):
        for name in files:
            _fsync_file(Path(folder) / name)
        _fsync_folder(Path(folder))


def write_store(ds, path: Path) -> Path:
    """Write a whole in-memory dataset as the zarr store ``path``, atomically: built and made
    durable under a temporary name, then renamed (an existing store, allowed by the caller's
    check, is replaced only then).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        encoding = {name: {"_FillValue": None} for name in ds.coords if ds[name].dtype.kind == "f"}
        ds.to_zarr(temporary, mode="w", zarr_format=3, consolidated=False, encoding=encoding)
        _consolidate(temporary)
        _fsync_tree(temporary)
        _replace_store(temporary, path)
    finally:
        _remove_store(temporary)
    return path


def _consolidate(path: Path) -> None:
    """Write the store's consolidated metadata (``xarray.open_zarr`` reads it without a warning).

    zarr warns that consolidated metadata is not yet part of the zarr 3 specification;
    zarr-python and xarray read it, and other readers fall back to the arrays' own metadata.
    """
    import warnings

    import zarr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        zarr.consolidate_metadata(str(path))


def _remove_torn_writes(path: Path) -> None:
    """Delete the temporary files of chunk writes a killed process left (zarr's ``*.<hex>.partial``)."""
    for folder, _, files in os.walk(path):
        for name in files:
            if name.endswith(PARTIAL_SUFFIX):
                (Path(folder) / name).unlink(missing_ok=True)


def _remove_store(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def _replace_store(source: Path, destination: Path) -> None:
    """Rename the finished store to its final name (an existing one, allowed by ``overwrite``, is replaced)."""
    if destination.exists():
        trash = destination.with_name(f".{destination.name}.replaced-{uuid.uuid4().hex[:8]}")
        os.replace(destination, trash)
        os.replace(source, destination)
        _remove_store(trash)
    else:
        os.replace(source, destination)
    _fsync_folder(destination.parent)
