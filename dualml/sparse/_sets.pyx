# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Index-set kernels for sparsity detection (rows of sorted integer sets, CSR).

A set family is a CSR pair (indptr, indices): row r is the sorted, duplicate
free run indices[indptr[r]:indptr[r + 1]].  The tracer of dualml.sparse keeps
one row per array element (its gradient index set, and for Hessians its set of
pairs i*n + j, i <= j).  Every operation on a tracer reduces to the four
kernels here: a gather by row map, the row-wise union of two families through
two row maps (broadcasting and selection), a segment union (reductions,
products with a constant matrix) and the pair products of two families.  A row
map entry of -1 stands for the empty set (a constant element).  The public
functions check every index once, in Python-visible code, so the loops can run
without bounds checks.  indptr and row maps are int64; the set entries are
int32 or int64 (fused): gradient sets of fewer than 2**31 inputs take int32,
half the memory traffic, pair codes int64.  During a detection run the
outputs are carved from a per-run arena (one retained buffer, bump
allocation; see _Arena): fresh buffers per operation cost a page fault per
4 KiB, which was half of detection's time.
"""
import threading

import numpy as np
cimport numpy as cnp
from cpython.ref cimport Py_INCREF

cnp.import_array()

cdef extern from "Python.h":
    Py_ssize_t Py_REFCNT(object o)

ctypedef cnp.int64_t i64
ctypedef fused idx:
    cnp.int32_t
    cnp.int64_t


cdef Py_ssize_t _SMALL = 48      # insertion sort up to this length, NumPy's sort above


# ---- the per-run arena ----------------------------------------------------------------
#: the largest buffer kept between detection runs (bytes); a run that needs more takes
#: the rest from np.empty, as without an arena
_ARENA_MAX_BYTES = 64 * 2**20
_POOL = []                   # at most one (buffer or None, bytes wanted), between runs
_LOCAL = threading.local()   # .stack: the arenas open in this thread, innermost last


cdef class _Arena:
    """Bump allocation of the kernels' outputs from one buffer, for one detection run.

    Nothing is freed during the run (the tracer's families are immutable and
    shared, most live to the end).  At close the buffer goes back to the pool
    only if no array carved from it is alive -- each holds a reference to it,
    so its reference count tells -- else it stays with those arrays and the
    next run takes a new one.  The bytes a run asked for (buffer and overflow)
    size the next run's buffer.
    """
    cdef object buf              # uint8 ndarray owning the memory, or None
    cdef char *base
    cdef Py_ssize_t cap, off, last, need, refs0

    def __cinit__(self, object buf):
        self.buf = buf
        self.base = NULL if buf is None else <char *>cnp.PyArray_DATA(buf)
        self.cap = 0 if buf is None else buf.shape[0]
        self.off = self.last = self.need = 0
        self.refs0 = 0

    cdef Py_ssize_t refs(self):
        return 0 if self.buf is None else Py_REFCNT(self.buf)

    cdef object take(self, Py_ssize_t count, int typenum, Py_ssize_t itemsize):
        cdef cnp.npy_intp dim = count
        cdef Py_ssize_t nbytes = count * itemsize
        cdef Py_ssize_t start = (self.off + 63) & ~(<Py_ssize_t>63)    # cache lines
        self.need += (nbytes + 63) & ~(<Py_ssize_t>63)
        if self.base == NULL or start + nbytes > self.cap:
            return cnp.PyArray_EMPTY(1, &dim, typenum, 0)
        arr = cnp.PyArray_SimpleNewFromData(1, &dim, typenum, self.base + start)
        cnp.set_array_base(arr, self.buf)
        self.last = start
        self.off = start + nbytes
        return arr

    cdef object trim(self, object arr, Py_ssize_t count):
        """arr (the output of a kernel, its bound) cut to its first count entries."""
        cdef Py_ssize_t size = arr.shape[0], itemsize = arr.itemsize
        if count == size:
            return arr
        if self.base != NULL and <char *>cnp.PyArray_DATA(arr) == self.base + self.last:
            # the last carve: give its tail back
            self.need -= (size * itemsize + 63) & ~(<Py_ssize_t>63)
            self.need += (count * itemsize + 63) & ~(<Py_ssize_t>63)
            self.off = self.last + count * itemsize
            return arr[:count]
        return arr[:count].copy() if count < size // 2 else arr[:count]


cdef inline _Arena _current():
    stack = getattr(_LOCAL, "stack", None)
    return stack[len(stack) - 1] if stack else None


cdef object _alloc(Py_ssize_t count, int typenum, Py_ssize_t itemsize):
    """An uninitialized 1-d array: from this thread's open arena, else np.empty."""
    cdef _Arena a = _current()
    cdef cnp.npy_intp dim = count
    if a is not None:
        return a.take(count, typenum, itemsize)
    return cnp.PyArray_EMPTY(1, &dim, typenum, 0)


