"""The multi-partial scalar Dual (_MultiDual) and chunk= on the scalar path.

A chunked gradient/jacobian pass carries k partials per Dual (dual.pyx.tp,
_functions.pxi.tp; docs/multi-partial-dual.md).  Checked here:

* the whole rule table at k in {1, 3, 12}: tests/test_rules.py's checks
  against tests/reference.py run with every Dual replaced by a multi whose
  tangents are the Dual's times a seed pattern (1, -1, 0, ...); partial 0
  is compared with the reference, and every partial i must equal seed_i
  times partial 0 (so each is the reference derivative times its seed; a
  zero seed gives exactly 0, even at infinite slopes);
* chunk=c results equal chunk=1 results with == (W7-like and random
  expressions), the key invariant;
* tags and nesting (ForwardDiff's ConfusionTest), escaped Duals, refusals.
"""
import math
import pickle
import random

import numpy as np
import pytest
import reference as R
import test_rules as TR

import dualml
from dualml import Dual, calculus
from dualml.dual import _chunk_size, _MultiDual, _NestedDual, _new_tag, _seed, _tag_of

KS = (1, 3, 12)
_PATTERN = (1.0, -1.0, 0.0)


def _seeds(k):
    return tuple(_PATTERN[i % 3] for i in range(k))


class _Multis:
    """Turns the plain Duals a test_rules check passes into multis of one
    tag with k partials (tangent d becomes d * seed_i), and the multi result
    back into a plain Dual holding partial 0, after checking the others."""

    def __init__(self, k):
        self.k, self.seeds, self.failures = k, _seeds(k), []

    def to_multi(self, tag, v):
        if type(v) is not Dual:
            return v
        return _seed(tag, v.value, tuple(v.deriv * s for s in self.seeds))

    def view(self, r, label):
        if type(r) is not _MultiDual or len(r.deriv) != self.k:
            self.failures.append(f"{label}: returned {r!r}, not a multi with {self.k} partials")
            return r
        d = r.deriv
        for i, s in enumerate(self.seeds):
            want = s * d[0] if s != 0.0 else 0.0
            ok = d[i] == want or (math.isnan(want) and math.isnan(d[i]))
            if s == 0.0 and math.isnan(r.value):
                ok = True           # a nan value: the zero-tangent rule is moot
            if not ok:
                self.failures.append(f"{label}: partial {i} (seed {s}) is {d[i]!r}, "
                                     f"expected {want!r}")
        return Dual(r.value, d[0])

    def call(self, u, arg, alpha, fn=None):
        tag = _new_tag()
        f = fn if fn is not None else getattr(dualml, u.name)
        m = self.to_multi(tag, arg)
        r = f(m) if (fn is not None or alpha is None) else f(m, alpha)
        return self.view(r, f"{u.name}({arg!r})")

    def binary_callers(self, plain):
        def wrap(label, f):
            def g(a, b):
                tag = _new_tag()
                return self.view(f(self.to_multi(tag, a), self.to_multi(tag, b)),
                                 f"{label}({a!r}, {b!r})")
            return label, g
        return lambda bf: [wrap(label, f) for label, f in plain(bf)]


@pytest.fixture(params=KS, ids=lambda k: f"k={k}")
def multis(request, monkeypatch):
    m = _Multis(request.param)
    monkeypatch.setattr(TR, "_call", m.call)
    monkeypatch.setattr(TR, "_binary_callers", m.binary_callers(TR._binary_callers))
    yield m
    TR.check(m.failures)


UNARY_TESTS = (TR.test_unary_against_reference, TR.test_unary_edges_and_kinks,
               TR.test_unary_infinities, TR.test_unary_nan, TR.test_unary_zero_tangent)


@pytest.mark.parametrize("name", TR.UNARY_NAMES)
def test_unary_table_with_k_partials(name, multis):
    for test in UNARY_TESTS:
        if test is TR.test_unary_edges_and_kinks and not R.UNARY[name].edges:
            continue
        test(name)


