"""``rdnet analyze FILE``: metrics, morphology, regime and time behaviour (and spectra) of a dataset's spatial fields."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

import click
from click.core import ParameterSource

from rdnet.analysis.metric_names import HOMOGENEITY_KEYS, LABEL_KEYS, MORPHOLOGY_KEYS, extent_ndim, metric_units
from rdnet.cli.options import note_surrogates_that_cannot_label
from rdnet.errors import ConfigError

#: The numbers of every row, in column order, then the two labels.
TABLE_KEYS = (*HOMOGENEITY_KEYS, *MORPHOLOGY_KEYS)

#: Column header of each metric of :data:`TABLE_KEYS` and label of :data:`LABEL_KEYS` in the table.
HEADERS = {
    "dominant_wavelength": "wavelength",
    "spectral_entropy": "entropy",
    "coefficient_of_variation": "CV",
    "morans_i": "Moran I",
    "anisotropy": "anisotropy",
    "correlation_length": "corr.len",
    "surrogate_p_value": "p(surr)",
    "area_fraction": "area",
    "boundary_length": "boundary",
    "euler_characteristic": "Euler",
    "components": "comps",
    "mean_component_size": "comp.size",
    "orientation_order": "order",
    "regime": "regime",
    "time_behaviour": "in time",
}


def parse_time(text: str) -> int | None:
    """``"all"`` -> None, an integer (negative counts from the end) -> that index."""
    if text.strip().lower() == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--time {text!r}: expected a snapshot index (e.g. 0, -1) or 'all'") from None


def time_indices(ds, file: str, index: int | None) -> list[int] | None:
    """The snapshot indices to analyse (None: the file has no time dim)."""
    if "time" not in ds.dims:
        if index not in (None, 0, -1):
            raise ConfigError(f"--time {index}: {file} has no time dimension (one field per variable)")
        return None
    count = ds.sizes["time"]
    if count == 0:
        raise ConfigError(f"{file} holds no complete snapshot")
    if index is None:
        return list(range(count))
    if not -count <= index < count:
        raise ConfigError(f"--time {index} is out of range: {file} has {count} snapshots (valid: {-count}..{count - 1} or all)")
    return [index % count]


def select_variables(ds, file: str, names: tuple[str, ...]) -> list[str]:
    """The spatial variables to analyse: ``names`` checked against the file, or all of them.

    The default leaves out integer variables that label grid cells (a network run's
    ``neuron_index``; see :func:`rdnet.dataset.vocabulary.is_label_variable`); ``--var`` can
    still name them.
    """
    from rdnet.dataset.vocabulary import is_label_variable, spatial_variables

    spatial = spatial_variables(ds)
    if not names:
        fields = [name for name in spatial if not is_label_variable(ds[name])] or spatial  # labels only: those
        if not fields:
            raise ConfigError(f"{file} has no spatial variable (dims ending in y, x) to analyse")
        return fields
    for name in names:
        if name not in ds.data_vars:
            raise ConfigError(f"no variable {name!r} in {file}; spatial variables: {', '.join(spatial) or 'none'}")
        if name not in spatial:
            raise ConfigError(
                f"variable {name!r} in {file} is not a spatial field (dims {tuple(ds[name].dims)}, "
                f"need last dims y, x); spatial variables: {', '.join(spatial) or 'none'}"
            )
    return list(dict.fromkeys(names))


def json_number(value: float) -> float | None:
    """A metric as strict JSON: NaN and infinity become null."""
    return value if math.isfinite(value) else None


def json_value(value: Any) -> Any:
    """A metric, label or evidence as strict JSON (floats via :func:`json_number`, containers recursively)."""
    if isinstance(value, dict):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(item) for item in value]
    if isinstance(value, float):
        return json_number(value)
    return value


def format_value(value: float | str) -> str:
    if isinstance(value, str):
        return value
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf"
    return f"{value:.4g}"


def grid_dimensions(ds, name: str) -> int:
    """How many of the spatial dims of ``ds[name]`` have more than one cell (1 for a single cell).

    Per-area metrics are per length on a 1-D grid (``512x1``) and per volume on a 3-D one.
    """
    return extent_ndim([ds.sizes[dim] for dim in ("z", "y", "x") if dim in ds[name].dims])


def print_table(rows: list[tuple[str, float | None, dict[str, Any]]], length_units: str, ndim: int = 2) -> None:
    """One line per (variable, time): the metrics under short headers, then the two labels."""
    def header(key: str) -> str:
        units = metric_units(key, length_units, ndim)
        return HEADERS[key] + ("" if units == "1" else f" [{units}]")

    keys = [*TABLE_KEYS, *LABEL_KEYS]
    headers = ["variable", "time"] + [header(key) for key in keys]
    cells = [
        [name, "-" if time is None else f"{time:g}"] + [format_value(metrics[key]) for key in keys]
        for name, time, metrics in rows
    ]
    widths = [max(len(row[i]) for row in [headers, *cells]) for i in range(len(headers))]
    for row in [headers, *cells]:
        click.echo("  ".join(cell.rjust(width) if i > 0 else cell.ljust(width) for i, (cell, width) in enumerate(zip(row, widths))))


@click.command("analyze")
@click.argument("file", type=click.Path())
@click.option("--var", "variables", multiple=True, metavar="NAME",
              help="Spatial variable to analyse (repeatable). Default: every variable whose last dims are y, x, "
                   "except integer labels such as neuron_index.")
@click.option("--time", "time_text", default="-1", show_default=True, metavar="INDEX|all",
              help="Snapshot index (negative counts from the end) or 'all'.")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON {variable: {metric: value}} (with --time all: a list per snapshot, in file order), "
                   "with the regime and time behaviour and the numbers that decided them; NaN and infinity are "
                   "written as null.")
@click.option("--out", "out_path", type=click.Path(), metavar="SPECTRA.nc",
              help="Write the radial power spectra (and the metrics) over time to this NetCDF file (or zarr "
                   "store: a name ending in .zarr).")
@click.option("--overwrite", is_flag=True, help="Replace an existing --out file.")
@click.option("--surrogates", "n_surrogates", type=click.IntRange(min=0), default=99, show_default=True,
              help="Shuffled surrogates of the significance test (0 skips it). A regime other than "
                   "homogeneous needs p < 0.05, so 20 or more; with fewer (or 0) a field above "
                   "round-off is 'undetermined'.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True, help="Seed of the surrogate shuffles.")
@click.option("--periodic/--non-periodic", default=None,
              help="Treat the fields as periodic, or as bounded (Hann window, no wrap-around neighbours). "
                   "Default: periodic, except for a run on a bounded grid (a classic run whose parameters' boundary "
                   "is no-flux or mixed).")
def command(
    file: str,
    variables: tuple[str, ...],
    time_text: str,
    as_json: bool,
    out_path: str | None,
    overwrite: bool,
    n_surrogates: int,
    seed: int,
    periodic: bool | None,
) -> None:
    """Measure the spatial patterns in FILE: a table of metrics per variable.

    Metrics: dominant wavelength (1/k at the spectral peak), spectral entropy,
    coefficient of variation, Moran's I, anisotropy, correlation length, the
    p-value of a test against spatially shuffled surrogates; the morphology at the
    spatial mean (area fraction, boundary length and Euler characteristic per area,
    connected components and their mean size, orientation order); the regime
    (homogeneous, spots, holes, stripes, mixed) and, from the second half of the
    snapshots, the time behaviour (stationary, travelling, oscillating, chaotic;
    undetermined when that half holds fewer than 4). See docs/analysis.md for the rules.

    \b
    Examples:
      rdnet analyze gs.nc                          # every field, last snapshot
      rdnet analyze gs.nc --var v --time all       # v at every snapshot
      rdnet analyze gs.nc --json > metrics.json
      rdnet analyze gs.nc --time all --out spectra.nc --surrogates 0
    """
    from rdnet.dataset import check_output_path, open_dataset

    from rdnet.dataset.file_safety import refuse_input_as_output

    if overwrite and out_path is None:
        raise ConfigError("--overwrite applies only with --out SPECTRA.nc")
    if n_surrogates == 0 and click.get_current_context().get_parameter_source("seed") != ParameterSource.DEFAULT:
        raise ConfigError("--seed seeds the surrogates; it cannot apply with --surrogates 0")
    if not as_json:  # JSON carries the same words in each regime_reason
        note_surrogates_that_cannot_label(n_surrogates)
    index = parse_time(time_text)
    out = None
    if out_path is not None:
        refuse_input_as_output(out_path, [file], option="--out")
        out = check_output_path(out_path, overwrite=overwrite)
    ds = open_dataset(file)  # a file from another tool: rdnet.cli.main prints the warning in one line
    try:
        if periodic is None:
            periodic = _run_was_periodic(ds)
        names = select_variables(ds, file, variables)
        indices = time_indices(ds, file, index)
        results, spectra = measure(ds, names, indices, n_surrogates=n_surrogates, seed=seed, periodic=periodic,
                                   want_spectra=out is not None, label=file)
        if out is not None:
            write_spectra(out, ds, spectra, results, file=file, names=names, indices=indices,
                          n_surrogates=n_surrogates, seed=seed, periodic=periodic)
    finally:
        ds.close()
    if as_json:
        document = {
            name: ([json_value(m) for _, m in rows] if index is None else json_value(rows[0][1]))
            for name, rows in results.items()
        }
        click.echo(json.dumps(document, indent=2))
    else:
        table = [(name, time, metrics) for name, rows in results.items() for time, metrics in rows]
        print_table(table, str(ds["x"].attrs.get("units", "1")), grid_dimensions(ds, names[0]))
    if out is not None:
        click.echo(f"spectra written to {out}", err=True)


def _run_was_periodic(ds) -> bool:
    """Whether a run's grid wrapped around: False only for a run whose parameters say its boundary was bounded."""
    from rdnet.dataset import DatasetError, parameters_of

    try:
        boundary = parameters_of(ds).get("boundary", "periodic")
    except DatasetError:  # another tool's file with an unreadable attribute: the default, periodic
        return True
    return boundary not in ("no-flux", "mixed")


