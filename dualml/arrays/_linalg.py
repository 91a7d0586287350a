"""Linear algebra on DualArrays: inv, solve, det, slogdet, cholesky, eigh,
svd, pinv, lstsq, cond, norm (first order and nested).

Design
------
The derivative rules of matrix functions (d inv = -inv dA inv, d det =
det tr(inv dA), ...) applied to the tangent rows.  Each function computes
its value by calling itself on the value component, so a nested DualArray
(hessian's fallback) works at every depth with the same code.  Hessian's
second-order rows have no rule here: these raise ``_NeedGeneric`` and
hessian falls back to nested forward mode.  Factorizations that NumPy reads
from one triangle (cholesky, eigh) differentiate through that triangle, as
NumPy does; eigenvectors and singular vectors need distinct eigenvalues
(singular values), else a ValueError says so.
"""
import numbers

import numpy as np

from ._core import DualArray, _new

try:
    # NumPy's solve is these gufuncs behind argument checks and an errstate
    # (its time at 10 x 10: two thirds of np.linalg.solve's); _solve_const
    # calls them as np.linalg.solve does, for its value's bits
    from numpy.linalg import _umath_linalg
    _GU_SOLVE1, _GU_SOLVE = _umath_linalg.solve1, _umath_linalg.solve
except (ImportError, AttributeError):   # pragma: no cover  (another NumPy layout)
    _GU_SOLVE1 = _GU_SOLVE = None


def _no_o2(*xs):
    for x in xs:
        if type(x) is DualArray and x._o2 is not None:
            raise _NeedGeneric("linalg")


def _inv(a):
    a = _operand(a, "linalg.inv")
    if type(a) is _nd:
        return _arr(np.linalg.inv(a))
    _no_o2(a)
    y = _inv(a._v)
    if a._d.shape[0] * y.size >= ROWS_CHECKED:
        check_rows(a._d.shape[0], y.size)
    # d(A^-1) = -A^-1 dA A^-1
    t = _ew_unary("negative", _operand(_matmul(_matmul(y, a._d), y)))
    return _new(y, t, a._tag, None)


def _solve(a, b):
    a = _operand(a, "linalg.solve")
    b = _operand(b, "linalg.solve")
    ta, tb = _tag(a), _tag(b)
    if ta == 0 and tb == 0:
        return _arr(np.linalg.solve(a, b))
    _no_o2(a, b)
    if ta == 0 and type(a) is _nd and a.ndim == 2 and type(b._v) is _nd and b.ndim <= 2:
        # a constant matrix: one factorization for the value (NumPy's solve)
        # and one for every tangent column at once
        k = b._d.shape[0]
        if k * b._v.size >= ROWS_CHECKED:
            check_rows(k, b._v.size)
        if b.ndim == 1:
            x, cols = _solve_const(a, b._v, b._d.T)
            return _new(x, cols.T, tb, None)
        n, m = b.shape
        x, cols = _solve_const(a, b._v, b._d.transpose(1, 0, 2).reshape(n, k * m))
        return _new(x, cols.reshape(n, k, m).transpose(1, 0, 2), tb, None)
    t = max(ta, tb)
    av = a._v if ta == t else a
    bv = b._v if tb == t else b
    x = _solve(av, bv)
    if (a if ta == t else b)._d.shape[0] * x.size >= ROWS_CHECKED:
        check_rows((a if ta == t else b)._d.shape[0], x.size)
    vec = len(b.shape) == 1
    rhs = b._d if tb == t else None
    if ta == t:
        # dA x with dA's direction axis kept apart from x's own (batch) axes
        if len(x.shape) == 1:
            adx = _matmul(a._d, x)            # (k, n)
        else:
            adx = _mm(a._d, x, 1)             # (k,) + x.shape
        rhs = _ew_unary("negative", _operand(adx)) if rhs is None else _ew_binary(
            "subtract", _operand(rhs), _operand(adx))
    if vec:
        dx = _transpose(_operand(_solve(av, _transpose(_operand(rhs), None))), None)
    else:
        dx = _solve(av, rhs)
    return _new(x, dx, t, None)


def _singular(err, flag):
    raise np.linalg.LinAlgError("Singular matrix")


