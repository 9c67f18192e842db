"""A sweep's summary: one dataset whose dims are the swept parameters, one value per point.

Per point: the metrics of its main field (:mod:`rdnet.sweep.metrics`), its regime and time
behaviour as CF flags (colour a phase diagram by them), a pattern / no-pattern label derived
from the regime, its status, error, file and wall time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from rdnet.analysis.metric_names import metric_units
from rdnet.sweep.axes import axis_attrs
from rdnet.sweep.engines import engine
from rdnet.sweep.journal import read_journal
from rdnet.sweep.metrics import MAIN_FIELD, METRIC_UNITS
from rdnet.sweep.plan import SweepPlan

__all__ = ["REGIME_FLAGS", "TIME_BEHAVIOUR_FLAGS", "SUMMARY_NAME", "build_summary", "summary_parameters"]

SUMMARY_NAME = "summary.nc"
#: the summary's ``regime`` flags: -1 failed, then the labels of :data:`rdnet.analysis.regime.REGIMES`
REGIME_FLAGS: dict[str, int] = {"failed": -1, "homogeneous": 0, "stripes": 1, "spots": 2, "holes": 3, "mixed": 4}
#: the summary's ``time_behaviour`` flags: -1 failed, then :data:`rdnet.analysis.temporal.TIME_BEHAVIOURS`
TIME_BEHAVIOUR_FLAGS: dict[str, int] = {
    "failed": -1, "stationary": 0, "travelling": 1, "oscillating": 2, "chaotic": 3, "undetermined": 4,
}  # fmt: skip


def summary_parameters(plan: SweepPlan) -> dict[str, Any]:
    """The ``parameters`` attribute of a sweep's summary (and store): the engine, the axes, the fixed options."""
    return {
        "command": plan.command,
        "grid": {axis.name: list(axis.values) for axis in plan.axes},
        "options": plan.fixed,
        "regime_rule": "rdnet.analysis.regime (docs/analysis.md)",
    }


