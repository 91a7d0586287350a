"""dualml.propagate: the delta method, J Σ Jᵀ, and the second-order mean.

References are independent of dualml: exact results for affine and
quadratic models, hand-derived delta-method formulas, Monte Carlo with a
fixed seed and tolerances from the sample size, and the `uncertainties`
package (its own analytic derivatives) on the same models.
"""
import doctest
import math

import numpy as np
import pytest

import dualml
import dualml.uncertainty

MU = np.array([2.0, 3.0, 0.5])
# a correlated, full-rank covariance
SIGMA = np.array([[0.04, 0.006, -0.002],
                  [0.006, 0.09, 0.003],
                  [-0.002, 0.003, 0.01]])


def as_list(a):
    return [float(v) for v in a]


# -- exact for affine models --------------------------------------------------------

@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_linear_model_is_exact(point):
    A = np.array([[1.0, -2.0, 0.5], [0.0, 3.0, 4.0], [2.5, 1.0, -1.0], [0.0, 0.0, 0.0]])
    b = np.array([1.0, -1.0, 0.0, 7.0])

    def f(x):
        return [sum(A[i, j] * x[j] for j in range(3)) + b[i] for i in range(4)]

    r = dualml.propagate(f, point(MU), SIGMA)
    np.testing.assert_allclose(r.mean, A @ MU + b, rtol=1e-14)
    np.testing.assert_allclose(r.jacobian, A, rtol=0, atol=0)
    np.testing.assert_allclose(r.cov, A @ SIGMA @ A.T, rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(r.std, np.sqrt(np.diag(A @ SIGMA @ A.T)), rtol=1e-14)
    assert r.cov.shape == (4, 4) and r.hessian is None
    # the second-order correction of an affine model is zero
    r2 = dualml.propagate(f, point(MU), SIGMA, second_order=True)
    np.testing.assert_allclose(r2.mean, A @ MU + b, rtol=1e-14)
    np.testing.assert_array_equal(r2.hessian, np.zeros((4, 3, 3)))


def test_scalar_model_gives_floats():
    r = dualml.propagate(lambda x: 2.0 * x[0] - x[1], [1.0, 4.0], std=[0.3, 0.4])
    assert isinstance(r.mean, float) and isinstance(r.cov, float)
    assert isinstance(r.std, float) and isinstance(r.value, float)
    assert r.mean == -2.0
    assert r.cov == pytest.approx(4 * 0.09 + 0.16, rel=1e-15)
    assert r.std == pytest.approx(math.sqrt(0.52), rel=1e-15)
    assert r.jacobian.shape == (2,)


# -- closed-form delta-method formulas ----------------------------------------------

def test_product_with_independent_inputs():
    # textbook: Var(xy) ≈ y²σx² + x²σy²
    x, y, sx, sy = 2.0, 3.0, 0.1, 0.2
    r = dualml.propagate(lambda v: v[0] * v[1], [x, y], std=[sx, sy])
    assert r.mean == 6.0
    assert r.cov == pytest.approx(y ** 2 * sx ** 2 + x ** 2 * sy ** 2, rel=1e-14)


@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_product_and_exp_with_correlated_inputs(point):
    def f(x):
        return [x[0] * x[1], dualml.exp(x[2]) * x[0]]

    x0, x1, x2 = MU
    s = SIGMA
    e = math.exp(x2)
    # gradients by hand: ∇(x0 x1) = (x1, x0, 0), ∇(x0 e^x2) = (e^x2, 0, x0 e^x2)
    var0 = x1 ** 2 * s[0, 0] + 2 * x0 * x1 * s[0, 1] + x0 ** 2 * s[1, 1]
    var1 = e ** 2 * (s[0, 0] + 2 * x0 * s[0, 2] + x0 ** 2 * s[2, 2])
    cov01 = e * (x1 * s[0, 0] + x1 * x0 * s[0, 2] + x0 * s[0, 1] + x0 * x0 * s[1, 2])
    r = dualml.propagate(f, point(MU), SIGMA)
    np.testing.assert_allclose(r.value, [x0 * x1, x0 * e], rtol=1e-15)
    np.testing.assert_allclose(r.cov, [[var0, cov01], [cov01, var1]], rtol=1e-13)
    np.testing.assert_allclose(r.std, np.sqrt([var0, var1]), rtol=1e-13)
    np.testing.assert_allclose(r.jacobian, [[x1, x0, 0.0], [e, 0.0, x0 * e]], rtol=1e-15)


def test_args_are_passed_to_f():
    r = dualml.propagate(lambda x, a, c: a * x[0] ** 2 + c, [3.0], std=[0.1], args=(2.0, 1.0))
    assert r.mean == 19.0
    assert r.std == pytest.approx(12.0 * 0.1, rel=1e-15)


def test_std_equals_diagonal_cov():
    f = lambda x: [x[0] * x[1], x[1] / x[0]]        # noqa: E731
    a = dualml.propagate(f, [2.0, 5.0], std=[0.1, 0.3])
    b = dualml.propagate(f, [2.0, 5.0], np.diag([0.01, 0.09]))
    np.testing.assert_allclose(a.cov, b.cov, rtol=1e-15)


def test_singular_covariance_is_accepted():
    # x1 = 2 x0 exactly: rank 1, on the PSD boundary; Var(x1 - 2 x0) = 0
    v = np.array([1.0, 2.0])
    r = dualml.propagate(lambda x: x[1] - 2.0 * x[0], [1.0, 1.0], 0.25 * np.outer(v, v))
    assert r.cov == pytest.approx(0.0, abs=1e-16) and r.std == pytest.approx(0.0, abs=1e-8)
    r = dualml.propagate(lambda x: x[0] * x[1], [1.0, 2.0], std=[0.0, 0.5])
    assert r.cov == pytest.approx(0.25, rel=1e-15)


def test_input_with_zero_variance_is_held_fixed():
    # sqrt has an infinite derivative at 0, but x0 does not vary: no nan
    f = lambda x: [dualml.sqrt(x[0]) + x[1] ** 2, x[1]]          # noqa: E731
    r = dualml.propagate(f, [0.0, 1.0], std=[0.0, 0.1], second_order=True)
    assert r.jacobian[0, 0] == np.inf
    np.testing.assert_allclose(r.cov, [[0.04, 0.02], [0.02, 0.01]], rtol=1e-14)
    np.testing.assert_allclose(r.mean, [1.0 + 0.01, 1.0], rtol=1e-15)   # E[x1²] = 1 + σ²


@pytest.mark.parametrize("method", ["auto", "scalar", "array"])
def test_methods_agree(method):
    # f written with NumPy so it runs on lists, object arrays and DualArrays
    def f(x):
        return np.stack([x[0] * x[1], np.exp(x[2]) * x[0]]) if method != "scalar" \
            else [x[0] * x[1], dualml.exp(x[2]) * x[0]]

    r = dualml.propagate(f, MU, SIGMA, second_order=True, method=method)
    ref = dualml.propagate(lambda x: [x[0] * x[1], dualml.exp(x[2]) * x[0]],
                           as_list(MU), SIGMA, second_order=True)
    np.testing.assert_allclose(r.cov, ref.cov, rtol=1e-14)
    np.testing.assert_allclose(r.mean, ref.mean, rtol=1e-14)
    np.testing.assert_allclose(r.hessian, ref.hessian, rtol=1e-14)


# -- second order: exact mean of quadratic models -------------------------------------

@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_second_order_mean_of_quadratic_form_is_exact(point):
    # E[xᵀAx + bᵀx] = μᵀAμ + tr(AΣ) + bᵀμ for any distribution with mean μ and
    # covariance Σ; A is deliberately not symmetric
    A = np.array([[1.0, 2.0, 0.0], [-1.0, 0.5, 3.0], [0.25, 0.0, -2.0]])
    b = np.array([0.5, -1.0, 2.0])

    def f(x):
        return sum(A[i, j] * x[i] * x[j] for i in range(3) for j in range(3)) \
            + sum(b[i] * x[i] for i in range(3))

    exact = MU @ A @ MU + np.trace(A @ SIGMA) + b @ MU
    r = dualml.propagate(f, point(MU), SIGMA, second_order=True)
    assert r.mean == pytest.approx(exact, rel=1e-14)
    assert r.value == pytest.approx(MU @ A @ MU + b @ MU, rel=1e-14)
    np.testing.assert_allclose(r.hessian, A + A.T, rtol=1e-14)


@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_second_order_mean_of_vector_quadratic_is_exact(point):
    def f(x):
        return [x[0] * x[1], x[2] ** 2 - 3.0 * x[0] * x[2] + x[1], 4.0]

    s = SIGMA
    x0, x1, x2 = MU
    exact = [x0 * x1 + s[0, 1],
             x2 ** 2 + s[2, 2] - 3.0 * (x0 * x2 + s[0, 2]) + x1,
             4.0]
    r = dualml.propagate(f, point(MU), SIGMA, second_order=True)
    np.testing.assert_allclose(r.mean, exact, rtol=1e-14)
    assert r.hessian.shape == (3, 3, 3)
    np.testing.assert_array_equal(r.hessian, np.swapaxes(r.hessian, 1, 2))


def test_second_order_mean_of_exp_matches_lognormal_expansion():
    # E[e^X] = e^(μ + σ²/2) for X ~ N(μ, σ²); second order gives e^μ (1 + σ²/2)
    mu, s = 0.3, 0.2
    r = dualml.propagate(lambda x: dualml.exp(x[0]), [mu], std=[s], second_order=True)
    assert r.mean == pytest.approx(math.exp(mu) * (1 + s * s / 2), rel=1e-15)
    assert abs(r.mean - math.exp(mu + s * s / 2)) < math.exp(mu) * s ** 4   # O(σ⁴)


# -- Monte Carlo ---------------------------------------------------------------------

def test_monte_carlo_agrees():
    # small input spread, so the delta method's truncation (relative ~σ² ≈ 1e-4
    # here) is far below the Monte Carlo error.  Tolerances are 5 standard
    # errors of the estimators at N samples (Gaussian outputs to first order):
    # mean sd/√N, covariance √((C_ii C_jj + C_ij²)/N).  The seed is fixed, so
    # the test is deterministic.
    mu = np.array([2.0, 3.0, 1.0])
    sd = np.array([0.02, 0.03, 0.05])
    corr = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, -0.2], [0.0, -0.2, 1.0]])
    S = corr * np.outer(sd, sd)

    def f(x):                             # works on one point and on rows of X.T
        return [x[0] * x[1], np.exp(0.5 * x[0]) + x[2] * x[1]]

    r = dualml.propagate(f, mu, S, second_order=True)
    N = 200_000
    X = np.random.default_rng(20261204).multivariate_normal(mu, S, size=N)
    Y = np.array(f(X.T)).T
    C_mc = np.cov(Y, rowvar=False)
    se_mean = np.sqrt(np.diag(r.cov) / N)
    np.testing.assert_array_less(np.abs(Y.mean(axis=0) - r.mean), 5 * se_mean)
    d = np.diag(r.cov)
    se_cov = np.sqrt((np.outer(d, d) + r.cov ** 2) / N)
    np.testing.assert_array_less(np.abs(C_mc - r.cov), 5 * se_cov)