def _solve_const(a, b, rhs):
    """np.linalg.solve(a, b) and np.linalg.solve(a, rhs) (a matrix) for a
    constant matrix a: where a and b are float64 and a square and not
    empty, NumPy's own gufunc calls (solve1 for a vector b) under the
    errstate np.linalg.solve sets (a singular a raises LinAlgError), once
    for both; else np.linalg.solve twice.  The same bits either way."""
    if (_GU_SOLVE is None or a.dtype != _f64 or b.dtype != _f64 or a.shape[0] != a.shape[1]
            or a.size == 0):
        return np.linalg.solve(a, b), np.linalg.solve(a, rhs)
    with np.errstate(call=_singular, invalid="call", over="ignore", divide="ignore",
                     under="ignore"):
        x = (_GU_SOLVE1 if b.ndim == 1 else _GU_SOLVE)(a, b, signature="dd->d")
        cols = _GU_SOLVE(a, rhs, signature="dd->d")
    return x, cols


def _det(a):
    a = _operand(a, "linalg.det")
    if type(a) is _nd:
        return _arr(np.linalg.det(a))
    _no_o2(a)
    d = _det(a._v)
    # d det = det * tr(A^-1 dA)
    try:
        s = _solve(a._v, a._d)
    except np.linalg.LinAlgError:
        if type(a._v) is not _nd:
            raise ValueError("numpy.linalg.det on DualArray: the Hessian of det at a "
                             "singular matrix is not supported (the first derivative "
                             "is)") from None
        # singular: d det = tr(adj(A) dA), adj(A) from the SVD (rank n-1 gives
        # a nonzero adjugate; lower ranks 0)
        return _new(d, _sum(_sum(_ew_binary("multiply", _operand(a._d),
                                             _operand(np.swapaxes(_adjugate(a._v), -1, -2))),
                                 -1), -1), a._tag, None)
    tr = _sum(_diag_last2(_operand(s)), -1)
    return _new(d, _ew_binary("multiply", _operand(d), _operand(tr)), a._tag, None)


def _adjugate(a):
    # adj(A) = det(U) det(V) V diag(prod_{j != i} s_j) U^T for A = U S V^T
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    p = np.stack([np.prod(np.delete(s, i, axis=-1), axis=-1) for i in range(n)], -1)
    sign = np.linalg.det(u) * np.linalg.det(vh)
    return sign[..., None, None] * np.matmul(np.swapaxes(vh, -1, -2) * p[..., None, :],
                                             np.swapaxes(u, -1, -2))


def _diag_last2(x):
    f = lambda c: np.diagonal(c, axis1=-2, axis2=-1)      # noqa: E731
    return _lin(x, f, f)


def _norm(x, ord=None, axis=None, keepdims=False):
    x = _operand(x, "linalg.norm")
    if type(x) is _nd:
        return _arr(np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims))
    nd = len(x.shape)
    if axis is None and (ord is None or (ord in ("f", "fro") and nd == 2) or (ord == 2 and nd == 1)):
        # NumPy's: the square root of the inner product of the array
        # flattened in memory order ('K') with itself (its dot's bits)
        r = x.ravel() if type(x._v) is _nd and x._v.flags.c_contiguous else _ravel(x, "K")
        s = r @ r
        s = np.sqrt(s) if type(s) is DualArray else _ew_unary("sqrt", _operand(s))
        return _reshape(s, (1,) * nd) if keepdims else s
    if isinstance(axis, numbers.Integral):
        axis = (axis,)
    vector = (axis is not None and len(axis) == 1) or (axis is None and nd == 1)
    if ord is None or ord == "fro" or (ord == 2 and vector) or (ord == "f"):
        if ord == "fro" and vector:
            raise ValueError("Invalid norm order 'fro' for vectors")
        # x ** 2 and .sum: the C paths (the same bits as _ew_unary("square")
        # and _sum; they fall back to those themselves)
        s = (x ** 2).sum(axis=axis, keepdims=keepdims)
        return np.sqrt(s) if type(s) is DualArray else _ew_unary("sqrt", _operand(s))
    if not vector:
        ax = (-2, -1) if axis is None else tuple(_norm_axis(a, nd) for a in axis)
        if ord == "nuc" or ord in (2, -2, 1, -1, np.inf, -np.inf):
            return _matrix_norm(_moveaxis(x, ax, (-2, -1)), ord, keepdims, ax)
        raise ValueError(f"Invalid norm order {ord!r} for matrices")
    ax = axis if axis is not None else None
    if ord == np.inf:
        return _select_reduce(_ew_unary("absolute", x), ax, keepdims, np.argmax, "max")
    if ord == -np.inf:
        return _select_reduce(_ew_unary("absolute", x), ax, keepdims, np.argmin, "min")
    if ord == 1:
        return _sum(_ew_unary("absolute", x), ax, keepdims)
    if ord == 0:
        return _sum(_operand(np.asarray(_inner(x) != 0, dtype=_f64)), ax, keepdims)
    p = float(ord)
    s = _sum(_ew_binary("power", _ew_unary("absolute", x), np.array(p)), ax, keepdims)
    return _ew_binary("power", _operand(s), np.array(1.0 / p))