def measure(ds, names: list[str], indices: list[int] | None, *, n_surrogates: int, seed: int, periodic: bool,
            want_spectra: bool, label: str = "") -> tuple[dict[str, list[tuple[float | None, dict[str, Any]]]], dict[str, list[Any]]]:
    """Metrics (and spectra) of every variable at every chosen snapshot, one snapshot in memory at a time.

    Each row holds :data:`TABLE_KEYS`, the ``regime`` with ``regime_reason`` and
    ``regime_evidence``, and the variable's ``time_behaviour`` with
    ``time_behaviour_reason`` and ``time_behaviour_evidence`` (the same on every row of
    a variable: it describes the whole series).
    """
    from tqdm import tqdm

    from rdnet.analysis import pattern_summary, radial_power_spectrum
    from rdnet.dataset import load_snapshot

    jobs = [(name, i) for name in names for i in (indices if indices is not None and "time" in ds[name].dims else [None])]
    results: dict[str, list[tuple[float | None, dict[str, Any]]]] = {name: [] for name in names}
    spectra: dict[str, list[Any]] = {name: [] for name in names}
    behaviour = {name: series_behaviour(ds, name, label=label) for name in names}
    progress = tqdm(jobs, desc="analyse", unit="field", file=sys.stderr, disable=not sys.stderr.isatty() or len(jobs) < 2)
    for name, i in progress:
        field = load_snapshot(ds[name] if i is None else ds[name].isel(time=i), label=label)
        time = None if i is None else float(ds["time"].values[i])
        try:
            summary = pattern_summary(field, periodic=periodic, n_surrogates=n_surrogates, seed=seed)
            if want_spectra:
                spectra[name].append(radial_power_spectrum(field, window=None if periodic else "hann"))
        except ValueError as error:
            where = "" if time is None else f" at time index {i}"
            raise ConfigError(f"cannot analyse {name!r}{where}: {error}") from None
        row = {key: summary[key] for key in TABLE_KEYS}
        row.update(regime=summary["regime"], regime_reason=summary["regime_reason"], regime_evidence=summary["regime_evidence"])
        row.update(behaviour[name])
        results[name].append((time, row))
    return results, spectra


