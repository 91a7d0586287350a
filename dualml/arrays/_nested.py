"""The rule table's nested column for DualArrays.

Design
------
A DualArray whose components are DualArrays of smaller tags (nested
differentiation) takes its partials from the table's "nested" column.  The
build spells that column as array operations once (dualml/_ruleir.py,
emit_array) into the generated module ``_nested_rules``; nothing parses
the table or evaluates code at import.  This module holds the operations
the generated functions call (``_B``, ``_U``, ``_C``, ``_branch``,
``_nanprop``) and wraps each partial in a ``_Nested`` record: ``zero`` and
``unit`` mark partials that vanish or are an operand itself, so callers
can skip work.
"""
import operator

import numpy as np

from .. import _kernels as _K
from .. import dual as _dual


class _Nested:
    """One nested-column partial: a callable plus what its derivatives are.

    ``fn`` includes nan propagation.  ``zero``: the partial is a constant
    or CONST (its derivatives vanish); ``unit``: the expression is a bare
    argument name (its derivative w.r.t. that argument is 1, others 0).
    """
    __slots__ = ("fn", "zero", "unit", "src", "uses_y")

    def __init__(self, fn, zero, unit, uses_y, src):
        self.fn, self.zero, self.unit, self.src = fn, zero, unit, src
        self.uses_y = uses_y


def _B(name, a, b):
    return _ew_binary(name, _operand(a), _operand(b))


def _U(name, x, *p):
    return _ew_unary(name, _operand(x), *p)


_CMP_FUNCS = {">": operator.gt, ">=": operator.ge, "<": operator.lt,
              "<=": operator.le, "==": operator.eq, "!=": operator.ne}


def _C(op, a, b):
    # comparisons of the table are on innermost values
    return _CMP_FUNCS[op](_inner_operand(a), _inner_operand(b))


def _branch(cond, u, v):
    # branch(cond, u, v) of the table: cond on values, both branches computed.
    if isinstance(cond, (bool, np.bool_)) or (type(cond) is _nd and cond.ndim == 0):
        return u if cond else v
    return _where(cond, _operand(u), _operand(v))


def _const_partial(name, which, *args):
    # a CONST partial: the C rule's partial at the innermost values
    if name in _BINARY_SET:
        return _K.partials(name, *np.broadcast_arrays(_inner(args[0]), _inner(args[1])))[
            1 + which]
    p = args[1] if len(args) > 1 else None
    return _K.partials(name, _inner(args[0]), param=p)[1]


_NAN = np.array(np.nan)


def _nanprop(P, y, a, b=None):
    """dual.h's dual_nanprop for nested components.

    Where the value is nan from inputs that are not nan (a domain error),
    the partial is nan along every direction in which a (or b) moves: it
    is multiplied by a * nan, as the scalar nested path does, so the next
    derivative is nan too (a plain nan constant would become 0 under the
    zero-tangent convention wherever the partial's own tangent is 0).
    """
    bad = np.isnan(_inner(y))
    if not bad.any():
        return P
    bad = bad & ~np.isnan(_inner(a))
    if b is not None:
        bad = bad & ~np.isnan(_inner(b))
    if not bad.any():
        return P
    m = _ew_binary("multiply", _operand(a), _NAN)
    if b is not None:
        m = _ew_binary("add", m, _ew_binary("multiply", _operand(b), _NAN))
    return _where(bad, _ew_binary("multiply", _operand(P), m), _operand(P))


_RC = _dual.RULE_CONSTANTS        # DUAL_LN2, ..., NAN: the values of dual.h

_UNARY_SET = frozenset(_K.UNARY) - frozenset(_K.PARAM_DEFAULTS)
_UNARY_P = frozenset(_K.PARAM_DEFAULTS)
_BINARY_SET = frozenset(_K.BINARY)
_ALL_RULES = _UNARY_SET | _UNARY_P | _BINARY_SET

# the generated module imports the helpers above from this one
from . import _nested_rules  # noqa: E402


_NESTED_U = {k: _Nested(*v) for k, v in _nested_rules.UNARY.items()}
_NESTED_UP = {k: _Nested(*v) for k, v in _nested_rules.UNARY_P.items()}
_NESTED_B = {k: (_Nested(*a), _Nested(*b)) for k, (a, b) in _nested_rules.BINARY.items()}


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._elementwise import _ew_binary, _ew_unary  # noqa: E402
from ._joins import _where  # noqa: E402
from ._operands import _inner, _inner_operand, _nd, _operand  # noqa: E402
