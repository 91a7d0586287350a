"""Taylor mode's C rules (csrc/taylor.h through dualml._taylor._core).

Every row of the rule table against mpmath at 50 digits: the Taylor
coefficients of f(x(t)) for a random input polynomial x(t), at the table's
interior points (tests/reference.py, written from the mathematics), orders
1..12; the kink and domain-edge conventions; the C table against
dualml.UNARY/UNARY_PARAM/BINARY.
"""
import math

import mpmath
import numpy as np
import pytest
import reference as R

import dualml
from dualml import Taylor
from dualml._taylor import _core

ORDERS = tuple(range(1, 13))
KMAX = max(ORDERS)


def _series(x0, seed):
    """x(t) = x0 + t + small random higher coefficients (a composition)."""
    rng = np.random.default_rng(seed)
    c = np.zeros(KMAX + 1)
    c[0] = x0
    c[1] = 1.0
    c[2:5] = rng.uniform(-0.3, 0.3, 3)
    return c


def _ref(f, series):
    """mpmath's Taylor coefficients of t -> f(x(t)) at t = 0, 50 digits."""
    with mpmath.workdps(R.DPS):
        cs = [mpmath.mpf(float(c)) for c in series]

        def g(t):
            return f(sum(c * t ** k for k, c in enumerate(cs)))
        return [float(v) for v in mpmath.taylor(g, 0, KMAX)]


def _ref2(f, sa, sb):
    with mpmath.workdps(R.DPS):
        ca = [mpmath.mpf(float(c)) for c in sa]
        cb = [mpmath.mpf(float(c)) for c in sb]

        def g(t):
            return f(sum(c * t ** k for k, c in enumerate(ca)),
                     sum(c * t ** k for k, c in enumerate(cb)))
        return [float(v) for v in mpmath.taylor(g, 0, KMAX)]


def _close(got, ref, label):
    got = np.asarray(got)
    ref = np.asarray(ref[:len(got)])
    scale = np.max(np.abs(ref)) + 1e-300
    # relative 1e-10 per coefficient, or 1e-15 of the largest (a coefficient
    # that is 0 to the reference's rounding)
    err = np.abs(got - ref)
    ok = err <= 1e-10 * np.abs(ref) + 1e-15 * scale
    assert ok.all(), (label, got.tolist(), ref)


def _unary_cases():
    for name in dualml.UNARY + dualml.UNARY_PARAM:
        u = R.UNARY[name]
        for i, x0 in enumerate(u.interior):
            yield name, x0, i


@pytest.mark.parametrize("name,x0,i", list(_unary_cases()))
def test_unary_rule_against_mpmath(name, x0, i):
    u = R.UNARY[name]
    series = _series(x0, i)
    if name in dualml.UNARY_PARAM:
        alpha = 0.3
        ref = _ref(lambda t: u.f0(t, alpha), series)
        fn = lambda t: getattr(dualml, name)(t, alpha)
    else:
        ref = _ref(u.f0, series)
        fn = getattr(dualml, name)
    for K in ORDERS:
        got = fn(Taylor(series[:K + 1])).coefficients
        _close(got, ref, (name, x0, K))


def _binary_cases():
    for name in dualml.BINARY:
        for i, (a0, b0) in enumerate(R.BINARY[name].interior):
            yield name, a0, b0, i


@pytest.mark.parametrize("name,a0,b0,i", list(_binary_cases()))
def test_binary_rule_against_mpmath(name, a0, b0, i):
    f = R.BINARY[name].f0
    sa, sb = _series(a0, i), _series(b0, i + 10)
    sb[1] = -0.5                                  # the two operands move differently
    fn = getattr(dualml, name)
    # a negative base is real only for a constant integer exponent (the
    # moving-exponent case is nan: test_domain_errors_are_nan_everywhere)
    moving_b = not (name == "power" and a0 < 0)
    if moving_b:
        ref = _ref2(f, sa, sb)
        for K in ORDERS:
            _close(fn(Taylor(sa[:K + 1]), Taylor(sb[:K + 1])).coefficients, ref, (name, K))
        ref_b = _ref2(lambda s, t: f(mpmath.mpf(a0), t), sa, sb)
        _close(fn(a0, Taylor(sb[:8])).coefficients, ref_b, (name, "const a"))
    # one constant operand: the other rule bodies (constant -> zero series)
    ref_a = _ref2(lambda s, t: f(s, mpmath.mpf(b0)), sa, sb)
    _close(fn(Taylor(sa[:8]), b0).coefficients, ref_a, (name, "const b"))


