"""The dataset's variable vocabulary: which variables are fields, which play which role, one snapshot.

Both engines write the same names (``docs/dataset.md``): the species or morphogens ``u``
and ``v``, the two parts of their rate of change ``reaction_<name>`` and
``diffusion_<name>``, and, where a network run's full tensor is large, its per-neuron norm
``<name>_norm``, which stands in for the role. Spatial fields are the data variables whose
last two dims are ``y``, ``x`` (:func:`~rdnet.dataset.convention.spatial_variables`, the
one definition); integer variables that label grid cells (``neuron_index``) are fields
that are not measured by default. Every command that picks a variable by name or role
(``analyze``, ``compare``, ``plot``, ``animate``, ``sweep``) picks it here.
"""

from __future__ import annotations

import numbers
import re
from typing import TYPE_CHECKING

from rdnet.dataset.convention import spatial_variables
from rdnet.dataset.reader import load_snapshot
from rdnet.errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = [
    "SPECIES_ROLES",
    "ROLE_GROUPS",
    "spatial_variables",
    "is_label_variable",
    "missing_variable_message",
    "resolve_role",
    "select_snapshot",
]


#: The species (classic) or morphogens (network) every rdnet dataset stores.
SPECIES_ROLES: tuple[str, ...] = ("u", "v")

#: Names accepted by ``--var`` that stand for several roles at once.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    "species": SPECIES_ROLES,
    "reaction": tuple(f"reaction_{name}" for name in SPECIES_ROLES),
    "diffusion": tuple(f"diffusion_{name}" for name in SPECIES_ROLES),
    "all": SPECIES_ROLES
    + tuple(f"reaction_{name}" for name in SPECIES_ROLES)
    + tuple(f"diffusion_{name}" for name in SPECIES_ROLES),
}

#: Words that mark an integer variable as a label of grid cells (an index, an id), not a field.
_LABEL_WORDS = frozenset({"index", "indices", "label", "labels", "id", "ids", "mask", "class", "category", "region"})


def is_label_variable(variable: xr.DataArray) -> bool:
    """Whether a variable labels grid cells (an integer index, id or class) rather than measuring a field.

    True for boolean variables, for integer variables with CF flag attributes
    (``flag_values``, ``flag_meanings``), and for integer variables whose name or
    ``long_name`` has a word such as ``index``, ``id``, ``label`` or ``mask``
    (a network run's ``neuron_index``). Such variables are left out of the default
    set of fields to analyse or compare; they can still be named explicitly.

    Parameters
    ----------
    variable : xarray.DataArray
        A data variable.

    Returns
    -------
    bool
    """
    kind = variable.dtype.kind
    if kind == "b":
        return True
    if kind not in "iu":
        return False
    if "flag_values" in variable.attrs or "flag_meanings" in variable.attrs:
        return True
    text = f"{variable.name or ''} {variable.attrs.get('long_name', '')}".lower()
    return bool(_LABEL_WORDS.intersection(re.split(r"[^a-z0-9]+", text)))


def missing_variable_message(dataset: xr.Dataset, label: str, name: str, *, norm_fallback: bool = True) -> str:
    """One line saying why ``name`` cannot be compared or drawn: absent, or present but not a spatial field.

    Parameters
    ----------
    dataset : xarray.Dataset
        The dataset.
    label : str
        Its name in the message (a file name).
    name : str
        The variable (or role) asked for.
    norm_fallback : bool, optional
        Whether ``<name>_norm`` was looked for too (a role; not an explicit pairing).

    Returns
    -------
    str
    """
    spatial = ", ".join(spatial_variables(dataset)) or "none"
    if name in dataset.variables:
        return (
            f"variable {name!r} in {label} is not a spatial field (dims {tuple(dataset[name].dims)}, "
            f"need last dims y, x); spatial variables: {spatial}"
        )
    if norm_fallback:
        return f"{label} has no variable {name!r} (nor {name}_norm); its spatial variables are: {spatial}"
    return f"{label} has no spatial variable {name!r}; its spatial variables are: {spatial}"


def resolve_role(dataset: xr.Dataset, role: str) -> str | None:
    """The variable standing for ``role`` in ``dataset``, or None.

    The variable of that exact name wins; otherwise its per-neuron norm
    ``<role>_norm`` (what a network run stores when the full tensor is large).

    Parameters
    ----------
    dataset : xarray.Dataset
        An rdnet dataset.
    role : str
        A role such as ``"v"`` or ``"reaction_u"``.

    Returns
    -------
    str or None
    """
    spatial = spatial_variables(dataset)
    for candidate in (role, f"{role}_norm"):
        if candidate in spatial:
            return candidate
    return None


def select_snapshot(variable: xr.DataArray, time_index: int, *, label: str = "") -> tuple[xr.DataArray, int]:
    """One snapshot of a field, by index along ``time`` (negative counts from the end).

    Parameters
    ----------
    variable : xarray.DataArray
        A field with a leading ``time`` dim.
    time_index : int
        Index along ``time``; ``-1`` is the last snapshot.
    label : str, optional
        The dataset's name, for the error message.

    Returns
    -------
    field : xarray.DataArray
        The snapshot without the ``time`` dim (loaded into memory).
    index : int
        The non-negative index used.

    Raises
    ------
    ConfigError
        When the index is outside ``[-n, n)``, or when the field has no ``time`` dim
        and the index is neither 0 nor -1 (there is one state, no snapshots).
    DatasetError
        When the snapshot is too large to load (see :func:`rdnet.dataset.load_snapshot`).
    """
    if isinstance(time_index, bool) or not isinstance(time_index, numbers.Integral):  # True was snapshot 1
        raise ConfigError(f"--time must be a snapshot index (an integer, -1 for the last), got {time_index!r}")
    time_index = int(time_index)
    if "time" not in variable.dims:  # a static field: the one state there is
        if time_index not in (0, -1):
            where = f"{label}: " if label else ""
            raise ConfigError(
                f"--time {time_index}: {where}{variable.name!r} has no time dimension "
                "(one field, no snapshots); use 0 or -1"
            )
        return load_snapshot(variable, label=label), 0
    count = variable.sizes["time"]
    if not -count <= time_index < count:
        where = f"{label} has" if label else "the file has"
        raise ConfigError(
            f"--time {time_index} is out of range: {where} {count} snapshots "
            f"(use 0..{count - 1}, or -1 for the last)"
        )
    index = time_index % count
    return load_snapshot(variable.isel(time=index), label=label), index
