"""Losses and vector functions of machine learning, differentiable by dualml.

Design
------
* Written once with NumPy reductions and dualml's elementwise functions, so
  the same code runs on float arrays (NumPy speed), object arrays/lists of
  Duals (the scalar calculus path) and DualArray (its ``__dualml_function__``
  hook and NumPy protocols).
* Stability shifts (softmax, logsumexp) subtract max of the VALUES, a plain
  float array: max is piecewise constant and softmax(x - c) = softmax(x)
  exactly for any constant c, so no derivative is lost or added.
* Losses average over the samples (``reduction="mean"``) like PyTorch and
  scikit-learn; ``"sum"`` and ``"none"`` are available.
"""
import numbers

import numpy as np

from .dual import Dual, exp, log, softplus, maximum, absolute

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy",
           "binary_cross_entropy_with_logits", "mse", "hinge",
           "l1_penalty", "l2_penalty"]


# -- helpers ---------------------------------------------------------------------------

def _is_duck(a):
    # DualArray and friends: they implement dualml's functions themselves.
    return getattr(type(a), "__dualml_function__", None) is not None


def _asarray(x, name, fname):
    if _is_duck(x) or isinstance(x, np.ndarray):
        a = x
    elif isinstance(x, (list, tuple, Dual, float, int, np.generic)):
        a = np.asarray(x)       # floats -> float64; any Dual -> object array
    else:
        raise TypeError(f"{fname}(): {name} must be a real number, a Dual, or a "
                        f"sequence/array of them, not {type(x).__name__}")
    if isinstance(a, np.ndarray) and a.dtype.kind not in "biufO":
        raise TypeError(f"{fname}(): {name} must hold real numbers or Duals, not "
                        f"{a.dtype}")
    if isinstance(a, np.ndarray) and a.dtype.kind in "biu":
        a = a.astype(np.float64)
    return a


def _primal(e):
    while isinstance(e, Dual):
        e = e.value
    return float(e)


_PRIMAL = np.frompyfunc(_primal, 1, 1)


def _values(a):
    """The innermost values of a, as a float ndarray of the same shape."""
    if isinstance(a, np.ndarray):
        if a.dtype != object:
            return a
        return np.asarray(_PRIMAL(a), dtype=np.float64) if a.size else np.zeros(a.shape)
    value = a.value             # DualArray: its (float) value array
    while _is_duck(value):
        value = value.value
    return np.asarray(value, dtype=np.float64)


def _exp(a):
    # np.exp is the fast path for floats; dualml.exp handles Duals mixed with
    # floats (np.exp on such an object array would look for float.exp).
    if isinstance(a, np.ndarray) and a.dtype != object:
        return np.exp(a)
    return exp(a)


def _log(a):
    if isinstance(a, np.ndarray) and a.dtype != object:
        with np.errstate(divide="ignore"):     # log(0) = -inf is the answer
            return np.log(a)
    return log(a)


def _scalar(r):
    # A 0-d result as a float or a Dual (not a 0-d array).
    if isinstance(r, np.ndarray) and r.ndim == 0:
        r = r[()]
    if isinstance(r, np.floating):
        r = float(r)
    return r


def _shift(a, axis):
    """max of the values along axis (kept), 0 where it is not finite."""
    v = _values(a)
    if v.size == 0:
        return 0.0
    m = np.max(v, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


def _check_axis(a, axis, fname):
    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"{fname}(): axis must be a single axis, an int (tuples and None "
                        f"are not supported); got {axis!r}")
    axis = int(axis)
    ndim = np.ndim(a) if not _is_duck(a) else len(a.shape)
    if ndim == 0:
        raise ValueError(f"{fname}(): x must have at least one dimension")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{fname}(): axis {axis} is out of range for an array of "
                         f"{ndim} dimension(s)")


def _reduce(loss, reduction, fname):
    if not isinstance(loss, np.ndarray) and not _is_duck(loss):
        loss = np.asarray(loss)     # one sample: a Dual or float
    if reduction == "mean":
        n = int(np.size(loss)) if not _is_duck(loss) else int(np.prod(loss.shape))
        if n == 0:
            raise ValueError(f"{fname}(): the mean of an empty batch is undefined")
        return _scalar(np.sum(loss) / n)
    if reduction == "sum":
        return _scalar(np.sum(loss))
    if reduction == "none":
        return loss
    raise ValueError(f"{fname}(): reduction must be 'mean', 'sum' or 'none', "
                     f"got {reduction!r}")


