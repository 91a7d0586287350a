"""The documentation cannot rot: every public name is in the API reference,
has a numpydoc docstring whose Examples run, and the guide pages' code runs.

The Sphinx build itself (``-W``: warnings are errors) runs in .ci/run, where
the ``docs`` extra is installed; these tests need only the package.
"""
import doctest
import inspect
import os
import re
import types

import pytest

import dualml

ROOT = os.path.join(os.path.dirname(__file__), os.pardir)
DOCS = os.path.join(ROOT, "docs")

# names that are data, not API to document one by one
NOT_API = {"UNARY", "UNARY_PARAM", "BINARY"}


def public_names():
    out = []
    for name in dir(dualml):
        obj = getattr(dualml, name)
        if name.startswith("_") or name in NOT_API or isinstance(obj, types.ModuleType):
            continue
        out.append(name)
    return out


def api_entries():
    """{module: set of names} listed in docs/api.rst's autosummary tables."""
    text = open(os.path.join(DOCS, "api.rst"), encoding="utf-8").read()
    entries, module = {}, None
    for line in text.splitlines():
        m = re.match(r"^\.\. currentmodule:: (\S+)", line)
        if m:
            module = m.group(1)
        m = re.match(r"^   ([A-Za-z_][A-Za-z0-9_]*)\s*$", line)
        if m:
            entries.setdefault(module, set()).add(m.group(1))
    return entries


def test_api_reference_lists_every_public_name():
    listed = api_entries()
    names = set(public_names())
    assert names - listed["dualml"] == set(), "add these to docs/api.rst"
    assert listed["dualml"] - names == set(), "docs/api.rst lists names dualml does not have"
    import dualml.special as special
    own = {n for n in special.__all__ if getattr(special, n).__module__ == "dualml.special"
           and n != "psi"}                      # psi is digamma's other name
    assert own == listed["dualml.special"]


@pytest.mark.parametrize("name", public_names())
def test_numpydoc_sections(name):
    obj = getattr(dualml, name)
    doc = inspect.getdoc(obj) or ""
    assert "Examples\n--------" in doc or issubclass_warning(obj), name
    if inspect.isroutine(obj) or (callable(obj) and not inspect.isclass(obj)):
        for section in ("Parameters\n----------", "Returns\n-------", "Raises\n------",
                        "See Also\n--------"):
            if (name in ("get_include", "get_kernel_sources")
                    and section.startswith(("Parameters", "Raises"))):
                continue                      # takes no arguments, cannot fail
            assert section in doc, (name, section)
        # the signature is help()'s and inspect's to show, not the docstring's
        # (Cython's embedsignature line is how compiled functions give one)
        if inspect.isfunction(obj):
            assert not doc.startswith(name + "("), name


def issubclass_warning(obj):
    return inspect.isclass(obj) and issubclass(obj, Warning)


@pytest.mark.parametrize("name", public_names())
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    obj = getattr(dualml, name)
    finder = doctest.DocTestFinder(exclude_empty=True, recurse=False)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(obj, name, globs={"dualml": dualml}):
        runner.run(test)
    assert runner.failures == 0, name


def guide_pages():
    pages = [os.path.join(DOCS, "getting-started.md")]
    guide = os.path.join(DOCS, "guide")
    pages += sorted(os.path.join(guide, f) for f in os.listdir(guide) if f.endswith(".md"))
    return pages


@pytest.mark.parametrize("page", guide_pages(), ids=os.path.basename)
def test_guide_python_blocks_run(page, tmp_path, monkeypatch):
    """A guide page's Python blocks run in order in one namespace, as a
    reader pasting them would (a doc that lies is a bug)."""
    text = open(page, encoding="utf-8").read()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    monkeypatch.chdir(tmp_path)
    ns = {"__name__": "__guide__"}
    for i, code in enumerate(blocks):
        if "Client(" in code:               # starts a dask cluster: covered by test_sensitivity
            code = code[:code.index("from dask.distributed")]
        exec(compile(code, f"{os.path.basename(page)} python block {i}", "exec"), ns)


def test_guide_pages_are_in_the_toctree():
    index = open(os.path.join(DOCS, "index.md"), encoding="utf-8").read()
    for page in guide_pages():
        rel = os.path.relpath(page, DOCS)[:-3]
        assert rel in index, rel


def test_examples_have_a_gallery_title():
    """sphinx-gallery (docs/auto_examples) needs each example's docstring to
    open with an underlined title; checked here so a new example fails fast."""
    examples = os.path.join(ROOT, "examples")
    for fname in sorted(os.listdir(examples)):
        if fname.endswith(".py"):
            lines = open(os.path.join(examples, fname), encoding="utf-8").read().split("\n")
            assert lines[0] == '"""' and lines[1].strip(), fname
            assert lines[2] == "=" * len(lines[1]), fname
