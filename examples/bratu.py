"""
The 1-D Bratu problem by Newton's method with a sparse dualml Jacobian
======================================================================

    u'' + lam * exp(u) = 0 on (0, 1),  u(0) = u(1) = 0,

discretized by central differences on n interior points: F(u) = 0 with a
tridiagonal Jacobian.  ``dualml.SparseJacobian`` is prepared once (pattern,
3 colors, gather indices) and called at every Newton step: one forward pass
with 3 directions instead of n gives F(u) and a ``scipy.sparse.csr_array``
that ``scipy.sparse.linalg.spsolve`` factors in O(n).  The lower solution has the
closed form u(x) = -2 log(cosh((x - 1/2) theta / 2) / cosh(theta / 4)) with
theta = sqrt(2 lam) cosh(theta / 4); the discrete one differs by O(h^2).
"""
import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq
from scipy.sparse.linalg import spsolve

import dualml


def residual(u, lam):
    """F(u): the discretized Bratu equation at the n interior points."""
    h2 = (u.size + 1.0) ** 2
    up = np.concatenate([u[1:], np.zeros(1)])       # u(1) = 0
    um = np.concatenate([np.zeros(1), u[:-1]])      # u(0) = 0
    return (up - 2.0 * u + um) * h2 + lam * np.exp(u)


def exact(x, lam):
    """The lower branch of the continuous problem (closed form)."""
    theta = brentq(lambda t: t - np.sqrt(2.0 * lam) * np.cosh(t / 4.0), 0.0, 4.0)
    return -2.0 * np.log(np.cosh((x - 0.5) * theta / 2.0) / np.cosh(theta / 4.0))


def main(n=2000, lam=1.0, tol=1e-12, verbose=True):
    x = np.arange(1, n + 1) / (n + 1.0)
    pattern = sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)],
                             offsets=[-1, 0, 1])
    J = dualml.SparseJacobian(residual, np.zeros(n), (lam,), sparsity=pattern)
    u = np.zeros(n)
    history = []
    for _ in range(50):
        F, A = J.value_and_jacobian(u)          # F(u) and J(u) from one pass
        history.append(float(np.abs(F).max()))
        # stop on the step: |F| bottoms out near n^2 * eps (the 1/h^2 scaling)
        du = spsolve(A.tocsc(), F)
        u = u - du
        if np.abs(du).max() < tol:
            break
    history.append(float(np.abs(residual(u, lam)).max()))
    err = float(np.abs(u - exact(x, lam)).max())
    if verbose:
        print(f"Bratu, n = {n}, lambda = {lam}: {J.ncolors} colors, "
              f"{len(history) - 1} Newton steps")
        for k, r in enumerate(history):
            print(f"  step {k}: max |F| = {r:.3e}")
        print(f"max |u - exact| = {err:.2e} (discretization error, O(h^2))")
    return {"u": u, "steps": len(history) - 1, "residual": history[-1], "history": history,
            "ncolors": J.ncolors, "error": err}


if __name__ == "__main__":
    main()
