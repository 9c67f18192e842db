"""What a command line gave: the options set on it, as keywords of the library call behind the command."""

from __future__ import annotations

import os
from typing import Any

import click

from rdnet.errors import ConfigError


def given_options(ctx: click.Context) -> dict[str, Any]:
    """The options of ``ctx`` not left at their defaults (the library call fills in the rest)."""
    return {name: value for name, value in ctx.params.items()
            if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT}  # fmt: skip


def parse_parameters(pairs: tuple[str, ...], *, fields: bool = True) -> dict[str, float | str]:
    """``--param NAME=VALUE`` pairs: a number, or (``fields``) a field's text, checked later."""
    values: dict[str, float | str] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--param needs NAME=VALUE, got {pair!r}")
        if name in values:
            raise ConfigError(f"--param {name} is given twice ({values[name]!r} and {text.strip()!r}); give it once")
        try:
            values[name] = float(text)
        except ValueError:
            if not fields:
                raise ConfigError(f"--param {name} needs a number, got {text!r}") from None
            values[name] = text.strip()
    return values


def cpu_threads(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """Check ``--threads``: 1 to the number of CPUs of this machine (more only slows torch down, and 10**5
    threads ran the machine out of resources; 10**12 overflowed torch's int)."""
    cpus = os.cpu_count() or 1
    if value is not None and not 1 <= value <= cpus:
        raise click.BadParameter(f"{value}: give 1 to {cpus} (the CPUs of this machine)", ctx, param)
    return value


def note_surrogates_that_cannot_label(n_surrogates: int) -> None:
    """Say on stderr, in one line, when ``--surrogates`` is too few for any regime label but homogeneous
    at round-off (1 to 19: their smallest p-value is never below 0.05); 0 skips the test knowingly.
    For a table printed to people; JSON carries the same words in each ``regime_reason``."""
    from rdnet.analysis.regime import check_pattern_surrogates

    try:
        check_pattern_surrogates(n_surrogates)
    except ValueError as too_few:
        click.echo(f"note: {too_few}; the regime of every field above round-off is 'undetermined'", err=True)
