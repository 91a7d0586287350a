"""Second derivatives at extreme and special inputs, on every path.

Each case is a point where a nested column of csrc/dual_rules.def gave a
wrong second derivative: nan where the exact value underflows (tanh at 357,
erf at 1e308), 0 where it is a normal number (arctan at 1e100), a dropped
mixed partial (x**y at y = 0), precision lost to cancellation (arcsin at
1e-12, hypot(1, t) at 1e8), or a first slope that was nan or 0 (x**5 at a
subnormal x, hypot when its value overflows).  Every public path that gives
a second derivative is compared with the sympy reference of
tests/reference.py, evaluated by mpmath at 50 digits: derivative of
derivative, hessian on the scalar and on the array backend, jacobian of
gradient, and the C second partials (_kernels.partials2) behind the array
Hessian.
"""
import math

import mpmath as mp
import numpy as np
import pytest

import dualml
from dualml import _kernels as K

import reference as R

D = dualml.derivative
RTOL = 2e-15
TINY_ABS = 16 * 5e-324          # a few units of the subnormal spacing


def close(got, ref, rtol=RTOL):
    if math.isnan(ref):
        return math.isnan(got)
    if math.isinf(ref):
        return got == ref
    return abs(got - ref) <= rtol * abs(ref) + TINY_ABS


def _np_or_dualml(name):
    return getattr(np, name, None) or getattr(dualml, name)


UNARY_PATHS = {
    "derivative(derivative)": lambda name, x: D(lambda u: D(getattr(dualml, name), u), x),
    "hessian scalar": lambda name, x: dualml.hessian(
        lambda v: getattr(dualml, name)(v[0]), [x], method="scalar")[0, 0],
    "hessian array": lambda name, x: dualml.hessian(
        lambda v: _np_or_dualml(name)(v).sum(), np.array([x]), method="array")[0, 0],
    "jacobian(gradient)": lambda name, x: dualml.jacobian(
        lambda v: dualml.gradient(lambda w: _np_or_dualml(name)(w).sum(), v),
        np.array([x]))[0, 0],
    "partials2 (C)": lambda name, x: K.partials2(name, np.array([x]))[2][0],
}

UNARY_CASES = [
    # tanh'' = -2 tanh sech^2: was nan from |x| = 356 on (1/cosh^2 overflowed)
    ("tanh", [1e-12, 1e-5, 0.3, 0.6, 20.0, 355.0, 357.0, -400.0, 710.0, 800.0, 1e300]),
    # erf'' = -4x/sqrt(pi) exp(-x^2): was nan once x*x overflowed
    ("erf", [1e-12, 0.3, 5.0, 27.0, 27.5, 30.0, 40.0, 1e155, 1e308, -1e308]),
    ("erfc", [1e-12, 0.3, 5.0, 27.0, 30.0, 1e155, 1e308, -1e308]),
    # arctan'' = -2x/(1+x^2)^2: was 0 from |x| = 1e77 on, nan at 1e308
    ("arctan", [1e-12, 3.0, 1e8, 1e77, 1e100, -1e100, 1e150, 1e160, 1e308]),
    # (1 - x)(1 + x) differentiated cancels near 0: relative error 1e-16/|x|
    ("arcsin", [1e-12, -1e-8, 1e-3, 0.3, 0.49, 0.5, 0.7, -0.999]),
    ("arccos", [1e-12, -1e-8, 1e-3, 0.3, 0.49, 0.5, 0.7, -0.999]),
    ("arctanh", [1e-12, -1e-8, 1e-3, 0.3, 0.49, 0.5, 0.7, -0.999]),
    # s(x) s(-x) differentiated cancels near 0 (relative error 1e-16/|x|)
    ("sigmoid", [1e-12, 1.6e-4, -0.3, 1.8, 1.9, 2.0, -30.0, 700.0]),
    # x phi(x) differentiated gave x * (0 * inf) = nan once x*x overflowed
    ("gelu", [1e-12, -0.7, 1.0, 39.0, 41.0, -41.0, 1e155, 1e308]),
    # x s(-x) differentiated gave inf * 0 = nan at +-inf; x is replaced by 0
    # from |x| = 760 on, where that term is below the other's last digit
    ("silu", [1e-12, -0.7, 3.0, 50.0, -50.0, 700.0, -700.0, 755.0, -755.0, 759.9,
              -759.9, 760.0, -760.0, 1e300, -1e300]),
]


