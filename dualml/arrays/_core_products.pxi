# Products -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# Products with constant matrices and of two vectors: values by NumPy's
# product (its bits), tangent terms by the one rule of _tprod/_tmatmul
# shared with the Python paths.

cdef inline object _dot2(object a, object b):
    return PyArray_MatrixProduct2(a, b, NULL)


cdef extern from *:
    """
    /* NumPy's float64 dot (cblas_ddot where the strides allow): the inner
       product np.matmul computes for a (1, n) @ (n, 1) pair of contiguous
       vectors, bit for bit (tests/test_array_core.py) */
    static PyArray_DotFunc *dualml_ddot_fn = NULL;
    static int dualml_ddot_init(void) {
        PyArray_Descr *d = PyArray_DescrFromType(NPY_DOUBLE);
        if (d == NULL) return -1;
        dualml_ddot_fn = PyDataType_GetArrFuncs(d)->dotfunc;
        Py_DECREF(d);
        return dualml_ddot_fn == NULL ? -1 : 0;
    }
    static double dualml_ddot(char *a, char *b, npy_intp n) {
        double r = 0.0;
        dualml_ddot_fn(a, sizeof(double), b, sizeof(double), (char *)&r, n, NULL);
        return r;
    }
    """
    int dualml_ddot_init() except -1
    double dualml_ddot(char *a, char *b, cnp.npy_intp n) noexcept


dualml_ddot_init()


cdef inline bint _vector(_Parts *P, bint rows) noexcept:
    # a contiguous 1-d operand (each tangent row contiguous too)
    return P.nd == 1 and (P.dims[0] < 2 or (P.vst[0] == 8 and (not rows or P.dst[1] == 8)))


cdef int _vec_operand(object o, _Parts *P) except -2:
    # o as an operand of _dot11: 1 a first-order contiguous DualArray vector
    # (P its parts), 0 a contiguous float64 ndarray vector, -1 anything else
    cdef DualArray x
    if type(o) is DualArray:
        x = <DualArray>o
        if not _flat(x) or x._o2 is not None:
            return -1
        _parts(x, P)
        return 1 if _vector(P, True) else -1
    if type(o) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE \
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>o):
        _array_parts(<cnp.ndarray>o, P)
        return 0 if _vector(P, False) else -1
    return -1


cdef object _dot11(object a, object b):
    """a @ b for two 1-d contiguous operands, one or both first-order
    DualArrays of one tag: np.matmul's inner products (the Python path's
    bits: value av.bv, rows ad_j.bv + av.bd_j) into a 0-d result;
    NotImplemented otherwise."""
    cdef _Parts A, B, O
    cdef DualArray x = None, y = None, r, res
    cdef Py_ssize_t n, j
    cdef double *o
    cdef double val
    cdef int ka = _vec_operand(a, &A)
    cdef int kb = _vec_operand(b, &B)
    if ka < 0 or kb < 0 or ka + kb == 0:
        return NotImplemented
    if ka:
        x = <DualArray>a
    if kb:
        y = <DualArray>b
    # (the components' owners, held while the result is allocated)
    hv, hd = (x._vo, x._do) if ka else (None, None)
    hv2, hd2 = (y._vo, y._do) if kb else (None, None)
    n = A.dims[0]
    if B.dims[0] != n:
        return NotImplemented           # the Python path raises NumPy's message
    if x is not None and y is not None and (x._tag != y._tag or A.k != B.k):
        return NotImplemented
    r = x if x is not None else y
    val = dualml_ddot(A.v, B.v, n)
    if val != val:
        return NotImplemented           # (the Python path: _shape._domain_nans)
    res = _make(None, None, r._tag, None)
    _alloc_result(res, 0, NULL, A.k if x is not None else B.k)
    _parts(res, &O)
    (<double *>O.v)[0] = val
    o = <double *>O.d
    if n <= SMALL_KN and (x is None or A.dst[0] % 8 == 0) and (y is None or B.dst[0] % 8 == 0):
        # the tangent products by the rule of _tprod (K = n, N = 1)
        if x is not None:
            K.matmul_small(O.k, n, 1, <const double *>A.d, A.dst[0] // 8, 1,
                           <const double *>B.v, 1, 1, o, NULL)
        if y is not None:
            if x is None:
                K.matmul_small(O.k, n, 1, <const double *>B.d, B.dst[0] // 8, 1,
                               <const double *>A.v, 1, 1, o, NULL)
            else:
                t2 = _empty(1, &O.k)
                K.matmul_small(O.k, n, 1, <const double *>B.d, B.dst[0] // 8, 1,
                               <const double *>A.v, 1, 1,
                               <double *>cnp.PyArray_DATA(<cnp.ndarray>t2), NULL)
                for j in range(O.k):
                    o[j] = o[j] + (<double *>cnp.PyArray_DATA(<cnp.ndarray>t2))[j]
        return res
    for j in range(O.k):
        if x is not None and y is not None:
            o[j] = (dualml_ddot(A.d + j * A.dst[0], B.v, n)
                    + dualml_ddot(A.v, B.d + j * B.dst[0], n))
        elif x is not None:
            o[j] = dualml_ddot(A.d + j * A.dst[0], B.v, n)
        else:
            o[j] = dualml_ddot(A.v, B.d + j * B.dst[0], n)
    return res


