"""User-defined derivative rules: any Python callable as a dualml primitive.

Design
------
* ``custom_jvp(fun)`` wraps fun.  A call finds the innermost perturbation
  among the differentiated arguments (the largest tag: a scalar Dual, a
  DualArray, Duals in an object ndarray or list).  None: ``fun`` itself is
  called, so the body only ever sees plain floats/ndarrays (a compiled
  routine works).  Otherwise the arguments are split at that tag into
  primals and tangents -- both may still carry outer perturbations -- the
  rule runs, and its result is rebuilt as a Dual, an object array of Duals
  or a DualArray of that tag.  A rule written with dualml/NumPy operations,
  calling the wrapped function for its value, peels the outer levels the
  same way: nested differentiation works level by level.
* Rules: ``defjvp`` (primals, tangents) -> (out, tangent_out), as
  jax.custom_jvp; ``defderivs``, one elementwise partial derivative per
  argument (all DualArray directions at once); ``defvalue_and_grad`` for
  code that returns its value and Jacobian (first order only: at a nested
  level it raises, naming the fix).  Taylor objects (``__dualml_taylor__``)
  go to ``taylor=`` or raise.
"""
import functools
import numbers

import numpy as np

from .arrays import DualArray, _new
from .arrays._elementwise import _scale, _tadd
from .arrays._joins import _stack
from .arrays._operands import _bct, _bshape, _NeedGeneric, _operand
from .dual import Dual, _extract_many, _seed, _split, _tag_of

__all__ = ["CustomJVP", "custom_jvp"]

_nd = np.ndarray


def _is_taylor(a):
    return getattr(type(a), "__dualml_taylor__", None) is not None


def _level(a):
    """The tag of the innermost perturbation a carries (0: none)."""
    t = type(a)
    if t is float or t is int:
        return 0
    if t is DualArray:
        return a._tag
    if isinstance(a, Dual):
        return _tag_of(a)
    if t is _nd:
        if a.dtype != object:
            return 0
        return max((_level(e) for e in a.flat), default=0)
    if t is list or t is tuple:
        return max((_level(e) for e in a), default=0)
    return 0


def _plain(y):
    # a 0-d array or NumPy scalar as a float; other things as they are
    if type(y) is _nd and y.ndim == 0:
        y = y[()]
    if isinstance(y, np.generic):
        if y.dtype.kind not in "biuf":
            raise TypeError(f"custom_jvp: a rule returned a {y.dtype} number; dualml "
                            f"differentiates real functions")
        return float(y)
    if type(y) is int or type(y) is bool:
        return float(y)
    return y


def _zeros_like(p):
    s = np.shape(p) if type(p) is not DualArray else p.shape
    return 0.0 if s == () else np.zeros(s)


