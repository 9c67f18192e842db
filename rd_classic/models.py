"""Models: a declaration (from a model file) with parameter values, and the registry.

A :class:`Model` is a :class:`~rd_classic.model_file.ModelDeclaration` — species,
parameters, diffusion, reaction, presets, read from a TOML model file — together
with one value for every parameter. It knows its reaction terms, their Jacobian
(symbolic, :mod:`rd_classic.codegen`), its diffusion coefficients and its
homogeneous steady states (:mod:`rd_classic.steady_states`), and nothing about
grids, time stepping or output:

.. math::

    \\partial_t s_i = R_i(s) + D_i \\nabla^2 s_i .

The built-in models are model files shipped in the package
(``rd_classic/model_files/*.toml``), registered by name in :data:`MODELS`; a user's
model is read with :func:`load_model_file` and behaves the same way.

Examples
--------
>>> from rd_classic.models import get_model
>>> model = get_model("gray-scott", F=0.035, k=0.065)
>>> model.diffusion
(2e-05, 1e-05)
>>> model.F
0.035
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType, SimpleNamespace
from typing import Any, Iterator

import numpy as np

from rdnet.errors import ConfigError

from rd_classic.expressions import array_functions
from rd_classic.model_file import ModelDeclaration, parse_model_text, read_model_file

__all__ = [
    "Model",
    "MODELS",
    "BUILTIN_FOLDER",
    "get_model",
    "model_names",
    "load_model_file",
    "model_from_text",
    "array_namespace",
]

#: where the built-in model files live
BUILTIN_FOLDER = Path(__file__).resolve().parent / "model_files"


class _Registry(Mapping):
    """name -> built-in :class:`ModelDeclaration`, read from the package's model files on first use."""

    def __init__(self) -> None:
        self._declarations: dict[str, ModelDeclaration] | None = None

    def _load(self) -> dict[str, ModelDeclaration]:
        if self._declarations is None:
            declarations = {}
            for path in sorted(BUILTIN_FOLDER.glob("*.toml")):
                declaration = read_model_file(path)
                if declaration.name != path.stem:
                    raise RuntimeError(f"{path} declares the name {declaration.name!r}; it must match the file name")
                declarations[declaration.name] = declaration
            self._declarations = declarations
        return self._declarations

    def __getitem__(self, name: str) -> ModelDeclaration:
        return self._load()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


#: the built-in models: name -> declaration
MODELS: Mapping[str, ModelDeclaration] = _Registry()


def model_names() -> list[str]:
    """Names of the built-in models, sorted."""
    return sorted(MODELS)


def builtin_declaration(name: str) -> ModelDeclaration:
    """The declaration of a built-in model; :class:`ConfigError` lists the valid names if unknown."""
    try:
        return MODELS[name]
    except KeyError:
        raise ConfigError(f"unknown model {name!r}; valid models: {', '.join(model_names())} "
                          f"(or give a model file with --model-file)") from None  # fmt: skip


def get_model(name: str | ModelDeclaration, **parameters: float) -> Model:
    """Build a model by name (or from a declaration), with some parameters changed.

    Parameters
    ----------
    name
        A built-in name (see :func:`model_names`) or a :class:`ModelDeclaration`.
    **parameters
        Parameter values replacing the defaults.

    Returns
    -------
    Model

    Raises
    ------
    ConfigError
        Unknown model or parameter name, non-finite value, negative diffusion, a
        violated constraint of the model file.
    """
    declaration = name if isinstance(name, ModelDeclaration) else builtin_declaration(name)
    return Model(declaration, MappingProxyType(dict(declaration.defaults))).with_parameters(**parameters)


def load_model_file(path: str | os.PathLike) -> ModelDeclaration:
    """Read a user's model file (see :mod:`rd_classic.model_file`)."""
    return read_model_file(path)


def model_from_text(text: str, *, origin: str = "stored model declaration") -> ModelDeclaration:
    """Parse a model declaration's text (e.g. the one a run's file stores)."""
    return parse_model_text(text, origin=origin)


