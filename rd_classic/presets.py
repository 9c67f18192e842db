"""Named run set-ups of a model (its parameters, grid spacing, duration, initial condition).

Presets are part of a model's file (``[presets.NAME]`` tables, ``default_preset``);
this module turns them into :class:`Preset` objects and looks them up. Gray-Scott's
are Pearson's classes (Pearson, Science 261:189, 1993, Fig. 3) at the representative
(F, k) points of R. Munafo's xmorphia catalogue, with one departure (zeta's k is 0.060,
not 0.061, because Pearson's single seed square dies at the catalogue point), plus two
popular named points; every other built-in model has a Turing-unstable ``default``.
See ``docs/classic.md`` for the table and the reasons. A model file without presets
gets a ``default`` one: its default parameters, ``dx = 1``, ``t = 100``, and its
``[initial]`` table when it has one, else the ``noise`` initial condition.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Iterator

from rdnet.errors import ConfigError

from rd_classic.model_file import ModelDeclaration
from rd_classic.models import MODELS, builtin_declaration

__all__ = ["Preset", "PRESETS", "get_preset", "preset_names", "default_preset", "presets_of"]


@dataclass(frozen=True)
class Preset:
    """A named run set-up for one model.

    Parameters
    ----------
    name, model
        Preset and model names.
    parameters
        Model parameters that differ from the model's defaults.
    description, source
        What the pattern looks like, and where the values come from.
    dx, dt
        Grid spacing, and the time step (``None``: 80 % of the explicit stability limit).
    time
        Duration that shows the pattern forming on the default 256² grid.
    initial_condition
        An initial condition (see :mod:`rd_classic.initial`).
    """

    name: str
    model: str
    parameters: dict[str, float] = field(default_factory=dict)
    description: str = ""
    source: str = ""
    dx: float = 1.0
    dt: float | None = None
    time: float = 100.0
    initial_condition: str = "noise"


def presets_of(declaration: ModelDeclaration) -> dict[str, Preset]:
    """The presets of a model, by name (a ``default`` one when its file declares none)."""
    fallback = "expr" if declaration.initial is not None else "noise"
    if not declaration.presets:
        return {"default": Preset("default", declaration.name, {}, "the model file's defaults", declaration.source,
                                  initial_condition=fallback)}  # fmt: skip
    return {
        name: Preset(name, declaration.name, dict(entry.parameters), entry.description, entry.source, entry.dx,
                     entry.dt, entry.time, entry.initial or fallback)
        for name, entry in declaration.presets.items()
    }  # fmt: skip


class _Presets(Mapping):
    """(model, preset name) -> :class:`Preset` of every built-in model, built on first use."""

    def _all(self) -> dict[tuple[str, str], Preset]:
        return {(model, name): preset for model in MODELS for name, preset in presets_of(MODELS[model]).items()}

    def __getitem__(self, key: tuple[str, str]) -> Preset:
        return self._all()[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


#: (model, preset name) -> Preset, for the built-in models
PRESETS: Mapping[tuple[str, str], Preset] = _Presets()


def _declaration(model: str | ModelDeclaration) -> ModelDeclaration:
    return model if isinstance(model, ModelDeclaration) else builtin_declaration(model)


def preset_names(model: str | ModelDeclaration) -> list[str]:
    """Names of the presets of a model (a built-in name or a declaration)."""
    return list(presets_of(_declaration(model)))


def get_preset(model: str | ModelDeclaration, name: str) -> Preset:
    """Look up a preset; :class:`ConfigError` lists the model's presets if unknown."""
    declaration = _declaration(model)
    presets = presets_of(declaration)
    try:
        return presets[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r} for {declaration.name}; valid presets: {', '.join(presets)}") from None


def default_preset(model: str | ModelDeclaration) -> Preset:
    """The preset used for ``model`` when none is named (its file's ``default_preset``, else the first)."""
    declaration = _declaration(model)
    presets = presets_of(declaration)
    return presets[declaration.default_preset or next(iter(presets))]
