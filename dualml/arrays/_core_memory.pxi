# Memory -- part of the DualArray core (dualml/arrays/_core.pyx, which
# includes this file; one extension module, so these cdef functions call each
# other and read the type's C fields directly).
#
# Where results live: the pool of large blocks (design note e. of _core.pyx),
# the calculus API's per-buffer budget, lazy small results and the cache of
# their blocks (note d.), and _Parts, one operand's components read from
# either storage.

# ---------------------------------------------------------------------------
# The buffer pool

cdef enum:
    POOL_SLOTS = 16
    POOL_MIN = 1 << 17          # 128 KiB: glibc's default mmap threshold

cdef void *_pool_ptr[POOL_SLOTS]
cdef Py_ssize_t _pool_size[POOL_SLOTS]
cdef int _pool_n = 0
cdef Py_ssize_t _pool_bytes = 0
cdef Py_ssize_t _pool_limit = 256 << 20


cdef void *_pool_get(Py_ssize_t nbytes) noexcept:
    # the most recently released block of exactly this size, else malloc
    global _pool_n, _pool_bytes
    cdef int i, j
    cdef void *p
    for i in range(_pool_n - 1, -1, -1):
        if _pool_size[i] == nbytes:
            p = _pool_ptr[i]
            for j in range(i, _pool_n - 1):
                _pool_ptr[j] = _pool_ptr[j + 1]
                _pool_size[j] = _pool_size[j + 1]
            _pool_n -= 1
            _pool_bytes -= nbytes
            return p
    return malloc(nbytes)


cdef void _pool_evict_oldest() noexcept:
    global _pool_n, _pool_bytes
    cdef int j
    free(_pool_ptr[0])
    _pool_bytes -= _pool_size[0]
    for j in range(_pool_n - 1):
        _pool_ptr[j] = _pool_ptr[j + 1]
        _pool_size[j] = _pool_size[j + 1]
    _pool_n -= 1


cdef void _pool_put(void *p, Py_ssize_t nbytes) noexcept:
    global _pool_n, _pool_bytes
    if nbytes > _pool_limit:
        free(p)
        return
    while _pool_n > 0 and (_pool_n == POOL_SLOTS or _pool_bytes + nbytes > _pool_limit):
        _pool_evict_oldest()
    _pool_ptr[_pool_n] = p
    _pool_size[_pool_n] = nbytes
    _pool_n += 1
    _pool_bytes += nbytes


def set_pool_limit(Py_ssize_t nbytes):
    """set_pool_limit(nbytes) -> int

    Bound the bytes the array buffer pool may keep for reuse (default 256
    MiB, or the environment variable DUALML_POOL_BYTES); 0 turns the pool
    off and frees what it holds.  Returns the previous limit.

    The pool keeps blocks of at least 128 KiB that DualArray operations
    allocated and that are no longer referenced (at most 16 blocks), so the
    next operation of the same size reuses pages the process already has
    instead of faulting in fresh ones.

    Examples
    --------
    >>> from dualml.arrays import set_pool_limit
    >>> old = set_pool_limit(0)
    >>> _ = set_pool_limit(old)
    """
    global _pool_limit
    if nbytes < 0:
        raise ValueError(f"set_pool_limit: nbytes must be >= 0, got {nbytes}")
    old = _pool_limit
    _pool_limit = nbytes
    while _pool_n > 0 and _pool_bytes > _pool_limit:
        _pool_evict_oldest()
    return old


def get_pool_limit():
    """get_pool_limit() -> int

    The current limit of the array buffer pool in bytes (see set_pool_limit).
    """
    return _pool_limit


def copy_pooled(a):
    """copy_pooled(a) -> ndarray

    A C-contiguous float64 copy of the float64 array `a`, on a pooled block
    when large (see set_pool_limit): for the calculus functions' private
    copy of the point.
    """
    cdef cnp.ndarray src = <cnp.ndarray?>a
    if cnp.PyArray_TYPE(src) != cnp.NPY_DOUBLE or cnp.PyArray_NDIM(src) > DUALML_MAXD:
        return np.array(a, dtype=np.float64)
    out = _empty(cnp.PyArray_NDIM(src), cnp.PyArray_DIMS(src))
    cnp.PyArray_CopyInto(out, src)
    return out


