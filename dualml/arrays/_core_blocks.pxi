# Blocks, copies, views and joins -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# A DualArray's values and rows as one (k + 1, ...) block for linear maps
# (_lin_block), copies, views made in C (squeeze, transpose, reshape),
# np.where and joins along any axis.

cdef object _block_of(DualArray x, _Parts *X, int nd, cnp.npy_intp *full):
    """x's values and tangent rows as one C-contiguous (k + 1, ...) float64
    array of shape full[:nd + 1] (the same number of elements): a read-only
    view of a lazy x's block, or for a small eager x with contiguous
    components a copy of both (under POOL_MIN bytes: one NumPy call over
    the block then costs about what one over the values does, and the copy
    next to nothing); None otherwise.  X: x's parts, taken by the caller."""
    cdef Py_ssize_t n = _size(X)
    cdef _Lazy *L = x._lz
    cdef cnp.ndarray blk
    if L != NULL:
        blk = _array_on(nd + 1, full, NULL, L.v, cnp.NPY_ARRAY_CARRAY_RO)
        cnp.set_array_base(blk, _owner(x))
        return blk
    if (8.0 * <double>(X.k + 1) * <double>n < POOL_MIN and _vcontig(X) and _rcontig(X)
            and (X.k < 2 or X.dst[0] == 8 * n)):
        blk = _empty(nd + 1, full)
        memcpy(cnp.PyArray_DATA(blk), X.v, <size_t>(8 * n))
        memcpy(<char *>cnp.PyArray_DATA(blk) + 8 * n, X.d, <size_t>(8 * n * X.k))
        return blk
    return None


cdef object _from_block(object r, DualArray x, Py_ssize_t k):
    """The DualArray of x's tag and row layout whose values are r[0] and
    tangent rows r[1:], r a (k + 1, ...) float64 result of a map applied to
    x's block; a small C-contiguous r is copied into a lazy result (no
    views made), others are viewed.  NotImplemented if r is not that."""
    cdef cnp.ndarray a
    cdef DualArray res
    cdef _Parts O
    cdef Py_ssize_t m, j
    cdef int nd
    if type(r) is not ndarray:
        return NotImplemented
    a = <cnp.ndarray>r
    nd = cnp.PyArray_NDIM(a)
    if not (cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE and 1 <= nd <= DUALML_MAXD
            and cnp.PyArray_DIMS(a)[0] == k + 1):
        return NotImplemented
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_NBYTES(a) < POOL_MIN):
        return _make(a[0], a[1:], x._tag, x._o2)
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, nd - 1, cnp.PyArray_DIMS(a) + 1, k)
    _parts(res, &O)
    m = cnp.PyArray_NBYTES(a) // (k + 1)
    memcpy(O.v, cnp.PyArray_DATA(a), <size_t>m)
    for j in range(k):
        memcpy(O.d + j * O.dst[0], <char *>cnp.PyArray_DATA(a) + (j + 1) * m, <size_t>m)
    return res


cdef bint _nan_in(object a) except -1:
    # whether the float64 ndarray a holds a nan (one pass, no temporary for
    # a contiguous a)
    cdef cnp.ndarray arr
    if type(a) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE \
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a):
        arr = <cnp.ndarray>a
        return _any_nan(<const char *>cnp.PyArray_DATA(arr), cnp.PyArray_SIZE(arr))
    return bool(np.isnan(a).any())


def _has_nan(a):
    """Whether the float64 ndarray a holds a nan."""
    return _nan_in(a)


