"""dualml.dgsm: derivative-based global sensitivity measures with exact gradients.

References: the Ishigami function's measures integrated symbolically with
sympy, the Sobol g-function's in closed form, and SALib's finite-difference
DGSM.  Tolerances follow the error of each estimate:

* scrambled Sobol (QMC) means converge faster than Monte Carlo (about
  N^-1.4 here).  Over 40 seeds the relative error of vi had an RMS of 9e-4
  and a maximum of 5.5e-3 for Ishigami at N = 4096, and an RMS of 1e-3 and a
  maximum of 2.8e-3 for the g-function at N = 1024 (its squared partials
  are piecewise polynomial), so rtol = 1e-2 passes for any seed with margin
  while any wrong factor (2, π, a missing square) fails by far;
* the bootstrap half-width treats the points as independent, overstating
  the QMC error: the exact value must lie inside vi ± vi_conf;
* SALib differentiates by forward differences with a relative step of 1%:
  for b·x³⁴ the derivative's relative truncation error is about 1.5·δ, so the
  squared one about 3%; rtol = 5e-2.
"""
import math
import warnings

import numpy as np
import pytest
import sympy as sp

import dualml
from dualml import SensitivityWarning
import sensitivity_models as M

PI = math.pi
ISHIGAMI = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-PI, PI]] * 3}


@pytest.fixture(scope="module")
def ishigami_exact():
    """vi = E[(∂f/∂x_i)²] and Var f of Ishigami (a=7, b=0.1) on U[-π, π]³, by sympy."""
    x1, x2, x3 = sp.symbols("x1 x2 x3", real=True)
    a, b = sp.Integer(7), sp.Rational(1, 10)
    f = sp.sin(x1) + a * sp.sin(x2) ** 2 + b * x3 ** 4 * sp.sin(x1)

    def mean(expr):
        box = [(v, -sp.pi, sp.pi) for v in (x1, x2, x3)]
        return sp.integrate(expr, *box) / (2 * sp.pi) ** 3

    vi = np.array([float(mean(sp.diff(f, v) ** 2)) for v in (x1, x2, x3)])
    m = mean(f)
    var = float(sp.simplify(mean(f ** 2) - m ** 2))
    return vi, var


def g_exact(a):
    """Closed forms for g = Π (|4x_k − 2| + a_k)/(1 + a_k) on U[0, 1]^D.

    (∂g/∂x_i)² = 16/(1 + a_i)² Π_{k≠i} g_k² almost everywhere, and
    E[g_k²] = 1 + 1/(3(1 + a_k)²), so vi = 16/(1 + a_i)² Π_{k≠i} E[g_k²];
    Var g = Π E[g_k²] − 1.
    """
    Eg2 = 1.0 + 1.0 / (3.0 * (1.0 + a) ** 2)
    vi = np.array([16.0 / (1.0 + a[i]) ** 2 * np.prod(np.delete(Eg2, i))
                   for i in range(len(a))])
    return vi, np.prod(Eg2) - 1.0


def test_ishigami_against_sympy(ishigami_exact):
    vi, var = ishigami_exact
    # the hand-derived forms, as a check on the sympy set-up itself
    b = 0.1
    np.testing.assert_allclose(vi, [0.5 * (1 + 2 * b * PI ** 4 / 5 + b * b * PI ** 8 / 9),
                                    49.0 / 2, 8 * b * b * PI ** 6 / 7], rtol=1e-14)
    res = dualml.dgsm(M.ishigami, ISHIGAMI, 4096, seed=3)
    np.testing.assert_allclose(res["vi"], vi, rtol=1e-2)
    assert (np.abs(res["vi"] - vi) <= res["vi_conf"]).all()
    np.testing.assert_allclose(res.variance, var, rtol=1e-2)
    np.testing.assert_allclose(res["dgsm"], vi * (2 * PI) ** 2 / (PI ** 2 * var), rtol=2e-2)
    assert res["names"] == ["x1", "x2", "x3"]
    assert res.n_samples == 4096 and res.n_omitted == 0


