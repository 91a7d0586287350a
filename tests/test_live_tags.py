"""Stale Duals (issue 15): a Dual from a finished differentiation, or from one
running in another thread, raises instead of counting as a constant.

Each test first shows the call that works (the true derivative, in closed
form), then the same call with a Dual kept across calls, which must raise
the stale-Dual error rather than return a silently wrong derivative.
"""
import threading

import numpy as np
import pytest

import dualml

STALE = "finished differentiation.*cached across calls"


def _cache(store, key):
    return lambda x: store.setdefault(key, x)


def test_scalar_seed_cached_across_calls():
    C = {}
    f = _cache(C, "x")
    assert dualml.derivative(f, 5.0) == 1.0         # d/dx x = 1
    with pytest.raises(ValueError, match=STALE):
        dualml.derivative(f, 5.0)                   # was 0.0


def test_cached_seed_mixed_with_the_live_one():
    C = {}
    f = lambda x: C.setdefault("x", x) * x        # noqa: E731  (x**2: 2x)
    assert dualml.derivative(f, 3.0) == 6.0
    with pytest.raises(ValueError, match=STALE):
        dualml.derivative(f, 3.0)                   # was an escaped Dual


def test_array_gradient_and_jacobian_with_a_cached_dualarray():
    C = {}
    g = lambda x: C.setdefault("x", x).sum()       # noqa: E731
    np.testing.assert_array_equal(dualml.gradient(g, np.ones(3)), np.ones(3))
    with pytest.raises(ValueError, match=STALE):
        dualml.gradient(g, np.ones(3))              # was zeros
    J = {}
    h = lambda x: J.setdefault("x", x)             # noqa: E731
    np.testing.assert_array_equal(dualml.jacobian(h, np.ones(3)), np.eye(3))
    with pytest.raises(ValueError, match=STALE):
        dualml.jacobian(h, np.ones(3))
    with pytest.raises(ValueError, match=STALE):   # stale DualArray meets a live one
        dualml.gradient(lambda x: (J["x"] * x).sum(), np.ones(3))


@pytest.mark.parametrize("n", [2, 12])             # one multi-partial pass of n partials
def test_multi_partial_gradient_of_a_list(n):
    C = {}
    f = lambda x: C.setdefault("x", x)[0] * x[1]   # noqa: E731  d/dx = (x1, x0)
    x = [float(i + 1) for i in range(n)]
    ref = np.zeros(n)
    ref[0], ref[1] = x[1], x[0]
    np.testing.assert_array_equal(dualml.gradient(f, x), ref)
    with pytest.raises(ValueError, match=STALE):
        dualml.gradient(f, x)                       # was [0, Dual]
    with pytest.raises(ValueError, match=STALE):
        dualml.hessian(lambda v: C["x"][0] * v[0] ** 2, [1.0, 2.0])


def test_array_path_seed_cached_across_passes_of_one_call():
    # chunk=2: three passes of one jacobian; f caches the first pass's DualArray
    C = {}
    f = lambda x: C.setdefault("x", x) * 1.0       # noqa: E731  (the identity)
    with pytest.raises(ValueError, match=STALE):
        dualml.jacobian(f, np.ones(6), chunk=2)     # was rows 2..5 of J zero / wrong
    np.testing.assert_array_equal(dualml.jacobian(lambda x: x * 1.0, np.ones(6), chunk=2),
                                  np.eye(6))


def test_nested_inner_seed_cached():
    C = {}

    def outer(x):
        return dualml.derivative(lambda y: C.setdefault("y", y) * x, 2.0)
    assert dualml.derivative(outer, 3.0) == 1.0     # d/dx (d/dy y x) = 1
    with pytest.raises(ValueError, match=STALE):
        dualml.derivative(outer, 3.0)               # was 0.0


def test_live_nesting_still_works():
    # an outer Dual inside an inner differentiation is a constant there, and
    # mixed-tag products are the ordinary nested case
    d = dualml.derivative
    assert d(lambda x: d(lambda y: x * y, 1.0), 2.0) == 1.0
    assert d(lambda x: d(lambda y: x * x * y * y, 1.0), 3.0) == 12.0     # d/dx 2x²y = 4xy
    g = dualml.gradient(lambda v: dualml.derivative(lambda t: v[0] * t * t, 2.0), [1.5, 0.0])
    np.testing.assert_array_equal(g, [4.0, 0.0])
    H = dualml.hessian(lambda v: (v[0] * v[1]) ** 2, np.array([1.0, 2.0]))
    np.testing.assert_allclose(H, [[8.0, 8.0], [8.0, 2.0]])


def test_dual_of_another_threads_running_differentiation():
    box, ready, done = {}, threading.Event(), threading.Event()
    result = {}

    def other():
        def f(x):
            box["x"] = x
            ready.set()
            done.wait(10)
            return x * x
        result["d"] = dualml.derivative(f, 1.5)

    th = threading.Thread(target=other)
    th.start()
    try:
        assert ready.wait(10)
        with pytest.raises(ValueError, match="another thread"):
            dualml.derivative(lambda y: box["x"] * y, 2.0)      # was an escaped Dual
        with pytest.raises(ValueError, match="another thread"):
            dualml.derivative(lambda y: box["x"], 2.0)          # was 0.0
    finally:
        done.set()
        th.join()
    assert result["d"] == 3.0                       # the other thread is unaffected


