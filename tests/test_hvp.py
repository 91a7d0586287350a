"""hvp and value_gradient_and_hessian (dualml.calculus, dualml._arraycalc).

References are closed forms (Rosenbrock, quadratic forms), sympy for a
random expression, and mpmath's diff for a nested derivative -- never
dualml.hessian alone.
"""
import mpmath
import numpy as np
import pytest
import sympy as sp

import dualml
from dualml import _arraycalc as AC


def rosen(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_loop(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
               for i in range(len(x) - 1))


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] = -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosen_hess(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i, i + 1] = H[i + 1, i] = -400.0 * x[i]
        H[i + 1, i + 1] += 200.0
    return H


RNG = np.random.default_rng(13)
X10 = RNG.uniform(-1.5, 1.5, 10)
V10 = RNG.normal(size=10)


@pytest.mark.parametrize("method", ["auto", "array", "scalar"])
def test_hvp_rosenbrock_closed_form(method):
    ref = rosen_hess(X10) @ V10
    got = dualml.hvp(rosen, X10, V10, method=method)
    assert got.shape == (10,)
    assert np.allclose(got, ref, rtol=1e-13, atol=1e-10)


def test_hvp_list_input_scalar_path():
    ref = rosen_hess(X10) @ V10
    got = dualml.hvp(rosen_loop, list(X10), list(V10))
    assert np.allclose(got, ref, rtol=1e-13, atol=1e-10)
    # the array and scalar paths agree to rounding
    assert np.allclose(got, dualml.hvp(rosen, X10, V10), rtol=1e-13, atol=1e-10)


def test_hvp_quadratic_form_2d_point():
    # f(X) = 1/2 vec(X)' A vec(X) + b' vec(X): H = (A + A') / 2, any X
    A = RNG.normal(size=(6, 6))
    b = RNG.normal(size=6)
    X = RNG.normal(size=(2, 3))
    V = RNG.normal(size=(2, 3))

    def f(Y):
        y = Y.reshape(6)
        return 0.5 * (y @ (A @ y)) + b @ y
    ref = (0.5 * (A + A.T) @ V.reshape(6)).reshape(2, 3)
    for method in ("array", "scalar"):
        got = dualml.hvp(f, X, V, method=method)
        assert got.shape == (2, 3)
        assert np.allclose(got, ref, rtol=1e-13, atol=1e-13)


def test_hvp_against_sympy():
    s = sp.symbols("x0:4")
    expr = (sp.sin(s[0] * s[1]) * sp.exp(s[2]) + s[3] ** 3 / (1 + s[0] ** 2)
            + sp.log(1 + s[1] ** 2 * s[3] ** 2) + sp.tanh(s[2] - s[3]))
    x0 = np.array([0.4, -0.9, 0.3, 1.1])
    v = np.array([1.0, -2.0, 0.5, 0.25])
    Hs = sp.hessian(expr, s).subs(dict(zip(s, x0.tolist())))
    ref = np.array(Hs.evalf(30), dtype=float) @ v

    def f(x):
        return (np.sin(x[0] * x[1]) * np.exp(x[2]) + x[3] ** 3 / (1 + x[0] ** 2)
                + np.log(1 + x[1] ** 2 * x[3] ** 2) + np.tanh(x[2] - x[3]))
    for method in ("array", "scalar"):
        assert np.allclose(dualml.hvp(f, x0, v, method=method), ref, rtol=1e-13, atol=1e-14)
    assert np.allclose(dualml.hvp(f, list(x0), list(v)), ref, rtol=1e-13, atol=1e-14)


def test_hvp_fallback_to_nesting_matches_closed_form():
    # det has no second-order rows: the array path nests jvp over gradient
    x = np.array([0.3, 1.2, -0.7])
    v = np.array([0.5, -1.0, 2.0])

    def f(y):
        return np.linalg.det(np.outer(y, y) + np.eye(3))     # = 1 + |y|^2
    ref = 2.0 * v
    assert np.allclose(dualml.hvp(f, x, v), ref, rtol=1e-13, atol=1e-13)
    assert np.allclose(AC._hvp_nested(rosen, X10, V10, ()), rosen_hess(X10) @ V10,
                       rtol=1e-13, atol=1e-10)


def test_hvp_scalar_x_and_constant_f():
    assert dualml.hvp(lambda t: t ** 3, 2.0, 1.5) == 18.0
    assert dualml.hvp(lambda t: t ** 3, np.float64(2.0), 1.5) == 18.0
    assert np.array_equal(dualml.hvp(lambda y: 4.0, np.ones(3), np.ones(3)), np.zeros(3))
    assert np.array_equal(dualml.hvp(lambda y: 4.0, [1.0, 2.0], [1.0, 1.0]), np.zeros(2))