@pytest.mark.parametrize("name", TR.BINARY_NAMES)
def test_binary_table_with_k_partials(name, multis):
    # the three bodies: multi-multi (d/da+d/db), multi-constant, constant-multi,
    # through the function, NumPy's ufunc and the operator (np.float64 constants too)
    TR.test_binary_against_reference(name)
    TR.test_binary_conventions_and_limits(name)
    TR.test_binary_zero_tangent(name)


def test_walk_really_used_multis():
    # the fixture's wrappers are what test_rules calls: a broken one fails
    m = _Multis(3)
    r = m.call(R.UNARY["sin"], Dual(0.5, 1.0), None)
    assert type(r) is Dual and r.deriv == math.cos(0.5) and not m.failures
    m.view(_seed(_new_tag(), 1.0, (2.0, 2.0, 0.0)), "x")
    assert m.failures        # partial 1 should have been -2.0


# -- chunk=c equals chunk=1 --------------------------------------------------------

def _w7(x):
    s = 0.0
    for i in range(len(x) - 1):
        s = s + 100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2 \
            + dualml.sin(x[i]) * dualml.exp(-x[i + 1])
    return s


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("n", [1, 2, 10, 13, 30])
def test_w7_chunked_equals_one_direction_per_pass(n):
    x = np.random.default_rng(n).uniform(-1.0, 1.5, n).tolist()
    v1, g1 = calculus.value_and_gradient(_w7, x, chunk=1)
    for c in (2, 3, 5, 12, None, 50):
        v, g = calculus.value_and_gradient(_w7, x, chunk=c)
        assert v == v1 and _same(g, g1), c
    # and against the closed form (ref_w7 of the benchmarks, written out)
    ref = np.zeros(n)
    for i in range(n - 1):
        u, e = x[i + 1] - x[i] ** 2, math.exp(-x[i + 1])
        ref[i] += -400 * x[i] * u - 2 * (1 - x[i]) + math.cos(x[i]) * e
        ref[i + 1] += 200 * u - math.sin(x[i]) * e
    np.testing.assert_allclose(g1, ref, rtol=1e-12, atol=1e-12)


# the whole table: domain errors give nan, compared as equal
_UN = sorted(dualml._rules.UNARY)
_BIN = sorted(dualml._rules.BINARY)


def _random_expr(rng, n, depth):
    """A random expression over x[0..n-1] and constants, as a function of x."""
    if depth == 0 or rng.random() < 0.2:
        if rng.random() < 0.3:
            c = rng.choice([2.0, -0.5, 3, np.float64(1.5), 0.0, 1e-300])
            return lambda x, c=c: c
        i = rng.randrange(n)
        return lambda x, i=i: x[i]
    if rng.random() < 0.4:
        f = getattr(dualml, rng.choice(_UN))
        a = _random_expr(rng, n, depth - 1)
        return lambda x, f=f, a=a: f(a(x))
    f = getattr(dualml, rng.choice(_BIN))
    a, b = _random_expr(rng, n, depth - 1), _random_expr(rng, n, depth - 1)
    return lambda x, f=f, a=a, b=b: f(a(x), b(x))


@pytest.mark.parametrize("seed", range(40))
def test_random_expressions_chunked_equal_chunk_1(seed):
    rng = random.Random(seed)
    n = rng.choice([2, 3, 5, 7, 14])
    exprs = [_random_expr(rng, n, 5) for _ in range(3)]
    x = [rng.uniform(-2.0, 2.0) for _ in range(n)]
    if seed % 5 == 0:
        x[0] = 0.0                  # kinks and zero values
    with np.errstate(all="ignore"):
        g1 = calculus.gradient(exprs[0], x, chunk=1)
        J1 = calculus.jacobian(lambda x: [e(x) for e in exprs], x, chunk=1)
        for c in (2, 3, None):
            assert _same(calculus.gradient(exprs[0], x, chunk=c), g1), c
            assert _same(calculus.jacobian(lambda x: [e(x) for e in exprs], x, chunk=c), J1)


