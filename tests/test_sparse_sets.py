"""The index-set kernels of dualml/sparse/_sets.pyx against Python sets."""
import numpy as np
import pytest

from dualml.sparse import _sets

RNG = np.random.default_rng(3)
I64 = np.int64


def family(rows, n=20, maxlen=6, dtype=I64):
    sets = [sorted(set(RNG.integers(0, n, RNG.integers(0, maxlen + 1)).tolist()))
            for _ in range(rows)]
    ptr = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(I64)
    ind = np.array([v for s in sets for v in s], dtype=dtype)
    return sets, ptr, ind


@pytest.fixture(params=[np.int32, np.int64], ids=["int32", "int64"])
def dtype(request):
    return request.param


def rows_of(ptr, ind):
    return [ind[ptr[k]:ptr[k + 1]].tolist() for k in range(len(ptr) - 1)]


def rowmap(k, rows):
    return RNG.integers(-1, rows, k).astype(I64)


def test_gather(dtype):
    sets, p, i = family(7, dtype=dtype)
    rm = rowmap(12, 7)
    out = _sets.gather(p, i, rm)
    assert out[1].dtype == dtype
    got = rows_of(*out)
    assert got == [sets[r] if r >= 0 else [] for r in rm]


@pytest.mark.parametrize("identity", [False, True])
def test_union2(identity, dtype):
    sa, pa, ia = family(9, dtype=dtype)
    sb, pb, ib = family(5 if not identity else 9, dtype=dtype)
    ra = None if identity else rowmap(11, 9)
    rb = None if identity else rowmap(11, 5)
    got = rows_of(*_sets.union2(pa, ia, ra, pb, ib, rb))
    ra = np.arange(9) if identity else ra
    rb = np.arange(9) if identity else rb
    want = [sorted(set(sa[r] if r >= 0 else []) | set(sb[s] if s >= 0 else []))
            for r, s in zip(ra, rb)]
    assert got == want


def test_segment_union(dtype):
    sets, p, i = family(8, dtype=dtype)
    seg_rows = rowmap(20, 8)
    seg_ptr = np.array([0, 3, 3, 10, 11, 20], dtype=I64)
    got = rows_of(*_sets.segment_union(p, i, seg_ptr, seg_rows))
    want = [sorted(set().union(*[sets[r] for r in seg_rows[a:b] if r >= 0]))
            for a, b in zip(seg_ptr[:-1], seg_ptr[1:])]
    assert got == want


def test_pairs(dtype):
    n = 20
    sa, pa, ia = family(6, n, dtype=dtype)
    sb, pb, ib = family(4, n, dtype=dtype)
    ra, rb = rowmap(9, 6), rowmap(9, 4)
    got = rows_of(*_sets.pairs(pa, ia, ra, pb, ib, rb, n))
    want = []
    for r, s in zip(ra, rb):
        u = sa[r] if r >= 0 else []
        v = sb[s] if s >= 0 else []
        want.append(sorted({min(a, b) * n + max(a, b) for a in u for b in v}))
    assert got == want


def test_long_segments_sort_with_numpy(dtype):
    # segments longer than the insertion-sort limit, nearly sorted and shuffled
    sets, p, i = family(200, n=1000, maxlen=8, dtype=dtype)
    for seg_rows in (np.arange(200, dtype=I64), RNG.permutation(200).astype(I64)):
        got = rows_of(*_sets.segment_union(p, i, np.array([0, 200], dtype=I64), seg_rows))
        assert got == [sorted(set().union(*sets))]


def test_mixed_entry_types_are_refused():
    _, p, i = family(3, dtype=np.int32)
    _, q, j = family(3, dtype=I64)
    with pytest.raises((TypeError, ValueError)):      # Cython: "Buffer dtype mismatch"
        _sets.union2(p, i, None, q, j, None)


