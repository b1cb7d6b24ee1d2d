"""Sphinx configuration of the sklr documentation (``make -C doc html``)."""

import os
import re
import sys
from datetime import date

# SciPy reads SCIPY_ARRAY_API once, when first imported (by sklr below); the
# Makefile exports it, this covers a direct ``python -m sphinx`` run.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

# sg_resets.py lives next to this file: sphinx-gallery imports it by name from
# the string in ``reset_modules`` (a string keeps the configuration picklable).
sys.path.insert(0, os.path.abspath("."))

import sklr  # noqa: E402

project = "sklr"
author = "The sklr developers"
copyright = f"{date.today().year}, {author}"
release = sklr.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    # MathJax 3 served from _static/ (no CDN): math renders offline.
    "sphinx-mathjax-offline",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    # Figures drawn at build time from recorded benchmark results (doc/scaling/).
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples", "sg_execution_times.rst"]
root_doc = "index"
default_role = "literal"

# -- autodoc / autosummary / numpydoc ------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

# -- intersphinx: empty by default so that the build needs no network ----------
intersphinx_mapping = {}
if os.environ.get("SKLR_DOCS_INTERSPHINX") == "1":
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
        "matplotlib": ("https://matplotlib.org/stable", None),
    }

# Methods inherited from scikit-learn (score, set_params, set_fit_request, ...)
# link to labels and glossary terms of scikit-learn's own documentation. Offline
# those targets do not exist and would fail the build, so keep their text only.
_SKLEARN_XREF = re.compile(r":(?:ref|term):`([^`<]*?)\s*(?:<([^`>]*)>)?`")


def _unlink_sklearn_xrefs(app, what, name, obj, options, lines):
    if intersphinx_mapping or not getattr(obj, "__module__", "").startswith("sklearn"):
        return
    lines[:] = [
        _SKLEARN_XREF.sub(lambda m: m.group(1) or m.group(2), line) for line in lines
    ]


def _allow_missing_gallery_images(app, config):
    # The user guide's figures are gallery images: without the gallery run
    # (``make html-noplot``) they do not exist, which is no reason to fail.
    if str(config.plot_gallery).lower() in ("0", "false", "no"):
        config.suppress_warnings = [*config.suppress_warnings, "image.not_readable"]


def setup(app):
    app.connect("autodoc-process-docstring", _unlink_sklearn_xrefs)
    app.connect("config-inited", _allow_missing_gallery_images)


# -- sphinx-gallery -------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "doc_module": ("sklr",),
    "reference_url": {"sklr": None},
    "backreferences_dir": "generated",
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib", "sg_resets.reset_sklearn_config"),
    "within_subsection_order": "FileNameSortKey",
}

# -- HTML -----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sklr {release}"
html_theme_options = {
    "navbar_end": ["navbar-icon-links"],
    "secondary_sidebar_items": ["page-toc"],
    "show_prev_next": False,
}
html_static_path = []

# The plot directive: the figure only (its data are the files it reads).
plot_include_source = False
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 100)]
html_show_sourcelink = False
