"""Tests of dualml/arrays/_differences.py: np.polyval's values are NumPy's
(its Horner loop, bit for bit) and its tangents the closed forms
d/dp_i = x**(n-1-i) and d/dx = polyval(polyder(p), x).
"""
import numpy as np
import pytest

from dualml import DualArray


@pytest.mark.parametrize("seed", range(3))
def test_polyval_values_are_numpys_and_tangents_the_closed_forms(seed):
    rng = np.random.default_rng(seed)
    for _ in range(60):
        n = int(rng.integers(1, 8))
        p = rng.standard_normal(n)
        x = rng.standard_normal(tuple(rng.integers(0, 4, int(rng.integers(0, 3)))))
        P = DualArray(p, rng.standard_normal((2, n)))
        X = DualArray(x, rng.standard_normal((2,) + x.shape))
        for a, b in ((P, x), (p, X), (P, X), (P, 0.3)):
            r = np.polyval(a, b)
            xv = np.asarray(0.3 if isinstance(b, float) else x)
            assert np.array_equal(r.value, np.polyval(p, xv)), (n, xv.shape)
            expect = np.zeros((2,) + xv.shape)
            if a is P:
                for i in range(n):
                    expect += P.deriv[:, i].reshape((2,) + (1,) * xv.ndim) * xv ** (n - 1 - i)
            if b is X:
                expect += np.polyval(np.polyder(p), x) * X.deriv
            assert np.allclose(r.deriv, expect, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_interp_of_a_dual_x_is_the_general_maps(seed):
    # the direct path for a dual x on constant knots against the general
    # piecewise-linear map (its tangents, bit for bit) and NumPy's value:
    # points outside, on knots, between repeated knots, infinite and nan;
    # left/right given or not
    from dualml.arrays import _differences
    rng = np.random.default_rng(seed)
    for _ in range(100):
        n = int(rng.integers(2, 8))
        xp = np.sort(rng.choice([0.0, 0.5, 1.0, 1.5, 2.0, 3.0], n))
        fp = rng.choice([0.0, 1.0, -2.0, 5.0, np.inf], n) if rng.random() < 0.2 \
            else rng.standard_normal(n)
        x = rng.choice(np.concatenate([xp, [-1.0, 0.25, 1.2, 2.5, 4.0, np.inf, -np.inf, np.nan]]),
                       tuple(rng.integers(1, 4, int(rng.integers(0, 3)))))
        X = DualArray(x, rng.standard_normal((3,) + x.shape))
        for left, right in ((None, None), (-7.0, 9.0), (np.inf, None)):
            with np.errstate(all="ignore"):
                r = np.interp(X, xp, fp, left, right)
                g = _differences._with_inner_value(
                    _differences._interp_map(X, xp, fp, left, right, None),
                    np.interp(x, xp, fp, left, right))
            assert np.array_equal(r.value, np.interp(x, xp, fp, left, right), equal_nan=True)
            assert np.array_equal(r.deriv, g.deriv, equal_nan=True), (xp, fp, x, left, right)


def test_interp_keeps_the_derivative_of_a_dual_end_value():
    # a Dual left= is not a constant: the general path carries its slope
    import dualml
    g = dualml.derivative(lambda t: np.interp(DualArray(np.array([-1.0]), np.zeros((1, 1))),
                                              [0.0, 1.0], [0.0, 1.0], left=3 * t)[0], 0.5)
    assert g == 3.0


@pytest.mark.parametrize("fname", ["convolve", "correlate"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolve_and_correlate_values_are_numpys(fname, mode):
    # NumPy's value bit for bit (its own loops); tangents the bilinear rule
    # by NumPy direction by direction
    f = getattr(np, fname)
    rng = np.random.default_rng(len(mode))
    for _ in range(40):
        na, nv = (int(n) for n in rng.integers(1, 12, 2))
        a = DualArray(rng.standard_normal(na), rng.standard_normal((2, na)))
        v = DualArray(rng.standard_normal(nv), rng.standard_normal((2, nv)))
        for x, y in ((a, v), (a, v.value), (a.value, v)):
            r = f(x, y, mode)
            assert np.array_equal(r.value, f(a.value, v.value, mode))
            expect = np.zeros((2,) + r.shape)
            for j in range(2):
                if isinstance(x, DualArray):
                    expect[j] += f(a.deriv[j], v.value, mode)
                if isinstance(y, DualArray):
                    expect[j] += f(a.value, v.deriv[j], mode)
            assert np.allclose(r.deriv, expect, rtol=1e-12, atol=1e-12)
