"""The DualArray extension type (dualml/arrays/_core.pyx): its C fast paths.

References: the scalar Dual elementwise (a different implementation of the
same rules), NumPy itself (indexing, np.add.reduce, np.matmul on the value
and on every tangent row), and the package's Python implementation
(dualml.arrays._elementwise and friends, which the fast paths must equal
bit for bit).  Also:
buffer reuse (the pool) never changes a result or a live array, and
concurrent jacobians in threads equal serial ones bit for bit.
"""
import copy
import math
import threading
import warnings

import numpy as np
import pytest
from npversion import NUMPY

import dualml
from dualml import Dual, DualArray, _kernels
from dualml.arrays import (_core, _elementwise, _joins, _numpy_api, _operands, _products, _reduce,
                           _shape, _statistics)

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.0, 1e-300, 40.0, -40.0,
                    np.inf, -np.inf, np.nan])
UFUNC_UNARY = [n for n in _kernels.UNARY
               if isinstance(getattr(np, n, None), np.ufunc) and n not in _kernels.PARAM_DEFAULTS]
UFUNC_BINARY = [n for n in _kernels.BINARY if isinstance(getattr(np, n, None), np.ufunc)]


@pytest.fixture(autouse=True)
def plain_kernels():
    # the plain (non-SIMD) kernels are bit for bit the scalar rules
    old = _kernels.set_simd(False)
    yield
    _kernels.set_simd(old)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True) and np.array_equal(
        np.signbit(a), np.signbit(b))


def same_da(r, s):
    return type(r) is DualArray and type(s) is DualArray and r._tag == s._tag and \
        r._o2 == s._o2 and same(r._v, s._v) and same(r._d, s._d)


def rows(x, k=3, seed=0):
    rng = np.random.default_rng(seed)
    d = rng.standard_normal((k,) + np.shape(x))
    d[-1] = 0.0                                      # a zero row: the zero-tangent rule
    return DualArray(x, d)


# -- elementwise: scalar Dual and the Python path ---------------------------------------

@pytest.mark.parametrize("name", UFUNC_UNARY)
def test_unary_ufunc_fast_path_equals_scalar_dual_and_python_path(name):
    X = rows(SPECIAL)
    Y = getattr(np, name)(X)
    assert same_da(Y, _elementwise._ew_unary(name, X))
    f = getattr(dualml, name)
    for i, x in enumerate(SPECIAL):
        for j in range(X.k):
            r = f(Dual(x, X.deriv[j, i]))
            assert same(Y.value[i], r.value)
            assert same(Y.deriv[j, i], r.deriv), (name, x, j)


OPERANDS = {
    "dual": lambda a: rows(a, seed=1),
    "float": lambda a: 0.75,
    "int": lambda a: 3,
    "np.float64": lambda a: np.float64(-2.5),
    "array": lambda a: np.linspace(-2.0, 2.0, a.shape[-1]),
    "0-d dual": lambda a: rows(np.array(1.25), seed=2),
}


@pytest.mark.parametrize("name", UFUNC_BINARY)
@pytest.mark.parametrize("other", sorted(OPERANDS))
def test_binary_fast_path_equals_python_path(name, other):
    a = np.add.outer(SPECIAL[:5], SPECIAL[5:])          # (5, 9) with specials
    X = rows(a)
    o = OPERANDS[other](a)
    uf = getattr(np, name)
    for left, right in ((X, o), (o, X)):
        r = uf(left, right)
        s = _elementwise._ew_binary(name, _operands._operand(left), _operands._operand(right))
        assert same_da(r, s), (name, other)


# -- one block's k rows as one run (csrc/dual_kernels.c: dual_scale_flat, and the
# -- direct drivers for one or two dual operands) -----------------------------------

# (n, k): below the 4 elements the run needs, n k not a multiple of 4 (the
# scalar tail), one whole block (DUAL_BLOCK = 256) and two blocks (row loops)
FLAT_SIZES = [(1, 3), (3, 5), (4, 2), (5, 3), (7, 10), (10, 10), (13, 7), (256, 3), (257, 2)]
FLAT_SPECIALS = [0.0, -0.0, np.nan, np.inf, -np.inf, 5e-324, -1e308, 1e-300]


def _flat_tangents(n, k, seed):
    # random rows with the zero convention's cases and non-finite entries
    # scattered over them (positions differ between rows)
    rng = np.random.default_rng(seed)
    t = rng.standard_normal((k, n))
    flat = t.reshape(-1)
    m = min(flat.size // 2, 2 * len(FLAT_SPECIALS))
    flat[rng.choice(flat.size, size=m, replace=False)] = (FLAT_SPECIALS * 2)[:m]
    return t


def _flat_values(n, seed):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.3, 2.5, n)
    v[::5] *= -1.0
    if n >= 8:
        v[[1, 6]] = [0.0, np.inf]
    return v


def same_or_both_nan(a, b):
    # bits where a number; a nan's sign is not kept alike across paths
    # (x86 keeps the first operand's nan, compilers may swap the operands)
    a, b = np.asarray(a), np.asarray(b)
    nan = np.isnan(a)
    return (a.shape == b.shape and np.array_equal(nan, np.isnan(b))
            and np.array_equal(a[~nan], b[~nan])
            and np.array_equal(np.signbit(a[~nan]), np.signbit(b[~nan])))


@pytest.mark.parametrize("n, k", FLAT_SIZES)
@pytest.mark.parametrize("name", ["add", "subtract", "multiply", "divide", "power", "arctan2",
                                  "hypot", "maximum", "logaddexp"])
@pytest.mark.parametrize("kind", ["dual, array", "array, dual", "dual, scalar", "scalar, dual",
                                  "dual, dual"])
def test_binary_rows_of_one_block_equal_the_scalar_dual(n, k, name, kind):
    a, b = _flat_values(n, 1), _flat_values(n, 2)[::-1].copy()
    ta, tb = _flat_tangents(n, k, 3), _flat_tangents(n, k, 4)
    left_dual, right_dual = kind.split(", ")[0] == "dual", kind.split(", ")[1] == "dual"
    if kind.startswith("scalar"):
        a = np.full(n, 0.75)
    if kind.endswith("scalar"):
        b = np.full(n, -1.5 if name != "power" else 2.5)
    left = DualArray(a, ta) if left_dual else (0.75 if kind.startswith("scalar") else a)
    right = (DualArray(b, tb) if right_dual
             else (float(b[0]) if kind.endswith("scalar") else b))
    uf = getattr(np, name)
    with np.errstate(all="ignore"):
        r = uf(left, right)
        for j in range(k):
            for i in range(n):
                x = Dual(a[i], ta[j, i]) if left_dual else float(a[i])
                y = Dual(b[i], tb[j, i]) if right_dual else float(b[i])
                s = uf(x, y)
                assert same(r.value[i], s.value), (name, kind, i)
                assert same_or_both_nan(r.deriv[j, i], s.deriv), (name, kind, j, i, x, y)


@pytest.mark.parametrize("n, k", FLAT_SIZES)
@pytest.mark.parametrize("name, slope", [("sin", np.cos), ("exp", np.exp),
                                         ("tanh", lambda x: 1.0 - np.tanh(x) ** 2)])
def test_simd_unary_rows_of_one_block_scale_each_tangent_by_its_slope(n, k, name, slope):
    # the SIMD rules' values are libmvec's (within ulps of NumPy), so the
    # reference is the closed-form slope to a few ulps, and exactly +0.0
    # wherever the tangent is +-0 (the zero-tangent convention)
    old = _kernels.set_simd(True)
    try:
        x = np.random.default_rng(5).uniform(-2.0, 2.0, n)
        t = _flat_tangents(n, k, 6)
        r = getattr(np, name)(DualArray(x, t))
    finally:
        _kernels.set_simd(old)
    zero = t == 0.0
    assert same(r.deriv[zero], np.zeros(zero.sum()))
    with np.errstate(all="ignore"):
        expect = slope(x) * t
    finite = np.isfinite(t)
    np.testing.assert_allclose(r.deriv[finite & ~zero], expect[finite & ~zero], rtol=1e-14,
                               atol=0.0)
    assert np.array_equal(np.isnan(r.deriv[~finite]), np.isnan(expect[~finite]))
    assert np.array_equal(r.deriv[np.isinf(t)], expect[np.isinf(t)])


