"""Selection and joining: where, concatenate, stack, clip.

Design
------
Operands of different levels are lifted to the largest tag among them
(``_common``: constants get zero tangent rows) and then joined component
by component.
"""
import math

import numpy as np

from ._core import _new


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


def _where(cond, a, b):
    cond = _inner_operand(cond)
    cond = np.asarray(cond, dtype=bool)
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
    items = [_operand(o, "concatenate") for o in items]
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


def _join(items, f):
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
