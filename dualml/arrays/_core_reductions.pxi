# Reductions -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# Full sums and means (NumPy's pairwise summation), sums and means over axes
# and cumsum (one NumPy call over the (k + 1, ...) block), max/min (the
# selected element's tangents), prod.  A nan result goes to the Python path,
# which decides its tangents (_shape._domain_nans).

cdef double _pairwise(char *p, Py_ssize_t n, Py_ssize_t s) noexcept nogil:
    # Pairwise summation in NumPy's order (8 accumulators below 128
    # elements), so a sum here has the bits of np.add.reduce.
    cdef double r0, r1, r2, r3, r4, r5, r6, r7, res
    cdef Py_ssize_t i, n2
    if n < 8:
        res = 0.0
        for i in range(n):
            res += (<double *>(p + i * s))[0]
        return res
    if n <= 128:
        r0 = (<double *>(p + 0 * s))[0]
        r1 = (<double *>(p + 1 * s))[0]
        r2 = (<double *>(p + 2 * s))[0]
        r3 = (<double *>(p + 3 * s))[0]
        r4 = (<double *>(p + 4 * s))[0]
        r5 = (<double *>(p + 5 * s))[0]
        r6 = (<double *>(p + 6 * s))[0]
        r7 = (<double *>(p + 7 * s))[0]
        i = 8
        while i < n - (n % 8):
            r0 += (<double *>(p + (i + 0) * s))[0]
            r1 += (<double *>(p + (i + 1) * s))[0]
            r2 += (<double *>(p + (i + 2) * s))[0]
            r3 += (<double *>(p + (i + 3) * s))[0]
            r4 += (<double *>(p + (i + 4) * s))[0]
            r5 += (<double *>(p + (i + 5) * s))[0]
            r6 += (<double *>(p + (i + 6) * s))[0]
            r7 += (<double *>(p + (i + 7) * s))[0]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += (<double *>(p + i * s))[0]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise(p, n2, s) + _pairwise(p + n2 * s, n - n2, s)


# How many elements NumPy's add.reduce takes in one pairwise pass: all of
# them since NumPy 2.3; before, its buffer size (8192) -- a longer run is
# summed in pieces of that size, each piece's pairwise sum added in order.
cdef Py_ssize_t _SUM_PASS = (PY_SSIZE_T_MAX if np.lib.NumpyVersion(np.__version__) >= "2.3.0"
                             else 8192)


cdef inline double _np_sum(char *p, Py_ssize_t n, Py_ssize_t s) noexcept nogil:
    # np.add.reduce of n doubles at byte stride s, with its bits (from 0.0:
    # a sum of -0.0s is +0.0)
    cdef double acc = 0.0
    while n > _SUM_PASS:
        acc += _pairwise(p, _SUM_PASS, s)
        p += _SUM_PASS * s
        n -= _SUM_PASS
    return acc + _pairwise(p, n, s)


cdef tuple _ONES = ((), (1,), (1, 1), (1, 1, 1), (1, 1, 1, 1), (1, 1, 1, 1, 1))


cdef object _kept(object r, DualArray x, bint keepdims):
    """An all-element reduction r of x (0-d, or NotImplemented) with
    keepdims: viewed with x's number of axes, each of length 1 (as NumPy's
    keepdims=True gives); NotImplemented where the view is not made (the
    Python path then reduces)."""
    cdef int nd
    if r is NotImplemented or not keepdims:
        return r
    nd = _ndim_of(x)
    if nd < 0 or nd >= len(_ONES):
        return NotImplemented
    return _reshaped(<DualArray>r, _ONES[nd]) if nd else r


