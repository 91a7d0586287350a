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


def test_solve_with_a_constant_matrix_at_edges_is_numpys():
    # NumPy's gufuncs called directly give np.linalg.solve's bits on every
    # size and layout; a singular matrix raises NumPy's LinAlgError with no
    # warning; nan/inf in b or its tangents warn about nothing; shape errors,
    # non-square and integer matrices are NumPy's (they take np.linalg.solve)
    import warnings
    rng = np.random.default_rng(77)
    for n in (1, 2, 5, 33, 130):
        A = rng.standard_normal((n, n)) * 10.0 ** rng.integers(-8, 8, (n, n))
        for Al in (A, np.asfortranarray(A), A[:, ::-1]):
            for bshape in ((n,), (n, 3)):
                b = DualArray(rng.standard_normal(bshape), rng.standard_normal((2,) + bshape))
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    r = np.linalg.solve(Al, b)
                assert np.array_equal(r.value, np.linalg.solve(Al, b.value), equal_nan=True)
                expect = np.array([np.linalg.solve(Al, t) for t in b.deriv])
                assert np.allclose(r.deriv, expect, rtol=1e-9, atol=0, equal_nan=True)
    S = np.ones((4, 4))
    b = DualArray(np.ones(4), np.ones((2, 4)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(np.linalg.LinAlgError, match="Singular matrix"):
            np.linalg.solve(S, b)
        A = np.eye(4) * 2.0
        odd = DualArray(np.array([1.0, np.nan, np.inf, 0.0]),
                        np.array([[np.inf, 1.0, 0.0, np.nan], [0.0, 0.0, 0.0, 0.0]]))
        r = np.linalg.solve(A, odd)
    assert np.array_equal(r.value, np.linalg.solve(A, odd.value), equal_nan=True)
    assert np.array_equal(r.deriv, np.array([np.linalg.solve(A, t) for t in odd.deriv]),
                          equal_nan=True)
    for a, bb in ((np.eye(3), b), (np.ones((4, 3)), b), (np.eye(4, dtype=int), b)):
        try:
            want = np.linalg.solve(a, bb.value)
        except Exception as e:                          # NumPy's error, type and message
            with pytest.raises(type(e), match=str(e)[:20]):
                np.linalg.solve(a, bb)
        else:
            assert np.array_equal(np.linalg.solve(a, bb).value, want)
