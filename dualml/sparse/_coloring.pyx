# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: binding=True, embedsignature=True, initializedcheck=False
"""Greedy graph colorings of sparsity patterns and their recovery indices.

Design
------
Patterns arrive as CSR index arrays (``indptr``, ``indices``; intp, or int32
or int64 for the column coloring, which works in the input's type), already
validated by ``dualml.sparse.coloring`` or produced by detection; nothing here
allocates a dense matrix or forms J^T J.  Column coloring first tries
``j mod (longest row)`` (optimal when valid, O(nnz)), its work arrays in one
retained scratch buffer (fresh ones cost page faults).  Column coloring is distance-1 coloring of the column
intersection graph, walked through the pattern and its transpose (two columns
are neighbours when they share a row).  Star coloring follows Gebremedhin,
Manne & Pothen (SIAM Review 47, 2005): a distance-1 coloring in which every
path on four vertices uses at least three colors; the greedy step rejects a
color exactly when it would close a two-colored path with already-colored
vertices, so the result is a star coloring by induction.  Both use the
largest-first order (degree bound: the sum of the other entries of the rows
or neighbours), stable, so equal degrees keep index order.  The ``*_gather``
functions give, for every stored entry of the pattern, its flat index in the
compressed product laid out as the forward pass returns it: ``(colors, rows)``.
"""
cimport cython
cimport numpy as cnp
import numpy as np

cnp.import_array()

ctypedef cnp.intp_t idx


ctypedef fused ix:
    cnp.int32_t
    cnp.int64_t


# ---- scratch memory ---------------------------------------------------------------------
#: the largest work buffer kept between calls (bytes): fresh work arrays cost a page
#: fault per 4 KiB touched, more than the coloring of a banded pattern itself
_SCRATCH_MAX_BYTES = 64 * 2**20
_SCRATCH = []                    # at most one uint8 buffer, taken by a call, given back
#: int32 patterns with this many columns, rows or entries are colored in int64
_INT32_LIMIT = 2**31 - 1


def _scratch_take(Py_ssize_t nbytes):
    buf = None
    try:
        buf = _SCRATCH.pop()     # atomic under the GIL: two threads never share one
    except IndexError:
        pass
    if buf is None or buf.shape[0] < nbytes:
        buf = np.empty(max(nbytes, 64), dtype=np.uint8)
    return buf


def _scratch_give(buf):
    if not _SCRATCH and buf.shape[0] <= _SCRATCH_MAX_BYTES:
        _SCRATCH.append(buf)


cdef void _transpose_raw(const ix *ptr, const ix *ind, Py_ssize_t nrows, Py_ssize_t ncols,
                         ix *tptr, ix *tind) noexcept nogil:
    # tptr (ncols + 1) and tind (nnz): the CSR structure of the transpose; the
    # fill cursors live in tptr itself (shifted by one, restored as they advance)
    cdef Py_ssize_t i, j, p, nnz = ptr[nrows]
    cdef ix c, s
    for j in range(ncols + 1):
        tptr[j] = 0
    for p in range(nnz):
        tptr[ind[p] + 1] += 1
    s = 0
    for j in range(ncols):
        c = tptr[j + 1]
        tptr[j + 1] = s                 # start of column j, the cursor for j
        s += c
    for i in range(nrows):
        for p in range(ptr[i], ptr[i + 1]):
            j = ind[p]
            tind[tptr[j + 1]] = <ix>i
            tptr[j + 1] += 1
    # tptr[j + 1] is now the end of column j, tptr[0] == 0


cdef bint _cyclic(const ix *ptr, const ix *ind, Py_ssize_t nrows, Py_ssize_t ncols,
                  Py_ssize_t lower, cnp.intp_t *color, ix *last) noexcept nogil:
    """color[j] = j mod lower, if that is a valid coloring (then optimal: a row
    holds lower columns).  Banded, block-diagonal and dense-row patterns pass;
    the check stops at the first row that meets a color twice.  O(nnz), no
    transpose.  last: lower + 1 entries of scratch."""
    cdef Py_ssize_t i, j, p, c = 0
    if lower < 1:
        lower = 1
    if lower > ncols:                   # duplicate entries: not a canonical pattern
        return False
    for j in range(ncols):
        color[j] = c
        c += 1
        if c == lower:
            c = 0
    for j in range(lower):
        last[j] = -1
    for i in range(nrows):
        for p in range(ptr[i], ptr[i + 1]):
            c = color[ind[p]]
            if last[c] == i:
                return False
            last[c] = <ix>i
    return True


