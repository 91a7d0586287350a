"""Parse ``csrc/dual_rules.def``, the one table of derivative rules.

Pure Python with no imports from dualml, so ``setup.py`` can load it by path
before the extension exists.  The build renders the parsed table into the
Cython sources (``*.tp`` templates); the tests use it to check that every row
reached the compiled module.
"""
import os
import re
from typing import List, NamedTuple, Optional

__all__ = ["Rule", "parse_rules", "default_table_path"]


class Rule(NamedTuple):
    kind: str                # "unary", "unary_p", "unary_fn" or "binary"
    name: str                # NumPy's name: dualml.<name>, dual_<name> in C
    value: Optional[str]     # C value expression (None for unary_fn)
    derivs: tuple            # C partials: (d,) or (da, db)
    nested: tuple            # derivative(s) for nested duals: Python/Cython
                             # expressions, or "CONST"

    @property
    def nargs(self):
        return 2 if self.kind == "binary" else 1


_MACROS = {"DUAL_UNARY": "unary", "DUAL_UNARY_P": "unary_p",
           "DUAL_UNARY_FN": "unary_fn", "DUAL_BINARY": "binary"}
_ARITY = {"unary": 4, "unary_p": 4, "unary_fn": 2, "binary": 6}


def default_table_path():
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.path.join(here, "include", "dual_rules.def"),
                      os.path.join(os.path.dirname(here), "csrc", "dual_rules.def")):
        if os.path.exists(candidate):
            return candidate
    raise FileNotFoundError("dual_rules.def not found next to dualml or in csrc/")


def _split_args(text):
    """Split a macro argument list on top-level commas."""
    args, depth, cur = [], 0, []
    for ch in text:
        if ch == "," and depth == 0:
            args.append("".join(cur).strip())
            cur = []
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        cur.append(ch)
    args.append("".join(cur).strip())
    return [" ".join(a.split()) for a in args]


def parse_rules(path=None) -> List[Rule]:
    with open(path or default_table_path()) as fh:
        text = fh.read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    rules = []
    pos = 0
    pattern = re.compile(r"\b(DUAL_UNARY_P|DUAL_UNARY_FN|DUAL_UNARY|DUAL_BINARY)\s*\(")
    while True:
        m = pattern.search(text, pos)
        if not m:
            break
        kind = _MACROS[m.group(1)]
        depth, i = 1, m.end()
        while depth:
            if i >= len(text):
                raise ValueError("unbalanced parentheses in rule table")
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        args = _split_args(text[m.end():i - 1])
        if len(args) != _ARITY[kind]:
            raise ValueError(f"{m.group(1)}({args[0]}, ...): expected "
                             f"{_ARITY[kind]} columns, got {len(args)}")
        name = args[0]
        if kind == "unary_fn":
            rule = Rule(kind, name, None, (), (args[1],))
        elif kind == "binary":
            nested = tuple(c if n == "SAME" else n for c, n in zip(args[2:4], args[4:6]))
            rule = Rule(kind, name, args[1], tuple(args[2:4]), nested)
        else:
            nested = args[2] if args[3] == "SAME" else args[3]
            rule = Rule(kind, name, args[1], (args[2],), (nested,))
        rules.append(rule)
        pos = i
    names = [r.name for r in rules]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"rules defined twice: {sorted(dup)}")
    return rules


# ---------------------------------------------------------------------------
# Second partials in C, from the "nested" column
#
# Evaluating a rule's nested derivative expression on dual numbers (dual.h)
# seeded in one argument gives the derivative of that partial: f'' for a
# unary rule, f_aa / f_ab / f_bb for a binary one.  The expression is the
# table's (one source of truth); only its spelling changes: arithmetic and
# dualml calls become dual_* calls on ``dual`` structs where an operand
# moves and plain double arithmetic where none does; branch(c, u, v) becomes
# a ternary on values (the table's branches are eager but pure, so
# evaluating only the chosen one gives the same result).

