"""dualml.functional: the softmax family and the losses, values and derivatives.

References: mpmath at 30 digits and the analytic derivatives
(softmax Jacobian p_i(δ_ij - p_j), cross-entropy gradient p - t, BCE
gradient sigmoid(z) - y, ...).
"""
import math

import mpmath as mp
import numpy as np
import pytest

import dualml
from dualml import Dual, calculus
from dualml import functional as F

mp.mp.dps = 30


def _mp_softmax(x):
    e = [mp.exp(mp.mpf(t)) for t in x]
    s = mp.fsum(e)
    return [float(t / s) for t in e]


def _mp_lse(x):
    return float(mp.log(mp.fsum(mp.exp(mp.mpf(t)) for t in x)))


def _close(got, ref, rtol=1e-14, atol=0.0):
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert np.all(np.abs(got - ref) <= rtol * np.abs(ref) + atol), (got, ref)


X = [0.3, -1.2, 2.0, 0.7]


# -- softmax family -------------------------------------------------------------------------

def test_softmax_values_and_jacobian():
    p = _mp_softmax(X)
    _close(F.softmax(X), p)
    J = calculus.jacobian(F.softmax, X)
    ref = np.diag(p) - np.outer(p, p)                       # p_i (δ_ij - p_j)
    _close(J, ref, rtol=1e-13, atol=1e-17)


def test_log_softmax_and_logsumexp():
    p = _mp_softmax(X)
    lse = _mp_lse(X)
    _close(F.log_softmax(X), [t - lse for t in X])
    _close(F.logsumexp(X), lse)
    _close(calculus.gradient(F.logsumexp, X), p, rtol=1e-14)
    _close(calculus.hessian(F.logsumexp, X), np.diag(p) - np.outer(p, p), rtol=1e-13, atol=1e-17)
    _close(calculus.jacobian(F.log_softmax, X), np.eye(4) - np.tile(p, (4, 1)), rtol=1e-13,
           atol=1e-16)


def test_stability_for_large_logits():
    assert F.logsumexp([1000.0, 1000.0]) == 1000.0 + math.log(2.0)
    assert F.logsumexp([-1000.0, -1000.0]) == -1000.0 + math.log(2.0)
    _close(F.softmax([1000.0, 1000.0, 999.0]), _mp_softmax([1000, 1000, 999]))
    _close(F.log_softmax([1000.0, 0.0]), [-math.exp(-1000.0), -1000.0])
    g = calculus.gradient(F.logsumexp, [1000.0, 1000.0])
    assert g.tolist() == [0.5, 0.5]
    # infinities: a -inf logit has probability 0 and gets gradient 0
    assert F.logsumexp([-math.inf, 0.0]) == 0.0
    assert F.logsumexp([-math.inf, -math.inf]) == -math.inf
    assert calculus.gradient(F.logsumexp, [-math.inf, 0.0]).tolist() == [0.0, 1.0]


def test_shift_uses_values_only_so_derivatives_are_exact():
    # softmax is shift invariant; the shift must not add a derivative term
    d = F.softmax([Dual(5.0, 1.0), Dual(5.0, 0.0)])
    assert [t.value for t in d] == [0.5, 0.5]
    _close([t.deriv for t in d], [0.25, -0.25])


def test_axis_argument():
    A = np.array([[0.1, 0.5, -0.2], [2.0, 1.0, 0.0]])
    for axis in (0, 1, -1):
        p = F.softmax(A, axis=axis)
        ref = np.apply_along_axis(_mp_softmax, axis, A)
        _close(p, ref)
        _close(F.logsumexp(A, axis=axis), np.apply_along_axis(_mp_lse, axis, A))
        _close(F.log_softmax(A, axis=axis), A - np.expand_dims(
            np.apply_along_axis(_mp_lse, axis, A), axis), rtol=1e-14, atol=1e-16)
    assert F.logsumexp(A, axis=0).shape == (3,)
    # Jacobian of the column softmax of a matrix: blocks p (δ - p) per column
    J = calculus.jacobian(lambda M: F.softmax(M, axis=0), A)
    assert J.shape == (2, 3, 2, 3)
    p = F.softmax(A, axis=0)
    for c in range(3):
        _close(J[:, c, :, c], np.diag(p[:, c]) - np.outer(p[:, c], p[:, c]), atol=1e-17)
        for c2 in range(3):
            if c2 != c:
                assert not J[:, c, :, c2].any()


