"""NumPy's rearranging and joining functions, and products built from others.

Design
------
Rearrangements are linear: each is NumPy's own function applied to the
value and to every tangent row (``_lin``) with its axes made negative, or
with the leading (direction) axes padded, so one map serves every nesting
depth.  Joins go through ``_concatenate`` (mixed constant and dual operands
are lifted there), selections (``choose``, ``select``) through ``_where``,
and NumPy's in-place writers (``put``, ``fill_diagonal``,
``put_along_axis``) find the positions NumPy writes on the values and then
assign items.  ``cross``, ``kron``, ``multi_dot`` and ``matrix_power`` are
compositions of the product rules.  A form that is not implemented raises a
TypeError naming it.
"""
import math
import numbers
import operator

import numpy as np


def _x(a, fname):
    return _operand(a, f"numpy.{fname}")


def _ax(axis, nd):
    return _norm_axis(axis, nd) - nd


def _h_roll(a, shift, axis=None):
    x = _x(a, "roll")
    if axis is None:
        f = lambda c: np.roll(c, shift, axis=-1)      # noqa: E731
        return _reshape(_lin(_reshape(x, (-1,)), f, f, True), x.shape)
    ax = _neg_axes(axis, len(x.shape))
    if not isinstance(axis, tuple):
        ax = ax[0]
    f = lambda c: np.roll(c, shift, axis=ax)      # noqa: E731
    return _lin(x, f, f, True)


def _h_tile(A, reps):
    x = _x(A, "tile")
    reps = (reps,) if isinstance(reps, numbers.Integral) else tuple(reps)
    nd = max(len(x.shape), len(reps))
    x = _reshape(x, (1,) * (nd - len(x.shape)) + x.shape)
    reps = (1,) * (nd - len(reps)) + reps
    # reps for the trailing axes; NumPy pads shorter reps with leading ones
    f = lambda c: np.tile(c, reps)      # noqa: E731
    return _lin(x, f, f, math.prod(x.shape) * math.prod(reps))


def _h_repeat(a, repeats, axis=None):
    x = _x(a, "repeat")
    if axis is None:
        x, axis = _reshape(x, (-1,)), 0
    ax = _ax(axis, len(x.shape))
    f = lambda c: np.repeat(c, repeats, axis=ax)      # noqa: E731
    return _lin(x, f, f)


_PAD_LINEAR = ("constant", "edge", "reflect", "symmetric", "wrap", "mean", "empty")


_PAD_STAT = ("maximum", "minimum", "median", "linear_ramp")


def _pad_sequential(x, pad_width, mode, kw):
    """NumPy's stat and ramp modes, one axis after the other as NumPy pads them
    (an axis sees the padding of the axes before it): the edge statistic
    (a selection, or a median) or the ramp towards the edge value, joined on."""
    allowed = {"stat_length"} if mode != "linear_ramp" else {"end_values"}
    if set(kw) - allowed:
        raise TypeError(f"numpy.pad on DualArray: unsupported arguments "
                        f"{sorted(set(kw) - allowed)} for mode={mode!r}")
    nd = len(x.shape)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (nd, 2))
    stat = kw.get("stat_length")
    st = None if stat is None else np.broadcast_to(np.asarray(stat, dtype=np.intp), (nd, 2))
    ends = kw.get("end_values", 0)
    _const_arg(ends, "pad", "end_values")
    ev = np.broadcast_to(np.asarray(ends, dtype=_f64), (nd, 2))
    for i in range(nd):
        before, after = int(pw[i, 0]), int(pw[i, 1])
        if before == 0 and after == 0:
            continue
        ax = i - nd
        n = x.shape[i]
        parts = []
        for side, width in ((0, before), (1, after)):
            if width == 0:
                parts.append(None)
                continue
            if mode == "linear_ramp":
                edge = _getitem(x, (_ALL,) * i + (slice(0, 1) if side == 0 else
                                                  slice(n - 1, n),))
                ramp = _h_linspace(ev[i, side], edge, width, endpoint=False, axis=i)
                ramp = _reshape(ramp, x.shape[:i] + (width,) + x.shape[i + 1:])
                parts.append(ramp if side == 0 else _h_flip(ramp, i))
                continue
            length = n if st is None else max(1, min(int(st[i, side]), n))
            region = _getitem(x, (_ALL,) * i + (slice(0, length) if side == 0 else
                                                slice(n - length, n),))
            if mode == "median":
                v = _h_median(region, axis=i, keepdims=True)
            else:
                v = _select_reduce(region, ax, True, np.argmax if mode == "maximum"
                                   else np.argmin, "max" if mode == "maximum" else "min")
            shape = x.shape[:i] + (width,) + x.shape[i + 1:]
            parts.append(_broadcast_to(v, shape) if type(v) is not _nd else
                         np.broadcast_to(v, shape).copy())
        x = _concatenate([p for p in (parts[0], x, parts[1]) if p is not None], i)
    return x


