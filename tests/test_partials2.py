"""Second partials in C (dualml._kernels.partials2, o2_unary, o2_binary).

The build translates each rule's nested column into C on dual numbers; these
tests check the result against sympy's second derivatives (tests/reference.py,
50 digits) at interior points, against the nested scalar path
(derivative of derivative, which evaluates the same column on Duals) at edge
points, and hessian's second-order array path against nested forward mode.
"""
import gc
import math
import tracemalloc

import numpy as np
import pytest

import dualml
from dualml import _kernels as K
from dualml.arrays import _second_order as A
from dualml import _arraycalc as AC
from dualml._arraycalc import _hessian_nested, _hessian_o2

import reference as R

RTOL2 = 1e-12
UNARY = sorted(R.UNARY)
BINARY = sorted(R.BINARY)
EDGES = (0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -3.0, 1e-300, 1e300, math.inf,
         -math.inf, math.nan)


def _close(got, ref, rtol=RTOL2):
    if math.isnan(ref):
        return math.isnan(got)
    if math.isinf(ref):
        return got == ref
    return abs(got - ref) <= rtol * max(abs(ref), R.TINY)


def _same(got, ref):
    # bit for bit up to the sign of zero; nan matches nan
    return (math.isnan(got) and math.isnan(ref)) or got == ref


@pytest.fixture
def plain():
    # the plain kernels are bit for bit the scalar rules (SIMD is within 4 ulp)
    old = K.set_simd(False)
    yield
    K.set_simd(old)


def _unary_fn(name, alpha):
    f = getattr(dualml, name)
    return f if alpha is None else (lambda s: f(s, alpha))


@pytest.mark.parametrize("name", UNARY)
def test_unary_second_partial_against_sympy(name, plain):
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        t = np.array(u.interior, dtype=float)
        y, d1, d2 = K.partials2(name, t, param=alpha)
        y0, p0 = K.partials(name, t, param=alpha)
        assert np.array_equal(y, y0, equal_nan=True)
        assert np.array_equal(d1, p0, equal_nan=True)
        for ti, gi in zip(u.interior, d2):
            args = (ti,) if u.alphas == (None,) else (
                ti, u.default_alpha if alpha is None else alpha)
            exp = R.evaluate(u.f2, *args)
            if not _close(float(gi), exp):
                failures.append(f"{name}''({ti}, alpha={alpha}): expected {exp!r}, got {gi!r}")
    assert not failures, failures


@pytest.mark.parametrize("name", BINARY)
def test_binary_second_partials_against_sympy(name, plain):
    bf = R.BINARY[name]
    s = np.array([p[0] for p in bf.interior])
    t = np.array([p[1] for p in bf.interior])
    out = K.partials2(name, s, t)
    y0, pa, pb = K.partials(name, s, t)
    for got, exp in zip(out[:3], (y0, pa, pb)):
        assert np.array_equal(got, exp, equal_nan=True)
    failures = []
    for got, ref, label in zip(out[3:], bf.second, ("f_aa", "f_ab", "f_bb")):
        for si, ti, gi in zip(s, t, got):
            exp = R.evaluate(ref, si, ti)
            if not _close(float(gi), exp):
                failures.append(f"{name} {label}({si}, {ti}): expected {exp!r}, got {gi!r}")
    assert not failures, failures


@pytest.mark.parametrize("name", UNARY)
def test_unary_second_partial_matches_nested_scalar_path(name):
    # the same nested column evaluated on scalar Duals: edges included
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        f = _unary_fn(name, alpha)
        y, _, d2 = K.partials2(name, np.array(EDGES), param=alpha)
        for t, yi, g in zip(EDGES, y, d2):
            ref = dualml.derivative(lambda s: dualml.derivative(f, s), t)
            if not _same(float(g), ref):
                failures.append(f"{name}''({t}, alpha={alpha}): nested {ref!r}, C {g!r}")
    assert not failures, failures


@pytest.mark.parametrize("name", BINARY)
def test_binary_second_partials_match_nested_scalar_path(name):
    f = getattr(dualml, name)
    d = dualml.derivative
    pts = [(s, t) for s in EDGES for t in (0.0, 0.5, -2.0, 3.0)]
    s = np.array([p[0] for p in pts])
    t = np.array([p[1] for p in pts])
    y, _, _, faa, fab, fbb = K.partials2(name, s, t)
    failures = []
    for i, (si, ti) in enumerate(pts):
        if not (math.isfinite(si) and math.isfinite(ti) and math.isfinite(y[i])):
            continue
        if name in ("divide", "floor_divide", "remainder") and ti == 0:
            continue                    # the scalar path raises (Python floats)
        ref = {"f_aa": d(lambda u: d(lambda w: f(w, ti), u), si),
               "f_ab": d(lambda v: d(lambda w: f(w, v), si), ti),
               "f_bb": d(lambda v: d(lambda w: f(si, w), v), ti)}
        got = {"f_aa": faa[i], "f_ab": fab[i], "f_bb": fbb[i]}
        for key in ref:
            if not _same(float(got[key]), ref[key]):
                failures.append(f"{name} {key}({si}, {ti}): nested {ref[key]!r}, "
                                f"C {got[key]!r}")
    assert not failures, failures[:20]


