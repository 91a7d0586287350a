"""NumPy functions on the pattern tracer (its __array_function__ table).

Four families of rules.  Shape functions (reshape, flip, roll, pad, take...)
and joins (concatenate, stack, where...) are row gathers: the function is
applied to 1-based row numbers, so whatever it does to positions it does to
patterns, and 0 marks a constant it inserted.  Reductions (sum, prod, max...)
are segment unions, branch-local for max/min (only the elements equal to the
result).  Products (matmul, dot, einsum with constant operands) take the
constants' nonzero structure.  Functions that give integers or booleans
(argmax, nonzero, isclose...) are evaluated on the values.  A function not
listed here raises TypeError (see _tracer._unsupported).
"""
import numpy as np

from . import _sets
from ._tracer import (
    _I64,
    HANDLERS,
    _binary,
    _ctx_of,
    _lift,
    _PatternArray,
    _stack_families,
    _unary,
    _union,
    _unsupported,
    _value,
)


def _register(*funcs):
    def deco(handler):
        for f in funcs:
            HANDLERS[f] = handler
        return handler
    return deco


def _no_traced(fname, args):
    for a in args:
        if isinstance(a, _PatternArray) or (
                isinstance(a, (list, tuple)) and any(isinstance(e, _PatternArray) for e in a)):
            raise _unsupported(f"numpy.{fname} with a traced (x-dependent) argument in "
                               f"this position")


def _from_families(fams, ctx, rowmap, value):
    g, h = fams
    rowmap = np.ascontiguousarray(rowmap, dtype=_I64).ravel()
    return _PatternArray(np.asarray(value, dtype=np.float64), _sets.gather(*g, rowmap),
                         _sets.gather(*h, rowmap) if h is not None else None, ctx)


# ---- shape functions: gathers of one array --------------------------------------------

#: np.pad modes that only move elements (the others compute new values from
#: them: applied to row numbers they would give nonsense rows)
_PAD_MODES = {"constant", "edge", "wrap", "reflect", "symmetric"}


def _no_out(fname, kwargs):
    if kwargs.get("out") is not None:
        raise _unsupported(f"numpy.{fname}(..., out=)")


def _shape_rule(func):
    def handler(a, *args, **kwargs):
        _no_traced(func.__name__, args)
        _no_traced(func.__name__, kwargs.values())
        _no_out(func.__name__, kwargs)
        ctx = _ctx_of(a)
        a = _lift(a, ctx)
        rows = a._rows() + 1
        if func is np.pad:
            mode = args[1] if len(args) > 1 else kwargs.get("mode", "constant")
            if mode not in _PAD_MODES or kwargs.get("reflect_type", "even") != "even":
                raise _unsupported(f"numpy.pad with mode={mode!r} (modes that move "
                                   f"elements: {sorted(_PAD_MODES)}, reflect_type='even')")
            idx_kwargs = dict(kwargs)
            idx_kwargs.pop("constant_values", None)   # pads of constants: row 0
            sel = func(rows, *args, **idx_kwargs)
        else:
            sel = func(rows, *args, **kwargs)
        value = func(a._v, *args, **kwargs)
        if isinstance(sel, (list, tuple)):            # split and friends
            return [_one(a, rows, s, v) for s, v in zip(sel, value)]
        return _one(a, rows, sel, value)
    return handler


def _one(a, rows, sel, value):
    sel = np.asarray(sel)
    view = np.may_share_memory(sel, rows)
    return a._gather(sel - 1, np.asarray(value, dtype=np.float64), a if view else None,
                     contiguous=view and sel.flags.c_contiguous)


for _f in (np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.rollaxis,
           np.flip, np.fliplr, np.flipud, np.roll, np.rot90, np.squeeze, np.expand_dims,
           np.broadcast_to, np.atleast_1d, np.atleast_2d, np.atleast_3d, np.copy,
           np.diagonal, np.tile, np.repeat, np.take, np.take_along_axis, np.triu, np.tril,
           np.pad, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit, np.delete,
           np.resize, np.ascontiguousarray, np.real):
    HANDLERS[_f] = _shape_rule(_f)


