"""dualml.jacobian_sparsity / hessian_sparsity (dualml/sparse/detect.py).

Detection must never miss a nonzero of the dense Jacobian or Hessian
(dualml.jacobian / dualml.hessian at random points, and closed-form patterns
for the standard cases); cancellations stay conservative; what the tracer
cannot follow raises.
"""
import math

import numpy as np
import pytest

import dualml

RNG = np.random.default_rng(12)


def dense_pattern(J):
    J = np.atleast_2d(np.asarray(J, dtype=float))
    return (J != 0) | np.isnan(J)


def assert_covers(pattern, J):
    P = pattern.toarray()
    D = dense_pattern(J).reshape(P.shape)
    missed = np.argwhere(D & ~P)
    assert missed.size == 0, f"detection missed nonzeros at {missed[:5].tolist()}"


def check_jac(f, n, points=3, args=()):
    for _ in range(points):
        x = RNG.uniform(-2, 2, n)
        P = dualml.jacobian_sparsity(f, x, args)
        J = dualml.jacobian(f, x, args)
        assert P.shape == (np.size(f(x, *args)), n)
        assert P.dtype == bool
        assert_covers(P, J)
    return P


def check_hess(f, n, points=3):
    rng = np.random.default_rng(n)      # (its own draws: the same in any test order)
    for _ in range(points):
        x = rng.uniform(-2, 2, n)
        P = dualml.hessian_sparsity(f, x)
        H = dualml.hessian(f, x)
        assert P.shape == (n, n)
        assert (P != P.T).nnz == 0
        assert_covers(P, H)
    return P


# ---- random structured functions ------------------------------------------------------

def banded(x):
    n = len(x)
    xp = np.pad(x, 2)
    y = np.zeros(n) + x * x[::-1] * 0.0                     # a cancellation: conservative
    for k, c in zip(range(5), (0.5, -1.0, 2.0, -1.0, 0.5)):
        y = y + c * np.sin(xp[k:k + n]) * x
    return y


def block_diagonal(x):
    X = x.reshape(4, 3)
    W = np.arange(9.0).reshape(3, 3) - 4
    return (np.tanh(X @ W) * X.sum(axis=1, keepdims=True)).ravel()


def arrowhead(x):
    return np.concatenate([[np.sum(x ** 2)], x[1:] * x[0]])


IDX = RNG.integers(0, 12, size=(15, 3))


def random_sparse(x):
    return x[IDX[:, 0]] * np.exp(x[IDX[:, 1]]) - x[IDX[:, 2]] ** 2 + np.cos(x[IDX[:, 0]])


def branches(x):
    y = np.where(x > 0, x ** 2, np.sin(x[::-1]))
    z = np.maximum(x, x[::-1]) + np.minimum(x, 0.3) + np.clip(x, -1, 1)
    return y * z + np.abs(x) + np.floor(x) * x


def reductions(x):
    X = x.reshape(3, 4)
    return np.concatenate([np.cumsum(x), [x.max(), np.prod(x[:3]), np.linalg.norm(x)],
                           X.mean(axis=0), X.max(axis=1), np.diff(x, 2), X.std(axis=1),
                           np.cumprod(X, axis=1).ravel(), np.sort(x)[:4]])


def laplacian_2d(x, N=5):
    U = x.reshape(N, N)
    P = np.pad(U, 1)
    L = P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4 * U
    return (L + U ** 3).ravel()


def brusselator(x, N=8):
    # 2-D Brusselator (SciML's benchmark), periodic boundaries, at t = 1.2
    u, v = x[:N * N].reshape(N, N), x[N * N:].reshape(N, N)
    xyd = np.linspace(0, 1, N)
    X, Y = np.meshgrid(xyd, xyd, indexing="ij")
    forcing = np.where(((X - 0.3) ** 2 + (Y - 0.6) ** 2 <= 0.01), 5.0, 0.0)
    alpha = 10.0 * (N - 1) ** 2

    def lap(w):
        return (np.roll(w, 1, 0) + np.roll(w, -1, 0) + np.roll(w, 1, 1) + np.roll(w, -1, 1)
                - 4 * w)
    du = alpha * lap(u) + 1.0 + u ** 2 * v - 4.4 * u + forcing
    dv = alpha * lap(v) + 3.4 * u - u ** 2 * v
    return np.concatenate([du.ravel(), dv.ravel()])


@pytest.mark.parametrize("f, n", [(banded, 10), (block_diagonal, 12), (arrowhead, 8),
                                  (random_sparse, 12), (branches, 9), (reductions, 12),
                                  (laplacian_2d, 25), (brusselator, 128)])
