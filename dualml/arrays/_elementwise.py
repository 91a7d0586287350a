"""Elementwise operations of the rule table on DualArrays (the Python path).

Design
------
First-order DualArrays of float64 components run the C kernels
(``dualml._kernels``: value and all k rows in one pass, zero-tangent
convention).  Nested components take their partials from ``_nested`` (nan
propagation included) and
scale the tangent rows with them (``_scale``: 0 where a tangent is 0, even
if the partial is inf or nan).  The C core (``_core``) answers the common
cases itself and comes here for the rest; both give the same bits.
"""
import math

import numpy as np

from .. import _kernels as _K
from ..dual import _check_tags
from ._core import DualArray, _new


def _vals(name, *xs, p=None):
    """Values only of a rule on float arrays (broadcast)."""
    if len(xs) == 1:
        return _K.unary(name, xs[0], None, p)[0]
    a, b = xs
    if a.shape != b.shape:
        s = _bshape(a.shape, b.shape)
        a, b = _bc(a, s), _bc(b, s)
    return _K.binary(name, a, None, b, None)[0]


def _ew_unary(name, x, p=None):
    if type(x) is _nd:
        return _K.unary(name, x, None, p)[0]
    v, d = x._v, x._d
    if type(v) is _nd and type(d) is _nd:
        if d.shape[0] * v.size >= ROWS_CHECKED:
            check_rows(d.shape[0], v.size)
        y, t = _K.unary(name, v, d, p)
        if x._o2 is not None:
            _o2_unary(name, v, y, d, t, x._o2, p)
        return _new(y, t, x._tag, x._o2)
    if x._o2 is not None:
        raise _NeedGeneric(name)
    y = _ew_unary(name, v, p)
    if type(v) is _nd:
        P = _K.partials(name, v, param=p)[1]
    else:
        P = _unary_partial(name, v, y, p)
    return _new(y, _scale(P, d), x._tag, None)


def _unary_partial(name, v, y, p):
    if name in _UNARY_P:
        return _NESTED_UP[name].fn(v, y, _K.PARAM_DEFAULTS[name] if p is None else p)
    return _NESTED_U[name].fn(v, y)


def _binary_op(name, a, b):
    # operators: unknown operand types give NotImplemented (Python's protocol)
    try:
        a = _operand(a, name)
        b = _operand(b, name)
    except _UnknownOperand:
        return NotImplemented
    return _ew_binary(name, a, b)


def _ew_binary(name, a, b):
    ta = a._tag if type(a) is DualArray else 0
    tb = b._tag if type(b) is DualArray else 0
    if ta == tb:
        if ta == 0:
            return _vals(name, a, b)
        kb = b._d.shape[0]
        ka = a._d.shape[0]
        if ka != kb:
            if kb == 0 and b._o2 is None:
                return _ew_binary_const(name, a, b._v, True)
            if ka == 0 and a._o2 is None:
                return _ew_binary_const(name, b, a._v, False)
            raise ValueError(f"DualArrays of one tag with different numbers of "
                             f"directions: deriv shapes {a._d.shape} and {b._d.shape}")
        av, ad, bv, bd = a._v, a._d, b._v, b._d
        if av.shape != bv.shape:
            s = _bshape(av.shape, bv.shape)
            av, bv = _bc(av, s), _bc(bv, s)
            ad, bd = _bct(ad, s), _bct(bd, s)
        # the tangent buffer, before it is allocated
        if ka * av.size >= ROWS_CHECKED:
            check_rows(ka, av.size)
        if type(av) is _nd and type(ad) is _nd and type(bv) is _nd and type(bd) is _nd:
            y, t = _K.binary(name, av, ad, bv, bd)
            if a._o2 is not None:
                _o2_binary(name, av, bv, y, ad, bd, t, a._o2)
            return _new(y, t, ta, a._o2)
        if a._o2 is not None:
            raise _NeedGeneric(name)
        y = _ew_binary(name, av, bv)
        if name == "divide" and _joint_ok(y, bv):
            # both operands move: the joint tangent (ta - y tb) / b of
            # dualml/_ruleir.py (JOINT_TANGENTS), as the scalar nested path
            num = _tadd(ad, _scale(_ew_unary("negative", _operand(y)), bd))
            return _new(y, _ew_binary("divide", _operand(num), _operand(bv)), ta, None)
        Pa, Pb = _binary_partials(name, av, bv, y, True, True)
        return _new(y, _tadd(_scale(Pa, ad), _scale(Pb, bd)), ta, None)
    _check_tags(ta, tb)
    if ta > tb:
        return _ew_binary_const(name, a, b, True)
    return _ew_binary_const(name, b, a, False)