cdef object _trim(object arr, Py_ssize_t count):
    cdef _Arena a = _current()
    if a is not None:
        return a.trim(arr, count)
    if count == arr.shape[0]:
        return arr
    return arr[:count].copy() if count < arr.shape[0] // 2 else arr[:count]


def _arena_open():
    """Open an arena for a detection run in this thread; returns it (for _arena_close)."""
    buf, want = None, 0
    try:
        buf, want = _POOL.pop()
    except IndexError:
        pass
    if want > _ARENA_MAX_BYTES:
        want = _ARENA_MAX_BYTES
    if buf is None or buf.shape[0] < want:
        buf = np.empty(want, dtype=np.uint8) if want else None
    cdef _Arena a = _Arena(buf)
    del buf
    a.refs0 = a.refs()
    stack = getattr(_LOCAL, "stack", None)
    if stack is None:
        stack = _LOCAL.stack = []
    stack.append(a)
    return a


def _arena_close(_Arena a):
    """Close a run's arena: keep its buffer for the next run if nothing carved from it
    is alive (else leave it to those arrays), sized to what this run needed."""
    stack = getattr(_LOCAL, "stack", None)
    if stack and a in stack:
        stack.remove(a)
    free = a.refs() == a.refs0
    want = a.need + a.need // 4 + 4096           # room for small variations
    if want > _ARENA_MAX_BYTES:
        want = _ARENA_MAX_BYTES
    buf = a.buf if free and a.cap >= a.need else None
    a.buf = None
    a.base = NULL
    if not _POOL:
        _POOL.append((buf, want))
    return free


def _arena_clear():
    """Drop the retained buffer (the memory goes back to the system)."""
    _POOL.clear()


cdef Py_ssize_t _sort_unique(object buf, idx *a, Py_ssize_t start, Py_ssize_t stop) except -1 nogil:
    """Sort a[start:stop] and drop duplicates in place; returns the new stop.

    Short runs (the usual row) by insertion sort; long ones (a reduction over
    many elements) by NumPy's sort of the same memory, buf.
    """
    cdef Py_ssize_t i, j, w, n = stop - start
    cdef idx v
    if n < 2:
        return stop
    if n <= _SMALL:
        for i in range(start + 1, stop):
            v = a[i]
            j = i - 1
            while j >= start and a[j] > v:
                a[j + 1] = a[j]
                j -= 1
            a[j + 1] = v
    else:
        # concatenated sorted rows are often nearly sorted (a sum over a
        # banded array): NumPy's stable sort (timsort) takes those in about
        # one pass, its default sort is the faster one on disorder
        w = 0
        for i in range(start + 1, stop):
            w += a[i] < a[i - 1]
        with gil:
            buf[start:stop].sort(kind="stable" if w * 16 < n else "quicksort")
    w = start + 1
    for i in range(start + 1, stop):
        if a[i] != a[w - 1]:
            a[w] = a[i]
            w += 1
    return w


cdef Py_ssize_t _check_family(const i64[::1] indptr, Py_ssize_t nnz, str name) except -1:
    cdef Py_ssize_t r, nrows = indptr.shape[0] - 1
    if nrows < 0:
        raise ValueError(f"{name}: indptr must have at least one entry")
    if indptr[0] != 0 or indptr[nrows] != nnz:
        raise ValueError(f"{name}: indptr must run from 0 to len(indices)")
    for r in range(nrows):
        if indptr[r + 1] < indptr[r]:
            raise ValueError(f"{name}: indptr must be non-decreasing")
    return nrows