def test_g_function_against_closed_form():
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0])
    vi, var = g_exact(a)
    problem = {"num_vars": 6, "names": list("abcdef"), "bounds": [[0.0, 1.0]] * 6}
    res = dualml.dgsm(M.g_function, problem, 1024, seed=5, args=(a,))
    np.testing.assert_allclose(res["vi"], vi, rtol=1e-2)
    assert (np.abs(res["vi"] - vi) <= res["vi_conf"]).all()
    np.testing.assert_allclose(res["dgsm"], vi / (PI ** 2 * var), rtol=2e-2)
    # the measure bounds the total Sobol index: S_Ti <= dgsm_i; for the g-function
    # S_Ti = V_i Π_{k≠i}(1 + V_k) / Var g with V_k = 1/(3(1 + a_k)²)
    V = 1.0 / (3.0 * (1.0 + a) ** 2)
    ST = np.array([V[i] * np.prod(np.delete(1.0 + V, i)) for i in range(6)]) / var
    assert (ST <= res["dgsm"]).all()


def test_against_salib_finite_differences():
    import SALib  # noqa: F401  (the test extra provides it)
    from SALib.analyze import dgsm as salib_dgsm
    from SALib.sample import finite_diff
    N = 1024
    X = finite_diff.sample(ISHIGAMI, N, seed=1)
    S = salib_dgsm.analyze(ISHIGAMI, X, M.ishigami(X), seed=1)
    res = dualml.dgsm(M.ishigami, ISHIGAMI, N, seed=1)
    assert set(S.keys()) <= set(res.keys())
    np.testing.assert_allclose(res["vi"], S["vi"], rtol=5e-2)
    np.testing.assert_allclose(res["dgsm"], S["dgsm"], rtol=5e-2)
    np.testing.assert_allclose(res["vi_std"], S["vi_std"], rtol=5e-2)


def test_point_function_equals_vectorized():
    loop = dualml.dgsm(M.ishigami, ISHIGAMI, 64, seed=0, vectorized=False)
    vec = dualml.dgsm(M.ishigami, ISHIGAMI, 64, seed=0)
    for key in ("vi", "vi_std", "dgsm", "vi_conf", "dgsm_conf"):
        np.testing.assert_allclose(loop[key], vec[key], rtol=1e-13)


def test_seed_reproducible_and_executor_identical():
    import concurrent.futures
    r1 = dualml.dgsm(M.ishigami, ISHIGAMI, 256, seed=11)
    r2 = dualml.dgsm(M.ishigami, ISHIGAMI, 256, seed=11)
    r3 = dualml.dgsm(M.ishigami, ISHIGAMI, 256, seed=12)
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        r4 = dualml.dgsm(M.ishigami, ISHIGAMI, 256, seed=11, executor=ex, chunksize=32)
    for key in ("vi", "dgsm", "dgsm_conf"):
        assert np.array_equal(r1[key], r2[key]) and np.array_equal(r1[key], r4[key])
        assert not np.array_equal(r1[key], r3[key])


def test_bootstrap_half_widths_scale_with_conf_level():
    r90 = dualml.dgsm(M.ishigami, ISHIGAMI, 256, seed=2, conf_level=0.90)
    r99 = dualml.dgsm(M.ishigami, ISHIGAMI, 256, seed=2, conf_level=0.99)
    # same points, same resamples: the half-widths differ by the normal quantiles
    np.testing.assert_allclose(r99["dgsm_conf"] / r90["dgsm_conf"],
                               2.5758293035489 / 1.6448536269514722, rtol=1e-12)
    assert (r90["dgsm_conf"] > 0).all() and np.isfinite(r90["vi_conf"]).all()


def test_result_presentation():
    res = dualml.dgsm(M.ishigami, ISHIGAMI, 128, seed=0, num_resamples=20)
    text = str(res)
    assert "x3" in text and "dgsm_conf" in text and "128 points" in text
    import pandas as pd
    df = res.to_df()
    assert isinstance(df, pd.DataFrame) and list(df.index) == ["x1", "x2", "x3"]
    np.testing.assert_array_equal(df["dgsm"], res["dgsm"])