class CustomJVP:
    """CustomJVP(fun, nondiff_argnums=(), taylor=None)

    A function with a user-given derivative rule; made by ``custom_jvp``.

    Attributes
    ----------
    fun : callable
        The wrapped function (called with plain values only).
    nondiff_argnums : frozenset of int
        Positional arguments that are never differentiated.
    taylor : callable or None
        The Taylor-mode rule, if given.

    See Also
    --------
    custom_jvp

    Examples
    --------
    >>> import dualml
    >>> f = dualml.custom_jvp(lambda x: x * x)
    >>> _ = f.defderivs(lambda x: 2 * x)
    >>> f(3.0), dualml.derivative(f, 3.0)
    (9.0, 6.0)
    """

    def __init__(self, fun, nondiff_argnums=(), taylor=None):
        if not callable(fun):
            raise TypeError(f"custom_jvp(): fun must be callable, not {type(fun).__name__}")
        if isinstance(nondiff_argnums, numbers.Integral):
            nondiff_argnums = (nondiff_argnums,)
        self.fun = fun
        self.nondiff_argnums = frozenset(int(i) for i in nondiff_argnums)
        self.taylor = taylor
        self._kind = None           # "jvp", "batched", "derivs", "vg"
        self._rule = None
        functools.update_wrapper(self, fun)

    @property
    def _name(self):
        return getattr(self.fun, "__name__", type(self.fun).__name__)

    def __repr__(self):
        return f"<dualml.custom_jvp {self._name}>"

    # -- giving the rule -------------------------------------------------------------

    def _set(self, kind, rule):
        if not callable(rule):
            raise TypeError(f"{self._name}: the rule must be callable, not "
                            f"{type(rule).__name__}")
        self._kind, self._rule = kind, rule
        return rule

    def defjvp(self, rule=None, *, batched=False):
        """Give the rule ``rule(primals, tangents, **kwargs) -> (out, tangent_out)``.

        primals are the positional arguments; tangents has one entry per
        argument (0.0 or zeros where an argument is not perturbed, None for
        a ``nondiff_argnums`` argument).  The rule is linear in tangents.
        Write it with dualml/NumPy operations and call the wrapped function
        for ``out``: then it can itself be differentiated (nested calls).

        Parameters
        ----------
        rule : callable, optional
            The rule; without it, returns a decorator.
        batched : bool, optional
            False (default): the rule sees one tangent per call, of the
            shape of its argument; a DualArray with k directions calls it k
            times.  True: every tangent has a leading direction axis
            ``(k,) + shape`` (k = 1 for a scalar Dual) and tangent_out must
            have ``(k,) + out.shape``: one call for all directions.

        Returns
        -------
        callable
            rule, so that defjvp can decorate it.

        Examples
        --------
        >>> import dualml
        >>> @dualml.custom_jvp
        ... def cube(x):
        ...     return x * x * x
        >>> @cube.defjvp
        ... def _(primals, tangents):
        ...     (x,), (dx,) = primals, tangents
        ...     return cube(x), 3 * x * x * dx
        >>> dualml.derivative(cube, 2.0)
        12.0
        """
        if rule is None:
            return lambda r: self.defjvp(r, batched=batched)
        return self._set("batched" if batched else "jvp", rule)

    def defderivs(self, *partials):
        """Give one elementwise partial derivative per positional argument.

        ``partials[i](*args, **kwargs)`` is ∂f/∂args[i] (None: f cannot be
        differentiated in that argument, an error if it is perturbed).  For
        elementwise (ufunc-like) functions only: the output has the
        broadcast shape of the arguments, and every DualArray direction is
        handled in one product.  Partials written with dualml/NumPy
        operations (or themselves custom_jvp functions) nest.

        Parameters
        ----------
        *partials : callable or None
            One per positional argument.

        Returns
        -------
        CustomJVP
            self.

        Examples
        --------
        >>> import numpy as np, dualml
        >>> from scipy.special import lambertw
        >>> @dualml.custom_jvp
        ... def W(x):
        ...     return np.real(lambertw(x))
        >>> _ = W.defderivs(lambda x: W(x) / (x * (1 + W(x))))
        >>> round(dualml.derivative(W, 1.0), 12)      # W(1) / (1 + W(1)) at x = 1
        0.361896256635
        """
        for p in partials:
            if p is not None and not callable(p):
                raise TypeError(f"{self._name}: defderivs takes callables (or None), "
                                f"got {type(p).__name__}")
        self._kind, self._rule = "derivs", partials
        return self

    def defvalue_and_grad(self, vg):
        """Give code that returns its own value and derivative: ``vg(*args,
        **kwargs) -> (out, J)``.

        J is the Jacobian of out in the one differentiable argument (shape
        ``out.shape + arg.shape``, or elementwise: ``out.shape`` for a
        ufunc-like function), a tuple of them for several.  Such a rule is
        first order: at a nested level (a second derivative) a call raises
        TypeError; give a differentiable rule with defjvp/defderivs there.
        A call with plain values calls the wrapped function, not vg.

        Parameters
        ----------
        vg : callable
            The value-and-Jacobian routine (a simulator, compiled code).

        Returns
        -------
        callable
            vg.

        Examples
        --------
        >>> import numpy as np, dualml
        >>> def sim(x):                  # a black box: value and gradient
        ...     return float(np.sum(x ** 2)), 2 * x
        >>> f = dualml.custom_jvp(lambda x: sim(x)[0])
        >>> _ = f.defvalue_and_grad(sim)
        >>> dualml.gradient(lambda x: 3 * f(x), np.array([1.0, 2.0]))
        array([ 6., 12.])
        """
        return self._set("vg", vg)

    # -- calling -------------------------------------------------------------------------

    def __call__(self, *args, **kwargs):
        name = self._name
        top = 0
        for i, a in enumerate(args):
            if _is_taylor(a):
                return self._taylor(args, kwargs)
            lv = _level(a)
            if lv and i in self.nondiff_argnums:
                raise ValueError(f"{name}(): argument {i} is differentiated (it carries "
                                 f"a {type(a).__name__}) but is listed in nondiff_argnums: "
                                 f"its derivative would be dropped; remove {i} from "
                                 f"nondiff_argnums and give a rule for it")
            top = max(top, lv)
        for k, a in kwargs.items():
            if _is_taylor(a):
                return self._taylor(args, kwargs)
            if _level(a):
                raise ValueError(f"{name}(): keyword argument {k!r} is differentiated (it "
                                 f"carries a {type(a).__name__}), but keyword arguments are "
                                 f"constants; pass it positionally to differentiate it")
        if not top:
            return self.fun(*args, **kwargs)
        if self._rule is None:
            raise TypeError(f"{name}() has no derivative rule: give one with "
                            f"{name}.defjvp, .defderivs or .defvalue_and_grad")
        return self._apply(top, args, kwargs)

    def _taylor(self, args, kwargs):
        # hook for dualml.taylor: the user's rule takes and returns Taylor objects
        if self.taylor is None:
            raise TypeError(f"no Taylor rule for {self._name}: pass taylor=... to "
                            f"dualml.custom_jvp")
        return self.taylor(*args, **kwargs)

    def _apply(self, T, args, kwargs):
        name = self._name
        primals, tangents = [], []
        k = None                    # directions of the DualArray level, None: scalar level
        for i, a in enumerate(args):
            if i in self.nondiff_argnums:
                primals.append(a)
                tangents.append(None)
                continue
            t = type(a)
            if t is DualArray and a._tag == T:
                if a._o2 is not None:
                    raise _NeedGeneric(name)    # hessian/hvp rows: they fall back to nesting
                kk = a._d.shape[0]
                if k is not None and k != kk:
                    raise ValueError(f"{name}(): DualArrays of one differentiation with "
                                     f"{k} and {kk} directions")
                k = kk
                primals.append(a._v)
                tangents.append(a._d)
                continue
            if _level(a) < T:
                primals.append(a)
                tangents.append(False)          # not perturbed here: filled below
                continue
            if t is list or t is tuple:
                if any(type(e) is DualArray for e in a):
                    raise TypeError(f"{name}(): argument {i} is a {t.__name__} holding "
                                    f"DualArrays; pass one array (np.stack them)")
                a = np.array(a, dtype=object)
            if type(a) is _nd:
                primals.append(_extract_many(a, T, True))
                tangents.append(_extract_many(a, T, False))
            else:
                p, d = _split(a, T)
                primals.append(p)
                tangents.append(d)
        if k is not None and any(isinstance(a, Dual) and _tag_of(a) == T for a in args):
            raise TypeError(f"{name}(): a scalar Dual and a DualArray of the same "
                            f"differentiation; pass x as one array")
        m = _n_partials(tangents) if k is None else 0
        if m:
            # multi-partial Duals (a chunked gradient of a list): the rule runs
            # once per partial, each a one-direction problem
            y, parts = None, []
            for c in range(m):
                y, d = self._rule_apply(primals, [_component(t, c) for t in tangents],
                                        None, kwargs)
                parts.append(d)
            return self._result(T, y, tuple(parts), None)
        y, dy = self._rule_apply(primals, tangents, k, kwargs)
        return self._result(T, y, dy, k)

    def _rule_apply(self, primals, tangents, k, kwargs):
        name = self._name
        try:
            if self._kind == "vg":
                y, dy = self._by_value_and_grad(primals, tangents, k, kwargs)
            elif self._kind == "derivs":
                y, dy = self._by_derivs(primals, tangents, k, kwargs)
            else:
                y, dy = self._by_jvp(primals, tangents, k, kwargs)
        except _NeedGeneric:
            raise
        except TypeError as exc:
            if not any(_level(p) for p in primals):
                raise
            raise TypeError(f"{name}(): its derivative rule was called at a nested level "
                            f"(a derivative of a derivative: the arguments carry an outer "
                            f"perturbation) and could not be differentiated ({exc}). Write "
                            f"the rule with dualml/NumPy operations, calling {name} itself "
                            f"for the value, or make the derivative function a custom_jvp "
                            f"with its own rule") from exc
        return y, dy

    # -- the three kinds of rule --------------------------------------------------------

    def _filled(self, primals, tangents, k):
        out = []
        for p, t in zip(primals, tangents):
            if t is False:
                z = _zeros_like(p)
                t = z if k is None else np.zeros((k,) + np.shape(z))
            out.append(t)
        return out

    def _by_jvp(self, primals, tangents, k, kwargs):
        rule = self._rule
        tangents = self._filled(primals, tangents, k)
        if self._kind == "batched":
            if k is None:
                tb = tuple(None if t is None else _lead(t) for t in tangents)
                y, dy = _pair(rule(tuple(primals), tb, **kwargs), self._name)
                return y, _first(dy, self._name)
            y, dy = _pair(rule(tuple(primals), tuple(tangents), **kwargs), self._name)
            return y, dy
        if k is None:
            return _pair(rule(tuple(primals), tuple(tangents), **kwargs), self._name)
        y = None
        rows = []
        for j in range(k):
            tj = tuple(None if t is None else t[j] for t in tangents)
            yj, dj = _pair(rule(tuple(primals), tj, **kwargs), self._name)
            if y is None:
                y = yj
            rows.append(_operand(dj, self._name))
        if k == 0:
            return self(*primals, **kwargs), np.zeros((0,) + np.shape(y))
        if all(type(r) is _nd for r in rows):
            return y, np.stack(rows)
        return y, _stack(rows, 0)

    def _by_derivs(self, primals, tangents, k, kwargs):
        name = self._name
        partials = self._rule
        y = self(*primals, **kwargs)
        out_shape = _shape(y)
        in_shape = ()
        for p, t in zip(primals, tangents):
            if t is not None:
                in_shape = _bshape(in_shape, _shape(p))
        if out_shape != in_shape:
            raise ValueError(f"{name}(): defderivs is for elementwise functions, whose "
                             f"output has the broadcast shape of the arguments ({in_shape}); "
                             f"{name} returned shape {out_shape}: give the rule with defjvp "
                             f"or defvalue_and_grad")
        dy = None
        for i, (p, t) in enumerate(zip(primals, tangents)):
            if t is None or t is False:
                continue
            if i >= len(partials) or partials[i] is None:
                raise TypeError(f"{name}(): argument {i} is differentiated but defderivs "
                                f"gave no partial derivative for it")
            P = partials[i](*primals, **kwargs)
            term = _times(P, t, out_shape, k)
            dy = term if dy is None else _sum(dy, term, k)
        if dy is None:
            dy = np.zeros(out_shape) if k is None else np.zeros((k,) + out_shape)
        return y, dy

    def _by_value_and_grad(self, primals, tangents, k, kwargs):
        name = self._name
        for i, p in enumerate(primals):
            if tangents[i] is not None and _level(p):
                raise TypeError(f"{name}(): its rule (defvalue_and_grad) gives first "
                                f"derivatives only, and {name} is differentiated twice "
                                f"here (nested); give a differentiable rule with "
                                f"{name}.defjvp or .defderivs")
        y, J = _pair(self._rule(*primals, **kwargs), name)
        diff = [i for i, t in enumerate(tangents) if t is not None]
        if len(diff) == 1:
            J = (J,)
        elif not isinstance(J, (tuple, list)) or len(J) != len(diff):
            raise TypeError(f"{name}(): defvalue_and_grad's routine must return (out, "
                            f"(J_1, ..., J_{len(diff)})), one Jacobian per differentiable "
                            f"argument")
        y = _plain(y)
        out_shape = _shape(y)
        dy = None
        for i, Ji in zip(diff, J):
            t = tangents[i]
            if t is False:
                continue
            Ji = np.asarray(Ji, dtype=np.float64)
            s = _shape(primals[i])
            if Ji.shape == out_shape + s:
                term = _contract(Ji, t, out_shape, s, k)
            else:
                try:
                    ok = _bshape(Ji.shape, out_shape) == out_shape and \
                        _bshape(s, out_shape) == out_shape
                except ValueError:
                    ok = False
                if not ok:
                    raise ValueError(f"{name}(): the Jacobian for argument {i} has shape "
                                     f"{Ji.shape}; expected out.shape + arg.shape = "
                                     f"{out_shape + s} (or {out_shape}, elementwise)")
                term = _times(Ji, t, out_shape, k)
            dy = term if dy is None else _sum(dy, term, k)
        if dy is None:
            dy = np.zeros(out_shape) if k is None else np.zeros((k,) + out_shape)
        return y, dy

    # -- the result at tag T ---------------------------------------------------------------

    def _result(self, T, y, dy, k):
        name = self._name
        y = _plain(y)
        if k is not None:
            yv = _operand(y, name)
            dv = _operand(dy, name)
            if type(yv) is _nd and not yv.flags.c_contiguous:
                yv = np.ascontiguousarray(yv)
            if dv.shape != (k,) + yv.shape:
                try:
                    dv = _bct(dv, yv.shape) if dv.shape[:1] == (k,) else None
                except ValueError:
                    dv = None
                if dv is None:
                    raise ValueError(f"{name}(): the rule's tangent has shape "
                                     f"{_operand(dy, name).shape}, expected {(k,) + yv.shape} "
                                     f"(directions first, then the output's shape)")
            if type(dv) is _nd and not dv.flags.c_contiguous:
                dv = np.ascontiguousarray(dv)
            for c in (yv, dv):
                if type(c) is DualArray and c._tag >= T:
                    raise ValueError(f"{name}(): the rule returned a DualArray of this "
                                     f"or an inner differentiation; it must return plain "
                                     f"or outer values")
            return _new(yv, dv, T, None)
        if type(y) is DualArray:
            raise TypeError(f"{name}(): a scalar Dual of an inner differentiation met a "
                            f"DualArray of an outer one; pass the scalar inside the array "
                            f"(or use method='scalar' for both)")
        if type(dy) is tuple and (type(y) is _nd or isinstance(y, (list, tuple))):
            # one tangent array per partial of a multi: element j gets the
            # j-th entry of each
            ya = np.asarray(y) if type(y) is not _nd else y
            das = [np.broadcast_to(np.asarray(_plain(d), dtype=object), ya.shape).reshape(-1)
                   for d in dy]
            out = np.empty(ya.shape, dtype=object)
            fo = out.reshape(-1)
            for j, v in enumerate(ya.reshape(-1)):
                fo[j] = _seed(T, _scalar(v, name), tuple(_scalar(d[j], name) for d in das))
            return out
        dy = _plain(dy) if type(dy) is not tuple else dy
        if type(y) is _nd or isinstance(y, (list, tuple)):
            ya = np.asarray(y) if type(y) is not _nd else y
            if ya.dtype.kind not in "biufO":
                raise TypeError(f"{name}(): the rule returned an array of dtype {ya.dtype}")
            try:
                da = np.broadcast_to(np.asarray(dy, dtype=ya.dtype if ya.dtype == object
                                                else None), ya.shape)
            except ValueError:
                raise ValueError(f"{name}(): the rule's tangent has shape {np.shape(dy)}, "
                                 f"the output shape {ya.shape}") from None
            out = np.empty(ya.shape, dtype=object)
            fo = out.reshape(-1)
            for j, (v, d) in enumerate(zip(ya.reshape(-1), da.reshape(-1))):
                fo[j] = _seed(T, _scalar(v, name), _scalar(d, name))
            return out
        if type(dy) is tuple:                  # one tangent per partial of a multi
            return _seed(T, _scalar(y, name), tuple(_scalar(d, name) for d in dy))
        return _seed(T, _scalar(y, name), _scalar(dy, name))


