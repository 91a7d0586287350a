"""solve_ivp under two nested differentiations (hessian, crossed DGSM): the ODE over duals.

Design
------
* A value carrying derivatives of several differentiations (nested Duals,
  nested DualArrays, or hessian's second-order DualArray rows ``_o2``) is a
  point of a truncated polynomial algebra A; y' = f(t, y) over A is an ODE
  whose real components are y, its first and its mixed second derivatives.
  It is integrated as ONE real system z = components(y) by SciPy, so the
  error control covers every component; f is evaluated on the rebuilt
  nested values under the inputs' OWN tags, so dualml differentiates f
  itself and the result goes back to the enclosing differentiations as is.
* ``levels``: the differentiations found in the inputs, outermost (largest
  tag) first; a level of K tangent rows multiplies the components by 1 + K.
  ``flatten``/``build`` convert between values and components
  ((C,) + shape, value first, then the (C', K) tangent components).
* Stiff methods: the Newton matrix uses J_y(value) on each component block
  (the coupling through the tangents is strictly lower triangular, so the
  simplified Newton iteration still converges; the accuracy is set by the
  error control, not by this matrix) -- CVODES' simultaneous corrector makes
  the same block-diagonal approximation.  The exact matrix would cost C n
  directions per Jacobian.
"""
import numpy as np

from . import dual as _dual
from .dual import Dual

__all__ = []


class Level:
    """One differentiation: its tag, kind ("scalar"/"array"), K rows, o2 layout."""

    __slots__ = ("tag", "kind", "K", "o2", "multi")

    def __init__(self, tag, kind, K, o2, multi):
        self.tag, self.kind, self.K, self.o2, self.multi = tag, kind, K, o2, multi

    def __repr__(self):
        return f"Level(tag={self.tag}, kind={self.kind}, K={self.K}, o2={self.o2})"


_MIXED = ("solve_ivp(): the inputs carry derivatives of nested differentiations of "
          "different kinds (scalar Duals and DualArrays, or different numbers of "
          "directions for one differentiation); pass y0, params and args of one kind "
          "(all ndarrays, or all lists) to the enclosing dualml call")


def _meet(found, tag, kind, K, o2, multi):
    lv = found.get(tag)
    if lv is None:
        found[tag] = Level(tag, kind, K, o2, multi)
    elif lv.kind != kind or lv.K != K or lv.o2 != o2:
        raise ValueError(_MIXED)
    elif multi:
        lv.multi = True


def _walk(x, found, DualArray):
    if DualArray is not None and type(x) is DualArray:
        _meet(found, x._tag, "array", x._d.shape[0], x._o2, False)
        _walk(x._v, found, DualArray)
        _walk(x._d, found, DualArray)
    elif isinstance(x, Dual):
        tag = _dual._tag_of(x)
        v, d = _dual._split(x, tag)
        parts = d if type(d) is tuple else (d,)
        _meet(found, tag, "scalar", len(parts), None, type(d) is tuple)
        _walk(v, found, DualArray)
        for p in parts:
            _walk(p, found, DualArray)
    elif type(x) in (list, tuple):
        for e in x:
            _walk(e, found, DualArray)
    elif isinstance(x, np.ndarray) and x.dtype == object:
        for e in x.ravel():
            _walk(e, found, DualArray)


def levels_of(inputs, DualArray):
    """The differentiations carried by inputs, outermost first (a list of Level)."""
    found = {}
    for x in inputs:
        _walk(x, found, DualArray)
    levels = sorted(found.values(), key=lambda lv: -lv.tag)
    if len({lv.kind for lv in levels}) > 1:
        raise ValueError(_MIXED)
    return levels


def needs_nested(levels):
    """Whether the inputs need this module (first-order inputs go the plain way)."""
    return len(levels) > 1 or any(lv.o2 is not None for lv in levels)


def n_components(levels):
    c = 1
    for lv in levels:
        c *= 1 + lv.K
    return c


# -- values <-> real components -------------------------------------------------------

class ClosureError(ValueError):
    """f's result carried a differentiation that none of the inputs carries."""


def flatten(x, levels, kind, what):
    """The real components of x: (C,) + shape, value first."""
    if kind == "array":
        return _flatten_array(x, levels, what)
    a = x if isinstance(x, np.ndarray) and x.dtype == object else _object_array(x, what)
    return _flatten_objects(a, levels, what)


def _object_array(x, what):
    try:
        a = np.array(x, dtype=object)
    except ValueError:
        a = None
    if a is None or any(type(e) in (list, tuple) for e in a.ravel()):
        raise TypeError(f"solve_ivp(): {what} is a ragged sequence; pass one array of "
                        f"numbers/Duals")
    return a


def _plain_components(x, what):
    DualArray = _dualarray()
    if (DualArray is not None and type(x) is DualArray) or isinstance(x, Dual) or \
            (isinstance(x, np.ndarray) and x.dtype == object and
             any(isinstance(e, Dual) for e in x.ravel())):
        raise ClosureError(what)
    return np.asarray(x, dtype=np.float64)[None]


def _flatten_array(x, levels, what):
    if not levels:
        return _plain_components(x, what)
    from .arrays._operands import _operand
    DualArray = _dualarray()
    lv, rest = levels[0], levels[1:]
    if type(x) is not DualArray and isinstance(x, (list, tuple, np.ndarray)):
        x = _operand(x, f"solve_ivp(): {what}")
    if type(x) is DualArray and x._tag == lv.tag:
        if x._o2 != lv.o2:
            raise ValueError(_MIXED)
        v, d = x._v, x._d
    elif type(x) is DualArray and x._tag > lv.tag:
        raise ClosureError(what)
    else:
        v = x
        d = np.zeros((lv.K,) + np.shape(x))
    cv = _flatten_array(v, rest, what)
    cd = _flatten_array(d, rest, what)                  # (C', K) + shape
    return np.concatenate([cv, cd.reshape((-1,) + cv.shape[1:])])


