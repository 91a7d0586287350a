"""The NumPy protocols of DualArray: __array_ufunc__ beyond the fast path,
__array_function__ and its table of handled functions, dualml's function hook.

Design
------
Every ufunc with a rule maps to it (``_UFUNC_RULE``); a few others are
exactly compositions of rules (``_UFUNC_COMPOSED``: deg2rad, float_power,
logaddexp2, heaviside, vecdot, ...); predicates and comparisons work on the
values and return plain arrays; reductions (with where= and initial=),
accumulations, outer and add.at map to ``_reduce``/``_statistics`` and the
rules.  ``_HANDLED`` maps NumPy functions to their DualArray implementation
(here, or in ``_statistics``, ``_differences``, ``_arrange``); anything else
raises a TypeError naming the function.  ``out=`` must be a DualArray (a
float buffer would drop the derivative).
"""
import numbers

import numpy as np

from .. import _kernels as _K
from .. import _ufuncmap
from ..dual import Dual
from ._core import DualArray, _has_nan, _new


def _array_ufunc_entry(x, ufunc, method, inputs, kwargs):
    if not kwargs and method == "__call__":
        name = _UFUNC_RULE.get(ufunc)
        if name is not None:
            if len(inputs) == 1:
                return _ew_unary(name, x)
            a, b = inputs
            if type(a) is not DualArray:
                a = _operand(a, name)
            if type(b) is not DualArray:
                b = _operand(b, name)
            return _ew_binary(name, a, b)
        if ufunc is _np_matmul:
            a, b = inputs
            return _matmul(_operand(a, "matmul"), _operand(b, "matmul"))
    return _array_ufunc(ufunc, method, inputs, dict(kwargs))


def _special_handler(ufunc):
    from ..special import ufunc_handler
    return ufunc_handler(ufunc)


def _array_function(func, types, args, kwargs):
    h = _HANDLED.get(func)
    if h is None:
        raise TypeError(f"numpy.{_fname(func)} is not supported on DualArray (no "
                        f"derivative rule): write it with the supported functions, or "
                        f"differentiate with method='scalar' (NumPy's object-array loops "
                        f"on Duals); supported: "
                        f"{', '.join(sorted(_fname(f) for f in _HANDLED))}")
    out = kwargs.pop("out", None) if func not in _OWN_OUT else None
    r = h(*args, **kwargs)
    # out= (a keyword, as NumPy's docs write it): one rule for every function
    return r if out is None else _fn_out(r, out, _fname(func))


def _dualml_function(name, args, kwargs):
    if name in _UNARY_P:
        if len(args) > 2 or set(kwargs) - {"alpha"}:
            raise TypeError(f"dualml.{name}() takes (x, alpha)")
        alpha = args[1] if len(args) > 1 else kwargs.get("alpha", _K.PARAM_DEFAULTS[name])
        if isinstance(alpha, (DualArray, Dual)):
            raise TypeError(f"dualml.{name}(): alpha must be a real number (it is "
                            f"a constant, not differentiated)")
        return _ew_unary(name, _operand(args[0], name), float(alpha))
    if kwargs:
        raise TypeError(f"dualml.{name}() got unexpected keyword arguments {sorted(kwargs)}")
    if name in _UNARY_SET:
        if len(args) != 1:
            raise TypeError(f"dualml.{name}() takes one argument ({len(args)} given)")
        return _ew_unary(name, _operand(args[0], name))
    if name in _BINARY_SET:
        if len(args) != 2:
            raise TypeError(f"dualml.{name}() takes two arguments ({len(args)} given)")
        return _ew_binary(name, _operand(args[0], name), _operand(args[1], name))
    raise TypeError(f"dualml.{name}() is not supported on DualArray")


# the one ufunc map of dualml (dualml/_ufuncmap.py, shared with Dual)
_UFUNC_RULE = _ufuncmap.rule_ufuncs(_K.UNARY + _K.BINARY)


_PRED1 = {np.isnan, np.isinf, np.isfinite, np.signbit}
_PRED2 = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal}


def _array_ufunc(ufunc, method, inputs, kwargs):
    out = kwargs.pop("out", None)
    if kwargs.get("dtype", None) not in (None, float, _f64, np.dtype(_f64)):
        raise TypeError(f"numpy.{ufunc.__name__} on DualArray: only dtype float64")
    kwargs.pop("dtype", None)
    if kwargs.pop("casting", "same_kind") not in ("same_kind", "unsafe", "safe"):
        pass
    kwargs.pop("order", None)
    kwargs.pop("subok", None)
    if method == "__call__" and "where" in kwargs:
        where = kwargs.pop("where")
        r = _array_ufunc(ufunc, method, inputs, kwargs)
        if where is True or r is NotImplemented:
            return _store_out(r, out, ufunc) if out is not None else r
        if isinstance(r, tuple):
            raise TypeError(f"numpy.{ufunc.__name__} on DualArray: where= with several "
                            f"outputs is not supported; apply np.where to each output")
        # NumPy leaves the entries where `where` is False as they were in out
        # (uninitialized without out=: here zeros, a constant)
        base = out[0] if isinstance(out, tuple) else out
        if base is None:
            base = np.zeros(np.shape(r))
        res = _where(np.asarray(where, dtype=bool), r, base)
        return _store_out(res, out, ufunc) if out is not None else res
    if method == "__call__":
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__} on DualArray: unsupported "
                            f"arguments {sorted(kwargs)}")
        if ufunc is np.matmul:
            r = _matmul(_operand(inputs[0], "matmul"), _operand(inputs[1], "matmul"))
            return _store_out(r, out, ufunc)
        if ufunc in _PRED1 or ufunc in _PRED2:
            r = ufunc(*[_inner_operand(x) for x in inputs])
            return _store_plain(r, out, ufunc)
        name = _UFUNC_RULE.get(ufunc)
        if name is None and ufunc in _UFUNC_COMPOSED:
            ops = [_operand(x, f"numpy.{ufunc.__name__}") for x in inputs]
            r = _UFUNC_COMPOSED[ufunc](*ops)
            if isinstance(r, tuple):            # modf, divmod, frexp: two outputs
                if out is not None and any(o is not None for o in out):
                    raise TypeError(f"numpy.{ufunc.__name__} on DualArray: out= is not "
                                    f"supported for its two outputs")
                return r
            return _store_out(r, out, ufunc)
        if name is None:
            special = _special_handler(ufunc)     # scipy.special's ufuncs
            if special is not None:
                return _store_out(special(*inputs), out, ufunc)
            raise _ufuncmap.unsupported(ufunc, "DualArray", _K.UNARY + _K.BINARY, True)
        ops = [_operand(x, f"numpy.{ufunc.__name__}") for x in inputs]
        r = _ew_unary(name, ops[0]) if len(ops) == 1 else _ew_binary(name, ops[0], ops[1])
    elif method == "reduce":
        axis = kwargs.pop("axis", 0)
        keepdims = kwargs.pop("keepdims", False)
        initial = kwargs.pop("initial", None)
        where = kwargs.pop("where", True)
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__}.reduce on DualArray: unsupported "
                            f"arguments {sorted(kwargs)}")
        (x,) = inputs
        x = _operand(x, ufunc.__name__)
        kind = _REDUCE_KIND.get(ufunc)
        if kind is None:
            raise TypeError(f"numpy.{ufunc.__name__}.reduce is not supported on "
                            f"DualArray")
        r = _reduce_kw(x, kind, axis, keepdims, initial, where, f"{ufunc.__name__}.reduce")
    elif method == "accumulate":
        axis = kwargs.pop("axis", 0)
        if kwargs:
            raise TypeError(f"numpy.{ufunc.__name__}.accumulate on DualArray: unsupported "
                            f"arguments {sorted(kwargs)}")
        (x,) = inputs
        x = _operand(x, ufunc.__name__)
        if ufunc is np.add:
            r = _cumsum(x, axis)
        elif _UFUNC_RULE.get(ufunc) in _BINARY_SET:
            if type(x) is _nd:
                r = ufunc.accumulate(x, axis=axis)
            else:
                r = _accumulate(x, axis, _UFUNC_RULE[ufunc])
        else:
            raise TypeError(f"numpy.{ufunc.__name__}.accumulate is not supported "
                            f"on DualArray")
    elif method == "at" and ufunc in (np.add, np.subtract):
        return _add_at(ufunc, *inputs)
    elif method == "reduceat" and ufunc in (np.add, np.multiply, np.maximum, np.minimum):
        r = _reduceat(ufunc, *inputs, **kwargs)
    elif method == "outer":
        name = _UFUNC_RULE.get(ufunc)
        if name not in _BINARY_SET or kwargs:
            raise TypeError(f"numpy.{ufunc.__name__}.outer is not supported on DualArray"
                            + (f" with arguments {sorted(kwargs)}" if kwargs else ""))
        a, b = (_operand(o, f"{ufunc.__name__}.outer") for o in inputs)
        a = _reshape(a, a.shape + (1,) * len(b.shape))
        r = _ew_binary(name, a, b)
    else:
        raise TypeError(f"numpy.{ufunc.__name__}.{method} is not supported on DualArray")
    return _store_out(r, out, ufunc)


