"""Sums, differences and products at infinities: a nan the map makes of inputs
that are not nan (inf - inf, 0 * inf) has nan tangents, as the elementwise
rules' domain errors do (dualml/arrays/_shape.py: _domain_nans).

The reference is the scalar Dual, one element at a time: the same sums and
products written as chains of + and *, whose rules decide each step.  The
inputs hold no nan, so the order of a chain does not change where its
result is nan; finite tangents are compared to rounding (NumPy sums
pairwise, the chains left to right).
"""
import functools
import operator
import warnings

import numpy as np
import pytest

from dualml import Dual, DualArray

SPECIALS = np.array([np.inf, -np.inf, 0.0, 1.0, -2.5, 3.0])


@pytest.fixture(autouse=True)
def quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def draws(shape, seed):
    rng = np.random.default_rng(seed)
    return rng.choice(SPECIALS, size=shape), rng.standard_normal(shape)


def duals(v, t):
    return np.array([Dual(a, b) for a, b in zip(v.ravel(), t.ravel())],
                    dtype=object).reshape(v.shape)


def dsum(items):
    return functools.reduce(operator.add, list(items))


def check(got, ref):
    """got: a DualArray with one direction; ref: an object array of Duals."""
    ref = np.asarray(ref, dtype=object)
    rv = np.array([r.value for r in ref.ravel()]).reshape(ref.shape)
    rd = np.array([r.deriv for r in ref.ravel()]).reshape(ref.shape)
    gv, gd = np.asarray(got.value), np.asarray(got.deriv)[0]
    assert np.array_equal(np.isnan(gv), np.isnan(rv)), (gv, rv)
    np.testing.assert_allclose(gv, rv, rtol=1e-12, atol=0)
    assert np.array_equal(np.isnan(gd), np.isnan(rd)), (gv, gd, rd)
    np.testing.assert_allclose(gd, rd, rtol=1e-12, atol=1e-12)


def lazy_and_eager(v, t):
    # an eager array, a lazy result (its block), and a strided view
    x = DualArray(v, t[None])
    yield x
    yield x * 1.0
    wide = DualArray(np.repeat(v, 2, axis=-1), np.repeat(t, 2, axis=-1)[None])
    yield wide[..., ::2]


@pytest.mark.parametrize("seed", range(12))
def test_full_sums_and_means(seed):
    v, t = draws(7, seed)
    ref = dsum(duals(v, t))
    for x in lazy_and_eager(v, t):
        check(x.sum(), ref)
        check(np.sum(x), ref)
        check(x.mean(), ref / 7.0)
        check(np.mean(x), ref / 7.0)


@pytest.mark.parametrize("seed", range(12))
def test_sums_over_an_axis_and_cumsum(seed):
    v, t = draws((3, 4), seed)
    D = duals(v, t)
    for x in lazy_and_eager(v, t):
        check(x.sum(axis=1), [dsum(row) for row in D])
        check(np.sum(x, axis=0), [dsum(col) for col in D.T])
        check(x.mean(axis=0), [dsum(col) / 3.0 for col in D.T])
        check(x.cumsum(axis=1), [list(np.cumsum(row)) for row in D])
        check(np.cumsum(x), list(np.cumsum(D.ravel())))


@pytest.mark.parametrize("seed", range(12))
def test_differences(seed):
    v, t = draws(8, seed)
    D = duals(v, t)
    for x in lazy_and_eager(v, t):
        check(np.diff(x), [b - a for a, b in zip(D[:-1], D[1:])])
        check(np.trapezoid(x), dsum((a + b) / 2.0 for a, b in zip(D[:-1], D[1:])))


@pytest.mark.parametrize("seed", range(12))
def test_products_with_a_constant_matrix(seed):
    v, t = draws(5, seed)
    W = np.random.default_rng(100 + seed).choice([0.0, 1.0, -1.0, 2.0], size=(3, 5))
    D = duals(v, t)
    for x in lazy_and_eager(v, t):
        check(W @ x, [dsum(W[r, i] * D[i] for i in range(5)) for r in range(3)])
        check(x @ W.T, [dsum(D[i] * W[r, i] for i in range(5)) for r in range(3)])
        check(np.dot(W, x), [dsum(W[r, i] * D[i] for i in range(5)) for r in range(3)])
        check(x @ W[0], dsum(D[i] * W[0, i] for i in range(5)))
        check(np.einsum("ij,j->i", W, x), [dsum(W[r, i] * D[i] for i in range(5))
                                           for r in range(3)])


