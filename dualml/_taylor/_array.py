"""TaylorArray: NumPy code in Taylor mode, and the dispatch of the rule ufuncs.

A TaylorArray holds one float64 array of coefficients shaped (K + 1, *shape):
c[k] is the k-th normalized Taylor coefficient of every element.  Elementwise
rules go to the C drivers of _core (the same C functions the scalar Taylor
calls); functions linear in the array (sum, reshape, indexing, concatenate,
...) act on each c[k]; products of arrays (matmul, dot) convolve the
coefficients.  Anything else raises TypeError naming the function, and
np.asarray(TaylorArray) raises rather than dropping the coefficients.
"""
import numbers

import numpy as np

from . import _core
from ._core import Taylor

__all__ = ["TaylorArray"]

_UNARY = set(_core.UNARY_RULES)
_UNARY_P = set(_core.UNARY_PARAM_RULES)
_BINARY = set(_core.BINARY_RULES)

# NumPy ufunc -> rule name (np.true_divide is np.divide, np.mod np.remainder)
_UFUNC_RULE = {getattr(np, n): n for n in _UNARY | _BINARY
               if isinstance(getattr(np, n, None), np.ufunc)}
_UFUNC_RULE[np.fabs] = "absolute"
# value-only ufuncs: the result does not depend on the coefficients beyond c[0]
_VALUE_UFUNCS = {np.isnan, np.isfinite, np.isinf, np.signbit, np.less, np.less_equal,
                 np.greater, np.greater_equal, np.equal, np.not_equal}