# -- the uncertainties package on the same models -------------------------------------

def _model(x, exp):
    return [x[0] * x[1] * exp(x[2]) / (1 + x[1] ** 2), exp(-x[0]) + x[2] ** 3]


def test_against_uncertainties_package():
    import uncertainties                # the test extra provides it
    from uncertainties import umath

    u = uncertainties.correlated_values(MU, SIGMA)
    out = _model(u, umath.exp)
    r = dualml.propagate(_model, as_list(MU), SIGMA, args=(dualml.exp,))
    np.testing.assert_allclose(r.value, [o.nominal_value for o in out], rtol=1e-14)
    np.testing.assert_allclose(r.std, [o.std_dev for o in out], rtol=1e-12)
    np.testing.assert_allclose(r.cov, np.array(uncertainties.covariance_matrix(out)),
                               rtol=1e-12)
    # a scalar output, on the array backend
    g = lambda x, exp: _model(x, exp)[0]            # noqa: E731
    r = dualml.propagate(g, MU, SIGMA, args=(np.exp,))
    assert r.std == pytest.approx(out[0].std_dev, rel=1e-12)


# -- presentation ----------------------------------------------------------------------

def test_to_df():
    import pandas as pd                # the test extra provides it
    r = dualml.propagate(lambda x: [x[0] * x[1], x[0]], [2.0, 3.0], std=[0.1, 0.2],
                         second_order=True)
    df = r.to_df()
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == ["f[0]", "f[1]"] and list(df.columns) == \
        ["value", "mean", "std", "var"]
    np.testing.assert_allclose(df["var"], np.diag(r.cov))
    np.testing.assert_allclose(df["mean"], r.mean)
    df = dualml.propagate(lambda x: x[0] ** 2, [2.0], std=[0.1]).to_dataframe()
    assert list(df.index) == ["f"] and df.loc["f", "std"] == pytest.approx(0.4)


