# Indexing -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# Basic indexing as NumPy parses it (integers, slices, Ellipsis, None) into
# views of both components, integer and boolean arrays and lists as
# gathers (an integer one along any axis: x[:, idx], x[..., idx], np.take),
# and item assignment.

# ---------------------------------------------------------------------------
# Basic indexing: integers, slices, Ellipsis and None, as NumPy parses them

cdef struct _Plan:
    int nd                              # output dimensions
    cnp.npy_intp dims[DUALML_MAXD]
    int src[DUALML_MAXD]                # source axis of each output axis (-1: new)
    cnp.npy_intp step[DUALML_MAXD]
    cnp.npy_intp start[DUALML_MAXD]     # per source axis
    bint scalar                         # integers only: NumPy gives a scalar (a copy)


cdef int _plan(object idx, int nd, cnp.npy_intp *dims, _Plan *P) except -1:
    """1 and P filled for a basic index valid for dims; 0: not basic or invalid."""
    cdef tuple items
    cdef Py_ssize_t n, i, consumed = 0, ints = 0, ell = -1, s = 0, o = 0, j, nfill
    cdef Py_ssize_t start, stop, step, length, ival
    if type(idx) is tuple:
        items = <tuple>idx
    else:
        items = (idx,)
    n = len(items)
    for i in range(n):
        it = items[i]
        if type(it) is int:
            consumed += 1
            ints += 1
        elif type(it) is slice:
            consumed += 1
        elif it is Ellipsis:
            if ell >= 0:
                return 0
            ell = i
        elif it is not None:
            return 0
    if consumed > nd:
        return 0
    P.scalar = ints == n and ints == nd
    for i in range(nd):
        P.start[i] = 0
    for i in range(n):
        it = items[i]
        if o >= DUALML_MAXD:
            return 0
        if type(it) is int:
            try:
                ival = it
            except OverflowError:
                return 0                        # NumPy's IndexError, from the Python path
            if ival < 0:
                ival += dims[s]
            if not 0 <= ival < dims[s]:
                return 0
            P.start[s] = ival
            s += 1
        elif type(it) is slice:
            if PySlice_Unpack(it, &start, &stop, &step) < 0:
                return 0 if _clear() else -1
            length = PySlice_AdjustIndices(dims[s], &start, &stop, step)
            P.start[s] = start if length > 0 else 0
            P.src[o] = s
            P.step[o] = step
            P.dims[o] = length
            o += 1
            s += 1
        elif it is None:
            P.src[o] = -1
            P.step[o] = 0
            P.dims[o] = 1
            o += 1
            P.scalar = False
        else:                                   # Ellipsis: the axes not consumed
            nfill = nd - consumed
            for j in range(nfill):
                if o >= DUALML_MAXD:
                    return 0
                P.src[o] = s
                P.step[o] = 1
                P.dims[o] = dims[s]
                o += 1
                s += 1
    while s < nd:                               # trailing axes
        if o >= DUALML_MAXD:
            return 0
        P.src[o] = s
        P.step[o] = 1
        P.dims[o] = dims[s]
        o += 1
        s += 1
    P.nd = o
    return 1


cdef inline bint _clear() noexcept:
    PyErr_Clear()
    return True


cdef cnp.ndarray _apply_plan(_Plan *P, cnp.ndarray a, int lead):
    """The view of a (lead leading axes kept) that P selects."""
    cdef cnp.npy_intp dims[DUALML_MAXD + 1]
    cdef cnp.npy_intp strides[DUALML_MAXD + 1]
    cdef cnp.npy_intp *st = cnp.PyArray_STRIDES(a)
    cdef Py_ssize_t off = 0
    cdef int i, nsrc = cnp.PyArray_NDIM(a) - lead
    for i in range(nsrc):
        off += P.start[i] * st[i + lead]
    for i in range(lead):
        dims[i] = cnp.PyArray_DIMS(a)[i]
        strides[i] = st[i]
    for i in range(P.nd):
        dims[i + lead] = P.dims[i]
        strides[i + lead] = st[P.src[i] + lead] * P.step[i] if P.src[i] >= 0 else 0
    return _view(a, P.nd + lead, dims, strides, off)


