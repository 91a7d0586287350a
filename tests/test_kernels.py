"""The elementwise C kernels (dualml._kernels) against the scalar path.

Every rule of the table is walked: on the plain path the kernels must give
the scalar rule's value bit for bit (dualml.<f>(float)) and the tangent
partial * tangent of dualml.<f>(Dual(x, t)) bit for bit, for k = 0, 1 and 3
directions, strided, broadcast and read-only inputs, and in place.  (The
rules themselves are checked against independent references in
test_dual.py; here the question is whether the array path is the same
function.)  The SIMD path (libmvec) is held to a few ulp of the plain path.
"""
import math

import numpy as np
import pytest

import dualml
from dualml import _kernels as K
from dualml._rules import BINARY, UNARY, UNARY_PARAM

INF, NAN = math.inf, math.nan
SPECIAL = [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0,
           0.75, -0.75, 0.9729550745276566, 1e-300, -1e-300, 5e-324, -5e-324,
           1e300, -1e300, 710.0, -746.0, 40.0, -40.0, math.pi, -math.pi / 2,
           1.0 - 2.0 ** -53, -1.0 + 2.0 ** -53, 1e-8, -1e-8, 20.0, 7.5, -0.1]
RNG = np.random.default_rng(20240601)
POINTS = np.array(SPECIAL + list(RNG.standard_normal(40) * 3)
                  + list(RNG.uniform(-1, 1, 20)) + list(RNG.integers(-4, 5, 10) * 1.0))
TANGENTS = np.where(RNG.random(POINTS.size) < 0.2, 0.0, RNG.standard_normal(POINTS.size))
TANGENTS[:4] = [1.0, -1.0, 0.0, -0.0]
PARAMS = {"leaky_relu": 0.2, "elu": 1.5}


@pytest.fixture
def plain():
    old = K.set_simd(False)
    yield
    K.set_simd(old)


@pytest.fixture(params=K.simd_levels())
def level(request):
    old = K.set_simd(request.param)
    yield request.param
    K.set_simd(old)


def same(a, b):
    """Elementwise: equal bit patterns up to the nan payload (zeros keep sign)."""
    a, b = np.broadcast_arrays(np.asarray(a, float), np.asarray(b, float))
    return ((a == b) & (np.signbit(a) == np.signbit(b))) | (np.isnan(a) & np.isnan(b))


def assert_same(a, b, what=""):
    ok = same(a, b)
    if not ok.all():
        i = np.flatnonzero(~ok.reshape(-1))[0]
        raise AssertionError(f"{what}: {np.ravel(a)[i]!r} != {np.ravel(b)[i]!r} "
                             f"at flat index {i} ({(~ok).sum()} differ)")


def _key(a):
    i = a.view(np.int64)
    return np.where(i < 0, np.int64(-2 ** 63) - i, i)


def ulps(a, b):
    """Distance in units in the last place (0 for equal specials, inf for a
    nan or infinity on one side only or for opposite signs)."""
    a = np.ascontiguousarray(a, float)
    b = np.ascontiguousarray(b, float)
    finite = np.isfinite(a) & np.isfinite(b)
    samesign = (np.signbit(a) == np.signbit(b)) | (a == 0) | (b == 0)
    d = np.where(finite & samesign, np.abs(_key(a) - _key(b)), 0).astype(float)
    d[finite & ~samesign] = np.inf
    d[~finite & ~same(a, b)] = np.inf
    return d


def scalar_unary(name, x, t=None):
    f = getattr(dualml, name)
    args = (PARAMS[name],) if name in UNARY_PARAM else ()
    if t is None:
        return f(float(x), *args)
    return f(dualml.Dual(float(x), float(t)), *args)


def unary_ref(name, xs, ts):
    """Scalar-path values and tangents, elementwise."""
    ys = np.array([scalar_unary(name, x) for x in xs])
    ds = np.array([scalar_unary(name, x, t).deriv for x, t in zip(xs, ts)])
    return ys, ds


def scalar_binary(name, a, ta, b, tb):
    f = getattr(dualml, name)
    u = float(a) if ta is None else dualml.Dual(float(a), float(ta))
    v = float(b) if tb is None else dualml.Dual(float(b), float(tb))
    return f(u, v)


def kparam(name):
    return PARAMS.get(name)


# ---------------------------------------------------------------------------
# every rule, plain path: bit for bit the scalar rule

@pytest.mark.parametrize("name", UNARY + UNARY_PARAM)
def test_unary_equals_scalar_path(name, plain):
    ys, ds = unary_ref(name, POINTS, TANGENTS)
    y, t = K.unary(name, POINTS, param=kparam(name))
    assert t is None
    assert_same(y, ys, f"{name} value")
    y1, t1 = K.unary(name, POINTS, TANGENTS[None], param=kparam(name))
    assert_same(y1, ys, f"{name} value (k=1)")
    assert_same(t1[0], ds, f"{name} tangent (k=1)")
    # k = 3: rows scaled, a zero row stays zero, row 2 is the k=1 tangent
    tan3 = np.stack([TANGENTS, np.zeros_like(POINTS), TANGENTS[::-1].copy()])
    y3, t3 = K.unary(name, POINTS, tan3, param=kparam(name))
    assert_same(y3, ys, f"{name} value (k=3)")
    assert_same(t3[0], ds, f"{name} tangent row 0")
    assert_same(t3[1], np.zeros_like(POINTS), f"{name} zero row")
    assert_same(t3[2], unary_ref(name, POINTS, tan3[2])[1], f"{name} tangent row 2")
    # k = 0
    y0, t0 = K.unary(name, POINTS, np.empty((0, POINTS.size)), param=kparam(name))
    assert t0.shape == (0, POINTS.size)
    assert_same(y0, ys, f"{name} value (k=0)")


