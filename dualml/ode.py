"""ODE solutions with their sensitivities: SciPy's solve_ivp on the forward sensitivity system.

Design
------
* y' = f(t, y, p) is integrated together with K sensitivity directions,
  s_k' = J_y s_k + J_p dp_k with s_k(0) = dy0_k, as ONE augmented system
  ``z = [y, s_1, ..., s_K]`` by ``scipy.integrate.solve_ivp`` (any method),
  so SciPy's error control covers the sensitivities as well as y.
* One evaluation of the augmented right-hand side is one pass of the user's
  f on dual inputs: y carries the tangents s_k and the differentiated
  arguments carry dp_k.  The array backend (a DualArray, one call for all K)
  or scalar Duals (K calls, object arrays) -- exact Jacobian-vector
  products, no finite differences.
* The stiff methods (BDF, Radau, LSODA) get the augmented Jacobian exactly:
  ``dualml.jacobian`` over y of that pass (nested: outer directions on y)
  gives ``[J_y; d(J_y s_k + J_p dp_k)/dy]``; J_y repeats on the diagonal.
* Directions: ``params`` -> the identity on p; ``y0_sensitivity`` -> the
  identity on y0; Duals arriving in y0/params/args (solve_ivp inside
  gradient/jacobian/dgsm) -> their own tangents, and the solution goes back
  as Duals/DualArray of their tag, so outer derivatives chain through.
* Events: from g(t_e, y(t_e), p) = 0, dt_e = -(g_y s + g_p dp)/(g_t + g_y f)
  and dy_e = s + f dt_e, each directional derivative of g one scalar-Dual
  evaluation of the user's event function.
"""
import numbers

import numpy as np

from . import dual as _dual
from .calculus import jacobian
from .dual import derivative
from .dual import Dual, _scoped

__all__ = ["solve_ivp"]

_STIFF = ("BDF", "Radau", "LSODA")


# -- inputs: plain values, or Duals of one outer differentiation ----------------------

_ARRAYS = []


def _arrays():
    """(DualArray, _new, _read_scalars), imported once (the hot path calls this
    per evaluation; _read_scalars is the C reader of a list of 0-d results)."""
    if not _ARRAYS:
        from .arrays import DualArray, _new
        from .arrays._core import _read_scalars
        _ARRAYS.extend((DualArray, _new, _read_scalars))
    return _ARRAYS


def _dualarray_type():
    try:
        from .arrays import DualArray
    except ModuleNotFoundError as exc:     # a build without the array backend
        if exc.name != "dualml.arrays":
            raise
        return None
    return DualArray


# (nested inputs go to _solve_nested first; this guards the first-order reader)
_NESTED_MSG = ("solve_ivp(): {what} carries derivatives of a differentiation that the "
               "other inputs do not share in the same form (tags or numbers of "
               "directions differ); pass y0, params and args from one dualml call")


class _Outer:
    """The outer differentiation found in the inputs: one tag, K directions."""

    __slots__ = ("tag", "K", "kind")

    def __init__(self):
        self.tag, self.K, self.kind = None, None, None

    def meet(self, tag, K, kind, what):
        if self.tag is None:
            self.tag, self.K, self.kind = tag, K, kind
            return
        if tag != self.tag or K != self.K or kind != self.kind:
            raise ValueError(_NESTED_MSG.format(what=what))


def _has_dual(x, DualArray):
    if isinstance(x, Dual) or (DualArray is not None and type(x) is DualArray):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype == object and any(isinstance(e, Dual) for e in x.ravel())
    if type(x) in (list, tuple):
        return any(_has_dual(e, DualArray) for e in x)
    return False


def _has_dualarray(x, DualArray):
    if type(x) is DualArray:
        return True
    return type(x) in (list, tuple) and any(_has_dualarray(e, DualArray) for e in x)


def _unwrap(x, outer, what, DualArray):
    """(float value array, tangents (K,) + shape) of an input holding Duals."""
    if DualArray is not None and type(x) is DualArray:
        if x._o2 is not None or type(x._v) is not np.ndarray or \
                type(x._d) is not np.ndarray:
            raise ValueError(_NESTED_MSG.format(what=what))
        outer.meet(x._tag, x._d.shape[0], "array", what)
        return np.array(x._v, dtype=np.float64), np.array(x._d, dtype=np.float64)
    if isinstance(x, Dual):
        items, shape = [x], ()
    elif type(x) in (list, tuple):
        if DualArray is not None and _has_dualarray(x, DualArray):
            # [1 - x[2], x[2], 0.0] with x a DualArray: stacked as NumPy would
            from .arrays._operands import _operand
            return _unwrap(_operand(x, f"solve_ivp(): {what}"), outer, what, DualArray)
        try:
            arr = np.array(x, dtype=object)
        except ValueError:
            arr = None
        if arr is None or any(type(e) in (list, tuple) for e in arr.ravel()):
            raise TypeError(f"solve_ivp(): {what} is a ragged sequence; pass one array "
                            f"of numbers/Duals")
        items, shape = list(arr.ravel()), arr.shape
    else:
        items, shape = list(x.ravel()), x.shape
    values, tangents, K = [], [], 1
    for e in items:
        if isinstance(e, Dual):
            tag = _dual._tag_of(e)
            v, d = _dual._split(e, tag)
            # a multi-partial Dual (a chunked gradient of a list) carries a
            # tuple of K partials: K directions
            parts = d if type(d) is tuple else (d,)
            K = len(parts)
            outer.meet(tag, K, "scalar", what)
            if isinstance(v, Dual) or any(isinstance(p, Dual) for p in parts):
                raise ValueError(_NESTED_MSG.format(what=what))
            values.append(v)
            tangents.append(parts)
        else:
            values.append(_real(e, what))
            tangents.append(None)
    T = np.zeros((K, len(items)))
    for j, parts in enumerate(tangents):
        if parts is not None:
            T[:, j] = parts
    return (np.array(values, dtype=np.float64).reshape(shape), T.reshape((K,) + shape))