# -- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("problem, match", [
    ({"num_vars": 3, "names": ["a", "b"], "bounds": [[0, 1]] * 3}, r"problem\['names'\]"),
    ({"num_vars": 2, "bounds": [[0, 1], [2, 2]]}, r"bounds'\]\[1\].*low < high"),
    ({"num_vars": 2, "bounds": [[0, 1], [3, 2]]}, r"bounds'\]\[1\]"),
    ({"num_vars": 2, "bounds": [[0, 1], [0, np.inf]]}, "finite"),
    ({"num_vars": 3, "bounds": [[0, 1]] * 2}, "num_vars"),
    ({"num_vars": 0, "bounds": []}, "num_vars"),
    ({"num_vars": 2}, "bounds"),
    ({"num_vars": 2, "bounds": [0, 1]}, "pairs"),
    ({"num_vars": 1, "bounds": [[0, 1]], "dists": ["beta"]}, "not supported"),
    ({"num_vars": 1, "bounds": [[0, 1]], "dists": ["norm", "norm"]}, "one distribution"),
    ({"num_vars": 1, "bounds": [[0, -1]], "dists": ["norm"]}, "standard deviation"),
    ({"num_vars": 1, "bounds": [[0, 1]], "dists": ["truncnorm"]}, "low, high, mean, std"),
    ({"num_vars": 1, "bounds": [[0, 1, 1.5]], "dists": ["triang"]}, "peak"),
    ({"num_vars": 2, "bounds": [[0, 1]] * 2, "groups": ["g"]}, "groups"),
])
def test_bad_problem(problem, match):
    with pytest.raises(ValueError, match=match):
        dualml.dgsm(lambda X: X[:, 0], problem, 16)


def test_bad_problem_type():
    with pytest.raises(TypeError, match="problem must be a dict"):
        dualml.dgsm(lambda X: X[:, 0], [[0, 1]], 16)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_samples": 1}, "n_samples"), ({"n_samples": 0}, "n_samples"),
    ({"n_samples": 10.0}, "n_samples"), ({"n_samples": True}, "n_samples"),
    ({"num_resamples": 0}, "num_resamples"), ({"conf_level": 1.0}, "conf_level"),
    ({"conf_level": 0}, "conf_level"), ({"nonfinite": "ignore"}, "nonfinite"),
])
def test_bad_options(kwargs, match):
    kw = {"n_samples": 16, **kwargs}
    n = kw.pop("n_samples")
    with pytest.raises(ValueError, match=match):
        dualml.dgsm(M.ishigami, ISHIGAMI, n, **kw)


def test_vector_output_rejected():
    with pytest.raises(ValueError, match="one number per point"):
        dualml.dgsm(M.two_outputs, ISHIGAMI, 16)


def sqrt_model(X):
    # NaN for x1 < 0 (value and ∂/∂x1); f does not depend on x2, whose
    # tangent stays exactly 0 (the zero-tangent convention)
    return np.sqrt(X[:, 0])


NONFINITE = {"num_vars": 2, "names": ["left", "right"], "bounds": [[-1.0, 1.0], [0.0, 1.0]]}


def test_nonfinite_reported_per_input():
    with pytest.raises(ValueError) as info:
        dualml.dgsm(sqrt_model, NONFINITE, 64, seed=0)
    msg = str(info.value)
    assert "non-finite gradients per input (left:" in msg
    assert "right" not in msg.split("per input")[1].split(")")[0]
    assert "nonfinite='omit'" in msg


def test_nonfinite_omit():
    res = dualml.dgsm(sqrt_model, NONFINITE, 256, seed=0, nonfinite="omit")
    assert 0 < res.n_omitted < 256 and res.n_samples == 256 - res.n_omitted
    assert np.isfinite(res["vi"]).all() and res["vi"][0] > 0
    assert res["vi"][1] == 0.0      # ∂f/∂x2 = 0 exactly at every kept point


def test_constant_model_warns():
    with pytest.warns(SensitivityWarning, match="constant"):
        res = dualml.dgsm(lambda X: 0.0 * X[:, 0] + 2.0, ISHIGAMI, 16, seed=0)
    assert np.isnan(res["dgsm"]).all() and (res["vi"] == 0).all()


def test_errors_name_the_argument():
    # problem['names'] counts inputs (it said "outputs"); a bad seed is named
    # as dgsm's seed, not numpy's SeedSequence
    bad = dict(ISHIGAMI, names=["x1", "x2"])
    with pytest.raises(ValueError, match=r"dgsm\(\): problem\['names'\] has 2 entries but "
                                         r"there are 3 inputs"):
        dualml.dgsm(M.ishigami, bad, 16, seed=0)
    with pytest.raises(TypeError, match=r"dgsm\(\): seed must be .* got 'a'"):
        dualml.dgsm(M.ishigami, ISHIGAMI, 16, seed="a")
    with pytest.raises(TypeError, match=r"dgsm\(\): seed .* got 1.5"):
        dualml.dgsm(M.ishigami, ISHIGAMI, 16, seed=1.5)
    with pytest.raises(ValueError, match=r"dgsm\(\): seed .* got -1"):
        dualml.dgsm(M.ishigami, ISHIGAMI, 16, seed=-1)


