"""Differences, integration, interpolation, polynomials and convolution.

Design
------
``diff`` is ``x[1:] - x[:-1]`` by the subtract rule, as NumPy computes it.
With constant spacings the others are linear maps, applied to values and
tangent rows alike by NumPy's own function with negative axes (``_lin``,
nan tangents where a sum of non-nan inputs is nan, as the rules give);
where two operands may both carry derivatives (``trapezoid`` with a dual x,
``interp``, ``polyval``, ``convolve``) the function is composed from the
rule table's products and sums, so no derivative formula is written here.
Forms not implemented (a dual spacing for ``gradient``, ``interp(period=)``,
a dual ``xp``) raise a TypeError naming them.
"""
import numpy as np


def _const(v, fname, what):
    if _tag(_operand(v, f"numpy.{fname}")) != 0:
        raise TypeError(f"numpy.{fname} on DualArray: {what} must be constant (a "
                        f"derivative with respect to it is not supported)")
    return v


def _h_diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    x = _operand(a, "numpy.diff")
    nd = len(x.shape)
    if nd == 0:
        raise ValueError("numpy.diff requires input that is at least one dimensional")
    ax = _norm_axis(axis, nd) - nd
    parts = []
    for extra in (prepend, append):
        if extra is np._NoValue:
            parts.append(None)
            continue
        e = _operand(extra, "numpy.diff")
        if len(e.shape) == 0:
            s = list(x.shape)
            s[ax] = 1
            e = _bc(e, tuple(s))
        parts.append(e)
    if parts[0] is not None or parts[1] is not None:
        x = _concatenate([p for p in (parts[0], x, parts[1]) if p is not None], ax)
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    # x[1:] - x[:-1] along the axis, n times, as NumPy computes it: by the
    # subtract rule (inf - inf: nan tangents, as written out by hand) and
    # the core's C paths (views, one subtraction)
    tail = (_ALL,) * (-ax - 1)
    hi, lo = (Ellipsis, slice(1, None)) + tail, (Ellipsis, slice(None, -1)) + tail
    for _ in range(n):
        x = x[hi] - x[lo]
    return x


def _h_ediff1d(ary, to_end=None, to_begin=None):
    x = _h_diff(_reshape(_operand(ary, "numpy.ediff1d"), (-1,)))
    parts = [x]
    if to_begin is not None:
        parts.insert(0, _reshape(_operand(to_begin, "numpy.ediff1d"), (-1,)))
    if to_end is not None:
        parts.append(_reshape(_operand(to_end, "numpy.ediff1d"), (-1,)))
    return _concatenate(parts, 0) if len(parts) > 1 else x


def _h_trapezoid(y, x=None, dx=1.0, axis=-1):
    yy = _operand(y, "numpy.trapezoid")
    nd = len(yy.shape)
    ax = _norm_axis(axis, nd) - nd
    _const(dx, "trapezoid", "dx")
    if x is not None and _tag(_operand(x, "numpy.trapezoid")) != 0:
        # a dual x: sum(diff(x) * (y[1:] + y[:-1]) / 2), by the rules
        xx = _operand(x, "numpy.trapezoid")
        if len(xx.shape) == 1 and nd > 1:
            xx = _reshape(xx, tuple(xx.shape[0] if i == ax + nd else 1 for i in range(nd)))
        d = _h_diff(xx, axis=ax if len(xx.shape) == nd else -1)
        tail = (_ALL,) * (-ax - 1)
        s = _ew_binary("add", _getitem(yy, (Ellipsis, slice(1, None)) + tail),
                       _getitem(yy, (Ellipsis, slice(None, -1)) + tail))
        prod = _ew_binary("multiply", _bc(d, _bshape(d.shape, s.shape)), s)
        return _ew_binary("divide", _sum(prod, ax), np.array(2.0))
    xc = None if x is None else np.asarray(x, dtype=_f64)
    f = lambda c: np.trapezoid(c, x=xc, dx=dx, axis=ax)      # noqa: E731
    return _lin(yy, f, f, arith=True)


def _h_gradient(f, *varargs, axis=None, edge_order=1):
    x = _operand(f, "numpy.gradient")
    nd = len(x.shape)
    axes = _neg_axes(axis, nd)
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(varargs[0]) == 0:
        spacing = list(varargs) * len(axes)
    elif len(varargs) == len(axes):
        spacing = list(varargs)
    else:
        raise TypeError("numpy.gradient: invalid number of arguments")
    for s in spacing:
        _const(s, "gradient", "the spacing")
    out = []
    for ax, s in zip(axes, spacing):
        s = np.asarray(s, dtype=_f64)
        g = lambda c, ax=ax, s=s: np.gradient(c, s, axis=ax, edge_order=edge_order)  # noqa
        out.append(_lin(x, g, g, arith=True))
    return out[0] if len(out) == 1 else tuple(out)


