"""Model files: a reaction-diffusion model as data (TOML), read and checked before use.

A model file declares an N-species system

.. math::

    \\partial_t s_i = R_i(s, p, x, y, z, t) + D_i(p) \\nabla^2 s_i, \\qquad i = 1 \\ldots N

with these keys (``docs/models.md`` is the full reference)::

    name = "brusselator-3"                # registry / display name
    description = "one line"              # optional
    source = "where the model comes from" # optional
    species = ["u", "v", "w"]             # 1 to 8 species, in output order
    default_preset = "default"            # optional

    [parameters]                          # name = default, or a table (optional: none)
    a = 1.0
    b = { value = 3.0, units = "1", description = "feed" }

    [diffusion]                           # per species: number or expression in parameters
    u = 1.0
    v = "8*a"
    w = 3.0

    [reaction]                            # per species: expression in species, parameters,
    u = "a - (b + 1)*u + u**2*v"          # x, y, z, t, Lx, Ly, Lz
    v = "b*u - u**2*v"
    w = "u - w"

Optional: ``[long_names]`` (species → text), ``constraints`` (a list of comparisons
of the parameters, ``"a > 0"``), ``[[steady_states]]`` (closed forms, species →
expression in the parameters; the first is the default state), ``[initial]``
(species → expression in ``x, y, z, Lx, Ly, Lz`` and the parameters, plus
``noise = amplitude``), ``[boundary]`` (species → condition on every side, or
``[boundary.SPECIES]`` with single sides; :mod:`rd_classic.boundaries`), ``[noise]``
(species → the amplitude of its noise term, an expression in the species, the
parameters, ``x, y, z, t`` and ``Lx, Ly, Lz``; :mod:`rd_classic.noise`),
``[presets.NAME]`` (``parameters``, ``description``, ``source``, ``dx``, ``dt``,
``time``, ``initial``) and ``[metadata]`` (free).
Any other key is refused, so a misspelt table is not silently ignored.

Everything is checked when the file is read — names, tables, every expression
through the whitelist parser of :mod:`rd_classic.expressions` — so a bad file fails
with one line naming the file, the key and the problem, before anything runs.
Nothing here imports sympy: the symbolic work happens later, on demand.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from rdnet.errors import ConfigError

from rd_classic.boundaries import SideCondition, declared_boundary
from rd_classic.expressions import FUNCTIONS, CONSTANTS, Condition, Expression, parse_condition, parse_expression

__all__ = [
    "ParameterDeclaration",
    "PresetDeclaration",
    "ModelDeclaration",
    "read_model_file",
    "parse_model_text",
    "COORDINATES",
    "DOMAIN_LENGTHS",
    "MAX_SPECIES",
    "MAX_FILE_BYTES",
]

#: largest model file read (bytes)
MAX_FILE_BYTES = 4 * 1024 * 1024
#: most species a model may have
MAX_SPECIES = 8
#: most parameters a model may have
MAX_PARAMETERS = 64
#: position and time names a reaction may use
COORDINATES = ("x", "y", "z", "t")
#: the domain lengths, usable in reactions, initial conditions and parameter fields
DOMAIN_LENGTHS = ("Lx", "Ly", "Lz")
#: names a species or parameter cannot take: the language's own, and the keys of a
#: run's stored parameters and the options of ``rdnet simulate`` (a sweep passes a
#: model parameter by name)
RESERVED_NAMES = frozenset(
    {*COORDINATES, *DOMAIN_LENGTHS, *FUNCTIONS, *CONSTANTS, "sign",
     "model", "model_declaration", "parameter_fields", "preset", "size", "dx", "boundary", "dt", "steps",
     "snapshot_every", "snapshots", "integrator", "backend", "device", "dtype", "seed", "initial",
     "initial_condition", "time", "step", "out", "overwrite", "resume", "quiet", "param", "allow_unstable",
     "model_file", "noise", "noise_terms", "boundary_conditions", "rtol", "atol", "adaptive", "step_size_min", "step_size_max", "step_size_next", "rejected_steps",
     "stop_when_steady"}
)  # fmt: skip
#: a species' variables in a dataset are NAME, reaction_NAME and diffusion_NAME
RESERVED_PREFIXES = ("reaction_", "diffusion_", "parameter_")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}\Z")
_TOP_LEVEL_KEYS = ("name", "description", "source", "species", "default_preset", "long_names", "parameters",
                   "diffusion", "reaction", "constraints", "steady_states", "initial", "boundary", "noise", "presets",
                   "metadata")  # fmt: skip
_PRESET_KEYS = ("parameters", "description", "source", "dx", "dt", "time", "initial")


@dataclass(frozen=True)
class ParameterDeclaration:
    """One parameter: its default value, units and meaning."""

    name: str
    default: float
    units: str = "1"
    description: str = ""


@dataclass(frozen=True)
class PresetDeclaration:
    """A named run set-up of a model (see :class:`rd_classic.presets.Preset`)."""

    name: str
    parameters: Mapping[str, float]
    description: str = ""
    source: str = ""
    dx: float = 1.0
    dt: float | None = None
    time: float = 100.0
    initial: str | None = None


@dataclass(frozen=True, eq=False)
class ModelDeclaration:
    """A model as declared in its file, every expression validated.

    Build one with :func:`read_model_file` or :func:`parse_model_text`. Two
    declarations are equal when their :attr:`digest` is.
    """

    name: str
    species: tuple[str, ...]
    parameters: tuple[ParameterDeclaration, ...]
    diffusion: Mapping[str, Expression]
    reaction: Mapping[str, Expression]
    description: str = ""
    source: str = ""
    long_names: Mapping[str, str] = field(default_factory=dict)
    constraints: tuple[Condition, ...] = ()
    steady_states: tuple[Mapping[str, Expression], ...] = ()
    initial: Mapping[str, Expression] | None = None
    initial_noise: float = 0.0
    boundary: Mapping[str, Mapping[str, SideCondition]] = field(default_factory=dict)
    noise: Mapping[str, Expression] = field(default_factory=dict)
    presets: Mapping[str, PresetDeclaration] = field(default_factory=dict)
    default_preset: str | None = None
    text: str = ""
    origin: str = "model file"

    @property
    def parameter_names(self) -> tuple[str, ...]:
        """The parameter names, in declaration order."""
        return tuple(parameter.name for parameter in self.parameters)

    @property
    def defaults(self) -> dict[str, float]:
        """Every parameter's default value."""
        return {parameter.name: parameter.default for parameter in self.parameters}

    @property
    def coordinates_used(self) -> frozenset[str]:
        """Which of ``x, y, z, t, Lx, Ly, Lz`` the reaction terms use."""
        used = frozenset().union(*(expression.names for expression in self.reaction.values()))
        return used & frozenset(COORDINATES + DOMAIN_LENGTHS)

    def canonical(self) -> dict[str, Any]:
        """The parts the generated code depends on, normalised (for the kernel cache key)."""
        return {
            "species": list(self.species),
            "parameters": list(self.parameter_names),
            "reaction": [self.reaction[name].canonical for name in self.species],
        }

    @property
    def digest(self) -> str:
        """SHA-256 of the canonical form of the equations (see :meth:`canonical`)."""
        text = json.dumps(self.canonical(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelDeclaration):
            return NotImplemented
        return (self.name, self.digest, self.text) == (other.name, other.digest, other.text)

    def __hash__(self) -> int:
        return hash((self.name, self.digest))


def read_model_file(path: str | os.PathLike) -> ModelDeclaration:
    """Read and check a model file.

    Parameters
    ----------
    path
        A ``.toml`` model file (at most :data:`MAX_FILE_BYTES`).

    Returns
    -------
    ModelDeclaration

    Raises
    ------
    ConfigError
        Missing or unreadable file, not TOML, or anything the format refuses; one
        line naming the file and the key.
    """
    path = Path(path).expanduser()
    label = f"model file {path}"
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "not a regular file" if path.exists() else "not found"
        raise ConfigError(f"{label}: {what}")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(f"{label}: {size} bytes is too large for a model file (at most {MAX_FILE_BYTES})")
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(f"{label}: cannot read it ({error.strerror or error})") from None
    try:
        text = data.decode("utf-8-sig")  # a byte order mark (Windows editors write one) is dropped
    except UnicodeDecodeError:
        raise ConfigError(f"{label}: not a UTF-8 text file") from None
    return parse_model_text(text, origin=label)


def parse_model_text(text: str, *, origin: str = "model declaration") -> ModelDeclaration:
    """Parse and check the text of a model file (from a file, the package or a run's record).

    Parameters
    ----------
    text
        TOML text.
    origin
        Where it came from, the start of every error message.

    Returns
    -------
    ModelDeclaration

    Raises
    ------
    ConfigError
        Anything the format refuses.
    """
    import tomllib

    if not isinstance(text, str):
        raise ConfigError(f"{origin}: the declaration must be text")
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise ConfigError(f"{origin}: the declaration is larger than {MAX_FILE_BYTES} bytes")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{origin}: not valid TOML ({error})") from None
    except RecursionError:
        raise ConfigError(f"{origin}: not valid TOML (nested too deeply)") from None
    try:
        return _declaration(data, text, origin)
    except ConfigError as error:
        raise ConfigError(f"{origin}: {error}") from None


# -- the checks, key by key --------------------------------------------------------


def _declaration(data: dict[str, Any], text: str, origin: str) -> ModelDeclaration:
    unknown = [key for key in data if key not in _TOP_LEVEL_KEYS]
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} (valid keys: {', '.join(_TOP_LEVEL_KEYS)})")
    for required in ("name", "species", "diffusion", "reaction"):
        if required not in data:
            raise ConfigError(f"the key {required!r} is missing")
    name = _text(data["name"], "name", limit=64)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}", name):
        raise ConfigError(f"name: {name!r} must be letters, digits and - _ . + (like gray-scott)")
    species = _species(data["species"])
    parameters = _parameters(data.get("parameters", {}), species)  # a model of numbers alone has none
    parameter_names = [parameter.name for parameter in parameters]
    constants = set(parameter_names)
    diffusion = _per_species(data["diffusion"], "diffusion", species, constants)
    reaction_names = set(species) | constants | set(COORDINATES) | set(DOMAIN_LENGTHS)
    reaction = _per_species(data["reaction"], "reaction", species, reaction_names)
    long_names = _long_names(data.get("long_names", {}), species)
    constraints = tuple(_constraints(data.get("constraints", []), constants))
    steady_states = tuple(_steady_states(data.get("steady_states", []), species, constants))
    initial, noise = _initial(data.get("initial"), species, constants)
    boundary = declared_boundary(data.get("boundary", {}), species, parameter_names)
    noise_terms = _noise(data.get("noise", {}), species, reaction_names)
    presets = _presets(data.get("presets", {}), parameter_names, initial is not None)
    default_preset = data.get("default_preset")
    if default_preset is not None:
        default_preset = _text(default_preset, "default_preset", limit=64)
        if default_preset not in presets:
            valid = ", ".join(presets) or "none declared"
            raise ConfigError(f"default_preset: {default_preset!r} is not one of the presets ({valid})")
    if "metadata" in data and not isinstance(data["metadata"], dict):
        raise ConfigError("metadata must be a table")
    return ModelDeclaration(
        name=name,
        species=species,
        parameters=tuple(parameters),
        diffusion=diffusion,
        reaction=reaction,
        description=_text(data.get("description", ""), "description", limit=2000),
        source=_text(data.get("source", ""), "source", limit=2000),
        long_names=long_names,
        constraints=constraints,
        steady_states=steady_states,
        initial=initial,
        initial_noise=noise,
        boundary=boundary,
        noise=noise_terms,
        presets=presets,
        default_preset=default_preset,
        text=text,
        origin=origin,
    )