def test_object_array_point_chunked_equals_chunk_1():
    # method="scalar" on an ndarray: zero-tangent multis of the same k
    def f(x):
        return [np.sum(np.exp(x) * x[::-1, ::-1]), np.tanh(x[0, 1]) * 2.0]
    x = np.array([[0.1, 0.5, -0.3], [1.2, -0.7, 0.4]])
    J1 = calculus.jacobian(f, x, method="scalar", chunk=1)
    for c in (2, 4, None):
        assert _same(calculus.jacobian(f, x, method="scalar", chunk=c), J1)
    seen = []
    calculus.gradient(lambda x: seen.append(x) or np.sum(x), x, method="scalar")
    assert all(type(e) is _MultiDual and len(e.deriv) == 6 for e in seen[-1].flat)


def test_chunked_results_of_every_layout():
    # scalar x, tuple x, nested lists, constant entries, mixed results
    assert calculus.gradient(lambda t: t ** 3, 2.0) == 12.0
    assert _same(calculus.gradient(lambda x: x[0] * x[1], (3.0, 2.0)), np.array([2.0, 3.0]))
    J = calculus.jacobian(lambda x: np.array([x[0][1] * x[1][0], 7.0], dtype=object),
                          [[1.0, 2.0], [3.0, 4.0]])
    assert J.shape == (2, 2, 2)
    assert J.tolist() == [[[0.0, 3.0], [2.0, 0.0]], [[0.0, 0.0], [0.0, 0.0]]]
    v, J = calculus.value_and_jacobian(lambda x: (x[0] * 2, x[1] - x[0], 1), [1.0, 5.0])
    assert v.tolist() == [2.0, 4.0, 1.0] and J.tolist() == [[2.0, 0.0], [-1.0, 1.0], [0, 0]]


def test_default_chunk_rule_and_pass_counts():
    assert [_chunk_size(None, n) for n in (1, 5, 12, 13, 24, 25, 100)] == \
        [1, 5, 12, 7, 12, 9, 12]
    assert _chunk_size(50, 10) == 10 and _chunk_size(50, 40) == 12
    for n, chunk, passes in ((10, None, 1), (25, None, 3), (10, 1, 10), (10, 4, 3)):
        calls = []
        calculus.gradient(lambda x, calls=calls: calls.append(1) or sum(x), [1.0] * n,
                          chunk=chunk)
        assert len(calls) == passes
    with pytest.raises(ValueError, match="chunk"):
        calculus.gradient(sum, [1.0, 2.0], chunk=0)


def test_partial_jvp_derivative_stay_one_direction():
    seen = []
    calculus.partial(lambda x: seen.append(x[0]) or x[0], [1.0, 2.0], 0)
    calculus.jvp(lambda x: seen.append(x[0]) or x[0], [1.0, 2.0], [1.0, 1.0])
    dualml.derivative(lambda t: seen.append(t) or t, 1.0)
    assert [type(s) for s in seen] == [Dual, Dual, Dual]


# -- tags and nesting (ForwardDiff's ConfusionTest) -----------------------------------

CHUNKS = [(1, 1), (1, None), (None, 1), (None, None), (2, 3)]


@pytest.mark.parametrize("outer,inner", CHUNKS)
def test_confusion_captured_x(outer, inner):
    # d/dx [x * d/dy (x + y)] = 1 with x captured in the inner function: a
    # confused tag would make the inner derivative see x's perturbation
    def g(x):
        d = calculus.gradient(lambda y: x[0] + y[0] + x[1] * y[1], [1.0, 2.0], chunk=inner)
        return x[0] * (d[0] + d[1])
    # = x0 * (1 + x1) -> (1 + x1, x0)
    got = calculus.gradient(g, [3.0, 5.0], chunk=outer)
    assert got.tolist() == [6.0, 3.0]