@pytest.mark.parametrize("seed", range(12))
def test_products_of_two_dual_operands(seed):
    v, t = draws(4, seed)
    u, s = draws(4, seed + 50)
    D, E = duals(v, t), duals(u, s)
    x, y = DualArray(v, t[None]), DualArray(u, s[None])
    ref = dsum(D[i] * E[i] for i in range(4))
    check(x @ y, ref)
    check(np.dot(x, y), ref)
    check(np.inner(x, y), ref)
    check(np.outer(x, y), [[a * b for b in E] for a in D])
    X2 = DualArray(np.outer(v, v)[:2], np.outer(t, v)[:2][None])
    D2 = np.array([[D[i] * v[j] for j in range(4)] for i in range(2)], dtype=object)
    check(X2 @ y, [dsum(D2[r, i] * E[i] for i in range(4)) for r in range(2)])


def test_a_nan_input_keeps_the_map_of_the_tangents():
    # the value is nan because an input is: the tangents are the map's, as
    # the rules keep their slopes for a nan input (Dual(nan, 1) + 2 has slope 1)
    x = DualArray(np.array([np.nan, 1.0, 2.0]), np.array([[1.0, 2.0, 4.0]]))
    assert np.isnan(x.sum().value) and x.sum().deriv[0] == 7.0
    assert np.isnan(np.diff(x).value[0]) and np.diff(x).deriv[0, 0] == 1.0
    W = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    assert np.array_equal((W @ x).deriv[0], [3.0, 6.0])


def test_nested_and_second_order_sums_mark_every_level():
    import dualml
    w = np.array([1.0, -1.0, 1.0])

    def f(z):
        return np.sum(w * z)               # inf - inf + inf at z = inf
    assert np.isnan(dualml.derivative(f, np.inf))
    assert dualml.derivative(f, 2.0) == 1.0
    # nested levels (derivative of derivative): undefined at both
    assert np.isnan(dualml.derivative(lambda a: dualml.derivative(f, a), np.inf))
    assert dualml.derivative(lambda a: dualml.derivative(f, a), 2.0) == 0.0
    # hessian's rows: the sum's second-order rows too
    H = dualml.hessian(lambda z: np.sum(z * np.array([1.0, 1.0])) * z[0],
                       np.array([np.inf, -np.inf]))
    assert np.isnan(H).all()
    H = dualml.hessian(lambda z: np.sum(z * np.array([1.0, 1.0])) * z[0],
                       np.array([1.0, -2.0]))
    np.testing.assert_array_equal(H, [[2.0, 1.0], [1.0, 0.0]])


TAYLOR_MAPS = {
    "sum": lambda z: np.sum(z * np.array([1.0, -1.0, 2.0, 1.0])),
    "mean": lambda z: np.mean(z * np.array([1.0, -1.0, 2.0, 1.0])),
    "cumsum": lambda z: np.cumsum(z * np.array([1.0, -1.0, 2.0, 1.0])),
    "diff": lambda z: np.diff(z * z),
    "matmul": lambda z: np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, -1.0]]) @ z,
    "dot": lambda z: np.dot(z, z * np.array([1.0, -1.0, 0.5, 2.0])),
}


@pytest.mark.parametrize("name", sorted(TAYLOR_MAPS))
@pytest.mark.parametrize("seed", range(6))
def test_taylor_mode_marks_the_same_elements(name, seed):
    # one rule, every path: the first Taylor coefficient is jvp's tangent,
    # nan at the same elements (a nan coefficient makes the next ones nan)
    import dualml
    f = TAYLOR_MAPS[name]
    x, v = draws(4, seed)
    _, t = dualml.jvp(f, x, v)
    c = dualml.taylor(f, x, v, order=2)
    assert np.array_equal(np.isnan(c[1]), np.isnan(t)), (x, c, t)
    np.testing.assert_allclose(c[1], t, rtol=1e-12)
