"""The pattern tracer: an array of values that carries each element's index sets.

``_PatternArray`` holds the values (so branches go as at x) and, per element in
C order, its gradient set and, for Hessians, its pair set (i*n + j, i <= j) as
CSR families for the kernels of _sets.pyx; families are immutable and shared.
Shape operations are row gathers (the same NumPy call on 1-based row numbers,
0 marking a padded constant), reductions segment unions.  What has no rule
raises TypeError.  Views write through to their base; a view used after its
base changed raises.  Single elements are scalar tracers (_scalar.py), turned
into 0-d arrays wherever they meet array code (_unscalar at every entry point).
"""
import numpy as np

from .. import dual as _dual
from . import _sets
from ._classify import BINARY_KIND, NUMPY_ALIASES, PREDICATES, UNARY_KIND

_I64 = np.int64

#: __array_function__ handlers, filled by _numpy_api (func -> handler)
HANDLERS = {}

#: row-number arrays per shape (_PatternArray._rows): at most _ROWS_MAX of them,
#: each of at most _ROWS_MAX_SIZE elements (32 x 8 MB at worst)
_ROWS = {}
_ROWS_MAX = 32
_ROWS_MAX_SIZE = 1 << 20


def _unsupported(what):
    return TypeError(f"{what} is not supported by dualml's sparsity detection; write f "
                     f"with supported NumPy operations, or pass the pattern explicitly "
                     f"(sparsity=)")


class _ScalarBase:
    """Base of the scalar tracer (_scalar.py): what the array code converts."""
    __slots__ = ()

    def _as_array(self):                # a 0-d _PatternArray with the same sets
        raise NotImplementedError


def _unscalar(x):
    return x._as_array() if isinstance(x, _ScalarBase) else x


def _unscalar_all(xs):
    """Traced scalars in a tuple (and in lists/tuples inside it) as 0-d arrays."""
    return tuple(type(x)(_unscalar(e) for e in x) if isinstance(x, (list, tuple))
                 else _unscalar(x) for x in xs)


#: the scalar tracer's constructor, set by _scalar (x[i] of a 1-d array gives one)
_make_scalar = None


class _Context:
    """One detection run: the number of inputs, whether pairs are traced, and
    the integer type of the gradient sets (int32 below 2**31 inputs: half the
    memory traffic of int64; pair codes i*n + j are always int64)."""
    __slots__ = ("gdtype", "hessian", "n")

    def __init__(self, n, hessian):
        self.n, self.hessian = n, hessian
        self.gdtype = np.dtype(np.int32) if n < 2**31 - 1 else np.dtype(np.int64)


def _empty_family(rows, dtype=_I64):
    return np.zeros(rows + 1, dtype=_I64), np.zeros(0, dtype=dtype)


