"""Fit a reaction-diffusion model's parameters to an observed pattern, with intervals.

>>> from rdnet.fit import fit_pattern
>>> result = fit_pattern(target, model="gray-scott", fit=["F", "k"],
...                      bounds={"F": (0.02, 0.06), "k": (0.055, 0.068)}, time=1500)  # doctest: +SKIP
>>> result.values, result.uncertainty.interval_low, result.uncertainty.interval_high  # doctest: +SKIP

A simulated pattern grown from other noise than the observed one is shifted and
rearranged, so the fit compares the two **in law**: through translation- and
rotation-invariant statistics (spectrum, histogram, boundary length), differentiated
by autograd through the torch stepper of any model, built in or read from a model file.
This is an application layer, like the CLI and the sweep: it may import ``rd_classic``,
which the rdnet core never does. ``rdnet fit`` is this package behind a command line;
``docs/fit.md`` explains the method and measures it.

Modules, one per concept:

- :mod:`~rdnet.fit.parameters`: the fitted parameters, their bounds and the unit box;
- :mod:`~rdnet.fit.statistics`: differentiable pattern statistics and the distance to the target;
- :mod:`~rdnet.fit.simulation`: batched, checkpointed, differentiable runs (the forward model);
- :mod:`~rdnet.fit.first_guess`: the linear analysis's wavelength as a cheap first guess;
- :mod:`~rdnet.fit.optimise`: the loss and the searches (gradient, differential evolution, Nelder–Mead);
- :mod:`~rdnet.fit.uncertainty`: intervals and identifiability at the fit;
- :mod:`~rdnet.fit.run`: the validated configuration and the pipeline;
- :mod:`~rdnet.fit.files`: reading targets (datasets, NetCDF/zarr, ``.npy``, PNG) and writing the result file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.lazy import lazy_exports

_EXPORTS = {
    "fit_pattern": ".run",
    "build_fit_config": ".run",
    "run_fit": ".run",
    "FitConfig": ".run",
    "FitResult": ".run",
    "METHODS": ".optimise",
    "read_target": ".files",
    "Target": ".files",
    "write_fit_result": ".files",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:  # pragma: no cover
    from rdnet.fit.files import Target, read_target, write_fit_result
    from rdnet.fit.optimise import METHODS
    from rdnet.fit.run import FitConfig, FitResult, build_fit_config, fit_pattern, run_fit
