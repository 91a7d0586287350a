# Products -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# Products with constant matrices and of two vectors: values by NumPy's
# product (its bits) -- for a matrix times a vector or a matrix, the very
# gemv/gemm call NumPy's product makes, reached directly where NumPy's BLAS
# allows (_find_gemv) and written into the result's block -- tangent terms
# by the one rule of _tprod/_tmatmul shared with the Python paths.

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


# NumPy's gemv, reached directly.  A float64 matrix times a vector (either
# side) is one cblas_dgemv call in NumPy's cblas_matrixproduct (the C path
# of np.dot, and of np.matmul for contiguous operands); at 10 x 10 the call
# takes a fifth of np.dot's time, the rest being argument conversion and the
# result array.  When NumPy's BLAS is an ILP64 one under the names NumPy's
# own wheels use (scipy_cblas_dgemv64_, or cblas_dgemv64_), _gemv_into makes
# the very call NumPy makes for the same operands (order, transposition,
# leading dimension, a zeroed output and beta 0), so the value keeps NumPy's
# bits while skipping the overhead; an import-time check compares it with
# np.dot on a few layouts and turns it off on any difference.  Elsewhere (no
# such symbol, Windows, another BLAS) products take PyArray_MatrixProduct2.
cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__unix__) || defined(__APPLE__)
    #include <dlfcn.h>
    static void *dualml_blas_sym(const char *lib, const char *name) {
        /* lib is already loaded (NumPy's extension): a lookup in it and its
           dependencies, the handle released at once (NumPy keeps it loaded) */
        void *h = dlopen(lib, RTLD_LAZY | RTLD_LOCAL | RTLD_NOLOAD);
        void *p;
        if (h == NULL) return NULL;
        p = dlsym(h, name);
        dlclose(h);
        return p;
    }
    #else
    static void *dualml_blas_sym(const char *lib, const char *name) {
        (void)lib; (void)name;
        return NULL;
    }
    #endif
    typedef void (*dualml_dgemv64_fn)(int, int, int64_t, int64_t, double,
                                      const double *, int64_t, const double *,
                                      int64_t, double, double *, int64_t);
    static dualml_dgemv64_fn dualml_dgemv64 = NULL;
    typedef void (*dualml_dgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, double,
                                      const double *, int64_t, const double *, int64_t,
                                      double, double *, int64_t);
    static dualml_dgemm64_fn dualml_dgemm64 = NULL;
    static void dualml_set_blas(void *gemv, void *gemm) {
        dualml_dgemv64 = (dualml_dgemv64_fn)gemv;
        dualml_dgemm64 = (dualml_dgemm64_fn)gemm;
    }
    static int dualml_has_dgemv(void) { return dualml_dgemv64 != NULL; }
    static int dualml_has_dgemm(void) { return dualml_dgemm64 != NULL; }
    static void dualml_dgemm(int transa, int transb, int64_t m, int64_t n, int64_t k,
                             const double *a, int64_t lda, const double *b, int64_t ldb,
                             double *c) {
        dualml_dgemm64(101, transa, transb, m, n, k, 1.0, a, lda, b, ldb, 0.0, c, n);
    }
    static void dualml_dgemv(int order, int trans, int64_t m, int64_t n,
                             const double *a, int64_t lda, const double *x,
                             int64_t incx, double *y) {
        dualml_dgemv64(order, trans, m, n, 1.0, a, lda, x, incx, 0.0, y, 1);
    }
    """
    void *dualml_blas_sym(const char *lib, const char *name)
    void dualml_set_blas(void *gemv, void *gemm)
    bint dualml_has_dgemv() noexcept
    bint dualml_has_dgemm() noexcept
    void dualml_dgemm(int transa, int transb, int64_t m, int64_t n, int64_t k, const double *a,
                      int64_t lda, const double *b, int64_t ldb, double *c) noexcept nogil
    void dualml_dgemv(int order, int trans, int64_t m, int64_t n, const double *a,
                      int64_t lda, const double *x, int64_t incx, double *y) noexcept nogil

cdef enum:
    CBLAS_ROW = 101
    CBLAS_COL = 102
    CBLAS_NOTRANS = 111
    CBLAS_TRANS = 112
    GEMV_NOGIL = 1 << 14            # matrices this large release the GIL, as NumPy does


cdef bint _gemv_ok(cnp.ndarray w, Py_ssize_t nx, bint wleft) noexcept:
    # whether NumPy's product of the constant matrix w with an nx-vector
    # (w on the left or not) is the single gemv call _gemv_into makes: w 2-d
    # float64, aligned, C- or F-contiguous, both lengths > 1 (NumPy treats a
    # matrix with a length-1 axis and a 1-element vector as other shapes)
    cdef cnp.npy_intp *s
    if not dualml_has_dgemv() or cnp.PyArray_NDIM(w) != 2 or nx < 2:
        return False
    if not (cnp.PyArray_TYPE(w) == cnp.NPY_DOUBLE and cnp.PyArray_ISALIGNED(w)
            and _contiguous(w)):
        return False
    s = cnp.PyArray_DIMS(w)
    return s[0] > 1 and s[1] > 1 and s[1 if wleft else 0] == nx


cdef void _gemv_into(cnp.ndarray w, bint wleft, const double *x, Py_ssize_t incx,
                     double *y) noexcept:
    # y = w @ x (wleft) or x @ w, for _gemv_ok operands: cblas_matrixproduct's
    # call (its output zeroed first, as NumPy's is)
    cdef cnp.npy_intp m = cnp.PyArray_DIMS(w)[0], n = cnp.PyArray_DIMS(w)[1]
    cdef int order = CBLAS_ROW
    cdef int64_t lda = n
    cdef const double *a = <const double *>cnp.PyArray_DATA(w)
    if not cnp.PyArray_IS_C_CONTIGUOUS(w):
        order = CBLAS_COL
        lda = m
    memset(y, 0, <size_t>(m if wleft else n) * sizeof(double))
    if m * n < GEMV_NOGIL:
        dualml_dgemv(order, CBLAS_NOTRANS if wleft else CBLAS_TRANS, m, n, a, lda, x, incx, y)
    else:
        with nogil:
            dualml_dgemv(order, CBLAS_NOTRANS if wleft else CBLAS_TRANS, m, n, a, lda, x,
                         incx, y)


cdef object _gemv_value(cnp.ndarray w, cnp.ndarray v, bint wleft):
    # NumPy's value of w @ v (wleft) or v @ w for a 1-d float64 v, by
    # _gemv_into where it applies (None otherwise)
    cdef cnp.npy_intp n
    cdef cnp.ndarray out
    if not (cnp.PyArray_NDIM(v) == 1 and cnp.PyArray_TYPE(v) == cnp.NPY_DOUBLE
            and cnp.PyArray_ISALIGNED(v) and cnp.PyArray_STRIDES(v)[0] == 8
            and _gemv_ok(w, cnp.PyArray_DIMS(v)[0], wleft)):
        return None
    n = cnp.PyArray_DIMS(w)[0 if wleft else 1]
    out = _empty(1, &n)
    _gemv_into(w, wleft, <const double *>cnp.PyArray_DATA(v), 1,
               <double *>cnp.PyArray_DATA(out))
    return out


cdef bint _mat_layout(const char *p, int nd, cnp.npy_intp *dims, cnp.npy_intp *st,
                      bint *fortran) noexcept:
    # a float64 matrix that NumPy's product hands to gemm as it is: 2-d,
    # aligned, C- or F-contiguous, both lengths > 1 (other shapes are
    # vectors or scalars to NumPy); fortran: F-ordered (not C)
    if nd != 2 or dims[0] < 2 or dims[1] < 2 or (<size_t>p) % 8:
        return False
    if st[1] == 8 and st[0] == 8 * dims[1]:
        fortran[0] = False
        return True
    if st[0] == 8 and st[1] == 8 * dims[0]:
        fortran[0] = True
        return True
    return False


cdef void _gemm_into(const char *a, bint af, const char *b, bint bf, cnp.npy_intp m,
                     cnp.npy_intp kk, cnp.npy_intp n, double *c) noexcept:
    # c (m, n, C order) = a (m, kk) @ b (kk, n), both of _mat_layout, not the
    # same data: cblas_matrixproduct's gemm call (its output zeroed first)
    memset(c, 0, <size_t>(m * n) * sizeof(double))
    if m * n * kk < GEMV_NOGIL * 8:
        dualml_dgemm(CBLAS_TRANS if af else CBLAS_NOTRANS, CBLAS_TRANS if bf else CBLAS_NOTRANS,
                     m, n, kk, <const double *>a, m if af else kk,
                     <const double *>b, kk if bf else n, c)
    else:
        with nogil:
            dualml_dgemm(CBLAS_TRANS if af else CBLAS_NOTRANS,
                         CBLAS_TRANS if bf else CBLAS_NOTRANS,
                         m, n, kk, <const double *>a, m if af else kk,
                         <const double *>b, kk if bf else n, c)


cdef bint _gemm_ok(cnp.ndarray a, cnp.ndarray b, bint *af, bint *bf) noexcept:
    # whether NumPy's a @ b of two matrices is the gemm call _gemm_into makes
    return (dualml_has_dgemm() and cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE
            and cnp.PyArray_TYPE(b) == cnp.NPY_DOUBLE
            and _mat_layout(<const char *>cnp.PyArray_DATA(a), cnp.PyArray_NDIM(a),
                            cnp.PyArray_DIMS(a), cnp.PyArray_STRIDES(a), af)
            and _mat_layout(<const char *>cnp.PyArray_DATA(b), cnp.PyArray_NDIM(b),
                            cnp.PyArray_DIMS(b), cnp.PyArray_STRIDES(b), bf)
            and cnp.PyArray_DIMS(a)[1] == cnp.PyArray_DIMS(b)[0]
            and cnp.PyArray_DATA(a) != cnp.PyArray_DATA(b))     # (NumPy: syrk, maybe)


cdef object _gemm_value(cnp.ndarray a, cnp.ndarray b):
    # NumPy's value of a @ b (np.dot's; matmul's on contiguous operands) for
    # two matrices, by _gemm_into where it applies (None otherwise)
    cdef bint af, bf
    cdef cnp.npy_intp dims[2]
    cdef cnp.ndarray out
    if not _gemm_ok(a, b, &af, &bf):
        return None
    dims[0] = cnp.PyArray_DIMS(a)[0]
    dims[1] = cnp.PyArray_DIMS(b)[1]
    out = _empty(2, dims)
    _gemm_into(<const char *>cnp.PyArray_DATA(a), af, <const char *>cnp.PyArray_DATA(b), bf,
               dims[0], cnp.PyArray_DIMS(a)[1], dims[1], <double *>cnp.PyArray_DATA(out))
    return out


def _find_gemv(lib):
    """Look up NumPy's ILP64 dgemv and dgemm in the loaded library `lib`
    (NumPy's multiarray extension: its dependencies are searched too) and
    keep them if their products equal np.dot's bit for bit (vectors on either
    side, C- and F-ordered matrices, sizes up to the GIL-releasing ones);
    returns whether they are in use."""
    cdef void *gemv = NULL
    cdef void *gemm = NULL
    cdef bytes path = _os.fsencode(lib)
    for prefix in (b"scipy_cblas_", b"cblas_"):
        gemv = dualml_blas_sym(path, prefix + b"dgemv64_")
        gemm = dualml_blas_sym(path, prefix + b"dgemm64_")
        if gemv != NULL and gemm != NULL:
            break
    if gemv == NULL or gemm == NULL:
        dualml_set_blas(NULL, NULL)
        return False
    dualml_set_blas(gemv, gemm)
    for m, n in ((2, 3), (7, 5), (33, 17), (130, 140)):
        a = _probe((m, n), 1.0)
        for w in (a, np.asfortranarray(a)):
            for wleft in (True, False):
                v = _probe((n if wleft else m,), 2.0)
                got = _gemv_value(w, v, wleft)
                want = np.dot(w, v) if wleft else np.dot(v, w)
                if got is None or not _same_bits(got, want):
                    dualml_set_blas(NULL, NULL)
                    return False
            b = _probe((n, m + 1), 3.0)
            for u in (b, np.asfortranarray(b)):
                got = _gemm_value(w, u)
                if got is None or not _same_bits(got, np.dot(w, u)):
                    dualml_set_blas(NULL, NULL)
                    return False
    return True


def _probe(shape, seed):
    # values of mixed signs and magnitudes for _find_gemv's check (no
    # numpy.random: its import would cost more than the check)
    i = np.arange(np.prod(shape), dtype=np.float64)
    return (np.sin(i * 1.618 + seed) * 10.0 ** (i % 7 - 3.0)).reshape(shape)


def _same_bits(a, b):
    return a.shape == b.shape and np.array_equal(a.view(np.int64), b.view(np.int64))


def _direct_gemv():
    """Whether products take NumPy's gemv and gemm directly (see _find_gemv)."""
    return dualml_has_dgemv() and dualml_has_dgemm()


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

