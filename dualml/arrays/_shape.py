"""Structural (linear) operations: indexing, assignment, reshapes, axes.

Design
------
A linear map of the values is the same map of every tangent row, so each
operation is written once as a pair of maps (``_lin``) applied recursively
to nested components; the maps use negative axes or a leading slice for
the direction axis, so one map works at every depth.  A map that copies
may run once over a small array's (k + 1, ...) block of values and rows
(``block``); a map that adds (sums, differences) gives nan tangents where
it makes a nan of inputs that are not nan, the elementwise rules'
domain-error convention (``arith``, ``_domain_nans``).  Item assignment
follows NumPy's semantics (views see the write) and refuses writes through
read-only views of a seed or a broadcast, which would silently drop
derivatives.
"""
import numbers
import operator

import numpy as np

from ._core import DualArray, _has_nan, _lin_block, _new


def _arr(r):
    # NumPy reductions return scalars; components are always ndarrays
    return r if type(r) is _nd else np.asarray(r, dtype=_f64)


def _lin(x, fv, ft, block=False, arith=False):
    """Apply a linear map: fv to the value component, ft to the tangent rows.

    block (fv is ft, a map that copies, selects or subtracts elements):
    True when its output is no larger than its input, else the output's
    size; a small first-order x is then mapped in one call over its
    (k + 1, ...) block, the same bits as the two calls (_core._lin_block).
    arith: the map adds or scales its inputs (sums, differences), so it
    can make a nan of inputs that are not nan (inf - inf): the result's
    tangents are nan there (_domain_nans)."""
    if type(x) is _nd:
        return _arr(fv(x))
    r = NotImplemented
    if block is not False:
        r = _lin_block(x, ft, -1 if block is True else block)
    if r is NotImplemented:
        r = _lin_c(x, fv, ft)
    if arith:
        r = _domain_nans(r, lambda: fv(_nan_marks(x)))
    return r


def _nan_marks(c):
    """c's innermost values as marks: nan where a value is nan, else 0.0 (a
    linear map of the marks is nan exactly where a nan input reaches)."""
    v = _inner(c)
    return np.where(v != v, np.nan, 0.0)


def _domain_nans(r, fed):
    """r: the result of a map that adds or multiplies its inputs (a sum, a
    difference, a product with a matrix); fed(): the same map of the
    inputs' nan marks (_nan_marks).  Where r's value is nan and no nan
    input reaches it -- the map made it: inf - inf, 0 * inf -- r's tangents
    become nan, as an elementwise rule's domain error makes them
    (dual_nanprop in csrc/dual.h): a finite slope of an undefined value
    would be a silently wrong derivative.  A nan input keeps the map of
    the tangents, as it keeps the rules' slopes.  Costs one scan of the
    values when they hold no nan."""
    if type(r) is _nd:
        return r
    dom = _domain_mask(_inner(r), fed)
    return r if dom is None else _mark_nan(r, dom)


def _domain_mask(y, fed):
    """Where the values y are nan and fed() (the map of the inputs' nan
    marks) is not; None where nothing is (the rule of _domain_nans, shared
    with Taylor mode's linear maps)."""
    if not _has_nan(y):
        return None
    dom = np.isnan(y) & ~np.isnan(fed())
    return dom if dom.any() else None


def _mark_nan(r, dom, value=False):
    # r with nan tangents where dom is set (dom broadcasts against the
    # trailing axes), at every level of a nested r; value: its values too
    if type(r) is _nd:
        return np.where(dom, np.nan, r) if value else r
    return _new(_mark_nan(r._v, dom, value), _mark_nan(r._d, dom, True), r._tag, r._o2)


def _lin_c(c, fv, ft):
    # The tangent map of a tangent component is the same map: the maps are
    # written with negative axes or explicit leading slices, so one map works
    # at every nesting depth.
    if type(c) is _nd:
        return _arr(fv(c))
    v = _lin_c(c._v, fv, ft)
    # the value's size says the tangent rows' before they exist (tile,
    # repeat, a broadcast copy can make them far larger than the input's)
    if c._d.shape[0] * v.size >= ROWS_CHECKED:
        check_rows(c._d.shape[0], v.size)
    return _new(v, _lin_c(c._d, ft, ft), c._tag, c._o2)


