"""Uncertainty propagation by the delta method: exact Jacobians, J Σ Jᵀ.

Design
------
* The inputs are summarised by a mean μ and a covariance Σ (or independent
  standard deviations); the output covariance is the first-order (linearised)
  ``J Σ Jᵀ`` with the exact Jacobian at μ from ``dualml.value_and_jacobian``.
  No distribution is assumed for that; it is exact for an affine f.
* ``second_order=True`` (or ``"mean"``) adds ``½ tr(H_i Σ)`` to each output
  mean (exact for a quadratic f under any input distribution with that mean
  and covariance).  A scalar f uses ``dualml.hessian``; a vector f one
  Jacobian of its Jacobian (n² evaluations on the scalar path for all
  outputs, instead of m Hessians).  ``"full"`` also adds
  ``½ tr(H_i Σ H_j Σ)`` to the covariance from the same Hessians: exact for
  a quadratic f of Gaussian inputs (whose third moments vanish).
* f receives μ as ``dualml.jacobian`` would: a list of floats for a list or
  tuple, a float ndarray (the DualArray backend) for an ndarray; ``args`` and
  ``method`` are passed through.  Inputs are validated here, once.
* Inputs with zero variance are held fixed: their (possibly infinite)
  derivatives are reported in ``jacobian`` but do not enter cov or mean.
"""
import dataclasses

import numpy as np