@pytest.mark.parametrize("name", UNARY + UNARY_PARAM)
def test_unary_partials_equal_scalar_rule(name, plain):
    y, d = K.partials(name, POINTS, param=kparam(name))
    ys, ds = unary_ref(name, POINTS, np.ones_like(POINTS))
    assert_same(y, ys, f"{name} value")
    assert_same(d, ds, f"{name} partial")


BA, BB = (g.ravel() for g in np.meshgrid(np.array(SPECIAL[:21] + [-3.0, 0.25, 7.0]),
                                          np.array(SPECIAL[:21] + [-3.0, 0.25, 7.0])))
BA = np.concatenate([BA, RNG.standard_normal(60) * 4])
BB = np.concatenate([BB, RNG.standard_normal(60) * 4])
TA = np.where(RNG.random(BA.size) < 0.2, 0.0, RNG.standard_normal(BA.size))
TB = np.where(RNG.random(BA.size) < 0.2, 0.0, RNG.standard_normal(BA.size))


@pytest.mark.parametrize("name", BINARY)
def test_binary_equals_scalar_path(name, plain):
    f = getattr(dualml, name)
    ys = np.array([f(float(a), float(b)) for a, b in zip(BA, BB)])
    if name in ("fmin", "fmax"):
        # C leaves the sign of fmin(+0, -0) unspecified and the scalar path
        # itself differs between its float and Dual entries (reported); the
        # kernels agree up to that sign
        both0 = (BA == 0) & (BB == 0)
        ys[both0] = np.abs(ys[both0])
    y, t = K.binary(name, BA, None, BB, None)
    assert t is None
    if name in ("fmin", "fmax"):
        y[both0] = np.abs(y[both0])
    assert_same(y, ys, f"{name} value")
    for ta, tb, what in ((TA, TB, "dual,dual"), (TA, None, "dual,const"),
                         (None, TB, "const,dual")):
        ref = np.array([scalar_binary(name, a, None if ta is None else ta[i], b,
                                      None if tb is None else tb[i]).deriv
                        for i, (a, b) in enumerate(zip(BA, BB))])
        y1, t1 = K.binary(name, BA, None if ta is None else ta[None], BB,
                          None if tb is None else tb[None])
        if name in ("fmin", "fmax"):
            y1[both0] = np.abs(y1[both0])
        assert_same(y1, ys, f"{name} value ({what})")
        assert_same(t1[0], ref, f"{name} tangent ({what}, k=1)")
        # k = 3 (rows: the tangents, zeros, the tangents again)
        t3a = None if ta is None else np.stack([ta, np.zeros_like(ta), ta])
        t3b = None if tb is None else np.stack([tb, np.zeros_like(tb), tb])
        y3, t3 = K.binary(name, BA, t3a, BB, t3b)
        if name in ("fmin", "fmax"):
            y3[both0] = np.abs(y3[both0])
        assert_same(y3, ys, f"{name} value ({what}, k=3)")
        assert_same(t3[0], ref, f"{name} tangent row 0 ({what})")
        assert_same(t3[1], np.zeros_like(ref), f"{name} zero row ({what})")
        assert_same(t3[2], ref, f"{name} tangent row 2 ({what})")


@pytest.mark.parametrize("name", BINARY)
def test_binary_partials_equal_scalar_rule(name, plain):
    y, da, db = K.partials(name, BA, BB)
    f = getattr(dualml, name)
    ys = np.array([f(float(a), float(b)) for a, b in zip(BA, BB)])
    if name in ("fmin", "fmax"):             # see test_binary_equals_scalar_path
        both0 = (BA == 0) & (BB == 0)
        ys[both0] = np.abs(ys[both0])
        y[both0] = np.abs(y[both0])
    assert_same(y, ys, name)
    assert_same(da, [f(dualml.Dual(float(a), 1.0), float(b)).deriv
                     for a, b in zip(BA, BB)], f"{name} d/da")
    assert_same(db, [f(float(a), dualml.Dual(float(b), 1.0)).deriv
                     for a, b in zip(BA, BB)], f"{name} d/db")


