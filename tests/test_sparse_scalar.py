"""The scalar tracer (dualml/sparse/_scalar.py): scalar code, mixing with arrays.

The scalar and the array tracer must agree rule for rule: the same random
scalar code gives the same pattern on traced scalars (a list x) and on 0-d
traced arrays; patterns are also compared with closed forms.
"""
import math

import numpy as np
import pytest
from test_sparse_detect import random_scalar_code

import dualml
from dualml.sparse._scalar import _ScalarPattern


def pattern(f, x):
    return dualml.jacobian_sparsity(f, x).toarray().astype(int).tolist()


def test_elements_are_traced_scalars():
    seen = []

    def f(x):
        seen.extend([x[0], x[1] * 2.0, np.sin(x[0]), dualml.exp(x[1]), x[0] + x[1]])
        return x[0]
    dualml.jacobian_sparsity(f, [1.0, 2.0])
    dualml.jacobian_sparsity(lambda x: seen.append(x[1]) or x, np.ones(3))
    assert all(type(s) is _ScalarPattern for s in seen)


@pytest.mark.parametrize("seed", range(15))
def test_scalar_and_array_tracers_agree(seed):
    f = random_scalar_code(seed)
    x = np.random.default_rng(seed).uniform(-1.5, 1.5, 6)

    def on_arrays(v):            # the same code on 0-d traced arrays
        return f([v[i:i + 1].reshape(()) for i in range(6)])
    assert pattern(f, x.tolist()) == pattern(on_arrays, x)
    g = lambda v: sum(f(v))
    ga = lambda v: sum(on_arrays(v))
    Ps = dualml.hessian_sparsity(g, x.tolist()).toarray()
    Pa = dualml.hessian_sparsity(ga, x).toarray()
    assert (Ps == Pa).all()


def test_mixing_with_arrays():
    def f(x):
        s, t = x[0], x[1]
        a = x[2:]
        r = np.concatenate([[s], a * t, np.stack([s + t, 2.0]), np.maximum(a, s),
                            np.where(a > 0, s, a)])
        r[1] = s * a[0]
        return r
    P = pattern(f, np.array([0.5, 2.0, -1.0, 3.0]))
    assert P == [[1, 0, 0, 0], [1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 0, 0],
                 [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0]]


def test_predicates_and_builtins():
    def f(x):
        a, b = x
        assert isinstance(a > b, (bool, np.bool_)) and not np.isnan(a) and bool(a)
        return [max(a, b), min(a, 0.0), abs(b), dualml.maximum(a, b), dualml.relu(b)]
    assert pattern(f, [2.0, -1.0]) == [[1, 0], [0, 0], [0, 1], [1, 0], [0, 1]]


def test_hessian_pairs():
    def f(x):
        return x[0] * x[1] + x[2] / x[3] + dualml.sin(x[4]) + 3.0 * x[5] + x[6] ** x[7]
    P = dualml.hessian_sparsity(f, [1.0] * 8).toarray().astype(int)
    want = np.zeros((8, 8), dtype=int)
    for i, j in ((0, 1), (2, 3), (3, 3), (4, 4), (6, 6), (6, 7), (7, 7)):
        want[i, j] = want[j, i] = 1
    assert (P == want).all()


@pytest.mark.parametrize("f, word", [
    (lambda x: float(x[0]), "float"),
    (lambda x: math.exp(x[0]), "float"),
    (lambda x: int(x[0]), "float"),
    (lambda x: np.asarray(x[0]), "plain ndarray"),
    (lambda x: x[0].item(), "item"),
    (lambda x: dualml.elu(x[0], x[1]), "alpha"),
    (lambda x: np.fft.fft(x[0]), "numpy.fft"),
])
def test_what_drops_a_pattern_raises(f, word):
    with pytest.raises(TypeError, match=word):
        dualml.jacobian_sparsity(f, [1.0, 2.0])


def test_value_attribute_and_division_by_zero():
    def f(x):
        assert x[0].value == 1.0 and x[0].shape == () and x[0].ndim == 0
        with np.errstate(divide="ignore"):
            return [x[0] / 0.0, x[1] // 2.0]
    assert pattern(f, [1.0, 2.0]) == [[1, 0], [0, 0]]
