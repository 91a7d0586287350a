"""The shipped .pyi stubs, py.typed and signatures agree with the compiled module."""
import ast
import inspect
import os

import dualml
import dualml.dual as core


def _stub_functions():
    path = os.path.join(os.path.dirname(core.__file__), "dual.pyi")
    tree = ast.parse(open(path).read())
    funcs, classes = {}, {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs.setdefault(node.name, node)
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name for n in node.body if isinstance(n, ast.FunctionDef)}
    return funcs, classes


def test_py_typed_ships():
    assert os.path.exists(os.path.join(os.path.dirname(dualml.__file__), "py.typed"))


def test_every_public_name_has_a_stub():
    funcs, classes = _stub_functions()
    missing = [n for n in core.__all__ if n not in funcs and n not in classes]
    assert not missing, missing


def test_stub_parameters_match_runtime_signatures():
    funcs, _ = _stub_functions()
    for name in core.__all__:
        if name == "Dual":
            continue
        runtime = list(inspect.signature(getattr(core, name)).parameters)
        stub = [a.arg for a in funcs[name].args.args]
        assert runtime == stub, (name, runtime, stub)


def test_dual_methods_for_numpy_object_loops_are_stubbed():
    _, classes = _stub_functions()
    for name in dualml._rules.UNARY + dualml._rules.BINARY:
        assert name in classes["Dual"], name
        assert callable(getattr(core.Dual, name))


def test_docstrings_and_signatures_for_help():
    for name in core.__all__:
        obj = getattr(core, name)
        assert obj.__doc__ and "Examples" in obj.__doc__, name
    assert str(inspect.signature(dualml.leaky_relu)) == "(x, alpha=0.01)"


def test_docstring_examples_run():
    import doctest
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for name in core.__all__:
        for test in finder.find(getattr(core, name), name, globs={"dualml": dualml}):
            runner.run(test)
    assert runner.failures == 0 and runner.tries > len(core.__all__)


def test_every_constant_of_the_rule_table_is_exported():
    import re
    from dualml._ruletable import parse_rules
    used = set()
    for rule in parse_rules():
        for expr in rule.derivs + rule.nested:
            used |= set(re.findall(r"\b(DUAL_[A-Z0-9_]+|NAN)\b", expr))
    assert used <= set(core.RULE_CONSTANTS), used - set(core.RULE_CONSTANTS)


def test_dualarray_stub_lists_every_public_member():
    from dualml.arrays import _core
    path = os.path.join(os.path.dirname(_core.__file__), "_core.pyi")
    tree = ast.parse(open(path).read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "DualArray")
    stubbed = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    public = {n for n in dir(_core.DualArray) if not n.startswith("_")}
    assert not public - stubbed, sorted(public - stubbed)
    funcs = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(_core.__all__) - {"DualArray"} <= funcs
