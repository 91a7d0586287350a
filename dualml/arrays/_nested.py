"""The rule table's nested column, compiled for DualArrays.

Design
------
A DualArray whose components are DualArrays of smaller tags (nested
differentiation) takes its partials from the table's "nested" column: the
expressions the scalar nested Dual uses, translated here to array
operations (``_ToArrayOps``) with an array-aware ``branch``.  ``zero`` and
``unit`` mark partials that vanish or are an operand itself, so callers
can skip work.
"""
import ast
import operator

import numpy as np

from .. import _kernels as _K
from .. import dual as _dual
from .._ruletable import parse_rules


def _rule_tables():
    rules = parse_rules()
    unary, unary_p, binary = {}, {}, {}
    for r in rules:
        if r.kind == "binary":
            binary[r.name] = tuple(_compile(e, ("a", "b", "y")) for e in r.nested)
        elif r.kind == "unary_p":
            unary_p[r.name] = _compile(r.nested[0], ("x", "y", "p"))
        else:
            unary[r.name] = _compile(r.nested[0], ("x", "y"))
    return unary, unary_p, binary


_BINOPS = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}
_CMPOPS = {ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Lt: operator.lt,
           ast.LtE: operator.le, ast.Eq: operator.eq, ast.NotEq: operator.ne}


class _ToArrayOps(ast.NodeTransformer):
    # Arithmetic and dualml calls -> the array rules (kernels, no NumPy warnings,
    # zero-tangent convention); comparisons -> on innermost values.
    def __init__(self, names):
        self.names = names

    def visit_BinOp(self, node):
        self.generic_visit(node)
        op = _BINOPS[type(node.op)]
        return ast.Call(ast.Name("_B", ast.Load()), [ast.Constant(op), node.left, node.right], [])

    def visit_UnaryOp(self, node):
        self.generic_visit(node)
        if isinstance(node.op, ast.UAdd):
            return node.operand
        if isinstance(node.operand, ast.Constant):
            return ast.Constant(-node.operand.value)
        return ast.Call(ast.Name("_U", ast.Load()), [ast.Constant("negative"), node.operand], [])

    def visit_Compare(self, node):
        self.generic_visit(node)
        (op,) = node.ops
        (right,) = node.comparators
        return ast.Call(ast.Name("_C", ast.Load()),
                        [ast.Constant(type(op).__name__), node.left, right], [])

    def visit_Call(self, node):
        self.generic_visit(node)
        name = node.func.id
        if name in self.names:
            kind = "_B" if len(node.args) == 2 else "_U"
            return ast.Call(ast.Name(kind, ast.Load()), [ast.Constant(name)] + node.args, [])
        return node


class _Nested:
    """One nested-column expression: a callable plus what its derivatives are.

    ``zero``: the partial is a constant (its derivatives vanish); ``unit``: the
    expression is a bare argument name (its derivative w.r.t. that argument
    is 1, others 0).
    """
    __slots__ = ("fn", "zero", "unit", "src", "uses_y")

    def __init__(self, fn, zero, unit, src, uses_y):
        self.fn, self.zero, self.unit, self.src = fn, zero, unit, src
        self.uses_y = uses_y


def _compile(expr, argnames):
    if expr == "CONST":
        return None
    tree = ast.parse(expr, mode="eval")
    zero = isinstance(tree.body, ast.Constant) or (
        isinstance(tree.body, ast.UnaryOp) and isinstance(tree.body.operand, ast.Constant))
    unit = tree.body.id if isinstance(tree.body, ast.Name) and tree.body.id in argnames else None
    tree = ast.fix_missing_locations(_ToArrayOps(_ALL_RULES).visit(tree))
    lam = ast.Expression(ast.Lambda(
        ast.arguments(posonlyargs=[], args=[ast.arg(a) for a in argnames], kwonlyargs=[],
                      kw_defaults=[], defaults=[]), tree.body))
    ast.fix_missing_locations(lam)
    fn = eval(compile(lam, f"<dual_rules.def: {expr}>", "eval"), _EXPR_NS)
    uses_y = any(isinstance(n, ast.Name) and n.id == "y" for n in ast.walk(tree))
    return _Nested(fn, zero, unit, expr, uses_y)


def _cmp(opname, a, b):
    return _CMP_FUNCS[opname](_inner_operand(a), _inner_operand(b))


_CMP_FUNCS = {k.__name__: v for k, v in _CMPOPS.items()}


def _branch(cond, u, v):
    # branch(cond, u, v) of the table: cond on values, both branches computed.
    if isinstance(cond, (bool, np.bool_)) or (type(cond) is _nd and cond.ndim == 0):
        return u if cond else v
    return _where(cond, _operand(u), _operand(v))


_UNARY_SET = frozenset(_K.UNARY) - frozenset(_K.PARAM_DEFAULTS)
_UNARY_P = frozenset(_K.PARAM_DEFAULTS)
_BINARY_SET = frozenset(_K.BINARY)
_ALL_RULES = _UNARY_SET | _UNARY_P | _BINARY_SET

_EXPR_NS = {
    "_B": lambda name, a, b: _ew_binary(name, _operand(a), _operand(b)),
    "_U": lambda name, x, *p: _ew_unary(name, _operand(x), *p),
    "_C": _cmp,
    "branch": _branch,
    **_dual.RULE_CONSTANTS,         # DUAL_LN2, ..., NAN: the values of dual.h
    "__builtins__": {},
}


_NESTED_U, _NESTED_UP, _NESTED_B = _rule_tables()


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._elementwise import _ew_binary, _ew_unary  # noqa: E402
from ._joins import _where  # noqa: E402
from ._operands import _inner_operand, _nd, _operand  # noqa: E402
