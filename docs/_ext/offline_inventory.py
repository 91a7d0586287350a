"""Intersphinx inventories for Python, NumPy and SciPy, written from the installed packages.

Design
------
Intersphinx normally downloads ``objects.inv`` from numpy.org and
docs.scipy.org.  The machines that build this site (CI included) reach only
PyPI, and a ``-W`` build cannot depend on the network, so the inventories are
written here, at build time, from the installed NumPy and SciPy: every public
function, ufunc and class of the modules our pages cite (and the few Python names numpydoc links by
default), with the URL their
reference pages have had for years (``reference/generated/<dotted name>.html``;
NumPy's scalar types live on ``arrays.scalars.html``).  A name that is not
public in the installed version is not listed, so a reference to it stays
plain text instead of becoming a dead link.  Pure Python, no Sphinx import:
tests/test_docs.py checks the file it writes.
"""
import inspect
import os
import sys
import zlib

PYTHON_URL = "https://docs.python.org/3/"
NUMPY_URL = "https://numpy.org/doc/stable/"
SCIPY_URL = "https://docs.scipy.org/doc/scipy/"

# the modules whose names our pages and docstrings cite
NUMPY_MODULES = ("numpy", "numpy.linalg", "numpy.fft", "numpy.random")
SCIPY_MODULES = ("scipy.integrate", "scipy.optimize", "scipy.sparse", "scipy.sparse.linalg",
                 "scipy.special", "scipy.stats", "scipy.linalg")


def _public(module):
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    for name in sorted(set(names)):
        try:
            obj = getattr(module, name)
        except AttributeError:        # listed in __all__ but lazily absent
            continue
        if inspect.ismodule(obj):
            continue
        yield name, obj


def _role(obj):
    if inspect.isclass(obj):
        return "py:class"
    if callable(obj):
        return "py:function"          # ufuncs too: cited as functions
    return None


def numpy_entries():
    """(name, role, relative URL) for NumPy's public callables and glossary terms."""
    import numpy as np
    import importlib

    out = []
    for modname in NUMPY_MODULES:
        module = importlib.import_module(modname)
        for name, obj in _public(module):
            role = _role(obj)
            if role is None:
                continue
            full = f"{modname}.{name}"
            if modname == "numpy" and inspect.isclass(obj) and issubclass(obj, np.generic):
                out.append((full, role, f"reference/arrays.scalars.html#{full}"))
            else:
                out.append((full, role, f"reference/generated/{full}.html"))
    for name in dir(np.ndarray):
        if not name.startswith("_") and callable(getattr(np.ndarray, name)):
            full = f"numpy.ndarray.{name}"
            out.append((full, "py:method", f"reference/generated/{full}.html"))
    for term in ("array_like", "ufunc", "broadcast", "view"):
        out.append((term, "std:term", f"glossary.html#term-{term.replace('_', '-')}"))
    return out


def scipy_entries():
    """(name, role, relative URL) for the public callables of SCIPY_MODULES."""
    import importlib

    out = []
    for modname in SCIPY_MODULES:
        module = importlib.import_module(modname)
        for name, obj in _public(module):
            role = _role(obj)
            if role is not None:
                full = f"{modname}.{name}"
                out.append((full, role, f"reference/generated/{full}.html"))
    return out


def python_entries():
    """(name, role, relative URL[, title]) for the Python names numpydoc links by default."""
    out = [(name, "py:class", f"library/functions.html#{name}")
           for name in ("int", "float", "bool", "complex", "object")]
    out += [(name, "py:class", f"library/stdtypes.html#{name}")
            for name in ("str", "list", "tuple", "dict", "set")]
    out += [(name, "py:data", f"library/constants.html#{name}")
            for name in ("True", "False", "None", "NotImplemented")]
    out += [(f"concurrent.futures.{name}", "py:class", "library/concurrent.futures.html#$")
            for name in ("Executor", "ThreadPoolExecutor", "ProcessPoolExecutor")]
    out += [(term, "std:term", f"glossary.html#term-{term}")
            for term in ("sequence", "iterable", "callable", "mapping")]
    out.append(("bltin-boolean-values", "std:label", "library/stdtypes.html#$", "Boolean Values"))
    return out


def write_inventory(path, project, version, entries):
    """Write ``entries`` as a Sphinx version-2 inventory (zlib-compressed body)."""
    lines = []
    seen = set()
    for name, role, uri, *title in entries:
        if (name, role) in seen:
            continue
        seen.add((name, role))
        # "name domain:role priority uri dispname"; "$" abbreviates the name in
        # the URI, "-" means the display name is the name itself
        if uri.endswith("#" + name):
            uri = uri[:-len(name)] + "$"
        prio = -1 if role == "std:label" else 1
        lines.append(f"{name} {role} {prio} {uri} {title[0] if title else '-'}")
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n")
    body = zlib.compress(("\n".join(lines) + "\n").encode("utf-8"))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(header.encode("ascii") + body)
    return len(lines)


def intersphinx_mapping(outdir):
    """Write the inventories into ``outdir``; the ``intersphinx_mapping`` for conf.py."""
    import numpy
    import scipy

    mapping = {}
    for key, url, mod, entries in (("python", PYTHON_URL, sys, python_entries),
                                   ("numpy", NUMPY_URL, numpy, numpy_entries),
                                   ("scipy", SCIPY_URL, scipy, scipy_entries)):
        path = os.path.join(outdir, f"{key}-objects.inv")
        version = mod.__version__ if mod is not sys else "%d.%d" % sys.version_info[:2]
        write_inventory(path, key, version, entries())
        mapping[key] = (url, path)
    return mapping