def _lin_block(x, f, Py_ssize_t out_size=-1):
    """f applied once to the (k + 1, ...) block of x's values and tangent
    rows (see _block_of), for a first-order or hessian-rows x whose
    components are float64 ndarrays and a map f that treats the leading
    axis as a batch and computes each output element from the same inputs
    in the same order whatever the batch (copies, selections, elementwise
    differences: then f(block) holds f(value) and f(rows), bit for bit);
    NotImplemented when x has no such block, or when out_size (the output's
    size per component, if larger than x's) makes the output large."""
    cdef _Parts X
    cdef cnp.npy_intp full[DUALML_MAXD + 1]
    cdef int i
    cdef DualArray d
    if type(x) is not DualArray:
        return NotImplemented
    d = <DualArray>x
    if not _flat(d):
        return NotImplemented
    hv, hd = d._vo, d._do
    _parts(d, &X)
    if X.nd >= DUALML_MAXD:
        return NotImplemented
    full[0] = X.k + 1
    for i in range(X.nd):
        full[i + 1] = X.dims[i]
    if 8.0 * <double>(X.k + 1) * <double>out_size >= POOL_MIN:
        return NotImplemented
    blk = _block_of(d, &X, X.nd, full)
    if blk is None:
        return NotImplemented
    return _from_block(f(blk), d, X.k)


cdef object _copied(DualArray x, bint flat):
    """A C-order copy of x into a fresh result (flat: of shape (x.size,)),
    for x with C-contiguous values and C-contiguous tangent rows (the Python
    path's bits: the same doubles); NotImplemented otherwise."""
    cdef _Parts X, O
    cdef DualArray res
    cdef cnp.npy_intp n
    cdef Py_ssize_t j
    if not _flat(x):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    if X.nd > DUALML_MAXD or not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    n = _size(&X)
    res = _make(None, None, x._tag, x._o2)
    if flat:
        _alloc_result(res, 1, &n, X.k)
    else:
        _alloc_result(res, X.nd, X.dims, X.k)
    _parts(res, &O)
    memcpy(O.v, X.v, <size_t>(8 * n))
    if X.k and X.dst[0] == 8 * n:
        memcpy(O.d, X.d, <size_t>(8 * n * X.k))
    else:
        for j in range(X.k):
            memcpy(O.d + j * O.dst[0], X.d + j * X.dst[0], <size_t>(8 * n))
    return res


cdef object _component_view(DualArray x, bint rows, int nd, cnp.npy_intp *dims,
                            cnp.npy_intp *strides):
    # a view of x's values (rows False) or tangent rows with the given dims
    # and strides (offset 0), writeable as the component is.  A lazy x makes
    # its own views first: the C paths take a lazy array's block to have no
    # view (item assignment and in-place operators copy from and into it
    # without an overlap check), so no view may skip that state
    return _view(<cnp.ndarray>(_D(x) if rows else _V(x)), nd, dims, strides, 0)


cdef object _squeezed(DualArray x):
    """x.squeeze(): every axis of length 1 dropped, views of both components
    (the reshape to that shape, always a view); NotImplemented for a nested x."""
    cdef _Parts X
    cdef int i
    if not _flat(x):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    shape = []
    for i in range(X.nd):
        if X.dims[i] != 1:
            shape.append(X.dims[i])
    if len(shape) == X.nd and x._lz == NULL and x._o2 is None:
        # nothing to drop: a new array on the same two components (a view
        # of x, as NumPy's squeeze returns one)
        return _make(x._vo, x._do, x._tag, None)
    return _reshaped(x, tuple(shape))


cdef object _transposed(DualArray x):
    """x.T (axes reversed; the direction axis stays first), views of both
    components; NotImplemented for a nested x."""
    cdef _Parts X
    cdef cnp.npy_intp dims[DUALML_MAXD + 1]
    cdef cnp.npy_intp vst[DUALML_MAXD + 1]
    cdef cnp.npy_intp dst[DUALML_MAXD + 1]
    cdef int i, nd
    if not _flat(x):
        return NotImplemented
    hv, hd = x._vo, x._do           # (the pointers' owners, see _parts)
    _parts(x, &X)
    nd = X.nd
    if nd >= DUALML_MAXD:
        return NotImplemented
    dims[0] = X.k
    dst[0] = X.dst[0]
    for i in range(nd):
        dims[i + 1] = X.dims[nd - 1 - i]
        vst[i] = X.vst[nd - 1 - i]
        dst[i + 1] = X.dst[nd - i]
    v = _component_view(x, False, nd, dims + 1, vst)
    d = _component_view(x, True, nd + 1, dims, dst)
    return _make(v, d, x._tag, x._o2)


