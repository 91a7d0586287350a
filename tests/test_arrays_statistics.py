"""Tests of dualml/arrays/_statistics.py: quantiles and medians have NumPy's
values (its own functions are the reference) and, at infinities, the slope
of the element NumPy selects (a closed form: the selected entry's tangent).
Derivatives at ordinary points are checked against finite differences in
test_numpy_coverage.py.
"""
import warnings

import numpy as np
import pytest

from dualml import DualArray

METHODS = ["linear", "midpoint", "lower", "higher", "nearest"]
SPECIALS = np.array([np.inf, -np.inf, -0.0, 0.0, 1.0, -1.0, 2.0])


def _values_equal(a, b):
    # equal values, nans alike; the sign of a zero may differ where -0.0
    # and 0.0 tie (NumPy's partition and a stable sort order ties apart)
    return np.shape(a) == np.shape(b) and np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize("seed", range(6))
def test_quantiles_and_medians_have_numpys_values(seed):
    # random slices with infinities, signed zeros and nans, every method,
    # q at the ends, the middle and anywhere, over all axes and one
    rng = np.random.default_rng(seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)    # NumPy's own, on inf - inf
        for t in range(120):
            shape = (int(rng.integers(1, 12)),) if t % 2 else (int(rng.integers(1, 5)),
                                                               int(rng.integers(1, 6)))
            v = rng.standard_normal(shape) * 10.0 ** rng.integers(-3, 3)
            if t % 3 == 0:
                hit = rng.random(shape) < 0.4
                v[hit] = rng.choice(SPECIALS, hit.sum())
            if t % 7 == 0:
                v[rng.random(shape) < 0.2] = np.nan
            x = DualArray(v, np.ones((1,) + shape))
            q = [rng.random(), 0.0, 1.0, 0.5, 0.25][t % 5]
            axis = [None, 0, -1][t % 3] if len(shape) > 1 else None
            for m in METHODS:
                assert _values_equal(np.quantile(x, q, axis=axis, method=m).value,
                                     np.quantile(v, q, axis=axis, method=m)), (v, q, m)
                assert _values_equal(np.nanquantile(x, q, axis=axis, method=m).value,
                                     np.nanquantile(v, q, axis=axis, method=m)), (v, q, m)
            assert _values_equal(np.median(x, axis=axis).value, np.median(v, axis=axis)), v
            assert _values_equal(np.nanmedian(x, axis=axis).value,
                                 np.nanmedian(v, axis=axis)), v


def test_median_at_infinities_is_the_middle_element():
    # the odd median of [1, inf, inf] is inf (it was nan: inf * 0 in a
    # weighted sum), its slope the middle entry's; an even median of
    # [1, 2, inf, inf] is (2 + inf) / 2 = inf, the slope the mean of the two
    t = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x = DualArray(np.array([1.0, np.inf, np.inf]), t)
    r = np.median(x)
    assert r.value == np.inf and np.array_equal(r.deriv, t[:, 1])
    t4 = np.arange(8.0).reshape(2, 4)
    y = DualArray(np.array([1.0, 2.0, np.inf, np.inf]), t4)
    r = np.median(y)
    assert r.value == np.inf and np.array_equal(r.deriv, (t4[:, 1] + t4[:, 2]) / 2)
    for m, i in (("lower", 1), ("higher", 1), ("nearest", 1)):
        r = np.quantile(x, 0.5, method=m)
        assert r.value == np.inf and np.array_equal(r.deriv, t[:, i])


def test_interpolated_quantile_is_numpys_lerp():
    # a + (b - a) g below g = 0.5 and b - (b - a)(1 - g) from it: NumPy's
    # bits, and the same map of the two tangents
    v = np.array([0.1, 0.7, 0.3, 1.9, 1.1])
    t = np.array([[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 3.0, 0.0, 5.0]])
    x = DualArray(v, t)
    for q in (0.1, 0.3, 0.5, 0.55, 0.9):
        r = np.quantile(x, q)
        assert r.value == np.quantile(v, q)
        order = np.argsort(v)
        pos = 4 * q
        i = int(np.floor(pos))
        g = pos - i
        a, b = t[:, order[i]], t[:, order[min(i + 1, 4)]]
        ref = b - (b - a) * (1 - g) if g >= 0.5 else a + (b - a) * g
        np.testing.assert_allclose(r.deriv, ref, rtol=1e-15, atol=1e-15)


