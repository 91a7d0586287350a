"""Derivatives of implicitly defined functions: the root x*(p) of F(x, p) = 0.

Design
------
* ``implicit(F, solver)`` returns a function of p whose value is the
  solver's root (any solver: scipy.optimize.root, brentq, a Newton loop; it
  only ever sees plain floats/ndarrays) and whose derivative follows the
  implicit function theorem: dx/dp = -(dF/dx)^-1 dF/dp, one linear solve
  with dualml Jacobians of F at the root.  The directional derivatives of
  every direction of p go through that one solve.
* It is a ``custom_jvp`` whose rule is written in differentiable terms
  (the Jacobians are taken at a point that may carry outer perturbations,
  the solve works on Duals), so nesting gives second and higher derivatives.
"""
import numpy as np

from .arrays import DualArray
from .calculus import jacobian
from .custom import _level, custom_jvp
from .dual import Dual

__all__ = ["implicit"]

_nd = np.ndarray


def _root_of(r, name):
    """The root from what a solver returns (a number, an array, a SciPy result)."""
    for flag in ("success", "converged"):
        ok = getattr(r, flag, None)
        if ok is not None and not ok:
            msg = getattr(r, "message", getattr(r, "flag", ""))
            raise ValueError(f"{name}: the solver did not converge ({msg}); the implicit "
                             f"function theorem needs a root")
    for attr in ("x", "root"):
        if hasattr(r, attr) and not isinstance(r, (np.ndarray, float, int)):
            r = getattr(r, attr)
            break
    if isinstance(r, np.ndarray):
        if r.dtype.kind not in "biuf":
            raise TypeError(f"{name}: the solver returned an array of dtype {r.dtype}; "
                            f"it must return real numbers")
        return r.astype(np.float64) if r.ndim else float(r)
    if isinstance(r, (list, tuple)):
        return np.asarray(r, dtype=np.float64)
    return float(r)


def _inner_value(a):
    while isinstance(a, Dual):
        a = a.value
    return abs(a)


def _solve(A, B):
    """A^-1 B for A (n, n) and B (n, k) holding floats, Duals or DualArrays."""
    if type(A) is _nd and type(B) is _nd and A.dtype != object and B.dtype != object:
        return np.linalg.solve(A, B)
    if type(A) is DualArray or type(B) is DualArray:
        return np.linalg.solve(A, B)
    # Gaussian elimination with partial pivoting on object arrays (Duals)
    A = np.array(A, dtype=object)
    B = np.array(B, dtype=object)
    n = A.shape[0]
    for c in range(n):
        piv = max(range(c, n), key=lambda r: _inner_value(A[r, c]))
        if _inner_value(A[piv, c]) == 0.0:
            raise np.linalg.LinAlgError("implicit(): dF/dx is singular at the root")
        if piv != c:
            A[[c, piv]] = A[[piv, c]]
            B[[c, piv]] = B[[piv, c]]
        for r in range(c + 1, n):
            m = A[r, c] / A[c, c]
            A[r, c:] = A[r, c:] - m * A[c, c:]
            B[r] = B[r] - m * B[c]
    X = np.empty_like(B)
    for r in range(n - 1, -1, -1):
        s = B[r] - A[r, r + 1:] @ X[r + 1:] if r + 1 < n else B[r]
        X[r] = s / A[r, r]
    return X


def _shape(a):
    return a.shape if type(a) is DualArray else np.shape(a)


