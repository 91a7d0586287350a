# Elementwise fast paths -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# Operand classification (DualArray / float64 ndarray / scalar), broadcasting
# as 0-strides, the rule table's unary and binary rules through the loop
# drivers of dualml._kernels, hessian rows' curvature terms, and the
# operators' glue (values of comparisons, in-place operators).

# ---------------------------------------------------------------------------
# Elementwise fast paths

cdef enum:
    OP_DUAL = 0
    OP_SCALAR = 1
    OP_ARRAY = 2
    OP_OTHER = -1


cdef int _classify(object o, double *s) except -2:
    t = type(o)
    if t is DualArray:
        return OP_DUAL if _flat(<DualArray>o) else OP_OTHER
    if t is float or t is _np_float64:
        s[0] = PyFloat_AS_DOUBLE(o)
        return OP_SCALAR
    if t is int:
        try:
            s[0] = PyLong_AsDouble(o)
        except OverflowError:
            return OP_OTHER         # too large: the Python path raises NumPy's error
        return OP_SCALAR
    if t is ndarray:
        if (cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE
                and cnp.PyArray_ISBEHAVED_RO(<cnp.ndarray>o)
                and cnp.PyArray_NDIM(<cnp.ndarray>o) <= DUALML_MAXD):
            return OP_ARRAY
    return OP_OTHER


cdef inline bint _bshape(int na, cnp.npy_intp *da, int nb, cnp.npy_intp *db,
                         int *nd, cnp.npy_intp *out) noexcept:
    # NumPy's broadcasting of two shapes; False if they do not broadcast
    cdef int n = na if na > nb else nb, i, ia, ib
    cdef cnp.npy_intp a, b
    for i in range(n):
        ia = i - n + na
        ib = i - n + nb
        a = da[ia] if ia >= 0 else 1
        b = db[ib] if ib >= 0 else 1
        if a == b or b == 1:
            out[i] = a
        elif a == 1:
            out[i] = b
        else:
            return False
    nd[0] = n
    return True


cdef inline void _bstrides(int n, cnp.npy_intp *shape, int nd, cnp.npy_intp *dims,
                           cnp.npy_intp *st, Py_ssize_t *out) noexcept:
    # strides of an operand of shape dims (strides st) broadcast to shape
    cdef int i, j
    for i in range(n):
        j = i - n + nd
        out[i] = st[j] if j >= 0 and dims[j] == shape[i] and dims[j] != 1 else 0


