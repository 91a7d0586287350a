"""One map from NumPy's ufuncs to dualml, shared by Dual and DualArray.

Design
------
``Dual.__array_ufunc__`` (dual.pyx) and DualArray's (arrays/_numpy_api.py
and the C core) both build their dispatch from this module: every ufunc
named like a rule of the table (csrc/dual_rules.def), NumPy's other names
for rules (``ALIASES``), the ufuncs that are exact compositions of rules
(``COMPOSED``), predicates and comparisons (on values), and the generalized
ufuncs with core dimensions (``ARRAY_ONLY``).  So a ufunc works on one type
iff it works on the other; any other ufunc raises ``unsupported(...)``, a
TypeError naming it.  Pure Python, NumPy only: dual.pyx imports it at load.
"""
import math

import numpy as np

__all__ = ["ALIASES", "COMPOSED", "PREDICATES", "COMPARISONS", "ARRAY_ONLY",
           "rule_ufuncs", "composed_ufuncs", "supported", "unsupported",
           "scalar_composed"]

# NumPy's other names for rules.  np.abs, np.true_divide and np.conj are
# the very objects np.absolute, np.divide and np.conjugate (NumPy 2), so
# they need no entry.
ALIASES = {"fabs": "absolute"}      # fabs is absolute on real input

# ufuncs that are exactly a composition of rules (float_power is power in
# float64, the only dtype here; conjugate of a real number is itself;
# divmod is (floor_divide, remainder); fmod is remainder on magnitudes with
# a's sign; modf is (fmod(x, 1), trunc(x)), the fractional part of +-inf
# NumPy's +-0.0; frexp scales by a constant power
# of two)
COMPOSED = ("deg2rad", "radians", "rad2deg", "degrees", "float_power", "logaddexp2",
            "heaviside", "ldexp", "conjugate", "divmod", "fmod", "modf", "frexp")

PREDICATES = ("isnan", "isinf", "isfinite", "signbit")
COMPARISONS = ("less", "less_equal", "greater", "greater_equal", "equal", "not_equal")

# generalized ufuncs (core dimensions): no scalar form; NumPy itself
# refuses 0-d operands for them
ARRAY_ONLY = ("matmul", "vecdot", "matvec", "vecmat")


def _ufunc(name):
    u = getattr(np, name, None)
    return u if isinstance(u, np.ufunc) else None


def rule_ufuncs(rule_names):
    """{ufunc: rule name} for the rules that are NumPy ufuncs, aliases included."""
    out = {}
    for name in rule_names:
        u = _ufunc(name)
        if u is not None:
            out[u] = name
    for alias, name in ALIASES.items():
        if _ufunc(alias) is not None and name in rule_names:
            out[_ufunc(alias)] = name
    return out


def composed_ufuncs():
    """{ufunc: name} of COMPOSED (those this NumPy has)."""
    return {_ufunc(n): n for n in COMPOSED if _ufunc(n) is not None}


def supported(rule_names, arrays=False):
    """Every ufunc dualml handles on a Dual (arrays=False) or a DualArray."""
    names = PREDICATES + COMPARISONS + (ARRAY_ONLY if arrays else ())
    return (set(rule_ufuncs(rule_names)) | set(composed_ufuncs())
            | {_ufunc(n) for n in names if _ufunc(n) is not None})


def unsupported(ufunc, typename, rule_names, arrays=False):
    """The TypeError for a ufunc outside the map (names it, the way out and the map)."""
    ok = ", ".join(sorted(u.__name__ for u in supported(rule_names, arrays)))
    owner = "numpy" if getattr(np, ufunc.__name__, None) is ufunc else "scipy.special"
    if not arrays and ufunc.__name__ in ARRAY_ONLY:
        hint = " (a generalized ufunc: it needs arrays with core dimensions)"
    elif arrays:
        hint = (": write it with the supported ufuncs, or differentiate with "
                "method='scalar'")
    else:
        hint = ": write it with the supported ufuncs or dualml's functions"
    return TypeError(f"{owner}.{ufunc.__name__} is not supported on {typename} (no "
                     f"dualml rule){hint}; supported ufuncs: {ok}")


def scalar_composed(ns):
    """{ufunc: implementation} of COMPOSED over the functions of ``ns``
    (dualml.dual: multiply, power, ...), for scalar Duals."""
    ln2 = math.log(2.0)

    def logaddexp2(a, b):
        # log2(2**a + 2**b) = logaddexp(a ln2, b ln2) / ln2
        return ns.divide(ns.logaddexp(ns.multiply(a, ln2), ns.multiply(b, ln2)), ln2)

    def heaviside(x, h0):
        # piecewise constant in x (zero derivative, as sign); h0 where x == 0
        if x != x:
            return math.nan
        if x == 0:
            return h0
        return 1.0 if x > 0 else 0.0

    def ldexp(x, i):
        if not isinstance(i, (int, np.integer)) and not (
                isinstance(i, (float, np.floating)) and float(i).is_integer()):
            raise TypeError("numpy.ldexp on a Dual: the exponent must be a constant "
                            "integer")
        # a product with a power of two: exact, as ldexp
        return ns.multiply(x, math.ldexp(1.0, int(i)))

    def innermost(x):
        while isinstance(x, ns.Dual):
            x = x.value
        return float(x)

    def fmod(a, b):
        # a's sign times remainder(|a|, |b|): fmod on magnitudes, exactly
        s = -1.0 if math.copysign(1.0, innermost(a)) < 0 else 1.0
        return ns.multiply(ns.remainder(ns.multiply(a, s), ns.absolute(b)), s)

    def with_innermost(x, v):
        # x with its innermost value replaced by v, every tangent kept
        if not isinstance(x, ns.Dual):
            return v
        return ns._rebuild(ns._tag_of(x), with_innermost(x.value, v), x.deriv)

    def modf(x):
        # (fmod(x, 1), trunc(x)); the fractional part of an infinity is
        # NumPy's +-0.0, its tangents fmod's (nan: no slope there)
        frac = fmod(x, 1.0)
        v = innermost(x)
        if math.isinf(v):
            frac = with_innermost(frac, math.copysign(0.0, v))
        return frac, ns.trunc(x)

    def frexp(x):
        # x = m 2**e with the integer e constant: m = x 2**-e
        m, e = np.frexp(innermost(x))
        return ns.multiply(x, math.ldexp(1.0, -int(e))), e

    impl = {
        "deg2rad": lambda x: ns.multiply(x, math.pi / 180.0),
        "radians": lambda x: ns.multiply(x, math.pi / 180.0),
        "rad2deg": lambda x: ns.multiply(x, 180.0 / math.pi),
        "degrees": lambda x: ns.multiply(x, 180.0 / math.pi),
        "float_power": lambda a, b: ns.power(a, b),
        "logaddexp2": logaddexp2,
        "heaviside": heaviside,
        "ldexp": ldexp,
        "conjugate": lambda x: x,
        "divmod": lambda a, b: (ns.floor_divide(a, b), ns.remainder(a, b)),
        "fmod": fmod,
        "modf": modf,
        "frexp": frexp,
    }
    return {u: impl[n] for u, n in composed_ufuncs().items()}