cdef object _permuted(DualArray x, object axes):
    """x.transpose(axes) for axes a tuple or list of ints, one per axis,
    each once (negative ones counted from the end): _permuted_c's views;
    NotImplemented otherwise (the Python path raises NumPy's error)."""
    cdef int perm[DUALML_MAXD]
    cdef bint seen[DUALML_MAXD]
    cdef int i, nd = _ndim_any(x), a
    cdef long e
    if nd < 0 or nd >= DUALML_MAXD or not (type(axes) is tuple or type(axes) is list) \
            or len(axes) != nd:
        return NotImplemented
    perm[0] = 0                         # (a 0-d x: no axis to permute)
    for i in range(nd):
        seen[i] = False
    for i in range(nd):
        o = axes[i]
        if type(o) is not int or not -nd <= o < nd:
            return NotImplemented
        e = o
        a = <int>(e + nd if e < 0 else e)
        if seen[a]:
            return NotImplemented
        seen[a] = True
        perm[i] = a
    return _permuted_c(x, perm)


cdef object _permuted_c(DualArray x, const int *perm):
    # views of both components with the value axes in the order perm (a
    # permutation of x's axes; the direction axis stays first)
    cdef _Parts X
    cdef cnp.npy_intp dims[DUALML_MAXD + 1]
    cdef cnp.npy_intp vst[DUALML_MAXD + 1]
    cdef cnp.npy_intp dst[DUALML_MAXD + 1]
    cdef int i, nd
    hv, hd = x._vo, x._do           # (the pointers' owners, see _parts)
    _parts(x, &X)
    nd = X.nd
    dims[0] = X.k
    dst[0] = X.dst[0]
    for i in range(nd):
        dims[i + 1] = X.dims[perm[i]]
        vst[i] = X.vst[perm[i]]
        dst[i + 1] = X.dst[perm[i] + 1]
    v = _component_view(x, False, nd, dims + 1, vst)
    d = _component_view(x, True, nd + 1, dims, dst)
    return _make(v, d, x._tag, x._o2)


cdef int _axis_in(object a, int nd) noexcept:
    # an int axis in range as 0..nd-1, else -1
    cdef long e
    if type(a) is not int or not -nd <= a < nd:
        return -1
    e = a
    return <int>(e + nd if e < 0 else e)


cdef object _swapped(DualArray x, object a, object b):
    """x.swapaxes(a, b) for int axes in range: _permuted_c's views;
    NotImplemented otherwise."""
    cdef int perm[DUALML_MAXD]
    cdef int nd = _ndim_any(x), i, ia, ib
    if nd < 0 or nd >= DUALML_MAXD:
        return NotImplemented
    ia = _axis_in(a, nd)
    ib = _axis_in(b, nd)
    if ia < 0 or ib < 0:
        return NotImplemented
    for i in range(nd):
        perm[i] = i
    perm[ia] = ib
    perm[ib] = ia
    return _permuted_c(x, perm)


cdef object _moved(DualArray x, object src, object dst):
    """np.moveaxis(x, src, dst) for int axes in range: the other axes in
    order with src inserted at dst, _permuted_c's views; NotImplemented
    otherwise."""
    cdef int perm[DUALML_MAXD]
    cdef int nd = _ndim_any(x), s, t, i, j = 0
    if nd < 0 or nd >= DUALML_MAXD:
        return NotImplemented
    s = _axis_in(src, nd)
    t = _axis_in(dst, nd)
    if s < 0 or t < 0:
        return NotImplemented
    for i in range(nd):
        if i == t:
            perm[i] = s
        else:
            if j == s:
                j += 1
            perm[i] = j
            j += 1
    return _permuted_c(x, perm)


cdef int _ndim_any(DualArray x) noexcept:
    # the value dimensions of a flat DualArray (first order or hessian's
    # rows), -1 for a nested one
    if not _flat(x):
        return -1
    if x._lz != NULL:
        return x._lz.nd
    return cnp.PyArray_NDIM(<cnp.ndarray>x._vo)