def test_bad_input_is_caught_at_the_boundary():
    _, p, i = family(4)
    with pytest.raises(IndexError):
        _sets.gather(p, i, np.array([4], dtype=I64))
    with pytest.raises(IndexError):
        _sets.union2(p, i, np.array([-2], dtype=I64), p, i, np.array([0], dtype=I64))
    with pytest.raises(ValueError, match="differ"):
        _sets.union2(p, i, None, p, i, np.array([0], dtype=I64))
    with pytest.raises(ValueError, match="indptr"):
        _sets.gather(p[::-1].copy(), i, np.array([0], dtype=I64))
    with pytest.raises(IndexError):
        _sets.pairs(p, i, None, p, i, None, 3)          # entries >= n
    with pytest.raises(ValueError):
        _sets.segment_union(p, i, np.array([0, 5], dtype=I64), np.array([0], dtype=I64))


@pytest.mark.parametrize("identity", [False, True])
def test_pairs_of_one_family_with_itself(identity, dtype):
    # the same arrays on both sides take the sorted u <= v path
    n = 20
    sa, pa, ia = family(6, n, dtype=dtype)
    ra = None if identity else rowmap(9, 6)
    got = rows_of(*_sets.pairs(pa, ia, ra, pa, ia, ra, n))
    want = []
    for r in (range(6) if identity else ra):
        u = sa[r] if r >= 0 else []
        want.append(sorted({min(a, b) * n + max(a, b) for a in u for b in u}))
    assert got == want


def test_stub_lists_the_kernels():
    import ast
    import os
    path = os.path.join(os.path.dirname(_sets.__file__), "_sets.pyi")
    with open(path) as fh:
        tree = ast.parse(fh.read())
    stubbed = {n.name: [a.arg for a in n.args.args] for n in tree.body
               if isinstance(n, ast.FunctionDef)}
    public = {k for k in dir(_sets) if not k.startswith("_") and callable(getattr(_sets, k))
              and k not in ("np",)}
    assert public == set(stubbed)


def test_symmetric():
    for m in (1, 2, 5, 9):
        for _ in range(20):
            a = np.sort(RNG.integers(0, m, (RNG.integers(0, m * m + 1), 2)), axis=1)
            codes = np.unique(a[:, 0] * m + a[:, 1]).astype(I64)
            ptr, ind = _sets.symmetric(codes, m)
            want = np.zeros((m, m), dtype=bool)
            want[a[:, 0], a[:, 1]] = True
            want |= want.T
            assert rows_of(ptr, ind) == [np.flatnonzero(r).tolist() for r in want]


@pytest.mark.parametrize("codes", [[3, 1], [1, 1], [-1], [9], [3], [2]])
def test_symmetric_checks_its_codes(codes):
    # n = 3: codes must increase, lie in [0, 9) and have i <= j (2 = (0, 2) is fine,
    # 3 = (1, 0) is not)
    codes = np.array(codes, dtype=I64)
    if codes.tolist() == [2]:
        assert rows_of(*_sets.symmetric(codes, 3)) == [[2], [], [0]]
    else:
        with pytest.raises(ValueError):
            _sets.symmetric(codes, 3)


def test_no_reference_leaks():
    import gc
    import tracemalloc
    _, p, i = family(50, dtype=np.int32)
    codes = np.array([0, 6, 24], dtype=I64)
    rm = rowmap(60, 50)

    def work():
        _sets.gather(p, i, rm)
        _sets.union2(p, i, rm, p, i, None if len(rm) == 50 else rm)
        _sets.segment_union(p, i, np.array([0, 30, 60], dtype=I64), rm)
        _sets.pairs(p, i, rm, p, i, rm, 20)
        _sets.symmetric(codes, 5)
        try:
            _sets.gather(p, i, np.array([99], dtype=I64))
        except IndexError:
            pass
    for _ in range(200):
        work()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(3000):
        work()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 100_000


# ---- the per-run arena ----------------------------------------------------------------

def tridiagonal_family(n, dtype=np.int32):
    sets = [sorted({max(k - 1, 0), k, min(k + 1, n - 1)}) for k in range(n)]
    ptr = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(I64)
    return sets, ptr, np.array([v for s in sets for v in s], dtype=dtype)


@pytest.fixture
def fresh_pool():
    _sets._arena_clear()
    yield
    _sets._arena_clear()