def array_namespace(library: str) -> SimpleNamespace:
    """The ``xp`` of the generated array functions, for ``"numpy"`` or ``"torch"``."""
    functions = array_functions(library)
    return SimpleNamespace(
        exp=functions["exp"], log=functions["log"], sqrt=functions["sqrt"], sin=functions["sin"],
        cos=functions["cos"], tanh=functions["tanh"], abs=functions["abs"], sign=functions["sign"],
        minimum=functions["min"], maximum=functions["max"], heaviside=functions["heaviside"],
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class Model:
    """A model's declaration and one value for each of its parameters.

    Build one with :func:`get_model`; change parameters with :meth:`with_parameters`.
    Parameter values read as attributes too (``model.F``).

    Parameters
    ----------
    declaration
        The model file's content.
    values
        Every parameter's value, in declaration order.
    """

    declaration: ModelDeclaration
    values: Mapping[str, float] = field(default_factory=dict)

    def __getattr__(self, name: str) -> float:
        # only called when normal lookup fails: parameter values as attributes
        values = self.__dict__.get("values")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Model):
            return NotImplemented
        return self.declaration == other.declaration and dict(self.values) == dict(other.values)

    def __hash__(self) -> int:
        return hash((self.declaration, tuple(self.values.items())))

    def __repr__(self) -> str:
        values = ", ".join(f"{key}={value:g}" for key, value in self.values.items())
        return f"Model({self.name!r}, {values})"

    # -- identity ----------------------------------------------------------------------
    @property
    def name(self) -> str:
        """The model's name."""
        return self.declaration.name

    @property
    def species(self) -> tuple[str, ...]:
        """The species names, in output order."""
        return self.declaration.species

    @property
    def n_species(self) -> int:
        """Number of species."""
        return len(self.declaration.species)

    @property
    def species_long_names(self) -> tuple[str, ...]:
        """A long name per species (the model file's, else ``species NAME``)."""
        return tuple(self.declaration.long_names.get(name, f"species {name}") for name in self.species)

    # -- parameters --------------------------------------------------------------------
    def parameter_names(self) -> list[str]:
        """Names of the model's parameters, in declaration order."""
        return list(self.declaration.parameter_names)

    def parameter_units(self) -> dict[str, str]:
        """Units of every parameter."""
        return {parameter.name: parameter.units for parameter in self.declaration.parameters}

    def parameter_descriptions(self) -> dict[str, str]:
        """One-line description of every parameter."""
        return {parameter.name: parameter.description for parameter in self.declaration.parameters}

    def parameters(self) -> dict[str, float]:
        """The parameter values as a plain dict (JSON-able)."""
        return {name: float(value) for name, value in self.values.items()}

    def with_parameters(self, **changes: float) -> Model:
        """A copy with some parameters changed, validated.

        Raises
        ------
        ConfigError
            Unknown name, a value that is not a finite number, negative diffusion,
            or a constraint of the model file violated.
        """
        valid = self.parameter_names()
        values = dict(self.values)
        for key, value in changes.items():
            if key not in valid:
                raise ConfigError(f"model {self.name!r} has no parameter {key!r}; valid parameters: {', '.join(valid)}")
            try:
                if isinstance(value, (bool, np.bool_)):  # float(True) is 1.0
                    raise TypeError
                number = float(value)
            except (TypeError, ValueError):
                raise ConfigError(f"parameter {key} must be a number, got {value!r}") from None
            if not math.isfinite(number):
                raise ConfigError(f"parameter {key} must be finite, got {value!r}")
            values[key] = number
        model = Model(self.declaration, MappingProxyType(values))
        model.validate()
        return model

    def validate(self) -> None:
        """Check the diffusion coefficients (>= 0) and the model file's constraints."""
        for species, coefficient in zip(self.species, self.diffusion):
            if not (math.isfinite(coefficient) and coefficient >= 0):
                expression = self.declaration.diffusion[species]
                if expression.text in self.values:
                    raise ConfigError(f"diffusion coefficient {expression.text} must be >= 0, got {coefficient:g}")
                raise ConfigError(f"diffusion coefficient of {species} ({expression.text}) must be >= 0, "
                                  f"got {coefficient:g}")  # fmt: skip
        for condition in self.declaration.constraints:
            if not condition.holds(self.values):
                used = ", ".join(f"{name}={self.values[name]:g}" for name in sorted(condition.names))
                raise ConfigError(f"{self.name} needs {condition.text}, got {used}")

    # -- equations ---------------------------------------------------------------------
    @property
    def diffusion(self) -> tuple[float, ...]:
        """The diffusion coefficient of every species."""
        return tuple(float(self.declaration.diffusion[name].evaluate(self.values)) for name in self.species)

    def reaction(self, *fields, t: float = 0.0, coordinates: Mapping[str, Any] | None = None,
                 parameter_fields: Mapping[str, Any] | None = None) -> tuple:  # fmt: skip
        """The reaction terms ``R_i`` (NumPy arrays, torch tensors or floats in, the same out).

        Parameters
        ----------
        *fields
            One value (array) per species.
        t
            Time (for reactions that use ``t``).
        coordinates
            Values of ``x, y, z, Lx, Ly, Lz`` (for reactions that use them; default 0).
        parameter_fields
            Parameters given as arrays (fields), replacing their scalar values.
        """
        return tuple(self._generated("reaction", fields, t, coordinates, parameter_fields))

    def jacobian(self, *state: float, t: float = 0.0, coordinates: Mapping[str, Any] | None = None) -> np.ndarray:
        """The ``N × N`` Jacobian ``∂R_i/∂s_j`` at ``state`` (from the symbolic derivatives)."""
        rows = self._generated("jacobian", state, t, coordinates, None)
        return np.array([[float(entry) for entry in row] for row in rows])

    def jacobian_array(self, *fields, t: float = 0.0, coordinates: Mapping[str, Any] | None = None) -> np.ndarray:
        """The Jacobian at many states at once: ``(N, N, *shape)`` for fields of one shape."""
        rows = self._generated("jacobian", fields, t, coordinates, None)
        shape = np.broadcast_shapes(*(np.shape(field) for field in fields))
        return np.array([[np.broadcast_to(np.asarray(entry, dtype=float), shape) for entry in row] for row in rows])

    def _generated(self, which: str, fields, t, coordinates, parameter_fields):
        from rd_classic.kernels_numba import functions_for

        if len(fields) != self.n_species:
            raise ValueError(f"{self.name} has {self.n_species} species ({', '.join(self.species)}), got {len(fields)} values")
        values = dict(self.values)
        if parameter_fields:
            values.update(parameter_fields)
        where = coordinates or {}
        place = [where.get(name, 0.0) for name in ("x", "y", "z")]
        lengths = [where.get(name, 0.0) for name in ("Lx", "Ly", "Lz")]
        library = "torch" if any(hasattr(item, "detach") for item in (*fields, *values.values())) else "numpy"
        if library == "numpy":  # NumPy scalars: a division by zero gives inf, not an exception
            fields = [np.float64(item) if isinstance(item, (int, float)) else item for item in fields]
            values = {key: np.float64(item) if isinstance(item, (int, float)) else item for key, item in values.items()}
        function = getattr(functions_for(self.declaration), which)
        with np.errstate(all="ignore"):
            return function(array_namespace(library), *fields, *values.values(), *place, t, *lengths)

    # -- steady states -------------------------------------------------------------------
    def steady_states(self) -> list[tuple[float, ...]]:
        """All homogeneous steady states (real, finite); see :mod:`rd_classic.steady_states`."""
        from rd_classic.steady_states import steady_states

        return steady_states(self)

    def homogeneous_state(self) -> tuple[float, ...]:
        """The steady state used by default (the first of :meth:`steady_states`).

        Raises
        ------
        ConfigError
            The model has no homogeneous steady state.
        """
        states = self.steady_states()
        if not states:
            raise ConfigError(f"{self.name} has no homogeneous steady state at these parameters")
        return states[0]
