"""Tests of dualml/arrays/_linalg.py: np.linalg.solve with a constant matrix
has NumPy's value bit for bit and the tangents solve(A, db) direction by
direction (NumPy's solve of each tangent: the closed form of the linear
map); a singular matrix raises NumPy's error.
"""
import numpy as np
import pytest

from dualml import DualArray


@pytest.mark.parametrize("bshape", [(6,), (6, 1), (6, 4)])
@pytest.mark.parametrize("k", [1, 3])
def test_solve_with_a_constant_matrix(bshape, k):
    rng = np.random.default_rng(len(bshape) + k)
    A = rng.standard_normal((6, 6)) + 6 * np.eye(6)
    b = DualArray(rng.standard_normal(bshape), rng.standard_normal((k,) + bshape))
    r = np.linalg.solve(A, b)
    assert np.array_equal(r.value, np.linalg.solve(A, b.value))
    expect = np.array([np.linalg.solve(A, t) for t in b.deriv])
    assert np.allclose(r.deriv, expect, rtol=1e-13, atol=1e-14)
    with pytest.raises(np.linalg.LinAlgError):
        np.linalg.solve(np.zeros((6, 6)), b)
