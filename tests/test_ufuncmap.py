"""The one ufunc map (dualml/_ufuncmap.py) of Dual and DualArray.

Every ufunc of the map works on a scalar Dual and on a DualArray with the
same value and derivative (and that derivative matches a central
difference); every NumPy ufunc outside it raises a TypeError naming it on
both.
"""
import math

import numpy as np
import pytest

import dualml
from dualml import Dual, _kernels, _ufuncmap
from dualml.arrays import DualArray

RULES = dualml.UNARY + dualml.BINARY
MAP = sorted(_ufuncmap.supported(RULES), key=lambda u: u.__name__)
ALL = sorted({getattr(np, n) for n in dir(np) if isinstance(getattr(np, n), np.ufunc)},
             key=lambda u: u.__name__)
OUTSIDE = [u for u in ALL if u not in _ufuncmap.supported(RULES, arrays=True)]

# points inside each ufunc's domain; x moves, the other operand is constant
POINT = {"arccosh": 1.7, "ldexp": 0.7}
OTHER = {"ldexp": 3, "heaviside": 0.5}


def _point(u):
    return POINT.get(u.__name__, 0.7)


def _args(u, x):
    if u.nin == 1:
        return (x,)
    return (x, OTHER.get(u.__name__, 1.3))


def _vd(r):
    """(value, derivative) of a Dual/DualArray result (or a plain one)."""
    if isinstance(r, tuple):
        return tuple(_vd(e) for e in r)
    if isinstance(r, DualArray):
        return float(r.value.ravel()[0]), float(np.ravel(r.deriv)[0])
    if isinstance(r, Dual):
        return r.value, r.deriv
    return float(np.asarray(r).ravel()[0]), None


def _central(u, x, h=1e-5):
    f = lambda t: np.asarray(u(*_args(u, t)), dtype=float)   # noqa: E731
    # Richardson-extrapolated central difference
    d1 = (f(x + h) - f(x - h)) / (2 * h)
    d2 = (f(x + h / 2) - f(x - h / 2)) / h
    return (4 * d2 - d1) / 3


@pytest.fixture
def plain():
    # the plain kernels are bit for bit the scalar rules (SIMD: within 4 ulp)
    old = _kernels.set_simd(False)
    yield
    _kernels.set_simd(old)


@pytest.mark.parametrize("u", MAP, ids=[u.__name__ for u in MAP])
def test_every_mapped_ufunc_same_on_dual_and_dualarray(u, plain):
    x = _point(u)
    rd = _vd(u(*_args(u, Dual(x, 1.0))))
    ra = _vd(u(*_args(u, DualArray(np.array([x]), np.array([[1.0]])))))
    assert rd == ra
    plain = u(*_args(u, x))
    parts = rd if isinstance(rd, tuple) and isinstance(rd[0], tuple) else (rd,)
    plains = plain if isinstance(plain, tuple) else (plain,)
    for (v, d), p in zip(parts, plains):
        assert math.isclose(v, float(p), rel_tol=4e-16)   # NumPy's libm: within an ulp
        if d is not None and u.__name__ not in _ufuncmap.PREDICATES + _ufuncmap.COMPARISONS:
            ref = _central(u, x)
            ref = float(np.ravel(ref)[0]) if not isinstance(plain, tuple) else None
            if ref is not None:
                assert math.isclose(d, ref, rel_tol=1e-8, abs_tol=1e-10), (d, ref)


def test_divmod_on_both():
    q, r = np.divmod(Dual(7.5, 1.0), 2.0)
    qa, ra = np.divmod(DualArray(np.array([7.5]), np.array([[1.0]])), 2.0)
    assert (q.value, q.deriv, r.value, r.deriv) == (3.0, 0.0, 1.5, 1.0)
    assert (qa.value[0], qa.deriv[0, 0], ra.value[0], ra.deriv[0, 0]) == (3.0, 0.0, 1.5, 1.0)


def test_aliases_are_one_rule():
    assert _ufuncmap.rule_ufuncs(RULES)[np.fabs] == "absolute"
    for u in (np.fabs, np.abs, np.true_divide):
        assert u in _ufuncmap.supported(RULES)
    d = np.fabs(Dual(-2.0, 1.0))
    assert (d.value, d.deriv) == (2.0, -1.0)


@pytest.mark.parametrize("u", OUTSIDE, ids=[u.__name__ for u in OUTSIDE])
def test_every_other_ufunc_raises_naming_it_on_both(u):
    ops = [Dual(0.7, 1.0), DualArray(np.array([0.7]), np.array([[1.0]]))]
    for x in ops:
        args = (x,) + (1.0,) * (u.nin - 1)
        with pytest.raises(TypeError, match=f"numpy.{u.__name__} is not supported"):
            u(*args)


def test_array_only_ufuncs_explain_why_on_a_dual():
    with pytest.raises(TypeError, match="generalized ufunc"):
        np.matmul(Dual(1.0, 1.0), 2.0)


def test_ldexp_needs_an_integer_exponent():
    with pytest.raises(TypeError, match="constant integer"):
        np.ldexp(Dual(1.0, 1.0), Dual(2.0, 0.0))


def test_modf_of_infinities_has_numpys_values_on_both():
    # NumPy: modf(+-inf) = (+-0.0, +-inf); the fractional part has no slope
    # there (nan, fmod's), elsewhere slope 1 (x - trunc(x)); integral part 0
    xs = np.array([np.inf, -np.inf, 2.5, -3.25, -0.0, 1e300])
    ref_frac, ref_int = np.modf(xs)
    slope = np.array([np.nan, np.nan, 1.0, 1.0, 1.0, 1.0])
    frac, whole = np.modf(DualArray(xs, np.ones((1, xs.size))))
    assert np.array_equal(frac.value, ref_frac) and np.array_equal(np.signbit(frac.value),
                                                                   np.signbit(ref_frac))
    assert np.array_equal(whole.value, ref_int)
    assert np.array_equal(frac.deriv[0], slope, equal_nan=True)
    assert np.array_equal(whole.deriv[0], np.zeros(xs.size))
    for x, fr, s in zip(xs, ref_frac, slope):
        f, w = np.modf(Dual(x, 1.0))
        assert f.value == fr and math.copysign(1.0, f.value) == math.copysign(1.0, fr)
        assert np.array_equal(f.deriv, s, equal_nan=True) and w.deriv == 0.0
        # nested: the inner level's value replaced, every level's tangents kept
        g = dualml.derivative(lambda t: dualml.derivative(lambda u: np.modf(u * t)[0], x), 1.0)
        expect = np.nan if np.isinf(x) else 1.0     # d/du frac(u t) = t; d/dt t = 1
        assert np.array_equal(g, expect, equal_nan=True)