cdef object _raveled(DualArray x):
    """x.ravel() as a view where its values are C-contiguous in C order
    (NumPy's ravel is a view only then); NotImplemented otherwise (the
    Python path copies)."""
    if (x._lz == NULL and x._o2 is None and _flat(x)
            and cnp.PyArray_NDIM(<cnp.ndarray>x._vo) == 1
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>x._vo)
            and cnp.PyArray_NDIM(<cnp.ndarray>x._do) == 2
            and (cnp.PyArray_DIMS(<cnp.ndarray>x._vo)[0] <= 1
                 or cnp.PyArray_STRIDES(<cnp.ndarray>x._do)[1] == 8)):
        # a contiguous vector: a new array on the same two components (a
        # view of x, as NumPy's ravel returns one; squeeze does the same)
        return _make(x._vo, x._do, x._tag, None)
    r = _reshaped(x, -1)
    if r is NotImplemented or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>_V(<DualArray>r)):
        return NotImplemented
    return r


cdef object _reshaped(DualArray x, object shape):
    """x.reshape(shape) in C order when both components can be viewed so (the
    values C-contiguous, each tangent row too) and shape is an int or a
    tuple of ints that fits (one -1 at most); NotImplemented otherwise (the
    Python path then copies or raises NumPy's error)."""
    cdef _Parts X
    cdef cnp.npy_intp dims[DUALML_MAXD + 1]
    cdef cnp.npy_intp vst[DUALML_MAXD + 1]
    cdef cnp.npy_intp dst[DUALML_MAXD + 1]
    cdef Py_ssize_t n, known = 1, m, s
    cdef int i, nd, unknown = -1
    cdef tuple t
    if not _flat(x):
        return NotImplemented
    if type(shape) is int:
        t = (shape,)
    elif type(shape) is tuple:
        t = <tuple>shape
    else:
        return NotImplemented
    nd = <int>PyTuple_GET_SIZE(t)
    if nd >= DUALML_MAXD:
        return NotImplemented
    for i in range(nd):
        e = <object>PyTuple_GET_ITEM(t, i)
        if type(e) is not int:
            return NotImplemented
        try:
            m = e
        except OverflowError:       # (NumPy's path words the error)
            return NotImplemented
        if m > (<Py_ssize_t>1 << 48):
            return NotImplemented
        if m == -1 and unknown < 0:
            unknown = i
        elif m < 0:
            return NotImplemented
        else:
            known *= m
            if known > (<Py_ssize_t>1 << 48):
                return NotImplemented
        dims[i + 1] = m
    hv, hd = x._vo, x._do
    _parts(x, &X)
    n = _size(&X)
    if n == 0 or not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    if unknown >= 0:
        if known == 0 or n % known:
            return NotImplemented
        dims[unknown + 1] = n // known
    elif known != n:
        return NotImplemented
    dims[0] = X.k
    dst[0] = X.dst[0]
    s = 8
    for i in range(nd - 1, -1, -1):
        vst[i] = s
        dst[i + 1] = s
        s *= dims[i + 1]
    v = _component_view(x, False, nd, dims + 1, vst)
    d = _component_view(x, True, nd + 1, dims, dst)
    return _make(v, d, x._tag, x._o2)


cdef int _where_operand(object o, _Parts *P, double *c) except -1:
    # an operand of np.where's C path: 1 a DualArray (P its parts), 2 a
    # float constant (c), 0 anything else
    cdef DualArray y
    if type(o) is DualArray:
        y = <DualArray>o
        if not _flat(y):
            return 0
        _parts(y, P)
        if not (_vcontig(P) and _rcontig(P)):
            return 0
        return 1
    if type(o) is float:
        c[0] = PyFloat_AS_DOUBLE(o)
        return 2
    if (type(o) is ndarray and cnp.PyArray_NDIM(<cnp.ndarray>o) == 0
            and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>o)):
        c[0] = (<double *>cnp.PyArray_DATA(<cnp.ndarray>o))[0]
        return 2
    return 0