def test_str_is_a_table():
    r = dualml.propagate(lambda x: [x[0] * x[1], x[0]], [2.0, 3.0], std=[0.1, 0.2])
    text = str(r)
    assert "delta method" in text and "f[1]" in text and "0.5" in text
    assert "f " in str(dualml.propagate(lambda x: x[0], [1.0], std=[0.5]))


def test_docstring_examples_run():
    res = doctest.testmod(dualml.uncertainty)
    assert res.failed == 0 and res.attempted > 0


# -- misuse gets a message naming the argument --------------------------------------------

F = lambda x: x[0] * x[1]                # noqa: E731


@pytest.mark.parametrize("kw, exc, match", [
    ({"cov": [[1.0, 0.5], [0.4, 1.0]]}, ValueError, "cov must be symmetric"),
    ({"cov": [[1.0, 2.0], [2.0, 1.0]]}, ValueError, "cov must be positive semi-definite"),
    ({"cov": np.eye(3)}, ValueError, r"cov must have shape \(2, 2\)"),
    ({"cov": [1.0, 1.0]}, ValueError, "did you mean|std="),
    ({"cov": [[np.nan, 0.0], [0.0, 1.0]]}, ValueError, "cov must be finite"),
    ({"cov": [["a", "b"], ["c", "d"]]}, TypeError, "cov must hold real numbers"),
    ({"std": [0.1, -0.2]}, ValueError, "std must be >= 0"),
    ({"std": [0.1]}, ValueError, r"std must have shape \(2,\)"),
    ({"std": [0.1, 0.2], "cov": np.eye(2)}, TypeError, "not both"),
    ({}, TypeError, "either as cov="),
])
def test_bad_uncertainty_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        dualml.propagate(F, [1.0, 2.0], **kw)


