"""Draw rdnet's map from the code's own imports, into docs/architecture.md (a Mermaid graph).

Run: ``.venv/bin/python docs/make_architecture.py`` (rewrites the block between the
``imports`` markers of docs/architecture.md). ``tests/packaging/test_architecture.py``
renders the block in memory and compares it with the committed page, so the picture
cannot drift from the code, and checks the rule of the arrows on the same graph.

The graph's nodes are rdnet's packages and top-level modules (``rd_classic`` is one node,
the CLI folder is ``rdnet.cli``); an arrow A --> B says that some module of A imports
some module of B: solid when at import time, dotted when only inside a function (a
deferred import: the arrow holds, but importing A does not load B).
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "architecture.md"
BEGIN, END = "<!-- imports:begin (docs/make_architecture.py) -->", "<!-- imports:end -->"

#: the nodes of the map, by layer (top: applications; bottom: foundations), and the folder of each
LAYERS: dict[str, list[str]] = {
    "applications": ["rdnet.cli", "rdnet.sweep", "rdnet.fit"],
    "engines": ["rd_classic", "rdnet.prd", "rdnet.gan_dynamics"],
    "analysis, data and plots": ["rdnet.plotting", "rdnet.comparison", "rdnet.accessor", "rdnet.analysis",
                                 "rdnet.dataset"],
    "foundations": ["rdnet.observers", "rdnet.lazy", "rdnet.errors"],
}  # fmt: skip
NODES = [node for nodes in LAYERS.values() for node in nodes]


def module_files() -> Iterator[tuple[str, Path]]:
    """Every module of the distribution with its dotted name (``cli/`` installs as ``rdnet.cli``)."""
    for folder, package in ((ROOT / "rdnet", "rdnet"), (ROOT / "rd_classic", "rd_classic"), (ROOT / "cli", "rdnet.cli")):
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join((package, *parts)), path


def node_of(module: str) -> str | None:
    """The map's node holding a module (None for rdnet's own ``__init__``/``__main__`` and outside modules)."""
    for node in sorted(NODES, key=len, reverse=True):
        if module == node or module.startswith(node + "."):
            return node
    return None


def imports(path: Path, module: str) -> Iterator[tuple[str, bool]]:
    """The modules a file imports, each with whether the import runs when the file is imported."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    deferred_lines = {
        node.lineno
        for function in ast.walk(tree) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
        for node in ast.walk(function) if isinstance(node, (ast.Import, ast.ImportFrom))
    }  # fmt: skip
    type_checking_lines = {
        node.lineno
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and "TYPE_CHECKING" in ast.unparse(block.test)
        for node in ast.walk(block) if isinstance(node, (ast.Import, ast.ImportFrom))
    }  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.lineno in type_checking_lines:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno not in deferred_lines
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:  # ``from rdnet import prd`` imports a module; ``from x import f`` imports x
                name = f"{target}.{alias.name}"
                imported = name if node_of(name) not in (None, node_of(target)) else target
                yield imported, node.lineno not in deferred_lines


def import_graph() -> dict[tuple[str, str], bool]:
    """Arrows between nodes: (importer, imported) to whether any such import runs at import time."""
    arrows: dict[tuple[str, str], bool] = {}
    for module, path in module_files():
        source = node_of(module)
        if source is None:
            continue
        for target_module, eager in imports(path, module):
            target = node_of(target_module)
            if target is None or target == source:
                continue
            arrows[source, target] = arrows.get((source, target), False) or eager
    return arrows


def module_imports() -> dict[str, set[str]]:
    """Every module's imports (eager and deferred), by dotted name: for the layering test."""
    return {module: {name for name, _ in imports(path, module)} for module, path in module_files()}


def render() -> str:
    """The Mermaid block of the map."""
    arrows = import_graph()
    ident = {node: node.replace(".", "_") for node in NODES}
    lines = [BEGIN, "```mermaid", "flowchart TD"]
    for layer, nodes in LAYERS.items():
        lines.append(f'    subgraph {layer.split()[0].strip(",")}["{layer}"]')
        lines += [f'        {ident[node]}["{node}"]' for node in nodes]
        lines.append("    end")
    for (source, target), eager in sorted(arrows.items()):
        lines.append(f"    {ident[source]} {'-->' if eager else '-.->'} {ident[target]}")
    lines += ["```", END]
    return "\n".join(lines)


def updated_page(page: str) -> str:
    """The page with its map block replaced by the current one."""
    before, _, rest = page.partition(BEGIN)
    _, _, after = rest.partition(END)
    return before + render() + after


def main() -> None:
    PAGE.write_text(updated_page(PAGE.read_text()))
    print(f"wrote the import map into {PAGE.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
