"""The CF encoding of rdnet's files: what makes them pass ``compliance-checker --test cf:1.10``.

rdnet's quantities are mostly dimensionless — model time, lengths in grid units, neuron-grid
positions — and CF has no dimensionless time. This module is the one place that decides how
they are written, so both stores (NetCDF and zarr) and :func:`~rdnet.dataset.write_dataset`
write the same attributes:

- **time**: CF requires a time coordinate (a coordinate named ``time`` included) to have time
  units with a reference date. rdnet writes model time as :data:`TIME_UNITS`: one model time
  unit is written as one second after a *nominal* origin, 1970-01-01, which is not a date of
  anything. The coordinate says so in its ``comment`` and ``long_name``; the values are the
  model times unchanged. :func:`rdnet.open_dataset` reads them as plain numbers
  (``decode_times=False``); plain :func:`xarray.open_dataset` decodes them into datetimes
  after 1970-01-01 unless given ``decode_times=False``.
- **units**: rd_classic's model files write units in model notation (``1/time``,
  ``length^2/time``); :func:`udunits` turns them into UDUNITS (``1/s``, ``1^2/s``) with the
  same convention (model length is dimensionless, model time is written in seconds) and
  keeps the model's notation in ``model_units``. Lengths in another file's units that UDUNITS
  does not know (``pixel``, ``cells``) are counts of grid cells: :func:`cf_length_units` writes
  them as ``1`` and the caller keeps the file's word in ``length_units``.
- **grid coordinates** ``x``, ``y``, ``z`` carry no ``axis`` attribute: CF's ``X``/``Y``/``Z``
  axes mean longitude, latitude and a vertical coordinate to CF tools; rdnet's grids are
  positions on a model domain or on the neuron grid, in the units the ``units`` attribute
  states.
- **global attributes**: ``title``, ``source``, ``history``, ``Conventions`` and, where one
  applies, ``references`` (CF §2.6.2's recommended set; an ``institution`` is not known).

``docs/dataset.md`` lists the checker's results per file kind.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

__all__ = [
    "CONVENTIONS",
    "TIME_UNITS",
    "TIME_CALENDAR",
    "TIME_COMMENT",
    "time_coordinate_attrs",
    "udunits",
    "cf_length_units",
    "variable_attrs",
    "model_time_units",
    "global_attrs",
]

#: The CF version every rdnet file declares (``Conventions``).
CONVENTIONS = "CF-1.10"
#: Units of the ``time`` coordinate: model time written as seconds after a nominal origin.
TIME_UNITS = "seconds since 1970-01-01 00:00:00"
#: Calendar of the ``time`` coordinate (any; the origin is nominal).
TIME_CALENDAR = "proleptic_gregorian"
#: The ``comment`` of the ``time`` coordinate: how to read it.
TIME_COMMENT = (
    "model time is dimensionless; CF requires time units with a reference date, so one model time unit "
    "is written as one second after the nominal origin 1970-01-01 (not a date of anything). Read the "
    "plain numbers with rdnet.open_dataset or xarray.open_dataset(..., decode_times=False). Rates per "
    "model time unit are written in 1/s."
)
#: what a file of each ``system`` holds, for its ``title``
_SYSTEM_TITLES = {
    "classic": "reaction-diffusion simulation",
    "prd": "pseudo-reaction-diffusion view of a network's training",
    "gan-dynamics": "solvable high-dimensional GAN dynamics",
    "sweep": "parameter sweep summary",
    "spectra": "pattern spectra and metrics",
    "prd-stability": "linear-stability modes of a network's training dynamics",
}
_PAPER = (
    "L. Rout, Why Adversarial Interaction Creates Non-Homogeneous Patterns: A Pseudo-Reaction-Diffusion "
    "Model for Turing Instability, AAAI-21"
)
_REFERENCES = {"prd": _PAPER, "prd-stability": _PAPER}
_MODEL_WORDS = (("length", "1"), ("time", "s"))
_SI_PREFIXES = ("Y", "Z", "E", "P", "T", "G", "M", "k", "h", "da", "d", "c", "m", "u", "µ", "n", "p", "f", "a", "z", "y")
_SI_PREFIX_NAMES = ("yotta", "zetta", "exa", "peta", "tera", "giga", "mega", "kilo", "hecto", "deka", "deci",
                    "centi", "milli", "micro", "nano", "pico", "femto", "atto", "zepto", "yocto")  # fmt: skip
#: UDUNITS lengths rdnet writes as they are: a metre with any SI prefix (symbol or name) and a few others
_UDUNITS_LENGTH = re.compile(
    rf"(?:(?:{'|'.join(_SI_PREFIXES)})?m|(?:{'|'.join(_SI_PREFIX_NAMES)})?(?:meter|metre)s?"
    r"|microns?|angstroms?|in|inch(?:es)?|ft|foot|feet|yd|yards?|mi|miles?|au|parsecs?)"
)


def time_coordinate_attrs(long_name: str = "model time") -> dict[str, str]:
    """The attributes of a ``time`` coordinate holding model time.

    Parameters
    ----------
    long_name
        What the time is (``"model time"``, ``"gradient-flow time t = step * lr"``).

    Returns
    -------
    dict
        ``standard_name``, ``long_name`` (marked dimensionless), ``units`` (:data:`TIME_UNITS`),
        ``calendar``, ``axis`` and ``comment``.
    """
    return {
        "standard_name": "time",
        "long_name": f"{long_name} (dimensionless)",
        "units": TIME_UNITS,
        "calendar": TIME_CALENDAR,
        "axis": "T",
        "comment": TIME_COMMENT,
    }


def udunits(units: str) -> str:
    """Model notation to UDUNITS: the words ``length`` and ``time`` become ``1`` and ``s``.

    Model length is dimensionless and model time is written in seconds (:data:`TIME_UNITS`);
    units already in UDUNITS (``m``, ``mol/L``, ``1``) are unchanged.

    Parameters
    ----------
    units
        A ``units`` text (``"1/time"``, ``"length^2/time"``, ``"(1/time)^2"``).

    Returns
    -------
    str
        ``"1/s"``, ``"1^2/s"``, ``"(1/s)^2"``.

    Examples
    --------
    >>> udunits("length^2/time"), udunits("1"), udunits("m")
    ('1^2/s', '1', 'm')
    """
    text = str(units)
    for word, replacement in _MODEL_WORDS:
        text = re.sub(rf"\b{word}\b", replacement, text)
    return text


def cf_length_units(units: str) -> str:
    """The ``units`` to write for a length given in ``units``: itself if UDUNITS knows it, else ``1``.

    A grid's lengths in units UDUNITS does not know (another tool's ``pixel``, ``cells``,
    ``grid units``) are counts of grid cells, dimensionless to CF; the caller keeps the
    original word in an attribute ``length_units``. Recognised as they are: ``1``, the
    metre with any SI prefix (``m``, ``mm``, ``um``, ``micrometer``, ``km``) and ``micron``,
    ``angstrom``, ``in``, ``ft``, ``yd``, ``mi``, ``au``, ``parsec``; anything else, a
    valid but rarer length included, is written as ``1`` (still CF-valid).

    Parameters
    ----------
    units
        A grid coordinate's ``units`` (``""`` when it has none).

    Returns
    -------
    str
        ``units`` unchanged, or ``"1"``.

    Examples
    --------
    >>> cf_length_units("mm"), cf_length_units("pixel"), cf_length_units("")
    ('mm', '1', '1')
    """
    text = str(units).strip()
    return text if _UDUNITS_LENGTH.fullmatch(text) else "1"


def variable_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """A variable's attributes with ``units`` in UDUNITS and the model's notation kept in ``model_units``.

    Parameters
    ----------
    attrs
        The attributes (``units`` in model notation or UDUNITS).

    Returns
    -------
    dict
        A copy; ``model_units`` is added only where :func:`udunits` changed the text.
    """
    out = dict(attrs)
    units = out.get("units")
    if isinstance(units, str) and units != TIME_UNITS:
        converted = udunits(units)
        if converted != units:
            out["units"] = converted
            out.setdefault("model_units", units)
    return out


def model_time_units(attrs: Mapping[str, Any]) -> str:
    """The units of model time to show beside a time value: empty for dimensionless time.

    Parameters
    ----------
    attrs
        The ``time`` coordinate's attributes (rdnet's encoding, an older rdnet file's ``1``,
        or another tool's units).

    Returns
    -------
    str
        ``""`` for rdnet's nominal encoding and for ``1``; another file's units unchanged.
    """
    units = str(attrs.get("units", "")).strip()
    return "" if units in ("", "1", TIME_UNITS) else units


def global_attrs(*, system: str, model: str, version: str, title: str | None = None) -> dict[str, str]:
    """CF's recommended global attributes besides ``history`` and ``Conventions``.

    Parameters
    ----------
    system, model
        The file's ``system`` and ``model``.
    version
        rdnet's version, for ``source``.
    title
        Default: what the system's files hold, and the model.

    Returns
    -------
    dict
        ``title``, ``source`` and, for the network engine's files, ``references``.
    """
    attrs = {
        "title": title or f"rdnet {_SYSTEM_TITLES.get(system, 'dataset')}: {model}",
        "source": f"rdnet {version}",
    }
    if system in _REFERENCES:
        attrs["references"] = _REFERENCES[system]
    return attrs


def encode(ds):
    """A copy of an in-memory dataset with rdnet's CF encoding (for :func:`~rdnet.dataset.write_dataset`).

    Every ``units`` goes through :func:`variable_attrs`; a ``time`` coordinate gets
    :func:`time_coordinate_attrs` (its ``long_name`` kept) when its units are model time
    (:func:`model_time_units` is empty); ``x``, ``y``, ``z`` lose an ``axis`` attribute.

    Parameters
    ----------
    ds : xarray.Dataset

    Returns
    -------
    xarray.Dataset
    """
    ds = ds.copy()
    for name in list(ds.data_vars) + list(ds.coords):
        variable = ds[name]
        attrs = variable_attrs(variable.attrs)
        if name == "time" and not model_time_units(variable.attrs):
            long_name = str(attrs.get("long_name", "model time")).removesuffix(" (dimensionless)")
            attrs.update(time_coordinate_attrs(long_name))
        elif name in ("x", "y", "z"):
            attrs.pop("axis", None)
        variable.attrs = attrs
    return ds