_SMALL_KN = SMALL_KN                    # (for the Python paths' planning)


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


cdef inline bint _tprod_bt(_TProd *P) noexcept:
    # one A against batches of B each read transposed, the batches of one
    # C-ordered (nbatch, N, Kd) block (np.inner(a, b), a @ b.T of duals)
    return (P.nbatch > 1 and P.sa == 0 and P.b0 == 1 and P.b1 != 1 and P.N > 1 and P.M > 0
            and P.sb == P.N * P.b1 * 8)


cdef int _tprod_run_bt(_TProd *P, double *o) except -1:
    # _tprod_bt's product: B_z' A' of all batches in one call (the stacked
    # B_z' are the rows of a C-ordered matrix; A' gathered once, not B_z
    # once per batch), then transposed into o.  Each element is the same
    # in-order sum of the same products (IEEE multiplication commutes): the
    # per-batch products' bits
    cdef double tbuf[SCRATCH]
    cdef double sbuf[SCRATCH]
    cdef double *t = tbuf
    cdef double *scratch = sbuf
    cdef Py_ssize_t mn = P.M * P.N
    cdef Py_ssize_t z, r, c
    cdef const double *tz
    cdef double *oz
    if P.nbatch * mn > SCRATCH:
        t = <double *>PyMem_Malloc(<size_t>(P.nbatch * mn) * sizeof(double))
    if P.M > 1 and P.Kd * P.M > SCRATCH:
        scratch = <double *>PyMem_Malloc(<size_t>(P.Kd * P.M) * sizeof(double))
    try:
        if t == NULL or scratch == NULL:
            raise MemoryError()
        K.matmul_small(P.nbatch * P.N, P.Kd, P.M, <const double *>P.pb, P.b1, 1,
                       <const double *>P.pa, P.a1, P.a0, t, scratch)
        for z in range(P.nbatch):
            tz = t + z * mn
            oz = o + z * mn
            for r in range(P.M):
                for c in range(P.N):
                    oz[r * P.N + c] = tz[c * P.M + r]
    finally:
        if t != tbuf:
            PyMem_Free(t)
        if scratch != sbuf:
            PyMem_Free(scratch)
    return 0


