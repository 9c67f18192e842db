"""The shared dataset convention: writing, validating and reading rdnet datasets.

Both engines store one :class:`xarray.Dataset` per run (see ``docs/dataset.md``). One
module per concept: :mod:`~rdnet.dataset.convention` (what a file holds, its attributes,
:func:`validate`, and the one definition of a spatial field), :mod:`~rdnet.dataset.vocabulary`
(roles, label variables, one snapshot), :mod:`~rdnet.dataset.writer` (the streaming
:class:`StreamingWriter` and :func:`write_dataset`) over a :mod:`~rdnet.dataset.store`
(:mod:`~rdnet.dataset.netcdf_store` for NetCDF), :mod:`~rdnet.dataset.reader`
(:func:`open_dataset`), :mod:`~rdnet.dataset.observer` (the run observer that streams a run into
a dataset, for both engines) and :mod:`~rdnet.dataset.file_safety` (output paths, signatures and
headers checked before the NetCDF library reads a file; :mod:`~rdnet.dataset.netcdf_header`).
None of them imports xarray or netCDF4 until a function needs it.
"""

from __future__ import annotations

from rdnet.dataset.convention import (
    COMPLETE_FLAG,
    PARTIAL_SUFFIX,
    SCHEMA_VERSION,
    SPATIAL_DIMS,
    DatasetWarning,
    parameters_of,
    spatial_dims,
    spatial_variables,
    standard_attrs,
    validate,
)
from rdnet.dataset.file_safety import check_netcdf_file, check_output_path, set_open_timeout
from rdnet.dataset.observer import DatasetObserver
from rdnet.dataset.reader import load_snapshot, open_dataset, read_partial
from rdnet.dataset.store import VariableSpec
from rdnet.dataset.writer import StreamingWriter, prepare_dataset, write_dataset
from rdnet.errors import DatasetError

__all__ = [
    "SCHEMA_VERSION",
    "PARTIAL_SUFFIX",
    "COMPLETE_FLAG",
    "DatasetError",
    "DatasetWarning",
    "VariableSpec",
    "StreamingWriter",
    "DatasetObserver",
    "check_output_path",
    "check_netcdf_file",
    "load_snapshot",
    "set_open_timeout",
    "standard_attrs",
    "write_dataset",
    "prepare_dataset",
    "read_partial",
    "open_dataset",
    "validate",
    "spatial_variables",
    "spatial_dims",
    "SPATIAL_DIMS",
    "parameters_of",
]