def _real(e, what):
    if isinstance(e, (bool, np.bool_)) or not isinstance(e, (numbers.Real, np.generic)) \
            or (isinstance(e, np.generic) and e.dtype.kind not in "biuf"):
        raise TypeError(f"solve_ivp(): {what} must hold real numbers, found "
                        f"{type(e).__name__}")
    return float(e)


def _real_array(x, what, ndim=None):
    if isinstance(x, (str, bytes)) or x is None:
        raise TypeError(f"solve_ivp(): {what} must be real numbers, not "
                        f"{type(x).__name__}")
    try:
        a = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"solve_ivp(): {what} must be real numbers ({exc})") from None
    if a.dtype.kind == "c":
        raise TypeError(f"solve_ivp(): {what} is complex; dualml differentiates real "
                        f"functions (split an ODE in C^n into real and imaginary parts)")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"solve_ivp(): {what} must hold real numbers, not dtype {a.dtype}")
    a = a.astype(np.float64)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"solve_ivp(): {what} must be {ndim}-dimensional, got shape "
                         f"{a.shape}")
    return a


# -- one pass of f with K tangent directions -------------------------------------------

class _System:
    """f, its differentiated inputs and the K directions: the augmented system.

    ``slots`` are f's arguments after (t, y): ``(value, tangents or None)``,
    tangents of shape (K,) + value.shape, constant in time.
    """

    def __init__(self, fun, n, slots, K, mode):
        self.fun, self.n, self.slots, self.K, self.mode = fun, n, slots, K, mode
        # the array pass's slots: float values, ready for _new
        self._aslots = [(v, None) if d is None else (np.asarray(v, dtype=np.float64), d)
                        for v, d in slots]

    def plain_args(self):
        return [v for v, _ in self.slots]

    # one pass; y may hold outer Duals (or be an outer DualArray) when the
    # augmented Jacobian is taken through it
    @_scoped
    def tangent_pass(self, t, y, S):
        if self.mode == "array":
            return self._array_pass(t, y, S)
        return self._scalar_pass(t, y, S)

    def _array_call(self, t, y, S):
        _new = _arrays()[1]
        tag = _dual._new_tag()
        Y = _new(y, S, tag, None)
        call = [v if d is None else _new(v, d, tag, None) for v, d in self._aslots]
        return self.fun(t, Y, *call), tag

    def _array_pass(self, t, y, S):
        from ._arraycalc import _parts
        r, tag = self._array_call(t, y, S)
        v, D = _parts(r, tag, self.K, "solve_ivp")
        return self._check_shapes(v, D)

    def _scalar_pass(self, t, y, S):
        n, K = self.n, self.K
        values, rows = None, []
        tag = 0
        for k in range(K):
            # a tag per pass, the previous one finished: a Dual that fun kept
            # from one pass raises in the next instead of passing for its tangent
            tag = _dual._pass_tag(tag) if tag else _dual._new_tag()
            Y = np.empty(n, dtype=object)
            Y[:] = [_dual._seed(tag, y[i], float(S[k, i])) for i in range(n)]
            call = [v if d is None else _scalar_duals(v, d[k], tag) for v, d in self.slots]
            r = self.fun(t, Y, *call)
            if not isinstance(r, (list, tuple, np.ndarray)):
                r = [r]
            if values is None:
                values = _dual._extract_many(r, tag, True)
            rows.append(_dual._extract_many(r, tag, False))
        D = np.stack(rows) if all(r.dtype != object for r in rows) else \
            np.array([list(r) for r in rows], dtype=object)
        return self._check_shapes(values, D)

    def _check_shapes(self, v, D):
        if np.shape(v) != (self.n,):
            name = getattr(self.fun, "__name__", "fun")
            raise ValueError(f"solve_ivp(): fun ({name}) returned shape {np.shape(v)} for y "
                             f"of shape ({self.n},); it must return dy/dt of y's shape")
        return v, D

    # -- the augmented system for SciPy -----------------------------------------------
    @_scoped
    def rhs(self, t, z):
        if self.mode == "array":
            # the hot path: one call of fun, its result read straight into out
            zc = z.copy()               # private: fun may write into its input
            n = self.n
            r, tag = self._array_call(t, zc[:n], zc[n:].reshape(self.K, n))
            out = np.empty(z.shape[0])
            if _arrays()[2](r, tag, self.K, out) or _read_into(r, tag, n, self.K, out):
                return out
            from ._arraycalc import _parts
            v, D = self._check_shapes(*_parts(r, tag, self.K, "solve_ivp"))
            out[:n] = v
            out[n:] = np.asarray(D, dtype=np.float64).reshape(-1)
            return out
        n = self.n
        y = z[:n].copy()
        S = z[n:].reshape(self.K, n).copy()
        v, D = self.tangent_pass(t, y, S)
        out = np.empty(z.shape[0])
        out[:n] = v
        out[n:] = np.asarray(D, dtype=np.float64).reshape(-1)
        return out

    def aug_jac(self, t, z):
        """d rhs/dz: exact (second derivatives through nested dual numbers)."""
        n, K = self.n, self.K
        S = z[n:].reshape(K, n).copy()

        def G(yy):
            v, D = self.tangent_pass(t, yy, S)
            if self.mode == "array":
                return np.concatenate([v, D.reshape(-1)])
            return list(v) + list(np.asarray(D, dtype=object).reshape(-1))
        y = z[:n].copy()
        A = jacobian(G, y if self.mode == "array" else list(y), method=self.mode)
        A = np.asarray(A, dtype=np.float64).reshape((1 + K) * n, n)
        J = np.zeros((z.shape[0], z.shape[0]))
        J[:, :n] = A
        Jy = A[:n]
        for k in range(K):
            J[n + k * n:n + (k + 1) * n, n + k * n:n + (k + 1) * n] = Jy
        return J