@pytest.mark.parametrize("mean, match", [
    (1.0, r"mean must be a 1-D point.*\[x\]"),
    ([[1.0, 2.0]], "mean must be a 1-D point"),
    ([1.0, np.inf], "mean must be finite"),
    ([1 + 2j, 1.0], "mean must hold real numbers"),
])
def test_bad_mean(mean, match):
    with pytest.raises((ValueError, TypeError), match=match):
        dualml.propagate(F, mean, std=[0.1, 0.1])


def test_bad_model():
    with pytest.raises(ValueError, match="scalar or a 1-D vector"):
        dualml.propagate(lambda x: [[x[0], x[1]], [x[1], x[0]]], [1.0, 2.0], np.eye(2))
    with pytest.raises(TypeError, match="f must be callable"):
        dualml.propagate(3.0, [1.0, 2.0], np.eye(2))


# -- second-order covariance, names, contributions ---------------------------------------

def test_full_second_order_is_exact_for_gaussian_quadratics():
    # q_i(x) = xᵀA_i x + b_iᵀx, X ~ N(μ, Σ): Cov(q_i, q_j) = g_iᵀΣg_j +
    # 2 tr(A_i Σ A_j Σ) with g_i = (A_i + A_iᵀ)μ + b_i and A_i symmetrised
    # (Isserlis); the mean is μᵀA_iμ + tr(A_iΣ) + b_iᵀμ
    rng = np.random.default_rng(7)
    As = [rng.standard_normal((3, 3)) for _ in range(2)]
    bs = [rng.standard_normal(3) for _ in range(2)]

    def f(x):
        return [sum(A[i, j] * x[i] * x[j] for i in range(3) for j in range(3))
                + sum(b[i] * x[i] for i in range(3)) for A, b in zip(As, bs)]
    sym = [0.5 * (A + A.T) for A in As]
    g = [2 * A @ MU + b for A, b in zip(sym, bs)]
    exact_cov = np.array([[g[i] @ SIGMA @ g[j] + 2 * np.trace(sym[i] @ SIGMA @ sym[j] @ SIGMA)
                           for j in range(2)] for i in range(2)])
    exact_mean = [MU @ A @ MU + np.trace(A @ SIGMA) + b @ MU for A, b in zip(As, bs)]
    for point in (as_list, np.asarray):
        r = dualml.propagate(f, point(MU), SIGMA, second_order="full")
        np.testing.assert_allclose(r.cov, exact_cov, rtol=1e-13)
        np.testing.assert_allclose(r.mean, exact_mean, rtol=1e-13)
        np.testing.assert_allclose(r.std, np.sqrt(np.diag(exact_cov)), rtol=1e-13)
        assert r.order == "full"
    # a scalar output
    r = dualml.propagate(lambda x: f(x)[1], MU, SIGMA, second_order="full")
    assert r.cov == pytest.approx(exact_cov[1, 1], rel=1e-13)
    # "mean" is True's meaning: the covariance stays first-order
    r1 = dualml.propagate(f, MU, SIGMA, second_order="mean")
    r2 = dualml.propagate(f, MU, SIGMA, second_order=True)
    np.testing.assert_array_equal(r1.cov, r2.cov)
    np.testing.assert_allclose(r1.cov, np.array(g) @ SIGMA @ np.array(g).T, rtol=1e-13)


