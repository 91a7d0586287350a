"""custom_jvp (dualml.custom): user rules for Duals, nested Duals, DualArrays.

References: closed forms and mpmath (lambertw, zeta, diff at 30 digits),
never dualml against itself.
"""
import math

import mpmath
import numpy as np
import pytest
from scipy.special import lambertw, zeta

import dualml

mpmath.mp.dps = 30

SEEN = []           # types the wrapped bodies received


@dualml.custom_jvp
def W(x):
    SEEN.append(type(x))
    return np.real(lambertw(x))


W.defderivs(lambda x: W(x) / (x * (1 + W(x))))


@dualml.custom_jvp
def W_jvp(x):
    SEEN.append(type(x))
    return np.real(lambertw(x))


@W_jvp.defjvp
def _(primals, tangents):
    (x,), (dx,) = primals, tangents
    w = W_jvp(x)
    return w, dx * w / (x * (1 + w))


def mp_w(x):
    return mpmath.lambertw(x).real


def ref_dw(x, n=1):
    return float(mpmath.diff(mp_w, mpmath.mpf(x), n))


@pytest.fixture(autouse=True)
def _clear_seen():
    SEEN.clear()
    yield
    assert all(t in (float, np.ndarray, np.float64) for t in SEEN), SEEN


@pytest.mark.parametrize("f", [W, W_jvp], ids=["defderivs", "defjvp"])
def test_first_and_second_derivative_of_lambertw(f):
    for x in (0.3, 1.0, 4.5):
        assert dualml.derivative(f, x) == pytest.approx(ref_dw(x), rel=1e-14)
        d2 = dualml.derivative(lambda t: dualml.derivative(f, t), x)
        assert d2 == pytest.approx(ref_dw(x, 2), rel=1e-12)
        d3 = dualml.derivative(lambda s: dualml.derivative(
            lambda t: dualml.derivative(f, t), s), x)
        assert d3 == pytest.approx(ref_dw(x, 3), rel=1e-11)


def test_plain_call_is_the_function():
    assert W(1.0) == np.real(lambertw(1.0))
    assert np.array_equal(W(np.array([0.5, 2.0])), np.real(lambertw(np.array([0.5, 2.0]))))


@pytest.mark.parametrize("f", [W, W_jvp], ids=["defderivs", "defjvp"])
def test_dualarray_paths(f):
    x = np.array([0.2, 1.0, 3.0, 7.5])
    ref = np.array([ref_dw(t) for t in x])
    # gradient of sum(x * W(x)) on the array path: W + x W'
    g = dualml.gradient(lambda y: np.sum(y * f(y)), x)
    w = np.real(lambertw(x))
    assert np.allclose(g, w + x * ref, rtol=1e-14)
    # the Jacobian of the elementwise function is diagonal
    J = dualml.jacobian(f, x)
    assert np.allclose(J, np.diag(ref), rtol=1e-14, atol=0)
    # the scalar path (object arrays of Duals) agrees
    Js = dualml.jacobian(f, x, method="scalar")
    assert np.allclose(Js, np.diag(ref), rtol=1e-14, atol=0)
    # the hessian (second-order rows fall back to nesting): diag W''
    H = dualml.hessian(lambda y: np.sum(f(y)), x)
    assert np.allclose(H, np.diag([ref_dw(t, 2) for t in x]), rtol=1e-12, atol=0)
    Hv = dualml.hvp(lambda y: np.sum(f(y)), x, np.ones(4))
    assert np.allclose(Hv, [ref_dw(t, 2) for t in x], rtol=1e-12)


def test_hurwitz_zeta_nondiff_argument():
    @dualml.custom_jvp(nondiff_argnums=1)
    def hzeta(q, s):
        assert type(s) is float
        return zeta(s, q)
    hzeta.defderivs(lambda q, s: -s * hzeta(q, s + 1))

    def mp_z(q):
        return mpmath.zeta(3, q)
    for q in (0.5, 2.0):
        assert dualml.derivative(lambda r: hzeta(r, 3.0), q) == pytest.approx(
            float(mpmath.diff(mp_z, q)), rel=1e-13)
        assert dualml.derivative(lambda p: dualml.derivative(lambda r: hzeta(r, 3.0), p),
                                 q) == pytest.approx(float(mpmath.diff(mp_z, q, 2)), rel=1e-12)
    with pytest.raises(ValueError, match="nondiff_argnums"):
        dualml.derivative(lambda s: hzeta(2.0, s), 3.0)


