"""Statistics and ordering: var, std, average, ptp, cumprod, sort, quantiles,
and their nan* forms.

Design
------
Nothing here has a derivative formula of its own: each function is a
composition of the existing rules (``_ew_binary``, the reductions) or a
selection whose indices come from the innermost values (sort and the
quantiles take the elements NumPy selects, then a linear map with constant
interpolation weights), so the rule table stays the one source of truth and
hessian and nested levels work wherever the parts do.  Keywords that are
not implemented raise a TypeError naming them.
"""
import math
import operator

import numpy as np


def _reject(fname, **kw):
    for v in kw.values():               # (a plain loop: called on every sort, var, ...)
        if v is not None and v is not False:
            bad = sorted(k for k, v in kw.items() if v is not None and v is not False)
            raise TypeError(f"numpy.{fname} on DualArray: unsupported arguments {bad}")


def _check_dtype(dtype, fname):
    if dtype not in (None, float, _f64, np.dtype(_f64)):
        raise TypeError(f"numpy.{fname} on DualArray: only dtype float64 (got {dtype!r})")


def _count(x, axis):
    return math.prod([x.shape[a] for a in _neg_axes(axis, len(x.shape))])


def _var(x, axis=None, keepdims=False, ddof=0, where=True, mean=None):
    # the squared deviations' mean, as NumPy computes it (no one-pass formula);
    # where= drops entries (zero derivative), mean= is the caller's mean
    if where is True and mean is None and type(x) is DualArray:
        # the same calls through the operators and methods, which take the
        # core's C paths where they apply (a 0-d mean broadcasts as the
        # keepdims one: the same values)
        m = x.mean() if axis is None else x.mean(axis, keepdims=True)
        dev = x - m
        s = (dev * dev).sum(axis, keepdims)
        return s / np.asarray(np.maximum(float(_count(x, axis)) - ddof, 0.0), _f64)
    if where is True:
        w, n = None, np.array(float(_count(x, axis)))
    else:
        w = np.broadcast_to(np.asarray(_inner_operand(where), dtype=bool), x.shape)
        n = np.asarray(np.sum(w, axis=axis, keepdims=keepdims), _f64)
    if mean is not None:
        m = _operand(mean, "numpy.var")
    elif w is None:
        m = _mean(x, axis, True)
    else:
        # NumPy's: the masked sums (masked entries skipped), over the count
        cnt = np.asarray(np.sum(w, axis=axis, keepdims=True), _f64)
        m = _ew_binary("divide", _masked_sum(x, axis, True, w), cnt)
    dev = _ew_binary("subtract", x, m)
    sq = _ew_binary("multiply", dev, dev)
    s = _sum(sq, axis, keepdims) if w is None else _masked_sum(sq, axis, keepdims, w)
    return _ew_binary("divide", s, np.asarray(np.maximum(n - ddof, 0.0), _f64))


def _h_var(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
           mean=None, correction=None):
    _reject("var", out=out)
    _check_dtype(dtype, "var")
    if correction is not None:
        ddof = correction
    return _var(_operand(a, "numpy.var"), axis, keepdims, ddof, where, mean)


def _h_std(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=True,
           mean=None, correction=None):
    _reject("std", out=out)
    _check_dtype(dtype, "std")
    if correction is not None:
        ddof = correction
    return np.sqrt(_var(_operand(a, "numpy.std"), axis, keepdims, ddof, where, mean))


