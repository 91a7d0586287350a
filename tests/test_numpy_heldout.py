"""A held-out table of NumPy calls as users write them, on both paths.

Each case is ``f(x)`` written once with NumPy: keyword arguments, negative
axes, keepdims, out=, where=, dtype=, fancy and boolean indexing and
assignment, in-place operators, method forms, broadcasting with a scalar on
either side, 0-d and empty arrays, ``np.linalg``.  dualml's Jacobian and the
Hessian of a nonlinear scalarisation are compared with Richardson-
extrapolated central differences of the same call on floats (first and
second order), on the array path (DualArray) and, where NumPy itself runs
the call on an object array, on the scalar path (``method="scalar"``); a
second table passes Python lists (the list path).
Points lie away from kinks and ties.  None of these cases was in the table
of tests/test_numpy_coverage.py when it was written.
"""
import numpy as np
import pytest
from numdiff import P, V, fd_hessian, fd_jacobian
from npversion import since

import dualml


def SPD(n, seed=0):
    """A well-conditioned symmetric positive definite matrix, distinct eigenvalues."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))
    return (q * np.linspace(1.0, 2.6, n)) @ q.T


def _out(fn, shape):
    # out=: a fresh buffer of the result's kind (x's), filled and returned
    def f(x):
        buf = np.zeros(shape) * x.ravel()[0] if not isinstance(x, np.ndarray) or \
            x.dtype == object else None
        if buf is None:
            buf = np.zeros(shape)
        r = fn(x, buf)
        return buf if r is None else r
    return f


def _set(idx, val):
    def f(x):
        y = x * 1.0
        y[idx] = val(x) if callable(val) else val
        return y
    return f


def _iop(op):
    def f(x):
        y = x * 1.0
        op(y, x)
        return y
    return f


def _iadd(y, x):
    y[1:] += x[:-1] ** 2


def _imul(y, x):
    y *= x[::-1]


def _isub_mask(y, x):
    y[y > 0] -= 0.5 * x[y > 0]


def _idiv(y, x):
    y /= (x * x + 1.0)


def _ipow(y, x):
    y **= 2


M34 = V(12, (3, 4))
M234 = V(24, (2, 3, 4), seed=3)
S3 = SPD(3)
S4 = SPD(4, seed=2)
T43 = V(12, (4, 3), seed=5)
A33 = V(9, (3, 3), seed=1) + 3 * np.eye(3)

# (name, f, x, scalar path too?)
CASES = [
    # -- reductions: axes, negative axes, keepdims, where=, initial=, dtype=
    ("sum-neg-axis", lambda x: np.sum(x, axis=-1), M34, True),
    ("sum-axis-tuple-neg", lambda x: np.sum(x, axis=(-1, 0)), M234, True),
    ("sum-keepdims-neg", lambda x: np.sum(x, axis=-2, keepdims=True), M34, True),
    ("sum-dtype-float", lambda x: np.sum(x, axis=0, dtype=float), M34, False),
    ("sum-where", lambda x: np.sum(x, where=x > 0), M34, False),
    ("sum-initial", lambda x: np.sum(x, axis=1, initial=2.5), M34, True),
    ("sum-method-axis", lambda x: x.sum(axis=-1, keepdims=True), M234, True),
    ("mean-neg-axis", lambda x: np.mean(x, axis=-2), M234, True),
    ("mean-where", lambda x: np.mean(x, axis=1, where=x < 1.0), M34, False),
    ("mean-method", lambda x: x.mean(axis=(0, 2)), M234, True),
    ("sum-method-where", lambda x: x.sum(axis=1, where=x > 0), M34, False),
    ("mean-method-where", lambda x: x.mean(axis=0, where=x < 1.0), M34, False),
    ("prod-method-initial", lambda x: x.prod(axis=1, initial=0.5), M34, False),
    ("max-method-where", lambda x: x.max(axis=0, where=x < 1.0, initial=-5.0), M34, False),
    ("min-method-initial", lambda x: x.min(axis=1, initial=-0.3), M34, False),
    ("cumsum-method-out", _out(lambda x, o: x.cumsum(out=o), (5,)), V(5), False),
    ("mean-keepdims", lambda x: np.mean(x, axis=0, keepdims=True), M34, True),
    ("prod-axis", lambda x: np.prod(x, axis=-1), M34, True),
    ("prod-keepdims-method", lambda x: x.prod(axis=0, keepdims=True), M34, True),
    ("prod-where", lambda x: np.prod(x, where=x > -1), M34, False),
    ("max-axis-neg", lambda x: np.max(x, axis=-1), M34, True),
    ("max-keepdims", lambda x: np.max(x, axis=0, keepdims=True), M34, True),
    ("max-where-initial", lambda x: np.max(x, axis=1, where=x < 1, initial=-5.0), M34, True),
    ("min-method", lambda x: x.min(axis=1), M34, True),
    ("amax-tuple", lambda x: np.amax(x, axis=(0, 1)), M234, True),
    ("std-neg-axis-method", lambda x: x.std(axis=-1, ddof=1), M34, True),
    ("var-method-keepdims", lambda x: x.var(axis=0, keepdims=True), M34, True),
    ("cumsum-neg-axis", lambda x: np.cumsum(x, axis=-1), M34, True),
    ("cumsum-method-flat", lambda x: x.cumsum(), M34, True),
    ("cumprod-method", lambda x: x.cumprod(axis=0), M34, True),
    ("ptp-neg", lambda x: np.ptp(x, axis=-1), M34, True),
    ("average-neg-axis", lambda x: np.average(x, axis=-1, weights=[1, 2, 3, 4.]), M34, True),
    ("median-neg-axis", lambda x: np.median(x, axis=-1), M34, False),
    ("quantile-neg-axis", lambda x: np.quantile(x, 0.4, axis=-1), M34, False),
    ("nanmean-axis", lambda x: np.nanmean(np.where(x > 1.2, np.nan, x), axis=1), M34, False),
    ("nanstd", lambda x: np.nanstd(np.where(x > 1.2, np.nan, x)), M34, False),
    ("nanmax-axis", lambda x: np.nanmax(np.where(x > 1.2, np.nan, x), axis=0), M34, False),
    ("logsumexp-by-hand", lambda x: np.log(np.sum(np.exp(x - x.max(axis=1, keepdims=True)),
                                                   axis=1)) + x.max(axis=1), M34, True),
    ("softmax-by-hand", lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True), M34,
     True),
    ("norm-axis-keepdims", lambda x: np.linalg.norm(x, axis=-1, keepdims=True), M34, False),
    ("norm-ord1-axis0", lambda x: np.linalg.norm(x, ord=1, axis=0), M34, False),
    ("norm-vector-3", lambda x: np.linalg.norm(x.ravel(), ord=3), M34, False),
    ("trace-offset", lambda x: np.trace(x, offset=1), M34, True),
    ("trace-method", lambda x: x.trace(), A33, True),
    # -- elementwise: broadcasting with scalars on either side, keywords
    ("scalar-minus-array", lambda x: 2.0 - x, V(5), True),
    ("scalar-div-array", lambda x: 3.0 / x, P(5), True),
    ("scalar-pow-array", lambda x: 2.0 ** x, V(5), True),
    ("array-pow-scalar", lambda x: x ** 3, V(5), True),
    ("array-pow-half", lambda x: x ** 0.5, P(5), True),
    ("np-float-times", lambda x: np.float64(1.5) * x, V(5), True),
    ("int-array-plus", lambda x: np.arange(5) + x, V(5), True),
    ("row-times-col", lambda x: x[:, None] * x[None, :], V(4), True),
    ("broadcast-3d", lambda x: x * np.arange(4.0) - x[..., :1], M234, True),
    ("power-ufunc-kw", lambda x: np.power(x, 2.0, where=True), V(5), False),
    ("add-ufunc-out", _out(lambda x, o: np.add(x, 1.0, out=o), (5,)), V(5), False),
    ("multiply-out", _out(lambda x, o: np.multiply(x, x, out=o), (5,)), V(5), False),
    ("exp-out", _out(lambda x, o: np.exp(x, out=o), (5,)), V(5), False),
    ("sin-where-out", _out(lambda x, o: np.sin(x, out=o, where=x > 0), (5,)), V(5), False),
    ("maximum-scalar", lambda x: np.maximum(x, 0.2), V(6), True),
    ("minimum-arrays", lambda x: np.minimum(x[:3], x[3:]), V(6), True),
    ("where-three", lambda x: np.where(x > 0, x ** 2, -x), V(6), True),
    ("where-scalar-branch", lambda x: np.where(x > 0, x, 0.0), V(6), True),
    ("clip-kw", lambda x: np.clip(x, a_min=-1.0, a_max=1.0), V(6), True),
    ("clip-method", lambda x: x.clip(-1.0, 1.0), V(6), True),
    ("abs-method", lambda x: abs(x) * x, V(6), True),
    ("neg-pos", lambda x: -x + (+x) * 2, V(4), True),
    ("hypot", lambda x: np.hypot(x, 2.0), V(5), True),
    ("arctan2-rev", lambda x: np.arctan2(1.5, x), V(5), False),
    ("logaddexp", lambda x: np.logaddexp(x, x[::-1]), V(6), False),
    ("expm1-log1p", lambda x: np.expm1(x) + np.log1p(x * x), V(6), True),
    ("square-sqrt", lambda x: np.sqrt(np.square(x) + 1), V(6), True),
    ("cbrt", lambda x: np.cbrt(x), V(6), False),
    ("tanh-cosh", lambda x: np.tanh(x) * np.cosh(x), V(6), True),
    ("deg2rad-sin", lambda x: np.sin(np.deg2rad(30 * x)), V(5), False),
    ("reciprocal", lambda x: np.reciprocal(x), P(5), False),
    ("sign-times", lambda x: np.sign(x) * x ** 2, V(6), False),
    ("copysign", lambda x: np.copysign(x, -1.0), V(5), False),
    ("true-divide", lambda x: np.true_divide(x, x[::-1] + 5), V(6), True),
    ("floor-divide-const-part", lambda x: x - np.floor(x), V(6), False),
    # -- 0-d and empty arrays
    ("zero-d", lambda x: np.sin(x) * x, np.array(0.7), True),
    ("zero-d-sum", lambda x: np.sum(x ** 2), np.array(1.3), True),
    ("zero-d-item-math", lambda x: x[()] * 3.0 + np.exp(x), np.array(0.4), True),
    ("empty-concat", lambda x: np.concatenate([x, np.zeros(0)]) * 2, V(3), True),
    ("empty-sum-plus", lambda x: x + np.sum(x[:0]), V(3), True),
    ("empty-slice-stack", lambda x: np.concatenate([x[2:2], x[:2] ** 2]), V(4), True),
    # -- indexing: fancy, boolean, negative, ellipsis, newaxis
    ("fancy-repeat", lambda x: x[[0, 0, 2, -1]] ** 2, V(5), True),
    ("fancy-2d", lambda x: x[[0, 2], [1, 3]], M34, True),
    ("fancy-rows", lambda x: x[[2, 0]], M34, True),
    ("fancy-ix", lambda x: x[np.ix_([0, 2], [1, 3])], M34, True),
    ("bool-mask", lambda x: x[x > 0] ** 2, V(7), True),
    ("bool-mask-2d-rows", lambda x: x[np.array([True, False, True])], M34, True),
    ("ellipsis-neg", lambda x: x[..., -1], M234, True),
    ("newaxis", lambda x: (x[None, :, None] * x[:, None, None]).ravel(), V(3), True),
    ("neg-step", lambda x: x[::-2], V(7), True),
    ("int-and-slice", lambda x: x[1, 1:3], M34, True),
    ("adv-slice-adv", lambda x: x[[0, 1], :, [2, 0]], M234, True),
    ("adv-ellipsis-adv", lambda x: x[1, ..., [0, 2]], M234, True),
    ("take-axis", lambda x: np.take(x, [2, 0], axis=-1), M34, True),
    ("take-method", lambda x: x.take([1, 3]), V(5), True),
    ("take-along", lambda x: np.take_along_axis(x, np.argsort(x, axis=1), axis=1), M34, True),
    ("argmax-gather", lambda x: x[np.argmax(x)] * x, V(5), True),
    ("compress", lambda x: np.compress([True, False, True], x, axis=0), M34, True),
    ("diagonal-method", lambda x: x.diagonal(offset=-1), A33, True),
    # -- assignment and in-place operators
    ("set-slice-dual", _set(slice(1, 3), lambda x: x[3:5] ** 2), V(6), True),
    ("set-slice-const", _set(slice(0, 2), 0.5), V(6), True),
    ("set-fancy", _set([0, 4], lambda x: x[1:3] * 2), V(6), True),
    ("set-bool", lambda x: _set(x > 0, lambda y: y[y > 0] ** 2)(x), V(6), True),
    ("set-bool-scalar", lambda x: _set(x < 0, 0.0)(x), V(6), True),
    ("set-2d-row", _set((1,), lambda x: x[0] * x[2]), M34, True),
    ("set-adv-slice-adv", _set((0, slice(None), [1, 2]), lambda x: x[1, :, :2].T ** 2),
     M234, True),
    ("set-ellipsis", _set((Ellipsis, 0), lambda x: x[..., 1] * 3), M34, True),
    ("iadd-slice", _iop(_iadd), V(5), True),
    ("imul", _iop(_imul), V(5), True),
    ("isub-mask", _iop(_isub_mask), V(6), True),
    ("idiv", _iop(_idiv), V(5), True),
    ("ipow", _iop(_ipow), V(5), True),
    ("zeros-like-fill", lambda x: _set(slice(1, None), lambda y: y[:-1] * y[1:])(
        np.zeros_like(x)), V(5), False),
    ("empty-like-fill", lambda x: (lambda r: (r.__setitem__(slice(None), x ** 2), r)[1])(
        np.empty_like(x)), V(4), False),
    ("add-at", lambda x: (lambda r: (np.add.at(r, [0, 0, 2], x[:3]), r)[1])(x * 1.0), V(4),
     False),
    ("put", lambda x: (lambda r: (np.put(r, [0, 3], x[1:3] ** 2), r)[1])(x * 1.0), V(5),
     False),
    ("fill-diagonal", lambda x: (lambda r: (np.fill_diagonal(r, x[0, 1]), r)[1])(x * 1.0),
     A33, False),
    # -- shapes, joins, method forms
    ("reshape-neg1", lambda x: x.reshape(-1, 2) ** 2, M34, True),
    ("reshape-F", lambda x: np.reshape(x, (4, 3), order="F") * np.arange(12.).reshape(4, 3),
     M34, False),
    ("ravel-F", lambda x: np.ravel(x, order="F") * np.arange(12.), M34, False),
    ("flatten-method", lambda x: x.flatten() * np.arange(12.), M34, True),
    ("T-method", lambda x: x.T @ x, M34, False),
    ("transpose-axes", lambda x: np.transpose(x, (2, 0, 1)) * np.arange(3.), M234, True),
    ("swapaxes-method", lambda x: x.swapaxes(0, -1) * np.arange(2.), M234, True),
    ("moveaxis-neg", lambda x: np.moveaxis(x, -1, 0).reshape(4, -1) * np.arange(4.)[:, None],
     M234, True),
    ("squeeze-axis", lambda x: np.squeeze(x[:, :1], axis=1), M34, True),
    ("expand-dims-neg", lambda x: np.expand_dims(x, -1) * np.ones(2), M34, True),
    ("stack-neg", lambda x: np.stack([x, x ** 2], axis=-1), V(4), True),
    ("concat-axis1", lambda x: np.concatenate([x, x[:, :1] ** 2], axis=1), M34, True),
    ("concat-none", lambda x: np.concatenate([x, x], axis=None), M34, True),
    ("hstack-scalar-row", lambda x: np.hstack([x, x[:1] * 3]), V(4), True),
    ("vstack", lambda x: np.vstack([x, np.ones(4)]), V(4), True),
    ("column-stack", lambda x: np.column_stack([x, x ** 2]), V(4), True),
    ("split-index", lambda x: np.split(x, [1, 3])[1] ** 2, V(5), True),
    ("array-split-sum", lambda x: sum(p.sum() for p in np.array_split(x, 3)), V(7), True),
    ("tile-reps", lambda x: np.tile(x, (2, 1)), V(3), True),
    ("repeat-axis", lambda x: np.repeat(x, [1, 2, 1], axis=0), M34, True),
    ("roll-neg-axis", lambda x: np.roll(x, -1, axis=-1), M34, True),
    ("flip-axis", lambda x: np.flip(x, axis=-1) * np.arange(4.), M34, True),
    ("rot90-k", lambda x: np.rot90(x, k=-1), M34, True),
    ("pad-constant", lambda x: np.pad(x, (1, 2), constant_values=0.5) ** 2, V(4), True),
    ("pad-edge-2d", lambda x: np.pad(x, ((1, 0), (0, 1)), mode="edge"), M34, True),
    ("pad-reflect", lambda x: np.pad(x, 2, mode="reflect"), V(4), True),
    ("pad-wrap", lambda x: np.pad(x, 1, mode="wrap"), V(4), True),
    ("append-axis", lambda x: np.append(x, x[:1], axis=0), M34, True),
    ("delete-neg", lambda x: np.delete(x, -1), V(5), True),
    ("insert-const", lambda x: np.insert(x, 2, 7.0), V(4), True),
    ("tril-k", lambda x: np.tril(x, k=-1), M34, True),
    ("triu-method-like", lambda x: np.triu(x) @ np.ones(3), A33, False),
    ("atleast-2d", lambda x: np.atleast_2d(x) * np.ones((2, 1)), V(3), True),
    ("broadcast-to", lambda x: np.broadcast_to(x, (2, 4)) * np.arange(2.)[:, None], V(4),
     True),
    ("meshgrid-ij", lambda x: np.stack(np.meshgrid(x[:2], x[2:], indexing="ij")), V(5), True),
    ("linspace-dual-ends", lambda x: np.linspace(x[0], x[1], 5) ** 2, V(3), False),
    ("linspace-retstep", lambda x: np.linspace(0.0, x[0], 4, endpoint=False, retstep=True)[1]
     * x, V(3), False),
    ("astype-float", lambda x: x.astype(float) ** 2, V(4), False),
    ("copy-method", lambda x: x.copy() * x, V(4), True),
    ("sort-method-copy", lambda x: np.sort(x, axis=-1, kind="stable"), M34, True),
    ("partition-kth", lambda x: np.partition(x, 2)[2], V(6), True),
    ("diff-n2-axis", lambda x: np.diff(x, n=2, axis=-1), M34, True),
    ("diff-prepend", lambda x: np.diff(x, prepend=0.0), V(5), True),
    ("gradient-edge2", lambda x: np.gradient(x, 0.5, edge_order=2), V(6), False),
    ("trapezoid-x", lambda x: np.trapezoid(x ** 2, x=np.array([0, 0.5, 1.5, 2.0])), V(4),
     True),
    *since("2.1.0", ("cumulative-sum-initial",
                     lambda x: np.cumulative_sum(x, include_initial=True), V(4), True)),
    ("convolve-same", lambda x: np.convolve(x, [1.0, -2.0, 0.5], mode="same"), V(5), True),
    ("polyval-dual-x", lambda x: np.polyval([1.0, -2.0, 0.5], x), V(4), True),
    ("interp-dual-x", lambda x: np.interp(x, [-3.0, -1.0, 0.5, 3.0], [0.0, 2.0, 1.0, 4.0]),
     V(5, lo=-2.5, hi=2.5), False),
    ("einsum-trace", lambda x: np.einsum("ii->", x @ x), A33, False),
    ("einsum-batch", lambda x: np.einsum("ijk,ik->ij", x, x[:, 0, :]), M234, False),
    # -- products
    ("matmul-op-vec", lambda x: x @ np.arange(4.0), M34, False),
    ("rmatmul-const", lambda x: np.arange(3.0) @ x, M34, False),
    ("dot-method", lambda x: x.dot(x.T), M34, False),
    ("inner", lambda x: np.inner(x, x[::-1]), V(4), True),
    ("outer-method-like", lambda x: np.outer(x, np.arange(3.0)), V(4), True),
    ("tensordot-axes0", lambda x: np.tensordot(x[:2], x[2:], axes=0), V(5), True),
    ("tensordot-pairs", lambda x: np.tensordot(x, x, axes=([1, 2], [1, 2])), M234, True),
    ("vdot", lambda x: np.vdot(x, x), M34, True),
    ("kron", lambda x: np.kron(x, [1.0, 2.0]), V(3), True),
    ("cross-3", lambda x: np.cross(x[:3], x[3:]), V(6), True),
    ("matrix-power", lambda x: np.linalg.matrix_power(x, 3), A33 / 3, False),
    ("multi-dot", lambda x: np.linalg.multi_dot([x, x.T, x]), M34, False),
    # -- np.linalg
    ("inv-batch", lambda x: np.linalg.inv(x.reshape(2, 2, 2) + 2 * np.eye(2)), V(8), False),
    ("solve-matrix-rhs", lambda x: np.linalg.solve(x, x[:, :2]), A33, False),
    ("det-batch", lambda x: np.linalg.det(x.reshape(2, 2, 2)), V(8), False),
    ("slogdet", lambda x: np.linalg.slogdet(x)[1], A33, False),
    ("slogdet-neg", lambda x: np.linalg.slogdet(-x)[1], A33, False),
    ("slogdet-batch", lambda x: np.linalg.slogdet(x.reshape(2, 2, 2))[1], V(8), False),
    ("cholesky", lambda x: np.linalg.cholesky(x), S3, False),
    ("cholesky-upper", lambda x: np.linalg.cholesky(x, upper=True), S3, False),
    ("cholesky-nonsym-input", lambda x: np.linalg.cholesky(x + np.triu(x, 1) * 0.3), S3,
     False),
    ("eigh-values", lambda x: np.linalg.eigh(x)[0], S4, False),
    ("eigh-vectors-abs", lambda x: np.abs(np.linalg.eigh(x)[1]), S3, False),
    ("eigh-upper", lambda x: np.linalg.eigh(x, UPLO="U").eigenvalues, S3, False),
    ("eigvalsh", lambda x: np.linalg.eigvalsh(x), S4, False),
    ("svd-values", lambda x: np.linalg.svd(x, compute_uv=False), T43, False),
    ("svd-thin-U", lambda x: np.abs(np.linalg.svd(x, full_matrices=False)[0]), T43, False),
    ("svd-thin-Vh", lambda x: np.abs(np.linalg.svd(x, full_matrices=False).Vh), T43, False),
    ("svd-square-recon", lambda x: (lambda u, s, vh: (u * s) @ vh)(*np.linalg.svd(x)), A33,
     False),
    ("svdvals", lambda x: np.linalg.svdvals(x), T43, False),
    ("pinv-tall", lambda x: np.linalg.pinv(x), T43, False),
    ("pinv-wide", lambda x: np.linalg.pinv(x.T), T43, False),
    ("lstsq", lambda x: np.linalg.lstsq(x, np.arange(4.0))[0], T43, False),
    ("lstsq-residual", lambda x: np.linalg.lstsq(x, np.arange(4.0))[1], T43, False),
    ("cond", lambda x: np.linalg.cond(x), A33, False),
    ("cond-fro", lambda x: np.linalg.cond(x, "fro"), A33, False),
    ("norm-2", lambda x: np.linalg.norm(x, 2), T43, False),
    ("norm-nuc", lambda x: np.linalg.norm(x, "nuc"), T43, False),
    ("norm-inf-matrix", lambda x: np.linalg.norm(x, np.inf), M34, False),
    ("norm-1-matrix", lambda x: np.linalg.norm(x, 1), M34, False),
    ("norm-fro-axes", lambda x: np.linalg.norm(x, axis=(0, 2)), M234, False),
    ("norm-2-axes-keep", lambda x: np.linalg.norm(x, 2, axis=(-2, -1), keepdims=True), M234,
     False),
    # -- the forms that raised before: pad stat/ramp modes, interp period= and
    #    dual knots, insert of dual values, fmod family, in-place writers, cov
    ("pad-maximum-2d", lambda x: np.pad(x, ((1, 0), (2, 1)), mode="maximum"), M34, False),
    ("pad-minimum-stat", lambda x: np.pad(x, 2, mode="minimum", stat_length=2), V(5), False),
    ("pad-median", lambda x: np.pad(x, 1, mode="median"), M34, False),
    ("pad-linear-ramp", lambda x: np.pad(x, ((1, 2), (2, 0)), mode="linear_ramp",
                                         end_values=((1, 2), (3, 4))), M34, False),
    ("interp-period", lambda x: np.interp(x, [0.0, 1.0, 2.5], [1.0, 3.0, 2.0], period=3.0),
     V(4, lo=-1.4, hi=2.8), False),
    ("interp-period-dual-fp", lambda x: np.interp(np.array([0.2, 2.9, -0.4]), [0., 1., 2.5],
                                                  x[:3], period=3.0), V(4), False),
    ("interp-dual-xp", lambda x: np.interp(np.array([0.3, 1.7]), np.cumsum(np.abs(x)),
                                           np.arange(4.0)), V(4), False),
    ("insert-dual", lambda x: np.insert(x[:3], 1, x[3] ** 2), V(4), False),
    ("insert-dual-axis", lambda x: np.insert(x, [1, 2], x[:, 0:1] * 3, axis=1), M34, False),
    ("fmod", lambda x: np.fmod(3 * x, 2.0), V(5), False),
    ("fmod-neg-divisor", lambda x: np.fmod(-3 * x, -2.0 + 0 * x[::-1]), V(5), False),
    ("fmod-dual-divisor", lambda x: np.fmod(5.0, x + 3), V(5), False),
    ("modf", lambda x: np.modf(3 * x)[0] + np.modf(3 * x)[1], V(5), False),
    ("divmod", lambda x: np.divmod(3 * x, 2.0)[1] + np.divmod(3 * x, 2.0)[0], V(5), False),
    ("frexp", lambda x: np.frexp(x + 10.0)[0], V(5), False),
    ("copyto", lambda x: (lambda y: (np.copyto(y, x[::-1] ** 2, where=x > 0), y)[1])(x * 1.0),
     V(5), False),
    ("putmask", lambda x: (lambda y: (np.putmask(y, x > 0, x ** 2), y)[1])(x * 1.0), V(5),
     False),
    ("place", lambda x: (lambda y: (np.place(y, x > 0, x[:2] * 3), y)[1])(x * 1.0), V(5),
     False),
    ("cov", lambda x: np.cov(x), M34, False),
    ("cov-y-ddof", lambda x: np.cov(x[0], x[1], ddof=0), M34, False),
    ("cov-rowvar", lambda x: np.cov(x, rowvar=False), M34, False),
    ("corrcoef", lambda x: np.corrcoef(x), M34, False),
    ("quantile-nan-lane", lambda x: np.quantile(np.where(x > 1.2, np.nan, x), 0.3, axis=0), M34,
     False),
    ("median-nan-lane", lambda x: np.median(np.where(x > 1.2, np.nan, x), axis=0), M34, False),
    ("sum-out", _out(lambda x, o: np.sum(x, axis=0, out=o), (4,)), M34, False),
    ("mean-out", _out(lambda x, o: np.mean(x, axis=1, out=o), (3,)), M34, False),
    ("cumsum-out", _out(lambda x, o: np.cumsum(x, out=o), (5,)), V(5), False),
    ("einsum-out", _out(lambda x, o: np.einsum("ij->j", x, out=o), (4,)), M34, False),
    ("bincount-weights", lambda x: np.bincount([0, 1, 1, 3], weights=x), V(4), False),
    ("vander", lambda x: np.vander(x, 3), V(4), False),
    ("linalg-outer", lambda x: np.linalg.outer(x[0], x[1]), M34, False),
    ("linalg-vector-norm", lambda x: np.linalg.vector_norm(x, axis=(0, 2), ord=3), M234, False),
    ("linalg-matrix-norm", lambda x: np.linalg.matrix_norm(x, ord="nuc"), M34, False),
    ("linalg-trace", lambda x: np.linalg.trace(x), M234, False),
    ("linalg-diagonal", lambda x: np.linalg.diagonal(x, offset=1), M234, False),
    ("linalg-vecdot", lambda x: np.linalg.vecdot(x, x[::-1], axis=0), M34, False),
    ("take-method-out", lambda x: x.take([1, 3]) * x.diagonal().sum(), A33, False),
    ("add-reduceat", lambda x: np.add.reduceat(x, [0, 2, 2, 4]), V(6), False),
    ("maximum-reduceat-axis", lambda x: np.maximum.reduceat(x, [0, 2], axis=1), M34, False),
    ("multiply-reduceat", lambda x: np.multiply.reduceat(x, [1, 3]), V(5), False),
    ("polyder", lambda x: np.polyder(x, 2), V(5), False),
    ("polyint-k", lambda x: np.polyint(x, 2, k=[1.0, 2.0]), V(4), False),
    ("polyfit-y", lambda x: np.polyfit(np.arange(5.0), x, 2), V(5), False),
    ("polyfit-x", lambda x: np.polyfit(x, np.arange(5.0) ** 2, 1), V(5), False),
    ("polyfit-w", lambda x: np.polyfit(np.arange(5.0), x, 2, w=np.arange(1.0, 6.0)), V(5),
     False),
    ("poly1d-call", lambda x: np.poly1d(x)(0.7), V(4), False),
    ("trim-zeros", lambda x: np.trim_zeros(np.concatenate([[0.0], x, [0.0, 0.0]]), "b"), V(3),
     False),
    ("unique", lambda x: np.unique(np.concatenate([x, x[:2]]) ** 2), V(4), False),
    ("histogram-weights", lambda x: np.histogram(np.arange(4.0), bins=2, weights=x)[0], V(4),
     False),
    ("histogram-edges", lambda x: np.histogram(x, bins=3)[1], V(5), False),
    ("histogram-density", lambda x: np.histogram(x, bins=3, density=True)[0], V(5), False),
    ("apply-along-axis", lambda x: np.apply_along_axis(lambda r: r[::-1] * r, 0, x), M34,
     False),
    ("piecewise", lambda x: np.piecewise(x, [x < 0, x >= 0], [lambda t: -t, lambda t: t ** 2]),
     V(5), False),
    ("piecewise-otherwise", lambda x: np.piecewise(x, [x < -1], [lambda t: t ** 3, 0.5]), V(5),
     False),
    ("qr-R", lambda x: np.linalg.qr(x)[1], T43, False),
    ("qr-Q", lambda x: np.linalg.qr(x).Q, T43, False),
    ("qr-r-mode", lambda x: np.linalg.qr(x, mode="r"), A33, False),
    ("eig-values", lambda x: np.linalg.eig(x).eigenvalues, S4 + np.triu(S4, 1), False),
    ("eig-vectors-abs", lambda x: np.abs(np.linalg.eig(x)[1]), S3 + np.tril(S3, -1), False),
    ("eigvals", lambda x: np.linalg.eigvals(x), S4 + np.triu(S4, 1), False),
    ("tensorinv", lambda x: np.linalg.tensorinv(x.reshape(2, 2, 4)
                                                + 3 * np.eye(4).reshape(2, 2, 4), ind=2),
     V(16), False),
    ("tensorsolve", lambda x: np.linalg.tensorsolve(x.reshape(4, 2, 2)
                                                    + 3 * np.eye(4).reshape(4, 2, 2),
                                                    np.arange(4.0)), V(16), False),
    # -- spectral helpers and complex parts of real arrays
    ("fftshift", lambda x: np.fft.fftshift(x) * np.arange(5.0), V(5), True),
    ("ifftshift-axes", lambda x: np.fft.ifftshift(x, axes=-1), M34, True),
    ("real-imag", lambda x: np.real(x) ** 2 + np.imag(x), V(4), False),
    ("angle-const", lambda x: x * np.angle(x), V(4), False),
    ("real-if-close", lambda x: np.real_if_close(x) ** 2, V(4), False),
]

assert len({c[0] for c in CASES}) == len(CASES)


def _weights(shape):
    return (np.cos(np.arange(int(np.prod(shape)))) + 1.5).reshape(shape)


def _scalarised(f, shape):
    # a polynomial of the output (the object path's results may hold plain
    # floats, which NumPy's object loops cannot take np.sin of)
    w = _weights(shape)

    def g(x):
        y = f(x)
        return np.sum(w * y * y + y)
    return g


def _params():
    out = []
    for name, f, x, scalar in CASES:
        out.append(pytest.param(f, x, "array", id=f"{name}-array"))
        if scalar:
            out.append(pytest.param(f, x, "scalar", id=f"{name}-scalar"))
    return out


PARAMS = _params()


def _floats(r):
    return np.asarray(r, dtype=float)


@pytest.mark.parametrize("f,x,method", PARAMS)
def test_first_order(f, x, method):
    with np.errstate(all="ignore"):
        ref = fd_jacobian(f, x)
        J = dualml.jacobian(f, x, method=method)
    assert np.shape(J) == ref.shape
    np.testing.assert_allclose(_floats(J), ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f,x,method", PARAMS)
def test_second_order(f, x, method):
    with np.errstate(all="ignore"):
        g = _scalarised(f, np.shape(f(x)))
        ref = fd_hessian(g, x)
        H = dualml.hessian(g, x, method=method)
    np.testing.assert_allclose(_floats(H), ref, rtol=1e-5, atol=1e-6)


def test_table_size():
    assert len(PARAMS) >= 300


def test_det_of_a_singular_matrix():
    # NumPy returns det = 0 at a singular matrix; d det = tr(adj(A) dA), the
    # adjugate of a rank-(n-1) matrix is not 0 (closed form: adj of u v^T
    # for n = 2 is [[v1 u1... ]]); compared with a Richardson difference
    x = np.array([1.0, 2.0, 3.0, 0.5, -1.0, 2.0])
    f = lambda y: np.linalg.det(np.outer(y[:3], y[3:]) + np.diag([0.0, 0.0, 1.0]))  # noqa
    np.testing.assert_allclose(dualml.gradient(f, x), fd_jacobian(f, x), rtol=1e-7,
                               atol=1e-9)
    A = np.array([[1.0, 2.0], [2.0, 4.0]])           # rank 1: adj = [[4, -2], [-2, 1]]
    np.testing.assert_allclose(dualml.gradient(np.linalg.det, A), [[4.0, -2.0], [-2.0, 1.0]])
    with pytest.raises(ValueError, match="singular"):
        dualml.hessian(np.linalg.det, A)


def test_vectors_of_repeated_eigenvalues_raise():
    with pytest.raises(ValueError, match="eigvalsh"):
        dualml.jacobian(lambda x: np.linalg.eigh(x)[1], np.eye(3))
    np.testing.assert_allclose(dualml.jacobian(np.linalg.eigvalsh, np.eye(2)).reshape(2, 4),
                               [[1, 0, 0, 0], [0, 0, 0, 1]])   # d eig at I: sorted diag


def test_pinv_of_a_rank_deficient_matrix_raises():
    with pytest.raises(ValueError, match="rank deficient"):
        dualml.jacobian(np.linalg.pinv, np.ones((3, 2)))


def test_svd_full_matrices_of_a_rectangle_names_the_fix():
    with pytest.raises(ValueError, match="full_matrices=False"):
        dualml.jacobian(lambda x: np.linalg.svd(x)[0], np.arange(6.0).reshape(3, 2))


def test_linspace_values_are_numpys():
    x = np.array([0.3, 1.7])
    v, _ = dualml.jvp(lambda y: np.linspace(y[0], y[1], 7), x, np.ones(2))
    np.testing.assert_array_equal(v, np.linspace(0.3, 1.7, 7))


def test_unsupported_errors_name_the_alternative():
    X = dualml.arrays.DualArray.seed(np.array([0.5, 1.5]))
    with pytest.raises(TypeError, match=r"numpy\.unwrap .*method='scalar'"):
        np.unwrap(X)
    with pytest.raises(TypeError, match=r"numpy\.nextafter .*method='scalar'"):
        np.nextafter(X, 2.0)
    special = pytest.importorskip("scipy.special")
    with pytest.raises(TypeError, match=r"scipy\.special\.jv .*method='scalar'"):
        special.jv(1.0, X)


def test_out_of_index_valued_functions_is_numpys():
    X = dualml.arrays.DualArray.seed(np.array([[0.5, 2.5], [3.0, -1.0]]))
    buf = np.zeros(2, dtype=np.intp)
    assert np.argmax(X, axis=1, out=buf) is buf and list(buf) == [1, 0]
    with pytest.raises(TypeError, match="out= must be a DualArray"):
        np.sum(X, axis=0, out=np.zeros(2))         # a float buffer would drop it


def test_eig_with_complex_eigenvalues_raises():
    with pytest.raises(ValueError, match="complex"):
        dualml.jacobian(np.linalg.eigvals, np.array([[0.0, 1.0], [-1.0, 0.0]]))


# -- the list path: f takes a Python list (Duals), NumPy converts it -----------------

W4 = np.array([0.5, -1.0, 2.0, 1.5])

LIST_CASES = [
    ("sum", lambda x: np.sum(x)),
    ("mean", lambda x: np.mean(x)),
    ("std", lambda x: np.std(x)),
    ("var-ddof", lambda x: np.var(x, ddof=1)),
    ("prod", lambda x: np.prod(x)),
    ("max", lambda x: np.max(x)),
    ("min-minus", lambda x: -np.min(x)),
    ("cumsum", lambda x: np.cumsum(x)),
    ("cumprod", lambda x: np.cumprod(x)),
    ("dot-const", lambda x: np.dot(x, W4)),
    ("dot-self", lambda x: np.dot(x, x)),
    ("matmul-const", lambda x: np.array(x) @ W4),
    ("outer", lambda x: np.outer(x, W4[:2])),
    ("sin-array", lambda x: np.sin(np.array(x))),
    ("exp-sum", lambda x: np.exp(np.array(x)).sum()),
    ("square-sqrt", lambda x: np.sqrt(np.square(np.array(x)) + 1.0)),
    ("power-scalar", lambda x: np.power(np.array(x), 3)),
    ("array-times-list", lambda x: W4 * np.array(x)),
    ("scalar-minus", lambda x: 2.0 - np.array(x)),
    ("tanh-log1p", lambda x: np.tanh(np.array(x)) + np.log1p(np.array(x) ** 2)),
    ("maximum", lambda x: np.maximum(np.array(x), 0.2)),
    ("where", lambda x: np.where(np.array(x) > 0, np.array(x) ** 2, 0.5)),
    ("clip", lambda x: np.clip(np.array(x), -1.0, 1.0)),
    ("abs", lambda x: np.abs(np.array(x))),
    ("reshape-T", lambda x: np.array(x).reshape(2, 2).T),
    ("concatenate", lambda x: np.concatenate([x, x[:2]])),
    ("stack", lambda x: np.stack([x, x[::-1]])),
    ("diff", lambda x: np.diff(x)),
    ("sort", lambda x: np.sort(x)),
    ("linalg-norm-by-hand", lambda x: np.sqrt(np.dot(x, x))),
    ("hypot", lambda x: np.hypot(np.array(x[:2]), np.array(x[2:]))),
    ("arctan2", lambda x: np.arctan2(np.array(x[:2]), np.array(x[2:]))),
    ("polyval", lambda x: np.polyval(x, 0.7)),
    ("trapezoid", lambda x: np.trapezoid(x)),
    ("average-weights", lambda x: np.average(x, weights=[1.0, 2.0, 3.0, 4.0])),
]


@pytest.mark.parametrize("f", [c[1] for c in LIST_CASES], ids=[c[0] for c in LIST_CASES])
def test_list_path_first_order(f):
    x = V(4)
    ref = fd_jacobian(lambda y: f(list(y)), x)
    J = dualml.jacobian(f, list(x))
    np.testing.assert_allclose(_floats(J), ref, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("f", [c[1] for c in LIST_CASES], ids=[c[0] for c in LIST_CASES])
def test_list_path_second_order(f):
    x = V(4)
    shape = np.shape(f(list(x)))
    w = _weights(shape)

    def g(y):
        r = np.asarray(f(y), dtype=object)
        return np.sum(w * r * r + r)
    ref = fd_hessian(lambda y: float(g(list(y))), x)
    H = dualml.hessian(g, list(x))
    np.testing.assert_allclose(_floats(H), ref, rtol=1e-5, atol=1e-6)