def test_operators_take_the_fast_path_with_the_same_bits():
    a = np.random.default_rng(3).uniform(0.3, 2.0, (4, 6))
    X, Y = rows(a, seed=4), rows(a[0], seed=5)          # broadcasting (6,) against (4, 6)
    for op, name in [("__add__", "add"), ("__sub__", "subtract"), ("__mul__", "multiply"),
                     ("__truediv__", "divide"), ("__pow__", "power"), ("__mod__", "remainder"),
                     ("__floordiv__", "floor_divide")]:
        r = getattr(X, op)(Y)
        assert same_da(r, _elementwise._ew_binary(name, X, _operands._bc(Y, X.shape)))
        assert same(r.value, getattr(a, op)(a[0]))
    for c in (0.7, -0.3, 2, np.float64(1.5)):              # a scalar on either side
        with np.errstate(divide="ignore", invalid="ignore"):
            for r, name, u, w in ((X % c, "remainder", X, c), (c % X, "remainder", c, X),
                                  (X // c, "floor_divide", X, c), (c // X, "floor_divide", c, X)):
                ref = _elementwise._ew_binary(name, _operands._operand(u), _operands._operand(w))
                assert same_da(r, ref), (name, c)
    # in place: the result written into X's storage (a view sees it), as NumPy's
    for op, name in (("__imod__", "remainder"), ("__ifloordiv__", "floor_divide")):
        Z = rows(a.copy(), seed=4)
        view, expect = Z[1], _elementwise._ew_binary(name, Z, _operands._operand(0.6))
        out = getattr(Z, op)(0.6)
        assert out is Z and same_da(Z, expect) and same(view.value, expect.value[1])
    assert same_da(X ** 2, _elementwise._ew_unary("square", X))
    assert same_da(-X, _elementwise._ew_unary("negative", X))
    assert same_da(abs(X), _elementwise._ew_unary("absolute", X))


def test_strided_readonly_and_broadcast_views_as_operands():
    base = np.random.default_rng(6).uniform(0.5, 1.5, (6, 8))
    X = rows(base)
    V = X[::2, ::-3]                                   # strided, negative strides
    W = X.T[1:5]                                       # transposed view
    ro = base[:3, :3].copy()
    ro.flags.writeable = False
    for r, s in [(V * V, _elementwise._ew_binary("multiply", V, V)),
                 (np.exp(W), _elementwise._ew_unary("exp", W)),
                 (X[:3, :3] + ro, _elementwise._ew_binary("add", X[:3, :3], ro)),
                 (X[:1] * X, _elementwise._ew_binary("multiply", _operands._bc(X[:1], X.shape), X))]:
        assert same_da(r, s)


def test_mismatched_operands_take_the_python_path():
    X = rows(np.ones(3))
    Y = DualArray(np.ones(3), np.ones((2, 3)))          # other k
    with pytest.raises(ValueError, match="different numbers of directions"):
        X + Y
    with pytest.raises(ValueError, match="broadcast"):
        X * np.ones(4)
    assert same((X + True).value, np.full(3, 2.0))        # bool: the Python path
    big = 10 ** 400
    with pytest.raises(OverflowError):
        X * big
    with pytest.raises(TypeError):
        X * "a"


@pytest.mark.parametrize("o2", [(4, 1, 3), (4, 1, 3, True), (4, 0, 4, True)])
def test_second_order_rows_fast_path_equals_python_path(o2):
    # hessian's (g, H) rows, full block and upper triangle: square, multiply
    # (curvature) and flat rules
    n = 4
    x = np.array([0.3, -1.2, 2.0, 0.7])
    h = {(4, 1, 3): 2 * n, (4, 1, 3, True): 3 + 2, (4, 0, 4, True): 4 + 3 + 2 + 1}[o2]
    d = np.zeros((n + h, n))
    d[:n] = np.eye(n)
    X = _core._new(x.copy(), d, 7, o2)
    for name in UFUNC_UNARY:
        r = getattr(np, name)(X)
        s = _elementwise._ew_unary(name, X)
        assert same_da(r, s), name
    Y = X * X
    assert same_da(Y, _elementwise._ew_binary("multiply", X, X))
    for c in (np.linspace(1, 2, n), 2.5):
        for name in ("multiply", "divide", "power", "subtract"):
            uf = getattr(np, name)
            assert same_da(uf(X, c), _elementwise._ew_binary(name, X, _operands._operand(c)))
            assert same_da(uf(c, X), _elementwise._ew_binary(name, _operands._operand(c), X))


# -- basic indexing against NumPy -------------------------------------------------------

INDEXES = [3, -1, slice(1, None), slice(None, None, -2), slice(5, 1, -1), slice(7, 2),
           (Ellipsis, 1), (None, slice(1, 3)), (1, Ellipsis, None), (), Ellipsis,
           (slice(None), 2), (2, 1), (-1, -4), (None, Ellipsis, None), (slice(0, 0),),
           (1, slice(None), None), (slice(None, None, 3), Ellipsis)]


@pytest.mark.parametrize("idx", INDEXES, ids=repr)
def test_basic_indexing_is_numpy_indexing_of_value_and_rows(idx):
    a = np.arange(20.0).reshape(4, 5)
    X = rows(a, k=3)
    r = X[idx]
    assert same(r.value, np.asarray(a[idx]))
    for j in range(3):
        assert same(r.deriv[j], np.asarray(X.deriv[j][idx]))
    view = np.asarray(a[idx])
    if isinstance(a[idx], np.ndarray):                  # NumPy gives a view: so do we
        assert np.shares_memory(r._v, X._v) or view.size == 0
    else:                                              # NumPy gives a scalar: a copy
        assert not np.shares_memory(r._v, X._v) and not np.shares_memory(r._d, X._d)


@pytest.mark.parametrize("idx", [5, -6, (0, 9), (0, 0, 0), 1.5, [0, 2], np.array([True, False, True, True]),
                                 (Ellipsis, Ellipsis), 10 ** 30], ids=repr)
def test_indexing_errors_and_fancy_indexes_match_numpy(idx):
    a = np.arange(20.0).reshape(4, 5)
    X = rows(a)
    try:
        expect = a[idx]
    except Exception as exc:                            # noqa: BLE001
        with pytest.raises(type(exc)):
            X[idx]
    else:
        r = X[idx]
        assert same(r.value, expect) and same(r.deriv[1], X.deriv[1][idx])


def test_writes_through_a_basic_view_reach_the_base():
    X = rows(np.arange(6.0))
    v = X[1:4]
    v[0] = DualArray(np.array(9.0), np.array([1.0, 2.0, 3.0]))
    assert X.value[1] == 9.0 and same(X.deriv[:, 1], [1.0, 2.0, 3.0])
    s = X[2]                                           # a scalar index: a copy
    s[()] = 5.0
    assert X.value[2] == 2.0


# -- reductions and products -------------------------------------------------------------

@pytest.mark.parametrize("n", list(range(0, 40)) + [127, 128, 129, 255, 256, 1000, 4097])
def test_full_sum_has_the_bits_of_numpy_add_reduce(n):
    rng = np.random.default_rng(n)
    v = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
    X = DualArray(v, rng.standard_normal((3, n)))
    s = X.sum()
    assert s.shape == () and same(s.value, np.add.reduce(v))
    assert same(s.deriv, np.add.reduce(X.deriv, axis=1))
    assert same_da(s, _reduce._sum(X))


def test_sum_of_views_and_special_values():
    X = rows(np.arange(24.0).reshape(4, 6))
    for V in (X[:, ::2], X.T, X[1:3]):
        assert same_da(V.sum(), _reduce._sum(V))
    Y = rows(SPECIAL)
    with np.errstate(invalid="ignore"):                 # inf + -inf
        assert same(Y.sum().value, np.add.reduce(SPECIAL))


def test_products_with_constant_matrices():
    rng = np.random.default_rng(8)
    W = rng.standard_normal((5, 4))
    x = rng.standard_normal(4)
    X = rows(x)
    for r, v, rowf in [(W @ X, W @ x, lambda t: W @ t), (X @ W.T, x @ W.T, lambda t: t @ W.T),
                       (X.dot(W.T), x @ W.T, lambda t: t @ W.T)]:
        assert np.allclose(r.value, v, rtol=1e-15, atol=0)
        for j in range(X.k):
            assert np.allclose(r.deriv[j], rowf(X.deriv[j]), rtol=1e-14, atol=1e-15)
    M = rows(rng.standard_normal((4, 3)))
    r = W @ M
    for j in range(M.k):
        assert np.allclose(r.deriv[j], W @ M.deriv[j], rtol=1e-14, atol=1e-15)
    # a jacobian pass: W @ x with the identity seed gives W exactly
    J = dualml.jacobian(lambda z: W @ z, x)
    assert same(J, W)


@pytest.mark.parametrize("m, n", [(2, 5), (7, 3), (10, 10), (1, 4), (4, 1)])
def test_dual_matrix_times_constant_vector(m, n):
    # X @ c, c @ X and np.dot of a 2-d DualArray and a 1-d constant: the
    # value is NumPy's product of the values (bits), each tangent row
    # NumPy's product of that row, and the rows have the general path's
    # bits (reshape to a column / row, product, squeeze)
    rng = np.random.default_rng(m * 10 + n)
    V = rng.standard_normal((m, n))
    X = rows(V, k=4, seed=m)
    c, r = rng.standard_normal(n), rng.standard_normal(m)
    cases = [(X @ c, V @ c, lambda t: t @ c, _products._matmul(X, c)),
             (np.dot(X, c), np.dot(V, c), lambda t: t @ c, _products._matmul(X, c)),
             (r @ X, r @ V, lambda t: r @ t, _products._matmul(r, X)),
             (np.matmul(r, X), np.matmul(r, V), lambda t: r @ t, _products._matmul(r, X))]
    for got, value, rowf, general in cases:
        assert type(got) is DualArray and same(got.value, value)
        assert same(got.deriv, general.deriv)
        for j in range(X.k):
            np.testing.assert_allclose(got.deriv[j], rowf(X.deriv[j]), rtol=1e-14, atol=1e-15)
    # hessian rows take the general path (its bits)
    H = _core._new(V, rng.standard_normal((4 + 10, m, n)), 7, (4, 0, 4, True))
    for got, general in [(H @ c, _products._matmul(H, c)), (r @ H, _products._matmul(r, H))]:
        assert got._o2 == (4, 0, 4, True) and same_da(got, general)


@pytest.mark.parametrize("o2", [(4, 0, 4, True), (4, 1, 3)])
def test_products_with_constant_matrices_on_hessian_rows(o2):
    # linear in the rows: the C path passes any row layout through, and
    # equals the Python path (arrays._products) bit for bit
    rng = np.random.default_rng(9)
    W = rng.standard_normal((5, 4))
    h = {4: 10, 3: 8}[len(o2)]
    X = _core._new(rng.standard_normal(4), rng.standard_normal((4 + h, 4)), 7, o2)
    M = _core._new(rng.standard_normal((4, 3)), rng.standard_normal((4 + h, 4, 3)), 7, o2)
    for r, s in [(W @ X, _products._matmul(W, X)), (X @ W.T, _products._matmul(X, W.T)),
                 (W @ M, _products._matmul(W, M)), (M.T @ W.T, _products._matmul(M.T, W.T)),
                 (np.matmul(W, X), _products._matmul(W, X))]:
        assert r._o2 == o2 and same_da(r, s)


def test_hessian_of_quadratic_form_through_matmul():
    # H of x' A x / 2 + sum(sin(B x)) in closed form: (A + A')/2 - B' diag(sin(Bx)) B
    rng = np.random.default_rng(10)
    A = rng.standard_normal((6, 6))
    B = rng.standard_normal((3, 6))
    x = rng.standard_normal(6)
    H = dualml.hessian(lambda z: z @ (A @ z) / 2 + np.sin(B @ z).sum(), x)
    ref = (A + A.T) / 2 - B.T @ np.diag(np.sin(B @ x)) @ B
    np.testing.assert_allclose(H, ref, rtol=1e-13, atol=1e-13)
    assert np.array_equal(H, H.T)


# -- the buffer pool --------------------------------------------------------------------

def chain(x):
    return np.exp(-x * x) * np.sin(3 * x) + np.tanh(x)


def test_pool_results_are_bit_identical_and_bounded():
    x = np.random.default_rng(9).uniform(-3, 3, 50_000)
    old = _core.set_pool_limit(0)
    try:
        ref = chain(DualArray(x, np.ones_like(x)))
    finally:
        _core.set_pool_limit(old)
    for _ in range(3):
        r = chain(DualArray(x, np.ones_like(x)))
        assert same_da(r, ref)
    blocks, nbytes = _core._pool_state()
    assert blocks <= 16 and nbytes <= _core.get_pool_limit()
    for n in range(20_000, 60_000, 1000):                # many distinct sizes
        np.exp(DualArray(np.zeros(n), np.ones(n)))
    blocks, nbytes = _core._pool_state()
    assert blocks <= 16 and nbytes <= _core.get_pool_limit()


def test_pool_never_reuses_memory_that_is_still_seen():
    n = 40_000
    x = np.linspace(-1, 1, n)
    X = DualArray(x, np.ones((2, n)))
    y = np.exp(X)
    val, tan, part = y.value, y.deriv, y[10:20]       # views of y's buffers
    keep_v, keep_t, keep_p = val.copy(), tan.copy(), part.value.copy()
    z = X * 3.0
    del y
    for _ in range(4):                                   # temporaries of the same size
        z = np.sin(z) + X * 2.0
    assert same(val, keep_v) and same(tan, keep_t) and same(part.value, keep_p)
    r1 = chain(X)
    kept = r1.value.copy(), r1.deriv.copy()
    chain(X * 1.5)                                       # a later call: r1 untouched
    assert same(r1.value, kept[0]) and same(r1.deriv, kept[1])


def test_small_block_cache_reuses_only_dead_blocks_and_is_bounded():
    # small (lazy) results take their block from the blocks dead arrays
    # left (same size): a live result is never handed out again, a kept
    # result is not overwritten by later operations, the cache stays small
    rng = np.random.default_rng(12)
    x = rng.standard_normal(10)
    X = DualArray(x, rng.standard_normal((10, 10)))
    kept = [np.exp(X * float(i)) for i in range(40)]       # all alive at once
    for _ in range(200):                                   # churn: blocks die and return
        np.tanh(np.exp(X) * X)
    assert all(r._lazy for r in kept)
    assert len({_core._lazy_address(r) for r in kept}) == len(kept)
    for i, r in enumerate(kept):
        ref = dualml.exp(DualArray(x * float(i), X.deriv * float(i)))
        assert same_da(r, ref), i
    slots, most = _core._LAZY_LIMITS
    for n in range(1, 3000, 37):                           # many sizes, some too large
        np.exp(DualArray(np.zeros(n), np.ones((5, n))))
        blocks, nbytes = _core._lazy_state()
        assert blocks <= slots and nbytes <= slots * most
    assert 6 * 8 * 3000 > most                             # (the sweep passed the limit)


def test_out_aliasing_an_input():
    n = 30_000
    x = np.linspace(0.1, 2.0, n)
    X = DualArray(x, np.ones((1, n)))
    ref = X * X
    np.multiply(X, X, out=X)
    assert same_da(X, ref)
    Y = DualArray(x, np.ones((1, n)))
    Y += Y
    assert same(Y.value, 2 * x) and same(Y.deriv, np.full((1, n), 2.0))


def test_set_pool_limit_validates_and_clears():
    old = _core.set_pool_limit(1 << 20)
    try:
        with pytest.raises(ValueError, match=">= 0"):
            _core.set_pool_limit(-1)
        _core.set_pool_limit(0)
        assert _core._pool_state() == (0, 0)
    finally:
        _core.set_pool_limit(old)


# -- threads ------------------------------------------------------------------------------

def test_concurrent_jacobians_equal_serial_bit_for_bit():
    rng = np.random.default_rng(10)
    problems = []
    for i in range(8):
        n = 6 + 3 * i
        W, b, x = rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n)
        if i % 2:
            f = (lambda W, b: lambda z: np.tanh(W @ z + b) * z + np.sin(z).sum())(W, b)
        else:
            f = (lambda W: lambda z: (z @ W) * z[0] - np.exp(z[1:]).sum())(W)
        problems.append((f, x))
    # the SIMD level is per thread (set_simd): the serial reference runs in
    # a thread of its own too, at the level every new thread starts with
    serial = []
    t = threading.Thread(target=lambda: serial.extend(dualml.jacobian(f, x) for f, x in problems))
    t.start()
    t.join()
    results = [[None] * 8 for _ in range(20)]
    barrier = threading.Barrier(8)

    def work(i):
        f, x = problems[i]
        barrier.wait()
        for rep in range(20):
            results[rep][i] = dualml.jacobian(f, x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for rep in range(20):
        for i in range(8):
            assert same(results[rep][i], serial[i]), (rep, i)


def test_in_place_operators_follow_numpy_with_overlap_and_views():
    a = np.arange(6.0)
    X = rows(a)
    ref_v, ref_d = a.copy(), X.deriv.copy()
    ref_v[1:] += ref_v[:-1].copy()                     # NumPy's result of x[1:] += x[:-1]
    ref_d[:, 1:] += ref_d[:, :-1].copy()
    V = X[1:]
    V += X[:-1]                                        # overlapping operands
    assert same(X.value, ref_v) and same(X.deriv, ref_d)
    W = X[::2]
    W *= 2.0                                           # through a strided view
    assert same(X.value[::2], 2 * ref_v[::2]) and same(X.deriv[:, ::2], 2 * ref_d[:, ::2])
    # in a jacobian pass the point's tangent rows are the read-only seed:
    # z += 1 still works (item assignment copies the rows), d(z+1)^2 = 2(z+1)

    def f(z):
        z += 1.0
        return z * z

    assert same(dualml.jacobian(f, np.array([1.0, 2.0])), np.diag([4.0, 6.0]))


def central(f, x, h=1e-6):
    """Independent reference: central differences of f on plain floats."""
    return np.stack([(np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h)
                     for e in np.eye(len(x))], -1)


def _sorted_times(z):
    w = z * np.array([3.0, 1.0, 2.0, 0.5])
    w.sort()                                           # in place, as ndarray.sort
    return w * 1.0


METHODS = {
    "std": lambda z: z.std(), "var ddof": lambda z: z.var(ddof=1),
    "cumprod": lambda z: z.cumprod(), "trace": lambda z: (z.reshape(2, 2) * z[0]).trace(),
    "round": lambda z: z.round(1) * z, "astype": lambda z: z.astype(np.float64) * z,
    "clip min/max": lambda z: z.clip(min=0.5, max=2.0) * z, "sort": _sorted_times,
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_ndarray_methods_of_the_type(name):
    f = METHODS[name]
    x = np.array([0.3, 1.7, 0.9, 2.5])
    assert np.allclose(dualml.jacobian(f, x), central(lambda z: f(z.copy()), x), atol=1e-7)


def test_astype_refuses_dtypes_that_drop_derivatives():
    with pytest.raises(TypeError, match="float64"):
        rows(np.ones(2)).astype(np.float32)


@pytest.mark.parametrize("kw", [{}, {"ddof": 1}, {"axis": 0}, {"axis": 1, "keepdims": True},
                                {"axis": (0, 1)}, {"keepdims": True}])
def test_var_and_std_through_the_core_equal_the_python_path(kw):
    # var/std of a DualArray go through its operators and methods (the
    # core's C paths); the Python path composes the same operations with
    # _ew_binary and the Python reductions: the same bits, specials included
    rng = np.random.default_rng(5)
    v = rng.standard_normal((4, 5))
    v[0, :3] = [np.inf, np.nan, 1e-300]
    v[2, 1] = -0.0
    axis, keepdims, ddof = kw.get("axis"), kw.get("keepdims", False), kw.get("ddof", 0)
    for X in (rows(v), rows(v[1:]), DualArray(v, rng.standard_normal((2,) + v.shape))[::2]):
        n = X.size // np.mean(X.value, axis=axis, keepdims=True).size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            dev = _elementwise._ew_binary("subtract", X, _reduce._mean(X, axis, True))
            ref = _elementwise._ew_binary(
                "divide", _reduce._sum(_elementwise._ew_binary("multiply", dev, dev), axis,
                                       keepdims), np.asarray(float(n - ddof)))
            assert same_da(np.var(X, **kw), ref) and same_da(X.var(**kw), ref)
            assert same(np.var(X, **kw).value, np.var(X.value, **kw))
            assert same_da(np.std(X, **kw), _elementwise._ew_unary("sqrt", ref))
            assert same(np.std(X, **kw).value, np.std(X.value, **kw))


BLOCK_MAPS = {
    # (axes counted from the end: the reference maps the rows with the same f)
    "roll": lambda z: np.roll(z, 2, axis=-1), "roll 2 axes": lambda z: np.roll(z, (1, -1), (-2, -1)),
    "tile": lambda z: np.tile(z, (2, 1)), "delete": lambda z: np.delete(z, [0, 2], axis=-1),
    "compress": lambda z: np.compress([True, False, True], z, axis=-2),
    "tril": lambda z: np.tril(z, -1), "triu": lambda z: np.triu(z),
}


def test_diff_is_the_difference_of_slices():
    # np.diff(x) is x[1:] - x[:-1] by the subtract rule (NumPy's formula):
    # the same bits, inf - inf's nan tangents included; NumPy's values
    v = np.resize(np.concatenate([SPECIAL, [np.inf, np.inf, -np.inf]]), (3, 6))
    X = rows(v, k=4)
    for Z in (X, X[:, ::-1], np.negative(X)):
        with np.errstate(invalid="ignore"):
            assert same_da(np.diff(Z), Z[:, 1:] - Z[:, :-1])
            assert same_da(np.diff(Z, axis=0), Z[1:] - Z[:-1])
            D = Z[:, 1:] - Z[:, :-1]
            assert same_da(np.diff(Z, 2), D[:, 1:] - D[:, :-1])
            assert same(np.diff(Z, 2, axis=-1).value, np.diff(Z.value, 2, axis=-1))
    assert np.isnan(np.diff(rows(np.array([np.inf, np.inf]))).deriv[:-1]).all()


@pytest.mark.parametrize("name", sorted(BLOCK_MAPS))
def test_maps_over_the_block_equal_two_calls(name):
    # a small first-order x (lazy, or eager with contiguous components) is
    # mapped once over its (k + 1, ...) block: the bits of the map applied
    # to the values and to the rows apart (_shape._lin_c), specials included
    f = BLOCK_MAPS[name]
    v = np.resize(SPECIAL, (3, 5))
    X = rows(v, k=4)
    for Z in (X, np.negative(X), X[:, ::-1], DualArray(v, np.zeros((0, 3, 5)))):
        got = f(Z)
        ref = _shape._lin_c(Z, f, f)
        assert same_da(got, ref), name
        if Z.deriv.strides[-1] == 8:                        # (the strided view: two calls)
            assert same_da(_core._lin_block(Z, f), ref)     # the block path, called directly
    big = rows(np.resize(SPECIAL, (40, 400)))               # over the block size: two calls
    assert _core._lin_block(big, f) is NotImplemented
    assert same_da(f(big), _shape._lin_c(big, f, f))


REDUCE_UFUNCS = [(np.add, "add", "sum"), (np.multiply, "multiply", "prod"),
                  (np.maximum, "max", "max"), (np.minimum, "min", "min")]


@pytest.mark.parametrize("uf, kind, method", REDUCE_UFUNCS, ids=[u[1] for u in REDUCE_UFUNCS])
@pytest.mark.parametrize("kw", [{}, {"axis": 1}, {"axis": None}, {"axis": -1, "keepdims": True},
                                {"keepdims": True}, {"axis": (0,)}], ids=repr)
def test_ufunc_reduce_is_the_method_with_numpy_values(uf, kind, method, kw):
    # np.add.reduce & co. (axis 0 by default, NumPy's): the Python path's
    # reduction (_reduce_kw) bit for bit, NumPy's value, and for add the
    # tangent rows are the reduction of each row
    rng = np.random.default_rng(13)
    V = rng.uniform(-2.0, 2.0, (3, 4))
    V[1, 2] = V[0, 2]                                   # a tie for max / min
    X = rows(V, k=3)
    got = uf.reduce(X, **kw)
    ref = _numpy_api._reduce_kw(X, kind, kw.get("axis", 0), kw.get("keepdims", False), None,
                                True, f"{uf.__name__}.reduce")
    assert same_da(got, ref)
    assert same(got.value, uf.reduce(V, **kw))
    if uf is np.add:
        for j in range(X.k):
            np.testing.assert_allclose(got.deriv[j], uf.reduce(X.deriv[j], **kw), rtol=1e-14)
    # other keywords keep NumPy's semantics through the Python path
    r = uf.reduce(X, axis=0, initial=1.5)
    assert same(r.value, uf.reduce(V, axis=0, initial=1.5))


@pytest.mark.parametrize("method", ["sum", "mean", "prod", "max", "min"])
@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 1, 3)])
def test_all_element_reductions_with_keepdims(method, shape):
    rng = np.random.default_rng(14)
    V = rng.uniform(0.5, 1.5, shape)
    X = rows(V, k=3)
    got = getattr(X, method)(keepdims=True)
    flat = getattr(X, method)()
    assert got.shape == (1,) * len(shape) == getattr(V, method)(keepdims=True).shape
    assert same(got.value, getattr(V, method)(keepdims=True))
    assert same(got.deriv.reshape(X.k), flat.deriv)
    ref = getattr(_numpy_api, "_h_" + method)(X, None, *(() if method in ("max", "min") else (None,)),
                                             None, True)
    assert same_da(got, ref)


@pytest.mark.parametrize("shape", [(2, 5), (3, 4, 2), (7,), (1, 6), (4, 1), (1,), (2, 3, 4, 5),
                                   (9, 10), (5, 2, 1)])
def test_prod_along_an_axis(shape):
    # the Python path's left-to-right product bit for bit; against the
    # product rule (each row: sum over i of t_i times the other factors)
    rng = np.random.default_rng(len(shape) * 7 + shape[0])
    V = rng.uniform(-2.0, 2.0, shape)
    V.flat[::3] = 0.0                                   # zeros: exact derivatives
    X = rows(V, k=3)
    for ax in range(-len(shape), len(shape)):
        for kd in (False, True):
            got = X.prod(axis=ax, keepdims=kd)
            assert same_da(got, _reduce._prod(X, ax, kd)), (ax, kd)
            assert np.allclose(got.value, np.prod(V, axis=ax, keepdims=kd), rtol=1e-14, atol=0)
            Vm = np.moveaxis(V, ax, -1)
            for j in range(X.k):
                Tm = np.moveaxis(X.deriv[j], ax, -1)
                expect = sum(Tm[..., i] * np.prod(np.delete(Vm, i, axis=-1), axis=-1)
                             for i in range(Vm.shape[-1]))
                if kd:
                    expect = np.expand_dims(expect, ax)
                np.testing.assert_allclose(got.deriv[j], expect, rtol=1e-13, atol=1e-15)
    assert same_da(X.prod(axis=(0,)), _reduce._prod(X, 0))


@pytest.mark.parametrize("make", [rows, lambda a: _strided(a), lambda a: np.sin(rows(a)) * 1.0,
                                  lambda a: rows(a, k=1), lambda a: rows(a, k=10)],
                         ids=["contiguous", "strided", "lazy", "k1", "k10"])
def test_prod_along_an_axis_of_special_values(make):
    # one kernel call per slice for all lanes (the C path) against the
    # slice-by-slice product of the Python path, bit for bit, with zeros,
    # signed zeros, infinities and nan among the values (nan and inf tangents
    # follow)
    a = np.array([[0.0, -0.0, 2.0, np.inf, 1.5], [3.0, np.nan, -1.0, 0.5, -0.0],
                  [1e-300, 1e300, -2.0, 0.0, 4.0]])
    X = make(a)
    for ax in (0, 1, -1):
        for kd in (False, True):
            with np.errstate(all="ignore"):
                got, ref = X.prod(axis=ax, keepdims=kd), _reduce._prod(X, ax, kd)
            assert same_da(got, ref), (ax, kd)


def test_numpy_reductions_with_axis_keywords_are_the_methods():
    # np.prod / np.max / np.min (np.sum / np.mean too) with axis and
    # keepdims, by position or keyword: the methods' results and bits
    rng = np.random.default_rng(16)
    X = rows(rng.standard_normal((3, 4, 5)))
    for f, m in ((np.prod, "prod"), (np.max, "max"), (np.amax, "max"), (np.min, "min"),
                 (np.amin, "min"), (np.sum, "sum"), (np.mean, "mean")):
        for ax in (0, 1, -1, None, (1,)):
            for kd in (False, True):
                ref = getattr(X, m)(ax, kd)
                assert same_da(f(X, axis=ax, keepdims=kd), ref), (m, ax, kd)
                assert same_da(f(X, ax, keepdims=kd), ref)
                assert np.array_equal(ref.value, f(X.value, axis=ax, keepdims=kd)) or m == "prod"
            assert same_da(f(X, ax), getattr(X, m)(ax))
    assert same_da(np.prod(X, axis=1), _reduce._prod(X, 1))
    with pytest.raises(np.exceptions.AxisError):
        np.prod(X, axis=3)


def test_value_predicates_are_numpy_on_the_values():
    x = np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 0.0, -np.nan, 5e-324, -1e308, 2.0])
    X = rows(x, k=2)
    views = [X, rows(x.reshape(2, 5), k=2), X[::3], np.sin(X)]
    for uf in (np.isnan, np.isinf, np.isfinite, np.signbit):
        for D in views:
            with np.errstate(all="raise"):                  # (no flag raised)
                got = uf(D)
            assert type(got) is np.ndarray and got.dtype == bool
            assert np.array_equal(got, uf(D.value)), uf
    Y = rows(x[::-1].copy(), k=2)
    for uf in (np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal):
        with np.errstate(all="ignore"):
            for a, b, va, vb in [(X, Y, x, x[::-1]), (X, 0.5, x, 0.5), (x[::-1], X, x[::-1], x),
                                 (X, 1, x, 1)]:
                assert np.array_equal(uf(a, b), uf(va, vb)), uf
    assert not hasattr(np.isnan(X), "deriv")
    x0 = rows(np.array(np.nan), k=2)                    # 0-d: NumPy's np.bool_
    for uf in (np.isnan, np.isinf, np.isfinite, np.signbit):
        got, ref = uf(x0), uf(np.array(np.nan))
        assert type(got) is type(ref) and got == ref


@pytest.mark.parametrize("uf", [np.less, np.less_equal, np.greater, np.greater_equal, np.equal,
                                np.not_equal])
def test_comparison_ufuncs_are_numpys_on_the_values(uf):
    # the C loop (contiguous operands of one shape, or one and a scalar)
    # and the ufunc it falls back to: NumPy's bool array of the values, on
    # nan, signed zeros, infinities and subnormals against each other
    x = np.array([1.0, np.nan, np.inf, -np.inf, -0.0, 0.0, 5e-324, -1e308, 2.0, 9007199254740993.0])
    y = np.array([np.nan, 1.0, np.inf, np.inf, 0.0, -0.0, 0.0, -1e308, 2.0, 9007199254740992.0])
    X, Y = rows(x, k=2), rows(y, k=2)
    big = rows(np.linspace(-1.0, 1.0, 5000), k=1)
    cases = [(X, Y, x, y), (Y, X, y, x), (X, x, x, x), (y, X, y, x),
             (X.reshape(2, 5), Y.reshape(2, 5), x.reshape(2, 5), y.reshape(2, 5)),
             (X[::2], Y[1::2], x[::2], y[1::2]), (X.reshape(2, 5), Y[:5], x.reshape(2, 5), y[:5])]
    for c in (0.0, -0.0, 2.0, np.float64(np.inf), np.nan, 1, -3, 2 ** 53, 2 ** 53 + 1, 2 ** 80,
              True):
        cases += [(X, c, x, c), (c, X, c, x)]
    cases += [(big, 0.25, big.value, 0.25), (big, big[::-1], big.value, big.value[::-1]),
              (rows(np.array(1.5)), 1.5, np.array(1.5), 1.5)]
    for a, b, va, vb in cases:
        with np.errstate(all="raise"):                  # (quiet comparisons: no flag)
            got = uf(a, b)
        ref = uf(va, vb)
        assert type(got) is type(ref) and got.dtype == ref.dtype
        assert np.shape(got) == np.shape(ref) and np.array_equal(got, ref), (a, b)