def _h_average(a, axis=None, weights=None, returned=False, *, keepdims=False):
    x = _operand(a, "numpy.average")
    if weights is None:
        # (the method: the core's C paths where they apply)
        avg = x.mean(axis, keepdims) if type(x) is DualArray else _mean(x, axis, keepdims)
        if not returned:
            return avg
        n = np.array(float(_count(x, axis)))
        return avg, np.broadcast_to(n, avg.shape).copy()
    w = _operand(weights, "numpy.average")
    if w.shape != x.shape:
        if axis is None:
            raise TypeError("numpy.average: axis must be given when weights and a differ "
                            "in shape")
        if len(w.shape) != 1 or isinstance(axis, tuple):
            raise ValueError("numpy.average: 1D weights expected when shapes of a and "
                             "weights differ")
        nd = len(x.shape)
        ax = _norm_axis(axis, nd)
        if w.shape[0] != x.shape[ax]:
            raise ValueError("numpy.average: length of weights not compatible with "
                             "specified axis")
        w = _reshape(w, tuple(w.shape[0] if i == ax else 1 for i in range(nd)))
        w = _bc(w, x.shape)
    scl = _sum(w, axis, keepdims)
    avg = _ew_binary("divide", _sum(_ew_binary("multiply", x, w), axis, keepdims), scl)
    if not returned:
        return avg
    return avg, scl if scl.shape == avg.shape else _copy(_bc(scl, avg.shape))


def _h_ptp(a, axis=None, out=None, keepdims=False):
    _reject("ptp", out=out)
    x = _operand(a, "numpy.ptp")
    if type(x) is DualArray:
        # the methods' C paths first (the same selections, their bits)
        return _ew_binary("subtract", x.max(axis=axis, keepdims=keepdims),
                          x.min(axis=axis, keepdims=keepdims))
    return _ew_binary("subtract", _select_reduce(x, axis, keepdims, np.argmax, "max"),
                      _select_reduce(x, axis, keepdims, np.argmin, "min"))


_OPERATORS = {"multiply": operator.mul, "add": operator.add, "subtract": operator.sub,
              "divide": operator.truediv, "true_divide": operator.truediv}


def _accumulate(x, axis, name):
    """ufunc.accumulate of a binary rule along axis, by the rule slice by slice."""
    nd = len(x.shape)
    ax = _norm_axis(axis, nd) - nd
    if name == "multiply" and x.shape[ax] > 0:
        # (in C for a first-order contiguous x: the same rule, slice by slice)
        r = _cumprod(x, nd + ax)
        if r is not NotImplemented:
            return r
    return _accumulate_slices(x, ax, name)


def _accumulate_slices(x, ax, name):
    # the accumulation written with slices (ax counted from the end)
    nd = len(x.shape)
    n = x.shape[ax]
    if n == 0:
        return _copy(x)
    tail = (_ALL,) * (-ax - 1)
    if type(x) is DualArray:
        # the operator (or ufunc) and basic slicing: the core's C paths, the
        # same rule
        uf = _OPERATORS.get(name) or getattr(np, name)
        r = x[(Ellipsis, slice(0, 1)) + tail]
        parts = [r]
        for i in range(1, n):
            r = uf(r, x[(Ellipsis, slice(i, i + 1)) + tail])
            parts.append(r)
        return np.concatenate(parts, nd + ax)
    r = _getitem(x, (Ellipsis, slice(0, 1)) + tail)
    parts = [r]
    for i in range(1, n):
        r = _ew_binary(name, r, _getitem(x, (Ellipsis, slice(i, i + 1)) + tail))
        parts.append(r)
    return _concatenate(parts, ax)


def _h_cumprod(a, axis=None, dtype=None, out=None):
    _reject("cumprod", out=out)
    _check_dtype(dtype, "cumprod")
    x = _operand(a, "numpy.cumprod")
    if axis is None:
        x, axis = _reshape(x, (-1,)), 0
    if type(x) is _nd:
        return np.cumprod(x, axis=axis)
    return _accumulate(x, axis, "multiply")


def _h_sort(a, axis=-1, kind=None, order=None, *, stable=None):
    _reject("sort", order=order)
    x = _operand(a, "numpy.sort")
    if axis is None:
        x, axis = _reshape(x, (-1,)), -1
    if type(x) is _nd:
        return np.sort(x, axis=axis)
    nd = len(x.shape)
    ax = _norm_axis(axis, nd) - nd
    # stable: ties keep their order, so the derivative is that of NumPy's choice
    # (the method: np.argsort's Python dispatch costs twice the sort of 10)
    idx = _inner(x).argsort(axis=ax, kind="stable")
    if nd == 1:
        return x[idx]                               # (indexing's C path)
    f = lambda c: np.take_along_axis(c, _bc_lead(idx, c.ndim), axis=ax)     # noqa: E731
    return _lin(x, f, f)