def test_full_second_order_against_monte_carlo():
    # a quadratic model with a spread large enough that the ½ tr(H Σ H Σ) term
    # is many Monte Carlo standard errors: the full covariance agrees within
    # 5 standard errors of the sample covariance, the first-order one does not
    mu = np.array([1.0, -0.5, 0.3])
    sd = np.array([0.4, 0.5, 0.6])
    corr = np.array([[1.0, 0.4, 0.0], [0.4, 1.0, 0.2], [0.0, 0.2, 1.0]])
    S = corr * np.outer(sd, sd)

    def f(x):                           # one point, or the rows of X.T
        return [x[0] * x[1] + x[2] ** 2, x[0] ** 2 - x[1] * x[2]]

    N = 400_000
    X = np.random.default_rng(11).multivariate_normal(mu, S, size=N)
    Y = np.array(f(X.T)).T
    C_mc = np.cov(Y, rowvar=False)
    full = dualml.propagate(f, mu, S, second_order="full")
    first = dualml.propagate(f, mu, S)
    d = np.diag(full.cov)
    se = np.sqrt((np.outer(d, d) + full.cov ** 2) / N)
    np.testing.assert_array_less(np.abs(C_mc - full.cov), 5 * se)
    assert np.any(np.abs(C_mc - first.cov) > 20 * se)
    np.testing.assert_array_less(np.abs(Y.mean(axis=0) - full.mean), 5 * np.sqrt(d / N))