def test_hvp_inside_derivative_against_mpmath():
    # g(p) = (H_f(x; p) v)[0] for f = p * x0^2 x1 + exp(p x1): d/dp by mpmath
    x = np.array([0.7, -0.4])
    v = np.array([1.0, 2.0])

    def hv0(p):
        return dualml.hvp(lambda y: p * y[0] ** 2 * y[1] + np.exp(p * y[1]), x, v)[0]

    def hv0_mp(p):
        # H v, row 0 = 2 p x1 v0 + 2 p x0 v1 (the exp term has no x0)
        return 2 * p * x[1] * v[0] + 2 * p * x[0] * v[1]
    ref = float(mpmath.diff(hv0_mp, mpmath.mpf(1.3)))
    assert dualml.derivative(hv0, 1.3) == pytest.approx(ref, rel=1e-14)

    def hv1(p):
        return dualml.hvp(lambda y: p * y[0] ** 2 * y[1] + np.exp(p * y[1]), list(x), list(v))[1]

    def hv1_mp(p):
        return 2 * p * x[0] * v[0] + p ** 2 * mpmath.exp(p * x[1]) * v[1]
    ref1 = float(mpmath.diff(hv1_mp, mpmath.mpf(1.3)))
    assert dualml.derivative(hv1, 1.3) == pytest.approx(ref1, rel=1e-13)
    assert dualml.derivative(lambda p: dualml.hvp(
        lambda y: p * y[0] ** 2 * y[1] + np.exp(p * y[1]), x, v, method="scalar")[1],
        1.3) == pytest.approx(ref1, rel=1e-13)


def test_hvp_errors():
    with pytest.raises(ValueError, match="shape of x"):
        dualml.hvp(rosen, X10, np.ones(3))
    with pytest.raises(ValueError, match="shape of x"):
        dualml.hvp(rosen_loop, list(X10), [1.0, 2.0])
    with pytest.raises(TypeError, match="v is None"):
        dualml.hvp(rosen, X10, None)
    with pytest.raises(ValueError, match="scalar"):
        dualml.hvp(lambda y: y ** 2, X10, V10)
    with pytest.raises(TypeError, match="scalar"):
        dualml.hvp(lambda y: [y[0] ** 2, y[1]], [1.0, 2.0], [1.0, 0.0])
    with pytest.raises(TypeError, match="complex"):
        dualml.hvp(rosen, X10, V10 + 1j)


@pytest.mark.parametrize("method,chunk", [("array", None), ("array", 3), ("scalar", None)])
def test_value_gradient_and_hessian_rosenbrock(method, chunk):
    v, g, H = dualml.value_gradient_and_hessian(rosen, X10, method=method, chunk=chunk)
    assert v == pytest.approx(rosen(X10), rel=1e-15)
    assert np.allclose(g, rosen_grad(X10), rtol=1e-13, atol=1e-11)
    assert np.allclose(H, rosen_hess(X10), rtol=1e-14, atol=1e-12)
    assert g.shape == (10,) and H.shape == (10, 10)


def test_value_gradient_and_hessian_shapes_and_fallback():
    X = np.array([[0.5, -1.0], [2.0, 0.25]])

    def f(Y):
        return np.sum(Y ** 3) + Y[0, 0] * Y[1, 1]
    ref_g = 3 * X ** 2 + np.array([[X[1, 1], 0], [0, X[0, 0]]])
    ref_H = np.diag(6 * X.ravel())
    ref_H[0, 3] = ref_H[3, 0] = 1.0
    for method in ("array", "scalar"):
        v, g, H = dualml.value_gradient_and_hessian(f, X, method=method)
        assert v == pytest.approx(f(X), rel=1e-15)
        assert np.allclose(g, ref_g, rtol=1e-15) and g.shape == (2, 2)
        assert np.allclose(H.reshape(4, 4), ref_H, rtol=1e-15) and H.shape == (2, 2, 2, 2)
    # nested fallback (det): value and gradient come along too
    x = np.array([0.3, 1.2, -0.7])
    v, g, H = dualml.value_gradient_and_hessian(
        lambda y: np.linalg.det(np.outer(y, y) + np.eye(3)), x)
    assert v == pytest.approx(1 + x @ x, rel=1e-14)
    assert np.allclose(g, 2 * x, rtol=1e-14) and np.allclose(H, 2 * np.eye(3), rtol=1e-14)
    assert dualml.value_gradient_and_hessian(lambda t: t ** 3, 2.0) == (8.0, 12.0, 12.0)
    v, g, H = dualml.value_gradient_and_hessian(lambda y: 4.0, np.ones(2))
    assert v == 4.0 and not g.any() and not H.any()


def test_value_gradient_and_hessian_calls_f_as_hessian_does():
    calls = []

    def f(y):
        calls.append(1)
        return np.sum(np.sin(y) * y[0])
    dualml.value_gradient_and_hessian(f, np.ones(4))
    assert len(calls) == 1      # one second-order pass: no extra pass for value/gradient


def test_docstring_examples_run():
    import doctest
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner()
    for name in ("hvp", "value_gradient_and_hessian"):
        for test in finder.find(getattr(dualml, name), name, globs={}):
            runner.run(test)
    assert runner.failures == 0 and runner.tries >= 6


def test_value_gradient_and_hessian_scalar_path_passes():
    calls = []

    def f(y):
        calls.append(1)
        return y[0] ** 2 * y[1] + y[2] ** 3

    ref_H = [[4.0, 2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 18.0]]
    # chunk=1: n(n+1)/2 hyper-dual passes, as hessian; value and gradient come along
    v, g, H = dualml.value_gradient_and_hessian(f, [1.0, 2.0, 3.0], chunk=1)
    assert len(calls) == 6
    assert v == 29.0 and np.array_equal(g, [4.0, 1.0, 27.0])
    assert np.array_equal(H, ref_H)
    # default chunk (multi-partial Duals): n * ceil(n/12) passes for H, plus
    # ceil(n/12) for the value and gradient
    calls.clear()
    v, g, H = dualml.value_gradient_and_hessian(f, [1.0, 2.0, 3.0])
    assert len(calls) == 3 + 1
    assert v == 29.0 and np.array_equal(g, [4.0, 1.0, 27.0])
    assert np.array_equal(H, ref_H)
