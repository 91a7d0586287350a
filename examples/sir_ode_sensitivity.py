"""
ODE sensitivities of an SIR epidemic with dualml.solve_ivp
==========================================================

Which parameter of an SIR epidemic moves the epidemic most, and when?

The SIR model s' = -beta s i, i' = beta s i - gamma i, r' = gamma i is solved
by dualml.solve_ivp, which integrates the forward sensitivity equations with
SciPy's RK45: d i(t)/d beta and d i(t)/d gamma over the whole course of the
epidemic, from ONE augmented solve (finite differences need two more solves
per parameter, and a step size to choose).  The sensitivities are checked
against Richardson-extrapolated central differences of SciPy's own solution.

Then a global view: DGSM over a box of (beta, gamma, i0) with exact gradients of
the epidemic's peak prevalence, each point one dualml.solve_ivp call inside
dualml.dgsm.

    python examples/sir_ode_sensitivity.py
"""
import numpy as np
from scipy.integrate import solve_ivp

import dualml


def sir(t, y, p):
    """The SIR right-hand side; p = (beta, gamma)."""
    s, i, r = y
    beta, gamma = p
    new = beta * s * i
    return [-new, new - gamma * i, gamma * i]


def local(p=(0.4, 0.1), i0=0.01, days=100.0, n_t=11):
    """i(t) and its sensitivities to beta, gamma on n_t days, and their check."""
    ts = np.linspace(days / (n_t - 1), days, n_t - 1)
    tol = {"rtol": 1e-10, "atol": 1e-12}
    sol = dualml.solve_ivp(sir, (0.0, days), [1 - i0, i0, 0.0], params=np.array(p),
                           t_eval=ts, **tol)
    S = sol.sensitivities[:, 1, :]          # (n_t, 2): d i(t_k) / d (beta, gamma)

    def i_of(q):
        return solve_ivp(sir, (0.0, days), [1 - i0, i0, 0.0], args=(q,), t_eval=ts,
                         method="DOP853", rtol=1e-13, atol=1e-14).y[1]

    fd = np.empty_like(S)
    for j in range(2):                      # central differences at h and h/2, extrapolated
        def central(h, j=j):
            e = np.zeros(2)
            e[j] = h
            return (i_of(np.add(p, e)) - i_of(np.subtract(p, e))) / (2 * h)
        fd[:, j] = (4 * central(5e-4) - central(1e-3)) / 3
    err = np.max(np.abs(S - fd)) / np.max(np.abs(fd))
    return ts, sol.y[1], S, err


def peak_prevalence(x):
    """max_t i(t) for x = (beta, gamma, i0), on a daily grid over 160 days."""
    sol = dualml.solve_ivp(sir, (0.0, 160.0), [1 - x[2], x[2], 0.0], params=x[:2],
                           t_eval=np.arange(1.0, 161.0), rtol=1e-7, atol=1e-10)
    return sol.y[1].max()


PROBLEM = {"num_vars": 3, "names": ["beta", "gamma", "i0"],
           "bounds": [[0.2, 0.5], [0.05, 0.15], [1e-3, 1e-2]]}


def main(n=64):
    ts, i, S, err = local()
    print("day   i(t)      di/dbeta   di/dgamma")
    for t, v, (db, dg) in zip(ts, i, S):
        print(f"{t:5.0f} {v:8.5f} {db:10.4f} {dg:10.4f}")
    print(f"max relative difference from Richardson differences of SciPy: {err:.1e}")
    res = dualml.dgsm(peak_prevalence, PROBLEM, n, seed=0, vectorized=False,
                      num_resamples=20)
    print(res)
    return {"local_error": err, "sensitivities": S, "dgsm": res}


if __name__ == "__main__":
    main()
