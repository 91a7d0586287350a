"""dualml.calculus: partial, gradient, jacobian, jvp, hessian and transforms.

Every derivative is compared with an independent reference: sympy's
symbolic derivatives evaluated at 30 digits, or an analytic formula.
"""
import math
import random
import types

import numpy as np
import pytest
import sympy as sp

import dualml
from dualml import Dual, calculus

# -- random expressions: the same tree built in sympy and in dualml ---------------------

_UNARY = [
    (sp.exp, dualml.exp),
    (sp.sin, dualml.sin),
    (sp.cos, dualml.cos),
    (sp.tanh, dualml.tanh),
    (sp.atan, dualml.arctan),
    (lambda e: sp.sqrt(1 + e**2), lambda e: dualml.sqrt(1 + e * e)),
    (lambda e: sp.log(1 + e**2), lambda e: dualml.log(1 + e**2)),
    (lambda e: e**3, lambda e: e**3),
]
_BINARY = [
    (lambda a, b: a + b, lambda a, b: a + b),
    (lambda a, b: a - b, lambda a, b: a - b),
    (lambda a, b: a * b, lambda a, b: a * b),
    # denominators and bases kept away from 0 so values stay moderate
    (lambda a, b: a / (sp.Rational(1, 2) + b**2), lambda a, b: a / (0.5 + b * b)),
    (lambda a, b: (1 + a**2) ** (b / 2), lambda a, b: (1 + a * a) ** (b / 2)),
]


def _random_tree(rng, nvars, depth):
    """(sympy expression, callable on a list of variables)."""
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.75:
            k = rng.randrange(nvars)
            return sp.Symbol(f"x{k}"), (lambda v, k=k: v[k])
        c = rng.randrange(-8, 9) / 4            # exactly representable
        return sp.Rational(int(c * 4), 4), (lambda v, c=c: c)
    if rng.random() < 0.4:
        s, d = rng.choice(_UNARY)
        es, ef = _random_tree(rng, nvars, depth - 1)
        return s(es), (lambda v: d(ef(v)))
    s, d = rng.choice(_BINARY)
    es1, ef1 = _random_tree(rng, nvars, depth - 1)
    es2, ef2 = _random_tree(rng, nvars, depth - 1)
    return s(es1, es2), (lambda v: d(ef1(v), ef2(v)))


def _ref(expr, symbols, point):
    subs = {s: sp.Float(p, 30) for s, p in zip(symbols, point)}
    return float(expr.evalf(30, subs=subs))


def _close(got, ref, rtol=1e-11):
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    assert got.shape == ref.shape
    scale = 1.0 + np.abs(ref)
    assert np.all(np.abs(got - ref) <= rtol * scale), (got, ref)


@pytest.mark.parametrize("seed", range(12))
def test_random_expressions_one_variable(seed):
    rng = random.Random(seed)
    x = sp.Symbol("x0")
    expr, f = _random_tree(rng, 1, 4)
    x0 = rng.uniform(-1.0, 1.0)
    d1 = sp.diff(expr, x)
    _close(dualml.derivative(lambda t: f([t]), x0), _ref(d1, [x], [x0]))
    _close(calculus.gradient(f, [x0]), [_ref(d1, [x], [x0])])
    _close(calculus.hessian(f, [x0]), [[_ref(sp.diff(d1, x), [x], [x0])]], rtol=1e-10)


@pytest.mark.parametrize("seed", range(16))
def test_random_expressions_several_variables(seed):
    rng = random.Random(100 + seed)
    syms = sp.symbols("x0:3")
    expr, f = _random_tree(rng, 3, 4)
    point = [rng.uniform(-1.0, 1.0) for _ in syms]
    grad_ref = [_ref(sp.diff(expr, s), syms, point) for s in syms]
    value, grad = calculus.value_and_gradient(f, point)
    _close(value, _ref(expr, syms, point))
    _close(grad, grad_ref)
    _close(calculus.gradient(f, np.array(point)), grad_ref)
    for i in range(3):
        _close(calculus.partial(f, point, i), grad_ref[i])
    v = [0.5, -1.0, 2.0]
    _, jv = calculus.jvp(f, point, v)
    _close(jv, sum(g * vi for g, vi in zip(grad_ref, v)), rtol=1e-10)
    if seed < 6:        # the symbolic Hessian is the slow part
        H_ref = [[_ref(sp.diff(expr, a, b), syms, point) for b in syms] for a in syms]
        H = calculus.hessian(f, point)
        _close(H, H_ref, rtol=1e-10)
        assert np.array_equal(H, H.T)


