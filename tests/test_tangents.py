"""The table's tangent column (DUAL_WITH_T in csrc/dual_rules.def).

Where partial * tangent under- or overflows while the true product is in
range (reciprocal at x = t = 1e200: -(y y) t is -0.0, the derivative
-1e-200), the rule's tangent column computes the product in another order.
Each case is checked against mpmath (60 digits) on every first-order path:
the scalar Dual, jvp, and DualArray with one tangent row (the fused
kernel) and with three rows (k > 1), out of place and in place, at every
SIMD level (the SIMD loops apply the column after the vector loop).
"""
import math

import mpmath
import numpy as np
import pytest

import dualml
from dualml import Dual, _kernels
from dualml.arrays import DualArray

mp = mpmath.mp

# (rule, arguments, which argument carries the tangent t, t, exact derivative)
CASES = [
    ("reciprocal", (1e200,), 0, 1e200, lambda x, t: -t / x ** 2),
    ("reciprocal", (-1e-300,), 0, 1e-300, lambda x, t: -t / x ** 2),
    ("reciprocal", (1e-300,), 0, 5e-324, lambda x, t: -t / x ** 2),
    ("divide", (1.0, 1e-300), 0, 1e-300, lambda a, b, t: t / b),
    ("divide", (-20.0, -1e300), 1, 1e300, lambda a, b, t: -a * t / b ** 2),
    ("divide", (-20.0, -1e-300), 1, 1e-300, lambda a, b, t: -a * t / b ** 2),
    ("divide", (-1e-300, 1e10), 1, 1e200, lambda a, b, t: -a * t / b ** 2),
    ("power", (1e-300, -0.5), 0, 1e-200, lambda a, b, t: b * a ** (b - 1) * t),
    ("power", (1e-300, 3.0), 0, 1e300, lambda a, b, t: b * a ** (b - 1) * t),
    ("power", (1e-300, -2.0), 1, 1e-300, lambda a, b, t: mpmath.log(a) * a ** b * t),
    ("arctan2", (-1e300, -3.0), 0, 1e300, lambda a, b, t: b * t / (a * a + b * b)),
    ("arctan2", (-3.0, 1e300), 1, 1e300, lambda a, b, t: -a * t / (a * a + b * b)),
    ("hypot", (-1e-300, 1e300), 0, 1e300, lambda a, b, t: a * t / mpmath.hypot(a, b)),
    ("hypot", (-1e300, -3.0), 0, 1e-310, lambda a, b, t: a * t / mpmath.hypot(a, b)),
    # remainder's b-partial -floor(a/b) overflows where a/b does (it was -inf)
    ("remainder", (1e300, 1e-10), 1, 1e-20, lambda a, b, t: -mpmath.floor(a / b) * t),
    ("remainder", (-1e300, 3e-10), 1, -1e-20, lambda a, b, t: -mpmath.floor(a / b) * t),
    # a small quotient keeps its floor: -floor(3.75) t, not -(3.75) t
    ("remainder", (7.5, 2.0), 1, 1e-320, lambda a, b, t: -mpmath.floor(a / b) * t),
    # pow(a, b - 1) with b - 1 rounded was off by |ln a| ulp(b) (3.6e-14 here)
    ("power", (1.1e308, 1e-8), 0, 1e308, lambda a, b, t: b * a ** (b - 1) * t),
    # num / h subnormal in (num / h) t / h: the column's own order lost bits
    ("arctan2", (1e10, 1e-300), 0, 1e200, lambda a, b, t: b * t / (a * a + b * b)),
    # ... and where the product itself is subnormal (found by test_fuzz)
    ("arctan2", (1e-300, -2.1638671485377587e10), 1, 1e10,
     lambda a, b, t: -a * t / (a * a + b * b)),
]

_E = mpmath.exp
_PHI = mpmath.npdf


def _erfd(x, t):
    return 2 / mpmath.sqrt(mpmath.pi) * _E(-x * x) * t


def _gelud(x, t):
    return (mpmath.ncdf(x) + x * _PHI(x)) * t


def _sig(x):
    return 1 / (1 + _E(-x))


