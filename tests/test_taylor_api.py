"""dualml.taylor, dualml.directional_derivative and derivative(f, x, n=K).

References: mpmath.diff at 50 digits, closed forms, and today's first and
nested Dual derivatives for n = 1 and 2.
"""
import math

import mpmath
import numpy as np
import pytest

import dualml
from dualml import Taylor, TaylorArray


def _mp_diff(f, x0, n):
    with mpmath.workdps(50):
        return float(mpmath.diff(f, mpmath.mpf(x0), n))


def f_dual(x):
    return dualml.sin(x) * dualml.exp(0.5 * x) / (1.0 + x * x) + dualml.tanh(x) ** 2


def f_mp(x):
    return mpmath.sin(x) * mpmath.exp(0.5 * x) / (1 + x * x) + mpmath.tanh(x) ** 2


@pytest.mark.parametrize("n", [3, 4, 6, 10, 12])
def test_nth_derivative_against_mpmath(n):
    for x0 in (-1.3, 0.2, 0.7, 2.5):
        got = dualml.derivative(f_dual, x0, n=n)
        ref = _mp_diff(f_mp, x0, n)
        assert got == pytest.approx(ref, rel=1e-10, abs=1e-12 * math.factorial(n)), (n, x0)


def test_n1_and_n2_are_todays_first_and_nested_derivatives():
    for x0 in (-1.3, 0.2, 0.7, 2.5):
        assert dualml.derivative(f_dual, x0, n=1) == dualml.derivative(f_dual, x0)
        nested = dualml.derivative(lambda t: dualml.derivative(f_dual, t), x0)
        assert dualml.derivative(f_dual, x0, n=2) == nested
        # Taylor mode's second coefficient agrees with the nested Dual
        c = dualml.taylor(f_dual, x0, order=2)
        assert 2 * c[2] == pytest.approx(nested, rel=1e-13)
        assert c[1] == pytest.approx(dualml.derivative(f_dual, x0), rel=1e-14)


def test_n0_is_the_value_and_args_are_passed():
    assert dualml.derivative(lambda x, a: a * x ** 4, 2.0, args=(3.0,), n=0) == 48.0
    assert dualml.derivative(lambda x, a: a * x ** 4, 2.0, args=(3.0,), n=3) == 3.0 * 24 * 2
    assert dualml.derivative(lambda x, a: a * x ** 4, 2.0, args=(3.0,), n=2) == 3.0 * 12 * 4
    assert dualml.derivative(lambda x: x ** 4, 2, n=4) == 24.0          # int x


def test_taylor_scalar_closed_form():
    # exp(x + t v) = e^x sum (v t)^k / k!
    c = dualml.taylor(dualml.exp, 0.3, v=2.0, order=6)
    ref = [math.exp(0.3) * 2.0 ** k / math.factorial(k) for k in range(7)]
    np.testing.assert_allclose(c, ref, rtol=1e-15)
    assert c.shape == (7,)


def test_taylor_of_a_vector_valued_scalar_function():
    c = dualml.taylor(lambda x: [x * x, dualml.sin(x), 1.0], 0.5, order=3)
    assert c.shape == (4, 3)
    np.testing.assert_allclose(c[:, 0], [0.25, 1.0, 1.0, 0.0])
    np.testing.assert_allclose(c[:, 1], [math.sin(0.5), math.cos(0.5), -math.sin(0.5) / 2,
                                         -math.cos(0.5) / 6], rtol=1e-15)
    np.testing.assert_array_equal(c[:, 2], [1.0, 0.0, 0.0, 0.0])
    d = dualml.derivative(lambda x: np.array([x ** 3, x ** 4]), 2.0, n=3)
    np.testing.assert_array_equal(d, [6.0, 48.0])


def test_directional_derivative_of_an_array_function():
    x = np.array([0.3, -0.8, 1.1])
    v = np.array([1.0, 0.5, -2.0])

    def f(z):
        return np.sum(np.sin(z) * z ** 2) + dualml.exp(z[0] * z[1])

    def g(t):          # f(x + t v) in mpmath
        z = [mpmath.mpf(a) + t * b for a, b in zip(x, v)]
        return sum(mpmath.sin(s) * s ** 2 for s in z) + mpmath.exp(z[0] * z[1])
    for n in (1, 2, 3, 5):
        got = dualml.directional_derivative(f, x, v, n=n)
        assert got == pytest.approx(_mp_diff(g, 0.0, n), rel=1e-10), n
    c = dualml.taylor(f, x, v, order=4)
    assert c.shape == (5,)


def test_taylor_of_an_array_function_has_the_output_shape():
    x = np.array([[0.1, 0.2], [0.3, 0.4]])
    c = dualml.taylor(lambda z: np.exp(z) * 2.0, x, v=1.0, order=3)
    assert c.shape == (4, 2, 2)
    for k in range(4):
        np.testing.assert_allclose(c[k], 2 * np.exp(x) / math.factorial(k), rtol=1e-15)
    # a direction broadcast against x
    c = dualml.taylor(lambda z: z * z, x, v=[1.0, 0.0], order=2)
    np.testing.assert_array_equal(c[2], [[1.0, 0.0], [1.0, 0.0]])


