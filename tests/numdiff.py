"""Independent references for the NumPy-coverage tests: Richardson-extrapolated
central differences, and the test points they are evaluated at.

Shared by tests/test_numpy_coverage.py and tests/test_numpy_heldout.py.  The
points are distinct and stay away from 0 and +-1 (kinks, domain edges), so
a finite difference never straddles a branch of the function under test.
"""
import numpy as np


def V(n, shape=None, lo=-1.9, hi=1.8, seed=0):
    """Distinct values (gaps >= (hi - lo)/n), not within 0.05 of 0 or +-1."""
    v = np.linspace(lo, hi, n) + 0.0371
    v = v[np.random.default_rng(seed).permutation(n)]
    return v.reshape(shape if shape is not None else (n,))


def P(n, shape=None, seed=0):
    """Distinct positive values in [0.5, 2.5]."""
    return V(n, shape, 0.5, 2.4, seed)


def fd_jacobian(f, x, h=1e-3):
    """Richardson-extrapolated central differences, J.shape = f(x).shape + x.shape."""
    y0 = np.asarray(f(x), dtype=float)
    J = np.zeros(y0.shape + x.shape)
    for j in np.ndindex(x.shape):
        s = h * max(1.0, abs(x[j]))

        def D(s, j=j):
            xp, xm = x.copy(), x.copy()
            xp[j] += s
            xm[j] -= s
            return (np.asarray(f(xp), dtype=float) - np.asarray(f(xm), dtype=float)) / (2 * s)
        J[(Ellipsis,) + j] = (4 * D(s / 2) - D(s)) / 3
    return J


def fd_hessian(g, x, h=2e-3):
    """Richardson-extrapolated second differences of a scalar g."""
    n = x.size
    xf = x.reshape(-1)
    H = np.zeros((n, n))

    def gv(d):
        return float(g((xf + d).reshape(x.shape)))
    for i in range(n):
        for j in range(i, n):
            def D(s, i=i, j=j):
                ei, ej = np.zeros(n), np.zeros(n)
                ei[i] += s
                ej[j] += s
                return (gv(ei + ej) - gv(ei - ej) - gv(ej - ei) + gv(-ei - ej)) / (4 * s * s)
            s = h * max(1.0, abs(xf[i]), abs(xf[j]))
            H[i, j] = H[j, i] = (4 * D(s / 2) - D(s)) / 3
    return H.reshape(x.shape + x.shape)