class TaylorArray:
    """TaylorArray(coefficients)

    An array of truncated Taylor polynomials sharing one degree K: what
    ``dualml.taylor(f, x)`` passes to f when x is an array.

    Parameters
    ----------
    coefficients : array_like, shape ``(K + 1, *shape)``
        ``coefficients[k]`` is the k-th normalized coefficient of every
        element, 0 <= K <= 128.

    Raises
    ------
    TypeError
        From np.asarray / float() of a TaylorArray (they would drop the
        coefficients: use ``.value``), from a NumPy function Taylor mode does
        not implement (named in the message), and from mixing with Duals.

    See Also
    --------
    dualml.taylor, dualml.Taylor

    Examples
    --------
    >>> import numpy as np
    >>> from dualml import TaylorArray
    >>> x = TaylorArray([[1.0, 2.0], [1.0, 1.0], [0.0, 0.0]])   # x + t, degree 2
    >>> (x * x).sum().coefficients.tolist()                    # (1+t)^2 + (2+t)^2
    [5.0, 6.0, 2.0]
    """

    __dualml_taylor__ = True            # see Taylor: the marker custom_jvp reads
    __slots__ = ("c", "tag")
    __array_priority__ = 20

    def __init__(self, coefficients, tag=0):
        c = np.array(coefficients, dtype=np.float64)
        if c.ndim < 1 or c.shape[0] < 1 or c.shape[0] - 1 > _core.MAX_ORDER:
            raise ValueError(f"TaylorArray(): coefficients must be shaped (K + 1, ...) "
                             f"with 0 <= K <= {_core.MAX_ORDER}")
        self.c = c
        self.tag = tag

    # -- accessors -------------------------------------------------------------------
    @property
    def coefficients(self):
        """The coefficient array, shape ``(K + 1, *shape)`` (not a copy)."""
        return self.c

    @property
    def value(self):
        """c[0], the values at t = 0, shape ``self.shape``."""
        return self.c[0]

    @property
    def order(self):
        return self.c.shape[0] - 1

    @property
    def shape(self):
        return self.c.shape[1:]

    @property
    def ndim(self):
        return self.c.ndim - 1

    @property
    def size(self):
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def T(self):
        return self.transpose()

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d TaylorArray")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __repr__(self):
        return f"TaylorArray(order={self.order}, shape={self.shape}, value={self.value!r})"

    # -- no silent loss ----------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("np.asarray/np.array of a TaylorArray would drop its higher "
                        "coefficients (the derivatives); use .value for the values, "
                        ".coefficients for all of them, or np.stack to build arrays "
                        "of TaylorArrays")

    def __float__(self):
        raise TypeError("float() of a TaylorArray would drop its coefficients; use .value")

    __hash__ = None

    # -- indexing ------------------------------------------------------------------------
    def __getitem__(self, key):
        key = key if isinstance(key, tuple) else (key,)
        if any(isinstance(k, (TaylorArray, Taylor)) for k in key):
            raise TypeError("a TaylorArray cannot be indexed by Taylor numbers")
        return _wrap(self.c[(slice(None),) + key], self.tag)

    def __setitem__(self, key, val):
        key = (slice(None),) + (key if isinstance(key, tuple) else (key,))
        target = self.c[key]
        self.c[key] = _expand(_coeffs(val, self.order, self.tag, "__setitem__"),
                              target.shape[1:])

    # -- arithmetic ------------------------------------------------------------------
    def __add__(self, o): return _elementwise("add", (self, o))
    def __radd__(self, o): return _elementwise("add", (o, self))
    def __sub__(self, o): return _elementwise("subtract", (self, o))
    def __rsub__(self, o): return _elementwise("subtract", (o, self))
    def __mul__(self, o): return _elementwise("multiply", (self, o))
    def __rmul__(self, o): return _elementwise("multiply", (o, self))
    def __truediv__(self, o): return _elementwise("divide", (self, o))
    def __rtruediv__(self, o): return _elementwise("divide", (o, self))
    def __floordiv__(self, o): return _elementwise("floor_divide", (self, o))
    def __rfloordiv__(self, o): return _elementwise("floor_divide", (o, self))
    def __mod__(self, o): return _elementwise("remainder", (self, o))
    def __rmod__(self, o): return _elementwise("remainder", (o, self))
    def __pow__(self, o): return _elementwise("power", (self, o))
    def __rpow__(self, o): return _elementwise("power", (o, self))
    def __neg__(self): return _elementwise("negative", (self,))
    def __pos__(self): return _elementwise("positive", (self,))
    def __abs__(self): return _elementwise("absolute", (self,))
    def __matmul__(self, o): return _bilinear(np.matmul, self, o)
    def __rmatmul__(self, o): return _bilinear(np.matmul, o, self)

    def __lt__(self, o): return self.value < _value(o)
    def __le__(self, o): return self.value <= _value(o)
    def __gt__(self, o): return self.value > _value(o)
    def __ge__(self, o): return self.value >= _value(o)
    def __eq__(self, o): return self.value == _value(o)
    def __ne__(self, o): return self.value != _value(o)

    # -- methods of ndarray that are linear ----------------------------------------
    def sum(self, axis=None, keepdims=False):
        return _linear(np.sum, self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _linear(np.mean, self, axis=axis, keepdims=keepdims)

    def cumsum(self, axis=None):
        return _linear(np.cumsum, self, axis=axis)

    def reshape(self, *shape):
        shape = shape[0] if len(shape) == 1 else shape
        return _linear(np.reshape, self, shape)

    def transpose(self, *axes):
        axes = axes[0] if len(axes) == 1 else (axes or None)
        return _linear(np.transpose, self, axes)

    def ravel(self):
        return _linear(np.ravel, self)

    flatten = ravel

    def squeeze(self, axis=None):
        return _linear(np.squeeze, self, axis)

    def dot(self, other):
        return _bilinear(np.dot, self, other)

    def copy(self):
        return TaylorArray(self.c.copy(), self.tag)

    # -- NumPy protocols ---------------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return array_ufunc(ufunc, method, inputs, kwargs)

    def __array_function__(self, func, types, args, kwargs):
        impl = _FUNCTIONS.get(func)
        if impl is None:
            raise TypeError(f"np.{func.__name__} is not supported in Taylor mode "
                            f"(TaylorArray implements the rule ufuncs, + - * / **, "
                            f"{', '.join(sorted('np.' + f.__name__ for f in _FUNCTIONS))})")
        return impl(*args, **kwargs)

    def __dualml_function__(self, name, args, kwargs):
        return dualml_function(name, args, kwargs)


# -- operands ----------------------------------------------------------------------------

def _value(o):
    if isinstance(o, (TaylorArray, Taylor)):
        return o.value
    return o


def _check_mix(o, fname):
    from ..dual import Dual
    if isinstance(o, Dual) or getattr(type(o), "__dualml_function__", None) is not None \
            and not isinstance(o, (TaylorArray, Taylor)):
        raise TypeError(f"{fname}: a Taylor-mode operand and a {type(o).__name__} cannot "
                        f"meet; Taylor mode (dualml.taylor, derivative(..., n >= 3)) does "
                        f"not nest with Duals; differentiate with one of them")


def _coeffs(o, K, tag, fname):
    """The (K + 1, *shape) coefficient array of an operand."""
    if isinstance(o, TaylorArray):
        _same(o.tag, o.order, tag, K)
        return o.c
    if isinstance(o, Taylor):
        _same(_core._tag(o), o.order, tag, K)
        return o.coefficients
    _check_mix(o, fname)
    if isinstance(o, (list, tuple)) and any(isinstance(e, (Taylor, TaylorArray))
                                            for e in _flat(o)):
        return np.stack([_coeffs(e, K, tag, fname) for e in o], axis=1)
    a = np.asarray(o)
    if a.dtype == object:
        return _object_coeffs(a, K, tag, fname)
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{fname}: operands of dtype {a.dtype} are not supported in "
                        f"Taylor mode (real numbers, Taylor, TaylorArray)")
    out = np.zeros((K + 1,) + a.shape)
    out[0] = a
    return out


