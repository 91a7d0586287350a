"""Colorings of sparsity patterns (dualml.sparse.coloring, _coloring.pyx).

Validity is checked by brute force on the definitions (no two columns of a
color share a row; star: distance-1 and no two-colored path on four
vertices), recovery against the matrix itself, and the documented counts
on the standard patterns.
"""
import itertools

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import dualml
from dualml.sparse import _coloring
from dualml.sparse.coloring import _canonical, _symmetric


def tridiagonal(n):
    return sp.csr_array(sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)],
                                       offsets=[-1, 0, 1]) != 0)


def stencil5(N, periodic=False):
    """The 2-D 5-point stencil on an N x N grid, unknowns in row-major order."""
    idx = np.arange(N * N).reshape(N, N)
    rows, cols = [idx.ravel()], [idx.ravel()]
    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        i, j = np.meshgrid(np.arange(N), np.arange(N), indexing="ij")
        i2, j2 = i + di, j + dj
        if periodic:
            i2, j2 = i2 % N, j2 % N
            keep = np.ones_like(i2, dtype=bool)
        else:
            keep = (0 <= i2) & (i2 < N) & (0 <= j2) & (j2 < N)
        rows.append(idx[i[keep], j[keep]])
        cols.append(idx[i2[keep], j2[keep]])
    r, c = np.concatenate(rows), np.concatenate(cols)
    return sp.csr_array((np.ones(r.size, bool), (r, c)), shape=(N * N, N * N))


def brusselator(N):
    """The 2-D Brusselator's Jacobian pattern: u and v on a periodic N x N
    grid, each a 5-point stencil of its own field plus the other field at
    the same point (unknowns [u.ravel(), v.ravel()])."""
    L = stencil5(N, periodic=True)
    eye = sp.eye_array(N * N, dtype=bool)
    return sp.csr_array(sp.block_array([[L, eye], [eye, L]]) != 0)


def arrowhead(n):
    A = np.eye(n, dtype=bool)
    A[0, :] = A[:, 0] = True
    return A


def random_pattern(rng, m, n, per_row):
    A = np.zeros((m, n), dtype=bool)
    for i in range(m):
        A[i, rng.choice(n, size=min(per_row, n), replace=False)] = True
    return A


def random_symmetric(rng, n, density):
    A = rng.random((n, n)) < density
    return A | A.T | np.eye(n, dtype=bool)


def assert_column_valid(P, colors):
    P = sp.csr_array(P)
    assert colors.shape == (P.shape[1],) and colors.dtype == np.intp
    assert colors.min(initial=0) >= 0
    for i in range(P.shape[0]):
        cs = colors[P.indices[P.indptr[i]:P.indptr[i + 1]]]
        assert len(set(cs.tolist())) == cs.size, f"row {i} meets a color twice"


def assert_star_valid(P, colors):
    A = np.asarray(sp.csr_array(P).toarray(), dtype=bool)
    A = A | A.T
    np.fill_diagonal(A, False)
    n = A.shape[0]
    nbrs = [np.flatnonzero(A[v]).tolist() for v in range(n)]
    for v in range(n):
        for w in nbrs[v]:
            assert colors[v] != colors[w], f"neighbours {v}, {w} share a color"
    for a in range(n):                       # every path a - b - c - d
        for b in nbrs[a]:
            for c in nbrs[b]:
                if c == a:
                    continue
                for d in nbrs[c]:
                    if d in (a, b):
                        continue
                    used = {colors[a], colors[b], colors[c], colors[d]}
                    assert len(used) >= 3, f"path {a}-{b}-{c}-{d} is two-colored"


# -- documented counts ---------------------------------------------------------------

@pytest.mark.parametrize("n", [1, 2, 7, 100])
def test_diagonal_needs_one_color(n):
    assert dualml.column_coloring(sp.eye_array(n)).max() == 0
    assert dualml.star_coloring(sp.eye_array(n)).max() == 0