def _copy(x):
    if type(x) is _nd:
        return x.copy()
    v = _copy(x._v)
    # a copy of a broadcast view can be large
    if x._d.shape[0] * v.size >= ROWS_CHECKED:
        check_rows(x._d.shape[0], v.size)
    return _new(v, _copy(x._d), x._tag, x._o2)


def _norm_index(idx):
    if type(idx) is not tuple:
        idx = (idx,)
    out = []
    for i in idx:
        if type(i) is DualArray:
            raise TypeError("a DualArray cannot be used as an index (index with "
                            "integers, slices or boolean masks of its values)")
        if isinstance(i, list):
            # (an empty list indexes as an empty intp array, as in NumPy)
            i = np.asarray(i) if i else np.empty(0, np.intp)
        out.append(i)
    return tuple(out)


def _getitem(x, idx):
    idx = _norm_index(idx)
    return _getitem_c(x, idx)


def _adv_front(idx):
    """How many dimensions NumPy's advanced indexing puts first, or None.

    When the advanced indices (arrays, and the integers beside them) are
    separated by a slice, Ellipsis or None, NumPy moves the broadcast index
    dimensions to the front of the result -- for the tangent rows too,
    ahead of their direction axis, which must then be moved back.
    """
    if not any(type(e) is _nd for e in idx):
        return None                         # basic indexing: nothing moves
    pos = [i for i, e in enumerate(idx)
           if not (e is None or e is Ellipsis or isinstance(e, slice))]
    if pos[-1] - pos[0] == len(pos) - 1:
        return None                         # adjacent: they stay in place
    return max(1 if (type(e) is _nd and e.dtype == bool) else np.ndim(e)
               for e in (idx[i] for i in pos))


def _rows_first(d, nb):
    # (adv dims..., k, rest) -> (k, adv dims..., rest)
    if type(d) is _nd:
        return np.moveaxis(d, nb, 0)
    return _moveaxis(d, nb, 0)


def _getitem_c(x, idx):
    if type(x) is _nd:
        r = x[idx]
        return r if type(r) is _nd else np.asarray(r)
    v = _getitem_c(x._v, idx)
    d = _getitem_c(x._d, (_ALL,) + idx)
    nb = _adv_front(idx)
    if nb:
        d = _rows_first(d, nb)
    return _new(v, d, x._tag, x._o2)


def _writable(c):
    # own, writable storage for a component (broadcast views are read-only)
    if type(c) is _nd:
        return c if c.flags.writeable else c.copy()
    c._v = _writable(c._v)
    c._d = _writable(c._d)
    return c


def _setitem(x, idx, val):
    idx = _norm_index(idx)
    val = _operand(val, "DualArray item assignment")
    tv = _tag(val)
    if tv > x._tag:
        # the array becomes a dual of the inner tag whose value is the old array
        k = val._d.shape[0]
        old = _new(x._v, x._d, x._tag, x._o2)
        x._v, x._d, x._tag, x._o2 = _copy(old), np.zeros((k,) + x._v.shape), tv, val._o2
    _set_c(x, idx, val)


def _check_assignable(x):
    # A view whose value or tangents are read-only (np.broadcast_to, or a
    # view of the read-only seed dualml passes to f) cannot be written: a
    # private copy would update the values the view shares with its base but
    # not the base's tangents -- a silently wrong derivative.  NumPy raises
    # here too.
    v, d = x._v, x._d
    if type(v) is _nd and v.base is not None and not (
            v.flags.writeable and (type(d) is not _nd or d.flags.writeable)):
        raise ValueError("assignment destination is read-only: this DualArray is a view "
                         "of a read-only array (a broadcast, or of the point dualml "
                         "passes to f); assign into a copy instead (y = x.copy())")


def _set_c(x, idx, val):
    # x: DualArray (mutated in place); val: operand of tag <= x's
    _check_assignable(x)
    x._v = _writable(x._v)
    x._d = _writable(x._d)
    if _tag(val) == x._tag:
        if val._d.shape[0] != x._d.shape[0] or val._o2 != x._o2:
            raise ValueError(f"cannot assign a DualArray with deriv shape {val._d.shape} "
                             f"into one with deriv shape {x._d.shape}")
        vv, vd = val._v, val._d
    else:
        vv, vd = val, None
    x._v = _set_comp(x._v, idx, vv)
    if vd is None:
        x._d = _set_comp(x._d, (_ALL,) + idx, np.zeros(()))
    else:
        target_shape = _getitem_c(x._v, idx).shape
        if vd.shape[1:] != target_shape:
            vd = _bct(vd, target_shape)
        nb = _adv_front(idx)
        if nb:
            # the rows' target puts the advanced dimensions first (_adv_front)
            vd = np.moveaxis(vd, 0, nb) if type(vd) is _nd else _moveaxis(vd, 0, nb)
        x._d = _set_comp(x._d, (_ALL,) + idx, vd)