@pytest.mark.parametrize("f", [np.nanmax, np.nanmin])
def test_nanmax_nanmin_select_an_entry_that_is_not_nan(f):
    # a slice of NaNs and -inf (for nanmax; +inf for nanmin): NumPy's value
    # is the infinity (it was NaN: nanargmax's NaN-as--inf fill tied with
    # it and selected the NaN); the slope is that entry's tangent
    inf = np.inf if f is np.nanmin else -np.inf
    v = np.array([[np.nan, 1.0], [np.nan, np.nan], [inf, 2.0], [inf, np.nan]])
    t = np.arange(8.0).reshape(1, 4, 2)
    r = f(DualArray(v, t), axis=0)
    assert np.array_equal(r.value, f(v, axis=0))
    assert r.deriv[0, 0] == t[0, 2, 0]          # the first infinite entry
    rng = np.random.default_rng(3)
    for _ in range(300):
        w = rng.choice(np.array([np.nan, -np.inf, np.inf, 1.0, -1.0, 0.0, 2.0]), (3, 4))
        x = DualArray(w, np.ones((1, 3, 4)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN slices
            for axis in (None, 0, 1):
                assert np.array_equal(f(x, axis=axis).value, f(w, axis=axis), equal_nan=True)


@pytest.mark.parametrize("seed", range(3))
def test_var_and_std_with_where_have_numpys_values(seed):
    # NumPy's _var: masked sums (masked entries skipped) for the mean and the
    # squared deviations, over the counts; tangents the closed form
    # d var = 2 sum(dev * (dx - mean(dx))) / (count - ddof) over the mask
    rng = np.random.default_rng(seed)
    for _ in range(40):
        v = rng.standard_normal((3, int(rng.integers(3, 30))))
        m = rng.random(v.shape) < 0.7
        m[:, :2] = True
        m[:2, :] = True         # (two entries or more in every slice)
        x = DualArray(v, rng.standard_normal((2,) + v.shape))
        for axis in (None, 0, 1):
            for ddof in (0, 1):
                r = np.var(x, axis=axis, where=m, ddof=ddof)
                assert np.array_equal(r.value, np.var(v, axis=axis, where=m, ddof=ddof))
                s = np.std(x, axis=axis, where=m, ddof=ddof)
                assert np.array_equal(s.value, np.std(v, axis=axis, where=m, ddof=ddof))
                cnt = np.sum(m, axis=axis, keepdims=True)
                dev = v - np.sum(np.where(m, v, 0), axis=axis, keepdims=True) / cnt
                expect = []
                for t in x.deriv:
                    dt = t - np.sum(np.where(m, t, 0), axis=axis, keepdims=True) / cnt
                    expect.append(2 * np.sum(np.where(m, dev * dt, 0), axis=axis)
                                  / (np.sum(m, axis=axis) - ddof))
                assert np.allclose(r.deriv, np.array(expect), rtol=1e-11, atol=1e-13)


def test_median_of_a_vector_takes_the_middle_of_a_stable_sort():
    # np.median of a 1-d DualArray (its direct path): NumPy's value, the
    # general path's bits (axis=(0,) takes that one), and the slope the
    # closed form: the middle entry's tangent of a stable sort, or the mean
    # of the middle two; ties, signed zeros, infinities, one or two entries
    from dualml.arrays import _statistics
    rng = np.random.default_rng(11)
    for n in (1, 2, 3, 4, 9, 10, 57, 200):
        for trial in range(25):
            v = rng.choice(np.concatenate([SPECIALS, rng.standard_normal(5)]), n) \
                if trial % 2 else rng.standard_normal(n)
            x = DualArray(v, rng.standard_normal((3, n)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)    # NumPy's own, on inf - inf
                rs = (np.median(x), np.median(x, axis=0), np.median(x * 1.0, axis=-1))
                g = _statistics._median(x, (0,), False, "median")
                want = np.median(v)
            for r in rs:
                assert np.array_equal(r.value, g.value, equal_nan=True)
                assert np.array_equal(r.deriv, g.deriv, equal_nan=True)
                assert np.signbit(r.value) == np.signbit(g.value)
                assert _values_equal(r.value, want)
                if np.isnan(want):
                    continue                    # (inf - inf: nan slopes, the general path's)
                o = np.argsort(v, kind="stable")
                a, b = x.deriv[:, o[(n - 1) // 2]], x.deriv[:, o[n // 2]]
                expect = a if n % 2 else (a + b) / 2
                assert np.allclose(r.deriv, expect, rtol=1e-15, atol=0, equal_nan=True)
    x = DualArray(np.array([1.0, np.nan, 2.0]), np.ones((2, 3)))
    r = np.median(x)
    assert np.isnan(r.value) and np.isnan(r.deriv).all()