cdef object _getitem(DualArray x, object idx):
    cdef _Plan P
    cdef _Parts X
    cdef cnp.ndarray v, d
    cdef Py_ssize_t off_v = 0, off_d = 0
    cdef int i
    P.nd = 0
    P.scalar = False
    if not _flat(x):
        return NotImplemented
    if type(idx) is ndarray:
        return _take(x, <cnp.ndarray>idx)
    if type(idx) is list:
        # a list of Python ints (or of bools) indexes as the array NumPy
        # makes of it; anything else in a list is the Python path's
        return _list_index(x, <list>idx)
    if type(idx) is tuple and _array_item(<tuple>idx) >= 0:
        return _along_index(x, <tuple>idx)
    hv, hd = x._vo, x._do
    _parts(x, &X)
    if X.nd > DUALML_MAXD or not _plan(idx, X.nd, X.dims, &P):
        return NotImplemented
    if P.scalar:
        # NumPy returns a scalar here, never a view: the element and its k
        # tangents copied into a 0-d result, so writing into it cannot change x
        for i in range(X.nd):
            off_v += P.start[i] * X.vst[i]
            off_d += P.start[i] * X.dst[i + 1]
        return _gather(x, &X, 0, NULL, &off_v, &off_d, 1)
    v = <cnp.ndarray>_V(x)
    d = <cnp.ndarray>_D(x)
    rv = _apply_plan(&P, v, 0)
    rd = _apply_plan(&P, d, 1)
    return _make(rv, rd, x._tag, x._o2)


cdef inline bint _full_slice(object it) noexcept:
    return (type(it) is slice and (<slice>it).start is None and (<slice>it).stop is None
            and (<slice>it).step is None)


cdef Py_ssize_t _array_item(tuple items) noexcept:
    # the position of the one array or list in items whose others are full
    # slices and at most one Ellipsis (x[:, idx], x[..., idx]), else -1
    cdef Py_ssize_t i, at = -1, n = len(items)
    cdef bint ell = False
    for i in range(n):
        it = items[i]
        if type(it) is ndarray or type(it) is list:
            if at >= 0:
                return -1
            at = i
        elif it is Ellipsis:
            if ell:
                return -1
            ell = True
        elif not _full_slice(it):
            return -1
    return at


cdef object _along_index(DualArray x, tuple items):
    # x[:, ..., idx, ...] with one integer index array or list: np.take
    # along its axis (NumPy puts the index's axes in that axis's place)
    cdef Py_ssize_t at = _array_item(items), n = len(items), i, ell = -1
    cdef int nd = _ndim_any(x)
    for i in range(n):
        if items[i] is Ellipsis:
            ell = i
    if n - (1 if ell >= 0 else 0) > nd:
        return NotImplemented           # (too many indices: NumPy's error)
    if ell < 0 or ell > at:
        return _take_along(x, items[at], at)
    return _take_along(x, items[at], nd - (n - at))


cdef object _take_along(DualArray x, object idx, object axis):
    """np.take(x, idx, axis) for an int axis and an integer index (an intp
    ndarray of any shape, or a list of Python ints), first-order or hessian
    rows, C-contiguous components: NumPy's gather along that axis into a
    fresh result, the index's axes in the axis's place; NotImplemented for
    anything else, out-of-range indices included (the Python path raises
    NumPy's error)."""
    cdef _Parts X, O
    cdef cnp.ndarray ix
    cdef cnp.npy_intp dims[DUALML_MAXD]
    cdef Py_ssize_t outer = 1, inner = 1, n, m, i, q, j, ii, c
    cdef Py_ssize_t *pos
    cdef int nd, a, ax, ind
    cdef const char *src
    cdef char *dst
    cdef DualArray res
    if type(axis) is not int or not _flat(x):
        return NotImplemented
    if type(idx) is list:
        for it in <list>idx:
            if type(it) is not int:
                return NotImplemented
        try:
            idx = np.array(idx, dtype=np.intp)
        except OverflowError:
            return NotImplemented
    if type(idx) is not ndarray or cnp.PyArray_TYPE(<cnp.ndarray>idx) != cnp.NPY_INTP:
        return NotImplemented
    ix = <cnp.ndarray>np.ascontiguousarray(idx)
    hv, hd = x._vo, x._do
    _parts(x, &X)
    nd = X.nd
    ind = cnp.PyArray_NDIM(ix)
    if nd == 0 or not -nd <= axis < nd or nd - 1 + ind >= DUALML_MAXD:
        return NotImplemented
    if not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    ax = <int>axis + nd if axis < 0 else <int>axis
    n = X.dims[ax]
    m = cnp.PyArray_SIZE(ix)
    for i in range(m):
        ii = (<cnp.npy_intp *>cnp.PyArray_DATA(ix))[i]
        if not -n <= ii < n:
            return NotImplemented
    for a in range(ax):
        dims[a] = X.dims[a]
        outer *= X.dims[a]
    for a in range(ind):
        dims[ax + a] = cnp.PyArray_DIMS(ix)[a]
    for a in range(ax + 1, nd):
        dims[a - 1 + ind] = X.dims[a]
        inner *= X.dims[a]
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, nd - 1 + ind, dims, X.k)
    _parts(res, &O)
    pos = <Py_ssize_t *>PyMem_Malloc(<size_t>(m + 1) * sizeof(Py_ssize_t))
    if pos == NULL:
        raise MemoryError()
    for i in range(m):
        ii = (<cnp.npy_intp *>cnp.PyArray_DATA(ix))[i]
        pos[i] = ii + n if ii < 0 else ii
    for c in range(X.k + 1):
        src = X.v if c == 0 else X.d + (c - 1) * X.dst[0]
        dst = O.v if c == 0 else O.d + (c - 1) * O.dst[0]
        for q in range(outer):
            for j in range(m):
                if inner == 1:
                    (<double *>dst)[q * m + j] = (<const double *>src)[q * n + pos[j]]
                else:
                    memcpy(dst + (q * m + j) * inner * 8, src + (q * n + pos[j]) * inner * 8,
                           <size_t>inner * 8)
    PyMem_Free(pos)
    return res


