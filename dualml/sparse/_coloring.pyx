# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: binding=True, embedsignature=True, initializedcheck=False
"""Greedy graph colorings of sparsity patterns and their recovery indices.

Design
------
Patterns arrive as CSR index arrays (``indptr``, ``indices``, intp), already
validated by ``dualml.sparse.coloring``; nothing here allocates a dense matrix
or forms J^T J.  Column coloring is distance-1 coloring of the column
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


cdef inline void _counting_order(idx[::1] deg, idx[::1] order, idx n, idx maxdeg):
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


def transpose(const idx[::1] indptr, const idx[::1] indices, idx ncols):
    """transpose(indptr, indices, ncols) -> (tptr, tind)

    The CSR structure of the transposed pattern (row indices sorted).
    """
    cdef idx nrows = indptr.shape[0] - 1
    cdef idx nnz = indices.shape[0]
    tptr_a = np.zeros(ncols + 1, dtype=np.intp)
    tind_a = np.empty(nnz, dtype=np.intp)
    cdef idx[::1] tptr = tptr_a
    cdef idx[::1] tind = tind_a
    cdef idx[::1] fill = np.empty(ncols, dtype=np.intp)
    cdef idx i, p, j
    for p in range(nnz):
        tptr[indices[p] + 1] += 1
    for j in range(ncols):
        tptr[j + 1] += tptr[j]
        fill[j] = tptr[j]
    for i in range(nrows):
        for p in range(indptr[i], indptr[i + 1]):
            j = indices[p]
            tind[fill[j]] = i
            fill[j] += 1
    return tptr_a, tind_a


def column_coloring(const idx[::1] indptr, const idx[::1] indices, idx ncols):
    """column_coloring(indptr, indices, ncols) -> intp array (ncols,)

    Greedy distance-1 coloring of the column intersection graph of an
    (m, ncols) CSR pattern: no two columns of one color share a row.  First
    in largest-first order (one sweep); if that misses the lower bound (the
    longest row), again choosing next a column of largest saturation
    (distinct colors among its neighbours; DSATUR, Brelaz 1979), which
    finds the optimal 5 on 5-point stencils where largest-first takes 7;
    the coloring with fewer colors is returned.  An empty column gets
    color 0.
    """
    tptr_a, tind_a = transpose(indptr, indices, ncols)
    colors_a = np.full(ncols, -1, dtype=np.intp)
    # work arrays: one block, raw pointers in the loops (a typed memoryview
    # handed to a helper costs a reference-count round trip per call)
    work_a = np.empty(7 * ncols + 2, dtype=np.intp)
    seen_a = np.zeros(ncols, dtype=np.uint64)
    if ncols == 0:
        return colors_a
    cdef idx[::1] tptr_v = tptr_a
    cdef idx[::1] tind_v = tind_a
    cdef idx[::1] color_v = colors_a
    cdef idx[::1] work = work_a
    cdef cnp.uint64_t[::1] seen_v = seen_a
    cdef const idx *ptr = &indptr[0]
    cdef const idx *ind = &indices[0] if indices.shape[0] else NULL
    cdef idx *tptr = &tptr_v[0]
    cdef idx *tind = &tind_v[0] if tind_v.shape[0] else NULL
    cdef idx *color = &color_v[0]
    cdef idx *deg = &work[0]
    cdef idx *order = deg + ncols
    cdef idx *forbidden = order + ncols          # ncols + 1
    cdef idx *head = forbidden + ncols + 1       # ncols + 1
    cdef idx *nxt = head + ncols + 1
    cdef idx *prv = nxt + ncols
    cdef idx *sat = prv + ncols
    cdef cnp.uint64_t *seen64 = &seen_v[0]
    cdef idx j, p, q, i, c, w, k, s, top = 0, maxdeg = 0
    cdef cnp.uint64_t bit
    with nogil:
        for j in range(ncols):
            # an upper bound of the degree, O(nnz) instead of the exact
            # distance-2 count: the other entries of the column's rows
            deg[j] = 0
            for p in range(tptr[j], tptr[j + 1]):
                i = tind[p]
                deg[j] += ptr[i + 1] - ptr[i] - 1
            if deg[j] > maxdeg:
                maxdeg = deg[j]
    _counting_order(work_a[:ncols], work_a[ncols:2 * ncols], ncols, maxdeg)
    cdef idx lower = 0, nlf = 0
    with nogil:
        for i in range(indptr.shape[0] - 1):
            if ptr[i + 1] - ptr[i] > lower:
                lower = ptr[i + 1] - ptr[i]
        for j in range(ncols + 1):
            forbidden[j] = -1
        for q in range(ncols):
            j = order[q]
            for p in range(tptr[j], tptr[j + 1]):
                i = tind[p]
                for k in range(ptr[i], ptr[i + 1]):
                    c = color[ind[k]]
                    if c >= 0:
                        forbidden[c] = j
            c = 0
            while forbidden[c] == j:
                c += 1
            color[j] = c
            if c + 1 > nlf:
                nlf = c + 1
    if nlf <= lower or nlf <= 1:
        return colors_a                 # optimal
    lf_a = colors_a.copy()
    colors_a.fill(-1)
    with nogil:
        for j in range(ncols + 1):
            forbidden[j] = -1
            head[j] = -1
        # saturation buckets: doubly linked lists, bucket 0 in largest-first
        # order; seen64[j] the colors < 64 already counted for column j
        # (later colors count at every meeting: only the order gets coarser)
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
            for p in range(tptr[j], tptr[j + 1]):
                i = tind[p]
                for k in range(ptr[i], ptr[i + 1]):
                    c = color[ind[k]]
                    if c >= 0:
                        forbidden[c] = j
            c = 0
            while forbidden[c] == j:
                c += 1
            color[j] = c
            bit = (<cnp.uint64_t>1) << c if c < 64 else 0
            for p in range(tptr[j], tptr[j + 1]):
                i = tind[p]
                for k in range(ptr[i], ptr[i + 1]):
                    w = ind[k]
                    if color[w] >= 0 or (bit != 0 and (seen64[w] & bit)) or sat[w] >= ncols:
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
    return colors_a if colors_a.max() < nlf else lf_a


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
    _counting_order(deg, order, n, maxdeg)
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


def column_gather(const idx[::1] indptr, const idx[::1] indices, const idx[::1] color,
                  idx nrows):
    """column_gather(indptr, indices, color, nrows) -> intp array (nnz,)

    For every stored entry (i, j) of the pattern, ``color[j] * nrows + i``:
    its place in the compressed product B (ncolors, nrows), B[c] = J s_c.
    """
    cdef idx nnz = indices.shape[0]
    out_a = np.empty(nnz, dtype=np.intp)
    cdef idx[::1] out = out_a
    cdef idx i, p
    for i in range(nrows):
        for p in range(indptr[i], indptr[i + 1]):
            out[p] = color[indices[p]] * nrows + i
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
