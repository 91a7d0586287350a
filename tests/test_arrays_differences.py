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