# -- non-uniform inputs (SALib's dists) --------------------------------------------------

MIXED = {"num_vars": 5, "names": ["n", "t", "tn", "ln", "u"],
         "dists": ["norm", "triang", "truncnorm", "lognorm", "unif"],
         "bounds": [[1.0, 0.5], [0.0, 2.0, 0.25], [-1.0, 2.0, 0.0, 1.5], [0.1, 0.3],
                    [2.0, 4.0]]}


def _moments():
    """Mean and variance of each MIXED input, by mpmath quadrature of its density."""
    import mpmath as mp

    def npdf(x, m, s):
        return mp.exp(-((x - m) / s) ** 2 / 2) / (s * mp.sqrt(2 * mp.pi))
    lo, hi, mu, sd = MIXED["bounds"][2]
    Z = mp.quad(lambda x: npdf(x, mu, sd), [lo, hi])
    a, b, c = 0.0, 2.0, 0.5                                 # triang: peak at 0 + 0.25 * 2
    tri = lambda x: 2 * (x - a) / ((b - a) * (c - a)) if x < c else 2 * (b - x) / ((b - a) * (b - c))  # noqa: E731
    dens = [(lambda x: npdf(x, 1.0, 0.5), [-mp.inf, mp.inf]),
            (tri, [a, c, b]),
            (lambda x: npdf(x, mu, sd) / Z, [lo, hi]),
            (lambda x: npdf(mp.log(x), 0.1, 0.3) / x, [0, mp.inf]),
            (lambda x: mp.mpf(1) / 2, [2.0, 4.0])]
    out = []
    for p, iv in dens:
        m1 = mp.quad(lambda x, p=p: x * p(x), iv)
        m2 = mp.quad(lambda x, p=p: x * x * p(x), iv)
        out.append((float(m1), float(m2 - m1 * m1)))
    return np.array(out)


def test_dists_sample_the_right_distributions():
    mom = _moments()
    # f = sum x_i^2: vi = E[(2 x_i)^2] = 4 (var + mean^2)
    with pytest.warns(dualml.SensitivityWarning, match="lognormal"):
        res = dualml.dgsm(lambda X: (X ** 2).sum(axis=1), MIXED, 4096, seed=2,
                          num_resamples=2)
    np.testing.assert_allclose(res["vi"], 4 * (mom[:, 1] + mom[:, 0] ** 2), rtol=5e-3)


def test_dists_dgsm_bounds_the_total_index_of_a_linear_model():
    mom = _moments()
    c = np.array([1.0, -2.0, 0.5, 3.0, 1.5])
    with pytest.warns(dualml.SensitivityWarning, match="lognormal"):
        res = dualml.dgsm(lambda X: X @ c, MIXED, 4096, seed=4, num_resamples=2)
    np.testing.assert_allclose(res["vi"], c ** 2, rtol=1e-13)
    var = res.variance
    np.testing.assert_allclose(var, (c ** 2 * mom[:, 1]).sum(), rtol=1e-2)
    C = np.array([0.25, 4 / np.pi ** 2, 9 / np.pi ** 2, np.nan, 4 / np.pi ** 2])
    np.testing.assert_allclose(res["dgsm"], c ** 2 * C / var, rtol=1e-13)
    # the bound: dgsm_i >= S_tot_i = c_i^2 Var(x_i) / Var f (equality for the normal)
    S_tot = c ** 2 * mom[:, 1] / var
    ok = ~np.isnan(res["dgsm"])
    assert np.all(res["dgsm"][ok] >= S_tot[ok] * (1 - 2e-2))
    np.testing.assert_allclose(res["dgsm"][0], S_tot[0], rtol=2e-2)
    assert np.isnan(res["dgsm"][3]) and np.isnan(res["dgsm_conf"][3])