def test_astype_float64_copies_or_returns_self():
    X = rows(np.linspace(0.0, 1.0, 4))
    for dt in (float, np.float64, "float64", np.dtype("f8")):
        Y = X.astype(dt)
        assert Y is not X and same_da(Y, X)
        assert not np.shares_memory(Y.value, X.value) and not np.shares_memory(Y.deriv, X.deriv)
        assert X.astype(dt, copy=False) is X
    with pytest.raises(TypeError, match="float64"):
        X.astype(np.float32)


def test_float_power_is_power_in_float64():
    X = rows(np.array([0.5, 2.0, 3.0, 0.0, 1e-300]), k=2)
    for y in (2.5, 2, np.array([1.5, -0.5, 2.0, 3.0, 0.5])):
        got = np.float_power(X, y)
        assert same_da(got, np.power(X, y))
        with np.errstate(all="ignore"):
            assert same(got.value, np.float_power(X.value, y))
        for i in range(5):
            s = np.power(Dual(X.value[i], X.deriv[0, i]), float(np.broadcast_to(y, 5)[i]))
            assert same(got.deriv[0, i], s.deriv)


@pytest.mark.parametrize("n", [1, 7, 8, 129, 1000])
def test_full_mean_has_numpy_bits(n):
    rng = np.random.default_rng(n)
    X = DualArray(rng.standard_normal(n), rng.standard_normal((3, n)))
    m = X.mean()
    assert same(m.value, np.mean(X.value)) and same(m.deriv, np.mean(X.deriv, axis=1))
    assert same_da(m, _reduce._mean(X))
    V = X[::2]                                         # a view: the Python path
    assert same(V.mean().value, np.mean(X.value[::2]))


# -- NumPy's ufunc protocol: the C callable and its fast path ---------------------------

def test_array_ufunc_is_a_c_callable_bound_like_a_method():
    X = rows(SPECIAL)
    ref = _elementwise._ew_unary("sin", X)
    for r in (X.__array_ufunc__(np.sin, "__call__", X),
              DualArray.__array_ufunc__(X, np.sin, "__call__", X), np.sin(X)):
        assert same_da(r, ref)
    assert X.__array_ufunc__.__name__ == "__array_ufunc__"
    assert DualArray.__array_ufunc__.__qualname__ == "__array_ufunc__"
    with pytest.raises(TypeError, match="ufunc"):
        DualArray.__array_ufunc__(X)
    with pytest.raises(TypeError, match="DualArray"):
        DualArray.__array_ufunc__(SPECIAL, np.sin, "__call__", X)


@pytest.mark.parametrize("name", ["sin", "exp", "tanh", "add", "multiply", "arctan2"])
def test_ufunc_keywords_leave_the_fast_path_with_numpy_semantics(name):
    # out=, where=, dtype= go to the Python path; the elements the call
    # writes equal the scalar Dual's rule
    uf = getattr(np, name)
    X = rows(SPECIAL)
    args = (X,) if uf.nin == 1 else (X, 1.5)
    plain = uf(*args)
    f = getattr(dualml, name)
    for i, x in enumerate(SPECIAL):
        d = f(*((Dual(x, X.deriv[0, i]),) + args[1:]))
        assert same(plain.value[i], d.value) and same(plain.deriv[0, i], d.deriv)
    out = DualArray(np.zeros(SPECIAL.size), np.zeros((3, SPECIAL.size)))
    r = uf(*args, out=out)
    assert r is out and same_da(out, plain)
    assert same_da(uf(*args, dtype=np.float64), plain)
    where = np.arange(SPECIAL.size) % 2 == 0
    out = DualArray(np.full(SPECIAL.size, 7.0), np.full((3, SPECIAL.size), 7.0))
    uf(*args, out=out, where=where)
    assert same(out.value[where], plain.value[where]) and same(out.deriv[:, where],
                                                                 plain.deriv[:, where])
    assert (out.value[~where] == 7.0).all() and (out.deriv[:, ~where] == 7.0).all()
    with pytest.raises(TypeError, match="float64"):
        uf(*args, dtype=np.float32)


def test_ufunc_methods_and_unsupported_ufuncs_keep_their_behaviour():
    X = rows(SPECIAL[:8])
    assert same_da(np.add.reduce(X), X.sum())
    with pytest.raises(TypeError, match="gcd"):
        np.gcd(X, X)
    with pytest.raises(TypeError):
        np.sin(X, X, X)


def test_rule_cache_keys_on_the_ufunc_not_its_slot():
    # ufuncs that share a cache slot (address >> 5 modulo 64) still find
    # their own rules: every rule ufunc, twice, in an interleaved order
    X = rows(SPECIAL)
    names = UFUNC_UNARY * 2
    for name in names:
        assert same_da(getattr(np, name)(X), _elementwise._ew_unary(name, X)), name


@pytest.mark.parametrize("n, k", [(0, 3), (1, 0), (10, 10), (4095, 3), (4096, 3), (1638, 9)])
def test_small_results_share_one_block_without_aliasing(n, k):
    # below 128 KiB the value and tangent rows are two views of one block,
    # above it two pooled arrays: writing one never changes the other, and
    # results kept across calls are not overwritten
    x = np.linspace(-2.0, 2.0, n)
    X = DualArray(x, np.arange(k * n, dtype=float).reshape(k, n))
    Y = np.sin(X)
    keep_v, keep_d = Y.value.copy(), Y.deriv.copy()
    assert Y._v.flags.c_contiguous and Y._d.flags.c_contiguous and Y._v.flags.writeable
    assert Y._d.shape == (k, n) and Y._v.shape == (n,)
    for _ in range(3):
        Z = np.cos(X) * X + 1.0
    Y2 = Y * 1.0
    Y2[...] = 0.0
    assert same(Y.value, keep_v) and same(Y.deriv, keep_d)
    Y._v[...] = 5.0
    assert same(Y.deriv, keep_d)
    if k:
        Y._d[...] = 6.0
        assert (Y.value == 5.0).all()
    assert same(Z.value, np.cos(x) * x + 1.0)


@pytest.mark.parametrize("name", UFUNC_UNARY)
def test_dualml_functions_call_the_hook_directly_with_the_same_bits(name):
    # dualml.<f>(DualArray) goes straight to __dualml_function__ (registered
    # by dualml.arrays): the bits of the ufunc path and of the scalar Dual
    X = rows(SPECIAL)
    r = getattr(dualml, name)(X)
    assert same_da(r, _elementwise._ew_unary(name, X))
    f = getattr(dualml, name)
    for i, x in enumerate(SPECIAL[:4]):
        d = f(Dual(x, X.deriv[0, i]))
        assert same(r.value[i], d.value) and same(r.deriv[0, i], d.deriv)


def test_dualml_functions_on_nested_levels_through_the_hook():
    # hessian's nested DualArrays take the hook's Python path: closed forms
    x = np.array([-0.7, 0.2, 1.3])
    H = dualml.hessian(lambda x: dualml.sin(x).sum() + dualml.exp(x).sum(), x)
    assert np.allclose(H, np.diag(np.exp(x) - np.sin(x)), rtol=1e-15, atol=1e-15)
    J = dualml.jacobian(lambda x: dualml.tanh(x) * x[0], x)
    ref = np.diag(x[0] / np.cosh(x) ** 2)
    ref[:, 0] += np.tanh(x)
    assert np.allclose(J, ref, rtol=1e-14, atol=1e-15)


BINARY_DUALML = [n for n in _kernels.BINARY if callable(getattr(dualml, n, None))]


@pytest.mark.parametrize("name", BINARY_DUALML)
def test_dualml_binary_functions_through_the_hook_equal_the_ufunc_path(name):
    X = rows(SPECIAL[:12])
    Y = rows(SPECIAL[:12][::-1], seed=1)
    f = getattr(dualml, name)
    for a, b in ((X, Y), (X, 1.5), (2.0, X), (3, X), (SPECIAL[:12].copy(), X)):
        r = f(a, b)
        s = _elementwise._ew_binary(name, _operands._operand(a, name), _operands._operand(b, name))
        assert same_da(r, s), (name, type(a), type(b))
    r = f(X, 1.5)
    for i, x in enumerate(SPECIAL[:12]):
        d = f(Dual(x, X.deriv[0, i]), 1.5)
        assert same(r.value[i], d.value) and same(r.deriv[0, i], d.deriv), (name, x)


@pytest.mark.parametrize("name", sorted(_kernels.PARAM_DEFAULTS))
def test_dualml_parameter_functions_through_the_hook(name):
    X = rows(SPECIAL)
    f = getattr(dualml, name)
    for r, p in ((f(X), _kernels.PARAM_DEFAULTS[name]), (f(X, 0.25), 0.25)):
        for i, x in enumerate(SPECIAL):
            d = f(Dual(x, X.deriv[0, i]), p)
            assert same(r.value[i], d.value) and same(r.deriv[0, i], d.deriv), (name, x, p)


# -- lazy results: a small result's ndarrays are made on first use -------------------

def _scalar_reference(f, x, d):
    """f elementwise on scalar Duals (one direction at a time): an independent path."""
    xs, ds = np.reshape(x, -1), np.reshape(d, (d.shape[0], -1))
    vals, rows_ = np.empty_like(xs), np.empty_like(ds)
    for i in range(xs.size):
        for j in range(ds.shape[0]):
            r = f(Dual(xs[i], ds[j, i]))
            vals[i] = r.value
            rows_[j, i] = r.deriv
    return vals.reshape(np.shape(x)), rows_.reshape(np.shape(d))


CHAINS = {
    "unary chain": lambda z: np.tanh(np.exp(-z * z)),
    "binary with scalars": lambda z: (3.0 - z) / (z * z + 2.0) ** 1.5,
    "functions": lambda z: dualml.log1p(dualml.sin(z) ** 2) - abs(z),
}


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 4)])
@pytest.mark.parametrize("name", sorted(CHAINS))
def test_chains_of_lazy_results_equal_the_scalar_dual(name, shape):
    f = CHAINS[name]
    rng = np.random.default_rng(len(shape))
    x = rng.uniform(-2.0, 2.0, shape)
    d = rng.standard_normal((3,) + shape)
    Y = f(DualArray(x, d))
    assert Y._lazy                                  # no ndarray made along the chain
    assert Y.shape == shape and Y.ndim == len(shape) and Y.size == x.size and Y.k == 3
    assert Y._lazy                                  # nor by asking for the shape
    v, t = _scalar_reference(f, x, d)
    assert same(Y.value, v) and same(Y.deriv, t)
    assert not Y._lazy


def test_lazy_and_made_operands_give_the_same_bits():
    rng = np.random.default_rng(5)
    X = DualArray(rng.standard_normal((2, 5)), rng.standard_normal((4, 2, 5)))
    A, B = np.sin(X), np.sin(X)
    B.value                                        # B's ndarrays made, A still lazy
    assert A._lazy and not B._lazy
    for op in (lambda p, q: p * q, lambda p, q: p - q[0], lambda p, q: np.arctan2(p, q),
               lambda p, q: np.exp(p), lambda p, q: p.sum(), lambda p, q: p.mean(),
               lambda p, q: p[1, ::2], lambda p, q: p @ np.ones((5, 2))):
        assert same_da(op(A, A), op(B, B))
        assert same_da(op(A, B), op(B, A)) or not isinstance(op(A, B), DualArray)


def test_large_results_are_made_at_once():
    X = DualArray(np.linspace(0.0, 1.0, 5000), np.ones((3, 5000)))   # 160 KB result
    assert not np.sin(X)._lazy
    assert np.sin(X[:10])._lazy


def test_in_place_operators_on_lazy_results_keep_numpy_semantics():
    x = np.array([0.5, 1.0, 2.0])
    X = DualArray(x, np.eye(3))
    Y = np.sin(X)
    same_object = Y
    Y += X                                         # both lazy: copied into Y's block
    assert Y is same_object and Y._lazy
    Y *= 2.0
    v, t = _scalar_reference(lambda z: (dualml.sin(z) + z) * 2.0, x, np.eye(3))
    assert same(Y.value, v) and same(Y.deriv, t)
    V = Y.value                                    # a view: sees later in-place updates
    Y -= 1.0
    assert same(V, v - 1.0)
    Z = X[1:]
    Z += np.sin(X)[:2]                             # through a view of an eager array
    assert same(X.value[1:], x[1:] + np.sin(x[:2]))


def test_lazy_results_pickle_copy_and_print_as_made_ones():
    import copy
    import pickle
    X = DualArray(np.array([0.25, 0.5]), np.array([[1.0, 0.0], [0.0, 2.0]]))
    Y = np.exp(X)
    Z = pickle.loads(pickle.dumps(Y))
    assert same_da(Z, np.exp(X)) and same_da(copy.deepcopy(np.exp(X)), Z)
    assert repr(np.exp(X)) == repr(Z)
    assert len(np.exp(X)) == 2 and [same_da(a, b) for a, b in zip(np.exp(X), Z)] == [True] * 2


def test_assigning_a_component_of_a_lazy_result_keeps_the_other():
    X = DualArray(np.array([1.0, 2.0]), np.array([[1.0, 1.0]]))
    Y = X * X
    Y._v = np.array([7.0, 8.0])
    assert same(Y.value, [7.0, 8.0]) and same(Y.deriv, [[2.0, 4.0]])
    Y = X * X
    Y._d = np.zeros((1, 2))
    assert same(Y.value, [1.0, 4.0]) and same(Y.deriv, [[0.0, 0.0]])