def _reduceat(ufunc, a, indices, axis=0):
    # NumPy's rule: slice [i_k, i_k+1) reduced, or the single entry i_k where
    # i_k >= i_k+1 (the last slice runs to the end)
    x = _operand(a, f"numpy.{ufunc.__name__}.reduceat")
    nd = len(x.shape)
    ax = _norm_axis(axis, nd)
    n = x.shape[ax]
    idx = [int(i) for i in np.asarray(indices).ravel()]
    pre = (_ALL,) * ax
    parts = []
    for k, i in enumerate(idx):
        j = idx[k + 1] if k + 1 < len(idx) else n
        piece = _getitem(x, pre + (slice(i, j if j > i else i + 1),))
        if ufunc is np.add:
            parts.append(_sum(piece, ax - nd, True))
        elif ufunc is np.multiply:
            parts.append(_prod(piece, ax - nd, True))
        else:
            big = ufunc is np.maximum
            parts.append(_select_reduce(piece, ax - nd, True, np.argmax if big else np.argmin,
                                        "max" if big else "min"))
    r = _concatenate(parts, ax)
    if ufunc is np.add:
        # NumPy's reduceat adds each slice in order: its value
        r = _numpy_value(r, lambda c: np.add.reduceat(c, idx, ax), x)
    return r


def _add_at(ufunc, a, indices, b=None):
    # unbuffered a[indices] += b (repeated indices accumulate): a scatter-sum,
    # linear in b, found on a's flat positions
    if type(a) is not DualArray:
        raise TypeError(f"numpy.{ufunc.__name__}.at: the array written must be a DualArray "
                        f"to hold derivatives")
    if b is None:
        raise TypeError(f"numpy.{ufunc.__name__}.at needs the operand b")
    pos = np.arange(a.size).reshape(a.shape)[indices]
    v = _operand(b, f"{ufunc.__name__}.at")
    if ufunc is np.subtract:
        v = _ew_unary("negative", v)
    if v.shape != pos.shape:
        v = _bc(v, _bshape(v.shape, pos.shape))
        if v.shape != pos.shape:
            raise ValueError(f"numpy.{ufunc.__name__}.at: operand of shape {b.shape} does "
                             f"not broadcast to the indexed shape {pos.shape}")
    flat = pos.reshape(-1)
    nv = len(pos.shape)

    def scatter(c):
        lead = c.shape[:c.ndim - nv]
        out = np.zeros(lead + (a.size,))
        np.add.at(out, (Ellipsis, flat), c.reshape(lead + (-1,)))
        return out.reshape(lead + a.shape)
    _setitem(a, Ellipsis, _ew_binary("add", a, _lin(v, scatter, scatter, arith=True)))


def _skipping_nan(fill, best):
    # fmax/fmin reductions skip NaN entries (maximum/minimum propagate
    # them): the first entry that is not NaN and equals the slice's
    # extreme (np.nanargmax would take a NaN entry where the others are all
    # -inf: its NaN-as--inf fill ties with them); an all-NaN slice selects
    # its first entry, whose value is NaN as NumPy's result is
    def arg(a, axis=None):
        nan = np.isnan(a)
        key = np.where(nan, fill, a)
        ext = best(key, axis=axis, keepdims=True)
        return np.argmax((key == ext) & ~nan, axis=axis)
    return arg


_NANARGMAX = _skipping_nan(-np.inf, np.max)
_NANARGMIN = _skipping_nan(np.inf, np.min)


def _store_out(r, out, ufunc):
    if type(r) is tuple:                        # divmod: one out= per result
        outs = (None,) * len(r) if out is None else out
        return tuple(_store_out(ri, None if oi is None else (oi,), ufunc)
                     for ri, oi in zip(r, outs))
    if out is not None:
        (o,) = out
        if type(o) is not DualArray:
            raise TypeError(f"numpy.{ufunc.__name__}: out= must be a DualArray to hold "
                            f"derivatives, got {type(o).__name__}")
        if o.shape != r.shape:
            raise ValueError(f"out= has shape {o.shape}, result has shape {r.shape}")
        _setitem(o, Ellipsis, r)
        return o
    return r


def _store_plain(r, out, ufunc):
    if out is None:
        return r
    (o,) = out
    if type(o) is DualArray:
        raise TypeError(f"numpy.{ufunc.__name__} returns booleans; out= cannot be a "
                        f"DualArray")
    o[...] = r
    return o


def _fname(f):
    mod = getattr(f, "__module__", "numpy") or "numpy"
    name = f.__name__
    if mod.startswith("numpy.linalg"):
        return "linalg." + name
    if mod.startswith("numpy.fft"):
        return "fft." + name
    return name


def _a(x, fname):
    return _operand(x, f"numpy.{fname}")


def _h_sum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    _no_out(out, "sum", dtype)
    return _reduce_kw(_a(a, "sum"), "add", axis, keepdims, initial, where, "sum")


def _h_mean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    _no_out(out, "mean", dtype)
    x = _a(a, "mean")
    if where is True:
        return _mean(x, axis, keepdims)
    w = np.broadcast_to(np.asarray(_inner_operand(where), dtype=bool), x.shape)
    s = _reduce_kw(x, "add", axis, keepdims, None, w, "mean")
    return _ew_binary("divide", s, np.asarray(np.sum(w, axis=axis, keepdims=keepdims), _f64))


def _h_prod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    _no_out(out, "prod", dtype)
    return _reduce_kw(_a(a, "prod"), "multiply", axis, keepdims, initial, where, "prod")