@_register(np.sort)
def _sort(a, axis=-1, kind=None, order=None, stable=None):
    a = _lift(a, _ctx_of(a))
    if axis is None:
        a, axis = np.ravel(a), -1
    perm = np.argsort(a._v, axis=axis, kind="stable")
    sel = np.take_along_axis(a._rows(), perm, axis=axis)
    value = np.take_along_axis(a._v, perm, axis=axis)
    lanes_v = np.moveaxis(value, axis, -1)
    if not (lanes_v[..., 1:] == lanes_v[..., :-1]).any():
        return a._gather(sel, value)
    # ties: which tied element lands where is a convention (other sorts differ),
    # so every position of a run of equal values takes the union of the run
    k = lanes_v.shape[-1]
    rows = np.moveaxis(sel, axis, -1).reshape(-1, k)
    vals = lanes_v.reshape(-1, k)
    seg_ptr, seg_rows = [0], []
    for r, v in zip(rows, vals):
        start = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])
        stop = np.r_[start[1:], k]
        for lo, hi in zip(start, stop):
            for _ in range(hi - lo):
                seg_rows.append(r[lo:hi])
                seg_ptr.append(seg_ptr[-1] + hi - lo)
    seg_ptr = np.array(seg_ptr, dtype=_I64)
    seg_rows = np.concatenate(seg_rows).astype(_I64)
    g = _sets.segment_union(*a._g, seg_ptr, seg_rows)
    h = _sets.segment_union(*a._h, seg_ptr, seg_rows) if a._h is not None else None
    # segments ran in lane order; back to the C order of the result
    order = np.moveaxis(np.arange(value.size).reshape(value.shape), axis, -1).ravel()
    inv = np.empty_like(order)
    inv[order] = np.arange(value.size)
    g = _sets.gather(*g, inv.astype(_I64))
    h = _sets.gather(*h, inv.astype(_I64)) if h is not None else None
    return _PatternArray(np.asarray(value, dtype=np.float64), g, h, a._ctx)


# ---- joins: gathers of several arrays -------------------------------------------------

def _join_rule(func):
    def handler(seq, *args, **kwargs):
        _no_traced(func.__name__, args)
        _no_out(func.__name__, kwargs)
        seq = list(seq)
        ctx = _ctx_of(*seq)
        arrs = [_lift(s, ctx) for s in seq]
        if func is np.concatenate and not kwargs and (args in ((), (0,)) and
                                                      all(x.ndim for x in arrs)):
            # along the first axis: the rows in stacking order, no row numbers
            value = func([x._v for x in arrs])
            return _PatternArray(np.asarray(value, dtype=np.float64),
                                 *_stack_families(arrs), ctx)
        rows, off = [], 1
        for x in arrs:
            rows.append(x._rows() + off)
            off += x.size
        sel = np.asarray(func(rows, *args, **kwargs))
        value = func([x._v for x in arrs], *args, **kwargs)
        fams = _stack_families(arrs)
        if sel.size == off - 1 and (sel.ravel() == np.arange(1, off)).all():
            # rows in stacking order (a concatenation along the first axis)
            return _PatternArray(np.asarray(value, dtype=np.float64), *fams, ctx)
        return _from_families(fams, ctx, sel - 1, value)
    return handler


for _f in (np.concatenate, np.stack, np.hstack, np.vstack, np.dstack, np.column_stack):
    HANDLERS[_f] = _join_rule(_f)


@_register(np.append)
def _append(arr, values, axis=None):
    return HANDLERS[np.concatenate]([np.ravel(arr) if axis is None else arr,
                                     np.ravel(values) if axis is None else values],
                                    axis=0 if axis is None else axis)