def test_threads_making_one_lazy_result_see_one_array():
    X = DualArray(np.linspace(-1.0, 1.0, 16), np.ones((4, 16)))
    for _ in range(20):
        Y = np.tanh(X)
        seen, barrier = [], threading.Barrier(8)

        def read():
            barrier.wait()
            seen.append((Y.value, Y.deriv, (Y * 2.0).value))

        threads = [threading.Thread(target=read) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert all(s[0].base is seen[0][0].base for s in seen)   # one made array
        assert all(same(s[2], 2.0 * Y.value) and same(s[1], Y.deriv) for s in seen)


# -- indexing and item assignment in C: NumPy's semantics, the Python path's bits -------

from dualml.arrays import _shape  # noqa: E402


def _strided(a, k=3):
    """a DualArray whose components are strided views (every other element)."""
    big = rows(np.repeat(a, 2, axis=-1), k=k)
    return big[..., ::2]


@pytest.mark.parametrize("make", [rows, _strided, lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
@pytest.mark.parametrize("idx", [3, -1, (1, 2), (-4, -5), (0, slice(None)), ()], ids=repr)
def test_integer_indexes_copy_the_element_as_numpy(make, idx):
    a = np.arange(20.0).reshape(4, 5) - 7.5
    X = make(a)
    try:
        expect = X.value[idx]
    except IndexError:
        with pytest.raises(IndexError):
            X[idx]
        return
    r = X[idx]
    assert same_da(r, _shape._getitem(X, idx))
    assert same(r.value, expect)
    if np.ndim(expect) == 0:                            # a copy, not a view
        r2 = X[idx]
        r2[()] = 99.0
        assert same(X.value[idx], expect)


FANCY = [np.array([0, 3, -1, 3]), np.array([], dtype=np.intp), np.array([9]), np.array([-10]),
         np.array([True, False] * 4 + [True, True]), np.zeros(10, bool), np.ones(9, bool),
         np.array([1, 2], dtype=np.int32), np.array([[0, 1], [2, 3]])]


@pytest.mark.parametrize("make", [rows, lambda a: np.tanh(rows(a)), _strided],
                         ids=["eager", "lazy", "strided"])
@pytest.mark.parametrize("idx", FANCY, ids=repr)
def test_fancy_indexes_of_a_vector_gather_as_numpy(make, idx):
    a = np.linspace(-2.0, 2.0, 10)
    X = make(a)
    try:
        expect = X.value[idx]
    except IndexError as exc:
        with pytest.raises(IndexError, match=str(exc)[:20]):
            X[idx]
        return
    r = X[idx]
    assert same(r.value, expect)
    for j in range(X.k):
        assert same(r.deriv[j], X.deriv[j][idx])
    r._v[...] = 0.0                                    # a copy: x unchanged
    assert same(X.value, make(a).value)


def _assign(X, idx, val):
    X[idx] = val
    return X


@pytest.mark.parametrize("idx", [2, -1, slice(1, 8, 3), (Ellipsis,), (slice(None), None),
                                 slice(5, 2), ()], ids=repr)
@pytest.mark.parametrize("val", ["float", "int", "lazy", "lazy 0-d"])
def test_item_assignment_in_c_equals_the_python_path(idx, val):
    a = np.linspace(-1.0, 1.0, 9)
    X = rows(a)
    region = X.value[idx]
    shape = np.shape(region)
    if val == "float":
        v = 2.5
    elif val == "int":
        v = -3
    elif val == "lazy":
        v = np.exp(rows(np.linspace(0.0, 1.0, int(np.prod(shape))).reshape(shape), k=3))
    else:
        v = np.exp(rows(np.array(0.25), k=3))
    fast = _assign(rows(a), idx, v)
    if isinstance(v, DualArray):
        v = _shape._getitem(v, ())                     # an eager copy: the Python path
    slow = rows(a)
    _shape._setitem(slow, idx, v)
    assert same_da(fast, slow)
    expect = a.copy()
    expect[idx] = v.value if isinstance(v, DualArray) else v
    assert same(fast.value, expect)


def test_item_assignment_keeps_numpy_semantics_at_the_edges():
    X = rows(np.arange(6.0))
    V = X[1:4]                                         # a view: sees writes into X
    X[2] = 7.0
    assert V.value[1] == 7.0 and same(V.deriv[:, 1], [0.0, 0.0, 0.0])
    X[1:] = X[:-1] * 1.0                               # the right side is computed first
    assert same(X.value, [0.0, 0.0, 1.0, 7.0, 3.0, 4.0])
    Y = np.sin(X)
    Y[...] = Y                                         # itself: unchanged
    assert same(Y.value, np.sin(X.value))
    with pytest.raises(ValueError, match="deriv shape"):
        X[0] = np.sin(rows(np.array(1.0), k=2))        # other directions
    with pytest.raises(ValueError):
        X[1:3] = np.sin(rows(np.ones(3)))              # no broadcast of 3 into 2
    seen = []

    def f(z):
        seen.append(z)
        with pytest.raises(ValueError, match="read-only"):
            z[0:1][0] = 1.0                            # a view of the read-only seed
        return z.sum()

    dualml.gradient(f, np.array([1.0, 2.0]))
    assert seen


# -- max, min and prod over every element in C ------------------------------------------

REDUCE_VALUES = [np.array([3.0, -1.0, 3.0, 2.0]), np.array([-0.0, 0.0, -0.0]),
                 np.array([1.0, np.nan, 5.0, np.nan]), np.array([np.inf, -np.inf, 1.0]),
                 np.array([2.0, 0.0, 0.0, 3.0]), np.array([7.0]), np.array(4.0),
                 np.arange(12.0).reshape(3, 4)[:, ::-2] - 2.5, np.array([1e200, 1e200, 1e-300])]


@pytest.mark.parametrize("a", REDUCE_VALUES, ids=lambda a: repr(a.tolist()))
@pytest.mark.parametrize("name", ["max", "min", "prod"])
def test_full_reductions_in_c_pick_numpy_elements_and_product_rule(name, a):
    X = rows(a, k=3)
    r = getattr(X, name)()
    assert same_da(r, getattr(_reduce, "_prod" if name == "prod" else "_select_reduce")(
        *((X,) if name == "prod" else (X, None, False, getattr(np, "arg" + name), name))))
    if name != "prod":
        i = np.unravel_index(getattr(np, "arg" + name)(a), a.shape)
        assert same(r.value, a[i]) and same(r.deriv, X.deriv[(slice(None),) + i])
    else:
        # the product rule against the scalar Dual, left to right
        flat, t = a.reshape(-1), X.deriv.reshape(3, -1)
        for j in range(3):
            acc = Dual(flat[0], t[j, 0])
            for i in range(1, flat.size):
                acc = acc * Dual(flat[i], t[j, i])
            assert same(r.value, acc.value) and same(r.deriv[j], acc.deriv)


def test_full_reductions_of_empty_arrays_keep_numpy_errors():
    X = rows(np.zeros(0))
    for name in ("max", "min"):
        with pytest.raises(ValueError, match="zero-size"):
            getattr(X, name)()
    assert same(np.asarray(X.prod().value if isinstance(X.prod(), DualArray) else X.prod()), 1.0)


# -- sums and means over axes in C --------------------------------------------------------

AXES = [0, -1, 1, (0, 1), (-1, 0), (2, 0), 5, (0, 0), 1.0, np.int64(1), ()]


@pytest.mark.parametrize("shape", [(3, 4), (10, 10), (2, 3, 5), (17, 33), (1, 9)], ids=repr)
@pytest.mark.parametrize("make", [lambda a: rows(a, k=4), lambda a: np.exp(rows(a, k=4)) * 1.0,
                                  lambda a: _strided(a, k=2)], ids=["eager", "lazy", "strided"])
@pytest.mark.parametrize("name", ["sum", "mean"])
def test_reductions_over_axes_equal_the_python_path_and_numpy(name, make, shape):
    rng = np.random.default_rng(sum(shape))
    a = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, shape)
    X = make(a)
    ref = getattr(_reduce, "_" + name)

    def run(f):
        # (result or exception type, NumPy's warnings): the C path calls
        # NumPy from C, so its warnings name the caller's line, not dualml's
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            try:
                out = f()
            except Exception as exc:                   # noqa: BLE001
                out = type(exc)
        return out, sorted(str(w.message) for w in seen)

    for axis in AXES:
        for keepdims in (False, True):
            expect, w_expect = run(lambda: ref(X, axis, keepdims))
            r, w_r = run(lambda: getattr(X, name)(axis=axis, keepdims=keepdims))
            assert w_r == w_expect, (axis, keepdims)
            if isinstance(expect, type):
                assert r is expect, (axis, keepdims)
                continue
            assert same_da(r, expect), (axis, keepdims)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                assert same(r.value, getattr(np, name)(X.value, axis=axis, keepdims=keepdims))


# -- inner products of vectors in C ---------------------------------------------------------

@pytest.mark.parametrize("n", [0, 1, 2, 7, 10, 33, 100, 1000])
@pytest.mark.parametrize("kind", ["dual@dual", "dual@const", "const@dual", "lazy@lazy",
                                  "strided", "dot method"])
def test_inner_products_equal_the_python_path_and_the_product_rule(kind, n):
    rng = np.random.default_rng(n)
    a, b = rng.standard_normal(n) * 10.0 ** rng.integers(-3, 3, n), rng.standard_normal(n)
    X, Y = rows(a, k=3, seed=1), rows(b, k=3, seed=2)
    if kind == "dual@const":
        Y = b
    elif kind == "const@dual":
        X = a
    elif kind == "lazy@lazy":
        X, Y = X * 1.0, Y * 1.0
    elif kind == "strided":
        X, Y = _strided(a), _strided(b)
    r = X.dot(Y) if kind == "dot method" else X @ Y
    assert same_da(r, _products._matmul(X, Y))
    # the product rule, row by row, against NumPy's own inner products
    ad = X.deriv if isinstance(X, DualArray) else np.zeros((3, n))
    bd = Y.deriv if isinstance(Y, DualArray) else np.zeros((3, n))
    assert same(r.value, np.matmul(getattr(X, "value", X), getattr(Y, "value", Y)))
    expect = [np.dot(ad[j], b) + np.dot(a, bd[j]) for j in range(3)]
    assert np.allclose(r.deriv, expect, rtol=1e-13, atol=1e-300)


def test_inner_product_errors_are_numpys():
    X = rows(np.ones(3))
    with pytest.raises(ValueError, match="matmul"):
        X @ rows(np.ones(4))
    with pytest.raises(ValueError, match="directions"):
        X @ rows(np.ones(3), k=2)


@pytest.mark.parametrize("make", [rows, lambda a: np.tanh(rows(a)), _strided],
                         ids=["eager", "lazy", "strided"])
@pytest.mark.parametrize("idx", ["rows", "rows neg", "rows empty", "rows out", "mask",
                                 "mask strided", "mask wrong", "mask none"])
def test_fancy_indexes_of_matrices_gather_as_numpy(make, idx):
    a = np.arange(24.0).reshape(4, 6) / 7.0 - 1.0
    X = make(a)
    i = {"rows": np.array([2, 0, 2]), "rows neg": np.array([-1, -4]),
         "rows empty": np.array([], dtype=np.intp), "rows out": np.array([4]),
         "mask": X.value > 0, "mask strided": (np.arange(48.0).reshape(4, 12) % 3 == 0)[:, ::2],
         "mask wrong": np.ones((4, 5), bool), "mask none": np.zeros((4, 6), bool)}[idx]
    try:
        expect = X.value[i]
    except IndexError:
        with pytest.raises(IndexError):
            X[i]
        return
    r = X[i]
    assert same(r.value, expect)
    for j in range(X.k):
        assert same(r.deriv[j], X.deriv[j][i])
    assert not np.shares_memory(r._v, X._v)


@pytest.mark.parametrize("bounds", [(0.2, 0.8), (None, 0.5), (0.5, None), (-1.0, 2.0),
                                    (0.5, 0.5), (np.full(10, 0.3), 0.9), ([0.1] * 10, None),
                                    (None, None)], ids=repr)
def test_clip_in_c_equals_the_python_path(bounds):
    a = np.linspace(0.0, 1.0, 10)                      # hits both bounds exactly (ties)
    X = rows(a)
    lo, hi = bounds
    r = X.clip(lo, hi)
    expect = _joins._clip(X, lo, hi)
    assert same_da(r, expect) if isinstance(expect, DualArray) else r is X
    if lo is not None or hi is not None:
        assert same(r.value, np.clip(a, lo, hi))


@pytest.mark.parametrize("axis, keepdims", [(None, False), (None, True), (0, False), (1, True),
                                            ((0, 1), False)])
@pytest.mark.parametrize("make", [rows, lambda a: np.tanh(rows(a)), _strided],
                         ids=["eager", "lazy", "strided"])
def test_frobenius_norm_through_c_paths_equals_the_python_path(make, axis, keepdims):
    a = np.linspace(-2.0, 3.0, 12).reshape(3, 4)
    X = make(a)
    r = np.linalg.norm(X, axis=axis, keepdims=keepdims)
    if axis is None:
        # NumPy's: the inner product of the array flattened in memory order
        flat = np.ravel(X, order="K")
        expect = _elementwise._ew_unary("sqrt", flat @ flat)
        if keepdims:
            expect = expect.reshape(1, 1)
    else:
        sq = _elementwise._ew_unary("square", X)
        expect = _elementwise._ew_unary("sqrt", _reduce._sum(sq, axis, keepdims))
    assert same_da(r, expect)
    assert same(r.value, np.linalg.norm(X.value, axis=axis, keepdims=keepdims))
# -- NumPy's function protocol: the C callable and its fast paths ------------------------
# Reference: the Python handler of the same NumPy function (_numpy_api._HANDLED),
# which the fast paths must equal bit for bit, and NumPy on each component.

from dualml.arrays import _numpy_api  # noqa: E402

HANDLED = _numpy_api._HANDLED


def _afn_operands():
    # eager, lazy (a fast-path result), strided views, special values,
    # k = 0 and 1, 0-d, and hessian's second-order rows
    rng = np.random.default_rng(21)
    X = rows(rng.standard_normal((3, 4)))
    ops = {
        "eager": X,
        "lazy": np.sin(X) * 2.0,
        "view": X[:, ::2],
        "transposed": X.T,
        "rows view": DualArray(rng.standard_normal((2, 6)),
                               rng.standard_normal((5, 2, 6)))[1:, :],
        "special": rows(SPECIAL.reshape(2, 7)),
        "k=0": DualArray(rng.standard_normal(6), np.zeros((0, 6))),
        "k=1": DualArray(rng.standard_normal(5), rng.standard_normal(5)),
        "0-d": rows(np.array(1.5)),
        "hessian rows": _core._new(rng.standard_normal(4), rng.standard_normal((14, 4)), 7,
                                   (4, 0, 4, True)),
    }
    return ops


AFN_OPERANDS = sorted(_afn_operands())


@pytest.mark.parametrize("which", AFN_OPERANDS)
@pytest.mark.parametrize("fname", ["sum", "mean", "transpose", "ravel"])
def test_array_function_fast_path_equals_the_python_handler(fname, which):
    X = _afn_operands()[which]
    f = getattr(np, fname)
    with np.errstate(invalid="ignore"):                 # inf + -inf in the sums
        r, s = f(X), HANDLED[f](X)
    assert same_da(r, s)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 127, 128, 129, 1000, 4097, 10001])
def test_numpy_sum_and_mean_have_numpy_bits(n):
    rng = np.random.default_rng(n)
    v = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
    X = DualArray(v, rng.standard_normal((3, n)))
    with np.errstate(invalid="ignore", divide="ignore"), \
            __import__("warnings").catch_warnings():
        __import__("warnings").simplefilter("ignore", RuntimeWarning)   # mean of nothing
        for f in (np.sum, np.mean):
            r = f(X)
            assert same(r.value, f(v)) and same(r.deriv, f(X.deriv, axis=1))
            assert same_da(r, HANDLED[f](X))


@pytest.mark.parametrize("which", AFN_OPERANDS)
def test_numpy_reshape_fast_path_equals_the_python_handler(which):
    X = _afn_operands()[which]
    n = X.size
    for shape in (n, -1, (n,), (1, n), (n, 1, 1), (-1, 1), (1, -1)):
        r, s = np.reshape(X, shape), HANDLED[np.reshape](X, shape)
        assert same_da(r, s), shape
        assert same_da(X.reshape(shape), s)
        if np.ndim(shape) == 1 and len(shape) > 1:
            assert same_da(X.reshape(*shape), s)
    assert same_da(X.ravel(), HANDLED[np.ravel](X))
    assert same_da(X.transpose(), HANDLED[np.transpose](X))
    assert same_da(np.transpose(X, None), HANDLED[np.transpose](X))


def test_numpy_dot_with_constant_matrices_equals_the_python_handler():
    rng = np.random.default_rng(22)
    W = rng.standard_normal((5, 4))
    x = rows(rng.standard_normal(4) * 10.0 ** rng.integers(-3, 3, 4))
    M = rows(rng.standard_normal((4, 3)))
    H = _core._new(rng.standard_normal(4), rng.standard_normal((14, 4)), 7, (4, 0, 4, True))
    for a, b in [(W, x), (x, W.T), (W, M), (M.T, W.T), (W, H), (H, W.T), (W, np.sin(x)),
                 (W[:, ::-1], x[::-1]), (W, rows(SPECIAL[:4]))]:
        with np.errstate(invalid="ignore", over="ignore"):
            assert same_da(np.dot(a, b), HANDLED[np.dot](a, b))
    # and against NumPy on the value and on every tangent row
    r = np.dot(W, x)
    assert np.allclose(r.value, W @ x.value, rtol=1e-15, atol=0)
    for j in range(x.k):
        assert np.allclose(r.deriv[j], W @ x.deriv[j], rtol=1e-14, atol=1e-15)
    # a jacobian pass through np.dot: W exactly (the identity seed's shortcut)
    assert same(dualml.jacobian(lambda z: np.dot(W, z), x.value), W)


def _in_order(A, B):
    # the tangent products' rule, written out: every element summed in the
    # order of the summed index, from 0.0, one IEEE operation at a time
    M, K = A.shape
    N = B.shape[1]
    C = np.empty((M, N))
    for r in range(M):
        for c in range(N):
            s = 0.0
            for i in range(K):
                s = s + float(A[r, i]) * float(B[i, c])
            C[r, c] = s
    return C


@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 5, 1), (10, 10, 10), (4, 7, 17), (2, 64, 64),
                                   (5, 3, 0), (0, 3, 4), (6, 0, 3)])
def test_small_tangent_products_sum_in_order_whatever_the_layout(shape):
    # dual_matmul_small: the same bits as the written-out sums, for every
    # layout of the operands (strided, transposed, batched) and every M
    M, K, N = shape
    rng = np.random.default_rng(M * 100 + K * 10 + N)
    A = rng.standard_normal((M, K)) * 10.0 ** rng.integers(-8, 8, (M, K))
    B = rng.standard_normal((K, N)) * 10.0 ** rng.integers(-8, 8, (K, N))
    if A.size:
        A.flat[0] = -0.0
    ref = _in_order(A, B)
    assert same(_core._tmatmul(A, B), ref)
    assert same(_core._tmatmul(np.asfortranarray(A), np.asfortranarray(B)), ref)
    Aw = np.zeros((M, 2 * K))
    Aw[:, ::2] = A
    Bw = np.zeros((2 * K, 3 * N))
    Bw[::2, ::3] = B
    assert same(_core._tmatmul(Aw[:, ::2], Bw[::2, ::3]), ref)           # strided
    assert same(_core._tmatmul(A, B.T.copy().T), ref)                      # B's columns contiguous
    stack = np.stack([A, A[::-1]])
    got = _core._tmatmul(stack, B)                                         # batched
    assert same(got[0], ref) and same(got[1], ref[::-1])
    got = _core._tmatmul(A, np.stack([B, B, B]))
    assert all(same(g, ref) for g in got)
    # batches of B each read transposed, one C-ordered (3, N, K) block: all
    # of them in one call as B_z' A', transposed back -- the same sums
    Bs = [B, B * -3.0, B[::-1] if K else B]
    Bt = np.ascontiguousarray(np.stack([b.T for b in Bs])).transpose(0, 2, 1)
    assert Bt.strides[1] == 8 or min(K, N) < 2
    got = _core._tmatmul(A, Bt)
    assert all(same(g, _in_order(A, b)) for g, b in zip(got, Bs))
    if M > 1:
        assert same(_core._tmatmul(A[1:], B), ref[1:])                     # fewer rows
    got = _core._tmatmul(np.broadcast_to(A, (2, 3, M, K)), B)              # two batch axes
    assert got.shape == (2, 3, M, N) and all(same(g, ref) for g in got.reshape((6, M, N)))


@pytest.mark.parametrize("M", [1, 2, 3, 4, 5, 9])
def test_small_tangent_products_with_specials_have_one_bit_pattern(M):
    # every register tile of dual_matmul_small (rows in fours and the rest;
    # 8-, 4-, 2- and 1-wide columns) against the written-out sums on
    # operands with inf, nan and -0.0; a nan result is the quiet +nan
    # whatever the tile that made it, so the bits (nans included) do not
    # depend on how the rows or columns were batched
    rng = np.random.default_rng(M)
    specials = np.array([np.inf, -np.inf, np.nan, -np.nan, -0.0, 0.0, 1e308, 5e-324])
    nan_bits = np.array([np.nan]).view(np.int64)[0]
    for N in (1, 2, 3, 5, 7, 8, 11, 15, 16, 19):
        K = int(rng.integers(1, 9))
        A = rng.standard_normal((M, K))
        B = rng.standard_normal((K, N))
        for X in (A, B):
            hit = rng.random(X.shape) < 0.15
            X[hit] = rng.choice(specials, hit.sum())
        ref = _in_order(A, B)
        got = _core._tmatmul(A, B)
        # (a nan's sign in the written-out sums is the CPU's choice)
        assert same(np.where(np.isnan(got), np.nan, got), np.where(np.isnan(ref), np.nan, ref))
        assert (got[np.isnan(got)].view(np.int64) == nan_bits).all()
        bits = got.view(np.int64)
        rows_ = np.concatenate([_core._tmatmul(A[r:r + 1], B) for r in range(M)])
        assert (rows_.view(np.int64) == bits).all()
        cols = np.concatenate([_core._tmatmul(A, B[:, c:c + 1]) for c in range(N)], axis=1)
        assert (cols.view(np.int64) == bits).all()
        assert (_core._tmatmul(A, B.T.copy().T).view(np.int64) == bits).all()
        bt = _core._tmatmul(A, np.ascontiguousarray(np.stack([B.T, B.T])).transpose(0, 2, 1))
        assert all((g.view(np.int64) == bits).all() for g in bt)


def test_large_tangent_products_go_to_blas_in_both_paths():
    # K * N over the kernel's size: NumPy's matmul, in the C path and the
    # Python path alike; at and over the boundary both paths agree
    rng = np.random.default_rng(9)
    for n, m in ((64, 64), (64, 65), (4096, 1), (4097, 1)):
        W = rng.standard_normal((m, n))
        x = rows(rng.standard_normal(n), k=3)
        assert same_da(W @ x, _products._matmul(W, x))
        assert same_da(x @ W.T, _products._matmul(x, W.T))
        y = rows(rng.standard_normal(n), k=3, seed=1)
        assert same_da(x @ y, _products._matmul(x, y))
        if n * m > 4096:
            assert same(_core._tmatmul(x.deriv, W.T), x.deriv @ W.T)


@pytest.mark.parametrize("n", [3, 8, 33])
def test_products_with_strided_matrices_have_numpys_values(n):
    # W @ x gives NumPy's matmul bits and np.dot(W, x) np.dot's, whatever
    # the strides (on strided operands the two may sum in other orders),
    # and the C paths equal the handlers
    rng = np.random.default_rng(n)
    big = rng.standard_normal((2 * n, 3 * n)) * 10.0 ** rng.integers(-5, 5, (2 * n, 3 * n))
    v = rng.standard_normal(2 * n) * 10.0 ** rng.integers(-5, 5, 2 * n)
    X = DualArray(v, rng.standard_normal((3, 2 * n)))[::2]
    for W in (big[:n, ::3], big[::2, :n], big[:n, :n].T, big[::2, ::3], big[:n, :n]):
        for a, b, av, bv in ((W, X, W, X.value), (X, W.T, X.value, W.T)):
            r, s = a @ b, np.dot(a, b)
            assert same(r.value, av @ bv) and same(s.value, np.dot(av, bv))
            assert same_da(r, _products._matmul(a, b)) and same_da(s, HANDLED[np.dot](a, b))
            assert same_da(s, (a.dot(b) if type(a) is DualArray else np.dot(a, b)))
            assert np.allclose(r.deriv, s.deriv, rtol=1e-14, atol=0)


def _gemv_cases(rng):
    # (W, x): matrices C- and F-ordered, strided, with a length-1 axis,
    # large enough to release the GIL; vectors made by the constructor (two
    # ndarrays), by an operation (one lazy block), strided, of length 1
    for m, n in ((2, 2), (3, 7), (10, 10), (1, 6), (6, 1), (40, 64), (65, 64), (150, 120)):
        W = rng.standard_normal((m, n)) * 10.0 ** rng.integers(-6, 6, (m, n))
        for Wl in (W, np.asfortranarray(W), np.repeat(W, 2, axis=1)[:, ::2]):
            for k in (1, 3):
                v = rng.standard_normal(n) * 10.0 ** rng.integers(-6, 6, n)
                x = DualArray(v, rng.standard_normal((k, n)))
                yield Wl, x
                yield Wl, x * 1.0
                yield Wl, DualArray(np.repeat(v, 2), np.repeat(x.deriv, 2, axis=1))[::2]


def test_products_with_constant_matrices_have_numpys_gemv_bits():
    # A constant matrix times a dual vector, on either side, through every
    # entry (@, np.matmul, np.dot, .dot): the value NumPy's own bits (the
    # C path may call NumPy's gemv directly, _core._direct_gemv), the rows
    # the Python path's bits and NumPy's products direction by direction
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    if blas.get("name") == "scipy-openblas" and "USE64BITINT" in blas.get(
            "openblas configuration", ""):
        assert _core._direct_gemv()         # NumPy's wheels: the direct call is in use
    rng = np.random.default_rng(20261205)
    for W, x in _gemv_cases(rng):
        WT = W.T
        for r, value, row, python in (
                (W @ x, W @ x.value, lambda d: W @ d, _products._matmul(W, x)),
                (np.matmul(W, x), W @ x.value, lambda d: W @ d, _products._matmul(W, x)),
                (np.dot(W, x), np.dot(W, x.value), lambda d: np.dot(W, d), HANDLED[np.dot](W, x)),
                (x @ WT, x.value @ WT, lambda d: d @ WT, _products._matmul(x, WT)),
                (x.dot(WT), np.dot(x.value, WT), lambda d: np.dot(d, WT), HANDLED[np.dot](x, WT))):
            assert same(r.value, value)
            assert same_da(r, python)
            expect = np.array([row(d) for d in x.deriv])
            assert np.allclose(r.deriv, expect, rtol=1e-13, atol=1e-300 + 1e-13 * abs(expect).max())