# -- the softmax family ---------------------------------------------------------------

def softmax(x, axis=-1):
    """``p_i = exp(x_i) / Σ_j exp(x_j)`` along ``axis``, computed stably.

    Parameters
    ----------
    x : sequence or ndarray of real numbers or Duals, or a DualArray
        The logits.
    axis : int, optional
        The axis over which the probabilities sum to 1 (the last by default).

    Returns
    -------
    ndarray
        Shape ``x.shape``; Jacobian ``∂p_i/∂x_j = p_i (δ_ij - p_j)``.

    Raises
    ------
    TypeError
        If x is not real (numbers, Duals or a DualArray) or axis is not an int.
    ValueError
        If x is 0-d or axis is out of range.

    See Also
    --------
    log_softmax : its logarithm, computed without forming p.
    logsumexp : the normaliser ``log Σ exp(x)``.

    Examples
    --------
    >>> import dualml
    >>> dualml.softmax([0.0, 0.0, 0.0, 0.0])
    array([0.25, 0.25, 0.25, 0.25])
    >>> dualml.softmax([1000.0, 1000.0])
    array([0.5, 0.5])
    """
    a = _asarray(x, "x", "softmax")
    _check_axis(a, axis, "softmax")
    e = _exp(a - _shift(a, axis))
    return e / np.sum(e, axis=axis, keepdims=True)


def log_softmax(x, axis=-1):
    """``log p_i = x_i - logsumexp(x)`` along ``axis``, computed stably.

    Parameters
    ----------
    x : sequence or ndarray of real numbers or Duals, or a DualArray
        The logits.
    axis : int, optional
        The axis of the classes (the last by default).

    Returns
    -------
    ndarray
        Shape ``x.shape``.

    Raises
    ------
    TypeError
        If x is not real (numbers, Duals or a DualArray) or axis is not an int.
    ValueError
        If x is 0-d or axis is out of range.

    See Also
    --------
    softmax : the probabilities themselves.
    cross_entropy : the loss built on it.

    Examples
    --------
    >>> import dualml
    >>> dualml.log_softmax([0.0, 0.0])
    array([-0.69314718, -0.69314718])
    """
    a = _asarray(x, "x", "log_softmax")
    _check_axis(a, axis, "log_softmax")
    z = a - _shift(a, axis)
    return z - _log(np.sum(_exp(z), axis=axis, keepdims=True))


def logsumexp(x, axis=-1):
    """``log Σ_i exp(x_i)`` along ``axis``, without overflow.

    Parameters
    ----------
    x : sequence or ndarray of real numbers or Duals, or a DualArray
        The terms.
    axis : int, optional
        The axis summed over (the last by default).

    Returns
    -------
    float, Dual or ndarray
        ``x.shape`` without ``axis`` (a scalar for a 1-d x).  Its gradient is
        ``softmax(x)``.

    Raises
    ------
    TypeError
        If x is not real (numbers, Duals or a DualArray) or axis is not an int.
    ValueError
        If x is 0-d or axis is out of range.

    See Also
    --------
    softmax : its gradient, ``∂ logsumexp / ∂x = softmax(x)``.
    logaddexp : the two-argument form, elementwise.

    Examples
    --------
    >>> import dualml, math
    >>> dualml.logsumexp([1000.0, 1000.0]) == 1000.0 + math.log(2.0)
    True
    """
    a = _asarray(x, "x", "logsumexp")
    _check_axis(a, axis, "logsumexp")
    m = _shift(a, axis)
    r = _log(np.sum(_exp(a - m), axis=axis, keepdims=True)) + m
    return _scalar(np.squeeze(r, axis=axis))


# -- losses ---------------------------------------------------------------------------------

