"""The Dual type: construction, immutability, conversions, operators, NumPy.

Derivatives here are checked against hand-derived formulas; the full rule
table is walked against sympy/mpmath in test_rules.py.
"""
import copy
import functools
import inspect
import math
import operator
import pickle
import re

import numpy as np
import pytest

import dualml
from dualml import Dual


# -- construction ---------------------------------------------------------------

def test_construct_and_read():
    d = Dual(1.5, 2.0)
    assert (d.value, d.deriv) == (1.5, 2.0)
    assert Dual(3).deriv == 0.0 and type(Dual(3).value) is float
    assert Dual(np.float32(0.5), np.int64(2)).deriv == 2.0


@pytest.mark.parametrize("bad", ["1", None, 1 + 2j, [1, 2], np.ones(2), {}])
def test_construct_rejects_non_reals(bad):
    with pytest.raises(TypeError, match="value"):
        Dual(bad)
    with pytest.raises(TypeError, match="deriv"):
        Dual(1.0, bad)


def test_construct_rejects_dual_value():
    with pytest.raises(TypeError, match="Nested"):
        Dual(Dual(1.0, 1.0))


def test_nan_is_allowed_and_propagates():
    d = Dual(math.nan, 1.0) * 2
    assert math.isnan(d.value) and d.deriv == 2.0


def test_immutable():
    d = Dual(1.0, 2.0)
    with pytest.raises(AttributeError):
        d.value = 3.0
    with pytest.raises(AttributeError):
        d.deriv = 3.0
    with pytest.raises(TypeError, match="immutable"):
        d.__init__(5.0)
    assert (d.value, d.deriv) == (1.0, 2.0)


def test_bare_new_is_refused():
    # Dual.__new__(Dual) handed out an uninitialised tag-0 Dual that
    # __init__ could later overwrite
    from dualml.dual import _NestedDual
    calls = [lambda: Dual.__new__(Dual), lambda: Dual.__new__(Dual, 1.0, 2.0),
             lambda: _NestedDual.__new__(_NestedDual), lambda: Dual.__new__(_NestedDual)]
    for call in calls:
        with pytest.raises(TypeError, match=re.escape("call Dual(value, deriv)")):
            call()
    with pytest.raises(TypeError):
        object.__new__(Dual)
    # what makes Duals still does: the constructor, pickling (plain and
    # nested), copying, the freelist, differentiation
    assert str(inspect.signature(Dual)) == "(value, deriv=0.0)"
    ds = [Dual(float(i), -1.0) for i in range(600)]
    del ds
    d = Dual(1.5, 2.0)
    assert (d.value, d.deriv) == (1.5, 2.0) and (d * d).deriv == 6.0
    assert copy.copy(d) is d and copy.deepcopy(d) is d
    inner = lambda x: pickle.loads(pickle.dumps(dualml.derivative(lambda y: x * y * y, x)))
    assert dualml.derivative(inner, 2.0) == 8.0     # inner(x) = 2 x**2


def test_repr_round_trips():
    d = Dual(1.5, 2.0)
    assert repr(d) == "Dual(1.5, 2.0)"
    back = eval(repr(d), {"Dual": Dual})
    assert back == d and back.deriv == d.deriv
    assert repr(Dual(0.1, -1e-300)) == "Dual(0.1, -1e-300)"
    assert f"{Dual(1.0, 2.0):.2f}" == "Dual(1.00, 2.00)"


def test_pickle_copy_deepcopy():
    d = Dual(1.5, -2.0)
    for e in (pickle.loads(pickle.dumps(d)), copy.copy(d), copy.deepcopy(d)):
        assert (e.value, e.deriv) == (1.5, -2.0)


# -- no silent derivative loss -------------------------------------------------

@pytest.mark.parametrize("conv", [float, complex, math.sin, math.exp, np.float64])
def test_float_conversion_refuses(conv):
    with pytest.raises(TypeError, match=r"d\.value"):
        conv(Dual(1.0, 1.0))


def test_array_cast_to_float_refuses():
    with pytest.raises(TypeError, match="derivative"):
        np.array([Dual(1.0, 1.0)], dtype=float)


def test_unhashable_so_caches_cannot_confuse_derivatives():
    with pytest.raises(TypeError, match="unhashable"):
        hash(Dual(1.0, 1.0))
    cached = functools.lru_cache(lambda x: x * x)
    with pytest.raises(TypeError):
        cached(Dual(1.0, 1.0))