cdef int _tprod_run(_TProd *P, double *o) except -1:
    # the planned product into o: nbatch * M * N doubles, C order
    cdef double buf[SCRATCH]
    cdef double *scratch = buf
    cdef Py_ssize_t p
    if _tprod_bt(P):
        return _tprod_run_bt(P, o)
    if P.b1 != 1 and P.N > 1 and P.Kd * P.N > SCRATCH:
        scratch = <double *>PyMem_Malloc(<size_t>(P.Kd * P.N) * sizeof(double))
        if scratch == NULL:
            raise MemoryError()
    # (the GIL kept: releasing it costs about what a small product does)
    if P.nbatch > 1 and P.sb == 0 and P.M > 0 and P.sa == P.M * P.a0 * 8:
        # one B for batches whose rows are evenly spaced on: one call for all
        # rows (the kernel's bits do not depend on how rows are batched; B
        # gathered once where it is transposed)
        K.matmul_small(P.nbatch * P.M, P.Kd, P.N, <const double *>P.pa, P.a0, P.a1,
                       <const double *>P.pb, P.b0, P.b1, o, scratch)
    else:
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
    return _tmatmul_c(a, b)


cdef object _tmatmul_c(object a, object b):
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


def _einsum_pair_g(tuple g, object x, object y):
    """einsum's tangent term of two ndarrays as one product, with its
    geometry g = (px, py, xs2, ys2, rsh, po) planned by
    _products._einsum_geometry: x and y transposed by px / py and viewed as
    (batched) matrices xs2 / ys2, their product by _tmatmul's rule, then
    shaped rsh and transposed by po to the output's letters.  (x with
    two free axes and one summed, y with one free axis: the batched product
    is rsh's shape already, so no reshapes; the kernel's bits do not depend
    on the batching.)"""
    px, py, xs2, ys2, rsh, po = g
    if px is not None:
        x = x.transpose(px)
    if py is not None:
        y = y.transpose(py)
    if (PyTuple_GET_SIZE(xs2) == 2 and type(x) is ndarray and type(y) is ndarray
            and cnp.PyArray_NDIM(<cnp.ndarray>x) == 3 and cnp.PyArray_NDIM(<cnp.ndarray>y) == 2
            and cnp.PyArray_DIMS(<cnp.ndarray>x)[2] == cnp.PyArray_DIMS(<cnp.ndarray>y)[0]
            and cnp.PyArray_DIMS(<cnp.ndarray>x)[2] * cnp.PyArray_DIMS(<cnp.ndarray>y)[1]
            <= SMALL_KN):
        r = _tmatmul_c(x, y)
    else:
        r = _tmatmul_c(x.reshape(xs2), y.reshape(ys2)).reshape(rsh)
    return r if po is None else r.transpose(po)


