"""Derivatives inside derivatives: tags keep the perturbations apart.

Each case has an analytic or sympy answer; a perturbation-confusion bug
gives a wrong number (often 0 or a doubled term), never an exception, so
every case checks the value.
"""
import math

import numpy as np
import pytest
import sympy as sp

import dualml
from dualml import Dual, calculus
from dualml.dual import _MultiDual

D = dualml.derivative


def test_classic_perturbation_confusion():
    # d/dx [x * d/dy (x + y)] = d/dx [x] = 1 (confusion gives 2)
    assert D(lambda x: x * D(lambda y: x + y, 1.0), 1.0) == 1.0


def test_derivative_of_a_derivative():
    assert D(lambda x: D(lambda y: y ** 3, x), 2.0) == 12.0


def test_third_derivative_by_triple_nesting_matches_sympy():
    t = sp.Symbol("t")
    expr = sp.sin(t) * sp.exp(t ** 2) / (1 + t ** 2)

    def f(u):
        return dualml.sin(u) * dualml.exp(u * u) / (1 + u * u)
    for x0 in (0.3, -0.8, 1.1):
        got = D(lambda a: D(lambda b: D(f, b), a), x0)
        ref = float(sp.diff(expr, t, 3).evalf(30, subs={t: sp.Float(x0, 30)}))
        assert abs(got - ref) <= 1e-12 * (1 + abs(ref))
        # the same by hessian of derivative and derivative of hessian
        assert abs(calculus.hessian(lambda a: D(f, a), x0) - ref) <= 1e-12 * (1 + abs(ref))
        assert abs(D(lambda a: calculus.hessian(f, a), x0) - ref) <= 1e-12 * (1 + abs(ref))


def test_fourth_derivative_of_a_polynomial():
    # d^4/dx^4 x^6 = 360 x^2
    got = D(lambda a: D(lambda b: D(lambda c: D(lambda d: d ** 6, c), b), a), 1.5)
    assert got == pytest.approx(360 * 1.5 ** 2, rel=1e-14)


def test_gradient_of_a_function_that_calls_derivative():
    # g(v) = d/dt [v0 t^2 + v1 sin(v0 t)] at t = 3 = 6 v0 + v1 v0 cos(3 v0)
    def g(v):
        return D(lambda t: v[0] * t ** 2 + v[1] * dualml.sin(v[0] * t), 3.0)
    v0, v1 = 0.4, 2.0
    ref = [6 + v1 * math.cos(3 * v0) - 3 * v1 * v0 * math.sin(3 * v0), v0 * math.cos(3 * v0)]
    got = calculus.gradient(g, [v0, v1])
    assert np.allclose(got, ref, rtol=1e-14, atol=0)


def _rosen_hess(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] = H[i + 1, i] = -400 * x[i]
    return H


def rosen(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2 for i in range(len(x) - 1))


@pytest.mark.parametrize("as_array", [False, True])
def test_hessian_of_rosenbrock_is_analytic_and_jacobian_of_gradient_agrees(as_array):
    x = [-1.2, 1.0, 0.4, 2.0]
    x = np.array(x) if as_array else x
    H = calculus.hessian(rosen, x)
    ref = _rosen_hess(x)
    assert np.array_equal(H, H.T)
    assert np.allclose(H, ref, rtol=1e-15, atol=0)
    JG = calculus.jacobian(lambda y: calculus.gradient(rosen, y), x)
    assert np.allclose(JG, ref, rtol=1e-15, atol=0)


def test_hessian_of_a_hessian_entry():
    # d^2/dw_i dw_j [d^2/dw0 dw1 (w0^3 w1^2)] = d^2(6 w0^2 w1) = [[12 w1, 12 w0], [12 w0, 0]]
    w = [1.0, 2.0]
    got = calculus.hessian(lambda v: calculus.hessian(lambda u: u[0] ** 3 * u[1] ** 2, v)[0, 1], w)
    assert got.tolist() == [[24.0, 12.0], [12.0, 0.0]]


# -- the confusion test (ForwardDiff.jl style): inner functions that close over
#    the outer variable in several ways --------------------------------------------------

def test_confusion_inner_closes_over_outer_and_is_seeded_at_it():
    # d/dx [d/dy (x y) at y = x] = d/dx [x] = 1
    assert D(lambda x: D(lambda y: x * y, x), 2.0) == 1.0
    # d/dx [d/dy (x y^2) at y = x] = d/dx [2 x^2] = 4x
    assert D(lambda x: D(lambda y: x * y ** 2, x), 1.5) == 6.0


def test_confusion_triple_product():
    # d/dx d/dy d/dz (x y z) = 1, each level closing over the outer ones
    assert D(lambda x: D(lambda y: D(lambda z: x * y * z, 1.0), 1.0), 1.0) == 1.0
    # d/dx [x d/dy [y d/dz (x y z)]]: inner d/dz (x y z) = x y; middle
    # d/dy [y * x y] = 2 x y = 2x at y = 1; outer d/dx [x * 2x] = 4x
    assert D(lambda x: x * D(lambda y: y * D(lambda z: x * y * z, 1.0), 1.0), 3.0) == 12.0


