# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: binding=True, embedsignature=True, initializedcheck=False
"""The DualArray extension type: its storage in C fields, the hot operations in C.

Design
------
a. A DualArray is five fields (see d. for how the first two are stored):
   ``_v`` the values (a float64 ndarray of any
   shape, or a DualArray of an outer level when nested), ``_d`` the tangent
   rows ``(k,) + shape`` (direction axis first), ``_tag`` the perturbation
   tag, ``_o2`` the layout ``(k, i0, i1)`` or ``(k, i0, i1, True)`` (the
   upper triangle) of hessian's second-order rows (None for first order;
   see arrays._second_order), and ``_eye``, the read-only identity seed of a
   jacobian pass while ``_d`` is that very array, so ``W @ x`` can skip a
   product with I -- state on the object, so concurrent passes in a thread
   pool never see each other's seed.
b. Fast paths, in this file: the operators and in-place operators,
   comparisons, the rule table's ufuncs and ``dualml.<f>``, basic indexing,
   full sums, products with constant matrices, and one hessian pass
   (``hessian_pass``), for DualArrays whose components are aligned float64
   ndarrays (first order, and hessian's rows, whose curvature terms come
   from ``_kernels.o2_*_c``).  Operands are classified in C (DualArray /
   float64 ndarray / Python or NumPy scalar), broadcasting is 0-strides
   handed to the loop drivers of ``dualml._kernels`` (no views), and the
   outputs are allocated here.
c. Everything else -- nested levels, fancy indexing, the NumPy functions,
   reductions over axes, linear algebra -- is the Python implementation in
   this package, installed at import by ``_install``.  Both give the same
   bits; the tests compare them (tests/test_array_core.py).
d. A small result (under POOL_MIN bytes) is born lazy: its values and
   tangent rows live in one raw block (shape header, then the data) that
   the array owns, and ``_vo``/``_do`` stay None until Python asks for
   ``_v``/``_d``, which hands the block to a ``_Block`` owner and makes the
   two ndarray views on it.  A chain of fast-path operations never builds
   them: at 10 elements x 10 directions the views and their owner cost more
   than the operation's kernel.  The fast paths read either state through
   ``_parts``; the block lives as long as the array (its owner is kept for
   life), so pointers taken from it stay valid whatever Python runs
   meanwhile.
   Dead arrays hand their blocks to a small cache (at most LAZY_SLOTS
   blocks of at most LAZY_MAX bytes) that the next result of the same size
   takes: a chain of small operations needs no malloc and free each.
e. Buffers of at least POOL_MIN bytes come from a small pool of blocks that
   dead arrays released (``_Buffer``): a chain of large operations reuses
   pages the process already touched instead of faulting in fresh ones
   (glibc hands large blocks back to the OS on free, so every temporary of
   a 10^6-element chain would otherwise cost its page faults again).  The
   pool is bounded (POOL_SLOTS blocks, ``set_pool_limit`` bytes in all) and
   only touched with the GIL held.
"""

cimport cython
cimport numpy as cnp
from cpython.object cimport (PyObject, PyTypeObject, PyObject_RichCompare, PyObject_Call,
                             Py_EQ, Py_NE, Py_LT, Py_LE, Py_GT, Py_GE)
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsDouble
from cpython.slice cimport PySlice_Unpack, PySlice_AdjustIndices
from libc.stdlib cimport malloc, free
from libc.string cimport memmove, memcpy
from cpython.mem cimport PyMem_Malloc, PyMem_Free

from dualml cimport _kernels as K

import os as _os
import threading as _threading

import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    # (not in Cython's numpy declarations) both steal nothing but the descr
    object _new_from_descr "PyArray_NewFromDescr"(
        PyTypeObject *subtype, void *descr, int nd, cnp.npy_intp *dims,
        cnp.npy_intp *strides, void *data, int flags, PyObject *obj)
    object PyArray_MatrixProduct2(object a, object b, PyObject *out)

cdef extern from "Python.h":
    void PyErr_Clear()
    # tracemalloc sees the pool's blocks while arrays use them, as it sees
    # NumPy's own data (which NumPy reports the same way)
    int PyTraceMalloc_Track(unsigned int domain, size_t ptr, size_t size)
    int PyTraceMalloc_Untrack(unsigned int domain, size_t ptr)

cdef enum:
    TRACE_DOMAIN = 0x64756c6d       # "dulm": dualml's pooled data blocks

cdef extern from *:
    """
    #define DUALML_MAXD 32
    """
    enum: DUALML_MAXD

cdef type ndarray = cnp.ndarray
cdef type _np_float64 = np.float64
cdef object _np_add_accumulate = np.add.accumulate

__all__ = ["DualArray", "set_pool_limit", "get_pool_limit", "copy_pooled"]


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
# LAZY_MAX bytes each, touched with the GIL held only (DualArray.__dealloc__
# and _alloc_result).
cdef enum:
    LAZY_SLOTS = 8
    LAZY_MAX = 1 << 13

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


# ---------------------------------------------------------------------------
# The Python implementation (installed by dualml.arrays at import)

cdef object _py = None
cdef list _BINARY_NAMES = []
cdef dict _UFUNC1 = {}          # ufunc -> unary rule index
cdef dict _UFUNC2 = {}          # ufunc -> binary rule index
cdef object _np_matmul = np.matmul
cdef dict _NAME1 = {}           # dualml function name -> unary rule index
cdef dict _NAME2 = {}           # -> binary rule index
cdef dict _DEFAULT_P = {}       # unary rule index -> default parameter
# Second order: does the rule need a curvature term?  [rule] for unary, and
# for binary with both operands dual / only a dual / only b dual.
cdef bint _O2U[128]
cdef bint _O2B[128]
cdef bint _O2BA[128]
cdef bint _O2BB[128]
cdef Py_ssize_t R_ADD, R_SUB, R_MUL, R_DIV, R_POW, R_SQUARE, R_NEG, R_ABS, R_MAX, R_MIN


