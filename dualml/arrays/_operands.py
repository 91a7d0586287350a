"""Operands of DualArray operations, and broadcasting without NumPy's overhead.

Design
------
Every operation first turns its arguments into one of two kinds: a float64
ndarray (a constant) or a DualArray; scalars, lists, scalar Duals and object
arrays are converted here, and unknown types raise ``_UnknownOperand`` (a
TypeError: operators answer NotImplemented).  The broadcasting helpers make
strided views directly (np.broadcast_to costs microseconds) and extend
tangent rows ``(k,) + shape`` like values.
"""
import numbers

import numpy as np

from .. import dual as _dual
from ..dual import Dual, _MultiDual, _NestedDual
from ._core import DualArray, _new

_nd = np.ndarray
_np_matmul = np.matmul
_add_reduce = np.add.reduce
_strided = np.ndarray
_f64 = np.float64
_ALL = slice(None)


class _NeedGeneric(Exception):
    """Second-order fast path cannot represent this operation (hessian falls back)."""


def _real_array(x, name, copy=False):
    if isinstance(x, DualArray) or isinstance(x, Dual):
        raise TypeError(f"DualArray(): {name} must be real numbers, not "
                        f"{type(x).__name__} (nested levels are made by dualml's "
                        f"calculus functions)")
    a = np.array(x, copy=copy) if copy else np.asarray(x)
    if a.dtype.kind == "c":
        raise TypeError(f"{name} is complex ({a.dtype}); dualml differentiates real "
                        f"functions only")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}")
    if a.dtype != _f64:
        a = a.astype(_f64)
    return a


def _operand(x, fname="operation"):
    """An operand as float64 ndarray (or 0-d), or DualArray."""
    t = type(x)
    if t is DualArray:
        return x
    if t is _nd:
        if x.dtype == _f64:
            return x
        if x.dtype.kind in "biuf":
            return x.astype(_f64)
        if x.dtype.kind == "c":
            raise TypeError(f"{fname}: complex input ({x.dtype}) is not supported; "
                            f"dualml differentiates real functions")
        if x.dtype == object:
            return _object_operand(x, fname)
        raise TypeError(f"{fname}: arrays of dtype {x.dtype} are not supported")
    if t is float or t is int or t is bool:
        return np.array(x, dtype=_f64)
    if t is Dual or t is _NestedDual:
        return _from_dual(x)
    if t is _MultiDual:
        raise TypeError(_MULTI_MSG.format(fname=fname))
    if isinstance(x, np.generic):
        if x.dtype.kind in "biuf":
            return np.array(x, dtype=_f64)
        raise TypeError(f"{fname}: {x.dtype} scalars are not supported (dualml is real)")
    if isinstance(x, (list, tuple)):
        if any(isinstance(e, (DualArray, Dual)) for e in _flat_items(x)):
            return _stack_nested(x, fname)
        return _operand(np.asarray(x), fname)
    if isinstance(x, complex):
        raise TypeError(f"{fname}: complex input is not supported; dualml "
                        f"differentiates real functions")
    if isinstance(x, numbers.Real):
        return np.array(float(x), dtype=_f64)
    raise _UnknownOperand(f"{fname}: unsupported operand type {type(x).__name__} with "
                          f"DualArray")


class _UnknownOperand(TypeError):
    # operators catch it to answer NotImplemented; anywhere else it is the
    # TypeError it says it is, so tracebacks name it that way
    pass


_UnknownOperand.__module__ = "builtins"
_UnknownOperand.__qualname__ = _UnknownOperand.__name__ = "TypeError"


def _flat_items(x):
    for e in x:
        if isinstance(e, (list, tuple)):
            yield from _flat_items(e)
        else:
            yield e


def _stack_nested(x, fname):
    items = [_stack_nested(e, fname) if isinstance(e, (list, tuple)) else _operand(e, fname)
             for e in x]
    return _stack(items, 0)


def _object_operand(x, fname):
    items = [_operand(e, fname) for e in x.reshape(-1)]
    if not items:
        return np.zeros(x.shape)
    return _reshape(_stack(items, 0), x.shape)