def test_names_output_names_and_contributions():
    pd = pytest.importorskip("pandas")
    mu, S = np.array([2.0, 3.0]), np.array([[0.04, 0.01], [0.01, 0.09]])
    r = dualml.propagate(lambda x: [x[0] * x[1], x[0] - x[1]], mu, S,
                         names=["L", "T"], output_names=["area", "diff"])
    assert r.names == ["L", "T"] and r.output_names == ["area", "diff"]
    J = np.array([[3.0, 2.0], [1.0, -1.0]])                  # closed form
    c = r.contributions()
    np.testing.assert_allclose(c, J * (J @ S), rtol=1e-15)
    np.testing.assert_allclose(c.sum(axis=1), np.diag(r.cov), rtol=1e-14)
    df = r.to_df()
    assert list(df.index) == ["area", "diff"]
    long = r.to_df(by_input=True)
    assert isinstance(long, pd.DataFrame)
    assert list(long.index) == [("area", "L"), ("area", "T"), ("diff", "L"), ("diff", "T")]
    np.testing.assert_allclose(long["derivative"], J.ravel())
    np.testing.assert_allclose(long["share"].groupby(level=0).sum(), [1.0, 1.0])
    assert "area" in str(r) and "diff" in str(r)
    # a scalar f, and an input held fixed with an infinite derivative
    r = dualml.propagate(lambda x: np.sqrt(x[0]) + x[1], [0.0, 1.0], std=[0.0, 0.5],
                         output_names=["g"])
    np.testing.assert_array_equal(r.contributions(), [0.0, 0.25])
    assert list(r.to_df().index) == ["g"]
    with pytest.raises(ValueError, match="output_names"):
        dualml.propagate(lambda x: x[0], [1.0], std=[1.0], output_names=["a", "b"])
    with pytest.raises(ValueError, match="names"):
        dualml.propagate(lambda x: x[0], [1.0], std=[1.0], names=["a", "b"])
    with pytest.raises(ValueError, match="second_order"):
        dualml.propagate(lambda x: x[0], [1.0], std=[1.0], second_order="cov")


# -- inside an outer differentiation -----------------------------------------------------

def _pair(x, a):
    return [a * x[0] * x[1], x[0] ** 2]


@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_gradient_of_std_over_the_mean_closed_form(point):
    # std of a x0 x1 with sd (0.1, 0.2): a sqrt(0.01 x1² + 0.04 x0²)
    a = 1.5

    def sd0(mu):
        return dualml.propagate(_pair, mu, std=[0.1, 0.2], args=(a,)).std[0]
    g = dualml.gradient(sd0, point([2.0, 3.0]))
    np.testing.assert_allclose(g, [a * 0.04 * 2.0 / 0.5, a * 0.01 * 3.0 / 0.5], rtol=1e-14)


@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_gradient_of_std_over_the_input_std_closed_form(point):
    a = 1.5

    def sd0(s):
        return dualml.propagate(_pair, [2.0, 3.0], std=s, args=(a,)).std[0]
    g = dualml.gradient(sd0, point([0.1, 0.2]))
    np.testing.assert_allclose(g, [a * 0.1 * 9.0 / 0.5, a * 0.2 * 4.0 / 0.5], rtol=1e-14)


def test_derivative_over_a_model_parameter_all_orders():
    # mean ∝ a and std ∝ a for a·(quadratic): d/da is mean/a and std/a
    def out(a, order):
        r = dualml.propagate(lambda x, a: a * x[0] * x[1] + a * x[1] ** 2, MU, SIGMA,
                             args=(a,), second_order=order)
        return [r.mean, r.std]
    for order in (False, "mean", "full"):
        plain = dualml.propagate(lambda x: x[0] * x[1] + x[1] ** 2, MU, SIGMA,
                                 second_order=order)
        d = dualml.jacobian(lambda q: out(q[0], order), [2.0])
        np.testing.assert_allclose(np.ravel(d), [plain.mean, plain.std], rtol=1e-13)


def _richardson(F, x, h):
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h

        def c(hh):
            return (F(x + e * hh / h) - F(x - e * hh / h)) / (2 * hh)
        cols.append((4 * c(h / 2) - c(h)) / 3)
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("point", [as_list, np.asarray], ids=["list", "ndarray"])
def test_jacobian_of_second_order_results_against_richardson(point):
    # a nonlinear model with correlated inputs: d(mean, std)/dμ by Richardson
    # differences of propagate on plain floats (tested above on its own)
    def model(x):
        return [dualml.exp(0.5 * x[0]) * x[1], x[0] * x[2] - x[1] ** 2]

    def F(mu):
        r = dualml.propagate(model, list(mu), SIGMA, second_order="full")
        return np.concatenate([r.mean, r.std, r.cov.ravel()])

    def G(mu):          # the same on Duals (list) or DualArrays (ndarray)
        r = dualml.propagate(model, mu, SIGMA, second_order="full")
        return list(r.mean) + list(r.std) + list(r.cov.reshape(-1))
    ref = _richardson(F, MU, 1e-3)
    np.testing.assert_allclose(dualml.jacobian(G, point(MU)), ref, rtol=1e-8, atol=1e-10)