def _flat(seq):
    for e in seq:
        if isinstance(e, (list, tuple)):
            yield from _flat(e)
        else:
            yield e


def _object_coeffs(a, K, tag, fname):
    out = np.empty((K + 1,) + a.shape)
    for idx in np.ndindex(a.shape):
        out[(slice(None),) + idx] = _coeffs(a[idx], K, tag, fname)
    return out


def _same(t1, k1, tag, K):
    if t1 != tag:
        raise TypeError("Taylor operands of two different dualml.taylor calls (nested "
                        "Taylor mode) cannot be combined; nest dualml.derivative (n <= 2) "
                        "instead, or pass the outer variable as an argument")
    if k1 != K:
        raise ValueError(f"Taylor operands of degree {K} and {k1}; use one order")


def _like(args):
    """(K, tag) of the first Taylor-mode operand."""
    for a in _flat(args):
        if isinstance(a, TaylorArray):
            return a.order, a.tag
        if isinstance(a, Taylor):
            return a.order, _core._tag(a)
        if isinstance(a, np.ndarray) and a.dtype == object:
            for e in a.flat:
                if isinstance(e, Taylor):
                    return e.order, _core._tag(e)
    raise TypeError("internal: no Taylor operand")


def _wrap(c, tag):
    """TaylorArray, or a Taylor for a 0-d result."""
    if c.ndim == 1:
        return _core._make(c, tag)
    return _view(c, tag)


def _view(c, tag):
    r = TaylorArray.__new__(TaylorArray)
    r.c = c
    r.tag = tag
    return r


# -- elementwise rules -------------------------------------------------------------------

def _elementwise(name, args, p=0.0):
    if all(isinstance(a, Taylor) or _core_real(a) for a in args) and \
            any(isinstance(a, Taylor) for a in args):
        r = _core._apply_scalar(name, tuple(args), p)
        if r is NotImplemented:
            raise TypeError(f"dualml.{name}(): unsupported operands "
                            f"{', '.join(type(a).__name__ for a in args)}")
        return r
    K, tag = _like(args)
    cs = [_coeffs(a, K, tag, f"np.{name}") for a in args]
    if len(cs) == 1:
        return _wrap(_core._unary_array(name, cs[0], p), tag)
    shape = np.broadcast_shapes(cs[0].shape[1:], cs[1].shape[1:])
    a, b = (_expand(c, shape) for c in cs)
    return _wrap(_core._binary_array(name, a, b), tag)