def test_partials2_arguments():
    with pytest.raises(TypeError, match="unary"):
        K.partials2("sin", np.ones(2), np.ones(2))
    with pytest.raises(TypeError, match="binary"):
        K.partials2("hypot", np.ones(2))
    with pytest.raises(ValueError, match="unknown rule"):
        K.partials2("nope", np.ones(2))
    with pytest.raises(TypeError, match="float64"):
        K.partials2("sin", [1.0])
    with pytest.raises(ValueError, match="broadcast"):
        K.partials2("hypot", np.ones(2), np.ones(3))
    y, fa, fb, faa, fab, fbb = K.partials2("hypot", np.ones((2, 1)), np.ones(3))
    assert faa.shape == (2, 3)


HESSIAN_CASES = [
    ("rosenbrock", lambda x: np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2),
     np.array([-1.2, 1.0, 0.3, 2.0])),
    ("unary chain", lambda x: np.sum(np.tanh(np.exp(x[:2]) * np.sin(x[1:3])))
                    + np.sum(np.log1p(x ** 2) + dualml.elu(x, 0.3)
                                     + dualml.softplus(x) + np.cbrt(x + 3.0)),
     np.array([0.3, -0.7, 1.1, 0.0])),
    ("binary rules", lambda x: np.sum(np.arctan2(x[:2], x[2:]) + np.hypot(x[:2], x[2:])
                                      + x[:2] ** x[2:] + np.logaddexp(x[:2], 2 * x[2:])
                                      + x[:2] / x[2:]) + np.sum(2.0 ** x + x ** 3.0),
     np.array([0.4, 1.3, 0.9, 2.1])),
    ("constants both sides", lambda x: np.sum(np.hypot(x, 2.0) + np.hypot(1.5, x)
                                              + np.arctan2(x, 0.5) + 3.0 / x
                                              + np.power(x, 2.5)),
     np.array([0.4, 1.3, 0.9])),
    # sqrt at 0 with infinite f'': the zero tangents of the other entries
    # keep their hessian entries exact (zero-tangent convention)
    ("sqrt at zero", lambda x: np.sqrt(x[0]) + x[1] ** 2 * x[2],
     np.array([0.0, 1.0, 2.0])),
    ("kinks", lambda x: np.sum(np.abs(x) * x + np.maximum(x, 0.5) ** 2
                               + dualml.relu(x) * x),
     np.array([0.3, -0.7, 1.1])),
]


@pytest.mark.parametrize("label,f,x", HESSIAN_CASES, ids=[c[0] for c in HESSIAN_CASES])
@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_hessian_o2_matches_nested_forward_mode(label, f, x, chunk):
    got = _hessian_o2(f, x, (), chunk)
    ref = _hessian_nested(f, x, (), chunk)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=0, equal_nan=True)
    assert got.shape == ref.shape


def test_o2_fallback_for_non_contiguous_rows():
    # the NumPy path of _o2_unary/_o2_binary (t not C-contiguous) gives the
    # same rows as the C kernels
    rng = np.random.default_rng(1)
    k, i0, i1, m = 3, 1, 3, 4
    v = rng.uniform(0.2, 2.0, m)
    w = rng.uniform(0.2, 2.0, m)
    d = rng.normal(size=(k + (i1 - i0) * k, m))
    e = rng.normal(size=(k + (i1 - i0) * k, m))
    base = rng.normal(size=(k + (i1 - i0) * k, m))
    for run in ("unary", "binary", "const"):
        t1 = base.copy()
        t2 = np.asfortranarray(base)
        for t in (t1, t2):
            if run == "unary":
                A._o2_unary("tanh", v, None, d, t, (k, i0, i1), None)
            elif run == "binary":
                A._o2_binary("power", v, w, None, d, e, t, (k, i0, i1))
            else:
                A._o2_binary_const("hypot", v, w, None, d, t, (k, i0, i1), False)
        assert not t2.flags.c_contiguous
        np.testing.assert_allclose(t1, t2, rtol=1e-15, atol=1e-300)


