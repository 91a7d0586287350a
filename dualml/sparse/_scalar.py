"""The scalar tracer: one value with its index sets as Python frozensets.

Scalar code (math-style code on x[0], x[1] of a list, or on single elements
of an array) pays one Python object per operation; frozensets of input
numbers (and of pair codes i*n + j for Hessians) are several times cheaper
there than one-row CSR families.  The rules are those of the array tracer
(_classify's table, the same branch-local selection for max/min), and
anything beyond scalar arithmetic (a NumPy function, an array operand)
converts the scalar to a 0-d _PatternArray and takes the array path, so the
two tracers never disagree on a rule.
"""
import numbers
import operator

import numpy as np

from . import _tracer
from ._classify import BINARY_KIND, NUMPY_ALIASES, PREDICATES, UNARY_KIND
from ._tracer import (
    _I64,
    HANDLERS,
    _binary,
    _PatternArray,
    _predicate,
    _rule_value,
    _ScalarBase,
    _unscalar,
    _unsupported,
)


def _pairs(a, b, n):
    return frozenset(u * n + v if u <= v else v * n + u for u in a for v in b)


def _is_scalar(x):
    t = type(x)
    return t is _ScalarPattern or t is float or t is int or isinstance(x, (numbers.Real,
                                                                         np.bool_))


# value rules that Python's float arithmetic computes exactly as NumPy does
_PY_OPS = {"add": operator.add, "subtract": operator.sub, "multiply": operator.mul}


class _ScalarPattern(_ScalarBase):
    """A traced scalar: value (float), gradient set, pair set (or None)."""
    __slots__ = ("_ctx", "_g", "_h", "_v")

    def __init__(self, value, g, h, ctx):
        self._v, self._g, self._h, self._ctx = value, g, h, ctx

    shape = ()
    ndim = 0
    size = 1
    dtype = np.dtype(np.float64)

    @property
    def value(self):
        """The value, a float without the pattern (as _PatternArray.value)."""
        return self._v

    def _as_array(self):
        ctx = self._ctx
        g = (np.array([0, len(self._g)], dtype=_I64),
             np.array(sorted(self._g), dtype=ctx.gdtype))
        h = None
        if self._h is not None:
            h = (np.array([0, len(self._h)], dtype=_I64), np.array(sorted(self._h), dtype=_I64))
        return _PatternArray(np.array(self._v), g, h, ctx)

    def __repr__(self):
        return f"_ScalarPattern({self._v!r}, nnz={len(self._g)})"

    def __array__(self, dtype=None, copy=None):
        raise _unsupported("Converting a traced value to a plain ndarray (np.asarray, "
                           "np.array, assigning into a NumPy array: build arrays with "
                           "np.zeros_like(x), np.stack or np.concatenate, or return a list)")

    def __float__(self):
        raise _unsupported("float() of a traced value (math functions call it too: use "
                           "np.* or dualml.* functions)")

    __int__ = __index__ = __complex__ = __float__

    def __bool__(self):
        return bool(self._v)      # a branch on the value, decided at x

    def item(self):
        raise _unsupported("item() of a traced value")

    def tolist(self):
        return self

    def copy(self):
        return self

    def astype(self, dtype, copy=True):
        if np.dtype(dtype).kind != "f":
            raise _unsupported(f"astype({dtype}) of a traced value (the derivative would "
                               f"be dropped)")
        return self

    # -- operators: scalar with scalar here, anything else on the array path -----
    __add__ = lambda self, o: _binary2("add", self, o)
    __radd__ = lambda self, o: _binary2("add", o, self)
    __sub__ = lambda self, o: _binary2("subtract", self, o)
    __rsub__ = lambda self, o: _binary2("subtract", o, self)
    __mul__ = lambda self, o: _binary2("multiply", self, o)
    __rmul__ = lambda self, o: _binary2("multiply", o, self)
    __truediv__ = lambda self, o: _binary2("divide", self, o)
    __rtruediv__ = lambda self, o: _binary2("divide", o, self)
    __pow__ = lambda self, o: _binary2("power", self, o)
    __rpow__ = lambda self, o: _binary2("power", o, self)
    __floordiv__ = lambda self, o: _binary2("floor_divide", self, o)
    __rfloordiv__ = lambda self, o: _binary2("floor_divide", o, self)
    __mod__ = lambda self, o: _binary2("remainder", self, o)
    __rmod__ = lambda self, o: _binary2("remainder", o, self)
    __neg__ = lambda self: _s_unary("negative", self, np.negative)
    __pos__ = lambda self: _s_unary("positive", self, np.positive)
    __abs__ = lambda self: _s_unary("absolute", self, np.absolute)
    __lt__ = lambda self, o: _compare(np.less, self, o)
    __le__ = lambda self, o: _compare(np.less_equal, self, o)
    __gt__ = lambda self, o: _compare(np.greater, self, o)
    __ge__ = lambda self, o: _compare(np.greater_equal, self, o)
    __eq__ = lambda self, o: _compare(np.equal, self, o)
    __ne__ = lambda self, o: _compare(np.not_equal, self, o)
    __hash__ = None

    def __matmul__(self, o):
        return HANDLERS[np.matmul](self._as_array(), _unscalar(o))

    def __rmatmul__(self, o):
        return HANDLERS[np.matmul](_unscalar(o), self._as_array())

    # -- NumPy and dualml protocols ----------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method == "__call__" and not kwargs and all(_is_scalar(i) for i in inputs):
            name = ufunc.__name__
            if name in PREDICATES:
                return _compare(ufunc, *inputs)
            if ufunc.nin == 1 and ufunc.nout == 1:
                return _s_unary(name, inputs[0], ufunc)
            if ufunc.nin == 2 and ufunc.nout == 1 and ufunc is not np.matmul:
                return _binary2(name, inputs[0], inputs[1], ufunc)
        # anything else: the array tracer's rules (and its errors)
        inputs = tuple(_unscalar(i) for i in inputs)
        return _PatternArray.__array_ufunc__(
            next(i for i in inputs if isinstance(i, _PatternArray)),
            ufunc, method, *inputs, **kwargs)

    def __array_function__(self, func, types, args, kwargs):
        args = _unscalar_deep(args)
        kwargs = {k: _unscalar_deep(v) for k, v in kwargs.items()}
        handler = HANDLERS.get(func)
        if handler is None:
            raise _unsupported(f"numpy.{func.__name__}")
        return handler(*args, **kwargs)

    def __dualml_function__(self, name, args, kwargs):
        """dualml.<name>(...) on a traced scalar (dualml's dispatch hook)."""
        if kwargs and set(kwargs) == {"alpha"} and len(args) == 1:
            args, kwargs = (args[0], kwargs["alpha"]), {}
        if not kwargs and all(_is_scalar(a) for a in args):
            if name in BINARY_KIND and len(args) == 2:
                return _binary2(name, args[0], args[1])
            if name in UNARY_KIND and len(args) in (1, 2):
                if len(args) == 2 and isinstance(args[1], _ScalarBase):
                    raise TypeError(f"dualml.{name}(): alpha is a constant of the function "
                                    f"and cannot depend on x")
                return _s_unary(name, args[0], None, args[1] if len(args) == 2 else None)
        args = tuple(_unscalar(a) for a in args)
        first = next(a for a in args if isinstance(a, _PatternArray))
        return first.__dualml_function__(name, args, kwargs)