@pytest.mark.parametrize("fn", ["softmax", "log_softmax", "logsumexp"])
@pytest.mark.parametrize("axis", [None, "a", (0, 1), 2.5, True])
def test_axis_must_be_one_int(fn, axis):
    # it failed with Python's "'<=' not supported between int and NoneType"
    with pytest.raises(TypeError, match=rf"{fn}\(\): axis must be a single axis, an int"):
        getattr(F, fn)(np.ones((2, 3)), axis=axis)
    assert getattr(F, fn)(np.ones((2, 3)), axis=np.int64(0)).shape[-1] == 3


def test_inputs_of_every_kind():
    ref = _mp_softmax([1.0, 2.0])
    for x in ([1.0, 2.0], (1, 2), np.array([1.0, 2.0]), np.array([1, 2]),
              np.array([1.0, 2.0], dtype=object), [Dual(1.0, 0.0), 2.0]):
        got = F.softmax(x)
        _close([t.value if isinstance(t, Dual) else t for t in got], ref)
    assert F.softmax(np.zeros((2, 0))).shape == (2, 0)


def test_bad_inputs():
    with pytest.raises(TypeError, match="softmax"):
        F.softmax("abc")
    with pytest.raises(TypeError, match="x must"):
        F.logsumexp({"a": 1.0})
    with pytest.raises(ValueError, match="axis"):
        F.softmax([1.0, 2.0], axis=1)
    with pytest.raises(ValueError, match="at least one dimension"):
        F.softmax(1.0)
    with pytest.raises(ValueError, match="reduction"):
        F.mse([1.0], [1.0], reduction="avg")


# -- losses ---------------------------------------------------------------------------------

def test_cross_entropy_index_and_one_hot_targets():
    logits = np.array([[0.2, -1.0, 0.5], [1.5, 0.1, -0.3]])
    idx = np.array([2, 0])
    onehot = np.eye(3)[idx]
    ref = [_mp_lse(row) - row[k] for row, k in zip(logits, idx)]
    _close(F.cross_entropy(logits, idx, reduction="none"), ref)
    _close(F.cross_entropy(logits, onehot, reduction="none"), ref)
    _close(F.cross_entropy(logits, idx), sum(ref) / 2)
    _close(F.cross_entropy(logits, idx, reduction="sum"), sum(ref))
    _close(F.cross_entropy(logits[0], 2), ref[0])
    # gradient w.r.t. the logits: (softmax - onehot) / batch
    P = np.array([_mp_softmax(r) for r in logits])
    G = calculus.gradient(lambda z: F.cross_entropy(z, idx), logits)
    _close(G, (P - onehot) / 2, rtol=1e-13, atol=1e-17)
    # probability targets
    t = np.array([0.2, 0.3, 0.5])
    _close(calculus.gradient(lambda z: F.cross_entropy(z, t), logits[0]),
           np.array(_mp_softmax(logits[0])) - t, rtol=1e-13, atol=1e-17)


def test_cross_entropy_bad_targets():
    with pytest.raises(IndexError, match="class indices"):
        F.cross_entropy([0.0, 1.0], 2)
    with pytest.raises(IndexError, match="class indices"):
        F.cross_entropy([[0.0, 1.0]], [-1])
    with pytest.raises(ValueError, match="target must be"):
        F.cross_entropy([[0.0, 1.0]], [1.0, 0.0, 0.0])