def cross_entropy(logits, target, reduction="mean"):
    """Cross-entropy of softmax(logits) against a target: ``-Σ_c t_c log p_c``.

    Parameters
    ----------
    logits : array_like, shape (..., C)
        Unnormalized class scores (floats, Duals or a DualArray).
    target : int, array_like of int of shape (...), or array_like of shape (..., C)
        Class indices, or one-hot/probability vectors over the C classes
        (decided by the shape: the shape of ``logits`` means vectors).
    reduction : {"mean", "sum", "none"}, optional
        Mean over the samples (default), their sum, or the per-sample losses.

    Returns
    -------
    float, Dual or ndarray
        A scalar, or shape ``logits.shape[:-1]`` for ``reduction="none"``.
        The gradient with respect to the logits is ``softmax(logits) - t``
        (divided by the number of samples for "mean").

    Raises
    ------
    IndexError
        If a class index is outside ``[0, C)``.
    ValueError
        If target has neither the shape of class indices nor that of
        logits, or reduction is not 'mean', 'sum' or 'none'.

    See Also
    --------
    log_softmax : the log-probabilities it is built on.
    binary_cross_entropy_with_logits : the two-class form with one logit.

    Examples
    --------
    >>> import dualml, math
    >>> abs(dualml.cross_entropy([0.0, 0.0, 0.0], 2) - math.log(3)) < 1e-15
    True
    >>> dualml.cross_entropy([[0.0, 0.0], [0.0, 0.0]], [[1, 0], [0, 1]])
    0.6931471805599453
    """
    lsm = log_softmax(logits, axis=-1)
    shape = lsm.shape
    t = target if _is_duck(target) else np.asarray(target)
    tshape = t.shape
    if tshape == shape:                                 # one-hot / probabilities
        per_sample = -np.sum(t * lsm, axis=-1)
    elif tshape == shape[:-1] and isinstance(t, np.ndarray) and t.dtype.kind in "iub":
        n_classes = shape[-1]
        idx = t.astype(np.intp)
        if np.any((idx < 0) | (idx >= n_classes)):
            raise IndexError(f"cross_entropy(): class indices must lie in [0, {n_classes}), "
                             f"got {t[(idx < 0) | (idx >= n_classes)].ravel()[0]}")
        per_sample = -np.take_along_axis(lsm, idx[..., None], axis=-1)[..., 0]
    else:
        raise ValueError(f"cross_entropy(): target must be class indices of shape "
                         f"{shape[:-1]} (integers) or one-hot/probability vectors of shape "
                         f"{shape}; got shape {tshape} and dtype "
                         f"{getattr(t, 'dtype', type(t).__name__)}")
    return _reduce(per_sample, reduction, "cross_entropy")


def binary_cross_entropy_with_logits(logits, targets, reduction="mean"):
    """Binary cross-entropy of sigmoid(z) against targets y in [0, 1], stably:
    ``y softplus(-z) + (1 - y) softplus(z)``.

    Parameters
    ----------
    logits : array_like
        The logits z (floats, Duals or a DualArray); no overflow for any z.
    targets : array_like
        The targets y, broadcastable against the logits (0/1 labels or
        probabilities).
    reduction : {"mean", "sum", "none"}, optional
        Mean over the elements (default), their sum, or the elementwise losses.

    Returns
    -------
    float, Dual or ndarray
        A scalar, or the shape of the broadcast inputs for "none".  The
        derivative with respect to z is ``sigmoid(z) - y``.

    Raises
    ------
    TypeError
        If logits or targets are not real numbers, Duals, or arrays of them.
    ValueError
        If reduction is not 'mean', 'sum' or 'none', or a mean is taken over
        an empty batch.

    See Also
    --------
    cross_entropy : the multi-class form.
    log_sigmoid : the stable ``log σ(x)`` it is built on.

    Examples
    --------
    >>> import dualml
    >>> dualml.binary_cross_entropy_with_logits([0.0], [1.0])
    0.6931471805599453
    >>> dualml.binary_cross_entropy_with_logits([1000.0, -1000.0], [1.0, 0.0])
    0.0
    """
    z = _asarray(logits, "logits", "binary_cross_entropy_with_logits")
    y = _asarray(targets, "targets", "binary_cross_entropy_with_logits")
    # Each softplus term is evaluated where it is accurate; the form
    # softplus(z) - z*y would cancel catastrophically for large z and y = 1.
    loss = y * softplus(-z) + (1.0 - y) * softplus(z)
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def mse(pred, target, reduction="mean"):
    """Mean squared error ``mean((pred - target)**2)``.

    Parameters
    ----------
    pred, target : array_like
        Predictions and targets, broadcastable against each other.
    reduction : {"mean", "sum", "none"}, optional
        Mean (default), sum, or the elementwise squared errors.

    Returns
    -------
    float, Dual or ndarray

    Raises
    ------
    TypeError
        If pred or target are not real numbers, Duals, or arrays of them.
    ValueError
        If reduction is not 'mean', 'sum' or 'none', or a mean is taken over
        an empty batch.

    See Also
    --------
    l2_penalty : the squared norm of a parameter vector.

    Examples
    --------
    >>> import dualml
    >>> dualml.mse([1.0, 2.0], [0.0, 0.0])
    2.5
    """
    p = _asarray(pred, "pred", "mse")
    t = _asarray(target, "target", "mse")
    r = p - t
    return _reduce(r * r, reduction, "mse")