def _h_interp(x, xp, fp, left=None, right=None, period=None):
    xx = _operand(x, "numpy.interp")
    ff = _operand(fp, "numpy.interp")
    XP = _operand(xp, "numpy.interp")
    if len(XP.shape) != 1 or len(ff.shape) != 1 or ff.shape[0] != XP.shape[0] or \
            XP.shape[0] == 0:
        raise ValueError("numpy.interp: fp and xp are not of the same length")
    # the value is NumPy's own interp of the values (its formula, slope (x -
    # x0) + f0, its knots and its fallbacks where that is nan); the tangents
    # are the same piecewise-linear map's, below
    if period is not None:
        _const(period, "interp", "period")
    elif (type(xx) is DualArray and xx._o2 is None and type(xx._v) is _nd
          and type(XP) is _nd and type(ff) is _nd and XP.shape[0] > 1
          and all(e is None or _tag(_operand(e, "numpy.interp")) == 0 for e in (left, right))):
        return _interp_x(xx, XP, ff, left, right)
    value = np.interp(np.asarray(_inner(xx)), np.asarray(_inner(XP), dtype=_f64),
                      np.asarray(_inner(ff), dtype=_f64),
                      None if left is None else np.asarray(_inner(_operand(left))),
                      None if right is None else np.asarray(_inner(_operand(right))), period)
    return _with_inner_value(_interp_map(xx, XP, ff, left, right, period), value)


def _interp_x(xx, XP, ff, left, right):
    """np.interp of a first-order DualArray x on constant knots: NumPy's
    value; the tangents of the piecewise-linear map of _interp_map in one
    pass in C (_core._interp_rows, bit for bit the same)."""
    xpv = np.ascontiguousarray(XP, dtype=_f64)
    fpv = np.ascontiguousarray(ff, dtype=_f64)
    lo = fpv[0] if left is None else float(_inner(_operand(left)))
    hi = fpv[-1] if right is None else float(_inner(_operand(right)))
    xv = xx._v
    value = np.asarray(np.interp(xv, xpv, fpv, None if left is None else lo,
                                 None if right is None else hi), dtype=_f64)
    k = xx._d.shape[0]
    xf = np.ascontiguousarray(xv).reshape(-1)
    d = _interp_rows(xf, np.searchsorted(xpv, xf, side="right"),
                     np.ascontiguousarray(xx._d).reshape(k, xf.size), xpv, fpv,
                     np.ascontiguousarray(value).reshape(-1), lo, hi)
    return _new(value, d.reshape(xx._d.shape), xx._tag, None)


def _with_inner_value(r, value):
    # r with its innermost values replaced by value (a constant r: value);
    # where value is nan and r's was not, every tangent becomes nan (no
    # slope of an undefined value)
    if type(r) is _nd:
        return np.asarray(value, dtype=_f64)
    inner = np.asarray(_inner(r))
    r = _replace_inner(r, np.asarray(value, dtype=_f64).reshape(inner.shape))
    dom = np.isnan(value) & ~np.isnan(inner)
    return _mark_nan(r, dom) if np.any(dom) else r


def _replace_inner(r, value):
    if type(r) is _nd:
        return value
    return _new(_replace_inner(r._v, value), r._d, r._tag, r._o2)


def _interp_map(xx, XP, ff, left, right, period):
    # the piecewise-linear map of x, xp and fp (the derivatives; values up
    # to rounding: _h_interp puts NumPy's)
    if period is not None:
        # NumPy's reduction: x and xp modulo the period, xp sorted (fp with
        # it), one knot wrapped onto each end; left/right are ignored
        _const(period, "interp", "period")
        period = abs(float(period))
        if period == 0:
            raise ValueError("period must be a non-zero value")
        xx = _ew_binary("remainder", xx, _operand(np.array(period)))
        XP = _ew_binary("remainder", XP, _operand(np.array(period)))
        order = np.argsort(np.asarray(_inner(XP)), kind="stable")
        XP, ff = _h_take(XP, order), _h_take(ff, order)
        pp = _operand(np.array(period))
        XP = _concatenate([_ew_binary("subtract", _getitem(XP, (slice(-1, None),)), pp), XP,
                           _ew_binary("add", _getitem(XP, (slice(0, 1),)), pp)], 0)
        ff = _concatenate([_getitem(ff, (slice(-1, None),)), ff, _getitem(ff, (slice(0, 1),))],
                          0)
        left = right = None
    xpv = np.asarray(_inner(XP), dtype=_f64)
    n = xpv.size
    xv = np.asarray(_inner(xx))
    if n == 1:
        inside = _bc(_getitem(ff, (0,)), xv.shape)
    else:
        # the segment NumPy uses: xp[j] <= x < xp[j+1], the last one closed;
        # a dual xp moves the knots (their values pick the segment)
        j = np.clip(np.searchsorted(xpv, xv, side="right") - 1, 0, n - 2)
        if type(XP) is _nd:
            x0, x1 = np.asarray(xpv[j]), np.asarray(xpv[j + 1])    # 0-d for a scalar x
            width = np.asarray(x1 - x0)
        else:
            x0, x1 = _h_take(XP, j), _h_take(XP, j + 1)
            width = _ew_binary("subtract", x1, x0)
        f0, f1 = _h_take(ff, j), _h_take(ff, j + 1)
        t = _ew_binary("divide", _ew_binary("subtract", xx, _operand(x0)), _operand(width))
        inside = _ew_binary("add", f0, _ew_binary("multiply", t,
                                                  _ew_binary("subtract", f1, f0)))
    lo = _getitem(ff, (0,)) if left is None else _operand(left, "numpy.interp")
    hi = _getitem(ff, (-1,)) if right is None else _operand(right, "numpy.interp")
    r = _where(xv > xpv[-1], hi, inside)
    r = _where(xv < xpv[0], lo, r)
    return r