def test_arena_outputs_equal_plain_outputs(fresh_pool, dtype):
    sets, p, i = family(40, dtype=dtype)
    rm = rowmap(40, 40)
    plain = [rows_of(*_sets.union2(p, i, rm, p, i, None)),
             rows_of(*_sets.pairs(p, i, rm, p, i, None, 20))]
    for _ in range(3):                    # the first run sizes the buffer, the rest use it
        a = _sets._arena_open()
        got = [rows_of(*_sets.union2(p, i, rm, p, i, None)),
               rows_of(*_sets.pairs(p, i, rm, p, i, None, 20))]
        assert _sets._arena_close(a)      # nothing carved from it is alive
        assert got == plain
    buf, want = _sets._POOL[0]
    assert buf is not None and buf.nbytes >= want > 0


def test_arena_never_recycles_memory_still_in_use(fresh_pool):
    sets, p, i = tridiagonal_family(500)
    for _ in range(2):                    # warm: the pool holds a buffer that fits
        a = _sets._arena_open()
        _sets.union2(p, i, None, p, i, None)
        _sets._arena_close(a)
    a = _sets._arena_open()
    kept = _sets.union2(p, i, None, p, i, None)       # alive after the run
    assert not _sets._arena_close(a)
    snapshot = [x.copy() for x in kept]
    b = _sets._arena_open()
    other = _sets.union2(p, i, np.zeros(500, dtype=I64), p, i, None)
    _sets._arena_close(b)
    assert all(np.array_equal(x, y) for x, y in zip(kept, snapshot))
    assert not np.shares_memory(kept[1], other[1])


def test_arena_trims_only_its_last_output(fresh_pool):
    sets, p, i = tridiagonal_family(300)
    a = _sets._arena_open()
    _sets._arena_close(a)                 # nothing asked: no buffer
    for _ in range(2):
        a = _sets._arena_open()
        ptr, ind = _sets.union2(p, i, None, p, i, None)    # bound 2 nnz, trimmed to nnz
        ptr2, ind2 = _sets.gather(p, i, np.arange(300, dtype=I64))
        assert rows_of(ptr, ind) == sets and rows_of(ptr2, ind2) == sets
        assert not np.shares_memory(ind, ind2) and not np.shares_memory(ind, ptr2)
        del ptr, ind, ptr2, ind2
        assert _sets._arena_close(a)


def test_arena_overflow_and_size_cap(fresh_pool, monkeypatch):
    monkeypatch.setattr(_sets, "_ARENA_MAX_BYTES", 4096)
    sets, p, i = tridiagonal_family(2000)
    for _ in range(3):                    # needs ~100 KB: the rest comes from np.empty
        a = _sets._arena_open()
        assert rows_of(*_sets.union2(p, i, None, p, i, None)) == sets
        _sets._arena_close(a)
    buf, want = _sets._POOL[0]
    assert want <= 4096 and (buf is None or buf.nbytes <= 4096)


def test_arena_is_per_thread(fresh_pool):
    import threading
    sets, p, i = tridiagonal_family(3000)
    errors = []

    def work():
        try:
            for _ in range(20):
                a = _sets._arena_open()
                got = _sets.union2(p, i, None, p, i, None)
                ok = rows_of(*got) == sets
                del got
                _sets._arena_close(a)
                if not ok:
                    errors.append("wrong rows")
        except Exception as e:           # pragma: no cover - reported below
            errors.append(repr(e))
    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_product_union(dtype):
    J, k, M = 6, 3, 4
    sets, p, i = family(J * k, dtype=dtype)
    c = RNG.random((M, J)) < 0.4
    nz_i, nz_j = np.nonzero(c)
    cptr = np.concatenate([[0], np.cumsum(np.bincount(nz_i, minlength=M))]).astype(I64)
    got = rows_of(*_sets.product_union(p, i, cptr, nz_j.astype(I64), k))
    want = [sorted(set().union(*[sets[j * k + q] for j in np.flatnonzero(c[r])]))
            for r in range(M) for q in range(k)]
    assert got == want
    with pytest.raises(ValueError):
        _sets.product_union(p, i, cptr, nz_j.astype(I64), 4)      # 18 rows, not J x 4
    with pytest.raises(IndexError):
        _sets.product_union(p, i, np.array([0, 1], dtype=I64), np.array([J], dtype=I64), k)