def test_never_misses_a_nonzero(f, n):
    P = check_jac(f, n)
    assert P.nnz < P.shape[0] * P.shape[1] or f in (reductions,)


def test_brusselator_pattern_is_local():
    P = dualml.jacobian_sparsity(brusselator, RNG.uniform(0, 1, 128)).toarray()
    # u rows: 5-point stencil in u plus v at the same point; v rows the same
    assert P.sum(axis=1).tolist() == [6] * 128


def hess_fns():
    def chained_rosen(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)

    def mixed(x):
        return (np.sum(np.exp(x[:3]) * x[3:6]) + x[6] / x[7] + np.hypot(x[8], x[0])
                + np.max(x[2:5]) * x[1] + np.sum(np.where(x > 0, x ** 3, 2 * x)))

    def products(x):
        X = x.reshape(2, 4)
        # (a positive base: x is drawn from (-2, 2))
        return (np.prod(X[0]) + np.sum(X @ np.array([1.0, 0.0, 2.0, 0.0]))
                + (x[3] * x[3] + 1.0) ** x[4])

    return [(chained_rosen, 8), (mixed, 9), (products, 8)]


@pytest.mark.parametrize("f, n", hess_fns())
def test_hessian_never_misses_a_nonzero(f, n):
    check_hess(f, n)


# ---- exact patterns -------------------------------------------------------------------

def test_tridiagonal_bratu_exact():
    n, h = 50, 1 / 51

    def bratu(u):
        r = np.empty_like(u)
        r[0] = -2 * u[0] + u[1] + h * h * np.exp(u[0])
        r[-1] = u[-2] - 2 * u[-1] + h * h * np.exp(u[-1])
        r[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:] + h * h * np.exp(u[1:-1])
        return r
    P = dualml.jacobian_sparsity(bratu, np.zeros(n)).toarray()
    T = np.eye(n, dtype=bool) | np.eye(n, k=1, dtype=bool) | np.eye(n, k=-1, dtype=bool)
    assert (P == T).all()


def test_arrowhead_exact():
    P = dualml.jacobian_sparsity(arrowhead, np.ones(6)).toarray()
    A = np.eye(6, dtype=bool)
    A[0, :] = A[:, 0] = True
    assert (P == A).all()


def test_five_point_stencil_exact():
    N = 6

    def lap(x):
        U = x.reshape(N, N)
        P = np.pad(U, 1)
        return (P[:-2, 1:-1] + P[2:, 1:-1] + P[1:-1, :-2] + P[1:-1, 2:] - 4 * U).ravel()
    P = dualml.jacobian_sparsity(lap, np.ones(N * N)).toarray()
    ref = np.zeros((N * N, N * N), dtype=bool)
    for i in range(N):
        for j in range(N):
            for di, dj in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
                if 0 <= i + di < N and 0 <= j + dj < N:
                    ref[i * N + j, (i + di) * N + j + dj] = True
    assert (P == ref).all()


def test_chained_rosenbrock_hessian_is_tridiagonal():
    f = hess_fns()[0][0]
    n = 10
    P = dualml.hessian_sparsity(f, np.zeros(n)).toarray()
    T = np.eye(n, dtype=bool) | np.eye(n, k=1, dtype=bool) | np.eye(n, k=-1, dtype=bool)
    assert (P == T).all()


def test_hessian_of_products_has_no_diagonal_where_linear():
    P = dualml.hessian_sparsity(lambda x: x[0] * x[1] + 3 * x[2] + np.exp(x[3]),
                                np.ones(4)).toarray()
    ref = np.zeros((4, 4), dtype=bool)
    ref[0, 1] = ref[1, 0] = ref[3, 3] = True
    assert (P == ref).all()


def test_hessian_of_quotient():
    P = dualml.hessian_sparsity(lambda x: x[0] / x[1], np.ones(2)).toarray()
    assert P.tolist() == [[False, True], [True, True]]    # d2/da2 = 0


def test_constant_matrix_structure():
    A = np.array([[1.0, 0, 0], [0, 0, 2.0], [0, 0, 0]])
    P = dualml.jacobian_sparsity(lambda x: A @ x, np.ones(3)).toarray()
    assert (P == (A != 0)).all()
    P = dualml.jacobian_sparsity(lambda x: x @ A, np.ones(3)).toarray()
    assert (P == (A.T != 0)).all()


# ---- branches are local ---------------------------------------------------------------