def test_locally_constant_conversions_use_value():
    d = Dual(2.7, 5.0)
    assert int(d) == 2 and math.floor(d) == 2 and math.ceil(d) == 3
    assert math.trunc(Dual(-2.7, 1.0)) == -2
    assert round(d) == 3 and round(Dual(2.675, 1.0), 1) == round(2.675, 1)
    assert bool(Dual(0.0, 1.0)) is False and bool(d) is True


def test_comparisons_use_value():
    a, b = Dual(1.0, 100.0), Dual(2.0, -5.0)
    assert a < b and b > a and a <= 1.0 and 1.0 >= a and a != b
    assert Dual(1.0, 1.0) == Dual(1.0, 2.0) == 1.0 == np.float64(1.0)
    assert not (Dual(math.nan, 0.0) == Dual(math.nan, 0.0))
    assert (Dual(1.0, 0.0) == "1") is False


# -- operators -------------------------------------------------------------------

X, DX, Y, DY = 1.7, 0.3, -0.6, 1.1

OPERATORS = [
    # op, value, derivative by the textbook rule
    (lambda a, b: a + b, X + Y, DX + DY),
    (lambda a, b: a - b, X - Y, DX - DY),
    (lambda a, b: a * b, X * Y, DX * Y + X * DY),
    (lambda a, b: a / b, X / Y, (DX * Y - X * DY) / Y**2),
    (lambda a, b: a ** 3, X**3, 3 * X**2 * DX),
    (lambda a, b: b ** 2, Y**2, 2 * Y * DY),
    (lambda a, b: a ** b, X**Y, Y * X ** (Y - 1) * DX + math.log(X) * X**Y * DY),
    (lambda a, b: 2 ** a, 2**X, math.log(2) * 2**X * DX),
    (lambda a, b: -a, -X, -DX),
    (lambda a, b: +a, X, DX),
    (lambda a, b: abs(b), abs(Y), -DY),
    (lambda a, b: a // b, X // Y, 0.0),
    (lambda a, b: a % b, X % Y, DX - (X // Y) * DY),
]


@pytest.mark.parametrize("op,value,deriv", OPERATORS)
def test_operators(op, value, deriv):
    r = op(Dual(X, DX), Dual(Y, DY))
    assert r.value == value
    assert r.deriv == pytest.approx(deriv, rel=1e-14, abs=1e-15)


def test_divmod_matches_floor_divide_and_remainder():
    q, r = divmod(Dual(7.5, 1.0), 2)
    assert (q.value, q.deriv, r.value, r.deriv) == (3.0, 0.0, 1.5, 1.0)
    q, r = divmod(-7.5, Dual(2.0, 1.0))
    assert (q.value, r.value) == divmod(-7.5, 2.0)
    assert r.deriv == 4.0                      # d/db (a - b floor(a/b)) = -floor(a/b)


@pytest.mark.parametrize("const", [2, 2.0, True, np.float64(2), np.float32(2),
                                   np.int64(2), np.int8(2), np.uint16(2), np.bool_(True)])
def test_constants_of_every_kind_on_either_side(const):
    d = Dual(3.0, 1.0)
    c = float(const)
    for r, value, deriv in [(d * const, 3 * c, c), (const * d, 3 * c, c),
                            (d - const, 3 - c, 1.0), (const - d, c - 3, -1.0),
                            (const / d, c / 3, -c / 9), (d ** const, 3**c, c * 3 ** (c - 1))]:
        assert type(r) is Dual, type(r)
        assert r.value == value and r.deriv == pytest.approx(deriv, rel=1e-15)


def test_power_special_cases():
    # A constant is never promoted to a zero-derivative Dual inside a rule.
    assert (Dual(0.0, 1.0) ** 2).deriv == 0.0
    r = Dual(-2.0, 1.0) ** 3
    assert (r.value, r.deriv) == (-8.0, 12.0)
    r = 0.0 ** Dual(2.0, 1.0)
    assert (r.value, r.deriv) == (0.0, 0.0)
    r = Dual(0.0, 1.0) ** 0
    assert r == Dual(1.0, 0.0) and r.deriv == 0.0
    r = 2 ** Dual(3.0, 1.0)
    assert r.value == 8.0 and r.deriv == pytest.approx(8 * math.log(2), rel=1e-15)
    r = Dual(2.0, 1.0) ** Dual(3.0, 1.0)
    assert r.deriv == pytest.approx(3 * 4 + math.log(2) * 8, rel=1e-15)
    assert (Dual(0.0, 1.0) ** 0.5).deriv == math.inf
    assert math.isnan(((-2.0) ** Dual(3.0, 1.0)).deriv)   # not differentiable in the exponent


def test_pow_with_modulus_is_not_supported():
    with pytest.raises(TypeError):
        pow(Dual(2.0, 1.0), 2, 3)


@pytest.mark.parametrize("other", ["a", None, [1.0], {}, 1 + 1j, object()])
def test_unsupported_operands_raise_python_typeerror(other):
    d = Dual(1.0, 1.0)
    for op in (lambda: d + other, lambda: other * d, lambda: d ** other, lambda: d < other):
        with pytest.raises(TypeError):
            op()


def test_values_are_bit_identical_to_float_arithmetic():
    rng = np.random.default_rng(0)
    for a, b in rng.normal(size=(200, 2)) * 10:
        a, b = float(a), float(b)
        da, db = Dual(a, 1.0), Dual(b, -1.0)
        assert (da + db).value == a + b and (da - db).value == a - b
        assert (da * db).value == a * b and (da / db).value == a / b
        assert (da // db).value == a // b and (da % db).value == a % b
        assert (abs(da) ** db).value == abs(a) ** b


# -- NumPy -----------------------------------------------------------------------

def test_numpy_ufuncs_return_duals():
    d = Dual(0.5, 1.0)
    for uf, f, df in [(np.sin, math.sin, math.cos), (np.exp, math.exp, math.exp),
                      (np.sqrt, math.sqrt, lambda x: 0.5 / math.sqrt(x)),
                      (np.tanh, math.tanh, lambda x: 1 - math.tanh(x) ** 2)]:
        r = uf(d)
        assert type(r) is Dual and r.value == f(0.5)
        assert r.deriv == pytest.approx(df(0.5), rel=1e-15)
    r = np.arctan2(d, np.float64(2.0))
    assert type(r) is Dual and r.deriv == pytest.approx(2 / (0.25 + 4), rel=1e-15)


def test_numpy_scalars_on_the_left():
    d = Dual(3.0, 1.0)
    for r in (np.float64(2) * d, np.float64(2) + d, np.int64(2) * d, np.float32(2) * d):
        assert type(r) is Dual


def test_dual_times_ndarray_is_elementwise():
    d = Dual(2.0, 1.0)
    for r in (d * np.arange(3.0), np.arange(3.0) * d):
        assert r.dtype == object and r.shape == (3,)
        assert [e.deriv for e in r] == [0.0, 1.0, 2.0]


def test_object_arrays_of_duals():
    a = np.array([Dual(1.0, 1.0), Dual(2.0, 0.5)])
    s = np.sin(a)
    assert [e.deriv for e in s] == [math.cos(1.0), 0.5 * math.cos(2.0)]
    assert a.sum().deriv == 1.5
    assert (a @ a).deriv == 2 * (1.0 * 1.0 + 2.0 * 0.5)
    assert np.dot(a, a).value == 5.0
    h = np.hypot(a, a)
    assert h[0].deriv == pytest.approx(math.sqrt(2), rel=1e-15)


def test_unsupported_ufunc_names_itself():
    with pytest.raises(TypeError, match="gcd"):
        np.gcd(Dual(1.0, 1.0), 2)


def test_value_only_predicates():
    assert np.isnan(Dual(math.nan, 1.0)) and np.isfinite(Dual(1.0, math.inf))
    assert np.less(Dual(1.0, 0.0), 2.0)


# -- NumPy: Dual.__array_ufunc__ ---------------------------------------------------
# (every rule of the table through its NumPy spelling is walked against the
# reference in test_rules.py; here: the protocol around it)

SPECIAL = [1.5, -2.0, 0.0, -0.0, math.inf, -math.inf, math.nan, 5e-324]


@pytest.mark.parametrize("v", SPECIAL)
def test_value_predicates_are_plain_bools_of_the_value(v):
    d = Dual(v, 3.0)
    for uf, ref in [(np.isnan, math.isnan), (np.isinf, math.isinf),
                    (np.isfinite, math.isfinite),
                    (np.signbit, lambda t: math.copysign(1.0, t) < 0)]:
        r = uf(d)
        assert type(r) is bool and r == ref(v), (uf.__name__, v)


def test_value_predicates_inside_nested_derivatives():
    seen = []

    def f(y):
        seen.append((np.isfinite(y), np.signbit(y), np.isnan(y.value)))
        return y * y

    assert dualml.derivative(lambda x: dualml.derivative(f, x), -3.0) == 2.0
    assert seen == [(True, True, False)]


@pytest.mark.parametrize("fn, spelling", [(math.isfinite, "np.isfinite(d)"),
                                          (math.isnan, "np.isnan(d)"),
                                          (math.isinf, "np.isinf(d)")])
def test_math_predicates_refuse_and_name_the_numpy_spelling(fn, spelling):
    with pytest.raises(TypeError, match=re.escape(spelling)):
        fn(Dual(1.0, 1.0))


COMPARISONS = [operator.lt, operator.le, operator.eq, operator.ne, operator.gt, operator.ge]


@pytest.mark.parametrize("const", [np.float64(2.0), np.float32(2.0), np.int64(2),
                                   np.array(2.0), np.array(2, dtype=np.int8), 2.0])
def test_comparisons_with_numpy_scalars_on_either_side(const):
    c = float(const)
    for dv in (1.0, 2.0, 3.0, math.nan):
        d = Dual(dv, 5.0)
        for op in COMPARISONS:
            for got, exp in ((op(const, d), op(c, dv)), (op(d, const), op(dv, c))):
                assert bool(got) is exp, (op.__name__, const, dv)
                assert np.ndim(got) == 0


INT_CONSTS = [2**1100, -2**1100, 2**53 + 1, 2**53, -(2**53 + 1), 2**64 + 1, 10**400 + 1,
              3, 0, -1, True, False, np.int64(2**53 + 1), np.uint64(2**64 - 1), np.int8(-3),
              np.bool_(True)]
INT_POINTS = [1.0, 2.0**53, 2.0**64, -2.0**53, 0.0, -0.0, 1e308, -math.inf, math.inf,
              math.nan, 3.0, -3.0, 1.0 - 2**-53]


@pytest.mark.parametrize("const", INT_CONSTS, ids=repr)
def test_comparisons_with_ints_as_python_compares_float_and_int(const):
    # Python compares a float and an int exactly (no OverflowError past
    # 1e308, no rounding past 2**53); a Dual compares its value the same way,
    # on either side, for every operator, for bools and NumPy integers too.
    for dv in INT_POINTS:
        d = Dual(dv, 7.0)
        for op in COMPARISONS:
            for got, exp in ((op(d, const), op(dv, const)), (op(const, d), op(const, dv))):
                assert type(got) is bool and got == bool(exp), (op.__name__, dv, const)


def test_comparisons_with_huge_and_unrepresentable_ints():
    assert Dual(1.0) < 2**1100 and not Dual(1.0) > 2**1100
    assert Dual(2.0**53) != 2**53 + 1 and not Dual(2.0**53) == 2**53 + 1
    assert Dual(2.0**53) < 2**53 + 1 and 2**53 + 1 > Dual(2.0**53)
    # nested Duals compare their innermost value the same way
    inner = lambda x: dualml.derivative(lambda y: y * x if y < 2**1100 else -y, x)
    assert dualml.derivative(inner, 1.0) == 1.0


def test_comparison_ufuncs_with_ints_as_numpy_compares_float_and_int():
    # np.less & co convert a Python int to float64 (NumPy's rule, unlike
    # Python's operators): a Dual gives what its value gives
    for uf in (np.less, np.equal, np.greater_equal):
        assert uf(Dual(2.0**53, 1.0), 2**53 + 1) == uf(2.0**53, 2**53 + 1)
        assert uf(np.int64(2**53 + 1), Dual(2.0**53, 1.0)) == uf(np.int64(2**53 + 1), 2.0**53)


def test_comparisons_with_other_reals_as_python_compares_them():
    from fractions import Fraction
    for c in (Fraction(1, 3), Fraction(2**60 + 1, 1)):
        for dv in (1 / 3, 2.0**60):
            for op in COMPARISONS:
                assert op(Dual(dv, 1.0), c) is op(dv, c)
                assert op(c, Dual(dv, 1.0)) is op(c, dv)


def test_comparison_ufuncs_return_bools():
    a, b = Dual(1.0, 7.0), Dual(2.0, -7.0)
    for uf, op in [(np.less, operator.lt), (np.less_equal, operator.le),
                   (np.equal, operator.eq), (np.not_equal, operator.ne),
                   (np.greater, operator.gt), (np.greater_equal, operator.ge)]:
        for x, y in ((a, b), (b, a), (a, a), (a, 2.0), (np.float64(0.5), b)):
            r = uf(x, y)
            assert type(r) is bool and r == op(float(np.float64(getattr(x, "value", x))),
                                              float(np.float64(getattr(y, "value", y))))


def test_divmod_with_a_numpy_scalar_on_the_left():
    q, r = divmod(np.float64(7.5), Dual(2.0, 1.0))
    assert (q.value, q.deriv) == (3.0, 0.0)
    assert (r.value, r.deriv) == (1.5, -3.0)        # d/db (a - b floor(a/b)) = -floor(a/b)
    q, r = np.divmod(Dual(7.5, 1.0), np.float64(2.0))
    assert (q.value, q.deriv, r.value, r.deriv) == (3.0, 0.0, 1.5, 1.0)


def test_zero_dimensional_arrays_are_numbers_and_arrays_stay_elementwise():
    d = Dual(3.0, 1.0)
    for c in (np.array(2.0), np.array(2, dtype=np.int8), np.array(2.0, dtype=np.float32)):
        for r, value, deriv in ((c * d, 6.0, 2.0), (d * c, 6.0, 2.0), (c - d, -1.0, -1.0),
                                (c ** d, 8.0, 8.0 * math.log(2.0)), (np.hypot(c, d), math.sqrt(13.0), 3.0 / math.sqrt(13.0))):
            assert type(r) is Dual
            assert r.value == value and r.deriv == pytest.approx(deriv, rel=1e-15)
    r = np.array([2.0]) * d
    assert r.dtype == object and r.shape == (1,) and r[0].deriv == 2.0
    assert (np.array(True) * d).deriv == 1.0


def test_numpy_functions_inside_nested_derivatives():
    # d/dx [d/dy sin(x y) at y = 1] = d/dx [x cos x] = cos x - x sin x
    x0 = 0.5
    got = dualml.derivative(
        lambda x: dualml.derivative(lambda y: np.sin(x * y) * np.float64(1.0), 1.0), x0)
    assert got == pytest.approx(math.cos(x0) - x0 * math.sin(x0), rel=1e-15)
    # hessian of exp(x0 * x1) with NumPy's exp and a NumPy scalar on the left
    H = dualml.hessian(lambda v: np.float64(2.0) * np.exp(v[0] * v[1]), [0.3, -0.4])
    e = 2.0 * math.exp(-0.12)
    ref = [[0.16 * e, (1 - 0.12) * e], [(1 - 0.12) * e, 0.09 * e]]
    assert np.allclose(H, ref, rtol=1e-14, atol=0)


def test_a_dualarray_operand_decides():
    from dualml import DualArray
    d = Dual(3.0, 1.0)                       # tag 1, one direction
    z = DualArray([1.0, 2.0], [1.0, 1.0])    # tag 1, one direction
    r = np.multiply(d, z)
    assert type(r) is DualArray
    assert r.value.tolist() == [3.0, 6.0] and r.deriv[0].tolist() == [1.0 + 3.0, 2.0 + 3.0]
    r = np.arctan2(d, z)                     # d/dt atan2(a, b) = (b a' - a b') / (a^2 + b^2)
    assert type(r) is DualArray
    assert np.allclose(r.deriv[0], [(1 - 3) / 10, (2 - 3) / 13], rtol=1e-15, atol=0)


def test_array_ufunc_binds_like_a_method():
    d = Dual(0.0, 2.0)
    for r in (d.__array_ufunc__(np.sin, "__call__", d),
              Dual.__array_ufunc__(d, np.sin, "__call__", d)):
        assert (r.value, r.deriv) == (0.0, 2.0)
    assert d.__array_ufunc__.__name__ == "__array_ufunc__"
    with pytest.raises(TypeError, match="ufunc"):
        Dual.__array_ufunc__(d)


def test_ufunc_methods_other_than_call_as_for_floats():
    # (they were refused; NumPy applies them to a float as to a 0-d array)
    d = Dual(1.0, 1.0)
    assert (np.add.reduce(d).value, np.add.reduce(d).deriv) == (np.add.reduce(1.0), 1.0)
    r = np.add.outer(d, d)
    assert type(r) is Dual and (r.value, r.deriv) == (np.add.outer(1.0, 1.0), 2.0)


def test_ufunc_keywords():
    d = Dual(0.5, 1.0)
    for kw in (dict(dtype=object), dict(dtype=np.float64), dict(casting="unsafe"),
               dict(order="C"), dict(subok=True), dict(where=True)):
        r = np.sin(d, **kw)
        assert type(r) is Dual and r.deriv == math.cos(0.5), kw
    for kw, what in ((dict(dtype=np.float32), "dtype"), (dict(dtype=int), "dtype"),
                     (dict(signature=("O", "O")), "signature")):
        with pytest.raises(TypeError, match=what):
            np.sin(d, **kw)
    out = np.empty((), dtype=object)
    np.add(d, 1.0, out=out)
    assert out[()].deriv == 1.0


REDUCTIONS = {
    "sum": np.sum, "prod": np.prod, "max": np.max, "min": np.min, "mean": np.mean,
    "nansum": np.nansum, "add.reduce": np.add.reduce,
    "maximum.reduce": np.maximum.reduce,
    "sum(axis=None)": lambda x: np.sum(x, axis=None),
    "sum(axis=0)": lambda x: np.sum(x, axis=0),
    "sum(keepdims)": lambda x: np.sum(x, keepdims=True),
    "sum(dtype=float64)": lambda x: np.sum(x, dtype=np.float64),
    "sum(where=True)": lambda x: np.sum(x, where=True),
    "sum(initial=1.5)": lambda x: np.sum(x, initial=1.5),
    "prod(initial=3.0)": lambda x: np.prod(x, initial=3.0),
    "multiply.outer": lambda x: np.multiply.outer(x, 3.0),
}
# the derivative of each at x, tangent 1 (closed forms)
REDUCTION_SLOPES = {"prod(initial=3.0)": 3.0, "multiply.outer": 3.0}


@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions_of_a_scalar_dual_as_of_a_float(name):
    # np.sum(d) was NumPy's "all returned NotImplemented" error; NumPy reduces
    # a float as a 0-d array (np.sum(2.0) == 2.0), and a Dual the same way,
    # keeping the derivative
    f = REDUCTIONS[name]
    for x in (2.0, -0.5, math.inf):
        r = f(Dual(x, 1.0))
        assert type(r) is Dual and r.value == f(x)
        assert r.deriv == REDUCTION_SLOPES.get(name, 1.0)
    assert dualml.derivative(lambda x: f(x * x), 3.0) == 6.0 * REDUCTION_SLOPES.get(name, 1.0)


@pytest.mark.parametrize("call", [lambda x: np.add.accumulate(x), lambda x: np.sin.reduce(x),
                                  lambda x: np.add.reduceat(x, [0])])
def test_reductions_a_float_refuses_are_refused_alike(call):
    with pytest.raises(Exception) as expected:
        call(2.0)
    with pytest.raises(type(expected.value), match=re.escape(str(expected.value))):
        call(Dual(2.0, 1.0))


def test_reduction_of_a_ufunc_without_a_rule_names_dualml():
    with pytest.raises(TypeError, match="no dualml rule"):
        np.logical_and.reduce(Dual(2.0, 1.0))


def test_outer_with_an_array_keeps_derivatives():
    r = np.multiply.outer(Dual(2.0, 1.0), np.array([1.0, 3.0]))
    assert [(e.value, e.deriv) for e in r] == [(2.0, 1.0), (6.0, 3.0)]


# -- elementary functions: kinds of input ---------------------------------------

def test_float_in_float_out():
    assert type(dualml.exp(1.0)) is float and dualml.exp(1.0) == math.exp(1.0)
    assert type(dualml.exp(1)) is float and type(dualml.exp(np.float32(1))) is float
    assert type(dualml.arctan2(1.0, 2)) is float


def test_arrays_in_arrays_out():
    r = dualml.sigmoid(np.array([0.0, 1.0]))
    assert r.dtype == np.float64 and r[0] == 0.5
    r = dualml.exp([Dual(0.0, 1.0), 1.0])
    assert r.dtype == object and r[0].deriv == 1.0


@pytest.mark.parametrize("bad", ["x", None, 1j, {}])
def test_bad_input_names_the_function(bad):
    with pytest.raises(TypeError, match=r"dualml\.exp\(\)"):
        dualml.exp(bad)
    with pytest.raises(TypeError, match=r"dualml\.hypot\(\)"):
        dualml.hypot(1.0, bad)


def test_parameter_must_not_be_a_dual():
    with pytest.raises(TypeError, match="alpha"):
        dualml.leaky_relu(1.0, alpha=Dual(0.1, 1.0))
    assert dualml.leaky_relu(Dual(-2.0, 1.0), alpha=0.1).deriv == 0.1


def test_nested_duals_are_duals():
    # inside a derivative of a derivative, f sees a Dual whose parts are Duals
    seen = []

    def inner(y):
        seen.append((isinstance(y, Dual), isinstance(y.value, Dual)))
        return y * y

    assert dualml.derivative(lambda x: dualml.derivative(inner, x), 3.0) == 2.0
    assert seen == [(True, True)]


def test_float_out_array_cannot_take_a_dual():
    a = np.array([1.0, 2.0])
    with pytest.raises(TypeError, match="cannot hold the derivative"):
        a += Dual(2.0, 1.0)
    with pytest.raises(TypeError, match="out="):
        np.sin(Dual(2.0, 1.0), out=np.zeros(1))
    out = np.empty(1, dtype=object)
    np.sin(Dual(0.0, 1.0), out=out)
    assert out[0].deriv == 1.0


def test_object_array_fallback_cache_does_not_grow_with_parameters():
    from dualml import dual as D
    xs = [dualml.Dual(-1.0, 1.0), dualml.Dual(2.0, 1.0)]
    dualml.leaky_relu(xs, 0.1)
    before = len(D._FROMPYFUNC_CACHE)
    for i in range(200):
        r = dualml.leaky_relu(xs, alpha=0.01 * i + 0.001)
    assert len(D._FROMPYFUNC_CACHE) == before
    assert r[0].deriv == pytest.approx(0.01 * 199 + 0.001) and r[1].deriv == 1.0


def test_fabs_is_absolute_on_duals_as_on_dualarrays():
    # d|x|/dx = sign(x) away from 0 (closed form); scalar, object array and
    # DualArray spellings agree
    for x, s in ((-2.0, -1.0), (3.0, 1.0)):
        r = np.fabs(dualml.Dual(x, 1.0))
        assert (r.value, r.deriv) == (abs(x), s)
    objs = np.fabs(np.array([dualml.Dual(-2.0, 1.0), dualml.Dual(1.5, 2.0)], dtype=object))
    assert [(o.value, o.deriv) for o in objs] == [(2.0, -1.0), (1.5, 2.0)]
    arr = np.fabs(dualml.DualArray(np.array([-2.0, 1.5]), np.array([1.0, 2.0])))
    assert list(arr.value) == [2.0, 1.5] and list(arr.deriv[0]) == [-1.0, 2.0]


def test_np_clip_of_a_dual_is_a_dual_with_the_clipped_slope():
    # clip(x, 0, 1): slope 1 inside, 0 outside; a tie with a bound takes
    # half the slope (the maximum/minimum convention), as on DualArray
    for x, v, s in ((2.0, 1.0, 0.0), (0.5, 0.5, 1.0), (-1.0, 0.0, 0.0), (1.0, 1.0, 0.5)):
        r = np.clip(dualml.Dual(x, 1.0), 0, 1)
        assert type(r) is dualml.Dual and (r.value, r.deriv) == (v, s)
        a = np.clip(dualml.DualArray(np.array([x]), np.ones(1)), 0, 1)
        assert (a.value[0], a.deriv[0, 0]) == (v, s)
    r = dualml.Dual(-1.0, 1.0).clip(max=1)
    assert (r.value, r.deriv) == (-1.0, 1.0)
    with pytest.raises(TypeError, match="bounds only"):
        dualml.Dual(1.0, 1.0).clip(0, 1, out=np.zeros(1))


def test_a_dual_is_real_for_numpy_object_loops():
    # np.std of Duals goes through conjugate/real; its gradient is the closed
    # form (x_i - mean) / (N std)
    xs = np.array([1.0, 2.0, 4.0])
    g = dualml.gradient(lambda v: np.std([v[0], v[1], v[2]]), list(xs), method="scalar")
    assert np.allclose(g, (xs - xs.mean()) / (3 * xs.std()), rtol=1e-14, atol=0)
    d = dualml.Dual(2.0, 1.0)
    assert d.real is d and d.conjugate() is d and d.imag == 0.0
    c = np.conj(d)
    assert (c.value, c.deriv) == (2.0, 1.0)