# The tangent terms of products: one rule for the C paths and the Python
# ones (_products), so both give the same bits.  A product whose K * N (the
# summed length times the output row's) is at most SMALL_KN -- the B operand
# fits in L1 -- goes to dual_matmul_small, which sums every element in order
# (its bits depend on the operands only, not on how rows are batched: the
# C paths and the Python paths batch differently); larger ones to np.matmul
# (BLAS).  At 10 x 10 with 10 directions the kernel takes about 50 ns
# (AVX-512), a sixth of NumPy's cheapest product call.
cdef enum:
    SMALL_KN = 4096
    SCRATCH = 512


cdef inline bint _f64_aligned(object o) noexcept:
    return (type(o) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>o))


ctypedef struct _TProd:
    # a @ b planned for dual_matmul_small: per batch an (M, Kd) @ (Kd, N)
    # product, element strides (a0, a1), (b0, b1), byte strides sa, sb
    # between the batches
    Py_ssize_t M, Kd, N, nbatch, sa, sb, a0, a1, b0, b1
    int nd                              # the result's: 2, or 3 with a batch axis
    const char *pa
    const char *pb


cdef bint _tprod_plan(object a, object b, _TProd *P) noexcept:
    """Whether a @ b goes to dual_matmul_small (float64 aligned operands of 2
    or 3 dimensions, one batch length, K * N <= SMALL_KN, strides whole
    elements); P filled if so."""
    cdef cnp.ndarray A, B
    cdef int na, nb
    if not (_f64_aligned(a) and _f64_aligned(b)):
        return False
    A = <cnp.ndarray>a
    B = <cnp.ndarray>b
    na = cnp.PyArray_NDIM(A)
    nb = cnp.PyArray_NDIM(B)
    if not (2 <= na <= 3 and 2 <= nb <= 3):
        return False
    P.M = cnp.PyArray_DIMS(A)[na - 2]
    P.Kd = cnp.PyArray_DIMS(A)[na - 1]
    P.N = cnp.PyArray_DIMS(B)[nb - 1]
    if cnp.PyArray_DIMS(B)[nb - 2] != P.Kd or P.Kd * P.N > SMALL_KN:
        return False
    P.nbatch = 1
    P.sa = 0
    P.sb = 0
    if na == 3:
        P.nbatch = cnp.PyArray_DIMS(A)[0]
        P.sa = cnp.PyArray_STRIDES(A)[0]
    if nb == 3:
        if na == 3 and cnp.PyArray_DIMS(B)[0] != P.nbatch:
            return False
        P.nbatch = cnp.PyArray_DIMS(B)[0]
        P.sb = cnp.PyArray_STRIDES(B)[0]
    P.nd = 3 if na == 3 or nb == 3 else 2
    P.a0 = cnp.PyArray_STRIDES(A)[na - 2]
    P.a1 = cnp.PyArray_STRIDES(A)[na - 1]
    P.b0 = cnp.PyArray_STRIDES(B)[nb - 2]
    P.b1 = cnp.PyArray_STRIDES(B)[nb - 1]
    if (P.a0 | P.a1 | P.b0 | P.b1 | P.sa | P.sb) & 7:
        return False                    # (strides of axes of length 1 may be odd)
    P.a0 //= 8
    P.a1 //= 8
    P.b0 //= 8
    P.b1 //= 8
    P.pa = <const char *>cnp.PyArray_DATA(A)
    P.pb = <const char *>cnp.PyArray_DATA(B)
    return True