def _h_pad(array, pad_width, mode="constant", **kw):
    x = _x(array, "pad")
    if mode in _PAD_STAT:
        return _pad_sequential(x, pad_width, mode, kw)
    if callable(mode) or mode not in _PAD_LINEAR:
        raise TypeError(f"numpy.pad on DualArray: mode={mode!r} is not supported "
                        f"(supported: {', '.join(_PAD_LINEAR + _PAD_STAT)})")
    if mode == "empty":
        mode, kw = "constant", {}
    allowed = {"constant": {"constant_values"}, "reflect": {"reflect_type"},
               "symmetric": {"reflect_type"}, "mean": {"stat_length"}}.get(mode, set())
    if set(kw) - allowed:
        raise TypeError(f"numpy.pad on DualArray: unsupported arguments "
                        f"{sorted(set(kw) - allowed)} for mode={mode!r}")
    if "reflect_type" in kw and kw["reflect_type"] != "even":
        raise TypeError("numpy.pad on DualArray: reflect_type='odd' is not supported")
    cv = kw.get("constant_values", 0)
    _const_arg(cv, "pad", "constant_values")
    nd = len(x.shape)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.intp), (nd, 2))
    stat = kw.get("stat_length")
    if (mode == "constant" and type(x) is DualArray and type(x._v) is _nd
            and isinstance(cv, (numbers.Real, np.integer, np.floating)) and (pw >= 0).all()):
        # one constant: the values written into a filled array and the
        # tangent rows into zeros (np.pad's copy, without its per-axis passes)
        shape = tuple(int(n + a + b) for n, (a, b) in zip(x.shape, pw))
        inner = tuple(slice(int(a), int(a) + n) for n, (a, _) in zip(x.shape, pw))
        v = np.full(shape, cv, dtype=_f64)
        v[inner] = x._v
        d = np.zeros(x._d.shape[:x._d.ndim - nd] + shape)
        d[(Ellipsis,) + inner] = x._d
        return _new(v, d, x._tag, x._o2)

    def lead(c):
        return np.concatenate([np.zeros((c.ndim - nd, 2), np.intp), pw])

    def one(c, values):
        if mode == "constant":
            cvs = np.broadcast_to(np.asarray(values, dtype=_f64), (nd, 2))
            cvs = np.concatenate([np.zeros((c.ndim - nd, 2)), cvs])
            return np.pad(c, lead(c), mode, constant_values=cvs)
        if mode == "mean":
            if stat is None:
                return np.pad(c, lead(c), mode)
            st = np.broadcast_to(np.asarray(stat, dtype=np.intp), (nd, 2))
            st = np.concatenate([np.ones((c.ndim - nd, 2), np.intp), st])
            return np.pad(c, lead(c), mode, stat_length=st)
        return np.pad(c, lead(c), mode)
    # the constants are values: the tangent rows are padded with zeros
    return _lin(x, lambda c: one(c, cv), lambda c: one(c, 0.0))