class _PatternArray:
    """Values plus per-element index sets; built by dualml.jacobian_sparsity."""
    __slots__ = ("_base", "_bidx", "_bver", "_ctx", "_g", "_h", "_v", "_ver")

    def __init__(self, value, g, h, ctx, base=None, bidx=None):
        self._v = value                  # float64 ndarray (may be 0-d)
        self._g = g                      # (indptr, indices), one row per element
        self._h = h                      # the same for pairs, or None
        self._ctx = ctx
        self._base = base                # the array this one is a view of
        self._bidx = bidx                # flat positions in the base, shape of value
        self._bver = base._ver if base is not None else 0
        self._ver = 0                    # bumped by every write

    # -- basic attributes -------------------------------------------------------
    shape = property(lambda self: self._v.shape)
    ndim = property(lambda self: self._v.ndim)
    size = property(lambda self: self._v.size)
    dtype = property(lambda self: self._v.dtype)
    T = property(lambda self: self.transpose())

    @property
    def value(self):
        """The values, a read-only float array without the pattern (as a
        DualArray's .value has no derivative): what dualml.softmax and
        logsumexp subtract as a constant shift."""
        self._check()
        v = self._v.view()
        v.flags.writeable = False
        return v

    def __len__(self):
        return len(self._v)

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        for i in range(len(self._v)):
            yield self[i]

    def __repr__(self):
        self._check()
        return f"_PatternArray(shape={self.shape}, nnz={len(self._g[1])})"

    # values out would drop the pattern
    def __array__(self, dtype=None, copy=None):
        raise _unsupported("Converting the traced array to a plain ndarray (np.asarray, "
                           "np.array, assigning into a NumPy array: build arrays with "
                           "np.zeros_like(x), np.stack or np.concatenate, or return a list)")

    def __float__(self):
        raise _unsupported("float() of a traced value (math functions call it too: use "
                           "np.* or dualml.* functions)")

    __int__ = __index__ = __complex__ = __float__

    def __bool__(self):
        # a branch on the value: decided at x, as the evaluation decides it
        self._check()
        return bool(self._v)

    # -- view bookkeeping -------------------------------------------------------
    def _check(self):
        b = self._base
        if b is not None and b._ver != self._bver:
            raise TypeError("a view of a traced array was used after its base array was "
                            "modified; the tracer cannot follow that aliasing: copy the "
                            "view (.copy()) before the write, or pass sparsity=")

    # -- construction helpers ---------------------------------------------------
    def _new(self, value, g, h):
        return _PatternArray(value, g, h, self._ctx)

    def _rows(self):
        """Row numbers in the shape of the array (read-only, cached per shape)."""
        shape = self._v.shape
        r = _ROWS.get(shape)
        if r is None:
            r = np.arange(self._v.size, dtype=_I64).reshape(shape)
            r.flags.writeable = False
            if r.size <= _ROWS_MAX_SIZE:
                if len(_ROWS) >= _ROWS_MAX:        # bounded: start over
                    _ROWS.clear()
                _ROWS[shape] = r
        return r

    def _gather(self, rowmap, value, view_of=None, contiguous=False):
        """A new array whose element k takes row rowmap[k] (-1: constant).

        contiguous: rowmap is known to be a run of consecutive rows (a C-ordered
        view of the row numbers), taken as a slice of the families.
        """
        rowmap = np.ascontiguousarray(rowmap, dtype=_I64).ravel()
        if contiguous and rowmap.size:
            lo, hi = int(rowmap[0]), int(rowmap[-1]) + 1
            g = _slice_family(self._g, lo, hi)
            h = _slice_family(self._h, lo, hi) if self._h is not None else None
        else:
            g = _sets.gather(*self._g, rowmap)
            h = _sets.gather(*self._h, rowmap) if self._h is not None else None
        if view_of is None:
            return self._new(value, g, h)
        root = view_of._base if view_of._base is not None else view_of
        bidx = rowmap if view_of._base is None else view_of._bidx.ravel()[rowmap]
        return _PatternArray(value, g, h, self._ctx, root, bidx.reshape(value.shape))

    # -- indexing ---------------------------------------------------------------
    def __getitem__(self, key):
        self._check()
        if type(key) is int and self._v.ndim == 1:
            # one element (scalar code on x[i]): a slice of the families
            n = self._v.shape[0]
            k = key + n if key < 0 else key
            if not 0 <= k < n:
                raise IndexError(f"index {key} is out of bounds for axis 0 with size {n}")
            (p, i), hf = self._g, self._h
            h = frozenset(hf[1][hf[0][k]:hf[0][k + 1]].tolist()) if hf is not None else None
            return _make_scalar(float(self._v[k]), frozenset(i[p[k]:p[k + 1]].tolist()), h,
                                self._ctx)
        key = _plain_key(key)
        rows = self._rows()
        sel = rows[key]
        value = self._v[key]
        view = isinstance(sel, np.ndarray) and np.may_share_memory(sel, rows)
        if not isinstance(sel, np.ndarray):
            sel = np.asarray(sel)
            value = np.asarray(value)
        return self._gather(sel, value, self if view else None,
                            contiguous=view and sel.flags.c_contiguous)

    def __setitem__(self, key, val):
        self._check()
        key = _plain_key(key)
        val = _lift(val, self._ctx)
        val._check()
        rows = self._rows()
        target = rows[key]
        new_v = self._v.copy()
        new_v[key] = val._v
        if np.ndim(target) == 0 and val.ndim == 0:
            lo = int(target)                       # one element
            self._assign(new_v, None, None, (lo, lo + 1, val))
            return
        if (isinstance(target, np.ndarray) and target.size and target.shape == val.shape
                and target.flags.c_contiguous and np.may_share_memory(target, rows)):
            # a run of consecutive rows replaced by val's rows in order: a splice
            lo = int(target.flat[0])
            self._assign(new_v, None, None, (lo, lo + target.size, val))
            return
        vrows = np.broadcast_to(val._rows(), np.shape(target))
        rowmap = np.arange(self.size, dtype=_I64)
        rowmap[np.ravel(target)] = np.ravel(vrows) + self.size
        self._assign(new_v, _stack_families([self, val]), rowmap)

    def _assign(self, new_v, families, rowmap, splice=None):
        self._v = new_v
        if splice is not None:
            lo, hi, val = splice
            self._g = _splice(self._g, lo, hi, val._g)
            if self._h is not None:
                self._h = _splice(self._h, lo, hi, val._h)
        else:
            g, h = families
            self._g = _sets.gather(*g, rowmap)
            if h is not None:
                self._h = _sets.gather(*h, rowmap)
        self._ver += 1
        b = self._base
        if b is not None:                # write through to the base
            flat = self._bidx.ravel()
            base_v = b._v.copy()
            base_v.flat[flat] = self._v.ravel()
            rowmap = np.arange(b.size, dtype=_I64)
            rowmap[flat] = np.arange(self.size, dtype=_I64) + b.size
            b._assign(base_v, _stack_families([b, self]), rowmap)
            self._bver = b._ver

    def _inplace(self, other, name):
        r = _lift(_binary(name, self, other), self._ctx)   # floor_divide: a constant
        if self.ndim == 0 and self._base is None:
            return r                     # a scalar: rebound, as Python numbers are
        self[...] = r
        return self

    __iadd__ = lambda self, o: self._inplace(o, "add")
    __isub__ = lambda self, o: self._inplace(o, "subtract")
    __imul__ = lambda self, o: self._inplace(o, "multiply")
    __itruediv__ = lambda self, o: self._inplace(o, "divide")
    __ipow__ = lambda self, o: self._inplace(o, "power")
    __ifloordiv__ = lambda self, o: self._inplace(o, "floor_divide")
    __imod__ = lambda self, o: self._inplace(o, "remainder")

    def __imatmul__(self, o):
        r = HANDLERS[np.matmul](self, o)
        self[...] = r
        return self

    # -- operators --------------------------------------------------------------
    __add__ = lambda self, o: _binary("add", self, o)
    __radd__ = lambda self, o: _binary("add", o, self)
    __sub__ = lambda self, o: _binary("subtract", self, o)
    __rsub__ = lambda self, o: _binary("subtract", o, self)
    __mul__ = lambda self, o: _binary("multiply", self, o)
    __rmul__ = lambda self, o: _binary("multiply", o, self)
    __truediv__ = lambda self, o: _binary("divide", self, o)
    __rtruediv__ = lambda self, o: _binary("divide", o, self)
    __pow__ = lambda self, o: _binary("power", self, o)
    __rpow__ = lambda self, o: _binary("power", o, self)
    __floordiv__ = lambda self, o: _binary("floor_divide", self, o)
    __rfloordiv__ = lambda self, o: _binary("floor_divide", o, self)
    __mod__ = lambda self, o: _binary("remainder", self, o)
    __rmod__ = lambda self, o: _binary("remainder", o, self)
    __neg__ = lambda self: _unary("negative", self)
    __pos__ = lambda self: _unary("positive", self)
    __abs__ = lambda self: _unary("absolute", self)
    __lt__ = lambda self, o: _predicate(np.less, self, o)
    __le__ = lambda self, o: _predicate(np.less_equal, self, o)
    __gt__ = lambda self, o: _predicate(np.greater, self, o)
    __ge__ = lambda self, o: _predicate(np.greater_equal, self, o)
    __eq__ = lambda self, o: _predicate(np.equal, self, o)
    __ne__ = lambda self, o: _predicate(np.not_equal, self, o)
    __hash__ = None

    def __matmul__(self, o):
        return HANDLERS[np.matmul](self, o)

    def __rmatmul__(self, o):
        return HANDLERS[np.matmul](o, self)

    # -- NumPy protocols --------------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = _unscalar_all(inputs)
        out = kwargs.pop("out", None)
        kwargs.pop("casting", None)
        name = ufunc.__name__
        if method == "__call__":
            if kwargs.keys() - {"dtype"} or kwargs.get("dtype") not in (None, float, np.float64):
                raise _unsupported(f"numpy.{name} with {sorted(kwargs)}")
            if ufunc is np.matmul:
                r = HANDLERS[np.matmul](*inputs)
            elif ufunc.__name__ == "clip" and len(inputs) == 3:
                r = _binary("minimum", _binary("maximum", inputs[0], inputs[1]), inputs[2])
            elif name in PREDICATES:
                r = _predicate(ufunc, *inputs)
            elif ufunc.nin == 1 and ufunc.nout == 1:
                r = _unary(name, inputs[0], ufunc=ufunc)
            elif ufunc.nin == 2 and ufunc.nout == 1:
                r = _binary(name, inputs[0], inputs[1], ufunc=ufunc)
            elif name == "divmod":
                return (_binary("floor_divide", *inputs), _binary("remainder", *inputs))
            else:
                raise _unsupported(f"numpy.{name}")
        elif method in ("reduce", "accumulate") and name in ("add", "multiply", "maximum",
                                                              "minimum", "fmax", "fmin"):
            fn = {("reduce", "add"): np.sum, ("reduce", "multiply"): np.prod,
                  ("accumulate", "add"): np.cumsum, ("accumulate", "multiply"): np.cumprod,
                  ("reduce", "maximum"): np.max, ("reduce", "fmax"): np.nanmax,
                  ("reduce", "minimum"): np.min, ("reduce", "fmin"): np.nanmin}.get((method, name))
            if fn is None:
                raise _unsupported(f"numpy.{name}.{method}")
            kwargs.setdefault("axis", 0)
            r = HANDLERS[fn](*inputs, **kwargs)
        else:
            raise _unsupported(f"numpy.{name}.{method}")
        if out is not None:
            (o,) = out
            if not isinstance(o, _PatternArray):
                raise _unsupported(f"numpy.{name}(..., out=<plain ndarray>)")
            o[...] = r
            return o
        return r

    def __array_function__(self, func, types, args, kwargs):
        handler = HANDLERS.get(func)
        if handler is None:
            raise _unsupported(f"numpy.{func.__name__}")
        args = _unscalar_all(args)
        kwargs = dict(zip(kwargs, _unscalar_all(tuple(kwargs.values()))))
        return handler(*args, **kwargs)

    def __dualml_function__(self, name, args, kwargs):
        """dualml.<name>(...) on a traced array (dualml's dispatch hook)."""
        args = _unscalar_all(args)
        if kwargs:
            if set(kwargs) == {"alpha"} and len(args) == 1 and name in UNARY_KIND:
                args = (args[0], kwargs["alpha"])
            else:
                raise _unsupported(f"dualml.{name} with keywords {sorted(kwargs)}")
        if name in BINARY_KIND and len(args) == 2:
            return _binary(name, args[0], args[1])
        if name in UNARY_KIND and len(args) in (1, 2):
            if len(args) == 2 and isinstance(args[1], _PatternArray):
                raise TypeError(f"dualml.{name}(): alpha is a constant of the function and "
                                f"cannot depend on x")
            return _unary(name, args[0], param=args[1] if len(args) == 2 else None)
        raise _unsupported(f"dualml.{name}")

    # -- methods (the NumPy functions) -----------------------------------------
    def _method(name):
        def m(self, *args, **kwargs):
            return getattr(np, name)(self, *args, **kwargs)
        m.__name__ = name
        return m

    for _name in ("sum", "prod", "mean", "max", "min", "cumsum", "cumprod", "ravel",
                  "transpose", "swapaxes", "squeeze", "diagonal", "take", "repeat",
                  "clip", "dot", "std", "var", "trace", "round", "nonzero", "argmax",
                  "argmin", "argsort", "any", "all"):
        locals()[_name] = _method(_name)
    del _name, _method

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and not isinstance(shape[0], int):
            shape = shape[0]
        return np.reshape(self, shape, order=order)

    def sort(self, axis=-1, kind=None, order=None):
        """In place, as ndarray.sort (np.sort gives a sorted copy)."""
        self[...] = np.sort(self, axis=axis)

    def flatten(self):
        return np.ravel(self).copy()

    def copy(self):
        self._check()
        return self._new(self._v.copy(), self._g, self._h)

    def astype(self, dtype, copy=True):
        if np.dtype(dtype).kind != "f":
            raise _unsupported(f"astype({dtype}) of a traced array (the derivative would "
                               f"be dropped)")
        return self.copy() if copy else self

    def item(self):
        raise _unsupported("item() of a traced array")

    def tolist(self):
        if self.ndim == 0:
            return self.copy()
        return [e.tolist() for e in self]


