"""The type's methods that are not fast paths, in Python.

Design
------
Construction from user input (validated and copied), seeding, reshape and
transpose argument forms, and the extraction hook of dualml's calculus.
``_core.DualArray`` calls these through the namespace installed at import.
"""
import numbers

import numpy as np

from .. import dual as _dual
from ._core import DualArray, _new


def _init_parts(value, deriv):
    v = _real_array(value, "value", copy=True)
    if deriv is None:
        return v, np.zeros((0,) + v.shape)
    d = _real_array(deriv, "deriv", copy=True)
    if d.shape == v.shape:
        d = d[None]
    elif d.shape[1:] != v.shape:
        raise ValueError(f"DualArray(): deriv must have shape (k,) + value.shape "
                         f"or value.shape; got deriv.shape = {d.shape} and "
                         f"value.shape = {v.shape}")
    return v, d


def _seed(x, directions):
    v = _real_array(x, "x", copy=True)
    if directions is None:
        return _new(v, np.eye(v.size).reshape((v.size,) + v.shape), 1, None)
    return DualArray(v, directions)


def _constant(x, k):
    v = _real_array(x, "x", copy=True)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 0:
        raise TypeError(f"DualArray.constant(): k must be a non-negative integer (the "
                        f"number of directions), got {k!r}")
    return _new(v, np.zeros((int(k),) + v.shape), 1, None)


def _method_reshape(x, shape, order):
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = tuple(shape[0])
    return _reshape_order(x, shape, order)


def _method_transpose(x, axes):
    # axes as ints, one sequence of them (an ndarray too) or None, as ndarray.transpose
    if len(axes) == 1 and (axes[0] is None or not isinstance(axes[0], numbers.Integral)):
        axes = axes[0]
    if axes is not None:
        axes = tuple(axes)
    return _transpose(x, axes if axes != () else None)


def _extract(x, tag, want_value):
    if x._tag == tag:
        if want_value:
            return x._v
        d = x._d if x._o2 is None else x._d[:x._o2[0]]
        if d.shape[0] == 1:
            return d[0]
        return _moveaxis0_last(d)
    _dual._check_tags(x._tag, x._tag)
    if x._tag > tag:
        raise ValueError("a DualArray from an inner differentiation escaped it "
                         "(was it stored and reused outside the function?)")
    return x if want_value else np.zeros(x._v.shape)


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._operands import _real_array  # noqa: E402
from ._shape import _reshape_order, _moveaxis0_last, _transpose  # noqa: E402