# -- a catalog of classic test functions ---------------------------------------------------

def rosenbrock(x):
    return sum(100.0 * (x[i + 1] - x[i] ** 2) ** 2 + (1.0 - x[i]) ** 2
               for i in range(len(x) - 1))


def rosenbrock_grad(x):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    g[:-1] += -400.0 * x[:-1] * (x[1:] - x[:-1] ** 2) - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * (x[1:] - x[:-1] ** 2)
    return g


def rosenbrock_hess(x):
    x = np.asarray(x, dtype=float)
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
        H[i + 1, i + 1] += 200.0
        H[i, i + 1] = H[i + 1, i] = -400.0 * x[i]
    return H


def test_rosenbrock_gradient_and_hessian():
    x = [-1.2, 1.0, 0.3, 0.7, -0.4, 1.1]
    _close(calculus.gradient(rosenbrock, x), rosenbrock_grad(x), rtol=1e-14)
    H = calculus.hessian(rosenbrock, x)
    _close(H, rosenbrock_hess(x), rtol=1e-14)


def test_ackley_gradient_matches_sympy():
    def ackley(v):
        a = dualml.sqrt(0.5 * (v[0] ** 2 + v[1] ** 2))
        b = 0.5 * (dualml.cos(2 * math.pi * v[0]) + dualml.cos(2 * math.pi * v[1]))
        return -20.0 * dualml.exp(-0.2 * a) - dualml.exp(b) + math.e + 20.0
    x, y = sp.symbols("x y")
    expr = (-20 * sp.exp(-sp.Rational(1, 5) * sp.sqrt((x**2 + y**2) / 2))
            - sp.exp((sp.cos(2 * sp.pi * x) + sp.cos(2 * sp.pi * y)) / 2) + sp.E + 20)
    for p in ([0.3, -0.7], [1.5, 2.25], [-2.0, 0.1]):
        ref = [_ref(sp.diff(expr, s), (x, y), p) for s in (x, y)]
        # 2*pi*x is rounded to double before cos; that is the only difference
        _close(calculus.gradient(ackley, p), ref, rtol=1e-13)


def chebyquad(x):
    n = len(x)
    out = []
    for i in range(1, n + 1):
        s = 0.0
        for xj in x:
            y = 2.0 * xj - 1.0
            t0, t1 = 1.0, y
            for _ in range(i - 1):
                t0, t1 = t1, 2.0 * y * t1 - t0
            s = s + t1
        out.append(s / n + (1.0 / (i * i - 1) if i % 2 == 0 else 0.0))
    return out


def test_chebyquad_jacobian():
    from numpy.polynomial import chebyshev as C
    n = 5
    x = np.array([0.13, 0.31, 0.5, 0.64, 0.92])
    J = calculus.jacobian(chebyquad, x)
    ref = np.array([[2.0 / n * C.chebval(2 * xj - 1, C.chebder(np.eye(i + 1)[i]))
                     for xj in x] for i in range(1, n + 1)])
    assert J.shape == (n, n)
    _close(J, ref, rtol=1e-13)


def test_brown_almost_linear_jacobian():
    def brown(x):
        n, s = len(x), sum(x)
        return [x[i] + s - (n + 1.0) for i in range(n - 1)] + [math.prod(x) - 1.0]
    x = [0.5, 1.5, 0.9, 1.2]
    n = len(x)
    ref = np.eye(n) + 1.0
    ref[-1] = [math.prod(x[:j] + x[j + 1:]) for j in range(n)]
    _close(calculus.jacobian(brown, x), ref, rtol=1e-15)


def test_trigonometric_jacobian():
    def trig(x):
        n = len(x)
        c = sum(dualml.cos(xj) for xj in x)
        return [n - c + (i + 1) * (1 - dualml.cos(x[i])) - dualml.sin(x[i]) for i in range(n)]
    x = np.array([0.2, -0.4, 0.9])
    n = len(x)
    ref = np.tile(np.sin(x), (n, 1)) + np.diag(np.arange(1, n + 1) * np.sin(x) - np.cos(x))
    _close(calculus.jacobian(trig, x), ref, rtol=1e-14)


