"""The calculus API: partial derivatives, gradients, Jacobians, Hessians.

Design
------
* f receives the point shaped as the user passed it: a scalar stays a scalar,
  a list/tuple becomes a list; a real ndarray goes to the array backend (a
  DualArray, below) unless ``method="scalar"``, which passes an object
  ndarray of the same shape.  Each pass copies a flat list and replaces the seeded entries by
  Duals.  In a list the other entries stay plain floats (exact, and cheaper
  than zero-tangent Duals); in an object ndarray they are zero-tangent
  Duals, because NumPy's ufuncs on object arrays call a method of every
  entry (np.exp calls entry.exp()), which floats lack.
* Every call draws its own tag (the Hessian two: t1 < t2), so calls nest:
  an inner call's perturbation can never be confused with an outer one, and
  an outer Dual found in x is simply carried along as a value.
* Results are read with the core's extractors (``_split``/``_extract_many``),
  which also reject a non-numeric result and an escaped inner perturbation.
* ``method="auto"|"scalar"|"array"`` chooses the backend: real ndarrays go
  to ``dualml._arraycalc`` (DualArray, several directions per pass, ``chunk``
  of them) when that module exists.  The scalar path (gradient/jacobian of a
  list, tuple or scalar x) seeds ``chunk`` directions per pass too, with
  multi-partial Duals (docs/multi-partial-dual.md; default: dual.pyx's
  ``_chunk_for``).
* hvp on the scalar path is forward-over-forward: x + t v under an outer tag,
  then the n passes of the gradient under an inner one (n evaluations, as
  for the gradient, each carrying two perturbations).
"""
import importlib
import numbers
import operator

import numpy as np

from .dual import Dual, derivative
from .dual import _new_tag, _seed, _split, _extract_many, _scalar_point, _seeded_passes
from .dual import _chunk_size, _scoped, _pass_tag, _retire

__all__ = ["derivative", "partial", "gradient", "jacobian", "jvp", "hessian",
           "value_and_derivative", "value_and_gradient", "value_and_jacobian",
           "grad", "jac", "hess", "hvp", "value_gradient_and_hessian"]

_LIST, _ARRAY, _NESTED, _SCALAR = 0, 1, 2, 3
_SEQ = (list, tuple, np.ndarray)


# -- the point x ---------------------------------------------------------------

def _element(e, fname, argname="x"):
    # A real number as a Python float; a Dual (an outer level) as it is.
    if type(e) is float or isinstance(e, Dual):
        return e
    if isinstance(e, (bool, int, float, np.integer, np.floating, np.bool_)):
        return float(e)
    if isinstance(e, numbers.Real) and not isinstance(e, Dual):
        return float(e)
    if isinstance(e, (complex, np.complexfloating)):
        raise TypeError(f"{fname}(): {argname} must hold real numbers, found a complex "
                        f"number (dualml differentiates real functions)")
    raise TypeError(f"{fname}(): {argname} must be a real number or a sequence/array of "
                    f"real numbers, found {type(e).__name__}")


class _Point:
    """x flattened to a list of floats/Duals, and the way to hand it to f."""

    __slots__ = ("kind", "shape", "flat", "size", "x", "fname", "argname")

    def __init__(self, x, fname, lazy=False, argname="x"):
        # lazy: a list/tuple is taken as it is; the caller checks its entries
        # (in C, see _seeded_passes) and calls normalize() only if needed.
        # argname: what messages call it (x, or jvp's v).
        self.x, self.fname, self.argname = x, fname, argname
        if type(x) is list or type(x) is tuple:
            self.kind, self.flat = _LIST, list(x)
            self.shape = (len(self.flat),)
            self.size = len(self.flat)
            if not lazy:
                self.normalize()
            return
        if isinstance(x, np.ndarray):
            self.kind = _ARRAY
            self.shape = x.shape
            kind = x.dtype.kind
            if x.dtype == np.float64:
                self.flat = x.ravel().tolist()
            elif kind in "biuf":
                self.flat = x.astype(np.float64).ravel().tolist()
            elif kind == "O":
                self.flat = [_element(e, fname, argname) for e in x.ravel()]
            else:
                raise TypeError(f"{fname}(): {argname} must be a real array, not an array "
                                f"of dtype {x.dtype}")
        elif isinstance(x, (list, tuple)):      # subclasses
            self.x = list(x)
            self.__init__(self.x, fname, lazy, argname)
            return
        elif getattr(type(x), "__dualml_function__", None) is not None:
            raise TypeError(f"{fname}(): {argname} is a {type(x).__name__}, which only the "
                            f"array backend takes (method='auto' or 'array'); with "
                            f"method='scalar' pass a real ndarray or a list")
        else:
            self.kind, self.shape, self.flat = _SCALAR, (), [_element(x, fname, argname)]
        self.size = len(self.flat)

    def normalize(self):
        """Entries of a list point as floats/Duals; nested lists become _NESTED."""
        flat, fname, argname = self.flat, self.fname, self.argname
        if all(type(e) is float or isinstance(e, Dual) for e in flat):
            return
        if not any(isinstance(e, _SEQ) for e in flat):
            self.flat = [_element(e, fname, argname) for e in flat]
            return
        try:
            arr = np.array(self.x, dtype=object)
        except ValueError:
            arr = None
        if arr is None or any(isinstance(e, _SEQ) for e in arr.ravel()):
            raise ValueError(f"{fname}(): {argname} is a ragged nested sequence; pass a "
                             f"rectangular one or an ndarray")
        self.kind, self.shape = _NESTED, arr.shape
        self.flat = [_element(e, fname, argname) for e in arr.ravel()]
        self.size = len(self.flat)

    def build(self, flat):
        """The argument for f from a flat list (seeded entries replaced)."""
        kind = self.kind
        if kind == _LIST:
            return flat
        if kind == _SCALAR:
            return flat[0]
        a = np.empty(self.size, dtype=object)
        a[:] = flat
        if kind == _ARRAY:
            return a.reshape(self.shape) if len(self.shape) != 1 else a
        return a.reshape(self.shape).tolist()

    def base(self, tag):
        """The entries of a pass before seeding: x itself, except that an
        ndarray's entries become zero-tangent Duals of `tag` -- NumPy's
        ufuncs on object arrays call a method of each entry (np.tanh calls
        entry.tanh()), which a Dual has and a float has not.  A zero tangent
        is exact: it contributes nothing, even next to an inf partial."""
        if self.kind != _ARRAY:
            return self.flat
        return [_seed(tag, e, 0.0) for e in self.flat]

    def builder(self):
        """build, or None when f takes the flat list itself (the fast path)."""
        return None if self.kind == _LIST else self.build