def _install(py, ufuncs, o2_unary, o2_binary, o2_const_a, o2_const_b):
    """Connect the Python implementation (the fallbacks) and the rule maps."""
    global _py, _BINARY_NAMES, R_ADD, R_SUB, R_MUL, R_DIV, R_POW, R_SQUARE, R_NEG, R_ABS
    global R_MAX, R_MIN
    cdef Py_ssize_t i
    _py = py
    from dualml._kernels import UNARY, BINARY
    if len(UNARY) > 128 or len(BINARY) > 128:
        raise RuntimeError("dualml.arrays._core: more than 128 rules of a kind")
    from dualml._kernels import PARAM_DEFAULTS
    for i, name in enumerate(UNARY):
        _O2U[i] = name in o2_unary
        _NAME1[name] = i
        if name in PARAM_DEFAULTS:
            _DEFAULT_P[i] = float(PARAM_DEFAULTS[name])
    _BINARY_NAMES = list(BINARY)
    for i, name in enumerate(BINARY):
        _NAME2[name] = i
        _O2B[i] = name in o2_binary
        _O2BA[i] = name in o2_const_a
        _O2BB[i] = name in o2_const_b
    for uf, name in ufuncs.items():
        if name in UNARY:
            _UFUNC1[uf] = UNARY.index(name)
        else:
            _UFUNC2[uf] = BINARY.index(name)
    R_ADD = K._binary_index("add")
    R_SUB = K._binary_index("subtract")
    R_MUL = K._binary_index("multiply")
    R_DIV = K._binary_index("divide")
    R_POW = K._binary_index("power")
    R_SQUARE = K._unary_index("square")
    R_NEG = K._unary_index("negative")
    R_ABS = K._unary_index("absolute")
    R_MAX = K._binary_index("maximum")
    R_MIN = K._binary_index("minimum")


# ---------------------------------------------------------------------------
# Construction

cdef inline DualArray _make(object v, object d, unsigned long long tag, object o2):
    # (fields already None are left alone: every INCREF/DECREF of None is a
    # write to one shared cache line, a chain that costs more than the rest
    # of a small operation's bookkeeping)
    cdef DualArray r = DualArray.__new__(DualArray)
    if v is not None:
        r._vo = v
    if d is not None:
        r._do = d
    r._tag = tag
    if o2 is not None:
        r._o2 = o2
    return r


def _new(v, d, tag, o2):
    """The internal constructor: no validation (the operations guarantee it)."""
    return _make(v, d, tag, o2)


def _rebuild(v, d, tag, o2):
    """Unpickle a DualArray."""
    return _make(v, d, tag, o2)


cdef inline bint _flat(DualArray x) noexcept:
    # components are aligned float64 ndarrays (first order, or hessian's
    # rows); an unaligned component (a view of a byte buffer) takes the
    # Python path, whose kernels copy it first
    return x._lz != NULL or (
        type(x._vo) is ndarray and type(x._do) is ndarray
        and cnp.PyArray_ISALIGNED(<cnp.ndarray>x._vo)
        and cnp.PyArray_ISALIGNED(<cnp.ndarray>x._do))


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


# ---------------------------------------------------------------------------
# Reductions and products

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
    s = _pairwise(X.v, n, 8)
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
            o[j] = _pairwise(X.d + j * rs, n, 8)
    return res


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


cdef void _divide_all(double *p, Py_ssize_t n, double c) noexcept:
    cdef Py_ssize_t i
    for i in range(n):
        p[i] = p[i] / c


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


cdef object _cumsum_c(DualArray x, object axis):
    """x.cumsum(axis) for a lazy x, or a small eager x with contiguous
    components (copied into one block): np.add.accumulate (np.cumsum's
    ufunc) once over the (k + 1, ...) block along the axis, which adds each
    lane in order as it does the two components apart (the Python path);
    axis None on the flattened block.  NotImplemented otherwise."""
    cdef _Parts X, O
    cdef cnp.npy_intp full[DUALML_MAXD + 1]
    cdef Py_ssize_t n, ax
    cdef int i, nd
    cdef DualArray res
    if not _flat(x):
        return NotImplemented
    if x._lz == NULL:
        hv = x._vo
        hd = x._do
    _parts(x, &X)
    nd = X.nd
    n = _size(&X)
    if nd > DUALML_MAXD or n == 0 or not (_vcontig(&X) and _rcontig(&X)) \
            or X.dst[0] != 8 * n:
        return NotImplemented
    if axis is None:
        full[0] = X.k + 1
        full[1] = n
        nd = 1
        ax = 1
    else:
        if type(axis) is not int or nd == 0:
            return NotImplemented
        try:
            ax = axis
        except OverflowError:
            return NotImplemented
        if not -nd <= ax < nd:
            return NotImplemented       # the Python path raises NumPy's error
        ax = (ax + nd if ax < 0 else ax) + 1
        full[0] = X.k + 1
        for i in range(nd):
            full[i + 1] = X.dims[i]
    blk = _block_of(x, &X, nd, full)
    if blk is None:
        return NotImplemented
    r = _np_add_accumulate(blk, ax)
    if not (type(r) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>r) == cnp.NPY_DOUBLE
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>r)):
        return NotImplemented
    if _any_nan(<const char *>cnp.PyArray_DATA(<cnp.ndarray>r), n):
        return NotImplemented           # (the Python path: _shape._domain_nans)
    res = _make(None, None, x._tag, x._o2)
    _alloc_result(res, nd, cnp.PyArray_DIMS(<cnp.ndarray>r) + 1, X.k)
    _parts(res, &O)
    memcpy(O.v, cnp.PyArray_DATA(<cnp.ndarray>r), <size_t>(8 * n))
    if X.k:
        memcpy(O.d, <char *>cnp.PyArray_DATA(<cnp.ndarray>r) + 8 * n, <size_t>(8 * n * X.k))
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
# (BLAS).  At 10 x 10 with 10 directions the loop costs about a third of
# NumPy's call.
cdef enum:
    SMALL_KN = 4096
    SCRATCH = 512


cdef inline bint _f64_aligned(object o) noexcept:
    return (type(o) is ndarray and cnp.PyArray_TYPE(<cnp.ndarray>o) == cnp.NPY_DOUBLE
            and cnp.PyArray_ISALIGNED(<cnp.ndarray>o))