def _read_into(r, tag, n, K, out):
    """out = [f, D.ravel()] from f's result when it is the common kind, else False.

    The common kinds: a DualArray of this pass of shape (n,), or a list/tuple
    of n entries, each a 0-d DualArray of this pass or a plain number.
    """
    DualArray = _arrays()[0]
    if type(r) is DualArray:
        if r._tag != tag or r._o2 is not None or type(r._d) is not np.ndarray \
                or r._v.shape != (n,) or r._d.shape != (K, n):
            return False
        out[:n] = r._v
        out[n:] = r._d.reshape(-1)
        return True
    if (type(r) is not list and type(r) is not tuple) or len(r) != n:
        return False
    vals, rows = [], []
    for e in r:
        te = type(e)
        if te is DualArray:
            if e._tag != tag or e._o2 is not None or type(e._d) is not np.ndarray \
                    or e._d.shape != (K,):
                return False
            vals.append(e._v)
            rows.append(e._d)
        elif te is float or te is int:
            vals.append(e)
            rows.append(_zeros(K))
        else:
            return False
    out[:n] = vals
    out[n:].reshape(K, n).T[...] = rows
    return True


_ZEROS = {}


def _zeros(K):
    z = _ZEROS.get(K)
    if z is None:
        z = np.zeros(K)
        z.flags.writeable = False
        if len(_ZEROS) < 64:        # bounded: a few K per program
            _ZEROS[K] = z
    return z


def _partials(d):
    """One direction: a float; K > 1 (a multi-partial Dual): a tuple."""
    d = np.ravel(d)
    return float(d[0]) if d.size == 1 else tuple(d.tolist())


def _scalar_duals(v, d, tag):
    """Duals of `tag` with values v and tangents d, shape (K,) + v.shape (or
    v.shape for one direction)."""
    v = np.asarray(v, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64).reshape((-1,) + v.shape)
    if v.ndim == 0:
        return _dual._seed(tag, float(v), _partials(d))
    out = np.empty(v.shape, dtype=object)
    dd = d.reshape(d.shape[0], -1)
    out.reshape(-1)[:] = [_dual._seed(tag, a, _partials(dd[:, j]))
                          for j, a in enumerate(v.ravel().tolist())]
    return out


_CLOSURE_MSG = ("solve_ivp(): fun returned derivatives of an outer differentiation that "
                "did not come in through y0, params or args: fun closes over a Dual or "
                "DualArray (e.g. lambda t, y: -x[0] * y inside a function being "
                "differentiated).  Pass that value as params= or in args= (fun(t, y, k) "
                "with args=(x[0],)), so that solve_ivp carries its derivative through the "
                "solution")


def _plain(a):
    """Whether a pass's value/derivative holds plain numbers only (no outer duals)."""
    if isinstance(a, np.ndarray):
        return a.dtype != object or not any(isinstance(e, Dual) for e in a.ravel())
    DualArray = _dualarray_type()
    return not (isinstance(a, Dual) or (DualArray is not None and type(a) is DualArray))


def _probe(system, t0, y0, S0):
    v, D = system.tangent_pass(t0, y0.copy(), S0.copy())
    if not (_plain(v) and _plain(D)):
        raise ValueError(_CLOSURE_MSG)


def _probe_plain(fun, t0, y0, call_args):
    """Whether fun's result at (t0, y0) holds plain numbers (no closed-over Duals)."""
    r = fun(t0, y0.copy(), *call_args)
    return all(_plain(e) for e in (r if type(r) in (list, tuple) else [r]))


def _choose_mode(system, ad_method, t0, y0, S0):
    """The AD backend for fun: as asked, or array with a fallback to scalar Duals."""
    if ad_method not in ("auto", "array", "scalar"):
        raise ValueError(f"solve_ivp(): ad_method must be 'auto', 'array' or 'scalar', got "
                         f"{ad_method!r}")
    if ad_method == "array" and _dualarray_type() is None:
        raise ValueError("solve_ivp(): ad_method='array' needs dualml's array backend, "
                         "which this build lacks; use 'scalar'")
    if ad_method != "auto":
        system.mode = ad_method
        _probe(system, t0, y0, S0)          # errors surface here, named
        return
    if _dualarray_type() is not None:
        system.mode = "array"
        try:
            _probe(system, t0, y0, S0)
            return
        except TypeError as exc:            # e.g. np.array([...]) of DualArrays
            first = exc
    else:
        first = None
    system.mode = "scalar"
    try:
        _probe(system, t0, y0, S0)
    except Exception:
        if first is not None:
            raise first
        raise


# -- results ---------------------------------------------------------------------------