# -- reading results -------------------------------------------------------------

def _is_vector(r):
    return isinstance(r, _SEQ) or getattr(type(r), "_dualml_extract", None) is not None


def _scalar_split(r, tag, fname):
    """(value, derivative) of a result that must be a scalar."""
    if isinstance(r, np.ndarray) and r.ndim == 0:
        r = r[()]
    if _is_vector(r):
        shape = getattr(r, "shape", None) or np.shape(r)
        raise TypeError(f"{fname}() needs f to return a scalar, but f returned a "
                        f"{type(r).__name__} of shape {tuple(shape)}; for a vector-valued "
                        f"f use dualml.jacobian")
    return _split(r, tag)


def _parts(r, tag, want_value):
    """(value, derivative, output shape) of a scalar or vector result."""
    if not _is_vector(r):
        v, d = _split(r, tag)
        return v, d, ()
    if isinstance(r, np.ndarray) and r.ndim == 0:
        v, d = _split(r[()], tag)
        return v, d, ()
    d = _extract_many(r, tag, False)
    v = _extract_many(r, tag, True) if want_value else None
    return v, d, d.shape


def _pack(items, shape):
    """A float64 array (object array when nested Duals remain) of this shape."""
    if shape == ():
        return items[0]
    if all(type(d) is float for d in items):
        return np.array(items, dtype=np.float64).reshape(shape)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out.reshape(shape)


def _stack(cols, out_shape, x_shape):
    """Columns ∂f/∂x_k (each of f's output shape) into out_shape + x_shape."""
    if out_shape == ():
        return _pack(cols, x_shape)
    if x_shape == ():
        return cols[0]
    n = len(cols)
    dtype = object if any(c.dtype == object for c in cols) else np.float64
    J = np.empty(out_shape + (n,), dtype=dtype)
    for k, c in enumerate(cols):
        J[..., k] = c
    return J.reshape(out_shape + x_shape)


def _check_same_shape(shape, first, fname):
    if shape != first:
        raise ValueError(f"{fname}(): f returned outputs of different shapes, {first} "
                         f"and {shape}, at the same point; f must return one shape")


# -- argument checks and the array backend ----------------------------------------

def _check(f, args, chunk, fname):
    if not callable(f):
        raise TypeError(f"{fname}(): f must be callable, not {type(f).__name__}")
    if type(args) is not tuple:
        args = tuple(args) if isinstance(args, tuple) else (args,)   # one extra argument, as SciPy
    if chunk is not None and (isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral)
                              or chunk < 1):
        raise ValueError(f"{fname}(): chunk must be None or a positive integer, got {chunk!r}")
    return args


_BACKEND = []       # [] not looked up yet; [module or None] afterwards


def _array_backend():
    if not _BACKEND:
        try:
            mod = importlib.import_module("dualml._arraycalc")
        except ModuleNotFoundError as exc:
            if exc.name != "dualml._arraycalc":
                raise       # the backend exists but is broken: say so
            mod = None
        _BACKEND.append(mod)
    return _BACKEND[0]


def _backend_for(method, x, fname):
    """The array backend module if this call should use it, else None."""
    if method == "scalar":
        return None
    if method == "auto":
        # real ndarrays, and DualArrays (the point of an inner call nested
        # in an array-backend differentiation)
        if isinstance(x, np.ndarray) and x.dtype.kind in "biuf" or \
                getattr(type(x), "__dualml_function__", None) is not None:
            return _array_backend()
        return None
    if method == "array":
        mod = _array_backend()
        if mod is None:
            raise ValueError(f"{fname}(): method='array' needs dualml's array backend "
                             f"(dualml._arraycalc), which is not available in this "
                             f"build; use method='auto' or 'scalar'")
        return mod
    raise ValueError(f"{fname}(): method must be 'auto', 'scalar' or 'array', "
                     f"got {method!r}")


# -- the scalar engine --------------------------------------------------------------