cdef object _tprod(object a, object b):
    """a @ b by the rule above, for float64 operands of 2 or 3 dimensions
    (a leading batch axis on one of them or both, of one length); other
    operands to np.matmul."""
    cdef cnp.ndarray A, B, out
    cdef int na, nb
    cdef Py_ssize_t M, Kd, N, nbatch, p, sa = 0, sb = 0
    cdef cnp.npy_intp dims[3]
    cdef double buf[SCRATCH]
    cdef double *scratch = buf
    cdef double *o
    cdef const char *pa
    cdef const char *pb
    cdef Py_ssize_t a0, a1, b0, b1
    if not (_f64_aligned(a) and _f64_aligned(b)):
        return _np_matmul(a, b)
    A = <cnp.ndarray>a
    B = <cnp.ndarray>b
    na = cnp.PyArray_NDIM(A)
    nb = cnp.PyArray_NDIM(B)
    if not (2 <= na <= 3 and 2 <= nb <= 3):
        return _np_matmul(a, b)
    M = cnp.PyArray_DIMS(A)[na - 2]
    Kd = cnp.PyArray_DIMS(A)[na - 1]
    N = cnp.PyArray_DIMS(B)[nb - 1]
    if cnp.PyArray_DIMS(B)[nb - 2] != Kd or Kd * N > SMALL_KN:
        return _np_matmul(a, b)
    nbatch = 1
    if na == 3:
        nbatch = cnp.PyArray_DIMS(A)[0]
        sa = cnp.PyArray_STRIDES(A)[0]
    if nb == 3:
        if na == 3 and cnp.PyArray_DIMS(B)[0] != nbatch:
            return _np_matmul(a, b)
        nbatch = cnp.PyArray_DIMS(B)[0]
        sb = cnp.PyArray_STRIDES(B)[0]
    dims[0] = nbatch
    dims[1] = M
    dims[2] = N
    if na == 3 or nb == 3:
        out = _empty(3, dims)
    else:
        out = _empty(2, dims + 1)
    a0 = cnp.PyArray_STRIDES(A)[na - 2]
    a1 = cnp.PyArray_STRIDES(A)[na - 1]
    b0 = cnp.PyArray_STRIDES(B)[nb - 2]
    b1 = cnp.PyArray_STRIDES(B)[nb - 1]
    if (a0 | a1 | b0 | b1 | sa | sb) & 7:
        return _np_matmul(a, b)         # (strides of axes of length 1 may be odd)
    a0 //= 8
    a1 //= 8
    b0 //= 8
    b1 //= 8
    if b1 != 1 and N > 1 and Kd * N > SCRATCH:
        scratch = <double *>PyMem_Malloc(<size_t>(Kd * N) * sizeof(double))
        if scratch == NULL:
            raise MemoryError()
    pa = <const char *>cnp.PyArray_DATA(A)
    pb = <const char *>cnp.PyArray_DATA(B)
    o = <double *>cnp.PyArray_DATA(out)
    # (the GIL kept: releasing it costs about what a small product does)
    for p in range(nbatch):
        K.matmul_small(M, Kd, N, <const double *>(pa + p * sa), a0, a1,
                       <const double *>(pb + p * sb), b0, b1, o + p * M * N, scratch)
    if scratch != buf:
        PyMem_Free(scratch)
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


cdef object _matmul(object a, object b):
    """a @ b with one operand a constant matrix (2-d float64 ndarray) and the
    other a 1-d or 2-d DualArray of float64 components (first order or
    hessian's rows: the product is linear, so any row layout passes through);
    NotImplemented otherwise."""
    cdef DualArray x
    cdef cnp.ndarray w, v, d
    r = _dot11(a, b)
    if r is not NotImplemented:
        return r
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
        val = _dot2(w, v)
        if _nan_in(val):
            return NotImplemented       # (the Python path: _shape._domain_nans)
        if cnp.PyArray_NDIM(v) == 1:
            if x._eye is not None and x._eye is x._do:
                # W @ I: the tangent rows are W's columns (no O(n^3) product)
                return _make(val, cnp.PyArray_NewCopy(_transpose(w), cnp.NPY_CORDER),
                             x._tag, None)
            # the rows of (W D')' = D W', each row a contiguous (m,) vector
            return _make(val, _tprod(d, _transpose(w)), x._tag, x._o2)
        return _make(val, _tprod(w, d), x._tag, x._o2)
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
        val = _dot2(v, w)
        if _nan_in(val):
            return NotImplemented       # (the Python path: _shape._domain_nans)
        return _make(val, _tprod(d, w), x._tag, x._o2)
    return NotImplemented


cdef inline object _transpose(cnp.ndarray w):
    # w.T without the attribute lookup
    return cnp.PyArray_Transpose(w, NULL)


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


# ---------------------------------------------------------------------------
# NumPy's ufunc protocol
#
# NumPy calls type(x).__array_ufunc__(x, ufunc, method, *inputs, **kwargs)
# with a tuple and a dict; __array_ufunc__ is the C callable of
# dualml/_ufunc_callable.h (as Dual's), which hands both as they are to
# _ufunc_entry: no inputs tuple and kwargs dict copied per call.  The rule
# of a ufunc comes from a direct-mapped cache keyed by the ufunc's address
# in front of the _UFUNC1/_UFUNC2 maps (their entries, never removed, keep
# the cached ufuncs alive; filled under the GIL).  A call with keywords,
# another method, a ufunc without a rule or operands the C paths decline
# goes to the Python implementation (_numpy_api._array_ufunc_entry).

cdef extern from "../_ufunc_callable.h":
    ctypedef object (*dualml_ufunc_impl)(object, object)
    object dualml_ufunc_new(dualml_ufunc_impl entry, const char *tp_name, const char *tp_doc)
    Py_ssize_t PyDict_GET_SIZE(object)       # kwds of a tp_call: always a dict

cdef enum:
    UF_NONE = -1
    UF_UNARY = 0 << 8               # | unary rule index
    UF_BINARY = 1 << 8              # | binary rule index
    UF_MATMUL = 2 << 8

cdef void *_UF_KEY[64]
cdef Py_ssize_t _UF_VAL[64]


cdef Py_ssize_t _ufunc_code(object uf) except -2:
    cdef size_t h = ((<size_t><void *>uf) >> 5) & 63
    cdef Py_ssize_t code
    if _UF_KEY[h] == <void *>uf:
        return _UF_VAL[h]
    if uf is _np_matmul:
        code = UF_MATMUL
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


cdef object _ufunc_entry(object args, object kwds):
    # args: (x, ufunc, method, *inputs) as NumPy (or a caller of
    # x.__array_ufunc__) passed them; kwds the keyword dict, or None
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
            if n == 1:
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
    return _py._array_ufunc_entry(t[0], t[1], t[2], t[3:], {} if kwds is None else kwds)


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
# _sum_all), np.dot with a constant 2-d float64 matrix, all contiguous
# (_matmul: BLAS, as the handler's matmul; see _dot_contiguous), and
# np.transpose / np.reshape / np.ravel as views of both components made in
# C (also .T, .transpose(), .reshape() and .ravel()), np.where with a mask
# of the result's shape, np.concatenate / np.stack along axis 0 and
# np.hstack of vectors (copy loops), np.clip (two rules); the rest, and any
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

cdef void *_AF_KEY[32]
cdef int _AF_VAL[32]
cdef dict _AF_CODES = {np.sum: AF_SUM, np.mean: AF_MEAN, np.dot: AF_DOT,
                       np.transpose: AF_TRANSPOSE, np.reshape: AF_RESHAPE,
                       np.ravel: AF_RAVEL, np.where: AF_WHERE,
                       np.concatenate: AF_CONCATENATE, np.stack: AF_STACK,
                       np.hstack: AF_HSTACK, np.clip: AF_CLIP, np.inner: AF_INNER,
                       np.prod: AF_PROD, np.max: AF_MAX, np.amax: AF_MAX, np.min: AF_MIN,
                       np.amin: AF_MIN, np.squeeze: AF_SQUEEZE}
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