cdef bint _same_layout(DualArray x, _Parts *X, _Parts *O) except -1:
    # x's parts into X, contiguous and of O's dims and row count
    if not _flat(x):
        return False
    _parts(x, X)
    return _vcontig(X) and _rcontig(X) and _same_dims(X, O) and X.k == O.k


cdef object _where_c(object cond, object a, object b):
    """np.where(cond, a, b) for a bool ndarray cond and DualArrays of its
    shape (contiguous, one tag and row count) or float constants (zero
    rows): each value and each tangent entry copied from the side cond
    picks, as NumPy's where does; NotImplemented otherwise."""
    cdef _Parts A, B, C, O
    cdef DualArray xa = None, xb = None, x, r
    cdef double ca = 0.0, cb = 0.0
    cdef int ka, kb
    cdef Py_ssize_t n, j, k, m
    cdef char *c
    cdef double *ov
    cdef double *od
    cdef const double *pa
    cdef const double *pb
    if type(cond) is not ndarray or cnp.PyArray_TYPE(<cnp.ndarray>cond) != cnp.NPY_BOOL:
        return NotImplemented
    ka = _where_operand(a, &A, &ca)
    kb = _where_operand(b, &B, &cb)
    if ka == 0 or kb == 0 or (ka == 2 and kb == 2):
        return NotImplemented
    if ka == 1:
        xa = <DualArray>a
    if kb == 1:
        xb = <DualArray>b
    x = xa if ka == 1 else xb
    _array_parts(<cnp.ndarray>cond, &C)
    if C.nd >= DUALML_MAXD or not _vcontig_bytes(&C):
        return NotImplemented
    if ka == 1 and not _same_dims(&A, &C):
        return NotImplemented
    if kb == 1 and not _same_dims(&B, &C):
        return NotImplemented
    if ka == 1 and kb == 1 and (xa._tag != xb._tag or A.k != B.k
                                or not (xa._o2 is xb._o2 or xa._o2 == xb._o2)):
        return NotImplemented
    k = A.k if ka == 1 else B.k
    n = _size(&C)
    r = _make(None, None, x._tag, x._o2)
    _alloc_result(r, C.nd, C.dims, k)
    # the allocation may run Python code (a collection): the parts are read
    # again after it, checked, and no Python runs (no GIL release) until
    # the loop is done, so their owners stay
    _parts(r, &O)
    _array_parts(<cnp.ndarray>cond, &C)
    if not (_same_dims(&C, &O) and _vcontig_bytes(&C)):
        return NotImplemented
    if ka == 1 and not _same_layout(xa, &A, &O):
        return NotImplemented
    if kb == 1 and not _same_layout(xb, &B, &O):
        return NotImplemented
    c = C.v
    ov = <double *>O.v
    od = <double *>O.d
    pa = <const double *>A.v if ka == 1 else NULL
    pb = <const double *>B.v if kb == 1 else NULL
    for j in range(n):
        if c[j]:
            ov[j] = pa[j] if ka == 1 else ca
        else:
            ov[j] = pb[j] if kb == 1 else cb
    for m in range(k):
        if ka == 1:
            pa = <const double *>(A.d + m * A.dst[0])
        if kb == 1:
            pb = <const double *>(B.d + m * B.dst[0])
        for j in range(n):
            if c[j]:
                od[m * n + j] = pa[j] if ka == 1 else 0.0
            else:
                od[m * n + j] = pb[j] if kb == 1 else 0.0
    return r


cdef inline bint _join_constant(object o) noexcept:
    # a constant item of a join: an aligned C-contiguous float64 ndarray
    return (type(o) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>o)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>o))


