"""Uncertainty propagation by the delta method: exact Jacobians, J Σ Jᵀ.

Design
------
* The inputs are summarised by a mean μ and a covariance Σ (or independent
  standard deviations); the output covariance is the first-order (linearised)
  ``J Σ Jᵀ`` with the exact Jacobian at μ from ``dualml.value_and_jacobian``.
  No distribution is assumed for that; it is exact for an affine f.
* ``second_order=True`` adds ``½ tr(H_i Σ)`` to each output mean (exact for a
  quadratic f under any input distribution with that mean and covariance).
  A scalar f uses ``dualml.hessian``; a vector f one Jacobian of its Jacobian
  (n² evaluations on the scalar path for all outputs, instead of m Hessians).
  The covariance stays first-order.
* f receives μ as ``dualml.jacobian`` would: a list of floats for a list or
  tuple, a float ndarray (the DualArray backend) for an ndarray; ``args`` and
  ``method`` are passed through.  Inputs are validated here, once.
* Inputs with zero variance are held fixed: their (possibly infinite)
  derivatives are reported in ``jacobian`` but do not enter cov or mean.
"""
import dataclasses

import numpy as np

from .calculus import hessian, jacobian, value_and_jacobian
from .sensitivity import _pandas

__all__ = ["propagate", "PropagationResult"]

# Relative tolerance of the symmetry and positive-semi-definiteness checks on
# cov: far above rounding in a covariance built by arithmetic, far below any
# real asymmetry or negative variance.
_TOL = 1e-10


@dataclasses.dataclass
class PropagationResult:
    """propagate()'s result.

    Examples
    --------
    >>> import dualml
    >>> r = dualml.propagate(lambda x: 2 * x[0] + x[1], [1.0, 1.0], [[1.0, 0.0], [0.0, 4.0]])
    >>> r.mean, r.std                 # var = 4 * 1 + 1 * 4
    (3.0, 2.8284271247461903)

    Attributes
    ----------
    mean : float or ndarray
        The output mean: f(μ), or f(μ) + ½ tr(H Σ) with ``second_order=True``.
        A float for a scalar f, shape (m,) for a vector f.
    cov : float or ndarray
        ``J Σ Jᵀ``: the output variance (a float) for a scalar f, the (m, m)
        covariance for a vector f.
    std : float or ndarray
        Square root of the output variance(s), the diagonal of ``cov``.
    jacobian : ndarray
        ``J[i, j] = ∂f_i/∂x_j`` at μ: shape (n,) for a scalar f, (m, n).
    value : float or ndarray
        f(μ) (equal to ``mean`` unless ``second_order=True``).
    hessian : ndarray or None
        With ``second_order=True``, ``∂²f_i/∂x_j∂x_k`` at μ: shape (n, n)
        for a scalar f, (m, n, n); else None.
    """

    mean: object
    cov: object
    std: object
    jacobian: np.ndarray
    value: object
    hessian: object = None

    def __str__(self):
        scalar = np.ndim(self.mean) == 0
        labels = ["f"] if scalar else [f"f[{i}]" for i in range(np.size(self.mean))]
        w = max(6, max((len(s) for s in labels), default=0))
        order = "second-order mean" if self.hessian is not None else "first order"
        lines = [f"Propagated uncertainty (delta method, {order})",
                 f"{'output':<{w}}  {'f(mean)':>12}  {'mean':>12}  {'std':>12}"]
        for k, label in enumerate(labels):
            v, m, s = (float(np.atleast_1d(a)[k]) for a in (self.value, self.mean, self.std))
            lines.append(f"{label:<{w}}  {v:>12.6g}  {m:>12.6g}  {s:>12.6g}")
        return "\n".join(lines)

    def to_dataframe(self):
        """One row per output (``f``, or ``f[i]``): value, mean, std, var."""
        pd = _pandas("PropagationResult")
        scalar = np.ndim(self.mean) == 0
        var = np.atleast_1d(self.cov) if scalar else np.diag(self.cov)
        index = ["f"] if scalar else [f"f[{i}]" for i in range(np.size(self.mean))]
        return pd.DataFrame({"value": np.atleast_1d(self.value),
                             "mean": np.atleast_1d(self.mean),
                             "std": np.atleast_1d(self.std), "var": var},
                            index=pd.Index(index, name="output"))

    to_df = to_dataframe    # the name DGSMResult and SALib use