@_register(np.where)
def _where(condition, *xy):
    cond = _value(condition)           # a traced condition: only its value matters
    if not xy:
        return np.nonzero(cond)
    if len(xy) != 2:
        raise TypeError("np.where takes 1 or 3 arguments")
    x, y = xy
    ctx = _ctx_of(condition, x, y)
    if not isinstance(x, _PatternArray) and not isinstance(y, _PatternArray):
        return np.where(cond, x, y)     # both branches constant: so is the result
    a, b = _lift(x, ctx), _lift(y, ctx)
    value = np.where(cond, a._v, b._v)
    shape = value.shape
    ra = np.broadcast_to(a._rows(), shape)
    rb = np.broadcast_to(b._rows() + a.size, shape)
    sel = np.where(cond, ra, rb)
    return _from_families(_stack_families([a, b]), ctx, sel, value)


@_register(np.select)
def _select(condlist, choicelist, default=0):
    out = default
    for cond, choice in zip(reversed(list(condlist)), reversed(list(choicelist))):
        out = _where(cond, choice, out)
    return out


@_register(np.clip)
def _clip(a, a_min=None, a_max=None, out=None, **kwargs):
    if kwargs or out is not None:
        raise _unsupported(f"numpy.clip with {sorted(kwargs) or ['out']}")
    r = a
    if a_min is not None:
        r = _binary("maximum", r, a_min)
    if a_max is not None:
        r = _binary("minimum", r, a_max)
    return r


# ---- reductions: segment unions -------------------------------------------------------

def _norm_axis(axis, ndim):
    return tuple(np.lib.array_utils.normalize_axis_tuple(axis, ndim))


def _lanes(v, axis):
    """v as (M, K) lanes along axis (axis None: one lane) and the result's shape."""
    if axis is None:
        return v.reshape(1, -1), ()
    axes = _norm_axis(axis, v.ndim)
    keep = [d for d in range(v.ndim) if d not in axes]
    k = int(np.prod([v.shape[d] for d in axes], dtype=np.int64))
    return np.transpose(v, keep + list(axes)).reshape(-1, k), tuple(v.shape[d] for d in keep)


def _segment(a, lanes, mask=None):
    """Gradient and pair families of the lane unions (mask: lane entries kept)."""
    m, k = lanes.shape
    seg_rows = np.where(mask, lanes, -1) if mask is not None else lanes
    seg_rows = np.ascontiguousarray(seg_rows, dtype=_I64).ravel()
    seg_ptr = np.arange(0, m * k + 1, max(k, 1), dtype=_I64) if k else np.zeros(m + 1, _I64)
    g = _sets.segment_union(*a._g, seg_ptr, seg_rows)
    h = _sets.segment_union(*a._h, seg_ptr, seg_rows) if a._h is not None else None
    return g, h


def _with_pairs(g, h, ctx):
    """h plus the products of g with itself (a nonlinear reduction)."""
    if h is None:
        return h
    p, i = g
    return _union([(h, None), (_sets.pairs(p, i, None, p, i, None, ctx.n), None)], len(p) - 1)


def _reduction(func, nonlinear=False, select=False):
    def handler(a, axis=None, dtype=None, out=None, keepdims=False, **kwargs):
        extra = {k: v for k, v in kwargs.items() if v is not np._NoValue}
        if out is not None or extra.keys() - {"ddof"} or (
                dtype is not None and np.dtype(dtype).kind != "f"):
            raise _unsupported(f"numpy.{func.__name__} with "
                               f"{sorted(extra) or ['out/dtype']}")
        ctx = _ctx_of(a)
        a = _lift(a, ctx)
        value = func(a._v, axis=axis, keepdims=keepdims, **extra)
        lanes = _lanes(a._rows(), axis)[0]
        mask = None
        if select:
            # branch-local: only the elements equal to the result (all on nan)
            res = np.broadcast_to(func(a._v, axis=axis, keepdims=True), a.shape)
            vals, resv = _lanes(a._v, axis)[0], _lanes(res, axis)[0]
            mask = (vals == resv) | np.isnan(resv)
        g, h = _segment(a, lanes, mask)
        if nonlinear:
            h = _with_pairs(g, h, ctx)
        return _PatternArray(np.asarray(value, dtype=np.float64), g, h, ctx)
    return handler


for _f in (np.sum, np.mean, np.nansum, np.nanmean):
    HANDLERS[_f] = _reduction(_f)
