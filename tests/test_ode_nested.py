"""dualml._ode_nested: solve_ivp inside hessian and crossed DGSM (second derivatives).

References are independent of dualml's second-order machinery: closed forms
(exponential decay; logistic growth differentiated twice by sympy) and
Richardson-extrapolated central differences of the first-order
sensitivities (SIR), for the array path (hessian's second-order DualArray
rows, and the nested DualArrays of its fallback) and the scalar path
(nested and multi-partial Duals).
"""
import numpy as np
import pytest
import sympy as sp

import dualml
from dualml import _ode_nested

TIGHT = {"rtol": 1e-11, "atol": 1e-13}
METHODS = ["RK45", "DOP853", "Radau", "BDF", "LSODA"]


def decay(t, y, k):
    return -k * y


def decay_solve(t, y, k):
    # np.linalg.solve has no second-order row rule: the array hessian falls
    # back to nested DualArrays (jacobian of gradient), which reach solve_ivp
    return np.linalg.solve(np.array([[2.0]]), -2.0 * k * y)


def sir(t, y, p):
    S, I, R = y
    beta, gamma = p
    inf = beta * S * I
    return [-inf, inf - gamma * I, gamma * I]


def sir_np(t, y, p):
    # np.array([...]) of the entries: DualArrays cannot go through it
    beta, gamma = p
    inf = beta * y[0] * y[1]
    return np.array([-inf, inf - gamma * y[1], gamma * y[1]])


def _decay_hessian(k, a, T):
    # y(T) = a exp(-k T): second partials in (k, a)
    e = np.exp(-k * T)
    return np.array([[a * T * T * e, -T * e], [-T * e, 0.0]])


