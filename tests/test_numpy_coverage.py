"""NumPy functions, keyword forms and ufunc methods on DualArray, against an
independent reference.

Each case is a NumPy call written once as ``f(x)``; dualml differentiates it
on the array path (jacobian, jvp, hessian of a scalarisation, and the nested
path jacobian(gradient)), and the reference is Richardson-extrapolated
central differences of the same call on plain floats.  Points are chosen
away from kinks, ties and mask thresholds.  A second table checks that the
forms not supported raise a TypeError naming the function.
"""
import numpy as np
import pytest
from numdiff import V, fd_hessian, fd_jacobian
from npversion import since

import dualml
from dualml.arrays import DualArray

M34 = V(12, (3, 4))
M33 = V(9, (3, 3), seed=1)
NANS = np.where(np.arange(12).reshape(3, 4) % 5 == 1, np.nan, 1.0)   # NaN in each row
XP = np.array([-2.5, -0.7, 0.3, 1.3, 2.5])       # interp knots, away from V's points


def _cat(*parts):
    return np.concatenate([np.ravel(p) for p in parts])


def _inplace_nan_to_num(y):
    np.nan_to_num(y, copy=False, nan=-2.0)
    return y


def _filled(fn, y, *args):
    # NumPy's in-place writers: write into a copy, return it
    fn(y, *args)
    return y