@pytest.mark.parametrize("name,points", UNARY_CASES, ids=[c[0] for c in UNARY_CASES])
@pytest.mark.parametrize("path", list(UNARY_PATHS))
def test_unary_second_derivative_at_edges(name, points, path):
    u = R.UNARY[name]
    failures = []
    for x in points:
        ref = R.evaluate(u.f2, x)
        got = float(UNARY_PATHS[path](name, x))
        if not close(got, ref):
            failures.append(f"{name}''({x!r}) by {path}: expected {ref!r}, got {got!r}")
    assert not failures, failures


@pytest.mark.parametrize("x", [math.inf, -math.inf])
@pytest.mark.parametrize("path", list(UNARY_PATHS))
def test_silu_second_derivative_at_infinity_is_the_limit_zero(path, x):
    # silu'' = s'(x) (2 + x (1 - 2 s(x))) -> 0 both ways (it was nan)
    assert UNARY_PATHS[path]("silu", x) == 0.0


BINARY_PATHS = {
    "hessian scalar": lambda f, p: dualml.hessian(lambda v: f(v[0], v[1]), list(p),
                                                  method="scalar"),
    "hessian array": lambda f, p: dualml.hessian(lambda v: f(v[0], v[1]), np.array(p),
                                                 method="array"),
    "jacobian(gradient)": lambda f, p: dualml.jacobian(
        lambda v: dualml.gradient(lambda w: f(w[0], w[1]), v), np.array(p)),
    # the mixed partial both ways round: d/db of f_a, and d/da of f_b
    "derivative(derivative)": lambda f, p: np.array(
        [[D(lambda s: D(lambda w: f(w, p[1]), s), p[0]),
          D(lambda s: D(lambda t: f(s, t), p[1]), p[0])],
         [D(lambda t: D(lambda s: f(s, t), p[0]), p[1]),
          D(lambda t: D(lambda w: f(p[0], w), t), p[1])]]),
    "partials2 (C)": lambda f, p: (lambda o: np.array([[o[3][0], o[4][0]],
                                                       [o[4][0], o[5][0]]]))(
        K.partials2(f.__name__, np.array([p[0]]), np.array([p[1]]))),
}

BINARY_CASES = [
    # the mixed partial of x**y at y = 0 is 1/x (it was dropped: 0)
    ("power", [(2.0, 0.0), (0.5, 0.0), (3.0, -0.0), (2.0, 1.0), (1.5, 2.0)]),
    # f_bb = a^2/h^3 = 1e-24 at (1, 1e8) (was 0); h overflows at 1.5e308
    ("hypot", [(1.0, 1e8), (1e8, 1.0), (3.0, -4.0), (0.0, 3.0), (1.5e308, 1.5e308),
               (1e308, -1.7e308), (1e-300, 1e-310)]),
    ("arctan2", [(1.0, 1e8), (1e8, 1.0), (3.0, -4.0), (1e200, 1e200)]),
]


@pytest.mark.parametrize("name,points", BINARY_CASES, ids=[c[0] for c in BINARY_CASES])
@pytest.mark.parametrize("path", list(BINARY_PATHS))
def test_binary_hessian_at_edges(name, points, path):
    bf = R.BINARY[name]
    f = getattr(dualml, name)
    failures = []
    for p in points:
        faa, fab, fbb = (R.evaluate(g, *p) for g in bf.second)
        ref = np.array([[faa, fab], [fab, fbb]])
        got = np.asarray(BINARY_PATHS[path](f, p), dtype=float)
        for i in range(2):
            for j in range(2):
                if not close(got[i, j], ref[i, j]):
                    failures.append(f"{name}{p} H[{i},{j}] by {path}: expected "
                                    f"{ref[i, j]!r}, got {got[i, j]!r}")
    assert not failures, failures