# the exponential, logarithmic, hyperbolic, special and activation columns:
# partials that under- or overflow (exp(-745.5) is subnormal, 1/5e-324 is
# inf, cosh(1100) is inf) times a tangent that brings the product back
FAMILY_CASES = [
    ("exp", (-745.5,), 0, 1e200, lambda x, t: _E(x) * t),
    ("exp", (-1100.0,), 0, -1e300, lambda x, t: _E(x) * t),
    ("exp", (-708.9,), 0, 5e-324 * 2 ** 60, lambda x, t: _E(x) * t),
    ("exp", (720.25,), 0, 1e-300, lambda x, t: _E(x) * t),
    ("exp2", (-1100.3,), 0, 1e300, lambda x, t: mpmath.log(2) * 2 ** x * t),
    ("exp2", (1030.7,), 0, -1e-300, lambda x, t: mpmath.log(2) * 2 ** x * t),
    ("expm1", (-800.0,), 0, 1e300, lambda x, t: _E(x) * t),
    ("expm1", (712.0,), 0, 1e-250, lambda x, t: _E(x) * t),
    ("log", (5e-324,), 0, 1e-300, lambda x, t: t / x),
    ("log", (1e-310,), 0, -5e-324, lambda x, t: t / x),
    ("log2", (5e-324,), 0, 1e-300, lambda x, t: t / (x * mpmath.log(2))),
    ("log10", (3e-320,), 0, 1e-300, lambda x, t: t / (x * mpmath.log(10))),
    ("log1p", (1.7e308,), 0, 1e300, lambda x, t: t / (1 + x)),
    ("square", (-1.7e308,), 0, 1e-300, lambda x, t: 2 * x * t),
    ("reciprocal", (1e-310,), 0, 5e-324, lambda x, t: -t / x ** 2),
    ("arctan", (1e160,), 0, 1e200, lambda x, t: t / (1 + x * x)),
    ("arctan", (-1.7e308,), 0, 1e300, lambda x, t: t / (1 + x * x)),
    ("arcsinh", (-1.7e308,), 0, 1e300, lambda x, t: t / mpmath.sqrt(1 + x * x)),
    ("arccosh", (1e308,), 0, -1e300, lambda x, t: t / mpmath.sqrt(x * x - 1)),
    ("sinh", (-1100.0,), 0, 1e-300, lambda x, t: mpmath.cosh(x) * t),
    ("sinh", (712.5,), 0, -1e-200, lambda x, t: mpmath.cosh(x) * t),
    ("cosh", (-1100.0,), 0, 1e-300, lambda x, t: mpmath.sinh(x) * t),
    ("cosh", (800.0,), 0, 5e-324, lambda x, t: mpmath.sinh(x) * t),
    ("tanh", (-700.0,), 0, 1e300, lambda x, t: mpmath.sech(x) ** 2 * t),
    ("tanh", (400.0,), 0, 1e200, lambda x, t: mpmath.sech(x) ** 2 * t),
    ("erf", (-30.0,), 0, 1e200, _erfd),
    ("erf", (27.3,), 0, 1e300, _erfd),
    ("erfc", (30.5,), 0, -1e300, lambda x, t: -_erfd(x, t)),
    ("sigmoid", (-1100.0,), 0, 1e300, lambda x, t: _sig(x) * _sig(-x) * t),
    ("sigmoid", (800.0,), 0, 1e300, lambda x, t: _sig(x) * _sig(-x) * t),
    ("softplus", (-800.0,), 0, 1e300, lambda x, t: _sig(x) * t),
    ("log_sigmoid", (740.0,), 0, 1e200, lambda x, t: _sig(-x) * t),
    ("log_sigmoid", (800.0,), 0, -1e300, lambda x, t: _sig(-x) * t),
    ("silu", (-800.0,), 0, 1e300, lambda x, t: (_sig(x) * (1 + x * _sig(-x))) * t),
    ("silu", (-45.0,), 0, 1e-300, lambda x, t: (_sig(x) * (1 + x * _sig(-x))) * t),
    ("gelu", (-40.0,), 0, 1e200, _gelud),
    ("gelu", (-38.2,), 0, 1e300, _gelud),
    ("elu", (-800.0,), 0, 1e300, lambda x, t: _E(x) * t),
    ("logaddexp", (-800.0, 1e-300), 0, 1e200, lambda a, b, t: _sig(a - b) * t),
    ("logaddexp", (3.0, -790.123), 1, 1e300, lambda a, b, t: _sig(b - a) * t),
]
CASES = CASES + FAMILY_CASES
IDS = [f"{c[0]}{c[1]}-t{c[3]}" for c in CASES]


