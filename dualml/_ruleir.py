"""The rule table's nested column as one IR, and one emitter per target.

Design
------
Build time only (setup.py loads it by path; nothing imports it at run time).
``parse_nested`` turns each nested expression of csrc/dual_rules.def into a
small typed tree, once: numbers, variables (x, y, p / a, b, y), the DUAL_*
constants and NAN, negation, arithmetic, calls of rules, and
``branch(cmp, u, v)`` whose comparison is on innermost values.  ``Partial``
wraps an expression with the two conventions every target must share: a
domain error (nan value from non-nan inputs) makes the partial nan along
every moving direction (nan propagation), and CONST partials come from the
C rule at the innermost value.  The emitters spell the same tree as Cython
(scalar nested Dual), C (second partials ``dual_p2_<name>``) and Python
array operations (the generated dualml/arrays/_nested_rules.py).
"""
import ast
from typing import NamedTuple, Optional, Tuple

__all__ = ["Num", "Var", "Const", "Neg", "Arith", "Call", "Branch", "Partial",
           "parse_nested", "partials_of", "build", "cython_partial", "JOINT_TANGENTS", "emit_cython", "emit_c", "emit_array",
           "array_module", "second_order_c"]


# -- the IR ---------------------------------------------------------------------

class Num(NamedTuple):
    value: float


class Var(NamedTuple):
    name: str            # an argument: x, y, p (unary) or a, b, y (binary)


class Const(NamedTuple):
    name: str            # DUAL_LN2, ..., NAN: the values of dual.h


class Neg(NamedTuple):
    arg: object


class Arith(NamedTuple):
    op: str              # add, subtract, multiply, divide (rules of the table)
    left: object
    right: object


class Call(NamedTuple):
    fn: str              # a rule of the table
    args: tuple


class Branch(NamedTuple):
    cmp: str             # <, <=, >, >=, ==, != on innermost values
    left: object
    right: object
    then: object         # lazy in C and Cython; eager on arrays, hence the
    other: object        # table's rule that the branch not taken is harmless


class Partial(NamedTuple):
    """One partial of one rule for nested operands.

    ``expr`` is None for CONST (the C rule's partial at the innermost value;
    its own derivatives are 0).  ``inputs`` are the operands whose nan-ness
    decides nan propagation (("x",) or ("a", "b")).  ``zero``: the partial is
    a constant; ``unit``: it is a bare argument name.
    """
    rule: str
    which: int           # 0 (d/dx, d/da) or 1 (d/db)
    expr: Optional[object]
    inputs: Tuple[str, ...]
    zero: bool
    unit: Optional[str]
    uses: frozenset      # variable names the expression reads


# the constants of dual.h the nested column may name (dual.RULE_CONSTANTS)
CONSTANTS = ("DUAL_LN2", "DUAL_LN10", "DUAL_LOG2E", "DUAL_LOG10E", "DUAL_2_SQRTPI",
             "DUAL_SQRT1_2", "DUAL_1_SQRT2PI")

_ARITH = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}
_CMP = {ast.Gt: ">", ast.GtE: ">=", ast.Lt: "<", ast.LtE: "<=", ast.Eq: "==",
        ast.NotEq: "!="}


