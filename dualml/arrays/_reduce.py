"""Reductions: sum, mean, cumsum, prod, and max/min with their tie rule.

Design
------
Sums are linear (the same reduction of every tangent row).  prod uses the
products of the other factors (exact with zeros).  max/min select the
first element attaining the extremum, value and tangents alike (the tie
rule is documented and tested).
"""
import numpy as np

from ._core import _new


def _sum(x, axis=None, keepdims=False):
    if type(x) is _nd:
        return _arr(np.sum(x, axis=axis, keepdims=keepdims))
    v, d = x._v, x._d
    if axis is None and not keepdims and type(v) is _nd and type(d) is _nd:
        # the common full sum: flat views, one reduction each
        r = _new(_add_reduce(v.reshape(-1), 0, None, np.empty(())),
                 _add_reduce(d.reshape(d.shape[0], v.size), axis=1), x._tag, x._o2)
        return _domain_nans(r, lambda: _add_reduce(_nan_marks(x).reshape(-1)))
    ax = _neg_axes(axis, len(x.shape))
    f = lambda c: np.add.reduce(c, axis=ax, keepdims=keepdims)       # noqa: E731
    return _lin(x, f, f, arith=True)


def _masked_sum(x, axis, keepdims, where=True, initial=None):
    """np.sum(x, axis, keepdims=, where=, initial=): linear, so NumPy's
    masked reduction itself, of the values (from initial) and of each
    tangent row (from zero) -- NumPy's bits, masked entries skipped."""
    ax = _neg_axes(axis, len(x.shape))
    kw = {} if initial is None else {"initial": float(initial)}
    return _lin(x, lambda c: np.add.reduce(c, axis=ax, keepdims=keepdims, where=where, **kw),
                lambda c: np.add.reduce(c, axis=ax, keepdims=keepdims, where=where), arith=True)


def _mean(x, axis=None, keepdims=False):
    if type(x) is _nd:
        return _arr(np.mean(x, axis=axis, keepdims=keepdims))
    ax = _neg_axes(axis, len(x.shape))
    f = lambda c: np.mean(c, axis=ax, keepdims=keepdims)       # noqa: E731
    return _lin(x, f, f, arith=True)


def _cumsum(x, axis=None):
    if axis is None:
        x = _reshape(x, (-1,))
        axis = 0
    if type(x) is _nd:
        return _arr(np.cumsum(x, axis=axis))
    ax = _norm_axis(axis, len(x.shape)) - len(x.shape)
    f = lambda c: np.cumsum(c, axis=ax)       # noqa: E731
    return _lin(x, f, f, arith=True)


def _select_reduce(x, axis, keepdims, argf, fname):
    """max/min: value and derivatives of the selected element (first of ties)."""
    if type(x) is _nd:
        return _arr((np.max if fname == "max" else np.min)(x, axis=axis, keepdims=keepdims))
    if axis is None:
        if x.size == 0:
            raise ValueError(f"zero-size array to reduction operation {fname} which has "
                             f"no identity")
        flat = _reshape(x, (-1,))
        r = _getitem(flat, (int(argf(_inner(flat))),))
        return _reshape(r, (1,) * len(x.shape)) if keepdims else r
    if isinstance(axis, tuple):
        if len(axis) != 1:
            nd = len(x.shape)
            ax = sorted(_norm_axis(a, nd) for a in axis)
            rest = [a for a in range(nd) if a not in ax]
            y = _transpose(x, tuple(rest) + tuple(ax))
            y = _reshape(y, tuple(x.shape[a] for a in rest) + (-1,))
            r = _select_reduce(y, -1, False, argf, fname)
            if keepdims:
                r = _reshape(r, tuple(1 if a in ax else x.shape[a] for a in range(nd)))
            return r
        axis = axis[0]
    nd = len(x.shape)
    ax = _norm_axis(axis, nd) - nd
    idx = np.expand_dims(argf(_inner(x), axis=ax), ax)
    f = lambda c: np.take_along_axis(c, _bc_idx(idx, c.shape, ax), axis=ax)      # noqa: E731
    r = _lin(x, f, f)
    return r if keepdims else _squeeze(r, ax)


def _bc_idx(idx, shape, ax):
    s = list(shape)
    s[ax] = 1
    return np.broadcast_to(idx, tuple(s)) if idx.shape != tuple(s) else idx


def _prod(x, axis=None, keepdims=False):
    if type(x) is _nd:
        return _arr(np.prod(x, axis=axis, keepdims=keepdims))
    nd = len(x.shape)
    if axis is None:
        r = _prod(_reshape(x, (-1,)), 0)
        return _reshape(r, (1,) * nd) if keepdims else r
    ax = _neg_axes(axis, nd)
    if len(ax) != 1:
        y = x
        for a in sorted(ax):
            y = _prod(y, a, True)
        return y if keepdims else _squeeze(y, ax)
    ax = ax[0]
    n = x.shape[ax]
    if n == 0:
        shape = list(x.shape)
        shape[ax] = 1
        r = np.ones(tuple(shape))
        return r if keepdims else np.squeeze(r, ax)
    # a product of the slices, left to right (NumPy's order for small n; exact
    # derivatives even with zeros, unlike prod/x_i)
    r = _getitem(x, (Ellipsis, slice(0, 1)) + (_ALL,) * (-ax - 1))
    for i in range(1, n):
        r = _ew_binary("multiply", r, _getitem(x, (Ellipsis, slice(i, i + 1)) + (_ALL,) * (-ax - 1)))
    return r if keepdims else _squeeze(r, ax)


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._elementwise import _ew_binary  # noqa: E402
from ._operands import _ALL, _add_reduce, _inner, _nd  # noqa: E402
from ._shape import (_arr, _domain_nans, _getitem, _lin, _nan_marks, _neg_axes, _norm_axis,
                     _reshape, _squeeze, _transpose)
