"""Compressed forward evaluation of sparse Jacobians and Hessians.

Design
------
* Preparation (once per structure): the pattern (given, or detected at the
  example point by ``dualml.sparse.detect``), its coloring, the seed matrix
  S (ncolors, n) -- row c the indicator of color c -- and the gather
  indices that read every stored entry of the result from the compressed
  product B (ncolors, m), laid out as the forward pass returns it.
* Jacobian, B[c] = J s_c.  Array path: one DualArray pass with ncolors
  tangent rows (the seeding and result reading of ``dualml._arraycalc``).
  Scalar path (lists, ``method="scalar"``): one ``jvp`` per color.
* Hessian, B[c] = H s_c (star coloring): passes of hessian's second-order
  rows (``arrays._o2``) with first-order rows [s_1..s_K, a block of unit
  vectors], the pairs (s_c, e_i) giving (H s_c)_i; where f has no
  curvature rule, the colored Jacobian of the gradient (nested).  The
  unit rows -- the gradient -- still cost n directions, so this is O(n)
  evaluations however sparse H is.
  ``elements=True`` (f returns the terms of a sum): one pass of the
  second-order rows (``arrays._o2``, the upper triangle of the color pairs)
  seeded with the K colors of the terms' Jacobian gives s_a^T H_k s_b
  (a <= b) per term, summed into H by a sparse matrix built at preparation
  -- independent of n.
* The result is a ``scipy.sparse.csr_array`` (float64) with the pattern's
  structure.  A pattern that misses a nonzero gives wrong numbers silently:
  the missing entry is dropped and its value lands in an entry of the same
  row whose column shares its color -- ``check=True`` compares with
  detection.
"""
import importlib

import numpy as np

from .. import _arraycalc as _ac
from .. import dual as _dual
from ..arrays import DualArray, _new
from ..arrays._operands import _NeedGeneric
from ..calculus import _check, gradient, jvp
from ..dual import _scoped
from . import _coloring
from .coloring import _canonical, _symmetric

__all__ = ["SparseJacobian", "SparseHessian", "sparse_jacobian", "sparse_hessian"]

_CAP_BYTES = 64 * 2**20         # tangents of one inner gradient pass of the Hessian


def _detect(kind, f, x, args, fname):
    try:
        detect = importlib.import_module("dualml.sparse.detect")
    except ModuleNotFoundError as exc:
        if exc.name != "dualml.sparse.detect":
            raise
        raise ValueError(f"{fname}(): sparsity=None needs dualml's sparsity detection "
                         f"(dualml.sparse.detect), which this build lacks; pass "
                         f"sparsity= (a scipy.sparse or boolean pattern)") from None
    return getattr(detect, kind)(f, x, args)


def _missing(P, D, fname, what):
    """Raise if the detected pattern D has entries the user's pattern P lacks."""
    import scipy.sparse as sp
    D = sp.csr_array(D, dtype=bool)
    if D.shape != P.shape:
        raise ValueError(f"{fname}(): sparsity has shape {P.shape} but detection found "
                         f"{D.shape}")
    extra = (D.astype(np.int8) - D.multiply(P).astype(np.int8)).tocoo()
    extra.eliminate_zeros()
    if extra.nnz:
        pairs = sorted(zip(extra.row.tolist(), extra.col.tolist()))
        shown = ", ".join(map(str, pairs[:10])) + (" ..." if len(pairs) > 10 else "")
        raise ValueError(f"{fname}(): sparsity misses {len(pairs)} structural nonzero(s) "
                         f"of the {what} at this point: {shown}; add them to the pattern "
                         f"(or pass sparsity=None to detect it)")


