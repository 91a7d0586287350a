"""Colorings of Jacobian and Hessian sparsity patterns (the Python boundary).

Design
------
Patterns are validated and brought to one canonical form here (a SciPy CSR
structure with sorted, unique intp indices); the greedy algorithms in
``_coloring.pyx`` assume that form.  A Jacobian pattern gets a column
coloring (no two columns of one color share a row: J s_c holds each J[i, j]
alone); a Hessian pattern gets a star coloring, whose direct recovery reads
each H[i, j] alone from H s_c by symmetry.  SciPy is imported lazily.
"""
import numpy as np

from . import _coloring

__all__ = ["column_coloring", "star_coloring"]


def _sparse():
    import scipy.sparse
    return scipy.sparse


def _canonical(pattern, name, fname, shape=None):
    """A structural pattern as a canonical ``scipy.sparse.csr_array`` of bools.

    Every stored entry counts (an explicitly stored zero is kept: it says
    "may be nonzero"); a dense array counts its nonzeros.
    """
    sp = _sparse()
    if sp.issparse(pattern):
        if pattern.ndim != 2:
            raise ValueError(f"{fname}(): {name} must be 2-D, got {pattern.ndim}-D")
        if pattern.dtype.kind not in "biuf":
            raise TypeError(f"{fname}(): {name} must be a boolean or real pattern, got "
                            f"dtype {pattern.dtype}")
        if pattern.format == "csr" and pattern.has_canonical_format:
            # sorted and unique already: only the structure is copied
            P = sp.csr_array((np.ones(pattern.nnz, dtype=bool),
                              pattern.indices.astype(np.intp), pattern.indptr.astype(np.intp)),
                             shape=pattern.shape, copy=False)
        else:
            P = sp.csr_array(pattern, copy=True)
            P.sum_duplicates()
            P.data = np.ones(P.nnz, dtype=bool)     # stored entries, zeros included
    else:
        a = np.asarray(pattern)
        if a.ndim != 2:
            raise ValueError(f"{fname}(): {name} must be a 2-D pattern (a scipy.sparse "
                             f"array or a boolean ndarray), got shape {a.shape}")
        if a.dtype.kind not in "biuf":
            raise TypeError(f"{fname}(): {name} must be a boolean or real pattern, got "
                            f"dtype {a.dtype}")
        P = sp.csr_array(a != 0)
    if shape is not None and P.shape != tuple(shape):
        raise ValueError(f"{fname}(): {name} has shape {P.shape}, but {shape} is needed "
                         f"(outputs flattened in C order x inputs flattened in C order)")
    P.sort_indices()
    P.indptr = P.indptr.astype(np.intp, copy=False)
    P.indices = P.indices.astype(np.intp, copy=False)
    return P


def _symmetric(P):
    """P | P.T, canonical (a Hessian pattern must be symmetric: the union
    never drops an entry)."""
    if P.shape[0] != P.shape[1]:
        raise ValueError(f"a Hessian pattern must be square, got shape {P.shape}")
    S = (P + P.T).tocsr()
    S.sum_duplicates()
    S.data = np.ones(S.nnz, dtype=bool)
    S.sort_indices()
    S.indptr = S.indptr.astype(np.intp, copy=False)
    S.indices = S.indices.astype(np.intp, copy=False)
    return S


def column_coloring(pattern):
    """Colors of the columns of a Jacobian pattern such that no two columns of
    one color share a row (distance-1 coloring of the column intersection
    graph), so one forward pass per color recovers every entry.

    Greedy in C: in index order first, kept when it reaches the lower bound
    (the longest row: banded and block patterns, in one sweep); else in
    largest-first order, and then DSATUR order (most distinctly colored
    neighbours first, ties largest-first), the better of the two.  The
    column intersection graph is walked through the pattern and its
    transpose, J^T J is never formed.  Typical counts:
    diagonal 1, tridiagonal 3, 2-D 5-point stencil 5 (optimal), 2-D
    Brusselator (two coupled periodic 5-point grids, N = 32, 2,048
    unknowns) 10, where a row has 6 entries; a pattern with a dense row
    (an arrowhead) needs n colors, since every pair of columns meets in
    that row -- forward-mode coloring cannot compress it.

    Parameters
    ----------
    pattern : scipy.sparse array/matrix or array_like, shape (m, n)
        The structural nonzeros (every stored entry counts, even a stored
        zero; for a dense array, its nonzeros).

    Returns
    -------
    ndarray of intp, shape (n,)
        ``colors[j]`` in ``0 .. ncolors - 1``.

    Raises
    ------
    ValueError
        If the pattern is not 2-D.
    TypeError
        If it is not boolean or real.

    See Also
    --------
    star_coloring : for symmetric (Hessian) patterns.
    sparse_jacobian : uses this coloring.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> P = np.eye(5, dtype=bool) | np.eye(5, k=1, dtype=bool) | np.eye(5, k=-1, dtype=bool)
    >>> dualml.column_coloring(P)
    array([0, 1, 2, 0, 1])
    """
    P = _canonical(pattern, "pattern", "column_coloring")
    return _coloring.column_coloring(P.indptr, P.indices, P.shape[1])


def star_coloring(pattern):
    """A star coloring of a symmetric (Hessian) pattern: adjacent variables
    differ in color and every path on four vertices uses at least three
    colors, so each H[i, j] is read directly from H s_c (Gebremedhin,
    Manne & Pothen, SIAM Review 47, 2005).

    Greedy in C, largest-first.  The diagonal is ignored; a non-symmetric
    pattern is symmetrized (its union with its transpose).  Typical counts:
    diagonal 1, tridiagonal 3, arrowhead 2 (the hub one color, every leaf
    the other), 2-D 5-point stencil 5.

    Parameters
    ----------
    pattern : scipy.sparse array/matrix or array_like, shape (n, n)
        The structural nonzeros.

    Returns
    -------
    ndarray of intp, shape (n,)

    Raises
    ------
    ValueError
        If the pattern is not square.

    See Also
    --------
    column_coloring, sparse_hessian

    Examples
    --------
    >>> import numpy as np, dualml
    >>> P = np.eye(5, dtype=bool)
    >>> P[0, :] = P[:, 0] = True          # an arrowhead
    >>> dualml.star_coloring(P)
    array([0, 1, 1, 1, 1])
    """
    P = _symmetric(_canonical(pattern, "pattern", "star_coloring"))
    return _coloring.star_coloring(P.indptr, P.indices)