def _passes(f, x, args, tag, other, fname, chunk=None):
    """Run the seeded passes: (x's shape, _seeded_passes' result, point).

    The result is None for an empty x, and the point is then returned for
    f(x) to be evaluated once.  A non-empty list of floats/Duals goes to the
    C loop as it is (it copies the list for each pass; f never sees x).
    """
    if type(x) is list and x:
        res = _seeded_passes(f, x, args, tag, None, other, None, chunk)
        if res is not None:
            return (len(x),), res, None
    pt = _Point(x, fname, lazy=True)
    res = None
    if pt.size:
        base = pt.base(tag) if pt.kind == _ARRAY else None
        res = _seeded_passes(f, pt.flat, args, tag, pt.builder(), other, base, chunk)
        if res is None:                 # entries other than floats and Duals
            pt.normalize()
            if pt.size:
                res = _seeded_passes(f, pt.flat, args, tag, pt.builder(), other, None, chunk)
    return pt.shape, res, pt


@_scoped
def _grad_engine(f, x, args, fname, chunk=None):
    tag = _new_tag()

    def other(r, first, tag):
        return _scalar_split(r, tag, fname)
    shape, res, pt = _passes(f, x, args, tag, other, fname, chunk)
    if res is None:                     # empty x: f(x) once, for its value
        v, _ = _scalar_split(f(pt.build(pt.flat), *args), tag, fname)
        return v, np.zeros(shape)
    value, d = res
    if type(d) is list:
        if any(type(c) is np.ndarray for c in d):
            raise TypeError(f"{fname}() needs f to return a scalar, but f returned a "
                            f"sequence; for a vector-valued f use dualml.jacobian")
        return value, _pack(d, shape)
    if d.ndim == 2:                     # the C loop read sequence results
        raise TypeError(f"{fname}() needs f to return a scalar, but f returned a "
                        f"sequence of length {d.shape[0]}; for a vector-valued f use "
                        f"dualml.jacobian")
    if len(shape) == 1:
        return value, d
    return value, (d.reshape(shape) if shape != () else float(d[0]))


@_scoped
def _jac_engine(f, x, args, fname, want_value, chunk=None):
    tag = _new_tag()

    def other(r, first, tag):
        v, d, _ = _parts(r, tag, want_value and first)
        return v, d
    shape, res, pt = _passes(f, x, args, tag, other, fname, chunk)
    if res is None:                     # empty x: f(x) once, for its value and shape
        v, d, out_shape = _parts(f(pt.build(pt.flat), *args), tag, True)
        return v, np.zeros(out_shape + shape)
    value, cols = res
    if type(value) is list:             # a flat sequence result, read in C
        value = np.array(value, dtype=np.float64)
    if type(cols) is not list:
        if cols.ndim == 2:              # sequence results: J[i, j] = cols[i, j]
            return value, cols.reshape(cols.shape[:1] + shape)
        if len(shape) == 1:             # scalar results
            return value, cols
        return value, (cols.reshape(shape) if shape != () else float(cols[0]))
    first = np.shape(cols[0]) if isinstance(cols[0], np.ndarray) else ()
    for c in cols:
        _check_same_shape(c.shape if isinstance(c, np.ndarray) else (), first, fname)
    return value, _stack(cols, first, shape)


def _tangent(v, pt, fname):
    vp = _Point(v, fname, argname="v")
    if vp.size != pt.size or (vp.shape != pt.shape and vp.kind != _SCALAR):
        raise ValueError(f"{fname}(): v must have the shape of x, {pt.shape}; got "
                         f"shape {vp.shape}")
    return vp.flat


# -- public API -------------------------------------------------------------------------

@_scoped
def value_and_derivative(f, x, args=()):
    """f(x) and f'(x) from a single evaluation of f.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` of one real variable; returns a real number or a
        sequence/array of them.
    x : float
        The point (for several variables see ``value_and_gradient``).
    args : tuple, optional
        Extra arguments passed to f.

    Returns
    -------
    value : float or ndarray
        f(x), shaped like f's output.
    deriv : float or ndarray
        f'(x), same shape.

    Raises
    ------
    TypeError
        If f is not callable, x is not a real number, f returns
        anything but real numbers, or f drops the derivative (``float()``
        or the ``math`` module on its input; the message says what to use).

    See Also
    --------
    derivative : the derivative alone.
    value_and_gradient : several variables.

    Examples
    --------
    >>> import dualml
    >>> dualml.value_and_derivative(lambda t: t**3, 2.0)
    (8.0, 12.0)
    """
    args = _check(f, args, None, "value_and_derivative")
    if type(x) is not Dual:
        x = _scalar_point(x, "value_and_derivative")
    tag = _new_tag()
    v, d, _ = _parts(f(_seed(tag, x, 1.0), *args), tag, True)
    return v, d