def test_products_of_dual_and_constant_matrices_have_numpys_gemm_bits():
    # A constant matrix times a dual matrix, either side, C- or F-ordered
    # (x.T), lazy or not, strided, with length-1 axes, and a constant that
    # is the dual's own value (NumPy may take syrk there): NumPy's value
    # bits, the rows the Python path's bits and NumPy's products per direction
    rng = np.random.default_rng(31)
    for m, n, p in ((2, 2, 2), (3, 5, 4), (10, 10, 10), (1, 4, 3), (4, 1, 3), (4, 3, 1),
                    (20, 64, 64), (64, 65, 3), (130, 40, 90)):
        A = rng.standard_normal((m, n)) * 10.0 ** rng.integers(-6, 6, (m, n))
        W = rng.standard_normal((n, p))
        for k in (1, 3):
            x = DualArray(A, rng.standard_normal((k, m, n)))
            xs = (x, x * 1.0, DualArray(A.T.copy(), x.deriv.transpose(0, 2, 1).copy()).T,
                  DualArray(np.repeat(A, 2, axis=1), np.repeat(x.deriv, 2, axis=2))[:, ::2])
            for xx in xs:
                for Wl in (W, np.asfortranarray(W), np.repeat(W, 2, axis=0)[::2]):
                    WT = Wl.T
                    for r, value, row, python in (
                            (xx @ Wl, xx.value @ Wl, lambda d: d @ Wl, _products._matmul(xx, Wl)),
                            (xx.dot(Wl), np.dot(xx.value, Wl), lambda d: np.dot(d, Wl),
                             HANDLED[np.dot](xx, Wl)),
                            (WT @ xx.T, WT @ xx.value.T, lambda d: WT @ d.T,
                             _products._matmul(WT, xx.T)),
                            (np.dot(WT, xx.T), np.dot(WT, xx.value.T), lambda d: np.dot(WT, d.T),
                             HANDLED[np.dot](WT, xx.T))):
                        assert same(r.value, value)
                        assert same_da(r, python)
                        expect = np.array([row(d) for d in xx.deriv])
                        assert np.allclose(r.deriv, expect, rtol=1e-13,
                                           atol=1e-300 + 1e-13 * abs(expect).max())
    sq = DualArray(rng.standard_normal((6, 6)), rng.standard_normal((2, 6, 6)))
    V = sq.value
    assert np.shares_memory(V, sq._v)
    for r, value, python in ((sq @ V.T, V @ V.T, _products._matmul(sq, V.T)),
                             (V.T @ sq, V.T @ V, _products._matmul(V.T, sq)),
                             (np.dot(sq, V.T), np.dot(V, V.T), HANDLED[np.dot](sq, V.T))):
        assert same(r.value, value) and same_da(r, python)


def test_products_with_constant_matrices_without_direct_gemv():
    # where NumPy's gemv cannot be reached (no such symbol: here the
    # extension's own library), products take NumPy's product call, with
    # the same bits; the direct call comes back with NumPy's library
    import numpy._core._multiarray_umath as mu
    had = _core._direct_gemv()
    rng = np.random.default_rng(5)
    cases = list(_gemv_cases(rng))[:40]
    before = [(W @ x, np.dot(x, W.T)) for W, x in cases]
    try:
        assert _core._find_gemv(_core.__file__) is False and not _core._direct_gemv()
        for (W, x), (r, s) in zip(cases, before):
            assert same_da(W @ x, r) and same_da(np.dot(x, W.T), s)
    finally:
        assert _core._find_gemv(mu.__file__) is had


def test_products_with_constant_matrices_keep_nan_rule_and_threads():
    # a nan value goes to the Python path's domain rule; concurrent products
    # (large ones release the GIL) equal serial ones
    rng = np.random.default_rng(8)
    W = rng.standard_normal((6, 5))
    x = rows(np.array([1.0, np.nan, 2.0, 3.0, 4.0]))
    assert same_da(W @ x, _products._matmul(W, x))
    assert same_da(x @ W.T, _products._matmul(x, W.T))
    Ws = [rng.standard_normal((200, 150)) for _ in range(8)]
    xs = [rows(rng.standard_normal(150), k=4, seed=i) for i in range(8)]
    serial = [(W @ x, x @ W.T) for W, x in zip(Ws, xs)]
    out = [None] * 8

    def work(i):
        for _ in range(20):
            out[i] = (Ws[i] @ xs[i], xs[i] @ Ws[i].T)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for (a, b), (c, e) in zip(serial, out):
        assert same_da(a, c) and same_da(b, e)


@pytest.mark.parametrize("shape", [(3, 4, 5), (10, 10, 10), (2, 33, 3), (70, 70, 70), (1, 5, 1),
                                   (30, 20, 30), (4, 40, 60)])
@pytest.mark.parametrize("k", [1, 3, 10])
def test_products_of_two_dual_matrices_in_c_equal_the_python_path(shape, k):
    # x @ y and np.dot(x, y) of two first-order 2-d DualArrays: NumPy's value
    # bits, and the Python path's tangent bits (the two _tprod terms, added;
    # the C path writes them into the result's block, one direction of the
    # second term at a time, scratch on the stack or the heap)
    m, n, p = shape
    rng = np.random.default_rng(m + n + p + k)
    A = DualArray(rng.standard_normal((m, n)) * 10.0 ** rng.integers(-4, 4, (m, n)),
                  rng.standard_normal((k, m, n)))
    B = DualArray(rng.standard_normal((n, p)), rng.standard_normal((k, n, p)))
    Bt = DualArray(rng.standard_normal((p, n)), rng.standard_normal((k, p, n))).T
    for a, b in ((A, B), (np.sin(A), B[:, ::-1]), (A.T.T, B), (A, Bt), (A[::-1], Bt[:, ::-1])):
        r, s = a @ b, np.dot(a, b)
        assert same(r.value, a.value @ b.value) and same(s.value, np.dot(a.value, b.value))
        assert same_da(r, _products._matmul(a, b)) and same_da(s, HANDLED[np.dot](a, b))
    G = A.T @ A                                        # one operand's transpose: syrk
    assert same(G.value, A.value.T @ A.value) and same_da(G, _products._matmul(A.T, A))
    # inf * 0 in the value: nan, and the Python path's domain rule for its rows
    va, vb = A.value.copy(), B.value.copy()
    va[0, 0], vb[0, :] = np.inf, 0.0
    Ai, Bz = DualArray(va, A.deriv), DualArray(vb, B.deriv)
    with np.errstate(invalid="ignore"):
        r = Ai @ Bz
        assert same(r.value, va @ vb) and np.isnan(r.value[0]).all()
        assert same_da(r, _products._matmul(Ai, Bz)) and np.isnan(r.deriv[:, 0]).all()
    # against the product rule, row by row
    for j in range(k):
        ref = A.deriv[j] @ B.value + A.value @ B.deriv[j]
        assert np.allclose((A @ B).deriv[j], ref, rtol=1e-13, atol=1e-13 * np.abs(ref).max())


@pytest.mark.parametrize("m, n", [(10, 10), (3, 7), (1, 5), (5, 1), (1, 1), (70, 60)])
@pytest.mark.parametrize("k", [1, 4, 10])
def test_matrix_vector_products_of_two_duals_equal_the_python_path(m, n, k):
    # A @ b, a @ A, np.dot and np.matmul of a dual matrix and a dual vector:
    # NumPy's value bits, the Python path's tangent bits (the vector as a
    # column or a row, two _tprod terms), on contiguous, lazy, strided and
    # Fortran-ordered matrices; against the product rule row by row
    rng = np.random.default_rng(m * 100 + n * 10 + k)
    A = DualArray(rng.standard_normal((m, n)) * 10.0 ** rng.integers(-4, 4, (m, n)),
                  rng.standard_normal((k, m, n)))
    b = DualArray(rng.standard_normal(n), rng.standard_normal((k, n)))
    a = DualArray(rng.standard_normal(m), rng.standard_normal((k, m)))
    wide = DualArray(rng.standard_normal((m, 2 * n)), rng.standard_normal((k, m, 2 * n)))
    mats = [A, np.sin(A) * 1.0, wide[:, ::2], DualArray(np.asfortranarray(A.value), A.deriv),
            DualArray(A.value, np.asfortranarray(A.deriv))]
    for M in mats:
        for x, y in ((M, b), (M, np.exp(b)), (a, M), (a[::-1], M)):
            r = x @ y
            assert same_da(r, _products._matmul(x, y)), (x.shape, y.shape)
            assert same(r.value, x.value @ y.value)
            assert same_da(np.matmul(x, y), r)
            s = np.dot(x, y)
            assert same_da(s, HANDLED[np.dot](x, y)) and same(s.value, np.dot(x.value, y.value))
            assert same_da(x.dot(y), s)
            for j in range(k):
                ref = x.deriv[j] @ y.value + x.value @ y.deriv[j]
                assert np.allclose(r.deriv[j], ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max())
    bad = DualArray(np.where(np.arange(m * n).reshape(m, n) == 0, np.inf, A.value), A.deriv)
    zero = DualArray(np.zeros(n), b.deriv)                   # inf * 0: nan, the domain rule
    with np.errstate(invalid="ignore"):
        r = bad @ zero
        assert same_da(r, _products._matmul(bad, zero)) and np.isnan(r.deriv[:, 0]).all()
    with pytest.raises(ValueError):
        A @ DualArray(b.value, b.deriv[:1] if k > 1 else np.ones((2, n)))


@pytest.mark.parametrize("sa, sb", [((5, 1), (1, 3)), ((5, 1), (1,)), ((1, 4), (4, 3)), ((1, 1), (1, 1)),
                                    ((5, 1), (1, 1)), ((1, 1), (1, 4)), ((3,), (3, 1)),
                                    ((1,), (1, 4)), ((4, 2), (2, 1)), ((1, 3), (3, 1))])
def test_products_with_unit_axes_have_numpys_values_at_inf_times_zero(sa, sb):
    # a length-1 axis: np.matmul takes its own loop where np.dot calls BLAS,
    # whose gemv skips zero entries (inf * 0 is 0 there, nan in matmul);
    # each product keeps its own function's value (was 0 for @ at (5, 1) @ (1,))
    rng = np.random.default_rng(len(sa) * 10 + sb[0])
    a, b = rng.standard_normal(sa), np.zeros(sb)
    a.flat[0] = np.inf
    b.flat[-1] = -0.0
    A = DualArray(a, rng.standard_normal((2,) + sa))
    B = DualArray(b, rng.standard_normal((2,) + sb))
    with np.errstate(invalid="ignore"):
        for x, y in ((A, B), (A, b), (a, B)):
            for f in (np.matmul, lambda p, q: p @ q, np.dot):
                r, ref = f(x, y), f(a, b)
                assert same(r.value, ref), (f, type(x), type(y))
                assert np.isnan(r.deriv[..., np.isnan(ref)]).all()       # the domain rule


@pytest.mark.parametrize("sa, sb", [((10, 10), (10, 10)), ((3, 4), (5, 4)), ((3, 4), (4,)),
                                    ((4,), (5, 4)), ((1, 4), (1, 4))])
def test_inner_of_matrices_is_the_handlers(sa, sb):
    # np.inner with a matrix: np.dot with b transposed (the handler's
    # tensordot), duals and constants on either side
    rng = np.random.default_rng(len(sa) + 3 * len(sb))
    X = DualArray(rng.standard_normal(sa), rng.standard_normal((3,) + sa))
    Y = DualArray(rng.standard_normal(sb), rng.standard_normal((3,) + sb))
    C = rng.standard_normal(sb)
    for x, y in ((X, Y), (X, C), (C.reshape(sb), X) if sa[-1:] == sb[-1:] else (X, C),
                 (np.sin(X) * 1.0, Y)):
        r = np.inner(x, y)
        assert same_da(r, HANDLED[np.inner](x, y))
        assert same(r.value, np.inner(getattr(x, "value", x), getattr(y, "value", y)))


def test_transposes_and_reshapes_are_views_writes_reach_the_base():
    for X in (rows(np.arange(12.0).reshape(3, 4)), np.exp(rows(np.arange(12.0).reshape(3, 4)))):
        before = X.value.copy()
        for V in (X.T, np.transpose(X), X.transpose(), X.reshape(12), np.reshape(X, (2, 6)),
                  X.ravel(), np.ravel(X)):
            assert np.shares_memory(V._v, X._v) and np.shares_memory(V._d, X._d)
        V = X.T
        V[1, 2] = DualArray(np.array(-5.0), np.array([1.0, 2.0, 3.0]))
        assert X.value[2, 1] == -5.0 and same(X.deriv[:, 2, 1], [1.0, 2.0, 3.0])
        W = X.reshape(12)
        W[0] = 7.0
        assert X.value[0, 0] == 7.0 and same(X.deriv[:, 0, 0], np.zeros(3))
        X += 1.0                                       # in place: the views see it
        assert same(V.value, X.value.T) and same(W.value, X.value.reshape(12))
        assert not same(before, X.value)


def test_ravel_of_a_vector_is_a_view_and_of_a_strided_one_a_copy():
    # as NumPy's: a contiguous vector's ravel shares both components (new
    # array object, writes reach the base), a strided one's is a copy
    for X in (rows(np.arange(6.0)), np.exp(rows(np.arange(6.0))) * 1.0):
        for R in (X.ravel(), np.ravel(X)):
            assert R is not X and same_da(R, X.copy())
            assert np.shares_memory(R._v, X._v) and np.shares_memory(R._d, X._d)
        R = X.ravel()
        R[2] = DualArray(np.array(-5.0), np.array([1.0, 2.0, 3.0]))
        assert X.value[2] == -5.0 and same(X.deriv[:, 2], [1.0, 2.0, 3.0])
    S = rows(np.arange(12.0))[::3]
    R = S.ravel()
    assert same_da(R, S.copy()) and not np.shares_memory(R._v, S._v)
    assert np.shares_memory(S.value.ravel(), S.value) is False


@pytest.mark.parametrize("make", [lambda a: rows(a), lambda a: np.sin(rows(a)) * 1.0,
                                  lambda a: _strided(a)], ids=["eager", "lazy", "strided"])
def test_axis_permutations_are_views_as_the_python_path(make):
    # swapaxes / transpose(axes) / np.transpose / np.moveaxis: views of
    # both components (writes reach the base), the Python path's arrays,
    # NumPy's errors for bad axes
    import itertools
    from dualml.arrays import _methods
    X = make(np.arange(60.0).reshape(3, 4, 5))
    for a in range(-3, 3):
        for b in range(-3, 3):
            for r, ref in ((X.swapaxes(a, b), _shape._swapaxes(X, a, b)),
                           (np.swapaxes(X, a, b), _shape._swapaxes(X, a, b)),
                           (np.moveaxis(X, a, b), _shape._moveaxis(X, a, b))):
                assert same_da(r, ref), (a, b)
                assert np.shares_memory(r._v, X._v) and np.shares_memory(r._d, X._d)
            assert same(np.moveaxis(X, a, b).value, np.moveaxis(X.value, a, b))
            assert same(X.swapaxes(a, b).value, X.value.swapaxes(a, b))
    for p in itertools.permutations(range(3)):
        q = [i - 3 for i in p]
        for r in (X.transpose(p), X.transpose(*p), np.transpose(X, p), X.transpose(q)):
            assert same_da(r, _methods._method_transpose(X, (p,)))
            assert same(r.value, X.value.transpose(p))
    P = X.swapaxes(0, 2)
    P[1, 2, 0] = DualArray(np.array(-5.0), np.array([1.0, 2.0, 3.0]))
    assert X.value[0, 2, 1] == -5.0 and same(X.deriv[:, 0, 2, 1], [1.0, 2.0, 3.0])
    for bad in (lambda: X.swapaxes(0, 3), lambda: X.transpose((0, 0, 1)),
                lambda: X.transpose((0, 1)), lambda: np.moveaxis(X, 0, 5),
                lambda: X.transpose(0, 1, 3), lambda: np.transpose(X, (1, 2, 1))):
        with pytest.raises((ValueError, np.exceptions.AxisError)):
            bad()
    x0 = rows(np.array(2.0))
    assert same_da(x0.transpose(()), x0) and same_da(np.transpose(x0, ()), x0)


def test_views_of_a_read_only_seed_stay_read_only():
    x = np.arange(6.0)
    seen = []

    def f(z):
        for V in (z.reshape(2, 3), np.transpose(z.reshape(2, 3)), z.ravel()):
            seen.append((V._d.flags.writeable, z._d.flags.writeable))
        return z
    dualml.jacobian(f, x)
    assert seen and all(a == b for a, b in seen)


def test_reshapes_that_need_a_copy_or_fail_take_the_python_path():
    X = rows(np.arange(12.0).reshape(3, 4))
    for V in (X.T, X[:, :2], X[:, ::2]):                # not C-contiguous: as NumPy,
        r = V.reshape(-1)                              # a copy or a strided view
        assert same_da(r, HANDLED[np.reshape](V, -1))
        assert np.shares_memory(r._v, X._v) == np.shares_memory(V.value.reshape(-1), X._v)
    for shape, order in [((2, 6), "F"), ((4, 3), "A")]:
        assert same_da(X.reshape(shape, order=order),
                       HANDLED[np.reshape](X, shape, order=order))
        assert same_da(np.reshape(X, shape, order=order),
                       HANDLED[np.reshape](X, shape, order=order))
    if NUMPY >= "2.1.0":                                # (np.reshape's shape= keyword)
        assert same_da(np.reshape(X, shape=(6, 2)), HANDLED[np.reshape](X, (6, 2)))
    assert same_da(X.reshape(np.int64(12)), HANDLED[np.reshape](X, 12))
    assert same_da(X.reshape([2, 6]), HANDLED[np.reshape](X, (2, 6)))
    # errors and their messages as the Python path's
    for bad in (7, (-1, -1), (5, -1), (-2, -6), (0, -1), 2 ** 70, (2 ** 62, 2 ** 62)):
        with pytest.raises((ValueError, OverflowError)) as e1:
            np.reshape(X, bad)
        with pytest.raises(type(e1.value)) as e2:
            HANDLED[np.reshape](X, bad)
        assert str(e1.value) == str(e2.value)
        with pytest.raises(type(e1.value), match=__import__("re").escape(str(e1.value))):
            X.reshape(bad)
    with pytest.raises(TypeError):
        X.reshape(2.5)


def test_nested_levels_take_the_python_handlers():
    # hessian's nested DualArrays: closed forms, through np.sum/np.dot/T/reshape
    rng = np.random.default_rng(23)
    A = rng.standard_normal((3, 3))
    x = np.array([0.3, -1.1, 0.8])

    def f(z):
        assert type(z._v) is DualArray or z._o2 is not None
        return np.sum(np.sin(np.reshape(z, (3, 1)).T)) + 0.5 * np.dot(z, np.dot(A, z))
    H = dualml.hessian(f, x)
    assert np.allclose(H, np.diag(-np.sin(x)) + (A + A.T) / 2, rtol=1e-14, atol=1e-15)


def test_array_function_is_a_c_callable_bound_like_a_method():
    X = rows(np.arange(5.0))
    ref = HANDLED[np.sum](X)
    for r in (X.__array_function__(np.sum, (DualArray,), (X,), {}),
              DualArray.__array_function__(X, np.sum, (DualArray,), (X,), {}), np.sum(X)):
        assert same_da(r, ref)
    assert X.__array_function__.__name__ == "__array_function__"
    assert DualArray.__array_function__.__qualname__ == "__array_function__"
    with pytest.raises(TypeError, match="five positional arguments"):
        DualArray.__array_function__(X)
    with pytest.raises(TypeError, match="five positional arguments"):
        X.__array_function__(func=np.sum, types=(), args=(X,), kwargs={})


def test_other_functions_keywords_and_out_keep_their_behaviour():
    X = rows(np.arange(6.0).reshape(2, 3))
    # keywords: the Python handlers
    for f, kw in [(np.sum, {"axis": 0}), (np.sum, {"keepdims": True}), (np.mean, {"axis": 1}),
                  (np.transpose, {"axes": (1, 0)}), (np.ravel, {"order": "F"})]:
        assert same_da(f(X, **kw), HANDLED[f](X, **kw))
    assert same_da(np.sum(X, 1), HANDLED[np.sum](X, 1))
    assert same_da(np.transpose(X, (1, 0)), HANDLED[np.transpose](X, (1, 0)))
    # out=: filled and returned, as before
    out = rows(np.zeros(3))
    assert np.sum(X, axis=0, out=out) is out and same_da(out, HANDLED[np.sum](X, axis=0))
    out = rows(np.zeros((4, 3)))
    assert np.concatenate([X, X], out=out) is out
    with pytest.raises(TypeError, match="out= must be a DualArray"):
        np.concatenate([X, X], out=np.zeros((4, 3)))
    # a function without a rule: the same message as ever
    with pytest.raises(TypeError, match=r"numpy\.fft\.fft is not supported on DualArray|"
                                        r"numpy\.fft is not supported|not supported on DualArray"):
        np.fft.fft(X)
    # np.dot declining the fast path: scalars, two DualArrays, int matrices, mismatches
    Y = rows(np.arange(3.0), seed=4)
    for a, b in [(X, 2.0), (Y, Y), (np.arange(6).reshape(2, 3), Y), (X, Y)]:
        assert same_da(np.dot(a, b), HANDLED[np.dot](a, b))
    with pytest.raises(ValueError) as e1:
        np.dot(np.ones((4, 4)), Y)
    with pytest.raises(ValueError) as e2:
        HANDLED[np.dot](np.ones((4, 4)), Y)
    assert str(e1.value) == str(e2.value)