def test_neural_step_gradient_against_hand_derivation():
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    xin, target = rng.normal(size=4), rng.normal(size=3)

    def loss(w):                                # w has W's shape
        y = np.tanh(w @ xin + b)
        return 0.5 * np.sum((y - target) ** 2)
    y = np.tanh(W @ xin + b)
    ref = np.outer((y - target) * (1 - y * y), xin)
    g = calculus.gradient(loss, W)
    assert g.shape == (3, 4) and g.dtype == np.float64
    _close(g, ref, rtol=1e-14)


# -- how f sees x, and the shape of every result -----------------------------------

def test_f_receives_x_shaped_as_passed():
    seen = []

    def f(x):
        seen.append(x)
        return x[0] if not isinstance(x, np.ndarray) or x.ndim == 1 else x[0, 0]
    # chunk=1: one direction per pass (the default seeds all of them at
    # once, tests/test_multidual.py)
    calculus.gradient(f, [1.0, 2.0], chunk=1)
    assert type(seen[-1]) is list and type(seen[-1][1]) is Dual and type(seen[-1][0]) is float
    calculus.gradient(f, (1.0, 2.0))
    assert type(seen[-1]) is list
    calculus.gradient(f, np.array([[1.0, 2.0], [3.0, 4.0]]), method="scalar", chunk=1)
    assert isinstance(seen[-1], np.ndarray) and seen[-1].shape == (2, 2)
    assert seen[-1].dtype == object
    # every entry a Dual (zero tangent where not seeded), so NumPy ufuncs apply
    assert all(type(e) is Dual for e in seen[-1].flat)
    assert [e.deriv for e in seen[-1].flat] == [0.0, 0.0, 0.0, 1.0]
    calculus.gradient(f, [1, 2], chunk=1)   # ints are passed as floats
    assert type(seen[-1][0]) is float
    calculus.gradient(lambda x: seen.append(x) or x * 2, 3.0)
    assert type(seen[-1]) is Dual


@pytest.mark.parametrize("method", ["scalar", "auto"])
def test_result_shapes(method):
    def f(x):
        return sum(e * e for e in np.asarray(x, dtype=object).ravel()) if type(x) is list \
            else (x * x).sum()

    def F(x):
        return [e * 3.0 for e in np.asarray(x, dtype=object).ravel()[:2]] if type(x) is list \
            else x.reshape(-1)[:2] * 3.0
    for x in ([1.0, 2.0, 3.0], np.ones((2, 3)), [[1.0, 2.0], [3.0, 4.0]], np.ones(4)):
        shape = np.shape(x)
        g = calculus.gradient(f, x, method=method)
        assert g.shape == shape and np.array_equal(g, 2 * np.asarray(x))
        assert calculus.value_and_gradient(f, x, method=method)[1].shape == shape
        H = calculus.hessian(f, x, method=method)
        assert H.shape == shape + shape and np.array_equal(H.reshape(g.size, g.size),
                                                           2 * np.eye(g.size))
        J = calculus.jacobian(F, x, method=method)
        assert J.shape == (2,) + shape and J.reshape(2, -1)[1, 1] == 3.0
        assert calculus.value_and_jacobian(F, x, method=method)[0].shape == (2,)
        assert calculus.jvp(F, x, np.ones(shape), method=method)[1].shape == (2,)
    # scalar x: scalars out, like derivative
    assert calculus.gradient(lambda t: t**3, 2.0) == 12.0
    assert calculus.hessian(lambda t: t**3, 2.0) == 12.0
    J = calculus.jacobian(lambda t: [t, t * t], 2.0)
    assert J.shape == (2,) and list(J) == [1.0, 4.0]
    # a matrix-valued f of a matrix: J[i, j, k, l] = dF_ij/dX_kl
    X = np.arange(4.0).reshape(2, 2)
    J = calculus.jacobian(lambda A: A @ A, X)
    ref = np.einsum("ik,lj->ijkl", np.eye(2), X) + np.einsum("ik,jl->ijkl", X, np.eye(2))
    assert J.shape == (2, 2, 2, 2)
    _close(J, ref)


def test_jacobian_entry_convention():
    J = calculus.jacobian(lambda x: [x[0] ** 2 * x[1], 5 * x[0] + dualml.sin(x[1])], [1.0, 2.0])
    _close(J, [[4.0, 1.0], [5.0, math.cos(2.0)]])       # J[i, j] = df_i/dx_j


