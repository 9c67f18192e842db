"""What a sweep records of each point: the metrics, regime and time behaviour of its main field.

The main field is :data:`MAIN_FIELD` of the run's ``system`` (``v`` of a classic run,
``displacement_u`` of the network engine). The metrics are those of
:func:`rdnet.analysis.pattern_summary` named in :data:`METRIC_UNITS` (the one metric list,
:mod:`rdnet.analysis.metric_names`).
"""

from __future__ import annotations

import contextlib
import json
import math
from pathlib import Path
from typing import Any

from rdnet.analysis.metric_names import HOMOGENEITY_KEYS, MORPHOLOGY_KEYS, metric_units
from rdnet.errors import RunError
from rdnet.sweep.journal import error_line

__all__ = ["MAIN_FIELD", "METRIC_UNITS", "analyse_point", "with_metrics"]

#: the field analysed per point, by the dataset's ``system`` attribute (documented in docs/sweep.md)
MAIN_FIELD: dict[str, str] = {"classic": "v", "prd": "displacement_u", "gan-dynamics": "displacement_u"}

#: metrics of :func:`rdnet.analysis.pattern_summary` stored per point, with their units
#: in "grid length" (replaced by the point's x units when known)
METRIC_UNITS: dict[str, str] = {key: metric_units(key, "grid length") for key in (*HOMOGENEITY_KEYS, *MORPHOLOGY_KEYS)}


def with_metrics(result: dict[str, Any], path: Path | None) -> dict[str, Any]:
    """A point's result with its metrics added: NaN and ``failed`` labels without a run (``path`` None).

    An analysis that fails marks the point failed; its run is kept.
    """
    metrics = {key: math.nan for key in (*METRIC_UNITS, "field_std", "field_mean")}
    metrics.update(model="", variable="", length_units="", field_units="", regime="failed", time_behaviour="failed")
    if path is not None:
        try:
            metrics.update(analyse_point(path))
        except Exception as error:  # noqa: BLE001 - the run is kept; only its analysis failed
            result.update(status="failed", error=f"analysis failed: {error_line(error)}")
            metrics.update(regime="failed", time_behaviour="failed")
    result.update(metrics)
    return result


def analyse_point(path) -> dict[str, Any]:
    """Metrics, morphology, regime and time behaviour of a point's main field.

    The main field is :data:`MAIN_FIELD` of the dataset's ``system`` (``v`` for classic
    runs, ``displacement_u`` for the network engine); when absent, the first variable
    with dims ``(time, ..., y, x)``. The metrics and the regime are of its last snapshot;
    the time behaviour is of the second half of its snapshots.

    Parameters
    ----------
    path : path or xarray.Dataset
        A point's dataset (its file, or the run itself).

    Returns
    -------
    dict
        The metrics of :func:`rdnet.analysis.pattern_summary` named in :data:`METRIC_UNITS`,
        ``field_std``, ``field_mean``, ``regime`` (:func:`rdnet.analysis.pattern_regime`),
        ``time_behaviour`` (:func:`rdnet.analysis.time_behaviour`), ``model``, ``variable``
        and ``length_units``.
    """
    import numpy as np

    from rdnet.analysis import MIN_SNAPSHOTS, pattern_summary, time_behaviour
    from rdnet.dataset import open_dataset, spatial_variables

    with (contextlib.nullcontext(path) if hasattr(path, "data_vars") else open_dataset(path)) as dataset:
        variable = MAIN_FIELD.get(str(dataset.attrs.get("system")), "")
        if variable not in dataset:
            spatial = [name for name in spatial_variables(dataset) if dataset[name].dims[0] == "time"]
            if not spatial:
                raise RunError(f"the point's run has no (time, y, x) field to analyse")
            variable = spatial[0]
        count = dataset.sizes["time"]
        window = (count + 1) // 2
        series = dataset[variable].isel(time=slice(count - window, None)).load()
        model = str(dataset.attrs.get("model", ""))
        periodic = _is_periodic(dataset)
        length_units = str(dataset["x"].attrs.get("units", "")) if "x" in dataset.coords else ""
    field_values = series.isel(time=-1)
    if not np.all(np.isfinite(np.asarray(field_values.values, dtype=float))):
        raise RunError(f"{variable} holds NaN or Inf in the last snapshot")
    summary = pattern_summary(field_values, periodic=periodic)
    metrics = {key: float(summary[key]) for key in METRIC_UNITS}
    behaviour = "undetermined"
    if window >= MIN_SNAPSHOTS:
        try:
            behaviour = time_behaviour(series, window=1.0).label
        except ValueError:  # uneven snapshot times (a resumed run): the spatial analysis stands
            behaviour = "undetermined"
    metrics.update(
        field_std=summary["field_std"],
        field_mean=summary["field_mean"],
        regime=summary["regime"],
        time_behaviour=behaviour,
        model=model,
        variable=variable,
        length_units=length_units,
        field_units=str(series.attrs.get("units", "1")),
    )
    return metrics


def _is_periodic(dataset) -> bool:
    """Whether a point's grid is periodic (its ``parameters`` say ``boundary``; default yes)."""
    try:
        parameters = json.loads(dataset.attrs.get("parameters", "{}"))
    except (TypeError, json.JSONDecodeError):
        return True
    boundary = parameters.get("boundary", "periodic") if isinstance(parameters, dict) else "periodic"
    return str(boundary).lower() == "periodic"