def _n_partials(tangents):
    """The number of partials of the multi-partial Duals among the tangents
    (a tuple each, or object arrays of tuples), 0 when there are none."""
    for t in tangents:
        if type(t) is tuple:
            return len(t)
        if type(t) is _nd and t.dtype == object:
            for e in t.flat:
                if type(e) is tuple:
                    return len(e)
    return 0


def _component(t, c):
    """Partial c of a multi's tangent (a tuple, or an object array of them)."""
    if type(t) is tuple:
        return t[c]
    if type(t) is _nd and t.dtype == object:
        out = np.empty(t.shape, dtype=object)
        out.reshape(-1)[:] = [e[c] if type(e) is tuple else e for e in t.flat]
        return out
    return t


def _scalar(v, name):
    v = _plain(v)
    if type(v) is float or isinstance(v, Dual):
        return v
    if isinstance(v, numbers.Real):
        return float(v)
    raise TypeError(f"{name}(): the rule returned {type(v).__name__}; it must return real "
                    f"numbers (or Duals of an outer differentiation)")


def _pair(r, name):
    if not isinstance(r, (tuple, list)) or len(r) != 2:
        raise TypeError(f"{name}(): the rule must return a pair (out, tangent_out), "
                        f"got {type(r).__name__}")
    return r[0], r[1]


