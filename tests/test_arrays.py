"""DualArray: storage, the rule table on arrays, NumPy protocols, bad input.

References are independent of the array path: the scalar Dual (a different
implementation of the same C rules: the array path must equal it
elementwise), analytic formulas, and central finite differences.
"""
import copy
import math
import pickle

import numpy as np
import pytest

import dualml
from dualml import Dual, DualArray
from dualml import _kernels

SPECIAL = np.array([0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.5, -3.0, 1e-300, 40.0, -40.0,
                    np.inf, -np.inf, np.nan])
UNARY = [n for n in dualml.UNARY]
BINARY = list(dualml.BINARY)


@pytest.fixture(autouse=True)
def plain_kernels():
    # the plain (non-SIMD) kernels are bit for bit the scalar rules
    old = _kernels.set_simd(False)
    yield
    _kernels.set_simd(old)


def scalar_ref(name, *xs, **kw):
    """Value and derivative through the scalar Dual, elementwise."""
    f = getattr(dualml, name)
    vals, ders = [], []
    for args in zip(*[np.broadcast_to(x, np.broadcast_shapes(*[np.shape(a) for a in xs])).ravel()
                      for x in xs]):
        r = f(*[Dual(a, 1.0) if i == 0 else a for i, a in enumerate(args)], **kw)
        vals.append(r.value if isinstance(r, Dual) else r)
        ders.append(r.deriv if isinstance(r, Dual) else 0.0)
    shape = np.broadcast_shapes(*[np.shape(a) for a in xs])
    return np.array(vals).reshape(shape), np.array(ders).reshape(shape)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)


# -- the rule table, elementwise ------------------------------------------------------

@pytest.mark.parametrize("name", UNARY)
def test_unary_rule_equals_scalar_path(name):
    x = SPECIAL
    X = DualArray(x, np.stack([np.ones_like(x), 2 * np.ones_like(x), np.zeros_like(x)]))
    Y = getattr(dualml, name)(X)
    v, d = scalar_ref(name, x)
    assert same(Y.value, v)
    assert same(Y.deriv[0], d)
    assert same(Y.deriv[1], np.where(np.isnan(d), d, 2 * d)) or np.allclose(
        Y.deriv[1], 2 * d, equal_nan=True)
    assert np.all(Y.deriv[2] == 0)          # zero tangent: 0 even where f' is inf/nan


@pytest.mark.parametrize("name", dualml.UNARY_PARAM)
def test_param_rule_equals_scalar_path(name):
    x = SPECIAL
    for alpha in (0.2, 1.5):
        Y = getattr(dualml, name)(DualArray(x, np.ones_like(x)), alpha)
        v, d = scalar_ref(name, x, alpha=alpha)
        assert same(Y.value, v) and same(Y.deriv[0], d)


@pytest.mark.parametrize("name", BINARY)
def test_binary_rule_equals_scalar_path(name):
    a = SPECIAL[:, None]
    b = SPECIAL[None, :]
    f = getattr(dualml, name)
    A = DualArray(np.broadcast_to(a, (SPECIAL.size, 1)), np.ones((1, SPECIAL.size, 1)))
    B = DualArray(np.broadcast_to(b, (1, SPECIAL.size)), np.ones((1, 1, SPECIAL.size)))
    Y = f(A, B)                                             # broadcasting both
    av, bv = np.broadcast_arrays(a, b)
    vals = np.empty(av.shape)
    ders = np.empty(av.shape)
    for i in np.ndindex(av.shape):
        r = f(Dual(av[i], 1.0), Dual(bv[i], 1.0))
        vals[i], ders[i] = r.value, r.deriv
    assert same(Y.value, vals)
    assert same(Y.deriv[0], ders)
    # dual with a constant on either side (never 0*inf from the constant)
    Yc = f(A, bv)
    for i in np.ndindex(av.shape):
        r = f(Dual(av[i], 1.0), bv[i])
        assert same(Yc.value[i], r.value) and same(Yc.deriv[0][i], r.deriv)
    Yc = f(av, B)
    for i in np.ndindex(av.shape):
        r = f(av[i], Dual(bv[i], 1.0))
        assert same(Yc.value[i], r.value) and same(Yc.deriv[0][i], r.deriv)