def _unscalar_deep(x):
    if isinstance(x, (list, tuple)):
        return type(x)(_unscalar_deep(e) for e in x)
    return _unscalar(x)


def _check_ctx(*xs):
    ctx = None
    for x in xs:
        if isinstance(x, _ScalarPattern):
            if ctx is None:
                ctx = x._ctx
            elif x._ctx is not ctx:
                raise TypeError("traced arrays of two different detection runs were mixed")
    return ctx


def _val(x):
    return x._v if isinstance(x, _ScalarPattern) else x


def _compare(ufunc, a, b=None):
    args = (a,) if b is None else (a, b)
    if all(_is_scalar(x) for x in args):
        _check_ctx(*args)
        return ufunc(*[_val(x) for x in args])
    return _predicate(ufunc, *args)


def _s_unary(name, x, ufunc=None, param=None):
    rule = NUMPY_ALIASES.get(name, name)
    kind = UNARY_KIND.get(rule)
    if kind is None:
        raise _unsupported(f"numpy.{name}" if ufunc is not None else f"dualml.{name}")
    v = float(_rule_value(name, ufunc, x._v, param))
    if kind == "zero":
        return v
    h = x._h
    if kind == "nonlinear" and h is not None:
        h = h | _pairs(x._g, x._g, x._ctx.n)
    return _ScalarPattern(v, x._g, h, x._ctx)


def _binary2(name, a, b, ufunc=None):
    """a (op) b: both scalars here; an array operand takes the array path."""
    if not (_is_scalar(a) and _is_scalar(b)):
        return _binary(name, _unscalar(a), _unscalar(b), ufunc)
    sa, sb = type(a) is _ScalarPattern, type(b) is _ScalarPattern
    ctx = a._ctx if sa else b._ctx
    if sa and sb and b._ctx is not ctx:
        raise TypeError("traced arrays of two different detection runs were mixed")
    rule = NUMPY_ALIASES.get(name, name)
    kind = BINARY_KIND.get(rule)
    if kind is None:
        raise _unsupported(f"numpy.{name}" if ufunc is not None else f"dualml.{name}")
    va = a._v if sa else a
    vb = b._v if sb else b
    op = _PY_OPS.get(rule)
    tv = (type(va), type(vb))
    if op is not None and tv in ((float, float), (float, int), (int, float)):
        v = op(va, vb)              # float arithmetic: what NumPy computes
    else:
        v = float((ufunc or getattr(np, name))(va, vb))
    ja, jb, haa, hab, hbb, select = kind
    ta = ja and sa
    tb = jb and sb
    if select:      # branch-local: a strict winner alone enters (ties, nan: both)
        a_wins, b_wins = (va > vb, vb > va) if rule in ("maximum", "fmax") else (va < vb,
                                                                              vb < va)
        ta, tb = ta and not b_wins, tb and not a_wins
    if not (ta or tb):
        return v
    if ta and not tb:
        g = a._g
    elif tb and not ta:
        g = b._g
    else:
        g = a._g | b._g
    h = None
    if ctx.hessian:
        n = ctx.n
        h = frozenset()
        if ta:
            h = h | a._h
            if haa:
                h = h | _pairs(a._g, a._g, n)
        if tb:
            h = h | b._h
            if hbb:
                h = h | _pairs(b._g, b._g, n)
        if ta and tb and hab:
            h = h | _pairs(a._g, b._g, n)
    return _ScalarPattern(v, g, h, ctx)


_tracer._make_scalar = _ScalarPattern