def test_power_hessian_at_zero_exponent_closed_form():
    # the reproducer: d2/dx dy x**y at y = 0 is 1/x
    want = np.array([[0.0, 0.5], [0.5, math.log(2.0) ** 2]])
    for method in ("scalar", "array"):
        H = dualml.hessian(lambda v: v[0] ** v[1], np.array([2.0, 0.0]), method=method)
        np.testing.assert_allclose(H, want, rtol=4e-16, atol=0)


@pytest.mark.parametrize("p", [(-2.0, 0.0), (0.0, 0.0), (0.0, 0.5), (0.0, 1.0), (0.0, -1.0),
                               (-1.5, 3.0)])
def test_power_mixed_partial_is_nan_where_undefined(p):
    # x**y is not differentiable in y at a negative base, nor at base 0 for
    # y <= 1 (it jumps, or f_x is inf around): the mixed partial is nan,
    # the same both ways round and on every path (it was 0 one way, nan the
    # other, so the scalar and the array Hessian disagreed)
    for path, fn in BINARY_PATHS.items():
        H = np.asarray(fn(dualml.power, p), dtype=float)
        assert math.isnan(H[0, 1]) and math.isnan(H[1, 0]), (path, p, H)


def test_power_mixed_partial_at_zero_base_beyond_one_is_zero():
    # at a = 0 and b > 1, f_a = b 0^(b-1) = 0 for all b nearby: f_ab = 0
    for path, fn in BINARY_PATHS.items():
        H = np.asarray(fn(dualml.power, (0.0, 2.0)), dtype=float)
        assert H[0, 1] == 0.0 and H[1, 0] == 0.0, (path, H)
        assert H[0, 0] == 2.0, (path, H)


@pytest.mark.parametrize("b", [5.0, 3.5, 2.5, 1.5, 0.75, 0.1])
@pytest.mark.parametrize("x", [5e-324, 1e-310, 2.2250738585072014e-308, 1e-200])
def test_power_slopes_at_subnormal_and_tiny_base(x, b):
    # (x**b)' = b x^(b-1) and (x**b)'' = b(b-1) x^(b-2): they were nan at a
    # subnormal x where x**(b-1) underflows ((b/x) * 0 = inf * 0), and off
    # by |(b-1) ln x| ulp (4e-14) where b < 1 (pow(x, b-1) of a rounded b-1)
    with np.errstate(all="ignore"):
        import mpmath
        with mpmath.workdps(50):
            B = mpmath.mpf(b)                  # b - 1 exactly, not rounded
            d1 = R.to_double(B * mpmath.mpf(x) ** (B - 1))
            d2 = R.to_double(B * (B - 1) * mpmath.mpf(x) ** (B - 2))
    f = lambda u: u ** b                                    # noqa: E731
    assert close(D(f, x), d1)
    assert close(D(lambda u: D(f, u), x), d2)
    assert close(dualml.hessian(lambda v: v[0] ** b, np.array([x]), method="array")[0, 0], d2)
    _, t = K.binary("power", np.array([x]), np.array([[1.0]]), np.array([b]), None)
    assert close(t[0, 0], d1)


@pytest.mark.parametrize("x", [-5e-324, 1e-310, -1e-300])
def test_hypot_curvature_along_a_subnormal_operand(x):
    # hypot(x, 0) = |x| has no curvature; a/|a| differentiated gave
    # 1/|a| - 1/|a| = inf - inf = nan at a subnormal a
    for path in ("scalar", "array"):
        H = dualml.hessian(lambda v: dualml.hypot(v[0], 0.0), np.array([x]), method=path)
        assert H[0, 0] == 0.0, (path, H)
    assert D(lambda u: D(lambda w: dualml.hypot(w, 0.0), u), x) == 0.0