def test_value_and_variants_use_the_same_evaluations():
    calls = []

    def f(x):
        calls.append(1)
        return x[0] * dualml.exp(x[1])
    for chunk, passes in ((1, 2), (None, 1)):       # n = 2: one pass by default
        calls.clear()
        v, g = calculus.value_and_gradient(f, [2.0, 0.5], chunk=chunk)
        assert len(calls) == passes
        _close(v, 2 * math.exp(0.5))
        _close(g, [math.exp(0.5), 2 * math.exp(0.5)])
        calls.clear()
        v, J = calculus.value_and_jacobian(lambda x: calls.append(1) or [x[0] * x[1], x[1]],
                                           [2.0, 3.0], chunk=chunk)
        assert len(calls) == passes and list(v) == [6.0, 3.0]
        assert J.tolist() == [[3.0, 2.0], [0.0, 1.0]]
    calls.clear()
    v, jv = calculus.jvp(lambda x: calls.append(1) or [x[0] * x[1], x[1] ** 2],
                         [2.0, 3.0], [1.0, 0.5])
    assert len(calls) == 1 and list(v) == [6.0, 9.0] and list(jv) == [4.0, 3.0]
    calls.clear()
    assert calculus.value_and_derivative(lambda t: calls.append(1) or t**3, 2.0) == (8.0, 12.0)
    assert len(calls) == 1
    calls.clear()
    calculus.hessian(lambda x: calls.append(1) or x[0] * x[1] * x[2], [1.0, 2.0, 3.0], chunk=1)
    assert len(calls) == 6                                  # n(n+1)/2
    calls.clear()
    calculus.hessian(lambda x: calls.append(1) or x[0] * x[1] * x[2], [1.0, 2.0, 3.0])
    assert len(calls) == 3                      # n: the outer level in one pass


def test_value_and_derivative_vector_output():
    v, d = calculus.value_and_derivative(lambda t: [t * t, 3.0, dualml.sin(t)], 0.5)
    _close(v, [0.25, 3.0, math.sin(0.5)])
    _close(d, [1.0, 0.0, math.cos(0.5)])


def test_partial_indices():
    A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    f = lambda M: M[0, 1] * M[1, 2] ** 2                    # noqa: E731
    assert calculus.partial(f, A, (0, 1)) == 36.0
    assert calculus.partial(f, A, (1, 2)) == 24.0
    assert calculus.partial(f, A, (-1, -1)) == 24.0
    assert calculus.partial(f, A, (0, 0)) == 0.0
    assert calculus.partial(lambda x: x[0] * x[2], [2.0, 5.0, 7.0], -1) == 2.0
    assert calculus.partial(lambda x: x[0] * x[2], [2.0, 5.0, 7.0], np.int64(0)) == 7.0
    _close(calculus.partial(lambda x: [x[0] * x[1], x[1]], [2.0, 5.0], 1), [2.0, 1.0])


@pytest.mark.parametrize("i", [3, -4, (0, 0), (5,)])
def test_partial_index_out_of_range(i):
    with pytest.raises(IndexError, match="partial"):
        calculus.partial(lambda x: x[0], [1.0, 2.0, 3.0], i)


def test_partial_index_type():
    with pytest.raises(TypeError, match="i must be"):
        calculus.partial(lambda x: x[0], [1.0, 2.0], 0.5)