cdef object _einsum_dd(object subscripts, DualArray a, DualArray b):
    """np.einsum(subscripts, a, b) of two first-order DualArrays of one tag
    and row count whose plan the handler made (_products._EINSUM_DD: each
    tangent term one product): NumPy's einsum for the value, a's term plus
    b's (_einsum_pair_g, the handler's own; their sum by IEEE addition, the
    add rule's value) -- the handler's bits; NotImplemented where that does
    not apply (a nan value too: the handler's domain rule decides)."""
    cdef cnp.ndarray av, bv, da, db, ta, tb, t
    cdef double *p
    cdef const double *q
    cdef Py_ssize_t i, n
    if not (_flat(a) and _flat(b) and a._o2 is None and b._o2 is None and a._tag == b._tag):
        return NotImplemented
    av = <cnp.ndarray>_V(a)
    bv = <cnp.ndarray>_V(b)
    da = <cnp.ndarray>_D(a)
    db = <cnp.ndarray>_D(b)
    plan = (<dict>_py._EINSUM_DD).get((subscripts, (<object>da).shape, (<object>db).shape))
    if type(plan) is not tuple:
        return NotImplemented
    spec, ga, gb = <tuple>plan
    v = _py._c_einsum(spec, av, bv)
    if type(v) is not ndarray:
        v = cnp.PyArray_FROM_OTF(v, cnp.NPY_DOUBLE, 0)
    if _nan_in(v):
        return NotImplemented
    _check_product(cnp.PyArray_DIMS(da)[0], cnp.PyArray_SIZE(<cnp.ndarray>v), 1)
    # (both terms are fresh products: a's takes the sum in place)
    ta = <cnp.ndarray>_einsum_pair_g(<tuple>ga, da, bv)
    tb = <cnp.ndarray>_einsum_pair_g(<tuple>gb, db, av)
    if (cnp.PyArray_IS_C_CONTIGUOUS(ta) and cnp.PyArray_IS_C_CONTIGUOUS(tb)
            and cnp.PyArray_ISWRITEABLE(ta) and cnp.PyArray_TYPE(ta) == cnp.NPY_DOUBLE
            and cnp.PyArray_TYPE(tb) == cnp.NPY_DOUBLE and cnp.PyArray_ISALIGNED(ta)
            and cnp.PyArray_ISALIGNED(tb)):
        p = <double *>cnp.PyArray_DATA(ta)
        q = <const double *>cnp.PyArray_DATA(tb)
        n = cnp.PyArray_SIZE(ta)
        for i in range(n):
            p[i] = p[i] + q[i]
        t = ta
    elif _add_strided3(ta, tb):
        t = ta
    else:
        t = <cnp.ndarray>_py._tadd(ta, tb)
    return _make(v, t, a._tag, None)


cdef bint _add_strided3(cnp.ndarray ta, cnp.ndarray tb) noexcept:
    # ta += tb (IEEE addition, the add rule's value) for a C-contiguous
    # writable float64 ta and a float64 tb of its 3-d shape in any whole-
    # element strides (einsum's second term, read transposed); False where
    # that does not apply
    cdef double *p
    cdef const char *q
    cdef Py_ssize_t z, r, c, n0, n1, n2, s0, s1, s2
    if not (cnp.PyArray_IS_C_CONTIGUOUS(ta) and cnp.PyArray_ISWRITEABLE(ta)
            and cnp.PyArray_TYPE(ta) == cnp.NPY_DOUBLE and cnp.PyArray_TYPE(tb) == cnp.NPY_DOUBLE
            and cnp.PyArray_ISALIGNED(ta) and cnp.PyArray_ISALIGNED(tb)
            and cnp.PyArray_NDIM(ta) == 3 and cnp.PyArray_NDIM(tb) == 3):
        return False
    n0, n1, n2 = cnp.PyArray_DIMS(ta)[0], cnp.PyArray_DIMS(ta)[1], cnp.PyArray_DIMS(ta)[2]
    if not (cnp.PyArray_DIMS(tb)[0] == n0 and cnp.PyArray_DIMS(tb)[1] == n1
            and cnp.PyArray_DIMS(tb)[2] == n2):
        return False
    s0, s1, s2 = cnp.PyArray_STRIDES(tb)[0], cnp.PyArray_STRIDES(tb)[1], cnp.PyArray_STRIDES(tb)[2]
    p = <double *>cnp.PyArray_DATA(ta)
    q = <const char *>cnp.PyArray_DATA(tb)
    for z in range(n0):
        for r in range(n1):
            for c in range(n2):
                p[0] = p[0] + (<const double *>(q + z * s0 + r * s1 + c * s2))[0]
                p += 1
    return True


cdef inline bint _contiguous(cnp.ndarray a) noexcept:
    return cnp.PyArray_IS_C_CONTIGUOUS(a) or cnp.PyArray_IS_F_CONTIGUOUS(a)


cdef object _value_product(cnp.ndarray a, cnp.ndarray b, bint dot):
    # the value of a @ b (dot False) or np.dot(a, b): NumPy's own bits.  On
    # contiguous operands both make the same BLAS call, np.dot's the cheaper
    # one to reach; on other strides matmul may sum in another order
    cdef object r
    if cnp.PyArray_NDIM(a) == 2 and cnp.PyArray_NDIM(b) == 1:
        r = _gemv_value(a, b, True)
        if r is not None:
            return r
    elif cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_NDIM(b) == 2:
        r = _gemv_value(b, a, False)
        if r is not None:
            return r
    elif cnp.PyArray_NDIM(a) == 2 and cnp.PyArray_NDIM(b) == 2:
        r = _gemm_value(a, b)
        if r is not None:
            return r
    if dot or (_contiguous(a) and _contiguous(b) and _all_long(a) and _all_long(b)):
        return _dot2(a, b)
    # (an axis of length 1 or 0: matmul may take its own loop where np.dot
    # calls BLAS, whose gemv skips zero entries -- inf * 0 is then 0, not
    # NumPy's nan -- and whose sums may differ in the sign of a zero)
    return _np_matmul(a, b)


cdef inline bint _all_long(cnp.ndarray a) noexcept:
    # every axis of a has at least two elements
    cdef int i
    for i in range(cnp.PyArray_NDIM(a)):
        if cnp.PyArray_DIMS(a)[i] < 2:
            return False
    return True


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
        r = _matmul_duals(<DualArray>a, <DualArray>b, dot)
        if r is NotImplemented:
            r = _matvec_duals(<DualArray>a, <DualArray>b, dot)
        return r
    if type(a) is ndarray and type(b) is DualArray:
        x = <DualArray>b
        w = <cnp.ndarray>a
        if cnp.PyArray_NDIM(w) == 1:
            return _matvec_dc(x, w, True, dot)
        if not (_flat(x) and cnp.PyArray_TYPE(w) == cnp.NPY_DOUBLE
                and cnp.PyArray_NDIM(w) == 2):
            return NotImplemented
        if x._eye is None:
            r = _gemv_product(w, x, True)
            if r is not NotImplemented:
                return r
        r = _gemm_product(w, x, True)
        if r is not NotImplemented:
            return r
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
        if cnp.PyArray_NDIM(w) == 1:
            return _matvec_dc(x, w, False, dot)
        if not (_flat(x) and cnp.PyArray_TYPE(w) == cnp.NPY_DOUBLE
                and cnp.PyArray_NDIM(w) == 2):
            return NotImplemented
        r = _gemv_product(w, x, False)
        if r is not NotImplemented:
            return r
        r = _gemm_product(w, x, False)
        if r is not NotImplemented:
            return r
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