@_scoped
def partial(f, x, i, args=(), method="auto"):
    """The partial derivative ∂f/∂x_i at x, from one evaluation of f.

    Only x_i is perturbed (seeded with tangent 1); the other entries are
    passed to f as plain floats.

    Parameters
    ----------
    f : callable
        ``f(x, *args)``; x is passed with the shape the caller gave it (a
        list for a list or tuple; for a real ndarray a DualArray with the
        one direction e_i, or with ``method="scalar"`` an object ndarray).
    x : sequence or ndarray of real numbers, any shape
        The point.
    i : int or tuple of int
        Index of the variable: an int for a 1-d x, a tuple of x.ndim ints
        otherwise.  Negative indices count from the end, as in NumPy.
    args : tuple, optional
        Extra arguments passed to f.
    method : {"auto", "scalar", "array"}, optional
        As for ``gradient``.

    Returns
    -------
    float or ndarray
        ∂f/∂x_i, shaped like f's output (a float for a scalar f).

    Raises
    ------
    IndexError
        If i is out of range for x or has the wrong number of components.

    See Also
    --------
    gradient : all the partial derivatives (n of them, in one pass on the array path).
    jvp : a directional derivative, also one evaluation.

    Examples
    --------
    >>> import dualml
    >>> dualml.partial(lambda x: x[0] * x[1]**2, [3.0, 2.0], 1)
    12.0
    >>> import numpy as np
    >>> dualml.partial(lambda A: A[0, 1] * A[1, 0], np.array([[1., 2.], [3., 4.]]), (1, 0))
    2.0
    """
    args = _check(f, args, None, "partial")
    backend = _backend_for(method, x, "partial")
    if backend is not None and isinstance(x, np.ndarray):
        # one direction, e_i, through the array path: J e_i = df/dx_i
        k = _flat_index(i, x.shape)
        e = np.zeros(x.size)
        e[k] = 1.0
        return backend.jvp(f, x, e.reshape(x.shape), args)[1]
    pt = _Point(x, "partial")
    k = _flat_index(i, pt.shape)
    tag = _new_tag()
    xs = pt.base(tag).copy()
    xs[k] = _seed(tag, pt.flat[k], 1.0)
    _, d, _ = _parts(f(pt.build(xs), *args), tag, False)
    return d


def _flat_index(i, shape):
    if isinstance(i, tuple):
        idx = i
    elif isinstance(i, (bool, np.bool_)):
        raise TypeError(f"partial(): i must be an int or a tuple of ints, not {type(i).__name__}")
    else:
        idx = (i,)
    try:
        idx = tuple(operator.index(k) for k in idx)
    except TypeError:
        raise TypeError(f"partial(): i must be an int or a tuple of ints, got {i!r}") from None
    if len(idx) != len(shape):
        raise IndexError(f"partial(): index {i!r} has {len(idx)} component(s) but x has "
                         f"{len(shape)} dimension(s) (shape {shape})")
    flat = 0
    for k, n in zip(idx, shape):
        if not -n <= k < n:
            raise IndexError(f"partial(): index {i!r} is out of range for x of shape {shape}")
        flat = flat * n + k % n
    return flat


def gradient(f, x, args=(), *, method="auto", chunk=None):
    """The gradient of a scalar function: ``g[j] = ∂f/∂x_j``, exact to rounding.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number.  f may use plain Python
        (loops, ``if`` on comparisons), dualml's functions, or NumPy on
        object arrays; it must not call ``float()`` or the math module on x.
    x : float, sequence or ndarray of real numbers, any shape
        The point.  f receives a list (of floats, one of them a Dual) for a
        list or tuple; for a real ndarray a DualArray carrying the seeded
        directions (the array backend), or with ``method="scalar"`` an object
        ndarray of Duals of the same shape (zero tangent where not seeded).
    args : tuple, optional
        Extra arguments passed to f, as in SciPy.
    method : {"auto", "scalar", "array"}, optional
        "scalar": f on Duals, ``chunk`` input directions seeded per pass.
        "array": the DualArray backend (``dualml._arraycalc``).  "auto": the
        array backend for a real ndarray x (or a DualArray, inside a nested
        call) when it is available, else scalar.
    chunk : int, optional
        Directions per pass.  On the scalar path (a list, tuple or scalar x,
        or ``method="scalar"``) each pass seeds ``chunk`` entries with Duals
        carrying ``chunk`` partials: ceil(n / chunk) evaluations of f, with
        results equal to ``chunk=1`` (one direction per pass) up to the sign
        of a zero.  Default: all n in one pass if n <= 12, else equal chunks
        of ceil(n / ceil(n / 12)); at most 12 on the scalar path.  On the
        array backend, default: as many as keep every tangent buffer of a
        pass under ``DUALML_MAX_BYTES`` (environment, default 256M): a pass
        whose intermediate outgrows it stops before allocating and is rerun
        with fewer directions.  Forward mode costs about n passes' worth of
        tangents for n inputs; for thousands of inputs into a large model
        (training), reverse mode (JAX, PyTorch) is the better tool.

    Returns
    -------
    ndarray
        Shape ``x.shape`` (a float for a scalar x).  An object array only
        inside an outer differentiation (the entries are then Duals).

    Raises
    ------
    TypeError
        If f is not callable, x holds anything but real numbers, f returns
        anything but real numbers (or, for a scalar f, more than one
        number), or f drops the derivative (``float()`` or the ``math``
        module on its input; the message says what to use).
    ValueError
        If ``method`` or ``chunk`` is not one of the accepted values.

    See Also
    --------
    value_and_gradient, jacobian, grad

    Examples
    --------
    >>> import dualml
    >>> dualml.gradient(lambda x: x[0]**2 * x[1], [3.0, 2.0])
    array([12.,  9.])
    """
    args = _check(f, args, chunk, "gradient")
    if method != "auto" or type(x) is not list:
        mod = _backend_for(method, x, "gradient")
        if mod is not None:
            return mod.gradient(f, x, args, chunk)
    return _grad_engine(f, x, args, "gradient", chunk)[1]


