"""The one translator of the nested column (dualml/_ruleir.py).

The IR and its emitters, the generated array module, and the walk of every
row of the rule table through every path that evaluates it: scalar Dual,
nested scalar Dual, DualArray, nested DualArray, the array Hessian's C
second partials (o2), the scalar hessian, jacobian(gradient) and Taylor mode
(which has its own rules, csrc/taylor.h), at the edge points of
tests/reference.py, each against mpmath (50 digits), with nan required where
the true value is undefined.
"""
import importlib.util
import math
import os
import subprocess
import sys
import warnings

import mpmath
import numpy as np
import pytest

import dualml
from dualml import Dual
from dualml import _kernels as K
from dualml._arraycalc import _hessian_nested, _hessian_o2
from dualml._ruletable import parse_rules

import reference as R

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _load_ir():
    spec = importlib.util.spec_from_file_location(
        "_ruleir_under_test", os.path.join(ROOT, "dualml", "_ruleir.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


IR = _load_ir()
RULES = parse_rules()
KINDS = {r.name: r.kind for r in RULES}


# -- the IR and its emitters ----------------------------------------------------------

def test_parse_builds_typed_tree():
    e = IR.parse_nested("branch(x > 0, 1.0, p * exp(x))", ("x", "y", "p"), KINDS)
    assert e == IR.Branch(">", IR.Var("x"), IR.Num(0.0), IR.Num(1.0),
                          IR.Arith("multiply", IR.Var("p"), IR.Call("exp", (IR.Var("x"),))))
    assert IR.parse_nested("-2.0 * NAN", ("x",), KINDS) == IR.Arith(
        "multiply", IR.Num(-2.0), IR.Const("NAN"))


@pytest.mark.parametrize("expr,msg", [
    ("nope(x)", "unknown function 'nope'"),
    ("x ** 2", "unsupported operator Pow"),
    ("q + x", "unknown name 'q'"),
    ("branch(x, 1.0, 2.0)", "branch needs one comparison"),
    ("elu(x, x)", "needs a constant p"),
    ("hypot(x)", "hypot takes 2 argument"),
    ("'s'", "bad constant"),
])
def test_parse_rejects_outside_grammar(expr, msg):
    with pytest.raises(ValueError, match="nested expression") as e:
        IR.parse_nested(expr, ("x", "y", "p"), KINDS, IR.CONSTANTS)
    assert msg in str(e.value)


def test_emitters_spell_one_tree():
    e = IR.parse_nested("branch(absolute(x) < 30.0, DUAL_2_SQRTPI * exp(-(x * x)), 0.0)",
                        ("x", "y"), KINDS, IR.CONSTANTS)
    assert IR.emit_cython(e) == (
        "(_f_multiply(DUAL_2_SQRTPI, _f_exp(_f_negative(_f_multiply(x, x)))) "
        "if _primal(_f_absolute(x)) < _primal(30.0) else 0.0)")
    assert IR.emit_array(e, KINDS) == (
        "_branch(_C('<', _U('absolute', x), 30.0), _B('multiply', _RC['DUAL_2_SQRTPI'], "
        "_U('exp', _U('negative', _B('multiply', x, x)))), 0.0)")
    code, is_dual = IR.emit_c(e, {"x": ("X_", True), "y": ("Y_", True)}, KINDS)
    assert is_dual and code.startswith("(((dual_absolute(X_)).value < (30.0)) ? ")


def test_every_row_has_one_partial_per_argument():
    table = IR.build(RULES, IR.CONSTANTS)
    for r in RULES:
        parts = table[r.name]
        assert len(parts) == r.nargs
        for p in parts:
            assert p.rule == r.name
            assert (p.expr is None) == (r.nested[p.which] == "CONST")
            assert p.inputs == (("a", "b") if r.kind == "binary" else ("x",))


def test_generated_array_module_is_the_tables():
    # the build wrote dualml/arrays/_nested_rules.py from this very table
    path = os.path.join(ROOT, "dualml", "arrays", "_nested_rules.py")
    with open(path) as fh:
        on_disk = fh.read()
    assert on_disk == IR.array_module(RULES, IR.build(RULES, IR.CONSTANTS))


def test_nothing_parses_the_table_or_evals_at_import(tmp_path):
    code = ("import sys, builtins\n"
            "calls = []\n"
            "real = builtins.eval\n"
            "builtins.eval = lambda *a, **k: (calls.append(a), real(*a, **k))[1]\n"
            "import dualml, dualml.arrays\n"
            "import numpy as np\n"
            "dualml.hessian(lambda v: (np.log(v) * v).sum(), np.array([1.0, 2.0]))\n"
            "bad = [m for m in sys.modules if m.endswith(('_ruletable', '_ruleir'))]\n"
            "assert not bad, bad\n"
            # the standard library's namedtuple evals its own constructors
            "calls = [c for c in calls if not (len(c) > 1 and isinstance(c[1], dict)\n"
            "         and str(c[1].get('__name__', '')).startswith('namedtuple_'))]\n"
            "assert not calls, calls\n")
    # the dualml this test imported (the source tree built in place, or an
    # installed copy), from a directory that holds no other
    where = os.path.dirname(os.path.dirname(os.path.abspath(dualml.__file__)))
    env = dict(os.environ, PYTHONPATH=where + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=tmp_path, env=env)


def test_nan_propagation_is_emitted_alike_for_every_target():
    table = IR.build(RULES, IR.CONSTANTS)
    p = table["log"][0]
    assert IR.cython_partial(p).startswith("_nanprop(y, ") and IR.cython_partial(p).endswith(", x)")
    src = IR.array_module(RULES, table)
    assert "def _nd_log(x, y):\n    return _nanprop(" in src
    assert "def _nda_remainder(a, b, y):\n    return _nanprop(_const_partial('remainder', 0, a, b), y, a, b)" in src
    c = IR.second_order_c(RULES, table)
    assert c.count("dual_nanprop(y, x != x, ") == sum(r.kind != "binary" for r in RULES)
    assert c.count("dual_nanprop(y, a != a || b != b, ") == 3 * sum(r.kind == "binary"
                                                                    for r in RULES)


# -- every row through every path ---------------------------------------------------------
#
# At the reference's generic points (which include tiny, subnormal, huge and
# out-of-domain arguments) every path must match mpmath: nan where the value
# is undefined.  At the written conventions (kinks, domain edges, ties) and
# at +-inf and nan, where mpmath has no second derivative to give, every path
# must give the same number as every other.

LIMITS = (math.inf, -math.inf, math.nan)
RTOL1 = 1e-13
# second derivatives: the table's nested columns are accurate to a few ulp
# times the derivative's condition number; 1e-10 is loose for that and tight
# for any wrong formula (a wrong or dropped term is off by O(1))
RTOL2 = 1e-10
# the array paths may run libmvec's SIMD functions (within 4 ulp) inside
# other rules' partials; path-to-path agreement allows for that
RTOL_PATHS = 1e-12


def _ref(fn, *args):
    # the reference at 800 digits: sympy's derivatives of sigmoid-type and
    # log1p(exp) expressions cancel by up to ~300 digits at the tails and at
    # 1e-300 (R.evaluate's 50 digits then give 0 or a few digits only)
    with mpmath.workdps(800):
        try:
            v = fn(*[mpmath.mpf(t) for t in args])
        except (ZeroDivisionError, ValueError):
            return math.nan
        return R.to_double(v)


def _num(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return np.asarray(fn(), dtype=float)
        except (ZeroDivisionError, OverflowError) as e:   # Python floats in f
            return e


def _agrees(got, ref, rtol):
    if isinstance(got, Exception):
        return False
    got = float(got)
    if math.isnan(ref):
        return math.isnan(got)
    if math.isinf(ref):
        return got == ref
    if abs(ref) < R.TINY:                  # subnormal references: absolute
        return abs(got - ref) <= rtol * R.TINY + 4 * 5e-324
    return abs(got - ref) <= rtol * abs(ref)


def _same(values):
    # every path gives the same number (nan alike, up to a few ulp)
    vals = [float(v) for v in values if not isinstance(v, Exception)]
    first = vals[0]
    for v in vals[1:]:
        if math.isnan(first) or math.isnan(v) or math.isinf(first) or math.isinf(v):
            if not (math.isnan(first) and math.isnan(v)) and first != v:
                return False
        elif abs(v - first) > RTOL_PATHS * max(abs(first), abs(v)) and v != first:
            return False
    return True


def _has_taylor(name):
    try:
        getattr(dualml, name)(dualml.Taylor(0.5, [1.0, 0.0]))
        return True
    except TypeError:
        return False


def _unary_paths(f, t, taylor):
    d = dualml.derivative
    X = np.array([t])
    paths1 = {
        "Dual": _num(lambda: f(Dual(t, 1.0)).deriv),
        "DualArray": _num(lambda: dualml.jvp(f, X, np.ones(1))[1][0]),
    }
    s = lambda v: f(v).sum()                                # noqa: E731
    paths2 = {
        "nested Dual": _num(lambda: d(lambda u: d(f, u), t)),
        "derivative n=2": _num(lambda: d(f, t, n=2)),
        "nested DualArray": _num(lambda: _hessian_nested(s, X, (), None)[0, 0]),
        "array hessian o2": _num(lambda: _hessian_o2(s, X, (), None)[0, 0]),
        "scalar hessian": _num(lambda: dualml.hessian(lambda v: f(v[0]), X,
                                                      method="scalar")[0, 0]),
        "jacobian(gradient)": _num(lambda: dualml.jacobian(
            lambda v: dualml.gradient(s, v), X)[0, 0]),
    }
    if taylor:
        paths1["Taylor"] = _num(lambda: dualml.taylor(f, t, order=1)[1])
        paths2["Taylor"] = _num(lambda: 2.0 * dualml.taylor(f, t, order=2)[2])
    return paths1, paths2


@pytest.fixture
def plain():
    # the plain kernels: bit for bit the scalar rules
    old = K.set_simd(False)
    yield
    K.set_simd(old)


# Taylor mode has its own recurrences (csrc/taylor.h, not the nested
# column); it is walked here at every generic point, and at the edges, limits
# and kinks by tests/test_taylor_edges.py (with the nested paths' own open
# items named there).


@pytest.mark.parametrize("name", sorted(R.UNARY))
def test_every_unary_row_through_every_path(name, plain):
    u = R.UNARY[name]
    taylor = _has_taylor(name)
    failures = []
    for alpha in u.alphas:
        g = getattr(dualml, name)
        f = g if alpha is None else (lambda s, g=g, alpha=alpha: g(s, alpha))
        pa = u.default_alpha if alpha is None else alpha
        args = (lambda t: (t,)) if u.alphas == (None,) else (lambda t: (t, pa))
        for t in tuple(u.points) + tuple(u.interior):
            p1, p2 = _unary_paths(f, t, taylor)
            if u.in_domain(t):
                ref1 = _ref(u.f1, *args(t))
                ref2 = _ref(u.f2, *args(t))
            else:
                ref1 = ref2 = math.nan         # outside the domain: undefined
            for order, paths, ref, rtol in ((1, p1, ref1, RTOL1), (2, p2, ref2, RTOL2)):
                for path, got in paths.items():
                    if not _agrees(got, ref, rtol):
                        failures.append(f"{name} order {order} ({t}, alpha={alpha}) "
                                        f"{path}: {got}, mpmath {ref}")
        for t in tuple(e[0] for e in u.edges) + LIMITS:
            p1, p2 = _unary_paths(f, t, False)
            for paths in (p1, p2):
                if not _same(paths.values()):
                    failures.append(f"{name}({t}, alpha={alpha}): paths disagree {paths}")
    assert not failures, "\n".join(failures[:30])


def _binary_paths(f, s, t):
    d = dualml.derivative
    X = np.array([s, t])
    g = lambda v: f(v[0], v[1])                             # noqa: E731
    y, _, _, faa, fab, fbb = K.partials2(f.__name__, np.array([s]), np.array([t]))
    first = {
        "Dual": _num(lambda: [f(Dual(s, 1.0), t).deriv, f(s, Dual(t, 1.0)).deriv]),
        "DualArray": _num(lambda: dualml.gradient(g, X)),
    }
    second = {
        "C p2": np.array([[faa[0], fab[0]], [fab[0], fbb[0]]]),
        "nested Dual": _num(lambda: [
            [d(lambda u: d(lambda w: f(w, t), u), s), d(lambda v: d(lambda w: f(w, v), s), t)],
            [d(lambda u: d(lambda w: f(u, w), t), s), d(lambda v: d(lambda w: f(s, w), v), t)]]),
        "nested DualArray": _num(lambda: _hessian_nested(g, X, (), None)),
        "array hessian o2": _num(lambda: _hessian_o2(g, X, (), None)),
        "scalar hessian": _num(lambda: dualml.hessian(g, X, method="scalar")),
        "jacobian(gradient)": _num(lambda: dualml.jacobian(lambda v: dualml.gradient(g, v), X)),
    }
    return first, second


@pytest.mark.parametrize("name", sorted(R.BINARY))
def test_every_binary_row_through_every_path(name, plain):
    bf = R.BINARY[name]
    f = getattr(dualml, name)
    failures = []
    for s, t in tuple(bf.pairs) + tuple(bf.interior):
        first, second = _binary_paths(f, s, t)
        if bf.in_domain(s, t):
            ref1 = [_ref(bf.fa, s, t), _ref(bf.fb, s, t)]
            faa, fab, fbb = (_ref(h, s, t) for h in bf.second)
            ref2 = [[faa, fab], [fab, fbb]]
            if bf.db_nan is not None and bf.db_nan(s, t):
                # d/db undefined (a negative base): so is every partial through it
                ref1[1] = ref2[0][1] = ref2[1][1] = math.nan
                ref2[1] = [math.nan, math.nan]
        else:
            ref1 = [math.nan] * 2
            ref2 = [[math.nan] * 2] * 2
        for order, paths, ref, rtol in ((1, first, ref1, RTOL1), (2, second, ref2, RTOL2)):
            for path, got in paths.items():
                if isinstance(got, Exception):
                    failures.append(f"{name}({s}, {t}) {path}: {got!r}")
                    continue
                for idx in np.ndindex(got.shape):
                    r = ref[idx[0]] if order == 1 else ref[idx[0]][idx[1]]
                    if not _agrees(got[idx], r, rtol):
                        failures.append(f"{name}({s}, {t}) order {order} {idx} {path}: "
                                        f"{got[idx]}, mpmath {r}")
    for sp in tuple(bf.specials) + tuple((x, y) for x in LIMITS for y in (0.5, -2.0)):
        s, t = sp[0], sp[1]
        first, second = _binary_paths(f, s, t)
        for paths in (first, second):
            got = [v for v in paths.values() if not isinstance(v, Exception)]
            for idx in np.ndindex(got[0].shape):
                if not _same([v[idx] for v in got]):
                    failures.append(f"{name}({s}, {t}) {idx}: paths disagree "
                                    f"{ {k: v.tolist() for k, v in paths.items() if not isinstance(v, Exception)} }")
    assert not failures, "\n".join(failures[:40])


def test_power_of_a_negative_base_is_nan_on_every_second_order_path():
    # power(-1e300, 1e-300) is a domain error (negative base, non-integer
    # exponent): every entry of its Hessian is undefined; jacobian(gradient)
    # gave 0 for [0, 0] where the other paths gave nan
    f = lambda v: dualml.power(v[0], v[1])                  # noqa: E731
    X = np.array([-1e300, 1e-300])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for H in (dualml.jacobian(lambda v: dualml.gradient(f, v), X),
                  dualml.hessian(f, X), dualml.hessian(f, X, method="scalar"),
                  _hessian_nested(f, X, (), None), _hessian_o2(f, X, (), None)):
            assert np.isnan(H).all(), H