def _real(a, argname, ndim):
    if isinstance(a, (str, bytes)) or a is None:
        raise TypeError(f"propagate(): {argname} must be an array of real numbers, not "
                        f"{type(a).__name__}")
    try:
        A = np.asarray(a)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"propagate(): {argname} must be an array of real numbers "
                        f"({exc})") from None
    if A.dtype.kind not in "biuf":
        raise TypeError(f"propagate(): {argname} must hold real numbers, not dtype "
                        f"{A.dtype}")
    A = A.astype(np.float64)
    if A.ndim != ndim:
        return A
    if not np.all(np.isfinite(A)):
        raise ValueError(f"propagate(): {argname} must be finite; it holds nan or inf")
    return A


def _input_cov(cov, std, n):
    """Σ as a validated, exactly symmetric (n, n) float array."""
    if (cov is None) == (std is None):
        raise TypeError("propagate(): give the input uncertainty either as cov= "
                        "(an (n, n) covariance) or as std= (n standard deviations), "
                        + ("not both" if cov is not None else "one of them"))
    if std is not None:
        s = _real(std, "std", 1)
        if s.shape != (n,):
            raise ValueError(f"propagate(): std must have shape ({n},) like mean; got "
                             f"shape {s.shape}")
        if np.any(s < 0):
            raise ValueError(f"propagate(): std must be >= 0; std[{int(np.argmin(s))}] = "
                             f"{s.min():g}")
        return np.diag(s * s)
    C = _real(cov, "cov", 2)
    if C.ndim == 1 and C.shape == (n,):
        raise ValueError("propagate(): cov must be an (n, n) matrix; got a 1-D array. "
                         "For independent inputs pass std= (standard deviations) or "
                         "cov=np.diag(variances)")
    if C.shape != (n, n):
        raise ValueError(f"propagate(): cov must have shape ({n}, {n}) for a mean of "
                         f"length {n}; got shape {C.shape}")
    scale = np.max(np.abs(C)) if n else 0.0
    asym = np.max(np.abs(C - C.T)) if n else 0.0
    if asym > _TOL * scale:
        raise ValueError(f"propagate(): cov must be symmetric; max |cov - cov.T| = "
                         f"{asym:g} (relative {asym / scale:.3g})")
    C = 0.5 * (C + C.T)
    if n:
        eig = np.linalg.eigvalsh(C)
        if eig[0] < -_TOL * max(abs(eig[0]), abs(eig[-1])):
            raise ValueError(f"propagate(): cov must be positive semi-definite; its "
                             f"smallest eigenvalue is {eig[0]:g}")
    return C


