"""Safe arithmetic expressions for the command line (``dualml diff``).

Design
------
* The text is parsed with :mod:`ast` and checked against a whitelist before
  anything runs: numbers, the named variables, the constants ``pi`` and
  ``e``, ``+ - * / **``, unary ``-``/``+`` and calls of dualml's elementary
  functions by bare name.  Anything else -- attribute access, subscripts,
  lambdas, comprehensions, strings, unknown names or functions, keyword
  arguments a function does not take -- is an :class:`ExpressionError`
  naming the construct and its column.  Nothing is ever passed to ``eval``
  or ``compile``: the checked tree is evaluated by walking it here.
* Every number becomes a Python float at parse time and every operator is a
  dualml function (``dualml.power``, ...), so arithmetic is IEEE double with
  dualml's rules: ``9**9**9`` is ``inf`` at once, never a Python big-integer
  power that runs for hours, and ``1/0`` is ``inf`` as in NumPy.  The same
  functions take floats, Duals and nested Duals, so the expression can be
  differentiated (gradient, Hessian) like any Python function.
* Size limits (length, tree depth) keep the parser and the recursive walk
  away from Python's recursion limit.  A left-associated chain of binary
  operators (``x1 + x2 + ... + x500``) counts as one level: it is evaluated
  by a loop, left to right, in exactly Python's order.
* The parameters of leaky_relu and elu (alpha) are constants of the
  function, never differentiated: an expression with a variable there is
  refused at parse time, like any other misuse.
"""
import ast
import inspect
import math

from . import dual as _dual

__all__ = []    # private: used by dualml.__main__

MAX_LENGTH = 10_000     # characters of source
MAX_DEPTH = 200         # nesting depth of the syntax tree

CONSTANTS = {"pi": math.pi, "e": math.e, "inf": math.inf, "nan": math.nan}

_BINOPS = {ast.Add: ("+", _dual.add), ast.Sub: ("-", _dual.subtract),
           ast.Mult: ("*", _dual.multiply), ast.Div: ("/", _dual.divide),
           ast.Pow: ("**", _dual.power)}
_UNARYOPS = {ast.USub: _dual.negative, ast.UAdd: _dual.positive}

# names a user may call: dualml's rule functions, plus two familiar aliases
_ALIASES = {"abs": "absolute", "pow": "power"}


def _function_table():
    table = {}
    for name in _dual.UNARY:
        table[name] = (getattr(_dual, name), 1, ())
    for name in _dual.UNARY_PARAM:
        fn = getattr(_dual, name)
        try:
            params = tuple(inspect.signature(fn).parameters)[1:]
        except (TypeError, ValueError):     # no signature: positional only
            params = ()
        table[name] = (fn, 1 + len(params), params)
    for name in _dual.BINARY:
        table[name] = (getattr(_dual, name), 2, ())
    for alias, name in _ALIASES.items():
        table[alias] = table[name]
    return table


FUNCTIONS = _function_table()


class ExpressionError(ValueError):
    """An expression that dualml refuses to parse or evaluate."""


_DESCRIBE = {
    ast.Attribute: "attribute access", ast.Subscript: "subscripts",
    ast.Lambda: "lambda", ast.ListComp: "comprehensions", ast.SetComp: "comprehensions",
    ast.DictComp: "comprehensions", ast.GeneratorExp: "comprehensions",
    ast.IfExp: "conditional expressions", ast.Compare: "comparisons",
    ast.BoolOp: "'and'/'or'", ast.NamedExpr: "assignment (:=)",
    ast.List: "lists", ast.Tuple: "tuples", ast.Dict: "dicts", ast.Set: "sets",
    ast.Starred: "*-unpacking", ast.JoinedStr: "f-strings", ast.Await: "await",
    ast.Yield: "yield", ast.YieldFrom: "yield", ast.Slice: "slices",
}


def _where(node):
    col = getattr(node, "col_offset", None)
    return f" at column {col + 1}" if col is not None else ""


def _refuse(node, what):
    raise ExpressionError(f"not allowed{_where(node)}: {what}; an expression may use "
                          f"numbers, its variables, pi, e, + - * / ** and dualml "
                          f"functions such as sin(x)")


