"""Compressed sparse Jacobians and Hessians (dualml.sparse.compressed, transforms).

References are independent of dualml: Jacobians by complex step (exact to
rounding for these real-analytic NumPy functions), Hessians by central
differences of the complex-step gradient; the dense dualml results are
compared too, entry for entry.  Patterns come from the known structure.
"""
import importlib.util

import numpy as np
import pytest
import scipy.sparse as sp

import dualml
from dualml.sparse import compressed


def cs_jacobian(F, x, args=()):
    x = np.asarray(x, dtype=float)
    n = x.size
    cols = []
    for j in range(n):
        z = x.astype(complex).ravel()
        z[j] += 1e-30j
        cols.append(np.ravel(F(z.reshape(x.shape), *args)).imag / 1e-30)
    return np.array(cols).T


def cs_hessian(f, x, h=1e-5):
    def g(y):
        return cs_jacobian(lambda z: np.atleast_1d(f(z)), y)[0]
    n = x.size
    H = np.empty((n, n))
    for j in range(n):
        e = np.zeros(n)
        e[j] = h
        H[:, j] = (g(x + e) - g(x - e)) / (2 * h)
    return (H + H.T) / 2


def band(n, lo, hi):
    A = np.zeros((n, n), dtype=bool)
    for k in range(-lo, hi + 1):
        A |= np.eye(n, k=k, dtype=bool)
    return A


# -- structured test functions: (F, pattern) ----------------------------------------------

def banded(n, rng):
    w = rng.standard_normal(3)

    def F(x):
        up = np.concatenate([x[2:], np.zeros(2)])
        dn = np.concatenate([np.zeros(1), x[:-1]])
        return np.sin(x) * up * w[0] + (1.0 + w[1] * dn) ** 3 + x ** 2 * w[2]
    return F, band(n, 1, 2)