def test_zero_tangent_convention(plain):
    # sqrt at 0 has slope inf; a zero tangent still gives 0 (not 0*inf = nan)
    x = np.array([0.0, 0.0, 4.0])
    y, t = K.unary("sqrt", x, np.array([[0.0, 1.0, 0.0], [-0.0, 0.0, 1.0]]))
    assert_same(t, [[0.0, INF, 0.0], [0.0, 0.0, 0.25]])
    # a constant operand contributes nothing, even with an infinite partial
    _, t = K.binary("multiply", np.array([INF]), None, np.array([2.0]), np.array([[0.0]]))
    assert_same(t, [[0.0]])
    # 0 * inf is a domain error: nan value, so nan slope (dual_nanprop)
    _, t = K.binary("multiply", np.array([0.0]), np.array([[1.0]]), np.array([INF]), None)
    assert_same(t, [[NAN]])
    _, t = K.binary("multiply", np.array([1.0]), np.array([[1.0]]), np.array([INF]), None)
    assert_same(t, [[INF]])


# ---------------------------------------------------------------------------
# SIMD path: within a few ulp of the plain path, same special values

# Derivative bounds (ulp) beyond the default 4: the derivative formula
# amplifies the <= 4 ulp error of the SIMD value (tan: 1 + y^2, cbrt:
# 1/(3 y^2), tanh: (1 - y)(1 + y) with |y| < 0.75, up to 2.6x).
DERIV_ULPS = {"exp2": 5, "tan": 12, "cbrt": 12, "tanh": 14}
SIMD_X = np.concatenate([POINTS, RNG.standard_normal(3000) * 3, RNG.uniform(-1, 1, 2000),
                         np.exp(RNG.uniform(-700, 700, 2000)) * RNG.choice([-1, 1], 2000),
                         RNG.uniform(-40, 40, 2000)])


@pytest.mark.parametrize("name", UNARY)
def test_simd_within_ulps_of_plain(name, level):
    K.set_simd(False)
    yr, dr = K.partials(name, SIMD_X)
    K.set_simd(level)
    ys, ds = K.partials(name, SIMD_X)
    assert (ulps(ys, yr) <= 4).all(), f"{name}: value off by {ulps(ys, yr).max()} ulp"
    # special values and signed zeros exactly
    for arr_s, arr_r in ((ys, yr), (ds, dr)):
        special = ~np.isfinite(arr_r) | (arr_r == 0)
        assert_same(arr_s[special], arr_r[special], f"{name} special values")
    du = ulps(ds, dr)
    if name == "expm1":
        # d = y + 1 cancels as y -> -1: the rule's own conditioning; the
        # error is that of y, absolutely
        fin = np.isfinite(dr) & np.isfinite(ds)
        tol = 4 * np.spacing(np.abs(yr)) + 2 * np.spacing(np.abs(dr))
        assert (np.abs(ds[fin] - dr[fin]) <= tol[fin]).all()
        assert (ulps(ds, dr)[~fin] <= 4).all()      # overflow edge: y's error
    else:
        bound = DERIV_ULPS.get(name, 4)
        assert (du <= bound).all(), f"{name}: derivative off by {du.max()} ulp"
    # the fused k = 1 loop and the row loop give the same numbers as partials
    t = np.stack([np.ones_like(SIMD_X), np.zeros_like(SIMD_X), np.full_like(SIMD_X, -2.0)])
    y1, t1 = K.unary(name, SIMD_X, t[:1])
    y3, t3 = K.unary(name, SIMD_X, t)
    for yy in (y1, y3):
        assert_same(yy, ys, name)
    assert_same(t1[0], ds, name)
    assert_same(t3[0], ds, name)
    assert_same(t3[1], np.zeros_like(ds), name)
    # t = -2: -2 d, except where that product (or d) leaves the normal range
    # and the rule's tangent column gives the product in range: there the
    # plain path's column, the same bits at every level
    K.set_simd(False)
    _, tp = K.unary(name, SIMD_X, t)
    K.set_simd(level)
    with np.errstate(over="ignore"):
        col = ~same(tp[2], -2.0 * dr)
        assert not (np.isfinite(-2.0 * dr[col]) & (np.abs(dr[col]) >= 2.3e-308)
                    & (np.abs(-2.0 * dr[col]) >= 2.3e-308)).any(), name
        assert_same(t3[2], np.where(col, tp[2], -2.0 * ds), name)


def test_simd_level_is_per_thread():
    import threading
    levels = K.simd_levels()
    x = SIMD_X
    t = np.ones((1, x.size))
    old = K.set_simd(False)
    try:
        ref = {}
        for lv in levels:
            K.set_simd(lv)
            ref[lv] = K.unary("tanh", x, t)
        if len(levels) > 1:          # else there is only one path to take
            assert not same(ref["none"][0], ref[levels[-1]][0]).all()

        def in_thread(fn):
            out = []
            th = threading.Thread(target=lambda: out.append(fn()))
            th.start()
            th.join()
            return out[0]

        # a new thread starts at the import-time level, whatever others chose
        K.set_simd(False)
        fresh = in_thread(K.get_simd)
        K.set_simd(True)
        assert in_thread(K.get_simd) == fresh
        assert in_thread(lambda: (K.set_simd(False), K.get_simd())[1]) == "none"
        assert K.get_simd() == levels[-1]        # untouched by the thread

        # two threads on different levels at once, each toggling its own
        # level back and forth: every result is that of its thread's level
        barrier = threading.Barrier(2)
        bad = []

        def worker(mine, other):
            barrier.wait()
            for i in range(40):
                K.set_simd(other)
                K.set_simd(mine)
                y, ty = K.unary("tanh", x, t)
                if not (same(y, ref[mine][0]).all() and same(ty, ref[mine][1]).all()):
                    bad.append((mine, i))
                    return

        ths = [threading.Thread(target=worker, args=(levels[0], levels[-1])),
               threading.Thread(target=worker, args=(levels[-1], levels[0]))]
        for th in ths:
            th.start()
        for th in ths:
            th.join()
        assert not bad, f"a thread saw another thread's SIMD level: {bad[:3]}"
    finally:
        K.set_simd(old)