cdef object _matvec_dc(DualArray x, cnp.ndarray c, bint cleft, bint dot):
    """x @ c (cleft False) or c @ x for a first-order 2-d x and a constant
    float64 vector c (np.dot too): the value NumPy's product of the value
    matrix and c (_value_product: its gemv), the rows by _tprod with c as
    the column (n, 1) or the row (1, m) the general path makes of it (its
    bits); NotImplemented where _tprod's small rule does not apply (the
    general path then reshapes, multiplies and squeezes) or the value has
    a nan (its domain check)."""
    cdef cnp.ndarray v, d, cc
    cdef cnp.npy_intp sh[2]
    cdef cnp.PyArray_Dims shape
    cdef _TProd P
    cdef cnp.npy_intp n = cnp.PyArray_DIMS(c)[0]
    if not (x._o2 is None and _flat(x) and cnp.PyArray_TYPE(c) == cnp.NPY_DOUBLE):
        return NotImplemented
    v = <cnp.ndarray>_V(x)
    d = <cnp.ndarray>_D(x)
    if cnp.PyArray_NDIM(v) != 2 or cnp.PyArray_DIMS(v)[0 if cleft else 1] != n:
        return NotImplemented
    sh[0] = 1 if cleft else n
    sh[1] = n if cleft else 1
    shape.ptr = sh
    shape.len = 2
    cc = <cnp.ndarray>cnp.PyArray_Newshape(c, &shape, cnp.NPY_CORDER)
    if not (_tprod_plan(cc, d, &P) if cleft else _tprod_plan(d, cc, &P)):
        return NotImplemented
    _check_product(cnp.PyArray_DIMS(d)[0], 1, cnp.PyArray_DIMS(v)[1 if cleft else 0])
    val = _value_product(c, v, dot) if cleft else _value_product(v, c, dot)
    if _nan_in(val):
        return NotImplemented           # (the Python path: _shape._domain_nans)
    return _product_result(val, cc, d, x) if cleft else _product_result(val, d, cc, x)


cdef object _gemv_product(cnp.ndarray w, DualArray x, bint wleft):
    """w @ x (wleft) or x @ w for a first-order 1-d x with contiguous
    components and a constant matrix w of _gemv_ok whose tangent product
    fits _tprod's small rule: the value by _gemv_into (NumPy's call) and the
    rows by matmul_small, both written into the result's block (no
    intermediate arrays, no transposed view); NotImplemented otherwise (the
    general path then decides, with the same bits)."""
    cdef _Parts X, O
    cdef _TProd P
    cdef DualArray res
    cdef cnp.npy_intp m, n, nout
    cdef Py_ssize_t w0, w1
    if x._o2 is not None or not _flat(x):
        return NotImplemented
    _parts(x, &X)
    if not (X.nd == 1 and X.vst[0] == 8 and X.dst[1] == 8 and X.dst[0] % 8 == 0
            and _gemv_ok(w, X.dims[0], wleft)):
        return NotImplemented
    m = cnp.PyArray_DIMS(w)[0]
    n = cnp.PyArray_DIMS(w)[1]
    w0 = cnp.PyArray_STRIDES(w)[0]
    w1 = cnp.PyArray_STRIDES(w)[1]
    # the rows: D W' (wleft: the rows of (W D')') or D W, as _tprod plans them
    P.M = X.k
    P.Kd = X.dims[0]
    P.N = m if wleft else n
    if P.Kd * P.N > SMALL_KN or (w0 | w1) & 7:
        return NotImplemented
    P.nbatch = 1
    P.sa = 0
    P.sb = 0
    P.nd = 2
    P.a0 = X.dst[0] // 8
    P.a1 = 1
    P.b0 = (w1 if wleft else w0) // 8
    P.b1 = (w0 if wleft else w1) // 8
    P.pa = <const char *>X.d
    P.pb = <const char *>cnp.PyArray_DATA(w)
    nout = P.N
    hv, hd = x._vo, x._do           # (x's components held while allocating)
    res = _make(None, None, x._tag, None)
    _alloc_result(res, 1, &nout, X.k)
    _parts(res, &O)
    _gemv_into(w, wleft, <const double *>X.v, 1, <double *>O.v)
    if _any_nan(O.v, nout):
        return NotImplemented           # (the Python path: _shape._domain_nans)
    _tprod_run(&P, <double *>O.d)
    return res