class OdeSensitivitySolution:
    """Dense output of ``dualml.solve_ivp``: y(t) as SciPy's, and the sensitivities.

    ``sol(t)`` returns y(t) with SciPy's shapes ((n,) for a scalar t, (n, len(t))
    for an array; Duals/DualArray when the inputs carried Duals);
    ``sol.sensitivities(t)`` the parameter sensitivities in solve_ivp's layout
    ((n,) + params.shape for a scalar t, (len(t), n) + params.shape otherwise).
    """

    def __init__(self, sol, splitter):
        self._sol, self._split = sol, splitter
        self.t_min, self.t_max = sol.t_min, sol.t_max

    def __call__(self, t):
        return self._split.y(self._sol(t))

    def sensitivities(self, t):
        """∂y(t)/∂params (see the class docstring for the layout)."""
        return self._split.sens(self._sol(t), "params")

    def sensitivities_y0(self, t):
        """∂y(t)/∂y0, (n, n) for a scalar t or (len(t), n, n)."""
        return self._split.sens(self._sol(t), "y0")


class _Splitter:
    """Turns augmented states z (n_z,) or (n_z, m) into y and sensitivities."""

    def __init__(self, n, K, p_shape, n_p, has_y0, outer):
        self.n, self.K, self.p_shape, self.n_p = n, K, p_shape, n_p
        self.has_y0, self.outer = has_y0, outer

    def y(self, Z):
        n = self.n
        y = Z[:n]
        if self.outer is None or self.outer.tag is None:
            return y
        return self.wrap(y, Z[n:].reshape((self.K, n) + Z.shape[1:]))

    def wrap(self, value, tangents):
        """value with the outer differentiation's tangents (K,) + value.shape."""
        if self.outer.kind == "array":
            from .arrays import _new
            return _new(np.ascontiguousarray(value), np.ascontiguousarray(tangents),
                        self.outer.tag, None)
        out = np.empty(value.shape, dtype=object)
        tt = np.asarray(tangents).reshape(tangents.shape[0], -1)
        out.reshape(-1)[:] = [_dual._seed(self.outer.tag, a, _partials(tt[:, j]))
                              for j, a in enumerate(value.ravel().tolist())]
        return out

    def sens(self, Z, which):
        n = self.n
        if self.outer is not None and self.outer.tag is not None:
            raise ValueError("solve_ivp(): the inputs carried Duals, so the sensitivities "
                             "are in the Duals of the solution (sol.y); none are kept apart")
        if which == "y0" and not self.has_y0:
            raise ValueError("solve_ivp(): pass y0_sensitivity=True for ∂y/∂y0")
        S = Z[n:].reshape((self.K, n) + Z.shape[1:])
        S = S[:self.n_p] if which == "params" else S[self.n_p:]
        S = np.moveaxis(S, 0, -1)                   # (n, [m,] k)
        if Z.ndim == 2:
            S = np.moveaxis(S, 1, 0)                # (m, n, k)
        shape = self.p_shape if which == "params" else (n,)
        return np.ascontiguousarray(S).reshape(S.shape[:-1] + shape)


def _wrap_event(ev, n, call_args):
    def event(t, z):
        return ev(t, z[:n], *call_args)
    for attr in ("terminal", "direction"):
        if hasattr(ev, attr):
            setattr(event, attr, getattr(ev, attr))
    return event


def _attach_event_sensitivities(res, evs, system, split, has_p, has_y0, n_p, p_shape):
    tp, yp, t0, y0 = [], [], [], []
    for ev, t_ev, Z_ev in zip(evs, res.t_events, res.y_events):
        dT, Zs = _event_sensitivities(ev, t_ev, Z_ev, system, split)
        m = len(t_ev)
        tp.append(dT[:, :n_p].reshape((m,) + p_shape))
        t0.append(dT[:, n_p:])
        yp.append(split.sens(Zs, "params") if m else
                  np.zeros((0, system.n) + p_shape))
        y0.append(split.sens(Zs, "y0") if m and has_y0 else
                  np.zeros((0, system.n, system.n)))
    res.t_events_sensitivities = tp if has_p else None
    res.y_events_sensitivities = yp if has_p else None
    res.t_events_sensitivities_y0 = t0 if has_y0 else None
    res.y_events_sensitivities_y0 = y0 if has_y0 else None


def _event_sensitivities(ev, t_ev, Z_ev, system, split):
    """Derivatives of one event function's event times and states: (dT (m, K), Zs).

    At an event g(t_e, y(t_e), p) = 0, so dt_e = -(g_y s + g_p dp) / (g_t + g_y f)
    and dy_e = s + f dt_e; each directional derivative of g is one evaluation
    with a scalar Dual (object arrays, so any event function written for
    floats or NumPy works).  Zs holds [y_e, dy_e] like an augmented state, for
    the splitter.  A tangential crossing (g_t + g_y f = 0) gives nan.
    """
    n, K = system.n, system.K
    plain = system.plain_args()
    dT = np.empty((len(t_ev), K))
    Zs = np.empty((n + K * n, len(t_ev)))
    for j, (t, z) in enumerate(zip(t_ev, Z_ev)):
        y, S = z[:n], z[n:].reshape(K, n)
        f = np.asarray(system.fun(t, y.copy(), *plain), dtype=np.float64).reshape(n)

        def along(dt, dy, dslot):
            def g(e):
                call = [v if d is None else v + e * d for v, d in dslot]
                return ev(t + e * dt, y + e * dy, *call)
            return float(derivative(g, 0.0))
        speed = along(1.0, f, [(v, None) for v, _ in system.slots])
        for k in range(K):
            dg = along(0.0, S[k], [(v, None if d is None else d[k])
                                   for v, d in system.slots])
            dT[j, k] = -dg / speed if speed != 0.0 else np.nan
        Zs[:n, j] = y
        Zs[n:, j] = (S + f[None, :] * dT[j][:, None]).reshape(-1)
    return dT, Zs