def test_f_may_return_plain_numbers():
    assert calculus.gradient(lambda x: 3.0, [1.0, 2.0]).tolist() == [0.0, 0.0]
    assert calculus.gradient(lambda x: 3, np.ones((2, 2))).shape == (2, 2)
    _close(calculus.jacobian(lambda x: [x[0], 2, np.float64(1.5)], [1.0, 2.0]),
           [[1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])
    assert calculus.jacobian(lambda x: np.zeros(3), [1.0, 2.0]).tolist() == [[0.0] * 2] * 3
    assert calculus.hessian(lambda x: x[0], [1.0, 2.0]).tolist() == [[0.0, 0.0], [0.0, 0.0]]
    assert calculus.jvp(lambda x: 1.0, [1.0], [1.0]) == (1.0, 0.0)


def test_python_control_flow_in_f():
    def f(x):
        s = 0.0
        for xi in x:
            s = s + (xi * xi if xi > 0 else -xi)
        return max(s, 0.5)
    _close(calculus.gradient(f, [1.5, -2.0, 3.0]), [3.0, -1.0, 6.0])


def test_args_are_passed_like_scipy():
    f = lambda x, a, b: a * x[0] ** 2 + b * x[1]              # noqa: E731
    assert calculus.gradient(f, [1.0, 1.0], (3.0, 4.0)).tolist() == [6.0, 4.0]
    assert calculus.hessian(f, [1.0, 1.0], args=(3.0, 4.0)).tolist() == [[6.0, 0.0], [0.0, 0.0]]
    assert calculus.partial(f, [1.0, 1.0], 1, (3.0, 4.0)) == 4.0
    assert calculus.jvp(f, [1.0, 1.0], [1.0, 1.0], (3.0, 4.0))[1] == 10.0
    assert calculus.jacobian(lambda x, a: [a * x[0]], [1.0], args=(2.0,)).tolist() == [[2.0]]
    assert calculus.value_and_derivative(lambda t, a: a * t, 1.0, (5.0,)) == (5.0, 5.0)
    assert calculus.gradient(lambda x, a: a * x[0], [1.0], 7.0).tolist() == [7.0]   # one arg


def test_empty_x_gives_empty_results():
    assert calculus.gradient(lambda x: 1.0, []).shape == (0,)
    assert calculus.gradient(lambda x: 1.0, np.zeros((0, 3))).shape == (0, 3)
    assert calculus.value_and_gradient(lambda x: 2.0, [])[0] == 2.0
    assert calculus.jacobian(lambda x: [1.0, 2.0], []).shape == (2, 0)
    assert calculus.hessian(lambda x: 1.0, np.zeros(0)).shape == (0, 0)
    assert calculus.jvp(lambda x: [1.0], [], [])[1].shape == (1,)


# -- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["text", None, {"a": 1}])
@pytest.mark.parametrize("fn", ["gradient", "jacobian", "hessian", "partial", "jvp",
                                "value_and_gradient", "value_and_jacobian"])
def test_bad_result_of_f(fn, bad):
    x = [1.0, 2.0]
    call = {"partial": lambda f: calculus.partial(f, x, 0),
            "jvp": lambda f: calculus.jvp(f, x, [1.0, 1.0])}.get(
        fn, lambda f: getattr(calculus, fn)(f, x))
    with pytest.raises(TypeError, match=f"f returned {type(bad).__name__}"):
        call(lambda v: bad)


def test_bad_result_of_f_scalar_point():
    with pytest.raises(TypeError, match="f returned NoneType"):
        calculus.value_and_derivative(lambda t: None, 1.0)
    with pytest.raises(TypeError, match="f returned str"):
        dualml.derivative(lambda t: "x", 1.0)


def test_gradient_of_vector_function_points_to_jacobian():
    with pytest.raises(TypeError, match="jacobian"):
        calculus.gradient(lambda x: [x[0], x[1]], [1.0, 2.0])
    with pytest.raises(TypeError, match="jacobian"):
        calculus.hessian(lambda x: np.array([x[0], x[1]]), [1.0, 2.0])


def test_zero_dim_array_result_is_a_scalar():
    g = calculus.gradient(lambda x: np.asarray(x[0] * 3.0, dtype=object), [1.0])
    assert g.tolist() == [3.0]


@pytest.mark.parametrize("x", ["abc", None, {"a": 1.0}, [1.0, "a"], np.array(["a", "b"]),
                               [1.0, None], 1 + 2j, np.array([1 + 1j]), [1.0, 2j]])
def test_non_numeric_x(x):
    for fn in (calculus.gradient, calculus.jacobian, calculus.hessian):
        with pytest.raises(TypeError, match=r"x must|real"):
            fn(lambda v: 1.0, x)


def test_ragged_x():
    with pytest.raises(ValueError, match="ragged"):
        calculus.gradient(lambda v: 1.0, [[1.0, 2.0], [3.0]])


def test_derivative_with_array_points_to_gradient():
    with pytest.raises(TypeError, match="gradient"):
        dualml.derivative(lambda x: x[0], [1.0, 2.0])
    with pytest.raises(TypeError, match="jacobian"):
        calculus.value_and_derivative(lambda x: x[0], np.ones(2))


def test_float_and_math_module_inside_f_raise_the_core_error():
    with pytest.raises(TypeError, match="dualml.exp"):
        calculus.gradient(lambda x: math.exp(x[0]), [1.0])
    with pytest.raises(TypeError, match="d.value"):
        calculus.jacobian(lambda x: [float(x[0])], [1.0])


def test_shape_changing_f():
    n = [0]

    def f(x):
        n[0] += 1
        return [x[0]] * n[0]
    # (chunk=1: two passes, so f can change its shape between them)
    with pytest.raises(ValueError, match="different shapes"):
        calculus.jacobian(f, [1.0, 2.0], chunk=1)
    with pytest.raises(ValueError, match="different shapes"):
        calculus.jacobian(lambda x: x[0] if x[0] == 1.0 and type(x[0]) is Dual else [x[0]],
                          [1.0, 2.0], chunk=1)


def test_other_bad_arguments():
    with pytest.raises(TypeError, match="callable"):
        calculus.gradient("f", [1.0])
    with pytest.raises(ValueError, match="method"):
        calculus.gradient(lambda x: x[0], [1.0], method="fast")
    with pytest.raises(ValueError, match="chunk"):
        calculus.jacobian(lambda x: x[0], [1.0], chunk=0)
    with pytest.raises(ValueError, match="v must have the shape of x"):
        calculus.jvp(lambda x: x[0], [1.0, 2.0], [1.0])


@pytest.mark.parametrize("method", ["scalar", "array"])
def test_jvp_errors_about_v_name_v(method):
    # a missing or non-numeric direction was blamed on x
    with pytest.raises(TypeError, match=r"jvp\(\): v, the direction, is None"):
        calculus.jvp(lambda x: x[0], np.array([1.0, 2.0]), None, method=method)
    with pytest.raises(TypeError, match=r"jvp\(\): v must"):
        calculus.jvp(lambda x: x[0], np.array([1.0, 2.0]), ["a", "b"], method=method)


# -- the array-backend hook ----------------------------------------------------------------

def test_method_array_without_backend_is_a_clear_error():
    if calculus._array_backend() is None:
        with pytest.raises(ValueError, match="array backend"):
            calculus.gradient(lambda x: x[0], np.ones(2), method="array")
    else:                                                   # the backend is installed
        _close(calculus.gradient(lambda x: 2.0 * x[0], np.ones(2), method="array"), [2.0, 0.0])


def test_method_routes_real_ndarrays_to_the_backend(monkeypatch):
    calls = []
    fake = types.SimpleNamespace()
    for name in ("gradient", "jacobian", "hessian", "value_and_gradient", "value_and_jacobian"):
        setattr(fake, name, lambda f, x, args, chunk, name=name: calls.append((name, args, chunk)))
    fake.jvp = lambda f, x, v, args: calls.append(("jvp", args, None))
    monkeypatch.setattr(calculus, "_BACKEND", [fake])
    f = lambda x, a=1.0: a * x[0]                         # noqa: E731
    calculus.gradient(f, np.ones(3), (2.0,), chunk=2)
    calculus.jacobian(f, np.ones(3), method="array")
    calculus.hessian(f, np.ones(3), chunk=1)
    calculus.jvp(f, np.ones(3), np.ones(3))
    calculus.value_and_gradient(f, np.ones(3))
    calculus.value_and_jacobian(f, np.ones(3))
    assert calls == [("gradient", (2.0,), 2), ("jacobian", (), None), ("hessian", (), 1),
                     ("jvp", (), None), ("value_and_gradient", (), None),
                     ("value_and_jacobian", (), None)]
    # lists, object arrays and method="scalar" stay on the scalar path
    assert calculus.gradient(f, [1.0, 1.0]).tolist() == [1.0, 0.0]
    assert calculus.gradient(f, np.ones(2, dtype=object)).tolist() == [1.0, 0.0]
    assert calculus.gradient(f, np.ones(2), method="scalar").tolist() == [1.0, 0.0]
    assert len(calls) == 6


def test_broken_backend_is_not_hidden(monkeypatch):
    # A backend that exists but fails to import (a missing dependency of its
    # own) must not silently fall back to the scalar path.
    def failing_import(name):
        raise ModuleNotFoundError("No module named 'somedep'", name="somedep")
    monkeypatch.setattr(calculus, "_BACKEND", [])
    monkeypatch.setattr(calculus.importlib, "import_module", failing_import)
    with pytest.raises(ModuleNotFoundError, match="somedep"):
        calculus._array_backend()
    monkeypatch.setattr(calculus, "_BACKEND", [])


def test_missing_backend_means_scalar_path(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    monkeypatch.setattr(calculus, "_BACKEND", [])
    monkeypatch.setattr(calculus.importlib, "import_module", missing)
    assert calculus._array_backend() is None
    assert calculus.gradient(lambda x: x[0] * x[1], np.array([2.0, 3.0])).tolist() == [3.0, 2.0]
    with pytest.raises(ValueError, match="array backend"):
        calculus.gradient(lambda x: x[0], np.ones(2), method="array")
    monkeypatch.setattr(calculus, "_BACKEND", [])


# -- transforms with SciPy -----------------------------------------------------------------

def test_grad_and_hess_with_scipy_minimize():
    from scipy.optimize import minimize
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])
    res = minimize(rosenbrock, x0, jac=dualml.grad(rosenbrock), method="BFGS",
                   options={"gtol": 1e-10})
    assert res.success and np.allclose(res.x, 1.0, atol=1e-6)
    res = minimize(rosenbrock, x0, jac=dualml.grad(rosenbrock), hess=dualml.hess(rosenbrock),
                   method="Newton-CG", options={"xtol": 1e-12})
    assert res.success and np.allclose(res.x, 1.0, atol=1e-6)
    assert res.nhev > 0