def _shape(p):
    if type(p) is DualArray:
        return p.shape
    return np.shape(p)


def _lead(t):
    # a tangent with a leading direction axis of 1 (batched rules at a scalar level)
    if type(t) is _nd:
        return t[None]
    a = np.empty(1, dtype=object if isinstance(t, Dual) else np.float64)
    a[0] = t
    return a


def _first(dy, name):
    if np.shape(dy)[:1] != (1,):
        raise ValueError(f"{name}(): a batched rule must return tangent_out with a leading "
                         f"direction axis (here of length 1), got shape {np.shape(dy)}")
    return dy[0]


def _times(P, t, out_shape, k):
    """P * t, t (k,) + shape broadcast to out_shape (k None: no direction axis)."""
    if k is None:
        if type(t) is float and t == 0.0:
            return 0.0
        r = P * t
        if type(r) is _nd and r.dtype != object and not np.isfinite(P).all():
            r = np.where(np.asarray(t) == 0, 0.0, r)   # zero-tangent convention
        return r
    return _scale(_operand(P), _bct(_operand(t), out_shape))


def _sum(a, b, k):
    if k is None:
        return a + b
    return _tadd(a, b)


def _contract(J, t, out_shape, s, k):
    """J (out + s) applied to t (s, or (k,) + s): the tangent of out."""
    m = int(np.prod(out_shape, dtype=np.int64))
    p = int(np.prod(s, dtype=np.int64))
    J2 = J.reshape(m, p)
    if k is None:
        if type(t) is float or (type(t) is _nd and t.dtype != object):
            return (J2 @ np.reshape(t, p)).reshape(out_shape) if out_shape else \
                float(J2[0] @ np.reshape(t, p))
        tv = np.reshape(np.asarray(t, dtype=object), p)
        r = J2.astype(object) @ tv
        return r.reshape(out_shape) if out_shape else r[0]
    T2 = _operand(t)
    if type(T2) is _nd:
        return (T2.reshape(k, p) @ J2.T).reshape((k,) + out_shape)
    raise TypeError("custom_jvp: a value-and-gradient rule at a nested level")