for _f in (np.prod, np.nanprod, np.std, np.var, np.nanstd, np.nanvar):
    HANDLERS[_f] = _reduction(_f, nonlinear=True)
for _f in (np.max, np.amax, np.nanmax, np.min, np.amin, np.nanmin):
    HANDLERS[_f] = _reduction(_f, select=True)


@_register(np.linalg.norm)
def _norm(x, ord=None, axis=None, keepdims=False):
    vector = np.ndim(_value(x)) == 1 or isinstance(axis, int)
    if ord in (None, "fro") or (ord == 2 and vector):
        return _unary("sqrt", HANDLERS[np.sum](_binary("multiply", x, x), axis=axis,
                                               keepdims=keepdims))
    if vector and ord in (1, np.inf, -np.inf):
        fn = {1: np.sum, np.inf: np.max, -np.inf: np.min}[ord]
        return HANDLERS[fn](_unary("absolute", x), axis=axis, keepdims=keepdims)
    raise _unsupported(f"numpy.linalg.norm with ord={ord!r}")


@_register(np.average)
def _average(a, axis=None, weights=None, returned=False, keepdims=False):
    if weights is not None or returned:
        raise _unsupported("numpy.average with weights= or returned=")
    return HANDLERS[np.mean](a, axis=axis, keepdims=keepdims)


@_register(np.ptp)
def _ptp(a, axis=None, keepdims=False):
    return _binary("subtract", HANDLERS[np.max](a, axis=axis, keepdims=keepdims),
                   HANDLERS[np.min](a, axis=axis, keepdims=keepdims))


@_register(np.trace)
def _trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if out is not None:
        raise _unsupported("numpy.trace with out=")
    return HANDLERS[np.sum](np.diagonal(a, offset, axis1, axis2), axis=-1)


def _scan(func, nonlinear):
    def handler(a, axis=None, dtype=None, out=None):
        if out is not None:
            raise _unsupported(f"numpy.{func.__name__} with out=")
        ctx = _ctx_of(a)
        a = _lift(a, ctx)
        if axis is None:
            a, axis = np.ravel(a), 0
        value = func(a._v, axis=axis)
        axis = _norm_axis(axis, a.ndim)[0]
        lanes = np.moveaxis(a._rows(), axis, -1)
        k = lanes.shape[-1]
        tri = np.tril(np.ones((k, k), dtype=bool))            # prefix j takes 0..j
        m = lanes.reshape(-1, k)
        seg_rows = np.ascontiguousarray(
            np.broadcast_to(m[:, None, :], (m.shape[0], k, k))[:, tri], dtype=_I64).ravel()
        counts = np.tile(np.arange(1, k + 1, dtype=_I64), m.shape[0])
        seg_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(_I64)
        g = _sets.segment_union(*a._g, seg_ptr, seg_rows)
        h = _sets.segment_union(*a._h, seg_ptr, seg_rows) if a._h is not None else None
        if nonlinear:
            h = _with_pairs(g, h, ctx)
        # the segments run in lane order; back to C order of the result
        order = np.moveaxis(np.arange(a.size).reshape(a.shape), axis, -1).ravel()
        inv = np.empty_like(order)
        inv[order] = np.arange(a.size)
        gm = _sets.gather(*g, inv.astype(_I64))
        hm = _sets.gather(*h, inv.astype(_I64)) if h is not None else None
        return _PatternArray(np.asarray(value, dtype=np.float64), gm, hm, ctx)
    return handler


HANDLERS[np.cumsum] = _scan(np.cumsum, False)
HANDLERS[np.cumprod] = _scan(np.cumprod, True)