@pytest.mark.parametrize("x", [5e-324, 1e-310, 1e-200, -3.0])
def test_power_zero_exponent_curvature(x):
    # x**0 is 1: its second derivative is 0 (it was 0 * (-1/x^2) = 0 * inf
    # = nan for x below 1e-154, through the nested f_a = b x^(b-1))
    for method in ("scalar", "array"):
        assert dualml.hessian(lambda v: v[0] ** 0.0, np.array([x]), method=method)[0, 0] == 0.0
    assert D(lambda u: D(lambda w: w ** 0.0, u), x) == 0.0


@pytest.mark.parametrize("a,b", [(1.5e308, 1.5e308), (1e308, -1.7e308), (-1.7e308, 1e300)])
def test_hypot_slope_when_its_value_overflows(a, b):
    # hypot(a, b) is inf, but its slope a / sqrt(a^2 + b^2) is in [-1, 1]
    # (it was 0); every path
    bf = R.BINARY["hypot"]
    ga, gb = R.evaluate(bf.fa, a, b), R.evaluate(bf.fb, a, b)
    for g in (dualml.gradient(lambda v: dualml.hypot(v[0], v[1]), [a, b], method="scalar"),
              dualml.gradient(lambda v: np.hypot(v[0], v[1]), np.array([a, b]), method="array"),
              K.partials("hypot", np.array([a]), np.array([b]))[1:]):
        g = np.ravel(np.asarray(g, dtype=float))
        assert close(g[0], ga, 4e-16) and close(g[1], gb, 4e-16), (g, ga, gb)


DOMAIN_ERRORS = [
    # (name, points outside its domain): the second derivative does not
    # exist there; every path answers nan (the nested scalar path gave 0.0
    # where the slope's own derivative underflowed: 1/x**2 at -1e300)
    ("log", [-1e300, -1.0, -5e-324, -math.inf]), ("log10", [-1e300]), ("log2", [-1e300]),
    ("log1p", [-1e300, -2.0]), ("arctanh", [2.0, -1e300, 1e300]), ("sqrt", [-1e300, -1.0]),
    ("arcsin", [1e300, 2.0]), ("arccos", [-1e300]), ("arccosh", [0.5, -1e300]),
]


@pytest.mark.parametrize("name,points,path", [
    pytest.param(name, points, path, id=f"{name}-{path}")
    for name, points in DOMAIN_ERRORS for path in UNARY_PATHS])
def test_unary_second_derivative_at_domain_errors_is_nan(name, points, path):
    with np.errstate(all="ignore"):
        got = [float(UNARY_PATHS[path](name, x)) for x in points]
    assert all(math.isnan(g) for g in got), (name, path, points, got)


@pytest.mark.parametrize("name", ["erf", "erfc"])
@pytest.mark.parametrize("path", sorted(UNARY_PATHS))
def test_gauss_rules_second_derivative_at_nan_is_nan(name, path):
    # erf''(nan) is undefined: the nested column's branch once took its
    # exact-zero side (meant for |x| >= 30) at nan and gave 0.0
    with np.errstate(all="ignore"):
        assert math.isnan(float(UNARY_PATHS[path](name, math.nan)))
        # the zero side itself stays: erf'' = -4x exp(-x^2)/sqrt(pi) is
        # below 1e-300 there, 0.0 in doubles
        assert float(UNARY_PATHS[path](name, 35.0)) == 0.0


def test_domain_error_keeps_zero_mixed_partials_along_other_variables():
    # nan only along the variables the argument moves with: d/dy of
    # d/dx [log(x) + y**2] at x = -1e300 is 0 on both paths (zero tangent)
    with np.errstate(all="ignore"):
        mixed = D(lambda y: D(lambda x: dualml.log(x) + y * y, -1e300), 1.0)
        Hs = dualml.hessian(lambda v: dualml.log(v[0]) + v[1] ** 2, [-1e300, 1.0],
                            method="scalar")
        Ha = dualml.hessian(lambda v: np.log(v[0]) + v[1] ** 2, np.array([-1e300, 1.0]),
                            method="array")
    assert mixed == 0.0
    for H in (Hs, Ha):
        assert math.isnan(H[0, 0]) and H[0, 1] == H[1, 0] == 0.0 and H[1, 1] == 2.0