def parse_nested(expr, argnames, kinds, constants=()):
    """The IR of one nested expression (a string of the table).

    Parameters: ``argnames`` the variables it may read, ``kinds`` rule name
    -> kind (for arity checks), ``constants`` the DUAL_* names it may use.
    Raises ValueError naming the expression for anything outside the grammar.
    """
    def bad(msg):
        return ValueError(f"nested expression {expr!r}: {msg}")

    def tr(node):
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise bad(f"bad constant {node.value!r}")
            return Num(float(node.value))
        if isinstance(node, ast.Name):
            if node.id in argnames:
                return Var(node.id)
            if node.id == "NAN" or node.id in constants:
                return Const(node.id)
            raise bad(f"unknown name {node.id!r}")
        if isinstance(node, ast.UnaryOp):
            arg = tr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return arg
            if not isinstance(node.op, ast.USub):
                raise bad("unsupported operator")
            return Num(-arg.value) if type(arg) is Num else Neg(arg)
        if isinstance(node, ast.BinOp):
            if type(node.op) not in _ARITH:
                raise bad(f"unsupported operator {type(node.op).__name__}")
            return Arith(_ARITH[type(node.op)], tr(node.left), tr(node.right))
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise bad("unsupported call")
            name = node.func.id
            if name == "branch":
                if len(node.args) != 3:
                    raise bad("branch takes 3 arguments")
                c = node.args[0]
                if not (isinstance(c, ast.Compare) and len(c.ops) == 1):
                    raise bad("branch needs one comparison")
                return Branch(_CMP[type(c.ops[0])], tr(c.left), tr(c.comparators[0]),
                              tr(node.args[1]), tr(node.args[2]))
            kind = kinds.get(name)
            if kind is None:
                raise bad(f"unknown function {name!r}")
            want = 2 if kind in ("binary", "unary_p") else 1
            if len(node.args) != want:
                raise bad(f"{name} takes {want} argument(s)")
            args = tuple(tr(a) for a in node.args)
            if kind == "unary_p" and _moves(args[1]):
                raise bad(f"{name}(x, p) needs a constant p")
            return Call(name, args)
        raise bad(f"unsupported syntax {type(node).__name__}")

    return tr(ast.parse(expr, mode="eval").body)


def _moves(node):
    # a variable other than p occurs: the subtree is a dual on nested paths
    return any(type(n) is Var and n.name != "p" for n in _walk(node))


def _walk(node):
    yield node
    if type(node) in (Num, Var, Const):
        return
    kids = node.args if type(node) is Call else node[1:] if type(node) is not Neg else (node.arg,)
    for k in kids:
        yield from _walk(k)


def partials_of(rule, kinds, constants):
    """The Partial objects of one parsed rule (dualml._ruletable.Rule)."""
    if rule.kind == "binary":
        argnames, inputs = ("a", "b", "y"), ("a", "b")
    elif rule.kind == "unary_p":
        argnames, inputs = ("x", "y", "p"), ("x",)
    else:
        argnames, inputs = ("x", "y"), ("x",)
    out = []
    for which, src in enumerate(rule.nested):
        if src == "CONST":
            out.append(Partial(rule.name, which, None, inputs, True, None, frozenset()))
            continue
        e = parse_nested(src, argnames, kinds, constants)
        uses = frozenset(n.name for n in _walk(e) if type(n) is Var)
        unit = e.name if type(e) is Var and e.name in inputs else None
        out.append(Partial(rule.name, which, e, inputs, type(e) is Num, unit, uses))
    return out


# -- Cython: the scalar nested Dual (dual.pyx, _functions.pxi) -----------------------
#
# Arithmetic goes through dualml's dispatchers (_f_add, ...) so that two
# plain floats follow IEEE like the C rules (Python's 1.0 / 0.0 raises);
# branch() is a conditional expression on innermost values (_primal).

def emit_cython(node):
    t = type(node)
    if t is Num:
        return repr(node.value)
    if t is Var:
        return node.name
    if t is Const:
        return "DUAL_NAN" if node.name == "NAN" else node.name
    if t is Neg:
        return f"_f_negative({emit_cython(node.arg)})"
    if t is Arith:
        return f"_f_{node.op}({emit_cython(node.left)}, {emit_cython(node.right)})"
    if t is Call:
        return f"_f_{node.fn}({', '.join(emit_cython(a) for a in node.args)})"
    if t is Branch:
        return (f"({emit_cython(node.then)} if _primal({emit_cython(node.left)}) {node.cmp} "
                f"_primal({emit_cython(node.right)}) else {emit_cython(node.other)})")
    raise TypeError(node)


