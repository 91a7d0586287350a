"""The classification table of dualml/sparse/_classify.py.

Every rule of csrc/dual_rules.def (dualml.UNARY, UNARY_PARAM, BINARY) must
have a row, and each row is checked against finite differences of the plain
float function (an independent reference): a "zero" rule does not move, a
"linear" one has zero second differences, a "nonlinear" one has a nonzero
one somewhere; binary flags likewise per argument and pair.
"""
import numpy as np
import pytest

import dualml
from dualml.sparse._classify import BINARY_KIND, NUMPY_ALIASES, PREDICATES, UNARY_KIND

POINTS = [-1.7, -0.6, -0.23, 0.31, 0.57, 0.8, 1.3, 2.9]
H = 1e-3


def test_every_rule_is_classified():
    rules = set(dualml.UNARY) | set(dualml.UNARY_PARAM)
    assert rules - set(UNARY_KIND) == set(), "classify these one-argument rules"
    assert set(dualml.BINARY) - set(BINARY_KIND) == set(), "classify these binary rules"
    assert set(UNARY_KIND) - rules == set() and set(BINARY_KIND) - set(dualml.BINARY) == set()
    assert len(rules) + len(dualml.BINARY) == 56


def test_aliases_name_rules_and_ufuncs():
    for name, rule in NUMPY_ALIASES.items():
        assert isinstance(getattr(np, name), np.ufunc)
        assert rule in UNARY_KIND or rule in BINARY_KIND
    for name in PREDICATES:
        assert isinstance(getattr(np, name), np.ufunc)


def _f1(name):
    fn = getattr(dualml, name)
    return lambda x: float(fn(float(x)))


def _domain(name, x):
    if name in ("arccosh",):
        return abs(x) + 1.2
    if name in ("arcsin", "arccos", "arctanh"):
        return x / 3.0
    if name in ("log", "log2", "log10", "sqrt", "log1p", "cbrt"):
        return abs(x) + 0.1
    return x


@pytest.mark.parametrize("name", sorted(UNARY_KIND))
def test_unary_kind_matches_finite_differences(name):
    f = _f1(name)
    kind = UNARY_KIND[name]
    d1, d2 = [], []
    for p in POINTS:
        x = _domain(name, p)
        d1.append((f(x + H) - f(x - H)) / (2 * H))
        d2.append((f(x + H) - 2 * f(x) + f(x - H)) / H ** 2)
    d1, d2 = np.abs(d1), np.abs(d2)
    if kind == "zero":
        assert d1.max() == 0
    elif kind == "linear":
        assert d1.max() > 0 and d2.max() < 1e-6
    else:
        assert d2.max() > 1e-3


def _f2(name):
    fn = getattr(dualml, name)
    return lambda a, b: float(fn(float(a), float(b)))


def _points2(name):
    for a in POINTS:
        for b in POINTS[::3]:
            if name == "power":
                a = abs(a) + 0.2
            yield a, b + 0.05


@pytest.mark.parametrize("name", sorted(BINARY_KIND))
def test_binary_kind_matches_finite_differences(name):
    f = _f2(name)
    ja, jb, haa, hab, hbb, _ = BINARY_KIND[name]
    da, db, daa, dab, dbb = [], [], [], [], []
    for a, b in _points2(name):
        da.append((f(a + H, b) - f(a - H, b)) / (2 * H))
        db.append((f(a, b + H) - f(a, b - H)) / (2 * H))
        daa.append((f(a + H, b) - 2 * f(a, b) + f(a - H, b)) / H ** 2)
        dbb.append((f(a, b + H) - 2 * f(a, b) + f(a, b - H)) / H ** 2)
        dab.append((f(a + H, b + H) - f(a + H, b - H) - f(a - H, b + H)
                    + f(a - H, b - H)) / (4 * H * H))
    for flag, d, tol in ((ja, da, 0), (jb, db, 0)):
        assert (np.abs(d).max() > tol) == flag
    for flag, d in ((haa, daa), (hab, dab), (hbb, dbb)):
        # a False flag promises zero second differences (away from kinks)
        if not flag:
            assert np.median(np.abs(d)) < 1e-6
        else:
            assert np.abs(d).max() > 1e-3