def _h_partition(a, kth, axis=-1, kind="introselect", order=None):
    # the elements NumPy's partition contract fixes, value and derivative
    # alike: the permutation comes from argpartition of the values
    _reject("partition", order=order)
    x = _operand(a, "numpy.partition")
    if axis is None:
        x, axis = _reshape(x, (-1,)), -1
    if type(x) is _nd:
        return np.partition(x, kth, axis=axis)
    nd = len(x.shape)
    ax = _norm_axis(axis, nd) - nd
    idx = _inner(x).argpartition(kth, axis=ax)
    f = lambda c: np.take_along_axis(c, _bc_lead(idx, c.ndim), axis=ax)     # noqa: E731
    return _lin(x, f, f)


_QMETHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _nan_like(r):
    # NaN values with NaN tangents (a product with NaN would keep a zero
    # tangent zero, dualml's convention for constants)
    if type(r) is DualArray and type(r._v) is _nd and type(r._d) is _nd:
        return _new(np.full(r._v.shape, np.nan), np.full(r._d.shape, np.nan), r._tag, r._o2)
    return _ew_binary("multiply", _operand(r), np.array(np.nan))


def _sorted_slices(x, axis, fname, skip_nan):
    """x with the reduced axes last, merged into one and sorted (NaN last);
    the sorted values, the kept and the keepdims shapes, and the count of
    entries per slice (with skip_nan, each slice's non-NaN ones, at least 1:
    an all-NaN slice selects its first entry, NaN, as NumPy returns)."""
    nd = len(x.shape)
    axes = _neg_axes(axis, nd)
    keep_shape = tuple(1 if i - nd in axes else n for i, n in enumerate(x.shape))
    rest = tuple(n for i, n in enumerate(x.shape) if i - nd not in axes)
    last = tuple(range(-len(axes), 0))
    if tuple(sorted(axes)) != last:
        x = _moveaxis(x, axes, last)
    if len(axes) != 1:
        x = _reshape(x, rest + (-1,))
    n = x.shape[-1]
    if n == 0:
        raise ValueError(f"numpy.{fname}: empty reduction")
    xs = _h_sort(x, -1)
    sv = np.asarray(_inner(xs))
    if skip_nan:
        m = np.maximum((~np.isnan(sv)).sum(axis=-1), 1)[..., None]
    else:
        m = np.full(rest + (1,), n)
    return xs, sv, rest, keep_shape, m


def _pick(c, idx):
    # c's entries at idx (rest + (j,)) along the last axis, c's leading
    # (tangent) axes kept; one slice (rest ()) by basic indexing, a view
    if idx.ndim == 1:
        if idx.size == 1:
            i = int(idx[0])
            return c[..., i:i + 1]
        return c[..., idx]
    return np.take_along_axis(c, _bc_lead(idx, c.ndim), axis=-1)


