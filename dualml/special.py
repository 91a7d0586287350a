"""Differentiable special functions: SciPy's values, exact derivatives.

Design
------
Statistical models call ``scipy.special`` (``gammaln`` in a Poisson or
negative-binomial likelihood, ``ndtr``/``log_ndtr`` in a probit, ``xlogy``
in an entropy).  Those are compiled ufuncs, so on a Dual or a DualArray they
reach ``__array_ufunc__``; this module gives them rules.  Functions the rule
table already has (``expit`` = sigmoid, ``log_expit`` = log_sigmoid, ``erf``,
``erfc``) map to the table's function.  The others are ``custom_jvp``
primitives: the value is SciPy's (so it is exactly what the user's code
gets on floats), the derivative is written with dualml/NumPy operations and
with the other primitives here (``gammaln' = digamma``, ``digamma' =
polygamma(1, .)``, ...), so they nest to any order and work on scalars,
object arrays and DualArrays alike.  SciPy is imported on first use.
"""
import math
import sys

import numpy as np

from .custom import custom_jvp
from .dual import erf, erfc, exp, log, log1p, log_sigmoid, sigmoid

__all__ = ["gammaln", "gamma", "digamma", "psi", "polygamma", "betaln", "erfinv",
           "erfcinv", "ndtr", "log_ndtr", "ndtri", "logit", "expit", "log_expit",
           "xlogy", "xlog1py", "erf", "erfc"]

_SQRT_2PI = math.sqrt(2.0 * math.pi)
_HALF_SQRT_PI = 0.5 * math.sqrt(math.pi)


def _sp():
    try:
        import scipy.special as sp
    except ImportError as e:             # pragma: no cover - scipy is in the test extra
        raise ImportError("dualml.special needs SciPy (pip install scipy)") from e
    return sp


def _doc(f, text):
    f.__doc__ = text
    return f


@custom_jvp
def gammaln(x):
    return _sp().gammaln(x)


gammaln.defderivs(lambda x: digamma(x))


@custom_jvp
def gamma(x):
    return _sp().gamma(x)


gamma.defderivs(lambda x: gamma(x) * digamma(x))


@custom_jvp
def digamma(x):
    return _sp().digamma(x)


digamma.defderivs(lambda x: polygamma(1, x))
psi = digamma


@custom_jvp(nondiff_argnums=0)
def polygamma(n, x):
    return _polygamma_value(n, x)


polygamma.defderivs(None, lambda n, x: polygamma(n + 1, x))


def _polygamma_value(n, x):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 0:
        raise TypeError(f"polygamma(): n must be an int >= 0 (the order, not "
                        f"differentiated); got {n!r}")
    sp = _sp()
    r = sp.digamma(x) if n == 0 else sp.polygamma(int(n), x)
    return r if np.ndim(r) else float(r)


@custom_jvp
def betaln(a, b):
    return _sp().betaln(a, b)


betaln.defderivs(lambda a, b: digamma(a) - digamma(a + b),
                 lambda a, b: digamma(b) - digamma(a + b))


@custom_jvp
def erfinv(y):
    return _sp().erfinv(y)


erfinv.defderivs(lambda y: _HALF_SQRT_PI * exp(erfinv(y) ** 2))


@custom_jvp
def erfcinv(y):
    return _sp().erfcinv(y)


erfcinv.defderivs(lambda y: -_HALF_SQRT_PI * exp(erfcinv(y) ** 2))


@custom_jvp
def ndtr(x):
    return _sp().ndtr(x)


ndtr.defderivs(lambda x: exp(-0.5 * x * x) / _SQRT_2PI)


@custom_jvp
def log_ndtr(x):
    return _sp().log_ndtr(x)


# phi(x) / Phi(x) without underflow: both factors are taken in logs
log_ndtr.defderivs(lambda x: exp(-0.5 * x * x - log_ndtr(x)) / _SQRT_2PI)


@custom_jvp
def ndtri(p):
    return _sp().ndtri(p)