def test_every_rule_of_the_table_has_a_taylor_rule():
    # the C tables are X-macros over dual_rules.def (a row without a
    # taylor_<name> does not compile); here: same rows, same order
    assert _core.UNARY_RULES == tuple(dualml.UNARY)
    assert _core.UNARY_PARAM_RULES == tuple(dualml.UNARY_PARAM)
    assert _core.BINARY_RULES == tuple(dualml.BINARY)
    from dualml._ruletable import parse_rules
    names = {r.name for r in parse_rules()}
    assert names == set(_core.UNARY_RULES + _core.UNARY_PARAM_RULES + _core.BINARY_RULES)
    assert len(names) == 56


def test_order_one_matches_the_dual():
    # value and first coefficient are the Dual's (the same dual.h rule)
    for name in dualml.UNARY:
        for x0 in R.UNARY[name].interior:
            t = getattr(dualml, name)(Taylor([x0, 1.0, 0.0]))
            d = getattr(dualml, name)(dualml.Dual(x0, 1.0))
            assert t.value == d.value, name
            assert t.coefficients[1] == pytest.approx(d.deriv, rel=1e-15, abs=1e-300), name


def test_random_compositions_against_mpmath():
    rng = np.random.default_rng(7)
    smooth = [("sin", mpmath.sin), ("exp", mpmath.exp), ("tanh", mpmath.tanh),
              ("arctan", mpmath.atan), ("erf", mpmath.erf),
              ("sigmoid", lambda t: 1 / (1 + mpmath.exp(-t))), ("cos", mpmath.cos),
              ("softplus", lambda t: mpmath.log(1 + mpmath.exp(t)))]
    for trial in range(6):
        picks = [smooth[i] for i in rng.integers(0, len(smooth), 4)]
        c = rng.uniform(0.5, 1.5, 4)
        x0 = float(rng.uniform(-1, 1))

        def fd(t, picks=picks, c=c):
            y = t
            for (n, _), ci in zip(picks, c):
                y = getattr(dualml, n)(ci * y) + t * y / 3
            return y

        def fm(t, picks=picks, c=c):
            y = t
            for (_, g), ci in zip(picks, c):
                y = g(ci * y) + t * y / 3
            return y
        ref = _ref(fm, _series(x0, trial))
        got = fd(Taylor(_series(x0, trial))).coefficients
        _close(got, ref, [n for n, _ in picks])


# -- conventions at kinks, steps and domain edges ----------------------------------

def _c(t):
    return t.coefficients.tolist()


def test_constant_input_gives_a_constant():
    # the zero-tangent convention: sqrt(0), log(0) of a constant series
    assert _c(dualml.sqrt(Taylor([0.0, 0.0, 0.0]))) == [0.0, 0.0, 0.0]
    assert _c(dualml.log(Taylor([0.0, 0.0, 0.0]))) == [-math.inf, 0.0, 0.0]


@pytest.mark.parametrize("name,expected", [
    ("absolute", [0.0, 0.0, 0.0]), ("relu", [0.0, 0.0, 0.0]), ("sign", [0.0, 0.0, 0.0]),
    ("floor", [0.0, 0.0, 0.0]), ("ceil", [0.0, 0.0, 0.0]), ("trunc", [0.0, 0.0, 0.0]),
    ("rint", [0.0, 0.0, 0.0])])
def test_kinks_at_zero(name, expected):
    assert _c(getattr(dualml, name)(Taylor([0.0, 1.0, 2.0]))) == expected


def test_kinks_are_locally_linear_on_the_side_of_the_value():
    assert _c(dualml.absolute(Taylor([-2.0, 1.0, 3.0]))) == [2.0, -1.0, -3.0]
    assert _c(dualml.relu(Taylor([2.0, 1.0, 3.0]))) == [2.0, 1.0, 3.0]
    assert _c(dualml.floor(Taylor([2.5, 1.0, 3.0]))) == [2.0, 0.0, 0.0]
    # leaky_relu: slope alpha at 0; elu: alpha * expm1 on the left, at 0 too
    assert _c(dualml.leaky_relu(Taylor([0.0, 1.0, 2.0]), 0.1)) == [0.0, 0.1, 0.2]
    assert _c(dualml.elu(Taylor([0.0, 1.0, 2.0]), 0.5)) == [0.0, 0.5, 1.25]
    assert _c(dualml.elu(Taylor([1.0, 1.0, 2.0]), 0.5)) == [1.0, 1.0, 2.0]