class _Prepared:
    """Shared by SparseJacobian and SparseHessian: point kind, seeds, call."""

    def _setup_point(self, f, x, args, method, fname):
        if not callable(f):
            raise TypeError(f"{fname}(): f must be callable, not {type(f).__name__}")
        self.f, self.fname = f, fname
        self.args = _check(f, args, None, fname)
        if method not in ("auto", "scalar", "array"):
            raise ValueError(f"{fname}(): method must be 'auto', 'scalar' or 'array', "
                             f"got {method!r}")
        if isinstance(x, (DualArray, _dual.Dual)) or (
                isinstance(x, np.ndarray) and x.dtype == object):
            raise TypeError(f"{fname}(): x must hold real numbers; a sparse result cannot "
                            f"carry an outer differentiation (use dualml.jacobian/hessian "
                            f"inside another differentiation)")
        if isinstance(x, np.ndarray) and method != "scalar":
            if x.dtype.kind not in "biuf":
                raise TypeError(f"{fname}(): x must be a real array, got dtype {x.dtype}")
            self.array, self.shape = True, x.shape
        else:
            if method == "array":
                raise ValueError(f"{fname}(): method='array' needs x as a real ndarray, "
                                 f"got {type(x).__name__}")
            self.array = False
            self.shape = np.shape(x)
            if isinstance(x, np.ndarray) and x.dtype.kind not in "biuf":
                raise TypeError(f"{fname}(): x must be a real array, got dtype {x.dtype}")
        self.kind = type(x) if isinstance(x, (list, tuple)) else None
        self.ndarray = isinstance(x, np.ndarray)
        self.n = int(np.prod(self.shape, dtype=np.int64))

    def _set_pattern(self, P, colors, gather):
        k = int(colors.max()) + 1 if colors.size else 0
        self.pattern, self.colors, self.ncolors = P, colors, k
        S = (colors == np.arange(k)[:, None]).astype(np.float64)    # row c: color c
        S.flags.writeable = False           # a write into the seeded x copies it first
        self.seeds = S
        self._gather = gather
        it = np.int32 if max(P.nnz, P.shape[1]) < 2**31 - 1 else np.intp
        self._indptr = P.indptr.astype(it, copy=False)
        self._indices = P.indices.astype(it, copy=False)

    def _x(self, x):
        """x checked against the prepared shape (the array path's private copy)."""
        shape = np.shape(x)
        if shape != self.shape and not (self.kind is not None and len(shape) == 1
                                        and shape[0] == self.n):
            raise ValueError(f"{self.fname}(): x has shape {shape}, but this object was "
                             f"prepared for shape {self.shape}; prepare another one")
        if self.array:
            if not isinstance(x, np.ndarray):
                x = np.asarray(x)
            if isinstance(x, DualArray) or x.dtype.kind not in "biuf":
                raise TypeError(f"{self.fname}(): x must be a real array")
            return _ac._point(x, self.fname)
        return x

    def _seed_row(self, c):
        s = self.seeds[c]
        if self.kind is not None:
            return s.tolist()
        return s.reshape(self.shape) if self.shape != () else float(s[0])

    def _assemble(self, B):
        import scipy.sparse as sp
        data = np.take(B.reshape(-1), self._gather) if self._gather.size else np.zeros(0)
        return sp.csr_array((data, self._indices.copy(), self._indptr.copy()),
                            shape=self.pattern.shape, copy=False)

    def _args(self, args):
        return self.args if not args else _check(self.f, args, None, self.fname)