cdef int _tprod_run(_TProd *P, double *o) except -1:
    # the planned product into o: nbatch * M * N doubles, C order
    cdef double buf[SCRATCH]
    cdef double *scratch = buf
    cdef Py_ssize_t p
    if P.b1 != 1 and P.N > 1 and P.Kd * P.N > SCRATCH:
        scratch = <double *>PyMem_Malloc(<size_t>(P.Kd * P.N) * sizeof(double))
        if scratch == NULL:
            raise MemoryError()
    # (the GIL kept: releasing it costs about what a small product does)
    for p in range(P.nbatch):
        K.matmul_small(P.M, P.Kd, P.N, <const double *>(P.pa + p * P.sa), P.a0, P.a1,
                       <const double *>(P.pb + p * P.sb), P.b0, P.b1,
                       o + p * P.M * P.N, scratch)
    if scratch != buf:
        PyMem_Free(scratch)
    return 0


cdef object _tprod(object a, object b):
    """a @ b by the rule above, for float64 operands of 2 or 3 dimensions
    (a leading batch axis on one of them or both, of one length); other
    operands to np.matmul."""
    cdef _TProd P
    cdef cnp.npy_intp dims[3]
    cdef cnp.ndarray out
    if not _tprod_plan(a, b, &P):
        return _np_matmul(a, b)
    dims[0] = P.nbatch
    dims[1] = P.M
    dims[2] = P.N
    out = _empty(3, dims) if P.nd == 3 else _empty(2, dims + 1)
    _tprod_run(&P, <double *>cnp.PyArray_DATA(out))
    return out


def _tmatmul(a, b):
    """a @ b (np.matmul's shapes) for the tangent terms of products, by the
    rule of _tprod: more than one batch axis is broadcast and flattened
    first."""
    if not (_f64_aligned(a) and _f64_aligned(b)):
        return _np_matmul(a, b)
    sa, sb = a.shape, b.shape
    na, nb = len(sa), len(sb)
    if na < 2 or nb < 2 or sa[na - 1] * sb[nb - 1] > SMALL_KN:
        return _np_matmul(a, b)
    if na <= 3 and nb <= 3 and (na < 3 or nb < 3 or sa[0] == sb[0]):
        return _tprod(a, b)
    if sa[na - 1] != sb[nb - 2] or a.size == 0 or b.size == 0:
        return _np_matmul(a, b)         # (NumPy's error, or nothing to sum)
    batch = np.broadcast_shapes(sa[:na - 2], sb[:nb - 2])
    a3 = np.broadcast_to(a, batch + sa[na - 2:]).reshape((-1,) + sa[na - 2:])
    b3 = np.broadcast_to(b, batch + sb[nb - 2:]).reshape((-1,) + sb[nb - 2:])
    return _tprod(a3, b3).reshape(batch + (sa[na - 2], sb[nb - 1]))