cdef object _binary(Py_ssize_t rule, object a, object b):
    """rule(a, b) in C, or NotImplemented where the Python path must decide."""
    cdef double sa = 0.0, sb = 0.0
    cdef int ca = _classify(a, &sa)
    cdef int cb = _classify(b, &sb)
    # (x, y, o2 and the holders are assigned only where they apply: every
    # INCREF/DECREF of None is a write to one shared cache line)
    cdef DualArray x, y, res
    cdef _Parts A, B, O
    cdef int nd, which = 0
    cdef cnp.npy_intp dims[DUALML_MAXD]
    cdef char *base[6]
    cdef Py_ssize_t strides[6 * DUALML_MAXD]
    cdef Py_ssize_t rows[3]
    cdef Py_ssize_t k
    cdef unsigned long long tag
    cdef object o2, hv, hd, hv2, hd2, hx, hy
    cdef bint has_o2
    if ca == OP_OTHER or cb == OP_OTHER or (ca != OP_DUAL and cb != OP_DUAL):
        return NotImplemented
    # a scalar is a 0-d operand on sa / sb
    A.v = <char *>&sa
    A.d = NULL
    A.nd = 0
    A.dims = A.vst = A.dst = NULL
    A.k = 0
    B.v = <char *>&sb
    B.d = NULL
    B.nd = 0
    B.dims = B.vst = B.dst = NULL
    B.k = 0
    if ca == OP_DUAL:
        x = <DualArray>a
        if x._lz == NULL:
            hv = x._vo
            hd = x._do
        _parts(x, &A)
        which = 1
    elif ca == OP_ARRAY:
        _array_parts(<cnp.ndarray>a, &A)
    if cb == OP_DUAL:
        y = <DualArray>b
        if y._lz == NULL:
            hv2 = y._vo
            hd2 = y._do
        _parts(y, &B)
        which |= 2
    elif cb == OP_ARRAY:
        _array_parts(<cnp.ndarray>b, &B)
    if which == 3:
        if x._tag != y._tag or A.k != B.k or not (x._o2 is y._o2 or x._o2 == y._o2):
            return NotImplemented
    if which & 1:
        tag = x._tag
        has_o2 = x._o2 is not None
        if has_o2:
            o2 = x._o2
        k = A.k
    else:
        tag = y._tag
        has_o2 = y._o2 is not None
        if has_o2:
            o2 = y._o2
        k = B.k
    if has_o2 and _o2_needed(rule, which) and (ca == OP_SCALAR or cb == OP_SCALAR):
        # x ** 3 on hessian rows: the curvature update wants the constant
        # as an array of the dual operand's shape
        if ca == OP_SCALAR:
            hx = _full_like(B.nd, B.dims, sa)
            _array_parts(<cnp.ndarray>hx, &A)
            ca = OP_ARRAY
        else:
            hy = _full_like(A.nd, A.dims, sb)
            _array_parts(<cnp.ndarray>hy, &B)
            cb = OP_ARRAY
    if has_o2 and not _o2_simple(rule, which, &A, &B, ca, cb):
        return NotImplemented
    if A.nd > DUALML_MAXD or B.nd > DUALML_MAXD:
        return NotImplemented
    if not _bshape(A.nd, A.dims, B.nd, B.dims, &nd, dims):
        return NotImplemented           # the Python path raises NumPy's message
    res = _make(None, None, tag, o2) if has_o2 else _make(None, None, tag, None)
    _alloc_result(res, nd, dims, k)
    _parts(res, &O)
    # operands {a, ta, b, tb, y, ty}
    base[0] = A.v
    _bstrides(nd, dims, A.nd, A.dims, A.vst, strides)
    if A.d != NULL:
        base[1] = A.d
        _bstrides(nd, dims, A.nd, A.dims, A.dst + 1, strides + nd)
        rows[0] = A.dst[0]
    base[2] = B.v
    _bstrides(nd, dims, B.nd, B.dims, B.vst, strides + 2 * nd)
    if B.d != NULL:
        base[3] = B.d
        _bstrides(nd, dims, B.nd, B.dims, B.dst + 1, strides + 3 * nd)
        rows[1] = B.dst[0]
    base[4] = O.v
    _contig(nd, dims, strides + 4 * nd)
    base[5] = O.d
    _contig(nd, dims, strides + 5 * nd)
    rows[2] = O.dst[0]
    K.run_binary(rule, nd, <Py_ssize_t *>dims, k, which, base, strides, rows)
    if has_o2:
        if _o2_needed(rule, which):
            _o2_binary(rule, which, &A, &B, &O, o2)
        elif _any_nan(O.v, _size(&O)):
            # a rule without curvature at a domain error: nan second partials
            # there, as on every path (arrays/_second_order.py)
            _py._o2_domain_errors(_BINARY_NAMES[rule],
                                  _V(x) if which & 1 else (a if ca == OP_ARRAY else sa),
                                  _V(y) if which & 2 else (b if cb == OP_ARRAY else sb),
                                  _D(x) if which & 1 else None,
                                  _D(y) if which & 2 else None,
                                  _V(res), _D(res), o2)
    return res


cdef bint _any_nan(const char *p, Py_ssize_t n) noexcept:
    # p: n contiguous doubles (a fresh result)
    cdef Py_ssize_t i
    for i in range(n):
        if (<const double *>p)[i] != (<const double *>p)[i]:
            return True
    return False


