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