def value_and_gradient(f, x, args=(), *, method="auto", chunk=None):
    """f(x) and its gradient from the same evaluations (f is not called again).

    Parameters
    ----------
    f, x, args, method, chunk
        As for ``gradient``.

    Returns
    -------
    value : float
        f(x).
    grad : ndarray
        Shape ``x.shape``, ``grad[j] = ∂f/∂x_j``.

    Raises
    ------
    TypeError, ValueError
        As for ``gradient``.

    See Also
    --------
    gradient : the gradient alone.
    value_gradient_and_hessian : with the Hessian too.

    Examples
    --------
    >>> import dualml
    >>> dualml.value_and_gradient(lambda x: x[0] * x[1], [3.0, 2.0])
    (6.0, array([2., 3.]))
    """
    args = _check(f, args, chunk, "value_and_gradient")
    if method != "auto" or type(x) is not list:
        mod = _backend_for(method, x, "value_and_gradient")
        if mod is not None:
            return mod.value_and_gradient(f, x, args, chunk)
    return _grad_engine(f, x, args, "value_and_gradient", chunk)


def jacobian(f, x, args=(), *, method="auto", chunk=None):
    """The Jacobian matrix ``J[i, j] = ∂f_i/∂x_j``, exact to rounding.

    On the scalar path ``chunk`` input directions are seeded per pass (all
    n = x.size in one pass for n <= 12, see ``gradient``); the entries not
    seeded in a pass stay plain floats.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number or a sequence/array of them
        (entries that do not depend on x may be plain numbers).
    x : float, sequence or ndarray of real numbers, any shape
        The point, passed to f as for ``gradient``.
    args : tuple, optional
        Extra arguments passed to f.
    method : {"auto", "scalar", "array"}, optional
        As for ``gradient``.
    chunk : int, optional
        Directions per pass, as for ``gradient``.

    Returns
    -------
    ndarray
        Shape ``f(x).shape + x.shape``: for f of shape (m,) and x of shape
        (n,), J has shape (m, n) with ``J[i, j] = ∂f_i/∂x_j``.

    Raises
    ------
    TypeError
        If f is not callable, x holds anything but real numbers, f returns
        anything but real numbers, or f drops the derivative (``float()``
        or the ``math`` module on its input; the message says what to use).
    ValueError
        If ``method`` or ``chunk`` is not one of the accepted values.

    See Also
    --------
    value_and_jacobian, jvp, jac

    Examples
    --------
    >>> import dualml
    >>> dualml.jacobian(lambda x: [x[0] * x[1], x[0] + 3 * x[1], 5.0], [2.0, 1.0])
    array([[1., 2.],
           [1., 3.],
           [0., 0.]])
    """
    args = _check(f, args, chunk, "jacobian")
    if method != "auto" or type(x) is not list:
        mod = _backend_for(method, x, "jacobian")
        if mod is not None:
            return mod.jacobian(f, x, args, chunk)
    return _jac_engine(f, x, args, "jacobian", False, chunk)[1]


def value_and_jacobian(f, x, args=(), *, method="auto", chunk=None):
    """f(x) and its Jacobian from the same evaluations.

    Parameters
    ----------
    f, x, args, method, chunk
        As for ``jacobian``.

    Returns
    -------
    value : float or ndarray
        f(x), as a float array of f's output shape.
    J : ndarray
        Shape ``f(x).shape + x.shape``, ``J[i, j] = ∂f_i/∂x_j``.

    Raises
    ------
    TypeError, ValueError
        As for ``jacobian``.

    See Also
    --------
    jacobian : the Jacobian alone.
    jvp : one Jacobian-vector product, one evaluation.

    Examples
    --------
    >>> import dualml
    >>> v, J = dualml.value_and_jacobian(lambda x: [x[0] * x[1], x[1]], [2.0, 3.0])
    >>> v
    array([6., 3.])
    >>> J
    array([[3., 2.],
           [0., 1.]])
    """
    args = _check(f, args, chunk, "value_and_jacobian")
    if method != "auto" or type(x) is not list:
        mod = _backend_for(method, x, "value_and_jacobian")
        if mod is not None:
            return mod.value_and_jacobian(f, x, args, chunk)
    return _jac_engine(f, x, args, "value_and_jacobian", True, chunk)


@_scoped
def jvp(f, x, v, args=(), *, method="auto"):
    """f(x) and the Jacobian-vector product J·v from ONE evaluation of f.

    Every x_j is seeded with tangent v_j under one tag, so the result is the
    directional derivative of f along v.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number or a sequence/array of them.
    x : float, sequence or ndarray of real numbers
        The point.
    v : float, sequence or ndarray of real numbers
        The direction, of the shape of x.
    args : tuple, optional
        Extra arguments passed to f.
    method : {"auto", "scalar", "array"}, optional
        As for ``gradient``.

    Returns
    -------
    value : float or ndarray
        f(x), shaped like f's output.
    Jv : float or ndarray
        ``Jv[i] = Σ_j ∂f_i/∂x_j v_j``, shaped like f's output.

    Raises
    ------
    TypeError
        If f is not callable, x holds anything but real numbers, f returns
        anything but real numbers, or f drops the derivative (``float()``
        or the ``math`` module on its input; the message says what to use).
    ValueError
        If v does not have the shape of x, or ``method`` is not accepted.

    See Also
    --------
    jacobian : the whole Jacobian (``jvp`` is ``jacobian @ v`` without forming it).
    partial : v a coordinate direction.
    hvp : the Hessian-vector product.

    Examples
    --------
    >>> import dualml
    >>> dualml.jvp(lambda x: [x[0] * x[1], x[1]**2], [2.0, 3.0], [1.0, 0.5])
    (array([6., 9.]), array([4., 3.]))
    """
    args = _check(f, args, None, "jvp")
    if v is None:
        raise TypeError("jvp(): v, the direction, is None; pass real numbers of the "
                        "shape of x (for example [1.0, 0.0] for the derivative along x[0])")
    mod = _backend_for(method, x, "jvp")
    if mod is not None:
        return mod.jvp(f, x, v, args)
    pt = _Point(x, "jvp")
    tangent = _tangent(v, pt, "jvp")
    tag = _new_tag()
    # a zero tangent leaves x_k a plain float (exact; faster) unless f gets an array
    xs = [xk if type(vk) is float and vk == 0.0 and pt.kind != _ARRAY else _seed(tag, xk, vk)
          for xk, vk in zip(pt.flat, tangent)]
    value, d, _ = _parts(f(pt.build(xs), *args), tag, True)
    return value, d


