# NumPy's protocols -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# __array_ufunc__ and __array_function__: the C entries that find a fast
# path for a ufunc or a NumPy function (direct-mapped caches keyed by
# address) and hand everything else to the Python implementation.

# ---------------------------------------------------------------------------
# NumPy's ufunc protocol
#
# NumPy calls type(x).__array_ufunc__(x, ufunc, method, *inputs, **kwargs)
# with a tuple and a dict; __array_ufunc__ is the C callable of
# dualml/_ufunc_callable.h (as Dual's), which hands both as they are to
# _ufunc_entry: no inputs tuple and kwargs dict copied per call.  The rule
# of a ufunc comes from a direct-mapped cache keyed by the ufunc's address
# in front of the _UFUNC1/_UFUNC2 maps (their entries, never removed, keep
# the cached ufuncs alive; filled under the GIL).  The value predicates
# (isnan, isinf, isfinite, signbit and the comparisons) are NumPy's on the
# values (the first four as one loop into a bool array), and
# np.add / multiply / maximum / minimum .reduce with at most axis= and
# keepdims= are the methods sum / prod / max / min (their C paths).  A call
# with other keywords, another method, a ufunc without a rule or operands
# the C paths decline goes to the Python implementation
# (_numpy_api._array_ufunc_entry).

cdef extern from "../_ufunc_callable.h":
    ctypedef object (*dualml_ufunc_impl)(object, object)
    object dualml_ufunc_new(dualml_ufunc_impl entry, const char *tp_name, const char *tp_doc)
    Py_ssize_t PyDict_GET_SIZE(object)       # kwds of a tp_call: always a dict

cdef enum:
    UF_NONE = -1
    UF_UNARY = 0 << 8               # | unary rule index
    UF_BINARY = 1 << 8              # | binary rule index
    UF_MATMUL = 2 << 8
    UF_PRED = 3 << 8                # a predicate of the values (isnan, less, ...)

cdef void *_UF_KEY[64]
cdef Py_ssize_t _UF_VAL[64]


# ufuncs whose result is a bool array of the values: the values' ufunc
# (_numpy_api._PRED1 / _PRED2, which the Python path serves likewise)
cdef frozenset _PRED_UFUNCS = frozenset([np.isnan, np.isinf, np.isfinite, np.signbit,
                                         np.less, np.less_equal, np.greater,
                                         np.greater_equal, np.equal, np.not_equal])


cdef object _pred_operand(object o):
    # a predicate's operand: a first-order DualArray's values, a float64
    # ndarray or a Python / NumPy float or int as it is; None otherwise
    t = type(o)
    if t is DualArray:
        return _V(<DualArray>o) if _flat(<DualArray>o) else None
    if t is float or t is int or t is _np_float64:
        return o
    if t is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE:
        return o
    return None


cdef object _np_isnan = np.isnan, _np_isinf = np.isinf, _np_isfinite = np.isfinite
cdef object _np_signbit = np.signbit


cdef object _pred1(object uf, object v):
    # isnan / isinf / isfinite / signbit of the values v: on a C-contiguous
    # float64 array one loop into a new bool array (the same tests NumPy's
    # loops make); else (a 0-d one too: NumPy gives a np.bool_) the ufunc
    cdef cnp.ndarray a, r
    cdef const double *p
    cdef const int64_t *q
    cdef char *o
    cdef Py_ssize_t i, n
    cdef double x
    if not (type(v) is ndarray and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>v)
            and cnp.PyArray_NDIM(<cnp.ndarray>v) > 0):
        return uf(v)
    a = <cnp.ndarray>v
    r = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.NPY_BOOL, 0)
    n = cnp.PyArray_SIZE(a)
    p = <const double *>cnp.PyArray_DATA(a)
    q = <const int64_t *>cnp.PyArray_DATA(a)
    o = <char *>cnp.PyArray_DATA(r)
    if uf is _np_isnan:
        for i in range(n):
            o[i] = p[i] != p[i]
    elif uf is _np_isinf:
        for i in range(n):
            x = p[i]
            o[i] = x == INFINITY or x == -INFINITY
    elif uf is _np_isfinite:
        for i in range(n):
            x = p[i]
            o[i] = x == x and x != INFINITY and x != -INFINITY   # (quiet comparisons)
    elif uf is _np_signbit:
        for i in range(n):
            o[i] = q[i] < 0
    else:
        return uf(v)
    return r


cdef dict _CMP_CODE = {np.less: 0, np.less_equal: 1, np.greater: 2, np.greater_equal: 3,
                       np.equal: 4, np.not_equal: 5}


cdef bint _cmp_scalar(object o, double *c) except -1:
    # a comparison's scalar operand as the double NumPy compares with: a
    # float, a np.float64, or an int that a double holds exactly
    t = type(o)
    if t is float or t is _np_float64:
        c[0] = PyFloat_AS_DOUBLE(o)
        return True
    if t is int and -(1 << 53) <= o <= (1 << 53):
        c[0] = <double>(<long long>o)
        return True
    return False


