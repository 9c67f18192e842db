"""Every public name of the installed packages has a docstring (the reference manual is built from them).

Public: a module's ``__all__`` (or, without one, its names not starting with ``_`` that it
defines itself), and the public methods and properties of a public class. A click command's
docstring is its ``--help`` text.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import click
import pytest

PACKAGES = ("rdnet", "rd_classic")


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        root = importlib.import_module(package)
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]
    return sorted(names)


def _public_names(module) -> list[str]:
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__]  # fmt: skip


def _documented(value) -> bool:
    if isinstance(value, click.Command):
        return bool((value.help or "").strip())
    return bool((inspect.getdoc(value) or "").strip())


def _undocumented(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    missing = [] if _documented(module) else [module_name]
    for name in _public_names(module):
        value = getattr(module, name)
        if not (inspect.isfunction(value) or inspect.isclass(value) or isinstance(value, click.Command)):
            continue  # constants are documented by their #: comments in the source
        if getattr(value, "__module__", module_name) != module_name:
            continue  # checked where it is defined
        if not _documented(value):
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(value) and not isinstance(value, click.Command):
            for member_name, member in vars(value).items():
                if member_name.startswith("_") or not (inspect.isfunction(member) or isinstance(member, property)):
                    continue
                if not _documented(member) and not _inherits_a_docstring(value, member_name):
                    missing.append(f"{module_name}.{name}.{member_name}")
    return missing


def _inherits_a_docstring(cls, name: str) -> bool:
    return any(_documented(getattr(base, name)) for base in cls.__mro__[1:] if hasattr(base, name))


@pytest.mark.parametrize("module_name", _modules())
def test_every_public_function_class_and_method_has_a_docstring(module_name):
    assert _undocumented(module_name) == []


def test_the_check_finds_a_missing_docstring(tmp_path, monkeypatch):
    (tmp_path / "rdnet_probe_docs.py").write_text(
        '"""A module."""\n__all__ = ["bare", "Kept"]\ndef bare():\n    pass\n'
        'class Kept:\n    """Documented."""\n    def method(self):\n        pass\n'
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _undocumented("rdnet_probe_docs") == ["rdnet_probe_docs.bare", "rdnet_probe_docs.Kept.method"]
    monkeypatch.delitem(__import__("sys").modules, "rdnet_probe_docs")