def _const_arg(v, fname, what):
    if isinstance(v, (DualArray, Dual)) or (
            isinstance(v, (list, tuple)) and _tag(_operand(v, fname)) != 0):
        raise TypeError(f"numpy.{fname} on DualArray: {what} must be constant (a "
                        f"derivative with respect to it is not supported)")


def _h_append(arr, values, axis=None):
    a, v = _x(arr, "append"), _x(values, "append")
    if axis is None:
        return _concatenate([_reshape(a, (-1,)), _reshape(v, (-1,))], 0)
    return _concatenate([a, v], axis)


def _h_insert(arr, obj, values, axis=None):
    x = _x(arr, "insert")
    if _tag(_operand(values, "numpy.insert")) != 0:
        return _insert_dual(x, obj, _operand(values, "numpy.insert"), axis)
    _const_arg(values, "insert", "values")
    if axis is None:
        x, axis = _reshape(x, (-1,)), 0
    nd = len(x.shape)
    ax = _ax(axis, nd)
    vals = np.asarray(values, dtype=_f64)
    # Where the inserted entries land depends on the ranks of arr and values
    # (NumPy's rule for a scalar obj), so the tangent rows, which have more
    # axes, cannot be inserted into by the same call: the positions are found
    # on the value's shape and the rows are gathered from them.
    mark = np.insert(np.zeros(x.shape), obj, np.ones_like(vals), axis=ax)
    new = np.moveaxis(mark, ax, -1).reshape(-1, mark.shape[ax]).any(axis=0)
    take = np.zeros(new.size, np.intp)
    take[~new] = np.arange(x.shape[ax])         # insertion keeps the old order
    keep = np.where(new, 0.0, 1.0).reshape((-1,) + (1,) * (-ax - 1))

    def ft(c):
        return np.take(c, take, axis=ax) * keep
    return _lin(x, lambda c: np.insert(c, obj, vals, axis=ax), ft)


def _insert_dual(x, obj, values, axis):
    # Dual values: NumPy's own insert on integer labels (x's entries, then the
    # values') says which entry lands where -- broadcasting included -- and the
    # result gathers them from one flat array
    if axis is None:
        x, axis = _reshape(x, (-1,)), 0
    lab = np.arange(x.size).reshape(x.shape)
    vlab = x.size + np.arange(values.size).reshape(values.shape)
    where = np.insert(lab, obj, vlab, axis=axis)
    flat = _concatenate([_reshape(x, (-1,)), _reshape(values, (-1,))], 0)
    return _reshape(_getitem(flat, (where.ravel(),)), where.shape)


def _h_delete(arr, obj, axis=None):
    x = _x(arr, "delete")
    if axis is None:
        x, axis = _reshape(x, (-1,)), 0
    ax = _ax(axis, len(x.shape))
    f = lambda c: np.delete(c, obj, axis=ax)      # noqa: E731
    return _lin(x, f, f, True)


def _split(x, indices_or_sections, axis, fname, equal):
    nd = len(x.shape)
    ax = _ax(axis, nd)
    n = x.shape[ax]
    tail = (_ALL,) * (-ax - 1)
    if isinstance(indices_or_sections, numbers.Integral):
        # the pieces' sizes, as NumPy computes them for the values
        split = np.split if equal else np.array_split
        sizes = [len(p) for p in split(np.arange(n), indices_or_sections)]
        bounds = np.concatenate([[0], np.cumsum(sizes)]).astype(int).tolist()
    else:
        # explicit indices: Python's slice rules, as NumPy applies them
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return [_getitem(x, (Ellipsis, slice(bounds[i], bounds[i + 1])) + tail)
            for i in range(len(bounds) - 1)]


def _h_split(ary, indices_or_sections, axis=0):
    return _split(_x(ary, "split"), indices_or_sections, axis, "split", True)


def _h_array_split(ary, indices_or_sections, axis=0):
    return _split(_x(ary, "array_split"), indices_or_sections, axis, "array_split", False)