# -- np.where, np.concatenate, np.stack: the one-tag path ---------------------------------
# Reference: NumPy on the values and on every tangent row (a constant's rows
# are zeros), and the errors of the lifting path.

def _rows_of(o, k, shape):
    return (np.broadcast_to(o._d, (k,) + np.shape(o._v)) if type(o) is DualArray
            else np.zeros((k,) + np.shape(o)))


@pytest.mark.parametrize("case", ["same shape", "broadcast", "0-d constant", "float",
                                  "lazy", "views", "special", "hessian rows", "int cond",
                                  "-0.0", "k=0"])
def test_where_equals_numpy_on_each_component(case):
    rng = np.random.default_rng(31)
    X = rows(rng.standard_normal((3, 4)))
    Y = rows(rng.standard_normal((3, 4)), seed=5)
    mask = rng.standard_normal((3, 4)) > 0
    a, b, c = {
        "same shape": (X, Y, mask),
        "broadcast": (X, rows(rng.standard_normal(4), seed=6), mask[0]),
        "0-d constant": (X, np.array(0.0), mask),
        "float": (-1.5, X, mask),
        "lazy": (np.sin(X), Y * 2.0, mask),
        "views": (X.T, Y[:, ::-1].T, mask.T),
        "special": (rows(SPECIAL), rows(SPECIAL[::-1], seed=7), SPECIAL > 0),
        "hessian rows": (_core._new(rng.standard_normal(4), rng.standard_normal((14, 4)), 7,
                                    (4, 0, 4, True)), np.linspace(0.0, 1.0, 4), mask[0]),
        "int cond": (X, 2.0, mask.astype(int)),
        "-0.0": (rows(SPECIAL), -0.0, SPECIAL > 0.5),
        "k=0": (DualArray(np.ones(3), np.zeros((0, 3))), np.float64(-0.0) * np.ones(()),
                np.array([True, False, True])),
    }[case]
    r = np.where(c, a, b)
    va = a._v if type(a) is DualArray else a
    vb = b._v if type(b) is DualArray else b
    assert same(r._v, np.where(c, va, vb))
    x = a if type(a) is DualArray else b
    k = x._d.shape[0]
    s = r._v.shape
    ra, rb = _rows_of(a, k, s), _rows_of(b, k, s)
    for j in range(k):
        ref = np.where(c, np.broadcast_to(ra[j], s), np.broadcast_to(rb[j], s))
        assert same(r._d[j], ref), j
    assert r._tag == x._tag and r._o2 == x._o2


def test_where_across_tags_and_errors_keep_their_behaviour():
    rng = np.random.default_rng(32)
    X = rows(rng.standard_normal(4))
    Z = DualArray(rng.standard_normal(4), rng.standard_normal((2, 4)))
    with pytest.raises(ValueError, match=r"where: DualArrays of one tag with different "
                                         r"numbers of directions \(3 and 2\)"):
        np.where(X.value > 0, X, Z)
    with pytest.raises(ValueError, match="could not be broadcast"):
        np.where(np.ones(3, bool), X, 0.0)
    with pytest.raises(TypeError, match="one argument"):
        np.where(X)
    # a lower tag inside a higher one (a nested pass): lifted, closed form
    x = np.array([0.4, -0.3, 1.2])
    H = dualml.hessian(lambda z: np.sum(np.where(x > 0, z * z, 2.0 * z) * z), x)
    assert np.allclose(H, np.diag(np.where(x > 0, 6.0 * x, 4.0)), rtol=1e-15, atol=0)


@pytest.mark.parametrize("axis", [0, 1, -1, None])
def test_concatenate_and_stack_equal_numpy_on_each_component(axis):
    rng = np.random.default_rng(33)
    X = rows(rng.standard_normal((3, 4)))
    items = [X, np.exp(X), X.T.T[:, ::-1], rows(SPECIAL[:12].reshape(3, 4), seed=8)]
    r = np.concatenate(items, axis=axis)
    ref_ax = axis if axis is None else (axis if axis < 0 else axis - 2)
    assert same(r._v, np.concatenate([o._v for o in items], axis=axis))
    if axis is None:
        ref_d = np.concatenate([o._d.reshape(3, -1) for o in items], axis=1)
    else:
        ref_d = np.concatenate([o._d for o in items], axis=ref_ax)
    assert same(r._d, ref_d)
    if axis is not None:
        s = np.stack(items, axis=axis)
        assert same(s._v, np.stack([o._v for o in items], axis=axis))
        n = 3
        assert same(s._d, np.stack([o._d for o in items], axis=(axis % n) - n))
        assert not np.shares_memory(s._v, X._v) and not np.shares_memory(s._d, X._d)
    # mixed with constants and with a lower level: the lifting path, zero rows
    m = np.concatenate([X, np.ones((3, 4))], axis=0)
    assert same(m._d[:, 3:], np.zeros((3, 3, 4))) and same(m._d[:, :3], X._d)
    m = np.stack([np.ones((3, 4)), X])
    assert same(m._d[:, 0], np.zeros((3, 3, 4))) and same(m._d[:, 1], X._d)


def test_joins_keep_their_errors():
    X = rows(np.arange(4.0))
    Z = DualArray(np.arange(4.0), np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"concatenate/stack: DualArrays of one tag with "
                                         r"different numbers of directions \(3 and 2\)"):
        np.concatenate([X, Z])
    with pytest.raises(ValueError, match="concatenate/stack: DualArrays of one tag"):
        np.stack([X, Z])
    with pytest.raises(ValueError, match=r"stack: all input arrays must have the same shape"):
        np.stack([X, X[1:]])
    with pytest.raises(ValueError, match="need at least one array"):
        __import__("dualml.arrays._joins").arrays._joins._stack([], 0)
    with pytest.raises(ValueError, match="same number of dimensions"):
        np.concatenate([X, X.reshape(2, 2)])


@pytest.mark.parametrize("case", ["vectors", "matrices", "lazy and eager", "k=0", "k=1",
                                  "hessian rows", "special", "0-d", "tuple"])
def test_concatenate_and_stack_along_axis_0_equal_numpy_on_each_component(case):
    rng = np.random.default_rng(34)
    H = lambda n: _core._new(rng.standard_normal(n), rng.standard_normal((14, n)), 7,  # noqa
                             (4, 0, 4, True))
    items = {
        "vectors": [rows(rng.standard_normal(3)), rows(rng.standard_normal(5), seed=9)],
        "matrices": [rows(rng.standard_normal((2, 4))), rows(rng.standard_normal((1, 4)))],
        "lazy and eager": [np.sin(rows(np.arange(4.0))), rows(np.arange(4.0)) * 2.0,
                           rows(np.ones(4), seed=3)],
        "k=0": [DualArray(np.ones(2), np.zeros((0, 2))), DualArray(np.ones(3), np.zeros((0, 3)))],
        "k=1": [DualArray(np.ones(2), np.arange(2.0)), DualArray(-np.ones(2), np.ones(2))],
        "hessian rows": [H(4), H(4)],
        "special": [rows(SPECIAL), rows(SPECIAL[::-1].copy(), seed=2)],
        "0-d": [rows(np.array(1.5)), rows(np.array(-0.0), seed=3)],
        "tuple": (rows(np.arange(2.0)), rows(np.arange(2.0), seed=5)),
    }[case]
    vs, ds = [o._v for o in items], [o._d for o in items]
    if case != "0-d":
        r = np.concatenate(items)
        assert same(r._v, np.concatenate(vs)) and same(r._d, np.concatenate(ds, axis=1))
        assert r._tag == items[0]._tag and r._o2 == items[0]._o2
        assert not np.shares_memory(r._d, ds[0]) and not np.shares_memory(r._v, vs[0])
        assert same_da(np.concatenate(items, 0), r)
    if all(o._v.shape == vs[0].shape for o in items):
        s = np.stack(items)
        assert same(s._v, np.stack(vs)) and same(s._d, np.stack(ds, axis=1))
        assert s._tag == items[0]._tag and s._o2 == items[0]._o2
        assert same_da(np.stack(items, 0), s)


def test_joins_along_axis_0_with_constants_in_c_equal_the_handler():
    # float64 constants among the items: zero tangent rows, as the handler
    # lifts them (first, last, several; hessian rows too)
    rng = np.random.default_rng(35)
    X = rows(rng.standard_normal(3))
    H = _core._new(rng.standard_normal(4), rng.standard_normal((14, 4)), 7, (4, 0, 4, True))
    for items in ([X, np.ones(3)], [np.ones(3), X], [np.ones(2), X, np.arange(4.0), np.sin(X)],
                  (X, SPECIAL[:3].copy()), [H, np.ones(4)], [np.ones(4), H, H]):
        r = np.concatenate(items)
        assert same_da(r, HANDLED[np.concatenate](items))
        assert same(r._v, np.concatenate([np.asarray(getattr(o, "_v", o)) for o in items]))
        if all(len(o) == len(items[0]) for o in items):
            assert same_da(np.stack(items), HANDLED[np.stack](items))
            assert same_da(np.vstack(items), HANDLED[np.vstack](items))


def test_joins_along_axis_0_decline_mixed_operands_with_the_same_results():
    X = rows(np.arange(3.0))
    Y = DualArray(np.arange(3.0), np.ones((3, 3)))        # tag 1, but another array
    for items in ([X, np.ones(3)], [X, X[::-1]], [X, Y], [np.ones(3), X], [X, [1.0, 2.0]]):
        r = np.concatenate(items)
        ref = np.concatenate([o._d if type(o) is DualArray else np.zeros((3, len(o)))
                              for o in items], axis=1)
        assert same(r._d, ref)
    with pytest.raises(ValueError, match="same number of dimensions"):
        np.concatenate([X, rows(np.ones((1, 3)))])
    with pytest.raises(ValueError):
        np.concatenate([rows(np.ones((2, 3))), rows(np.ones((2, 4)))])
    with pytest.raises(ValueError, match="same shape"):
        np.stack([X, rows(np.ones(4))])
    with pytest.raises(ValueError, match="out of bounds"):          # (the handler's)
        np.concatenate([rows(np.array(1.0)), rows(np.array(2.0))])


@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("kind", ["dual", "constants", "lazy and eager", "hessian rows",
                                  "special"])
def test_joins_along_any_axis_equal_numpy_on_each_component(axis, kind):
    # concatenate and stack along every axis in C: the values are NumPy's
    # join of the values, each tangent row NumPy's join of the rows (zero
    # rows for a constant item), and the handler gives the same arrays
    rng = np.random.default_rng(40 + axis)
    ax = axis % 3
    sh = [2, 3, 4]

    def shape(n):                              # items differing along the axis
        t = list(sh)
        t[ax] = n
        return tuple(t)
    if kind == "hessian rows":
        H = lambda s: _core._new(rng.standard_normal(s), rng.standard_normal((14,) + s),  # noqa
                                 7, (4, 0, 4, True))
        items, same_shape = [H(shape(1)), H(shape(3))], [H(shape(2)), H(shape(2))]
    else:
        a, b, c = (rows(rng.standard_normal(shape(n)), seed=n) for n in (1, 3, 2))
        if kind == "special":
            a = rows(SPECIAL[:math.prod(shape(1))].reshape(shape(1)), seed=4)
        items = {"dual": [a, b, c], "constants": [np.ones(shape(2)), a, rng.random(shape(3))],
                 "lazy and eager": [np.sin(a), b * 2.0, c],
                 "special": [a, c, b]}[kind]
        same_shape = [c, np.exp(c), np.ones(shape(2)) if kind == "constants" else c * c]
    lift = lambda o: o if type(o) is DualArray else None  # noqa: E731
    k = next(o for o in items if type(o) is DualArray)._d.shape[0]

    def parts(o, n):
        return (o._v, o._d) if lift(o) is not None else (o, np.zeros((k,) + o.shape))
    r = np.concatenate(items, axis=axis)
    assert same(r._v, np.concatenate([parts(o, 0)[0] for o in items], axis=axis))
    assert same(r._d, np.concatenate([parts(o, 0)[1] for o in items], axis=ax + 1))
    assert same_da(r, HANDLED[np.concatenate](items, axis=axis))
    assert same_da(np.concatenate(items, axis), r)
    s = np.stack(same_shape, axis=axis)
    sax = axis % 4
    assert same(s._v, np.stack([parts(o, 0)[0] for o in same_shape], axis=axis))
    assert same(s._d, np.stack([parts(o, 0)[1] for o in same_shape], axis=sax + 1))
    assert same_da(s, HANDLED[np.stack](same_shape, axis=axis))
    assert not np.shares_memory(s._d, same_shape[0]._d)


def test_hstack_and_column_stack_equal_numpy_on_each_component():
    rng = np.random.default_rng(41)
    x, y = rows(rng.standard_normal(5)), rows(rng.standard_normal(5), seed=2)
    M, N = rows(rng.standard_normal((5, 2)), seed=3), rows(rng.standard_normal((5, 3)), seed=4)
    for f in (np.hstack, np.column_stack):
        for items in ([x, y], (x, np.sin(y), x), [M, N], [M, np.ones((5, 1)), N], [x, np.ones(5)],
                      [M, x], [x, M], [rows(np.array(1.0)), rows(np.array(2.0))]):
            vs = [o._v if type(o) is DualArray else o for o in items]
            try:
                ref = f(vs)
            except ValueError:                 # (hstack of a matrix and a vector)
                with pytest.raises(ValueError):
                    f(items)
                continue
            r = f(items)
            assert same_da(r, HANDLED[f](items)), (f, items)
            assert same(r._v, ref)
    # column_stack of vectors: the columns of a matrix, each tangent row too
    r = np.column_stack([x, y, np.exp(x)])
    for j in range(3):
        assert same(r._d[j], np.column_stack([x._d[j], y._d[j], np.exp(x)._d[j]]))
    r = np.hstack([M, N])
    assert same(r._d, np.concatenate([M._d, N._d], axis=2))


@pytest.mark.parametrize("index", [(slice(None), [2, 0, -1]), (Ellipsis, [1, 1]),
                                   ([3, -4], Ellipsis), (slice(None), [[0, 1], [2, 0]]),
                                   (Ellipsis, [2, 0], slice(None)), ([0], slice(None)),
                                   (slice(None), []), (slice(None), slice(None), [3, 0]),
                                   (Ellipsis, np.array([2, -3]))])
def test_integer_arrays_along_an_axis_gather_as_numpy(index):
    # x[:, idx], x[..., idx], np.take(x, idx, axis): a C gather along that
    # axis; values NumPy's x[index] of the values, each tangent row NumPy's
    # of the rows, for lazy and eager, first-order and hessian arrays
    rng = np.random.default_rng(42)
    X = rows(rng.standard_normal((4, 3, 4)))
    H = _core._new(rng.standard_normal((4, 3, 4)), rng.standard_normal((14, 4, 3, 4)), 7,
                   (4, 0, 4, True))
    for x in (X, np.sin(X), H, rows(np.resize(SPECIAL, 48).reshape(4, 3, 4))):
        r = x[index]
        v = x._v[index]
        assert same(r._v, v) and r._v.shape == v.shape
        assert same(r._d, x._d[(slice(None),) + index])
        assert r._tag == x._tag and r._o2 == x._o2
        assert not np.shares_memory(r._d, x._d)
        assert same_da(r, _py_getitem(x, index))
    # np.take along each axis, by position and keyword
    for axis in (0, 1, 2, -1):
        idx = np.array([[1, 0], [-1, 2]])
        r = np.take(X, idx, axis=axis)
        assert same(r._v, np.take(X._v, idx, axis=axis))
        assert same(r._d, np.take(X._d, idx, axis=axis % 3 + 1))
        assert same_da(np.take(X, idx, axis), r)


def _py_getitem(x, index):
    from dualml.arrays import _shape
    return _shape._getitem(x, index)


def test_gathers_along_an_axis_keep_numpy_errors_and_other_indexes():
    X = rows(np.arange(12.0).reshape(3, 4))
    with pytest.raises(IndexError):
        X[:, [0, 4]]
    with pytest.raises(IndexError):
        X[..., [-5]]
    with pytest.raises(IndexError):
        np.take(X, [7], axis=0)
    with pytest.raises(IndexError):
        X[:, :, [0]]
    mask = np.array([True, False, True, False])
    for index in ((slice(None), mask), (slice(None), [True, False, True, False]),
                  (slice(1, None), [0, 1]), ([0, 1], [1, 2]), (0, [1, 2])):
        r = X[index]
        assert same(r._v, X._v[index]) and same(r._d, X._d[(slice(None),) + index])
    r = np.take(X, [5, 0])                       # (axis None: the flattened array)
    assert same(r._v, np.take(X._v, [5, 0]))
    T = X.T                                      # a strided view: the Python path, same result
    assert same(T[:, [2, 0]]._d, T._d[:, :, [2, 0]])


@pytest.mark.parametrize("shapes", [((3,), (3,)), ((4, 3), (4, 3)), ((2, 4, 3), (4, 3)),
                                    ((3, 5), (3, 5))])
def test_cross_is_the_product_rule_of_numpys_components(shapes):
    # d(a x b) = da x b + a x db (closed form, NumPy's cross of the parts);
    # the values NumPy's cross of the values, bit for bit
    rng = np.random.default_rng(43)
    a = rows(rng.standard_normal(shapes[0]))
    b = rows(rng.standard_normal(shapes[1]), seed=5)
    kw = {"axis": 0} if shapes[0] == (3, 5) else {}
    r = np.cross(a, b, **kw)
    assert same(r._v, np.cross(a._v, b._v, **kw))
    for j in range(a.k):
        ref = np.cross(a._d[j], b._v, **kw) + np.cross(a._v, b._d[j], **kw)
        assert np.allclose(r._d[j], ref, rtol=1e-14, atol=1e-15)
    c = np.cross(a, np.array([1.0, -2.0, 0.5]) if not kw else np.ones((3, 5)), **kw)
    assert c._v.shape == r._v.shape


@pytest.mark.parametrize("ufunc, args", [
    (np.deg2rad, ()), (np.radians, ()), (np.rad2deg, ()), (np.degrees, ()),
    (np.fmod, (0.3,)), (np.fmod, ("Y",)), (np.logaddexp2, ("Y",)), (np.ldexp, (3,)),
    (np.heaviside, (0.5,)), (np.conjugate, ()), (np.divmod, (0.7,)), (np.modf, ()),
    (np.frexp, ()), (np.float_power, (2.5,))])
def test_composed_ufuncs_in_c_equal_the_python_path_and_the_scalar_dual(ufunc, args):
    # ufuncs that are compositions of rules: the C entry calls the
    # composition directly (deg2rad & co. as the product with their
    # constant); the same arrays as the Python path's _array_ufunc, and
    # elementwise the scalar Dual's
    X = rows(SPECIAL)
    Y = rows(np.linspace(-3.0, 3.0, len(SPECIAL)), seed=4)
    ops = (X,) + tuple(Y if a == "Y" else a for a in args)
    with np.errstate(all="ignore"):
        r = ufunc(*ops)
        ref = _numpy_api._array_ufunc(ufunc, "__call__", ops, {})
    rs, refs = (r, ref) if type(r) is tuple else ((r,), (ref,))
    for a, b in zip(rs, refs):
        assert same_da(a, b) if type(a) is DualArray else same(a, b)
    if ufunc is np.frexp:
        return
    for i in range(len(SPECIAL)):
        for j in range(X.k):
            sops = [Dual(SPECIAL[i], X.deriv[j, i])] + [
                Dual(Y.value[i], Y.deriv[j, i]) if a == "Y" else a for a in args]
            with np.errstate(all="ignore"):
                e = ufunc(*sops)
            es = e if type(e) is tuple else (e,)
            for a, b in zip(rs, es):
                if type(a) is not DualArray:     # (heaviside: a constant, as the scalar's)
                    assert type(b) is not Dual and same(a[i], float(b)), (i, j)
                    continue
                assert same(a.value[i], b.value), (i, j)
                assert same(a.deriv[j, i], b.deriv if type(b) is Dual else 0.0), (i, j)