def test_groups_sum_their_members():
    problem = dict(ISHIGAMI, groups=["a", "b", "a"])
    res = dualml.dgsm(M.ishigami, problem, 1024, seed=7, num_resamples=10)
    one = dualml.dgsm(M.ishigami, ISHIGAMI, 1024, seed=7, num_resamples=10)
    assert res["names"] == ["a", "b"]
    np.testing.assert_allclose(res["vi"], [one["vi"][0] + one["vi"][2], one["vi"][1]],
                               rtol=1e-13)
    np.testing.assert_allclose(res["dgsm"], [one["dgsm"][0] + one["dgsm"][2],
                                             one["dgsm"][1]], rtol=1e-13)
    np.testing.assert_allclose(res.inputs["vi"], one["vi"], rtol=1e-15)
    # Ishigami's total indices (closed form): the group {x1, x3} has 1 - S_2
    a, b = M.ISHIGAMI_A, M.ISHIGAMI_B
    V = a ** 2 / 8 + b * np.pi ** 4 / 5 + b ** 2 * np.pi ** 8 / 18 + 0.5
    S2 = a ** 2 / 8 / V
    assert res["dgsm"][0] >= 1 - S2 and res["dgsm"][1] >= S2
    assert np.all(res["vi_conf"] > 0) and np.all(res["dgsm_conf"] > 0)


def test_crossed_dgsm_against_ishigami_closed_form():
    a, b = M.ISHIGAMI_A, M.ISHIGAMI_B
    res = dualml.dgsm(M.ishigami, ISHIGAMI, 4096, seed=8, num_resamples=2, crossed=True)
    nu = res["crossed_vi"]
    assert nu.shape == (3, 3) and np.array_equal(nu, nu.T)
    # d2f/dx1dx3 = 4 b x3^3 cos x1: E = 16 b^2 E[x3^6] E[cos^2 x1] = 16 b^2 (pi^6 / 7) / 2
    np.testing.assert_allclose(nu[0, 2], 8 * b ** 2 * np.pi ** 6 / 7, rtol=1e-2)
    # d2f/dx2^2 = 2a cos 2x2: E = 2 a^2; no x1-x2 or x2-x3 interaction
    np.testing.assert_allclose(nu[1, 1], 2 * a ** 2, rtol=1e-2)
    assert nu[0, 1] == 0.0 and nu[1, 2] == 0.0
    # the bound on the total interaction index of (x1, x3): D_13 / V (closed form)
    V = a ** 2 / 8 + b * np.pi ** 4 / 5 + b ** 2 * np.pi ** 8 / 18 + 0.5
    D13 = b ** 2 * np.pi ** 8 * (1 / 18 - 1 / 50)
    assert res["crossed_dgsm"][0, 2] >= D13 / V
    per_point = dualml.dgsm(M.ishigami, ISHIGAMI, 64, seed=8, num_resamples=2, crossed=True,
                            vectorized=False)
    vec = dualml.dgsm(M.ishigami, ISHIGAMI, 64, seed=8, num_resamples=2, crossed=True)
    np.testing.assert_allclose(per_point["crossed_vi"], vec["crossed_vi"], rtol=1e-12)


def test_bootstrap_quiet_and_defined_where_resamples_are_degenerate():
    # A resample drawing one point only has Var f = 0 and no dgsm: it used
    # to give vi/0 = inf and a RuntimeWarning from the spread of infs (and a
    # NaN half-width).  At N = 2 half the resamples are such; every other
    # resample draws both points once, i.e. is the sample itself, so the
    # dgsm spread over the defined resamples is 0 (to rounding).
    model = lambda X: X[:, 0] + X[:, 1] ** 2                      # noqa: E731
    problem = {"bounds": [[0, 1], [0, 1]]}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for seed in range(10):
            res = dualml.dgsm(model, problem, 2, seed=seed, num_resamples=50)
            assert (np.abs(res["dgsm_conf"]) <= 1e-12 * res["dgsm"]).all(), seed
            assert np.isfinite(res["vi_conf"]).all() and res["vi_conf"][1] > 0
        # fewer than two defined resamples: NaN, said so in the docstring
        res = dualml.dgsm(model, problem, 2, seed=0, num_resamples=1)
        assert np.isnan(res["dgsm_conf"]).all() and np.isnan(res["vi_conf"]).all()
        # the CI case (N = 4, two resamples, any seed): a finite half-width,
        # or NaN where a resample was degenerate
        kinds = set()
        for seed in range(200):
            res = dualml.dgsm(lambda x: x[5] * x[0], {"bounds": [[0, 1]] * 6}, 4,
                              seed=seed, vectorized=False, num_resamples=2)
            conf = res["dgsm_conf"][[0, 5]]
            assert np.isnan(conf).all() or ((conf >= 0) & np.isfinite(conf)).all()
            kinds.add(bool(np.isnan(conf).all()))
        assert kinds == {True, False}
