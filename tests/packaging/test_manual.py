"""The reference manual builds with ``sphinx-build -W`` (warnings are errors) and holds the API and the pages.

Slow (about 15 s); skipped where the ``docs`` extra (sphinx, numpydoc, myst-parser) is not installed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_manual_builds_without_warnings_and_documents_the_one_calls(tmp_path):
    for module in ("sphinx", "numpydoc", "myst_parser"):
        pytest.importorskip(module)
    html = tmp_path / "html"
    result = subprocess.run([sys.executable, "-m", "sphinx", "-E", "-W", "-q", "-b", "html", str(ROOT / "docs"),
                             str(html), "-d", str(tmp_path / "doctrees")], capture_output=True, text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    engines = (html / "api" / "engines.html").read_text()
    for name in ("rd_classic.simulate", "rdnet.prd.train", "rdnet.gan_dynamics.simulate"):
        assert f'id="{name}"' in engines, name
    assert "rdnet.accessor.RdDatasetAccessor.plot" in (html / "api" / "analysis.html").read_text()
    assert (html / "_images" / "gray_scott.png").exists(), "the README's figure is shown"
    assert "dispersion relation" in (html / "classic.html").read_text().lower()
