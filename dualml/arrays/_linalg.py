"""Linear algebra on DualArrays: inv, solve, det, norm (first order and nested).

Design
------
The derivative rules of matrix functions (d inv = -inv dA inv, d det =
det tr(inv dA), ...) applied to the tangent rows.  Hessian's second-order
rows have no rule here: these raise ``_NeedGeneric`` and hessian falls
back to nested forward mode.
"""
import numbers

import numpy as np

from ._core import DualArray, _new


def _no_o2(*xs):
    for x in xs:
        if type(x) is DualArray and x._o2 is not None:
            raise _NeedGeneric("linalg")


def _inv(a):
    a = _operand(a, "linalg.inv")
    if type(a) is _nd:
        return _arr(np.linalg.inv(a))
    _no_o2(a)
    y = _inv(a._v)
    if a._d.shape[0] * y.size >= ROWS_CHECKED:
        check_rows(a._d.shape[0], y.size)
    # d(A^-1) = -A^-1 dA A^-1
    t = _ew_unary("negative", _operand(_matmul(_matmul(y, a._d), y)))
    return _new(y, t, a._tag, None)


def _solve(a, b):
    a = _operand(a, "linalg.solve")
    b = _operand(b, "linalg.solve")
    ta, tb = _tag(a), _tag(b)
    if ta == 0 and tb == 0:
        return _arr(np.linalg.solve(a, b))
    _no_o2(a, b)
    t = max(ta, tb)
    av = a._v if ta == t else a
    bv = b._v if tb == t else b
    x = _solve(av, bv)
    if (a if ta == t else b)._d.shape[0] * x.size >= ROWS_CHECKED:
        check_rows((a if ta == t else b)._d.shape[0], x.size)
    vec = len(b.shape) == 1
    rhs = b._d if tb == t else None
    if ta == t:
        # dA x with dA's direction axis kept apart from x's own (batch) axes
        if len(x.shape) == 1:
            adx = _matmul(a._d, x)            # (k, n)
        else:
            adx = _mm(a._d, x, 1)             # (k,) + x.shape
        rhs = _ew_unary("negative", _operand(adx)) if rhs is None else _ew_binary(
            "subtract", _operand(rhs), _operand(adx))
    if vec:
        dx = _transpose(_operand(_solve(av, _transpose(_operand(rhs), None))), None)
    else:
        dx = _solve(av, rhs)
    return _new(x, dx, t, None)


def _det(a):
    a = _operand(a, "linalg.det")
    if type(a) is _nd:
        return _arr(np.linalg.det(a))
    _no_o2(a)
    d = _det(a._v)
    # d det = det * tr(A^-1 dA)
    s = _solve(a._v, a._d)
    tr = _sum(_diag_last2(_operand(s)), -1)
    return _new(d, _ew_binary("multiply", _operand(d), _operand(tr)), a._tag, None)


def _diag_last2(x):
    f = lambda c: np.diagonal(c, axis1=-2, axis2=-1)      # noqa: E731
    return _lin(x, f, f)


def _norm(x, ord=None, axis=None, keepdims=False):
    x = _operand(x, "linalg.norm")
    if type(x) is _nd:
        return _arr(np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims))
    nd = len(x.shape)
    if isinstance(axis, numbers.Integral):
        axis = (axis,)
    vector = (axis is not None and len(axis) == 1) or (axis is None and nd == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector) or (ord == "f"):
        if ord == "fro" and vector:
            raise ValueError("Invalid norm order 'fro' for vectors")
        return _ew_unary("sqrt", _operand(_sum(_ew_unary("square", x), axis, keepdims)))
    if not vector:
        raise TypeError(f"numpy.linalg.norm with ord={ord!r} of a matrix is not "
                        f"supported on DualArray (use ord=None/'fro')")
    ax = axis if axis is not None else None
    if ord == np.inf:
        return _select_reduce(_ew_unary("absolute", x), ax, keepdims, np.argmax, "max")
    if ord == -np.inf:
        return _select_reduce(_ew_unary("absolute", x), ax, keepdims, np.argmin, "min")
    if ord == 1:
        return _sum(_ew_unary("absolute", x), ax, keepdims)
    if ord == 0:
        return _sum(_operand(np.asarray(_inner(x) != 0, dtype=_f64)), ax, keepdims)
    p = float(ord)
    s = _sum(_ew_binary("power", _ew_unary("absolute", x), np.array(p)), ax, keepdims)
    return _ew_binary("power", _operand(s), np.array(1.0 / p))


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._budget import ROWS_CHECKED, check_rows  # noqa: E402
from ._elementwise import _ew_binary, _ew_unary  # noqa: E402
from ._operands import _NeedGeneric, _f64, _inner, _nd, _operand, _tag  # noqa: E402
from ._products import _matmul, _mm  # noqa: E402
from ._reduce import _select_reduce, _sum  # noqa: E402
from ._shape import _arr, _lin, _transpose  # noqa: E402