def cython_partial(p):
    """Body expression of ``_nd[a|b]_<rule>``: the partial with nan propagation
    (``_nanprop`` of dual.pyx, dual_nanprop of dual.h for nested operands)."""
    if p.expr is None:
        raise ValueError("CONST partials are rendered by the template (the C rule)")
    return f"_nanprop(y, {emit_cython(p.expr)}, {', '.join(p.inputs)})"


# -- Python array operations: dualml/arrays/_nested_rules.py --------------------------
#
# Arithmetic and rule calls -> the array rules (_B, _U of _nested: kernels, no
# NumPy warnings, zero-tangent convention); comparisons -> _C on innermost
# values; branch -> _branch (np.where on values; both sides computed).

def emit_array(node, kinds):
    t = type(node)
    if t is Num:
        return repr(node.value)
    if t is Var:
        return node.name
    if t is Const:
        return f"_RC[{node.name!r}]"
    if t is Neg:
        return f"_U('negative', {emit_array(node.arg, kinds)})"
    if t is Arith:
        return f"_B({node.op!r}, {emit_array(node.left, kinds)}, {emit_array(node.right, kinds)})"
    if t is Call:
        tag = "_B" if kinds[node.fn] == "binary" else "_U"
        return f"{tag}({node.fn!r}, {', '.join(emit_array(a, kinds) for a in node.args)})"
    if t is Branch:
        cond = f"_C({node.cmp!r}, {emit_array(node.left, kinds)}, {emit_array(node.right, kinds)})"
        return f"_branch({cond}, {emit_array(node.then, kinds)}, {emit_array(node.other, kinds)})"
    raise TypeError(node)


def array_partial(rule, p, kinds):
    """Python expression of one partial on array operands (before _nanprop)."""
    if p.expr is not None:
        return emit_array(p.expr, kinds)
    args = {"binary": "a, b", "unary_p": "x, p"}.get(rule.kind, "x")
    return f"_const_partial({rule.name!r}, {p.which}, {args})"


def array_module(rules, table):
    """Source of dualml/arrays/_nested_rules.py for the parsed table."""
    kinds = {r.name: r.kind for r in rules}
    lines = [
        '"""The rule table\'s nested column as array operations (generated).',
        "",
        "Written by setup.py from csrc/dual_rules.def through dualml/_ruleir.py",
        "(emit_array); never edit or commit.  Each function returns one partial of",
        "one rule for nested DualArray operands, nan propagation included",
        "(_nanprop, the array spelling of dual.h's dual_nanprop).  UNARY,",
        "UNARY_P and BINARY map a rule to (function, zero, unit, uses_y, source);",
        "CONST partials are the C partial at the innermost value (_const_partial).",
        '"""',
        "from ._nested import _B, _C, _RC, _U, _branch, _const_partial, _nanprop",
        "",
        "",
    ]
    unary, unary_p, binary = [], [], []
    for r in rules:
        parts = table[r.name]
        entries = []
        for p in parts:
            fname = f"_nd{'ab'[p.which] if r.kind == 'binary' else ''}_{r.name}"
            args = {"binary": "a, b, y", "unary_p": "x, y, p"}.get(r.kind, "x, y")
            lines += [f"def {fname}({args}):",
                      f"    return _nanprop({array_partial(r, p, kinds)}, y, {', '.join(p.inputs)})",
                      "", ""]
            src = r.nested[p.which]
            entries.append(f"({fname}, {p.zero!r}, {p.unit!r}, {'y' in p.uses!r}, {src!r})")
        if r.kind == "binary":
            binary.append(f"    {r.name!r}: ({entries[0]},\n        {entries[1]}),")
        elif r.kind == "unary_p":
            unary_p.append(f"    {r.name!r}: {entries[0]},")
        else:
            unary.append(f"    {r.name!r}: {entries[0]},")
    for name, body in (("UNARY", unary), ("UNARY_P", unary_p), ("BINARY", binary)):
        lines += [f"{name} = {{", *body, "}", ""]
    return "\n".join(lines).rstrip() + "\n"


