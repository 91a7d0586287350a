"""DualArray: a float64 array carrying k tangent directions, NumPy-compatible.

Design
------
* ``_core`` (Cython) is the type: value, tangent rows, tag and second-order
  layout in C fields, and the hot operations -- operators, the rule table's
  ufuncs, basic indexing, full sums, products with constant matrices -- with
  operand classification, broadcasting and output allocation in C, and a
  bounded pool of large buffers so chains of big operations do not fault in
  fresh pages at every step.
* Everything else is Python, one concern a module, and the core falls back
  to it wherever its fast path does not apply, with the same bits:
  ``_operands`` (classifying and broadcasting operands), ``_nested`` (the
  rule table's nested column for nested levels), ``_elementwise`` (the rule
  table), ``_second_order`` (hessian's curvature rows), ``_shape`` (indexing,
  assignment, reshapes), ``_reduce``, ``_joins``, ``_products`` (bilinear),
  ``_linalg``, ``_statistics`` (var, std, quantiles, sort), ``_differences``
  (diff, trapezoid, interp, convolve), ``_arrange`` (NumPy's rearranging
  functions), ``_numpy_api`` (the NumPy protocols and function table) and
  ``_methods`` (the type's other methods).
"""
import types

from . import (_operands, _nested, _elementwise, _second_order, _shape, _reduce, _joins,
               _products, _linalg, _methods, _numpy_api, _statistics, _differences, _arrange)
from ._core import DualArray, set_pool_limit, get_pool_limit  # noqa: F401  (public here)
from . import _core
from ._core import _install, _new, _rebuild  # noqa: F401  (old pickles: dualml.arrays._rebuild)

__all__ = ["DualArray"]


def _o2_const_needed(x_first):
    # a curvature term for rule(dual, constant) (x_first) or rule(constant, dual)
    out = set()
    for name, (na, nb) in _nested._NESTED_B.items():
        g = na if x_first else nb
        if not (g.zero or g.unit == ("b" if x_first else "a")):
            out.add(name)
    return out


def _namespace():
    # the Python implementation as one namespace for the core's fallbacks
    ns = {}
    for mod in (_operands, _nested, _elementwise, _second_order, _shape, _reduce, _joins,
                _products, _linalg, _methods, _numpy_api, _statistics, _differences, _arrange):
        ns.update((k, v) for k, v in vars(mod).items()
                  if k.startswith("_") and not k.startswith("__"))
    return types.SimpleNamespace(**ns)


_install(_namespace(), _numpy_api._UFUNC_RULE,
         set(_elementwise._K.UNARY) - _second_order._O2_FLAT_U,
         set(_elementwise._K.BINARY) - _second_order._O2_FLAT_B,
         _o2_const_needed(True), _o2_const_needed(False))
from numpy._core import _multiarray_umath as _mu  # noqa: E402
_core._find_gemv(_mu.__file__)
# dualml.<f>(DualArray) calls DualArray.__dualml_function__ directly
from .. import dual as _dual  # noqa: E402
_dual._register_hook_type(DualArray)