cdef object _diag_matrix(DualArray x, object diag):
    """np.diag(x, k) of a first-order or hessian vector with contiguous
    components: an (n + |k|)-square result, zeros but x's values (and each
    tangent row's entries) on diagonal k -- the handler's assignment, no
    product with the identity (inf * 0 would be nan); NotImplemented for
    other operands."""
    cdef _Parts X, O
    cdef cnp.npy_intp dims[2]
    cdef Py_ssize_t n, m, k, i, c, r0, c0
    cdef const double *src
    cdef double *dst
    cdef DualArray res
    if not _flat(x) or not -(1 << 40) < diag < (1 << 40):
        return NotImplemented
    k = <Py_ssize_t>diag
    hv, hd = x._vo, x._do
    _parts(x, &X)
    if X.nd != 1 or not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    n = X.dims[0]
    m = n + (k if k >= 0 else -k)
    if <double>m * <double>m * <double>(X.k + 1) > 2.0 ** 40:
        return NotImplemented           # (the handler: NumPy's error)
    _check_product(X.k, m, m)           # (the tangent rows: the budget's count)
    dims[0] = m
    dims[1] = m
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, 2, dims, X.k)
    _parts(res, &O)
    r0 = 0 if k >= 0 else -k
    c0 = k if k >= 0 else 0
    for c in range(X.k + 1):
        src = <const double *>(X.v if c == 0 else X.d + (c - 1) * X.dst[0])
        dst = <double *>(O.v if c == 0 else O.d + (c - 1) * O.dst[0])
        memset(dst, 0, <size_t>(m * m) * 8)
        for i in range(n):
            dst[(r0 + i) * m + c0 + i] = src[i]
    return res


cdef object _repeated(DualArray x, object repeats, bint tile):
    """np.repeat(x, r) (flattened, each element r times; tile False) or
    np.tile(x, r) (the last axis r times over; tile True) for an int r >= 1
    and a first-order x with C-contiguous components: the values and each
    tangent row copied in that order (the handlers' map, _arrange);
    NotImplemented otherwise."""
    cdef _Parts X, O
    cdef cnp.npy_intp dims[DUALML_MAXD]
    cdef Py_ssize_t r, n, last, outer, comp, i, j, o
    cdef int nd, a
    cdef const double *src
    cdef double *dst
    if type(repeats) is not int or not _flat(x) or x._o2 is not None:
        return NotImplemented
    if not 1 <= repeats <= (1 << 30):
        return NotImplemented
    r = repeats
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    nd = X.nd
    n = _size(&X)
    if n == 0 or (tile and nd == 0) or nd >= DUALML_MAXD \
            or not (_vcontig(&X) and _rcontig(&X)) or <double>n * <double>r > 2.0 ** 48:
        return NotImplemented           # (an absurd size: NumPy's error, no overflow here)
    if tile:
        for a in range(nd):
            dims[a] = X.dims[a]
        last = X.dims[nd - 1]
        dims[nd - 1] = last * r
    else:
        dims[0] = n * r
        nd = 1
        last = 1
    _check_product(X.k, n, r)            # (the tangent rows: the budget's count)
    res = _make(None, None, x._tag, None)
    _alloc_result(<DualArray>res, nd, dims, X.k)
    _parts(<DualArray>res, &O)
    outer = n // last
    for comp in range(X.k + 1):
        src = <const double *>(X.v if comp == 0 else X.d + (comp - 1) * X.dst[0])
        dst = <double *>(O.v if comp == 0 else O.d + (comp - 1) * O.dst[0])
        if tile:
            for o in range(outer):
                for j in range(r):
                    memcpy(dst + (o * r + j) * last, src + o * last, <size_t>(last * 8))
        else:
            for i in range(n):
                for j in range(r):
                    dst[i * r + j] = src[i]
    return res