@pytest.mark.parametrize("outer,inner", CHUNKS)
def test_nested_gradient_closed_form(outer, inner):
    # h(x, y) = x0 y0 y1 + x1 sin(y0); grad_y h = (x0 y1 + x1 cos y0, x0 y0)
    # F(x) = sum(grad_y h) at y = (0.7, -1.2): grad F = (y1 + y0, cos y0)
    y0 = [0.7, -1.2]

    def F(x):
        gy = calculus.gradient(lambda y: x[0] * y[0] * y[1] + x[1] * dualml.sin(y[0]), y0,
                               chunk=inner)
        return gy[0] + gy[1]
    got = calculus.gradient(F, [2.0, -3.0, 4.0][:2], chunk=outer)
    np.testing.assert_allclose(got, [y0[1] + y0[0], math.cos(y0[0])], rtol=1e-15)
    # and the Jacobian of the inner gradient w.r.t. the outer point
    J = calculus.jacobian(
        lambda x: calculus.gradient(lambda y: x[0] * y[0] * y[1] + x[1] * dualml.sin(y[0]),
                                    y0, chunk=inner), [2.0, -3.0], chunk=outer)
    np.testing.assert_allclose(J, [[y0[1], math.cos(y0[0])], [y0[0], 0.0]], rtol=1e-15)


@pytest.mark.parametrize("outer,inner", CHUNKS)
def test_gradient_of_gradient_is_the_hessian(outer, inner):
    def f(x):
        return x[0] ** 2 * x[1] + dualml.exp(x[1] * x[2]) + x[2] ** 3
    x = [1.0, 0.5, -0.25]
    H = calculus.jacobian(lambda y: calculus.gradient(f, y, chunk=inner), x, chunk=outer)
    e = math.exp(x[1] * x[2])
    ref = [[2 * x[1], 2 * x[0], 0.0],
           [2 * x[0], x[2] ** 2 * e, e + x[1] * x[2] * e],
           [0.0, e + x[1] * x[2] * e, x[1] ** 2 * e + 6 * x[2]]]
    np.testing.assert_allclose(H, ref, rtol=1e-15)
    np.testing.assert_allclose(calculus.hessian(f, x), ref, rtol=1e-15)
    assert (calculus.hessian(f, x) == calculus.hessian(f, x).T).all()


def test_mixed_tags_in_one_expression():
    # an outer multi (tag t1) meets an inner multi (t2 > t1) and a plain Dual
    t1, t2 = _new_tag(), _new_tag()
    a = _seed(t1, 2.0, (1.0, 0.0, 3.0))
    b = _seed(t2, 5.0, (0.0, 1.0))
    r = a * b                               # a is a constant to t2
    assert type(r) is _NestedDual and _tag_of(r) == t2
    assert r.value.deriv == (5.0, 0.0, 15.0) and r.deriv[0] == 0.0
    assert r.deriv[1].value == 2.0 and r.deriv[1].deriv == (1.0, 0.0, 3.0)
    s = dualml.sin(r) + Dual(1.0, 7.0)      # a user Dual (tag 1): a constant to both
    assert _tag_of(s) == t2 and _tag_of(s.value) == t1
    np.testing.assert_allclose(s.value.deriv, np.array([1.0, 0.0, 3.0]) * 5 * math.cos(10.0))


def test_escaped_inner_multi_is_an_error():
    leaked = []

    def f(x):
        calculus.gradient(lambda y: leaked.append(y[0]) or y[0] * y[1], [1.0, 2.0])
        return x[0] * leaked[-1]
    for fn in (calculus.gradient, calculus.jacobian):
        for chunk in (1, None):
            with pytest.raises(ValueError, match="escaped"):
                fn(f, [1.0, 2.0], chunk=chunk)


