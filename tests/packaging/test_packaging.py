"""The installed distribution claims only the import names ``rdnet`` and ``rd_classic``.

The repository keeps the click application in its ``cli/`` folder; it installs as ``rdnet.cli``
(``[tool.setuptools.package-dir]`` in pyproject.toml), never as a top-level ``cli`` package.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _configuration() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_the_package_list_names_every_package_folder_of_the_tree():
    settings = _configuration()
    folders = {"rdnet.cli" if name == "cli" else name for name in ("rdnet", "rd_classic", "cli")}
    on_disk = set()
    for top in ("rdnet", "rd_classic", "cli"):
        for init in (ROOT / top).rglob("__init__.py"):
            parts = init.parent.relative_to(ROOT).parts
            if parts[0] == "cli":
                parts = ("rdnet", *parts)
            on_disk.add(".".join(parts))
    assert folders <= on_disk
    assert set(settings["packages"]) == on_disk
    assert {name.split(".")[0] for name in settings["packages"]} == {"rdnet", "rd_classic"}
    assert settings["package-dir"] == {"rdnet.cli": "cli"}


def test_cli_is_not_importable_outside_the_repository_but_rdnet_cli_is(tmp_path):
    def run(code: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True)

    assert "No module named 'cli'" in run("import cli").stderr
    found = run("import rdnet.cli.main as m; print(m.__name__)")
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == "rdnet.cli.main"


def test_python_dash_m_rdnet_runs_the_command_line(tmp_path):
    result = subprocess.run([sys.executable, "-m", "rdnet", "--version"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("rdnet, version ")
