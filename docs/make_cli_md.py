"""Generate docs/cli.md from every rdnet command's --help (run: .venv/bin/python docs/make_cli_md.py)."""
import importlib, re, sys
import click
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from cli.main import COMMANDS, cli

ORDER = ["demo", "simulate", "stability", "train", "gan-dynamics", "info", "analyze", "compare", "plot", "animate", "sweep"]
INTRO = """# Command-line reference

`rdnet` is one command with sub-commands. Every sub-command has `--help` (or `-h`) with
the same examples as below; errors are one line naming what was wrong, with exit code 2
for bad input (options, names, files) and 1 for a run that failed after it started.

The main job is `rdnet demo`: a Gray-Scott pattern beside the network trained with and
without its adversary, compared with one set of tools; [figures/README.md](figures/README.md)
explains how to read its figures and table. This page is generated from the commands'
`--help` texts, so the examples here and in `rdnet COMMAND --help` are the same.

One environment variable is read by every command: `RDNET_OPEN_TIMEOUT`, the number of seconds
the NetCDF/HDF5 library may spend opening one input file (default 60). Some damaged HDF5 files
send that library into an endless loop that cannot be interrupted (HDFGroup/hdf5#1707). When the
time is up, rdnet prints one `Error:` line naming the file and exits with code 2.

| command | what it does |
|---|---|
"""

def help_text(name):
    module = importlib.import_module(f"cli.{COMMANDS[name]}")
    command = module.command
    with click.Context(command, info_name=f"rdnet {name}") as ctx:
        return command, command.get_help(ctx)

def examples_of(text):
    lines = text.splitlines()
    out, on = [], False
    for line in lines:
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

missing, rows, sections = [], [], []
for name in ORDER:
    if importlib.util.find_spec(f"cli.{COMMANDS[name]}") is None:
        missing.append(f"{name} (no cli module)")
        continue
    command, text = help_text(name)
    summary = (command.get_short_help_str(limit=200) or "").rstrip(".")
    examples = examples_of(text)
    if not examples:
        missing.append(f"{name} (no examples in --help)")
    rows.append(f"| [`rdnet {name}`](#rdnet-{name}) | {summary} |")
    usage = text.splitlines()[0]
    body = [f"## rdnet {name}", "", summary + ".", "", "```", usage.replace("Usage: ", ""), "```", ""]
    if examples:
        body += ["Examples:", "", "```bash", *examples, "```", ""]
    options = text[text.find("Options:"):] if "Options:" in text else ""
    if isinstance(command, click.Group):
        options = text[text.find("Options:"):]
    body += ["<details><summary>full <code>--help</code></summary>", "", "```text", text.rstrip(), "```", "", "</details>", ""]
    sections.append("\n".join(body))

document = INTRO + "\n".join(rows) + "\n\n" + "\n".join(sections)
open(__import__("pathlib").Path(__file__).with_name("cli.md"), "w").write(document.rstrip() + "\n")
print("missing:", missing)