def test_partials_of_another_k_are_an_error():
    t = _new_tag()
    with pytest.raises(ValueError, match="different numbers of partials"):
        _seed(t, 1.0, (1.0, 0.0)) + _seed(t, 2.0, (0.0, 1.0, 0.0))
    # f returning a Dual of the pass's tag with another number of partials
    # (made by hand here): an error, never a truncated or repeated partial
    for fake, msg in (((1.0,), "1 partials where 2"), (1.0, "one partial where 2")):
        with pytest.raises(ValueError, match=msg):
            calculus.gradient(lambda x, fake=fake: _seed(_tag_of(x[0]), 1.0, fake), [1.0, 2.0])


def test_k_is_bounded_at_construction():
    t = _new_tag()
    with pytest.raises(ValueError, match="1 to 12 partials"):
        _seed(t, 1.0, (0.0,) * 13)
    with pytest.raises(ValueError, match="1 to 12 partials"):
        _seed(t, 1.0, ())
    m = _seed(t, 1.0, (0.5,) * 12)
    assert type(m) is _MultiDual and m.deriv == (0.5,) * 12


# -- no silent loss, and the Dual protocol --------------------------------------------

def _multi():
    return _seed(_new_tag(), 1.5, (1.0, 0.0, -2.0))


def test_refuses_conversions_like_dual():
    m, d = _multi(), Dual(1.5, 1.0)
    for conv in (float, complex, hash, math.sin, math.isfinite,
                 lambda v: np.array([v], dtype=float)):
        with pytest.raises(TypeError) as em:
            conv(m)
        with pytest.raises(TypeError) as ed:
            conv(d)
        assert str(em.value) == str(ed.value)
    with pytest.raises(TypeError, match="__new__"):
        _MultiDual.__new__(_MultiDual)


def test_dual_protocol():
    m = _multi()
    assert isinstance(m, Dual) and m.value == 1.5 and m.deriv == (1.0, 0.0, -2.0)
    assert m == 1.5 and m < 2 and bool(m) and int(m) == 1 and round(m) == 2
    assert repr(m).startswith("Dual(1.5, (1.0, 0.0, -2.0), tag=")
    assert format(m, ".1f") == "Dual(1.5, (1.0, 0.0, -2.0))"
    assert np.isfinite(m) and not np.signbit(m)
    r = np.exp(m)                                  # NumPy's ufunc protocol
    assert type(r) is _MultiDual and r.deriv == tuple(math.exp(1.5) * t for t in m.deriv)
    a = np.array([m, m], dtype=object) * 2.0       # object arrays
    assert a[1].deriv == (2.0, 0.0, -4.0)


def test_pickle_round_trip():
    m = _multi()
    u = pickle.loads(pickle.dumps(m))
    assert type(u) is _MultiDual and _tag_of(u) == _tag_of(m) and u.value == m.value
    assert u.deriv == m.deriv
    t2 = _new_tag()
    nested = _seed(t2, m, (1.0, m))
    v = pickle.loads(pickle.dumps(nested))
    assert type(v) is _NestedDual and _tag_of(v) == t2 and v.deriv[1].deriv == m.deriv
    with pytest.raises((TypeError, ValueError)):
        dualml.dual._rebuild(_tag_of(m), 1.0, (1.0, "x"))


def test_hessian_on_lists_stays_exact():
    def f(x):
        return x[0] ** 2 * x[1] + x[1] ** 3 + dualml.sin(x[0] * x[2])
    x = [1.0, 2.0, 0.5]
    s, c = math.sin(x[0] * x[2]), math.cos(x[0] * x[2])
    ref = [[2 * x[1] - x[2] ** 2 * s, 2 * x[0], c - x[0] * x[2] * s],
           [2 * x[0], 6 * x[1], 0.0],
           [c - x[0] * x[2] * s, 0.0, -x[0] ** 2 * s]]
    H = calculus.hessian(f, x)
    np.testing.assert_allclose(H, ref, rtol=1e-15)
    assert (H == H.T).all()