cdef object _pred2(object uf, object a, object b):
    # less / less_equal / greater / greater_equal / equal / not_equal of the
    # values: two C-contiguous float64 arrays of one shape, or one and a
    # scalar (either side), of at most 4096 elements (NumPy's vector loops
    # win above), by one loop of quiet comparisons into a new bool array
    # (NumPy's loops make the same IEEE comparisons); else the ufunc
    cdef cnp.ndarray x, y = None, r
    cdef const double *p
    cdef const double *q = NULL
    cdef char *o
    cdef double c = 0.0, s, t
    cdef Py_ssize_t i, n
    cdef int code, sa = 0, nd
    w = _CMP_CODE.get(uf)
    if w is None:
        return uf(a, b)
    code = <int>w
    if type(a) is ndarray:
        x = <cnp.ndarray>a
        if type(b) is ndarray:
            y = <cnp.ndarray>b
        elif not _cmp_scalar(b, &c):
            return uf(a, b)
    elif type(b) is ndarray and _cmp_scalar(a, &c):
        x = <cnp.ndarray>b
        sa = 1
    else:
        return uf(a, b)
    nd = cnp.PyArray_NDIM(x)
    if not (nd > 0 and cnp.PyArray_SIZE(x) <= 4096 and cnp.PyArray_TYPE(x) == cnp.NPY_DOUBLE and cnp.PyArray_IS_C_CONTIGUOUS(x)
            and cnp.PyArray_ISALIGNED(x)):
        return uf(a, b)
    if y is not None:
        if not (cnp.PyArray_NDIM(y) == nd and cnp.PyArray_TYPE(y) == cnp.NPY_DOUBLE
                and cnp.PyArray_IS_C_CONTIGUOUS(y) and cnp.PyArray_ISALIGNED(y)):
            return uf(a, b)
        for i in range(nd):
            if cnp.PyArray_DIMS(x)[i] != cnp.PyArray_DIMS(y)[i]:
                return uf(a, b)
        q = <const double *>cnp.PyArray_DATA(y)
    r = cnp.PyArray_EMPTY(nd, cnp.PyArray_DIMS(x), cnp.NPY_BOOL, 0)
    n = cnp.PyArray_SIZE(x)
    p = <const double *>cnp.PyArray_DATA(x)
    o = <char *>cnp.PyArray_DATA(r)
    for i in range(n):
        s = p[i]
        t = q[i] if q != NULL else c
        if sa:
            s, t = t, s
        if code == 0:
            o[i] = s < t
        elif code == 1:
            o[i] = s <= t
        elif code == 2:
            o[i] = s > t
        elif code == 3:
            o[i] = s >= t
        elif code == 4:
            o[i] = s == t
        else:
            o[i] = s != t
    return r


cdef Py_ssize_t _ufunc_code(object uf) except -2:
    cdef size_t h = ((<size_t><void *>uf) >> 5) & 63
    cdef Py_ssize_t code
    if _UF_KEY[h] == <void *>uf:
        return _UF_VAL[h]
    if uf is _np_matmul:
        code = UF_MATMUL
    elif uf in _PRED_UFUNCS:
        code = UF_PRED
    else:
        rule = _UFUNC1.get(uf)
        if rule is not None:
            code = UF_UNARY | <Py_ssize_t>rule
        else:
            rule = _UFUNC2.get(uf)
            if rule is None:
                return UF_NONE
            code = UF_BINARY | <Py_ssize_t>rule
    _UF_KEY[h] = <void *>uf
    _UF_VAL[h] = code
    return code


cdef dict _COMPOSED = None          # _numpy_api._UFUNC_COMPOSED, copied at first need
cdef dict _SCALE = None             # _numpy_api._UFUNC_SCALE, likewise


cdef object _composed_operand(object o):
    # an operand of a composed ufunc as the Python path's _operand makes it
    # (a DualArray or a float64 ndarray as it is, a Python or NumPy float or
    # int as a 0-d float64 array); None for anything else (that path's)
    t = type(o)
    if t is DualArray:
        return o
    if t is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE:
        return o
    if t is float or t is int or t is _np_float64:
        return np.array(o, dtype=np.float64)
    return None


cdef object _ufunc_entry(object args, object kwds):
    # args: (x, ufunc, method, *inputs) as NumPy (or a caller of
    # x.__array_ufunc__) passed them; kwds the keyword dict, or None
    global _COMPOSED, _SCALE
    cdef tuple t = <tuple>args
    cdef Py_ssize_t code, n = PyTuple_GET_SIZE(t) - 3
    cdef object r = NotImplemented
    if n < 0 or type(<object>PyTuple_GET_ITEM(t, 0)) is not DualArray:
        raise TypeError("DualArray.__array_ufunc__(self, ufunc, method, *inputs, **kwargs) "
                        "takes a DualArray, a ufunc and a method name")
    if 1 <= n <= 2 and (kwds is None or PyDict_GET_SIZE(kwds) == 0):
        method = <object>PyTuple_GET_ITEM(t, 2)
        if type(method) is str and <str>method == "__call__":
            code = _ufunc_code(<object>PyTuple_GET_ITEM(t, 1))
            a = <object>PyTuple_GET_ITEM(t, 3)
            if code == UF_PRED:
                a = _pred_operand(a)
                if n == 1:
                    if a is not None:
                        return _pred1(<object>PyTuple_GET_ITEM(t, 1), a)
                else:
                    b = _pred_operand(<object>PyTuple_GET_ITEM(t, 4))
                    if a is not None and b is not None:
                        return _pred2(<object>PyTuple_GET_ITEM(t, 1), a, b)
            elif n == 1:
                if UF_UNARY <= code < UF_BINARY and type(a) is DualArray:
                    r = _unary(code & 255, <DualArray>a, 0.0)
            else:
                b = <object>PyTuple_GET_ITEM(t, 4)
                if code == UF_MATMUL:
                    # w @ x with w an ndarray comes here (ndarray.__matmul__
                    # does not defer to __rmatmul__ while this protocol exists)
                    r = _matmul(a, b)
                elif UF_BINARY <= code < UF_MATMUL:
                    r = _binary(code & 255, a, b)
            if r is not NotImplemented:
                return r
    if 1 <= n <= 2 and (kwds is None or PyDict_GET_SIZE(kwds) == 0):
        # a ufunc that is a composition of rules (_numpy_api._UFUNC_COMPOSED:
        # deg2rad, fmod, logaddexp2, ...) on plain operands: the composition
        # itself, as the Python path calls it, without that path's dispatch
        method = <object>PyTuple_GET_ITEM(t, 2)
        if type(method) is str and <str>method == "__call__":
            if _COMPOSED is None:
                _SCALE = dict(_py._UFUNC_SCALE)
                _COMPOSED = dict(_py._UFUNC_COMPOSED)
            f = _COMPOSED.get(<object>PyTuple_GET_ITEM(t, 1))
            c = _SCALE.get(<object>PyTuple_GET_ITEM(t, 1)) if n == 1 else None
            if c is not None and type(<object>PyTuple_GET_ITEM(t, 3)) is DualArray:
                # deg2rad & co.: the product with their constant
                r = _binary(R_MUL, <object>PyTuple_GET_ITEM(t, 3), c)
                if r is not NotImplemented:
                    return r
            if f is not None:
                a = _composed_operand(<object>PyTuple_GET_ITEM(t, 3))
                if n == 1 and a is not None:
                    return f(a)
                if n == 2 and a is not None:
                    b = _composed_operand(<object>PyTuple_GET_ITEM(t, 4))
                    if b is not None:
                        return f(a, b)
    if n == 1:
        method = <object>PyTuple_GET_ITEM(t, 2)
        a = <object>PyTuple_GET_ITEM(t, 3)
        if type(method) is str and <str>method == "reduce" and type(a) is DualArray:
            r = _ufunc_reduce(<object>PyTuple_GET_ITEM(t, 1), <DualArray>a, kwds)
            if r is not NotImplemented:
                return r
    return _py._array_ufunc_entry(t[0], t[1], t[2], t[3:], {} if kwds is None else kwds)