cdef object _gemm_product(cnp.ndarray w, DualArray x, bint wleft):
    """w @ x (wleft) or x @ w for a first-order 2-d x and a constant matrix
    w, both of _mat_layout, whose tangent products fit _tprod's small rule:
    the value by _gemm_into (NumPy's call), the rows W @ D_j or D_j @ W by
    matmul_small, both written into the result's block; NotImplemented
    otherwise (the general path then decides, with the same bits)."""
    cdef _Parts X, O
    cdef _TProd P
    cdef DualArray res
    cdef cnp.npy_intp dims[2]
    cdef cnp.npy_intp *ws
    cdef bint xf, wf
    if x._o2 is not None or not _flat(x):
        return NotImplemented
    _parts(x, &X)
    if not (dualml_has_dgemm() and cnp.PyArray_TYPE(w) == cnp.NPY_DOUBLE
            and _mat_layout(X.v, X.nd, X.dims, X.vst, &xf)
            and _mat_layout(<const char *>cnp.PyArray_DATA(w), cnp.PyArray_NDIM(w),
                            cnp.PyArray_DIMS(w), cnp.PyArray_STRIDES(w), &wf)
            and <char *>cnp.PyArray_DATA(w) != X.v
            and (X.dst[0] | X.dst[1] | X.dst[2]) % 8 == 0):
        return NotImplemented
    ws = cnp.PyArray_STRIDES(w)
    P.nbatch = X.k
    P.nd = 3
    if wleft:
        if cnp.PyArray_DIMS(w)[1] != X.dims[0]:
            return NotImplemented
        dims[0] = cnp.PyArray_DIMS(w)[0]
        dims[1] = X.dims[1]
        P.M = dims[0]
        P.Kd = X.dims[0]
        P.N = dims[1]
        P.pa = <const char *>cnp.PyArray_DATA(w)
        P.sa = 0
        P.a0 = ws[0] // 8
        P.a1 = ws[1] // 8
        P.pb = <const char *>X.d
        P.sb = X.dst[0]
        P.b0 = X.dst[1] // 8
        P.b1 = X.dst[2] // 8
    else:
        if X.dims[1] != cnp.PyArray_DIMS(w)[0]:
            return NotImplemented
        dims[0] = X.dims[0]
        dims[1] = cnp.PyArray_DIMS(w)[1]
        P.M = dims[0]
        P.Kd = X.dims[1]
        P.N = dims[1]
        P.pa = <const char *>X.d
        P.sa = X.dst[0]
        P.a0 = X.dst[1] // 8
        P.a1 = X.dst[2] // 8
        P.pb = <const char *>cnp.PyArray_DATA(w)
        P.sb = 0
        P.b0 = ws[0] // 8
        P.b1 = ws[1] // 8
    if P.Kd * P.N > SMALL_KN:
        return NotImplemented
    hv, hd = x._vo, x._do           # (x's components held while allocating)
    res = _make(None, None, x._tag, None)
    _alloc_result(res, 2, dims, X.k)
    _parts(res, &O)
    if wleft:
        _gemm_into(<const char *>cnp.PyArray_DATA(w), wf, X.v, xf, dims[0], X.dims[0], dims[1],
                   <double *>O.v)
    else:
        _gemm_into(X.v, xf, <const char *>cnp.PyArray_DATA(w), wf, dims[0], X.dims[1], dims[1],
                   <double *>O.v)
    if _any_nan(O.v, dims[0] * dims[1]):
        return NotImplemented           # (the Python path: _shape._domain_nans)
    _tprod_run(&P, <double *>O.d)
    return res


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


# The last call site _einsum_dc served: the subscripts object (a literal at
# a call site is the same object every call), the dual's side and the
# shapes; a repeated call skips the plan's lookup and checks.
cdef object _EIN_SUB = None
cdef object _EIN_SPEC = None
cdef int _EIN_SIDE = -1
cdef int _EIN_ND = 0
cdef cnp.npy_intp _EIN_DIMS[5]


cdef bint _einsum_seen(object subscripts, int i, cnp.ndarray d, cnp.ndarray c) noexcept:
    cdef int j, nd = cnp.PyArray_NDIM(d)
    if subscripts is not _EIN_SUB or i != _EIN_SIDE or nd != _EIN_ND:
        return False
    for j in range(nd):
        if cnp.PyArray_DIMS(d)[j] != _EIN_DIMS[j]:
            return False
    return (cnp.PyArray_DIMS(c)[0] == _EIN_DIMS[nd]
            and cnp.PyArray_DIMS(c)[1] == _EIN_DIMS[nd + 1])


cdef void _einsum_remember(object subscripts, int i, cnp.ndarray d, cnp.ndarray c,
                           object spec) noexcept:
    # (d: 2 or 3 dimensions, c: 2)
    global _EIN_SUB, _EIN_SPEC, _EIN_SIDE, _EIN_ND
    cdef int j, nd = cnp.PyArray_NDIM(d)
    for j in range(nd):
        _EIN_DIMS[j] = cnp.PyArray_DIMS(d)[j]
    _EIN_DIMS[nd] = cnp.PyArray_DIMS(c)[0]
    _EIN_DIMS[nd + 1] = cnp.PyArray_DIMS(c)[1]
    _EIN_ND = nd
    _EIN_SIDE = i
    _EIN_SPEC = spec
    _EIN_SUB = subscripts


cdef dict _EIN1 = {}                # subscripts -> (the value's spec, the rows')


cdef object _einsum1(str subscripts, DualArray x):
    """np.einsum(subscripts, x) of one first-order DualArray (a sum, trace,
    diagonal or transpose): NumPy's einsum of the values, and of the rows
    with their direction letter in front -- the handler's two calls
    (_products._einsum_c), without its dispatch.  NotImplemented where the
    subscripts are not one operand's, and for a nan value (the handler's
    domain rule decides its tangents).  The specs are kept per subscripts
    (at most 256)."""
    cdef object specs
    if not _flat(x) or x._o2 is not None:
        return NotImplemented
    specs = _EIN1.get(subscripts)
    if specs is None:
        try:
            ins, out = _py._einsum_parse(subscripts)
        except (ValueError, TypeError):
            return NotImplemented           # (the handler: NumPy's error)
        if len(ins) != 1:
            return NotImplemented
        spec, z = _py._einsum_spec(ins, out)
        if z is None:
            return NotImplemented
        specs = (spec, z + ins[0] + "->" + z + out)
        if len(_EIN1) >= 256:
            _EIN1.clear()
        _EIN1[subscripts] = specs
    ce = _py._c_einsum
    v = ce((<tuple>specs)[0], _V(x))
    if type(v) is not ndarray:
        v = np.asarray(v, dtype=np.float64)
    if cnp.PyArray_TYPE(<cnp.ndarray>v) != cnp.NPY_DOUBLE or _nan_in(v):
        return NotImplemented
    d = ce((<tuple>specs)[1], _D(x))
    return _make(v, d, x._tag, None)