@_register(np.diff)
def _diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    ctx = _ctx_of(a, *(v for v in (prepend, append) if v is not np._NoValue))
    a = _lift(a, ctx)
    axis = _norm_axis(axis, a.ndim)[0]
    parts = []
    for extra, first in ((prepend, True), (append, False)):
        if extra is not np._NoValue:
            e = _lift(extra, ctx)
            if e.ndim == 0:
                shape = list(a.shape)
                shape[axis] = 1
                e = np.broadcast_to(e, tuple(shape))
            parts.append((first, e))
    if parts:
        seq = [e for f, e in parts if f] + [a] + [e for f, e in parts if not f]
        a = np.concatenate(seq, axis=axis)
    for _ in range(n):
        hi = [slice(None)] * a.ndim
        lo = [slice(None)] * a.ndim
        hi[axis], lo[axis] = slice(1, None), slice(None, -1)
        a = _binary("subtract", a[tuple(hi)], a[tuple(lo)])
    return a


# ---- products -------------------------------------------------------------------------

def _const_matmul(c, t):
    """c @ t for a constant 2-D c and a traced 1-D or 2-D t: the nonzeros of c."""
    ctx = t._ctx
    value = c @ t._v
    nz_i, nz_j = np.nonzero(c)                            # row-major: nz_i sorted
    k = 1 if t.ndim == 1 else t.shape[1]
    if k == 0 or value.size == 0:
        return _lift(np.asarray(value, dtype=np.float64), ctx)      # no elements
    cptr = np.zeros(c.shape[0] + 1, dtype=_I64)
    np.cumsum(np.bincount(nz_i, minlength=c.shape[0]), out=cptr[1:])
    cind = nz_j.astype(_I64)
    g = _sets.product_union(*t._g, cptr, cind, k)
    h = _sets.product_union(*t._h, cptr, cind, k) if t._h is not None else None
    return _PatternArray(np.asarray(value, dtype=np.float64), g, h, ctx)


@_register(np.matmul)
def _matmul(a, b, **kwargs):
    if kwargs:
        raise _unsupported(f"numpy.matmul with {sorted(kwargs)}")
    ctx = _ctx_of(a, b)
    ta, tb = isinstance(a, _PatternArray), isinstance(b, _PatternArray)
    if ctx is None:
        return np.matmul(a, b)
    if not ta:
        c = np.asarray(a, dtype=np.float64)
        if c.ndim == 2 and b.ndim in (1, 2):
            return _const_matmul(c, b)
        if c.ndim == 1 and b.ndim == 2:             # v @ B = (B.T @ v)
            return _const_matmul(c[None, :], b)[0]
    if not tb:
        c = np.asarray(b, dtype=np.float64)
        if a.ndim == 2 and c.ndim == 2:             # A @ C = (C.T @ A.T).T
            return np.transpose(_const_matmul(c.T, np.transpose(a)))
        if a.ndim in (1, 2) and c.ndim == 1:        # a @ v = sum(a * v, -1)
            return _const_matmul(c[None, :], np.transpose(a) if a.ndim == 2 else a)[0]
        if a.ndim == 1 and c.ndim == 2:
            return _const_matmul(c.T, a)
    # both traced (or more dimensions): the sum of broadcast products
    a, b = _lift(a, ctx), _lift(b, ctx)
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError("matmul: operands must not be scalars")
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    prod = _binary("multiply", np.expand_dims(a2, -1), np.expand_dims(b2, -3))
    r = HANDLERS[np.sum](prod, axis=-2)
    if a.ndim == 1:
        r = np.squeeze(r, -2)
    if b.ndim == 1:
        r = np.squeeze(r, -1)
    return r


@_register(np.dot)
def _dot(a, b, out=None):
    if out is not None:
        raise _unsupported("numpy.dot with out=")
    if np.ndim(_value(a)) == 0 or np.ndim(_value(b)) == 0:
        return _binary("multiply", a, b)
    if np.ndim(_value(a)) > 2 or np.ndim(_value(b)) > 2:
        raise _unsupported("numpy.dot of arrays with more than 2 dimensions (use matmul)")
    return _matmul(a, b)


@_register(np.inner)
def _inner(a, b):
    if np.ndim(_value(a)) > 1 or np.ndim(_value(b)) > 1:
        raise _unsupported("numpy.inner of arrays with more than 1 dimension")
    return _dot(a, b)


@_register(np.vdot)
def _vdot(a, b):
    return _dot(np.ravel(a), np.ravel(b))