def test_keyword_constants_and_several_arguments():
    # f(x, y; c) = c * atan2(y, x) through math (compiled-like), two differentiated args
    @dualml.custom_jvp
    def angle(x, y, *, c=1.0):
        return c * math.atan2(y, x)

    @angle.defjvp
    def _(primals, tangents, *, c=1.0):
        (x, y), (dx, dy) = primals, tangents
        r2 = x * x + y * y
        return angle(x, y, c=c), c * (x * dy - y * dx) / r2

    g = dualml.gradient(lambda p: angle(p[0], p[1], c=2.0), [1.5, -0.5])
    r2 = 1.5 ** 2 + 0.25
    assert np.allclose(g, [2.0 * 0.5 / r2, 2.0 * 1.5 / r2], rtol=1e-15)
    H = dualml.hessian(lambda p: angle(p[0], p[1]), [1.5, -0.5])
    x, y = 1.5, -0.5        # the Hessian of atan2(y, x), closed form
    ref = np.array([[2 * x * y, y * y - x * x], [y * y - x * x, -2 * x * y]]) / r2 ** 2
    assert np.allclose(H, ref, rtol=1e-14)
    with pytest.raises(ValueError, match="keyword argument 'c'"):
        dualml.derivative(lambda c: angle(1.0, 2.0, c=c), 1.0)


def test_two_argument_elementwise_defderivs_on_arrays():
    @dualml.custom_jvp
    def hyp(a, b):
        return np.hypot(np.asarray(a, float), np.asarray(b, float))
    hyp.defderivs(lambda a, b: a / hyp(a, b), lambda a, b: b / hyp(a, b))
    a = np.array([3.0, 1.0, -2.0])
    b = 4.0                              # a scalar argument broadcast against a
    J = dualml.jacobian(lambda p: hyp(p, b), a)
    assert np.allclose(J, np.diag(a / np.hypot(a, b)), rtol=1e-15)
    db = dualml.derivative(lambda t: np.sum(hyp(a, t)), 4.0)
    assert db == pytest.approx(np.sum(4.0 / np.hypot(a, 4.0)), rel=1e-15)
    with pytest.raises(ValueError, match="elementwise"):
        bad = dualml.custom_jvp(lambda x: float(np.sum(x)))
        bad.defderivs(lambda x: np.ones_like(x))
        dualml.gradient(lambda y: bad(y), np.ones(3))


def test_value_and_grad_simulator():
    A = np.array([[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]])

    def simulator(x):               # returns value and gradient, floats only
        assert type(x) is np.ndarray and x.dtype == np.float64
        return float(np.exp(x @ A @ x / 10)), np.exp(x @ A @ x / 10) * (A @ x) / 5

    sim = dualml.custom_jvp(lambda x: simulator(x)[0])
    sim.defvalue_and_grad(simulator)
    x = np.array([0.3, -0.2, 0.5])
    ref = simulator(x)[1]
    assert np.allclose(dualml.gradient(sim, x), ref, rtol=1e-15)
    assert np.allclose(dualml.gradient(lambda y: sim(y) ** 2, x), 2 * simulator(x)[0] * ref,
                       rtol=1e-14)
    assert np.allclose(dualml.jvp(sim, x, np.array([1.0, 0.0, 2.0]))[1],
                       ref @ [1.0, 0.0, 2.0], rtol=1e-15)
    assert np.allclose(dualml.gradient(lambda y: sim(np.array(y)), list(x), method="scalar"),
                       ref, rtol=1e-15)
    with pytest.raises(TypeError, match="first derivatives only"):
        dualml.hessian(sim, x)


def test_per_direction_jvp_of_a_reduction_is_exact():
    # a non-elementwise rule (sum of squares): one call per DualArray direction
    calls = []

    @dualml.custom_jvp
    def sq(x):
        return float(np.sum(np.asarray(x) ** 2))

    @sq.defjvp
    def _(primals, tangents):
        (x,), (dx,) = primals, tangents
        calls.append(np.shape(dx))
        return sq(x), 2 * np.sum(x * dx)

    x = np.array([1.0, -2.0, 0.5])
    assert np.allclose(dualml.gradient(sq, x), 2 * x, rtol=0)
    assert calls == [(3,)] * 3

    @dualml.custom_jvp
    def sq_b(x):
        return float(np.sum(np.asarray(x) ** 2))

    @sq_b.defjvp(batched=True)
    def _(primals, tangents):
        (x,), (dx,) = primals, tangents
        calls.append(np.shape(dx))
        return sq_b(x), 2 * dx @ x

    calls.clear()
    assert np.allclose(dualml.gradient(sq_b, x), 2 * x, rtol=0)
    assert calls == [(3, 3)]
    assert dualml.derivative(lambda t: sq_b(np.array([t, 2.0])), 1.5) == 3.0


def test_errors_no_rule_taylor_and_undifferentiable_rule():
    f = dualml.custom_jvp(lambda x: x)
    with pytest.raises(TypeError, match="no derivative rule"):
        dualml.derivative(f, 1.0)

    class FakeTaylor:
        __dualml_taylor__ = True
    with pytest.raises(TypeError, match="no Taylor rule for <lambda>: pass taylor="):
        f(FakeTaylor())
    g = dualml.custom_jvp(lambda x: x, taylor=lambda t: "taylor rule called")
    assert g(FakeTaylor()) == "taylor rule called"

    @dualml.custom_jvp
    def e(x):
        return math.exp(x)

    @e.defjvp
    def _(primals, tangents):
        return math.exp(primals[0]), math.exp(primals[0]) * tangents[0]

    assert dualml.derivative(e, 0.5) == pytest.approx(math.exp(0.5), rel=1e-15)
    with pytest.raises(TypeError, match="nested level"):
        dualml.derivative(lambda t: dualml.derivative(e, t), 0.5)
    with pytest.raises(TypeError, match="pair"):
        bad = dualml.custom_jvp(lambda x: x)
        bad.defjvp(lambda p, t: 1.0)
        dualml.derivative(bad, 1.0)


