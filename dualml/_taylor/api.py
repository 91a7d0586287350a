"""Taylor mode for users: taylor, directional_derivative, and n-th derivatives.

Each call seeds x + t v as a degree-K Taylor polynomial (a Taylor for a
scalar x, a TaylorArray for an array x) under a fresh tag, runs f once, and
reads the coefficients back: one pass costs O(K^2) per operation, where K
nested Dual derivatives cost 2^K.  dualml.derivative(f, x, n=K) sends n >= 3
here (n = 1 and 2 stay on the Dual, bit for bit as before).
"""
import math
import numbers

import numpy as np

from . import _core
from ._array import TaylorArray
from ._core import Taylor

__all__ = ["directional_derivative", "taylor"]


def _order(order, fname, argname):
    if isinstance(order, bool) or not isinstance(order, (numbers.Integral, np.integer)):
        raise TypeError(f"{fname}(): {argname} must be an int, not {type(order).__name__}")
    order = int(order)
    if not 0 <= order <= _core.MAX_ORDER:
        raise ValueError(f"{fname}(): {argname} must be in 0..{_core.MAX_ORDER}, got {order}")
    return order


def _reject_dual(x, fname, argname):
    from ..dual import Dual
    if isinstance(x, (Dual, Taylor, TaylorArray)) or \
            getattr(type(x), "__dualml_function__", None) is not None:
        raise TypeError(f"{fname}(): {argname} is a {type(x).__name__} (Taylor mode inside "
                        f"another differentiation); Taylor mode does not nest with Duals "
                        f"or with itself: pass a float or an ndarray")


def _seed(x, v, K, tag, fname):
    """The Taylor (scalar x) or TaylorArray seeded with x + t v."""
    _reject_dual(x, fname, "x")
    _reject_dual(v, fname, "v")
    xa = np.asarray(x)
    va = np.asarray(v)
    for name, a in (("x", xa), ("v", va)):
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{fname}(): {name} must be real (a float or a float array), "
                            f"not {a.dtype if a.dtype != object else type(x).__name__}")
    if xa.ndim == 0:
        if va.ndim != 0:
            raise ValueError(f"{fname}(): x is a scalar, so the direction v must be one "
                             f"too (got shape {va.shape})")
        c = np.zeros(K + 1)
        c[0] = float(xa)
        if K >= 1:
            c[1] = float(va)
        return _core._make(c, tag)
    try:
        vb = np.broadcast_to(va, xa.shape)
    except ValueError:
        raise ValueError(f"{fname}(): the direction v (shape {va.shape}) does not "
                         f"broadcast to x's shape {xa.shape}") from None
    c = np.zeros((K + 1,) + xa.shape)
    c[0] = xa
    if K >= 1:
        c[1] = vb
    return TaylorArray(c, tag)


def _result(r, K, tag, f):
    """f's result as a coefficient array (K + 1, *shape)."""
    if isinstance(r, Taylor):
        if _core._tag(r) != tag:
            raise ValueError("f returned a Taylor number of another dualml.taylor call "
                             "(was it stored and reused outside its function?)")
        return r.coefficients
    if isinstance(r, TaylorArray):
        if r.tag != tag:
            raise ValueError("f returned a TaylorArray of another dualml.taylor call")
        return np.array(r.c)
    from ._array import _coeffs
    try:
        return np.array(_coeffs(r, K, tag, "the result of f"))
    except TypeError:
        raise TypeError(f"f returned {type(r).__name__}; Taylor mode needs f to return a "
                        f"real number, a Taylor, a TaylorArray, or a sequence/array of "
                        f"them") from None