def _T(x):
    return _swapaxes(x, -1, -2)


def _mul(a, b):
    return _ew_binary("multiply", _operand(a), _operand(b))


def _add(a, b):
    return _ew_binary("add", _operand(a), _operand(b))


def _sub(a, b):
    return _ew_binary("subtract", _operand(a), _operand(b))


def _mmul(a, b):
    return _matmul(_operand(a), _operand(b))


def _one_triangle(d, lower):
    # the tangent NumPy actually sees: one triangle mirrored
    if lower:
        f = lambda c: np.tril(c) + np.swapaxes(np.tril(c, -1), -1, -2)    # noqa: E731
    else:
        f = lambda c: np.triu(c) + np.swapaxes(np.triu(c, 1), -1, -2)     # noqa: E731
    return _lin(_operand(d), f, f)


def _eye_like(n):
    return np.eye(n)


_VALUES_ONLY = {"eigh": "eigvalsh", "eig": "eigvals", "svd": "svd(..., compute_uv=False)"}


def _gap_inverse(w, sq, what, fname):
    # F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it (w_j**2 - w_i**2 if sq)
    n = w.shape[-1]
    wv = _inner(w)
    g = np.expand_dims(wv, -2) - np.expand_dims(wv, -1)
    if sq:
        g = np.expand_dims(wv * wv, -2) - np.expand_dims(wv * wv, -1)
    off = ~np.eye(n, dtype=bool)
    scale = max(1.0, float(np.max(np.abs(wv)))) ** (2 if sq else 1)
    if np.any(np.abs(g[..., off]) <= 1e-12 * scale):
        raise ValueError(f"numpy.linalg.{fname} on DualArray: the {what} are not distinct "
                         f"(repeated or zero), so the vectors have no derivative; "
                         f"differentiate the values only ({_VALUES_ONLY[fname]})")
    if sq:
        ww = _mul(w, w)
        D = _sub(_expand_dims(ww, -2), _expand_dims(ww, -1))
    else:
        D = _sub(_expand_dims(w, -2), _expand_dims(w, -1))
    D = _add(D, _eye_like(n))
    return _mul(_ew_unary("reciprocal", _operand(D)), np.asarray(off, dtype=_f64))


def _slogdet(a):
    a = _operand(a, "linalg.slogdet")
    if type(a) is _nd:
        return np.linalg.slogdet(a)
    _no_o2(a)
    sign, logabs = _slogdet(a._v)
    logabs = logabs if type(logabs) is DualArray else _arr(logabs)
    # d log|det A| = tr(A^-1 dA)
    tr = _sum(_diag_last2(_operand(_solve(a._v, a._d))), -1)
    return type(np.linalg.slogdet(np.eye(1)))(sign, _new(logabs, tr, a._tag, None))


def _cholesky(a, /, *, upper=False):
    a = _operand(a, "linalg.cholesky")
    if upper:
        return _T(_cholesky(_T(a)))
    if type(a) is _nd:
        return np.linalg.cholesky(a)
    _no_o2(a)
    L = _cholesky(a._v)
    # dL = L Phi(L^-1 dA L^-T), Phi: the lower triangle with half its diagonal
    dA = _one_triangle(a._d, True)
    X = _T(_solve(L, _T(_solve(L, dA))))
    n = a.shape[-1]
    phi = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    return _new(L, _mmul(L, _mul(X, phi)), a._tag, None)