def block_diagonal(n, rng, b=3):
    assert n % b == 0
    W = rng.standard_normal((n // b, b, b))

    def F(x):
        X = x.reshape(n // b, b)
        return np.tanh(np.einsum("kij,kj->ki", W, X)).reshape(n) * x
    return F, np.kron(np.eye(n // b, dtype=bool), np.ones((b, b), dtype=bool))


def arrowhead(n, rng):
    def F(x):
        head = np.sum(np.sin(x)) * np.ones(1)
        return np.concatenate([head, x[1:] ** 2 + x[0] * x[1:]])
    P = np.eye(n, dtype=bool)
    P[0, :] = P[:, 0] = True
    return F, P


def random_index(n, rng, m=None):
    m = m or n + 3
    a, b, c = (rng.integers(0, n, size=m) for _ in range(3))

    def F(x):
        return np.sin(x[a]) * x[b] + np.exp(0.3 * x[c]) - x[a] * x[c]
    P = np.zeros((m, n), dtype=bool)
    P[np.arange(m), a] = P[np.arange(m), b] = P[np.arange(m), c] = True
    return F, P


def where_branch(n, rng):
    perm = rng.permutation(n)

    def F(x):
        return np.where(x > 0, x ** 2, np.sin(x)) * x[perm]
    P = np.eye(n, dtype=bool)
    P[np.arange(n), perm] = True
    return F, P


CASES = [banded, block_diagonal, arrowhead, random_index, where_branch]


@pytest.mark.parametrize("make", CASES, ids=lambda m: m.__name__)
@pytest.mark.parametrize("seed", range(3))
def test_sparse_jacobian_array_path(make, seed):
    rng = np.random.default_rng(seed)
    n = 12
    F, P = make(n, rng)
    x = rng.uniform(-1.5, 1.5, n)
    J = dualml.sparse_jacobian(F, x, sparsity=P)
    assert isinstance(J, sp.csr_array) and J.dtype == np.float64 and J.shape == P.shape
    assert J.nnz == P.sum()                  # the pattern's structure, explicit zeros kept
    np.testing.assert_allclose(J.toarray(), cs_jacobian(F, x), rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(J.toarray(), dualml.jacobian(F, x).reshape(P.shape))


@pytest.mark.parametrize("make", CASES, ids=lambda m: m.__name__)
def test_sparse_jacobian_scalar_path(make):
    rng = np.random.default_rng(7)
    F, P = make(9, rng)
    x = rng.uniform(-1.5, 1.5, 9)

    def Fs(xs):                  # the object-array spelling: np.sin(Dual) etc.
        r = F(xs)
        return np.array([e for e in np.ravel(r)], dtype=object)
    J = dualml.sparse_jacobian(Fs, x, sparsity=P, method="scalar")
    np.testing.assert_allclose(J.toarray(), cs_jacobian(F, x), rtol=1e-13, atol=1e-13)


def test_sparse_jacobian_of_a_list_function():
    n = 7

    def F(u):        # list in, list out: plain Python arithmetic and dualml.exp
        return [(u[i + 1] if i < n - 1 else 0.0) - 2 * u[i] + (u[i - 1] if i > 0 else 0.0)
                + dualml.exp(u[i]) for i in range(n)]

    def Fc(u):
        return np.array([(u[i + 1] if i < n - 1 else 0.0) - 2 * u[i]
                         + (u[i - 1] if i > 0 else 0.0) + np.exp(u[i]) for i in range(n)])
    x = np.linspace(0.1, 0.7, n)
    J = dualml.sparse_jacobian(F, x.tolist(), sparsity=band(n, 1, 1))
    np.testing.assert_allclose(J.toarray(), cs_jacobian(Fc, x), rtol=1e-14, atol=1e-14)


def test_multidimensional_input_and_output_flatten_in_c_order():
    rng = np.random.default_rng(3)
    W = rng.standard_normal((2, 3))

    def F(X):                               # (2, 3) -> (2, 3): rows mix within a row of X
        return np.sin(X) * (X @ np.ones((3, 3)))[:, :1] + W * X
    P = np.kron(np.eye(2, dtype=bool), np.ones((3, 3), dtype=bool))
    x = rng.standard_normal((2, 3))
    J = dualml.sparse_jacobian(F, x, sparsity=P)
    np.testing.assert_allclose(J.toarray(), cs_jacobian(F, x), rtol=1e-13, atol=1e-14)


def test_prepared_jacobian_reused_across_points():
    rng = np.random.default_rng(11)
    F, P = banded(30, rng)
    J = dualml.SparseJacobian(F, np.zeros(30), sparsity=P)
    assert J.ncolors == 4 and J.colors.shape == (30,)
    for _ in range(3):
        x = rng.standard_normal(30)
        np.testing.assert_allclose(J(x).toarray(), cs_jacobian(F, x), rtol=1e-13, atol=1e-13)
    A, B = J(x), J(x)
    A.data[:] = 0.0
    A.indices[:] = 0                        # results own their arrays
    assert B.data.any() and J(x).indices.max() > 0


def test_extra_args_and_compressed_product():
    def F(x, a):
        return a * x ** 2
    J = dualml.SparseJacobian(F, np.ones(4), (2.0,), sparsity=np.eye(4))
    np.testing.assert_array_equal(J(np.arange(4.0)).toarray(), np.diag(4.0 * np.arange(4)))
    np.testing.assert_array_equal(J(np.arange(4.0), 3.0).toarray(), np.diag(6.0 * np.arange(4)))
    np.testing.assert_array_equal(J.compressed(np.arange(4.0)), [4.0 * np.arange(4)])


# -- Hessians -------------------------------------------------------------------------------

def chained_rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def hess_cases(n, rng):
    a, b = rng.integers(0, n, size=(2, n))
    perm = rng.permutation(n)

    def pairs(x):
        return np.sum(np.sin(x[a]) * x[b]) + np.sum(x ** 3) / 6

    Pp = np.eye(n, dtype=bool)
    Pp[a, b] = Pp[b, a] = True

    def blocks(x):
        X = x.reshape(-1, 3)
        return np.sum(np.exp(0.2 * X.sum(axis=1)) * X[:, 0])

    def arrow(x):
        return x[0] * np.sum(x[1:] ** 2) + np.sum(np.cos(x))

    Pa = np.eye(n, dtype=bool)
    Pa[0, :] = Pa[:, 0] = True

    def branch(x):
        return np.sum(np.where(x > 0, x ** 3, np.sin(x)) * x[perm])

    Pb = np.eye(n, dtype=bool)
    Pb[np.arange(n), perm] = Pb[perm, np.arange(n)] = True
    return [(chained_rosenbrock, band(n, 1, 1)), (pairs, Pp),
            (blocks, np.kron(np.eye(n // 3, dtype=bool), np.ones((3, 3), dtype=bool))),
            (arrow, Pa), (branch, Pb)]


@pytest.mark.parametrize("case", range(5))
@pytest.mark.parametrize("method", ["array", "scalar"])
def test_sparse_hessian(case, method):
    rng = np.random.default_rng(case)
    n = 9
    f, P = hess_cases(n, rng)[case]
    x = rng.uniform(-1.2, 1.2, n)
    H = dualml.sparse_hessian(f, x, sparsity=P, method=method)
    assert isinstance(H, sp.csr_array) and H.shape == (n, n)
    Hd = H.toarray()
    np.testing.assert_array_equal(Hd, Hd.T)
    ref = cs_hessian(f, x)
    np.testing.assert_allclose(Hd, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
    np.testing.assert_allclose(Hd, dualml.hessian(f, x), rtol=1e-13, atol=1e-12)


def test_arrowhead_hessian_uses_two_colors():
    n = 9
    f, P = hess_cases(n, np.random.default_rng(0))[3]
    H = dualml.SparseHessian(f, np.ones(n), sparsity=P)
    assert H.ncolors == 2
    x = np.linspace(-1, 1, n)
    np.testing.assert_allclose(H(x).toarray(), dualml.hessian(f, x), rtol=1e-13, atol=1e-13)


def test_prepared_hessian_reused_and_list_point():
    n = 6
    H = dualml.SparseHessian(lambda x: sum((x[i + 1] - x[i] ** 2) ** 2 for i in range(n - 1)),
                             [0.0] * n, sparsity=band(n, 1, 1))
    for s in (0.3, -0.7):
        x = np.linspace(s, 1.0, n)
        np.testing.assert_allclose(H(x.tolist()).toarray(), cs_hessian(
            lambda z: sum((z[i + 1] - z[i] ** 2) ** 2 for i in range(n - 1)), x),
            rtol=1e-6, atol=1e-6)


# -- errors ------------------------------------------------------------------------------------

def test_errors_on_bad_patterns_and_points():
    F = np.sin
    with pytest.raises(ValueError, match="columns"):
        dualml.SparseJacobian(F, np.zeros(4), sparsity=np.eye(5))
    with pytest.raises(ValueError, match="2-D"):
        dualml.SparseJacobian(F, np.zeros(4), sparsity=np.ones(4))
    with pytest.raises(ValueError, match="outputs"):
        dualml.sparse_jacobian(F, np.zeros(4), sparsity=np.ones((3, 4)))
    J = dualml.SparseJacobian(F, np.zeros(4), sparsity=np.eye(4))
    with pytest.raises(ValueError, match="prepared for shape"):
        J(np.zeros(5))
    with pytest.raises(ValueError, match="must be"):
        dualml.SparseHessian(np.sum, np.zeros(4), sparsity=np.eye(3))
    with pytest.raises(TypeError, match="callable"):
        dualml.sparse_jacobian(3.0, np.zeros(2), sparsity=np.eye(2))
    with pytest.raises(TypeError, match="real"):
        dualml.sparse_jacobian(F, np.zeros(2, dtype=complex), sparsity=np.eye(2))
    with pytest.raises(ValueError, match="method"):
        dualml.sparse_jacobian(F, np.zeros(2), sparsity=np.eye(2), method="fast")
    with pytest.raises(ValueError, match="check"):
        dualml.sparse_jacobian(F, np.zeros(2), sparsity=np.eye(2), check="yes")


def test_a_missing_entry_is_lost_without_check_and_named_with_it(monkeypatch):
    def F(x):
        return x ** 2 + x[0]                 # column 0 is dense
    P = np.eye(4, dtype=bool)                # misses (1, 0), (2, 0), (3, 0)
    x = np.arange(1.0, 5.0)
    J = dualml.sparse_jacobian(F, x, sparsity=P)
    # documented: the missing entries are dropped and, the diagonal pattern
    # giving every column one color, their values land on the diagonal
    assert J.nnz == 4
    np.testing.assert_array_equal(J.diagonal(), np.append(3.0, 2 * x[1:] + 1))
    true = np.eye(4, dtype=bool)
    true[:, 0] = True
    monkeypatch.setattr(compressed, "_detect", lambda kind, f, x, args, fname: true)
    with pytest.raises(ValueError, match=r"misses 3 structural.*\(1, 0\), \(2, 0\), \(3, 0\)"):
        dualml.sparse_jacobian(F, np.ones(4), sparsity=P, check=True)
    J = dualml.sparse_jacobian(F, np.ones(4), sparsity=true, check=True)
    np.testing.assert_allclose(J.toarray(), cs_jacobian(F, np.ones(4)))
    with pytest.raises(ValueError, match="misses"):
        dualml.sparse_hessian(lambda x: np.sum(x ** 2) * x[0], np.ones(4),
                              sparsity=np.eye(4), check=True)


def test_sparsity_none_uses_detection_when_present():
    F = np.sin
    if importlib.util.find_spec("dualml.sparse.detect") is None:
        with pytest.raises(ValueError, match="sparsity="):
            dualml.sparse_jacobian(F, np.zeros(3))
    else:
        J = dualml.sparse_jacobian(F, np.zeros(3))
        np.testing.assert_array_equal(J.toarray(), np.eye(3))


# -- SciPy -------------------------------------------------------------------------------------

def bratu(u, lam=1.0):
    n = u.size
    h2 = (n + 1.0) ** 2
    up = np.concatenate([u[1:], np.zeros(1)])
    um = np.concatenate([np.zeros(1), u[:-1]])
    return (up - 2 * u + um) * h2 + lam * np.exp(u)


def test_least_squares_with_sparse_jac():
    from scipy.optimize import least_squares
    n = 50
    jac = dualml.jac(bratu, sparse=True, sparsity=band(n, 1, 1))
    res = least_squares(bratu, np.zeros(n), jac=jac, method="trf", xtol=1e-14, ftol=1e-14,
                        gtol=1e-14)
    assert res.success and np.abs(bratu(res.x)).max() < 1e-8
    assert isinstance(jac(res.x), sp.csr_array)


def test_root_hybr_with_dense_output():
    from scipy.optimize import root
    n = 50
    jac = dualml.jac(bratu, sparse="dense", sparsity=band(n, 1, 1))
    sol = root(bratu, np.zeros(n), jac=jac, method="hybr")
    assert sol.success and np.abs(bratu(sol.x)).max() < 1e-8
    assert isinstance(jac(sol.x), np.ndarray)


@pytest.mark.parametrize("ivp_method", ["BDF", "Radau"])
def test_solve_ivp_stiff_with_ode_jac(ivp_method):
    from scipy.integrate import solve_ivp
    n = 40
    calls = []

    def heat(t, y, k):                       # y' = k y_xx (zero boundaries): stiff
        calls.append(t)
        up = np.concatenate([y[1:], [0.0]])
        um = np.concatenate([[0.0], y[:-1]])
        return k * (up - 2 * y + um) * (n + 1) ** 2
    xs = np.arange(1, n + 1) / (n + 1)
    y0 = np.sin(np.pi * xs)
    jac = dualml.ode_jac(heat, sparse=True, sparsity=band(n, 1, 1))
    sol = solve_ivp(heat, (0.0, 0.1), y0, method=ivp_method, jac=jac, args=(0.5,),
                    rtol=1e-8, atol=1e-10)
    assert sol.success
    lam = 4 * (n + 1) ** 2 * np.sin(np.pi / (2 * (n + 1))) ** 2 * 0.5
    np.testing.assert_allclose(sol.y[:, -1], y0 * np.exp(-lam * 0.1), rtol=1e-5, atol=1e-9)
    J = jac(0.0, y0, 0.5)
    assert isinstance(J, sp.csr_array)
    np.testing.assert_allclose(J.toarray(), cs_jacobian(lambda y: heat(0.0, y, 0.5), y0))
    dense = dualml.ode_jac(heat)(0.0, y0, 0.5)
    np.testing.assert_array_equal(dense, J.toarray())


def test_minimize_trust_constr_with_sparse_hess():
    from scipy.optimize import minimize
    n = 20
    res = minimize(chained_rosenbrock, np.full(n, -0.5), method="trust-constr",
                   jac=dualml.grad(chained_rosenbrock),
                   hess=dualml.hess(chained_rosenbrock, sparse=True, sparsity=band(n, 1, 1)),
                   options={"gtol": 1e-10, "xtol": 1e-14, "maxiter": 500})
    np.testing.assert_allclose(res.x, np.ones(n), atol=1e-6)


def test_transform_options_validated():
    with pytest.raises(ValueError, match="sparse"):
        dualml.jac(bratu, sparse="yes")
    with pytest.raises(ValueError, match="sparse"):
        dualml.ode_jac(bratu, sparse=1.5)


# -- partially separable Hessians (elements=True) -------------------------------------------

def rosenbrock_terms(x):
    return 100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2


def element_cases(n, rng):
    m = n + 2
    a, b, c = (rng.integers(0, n, size=m) for _ in range(3))

    def mixed(x):
        return np.sin(x[a]) * x[b] ** 2 + np.exp(0.4 * x[c]) * x[a] - x[b] / (2.0 + x[c] ** 2)
    P = np.zeros((m, n), dtype=bool)
    for idx in (a, b, c):
        P[np.arange(m), idx] = True

    def dets(x):                # np.linalg has no second-order rows: the nested fallback
        M = np.stack([np.stack([x[a], x[b]], axis=-1), np.stack([x[b], x[c]], axis=-1)],
                     axis=-2)
        return np.linalg.det(M) * x[a]
    E = np.eye(n - 1, n, dtype=bool) | np.eye(n - 1, n, k=1, dtype=bool)
    return [(rosenbrock_terms, E), (mixed, P), (dets, P)]


@pytest.mark.parametrize("case", range(3))
def test_sparse_hessian_of_elements(case):
    rng = np.random.default_rng(20 + case)
    n = 10
    F, E = element_cases(n, rng)[case]

    def f(x):
        return np.sum(F(x))
    H = dualml.SparseHessian(F, np.zeros(n), sparsity=E, elements=True)
    for _ in range(2):
        x = rng.uniform(-1.0, 1.0, n)
        Hd = H(x).toarray()
        np.testing.assert_array_equal(Hd, Hd.T)
        ref = cs_hessian(f, x)
        np.testing.assert_allclose(Hd, ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())
        np.testing.assert_allclose(Hd, dualml.hessian(f, x), rtol=1e-12, atol=1e-12)
    # the pattern is the union of the elements' cliques
    Ed = np.asarray(E, dtype=int)
    np.testing.assert_array_equal(H.pattern.toarray(), (Ed.T @ Ed) > 0)


def test_elements_colors_do_not_grow_with_n():
    for n in (10, 1000):
        E = np.eye(n - 1, n, dtype=bool) | np.eye(n - 1, n, k=1, dtype=bool)
        H = dualml.SparseHessian(rosenbrock_terms, np.zeros(n), sparsity=E, elements=True)
        assert H.ncolors == 2
    x = np.linspace(-1, 1, n)
    got = dualml.sparse_hessian(rosenbrock_terms, x, sparsity=E, elements=True)
    d0 = 1200 * x[:-1] ** 2 - 400 * x[1:] + 2         # closed form, chained Rosenbrock
    diag = np.concatenate([d0, [0.0]]) + np.concatenate([[0.0], np.full(n - 1, 200.0)])
    np.testing.assert_allclose(got.diagonal(), diag, rtol=1e-14)
    np.testing.assert_allclose(got.diagonal(1), -400 * x[:-1], rtol=1e-14)


def test_elements_compressed_is_the_color_pair_block_of_each_term():
    # compressed() with elements=True: B[a, b, k] = s_a' H_k s_b for every pair
    # of colors (the pass carries the triangle a <= b; B is its mirror),
    # against the closed-form Hessian of each Rosenbrock term
    n = 7
    E = np.eye(n - 1, n, dtype=bool) | np.eye(n - 1, n, k=1, dtype=bool)
    H = dualml.SparseHessian(rosenbrock_terms, np.zeros(n), sparsity=E, elements=True)
    x = np.linspace(-0.9, 1.3, n)
    B = H.compressed(x)
    K = H.ncolors
    ref = np.zeros((K, K, n - 1))
    for k in range(n - 1):
        Hk = np.array([[1200 * x[k] ** 2 - 400 * x[k + 1] + 2, -400 * x[k]],
                       [-400 * x[k], 200.0]])
        S = np.array([[H.colors[j] == a for j in (k, k + 1)] for a in range(K)], float)
        ref[:, :, k] = S @ Hk @ S.T
    assert B.shape == (K, K, n - 1)
    np.testing.assert_array_equal(B, B.transpose(1, 0, 2))
    np.testing.assert_allclose(B, ref, rtol=1e-14, atol=1e-12)


def test_elements_errors():
    E = np.eye(3, 4, dtype=bool)
    with pytest.raises(ValueError, match="ndarray"):
        dualml.SparseHessian(lambda x: x[:3], [0.0] * 4, sparsity=E, elements=True)
    with pytest.raises(ValueError, match="elements"):
        dualml.SparseHessian(lambda x: x[:3], np.zeros(4), sparsity=np.eye(3), elements=True)
    H = dualml.SparseHessian(lambda x: x ** 2, np.zeros(4), sparsity=E, elements=True)
    with pytest.raises(ValueError, match="4 elements"):
        H(np.ones(4))


def test_docstring_examples_run():
    import doctest

    from dualml.sparse import transforms
    for mod in (compressed, transforms):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 5, mod.__name__


def test_general_hessian_falls_back_to_nested_without_curvature_rules():
    # np.linalg has no second-order rows: the nested forward-over-forward path
    def f(x):
        M = x[:4].reshape(2, 2)
        return np.linalg.det(M) * x[4] + np.sum(x ** 3)
    P = np.ones((5, 5), dtype=bool)
    x = np.array([0.3, -1.2, 0.7, 2.0, -0.4])
    H = dualml.sparse_hessian(f, x, sparsity=P)
    ref = cs_hessian(f, x)
    np.testing.assert_allclose(H.toarray(), ref, rtol=1e-6, atol=1e-6 * np.abs(ref).max())


def test_general_hessian_in_blocks(monkeypatch):
    # a small cap forces several passes of the second-order rows
    monkeypatch.setattr(compressed, "_CAP_BYTES", 8 * 9 * 4 * 6)
    n = 9
    x = np.linspace(-1.0, 1.0, n)
    H = dualml.sparse_hessian(chained_rosenbrock, x, sparsity=band(n, 1, 1))
    np.testing.assert_allclose(H.toarray(), cs_hessian(chained_rosenbrock, x), rtol=1e-6,
                               atol=1e-4)


def test_scalar_and_empty_points():
    J = dualml.sparse_jacobian(lambda x: [x * 2, x ** 2], 3.0, sparsity=np.ones((2, 1)))
    np.testing.assert_array_equal(J.toarray(), [[2.0], [6.0]])
    H = dualml.sparse_hessian(lambda x: x ** 3, 2.0, sparsity=np.ones((1, 1)))
    np.testing.assert_array_equal(H.toarray(), [[12.0]])
    assert dualml.sparse_jacobian(np.sin, np.zeros(0), sparsity=np.zeros((0, 0))).shape == (0, 0)


def test_no_nesting_inside_another_differentiation():
    with pytest.raises(TypeError, match="outer differentiation"):
        dualml.gradient(lambda y: dualml.sparse_jacobian(np.sin, y, sparsity=np.eye(3)).sum(),
                        np.ones(3))


def test_check_always_catches_a_branch_that_changes_the_structure(monkeypatch):
    def F(x):                    # below 0 row 1 also depends on x[0]
        return np.where(x > 0, x ** 2, x ** 2 + x[0])

    def detect(kind, f, x, args, fname):
        P = np.eye(3, dtype=bool)
        P[:, 0] |= x <= 0
        return P
    monkeypatch.setattr(compressed, "_detect", detect)
    J = dualml.SparseJacobian(F, np.ones(3), sparsity=np.eye(3), check="always")
    np.testing.assert_array_equal(J(np.ones(3)).toarray(), 2 * np.eye(3))
    with pytest.raises(ValueError, match=r"misses 1 structural.*\(1, 0\)"):
        J(np.array([1.0, -1.0, 1.0]))


def test_transform_prepares_once_per_shape():
    j = dualml.jac(np.sin, sparse=True, sparsity=np.eye(3), method="scalar")
    j(np.ones(3))
    first = j.prepared
    j(np.zeros(3))
    assert j.prepared is first                  # same shape and kind: reused
    J = dualml.jac(lambda x: x ** 2, sparse=True, sparsity=np.eye(3))
    np.testing.assert_array_equal(J(np.arange(3.0)).toarray(), np.diag([0.0, 2.0, 4.0]))
    with pytest.raises(ValueError, match="columns"):
        J(np.ones(4))                           # a new shape prepares anew: the pattern is 3x3


def bratu_list(u):
    n = len(u)
    return [((u[i + 1] if i < n - 1 else 0.0) - 2 * u[i] + (u[i - 1] if i > 0 else 0.0))
            * (n + 1.0) ** 2 + dualml.exp(u[i]) for i in range(n)]


@pytest.mark.parametrize("kind", ["array", "list"])
def test_value_and_jacobian_from_one_pass(kind):
    n = 6
    x = np.linspace(0.1, 0.6, n)
    if kind == "array":
        J = dualml.SparseJacobian(bratu, x, sparsity=band(n, 1, 1))
        v, A = J.value_and_jacobian(x)
    else:
        J = dualml.SparseJacobian(bratu_list, x.tolist(), sparsity=band(n, 1, 1))
        v, A = J.value_and_jacobian(x.tolist())
    np.testing.assert_allclose(v, bratu(x), rtol=1e-14)
    np.testing.assert_allclose(A.toarray(), cs_jacobian(bratu, x), rtol=1e-13)
