"""The README's Python quick-start runs as printed (slow: about half a minute)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_section_code() -> str:
    section = README.read_text().split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return code


@pytest.mark.slow
def test_the_readme_python_quick_start_runs(tmp_path):
    script = tmp_path / "quick_start.py"
    script.write_text(python_section_code())
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "gray_scott.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "adv.zarr").is_dir() and not (tmp_path / "adv.zarr.partial").exists()
    phase = result.stdout.splitlines()[-1].split()[0]
    assert phase == "convergence"  # the linear theory's phase at η = 2, τ = 0.2, τ̃ = 0.04 (docs/gan_dynamics.md)
