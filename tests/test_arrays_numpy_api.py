"""Tests of dualml/arrays/_numpy_api.py: reductions with where= and initial=
have NumPy's values bit for bit (NumPy's own reduction is the reference) and
the tangents of the linear map (sums: NumPy's masked sum of each tangent
row) or of the product rule written out (products).
"""
import warnings

import numpy as np
import pytest

from dualml import DualArray


def _case(rng):
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 30)))
    v = rng.standard_normal(shape) * rng.choice([1.0, 1e100, 1e200])
    return v, rng.standard_normal((2,) + shape), rng.random(shape) < 0.7, \
        float(rng.standard_normal()) * 1e10


@pytest.mark.parametrize("seed", range(4))
def test_sums_with_where_and_initial_are_numpys(seed):
    rng = np.random.default_rng(seed)
    for _ in range(100):
        v, t, m, ini = _case(rng)
        x = DualArray(v, t)
        for kw in ({"where": m}, {"initial": ini}, {"where": m, "initial": ini}):
            for axis in (None, 0, 1, (0, 1)):
                for keepdims in (False, True):
                    with np.errstate(all="ignore"):
                        r = np.sum(x, axis=axis, keepdims=keepdims, **kw)
                        e = np.sum(v, axis=axis, keepdims=keepdims, **kw)
                    assert np.array_equal(r.value, e, equal_nan=True) and r.shape == np.shape(e)
                    w = kw.get("where", True)
                    et = np.stack([np.sum(tj, axis=axis, keepdims=keepdims, where=w) for tj in t])
                    assert np.array_equal(r.deriv, et, equal_nan=True)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # NumPy's: mean of an empty slice
            for axis in (None, 1):
                r = np.mean(x, axis=axis, where=m)
                assert np.array_equal(r.value, np.mean(v, axis=axis, where=m), equal_nan=True)


def _product_rule(vm, tm, axis, keepdims):
    # sum over i (along axis; everything for None) of the product along the
    # axis with entry i replaced by its tangent
    if axis is None:
        vm, tm, axis = vm.reshape(1, -1), tm.reshape(1, -1), 1
    g = 0.0
    for i in range(vm.shape[axis]):
        others = vm.copy()
        sl = [slice(None)] * vm.ndim
        sl[axis] = slice(i, i + 1)
        others[tuple(sl)] = tm[tuple(sl)]
        g = g + np.prod(others, axis=axis, keepdims=True)
    return g if keepdims else g.squeeze(axis)


@pytest.mark.parametrize("seed", range(4))
def test_products_with_initial_are_numpys(seed):
    # NumPy multiplies from initial: (((initial x0) x1) ...), masked
    # entries skipped; tangents initial * sum_i dx_i prod_{j != i} x_j
    rng = np.random.default_rng(10 + seed)
    for _ in range(100):
        v, t, m, ini = _case(rng)
        v = v / np.abs(v).max() * 1.5          # products of a few dozen stay finite
        x = DualArray(v, t)
        for kw in ({"initial": ini}, {"where": m, "initial": ini}, {"where": m}):
            w = np.broadcast_to(kw.get("where", True), v.shape)
            vm = np.where(w, v, 1.0)
            for axis in (None, 0, 1):
                for keepdims in (False, True):
                    r = np.prod(x, axis=axis, keepdims=keepdims, **kw)
                    e = np.prod(v, axis=axis, keepdims=keepdims, **kw)
                    assert np.array_equal(r.value, e) and r.shape == np.shape(e)
                    et = np.array([kw.get("initial", 1.0) * _product_rule(
                        vm, np.where(w, tj, 0.0), axis, keepdims) for tj in t])
                    assert np.allclose(r.deriv, et.reshape(r.deriv.shape), rtol=1e-12,
                                       atol=1e-300)


def test_vecdot_reduceat_cov_corrcoef_values_are_numpys():
    # NumPy's values bit for bit; tangents by NumPy on the tangents (linear
    # maps) or the closed forms written with NumPy (cov)
    rng = np.random.default_rng(20)
    for _ in range(40):
        m, n = (int(s) for s in rng.integers(4, 12, 2))
        x = DualArray(rng.standard_normal((m, n)), rng.standard_normal((2, m, n)))
        y = DualArray(rng.standard_normal((m, n)), rng.standard_normal((2, m, n)))
        r = np.vecdot(x, y)
        assert np.array_equal(r.value, np.vecdot(x.value, y.value))
        assert np.allclose(r.deriv, np.sum(x.deriv * y.value + x.value * y.deriv, -1),
                           rtol=1e-12, atol=1e-12)
        idx = np.sort(rng.integers(0, n, 3))
        r = np.add.reduceat(x, idx, axis=1)
        assert np.array_equal(r.value, np.add.reduceat(x.value, idx, axis=1))
        assert np.allclose(r.deriv, np.add.reduceat(x.deriv, idx, axis=2), rtol=1e-12,
                           atol=1e-12)
        for ddof in (None, 0, 2):
            r = np.cov(x, ddof=ddof)
            assert np.array_equal(r.value, np.cov(x.value, ddof=ddof))
            xc = x.value - x.value.mean(1, keepdims=True)
            dc = x.deriv - x.deriv.mean(2, keepdims=True)
            dof = n - (1 if ddof is None else ddof)
            expect = (dc @ xc.T + xc @ dc.transpose(0, 2, 1)) / dof
            assert np.allclose(r.deriv, expect, rtol=1e-10, atol=1e-12)
        r = np.corrcoef(x, y)
        assert np.array_equal(r.value, np.corrcoef(x.value, y.value))
        c = np.corrcoef(x, y, rowvar=False)
        assert np.array_equal(c.value, np.corrcoef(x.value, y.value, rowvar=False))


def test_arg_functions_are_numpys_of_the_values():
    # np.argmax / np.argmin / np.argsort of a DualArray: NumPy's answer for
    # the values (ties, NaNs, infinities), by position or keyword, lazy or
    # not, vectors and matrices
    rng = np.random.default_rng(4)
    pool = np.array([0.0, -0.0, 1.0, 1.0, np.nan, np.inf, -np.inf, 2.5])
    for shape in ((7,), (3, 5), (4, 1, 3)):
        for trial in range(20):
            v = rng.choice(pool, shape) if trial % 2 else rng.standard_normal(shape)
            x = DualArray(v, rng.standard_normal((2,) + shape))
            for xx in (x, x * 1.0):
                for f in (np.argmax, np.argmin, np.argsort):
                    for args, kw in (((), {}), ((0,), {}), ((-1,), {}), ((), {"axis": 0}),
                                     ((None,), {})):
                        if f is np.argsort and args == (None,):
                            continue
                        got, want = f(xx, *args, **kw), f(v, *args, **kw)
                        assert type(got) is type(want) and np.array_equal(got, want)