CASES = [
    # 1. statistics
    ("std", lambda x: np.std(x), V(6)),
    ("std-axis-ddof", lambda x: np.std(x, axis=1, ddof=1), M34),
    ("std-keepdims", lambda x: np.std(x, axis=0, keepdims=True), M34),
    ("std-correction", lambda x: np.std(x, axis=1, correction=1), M34),
    ("std-where", lambda x: np.std(x, axis=1, where=x > -1), M34),
    ("var-where-ddof", lambda x: np.var(x, where=x < 1, ddof=1), M34),
    ("var-mean", lambda x: np.var(x, axis=1, mean=np.mean(x, axis=1, keepdims=True)), M34),
    ("std-mean-const", lambda x: np.std(x, axis=0, mean=np.full((1, 4), 0.3)), M34),
    ("var", lambda x: np.var(x), V(7)),
    ("var-axis-ddof", lambda x: np.var(x, axis=0, ddof=1), M34),
    ("var-tuple-axis", lambda x: np.var(x, axis=(0, 1), keepdims=True), M34),
    ("average", lambda x: np.average(x), V(5)),
    ("average-weights-dual", lambda x: np.average(x[:4], weights=x[4:] ** 2), V(8)),
    ("average-weights-const", lambda x: np.average(x, axis=1, weights=[1, 2, 3, 4.]), M34),
    ("average-axis0", lambda x: np.average(x, axis=0, weights=[0.5, 1, 2.]), M34),
    ("average-returned", lambda x: _cat(*np.average(x, axis=1, weights=x[0] ** 2,
                                                    returned=True)), M34),
    ("ptp", lambda x: np.ptp(x), V(6)),
    ("ptp-axis", lambda x: np.ptp(x, axis=1, keepdims=True), M34),
    ("cumprod", lambda x: np.cumprod(x), V(5)),
    ("cumprod-axis", lambda x: np.cumprod(x, axis=1), M34),
    ("cumprod-2d-flat", lambda x: np.cumprod(x), V(6, (2, 3))),
    ("median-odd", lambda x: np.median(x), V(7)),
    ("median-even", lambda x: np.median(x), V(8)),
    ("median-axis", lambda x: np.median(x, axis=1), M34),
    ("median-axis0-keep", lambda x: np.median(x, axis=0, keepdims=True), M34),
    ("quantile", lambda x: np.quantile(x, 0.3), V(7)),
    ("quantile-vec", lambda x: np.quantile(x, [0.1, 0.5, 0.85]), V(9)),
    ("quantile-axis", lambda x: np.quantile(x, [0.2, 0.7], axis=1), M34),
    ("quantile-keepdims", lambda x: np.quantile(x, [0.2, 0.7], axis=0, keepdims=True), M34),
    ("quantile-lower", lambda x: np.quantile(x, [0.1, 0.6], method="lower"), V(8)),
    ("quantile-higher", lambda x: np.quantile(x, [0.1, 0.6], method="higher"), V(8)),
    ("quantile-midpoint", lambda x: np.quantile(x, [0.1, 0.6], method="midpoint"), V(8)),
    ("quantile-nearest", lambda x: np.quantile(x, [0.1, 0.6], method="nearest"), V(8)),
    ("percentile", lambda x: np.percentile(x, 40), V(6)),
    ("percentile-axis", lambda x: np.percentile(x, [25, 75], axis=0), M34),
    ("sort", lambda x: np.sort(x), V(7)),
    ("sort-axis0", lambda x: np.sort(x, axis=0), M34),
    ("sort-none", lambda x: np.sort(x, axis=None), M34),
    ("nansum", lambda x: np.nansum(x * NANS), M34),
    ("nansum-axis", lambda x: np.nansum(x * NANS, axis=1, keepdims=True), M34),
    ("nanprod", lambda x: np.nanprod(x * NANS, axis=0), M34),
    ("nanmax", lambda x: np.nanmax(x * NANS, axis=1), M34),
    ("nanmin", lambda x: np.nanmin(x * NANS), M34),
    ("nanmean", lambda x: np.nanmean(x * NANS, axis=0), M34),
    ("nanvar", lambda x: np.nanvar(x * NANS), M34),
    ("nanstd-ddof", lambda x: np.nanstd(x * NANS, axis=1, ddof=1), M34),
    ("nancumsum", lambda x: np.nancumsum(x * NANS, axis=1), M34),
    ("nancumprod", lambda x: np.nancumprod(x * NANS), M34),
    ("nanmedian", lambda x: np.nanmedian(x * NANS, axis=1), M34),
    ("nanmedian-all", lambda x: np.nanmedian(x * NANS), M34),
    ("nanquantile", lambda x: np.nanquantile(x * NANS, [0.3, 0.8], axis=0), M34),
    ("nanpercentile", lambda x: np.nanpercentile(x * NANS, 60, axis=1, keepdims=True), M34),
    *since("2.1.0",
           ("cumulative_sum", lambda x: np.cumulative_sum(x, axis=1, include_initial=True), M34),
           ("cumulative_prod", lambda x: np.cumulative_prod(x), V(5)),
           ("cumulative_prod-axis",
            lambda x: np.cumulative_prod(x, axis=0, include_initial=True), M34)),
    ("partition-kth", lambda x: np.partition(x, 3)[3], V(7)),
    ("partition-lower-sum", lambda x: np.sum(np.partition(x, 2, axis=1)[:, :2] ** 2, axis=1),
     M34),
    ("partition-kths", lambda x: np.partition(x, [1, 5])[[1, 5]], V(7)),
    # 2. differences and integration
    ("diff", lambda x: np.diff(x), V(6)),
    ("diff-n2", lambda x: np.diff(x, n=2), V(6)),
    ("diff-axis0", lambda x: np.diff(x, axis=0), M34),
    ("diff-prepend-append", lambda x: np.diff(x, axis=1, prepend=0.5, append=x[:, :1]), M34),
    ("diff-prepend-dual", lambda x: np.diff(x[1:], prepend=x[:1] ** 2), V(5)),
    ("ediff1d", lambda x: np.ediff1d(x), M34),
    ("ediff1d-ends", lambda x: np.ediff1d(x, to_begin=[1.0, 2.0], to_end=x[0] ** 2), V(5)),
    ("trapezoid", lambda x: np.trapezoid(x), V(6)),
    ("trapezoid-dx", lambda x: np.trapezoid(x, dx=0.3, axis=0), M34),
    ("trapezoid-x-const", lambda x: np.trapezoid(x, x=[0, 0.5, 1.5, 3.0]), M34),
    ("trapezoid-x-dual", lambda x: np.trapezoid(x[:4] ** 2, x=np.cumsum(np.exp(x[4:]))), V(8)),
    ("trapezoid-x-dual-2d", lambda x: np.trapezoid(x, x=np.exp(x[0])), M34),
    ("gradient", lambda x: np.gradient(x), V(6)),
    ("gradient-dx", lambda x: np.gradient(x, 0.5), V(6)),
    ("gradient-coords", lambda x: np.gradient(x, [0, 1, 1.5, 3, 3.2, 4]), V(6)),
    ("gradient-edge2", lambda x: np.gradient(x, edge_order=2), V(6)),
    ("gradient-2d", lambda x: _cat(*np.gradient(x, 0.5, [0, 1, 3, 4.5])), M34),
    ("gradient-axis", lambda x: np.gradient(x, axis=1), M34),
    ("interp-fp", lambda x: np.interp([-3, -1.0, 0.0, 0.8, 2.0, 3.0], XP, x), V(5)),
    ("interp-x", lambda x: np.interp(x, XP, [1.0, 2.0, -1.0, 0.5, 3.0]), V(7, lo=-2.4, hi=2.3)),
    ("interp-both", lambda x: np.interp(x[:4], XP, x[4:]), V(9)),
    ("interp-left-right", lambda x: np.interp(np.array([-3.0, 0.1, 3.0]) * x[0], XP, x[1:],
                                             left=x[0], right=-1.0), V(6, lo=0.5, hi=1.7)),
    ("interp-scalar-x", lambda x: np.interp(0.8, XP, x), V(5)),
    ("interp-scalar-dual-x", lambda x: np.interp(x[0], XP, x), V(5)),
    ("interp-2d-x", lambda x: np.interp(x, XP, np.cos(XP)), M34),
    ("polyval-coef", lambda x: np.polyval(x, [0.5, -1.0, 2.0]), V(4)),
    ("polyval-x", lambda x: np.polyval([1.0, -2.0, 0.5, 3.0], x), M34),
    ("polyval-both", lambda x: np.polyval(x[:3], x[3:]), V(7)),
    ("polyval-scalar-x", lambda x: np.polyval([1.0, -2.0, 0.5], x[0]) * x, V(3)),
    ("convolve", lambda x: np.convolve(x[:5], x[5:]), V(8)),
    ("convolve-same", lambda x: np.convolve(x[:5], x[5:], "same"), V(8)),
    ("convolve-valid", lambda x: np.convolve(x[:3], x[3:], "valid"), V(8)),
    ("convolve-const", lambda x: np.convolve([1.0, -2.0, 0.5], x, "same"), V(6)),
    ("correlate", lambda x: np.correlate(x[:5], x[5:]), V(8)),
    ("correlate-full", lambda x: np.correlate(x[:3], x[3:], "full"), V(8)),
    ("correlate-same", lambda x: np.correlate(x[:4], x[4:], "same"), V(7)),
    ("correlate-same-v-longer", lambda x: np.correlate(x[:3], x[3:], "same"), V(8)),
    ("correlate-valid-v-longer", lambda x: np.correlate(x[:3], x[3:], "valid"), V(8)),
    # 3. shape and joining
    ("roll", lambda x: np.roll(x, 2), V(5)),
    ("roll-flat", lambda x: np.roll(x, 5), M34),
    ("roll-axes", lambda x: np.roll(x, (1, -1), axis=(0, 1)), M34),
    ("tile", lambda x: np.tile(x, 2), V(3)),
    ("tile-more-dims", lambda x: np.tile(x, (2, 1, 2)), V(6, (2, 3))),
    ("repeat", lambda x: np.repeat(x, 2), M34),
    ("repeat-axis", lambda x: np.repeat(x, [1, 0, 2], axis=0), M34),
    ("pad-constant", lambda x: np.pad(x, ((1, 2), (0, 1)), constant_values=3.0), M34),
    ("pad-edge", lambda x: np.pad(x, 2, mode="edge"), V(4)),
    ("pad-reflect", lambda x: np.pad(x, 1, mode="reflect"), M34),
    ("pad-symmetric", lambda x: np.pad(x, (2, 1), mode="symmetric"), V(4)),
    ("pad-wrap", lambda x: np.pad(x, 2, mode="wrap"), V(4)),
    ("pad-mean", lambda x: np.pad(x, 1, mode="mean", stat_length=2), M34),
    ("append", lambda x: np.append(x, x[:2] ** 2), V(4)),
    ("append-axis", lambda x: np.append(x, x[:1], axis=0), M34),
    ("insert", lambda x: np.insert(x, 1, 5.0), V(4)),
    ("insert-axis", lambda x: np.insert(x, [1, 3], 7.0, axis=1), M34),
    ("insert-2d-values", lambda x: np.insert(x, 1, np.ones((2, 4)) * 5, axis=0), M34),
    ("insert-slice", lambda x: np.insert(x, slice(0, 2), [[9.0], [8.0], [7.0]], axis=1), M34),
    ("insert-flat-array", lambda x: np.insert(x, [0, 5, 5], [1.0, 2.0, 3.0]), M34),
    ("delete", lambda x: np.delete(x, [0, 2]), V(5)),
    ("delete-axis", lambda x: np.delete(x, 1, axis=1), M34),
    ("split", lambda x: np.split(x, 2, axis=1)[1], M34),
    ("split-indices", lambda x: _cat(*[p ** (i + 1) for i, p in enumerate(np.split(x, [1, 3]))]),
     V(5)),
    ("array_split", lambda x: _cat(*[p * (i + 1) for i, p in enumerate(np.array_split(x, 3))]),
     V(7)),
    ("hsplit", lambda x: np.hsplit(x, 2)[0] * np.hsplit(x, 2)[1], M34),
    ("vsplit", lambda x: np.vsplit(x, [1])[1], M34),
    ("atleast_2d", lambda x: np.atleast_2d(x) * [[1.0], [2.0]], V(3)),
    ("atleast_3d", lambda x: np.atleast_3d(x[0], x)[1] * x[0], M34),
    ("column_stack", lambda x: np.column_stack([x[:3], x[3:] ** 2]), V(6)),
    ("dstack", lambda x: np.dstack([x, x ** 2]), M34),
    ("meshgrid", lambda x: _cat(*np.meshgrid(x[:2], x[2:] ** 2)), V(5)),
    ("meshgrid-ij", lambda x: _cat(*np.meshgrid(x[:2], x[2:4], x[4:], indexing="ij")), V(6)),
    ("meshgrid-sparse", lambda x: np.meshgrid(x[:2], x[2:], sparse=True)[1], V(5)),
    ("broadcast_arrays", lambda x: _cat(*np.broadcast_arrays(x[0], x[:, :1] ** 2)), M34),
    ("rot90", lambda x: np.rot90(x), M34),
    ("rot90-k3", lambda x: np.rot90(x, 3, axes=(1, 0)), M34),
    ("flipud", lambda x: np.flipud(x) * np.arange(1, 5), M34),
    ("fliplr", lambda x: np.fliplr(x), M34),
    ("tril", lambda x: np.tril(x), M34),
    ("triu-k", lambda x: np.triu(x, -1), M34),
    ("diagflat", lambda x: np.diagflat(x), V(3)),
    ("diagflat-k", lambda x: np.diagflat(x.reshape(2, 2), 1), V(4)),
    ("cross", lambda x: np.cross(x[:3], x[3:]), V(6)),
    ("cross-2d", lambda x: np.cross(x[:, :3], x[:, 1:]), M34),
    ("cross-const", lambda x: np.cross(x, [1.0, 2.0, -1.0]), V(3)),
    ("kron", lambda x: np.kron(x[:2], x[2:]), V(5)),
    ("kron-2d", lambda x: np.kron(x[:2, :2], x[1:, 2:]), M34),
    ("kron-const", lambda x: np.kron(np.eye(2), x), V(4, (2, 2))),
    ("multi_dot", lambda x: np.linalg.multi_dot([x, x.T, x]), M34),
    ("multi_dot-vec", lambda x: np.linalg.multi_dot([x[0], x.T, x[:, 1]]), M34),
    ("matrix_power-3", lambda x: np.linalg.matrix_power(x, 3), M33),
    ("matrix_power-0", lambda x: np.linalg.matrix_power(x, 0) + x, M33),
    ("matrix_power-neg", lambda x: np.linalg.matrix_power(x + 3 * np.eye(3), -2), M33),
    ("dsplit", lambda x: np.dsplit(x.reshape(1, 3, 4), [1, 3])[1], M34),
    ("rollaxis", lambda x: np.rollaxis(x.reshape(2, 3, 2), 2, 1), M34),
    ("resize", lambda x: np.resize(x, (3, 3)), V(4)),
    ("compress", lambda x: np.compress([True, False, True], x, axis=0), M34),
    ("compress-flat", lambda x: np.compress(x.ravel() > 0, x), M34),
    ("extract", lambda x: np.extract(x > 0, x ** 2), M34),
    ("choose", lambda x: np.choose([[0, 1, 2, 1]] * 3, [x, x ** 2, 3.0]), M34),
    ("select", lambda x: np.select([x < 0, x > 1], [x ** 2, -x], default=x * 3), M34),
    ("block", lambda x: np.block([[x[:2, :2], x[:2, 2:] ** 2], [np.ones((1, 2)), x[2:, 2:]]]),
     M34),
    ("block-1d", lambda x: np.block([x[:2], 1.0, x[2:] * 2]), V(5)),
    ("fill_diagonal", lambda x: _filled(np.fill_diagonal, x * 1.0, x[0, :3] ** 2), M34),
    ("fill_diagonal-const", lambda x: _filled(np.fill_diagonal, x * 1.0, 5.0), M33),
    ("put", lambda x: _filled(np.put, x * 1.0, [0, 5, -1], x[0, :3] ** 2), M34),
    ("put-cycle", lambda x: _filled(np.put, x * 1.0, [1, 2, 3], x[2, 2]), M34),
    ("put_along_axis", lambda x: _filled(np.put_along_axis, x * 1.0, np.array([[1], [0], [3]]),
                                         x[:, :1] ** 2, 1), M34),
    # 4. elementwise functions and ufuncs composed from rules
    ("deg2rad", lambda x: np.deg2rad(x * 50), V(5)),
    ("rad2deg", lambda x: np.rad2deg(x / 40), V(5)),
    ("degrees", lambda x: np.degrees(x / 40), V(5)),
    ("radians", lambda x: np.radians(x * 30), V(5)),
    ("float_power", lambda x: np.float_power(x[:3] ** 2 + 0.5, x[3:]), V(6)),
    ("float_power-const", lambda x: np.float_power(x, 3), V(5)),
    ("round", lambda x: np.round(x * 3.1) + x, V(6)),
    ("round-decimals", lambda x: np.round(x, 1) * x, V(6)),
    ("round-negative", lambda x: np.round(x * 100, -1) + x ** 2, V(6)),
    ("around", lambda x: np.around(x * 3.1) * x, V(6)),
    ("fix", lambda x: np.fix(x * 3.1) + x, V(6)),
    ("nan_to_num", lambda x: np.nan_to_num(np.log(x)) + x, V(6)),
    ("nan_to_num-inf", lambda x: np.nan_to_num(1.0 / (x * (x > 0)), posinf=7.0, neginf=-3.0) * x, V(6)),
    ("nan_to_num-inplace", lambda x: _inplace_nan_to_num(np.log(x)) + x, V(6)),
    ("sinc", lambda x: np.sinc(x), V(6)),
    ("sinc-at-zero", lambda x: np.sinc(x - x[0]) + np.sinc(x * 0.5), V(4)),
    ("logaddexp2", lambda x: np.logaddexp2(x[:3], x[3:]), V(6)),
    ("heaviside", lambda x: np.heaviside(x[:3] * [1.0, 0.0, 1.0], x[3:]) * x[:3], V(6)),
    ("ldexp", lambda x: np.ldexp(x, [1, -2, 3, 0]), V(4)),
    ("vecdot", lambda x: np.vecdot(x, x[::-1] ** 2), M34),
    *since("2.2.0", ("matvec", lambda x: np.matvec(x, x[0] ** 2), M34),
           ("vecmat", lambda x: np.vecmat(x[:, 0], x), M34)),
    ("einsum-sublist", lambda x: np.einsum(x, [0, 1], x, [2, 1], [0, 2]), M34),
    ("einsum-sublist-implicit", lambda x: np.einsum(x, [0, 1], x[0], [1]), M34),
    ("einsum-sublist-ellipsis", lambda x: np.einsum(x, [Ellipsis, 1], [Ellipsis]), M34),
    ("conjugate", lambda x: np.conj(x) * np.conjugate(x[::-1]), V(4)),
    ("real", lambda x: np.real(x) ** 2, V(4)),
    ("astype-float", lambda x: np.astype(x, np.float64) ** 2, V(4)),
    # 5. reduction keywords and ufunc methods
    ("sum-where", lambda x: np.sum(x, where=x > 0), V(7)),
    ("sum-where-axis", lambda x: np.sum(x, axis=1, where=x > 0), M34),
    ("sum-initial", lambda x: np.sum(x, axis=0, initial=2.5), M34),
    ("sum-dtype", lambda x: np.sum(x ** 2, dtype=np.float64), V(5)),
    ("prod-where", lambda x: np.prod(x, axis=1, where=x > 0, initial=2.0), M34),
    ("prod-initial", lambda x: np.prod(x, initial=-1.5), V(5)),
    ("max-initial", lambda x: np.max(x, axis=1, initial=0.0), M34),
    ("max-where", lambda x: np.max(x, axis=0, where=x < 1, initial=-5.0), M34),
    ("min-where", lambda x: np.min(x, where=x > -1, initial=3.0), M34),
    ("amax-initial", lambda x: np.amax(x, initial=1.5), V(6)),
    ("mean-where", lambda x: np.mean(x, axis=1, where=x > 0), M34),
    ("mean-where-full", lambda x: np.mean(x, where=x > 0), M34),
    ("max-where-tuple-axis", lambda x: np.max(x.reshape(2, 3, 2), axis=(0, 2), where=x.reshape(
        2, 3, 2) > 0, initial=-1.0), M34),
    ("fmax-reduce-where", lambda x: np.fmax.reduce(x, axis=1, where=x < 1, initial=-3.0), M34),
    ("add-reduce-where", lambda x: np.add.reduce(x, axis=0, where=x < 0), M34),
    ("maximum-reduce-initial", lambda x: np.maximum.reduce(x, axis=1, initial=0.5), M34),
    ("multiply-accumulate", lambda x: np.multiply.accumulate(x), V(5)),
    ("multiply-accumulate-axis", lambda x: np.multiply.accumulate(x, axis=1), M34),
    ("maximum-accumulate", lambda x: np.maximum.accumulate(x), V(7)),
    ("minimum-accumulate-axis", lambda x: np.minimum.accumulate(x, axis=1), M34),
    ("add-outer", lambda x: np.add.outer(x[:3], x[3:] ** 2), V(6)),
    ("multiply-outer", lambda x: np.multiply.outer(x[:2], x.reshape(2, 2)), V(4)),
    ("add-at", lambda x: _filled(np.add.at, x * 1.0, (0, [0, 0, 2]), x[1, :3] ** 2), M34),
    ("add-at-scalar", lambda x: _filled(np.add.at, x * 1.0, [0, 2, 0], x[1, 1]), M34),
    ("subtract-at", lambda x: _filled(np.subtract.at, x * 1.0, [1, 1], x[::2] * 2), M34),
    ("subtract-outer-const", lambda x: np.subtract.outer([1.0, 2.0], x), V(3)),
]