def test_where_takes_the_branch_at_x():
    f = lambda x: np.where(x > 0, x[::-1], 2.0)
    P = dualml.jacobian_sparsity(f, np.array([1.0, -1.0, 1.0])).toarray()
    assert P.tolist() == [[0, 0, 1], [0, 0, 0], [1, 0, 0]]


def test_maximum_keeps_the_winner_and_ties_conservative():
    f = lambda x: np.maximum(x[:2], x[2:])
    P = dualml.jacobian_sparsity(f, np.array([3.0, 1.0, 2.0, 1.0])).toarray()
    assert P.tolist() == [[1, 0, 0, 0], [0, 1, 0, 1]]
    P = dualml.jacobian_sparsity(lambda x: np.maximum(x, 0.0), np.array([-1.0, 1.0]))
    assert P.toarray().tolist() == [[0, 0], [0, 1]]


def test_piecewise_constant_is_empty():
    f = lambda x: np.floor(x) + np.sign(x) + np.rint(x) + (x > 0) + np.trunc(x)
    assert dualml.jacobian_sparsity(f, np.ones(3)).nnz == 0


def test_relu_and_abs_are_conservative():
    # relu's slope is 0 below 0; the pattern is kept (documented)
    P = dualml.jacobian_sparsity(lambda x: dualml.relu(x) + abs(x[::-1]), np.array([-1.0, 2.0]))
    assert P.toarray().all()


def test_cancellations_stay_conservative():
    P = dualml.jacobian_sparsity(lambda x: np.stack([x[0] - x[0], x[1] * 0]), np.ones(2))
    assert P.toarray().tolist() == [[1, 0], [0, 1]]


# ---- the scalar path ------------------------------------------------------------------

def scalar_f(x):
    return [x[0] * x[1] + dualml.sin(x[2]), dualml.exp(x[3]) / x[0], x[2] ** 2,
            np.tanh(x[1]) + dualml.maximum(x[3], 0.0), 1.0]


def test_scalar_code_on_a_list():
    check_jac(lambda x: scalar_f(list(x)), 4)
    ref = [[1, 1, 1, 0], [1, 0, 0, 1], [0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 0, 0]]
    x = [0.5, -1.0, 2.0, 1.5]
    assert dualml.jacobian_sparsity(scalar_f, x).toarray().astype(int).tolist() == ref


def test_scalar_hessian_on_a_list():
    def rosen(x):
        return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2
                   for i in range(len(x) - 1))
    x = [0.1, 0.2, -0.3, 0.4, 0.5]
    P = dualml.hessian_sparsity(rosen, x)
    assert_covers(P, dualml.hessian(rosen, x))
    assert P.nnz == 5 + 2 * 4


def test_scalar_input():
    P = dualml.jacobian_sparsity(lambda t: np.stack([np.sin(t), 2.0 + 0 * t]), 0.5)
    assert P.shape == (2, 1)
    assert P.toarray().tolist() == [[True], [True]]


# ---- mutation and views ---------------------------------------------------------------

def test_inplace_and_view_writes_reach_the_base():
    def f(x):
        r = np.zeros_like(x)
        v = r[1:]
        v[:] = x[:-1]            # a write through a view
        r[0] += x[3]
        r *= 2
        return r
    P = dualml.jacobian_sparsity(f, np.ones(4)).toarray()
    assert P.astype(int).tolist() == [[0, 0, 0, 1], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]


def test_stale_view_raises():
    def f(x):
        r = np.zeros_like(x)
        v = r[:2]
        r[:] = x
        return v * 1.0
    with pytest.raises(TypeError, match="view"):
        dualml.jacobian_sparsity(f, np.ones(3))


# ---- errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("f, word", [
    (lambda x: np.asarray(x), "plain ndarray"),
    (lambda x: float(x[0]), "float"),
    (lambda x: math.sin(x[0]), "float"),
    (lambda x: np.linalg.inv(x.reshape(2, 2)), "numpy.inv"),
    (lambda x: np.einsum("ii", x.reshape(2, 2)), "numpy.einsum"),
    (lambda x: np.fft.fft(x), "numpy.fft"),
    (lambda x: x.astype(int), "astype"),
    (lambda x: x[x], "indexing with a traced"),
    (lambda x: np.sum(x, where=x > 0), "numpy.sum"),
    (lambda x: np.add.at(x, [0], 1.0), "numpy.add.at"),
])
def test_unsupported_operations_raise(f, word):
    with pytest.raises(TypeError, match=word):
        dualml.jacobian_sparsity(f, np.ones(4))


def test_error_names_the_fix():
    with pytest.raises(TypeError, match="sparsity="):
        dualml.jacobian_sparsity(lambda x: np.linalg.inv(x.reshape(2, 2)), np.ones(4))