def _tolerance(atol, n, K, sens_error_control):
    if not isinstance(sens_error_control, (bool, np.bool_)):
        raise TypeError(f"solve_ivp(): sens_error_control must be True or False, got "
                        f"{sens_error_control!r}")
    a = np.asarray(atol, dtype=np.float64) if not np.isscalar(atol) else atol
    if np.ndim(a) == 0:
        a = np.full(n, float(a))
    if a.shape == ((1 + K) * n,):
        return a
    if a.shape == (n,):
        # an infinite atol takes a component out of SciPy's error norm
        # (its scale atol + rtol |z| is inf): the sensitivities then ride on
        # the steps the state chooses, as CVODES does with errconS = false
        return np.concatenate([a, np.tile(a, K) if sens_error_control
                               else np.full(K * n, np.inf)])
    raise ValueError(f"solve_ivp(): atol must be a number, an array of shape ({n},) "
                     f"(y's, repeated for each sensitivity) or of shape ({(1 + K) * n},) "
                     f"(y and the {K} sensitivity directions); got shape {a.shape}")


# -- public API ----------------------------------------------------------------------

def solve_ivp(fun, t_span, y0, args=(), *, params=None, y0_sensitivity=False,
              method="RK45", t_eval=None, dense_output=False, events=None,
              rtol=1e-3, atol=1e-6, sens_error_control=True, ad_method="auto", **options):
    """``scipy.integrate.solve_ivp`` with exact forward sensitivities of the solution.

    The state y and its sensitivities ``s_j = ∂y/∂p_j`` are integrated
    together: ``s_j' = (∂f/∂y) s_j + ∂f/∂p_j`` with ``s_j(0) = 0`` (and
    ``∂y/∂y0`` from ``s(0) = I``), the Jacobian-vector products computed by
    evaluating fun on dual numbers -- exact to rounding, no finite
    differences.  Any of SciPy's methods works; BDF, Radau and LSODA get the
    augmented system's exact Jacobian.  SciPy's error control (``rtol``,
    ``atol``) applies to the sensitivities as well as to y, so they are as
    accurate as the solution.

    Inside a function differentiated by ``dualml.gradient``/``jacobian`` (or
    ``dgsm``, ``sensitivity``), y0, params or args may hold Duals or a
    DualArray; the solution ``sol.y`` then comes back as Duals/DualArray
    carrying d y(t)/d(outer inputs), so ``gradient(loss_of_ode_fit, p)``
    works.  Inside ``hessian`` (and ``dgsm(..., crossed=True)``) the inputs
    carry two nested differentiations; the ODE is then integrated over those
    dual numbers -- y with its first and mixed second derivatives as one
    system under SciPy's error control, fun evaluated on the nested values
    -- so second derivatives of the solution are exact to the tolerance too.

    Parameters
    ----------
    fun : callable
        ``fun(t, y, *args)``, or ``fun(t, y, params, *args)`` when params is
        given, returning dy/dt of y's shape.  Written in NumPy or plain
        Python; it is called with dual inputs (a DualArray, or object arrays
        of Duals, see ``ad_method``), so it must not call ``float()`` or the
        math module on them.
    t_span : 2-tuple of float
        Interval of integration (t0, tf).
    y0 : array_like, shape (n,)
        Initial state (may hold Duals: see above).
    args : tuple, optional
        Extra arguments passed to fun (and to the events), as in SciPy.
        Entries holding Duals are differentiated through.
    params : float or array_like, optional
        The differentiated parameters p, passed to fun as its third
        argument.  ``sol.sensitivities`` holds ∂y/∂p.
    y0_sensitivity : bool, optional
        Also compute ``sol.sensitivities_y0`` = ∂y(t)/∂y0.
    method : str or OdeSolver, optional
        SciPy's method: "RK45" (default), "RK23", "DOP853", "Radau", "BDF",
        "LSODA", or an ``OdeSolver`` subclass.
    t_eval : array_like, optional
        Times at which to store the solution (default: the solver's steps).
    dense_output : bool, optional
        Return ``sol.sol``, an ``OdeSensitivitySolution``: ``sol.sol(t)``
        is y(t), ``sol.sol.sensitivities(t)`` the sensitivities.
    events : callable or list of callables, optional
        As in SciPy, ``event(t, y, *args)`` (with params first when given);
        ``t_events``/``y_events`` hold the state, and the derivatives of the
        event times and states follow (see Returns).  When the inputs carry
        Duals, ``t_events`` and ``y_events`` carry their total derivatives
        (the event moves with the inputs), while ``y`` at the solver's
        output times holds derivatives at those fixed times.
    rtol, atol : float or array_like, optional
        Tolerances, for y and sensitivities alike.  atol may be a number, an
        array of shape (n,) (repeated for each sensitivity direction), or of
        the augmented system's shape ((1 + K) n,), y first then each
        direction's n entries.
    sens_error_control : bool, optional
        True (default): the step size controls the error of y and of the
        sensitivities.  False: of y alone, and the sensitivities are carried
        along on y's steps (CVODES' ``errconS = False``): fewer steps (about
        40% fewer on an SEIR model at rtol=1e-6), sensitivities usually still
        accurate to a few times rtol but not guaranteed.  (Applies to a
        number or (n,) atol; a full-length atol is used as given.)
    ad_method : {"auto", "array", "scalar"}, optional
        How fun is evaluated on dual numbers: "array", one call with y a
        DualArray carrying all K directions; "scalar", K calls with object
        arrays of Duals (works for ``np.array([...])``-building code).
        "auto": array, falling back to scalar when fun cannot take a
        DualArray (a TypeError on the first call).
    **options
        Passed to ``scipy.integrate.solve_ivp`` (``first_step``,
        ``max_step``, ...).  ``jac``, ``jac_sparsity``, ``lband``, ``uband``
        and ``vectorized`` are refused: the augmented Jacobian is built here.

    Returns
    -------
    OdeResult
        SciPy's result (``t``, ``y`` of shape (n, n_t), ``status``,
        ``message``, ``nfev`` counting augmented evaluations, ...) plus:

        sensitivities : ndarray, shape (n_t, n) + params.shape
            ``sensitivities[k, i, j] = ∂y_i(t_k)/∂p_j`` -- for a 1-d params
            (n_t, n, n_p).  Note the time axis comes first (a Jacobian per
            time point), unlike ``y``'s (n, n_t): ``sensitivities[:, i, j]``
            is the time series aligned with ``y[i]``.  None when params is
            not given or the inputs carry Duals (the derivatives are then
            in ``y``).
        sensitivities_y0 : ndarray, shape (n_t, n, n), or None
            ``∂y_i(t_k)/∂y0_l``, with ``y0_sensitivity=True``.
        t_events_sensitivities, y_events_sensitivities : list of ndarray
            With events and params, per event function: ``dt_e/dp`` of shape
            (n_events,) + params.shape and the total derivative of the
            state at the event, ``dy(t_e(p))/dp = s + f dt_e/dp``, of shape
            (n_events, n) + params.shape (from ``g(t_e, y, p) = 0``: nan
            where the event is crossed tangentially).  ``..._y0`` likewise
            for y0 with ``y0_sensitivity=True``.

    Raises
    ------
    TypeError
        fun is not callable; y0, params or t_span are not real numbers;
        t_span or t_eval hold Duals (derivatives with respect to the
        integration times are not supported).
    ValueError
        fun returns the wrong shape; a refused option; ``events=`` inside
        ``hessian`` (second derivatives of event times are not computed);
        fun closing over a Dual instead of taking it through params/args.

    See Also
    --------
    scipy.integrate.solve_ivp, jacobian, dgsm

    Notes
    -----
    The sensitivities are those of the exact ODE solution at fixed times
    t_k, computed to the solver's tolerance; they are not derivatives of
    SciPy's discretisation (whose step sizes depend on p).  With
    K = n_p (+ n with y0_sensitivity) directions the system has (1 + K) n
    equations; inside ``hessian`` of n_x inputs, (1 + n_x + n_x^2) n (array
    path) or (1 + n_x)(1 + chunk) n per pass (scalar path), and the stiff
    methods' Newton matrix is J_y on each block (the coupling terms are left
    out: they change how fast Newton converges, not the accuracy).

    Examples
    --------
    Exponential decay y' = -k y: ∂y/∂k = -t y0 e^{-kt}.

    >>> import numpy as np, dualml
    >>> sol = dualml.solve_ivp(lambda t, y, k: -k * y, (0, 2), [3.0], params=[0.5],
    ...                        t_eval=[1.0, 2.0], rtol=1e-10, atol=1e-12)
    >>> sol.sensitivities.shape             # (n_t, n_y, n_p)
    (2, 1, 1)
    >>> np.allclose(sol.sensitivities[:, 0, 0], -np.array([1.0, 2.0]) * 3.0 *
    ...             np.exp(-0.5 * np.array([1.0, 2.0])), rtol=1e-8)
    True

    Through ``dualml.gradient``:

    >>> g = dualml.gradient(lambda k: dualml.solve_ivp(
    ...     lambda t, y, k: -k * y, (0, 2), [3.0], params=k,
    ...     rtol=1e-10, atol=1e-12).y[0, -1], np.array([0.5]))
    >>> np.allclose(g, -2.0 * 3.0 * np.exp(-1.0))
    True
    """
    try:
        from scipy.integrate import OdeSolver
        from scipy.integrate import solve_ivp as _scipy_solve_ivp
    except ImportError:
        raise ImportError("dualml.solve_ivp needs SciPy: pip install scipy (or "
                          "dualml[sensitivity])") from None
    if not callable(fun):
        raise TypeError(f"solve_ivp(): fun must be callable, not {type(fun).__name__}")
    for bad in ("jac", "jac_sparsity", "lband", "uband"):
        if options.get(bad) is not None:
            raise ValueError(f"solve_ivp(): {bad}= is not accepted: dualml.solve_ivp builds "
                             f"the exact Jacobian of the augmented (state + sensitivity) "
                             f"system itself; drop {bad}=")
    if options.get("vectorized"):
        raise ValueError("solve_ivp(): vectorized=True is not supported (the augmented "
                         "system is evaluated one state at a time); drop it")
    options.pop("vectorized", None)
    if not isinstance(y0_sensitivity, (bool, np.bool_)):
        raise TypeError(f"solve_ivp(): y0_sensitivity must be True or False, got "
                        f"{y0_sensitivity!r}")
    DualArray = _dualarray_type()
    if type(args) is not tuple:
        args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
    for what, x in (("t_span", t_span), ("t_eval", t_eval)):
        if x is not None and _has_dual(x if not isinstance(x, (list, tuple)) else list(x),
                                       DualArray):
            raise TypeError(f"solve_ivp(): {what} holds Duals; derivatives with respect "
                            f"to the integration times are not supported (reparametrise "
                            f"time, e.g. s = t / T, to make T a parameter of fun)")

    # inputs carrying two nested differentiations (hessian): the ODE over dual numbers
    from . import _ode_nested
    carried = [x for x in [y0, params, *args] if x is not None and _has_dual(x, DualArray)]
    levels = _ode_nested.levels_of(carried, DualArray) if carried else []
    if _ode_nested.needs_nested(levels):
        return _solve_nested(_scipy_solve_ivp, fun, t_span, y0, params, args, levels,
                             method=method, t_eval=t_eval, dense_output=dense_output,
                             events=events, rtol=rtol, atol=atol,
                             sens_error_control=sens_error_control, ad_method=ad_method,
                             y0_sensitivity=y0_sensitivity, options=options)

    # inputs: plain, or carrying one outer differentiation
    outer = _Outer()
    if _has_dual(y0, DualArray):
        y0v, S0_outer = _unwrap(y0, outer, "y0", DualArray)
    else:
        y0v, S0_outer = _real_array(y0, "y0"), None
    if y0v.ndim != 1:
        raise ValueError(f"solve_ivp(): y0 must be 1-dimensional, got shape {y0v.shape}")
    n = y0v.shape[0]
    raw = ([params] if params is not None else []) + list(args)
    names = (["params"] if params is not None else []) + \
        [f"args[{i}]" for i in range(len(args))]
    slots = []
    for x, what in zip(raw, names):
        if _has_dual(x, DualArray):
            slots.append(_unwrap(x, outer, what, DualArray))
        elif what == "params":
            slots.append((_real_array(x, "params"), None))
        else:
            slots.append((x, None))
    nested = outer.tag is not None
    p_shape, n_p = (), 0
    if params is not None and not nested:
        p = slots[0][0]
        p_shape, n_p = p.shape, p.size
    if nested:
        K = outer.K
        S0 = S0_outer.reshape(K, n) if S0_outer is not None else np.zeros((K, n))
    else:
        K = n_p + (n if y0_sensitivity else 0)
        S0 = np.zeros((K, n))
        if y0_sensitivity:
            S0[n_p:] = np.eye(n)
        if params is not None:
            v = slots[0][0]
            d = np.zeros((K, n_p))
            d[:n_p] = np.eye(n_p)
            slots[0] = (v, d.reshape((K,) + p_shape))

    options["rtol"] = rtol
    options["atol"] = _tolerance(atol, n, K, sens_error_control)
    call_args = [v for v, _ in slots]
    evs = []
    if events is not None:
        evs = events if isinstance(events, (list, tuple)) else [events]
        options["events"] = [_wrap_event(e, n, call_args) for e in evs]

    t_span = tuple(float(_real(t, "t_span")) for t in t_span)
    if K == 0:                          # nothing to differentiate: SciPy as it is
        if not _probe_plain(fun, t_span[0], y0v, call_args):
            raise ValueError(_CLOSURE_MSG)
        res = _scipy_solve_ivp(fun, t_span, y0v, method=method, t_eval=t_eval,
                               dense_output=dense_output, args=tuple(call_args) or None,
                               **options)
        res.sensitivities = np.zeros((len(res.t), n) + p_shape) if params is not None \
            else None
        res.sensitivities_y0 = np.zeros((len(res.t), n, 0)) if y0_sensitivity else None
        res.t_events_sensitivities = res.y_events_sensitivities = None
        res.t_events_sensitivities_y0 = res.y_events_sensitivities_y0 = None
        return res

    system = _System(fun, n, slots, K, "array")
    _choose_mode(system, ad_method, t_span[0], y0v, S0)
    from scipy.integrate import BDF, LSODA, Radau
    stiff = method in _STIFF or (isinstance(method, type) and issubclass(method, OdeSolver)
                                 and issubclass(method, (BDF, LSODA, Radau)))
    if stiff:
        options["jac"] = system.aug_jac
    z0 = np.concatenate([y0v, S0.reshape(-1)])
    res = _scipy_solve_ivp(system.rhs, t_span, z0, method=method, t_eval=t_eval,
                           dense_output=dense_output, **options)
    split = _Splitter(n, K, p_shape, n_p, bool(y0_sensitivity) and not nested,
                      outer if nested else None)
    Z = res.y
    res.y = split.y(Z)
    if nested:
        res.sensitivities = None
        res.sensitivities_y0 = None
    else:
        res.sensitivities = split.sens(Z, "params") if params is not None else None
        res.sensitivities_y0 = split.sens(Z, "y0") if y0_sensitivity else None
    for name in ("t_events_sensitivities", "y_events_sensitivities",
                 "t_events_sensitivities_y0", "y_events_sensitivities_y0"):
        setattr(res, name, None)
    if res.y_events is not None:
        if not nested:
            _attach_event_sensitivities(res, evs, system, split, params is not None,
                                        bool(y0_sensitivity), n_p, p_shape)
            res.y_events = [ye[:, :n] for ye in res.y_events]
        else:
            # the event times and states carry the outer derivatives (total
            # ones: the event moves with the inputs)
            t_ev, y_ev = [], []
            for ev, t, Z in zip(evs, res.t_events, res.y_events):
                dT, Zs = _event_sensitivities(ev, t, Z, system, split)
                t_ev.append(split.wrap(np.asarray(t, dtype=np.float64), dT.T))
                y_ev.append(split.wrap(Zs[:n].T.copy(),
                                       Zs[n:].reshape(K, n, -1).transpose(0, 2, 1)))
            res.t_events, res.y_events = t_ev, y_ev
    if res.sol is not None:
        res.sol = OdeSensitivitySolution(res.sol, split)
    return res