def test_ties_split_half_and_half():
    assert _c(dualml.maximum(Taylor([1.0, 1.0, 2.0]), Taylor([1.0, 3.0, 0.0]))) == [1.0, 2.0, 1.0]
    assert _c(dualml.minimum(Taylor([1.0, 1.0, 2.0]), Taylor([1.0, 3.0, 0.0]))) == [1.0, 2.0, 1.0]
    assert _c(dualml.fmax(Taylor([1.0, 1.0, 2.0]), 1.0)) == [1.0, 0.5, 1.0]
    assert _c(dualml.maximum(Taylor([2.0, 1.0, 2.0]), Taylor([1.0, 3.0, 0.0]))) == [2.0, 1.0, 2.0]
    # hypot at the origin: the Dual's slope 0 (the kink of abs)
    assert _c(dualml.hypot(Taylor([0.0, 1.0, 0.0]), Taylor([0.0, 1.0, 0.0]))) == [0.0, 0.0, 0.0]


def test_roots_and_powers_at_zero_are_one_sided():
    inf = math.inf
    # sqrt(t): +inf, -inf, +inf (the derivatives of t^(1/2) as t -> 0+)
    assert _c(dualml.sqrt(Taylor([0.0, 1.0, 0.0, 0.0]))) == [0.0, inf, -inf, inf]
    # sqrt(t^2) = |t|: order 1 is the Dual's, 0 for a tangent x_1 = 0 (abs's
    # slope at 0); then |t| = t on t > 0; the last coefficient needs x beyond
    # degree K
    got = _c(dualml.sqrt(Taylor([0.0, 0.0, 1.0, 0.0])))
    assert got[:3] == [0.0, 0.0, 0.0] and math.isnan(got[3])
    # sqrt(-t) is real for t < 0: the limits from that side, (-t)^(1/2)'s
    # derivatives -inf, -inf/2!, -3/8 (-t)^(-5/2)/3! -> -inf
    assert _c(dualml.sqrt(Taylor([0.0, -1.0, 0.0, 0.0]))) == [0.0, -inf, -inf, -inf]
    # cbrt is real on both sides: cbrt(-t)'' is +inf from the right and -inf
    # from the left (nan, as the nested Dual); the third derivative -inf on both
    got = _c(dualml.cbrt(Taylor([0.0, -1.0, 0.0, 0.0])))
    assert got[:2] == [0.0, -inf] and math.isnan(got[2]) and got[3] == -inf
    assert _c(Taylor([0.0, 1.0, 0.0, 0.0]) ** 1.5) == [0.0, 0.0, inf, -inf]
    # integer powers are polynomials, exact at 0
    assert _c(Taylor([0.0, 1.0, 1.0, 0.0]) ** 2) == [0.0, 0.0, 1.0, 2.0]
    assert _c(Taylor([0.0, 1.0, 0.0]) ** 0) == [1.0, 0.0, 0.0]
    # 0 ** y, y > 0: 0 near y
    assert _c(0.0 ** Taylor([1.0, 1.0, 0.0])) == [0.0, 0.0, 0.0]
    # log at 0: the one-sided coefficients of log t
    assert _c(dualml.log(Taylor([0.0, 2.0, 0.0, 0.0]))) == [-inf, inf, -inf, inf]
    # log(t^2): order 1 is the Dual's zero-tangent 0 (x_1 = 0), then the
    # coefficients of 2 log t
    assert _c(dualml.log(Taylor([0.0, 0.0, 1.0, 0.0]))) == [-inf, 0.0, -inf, inf]


def test_domain_errors_are_nan_everywhere():
    for t in (dualml.log(Taylor([-1.0, 1.0, 0.0])), dualml.arcsin(Taylor([2.0, 1.0, 0.0])),
              dualml.sqrt(Taylor([-1.0, 1.0, 0.0])),
              Taylor([-2.0, 1.0, 0.0]) ** 0.5,
              Taylor([-2.0, 1.0, 0.0]) ** Taylor([1.5, 1.0, 0.0])):
        assert np.isnan(t.coefficients).all()
    # a negative base with a moving exponent: not real-differentiable in b
    t = Taylor([-2.0, 1.0, 0.0]) ** Taylor([2.0, 1.0, 0.0])
    assert t.value == 4.0 and np.isnan(t.coefficients[1:]).all()


def test_integer_power_of_a_negative_base():
    got = _c(Taylor([-2.0, 1.0, 0.0, 0.0]) ** 3)        # (t - 2)^3
    assert got == [-8.0, 12.0, -6.0, 1.0]