def _quantile(x, q, axis, keepdims, method, fname, skip_nan=False):
    """Quantiles q (fractions) along axis: the sorted elements NumPy selects,
    combined as NumPy's quantile combines them (its virtual index, bounds and
    weights, and its _lerp: a + (b - a) g, or b - (b - a) (1 - g) where
    g >= 0.5), a linear map of the two elements with constant weights;
    with skip_nan, each slice counts its own non-NaN entries, which sort
    first (NumPy's nanquantile drops the NaNs of each slice)."""
    if method not in _QMETHODS:
        raise TypeError(f"numpy.{fname} on DualArray: method={method!r} is not supported "
                        f"(supported: {', '.join(_QMETHODS)})")
    q = np.asarray(q, dtype=_f64)
    if np.any((q < 0) | (q > 1)) or np.any(np.isnan(q)):
        raise ValueError(f"numpy.{fname}: quantiles must be in the range [0, 1] "
                         f"(percentiles in [0, 100])")
    xs, sv, rest, keep_shape, m = _sorted_slices(x, axis, fname, skip_nan)
    qf = q.reshape(-1)
    virtual = (m - 1) * qf                      # rest + (q entries,)
    g = None
    if method == "lower":
        lo = hi = np.floor(virtual)
    elif method == "higher":
        lo = hi = np.ceil(virtual)
    elif method == "nearest":
        lo = hi = np.around(virtual)            # NumPy rounds half to even here
    else:
        if method == "midpoint":
            virtual = 0.5 * (np.floor(virtual) + np.ceil(virtual))
        lo = np.floor(virtual)
        hi = lo + 1
        last = np.broadcast_to(m - 1, virtual.shape)
        above = virtual >= last
        lo = np.where(above, last, lo)
        hi = np.where(above, last, hi)
        # the weight from NumPy's adjusted index (-1 for the last entry:
        # virtual + 1 above the bounds, where both ends are one element)
        g = virtual - np.where(above, -1.0, lo)
        if method == "midpoint":
            g = np.where(virtual % 1 == 0, 0.0, 0.5)
    lo, hi = lo.astype(np.intp), hi.astype(np.intp)
    nq, nr = q.ndim, len(rest)

    def f(c):
        a = _pick(c, lo)
        if g is None:
            r = a
        else:
            b = _pick(c, hi)
            diff = b - a
            r = np.where(g >= 0.5, b - diff * (1 - g), a + diff * g)
        r = r.reshape(r.shape[:-1] + q.shape)
        # (..., rest, q) -> (..., q, rest): NumPy puts the quantile axes first
        return np.moveaxis(r, tuple(range(-nq, 0)), tuple(range(-(nr + nq), -nr)))

    r = _lin(xs, f, f, arith=True)
    if not skip_nan:
        r = _nan_slices(r, sv, q.shape + rest)
    if keepdims:
        r = _reshape(r, q.shape + keep_shape)
    return r


def _nan_slices(r, sv, shape):
    # NumPy's answer for a slice holding a NaN (sorted last): NaN, whose
    # derivative is NaN too
    nan = np.isnan(sv[..., -1])
    if nan.any():
        r = _where(np.broadcast_to(nan, shape), _nan_like(r), r)
    return r


def _median(x, axis, keepdims, fname, skip_nan=False):
    """np.median: NumPy's mean of the middle element or the middle two of
    each sorted slice ((0.0 + a) / 1, or (0.0 + a + b) / 2: its bits; inf
    stays inf); with skip_nan, of each slice's non-NaN entries."""
    if not (skip_nan or keepdims) and type(x) is DualArray and len(x.shape) == 1 \
            and (axis is None or (type(axis) is int and axis in (0, -1))):
        r = _median_vector(x)
        if r is not None:
            return r
    xs, sv, rest, keep_shape, m = _sorted_slices(x, axis, fname, skip_nan)
    lo, hi = (m - 1) // 2, m // 2
    odd = (m % 2 == 1)

    def f(c):
        # (NumPy's mean adds to 0.0 first: a -0.0 median is +0.0)
        a = 0.0 + _pick(c, lo)
        b = _pick(c, hi)
        return np.where(odd, a, (a + b) / 2.0)[..., 0]

    r = _lin(xs, f, f, arith=True)
    if not skip_nan:
        r = _nan_slices(r, sv, rest)
    if keepdims:
        r = _reshape(r, keep_shape)
    return r


