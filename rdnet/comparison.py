"""Put fields of several rdnet datasets side by side: match variables by role, measure them alike.

Both engines write the same dataset convention (``docs/dataset.md``): the species or
morphogens ``u`` and ``v`` and the two parts of their rate of change,
``reaction_<name>`` and ``diffusion_<name>``, as spatial fields with dims
``(time, [component,] y, x)`` (``(time, z, y, x)`` on a 3-D grid). A classic Gray-Scott
run and a network run can therefore be compared role by role: ``v`` against ``v``,
``reaction_u`` against ``reaction_u``. Where a network run stored only per-neuron norms of a large tensor
(``reaction_u_norm``), the norm stands in for the role. Those names, the roles and the
choice of spatial fields are the dataset's vocabulary (:mod:`rdnet.dataset.vocabulary`);
this module matches them across datasets and measures them alike.

This module is pure logic on in-memory :class:`xarray.Dataset` objects: it opens no
files and draws nothing. The command ``rdnet compare`` and the plotting helpers in
:mod:`rdnet.plotting.spectra` are built on it.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from rdnet.analysis.fields import _model_times
from rdnet.analysis.metric_names import HOMOGENEITY_KEYS, LENGTH_METRICS, MORPHOLOGY_KEYS, extent_ndim, metric_units
from rdnet.dataset.convention import SPATIAL_DIMS, DatasetWarning, spatial_dims, spatial_variables
from rdnet.dataset.vocabulary import (
    ROLE_GROUPS,
    SPECIES_ROLES,
    is_label_variable,
    missing_variable_message,
    resolve_role,
    select_snapshot,
)
from rdnet.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    import xarray as xr

__all__ = [
    "VariableMatch",
    "ComparisonEntry",
    "ComparisonSpectrum",
    "LENGTH_UNITS_IN_METRES",
    "ComparisonWarning",
    "match_variables",
    "build_entries",
    "compute_spectra",
    "metrics_table",
    "unique_labels",
    "grid_spacing",
    "length_units",
    "to_common_length_units",
    "format_table",
    "table_records",
]

#: Length units converted into one another, as written in a coordinate's ``units``
#: attribute, in metres. Other units (pixels, "1", none) are never converted.
LENGTH_UNITS_IN_METRES: dict[str, float] = {
    "km": 1e3,
    "m": 1.0,
    "metre": 1.0,
    "metres": 1.0,
    "meter": 1.0,
    "meters": 1.0,
    "cm": 1e-2,
    "mm": 1e-3,
    "um": 1e-6,
    "\u00b5m": 1e-6,  # micro sign
    "\u03bcm": 1e-6,  # Greek small mu
    "micron": 1e-6,
    "microns": 1e-6,
    "micrometre": 1e-6,
    "micrometer": 1e-6,
    "nm": 1e-9,
}

class ComparisonWarning(DatasetWarning):
    """The compared files differ in a way the comparison cannot reconcile (e.g. their length units)."""


@dataclass(frozen=True)
class VariableMatch:
    """One role compared across datasets.

    Attributes
    ----------
    role : str
        The role's name (``"v"``, ``"reaction_u"``, ...) or, for an explicit pairing,
        the names joined with ``"/"``.
    names : tuple of str
        The variable standing for the role in each dataset, in dataset order.
    """

    role: str
    names: tuple[str, ...]


@dataclass(frozen=True)
class ComparisonEntry:
    """One field of one dataset at one snapshot, ready to measure.

    Attributes
    ----------
    label : str
        The dataset's label (usually its file name).
    role : str
        The role this field plays in the comparison.
    variable : str
        The variable's name in its dataset.
    field : xarray.DataArray
        The snapshot, dims ``(..., y, x)`` or ``(..., z, y, x)`` without ``time``.
    time : float
        The snapshot's time coordinate.
    time_index : int
        The snapshot's index along ``time`` (non-negative).
    system : str
        The dataset's ``system`` attribute (``"classic"``, ``"prd"``, ...), or ``""``.
    """

    label: str
    role: str
    variable: str
    field: xr.DataArray
    time: float
    time_index: int
    system: str = ""


@dataclass(frozen=True)
class ComparisonSpectrum:
    """A radially averaged power spectrum with its surrogate band, for plotting.

    Attributes
    ----------
    entry : ComparisonEntry
        The field the spectrum belongs to.
    wavenumber : numpy.ndarray
        Radial wavenumber in cycles per unit length of the field's grid.
    power : numpy.ndarray
        Power per wavenumber bin (a fraction of the field's variance when normalised).
    band_low, band_high : numpy.ndarray
        The central 95% (or the analysis default) of the surrogates' spectra, same units.
    nyquist : float
        The grid's Nyquist wavenumber, ``1 / (2 dx)``.
    spacing : float
        The grid spacing ``dx`` used.
    length_units : str
        Units of the grid coordinates (from the ``x`` coordinate's ``units`` attr).
    p_value : float
        The surrogate test's p-value (small: spatial structure beyond chance).
    normalized : bool
        Whether ``power`` and the band are fractions of the variance.
    """

    entry: ComparisonEntry
    wavenumber: np.ndarray
    power: np.ndarray
    band_low: np.ndarray
    band_high: np.ndarray
    nyquist: float
    spacing: float
    length_units: str
    p_value: float
    normalized: bool = True
    extra: dict = field(default_factory=dict)

    @property
    def constant(self) -> bool:
        """Whether the field is constant: no power at any wavenumber, so no spectrum to draw."""
        return not bool(np.any(np.asarray(self.power) > 0))


def _describe(labels: Sequence[str], datasets: Sequence[xr.Dataset]) -> str:
    parts = []
    for label, dataset in zip(labels, datasets):
        names = spatial_variables(dataset)
        parts.append(f"{label}: {', '.join(names) if names else 'none'}")
    return "; ".join(parts)


def match_variables(
    datasets: Sequence[xr.Dataset],
    requested: Sequence[str] | None = None,
    *,
    labels: Sequence[str] | None = None,
) -> list[VariableMatch]:
    """Pick the variables to compare, one per dataset for each role.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        The datasets, in the order they will be reported.
    requested : sequence of str, optional
        What to compare. Each item is one of

        - a role (``"u"``, ``"v"``, ``"reaction_u"``, ...) or any variable name, looked up
          in every dataset (falling back to ``<name>_norm``);
        - a group: ``"species"`` (u, v), ``"reaction"``, ``"diffusion"`` or ``"all"``,
          keeping the roles present in every dataset;
        - an explicit pairing ``"NAME1,NAME2,..."`` with one variable name per dataset
          (e.g. ``"v,u"`` compares ``v`` of the first file with ``u`` of the second).

        By default the species roles present in every dataset, else every spatial
        variable name the datasets share.
    labels : sequence of str, optional
        Names of the datasets for error messages (default ``"file 1"``, ...).

    Returns
    -------
    list of VariableMatch

    Raises
    ------
    ConfigError
        When a requested role or name is missing from a dataset, or when the datasets
        share nothing to compare; the message lists each dataset's spatial variables.
    """
    datasets = _dataset_list(datasets)
    if not datasets:
        raise ConfigError("no datasets to compare")
    labels = list(labels) if labels is not None else [f"file {i + 1}" for i in range(len(datasets))]
    _check_labels(labels, datasets)
    if requested is None or len(requested) == 0:
        matches = _matches_for_roles(datasets, SPECIES_ROLES)
        if not matches:
            shared = [
                name
                for name in spatial_variables(datasets[0])
                if all(name in spatial_variables(other) for other in datasets[1:])
                and not any(is_label_variable(dataset[name]) for dataset in datasets)
            ]
            matches = [VariableMatch(name, (name,) * len(datasets)) for name in shared]
        if not matches:
            raise ConfigError(
                "the files share no spatial variable to compare; name them with --var "
                f"NAME1,NAME2 (spatial variables: {_describe(labels, datasets)})"
            )
        return matches

    matches: list[VariableMatch] = []
    for item in requested:
        item = item.strip()
        if "," in item:
            matches.append(_explicit_match(datasets, labels, item))
        elif item in ROLE_GROUPS:
            found = _matches_for_roles(datasets, ROLE_GROUPS[item])
            if not found:
                raise ConfigError(
                    f"no role of group {item!r} ({', '.join(ROLE_GROUPS[item])}) is present in "
                    f"every file (spatial variables: {_describe(labels, datasets)})"
                )
            matches.extend(found)
        else:
            names = []
            for label, dataset in zip(labels, datasets):
                name = resolve_role(dataset, item)
                if name is None:
                    raise ConfigError(missing_variable_message(dataset, label, item))
                names.append(name)
            matches.append(VariableMatch(item, tuple(names)))
    unique: list[VariableMatch] = []
    for match in matches:
        if match not in unique:
            unique.append(match)
    return unique


def _matches_for_roles(datasets: Sequence[xr.Dataset], roles: Sequence[str]) -> list[VariableMatch]:
    matches = []
    for role in roles:
        names = [resolve_role(dataset, role) for dataset in datasets]
        if all(name is not None for name in names):
            matches.append(VariableMatch(role, tuple(names)))  # type: ignore[arg-type]
    return matches


def _explicit_match(datasets: Sequence[xr.Dataset], labels: Sequence[str], item: str) -> VariableMatch:
    names = [name.strip() for name in item.split(",")]
    if len(names) != len(datasets):
        raise ConfigError(
            f"--var {item!r} names {len(names)} variables but {len(datasets)} files were "
            "given: name one variable per file, in file order"
        )
    for label, dataset, name in zip(labels, datasets, names):
        if name not in spatial_variables(dataset):
            raise ConfigError(missing_variable_message(dataset, label, name, norm_fallback=False))
    return VariableMatch("/".join(dict.fromkeys(names)), tuple(names))


def unique_labels(names: Sequence[str]) -> list[str]:
    """Short labels for datasets, made unique by numbering repeats.

    Parameters
    ----------
    names : sequence of str
        Candidate labels, usually file names.

    Returns
    -------
    list of str
        ``names`` with the second and later copies of a repeated name suffixed ``" (2)"``...
    """
    seen: dict[str, int] = {}
    labels = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        labels.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return labels


def _dataset_list(datasets) -> list:
    """``datasets`` as a list of xarray Datasets; a TypeError for one Dataset or anything else."""
    import xarray as xr

    if isinstance(datasets, xr.Dataset) or not all(isinstance(item, xr.Dataset) for item in datasets):
        raise TypeError("datasets must be a list of xarray.Dataset (e.g. [ds1, ds2])")
    return list(datasets)


def _check_labels(labels: Sequence[str], datasets: Sequence) -> None:
    """One label per dataset (zip would drop the datasets beyond the labels)."""
    if len(labels) != len(datasets):
        raise ConfigError(f"give one label per dataset: {len(labels)} labels for {len(datasets)} datasets")


def build_entries(
    datasets: Sequence[xr.Dataset],
    labels: Sequence[str],
    matches: Sequence[VariableMatch],
    *,
    time_index: int = -1,
) -> list[ComparisonEntry]:
    """Take the chosen snapshot of every matched variable of every dataset.

    Parameters
    ----------
    datasets : sequence of xarray.Dataset
        The datasets.
    labels : sequence of str
        Their labels.
    matches : sequence of VariableMatch
        From :func:`match_variables`.
    time_index : int, optional
        Snapshot index along each dataset's ``time`` (default the last).

    Returns
    -------
    list of ComparisonEntry
        Ordered by role, then by dataset, with grid coordinates in common length
        units where the files' units differ but convert (see :func:`to_common_length_units`).
    """
    datasets, labels = _dataset_list(datasets), list(labels)
    _check_labels(labels, datasets)
    entries = []
    for match in matches:
        if len(match.names) != len(datasets):
            raise ConfigError(f"{match.role}: {len(match.names)} variable names for {len(datasets)} datasets")
        for dataset, label, name in zip(datasets, labels, match.names):
            snapshot, index = select_snapshot(dataset[name], time_index, label=label)
            has_time = "time" in dataset[name].dims and "time" in dataset.coords
            time_value = float(_model_times(dataset["time"].values[index])) if has_time else float(index)
            entries.append(
                ComparisonEntry(
                    label=label,
                    role=match.role,
                    variable=name,
                    field=snapshot,
                    time=time_value,
                    time_index=index,
                    system=str(dataset.attrs.get("system", "")),
                )
            )
    return to_common_length_units(entries)


def grid_spacing(field: xr.DataArray) -> float:
    """Grid spacing of a field from its ``x`` coordinate (1 when it has none).

    Parameters
    ----------
    field : xarray.DataArray
        A field with dims ``(..., y, x)``.

    Returns
    -------
    float
    """
    from rdnet.analysis.fields import _spacing

    return _spacing(field, "x", None) if field.sizes.get("x", 0) > 1 else 1.0


def length_units(field: xr.DataArray) -> str:
    """Units of a field's grid coordinates (``"1"`` when unstated)."""
    if "x" in field.coords:
        return str(field["x"].attrs.get("units", "1"))
    return "1"


def to_common_length_units(entries: Sequence[ComparisonEntry]) -> list[ComparisonEntry]:
    """The entries with their grid coordinates in one length unit, where that is possible.

    When the fields' ``x`` coordinates carry different units that are all in
    :data:`LENGTH_UNITS_IN_METRES` (m, cm, mm, µm, ...), every field's ``x`` and ``y``
    (and ``z`` of a 3-D field) are converted to the units of the first entry, so spectra, spacings and lengths
    in the table compare directly. When the units differ and cannot be converted
    (``"1"``, pixels, none), the entries are returned unchanged and a
    :class:`ComparisonWarning` says that the physical axis and the lengths mix units.

    Parameters
    ----------
    entries : sequence of ComparisonEntry
        From :func:`build_entries`.

    Returns
    -------
    list of ComparisonEntry
    """
    entries = list(entries)
    units = [length_units(entry.field).strip() for entry in entries]
    if len(set(units)) <= 1:
        return entries
    scales = [LENGTH_UNITS_IN_METRES.get(unit) for unit in units]
    if any(scale is None for scale in scales):
        per_file = dict(zip((entry.label for entry in entries), units))
        by_file = ", ".join(f"{label}: {unit or 'none'}" for label, unit in per_file.items())
        warnings.warn(
            ComparisonWarning(
                f"the files' length units differ and do not convert ({by_file}): the physical wavenumber "
                "axis and the lengths in the table (dominant_wavelength, correlation_length) mix units; "
                "compare k / k_Nyquist and dominant_wavelength_cells instead"
            ),
            stacklevel=2,
        )
        return entries
    target, target_scale = units[0], scales[0]
    converted = []
    for entry, unit, scale in zip(entries, units, scales):
        if unit == target:
            converted.append(entry)
            continue
        factor = scale / target_scale
        coords = {}
        for dim in SPATIAL_DIMS:
            if dim in entry.field.coords and dim in entry.field.dims:
                coordinate = entry.field[dim]
                coords[dim] = (dim, np.asarray(coordinate.values, dtype=float) * factor, {**coordinate.attrs, "units": target})
        converted.append(dataclasses.replace(entry, field=entry.field.assign_coords(coords)))
    return converted


def compute_spectra(
    entries: Sequence[ComparisonEntry],
    *,
    normalize: bool = True,
    n_surrogates: int = 39,
    seed: int = 0,
    window: str | None = None,
) -> list[ComparisonSpectrum]:
    """Radial power spectrum and surrogate band of every entry.

    Parameters
    ----------
    entries : sequence of ComparisonEntry
        From :func:`build_entries`.
    normalize : bool, optional
        Divide power and band by the total power (the field's variance, by Parseval),
        so fields of different amplitude compare by shape. Default True.
    n_surrogates : int, optional
        Shuffled surrogates for the significance band.
    seed : int, optional
        Seed of the surrogates.
    window : str, optional
        Window passed to the analysis (``"hann"`` for non-periodic fields).

    Returns
    -------
    list of ComparisonSpectrum
    """
    from rdnet.analysis import radial_power_spectrum, surrogate_test

    if not isinstance(normalize, (bool, np.bool_)):  # "no" is truthy
        raise TypeError(f"normalize must be True or False; got {normalize!r}")
    spectra = []
    for entry in entries:
        spacing = grid_spacing(entry.field)
        spectrum = radial_power_spectrum(entry.field, window=window)
        extra_dims = [dim for dim in spectrum.dims if dim != "wavenumber"]
        if extra_dims:  # components not combined by the analysis: power adds
            spectrum = spectrum.sum(extra_dims)
        power = np.asarray(spectrum.values, dtype=float)
        wavenumber = np.asarray(spectrum["wavenumber"].values, dtype=float)
        surrogate = surrogate_test(entry.field, n_surrogates=n_surrogates, seed=seed, window=window)
        band_low = np.asarray(getattr(surrogate.band_low, "values", surrogate.band_low), dtype=float)
        band_high = np.asarray(getattr(surrogate.band_high, "values", surrogate.band_high), dtype=float)
        if normalize:
            total = float(power.sum())
            scale = 1.0 / total if total > 0 else 0.0
            power = power * scale
            band_low = band_low * scale
            band_high = band_high * scale
        spectra.append(
            ComparisonSpectrum(
                entry=entry,
                wavenumber=wavenumber,
                power=power,
                band_low=band_low,
                band_high=band_high,
                nyquist=1.0 / (2.0 * spacing),
                spacing=spacing,
                length_units=length_units(entry.field),
                p_value=float(surrogate.p_value),
                normalized=normalize,
            )
        )
    return spectra


def metrics_table(
    entries: Sequence[ComparisonEntry],
    *,
    metrics: Mapping[tuple[str, str], Mapping[str, float]] | None = None,
    n_surrogates: int = 39,
    seed: int = 0,
    periodic: bool = True,
) -> pd.DataFrame:
    """The metrics, morphology and regime of every entry, one row each, side by side.

    Parameters
    ----------
    entries : sequence of ComparisonEntry
        From :func:`build_entries`.
    metrics : mapping, optional
        Metrics already computed, keyed by ``(label, variable)``; computed with
        :func:`rdnet.analysis.pattern_summary` otherwise.
    n_surrogates, seed : int, optional
        Passed to the surrogate test inside the metrics.
    periodic : bool, optional
        Whether the fields are periodic (False: Hann window, bounded edges).

    Returns
    -------
    pandas.DataFrame
        Columns ``file, role, variable, system, time, time_index, grid`` (points per
        spatial axis, ``"64x64"`` or ``"32x64x64"`` for z, y, x), ``spacing,
        length_units``, then :data:`~rdnet.analysis.HOMOGENEITY_KEYS`, ``dominant_wavelength_cells``
        (the dominant wavelength in grid cells, which compares grids of different
        spacing), :data:`~rdnet.analysis.MORPHOLOGY_KEYS` (at the field's mean) and
        ``regime``. ``spacing`` and the lengths are in ``length_units`` (boundary length per
        area in 1/length, Euler characteristic per area in 1/length², component size in length²).
    """
    import pandas as pd

    rows = []
    for entry in entries:
        values = None if metrics is None else metrics.get((entry.label, entry.variable))
        if values is None:
            from rdnet.analysis import pattern_summary

            values = pattern_summary(entry.field, n_surrogates=n_surrogates, seed=seed, periodic=periodic)
        spacing = grid_spacing(entry.field)
        row = {
            "file": entry.label,
            "role": entry.role,
            "variable": entry.variable,
            "system": entry.system,
            "time": entry.time,
            "time_index": entry.time_index,
            "grid": "x".join(str(entry.field.sizes[dim]) for dim in spatial_dims(entry.field.dims)),
            "spacing": spacing,
            "length_units": length_units(entry.field),
        }
        for name in HOMOGENEITY_KEYS:
            row[name] = float(np.asarray(values.get(name, np.nan)))
        row["dominant_wavelength_cells"] = row["dominant_wavelength"] / spacing
        for name in MORPHOLOGY_KEYS:
            row[name] = float(np.asarray(values.get(name, np.nan)))
        row["regime"] = str(values.get("regime", ""))
        rows.append(row)
    return pd.DataFrame(rows)


def _grid_ndims(grids) -> set[int]:
    """The number of spatial dims with more than one cell of each ``"64x32"``-style grid."""
    return {extent_ndim(str(grid).split("x")) for grid in grids}


def format_table(table: pd.DataFrame, *, digits: int = 4) -> str:
    """The metrics table as aligned text: one block per role, metrics down, files across.

    The lengths (grid spacing, :data:`~rdnet.analysis.metric_names.LENGTH_METRICS`) are labelled with their units,
    as ``rdnet analyze`` labels its columns; when the files' units differ, a row
    ``length units`` gives each file's.

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`metrics_table`.
    digits : int, optional
        Significant digits.

    Returns
    -------
    str
    """
    blocks = []
    for role, rows in table.groupby("role", sort=False):
        headers = [
            row["file"] if row["variable"] == role else f"{row['file']} [{row['variable']}]"
            for _, row in rows.iterrows()
        ]
        units = list(rows["length_units"]) if "length_units" in rows else ["1"] * len(rows)
        common = units[0] if len(set(units)) == 1 else None
        suffix = "" if common in ("", "1") else f" [{common}]" if common else " [length units]"
        ndims = _grid_ndims(rows["grid"])
        lines = [("metric", *headers)]
        lines.append(("time", *(f"{value:g} (#{index})" for value, index in zip(rows["time"], rows["time_index"]))))
        lines.append(("grid", *(
            f"{grid}, dx={spacing:.{digits}g}" + ("" if unit in ("", "1") else f" {unit}")
            for grid, spacing, unit in zip(rows["grid"], rows["spacing"], units)
        )))  # fmt: skip
        if common is None:
            lines.append(("length units", *(unit or "none" for unit in units)))
        for name in (*HOMOGENEITY_KEYS, "dominant_wavelength_cells", *MORPHOLOGY_KEYS):
            if name in LENGTH_METRICS:
                label = name + suffix
            elif len(ndims) > 1 and metric_units(name, "L", 1) != "1":  # per length, area or volume by file
                label = f"{name} [by each file's dims]"
            else:
                units = metric_units(name, common, min(ndims)) if common else "1"
                label = name if units == "1" else f"{name} [{units}]"
            lines.append((label, *(f"{value:.{digits}g}" for value in rows[name])))
        if "regime" in rows:
            lines.append(("regime", *rows["regime"]))
        widths = [max(len(line[column]) for line in lines) for column in range(len(lines[0]))]
        text = [f"role: {role}"]
        for number, line in enumerate(lines):
            text.append("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
            if number == 0:
                text.append("  ".join("-" * width for width in widths))
        blocks.append("\n".join(text))
    return "\n\n".join(blocks)


def table_records(table: pd.DataFrame) -> list[dict]:
    """The metrics table as JSON-ready records (NaN becomes None).

    Parameters
    ----------
    table : pandas.DataFrame
        From :func:`metrics_table`.

    Returns
    -------
    list of dict
    """
    records = []
    for record in table.to_dict(orient="records"):
        clean = {}
        for key, value in record.items():
            if isinstance(value, (float, np.floating)):
                value = None if not np.isfinite(value) else float(value)
            elif isinstance(value, np.integer):
                value = int(value)
            clean[str(key)] = value
        records.append(clean)
    return records