def _h_polyval(p, x):
    pp = _operand(p, "numpy.polyval")
    xx = _operand(x, "numpy.polyval")
    if len(pp.shape) != 1:
        raise TypeError("numpy.polyval on DualArray: p must be one-dimensional "
                        "(np.poly1d is not supported)")
    # Horner's scheme, as NumPy evaluates it (y * x + p[i]: the operators,
    # the core's C paths of the same rules)
    y = np.zeros(xx.shape)
    for i in range(pp.shape[0]):
        y = y * xx + pp[i]
    return y


def _conv_full(a, v):
    # out[i] = sum_j a[j] v[i - j]: the products' anti-diagonal sums (linear)
    # (the product by the operator and the sums in one call over the
    # (k + 1, na, nv) block where they apply: the C paths)
    na, nv = a.shape[0], v.shape[0]
    P = a[:, None] * v[None, :]

    def f(c):
        out = np.zeros(c.shape[:-2] + (na + nv - 1,))
        for j in range(nv):
            out[..., j:j + na] += c[..., :, j]
        return out
    return _lin(P, f, f, block=True, arith=True)


def _conv_mode(a, v, mode, fname):
    a = _operand(a, f"numpy.{fname}")
    v = _operand(v, f"numpy.{fname}")
    if len(a.shape) != 1 or len(v.shape) != 1:
        raise ValueError(f"numpy.{fname}: object too deep for desired array")
    na, nv = a.shape[0], v.shape[0]
    if na == 0 or nv == 0:
        raise ValueError(f"numpy.{fname}: inputs cannot be empty")
    full = _conv_full(a, v)
    lo, hi = min(na, nv), max(na, nv)
    if mode == "full":
        return full
    if mode == "same":
        s = (lo - 1) // 2
        return full[s:s + hi]
    if mode == "valid":
        return full[lo - 1:hi]
    raise ValueError(f"numpy.{fname}: mode must be 'full', 'same' or 'valid', got {mode!r}")


def _numpy_value(r, f, *ops):
    """r (a linear or bilinear map's result, its values summed in another
    order than NumPy's) with the value NumPy's f computes from the
    operands' values; tangents r's (nan where only NumPy's value is nan)."""
    return _with_inner_value(r, f(*[np.asarray(_inner(o)) for o in ops]))


def _h_convolve(a, v, mode="full"):
    a = _operand(a, "numpy.convolve")
    v = _operand(v, "numpy.convolve")
    return _numpy_value(_conv_mode(a, v, mode, "convolve"),
                        lambda x, y: np.convolve(x, y, mode), a, v)


def _h_correlate(a, v, mode="valid"):
    # real inputs: correlate(a, v) = convolve(a, v[::-1]); when v is longer
    # NumPy swaps the operands and reverses the result
    a = _operand(a, "numpy.correlate")
    v = _operand(v, "numpy.correlate")
    if len(a.shape) == 1 and len(v.shape) == 1 and v.shape[0] > a.shape[0]:
        r = _conv_mode(v, a[::-1], mode, "correlate")
        r = r[::-1]
    else:
        r = _conv_mode(a, v[::-1], mode, "correlate")
    return _numpy_value(r, lambda x, y: np.correlate(x, y, mode), a, v)


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._elementwise import _ew_binary  # noqa: E402
from ._joins import _concatenate, _where  # noqa: E402
from ._numpy_api import _h_take  # noqa: E402
from ._operands import _ALL, _bc, _bshape, _f64, _inner, _nd, _operand, _tag  # noqa: E402
from ._reduce import _sum  # noqa: E402
from ._core import DualArray, _interp_rows, _new  # noqa: E402
from ._shape import _getitem, _lin, _mark_nan, _neg_axes, _norm_axis, _reshape  # noqa: E402