def test_dualarray_refuses_a_multi_naming_the_fix():
    d = dualml.DualArray(np.ones(2), np.ones((1, 2)))
    with pytest.raises(TypeError, match="pass chunk=1"):
        calculus.gradient(lambda x: (d * x[0]).sum(), [1.0, 2.0])
    # k = 2 partials inside a nested Dual must not pass for a (1, 2) tangent
    t1, t2 = _new_tag(), _new_tag()
    for v in (_seed(t2, _seed(t1, 1.0, (1.0, 2.0)), 1.0), _seed(t2, Dual(1.0, 0.0), (1.0, 0.0))):
        with pytest.raises(TypeError, match="pass chunk=1"):
            d * v


# -- hessian: the outer level chunked ------------------------------------------------

@pytest.mark.parametrize("n", [1, 3, 10, 14])
def test_hessian_chunked_equals_chunk_1_and_is_symmetric(n):
    x = np.random.default_rng(n).uniform(-1.0, 1.5, n).tolist()
    H1 = calculus.hessian(_w7, x, chunk=1)
    for c in (2, 5, None):
        H = calculus.hessian(_w7, x, chunk=c)
        assert _same(H, H1) and (H == H.T).all(), c
    # closed form: the chained Rosenbrock + sin(x_i) exp(-x_{i+1}) terms
    ref = np.zeros((n, n))
    for i in range(n - 1):
        a, b = x[i], x[i + 1]
        s, co, e = math.sin(a), math.cos(a), math.exp(-b)
        ref[i, i] += 1200 * a * a - 400 * b + 2 - s * e
        ref[i, i + 1] += -400 * a - co * e
        ref[i + 1, i] += -400 * a - co * e
        ref[i + 1, i + 1] += 200 + s * e
    np.testing.assert_allclose(H1, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_hessian_random_expressions_chunked_equal_chunk_1(seed):
    rng = random.Random(100 + seed)
    n = rng.choice([2, 4, 7])
    e = _random_expr(rng, n, 4)
    x = [rng.uniform(-2.0, 2.0) for _ in range(n)]
    with np.errstate(all="ignore"):
        H1 = calculus.hessian(e, x, chunk=1)
        for c in (2, None):
            assert _same(calculus.hessian(e, x, chunk=c), H1)


def test_hessian_chunked_layouts_and_nesting():
    def f(a):
        return np.sum(np.exp(a) * a[::-1, ::-1])
    x = np.array([[0.1, 0.5], [-0.3, 0.8]])
    H1 = calculus.hessian(f, x, method="scalar", chunk=1)
    assert H1.shape == (2, 2, 2, 2) and _same(calculus.hessian(f, x, method="scalar"), H1)
    g = lambda v: v[0][0] ** 2 * v[1][0] + v[0][1]
    assert _same(calculus.hessian(g, [[1.0, 2.0], [3.0, 4.0]]),
                 calculus.hessian(g, [[1.0, 2.0], [3.0, 4.0]], chunk=1))
    assert calculus.hessian(lambda t: t ** 4, 2.0) == 48.0
    # inside an outer derivative: d/ds of the Hessian of s * x0^2 x1 is the
    # Hessian of x0^2 x1
    d = dualml.derivative(lambda s: calculus.hessian(lambda v: s * v[0] ** 2 * v[1],
                                                     [1.0, 2.0]), 3.0)
    assert d.tolist() == [[4.0, 2.0], [2.0, 0.0]]
    with pytest.raises(TypeError, match="needs f to return a scalar"):
        calculus.hessian(lambda v: [v[0], v[1]], [1.0, 2.0])
    calls = []
    calculus.hessian(lambda v: calls.append(1) or sum(v), [1.0] * 20)
    assert len(calls) == 20 * 2                     # n * ceil(n / 10)