# -- two nested differentiations (dualml._ode_nested) -----------------------------------

def _solve_nested(scipy_solve_ivp, fun, t_span, y0, params, args, levels, *, method,
                  t_eval, dense_output, events, rtol, atol, sens_error_control,
                  ad_method, y0_sensitivity, options):
    """solve_ivp whose inputs carry nested (or hessian's second-order) derivatives."""
    from . import _ode_nested as nested
    from scipy.integrate import BDF, LSODA, Radau, OdeSolver
    if events is not None:
        raise ValueError("solve_ivp(): events= under two nested differentiations (inside "
                         "hessian) is not supported: the second derivatives of the event "
                         "times are not computed; drop events= (integrate to a fixed "
                         "time), or differentiate once (gradient/jacobian)")
    if ad_method not in ("auto", "array", "scalar"):
        raise ValueError(f"solve_ivp(): ad_method must be 'auto', 'array' or 'scalar', got "
                         f"{ad_method!r}")
    kind = levels[0].kind
    rows = any(lv.o2 is not None for lv in levels)
    if ad_method == "array" and kind == "scalar":
        raise ValueError("solve_ivp(): ad_method='array', but the inputs carry scalar "
                         "Duals of nested differentiations, which fun gets as they came; "
                         "use ad_method='auto' (or differentiate at an ndarray point)")
    if ad_method == "scalar" and rows:
        # hessian's rows have no scalar form: hessian retries nested (jacobian
        # of gradient), whose DualArrays can be evaluated as scalar Duals
        from .arrays._operands import _NeedGeneric
        raise _NeedGeneric("solve_ivp ad_method='scalar'")
    Z0 = nested.flatten(y0, levels, kind, "y0")
    if Z0.ndim != 2:
        raise ValueError(f"solve_ivp(): y0 must be 1-dimensional, got shape "
                         f"{Z0.shape[1:]}")
    C, n = Z0.shape
    call_args = []
    if params is not None:
        call_args.append(_nested_params(params, levels, kind, DualArray=_dualarray_type()))
    call_args.extend(args)
    t_span = tuple(float(_real(t, "t_span")) for t in t_span)
    stiff = method in _STIFF or (isinstance(method, type) and issubclass(method, OdeSolver)
                                 and issubclass(method, (BDF, LSODA, Radau)))
    plain_args = None
    if stiff:
        DualArray = _dualarray_type()
        plain_args = [nested.plain_value(a, levels, kind, "args") if
                      _has_dual(a, DualArray) else a for a in call_args]
    system = nested.NestedSystem(fun, n, levels, kind, call_args, plain_args,
                                 _CLOSURE_MSG)
    z0 = Z0.reshape(-1)
    try:
        if ad_method == "scalar" and kind == "array":
            raise TypeError("ad_method='scalar'")        # asked for: scalar Duals
        system.rhs(t_span[0], z0.copy())
    except TypeError:
        # fun cannot take a DualArray (np.array([...]) of its entries): scalar
        # Duals carry the same components, unless the rows are hessian's _o2
        if kind != "array" or ad_method == "array":
            raise
        if any(lv.o2 is not None for lv in levels):
            # hessian's rows have no scalar form: hessian retries nested
            # (jacobian of gradient), whose DualArrays this fallback takes
            from .arrays._operands import _NeedGeneric
            raise _NeedGeneric("solve_ivp fun") from None
        system.kind = "scalar"
        system.levels = [nested.Level(lv.tag, "scalar", lv.K, None, lv.K > 1)
                         for lv in levels]
        system.call_args = [_scalar_form(a, levels) for a in call_args]
        system.rhs(t_span[0], z0.copy())
    if stiff:
        options["jac"] = system.jac
    options["rtol"] = rtol
    options["atol"] = _tolerance(atol, n, C - 1, sens_error_control)
    res = scipy_solve_ivp(system.rhs, t_span, z0, method=method, t_eval=t_eval,
                          dense_output=dense_output, **options)
    res.y = nested.build(res.y.reshape(C, n, -1), levels, kind)
    res.sensitivities = res.sensitivities_y0 = None
    for name in ("t_events_sensitivities", "y_events_sensitivities",
                 "t_events_sensitivities_y0", "y_events_sensitivities_y0"):
        setattr(res, name, None)
    if res.sol is not None:
        res.sol = _NestedDense(res.sol, C, n, levels, kind)
    return res