def test_simd_levels_and_switch():
    levels = K.simd_levels()
    assert levels[0] == "none"
    old = K.set_simd(False)
    try:
        assert K.get_simd() == "none"
        K.set_simd(True)
        assert K.get_simd() == levels[-1]
        with pytest.raises(ValueError, match="level"):
            K.set_simd("sse9")
    finally:
        K.set_simd(old)


# ---------------------------------------------------------------------------
# layouts: strided, broadcast (0-stride), read-only, n-d, in place

LAYOUT_RULES = ["exp", "sin", "tanh", "sqrt", "absolute", "elu"]


@pytest.mark.parametrize("name", LAYOUT_RULES)
def test_unary_layouts(name, level):
    base = RNG.standard_normal((6, 10)) * 2
    tb = RNG.standard_normal((3, 6, 10))
    ref_y, ref_t = K.unary(name, base.copy(), tb.copy(), param=kparam(name))
    cases = {
        "transposed": (base.T, tb.transpose(0, 2, 1), lambda r: r.T, lambda r: r.transpose(0, 2, 1)),
        "strided": (base[:, ::3], tb[:, :, ::3], lambda r: r[:, ::3], lambda r: r[:, :, ::3]),
        "reversed": (base[::-1], tb[::-1, ::-1], lambda r: r[::-1], lambda r: r[::-1, ::-1]),
    }
    for what, (x, t, sel_y, sel_t) in cases.items():
        y, tt = K.unary(name, x, t, param=kparam(name))
        assert y.flags.c_contiguous and tt.flags.c_contiguous
        assert_same(y, sel_y(ref_y), f"{name} {what} value")
        assert_same(tt, sel_t(ref_t), f"{name} {what} tangent")
        for k in (1,):
            y1, t1 = K.unary(name, x, t[:k], param=kparam(name))
            assert_same(t1, sel_t(ref_t)[:k], f"{name} {what} tangent k=1")
    # read-only input, 0-stride broadcast value and tangent, 0-d arrays
    ro = base.copy()
    ro.setflags(write=False)
    trow = tb[:1].copy()
    trow.setflags(write=False)
    assert_same(K.unary(name, ro, trow, param=kparam(name))[1], ref_t[:1], f"{name} read-only")
    xb = np.broadcast_to(base[:1], (6, 10))
    tbb = np.broadcast_to(tb[:, :1], (3, 6, 10))
    y, t = K.unary(name, xb, tbb, param=kparam(name))
    r_y, r_t = K.unary(name, np.ascontiguousarray(xb), np.ascontiguousarray(tbb),
                       param=kparam(name))
    assert_same(y, r_y, f"{name} broadcast")
    assert_same(t, r_t, f"{name} broadcast tangent")
    y0, t0 = K.unary(name, np.array(0.5), np.array([1.0, 2.0]), param=kparam(name))
    assert y0.shape == () and t0.shape == (2,)
    assert_same(t0, K.unary(name, np.array([0.5]), np.array([[1.0], [2.0]]),
                            param=kparam(name))[1][:, 0])
    # non-native byte order is accepted (copied)
    sw = base.astype(">f8")
    assert_same(K.unary(name, sw, param=kparam(name))[0], ref_y, f"{name} byte-swapped")


@pytest.mark.parametrize("name", UNARY)
def test_nan_sign_bit_same_on_every_path(name, plain):
    # IEEE leaves the sign of a nan result open, but copysign shows it: the
    # float, Dual and array paths must give the same bits (silu and gelu
    # gave opposite signs, by the operand order each build chose for x * s)
    # (nan inputs, and domain errors: log(-1), arcsin(2), arccosh(0.5), ...)
    f = getattr(dualml, name)
    for x in (math.nan, -math.nan, -1.0, 2.0, 0.5, -math.inf, math.inf, -1e300):
        p = kparam(name)
        args = () if p is None else (p,)
        vals = [f(x, *args), f(dualml.Dual(x, 1.0), *args).value,
                K.unary(name, np.array([x]), param=p)[0][0],
                K.unary(name, np.array([x]), np.array([[1.0]]), param=p)[0][0]]
        signs = {math.copysign(1.0, v) for v in vals if v != v}
        assert len(signs) <= 1, (name, x, vals, signs)