cdef Py_ssize_t _greedy(const ix *ptr, const ix *ind, const ix *tptr, const ix *tind,
                        Py_ssize_t ncols, const ix *order, cnp.intp_t *color,
                        ix *forbidden, Py_ssize_t limit) noexcept nogil:
    """Greedy distance-1 coloring of the columns in the given order (NULL: index
    order); returns the number of colors, or -1 as soon as a column would need
    color ``limit`` or more (limit > 0)."""
    cdef Py_ssize_t q, j, p, i, k, c, ncolors = 0
    for j in range(ncols):
        color[j] = -1
    for j in range(ncols + 1):
        forbidden[j] = -1
    for q in range(ncols):
        j = q if order == NULL else order[q]
        for p in range(tptr[j], tptr[j + 1]):
            i = tind[p]
            for k in range(ptr[i], ptr[i + 1]):
                c = color[ind[k]]
                if c >= 0:
                    forbidden[c] = <ix>j
        c = 0
        while forbidden[c] == j:
            c += 1
        if limit > 0 and c >= limit:
            return -1
        color[j] = c
        if c + 1 > ncolors:
            ncolors = c + 1
    return ncolors


def transpose(const ix[::1] indptr, const ix[::1] indices, Py_ssize_t ncols):
    """transpose(indptr, indices, ncols) -> (tptr, tind)

    The CSR structure of the transposed pattern (row indices sorted), in the
    index type of the input.
    """
    cdef Py_ssize_t nrows = indptr.shape[0] - 1
    if nrows < 0:
        raise ValueError("transpose: indptr must have at least one entry")
    dt = np.int32 if ix is cnp.int32_t else np.int64
    tptr_a = np.empty(ncols + 1, dtype=dt)
    tind_a = np.empty(indices.shape[0], dtype=dt)
    cdef ix[::1] tp = tptr_a
    cdef ix[::1] ti = tind_a
    with nogil:
        _transpose_raw(&indptr[0], &indices[0] if indices.shape[0] else NULL, nrows, ncols,
                       &tp[0], &ti[0] if ti.shape[0] else NULL)
    return tptr_a, tind_a


def column_coloring(const ix[::1] indptr, const ix[::1] indices, Py_ssize_t ncols):
    """column_coloring(indptr, indices, ncols) -> intp array (ncols,)

    Greedy distance-1 coloring of the column intersection graph of an
    (m, ncols) CSR pattern (int32 or int64 indices): no two columns of one
    color share a row.  First j mod (the longest row), kept if valid (then
    optimal: banded, block-diagonal, dense-row patterns, in O(nnz) without
    the transpose); then greedy in index order, kept if it reaches that lower
    bound; else in largest-first order; if that misses the bound too, again choosing next
    a column of largest saturation (distinct colors among its neighbours;
    DSATUR, Brelaz 1979), which finds the optimal 5 on 5-point stencils
    where largest-first takes 7; the coloring with fewer colors is
    returned.  An empty column may take any color.
    """
    cdef Py_ssize_t nrows = indptr.shape[0] - 1, nnz = indices.shape[0]
    if nrows < 0:
        raise ValueError("column_coloring: indptr must have at least one entry")
    if ix is cnp.int32_t:
        if max(ncols, nnz, nrows) >= _INT32_LIMIT:
            # the work arrays hold column numbers and positions: int64 then
            return column_coloring(np.asarray(indptr, dtype=np.int64),
                                   np.asarray(indices, dtype=np.int64), ncols)
    colors_a = np.empty(ncols, dtype=np.intp)
    if ncols == 0:
        return colors_a
    cdef cnp.intp_t[::1] color_v = colors_a
    cdef cnp.intp_t *color = &color_v[0]
    cdef Py_ssize_t isz = sizeof(ix)
    # work in the input's index type: tptr, tind, forbidden, deg, order
    buf = _scratch_take((4 * ncols + 2 + nnz) * isz)
    cdef ix *tptr = <ix *>cnp.PyArray_DATA(buf)
    cdef ix *forbidden = tptr + ncols + 1
    cdef ix *deg = forbidden + ncols + 1
    cdef ix *order = deg + ncols
    cdef ix *tind = order + ncols
    cdef const ix *ptr = &indptr[0]
    cdef const ix *ind = &indices[0] if nnz else NULL
    cdef Py_ssize_t i, j, p, q, d, lower = 0, maxdeg = 0, nlf
    try:
        with nogil:
            for i in range(nrows):
                if ptr[i + 1] - ptr[i] > lower:
                    lower = ptr[i + 1] - ptr[i]
            if _cyclic(ptr, ind, nrows, ncols, lower, color, forbidden):
                nlf = 0
            else:
                _transpose_raw(ptr, ind, nrows, ncols, tptr, tind)
                nlf = -1
        if nlf == 0:
            return colors_a             # optimal: j mod (longest row)
        with nogil:
            nlf = _greedy(ptr, ind, tptr, tind, ncols, NULL, color, forbidden,
                          lower if lower > 1 else 1)
        if nlf >= 0:
            return colors_a             # optimal in index order
        with nogil:
            for j in range(ncols):
                # an upper bound of the degree, O(nnz) instead of the exact
                # distance-2 count: the other entries of the column's rows
                d = 0
                for p in range(tptr[j], tptr[j + 1]):
                    i = tind[p]
                    d += ptr[i + 1] - ptr[i] - 1
                deg[j] = <ix>d
                if d > maxdeg:
                    maxdeg = d
        start_a = np.zeros(maxdeg + 2, dtype=np.intp)
        _counting_order(deg, order, ncols, maxdeg, <cnp.intp_t *>cnp.PyArray_DATA(start_a))
        with nogil:
            nlf = _greedy(ptr, ind, tptr, tind, ncols, order, color, forbidden, 0)
        if nlf <= lower or nlf <= 1:
            return colors_a
        lf_a = colors_a.copy()
        _dsatur(ptr, ind, tptr, tind, ncols, order, color, forbidden)
        return colors_a if colors_a.max() < nlf else lf_a
    finally:
        _scratch_give(buf)