@pytest.mark.parametrize("n", [4, 10, 1000])
def test_tridiagonal_three_colors(n):
    c = dualml.column_coloring(tridiagonal(n))
    assert_column_valid(tridiagonal(n), c)
    assert c.max() + 1 == 3
    s = dualml.star_coloring(tridiagonal(n))
    assert s.max() + 1 == 3
    if n <= 10:
        assert_star_valid(tridiagonal(n), s)


@pytest.mark.parametrize("N", [5, 8, 16, 32])
def test_5_point_stencil_five_colors(N):
    P = stencil5(N)
    c = dualml.column_coloring(P)
    assert_column_valid(P, c)
    assert c.max() + 1 == 5                 # optimal: a row holds 5 columns
    s = dualml.star_coloring(P)
    assert s.max() + 1 == 5
    if N <= 8:
        assert_star_valid(P, s)


def test_arrowhead_dense_row_needs_n_colors_but_star_needs_two():
    n = 12
    P = arrowhead(n)
    c = dualml.column_coloring(P)
    assert_column_valid(P, c)
    assert c.max() + 1 == n                 # row 0 meets every column
    s = dualml.star_coloring(P)
    assert s.max() + 1 == 2
    assert_star_valid(P, s)


def test_brusselator_colors():
    P = brusselator(32)
    c = dualml.column_coloring(P)
    assert_column_valid(P, c)
    # a row holds 6 columns (the lower bound); the documented count is 10
    # (the issue quotes about 12 for SparseDiffTools.jl's coloring)
    assert c.max() + 1 == 10


# -- validity on random patterns ---------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_column_coloring_valid_on_random_patterns(seed):
    rng = np.random.default_rng(seed)
    m, n = rng.integers(1, 60, size=2)
    P = random_pattern(rng, m, n, int(rng.integers(1, 6)))
    c = dualml.column_coloring(P)
    assert_column_valid(P, c)
    # the compressed product holds every entry alone: J s_c recovers J
    J = np.where(P, rng.standard_normal(P.shape), 0.0)
    S = np.zeros((c.max() + 1, n))
    S[c, np.arange(n)] = 1.0
    B = S @ J.T                              # (ncolors, m): B[c] = J s_c
    Pc = _canonical(P, "P", "test")
    g = _coloring.column_gather(Pc.indptr, Pc.indices, c, m)
    rows = np.repeat(np.arange(m), np.diff(Pc.indptr))
    np.testing.assert_array_equal(B.ravel()[g], J[rows, Pc.indices])


@pytest.mark.parametrize("seed", range(8))
def test_star_coloring_valid_and_recovery_exact(seed):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 30))
    P = random_symmetric(rng, n, rng.uniform(0.05, 0.3))
    s = dualml.star_coloring(P)
    assert_star_valid(P, s)
    H = np.where(P, rng.standard_normal((n, n)), 0.0)
    H = H + H.T
    S = np.zeros((s.max() + 1, n))
    S[s, np.arange(n)] = 1.0
    B = S @ H                                # B[c] = H s_c (H symmetric)
    Pc = _symmetric(_canonical(P, "P", "test"))
    g = _coloring.star_gather(Pc.indptr, Pc.indices, s)
    rows = np.repeat(np.arange(n), np.diff(Pc.indptr))
    np.testing.assert_array_equal(B.ravel()[g], H[rows, Pc.indices])


def test_star_coloring_handles_every_small_graph_on_five_vertices():
    # all 2^10 graphs on 5 labelled vertices
    pairs = list(itertools.combinations(range(5), 2))
    for mask in range(1 << len(pairs)):
        A = np.eye(5, dtype=bool)
        for k, (i, j) in enumerate(pairs):
            if mask >> k & 1:
                A[i, j] = A[j, i] = True
        assert_star_valid(A, dualml.star_coloring(A))


