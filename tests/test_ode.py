"""dualml.ode: solve_ivp's forward sensitivities.

References are independent of dualml: closed forms (exponential decay,
logistic growth differentiated by sympy, a linear system through SciPy's
Fréchet derivative of expm) and Richardson-extrapolated central differences
of SciPy's own solve_ivp run at tight tolerances.
"""
import functools

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import sympy as sp

import dualml

TIGHT = {"rtol": 1e-10, "atol": 1e-12}
METHODS = ["RK45", "RK23", "DOP853", "Radau", "BDF", "LSODA"]


def decay(t, y, k):
    return -k * y


def sir(t, y, p):
    S, I, R = y
    beta, gamma = p
    inf = beta * S * I
    return [-inf, inf - gamma * I, gamma * I]


def sir_np(t, y, p):
    # np.array([...]) of the components: only scalar Duals can go through it
    beta, gamma = p
    inf = beta * y[0] * y[1]
    return np.array([-inf, inf - gamma * y[1], gamma * y[1]])


def robertson(t, y, k):
    k1, k2, k3 = k
    a, b, c = y
    return [-k1 * a + k3 * b * c, k1 * a - k2 * b * b - k3 * b * c, k2 * b * b]


def richardson(F, p, h):
    """dF/dp_j by central differences at h and h/2, Richardson-extrapolated."""
    p = np.asarray(p, dtype=float)
    cols = []
    for j in range(p.size):
        def central(hh, j=j):
            e = np.zeros_like(p)
            e[j] = hh * max(1.0, abs(p[j]))
            return (F(p + e) - F(p - e)) / (2 * e[j])
        cols.append((4 * central(h / 2) - central(h)) / 3)
    return np.stack(cols, axis=-1)


# -- closed forms ----------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_exponential_decay_closed_form(method):
    k, y0 = 0.7, 3.0
    ts = np.array([0.25, 1.0, 2.0])
    sol = dualml.solve_ivp(decay, (0, 2), [y0], params=np.array([k]), t_eval=ts,
                           method=method, y0_sensitivity=True, **TIGHT)
    assert sol.success
    assert sol.sensitivities.shape == (3, 1, 1)
    assert sol.sensitivities_y0.shape == (3, 1, 1)
    np.testing.assert_allclose(sol.y[0], y0 * np.exp(-k * ts), rtol=1e-7)
    np.testing.assert_allclose(sol.sensitivities[:, 0, 0], -ts * y0 * np.exp(-k * ts),
                               rtol=1e-6)
    np.testing.assert_allclose(sol.sensitivities_y0[:, 0, 0], np.exp(-k * ts), rtol=1e-6)


def test_scalar_params_shape():
    sol = dualml.solve_ivp(decay, (0, 1), [2.0], params=0.5, t_eval=[1.0], **TIGHT)
    assert sol.sensitivities.shape == (1, 1)
    np.testing.assert_allclose(sol.sensitivities[0, 0], -2.0 * np.exp(-0.5), rtol=1e-8)


def test_logistic_growth_against_sympy():
    r, K, y0, t = sp.symbols("r K y0 t", positive=True)
    closed = K * y0 * sp.exp(r * t) / (K + y0 * (sp.exp(r * t) - 1))
    refs = [sp.lambdify((r, K, y0, t), sp.diff(closed, v)) for v in (r, K, y0)]
    pr, pK, py0 = 0.8, 10.0, 0.5
    ts = np.linspace(0.5, 6.0, 7)

    def logistic(t, y, p):
        return p[0] * y * (1 - y / p[1])
    sol = dualml.solve_ivp(logistic, (0, 6), [py0], params=[pr, pK], t_eval=ts,
                           y0_sensitivity=True, method="DOP853", **TIGHT)
    S = sol.sensitivities[:, 0, :]
    for j in range(2):
        np.testing.assert_allclose(S[:, j], refs[j](pr, pK, py0, ts), rtol=1e-7)
    np.testing.assert_allclose(sol.sensitivities_y0[:, 0, 0], refs[2](pr, pK, py0, ts),
                               rtol=1e-7)


