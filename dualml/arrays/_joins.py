"""Selection and joining: where, concatenate, stack, clip.

Design
------
Operands of different levels are lifted to the largest tag among them
(``_common``: constants get zero tangent rows) and then joined component
by component.  The common case -- first-order (or hessian-row) operands of
one tag, and float constants -- skips the lifting: one NumPy call per
component, a constant's rows being the scalar 0.0 that np.where broadcasts
(the same bits as its lifted zero rows, without making them).
"""
import math

import numpy as np

from ._core import DualArray, _new


def _lift(x, tag, rows, o2):
    """x (a constant at level `tag`) as a DualArray of `tag` with zero tangent rows."""
    return _new(x, np.zeros((rows,) + x.shape), tag, o2)


def _common(items, fname):
    """Lift operands to the largest tag among them (same rows), or None if all plain."""
    tag = max(_tag(o) for o in items)
    if tag == 0:
        return None, items
    rows = o2 = None
    for o in items:
        if _tag(o) == tag:
            r = o._d.shape[0]
            if rows is None:
                rows, o2 = r, o._o2
            elif r != rows:
                raise ValueError(f"{fname}: DualArrays of one tag with different numbers "
                                 f"of directions ({rows} and {r})")
    return tag, [o if _tag(o) == tag else _lift(o, tag, rows, o2) for o in items]


def _flat_rows(o, ns):
    # o's tangent rows with unit axes inserted after the direction axis up
    # to ns value axes (a view), so NumPy broadcasts them as the values
    d = o._d
    nd = d.ndim - 1
    return d if nd == ns else d.reshape(d.shape[:1] + (1,) * (ns - nd) + d.shape[1:])


def _where_flat(cond, a, b):
    """np.where for first-order (or hessian-row) DualArrays of one tag and
    constant ndarrays; None where the general path is needed."""
    ta, tb = type(a) is DualArray, type(b) is DualArray
    if ta:
        x = a
        av = a._v
        if type(av) is not _nd or type(a._d) is not _nd:
            return None
    elif type(a) is _nd:
        av = a
    elif type(a) is float:                  # (np.where(c, x, 0.0): NumPy's float64)
        av = np.array(a)
    else:
        return None
    if tb:
        bv = b._v
        if type(bv) is not _nd or type(b._d) is not _nd:
            return None
        if not ta:
            x = b
        elif b._tag != a._tag or b._d.shape[0] != a._d.shape[0] or b._o2 != a._o2:
            return None
    elif not ta:
        return None
    elif type(b) is _nd:
        bv = b
    elif type(b) is float:
        bv = np.array(b)
    else:
        return None
    s = cond.shape
    if av.shape != s or bv.shape != s:
        s = _bshape(_bshape(s, av.shape), bv.shape)
    rows = x._d.shape[0]
    # the tangent rows, before they exist
    if rows * math.prod(s) >= ROWS_CHECKED:
        check_rows(rows, math.prod(s))
    n = len(s)
    return _new(np.where(cond, av, bv),
                np.where(cond, _flat_rows(a, n) if ta else 0.0, _flat_rows(b, n) if tb else 0.0),
                x._tag, x._o2)


def _where(cond, a, b):
    cond = _inner_operand(cond)
    cond = np.asarray(cond, dtype=bool)
    r = _where_flat(cond, a, b)
    if r is not None:
        return r
    if type(a) is float:
        a = np.array(a)
    if type(b) is float:
        b = np.array(b)
    tag, (a, b) = _common([a, b], "where")
    if tag is None:
        return np.where(cond, a, b)
    if a._o2 is not None and (type(a._v) is not _nd or type(b._v) is not _nd):
        raise _NeedGeneric("where")
    s = _bshape(_bshape(cond.shape, a.shape), b.shape)
    # the tangent rows, before they exist
    if a._d.shape[0] * math.prod(s) >= ROWS_CHECKED:
        check_rows(a._d.shape[0], math.prod(s))
    return _new(_where(cond, a._v, b._v), _where(cond, _bct(a._d, s), _bct(b._d, s)),
                tag, a._o2)


def _concatenate(items, axis=0):
    items = [o if type(o) is DualArray else _operand(o, "concatenate") for o in items]
    if axis is None:
        items = [_reshape(o, (-1,)) for o in items]
        axis = 0
    nd = len(items[0].shape)
    for o in items:
        if len(o.shape) != nd:
            raise ValueError(f"concatenate: all inputs must have the same number of "
                             f"dimensions; got shapes {items[0].shape} and {o.shape}")
    ax = _norm_axis(axis, nd) - nd
    return _join(items, lambda cs: np.concatenate(cs, axis=ax))


def _join_flat(items, f):
    # first-order (or hessian-row) DualArrays of one tag and row count: one
    # join per component; None where lifting or an error is needed
    first = items[0]
    if type(first) is not DualArray:
        return None
    tag, rows = first._tag, first._d.shape[0]
    vs, ds = [], []
    for o in items:
        if type(o) is not DualArray or o._tag != tag:
            return None
        v, d = o._v, o._d
        if type(v) is not _nd or type(d) is not _nd or d.shape[0] != rows:
            return None
        vs.append(v)
        ds.append(d)
    v = f(vs)
    if rows * v.size >= ROWS_CHECKED:
        check_rows(rows, v.size)
    return _new(v, f(ds), tag, first._o2)


def _join(items, f):
    r = _join_flat(items, f)
    if r is not None:
        return r
    tag, items = _common(items, "concatenate/stack")
    if tag is None:
        return f(items)
    vs = [o._v for o in items]
    ds = [o._d for o in items]
    v = _joinc(vs, f)
    # the tangent rows, before they exist
    if ds[0].shape[0] * v.size >= ROWS_CHECKED:
        check_rows(ds[0].shape[0], v.size)
    return _new(v, _joinc(ds, f), tag, items[0]._o2)


def _joinc(cs, f):
    if all(type(c) is _nd for c in cs):
        return f(cs)
    return _join(cs, f)


def _stack(items, axis=0):
    items = [_operand(o, "stack") for o in items]
    if not items:
        raise ValueError("need at least one array to stack")
    s = items[0].shape
    for o in items:
        if o.shape != s:
            raise ValueError(f"stack: all input arrays must have the same shape; got "
                             f"{s} and {o.shape}")
    n = len(s) + 1
    ax = _norm_axis(axis, n) - n
    if type(items[0]) is DualArray:
        # each operand with its new unit axis (views, as np.expand_dims), joined
        at = n + ax
        ns = s[:at] + (1,) + s[at:]
        ex = []
        for o in items:
            if type(o) is not DualArray or type(o._v) is not _nd or type(o._d) is not _nd:
                break
            ex.append(_new(o._v.reshape(ns), o._d.reshape(o._d.shape[:1] + ns), o._tag, o._o2))
        else:
            return _join(ex, lambda cs: np.concatenate(cs, axis=ax))
    return _concatenate([_expand_dims(o, ax) for o in items], ax)


def _clip(a, a_min=None, a_max=None):
    a = _operand(a, "clip")
    if a_min is not None:
        a = _ew_binary("maximum", a, _operand(a_min, "clip"))
    if a_max is not None:
        a = _ew_binary("minimum", a, _operand(a_max, "clip"))
    return a


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._budget import ROWS_CHECKED, check_rows  # noqa: E402
from ._elementwise import _ew_binary  # noqa: E402
from ._operands import _NeedGeneric, _bct, _bshape, _inner_operand, _nd, _operand, _tag  # noqa: E402
from ._shape import _expand_dims, _norm_axis, _reshape  # noqa: E402
