"""Tests of dualml/arrays/_shape.py: flattening in memory order ('K') reads
the elements in NumPy's order (NumPy's own ravel is the reference, on views,
transposes, reversed axes and broadcasts), the tangents follow the same
elements, and the Frobenius norm built on it has NumPy's value bits.
"""
import numpy as np
import pytest

from dualml import DualArray
from dualml.arrays import _shape


def _random_view(rng, dual=False):
    # a view of a random array: strided, reversed and transposed axes (of
    # a DualArray with 2 directions: its value and tangents viewed alike)
    nd = int(rng.integers(0, 5))
    shape = tuple(int(s) for s in rng.integers(1, 5, nd))
    bshape = tuple(s * int(rng.integers(1, 3)) for s in shape)
    v = rng.standard_normal(bshape)
    if dual:
        v = DualArray(v, rng.standard_normal((2,) + bshape))
    v = v[tuple(slice(None, None, int(rng.choice([1, 2, -1, -2]))) for _ in shape)]
    v = v[tuple(slice(0, s) for s in shape)]
    return v.transpose(tuple(rng.permutation(nd))) if nd else v


def _random_broadcast(rng):
    nd = int(rng.integers(1, 5))
    shape = tuple(int(s) for s in rng.integers(1, 4, nd))
    src = rng.standard_normal(tuple(s if rng.random() < 0.5 else 1 for s in shape))
    v = np.broadcast_to(src, shape).transpose(rng.permutation(nd))
    return v[tuple(slice(None, None, int(rng.choice([1, -1]))) for _ in range(nd))]


@pytest.mark.parametrize("kind", ["view", "broadcast"])
def test_k_axes_read_elements_in_numpys_order(kind):
    # an element's C-order index, read through the axes _k_axes gives,
    # against NumPy's ravel(order='K') of the same layout
    rng = np.random.default_rng(0 if kind == "view" else 1)
    make = _random_view if kind == "view" else _random_broadcast
    for _ in range(20000):
        v = make(rng)
        ids = np.arange(v.size).reshape(v.shape).transpose(_shape._k_axes(v.shape, v.strides))
        assert np.array_equal(v.ravel()[ids.ravel()], np.ravel(v, order="K")), (v.shape, v.strides)


def test_ravel_and_flatten_in_memory_order():
    # values as NumPy's ravel('K') of the DualArray's value (views of it
    # keep its layout); each direction's tangents moved with their elements
    rng = np.random.default_rng(2)
    for _ in range(300):
        x = _random_view(rng, dual=True)
        v, t = x.value, x.deriv
        axes = _shape._k_axes(v.shape, v.strides)
        for r in (np.ravel(x, order="K"), x.ravel("K"), x.flatten("K")):
            assert np.array_equal(r.value, np.ravel(v, order="K"))
            expect = np.stack([np.transpose(tj, axes).ravel() for tj in t])
            assert np.array_equal(r.deriv, expect)
    x = DualArray(np.ones((2, 3)), np.ones((1, 2, 3)))
    with pytest.raises(ValueError, match="order 'K' is not permitted for reshaping"):
        np.reshape(x, (3, 2), order="K")
    with pytest.raises(ValueError, match="'K'"):
        x.ravel("Z")


def test_ravel_is_a_view_only_where_numpys_is():
    # NumPy's ravel copies unless the flattened values are contiguous: a
    # write to the result reaches x exactly where it does in NumPy
    rng = np.random.default_rng(4)
    for _ in range(300):
        x = _random_view(rng, dual=True)
        for order in "CFAK":
            for r in (np.ravel(x, order=order), x.ravel(order)):
                numpy_view = np.shares_memory(np.ravel(x.value, order=order), x.value)
                assert np.shares_memory(r.value, x.value) == numpy_view, (x.shape, order)
                assert r.value.flags.c_contiguous


def test_frobenius_norm_has_numpys_value_bits():
    # np.linalg.norm with no axis: NumPy's sqrt of dot(ravel('K'), itself);
    # every layout, specials included, against NumPy's own norm; the
    # tangents against sum(x dx) / norm in float64
    rng = np.random.default_rng(3)
    for _ in range(3000):
        if rng.random() < 0.8:
            x = _random_view(rng, dual=True)
        else:
            v = _random_broadcast(rng)
            x = DualArray(v, rng.standard_normal((2,) + v.shape))
        if x.ndim == 0:
            continue
        if rng.random() < 0.2:
            v = x.value.copy()
            v.flat[int(rng.integers(v.size))] = rng.choice(
                [np.inf, -np.inf, np.nan, 0.0, -0.0, 1e308, 1e-310])
            x = DualArray(v, x.deriv)
        v, t = x.value, x.deriv
        ords = [None] + (["fro"] if v.ndim == 2 else []) + ([2] if v.ndim == 1 else [])
        for o in ords:
            with np.errstate(all="ignore"):
                r = np.linalg.norm(x, ord=o)
                ref = np.linalg.norm(v, ord=o)
                rk = np.linalg.norm(x, ord=o, keepdims=True)
                slope = np.array([np.sum(v * tj) for tj in t]) / ref
            assert np.array_equal(r.value, ref, equal_nan=True), (v.shape, v.strides, o)
            assert rk.shape == (1,) * v.ndim and np.array_equal(rk.value.ravel(), [r.value],
                                                                  equal_nan=True)
            if np.isfinite(ref) and ref > 1e-300:
                assert np.allclose(r.deriv, slope, rtol=1e-12, atol=0)
            if o is None:
                # no options: the C path of the function protocol, the same bits
                with np.errstate(all="ignore"):
                    f = np.linalg.norm(x)
                assert np.array_equal(f.value, r.value, equal_nan=True)
                assert np.array_equal(f.deriv, r.deriv, equal_nan=True)
