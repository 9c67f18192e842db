"""Safety: nothing read from a file or a parameter runs as code; Dask listens on loopback only.

A static scan of the package sources (``rdnet/``, ``rd_classic/``, ``cli/``) with
:mod:`ast`, so comments and strings never count and aliases do: no ``eval``/``exec``/
``compile``, no pickle (``pickle``, ``dill``, ``shelve``, ``marshal``,
``np.load(allow_pickle=True)``, ``pandas.read_pickle``), ``torch.load`` only with
``weights_only=True``, ``yaml`` only through ``safe_load``, no ``shell=True``, no
text parsed by sympy (``sympify``, ``parse_expr``, ``S(text)``) or compiled by it
(``lambdify``: model files are parsed by a whitelist walk). Then
the local Dask cluster of ``rdnet sweep`` is started for real and its scheduler,
workers and dashboard must listen on 127.0.0.1.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from hardening.helpers import REPOSITORY

PACKAGES = ("rdnet", "rd_classic", "cli")
FORBIDDEN_CALLS = {"eval", "exec", "compile", "__import__", "execfile", "input"}
FORBIDDEN_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "shelve", "marshal", "joblib"}
#: sympy functions that parse text with ``eval`` or compile source with ``exec``
SYMPY_TEXT_CALLS = {"sympify", "parse_expr", "lambdify", "S", "parse_latex", "parse_mathematica"}
LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


def package_sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (REPOSITORY / package).rglob("*.py"))


def _dotted(node: ast.AST) -> str:
    """``a.b.c`` of a Name/Attribute chain (empty for anything else)."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _keyword(call: ast.Call, name: str):
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def _is_constant(node, value) -> bool:
    return isinstance(node, ast.Constant) and node.value == value


