"""A full solvable-GAN run: simulation ensemble + ODE on the same time axis, as an xarray Dataset.

This module assembles the numerics (:mod:`~rdnet.gan_dynamics.simulation`,
:mod:`~rdnet.gan_dynamics.ode`, :mod:`~rdnet.gan_dynamics.phases`) into the dataset layout of
``docs/gan_dynamics.md``; writing the file is left to :func:`rdnet.dataset.write_dataset`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import xarray as xr

from rdnet.gan_dynamics.model import GanModel, OverlapState
from rdnet.gan_dynamics.ode import integrate_overlaps
from rdnet.gan_dynamics.phases import DEFAULT_HORIZON, DEFAULT_MAX_HORIZON, classify_ode, linear_phase
from rdnet.gan_dynamics.simulation import simulate_ensemble

__all__ = ["run_dataset", "SYSTEM", "MODEL"]

SYSTEM = "gan-dynamics"
MODEL = "solvable-gan"

_LONG_NAMES = {
    "P": ("feature/generator overlap P = U^T V", ("feature", "feature2")),
    "q": ("feature/discriminator overlap q = U^T w", ("feature",)),
    "r": ("generator/discriminator overlap r = V^T w", ("feature",)),
    "S": ("generator/generator overlap S = V^T V", ("feature", "feature2")),
}


def run_dataset(
    model: GanModel,
    initial: OverlapState,
    *,
    dimension: int,
    time: float,
    records: int = 201,
    replicas: int = 10,
    seed: int = 0,
    engine: str = "frame",
    snapshots: int = 3,
    max_weights: int = 2000,
    phase_time: float = DEFAULT_HORIZON,
    phase_max_time: float = DEFAULT_MAX_HORIZON,
    progress: Callable[[int], None] | None = None,
) -> xr.Dataset:
    """Simulate R replicas, integrate the ODE on the same times and gather both in a Dataset.

    Parameters
    ----------
    model : GanModel
    initial : OverlapState
    dimension : int
        The dimension n.
    time : float
        Final time T (T·n steps).
    records : int
        Number of record times (evenly spaced on [0, T], rounded to the step grid).
    replicas : int
        Ensemble size R.
    seed : int
    engine : {"frame", "vector"}
        See :func:`~rdnet.gan_dynamics.simulation.simulate_ensemble`.
    snapshots : int
        Number of times at which per-coordinate weights are kept (evenly spaced record times).
    max_weights : int
        Coordinates kept per weight snapshot.
    phase_time, phase_max_time : float
        The ODE phase (attrs ``ode_phase``) is read from a separate, long-horizon ODE integration
        (:func:`~rdnet.gan_dynamics.phases.classify_ode`), not from the run's time axis: first to
        max(``phase_time``, T), then longer while still moving, up to max(``phase_max_time``, T).
    progress : callable, optional
        Receives numbers of completed steps.

    Returns
    -------
    xarray.Dataset
        Overlap series: ``<X>_mean``, ``<X>_std``, ``<X>_q10``, ``<X>_q90`` (simulation),
        ``<X>_ode`` (ODE) and ``<X>_replicas`` for X in P, q, r, S; weights ``discriminator_weights``,
        ``generator_weights``, ``feature_vectors``; norms ``w_norm``, ``v_norm``; the linear-theory
        ``critical_overlap`` and ``predicted_plateau``; in the attrs the linear-theory phase
        (``linear_phase``, ``linear_feature_phases``) and the ODE's (``ode_phase``,
        ``ode_feature_phases``, ``ode_behaviours`` and ``ode_phase_time``, the horizon at which it was
        read; "undetermined" when still moving at the cap).
    """
    d = model.features
    times = np.unique(np.rint(np.linspace(0.0, time, records) * dimension).astype(np.int64)) / dimension
    snap_index = np.unique(np.rint(np.linspace(0, len(times) - 1, max(1, snapshots))).astype(int))
    run = simulate_ensemble(
        model, initial, dimension=dimension, times=times, replicas=replicas, seed=seed, engine=engine,
        weight_times=times[snap_index], max_weights=max_weights, progress=progress,
    )
    ode = integrate_overlaps(model, initial, run.times)
    data = {}
    for name, (long_name, dims) in _LONG_NAMES.items():
        sim = getattr(run.overlaps, name)  # (R, T, ...)
        full_dims = ("time", *dims)
        stats = {
            "mean": (sim.mean(axis=0), "ensemble mean of the simulation"),
            "std": (sim.std(axis=0, ddof=1) if replicas > 1 else np.zeros_like(sim[0]), "ensemble std"),
            "q10": (np.quantile(sim, 0.1, axis=0), "ensemble 10% quantile"),
            "q90": (np.quantile(sim, 0.9, axis=0), "ensemble 90% quantile"),
        }
        for suffix, (values, what) in stats.items():
            data[f"{name}_{suffix}"] = (full_dims, values, {"long_name": f"{long_name}, {what}", "units": "1"})
        data[f"{name}_ode"] = (full_dims, getattr(ode, name), {"long_name": f"{long_name}, ODE", "units": "1"})
        data[f"{name}_replicas"] = (
            ("time", "replica", *dims),
            np.moveaxis(sim, 0, 1),
            {"long_name": f"{long_name}, each replica", "units": "1"},
        )
    data["w_norm"] = (("time", "replica"), run.w_norm.T, {"long_name": "norm of w", "units": "1"})
    data["v_norm"] = (
        ("time", "replica", "feature"),
        np.moveaxis(run.v_norm, 0, 1),
        {"long_name": "norm of the generator's columns", "units": "1"},
    )
    data["discriminator_weights"] = (
        ("snapshot_time", "replica", "coordinate"),
        np.moveaxis(run.discriminator, 0, 1),
        {"long_name": "discriminator weights w_i (first coordinates)", "units": "1"},
    )
    data["generator_weights"] = (
        ("snapshot_time", "replica", "coordinate", "feature"),
        np.moveaxis(run.generator, 0, 1),
        {"long_name": "generator weights V_ij (first coordinates)", "units": "1"},
    )
    data["feature_vectors"] = (
        ("coordinate", "feature"),
        run.features,
        {"long_name": "planted features U_ij (first coordinates)", "units": "1"},
    )
    prediction = linear_phase(model, P0=float(np.mean(np.diag(initial.P))))
    data["critical_overlap"] = (
        ("feature",), prediction.critical_overlap, {"long_name": "linear-theory critical overlap P_c", "units": "1"}
    )
    data["predicted_plateau"] = (
        ("feature",), prediction.plateau, {"long_name": "linear-theory long-time diag P", "units": "1"}
    )
    classified = classify_ode(model, initial, time=max(phase_time, time), max_time=max(phase_max_time, time))
    coords = {
        "time": ("time", run.times, {"long_name": "training time t = k/n", "units": "1"}),
        "feature": ("feature", np.arange(d), {"long_name": "feature index", "units": "1"}),
        "feature_strength": ("feature", np.asarray(model.lambda_real),
                             {"long_name": "feature strength lambda_T of the real data", "units": "1"}),
        "feature2": ("feature2", np.arange(d), {"long_name": "feature index (second)", "units": "1"}),
        "replica": ("replica", np.arange(replicas), {"long_name": "replica index", "units": "1"}),
        "snapshot_time": ("snapshot_time", run.weight_times, {"long_name": "weight snapshot time", "units": "1"}),
        "coordinate": ("coordinate", np.arange(run.features.shape[0]), {"long_name": "weight coordinate", "units": "1"}),
    }
    ds = xr.Dataset(data, coords=coords)
    ds.attrs.update(
        linear_phase=prediction.phase,
        linear_feature_phases=",".join(prediction.feature_phases),
        ode_phase=classified.phase,
        ode_feature_phases=",".join(classified.feature_phases),
        ode_behaviours=",".join(classified.behaviours),
        ode_phase_time=float(classified.horizon),
        dimension=int(dimension),
        engine=engine,
    )
    return ds

