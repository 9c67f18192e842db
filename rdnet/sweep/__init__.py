"""Parameter sweeps and ensembles of rdnet's engines on Dask, as a library.

>>> from rdnet.sweep import run_sweep
>>> summary = run_sweep("simulate", {"F": [0.02, 0.035], "k": [0.06, 0.065]},
...                     {"model": "gray-scott", "size": 64, "steps": 2000}, out="gs-sweep")  # doctest: +SKIP

Each point is one call of an engine's one-call function (:func:`rd_classic.simulate`,
:func:`rdnet.prd.train`) on a Dask worker; ``rdnet sweep`` is this package behind a
command line. This is an application layer, like the CLI: it may import ``rd_classic``,
which the rdnet core never does.

Modules, one per concept:

- :mod:`~rdnet.sweep.axes`: parameter axes, their text form ``NAME=SPEC`` and point names;
- :mod:`~rdnet.sweep.engines`: the sweepable engines and their options;
- :mod:`~rdnet.sweep.plan`: the validated plan, one task per point;
- :mod:`~rdnet.sweep.point`: one point on a worker (run, publish exactly once, skip when done);
- :mod:`~rdnet.sweep.metrics`: what is measured of each point's run;
- :mod:`~rdnet.sweep.journal`: the folder's event journal and manifest;
- :mod:`~rdnet.sweep.summary`: the summary dataset;
- :mod:`~rdnet.sweep.execution`: the Dask cluster, the futures, Ctrl-C, :func:`run_sweep`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.lazy import lazy_exports

_EXPORTS = {
    "run_sweep": ".execution",
    "execute_plan": ".execution",
    "dask_client": ".execution",
    "SweepOutcome": ".execution",
    "plan_sweep": ".plan",
    "SweepPlan": ".plan",
    "PointTask": ".plan",
    "ParameterAxis": ".axes",
    "parse_axis": ".axes",
    "split_axis_spec": ".axes",
    "point_names": ".axes",
    "run_point": ".point",
    "analyse_point": ".metrics",
    "MAIN_FIELD": ".metrics",
    "METRIC_UNITS": ".metrics",
    "read_journal": ".journal",
    "JOURNAL_NAME": ".journal",
    "build_summary": ".summary",
    "REGIME_FLAGS": ".summary",
    "TIME_BEHAVIOUR_FLAGS": ".summary",
    "ENGINES": ".engines",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from rdnet.sweep.axes import ParameterAxis, parse_axis, point_names, split_axis_spec
    from rdnet.sweep.engines import ENGINES
    from rdnet.sweep.execution import SweepOutcome, dask_client, execute_plan, run_sweep
    from rdnet.sweep.journal import JOURNAL_NAME, read_journal
    from rdnet.sweep.metrics import MAIN_FIELD, METRIC_UNITS, analyse_point
    from rdnet.sweep.plan import PointTask, SweepPlan, plan_sweep
    from rdnet.sweep.point import run_point
    from rdnet.sweep.summary import REGIME_FLAGS, TIME_BEHAVIOUR_FLAGS, build_summary