def build_summary(plan: SweepPlan, results: Sequence[dict[str, Any]]):
    """Combine per-point results into one dataset whose dims are the sweep parameters.

    Parameters
    ----------
    plan : SweepPlan
    results : sequence of dict
        From :func:`run_point`; points without a result are marked ``missing``.

    Returns
    -------
    xarray.Dataset
        Float metrics (NaN where failed), ``regime`` and ``time_behaviour`` (CF flags,
        :data:`REGIME_FLAGS` and :data:`TIME_BEHAVIOUR_FLAGS`: colour a phase diagram by
        them), ``pattern`` (1 for any regime but homogeneous, 0 homogeneous, -1 failed),
        ``status``, ``error``, ``file`` (strings) and ``wall_time``. Wall times of skipped
        points come from the sweep journal.
    """
    import numpy as np
    import xarray as xr

    shape = plan.shape
    by_name = {result["name"]: result for result in results}
    last_wall_time: dict[str, float] = {}
    for event in read_journal(plan.directory):
        if event.get("event") == "written":
            last_wall_time[event["point"]] = float(event["wall_time"])
    float_names = [*METRIC_UNITS, "field_std", "wall_time"]
    floats = {name: np.full(shape, np.nan) for name in float_names}
    regime = np.full(shape, REGIME_FLAGS["failed"], dtype=np.int8)
    behaviour = np.full(shape, TIME_BEHAVIOUR_FLAGS["failed"], dtype=np.int8)
    status = np.full(shape, "missing", dtype=object)
    error = np.full(shape, "", dtype=object)
    files = np.full(shape, "", dtype=object)
    models, variables, length_units, field_units = set(), set(), set(), set()
    for task in plan.tasks:
        result = by_name.get(task.name)
        files[task.index] = plan.store_path.name if plan.format == "zarr" else task.final_path.name
        if result is None:
            error[task.index] = "not run (sweep interrupted)"
            continue
        status[task.index] = result["status"]
        error[task.index] = result.get("error", "")
        wall_time = result.get("wall_time")
        if wall_time is None:
            wall_time = last_wall_time.get(task.name, math.nan)
        floats["wall_time"][task.index] = wall_time
        if result["status"] != "ok":
            continue
        for name in (*METRIC_UNITS, "field_std"):
            floats[name][task.index] = result.get(name, math.nan)
        regime[task.index] = REGIME_FLAGS[result.get("regime", "failed")]
        behaviour[task.index] = TIME_BEHAVIOUR_FLAGS[result.get("time_behaviour", "failed")]
        models.add(result.get("model") or "")
        variables.add(result.get("variable") or "")
        length_units.add(result.get("length_units") or "")
        field_units.add(result.get("field_units") or "")
    models.discard("")
    variables.discard("")
    length_units.discard("")
    field_units.discard("")
    length = length_units.pop() if len(length_units) == 1 else "grid length"
    analysed = ", ".join(sorted(variables)) or MAIN_FIELD.get(engine(plan.command).system)

    dims = tuple(axis.dim for axis in plan.axes)
    coords = {
        axis.dim: (axis.dim, np.asarray(axis.values), axis_attrs(axis))
        for axis in plan.axes
    }
    descriptions = {
        "dominant_wavelength": f"dominant wavelength of {analysed} at the last snapshot",
        "spectral_entropy": f"spectral entropy of {analysed}",
        "coefficient_of_variation": f"coefficient of variation of {analysed}",
        "morans_i": f"Moran's I of {analysed} on the periodic grid",
        "anisotropy": f"anisotropy of the angular spectrum of {analysed}",
        "correlation_length": f"correlation length of {analysed}",
        "surrogate_p_value": f"surrogate-test p-value of {analysed} (small: spatial structure)",
        "area_fraction": f"area fraction of {analysed} above its mean",
        "boundary_length": f"boundary length per area of {analysed} at its mean",
        "euler_characteristic": f"Euler characteristic per area of {analysed} above its mean",
        "components": f"connected components of {analysed} above its mean",
        "mean_component_size": f"mean area of the components of {analysed} above its mean",
        "orientation_order": f"orientation order (local nematic order of the gradients) of {analysed}",
        "field_std": f"standard deviation of {analysed} over the grid",
        "wall_time": "wall time of the point's run",
    }
    units = {key: metric_units(key, length) for key in METRIC_UNITS}
    units.update(field_std=field_units.pop() if len(field_units) == 1 else "1", wall_time="s")
    data_vars = {
        name: (dims, values, {"long_name": descriptions[name], "units": units[name]})
        for name, values in floats.items()
    }
    pattern = np.where(regime < 0, -1, (regime != REGIME_FLAGS["homogeneous"]).astype(np.int8)).astype(np.int8)
    regime_rule = ("rdnet.analysis.regime: homogeneous (no structure beyond chance or round-off), stripes (stripe "
                   "fraction >= 0.7), spots/holes (stripe fraction < 0.3 and Euler fraction >= 0.5 / <= -0.5), mixed; "
                   "see docs/analysis.md")  # fmt: skip
    for name, values, flags, long_name, rule in (
        ("regime", regime, REGIME_FLAGS, f"regime of {analysed} at the last snapshot", regime_rule),
        ("time_behaviour", behaviour, TIME_BEHAVIOUR_FLAGS, f"time behaviour of {analysed} over the second half of the snapshots", None),
        ("pattern", pattern, {"failed": -1, "no_pattern": 0, "pattern": 1}, "pattern label (from the regime)",
         "pattern when the regime is not homogeneous"),
    ):  # fmt: skip
        attrs = {"long_name": long_name, "units": "1", "flag_values": np.array(list(flags.values()), dtype=np.int8),
                 "flag_meanings": " ".join(flags)}  # fmt: skip
        data_vars[name] = (dims, values, attrs if rule is None else {**attrs, "rule": rule})
    data_vars["status"] = (dims, status.astype(str), {"long_name": "run status (ok, failed, missing)", "units": "1"})
    data_vars["error"] = (dims, error.astype(str), {"long_name": "error message of a failed point", "units": "1"})
    data_vars["file"] = (dims, files.astype(str), {"long_name": "dataset of the point, relative to this folder", "units": "1"})
    summary = xr.Dataset(data_vars, coords=coords)
    summary.attrs["model"] = models.pop() if len(models) == 1 else plan.model
    summary.attrs["analysed_variable"] = analysed
    summary.attrs["sweep_command"] = plan.command
    return summary