def _exact(case):
    name, args, which, t, ref = case
    with mpmath.workdps(60):
        v = ref(*[mpmath.mpf(a) for a in args], mpmath.mpf(t))
        return float(v)


def _close(got, exact):
    if abs(exact) < 2.2250738585072014e-308:      # a subnormal result
        return abs(got - exact) <= 4 * 5e-324
    return abs(got - exact) <= 4e-16 * abs(exact)


def _paths(case):
    name, args, which, t, _ = case
    f = getattr(dualml, name)
    seeded = [Dual(a, t) if i == which else a for i, a in enumerate(args)]
    out = {"Dual": f(*seeded).deriv,
           "jvp (scalar)": dualml.jvp(lambda v: f(*[v if i == which else a
                                                    for i, a in enumerate(args)]),
                                      args[which], t, method="scalar")[1]}
    for k in (1, 3):
        ops = []
        for i, a in enumerate(args):
            if i == which:
                d = np.zeros((k, 1))
                d[0, 0] = t
                ops.append(DualArray(np.array([a]), d))
            else:
                ops.append(np.array([a]))
        r = f(*ops) if name in _kernels.BINARY else f(ops[0])
        out[f"DualArray k={k}"] = float(np.asarray(r.deriv)[0, 0])
        if name not in _kernels.BINARY and hasattr(np, name):
            # in place: the output is the input (the fused loop per row)
            getattr(np, name)(ops[0], out=ops[0])
            out[f"DualArray k={k} in place"] = float(np.asarray(ops[0].deriv)[0, 0])
    return out


@pytest.fixture
def plain():
    old = _kernels.set_simd(False)
    yield
    _kernels.set_simd(old)


@pytest.fixture(params=_kernels.simd_levels())
def simd(request):
    old = _kernels.set_simd(request.param)
    yield request.param
    _kernels.set_simd(old)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tangent_column_every_first_order_path(case, simd):
    # within 4 ulp of the exact product on every path and SIMD level, and
    # the same bits on all of them (the columns of the SIMD rules read x
    # and t, not libmvec's value)
    exact = _exact(case)
    got = _paths(case)
    bad = {k: v for k, v in got.items() if not _close(v, exact)}
    assert not bad, (exact, bad)
    assert len(set(got.values())) == 1, got


def test_family_issue_examples():
    assert dualml.exp(Dual(-745.5, 1e200)).deriv == pytest.approx(
        float(mpmath.exp(-745.5) * mpmath.mpf(1e200)), rel=1e-15)
    assert dualml.log(Dual(5e-324, 1e-300)).deriv == pytest.approx(2.0240225330731062e23,
                                                                   rel=1e-15)


@pytest.mark.parametrize("name", ["exp", "tanh", "erf", "sinh", "log"])
def test_simd_block_with_some_columns(name, simd):
    # a block of 600 (several SIMD blocks, a partial one at the end), a
    # strided view, where a few products need the column: those take it,
    # every other element keeps the plain product, bit for bit as the
    # scalar Dual gives each
    rng = np.random.default_rng(5)
    x = rng.uniform(0.5, 2.0, 600)
    t = rng.standard_normal(600)
    edge = {"exp": -745.5, "tanh": 700.0, "erf": 30.0, "sinh": 1100.0, "log": 5e-324}[name]
    tt = {"exp": 1e200, "tanh": 1e300, "erf": 1e300, "sinh": 1e-300, "log": 1e-300}[name]
    for e in (3, 256, 599):
        x[e], t[e] = edge, tt
    f = getattr(dualml, name)
    for step in (1, 2):
        xs, ts = x[::step], t[::step]
        r = f(DualArray(xs.copy(), ts.copy()[None, :]))
        want = [f(Dual(a, b)).deriv for a, b in zip(xs, ts)]
        got = np.asarray(r.deriv)[0]
        if simd == "none":
            assert got.tolist() == want
        for e in range(len(xs)):
            if xs[e] == edge:
                assert got[e] == want[e] != 0.0 and math.isfinite(got[e])
            else:
                assert got[e] == pytest.approx(want[e], rel=1e-14, abs=0.0)


