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
    tangents: tuple = ()     # per partial: the C tangent column (an
                             # expression in the rule's names and t) or None

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


def _with_t(col):
    """(partial, tangent or None) of a derivative column: DUAL_WITH_T(d, t)."""
    if col.startswith("DUAL_WITH_T(") and col.endswith(")"):
        parts = _split_args(col[len("DUAL_WITH_T("):-1])
        if len(parts) != 2:
            raise ValueError(f"DUAL_WITH_T takes (partial, tangent): {col!r}")
        return parts[0], parts[1]
    return col, None


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
            # hand-written rules have hand-written tangent columns (dual.h)
            rule = Rule(kind, name, None, (), (args[1],), (f"dual_{name}_tcol(x, t)",))
        elif kind == "binary":
            (da, ta), (db, tb) = _with_t(args[2]), _with_t(args[3])
            nested = tuple(c if n == "SAME" else n for c, n in zip((da, db), args[4:6]))
            rule = Rule(kind, name, args[1], (da, db), nested, (ta, tb))
        else:
            d, t = _with_t(args[2])
            nested = d if args[3] == "SAME" else args[3]
            rule = Rule(kind, name, args[1], (d,), (nested,), (t,))
        rules.append(rule)
        pos = i
    names = [r.name for r in rules]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"rules defined twice: {sorted(dup)}")
    return rules