cdef int _check_rowmap(const i64[::1] rowmap, Py_ssize_t nrows, str name) except -1:
    cdef Py_ssize_t k
    for k in range(rowmap.shape[0]):
        if rowmap[k] < -1 or rowmap[k] >= nrows:
            raise IndexError(f"{name}: row {rowmap[k]} out of range [-1, {nrows})")
    return 0


cdef const i64[::1] _rowmap(object rowmap, Py_ssize_t nrows, Py_ssize_t *K, str name):
    """The row map as a memoryview (None: the identity over nrows rows)."""
    if rowmap is None:
        if K[0] >= 0 and K[0] != nrows:
            raise ValueError(f"{name}: the row maps differ in length")
        K[0] = nrows
        return None
    cdef const i64[::1] rm = rowmap
    if K[0] >= 0 and K[0] != rm.shape[0]:
        raise ValueError(f"{name}: the row maps differ in length")
    K[0] = rm.shape[0]
    _check_rowmap(rm, nrows, name)
    return rm


def gather(const i64[::1] indptr, const idx[::1] indices, const i64[::1] rowmap):
    """Rows ``rowmap`` of a family (-1: the empty row).

    Parameters
    ----------
    indptr, indices : ndarray of int64, shapes (R + 1,) and (nnz,)
        The family.
    rowmap : ndarray of int64, shape (K,)
        Source row of each output row, in [-1, R).

    Returns
    -------
    indptr, indices : ndarray of int64, shapes (K + 1,) and (nnz_out,)
    """
    cdef Py_ssize_t nrows = _check_family(indptr, indices.shape[0], "gather")
    _check_rowmap(rowmap, nrows, "gather")
    cdef Py_ssize_t k, r, K = rowmap.shape[0], total = 0, pos = 0
    out_ptr = _alloc(K + 1, cnp.NPY_INT64, 8)
    cdef i64[::1] op = out_ptr
    with nogil:
        op[0] = 0
        for k in range(K):
            r = rowmap[k]
            if r >= 0:
                total += indptr[r + 1] - indptr[r]
            op[k + 1] = total
    out_ind = _alloc(total, cnp.NPY_INT32 if idx is cnp.int32_t else cnp.NPY_INT64, sizeof(idx))
    cdef idx[::1] oi = out_ind
    cdef i64 q
    with nogil:
        for k in range(K):
            r = rowmap[k]
            if r >= 0:
                for q in range(indptr[r], indptr[r + 1]):
                    oi[pos] = indices[q]
                    pos += 1
    return out_ptr, out_ind


def union2(const i64[::1] pa, const idx[::1] ia, object ra,
           const i64[::1] pb, const idx[::1] ib, object rb):
    """Row-wise union: output row k = a[ra[k]] | b[rb[k]] (-1: empty).

    Parameters
    ----------
    pa, ia, pb, ib : ndarray of int64
        The two families (CSR, sorted rows).
    ra, rb : ndarray of int64, shape (K,), or None
        Row maps into a and b, in [-1, rows); None: the identity (the
        family has K rows).

    Returns
    -------
    indptr, indices : ndarray of int64, shapes (K + 1,) and (nnz_out,)
        Sorted rows without duplicates.
    """
    cdef Py_ssize_t na = _check_family(pa, ia.shape[0], "union2 (a)")
    cdef Py_ssize_t nb = _check_family(pb, ib.shape[0], "union2 (b)")
    cdef Py_ssize_t K = -1
    cdef const i64[::1] ma = _rowmap(ra, na, &K, "union2 (a)")
    cdef const i64[::1] mb = _rowmap(rb, nb, &K, "union2 (b)")
    cdef bint ida = ra is None, idb = rb is None
    cdef Py_ssize_t k, bound = 0, pos = 0
    cdef i64 r, s, qa, ea, qb, eb
    cdef idx va, vb
    if ida and idb:
        bound = ia.shape[0] + ib.shape[0]
    else:
        with nogil:
            for k in range(K):
                r = k if ida else ma[k]
                s = k if idb else mb[k]
                if r >= 0:
                    bound += pa[r + 1] - pa[r]
                if s >= 0:
                    bound += pb[s + 1] - pb[s]
    out_ptr = _alloc(K + 1, cnp.NPY_INT64, 8)
    out_ind = _alloc(bound, cnp.NPY_INT32 if idx is cnp.int32_t else cnp.NPY_INT64, sizeof(idx))
    cdef i64[::1] op = out_ptr
    cdef idx[::1] oi = out_ind
    with nogil:
        op[0] = 0
        for k in range(K):
            r = k if ida else ma[k]
            s = k if idb else mb[k]
            qa = ea = qb = eb = 0
            if r >= 0:
                qa = pa[r]
                ea = pa[r + 1]
            if s >= 0:
                qb = pb[s]
                eb = pb[s + 1]
            while qa < ea and qb < eb:
                va = ia[qa]
                vb = ib[qb]
                if va < vb:
                    oi[pos] = va
                    qa += 1
                elif vb < va:
                    oi[pos] = vb
                    qb += 1
                else:
                    oi[pos] = va
                    qa += 1
                    qb += 1
                pos += 1
            while qa < ea:
                oi[pos] = ia[qa]
                qa += 1
                pos += 1
            while qb < eb:
                oi[pos] = ib[qb]
                qb += 1
                pos += 1
            op[k + 1] = pos
    return out_ptr, _trim(out_ind, pos)