def _median_vector(x):
    # _median of a first-order vector with no NaN, the same elements (the
    # stable sort's middle ones) and the same arithmetic on each component,
    # without the general slices; None otherwise
    v = x._v
    if type(v) is not _nd or x._o2 is not None or v.size == 0:
        return None
    idx = v.argsort(kind="stable")
    n = v.size
    i, j = idx[(n - 1) // 2], idx[n // 2]
    if np.isnan(v[idx[n - 1]]) or (n % 2 == 0 and v[i] == -math.inf and v[j] == math.inf):
        return None                     # (NaN sorts last: _nan_slices' rule; inf - inf: _lin's)
    d = x._d
    if n % 2:
        return _new(np.asarray(0.0 + v[i]), 0.0 + d[:, i], x._tag, None)
    return _new(np.asarray((0.0 + v[i] + v[j]) / 2.0), (0.0 + d[:, i] + d[:, j]) / 2.0,
                x._tag, None)


def _h_quantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                keepdims=False, *, weights=None, interpolation=None):
    _reject("quantile", out=out, weights=weights, interpolation=interpolation)
    return _quantile(_operand(a, "numpy.quantile"), q, axis, keepdims, method, "quantile")


def _h_percentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                  keepdims=False, *, weights=None, interpolation=None):
    _reject("percentile", out=out, weights=weights, interpolation=interpolation)
    return _quantile(_operand(a, "numpy.percentile"), np.asarray(q, dtype=_f64) / 100,
                     axis, keepdims, method, "percentile")


def _h_median(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    _reject("median", out=out)
    return _median(_operand(a, "numpy.median"), axis, keepdims, "median")


def _h_nanquantile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                   keepdims=False, *, weights=None, interpolation=None):
    _reject("nanquantile", out=out, weights=weights, interpolation=interpolation)
    return _quantile(_operand(a, "numpy.nanquantile"), q, axis, keepdims, method,
                     "nanquantile", True)


def _h_nanpercentile(a, q, axis=None, out=None, overwrite_input=False, method="linear",
                     keepdims=False, *, weights=None, interpolation=None):
    _reject("nanpercentile", out=out, weights=weights, interpolation=interpolation)
    return _quantile(_operand(a, "numpy.nanpercentile"), np.asarray(q, dtype=_f64) / 100,
                     axis, keepdims, method, "nanpercentile", True)


def _h_nanmedian(a, axis=None, out=None, overwrite_input=False, keepdims=False):
    _reject("nanmedian", out=out)
    return _median(_operand(a, "numpy.nanmedian"), axis, keepdims, "nanmedian", True)


# The nan* reductions: a NaN entry is replaced by the reduction's neutral
# constant (zero derivative there), as NumPy treats it.

def _no_nan(x, fill):
    v = np.asarray(_inner(x))
    nan = np.isnan(v)
    return (x if not nan.any() else _where(nan, np.full(v.shape, fill), x)), ~nan