def hessian(f, x, args=(), *, method="auto", chunk=None):
    """The Hessian ``H[i, j] = ∂²f/∂x_i∂x_j`` of a scalar function: exact to
    rounding and exactly symmetric.

    On the scalar path each entry comes from one evaluation with two nested
    perturbations (x_i seeded under tag t1, x_j under an inner tag t2;
    hyper-dual numbers), the upper triangle mirrored to the lower.  The
    outer level seeds ``chunk`` directions per pass (multi-partial Duals):
    n * ceil(n / chunk) evaluations, n for n <= 12 by default; ``chunk=1``
    takes n(n+1)/2, one per entry of the upper triangle.  A real ndarray x goes to the array backend,
    which carries gradient and Hessian rows through one evaluation.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number.
    x : float, sequence or ndarray of real numbers, any shape
        The point, passed to f as for ``gradient``.
    args : tuple, optional
        Extra arguments passed to f.
    method : {"auto", "scalar", "array"}, optional
        As for ``gradient``.
    chunk : int, optional
        Directions per pass: on the scalar path, of the outer level (see
        above and ``gradient``); for the array backend, its own chunking.

    Returns
    -------
    ndarray
        Shape ``x.shape + x.shape`` (a float, f''(x), for a scalar x).

    Raises
    ------
    TypeError
        If f is not callable, x holds anything but real numbers, f returns
        anything but real numbers (or, for a scalar f, more than one
        number), or f drops the derivative (``float()`` or the ``math``
        module on its input; the message says what to use).
    ValueError
        If ``method`` or ``chunk`` is not one of the accepted values.

    See Also
    --------
    hvp : H v without forming H.
    value_gradient_and_hessian : value, gradient and H from the same passes.
    sparse_hessian : H with few nonzeros per row, from a coloring.

    Examples
    --------
    >>> import dualml
    >>> dualml.hessian(lambda x: x[0]**2 * x[1] + x[1]**3, [1.0, 2.0])
    array([[ 4.,  2.],
           [ 2., 12.]])
    """
    args = _check(f, args, chunk, "hessian")
    mod = _backend_for(method, x, "hessian")
    if mod is not None:
        return mod.hessian(f, x, args, chunk)
    return _hessian_engine(f, x, args, "hessian", chunk, want_vg=False)[2]


@_scoped
def _hessian_engine(f, x, args, fname, chunk=None, want_vg=True):
    """(value, gradient, Hessian): with chunk=1, all three from the n(n+1)/2
    hyper-dual evaluations; else H chunked (see ``_hessian_chunked``)."""
    pt = _Point(x, fname)
    flat, n = pt.flat, pt.size
    t1 = _new_tag()
    if n == 0:
        v, _ = _scalar_split(f(pt.build(flat), *args), t1, fname)
        return v, np.zeros(pt.shape), np.zeros(pt.shape + pt.shape)
    if _chunk_size(chunk, n) > 1:
        # H from n * ceil(n / chunk) evaluations; the value and gradient, when
        # asked for, from the ceil(n / chunk) passes of a chunked gradient
        H = _pack(_hessian_chunked(f, pt, args, chunk), pt.shape + pt.shape)
        if not want_vg:
            return None, None, H
        value, g = _grad_engine(f, x, args, fname, chunk)
        return value, g, H
    H = [None] * (n * n)
    g = [None] * n
    value = None
    t2 = _new_tag()
    for i in range(n):
        for j in range(i, n):
            # two fresh tags per evaluation (the previous ones finished): a
            # Dual that f keeps from one evaluation raises in the next
            if i or j:
                _retire(t2)
                t1 = _pass_tag(t1)
                t2 = _new_tag()
            xs = pt.base(t1)
            xs = xs.copy() if xs is flat else xs
            if i == j:
                xs[i] = _seed(t2, _seed(t1, flat[i], 1.0), 1.0)
            else:
                xs[i] = _seed(t1, flat[i], 1.0)
                xs[j] = _seed(t2, flat[j], 1.0)
            r = f(pt.build(xs), *args)
            try:
                v2, d2 = _split(r, t2)
            except TypeError:
                v2, d2 = _scalar_split(r, t2, fname)
            H[i * n + j] = H[j * n + i] = _split(d2, t1)[1]
            if i == j:
                # x_i is the only entry seeded under t1 in this pass
                v1, g[i] = _split(v2, t1)
                if value is None:
                    value = v1
    return value, _pack(g, pt.shape), _pack(H, pt.shape + pt.shape)


