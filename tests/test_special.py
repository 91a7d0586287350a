"""scipy.special on Duals and DualArrays (dualml/special.py), against mpmath.

Each function is reached the way user code reaches it -- scipy.special's
ufunc called on a Dual, a nested Dual or a DualArray -- and its first and
second derivatives are compared with mpmath's at 40 digits.
"""
import math

import mpmath as mp
import numpy as np
import pytest

import dualml
import dualml.special as ds
from dualml import Dual

sp = pytest.importorskip("scipy.special")   # in the test extra: never skipped in CI
mp.mp.dps = 40

# name -> (mpmath function, points)
CASES = {
    "gammaln": (lambda x: mp.log(abs(mp.gamma(x))), [0.3, 2.5, 11.0, -1.5]),
    "gamma": (mp.gamma, [0.3, 2.5, 6.0, -1.5]),
    "psi": (lambda x: mp.psi(0, x), [0.3, 2.5, 11.0]),
    "digamma": (lambda x: mp.psi(0, x), [0.7, 4.0]),
    "erfinv": (mp.erfinv, [-0.9, 0.1, 0.5]),
    "erfcinv": (lambda y: mp.erfinv(1 - y), [0.2, 1.0, 1.7]),
    "ndtr": (mp.ncdf, [-3.0, 0.0, 1.2]),
    "log_ndtr": (lambda x: mp.log(mp.ncdf(x)), [-30.0, -2.0, 0.5, 4.0]),
    "ndtri": (lambda p: mp.sqrt(2) * mp.erfinv(2 * p - 1), [0.01, 0.5, 0.9]),
    "logit": (lambda p: mp.log(p / (1 - p)), [1e-3, 0.3, 0.999]),
    "expit": (lambda x: 1 / (1 + mp.exp(-x)), [-5.0, 0.0, 3.0]),
    "log_expit": (lambda x: -mp.log(1 + mp.exp(-x)), [-40.0, 0.0, 3.0]),
    "erf": (mp.erf, [-1.0, 0.3]),
    "erfc": (mp.erfc, [-1.0, 2.0]),
}


def ref(f, x, n):
    return float(mp.diff(f, mp.mpf(x), n))


@pytest.mark.parametrize("name", sorted(CASES))
def test_scalar_dual_first_and_second(name):
    f_mp, points = CASES[name]
    uf = getattr(sp, name)
    for x in points:
        y = uf(Dual(x, 1.0))
        assert isinstance(y, Dual)
        assert y.value == pytest.approx(float(f_mp(x)), rel=1e-13, abs=1e-300)
        assert y.deriv == pytest.approx(ref(f_mp, x, 1), rel=1e-11)
        d2 = dualml.derivative(lambda t: dualml.derivative(lambda s: uf(s), t), x)
        assert d2 == pytest.approx(ref(f_mp, x, 2), rel=1e-9, abs=1e-14)


@pytest.mark.parametrize("name", sorted(CASES))
def test_dualarray_gradient_and_hessian(name):
    f_mp, points = CASES[name]
    uf = getattr(sp, name)
    x = np.array(points)
    g = dualml.gradient(lambda v: np.sum(uf(v)), x)
    np.testing.assert_allclose(g, [ref(f_mp, p, 1) for p in points], rtol=1e-11)
    H = dualml.hessian(lambda v: np.sum(uf(v)), x)
    np.testing.assert_allclose(np.diag(H), [ref(f_mp, p, 2) for p in points], rtol=1e-9, atol=1e-14)
    assert np.count_nonzero(H - np.diag(np.diag(H))) == 0


def test_third_derivative_of_gammaln_nests():
    f = lambda x: dualml.derivative(lambda y: dualml.derivative(lambda z: sp.gammaln(z), y), x)
    assert dualml.derivative(f, 2.5) == pytest.approx(float(mp.psi(2, 2.5)), rel=1e-10)


def test_polygamma_and_betaln():
    for n in (0, 1, 3):
        d = dualml.derivative(lambda x: ds.polygamma(n, x), 1.7)
        assert d == pytest.approx(float(mp.psi(n + 1, 1.7)), rel=1e-11)
    g = dualml.gradient(lambda v: ds.betaln(v[0], v[1]), np.array([2.5, 0.7]))
    f = lambda a, b: mp.log(mp.beta(a, b))
    np.testing.assert_allclose(g, [float(mp.diff(lambda a: f(a, 0.7), 2.5)),
                                   float(mp.diff(lambda b: f(2.5, b), 0.7))], rtol=1e-11)
    assert sp.betaln(Dual(2.5, 1.0), 0.7).deriv == pytest.approx(g[0], rel=1e-14)
    with pytest.raises(TypeError, match="n must be an int"):
        ds.polygamma(1.5, 2.0)


def test_xlogy_xlog1py_partials_and_zero_convention():
    g = dualml.gradient(lambda v: sp.xlogy(v[0], v[1]), [2.0, 3.0])
    np.testing.assert_allclose(g, [math.log(3.0), 2.0 / 3.0], rtol=1e-15)
    g = dualml.gradient(lambda v: sp.xlog1py(v[0], v[1]), [2.0, 0.5])
    np.testing.assert_allclose(g, [math.log1p(0.5), 2.0 / 1.5], rtol=1e-15)
    # x == 0 (a Poisson count of 0): value 0 for any y, so the y-partial is 0
    g = dualml.gradient(lambda lam: np.sum(sp.xlogy(np.array([0.0, 2.0]), lam)), np.array([1.5, 2.0]))
    np.testing.assert_allclose(g, [0.0, 1.0], rtol=1e-15)


def test_poisson_mle_gradient_matches_closed_form():
    # negative log-likelihood of counts k under rate exp(X b): the gradient is
    # X^T (exp(X b) - k), the Hessian X^T diag(exp(X b)) X
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    k = rng.poisson(2.0, size=30).astype(float)
    b = np.array([0.2, -0.1, 0.3])

    def nll(b):
        eta = X @ b
        return np.sum(np.exp(eta) - sp.xlogy(k, np.exp(eta)) + sp.gammaln(k + 1))

    lam = np.exp(X @ b)
    np.testing.assert_allclose(dualml.gradient(nll, b), X.T @ (lam - k), rtol=1e-12)
    np.testing.assert_allclose(dualml.hessian(nll, b), X.T @ (lam[:, None] * X), rtol=1e-12)


def test_other_scipy_ufuncs_still_raise_naming_them():
    with pytest.raises(TypeError, match="i0"):
        sp.i0(Dual(1.0, 1.0))
    with pytest.raises(TypeError, match="i0"):
        dualml.gradient(lambda v: np.sum(sp.i0(v)), np.ones(2))


def test_plain_floats_and_arrays_give_scipys_values():
    assert ds.gammaln(3.5) == sp.gammaln(3.5)
    x = np.array([0.2, 0.5])
    np.testing.assert_array_equal(ds.ndtri(x), sp.ndtri(x))