def implicit(F, solver, *, method="auto"):
    """The solution x*(p) of ``F(x, p, *args) = 0`` as a differentiable function of p.

    ``solver(p, *args)`` finds the root by any means (``scipy.optimize.root``,
    ``brentq``, a Newton loop) and only ever sees plain floats/ndarrays.  Its
    derivative comes from the implicit function theorem,
    ``dx/dp = -(∂F/∂x)^-1 ∂F/∂p``: one linear solve with dualml Jacobians of
    F at the root, for all directions of p at once.  The rule is itself
    differentiable, so nested calls give second and higher derivatives.

    Parameters
    ----------
    F : callable
        ``F(x, p, *args)`` returning an array of x's shape (a number for a
        scalar x); written with dualml/NumPy operations so that dualml can
        differentiate it in x and in p.
    solver : callable
        ``solver(p, *args)`` returning the root: a number, an array, or a
        SciPy result (its ``.x`` or ``.root``; ``success``/``converged``
        False raises ValueError).
    method : {"auto", "scalar", "array"}, optional
        The backend of the Jacobians of F, as for ``dualml.jacobian``.

    Returns
    -------
    callable
        ``x_star(p, *args)``: the root, a float or an ndarray of x's shape;
        with Duals/DualArrays in p, their derivatives.  The extra args are
        constants (a Dual there raises ValueError).

    Raises
    ------
    ValueError
        If F's output does not have x's shape, or the solver did not converge.
    numpy.linalg.LinAlgError
        If ∂F/∂x is singular at the root.

    See Also
    --------
    custom_jvp, jacobian

    Examples
    --------
    x*(p) solves x³ + p x − 1 = 0; dx/dp = −x / (3x² + p).

    >>> import dualml
    >>> from scipy.optimize import brentq
    >>> F = lambda x, p: x**3 + p * x - 1
    >>> x_star = dualml.implicit(F, lambda p: brentq(F, 0.0, 2.0, args=(p,), xtol=1e-15))
    >>> x = x_star(2.0)
    >>> d = dualml.derivative(x_star, 2.0)
    >>> bool(abs(d - (-x / (3 * x**2 + 2.0))) < 1e-14)
    True
    """
    if not callable(F):
        raise TypeError(f"implicit(): F must be callable, not {type(F).__name__}")
    if not callable(solver):
        raise TypeError(f"implicit(): solver must be callable, not {type(solver).__name__}")
    name = getattr(solver, "__name__", "solver")

    def x_star(p, *args):
        for i, a in enumerate(args):
            if _level(a):
                raise ValueError(f"implicit(): extra argument {i} carries a "
                                 f"{type(a).__name__}; the extra args are constants: "
                                 f"differentiate through p (make it an array)")

        @custom_jvp
        def root(q):
            return _root_of(solver(q, *args), f"implicit({name})")

        @root.defjvp(batched=True)
        def _(primals, tangents):
            (q,), (dq,) = primals, tangents
            x = root(q)
            xs, qs = _shape(x), _shape(q)
            Fx = jacobian(lambda y: F(y, q, *args), x, method=method)
            Fq = jacobian(lambda r: F(x, r, *args), q, method=method)
            if _shape(Fx) != xs + xs:
                raise ValueError(f"implicit(): F(x, p) must return an array of x's shape "
                                 f"{xs}; its Jacobian in x has shape {_shape(Fx)}")
            n = int(np.prod(xs, dtype=np.int64))
            m = int(np.prod(qs, dtype=np.int64))
            k = _shape(dq)[0]
            if not xs and not qs:           # scalar x and p: a division
                return x, -(Fq * dq) / Fx
            A = np.reshape(Fx, (n, n)) if type(Fx) is not DualArray else Fx.reshape(n, n)
            Bq = np.reshape(Fq, (n, m)) if type(Fq) is not DualArray else Fq.reshape(n, m)
            D = np.reshape(dq, (k, m)) if type(dq) is not DualArray else dq.reshape(k, m)
            rhs = Bq @ D.T                  # (n, k)
            dx = -_solve(A, rhs)            # (n, k)
            dx = dx.T
            return x, (dx.reshape((k,) + xs))
        return root(p)

    x_star.__name__ = f"implicit({name})"
    x_star.__doc__ = f"The root x*(p) of F(x, p) = 0 found by {name}, differentiable in p."
    return x_star