def test_binary_cross_entropy_with_logits():
    z = np.array([-3.0, -0.5, 0.0, 0.7, 4.0, 30.0, 40.0])
    y = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])

    def ref_loss(zi, yi):
        s = 1 / (1 + mp.exp(-mp.mpf(zi)))
        return float(-(yi * mp.log(s) + (1 - yi) * mp.log(1 - s)))

    def ref_grad(zi, yi):
        return float(1 / (1 + mp.exp(-mp.mpf(zi))) - yi)
    _close(F.binary_cross_entropy_with_logits(z, y, reduction="none"),
           [ref_loss(a, b) for a, b in zip(z, y)], rtol=1e-14)
    # accurate where the naive softplus(z) - z*y cancels (z = 30, 40 and y = 1)
    g = calculus.gradient(lambda t: F.binary_cross_entropy_with_logits(t, y, reduction="sum"), z)
    _close(g, [ref_grad(a, b) for a, b in zip(z, y)], rtol=1e-13)
    # no overflow at extreme logits
    assert F.binary_cross_entropy_with_logits([1000.0, -1000.0], [1.0, 0.0]) == 0.0
    assert F.binary_cross_entropy_with_logits([1000.0], [0.0]) == 1000.0


def test_mse_hinge_penalties():
    p, t = [1.0, 2.0, -1.0], [0.5, 2.5, 0.0]
    _close(F.mse(p, t), (0.25 + 0.25 + 1.0) / 3)
    _close(calculus.gradient(lambda q: F.mse(q, t), p), [2 * (a - b) / 3 for a, b in zip(p, t)])
    s, lab = [2.0, 0.5, -0.3, -2.0], [1, 1, -1, 1]
    _close(F.hinge(s, lab, reduction="none"), [0.0, 0.5, 0.7, 3.0])
    # d/ds max(0, 1 - y s) = -y where the margin is violated, 0 where it is met
    _close(calculus.gradient(lambda q: F.hinge(q, lab, reduction="sum"), s), [0.0, -1.0, 1.0, -1.0])
    # the kink y s = 1 follows maximum's tie convention: half of each slope
    assert calculus.gradient(lambda q: F.hinge(q, [1]), [1.0]).tolist() == [-0.5]
    w = [1.5, -2.0, 0.0, 0.25]
    _close(F.l1_penalty(w, alpha=0.1), 0.1 * 3.75)
    _close(F.l2_penalty(w, alpha=0.1), 0.05 * (2.25 + 4 + 0.0625))
    _close(calculus.gradient(lambda v: F.l2_penalty(v, alpha=0.1), w), [0.1 * t for t in w])
    g = calculus.gradient(lambda v: F.l1_penalty(v, alpha=0.1), w)
    _close(g[[0, 1, 3]], [0.1, -0.1, 0.1])
    assert g[2] == 0.1 * dualml.absolute(Dual(0.0, 1.0)).deriv   # absolute's kink convention


def test_hinge_labels_must_be_signs():
    with pytest.raises(ValueError, match="-1 or \\+1"):
        F.hinge([1.0, 2.0], [0, 1])


def test_losses_on_batches_of_duals_in_a_training_step():
    # one gradient step of a linear classifier with every loss: finite, right shape
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    w0 = rng.normal(size=3)
    losses = [
        lambda w: F.binary_cross_entropy_with_logits(X @ w, y.astype(float)),
        lambda w: F.hinge(X @ w, 2 * y - 1) + F.l2_penalty(w, 0.1),
        lambda w: F.mse(X @ w, y.astype(float)) + F.l1_penalty(w, 0.01),
        lambda w: F.cross_entropy(np.outer(X @ w, [1.0, -1.0]), y),
    ]
    for loss in losses:
        v, g = calculus.value_and_gradient(loss, w0)
        assert np.isfinite(v) and g.shape == (3,) and np.all(np.isfinite(g))
        # a small step along -g lowers the loss (the gradient is a descent direction)
        assert loss(w0 - 1e-4 * g) < v


def test_public_names():
    for name in F.__all__:
        assert getattr(dualml, name) is getattr(F, name)
        assert "Examples" in getattr(F, name).__doc__