def _text(value: Any, key: str, *, limit: int) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{key} must be a string, got {type(value).__name__}")
    if len(value) > limit:
        raise ConfigError(f"{key} is longer than {limit} characters")
    return value


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number, got {type(value).__name__}")
    number = float(value)
    if not math.isfinite(number):
        raise ConfigError(f"{key} must be finite, got {value!r}")
    return number


def check_name(name: Any, key: str) -> str:
    """Check a species or parameter name: an identifier of at most 32 characters, not reserved."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(f"{key}: {str(name)[:40]!r} is not a valid name (an ASCII letter, then ASCII letters, digits or _; "
                          f"at most 32 characters)")  # fmt: skip
    if keyword.iskeyword(name):
        raise ConfigError(f"{key}: {name!r} is a Python keyword, so expressions could not use it; rename it")
    if name in RESERVED_NAMES:
        raise ConfigError(f"{key}: the name {name!r} is reserved; rename it")
    if name.startswith(RESERVED_PREFIXES):
        raise ConfigError(f"{key}: names starting with {', '.join(RESERVED_PREFIXES)} are reserved; rename {name!r}")
    return name


def _species(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise ConfigError('species must be a list of names like ["u", "v"]')
    if len(value) > MAX_SPECIES:
        raise ConfigError(f"species: {len(value)} species; at most {MAX_SPECIES}")
    names = tuple(check_name(name, "species") for name in value)
    if len(set(names)) != len(names):
        raise ConfigError(f"species: {next(n for n in names if names.count(n) > 1)!r} is listed twice")
    return names


def _parameters(value: Any, species: tuple[str, ...]) -> list[ParameterDeclaration]:
    if not isinstance(value, dict):
        raise ConfigError("parameters must be a table (name = value)")
    if len(value) > MAX_PARAMETERS:
        raise ConfigError(f"parameters: {len(value)} parameters; at most {MAX_PARAMETERS}")
    parameters = []
    for name, entry in value.items():
        key = f"parameters.{name}"
        check_name(name, key)
        if name in species:
            raise ConfigError(f"{key}: {name!r} is also a species")
        if isinstance(entry, dict):
            extra = set(entry) - {"value", "units", "description"}
            if extra:
                raise ConfigError(f"{key}: unknown key {sorted(extra)[0]!r} (valid: value, units, description)")
            if "value" not in entry:
                raise ConfigError(f"{key}: the table needs a value")
            parameters.append(ParameterDeclaration(
                name, _number(entry["value"], f"{key}.value"), _text(entry.get("units", "1"), f"{key}.units", limit=64),
                _text(entry.get("description", ""), f"{key}.description", limit=500)))  # fmt: skip
        else:
            parameters.append(ParameterDeclaration(name, _number(entry, key)))
    return parameters


def _per_species(value: Any, table: str, species: tuple[str, ...], names: set[str]) -> dict[str, Expression]:
    if not isinstance(value, dict):
        raise ConfigError(f"{table} must be a table with one entry per species")
    missing = [name for name in species if name not in value]
    if missing:
        raise ConfigError(f"{table}: no entry for species {missing[0]!r}")
    extra = [name for name in value if name not in species]
    if extra:
        raise ConfigError(f"{table}: {extra[0]!r} is not a species (species: {', '.join(species)})")
    return {name: parse_expression(value[name], names, where=f"{table}.{name}") for name in species}


def _long_names(value: Any, species: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError("long_names must be a table (species = text)")
    extra = [name for name in value if name not in species]
    if extra:
        raise ConfigError(f"long_names: {extra[0]!r} is not a species")
    return {name: _text(text, f"long_names.{name}", limit=200) for name, text in value.items()}


def _constraints(value: Any, names: set[str]) -> list[Condition]:
    if not isinstance(value, list):
        raise ConfigError('constraints must be a list of comparisons like ["a > 0"]')
    return [parse_condition(text, names, where=f"constraints[{index}]") for index, text in enumerate(value)]


def _steady_states(value: Any, species: tuple[str, ...], names: set[str]) -> list[dict[str, Expression]]:
    if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
        raise ConfigError("steady_states must be an array of tables ([[steady_states]] with one entry per species)")
    return [_per_species(entry, f"steady_states[{index}]", species, names) for index, entry in enumerate(value)]


def _initial(value: Any, species: tuple[str, ...], names: set[str]) -> tuple[dict[str, Expression] | None, float]:
    if value is None:
        return None, 0.0
    if not isinstance(value, dict):
        raise ConfigError("initial must be a table with one expression per species (and optionally noise)")
    entries = dict(value)
    noise = _number(entries.pop("noise", 0.0), "initial.noise")
    if noise < 0:
        raise ConfigError(f"initial.noise must be >= 0, got {noise}")
    allowed = names | {"x", "y", "z"} | set(DOMAIN_LENGTHS)
    return _per_species(entries, "initial", species, allowed), noise


def _noise(value: Any, species: tuple[str, ...], names: set[str]) -> dict[str, Expression]:
    if not isinstance(value, dict):
        raise ConfigError('noise must be a table (species = "amplitude", like u = "0.01" or v = "sigma*v")')
    extra = [name for name in value if name not in species]
    if extra:
        raise ConfigError(f"noise: {extra[0]!r} is not a species (species: {', '.join(species)})")
    return {name: parse_expression(text, names, where=f"noise.{name}") for name, text in value.items()}


def _presets(value: Any, parameter_names: list[str], has_initial: bool) -> dict[str, PresetDeclaration]:
    if not isinstance(value, dict):
        raise ConfigError("presets must be a table of tables ([presets.NAME])")
    presets = {}
    for name, entry in value.items():
        key = f"presets.{name}"
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name):
            raise ConfigError(f"{key}: {name[:40]!r} is not a valid preset name")
        if not isinstance(entry, dict):
            raise ConfigError(f"{key} must be a table")
        extra = [item for item in entry if item not in _PRESET_KEYS]
        if extra:
            raise ConfigError(f"{key}: unknown key {extra[0]!r} (valid: {', '.join(_PRESET_KEYS)})")
        values = entry.get("parameters", {})
        if not isinstance(values, dict):
            raise ConfigError(f"{key}.parameters must be a table (name = value)")
        for parameter in values:
            if parameter not in parameter_names:
                raise ConfigError(f"{key}.parameters: {parameter!r} is not a parameter "
                                  f"(parameters: {', '.join(parameter_names)})")  # fmt: skip
        dx = _number(entry.get("dx", 1.0), f"{key}.dx")
        dt = None if entry.get("dt") is None else _number(entry["dt"], f"{key}.dt")
        time = _number(entry.get("time", 100.0), f"{key}.time")
        for label, number in (("dx", dx), ("dt", dt), ("time", time)):
            if number is not None and number <= 0:
                raise ConfigError(f"{key}.{label} must be > 0, got {number}")
        initial = entry.get("initial")
        if initial is not None:
            initial = _text(initial, f"{key}.initial", limit=64)
            if initial == "expr" and not has_initial:
                raise ConfigError(f"{key}.initial: 'expr' needs an [initial] table")
        presets[name] = PresetDeclaration(
            name=name,
            parameters={parameter: _number(number, f"{key}.parameters.{parameter}") for parameter, number in values.items()},
            description=_text(entry.get("description", ""), f"{key}.description", limit=500),
            source=_text(entry.get("source", ""), f"{key}.source", limit=2000),
            dx=dx,
            dt=dt,
            time=time,
            initial=initial,
        )  # fmt: skip
    return presets