def test_hessian_quadratic_form_closed_form():
    # f = x0^2 x1 + sin(x1): v^T H v with H = [[2 x1, 2 x0], [2 x0, -sin x1]]
    x, v = np.array([1.5, 0.4]), np.array([0.7, -1.2])
    H = np.array([[2 * x[1], 2 * x[0]], [2 * x[0], -math.sin(x[1])]])
    got = dualml.directional_derivative(lambda z: z[0] ** 2 * z[1] + np.sin(z[1]), x, v, n=2)
    assert got == pytest.approx(v @ H @ v, rel=1e-14)


# -- errors ----------------------------------------------------------------------------

def test_errors_name_the_argument():
    with pytest.raises(ValueError, match="order"):
        dualml.taylor(dualml.exp, 0.0, order=129)
    with pytest.raises(TypeError, match="order"):
        dualml.taylor(dualml.exp, 0.0, order=2.5)
    with pytest.raises(ValueError, match="n must be >= 0"):
        dualml.derivative(dualml.exp, 0.0, n=-1)
    with pytest.raises(TypeError, match="n must be an int"):
        dualml.derivative(dualml.exp, 0.0, n=3.0)
    with pytest.raises(ValueError, match="direction v"):
        dualml.taylor(dualml.exp, 0.0, v=[1.0, 2.0])
    with pytest.raises(ValueError, match="broadcast"):
        dualml.taylor(dualml.exp, np.zeros(3), v=[1.0, 2.0])
    with pytest.raises(TypeError, match="derivative\\(\\) takes a scalar"):
        dualml.derivative(dualml.exp, np.zeros(3), n=3)
    with pytest.raises(TypeError, match="f returned str"):
        dualml.taylor(lambda x: "no", 1.0)


def test_no_silent_conversions():
    t = Taylor([1.0, 2.0])
    for conv in (float, int, complex):
        with pytest.raises(TypeError, match="drop"):
            conv(t)
    with pytest.raises(TypeError, match="drop"):
        np.asarray(TaylorArray(np.ones((2, 3))))
    with pytest.raises(TypeError, match="math module"):
        dualml.derivative(lambda x: math.sin(x), 0.5, n=3)
    with pytest.raises(TypeError):
        hash(t)


def test_mixing_with_duals_and_nesting_raise():
    with pytest.raises(TypeError, match="Dual"):
        dualml.derivative(lambda x: dualml.derivative(lambda y: x * y ** 3, 1.0, n=3), 2.0)
    with pytest.raises(TypeError, match="Dual"):
        dualml.derivative(lambda x: dualml.taylor(lambda y: y * y, x, order=3)[3], 2.0)
    with pytest.raises(TypeError, match="different dualml.taylor calls"):
        dualml.derivative(lambda x: dualml.derivative(lambda y: x * y ** 3, 1.0, n=3), 2.0, n=3)
    with pytest.raises(TypeError, match="does not nest inside another derivative"):
        dualml.derivative(lambda x: dualml.derivative(dualml.exp, x, n=3), 2.0)
    with pytest.raises(TypeError, match="Dual"):
        Taylor([1.0, 1.0]) * dualml.Dual(1.0, 1.0)
    with pytest.raises(TypeError, match="Dual"):
        dualml.Dual(1.0, 1.0) + Taylor([1.0, 1.0])
    with pytest.raises(ValueError, match="degree"):
        Taylor([1.0, 1.0]) + Taylor([1.0, 1.0, 0.0])


def test_escaped_taylor_is_detected():
    kept = []
    dualml.taylor(lambda x: kept.append(x) or x, 1.0, order=3)
    with pytest.raises(ValueError, match="another dualml.taylor call"):
        dualml.taylor(lambda x: kept[0], 1.0, order=3)


def test_taylor_type_basics():
    t = Taylor([1.0, 2.0, 3.0])
    assert t.order == 2 and t.value == 1.0
    assert repr(t) == "Taylor([1.0, 2.0, 3.0])"
    assert t > 0.5 and t == 1.0 and not (t < 1.0)
    assert (t - t).coefficients.tolist() == [0.0, 0.0, 0.0]
    # NumPy ufuncs and object arrays of Taylors
    np.testing.assert_allclose(np.sin(t).coefficients, dualml.sin(t).coefficients)
    arr = np.array([t, 2 * t], dtype=object)
    assert np.sum(arr).coefficients.tolist() == [3.0, 6.0, 9.0]
    assert np.exp(arr)[1].coefficients.tolist() == dualml.exp(2 * t).coefficients.tolist()
    big = Taylor(np.arange(40.0))             # past the inline buffer
    assert (big * 1.0).coefficients.tolist() == list(np.arange(40.0))
    import pickle
    assert pickle.loads(pickle.dumps(t)).coefficients.tolist() == [1.0, 2.0, 3.0]