def unaligned(a):
    """A copy of float64 array a at an odd address (as np.frombuffer gives)."""
    a = np.asarray(a, dtype=np.float64)
    buf = np.zeros(a.nbytes + 1, np.uint8)
    u = np.frombuffer(buf.data, dtype=np.float64, count=a.size, offset=1).reshape(a.shape)
    u[...] = a
    assert not u.flags.aligned
    return u


# 600 elements: two whole blocks of the row and SIMD drivers and a partial one
UA_X = SIMD_X[:600]
UA_T = np.stack([np.where(np.arange(600) % 5 == 0, 0.0, -1.5), RNG.standard_normal(600),
                 np.full(600, -2.0)])


@pytest.mark.parametrize("name", UNARY)
def test_unary_unaligned_operands(name, level):
    # the same numbers as aligned copies; under the CI's UBSan build this
    # also proves the loops never dereference a misaligned double *
    p = kparam(name)
    xu = unaligned(UA_X)
    assert_same(K.unary(name, xu, param=p)[0], K.unary(name, UA_X, param=p)[0], name)
    for k in (1, 3):
        ry, rt = K.unary(name, UA_X, UA_T[:k], param=p)
        y, t = K.unary(name, xu, unaligned(UA_T[:k]), param=p)
        assert_same(y, ry, f"{name} k={k}")
        assert_same(t, rt, f"{name} k={k}")
    assert_same(K.partials(name, xu, param=p)[1], K.partials(name, UA_X, param=p)[1], name)


@pytest.mark.parametrize("name", BINARY)
def test_binary_unaligned_operands(name, plain):
    a, b = UA_X, UA_X[::-1] * 0.5
    au, bu = unaligned(a), unaligned(b)
    assert_same(K.binary(name, au, None, bu, None)[0], K.binary(name, a, None, b, None)[0], name)
    for k in (1, 3):
        ta, tb = UA_T[:k], UA_T[::-1][:k]
        tau, tbu = unaligned(ta), unaligned(tb)
        for args, uargs in (((a, ta, b, tb), (au, tau, bu, tbu)),
                            ((a, ta, b, None), (au, tau, bu, None)),
                            ((a, None, b, tb), (au, None, bu, tbu))):
            ry, rt = K.binary(name, *args)
            y, t = K.binary(name, *uargs)
            assert_same(y, ry, f"{name} k={k}")
            assert_same(t, rt, f"{name} k={k}")
    for got, ref in zip(K.partials(name, au, bu), K.partials(name, a, b)):
        assert_same(got, ref, name)


@pytest.mark.parametrize("name", ["multiply", "divide", "power", "maximum", "add"])
def test_binary_layouts(name, plain):
    a = RNG.standard_normal((5, 7)) + 2
    b = RNG.standard_normal((5, 7))
    ta = RNG.standard_normal((2, 5, 7))
    tb = RNG.standard_normal((2, 5, 7))
    ref = K.binary(name, a.copy(), ta.copy(), b.copy(), tb.copy())
    y, t = K.binary(name, a.T, ta.transpose(0, 2, 1), b.T, tb.transpose(0, 2, 1))
    assert_same(y, ref[0].T)
    assert_same(t, ref[1].transpose(0, 2, 1))
    # a scalar constant broadcast with a 0-stride, both positions
    c = np.broadcast_to(3.0, a.shape)
    for k in (1, 2):
        y, t = K.binary(name, c, None, b, tb[:k])
        r = K.binary(name, np.full(a.shape, 3.0), None, b, tb[:k])
        assert_same(y, r[0])
        assert_same(t, r[1])
        y, t = K.binary(name, a, ta[:k], c, None)
        r = K.binary(name, a, ta[:k], np.full(a.shape, 3.0), None)
        assert_same(y, r[0])
        assert_same(t, r[1])
    # broadcast tangent rows (0-stride along the row axis)
    tbb = np.broadcast_to(tb[:1], (3, 5, 7))
    y, t = K.binary(name, a, None, b, tbb)
    r = K.binary(name, a, None, b, np.ascontiguousarray(tbb))
    assert_same(t, r[1])


@pytest.mark.parametrize("k", [1, 3])
def test_unary_in_place(k, level):
    x = RNG.standard_normal(1000) * 2
    t = RNG.standard_normal((k, 1000))
    ry, rt = K.unary("tanh", x, t)
    xv, tv = x.copy(), t.copy()
    y, ty = K.unary("tanh", xv, tv, out_value=xv, out_tangent=tv)
    assert y is xv and ty is tv
    assert_same(xv, ry)
    assert_same(tv, rt)
    # out aliases the input only partly (reversed view): still correct
    xv = x.copy()
    y, _ = K.unary("sin", xv, out_value=xv[::-1])
    assert_same(y, K.unary("sin", x)[0])
    assert_same(xv, K.unary("sin", x)[0][::-1])
    # value output written into the tangent buffer's last row
    tv = t.copy()
    K.unary("exp", tv[0], out_value=tv[-1])
    assert_same(tv[-1], K.unary("exp", t[0])[0])