@pytest.mark.parametrize("x", [1e-5, -9.3e-137, 1e-160, -1e-300, 2.3e-308, 3.0, 1e300])
def test_x_over_x_has_zero_hessian(x):
    # closed form: x/x = 1, so every second derivative is exactly 0; the
    # array Hessian summed second partials (f_ab ~ -1/x^2), which overflow
    # for |x| < 1e-154 (nan) and cancel inexactly elsewhere (-3.8e-6 at 1e-5)
    f = lambda v: (v / v).sum()                              # noqa: E731
    X = np.array([x, 2.0])
    # the nested paths take divide's joint tangent (ta - y tb) / b, exactly 0
    # here; the sum of the partials' products gave inf - inf below 1e-154
    paths = [_hessian_o2(f, X, (), None), dualml.hessian(f, X),
             _hessian_nested(f, X, (), None),
             dualml.hessian(lambda v: v[0] / v[0] + v[1] / v[1], X, method="scalar"),
             dualml.jacobian(lambda v: dualml.gradient(f, v), X)]
    for H in paths:
        assert np.array_equal(H, np.zeros((2, 2))), (x, H)


@pytest.mark.parametrize("a,b", [(0.7, 1.9), (-3.0, 1e-160), (1e-300, -2.0), (5.0, 1e150)])
def test_divide_hessian_closed_form(a, b):
    # d2(a/b): f_aa = 0, f_ab = -1/b^2, f_bb = 2a/b^3 (computed here as the
    # rounded closed form, in an order that does not overflow)
    H = dualml.hessian(lambda v: v[0] / v[1], np.array([a, b]))
    ref = np.array([[0.0, -(1.0 / b) / b], [-(1.0 / b) / b, 2.0 * ((a / b) / b) / b]])
    np.testing.assert_allclose(H, ref, rtol=1e-15, atol=0)


# -- the triangular layout: the upper half of the full block, bit for bit ----------------

def _tri_rows(k, i0, i1):
    # the full block's row index of every triangle row, i major
    return [(i - i0) * k + j for i in range(i0, i1) for j in range(i, k)]


@pytest.mark.parametrize("k,i0,i1", [(4, 0, 4), (5, 1, 3), (3, 2, 3), (4, 4, 4)])
def test_o2_triangle_rows_are_the_full_blocks_upper_half(k, i0, i1):
    # every curvature kernel writes in the triangle exactly the rows (i, j >= i)
    # of the full block (the same products in the same order); zero rows and
    # infinite second partials included (zero-tangent convention)
    rng = np.random.default_rng(3)
    m = 300                                   # more than one block of elements
    v = rng.uniform(-2.0, 2.0, m)
    v[:4] = [0.0, -0.0, np.inf, np.nan]
    w = rng.uniform(0.2, 2.0, m)
    d = rng.normal(size=(k, m))
    d[-1] = 0.0
    e = rng.normal(size=(k, m))
    full_h, tri_h = (i1 - i0) * k, len(_tri_rows(k, i0, i1))
    assert tri_h == (i1 - i0) * k - (i1 - i0) * (i0 + i1 - 1) // 2
    base = rng.normal(size=(k + full_h, m))
    for run in ("sqrt", "tanh", "power", "hypot-a", "arctan2-b"):
        tf = base.copy()
        tt = np.concatenate([base[:k], base[k:][_tri_rows(k, i0, i1)]])
        for t, tri in ((tf, False), (tt, True)):
            if run in ("sqrt", "tanh"):
                K.o2_unary(run, v, d, t, k, i0, i1, tri=tri)
            elif run == "power":
                K.o2_binary("power", w, v, d, e, t, k, i0, i1, tri=tri)
            elif run == "hypot-a":
                K.o2_binary("hypot", v, w, d, None, t, k, i0, i1, tri=tri)
            else:
                K.o2_binary("arctan2", w, v, None, e, t, k, i0, i1, tri=tri)
        expect = np.concatenate([tf[:k], tf[k:][_tri_rows(k, i0, i1)]])
        assert np.array_equal(tt, expect, equal_nan=True), run
        assert np.array_equal(np.signbit(tt), np.signbit(expect)), run


def test_o2_triangle_shape_errors():
    v = np.ones(3)
    d = np.ones((2, 3))
    with pytest.raises(ValueError, match=r"k \+ \(i1 - i0\) \* k - "):
        K.o2_unary("sin", v, d, np.zeros((6, 3)), 2, 0, 2, tri=True)   # wants 2 + 3 rows
    K.o2_unary("sin", v, d, np.zeros((5, 3)), 2, 0, 2, tri=True)
    with pytest.raises(ValueError, match=r"k \+ \(i1 - i0\) \* k,"):
        K.o2_unary("sin", v, d, np.zeros((5, 3)), 2, 0, 2)


