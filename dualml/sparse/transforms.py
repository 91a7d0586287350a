"""Sparse derivatives as functions for SciPy's solvers.

Design
------
``jac(F, sparse=True)`` and ``hess(f, sparse=True)`` (dualml.calculus) and
``ode_jac`` return callables that prepare a ``SparseJacobian`` /
``SparseHessian`` at the first point they see and reuse it while the
point's shape stays the same (SciPy calls them at every iterate).  SciPy's
least_squares, solve_ivp (BDF, Radau) and minimize(trust-constr) take the
sparse result; MINPACK's root(method="hybr") needs a dense array:
``sparse="dense"`` evaluates compressed and returns ``toarray()``.
"""
import numpy as np

from ..calculus import _check, jacobian
from .compressed import SparseHessian, SparseJacobian

__all__ = ["ode_jac"]


def _sparse_option(sparse, fname):
    if sparse not in (False, True, "dense"):
        raise ValueError(f"{fname}(): sparse must be False, True or 'dense', got {sparse!r}")
    return sparse


class _Lazy:
    """Prepare at the first call, reuse while the point's shape holds."""

    def __init__(self, cls, f, name, method, sparse, sparsity):
        self.cls, self.f, self.method, self.sparsity = cls, f, method, sparsity
        self.dense = sparse == "dense"
        self.prepared = None
        fname = getattr(f, "__name__", type(f).__name__)
        self.__name__ = self.__qualname__ = f"{name}({fname})"
        self.__doc__ = (f"{name}(f, sparse={sparse!r})(x, *args): the {cls.__name__} of "
                        f"f = {fname} at x.")
        self.__wrapped__ = f

    def get(self, x, args):
        P = self.prepared
        if P is None or np.shape(x) != P.shape or P.ndarray != isinstance(x, np.ndarray):
            P = self.prepared = self.cls(self.f, x, args, sparsity=self.sparsity,
                                         method=self.method)
        return P

    def __call__(self, x, *args):
        R = self.get(x, args)(x, *args)
        return R.toarray() if self.dense else R


def _sparse_transform(name, f, method, sparse, sparsity):
    """The callable for ``jac``/``hess`` with ``sparse`` set (dualml.calculus)."""
    _sparse_option(sparse, name)
    cls = SparseJacobian if name == "jac" else SparseHessian
    return _Lazy(cls, f, name, method, sparse, sparsity)


def ode_jac(F, *, sparse=False, sparsity=None, method="auto"):
    """The Jacobian ∂F/∂y of an ODE right-hand side ``F(t, y, *args)`` as the
    ``jac(t, y, *args)`` that ``scipy.integrate.solve_ivp`` calls (BDF,
    Radau, LSODA).

    Parameters
    ----------
    F : callable
        ``F(t, y, *args)`` returning an array of y's size.
    sparse : {False, True, "dense"}, optional
        False: the dense ``dualml.jacobian``.  True: a ``SparseJacobian``
        prepared at the first call (one forward direction per color) and
        returned as a ``scipy.sparse.csr_array`` -- what BDF and Radau
        factorize sparsely.  "dense": compressed evaluation, dense result
        (LSODA takes only dense Jacobians).
    sparsity : scipy.sparse or boolean array_like, shape (n, n), optional
        The pattern of ∂F/∂y; None detects it at the first (t, y), on the
        branches F takes there -- pass a pattern valid for every (t, y) if
        F branches on them.
    method : {"auto", "scalar", "array"}, optional
        As for ``jacobian``.

    Returns
    -------
    callable
        ``jac(t, y, *args)`` -> ndarray (n, n) or ``scipy.sparse.csr_array``.

    Raises
    ------
    TypeError
        If F is not callable.
    ValueError
        If ``sparse`` is not one of the three options.

    See Also
    --------
    jac, SparseJacobian

    Examples
    --------
    >>> import numpy as np, dualml
    >>> from scipy.integrate import solve_ivp
    >>> def heat(t, y):                   # u' = u_xx, zero boundaries
    ...     up, um = np.append(y[1:], 0.0), np.insert(y[:-1], 0, 0.0)
    ...     return (up - 2 * y + um) * 100.0
    >>> P = np.eye(9, dtype=bool) | np.eye(9, k=1, dtype=bool) | np.eye(9, k=-1, dtype=bool)
    >>> sol = solve_ivp(heat, (0.0, 0.1), np.sin(np.pi * np.linspace(0.1, 0.9, 9)),
    ...                 method="BDF", jac=dualml.ode_jac(heat, sparse=True, sparsity=P))
    >>> bool(sol.success)
    True
    """
    _check(F, (), None, "ode_jac")
    _sparse_option(sparse, "ode_jac")

    def G(y, t, *args):
        return F(t, y, *args)
    fname = getattr(F, "__name__", type(F).__name__)
    if not sparse:
        def jac(t, y, *args):
            return jacobian(G, y, (t,) + args, method=method)
    else:
        lazy = _Lazy(SparseJacobian, G, "ode_jac", method, sparse, sparsity)

        def jac(t, y, *args):
            return lazy(y, t, *args)
    jac.__name__ = jac.__qualname__ = f"ode_jac({fname})"
    jac.__wrapped__ = F
    return jac