cdef inline bint _contiguous(cnp.ndarray a) noexcept:
    return cnp.PyArray_IS_C_CONTIGUOUS(a) or cnp.PyArray_IS_F_CONTIGUOUS(a)


cdef inline object _value_product(cnp.ndarray a, cnp.ndarray b, bint dot):
    # the value of a @ b (dot False) or np.dot(a, b): NumPy's own bits.  On
    # contiguous operands both make the same BLAS call, np.dot's the cheaper
    # one to reach; on other strides matmul may sum in another order
    if dot or (_contiguous(a) and _contiguous(b)):
        return _dot2(a, b)
    return _np_matmul(a, b)


cdef object _matmul(object a, object b, bint dot=False):
    """a @ b (dot False) or np.dot(a, b) with one operand a constant matrix
    (2-d float64 ndarray) and the other a 1-d or 2-d DualArray of float64
    components (first order or hessian's rows: the product is linear, so any
    row layout passes through): the value NumPy's, the tangent terms by
    _tprod; NotImplemented otherwise."""
    cdef DualArray x
    cdef cnp.ndarray w, v, d
    r = _dot11(a, b)
    if r is not NotImplemented:
        return r
    if type(a) is DualArray and type(b) is DualArray:
        return _matmul_duals(<DualArray>a, <DualArray>b, dot)
    if type(a) is ndarray and type(b) is DualArray:
        x = <DualArray>b
        w = <cnp.ndarray>a
        if not (_flat(x) and cnp.PyArray_TYPE(w) == cnp.NPY_DOUBLE
                and cnp.PyArray_NDIM(w) == 2):
            return NotImplemented
        v = <cnp.ndarray>_V(x)
        d = <cnp.ndarray>_D(x)
        if not (1 <= cnp.PyArray_NDIM(v) <= 2 and cnp.PyArray_DIMS(v)[0] == cnp.PyArray_DIMS(w)[1]):
            return NotImplemented
        # the tangent product is NumPy's allocation: checked against the budget first
        _check_product(cnp.PyArray_DIMS(d)[0], cnp.PyArray_DIMS(w)[0],
                       cnp.PyArray_DIMS(v)[1] if cnp.PyArray_NDIM(v) == 2 else 1)
        val = _value_product(w, v, dot)
        if _nan_in(val):
            return NotImplemented       # (the Python path: _shape._domain_nans)
        if cnp.PyArray_NDIM(v) == 1:
            if x._eye is not None and x._eye is x._do:
                # W @ I: the tangent rows are W's columns (no O(n^3) product)
                return _make(val, cnp.PyArray_NewCopy(_transpose(w), cnp.NPY_CORDER),
                             x._tag, None)
            # the rows of (W D')' = D W', each row a contiguous (m,) vector
            return _product_result(val, d, _transpose(w), x)
        return _product_result(val, w, d, x)
    if type(a) is DualArray and type(b) is ndarray:
        x = <DualArray>a
        w = <cnp.ndarray>b
        if not (_flat(x) and cnp.PyArray_TYPE(w) == cnp.NPY_DOUBLE
                and cnp.PyArray_NDIM(w) == 2):
            return NotImplemented
        v = <cnp.ndarray>_V(x)
        d = <cnp.ndarray>_D(x)
        if not (1 <= cnp.PyArray_NDIM(v) <= 2
                and cnp.PyArray_DIMS(v)[cnp.PyArray_NDIM(v) - 1] == cnp.PyArray_DIMS(w)[0]):
            return NotImplemented
        _check_product(cnp.PyArray_DIMS(d)[0], cnp.PyArray_DIMS(w)[1],
                       cnp.PyArray_DIMS(v)[0] if cnp.PyArray_NDIM(v) == 2 else 1)
        val = _value_product(v, w, dot)
        if _nan_in(val):
            return NotImplemented       # (the Python path: _shape._domain_nans)
        return _product_result(val, d, w, x)
    return NotImplemented


