"""The map of the house (docs/architecture.md) is current, and the arrows between layers go one way.

Both read the import graph that ``docs/make_architecture.py`` builds from the source with
``ast`` (every import, also those inside functions), so a forbidden arrow fails here
whether or not it runs when a module is imported.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

#: modules that compute (models, grids, schemes, training steps, theory, analysis): no files, plots or CLI
NUMERICS = (
    "rd_classic.backend_torch", "rd_classic.codegen", "rd_classic.expressions", "rd_classic.grids",
    "rd_classic.initial", "rd_classic.integrators", "rd_classic.kernel_cache", "rd_classic.kernels_numba",
    "rd_classic.model_file", "rd_classic.models", "rd_classic.presets", "rd_classic.run", "rd_classic.schemes",
    "rd_classic.stability", "rd_classic.steady_states",
    "rdnet.prd.defaults", "rdnet.prd.layout", "rdnet.prd.networks", "rdnet.prd.run", "rdnet.prd.stability",
    "rdnet.prd.theory", "rdnet.prd.training",
    "rdnet.gan_dynamics.fluctuations", "rdnet.gan_dynamics.model", "rdnet.gan_dynamics.ode",
    "rdnet.gan_dynamics.phases", "rdnet.gan_dynamics.simulation",
    "rdnet.analysis", "rdnet.observers", "rdnet.errors", "rdnet.lazy",
    "rdnet.fit.first_guess", "rdnet.fit.optimise", "rdnet.fit.parameters", "rdnet.fit.run", "rdnet.fit.simulation",
    "rdnet.fit.statistics", "rdnet.fit.uncertainty",
)  # fmt: skip
#: what numerics never import: files (the dataset layer, file formats), plots, command lines, progress bars
INPUT_OUTPUT = (
    "rdnet.dataset", "rdnet.plotting", "rdnet.cli", "rdnet.sweep", "matplotlib", "click", "netCDF4", "h5netcdf",
    "h5py", "zarr", "tqdm", "rd_classic.observers", "rd_classic.resume", "rd_classic.field_files",
    "rd_classic.simulation", "rdnet.prd.output", "rdnet.prd.one_call", "rdnet.prd.snapshots", "rdnet.fit.files",
)  # fmt: skip


def _map_script():
    spec = importlib.util.spec_from_file_location("make_architecture", ROOT / "docs" / "make_architecture.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def test_the_architecture_page_shows_the_current_imports():
    script = _map_script()
    page = (ROOT / "docs" / "architecture.md").read_text()
    assert script.updated_page(page) == page, "docs/architecture.md is stale: run .venv/bin/python docs/make_architecture.py"
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text()


def test_the_rdnet_core_never_imports_rd_classic_the_sweep_the_fit_or_the_cli():
    applications = ["rdnet.cli", "rdnet.sweep", "rdnet.fit"]
    found = {
        (module, name)
        for module, names in _map_script().module_imports().items()
        if _within(module, ["rdnet"]) and not _within(module, [*applications, "rdnet.__main__"])
        for name in names if _within(name, ["rd_classic", *applications])
    }  # fmt: skip
    assert found == set()


def test_the_sweep_library_never_imports_the_cli():
    found = {(module, name) for module, names in _map_script().module_imports().items() if _within(module, ["rdnet.sweep"])
             for name in names if _within(name, ["rdnet.cli"])}  # fmt: skip
    assert found == set()


def test_numerics_import_no_files_plots_or_command_lines():
    imports = _map_script().module_imports()
    numerics = [module for module in imports if _within(module, NUMERICS)]
    assert len(numerics) >= len(NUMERICS)  # every name above is a real module (or package)
    found = {(module, name) for module in numerics for name in imports[module] if _within(name, INPUT_OUTPUT)}
    assert found == set()


def test_the_graph_sees_a_forbidden_arrow(tmp_path, monkeypatch):
    """The checks above can fail: a module that imports the CLI inside a function is an arrow."""
    script = _map_script()
    module = tmp_path / "probe.py"
    module.write_text("def f():\n    from rdnet.cli.main import cli\n    from . import errors\n")
    found = dict(script.imports(module, "rdnet.probe"))
    assert found == {"rdnet.cli.main": False, "rdnet.errors": False}