def _eigh_parts(a, UPLO, vectors, fname):
    a = _operand(a, f"linalg.{fname}")
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    if type(a) is _nd:
        return np.linalg.eigh(a, UPLO) if vectors else (np.linalg.eigvalsh(a, UPLO), None)
    _no_o2(a)
    w, V = _eigh_parts(a._v, UPLO, True, fname)
    dA = _one_triangle(a._d, UPLO == "L")
    P = _mmul(_mmul(_T(V), dA), V)                # V^T dA V, (k, ..., n, n)
    dw = _diag_last2(_operand(P))
    wd = _new(w, dw, a._tag, None)
    if not vectors:
        return wd, None
    F = _gap_inverse(w, False, "eigenvalues", fname)
    Vd = _new(V, _mmul(V, _mul(F, P)), a._tag, None)
    return wd, Vd


def _eig(a):
    a = _operand(a, "linalg.eig")
    if type(a) is _nd:
        r = np.linalg.eig(a)
        if np.iscomplexobj(r.eigenvalues):
            raise ValueError("numpy.linalg.eig on DualArray: the eigenvalues are complex; "
                             "dualml differentiates real functions (for a symmetric "
                             "matrix use eigh)")
        return r
    _no_o2(a)
    w, V = _eig(a._v)
    # dw = diag(V^-1 dA V); dV = V (F o V^-1 dA V), then NumPy's unit columns:
    # dv - v (v . dv)
    P = _mmul(_mmul(_inv(V), a._d), V)
    dw = _diag_last2(_operand(P))
    F = _gap_inverse(w, False, "eigenvalues", "eig")
    dV = _mmul(V, _mul(F, P))
    dV = _sub(dV, _mul(V, _sum(_mul(V, dV), -2, True)))
    return type(np.linalg.eig(np.eye(1)))(_new(w, dw, a._tag, None), _new(V, dV, a._tag, None))


def _eigvals(a):
    return _eig(a)[0]


def _eigh(a, UPLO="L"):
    w, V = _eigh_parts(a, UPLO, True, "eigh")
    return type(np.linalg.eigh(np.eye(1)))(w, V)


def _eigvalsh(a, UPLO="L"):
    return _eigh_parts(a, UPLO, False, "eigvalsh")[0]


def _svd_parts(a, uv):
    # thin SVD a = U diag(s) Vh; with uv=False only s
    if type(a) is _nd:
        if uv:
            return np.linalg.svd(a, full_matrices=False)
        return None, np.linalg.svd(a, compute_uv=False), None
    _no_o2(a)
    U, s, Vh = _svd_parts(a._v, True)
    V = _T(Vh)
    P = _mmul(_mmul(_T(U), a._d), V)              # U^T dA V, (k, ..., r, r)
    ds = _diag_last2(_operand(P))
    sd = _new(s, ds, a._tag, None)
    if not uv:
        return None, sd, None
    # Townsend (2016): F_ij = 1/(s_j^2 - s_i^2)
    F = _gap_inverse(s, True, "singular values", "svd")
    S = _mul(_expand_dims(s, -2), _eye_like(s.shape[-1]))     # diag(s)
    sinv = _ew_unary("reciprocal", _operand(s))
    m, n = a.shape[-2], a.shape[-1]
    dAV = _mmul(a._d, V)
    dATU = _mmul(_T(a._d), U)
    dU = _add(_mmul(U, _mul(F, _add(_mmul(P, S), _mmul(S, _T(P))))),
              _mul(_sub(dAV, _mmul(U, _mmul(_T(U), dAV))), _expand_dims(sinv, -2)))
    dV = _add(_mmul(V, _mul(F, _add(_mmul(S, P), _mmul(_T(P), S)))),
              _mul(_sub(dATU, _mmul(V, _mmul(_T(V), dATU))), _expand_dims(sinv, -2)))
    if m == n:          # no complement: the projections above are 0 up to rounding
        dU = _mmul(U, _mul(F, _add(_mmul(P, S), _mmul(S, _T(P)))))
        dV = _mmul(V, _mul(F, _add(_mmul(S, P), _mmul(_T(P), S))))
    return _new(U, dU, a._tag, None), sd, _T(_new(V, dV, a._tag, None))