_MULTI_MSG = ("{fname}: a DualArray cannot take a Dual carrying several partials "
              "(an entry of a list point of gradient/jacobian/hessian, chunk > 1); "
              "pass chunk=1, or x as an ndarray")


def _from_dual(s):
    """A scalar Dual as a 0-d DualArray of its tag with k = 1 (components recursed)."""
    tag = _dual._tag_of(s)
    v = s.value
    d = s.deriv
    if type(s) is _MultiDual or type(d) is tuple:
        # k partials in a part of a nested Dual: not one tangent (never
        # read as a (1, k) array)
        raise TypeError(_MULTI_MSG.format(fname="operation"))
    vc = _from_dual(v) if isinstance(v, Dual) else np.array(v, dtype=_f64)
    dc = _reshape(_from_dual(d), (1,)) if isinstance(d, Dual) else np.array([d], dtype=_f64)
    return _new(vc, dc, tag, None)


def _inner(x):
    """Innermost float values."""
    while type(x) is DualArray:
        x = x._v
    return x


def _inner_operand(o):
    if type(o) is DualArray:
        return _inner(o)
    if isinstance(o, Dual):
        while isinstance(o, Dual):
            o = o.value
        return o
    if isinstance(o, (list, tuple)):
        return _inner(_operand(o, "comparison"))
    return o


def _tag(x):
    return x._tag if type(x) is DualArray else 0


def _bshape(s1, s2):
    if s1 == s2 or not s2:
        return s1
    if not s1:
        return s2
    n1, n2 = len(s1), len(s2)
    n = max(n1, n2)
    out = []
    for i in range(n):
        a = s1[i - n + n1] if i >= n - n1 else 1
        b = s2[i - n + n2] if i >= n - n2 else 1
        if a == b or b == 1:
            out.append(a)
        elif a == 1:
            out.append(b)
        else:
            raise ValueError(f"operands could not be broadcast together: shapes {s1} "
                             f"and {s2}")
    return tuple(out)


def _bc(a, shape):
    """Broadcast view of a (ndarray or DualArray) to shape."""
    if type(a) is DualArray:
        if a._v.shape == shape:
            return a
        v = _bc(a._v, shape)
        return _new(v, _bc(_expand_t(a._d, len(shape)), (a._d.shape[0],) + shape),
                    a._tag, a._o2)
    if a.shape == shape:
        return a
    if a.ndim == 0:
        return _strided(shape, _f64, a, 0, (0,) * len(shape))
    if a.flags.c_contiguous:
        nd, na = len(shape), a.ndim
        if na <= nd:
            strides = []
            ok = True
            for i in range(nd):
                j = i - nd + na
                if j < 0 or a.shape[j] == 1:
                    strides.append(0)
                elif a.shape[j] == shape[i]:
                    strides.append(a.strides[j])
                else:
                    ok = False
                    break
            if ok:
                return _strided(shape, _f64, a, 0, tuple(strides))
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise ValueError(f"operands could not be broadcast together: shapes {a.shape} "
                         f"and {shape}") from None


def _expand_t(t, nd):
    """Tangent rows (k,) + s to (k,) + (1,)*(nd - len(s)) + s."""
    s = t.shape
    if len(s) - 1 >= nd:
        return t
    return _reshape(t, (s[0],) + (1,) * (nd - len(s) + 1) + s[1:])


def _bct(t, shape):
    if type(t) is _nd:
        ts = t.shape
        if ts[1:] == shape:
            return t
        nd = len(shape)
        if len(ts) == 1 and t.flags.c_contiguous:     # rows of a 0-d value
            return _strided((ts[0],) + shape, _f64, t, 0, (8,) + (0,) * nd)
        if len(ts) - 1 < nd:
            t = t.reshape((ts[0],) + (1,) * (nd - len(ts) + 1) + ts[1:])
        return _bc(t, (ts[0],) + shape)
    return _bc(_expand_t(t, len(shape)), (t.shape[0],) + shape)


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._joins import _stack  # noqa: E402
from ._shape import _reshape  # noqa: E402