def _h_nansum(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    _reject("nansum", out=out)
    _check_dtype(dtype, "nansum")
    x, _ = _no_nan(_operand(a, "numpy.nansum"), 0.0)
    return _reduce_kw(x, "add", axis, keepdims, initial, where, "nansum")


def _h_nanprod(a, axis=None, dtype=None, out=None, keepdims=False, initial=None, where=True):
    _reject("nanprod", out=out)
    _check_dtype(dtype, "nanprod")
    x, _ = _no_nan(_operand(a, "numpy.nanprod"), 1.0)
    return _reduce_kw(x, "multiply", axis, keepdims, initial, where, "nanprod")


def _h_nanmax(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    _reject("nanmax", out=out)
    return _reduce_kw(_operand(a, "numpy.nanmax"), "fmax", axis, keepdims, initial, where,
                      "nanmax")


def _h_nanmin(a, axis=None, out=None, keepdims=False, initial=None, where=True):
    _reject("nanmin", out=out)
    return _reduce_kw(_operand(a, "numpy.nanmin"), "fmin", axis, keepdims, initial, where,
                      "nanmin")


def _nanmean(x, axis, keepdims):
    y, ok = _no_nan(x, 0.0)
    cnt = np.asarray(np.sum(ok, axis=axis, keepdims=keepdims), _f64)
    return _ew_binary("divide", _sum(y, axis, keepdims), cnt), ok


def _h_nanmean(a, axis=None, dtype=None, out=None, keepdims=False, *, where=True):
    _reject("nanmean", out=out, where=None if where is True else where)
    _check_dtype(dtype, "nanmean")
    return _nanmean(_operand(a, "numpy.nanmean"), axis, keepdims)[0]


def _nanvar(x, axis, keepdims, ddof):
    m, ok = _nanmean(x, axis, True)
    dev = _where(ok, _ew_binary("subtract", x, m), np.zeros(ok.shape))
    cnt = np.asarray(np.sum(ok, axis=axis, keepdims=keepdims), _f64)
    s = _sum(_ew_binary("multiply", dev, dev), axis, keepdims)
    return _ew_binary("divide", s, np.asarray(np.maximum(cnt - ddof, 0.0), _f64))


def _h_nanvar(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
              mean=None, correction=None):
    _reject("nanvar", out=out, where=None if where is True else where, mean=mean)
    _check_dtype(dtype, "nanvar")
    if correction is not None:
        ddof = correction
    return _nanvar(_operand(a, "numpy.nanvar"), axis, keepdims, ddof)


def _h_nanstd(a, axis=None, dtype=None, out=None, ddof=0, keepdims=False, *, where=None,
              mean=None, correction=None):
    _reject("nanstd", out=out, where=None if where is True else where, mean=mean)
    _check_dtype(dtype, "nanstd")
    if correction is not None:
        ddof = correction
    return _ew_unary("sqrt", _nanvar(_operand(a, "numpy.nanstd"), axis, keepdims, ddof))


def _h_nancumsum(a, axis=None, dtype=None, out=None):
    _reject("nancumsum", out=out)
    _check_dtype(dtype, "nancumsum")
    return _cumsum(_no_nan(_operand(a, "numpy.nancumsum"), 0.0)[0], axis)


def _h_nancumprod(a, axis=None, dtype=None, out=None):
    _reject("nancumprod", out=out)
    return _h_cumprod(_no_nan(_operand(a, "numpy.nancumprod"), 1.0)[0], axis, dtype)


def _cumulative(x, axis, include_initial, fname, kind):
    if axis is None:
        if len(x.shape) > 1:
            raise ValueError(f"numpy.{fname}: axis must be given for arrays of more than "
                             f"one dimension")
        axis = 0
    r = _cumsum(x, axis) if kind == "add" else _h_cumprod(x, axis)
    if include_initial:
        nd = len(x.shape)
        s = list(x.shape)
        s[axis] = 1
        r = _concatenate([np.full(tuple(s), 0.0 if kind == "add" else 1.0), r],
                         _norm_axis(axis, nd))
    return r


def _h_cumulative_sum(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    _reject("cumulative_sum", out=out)
    _check_dtype(dtype, "cumulative_sum")
    return _cumulative(_operand(x, "numpy.cumulative_sum"), axis, include_initial,
                       "cumulative_sum", "add")


def _h_cumulative_prod(x, /, *, axis=None, dtype=None, out=None, include_initial=False):
    _reject("cumulative_prod", out=out)
    _check_dtype(dtype, "cumulative_prod")
    return _cumulative(_operand(x, "numpy.cumulative_prod"), axis, include_initial,
                       "cumulative_prod", "multiply")


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._core import DualArray, _cumprod, _new  # noqa: E402
from ._elementwise import _ew_binary, _ew_unary  # noqa: E402
from ._joins import _concatenate, _where  # noqa: E402
from ._numpy_api import _bc_lead, _reduce_kw  # noqa: E402
from ._operands import _ALL, _bc, _f64, _inner, _inner_operand, _nd, _operand  # noqa: E402
from ._reduce import _cumsum, _masked_sum, _mean, _select_reduce, _sum  # noqa: E402
from ._shape import (_copy, _getitem, _lin, _moveaxis, _neg_axes, _norm_axis,  # noqa: E402
                     _reshape)