cdef object _product_result(object val, object ta, object tb, DualArray x):
    """The result of a product of x with a constant: value val (NumPy's),
    tangent rows ta @ tb.  A small first-order one is written into one new
    block (val copied, the kernel writing the rows in place: no ndarray for
    the rows, and a lazy result below POOL_MIN); else the two arrays."""
    cdef _TProd P
    cdef _Parts O
    cdef DualArray res
    cdef cnp.ndarray v
    cdef Py_ssize_t k
    if not (x._o2 is None and type(val) is ndarray and _tprod_plan(ta, tb, &P)):
        return _make(val, _tprod(ta, tb), x._tag, x._o2)
    v = <cnp.ndarray>val
    k = cnp.PyArray_DIMS(<cnp.ndarray>_D(x))[0]
    if not (cnp.PyArray_TYPE(v) == cnp.NPY_DOUBLE and cnp.PyArray_IS_C_CONTIGUOUS(v)
            and P.nbatch * P.M * P.N == k * cnp.PyArray_SIZE(v)):
        return _make(val, _tprod(ta, tb), x._tag, x._o2)
    res = _make(None, None, x._tag, None)
    _alloc_result(res, cnp.PyArray_NDIM(v), cnp.PyArray_DIMS(v), k)
    _parts(res, &O)
    memcpy(O.v, cnp.PyArray_DATA(v), <size_t>cnp.PyArray_NBYTES(v))
    _tprod_run(&P, <double *>O.d)
    return res


cdef object _matmul_duals(DualArray x, DualArray y, bint dot):
    """x @ y (or np.dot) for two 2-d first-order DualArrays of one tag and
    row count: the value NumPy's, the tangent rows xd @ yv + xv @ yd, each
    term by _tprod and their sum by the add rule's value (the Python path's
    _bilinear, bit for bit); NotImplemented otherwise."""
    cdef cnp.ndarray av, ad, bv, bd, t1, t2
    cdef double *p
    cdef const double *q
    cdef Py_ssize_t i, n
    if not (_flat(x) and _flat(y) and x._o2 is None and y._o2 is None and x._tag == y._tag):
        return NotImplemented
    av = <cnp.ndarray>_V(x)
    ad = <cnp.ndarray>_D(x)
    bv = <cnp.ndarray>_V(y)
    bd = <cnp.ndarray>_D(y)
    if not (cnp.PyArray_NDIM(av) == 2 and cnp.PyArray_NDIM(bv) == 2
            and cnp.PyArray_DIMS(av)[1] == cnp.PyArray_DIMS(bv)[0]
            and cnp.PyArray_DIMS(ad)[0] == cnp.PyArray_DIMS(bd)[0]):
        return NotImplemented
    _check_product(cnp.PyArray_DIMS(ad)[0], cnp.PyArray_DIMS(av)[0], cnp.PyArray_DIMS(bv)[1])
    val = _value_product(av, bv, dot)
    if _nan_in(val):
        return NotImplemented           # (the Python path: _shape._domain_nans)
    t1 = <cnp.ndarray>_tprod(ad, bv)
    t2 = <cnp.ndarray>_tprod(av, bd)
    if not (cnp.PyArray_IS_C_CONTIGUOUS(t1) and cnp.PyArray_IS_C_CONTIGUOUS(t2)
            and cnp.PyArray_ISWRITEABLE(t1)):
        return NotImplemented
    p = <double *>cnp.PyArray_DATA(t1)
    q = <const double *>cnp.PyArray_DATA(t2)
    n = cnp.PyArray_SIZE(t1)
    for i in range(n):
        p[i] = p[i] + q[i]
    return _make(val, t1, x._tag, None)


cdef inline object _transpose(cnp.ndarray w):
    # w.T without the attribute lookup
    return cnp.PyArray_Transpose(w, NULL)