@pytest.mark.parametrize("x0", [1e-5, 0.1, 3.3, -9.3e-137, 1e-160, -2.3e-308, 7e200])
def test_quotient_of_a_variable_by_itself_has_zero_hessian_on_the_array_path(x0):
    # x/x == 1: every second derivative is exactly 0 (the scalar path always
    # gave 0; the array path gave -3.8e-6 at 1e-5 from a one-ulp mismatch of
    # the second partials, and nan where 1/x**2 overflows, |x| < 1e-154,
    # until divide's recurrence).  At a subnormal x, 1/x itself overflows
    # and even the first derivative is inf - inf = nan on every path: open,
    # docs/guide/conventions.md.
    x = np.array([x0, 2.0])
    assert np.all(dualml.hessian(lambda v: (v / v).sum(), x) == 0.0)
    # 3x/x rounds to 3 only up to an ulp, so its Hessian is 0 to rounding of
    # the curvature terms (each of size 6/x**2; where that overflows, below
    # 1e-154, the bound is inf: H must still be a number, not nan)
    H = dualml.hessian(lambda v: (3.0 * v / v).sum(), x)
    with np.errstate(over="ignore"):
        assert np.all(np.abs(H) <= 4 * np.finfo(float).eps * 6 / x / x)
    # and a quotient of different variables against the closed form:
    # f = a/b: f_ab = -1/b^2, f_bb = 2a/b^3
    a, b = 1.7, x0 if abs(x0) > 1e-100 and abs(x0) < 1e100 else 0.3
    H = dualml.hessian(lambda v: v[0] / v[1], np.array([a, b]))
    np.testing.assert_allclose(H, [[0.0, -1 / b ** 2], [-1 / b ** 2, 2 * a / b ** 3]], rtol=1e-15)


@pytest.mark.parametrize("b", [1e16, -1e16, 2.0 ** 60, 9007199254740994.0])
def test_power_with_a_huge_even_exponent_has_the_right_sign_at_negative_x(b):
    # |b| >= 2**53: b - 1 is not a double (it rounds to the even b), and
    # a**(b - 1) took the wrong sign at a < 0.  Closed form at x = -1:
    # f'' = b (b - 1) (-1)**(b - 2) = b (b - 1) > 0 for an even b
    ref = float(mp.mpf(b) * (mp.mpf(b) - 1))
    f = lambda x: x ** b
    assert dualml.derivative(f, -1.0) == pytest.approx(-b, rel=1e-15)
    for got in (dualml.derivative(lambda x: dualml.derivative(f, x), -1.0),
                dualml.hessian(lambda v: v[0] ** b, np.array([-1.0]))[0, 0],
                dualml.hessian(lambda v: v[0] ** b, [-1.0])[0, 0],
                dualml.derivative(f, -1.0, n=2)):
        assert got == pytest.approx(ref, rel=1e-15)


# -- mixed partials of power and arctan2 at tiny and infinite operands ---------
#
# Every second-order path (the public ones above, plus the nested DualArray
# and the array Hessian's o2 layout named explicitly) against mpmath at 1200
# digits (a^(b-2) at a = 1e-308 needs ~620 digits before it rounds).

def _every_path(f, p):
    from dualml._arraycalc import _hessian_nested, _hessian_o2
    g = lambda v: f(v[0], v[1])                                # noqa: E731
    X = np.array(p)
    paths = {k: fn(f, p) for k, fn in BINARY_PATHS.items()}
    paths["nested DualArray"] = _hessian_nested(g, X, (), None)
    paths["array hessian o2"] = _hessian_o2(g, X, (), None)
    return {k: np.asarray(v, dtype=float) for k, v in paths.items()}