def test_hessian_of_a_vector_function_raises():
    with pytest.raises(ValueError, match="one number"):
        dualml.hessian_sparsity(lambda x: x ** 2, np.ones(3))


def test_bad_point():
    with pytest.raises(TypeError, match="x must be"):
        dualml.jacobian_sparsity(np.sin, "abc")


def test_extra_args_are_constants():
    f = lambda x, A: A @ np.sin(x)
    A = np.triu(np.ones((3, 3)))
    P = check_jac(f, 3, args=(A,))
    assert (P.toarray() == (A != 0)).all()


# ---- random compositions --------------------------------------------------------------

R_UNARY = [np.sin, np.tanh, np.exp, np.square, np.arctan, np.abs, np.cos,
           lambda v: np.log1p(v * v), lambda v: np.sqrt(1.0 + v * v)]
R_BINARY = [np.add, np.subtract, np.multiply, lambda a, b: a / (1.0 + b * b), np.maximum,
            np.minimum, np.hypot, np.logaddexp, np.arctan2,
            lambda a, b: np.where(a > b, a * b, a - b)]
R_SHAPE = [lambda v: np.roll(v, 1), lambda v: v[::-1], np.cumsum,
           lambda v: np.concatenate([v[1:], v[:1] * 2.0]),
           lambda v: (np.array([[1.0, 0, 0, 2], [0, 0, 0, 0], [2, 1, 0, 0], [0, 3, 0, 1]])
                      @ v.reshape(4, 2)).ravel(),
           lambda v: np.sort(v), lambda v: np.pad(v[2:], (1, 1), mode="edge"),
           lambda v: v.reshape(2, 4).T.ravel(), lambda v: np.diff(v, prepend=0.0)]


def random_composition(seed, steps=7):
    rng = np.random.default_rng(seed)
    kinds = rng.integers(0, 3, steps)
    ops = [int(rng.integers(len((R_UNARY, R_BINARY, R_SHAPE)[k]))) for k in kinds]
    picks = rng.integers(0, 100, size=(steps, 2))
    perm = rng.permutation(8)

    def f(x):
        vals = [x, x[perm]]
        for k, op, (p, q) in zip(kinds, ops, picks):
            a, b = vals[p % len(vals)], vals[q % len(vals)]
            vals.append(R_UNARY[op](a) if k == 0 else R_BINARY[op](a, b) if k == 1
                        else R_SHAPE[op](a))
        return vals[-1] + 0.5 * vals[-2]
    return f


@pytest.mark.parametrize("seed", range(40))
def test_random_compositions_never_miss(seed):
    f = random_composition(seed)
    for _ in range(2):
        x = RNG.uniform(-1.5, 1.5, 8)
        assert_covers(dualml.jacobian_sparsity(f, x), dualml.jacobian(f, x))
        g = lambda x: np.sum(f(x) * np.arange(1.0, 9.0))
        assert_covers(dualml.hessian_sparsity(g, x), dualml.hessian(g, x))


def test_dualml_functional_losses():
    X = RNG.uniform(-1, 1, 6)
    for f in (lambda x: dualml.softmax(x.reshape(2, 3)).ravel(),
              lambda x: dualml.log_softmax(x.reshape(3, 2), axis=0).ravel(),
              lambda x: np.atleast_1d(dualml.logsumexp(x[:4])),
              lambda x: np.atleast_1d(dualml.mse(x, np.ones(6)) + dualml.l2_penalty(x[:2]))):
        P = dualml.jacobian_sparsity(f, X)
        assert_covers(P, dualml.jacobian(f, X))
    P = dualml.jacobian_sparsity(lambda x: dualml.softmax(x.reshape(2, 3)).ravel(), X)
    assert (P.toarray() == np.kron(np.eye(2), np.ones((3, 3)))).all()


S_UNARY = [dualml.sin, dualml.tanh, dualml.exp, dualml.square, dualml.arctan, abs,
           dualml.sigmoid, lambda v: dualml.log1p(v * v), lambda v: -v, dualml.relu]
S_BINARY = [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
            lambda a, b: a / (1.0 + b * b), dualml.maximum, dualml.hypot,
            lambda a, b: a * b if a > b else a - 2.0 * b, lambda a, b: a ** 2 + 3.0,
            lambda a, b: min(a, b) + 0.5 * max(a, b)]


