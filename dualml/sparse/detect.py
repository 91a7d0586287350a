"""Sparsity detection: which outputs depend on which inputs, at a point.

f runs once on a pattern tracer (_tracer: arrays, index sets as CSR families
handled in C; _scalar: single values, frozensets): the values are those of
x, so every branch (comparisons, np.where, max/min) goes the way the
evaluation at x goes, and each element carries the set of inputs it depends
on (and, for hessian_sparsity, the pairs of inputs its second derivative
couples).  The result is conservative on that branch: a structural nonzero
is never missed, while a cancellation (x - x, 0 * x) keeps its pattern.
Operations the tracer has no rule for raise TypeError; pass the pattern
explicitly (sparsity=) in that case.
"""
import numpy as np

from . import _numpy_api, _scalar, _sets  # noqa: F401  (fill the tracer's tables)
from ._tracer import _I64, _Context, _empty_family, _lift, _PatternArray

__all__ = ["hessian_sparsity", "jacobian_sparsity"]

#: patterns with this many rows, columns or entries get int64 indices, else int32
_INT32_LIMIT = 2**31 - 1


def _point(x, fname):
    """x as a flat float64 array, and how to hand it to f."""
    if isinstance(x, _PatternArray):
        raise TypeError(f"{fname}(): x is already traced (nested detection is not "
                        f"supported)")
    if isinstance(x, (list, tuple)):
        kind = "list"
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"{fname}(): x must be a real number, a list of real numbers "
                            f"or a real ndarray") from None
    elif isinstance(x, np.ndarray) or np.isscalar(x):
        kind = "array" if isinstance(x, np.ndarray) else "scalar"
        if np.asarray(x).dtype.kind not in "biuf":
            raise TypeError(f"{fname}(): x must be real, not of dtype {np.asarray(x).dtype}")
        arr = np.asarray(x, dtype=np.float64)
    else:
        raise TypeError(f"{fname}(): x must be a real number, a list of real numbers or "
                        f"a real ndarray, not {type(x).__name__}")
    return arr, kind


def _seed(arr, kind, hessian):
    n = arr.size
    ctx = _Context(n, hessian)
    g = (np.arange(n + 1, dtype=_I64), np.arange(n, dtype=ctx.gdtype))
    h = _empty_family(n) if hessian else None
    t = _PatternArray(arr.copy(), g, h, ctx)
    if kind == "list":
        return t.tolist(), ctx                  # nested lists of 0-d traced values
    return t, ctx


def _run(f, x, args, fname, hessian, finish):
    """finish(out, n) of the traced result, inside the run's arena: what it
    returns must own its memory (the arena's buffer serves the next run)."""
    arr, kind = _point(x, fname)
    if not isinstance(args, tuple):
        args = (args,)
    arena = _sets._arena_open()
    try:
        xt, ctx = _seed(arr, kind, hessian)
        r = f(xt, *args)
        try:
            out = _lift(r, ctx)
        except TypeError as e:
            raise TypeError(f"{fname}(): f returned {type(r).__name__}, which is not an "
                            f"array of real numbers ({e})") from None
        out._check()
        res = finish(out, arr.size)
        del xt, r, out                  # the tracers go before the buffer is handed on
        return res
    finally:
        _sets._arena_close(arena)


def _csr(indptr, indices, shape):
    try:
        from scipy.sparse import csr_array
    except ImportError:                  # SciPy is optional (the "test" extra)
        raise ImportError("dualml's sparsity patterns are scipy.sparse arrays: install "
                          "SciPy (pip install scipy)") from None
    # copies (indptr and indices may live in the detection run's arena) in the
    # index type SciPy picks for this shape, which it then keeps as they are
    it = np.int32 if max(shape + (len(indices),)) < _INT32_LIMIT else np.int64
    data = np.ones(len(indices), dtype=bool)
    m = csr_array((data, indices.astype(it), indptr.astype(it)), shape=shape, copy=False)
    m.has_sorted_indices = True
    return m


