"""What importing rdnet costs and registers: cheap error types, lazy packages, the ``.rd`` accessor."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rdnet.lazy import when_imported

HEAVY = ("xarray", "torch", "rdnet.accessor")


def loaded_after(statement: str) -> list[str]:
    """The heavy modules a fresh interpreter holds after running ``statement``."""
    code = f"{statement}\nimport sys\nprint(' '.join(name for name in {HEAVY!r} if name in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return result.stdout.split()


@pytest.mark.parametrize("module", ["rdnet.errors", "rdnet", "rd_classic", "rd_classic.grids", "rdnet.cli.main", "rdnet.sweep"])
def test_light_modules_import_neither_xarray_nor_torch_nor_the_accessor(module):
    assert loaded_after(f"import {module}") == []


@pytest.mark.parametrize(
    "statement",
    [
        "import rdnet\nimport xarray as xr",  # xarray after rdnet: registered when xarray arrives
        "import xarray as xr\nimport rdnet",  # xarray before rdnet: registered at once
        "import rdnet.errors\nimport xarray as xr",  # any rdnet import registers it
    ],
)
def test_the_rd_accessor_is_there_whenever_rdnet_and_xarray_are(statement):
    code = f"{statement}\nprint(type(xr.Dataset().rd).__name__, type(xr.DataArray([1.0]).rd).__name__)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["RdDatasetAccessor", "RdDataArrayAccessor"]


def test_lazy_package_attributes_are_the_real_objects():
    import rdnet
    import rdnet.analysis
    import rdnet.dataset.reader

    assert rdnet.open_dataset is rdnet.dataset.reader.open_dataset
    assert isinstance(rdnet.__version__, str) and rdnet.__version__
    for name in rdnet.analysis.__all__:
        assert getattr(rdnet.analysis, name) is not None
        assert name in dir(rdnet.analysis)
    with pytest.raises(AttributeError, match="no attribute 'not_a_metric'"):
        rdnet.analysis.not_a_metric  # noqa: B018


def test_when_imported_runs_after_the_module_and_survives_a_failing_callback(tmp_path, monkeypatch):
    (tmp_path / "rdnet_probe_one.py").write_text("VALUE = 41\n")
    (tmp_path / "rdnet_probe_two.py").write_text("VALUE = 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    seen = []
    when_imported("rdnet_probe_one", lambda: seen.append(sys.modules["rdnet_probe_one"].VALUE + 1))
    assert seen == []
    import rdnet_probe_one  # noqa: F401

    assert seen == [42], "the callback runs once, after the module's code"

    def failing():
        raise RuntimeError("boom")

    when_imported("rdnet_probe_two", failing)
    with pytest.warns(UserWarning, match="after importing rdnet_probe_two: RuntimeError: boom"):
        import rdnet_probe_two
    assert rdnet_probe_two.VALUE == 2
    for name in ("rdnet_probe_one", "rdnet_probe_two"):
        monkeypatch.delitem(sys.modules, name)
