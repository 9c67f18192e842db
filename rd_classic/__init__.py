"""rd_classic: grid solvers for reaction-diffusion models given as data (model files).

Modules, one concept each: :mod:`~rd_classic.expressions` (the whitelist expression
language), :mod:`~rd_classic.model_file` (the TOML declaration),
:mod:`~rd_classic.models` (a declaration with parameter values; the registry of
built-in model files), :mod:`~rd_classic.steady_states`, :mod:`~rd_classic.presets`,
:mod:`~rd_classic.initial` (initial conditions), :mod:`~rd_classic.parameter_fields`,
:mod:`~rd_classic.field_files` (reading fields from files), :mod:`~rd_classic.grids`,
:mod:`~rd_classic.schemes` (time-stepping schemes as data),
:mod:`~rd_classic.codegen` (source generated from the equations),
:mod:`~rd_classic.kernel_cache` (the on-disk cache of generated modules),
:mod:`~rd_classic.kernels_numba` (the generated CPU kernels),
:mod:`~rd_classic.integrators` (the explicit step limit and the CPU steppers),
:mod:`~rd_classic.backend_torch`, :mod:`~rd_classic.run` (configuration and run
loop), :mod:`~rd_classic.observers` (dataset writer, progress bar),
:mod:`~rd_classic.resume` (continuing a run from its file), :mod:`~rd_classic.simulation`
(:func:`simulate`, the one call returning a dataset) and
:mod:`~rd_classic.stability` (linear analysis).
Every module is imported when used: the names below load on first access (PEP 562),
so ``import rd_classic.grids`` loads neither xarray nor torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.lazy import lazy_exports

__all__ = ["Grid", "MODELS", "get_model", "model_names", "simulate"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"Grid": ".grids", "MODELS": ".models", "get_model": ".models", "model_names": ".models", "simulate": ".simulation"},
)

if TYPE_CHECKING:  # pragma: no cover
    from rd_classic.grids import Grid
    from rd_classic.models import MODELS, get_model, model_names
    from rd_classic.simulation import simulate