def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    a = _operand(a, "linalg.svd")
    if type(a) is _nd:
        return np.linalg.svd(a, full_matrices, compute_uv, hermitian)
    if not compute_uv:
        return _svd_parts(a, False)[1]
    if full_matrices and a.shape[-1] != a.shape[-2]:
        raise ValueError("numpy.linalg.svd on DualArray: with full_matrices=True the extra "
                         "singular vectors of a non-square matrix are not unique (no "
                         "derivative); pass full_matrices=False")
    return type(np.linalg.svd(np.eye(1)))(*_svd_parts(a, True))


def _svdvals(x, /):
    return _svd_parts(_operand(x, "linalg.svdvals"), False)[1]


def _pinv(a, rcond=None, hermitian=False, *, rtol=None):
    a = _operand(a, "linalg.pinv")
    if type(a) is _nd:
        kw = {} if rtol is None else {"rtol": rtol}
        return np.linalg.pinv(a, **kw) if rcond is None else np.linalg.pinv(a, rcond, **kw)
    _no_o2(a)
    av = _inner(a)
    s = np.linalg.svd(av, compute_uv=False)
    tol = (1e-15 if rcond is None else rcond) * s[..., :1]
    if rtol is not None:
        tol = rtol * s[..., :1]
    if np.any(s <= tol):
        raise ValueError("numpy.linalg.pinv on DualArray: the matrix is rank deficient, "
                         "where the pseudo-inverse is not differentiable (its rank jumps); "
                         "regularize it or differentiate a full-rank problem")
    P = _pinv(a._v, rcond, hermitian, rtol=rtol)
    A = a._v
    dA, PT = a._d, _T(P)
    m, n = a.shape[-2], a.shape[-1]
    # d A+ = -A+ dA A+ + A+ A+^T dA^T (I - A A+) + (I - A+ A) dA^T A+^T A+
    t = _ew_unary("negative", _operand(_mmul(_mmul(P, dA), P)))
    t = _add(t, _mmul(_mmul(_mmul(P, PT), _T(dA)), _sub(np.eye(m), _mmul(A, P))))
    t = _add(t, _mmul(_mmul(_sub(np.eye(n), _mmul(P, A)), _T(dA)), _mmul(PT, P)))
    return _new(P, t, a._tag, None)


def _qr(a, mode="reduced"):
    a = _operand(a, "linalg.qr")
    if type(a) is _nd:
        return np.linalg.qr(a, mode)
    if mode not in ("reduced", "r"):
        raise TypeError(f"numpy.linalg.qr on DualArray: mode={mode!r} is not supported "
                        f"(use 'reduced' or 'r')")
    m, n = a.shape[-2], a.shape[-1]
    if m < n:
        raise ValueError("numpy.linalg.qr on DualArray: a wide matrix (m < n) has no "
                         "derivative of its Q factor; factor the transpose")
    _no_o2(a)
    Q, R = _qr(a._v, "reduced")
    if np.any(np.abs(np.diagonal(np.asarray(_inner(R)), axis1=-2, axis2=-1)) == 0):
        raise ValueError("numpy.linalg.qr on DualArray: the matrix is rank deficient, "
                         "where the factors are not differentiable")
    # JAX's rule: X = dA R^-1, C = Q^T X, W = tril(C, -1) - tril(C, -1)^T,
    # dQ = Q (W - C) + X, dR = (C - W) R
    X = _T(_solve(_T(R), _T(a._d)))
    C = _mmul(_T(Q), X)
    low = _lin(_operand(C), lambda c: np.tril(c, -1), lambda c: np.tril(c, -1))
    W = _sub(low, _T(low))
    dQ = _add(_mmul(Q, _sub(W, C)), X)
    dR = _mmul(_sub(C, W), R)
    Rd = _new(R, dR, a._tag, None)
    if mode == "r":
        return Rd
    return type(np.linalg.qr(np.eye(1)))(_new(Q, dQ, a._tag, None), Rd)