def _slice_family(fam, lo, hi):
    """Rows lo..hi-1 of a family (shares the indices)."""
    p, i = fam
    start = p[lo]
    return p[lo:hi + 1] - start, i[start:p[hi]]


def _splice(fam, lo, hi, new):
    """fam with rows lo..hi-1 replaced by the rows of new (hi - lo of them)."""
    p, i = fam
    q, j = new
    a, b = p[lo], p[hi]
    ptr = np.concatenate([p[:lo + 1], q[1:] + a, p[hi + 1:] - b + a + len(j)])
    return ptr, np.concatenate([i[:a], j, i[b:]])


def _plain_key(key):
    if isinstance(key, _PatternArray):
        raise TypeError("indexing with a traced (x-dependent) array is not supported; "
                        "use np.where, or pass sparsity=")
    if isinstance(key, tuple) and any(isinstance(k, _PatternArray) for k in key):
        return _plain_key(next(k for k in key if isinstance(k, _PatternArray)))
    return key


def _lift(c, ctx):
    """A traced array from a traced array, constant or sequence of them."""
    c = _unscalar(c)
    if isinstance(c, _PatternArray):
        if c._ctx is not ctx:
            raise TypeError("traced arrays of two different detection runs were mixed")
        return c
    if isinstance(c, (list, tuple)) and any(
            isinstance(e, (_PatternArray, _ScalarBase, list, tuple)) for e in c):
        return HANDLERS[np.stack]([_lift(e, ctx) for e in c])
    v = np.asarray(c)
    if v.dtype.kind not in "biuf":
        raise TypeError(f"a constant of dtype {v.dtype} met a traced array; constants must "
                        f"be real numbers or arrays of them")
    v = v.astype(np.float64)
    h = _empty_family(v.size) if ctx.hessian else None
    return _PatternArray(v, _empty_family(v.size, ctx.gdtype), h, ctx)