def _flatten_objects(a, levels, what):
    if not levels:
        return _plain_components(a, what)
    lv, rest = levels[0], levels[1:]
    K = lv.K
    V = np.empty(a.shape, dtype=object)
    Dk = np.empty((K,) + a.shape, dtype=object)
    Vf, Df = V.reshape(-1), Dk.reshape(K, -1)
    for j, e in enumerate(a.ravel()):
        if isinstance(e, Dual) and _dual._tag_of(e) > lv.tag:
            raise ClosureError(what)
        try:
            v, d = _dual._split(e, lv.tag)
        except TypeError:
            raise TypeError(f"solve_ivp(): {what} must hold real numbers or Duals, found "
                            f"{type(e).__name__}") from None
        Vf[j] = v
        if type(d) is tuple:
            if len(d) != K:
                raise ValueError(_MIXED)
            Df[:, j] = d
        elif K == 1:
            Df[0, j] = d
        elif isinstance(d, Dual) or d != 0.0:
            raise ValueError(_MIXED)
        else:                           # e does not carry this differentiation
            Df[:, j] = 0.0
    cv = _flatten_objects(V, rest, what)
    cd = _flatten_objects(Dk, rest, what)               # (C', K) + shape
    return np.concatenate([cv, cd.reshape((-1,) + cv.shape[1:])])


def build(Z, levels, kind):
    """The value of components Z (C,) + shape: the inverse of flatten."""
    if kind == "array":
        return _build_array(Z, levels)
    return _build_objects(Z, levels)


def _build_array(Z, levels):
    if not levels:
        return np.ascontiguousarray(Z[0], dtype=np.float64)
    from .arrays import _new
    lv, rest = levels[0], levels[1:]
    c = Z.shape[0] // (1 + lv.K)
    v = _build_array(Z[:c], rest)
    d = _build_array(Z[c:].reshape((c, lv.K) + Z.shape[1:]), rest)
    return _new(v, d, lv.tag, lv.o2)


def _build_objects(Z, levels):
    if not levels:
        out = np.empty(Z.shape[1:], dtype=object)
        out.reshape(-1)[:] = np.asarray(Z[0], dtype=np.float64).ravel().tolist()
        return out
    lv, rest = levels[0], levels[1:]
    K = lv.K
    c = Z.shape[0] // (1 + K)
    V = _build_objects(Z[:c], rest)
    Dk = _build_objects(Z[c:].reshape((c, K) + Z.shape[1:]), rest)
    out = np.empty(V.shape, dtype=object)
    Vf, Df, of = V.reshape(-1), Dk.reshape(K, -1), out.reshape(-1)
    multi = lv.multi or K > 1
    for j in range(Vf.shape[0]):
        of[j] = _dual._seed(lv.tag, Vf[j], tuple(Df[:, j]) if multi else Df[0, j])
    return out


_DUALARRAY = []


def _dualarray():
    if not _DUALARRAY:
        try:
            from .arrays import DualArray
        except ModuleNotFoundError as exc:
            if exc.name != "dualml.arrays":
                raise
            DualArray = None
        _DUALARRAY.append(DualArray)
    return _DUALARRAY[0]


# -- the system SciPy integrates ----------------------------------------------------------

class NestedSystem:
    """z' = components(f(t, build(z), *args)); args go to fun as they came."""

    def __init__(self, fun, n, levels, kind, call_args, plain_args, closure_msg):
        self.fun, self.n, self.levels, self.kind = fun, n, levels, kind
        self.call_args, self.plain_args = call_args, plain_args
        self.C = n_components(levels)
        self._closure_msg = closure_msg

    def rhs(self, t, z):
        n, C = self.n, self.C
        Y = build(z.reshape(C, n), self.levels, self.kind)
        r = self.fun(t, Y, *self.call_args)
        try:
            Z = flatten(r, self.levels, self.kind, "fun's result")
        except ClosureError:
            raise ValueError(self._closure_msg) from None
        if Z.shape != (C, n):
            name = getattr(self.fun, "__name__", "fun")
            raise ValueError(f"solve_ivp(): fun ({name}) returned shape {Z.shape[1:]} for "
                             f"y of shape ({n},); it must return dy/dt of y's shape")
        return Z.reshape(-1)

    def jac(self, t, z):
        """Block diagonal: J_y at the value on each of the C component blocks."""
        from .calculus import jacobian
        n = self.n
        y = np.array(z[:n], dtype=np.float64)

        def g(yy):
            if self.kind == "scalar":           # fun takes y as rhs gives it
                Y = np.empty(n, dtype=object)
                Y[:] = yy
                yy = Y
            r = self.fun(t, yy, *self.plain_args)
            return list(r) if self.kind == "scalar" and isinstance(r, np.ndarray) else r
        J = jacobian(g, y if self.kind == "array" else y.tolist(), method=self.kind)
        J = np.asarray(J, dtype=np.float64).reshape(n, n)
        return np.kron(np.eye(self.C), J)


def plain_value(x, levels, kind, what):
    """x without its derivatives (component 0), for the Newton matrix's J_y."""
    Z = flatten(x, levels, kind, what)
    v = Z[0]
    return float(v) if v.ndim == 0 else v