def _mp_hessian(name, p):
    bf = R.BINARY[name]
    with mp.workdps(1200):
        a, b = mp.mpf(p[0]), mp.mpf(p[1])
        faa, fab, fbb = (R.to_double(g(a, b)) for g in bf.second)
    return np.array([[faa, fab], [fab, fbb]])


MIXED_CASES = [
    # f_a = b [(b-1) a^(b-2)] / f_ab = a^(b-1) + b [ln(a) a^(b-1)]: the
    # bracket overflowed (inf * tiny, inf - inf) where the product does not
    ("power", (1e-170, 1e-170)), ("power", (2.2e-308, 1e-62)),
    ("power", (1e-300, 0.5)), ("power", (1e-300, -0.5)), ("power", (1e-250, 1e-100)),
    ("power", (1e-310, 1e-310)), ("power", (3e-308, 0.75)), ("power", (1e-300, -0.9)),
    # d/da(ln(a) y): y = a^b underflowed, and with it the term a^(b-1)
    ("power", (1e-300, 2.0)), ("power", (1e-200, 1.6)),
    # f_ab = (a^2 - b^2)/(a^2 + b^2)^2 = 0 at |a| = |b|: was inf - inf = nan
    # below 1e-154
    ("arctan2", (1e-300, 1e-300)), ("arctan2", (-1e-300, 1e-300)),
    ("arctan2", (1e-300, -1e-300)), ("arctan2", (-3e-200, -3e-200)),
    ("arctan2", (1e-160, 1e-160)), ("arctan2", (2.0, 1e-300)), ("arctan2", (1e300, 3.0)),
]


@pytest.mark.parametrize("name,p", MIXED_CASES)
def test_mixed_partials_at_tiny_operands_against_mpmath(name, p):
    ref = _mp_hessian(name, p)
    failures = []
    with np.errstate(all="ignore"):
        for path, H in _every_path(getattr(dualml, name), p).items():
            for i in range(2):
                for j in range(2):
                    if not close(H[i, j], ref[i, j], rtol=1e-12):
                        failures.append(f"{name}{p} H[{i},{j}] by {path}: {H[i, j]!r}, "
                                        f"mpmath {ref[i, j]!r}")
    assert not failures, failures


def test_x_to_the_x_curvature_near_1e_170():
    # (x^x)'' = x^x ((ln x + 1)^2 + 1/x): the nested derivative was -inf
    for x in (1e-170, 1e-300, 2e-308):
        with mp.workdps(1200):
            X = mp.mpf(x)
            ref = R.to_double(X ** X * ((mp.log(X) + 1) ** 2 + 1 / X))
        got = D(lambda u: D(lambda w: w ** w, u), x)
        assert close(got, ref, rtol=1e-12), (x, got, ref)


@pytest.mark.parametrize("name,p,limit", [
    # the mixed partial at an infinite operand: the limit, alike both ways
    # round (d/db f_a on the array paths, d/da f_b on the scalar ones); it
    # was nan one way and 0 the other
    ("power", (0.5, math.inf), 0.0), ("power", (math.inf, 0.5), 0.0),
    ("power", (2.0, -math.inf), 0.0), ("power", (math.inf, -2.0), 0.0),
    ("power", (2.0, math.inf), math.inf),
    ("arctan2", (math.inf, 0.5), 0.0), ("arctan2", (0.5, math.inf), 0.0),
    ("arctan2", (-math.inf, -2.0), 0.0), ("arctan2", (3.0, -math.inf), 0.0),
])
def test_mixed_partial_at_an_infinite_operand_is_the_limit_on_every_path(name, p, limit):
    with np.errstate(all="ignore"):
        for path, H in _every_path(getattr(dualml, name), p).items():
            assert H[0, 1] == limit and H[1, 0] == limit, (path, H)