def test_star_gather_rejects_a_coloring_that_is_not_star():
    P = _symmetric(_canonical(tridiagonal(4), "P", "test"))
    with pytest.raises(ValueError, match="not a star coloring"):
        _coloring.star_gather(P.indptr, P.indices, np.array([0, 1, 0, 1], dtype=np.intp))


def test_nonsymmetric_pattern_is_symmetrized():
    A = np.eye(4, dtype=bool)
    A[0, 3] = True
    s = dualml.star_coloring(A)
    assert s[0] != s[3]


# -- input validation -------------------------------------------------------------------

def test_inputs_are_validated():
    with pytest.raises(ValueError, match="2-D"):
        dualml.column_coloring(np.ones(3))
    with pytest.raises(TypeError, match="dtype"):
        dualml.column_coloring(np.ones((2, 2), dtype=complex))
    with pytest.raises(TypeError, match="dtype"):
        dualml.column_coloring(np.array([["a"]]))
    with pytest.raises(ValueError, match="square"):
        dualml.star_coloring(np.ones((2, 3), dtype=bool))


def test_sparse_formats_and_stored_zeros_count():
    coo = sp.coo_array((np.array([0.0, 1.0]), (np.array([0, 0]), np.array([0, 1]))),
                       shape=(1, 2))
    c = dualml.column_coloring(coo)          # the stored 0.0 at (0, 0) is structural
    assert c[0] != c[1]
    c = dualml.column_coloring(sp.csc_matrix(np.eye(3)))
    assert c.tolist() == [0, 0, 0]


def test_docstring_examples_run():
    import doctest

    from dualml.sparse import coloring
    res = doctest.testmod(coloring)
    assert res.failed == 0 and res.attempted >= 6


def test_stub_matches_the_compiled_module():
    import ast
    import inspect
    import os
    path = os.path.join(os.path.dirname(_coloring.__file__), "_coloring.pyi")
    tree = ast.parse(open(path).read())
    stubs = {n.name: [a.arg for a in n.args.args] for n in tree.body
             if isinstance(n, ast.FunctionDef)}
    public = {n for n in dir(_coloring) if not n.startswith("_") and
              callable(getattr(_coloring, n)) and n not in ("np", "cython")}
    assert set(stubs) == public
    for name, params in stubs.items():
        assert list(inspect.signature(getattr(_coloring, name)).parameters) == params, name


@st.composite
def patterns(draw, square=False):
    m = draw(st.integers(1, 14))
    n = m if square else draw(st.integers(1, 14))
    cells = draw(st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, n - 1)),
                          max_size=40))
    A = np.zeros((m, n), dtype=bool)
    for i, j in cells:
        A[i, j] = True
    return A


@settings(max_examples=150, deadline=None)
@given(patterns())
def test_column_coloring_property(P):
    c = dualml.column_coloring(P)
    assert_column_valid(P, c)
    assert c.max() + 1 <= P.shape[1]
    assert c.max() + 1 >= P.sum(axis=1).max(initial=0)     # the longest row bounds it below


@settings(max_examples=150, deadline=None)
@given(patterns(square=True))
def test_star_coloring_property_and_exact_recovery(P):
    P = P | P.T
    s = dualml.star_coloring(P)
    assert_star_valid(P, s)
    n = P.shape[0]
    rng = np.random.default_rng(n)
    H = np.where(P | np.eye(n, dtype=bool), rng.standard_normal((n, n)), 0.0)
    H = H + H.T
    S = np.zeros((s.max() + 1, n))
    S[s, np.arange(n)] = 1.0
    Pc = _symmetric(_canonical(P | np.eye(n, dtype=bool), "P", "test"))
    g = _coloring.star_gather(Pc.indptr, Pc.indices, s)
    rows = np.repeat(np.arange(n), np.diff(Pc.indptr))
    np.testing.assert_array_equal((S @ H).ravel()[g], H[rows, Pc.indices])


# -- the cyclic first try, index types, scratch reuse -------------------------------