# exp(x0 + v t) with v^3 beyond the doubles but e^x0 v^3 / 6 not: the
# recurrences summed j x_j y_{k-j} before dividing by k, which overflowed
# (expm1(remainder(2, b)) at b = -8.7e-104, found by tests/test_fuzz.py);
# coefficients whose exact value overflows stay inf
@pytest.mark.parametrize("name,mpf", [
    ("exp", mpmath.exp), ("expm1", mpmath.expm1), ("exp2", lambda t: mpmath.power(2, t)),
    ("sinh", mpmath.sinh), ("cosh", mpmath.cosh), ("sin", mpmath.sin),
    ("cos", mpmath.cos), ("arctan", mpmath.atan)])
@pytest.mark.parametrize("x0,v", [(0.0, 7.8e102), (1.0, -7e102), (-0.5, 5.6e102)])
def test_coefficients_near_the_overflow_threshold(name, mpf, x0, v):
    got = _c(getattr(dualml, name)(Taylor([x0, v, 0.0, 0.0, 0.0])))
    with mpmath.workdps(60):
        ref = mpmath.taylor(mpf, mpmath.mpf(x0), 4)
        ref = [c * mpmath.mpf(v) ** k for k, c in enumerate(ref)]
    for k in range(1, 5):
        if abs(ref[k]) > 1.7976931348623157e308:
            assert got[k] == math.copysign(math.inf, ref[k]), (k, got[k])
        else:
            assert got[k] == pytest.approx(float(ref[k]), rel=1e-13, abs=1e-300), (k, got)


# x**p along a series near 1e300: the power recurrence's terms x_(k-j) y_j
# overflowed into inf - inf = nan for finite coefficients (found by
# tests/test_fuzz.py: (square(v) / 1e-300) ** logaddexp(v, tanh(u)))
@pytest.mark.parametrize("p", [0.987, 0.75, 1.01, 0.5])
@pytest.mark.parametrize("moving_exponent", [False, True])
def test_power_of_a_series_near_the_overflow_threshold(p, moving_exponent):
    x = [7.7e300, 9.2e300, 2.77e300, 0.0, 0.0]
    e = [p, 0.1, 0.0, 0.0, 0.0] if moving_exponent else [p, 0.0, 0.0, 0.0, 0.0]
    got = _c(Taylor(x) ** Taylor(e))
    with mpmath.workdps(60):
        xs = [mpmath.mpf(c) for c in x]
        ref = mpmath.taylor(lambda t: (xs[0] + xs[1] * t + xs[2] * t * t)
                            ** (mpmath.mpf(p) + mpmath.mpf(e[1]) * t), 0, 4)
    for k in range(5):
        assert got[k] == pytest.approx(float(ref[k]), rel=1e-12), (k, got)


# x**p with x_0**p out of the normal range but coefficients in it: the
# recurrence carried the underflowed y_0 = 0 into every coefficient
# ((1.5e-229 + 0.15 t)**1.557 had c_2 = 0 for 1.9e99; found by
# tests/test_fuzz.py, seed 4).  Closed form binom(p, k) x_0^(p-k) x_1^k in
# mpmath; where it leaves the doubles: the infinity, or nan, never a number
@pytest.mark.parametrize("x0,x1,p", [(1.482140365754669e-229, 0.1519647066294877, 1.5574077246549023),
                                     (1e-200, 1.0, 2.5), (1e200, 3e199, 1.6),
                                     (1e250, 1.0, 1.3), (1e-300, 1e-290, 0.75)])
def test_power_whose_value_leaves_the_doubles(x0, x1, p):
    got = _c(Taylor([x0, x1, 0.0, 0.0, 0.0]) ** p)
    with mpmath.workdps(60):
        ref = [mpmath.binomial(p, k) * mpmath.mpf(x0) ** (mpmath.mpf(p) - k)
               * mpmath.mpf(x1) ** k for k in range(5)]
    for k in range(1, 5):
        r = ref[k]
        if R.TINY <= abs(r) <= 1.7976931348623157e308:
            assert got[k] == pytest.approx(float(r), rel=1e-13), (k, got)
        elif abs(r) > 1.7976931348623157e308:
            assert math.isnan(got[k]) or got[k] == math.copysign(math.inf, r), (k, got)
        else:
            assert math.isnan(got[k]) or abs(got[k]) < R.TINY, (k, got)