def hessian_pass(f, cnp.ndarray x, tuple args, cnp.ndarray seed, unsigned long long tag,
                 bint tri=False):
    """hessian_pass(f, x, args, seed, tag, tri=False) -> list or tuple

    One pass of hessian's second-order rows over all n = x.size directions
    (dualml._arraycalc; seed is the read-only ``[I; 0]``, shape ``(n + h,
    n)`` with h = n*n rows for the full block, n(n+1)/2 for the upper
    triangle with ``tri``).  Returns ``[value, g, H]`` -- a 0-d array, the
    gradient (n,) and the Hessian (n, n), filled symmetric from the
    triangle -- when f returns a scalar DualArray of this pass, else
    ``(r,)`` with f's result for the caller to judge.  A result that is (a
    view of) the seed is copied.
    """
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef cnp.npy_intp dims[2]
    cdef cnp.npy_intp strides[2]
    cdef DualArray R
    cdef cnp.ndarray d, H
    cdef char *lo
    cdef char *hi
    cdef object o2 = (n, 0, n)
    if tri:
        o2 = (n, 0, n, True)
    sd = seed if cnp.PyArray_NDIM(x) == 1 else seed.reshape(
        (cnp.PyArray_DIMS(seed)[0],) + (<object>x).shape)
    r = f(_make(x, sd, tag, o2), *args)
    if type(r) is not DualArray:
        return (r,)
    R = <DualArray>r
    rv = _V(R)
    rd = _D(R)
    if not (R._tag == tag and type(rv) is ndarray and cnp.PyArray_NDIM(<cnp.ndarray>rv) == 0
            and type(rd) is ndarray and (R._o2 is o2 or R._o2 == o2)):
        return (r,)
    d = <cnp.ndarray>rd
    if (cnp.PyArray_NDIM(d) != 1 or cnp.PyArray_STRIDES(d)[0] != 8
            or cnp.PyArray_DIMS(d)[0] != n + (n * (n + 1) // 2 if tri else n * n)):
        return (r,)
    lo = <char *>cnp.PyArray_DATA(seed)
    hi = lo + cnp.PyArray_NBYTES(seed)
    if lo <= <char *>cnp.PyArray_DATA(d) < hi:
        d = cnp.PyArray_NewCopy(d, cnp.NPY_CORDER)  # f returned its input
    dims[0] = dims[1] = n
    strides[0] = 8 * n
    strides[1] = 8
    if tri:
        H = cnp.PyArray_EMPTY(2, dims, cnp.NPY_DOUBLE, 0)
        _fill_symmetric(n, <double *>cnp.PyArray_DATA(d) + n, <double *>cnp.PyArray_DATA(H))
    else:
        H = _view(d, 2, dims, strides, 8 * n)
    return [rv, _view(d, 1, dims, strides + 1, 0), H]


cdef void _fill_symmetric(Py_ssize_t n, const double *t, double *H) noexcept:
    # H (n, n) C order from its upper triangle t, rows (a, b >= a) a major
    cdef Py_ssize_t a, b
    for a in range(n):
        for b in range(a, n):
            H[a * n + b] = t[0]
            H[b * n + a] = t[0]
            t += 1


def _pool_state():
    """(blocks, bytes) the pool holds now (for tests)."""
    return _pool_n, _pool_bytes


_env = _os.environ.get("DUALML_POOL_BYTES", "").strip()
if _env:
    set_pool_limit(int(_env))


@cython.final
@cython.freelist(32)
cdef class _Buffer:
    """Owner of a pooled data block: the base of the ndarrays made on it."""
    cdef void *ptr
    cdef Py_ssize_t nbytes

    def __dealloc__(self):
        if self.ptr != NULL:
            PyTraceMalloc_Untrack(TRACE_DOMAIN, <size_t>self.ptr)
            _pool_put(self.ptr, self.nbytes)
            self.ptr = NULL


cdef cnp.dtype _F64 = np.dtype(np.float64)


cdef inline object _array_on(int nd, cnp.npy_intp *dims, cnp.npy_intp *strides,
                             void *data, int flags):
    # PyArray_NewFromDescr steals a reference to the descriptor
    Py_INCREF(_F64)
    return _new_from_descr(<PyTypeObject *>ndarray, <void *>_F64, nd, dims,
                           strides, data, flags, NULL)


# The calculus API's budget for one buffer (per thread): a pass of too many
# directions stops at its first over-budget buffer, before touching the memory,
# and is run again with fewer (dualml._arraycalc).  None: no budget.
_budget = _threading.local()


class BufferBudgetExceeded(MemoryError):
    """A DualArray buffer larger than the calculus API's per-buffer budget."""

    def __init__(self, nbytes, budget):
        super().__init__(f"a DualArray buffer of {nbytes} bytes exceeds the budget of "
                         f"{budget} bytes")
        self.nbytes, self.budget = nbytes, budget


def set_buffer_budget(budget):
    """Set this thread's per-buffer budget (bytes, or None); returns the old one."""
    old = getattr(_budget, "limit", None)
    _budget.limit = budget
    return old


cdef int _check_budget(Py_ssize_t n) except -1:
    limit = getattr(_budget, "limit", None)
    if limit is not None and n > <Py_ssize_t>limit:
        raise BufferBudgetExceeded(n, limit)
    return 0


cdef inline int _check_product(Py_ssize_t k, Py_ssize_t a, Py_ssize_t b) except -1:
    # k tangent rows of an (a, b) product, counted in double (no integer overflow)
    cdef double nbytes = 8.0 * <double>k * <double>a * <double>b
    if nbytes >= POOL_MIN:
        _check_budget(<Py_ssize_t>nbytes if nbytes < 9.0e18 else <Py_ssize_t>9e18)
    return 0


cdef cnp.ndarray _empty(int nd, cnp.npy_intp *dims):
    """A C-contiguous float64 array; large ones on a pooled block."""
    cdef Py_ssize_t n = 8
    cdef int i
    cdef _Buffer buf
    cdef void *p
    for i in range(nd):
        n *= dims[i]
    if n < POOL_MIN or _pool_limit == 0:
        if n >= POOL_MIN:
            _check_budget(n)
        return cnp.PyArray_EMPTY(nd, dims, cnp.NPY_DOUBLE, 0)
    _check_budget(n)
    p = _pool_get(n)
    if p == NULL:
        raise MemoryError(f"cannot allocate {n} bytes for a DualArray operation")
    try:
        buf = _Buffer.__new__(_Buffer)
    except BaseException:
        free(p)
        raise
    buf.ptr = p
    buf.nbytes = n
    PyTraceMalloc_Track(TRACE_DOMAIN, <size_t>p, <size_t>n)
    arr = _array_on(nd, dims, NULL, p, cnp.NPY_ARRAY_CARRAY)
    cnp.set_array_base(arr, buf)
    return arr


cdef inline cnp.ndarray _empty_rows(Py_ssize_t k, int nd, cnp.npy_intp *dims):
    # a tangent output: (k,) + dims
    cdef cnp.npy_intp full[DUALML_MAXD + 1]
    cdef int i
    full[0] = k
    for i in range(nd):
        full[i + 1] = dims[i]
    return _empty(nd + 1, full)


@cython.final
@cython.freelist(64)
cdef class _Block:
    """Owner of a small block that holds an operation's values and tangent rows."""
    cdef void *ptr

    def __dealloc__(self):
        PyMem_Free(self.ptr)
        self.ptr = NULL


cdef struct _Lazy:
    # the head of a lazy result's block: its layout, then (in the same block)
    # the four shape arrays and the data, values first, rows back to back
    Py_ssize_t size                 # the block's bytes (head included)
    int nd
    cnp.npy_intp k
    cnp.npy_intp n                  # values: the product of dims
    cnp.npy_intp *dims              # (nd,)
    cnp.npy_intp *vst               # (nd,) C-contiguous strides of the values
    cnp.npy_intp *ddims             # (nd + 1,): (k,) + dims
    cnp.npy_intp *dst               # (nd + 1,): the rows' strides
    double *v
    double *d


cdef struct _Parts:
    # one operand's components, from either storage (borrowed pointers: the
    # owner must stay alive, see _parts)
    char *v
    char *d                         # NULL: no tangents (a constant ndarray)
    int nd
    cnp.npy_intp *dims
    cnp.npy_intp *vst
    cnp.npy_intp *dst               # dst[0] the row stride, dst + 1 per axis
    cnp.npy_intp k


cdef inline void _parts(DualArray x, _Parts *P) noexcept:
    # x is _flat.  The pointers stay valid while x lives: a lazy x's block is
    # x._blk (kept after its views are made); an eager x's ndarrays could be
    # replaced by Python code run meanwhile (a collection run by an
    # allocation, another thread), so a caller that allocates before using
    # the pointers holds x._vo and x._do in locals
    cdef _Lazy *L = x._lz
    if L != NULL:
        P.v = <char *>L.v
        P.d = <char *>L.d
        P.nd = L.nd
        P.dims = L.dims
        P.vst = L.vst
        P.dst = L.dst
        P.k = L.k
    else:
        P.v = <char *>cnp.PyArray_DATA(<cnp.ndarray>x._vo)
        P.d = <char *>cnp.PyArray_DATA(<cnp.ndarray>x._do)
        P.nd = cnp.PyArray_NDIM(<cnp.ndarray>x._vo)
        P.dims = cnp.PyArray_DIMS(<cnp.ndarray>x._vo)
        P.vst = cnp.PyArray_STRIDES(<cnp.ndarray>x._vo)
        P.dst = cnp.PyArray_STRIDES(<cnp.ndarray>x._do)
        P.k = cnp.PyArray_DIMS(<cnp.ndarray>x._do)[0]


cdef inline void _array_parts(cnp.ndarray a, _Parts *P) noexcept:
    # a constant float64 operand (no tangents)
    P.v = <char *>cnp.PyArray_DATA(a)
    P.d = NULL
    P.nd = cnp.PyArray_NDIM(a)
    P.dims = cnp.PyArray_DIMS(a)
    P.vst = cnp.PyArray_STRIDES(a)
    P.dst = NULL
    P.k = 0


cdef inline Py_ssize_t _size(_Parts *P) noexcept:
    cdef Py_ssize_t n = 1
    cdef int i
    for i in range(P.nd):
        n *= P.dims[i]
    return n


cdef inline bint _contig_items(_Parts *P, Py_ssize_t itemsize) noexcept:
    # the values are C-contiguous items of that size (axes of length 1 may
    # have any stride)
    cdef int i
    cdef Py_ssize_t s = itemsize
    for i in range(P.nd - 1, -1, -1):
        if P.dims[i] != 1 and P.vst[i] != s:
            return False
        s *= P.dims[i]
    return True


cdef inline bint _vcontig(_Parts *P) noexcept:
    return _contig_items(P, 8)


cdef inline bint _rcontig(_Parts *P) noexcept:
    # each tangent row is C-contiguous, rows a whole number of elements
    # apart (the row stride may be anything else)
    cdef int i
    cdef Py_ssize_t s = 8
    for i in range(P.nd - 1, -1, -1):
        if P.dims[i] != 1 and P.dst[i + 1] != s:
            return False
        s *= P.dims[i]
    return P.dst[0] % 8 == 0


cdef int _alloc_result(DualArray r, int nd, cnp.npy_intp *dims, Py_ssize_t k) except -1:
    # r's values: an uninitialized C-contiguous float64 array of shape dims,
    # its tangents (k,) + dims.  Below POOL_MIN bytes in all, r is lazy: one
    # _Block holds the layout and both (no ndarray made, see d.); larger
    # ones come from _empty (the pool and the budget), each on its own block.
    cdef double nbytes = 8.0 * <double>(k + 1)
    cdef Py_ssize_t n = 1, head
    cdef int i
    cdef void *p
    cdef _Lazy *L
    cdef cnp.npy_intp s
    for i in range(nd):
        n *= dims[i]
        nbytes *= <double>dims[i]
    if nbytes >= POOL_MIN or nd >= DUALML_MAXD:
        r._vo = _empty(nd, dims)
        r._do = _empty_rows(k, nd, dims)
        return 0
    # the head and 4 nd + 2 shape entries, rounded up to 16 bytes
    head = (<Py_ssize_t>sizeof(_Lazy) + (4 * nd + 2) * <Py_ssize_t>sizeof(cnp.npy_intp)
            + 15) // 16 * 16
    p = _lazy_get(head + <Py_ssize_t>nbytes)
    if p == NULL:
        raise MemoryError(f"cannot allocate {nbytes:.0f} bytes for a DualArray operation")
    L = <_Lazy *>p
    L.size = head + <Py_ssize_t>nbytes
    L.nd = nd
    L.k = k
    L.n = n
    L.dims = <cnp.npy_intp *>(<char *>p + sizeof(_Lazy))
    L.vst = L.dims + nd
    L.ddims = L.vst + nd
    L.dst = L.ddims + nd + 1
    L.v = <double *>(<char *>p + head)
    L.d = L.v + n
    s = 8
    for i in range(nd - 1, -1, -1):
        L.dims[i] = dims[i]
        L.ddims[i + 1] = dims[i]
        L.vst[i] = s
        L.dst[i + 1] = s
        s *= dims[i]
    L.ddims[0] = k
    L.dst[0] = s
    r._mem = p
    r._lz = L
    return 0


# Lazy blocks that dead arrays released, for the next result of the same
# size (a chain of small operations then reuses one or two blocks instead of
# a malloc and a free per operation): at most LAZY_SLOTS blocks of at most
# LAZY_MAX bytes each (512 KiB in all at most), touched with the GIL held
# only (DualArray.__dealloc__ and _alloc_result).  64 KiB covers a 10 x 10
# matrix with 10 directions (8.8 KB), whose malloc and free cost as much as
# negating it (measured; 8 KiB, the earlier limit, left it out).
cdef enum:
    LAZY_SLOTS = 8
    LAZY_MAX = 1 << 16

_LAZY_LIMITS = (LAZY_SLOTS, LAZY_MAX)  # (for tests)

cdef void *_lazy_ptr[LAZY_SLOTS]
cdef Py_ssize_t _lazy_size[LAZY_SLOTS]
cdef int _lazy_n = 0


cdef inline void *_lazy_get(Py_ssize_t nbytes) noexcept:
    # the most recently released block of exactly this size, else PyMem_Malloc
    global _lazy_n
    cdef int i
    cdef void *p
    for i in range(_lazy_n - 1, -1, -1):
        if _lazy_size[i] == nbytes:
            p = _lazy_ptr[i]
            _lazy_n -= 1
            _lazy_ptr[i] = _lazy_ptr[_lazy_n]
            _lazy_size[i] = _lazy_size[_lazy_n]
            return p
    return PyMem_Malloc(<size_t>nbytes)


cdef inline void _lazy_put(void *p) noexcept:
    # a dead array's block (its head still valid): kept if there is room
    global _lazy_n
    cdef Py_ssize_t nbytes = (<_Lazy *>p).size
    if _lazy_n < LAZY_SLOTS and nbytes <= LAZY_MAX:
        _lazy_ptr[_lazy_n] = p
        _lazy_size[_lazy_n] = nbytes
        _lazy_n += 1
    else:
        PyMem_Free(p)


def _lazy_address(DualArray x):
    """The address of a lazy x's block, 0 if x is not lazy (for tests)."""
    return <size_t>x._lz


def _lazy_state():
    """(blocks, bytes) the small-block cache holds now (for tests)."""
    cdef Py_ssize_t nbytes = 0
    cdef int i
    for i in range(_lazy_n):
        nbytes += _lazy_size[i]
    return _lazy_n, nbytes


cdef object _owner(DualArray x):
    # the _Block that owns x's lazy memory, made on first need (an ndarray
    # on the block needs a Python owner) and kept by x for life
    cdef _Block b
    if x._blk is None:
        b = _Block.__new__(_Block)      # (may run Python code: a collection)
        if x._blk is None:              # (not made meanwhile)
            b.ptr = x._mem
            x._mem = NULL
            x._blk = b
    return x._blk


cdef int _materialize(DualArray x) except -1:
    # a lazy x's two ndarrays, views of its block (which x keeps)
    cdef _Lazy *L = x._lz
    owner = _owner(x)
    v = _array_on(L.nd, L.dims, NULL, L.v, cnp.NPY_ARRAY_CARRAY)
    cnp.set_array_base(v, owner)
    d = _array_on(L.nd + 1, L.ddims, NULL, L.d, cnp.NPY_ARRAY_CARRAY)
    cnp.set_array_base(d, owner)
    if x._lz == L:                  # (another thread may have been first)
        x._vo = v
        x._do = d
        x._lz = NULL
    return 0


cdef inline object _V(DualArray x):
    # the values as an object (an ndarray, or a DualArray when nested)
    if x._lz != NULL:
        _materialize(x)
    return x._vo


cdef inline object _D(DualArray x):
    if x._lz != NULL:
        _materialize(x)
    return x._do


cdef cnp.ndarray _view(cnp.ndarray base, int nd, cnp.npy_intp *dims,
                       cnp.npy_intp *strides, Py_ssize_t offset):
    # a view of base (writeable if base is), NumPy's flags computed
    arr = _array_on(nd, dims, strides, <char *>cnp.PyArray_DATA(base) + offset,
                    cnp.PyArray_FLAGS(base) & cnp.NPY_ARRAY_WRITEABLE)
    cnp.set_array_base(arr, base)
    return arr