def test_transforms_pass_scipy_args():
    from scipy.optimize import minimize
    f = lambda x, c: (x[0] - c) ** 2 + 3 * (x[1] + c) ** 2 + (x[0] * x[1] + c * c) ** 2  # noqa
    res = minimize(f, np.zeros(2), args=(1.5,), jac=dualml.grad(f), hess=dualml.hess(f),
                   method="trust-exact")
    assert np.allclose(res.x, [1.5, -1.5], atol=1e-8)
    g = dualml.grad(f)
    # analytic: (2(x0-c) + 2 x1 (x0 x1 + c^2), 6(x1+c) + 2 x0 (x0 x1 + c^2))
    assert g(np.array([1.0, 0.0]), 1.5).tolist() == [-1.0, 9.0 + 4.5]
    assert "grad" in g.__name__ and g.__wrapped__ is f


def test_jac_with_least_squares_and_root():
    from scipy.optimize import least_squares, root
    t = np.linspace(0.0, 2.0, 8)
    y = 2.5 * np.exp(-1.3 * t) + 0.5

    def residuals(p, t, y):
        return [p[0] * dualml.exp(-p[1] * ti) + p[2] - yi for ti, yi in zip(t, y)]
    J = dualml.jac(residuals)(np.array([1.0, 1.0, 0.0]), t, y)
    ref = np.stack([np.exp(-t), -t * np.exp(-t), np.ones_like(t)], axis=1)
    assert J.shape == (8, 3)
    _close(J, ref, rtol=1e-15)
    res = least_squares(residuals, [1.0, 1.0, 0.0], jac=dualml.jac(residuals), args=(t, y))
    assert np.allclose(res.x, [2.5, 1.3, 0.5], atol=1e-8)

    def F(x):
        return [x[0] + 0.5 * (x[0] - x[1]) ** 3 - 1.0, 0.5 * (x[1] - x[0]) ** 3 + x[1]]
    sol = root(F, np.zeros(2), jac=dualml.jac(F), method="hybr")
    assert sol.success and np.allclose(F(sol.x), 0.0, atol=1e-12)


