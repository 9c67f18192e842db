"""A sweep folder's records: the append-only journal of point events and the manifest of the sweep.

Every start, publication, failure and skip of a point is one JSON line of
``DIR/sweep-journal.jsonl``, appended with a single ``write`` on an ``O_APPEND`` file
(lines of concurrent workers never interleave) and made durable at once. The manifest
``DIR/sweep.json`` names the engine and the fixed options of the sweep, so that a rerun
into the folder continues the same sweep (its axes may grow) and a different one is refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

from rdnet.errors import ConfigError

__all__ = ["JOURNAL_NAME", "MANIFEST_NAME", "record_event", "read_journal", "check_manifest", "write_manifest", "error_line"]

JOURNAL_NAME = "sweep-journal.jsonl"
MANIFEST_NAME = "sweep.json"


def record_event(path: Path, event: str, name: str, **extra: Any) -> None:
    """Append one event line to a journal (durable when this returns).

    Parameters
    ----------
    path : Path
        The journal file.
    event : {"start", "written", "failed", "skipped"}
    name : str
        The point.
    **extra
        More fields (``attempt``, ``wall_time``, ``error``).
    """
    record = {"event": event, "point": name, "pid": os.getpid(), "time": time.time(), **extra}
    line = (json.dumps(record) + "\n").encode()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(descriptor, line)
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_journal(directory: str | os.PathLike) -> list[dict[str, Any]]:
    """All events of a sweep folder's journal, oldest first (a torn last line is ignored).

    Parameters
    ----------
    directory : path
        The sweep folder.

    Returns
    -------
    list of dict
        Each with ``event`` (``start``, ``written``, ``failed``, ``skipped``), ``point``,
        ``pid`` and ``time``; ``written`` and ``failed`` also carry ``wall_time``.
    """
    path = Path(directory) / JOURNAL_NAME
    if not path.exists():
        return []
    events = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            events.append(json.loads(line))
    return events


def _manifest_content(command: str, options: dict[str, Any]) -> dict[str, Any]:
    return {"command": command, "options": json.loads(json.dumps(options))}


def check_manifest(directory: Path, command: str, options: dict[str, Any]) -> None:
    """Refuse a folder holding a sweep of another engine or other fixed options.

    Raises
    ------
    ConfigError
        The folder's manifest names another sweep, or the folder holds ``.nc`` files
        without a manifest.
    """
    manifest = directory / MANIFEST_NAME
    wanted = _manifest_content(command, options)
    if manifest.exists():
        try:
            found = json.loads(manifest.read_text())
        except (OSError, json.JSONDecodeError):
            found = None
        if found is not None and {key: found.get(key) for key in wanted} != wanted:
            old = json.dumps({key: found.get(key) for key in wanted})
            raise ConfigError(
                f"{directory} holds another sweep ({old}); points with other fixed options must go to "
                "another folder (the swept values themselves may change)"
            )
    elif directory.exists() and any(directory.glob("*.nc")):
        raise ConfigError(f"{directory} already holds .nc files that are not from a sweep; choose another folder")


def write_manifest(directory: Path, command: str, options: dict[str, Any]) -> None:
    """Write the folder's manifest once (atomically), if it has none."""
    manifest = directory / MANIFEST_NAME
    if manifest.exists():
        return
    content = {**_manifest_content(command, options), "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    temp = manifest.with_name(manifest.name + ".tmp")
    temp.write_text(json.dumps(content, indent=2) + "\n")
    os.replace(temp, manifest)


def error_line(error: BaseException, text: str | None = None) -> str:
    """An error as one line of at most 500 characters (its type named when the message alone is unclear).

    ``text`` replaces the error's message (e.g. an edited copy of it).
    """
    text = " ".join((str(error) if text is None else text).split()) or type(error).__name__
    if not isinstance(error, Exception) or type(error).__module__ == "builtins":
        text = f"{type(error).__name__}: {text}"
    return text[:500]
