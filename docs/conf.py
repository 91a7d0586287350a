"""Sphinx configuration for the dualml documentation.

The user guide pages are Markdown (MyST) under docs/guide/, readable on
their own too; tests/test_docs.py runs their Python blocks.  The API
reference is generated from the docstrings (numpydoc), the examples gallery
from examples/ (sphinx-gallery, run at build time).  The build runs with
``-W`` (warnings are errors) in .ci/run, so a broken docstring or link fails
CI.  It imports the *installed* dualml: build it first.
"""
import os
import sys

import dualml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "_ext"))

project = "dualml"
author = "the dualml developers"
copyright = "2026, the dualml developers"
release = dualml.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.extlinks",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "numpy_coverage",          # docs/_ext: the supported-function table, from the code
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "_gen", "auto_examples/*.ipynb", "auto_examples/*.py", "auto_examples/*.zip"]
root_doc = "index"
templates_path = ["_templates"]

# numpydoc: one page per function (autosummary), no member tables of classes
autosummary_generate = True
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3
# the README's links to repository files (bench/RESULTS.md, images) point at
# the source tree; on the site they resolve through this URL
# NumPy and SciPy names link to their reference pages.  The inventories are
# written from the installed packages (docs/_ext/offline_inventory.py), not
# downloaded: the build machines reach only PyPI, and a -W build must not
# depend on the network.
import offline_inventory  # noqa: E402  (docs/_ext is on sys.path above)

intersphinx_mapping = offline_inventory.intersphinx_mapping(
    os.path.join(os.path.dirname(__file__), "_gen", "inventories"))
numpydoc_xref_param_type = True
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray",
    "array_like": ":term:`numpy:array_like`",
    "csr_array": "scipy.sparse.csr_array",
    "DualArray": "dualml.DualArray",
    "Dual": "dualml.Dual",
}
numpydoc_xref_ignore = {"of", "or", "optional", "default", "shape", "int", "float", "bool",
                        "str", "callable", "tuple", "list", "dict", "None", "sequence",
                        "iterable", "object", "same", "as", "and", "the", "a", "an", "scalar",
                        "number", "function", "positive", "non-negative", "keyword-only"}

extlinks = {
    "numpy": ("https://numpy.org/doc/stable/reference/generated/numpy.%s.html", "numpy.%s"),
}

html_theme = "pydata_sphinx_theme"
html_title = f"dualml {release}"
html_theme_options = {
    "navigation_depth": 2,
    "show_toc_level": 2,
}

# the examples/ scripts as a gallery, run at build time (their output is shown);
# dgsm_vs_salib is a timing comparison that needs SALib and takes seconds:
# shown, not run
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/(?!dgsm_vs_salib)[^/]*\.py$",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "image_scrapers": ("matplotlib",),
}