cdef void _counting_order(const ix *deg, ix *order, Py_ssize_t n, Py_ssize_t maxdeg,
                          cnp.intp_t *start) noexcept:
    # vertices by decreasing degree, ties in index order (a stable counting sort)
    cdef Py_ssize_t v, d
    for v in range(n):
        start[maxdeg - deg[v] + 1] += 1
    for d in range(1, maxdeg + 2):
        start[d] += start[d - 1]
    for v in range(n):
        d = maxdeg - deg[v]
        order[start[d]] = <ix>v
        start[d] += 1


cdef void _dsatur(const ix *ptr, const ix *ind, const ix *tptr, const ix *tind,
                  Py_ssize_t ncols, const ix *order, cnp.intp_t *color,
                  ix *forbidden) except *:
    # saturation buckets: doubly linked lists, bucket 0 in largest-first
    # order; seen64[j] the colors < 64 already counted for column j (a later
    # color counts at every coloring of a neighbour: only the order gets
    # coarser).  One walk over j's rows marks the forbidden colors and lists
    # j's uncolored neighbours once each (mark[w] == j); the saturation
    # updates run over that list.
    work_a = np.empty(6 * ncols + 1, dtype=np.intp)
    seen_a = np.zeros(ncols, dtype=np.uint64)
    cdef cnp.intp_t *head = <cnp.intp_t *>cnp.PyArray_DATA(work_a)    # ncols + 1
    cdef cnp.intp_t *nxt = head + ncols + 1
    cdef cnp.intp_t *prv = nxt + ncols
    cdef cnp.intp_t *sat = prv + ncols
    cdef cnp.intp_t *mark = sat + ncols
    cdef cnp.intp_t *nbr = mark + ncols
    cdef cnp.uint64_t *seen64 = <cnp.uint64_t *>cnp.PyArray_DATA(seen_a)
    cdef Py_ssize_t j, p, q, i, c, w, k, s, m, top = 0
    cdef cnp.uint64_t bit
    with nogil:
        for j in range(ncols):
            color[j] = -1
            mark[j] = -1
        for j in range(ncols + 1):
            forbidden[j] = -1
            head[j] = -1
        for j in range(ncols):
            sat[j] = 0
            prv[j] = -1
        for q in range(ncols - 1, -1, -1):
            j = order[q]
            nxt[j] = head[0]
            if head[0] >= 0:
                prv[head[0]] = j
            head[0] = j
        for q in range(ncols):
            while top > 0 and head[top] < 0:
                top -= 1
            j = head[top]
            # unlink j from its bucket
            if prv[j] >= 0:
                nxt[prv[j]] = nxt[j]
            else:
                head[sat[j]] = nxt[j]
            if nxt[j] >= 0:
                prv[nxt[j]] = prv[j]
            mark[j] = j
            m = 0
            for p in range(tptr[j], tptr[j + 1]):
                i = tind[p]
                for k in range(ptr[i], ptr[i + 1]):
                    w = ind[k]
                    c = color[w]
                    if c >= 0:
                        forbidden[c] = <ix>j
                    elif mark[w] != j:
                        mark[w] = j
                        nbr[m] = w
                        m += 1
            c = 0
            while forbidden[c] == j:
                c += 1
            color[j] = c
            bit = (<cnp.uint64_t>1) << c if c < 64 else 0
            for k in range(m):
                w = nbr[k]
                if (bit != 0 and (seen64[w] & bit)) or sat[w] >= ncols:
                    continue
                seen64[w] |= bit
                # move w from bucket sat[w] to sat[w] + 1 (to its front)
                if prv[w] >= 0:
                    nxt[prv[w]] = nxt[w]
                else:
                    head[sat[w]] = nxt[w]
                if nxt[w] >= 0:
                    prv[nxt[w]] = prv[w]
                sat[w] += 1
                s = sat[w]
                nxt[w] = head[s]
                prv[w] = -1
                if head[s] >= 0:
                    prv[head[s]] = w
                head[s] = w
                if s > top:
                    top = s