cdef dict _REDUCE_METHOD = {np.add: "sum", np.multiply: "prod", np.maximum: "max",
                            np.minimum: "min"}


cdef object _ufunc_reduce(object uf, DualArray x, object kwds):
    # np.add.reduce(x, axis=0, keepdims=False) and the multiply, maximum and
    # minimum ones with no other keyword: the methods sum / prod / max / min
    # (their C paths; the Python path's _reduce_kw calls the same reductions)
    name = _REDUCE_METHOD.get(uf)
    if name is None:
        return NotImplemented
    axis = 0
    keepdims = False
    if kwds is not None and PyDict_GET_SIZE(kwds):
        for key, val in (<dict>kwds).items():
            if key == "axis":
                axis = val
            elif key == "keepdims" and type(val) is bool:
                keepdims = val
            else:
                return NotImplemented
    return getattr(x, name)(axis, keepdims)


_ARRAY_UFUNC = dualml_ufunc_new(
    _ufunc_entry, "dualml.arrays._core._ArrayUfunc",
    "__array_ufunc__(self, ufunc, method, *inputs, **kwargs)\n\n"
    "NumPy's ufunc protocol for DualArray (a C callable bound like a method).")


# ---------------------------------------------------------------------------
# NumPy's function protocol
#
# NumPy calls type(x).__array_function__(x, func, types, args, kwargs) as a
# vectorcall; __array_function__ is the C callable of
# dualml/_function_callable.h, which hands the five arguments to
# _afunc_entry.  The commonest calls with plain arguments (no keywords) are
# served here: np.sum / np.mean over everything (the pairwise sums of
# _sum_all), and with axis / keepdims (as np.prod / np.max / np.min) the
# methods, np.dot with a constant 2-d float64 matrix (_matmul: the value
# np.dot's own, as the handler's), and
# np.transpose / np.reshape / np.ravel / np.swapaxes / np.moveaxis as views
# of both components made in C (also .T, .transpose(), .swapaxes(),
# .reshape() and .ravel()), np.where with a mask
# of the result's shape, np.concatenate / np.stack along axis 0 and
# np.hstack of vectors and np.vstack (copy loops), np.clip (two rules),
# np.cumprod (_cumprod), np.outer (_outer_c), np.trace of a matrix (_trace_c:
# pairwise sums along the diagonal), np.linalg.norm with no options (_norm_c),
# np.vdot (_vdot_c), np.interp of a dual x on constant knots (_interp_c),
# np.round / np.around (_rounded), np.repeat / np.tile by an int count
# (_repeated), np.trapezoid of a vector (_trapezoid_c),
# np.einsum of a dual and a constant matrix whose
# tangent term is one product (_einsum_dc, by the handler's plan) or of two
# duals whose terms are (_einsum_dd),
# np.argmax / np.argmin / np.argsort (the values' methods), np.tensordot
# with axes=1 of vectors and matrices (np.dot's paths); the rest, and any
# operand these decline, goes to the handler of _numpy_api._HANDLED, called
# directly when there is no out= (else _numpy_api._array_function).  A
# direct-mapped cache keyed by the function's address finds the fast path
# (the functions are module attributes, alive for the process).

cdef extern from "../_function_callable.h":
    ctypedef object (*dualml_afunc_impl)(object, object, object, object, object)
    object dualml_afunc_new(dualml_afunc_impl entry, const char *tp_name, const char *tp_doc)

cdef enum:
    AF_NONE = 0
    AF_SUM
    AF_MEAN
    AF_DOT
    AF_TRANSPOSE
    AF_RESHAPE
    AF_RAVEL
    AF_WHERE
    AF_CONCATENATE
    AF_STACK
    AF_HSTACK
    AF_CLIP
    AF_INNER
    AF_PROD
    AF_MAX
    AF_MIN
    AF_SQUEEZE
    AF_VSTACK
    AF_SORT
    AF_FLIP
    AF_CUMPROD
    AF_OUTER
    AF_TRACE
    AF_NORM
    AF_VDOT
    AF_EINSUM
    AF_ARGMAX
    AF_ARGMIN
    AF_ARGSORT
    AF_TENSORDOT
    AF_SWAPAXES
    AF_MOVEAXIS
    AF_INTERP
    AF_ROUND
    AF_REPEAT
    AF_TILE
    AF_TRAPEZOID
    AF_NANSUM
    AF_TAKE
    AF_COLUMN_STACK
    AF_FLIPUD
    AF_FLIPLR
    AF_ATLEAST_1D
    AF_ATLEAST_2D
    AF_ATLEAST_3D
    AF_SPLIT
    AF_ARRAY_SPLIT
    AF_TAKE_ALONG_AXIS
    AF_DIAG