def custom_jvp(fun=None, *, nondiff_argnums=(), taylor=None):
    """Make fun a primitive of dualml with a derivative rule you give.

    Use it on code dualml cannot see inside: a compiled routine, a SciPy
    function without a dualml rule, a simulator that returns its own
    gradient.  The wrapped function works with plain numbers (it calls fun),
    scalar Duals, nested Duals, object arrays of Duals and DualArrays (all
    directions at once); fun itself only ever receives plain floats and
    ndarrays.  Give the rule with one of ``defjvp`` (as jax.custom_jvp),
    ``defderivs`` (elementwise partials) or ``defvalue_and_grad`` (code
    that returns value and Jacobian; first order only).

    Parameters
    ----------
    fun : callable, optional
        The function; without it, returns a decorator.
    nondiff_argnums : int or tuple of int, optional
        Positional arguments that are never differentiated (passed to the
        rule as they are; a Dual there raises ValueError).  Keyword
        arguments are always constants.
    taylor : callable, optional
        The rule for dualml's Taylor mode: called with the Taylor objects.
        Without it a Taylor object raises TypeError.

    Returns
    -------
    CustomJVP
        A callable with the methods ``defjvp``, ``defderivs`` and
        ``defvalue_and_grad``.

    Raises
    ------
    TypeError
        At a call with perturbed arguments when no rule was given, or when a
        rule cannot be differentiated at a nested level.
    ValueError
        If a ``nondiff_argnums`` or keyword argument carries a perturbation.

    See Also
    --------
    implicit : the derivative of a solver's root.

    Examples
    --------
    The Riemann zeta function in its second argument q (Hurwitz zeta):
    ∂ζ(s, q)/∂q = -s ζ(s + 1, q); s is a constant here.

    >>> import numpy as np, dualml
    >>> from scipy.special import zeta
    >>> @dualml.custom_jvp(nondiff_argnums=1)
    ... def hzeta(q, s):
    ...     return zeta(s, q)
    >>> _ = hzeta.defderivs(lambda q, s: -s * hzeta(q, s + 1))
    >>> d = dualml.derivative(lambda q: hzeta(q, 3.0), 2.0)
    >>> bool(np.isclose(d, -3 * (zeta(4.0) - 1)))
    True
    >>> d2 = dualml.derivative(lambda q: dualml.derivative(lambda r: hzeta(r, 3.0), q), 2.0)
    >>> bool(np.isclose(d2, 12 * (zeta(5.0) - 1)))
    True
    """
    if fun is None:
        return lambda f: CustomJVP(f, nondiff_argnums, taylor)
    return CustomJVP(fun, nondiff_argnums, taylor)