ndtri.defderivs(lambda p: _SQRT_2PI * exp(0.5 * ndtri(p) ** 2))


@custom_jvp
def logit(p):
    return _sp().logit(p)


# 1 / (p (1 - p)) as 1/p + 1/(1 - p): no cancellation near 0 or 1
logit.defderivs(lambda p: 1.0 / p + 1.0 / (1.0 - p))


@custom_jvp
def xlogy(x, y):
    return _sp().xlogy(x, y)


# at x == 0 the value is 0 for every y, and the y-partial x / y is 0 too
# (nan only at the singular point x == y == 0)
xlogy.defderivs(lambda x, y: log(y), lambda x, y: x / y)


@custom_jvp
def xlog1py(x, y):
    return _sp().xlog1py(x, y)


xlog1py.defderivs(lambda x, y: log1p(y), lambda x, y: x / (1.0 + y))

expit = sigmoid
log_expit = log_sigmoid

_DOCS = {
    "gammaln": "log abs(Γ(x)); derivative ``digamma(x)``.",
    "gamma": "Γ(x); derivative ``Γ(x) digamma(x)``.",
    "digamma": "ψ(x) = Γ'(x)/Γ(x); derivative ``polygamma(1, x)``.",
    "polygamma": "ψ⁽ⁿ⁾(x) (n an int, not differentiated); derivative ``polygamma(n + 1, x)``.",
    "betaln": "log abs(B(a, b)); partials ``ψ(a) - ψ(a + b)`` and ``ψ(b) - ψ(a + b)``.",
    "erfinv": "Inverse error function; derivative ``√π/2 · exp(erfinv(y)²)``.",
    "erfcinv": "Inverse complementary error function; derivative ``-√π/2 · exp(erfcinv(y)²)``.",
    "ndtr": "Standard normal CDF Φ(x); derivative the normal density φ(x).",
    "log_ndtr": "log Φ(x), accurate in the far left tail; derivative φ(x)/Φ(x) computed in logs.",
    "ndtri": "Inverse of Φ; derivative ``√(2π) exp(ndtri(p)²/2)``.",
    "logit": "log(p / (1 - p)); derivative ``1/p + 1/(1 - p)``.",
    "xlogy": "x log y, 0 where x == 0; partials ``log y`` and ``x / y``.",
    "xlog1py": "x log(1 + y), 0 where x == 0; partials ``log1p(y)`` and ``x / (1 + y)``.",
}
for _name, _text in _DOCS.items():
    globals()[_name].__doc__ = f"""{_text}

    SciPy's value (``scipy.special.{_name}``), dualml's exact derivative, on
    floats, Duals (nested too) and DualArrays; ``scipy.special.{_name}``
    called on a Dual or DualArray comes here.  See the module docstring.
    """

# scipy.special's ufunc name -> the dualml function that differentiates it
_BY_NAME = {"gammaln": gammaln, "gamma": gamma, "psi": digamma, "digamma": digamma,
            "betaln": betaln, "erfinv": erfinv, "erfcinv": erfcinv, "ndtr": ndtr,
            "log_ndtr": log_ndtr, "ndtri": ndtri, "logit": logit, "expit": sigmoid,
            "log_expit": log_sigmoid, "erf": erf, "erfc": erfc, "xlogy": xlogy,
            "xlog1py": xlog1py}
_BY_UFUNC = None


def ufunc_handler(ufunc):
    """The dualml function for a ``scipy.special`` ufunc, or None.

    Called by the ``__array_ufunc__`` of Dual and DualArray for ufuncs the
    rule table does not have.  SciPy is not imported here: a scipy.special
    ufunc can only exist once the user's code has imported it.
    """
    global _BY_UFUNC
    sp = sys.modules.get("scipy.special")
    if sp is None:
        return None
    if _BY_UFUNC is None:
        _BY_UFUNC = {getattr(sp, n): f for n, f in _BY_NAME.items() if hasattr(sp, n)}
    return _BY_UFUNC.get(ufunc)
