"""TaylorArray (dualml/_taylor/_array.py): the array path equals the scalar
path elementwise for every rule; linear and bilinear NumPy functions against
the same function applied by NumPy to each coefficient slice (and, for
products, the Cauchy product written out); unsupported functions raise."""
import numpy as np
import pytest
import reference as R

import dualml
from dualml import Taylor, TaylorArray

K = 5


def _random_coeffs(points, seed):
    rng = np.random.default_rng(seed)
    c = rng.uniform(-0.5, 0.5, (K + 1, len(points)))
    c[0] = points
    c[1] = rng.uniform(0.5, 1.5, len(points))
    return c


def _scalar_equal(arr_result, scalar_results):
    for i, s in enumerate(scalar_results):
        np.testing.assert_array_equal(arr_result.coefficients[:, i], s.coefficients)


@pytest.mark.parametrize("name", dualml.UNARY + dualml.UNARY_PARAM)
def test_unary_array_path_equals_scalar_path(name):
    u = R.UNARY[name]
    pts = np.array(list(u.interior) + [0.0, -0.0, 1.0])
    c = _random_coeffs(pts, 1)
    fn = getattr(dualml, name)
    args = (0.2,) if name in dualml.UNARY_PARAM else ()
    got = fn(TaylorArray(c), *args)
    _scalar_equal(got, [fn(Taylor(c[:, i]), *args) for i in range(len(pts))])
    if hasattr(np, name) and not args:          # the NumPy ufunc dispatches alike
        np.testing.assert_array_equal(getattr(np, name)(TaylorArray(c)).coefficients,
                                      got.coefficients)


@pytest.mark.parametrize("name", dualml.BINARY)
def test_binary_array_path_equals_scalar_path_with_broadcasting(name):
    pairs = R.BINARY[name].interior
    a = _random_coeffs(np.array([p[0] for p in pairs]), 2)
    b = _random_coeffs(np.array([p[1] for p in pairs[:1]]), 3)    # one element: broadcast
    fn = getattr(dualml, name)
    got = fn(TaylorArray(a), TaylorArray(b))
    _scalar_equal(got, [fn(Taylor(a[:, i]), Taylor(b[:, 0])) for i in range(a.shape[1])])
    # a constant array operand on either side
    got = fn(TaylorArray(a), np.full(a.shape[1], pairs[0][1]))
    _scalar_equal(got, [fn(Taylor(a[:, i]), pairs[0][1]) for i in range(a.shape[1])])


def test_operators_and_2d_broadcasting():
    a = TaylorArray(np.random.default_rng(4).uniform(1, 2, (K + 1, 3, 1)))
    b = TaylorArray(np.random.default_rng(5).uniform(1, 2, (K + 1, 1, 4)))
    for op in (lambda x, y: x + y, lambda x, y: x - y, lambda x, y: x * y,
               lambda x, y: x / y, lambda x, y: x ** y, lambda x, y: 2.0 * x - y / 3.0):
        r = op(a, b)
        assert r.shape == (3, 4)
        for i in range(3):
            for j in range(4):
                np.testing.assert_array_equal(r[i, j].coefficients, op(a[i, 0], b[0, j]).coefficients)
    assert isinstance(a[0, 0], Taylor)          # a 0-d element is a scalar Taylor
    assert (-a).coefficients.tolist() == (-a.coefficients).tolist()


def test_linear_functions_act_on_each_coefficient():
    c = np.random.default_rng(6).normal(size=(K + 1, 2, 3))
    x = TaylorArray(c)
    checks = [
        (np.sum(x), c.sum(axis=(1, 2))), (x.sum(axis=0).coefficients, c.sum(axis=1)),
        (np.mean(x, axis=1), c.mean(axis=2)), (x.T, np.transpose(c, (0, 2, 1))),
        (x.reshape(3, 2), c.reshape(K + 1, 3, 2)), (np.ravel(x), c.reshape(K + 1, 6)),
        (x[1, ::2], c[:, 1, ::2]), (np.cumsum(x, axis=1), np.cumsum(c, axis=2)),
        (np.diff(x, axis=1), np.diff(c, axis=2)),
        (np.concatenate([x, np.ones((2, 3))]), np.concatenate([c, np.concatenate(
            [np.ones((1, 2, 3)), np.zeros((K, 2, 3))])], axis=1)),
        (np.stack([x, x], axis=1), np.stack([c, c], axis=2)),
        (np.where(x.value > 0, x, 0.0), np.where(c[0] > 0, c, 0.0)),
    ]
    for got, ref in checks:
        got = got.coefficients if hasattr(got, "coefficients") else got
        np.testing.assert_allclose(got, ref, rtol=1e-15, atol=1e-15)


def test_products_are_cauchy_products():
    rng = np.random.default_rng(8)
    ca, cb = rng.normal(size=(K + 1, 3, 4)), rng.normal(size=(K + 1, 4))
    ref = np.array([sum(ca[j] @ cb[k - j] for j in range(k + 1)) for k in range(K + 1)])
    np.testing.assert_allclose((TaylorArray(ca) @ TaylorArray(cb)).coefficients, ref,
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(np.dot(TaylorArray(ca), TaylorArray(cb)).coefficients, ref,
                               rtol=1e-13, atol=1e-13)
    w = rng.normal(size=(2, 3))
    np.testing.assert_allclose((w @ TaylorArray(ca)).coefficients,
                               np.einsum("ij,kjl->kil", w, ca), rtol=1e-13, atol=1e-13)


def test_unsupported_functions_raise_naming_them():
    x = TaylorArray(np.ones((K + 1, 3)))
    with pytest.raises(TypeError, match="np.sort"):
        np.sort(x)
    with pytest.raises(TypeError, match="np.linalg.inv|np.inv"):
        np.linalg.inv(TaylorArray(np.ones((K + 1, 2, 2))))
    with pytest.raises(TypeError, match="np.multiply.accumulate"):
        np.multiply.accumulate(x)
    with pytest.raises(TypeError, match="out="):
        np.sin(x, out=np.empty(3))
    with pytest.raises(TypeError, match="DualArray"):
        x + dualml.DualArray(np.ones(3), np.ones(3))
    with pytest.raises(TypeError, match="drop"):
        float(x)


def test_setitem_and_iteration():
    x = TaylorArray(np.zeros((K + 1, 3)))
    x[1] = Taylor(np.arange(K + 1.0))
    x[2] = 5.0
    assert x[1].coefficients.tolist() == list(np.arange(K + 1.0))
    assert x[2].coefficients.tolist() == [5.0] + [0.0] * K
    assert [e.value for e in x] == [0.0, 0.0, 5.0] and len(x) == 3
    y = TaylorArray(np.zeros((K + 1, 2, 3)))
    y[0] = Taylor(np.arange(K + 1.0))             # one series into a whole row
    np.testing.assert_array_equal(y.coefficients[:, 0], np.arange(K + 1.0)[:, None] * np.ones(3))