cdef cnp.ndarray _full_like(int nd, cnp.npy_intp *dims, double c):
    # a C-contiguous array of shape dims filled with c
    cdef cnp.ndarray r = cnp.PyArray_EMPTY(nd, dims, cnp.NPY_DOUBLE, 0)
    cdef double *p = <double *>cnp.PyArray_DATA(r)
    cdef Py_ssize_t i
    for i in range(cnp.PyArray_SIZE(r)):
        p[i] = c
    return r


cdef inline void _zero(int nd, Py_ssize_t *st) noexcept:
    cdef int i
    for i in range(nd):
        st[i] = 0


cdef inline void _contig(int nd, cnp.npy_intp *dims, Py_ssize_t *st) noexcept:
    cdef int i
    cdef Py_ssize_t s = 8
    for i in range(nd - 1, -1, -1):
        st[i] = s
        s *= dims[i]


cdef object _unary(Py_ssize_t rule, DualArray x, double p):
    """rule(x) in C, or NotImplemented for the Python path."""
    cdef DualArray res
    cdef _Parts X, O
    cdef int nd
    cdef char *base[4]
    cdef Py_ssize_t strides[4 * DUALML_MAXD]
    cdef Py_ssize_t rows[2]
    cdef _Layout L
    if not _flat(x):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    nd = X.nd
    if nd > DUALML_MAXD:
        return NotImplemented
    if x._o2 is not None and _O2U[rule] and not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, nd, X.dims, X.k)
    _parts(res, &O)
    base[0] = X.v
    base[1] = X.d
    base[2] = O.v
    base[3] = O.d
    _copy_strides(nd, X.vst, strides)
    _copy_strides(nd, X.dst + 1, strides + nd)
    _contig(nd, X.dims, strides + 2 * nd)
    _contig(nd, X.dims, strides + 3 * nd)
    rows[0] = X.dst[0]
    rows[1] = O.dst[0]
    K.run_unary(rule, p, nd, <Py_ssize_t *>X.dims, X.k, base, strides, rows)
    if x._o2 is not None and _O2U[rule]:
        _o2_unpack(x._o2, &L)
        K.o2_unary_c(rule, p, _size(&X), <double *>X.v, <double *>X.d, X.dst[0] // 8,
                     <double *>O.d + L.k * _size(&X), L.k, L.i0, L.i1, L.tri)
    return res


cdef inline void _copy_strides(int nd, cnp.npy_intp *src, Py_ssize_t *dst) noexcept:
    cdef int i
    for i in range(nd):
        dst[i] = src[i]


cdef inline bint _o2_needed(Py_ssize_t rule, int which) noexcept:
    if which == 3:
        return _O2B[rule]
    if which == 1:
        return _O2BA[rule]
    return _O2BB[rule]


cdef bint _o2_simple(Py_ssize_t rule, int which, _Parts *A, _Parts *B,
                     int ca, int cb) noexcept:
    # Second order in C: the rule needs no curvature term here, or the
    # operands are contiguous arrays of one shape (no broadcasting) with
    # contiguous tangent rows; anything else takes the Python path
    cdef int i
    if not _o2_needed(rule, which):
        return True
    if ca == OP_SCALAR or cb == OP_SCALAR or A.nd != B.nd:
        return False
    for i in range(A.nd):
        if A.dims[i] != B.dims[i]:
            return False
    return (_vcontig(A) and _vcontig(B)
            and (A.d == NULL or _rcontig(A))
            and (B.d == NULL or _rcontig(B)))


cdef int _o2_binary(Py_ssize_t rule, int which, _Parts *A, _Parts *B, _Parts *O,
                    object o2) except -1:
    cdef Py_ssize_t m
    cdef _Layout L
    if not _o2_needed(rule, which):
        return 0
    _o2_unpack(o2, &L)
    m = _size(A)
    K.o2_binary_c(rule, m, <double *>A.v, <double *>B.v,
                  <double *>A.d, A.dst[0] // 8 if A.d != NULL else 0,
                  <double *>B.d, B.dst[0] // 8 if B.d != NULL else 0,
                  <double *>O.d + L.k * m, L.k, L.i0, L.i1, L.tri)
    return 0


