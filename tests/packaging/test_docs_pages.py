"""The documentation pages hold together: their links resolve, and the model files they print run.

A link to another page, a figure or a heading (``page.md#heading``) must name something that
exists: headings are turned into anchors the way GitHub and MyST (``myst_heading_anchors``) do it,
and ``<a id="...">`` marks an anchor by hand.
Every ``toml`` block of ``docs/models.md`` is a model file a reader copies: each must build a model
and run a few steps.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "docs" / "figures" / "README.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def heading_anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, inline markup and punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = "".join(character for character in text.strip().lower() if character.isalnum() or character in " -_")
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    anchors: set[str] = set()
    seen: dict[str, int] = {}
    for match in re.finditer(r"^#+\s+(.+)$", FENCE.sub("", page.read_text()), flags=re.M):
        anchor = heading_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        anchors.add(anchor if count == 0 else f"{anchor}-{count}")
    return anchors | set(re.findall(r'<a (?:id|name)="([^"]+)"', page.read_text()))


def links_of(page: Path) -> list[str]:
    prose = re.sub(r"`[^`\n]*`", "", FENCE.sub("", page.read_text()))
    return [target for target in LINK.findall(prose) if not re.match(r"[a-z]+:", target)]


def test_the_anchor_rule_is_githubs():
    assert heading_anchor("Solver depth (`benchmarks/bench_solver.py`)") == "solver-depth-benchmarksbench_solverpy"
    assert heading_anchor("Gallery: Gray-Scott regimes, labelled") == "gallery-gray-scott-regimes-labelled"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_link_of_a_page_resolves(page):
    broken = []
    for target in links_of(page):
        path, _, anchor = target.partition("#")
        destination = (page.parent / path) if path else page
        if not destination.exists():
            broken.append(f"{target} (no such file)")
        elif anchor and destination.suffix == ".md" and anchor not in anchors_of(destination):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: {broken}"


def test_the_model_files_printed_in_models_md_run(tmp_path):
    import rd_classic

    blocks = re.findall(r"^```toml\n(.*?)^```", (ROOT / "docs" / "models.md").read_text(), flags=re.S | re.M)
    assert len(blocks) >= 2
    for number, block in enumerate(blocks):
        path = tmp_path / f"model{number}.toml"
        path.write_text(block)
        ds = rd_classic.simulate(model_file=path, size=16, steps=4, dt=1e-3, quiet=True)
        assert ds.sizes["time"] >= 2 and bool(ds["u"].notnull().all()), f"toml block {number + 1} of docs/models.md"


def test_the_python_examples_of_analysis_md_run(tmp_path):
    import subprocess
    import sys

    import rd_classic

    # the files the examples open, small: a 2-D and a 3-D Gray-Scott run
    rd_classic.simulate(model="gray-scott", size="32", steps=20, quiet=True, out=tmp_path / "gs.nc")
    rd_classic.simulate(model="gray-scott", size="8x8x8", steps=4, quiet=True, out=tmp_path / "gs3d.nc")
    blocks = re.findall(r"^```python\n(.*?)^```", (ROOT / "docs" / "analysis.md").read_text(), flags=re.S | re.M)
    assert len(blocks) >= 3
    for number, block in enumerate(blocks):
        script = tmp_path / f"example{number}.py"
        script.write_text(block)
        result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True,
                                timeout=300)  # fmt: skip
        assert result.returncode == 0, f"python block {number + 1} of docs/analysis.md: {result.stderr}"
