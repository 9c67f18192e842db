"""rd_classic: grid solvers for two-species Turing-type reaction-diffusion models.

Modules, one concept each: :mod:`~rd_classic.models` (registered models),
:mod:`~rd_classic.presets` (named parameter sets, initial conditions),
:mod:`~rd_classic.grids`, :mod:`~rd_classic.integrators` (schemes and steppers),
:mod:`~rd_classic.kernels_numba` (fused CPU stencils), :mod:`~rd_classic.backend_torch`,
:mod:`~rd_classic.run` (configuration and run loop), :mod:`~rd_classic.observers`
(dataset writer, progress bar) and :mod:`~rd_classic.stability` (linear analysis).
Every module is imported when used: the names below load on first access (PEP 562),
so ``import rd_classic.grids`` loads neither xarray nor torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rdnet.lazy import lazy_exports

__all__ = ["Grid", "MODELS", "get_model", "model_names"]

__getattr__, __dir__ = lazy_exports(
    __name__, {"Grid": ".grids", "MODELS": ".models", "get_model": ".models", "model_names": ".models"}
)

if TYPE_CHECKING:  # pragma: no cover
    from rd_classic.grids import Grid
    from rd_classic.models import MODELS, get_model, model_names