_C_BINOPS = {"Add": "add", "Sub": "subtract", "Mult": "multiply", "Div": "divide"}
_C_BINOP_SYM = {"Add": "+", "Sub": "-", "Mult": "*", "Div": "/"}
_C_CMPOPS = {"Gt": ">", "GtE": ">=", "Lt": "<", "LtE": "<=", "Eq": "==", "NotEq": "!="}


def _c_translate(expr, env, kinds):
    """C code of a nested expression; env: name -> (C code, is_dual)."""
    import ast

    def num(v):
        return repr(float(v))

    def lift(code, is_dual):
        return code if is_dual else f"dual_make({code}, 0.0)"

    def call(name, args):
        kind = kinds.get(name)
        if kind is None:
            raise ValueError(f"nested expression {expr!r}: unknown function {name!r}")
        if kind == "binary":
            if len(args) != 2:
                raise ValueError(f"nested expression {expr!r}: {name} takes 2 arguments")
            (l, ld), (r, rd) = args
            if ld and rd:
                return f"dual_{name}({l}, {r})", True
            if ld:
                return f"dual_{name}_dc({l}, {r})", True
            if rd:
                return f"dual_{name}_cd({l}, {r})", True
            return f"dual_{name}(dual_make({l}, 0.0), dual_make({r}, 0.0)).value", False
        if kind == "unary_p":
            if len(args) != 2 or args[1][1]:
                raise ValueError(f"nested expression {expr!r}: {name}(x, p) needs a "
                                 f"constant p")
            (x, xd), (pc, _) = args
            return (f"dual_{name}({x}, {pc})", True) if xd else \
                (f"dual_{name}(dual_make({x}, 0.0), {pc}).value", False)
        if len(args) != 1:
            raise ValueError(f"nested expression {expr!r}: {name} takes 1 argument")
        ((x, xd),) = args
        return (f"dual_{name}({x})", True) if xd else \
            (f"dual_{name}(dual_make({x}, 0.0)).value", False)

    def value(code, is_dual):
        return f"({code}).value" if is_dual else f"({code})"

    def tr(node):
        if isinstance(node, ast.Constant):
            if not isinstance(node.value, (int, float)) or isinstance(node.value, bool):
                raise ValueError(f"nested expression {expr!r}: bad constant {node.value!r}")
            return num(node.value), False
        if isinstance(node, ast.Name):
            if node.id in env:
                return env[node.id]
            if node.id == "NAN":
                return "DUAL_NAN", False
            if node.id.startswith("DUAL_"):
                return node.id, False
            raise ValueError(f"nested expression {expr!r}: unknown name {node.id!r}")
        if isinstance(node, ast.UnaryOp):
            code, d = tr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return code, d
            if not isinstance(node.op, ast.USub):
                raise ValueError(f"nested expression {expr!r}: unsupported operator")
            return (f"dual_negative({code})", True) if d else (f"(-{code})", False)
        if isinstance(node, ast.BinOp):
            op = type(node.op).__name__
            if op not in _C_BINOPS:
                raise ValueError(f"nested expression {expr!r}: unsupported operator {op}")
            l, r = tr(node.left), tr(node.right)
            if not (l[1] or r[1]):
                return f"({l[0]} {_C_BINOP_SYM[op]} {r[0]})", False
            return call(_C_BINOPS[op], [l, r])
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise ValueError(f"nested expression {expr!r}: unsupported call")
            if node.func.id == "branch":
                if len(node.args) != 3:
                    raise ValueError(f"nested expression {expr!r}: branch takes 3 arguments")
                c = node.args[0]
                if not (isinstance(c, ast.Compare) and len(c.ops) == 1):
                    raise ValueError(f"nested expression {expr!r}: branch needs a comparison")
                cl, cr = tr(c.left), tr(c.comparators[0])
                cond = f"{value(*cl)} {_C_CMPOPS[type(c.ops[0]).__name__]} {value(*cr)}"
                u, v = tr(node.args[1]), tr(node.args[2])
                if u[1] or v[1]:
                    return f"(({cond}) ? {lift(*u)} : {lift(*v)})", True
                return f"(({cond}) ? {u[0]} : {v[0]})", False
            return call(node.func.id, [tr(a) for a in node.args])
        raise ValueError(f"nested expression {expr!r}: unsupported syntax "
                         f"{type(node).__name__}")

    return tr(ast.parse(expr, mode="eval").body)