def segment_union(const i64[::1] indptr, const idx[::1] indices,
                  const i64[::1] seg_ptr, const i64[::1] seg_rows):
    """Output row k = union of rows seg_rows[seg_ptr[k]:seg_ptr[k + 1]].

    Parameters
    ----------
    indptr, indices : ndarray of int64
        The family (CSR, sorted rows).
    seg_ptr : ndarray of int64, shape (K + 1,)
        Segment boundaries into seg_rows.
    seg_rows : ndarray of int64, shape (L,)
        Source rows, in [-1, rows) (-1: empty).

    Returns
    -------
    indptr, indices : ndarray of int64, shapes (K + 1,) and (nnz_out,)
    """
    cdef Py_ssize_t nrows = _check_family(indptr, indices.shape[0], "segment_union")
    _check_family(seg_ptr, seg_rows.shape[0], "segment_union (segments)")
    _check_rowmap(seg_rows, nrows, "segment_union")
    cdef Py_ssize_t k, K = seg_ptr.shape[0] - 1, bound = 0, pos = 0, start, w
    cdef i64 q, r, t
    with nogil:
        for q in range(seg_rows.shape[0]):
            r = seg_rows[q]
            if r >= 0:
                bound += indptr[r + 1] - indptr[r]
    out_ptr = _alloc(K + 1, cnp.NPY_INT64, 8)
    out_ind = _alloc(bound, cnp.NPY_INT32 if idx is cnp.int32_t else cnp.NPY_INT64, sizeof(idx))
    cdef i64[::1] op = out_ptr
    cdef idx[::1] oi = out_ind
    with nogil:
        op[0] = 0
        for k in range(K):
            start = pos
            for q in range(seg_ptr[k], seg_ptr[k + 1]):
                r = seg_rows[q]
                if r >= 0:
                    for t in range(indptr[r], indptr[r + 1]):
                        oi[pos] = indices[t]
                        pos += 1
            if pos - start > 1 and seg_ptr[k + 1] - seg_ptr[k] > 1:
                pos = _sort_unique(out_ind, &oi[0], start, pos)
            op[k + 1] = pos
    return out_ptr, _trim(out_ind, pos)