cdef object _prod_axis(DualArray x, object axis, bint keepdims):
    """x.prod(axis) for one int axis: the Python path's left-to-right product
    of the slices along it (_reduce._prod: exact derivatives with zeros),
    each step the multiply rule's C path, so its bits: one kernel call per
    step over all lanes for first-order components (_prod_lanes), else each
    slice the core's view; NotImplemented where a step declines or the axis
    is empty (the Python path then decides, and raises NumPy's errors)."""
    cdef int nd = _ndim_of(x), ax
    cdef Py_ssize_t n, i
    cdef list shape
    if nd < 1 or type(axis) is not int or not -nd <= <long>axis < nd:
        return NotImplemented
    ax = <int>axis + nd if <long>axis < 0 else <int>axis
    if x._o2 is None:
        r = _prod_lanes(x, ax, keepdims)
        if r is not NotImplemented:
            return r
    shape = list(x.shape)
    n = shape[ax]
    if n == 0:
        return NotImplemented
    tail = (slice(None),) * (nd - 1 - ax)
    r = x[(Ellipsis, slice(0, 1)) + tail]
    for i in range(1, n):
        r = _binary(R_MUL, r, x[(Ellipsis, slice(i, i + 1)) + tail])
        if r is NotImplemented:
            return r
    if keepdims:
        return r
    del shape[ax]
    return _reshaped(<DualArray>r, tuple(shape))


cdef object _prod_lanes(DualArray x, int ax, bint keepdims):
    """x.prod(axis=ax) for first-order x with C-contiguous components: the
    lanes as a 2-d (outer, inner) block, slice 0 copied, then one multiply
    kernel call per further slice for every lane at once (accumulator as
    a, slice as b: _prod_axis's order and bits), ping-ponged between the
    result and one scratch block so that the last step lands in the result.
    NotImplemented where it does not apply."""
    cdef _Parts X, O
    cdef DualArray res
    cdef int nd, a, snd
    cdef Py_ssize_t n, k, L, outer = 1, inner = 1, m, o, j, r, steps
    cdef cnp.npy_intp dims[DUALML_MAXD]
    cdef Py_ssize_t shape2[2]
    cdef char *base[6]
    cdef Py_ssize_t strides[12]
    cdef Py_ssize_t rows[3]
    cdef char *av
    cdef char *ad
    cdef char *nv
    cdef char *nd_
    cdef char *tv
    cdef char *td
    cdef Py_ssize_t arow, nrow, trow
    cdef double *tmp = NULL
    if not _flat(x):
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    nd = X.nd
    n = _size(&X)
    k = X.k
    if nd > DUALML_MAXD or k < 1 or n == 0 or not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    L = X.dims[ax]
    snd = 0
    for a in range(nd):
        if a < ax:
            outer *= X.dims[a]
        elif a > ax:
            inner *= X.dims[a]
        if a != ax:
            dims[snd] = X.dims[a]
            snd += 1
        elif keepdims:
            dims[snd] = 1
            snd += 1
    m = outer * inner
    res = _make(None, None, x._tag, None)
    _alloc_result(res, snd, dims, k)
    _parts(res, &O)
    if m == 0:
        return res
    steps = L - 1
    if steps:
        tmp = <double *>PyMem_Malloc(<size_t>((k + 1) * m) * sizeof(double))
        if tmp == NULL:
            raise MemoryError()
    try:
        # the result is O (rows O.dst[0] apart), the scratch tmp (rows m apart)
        if steps % 2 == 0:
            av, ad, arow = O.v, O.d, O.dst[0]
            nv, nd_, nrow = <char *>tmp, <char *>(tmp + m), 8 * m
        else:
            av, ad, arow = <char *>tmp, <char *>(tmp + m), 8 * m
            nv, nd_, nrow = O.v, O.d, O.dst[0]
        for o in range(outer):
            memcpy(av + o * inner * 8, X.v + o * L * inner * 8, <size_t>(inner * 8))
            for j in range(k):
                memcpy(ad + j * arow + o * inner * 8,
                       X.d + j * X.dst[0] + o * L * inner * 8, <size_t>(inner * 8))
        # the lanes as (outer, inner); one axis where the other is 1
        if outer == 1 or inner == 1:
            shape2[0] = m
            for j in range(6):
                strides[j] = 8 if inner > 1 else 8 * L
            strides[0] = strides[1] = strides[4] = strides[5] = 8
            snd = 1
        else:
            shape2[0] = outer
            shape2[1] = inner
            for j in range(6):
                strides[2 * j] = inner * 8
                strides[2 * j + 1] = 8
            strides[4] = strides[6] = L * inner * 8
            snd = 2
        rows[1] = X.dst[0]
        for r in range(1, L):
            base[0] = av
            base[1] = ad
            base[2] = X.v + r * inner * 8
            base[3] = X.d + r * inner * 8
            base[4] = nv
            base[5] = nd_
            rows[0] = arow
            rows[2] = nrow
            K.run_binary(R_MUL, snd, shape2, k, 3, base, strides, rows)
            tv, td, trow = av, ad, arow
            av, ad, arow = nv, nd_, nrow
            nv, nd_, nrow = tv, td, trow
    finally:
        PyMem_Free(tmp)
    return res