def _ctx_of(*xs):
    ctx = None
    for x in xs:
        if isinstance(x, _PatternArray):
            x._check()
            if ctx is None:
                ctx = x._ctx
            elif x._ctx is not ctx:
                raise TypeError("traced arrays of two different detection runs were mixed")
    return ctx


def _value(x):
    if isinstance(x, _ScalarBase):     # never a constant: the entry points convert
        raise TypeError("internal error: a traced scalar reached a constant's place")
    return x._v if isinstance(x, _PatternArray) else x


def _stack_families(arrays):
    """The families of several traced arrays as one (rows one after another)."""
    def cat(fams):
        ptrs, inds, off = [np.zeros(1, _I64)], [], 0
        for p, i in fams:
            ptrs.append(p[1:] + off)
            inds.append(i)
            off += len(i)
        return np.concatenate(ptrs), np.concatenate(inds)
    g = cat([a._g for a in arrays])
    h = cat([a._h for a in arrays]) if arrays[0]._h is not None else None
    return g, h


def _predicate(ufunc, *inputs):
    inputs = _unscalar_all(inputs)
    _ctx_of(*inputs)
    return ufunc(*[_value(x) for x in inputs])


def _rule_value(name, ufunc, v, param):
    if ufunc is not None:
        return ufunc(v)
    fn = getattr(_dual, name)
    r = fn(v) if param is None else fn(v, param)
    return np.asarray(r, dtype=np.float64)