def test_public_names_and_docstrings():
    for name in calculus.__all__:
        obj = getattr(dualml, name)
        assert obj is getattr(calculus, name)
        assert "Examples" in obj.__doc__, name
    for name in ("jacobian", "value_and_jacobian"):
        assert "J[i, j] = ∂f_i/∂x_j" in getattr(calculus, name).__doc__


def test_partial_on_an_ndarray_takes_the_array_path():
    # np.linalg.solve has no object-dtype loop: partial must pass a DualArray
    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    f = lambda x: np.linalg.solve(A, x).sum()
    expect = np.linalg.solve(A.T, np.ones(2))          # d/dx sum(A^-1 x) = A^-T 1
    for i in range(2):
        assert dualml.partial(f, np.ones(2), i) == pytest.approx(expect[i], rel=1e-15)


def test_derivative_takes_one_extra_argument_as_gradient_does():
    # d/dx (x * a)^2 = 2 a^2 x; args=5 means (5,), as in gradient and SciPy
    assert dualml.derivative(lambda x, a: (x * a) ** 2, 3.0, args=5) == 150.0
    assert dualml.gradient(lambda x, a: (x[0] * a) ** 2, [3.0], args=5)[0] == 150.0
    assert dualml.derivative(lambda x, a: x + a, 3.0, args=0) == 1.0     # a falsy argument