cdef struct _Layout:
    # hessian's row layout _o2 (see arrays._second_order): the pairs (i, j)
    # of first-order rows, i in [i0, i1), j < k (tri: j >= i)
    Py_ssize_t k, i0, i1
    bint tri


cdef int _o2_unpack(object o2, _Layout *L) except -1:
    cdef tuple t = <tuple?>o2
    if len(t) == 3:
        L.tri = False
    elif len(t) == 4:
        L.tri = bool(t[3])
    else:
        raise ValueError(f"a hessian row layout is (k, i0, i1) or (k, i0, i1, True), "
                         f"got {o2!r}")
    L.k = t[0]
    L.i0 = t[1]
    L.i1 = t[2]
    return 0


cdef inline object _values(DualArray x):
    # the innermost float values (comparisons are locally constant)
    v = _V(x)
    return v if type(v) is ndarray else _py._inner(x)


cdef inline object _values_of(object o):
    t = type(o)
    if t is DualArray:
        return _values(<DualArray>o)
    if t is float or t is int or t is ndarray or t is _np_float64:
        return o
    return _py._inner_operand(o)


cdef inline object _op(Py_ssize_t rule, str name, object a, object b):
    # an operator: the C path, else the Python one (which also answers
    # NotImplemented for operand types it does not know)
    r = _binary(rule, a, b)
    return _py._binary_op(name, a, b) if r is NotImplemented else r


cdef object _inplace(DualArray x, object r):
    # x op= o with r = x op o already computed (fresh buffers, so overlap
    # between x and o cannot matter): copied into x's own storage when both
    # are first-order arrays of one layout and x's storage is writeable;
    # everything else (promotion to an inner tag, read-only views of a
    # seed) is item assignment's business
    cdef DualArray y
    cdef _Parts X, Y
    cdef Py_ssize_t n
    if type(r) is DualArray and _flat(x) and _flat(<DualArray>r):
        y = <DualArray>r
        if y._tag == x._tag and (y._o2 is x._o2 or y._o2 == x._o2):
            if x._lz != NULL and y._lz != NULL:
                # both lazy: contiguous blocks, writeable (no view exists)
                _parts(x, &X)
                _parts(y, &Y)
                if X.k == Y.k and _same_dims(&X, &Y):
                    n = _size(&X)
                    memmove(X.v, Y.v, <size_t>n * 8)
                    memmove(X.d, Y.d, <size_t>(n * X.k) * 8)
                    return x
            else:
                xv = _V(x)
                xd = _D(x)
                yv = _V(y)
                yd = _D(y)
                if (cnp.PyArray_ISWRITEABLE(<cnp.ndarray>xv)
                        and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>xd)
                        and cnp.PyArray_SAMESHAPE(<cnp.ndarray>xv, <cnp.ndarray>yv)
                        and cnp.PyArray_SAMESHAPE(<cnp.ndarray>xd, <cnp.ndarray>yd)):
                    cnp.PyArray_CopyInto(<cnp.ndarray>xv, <cnp.ndarray>yv)
                    cnp.PyArray_CopyInto(<cnp.ndarray>xd, <cnp.ndarray>yd)
                    return x
    _py._setitem(x, Ellipsis, r)
    return x


cdef inline bint _same_dims(_Parts *A, _Parts *B) noexcept:
    cdef int i
    if A.nd != B.nd:
        return False
    for i in range(A.nd):
        if A.dims[i] != B.dims[i]:
            return False
    return True