cdef void *_AF_KEY[32]
cdef int _AF_VAL[32]
cdef dict _AF_CODES = {np.sum: AF_SUM, np.mean: AF_MEAN, np.dot: AF_DOT,
                       np.transpose: AF_TRANSPOSE, np.reshape: AF_RESHAPE,
                       np.ravel: AF_RAVEL, np.where: AF_WHERE,
                       np.concatenate: AF_CONCATENATE, np.stack: AF_STACK,
                       np.hstack: AF_HSTACK, np.clip: AF_CLIP, np.inner: AF_INNER,
                       np.prod: AF_PROD, np.max: AF_MAX, np.amax: AF_MAX, np.min: AF_MIN,
                       np.amin: AF_MIN, np.squeeze: AF_SQUEEZE, np.vstack: AF_VSTACK,
                       np.sort: AF_SORT, np.flip: AF_FLIP, np.cumprod: AF_CUMPROD,
                       np.outer: AF_OUTER, np.trace: AF_TRACE, np.linalg.norm: AF_NORM,
                       np.vdot: AF_VDOT, np.einsum: AF_EINSUM, np.argmax: AF_ARGMAX,
                       np.argmin: AF_ARGMIN, np.argsort: AF_ARGSORT,
                       np.tensordot: AF_TENSORDOT, np.swapaxes: AF_SWAPAXES,
                       np.moveaxis: AF_MOVEAXIS, np.interp: AF_INTERP,
                       np.round: AF_ROUND, np.around: AF_ROUND,
                       np.repeat: AF_REPEAT, np.tile: AF_TILE,
                       np.trapezoid: AF_TRAPEZOID, np.nansum: AF_NANSUM,
                       np.take: AF_TAKE, np.column_stack: AF_COLUMN_STACK,
                       np.flipud: AF_FLIPUD, np.fliplr: AF_FLIPLR,
                       np.atleast_1d: AF_ATLEAST_1D, np.atleast_2d: AF_ATLEAST_2D,
                       np.atleast_3d: AF_ATLEAST_3D, np.split: AF_SPLIT,
                       np.array_split: AF_ARRAY_SPLIT,
                       np.take_along_axis: AF_TAKE_ALONG_AXIS, np.diag: AF_DIAG}
cdef dict _HANDLED = None       # _numpy_api._HANDLED, bound at the first call


cdef int _afunc_code(object func) except -1:
    cdef size_t h = ((<size_t><void *>func) >> 4) & 31
    cdef int code
    if _AF_KEY[h] == <void *>func:
        return _AF_VAL[h]
    c = _AF_CODES.get(func)
    if c is None:
        return AF_NONE            # (not cached: the slot stays for the six)
    code = <int>c
    _AF_KEY[h] = <void *>func
    _AF_VAL[h] = code
    return code


cdef inline bint _vcontig_bytes(_Parts *P) noexcept:
    # a bool array's values are C-contiguous (1-byte elements)
    return _contig_items(P, 1)


cdef object _axis_arg(tuple args, dict kwargs, Py_ssize_t pos):
    # the axis of a call whose arguments are pos positional ones, then the
    # axis by position or keyword, defaulting to 0 (None for anything else
    # asked: the handler's)
    cdef Py_ssize_t n = PyTuple_GET_SIZE(args)
    cdef Py_ssize_t nk = PyDict_GET_SIZE(kwargs)
    if n == pos + 1 and nk == 0:
        return <object>PyTuple_GET_ITEM(args, pos)
    if n == pos and nk == 0:
        return 0 if pos == 1 else None
    if n == pos and nk == 1:
        return kwargs.get("axis")
    return None


cdef bint _axis_kwargs(dict kwargs, bint axis_given) except -1:
    # kwargs of np.sum / np.mean that the methods take as they are: axis
    # (unless given by position) and a bool keepdims
    for key, val in kwargs.items():
        if key == "axis" and not axis_given:
            continue
        if key == "keepdims" and type(val) is bool:
            continue
        return False
    return True


cdef bint _norm_kwargs(dict kwargs) except -1:
    # np.linalg.norm's keywords the vector 2-norm path takes: ord None, a
    # bool keepdims, axis an int or a tuple of one int
    for key, val in kwargs.items():
        if key == "ord" and val is None:
            continue
        if key == "keepdims" and type(val) is bool:
            continue
        if key == "axis" and (type(val) is int or (type(val) is tuple and len(<tuple>val) == 1
                                                   and type((<tuple>val)[0]) is int)):
            continue
        return False
    return True


cdef object _np_sqrt = np.sqrt