def product_union(const i64[::1] indptr, const idx[::1] indices,
                  const i64[::1] cptr, const i64[::1] cind, i64 k):
    """Output row i*k + q = union of rows cind[p]*k + q, p in cptr[i]:cptr[i + 1].

    The sets of ``c @ t`` for a constant (M, J) matrix c with nonzeros
    (cptr, cind) (CSR) and a traced t of J*k rows (shape (J, k), C order):
    a segment union whose source rows follow from c's structure, so no
    list of them is built.

    Parameters
    ----------
    indptr, indices : ndarray of int64
        The family of t (CSR, sorted rows), J*k rows.
    cptr : ndarray of int64, shape (M + 1,)
    cind : ndarray of int64, shape (nnz,)
        Column indices of c's nonzeros, in [0, J).
    k : int
        Columns of t (1 for a vector).

    Returns
    -------
    indptr, indices : ndarray of int64, shapes (M*k + 1,) and (nnz_out,)
    """
    cdef Py_ssize_t nrows = _check_family(indptr, indices.shape[0], "product_union")
    _check_family(cptr, cind.shape[0], "product_union (c)")
    if k < 1 or nrows % k:
        raise ValueError(f"product_union: {nrows} rows are not J x k = {k} columns")
    cdef i64 J = nrows // k
    cdef Py_ssize_t q, M = cptr.shape[0] - 1, bound = 0, pos = 0, start
    for q in range(cind.shape[0]):
        if cind[q] < 0 or cind[q] >= J:
            raise IndexError(f"product_union: column {cind[q]} out of range [0, {J})")
    cdef i64 i, c, p, r, t
    with nogil:
        for p in range(cind.shape[0]):
            r = cind[p] * k
            bound += indptr[r + k] - indptr[r]          # rows r .. r+k-1 together
    out_ptr = _alloc(M * k + 1, cnp.NPY_INT64, 8)
    out_ind = _alloc(bound, cnp.NPY_INT32 if idx is cnp.int32_t else cnp.NPY_INT64, sizeof(idx))
    cdef i64[::1] op = out_ptr
    cdef idx[::1] oi = out_ind
    with nogil:
        op[0] = 0
        for i in range(M):
            for c in range(k):
                start = pos
                for p in range(cptr[i], cptr[i + 1]):
                    r = cind[p] * k + c
                    for t in range(indptr[r], indptr[r + 1]):
                        oi[pos] = indices[t]
                        pos += 1
                if pos - start > 1 and cptr[i + 1] - cptr[i] > 1:
                    pos = _sort_unique(out_ind, &oi[0], start, pos)
                op[i * k + c + 1] = pos
    return out_ptr, _trim(out_ind, pos)


def pairs(const i64[::1] pa, const idx[::1] ia, object ra,
          const i64[::1] pb, const idx[::1] ib, object rb, i64 n):
    """Output row k = {min(u, v) * n + max(u, v) : u in a[ra[k]], v in b[rb[k]]}.

    The Hessian pairs that a product of two quantities with gradient sets a
    and b contributes (a is b for the square of one quantity).

    Parameters
    ----------
    pa, ia, pb, ib : ndarray of int64
        Two gradient families (CSR, sorted rows, entries in [0, n)).
    ra, rb : ndarray of int64, shape (K,), or None
        Row maps into a and b, in [-1, rows); None: the identity.
    n : int
        The number of inputs (the pair encoding's base).

    Returns
    -------
    indptr, indices : ndarray of int64, shapes (K + 1,) and (nnz_out,)
        Sorted pair codes without duplicates.
    """
    cdef Py_ssize_t na = _check_family(pa, ia.shape[0], "pairs (a)")
    cdef Py_ssize_t nb = _check_family(pb, ib.shape[0], "pairs (b)")
    cdef Py_ssize_t K = -1
    cdef const i64[::1] ma = _rowmap(ra, na, &K, "pairs (a)")
    cdef const i64[::1] mb = _rowmap(rb, nb, &K, "pairs (b)")
    cdef bint ida = ra is None, idb = rb is None
    if n < 0 or n > 3037000499:                  # n * n must fit in int64
        raise ValueError(f"pairs: n = {n} out of range")
    cdef Py_ssize_t q
    for q in range(ia.shape[0]):
        if ia[q] < 0 or ia[q] >= n:
            raise IndexError(f"pairs: index {ia[q]} out of range [0, {n})")
    for q in range(ib.shape[0]):
        if ib[q] < 0 or ib[q] >= n:
            raise IndexError(f"pairs: index {ib[q]} out of range [0, {n})")
    cdef Py_ssize_t k, bound = 0, pos = 0, start, w
    cdef i64 r, s, qa, qb, u, v
    # the square of one family (a is b, same rows): u <= v runs come out
    # sorted and unique, u * n + v in row-major order
    cdef bint square = (na == nb and ia.shape[0] == ib.shape[0] and
                        (na == 0 or &pa[0] == &pb[0]) and
                        (ia.shape[0] == 0 or &ia[0] == &ib[0]) and
                        ((ida and idb) or (not ida and not idb and
                                           (K == 0 or &ma[0] == &mb[0]))))
    with nogil:
        for k in range(K):
            r = k if ida else ma[k]
            s = k if idb else mb[k]
            if r >= 0 and s >= 0:
                bound += (pa[r + 1] - pa[r]) * (pb[s + 1] - pb[s])
    out_ptr = _alloc(K + 1, cnp.NPY_INT64, 8)
    out_ind = _alloc(bound, cnp.NPY_INT64, 8)
    cdef i64[::1] op = out_ptr
    cdef i64[::1] oi = out_ind
    if square:
        with nogil:
            op[0] = 0
            for k in range(K):
                r = k if ida else ma[k]
                if r >= 0:
                    for qa in range(pa[r], pa[r + 1]):
                        u = <i64>ia[qa] * n
                        for qb in range(qa, pa[r + 1]):
                            oi[pos] = u + <i64>ia[qb]
                            pos += 1
                op[k + 1] = pos
        return out_ptr, _trim(out_ind, pos)
    with nogil:
        op[0] = 0
        for k in range(K):
            r = k if ida else ma[k]
            s = k if idb else mb[k]
            start = pos
            if r >= 0 and s >= 0:
                for qa in range(pa[r], pa[r + 1]):
                    u = ia[qa]
                    for qb in range(pb[s], pb[s + 1]):
                        v = ib[qb]
                        oi[pos] = u * n + v if u <= v else v * n + u
                        pos += 1
            if pos - start > 1:
                pos = _sort_unique(out_ind, &oi[0], start, pos)
            op[k + 1] = pos
    return out_ptr, _trim(out_ind, pos)