def unsafe_constructs(source: str, filename: str = "<source>") -> list[str]:
    """Every construct of ``source`` that could run data as code, as ``file:line: what``."""
    tree = ast.parse(source, filename=filename)
    findings = []

    def report(node: ast.AST, what: str) -> None:
        findings.append(f"{filename}:{node.lineno}: {what}")

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    report(node, f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
                report(node, f"from {node.module} import ...")
            for alias in node.names:
                if alias.name in FORBIDDEN_CALLS or alias.name in ("read_pickle", "to_pickle"):
                    report(node, f"from {node.module} import {alias.name}")
                if (node.module or "").split(".")[0] == "sympy" and alias.name in SYMPY_TEXT_CALLS:
                    report(node, f"from {node.module} import {alias.name}")
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            last = name.rsplit(".", 1)[-1]
            if name in FORBIDDEN_CALLS or name in {f"builtins.{call}" for call in FORBIDDEN_CALLS}:
                report(node, f"{name}(...)")
            elif last in ("read_pickle", "to_pickle") or name.endswith("numpy.lib.format.read_array"):
                report(node, f"{name}(...)")
            elif last == "load" and name.split(".")[0] in ("np", "numpy"):
                if not _is_constant(_keyword(node, "allow_pickle"), False) and _keyword(node, "allow_pickle") is not None:
                    report(node, f"{name}(allow_pickle=...) may unpickle")
            elif name == "torch.load" or name.endswith(".torch.load"):
                if not _is_constant(_keyword(node, "weights_only"), True):
                    report(node, f"{name}(...) without weights_only=True")
            elif name in ("yaml.load", "yaml.unsafe_load", "yaml.full_load"):
                report(node, f"{name}(...) (use yaml.safe_load)")
            elif last in SYMPY_TEXT_CALLS and "." in name and name.split(".")[-2] in ("sympy", "sp", "parsing",
                                                                                       "sympy_parser", "utilities"):
                report(node, f"{name}(...) parses or compiles text")
            if _is_constant(_keyword(node, "shell"), True):
                report(node, f"{name}(..., shell=True)")
            if last == "LocalCluster":
                host = _keyword(node, "host")
                if not (isinstance(host, ast.Constant) and host.value in LOOPBACK):
                    report(node, "LocalCluster(...) without host='127.0.0.1'")
                dashboard = _keyword(node, "dashboard_address")
                if dashboard is None or (
                    isinstance(dashboard, ast.Constant)
                    and dashboard.value is not None
                    and not str(dashboard.value).startswith(LOOPBACK)
                ):
                    report(node, "LocalCluster(...) whose dashboard may listen beyond loopback")
    return findings


# ------------------------------------------------------------------ the scanner can fail


@pytest.mark.parametrize(
    "snippet",
    [
        "eval(text)",
        "import builtins\nbuiltins.exec(code)",
        "import pickle\npickle.loads(blob)",
        "from pickle import load",
        "import numpy as np\nnp.load(path, allow_pickle=True)",
        "import torch\ntorch.load(path)",
        "import torch\ntorch.load(path, weights_only=False)",
        "import pandas as pd\npd.read_pickle(path)",
        "import yaml\nyaml.load(text)",
        "import subprocess\nsubprocess.run(line, shell=True)",
        "from dask.distributed import LocalCluster\nLocalCluster(n_workers=2)",
        "from dask.distributed import LocalCluster\nLocalCluster(host='0.0.0.0', dashboard_address=':8787')",
        "from dask.distributed import LocalCluster\nLocalCluster(host='127.0.0.1')",
        "import sympy\nsympy.sympify(text)",
        "import sympy as sp\nsp.sympify(text)",
        "from sympy import sympify",
        "from sympy.parsing.sympy_parser import parse_expr",
        "import sympy\nsympy.parsing.sympy_parser.parse_expr(text)",
        "import sympy\nsympy.lambdify(symbols, expression)",
        "import sympy\nsympy.S(text)",
    ],
)
def test_scanner_flags_unsafe_code(snippet):
    assert unsafe_constructs(snippet), f"the scanner missed: {snippet!r}"


@pytest.mark.parametrize(
    "snippet",
    [
        "import torch\ntorch.load(path, weights_only=True)",
        "import numpy as np\nnp.load(path)",
        "import numpy as np\nnp.load(path, allow_pickle=False)",
        "text = 'eval(x) and pickle'  # eval(y)",
        "model.eval()",
        "import yaml\nyaml.safe_load(text)",
        "from dask.distributed import LocalCluster\nLocalCluster(host='127.0.0.1', dashboard_address='127.0.0.1:0')",
        "from dask.distributed import LocalCluster\nLocalCluster(host='127.0.0.1', dashboard_address=None)",
    ],
)
def test_scanner_accepts_safe_code(snippet):
    assert unsafe_constructs(snippet) == []


# ------------------------------------------------------------------ the package itself


def test_package_sources_exist():
    sources = package_sources()
    assert any(path.parent.name == "rdnet" for path in sources) and any(path.parent.name == "cli" for path in sources)


def test_no_code_from_data_in_package_sources():
    findings = []
    for path in package_sources():
        findings += unsafe_constructs(path.read_text(), str(path.relative_to(REPOSITORY)))
    assert findings == [], "\n".join(findings)


def test_parameters_attribute_is_json_not_code(tmp_path):
    """A ``parameters`` attribute holding Python code is refused as bad JSON, never run."""
    import xarray as xr

    from rdnet.dataset import DatasetError, open_dataset

    marker = tmp_path / "was-run"
    ds = xr.Dataset(
        {"u": (("y", "x"), [[0.0, 1.0], [1.0, 0.0]])},
        coords={"y": [0.0, 1.0], "x": [0.0, 1.0]},
        attrs={"parameters": f"__import__('pathlib').Path({str(marker)!r}).touch()", "system": "classic"},
    )
    path = tmp_path / "code.nc"
    ds.to_netcdf(path, engine="netcdf4")
    with pytest.raises(DatasetError, match="not valid JSON"):
        open_dataset(path)
    assert not marker.exists()


def test_local_dask_cluster_listens_on_loopback_only():
    """Start the sweep's own LocalCluster and look at every address it listens on."""
    pytest.importorskip("distributed")
    from rdnet.sweep import dask_client

    with dask_client(workers=1, echo=lambda line: None) as client:
        info = client.scheduler_info()
        addresses = [client.scheduler.address, *info["workers"]]
        for address in addresses:
            host = address.split("://", 1)[-1].rsplit(":", 1)[0]
            assert host in LOOPBACK, f"listening on {address}"
        dashboard = info.get("services", {}).get("dashboard")
        if dashboard is not None:
            link = client.dashboard_link
            assert any(f"//{host}:" in link for host in LOOPBACK), link