def test_o2_fallback_triangle_equals_c_kernels():
    # the NumPy path (t not C-contiguous) with the triangle: the C rows, bit for bit
    rng = np.random.default_rng(5)
    k, i0, i1, m = 4, 1, 3, 5
    o2 = (k, i0, i1, True)
    h = A._o2_hrows(k, i0, i1, True)
    assert h == (4 - 1) + (4 - 2)
    v = rng.uniform(0.2, 2.0, m)
    w = rng.uniform(0.2, 2.0, m)
    d = rng.normal(size=(k + h, m))
    e = rng.normal(size=(k + h, m))
    base = rng.normal(size=(k + h, m))
    for run in ("unary", "binary", "const"):
        t1 = base.copy()
        t2 = np.asfortranarray(base)
        for t in (t1, t2):
            if run == "unary":
                A._o2_unary("tanh", v, None, d, t, o2, None)
            elif run == "binary":
                A._o2_binary("power", v, w, None, d, e, t, o2)
            else:
                A._o2_binary_const("hypot", v, w, None, d, t, o2, False)
        assert not t2.flags.c_contiguous
        assert np.array_equal(t1, t2), run


HESSIAN_LAYOUT_CASES = HESSIAN_CASES + [
    ("products", lambda x: np.sum(np.tanh(np.outer(x, x) @ x)) * x[0] + x @ np.sin(x)
                           + np.dot(np.cos(x), x[::-1]),
     np.array([0.3, -0.7, 1.1, 0.2, -1.4])),
    ("held-out", lambda x: np.sum(0.5 * (x ** 4 - 16 * x ** 2 + 5 * x))
                           + np.sum(np.log(np.cosh(x[1:] - x[:-1]))),
     np.linspace(-2.0, 1.7, 12)),
]


@pytest.mark.parametrize("label,f,x", HESSIAN_LAYOUT_CASES,
                         ids=[c[0] for c in HESSIAN_LAYOUT_CASES])
@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_hessian_triangle_is_the_full_layouts_upper_half(label, f, x, chunk):
    # the triangle (hessian's layout) against the full block (the old one):
    # value, gradient and H[a, b], a <= b, bit for bit; H exactly symmetric
    v1, g1, H1 = AC._vgh_o2(f, x.copy(), (), chunk, tri=True)
    v2, g2, H2 = AC._vgh_o2(f, x.copy(), (), chunk, tri=False)
    iu = np.triu_indices(x.size)
    assert _same(v1, v2)
    assert np.array_equal(g1, g2, equal_nan=True)
    assert np.array_equal(H1[iu], H2[iu], equal_nan=True)
    assert np.array_equal(H1, H1.T, equal_nan=True)


def test_hessian_chunked_triangle_equals_one_pass():
    # n = 40 > the one-pass limit: chunks of triangle rows (each chunk's rows
    # start at the diagonal) against one pass through the full-size seed
    rng = np.random.default_rng(11)
    x = rng.uniform(-1.5, 1.5, 40)
    f = HESSIAN_LAYOUT_CASES[-1][1]
    ref = AC._vgh_o2(f, x.copy(), (), 40)
    for chunk in (None, 7, 1):
        got = AC._vgh_o2(f, x.copy(), (), chunk)
        assert got[0] == ref[0]
        assert np.array_equal(got[1], ref[1]) and np.array_equal(got[2], ref[2])
    # and the independent reference: the closed form
    d = x[1:] - x[:-1]
    H = np.diag(6.0 * x ** 2 - 16.0)
    s = 1.0 / np.cosh(d) ** 2
    H[np.arange(39), np.arange(39)] += s
    H[np.arange(1, 40), np.arange(1, 40)] += s
    H[np.arange(39), np.arange(1, 40)] -= s
    H[np.arange(1, 40), np.arange(39)] -= s
    np.testing.assert_allclose(ref[2], H, rtol=1e-13, atol=1e-13)


def _peak(fn):
    fn()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak


def test_hessian_triangle_halves_the_second_order_memory():
    # n = 50: the rows of every intermediate are n + n(n+1)/2 instead of
    # n + n*n, so the peak is about half the full layout's
    x = np.linspace(-1.0, 1.3, 50)
    f = HESSIAN_LAYOUT_CASES[-1][1]
    tri = _peak(lambda: AC._vgh_o2(f, x.copy(), (), None, tri=True))
    full = _peak(lambda: AC._vgh_o2(f, x.copy(), (), None, tri=False))
    assert tri < 0.6 * full


def test_hessian_triangle_pass_does_not_leak():
    x = np.array([0.3, -1.2, 0.8, 2.0, 0.1])

    def fn():
        dualml.hessian(lambda y: np.sum(np.sin(y) * y[::-1]) * y[0], x)
    for _ in range(100):
        fn()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(3000):
        fn()
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert after - before < 64 * 1024