def _interp_rows(cnp.ndarray xf, cnp.ndarray jr, cnp.ndarray Df, cnp.ndarray xp,
                 cnp.ndarray fp, cnp.ndarray value, double lo, double hi):
    """The tangent rows of np.interp of x (flat xf, tangents Df (k, n)) on
    constant knots xp, fp, NumPy's values `value`: the piecewise-linear map
    of _differences._interp_map computed in one pass, bit for bit -- on the
    segment j = clip(jr - 1, 0, m - 2) (jr: searchsorted(xp, x, 'right')),
    (dx (1 / width)) (f1 - f0); nan where a step of the map (x - x0,
    / width, * (f1 - f0), f0 +) makes a nan of operands that are not; zero
    outside the knots (the constant ends lo/hi); nan where NumPy's value is
    nan and the map's is not.  All float64 (jr intp) and C-contiguous."""
    cdef Py_ssize_t n, k, m, i, r, j
    cdef const double *X
    cdef const double *XP
    cdef const double *FP
    cdef const double *V
    cdef const double *D
    cdef const cnp.npy_intp *J
    cdef double *O
    cdef double *c1
    cdef double x, x0, w, f0, df, a, t, mm, ins, mv
    cdef char *st
    cdef bint below, above
    for arr in (xf, Df, xp, fp, value):
        if cnp.PyArray_TYPE(<cnp.ndarray>arr) != cnp.NPY_DOUBLE or \
                not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>arr):
            raise TypeError("_interp_rows: float64 C-contiguous arrays")
    if cnp.PyArray_TYPE(jr) != cnp.NPY_INTP or not cnp.PyArray_IS_C_CONTIGUOUS(jr):
        raise TypeError("_interp_rows: jr must be C-contiguous intp")
    n = cnp.PyArray_SIZE(xf)
    m = cnp.PyArray_SIZE(xp)
    if cnp.PyArray_NDIM(Df) != 2 or cnp.PyArray_DIMS(Df)[1] != n or cnp.PyArray_SIZE(jr) != n \
            or cnp.PyArray_SIZE(value) != n or cnp.PyArray_SIZE(fp) != m or m < 2:
        raise ValueError("_interp_rows: mismatched sizes")
    k = cnp.PyArray_DIMS(Df)[0]
    out = np.empty((k, n))
    X = <const double *>cnp.PyArray_DATA(xf)
    XP = <const double *>cnp.PyArray_DATA(xp)
    FP = <const double *>cnp.PyArray_DATA(fp)
    V = <const double *>cnp.PyArray_DATA(value)
    D = <const double *>cnp.PyArray_DATA(Df)
    J = <const cnp.npy_intp *>cnp.PyArray_DATA(jr)
    O = <double *>cnp.PyArray_DATA(<cnp.ndarray>out)
    c1 = <double *>PyMem_Malloc(<size_t>(2 * n + 1) * sizeof(double) + <size_t>n)
    if c1 == NULL:
        raise MemoryError()
    st = <char *>(c1 + 2 * n + 1)
    with nogil:
        for i in range(n):
            x = X[i]
            j = J[i] - 1
            if j < 0:
                j = 0
            elif j > m - 2:
                j = m - 2
            x0 = XP[j]
            w = XP[j + 1] - x0
            f0 = FP[j]
            df = FP[j + 1] - f0
            a = x - x0
            t = a / w
            mm = t * df
            ins = f0 + mm
            st[i] = 0
            if ((a != a and x == x) or (t != t and a == a)
                    or (mm != mm and t == t and df == df) or (ins != ins and mm == mm and f0 == f0)):
                st[i] = 2
            below = x < XP[0]
            above = x > XP[m - 1]
            if below or above:
                st[i] = 1
            mv = lo if below else (hi if above else ins)
            if V[i] != V[i] and mv == mv:
                st[i] = 2
            c1[2 * i] = 1.0 / w
            c1[2 * i + 1] = df
        for r in range(k):
            for i in range(n):
                if st[i] == 0:
                    O[r * n + i] = (D[r * n + i] * c1[2 * i]) * c1[2 * i + 1]
                elif st[i] == 1:
                    O[r * n + i] = 0.0
                else:
                    O[r * n + i] = NAN
    PyMem_Free(c1)
    return out