def symmetric(const i64[::1] codes, i64 n):
    """The symmetric CSR pattern of sorted, unique pair codes i*n + j (i <= j).

    Row r holds its lower part {i < r : (i, r)} then its upper part
    {j >= r : (r, j)}; both come out sorted from one pass in code order.

    Parameters
    ----------
    codes : ndarray of int64, shape (nnz,)
        Strictly increasing pair codes with i <= j < n.
    n : int
        The matrix order.

    Returns
    -------
    indptr, indices : ndarray of int64, shapes (n + 1,) and (2 nnz - diagonal,)
    """
    if n < 0 or n > 3037000499:
        raise ValueError(f"symmetric: n = {n} out of range")
    cdef Py_ssize_t q, m = codes.shape[0]
    cdef i64 i, j
    lower = np.zeros(n + 1, dtype=np.int64)      # entries below the diagonal, per row
    indptr = np.zeros(n + 1, dtype=np.int64)
    cdef i64[::1] cl = lower
    cdef i64[::1] ip = indptr
    for q in range(m):                           # checks and counts in one pass
        if codes[q] < 0 or codes[q] >= n * n or (q and codes[q] <= codes[q - 1]):
            raise ValueError("symmetric: codes must be increasing and in [0, n*n)")
        i = codes[q] // n
        j = codes[q] - i * n
        if j < i:
            raise ValueError("symmetric: codes must have i <= j")
        ip[i + 1] += 1
        if i < j:
            ip[j + 1] += 1
            cl[j] += 1
    for q in range(n):
        ip[q + 1] += ip[q]
    indices = np.empty(ip[n], dtype=np.int64)
    cursor = np.empty(2 * n + 1, dtype=np.int64)
    cdef i64[::1] ind = indices
    cdef i64[::1] cur = cursor                   # [0, n): lower slots, [n, 2n): upper
    with nogil:
        for q in range(n):
            cur[q] = ip[q]
            cur[n + q] = ip[q] + cl[q]
        for q in range(m):
            i = codes[q] // n
            j = codes[q] - i * n
            ind[cur[n + i]] = j
            cur[n + i] += 1
            if i < j:
                ind[cur[j]] = i
                cur[j] += 1
    return indptr, indices