cdef object _afunc_entry(object x, object func, object types, object args, object kwargs):
    global _HANDLED
    cdef int code
    cdef Py_ssize_t n
    cdef object r = NotImplemented
    if type(args) is not tuple or type(kwargs) is not dict:
        return _py._array_function(func, types, args, kwargs)
    n = PyTuple_GET_SIZE(args)
    code = _afunc_code(func)
    if (code == AF_SUM or code == AF_MEAN or code == AF_PROD or code == AF_MAX
            or code == AF_MIN) and 1 <= n <= 2:
        # np.sum(x, axis) / np.prod(x, axis=..., keepdims=...) & co.: the
        # methods (their C paths) when nothing else is asked
        a = <object>PyTuple_GET_ITEM(args, 0)
        if type(a) is DualArray and _axis_kwargs(<dict>kwargs, n == 2):
            axis = <object>PyTuple_GET_ITEM(args, 1) if n == 2 else (<dict>kwargs).get("axis")
            keepdims = (<dict>kwargs).get("keepdims", False)
            if code == AF_SUM:
                return (<DualArray>a).sum(axis, keepdims)
            if code == AF_MEAN:
                return (<DualArray>a).mean(axis, keepdims)
            if code == AF_PROD:
                return (<DualArray>a).prod(axis, keepdims)
            if code == AF_MAX:
                return (<DualArray>a).max(axis, keepdims)
            return (<DualArray>a).min(axis, keepdims)
    if code == AF_ROUND and 1 <= n <= 2 and type(<object>PyTuple_GET_ITEM(args, 0)) is DualArray:
        # np.round(x, decimals): the handler's steps by the C paths
        if n == 1 and PyDict_GET_SIZE(kwargs) == 0:
            r = _rounded(<DualArray>PyTuple_GET_ITEM(args, 0), 0)
        elif n == 2 and PyDict_GET_SIZE(kwargs) == 0:
            r = _rounded(<DualArray>PyTuple_GET_ITEM(args, 0), <object>PyTuple_GET_ITEM(args, 1))
        elif n == 1 and PyDict_GET_SIZE(kwargs) == 1 and "decimals" in <dict>kwargs:
            r = _rounded(<DualArray>PyTuple_GET_ITEM(args, 0), (<dict>kwargs)["decimals"])
        if r is not NotImplemented:
            return r
    if code == AF_NORM and n == 1 and PyDict_GET_SIZE(kwargs):
        # np.linalg.norm(x, axis=i, keepdims=...): the handler's vector
        # 2-norm along one axis, (x ** 2).sum(axis, keepdims) then the sqrt
        # rule, by the same C paths without the handler's dispatch
        a = <object>PyTuple_GET_ITEM(args, 0)
        if type(a) is DualArray and _norm_kwargs(<dict>kwargs):
            axis = (<dict>kwargs).get("axis")
            if type(axis) is tuple:
                axis = (<tuple>axis)[0]
            if type(axis) is int:
                s = a ** 2
                s = s.sum(axis, (<dict>kwargs).get("keepdims", False))
                if type(s) is DualArray:
                    r = _unary(<Py_ssize_t>_NAME1["sqrt"], <DualArray>s, 0.0)
                    if r is not NotImplemented:
                        return r
                    return _np_sqrt(s)
    if code == AF_TENSORDOT and (n == 3 or (n == 2 and PyDict_GET_SIZE(kwargs) == 1)):
        # axes=1 of vectors and matrices: NumPy's tensordot is then np.dot
        # of the operands themselves (its transposes and reshapes are the
        # identity, or a vector as a row whose gemv/dot call is the same)
        if n == 3 and PyDict_GET_SIZE(kwargs) == 0:
            axes = <object>PyTuple_GET_ITEM(args, 2)
        else:
            axes = (<dict>kwargs).get("axes")
        if type(axes) is int and axes == 1:
            a = <object>PyTuple_GET_ITEM(args, 0)
            b = <object>PyTuple_GET_ITEM(args, 1)
            if 1 <= _ndim_of(a) <= 2 and 1 <= _ndim_of(b) <= 2:
                r = _dot11(a, b)
                if r is NotImplemented:
                    r = _matmul(a, b, True)
                if r is not NotImplemented:
                    return r
    if (code == AF_CONCATENATE or code == AF_STACK or code == AF_TAKE) and 1 <= n <= 3:
        # joins, and np.take of an index array, along an int axis given by
        # position or keyword (nothing else asked; axis=None flattens: the
        # handler's)
        axis = _axis_arg(args, kwargs, 2 if code == AF_TAKE else 1)
        if type(axis) is int:
            a = <object>PyTuple_GET_ITEM(args, 0)
            if code != AF_TAKE:
                r = _join(a, axis, code == AF_STACK)
            elif type(a) is DualArray:
                r = _take_along(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1), axis)
            if r is not NotImplemented:
                return r
    if (code == AF_SORT or code == AF_TAKE_ALONG_AXIS) and 1 <= n <= 3:
        # np.sort along an int axis: the elements a stable sort of the
        # values puts there (the handler's rule); np.take_along_axis with
        # an int axis: both gathered in C
        a = <object>PyTuple_GET_ITEM(args, 0)
        if type(a) is DualArray and _flat(<DualArray>a) and (<DualArray>a).ndim >= 1:
            if code == AF_SORT and n == 1 and PyDict_GET_SIZE(kwargs) == 0:
                axis = -1
            else:
                axis = _axis_arg(args, kwargs, 1 if code == AF_SORT else 2)
            if type(axis) is int:
                if code == AF_TAKE_ALONG_AXIS:
                    r = _take_along_axis(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1), axis)
                elif (<DualArray>a).ndim == 1 and (axis == 0 or axis == -1):
                    r = _take(<DualArray>a, _V(<DualArray>a).argsort(kind="stable"))
                else:
                    r = _take_along_axis(<DualArray>a, _V(<DualArray>a).argsort(
                        axis=axis, kind="stable"), axis)
                if r is not NotImplemented:
                    return r
    if code != AF_NONE and n >= 1 and PyDict_GET_SIZE(kwargs) == 0:
        a = <object>PyTuple_GET_ITEM(args, 0)
        if code == AF_WHERE:
            if n == 3:
                r = _where_c(a, <object>PyTuple_GET_ITEM(args, 1),
                             <object>PyTuple_GET_ITEM(args, 2))
        elif code == AF_HSTACK or code == AF_COLUMN_STACK:
            # hstack: of vectors their concatenation, of arrays of 2 or more
            # axes along the second; column_stack: vectors as the columns
            # of a matrix, matrices along the second axis (mixed numbers of
            # axes: the handler)
            if n == 1 and (type(a) is list or type(a) is tuple) and len(a) > 0:
                e = a[0]
                if type(e) is DualArray and _flat(<DualArray>e) and (<DualArray>e).ndim >= 1:
                    if code == AF_HSTACK:
                        r = _join(a, 0 if (<DualArray>e).ndim == 1 else 1, False)
                    elif (<DualArray>e).ndim <= 2:
                        r = _join(a, 1, (<DualArray>e).ndim == 1)
        elif code == AF_VSTACK:
            # of vectors: their stack; of arrays of 2 or more axes: their
            # concatenation along the first (mixed ones: the handler)
            if n == 1 and (type(a) is list or type(a) is tuple) and len(a) > 0:
                e = a[0]
                if type(e) is DualArray and _flat(<DualArray>e) and (<DualArray>e).ndim >= 1:
                    r = _join(a, 0, (<DualArray>e).ndim == 1)
        elif code == AF_CLIP:
            # maximum, then minimum: the handler's two rules, by the C path
            # (a bound None: that rule left out, as the handler does)
            if (n == 3 and type(a) is DualArray and (<object>PyTuple_GET_ITEM(args, 1) is not None
                                                     or <object>PyTuple_GET_ITEM(args, 2) is not None)):
                r = a
                if <object>PyTuple_GET_ITEM(args, 1) is not None:
                    r = _binary(<Py_ssize_t>_NAME2["maximum"], r, <object>PyTuple_GET_ITEM(args, 1))
                if r is not NotImplemented and <object>PyTuple_GET_ITEM(args, 2) is not None:
                    r = _binary(<Py_ssize_t>_NAME2["minimum"], r,
                                <object>PyTuple_GET_ITEM(args, 2))
        elif code == AF_OUTER:
            # a column times a row (the handler's _outer): views and the
            # multiply rule
            if n == 2:
                r = _outer_c(a, <object>PyTuple_GET_ITEM(args, 1))
        elif code == AF_EINSUM:
            # one dual (its values' and rows' einsum), a dual and a constant
            # whose tangent term is one product, or two duals whose terms are
            # one product each
            if n == 2 and type(a) is str and type(<object>PyTuple_GET_ITEM(args, 1)) is DualArray:
                r = _einsum1(<str>a, <DualArray>PyTuple_GET_ITEM(args, 1))
            if n == 3 and type(a) is str:
                if (type(<object>PyTuple_GET_ITEM(args, 1)) is DualArray
                        and type(<object>PyTuple_GET_ITEM(args, 2)) is DualArray):
                    r = _einsum_dd(a, <DualArray>PyTuple_GET_ITEM(args, 1),
                                   <DualArray>PyTuple_GET_ITEM(args, 2))
                else:
                    r = _einsum_dc(a, <object>PyTuple_GET_ITEM(args, 1),
                                   <object>PyTuple_GET_ITEM(args, 2))
        elif code == AF_INTERP:
            # a dual x on constant knots: the handler's _interp_x in C
            if n == 3:
                r = _interp_c(a, <object>PyTuple_GET_ITEM(args, 1), <object>PyTuple_GET_ITEM(args, 2))
        elif code == AF_VDOT:
            # of real arrays: the inner product of the C-order ravels
            if n == 2:
                r = _vdot_c(a, <object>PyTuple_GET_ITEM(args, 1))
        elif code == AF_DOT or code == AF_INNER:
            # (of two vectors both are the inner product: _dot11's; np.inner
            # of matrices and vectors is np.dot with b transposed, as the
            # handler's tensordot computes it)
            if n == 2:
                b = <object>PyTuple_GET_ITEM(args, 1)
                r = _dot11(a, b)
                if r is NotImplemented and code == AF_DOT:
                    r = _matmul(a, b, True)
                elif r is NotImplemented and 1 <= _ndim_of(a) <= 2 and 1 <= _ndim_of(b) <= 2:
                    if _ndim_of(b) == 2:
                        b = _transposed(<DualArray>b) if type(b) is DualArray else _transpose(b)
                    if b is not NotImplemented:
                        r = _matmul(a, b, True)
        elif type(a) is DualArray:
            if code == AF_SUM:
                if n == 1:
                    r = _sum_all(<DualArray>a)
            elif code == AF_MEAN:
                if n == 1:
                    r = _mean_all(<DualArray>a)
            elif code == AF_TRANSPOSE:
                if n == 1 or (n == 2 and <object>PyTuple_GET_ITEM(args, 1) is None):
                    r = _transposed(<DualArray>a)
                elif n == 2:
                    r = _permuted(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1))
            elif code == AF_SWAPAXES or code == AF_MOVEAXIS:
                # of int axes: views with the axes permuted (the handlers' rule)
                if n == 3 and code == AF_SWAPAXES:
                    r = _swapped(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1),
                                 <object>PyTuple_GET_ITEM(args, 2))
                elif n == 3:
                    r = _moved(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1),
                               <object>PyTuple_GET_ITEM(args, 2))
            elif code == AF_RESHAPE:
                if n == 2:
                    r = _reshaped(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1))
            elif code == AF_RAVEL:
                if n == 1:
                    r = _raveled(<DualArray>a)
            elif code == AF_PROD:
                if n == 1:
                    r = _prod_all(<DualArray>a)
            elif code == AF_MAX or code == AF_MIN:
                if n == 1:
                    r = _select_all(<DualArray>a, code == AF_MAX)
            elif code == AF_SQUEEZE:
                if n == 1:
                    r = _squeezed(<DualArray>a)
            elif code == AF_CUMPROD:
                # along an int axis or the flattened array: the handler's
                # C path (_cumprod, the multiply rule slice by slice)
                if n == 1 or (n == 2 and type(<object>PyTuple_GET_ITEM(args, 1)) is int):
                    r = _cumprod(a, <object>PyTuple_GET_ITEM(args, 1) if n == 2 else None)
            elif code == AF_TRACE:
                if n == 1:
                    r = _trace_c(<DualArray>a)
            elif code == AF_NORM:
                if n == 1:
                    r = _norm_c(<DualArray>a)
            elif code == AF_ARGMAX or code == AF_ARGMIN or code == AF_ARGSORT:
                # of the values (the handler's rule), by the ndarray method
                # NumPy's function calls
                if n <= 2 and _flat(<DualArray>a):
                    f = getattr(_V(<DualArray>a), "argmax" if code == AF_ARGMAX else
                                "argmin" if code == AF_ARGMIN else "argsort")
                    r = f(<object>PyTuple_GET_ITEM(args, 1)) if n == 2 else f()
            elif code == AF_TRAPEZOID:
                if n == 1:
                    r = _trapezoid_c(<DualArray>a)
            elif code == AF_NANSUM:
                # without a nan value it is the sum (the handler's rule);
                # a nan value makes the sum nan: NotImplemented, the handler
                if n == 1:
                    r = _sum_all(<DualArray>a)
            elif code == AF_REPEAT or code == AF_TILE:
                # an int count, flattened (repeat) or along the last axis (tile)
                if n == 2 or (n == 3 and code == AF_REPEAT
                              and <object>PyTuple_GET_ITEM(args, 2) is None):
                    r = _repeated(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1),
                                  code == AF_TILE)
            elif code == AF_FLIP:
                # reversed slices of every axis, or of one: views by the
                # core's indexing (the handler's rule)
                if n == 1 or (n == 2 and type(<object>PyTuple_GET_ITEM(args, 1)) is int):
                    r = _flipped(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1) if n == 2 else None)
            elif code == AF_DIAG:
                # of a vector: the matrix with it on diagonal k (n == 2: an
                # int k), zeros elsewhere, every tangent row alike; of a
                # matrix: NumPy's diagonal views of both components (the
                # handler's _h_diagonal)
                if n == 1 or (n == 2 and type(<object>PyTuple_GET_ITEM(args, 1)) is int):
                    k = <object>PyTuple_GET_ITEM(args, 1) if n == 2 else 0
                    if (<DualArray>a).ndim == 1:
                        r = _diag_matrix(<DualArray>a, k)
                    elif (<DualArray>a).ndim == 2 and _flat(<DualArray>a):
                        r = _make(_V(<DualArray>a).diagonal(k, -2, -1),
                                  _D(<DualArray>a).diagonal(k, -2, -1),
                                  (<DualArray>a)._tag, (<DualArray>a)._o2)
            elif code == AF_FLIPUD or code == AF_FLIPLR:
                # np.flip along the first / second axis (fewer axes: the
                # handler's error)
                if n == 1 and (<DualArray>a).ndim > (1 if code == AF_FLIPLR else 0):
                    r = _flipped(<DualArray>a, 1 if code == AF_FLIPLR else 0)
            elif code == AF_ATLEAST_1D or code == AF_ATLEAST_2D or code == AF_ATLEAST_3D:
                # of one array: itself, or a view with NumPy's new axes
                if n == 1:
                    r = _atleast(<DualArray>a, 1 if code == AF_ATLEAST_1D else
                                 2 if code == AF_ATLEAST_2D else 3)
            elif code == AF_SPLIT or code == AF_ARRAY_SPLIT:
                # views between NumPy's bounds along an int axis
                if 2 <= n <= 3:
                    r = _split_views(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1),
                                     <object>PyTuple_GET_ITEM(args, 2) if n == 3 else 0,
                                     code == AF_SPLIT)
        if r is not NotImplemented:
            return r
    if _HANDLED is None:
        _HANDLED = _py._HANDLED
    h = _HANDLED.get(func)
    if h is None or "out" in <dict>kwargs:
        return _py._array_function(func, types, args, kwargs)
    return PyObject_Call(h, args, kwargs)