cdef object _dot_contiguous(object a, object b):
    # np.dot(a, b) by _matmul when its operands are contiguous (the matrix
    # in C or F order, each component of the DualArray in C order): there
    # NumPy's dot and matmul make the same BLAS call, so the bits are those
    # of the Python handler (which uses matmul); on other strides matmul
    # may sum in another order than dot, so those stay with the handler
    cdef _Parts X
    cdef DualArray x
    if type(a) is DualArray and type(b) is ndarray:
        x = <DualArray>a
        w = b
    elif type(b) is DualArray and type(a) is ndarray:
        x = <DualArray>b
        w = a
    else:
        return NotImplemented
    if not (_flat(x) and (cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>w)
                          or cnp.PyArray_IS_F_CONTIGUOUS(<cnp.ndarray>w))):
        return NotImplemented
    _parts(x, &X)
    if not (_vcontig(&X) and _rcontig(&X)):
        return NotImplemented
    return _matmul(a, b)


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


cdef object _join0(object seq, bint stack):
    """np.concatenate(seq) (stack False) or np.stack(seq) along axis 0, for
    a list or tuple of contiguous DualArrays of one tag, row count and
    layout, of one shape (stack) or of shapes that differ in the first axis
    only (concatenate): the values, and each tangent row, copied one item
    after the other; NotImplemented otherwise (the handler then joins or
    raises NumPy's error)."""
    cdef _Parts X, O
    cdef cnp.npy_intp dims[DUALML_MAXD + 1]
    cdef Py_ssize_t m, i, k = 0, nitems, total, off, sz
    cdef int nd = 0, a
    cdef DualArray x, first, r
    cdef list items
    if type(seq) is list or type(seq) is tuple:
        items = list(seq)           # (ours: nothing can change it meanwhile)
    else:
        return NotImplemented
    nitems = len(items)
    if nitems == 0 or type(items[0]) is not DualArray:
        return NotImplemented
    first = <DualArray>items[0]
    for i in range(nitems):
        o = items[i]
        if type(o) is not DualArray:
            return NotImplemented
        x = <DualArray>o
        if x._tag != first._tag or not (x._o2 is first._o2 or x._o2 == first._o2):
            return NotImplemented
        if not _flat(x):
            return NotImplemented
        _parts(x, &X)
        if not (_vcontig(&X) and _rcontig(&X)):
            return NotImplemented
        if i == 0:
            nd = X.nd
            k = X.k
            if nd >= DUALML_MAXD - 1 or (nd == 0 and not stack):
                return NotImplemented
            for a in range(nd):
                dims[a + 1] = X.dims[a]
            dims[0] = 0
        elif X.nd != nd or X.k != k:
            return NotImplemented
        for a in range(nd):
            if X.dims[a] != dims[a + 1] and (stack or a > 0):
                return NotImplemented
        dims[0] += 1 if stack else X.dims[0]
    r = _make(None, None, first._tag, first._o2)
    if stack:
        _alloc_result(r, nd + 1, dims, k)
    else:
        dims[1] = dims[0]
        _alloc_result(r, nd, dims + 1, k)
    # the allocation may run Python code (a collection): the parts are read
    # again after it, checked, and no Python runs during the copies
    _parts(r, &O)
    total = _size(&O)
    off = 0
    for i in range(nitems):
        x = <DualArray>items[i]
        if not _flat(x):
            return NotImplemented
        _parts(x, &X)
        sz = _size(&X)
        if X.k != k or off + sz > total or not (_vcontig(&X) and _rcontig(&X)):
            return NotImplemented
        memmove(O.v + off * 8, X.v, <size_t>sz * 8)
        for m in range(k):
            memmove(O.d + (m * total + off) * 8, X.d + m * X.dst[0], <size_t>sz * 8)
        off += sz
    return r


cdef inline bint _vcontig_bytes(_Parts *P) noexcept:
    # a bool array's values are C-contiguous (1-byte elements)
    return _contig_items(P, 1)


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


cdef object _afunc_entry(object x, object func, object types, object args, object kwargs):
    global _HANDLED
    cdef int code
    cdef Py_ssize_t n
    cdef object r = NotImplemented
    if type(args) is not tuple or type(kwargs) is not dict:
        return _py._array_function(func, types, args, kwargs)
    n = PyTuple_GET_SIZE(args)
    code = _afunc_code(func)
    if (code == AF_SUM or code == AF_MEAN) and 1 <= n <= 2:
        # np.sum(x, axis) / np.mean(x, axis=..., keepdims=...): the methods
        # (their C paths) when nothing else is asked
        a = <object>PyTuple_GET_ITEM(args, 0)
        if type(a) is DualArray and _axis_kwargs(<dict>kwargs, n == 2):
            axis = <object>PyTuple_GET_ITEM(args, 1) if n == 2 else (<dict>kwargs).get("axis")
            keepdims = (<dict>kwargs).get("keepdims", False)
            if code == AF_SUM:
                return (<DualArray>a).sum(axis, keepdims)
            return (<DualArray>a).mean(axis, keepdims)
    if code != AF_NONE and n >= 1 and PyDict_GET_SIZE(kwargs) == 0:
        a = <object>PyTuple_GET_ITEM(args, 0)
        if code == AF_WHERE:
            if n == 3:
                r = _where_c(a, <object>PyTuple_GET_ITEM(args, 1),
                             <object>PyTuple_GET_ITEM(args, 2))
        elif code == AF_CONCATENATE or code == AF_STACK:
            if n == 1 or (n == 2 and type(<object>PyTuple_GET_ITEM(args, 1)) is int
                          and <object>PyTuple_GET_ITEM(args, 1) == 0):
                r = _join0(a, code == AF_STACK)
        elif code == AF_HSTACK:
            # of vectors: their concatenation
            if n == 1 and (type(a) is list or type(a) is tuple) and len(a) > 0:
                e = a[0]
                if type(e) is DualArray and _flat(<DualArray>e) and (<DualArray>e).ndim == 1:
                    r = _join0(a, False)
        elif code == AF_CLIP:
            # maximum, then minimum: the handler's two rules, by the C path
            if (n == 3 and type(a) is DualArray and <object>PyTuple_GET_ITEM(args, 1) is not None
                    and <object>PyTuple_GET_ITEM(args, 2) is not None):
                r = _binary(<Py_ssize_t>_NAME2["maximum"], a, <object>PyTuple_GET_ITEM(args, 1))
                if r is not NotImplemented:
                    r = _binary(<Py_ssize_t>_NAME2["minimum"], r,
                                <object>PyTuple_GET_ITEM(args, 2))
        elif code == AF_DOT or code == AF_INNER:
            # (of two vectors both are the inner product: _dot11's)
            if n == 2:
                r = _dot11(a, <object>PyTuple_GET_ITEM(args, 1))
                if r is NotImplemented and code == AF_DOT:
                    r = _dot_contiguous(a, <object>PyTuple_GET_ITEM(args, 1))
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
            elif code == AF_RESHAPE:
                if n == 2:
                    r = _reshaped(<DualArray>a, <object>PyTuple_GET_ITEM(args, 1))
            elif code == AF_RAVEL:
                if n == 1:
                    r = _reshaped(<DualArray>a, -1)
            elif code == AF_PROD:
                if n == 1:
                    r = _prod_all(<DualArray>a)
            elif code == AF_MAX or code == AF_MIN:
                if n == 1:
                    r = _select_all(<DualArray>a, code == AF_MAX)
            elif code == AF_SQUEEZE:
                if n == 1:
                    r = _squeezed(<DualArray>a)
        if r is not NotImplemented:
            return r
    if _HANDLED is None:
        _HANDLED = _py._HANDLED
    h = _HANDLED.get(func)
    if h is None or "out" in <dict>kwargs:
        return _py._array_function(func, types, args, kwargs)
    return PyObject_Call(h, args, kwargs)