cdef object _take_along_axis(DualArray x, object idx, object axis):
    """np.take_along_axis(x, idx, axis) for an int axis and an intp ndarray
    idx of x's number of axes and x's lengths but along the axis (no
    broadcasting), C-contiguous components: each element gathered from
    its position along the axis; NotImplemented for anything else,
    out-of-range indices included (the handler: NumPy's rules and errors)."""
    cdef _Parts X, O
    cdef cnp.ndarray ix
    cdef cnp.npy_intp dims[DUALML_MAXD]
    cdef Py_ssize_t outer = 1, inner = 1, n, m, i, q, j, e, c, ii, nidx
    cdef const cnp.npy_intp *ip
    cdef int nd, a, ax
    cdef const double *src
    cdef double *dst
    cdef DualArray res
    if type(axis) is not int or not _flat(x):
        return NotImplemented
    if type(idx) is not ndarray or cnp.PyArray_TYPE(<cnp.ndarray>idx) != cnp.NPY_INTP:
        return NotImplemented
    hv, hd = x._vo, x._do
    _parts(x, &X)
    nd = X.nd
    if nd == 0 or nd >= DUALML_MAXD or not -nd <= axis < nd or cnp.PyArray_NDIM(
            <cnp.ndarray>idx) != nd or not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    ax = <int>axis + nd if axis < 0 else <int>axis
    for a in range(nd):
        dims[a] = cnp.PyArray_DIMS(<cnp.ndarray>idx)[a]
        if a != ax and dims[a] != X.dims[a]:
            return NotImplemented
    ix = <cnp.ndarray>np.ascontiguousarray(idx)
    ip = <const cnp.npy_intp *>cnp.PyArray_DATA(ix)
    n = X.dims[ax]
    m = dims[ax]
    nidx = cnp.PyArray_SIZE(ix)
    for i in range(nidx):
        if not -n <= ip[i] < n:
            return NotImplemented
    for a in range(ax):
        outer *= dims[a]
    for a in range(ax + 1, nd):
        inner *= dims[a]
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, nd, dims, X.k)
    _parts(res, &O)
    for c in range(X.k + 1):
        src = <const double *>(X.v if c == 0 else X.d + (c - 1) * X.dst[0])
        dst = <double *>(O.v if c == 0 else O.d + (c - 1) * O.dst[0])
        i = 0
        for q in range(outer):
            for j in range(m):
                for e in range(inner):
                    ii = ip[i]
                    if ii < 0:
                        ii += n
                    dst[i] = src[(q * n + ii) * inner + e]
                    i += 1
    return res


cdef object _list_index(DualArray x, list idx):
    cdef Py_ssize_t i, n = len(idx)
    cdef int kind = 1                  # 1: Python ints (and the empty list), 2: bools
    for i in range(n):
        t = type(idx[i])
        if t is int and (kind == 1 or i == 0):
            kind = 1
        elif t is bool and (kind == 2 or i == 0):
            kind = 2
        else:
            return NotImplemented
    return _take(x, <cnp.ndarray>np.array(idx, dtype=np.intp if kind == 1 else np.bool_))