def test_flips_atleast_and_splits_in_c_equal_numpy_on_each_component():
    # np.flipud / fliplr / atleast_nd / split / array_split: views in C
    # whose components are NumPy's function of the values and of the rows
    # (the rows' axes after their direction axis), as the handlers' results
    rng = np.random.default_rng(44)
    for x in (rows(rng.standard_normal(7)), rows(rng.standard_normal((4, 6)), seed=2),
              np.sin(rows(rng.standard_normal((3, 4, 5)), seed=3)), rows(np.array(0.5), seed=4)):
        nd = x._v.ndim
        cases = [(np.atleast_1d, (), 1), (np.atleast_2d, (), 2), (np.atleast_3d, (), 3)]
        if nd >= 1:
            cases += [(np.flipud, (), None), (np.split, (1,), 0), (np.array_split, (3,), 0),
                      (np.split, ([2, 3],), 0), (np.array_split, ((1, -1, 9),), 0)]
        if nd >= 2:
            cases += [(np.fliplr, (), None), (np.array_split, (4, 1), 1)]
            if x._v.shape[-1] % 2 == 0:
                cases += [(np.split, (2, -1), -1)]
        for f, args, _ in cases:
            r = f(x, *args)
            ref_v = f(x._v, *args)
            h = HANDLED[f](x, *args)
            rs, refs, hs = (r, ref_v, h) if type(r) is list else ([r], [ref_v], [h])
            assert len(rs) == len(refs)
            for p, (a, v, b) in enumerate(zip(rs, refs, hs)):
                assert same(a._v, v) and a._v.shape == v.shape, (f, args)
                assert same_da(a, b), (f, args)
                for j in range(x.k):
                    dj = f(x._d[j], *args)
                    assert same(a._d[j], dj[p] if type(dj) is list else dj), (f, args, j)
    X = rows(np.arange(6.0))
    with pytest.raises(ValueError):
        np.split(X, 4)                             # (the handler: NumPy's error)
    with pytest.raises(ValueError):
        np.fliplr(X)
    assert np.atleast_2d(rows(np.ones((2, 2)))) is not None
    Y = rows(np.ones((2, 2)))
    assert np.atleast_1d(Y) is Y and np.atleast_2d(Y) is Y


@pytest.mark.parametrize("shape, axis", [((4, 6), 0), ((4, 6), 1), ((4, 6), -1), ((3, 4, 5), 1),
                                         ((3, 4, 5), -3), ((7,), 0), ((5, 1), 0)])
def test_sort_and_take_along_axis_in_c_gather_as_numpy(shape, axis):
    # np.sort along an axis: each tangent row follows the stable argsort of
    # the values (ties keep their order, nan values last); np.take_along_axis
    # gathers both components alike; as NumPy on the values and on each row
    rng = np.random.default_rng(45)
    v = rng.integers(-3, 3, shape).astype(float)           # ties
    v.flat[::5] = np.nan
    v.flat[1] = -0.0
    X = rows(v)
    for x in (X, np.sin(X) * 1.0 + X):
        order = np.argsort(x._v, axis=axis, kind="stable")
        kw = {} if axis == -1 else {"axis": axis}
        r = np.sort(x, **kw)
        # (a stable sort's values: NumPy's default sort may order -0.0 and
        # 0.0, which tie, the other way)
        assert same(r._v, np.sort(x._v, axis=axis, kind="stable"))
        assert np.array_equal(r._v, np.sort(x._v, axis=axis), equal_nan=True)
        assert same(r._d, np.stack([np.take_along_axis(dj, order, axis) for dj in x._d]))
        assert same_da(r, HANDLED[np.sort](x, axis))
        assert same_da(np.sort(x, axis), r)
        idx = rng.integers(-shape[axis], shape[axis], shape[:axis % len(shape)] + (3,)
                           + shape[axis % len(shape) + 1:])
        t = np.take_along_axis(x, idx, axis)
        assert same(t._v, np.take_along_axis(x._v, idx, axis))
        assert same(t._d, np.stack([np.take_along_axis(dj, idx, axis) for dj in x._d]))
        assert same_da(np.take_along_axis(x, idx, axis=axis), t)
    with pytest.raises(IndexError):
        np.take_along_axis(X, np.full((1,) * len(shape), 99), axis)


@pytest.mark.parametrize("spec", ["ij->j", "ij->i", "ij->", "ii->", "ii->i", "ij->ji", "ijk->kj",
                                  "...j->...", "i...->...", "ijk->ik"])
def test_einsum_of_one_dual_in_c_is_numpys_of_the_values_and_of_each_row(spec):
    # sums, traces, diagonals and transposes: NumPy's einsum of the values,
    # and of each tangent row; a nan value (here inf - inf) leaves the
    # rows to the handler's domain rule; the same arrays as the handler
    rng = np.random.default_rng(46)
    nd = len(spec.split("->")[0].replace("...", "ab"))
    shape = (4,) * nd if "ii" in spec else (3, 4, 5)[:nd]
    X = rows(rng.standard_normal(shape))
    for x in (X, np.exp(X)):
        r = np.einsum(spec, x)
        assert same(r._v, np.einsum(spec, x._v))
        assert same(r._d, np.stack([np.einsum(spec, dj) for dj in x._d]))
        assert same_da(r, HANDLED[np.einsum](spec, x))
    v = np.zeros(shape)
    v.flat[0], v.flat[-1] = np.inf, -np.inf
    Y = rows(v)
    r = np.einsum(spec, Y)
    assert same_da(r, HANDLED[np.einsum](spec, Y))
    if np.isnan(np.einsum(spec, v)).any():
        assert np.isnan(r._d[:, np.isnan(r._v)]).all()
    with pytest.raises(ValueError):
        np.einsum("ij->k", X) if nd == 2 else np.einsum("i->j", X)


@pytest.mark.parametrize("k", [0, 1, -2, 5, -6])
def test_diag_in_c_equals_numpy_on_each_component(k):
    # np.diag of a vector: the matrix with it on diagonal k, zeros elsewhere
    # (written, not a product with the identity: an inf keeps zero
    # neighbours); of a matrix: the diagonal views; as NumPy on the values
    # and on each tangent row, and as the handler
    rng = np.random.default_rng(47)
    v = rng.standard_normal(5)
    v[1], v[3] = np.inf, -0.0
    H = _core._new(v, rng.standard_normal((14, 5)), 7, (4, 0, 4, True))
    for x in (rows(v), np.exp(rows(v, seed=2)), H, rows(rng.standard_normal((4, 6)), seed=3)):
        with np.errstate(all="ignore"):
            r = np.diag(x, k)
            h = HANDLED[np.diag](x, k)
        assert same(r._v, np.diag(x._v, k)) and same_da(r, h)
        for j in range(x._d.shape[0]):
            assert same(r._d[j], np.diag(x._d[j], k)), j
        assert r._tag == x._tag and r._o2 == x._o2
    assert same_da(np.diag(rows(v)), HANDLED[np.diag](rows(v), 0))


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0, 2), (np.array(-0.5), 0.5),
                                    (np.linspace(-1, 0, 14), np.inf), (1.0, -1.0),
                                    (-0.0, 0.0), (np.nan, 1.0), (-1.0, None), (None, 0.5),
                                    (np.linspace(-1, 0, 14), None), (None, -0.0)])
def test_clip_equals_the_handler_and_the_scalar_dual(lo, hi):
    X = rows(SPECIAL)
    with np.errstate(invalid="ignore"):
        r = np.clip(X, lo, hi)
        assert same_da(r, HANDLED[np.clip](X, lo, hi))
        if lo is None or hi is None:                # (NumPy's maximum / minimum then)
            assert same(r.value, np.clip(SPECIAL, lo, hi))
    # the scalar Dual, elementwise: maximum then minimum (a None bound: no rule)
    lo_b = None if lo is None else np.broadcast_to(lo, SPECIAL.shape)
    hi_b = None if hi is None else np.broadcast_to(hi, SPECIAL.shape)
    for i, x in enumerate(SPECIAL):
        for j in range(X.k):
            e = Dual(x, X.deriv[j, i])
            if lo_b is not None:
                e = dualml.maximum(e, float(lo_b[i]))
            if hi_b is not None:
                e = dualml.minimum(e, float(hi_b[i]))
            assert same(r.value[i], e.value) and same(r.deriv[j, i], e.deriv), (x, j)


def test_clip_and_hstack_keywords_and_other_shapes_keep_their_behaviour():
    X = rows(np.arange(-2.0, 3.0))
    assert same_da(np.clip(X, a_min=-1.0, a_max=None), HANDLED[np.clip](X, -1.0, None))
    assert same_da(np.clip(X, None, 1.0), HANDLED[np.clip](X, None, 1.0))
    if NUMPY >= "2.1.0":                                # (np.clip's min= / max=)
        assert same_da(np.clip(X, max=1.0), HANDLED[np.clip](X, max=1.0))
    for items in ([X, X * 2.0], (X, np.sin(X)), [X, np.ones(5)], [rows(np.ones((2, 2)))] * 2,
                  [rows(np.array(1.0)), X], [X, X[::-1]]):
        assert same_da(np.hstack(items), HANDLED[np.hstack](items))
    r = np.hstack([X, np.sin(X)])
    assert same(r._v, np.hstack([X._v, np.sin(X)._v]))
    assert same(r._d, np.concatenate([X._d, np.sin(X)._d], axis=1))
    M = rows(np.arange(8.0).reshape(2, 4))
    for items in ([X, X * 2.0], (X, np.sin(X), X), [X, np.ones(5)], [M, np.sin(M)], [M, X[:4]],
                  [X[:4], M], [rows(np.array(1.0)), rows(np.array(2.0))], [X, X[::-1]], [X],
                  [M[:, ::2], M[:, 1::2]]):
        r = np.vstack(items)
        assert same_da(r, HANDLED[np.vstack](items))
        assert same(r._v, np.vstack([np.asarray(getattr(i, "_v", i)) for i in items]))


def test_views_of_lazy_results_outlive_them_and_alias_as_numpy():
    a = np.arange(12.0).reshape(3, 4) / 5.0
    X = rows(a)
    views = [np.transpose(np.sin(X)), np.sin(X).T, np.reshape(np.sin(X), 12),
             np.ravel(np.sin(X)), np.sin(X).transpose()]
    for _ in range(50):                                # the allocator reuses freed blocks
        np.cos(X) * 3.0 + X
    s = np.sin(X)
    for v in views:
        assert same(np.ravel(v.value), np.ravel(s.value.T if v.shape == (4, 3) else s.value))
    # an assignment from an array into its own transpose copies first, as NumPy
    b = np.arange(9.0).reshape(3, 3)
    Y = rows(b) * 1.0
    Y.T[...] = Y
    b.T[...] = b.copy()
    assert same(Y.value, b)


# -- copies in C ------------------------------------------------------------------------

@pytest.mark.parametrize("make", [rows, lambda a: _strided(a), lambda a: np.sin(rows(a)) * 1.0,
                                  lambda a: rows(a)[..., 1:]],
                         ids=["contiguous", "strided", "lazy", "rows apart"])
@pytest.mark.parametrize("shape", [(), (7,), (4, 5), (2, 3, 4)], ids=repr)
def test_copy_and_flatten_are_fresh_copies_of_the_same_doubles(make, shape):
    a = np.arange(float(np.prod(shape, dtype=int) + 1))[1:].reshape(shape) * 0.37 - 2.0
    if make is not rows and a.ndim == 0:
        return                                   # (0-d arrays have no strided views)
    X = make(a)
    ref_v, ref_d = X.value.copy(), X.deriv.copy()
    for c in (X.copy(), copy.copy(X), copy.deepcopy(X), np.copy(X)):
        assert type(c) is DualArray and c.tag == X.tag and c.shape == X.shape
        assert same(c.value, ref_v) and same(c.deriv, ref_d)
        c[...] = 9.0                             # the copy owns its storage
        assert same(X.value, ref_v) and same(X.deriv, ref_d)
    f = X.flatten()
    assert f.shape == (ref_v.size,) and f.deriv.shape == (ref_d.shape[0], ref_v.size)
    assert same(f.value, ref_v.reshape(-1)) and same(f.deriv, ref_d.reshape(ref_d.shape[0], -1))
    f[...] = 9.0
    assert same(X.value, ref_v) and same(X.deriv, ref_d)
    F = X.flatten("F")                           # (the Python path)
    assert same(F.value, ref_v.flatten("F"))


def test_copy_keeps_the_hessian_row_layout():
    x = np.linspace(0.5, 1.5, 6)
    H = dualml.hessian(lambda z: (z.copy() ** 3).sum() + (z.flatten() * z).sum(), x)
    assert np.allclose(H, np.diag(6 * x + 2), rtol=1e-14, atol=0)


# -- lists as indexes, squeeze, and NumPy functions routed to the C paths ---------------