cdef object _einsum_dc(object subscripts, object a, object b):
    """np.einsum(subscripts, a, b) with a first-order DualArray and a float64
    ndarray (either order) whose tangent term the handler computes as the
    plain product D @ C of the tangent rows (k, ..., j) with the constant
    (j, m) (its plan, _products._EINSUM_DC, has no transposes and the
    product's shape): NumPy's einsum for the value, the rows by _tprod's
    rule into the result's block -- the handler's bits; NotImplemented
    where that does not apply (the handler decides, and fills the plan)."""
    cdef DualArray x
    cdef cnp.ndarray c, d
    cdef int i
    cdef _TProd P
    if type(a) is DualArray and type(b) is ndarray:
        x, c, i = <DualArray>a, <cnp.ndarray>b, 0
    elif type(b) is DualArray and type(a) is ndarray:
        x, c, i = <DualArray>b, <cnp.ndarray>a, 1
    else:
        return NotImplemented
    if not (_flat(x) and x._o2 is None and cnp.PyArray_TYPE(c) == cnp.NPY_DOUBLE
            and cnp.PyArray_NDIM(c) == 2):
        return NotImplemented
    d = <cnp.ndarray>_D(x)
    if _einsum_seen(subscripts, i, d, c):
        spec = _EIN_SPEC
    else:
        dshape = (<object>d).shape
        cshape = (<object>c).shape
        plan = (<dict>_py._EINSUM_DC).get((subscripts, i, dshape, cshape))
        if type(plan) is not tuple:
            return NotImplemented
        spec, g = plan
        if not (g[0] is None and g[1] is None and g[5] is None
                and cnp.PyArray_NDIM(d) in (2, 3)
                and g[4] == dshape[:cnp.PyArray_NDIM(d) - 1] + cshape[1:]):
            return NotImplemented
        _einsum_remember(subscripts, i, d, c, spec)
    if not _tprod_plan(d, c, &P):
        return NotImplemented
    ce = _py._c_einsum
    v = ce(spec, _V(x), c) if i == 0 else ce(spec, c, _V(x))
    if type(v) is not ndarray or _nan_in(v):
        return NotImplemented
    return _product_result(v, d, c, x)