def _expand(c, shape):
    """Coefficient array (K + 1, *s) broadcast to (K + 1, *shape) (a view)."""
    lead = (1,) * (len(shape) - c.ndim + 1)
    return np.broadcast_to(c.reshape(c.shape[:1] + lead + c.shape[1:]), c.shape[:1] + shape)


def _core_real(a):
    return isinstance(a, numbers.Real) or (isinstance(a, np.generic) and a.dtype.kind in "biuf")


def array_ufunc(ufunc, method, inputs, kwargs):
    """__array_ufunc__ of Taylor and TaylorArray."""
    for a in inputs:
        _check_mix(a, f"np.{ufunc.__name__}")
    if method == "__call__" and not kwargs:
        if ufunc in _VALUE_UFUNCS:
            return ufunc(*[_value(a) for a in inputs])
        name = _UFUNC_RULE.get(ufunc)
        if name is not None:
            return _elementwise(name, inputs)
        if ufunc is np.matmul:
            return _bilinear(np.matmul, *inputs)
    if method == "reduce" and ufunc is np.add and set(kwargs) <= {"axis", "keepdims"}:
        return _linear(np.sum, inputs[0], **kwargs)
    raise TypeError(f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method}"
                    f"{' with ' + ', '.join(kwargs) if kwargs else ''} is not supported in "
                    f"Taylor mode (the ufuncs of dualml's rule table are, without out=/where=)")


def dualml_function(name, args, kwargs):
    """dualml.<name>(...) with a Taylor or TaylorArray argument."""
    if name in _UNARY and len(args) == 1 and not kwargs:
        return _elementwise(name, args)
    if name in _UNARY_P and len(args) in (1, 2) and len(args) + len(kwargs) <= 2:
        p = args[1] if len(args) == 2 else next(iter(kwargs.values()), None)
        if p is None:
            import inspect

            import dualml
            p = inspect.signature(getattr(dualml, name)).parameters["alpha"].default
        if isinstance(p, (Taylor, TaylorArray)) or not _core_real(p):
            raise TypeError(f"dualml.{name}(): alpha must be a real number; it is a "
                            f"constant of the function and is not differentiated")
        return _elementwise(name, args[:1], float(p))
    if name in _BINARY and len(args) == 2 and not kwargs:
        return _elementwise(name, args)
    raise TypeError(f"dualml.{name}() is not supported in Taylor mode with arguments "
                    f"{', '.join(type(a).__name__ for a in args)}")


# -- linear and bilinear functions -------------------------------------------------------

def _linear(func, x, *args, **kwargs):
    """func applied to each coefficient slice (func linear in x)."""
    if not isinstance(x, TaylorArray):
        K, tag = _like((x,))
        x = _view(_coeffs(x, K, tag, f"np.{func.__name__}"), tag)
    out = np.stack([np.asarray(func(x.c[k], *args, **kwargs)) for k in range(x.order + 1)])
    if func in _ARITH:
        _domain_nans(out, lambda: func(_nan_marks(x.c[0]), *args, **kwargs))
    return _wrap(out, x.tag)


# linear maps that add their inputs: they can make a nan of inputs that are
# not nan (inf - inf), where the higher coefficients are then nan
_ARITH = {np.sum, np.mean, np.cumsum, np.diff, np.trace}


def _nan_marks(v):
    return np.where(v != v, np.nan, 0.0)


def _domain_nans(out, fed):
    """out: the (K + 1, ...) coefficients of a sum or product.  Where its
    value out[0] is nan and no nan input reaches it (fed(): the map of the
    inputs' nan marks), the higher coefficients become nan: the domain-error
    rule of the rules and of DualArray's linear maps
    (dualml/arrays/_shape.py _domain_nans)."""
    from ..arrays._shape import _domain_mask
    dom = _domain_mask(out[0], fed)
    if dom is not None:
        out[1:] = np.where(dom, np.nan, out[1:])