def _unary(name, x, ufunc=None, param=None):
    x = _unscalar(x)
    ctx = _ctx_of(x)
    rule = NUMPY_ALIASES.get(name, name)
    kind = UNARY_KIND.get(rule)
    if kind is None:
        raise _unsupported(f"numpy.{name}" if ufunc is not None else f"dualml.{name}")
    v = np.asarray(_rule_value(name, ufunc, _value(x), param), dtype=np.float64)
    if ctx is None or kind == "zero":
        return v
    h = x._h
    if kind == "nonlinear" and h is not None:
        p, i = x._g
        h = _union([(h, None), (_sets.pairs(p, i, None, p, i, None, ctx.n), None)], x.size)
    return _PatternArray(v, x._g, h, ctx)


def _rowmap(x, shape):
    """Row of x for each element of the broadcast result (None: the identity)."""
    if x.shape == shape:
        return None
    return np.ascontiguousarray(np.broadcast_to(x._rows(), shape), dtype=_I64).ravel()


def _union(parts, size, dtype=_I64):
    """One family from (family, rowmap) parts aligned on the output rows.

    dtype: the entries' type when no part has any (the result is empty).
    """
    parts = [pt for pt in parts if len(pt[0][1])]          # empty sets add nothing
    if not parts:
        return _empty_family(size, dtype)
    (fam, rm), rest = parts[0], parts[1:]
    if not rest:
        return fam if rm is None else _sets.gather(*fam, rm)
    (fam2, rm2), rest = rest[0], rest[1:]
    if fam2 is fam and rm is None and rm2 is None:     # x + f(x): one shared family
        acc = fam
    else:
        acc = _sets.union2(*fam, rm, *fam2, rm2)
    for fam, rm in rest:
        acc = _sets.union2(*acc, None, *fam, rm)
    return acc