@pytest.mark.parametrize("f", [W, W_jvp], ids=["defderivs", "defjvp"])
def test_scalar_dual_outside_dualarray_inside(f):
    # d/dp of the gradient in x of sum W(p x): a scalar Dual level under a DualArray one
    x = np.array([0.5, 2.0])

    def g1(p):
        return dualml.gradient(lambda y: np.sum(f(p * y)), x)[1]

    def mp_g1(p):       # p W'(p x_1)
        return p * mpmath.diff(mp_w, p * x[1])
    ref = float(mpmath.diff(mp_g1, mpmath.mpf(1.3)))
    assert dualml.derivative(g1, 1.3) == pytest.approx(ref, rel=1e-12)


def test_two_dualarray_arguments_of_one_differentiation():
    @dualml.custom_jvp
    def hyp(a, b):
        SEEN.append(type(a))
        return np.hypot(a, b)
    hyp.defderivs(lambda a, b: a / hyp(a, b), lambda a, b: b / hyp(a, b))
    z = np.array([3.0, 1.0, 4.0, -2.0])
    a, b = z[:2], z[2:]
    r = np.hypot(a, b)
    J = dualml.jacobian(lambda y: hyp(y[:2], y[2:]), z)
    ref = np.hstack([np.diag(a / r), np.diag(b / r)])
    assert np.allclose(J, ref, rtol=1e-15, atol=0)
    H = dualml.hessian(lambda y: np.sum(hyp(y[:2], y[2:])), z)
    # d2/da2 hypot = b^2 / r^3, d2/dadb = -a b / r^3, d2/db2 = a^2 / r^3
    Href = np.zeros((4, 4))
    for i in range(2):
        Href[i, i], Href[i + 2, i + 2] = b[i] ** 2 / r[i] ** 3, a[i] ** 2 / r[i] ** 3
        Href[i, i + 2] = Href[i + 2, i] = -a[i] * b[i] / r[i] ** 3
    assert np.allclose(H, Href, rtol=1e-14, atol=1e-16)
    # a list holding DualArrays is refused, not differentiated wrongly
    with pytest.raises(TypeError, match="holding DualArrays"):
        dualml.gradient(lambda y: np.sum(hyp([y[0], y[1]], 1.0)), z)


def test_docstring_examples_run():
    import doctest

    import dualml.custom
    res = doctest.testmod(dualml.custom)
    assert res.failed == 0 and res.attempted >= 10


def test_taylor_mode_uses_the_taylor_rule_or_raises():
    # exp as a primitive: its 4th derivative at 0.5 is exp(0.5) (closed form)
    import math
    f = dualml.custom_jvp(lambda x: np.exp(x), taylor=lambda x: dualml.exp(x))
    f.defderivs(lambda x: f(x))
    assert dualml.derivative(f, 0.5, n=4) == pytest.approx(math.exp(0.5), rel=1e-15)
    c = dualml.taylor(lambda z: np.sum(f(z)), np.array([0.1, 0.2]), np.array([1.0, 0.0]), order=3)
    np.testing.assert_allclose(c, [math.exp(0.1) + math.exp(0.2), math.exp(0.1),
                                   math.exp(0.1) / 2, math.exp(0.1) / 6], rtol=1e-15)
    # no taylor= rule: a clear error, never the body run on a Taylor
    calls = []
    g = dualml.custom_jvp(lambda x: calls.append(x) or np.exp(x))
    g.defderivs(lambda x: g(x))
    with pytest.raises(TypeError, match="no Taylor rule"):
        dualml.derivative(g, 0.5, n=3)
    assert calls == []


def test_multi_partial_duals_from_a_chunked_gradient():
    # gradient of a list (default chunk: all partials in one pass) through a
    # custom primitive, against the closed form and chunk=1
    W = dualml.custom_jvp(lambda x: np.real(lambertw(x)))
    W.defderivs(lambda x: W(x) / (x * (1 + W(x))))
    f = lambda v: W(v[0]) * v[1] + W(v[1] * v[2])
    p = [0.5, 2.0, 1.5]
    g = dualml.gradient(f, p)
    assert np.array_equal(g, dualml.gradient(f, p, chunk=1))
    w0, w12 = np.real(lambertw(0.5)), np.real(lambertw(3.0))
    dW = lambda x, w: w / (x * (1 + w))
    np.testing.assert_allclose(g, [dW(0.5, w0) * 2.0, w0 + dW(3.0, w12) * 1.5,
                                   dW(3.0, w12) * 2.0], rtol=1e-14)
    # an object array of multis (method="scalar" on an ndarray goes through lists too)
    J = dualml.jacobian(lambda v: W(np.array(v, dtype=object)), p)
    np.testing.assert_allclose(J, np.diag([dW(x, np.real(lambertw(x))) for x in p]), rtol=1e-14)