def _c_deriv(expr, env, kinds):
    """(C expression of d(expr) along the seeded direction, names used)."""
    if expr == "CONST":
        return "0.0", set()
    import ast
    used = {n.id for n in ast.walk(ast.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    code, is_dual = _c_translate(expr, env, kinds)
    return (f"({code}).deriv" if is_dual else "0.0"), used


def _c_second_block(index, expr, seed, kinds):
    """C block storing o[index] = d(expr)/d(seed) for a binary rule: the
    operand `seed` ("a" or "b") moves with slope 1, the other is a constant,
    and y moves with the matching first partial (fa or fb)."""
    other = "b" if seed == "a" else "a"
    env = {seed: (seed.upper() + "_", True), other: (other, False), "y": ("Y_", True)}
    code, used = _c_deriv(expr, env, kinds)
    lines = ["    {"]
    if seed in used:
        lines.append(f"        const dual {seed.upper()}_ = dual_make({seed}, 1.0);")
    if "y" in used:
        lines.append(f"        const dual Y_ = dual_make(y, f{seed});")
    lines.append(f"        o[{index}] = dual_nanprop(y, a != a || b != b, {code});")
    lines.append("    }")
    return lines


# Second partials written by hand where the derivative of the nested column
# rounds so that an exact cancellation is lost.  divide: the array Hessian
# of x/x sums f_aa + 2 f_ab + f_bb with f_ab = -1/b^2 and f_bb = d(-y/b)/db;
# the latter, taken by dual arithmetic, is r*r + r/b with r = 1/b rounded,
# one ulp away from -2 f_ab, so x/x had a Hessian of -3.8e-6 at x = 1e-5
# (the scalar path gives 0).  f_bb = 2a/b^3 = -2 y f_ab is the same second
# partial, rounded so that 2 f_ab + f_bb is exactly 0 where y == 1.
_P2_OVERRIDE = {
    "divide": {4: "-2.0 * y * o[3]"},
}


def second_order_c(rules):
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
            rule_call = (f"dual_{r.name}_rule(x, p, &d)" if r.kind == "unary_p"
                         else f"dual_{r.name}_rule(x, &d)")
            env = {"x": ("X_", True), "y": ("Y_", True), "p": ("p", False)}
            d2, used = _c_deriv(r.nested[0], env, kinds)
            decl = []
            if "x" in used:
                decl.append("    const dual X_ = dual_make(x, 1.0);")
            if "y" in used:
                decl.append("    const dual Y_ = dual_make(y, d);")
            out.append("\n".join([
                f"static inline double dual_p2_{r.name}(double x, double p, double *o)",
                "{",
                f"    double d, y = {rule_call};",
                *decl,
                "    (void)p;",
                "    o[0] = d;",
                # a domain error (nan value from a non-nan x) has nan partials
                f"    o[1] = dual_nanprop(y, x != x, {d2});",
                "    return y;",
                "}"]))
            continue
        na, nb = r.nested
        lines = [
            f"static inline double dual_p2_{r.name}(double a, double b, double *o)",
            "{",
            f"    double fa, fb, y = dual_{r.name}_rule(a, b, &fa, &fb);",
            "    o[0] = fa;",
            "    o[1] = fb;",
        ]
        lines += _c_second_block(2, na, "a", kinds)
        # f_ab: the b-derivative of the nested f_a expression, or the
        # a-derivative of f_b's when f_a is CONST
        lines += (_c_second_block(3, nb, "a", kinds) if na == "CONST"
                  else _c_second_block(3, na, "b", kinds))
        lines += _c_second_block(4, nb, "b", kinds)
        for index, expr in _P2_OVERRIDE.get(r.name, {}).items():
            # replaces the block computing o[index] (index 4 is the last one)
            assert index == 4 and lines[-1] == "    }"
            del lines[len(lines) - lines[::-1].index("    {") - 1:]
            lines += ["    {", f"        o[{index}] = dual_nanprop(y, a != a || b != b, {expr});",
                      "    }"]
        lines += ["    return y;", "}"]
        out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"