def _binary(name, a, b, ufunc=None):
    a, b = _unscalar(a), _unscalar(b)
    ctx = _ctx_of(a, b)
    rule = NUMPY_ALIASES.get(name, name)
    kind = BINARY_KIND.get(rule)
    if kind is None:
        raise _unsupported(f"numpy.{name}" if ufunc is not None else f"dualml.{name}")
    if ufunc is None:
        ufunc = getattr(np, name)
    va, vb = _value(a), _value(b)
    v = np.asarray(ufunc(va, vb), dtype=np.float64)
    ja, jb, haa, hab, hbb, select = kind
    if ctx is None:
        return v
    ta = ja and isinstance(a, _PatternArray)
    tb = jb and isinstance(b, _PatternArray)
    if not (ta or tb):
        return v
    shape, size = v.shape, v.size
    ra = _rowmap(a, shape) if ta else None
    rb = _rowmap(b, shape) if tb else None
    if select:
        # branch-local: where one side strictly wins, only its pattern enters
        wa = np.broadcast_to(va, shape).ravel()
        wb = np.broadcast_to(vb, shape).ravel()
        if rule in ("maximum", "fmax"):
            a_only, b_only = wa > wb, wb > wa
        else:
            a_only, b_only = wa < wb, wb < wa
        ident = np.arange(size, dtype=_I64)
        if ta:
            ra = ident.copy() if ra is None else ra.copy()
            ra[b_only] = -1
        if tb:
            rb = ident.copy() if rb is None else rb.copy()
            rb[a_only] = -1
    # pattern-preserving fast path: one traced operand of the result's shape
    if ta and not tb and a.shape == shape and not haa and not select:
        return _PatternArray(v, a._g, a._h, ctx)
    if tb and not ta and b.shape == shape and not hbb and not select:
        return _PatternArray(v, b._g, b._h, ctx)
    gparts = ([(a._g, ra)] if ta else []) + ([(b._g, rb)] if tb else [])
    g = _union(gparts, size, ctx.gdtype)
    h = None
    if ctx.hessian:
        hparts = ([(a._h, ra)] if ta else []) + ([(b._h, rb)] if tb else [])
        n = ctx.n
        if ta and haa:
            hparts.append((_sets.pairs(*a._g, ra, *a._g, ra, n), None))
        if ta and tb and hab:
            hparts.append((_sets.pairs(*a._g, ra, *b._g, rb, n), None))
        if tb and hbb:
            hparts.append((_sets.pairs(*b._g, rb, *b._g, rb, n), None))
        h = _union(hparts, size)
    return _PatternArray(v, g, h, ctx)