# x**p at a tiny base with a tiny series: the recurrence's products x_j y_k
# underflowed to 0 where the coefficients are normal numbers (sqrt along
# 1e-300 + 1e-301 t had c_2 = 0 for -1.25e-153: silently wrong).  Closed form
# in mpmath; the square and cube roots and a negative power
@pytest.mark.parametrize("x0,x1,p", [(1e-300, 1e-301, 0.5), (4e-200, 3e-201, 0.5),
                                     (1e-300, 1e-301, 1 / 3), (1e-300, -1e-302, -0.5),
                                     (1e-300, 1e-301, 0.75), (3e-250, 2e-260, 0.5)])
def test_power_at_a_tiny_base_along_a_tiny_series(x0, x1, p):
    T = Taylor([x0, x1, 0.0, 0.0, 0.0])
    got = _c(dualml.sqrt(T) if p == 0.5 else T ** p)
    with mpmath.workdps(60):
        ref = [mpmath.binomial(p, k) * mpmath.mpf(x0) ** (mpmath.mpf(p) - k)
               * mpmath.mpf(x1) ** k for k in range(5)]
    for k in range(5):
        if abs(ref[k]) >= R.TINY:
            assert got[k] == pytest.approx(float(ref[k]), rel=1e-13), (k, got)


# -- the plain C header ------------------------------------------------------------

C_PROGRAM = r"""
#include <stdio.h>
#include "taylor.h"

int main(void)
{
    /* exp(0.5 + t) to degree 3, one point */
    double x[4] = {0.5, 1.0, 0.0, 0.0}, y[4];
    /* (1 + 2t)(3 - t) at two points, coefficient-major: c[k][i] */
    double a[2][2] = {{1.0, 2.0}, {2.0, 0.0}}, b[2][2] = {{3.0, 3.0}, {-1.0, -1.0}}, p[2][2];
    int k;
    taylor_unary_table[0](3, x, 0.0, y);
    for (k = 0; k <= 3; k++)
        printf("%.17g\n", y[k]);
    taylor_binary_loop(taylor_binary_table[2], 1, 2, &a[0][0], 2, 1, &b[0][0], 2, 1,
                       &p[0][0], 2, 1);
    printf("%.17g\n%.17g\n%.17g\n%.17g\n", p[0][0], p[1][0], p[0][1], p[1][1]);
    return 0;
}
"""


@pytest.mark.parametrize("compiler,std", [("gcc", "-std=c99"), ("g++", "-std=c++11")])
def test_taylor_header_is_plain_c_and_warning_free(tmp_path, compiler, std):
    import shutil
    import subprocess
    assert shutil.which(compiler), f"{compiler} is required to build and test dualml"
    src = tmp_path / "prog.c"
    src.write_text(C_PROGRAM)
    exe = tmp_path / "prog"
    lang = ["-x", "c++"] if compiler == "g++" else []
    subprocess.run([compiler, *lang, std, "-O2", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow",
                    "-Wconversion", "-Wdouble-promotion", "-Werror", "-I",
                    dualml.get_include(), str(src), "-o", str(exe), "-lm"],
                   check=True, capture_output=True, text=True)
    out = [float(v) for v in subprocess.run([str(exe)], check=True, capture_output=True,
                                            text=True).stdout.split()]
    e = math.exp(0.5)
    assert out[:4] == pytest.approx([e, e, e / 2, e / 6], rel=1e-15)
    # 3 + 5t, 6 - 2t (degree 1: the t^2 term is truncated)
    assert out[4:] == [3.0, 5.0, 6.0, -2.0]


def test_the_stub_lists_every_public_member_of_taylor():
    import ast
    import os
    path = os.path.join(os.path.dirname(_core.__file__), "_core.pyi")
    with open(path) as fh:
        tree = ast.parse(fh.read())
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Taylor")
    stubbed = {n.name for n in cls.body if isinstance(n, ast.FunctionDef)}
    public = {n for n in dir(Taylor) if not n.startswith("_")}
    assert public <= stubbed, public - stubbed


def test_no_reference_or_buffer_leaks():
    import gc
    import tracemalloc

    small, big = Taylor([0.3, 1.0, 0.0, 0.0]), Taylor(np.linspace(0.1, 1.0, 40))

    def work():
        for t in (small, big):
            dualml.sin(t) * dualml.exp(t) / (1.0 + t * t) - 2.0 ** t + t ** 3
            np.tanh(t)
        dualml.derivative(lambda s: dualml.log1p(s * s), 0.5, n=5)
        big.__init__(np.ones(30))                 # re-initialised: old buffer freed
        for bad in (lambda: float(small), lambda: small + "a", lambda: small * big):
            try:
                bad()
            except (TypeError, ValueError):
                pass

    for _ in range(200):
        work()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(3000):
        work()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 64 * 1024