cdef object _gather(DualArray x, _Parts *X, int nd, cnp.npy_intp *dims,
                    Py_ssize_t *off_v, Py_ssize_t *off_d, Py_ssize_t m):
    """A fresh result of shape dims (m elements) whose element i is x's
    element at byte offsets off_v[i] (value) and off_d[i] (in each row)."""
    cdef DualArray res = _make(None, None, x._tag, x._o2)
    cdef _Parts O
    cdef Py_ssize_t i, j
    cdef double *o
    cdef char *row
    _alloc_result(res, nd, dims, X.k)
    _parts(res, &O)
    o = <double *>O.v
    for i in range(m):
        o[i] = (<double *>(X.v + off_v[i]))[0]
    for j in range(X.k):
        o = <double *>(O.d + j * O.dst[0])
        row = X.d + j * X.dst[0]
        for i in range(m):
            o[i] = (<double *>(row + off_d[i]))[0]
    return res


cdef object _take(DualArray x, cnp.ndarray idx):
    """x[idx] for a 1-d integer (intp) index array on the first axis, or a
    boolean mask of x's shape: NumPy's gather, as a fresh result;
    NotImplemented for anything else (and for out-of-range indices, whose
    IndexError the Python path raises)."""
    cdef _Parts X
    cdef Py_ssize_t n, m = 0, i, ii
    cdef Py_ssize_t *off
    cdef char *ip
    cdef int t = cnp.PyArray_TYPE(idx)
    cdef int nd
    cdef cnp.npy_intp dim1
    hv, hd = x._vo, x._do
    _parts(x, &X)
    nd = X.nd
    if nd == 0 or nd > DUALML_MAXD or not cnp.PyArray_ISALIGNED(idx):
        return NotImplemented
    ip = <char *>cnp.PyArray_DATA(idx)
    if t == cnp.NPY_BOOL:
        # a mask of x's shape: the selected elements in C order, a vector
        if cnp.PyArray_NDIM(idx) != nd:
            return NotImplemented
        for i in range(nd):
            if cnp.PyArray_DIMS(idx)[i] != X.dims[i]:
                return NotImplemented
        n = _size(&X)
        off = <Py_ssize_t *>PyMem_Malloc(<size_t>(2 * n + 1) * sizeof(Py_ssize_t))
        if off == NULL:
            raise MemoryError()
        try:
            # the selected flat positions, then their byte offsets
            if nd == 1:
                for i in range(n):
                    if (<cnp.npy_bool *>(ip + i * cnp.PyArray_STRIDES(idx)[0]))[0]:
                        off[m] = i
                        m += 1
                for i in range(m):
                    off[m + i] = off[i] * X.dst[1]
                    off[i] = off[i] * X.vst[0]
            else:
                for i in range(n):
                    if (<cnp.npy_bool *>(ip + _offset(i, nd, X.dims,
                                                      cnp.PyArray_STRIDES(idx))))[0]:
                        off[m] = i
                        m += 1
                for i in range(m):
                    off[m + i] = _offset(off[i], nd, X.dims, X.dst + 1)
                    off[i] = _offset(off[i], nd, X.dims, X.vst)
            dim1 = m
            return _gather(x, &X, 1, &dim1, off, off + m, m)
        finally:
            PyMem_Free(off)
    if t != cnp.NPY_INTP or cnp.PyArray_NDIM(idx) != 1:
        return NotImplemented
    n = X.dims[0]
    m = cnp.PyArray_DIMS(idx)[0]
    for i in range(m):
        ii = (<cnp.npy_intp *>(ip + i * cnp.PyArray_STRIDES(idx)[0]))[0]
        if not -n <= ii < n:
            return NotImplemented
    if nd > 1:
        return _take_rows(x, &X, ip, cnp.PyArray_STRIDES(idx)[0], m)
    off = <Py_ssize_t *>PyMem_Malloc(<size_t>(2 * m + 1) * sizeof(Py_ssize_t))
    if off == NULL:
        raise MemoryError()
    try:
        for i in range(m):
            ii = (<cnp.npy_intp *>(ip + i * cnp.PyArray_STRIDES(idx)[0]))[0]
            if ii < 0:
                ii += n
            off[i] = ii * X.vst[0]
            off[m + i] = ii * X.dst[1]
        dim1 = m
        return _gather(x, &X, 1, &dim1, off, off + m, m)
    finally:
        PyMem_Free(off)