@pytest.mark.parametrize("make", [rows, _strided, lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
@pytest.mark.parametrize("idx", [[1, 3], [-1, 0, -4], [True, False, True, False], [],
                                 [1, True], [[0, 1], [1, 0]], [0, slice(None)]], ids=repr)
def test_list_indexes_as_numpy(make, idx):
    a = np.arange(20.0).reshape(4, 5) * 0.5 - 3.0
    X = make(a)
    try:
        expect = X.value[idx]
    except (IndexError, TypeError) as e:
        with pytest.raises(type(e)):
            X[idx]
        return
    r = X[idx]
    assert same(r.value, expect)
    assert same(r.deriv, np.stack([t[idx] for t in X.deriv]).reshape((3,) + expect.shape))


@pytest.mark.parametrize("shape", [(1, 4, 1), (3, 4), (1,), ()], ids=repr)
@pytest.mark.parametrize("make", [rows, lambda a: np.sin(rows(a)) * 1.0], ids=["eager", "lazy"])
def test_squeeze_is_a_view_as_numpy(shape, make):
    a = np.arange(1.0, 1.0 + np.prod(shape, dtype=int)).reshape(shape)
    X = make(a)
    for s in (X.squeeze(), np.squeeze(X)):
        assert s.shape == a.squeeze().shape
        assert same(s.value, X.value.squeeze()) and same(s.deriv, X.deriv.reshape((3,) + s.shape))
    s = X.squeeze()
    s[...] = 7.0                                    # a view: x sees the write
    assert (X.value == 7.0).all() and (X.deriv == 0.0).all()


def test_numpy_reductions_and_vector_products_match_the_methods():
    rng = np.random.default_rng(14)
    x = rng.standard_normal(9)
    X, Y = rows(x), rows(rng.standard_normal(9))
    for f, g in ((np.prod, X.prod), (np.max, X.max), (np.amax, X.max), (np.min, X.min),
                 (np.amin, X.min)):
        assert same_da(f(X), g())
    ref = X @ Y
    for r in (np.dot(X, Y), np.inner(X, Y)):
        assert same_da(r, ref)
    # d (x . y) = dx . y + x . dy, against the closed form
    assert np.allclose(np.dot(X, Y).deriv, X.deriv @ Y.value + Y.deriv @ X.value,
                       rtol=1e-14, atol=1e-14)
    assert same_da(np.dot(X, x), X @ x) and same_da(np.inner(x, X), x @ X)


@pytest.mark.parametrize("make", [rows, _strided, lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3, (1,)], ids=repr)
@pytest.mark.parametrize("keepdims", [False, True])
def test_max_min_along_an_axis_as_the_python_path(make, axis, keepdims):
    rng = np.random.default_rng(15)
    a = rng.integers(-3, 4, (3, 4, 5)).astype(float)          # many ties
    a[1, 2, 3] = np.nan                                         # nan first along every axis
    a[2, 0, :] = -np.inf
    X = make(a)
    for name, argf in (("max", np.argmax), ("min", np.argmin)):
        r = getattr(X, name)(axis=axis, keepdims=keepdims)
        ref = _reduce._select_reduce(X, axis, keepdims, argf, name)
        assert same_da(r, ref), (name, axis, keepdims)
        # (NumPy's reduction may pick the other signed zero of a tie)
        assert np.array_equal(r.value, getattr(np, name)(X.value, axis=axis, keepdims=keepdims),
                              equal_nan=True)
    with pytest.raises(Exception) as e_ours:
        X.max(axis=3)
    with pytest.raises(Exception) as e_np:
        a.max(axis=3)
    assert type(e_ours.value) is type(e_np.value)


@pytest.mark.parametrize("make", [rows, _strided, lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
def test_np_sum_and_mean_with_an_axis_equal_the_handler(make):
    # np.sum / np.mean with axis (by keyword or position) and keepdims go to
    # the methods' C paths: the handler's (the Python path's) bits
    X = make(np.arange(24.0).reshape(2, 3, 4) * 0.3 - 1.0)
    for f in (np.sum, np.mean):
        for args, kw in (((0,), {}), ((), {"axis": 1}), ((), {"axis": (0, 2), "keepdims": True}),
                         ((-1,), {"keepdims": False}), ((), {"axis": None})):
            assert same_da(f(X, *args, **kw), HANDLED[f](X, *args, **kw)), (f, args, kw)
    with pytest.raises(TypeError):
        np.sum(X, 0, axis=1)


@pytest.mark.parametrize("make", [rows, _strided, lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, -2], ids=repr)
def test_cumsum_equals_the_python_path(make, axis):
    a = np.arange(20.0).reshape(4, 5) * 0.7 - 5.0
    a[1, 2], a[2, 3] = np.inf, -np.inf
    X = make(a)
    with np.errstate(invalid="ignore"):             # (inf + -inf, as NumPy warns)
        for r in (X.cumsum(axis), np.cumsum(X, axis=axis)):
            assert same_da(r, _reduce._cumsum(X, axis))
    v = make(np.arange(6.0) - 2.5)
    assert same_da(v.cumsum(), _reduce._cumsum(v, None))
    with pytest.raises(Exception) as e_ours:
        X.cumsum(2)
    with pytest.raises(Exception) as e_np:
        a.cumsum(2)
    assert type(e_ours.value) is type(e_np.value)


@pytest.mark.parametrize("make", [rows, _strided, lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
def test_sort_of_a_vector_moves_each_tangent_with_its_value(make):
    a = np.array([3.0, -1.0, 2.0, -1.0, np.nan, 0.5, 2.0, -np.inf])     # ties, nan, -inf
    X = make(a)
    r = np.sort(X)
    order = np.argsort(X.value, kind="stable")                      # ties keep their order
    assert np.array_equal(r.value, np.sort(X.value), equal_nan=True)
    assert same(r.value, X.value[order]) and same(r.deriv, X.deriv[:, order])
    assert same_da(r, HANDLED[np.sort](X))                         # the C path, the handler


def test_flip_and_expand_dims_are_views_of_both_components():
    # through the core's indexing and reshape: views, as NumPy's
    rng = np.random.default_rng(0)
    X = DualArray(rng.standard_normal((3, 4)), rng.standard_normal((2, 3, 4)))
    for Z in (X, X[:, ::2], X.T, np.sin(X)):
        for ax in (0, 1, -1, (0, 2), (-1, 0)):
            r = np.expand_dims(Z, ax)
            assert same(r.value, np.expand_dims(Z.value, ax))
            assert same(r.deriv, np.expand_dims(Z.deriv, tuple(
                a + 1 if a >= 0 else a for a in (ax if isinstance(ax, tuple) else (ax,)))))
            assert np.shares_memory(r._v, Z._v) and np.shares_memory(r._d, Z._d)
        for ax in (None, 0, 1, (0, 1), -1):
            r = np.flip(Z, ax)
            axes = (1, 2) if ax is None else tuple(a % 2 + 1 for a in np.atleast_1d(ax))
            assert same(r.value, np.flip(Z.value, ax)) and same(r.deriv, np.flip(Z.deriv, axes))
            assert np.shares_memory(r._v, Z._v) and np.shares_memory(r._d, Z._d)
    with pytest.raises(ValueError):
        np.expand_dims(X, (0, 0))


def test_trace_fills_out_and_checks_dtype():
    # out= used to be ignored (the result returned, out left as it was)
    rng = np.random.default_rng(0)
    X = DualArray(rng.standard_normal((4, 4)), rng.standard_normal((3, 4, 4)))
    out = DualArray(np.zeros(()), np.zeros(3))
    assert np.trace(X, out=out) is out
    assert same(out.value, np.trace(X.value))
    assert np.allclose(out.deriv, np.trace(X.deriv, axis1=1, axis2=2), rtol=1e-15, atol=0)
    assert same_da(X.trace(), np.trace(X))
    with pytest.raises(TypeError, match="float64"):
        np.trace(X, dtype=np.float32)
    with pytest.raises(TypeError, match="out= must be a DualArray"):
        np.trace(X, out=np.zeros(()))


def test_cov_and_corrcoef_refuse_other_dtypes():
    X = rows(np.arange(6.0).reshape(2, 3) ** 2)
    assert same_da(np.cov(X, dtype=np.float64), np.cov(X))
    for f in (np.cov, np.corrcoef):
        with pytest.raises(TypeError, match="float64"):
            f(X, dtype=np.float32)


@pytest.mark.parametrize("shape", [(4, 5, 6), (2, 3, 4, 5), (3, 40, 7), (2, 130, 1), (1, 9, 17),
                                   (5, 30), (7, 2, 15), (2, 3, 3001)], ids=repr)
@pytest.mark.parametrize("k", [1, 3])
def test_sums_over_a_run_of_axes_in_c_have_numpys_bits(shape, k):
    # a tuple of adjacent axes: one axis of the same memory (slices added
    # in order, or each lane's pairwise sum where the run ends at the last
    # axis), np.add.reduce's / np.mean's bits per component, the Python path's
    rng = np.random.default_rng(sum(shape) + k)
    v = rng.standard_normal(shape) * 10.0 ** rng.integers(-8, 8, shape)
    X = DualArray(v, rng.standard_normal((k,) + shape))
    nd = len(shape)
    for size in range(2, nd + 1):
        for lo in range(nd - size + 1):
            run = tuple(range(lo, lo + size))
            for axes in (run, tuple(a - nd for a in run)[::-1]):
                for kd in (False, True):
                    for name, f in (("sum", np.add.reduce), ("mean", np.mean)):
                        got = getattr(X, name)(axis=axes, keepdims=kd)
                        assert same(got.value, np.asarray(f(v, axis=axes, keepdims=kd)))
                        for j in range(k):
                            assert same(got.deriv[j], np.asarray(f(X.deriv[j], axis=axes,
                                                                   keepdims=kd)))
                        ref = getattr(_reduce, "_" + name)(X, axes, kd)
                        assert same_da(got, ref), (axes, kd, name)


@pytest.mark.parametrize("shape", [(1,), (7,), (8,), (9,), (129,), (300,), (3, 4), (10, 10),
                                   (1, 9), (9, 1), (8, 17), (3, 130), (130, 3), (2, 3, 4),
                                   (4, 1, 6), (2, 2, 2, 2), (2, 8193), (16385,)])
def test_sums_over_one_axis_in_c_have_numpys_bits(shape):
    # one-axis sums and means written out in C: NumPy's order (the identity
    # 0.0, then the pairwise sum of each lane along the last axis, or the
    # slices one after the other along another), so np.add.reduce's and
    # np.mean's bits, -0.0 sums included; the Python path's too
    rng = np.random.default_rng(len(shape) * 1000 + shape[-1])
    vals = (rng.standard_normal(shape),
            rng.choice([0.0, -0.0, 1.0, -1.0, 2.5, -0.0], size=shape),
            rng.standard_normal(shape) * 10.0 ** rng.integers(-20, 20, shape),
            np.full(shape, -0.0))
    for v in vals:
        t = rng.standard_normal((3,) + shape) * 10.0 ** rng.integers(-10, 10, (3,) + shape)
        t[0] = -0.0
        for X in (DualArray(v, t), np.negative(DualArray(v, t))):
            for ax in range(-len(shape), len(shape)):
                tax = ax if ax < 0 else ax + 1
                for kd in (False, True):
                    r, m = X.sum(ax, keepdims=kd), X.mean(ax, keepdims=kd)
                    assert same(r.value, np.add.reduce(X.value, axis=ax, keepdims=kd))
                    assert same(r.deriv, np.add.reduce(X.deriv, axis=tax, keepdims=kd))
                    assert same(m.value, np.mean(X.value, axis=ax, keepdims=kd))
                    assert same(m.deriv, np.mean(X.deriv, axis=tax, keepdims=kd))
                    assert same_da(r, _reduce._sum(X, ax, kd)) and same_da(m, _reduce._mean(X, ax, kd))
    Z = DualArray(np.full(9, -0.0), np.full((2, 9), -0.0))       # the full sum too
    assert same(Z.sum().value, np.sum(Z.value)) and same(Z.sum().deriv, np.zeros(2))


@pytest.mark.parametrize("shape", [(1,), (9,), (300,), (3, 4), (1, 9), (9, 1), (2, 3, 4), (4, 1, 6)])
def test_cumsum_in_c_has_numpys_bits(shape):
    # np.add.accumulate's order written out in C: each lane's first element,
    # then the running sum; -0.0 kept where NumPy keeps it
    rng = np.random.default_rng(shape[-1] + len(shape))
    for v in (rng.standard_normal(shape), rng.choice([0.0, -0.0, 1.0, -1.0], size=shape),
              np.full(shape, -0.0), rng.standard_normal(shape) * 10.0 ** rng.integers(-20, 20, shape)):
        t = rng.standard_normal((3,) + shape)
        t[0] = -0.0
        for X in (DualArray(v, t), np.negative(DualArray(v, t))):
            for ax in [None] + list(range(-len(shape), len(shape))):
                r = X.cumsum(ax)
                et = (np.cumsum(X.deriv.reshape(3, -1), 1) if ax is None
                      else np.cumsum(X.deriv, ax if ax < 0 else ax + 1))
                assert same(r.value, np.cumsum(X.value, ax)) and same(r.deriv, et)
                assert same_da(r, _reduce._cumsum(X, ax)) and same_da(np.cumsum(X, ax), r)


@pytest.mark.parametrize("shape", [(1,), (9,), (3, 4), (1, 9), (9, 1), (2, 3, 4)])
def test_cumprod_in_c_equals_the_products_slice_by_slice(shape):
    # the multiply rule slice by slice in C (its kernel, as the operators
    # call it): the Python path's bits, zeros, infinities and -0.0 included
    rng = np.random.default_rng(sum(shape))
    for v in (rng.standard_normal(shape), rng.choice([0.0, -0.0, 1.0, -2.0, np.inf], size=shape)):
        t = rng.standard_normal((3,) + shape)
        t[0] = 0.0
        for X in (DualArray(v, t), np.negative(DualArray(v, t)), DualArray(v, t[:1]),
                  DualArray(v, t[:0])):
            for ax in [None] + list(range(-len(shape), len(shape))):
                Z = X.reshape(-1) if ax is None else X
                a = -1 if ax is None else (ax if ax < 0 else ax - len(shape))
                with np.errstate(invalid="ignore"):
                    r = np.cumprod(X, axis=ax)
                    ref = _statistics._accumulate_slices(Z, a, "multiply")
                    assert same_da(r, ref), (ax, X.k)
                    # positional axis and the method: the C fast paths of
                    # the function protocol and of DualArray.cumprod
                    assert same_da(np.cumprod(X) if ax is None else np.cumprod(X, ax), ref)
                    assert same_da(X.cumprod(ax), ref)
                    assert same(r.value, np.cumprod(X.value, axis=ax))
                    assert same_da(np.multiply.accumulate(Z, axis=a), ref)
                    if X.k:
                        c = _core._cumprod(Z, len(Z.shape) + a)         # (the C path itself)
                        assert c is not NotImplemented and same_da(c, ref)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (3, 7), (9, 2), (40, 40), (200, 150)])
@pytest.mark.parametrize("make", [rows, lambda a: _strided(a), lambda a: np.sin(rows(a)) * 1.0,
                                  lambda a: rows(a.T.copy()).T],
                         ids=["contiguous", "strided", "lazy", "transposed"])
def test_trace_c_path_is_numpys_trace_of_each_component(make, shape):
    # np.trace / .trace() of a matrix in C (pairwise sums along the
    # diagonal): NumPy's trace of the value and of each tangent row, bit
    # for bit, and the handler's result
    a = np.random.default_rng(shape[0]).standard_normal(shape) * 1e3
    X = make(a)
    for r in (np.trace(X), X.trace(), X.trace(0, 1, 0)):
        assert same(r.value, np.trace(X.value))
        assert same(r.deriv, np.array([np.trace(t) for t in X.deriv]))
        assert same_da(r, HANDLED[np.trace](X, 0, 0, 1))
    # a long strided diagonal (a broadcast of every other element, a view):
    # NumPy's reduction takes it in one pairwise pass, as the C path does
    rng = np.random.default_rng(1)
    Z = DualArray(rng.standard_normal(40000) * 1e3, rng.standard_normal((2, 40000)))
    Y = np.broadcast_to(Z[::2], (20000, 20000))
    assert Y.value.strides == (0, 16)
    assert same(np.trace(Y).value, np.trace(Y.value))
    assert same(np.trace(Y).deriv, np.array([np.trace(t) for t in Y.deriv]))


@pytest.mark.parametrize("make", [rows, lambda a: _strided(a), lambda a: np.sin(rows(a)) * 1.0],
                         ids=["contiguous", "strided", "lazy"])
def test_norm_along_an_axis_is_the_handlers(make):
    # np.linalg.norm(x, axis=i, keepdims=...): the core's path gives the
    # handler's bits, NumPy's values (to the last bits of the sums), and
    # the closed form d|x| = (x . dx) / |x| along the axis
    from dualml.arrays import _linalg
    rng = np.random.default_rng(17)
    a = rng.standard_normal((3, 4, 5))
    a[0, 0, :] = 0.0                                   # a zero lane: nan/0 rule of sqrt
    X = make(a)
    for axis in (0, 1, 2, -1, (1,)):
        for kw in ({}, {"keepdims": True}, {"keepdims": False, "ord": None}):
            got = np.linalg.norm(X, axis=axis, **kw)
            ref = _linalg._norm(X, kw.get("ord"), axis, kw.get("keepdims", False))
            assert same_da(got, ref), (axis, kw)
            assert np.allclose(got.value, np.linalg.norm(X.value, axis=axis, **kw),
                               rtol=1e-15, atol=0)
    got = np.linalg.norm(X, axis=2)
    v = X.value
    with np.errstate(all="ignore"):
        expect = np.einsum("ijk,zijk->zij", v, X.deriv) / np.linalg.norm(v, axis=2)
    ok = np.isfinite(expect)
    assert np.allclose(got.deriv[ok], expect[ok], rtol=1e-13, atol=1e-15)
    for kw in ({"axis": 3}, {"axis": (0, 1)}, {"axis": 1, "ord": 1}, {"axis": 1.0}):
        try:
            ref = _linalg._norm(X, kw.get("ord"), kw["axis"], False)
        except Exception as e:                          # (its error, from the handler)
            with pytest.raises(type(e)):
                np.linalg.norm(X, **kw)
        else:
            assert same_da(np.linalg.norm(X, **kw), ref)


def test_interp_of_a_dual_on_constant_knots_is_the_handlers():
    # np.interp(x, xp, fp): the core's path gives the handler's bits (NumPy's
    # value, the segment searchsorted finds -- on unsorted knots and nan
    # too, where only its exact search agrees -- and the segment's slope)
    rng = np.random.default_rng(23)
    for trial in range(300):
        m, n = rng.integers(2, 9), rng.integers(1, 30)
        xp = rng.integers(-3, 4, m).astype(float)
        if trial % 2:
            xp = np.sort(xp)
        if trial % 3 == 0:
            xp[rng.integers(0, m)] = np.nan
        fp = rng.standard_normal(m)
        v = rng.integers(-4, 5, n).astype(float) + rng.choice([0.0, 0.5], n)
        if trial % 5 == 0:
            v[rng.integers(0, n)] = np.nan
        X = DualArray(v, rng.standard_normal((2, n)))
        for x in (X, X.reshape(1, n), np.sin(X) * 1.0):
            with np.errstate(all="ignore"):
                r, ref = np.interp(x, xp, fp), HANDLED[np.interp](x, xp, fp)
            assert same_da(r, ref), trial
            assert same(r.value, np.interp(x.value, xp, fp))
    # inside the knots the slope is the segment's: (f1 - f0) / (x1 - x0)
    xp, fp = np.array([0.0, 1.0, 3.0]), np.array([2.0, -1.0, 5.0])
    X = DualArray(np.array([0.5, 2.0, -1.0, 4.0]), np.ones((1, 4)))
    assert same(np.interp(X, xp, fp).deriv[0], [-3.0, 3.0, 0.0, 0.0])
    x0 = DualArray(np.array(0.25), np.ones(1))                    # 0-d: NumPy's value
    assert same_da(np.interp(x0, xp, fp), HANDLED[np.interp](x0, xp, fp))


@pytest.mark.parametrize("shape", [(10,), (3, 4), (2, 3, 4), (1,), ()], ids=repr)
def test_round_repeat_and_tile_are_the_handlers(shape):
    # np.round / np.around / .round (the handler's multiply, rint, divide),
    # np.repeat / .repeat (flattened) and np.tile by an int: the handlers'
    # bits, NumPy's values, tangents repeated as the values (zero for round)
    rng = np.random.default_rng(len(shape))
    a = rng.standard_normal(shape) * 100.0
    X = DualArray(a, rng.standard_normal((3,) + shape))
    for x in (X, np.sin(X) * 1.0, X.T):
        for r in (1, 2, 3):
            got = np.repeat(x, r)
            assert same_da(got, HANDLED[np.repeat](x, r)) and same_da(x.repeat(r), got)
            assert same(got.value, np.repeat(x.value, r))
            assert same(got.deriv, np.stack([np.repeat(t, r) for t in x.deriv]))
            if shape:
                got = np.tile(x, r)
                assert same_da(got, HANDLED[np.tile](x, r))
                assert same(got.deriv, np.stack([np.tile(t, r) for t in x.deriv]))
        for dec in (0, 1, 2, -1, -2, 5):
            with np.errstate(all="ignore"):
                ref = HANDLED[np.round](x, dec)
                for got in (np.round(x, dec), np.around(x, decimals=dec), x.round(dec)):
                    assert same_da(got, ref), dec
                assert same(np.round(x, dec).value, np.round(x.value, dec))
                assert not np.round(x, dec).deriv.any()
    assert same_da(np.round(X), HANDLED[np.round](X, 0))


@pytest.mark.parametrize("shape", [(0,), (1,), (10,), (3, 4), (129,)])
def test_nansum_is_the_handlers_with_and_without_nan_values(shape):
    # np.nansum(x): without a nan value the sum (C path), with one the
    # handler (nan values count as 0, their slopes dropped); NumPy's nansum
    # of the values and of each tangent row where no value is nan
    rng = np.random.default_rng(len(shape) * 100 + shape[-1])
    v = rng.standard_normal(shape) * 10.0 ** rng.integers(-6, 6, shape)
    X = DualArray(v, rng.standard_normal((3,) + shape))
    r = np.nansum(X)
    assert same_da(r, HANDLED[np.nansum](X)) and same(r.value, np.nansum(v))
    assert same(r.deriv, np.array([np.nansum(t) for t in X.deriv]))
    if v.size:
        w = v.copy()
        w.flat[0] = np.nan
        Y = DualArray(w, X.deriv)
        r = np.nansum(Y)
        assert same_da(r, HANDLED[np.nansum](Y)) and same(r.value, np.nansum(w))
        keep = ~np.isnan(w)
        assert same(r.deriv, np.array([np.nansum(np.where(keep, t, np.nan)) for t in Y.deriv]))


@pytest.mark.parametrize("n", [2, 3, 9, 10, 129, 1000])
def test_trapezoid_of_a_vector_is_the_handlers(n):
    # NumPy's steps per component: the handler's bits (pairwise sums of the
    # half-sums), NumPy's value; against the closed form of the weights
    rng = np.random.default_rng(n)
    v = rng.standard_normal(n) * 10.0 ** rng.integers(-5, 5, n)
    X = DualArray(v, rng.standard_normal((3, n)))
    for x in (X, np.sin(X) * 1.0, X[::-1]):
        r = np.trapezoid(x)
        assert same_da(r, HANDLED[np.trapezoid](x)) and same(r.value, np.trapezoid(x.value))
        w = np.ones(n)
        w[[0, -1]] = 0.5
        assert np.allclose(r.deriv, x.deriv @ w, rtol=1e-12, atol=1e-12 * np.abs(x.deriv).max())
    with np.errstate(all="ignore"):
        bad = DualArray(np.where(np.arange(n) == 1, np.inf, v), X.deriv)
        assert same_da(np.trapezoid(bad), HANDLED[np.trapezoid](bad))


def test_vdot_c_path_is_the_inner_product_of_the_ravels():
    # np.vdot in C: NumPy's vdot of the values bit for bit, the handler's
    # result, tangents x.dy + dx.y written out; vectors, matrices (C-order
    # ravels), a constant on either side, a strided operand (the handler)
    rng = np.random.default_rng(6)
    a = DualArray(rng.standard_normal((3, 4)), rng.standard_normal((2, 3, 4)))
    b = DualArray(rng.standard_normal(12), rng.standard_normal((2, 12)))
    w = rng.standard_normal((4, 3))
    for x, y in ((a, b), (b, a), (a, w), (w, a), (b, b), (a.T, b), (b[::-1], b)):
        r = np.vdot(x, y)
        assert same_da(r, HANDLED[np.vdot](x, y))
        xv, yv = getattr(x, "value", x), getattr(y, "value", y)
        assert same(r.value, np.vdot(xv, yv))
        et = np.zeros(2)
        if isinstance(x, DualArray):
            et += x.deriv.reshape(2, -1) @ yv.ravel()
        if isinstance(y, DualArray):
            et += y.deriv.reshape(2, -1) @ xv.ravel()
        assert np.allclose(r.deriv, et, rtol=1e-14)


def test_outer_c_path_is_the_handlers_product():
    # np.outer in C (a column times a row by the multiply rule): the
    # handler's bits for dual/dual, dual/constant and constant/dual pairs,
    # any shapes (flattened), specials included; the tangents against the
    # product rule written out with NumPy
    rng = np.random.default_rng(5)
    va = rng.choice([0.0, -0.0, 1.5, -2.0, np.inf, np.nan], size=(2, 3))
    a = DualArray(va, rng.standard_normal((3, 2, 3)))
    b = DualArray(rng.standard_normal(4), rng.standard_normal((3, 4)))
    w = rng.standard_normal(5)
    with np.errstate(invalid="ignore"):
        for x, y in ((a, b), (b, a), (a, w), (w, b), (b, b), (a.T, b[::-1])):
            r = np.outer(x, y)
            assert same_da(r, HANDLED[np.outer](x, y))
            xv, yv = getattr(x, "value", x).ravel(), getattr(y, "value", y).ravel()
            assert same(r.value, np.outer(xv, yv))
            et = np.zeros((3,) + r.shape)
            if isinstance(x, DualArray):
                et += x.deriv.reshape(3, -1)[:, :, None] * yv[None, None, :]
            if isinstance(y, DualArray):
                et += xv[None, :, None] * y.deriv.reshape(3, -1)[:, None, :]
            assert np.allclose(r.deriv, et, equal_nan=True)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
def test_flip_c_path_is_the_handlers_views(shape):
    # np.flip(x) and np.flip(x, axis) in C: reversed slices by the core's
    # indexing, the handler's rule; against NumPy's flip of each component
    rng = np.random.default_rng(len(shape))
    x = DualArray(rng.standard_normal(shape), rng.standard_normal((2,) + shape))
    nd = len(shape)
    for axis in [None] + list(range(-nd, nd)):
        r = np.flip(x) if axis is None else np.flip(x, axis)
        assert same_da(r, HANDLED[np.flip](x, axis))
        assert same(r.value, np.flip(x.value, axis))
        tax = None if axis is None else (axis if axis < 0 else axis + 1)
        assert same(r.deriv, np.flip(x.deriv, tax) if axis is not None
                    else x.deriv[(slice(None),) + (slice(None, None, -1),) * nd])
    if nd:
        with pytest.raises(np.exceptions.AxisError):
            np.flip(x, nd)