def _h_max(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    _no_out(out, "max", None)
    return _reduce_kw(_a(a, "max"), "max", axis, keepdims, initial, where, "max")


def _h_min(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    _no_out(out, "min", None)
    return _reduce_kw(_a(a, "min"), "min", axis, keepdims, initial, where, "min")


_REDUCE_KIND = {np.add: "add", np.multiply: "multiply", np.maximum: "max",
                np.minimum: "min", np.fmax: "fmax", np.fmin: "fmin"}
_REDUCE_FILL = {"add": 0.0, "multiply": 1.0, "max": -np.inf, "min": np.inf,
                "fmax": np.nan, "fmin": np.nan}
_REDUCE_RULE = {"add": "add", "multiply": "multiply", "max": "maximum", "min": "minimum",
                "fmax": "fmax", "fmin": "fmin"}


def _reduce_kw(x, kind, axis, keepdims, initial, where, fname):
    """A reduction with NumPy's where= (masked entries do not take part) and
    initial= (one more operand, combined by the same rule)."""
    if isinstance(initial, (DualArray, Dual)):
        raise TypeError(f"numpy.{fname} on DualArray: initial= must be a constant")
    w = True
    if where is not True:
        if initial is None and kind not in ("add", "multiply"):
            raise ValueError(f"reduction operation '{fname}' does not have an identity, "
                             f"so to use a where mask one has to specify 'initial'")
        w = np.broadcast_to(np.asarray(_inner_operand(where), dtype=bool), x.shape)
        if kind != "add":
            # masked entries become the reduction's neutral constant (zero tangent)
            x = _where(w, x, np.full(x.shape, _REDUCE_FILL[kind]))
    if kind == "add" and (w is not True or initial is not None):
        return _masked_sum(x, axis, keepdims, w, initial)
    if kind == "multiply" and initial is not None and (axis is None or isinstance(axis, int)):
        # NumPy multiplies from initial: a first slice of it along the axis
        # (the product rule in NumPy's order, a constant's zero tangents)
        nd = len(x.shape)
        if axis is None:
            r = _prod(_concatenate([np.full(1, float(initial)), _reshape(x, (-1,))], 0), 0)
            return _reshape(r, (1,) * nd) if keepdims else r
        ax = _norm_axis(axis, nd)
        lead = list(x.shape)
        lead[ax] = 1
        return _prod(_concatenate([np.full(lead, float(initial)), x], ax), ax, keepdims)
    if kind == "add":
        r = _sum(x, axis, keepdims)
    elif kind == "multiply":
        r = _prod(x, axis, keepdims)
    else:
        argf = {"max": np.argmax, "min": np.argmin, "fmax": _NANARGMAX,
                "fmin": _NANARGMIN}[kind]
        if initial is not None and x.size == 0:
            shape = np.sum(np.zeros(x.shape), axis=axis, keepdims=keepdims).shape
            return np.full(shape, float(initial))
        if kind in ("max", "min") and type(x) is DualArray:
            r = getattr(x, kind)(axis=axis, keepdims=keepdims)   # (the C paths first)
        else:
            r = _select_reduce(x, axis, keepdims, argf, kind[-3:])
    if initial is not None:
        r = _ew_binary(_REDUCE_RULE[kind], r, np.array(float(initial)))
    return r


def _h_cumsum(a, axis=None, dtype=None, out=None):
    _no_out(out, "cumsum", dtype)
    a = _a(a, "cumsum")
    return a.cumsum(axis) if type(a) is DualArray else _cumsum(a, axis)   # (C path first)


def _no_out(out, name, dtype):
    if out is not None:
        raise TypeError(f"numpy.{name} on DualArray: out= is not supported")
    if dtype not in (None, float, _f64, np.dtype(_f64)):
        raise TypeError(f"numpy.{name} on DualArray: only dtype float64 (got {dtype!r})")


def _h_where(cond, x=None, y=None):
    if x is None or y is None:
        raise TypeError("numpy.where(cond) with one argument: use the values, "
                        "np.where(cond.value)")
    # a Python float goes as it is (_where makes the same float64 of it)
    return _where(cond, x if type(x) is float else _a(x, "where"),
                  y if type(y) is float else _a(y, "where"))


def _h_reshape(a, shape=None, order="C", **kw):
    if shape is None:
        shape = kw.pop("newshape")
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    return _reshape_order(_a(a, "reshape"), tuple(shape), order)


def _fn_out(r, out, fname):
    """A NumPy function's out=: filled (it must be a DualArray) and returned."""
    if out is None:
        return r
    if type(out) is not DualArray:
        raise TypeError(f"numpy.{fname}: out= must be a DualArray to hold derivatives, "
                        f"got {type(out).__name__}")
    if out.shape != r.shape:
        raise ValueError(f"numpy.{fname}: out= has shape {out.shape}, the result has "
                         f"shape {r.shape}")
    _setitem(out, Ellipsis, r)
    return out


def _h_transpose(a, axes=None):
    return _transpose(_a(a, "transpose"), axes)


def _like(a, make, dtype, shape):
    # np.zeros_like & co.: a DualArray of a's level with zero tangent rows,
    # so "preallocate, then fill" (r = np.zeros_like(u); r[1:] = ...) keeps
    # the derivatives written into it; another dtype (a mask, an index
    # array) is a plain array, as it holds no derivative
    s = a.shape if shape is None else (shape if isinstance(shape, tuple) else
                                       tuple(np.atleast_1d(shape)))
    if dtype is not None and np.dtype(dtype) != np.dtype(_f64):
        return make(s, dtype)
    if type(a) is not DualArray:
        return make(s, _f64)
    return _lift(make(s, _f64), a._tag, a._d.shape[0], a._o2)


def _h_zeros_like(a, dtype=None, order="K", subok=True, shape=None, **kw):
    return _like(a, np.zeros, dtype, shape)


def _h_ones_like(a, dtype=None, order="K", subok=True, shape=None, **kw):
    return _like(a, np.ones, dtype, shape)


def _h_empty_like(a, dtype=None, order="K", subok=True, shape=None, **kw):
    # the values are NumPy's (uninitialized); the tangent rows are zero
    return _like(a, np.empty, dtype, shape)


def _h_full_like(a, fill_value, dtype=None, order="K", subok=True, shape=None, **kw):
    s = a.shape if shape is None else tuple(np.atleast_1d(shape))
    if isinstance(fill_value, (DualArray, Dual)):
        return _bc(_operand(fill_value), s)
    return _like(a, lambda sh, dt: np.full(sh, fill_value, dtype=dt), dtype, s)


def _axis_of(x, axis):
    # NumPy's axis=None (the flattened array), else the axis counted from
    # the end (valid at every nesting depth)
    if axis is None:
        return _reshape(x, (-1,)), -1
    nd = len(x.shape)
    return x, _norm_axis(axis, nd) - nd


def _h_take_along_axis(arr, indices, axis=-1):
    x, ax = _axis_of(_a(arr, "take_along_axis"), axis)
    idx = np.asarray(indices)
    f = lambda c: np.take_along_axis(c, _bc_lead(idx, c.ndim), axis=ax)     # noqa: E731
    return _lin(x, f, f)


def _bc_lead(idx, nd):
    return idx.reshape((1,) * (nd - idx.ndim) + idx.shape) if idx.ndim < nd else idx


def _h_take(a, indices, axis=None, out=None, mode="raise"):
    x, ax = _axis_of(_a(a, "take"), axis)
    idx = np.asarray(indices)
    f = lambda c: np.take(c, idx, axis=ax, mode=mode)       # noqa: E731
    return _fn_out(_lin(x, f, f), out, "take")


def _h_flip(m, axis=None):
    x = _a(m, "flip")
    nd = len(x.shape)
    ax = _neg_axes(axis, nd)
    if type(x) is DualArray:
        # reversed slices: views of both components by the core's indexing
        return x[tuple(slice(None, None, -1) if a - nd in ax else _ALL for a in range(nd))]
    f = lambda c: np.flip(c, ax)      # noqa: E731
    return _lin(x, f, f)


def _h_diagonal(a, offset=0, axis1=0, axis2=1):
    x = _a(a, "diagonal")
    nd = len(x.shape)
    a1, a2 = _norm_axis(axis1, nd) - nd, _norm_axis(axis2, nd) - nd
    if a1 == a2:
        raise ValueError("numpy.diagonal: axis1 and axis2 cannot be the same")
    if type(x) is DualArray and type(x._v) is _nd:
        # the read-only views NumPy makes, of both components (the axes
        # counted from the end: the tangents' leading axis is not among them)
        return _new(x._v.diagonal(offset, a1, a2), x._d.diagonal(offset, a1, a2), x._tag, x._o2)
    f = lambda c: np.diagonal(c, offset, a1, a2)      # noqa: E731
    return _lin(x, f, f)


def _h_diag(v, k=0):
    x = _a(v, "diag")
    if len(x.shape) == 2:
        return _h_diagonal(x, k)
    if len(x.shape) != 1:
        raise ValueError("numpy.diag: input must be 1-d or 2-d")
    n = x.shape[0] + abs(k)
    i = np.arange(x.shape[0])
    r, c = (i, i + k) if k >= 0 else (i - k, i)

    def f(a):
        # written by assignment: a product with the identity would turn an
        # inf entry's zero neighbours into nan
        out = np.zeros(a.shape[:-1] + (n, n))
        out[..., r, c] = a
        return out
    return _lin(x, f, f)


def _h_trace(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    _no_out(None, "trace", dtype)
    x = _a(a, "trace")
    if out is None and type(x) is DualArray and type(x._v) is _nd:
        # NumPy's trace of each component (the sum of the diagonal, each row
        # of the tangents on its own: np.trace's bits direction by
        # direction); a nan value goes to the sum's domain rule below
        nd = len(x.shape)
        if nd < 2:
            raise ValueError("numpy.trace: diag requires an array of at least two dimensions")
        a1, a2 = _norm_axis(axis1, nd) - nd, _norm_axis(axis2, nd) - nd
        if a1 != a2:
            v = np.asarray(x._v.trace(offset, a1, a2))
            if not _has_nan(v):
                return _new(v, x._d.trace(offset, a1, a2), x._tag, x._o2)
    d = _h_diagonal(x, offset, axis1, axis2)
    # (the method: the core's C path for the sum where it applies)
    return _fn_out(d.sum(-1) if type(d) is DualArray else _sum(d, -1), out, "trace")


def _h_atleast_1d(*arys):
    r = [_reshape(_a(x, "atleast_1d"), (1,)) if len(np.shape(x)) == 0 else x for x in arys]
    return r[0] if len(r) == 1 else r


def _shape_of(a):
    return a.shape if type(a) is DualArray else np.shape(a)


def _h_hstack(tup, **kw):
    items = [_a(o, "hstack") for o in tup]
    items = [_reshape(o, (1,)) if len(o.shape) == 0 else o for o in items]
    return _concatenate(items, 0 if len(items[0].shape) == 1 else 1)


def _h_vstack(tup, **kw):
    items = [_a(o, "vstack") for o in tup]
    items = [_reshape(o, (1, -1)) if len(o.shape) < 2 else o for o in items]
    return _concatenate(items, 0)


def _h_copy(a, order="K", subok=False):
    a = _a(a, "copy")
    return a.copy() if type(a) is DualArray else _copy(a)


def _h_allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return np.allclose(_inner_operand(a), _inner_operand(b), rtol, atol, equal_nan)


def _h_isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return np.isclose(_inner_operand(a), _inner_operand(b), rtol, atol, equal_nan)


def _h_argfun(f):
    def h(a, *args, **kw):
        return f(_inner_operand(a), *args, **kw)
    return h


# The compositions below call NumPy's ufuncs and operators on their
# operands, so each step takes the C core's path where it applies (the
# same rule and bits as _ew_binary's, without its dispatch).

def _scaled(c):
    return lambda x: x * c


# the ufuncs that are a product with a constant (the C core serves them as
# that product: _core_protocols.pxi)
_UFUNC_SCALE = {np.deg2rad: np.pi / 180.0, np.radians: np.pi / 180.0,
                np.rad2deg: 180.0 / np.pi, np.degrees: 180.0 / np.pi}


_LN2 = float(np.log(2.0))


def _logaddexp2(a, b):
    # logaddexp in base 2: log2(2**a + 2**b) = logaddexp(a ln2, b ln2) / ln2
    return np.logaddexp(a * _LN2, b * _LN2) / _LN2


def _heaviside(x, h0):
    # piecewise constant in x (zero derivative, as sign); h0's where x == 0
    xv = np.asarray(_inner(x))
    return _where(xv == 0, h0, np.heaviside(xv, 0.0))


def _ldexp(x, i):
    iv = None if _tag(i) != 0 else np.asarray(i)
    if iv is None or iv.dtype.kind == "f" and not (iv == np.trunc(iv)).all():
        raise TypeError("numpy.ldexp on DualArray: the exponent must be constant integers")
    # a product with the power of two: exact, as ldexp
    return x * np.ldexp(1.0, iv.astype(np.intp))


def _vecdot(a, b):
    # the sum of the products along the last axis; the value NumPy's vecdot
    return _numpy_value(_sum(_ew_binary("multiply", a, b), -1), np.vecdot, a, b)


def _matvec(A, v):
    return _getitem(_matmul(A, _expand_dims(v, -1)), (Ellipsis, 0))


def _vecmat(v, A):
    return _getitem(_matmul(_expand_dims(v, -2), A), (Ellipsis, 0, _ALL))


def _fmod(a, b):
    # fmod has a's sign; on magnitudes it is remainder, exactly:
    # fmod(a, b) = s * remainder(s * a, |b|), s = +-1 the sign of a
    s = np.where(np.signbit(np.asarray(_inner(a))), -1.0, 1.0)
    return np.remainder(a * s, np.absolute(b)) * s


def _modf(x):
    # (fractional part, integral part): x - trunc(x) (slope 1), trunc(x)
    # (slope 0); the fractional part of +-inf is NumPy's +-0.0, its tangents
    # fmod's (nan: no slope there), as the scalar Dual's (_ufuncmap)
    frac = _fmod(x, _operand(np.array(1.0)))
    xv = np.asarray(_inner(x))
    inf = np.isinf(xv)
    if inf.any():
        frac = _replace_inner(frac, np.where(inf, np.copysign(0.0, xv), np.asarray(_inner(frac))))
    return frac, np.trunc(x)


def _divmod(a, b):
    return np.floor_divide(a, b), np.remainder(a, b)


def _frexp(x):
    # x = m * 2**e: m = x * 2**-e with the integer e constant
    m, e = np.frexp(np.asarray(_inner(x)))
    return x * np.ldexp(1.0, -e), e


# ufuncs without a rule of their own that are exactly a rule of others
# (float_power is power in float64, the only dtype here)
_UFUNC_COMPOSED = {
    **{u: _scaled(c) for u, c in _UFUNC_SCALE.items()},
    np.float_power: lambda a, b: _ew_binary("power", a, b),
    np.logaddexp2: _logaddexp2, np.heaviside: _heaviside, np.ldexp: _ldexp,
    np.conjugate: lambda x: x.copy(),           # real numbers: the identity
    np.fmod: _fmod, np.modf: _modf, np.divmod: _divmod, np.frexp: _frexp,
}
if hasattr(np, "vecdot"):         # NumPy >= 2.0 (a gufunc)
    _UFUNC_COMPOSED[np.vecdot] = _vecdot
if hasattr(np, "matvec"):         # NumPy >= 2.2 (gufuncs)
    _UFUNC_COMPOSED.update({np.matvec: _matvec, np.vecmat: _vecmat})
# the shared map decides which ufuncs exist here; this table only says how
if set(_UFUNC_COMPOSED) != set(_ufuncmap.composed_ufuncs()) | {
        getattr(np, n) for n in _ufuncmap.ARRAY_ONLY[1:] if hasattr(np, n)}:
    raise ImportError("dualml.arrays: _UFUNC_COMPOSED and dualml._ufuncmap.COMPOSED differ")


def _h_copyto(dst, src, casting="same_kind", where=True):
    if type(dst) is not DualArray:
        raise TypeError("numpy.copyto: dst must be a DualArray to hold derivatives (a "
                        "float array would drop them)")
    src = _operand(src, "numpy.copyto")
    if where is True:
        _setitem(dst, Ellipsis, _bc(src, dst.shape) if src.shape != dst.shape else src)
        return
    mask = np.broadcast_to(np.asarray(_inner_operand(where), dtype=bool), dst.shape)
    _setitem(dst, mask, _getitem(_bc(src, dst.shape), (mask,)))


def _h_putmask(a, mask, values):
    if type(a) is not DualArray:
        raise TypeError("numpy.putmask: a must be a DualArray to hold derivatives")
    m = np.broadcast_to(np.asarray(_inner_operand(mask), dtype=bool), a.shape)
    v = _reshape(_operand(values, "numpy.putmask"), (-1,))
    # NumPy repeats values over the whole array and takes the masked positions
    idx = np.arange(a.size).reshape(a.shape)[m] % v.shape[0]
    _setitem(a, m, _getitem(v, (idx,)))


def _h_place(arr, mask, vals):
    if type(arr) is not DualArray:
        raise TypeError("numpy.place: arr must be a DualArray to hold derivatives")
    m = np.broadcast_to(np.asarray(_inner_operand(mask), dtype=bool), arr.shape)
    v = _reshape(_operand(vals, "numpy.place"), (-1,))
    # NumPy repeats vals over the masked positions, in order
    idx = np.arange(int(m.sum())) % max(v.shape[0], 1)
    _setitem(arr, m, _getitem(v, (idx,)))


def _h_cov(m, y=None, rowvar=True, bias=False, ddof=None, fweights=None, aweights=None, *,
           dtype=None):
    if fweights is not None or aweights is not None:
        raise TypeError("numpy.cov on DualArray: fweights/aweights are not supported; "
                        "write the weighted covariance with np.average")
    _no_out(None, "cov", dtype)
    x = _operand(m, "numpy.cov")
    if len(x.shape) == 1:
        x = _reshape(x, (1, -1))
    if not rowvar and x.shape[0] != 1:
        x = _transpose(x, None)
    if y is not None:
        yy = _operand(y, "numpy.cov")
        if len(yy.shape) == 1:
            yy = _reshape(yy, (1, -1))
        if not rowvar and yy.shape[0] != 1:
            yy = _transpose(yy, None)
        x = _concatenate([x, yy], 0)
    n = x.shape[1]
    dd = (0 if bias else 1) if ddof is None else ddof
    xc = _ew_binary("subtract", x, _mean(x, 1, True))
    c = _ew_binary("divide", _matmul(xc, _transpose(xc, None)), np.array(float(n - dd)))
    # the value NumPy's cov of the values (its mean, product and scaling)
    c = _numpy_value(c, lambda v: np.cov(v, bias=bias, ddof=ddof), x)
    return _squeeze(c) if c.shape == (1, 1) else c


def _h_corrcoef(x, y=None, rowvar=True, *, dtype=None):
    _no_out(None, "corrcoef", dtype)
    c = _operand(_h_cov(x, y, rowvar), "numpy.corrcoef")
    if len(c.shape) == 0:
        return _ew_binary("divide", c, c)
    d = _ew_unary("sqrt", _operand(_h_diagonal(c)))
    c = _ew_binary("divide", c, _reshape(d, (-1, 1)))
    c = _ew_binary("divide", c, _reshape(d, (1, -1)))
    xs = [_operand(x, "numpy.corrcoef")] + ([] if y is None else [_operand(y, "numpy.corrcoef")])
    # the value NumPy's corrcoef of the values
    return _numpy_value(_clip(c, -1.0, 1.0),
                        lambda *v: np.corrcoef(*v, rowvar=rowvar), *xs)


def _h_searchsorted(a, v, side="left", sorter=None):
    return np.searchsorted(_inner_operand(a), _inner_operand(v), side, sorter)


def _h_lexsort(keys, axis=-1):
    return np.lexsort(tuple(_inner_operand(k) for k in keys), axis)


def _h_bincount(x, weights=None, minlength=0):
    xi = np.asarray(x) if type(x) is not DualArray else np.asarray(_inner(x)).astype(np.intp)
    if weights is None:
        return np.bincount(xi, None, minlength)
    w = _reshape(_operand(weights, "numpy.bincount"), (-1,))
    n = max(int(xi.max()) + 1 if xi.size else 0, minlength)
    # a sum of the weights of each bin: linear, a 0/1 matrix
    A = np.zeros((n, xi.size))
    A[xi.ravel(), np.arange(xi.size)] = 1.0
    return _matmul(_operand(A), w)


def _h_vander(x, N=None, increasing=False):
    xx = _operand(x, "numpy.vander")
    n = xx.shape[0] if N is None else N
    cols = [_ew_binary("power", xx, np.array(float(p))) if p else
            _operand(np.ones(xx.shape)) for p in range(n)]
    if not increasing:
        cols = cols[::-1]
    return _stack(cols, 1)


def _h_polyder(p, m=1):
    c = _a(p, "polyder")
    for _ in range(m):
        n = c.shape[0]
        if n <= 1:
            return _operand(np.zeros(1)) if type(c) is _nd else _ew_binary(
                "multiply", _getitem(c, (slice(0, 1),)), np.array(0.0))
        c = _ew_binary("multiply", _getitem(c, (slice(0, n - 1),)),
                       np.arange(n - 1, 0, -1, dtype=_f64))
    return c


def _h_polyint(p, m=1, k=None):
    c = _a(p, "polyint")
    ks = np.zeros(m) if k is None else np.broadcast_to(np.asarray(k, dtype=_f64), (m,))
    for i in range(m):
        n = c.shape[0]
        c = _ew_binary("divide", c, np.arange(n, 0, -1, dtype=_f64))
        c = _concatenate([c, _operand(ks[i:i + 1])], 0)
    return c


def _h_polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    if full or cov:
        raise TypeError("numpy.polyfit on DualArray: full=True/cov=True are not "
                        "supported; the coefficients are (use np.linalg.lstsq for more)")
    xx, yy = _a(x, "polyfit"), _a(y, "polyfit")
    A = _h_vander(xx, deg + 1)
    if w is not None:
        ww = _a(w, "polyfit")
        A = _ew_binary("multiply", A, _reshape(ww, (-1, 1)))
        yy = _ew_binary("multiply", yy, ww if len(yy.shape) == 1 else _reshape(ww, (-1, 1)))
    # the least-squares solution NumPy computes (it scales the columns first,
    # which changes rounding only)
    return _matmul(_pinv(A), yy)


def _h_trim_zeros(filt, trim="fb", axis=None):
    x = _a(filt, "trim_zeros")
    v = np.asarray(_inner(x))
    if axis is not None or v.ndim != 1:
        raise TypeError("numpy.trim_zeros on DualArray: 1-d input without axis only")
    nz = np.flatnonzero(v)
    lo = int(nz[0]) if nz.size and "f" in trim.lower() else (v.size if not nz.size else 0)
    hi = int(nz[-1]) + 1 if nz.size and "b" in trim.lower() else v.size
    return _getitem(x, (slice(lo, hi if hi >= lo else lo),))


def _h_unique(ar, return_index=False, return_inverse=False, return_counts=False, axis=None,
              *, equal_nan=True, sorted=True):
    # the sorted distinct values, each the entry it first appears as (a tie
    # of equal values follows that entry, as max does)
    x = _a(ar, "unique")
    if axis is not None:
        raise TypeError("numpy.unique on DualArray: axis= is not supported")
    v = np.asarray(_inner(x)).ravel()
    res = np.unique(v, True, return_inverse, return_counts, equal_nan=equal_nan)
    u = _h_take(_reshape(x, (-1,)), res[1])
    extra = []
    if return_index:
        extra.append(res[1])
    if return_inverse:
        extra.append(res[2].reshape(np.shape(_inner(x))) if res[2].size == v.size else res[2])
    if return_counts:
        extra.append(res[-1])
    return (u, *extra) if extra else u


def _h_histogram(a, bins=10, range=None, density=None, weights=None):
    x = _reshape(_a(a, "histogram"), (-1,))
    xv = np.asarray(_inner(x))
    if isinstance(bins, str):
        raise TypeError("numpy.histogram on DualArray: string bins are not supported")
    if np.ndim(bins) == 0:
        nb = int(bins)
        if range is None:
            # NumPy's edges: a linspace from min to max (dual ends)
            lo = _select_reduce(x, None, False, np.argmin, "min")
            hi = _select_reduce(x, None, False, np.argmax, "max")
            if float(np.asarray(_inner(lo))) == float(np.asarray(_inner(hi))):
                lo = _ew_binary("subtract", _operand(lo), np.array(0.5))
                hi = _ew_binary("add", _operand(hi), np.array(0.5))
        else:
            lo, hi = (float(r) for r in range)
        edges = _ar._h_linspace(lo, hi, nb + 1)
    else:
        edges = _operand(bins, "numpy.histogram")
        nb = edges.shape[0] - 1
    ev = np.asarray(_inner(edges))
    _, ref_edges = np.histogram(xv, ev if np.ndim(bins) else nb,
                                range if np.ndim(bins) == 0 else None)
    # bin of each entry: [e_i, e_i+1), the last bin closed (NumPy's rule)
    j = np.searchsorted(ref_edges, xv, side="right") - 1
    j[xv == ref_edges[-1]] = nb - 1
    inside = (j >= 0) & (j < nb)
    A = np.zeros((nb, xv.size))
    A[j[inside], np.flatnonzero(inside)] = 1.0
    if weights is None:
        hist = A.sum(axis=1)
    else:
        hist = _matmul(_operand(A), _reshape(_a(weights, "histogram"), (-1,)))
    if density:
        widths = _h_diff(edges)
        hist = _ew_binary("divide", _operand(hist),
                          _ew_binary("multiply", _operand(widths), _operand(_sum(_operand(hist)))))
    return hist, edges


def _h_apply_along_axis(func1d, axis, arr, *args, **kwargs):
    x = _a(arr, "apply_along_axis")
    nd = len(x.shape)
    ax = _norm_axis(axis, nd)
    y = _moveaxis(x, ax, -1)
    rest = y.shape[:-1]
    outs = [_operand(func1d(_getitem(y, idx), *args, **kwargs), "numpy.apply_along_axis")
            for idx in np.ndindex(rest)]
    if not outs:
        raise ValueError("Cannot apply_along_axis when any iteration dimensions are 0")
    r = _reshape(_stack(outs, 0), rest + outs[0].shape)
    # NumPy puts the function's output axes where axis was
    k = len(outs[0].shape)
    return _moveaxis(r, tuple(range(len(rest), len(rest) + k)), tuple(range(ax, ax + k)))


def _h_piecewise(x, condlist, funclist, *args, **kw):
    xx = _a(x, "piecewise")
    xv = np.asarray(_inner(xx))
    if isinstance(condlist, np.ndarray) and condlist.dtype == bool and \
            condlist.shape == xv.shape:
        condlist = [condlist]
    conds = [np.broadcast_to(np.asarray(_inner_operand(c), dtype=bool), xv.shape)
             for c in condlist]
    n = len(conds)
    if len(funclist) == n + 1:
        other = ~np.any(conds, axis=0) if n else np.ones(xv.shape, bool)
        conds.append(other)
    elif len(funclist) != n:
        raise ValueError(f"with {n} condition(s), either {n} or {n + 1} functions are "
                         f"expected")
    if type(xx) is not DualArray:
        raise TypeError("numpy.piecewise on DualArray: x must be the DualArray")
    y = _h_zeros_like(xx)
    for c, fn in zip(conds, funclist):
        if not c.any():
            continue
        val = fn(_getitem(xx, (c,)), *args, **kw) if callable(fn) else fn
        _setitem(y, c, val)
    return y


def _h_linalg_outer(x1, x2, /):
    a, b = _a(x1, "linalg.outer"), _a(x2, "linalg.outer")
    if len(a.shape) != 1 or len(b.shape) != 1:
        raise ValueError("numpy.linalg.outer: both inputs must be 1-dimensional")
    return _outer(a, b)


def _h_vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    xx = _a(x, "linalg.vector_norm")
    if axis is None:
        r = _norm(_reshape(xx, (-1,)), ord)
        return _reshape(r, (1,) * len(xx.shape)) if keepdims else r
    if isinstance(axis, tuple) and len(axis) > 1:
        nd = len(xx.shape)
        ax = tuple(_norm_axis(a, nd) for a in axis)
        rest = [i for i in range(nd) if i not in ax]
        y = _transpose(xx, tuple(rest) + ax)
        y = _reshape(y, tuple(xx.shape[i] for i in rest) + (-1,))
        r = _norm(y, ord, -1)
        if keepdims:
            r = _reshape(r, tuple(1 if i in ax else n for i, n in enumerate(xx.shape)))
        return r
    return _norm(xx, ord, axis, keepdims)


def _h_matrix_norm(x, /, *, keepdims=False, ord="fro"):
    return _norm(_a(x, "linalg.matrix_norm"), ord, (-2, -1), keepdims)


def _vecdot_axis(x1, x2, axis):
    a, b = _a(x1, "linalg.vecdot"), _a(x2, "linalg.vecdot")
    return _sum(_ew_binary("multiply", a, b), axis)


def _h_tensordot(a, b, axes):
    if isinstance(axes, numbers.Integral) and axes == 0:
        # no axis summed: the outer product, a broadcast multiply
        return _ew_binary("multiply", _reshape(a, a.shape + (1,) * len(b.shape)), b)
    return _tensordot(a, b, axes)


def _h_sinc(x):
    # sin(pi x)/(pi x); at x == 0 its Taylor polynomial, so the derivatives
    # there (0, -pi^2/3, 0, pi^4/5) are exact to the fourth order
    # (operators and ufuncs: each step by the C core's path where it applies)
    y = _a(x, "sinc")
    t = y * np.pi
    ratio = np.sin(t) / t
    t2 = t * t
    taylor = 1.0 + t2 * (-1.0 / 6.0 + t2 / 120.0)
    return _where(np.asarray(_inner(y)) == 0, taylor, ratio)


def _h_round(a, decimals=0, out=None):
    # rint of a scaled value, as NumPy rounds: piecewise constant, zero derivative
    x = _a(a, "round")
    if decimals == 0:
        r = _ew_unary("rint", x)
    elif decimals > 0:
        f = np.array(10.0 ** decimals)
        r = _ew_binary("divide", _ew_unary("rint", _ew_binary("multiply", x, f)), f)
    else:
        f = np.array(10.0 ** -decimals)
        r = _ew_binary("multiply", _ew_unary("rint", _ew_binary("divide", x, f)), f)
    return _fn_out(r, out, "round")


def _h_astype(x, dtype, /, *, copy=True, device=None):
    if np.dtype(dtype) != np.dtype(_f64):
        raise TypeError(f"numpy.astype on DualArray: only float64 keeps the derivatives "
                        f"(got {dtype!r}; convert .value explicitly)")
    y = _a(x, "astype")
    return _copy(y) if copy else y


def _h_fix(x, out=None):
    return _fn_out(_ew_unary("trunc", _a(x, "fix")), out, "fix")


def _h_nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    # a replaced entry is a constant: zero derivative there
    y = _a(x, "nan_to_num")
    v = np.asarray(_inner(y))
    if np.isfinite(v).all():
        return _copy(y) if copy else y
    rep = np.nan_to_num(v, nan=nan, posinf=posinf, neginf=neginf)
    if not copy:
        # NumPy replaces in place: callers may rely on x itself changing
        bad = ~np.isfinite(v)
        _setitem(y, bad, rep[bad])
        return y
    return _where(np.isfinite(v), y, rep)


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._elementwise import _ew_binary, _ew_unary  # noqa: E402
from ._joins import _lift, _clip, _concatenate, _stack, _where  # noqa: E402
from ._linalg import (_cholesky, _cond, _det, _eig, _eigh, _eigvals, _eigvalsh,  # noqa: E402
                      _inv, _lstsq, _norm, _pinv, _qr, _slogdet, _solve, _svd, _svdvals,
                      _tensorinv, _tensorsolve)
from ._nested import _BINARY_SET, _UNARY_P, _UNARY_SET  # noqa: E402
from ._operands import (_ALL, _bc, _bshape, _f64, _inner, _inner_operand, _nd,  # noqa: E402
                        _np_matmul, _operand, _tag)
from ._products import _dot, _einsum, _inner_prod, _matmul, _outer, _tensordot  # noqa: E402
from ._reduce import _cumsum, _masked_sum, _mean, _prod, _select_reduce, _sum  # noqa: E402
from ._statistics import (_accumulate, _h_average, _h_cumprod, _h_median,  # noqa: E402
                          _h_percentile, _h_ptp, _h_quantile, _h_sort, _h_std, _h_var)
from ._differences import (_h_convolve, _h_correlate, _h_diff, _h_ediff1d, _numpy_value,  # noqa: E402
                           _replace_inner,
                           _h_gradient, _h_interp, _h_polyval, _h_trapezoid)
from . import _arrange as _ar, _statistics as _st  # noqa: E402
from ._shape import (_reshape_order, _broadcast_to, _copy, _expand_dims, _getitem, _lin, _moveaxis,
                     _neg_axes, _norm_axis, _ravel, _reshape, _setitem, _squeeze,
                     _swapaxes, _transpose)


_HANDLED = {
    np.dot: lambda a, b, out=None: _fn_out(_dot(_a(a, "dot"), _a(b, "dot")), out, "dot"),
    np.matmul: lambda a, b, **kw: _matmul(_a(a, "matmul"), _a(b, "matmul")),
    np.inner: lambda a, b: _inner_prod(_a(a, "inner"), _a(b, "inner")),
    np.outer: lambda a, b, out=None: _fn_out(_outer(_a(a, "outer"), _a(b, "outer")), out,
                                             "outer"),
    np.vdot: lambda a, b: _matmul(_reshape(_a(a, "vdot"), (-1,)), _reshape(_a(b, "vdot"), (-1,))),
    np.tensordot: lambda a, b, axes=2: _h_tensordot(_a(a, "tensordot"), _a(b, "tensordot"), axes),
    np.einsum: _einsum,
    np.where: _h_where,
    np.concatenate: lambda arrays, axis=0, out=None, **kw: _fn_out(
        _concatenate(list(arrays), axis), out, "concatenate"),
    np.stack: lambda arrays, axis=0, out=None, **kw: _fn_out(_stack(list(arrays), axis), out,
                                                             "stack"),
    np.hstack: _h_hstack,
    np.vstack: _h_vstack,
    np.reshape: _h_reshape,
    np.ravel: lambda a, order="C": _ravel(_a(a, "ravel"), order),
    np.transpose: _h_transpose,
    np.swapaxes: lambda a, axis1, axis2: _swapaxes(_a(a, "swapaxes"), axis1, axis2),
    np.moveaxis: lambda a, source, destination: _moveaxis(_a(a, "moveaxis"), source, destination),
    np.squeeze: lambda a, axis=None: _squeeze(_a(a, "squeeze"), axis),
    np.expand_dims: lambda a, axis: _expand_dims(_a(a, "expand_dims"), axis),
    np.broadcast_to: lambda array, shape, subok=False: _broadcast_to(_a(array, "broadcast_to"), shape),
    np.clip: lambda a, a_min=None, a_max=None, out=None, **kw: _fn_out(
        _clip(a, kw.get("min", a_min), kw.get("max", a_max)), out, "clip"),
    np.sum: _h_sum,
    np.mean: _h_mean,
    np.prod: _h_prod,
    np.max: _h_max,
    np.min: _h_min,
    np.amax: _h_max,
    np.amin: _h_min,
    np.cumsum: _h_cumsum,
    np.take_along_axis: _h_take_along_axis,
    np.take: _h_take,
    np.flip: _h_flip,
    np.diagonal: _h_diagonal,
    np.trace: _h_trace,
    np.diag: _h_diag,
    np.atleast_1d: _h_atleast_1d,
    np.copy: _h_copy,
    np.zeros_like: _h_zeros_like,
    np.ones_like: _h_ones_like,
    np.empty_like: _h_empty_like,
    np.full_like: _h_full_like,
    np.shape: _shape_of,
    np.ndim: lambda a: len(_shape_of(a)),
    np.size: lambda a, axis=None: (int(np.prod(_shape_of(a))) if axis is None
                                   else _shape_of(a)[axis]),
    np.allclose: _h_allclose,
    np.isclose: _h_isclose,
    np.argmax: _h_argfun(np.argmax),
    np.argmin: _h_argfun(np.argmin),
    np.argsort: _h_argfun(np.argsort),
    np.nonzero: _h_argfun(np.nonzero),
    np.all: _h_argfun(np.all),
    np.any: _h_argfun(np.any),
    np.linalg.norm: _norm,
    np.linalg.solve: _solve,
    np.linalg.inv: _inv,
    np.linalg.det: _det,
    np.linalg.slogdet: _slogdet,
    np.linalg.cholesky: _cholesky,
    np.linalg.eigh: _eigh,
    np.linalg.eigvalsh: _eigvalsh,
    np.linalg.svd: _svd,
    np.linalg.pinv: _pinv,
    np.linalg.lstsq: _lstsq,
    np.linalg.cond: _cond,
}
if hasattr(np.linalg, "svdvals"):       # NumPy >= 2.0
    _HANDLED[np.linalg.svdvals] = _svdvals
    _HANDLED.update({
        np.linalg.outer: _h_linalg_outer, np.linalg.vector_norm: _h_vector_norm,
        np.linalg.matrix_norm: _h_matrix_norm,
        np.linalg.trace: lambda x, /, *, offset=0, dtype=None: _h_trace(
            x, offset, -2, -1, dtype),
        np.linalg.diagonal: lambda x, /, *, offset=0: _h_diagonal(x, offset, -2, -1),
        np.linalg.matmul: lambda x1, x2, /: _matmul(_a(x1, "linalg.matmul"),
                                                    _a(x2, "linalg.matmul")),
        np.linalg.vecdot: lambda x1, x2, /, *, axis=-1: _vecdot_axis(x1, x2, axis),
        np.linalg.matrix_transpose: lambda x, /: _swapaxes(_a(x, "matrix_transpose"),
                                                           -1, -2),
    })
_HANDLED.update({
    np.polyder: _h_polyder, np.polyint: _h_polyint, np.polyfit: _h_polyfit,
    np.trim_zeros: _h_trim_zeros, np.unique: _h_unique, np.histogram: _h_histogram,
    np.apply_along_axis: _h_apply_along_axis, np.piecewise: _h_piecewise,
    np.linalg.qr: _qr, np.linalg.tensorinv: _tensorinv, np.linalg.tensorsolve: _tensorsolve,
    np.linalg.eig: _eig, np.linalg.eigvals: _eigvals,
    np.copyto: _h_copyto, np.putmask: _h_putmask, np.place: _h_place,
    np.cov: _h_cov, np.corrcoef: _h_corrcoef, np.searchsorted: _h_searchsorted,
    np.lexsort: _h_lexsort, np.bincount: _h_bincount, np.vander: _h_vander,
})
# functions whose handler takes out= itself (a buffer of booleans or several)
_OWN_OUT = {np.isclose, np.allclose, np.argmax, np.argmin, np.all, np.any, np.nanargmax,
            np.nanargmin}
_HANDLED.update({
    np.std: _h_std, np.var: _h_var, np.average: _h_average, np.ptp: _h_ptp,
    np.cumprod: _h_cumprod, np.sort: _h_sort, np.median: _h_median,
    np.quantile: _h_quantile, np.percentile: _h_percentile,
    np.diff: _h_diff, np.ediff1d: _h_ediff1d, np.trapezoid: _h_trapezoid,
    np.gradient: _h_gradient, np.interp: _h_interp, np.polyval: _h_polyval,
    np.convolve: _h_convolve, np.correlate: _h_correlate,
    np.roll: _ar._h_roll, np.tile: _ar._h_tile, np.repeat: _ar._h_repeat,
    np.pad: _ar._h_pad, np.append: _ar._h_append, np.insert: _ar._h_insert,
    np.delete: _ar._h_delete, np.split: _ar._h_split, np.array_split: _ar._h_array_split,
    np.hsplit: _ar._h_hsplit, np.vsplit: _ar._h_vsplit, np.atleast_2d: _ar._h_atleast_2d,
    np.atleast_3d: _ar._h_atleast_3d, np.column_stack: _ar._h_column_stack,
    np.dstack: _ar._h_dstack, np.meshgrid: _ar._h_meshgrid,
    np.broadcast_arrays: _ar._h_broadcast_arrays, np.rot90: _ar._h_rot90,
    np.flipud: _ar._h_flipud, np.fliplr: _ar._h_fliplr, np.tril: _ar._h_tril,
    np.triu: _ar._h_triu, np.diagflat: _ar._h_diagflat, np.cross: _ar._h_cross,
    np.kron: _ar._h_kron, np.linalg.multi_dot: _ar._h_multi_dot,
    np.linalg.matrix_power: _ar._h_matrix_power,
    np.nansum: _st._h_nansum, np.nanprod: _st._h_nanprod, np.nanmax: _st._h_nanmax,
    np.nanmin: _st._h_nanmin, np.nanmean: _st._h_nanmean, np.nanvar: _st._h_nanvar,
    np.nanstd: _st._h_nanstd, np.nancumsum: _st._h_nancumsum,
    np.nancumprod: _st._h_nancumprod, np.nanmedian: _st._h_nanmedian,
    np.nanquantile: _st._h_nanquantile, np.nanpercentile: _st._h_nanpercentile,
    np.nanargmax: _h_argfun(np.nanargmax), np.nanargmin: _h_argfun(np.nanargmin),
    np.sinc: _h_sinc, np.dsplit: _ar._h_dsplit, np.rollaxis: _ar._h_rollaxis,
    np.resize: _ar._h_resize, np.compress: _ar._h_compress, np.extract: _ar._h_extract,
    np.choose: _ar._h_choose, np.select: _ar._h_select, np.block: _ar._h_block,
    np.fill_diagonal: _ar._h_fill_diagonal, np.put: _ar._h_put,
    np.put_along_axis: _ar._h_put_along_axis,
    np.partition: _st._h_partition,
    np.real: lambda val: _a(val, "real"),
    np.imag: _ar._h_imag, np.angle: _ar._h_angle, np.real_if_close: _ar._h_real_if_close,
    np.linspace: _ar._h_linspace, np.fft.fftshift: _ar._h_fftshift,
    np.fft.ifftshift: _ar._h_ifftshift,
    np.round: _h_round, np.around: _h_round, np.fix: _h_fix, np.nan_to_num: _h_nan_to_num,
})
if hasattr(np, "astype"):               # NumPy >= 2.1
    _HANDLED[np.astype] = _h_astype
if hasattr(np, "cumulative_sum"):       # NumPy >= 2.1
    _HANDLED[np.cumulative_sum] = _st._h_cumulative_sum
    _HANDLED[np.cumulative_prod] = _st._h_cumulative_prod
if hasattr(np, "amax"):
    _HANDLED[np.amax] = _h_max
    _HANDLED[np.amin] = _h_min