cdef object _take_rows(DualArray x, _Parts *X, char *ip, Py_ssize_t ist, Py_ssize_t m):
    # x[idx] along the first axis, idx m checked intp entries at ip (stride
    # ist): each selected sub-array copied, C order, into a fresh result
    cdef cnp.npy_intp dims[DUALML_MAXD]
    cdef Py_ssize_t ost[DUALML_MAXD]
    cdef Py_ssize_t inner = 1, i, j, ii, n = X.dims[0]
    cdef int a, nd = X.nd
    cdef DualArray res = _make(None, None, x._tag, x._o2)
    cdef _Parts O
    dims[0] = m
    for a in range(1, nd):
        dims[a] = X.dims[a]
        inner *= X.dims[a]
    _alloc_result(res, nd, dims, X.k)
    _parts(res, &O)
    _contig(nd - 1, dims + 1, ost)
    for i in range(m):
        ii = (<cnp.npy_intp *>(ip + i * ist))[0]
        if ii < 0:
            ii += n
        _copy_region(O.v + i * inner * 8, ost, X.v + ii * X.vst[0],
                     <Py_ssize_t *>(X.vst + 1), nd - 1, dims + 1)
        for j in range(X.k):
            _copy_region(O.d + j * O.dst[0] + i * inner * 8, ost,
                         X.d + j * X.dst[0] + ii * X.dst[1], <Py_ssize_t *>(X.dst + 2),
                         nd - 1, dims + 1)
    return res


cdef void _copy_region(char *dst, Py_ssize_t *dst_st, const char *src, Py_ssize_t *src_st,
                       int nd, cnp.npy_intp *dims) noexcept nogil:
    # dst[i] = src[i] over an nd-dimensional region in C order (byte strides;
    # a 0 source stride broadcasts)
    cdef cnp.npy_intp ix[DUALML_MAXD]
    cdef Py_ssize_t n = 1, i
    cdef int a
    for a in range(nd):
        n *= dims[a]
        ix[a] = 0
    for i in range(n):
        (<double *>dst)[0] = (<const double *>src)[0]
        a = nd - 1
        while a >= 0:
            ix[a] += 1
            dst += dst_st[a]
            src += src_st[a]
            if ix[a] < dims[a]:
                break
            dst -= dst_st[a] * dims[a]
            src -= src_st[a] * dims[a]
            ix[a] = 0
            a -= 1


cdef int _setitem(DualArray x, object idx, object val) except -1:
    """x[idx] = val in C for a basic index, val a real number or a fresh
    (lazy) result of x's tag, directions and shape (or 0-d); 0 where the
    Python path must do it (promotion, broadcasting, read-only storage,
    views that might overlap x, fancy indexes), 1 when done."""
    cdef _Plan P
    cdef _Parts X, V
    cdef double c = 0.0, zero = 0.0
    cdef Py_ssize_t off_v = 0, off_d = 0, j
    cdef Py_ssize_t st_v[DUALML_MAXD]
    cdef Py_ssize_t st_d[DUALML_MAXD]
    cdef Py_ssize_t st_s[DUALML_MAXD]
    cdef Py_ssize_t st_sd[DUALML_MAXD]
    cdef int i, kind
    cdef DualArray y = None
    if not _flat(x):
        return 0
    kind = _classify(val, &c)
    if kind == OP_DUAL:
        y = <DualArray>val
        if y is x or y._lz == NULL or y._tag != x._tag or not (y._o2 is x._o2 or y._o2 == x._o2):
            return 0
    elif kind != OP_SCALAR:
        return 0
    if x._lz == NULL and not (cnp.PyArray_ISWRITEABLE(<cnp.ndarray>x._vo)
                              and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>x._do)):
        return 0
    hv, hd = x._vo, x._do
    _parts(x, &X)
    if X.nd > DUALML_MAXD or not _plan(idx, X.nd, X.dims, &P):
        return 0
    for i in range(X.nd):
        off_v += P.start[i] * X.vst[i]
        off_d += P.start[i] * X.dst[i + 1]
    for i in range(P.nd):
        st_v[i] = X.vst[P.src[i]] * P.step[i] if P.src[i] >= 0 else 0
        st_d[i] = X.dst[P.src[i] + 1] * P.step[i] if P.src[i] >= 0 else 0
        st_s[i] = 0
        st_sd[i] = 0
    if y is None:
        _copy_region(X.v + off_v, st_v, <char *>&c, st_s, P.nd, P.dims)
        for j in range(X.k):
            _copy_region(X.d + j * X.dst[0] + off_d, st_d, <char *>&zero, st_s, P.nd, P.dims)
        return 1
    _parts(y, &V)
    if V.k != X.k:
        return 0
    if V.nd != 0:
        if V.nd != P.nd:
            return 0
        for i in range(P.nd):
            if V.dims[i] != P.dims[i]:
                return 0
            st_s[i] = V.vst[i]
            st_sd[i] = V.dst[i + 1]
    _copy_region(X.v + off_v, st_v, V.v, st_s, P.nd, P.dims)
    for j in range(X.k):
        _copy_region(X.d + j * X.dst[0] + off_d, st_d, V.d + j * V.dst[0], st_sd,
                     P.nd, P.dims)
    return 1