class SparseJacobian(_Prepared):
    """SparseJacobian(f, x, args=(), *, sparsity=None, check=False, method="auto")

    A sparse Jacobian prepared once (pattern, coloring, seeds, gather
    indices) and evaluated at many points: ``J(x)`` is the
    ``scipy.sparse.csr_array`` of ``∂f_i/∂x_j``.

    One forward pass carries one direction per color (``ncolors``, e.g. 3
    for a tridiagonal Jacobian however large n), then every entry is read
    from the compressed product.  A pattern that misses a nonzero gives
    wrong numbers without an error: the missing entry is dropped, and its
    value is added into the entry of the same row whose column shares its
    color (``check=True`` compares the pattern with detection).  With
    ``sparsity=None`` the pattern is detected at the example point, on the
    branches f takes there (``np.where`` picks, ``if`` statements); if
    other points take other branches, pass a pattern valid everywhere, or
    ``check="always"`` to re-detect at every call.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real array (any shape; flattened in C
        order for the rows).
    x : ndarray, sequence or float
        The example point: its shape (and kind -- a real ndarray takes the
        array path, a list the scalar path) is the one every call must use.
    args : tuple, optional
        Extra arguments for f (a call may pass others).
    sparsity : scipy.sparse array/matrix or boolean array_like, optional
        Shape ``(m, n)``: outputs flattened in C order x inputs flattened in
        C order.  None: detected at x by ``dualml.jacobian_sparsity``.
    check : bool or "always", optional
        True: compare a given pattern with detection at x and raise
        ValueError naming the entries it misses; "always": at every call.
    method : {"auto", "scalar", "array"}, optional
        "auto": a real ndarray x takes the array path (one DualArray pass),
        anything else the scalar path (one ``jvp`` per color).

    Attributes
    ----------
    pattern : scipy.sparse.csr_array of bool, shape (m, n)
    colors : ndarray of intp, shape (n,)
    ncolors : int
        Forward directions per evaluation.

    Raises
    ------
    ValueError
        Bad pattern shape, a pattern missing nonzeros (with ``check``), or
        f's output size differs from the pattern's rows.
    TypeError
        f not callable, x not real, or a pattern of a non-real dtype.

    See Also
    --------
    sparse_jacobian : the one-call form.
    jacobian : the dense Jacobian.
    column_coloring : the coloring used.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> def F(u):                     # 1-D Bratu residual, h = 1/(n+1)
    ...     n = u.size
    ...     up = np.concatenate([u[1:], [0.0]])
    ...     um = np.concatenate([[0.0], u[:-1]])
    ...     return (up - 2 * u + um) * (n + 1) ** 2 + np.exp(u)
    >>> P = np.eye(6, dtype=bool) | np.eye(6, k=1, dtype=bool) | np.eye(6, k=-1, dtype=bool)
    >>> J = dualml.SparseJacobian(F, np.zeros(6), sparsity=P)
    >>> J.ncolors
    3
    >>> A = J(np.full(6, 0.1))
    >>> np.allclose(A.toarray(), dualml.jacobian(F, np.full(6, 0.1)))
    True
    """

    def __init__(self, f, x, args=(), *, sparsity=None, check=False, method="auto"):
        fname = "SparseJacobian"
        self._setup_point(f, x, args, method, fname)
        if check not in (False, True, "always"):
            raise ValueError(f"{fname}(): check must be False, True or 'always', got "
                             f"{check!r}")
        self.check = check
        if sparsity is None:
            # canonical already (sorted unique rows, bool, SciPy's index type)
            P = _detect("jacobian_sparsity", f, x, self.args, fname)
            if P.shape[1] != self.n:
                raise ValueError(f"{fname}(): detection returned {P.shape[1]} columns for "
                                 f"{self.n} inputs")
            self.check = False if check is True else check   # detection is the reference
        else:
            P = _canonical(sparsity, "sparsity", fname)
            if P.shape[1] != self.n:
                raise ValueError(f"{fname}(): sparsity has {P.shape[1]} columns but x has "
                                 f"{self.n} entries (shape {self.shape}); its shape must "
                                 f"be (f(x).size, x.size)")
            if check:
                _missing(P, _detect("jacobian_sparsity", f, x, self.args, fname), fname,
                         "Jacobian")
        colors = _coloring.column_coloring(P.indptr, P.indices, self.n)
        gather = _coloring.column_gather(P.indptr, P.indices, colors, P.shape[0])
        self._set_pattern(P, colors, gather)

    def compressed(self, x, *args):
        """The compressed product ``B = (J S^T)^T``, shape ``(ncolors, m)``:
        ``B[c] = J s_c``, s_c the indicator of color c.

        Parameters
        ----------
        x : like the example point
        *args
            Extra arguments for f (default: the prepared ones).

        Returns
        -------
        ndarray, shape (ncolors, m)
        """
        return self._pass(x, self._args(args))[1]

    @_scoped
    def _pass(self, x, args):
        """(f(x) as float64 of f's output shape, or None if k == 0; B)."""
        m, k = self.pattern.shape[0], self.ncolors
        if self.check == "always":
            _missing(self.pattern, _detect("jacobian_sparsity", self.f, x, args, self.fname),
                     self.fname, "Jacobian")
        if k == 0:
            return None, np.zeros((0, m))
        if self.array:
            xa = self._x(x)
            tag = _dual._new_tag()
            X = _new(xa, self.seeds.reshape((k,) + self.shape), tag, None)
            value, D = _ac._parts(self.f(X, *args), tag, k, self.fname)
            if type(D) is not np.ndarray:
                raise TypeError(f"{self.fname}(): f returned a nested DualArray; a sparse "
                                f"Jacobian needs real outputs")
            B = D.reshape(k, -1)
        else:
            x = self._x(x)
            B = np.empty((k, m))
            value = None
            for c in range(k):
                v, jv = jvp(self.f, x, self._seed_row(c), args, method="scalar")
                if value is None:
                    value = v
                jv = np.asarray(jv, dtype=np.float64).reshape(-1)
                if jv.size != m:
                    B = jv          # reported below
                    break
                B[c] = jv
        if B.shape[-1] != m:
            raise ValueError(f"{self.fname}(): f returned {B.shape[-1]} outputs but the "
                             f"pattern has {m} rows")
        return np.array(value, dtype=np.float64), B

    def value_and_jacobian(self, x, *args):
        """f(x) and the sparse Jacobian from the same forward pass (a Newton
        step needs both).

        Parameters
        ----------
        x : like the example point
        *args
            Extra arguments for f (default: the prepared ones).

        Returns
        -------
        value : ndarray
            f(x), float64, of f's output shape (None when x is empty).
        J : scipy.sparse.csr_array, shape (m, n)

        Examples
        --------
        >>> import numpy as np, dualml
        >>> J = dualml.SparseJacobian(lambda x: x ** 2, np.ones(3), sparsity=np.eye(3))
        >>> v, A = J.value_and_jacobian(np.array([1.0, 2.0, 3.0]))
        >>> v, A.diagonal()
        (array([1., 4., 9.]), array([2., 4., 6.]))
        """
        value, B = self._pass(x, self._args(args))
        return value, self._assemble(B)

    def __call__(self, x, *args):
        """J(x, *args) -> scipy.sparse.csr_array (m, n) of float64."""
        return self._assemble(self.compressed(x, *args))


