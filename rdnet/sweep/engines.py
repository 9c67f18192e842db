"""The engines a sweep can run at its points, each through its one-call function.

A sweep point is one call of an engine's one-call function (:func:`rd_classic.simulate`,
:func:`rdnet.prd.train`) with the sweep's fixed options and the point's values, written to
a file of the sweep's choosing. This registry says, per engine, where that function lives,
which keyword options it takes, which keyword carries model parameters (a swept name that
is no option of the engine is a model parameter there), and which field of its runs the
sweep analyses.
"""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass
from typing import Any, Callable

from rdnet.errors import ConfigError

__all__ = ["Engine", "ENGINES", "engine", "RESERVED_OPTIONS"]

#: options the sweep sets itself at every point (each point's file, no progress bar)
RESERVED_OPTIONS = ("out", "resume", "quiet", "history")


@dataclass(frozen=True)
class Engine:
    """One sweepable engine.

    Parameters
    ----------
    command : str
        The engine's name in a sweep (``"simulate"``, ``"train"``), as ``rdnet sweep COMMAND``.
    public : str
        ``module:function`` of the one-call function, whose keyword-only parameters are the options.
    runner : str
        ``module:function`` that runs those options with a ``history`` and returns a result
        whose ``path`` is the written file.
    parameter_option : str or None
        The option that takes model parameters (a mapping name to value), or None when
        the engine has no model parameters.
    system : str
        The ``system`` attribute of the engine's datasets.
    default_model : str
        The model of a run that names none.
    """

    command: str
    public: str
    runner: str
    parameter_option: str | None
    system: str
    default_model: str

    def options(self) -> tuple[str, ...]:
        """The keyword options of the one-call function."""
        function = _attribute(self.public)
        return tuple(
            name for name, parameter in inspect.signature(function).parameters.items()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY
        )  # fmt: skip

    def run(self, **options: Any) -> Any:
        """Run one point: the runner called with these options (``history`` and ``out`` included)."""
        return _attribute(self.runner)(**options)


def _attribute(path: str) -> Callable[..., Any]:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


#: the engines by sweep command
ENGINES: dict[str, Engine] = {
    "simulate": Engine("simulate", "rd_classic.simulation:simulate", "rd_classic.simulation:run", "param",
                       "classic", "gray-scott"),
    "train": Engine("train", "rdnet.prd.one_call:train", "rdnet.prd.one_call:run", None, "prd", "prd"),
}  # fmt: skip


def engine(command: str) -> Engine:
    """The engine run by a sweep of ``command``.

    Raises
    ------
    ConfigError
        An unknown command (the valid ones are listed).
    """
    try:
        return ENGINES[command]
    except KeyError:
        raise ConfigError(f"cannot sweep {command!r}; valid: {', '.join(ENGINES)}") from None