def series_behaviour(ds, name: str, *, label: str = "") -> dict[str, Any]:
    """The time behaviour of a variable from the second half of its snapshots (loaded at once)."""
    from rdnet.analysis import MIN_SNAPSHOTS, time_behaviour
    from rdnet.dataset import load_snapshot

    count = ds.sizes.get("time", 0) if "time" in ds[name].dims else 0
    window = (count + 1) // 2
    if window < MIN_SNAPSHOTS:
        reason = "no time dimension" if count == 0 else f"{count} snapshots: fewer than {MIN_SNAPSHOTS} in the second half"
        return {"time_behaviour": "undetermined", "time_behaviour_reason": reason, "time_behaviour_evidence": {}}
    series = load_snapshot(ds[name].isel(time=slice(count - window, None)), label=label)
    try:
        result = time_behaviour(series, window=1.0)
    except ValueError as error:  # uneven snapshot times: the spatial analysis still stands
        return {"time_behaviour": "undetermined", "time_behaviour_reason": str(error), "time_behaviour_evidence": {}}
    return {"time_behaviour": result.label, "time_behaviour_reason": result.reason, "time_behaviour_evidence": result.evidence}


def write_spectra(out, ds, spectra, results, *, file: str, names: list[str], indices: list[int] | None,
                  n_surrogates: int, seed: int, periodic: bool) -> None:
    """Store the spectra over time (``<var>_spectrum``) and the metrics (``<var>_<metric>``)."""
    import numpy as np
    import xarray as xr

    from rdnet.dataset import parameters_of, write_dataset
    from rdnet.dataset.cf import cf_length_units

    # lengths in units UDUNITS does not know (pixel, cells) are written as counts of cells, units 1,
    # the file's word kept in length_units
    length_units = str(ds["x"].attrs.get("units", "1")).strip() or "1"
    written_length = cf_length_units(length_units)
    in_cells = {"length_units": length_units} if written_length != length_units else {}
    variables = {}
    for name in names:
        ndim = grid_dimensions(ds, name)
        has_time = results[name][0][0] is not None
        spectrum = xr.concat(spectra[name], dim="time") if has_time else spectra[name][0]
        spectrum = spectrum.drop_vars([c for c in spectrum.coords if c not in ("time", *spectrum["wavenumber"].coords)])
        spectrum.attrs["long_name"] = f"radial power spectrum of {name} (sums to its variance)"
        if in_cells:
            spectrum["wavenumber"].attrs.update(units="1", long_name=f"wavenumber (in 1/{length_units})", **in_cells)
        variables[f"{name}_spectrum"] = spectrum
        for key in TABLE_KEYS:
            values = np.array([metrics[key] for _, metrics in results[name]])
            length_power = metric_units(key, "L") != "1"
            variables[f"{name}_{key}"] = xr.DataArray(
                values if has_time else values[0], dims=("time",) if has_time else (),
                coords={"time": [t for t, _ in results[name]]} if has_time else {},
                attrs={"long_name": f"{key.replace('_', ' ')} of {name}"
                                    + (f" (in {metric_units(key, length_units, ndim)})" if in_cells and length_power else ""),
                       "units": metric_units(key, written_length, ndim), **(in_cells if length_power else {})},
            )
    out_ds = xr.Dataset(variables)
    if "time" in out_ds.coords and "time" in ds.coords:
        out_ds["time"].attrs.update({k: v for k, v in ds["time"].attrs.items() if k in ("units", "long_name")})
    source_parameters = {}
    try:
        source_parameters = parameters_of(ds)
    except Exception:  # a foreign file's parameters are informative only
        pass
    write_dataset(
        out_ds, out,
        system="spectra",
        model=str(ds.attrs.get("model", "unknown")),
        parameters={
            "source": str(file),
            "source_system": str(ds.attrs.get("system", "external")),
            "variables": names,
            "time_indices": indices,
            "n_surrogates": n_surrogates,
            "seed": seed,
            "periodic": periodic,
            "source_parameters": source_parameters,
        },
        overwrite=True,
    )