def _h_hsplit(ary, indices_or_sections):
    x = _x(ary, "hsplit")
    if len(x.shape) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return _split(x, indices_or_sections, 1 if len(x.shape) > 1 else 0, "hsplit", True)


def _h_vsplit(ary, indices_or_sections):
    x = _x(ary, "vsplit")
    if len(x.shape) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return _split(x, indices_or_sections, 0, "vsplit", True)


def _h_dsplit(ary, indices_or_sections):
    x = _x(ary, "dsplit")
    if len(x.shape) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return _split(x, indices_or_sections, 2, "dsplit", True)


def _h_rollaxis(a, axis, start=0):
    x = _x(a, "rollaxis")
    nd = len(x.shape)
    # the permutation, read off NumPy's own rule on a shape of distinct sizes
    perm = [n - 1 for n in np.rollaxis(np.empty(tuple(range(1, nd + 1)), bool),
                                       axis, start).shape]
    return _transpose(x, tuple(perm))


def _h_resize(a, new_shape):
    x = _x(a, "resize")
    new_shape = (new_shape,) if isinstance(new_shape, numbers.Integral) else tuple(new_shape)
    total = int(np.prod(new_shape))
    if x.size == 0 or total == 0:
        return np.zeros(new_shape)
    # NumPy repeats the flat array cyclically
    idx = np.arange(total) % x.size
    return _reshape(_getitem(_reshape(x, (-1,)), (idx,)), new_shape)


def _h_compress(condition, a, axis=None, out=None):
    if out is not None:
        raise TypeError("numpy.compress on DualArray: out= is not supported")
    x = _x(a, "compress")
    cond = np.asarray(_inner_operand(condition), dtype=bool)
    if axis is None:
        x, axis = _reshape(x, (-1,)), 0
    ax = _ax(axis, len(x.shape))
    f = lambda c: np.compress(cond, c, axis=ax)      # noqa: E731
    return _lin(x, f, f, True)


def _h_extract(condition, arr):
    x = _reshape(_x(arr, "extract"), (-1,))
    cond = np.ravel(np.asarray(_inner_operand(condition)))
    return _getitem(x, (np.nonzero(cond)[0],))


def _h_choose(a, choices, out=None, mode="raise"):
    if out is not None or mode != "raise":
        raise TypeError("numpy.choose on DualArray: out= and mode= are not supported")
    if isinstance(a, (DualArray, Dual)):
        raise TypeError("numpy.choose: the index array must hold integers, not a DualArray")
    idx = np.asarray(a)
    if idx.dtype.kind not in "iu":
        raise TypeError("numpy.choose: the index array must hold integers")
    cs = [_x(c, "choose") for c in choices]
    if idx.size and (idx.min() < 0 or idx.max() >= len(cs)):
        raise ValueError("invalid entry in choice array")
    r = cs[0]
    for i in range(1, len(cs)):
        r = _where(idx == i, cs[i], r)
    return _copy(_bc(r, _bshape(r.shape, idx.shape))) if r.shape != idx.shape else r