# -- C: second partials for the array Hessian kernels (dual_p2_<name>) -------------
#
# Evaluating a partial's expression on dual numbers (dual.h) seeded in one
# argument gives the derivative of that partial: f'' for a unary rule,
# f_aa / f_ab / f_bb for a binary one.  Arithmetic and calls become dual_*
# calls on ``dual`` structs where an operand moves and plain double
# arithmetic where none does; branch(c, u, v) becomes a ternary on values.

_C_SYM = {"add": "+", "subtract": "-", "multiply": "*", "divide": "/"}


def emit_c(node, env, kinds):
    """(C code, is_dual) of an IR node; env: variable -> (C code, is_dual)."""
    def lift(code, d):
        return code if d else f"dual_make({code}, 0.0)"

    def call(name, args):
        kind = kinds[name]
        if kind == "binary":
            (l, ld), (r, rd) = args
            if ld and rd:
                return f"dual_{name}({l}, {r})", True
            if ld:
                return f"dual_{name}_dc({l}, {r})", True
            if rd:
                return f"dual_{name}_cd({l}, {r})", True
            return f"dual_{name}(dual_make({l}, 0.0), dual_make({r}, 0.0)).value", False
        if kind == "unary_p":
            (x, xd), (pc, _) = args
            return (f"dual_{name}({x}, {pc})", True) if xd else \
                (f"dual_{name}(dual_make({x}, 0.0), {pc}).value", False)
        ((x, xd),) = args
        return (f"dual_{name}({x})", True) if xd else \
            (f"dual_{name}(dual_make({x}, 0.0)).value", False)

    def value(code, d):
        return f"({code}).value" if d else f"({code})"

    def tr(node):
        t = type(node)
        if t is Num:
            return repr(node.value), False
        if t is Var:
            return env[node.name]
        if t is Const:
            return ("DUAL_NAN" if node.name == "NAN" else node.name), False
        if t is Neg:
            code, d = tr(node.arg)
            return (f"dual_negative({code})", True) if d else (f"(-{code})", False)
        if t is Arith:
            l, r = tr(node.left), tr(node.right)
            if not (l[1] or r[1]):
                return f"({l[0]} {_C_SYM[node.op]} {r[0]})", False
            return call(node.op, [l, r])
        if t is Call:
            return call(node.fn, [tr(a) for a in node.args])
        if t is Branch:
            cond = f"{value(*tr(node.left))} {node.cmp} {value(*tr(node.right))}"
            u, v = tr(node.then), tr(node.other)
            if u[1] or v[1]:
                return f"(({cond}) ? {lift(*u)} : {lift(*v)})", True
            return f"(({cond}) ? {u[0]} : {v[0]})", False
        raise TypeError(node)

    return tr(node)


def _c_deriv(p, env, kinds):
    """C expression of d(partial)/d(seeded direction)."""
    if p.expr is None:
        return "0.0"
    code, is_dual = emit_c(p.expr, env, kinds)
    return f"({code}).deriv" if is_dual else "0.0"


def _c_nanprop(inputs, code):
    # the C spelling of Partial's nan propagation, as in cython_partial
    cond = " || ".join(f"{v} != {v}" for v in inputs)
    return f"dual_nanprop(y, {cond}, {code})"


def _c_second_block(index, p, seed, kinds):
    """C block storing o[index] = d(partial)/d(seed) for a binary rule: the
    operand ``seed`` moves with slope 1, the other is a constant, and y moves
    with the matching first partial (fa or fb)."""
    other = "b" if seed == "a" else "a"
    env = {seed: (seed.upper() + "_", True), other: (other, False), "y": ("Y_", True)}
    lines = ["    {"]
    if seed in p.uses:
        lines.append(f"        const dual {seed.upper()}_ = dual_make({seed}, 1.0);")
    if "y" in p.uses:
        lines.append(f"        const dual Y_ = dual_make(y, f{seed});")
    lines.append(f"        o[{index}] = {_c_nanprop(p.inputs, _c_deriv(p, env, kinds))};")
    lines.append("    }")
    return lines