cdef object _join(object seq, object axis, bint stack):
    """np.concatenate(seq, axis) (stack False) or np.stack(seq, axis), for
    a list or tuple of contiguous DualArrays of one tag, row count and
    layout, and contiguous float64 constants (zero tangent rows, as the
    handler lifts them), of one shape (stack) or of shapes that differ
    along the axis only (concatenate), an int axis in range: the values,
    and each tangent row, copied item after item along the axis (for each
    index of the axes before it, each item's contiguous segment in turn);
    NotImplemented otherwise (the handler then joins or raises NumPy's
    error)."""
    cdef _Parts X, O
    cdef cnp.npy_intp dims[DUALML_MAXD + 1]
    cdef Py_ssize_t m, i, k = 0, nitems, total, off, sz, seg, outer = 1, inner = 1, row, q, e
    cdef int nd = 0, rnd = 0, a, ax = 0
    cdef DualArray x, first = None, r
    cdef list items
    cdef char *dst
    cdef const char *src
    if type(seq) is list or type(seq) is tuple:
        items = list(seq)           # (ours: nothing can change it meanwhile)
    else:
        return NotImplemented
    if type(axis) is not int:
        return NotImplemented
    nitems = len(items)
    for i in range(nitems):
        if type(items[i]) is DualArray:
            first = <DualArray>items[i]
            break
    if first is None or not _flat(first):
        return NotImplemented
    _parts(first, &X)
    k = X.k
    for i in range(nitems):
        o = items[i]
        if type(o) is DualArray:
            x = <DualArray>o
            if x._tag != first._tag or not (x._o2 is first._o2 or x._o2 == first._o2):
                return NotImplemented
            if not _flat(x):
                return NotImplemented
            _parts(x, &X)
            if not (_vcontig(&X) and _rcontig(&X)) or X.k != k:
                return NotImplemented
        elif _join_constant(o):
            _array_parts(<cnp.ndarray>o, &X)
        else:
            return NotImplemented
        if i == 0:
            nd = X.nd
            rnd = nd + 1 if stack else nd
            if nd >= DUALML_MAXD - 1 or rnd == 0 or not -rnd <= axis < rnd:
                return NotImplemented
            ax = <int>axis + rnd if axis < 0 else <int>axis
            # the result's shape (the axis's length summed below)
            for a in range(nd):
                dims[a + 1 if stack and a >= ax else a] = X.dims[a]
            dims[ax] = 0
        elif X.nd != nd:
            return NotImplemented
        for a in range(nd):
            if stack:
                if X.dims[a] != dims[a + 1 if a >= ax else a]:
                    return NotImplemented
            elif a != ax and X.dims[a] != dims[a]:
                return NotImplemented
        dims[ax] += 1 if stack else X.dims[ax]
    for a in range(ax):
        outer *= dims[a]
    for a in range(ax + 1, rnd):
        inner *= dims[a]
    r = _make(None, None, first._tag, first._o2)
    _alloc_result(r, rnd, dims, k)
    # the allocation may run Python code (a collection): the parts are read
    # again after it, checked, and no Python runs during the copies
    _parts(r, &O)
    total = _size(&O)
    row = dims[ax] * inner              # elements per index of the axes before
    off = 0
    for i in range(nitems):
        o = items[i]
        if type(o) is DualArray:
            x = <DualArray>o
            if not _flat(x):
                return NotImplemented
            _parts(x, &X)
            if X.k != k or not (_vcontig(&X) and _rcontig(&X)):
                return NotImplemented
        else:
            _array_parts(<cnp.ndarray>o, &X)
        sz = _size(&X)
        seg = sz // outer if outer else 0
        if seg * outer != sz or off + seg > row:
            return NotImplemented
        for m in range(k + 1):
            dst = O.v + off * 8 if m == 0 else O.d + ((m - 1) * total + off) * 8
            src = X.v if m == 0 else (X.d + (m - 1) * X.dst[0] if X.d != NULL else NULL)
            if outer == 1:
                if src != NULL:
                    memmove(dst, src, <size_t>seg * 8)
                else:
                    memset(dst, 0, <size_t>seg * 8)
            elif src == NULL:
                for q in range(outer):
                    memset(dst + q * row * 8, 0, <size_t>seg * 8)
            elif seg < 8:
                for q in range(outer):
                    for e in range(seg):
                        (<double *>dst)[q * row + e] = (<const double *>src)[q * seg + e]
            else:
                for q in range(outer):
                    memmove(dst + q * row * 8, src + q * seg * 8, <size_t>seg * 8)
        off += seg
    return r