def propagate(f, mean, cov=None, args=(), *, std=None, second_order=False,
              method="auto"):
    """Mean and covariance of f(X) for inputs with mean μ and covariance Σ, by
    the delta method with the exact Jacobian: ``Cov f ≈ J Σ Jᵀ``.

    Parameters
    ----------
    f : callable
        ``f(x, *args)`` returning a real number or a 1-D sequence/array of
        them, written as for ``dualml.jacobian``.
    mean : sequence or ndarray, shape (n,)
        The input mean μ (the point where f is linearised).  f receives it
        as ``dualml.jacobian`` passes x: a list for a list or tuple, an
        ndarray (the array backend) for an ndarray.
    cov : array_like, shape (n, n), optional
        The input covariance Σ: symmetric and positive semi-definite (to a
        relative tolerance of 1e-10).  Give either ``cov`` or ``std``.
    args : tuple, optional
        Extra arguments passed to f.
    std : array_like, shape (n,), optional
        Standard deviations of independent inputs (Σ = diag(std²)).
    second_order : bool, optional
        Add ``½ tr(H_i Σ)`` to each output mean (H_i the Hessian of output
        i at μ): the exact mean of a quadratic f.  The covariance stays
        ``J Σ Jᵀ``.
    method : {"auto", "scalar", "array"}, optional
        As for ``dualml.jacobian``.

    Returns
    -------
    PropagationResult
        ``mean``, ``cov`` (a variance for a scalar f, (m, m) otherwise),
        ``std``, ``jacobian``, ``value`` (f(μ)), ``hessian``; ``to_df()``.

    Notes
    -----
    The first-order result is exact for an affine f; for a nonlinear f it
    is accurate while the input spread is small against the scale on which
    J varies.  The derivatives are exact, so the only error is the
    truncation of the Taylor expansion, not a finite-difference step.

    Raises
    ------
    TypeError
        If f is not callable, mean/cov/std are not arrays of real numbers,
        or both or neither of ``cov`` and ``std`` are given.
    ValueError
        If mean is not 1-D, the shapes disagree, an input holds nan or inf,
        cov is not symmetric positive semi-definite, a std is negative, or f
        returns more than one dimension.

    See Also
    --------
    jacobian : the J of ``J Σ Jᵀ``.
    hessian : the H of the second-order mean.
    sensitivity : local derivatives and elasticities at a point.

    Examples
    --------
    >>> import dualml
    >>> r = dualml.propagate(lambda x: x[0] * x[1], [2.0, 3.0], std=[0.1, 0.2])
    >>> r.mean, round(r.std, 12)       # sqrt((3·0.1)² + (2·0.2)²)
    (6.0, 0.5)
    >>> r = dualml.propagate(lambda x: x[0] ** 2, [1.0], [[0.04]], second_order=True)
    >>> round(r.mean, 12)              # E[X²] = μ² + σ²
    1.04
    """
    if not callable(f):
        raise TypeError(f"propagate(): f must be callable, not {type(f).__name__}")
    m = _real(mean, "mean", 1)
    if m.ndim != 1:
        raise ValueError(f"propagate(): mean must be a 1-D point of shape (n,); got shape "
                         f"{m.shape}" + (" (for one input pass [x] with cov=[[var]] or "
                                         "std=[s])" if m.ndim == 0 else ""))
    n = m.shape[0]
    S = _input_cov(cov, std, n)
    if not isinstance(args, tuple):
        args = (args,)
    x = m if isinstance(mean, np.ndarray) else m.tolist()

    value, J = value_and_jacobian(f, x, args, method=method)
    value = np.asarray(value, dtype=np.float64)
    if value.ndim > 1:
        raise ValueError(f"propagate(): f must return a scalar or a 1-D vector; got shape "
                         f"{value.shape} (return a flattened vector instead)")
    J = np.asarray(J, dtype=np.float64).reshape(value.shape + (n,))
    # an input with zero variance is held fixed: its derivative must not enter,
    # even where it is infinite (sqrt at 0) and inf·0 would give nan
    act = np.diag(S) > 0
    Ja, Sa = J[..., act], S[np.ix_(act, act)]
    C = Ja @ Sa @ Ja.T if value.ndim else float(Ja @ Sa @ Ja)
    var = np.diag(C) if value.ndim else C
    # rounding can leave a tiny negative variance for an output with none
    sd = np.sqrt(np.maximum(var, 0.0))

    out_mean, H = value, None
    if second_order:
        if value.ndim == 0:
            H = np.asarray(hessian(f, x, args, method=method), dtype=np.float64)
        else:
            H = np.asarray(jacobian(lambda y, *a: jacobian(f, y, a, method=method),
                                    x, args, method=method), dtype=np.float64)
        H = H.reshape(value.shape + (n, n))
        H = 0.5 * (H + np.swapaxes(H, -1, -2))
        out_mean = value + 0.5 * np.sum(H[..., act, :][..., act] * Sa, axis=(-2, -1))

    if value.ndim == 0:
        return PropagationResult(float(out_mean), float(C), float(sd), J, float(value), H)
    return PropagationResult(out_mean, C, sd, J, value, H)
