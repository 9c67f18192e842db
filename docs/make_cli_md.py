"""Generate docs/cli.md from every rdnet command's --help, sub-commands of groups included.

Run: ``.venv/bin/python docs/make_cli_md.py`` (writes docs/cli.md beside this file).
``tests/cli/test_cli_info.py`` renders the page in memory and compares it with the
committed file, so the reference cannot drift from the commands' ``--help``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from rdnet.cli.main import COMMANDS, cli  # noqa: E402

#: Order of the top-level commands on the page.
ORDER = ["demo", "simulate", "stability", "train", "gan-dynamics", "info", "analyze", "compare", "plot", "animate", "sweep"]
#: Width of the rendered --help texts: what click uses in an 80-column terminal, fixed so the page does not depend on the terminal.
WIDTH = 78
OUTPUT = Path(__file__).with_name("cli.md")

INTRO = """# Command-line reference

`rdnet` is one command with sub-commands. Every sub-command has `--help` (or `-h`) with
the same examples as below; errors are one line naming what was wrong, with exit code 2
for bad input (options, names, files) and 1 for a run that failed after it started.
Commands that write a figure, movie or table refuse an existing file unless given
`--overwrite`, never write over one of their input files, and let a file appear under
its name only when it is complete.

The main job is `rdnet demo`: a Gray-Scott pattern beside the network trained with and
without its adversary, compared with one set of tools; [figures/README.md](figures/README.md)
explains how to read its figures and table. This page is generated from the commands'
`--help` texts (`python docs/make_cli_md.py`), so the examples here and in
`rdnet COMMAND --help` are the same.

One environment variable is read by every command: `RDNET_OPEN_TIMEOUT`, the number of seconds
the NetCDF/HDF5 library may spend opening one input file (default 60). Some damaged HDF5 files
send that library into an endless loop that cannot be interrupted (HDFGroup/hdf5#1707). When the
time is up, rdnet prints one `Error:` line naming the file and exits with code 2.

| command | what it does |
|---|---|
"""


def examples_of(text: str) -> list[str]:
    """The lines of the ``Examples:`` block of a --help text."""
    out, on = [], False
    for line in text.splitlines():
        if line.strip().lower().startswith("examples"):
            on = True
            continue
        if on:
            if line.strip() == "" or line.startswith("Options:") or line.startswith("Commands:"):
                if out:
                    break
                continue
            out.append(line.strip() if not line.startswith("      ") else "  " + line.strip())
    return out


def _walk(command: click.Command, context: click.Context, path: str):
    """``(path, command, context)`` of a command and, for a group, of each of its sub-commands."""
    yield path, command, context
    if isinstance(command, click.Group):
        for name in command.list_commands(context):
            sub = command.get_command(context, name)
            if sub is not None and not sub.hidden:
                yield from _walk(sub, click.Context(sub, info_name=name, parent=context), f"{path} {name}")


def _anchor(path: str) -> str:
    return "#" + path.replace(" ", "-")


def render() -> tuple[str, list[str]]:
    """The page and the commands it could not document fully (no module, no examples)."""
    root = click.Context(cli, info_name="rdnet", terminal_width=WIDTH, **cli.context_settings)
    missing, rows, sections = [], [], []
    names = ORDER + sorted(set(COMMANDS) - set(ORDER))
    for name in names:
        if importlib.util.find_spec(f"rdnet.cli.{COMMANDS[name]}") is None:
            missing.append(f"{name} (no cli module)")
            continue
        command = cli.get_command(root, name)
        for path, sub, context in _walk(command, click.Context(command, info_name=name, parent=root), f"rdnet {name}"):
            text = sub.get_help(context)
            summary = (sub.get_short_help_str(limit=200) or "").rstrip(".")
            examples = examples_of(text)
            if not examples:
                missing.append(f"{path} (no examples in --help)")
            rows.append(f"| [`{path}`]({_anchor(path)}) | {summary} |")
            usage = text.splitlines()[0]
            body = [f"{'##' if path.count(' ') == 1 else '###'} {path}", "", summary + ".", "", "```",
                    usage.replace("Usage: ", ""), "```", ""]  # fmt: skip
            if examples:
                body += ["Examples:", "", "```bash", *examples, "```", ""]
            body += ["<details><summary>full <code>--help</code></summary>", "", "```text", text.rstrip(), "```", "",
                     "</details>", ""]  # fmt: skip
            sections.append("\n".join(body))
    document = INTRO + "\n".join(rows) + "\n\n" + "\n".join(sections)
    return document.rstrip() + "\n", missing


def main() -> None:
    document, missing = render()
    OUTPUT.write_text(document)
    print(f"wrote {OUTPUT}; missing: {missing or 'none'}")


if __name__ == "__main__":
    main()