def band(n, lo, hi):
    return sp.csr_array(sum(sp.eye_array(n, k=k, dtype=bool) for k in range(-lo, hi + 1)) != 0)


@pytest.mark.parametrize("lo,hi", [(0, 0), (1, 1), (2, 2), (0, 3), (4, 1)])
def test_banded_patterns_get_the_optimal_cyclic_coloring(lo, hi):
    P = band(40, lo, hi)
    c = dualml.column_coloring(P)
    assert_column_valid(P, c)
    assert c.max() + 1 == lo + hi + 1                       # the longest row
    assert np.array_equal(c, np.arange(40) % (lo + hi + 1))


def test_block_diagonal_and_dense_column_patterns():
    B = sp.csr_array(sp.block_diag([np.ones((4, 4), bool)] * 6) != 0)
    c = dualml.column_coloring(B)
    assert_column_valid(B, c)
    assert c.max() + 1 == 4
    # a dense column beside the diagonal: j mod 2 fails (column 0 meets all),
    # the greedy in index order reaches the bound 2
    D = np.eye(9, dtype=bool)
    D[:, 0] = True
    c = dualml.column_coloring(D)
    assert_column_valid(D, c)
    assert c.max() + 1 == 2


@pytest.mark.parametrize("seed", range(4))
def test_int32_and_int64_indices_give_the_same_colorings(seed):
    rng = np.random.default_rng(100 + seed)
    P = sp.csr_array(random_pattern(rng, 30, 25, 3))
    out = []
    for dt in (np.int32, np.int64):
        ip, ii = P.indptr.astype(dt), P.indices.astype(dt)
        c = _coloring.column_coloring(ip, ii, 25)
        tp, ti = _coloring.transpose(ip, ii, 25)
        assert tp.dtype == dt and ti.dtype == dt
        T = P.T.tocsr()
        T.sort_indices()
        assert np.array_equal(tp, T.indptr) and np.array_equal(ti, T.indices)
        out.append((c, _coloring.column_gather(ip, ii, c, 30)))
    assert_column_valid(P, out[0][0])
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])


def test_scratch_buffer_is_reused_and_bounded(monkeypatch):
    _coloring._SCRATCH.clear()
    P = stencil5(8)
    c1 = dualml.column_coloring(P)
    (buf,) = _coloring._SCRATCH
    c2 = dualml.column_coloring(P)
    assert _coloring._SCRATCH == [buf] and np.array_equal(c1, c2)
    monkeypatch.setattr(_coloring, "_SCRATCH_MAX_BYTES", 16)
    _coloring._SCRATCH.clear()
    assert np.array_equal(dualml.column_coloring(P), c1)
    assert _coloring._SCRATCH == []                          # too big to keep


def test_int32_patterns_above_the_limit_are_colored_in_int64(monkeypatch):
    P = stencil5(6)
    ip, ii = P.indptr.astype(np.int32), P.indices.astype(np.int32)
    want = _coloring.column_coloring(ip, ii, P.shape[1])
    monkeypatch.setattr(_coloring, "_INT32_LIMIT", 10)      # 36 columns: above it
    got = _coloring.column_coloring(ip, ii, P.shape[1])
    assert np.array_equal(got, want)
    assert_column_valid(P, got)


def test_an_empty_indptr_is_refused():
    for fn in (lambda p, i: _coloring.column_coloring(p, i, 0),
               lambda p, i: _coloring.transpose(p, i, 0)):
        with pytest.raises(ValueError, match="at least one entry"):
            fn(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32))


def test_column_gather_checks_the_row_count():
    P = _canonical(tridiagonal(4), "P", "test")
    c = dualml.column_coloring(P)
    with pytest.raises(ValueError, match="nrows"):
        _coloring.column_gather(P.indptr, P.indices, c, 5)
    with pytest.raises(IndexError, match="colors"):
        _coloring.column_gather(P.indptr, P.indices, c[:2], 4)