class Expression:
    """A checked expression; call it with the variables' values in order.

    Parameters
    ----------
    source : str
        The expression, e.g. ``"sin(x)*exp(y) + x**2"``.
    variables : sequence of str
        The variable names, in the order ``__call__`` takes their values.

    Examples
    --------
    >>> from dualml._expr import Expression
    >>> Expression("x**2 + 3*y", ["x", "y"])([2.0, 1.0])
    7.0
    """

    def __init__(self, source, variables):
        if not isinstance(source, str):
            raise ExpressionError(f"the expression must be a string, not "
                                  f"{type(source).__name__}")
        if len(source) > MAX_LENGTH:
            raise ExpressionError(f"the expression is {len(source)} characters long; "
                                  f"the limit is {MAX_LENGTH}")
        self.source = source
        self.variables = tuple(variables)
        for v in self.variables:
            _check_variable_name(v)
        if len(set(self.variables)) != len(self.variables):
            raise ExpressionError(f"variable names repeat: {', '.join(self.variables)}")
        try:
            tree = ast.parse(source.strip(), mode="eval")
        except SyntaxError as exc:
            # Python says "invalid syntax" plus a caret; keep the gist
            col = f" at column {exc.offset}" if exc.offset else ""
            raise ExpressionError(f"cannot parse the expression{col}: {exc.msg}") from None
        except (RecursionError, MemoryError, ValueError) as exc:
            raise ExpressionError(f"cannot parse the expression: {exc}") from None
        self._index = {v: i for i, v in enumerate(self.variables)}
        self.used = set()
        self._root = self._check(tree.body)

    # -- checking: an explicit stack, so deep input cannot hit the recursion limit
    def _check(self, root):
        stack = [(root, 1)]
        while stack:
            node, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise ExpressionError(f"the expression nests deeper than {MAX_DEPTH} "
                                      f"levels")
            children = self._check_node(node)
            for c in children:
                # the left operand of a binary operator that is itself one
                # continues a chain (a + b + c): same level, folded to a loop
                chain = type(node) is ast.BinOp and c is node.left and type(c) is ast.BinOp
                stack.append((c, depth if chain else depth + 1))
        return _fold(root)

    def _check_node(self, node):
        t = type(node)
        if t is ast.Constant:
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                _refuse(node, f"the constant {v!r}")
            try:
                node.value = float(v)   # floats only: no big-integer arithmetic
            except OverflowError:
                raise ExpressionError(f"the number{_where(node)} is too large for a "
                                      f"float") from None
            return ()
        if t is ast.Name:
            if node.id in self._index:
                self.used.add(node.id)
            elif node.id not in CONSTANTS:
                if node.id in FUNCTIONS:
                    raise ExpressionError(f"{node.id}{_where(node)} is a function; call "
                                          f"it, e.g. {node.id}(x)")
                known = ", ".join(self.variables) or "none"
                raise ExpressionError(f"unknown name {node.id!r}{_where(node)}: give its "
                                      f"value (e.g. --at {node.id}=1.0); variables given: "
                                      f"{known}")
            return ()
        if t is ast.BinOp:
            if type(node.op) not in _BINOPS:
                _refuse(node, f"the operator {type(node.op).__name__}")
            return (node.left, node.right)
        if t is ast.UnaryOp:
            if type(node.op) not in _UNARYOPS:
                _refuse(node, f"the operator {type(node.op).__name__}")
            return (node.operand,)
        if t is ast.Call:
            return self._check_call(node)
        _refuse(node, _DESCRIBE.get(t, type(node).__name__))

    def _check_call(self, node):
        func = node.func
        if type(func) is not ast.Name:
            _refuse(func, "calling anything but a dualml function by name (" +
                    _DESCRIBE.get(type(func), type(func).__name__) + ")")
        name = func.id
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name!r}{_where(func)}; available: "
                                  f"{', '.join(sorted(FUNCTIONS))}")
        _, nargs, params = FUNCTIONS[name]
        for a in node.args:
            if type(a) is ast.Starred:
                _refuse(a, "*-unpacking")
        given = len(node.args)
        for kw in node.keywords:
            if kw.arg is None:
                _refuse(kw.value, "**-unpacking")
            if kw.arg not in params:
                takes = (f"its parameter is {', '.join(params)}" if params
                         else "it takes no keyword arguments")
                raise ExpressionError(f"{name}() got the keyword {kw.arg!r}{_where(kw.value)}"
                                      f"; {takes}")
            pos = 1 + params.index(kw.arg)
            if pos < given:
                raise ExpressionError(f"{name}() got {kw.arg!r} twice")
        need = 1 if params else nargs      # parameters of UNARY_PARAM have defaults
        total = given + len(node.keywords)
        if not need <= total <= nargs or given < 1:
            want = f"{need} to {nargs}" if need != nargs else f"{nargs}"
            raise ExpressionError(f"{name}() takes {want} argument(s), got {total}"
                                  f"{_where(node)}")
        if params:
            given_params = list(zip(params, node.args[1:])) + \
                [(kw.arg, kw.value) for kw in node.keywords]
            for pname, value in given_params:
                var = next((n.id for n in ast.walk(value)
                            if type(n) is ast.Name and n.id in self._index), None)
                if var is not None:
                    raise ExpressionError(
                        f"{name}(): {pname} must be a constant{_where(value)} (it is a "
                        f"parameter of the function and is not differentiated), but it "
                        f"uses the variable {var}; give a number, e.g. {pname}=0.1")
        return tuple(node.args) + tuple(kw.value for kw in node.keywords)

    def __call__(self, values):
        """Evaluate at ``values`` (a sequence in the order of ``variables``)."""
        if len(values) != len(self.variables):
            raise ExpressionError(f"expected {len(self.variables)} value(s) for "
                                  f"{', '.join(self.variables)}, got {len(values)}")
        return _eval(self._root, values, self._index)

    def __repr__(self):
        return f"Expression({self.source!r}, variables={self.variables!r})"