def taylor(f, x, v=1.0, order=2, args=()):
    """The Taylor coefficients of t -> f(x + t v) at t = 0, to degree `order`,
    in one pass (Taylor mode; exact to rounding).

    Parameters
    ----------
    f : callable
        ``f(x, *args)``, written with arithmetic, dualml's functions or
        NumPy's ufuncs of the rule table (and, for array x, the linear NumPy
        functions: sum, mean, reshape, indexing, concatenate, @, ...).
    x : float or array_like
        The point.  A scalar x is passed to f as a ``Taylor``, an array as a
        ``TaylorArray`` of x's shape.
    v : float or array_like, optional
        The direction, broadcast to x's shape (1.0 by default).
    order : int, optional
        The degree K, 0 <= K <= 128.
    args : tuple, optional
        Extra arguments passed to f (not differentiated).

    Returns
    -------
    ndarray, shape ``(order + 1, *f(x).shape)``
        ``out[k]`` = (d/dt)^k f(x + t v) at t = 0, divided by k!.

    Raises
    ------
    TypeError
        If x or v is a Dual/Taylor (no nesting with other differentiations),
        f returns something other than real numbers or Taylor objects, or f
        calls a NumPy function Taylor mode does not implement (named).
    ValueError
        If order is out of range or v does not broadcast to x.

    See Also
    --------
    directional_derivative : k! times one coefficient.
    dualml.derivative : ``n=K`` for the K-th derivative of a scalar function.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> dualml.taylor(dualml.exp, 0.0, order=3).tolist()
    [1.0, 1.0, 0.5, 0.16666666666666666]
    >>> c = dualml.taylor(lambda x: np.sum(x ** 2), np.array([1.0, 2.0]), v=[1.0, 0.0])
    >>> c.tolist()                   # (1 + t)^2 + 4
    [5.0, 2.0, 1.0]
    """
    K = _order(order, "taylor", "order")
    if not callable(f):
        raise TypeError(f"taylor(): f must be callable, not {type(f).__name__}")
    if type(args) is not tuple:
        args = tuple(args) if isinstance(args, list) else (args,)
    tag = _core._new_tag()
    seed = _seed(x, v, K, tag, "taylor")
    return _result(f(seed, *args), K, tag, f)


def directional_derivative(f, x, v, n=1, args=()):
    """The n-th directional derivative (d/dt)^n f(x + t v) at t = 0, by Taylor
    mode (one pass, exact to rounding).

    Parameters
    ----------
    f : callable
        ``f(x, *args)``, as for `taylor`.
    x : float or array_like
        The point.
    v : float or array_like
        The direction, broadcast to x's shape.  For n = 2 this is
        ``v @ H @ v`` with H the Hessian of a scalar f.
    n : int, optional
        The order of the derivative, 0 <= n <= 128.
    args : tuple, optional
        Extra arguments passed to f.

    Returns
    -------
    float or ndarray, shape f(x).shape
        The n-th derivative along v (a float for a scalar f).

    Raises
    ------
    TypeError, ValueError
        As for `taylor`.

    See Also
    --------
    taylor : all the coefficients up to order n.
    dualml.jvp : the first directional derivative of a vector f.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> f = lambda x: x[0] ** 3 * x[1]
    >>> # d³/dt³ of (1 + t)³ (2 + t) at t = 0: 3! (2 + 3) = 30
    >>> dualml.directional_derivative(f, np.array([1.0, 2.0]), [1.0, 1.0], n=3)
    30.0
    """
    n = _order(n, "directional_derivative", "n")
    c = taylor(f, x, v, n, args)[n] * float(math.factorial(n))
    return float(c) if np.ndim(c) == 0 else c


def _read_derivative(r, n, tag):
    """n! times coefficient n of f's result (a scalar-x call, seeded elsewhere)."""
    c = _result(r, n, tag, None)[n] * float(math.factorial(n))
    return float(c) if np.ndim(c) == 0 else c


def _derivative_n(f, x, args, n):
    """dualml.derivative(f, x, args, n) for n >= 3 (the scalar x is checked there)."""
    from ..dual import Dual
    if isinstance(x, Dual):
        raise TypeError("derivative(..., n >= 3) uses Taylor mode, which does not nest "
                        "inside another derivative/gradient (x is a Dual); nest "
                        "derivative calls with n <= 2 instead")
    _order(n, "derivative", "n")          # the error names the function called
    return directional_derivative(f, x, 1.0, n, args)