from .calculus import hessian, jacobian, value_and_jacobian
from .sensitivity import _names, _pandas

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
        With ``second_order``, ``∂²f_i/∂x_j∂x_k`` at μ: shape (n, n)
        for a scalar f, (m, n, n); else None.
    names : list of str
        The n input names (``names=``; default ``x0, x1, ...``).
    output_names : list of str
        The output labels (``output_names=``; default ``f`` for a scalar f,
        ``f[0], f[1], ...``).
    order : str
        "first", "mean" (second-order mean) or "full" (second-order mean and
        covariance).
    input_cov : ndarray
        Σ, the (n, n) input covariance used.
    """

    mean: object
    cov: object
    std: object
    jacobian: np.ndarray
    value: object
    hessian: object = None
    names: list = None
    output_names: list = None
    order: str = "first"
    input_cov: object = None

    def _labels(self):
        if self.output_names is not None:
            return list(self.output_names)
        return ["f"] if np.ndim(self.mean) == 0 else \
            [f"f[{i}]" for i in range(np.size(self.mean))]

    def contributions(self):
        """First-order variance contributions: ``c[i, j] = J_ij (Σ J_iᵀ)_j``.

        Row i sums to output i's first-order variance (an Euler allocation:
        with independent inputs ``c[i, j] = J_ij² σ_j²``; with correlated
        ones a covariance term is split between the two inputs, and an entry
        may be negative).  An input with zero variance contributes 0.

        Returns
        -------
        ndarray
            Shape (n,) for a scalar f, (m, n) for m outputs.

        Examples
        --------
        >>> import dualml
        >>> r = dualml.propagate(lambda x: 2 * x[0] + x[1], [1.0, 1.0], std=[1.0, 2.0])
        >>> r.contributions()             # 2² · 1² and 1² · 2²: half each
        array([4., 4.])
        """
        J = np.where(np.diag(self.input_cov) > 0, self.jacobian, 0.0)
        return J * (J @ self.input_cov)

    def __str__(self):
        labels = self._labels()
        w = max(6, max((len(s) for s in labels), default=0))
        order = {"first": "first order", "mean": "second-order mean",
                 "full": "second order, Gaussian inputs"}[self.order]
        lines = [f"Propagated uncertainty (delta method, {order})",
                 f"{'output':<{w}}  {'f(mean)':>12}  {'mean':>12}  {'std':>12}"]
        for k, label in enumerate(labels):
            v, m, s = (float(np.atleast_1d(a)[k]) for a in (self.value, self.mean, self.std))
            lines.append(f"{label:<{w}}  {v:>12.6g}  {m:>12.6g}  {s:>12.6g}")
        return "\n".join(lines)

    def to_dataframe(self, by_input=False):
        """One row per output (``output_names``): value, mean, std, var.

        ``by_input=True``: one row per (output, input) pair instead, with the
        derivative and the first-order variance contribution
        (``contributions()``) and its share of the output's variance.
        """
        pd = _pandas("PropagationResult")
        scalar = np.ndim(self.mean) == 0
        var = np.atleast_1d(self.cov) if scalar else np.diag(self.cov)
        index = self._labels()
        if by_input:
            J = np.atleast_2d(self.jacobian)
            c = np.atleast_2d(self.contributions())
            total = c.sum(axis=1, keepdims=True)
            share = np.divide(c, total, out=np.zeros_like(c), where=total != 0)
            names = self.names or [f"x{j}" for j in range(J.shape[1])]
            rows = pd.MultiIndex.from_product([index, names], names=["output", "input"])
            return pd.DataFrame({"derivative": J.ravel(), "contribution": c.ravel(),
                                 "share": share.ravel()}, index=rows)
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
              method="auto", names=None, output_names=None):
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
    second_order : {False, True, "mean", "full"}, optional
        True or "mean": add ``½ tr(H_i Σ)`` to each output mean (H_i the
        Hessian of output i at μ), the exact mean of a quadratic f for any
        input distribution; the covariance stays ``J Σ Jᵀ``.  "full": also
        add ``½ tr(H_i Σ H_j Σ)`` to the covariance: the covariance of the
        quadratic Taylor model for Gaussian inputs, exact for a quadratic f.
        For other f the third derivatives contribute terms of the same order
        in Σ that it leaves out (so it is not a consistent higher-order
        expansion); for other inputs their third and fourth moments are
        taken as Gaussian.
    method : {"auto", "scalar", "array"}, optional
        As for ``dualml.jacobian``.
    names : sequence of str, optional
        Names of the n inputs (default ``x0, x1, ...``), for
        ``to_df(by_input=True)``.
    output_names : sequence of str, optional
        Names of the outputs (default ``f``, or ``f[0], f[1], ...``), for
        the table and ``to_df()``.

    Returns
    -------
    PropagationResult
        ``mean``, ``cov`` (a variance for a scalar f, (m, m) otherwise),
        ``std``, ``jacobian``, ``value`` (f(μ)), ``hessian``, ``names``,
        ``output_names``; ``contributions()``, ``to_df()``.

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
        cov is not symmetric positive semi-definite, a std is negative, f
        returns more than one dimension, ``second_order`` is not one of its
        values, or ``names``/``output_names`` have the wrong length.

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
    >>> r = dualml.propagate(lambda x: x[0] ** 2, [1.0], [[0.04]], second_order="full")
    >>> round(r.cov, 12)               # Var X² = 4μ²σ² + 2σ⁴ for X ~ N(μ, σ²)
    0.1632
    """
    if not callable(f):
        raise TypeError(f"propagate(): f must be callable, not {type(f).__name__}")
    order = _order(second_order)
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
    if order != "first":
        if value.ndim == 0:
            H = np.asarray(hessian(f, x, args, method=method), dtype=np.float64)
        else:
            H = np.asarray(jacobian(lambda y, *a: jacobian(f, y, a, method=method),
                                    x, args, method=method), dtype=np.float64)
        H = H.reshape(value.shape + (n, n))
        H = 0.5 * (H + np.swapaxes(H, -1, -2))
        Ha = H[..., act, :][..., act]
        out_mean = value + 0.5 * np.sum(Ha * Sa, axis=(-2, -1))
        if order == "full":
            # Cov(q_i, q_j) of Gaussian inputs for the quadratic q_i: the
            # first-order term plus ½ tr(H_i Σ H_j Σ) (third moments vanish)
            M = Ha @ Sa                                 # ([m,] n_a, n_a)
            if value.ndim == 0:
                C = C + 0.5 * float(np.sum(M * M.T))
            else:
                C = C + 0.5 * np.einsum("iab,jba->ij", M, M)
            var = np.diag(C) if value.ndim else C
            sd = np.sqrt(np.maximum(var, 0.0))

    labels = None
    if output_names is not None:
        labels = _names(output_names, 1 if value.ndim == 0 else value.shape[0],
                        "output_names", "f", "propagate")
    names = _names(names, n, "names", "x", "propagate")
    if value.ndim == 0:
        return PropagationResult(float(out_mean), float(C), float(sd), J, float(value), H,
                                 names, labels, order, S)
    return PropagationResult(out_mean, C, sd, J, value, H, names, labels, order, S)


def _order(second_order):
    if second_order is False or second_order is None or \
            (isinstance(second_order, np.bool_) and not second_order):
        return "first"
    if second_order is True or isinstance(second_order, np.bool_) or \
            second_order == "mean":
        return "mean"
    if second_order == "full":
        return "full"
    raise ValueError(f"propagate(): second_order must be False, True, 'mean' or 'full', "
                     f"got {second_order!r}")