def _check_variable_name(v):
    if not isinstance(v, str) or not v.isidentifier():
        raise ExpressionError(f"{v!r} is not a valid variable name (use letters, digits "
                              f"and _, not starting with a digit)")
    if v in CONSTANTS:
        raise ExpressionError(f"{v!r} is the constant {CONSTANTS[v]!r}; choose another "
                              f"variable name")
    if v in FUNCTIONS:
        raise ExpressionError(f"{v!r} is the name of a function; choose another variable "
                              f"name")


# -- evaluation: a compact tree of tuples, walked recursively (depth <= MAX_DEPTH) ----
_CONST, _VAR, _BIN, _UN, _CALL = range(5)


def _fold(node):
    t = type(node)
    if t is ast.Constant:
        return (_CONST, node.value)
    if t is ast.Name:
        if node.id in CONSTANTS:
            return (_CONST, CONSTANTS[node.id])
        return (_VAR, node.id)
    if t is ast.BinOp:
        # the left spine of a chain (a + b - c * d ...) without recursion:
        # (_BIN, first operand, ((fn, right operand), ...)), left to right
        rest = []
        while type(node) is ast.BinOp:
            rest.append((_BINOPS[type(node.op)][1], _fold(node.right)))
            node = node.left
        return (_BIN, _fold(node), tuple(reversed(rest)))
    if t is ast.UnaryOp:
        return (_UN, _UNARYOPS[type(node.op)], _fold(node.operand))
    fn = FUNCTIONS[node.func.id][0]
    return (_CALL, fn, tuple(_fold(a) for a in node.args),
            tuple((kw.arg, _fold(kw.value)) for kw in node.keywords))


def _eval(node, values, index):
    kind = node[0]
    if kind == _CONST:
        return node[1]
    if kind == _VAR:
        return values[index[node[1]]]
    if kind == _BIN:
        acc = _eval(node[1], values, index)
        for fn, right in node[2]:
            acc = fn(acc, _eval(right, values, index))
        return acc
    if kind == _UN:
        return node[1](_eval(node[2], values, index))
    args = [_eval(a, values, index) for a in node[2]]
    kwargs = {k: _eval(v, values, index) for k, v in node[3]}
    return node[1](*args, **kwargs)