def value_gradient_and_hessian(f, x, args=(), *, method="auto", chunk=None):
    """f(x), its gradient and its Hessian from the passes of ``hessian`` alone.

    The array backend's second-order rows are ``[g, H]``, and on the scalar
    path the diagonal evaluations carry f(x) and ∂f/∂x_i: no extra pass.

    Parameters
    ----------
    f, x, args, method, chunk
        As for ``hessian``.

    Returns
    -------
    value : float
        f(x).
    grad : ndarray
        Shape ``x.shape``, ``grad[j] = ∂f/∂x_j`` (a float for a scalar x).
    H : ndarray
        Shape ``x.shape + x.shape``, ``H[i, j] = ∂²f/∂x_i∂x_j``.

    Raises
    ------
    TypeError, ValueError
        As for ``hessian``.

    See Also
    --------
    hessian, value_and_gradient, hvp

    Examples
    --------
    >>> import dualml
    >>> v, g, H = dualml.value_gradient_and_hessian(lambda x: x[0]**2 * x[1], [1.0, 2.0])
    >>> v, g
    (2.0, array([4., 1.]))
    >>> H
    array([[4., 2.],
           [2., 0.]])
    """
    args = _check(f, args, chunk, "value_gradient_and_hessian")
    mod = _backend_for(method, x, "value_gradient_and_hessian")
    if mod is not None:
        return mod.value_gradient_and_hessian(f, x, args, chunk)
    return _hessian_engine(f, x, args, "value_gradient_and_hessian", chunk)


@_scoped
def hvp(f, x, v, args=(), *, method="auto"):
    """The Hessian-vector product ``H(x) v`` of a scalar f, without forming H.

    Forward over forward: the derivative along v of the gradient.  The array
    backend does it in one evaluation of f whose DualArray carries n + 1
    first-order rows (the n coordinate directions and v) and the n + 1
    second-order rows of v (about twice the work of one ``gradient``); the
    scalar path takes n evaluations, each with x + t v under an outer
    perturbation and one coordinate seeded under an inner one.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number.
    x : float, sequence or ndarray of real numbers, any shape
        The point, passed to f as for ``gradient``.
    v : float, sequence or ndarray of real numbers
        The vector, of the shape of x.
    args : tuple, optional
        Extra arguments passed to f.
    method : {"auto", "scalar", "array"}, optional
        As for ``gradient``.

    Returns
    -------
    ndarray
        Shape ``x.shape``: ``(H v)[i] = Σ_j ∂²f/∂x_i∂x_j v_j`` (a float for a
        scalar x).

    Raises
    ------
    TypeError
        If f returns something other than a real scalar, or v is not real.
    ValueError
        If v does not have the shape of x.

    See Also
    --------
    hessian, jvp, value_gradient_and_hessian

    Examples
    --------
    >>> import numpy as np, dualml
    >>> f = lambda x: x[0]**2 * x[1] + np.sin(x[1])
    >>> dualml.hvp(f, np.array([1.0, 0.0]), np.array([1.0, 2.0]))
    array([4., 2.])
    """
    args = _check(f, args, None, "hvp")
    if v is None:
        raise TypeError("hvp(): v is None; pass real numbers of the shape of x (for "
                        "example [1.0, 0.0] for the first column of the Hessian)")
    mod = _backend_for(method, x, "hvp")
    if mod is not None:
        return mod.hvp(f, x, v, args)
    pt = _Point(x, "hvp")
    tangent = _tangent(v, pt, "hvp")
    t1 = _new_tag()     # the outer perturbation, x + t v; the gradient's tags come later
    xs = [_seed(t1, xk, vk) for xk, vk in zip(pt.flat, tangent)]
    _, g = _grad_engine(f, pt.build(xs), args, "hvp")
    if type(g) is np.ndarray:
        return _extract_many(g, t1, False) if g.size else np.zeros(pt.shape)
    return _split(g, t1)[1]


@_scoped
def _hessian_chunked(f, pt, args, chunk):
    """H (flat, row-major) as the Jacobian of the gradient: the outer level
    seeds `chunk` directions per pass with multi-partial Duals (tag t1), the
    inner one direction per evaluation (tag t2 > t1), so f runs
    n * ceil(n / chunk) times instead of n(n+1)/2.  Entry (i, j), i <= j,
    comes from the evaluation with x_i seeded under t1 and x_j under t2, as
    in the one-direction loop of ``hessian``, and is mirrored (exactly
    symmetric; equal to chunk=1 up to the sign of a zero)."""
    n, build = pt.size, pt.build
    t1 = _new_tag()

    def column(xs):             # d/dx_a of f for every a: its t1 parts are H's columns
        # a tag of its own for each evaluation, drawn after the pass's outer
        # one (inner tags are larger) and finished when it is read: a Dual
        # kept from one evaluation raises in the next
        out = []
        t2 = 0
        for a in range(n):
            t2 = _pass_tag(t2) if t2 else _new_tag()
            ys = xs[:]
            ys[a] = _seed(t2, xs[a], 1.0)
            r = f(build(ys), *args)
            try:
                _, d = _split(r, t2)
            except TypeError:
                _, d = _scalar_split(r, t2, "hessian")
            out.append(d)
        _retire(t2)
        return out

    def other(r, first, t1):    # parts that are not floats (inside an outer call)
        return None, _extract_many(r, t1, False)
    base = pt.base(t1) if pt.kind == _ARRAY else None
    _, G = _seeded_passes(column, pt.flat, (), t1, None, other, base, chunk)
    # G[a, b] = d2f / dx_b(t1) dx_a(t2): a (n, n) float array, or a list of
    # columns b when entries are Duals of outer levels
    g = (lambda a, b: G[a, b]) if type(G) is not list else (lambda a, b: G[b][a])
    H = [None] * (n * n)
    for i in range(n):
        for j in range(i, n):
            H[i * n + j] = H[j * n + i] = float(g(j, i)) if type(G) is not list else g(j, i)
    return H