_ARRAY_FUNCTION = dualml_afunc_new(
    _afunc_entry, "dualml.arrays._core._ArrayFunction",
    "__array_function__(self, func, types, args, kwargs)\n\n"
    "NumPy's function protocol for DualArray (a C callable bound like a method).")


# ---------------------------------------------------------------------------
# The type

@cython.final
@cython.freelist(64)
cdef class DualArray:
    """A float64 array of any shape with k tangent directions attached.

    Parameters
    ----------
    value : array_like of real numbers
        The values (integers are promoted to float64; complex is refused).
    deriv : array_like, optional
        The tangents, shape ``(k,) + value.shape`` (direction axis first), or
        ``value.shape`` for a single direction (k = 1).  None: no directions
        (k = 0, a constant).

    Notes
    -----
    ``deriv[j]`` is the derivative of the values along direction j.  NumPy's
    ufuncs and the common array functions propagate the tangents (see
    ``__array_function__``); comparisons return plain bool arrays of the
    values.  ``float()`` and ``np.asarray()`` raise instead of dropping the
    derivative: use ``.value``.  The inputs are copied.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> x = dualml.DualArray.seed(np.array([1.0, 2.0]))     # identity seeding, k = 2
    >>> y = np.sin(x) * x[0]
    >>> y.value.round(4)
    array([0.8415, 0.9093])
    >>> y.deriv.round(4)            # y.deriv[j, i] = d y_i / d x_j
    array([[ 1.3818,  0.9093],
           [ 0.    , -0.4161]])
    """

    cdef object _vo                 # the values; None while lazy (design note d.)
    cdef object _do                 # the tangent rows; None while lazy
    cdef void *_mem                 # a lazy result's block while x owns it
    cdef object _blk                # or its owner once a view needed one (for life)
    cdef _Lazy *_lz                 # its layout while lazy, else NULL
    cdef public unsigned long long _tag
    cdef public object _o2
    cdef public object _eye

    __array_priority__ = 100.0
    __hash__ = None

    def __dealloc__(self):
        if self._mem != NULL:
            _lazy_put(self._mem)
            self._mem = NULL

    def __init__(self, value, deriv=None):
        v, d = _py._init_parts(value, deriv)
        self._vo = v
        self._do = d
        self._lz = NULL
        self._tag = 1
        self._o2 = None

    # -- construction helpers ---------------------------------------------------
    @classmethod
    def seed(cls, x, directions=None):
        """DualArray.seed(x, directions=None)

        x with tangents: the identity (k = x.size, direction j is the unit
        vector of flat element j) or the given directions.

        Parameters
        ----------
        x : array_like of real numbers
        directions : array_like, optional
            Shape ``(k,) + x.shape`` or ``x.shape`` (k = 1).

        Examples
        --------
        >>> import numpy as np, dualml
        >>> x = dualml.DualArray.seed(np.zeros((2, 2)))
        >>> x.k, x.deriv.shape
        (4, (4, 2, 2))
        """
        return _py._seed(x, directions)

    @classmethod
    def constant(cls, x, k=0):
        """DualArray.constant(x, k=0)

        x with k zero tangent rows (a constant).

        Examples
        --------
        >>> import dualml
        >>> dualml.DualArray.constant([1.0, 2.0], k=3).deriv.shape
        (3, 2)
        """
        return _py._constant(x, k)

    # -- the components (made on first use for a lazy result) --------------------------
    @property
    def _v(self):
        return _V(self)

    @_v.setter
    def _v(self, v):
        if self._lz != NULL:
            _materialize(self)
        self._vo = v

    @property
    def _d(self):
        return _D(self)

    @_d.setter
    def _d(self, d):
        if self._lz != NULL:
            _materialize(self)
        self._do = d

    @property
    def _lazy(self):
        """Whether the components are still unmade (design note d.; for tests)."""
        return self._lz != NULL

    # -- accessors -----------------------------------------------------------------
    @property
    def value(self):
        """The values (float64 ndarray; a DualArray of an outer level when nested)."""
        v = _V(self)
        if type(v) is ndarray:
            v = v.view()
            v.flags.writeable = False
        return v

    @property
    def deriv(self):
        """The tangents, shape ``(k,) + shape``: ``deriv[j]`` is direction j."""
        d = _D(self) if self._o2 is None else _D(self)[:self._o2[0]]
        if type(d) is ndarray:
            d = d.view()
            d.flags.writeable = False
        return d

    @property
    def tag(self):
        """The perturbation tag (1 for DualArrays made by users)."""
        return self._tag

    @property
    def k(self):
        """The number of tangent directions."""
        if self._o2 is not None:
            return self._o2[0]
        if self._lz != NULL:
            return self._lz.k
        return self._do.shape[0]

    @property
    def ndirs(self):
        """The number of tangent directions (same as ``k``)."""
        return self.k

    @property
    def shape(self):
        """The shape of the values."""
        cdef int i
        if self._lz != NULL:
            return tuple([self._lz.dims[i] for i in range(self._lz.nd)])
        return self._vo.shape

    @property
    def ndim(self):
        """The number of dimensions of the values."""
        if self._lz != NULL:
            return self._lz.nd
        return len(self._vo.shape)

    @property
    def size(self):
        """The number of values."""
        if self._lz != NULL:
            return self._lz.n
        return self._vo.size

    @property
    def dtype(self):
        """float64 (the values' dtype)."""
        return _F64

    @property
    def T(self):
        """The transpose (axes reversed)."""
        r = _transposed(self)
        return _py._transpose(self, None) if r is NotImplemented else r

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d DualArray")
        return shape[0]

    def __iter__(self):
        shape = self.shape
        if not shape:
            raise TypeError("iteration over a 0-d DualArray")
        for i in range(shape[0]):
            yield self[i]

    def __repr__(self):
        tag = "" if self._tag == 1 else f", tag={self._tag}"
        return f"DualArray({_V(self)!r}, deriv={_D(self)!r}{tag})"

    # -- no silent derivative loss ----------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("converting a DualArray to a NumPy array would drop its "
                        "derivatives (np.asarray, np.array([...]) of DualArrays, or a "
                        "library such as scipy.integrate.solve_ivp converting its input); "
                        "use .value (and .deriv) explicitly, build arrays of DualArrays "
                        "with np.stack/np.concatenate, pass method='scalar' to jacobian/"
                        "gradient for np.array([...]) code, and for an ODE use "
                        "dualml.solve_ivp")

    def __float__(self):
        raise TypeError("float() of a DualArray would drop its derivatives; use "
                        ".value[()] if you mean to drop them")

    def __complex__(self):
        raise TypeError("complex() of a DualArray is not supported (dualml is real)")

    def __int__(self):
        return int(_py._inner(self))

    def __bool__(self):
        return bool(_py._inner(self))

    def __index__(self):
        # also reached by sequence repetition: 'a' * x, [0] * x
        raise TypeError("a DualArray cannot be used as an integer (an index, or a "
                        "repeat count as in 'a' * x): it holds real numbers with "
                        "derivatives")

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def copy(self):
        """A copy with its own value and tangent storage."""
        r = _copied(self, False)
        return _py._copy(self) if r is NotImplemented else r

    def __reduce__(self):
        return (_rebuild, (_V(self), _D(self), self._tag, self._o2))

    # -- indexing ------------------------------------------------------------------------
    def __getitem__(self, idx):
        r = _getitem(self, idx)
        if r is NotImplemented:
            return _py._getitem(self, idx)
        return r

    def __setitem__(self, idx, val):
        if not _setitem(self, idx, val):
            _py._setitem(self, idx, val)

    # -- comparisons: plain bool arrays of the values ----------------------------------
    def __eq__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_EQ)

    def __ne__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_NE)

    def __lt__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_LT)

    def __le__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_LE)

    def __gt__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_GT)

    def __ge__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_GE)

    # -- arithmetic ----------------------------------------------------------------------
    def __add__(self, o):
        return _op(R_ADD, "add", self, o)

    def __radd__(self, o):
        return _op(R_ADD, "add", o, self)

    def __sub__(self, o):
        return _op(R_SUB, "subtract", self, o)

    def __rsub__(self, o):
        return _op(R_SUB, "subtract", o, self)

    def __mul__(self, o):
        return _op(R_MUL, "multiply", self, o)

    def __rmul__(self, o):
        return _op(R_MUL, "multiply", o, self)

    def __truediv__(self, o):
        return _op(R_DIV, "divide", self, o)

    def __rtruediv__(self, o):
        return _op(R_DIV, "divide", o, self)

    def __floordiv__(self, o):
        return _py._binary_op("floor_divide", self, o)

    def __rfloordiv__(self, o):
        return _py._binary_op("floor_divide", o, self)

    def __mod__(self, o):
        return _py._binary_op("remainder", self, o)

    def __rmod__(self, o):
        return _py._binary_op("remainder", o, self)

    def __divmod__(self, o):
        return (self // o, self % o)

    def __pow__(self, o, m):
        if m is not None:
            return NotImplemented
        # as NumPy's ndarray ** 2 (which computes square)
        if (type(o) is int or type(o) is float) and o == 2:
            r = _unary(R_SQUARE, self, 0.0)
            return _py._ew_unary("square", self) if r is NotImplemented else r
        return _op(R_POW, "power", self, o)

    def __rpow__(self, o, m):
        if m is not None:
            return NotImplemented
        return _op(R_POW, "power", o, self)

    def __matmul__(self, o):
        r = _matmul(self, o)
        if r is NotImplemented:
            return _py._matmul(self, _py._operand(o, "matmul"))
        return r

    def __rmatmul__(self, o):
        r = _matmul(o, self)
        if r is NotImplemented:
            return _py._matmul(_py._operand(o, "matmul"), self)
        return r

    def __neg__(self):
        r = _unary(R_NEG, self, 0.0)
        return _py._ew_unary("negative", self) if r is NotImplemented else r

    def __pos__(self):
        return _py._copy(self)

    def __abs__(self):
        r = _unary(R_ABS, self, 0.0)
        return _py._ew_unary("absolute", self) if r is NotImplemented else r

    # In place: NumPy semantics (the array, and views of it, change).
    def __iadd__(self, o):
        return _inplace(self, self + o)

    def __isub__(self, o):
        return _inplace(self, self - o)

    def __imul__(self, o):
        return _inplace(self, self * o)

    def __itruediv__(self, o):
        return _inplace(self, self / o)

    def __ipow__(self, o):
        return _inplace(self, self ** o)

    # -- methods as ndarray's ------------------------------------------------------------
    def reshape(self, *shape, order="C"):
        """Values and tangents reshaped alike (as ndarray.reshape, C or F order)."""
        if PyTuple_GET_SIZE(shape) >= 1 and type(order) is str and <str>order == "C":
            r = _reshaped(self, <object>PyTuple_GET_ITEM(shape, 0)
                          if PyTuple_GET_SIZE(shape) == 1 else shape)
            if r is not NotImplemented:
                return r
        return _py._method_reshape(self, shape, order)

    def transpose(self, *axes):
        """As ndarray.transpose: values and tangents alike."""
        if PyTuple_GET_SIZE(axes) == 0:
            r = _transposed(self)
            if r is not NotImplemented:
                return r
        return _py._method_transpose(self, axes)

    def swapaxes(self, a, b):
        """swapaxes(a, b): as ndarray.swapaxes."""
        return _py._swapaxes(self, a, b)

    def ravel(self, order="C"):
        """ravel(order="C"): the values flattened (a view where possible)."""
        if type(order) is str and <str>order == "C":
            r = _reshaped(self, -1)
            if r is not NotImplemented:
                return r
        return _py._reshape_order(self, (-1,), order)

    def flatten(self, order="C"):
        """flatten(order="C"): the values flattened, always a copy."""
        if type(order) is str and <str>order == "C":
            r = _copied(self, True)
            if r is not NotImplemented:
                return r
        return _py._copy(_py._reshape_order(self, (-1,), order))

    def squeeze(self, axis=None):
        """squeeze(axis=None): as ndarray.squeeze."""
        if axis is None:
            r = _squeezed(self)
            if r is not NotImplemented:
                return r
        return _py._squeeze(self, axis)

    def sum(self, axis=None, keepdims=False, *, dtype=None, out=None, initial=None,
            where=True):
        """As ndarray.sum (keywords dtype, out, initial, where as NumPy's)."""
        if dtype is not None or out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_sum(self, axis, dtype, None, keepdims, initial, where),
                               out, "sum")
        if axis is None and not keepdims:
            r = _sum_all(self)
            if r is not NotImplemented:
                return r
        elif axis is not None:
            r = _reduce_axes(self, axis, keepdims, False)
            if r is not NotImplemented:
                return r
        return _py._sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False, *, dtype=None, out=None, where=True):
        """As ndarray.mean (keywords dtype, out, where as NumPy's)."""
        if dtype is not None or out is not None or where is not True:
            return _py._fn_out(_py._h_mean(self, axis, dtype, None, keepdims, where=where),
                               out, "mean")
        if axis is None and not keepdims:
            s = _mean_all(self)
            if s is not NotImplemented:
                return s
        if axis is not None:
            s = _reduce_axes(self, axis, keepdims, True)
            if s is not NotImplemented:
                return s
        return _py._mean(self, axis, keepdims)

    def prod(self, axis=None, keepdims=False, *, dtype=None, out=None, initial=None,
             where=True):
        """As ndarray.prod (keywords dtype, out, initial, where as NumPy's)."""
        if dtype is not None or out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_prod(self, axis, dtype, None, keepdims, initial, where),
                               out, "prod")
        if axis is None and not keepdims:
            r = _prod_all(self)
            if r is not NotImplemented:
                return r
        return _py._prod(self, axis, keepdims)

    def max(self, axis=None, keepdims=False, *, out=None, initial=None, where=True):
        """As ndarray.max (keywords out, initial, where as NumPy's): value and
        tangents of the maximum (the first of ties)."""
        if out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_max(self, axis, None, keepdims, initial, where), out,
                               "max")
        if axis is None and not keepdims:
            r = _select_all(self, True)
            if r is not NotImplemented:
                return r
        elif type(axis) is int or (type(axis) is tuple and len(<tuple>axis) == 1
                                   and type((<tuple>axis)[0]) is int):
            r = _select_axis(self, axis if type(axis) is int else (<tuple>axis)[0],
                             keepdims, True)
            if r is not NotImplemented:
                return r
        return _py._select_reduce(self, axis, keepdims, np.argmax, "max")

    def min(self, axis=None, keepdims=False, *, out=None, initial=None, where=True):
        """As ndarray.min (keywords out, initial, where as NumPy's): value and
        tangents of the minimum (the first of ties)."""
        if out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_min(self, axis, None, keepdims, initial, where), out,
                               "min")
        if axis is None and not keepdims:
            r = _select_all(self, False)
            if r is not NotImplemented:
                return r
        elif type(axis) is int or (type(axis) is tuple and len(<tuple>axis) == 1
                                   and type((<tuple>axis)[0]) is int):
            r = _select_axis(self, axis if type(axis) is int else (<tuple>axis)[0],
                             keepdims, False)
            if r is not NotImplemented:
                return r
        return _py._select_reduce(self, axis, keepdims, np.argmin, "min")

    def cumsum(self, axis=None, dtype=None, out=None):
        """cumsum(axis=None, dtype=None, out=None): as ndarray.cumsum."""
        if dtype is not None or out is not None:
            return _py._fn_out(_py._h_cumsum(self, axis, dtype, None), out, "cumsum")
        r = _cumsum_c(self, axis)
        return _py._cumsum(self, axis) if r is NotImplemented else r

    def dot(self, o):
        """dot(o): as ndarray.dot."""
        r = _matmul(self, o)
        if r is NotImplemented:
            return _py._dot(self, _py._operand(o, "dot"))
        return r

    def clip(self, a_min=None, a_max=None, *, min=None, max=None):
        """As ndarray.clip (``a_min``/``a_max`` or the keywords ``min``/``max``)."""
        if min is not None:
            if a_min is not None:
                raise TypeError("clip(): give a_min or min=, not both")
            a_min = min
        if max is not None:
            if a_max is not None:
                raise TypeError("clip(): give a_max or max=, not both")
            a_max = max
        # maximum then minimum, as the Python path (_joins._clip), in C
        r = self
        if a_min is not None:
            r = _binary(R_MAX, r, a_min)
        if r is not NotImplemented and a_max is not None:
            r = _binary(R_MIN, r, a_max)
        if r is NotImplemented:
            return _py._clip(self, a_min, a_max)
        return r

    def std(self, *args, **kwargs):
        """std(axis=None, dtype=None, out=None, ddof=0, keepdims=False, ...): as ndarray.std."""
        return _py._h_std(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        """var(axis=None, dtype=None, out=None, ddof=0, keepdims=False, ...): as ndarray.var."""
        return _py._h_var(self, *args, **kwargs)

    def cumprod(self, axis=None, dtype=None, out=None):
        """cumprod(axis=None): as ndarray.cumprod."""
        return _py._h_cumprod(self, axis, dtype, out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        """trace(offset=0, axis1=0, axis2=1): as ndarray.trace."""
        return _py._h_trace(self, offset, axis1, axis2, dtype, out)

    # ndarray's remaining methods, as NumPy's functions (whose handlers check
    # the arguments); index-valued ones read the values
    def take(self, indices, axis=None, out=None, mode="raise"):
        """take(indices, axis=None, out=None, mode='raise'): as ndarray.take."""
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        """diagonal(offset=0, axis1=0, axis2=1): as ndarray.diagonal."""
        return np.diagonal(self, offset, axis1, axis2)

    def repeat(self, repeats, axis=None):
        """repeat(repeats, axis=None): as ndarray.repeat."""
        return np.repeat(self, repeats, axis)

    def compress(self, condition, axis=None, out=None):
        """compress(condition, axis=None): as ndarray.compress."""
        return np.compress(condition, self, axis, out)

    def choose(self, choices, out=None, mode="raise"):
        """choose(choices): as ndarray.choose (self holds the indices)."""
        return np.choose(self, choices, out, mode)

    def conj(self):
        """conj(): the array itself (a real array)."""
        return self

    def conjugate(self):
        """conjugate(): the array itself (a real array)."""
        return self

    @property
    def real(self):
        """The array itself (a real array)."""
        return self

    @property
    def imag(self):
        """Zeros of the array's shape (a real array; a constant)."""
        return np.zeros(self.shape)

    @property
    def mT(self):
        """The matrix transpose: the last two axes swapped."""
        return np.swapaxes(self, -1, -2)

    def fill(self, value):
        """fill(value): every entry set to value, in place."""
        self[...] = value

    def put(self, indices, values, mode="raise"):
        """put(indices, values, mode='raise'): as ndarray.put, in place."""
        np.put(self, indices, values, mode)

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        """partition(kth, axis=-1): as ndarray.partition, in place."""
        self[...] = np.partition(self, kth, axis, kind, order)

    def argmax(self, axis=None, out=None, *, keepdims=False):
        """argmax(axis=None): of the values."""
        return np.argmax(self.value, axis, out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        """argmin(axis=None): of the values."""
        return np.argmin(self.value, axis, out, keepdims=keepdims)

    def argsort(self, axis=-1, kind=None, order=None, *, stable=None):
        """argsort(axis=-1): of the values."""
        return np.argsort(self.value, axis, kind, order, stable=stable)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        """argpartition(kth, axis=-1): of the values."""
        return np.argpartition(self.value, kth, axis, kind, order)

    def nonzero(self):
        """nonzero(): of the values."""
        return np.nonzero(self.value)

    def searchsorted(self, v, side="left", sorter=None):
        """searchsorted(v): of the values (v's values if it is a DualArray)."""
        if type(v) is DualArray:
            v = _py._inner(v)
        return np.searchsorted(_py._inner(self), v, side, sorter)

    def all(self, axis=None, out=None, keepdims=False, *, where=True):
        """all(axis=None): of the values."""
        return np.all(self.value, axis, out, keepdims, where=where)

    def any(self, axis=None, out=None, keepdims=False, *, where=True):
        """any(axis=None): of the values."""
        return np.any(self.value, axis, out, keepdims, where=where)

    def round(self, decimals=0, out=None):
        """round(decimals=0): as ndarray.round (zero derivative: a step function)."""
        return _py._h_round(self, decimals, out)

    def astype(self, dtype, copy=True):
        """astype(float64): a copy (copy=True) or self; other dtypes would drop
        the derivatives and raise."""
        r = _py._h_astype(self, dtype, copy=copy)
        return r

    def sort(self, axis=-1, kind=None, order=None):
        """sort(axis=-1): in place, as ndarray.sort; the tangents follow the
        permutation."""
        _py._setitem(self, Ellipsis, _py._h_sort(self, axis, kind, order))

    def item(self):
        raise TypeError("DualArray.item() would drop the derivatives; index it "
                        "(x[()] or x[i]) to keep them, or use .value.item()")

    def tolist(self):
        raise TypeError("DualArray.tolist() would drop the derivatives; use "
                        ".value.tolist() / .deriv.tolist()")

    # -- NumPy protocols -------------------------------------------------------------------
    # __array_ufunc__(self, ufunc, method, *inputs, **kwargs): a C callable
    # (see "NumPy's ufunc protocol" above), not a def, for speed
    __array_ufunc__ = _ARRAY_UFUNC

    # __array_function__(self, func, types, args, kwargs): a C callable
    # (see "NumPy's function protocol" above), not a def, for speed
    __array_function__ = _ARRAY_FUNCTION

    # -- dualml hooks ----------------------------------------------------------------------
    def __dualml_function__(self, name, args, kwargs):
        """dualml.<name>(...) with a DualArray argument (the core's hook)."""
        cdef Py_ssize_t n = len(args)
        if not kwargs:
            if n == 1 and args[0] is self:
                rule = _NAME1.get(name)
                if rule is not None:
                    r = _unary(<Py_ssize_t>rule, self, _DEFAULT_P.get(rule, 0.0))
                    if r is not NotImplemented:
                        return r
            elif n == 2:
                rule = _NAME2.get(name)
                if rule is not None:
                    r = _binary(<Py_ssize_t>rule, args[0], args[1])
                    if r is not NotImplemented:
                        return r
                elif args[0] is self and type(args[1]) is float:
                    rule = _NAME1.get(name)         # a rule with a parameter (alpha)
                    if rule is not None and rule in _DEFAULT_P:
                        r = _unary(<Py_ssize_t>rule, self, <double>args[1])
                        if r is not NotImplemented:
                            return r
        return _py._dualml_function(name, args, kwargs)

    def _dualml_extract(self, tag, want_value):
        """Value, or derivative w.r.t. `tag`, for the core's extractors.

        The derivative is shaped like the value for k = 1 and
        ``value.shape + (k,)`` otherwise (direction last, as a Jacobian's
        column index).
        """
        return _py._extract(self, tag, want_value)


# ---------------------------------------------------------------------------
# Reading a list of 0-d results (dualml.solve_ivp's right-hand side, per call)

def _read_scalars(r, unsigned long long tag, Py_ssize_t K, cnp.ndarray out):
    """_read_scalars(r, tag, K, out) -> bool

    ``out[:n]`` = the values and ``out[n:]`` (K rows of n) = the tangents of
    r, a list/tuple of n entries that are 0-d first-order DualArrays of
    `tag` with K tangents, or Python floats (zero tangents).  False, with
    out partly written, when an entry is anything else (the caller then
    reads r the general way).
    """
    cdef Py_ssize_t n, j, k
    cdef DualArray e
    cdef _Parts P
    cdef double *o
    cdef char *p
    cdef cnp.npy_intp stride
    if type(r) is not list and type(r) is not tuple:
        return False
    n = len(r)
    if (cnp.PyArray_TYPE(out) != cnp.NPY_DOUBLE or not cnp.PyArray_IS_C_CONTIGUOUS(out)
            or not cnp.PyArray_ISALIGNED(out) or not cnp.PyArray_ISWRITEABLE(out)
            or cnp.PyArray_NDIM(out) != 1 or cnp.PyArray_DIMS(out)[0] != n * (K + 1)):
        return False
    o = <double *>cnp.PyArray_DATA(out)
    for j in range(n):
        x = r[j]
        if type(x) is DualArray:
            e = <DualArray>x
            # (_flat: aligned, so the double loads below are defined)
            if e._tag != tag or e._o2 is not None or not _flat(e):
                return False
            if e._lz == NULL and (cnp.PyArray_TYPE(<cnp.ndarray>e._vo) != cnp.NPY_DOUBLE
                                  or cnp.PyArray_TYPE(<cnp.ndarray>e._do) != cnp.NPY_DOUBLE):
                return False
            _parts(e, &P)
            if P.nd != 0 or P.k != K:
                return False
            o[j] = (<double *>P.v)[0]
            p = P.d
            stride = P.dst[0]
            for k in range(K):
                o[n + k * n + j] = (<double *>(p + k * stride))[0]
        elif type(x) is float:
            o[j] = PyFloat_AS_DOUBLE(x)
            for k in range(K):
                o[n + k * n + j] = 0.0
        else:
            return False
    return True
