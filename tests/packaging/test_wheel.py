"""The wheel ``python -m build`` makes installs into a clean venv, claims only ``rdnet`` and ``rd_classic``, and runs.

Slow (about half a minute): it builds the wheel from a copy of the sources, installs it with
``--no-deps`` into a new venv whose only other path is the dependencies' folder (numpy, torch,
xarray... of the test environment, never the source tree), and runs the smoke test there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "rdnet", "rd_classic", "cli")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("build")
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(source)],
                   check=True, capture_output=True)  # fmt: skip
    (built,) = out.glob("rdnet-*.whl")
    return built


@pytest.fixture(scope="module")
def clean_venv(wheel, tmp_path_factory) -> Path:
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)  # fmt: skip
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()  # fmt: skip
    # the dependencies only: a plain path line (the editable install's own .pth files there are not read)
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv


def test_the_wheel_holds_only_rdnet_and_rd_classic(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert {name.split("/")[0] for name in names} == {"rdnet", "rd_classic", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "rdnet/cli/main.py" in names and "rd_classic/model_files/gray-scott.toml" in names


def test_the_installed_wheel_runs_from_a_clean_venv(clean_venv, tmp_path):
    environment = {**os.environ, "PYTHONPATH": "", "PYTHONNOUSERSITE": "1"}

    def run(*command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=300)

    bin_dir = clean_venv / "bin"
    located = run(str(bin_dir / "python"), "-c", "import rdnet, rd_classic; print(rdnet.__file__, rd_classic.__file__)")
    assert located.returncode == 0, located.stderr
    assert all(str(clean_venv) in path for path in located.stdout.split()), located.stdout
    assert "No module named 'cli'" in run(str(bin_dir / "python"), "-c", "import cli").stderr
    version = run(str(bin_dir / "rdnet"), "--version")
    assert version.returncode == 0 and version.stdout.startswith("rdnet, version 0."), version.stderr
    module = run(str(bin_dir / "python"), "-m", "rdnet", "--version")
    assert module.stdout == version.stdout
    simulated = run(str(bin_dir / "rdnet"), "simulate", "--size", "32", "--steps", "200", "--quiet", "--out", "s.nc")
    assert simulated.returncode == 0, simulated.stderr
    analyzed = run(str(bin_dir / "rdnet"), "analyze", "s.nc")
    assert analyzed.returncode == 0, analyzed.stderr
    assert analyzed.stdout.split()[:3] == ["variable", "time", "wavelength"]