def test_issue_example():
    assert dualml.reciprocal(Dual(1e200, 1e200)).deriv == -1e-200


def test_unit_tangent_is_the_partial():
    # |t| = 1: a seeded Dual gives the rule's partial itself, bit for bit
    for x in (1e200, 1e-300, 3.0):
        y, d = _kernels.partials("reciprocal", np.array([x]))
        assert dualml.reciprocal(Dual(x, 1.0)).deriv == d[0]
        assert dualml.reciprocal(Dual(x, -1.0)).deriv == -d[0]


def test_special_points_keep_their_conventions():
    # where the tangent column is nan or no better, the plain product stays
    assert dualml.reciprocal(Dual(math.inf, 1e300)).deriv == 0.0
    assert dualml.power(Dual(0.0, 1e300), 2.0).deriv == 0.0
    assert math.isnan(dualml.divide(Dual(0.0, 1e300), 0.0).deriv)
    assert dualml.hypot(Dual(0.0, 1e300), 0.0).deriv == 0.0


@pytest.mark.parametrize("inplace", [False, True])
def test_rows_take_the_column_only_where_needed(inplace):
    # k > 1 rows: the plain rows driver, redone by the fused per-row loop
    # only where a product may be one the column replaces; every entry
    # equals the scalar Dual's (the k = 1 rule), ordinary and extreme alike
    rng = np.random.default_rng(11)
    x = rng.uniform(0.5, 2.0, 300)
    t = rng.standard_normal((4, 300))
    x[7], t[2, 7] = 1e-300, 1e300            # x**3's partial underflows; the product does not
    d = DualArray(x.copy(), t.copy())
    if inplace:
        d **= 3.0
        r = d
    else:
        r = d ** 3.0
    got = np.asarray(r.deriv)
    for j in range(4):
        for e in (0, 7, 150, 299):
            assert got[j, e] == (Dual(x[e], t[j, e]) ** 3.0).deriv, (j, e)
    assert got[2, 7] == pytest.approx(3e-300, rel=1e-15)


@pytest.mark.parametrize("name", ["divide", "power", "arctan2", "hypot"])
def test_rows_with_both_operands_dual_take_the_column_where_needed(name):
    # k > 1 rows, both operands dual: the plain rows driver tests each
    # block's two partials and redoes the rows per element only where one
    # is off the normal range; every entry equals the scalar Dual's (the
    # k = 1 rule, d(a, b) = column_a(ta) + column_b(tb)), ordinary and
    # extreme alike
    f = getattr(dualml, name)
    rng = np.random.default_rng(5)
    n = 600                                  # blocks with and without an extreme entry
    a, b = rng.uniform(0.5, 2.0, n), rng.uniform(0.5, 2.0, n)
    ta, tb = rng.standard_normal((3, n)), rng.standard_normal((3, n))
    a[9], b[9], ta[1, 9], tb[1, 9] = 1e200, 1e200, 1e200, 1e200
    a[400], b[400], ta[2, 400], tb[2, 400] = 1e-200, 1e200, 0.0, 1e300
    r = np.asarray(f(DualArray(a, ta), DualArray(b, tb)).deriv)
    for j in range(3):
        for e in (0, 9, 200, 400, 599):
            want = f(Dual(a[e], ta[j, e]), Dual(b[e], tb[j, e])).deriv
            assert r[j, e] == want or (math.isnan(r[j, e]) and math.isnan(want)), (j, e)
    # the column mattered: at a = 1e-200, b = 1e200 divide's b-partial
    # -a/b^2 underflows to 0, while times tb = 1e300 it is -1e-100
    if name == "divide":
        assert r[2, 400] == pytest.approx(-1e-100, rel=1e-15)
