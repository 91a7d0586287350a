"""NumPy functions on the pattern tracer (dualml/sparse/_numpy_api.py).

Reference: central finite differences of the plain float function at a
generic point.  Shape functions and joins are exact (pattern == nonzeros of
the difference quotient); nonlinear functions must cover it.
"""
import doctest

import numpy as np
import pytest

import dualml
from dualml.sparse import detect

RNG = np.random.default_rng(7)


def fd_pattern(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    y0 = np.ravel(f(x))
    J = np.zeros((y0.size, x.size))
    for j in range(x.size):
        e = np.zeros(x.size)
        e[j] = h
        J[:, j] = (np.ravel(f(x + e.reshape(x.shape))) - np.ravel(f(x - e.reshape(x.shape)))) / (2 * h)
    return np.abs(J) > 1e-7


X12 = RNG.uniform(0.5, 2.0, 12) * RNG.choice([-1, 1], 12)

EXACT = {   # linear position maps: the pattern is exactly the finite-difference one
    "reshape": lambda x: np.reshape(x, (3, 4)).T[1:],
    "ravel_F": lambda x: x.reshape(3, 4).ravel(order="F"),
    "transpose": lambda x: np.transpose(x.reshape(2, 3, 2), (2, 0, 1)),
    "swapaxes": lambda x: np.swapaxes(x.reshape(3, 4), 0, 1),
    "moveaxis": lambda x: np.moveaxis(x.reshape(2, 3, 2), 0, -1),
    "flip": lambda x: np.flip(x.reshape(3, 4), axis=1),
    "fliplr_ud": lambda x: np.flipud(np.fliplr(x.reshape(3, 4))),
    "roll": lambda x: np.roll(x.reshape(3, 4), (1, -1), axis=(0, 1)),
    "rot90": lambda x: np.rot90(x.reshape(3, 4)),
    "squeeze": lambda x: np.squeeze(np.expand_dims(x, 0)),
    "broadcast_to": lambda x: np.broadcast_to(x[:4], (3, 4)) * 1.0,
    "atleast": lambda x: np.atleast_2d(x[:3]) + np.atleast_3d(x[3:6]),
    "diagonal": lambda x: np.diagonal(x[:9].reshape(3, 3)),
    "tile_repeat": lambda x: np.concatenate([np.tile(x[:2], 3), np.repeat(x[2:4], 2)]),
    "take": lambda x: np.take(x, [3, 1, 1, 11]) + np.take_along_axis(
        x.reshape(3, 4), np.array([[0], [3], [1]]), axis=1).ravel()[0],
    "triu_tril": lambda x: np.triu(x[:9].reshape(3, 3)) - 2 * np.tril(x[:9].reshape(3, 3), -1),
    "pad": lambda x: np.pad(x[:4], 2) + np.pad(x[4:8], (1, 3), mode="edge")
    + np.pad(x[8:], 2, mode="reflect"),
    "split": lambda x: np.split(x, 3)[1] * np.array_split(x, 4)[0][0],
    "hvsplit": lambda x: np.vsplit(x.reshape(4, 3), 2)[1] + np.hsplit(x.reshape(2, 6), 2)[0],
    "delete_resize": lambda x: np.concatenate([np.delete(x, [0, 5]), np.resize(x[:5], 7)]),
    "copy": lambda x: np.copy(x) + x.copy(),
    "concatenate": lambda x: np.concatenate([x[:3], [1.0, 2.0], x[7:]]),
    "stack": lambda x: np.stack([x[:4], x[4:8], np.ones(4)], axis=1),
    "hvdstack": lambda x: np.hstack([x[:2], x[5:6]]) + np.vstack([x[:3], x[3:6]]).sum(0)
    + np.dstack([x[:3], x[6:9]]).sum(),
    "column_stack": lambda x: np.column_stack([x[:4], x[8:]]),
    "append": lambda x: np.append(x[:3], x[9:]),
    "where": lambda x: np.where(x > 0, x, 2 * x[::-1]) + np.where(x, 1.0, 0.0),
    "select": lambda x: np.select([x < -1, x < 1], [x, x[::-1]], default=3.0),
    "getitem_fancy": lambda x: x.reshape(3, 4)[[0, 2], 1:3] + x[x > 0][:1].sum(),
    "sum_axis": lambda x: np.sum(x.reshape(3, 4), axis=0) + x.reshape(3, 4).mean(axis=1)[0],
    "cumsum": lambda x: np.cumsum(x.reshape(3, 4), axis=1),
    "cumsum_flat": lambda x: np.add.accumulate(x),
    "diff": lambda x: np.concatenate([np.diff(x.reshape(3, 4), axis=0).ravel(),
                                      np.diff(x[:5], 2, prepend=0.0, append=1.0)]),
    "trace": lambda x: np.trace(x[:9].reshape(3, 3)) * np.ones(2),
    "matmul_const": lambda x: np.array([[1.0, 0, 2], [0, 0, 1]]) @ x[:6].reshape(3, 2),
    "dot_const": lambda x: np.dot(x[:3], np.array([[1.0, 0], [0, 0], [0, 3.0]])),
    "max_axis": lambda x: np.max(x.reshape(3, 4), axis=1) + np.min(x),
    "ptp": lambda x: np.ptp(x[:5]) * np.ones(1),
    "sort": lambda x: np.sort(x.reshape(3, 4), axis=0),
    "clip": lambda x: np.clip(x, -1.0, 1.0),
    "like": lambda x: np.zeros_like(x) + np.ones_like(x) * x[0] + np.full_like(x, 2.0),
    "add_reduce": lambda x: np.add.reduce(x.reshape(3, 4), axis=1),
    "einsum_const": lambda x: np.einsum("ij,jk->ki", np.array([[1.0, 0, 2], [0, 0, 1]]),
                                        x[:6].reshape(3, 2)),
}

COVERED = {  # nonlinear: the pattern covers the finite-difference one
    "prod": lambda x: np.prod(x.reshape(3, 4), axis=1),
    "cumprod": lambda x: np.cumprod(x[:5]),
    "std_var": lambda x: np.concatenate([np.std(x.reshape(3, 4), axis=0),
                                         [np.var(x[:3], ddof=1)]]),
    "norm": lambda x: np.stack([np.linalg.norm(x[:3]), np.linalg.norm(x[3:6], 1),
                                np.linalg.norm(x[6:9], np.inf)]),
    "matmul_traced": lambda x: x[:6].reshape(2, 3) @ x[6:].reshape(3, 2),
    "outer_inner": lambda x: np.outer(x[:2], x[2:4]).ravel() + np.inner(x[4:6], x[6:8])
    + np.vdot(x[8:10], x[10:]),
    "power": lambda x: np.abs(x[:4]) ** x[4:8] + np.abs(x[8:]) ** 0.5,
    "mixed_ufuncs": lambda x: np.hypot(x[:6], x[6:]) + np.arctan2(x[:6], x[6:])
    + np.logaddexp(x[:6], x[6:]) + np.fmax(x[:6], x[6:]) + np.copysign(x[:6], x[6:]),
    "dualml_functions": lambda x: dualml.sigmoid(x) + dualml.leaky_relu(x, 0.2)
    + dualml.elu(x) + dualml.softplus(x[::-1]),
    "average": lambda x: np.average(x.reshape(3, 4), axis=0) * x[:4],
    "remainder": lambda x: np.remainder(x[:6], 0.7) + np.fmod(x[6:], x[:6] + 3.0),
    "degrees": lambda x: np.deg2rad(x) * np.rad2deg(x[::-1]),
    "einsum_traced": lambda x: np.concatenate([
        np.einsum("ij,jk->ki", x[:4].reshape(2, 2), x[4:8].reshape(2, 2)).ravel(),
        np.atleast_1d(np.einsum("i,i", x[8:], x[:4])), np.einsum("i,j", x[:2], x[2:4]).ravel(),
        np.einsum("ij->j", x.reshape(3, 4))]),
}


@pytest.mark.parametrize("name", sorted(EXACT))
def test_exact_gathers(name):
    f = EXACT[name]
    P = dualml.jacobian_sparsity(f, X12).toarray()
    assert (P == fd_pattern(f, X12)).all()


@pytest.mark.parametrize("name", sorted(COVERED))
def test_covers_finite_differences(name):
    f = COVERED[name]
    P = dualml.jacobian_sparsity(f, X12).toarray()
    D = fd_pattern(f, X12)
    assert (D & ~P).sum() == 0
    assert P.shape == D.shape


def test_values_only_functions():
    def f(x):
        i = int(np.argmax(x))
        k = np.argsort(x)[:2]
        ok = np.allclose(x, x) and np.any(x > 0) and np.count_nonzero(x) == x.size
        return x[i] * x[k] * (np.round(x[:2]) if ok else 1.0)
    x = np.array([0.3, 2.0, -1.0, 0.5])
    P = dualml.jacobian_sparsity(f, x).toarray()
    assert P.astype(int).tolist() == [[0, 1, 1, 0], [1, 1, 0, 0]]


def test_out_argument():
    def f(x):
        r = np.zeros_like(x)
        np.multiply(x, 2.0, out=r)
        return r
    assert dualml.jacobian_sparsity(f, np.ones(3)).toarray().tolist() == np.eye(3).tolist()
    with pytest.raises(TypeError, match="out="):
        dualml.jacobian_sparsity(lambda x: np.sin(x, out=np.zeros(3)), np.ones(3))


@pytest.mark.parametrize("spec", ["ii->i", "...i,i", "ij,jk"])
def test_einsum_limits_raise(spec):
    ops = (np.ones((2, 2)),) if spec == "ii->i" else (np.ones((2, 2)), np.ones(2)) \
        if spec == "...i,i" else (np.ones((2, 2)),)
    f = lambda x: np.einsum(spec, x.reshape(2, 2), *ops[1:])
    with pytest.raises(TypeError, match="einsum"):
        dualml.jacobian_sparsity(f, np.ones(4))


@pytest.mark.parametrize("f", [
    lambda x: np.pad(x, 2, mode="mean"),
    lambda x: np.pad(x, 2, mode="linear_ramp"),
    lambda x: np.pad(x, 2, "reflect", reflect_type="odd"),
    lambda x: np.pad(x, 2, mode="empty"),
    lambda x: np.take(x, [0, 1], out=np.zeros(2)),
    lambda x: np.concatenate([x, x], out=np.zeros(8)),
])
def test_functions_that_compute_or_write_elsewhere_raise(f):
    with pytest.raises(TypeError, match="pad|out="):
        dualml.jacobian_sparsity(f, np.ones(4))


def test_docstring_examples_run():
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for fn in (detect.jacobian_sparsity, detect.hessian_sparsity):
        for t in finder.find(fn, fn.__name__, globs={}):
            runner.run(t)
    assert runner.failures == 0 and runner.tries >= 6


def test_sort_with_ties_is_conservative():
    # which of two equal elements lands first is a convention: both enter both places
    f = lambda x: np.sort(x.reshape(2, 3) * np.array([1.0, 1.0, 2.0]), axis=1)
    P = dualml.jacobian_sparsity(f, np.array([1.0, 1.0, 0.2, 2.0, 1.0, 1.0])).toarray()
    assert P.astype(int).tolist() == [[0, 0, 1, 0, 0, 0], [1, 1, 0, 0, 0, 0],
                                      [1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 0],
                                      [0, 0, 0, 1, 0, 1], [0, 0, 0, 1, 0, 1]]
    Q = dualml.jacobian_sparsity(lambda x: np.sort(x, axis=None), np.zeros(3)).toarray()
    assert Q.all()
