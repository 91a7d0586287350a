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
* Nested in a derivative (mean, cov, std or args holding Duals or a
  DualArray, e.g. the gradient of an output's std over a design parameter),
  the same formulas run on those values -- object arrays of Duals or
  DualArrays -- so the result carries the outer derivatives; the checks
  (shapes, symmetry, positive semi-definiteness) look at the values.
"""
import dataclasses

import numpy as np

from . import dual as _dual
from .calculus import hessian, jacobian, value_and_jacobian
from .dual import Dual
from .dual import sqrt as _dsqrt
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

        Parameters
        ----------
        by_input : bool, optional
            One row per (output, input) pair instead (a MultiIndex of
            ``output_names`` and ``names``): the derivative, the first-order
            variance contribution (``contributions()``) and its share of the
            output's first-order variance.

        Returns
        -------
        pandas.DataFrame
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

    propagate may run inside ``gradient``/``jacobian``/``derivative``:
    mean, cov, std and args may hold Duals or a DualArray, and the result's
    mean, cov and std then carry their derivatives (e.g. the gradient of an
    output's std over a design parameter passed in args).  With scalar
    Duals from the outer call, f receives μ as a list of scalar Duals.

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
    if not isinstance(args, tuple):
        args = (args,)
    if any(_carries(a) for a in (mean, cov, std, args)):
        return _propagate_nested(f, mean, cov, std, args, order, method, names,
                                 output_names)
    m = _real(mean, "mean", 1)
    if m.ndim != 1:
        raise ValueError(f"propagate(): mean must be a 1-D point of shape (n,); got shape "
                         f"{m.shape}" + (" (for one input pass [x] with cov=[[var]] or "
                                         "std=[s])" if m.ndim == 0 else ""))
    n = m.shape[0]
    S = _input_cov(cov, std, n)
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


# -- inside an outer differentiation -------------------------------------------------------

def _dualarray():
    try:
        from .arrays import DualArray
    except ModuleNotFoundError as exc:      # a build without the array backend
        if exc.name != "dualml.arrays":
            raise
        return None
    return DualArray


def _carries(x):
    """Whether x holds Duals or is a DualArray (an outer differentiation)."""
    DualArray = _dualarray()
    if isinstance(x, Dual) or (DualArray is not None and type(x) is DualArray):
        return True
    if isinstance(x, np.ndarray):
        return x.dtype == object and any(_carries(e) for e in x.ravel())
    if type(x) in (list, tuple):
        return any(_carries(e) for e in x)
    return False


def _plain(x):
    """The value of x without any derivative parts (floats, for the checks)."""
    DualArray = _dualarray()
    if DualArray is not None and type(x) is DualArray:
        return _plain(x._v)
    if isinstance(x, Dual):
        return _plain(_dual._split(x, _dual._tag_of(x))[0])
    if isinstance(x, np.ndarray) and x.dtype == object or type(x) in (list, tuple):
        a = np.asarray(x, dtype=object)
        out = np.empty(a.shape)
        out.reshape(-1)[:] = [_plain(e) for e in a.ravel()]
        return out
    return x


def _generic(x):
    """x as an array for the formulas: a DualArray as it is, else an object array."""
    DualArray = _dualarray()
    if DualArray is not None and type(x) is DualArray:
        return x
    if type(x) in (list, tuple) and DualArray is not None and \
            any(type(e) is DualArray for e in x):
        from .arrays._operands import _operand
        return _operand(x, "propagate()")
    return np.asarray(x, dtype=object) if _carries(x) else \
        np.asarray(x, dtype=np.float64)


def _sqrt(v):
    # std from a variance that may carry Duals; tiny negative rounding -> 0
    DualArray = _dualarray()
    if DualArray is not None and type(v) is DualArray:
        return np.sqrt(np.maximum(v, 0.0))
    if isinstance(v, np.ndarray):
        out = np.empty(v.shape, dtype=object)
        out.reshape(-1)[:] = [_sqrt(e) for e in v.ravel()]
        return out
    return _dsqrt(v) if _plain(v) > 0 else 0.0 * v


def _propagate_nested(f, mean, cov, std, args, order, method, names, output_names):
    """propagate() whose inputs carry an outer differentiation's Duals."""
    m = _real(_plain(mean), "mean", 1)          # the checks, on the values
    if m.ndim != 1:
        raise ValueError(f"propagate(): mean must be a 1-D point of shape (n,); got shape "
                         f"{m.shape}")
    n = m.shape[0]
    _input_cov(None if cov is None else _plain(cov), None if std is None else _plain(std),
               n)
    if std is not None:
        s = _generic(std)
        S = s[:, None] * s[None, :] * np.eye(n)
    else:
        C0 = _generic(cov)
        S = 0.5 * (C0 + C0.T)
    x = mean if not isinstance(mean, tuple) else list(mean)
    if method == "auto" and not any(_has_dualarray(a) for a in (mean, cov, std, args)):
        # the outer differentiation is scalar Duals: f gets scalar Duals too
        # (a DualArray pass would hand back derivatives the outer one cannot read)
        method = "scalar"
        x = list(np.asarray(x, dtype=object).ravel()) if isinstance(x, np.ndarray) else x
    value, J = value_and_jacobian(f, x, args, method=method)
    vshape = np.shape(_plain(value))
    if len(vshape) > 1:
        raise ValueError(f"propagate(): f must return a scalar or a 1-D vector; got shape "
                         f"{vshape} (return a flattened vector instead)")
    J = _generic(J).reshape(vshape + (n,))
    idx = np.flatnonzero(np.diag(_plain(S)) > 0)  # zero variance: held fixed
    Ja, Sa = J[..., idx], S[idx][:, idx]
    if len(vshape):
        C = Ja @ Sa @ Ja.T
        var = C[np.arange(vshape[0]), np.arange(vshape[0])]
    else:
        C = Ja @ Sa @ Ja
        var = C
    out_mean, H = value, None
    if order != "first":
        if not len(vshape):
            H = hessian(f, x, args, method=method)
        else:
            H = jacobian(lambda y, *a: jacobian(f, y, a, method=method), x, args,
                         method=method)
        H = _generic(H).reshape(vshape + (n, n))
        H = 0.5 * (H + np.swapaxes(H, -1, -2))
        Ha = H[..., idx, :][..., idx]
        out_mean = _generic(value) + 0.5 * (Ha * Sa).sum(axis=(-2, -1))
        if order == "full":
            M = Ha @ Sa
            if not len(vshape):
                C = C + 0.5 * (M * M.T).sum()
                var = C
            else:
                k = vshape[0]
                C2 = [[(M[i] * M[j].T).sum() for j in range(k)] for i in range(k)]
                C = C + 0.5 * _generic(C2) if not _is_dualarray(M) else \
                    C + 0.5 * _stack2(C2)
                var = C[np.arange(k), np.arange(k)]
    sd = _sqrt(var)
    labels = None
    if output_names is not None:
        labels = _names(output_names, 1 if not len(vshape) else vshape[0],
                        "output_names", "f", "propagate")
    names = _names(names, n, "names", "x", "propagate")
    if not len(vshape):
        return PropagationResult(_scalar(out_mean), _scalar(C), _scalar(sd), J,
                                 _scalar(value), H, names, labels, order, S)
    return PropagationResult(_generic(out_mean), C, sd, J, _generic(value), H, names,
                             labels, order, S)


def _has_dualarray(x):
    DualArray = _dualarray()
    if DualArray is None:
        return False
    if type(x) is DualArray:
        return True
    if type(x) in (list, tuple):
        return any(_has_dualarray(e) for e in x)
    if isinstance(x, np.ndarray) and x.dtype == object:
        return any(_has_dualarray(e) for e in x.ravel())
    return False


def _is_dualarray(x):
    DualArray = _dualarray()
    return DualArray is not None and type(x) is DualArray


def _stack2(rows):
    return np.stack([np.stack(r) for r in rows])


def _scalar(v):
    """A 0-d result as a number, a Dual, or a 0-d DualArray."""
    if isinstance(v, np.ndarray) and v.ndim == 0:
        v = v[()]
    return v


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