class SparseHessian(_Prepared):
    """SparseHessian(f, x, args=(), *, sparsity=None, check=False, method="auto", elements=False)

    A sparse Hessian prepared once (symmetric pattern, coloring, seeds,
    recovery indices) and evaluated at many points: ``H(x)`` is the
    ``scipy.sparse.csr_array`` of ``∂²f/∂x_i∂x_j``.

    General f (``elements=False``): each evaluation computes ``H s_c`` for
    the ncolors color indicators s_c of a star coloring (second-order
    forward rows, or forward over forward where f uses an operation
    without a curvature rule) and reads every entry directly.  The
    gradient inside is still dense forward mode -- n directions, in
    blocks -- so the cost grows like n x ncolors directions however
    sparse H is; the coloring saves the factor n / ncolors of a dense
    Hessian.

    Partially separable f (``elements=True``): f returns the element
    functions f_k (an array) and the objective is their sum, as in
    ``np.sum(100 * (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)`` without the
    sum.  The columns of the elements' Jacobian pattern are colored (K
    colors: within one element every variable has its own color), one
    pass carries the K first-order and K x K second-order directions
    (``s_a^T ∇²f_k s_b`` for every element k) and each H[i, j] is the sum
    over the elements that hold both i and j: the cost is independent of
    n (chained Rosenbrock: K = 2).

    A pattern that misses a nonzero gives wrong numbers without an error:
    the missing entry is dropped and its value is added into recovered
    entries that share its color (``check=True`` compares with detection).

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number, or with ``elements=True``
        a real array of element values whose sum is the objective.
    x : ndarray, sequence or float
        The example point (its shape is the one every call must use).
        ``elements=True`` needs a real ndarray.
    args : tuple, optional
        Extra arguments for f.
    sparsity : scipy.sparse array/matrix or boolean array_like, optional
        ``elements=False``: the Hessian pattern, shape ``(n, n)``, x
        flattened in C order; symmetrized if it is not symmetric.  None:
        detected at x by ``dualml.hessian_sparsity``.
        ``elements=True``: the elements' Jacobian pattern, shape
        ``(m, n)``; None: detected at x by ``dualml.jacobian_sparsity``.
    check : bool or "always", optional
        As for ``SparseJacobian``.
    method : {"auto", "scalar", "array"}, optional
        As for ``SparseJacobian`` (``elements=True``: the array path only).
    elements : bool, optional
        f returns the element functions of a partially separable objective.

    Attributes
    ----------
    pattern : scipy.sparse.csr_array of bool, shape (n, n), symmetric
    colors : ndarray of intp, shape (n,)
    ncolors : int

    Raises
    ------
    ValueError
        Bad pattern shape, a pattern missing nonzeros (with ``check``), or f
        not scalar (``elements=False``).
    TypeError
        f not callable or x not real.

    See Also
    --------
    sparse_hessian, hessian, star_coloring, column_coloring

    Examples
    --------
    >>> import numpy as np, dualml
    >>> rosen = lambda x: np.sum(100 * (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2)
    >>> P = np.eye(5, dtype=bool) | np.eye(5, k=1, dtype=bool) | np.eye(5, k=-1, dtype=bool)
    >>> H = dualml.SparseHessian(rosen, np.zeros(5), sparsity=P)
    >>> H.ncolors
    3
    >>> x = np.linspace(-1, 1, 5)
    >>> np.allclose(H(x).toarray(), dualml.hessian(rosen, x))
    True
    >>> terms = lambda x: 100 * (x[1:] - x[:-1]**2)**2 + (1 - x[:-1])**2
    >>> E = np.eye(4, 5, dtype=bool) | np.eye(4, 5, k=1, dtype=bool)   # term k: x_k, x_k+1
    >>> He = dualml.SparseHessian(terms, np.zeros(5), sparsity=E, elements=True)
    >>> He.ncolors
    2
    >>> np.allclose(He(x).toarray(), dualml.hessian(rosen, x))
    True
    """

    def __init__(self, f, x, args=(), *, sparsity=None, check=False, method="auto",
                 elements=False):
        fname = "SparseHessian"
        self._setup_point(f, x, args, method, fname)
        if check not in (False, True, "always"):
            raise ValueError(f"{fname}(): check must be False, True or 'always', got "
                             f"{check!r}")
        self.check, self.elements = check, bool(elements)
        if self.elements:
            self._prepare_elements(f, x, sparsity, check, fname)
            return
        if sparsity is None:
            P = _canonical(_detect("hessian_sparsity", f, x, self.args, fname),
                           "the detected pattern", fname, (self.n, self.n))
            self.check = False if check is True else check
        else:
            P = _canonical(sparsity, "sparsity", fname)
            if P.shape != (self.n, self.n):
                raise ValueError(f"{fname}(): sparsity has shape {P.shape} but x has "
                                 f"{self.n} entries; it must be ({self.n}, {self.n})")
            if check:
                _missing(_symmetric(P), _detect("hessian_sparsity", f, x, self.args, fname),
                         fname, "Hessian")
        P = _symmetric(P)
        colors = _coloring.star_coloring(P.indptr, P.indices)
        gather = _coloring.star_gather(P.indptr, P.indices, colors)
        self._set_pattern(P, colors, gather)

    def _prepare_elements(self, f, x, sparsity, check, fname):
        import scipy.sparse as sp
        if not self.array:
            raise ValueError(f"{fname}(): elements=True needs x as a real ndarray (the "
                             f"array path), got {type(x).__name__}")
        if sparsity is None:
            E = _canonical(_detect("jacobian_sparsity", f, x, self.args, fname),
                           "the detected pattern", fname)
            self.check = False if check is True else check
        else:
            E = _canonical(sparsity, "sparsity", fname)
            if check:
                _missing(E, _detect("jacobian_sparsity", f, x, self.args, fname), fname,
                         "elements' Jacobian")
        if E.shape[1] != self.n:
            raise ValueError(f"{fname}(): with elements=True, sparsity is the elements' "
                             f"Jacobian pattern (m, {self.n}); got shape {E.shape}")
        self.element_pattern = E
        m, n = E.shape
        colors = _coloring.column_coloring(E.indptr, E.indices, n)
        k = int(colors.max()) + 1 if n else 0
        # every pair (p, q) of variables of one element k: H[p, q] gets
        # D2[color p, color q, k]; R sums them (a sparse matrix-vector product)
        L = np.diff(E.indptr)
        L2 = L * L
        tot = int(L2.sum())
        elem = np.repeat(np.arange(m), L2)
        t = np.arange(tot) - np.repeat(np.cumsum(L2) - L2, L2)
        Lr = np.repeat(L, L2)
        start = np.repeat(E.indptr[:-1], L2)
        pa = E.indices[start + t // np.maximum(Lr, 1)]
        pb = E.indices[start + t % np.maximum(Lr, 1)]
        H = sp.csr_array((np.ones(tot, dtype=bool), (pa, pb)), shape=(n, n))
        H.sum_duplicates()
        H = _canonical(H, "pattern", fname)
        rows = np.repeat(np.arange(n), np.diff(H.indptr))
        pos = np.searchsorted(rows * n + H.indices, pa * n + pb)
        # (min, max) of the colors, the pass's triangle row of the pair:
        # H[p, q] and H[q, p] sum the same numbers in the same order, so the
        # result is exactly symmetric
        ca, cb = colors[pa], colors[pb]
        a, b = np.minimum(ca, cb), np.maximum(ca, cb)
        col = (a * k - a * (a - 1) // 2 + (b - a)) * m + elem
        t = k * (k + 1) // 2
        self._R = sp.csr_array((np.ones(tot), (pos, col)), shape=(H.nnz, t * m))
        self._set_pattern(H, colors, np.zeros(0, dtype=np.intp))
        seed = np.zeros((k + t, n))
        seed[:k] = self.seeds
        seed.flags.writeable = False
        self._o2_seed = seed.reshape((k + t,) + self.shape)
        self._m = m

    @_scoped
    def _element_triangle(self, x, args):
        """T[r(a, b), k] = s_a^T ∇²f_k s_b for a <= b (rows a major), (K(K+1)/2, m)."""
        k, m, f = self.ncolors, self._m, self.f
        tag = _dual._new_tag()
        o2 = (k, 0, k, True)        # the upper triangle of the color pairs
        try:
            r = f(_new(self._x(x), self._o2_seed, tag, o2), *args)
            if type(r) is DualArray and r._tag == tag:
                if r._o2 != o2 or type(r._d) is not np.ndarray:
                    raise _NeedGeneric("element result")
                T = r._d[k:].reshape(k * (k + 1) // 2, -1)
            else:
                _, d = _ac._parts(r, tag, k, self.fname)       # f ignores x
                T = np.zeros((k * (k + 1) // 2,
                              int(np.prod(d.shape[1:], dtype=np.int64))))
        except _NeedGeneric:
            # forward over forward: both levels seeded with the K colors
            S = self.seeds.reshape((k,) + self.shape)
            t1 = _dual._new_tag()
            t2 = _dual._new_tag()
            r = f(_new(_new(self._x(x), S, t1, None), S, t2, None), *args)
            _, D = _ac._parts(r, t2, k, self.fname)
            _, D2 = _ac._parts(D, t1, k, self.fname)
            D2 = np.asarray(D2, dtype=np.float64).reshape(k, k, -1)
            T = D2[np.triu_indices(k)]
        if T.shape[1] != m:
            raise ValueError(f"{self.fname}(): f returned {T.shape[1]} elements but the "
                             f"pattern has {m} rows")
        return T

    def _element_pass(self, x, args):
        """D2[a, b, k] = s_a^T ∇²f_k s_b, shape (K, K, m): the triangle mirrored."""
        k = self.ncolors
        T = self._element_triangle(x, args)
        D2 = np.empty((k, k, T.shape[1]))
        iu = np.triu_indices(k)
        D2[iu] = T
        D2.transpose(1, 0, 2)[iu] = T
        return D2

    @_scoped
    def _o2_passes(self, xa, args):
        """B[c] = H s_c from passes of hessian's second-order rows (in C).

        First-order rows [s_1 .. s_K, e_i0 .. e_i1-1], second-order rows for
        the pairs (s_a, any first-order row): the pair (s_a, e_i) is
        (H s_a)_i.  Blocks of unit rows keep a pass under _CAP_BYTES.
        Raises _NeedGeneric where f uses an operation without a curvature
        rule (the caller falls back to nested forward mode).
        """
        k, n, f, shape = self.ncolors, self.n, self.f, self.shape
        q = max(1, min(n, _CAP_BYTES // (8 * n * (k + 1)) - k))
        B = np.empty((k, n))
        tag = 0
        for i0 in range(0, n, q):
            # a tag per block, the previous one finished: a DualArray f kept
            # from one block raises in the next
            tag = _dual._pass_tag(tag) if tag else _dual._new_tag()
            i1 = min(n, i0 + q)
            kk = k + i1 - i0
            o2 = (kk, 0, k)
            rows = np.zeros((kk + k * kk, n))
            rows[:k] = self.seeds
            rows[k + np.arange(i1 - i0), np.arange(i0, i1)] = 1.0
            X = _new(xa if i1 >= n else xa.copy(), rows.reshape((rows.shape[0],) + shape),
                     tag, o2)
            r = f(X, *args)
            if type(r) is DualArray and r._tag == tag:
                if r._v.shape != ():
                    raise ValueError(f"{self.fname}(): f must return a scalar, it returned "
                                     f"shape {r._v.shape}")
                if r._o2 != o2 or type(r._d) is not np.ndarray:
                    raise _NeedGeneric("hessian result")
                B[:, i0:i1] = r._d[kk:].reshape(k, kk)[:, k:]
            else:
                _, d = _ac._parts(r, tag, kk, self.fname)
                if d.shape[1:] != ():
                    raise ValueError(f"{self.fname}(): f must return a scalar, it returned "
                                     f"shape {d.shape[1:]}")
                B[:, i0:i1] = 0.0           # f does not depend on x
        return B

    def compressed(self, x, *args):
        """The compressed second derivatives: ``B[c] = H s_c``, shape
        ``(ncolors, n)``; with ``elements=True``
        ``B[a, b, k] = s_a^T ∇²f_k s_b``, shape ``(ncolors, ncolors, m)``.

        Parameters
        ----------
        x : like the example point
        *args
            Extra arguments for f (default: the prepared ones).

        Returns
        -------
        ndarray
        """
        return self._compressed(x, self._args(args), False)

    @_scoped
    def _compressed(self, x, args, _tri):
        # compressed(); with _tri and elements=True the triangle rows
        # T[r(a, b), k], a <= b, shape (K(K+1)/2, m), which __call__ sums
        n, k = self.n, self.ncolors
        if self.check == "always":
            kind = "jacobian_sparsity" if self.elements else "hessian_sparsity"
            ref = self.element_pattern if self.elements else self.pattern
            _missing(ref, _detect(kind, self.f, x, args, self.fname), self.fname,
                     "elements' Jacobian" if self.elements else "Hessian")
        if k == 0:
            return np.zeros((0, n))
        if self.elements:
            return self._element_triangle(x, args) if _tri else self._element_pass(x, args)
        f = self.f
        if self.array:
            try:
                return self._o2_passes(self._x(x), args)
            except _NeedGeneric:
                pass
            xa = self._x(x)         # f may have written into the first copy
            chunk = max(1, min(n, _CAP_BYTES // (8 * n * (k + 1))))

            def grad(y):
                return gradient(f, y, args, chunk=chunk)
            tag = _dual._new_tag()
            X = _new(xa, self.seeds.reshape((k,) + self.shape), tag, None)
            _, D = _ac._parts(grad(X), tag, k, self.fname)
            return np.asarray(D, dtype=np.float64).reshape(k, n)
        x = self._x(x)

        def grad(y):
            return gradient(f, y, args, method="scalar")
        B = np.empty((k, n))
        for c in range(k):
            B[c] = np.reshape(jvp(grad, x, self._seed_row(c), method="scalar")[1], -1)
        return B

    def __call__(self, x, *args):
        """H(x, *args) -> scipy.sparse.csr_array (n, n) of float64, symmetric."""
        B = self._compressed(x, self._args(args), True)
        if self.elements:
            import scipy.sparse as sp
            data = self._R @ B.reshape(-1) if B.size else np.zeros(self.pattern.nnz)
            return sp.csr_array((data, self._indices.copy(), self._indptr.copy()),
                                shape=self.pattern.shape, copy=False)
        return self._assemble(B)


def sparse_jacobian(f, x, args=(), *, sparsity=None, check=False, method="auto"):
    """The Jacobian of f at x as a ``scipy.sparse.csr_array``, from one
    forward pass with one direction per color of its sparsity pattern.

    Prepares a ``SparseJacobian`` and calls it once; to evaluate at many
    points (Newton, least squares) prepare it once yourself.  A pattern
    that misses a nonzero gives wrong numbers without an error (the entry
    is dropped and its value added into an entry of the same color);
    ``check=True`` compares the pattern with detection.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real array.
    x : ndarray, sequence or float
        The point.
    args : tuple, optional
        Extra arguments for f.
    sparsity : scipy.sparse or boolean array_like, shape (m, n), optional
        The pattern (outputs x inputs, both flattened in C order); None
        detects it at x (``dualml.jacobian_sparsity``).
    check : bool, optional
        Compare a given pattern with detection; ValueError names the
        entries it misses.
    method : {"auto", "scalar", "array"}, optional
        As for ``SparseJacobian``.

    Returns
    -------
    scipy.sparse.csr_array, shape (m, n), float64
        ``J[i, j] = ∂f_i/∂x_j`` with the pattern's structure.

    Raises
    ------
    ValueError, TypeError
        As for ``SparseJacobian``.

    See Also
    --------
    SparseJacobian, jacobian, sparse_hessian

    Examples
    --------
    >>> import numpy as np, dualml
    >>> F = lambda x: x**2 + np.roll(x, 1)
    >>> P = np.eye(4, dtype=bool) | np.roll(np.eye(4, dtype=bool), -1, axis=1)
    >>> dualml.sparse_jacobian(F, np.arange(4.0), sparsity=P).toarray()
    array([[0., 0., 0., 1.],
           [1., 2., 0., 0.],
           [0., 1., 4., 0.],
           [0., 0., 1., 6.]])
    """
    return SparseJacobian(f, x, args, sparsity=sparsity, check=check, method=method)(x)


def sparse_hessian(f, x, args=(), *, sparsity=None, check=False, method="auto",
                   elements=False):
    """The Hessian of a scalar f at x as a symmetric ``scipy.sparse.csr_array``,
    by star coloring and direct recovery.

    Prepares a ``SparseHessian`` and calls it once (see there for the
    cost).  A pattern that misses a nonzero gives wrong numbers without an
    error; ``check=True`` compares a given pattern with detection.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number.
    x : ndarray, sequence or float
        The point.
    args : tuple, optional
        Extra arguments for f.
    sparsity : scipy.sparse or boolean array_like, shape (n, n), optional
        The pattern; None detects it at x (``dualml.hessian_sparsity``).
    check : bool, optional
        Compare a given pattern with detection.
    method : {"auto", "scalar", "array"}, optional
        As for ``SparseJacobian``.
    elements : bool, optional
        f returns the element functions of a partially separable objective
        (their sum); sparsity is then their Jacobian pattern (m, n) and the
        cost is independent of n (see ``SparseHessian``).

    Returns
    -------
    scipy.sparse.csr_array, shape (n, n), float64

    Raises
    ------
    ValueError, TypeError
        As for ``SparseHessian``.

    See Also
    --------
    SparseHessian, hessian, sparse_jacobian

    Examples
    --------
    >>> import numpy as np, dualml
    >>> f = lambda x: np.sum(x**3) + x[0] * x[-1]
    >>> P = np.eye(3, dtype=bool)
    >>> P[0, 2] = True
    >>> dualml.sparse_hessian(f, np.array([1.0, 2.0, 3.0]), sparsity=P).toarray()
    array([[ 6.,  0.,  1.],
           [ 0., 12.,  0.],
           [ 1.,  0., 18.]])
    """
    return SparseHessian(f, x, args, sparsity=sparsity, check=check, method=method,
                         elements=elements)(x)