cdef object _trapezoid_c(DualArray x):
    """np.trapezoid(x) of a first-order vector with C-contiguous components
    (dx 1, no sample points): per component NumPy's steps, (1.0 * (y[1:] +
    y[:-1])) / 2.0 and their pairwise sum from 0.0 (the handler's map of
    each component); NotImplemented for other operands or a value that is
    not finite (NumPy's warnings, the handler's domain rule)."""
    cdef _Parts X, O
    cdef DualArray res
    cdef Py_ssize_t n, i, comp
    cdef double *t
    cdef const double *src
    cdef double buf[256]
    if not _flat(x) or x._o2 is not None:
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    if X.nd != 1 or X.dims[0] < 2 or not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    n = X.dims[0] - 1
    t = buf
    if n > 256:
        t = <double *>PyMem_Malloc(<size_t>n * sizeof(double))
        if t == NULL:
            raise MemoryError()
    res = _make(None, None, x._tag, None)
    try:
        _alloc_result(res, 0, NULL, X.k)
        _parts(res, &O)
        for comp in range(X.k + 1):
            src = <const double *>(X.v if comp == 0 else X.d + (comp - 1) * X.dst[0])
            for i in range(n):
                t[i] = (1.0 * (src[i + 1] + src[i])) / 2.0
            (<double *>(O.v if comp == 0 else O.d + (comp - 1) * O.dst[0]))[0] = \
                _np_sum(<char *>t, n, 8)
    finally:
        if t != buf:
            PyMem_Free(t)
    if not isfinite((<double *>O.v)[0]):
        return NotImplemented
    return res


cdef object _sum_all(DualArray x):
    """x.sum() over every element: a 0-d DualArray, or NotImplemented (also
    for a nan sum: the Python path decides its tangents, _shape._domain_nans)."""
    cdef _Parts X, O
    cdef DualArray res
    cdef Py_ssize_t n, j, rs
    cdef double *o
    cdef double s
    if not _flat(x):
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    if not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    n = _size(&X)
    # NumPy's add.reduce starts from its identity, 0.0, then adds the
    # pairwise sum: a sum of -0.0s is +0.0
    s = _np_sum(X.v, n, 8)
    if s != s:
        return NotImplemented
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, 0, NULL, X.k)
    _parts(res, &O)
    o = <double *>O.d
    rs = X.dst[0] if X.k > 1 else 0
    with nogil:
        (<double *>O.v)[0] = s
        for j in range(X.k):
            o[j] = _np_sum(X.d + j * rs, n, 8)
    return res


cdef object _trace_c(DualArray x):
    """np.trace(x) of a 2-d first-order x: np.add.reduce of the diagonal
    (NumPy's trace) -- the pairwise sum along the diagonal's stride of the
    values and of each tangent row on its own (np.trace's bits direction by
    direction, as the handler); NotImplemented otherwise (a nan trace too:
    the Python path decides its tangents)."""
    cdef _Parts X, O
    cdef DualArray res
    cdef Py_ssize_t m, j, ds
    cdef double *o
    cdef double s
    if not _flat(x) or x._o2 is not None:
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    if X.nd != 2:
        return NotImplemented
    m = X.dims[0] if X.dims[0] < X.dims[1] else X.dims[1]
    s = _np_sum(X.v, m, X.vst[0] + X.vst[1])
    if s != s:
        return NotImplemented
    res = _make(None, None, x._tag, None)
    _alloc_result(res, 0, NULL, X.k)
    _parts(res, &O)
    o = <double *>O.d
    ds = X.dst[1] + X.dst[2]
    with nogil:
        (<double *>O.v)[0] = s
        for j in range(X.k):
            o[j] = _np_sum(X.d + j * X.dst[0], m, ds)
    return res


cdef object _np_add_reduce = np.add.reduce
cdef object _np_mean = np.mean