def jacobian_sparsity(f, x, args=()):
    """Sparsity pattern of the Jacobian of ``f`` at ``x``.

    ``f`` runs once on a tracer that carries, per element, the set of inputs
    it depends on.  Branches (comparisons, ``np.where``, ``np.maximum``,
    ``np.max``) follow the values at ``x``; the pattern is conservative on
    that branch: a structural nonzero is never missed, while accidental
    cancellations (``x - x``, ``0 * x``) keep their pattern.  Piecewise
    constant functions (``floor``, ``sign``, comparisons...) have an empty
    pattern; ``abs``, ``relu`` and ``leaky_relu`` keep theirs on both sides
    of the kink (conservative where the slope is 0); ``maximum``/``minimum``
    keep only the winning side (both on ties).  A product with a constant
    matrix (``A @ x``, ``np.dot``, ``np.einsum``) takes A's nonzero
    structure; elementwise products with constants keep the pattern even
    where the constant is 0.  Writes (``r[1:-1] = ...``, ``+=``) replace
    patterns as they replace values, views write through to their base, and
    a view used after its base changed raises.  Cost: one traced evaluation
    of ``f`` (each operation a few passes over the index sets in C).

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` written with NumPy operations (or ``dualml``
        functions, or Python arithmetic on the entries of a list ``x``).
    x : float, list of floats or ndarray, shape (n,) or any shape
        The point; flattened in C order, it numbers the inputs 0..n-1.
    args : tuple, optional
        Extra constant arguments of ``f``.

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (m, n)
        Entry (i, j) is True iff output i (f's result flattened in C order)
        depends on input j on the branch taken at ``x``.

    Raises
    ------
    TypeError
        If ``f`` uses an operation the tracer has no rule for (converting
        to a plain array, ``float()``, ``math.*``, unsupported NumPy
        functions); pass the pattern explicitly (``sparsity=``) then.

    See Also
    --------
    hessian_sparsity : the pattern of a scalar function's Hessian.
    jacobian : the dense Jacobian.

    Examples
    --------
    >>> import numpy as np
    >>> import dualml
    >>> def F(u):
    ...     return np.concatenate([u[:1], u[:-2] - 2 * u[1:-1] + u[2:], u[-1:] ** 2])
    >>> dualml.jacobian_sparsity(F, np.ones(4)).toarray().astype(int)
    array([[1, 0, 0, 0],
           [1, 1, 1, 0],
           [0, 1, 1, 1],
           [0, 0, 0, 1]])
    """
    return _run(f, x, args, "jacobian_sparsity", False,
                lambda out, n: _csr(*out._g, (out.size, n)))


def hessian_sparsity(f, x, args=()):
    """Sparsity pattern of the Hessian of a scalar ``f`` at ``x``.

    As :func:`jacobian_sparsity`, with each element carrying also the pairs
    of inputs its second derivative couples: linear operations (sums,
    indexing, constant factors, ``abs``/``relu``) pass the pairs on, a
    nonlinear function of one argument (``exp``, ``sin``, ``x ** 2``...)
    adds all pairs of its argument's inputs, ``a * b`` adds the pairs
    between a's and b's inputs, ``a / b``, ``a ** b``, ``hypot``... add
    those of both arguments.  Conservative on the branch taken at ``x``.

    Parameters
    ----------
    f : callable
        ``f(x, *args)``, returning one number (a 0-d or size-1 result).
    x : float, list of floats or ndarray, shape (n,) or any shape
        The point; flattened in C order.
    args : tuple, optional
        Extra constant arguments of ``f``.

    Returns
    -------
    scipy.sparse.csr_array of bool, shape (n, n)
        Symmetric; entry (i, j) is True iff d2f/dxi dxj may be nonzero on
        the branch taken at ``x``.

    Raises
    ------
    ValueError
        If ``f`` returns more than one number.
    TypeError
        As in :func:`jacobian_sparsity`.

    See Also
    --------
    jacobian_sparsity : the pattern of a Jacobian.
    hessian : the dense Hessian.

    Examples
    --------
    >>> import numpy as np
    >>> import dualml
    >>> def rosen(x):
    ...     return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> dualml.hessian_sparsity(rosen, np.zeros(4)).toarray().astype(int)
    array([[1, 1, 0, 0],
           [1, 1, 1, 0],
           [0, 1, 1, 1],
           [0, 0, 1, 1]])
    """
    def finish(out, n):
        if out.size != 1:
            raise ValueError(f"hessian_sparsity(): f must return one number, it returned "
                             f"{out.size} (shape {out.shape}); use jacobian_sparsity for a "
                             f"vector function")
        return _csr(*_sets.symmetric(out._h[1], n), (n, n))
    return _run(f, x, args, "hessian_sparsity", True, finish)