cdef inline void _counting_order_mv(idx[::1] deg, idx[::1] order, idx n, idx maxdeg):
    # vertices by decreasing degree, ties in index order (a stable counting sort)
    cdef idx[::1] start = np.zeros(maxdeg + 2, dtype=np.intp)
    cdef idx v, d
    for v in range(n):
        start[maxdeg - deg[v] + 1] += 1
    for d in range(1, maxdeg + 2):
        start[d] += start[d - 1]
    for v in range(n):
        d = maxdeg - deg[v]
        order[start[d]] = v
        start[d] += 1




def star_coloring(const idx[::1] indptr, const idx[::1] indices):
    """star_coloring(indptr, indices) -> intp array (n,)

    Greedy star coloring of the adjacency graph of a symmetric (n, n) CSR
    pattern (the diagonal is ignored), largest-first: adjacent vertices
    differ, and every path on four vertices uses at least three colors.
    """
    cdef idx n = indptr.shape[0] - 1
    colors_a = np.full(n, -1, dtype=np.intp)
    cdef idx[::1] color = colors_a
    cdef idx[::1] deg = np.zeros(n, dtype=np.intp)
    cdef idx[::1] order = np.empty(n, dtype=np.intp)
    cdef idx[::1] forbidden = np.full(n + 1, -1, dtype=np.intp)
    cdef idx[::1] seen = np.full(n + 1, -1, dtype=np.intp)     # count[c] valid if seen[c] == v
    cdef idx[::1] count = np.zeros(n + 1, dtype=np.intp)
    cdef idx v, q, p, w, cw, r, x, s, y, c, maxdeg = 0
    cdef bint hit
    for v in range(n):
        for p in range(indptr[v], indptr[v + 1]):
            if indices[p] != v:
                deg[v] += 1
        if deg[v] > maxdeg:
            maxdeg = deg[v]
    _counting_order_mv(deg, order, n, maxdeg)
    for q in range(n):
        v = order[q]
        # distance 1, and how many colored neighbours carry each color
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            if w == v or color[w] < 0:
                continue
            cw = color[w]
            forbidden[cw] = v
            if seen[cw] != v:
                seen[cw] = v
                count[cw] = 0
            count[cw] += 1
        for p in range(indptr[v], indptr[v + 1]):
            w = indices[p]
            if w == v or color[w] < 0:
                continue
            cw = color[w]
            for r in range(indptr[w], indptr[w + 1]):
                x = indices[r]
                if x == v or x == w or color[x] < 0 or forbidden[color[x]] == v:
                    continue
                if count[cw] >= 2:
                    # y - v - w - x with color(y) == color(w): color(x) would
                    # make it two-colored
                    forbidden[color[x]] = v
                    continue
                # v - w - x - y with color(y) == color(w), y != w
                hit = False
                for s in range(indptr[x], indptr[x + 1]):
                    y = indices[s]
                    if y != w and y != x and color[y] == cw:
                        hit = True
                        break
                if hit:
                    forbidden[color[x]] = v
        c = 0
        while forbidden[c] == v:
            c += 1
        color[v] = c
    return colors_a