def _h_select(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    r = _x(default, "select")
    # the first true condition wins: apply them last to first
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        c = np.asarray(_inner_operand(cond))
        if c.dtype != bool:
            raise TypeError("invalid entry in condlist: should be boolean ndarray")
        r = _where(c, _x(choice, "select"), r)
    return r


def _h_block(arrays):
    def depth(o):
        return 1 + depth(o[0]) if isinstance(o, list) else 0

    def arrays_in(o):
        return [e for x in o for e in arrays_in(x)] if isinstance(o, list) else [o]
    d = depth(arrays)
    items = [_x(e, "block") for e in arrays_in(arrays)]
    nd = max([d] + [len(e.shape) for e in items])

    def build(o, level):
        if not isinstance(o, list):
            e = _x(o, "block")
            return _reshape(e, (1,) * (nd - len(e.shape)) + e.shape)
        if not o:
            raise ValueError("numpy.block: lists cannot be empty")
        return _concatenate([build(e, level + 1) for e in o], level - d)
    return build(arrays, 0) if d else _x(arrays, "block")


def _h_fill_diagonal(a, val, wrap=False):
    # in place, as NumPy: the positions NumPy writes, then an item assignment
    if type(a) is not DualArray:
        raise TypeError("numpy.fill_diagonal: a must be a DualArray to hold a dual val")
    mark = np.zeros(a.shape)
    np.fill_diagonal(mark, 1.0, wrap)
    pos = np.nonzero(mark)
    n = pos[0].size
    v = _x(val, "fill_diagonal")
    _setitem(a, pos, _h_resize(v, (n,)) if v.shape != () else v)


def _h_put(a, ind, v, mode="raise"):
    if type(a) is not DualArray:
        raise TypeError("numpy.put: a must be a DualArray to hold a dual v")
    if mode != "raise":
        raise TypeError("numpy.put on DualArray: mode= is not supported")
    ind = np.ravel(np.asarray(ind))
    pos = np.unravel_index(ind % a.size if ind.size else ind, a.shape) if ind.size else None
    if pos is None:
        return
    if ind.min() < -a.size or ind.max() >= a.size:
        raise IndexError("index out of range for array")
    vv = _x(v, "put")
    _setitem(a, pos, _h_resize(vv, (ind.size,)) if vv.shape != () else vv)


def _h_put_along_axis(arr, indices, values, axis):
    if type(arr) is not DualArray:
        raise TypeError("numpy.put_along_axis: arr must be a DualArray to hold dual values")
    if axis is None:
        raise TypeError("numpy.put_along_axis on DualArray: axis=None is not supported")
    nd = len(arr.shape)
    ax = _norm_axis(axis, nd)
    idx = np.asarray(indices)
    if idx.ndim != nd:
        raise ValueError("`indices` and `arr` must have the same number of dimensions")
    full = tuple(idx if i == ax else np.arange(n).reshape(
        (1,) * i + (n,) + (1,) * (nd - i - 1)) for i, n in enumerate(arr.shape))
    shape = np.broadcast_shapes(*[f.shape for f in full])
    vv = _x(values, "put_along_axis")
    _setitem(arr, full, _bc(vv, shape) if vv.shape != shape else vv)


def _atleast(x, n):
    s = x.shape
    if len(s) >= n:
        return x
    if n == 2:
        return _reshape(x, (1,) * (2 - len(s)) + s)
    return _reshape(x, {0: (1, 1, 1), 1: (1,) + s + (1,), 2: s + (1,)}[len(s)])


def _h_atleast_2d(*arys):
    r = [_atleast(_x(a, "atleast_2d"), 2) for a in arys]
    return r[0] if len(r) == 1 else tuple(r)


def _h_atleast_3d(*arys):
    r = [_atleast(_x(a, "atleast_3d"), 3) for a in arys]
    return r[0] if len(r) == 1 else tuple(r)


def _h_column_stack(tup):
    items = [_x(a, "column_stack") for a in tup]
    items = [_reshape(a, (-1, 1)) if len(a.shape) < 2 else a for a in items]
    return _concatenate(items, 1)


def _h_dstack(tup):
    return _concatenate([_atleast(_x(a, "dstack"), 3) for a in tup], 2)


def _h_meshgrid(*xi, copy=True, sparse=False, indexing="xy"):
    if indexing not in ("xy", "ij"):
        raise ValueError("Valid values for `indexing` are 'xy' and 'ij'.")
    xs = [_reshape(_x(a, "meshgrid"), (-1,)) for a in xi]
    nd = len(xs)
    shapes = []
    for i in range(nd):
        s = [1] * nd
        s[i] = -1
        if indexing == "xy" and nd > 1 and i < 2:
            s[0], s[1] = s[1], s[0]
        shapes.append(tuple(s))
    out = [_reshape(a, s) for a, s in zip(xs, shapes)]
    if not sparse:
        full = ()
        for o in out:
            full = _bshape(full, o.shape)
        out = [_copy(_bc(o, full)) for o in out]
    return tuple(out)


def _h_broadcast_arrays(*args, subok=False):
    xs = [_x(a, "broadcast_arrays") for a in args]
    s = ()
    for o in xs:
        s = _bshape(s, o.shape)
    return tuple(_broadcast_to(o, s) for o in xs)


def _h_rot90(m, k=1, axes=(0, 1)):
    x = _x(m, "rot90")
    nd = len(x.shape)
    ax = tuple(_ax(a, nd) for a in axes)
    f = lambda c: np.rot90(c, k, ax)      # noqa: E731
    return _lin(x, f, f)


def _h_flipud(m):
    x = _x(m, "flipud")
    if len(x.shape) < 1:
        raise ValueError("Input must be >= 1-d.")
    return _h_flip(x, 0)


def _h_fliplr(m):
    x = _x(m, "fliplr")
    if len(x.shape) < 2:
        raise ValueError("Input must be >= 2-d.")
    return _h_flip(x, 1)


def _h_tril(m, k=0):
    x = _x(m, "tril")
    if len(x.shape) < 2:
        raise TypeError("numpy.tril on DualArray: input must be at least 2-d")
    f = lambda c: np.tril(c, k)      # noqa: E731  (the last two axes, at every depth)
    return _lin(x, f, f, True)


def _h_triu(m, k=0):
    x = _x(m, "triu")
    if len(x.shape) < 2:
        raise TypeError("numpy.triu on DualArray: input must be at least 2-d")
    f = lambda c: np.triu(c, k)      # noqa: E731
    return _lin(x, f, f, True)


def _h_diagflat(v, k=0):
    return _h_diag(_reshape(_x(v, "diagflat"), (-1,)), k)


def _h_cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    x, y = _x(a, "cross"), _x(b, "cross")
    if axis is not None:
        axisa = axisb = axisc = axis
    if axisa not in (-1, len(x.shape) - 1):
        x = np.moveaxis(x, axisa, -1)
    if axisb not in (-1, len(y.shape) - 1):
        y = np.moveaxis(y, axisb, -1)
    if x.shape[-1] != 3 or y.shape[-1] != 3:
        raise TypeError("numpy.cross on DualArray: only 3-vectors are supported")

    # NumPy's components (a1 b2 - a2 b1, a2 b0 - a0 b2, a0 b1 - a1 b0), by
    # the operators and np.stack (their C paths where they apply)
    x0, x1, x2 = x[..., 0], x[..., 1], x[..., 2]
    y0, y1, y2 = y[..., 0], y[..., 1], y[..., 2]
    r = np.stack([x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0], axis=-1)
    return r if axisc in (-1, len(r.shape) - 1) else np.moveaxis(r, -1, axisc)


def _h_kron(a, b):
    x, y = _x(a, "kron"), _x(b, "kron")
    nd = max(len(x.shape), len(y.shape))
    sa = (1,) * (nd - len(x.shape)) + x.shape
    sb = (1,) * (nd - len(y.shape)) + y.shape
    # interleave: a's axis i before b's axis i, then merge the pairs
    xa = _reshape(x, tuple(n for s in sa for n in (s, 1)))
    yb = _reshape(y, tuple(n for s in sb for n in (1, s)))
    return _reshape(_ew_binary("multiply", xa, yb), tuple(p * q for p, q in zip(sa, sb)))


def _h_multi_dot(arrays, *, out=None):
    if out is not None:
        raise TypeError("numpy.linalg.multi_dot on DualArray: out= is not supported")
    xs = [_x(a, "linalg.multi_dot") for a in arrays]
    if len(xs) < 2:
        raise ValueError("Expecting at least two arrays.")
    r = xs[0]
    for o in xs[1:]:
        r = _matmul(r, o)
    return r


def _h_matrix_power(a, n):
    x = _x(a, "linalg.matrix_power")
    n = operator.index(n)
    if len(x.shape) < 2 or x.shape[-1] != x.shape[-2]:
        raise ValueError("numpy.linalg.matrix_power: input must be a stack of square "
                         "matrices")
    if n == 0:
        return np.broadcast_to(np.eye(x.shape[-1]), x.shape).copy()
    if n < 0:
        x, n = _inv(x), -n
    # binary powering, as NumPy does
    result = z = None
    while n > 0:
        z = x if z is None else _matmul(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else _matmul(result, z)
    return result


def _h_linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0,
                *, device=None):
    # NumPy's own formula: start + arange(num) * step, the last sample = stop
    if dtype not in (None, float, _f64, np.dtype(_f64)):
        raise TypeError("numpy.linspace on DualArray: only dtype float64 (a derivative "
                        "is a real number)")
    num = operator.index(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    a, b = _x(start, "linspace"), _x(stop, "linspace")
    div = (num - 1) if endpoint else num
    shape = _bshape(a.shape, b.shape)
    idx = np.arange(num, dtype=_f64).reshape((-1,) + (1,) * len(shape))
    delta = _ew_binary("subtract", b, a)
    if div > 0:
        step = _ew_binary("divide", delta, _operand(np.array(float(div))))
        y = _ew_binary("add", _ew_binary("multiply", _operand(idx), step), a)
    else:
        step = _ew_binary("multiply", delta, _operand(np.array(np.nan)))
        y = _ew_binary("add", _ew_binary("multiply", _operand(idx), delta), a)
    if endpoint and num > 1:
        y = _copy(y) if type(y) is DualArray else y
        if type(y) is DualArray:
            _setitem(y, -1, _broadcast_to(b, shape) if type(b) is DualArray else b)
        else:
            y[-1] = b
    if axis != 0:
        y = _moveaxis(y, 0, axis)
    return (y, step) if retstep else y


def _h_fftshift(x, axes=None):
    a = _x(x, "fft.fftshift")
    axes = tuple(range(len(a.shape))) if axes is None else axes
    if isinstance(axes, numbers.Integral):
        return _h_roll(a, a.shape[axes] // 2, axes)
    return _h_roll(a, tuple(a.shape[ax] // 2 for ax in axes), tuple(axes))


def _h_ifftshift(x, axes=None):
    a = _x(x, "fft.ifftshift")
    axes = tuple(range(len(a.shape))) if axes is None else axes
    if isinstance(axes, numbers.Integral):
        return _h_roll(a, -(a.shape[axes] // 2), axes)
    return _h_roll(a, tuple(-(a.shape[ax] // 2) for ax in axes), tuple(axes))


def _h_imag(val):
    # a real array's imaginary part: zeros, a constant
    return np.zeros(_x(val, "imag").shape)


def _h_angle(z, deg=False):
    # a real number's angle: 0 or pi, piecewise constant
    return np.angle(_inner_operand(_x(z, "angle")), deg)


def _h_real_if_close(a, tol=100):
    return _x(a, "real_if_close")


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ..dual import Dual  # noqa: E402
from ._core import DualArray, _new  # noqa: E402
from ._elementwise import _ew_binary  # noqa: E402
from ._joins import _concatenate  # noqa: E402
from ._linalg import _inv  # noqa: E402
from ._numpy_api import _h_diag, _h_flip  # noqa: E402
from ._reduce import _select_reduce  # noqa: E402
from ._statistics import _h_median  # noqa: E402
from ._operands import _nd  # noqa: E402
from ._operands import _ALL, _bc, _bshape, _f64, _operand, _tag  # noqa: E402
from ._products import _matmul  # noqa: E402
from ._joins import _where  # noqa: E402
from ._operands import _inner_operand  # noqa: E402
from ._shape import (_broadcast_to, _copy, _getitem, _lin, _moveaxis, _neg_axes,  # noqa: E402
                     _norm_axis, _reshape, _setitem, _transpose)