def test_threads_differentiate_independently():
    out = [None] * 4

    def work(i):
        out[i] = [dualml.gradient(lambda v: (v[0] * v[1]) ** 2 + i, [1.0, float(j)])
                  for j in range(50)]
    ths = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    for i in range(4):
        for j, g in enumerate(out[i]):
            np.testing.assert_array_equal(g, [2.0 * j * j, 2.0 * j])


def _nest(k):
    # k nested differentiations, each of x * (the inner one's derivative)
    if k == 0:
        return lambda x: x * 1.0
    return lambda x: x * dualml.derivative(_nest(k - 1), 1.0)


def test_deep_nesting_beyond_the_inline_stack():
    from dualml.dual import _live_depth
    before = _live_depth()
    assert dualml.derivative(_nest(40), 2.0) == 1.0    # 41 live tags at the bottom
    assert _live_depth() == before                      # all finished


def test_tags_outside_every_scope_stay_bounded():
    from dualml.dual import _live_depth, _new_tag, _tag_live
    tags = [_new_tag() for _ in range(1000)]            # as dualml.sparse draws them
    assert _live_depth() <= 16
    assert _tag_live(tags[-1]) and not _tag_live(tags[0])


# -- passes of one call (issue 15, stale tags (a)) ----------------------------------
# n > 12 on the scalar path is several passes of one call (chunks of at most
# 12 directions, or one direction per pass with chunk=1).  Each pass has a
# tag of its own, finished when the next begins: a Dual kept from one pass
# and returned in another raised nothing and was read as the other pass's
# directions (the gradient of x0 + x13 at n = 20 came back with a 1 at x10).

def _keep_first(store):
    # f(x) = x0 + x13, but the x0 it uses is the first pass's seed
    return lambda x: store.setdefault("x", x)[0] + x[13]


GRAD_013 = np.zeros(20)
GRAD_013[[0, 13]] = 1.0                             # d/dx (x0 + x13)


@pytest.mark.parametrize("chunk", [None, 1, 5, 12])
@pytest.mark.parametrize("as_array", [False, True])
def test_scalar_gradient_seed_cached_across_passes_of_one_call(chunk, as_array):
    x = np.arange(20.0) if as_array else [float(i) for i in range(20)]
    ok = dualml.gradient(lambda v: v[0] + v[13], x, method="scalar", chunk=chunk)
    np.testing.assert_array_equal(ok, GRAD_013)
    with pytest.raises(ValueError, match=STALE):
        dualml.gradient(_keep_first({}), x, method="scalar", chunk=chunk)


@pytest.mark.parametrize("chunk", [None, 1])
def test_scalar_jacobian_seed_cached_across_passes_of_one_call(chunk):
    x = [float(i) for i in range(20)]
    J = dualml.jacobian(lambda v: [v[0] * v[13], v[5]], x, method="scalar", chunk=chunk)
    ref = np.zeros((2, 20))
    ref[0, 0], ref[0, 13], ref[1, 5] = 13.0, 0.0, 1.0   # d(x0 x13) = x13 dx0 + x0 dx13
    np.testing.assert_array_equal(J, ref)
    C = {}
    with pytest.raises(ValueError, match=STALE):
        dualml.jacobian(lambda v: [C.setdefault("x", v)[0] * v[13], v[5]], x,
                        method="scalar", chunk=chunk)


def test_value_of_a_pass_kept_for_a_later_pass_is_stale_too():
    # f keeps a whole intermediate result of pass 0, not a seed
    C = {}

    def f(v):
        s = sum(v[i] * v[i] for i in range(len(v)))
        return C.setdefault("s", s) + v[15]
    with pytest.raises(ValueError, match=STALE):
        dualml.value_and_gradient(f, [1.0] * 16)


@pytest.mark.parametrize("chunk", [None, 1])
def test_scalar_hessian_inner_dual_cached_across_evaluations(chunk):
    # the Hessian's evaluations (one per inner direction, and each chunk of
    # outer ones) each have their own tags too; f = x0 x1: H = [[0, 1], [1, 0]]
    H = dualml.hessian(lambda v: v[0] * v[1], [2.0, 3.0], method="scalar", chunk=chunk)
    np.testing.assert_array_equal(H, [[0.0, 1.0], [1.0, 0.0]])
    C = {}
    with pytest.raises(ValueError, match=STALE):
        dualml.hessian(lambda v: C.setdefault("x", v)[0] * v[1], [2.0, 3.0],
                       method="scalar", chunk=chunk)


def test_many_passes_keep_the_live_stack_small():
    from dualml.dual import _live_depth
    before = _live_depth()
    g = dualml.gradient(lambda v: sum(dualml.derivative(lambda t: t * e, 1.0) for e in v),
                        [1.0] * 40, chunk=1)    # 40 passes, each with an inner call
    np.testing.assert_array_equal(g, np.ones(40))
    assert _live_depth() == before


