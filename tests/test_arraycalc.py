"""The array backend of the calculus API (dualml._arraycalc).

Every result is checked against the scalar path (method="scalar", another
engine over the same rules) AND against an independent reference (analytic
formulas, sympy).
"""
import numpy as np
import pytest

import dualml
from dualml import _arraycalc as AC
from dualml import DualArray


def rosen(x):
    return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)


def rosen_hess(x):
    n = x.size
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
        H[i + 1, i + 1] += 200
    return H


def rosen_grad(x):
    g = np.zeros_like(x)
    g[:-1] += -400 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2 * (1 - x[:-1])
    g[1:] += 200 * (x[1:] - x[:-1] ** 2)
    return g


RNG = np.random.default_rng(11)
W = RNG.standard_normal((4, 4))
B = RNG.standard_normal(4)


def F(x):
    return np.tanh(W @ x + B) * x + np.sin(x).sum()


def F_jac(x):
    u = W @ x + B
    return np.diag(np.tanh(u)) + (1 - np.tanh(u) ** 2)[:, None] * W * x[:, None] + np.cos(x)[None, :]


TEST_FUNCS = {
    "F": F,
    "poly2d": lambda x: np.stack([x[0, 0] * x[1, 1] - x[0, 1] ** 3, np.exp(x[1, 0]) * x[0, 0]]),
    "softmax": dualml.softmax,
    "mixed": lambda x: np.concatenate([np.log1p(x ** 2), [np.prod(x)], np.maximum(x, 0.2)]),
}
POINTS = {
    "F": RNG.standard_normal(4),
    "poly2d": RNG.standard_normal((2, 2)),
    "softmax": RNG.standard_normal(5),
    "mixed": RNG.uniform(-1, 1, 3),
}


def test_linalg_jacobian_against_finite_differences():
    # the scalar path has no linalg on object arrays: central differences
    def f(x):
        return np.linalg.solve(np.eye(x.size) * 3 + np.outer(x, x), x) * np.linalg.norm(x)
    x = RNG.standard_normal(3)
    J = AC.jacobian(f, x, (), None)
    h = 1e-6
    ref = np.stack([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(3)], axis=1)
    assert np.allclose(J, ref, rtol=1e-8, atol=1e-9)