# Second partials that the IR states as an identity of the rule rather than
# by differentiating its partial, where the dual-arithmetic derivative rounds
# so that an exact cancellation is lost.  divide: the array Hessian of x/x
# sums f_aa + 2 f_ab + f_bb with f_ab = -1/b^2 and f_bb = d(-y/b)/db; the
# latter, by dual arithmetic, is r*r + r/b with r = 1/b rounded, one ulp away
# from -2 f_ab, so x/x had a Hessian of -3.8e-6 at x = 1e-5 (the scalar path
# gives 0).  f_bb = -2 y f_ab is the same second partial, rounded so that
# 2 f_ab + f_bb is exactly 0 where y == 1.
SECOND_PARTIAL_IDENTITIES = {
    "divide": {4: "-2.0 * y * o[3]"},
}


# Rules whose nested tangent, where both operands move in one
# differentiation, is one expression rather than the sum of the partials'
# products: divide's (ta - y tb) / b.  The sum ta/b - (y/b) tb differentiated
# again gives -tb/b^2 + ..., which overflows to inf - inf = nan for x / x at
# |x| < 1e-154 (the exact second derivative is 0: ta - y tb is exactly 0).
# Rendered by _functions.pxi.tp (_joint_<name> in dual.pyx.tp) and used by
# arrays/_elementwise.py; domain errors keep the partials (nan propagation).
JOINT_TANGENTS = ("divide",)


def second_order_c(rules, table):
    """C source of ``dual_p2_<name>`` for every rule: value, partials and
    second partials at doubles.

    Unary:  ``double dual_p2_f(double x, double p, double *o)`` returns y,
    o[0] = f', o[1] = f''.  Binary: ``double dual_p2_f(double a, double b,
    double *o)`` returns y, o = (f_a, f_b, f_aa, f_ab, f_bb).  f_ab is the
    b-derivative of the nested f_a expression (of f_b's when f_a is CONST).
    """
    kinds = {r.name: r.kind for r in rules}
    out = []
    for r in rules:
        if r.kind != "binary":
            (p,) = table[r.name]
            rule_call = (f"dual_{r.name}_rule(x, p, &d)" if r.kind == "unary_p"
                         else f"dual_{r.name}_rule(x, &d)")
            env = {"x": ("X_", True), "y": ("Y_", True), "p": ("p", False)}
            decl = []
            if "x" in p.uses:
                decl.append("    const dual X_ = dual_make(x, 1.0);")
            if "y" in p.uses:
                decl.append("    const dual Y_ = dual_make(y, d);")
            out.append("\n".join([
                f"static inline double dual_p2_{r.name}(double x, double p, double *o)",
                "{",
                f"    double d, y = {rule_call};",
                *decl,
                "    (void)p;",
                "    o[0] = d;",
                f"    o[1] = {_c_nanprop(p.inputs, _c_deriv(p, env, kinds))};",
                "    return y;",
                "}"]))
            continue
        pa, pb = table[r.name]
        lines = [
            f"static inline double dual_p2_{r.name}(double a, double b, double *o)",
            "{",
            f"    double fa, fb, y = dual_{r.name}_rule(a, b, &fa, &fb);",
            "    o[0] = fa;",
            "    o[1] = fb;",
        ]
        ident = SECOND_PARTIAL_IDENTITIES.get(r.name, {})
        blocks = [(2, pa, "a"),
                  # f_ab: the b-derivative of f_a, or the a-derivative of f_b
                  # when f_a is CONST
                  (3, pb, "a") if pa.expr is None else (3, pa, "b"),
                  (4, pb, "b")]
        for index, p, seed in blocks:
            if index in ident:
                lines += ["    {", f"        o[{index}] = {_c_nanprop(p.inputs, ident[index])};",
                          "    }"]
            else:
                lines += _c_second_block(index, p, seed, kinds)
        lines += ["    return y;", "}"]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"


def build(rules, constants):
    """rule name -> its Partial objects (the one IR of the table)."""
    kinds = {r.name: r.kind for r in rules}
    return {r.name: partials_of(r, kinds, constants) for r in rules}