def _tensorinv(a, ind=2):
    a = _operand(a, "linalg.tensorinv")
    if ind <= 0:
        raise ValueError("Invalid ind argument.")
    old = a.shape
    first, rest = old[:ind], old[ind:]
    inv = _inv(_reshape(a, (int(np.prod(first)), -1)))
    return _reshape(_operand(inv), rest + first)


def _tensorsolve(a, b, axes=None):
    a = _operand(a, "linalg.tensorsolve")
    b = _operand(b, "linalg.tensorsolve")
    nd = len(a.shape)
    if axes is not None:
        allaxes = list(range(nd))
        for k in axes:
            allaxes.remove(k)
            allaxes.insert(nd, k)
        a = _transpose(a, tuple(allaxes))
    oldshape = a.shape[-(nd - len(b.shape)):]
    prod = int(np.prod(oldshape))
    x = _solve(_reshape(a, (-1, prod)), _reshape(b, (-1,)))
    return _reshape(_operand(x), oldshape)


def _lstsq(a, b, rcond=None):
    a = _operand(a, "linalg.lstsq")
    b = _operand(b, "linalg.lstsq")
    if type(a) is _nd and type(b) is _nd:
        return np.linalg.lstsq(a, b, rcond=rcond)
    av, bv = _inner(a), _inner(b)
    _, res, rank, _ = np.linalg.lstsq(av, bv, rcond=rcond)
    if rank < min(av.shape):
        raise ValueError("numpy.linalg.lstsq on DualArray: the matrix is rank deficient, "
                         "where the solution is not differentiable; regularize it")
    x = _mmul(_pinv(a), b)
    if len(res):
        r = _sub(_mmul(a, x), b)
        res = _sum(_mul(r, r), 0)
        if len(b.shape) == 1:
            res = _reshape(_operand(res), (1,))
    s = _svd_parts(a, False)[1] if type(a) is not _nd else np.linalg.svd(a, compute_uv=False)
    return x, res, rank, s


def _matrix_norm(x, ord, keepdims, axis):
    # x with the matrix axes moved last
    if ord in (2, -2, "nuc"):
        s = _svd_parts(x, False)[1]
        if ord == "nuc":
            r = _sum(s, -1)
        else:
            r = _select_reduce(s, -1, False, np.argmax if ord == 2 else np.argmin,
                               "max" if ord == 2 else "min")
    elif ord in (1, -1):
        c = _sum(_ew_unary("absolute", x), -2)
        r = _select_reduce(c, -1, False, np.argmax if ord == 1 else np.argmin,
                           "max" if ord == 1 else "min")
    elif ord in (np.inf, -np.inf):
        c = _sum(_ew_unary("absolute", x), -1)
        r = _select_reduce(c, -1, False, np.argmax if ord > 0 else np.argmin,
                           "max" if ord > 0 else "min")
    else:
        raise ValueError(f"Invalid norm order {ord!r} for matrices")
    if keepdims:
        r = _expand_dims(_expand_dims(r, -1), -1)
        r = _moveaxis(r, (-2, -1), axis)
    return r


def _cond(x, p=None):
    x = _operand(x, "linalg.cond")
    if type(x) is _nd:
        return np.linalg.cond(x, p)
    if p is None or p in (2, -2):
        s = _svd_parts(x, False)[1]
        big = _select_reduce(s, -1, False, np.argmax, "max")
        small = _select_reduce(s, -1, False, np.argmin, "min")
        if p == -2:
            return _ew_binary("divide", _operand(small), _operand(big))
        return _ew_binary("divide", _operand(big), _operand(small))
    return _mul(_norm(x, p, (-2, -1)), _norm(_inv(x), p, (-2, -1)))


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._budget import ROWS_CHECKED, check_rows  # noqa: E402
from ._elementwise import _ew_binary, _ew_unary  # noqa: E402
from ._operands import _NeedGeneric, _f64, _inner, _nd, _operand, _tag  # noqa: E402
from ._products import _matmul, _mm  # noqa: E402
from ._reduce import _select_reduce, _sum  # noqa: E402
from ._shape import (_arr, _expand_dims, _lin, _moveaxis, _norm_axis, _ravel, _reshape,  # noqa: E402
                     _swapaxes, _transpose)