def random_scalar_code(seed, n=6, steps=10):
    rng = np.random.default_rng(seed)
    plan = [(int(rng.integers(2)), int(rng.integers(10)), rng.integers(0, 100, 2))
            for _ in range(steps)]

    def f(x):
        vals = list(x)
        for kind, op, (p, q) in plan:
            a, b = vals[p % len(vals)], vals[q % len(vals)]
            vals.append(S_UNARY[op % len(S_UNARY)](a) if kind == 0
                        else S_BINARY[op % len(S_BINARY)](a, b))
        return vals[-4:]
    return f


@pytest.mark.parametrize("seed", range(25))
def test_random_scalar_code_never_misses(seed):
    f = random_scalar_code(seed)
    for _ in range(2):
        x = RNG.uniform(-1.5, 1.5, 6).tolist()
        assert_covers(dualml.jacobian_sparsity(f, x), dualml.jacobian(f, x))
        g = lambda x: sum(f(x))           # noqa: E731
        assert_covers(dualml.hessian_sparsity(g, x), dualml.hessian(g, x))


def test_repeated_detection_keeps_memory_flat():
    import gc
    import tracemalloc
    x = RNG.uniform(0, 1, 128)

    def work():
        dualml.jacobian_sparsity(brusselator, x)
        dualml.hessian_sparsity(lambda v: np.sum(brusselator(v) ** 2), x)
    for _ in range(5):
        work()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(40):
        work()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert grown < 200_000


# ---- the detection run's arena (dualml/sparse/_sets.pyx) -----------------------------

def _stencil(u):
    up = np.concatenate([u[1:], np.zeros(1)])
    um = np.concatenate([np.zeros(1), u[:-1]])
    return up - 2 * u + um + np.exp(u)


def _tridiagonal(n):
    return (np.abs(np.subtract.outer(np.arange(n), np.arange(n))) <= 1)


def test_repeated_runs_reuse_the_arena_and_agree():
    from dualml.sparse import _sets
    x = RNG.uniform(-1, 1, 300)
    first = dualml.jacobian_sparsity(_stencil, x)
    for _ in range(4):
        P = dualml.jacobian_sparsity(_stencil, x)
        assert np.array_equal(P.toarray(), _tridiagonal(300))
    assert np.array_equal(first.toarray(), _tridiagonal(300))   # results own their memory
    buf, _ = _sets._POOL[0]
    assert buf is not None                                       # kept for the next run


def test_a_tracer_that_escapes_keeps_its_sets():
    from dualml.sparse import _sets
    stash = []

    def f(u):
        r = _stencil(u)
        stash.append(r)                  # a tracer outlives its run
        return r
    x = RNG.uniform(-1, 1, 200)
    dualml.jacobian_sparsity(f, x)
    dualml.jacobian_sparsity(f, x)
    kept = [(p.copy(), i.copy()) for p, i in (t._g for t in stash)]
    for _ in range(3):                   # later runs must not write over them
        dualml.jacobian_sparsity(lambda u: u[::-1] * u[0], x)
        dualml.hessian_sparsity(lambda u: np.sum(u[1:] * u[:-1]), x)
    for t, (p, i) in zip(stash, kept):
        assert np.array_equal(t._g[0], p) and np.array_equal(t._g[1], i)
    assert not getattr(_sets._LOCAL, "stack", [])


def test_an_error_in_f_closes_the_arena():
    from dualml.sparse import _sets

    def f(u):
        _stencil(u)
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        dualml.jacobian_sparsity(f, np.ones(50))
    assert not getattr(_sets._LOCAL, "stack", [])
    assert np.array_equal(dualml.jacobian_sparsity(_stencil, np.ones(50)).toarray(),
                          _tridiagonal(50))


@pytest.mark.parametrize("limit", [2**31 - 1, 5])
def test_index_type_of_the_pattern(monkeypatch, limit):
    from dualml.sparse import detect
    monkeypatch.setattr(detect, "_INT32_LIMIT", limit)
    x = RNG.uniform(-1, 1, 40)
    P = dualml.jacobian_sparsity(_stencil, x)
    assert P.indices.dtype == (np.int32 if limit > 40 else np.int64)
    assert np.array_equal(P.toarray(), _tridiagonal(40))
    J = dualml.SparseJacobian(_stencil, x)              # colors the detected pattern as is
    assert J.ncolors == 3
    h = 1e-6
    for j in range(3):
        e = np.zeros(40)
        e[j::3] = 1.0                                     # central differences per color
        fd = (_stencil(x + h * e) - _stencil(x - h * e)) / (2 * h)
        np.testing.assert_allclose(J(x) @ e, fd, rtol=1e-7, atol=1e-7)