cdef int _ndim_of(object o) noexcept:
    # the dimensions of a first-order DualArray or a float64 ndarray (-1 else)
    if type(o) is DualArray:
        if not _flat(<DualArray>o) or (<DualArray>o)._o2 is not None:
            return -1
        if (<DualArray>o)._lz != NULL:
            return (<DualArray>o)._lz.nd
        return cnp.PyArray_NDIM(<cnp.ndarray>(<DualArray>o)._vo)
    if type(o) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE:
        return cnp.PyArray_NDIM(<cnp.ndarray>o)
    return -1


cdef object _norm_c(DualArray a):
    # np.linalg.norm(a) of C-contiguous values: NumPy's sqrt of the inner
    # product of the flattened array with itself, as the handler
    # (_linalg._norm): the raveled view, _dot11, the sqrt rule
    if not (_flat(a) and a._o2 is None and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>_V(a))):
        return NotImplemented
    r = _raveled(a)
    if r is NotImplemented:
        return r
    s = _dot11(r, r)
    if s is NotImplemented:
        return s
    return _unary(<Py_ssize_t>_NAME1["sqrt"], <DualArray>s, 0.0)


cdef object _vdot_c(object a, object b):
    # np.vdot(a, b) of DualArrays or float64 ndarrays with C-contiguous
    # values (at least one dual): _dot11 of the flattened views (NumPy's
    # vdot of real arrays: dot of the C-order ravels), as the handler
    a = _flat_operand(a)
    b = _flat_operand(b)
    if a is NotImplemented or b is NotImplemented:
        return NotImplemented
    return _dot11(a, b)