cdef object _reduce_axes(DualArray x, object axis, bint keepdims, bint mean):
    """x.sum(axis) / x.mean(axis) for an int or a tuple of distinct ints in
    range: np.add.reduce / np.mean of the values and of the rows with the
    axes counted from the end, as the Python path (_reduce._sum/_mean) calls
    them -- for a lazy x one call over its block, whose (k + 1, ...) layout
    NumPy reduces exactly as the two components (tests/test_array_core.py),
    and so for a small eager x with contiguous components after copying
    both into one such block; NotImplemented otherwise."""
    cdef _Parts X, O
    cdef Py_ssize_t n
    cdef int nd, i
    cdef cnp.npy_intp full[DUALML_MAXD + 1]
    cdef Py_ssize_t m
    cdef DualArray res
    if not _flat(x):
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    nd = X.nd
    if type(axis) is int:
        if not -nd <= axis < nd:
            return NotImplemented       # the Python path raises NumPy's error
        ax = axis - nd if axis >= 0 else axis
        r = _sum_axis_c(x, &X, nd + ax, keepdims, mean)
        if r is not NotImplemented:
            return r
    else:
        if type(axis) is not tuple or len(<tuple>axis) == 0:
            return NotImplemented
        neg = []
        for a in <tuple>axis:
            if type(a) is not int or not -nd <= a < nd:
                return NotImplemented
            a = a - nd if a >= 0 else a
            if a in neg:
                return NotImplemented
            neg.append(a)
        ax = tuple(neg)
        r = _sum_run_c(x, &X, neg, keepdims, mean)
        if r is not NotImplemented:
            return r
    f = _np_mean if mean else _np_add_reduce
    kd = True if keepdims else False
    n = _size(&X)
    full[0] = X.k + 1
    for i in range(nd):
        full[i + 1] = X.dims[i]
    # positional (array, axis, dtype, out, keepdims) for both functions
    blk = _block_of(x, &X, nd, full)
    if blk is None:
        rv = f(x._vo, ax, None, None, kd)
        if type(rv) is not ndarray:
            rv = np.asarray(rv, dtype=_F64)
        if _nan_in(rv):
            return NotImplemented       # (the Python path: _shape._domain_nans)
        rd = f(x._do, ax, None, None, kd)
        return _make(rv, rd, x._tag, x._o2)
    # np.mean is np.add.reduce, then a true division by the count (the
    # count a Python int, a double in the division): that division is done
    # here, on the copy, without np.mean's Python frames
    # (an empty x keeps np.mean: its warning and nans)
    r = (_np_add_reduce if not mean or n > 0 else f)(blk, ax, None, None, kd)
    if not (type(r) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>r) == cnp.NPY_DOUBLE
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>r)):
        return NotImplemented
    m = cnp.PyArray_NBYTES(<cnp.ndarray>r) // (X.k + 1)
    if _any_nan(<const char *>cnp.PyArray_DATA(<cnp.ndarray>r), m // 8):
        return NotImplemented           # (the Python path: _shape._domain_nans)
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, cnp.PyArray_NDIM(<cnp.ndarray>r) - 1,
                  cnp.PyArray_DIMS(<cnp.ndarray>r) + 1, X.k)
    _parts(res, &O)
    memcpy(O.v, cnp.PyArray_DATA(<cnp.ndarray>r), <size_t>m)
    if X.k:
        memcpy(O.d, <char *>cnp.PyArray_DATA(<cnp.ndarray>r) + m, <size_t>(m * X.k))
    if mean and n > 0 and m > 0:
        _divide_all(<double *>O.v, m // 8, <double>(n // (m // 8)))
        _divide_all(<double *>O.d, X.k * (m // 8), <double>(n // (m // 8)))
    return res


cdef object _sum_run_c(DualArray x, _Parts *X, list neg, bint keepdims, bint mean):
    """x.sum(axes) / x.mean(axes) for axes (negative, distinct) that are
    one run of adjacent axes of a small first-order x with C-contiguous
    components: the run is one axis of the same memory (NumPy's iterator
    coalesces it so: the slices along it added one after the other, or
    the pairwise sum of each lane where the run ends at the last axis),
    _sum_axis_c's loops; NotImplemented otherwise."""
    cdef _Parts M
    cdef cnp.npy_intp mdims[DUALML_MAXD]
    cdef cnp.npy_intp mvst[DUALML_MAXD]
    cdef cnp.npy_intp mdst[DUALML_MAXD + 1]
    cdef int nd = X.nd, lo = nd, hi = -1, i, j = 0, a
    cdef Py_ssize_t n = _size(X), run = 1, s
    for e in neg:
        a = <int>e + nd
        lo = a if a < lo else lo
        hi = a if a > hi else hi
    if hi - lo + 1 != len(neg) or len(neg) < 2 or x._o2 is not None \
            or not (_vcontig(X) and _rcontig(X) and (X.k < 2 or X.dst[0] == 8 * n)):
        return NotImplemented
    for i in range(nd):
        if lo <= i <= hi:
            run *= X.dims[i]
            if i == hi:
                mdims[j] = run
                j += 1
        else:
            mdims[j] = X.dims[i]
            j += 1
    s = 8
    for i in range(j - 1, -1, -1):
        mvst[i] = s
        mdst[i + 1] = s
        s *= mdims[i]
    mdst[0] = X.dst[0]
    M.v = X.v
    M.d = X.d
    M.nd = j
    M.dims = mdims
    M.vst = mvst
    M.dst = mdst
    M.k = X.k
    r = _sum_axis_c(x, &M, lo, False, mean)
    if r is NotImplemented or not keepdims:
        return r
    shape = list(x.shape)
    for i in range(lo, hi + 1):
        shape[i] = 1
    return _reshaped(<DualArray>r, tuple(shape))


cdef object _sum_axis_c(DualArray x, _Parts *X, int ax, bint keepdims, bint mean):
    """x.sum(ax) / x.mean(ax) over one axis of a small first-order x whose
    values and tangent rows are C-contiguous, in NumPy's order written out:
    add.reduce starts each output from its identity 0.0, then -- its inner
    loop running along the smallest stride -- adds the pairwise sum of the
    lane when ax is the last axis, else adds the slices along ax one after
    the other (np.mean then divides by the count).  The tests compare with
    np.add.reduce and np.mean on many shapes and special values.  A result
    that is not finite (NumPy warns), an empty axis and other layouts:
    NotImplemented."""
    cdef _Parts O
    cdef DualArray res
    cdef cnp.npy_intp odims[DUALML_MAXD]
    cdef Py_ssize_t outer = 1, L, inner = 1, n, m, comp, o, r, i
    cdef int a, ond = 0
    cdef const char *src
    cdef double *dst
    cdef double *out
    cdef const double *row
    cdef double c
    n = _size(X)
    if not (_vcontig(X) and _rcontig(X) and (X.k < 2 or X.dst[0] == 8 * n)) \
            or 8.0 * <double>(X.k + 1) * <double>n >= POOL_MIN:
        return NotImplemented
    L = X.dims[ax]
    if L == 0:
        return NotImplemented
    for a in range(X.nd):
        if a < ax:
            outer *= X.dims[a]
        elif a > ax:
            inner *= X.dims[a]
        if a != ax:
            odims[ond] = X.dims[a]
            ond += 1
        elif keepdims:
            odims[ond] = 1
            ond += 1
    m = outer * inner
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, ond, odims, X.k)
    _parts(res, &O)
    c = <double>L
    for comp in range(X.k + 1):
        src = X.v if comp == 0 else X.d + (comp - 1) * X.dst[0]
        dst = <double *>(O.v if comp == 0 else O.d + (comp - 1) * O.dst[0])
        if inner == 1:
            for o in range(outer):
                dst[o] = _np_sum(<char *>src + o * L * 8, L, 8)
        else:
            for o in range(outer):
                out = dst + o * inner
                for i in range(inner):
                    out[i] = 0.0
                for r in range(L):
                    row = <const double *>src + (o * L + r) * inner
                    for i in range(inner):
                        out[i] = out[i] + row[i]
        for i in range(m):
            if not isfinite(dst[i]):
                # an inf or nan: NumPy's reduction (its overflow and invalid
                # warnings), and a nan value's tangents by _shape._domain_nans
                return NotImplemented
        if mean:
            for i in range(m):
                dst[i] = dst[i] / c
    return res


cdef void _divide_all(double *p, Py_ssize_t n, double c) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        p[i] = p[i] / c


def _cumprod(x, axis):
    """np.multiply.accumulate of a first-order DualArray with C-contiguous
    components along axis (None: flattened): each lane's first slice
    copied, then each next slice the previous times the input by the
    multiply rule (K.run_binary, the kernel the operators call: the bits of
    the Python path's slice-by-slice products, _statistics._accumulate);
    NotImplemented otherwise."""
    cdef DualArray d, res
    cdef _Parts X, O
    cdef Py_ssize_t n, ax, outer = 1, L, inner = 1, o, r, j, lane, off0, off1
    cdef cnp.npy_intp flat
    cdef int a, nd
    cdef char *base[6]
    cdef Py_ssize_t strides[6]
    cdef Py_ssize_t rows[3]
    if type(x) is not DualArray:
        return NotImplemented
    d = <DualArray>x
    if not _flat(d) or d._o2 is not None:
        return NotImplemented
    hv, hd = d._vo, d._do
    _parts(d, &X)
    nd = X.nd
    n = _size(&X)
    if nd > DUALML_MAXD or nd == 0 or n == 0 or not (_vcontig(&X) and _rcontig(&X)) \
            or (X.k > 1 and X.dst[0] != 8 * n):
        return NotImplemented
    if axis is None:
        L = n
    else:
        if type(axis) is not int or not -nd <= axis < nd:
            return NotImplemented       # the Python path raises NumPy's error
        ax = axis + nd if axis < 0 else axis
        L = X.dims[ax]
        for a in range(nd):
            if a < ax:
                outer *= X.dims[a]
            elif a > ax:
                inner *= X.dims[a]
    res = _make(None, None, d._tag, None)
    if axis is None:
        flat = n
        _alloc_result(res, 1, &flat, X.k)
    else:
        _alloc_result(res, nd, X.dims, X.k)
    _parts(res, &O)
    lane = L * inner
    for j in range(6):
        strides[j] = 8
    rows[0] = O.dst[0]
    rows[1] = X.dst[0]
    rows[2] = O.dst[0]
    for o in range(outer):
        off0 = o * lane * 8
        memcpy(O.v + off0, X.v + off0, <size_t>(inner * 8))
        for j in range(X.k):
            memcpy(O.d + j * O.dst[0] + off0, X.d + j * X.dst[0] + off0, <size_t>(inner * 8))
        for r in range(1, L):
            off1 = off0 + r * inner * 8
            base[0] = O.v + off1 - inner * 8
            base[1] = O.d + off1 - inner * 8
            base[2] = X.v + off1
            base[3] = X.d + off1
            base[4] = O.v + off1
            base[5] = O.d + off1
            K.run_binary(R_MUL, 1, &inner, X.k, 3, base, strides, rows)
    return res


cdef object _cumsum_c(DualArray x, object axis):
    """x.cumsum(axis) for a first-order x with C-contiguous components
    (lazy or eager), in np.add.accumulate's order written out: each lane's
    first element copied, then each next one the previous plus the input
    (the Python path's np.cumsum of each component, bit for bit; axis None
    along the flattened array).  A result that is not finite goes to the
    Python path (NumPy's warnings, _shape._domain_nans); NotImplemented
    otherwise."""
    cdef _Parts X, O
    cdef Py_ssize_t n, ax, outer = 1, L, inner = 1, comp, o, r, i, lane
    cdef cnp.npy_intp flat
    cdef int a, nd
    cdef DualArray res
    cdef const double *src
    cdef double *dst
    if not _flat(x):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    nd = X.nd
    n = _size(&X)
    if nd > DUALML_MAXD or n == 0 or not (_vcontig(&X) and _rcontig(&X)) \
            or (X.k > 1 and X.dst[0] != 8 * n):
        return NotImplemented
    if axis is None:
        L = n
    else:
        if type(axis) is not int or nd == 0:
            return NotImplemented
        try:
            ax = axis
        except OverflowError:
            return NotImplemented
        if not -nd <= ax < nd:
            return NotImplemented       # the Python path raises NumPy's error
        if ax < 0:
            ax += nd
        L = X.dims[ax]
        for a in range(nd):
            if a < ax:
                outer *= X.dims[a]
            elif a > ax:
                inner *= X.dims[a]
    res = _make(None, None, x._tag, x._o2)
    if axis is None:
        flat = n
        _alloc_result(res, 1, &flat, X.k)
    else:
        _alloc_result(res, nd, X.dims, X.k)
    _parts(res, &O)
    lane = L * inner
    for comp in range(X.k + 1):
        src = <const double *>(X.v if comp == 0 else X.d + (comp - 1) * X.dst[0])
        dst = <double *>(O.v if comp == 0 else O.d + (comp - 1) * O.dst[0])
        for o in range(outer):
            for i in range(inner):
                dst[o * lane + i] = src[o * lane + i]
            for r in range(1, L):
                for i in range(inner):
                    dst[o * lane + r * inner + i] = (dst[o * lane + (r - 1) * inner + i]
                                                     + src[o * lane + r * inner + i])
        for i in range(n):
            if not isfinite(dst[i]):
                return NotImplemented   # (NumPy's warnings; _shape._domain_nans)
    return res


cdef inline Py_ssize_t _offset(Py_ssize_t i, int nd, cnp.npy_intp *dims,
                               cnp.npy_intp *st) noexcept:
    # the byte offset of flat (C-order) element i
    cdef Py_ssize_t off = 0
    cdef int a
    for a in range(nd - 1, -1, -1):
        off += (i % dims[a]) * st[a]
        i //= dims[a]
    return off


cdef object _select_all(DualArray x, bint want_max):
    """x.max() / x.min() over every element: the first maximum (minimum) or
    the first nan, as np.argmax / np.argmin pick it, with its tangents; a
    0-d result, or NotImplemented."""
    cdef _Parts X
    cdef Py_ssize_t n, i, best = 0, off_v, off_d
    cdef double m, a
    cdef bint contig
    if not _flat(x):
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    n = _size(&X)
    if n == 0:
        return NotImplemented           # the Python path raises NumPy's error
    m = (<double *>X.v)[0]
    contig = _vcontig(&X)
    if m == m:
        for i in range(1, n):
            if contig:
                a = (<double *>X.v)[i]
            else:
                a = (<double *>(X.v + _offset(i, X.nd, X.dims, X.vst)))[0]
            if (a > m if want_max else a < m) or a != a:
                m = a
                best = i
                if a != a:
                    break
    off_v = _offset(best, X.nd, X.dims, X.vst)
    off_d = _offset(best, X.nd, X.dims, X.dst + 1)
    return _gather(x, &X, 0, NULL, &off_v, &off_d, 1)


cdef object _select_axis(DualArray x, object axis, bint keepdims, bint want_max):
    """x.max(axis) / x.min(axis) along one axis: at each position of the
    other axes the first maximum (minimum) or the first nan along the axis,
    as np.argmax / np.argmin pick it, with its tangents (the Python path's
    take_along_axis of the same element); NotImplemented for an axis out of
    range or an empty reduction (the Python path raises NumPy's error)."""
    cdef _Parts X
    cdef cnp.npy_intp odims[DUALML_MAXD]
    cdef cnp.npy_intp idx[DUALML_MAXD]
    cdef Py_ssize_t ax, L, m, o, j, best, base_v, base_d, sv
    cdef Py_ssize_t *off_v
    cdef Py_ssize_t *off_d
    cdef double a, mx
    cdef int i, nd, ond
    if not _flat(x):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    nd = X.nd
    if nd == 0 or nd > DUALML_MAXD:
        return NotImplemented
    try:
        ax = axis
    except OverflowError:
        return NotImplemented
    if not -nd <= ax < nd:
        return NotImplemented
    if ax < 0:
        ax += nd
    L = X.dims[ax]
    m = _size(&X) // L if L else 0
    if L == 0 or m == 0:
        return NotImplemented
    ond = 0
    for i in range(nd):
        if i != ax:
            odims[ond] = X.dims[i]
            ond += 1
        elif keepdims:
            odims[ond] = 1
            ond += 1
    off_v = <Py_ssize_t *>PyMem_Malloc(<size_t>(2 * m) * sizeof(Py_ssize_t))
    if off_v == NULL:
        raise MemoryError()
    off_d = off_v + m
    try:
        for i in range(nd):
            idx[i] = 0
        sv = X.vst[ax]
        for o in range(m):
            base_v = 0
            base_d = 0
            for i in range(nd):
                base_v += idx[i] * X.vst[i]
                base_d += idx[i] * X.dst[i + 1]
            best = 0
            mx = (<double *>(X.v + base_v))[0]
            if mx == mx:
                for j in range(1, L):
                    a = (<double *>(X.v + base_v + j * sv))[0]
                    if (a > mx if want_max else a < mx) or a != a:
                        mx = a
                        best = j
                        if a != a:
                            break
            off_v[o] = base_v + best * sv
            off_d[o] = base_d + best * X.dst[ax + 1]
            # the next position of the other axes, C order
            for i in range(nd - 1, -1, -1):
                if i == ax:
                    continue
                idx[i] += 1
                if idx[i] < X.dims[i]:
                    break
                idx[i] = 0
        return _gather(x, &X, ond, odims, off_v, off_d, m)
    finally:
        PyMem_Free(off_v)


cdef object _prod_all(DualArray x):
    """x.prod() over every element: the Python path's left-to-right product
    (exact derivatives with zeros), each step the multiply rule's kernel on
    one element; a 0-d result, or NotImplemented (hessian rows, empty)."""
    cdef _Parts X
    cdef Py_ssize_t n, i, k
    cdef double *buf
    cdef double *acc
    cdef double *nxt
    cdef double *tmp
    cdef char *base[6]
    cdef Py_ssize_t strides[6]
    cdef Py_ssize_t rows[3]
    cdef Py_ssize_t dims0[1]
    cdef Py_ssize_t off_v, off_d
    if not _flat(x) or x._o2 is not None:
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    n = _size(&X)
    k = X.k
    if n == 0:
        return NotImplemented
    off_v = 0
    off_d = 0
    if n == 1:
        return _gather(x, &X, 0, NULL, &off_v, &off_d, 1)
    buf = <double *>PyMem_Malloc(<size_t>(2 * (k + 1)) * sizeof(double))
    if buf == NULL:
        raise MemoryError()
    try:
        # acc = element 0; then acc = acc * element i (value, then k rows)
        acc = buf
        nxt = buf + k + 1
        acc[0] = (<double *>X.v)[0]
        for i in range(k):
            acc[1 + i] = (<double *>(X.d + i * X.dst[0]))[0]
        for i in range(6):
            strides[i] = 0
        dims0[0] = 1
        rows[0] = 8
        rows[2] = 8
        rows[1] = X.dst[0]
        for i in range(1, n):
            off_v = _offset(i, X.nd, X.dims, X.vst)
            off_d = _offset(i, X.nd, X.dims, X.dst + 1)
            base[0] = <char *>acc
            base[1] = <char *>(acc + 1)
            base[2] = X.v + off_v
            base[3] = X.d + off_d
            base[4] = <char *>nxt
            base[5] = <char *>(nxt + 1)
            K.run_binary(R_MUL, 0, dims0, k, 3, base, strides, rows)
            tmp = acc
            acc = nxt
            nxt = tmp
        res = _make(None, None, x._tag, None)
        _alloc_result(res, 0, NULL, k)
        _parts(<DualArray>res, &X)
        (<double *>X.v)[0] = acc[0]
        for i in range(k):
            (<double *>(X.d + i * X.dst[0]))[0] = acc[1 + i]
        return res
    finally:
        PyMem_Free(buf)


cdef object _mean_all(DualArray x):
    # NumPy's mean over everything: the pairwise sum divided by the count
    cdef DualArray r
    cdef _Parts X
    cdef Py_ssize_t n = 0, j
    cdef double *p
    if not _flat(x):
        return NotImplemented
    _parts(x, &X)
    n = _size(&X)
    if n == 0:
        return NotImplemented       # (NumPy's warning and nan: the Python path)
    s = _sum_all(x)
    if s is NotImplemented:
        return s
    r = <DualArray>s
    _parts(r, &X)
    p = <double *>X.v
    p[0] = p[0] / n
    p = <double *>X.d
    for j in range(X.k):
        p[j] = p[j] / n
    return r
