"""One call that runs the solvable GAN and returns its dataset: :func:`simulate` (``rdnet gan-dynamics`` is built on it).

>>> import rdnet.gan_dynamics
>>> ds = rdnet.gan_dynamics.simulate(noise=2, dim=2000, time=50, quiet=True)  # doctest: +SKIP
>>> ds["P_mean"].isel(feature=0, feature2=0).plot()  # doctest: +SKIP

The options are those of ``rdnet gan-dynamics``, keyword-only and named as the command's
options (``--tau-d`` is ``tau_d``; ``--lambda`` is ``lambdas``, a Python keyword otherwise).
The run is kept in memory unless ``out`` names a NetCDF file, written once complete under a
temporary name and renamed.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rdnet.errors import ConfigError
from rdnet.gan_dynamics.options import (
    MAX_DIMENSION, MAX_RATE, MAX_RECORDS, MAX_REPLICAS, MAX_RESULT_BYTES, MAX_STEPS, MAX_STRENGTH, check_integer,
    check_number, parse_lambdas,
)  # fmt: skip

__all__ = ["simulate", "run", "GanRunResult"]


@dataclass
class GanRunResult:
    """What :func:`run` did: ``dataset`` (in memory, or opened lazily from ``path``) and ``path`` (None in memory)."""

    dataset: Any
    path: Path | None


def simulate(
    *,
    features: int | None = None,
    dim: int = 2000,
    time: float = 200.0,
    tau_d: float = 0.2,
    tau_g: float = 0.04,
    noise: float = 2.0,
    noise_gen: float | None = None,
    lambdas: str | float | Sequence[float] = "3",
    lambda_gen: str | float | Sequence[float] | None = None,
    p0: float = 0.1,
    q0: float = 0.1,
    r0: float = 0.01,
    replicas: int = 10,
    records: int = 201,
    engine: str = "frame",
    seed: int = 0,
    out: str | os.PathLike | None = None,
    overwrite: bool = False,
    quiet: bool = False,
):
    """Simulate the solvable high-dimensional GAN and integrate its ODE; return the dataset.

    Every option is that of ``rdnet gan-dynamics`` (``rdnet gan-dynamics --help``,
    ``docs/gan_dynamics.md``), with the same defaults.

    Parameters
    ----------
    features
        Number of features d (default: one per ``lambdas`` value; must agree).
    dim
        Dimension n.
    time
        Final time T (T·n online steps).
    tau_d, tau_g
        Discriminator and generator learning rates τ, τ̃.
    noise, noise_gen
        Noise variance η of the real data and η_G of the generator (default: ``noise``).
    lambdas, lambda_gen
        Feature strengths λ_1..λ_d of the real data (``"3,5"`` or numbers) and of the
        generator (default: ``lambdas``, the copy model).
    p0, q0, r0
        Initial overlaps: P = p0·I, q, r.
    replicas, records
        Independent runs in the ensemble; number of record times.
    engine
        ``"frame"`` (exact in law, O(d³) per step) or ``"vector"`` (the literal n-dim update).
    seed
        Random seed (>= 0).
    out
        Write the run to this NetCDF file (``.nc``) and return it opened lazily; default: in memory.
    overwrite
        Replace an existing ``out``.
    quiet
        No progress bar.

    Returns
    -------
    xarray.Dataset
        Simulation statistics and the ODE of the overlaps P, q, r, S on one time axis, weight
        snapshots, and the linear-theory and ODE phases in the attrs (``docs/gan_dynamics.md``).

    Raises
    ------
    ConfigError
        A bad option; checked before anything runs or is written.

    Examples
    --------
    >>> ds = simulate(noise=4, lambdas="3,5", dim=1000, time=20, replicas=3, quiet=True)  # doctest: +SKIP
    >>> ds.attrs["linear_phase"]  # doctest: +SKIP
    """
    options = dict(locals())
    return run(**options).dataset


def run(*, history: str | None = None, **options: Any) -> GanRunResult:
    """Run :func:`simulate`'s options and report what was done (the command line's call).

    Parameters
    ----------
    history
        The command line, stored in the file's ``history`` attribute.
    **options
        The options of :func:`simulate` (all of them, as :func:`simulate` passes them).

    Returns
    -------
    GanRunResult
    """
    from rdnet.gan_dynamics.model import GanModel, initial_state
    from rdnet.gan_dynamics.ode import check_ode_cost
    from rdnet.gan_dynamics.phases import DEFAULT_MAX_HORIZON

    lambda_real = parse_lambdas(options["lambdas"])
    lambda_gen = options["lambda_gen"]
    lambda_generator = lambda_real if lambda_gen is None else parse_lambdas(lambda_gen, "--lambda-gen")
    if len(lambda_generator) != len(lambda_real):
        raise ConfigError(f"--lambda-gen has {len(lambda_generator)} value(s) but --lambda has "
                          f"{len(lambda_real)}; give one per feature")  # fmt: skip
    d = len(lambda_real)
    features = options["features"]
    if features is not None and features != d:
        raise ConfigError(f"--features {features} does not match the {d} value(s) of --lambda "
                          f"{','.join(f'{value:g}' for value in lambda_real)}; give one λ per feature")  # fmt: skip
    dimension, final_time = options["dim"], options["time"]
    replicas, records, engine, seed = options["replicas"], options["records"], options["engine"], options["seed"]
    check_integer(dimension, "--dim", low=2 * d + 2, high=MAX_DIMENSION)
    check_number(final_time, "--time", low=0.0, low_open=True)
    steps = final_time * dimension
    if steps < 1 or steps > MAX_STEPS:
        raise ConfigError(f"--time × --dim is the number of online steps, between 1 and {MAX_STEPS:.0e}; "
                          f"got {final_time:g} × {dimension} = {steps:.3g}")  # fmt: skip
    for option in ("tau_d", "tau_g"):
        check_number(options[option], "--" + option.replace("_", "-"), low=0.0, high=MAX_RATE, low_open=True)
    noise, noise_gen = options["noise"], options["noise_gen"]
    check_number(noise, "--noise", low=0.0, high=MAX_STRENGTH)
    if noise_gen is not None:
        check_number(noise_gen, "--noise-gen", low=0.0, high=MAX_STRENGTH)
    for option in ("p0", "q0", "r0"):
        check_number(options[option], f"--{option}", low=-1.0, high=1.0)
    check_integer(replicas, "--replicas", low=1, high=MAX_REPLICAS)
    check_integer(records, "--records", low=2, high=MAX_RECORDS)
    check_integer(seed, "--seed", low=0)
    if engine not in ("frame", "vector"):
        raise ConfigError(f"--engine must be frame or vector, got {engine!r}")
    # the series (mean, std, quantiles, ODE, every replica) and the weight snapshots held in memory
    result_bytes = 8 * (records * (replicas + 6) * (2 * d * d + 3 * d + 1) + replicas * 3 * 2000 * (d + 1))
    if result_bytes > MAX_RESULT_BYTES:
        raise ConfigError(f"--replicas {replicas} with --records {records} would hold about "
                          f"{result_bytes / 2**30:.1f} GiB of results (at most {MAX_RESULT_BYTES / 2**30:g}); "
                          "use fewer replicas or records")  # fmt: skip
    model = GanModel(options["tau_d"], options["tau_g"], lambda_real, lambda_generator, noise,
                     noise if noise_gen is None else noise_gen)  # fmt: skip
    initial = initial_state(d, P0=options["p0"], q0=options["q0"], r0=options["r0"])
    check_ode_cost(options["tau_d"], options["tau_g"], lambda_real, lambda_generator,
                   max(DEFAULT_MAX_HORIZON, final_time))  # fmt: skip
    out, overwrite = options["out"], bool(options["overwrite"])
    if out is None and overwrite:
        raise ConfigError("overwrite applies only with out (a file to write); an in-memory run replaces nothing")
    if out is not None:
        from rdnet.dataset import check_output_path

        out = check_output_path(out, overwrite=overwrite)

    from tqdm import tqdm

    from rdnet.dataset import prepare_dataset, write_dataset
    from rdnet.gan_dynamics.run import MODEL, SYSTEM, run_dataset

    total = int(round(steps)) * replicas
    with tqdm(total=total, unit="step", unit_scale=True, file=sys.stderr,
              disable=True if options["quiet"] else None, desc="gan-dynamics") as bar:  # fmt: skip
        ds = run_dataset(model, initial, dimension=dimension, time=final_time, records=records,
                         replicas=replicas, seed=seed, engine=engine, progress=bar.update)  # fmt: skip
    parameters = {
        **model.as_dict(),
        "features": d, "dimension": dimension, "time": final_time, "P0": options["p0"], "q0": options["q0"],
        "r0": options["r0"], "replicas": replicas, "records": records, "engine": engine, "seed": seed,
    }  # fmt: skip
    attributes = {"system": SYSTEM, "model": MODEL, "parameters": parameters, "history": history}
    if out is None:
        return GanRunResult(dataset=prepare_dataset(ds, **attributes), path=None)
    from rdnet.dataset import open_dataset

    path = write_dataset(ds, out, overwrite=overwrite, **attributes)
    return GanRunResult(dataset=open_dataset(path), path=path)