@_register(np.outer)
def _outer(a, b, out=None):
    if out is not None:
        raise _unsupported("numpy.outer with out=")
    return _binary("multiply", np.ravel(a)[:, None], np.ravel(b)[None, :])


@_register(np.einsum)
def _einsum(subscripts, *operands, **kwargs):
    """Explicit or implicit subscripts without '...' or repeated letters in
    one operand: the broadcast product of all operands, summed over the
    letters not in the output.  The zeros of constant operands drop the
    terms they multiply (their structure, as in A @ x)."""
    if kwargs.keys() - {"optimize"} or not isinstance(subscripts, str):
        raise _unsupported("numpy.einsum with operands as arguments or with "
                           f"{sorted(kwargs.keys() - {'optimize'})}")
    spec = subscripts.replace(" ", "")
    if "..." in spec:
        raise _unsupported("numpy.einsum with '...'")
    ins, _, out = spec.partition("->")
    ins = ins.split(",")
    if len(ins) != len(operands) or any(len(set(t)) != len(t) for t in ins):
        raise _unsupported(f"numpy.einsum('{subscripts}') (repeated letters in one operand, "
                           f"or operand count)")
    letters = sorted(set("".join(ins)))
    if "->" not in spec:
        out = "".join(c for c in letters if "".join(ins).count(c) == 1)
    ctx = _ctx_of(*operands)
    prod, nonzero = None, True
    for term, op in zip(ins, operands):
        a = _lift(op, ctx) if isinstance(op, _PatternArray) else np.asarray(op, dtype=float)
        if np.ndim(_value(a)) != len(term):
            raise ValueError(f"einsum: operand for '{term}' has {np.ndim(_value(a))} dimensions")
        order = sorted(range(len(term)), key=lambda d: letters.index(term[d]))
        a = np.transpose(a, order)
        have = [term[d] for d in order]
        shape = [np.shape(_value(a))[have.index(c)] if c in have else 1 for c in letters]
        a = np.reshape(a, shape)
        if not isinstance(a, _PatternArray):
            nonzero = nonzero & (a != 0)
        prod = a if prod is None else _binary("multiply", prod, a)
    if isinstance(prod, _PatternArray) and not np.all(nonzero):
        keep = np.broadcast_to(nonzero, prod.shape).ravel()
        prod = prod._gather(np.where(keep, np.arange(prod.size), -1), prod._v)
    summed = tuple(d for d, c in enumerate(letters) if c not in out)
    r = HANDLERS[np.sum](prod, axis=summed) if summed else prod
    kept = [c for c in letters if c in out]
    return np.transpose(r, [kept.index(c) for c in out]) if out else r


@_register(np.cross)
def _cross(a, b, **kwargs):
    raise _unsupported("numpy.cross")


# ---- results on the values ------------------------------------------------------------

def _values_rule(func):
    def handler(*args, **kwargs):
        _ctx_of(*args, *kwargs.values())          # a stale view raises here too
        return func(*[_value(a) for a in args],
                    **{k: _value(v) for k, v in kwargs.items()})
    return handler


for _f in (np.argmax, np.argmin, np.argsort, np.nonzero, np.count_nonzero, np.shape,
           np.ndim, np.size, np.isclose, np.allclose, np.array_equal, np.any, np.all,
           np.searchsorted, np.round, np.around, np.fix, np.argwhere, np.flatnonzero,
           np.result_type, np.iscomplexobj, np.isrealobj, np.may_share_memory,
           np.shares_memory):
    HANDLERS[_f] = _values_rule(_f)


def _like_rule(func):
    def handler(a, *args, **kwargs):
        _no_traced(func.__name__, args)
        _no_traced(func.__name__, kwargs.values())
        ctx = _ctx_of(a)
        return _lift(func(_value(a), *args, **kwargs), ctx)
    return handler


for _f in (np.zeros_like, np.ones_like, np.full_like):
    HANDLERS[_f] = _like_rule(_f)
HANDLERS[np.empty_like] = _like_rule(np.zeros_like)    # the values must be defined