def _set_comp(c, idx, val):
    """c[idx] = val for a component (ndarray or DualArray); returns the component."""
    if type(c) is _nd:
        if type(val) is _nd:
            c[idx] = val
            return c
        # a dual value goes into a float component: promote the component
        tv = val._tag
        k = val._d.shape[0]
        c = _new(c, np.zeros((k,) + c.shape), tv, val._o2)
        _set_c(c, idx, val)
        return c
    if _tag(val) > c._tag:
        tmp = _new(c._v, c._d, c._tag, c._o2)
        _setitem(tmp, idx, val)
        return tmp
    _set_c(c, idx, val)
    return c


def _reshape(x, shape):
    if type(x) is _nd:
        return x.reshape(shape)
    v = _reshape(x._v, shape)
    return _new(v, _reshape(x._d, (x._d.shape[0],) + v.shape), x._tag, x._o2)


def _resolve_shape(size, shape, fname="reshape"):
    # NumPy's rules for a new shape, -1 included
    shape = tuple(int(operator.index(n)) for n in shape)
    if shape.count(-1) > 1:
        raise ValueError(f"{fname}: can only specify one unknown dimension")
    known = 1
    for n in shape:
        if n != -1:
            if n < 0:
                raise ValueError(f"{fname}: negative dimensions not allowed")
            known *= n
    if -1 in shape:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
        shape = tuple(size // known if n == -1 else n for n in shape)
    elif known != size:
        raise ValueError(f"cannot reshape array of size {size} into shape {shape}")
    return shape


def _reshape_order(x, shape, order="C", fname="reshape"):
    """reshape with NumPy's order: "C", "F" (first index fastest) or "A";
    "K" (memory order) for ravel and flatten (fname) only, as NumPy."""
    if order in ("A", "K"):
        inner = x
        while type(inner) is not _nd:
            inner = inner._v
        if order == "K":
            if fname == "reshape":
                raise ValueError("order 'K' is not permitted for reshaping")
            axes = _k_axes(inner.shape, inner.strides)
            if axes != tuple(range(len(axes))):
                x = _transpose(x, axes)
            order = "C"
        else:
            order = "F" if inner.flags.f_contiguous and not inner.flags.c_contiguous else "C"
    if order == "C":
        return _reshape(x, shape)
    if order != "F":
        orders = "'C', 'F' or 'A'" if fname == "reshape" else "'C', 'F', 'A' or 'K'"
        raise ValueError(f"{fname}: order must be {orders}, got {order!r}")
    if type(x) is _nd:
        return x.reshape(shape, order="F")
    old = len(x.shape)
    new = _resolve_shape(x.size, shape)

    def f(c):
        # the trailing `old` axes of c in F order; leading (direction) axes kept:
        # reverse them, reshape in C order to the reversed shape, reverse back
        lead = c.ndim - old
        r = c.transpose(tuple(range(lead)) + tuple(range(c.ndim - 1, lead - 1, -1)))
        r = r.reshape(c.shape[:lead] + new[::-1])
        return r.transpose(tuple(range(lead)) + tuple(range(r.ndim - 1, lead - 1, -1)))

    return _lin(x, f, f)


def _ravel(x, order="C"):
    """np.ravel / ravel(): as NumPy, a view only where the flattened values
    are contiguous, else a copy (a write to the result never reaches x
    then); order "K" reads the elements in memory order."""
    r = _reshape_order(x, (-1,), order, "ravel")
    inner = r
    while type(inner) is not _nd:
        inner = inner._v
    return r if inner.flags.c_contiguous else _copy(r)


def _k_axes(shape, strides):
    """The axes, outermost first, in the order np.ravel(order='K') reads an
    array of this shape and these strides: NumPy's iterator ordering (an
    insertion sort from the innermost axis by absolute stride, where a zero
    stride, or an axis of length one, compares with nothing; negative
    strides are not flipped).  Checked against NumPy on 40,000 random views
    and broadcasts (tests/test_arrays.py)."""
    nd = len(shape)
    st = [0 if shape[a] == 1 else strides[a] for a in range(nd)]
    perm = list(range(nd - 1, -1, -1))          # innermost first
    for i0 in range(1, nd):
        j0, ipos = perm[i0], i0
        for i1 in range(i0 - 1, -1, -1):
            j1 = perm[i1]
            if st[j0] != 0 and st[j1] != 0:
                if abs(st[j1]) <= abs(st[j0]):
                    break
                ipos = i1
        if ipos != i0:
            perm.insert(ipos, perm.pop(i0))
    return tuple(perm[::-1])


def _transpose(x, axes):
    if type(x) is _nd:
        return x.transpose(axes)
    nd = len(x._v.shape)
    if axes is None:
        axes = tuple(range(nd - 1, -1, -1))
    axes = tuple(_norm_axis(a, nd) for a in axes)
    return _new(_transpose(x._v, axes), _transpose(x._d, (0,) + tuple(a + 1 for a in axes)),
                x._tag, x._o2)


def _norm_axis(a, nd, fname="axis"):
    a = operator.index(a)
    if not -nd <= a < nd:
        raise np.exceptions.AxisError(a, nd)
    return a % nd


def _neg_axes(axis, nd):
    """axis (None/int/tuple) as a tuple of negative axes (valid at every depth)."""
    if axis is None:
        return tuple(range(-nd, 0))
    if not isinstance(axis, tuple):
        axis = (axis,)
    return tuple(_norm_axis(a, nd) - nd for a in axis)


def _swapaxes(x, a, b):
    nd = len(x.shape)
    a, b = _norm_axis(a, nd) - nd, _norm_axis(b, nd) - nd
    return _lin(x, lambda c: np.swapaxes(c, a, b), lambda c: np.swapaxes(c, a, b))


def _moveaxis(x, src, dst):
    nd = len(x.shape)
    src = _neg_axes(src, nd)
    dst = _neg_axes(dst, nd)
    f = lambda c: np.moveaxis(c, src, dst)       # noqa: E731
    return _lin(x, f, f)


def _squeeze(x, axis=None):
    nd = len(x.shape)
    if axis is None:
        axis = tuple(i for i, n in enumerate(x.shape) if n == 1)
    ax = _neg_axes(axis, nd)
    f = lambda c: np.squeeze(c, ax)       # noqa: E731
    return _lin(x, f, f)


def _expand_dims(x, axis):
    nd = len(x.shape)
    if not isinstance(axis, tuple):
        axis = (axis,)
    n = nd + len(axis)
    ax = tuple(_norm_axis(a, n) - n for a in axis)
    if type(x) is DualArray:
        if len(set(ax)) != len(ax):
            raise ValueError("repeated axis")
        # a view with the new axes: the core's reshape (C, views of both)
        it = iter(x.shape)
        return x.reshape(tuple(1 if a - n in ax else next(it) for a in range(n)))
    f = lambda c: np.expand_dims(c, ax)       # noqa: E731
    return _lin(x, f, f)


def _broadcast_to(x, shape):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    shape = tuple(shape)
    if type(x) is _nd:
        return np.broadcast_to(x, shape)
    _bshape(x.shape, shape)
    if _bshape(x.shape, shape) != shape:
        raise ValueError(f"cannot broadcast a DualArray of shape {x.shape} to {shape}")
    return _readonly(_bc(x, shape))


def _readonly(x):
    # broadcast views share memory: writing through them must not be possible
    if type(x) is _nd:
        if x.flags.writeable:
            x = x.view()
            x.flags.writeable = False
        return x
    return _new(_readonly(x._v), _readonly(x._d), x._tag, x._o2)


def _moveaxis0_last(d):
    # (k,) + s -> s + (k,)
    if type(d) is _nd:
        return np.moveaxis(d, 0, -1)
    nd = len(d.shape)
    return _transpose(d, tuple(range(1, nd)) + (0,))


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._budget import ROWS_CHECKED, check_rows  # noqa: E402
from ._operands import _ALL, _bc, _bct, _bshape, _f64, _inner, _nd, _operand, _tag  # noqa: E402