cdef object _flat_operand(object a):
    # a vector as it is, else the C-order ravel of C-contiguous values
    if type(a) is DualArray:
        return a if (<DualArray>a).ndim == 1 else _raveled(<DualArray>a)
    if type(a) is ndarray and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        if cnp.PyArray_NDIM(<cnp.ndarray>a) == 1:
            return a
        return cnp.PyArray_Ravel(<cnp.ndarray>a, cnp.NPY_CORDER)
    return NotImplemented


cdef tuple _COLUMN = (-1, 1)
cdef tuple _ROW = (1, -1)


cdef object _outer_c(object a, object b):
    # np.outer(a, b) of DualArrays or float64 ndarrays, at least one dual:
    # a.reshape(-1, 1) * b.reshape(1, -1), as the handler's _outer
    if not ((type(a) is DualArray or type(a) is ndarray)
            and (type(b) is DualArray or type(b) is ndarray)
            and (type(a) is DualArray or type(b) is DualArray)):
        return NotImplemented
    ra = _reshaped(<DualArray>a, _COLUMN) if type(a) is DualArray else a.reshape(_COLUMN)
    rb = _reshaped(<DualArray>b, _ROW) if type(b) is DualArray else b.reshape(_ROW)
    if ra is NotImplemented or rb is NotImplemented:
        return NotImplemented
    return _binary(R_MUL, ra, rb)


cdef object _flipped(DualArray a, object axis):
    # a[::-1, ::-1, ...] (axis None) or a[..., ::-1 at axis, ...]; an axis
    # out of range goes to the handler (NumPy's error)
    cdef Py_ssize_t nd = a.ndim, ax = -1, i
    if axis is not None:
        ax = <Py_ssize_t>axis
        if ax < 0:
            ax += nd
        if not 0 <= ax < nd:
            return NotImplemented
    if nd == 1:
        return a[_REVERSED]
    return a[tuple([_REVERSED if axis is None or i == ax else _ALL_SLICE for i in range(nd)])]


cdef object _atleast(DualArray a, int m):
    # np.atleast_1d/2d/3d of one DualArray: a itself with m axes or more,
    # else a view with NumPy's new axes (0-d: all new; 1-d: (1, n) and
    # (1, n, 1); 2-d: (r, c, 1))
    cdef Py_ssize_t nd = a.ndim
    if nd >= m:
        return a
    if m == 1 or (m == 2 and nd == 0):
        return a[(None,) * (m - nd)]
    if m == 2:
        return a[None]
    if nd == 0:
        return a[None, None, None]
    if nd == 1:
        return a[None, :, None]
    return a[:, :, None]


cdef object _split_views(DualArray a, object sections, object axis, bint equal):
    # np.split / np.array_split along an int axis into an int number of
    # pieces (NumPy's sizes: the first n % sections one longer; split
    # asks for equal pieces) or at a list of int indices (Python's slice
    # rules, as NumPy applies them): a list of views; NotImplemented
    # otherwise (the handler: NumPy's errors)
    cdef Py_ssize_t nd = a.ndim, ax, n, q, extra, i, lo
    cdef list bounds, out
    if type(axis) is not int or nd == 0:
        return NotImplemented
    ax = <Py_ssize_t>axis
    if ax < 0:
        ax += nd
    if not 0 <= ax < nd:
        return NotImplemented
    n = a.shape[ax]
    if type(sections) is int:
        if sections <= 0 or (equal and n % sections):
            return NotImplemented
        q = n // sections
        extra = n % sections
        bounds = [0]
        lo = 0
        for i in range(sections):
            lo += q + (1 if i < extra else 0)
            bounds.append(lo)
    elif type(sections) is list or type(sections) is tuple:
        for i in range(len(sections)):
            if type(sections[i]) is not int:
                return NotImplemented
        bounds = [0] + list(sections) + [n]
    else:
        return NotImplemented
    lead = (_ALL_SLICE,) * ax
    out = []
    for i in range(len(bounds) - 1):
        out.append(a[lead + (slice(bounds[i], bounds[i + 1]),)])
    return out