POINTS = [pytest.param(np.array, id="array"), pytest.param(list, id="scalar")]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("kind", POINTS)
def test_decay_hessian_closed_form_y0_and_args(method, kind):
    T = 1.3

    def final(p):
        return dualml.solve_ivp(decay, (0, T), p[1:], args=(p[0],), method=method,
                                **TIGHT).y[0, -1]
    H = dualml.hessian(final, kind([0.5, 2.0]))
    tol = 1e-8 if method == "BDF" else 1e-9     # BDF's order-5 error at rtol 1e-11
    np.testing.assert_allclose(H, _decay_hessian(0.5, 2.0, T), rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", POINTS)
def test_decay_hessian_through_params_and_a_built_y0(kind):
    # y0 built from a list of entries, k through params=; the sum over the
    # state of the last column, as a user writes it
    T = 0.7

    def final(p):
        y0 = [p[1], 2.0 * p[1]]
        sol = dualml.solve_ivp(decay, (0, T), y0, params=p[0], t_eval=[0.2, T], **TIGHT)
        return sol.y[:, -1].sum()
    H = dualml.hessian(final, kind([0.9, 1.5]))
    np.testing.assert_allclose(H, 3.0 * _decay_hessian(0.9, 1.5, T), rtol=1e-9,
                               atol=1e-12)


def _record_levels(monkeypatch):
    seen = []
    init = _ode_nested.NestedSystem.__init__

    def spy(self, *a, **k):
        init(self, *a, **k)
        seen.append([(lv.K, lv.o2) for lv in self.levels])
    monkeypatch.setattr(_ode_nested.NestedSystem, "__init__", spy)
    return seen


def test_nested_dualarray_fallback_closed_form(monkeypatch):
    T = 1.0
    seen = _record_levels(monkeypatch)

    def final(p):
        return dualml.solve_ivp(decay_solve, (0, T), p[1:], args=(p[0],), **TIGHT).y[0, -1]
    np.testing.assert_allclose(dualml.hessian(final, np.array([0.5, 2.0])),
                               _decay_hessian(0.5, 2.0, T), rtol=1e-9, atol=1e-12)
    # the second-order rows first, then (linalg.solve has no row rule) nesting
    # (2 gradient rows + the 3 rows of the upper triangle of H)
    assert seen == [[(5, (2, 0, 2, True))], [(2, None), (2, None)]]


def test_logistic_hessian_against_sympy():
    r, K, y0, t = sp.symbols("r K y0 t", positive=True)
    closed = K * y0 * sp.exp(r * t) / (K + y0 * (sp.exp(r * t) - 1))
    v = (r, K, y0)
    ref_of = sp.lambdify((r, K, y0, t), sp.Matrix(3, 3, lambda i, j: sp.diff(closed, v[i],
                                                                              v[j])))
    q = np.array([0.8, 10.0, 0.5])
    T = 4.0

    def logistic(t, y, p):
        return p[0] * y * (1 - y / p[1])

    def final(x):
        return dualml.solve_ivp(logistic, (0, T), x[2:], params=x[:2], method="DOP853",
                                **TIGHT).y[0, -1]
    ref = np.array(ref_of(*q, T), dtype=float)
    for x in (q, list(q)):
        np.testing.assert_allclose(dualml.hessian(final, x), ref, rtol=1e-8, atol=1e-10)


def _richardson(F, p, h):
    p = np.asarray(p, dtype=float)
    cols = []
    for j in range(p.size):
        def central(hh, j=j):
            e = np.zeros_like(p)
            e[j] = hh
            return (F(p + e) - F(p - e)) / (2 * hh)
        cols.append((4 * central(h / 2) - central(h)) / 3)
    return np.stack(cols, axis=-1)


@pytest.mark.parametrize("fun", [sir, sir_np], ids=["list", "np.array"])
def test_sir_hessian_against_richardson_of_sensitivities(fun):
    # d/dp_j of the first-order sensitivities ∂y(T)/∂p (dualml.solve_ivp's
    # params= path, its own tested reference) by Richardson differences
    y0, T = [0.99, 0.01, 0.0], 20.0
    p = np.array([0.4, 0.1])

    def S(q):
        return dualml.solve_ivp(sir, (0, T), y0, params=q, method="DOP853", rtol=1e-13,
                                atol=1e-14).sensitivities[-1]        # (3, 2)
    ref = _richardson(S, p, 1e-3)                                    # (3, 2, 2)

    def comp(q, i):
        return dualml.solve_ivp(fun, (0, T), y0, params=q, method="DOP853",
                                **TIGHT).y[i, -1]
    for x in (p, list(p)):
        for i in range(3):
            np.testing.assert_allclose(dualml.hessian(comp, x, args=(i,)), ref[i],
                                       rtol=1e-6, atol=1e-8)


def test_sir_hessian_of_initial_state_against_richardson():
    T = 15.0
    p = [0.5, 0.1]

    def S0(y0):
        return dualml.solve_ivp(sir, (0, T), y0, params=p, y0_sensitivity=True,
                                method="DOP853", rtol=1e-13,
                                atol=1e-14).sensitivities_y0[-1][1]   # ∂I(T)/∂y0
    y0 = np.array([0.97, 0.03, 0.0])
    ref = _richardson(S0, y0, 1e-4)     # I0 = 0.03 is small: a small step

    def infected(y):
        return dualml.solve_ivp(sir, (0, T), y, params=p, method="DOP853",
                                **TIGHT).y[1, -1]
    for x in (y0, list(y0)):
        np.testing.assert_allclose(dualml.hessian(infected, x), ref, rtol=1e-6, atol=1e-8)


def test_hessian_of_a_sum_over_times_and_dense_output():
    T = 2.0
    ts = np.array([0.5, 1.0, 2.0])

    def fit(p):
        sol = dualml.solve_ivp(decay, (0, T), [p[1]], args=(p[0],), t_eval=ts,
                               dense_output=True, **TIGHT)
        return (sol.y[0] ** 2).sum() + sol.sol(1.7)[0]
    k, a = 0.6, 1.4
    kk, aa = sp.symbols("k a")
    expr = sum((aa * sp.exp(-kk * t)) ** 2 for t in ts) + aa * sp.exp(-kk * 1.7)
    ref = np.array(sp.hessian(expr, (kk, aa)).subs({kk: k, aa: a}), dtype=float)
    for x in (np.array([k, a]), [k, a]):
        np.testing.assert_allclose(dualml.hessian(fit, x), ref, rtol=1e-7)


def test_chunked_scalar_hessian():
    T = 1.1

    def final(p):
        return dualml.solve_ivp(decay, (0, T), p[1:], args=(p[0],), **TIGHT).y[0, -1]
    for chunk in (1, 2):
        np.testing.assert_allclose(dualml.hessian(final, [0.5, 2.0], chunk=chunk),
                                   _decay_hessian(0.5, 2.0, T), rtol=1e-9, atol=1e-12)


PROBLEM = {"num_vars": 2, "names": ["k", "y0"], "bounds": [[0.2, 1.0], [1.0, 2.0]]}


def _closed(X):
    return X[:, 1] * np.exp(-X[:, 0])


def test_crossed_dgsm_of_an_ode_model_per_point():
    def ode_model(x):
        return dualml.solve_ivp(decay, (0, 1.0), x[1:], args=(x[0],), **TIGHT).y[0, -1]
    a = dualml.dgsm(ode_model, PROBLEM, 16, seed=3, vectorized=False, num_resamples=2,
                    crossed=True)
    b = dualml.dgsm(_closed, PROBLEM, 16, seed=3, num_resamples=2, crossed=True)
    assert b["crossed_vi"][0, 1] > 0.1
    np.testing.assert_allclose(a["crossed_vi"], b["crossed_vi"], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(a["vi"], b["vi"], rtol=1e-8)


def test_crossed_dgsm_of_a_vectorized_ode_model():
    # the N points as one N-dimensional system (decay is elementwise)
    def ode_rows(X):
        return dualml.solve_ivp(decay, (0, 1.0), X[:, 1], args=(X[:, 0],),
                                **TIGHT).y[:, -1]
    a = dualml.dgsm(ode_rows, PROBLEM, 16, seed=3, num_resamples=2, crossed=True)
    b = dualml.dgsm(_closed, PROBLEM, 16, seed=3, num_resamples=2, crossed=True)
    np.testing.assert_allclose(a["crossed_vi"], b["crossed_vi"], rtol=1e-8, atol=1e-12)


def test_events_under_hessian_are_refused_clearly():
    def hit(t, y, k):
        return y[0] - 0.5

    def f(p):
        return dualml.solve_ivp(decay, (0, 5), [1.0], args=(p[0],), events=hit).y[0, -1]
    for x in (np.array([0.5]), [0.5]):
        with pytest.raises(ValueError, match="events="):
            dualml.hessian(f, x)
    # once is fine
    assert np.isfinite(dualml.gradient(f, np.array([0.5]))).all()


def test_closure_over_an_unknown_differentiation_is_refused():
    # fun closes over a Dual of a differentiation that no input carries
    def outer(c):
        def inner(p):
            return dualml.solve_ivp(lambda t, y, k: -k * c * y, (0, 1), [p[1]],
                                    args=(p[0],)).y[0, -1]
        return dualml.hessian(inner, [0.5, 2.0])[0, 0]
    with pytest.raises(ValueError, match="closes over"):
        dualml.derivative(outer, 1.0)


def test_components_round_trip():
    # flatten and build are inverses on nested Duals and on hessian's rows
    # (checked inside f: outside it the Duals belong to finished
    # differentiations, which dualml refuses to read)
    checked = []

    def grab(p):
        q = np.array(p, dtype=object) if isinstance(p, list) else p
        levels = _ode_nested.levels_of([q], dualml.DualArray)
        kind = levels[0].kind
        Z = _ode_nested.flatten(q, levels, kind, "p")
        assert Z.shape[0] == _ode_nested.n_components(levels)
        np.testing.assert_array_equal(
            _ode_nested.flatten(_ode_nested.build(Z, levels, kind), levels, kind, "p"), Z)
        checked.append(kind)
        return (p[0] * p[1]) ** 2
    dualml.hessian(grab, [0.5, 2.0])
    dualml.hessian(grab, np.array([0.5, 2.0]))
    assert len(checked) >= 2


@pytest.mark.parametrize("ad", ["auto", "scalar"])
def test_nested_dualarrays_evaluated_as_scalar_duals(ad, monkeypatch):
    # fun building np.array([...]) (or ad_method="scalar"): the rows send
    # hessian to its nested fallback, whose DualArrays are evaluated as
    # nested scalar Duals (same components)
    T = 12.0
    seen = _record_levels(monkeypatch)

    def comp(q):
        return dualml.solve_ivp(sir_np if ad == "auto" else sir, (0, T),
                                [0.99, 0.01, 0.0], params=q, ad_method=ad,
                                **TIGHT).y[1, -1]

    def ref_comp(q):
        return dualml.solve_ivp(sir, (0, T), [0.99, 0.01, 0.0], params=q, **TIGHT).y[1, -1]
    p = np.array([0.45, 0.12])
    ref = dualml.hessian(ref_comp, list(p))       # nested scalar Duals throughout
    del seen[:]
    np.testing.assert_allclose(dualml.hessian(comp, p), ref, rtol=1e-9)
    assert seen[-1] == [(2, None), (2, None)]


def test_ad_method_array_refused_for_scalar_duals():
    def f(p):
        return dualml.solve_ivp(decay, (0, 1), [p[1]], args=(p[0],),
                                ad_method="array").y[0, -1]
    with pytest.raises(ValueError, match="ad_method='auto'"):
        dualml.hessian(f, [0.5, 2.0])


def test_hvp_and_hand_nested_derivatives_closed_form():
    T, k, a = 1.3, 0.5, 2.0
    H = _decay_hessian(k, a, T)
    v = np.array([0.3, -1.1])

    def final(p):
        return dualml.solve_ivp(decay, (0, T), p[1:], args=(p[0],), **TIGHT).y[0, -1]
    for x in (np.array([k, a]), [k, a]):
        np.testing.assert_allclose(dualml.hvp(final, x, v), H @ v, rtol=1e-9)
        np.testing.assert_allclose(
            dualml.jacobian(lambda q: dualml.gradient(final, q), x), H, rtol=1e-9,
            atol=1e-12)

    def d_dk(kk):
        return dualml.solve_ivp(decay, (0, T), [a], args=(kk,), **TIGHT).y[0, -1]
    assert dualml.derivative(d_dk, k, n=2) == pytest.approx(H[0, 0], rel=1e-9)


@pytest.mark.parametrize("method", ["Radau", "BDF"])
def test_stiff_sir_hessian_against_richardson(method):
    # the stiff methods' Newton matrix is J_y per block (see _ode_nested): the
    # result is still set by the error control, checked against Richardson
    # differences of the first-order sensitivities
    y0, T = [0.99, 0.01, 0.0], 20.0
    p = np.array([0.4, 0.1])

    def S(q):
        return dualml.solve_ivp(sir, (0, T), y0, params=q, method="DOP853", rtol=1e-13,
                                atol=1e-14).sensitivities[-1][1]       # ∂I(T)/∂p
    ref = _richardson(S, p, 1e-3)

    def infected(q):
        return dualml.solve_ivp(sir, (0, T), y0, params=q, method=method,
                                rtol=1e-10, atol=1e-12).y[1, -1]
    for x in (p, list(p)):
        np.testing.assert_allclose(dualml.hessian(infected, x), ref, rtol=1e-6, atol=1e-7)


def test_crossed_dgsm_of_an_ode_model_with_scalar_duals():
    def ode_model(x):
        return dualml.solve_ivp(decay, (0, 1.0), x[1:], args=(x[0],), **TIGHT).y[0, -1]
    a = dualml.dgsm(ode_model, PROBLEM, 8, seed=5, vectorized=False, method="scalar",
                    num_resamples=2, crossed=True)
    b = dualml.dgsm(_closed, PROBLEM, 8, seed=5, num_resamples=2, crossed=True)
    np.testing.assert_allclose(a["crossed_vi"], b["crossed_vi"], rtol=1e-8, atol=1e-12)
