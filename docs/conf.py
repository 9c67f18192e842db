"""Sphinx configuration of rdnet's reference manual.

Build it (HTML in ``docs/_build/html``), warnings as errors::

    pip install -e '.[docs]'
    sphinx-build -W -b html docs docs/_build/html

The Markdown pages under ``docs/`` are read by MyST; the API pages under ``docs/api/`` are
generated from the numpydoc docstrings by autodoc.
"""

from __future__ import annotations

from importlib.metadata import version as installed_version

project = "rdnet"
author = "the rdnet authors"
copyright = "the rdnet authors, MIT licence"
release = installed_version("rdnet")
version = release

extensions = ["sphinx.ext.autodoc", "sphinx.ext.mathjax", "sphinx.ext.viewcode", "numpydoc", "myst_parser"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# autodoc: members in source order, the type hints in the signature only
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_default_options = {"members": True, "undoc-members": False}
# numpydoc: no per-class member tables (autodoc lists the members); no cross-reference guessing
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# MyST: GitHub-style Markdown pages; headings get anchors for links such as page.md#section
myst_heading_anchors = 3
myst_enable_extensions = ["dollarmath"]

html_theme = "alabaster"
html_title = f"rdnet {release}"