cdef object _REVERSED = slice(None, None, -1)
cdef object _ALL_SLICE = slice(None)


_ARRAY_FUNCTION = dualml_afunc_new(
    _afunc_entry, "dualml.arrays._core._ArrayFunction",
    "__array_function__(self, func, types, args, kwargs)\n\n"
    "NumPy's function protocol for DualArray (a C callable bound like a method).")


# NumPy functions served in C above whose work is elementwise: np.interp
# (the tangents by _interp_rows, in _core_elementwise.pxi) and np.round.
# (Here, after the hot paths: placed before them, this code moved
# DualArray.__getitem__'s machine code and cost d[3] 20 ns on Zen 3.)

try:                                    # np.interp's compiled function
    from numpy._core.multiarray import interp as _np_cinterp
except ImportError:                     # pragma: no cover (a private name NumPy may move)
    _np_cinterp = np.interp


cdef inline bint _le_nan_last(double a, double b) noexcept nogil:
    # NumPy's sort order for doubles (nan last): not (b < a)
    return not (b < a or (a != a and b == b))


cdef void _search_right(const double *arr, cnp.npy_intp m, const double *key,
                        cnp.npy_intp n, cnp.npy_intp *out) noexcept nogil:
    # arr.searchsorted(key, side="right") as NumPy's binsearch runs it (its
    # comparison, nan last, and its bounds carried from the previous key),
    # so the same indices even where arr is not sorted
    cdef cnp.npy_intp lo = 0, hi = m, mid, i
    cdef double last, kv
    if n == 0:
        return
    last = key[0]
    for i in range(n):
        kv = key[i]
        if _le_nan_last(last, kv):
            hi = m
        else:
            lo = 0
            hi = hi + 1 if hi < m else m
        last = kv
        while lo < hi:
            mid = lo + ((hi - lo) >> 1)
            if _le_nan_last(arr[mid], kv):
                lo = mid + 1
            else:
                hi = mid
        out[i] = lo


cdef object _interp_c(object x, object xp, object fp):
    """np.interp(x, xp, fp) of a first-order DualArray x with C-contiguous
    components on float64 1-d C-contiguous knots xp, fp of one length >= 2:
    the handler's _interp_x without its Python frames -- NumPy's compiled
    interp for the value (np.interp's own call), the segments as
    xp.searchsorted(x, 'right') finds them (_search_right) and _interp_rows
    for the tangents; NotImplemented otherwise."""
    cdef DualArray d
    cdef _Parts X
    cdef cnp.ndarray a, b, v, dd
    cdef cnp.npy_intp m, n
    cdef cnp.npy_intp sh[2]
    cdef cnp.PyArray_Dims shape
    if type(x) is not DualArray or type(xp) is not ndarray or type(fp) is not ndarray:
        return NotImplemented
    d = <DualArray>x
    a = <cnp.ndarray>xp
    b = <cnp.ndarray>fp
    if not (_flat(d) and d._o2 is None and cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_NDIM(b) == 1
            and cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE and cnp.PyArray_TYPE(b) == cnp.NPY_DOUBLE
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_C_CONTIGUOUS(b)):
        return NotImplemented
    m = cnp.PyArray_DIMS(a)[0]
    if m < 2 or cnp.PyArray_DIMS(b)[0] != m:
        return NotImplemented
    xv = _V(d)
    dd = <cnp.ndarray>_D(d)
    _parts(d, &X)
    n = _size(&X)
    if n == 0 or not (cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>xv)
                      and cnp.PyArray_IS_C_CONTIGUOUS(dd)):
        return NotImplemented
    v = <cnp.ndarray>cnp.PyArray_FROM_OTF(_np_cinterp(xv, a, b, None, None), cnp.NPY_DOUBLE, 0)
    shape.len = 1
    shape.ptr = &n
    xf = cnp.PyArray_Newshape(<cnp.ndarray>xv, &shape, cnp.NPY_CORDER)
    vf = cnp.PyArray_Newshape(v, &shape, cnp.NPY_CORDER)
    sh[0] = X.k
    sh[1] = n
    shape.len = 2
    shape.ptr = sh
    df = cnp.PyArray_Newshape(dd, &shape, cnp.NPY_CORDER)
    jr = cnp.PyArray_EMPTY(1, &n, cnp.NPY_INTP, 0)
    _search_right(<const double *>cnp.PyArray_DATA(a), m,
                  <const double *>cnp.PyArray_DATA(<cnp.ndarray>xf), n,
                  <cnp.npy_intp *>cnp.PyArray_DATA(<cnp.ndarray>jr))
    rows = _interp_rows(xf, jr, df, a, b, vf, (<double *>cnp.PyArray_DATA(b))[0],
                        (<double *>cnp.PyArray_DATA(b))[m - 1])
    shape.len = cnp.PyArray_NDIM(dd)
    shape.ptr = cnp.PyArray_DIMS(dd)
    return _make(v, cnp.PyArray_Newshape(<cnp.ndarray>rows, &shape, cnp.NPY_CORDER), d._tag, None)


cdef object _rounded(DualArray x, object decimals):
    """np.round(x, decimals) for an int decimals as the handler computes it
    (_numpy_api._h_round, NumPy's own steps): rint of x times 10**decimals,
    divided by it (rint of x divided by 10**-decimals, times it, for a
    negative decimals), each step the rule's C path; NotImplemented where a
    step declines (the handler then decides)."""
    cdef double f
    if type(decimals) is not int or not -308 <= decimals <= 308:
        return NotImplemented
    if decimals == 0:
        return _unary(R_RINT, x, 0.0)
    f = 10.0 ** (<double>decimals if decimals > 0 else -<double>decimals)
    r = _binary(R_MUL if decimals > 0 else R_DIV, x, f)
    if r is NotImplemented:
        return r
    r = _unary(R_RINT, <DualArray>r, 0.0)
    if r is NotImplemented:
        return r
    return _binary(R_DIV if decimals > 0 else R_MUL, r, f)
