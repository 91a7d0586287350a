"""The pattern tracer (dualml/sparse/_tracer.py): operators, writes, views, hooks.

Patterns are compared with closed forms (which inputs each output reads).
"""
import numpy as np
import pytest

import dualml


def pattern(f, x):
    return dualml.jacobian_sparsity(f, np.asarray(x, dtype=float)).toarray().astype(int).tolist()


def test_python_operators_both_sides():
    def f(x):
        a, b = x[0], x[1]
        return np.stack([2 + a, 2 - a, 2 * a, 2 / a, 2 ** a, a ** 2, a // 2 + b % 3,
                         -a, +b, abs(a), a / b, 3 % a])
    P = pattern(f, [1.5, 2.5])
    assert P == [[1, 0]] * 4 + [[1, 0], [1, 0], [0, 1], [1, 0], [0, 1], [1, 0], [1, 1],
                                [1, 0]]


def test_comparisons_give_plain_booleans():
    def f(x):
        c = (x > 0) & (x <= 1) | (x == 2) | (x != 0.5)
        assert isinstance(c, np.ndarray) and c.dtype == bool
        assert bool(x[0]) is True and (x[0] >= 0.5) and not (x[1] < 0)
        return np.where(c, x, 0.0)
    assert pattern(f, [0.5, 3.0]) == [[1, 0], [0, 1]]


def test_inplace_operators_on_arrays_and_scalars():
    def f(x):
        y = x * 1.0
        y += x[::-1]
        y -= 1.0
        y *= x[0]
        y /= 2.0
        y **= 2
        s = x[1]
        s2 = s
        s += x[0]                       # a scalar rebinds, as Python numbers do
        return np.concatenate([y, np.stack([s, s2])])
    assert pattern(f, [1.0, 2.0, 3.0]) == [[1, 0, 1], [1, 1, 0], [1, 0, 1], [1, 1, 0], [0, 1, 0]]


def test_view_of_a_view_and_reshape_write_through():
    def f(x):
        r = np.zeros_like(x)
        R = r.reshape(2, 2)
        R[1] = x[:2]                    # through a reshape
        row = R[0]
        row[1:] = x[3]                  # through a view of a view
        return r
    assert pattern(f, [1.0, 2.0, 3.0, 4.0]) == [[0, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0],
                                                  [0, 1, 0, 0]]


def test_fancy_setitem_and_broadcast_values():
    def f(x):
        r = np.zeros((2, 3)) + 0 * x[0]
        r[:, [0, 2]] = x[1:3]
        r[1, 1] = x[0] * x[3]
        return r
    P = pattern(f, [1.0, 2.0, 3.0, 4.0])
    # a write replaces the old pattern (0 * x[0] is gone where x[1:3] went)
    assert P == [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1],
                 [0, 0, 1, 0]]


def test_iteration_len_tolist_and_attributes():
    def f(x):
        assert len(x) == 3 and x.shape == (3,) and x.ndim == 1 and x.size == 3
        assert x.dtype == np.float64
        parts = [2.0 * e for e in x]
        X = x[:2].reshape(1, 2)
        return np.concatenate([np.stack(parts), X.T.ravel(), x.astype(float)[:1],
                               np.stack(x.tolist())])
    P = pattern(f, [1.0, 2.0, 3.0])
    assert len(P) == 9 and P[3] == [1, 0, 0] and P[4] == [0, 1, 0]


def test_dualml_hook():
    def f(x):
        return np.stack([dualml.leaky_relu(x[0], alpha=0.2), dualml.elu(x[1], 0.5),
                         dualml.hypot(x[0], x[2]), dualml.floor(x[1]) + dualml.sigmoid(x[2])])
    assert pattern(f, [1.0, -2.0, 3.0]) == [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 1]]


def test_dualml_hook_rejects_a_traced_parameter():
    with pytest.raises(TypeError, match="alpha"):
        dualml.jacobian_sparsity(lambda x: dualml.elu(x[0], x[1]), np.ones(2))


def test_two_runs_do_not_mix():
    saved = []
    dualml.jacobian_sparsity(lambda x: saved.append(x) or x, np.ones(2))
    with pytest.raises(TypeError, match="different detection runs"):
        dualml.jacobian_sparsity(lambda x: x + saved[0], np.ones(2))


def test_ufunc_methods():
    def f(x):
        X = x.reshape(2, 2)
        return np.concatenate([np.add.reduce(X, axis=0), np.multiply.accumulate(x[:2]),
                               [np.maximum.reduce(x)], np.divmod(x[:1], 2.0)[1]])
    P = pattern(f, [1.0, 5.0, 3.0, 2.0])
    assert P == [[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 0], [1, 1, 0, 0], [0, 1, 0, 0],
                 [1, 0, 0, 0]]
    with pytest.raises(TypeError, match="numpy.add.outer"):
        dualml.jacobian_sparsity(lambda x: np.add.outer(x, x), np.ones(2))


def test_item_and_int_raise():
    for f in (lambda x: x[0].item(), lambda x: int(x[0]), lambda x: range(x[0])):
        with pytest.raises(TypeError):
            dualml.jacobian_sparsity(f, np.ones(2))


def test_stale_view_values_are_not_used_for_branches():
    def f(x):
        r = x * 1.0
        v = r[:2]
        r[0] = 10.0 + x[2]
        return x[int(np.argmax(v))]      # NumPy's v sees the write; the tracer raises
    with pytest.raises(TypeError, match="view"):
        dualml.jacobian_sparsity(f, np.array([1.0, 2.0, 3.0]))


def test_gradient_sets_are_int32_and_pairs_int64():
    from dualml.sparse import detect
    seen = {}

    def f(x):
        y = np.exp(x[:2]) * x[1:]
        seen["g"], seen["h"] = y._g[1].dtype, y._h[1].dtype
        return np.sum(y)
    detect.hessian_sparsity(f, np.ones(3))
    assert seen == {"g": np.dtype(np.int32), "h": np.dtype(np.int64)}


def test_sort_method_sorts_in_place():
    def f(x):
        y = x * 1.0
        y.sort()
        return y
    assert pattern(f, [3.0, 1.0, 2.0]) == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]


def test_more_inplace_operators_write_through_views():
    def f(x):
        r = x * 1.0
        v = r[1:]
        v //= 1.0               # a step: the pattern of r[1:] goes, through the view
        v %= 10.0
        w = r[:2].reshape(1, 2)
        w @= np.array([[0.0, 1.0], [1.0, 0.0]])
        return r
    assert pattern(f, [1.5, 2.5, 3.5]) == [[0, 0, 0], [1, 0, 0], [0, 0, 0]]


def test_fmax_reduce_ignores_nan_like_numpy():
    def f(x):
        y = np.where(x > 1.5, np.nan, x)       # a nan in the first slot's place
        return np.fmax.reduce(y[::-1]) * np.ones(1)
    assert pattern(f, [2.0, 1.0, 0.5]) == [[0, 1, 0]]