@pytest.mark.parametrize("name", BINARY)
def test_numpy_ufunc_and_operator_paths(name):
    rng = np.random.default_rng(1)
    a = rng.uniform(0.5, 2.0, (3, 4))
    b = rng.uniform(0.5, 2.0, (4,))
    A = DualArray.seed(a)
    uf = getattr(np, name)
    Y1 = uf(A, b)
    Y2 = getattr(dualml, name)(A, b)
    assert same(Y1.value, Y2.value) and same(Y1.deriv, Y2.deriv)
    Y3 = uf(b, A)
    Y4 = getattr(dualml, name)(b, A)
    assert same(Y3.value, Y4.value) and same(Y3.deriv, Y4.deriv)


def test_operators_match_ufuncs():
    rng = np.random.default_rng(2)
    a = rng.uniform(0.5, 2.0, 5)
    A = DualArray.seed(a)
    for op, uf in [(lambda x, y: x + y, np.add), (lambda x, y: x - y, np.subtract),
                   (lambda x, y: x * y, np.multiply), (lambda x, y: x / y, np.divide),
                   (lambda x, y: x ** y, np.power), (lambda x, y: x // y, np.floor_divide),
                   (lambda x, y: x % y, np.remainder)]:
        for other in (1.7, a[::-1].copy(), 3):
            r1, r2 = op(A, other), uf(A, other)
            assert same(r1.value, r2.value) and same(r1.deriv, r2.deriv)
            r1, r2 = op(other, A), uf(other, A)
            assert same(r1.value, r2.value) and same(r1.deriv, r2.deriv)
    assert same((-A).deriv, -np.eye(5)) and same(abs(A).value, np.abs(a))
    sq = A ** 2                                      # as NumPy: square
    assert same(sq.value, a * a) and np.allclose(sq.deriv, np.diag(2 * a))


def test_simd_path_close_to_scalar():
    _kernels.set_simd(True)
    x = np.linspace(-3, 3, 1001)
    for name in ("exp", "sin", "cos", "tanh", "log1p"):
        Y = getattr(np, name)(DualArray(x, np.ones_like(x)))
        v, d = scalar_ref(name, x)
        assert np.allclose(Y.value, v, rtol=4e-15, atol=0, equal_nan=True)
        assert np.allclose(Y.deriv[0], d, rtol=1e-14, atol=1e-300, equal_nan=True)


# -- storage, construction, accessors ---------------------------------------------------

def test_construction_and_accessors():
    X = DualArray([1, 2, 3])                           # ints promoted, k = 0
    assert X.value.dtype == np.float64 and X.k == 0 and X.shape == (3,)
    Y = DualArray([1.0, 2.0], [1.0, 0.0])              # deriv of value.shape: k = 1
    assert Y.deriv.shape == (1, 2) and Y.k == 1 and Y.ndirs == 1
    Z = DualArray.seed(np.zeros((2, 3)))
    assert Z.k == 6 and Z.deriv.shape == (6, 2, 3) and Z.ndim == 2 and Z.size == 6
    assert same(Z.deriv.reshape(6, 6), np.eye(6))
    W = DualArray.seed(np.zeros(2), [[1.0, 2.0]])
    assert W.k == 1
    C = DualArray.constant([1.0, 2.0], k=3)
    assert C.deriv.shape == (3, 2) and not C.deriv.any()
    assert len(Z) == 2 and [z.shape for z in Z] == [(3,), (3,)]
    assert Z.T.shape == (3, 2) and Z.T.deriv.shape == (6, 3, 2)
    assert "DualArray" in repr(Y)
    with pytest.raises(ValueError):
        Y.value[0] = 5.0                                # accessors are read-only views


def test_inputs_are_copied():
    v = np.array([1.0, 2.0])
    d = np.array([[1.0, 1.0]])
    X = DualArray(v, d)
    v[0] = 99.0
    d[0, 0] = 99.0
    assert X.value[0] == 1.0 and X.deriv[0, 0] == 1.0


def test_bad_input():
    with pytest.raises(TypeError, match="complex"):
        DualArray([1 + 2j])
    with pytest.raises(ValueError, match=r"\(2, 2\).*\(3,\)"):
        DualArray([1.0, 2.0, 3.0], np.zeros((2, 2)))
    with pytest.raises(TypeError):
        DualArray(["a"])
    X = DualArray.seed(np.ones(3))
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        X + np.ones(4)
    with pytest.raises(TypeError, match="complex"):
        np.add(X, np.ones(3) * 1j)
    with pytest.raises(TypeError):
        X + "a"
    with pytest.raises(ValueError, match="directions"):
        X + DualArray.seed(np.ones(2))[0] * np.ones(3)    # k = 3 and k = 2, same tag


def test_no_silent_loss():
    X = DualArray.seed(np.ones(2))
    with pytest.raises(TypeError, match=r"\.value"):
        np.asarray(X)
    with pytest.raises(TypeError, match=r"\.value"):
        float(X[0])
    with pytest.raises(TypeError):
        X.item()
    out = np.zeros(2)
    with pytest.raises((TypeError, ValueError)):      # NumPy decides which
        out[0] = X[0]
    assert int(X[1]) == 1 and bool(X[0])       # locally constant: the value
    with pytest.raises(ValueError):
        bool(X)


def test_comparisons_are_plain_bools():
    X = DualArray.seed(np.array([1.0, 2.0, 3.0]))
    r = X > 2.0
    assert type(r) is np.ndarray and r.dtype == bool and list(r) == [False, False, True]
    assert list(X == np.array([1.0, 0.0, 3.0])) == [True, False, True]
    assert list(np.less(X, 2.5)) == [True, True, False]
    assert list(np.isfinite(X)) == [True] * 3
    assert list(X <= X[1]) == [True, True, False]


def test_unsupported_ufunc_and_function_name_themselves():
    X = DualArray.seed(np.ones(3))
    with pytest.raises(TypeError, match="nextafter"):
        np.nextafter(X, 2.0)
    with pytest.raises(TypeError, match="unwrap"):
        np.unwrap(X)
    with pytest.raises(TypeError, match="logical_xor"):
        np.logical_xor(X, X)


def test_copy_pickle():
    X = DualArray.seed(np.array([1.0, 2.0]))
    for Y in (copy.copy(X), copy.deepcopy(X), pickle.loads(pickle.dumps(X)), X.copy()):
        assert same(Y.value, X.value) and same(Y.deriv, X.deriv)
    Y = X.copy()
    Y[0] = 5.0
    assert X.value[0] == 1.0


# -- indexing and assignment ------------------------------------------------------------

def test_indexing_basic_fancy_boolean():
    a = np.arange(12.0).reshape(3, 4)
    X = DualArray.seed(a)
    D = X.deriv
    for idx in [1, (1, 2), (slice(None), 2), (Ellipsis, 1), (None, 1), [0, 2],
                ([0, 2], [1, 3]), a > 5, (slice(None, None, -1), np.array([1, 1])), ()]:
        Y = X[idx]
        assert same(Y.value, a[idx])
        exp = D[(slice(None),) + (idx if isinstance(idx, tuple) else (idx,))]
        assert same(Y.deriv, exp)
    with pytest.raises(TypeError):
        X[X[0, 0]]


def test_setitem_and_views():
    X = DualArray.seed(np.array([1.0, 2.0, 3.0]))
    Y = X * 1.0
    Y[0] = 10.0                                 # a constant: zero tangent
    assert Y.value[0] == 10.0 and not Y.deriv[:, 0].any()
    assert X.value[0] == 1.0 and X.deriv[0, 0] == 1.0      # no shared storage
    Y[1:] = X[:2] * 2.0
    assert same(Y.value, [10.0, 2.0, 4.0])
    assert same(Y.deriv[:, 1], [2.0, 0.0, 0.0]) and same(Y.deriv[:, 2], [0.0, 2.0, 0.0])
    # a broadcast (read-only) DualArray can be assigned into after copy-on-write
    B = np.broadcast_to(X[0], (3,))
    B2 = B.copy()
    B2[1] = X[2]
    assert same(B2.deriv[:, 1], [0.0, 0.0, 1.0]) and same(B2.deriv[:, 0], [1.0, 0.0, 0.0])
    with pytest.raises(ValueError):
        B.value[0] = 1.0
    # in place operators follow NumPy: views see the change
    Z = X.copy()
    V = Z[1:]
    Z += 1.0
    assert same(V.value, [3.0, 4.0])
    Z *= X
    assert np.allclose(Z.deriv, np.diag(2 * X.value + 1.0))


def test_setitem_promotes_to_inner_tag():
    # assigning a dual of an inner differentiation into an outer array
    X = DualArray.seed(np.array([1.0, 2.0]))
    g = dualml.derivative(lambda s: (lambda Y: (Y.__setitem__(0, s * 3.0), Y.sum())[1])(X * 1.0), 2.0)
    # d/ds of (3 s + x1) = 3, as a constant w.r.t. X (the outer array)
    assert same(np.asarray(g.value if isinstance(g, DualArray) else g), 3.0)


def test_out_argument_and_aliasing():
    a = np.array([0.5, 1.0, 2.0])
    X = DualArray.seed(a)
    out = X.copy()
    r = np.exp(X, out=out)
    assert r is out and same(out.value, np.exp(a)) and np.allclose(out.deriv, np.diag(np.exp(a)))
    Y = X.copy()
    np.multiply(Y, Y, out=Y)                       # out aliases both inputs
    assert same(Y.value, a * a) and np.allclose(Y.deriv, np.diag(2 * a))
    with pytest.raises(TypeError, match="out="):
        np.exp(X, out=np.empty(3))


def test_strided_and_readonly_inputs():
    base = np.linspace(0.1, 2.0, 20)
    ro = base[::2].copy()
    ro.flags.writeable = False
    X = DualArray.seed(ro)
    Y = np.sin(X) * base[::2]                     # strided constant
    assert same(Y.value, np.sin(ro) * base[::2])
    assert np.allclose(np.diagonal(Y.deriv), np.cos(ro) * base[::2])
    Z = DualArray(base.reshape(4, 5).T, np.ones((1, 5, 4)))   # non-contiguous value
    assert same(np.tanh(Z).value, scalar_ref("tanh", base.reshape(4, 5).T)[0])


# -- mixing with scalars and scalar Duals ------------------------------------------------

def test_mixing_scalars():
    X = DualArray.seed(np.array([1.0, 2.0]))
    for s in (2, 2.0, np.float64(2.0), np.int32(2), True):
        Y = X * s + s
        assert same(Y.value, np.array([1.0, 2.0]) * float(s) + float(s))
    d = Dual(3.0, 1.0)                     # user Dual (tag 1), k = 1 array of tag 1
    Z = DualArray([1.0, 2.0], [1.0, 1.0]) * d
    assert same(Z.value, [3.0, 6.0]) and same(Z.deriv[0], [1.0 * 3 + 1.0, 3.0 + 2.0])
    with pytest.raises(ValueError):
        X * d                                # k = 2 with a k = 1 Dual of the same tag


def test_scalar_dual_of_outer_level():
    # x * s with s the outer variable: d/ds gradient_x(sum(s * x**2)) = 2 x
    x0 = np.array([1.0, -2.0, 0.5])
    got = dualml.derivative(lambda s: dualml.gradient(lambda x: np.sum(s * x ** 2), x0), 1.5)
    assert np.allclose(got, 2 * x0, rtol=1e-15)


# -- reductions -----------------------------------------------------------------------------

def numjac(f, x, h=1e-6):
    x = np.asarray(x, float)
    f0 = np.asarray(f(x), float)
    J = np.empty(f0.shape + x.shape)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        J[(Ellipsis,) + i] = (np.asarray(f(x + e)) - np.asarray(f(x - e))) / (2 * h)
    return J


def arrjac(f, x):
    X = DualArray.seed(x)
    Y = f(X)
    v = Y.value if isinstance(Y, DualArray) else Y
    J = np.moveaxis(Y.deriv, 0, -1).reshape(np.shape(v) + x.shape)
    return np.asarray(v), J


REDUCTIONS = [
    lambda x: np.sum(x), lambda x: np.sum(x, axis=0), lambda x: x.sum(axis=(0, 2)),
    lambda x: np.sum(x, axis=1, keepdims=True), lambda x: np.mean(x, axis=-1),
    lambda x: x.mean(), lambda x: np.prod(x, axis=1), lambda x: np.prod(x),
    lambda x: np.max(x, axis=0), lambda x: np.min(x, axis=2, keepdims=True),
    lambda x: np.amax(x), lambda x: x.min(axis=(0, 1)), lambda x: np.cumsum(x, axis=1),
    lambda x: np.cumsum(x), lambda x: np.add.reduce(x, axis=2),
    lambda x: np.multiply.reduce(x, axis=0), lambda x: np.maximum.reduce(x, axis=1),
    lambda x: np.add.accumulate(x, axis=0),
]


@pytest.mark.parametrize("i", range(len(REDUCTIONS)))
def test_reductions_against_finite_differences(i):
    f = REDUCTIONS[i]
    x = np.random.default_rng(i).uniform(0.5, 1.5, (2, 3, 4))
    v, J = arrjac(f, x)
    assert np.allclose(v, f(x), rtol=1e-14, atol=0)
    assert np.allclose(J, numjac(f, x), rtol=1e-7, atol=1e-8)


def test_prod_with_zeros_and_max_ties():
    x = np.array([0.0, 2.0, 0.0, 3.0])
    _, J = arrjac(np.prod, x)
    assert same(J, [0.0, 0.0, 0.0, 0.0])
    x = np.array([0.0, 2.0, 5.0, 3.0])
    _, J = arrjac(np.prod, x)
    assert same(J, [30.0, 0.0, 0.0, 0.0])
    _, J = arrjac(np.max, np.array([1.0, 3.0, 3.0]))     # first of the ties, as argmax
    assert same(J, [0.0, 1.0, 0.0])


# -- array functions ---------------------------------------------------------------------------

rng = np.random.default_rng(7)
M = rng.standard_normal((3, 3)) + 3 * np.eye(3)
V4 = rng.standard_normal(4)
FUNCS = [
    ("dot", lambda x: np.dot(M, x[:3])), ("dot2", lambda x: np.dot(x[:3], M)),
    ("dotvv", lambda x: np.dot(x, x)), ("matmul", lambda x: x[:4].reshape(2, 2) @ x[4:8].reshape(2, 2)),
    ("matmul_const", lambda x: M @ x[:3].reshape(3, 1)), ("rmatmul", lambda x: x[:3] @ M),
    ("matmul_batch", lambda x: np.matmul(x[:8].reshape(2, 2, 2), x[:2])),
    ("inner", lambda x: np.inner(x[:4], V4)), ("inner2", lambda x: np.inner(x[:4].reshape(2, 2), x[4:8].reshape(2, 2))),
    ("outer", lambda x: np.outer(x[:3], x[3:5])), ("vdot", lambda x: np.vdot(x[:4], x[4:8])),
    ("tensordot", lambda x: np.tensordot(x[:8].reshape(2, 2, 2), x[:4].reshape(2, 2), axes=([1, 2], [0, 1]))),
    ("tensordot_int", lambda x: np.tensordot(x[:4].reshape(2, 2), M[:2, :2], 1)),
    ("einsum", lambda x: np.einsum("ij,jk->ik", x[:4].reshape(2, 2), x[4:8].reshape(2, 2))),
    ("einsum_implicit", lambda x: np.einsum("i,i", x[:4], x[4:8])),
    ("einsum3", lambda x: np.einsum("i,ij,j->", x[:3], M, x[3:6])),
    ("einsum_ell", lambda x: np.einsum("...i,i->...", x[:8].reshape(2, 4), V4)),
    ("where", lambda x: np.where(x > 0.9, x ** 2, np.sin(x))),
    ("where_const", lambda x: np.where(np.arange(9) % 2 == 0, x, 1.0)),
    ("concatenate", lambda x: np.concatenate([x[:3], np.ones(2), x[5:] * 2])),
    ("stack", lambda x: np.stack([x[:3], x[3:6], np.zeros(3)], axis=1)),
    ("hstack", lambda x: np.hstack([x[:2], x[4:6]])), ("vstack", lambda x: np.vstack([x[:2], x[4:6]])),
    ("reshape", lambda x: np.reshape(x, (3, 3))), ("ravel", lambda x: np.ravel(x.reshape(3, 3).T)),
    ("transpose", lambda x: np.transpose(x.reshape(3, 3))), ("swapaxes", lambda x: np.swapaxes(x[:8].reshape(2, 2, 2), 0, 2)),
    ("moveaxis", lambda x: np.moveaxis(x[:8].reshape(2, 2, 2), 0, -1)),
    ("squeeze", lambda x: np.squeeze(x[:3].reshape(1, 3, 1))), ("expand_dims", lambda x: np.expand_dims(x, 0)),
    ("broadcast_to", lambda x: np.broadcast_to(x[:3], (2, 3))), ("clip", lambda x: np.clip(x, 0.7, 1.1)),
    ("abs", lambda x: np.abs(x - 1.0)), ("sum", lambda x: np.sum(x.reshape(3, 3), axis=1)),
    ("norm", lambda x: np.linalg.norm(x)), ("norm1", lambda x: np.linalg.norm(x, 1)),
    ("norm_inf", lambda x: np.linalg.norm(x, np.inf)), ("norm_fro", lambda x: np.linalg.norm(x.reshape(3, 3), "fro")),
    ("norm_axis", lambda x: np.linalg.norm(x.reshape(3, 3), axis=1)), ("norm_p", lambda x: np.linalg.norm(x, 3)),
    ("solve", lambda x: np.linalg.solve(M + np.diag(x[:3]), x[3:6])),
    ("solve_mat", lambda x: np.linalg.solve(x[:4].reshape(2, 2) + 3 * np.eye(2), x[4:8].reshape(2, 2))),
    ("solve_const_a", lambda x: np.linalg.solve(M, x[:3])),
    ("inv", lambda x: np.linalg.inv(x.reshape(3, 3) + 3 * np.eye(3))),
    ("det", lambda x: np.linalg.det(x.reshape(3, 3) + np.eye(3))),
    ("take_along_axis", lambda x: np.take_along_axis(x.reshape(3, 3), np.array([[2], [0], [1]]), axis=1)),
    ("take", lambda x: np.take(x, [3, 1, 1])), ("flip", lambda x: np.flip(x)),
    ("diagonal", lambda x: np.diagonal(x.reshape(3, 3))), ("trace", lambda x: np.trace(x.reshape(3, 3))),
    ("full_like", lambda x: x + np.full_like(x, 2.0)), ("zeros_like", lambda x: x * np.ones_like(x) + np.zeros_like(x)),
    ("copy", lambda x: np.copy(x) * x),
]


@pytest.mark.parametrize("name,f", FUNCS, ids=[n for n, _ in FUNCS])
def test_array_function_against_finite_differences(name, f):
    x = np.random.default_rng(3).uniform(0.6, 1.4, 9)
    v, J = arrjac(f, x)
    assert np.allclose(v, f(x), rtol=1e-13, atol=1e-14)
    assert np.allclose(J, numjac(f, x), rtol=1e-6, atol=1e-7)


def test_shape_functions_and_plain_results():
    X = DualArray.seed(np.ones((2, 3)))
    assert np.shape(X) == (2, 3) and np.ndim(X) == 2 and np.size(X) == 6
    Z = np.zeros_like(X)                    # a DualArray of X's level, zero tangents
    assert type(Z) is DualArray and Z.k == X.k and not Z.deriv.any() and not Z.value.any()
    assert type(np.zeros_like(X, dtype=bool)) is np.ndarray     # a mask: no derivative
    assert np.argmax(X * np.arange(6).reshape(2, 3)) == 5
    assert np.allclose(X, 1.0)


def test_linalg_analytic():
    A = np.array([[2.0, 1.0], [0.5, 3.0]])
    X = DualArray.seed(A)
    d = np.linalg.det(X)
    # d det / dA = det(A) A^-T
    assert np.allclose(d.deriv.reshape(2, 2), np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-14)
    Ai = np.linalg.inv(X)
    # d(A^-1)/dA_kl = -A^-1 E_kl A^-1
    inv = np.linalg.inv(A)
    for k in range(2):
        for l in range(2):
            E = np.zeros((2, 2))
            E[k, l] = 1
            assert np.allclose(Ai.deriv[2 * k + l], -inv @ E @ inv, rtol=1e-14)


# -- dualml functions, the vector functions of the calculus issue ---------------------------

def test_dualml_module_functions_dispatch():
    x = np.array([-1.0, 0.0, 2.0])
    X = DualArray.seed(x)
    for name in ("sigmoid", "softplus", "relu", "gelu", "silu", "log_sigmoid"):
        Y = getattr(dualml, name)(X)
        v, d = scalar_ref(name, x)
        assert same(Y.value, v) and same(np.diagonal(Y.deriv), d)
    Y = dualml.leaky_relu(X, alpha=0.3)
    assert same(np.diagonal(Y.deriv), [0.3, 0.3, 1.0])
    with pytest.raises(TypeError):
        dualml.leaky_relu(X, alpha=X)


def test_functional_on_dualarray():
    x = np.array([0.3, -1.2, 2.0, 0.1])
    X = DualArray.seed(x)
    p = np.exp(x - x.max())
    p /= p.sum()
    S = dualml.softmax(X)
    assert np.allclose(S.value, p, rtol=1e-15)
    assert np.allclose(S.deriv.T, np.diag(p) - np.outer(p, p), rtol=1e-14, atol=1e-16)
    L = dualml.logsumexp(X)
    assert np.allclose(L.deriv, p, rtol=1e-14)
    assert np.allclose(dualml.log_softmax(X).value, np.log(p), rtol=1e-14)
    ce = dualml.cross_entropy(X, 2)
    g = p.copy()
    g[2] -= 1
    assert np.allclose(ce.deriv, g, rtol=1e-14, atol=1e-16)
    y = np.array([1.0, 0.0, 1.0, 0.0])
    b = dualml.binary_cross_entropy_with_logits(X, y)
    s = 1 / (1 + np.exp(-x))
    assert np.allclose(b.deriv, (s - y) / 4, rtol=1e-14)
    assert np.allclose(dualml.mse(X, y).deriv, 2 * (x - y) / 4, rtol=1e-15)
    assert np.allclose(dualml.l2_penalty(X, 0.5).deriv, 0.5 * x, rtol=1e-15)
    assert np.allclose(dualml.l1_penalty(X, 0.5).deriv, 0.5 * np.sign(x), rtol=1e-15)
    h = dualml.hinge(X, np.array([1, -1, 1, -1]))
    assert h.deriv.shape == (4,)


def test_max_reduction_tie_takes_the_first_selected_element():
    # conventions (docs/guide/conventions.md): a reduction's derivative is that of the element
    # NumPy selects (the first of a tie); elementwise maximum splits 0.5/0.5
    d = dualml.DualArray.seed(np.array([2.0, 2.0, 1.0]))
    assert list(np.max(d).deriv) == [1.0, 0.0, 0.0]
    assert list(np.min(-d).deriv) == [-1.0, 0.0, 0.0]
    m = np.maximum(d[0], d[1])
    assert list(m.deriv) == [0.5, 0.5, 0.0]


def test_sequence_repetition_by_a_dualarray_explains_itself():
    d = dualml.DualArray.seed(np.array([1.0, 2.0]))
    for op in (lambda: "a" * d, lambda: d * "a"):
        with pytest.raises(TypeError, match="repeat count"):
            op()
    # a list is an array operand, as in NumPy: [0] * x is elementwise
    assert list(([0.0] * d).value) == [0.0, 0.0]


# -- once silently wrong: advanced indexes apart, order='F', fmax over NaN, out= ---------

def central_jacobian(f, x, h=1e-6):
    """Independent reference: central differences of a function of float arrays."""
    cols = [(np.asarray(f(x + h * e)) - np.asarray(f(x - h * e))) / (2 * h)
            for e in np.eye(x.size).reshape((x.size,) + x.shape)]
    return np.stack(cols, axis=-1).reshape(np.shape(f(x)) + x.shape)


A8 = np.arange(8.0).reshape(2, 2, 2)
B8 = A8.transpose(2, 1, 0)


@pytest.mark.parametrize("idx", [(0, slice(None), [0, 1]), ([0, 1], slice(None), [1, 0]),
                                 (1, Ellipsis, [0, 1]), ([1, 0], slice(None), 0),
                                 (0, [0, 1], slice(None)), (np.array([[0, 1]]), slice(None), 1)],
                         ids=repr)
def test_advanced_indexes_separated_by_a_slice(idx):
    f = lambda x: (A8 * x[0] + B8 * x[1])[idx]          # noqa: E731
    x = np.array([1.0, 2.0])
    assert np.allclose(dualml.jacobian(f, x), central_jacobian(f, x), atol=1e-8)
    v = np.array([0.5, -1.5])                           # jvp: all k rows kept
    assert np.allclose(dualml.jvp(f, x, v)[1], central_jacobian(f, x) @ v, atol=1e-8)


def test_item_assignment_with_advanced_indexes_separated_by_a_slice():
    def f(x):
        z = np.zeros((2, 2, 2)) + 0.0 * x[0]
        z[0, :, [0, 1]] = (A8 * x[0] + B8 * x[1])[1]
        return z

    def f_num(x):
        z = np.zeros((2, 2, 2))
        z[0, :, [0, 1]] = (A8 * x[0] + B8 * x[1])[1]
        return z

    x = np.array([1.0, 2.0])
    assert np.allclose(dualml.jacobian(f, x), central_jacobian(f_num, x), atol=1e-8)


@pytest.mark.parametrize("spell", ["np.reshape", "method", "np.ravel", "ravel method"])
def test_fortran_order_reshape_and_ravel(spell):
    W = np.arange(1.0, 7.0)
    g = {"np.reshape": lambda z: np.reshape(z, (3, 2), order="F"),
         "method": lambda z: z.reshape((3, 2), order="F"),
         "np.ravel": lambda z: np.ravel(z, order="F"),
         "ravel method": lambda z: z.ravel(order="F")}[spell]
    f = lambda x: g(np.sin(x) * W.reshape(2, 3))       # noqa: E731
    x = np.linspace(0.1, 0.6, 6).reshape(2, 3)
    assert np.allclose(dualml.jacobian(f, x), central_jacobian(f, x), atol=1e-8)


def test_fmax_fmin_reduce_skip_nan_like_numpy():
    v = np.array([1.0, np.nan, 3.0, 2.0])
    X = DualArray.seed(v)
    for uf, j in ((np.fmax, 2), (np.fmin, 0)):
        r = uf.reduce(X)
        assert r.value == uf.reduce(v) and list(r.deriv) == list(np.eye(4)[j])
    M = DualArray.seed(np.array([[np.nan, np.nan], [np.nan, 5.0]]))
    r = np.fmax.reduce(M, axis=1)                       # an all-NaN row stays NaN
    assert np.isnan(r.value[0]) and r.value[1] == 5.0
    assert list(r.deriv[:, 1]) == [0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("name", ["dot", "outer", "concatenate", "stack", "clip", "take"])
def test_out_is_filled_never_ignored(name):
    X = DualArray.seed(np.array([1.0, 2.0]))
    call = {"dot": lambda out: np.dot(np.ones((3, 2)), X, out=out),
            "outer": lambda out: np.outer(X, X, out=out),
            "concatenate": lambda out: np.concatenate([X, X], out=out),
            "stack": lambda out: np.stack([X, X], out=out),
            "clip": lambda out: np.clip(X, 0.0, 1.5, out=out),
            "take": lambda out: np.take(X, [1, 0], out=out)}[name]
    ref = call(None)
    out = DualArray.constant(np.full(ref.shape, 7.0), k=2)
    r = call(out)
    assert r is out and same(out.value, ref.value) and same(out.deriv, ref.deriv)
    with pytest.raises(TypeError, match="out= must be a DualArray"):
        call(np.zeros(ref.shape))


def test_bad_k_and_unknown_operands_say_typeerror():
    with pytest.raises(TypeError, match="k must be a non-negative integer"):
        DualArray.constant([1.0], k=2.5)
    X = DualArray.seed(np.ones(2))
    with pytest.raises(TypeError) as info:
        np.concatenate([X, object()])
    assert "_UnknownOperand" not in "".join(
        __import__("traceback").format_exception_only(info.type, info.value))


def test_identity_seed_cache_is_bounded():
    from dualml import _arraycalc
    for n in range(1, 257, 5):
        dualml.jacobian(lambda z: z * 2.0, np.ones(n))
    assert sum(a.nbytes for a in _arraycalc._EYES.values()) <= _arraycalc._EYES_BYTES



def test_preallocate_then_fill_keeps_the_derivatives():
    def f(u):
        r = np.zeros_like(u)
        r[0] = u[0] ** 2
        r[1:-1] = u[2:] - u[:-2]
        r[-1] = np.sin(u[-1])
        return r * np.full_like(u, 2.0) + np.ones_like(u)

    x = np.array([0.3, 1.2, -0.7, 2.0])
    assert np.allclose(dualml.jacobian(f, x), central_jacobian(f, x), atol=1e-8)

    def g(u):
        r = np.empty_like(u)
        r[...] = u ** 3
        return r.sum()

    assert np.allclose(dualml.hessian(g, x), np.diag(6 * x), rtol=1e-14, atol=0)
