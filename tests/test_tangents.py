"""The table's tangent column (DUAL_WITH_T in csrc/dual_rules.def).

Where partial * tangent under- or overflows while the true product is in
range (reciprocal at x = t = 1e200: -(y y) t is -0.0, the derivative
-1e-200), the rule's tangent column computes the product in another order.
Each case is checked against mpmath (60 digits) on every first-order path:
the scalar Dual, jvp, and DualArray with one tangent row (the fused
kernel) and with three rows (k > 1).
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
]
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
        r = f(*ops) if len(args) == 2 else f(ops[0])
        out[f"DualArray k={k}"] = float(np.asarray(r.deriv)[0, 0])
    return out


@pytest.fixture
def plain():
    old = _kernels.set_simd(False)
    yield
    _kernels.set_simd(old)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_tangent_column_every_first_order_path(case, plain):
    exact = _exact(case)
    got = _paths(case)
    bad = {k: v for k, v in got.items() if not _close(v, exact)}
    assert not bad, (exact, bad)


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