# -- transforms for SciPy ------------------------------------------------------------

def _transform(fn, f, name, method, chunk):
    def g(x, *args):
        return fn(f, x, args, method=method, chunk=chunk)
    fname = getattr(f, "__name__", type(f).__name__)
    g.__name__ = g.__qualname__ = f"{name}({fname})"
    g.__doc__ = f"{name}(f)(x, *args) = dualml.{fn.__name__}(f, x, args), f = {fname}."
    g.__wrapped__ = f
    return g


def grad(f, *, method="auto", chunk=None):
    """The gradient as a function: ``grad(f)(x, *args) == gradient(f, x, args)``.

    Pass it as ``jac=`` to ``scipy.optimize.minimize`` (SciPy calls it with
    the same extra ``args`` as f).

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number.
    method, chunk
        Passed to ``gradient``.

    Returns
    -------
    callable
        ``x, *args -> ndarray`` of shape ``x.shape``.

    Raises
    ------
    TypeError, ValueError
        As ``gradient``, when the returned function is called (f not
        callable, a bad ``method`` or ``chunk`` already here).

    See Also
    --------
    gradient : what the returned function computes.
    jac, hess : the Jacobian and Hessian as functions.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> from scipy.optimize import minimize
    >>> rosen = lambda x: (1 - x[0])**2 + 100 * (x[1] - x[0]**2)**2
    >>> res = minimize(rosen, np.array([-1.2, 1.0]), jac=dualml.grad(rosen), method="BFGS")
    >>> np.allclose(res.x, [1.0, 1.0], atol=1e-5)
    True
    """
    _check(f, (), chunk, "grad")
    return _transform(gradient, f, "grad", method, chunk)


def jac(f, *, method="auto", chunk=None, sparse=False, sparsity=None):
    """The Jacobian as a function: ``jac(f)(x, *args) == jacobian(f, x, args)``.

    Pass it as ``jac=`` to ``scipy.optimize.root`` or ``least_squares``.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a sequence/array of real numbers.
    method, chunk
        Passed to ``jacobian``.
    sparse : {False, True, "dense"}, optional
        True: a ``SparseJacobian`` prepared at the first call and reused
        (one forward direction per color), returning a
        ``scipy.sparse.csr_array`` of shape ``(f(x).size, x.size)``, as
        ``least_squares`` takes it; "dense": the same evaluation returned
        dense (``root(method="hybr")`` needs that).
    sparsity : scipy.sparse or boolean array_like, optional
        With ``sparse``: the pattern; None detects it at the first point.

    Returns
    -------
    callable
        ``x, *args -> ndarray`` of shape ``f(x).shape + x.shape`` (or the
        sparse/flattened result described under ``sparse``).

    Raises
    ------
    TypeError, ValueError
        As ``jacobian``, when the returned function is called (f not
        callable, a bad ``method``, ``chunk`` or ``sparse`` already here).

    See Also
    --------
    jacobian : what the returned function computes.
    SparseJacobian : the prepared sparse Jacobian behind ``sparse=True``.
    ode_jac : the ``jac(t, y)`` SciPy's stiff ODE solvers call.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> from scipy.optimize import root
    >>> F = lambda x: [x[0] + 0.5 * (x[0] - x[1])**3 - 1.0, 0.5 * (x[1] - x[0])**3 + x[1]]
    >>> sol = root(F, np.zeros(2), jac=dualml.jac(F))
    >>> bool(sol.success), np.allclose(F(sol.x), 0.0)
    (True, True)
    """
    _check(f, (), chunk, "jac")
    if sparse is not False:
        from .sparse.transforms import _sparse_transform
        return _sparse_transform("jac", f, method, sparse, sparsity)
    return _transform(jacobian, f, "jac", method, chunk)


def hess(f, *, method="auto", chunk=None, sparse=False, sparsity=None):
    """The Hessian as a function: ``hess(f)(x, *args) == hessian(f, x, args)``.

    Pass it as ``hess=`` to ``scipy.optimize.minimize`` (Newton-CG,
    trust-exact, ...).

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number.
    method, chunk
        Passed to ``hessian``.
    sparse : {False, True, "dense"}, optional
        True: a ``SparseHessian`` prepared at the first call and reused,
        returning a ``scipy.sparse.csr_array`` (n, n), as
        ``minimize(method="trust-constr")`` takes it; "dense": the same
        evaluation returned dense.  For an objective that is a sum of
        terms, pass ``SparseHessian(terms, x0, elements=True)`` itself.
    sparsity : scipy.sparse or boolean array_like, optional
        With ``sparse``: the pattern; None detects it at the first point.

    Returns
    -------
    callable
        ``x, *args -> ndarray`` of shape ``x.shape + x.shape`` (or the
        sparse result described under ``sparse``).

    Raises
    ------
    TypeError, ValueError
        As ``hessian``, when the returned function is called (f not
        callable, a bad ``method``, ``chunk`` or ``sparse`` already here).

    See Also
    --------
    hessian : what the returned function computes.
    SparseHessian : the prepared sparse Hessian behind ``sparse=True``.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> dualml.hess(lambda x: x[0]**2 * x[1])([1.0, 2.0])
    array([[4., 2.],
           [2., 0.]])
    """
    _check(f, (), chunk, "hess")
    if sparse is not False:
        from .sparse.transforms import _sparse_transform
        return _sparse_transform("hess", f, method, sparse, sparsity)
    return _transform(hessian, f, "hess", method, chunk)