def test_confusion_through_a_stored_outer_value():
    # The inner function reaches the outer variable through a container and a
    # default argument: d/dx [x^2 * d/dy (y * x)] = d/dx [x^3] = 3x^2
    def outer(x):
        box = {"x": x}

        def inner(y, xx=x):
            return y * box["x"] + 0.0 * xx
        return x * x * D(inner, 5.0)
    assert D(outer, 2.0) == 12.0


def test_confusion_gradient_inside_gradient():
    # f(a) = sum_i a_i * [grad_b (a . b)^2 at b = a]_i = sum_i a_i * 2 (a.a) a_i = 2 |a|^4
    # grad_a f = 8 |a|^2 a
    def f(a):
        g = calculus.gradient(lambda b: sum(ai * bi for ai, bi in zip(a, b)) ** 2, a)
        return sum(ai * gi for ai, gi in zip(a, g))
    a = [0.5, -1.0, 2.0]
    n2 = sum(t * t for t in a)
    assert np.allclose(calculus.gradient(f, a), [8 * n2 * t for t in a], rtol=1e-15, atol=0)


def test_confusion_jvp_and_partial_inside_derivative():
    # d/dx [ J_y(x*y, y^2) . (1, x) at y = x ] with jvp: (x*1*... ) worked out:
    # jvp of F(y) = [x y, y^2] at y = x along v = x: [x * x, 2 x * x] -> first entry x^2
    got = D(lambda x: calculus.jvp(lambda y: [x * y[0], y[0] ** 2], [x], [x])[1][0], 1.5)
    assert got == pytest.approx(3.0, rel=1e-15)                 # d/dx x^2 = 2x
    # partial of x * y0 * y1 w.r.t. y1 at y = (x, 1): x^2 -> derivative 2x
    got = D(lambda x: calculus.partial(lambda y: x * y[0] * y[1], [x, 1.0], 1), 1.5)
    assert got == 3.0


def test_outer_duals_in_x_are_values_to_the_inner_call():
    # jacobian(lambda y: gradient(f, y)) sees outer Duals in the point
    seen = []

    def f(y):
        seen.append([type(e) for e in y])
        return y[0] ** 2 * y[1]
    calculus.jacobian(lambda y: calculus.gradient(f, y, chunk=1), [1.0, 2.0], chunk=1)
    assert any(Dual in kinds for kinds in seen)
    for outer, inner in ((1, 1), (1, None), (None, 1), (None, None)):
        seen.clear()
        got = calculus.jacobian(lambda y: calculus.gradient(f, y, chunk=inner), [1.0, 2.0],
                                chunk=outer)
        assert got.tolist() == [[4.0, 2.0], [2.0, 0.0]]
        if outer is None and inner == 1:    # an outer multi-partial Dual as a value
            assert any(_MultiDual in kinds for kinds in seen)


def test_object_array_point_of_outer_duals():
    # gradient inside jacobian with ndarray points: entries are nested Duals
    def f(y):
        return np.sum(np.exp(y) * y[::-1])
    x = np.array([0.1, 0.5, -0.3])
    got = calculus.jacobian(lambda y: calculus.gradient(f, y), x)
    # f = sum_i e^{y_i} y_{n-1-i}; H_ii = e^{y_i} y_{n-1-i} + 2 e^{y_i} [i == n-1-i]
    n = len(x)
    ref = np.zeros((n, n))
    for i in range(n):
        j = n - 1 - i
        ref[i, i] += np.exp(x[i]) * x[j]
        ref[i, j] += np.exp(x[i])
        ref[j, i] += np.exp(x[i])
    assert np.allclose(got, ref, rtol=1e-15, atol=0)
    assert np.allclose(calculus.hessian(f, x), ref, rtol=1e-15, atol=0)


def test_escaped_inner_perturbation_is_an_error():
    # f keeps the seed of an inner derivative and uses it after that call
    # returned: the result carries an inner tag, which must not be read as 0.
    leaked = []

    def f(x):
        D(lambda y: leaked.append(y) or y * y, 1.0)
        return x[0] * leaked[-1]
    for fn in (calculus.gradient, calculus.jacobian, calculus.hessian):
        with pytest.raises(ValueError, match="escaped"):
            fn(f, [2.0, 1.0])


def test_a_crafted_deep_pickle_is_refused_not_a_crash():
    # each _rebuild wraps one more level; 10^5 levels used to crash the
    # interpreter on the next operation (the recursive rules ran out of stack)
    import pickle
    from dualml.dual import _rebuild
    d = 1.0
    with pytest.raises(ValueError, match="corrupt Dual pickle"):
        for tag in range(2, 100_000):
            d = _rebuild(tag, d, d)
    # a genuinely nested Dual (components of smaller tags) round-trips
    x = _rebuild(3, _rebuild(2, 1.5, 1.0), _rebuild(2, 0.5, 0.0))
    r = pickle.loads(pickle.dumps(x * x))
    assert r.value.value == 2.25 and r.deriv.value == 1.5
    with pytest.raises(ValueError, match="tag"):
        _rebuild(2, _rebuild(5, 1.0, 1.0), 1.0)    # a part of a larger tag