def test_hessian_linalg_falls_back_to_nesting():
    # det(x x^T + I) = 1 + |x|^2 and |x|^3: H = 2 I + 3 (|x| I + x x^T / |x|)
    x = np.array([0.4, -0.9, 1.3])
    r = np.linalg.norm(x)
    ref = 2 * np.eye(3) + 3 * (r * np.eye(3) + np.outer(x, x) / r)
    H = AC.hessian(lambda y: np.linalg.det(np.outer(y, y) + np.eye(3)) + np.linalg.norm(y) ** 3,
                   x, (), None)
    assert np.allclose(H, ref, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", list(TEST_FUNCS))
@pytest.mark.parametrize("chunk", [None, 1, 2])
def test_jacobian_equals_scalar_path(name, chunk):
    f, x = TEST_FUNCS[name], POINTS[name]
    Ja = dualml.jacobian(f, x, method="array", chunk=chunk)
    Js = dualml.jacobian(f, x, method="scalar")
    assert Ja.shape == np.shape(f(x)) + x.shape
    assert np.allclose(Ja, Js, rtol=1e-14, atol=1e-15)
    v, J2 = dualml.value_and_jacobian(f, x, method="array", chunk=chunk)
    assert np.allclose(v, f(x), rtol=1e-15, atol=0) and np.array_equal(J2, Ja)


def test_jacobian_analytic():
    x = POINTS["F"]
    assert np.allclose(AC.jacobian(F, x, (), None), F_jac(x), rtol=1e-13, atol=1e-14)
    p = dualml.softmax(POINTS["softmax"])
    assert np.allclose(AC.jacobian(dualml.softmax, POINTS["softmax"], (), None),
                       np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-16)


def test_jacobian_against_sympy():
    import sympy as sp
    a, b, c = sp.symbols("a b c")
    exprs = [sp.exp(a * b) / (1 + c ** 2), sp.atan2(a, b) * sp.sinh(c), sp.sqrt(a ** 2 + b ** 2) * sp.log(c + 3)]
    x0 = np.array([0.3, -0.7, 1.1])

    def f(x):
        return np.stack([np.exp(x[0] * x[1]) / (1 + x[2] ** 2),
                         np.arctan2(x[0], x[1]) * np.sinh(x[2]),
                         np.hypot(x[0], x[1]) * np.log(x[2] + 3)])
    ref = np.array([[float(sp.diff(e, s).subs({a: x0[0], b: x0[1], c: x0[2]}).evalf(30))
                     for s in (a, b, c)] for e in exprs])
    assert np.allclose(AC.jacobian(f, x0, (), None), ref, rtol=1e-14, atol=1e-15)


def test_gradient_and_value_and_gradient():
    x = RNG.uniform(-1.5, 1.5, 7)
    g = dualml.gradient(rosen, x, method="array")
    assert np.allclose(g, rosen_grad(x), rtol=1e-13, atol=1e-12)
    assert np.allclose(g, dualml.gradient(rosen, x, method="scalar"), rtol=1e-15, atol=1e-13)
    v, g2 = dualml.value_and_gradient(rosen, x, method="array", chunk=3)
    assert v == rosen(x) and np.allclose(g2, g, rtol=1e-15, atol=0)
    x2 = x[:6].reshape(2, 3)
    g3 = AC.gradient(lambda y: np.sum(y ** 2 * np.arange(6).reshape(2, 3)), x2, (), None)
    assert g3.shape == (2, 3) and np.allclose(g3, 2 * x2 * np.arange(6).reshape(2, 3))
    with pytest.raises(ValueError, match="jacobian"):
        AC.gradient(lambda y: y * 2, x, (), None)


def test_jvp():
    x = POINTS["F"]
    v = RNG.standard_normal(4)
    val, jv = dualml.jvp(F, x, v, method="array")
    assert np.allclose(val, F(x), rtol=1e-15) and np.allclose(jv, F_jac(x) @ v, rtol=1e-13)
    val_s, jv_s = dualml.jvp(F, x, v, method="scalar")
    assert np.allclose(jv, jv_s, rtol=1e-14, atol=1e-15)
    with pytest.raises(ValueError, match=r"\(3,\).*\(4,\)"):
        AC.jvp(F, x, np.ones(3), ())


@pytest.mark.parametrize("chunk", [None, 1, 3])
def test_hessian_rosenbrock(chunk):
    x = RNG.uniform(-1.5, 1.5, 10)
    H = dualml.hessian(rosen, x, method="array", chunk=chunk)
    assert np.allclose(H, rosen_hess(x), rtol=1e-14, atol=1e-12)
    assert np.array_equal(H, H.T)
    Hs = dualml.hessian(rosen, x, method="scalar")
    assert np.allclose(H, Hs, rtol=1e-15, atol=1e-12)


HESS_FUNCS = [
    lambda x: np.sum(np.exp(np.sin(x) * x[0]) / (1 + x ** 2)),
    lambda x: np.log1p(x @ x) + np.tanh(x).prod() + np.sum(x ** 3.0),
    lambda x: np.sum(W[:3, :3] @ x * x) + np.sqrt(np.abs(x) + 1).sum(),
    lambda x: dualml.logsumexp(x * 2.0) + np.sum(dualml.sigmoid(x) * np.arctan2(x, 1.5)),
    lambda x: np.max(x ** 2) + np.sum(np.where(x > 0, x ** 3, np.cos(x))) + np.mean(x) ** 2,
    lambda x: np.sum(np.hypot(x, x[::-1]) * np.power(np.abs(x) + 1, x)),
    lambda x: np.linalg.norm(x) ** 3 + np.sum(np.clip(x, -0.5, 1.0) ** 2),
    lambda x: np.einsum("i,ij,j", x, W[:3, :3], x) + np.dot(x, x) ** 2,
    lambda x: dualml.elu(x, 0.7).sum() * dualml.softplus(x).sum(),
    lambda x: np.sum(x[0] / x) + np.sum(2.0 ** x) + np.sum((np.abs(x) + 0.5) ** x),
]


@pytest.mark.parametrize("i", range(len(HESS_FUNCS)))
def test_hessian_equals_scalar_path(i):
    f = HESS_FUNCS[i]
    x = np.array([0.4, -0.9, 1.3])
    Ha = AC.hessian(f, x, (), None)
    Hs = dualml.hessian(f, x, method="scalar")
    assert np.allclose(Ha, Hs, rtol=1e-13, atol=1e-13)
    assert np.allclose(Ha, Ha.T, rtol=1e-14, atol=1e-14)
    Hn = AC._hessian_nested(f, x, (), None)        # forward over forward
    assert np.allclose(Hn, Hs, rtol=1e-13, atol=1e-13)


def test_hessian_against_sympy():
    import sympy as sp
    s = sp.symbols("a b c")
    e = sp.exp(s[0] * s[1]) * sp.sin(s[2]) + sp.log(1 + s[0] ** 2) * s[2] ** 3 + sp.tanh(s[1]) / (2 + sp.cos(s[0]))
    x0 = np.array([0.3, -0.7, 1.1])

    def f(x):
        return (np.exp(x[0] * x[1]) * np.sin(x[2]) + np.log(1 + x[0] ** 2) * x[2] ** 3
                + np.tanh(x[1]) / (2 + np.cos(x[0])))
    sub = dict(zip(s, x0))
    ref = np.array([[float(sp.diff(e, u, w).subs(sub).evalf(30)) for w in s] for u in s])
    assert np.allclose(AC.hessian(f, x0, (), None), ref, rtol=1e-14, atol=1e-14)


def test_second_order_special_points():
    # sqrt at 0 with a zero direction: the zero-tangent convention, no nan
    x = np.array([0.0, 4.0])
    H = AC.hessian(lambda y: np.sqrt(y[1]) + y[0] ** 2, x, (), None)
    assert np.array_equal(H, [[2.0, 0.0], [0.0, -1.0 / 32.0]])
    # kinks: abs/relu have zero curvature by convention
    H = AC.hessian(lambda y: np.sum(np.abs(y) * 3.0 + dualml.relu(y)), np.array([0.0, -1.0]), (), None)
    assert np.array_equal(H, np.zeros((2, 2)))


# -- nesting ---------------------------------------------------------------------------------

def test_jacobian_of_gradient_is_hessian():
    x = RNG.uniform(-1, 1, 5)
    H = AC.jacobian(lambda y: AC.gradient(rosen, y, (), None), x, (), None)
    assert np.allclose(H, rosen_hess(x), rtol=1e-14, atol=1e-12)
    H2 = dualml.jacobian(lambda y: dualml.gradient(rosen, y), x, method="array")
    assert np.allclose(H2, rosen_hess(x), rtol=1e-14, atol=1e-12)


def test_perturbation_confusion_arrays():
    # d/dx_j [ x_j * gradient_y( sum(x + y) ) ] : the inner gradient is ones,
    # independent of x -> jacobian = diag(1); a confused implementation gives 2
    x = np.array([1.0, 2.0, 3.0])
    J = AC.jacobian(lambda x: x * AC.gradient(lambda y: np.sum(x + y), x, (), None), x, (), None)
    assert np.array_equal(J, np.eye(3))
    # scalar classic with an array inner function
    d = dualml.derivative(lambda s: s * AC.gradient(lambda y: np.sum(s * y), np.ones(2), (), None)[0], 1.0)
    assert d == 2.0
    # inner differentiation closing over the outer DualArray
    g = AC.jacobian(lambda p: AC.gradient(lambda y: np.sum(p * y ** 2), np.array([1.0, 2.0]), (), None),
                    np.array([3.0, 4.0]), (), None)
    assert np.array_equal(g, np.diag([2.0, 4.0]))


def test_third_derivative_by_nesting():
    x = np.array([0.7, -0.3])
    T = AC.jacobian(lambda y: AC.hessian(lambda z: np.sum(z ** 4) + z[0] * z[1] ** 2, y, (), None),
                    x, (), None)
    ref = np.zeros((2, 2, 2))
    ref[0, 0, 0] = 24 * x[0]
    ref[1, 1, 1] = 24 * x[1]
    ref[0, 1, 1] = ref[1, 0, 1] = ref[1, 1, 0] = 2.0
    assert np.allclose(T, ref, rtol=1e-14, atol=1e-14)


def test_hessian_inside_jacobian_uses_nested_path():
    # hessian of a function of the outer parameter p: d/dp of H(x; p) = diag(6 x)
    x = np.array([0.5, 1.5])
    J = AC.jacobian(lambda p: AC.hessian(lambda z: np.sum(p * z ** 3), x, (), None).ravel(),
                    np.array([1.0, 1.0]), (), None)
    ref = np.zeros((4, 2))
    ref[0, 0] = 6 * x[0]
    ref[3, 1] = 6 * x[1]
    assert np.allclose(J, ref, rtol=1e-15)


def test_escaped_perturbation_is_an_error():
    box = []

    def outer(y):
        AC.gradient(lambda z: (box.append(z), np.sum(z * y))[1], np.ones(2), (), None)
        return np.sum(box[0])            # the inner variable leaks out
    with pytest.raises(ValueError, match="escaped"):
        AC.gradient(outer, np.ones(2), (), None)


# -- results and bad input ----------------------------------------------------------------

def test_constant_and_list_results():
    x = np.array([1.0, 2.0])
    assert np.array_equal(AC.jacobian(lambda y: 3.0, x, (), None), np.zeros(2))
    assert np.array_equal(AC.gradient(lambda y: np.float64(3.0), x, (), None), np.zeros(2))
    J = AC.jacobian(lambda y: [y[0] * y[1], 5.0, y[0]], x, (), None)
    assert np.array_equal(J, [[2.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    assert np.array_equal(AC.jacobian(lambda y: np.zeros(3), x, (), None), np.zeros((3, 2)))
    assert AC.hessian(lambda y: 1.0, x, (), None).shape == (2, 2)


def test_empty_and_scalar_x():
    J = AC.jacobian(lambda y: np.sin(y), np.zeros(0), (), None)
    assert J.shape == (0, 0)
    assert AC.gradient(lambda y: np.sum(y), np.zeros((0, 3)), (), None).shape == (0, 3)
    assert AC.gradient(lambda y: y ** 3, np.array(2.0), (), None) == 12.0
    assert AC.hessian(lambda y: y ** 3, np.array(2.0), (), None) == 12.0


def test_args_and_integer_x():
    g = dualml.gradient(lambda y, a, b: np.sum(a * y ** 2) + b, np.array([1, 2]), args=(3.0, 1.0),
                        method="array")
    assert np.array_equal(g, [6.0, 12.0])


def test_bad_input():
    with pytest.raises(TypeError, match="complex"):
        AC.jacobian(np.sin, np.array([1j]), (), None)
    with pytest.raises(TypeError, match="str"):
        AC.gradient(lambda y: "a", np.ones(2), (), None)
    with pytest.raises(TypeError, match="NoneType"):
        AC.gradient(lambda y: None, np.ones(2), (), None)
    with pytest.raises(TypeError, match="dict"):
        AC.jacobian(lambda y: {}, np.ones(2), (), None)
    with pytest.raises(ValueError, match="chunk"):
        AC.jacobian(np.sin, np.ones(2), (), 0)
    with pytest.raises(TypeError, match="value"):
        AC.gradient(lambda y: float(np.sum(y)), np.ones(2), (), None)
    with pytest.raises(ValueError, match="scalar"):
        AC.hessian(lambda y: y, np.ones(2), (), None)


def test_f_may_write_into_its_input():
    x = np.array([1.0, 2.0, 3.0])

    def f(y):
        y[0] = y[1] * y[2]
        return y * 2.0
    J = AC.jacobian(f, x, (), None)
    assert np.array_equal(J, [[0, 6, 4], [0, 2, 0], [0, 0, 2]])
    assert np.array_equal(x, [1.0, 2.0, 3.0])          # the caller's array is untouched


# -- regressions from review ---------------------------------------------------------

def test_writing_through_a_view_of_the_input_is_never_silently_wrong():
    # NumPy semantics: x[0] becomes the constant 5, so d(sum)/dx0 = 0.
    def g(x):
        v = x[:2]
        v[0] = 5.0
        return x.sum()

    for chunk in (None, 1, 2, 3):
        try:
            value, grad = dualml.value_and_gradient(g, np.array([1.0, 2.0, 3.0]), chunk=chunk)
        except ValueError as exc:
            assert "read-only" in str(exc) and "copy" in str(exc)
        else:
            assert value == 10.0 and list(grad) == [0.0, 1.0, 1.0]
    # assigning into x itself (not a view) is tracked
    def h(x):
        x[0] = 5.0
        return x.sum()
    assert list(dualml.gradient(h, np.array([1.0, 2.0, 3.0]))) == [0.0, 1.0, 1.0]


def test_broadcast_view_of_a_dualarray_is_read_only():
    d = dualml.DualArray.seed(np.array([1.0, 2.0]))
    b = np.broadcast_to(d, (3, 2))
    with pytest.raises(ValueError, match="read-only"):
        b[0, 0] = 1.0


@pytest.mark.parametrize("name,base", [("log2", 2.0), ("log10", 10.0)])
def test_second_order_of_log2_log10(name, base):
    f = getattr(np, name)
    w = np.array([0.3, 2.5])
    expect = np.diag(-1.0 / (w * w * np.log(base)))
    np.testing.assert_allclose(dualml.hessian(lambda v: np.sum(f(v)), w), expect, rtol=1e-14)
    nested = dualml.jacobian(lambda y: dualml.gradient(lambda v: np.sum(f(v)), y), w)
    np.testing.assert_allclose(nested, expect, rtol=1e-14)


def test_one_pass_paths_never_alias_their_seeds_or_inputs():
    # hessian of f(x) = x at a 0-d point: 0, and not a view of a cached seed
    H = dualml.hessian(lambda z: z, np.array(2.0))
    assert H == 0.0
    x = np.array([1.0, 2.0])
    H2 = dualml.hessian(lambda z: (z * z).sum(), x)
    H2[0, 0] = 99.0                                     # the result is the caller's
    assert np.array_equal(dualml.hessian(lambda z: (z * z).sum(), x), 2 * np.eye(2))
    # jvp of the identity: J v is v, as a new array
    v = np.array([3.0, 4.0])
    _, jv = dualml.jvp(lambda z: z, x, v)
    v[0] = -1.0
    assert list(jv) == [3.0, 4.0]


def test_hessian_fallback_sees_the_point_unchanged():
    # f writes into its input, then needs the nested fallback (det has no
    # second-order rows): the fallback must start from the caller's point
    def f(z):
        z[0] = z[0] * 2.0
        return np.linalg.det(np.stack([z, z[::-1] + 1.0]))   # 2*x0*(x0+1) - x1*(x1+1)
    x = np.array([0.5, 1.5])
    H = dualml.hessian(f, x)
    # f(x) = (2 x0)(2 x0 + 1) - x1 (x1 + 1) after the write: d2/dx0^2 = 8, d2/dx1^2 = -2
    assert np.allclose(H, [[8.0, 0.0], [0.0, -2.0]], rtol=0, atol=1e-12)
    assert list(x) == [0.5, 1.5]


# -- the per-buffer budget (DUALML_MAX_BYTES) ----------------------------------------------

def _wide_model(data):
    # a (3000,) intermediate per direction: the seed (80 x 80) says nothing of it
    def loss(p):
        return np.tanh(data @ p).sum()
    return loss


def _wide_grad(data, p):
    return data.T @ (1 - np.tanh(data @ p) ** 2)           # closed form


def test_budget_splits_a_pass_whose_intermediate_outgrows_it(monkeypatch):
    rng = np.random.default_rng(0)
    data = rng.standard_normal((3000, 80)) / 8
    p = rng.standard_normal(80)
    calls = []                  # directions of each pass, as f sees them

    def loss(q):
        calls.append(q.deriv.shape[0])
        return _wide_model(data)(q)
    monkeypatch.setenv("DUALML_MAX_BYTES", "256K")
    g = dualml.gradient(loss, p)
    np.testing.assert_allclose(g, _wide_grad(data, p), rtol=1e-12, atol=1e-12)
    # one pass of 80 refused before allocating its (80, 3000) product, then
    # passes whose (c, 3000) buffers fit
    assert calls[0] == 80 and sum(calls[1:]) == 80
    assert all(c * 3000 * 8 <= 256 * 2**10 for c in calls[1:])
    J = dualml.jacobian(lambda p: np.tanh(data @ p)[:5], p)
    np.testing.assert_allclose(J, (1 - np.tanh(data[:5] @ p) ** 2)[:, None] * data[:5],
                               rtol=1e-12, atol=1e-14)
    # without the limit: one pass
    monkeypatch.delenv("DUALML_MAX_BYTES")
    calls.clear()
    np.testing.assert_allclose(dualml.gradient(loss, p), g, rtol=1e-13)
    assert calls == [80]


def _outer_model(A, calls):
    # 64 inputs, a (300, 300) outer product inside: 64 directions of it are
    # 46 MB, though the seed is 32 kB (the small passes used to run unchecked)
    def f(q):
        calls.append(q.deriv.shape[0])
        v = A @ q
        return np.tanh(np.outer(v, v)).sum()
    return f


def _peak_bytes(fn):
    import tracemalloc
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_budget_holds_for_a_small_pass_with_a_wide_intermediate(monkeypatch):
    rng = np.random.default_rng(4)
    A = rng.standard_normal((300, 64)) / 8
    x = rng.standard_normal(64)
    v = A @ x
    ref = 2 * A.T @ ((1 - np.tanh(np.outer(v, v)) ** 2) @ v)      # closed form
    calls = []
    f = _outer_model(A, calls)
    g, peak_free = _peak_bytes(lambda: dualml.gradient(f, x))
    np.testing.assert_allclose(g, ref, rtol=1e-12)
    assert calls == [64] and peak_free > 40e6
    monkeypatch.setenv("DUALML_MAX_BYTES", "4M")
    calls.clear()
    g, peak = _peak_bytes(lambda: dualml.gradient(f, x))
    np.testing.assert_allclose(g, ref, rtol=1e-12)
    # the 64-direction pass is refused before allocating; the passes that
    # ran hold at most 4 MiB of (c, 300, 300) tangents
    assert calls[0] == 64 and sum(calls[1:]) == 64
    assert all(c * 300 * 300 * 8 <= 4 * 2**20 for c in calls[1:])
    # (tracemalloc sees NumPy's data and the core's pooled blocks: an
    # operation's operand and result, each within the budget, live at once)
    assert peak < 3 * 4 * 2**20


def test_budget_holds_for_hessian_rows(monkeypatch):
    # hessian's one pass of n + n(n+1)/2 rows (n <= 32; the upper triangle
    # of H) and its chunked passes
    rng = np.random.default_rng(5)
    A = rng.standard_normal((3000, 6)) / 4
    x = rng.standard_normal(6)

    def f(q):
        rows.append(q._d.shape[0])     # all rows: gradient and Hessian blocks
        return np.log(np.cosh(A @ q)).sum()
    s = 1 - np.tanh(A @ x) ** 2
    ref = A.T @ (s[:, None] * A)                            # closed form
    rows = []
    H, peak_free = _peak_bytes(lambda: dualml.hessian(f, x))
    np.testing.assert_allclose(H, ref, rtol=1e-12)
    assert rows == [6 + 21]
    monkeypatch.setenv("DUALML_MAX_BYTES", "300K")      # (27, 3000) rows are 648 KB
    rows.clear()
    H, peak = _peak_bytes(lambda: dualml.hessian(f, x))
    np.testing.assert_allclose(H, ref, rtol=1e-12)
    assert rows[0] == 27
    assert all(r * 3000 * 8 <= 300 * 2**10 for r in rows[1:])
    assert sum(r - 6 for r in rows[1:]) == 21          # every pair (i <= j) once
    # the budget is per buffer: a few live buffers, each under it (an
    # operation's operand and result, and the values; tracemalloc sees the
    # core's pooled blocks as it sees NumPy's data)
    assert peak < 3 * 300 * 2**10 < peak_free
    v = rng.standard_normal(6)
    np.testing.assert_allclose(dualml.hvp(lambda q: np.log(np.cosh(A @ q)).sum(), x, v),
                               ref @ v, rtol=1e-12)


def test_budget_holds_for_one_row_of_sensitivity(monkeypatch):
    # one point, many directions: the directions are split as jacobian does
    rng = np.random.default_rng(6)
    A = rng.standard_normal((2000, 40)) / 8
    x = rng.standard_normal(40)
    calls = []

    def model(X):
        calls.append(X.deriv.shape[0])
        return np.tanh(X @ A.T).sum(axis=-1)
    ref = (1 - np.tanh(A @ x) ** 2) @ A
    monkeypatch.setenv("DUALML_MAX_BYTES", "200K")      # 40 x 2000 rows are 640 kB
    J = dualml.batch_jacobian(model, x[None])
    np.testing.assert_allclose(J[0], ref, rtol=1e-12)
    assert calls[0] == 40 and sum(calls[1:]) == 40
    assert all(c * 2000 * 8 <= 200 * 2**10 for c in calls[1:])


def test_budget_env_values(monkeypatch):
    monkeypatch.setenv("DUALML_MAX_BYTES", "1.5M")
    assert AC._cap_bytes() == int(1.5 * 2**20)
    monkeypatch.setenv("DUALML_MAX_BYTES", "2GiB")
    assert AC._cap_bytes() == 2 * 2**30
    monkeypatch.setenv("DUALML_MAX_BYTES", "lots")
    with pytest.raises(ValueError, match="DUALML_MAX_BYTES"):
        dualml.gradient(lambda x: x.sum(), np.ones(80))


def test_budget_is_per_thread_and_restored():
    import threading
    from dualml.arrays import _core
    big = DualArray.seed(np.ones(200))             # (200, 200) tangents: 320 kB
    W = np.ones((300, 200))
    old = _core.set_buffer_budget(2**17)
    try:
        with pytest.raises(_core.BufferBudgetExceeded):
            W @ big
        seen = []
        t = threading.Thread(target=lambda: seen.append((W @ big).deriv.shape))
        t.start()
        t.join()
        assert seen == [(200, 300)]                 # another thread: no budget
    finally:
        assert _core.set_buffer_budget(old) == 2**17
    assert (W @ big).deriv.shape == (200, 300)


def test_nested_calls_keep_their_own_budget(monkeypatch):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((300, 70)) / 8
    monkeypatch.setenv("DUALML_MAX_BYTES", "130K")      # the inner (70, 300) rows are over
    p = rng.standard_normal(70)
    # the Hessian of sum(log cosh(data @ p)) by jacobian of gradient
    H = dualml.jacobian(lambda q: dualml.gradient(lambda r: np.log(np.cosh(data @ r)).sum(), q),
                        p)
    s = 1 - np.tanh(data @ p) ** 2
    np.testing.assert_allclose(H, data.T @ (s[:, None] * data), rtol=1e-10)


def test_scalar_f_gives_python_floats_on_the_array_path_as_on_the_scalar_path():
    # jvp and partial of a scalar f: floats on both paths (d[0] of a tangent
    # row is an np.float64, which the array path used to hand back)
    f = lambda x: x[0] * x[1] ** 2
    v, d = dualml.jvp(f, np.array([3.0, 2.0]), np.array([0.0, 1.0]))
    assert type(v) is float and type(d) is float and (v, d) == (12.0, 12.0)   # d = 2*3*2
    p = dualml.partial(f, np.array([3.0, 2.0]), 1)
    assert type(p) is float and p == 12.0