def column_gather(const ix[::1] indptr, const ix[::1] indices, const cnp.intp_t[::1] color,
                  Py_ssize_t nrows):
    """column_gather(indptr, indices, color, nrows) -> intp array (nnz,)

    For every stored entry (i, j) of the pattern, ``color[j] * nrows + i``:
    its place in the compressed product B (ncolors, nrows), B[c] = J s_c.
    """
    cdef Py_ssize_t nnz = indices.shape[0]
    if nrows != indptr.shape[0] - 1:
        raise ValueError(f"column_gather: nrows = {nrows}, but indptr has "
                         f"{indptr.shape[0] - 1} rows")
    out_a = np.empty(nnz, dtype=np.intp)
    if nnz == 0:
        return out_a
    cdef cnp.intp_t[::1] out_v = out_a
    cdef cnp.intp_t *out = &out_v[0]
    cdef const ix *ptr = &indptr[0]
    cdef const ix *ind = &indices[0]
    cdef const cnp.intp_t *col = &color[0] if color.shape[0] else NULL
    cdef Py_ssize_t i, p, j, ncol = color.shape[0]
    cdef bint bad = False
    with nogil:
        for i in range(nrows):
            for p in range(ptr[i], ptr[i + 1]):
                j = ind[p]
                if j < 0 or j >= ncol:
                    bad = True
                    break
                out[p] = col[j] * nrows + i
            if bad:
                break
    if bad:
        raise IndexError(f"column_gather: a column index is outside the {ncol} colors")
    return out_a


def star_gather(const idx[::1] indptr, const idx[::1] indices, const idx[::1] color):
    """star_gather(indptr, indices, color) -> intp array (nnz,)

    Direct recovery for a star coloring of a symmetric (n, n) pattern: the
    flat index into B (ncolors, n), B[c] = H s_c, of every stored entry
    (i, j).  For i < j, H[i, j] is read at row i of color(j)'s column when j
    is i's only neighbour of color(j), else at row j of color(i)'s column;
    H[j, i] is read from the same place (an exactly symmetric result).
    Raises ValueError if neither holds (the coloring is not a star coloring
    of this pattern) or the pattern is not symmetric.
    """
    cdef idx n = indptr.shape[0] - 1
    cdef idx nnz = indices.shape[0]
    cdef idx ncolors = 0
    cdef idx i, j, p, r, c
    for i in range(n):
        if color[i] + 1 > ncolors:
            ncolors = color[i] + 1
    out_a = np.empty(nnz, dtype=np.intp)
    cdef idx[::1] out = out_a
    # count[i, c]: neighbours of i (i excluded) of color c -- only the rows of
    # colors that occur, via a per-row stamp
    cdef idx[::1] seen = np.full(ncolors, -1, dtype=np.intp)
    cdef idx[::1] count = np.zeros(ncolors, dtype=np.intp)
    cdef idx[::1] unique_ok = np.empty(nnz, dtype=np.intp)
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j == i:
                continue
            c = color[j]
            if seen[c] != i:
                seen[c] = i
                count[c] = 0
            count[c] += 1
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            unique_ok[p] = j != i and count[color[j]] == 1 and color[j] != color[i]
    # one source per pair {i, j} (the rule applied to i < j), so the
    # result is exactly symmetric
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            if j == i:
                out[p] = color[i] * n + i
                continue
            r = _find(indices, indptr[j], indptr[j + 1], i)     # the entry (j, i)
            if r < 0:
                raise ValueError(f"the pattern is not symmetric: ({i}, {j}) is stored "
                                 f"but ({j}, {i}) is not")
            if i < j:
                if unique_ok[p]:
                    out[p] = color[j] * n + i
                elif unique_ok[r]:
                    out[p] = color[i] * n + j
                else:
                    raise ValueError(f"entry ({i}, {j}) cannot be recovered: the coloring "
                                     f"is not a star coloring of this symmetric pattern")
            elif unique_ok[r]:
                out[p] = color[i] * n + j
            elif unique_ok[p]:
                out[p] = color[j] * n + i
            else:
                raise ValueError(f"entry ({j}, {i}) cannot be recovered: the coloring "
                                 f"is not a star coloring of this symmetric pattern")
    return out_a


cdef inline idx _find(const idx[::1] indices, idx lo, idx hi, idx key) noexcept:
    cdef idx mid, end = hi
    while lo < hi:
        mid = (lo + hi) // 2
        if indices[mid] < key:
            lo = mid + 1
        else:
            hi = mid
    if lo < end and indices[lo] == key:
        return lo
    return -1