def _joint_ok(y, b):
    # finite values and a finite nonzero divisor everywhere: elsewhere the
    # partials' conventions (infinities, zeros, domain errors) decide
    yv, bv = _inner(y), _inner(b)
    return bool(np.isfinite(yv).all() and np.isfinite(bv).all() and (bv != 0).all())


def _ew_binary_const(name, x, c, x_first):
    # x: DualArray of the outer tag; c: a constant to it (array or smaller tag)
    v, d = x._v, x._d
    if v.shape != c.shape:
        s = _bshape(v.shape, c.shape)
        v, c = _bc(v, s), _bc(c, s)
        d = _bct(d, s)
    # the tangent buffer, before it is allocated
    if d.shape[0] * v.size >= ROWS_CHECKED:
        check_rows(d.shape[0], v.size)
    if type(v) is _nd and type(d) is _nd and type(c) is _nd:
        if x_first:
            y, t = _K.binary(name, v, d, c, None)
        else:
            y, t = _K.binary(name, c, None, v, d)
        if x._o2 is not None:
            _o2_binary_const(name, v, c, y, d, t, x._o2, x_first)
        return _new(y, t, x._tag, x._o2)
    if x._o2 is not None:
        raise _NeedGeneric(name)
    if x_first:
        y = _ew_binary(name, v, c)
        P = _binary_partials(name, v, c, y, True, False)[0]
    else:
        y = _ew_binary(name, c, v)
        P = _binary_partials(name, c, v, y, False, True)[1]
    return _new(y, _scale(P, d), x._tag, None)


def _binary_partials(name, a, b, y, want_a, want_b):
    if type(a) is _nd and type(b) is _nd:
        _, pa, pb = _K.partials(name, a, b)
        return pa, pb
    ga, gb = _NESTED_B[name]
    return [ga.fn(a, b, y) if want_a else None, gb.fn(a, b, y) if want_b else None]


def _scale(P, T):
    """P * T with T's leading direction axis, 0 where T is 0 (zero-tangent convention)."""
    if type(P) is not DualArray and type(T) is _nd:
        P = _operand(P)
        if type(P) is _nd:
            if P.ndim == 0 and math.isfinite(P):
                return _vals("multiply", T, P)
            Pb = _bc(P, T.shape)
            return _K.binary("multiply", Pb, None, Pb, T[None])[1][0]
    P = _operand(P)
    r = _ew_binary("multiply", P, T)
    if not _finite(P):
        r = _where(_iszero(T), np.zeros(()), r)
    return r


def _finite(x):
    if type(x) is _nd:
        return bool(np.isfinite(x).all())
    return _finite(x._v) and _finite(x._d)


def _iszero(x):
    if type(x) is _nd:
        return x == 0
    return _iszero(x._v) & np.all(_iszero(x._d), axis=0)


def _tadd(t1, t2):
    if type(t1) is _nd and type(t2) is _nd:
        return _K.binary("add", t1, None, t2, None)[0]
    return _ew_binary("add", _operand(t1), _operand(t2))


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._budget import ROWS_CHECKED, check_rows  # noqa: E402
from ._joins import _where  # noqa: E402
from ._nested import _NESTED_B, _NESTED_U, _NESTED_UP, _UNARY_P  # noqa: E402
from ._operands import (_NeedGeneric, _UnknownOperand, _bc, _bct, _bshape,
                        _inner, _nd, _operand)
from ._second_order import _o2_binary, _o2_binary_const, _o2_unary  # noqa: E402