def _weights(shape):
    return (np.cos(np.arange(int(np.prod(shape)))) + 1.5).reshape(shape)


def _scalarised(f, shape):
    # a nonlinear scalar of the output, so the Hessian sees every entry
    w = _weights(shape)
    return lambda x: np.sum(np.sin(f(x)) * w)


@pytest.mark.parametrize("name,f,x", CASES, ids=[c[0] for c in CASES])
def test_first_order(name, f, x):
    with np.errstate(all="ignore"):
        ref_value = np.asarray(f(x))
        ref = fd_jacobian(f, x)
        J = dualml.jacobian(f, x, method="array")
        value, jv = dualml.jvp(f, x, np.cos(np.arange(x.size)).reshape(x.shape))
    assert np.shape(J) == ref.shape
    np.testing.assert_allclose(J, ref, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(value, ref_value, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(jv, ref.reshape(ref_value.shape + (-1,)) @ np.cos(
        np.arange(x.size)), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name,f,x", CASES, ids=[c[0] for c in CASES])
def test_second_order(name, f, x):
    with np.errstate(all="ignore"):
        g = _scalarised(f, np.shape(f(x)))
        ref = fd_hessian(g, x)
        H = dualml.hessian(g, x, method="array")
        # nested DualArrays: the Jacobian of the gradient
        Hn = dualml.jacobian(lambda y: dualml.gradient(g, y, method="array"), x,
                             method="array")
    np.testing.assert_allclose(H, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(Hn, ref, rtol=1e-5, atol=1e-6)


def test_case_count():
    assert len(CASES) >= 100


D = DualArray.seed(V(4))
D33 = DualArray.seed(M33)

UNSUPPORTED = [
    ("pad", lambda: np.pad(D, 1, constant_values=D[0])),
    ("pad", lambda: np.pad(D, 1, mode="linear_ramp", end_values=D[0])),
    ("interp", lambda: np.interp(D, XP, np.ones(5), period=D[0])),
    ("pad", lambda: np.pad(D, 1, mode="reflect", reflect_type="odd")),
    ("quantile", lambda: np.quantile(D, 0.5, method="weibull")),
    ("quantile", lambda: np.quantile(D, 0.5, weights=np.ones(4))),
    ("percentile", lambda: np.percentile(D, 50, out=np.zeros(()))),
    ("gradient", lambda: np.gradient(D, D)),
    ("trapezoid", lambda: np.trapezoid(D, dx=D[0])),
    ("sum", lambda: np.sum(D, dtype=np.float32)),
    ("cumprod", lambda: np.cumprod(D, dtype=np.float32)),
    ("var", lambda: np.var(D, out=np.zeros(()))),
    ("sort", lambda: np.sort(D, order="x")),
    ("cross", lambda: np.cross(D[:2], D[2:])),
    ("sum", lambda: np.sum(D, initial=D[0])),
    ("polyval", lambda: np.polyval(D33, 2.0)),
    ("divmod.outer", lambda: np.divmod.outer(D, D)),
    ("multiply", lambda: np.multiply.accumulate(D, dtype=np.float32)),
    ("logical_and.accumulate", lambda: np.logical_and.accumulate(D)),
    ("multiply.at", lambda: np.multiply.at(D * 1.0, [0], 2.0)),
    ("partition", lambda: np.partition(D, 2, order="x")),
    ("fft", lambda: np.fft.fft(D)),
    ("spacing", lambda: np.spacing(D)),
    ("astype", lambda: np.astype(D, np.float32)),
    ("ldexp", lambda: np.ldexp(2.0, D)),
    ("choose", lambda: np.choose([0, 1, 0, 1], [D, D], mode="wrap")),
]


@pytest.mark.parametrize("fname,call", UNSUPPORTED, ids=[f"{i}-{c[0]}" for i, c in
                                                         enumerate(UNSUPPORTED)])
def test_unsupported_raises_naming_it(fname, call):
    with pytest.raises(TypeError, match=fname.split(".")[-1]):
        call()


def test_max_where_needs_initial():
    # NumPy's own rule: a where mask on a reduction without identity needs initial
    with pytest.raises(ValueError, match="initial"):
        np.max(D, where=np.array([True, False, True, True]))


# The conventions of the table in docs/guide/conventions.md for the functions added here,
# checked against hand-computed values.

def test_sort_ties_follow_the_stable_order():
    # x = [1, 1, 0]: sorted [0, 1, 1]; position 1 holds element 0, position 2 element 1
    J = dualml.jacobian(np.sort, np.array([1.0, 1.0, 0.0]), method="array")
    np.testing.assert_array_equal(J, [[0, 0, 1], [1, 0, 0], [0, 1, 0]])


def test_interp_at_a_knot_takes_the_right_segment():
    xp, fp = [0.0, 1.0, 3.0], [0.0, 2.0, 3.0]
    assert dualml.jacobian(lambda x: np.interp(x, xp, fp), np.array([1.0]),
                           method="array")[0, 0] == 0.5
    assert dualml.jacobian(lambda x: np.interp(x, xp, fp), np.array([3.0]),
                           method="array")[0, 0] == 0.5
    assert dualml.jacobian(lambda x: np.interp(x, xp, fp), np.array([4.0]),
                           method="array")[0, 0] == 0.0


def test_heaviside_at_zero_follows_h0():
    J = dualml.jacobian(lambda z: np.heaviside(z[:2], z[2:]), np.array([0.0, 1.0, 0.5, 0.5]),
                        method="array")
    np.testing.assert_array_equal(J, [[0, 0, 1, 0], [0, 0, 0, 0]])


def test_round_fix_nan_to_num_zero_slopes():
    x = np.array([0.5, 1.5, -2.5, 0.3])
    for f in (np.round, np.fix, lambda y: np.round(y, 1)):
        assert not dualml.jacobian(f, x, method="array").any()
    # log(-1) = nan and log(0) = -inf are replaced by constants
    with np.errstate(all="ignore"):
        J = dualml.jacobian(lambda y: np.nan_to_num(np.log(y)), np.array([-1.0, 0.0]),
                            method="array")
    np.testing.assert_array_equal(J, np.zeros((2, 2)))


def test_sinc_second_derivative_at_zero():
    H = dualml.hessian(lambda x: np.sinc(x)[0], np.array([0.0]), method="array")
    assert H[0, 0] == pytest.approx(-np.pi ** 2 / 3, rel=1e-14)


# Two levels at once: d/dx of gradient_y g(x, y) makes the functions see
# operands of different tags (and constants) together.  Reference: mixed
# second differences of g itself.

def _S(r):
    return np.sum(np.sin(r) * _weights(np.shape(r)))


def _put(a, b):
    z = a * 1.0
    np.put(z, [0, 2], b[:2] ** 2)
    return _S(z)


def _add_at(a, b):
    z = a * 1.0
    np.add.at(z, [0, 0, 3], b[:3])
    return _S(z * a)


def _fill_diag(a, b):
    z = np.outer(a, a) * 1.0
    np.fill_diagonal(z, b)
    return _S(z)


def _put_along(a, b):
    z = np.outer(a, a) * 1.0
    np.put_along_axis(z, np.array([[1], [0], [3], [2]]), b[:, None], 1)
    return _S(z)


MIXED = [
    ("interp", lambda a, b: _S(np.interp(b, XP, np.concatenate([a, [0.3]])))),
    ("select", lambda a, b: _S(np.select([b > 0], [a * b], default=a))),
    ("choose", lambda a, b: _S(np.choose([0, 1, 1, 0], [a, b ** 2]))),
    ("block", lambda a, b: _S(np.block([a, b]) ** 2 * np.arange(8))),
    ("polyval", lambda a, b: _S(np.polyval(a, b))),
    ("convolve", lambda a, b: _S(np.convolve(a, b))),
    ("kron", lambda a, b: _S(np.kron(a, b))),
    ("cross", lambda a, b: _S(np.cross(a[:3], b[1:]))),
    ("trapezoid", lambda a, b: _S(np.trapezoid(a, x=np.cumsum(np.exp(b))))),
    ("average", lambda a, b: _S(np.average(a, weights=np.exp(b)))),
    ("diff-prepend", lambda a, b: _S(np.diff(a, prepend=b[:2]))),
    ("ediff1d", lambda a, b: _S(np.ediff1d(a, to_end=b))),
    ("append", lambda a, b: _S(np.append(a, b) * np.arange(8))),
    ("column_stack", lambda a, b: _S(np.column_stack([a, b * a]))),
    ("meshgrid", lambda a, b: _S(np.meshgrid(a, b)[0] * np.meshgrid(a, b)[1])),
    ("add.outer", lambda a, b: _S(np.add.outer(a, b) ** 2)),
    ("maximum.accumulate", lambda a, b: _S(np.maximum.accumulate(a * b))),
    ("sort", lambda a, b: _S(np.sort(a * b) * np.arange(4))),
    ("median", lambda a, b: _S(np.median(np.concatenate([a, b])))),
    ("nanmean", lambda a, b: _S(np.nanmean(a * b * [1, np.nan, 1, 1]))),
    ("std", lambda a, b: _S(np.std(a * b))),
    ("put", _put),
    ("add.at", _add_at),
    ("fill_diagonal", _fill_diag),
    ("put_along_axis", _put_along),
    ("insert", lambda a, b: _S(np.insert(a, 1, 2.0) * b[0])),
    ("pad", lambda a, b: _S(np.pad(a, 1, mode="reflect") * b[0])),
    ("vecdot", lambda a, b: _S(np.vecdot(a, b))),
    *since("2.2.0", ("matvec", lambda a, b: _S(np.matvec(np.outer(a, b), b)))),
    ("multi_dot", lambda a, b: _S(np.linalg.multi_dot([np.outer(a, b), np.outer(b, a), a])
                                  * 0.1)),
    ("heaviside", lambda a, b: _S(np.heaviside(a * [0, 1, 0, 1.0], b) * a)),
    ("sum-max-where-initial", lambda a, b: _S(np.sum(a * b, where=b > 0, initial=1.0)
                                              + np.max(a * b, where=a > 0, initial=-1.0))),
    ("sinc", lambda a, b: _S(np.sinc(a * b))),
    ("logaddexp2", lambda a, b: _S(np.logaddexp2(a, b))),
]


@pytest.mark.parametrize("name,g", MIXED, ids=[c[0] for c in MIXED])
def test_two_levels_mixed(name, g):
    x, y = V(4), V(4, lo=-1.4, hi=1.7, seed=3)
    with np.errstate(all="ignore"):
        H = fd_hessian(lambda z: g(z[:4], z[4:]), np.concatenate([x, y]))[4:, :4]
        M = dualml.jacobian(lambda xx: dualml.gradient(lambda yy: g(xx, yy), y,
                                                       method="array"), x, method="array")
    np.testing.assert_allclose(M, H, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape", [(10, 10), (3, 7), (7, 3), (4, 5, 6), (2, 3, 4, 5), (1, 1)])
def test_trace_and_diagonal_are_numpys_on_each_component(shape):
    # the handlers' fast forms (NumPy's trace / diagonal of the values and
    # of the tangents, axes counted from the end) against NumPy on each
    # direction's tangent on its own: the same bits, every offset and pair
    # of axes
    rng = np.random.default_rng(len(shape) * 10 + shape[0])
    x = DualArray(rng.standard_normal(shape), rng.standard_normal((3,) + shape))
    axes = [(0, 1), (1, 0), (-1, -2)] + ([(0, 2), (2, 0)] if len(shape) > 2 else [])
    for off in (0, 1, -1, 2):
        for ax in axes:
            r = np.trace(x, off, *ax)
            assert np.array_equal(r.value, np.trace(x.value, off, *ax))
            for j in range(3):
                assert np.array_equal(r.deriv[j], np.trace(x.deriv[j], off, *ax))
            g = np.diagonal(x, off, *ax)
            assert np.array_equal(g.value, np.diagonal(x.value, off, *ax))
            for j in range(3):
                assert np.array_equal(g.deriv[j], np.diagonal(x.deriv[j], off, *ax))
    with pytest.raises(ValueError):
        np.trace(x, 0, 1, 1)


def test_trace_of_an_undefined_sum_has_nan_tangents():
    # inf + -inf on the diagonal: nan value, nan tangents (the sums' domain
    # rule), where a nan entry keeps the map of the tangents
    x = DualArray(np.diag([np.inf, -np.inf, 1.0]), np.ones((2, 3, 3)))
    with np.errstate(invalid="ignore"):         # (NumPy's warning, as on the values)
        r = np.trace(x)
    assert np.isnan(r.value) and np.isnan(r.deriv).all()
    y = DualArray(np.diag([np.nan, 2.0]), np.ones((2, 2, 2)))
    r = np.trace(y)
    assert np.isnan(r.value) and np.array_equal(r.deriv, [2.0, 2.0])


@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 3, 4)])
def test_pad_constant_is_numpys_pad_of_each_component(shape):
    # the one-constant form (a filled array and zeros, the interior copied
    # in) against np.pad of the values and of each direction's tangent
    rng = np.random.default_rng(len(shape))
    x = DualArray(rng.standard_normal(shape), rng.standard_normal((2,) + shape))
    widths = [1, 0, 3, (1, 2)] + ([[(0, 1)] + [(2, 0)] * (len(shape) - 1)] if shape else [])
    for pw in widths:
        for cv in (0, 2.5, np.inf, -0.0, True):
            r = np.pad(x, pw, constant_values=cv)
            ref = np.pad(x.value, pw, constant_values=cv)
            assert np.array_equal(r.value, ref) and np.array_equal(np.signbit(r.value),
                                                                   np.signbit(ref))
            for j in range(2):
                assert np.array_equal(r.deriv[j], np.pad(x.deriv[j], pw))
    if shape:
        with pytest.raises(ValueError):
            np.pad(x, -1)


def test_interp_has_numpys_values():
    # NumPy's formula and fallbacks (slope (x - x0) + f0, the knots, the
    # other end where that is nan), bit for bit, on random points and on
    # infinite knot values; the slopes by the map of the tangents
    rng = np.random.default_rng(12)
    xp = np.array([-2.5, -0.7, 0.3, 1.3, 2.5])
    for _ in range(200):
        fp = rng.standard_normal(5)
        if rng.random() < 0.3:
            fp[rng.integers(0, 5)] = rng.choice([np.inf, -np.inf])
        xv = np.concatenate([rng.uniform(-3, 3, 6), xp[rng.integers(0, 5, 2)]])
        with np.errstate(invalid="ignore"):
            ref = np.interp(xv, xp, fp)
            r = np.interp(DualArray(xv, np.ones((1, 8))), xp, fp)
            q = np.interp(xv, xp, DualArray(fp, np.eye(5)))
        assert np.array_equal(r.value, ref, equal_nan=True)
        assert np.array_equal(q.value, ref, equal_nan=True)
    # the slope in x inside a segment: (f1 - f0) / (x1 - x0)
    fp = np.array([1.0, 2.0, -1.0, 0.5, 3.0])
    r = np.interp(DualArray(np.array([0.0, 2.0]), np.ones((1, 2))), xp, fp)
    np.testing.assert_allclose(r.deriv[0], [(-1.0 - 2.0) / 1.0, (3.0 - 0.5) / 1.2], rtol=1e-15)