def _nested_params(params, levels, kind, DualArray):
    """params as fun receives it: an array (DualArray, or object array of Duals)."""
    if DualArray is not None and type(params) is DualArray:
        return params
    if isinstance(params, Dual):
        return params
    if kind == "array" and type(params) in (list, tuple) and \
            _has_dualarray(params, DualArray):
        from .arrays._operands import _operand
        return _operand(params, "solve_ivp(): params")
    if _has_dual(params, DualArray):
        return np.array(params, dtype=object)
    return _real_array(params, "params")


def _scalar_form(a, levels):
    """An argument holding nested DualArrays as object arrays of scalar Duals."""
    from . import _ode_nested as nested
    DualArray = _dualarray_type()
    if not _has_dual(a, DualArray):
        return a
    scalar = [nested.Level(lv.tag, "scalar", lv.K, None, lv.K > 1) for lv in levels]
    out = nested.build(nested.flatten(a, levels, "array", "args"), scalar, "scalar")
    return out[()] if out.ndim == 0 else out


class _NestedDense:
    """Dense output under nested differentiations: ``sol(t)`` carries them."""

    def __init__(self, sol, C, n, levels, kind):
        self._sol, self._C, self._n = sol, C, n
        self._levels, self._kind = levels, kind
        self.t_min, self.t_max = sol.t_min, sol.t_max

    def __call__(self, t):
        from . import _ode_nested as nested
        Z = self._sol(t)
        return nested.build(Z.reshape((self._C, self._n) + Z.shape[1:]), self._levels,
                            self._kind)

    def sensitivities(self, t):
        raise ValueError("solve_ivp(): the inputs carried Duals, so the sensitivities "
                         "are in the Duals of the solution (sol.sol(t)); none are kept "
                         "apart")

    sensitivities_y0 = sensitivities