# -- tags of sparse and ODE internals (issue 15, stale tags (b)) --------------------
# dualml.sparse and dualml.solve_ivp drive passes of their own; their tags
# were drawn outside every scope and stayed live among the last 8-16 such
# tags, so a DualArray or Dual that f kept from one call still counted as a
# constant in the next.  Each now runs in a scope.

def _tridiag_residual(x):
    r = x * x
    r[1:] -= x[:-1]
    return r


def _tridiag_jac(x):                # closed form of _tridiag_residual's Jacobian
    return np.diag(2 * x) - np.eye(x.size, k=-1)


@pytest.mark.parametrize("method", ["array", "scalar"])
def test_sparse_jacobian_with_a_dual_kept_across_calls(method):
    x = np.linspace(0.5, 2.0, 6)
    ok = dualml.sparse_jacobian(_tridiag_residual, x, method=method)
    np.testing.assert_array_equal(ok.toarray(), _tridiag_jac(x))
    C = {}

    def f(v):
        k = C.setdefault("x", v)
        r = k * v if method == "array" else np.array([k[i] * v[i] for i in range(6)])
        r[1:] -= v[:-1]
        return r
    P = _tridiag_jac(x) != 0                        # given: no detection pass
    with pytest.raises(ValueError, match=STALE):
        # array: one pass per call, the second call raises; scalar: one jvp
        # per color, the second color's raises
        for _ in range(2):
            dualml.sparse_jacobian(f, x, sparsity=P, method=method)


@pytest.mark.parametrize("method", ["array", "scalar"])
def test_sparse_hessian_with_a_dual_kept_across_calls(method):
    x = np.linspace(0.5, 2.0, 6)
    f = lambda v: (v[1:] * v[:-1]).sum()                # noqa: E731
    H = dualml.sparse_hessian(f, x, method=method).toarray()
    np.testing.assert_array_equal(H, np.eye(6, k=1) + np.eye(6, k=-1))
    C = {}

    def g(v):
        k = C.setdefault("x", v)
        return (k[1:] * v[:-1]).sum()
    P = H != 0
    with pytest.raises(ValueError, match=STALE):
        for _ in range(2):
            dualml.sparse_hessian(g, x, sparsity=P, method=method)


@pytest.mark.parametrize("ad_method", ["array", "scalar"])
def test_ode_rhs_with_a_parameter_kept_across_calls(ad_method):
    # dy/dt = -k y: y = y0 exp(-k t), dy/dk = -t y
    def decay(t, y, k):
        return -k * y
    sol = dualml.solve_ivp(decay, (0, 1), [2.0], params=[0.5], t_eval=[1.0],
                           ad_method=ad_method, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(sol.sensitivities[0, 0, 0], -2.0 * np.exp(-0.5), rtol=1e-8)
    C = {}

    def decay_kept(t, y, k):
        return -C.setdefault("k", k) * y               # the first call's k
    with pytest.raises(ValueError, match=STALE):
        dualml.solve_ivp(decay_kept, (0, 1), [2.0], params=[0.5], ad_method=ad_method)


def test_ode_scalar_passes_with_a_dual_kept_across_passes():
    # two parameters: two scalar passes per right-hand side; the second must
    # not read the first pass's Dual as its own
    C = {}

    def f(t, y, p):
        return [-C.setdefault("a", p[0]) * y[0] + p[1]]
    with pytest.raises(ValueError, match=STALE):
        dualml.solve_ivp(f, (0, 1), [1.0], params=[0.5, 0.1], ad_method="scalar")


def test_internal_passes_draw_no_unscoped_tags():
    from dualml.dual import _unscoped_tag_draws
    before = _unscoped_tag_draws()
    x = np.linspace(0.5, 2.0, 6)
    for method in ("array", "scalar"):
        dualml.sparse_jacobian(_tridiag_residual, x, method=method)
        dualml.sparse_hessian(lambda v: (v[1:] * v[:-1]).sum(), x, method=method)
        dualml.solve_ivp(lambda t, y, p: -p[0] * y + p[1], (0, 1), [2.0], params=[0.5, 0.0],
                         ad_method=method, method="Radau")
    dualml.sparse_hessian(lambda v: (v[1:] * v[:-1]), x, elements=True)
    assert _unscoped_tag_draws() == before


@pytest.mark.parametrize("module", ["dualml.sensitivity", "dualml.uncertainty",
                                    "dualml.implicit", "dualml.custom", "dualml.ode",
                                    "dualml.sparse.compressed", "dualml.sparse.transforms"])
def test_every_docstring_example_draws_its_tags_in_scopes(module):
    # the documented uses of the modules that drive passes of their own
    # (tests/test_docs.py checks their output; here: no tag outside a scope)
    import doctest
    import importlib
    import warnings
    from dualml.dual import _unscoped_tag_draws
    mod = importlib.import_module(module)
    before = _unscoped_tag_draws()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    ran = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for t in doctest.DocTestFinder().find(mod):
            ran += runner.run(t, out=lambda s: None).attempted
    assert ran > 0
    assert _unscoped_tag_draws() == before