@pytest.mark.parametrize("name", ["reciprocal", "exp", "tanh", "log"])
def test_unary_in_place_column_rules(name, level):
    # rules with a tangent column run k > 1 rows in place through their
    # fused loop: every row must read the input, not the value an earlier
    # row wrote over it (reciprocal in place gave row 1 -x^2, not -1/x^2)
    x = RNG.uniform(0.5, 3.0, 700)
    x[5] = 5e-324 if name == "log" else 700.0 if name == "tanh" else 1e-310
    t = RNG.standard_normal((3, 700))
    t[1, 5] = 1e-300
    ry, rt = K.unary(name, x, t)
    xv, tv = x.copy(), t.copy()
    K.unary(name, xv, tv, out_value=xv, out_tangent=tv)
    assert_same(xv, ry)
    assert_same(tv, rt)
    for j in range(3):
        assert tv[j, 5] == getattr(dualml, name)(dualml.Dual(x[5], t[j, 5])).deriv


@pytest.mark.parametrize("name", ["divide", "power", "logaddexp", "arctan2"])
@pytest.mark.parametrize("which", ["a", "b", "ab"])
def test_binary_in_place_column_rules(name, which, plain):
    # the same with two operands: the value output over either input
    a = RNG.uniform(0.5, 3.0, 300)
    b = RNG.uniform(0.5, 3.0, 300)
    ta = RNG.standard_normal((3, 300)) if "a" in which else None
    tb = RNG.standard_normal((3, 300)) if "b" in which else None
    ry, rt = K.binary(name, a, ta, b, tb)
    for target in ("a", "b"):
        av, bv = a.copy(), b.copy()
        tav = None if ta is None else ta.copy()
        tbv = None if tb is None else tb.copy()
        out = av if target == "a" else bv
        tout = (tav if target == "a" else tbv)
        if tout is None:
            tout = tav if tav is not None else tbv
        K.binary(name, av, tav, bv, tbv, out_value=out, out_tangent=tout)
        assert_same(out, ry)
        assert_same(tout, rt)


@pytest.mark.parametrize("k", [1, 3])
def test_binary_in_place(k, plain):
    a = RNG.standard_normal(300)
    b = RNG.standard_normal(300)
    ta = RNG.standard_normal((k, 300))
    tb = RNG.standard_normal((k, 300))
    ry, rt = K.binary("multiply", a, ta, b, tb)
    av, tav = a.copy(), ta.copy()
    K.binary("multiply", av, tav, b, tb, out_value=av, out_tangent=tav)
    assert_same(av, ry)
    assert_same(tav, rt)
    bv, tbv = b.copy(), tb.copy()
    K.binary("multiply", a, ta, bv, tbv, out_value=bv, out_tangent=tbv)
    assert_same(bv, ry)
    assert_same(tbv, rt)
    # x * x in place (both operands are the output)
    av, tav = a.copy(), ta.copy()
    K.binary("multiply", av, tav, av, tav, out_value=av, out_tangent=tav)
    r2 = K.binary("multiply", a, ta, a, ta)
    assert_same(av, r2[0])
    assert_same(tav, r2[1])
    # out overlaps an input shifted by one element
    buf = np.concatenate([a, [0.0]])
    y, _ = K.binary("add", buf[:-1], None, b, None, out_value=buf[1:])
    assert_same(buf[1:], a + b)


def test_large_arrays_and_blocks(level):
    # crosses the block size, the no-GIL threshold and the one-allocation path
    x = RNG.standard_normal(70001)
    t = RNG.standard_normal((1, 70001))
    y, ty = K.unary("sin", x, t)
    ys, ds = K.partials("sin", x)
    assert_same(y, ys)
    assert_same(ty[0], np.where(t[0] == 0, 0.0, ds * t[0]))
    y, ty = K.binary("multiply", x, t, x, t)
    assert_same(y, x * x)
    assert_same(ty[0], x * t[0] + x * t[0])


# ---------------------------------------------------------------------------
# errors