def test_linear_system_against_expm_frechet():
    # y' = A(p) y: y(t) = expm(A t) y0, dy/dp_j = L(A t, dA/dp_j t) y0
    def A_of(p):
        return np.array([[-p[0], p[1], 0.0], [p[0], -p[1] - p[2], 0.3], [0.0, p[2], -0.3]])
    dA = [np.array([[-1, 0, 0], [1, 0, 0], [0, 0, 0.]]),
          np.array([[0, 1, 0], [0, -1, 0], [0, 0, 0.]]),
          np.array([[0, 0, 0], [0, -1, 0], [0, 1, 0.]])]
    p = np.array([0.9, 0.4, 1.3])
    y0 = np.array([1.0, 0.5, 0.0])
    ts = np.array([0.5, 1.5, 3.0])

    def lin(t, y, p):
        return A_of(p) @ y
    sol = dualml.solve_ivp(lin, (0, 3), y0, params=p, t_eval=ts, method="Radau", **TIGHT)
    for k, t in enumerate(ts):
        ref = np.stack([scipy.linalg.expm_frechet(A_of(p) * t, dA[j] * t,
                                                  compute_expm=False) @ y0
                        for j in range(3)], axis=-1)
        np.testing.assert_allclose(sol.sensitivities[k], ref, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(sol.y[:, k], scipy.linalg.expm(A_of(p) * t) @ y0,
                                   rtol=1e-7)


# -- against finite differences of SciPy's solution ---------------------------------------

def test_sir_against_richardson():
    p = np.array([0.5, 0.1])
    y0 = [0.99, 0.01, 0.0]
    ts = np.array([5.0, 20.0, 40.0])

    def F(q):
        return scipy.integrate.solve_ivp(sir, (0, 40), y0, args=(q,), t_eval=ts,
                                         method="DOP853", rtol=1e-13, atol=1e-14).y.T
    ref = richardson(F, p, 1e-3)                 # (n_t, n_y, n_p)
    for ad in ("array", "scalar"):
        sol = dualml.solve_ivp(sir, (0, 40), y0, params=p, t_eval=ts, ad_method=ad,
                               method="DOP853", **TIGHT)
        np.testing.assert_allclose(sol.sensitivities, ref, rtol=1e-6, atol=1e-9)


def test_np_array_model_falls_back_to_scalar_duals():
    p = np.array([0.5, 0.1])
    a = dualml.solve_ivp(sir, (0, 10), [0.99, 0.01, 0.0], params=p, t_eval=[10.0], **TIGHT)
    b = dualml.solve_ivp(sir_np, (0, 10), [0.99, 0.01, 0.0], params=p, t_eval=[10.0], **TIGHT)
    np.testing.assert_allclose(b.sensitivities, a.sensitivities, rtol=1e-9, atol=1e-12)
    with pytest.raises(TypeError, match="DualArray"):
        dualml.solve_ivp(sir_np, (0, 10), [0.99, 0.01, 0.0], params=p, ad_method="array")


@functools.lru_cache(maxsize=1)
def _robertson_reference(ts):
    # relative sensitivities d y / d log k_j = k_j dy/dk_j, by differences in log k
    def F(logk):
        return scipy.integrate.solve_ivp(robertson, (0, 40), [1.0, 0.0, 0.0],
                                         args=(np.exp(logk),), t_eval=ts, method="Radau",
                                         rtol=1e-12, atol=1e-16).y.T
    return richardson(F, np.log([0.04, 3e7, 1e4]), 1e-3)


@pytest.mark.parametrize("method", ["BDF", "Radau", "LSODA"])
def test_robertson_stiff_against_richardson(method):
    k = np.array([0.04, 3e7, 1e4])
    y0 = [1.0, 0.0, 0.0]
    ts = (0.4, 4.0, 40.0)
    ref = _robertson_reference(ts)
    sol = dualml.solve_ivp(robertson, (0, 40), y0, params=k, t_eval=ts, method=method,
                           rtol=1e-9, atol=1e-14)
    assert sol.success
    assert sol.njev > 0 or method == "LSODA"
    rel = sol.sensitivities * k
    scale = np.abs(ref).max(axis=0, keepdims=True)      # per (component, parameter)
    np.testing.assert_allclose(rel / scale, ref / scale, atol=2e-5)


def test_augmented_jacobian_is_exact():
    # the stiff methods' Jacobian against central differences of the augmented rhs
    p = np.array([0.5, 0.1])
    t, y = 0.0, np.array([0.9, 0.1, 0.0])
    from dualml.ode import _System
    sysm = _System(sir, 3, [(p, np.eye(2))], 2, "array")
    z = np.concatenate([y, np.array([0.3, -0.2, 0.1, 0.05, 0.4, -0.3])])
    for mode in ("array", "scalar"):
        sysm.mode = mode
        J = sysm.aug_jac(t, z)
        ref = richardson(lambda zz: sysm.rhs(t, zz), z, 1e-3)
        np.testing.assert_allclose(J, ref, atol=1e-9)


# -- inside dualml.gradient / jacobian / dgsm -------------------------------------------

def _fit_loss(p, data, ts):
    sol = dualml.solve_ivp(sir, (0, 30), [0.99, 0.01, 0.0], params=p, t_eval=ts, **TIGHT)
    return ((sol.y[1] - data) ** 2).sum()


def test_gradient_of_ode_fit_loss():
    ts = np.linspace(2, 30, 8)
    data = scipy.integrate.solve_ivp(sir, (0, 30), [0.99, 0.01, 0.0], args=([0.45, 0.12],),
                                     t_eval=ts, rtol=1e-12, atol=1e-14).y[1]
    p = np.array([0.5, 0.1])

    def plain(q):
        y = scipy.integrate.solve_ivp(sir, (0, 30), [0.99, 0.01, 0.0], args=(q,),
                                      t_eval=ts, rtol=1e-13, atol=1e-14).y[1]
        return np.array(((y - data) ** 2).sum())
    ref = richardson(plain, p, 1e-3)
    for x in (p, list(p)):          # array backend (a DualArray) and scalar Duals
        g = dualml.gradient(_fit_loss, x, args=(data, ts))
        np.testing.assert_allclose(g, ref, rtol=1e-6)


def test_jacobian_through_y0_and_args():
    # y(T) = y0 exp(-k T) with k in args and y0 differentiated
    T = 1.5

    def final(q):
        return dualml.solve_ivp(decay, (0, T), q[1:], args=(q[0],), **TIGHT).y[:, -1]
    q = np.array([0.4, 2.0, 3.0])
    ref = np.array([[-T * 2.0 * np.exp(-0.4 * T), np.exp(-0.4 * T), 0.0],
                    [-T * 3.0 * np.exp(-0.4 * T), 0.0, np.exp(-0.4 * T)]])
    np.testing.assert_allclose(dualml.jacobian(final, q), ref, rtol=1e-8)
    np.testing.assert_allclose(dualml.jacobian(final, list(q)), ref, rtol=1e-8)


def test_nested_dense_output_carries_duals():
    def at(k):
        sol = dualml.solve_ivp(decay, (0, 2), [1.0], params=k, dense_output=True, **TIGHT)
        return sol.sol(1.3)[0]
    g = dualml.gradient(at, np.array([0.6]))
    np.testing.assert_allclose(g, [-1.3 * np.exp(-0.78)], rtol=1e-6)


def test_dgsm_of_ode_model_matches_closed_form_model():
    problem = {"num_vars": 2, "names": ["k", "y0"], "bounds": [[0.2, 1.0], [1.0, 2.0]]}

    def ode_model(x):
        return dualml.solve_ivp(decay, (0, 1.0), x[1:], args=(x[0],), **TIGHT).y[0, -1]

    def closed(X):
        return X[:, 1] * np.exp(-X[:, 0])
    a = dualml.dgsm(ode_model, problem, 32, seed=3, vectorized=False, num_resamples=2)
    b = dualml.dgsm(closed, problem, 32, seed=3, num_resamples=2)
    np.testing.assert_allclose(a["vi"], b["vi"], rtol=1e-7)


# -- dense output, events, tolerances ------------------------------------------------------

def test_dense_output_sensitivities():
    p = np.array([0.5, 0.1])
    ts = np.array([3.0, 7.5])
    sol = dualml.solve_ivp(sir, (0, 10), [0.99, 0.01, 0.0], params=p, dense_output=True,
                           y0_sensitivity=True, t_eval=ts, **TIGHT)
    np.testing.assert_allclose(sol.sol(ts), sol.y, rtol=1e-8)
    assert sol.sol(3.0).shape == (3,)
    np.testing.assert_allclose(sol.sol.sensitivities(ts), sol.sensitivities, rtol=1e-7,
                               atol=1e-10)
    np.testing.assert_allclose(sol.sol.sensitivities(7.5), sol.sensitivities[1],
                               rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(sol.sol.sensitivities_y0(ts), sol.sensitivities_y0,
                               rtol=1e-7, atol=1e-10)


def test_events_see_the_state_only():
    seen = []

    def half(t, y, k):
        seen.append(len(y))
        return y[0] - 1.0
    half.terminal = True
    sol = dualml.solve_ivp(decay, (0, 10), [2.0], params=[0.5], events=half, **TIGHT)
    assert set(seen) == {1}
    np.testing.assert_allclose(sol.t_events[0], [2 * np.log(2.0)], rtol=1e-8)
    assert sol.y_events[0].shape == (1, 1)
    assert sol.status == 1
    np.testing.assert_allclose(sol.t_events_sensitivities[0], [[-2 * np.log(2.0) / 0.5]],
                               rtol=1e-7)


def test_event_times_carry_outer_derivatives():
    # y' = -k y from y0 reaches 1 at t_e = ln(y0) / k: dt_e/dk = -t_e / k, dt_e/dy0 = 1/(k y0)
    def one(t, y, k):
        return y[0] - 1.0
    one.terminal = True

    def t_hit(q):
        sol = dualml.solve_ivp(decay, (0, 10), q[1:], args=(q[0],), events=one, **TIGHT)
        return sol.t_events[0][0]
    q = np.array([0.5, 2.0])
    te = np.log(2.0) / 0.5
    for x in (q, list(q)):
        np.testing.assert_allclose(dualml.gradient(t_hit, x), [-te / 0.5, 1 / (0.5 * 2.0)],
                                   rtol=1e-7)
    # the state at the event: y = 1 whatever the inputs (total derivative 0)
    y_hit = dualml.jacobian(lambda q: dualml.solve_ivp(
        decay, (0, 10), q[1:], args=(q[0],), events=one, **TIGHT).y_events[0][0], q)
    np.testing.assert_allclose(y_hit, [[0.0, 0.0]], atol=1e-8)


def test_error_control_covers_sensitivities():
    # a parameter that only the sensitivities feel: y' = -k y from y0 = 0 stays 0,
    # but the y0-sensitivity s' = -k s, s(0) = 1 needs steps of its own
    sol = dualml.solve_ivp(decay, (0, 5), [0.0], params=[2.0], y0_sensitivity=True,
                           rtol=1e-8, atol=1e-10, t_eval=[5.0])
    np.testing.assert_allclose(sol.sensitivities_y0[0, 0, 0], np.exp(-10.0), rtol=1e-6)
    assert sol.nfev > 50


def test_state_only_error_control_takes_fewer_steps():
    p = np.array([0.5, 0.1])
    kw = {"params": p, "y0_sensitivity": True, "rtol": 1e-6, "atol": 1e-9, "t_eval": [40.0]}
    both = dualml.solve_ivp(sir, (0, 40), [0.99, 0.01, 0.0], **kw)
    state = dualml.solve_ivp(sir, (0, 40), [0.99, 0.01, 0.0], sens_error_control=False, **kw)
    assert state.nfev < both.nfev
    ref = dualml.solve_ivp(sir, (0, 40), [0.99, 0.01, 0.0], params=p, rtol=1e-12,
                           atol=1e-14, t_eval=[40.0], method="DOP853").sensitivities
    # not guaranteed, but close: carried on y's steps by the same RK formula
    np.testing.assert_allclose(state.sensitivities, ref, rtol=1e-3, atol=1e-6)
    np.testing.assert_allclose(both.sensitivities, ref, rtol=1e-4, atol=1e-7)
    with pytest.raises(TypeError, match="sens_error_control"):
        dualml.solve_ivp(sir, (0, 1), [0.99, 0.01, 0.0], params=p, sens_error_control="no")


def test_atol_shapes():
    ok = dualml.solve_ivp(sir, (0, 5), [0.99, 0.01, 0.0], params=[0.5, 0.1],
                          atol=[1e-8, 1e-8, 1e-8])
    assert ok.success
    with pytest.raises(ValueError, match="atol"):
        dualml.solve_ivp(sir, (0, 5), [0.99, 0.01, 0.0], params=[0.5, 0.1], atol=[1e-8] * 4)


# -- errors -----------------------------------------------------------------------------------

def test_refused_options_and_bad_inputs():
    with pytest.raises(ValueError, match="jac"):
        dualml.solve_ivp(decay, (0, 1), [1.0], params=[1.0], method="BDF",
                         jac=lambda t, y: None)
    with pytest.raises(ValueError, match="vectorized"):
        dualml.solve_ivp(decay, (0, 1), [1.0], params=[1.0], vectorized=True)
    with pytest.raises(TypeError, match="callable"):
        dualml.solve_ivp(None, (0, 1), [1.0])
    with pytest.raises(ValueError, match="1-dimensional"):
        dualml.solve_ivp(decay, (0, 1), [[1.0]], params=[1.0])
    with pytest.raises(TypeError, match="complex"):
        dualml.solve_ivp(decay, (0, 1), [1.0j], params=[1.0])
    with pytest.raises(ValueError, match="shape"):
        dualml.solve_ivp(lambda t, y, k: [-k * y[0], 0.0], (0, 1), [1.0], params=1.0)
    with pytest.raises(ValueError, match="ad_method"):
        dualml.solve_ivp(decay, (0, 1), [1.0], params=[1.0], ad_method="fast")
    with pytest.raises(TypeError, match="integration times"):
        dualml.gradient(lambda T: dualml.solve_ivp(decay, (0, T[0]), [1.0], args=(1.0,)).y,
                        [1.0])


def test_fun_closing_over_outer_duals_is_refused_clearly():
    def closes(x):          # x reaches fun through the closure, not through args
        return dualml.solve_ivp(lambda t, y: -x[0] * y, (0, 1), [1.0]).y[0, -1]

    def closes_too(x):
        return dualml.solve_ivp(lambda t, y, p: -x[0] * p * y, (0, 1), [1.0],
                                params=[2.0]).y[0, -1]
    for f in (closes, closes_too):
        for x in (np.array([0.5]), [0.5]):
            with pytest.raises(ValueError, match="closes over"):
                dualml.gradient(f, x)


def test_scipy_solve_ivp_with_duals_names_dualml_solve_ivp():
    def loss(p):
        return scipy.integrate.solve_ivp(lambda t, y: -p[0] * y, (0, 1), [1.0]).y[0, -1]
    for x in ([0.5], np.array([0.5])):
        with pytest.raises(TypeError, match="dualml.solve_ivp"):
            dualml.gradient(loss, x)


def test_docstring_examples_run():
    import doctest

    import dualml.ode
    res = doctest.testmod(dualml.ode)
    assert res.failed == 0 and res.attempted > 0


def test_result_readers_agree_with_the_general_path():
    # the C reader of a list of 0-d results, the Python one, and the general
    # reader (_parts) give the same augmented derivative
    from dualml.ode import _System
    p = np.array([0.5, 0.1])
    z = np.array([0.9, 0.1, 0.0, 0.3, -0.2, 0.1, 0.05, 0.4, -0.3])
    results = {}
    for ret in ("list", "mixed", "stacked"):
        def fun(t, y, p, ret=ret):
            r = sir(t, y, p)
            if ret == "mixed":
                r = [r[0], r[1], 0.25]          # a plain float entry: zero tangent
            if ret == "stacked":
                r = np.stack(r)
            return r
        results[ret] = _System(fun, 3, [(p, np.eye(2))], 2, "array").rhs(0.0, z)
    expect = _System(sir, 3, [(p, np.eye(2))], 2, "scalar").rhs(0.0, z)
    np.testing.assert_array_equal(results["list"], expect)
    np.testing.assert_array_equal(results["stacked"], expect)
    assert results["mixed"][2] == 0.25 and results["mixed"][5] == 0.0
    np.testing.assert_array_equal(results["mixed"][:2], expect[:2])


def test_cli_sensitivity_of_a_model_solving_an_ode(tmp_path, capsys, monkeypatch):
    import json
    import sys
    import textwrap

    from dualml.__main__ import main
    (tmp_path / "ode_cli_model.py").write_text(textwrap.dedent("""
        import dualml

        def rhs(t, y, beta, gamma):
            s, i, r = y
            return [-beta * s * i, beta * s * i - gamma * i, gamma * i]

        def final_size(beta, gamma, days=100):
            sol = dualml.solve_ivp(rhs, (0, days), [0.99, 0.01, 0.0], args=(beta, gamma),
                                   rtol=1e-10, atol=1e-12)
            return sol.y[2, -1]
    """))
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "ode_cli_model", raising=False)
    code = main(["sensitivity", str(tmp_path / "ode_cli_model.py") + ":final_size",
                 "--at", "beta=0.3", "gamma=0.1", "--fixed", "days=60", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)

    def F(q):
        return np.array(scipy.integrate.solve_ivp(
            lambda t, y: sir(t, y, q), (0, 60), [0.99, 0.01, 0.0], method="DOP853",
            rtol=1e-13, atol=1e-14).y[2, -1])
    np.testing.assert_allclose(doc["jacobian"], richardson(F, [0.3, 0.1], 1e-3), rtol=1e-6)


def test_event_time_and_state_sensitivities_closed_form():
    # a ball thrown up from h0 at v0 under gravity g lands at
    # t_e = (v0 + sqrt(v0^2 + 2 g h0)) / g with speed v_e = v0 - g t_e
    def ball(t, y, p):
        return [y[1], -p[0]]

    def ground(t, y, p):
        return y[0]
    ground.terminal = True
    ground.direction = -1
    g, h0, v0 = 9.81, 2.0, 3.0
    sol = dualml.solve_ivp(ball, (0, 10), [h0, v0], params=[g], events=ground,
                           y0_sensitivity=True, **TIGHT)
    r = np.sqrt(v0 ** 2 + 2 * g * h0)
    te = (v0 + r) / g
    dte = {"g": -(v0 + r) / g ** 2 + h0 / (g * r), "h0": 1 / r, "v0": (1 + v0 / r) / g}
    np.testing.assert_allclose(sol.t_events[0], [te], rtol=1e-9)
    np.testing.assert_allclose(sol.t_events_sensitivities[0], [[dte["g"]]], rtol=1e-7)
    np.testing.assert_allclose(sol.t_events_sensitivities_y0[0],
                               [[dte["h0"], dte["v0"]]], rtol=1e-7)
    # the state at the event: height stays 0 (derivative 0), speed v0 - g t_e
    dv = {"g": -te - g * dte["g"], "h0": -g * dte["h0"], "v0": 1 - g * dte["v0"]}
    ys = sol.y_events_sensitivities[0]
    assert ys.shape == (1, 2, 1)
    np.testing.assert_allclose(ys[0, :, 0], [0.0, dv["g"]], atol=1e-7)
    np.testing.assert_allclose(sol.y_events_sensitivities_y0[0][0],
                               [[0.0, 0.0], [dv["h0"], dv["v0"]]], atol=1e-7)


def test_gradient_of_a_list_with_multi_partial_duals_equals_chunk_1():
    # the default chunk seeds both parameters in one pass (multi-partial Duals);
    # the result must be chunk=1's (to the solver's tolerance: the error
    # control sees 2 sensitivity columns instead of 1, so the steps differ)
    # and a central difference's to 1e-6
    def loss(p):
        sol = dualml.solve_ivp(lambda t, y, k, c: -k * y + c, (0, 2), [1.0, 2.0],
                               args=(p[0], p[1]), t_eval=[0.5, 1.0, 2.0],
                               rtol=1e-11, atol=1e-13)
        return np.sum(sol.y ** 2)
    p = [0.7, 0.3]
    g = dualml.gradient(loss, p)
    np.testing.assert_allclose(g, dualml.gradient(loss, p, chunk=1), rtol=1e-9)
    h = 1e-5
    fd = [(loss([p[0] + h, p[1]]) - loss([p[0] - h, p[1]])) / (2 * h),
          (loss([p[0], p[1] + h]) - loss([p[0], p[1] - h])) / (2 * h)]
    np.testing.assert_allclose(g, fd, rtol=1e-6)