def _join(func, arrays, *args, **kwargs):
    K, tag = _like(tuple(arrays))
    cs = [_coeffs(a, K, tag, f"np.{func.__name__}") for a in arrays]
    out = np.stack([func([c[k] for c in cs], *args, **kwargs) for k in range(K + 1)])
    return _wrap(out, tag)


def _bilinear(func, a, b):
    """func(a, b) for func bilinear (matmul, dot): y_k = sum_j func(a_j, b_{k-j})."""
    K, tag = _like((a, b))
    ca = _coeffs(a, K, tag, f"np.{func.__name__}")
    cb = _coeffs(b, K, tag, f"np.{func.__name__}")
    a_moves = [k for k in range(K + 1) if k == 0 or np.any(ca[k])]
    b_moves = [k for k in range(K + 1) if k == 0 or np.any(cb[k])]
    out = None
    for i in a_moves:
        for j in b_moves:
            if i + j > K:
                continue
            term = np.asarray(func(ca[i], cb[j]))
            if out is None:
                out = np.zeros((K + 1,) + term.shape)
            out[i + j] += term
    ma, mb = _nan_marks(ca[0]), _nan_marks(cb[0])
    _domain_nans(out, lambda: func(ma, np.ones(mb.shape)) + func(np.ones(ma.shape), mb))
    return _wrap(out, tag)


def _where(cond, x, y):
    if isinstance(cond, (Taylor, TaylorArray)):
        cond = cond.value
    K, tag = _like((x, y))
    cx, cy = _coeffs(x, K, tag, "np.where"), _coeffs(y, K, tag, "np.where")
    cond = np.asarray(cond, dtype=bool)
    shape = np.broadcast_shapes(cond.shape, cx.shape[1:], cy.shape[1:])
    return _wrap(np.where(cond, _expand(cx, shape), _expand(cy, shape)), tag)


def _shape(x):
    return x.shape if isinstance(x, TaylorArray) else ()


_FUNCTIONS = {
    np.sum: lambda a, axis=None, keepdims=False: _linear(np.sum, a, axis=axis, keepdims=keepdims),
    np.mean: lambda a, axis=None, keepdims=False: _linear(np.mean, a, axis=axis, keepdims=keepdims),
    np.cumsum: lambda a, axis=None: _linear(np.cumsum, a, axis=axis),
    np.diff: lambda a, n=1, axis=-1: _linear(np.diff, a, n=n, axis=axis),
    np.trace: lambda a, offset=0, axis1=0, axis2=1: _linear(np.trace, a, offset, axis1, axis2),
    np.reshape: lambda a, shape=None, **kw: _linear(np.reshape, a, shape, **kw),
    np.transpose: lambda a, axes=None: _linear(np.transpose, a, axes),
    np.ravel: lambda a: _linear(np.ravel, a),
    np.squeeze: lambda a, axis=None: _linear(np.squeeze, a, axis),
    np.expand_dims: lambda a, axis: _linear(np.expand_dims, a, axis),
    np.swapaxes: lambda a, axis1, axis2: _linear(np.swapaxes, a, axis1, axis2),
    np.moveaxis: lambda a, source, destination: _linear(np.moveaxis, a, source, destination),
    np.broadcast_to: lambda a, shape: _linear(np.broadcast_to, a, shape),
    np.atleast_1d: lambda a: _linear(np.atleast_1d, a),
    np.concatenate: lambda arrays, axis=0: _join(np.concatenate, arrays, axis=axis),
    np.stack: lambda arrays, axis=0: _join(np.stack, arrays, axis=axis),
    np.hstack: lambda tup: _join(np.hstack, tup),
    np.vstack: lambda tup: _join(np.vstack, tup),
    np.dot: lambda a, b: _bilinear(np.dot, a, b),
    np.matmul: lambda a, b: _bilinear(np.matmul, a, b),
    np.inner: lambda a, b: _bilinear(np.inner, a, b),
    np.outer: lambda a, b: _bilinear(np.outer, a, b),
    np.where: _where,
    np.shape: _shape,
    np.ndim: lambda a: len(_shape(a)),
}