def test_errors():
    x = np.ones(3)
    with pytest.raises(ValueError, match="'expp'"):
        K.unary("expp", x)
    with pytest.raises(ValueError, match="binary"):
        K.unary("add", x)
    with pytest.raises(ValueError, match="unary"):
        K.binary("exp", x, None, x, None)
    with pytest.raises(TypeError, match="float64"):
        K.unary("exp", np.arange(3))
    with pytest.raises(TypeError, match="float64"):
        K.unary("exp", x.astype(complex))
    with pytest.raises(TypeError, match="ndarray"):
        K.unary("exp", [1.0, 2.0])
    with pytest.raises(TypeError, match="tangent"):
        K.unary("exp", x, np.ones((1, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\(1, 4\).*\(3,\)"):
        K.unary("exp", x, np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        K.binary("add", x, None, np.ones(4), None)
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(1, 3\)"):
        K.binary("add", x, np.ones((2, 3)), x, np.ones((1, 3)))
    with pytest.raises(ValueError, match="out_value"):
        K.unary("exp", x, out_value=np.empty(4))
    ro = np.empty(3)
    ro.setflags(write=False)
    with pytest.raises(ValueError, match="read-only"):
        K.unary("exp", x, out_value=ro)
    with pytest.raises(ValueError, match="out_tangent"):
        K.unary("exp", x, out_tangent=np.empty((1, 3)))
    with pytest.raises(ValueError, match="overlap"):
        buf = np.empty((2, 3))
        K.unary("exp", x, np.ones((1, 3)), out_value=buf[1], out_tangent=buf[1:])
    with pytest.raises(TypeError, match="two"):
        K.partials("add", x)
    with pytest.raises(ValueError, match="broadcast"):
        K.partials("add", x, np.ones(4))


def test_param_default_and_partials_broadcast(plain):
    x = np.array([-2.0, 3.0])
    assert_same(K.unary("leaky_relu", x)[0], [dualml.leaky_relu(-2.0), 3.0])
    assert_same(K.unary("elu", x, param=0.5)[0], [dualml.elu(-2.0, 0.5), 3.0])
    y, da, db = K.partials("power", np.array([[2.0], [3.0]]), np.array([1.0, 2.0, 0.5]))
    assert y.shape == da.shape == db.shape == (2, 3)
    assert_same(y[1, 1], 9.0)
    assert_same(da[1, 1], 6.0)


# ---------------------------------------------------------------------------
# every length: the k rows of a block end in a tail shorter than a vector
# (n = 10: 8 + 2), scaled under a mask; libmvec's last vector is loaded and
# stored under a mask too

TAIL_N = [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 15, 16, 17, 31, 33, 255, 256, 257]


def _rows(n, k, seed):
    r = np.random.default_rng(seed)
    x = np.resize(POINTS, n) if seed % 2 else r.uniform(0.1, 3.0, n)
    t = r.standard_normal((k, n))
    t[r.random((k, n)) < 0.2] = 0.0
    t[r.random((k, n)) < 0.05] = -0.0
    t[r.random((k, n)) < 0.05] = NAN
    return x, t


@pytest.mark.parametrize("name", ["sin", "exp", "negative", "log", "square", "sqrt"])
def test_unary_rows_every_length(name, plain):
    # plain path: every element of every row the scalar Dual's tangent, at
    # every length (tail lanes included), contiguous and in place
    for n in TAIL_N:
        for k in (2, 3, 10):
            x, t = _rows(n, k, n * 31 + k)
            y, ty = K.unary(name, x, t)
            ys = np.array([scalar_unary(name, xi) for xi in x])
            assert_same(y, ys, f"{name} value n={n}")
            for j in range(k):
                assert_same(ty[j], unary_ref(name, x, t[j])[1], f"{name} n={n} k={k} row {j}")
            xv, tv = x.copy(), t.copy()
            K.unary(name, xv, tv, out_value=xv, out_tangent=tv)
            assert_same(xv, y, f"{name} in place n={n}")
            assert_same(tv, ty, f"{name} in place n={n} k={k}")


@pytest.mark.parametrize("name", ["multiply", "add", "divide", "subtract"])
def test_binary_rows_every_length(name, plain):
    for n in TAIL_N:
        for k in (2, 10):
            a, ta = _rows(n, k, n * 7 + k)
            b, tb = _rows(n, k, n * 7 + k + 1)
            c = np.broadcast_to(np.array(1.5), (n,))
            for args in ((a, ta, b, tb), (a, ta, c, None), (c, None, b, tb)):
                y, ty = K.binary(name, *args)
                u, tu, v, tv = args
                for j in range(k):
                    ref = [scalar_binary(name, u[i], None if tu is None else tu[j, i],
                                         v[i], None if tv is None else tv[j, i]).deriv
                           for i in range(n)]
                    assert_same(ty[j], ref, f"{name} n={n} k={k} row {j}")


@pytest.mark.parametrize("name", ["sin", "cos", "exp", "tanh", "log", "erf"])
def test_simd_result_independent_of_length(name, level):
    # each element's value and tangents are the same whether it sits in a
    # whole vector or in a masked tail, at the start of a block or later
    # (lanes are evaluated apart: the masked-off lanes must not leak in)
    x, t = _rows(300, 3, 5)
    x = np.abs(x) + 0.1 if name == "log" else x
    y, ty = K.unary(name, x, t)
    for n in TAIL_N:
        for off in (0, 3, 40):
            if off + n > x.size:
                continue
            yn, tn = K.unary(name, x[off:off + n].copy(), t[:, off:off + n].copy())
            assert_same(yn, y[off:off + n], f"{name} value n={n} off={off}")
            assert_same(tn, ty[:, off:off + n], f"{name} tangents n={n} off={off}")
            y1, t1 = K.unary(name, x[off:off + n].copy(), t[:1, off:off + n].copy())
            assert_same(y1, y[off:off + n], f"{name} value k=1 n={n}")


@pytest.mark.parametrize("name", UNARY)
def test_small_contiguous_block_same_as_row_drivers(name, level):
    # A contiguous block of at most DUAL_BLOCK elements with k >= 2 rows
    # takes run_unary's direct path (dual_rows_unary_direct: the SIMD block
    # function and the rows, no n-d driver); strided operands and longer
    # arrays take the checked row drivers.  Same bits, at the special values
    # too (partials off the normal range send the block to the fused loop).
    x = POINTS.copy()
    t = np.stack([TANGENTS, -TANGENTS[::-1], np.where(TANGENTS == 0, 1.0, 0.5)])
    for n in (1, 7, 37, x.size):
        xs, ts = x[:n], t[:, :n]
        y, ty = K.unary(name, xs.copy(), ts.copy(), param=kparam(name))
        # strided copies: the row drivers' path
        xw = np.zeros(2 * n)
        xw[::2] = xs
        tw = np.zeros((3, 2 * n))
        tw[:, ::2] = ts
        yr, tr = K.unary(name, xw[::2], tw[:, ::2], param=kparam(name))
        assert_same(y, yr, f"{name} n={n} value")
        assert_same(ty, tr, f"{name} n={n} tangents")
        # rows not back to back (a row stride of its own)
        tp = np.zeros((3, n + 5))
        tp[:, :n] = ts
        y2, t2 = K.unary(name, xs.copy(), tp[:, :n], param=kparam(name))
        assert_same(t2, tr, f"{name} n={n} padded rows")


@pytest.mark.parametrize("domain_error", [False, True])
@pytest.mark.parametrize("name", ["add", "subtract"])
def test_add_subtract_direct_path_same_bits_as_row_drivers(name, domain_error):
    # Two contiguous dual operands of one shape (k >= 2) take run_binary's
    # direct path, (ta +- tb) + 0.0; strided operands take the row drivers,
    # scale(1, ta) + scale(+-1, tb).  Every pair of special tangents (signed
    # zeros, infinities, nans of both signs) and values: the same bit
    # patterns, nan signs included.  A block with a domain error (inf - inf:
    # nan partials) leaves the rows to the row drivers.
    sp = np.array([0.0, -0.0, 1.0, -1.0, 2.5, -2.5, INF, -INF, NAN, -NAN, 5e-324, -1e308, 1e308])
    ta = np.repeat(sp, sp.size)
    tb = np.tile(sp, sp.size)
    n = ta.size
    a = np.resize(POINTS, n)
    b = np.resize(POINTS[::-1], n)
    # (POINTS holds infinities: no inf -/+ inf pair unless asked for)
    bad = np.isinf(a) & np.isinf(b) & ((a == b) if name == "subtract" else (a != b))
    b[bad] = 1.0
    if domain_error:
        a[::7] = INF
        b[::7] = INF if name == "subtract" else -INF
    TA = np.stack([ta, tb, -ta])
    TB = np.stack([tb, ta, tb[::-1]])
    y, ty = K.binary(name, a, TA, b, TB)

    def strided(x):
        w = np.zeros(x.shape[:-1] + (2 * x.shape[-1],))
        w[..., ::2] = x
        return w[..., ::2]
    yr, tr = K.binary(name, strided(a), strided(TA), strided(b), strided(TB))
    # the same bits, zeros' signs included; of two nan tangents, which one
    # an addition returns is the compiler's choice (it may commute the
    # operands: the sanitizer build does), so a nan's sign is not compared
    for got, ref in ((y, yr), (ty, tr)):
        assert np.array_equal(got, ref, equal_nan=True), name
        assert (np.signbit(got) == np.signbit(ref))[~np.isnan(ref)].all(), name
    live = ~((TA == 0) & (TB == 0))[:, ::7]          # (zero tangents: +0.0 anyway)
    assert np.isnan(ty[:, ::7][live]).all() == domain_error
    # the zero-tangent convention: +0.0 where both tangents are zeros
    zz = (ta == 0) & (tb == 0) & ~np.isnan(y)
    assert not np.signbit(ty[0][zz]).any()


@pytest.mark.parametrize("name", BINARY)
def test_small_contiguous_binary_same_as_row_drivers(name, plain):
    # Two contiguous dual operands of one shape with k >= 2 rows on one
    # block take run_binary's direct path (dual_rows_binary_direct, or
    # dual_addsub_rows); strided operands take the row drivers.  The same
    # bit patterns (nan signs included) on every pair of special values,
    # special tangents among them, and with partials off the normal range
    # (the fused loop then redoes the rows).
    sp = np.array(SPECIAL)
    a = np.repeat(sp, sp.size)[:256]
    b = np.tile(sp, sp.size)[:256]
    n = a.size
    ta = np.resize(TANGENTS, n)
    tb = np.resize(TANGENTS[::-1], n)
    TA = np.stack([ta, tb, np.ones(n)])
    TB = np.stack([tb, -ta, np.zeros(n)])

    def strided(x):
        w = np.zeros(x.shape[:-1] + (2 * x.shape[-1],))
        w[..., ::2] = x
        return w[..., ::2]
    for m in (1, 9, n):
        y, ty = K.binary(name, a[:m], TA[:, :m], b[:m], TB[:, :m])
        yr, tr = K.binary(name, strided(a[:m]), strided(TA[:, :m]), strided(b[:m]),
                          strided(TB[:, :m]))
        assert np.array_equal(y.view(np.int64), yr.view(np.int64)), (name, m)
        assert np.array_equal(ty.view(np.int64), tr.view(np.int64)), (name, m)