cdef object _matvec_duals(DualArray x, DualArray y, bint dot):
    """x @ y (or np.dot) of a 2-d and a 1-d first-order DualArray of one tag
    and row count (either order), written into the result's block: the
    value NumPy's product of the values (_value_product: matmul's gemv, or
    np.dot's), the rows the Python path's two _tprod terms -- the vector as
    a column (a row on the left) against the matrix's tangent rows, the
    matrix against the vector's -- each summed in the summed index's order
    by matmul_small, then added (IEEE addition, the add rule's value);
    NotImplemented where that does not apply (a nan value too: the Python
    path's domain rule decides)."""
    cdef _Parts X, Y, O
    cdef _Parts *Mp
    cdef _Parts *Vp
    cdef DualArray res
    cdef bint vleft
    cdef Py_ssize_t k, m, n, z, i, q
    cdef cnp.npy_intp nout
    cdef double buf[SCRATCH]
    cdef double sbuf[SCRATCH]
    cdef double *t2 = buf
    cdef double *scratch = sbuf
    cdef double *o
    if not (_flat(x) and _flat(y) and x._o2 is None and y._o2 is None and x._tag == y._tag):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    if y._lz == NULL:
        hv2 = y._vo
        hd2 = y._do
    _parts(x, &X)
    _parts(y, &Y)
    if X.k != Y.k:
        return NotImplemented           # (the Python path raises)
    if X.nd == 2 and Y.nd == 1:
        vleft = False
        Mp, Vp = &X, &Y
    elif X.nd == 1 and Y.nd == 2:
        vleft = True
        Mp, Vp = &Y, &X
    else:
        return NotImplemented
    k = X.k
    # the matrix (n, m) on a vector's right, (m, n) on its left
    n = Mp.dims[0] if vleft else Mp.dims[1]
    m = Mp.dims[1] if vleft else Mp.dims[0]
    if Vp.dims[0] != n or n * m > SMALL_KN or n == 0 or m == 0 or k < 1:
        return NotImplemented
    for i in range(2):
        if Mp.vst[i] % 8 or Mp.dst[i] % 8:
            return NotImplemented
    if Mp.dst[2] % 8 or Vp.vst[0] % 8 or Vp.dst[0] % 8 or Vp.dst[1] % 8:
        return NotImplemented
    _check_product(k, m, 1)
    val = _value_product(_V(x), _V(y), dot)
    if _nan_in(val) or cnp.PyArray_SIZE(<cnp.ndarray>val) != m \
            or not cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>val):
        return NotImplemented
    nout = m
    res = _make(None, None, x._tag, None)
    _alloc_result(res, 1, &nout, k)
    _parts(res, &O)
    memcpy(O.v, cnp.PyArray_DATA(<cnp.ndarray>val), <size_t>(m * 8))
    if k * m > SCRATCH:
        t2 = <double *>PyMem_Malloc(<size_t>(k * m) * sizeof(double))
    if n * m > SCRATCH:
        scratch = <double *>PyMem_Malloc(<size_t>(n * m) * sizeof(double))
    if t2 == NULL or scratch == NULL:
        if t2 != buf:
            PyMem_Free(t2)
        if scratch != sbuf:
            PyMem_Free(scratch)
        raise MemoryError()
    try:
        o = <double *>O.d
        if not vleft:
            # the matrix's rows times the vector (a column): k products
            # (m, n) @ (n, 1) into the result's rows (one call where the
            # rows of all k are evenly spaced: the kernel's bits do not
            # depend on the batching)
            if Mp.dst[0] == m * Mp.dst[1] and O.dst[0] == 8 * m:
                K.matmul_small(k * m, n, 1, <const double *>Mp.d, Mp.dst[1] // 8,
                               Mp.dst[2] // 8, <const double *>Vp.v, Vp.vst[0] // 8, 1,
                               <double *>O.d, NULL)
            else:
                for z in range(k):
                    K.matmul_small(m, n, 1, <const double *>(Mp.d + z * Mp.dst[0]),
                                   Mp.dst[1] // 8, Mp.dst[2] // 8, <const double *>Vp.v,
                                   Vp.vst[0] // 8, 1, <double *>(O.d + z * O.dst[0]), NULL)
            # the matrix times the vector's rows: (k, n) @ M' (M' read
            # transposed, gathered once by the kernel)
            K.matmul_small(k, n, m, <const double *>Vp.d, Vp.dst[0] // 8, Vp.dst[1] // 8,
                           <const double *>Mp.v, Mp.vst[1] // 8, Mp.vst[0] // 8, t2, scratch)
        else:
            # the vector's rows times the matrix: (k, n) @ (n, m)
            K.matmul_small(k, n, m, <const double *>Vp.d, Vp.dst[0] // 8, Vp.dst[1] // 8,
                           <const double *>Mp.v, Mp.vst[0] // 8, Mp.vst[1] // 8,
                           <double *>O.d if O.dst[0] == 8 * m else t2, scratch)
            if O.dst[0] != 8 * m:
                for z in range(k):
                    memcpy(O.d + z * O.dst[0], t2 + z * m, <size_t>(m * 8))
            # the vector (a row) times the matrix's rows: k products (1, n) @ (n, m)
            for z in range(k):
                K.matmul_small(1, n, m, <const double *>Vp.v, 0, Vp.vst[0] // 8,
                               <const double *>(Mp.d + z * Mp.dst[0]), Mp.dst[1] // 8,
                               Mp.dst[2] // 8, t2 + z * m, scratch)
        for z in range(k):
            o = <double *>(O.d + z * O.dst[0])
            q = z * m
            for i in range(m):
                o[i] = o[i] + t2[q + i]
    finally:
        if t2 != buf:
            PyMem_Free(t2)
        if scratch != sbuf:
            PyMem_Free(scratch)
    return res


cdef object _matmul_duals(DualArray x, DualArray y, bint dot):
    """x @ y (or np.dot) for two 2-d first-order DualArrays of one tag and
    row count: the value NumPy's, the tangent rows xd @ yv + xv @ yd, each
    term by _tprod's rule and their sum by the add rule's value (the Python
    path's _bilinear, bit for bit); NotImplemented otherwise.  Where both
    terms go to matmul_small the result's block is written directly
    (_matmul_duals_into); else the two terms are arrays, added in place."""
    cdef cnp.ndarray av, ad, bv, bd, t1, t2
    cdef _TProd P1, P2
    cdef _Parts O
    cdef DualArray res
    cdef bint af, bf
    cdef cnp.npy_intp dims[2]
    cdef double *p
    cdef const double *q
    cdef Py_ssize_t i, n, k
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
    k = cnp.PyArray_DIMS(ad)[0]
    dims[0] = cnp.PyArray_DIMS(av)[0]
    dims[1] = cnp.PyArray_DIMS(bv)[1]
    _check_product(k, dims[0], dims[1])
    if _tprod_plan(ad, bv, &P1) and _tprod_plan(av, bd, &P2):
        # the result's block: the value NumPy's gemm call straight into it
        # (or NumPy's product copied), then the tangent rows
        res = _make(None, None, x._tag, None)
        _alloc_result(res, 2, dims, k)
        _parts(res, &O)
        if _gemm_ok(av, bv, &af, &bf):
            _gemm_into(<const char *>cnp.PyArray_DATA(av), af,
                       <const char *>cnp.PyArray_DATA(bv), bf, dims[0],
                       cnp.PyArray_DIMS(av)[1], dims[1], <double *>O.v)
        else:
            val = _value_product(av, bv, dot)
            if not (type(val) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>val) == cnp.NPY_DOUBLE
                    and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>val)
                    and cnp.PyArray_SIZE(<cnp.ndarray>val) == dims[0] * dims[1]):
                return NotImplemented
            memcpy(O.v, cnp.PyArray_DATA(<cnp.ndarray>val), <size_t>(dims[0] * dims[1] * 8))
        if _any_nan(O.v, dims[0] * dims[1]):
            return NotImplemented       # (the Python path: _shape._domain_nans)
        return _matmul_duals_into(res, &O, &P1, &P2, k)
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


cdef object _matmul_duals_into(DualArray res, _Parts *O, _TProd *P1, _TProd *P2,
                               Py_ssize_t k):
    # the rows of x @ y's block res (its value written): xd @ yv (P1: k
    # batches of x's tangent rows against y's value) by _tprod_run, as _tprod
    # computes it; xv @ yd (P2: x's value against each of y's k tangent
    # matrices) into a scratch, one direction at a time (added to that
    # direction's rows while they are in cache) or, where y's tangent
    # matrices are read transposed, all at once (_tprod_run_bt) -- the same
    # kernel sums in the same order as the two arrays and their sum,
    # without allocating them
    cdef double tbuf[SCRATCH]
    cdef double sbuf[SCRATCH]
    cdef double *t = tbuf
    cdef double *scratch = sbuf
    cdef double *o
    cdef Py_ssize_t mn, z, i, nt
    cdef bint bt = _tprod_bt(P2)
    mn = P2.M * P2.N
    if not (P1.nd == 3 and P2.nd == 3 and P1.nbatch == k and P2.nbatch == k
            and P1.M * P1.N == mn and (k < 2 or O.dst[0] == 8 * mn)):
        return NotImplemented           # (a fresh block's rows are contiguous)
    nt = k * mn if bt else mn
    if nt > SCRATCH:
        t = <double *>PyMem_Malloc(<size_t>nt * sizeof(double))
    if not bt and P2.b1 != 1 and P2.N > 1 and P2.Kd * P2.N > SCRATCH:
        scratch = <double *>PyMem_Malloc(<size_t>(P2.Kd * P2.N) * sizeof(double))
    try:
        if t == NULL or scratch == NULL:
            raise MemoryError()
        _tprod_run(P1, <double *>O.d)
        if bt:
            _tprod_run_bt(P2, t)
            o = <double *>O.d
            for i in range(k * mn):
                o[i] = o[i] + t[i]
        else:
            for z in range(k):
                K.matmul_small(P2.M, P2.Kd, P2.N, <const double *>(P2.pa + z * P2.sa), P2.a0,
                               P2.a1, <const double *>(P2.pb + z * P2.sb), P2.b0, P2.b1, t,
                               scratch)
                o = <double *>O.d + z * mn
                for i in range(mn):
                    o[i] = o[i] + t[i]
    finally:
        if t != tbuf:
            PyMem_Free(t)
        if scratch != sbuf:
            PyMem_Free(scratch)
    return res


cdef inline object _transpose(cnp.ndarray w):
    # w.T without the attribute lookup
    return cnp.PyArray_Transpose(w, NULL)

