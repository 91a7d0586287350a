"""implicit (dualml.implicit): derivatives of a solver's root by the IFT.

References: the closed form dx/dp = -x / (3x^2 + p) for x^3 + p x - 1 = 0,
and mpmath.diff of mpmath.findroot at 30 digits (second derivatives, the
vector system).
"""
import mpmath
import numpy as np
import pytest
from scipy.optimize import brentq, root

import dualml

mpmath.mp.dps = 30
SEEN = []


def F(x, p):
    return x ** 3 + p * x - 1


def by_brentq(p):
    SEEN.append(type(p))
    return brentq(F, 0.0, 2.0, args=(p,), xtol=1e-15, rtol=1e-15)


def by_newton(p):
    SEEN.append(type(p))
    x = 1.0
    for _ in range(100):
        x -= (x ** 3 + p * x - 1) / (3 * x * x + p)
    return x


def mp_root(p):
    return mpmath.findroot(lambda x: x ** 3 + p * x - 1, 0.6)


@pytest.fixture(autouse=True)
def _plain_solver_inputs():
    SEEN.clear()
    yield
    assert all(t in (float, np.ndarray) for t in SEEN), SEEN


@pytest.mark.parametrize("solver", [by_brentq, by_newton])
def test_cubic_first_derivative_closed_form(solver):
    x_star = dualml.implicit(F, solver)
    for p in (0.5, 2.0, 7.0):
        x = x_star(p)
        assert abs(F(x, p)) < 1e-14
        assert dualml.derivative(x_star, p) == pytest.approx(-x / (3 * x * x + p), rel=1e-14)
        v, _ = dualml.value_and_derivative(x_star, p)
        assert v == x


@pytest.mark.parametrize("solver", [by_brentq, by_newton])
def test_cubic_second_and_third_derivative_against_mpmath(solver):
    x_star = dualml.implicit(F, solver)
    for p in (0.5, 2.0):
        d2 = dualml.derivative(lambda q: dualml.derivative(x_star, q), p)
        assert d2 == pytest.approx(float(mpmath.diff(mp_root, p, 2)), rel=1e-13)
        d3 = dualml.derivative(lambda r: dualml.derivative(
            lambda q: dualml.derivative(x_star, q), r), p)
        assert d3 == pytest.approx(float(mpmath.diff(mp_root, p, 3)), rel=1e-11)
    # the hessian in (p, c) of c * x*(p): array path, scalar path
    H_ref = np.array([[3.0 * float(mpmath.diff(mp_root, 2.0, 2)),
                       float(mpmath.diff(mp_root, 2.0))],
                      [float(mpmath.diff(mp_root, 2.0)), 0.0]])
    for pt in (np.array([2.0, 3.0]), [2.0, 3.0]):
        H = dualml.hessian(lambda z: x_star(z[0]) * z[1], pt)
        assert np.allclose(H, H_ref, rtol=1e-13, atol=0)


def G(x, p):
    # two equations in x (2,) with parameters p (2,), written as a list
    return [x[0] + 0.5 * (x[0] - x[1]) ** 3 - p[0],
            0.5 * (x[1] - x[0]) ** 3 + x[1] - p[0] * p[1]]


def by_root(p):
    SEEN.append(type(p))
    return root(lambda x: G(x, p), np.zeros(2), tol=1e-14)


def mp_xi(i):
    def xi(a, b):
        return mpmath.findroot(lambda u, v: G([u, v], [a, b]), (0.5, 0.5))[i]
    return xi


P0 = np.array([1.0, 0.5])


def test_vector_system_jacobian_and_hessian_against_mpmath():
    x_star = dualml.implicit(G, by_root)
    J_ref = np.array([[float(mpmath.diff(mp_xi(i), tuple(P0), (int(j == 0), int(j == 1))))
                       for j in range(2)] for i in range(2)])
    for pt in (P0, list(P0)):                   # DualArray and scalar-Dual paths
        J = dualml.jacobian(x_star, pt)
        assert np.allclose(J, J_ref, rtol=1e-13, atol=0)
    H_ref = np.array([[float(mpmath.diff(mp_xi(0), tuple(P0),
                                         (int(i == 0) + int(j == 0), int(i == 1) + int(j == 1))))
                       for j in range(2)] for i in range(2)])
    for pt in (P0, list(P0)):
        H = dualml.hessian(lambda q: x_star(q)[0], pt)
        assert np.allclose(H, H_ref, rtol=1e-11, atol=0)
    # jvp: one direction through the same solve
    v = np.array([0.3, -1.0])
    assert np.allclose(dualml.jvp(x_star, P0, v)[1], J_ref @ v, rtol=1e-13)


def test_scalar_root_vector_parameters():
    # x^3 + p0 x - p1 = 0: dx/dp0 = -x / (3x^2 + p0), dx/dp1 = 1 / (3x^2 + p0)
    def H3(x, p):
        return x ** 3 + p[0] * x - p[1]

    def solve(p):
        SEEN.append(type(p))
        return brentq(H3, -5.0, 5.0, args=(p,), xtol=1e-15, rtol=1e-15)
    x_star = dualml.implicit(H3, solve)
    p = np.array([2.0, 1.5])
    x = x_star(p)
    ref = np.array([-x, 1.0]) / (3 * x * x + p[0])
    assert np.allclose(dualml.gradient(x_star, p), ref, rtol=1e-14)
    assert np.allclose(dualml.gradient(x_star, list(p)), ref, rtol=1e-14)


def test_extra_args_are_constants_and_errors():
    x_star = dualml.implicit(lambda x, p, c: x ** 3 + p * x - c,
                             lambda p, c: brentq(lambda x: x ** 3 + p * x - c, -5, 5,
                                                 xtol=1e-15))
    x = x_star(2.0, 1.0)
    assert dualml.derivative(lambda p: x_star(p, 1.0), 2.0) == pytest.approx(
        -x / (3 * x * x + 2.0), rel=1e-13)
    with pytest.raises(ValueError, match="extra argument 0"):
        dualml.derivative(lambda c: x_star(2.0, c), 1.0)

    class Failed:
        success = False
        message = "iteration limit"
        x = np.zeros(2)
    bad = dualml.implicit(G, lambda p: Failed())
    with pytest.raises(ValueError, match="did not converge"):
        dualml.jacobian(bad, P0)
    wrong = dualml.implicit(lambda x, p: [x[0] - p], lambda p: np.array([p, p]))
    with pytest.raises(ValueError, match="x's shape"):
        dualml.derivative(wrong, 1.0)
    singular = dualml.implicit(lambda x, p: [x[0] + x[1] - p[0], 2 * x[0] + 2 * x[1] - 2 * p[0]],
                               lambda p: np.array([p[0], 0.0]))
    with pytest.raises(np.linalg.LinAlgError):
        dualml.jacobian(singular, [1.0])
    with pytest.raises(TypeError, match="callable"):
        dualml.implicit(G, None)


def test_docstring_examples_run():
    import doctest
    import sys
    # the function dualml.implicit shadows its module's name on the package
    res = doctest.testmod(sys.modules["dualml.implicit"])
    assert res.failed == 0 and res.attempted >= 5