def hinge(scores, labels, reduction="mean"):
    """Hinge loss ``max(0, 1 - y s)`` of scores s against labels y in {-1, +1}.

    Parameters
    ----------
    scores : array_like
        Decision values s.
    labels : array_like
        Labels, each -1 or +1.
    reduction : {"mean", "sum", "none"}, optional
        Mean (default), sum, or the elementwise losses.

    Returns
    -------
    float, Dual or ndarray
        At the kink ``y s = 1`` the derivative follows dualml.maximum's
        convention for ties (half of each side's slope).

    Raises
    ------
    ValueError
        If a label is not -1 or +1.

    See Also
    --------
    binary_cross_entropy_with_logits : a smooth loss for the same labels.
    maximum : whose tie convention gives the slope at the hinge.

    Examples
    --------
    >>> import dualml
    >>> dualml.hinge([2.0, 0.5, -1.0], [1, 1, 1])
    0.8333333333333334
    """
    s = _asarray(scores, "scores", "hinge")
    y = _asarray(labels, "labels", "hinge")
    yv = _values(y) if not _is_duck(y) else y
    if not np.all((yv == 1) | (yv == -1)):
        raise ValueError("hinge(): labels must be -1 or +1 (for 0/1 labels use 2*y - 1)")
    return _reduce(maximum(0.0, 1.0 - y * s), reduction, "hinge")


def l1_penalty(w, alpha=1.0):
    """The lasso penalty ``alpha * Σ |w_i|``.

    Parameters
    ----------
    w : array_like
        Weights.
    alpha : float, optional
        Strength.

    Returns
    -------
    float or Dual
        Its derivative is ``alpha * sign(w_i)``; at ``w_i = 0`` it follows
        dualml.absolute's convention.

    Raises
    ------
    TypeError
        If w is not a real number, a Dual, or a sequence/array of them.

    See Also
    --------
    l2_penalty : the squared-norm penalty.
    absolute : whose convention gives slope 0 at ``w_i = 0``.

    Examples
    --------
    >>> import dualml
    >>> dualml.l1_penalty([1.0, -2.0], alpha=0.5)
    1.5
    """
    a = _asarray(w, "w", "l1_penalty")
    return _scalar(alpha * np.sum(absolute(a)))


def l2_penalty(w, alpha=1.0):
    """The ridge penalty ``alpha / 2 * Σ w_i**2`` (gradient ``alpha * w``, i.e.
    weight decay alpha).

    Parameters
    ----------
    w : array_like
        Weights.
    alpha : float, optional
        Strength.

    Returns
    -------
    float or Dual

    Raises
    ------
    TypeError
        If w is not a real number, a Dual, or a sequence/array of them.

    See Also
    --------
    l1_penalty : the absolute-value penalty.

    Examples
    --------
    >>> import dualml
    >>> dualml.l2_penalty([1.0, -2.0], alpha=0.5)
    1.25
    """
    a = _asarray(w, "w", "l2_penalty")
    return _scalar(0.5 * alpha * np.sum(a * a))
