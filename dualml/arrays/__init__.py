"""DualArray: a float64 array carrying k tangent directions, NumPy-compatible.

Design
------
* ``_core`` (Cython) is the type: value, tangent rows, tag and second-order
  layout in C fields, and the hot operations -- operators, the rule table's
  ufuncs, basic indexing, full sums, products with constant matrices -- with
  operand classification, broadcasting and output allocation in C, and a
  bounded pool of large buffers so chains of big operations do not fault in
  fresh pages at every step.
* ``_impl`` is everything else in Python: nested levels (components that are
  DualArrays of smaller tags, partials from the rule table's nested column),
  hessian's second-order rows where the C path does not apply, fancy
  indexing and item assignment, reductions over axes, joins, bilinear
  products, linear algebra and the NumPy function table.  The core falls
  back to it wherever its fast path does not apply, with the same bits.
"""
from . import _impl
from ._core import DualArray, set_pool_limit, get_pool_limit
from ._core import _install, _new, _rebuild  # noqa: F401  (old pickles: dualml.arrays._rebuild)

__all__ = ["DualArray"]


def _o2_const_needed(x_first):
    # a curvature term for rule(dual, constant) (x_first) or rule(constant, dual)
    out = set()
    for name, (na, nb) in _impl._NESTED_B.items():
        g = na if x_first else nb
        if not (g is None or g.zero or g.unit == ("b" if x_first else "a")):
            out.add(name)
    return out


_install(_impl, _impl._UFUNC_RULE,
         set(_impl._K.UNARY) - _impl._O2_FLAT_U,
         set(_impl._K.BINARY) - _impl._O2_FLAT_B,
         _o2_const_needed(True), _o2_const_needed(False))
