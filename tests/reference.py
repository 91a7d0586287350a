"""Independent reference for dualml's rule table (used by tests/test_rules.py).

Every function dualml exports from csrc/dual_rules.def gets an entry here,
written from its mathematical definition and NOT from the C rule: a sympy
expression (derivatives by ``sympy.diff``; hand-derived only where sympy's
form would cancel in the reference itself, and then checked against
``sympy.diff`` by a test), evaluated with mpmath at 50 significant digits
and rounded once to the nearest double.  Points, domain edges, kink
conventions and the limits at +-inf are written down per function.

The expressions are chosen so that 50 digits are enough at every listed
point: ``expm1``/``log1p`` instead of ``exp(x) - 1``/``log(1 + x)``,
``1/cosh**2`` instead of ``1 - tanh**2``, ``a + log1p(exp(b - a))`` for
logaddexp (cancellation in the reference would make a correct dualml look
wrong, or a wrong one look right).
"""
import functools
import ctypes
import ctypes.util
import math

_LIBM = ctypes.CDLL(ctypes.util.find_library("m"))
_LIBM.hypot.restype = ctypes.c_double
_LIBM.hypot.argtypes = (ctypes.c_double, ctypes.c_double)


def _libm_hypot(s, t):
    """C's hypot (what dualml.hypot calls)."""
    return _LIBM.hypot(s, t)

from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

DPS = 50
EPS = 2.0 ** -52
TINY = 2.0 ** -1022          # smallest normal double
INF = math.inf
NAN = math.nan

x, a, b, p = sp.symbols("x a b p", real=True)


# --------------------------------------------------------------------------
# mpmath evaluation and rounding
# --------------------------------------------------------------------------

def to_double(v):
    """Round an mpmath number to the nearest double (complex -> nan).

    ``float(mpf)`` truncates (mpmath's fast rounding is round-down), so go
    through a 45-digit decimal string, which ``float`` rounds correctly
    (including subnormals and overflow to inf).
    """
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            return NAN
        v = v.real
    if not isinstance(v, mpmath.mpf):
        v = mpmath.mpf(v)
    return float(mpmath.libmp.to_str(v._mpf_, 45))


def evaluate(fn, *args):
    """fn (a lambdified expression) at exact doubles, 50 digits, rounded."""
    with mpmath.workdps(DPS):
        try:
            v = fn(*[mpmath.mpf(t) for t in args])
        except (ZeroDivisionError, ValueError):
            return NAN
        return to_double(v)


def evaluate_mp(fn, *args):
    """Like evaluate, but keep the mpmath number (for sums of partials)."""
    with mpmath.workdps(DPS):
        return fn(*[mpmath.mpf(t) for t in args])


class Phi(sp.Function):
    """Standard normal CDF, evaluated by mpmath.ncdf (accurate in both
    tails; sympy rewrites erfc(-t) as 2 - erfc(t), which cancels)."""

    def fdiff(self, argindex=1):
        t = self.args[0]
        return sp.exp(-t ** 2 / 2) / sp.sqrt(2 * sp.pi)


def _lambdify(args, expr):
    return sp.lambdify(args, expr, modules=[{"expm1": mpmath.expm1,
                                             "log1p": mpmath.log1p,
                                             "Phi": mpmath.ncdf},
                                            "mpmath"])


# --------------------------------------------------------------------------
# point sets
# --------------------------------------------------------------------------

def _pm(values):
    return tuple(sorted({s * v for v in values for s in (1.0, -1.0)}))


# spread over the real line: tiny, moderate and huge magnitudes
REAL = _pm([1e-300, 1e-30, 1e-8, 1e-3, 0.1, 0.3, 0.5, 0.7, 1.0, 1.3, 2.0,
            2.7, 3.5, 5.0, 8.0, 13.0, 20.0, 40.0, 100.0, 700.0, 1e5, 1e15,
            1e300])
# exp-like: up to overflow/underflow of the double result, not 1e300
# (mpmath would spend long on exp(1e300) and nothing new is tested)
EXPLIKE = _pm([1e-300, 1e-30, 1e-8, 1e-3, 0.1, 0.3, 0.5, 0.7, 1.0, 1.3, 2.0,
               2.7, 3.5, 5.0, 8.0, 13.0, 20.0, 40.0, 100.0, 700.0, 709.5,
               710.5, 745.5, 1e5])
POSITIVE = (5e-324, 1e-300, 1e-30, 1e-8, 1e-3, 0.1, 0.3, 0.5, 0.7, 0.9,
            1.0 - 2.0 ** -53, 1.0, 1.0 + 2.0 ** -52, 1.1, 1.3, 2.0, 2.7,
            3.5, 5.0, 8.0, 10.0, 13.0, 20.0, 100.0, 700.0, 1e5, 1e15,
            1e300, 1.7976931348623157e308)
NEGATIVE_OUT = (-5e-324, -1e-300, -0.5, -1.0, -2.0, -1e300)
UNIT = _pm([1e-300, 1e-20, 1e-8, 1e-3, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99,
            0.999999, 1.0 - 1e-12, 1.0 - 2.0 ** -53])
UNIT_OUT = _pm([1.0 + 1e-12, 1.0 + 2.0 ** -52, 1.5, 10.0, 1e300])
# steps: integers, halves (rint ties to even) and the last fractional halves
STEPS = REAL + _pm([0.5, 1.5, 2.5, 3.0, 4.5, 2.0 ** 51 + 0.5,
                    2.0 ** 52 - 0.5, 2.0 ** 52, 2.0 ** 53 + 2.0])
# activations: both tails well past where exp(-|x|) underflows
ACTIVATION = EXPLIKE + _pm([30.0, 36.0, 37.5, 800.0])
# moderate interior points for second derivatives
INTERIOR_REAL = (-2.3, -0.7, 0.4, 1.9)
INTERIOR_POS = (0.3, 1.7, 6.5)
INTERIOR_UNIT = (-0.8, -0.3, 0.2, 0.6)


# --------------------------------------------------------------------------
# unary table
# --------------------------------------------------------------------------

def _floatfn(f):
    """math.floor & co. return ints: back to float, keeping the sign of x
    (IEEE floor/ceil/trunc/rint of x always has the sign of x)."""
    return lambda t: math.copysign(float(f(t)), t)


def _sign(t):
    return t if t == 0.0 else math.copysign(1.0, t)


@dataclass
class Unary:
    name: str
    expr: object                  # sympy expression in x (and p)
    math: object                  # Python float function, bit-identical value
    points: tuple                 # generic points (reference decides)
    # outside the domain the value is nan and so is the slope (conventions: log
    # of a negative number gives nan, nan); a finite slope there is garbage
    domain: object = None         # predicate: x inside the real domain
    d1: object = None             # hand-derived derivative (checked vs diff)
    hand: bool = False            # d1 cannot be checked by sympy.diff
    edges: tuple = ()             # (x, value, deriv): conventions, edges
    at_inf: tuple = (NAN, NAN)    # limits (value, deriv) at +inf
    at_ninf: tuple = (NAN, NAN)   # and -inf
    nan_deriv: float = NAN        # derivative at x = nan
    interior: tuple = INTERIOR_REAL
    kappa: str = ""               # "v"/"d": tolerance scaled by condition no.
    alphas: tuple = (None,)       # parameter values (None: no parameter,
                                  # or, with a parameter, the default one)
    default_alpha: float = None

    @functools.cached_property
    def args(self):
        return (x, p) if self.alphas != (None,) else (x,)

    @functools.cached_property
    def deriv1(self):
        return self.d1 if self.d1 is not None else sp.diff(self.expr, x)

    @functools.cached_property
    def deriv2(self):
        # away from kinks (where the second-derivative tests look) the
        # DiracDelta of a sign/Abs derivative is 0
        return _drop_kinks(sp.diff(self.deriv1, x))

    @functools.cached_property
    def f0(self):
        return _lambdify(self.args, self.expr)

    @functools.cached_property
    def f1(self):
        return _lambdify(self.args, self.deriv1)

    @functools.cached_property
    def f2(self):
        return _lambdify(self.args, self.deriv2)

    def in_domain(self, t):
        return self.domain is None or self.domain(t)


def _drop_kinks(expr):
    """Away from kinks and jumps (where the second-derivative tests look)
    the DiracDelta of sign/Abs and the derivative of floor are 0."""
    expr = expr.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    return expr.replace(
        lambda e: isinstance(e, sp.Derivative)
        and isinstance(e.expr, (sp.floor, sp.ceiling)),
        lambda e: sp.Integer(0))


def _alpha(pa):
    return pa


def _neg_alpha(pa):
    return -pa


def _pos(t):
    return t > 0


def _unit(t):
    return -1 < t < 1


# log at +-0: value -inf, slope +inf (the one-sided limit; conventions table)
_LOG0 = ((0.0, -INF, INF), (-0.0, -INF, INF))

UNARY = {u.name: u for u in [
    # ---- exponentials and logarithms
    Unary("exp", sp.exp(x), math.exp, EXPLIKE,
          at_inf=(INF, INF), at_ninf=(0.0, 0.0)),
    Unary("exp2", 2 ** x, math.exp2, EXPLIKE + (1023.5, 1025.5, -1074.5),
          at_inf=(INF, INF), at_ninf=(0.0, 0.0)),
    Unary("expm1", expm1(x), math.expm1, EXPLIKE,
          at_inf=(INF, INF), at_ninf=(-1.0, 0.0)),
    Unary("log", sp.log(x), math.log, POSITIVE + NEGATIVE_OUT, domain=_pos,
          edges=_LOG0, at_inf=(INF, 0.0), interior=INTERIOR_POS),
    Unary("log2", sp.log(x) / sp.log(2), math.log2, POSITIVE + NEGATIVE_OUT,
          domain=_pos, edges=_LOG0, at_inf=(INF, 0.0),
          interior=INTERIOR_POS),
    Unary("log10", sp.log(x) / sp.log(10), math.log10,
          POSITIVE + NEGATIVE_OUT, domain=_pos, edges=_LOG0,
          at_inf=(INF, 0.0), interior=INTERIOR_POS),
    Unary("log1p", log1p(x), math.log1p,
          tuple(t for t in REAL if t > -1) + (
              -1.0 + 2.0 ** -53, -1.0 + 1e-12, -0.999, -0.9, -0.5)
          + (-1.0 - 1e-12, -1.5, -2.0, -1e300),
          domain=lambda t: t > -1, edges=((-1.0, -INF, INF),),
          interior=(-0.7, 0.4, 1.9),
          at_inf=(INF, 0.0)),
    # ---- powers and roots
    Unary("sqrt", sp.sqrt(x), math.sqrt, POSITIVE + NEGATIVE_OUT,
          domain=_pos, edges=((0.0, 0.0, INF), (-0.0, -0.0, INF)), at_inf=(INF, 0.0),
          interior=INTERIOR_POS),
    Unary("cbrt", sp.Piecewise((x ** sp.Rational(1, 3), x >= 0),
                               (-(-x) ** sp.Rational(1, 3), True)),
          math.cbrt, REAL + (5e-324, -5e-324, 1.7976931348623157e308),
          edges=((0.0, 0.0, INF), (-0.0, -0.0, INF)),
          at_inf=(INF, 0.0), at_ninf=(-INF, 0.0)),
    Unary("square", x ** 2, lambda t: t * t, REAL,
          at_inf=(INF, INF), at_ninf=(INF, -INF)),
    Unary("reciprocal", 1 / x, lambda t: 1.0 / t,
          REAL + (5e-324, -5e-324, 1.7976931348623157e308),
          edges=((0.0, INF, -INF), (-0.0, -INF, -INF)), at_inf=(0.0, 0.0), at_ninf=(-0.0, 0.0)),
    # ---- trigonometric
    Unary("sin", sp.sin(x), math.sin, REAL + (math.pi, math.pi / 2, 1e22)),
    Unary("cos", sp.cos(x), math.cos, REAL + (math.pi, math.pi / 2, 1e22)),
    Unary("tan", sp.tan(x), math.tan,
          REAL + (math.pi / 2, -math.pi / 2, math.pi, 1e22)),
    Unary("arcsin", sp.asin(x), math.asin, UNIT + UNIT_OUT, domain=_unit,
          edges=((1.0, math.pi / 2, INF), (-1.0, -math.pi / 2, INF)),
          interior=INTERIOR_UNIT),
    Unary("arccos", sp.acos(x), math.acos, UNIT + UNIT_OUT, domain=_unit,
          edges=((1.0, 0.0, -INF), (-1.0, math.pi, -INF)),
          interior=INTERIOR_UNIT),
    Unary("arctan", sp.atan(x), math.atan,
          REAL + (5e-324, 1.7976931348623157e308),
          at_inf=(math.pi / 2, 0.0), at_ninf=(-math.pi / 2, 0.0)),
    # ---- hyperbolic
    Unary("sinh", sp.sinh(x), math.sinh, EXPLIKE,
          at_inf=(INF, INF), at_ninf=(-INF, INF)),
    Unary("cosh", sp.cosh(x), math.cosh, EXPLIKE,
          at_inf=(INF, INF), at_ninf=(INF, -INF)),
    # 1 - tanh**2 (sympy's form) would cancel to 0 at large |x| even with
    # 50 digits; sech**2 does not.
    Unary("tanh", sp.tanh(x), math.tanh, EXPLIKE + (0.5493, 0.5494),
          d1=1 / sp.cosh(x) ** 2, at_inf=(1.0, 0.0), at_ninf=(-1.0, 0.0)),
    Unary("arcsinh", sp.asinh(x), math.asinh,
          REAL + (1.7976931348623157e308, -1.7976931348623157e308),
          at_inf=(INF, 0.0), at_ninf=(-INF, 0.0)),
    Unary("arccosh", sp.acosh(x), math.acosh,
          (1.0 + 2.0 ** -52, 1.0 + 1e-12, 1.0001, 1.1, 1.5, 2.0, 3.0, 10.0,
           100.0, 1e5, 1e15, 1e300, 1.7976931348623157e308)
          + (1.0 - 1e-12, 0.5, 0.0, -2.0, -1e300),
          domain=lambda t: t > 1, edges=((1.0, 0.0, INF),),
          at_inf=(INF, 0.0), interior=(1.3, 2.5, 7.0)),
    Unary("arctanh", sp.atanh(x), math.atanh, UNIT + UNIT_OUT, domain=_unit,
          edges=((1.0, INF, INF), (-1.0, -INF, INF)),
          interior=INTERIOR_UNIT),
    # ---- special functions.  The rule forms x*x in double before exp: a
    # relative error eps in x*x moves exp(-x*x) by x*x*eps, i.e. the
    # derivative's own condition number |x f''/f'| = 2x^2 times eps.
    Unary("erf", sp.erf(x), math.erf,
          tuple(t for t in REAL if abs(t) <= 1e5)
          + (6.1, 20.1, 26.3, -26.3, 27.3),
          at_inf=(1.0, 0.0), at_ninf=(-1.0, 0.0), kappa="d"),
    Unary("erfc", sp.erfc(x), math.erfc,
          tuple(t for t in REAL if abs(t) <= 1e5)
          + (6.1, 20.1, 26.3, -26.3, 27.3),
          at_inf=(0.0, 0.0), at_ninf=(2.0, 0.0), kappa="d"),
    # ---- sign, kinks and steps
    Unary("negative", -x, lambda t: -t,
          REAL + (5e-324, -5e-324, 1.7976931348623157e308),
          at_inf=(-INF, -1.0), at_ninf=(INF, -1.0), nan_deriv=-1.0),
    Unary("positive", x, lambda t: t,
          REAL + (5e-324, -5e-324, 1.7976931348623157e308),
          at_inf=(INF, 1.0), at_ninf=(-INF, 1.0), nan_deriv=1.0),
    # abs at 0: slope 0, the least-norm subgradient (docs/guide/conventions.md)
    Unary("absolute", sp.Abs(x), math.fabs,
          REAL + (5e-324, -5e-324, 1.7976931348623157e308),
          edges=((0.0, 0.0, 0.0), (-0.0, 0.0, 0.0)),
          at_inf=(INF, 1.0), at_ninf=(INF, -1.0)),
    # piecewise constant: slope 0 everywhere, also at the jumps and at nan
    # (docs/guide/conventions.md); sympy would give DiracDelta, so d1 = 0 is written by hand.
    Unary("sign", sp.sign(x), _sign, STEPS, d1=sp.Integer(0), hand=True,
          at_inf=(1.0, 0.0), at_ninf=(-1.0, 0.0), nan_deriv=0.0),
    Unary("floor", sp.floor(x), _floatfn(math.floor), STEPS,
          d1=sp.Integer(0), hand=True,
          at_inf=(INF, 0.0), at_ninf=(-INF, 0.0), nan_deriv=0.0),
    Unary("ceil", sp.ceiling(x), _floatfn(math.ceil), STEPS,
          d1=sp.Integer(0), hand=True,
          at_inf=(INF, 0.0), at_ninf=(-INF, 0.0), nan_deriv=0.0),
    Unary("trunc", sp.sign(x) * sp.floor(sp.Abs(x)), _floatfn(math.trunc),
          STEPS, d1=sp.Integer(0), hand=True,
          at_inf=(INF, 0.0), at_ninf=(-INF, 0.0), nan_deriv=0.0),
    # rint rounds half to even, as Python's round(); the expression is only
    # differentiated (values come from round()).
    Unary("rint", sp.floor(x + sp.S.Half), _floatfn(round), STEPS,
          d1=sp.Integer(0), hand=True,
          at_inf=(INF, 0.0), at_ninf=(-INF, 0.0), nan_deriv=0.0),
    # ---- activations (no math equivalent: values within 2 ulp of mpmath)
    Unary("sigmoid", 1 / (1 + sp.exp(-x)), None, ACTIVATION,
          at_inf=(1.0, 0.0), at_ninf=(0.0, 0.0)),
    Unary("softplus", log1p(sp.exp(x)), None, ACTIVATION,
          at_inf=(INF, 1.0), at_ninf=(0.0, 0.0)),
    Unary("log_sigmoid", -log1p(sp.exp(-x)), None, ACTIVATION,
          at_inf=(0.0, 0.0), at_ninf=(-INF, 1.0)),
    Unary("silu", x / (1 + sp.exp(-x)), None, ACTIVATION,
          at_inf=(INF, 1.0), at_ninf=(0.0, 0.0)),
    # gelu(x) = x Phi(x).  The rule must round x/sqrt(2) before erfc: in the
    # left tail erfc's condition number (~x^2) magnifies that one rounding,
    # so value and slope get 4 eps * kappa (kappa from the reference).
    Unary("gelu", x * Phi(x), None,
          tuple(t for t in ACTIVATION if abs(t) <= 1e5),
          at_inf=(INF, 1.0), at_ninf=(0.0, 0.0), kappa="vd"),
    # relu at 0: slope 0 (docs/guide/conventions.md).  At nan: nan slope (the default), like
    # absolute(nan) and maximum(nan, 0.0); relu has two slopes, so no
    # constant one applies (unlike the steps above).
    Unary("relu", sp.Piecewise((x, x > 0), (0, True)), None, REAL,
          edges=((0.0, 0.0, 0.0), (-0.0, 0.0, 0.0)),
          at_inf=(INF, 1.0), at_ninf=(0.0, 0.0)),
    # leaky_relu, elu at 0: slope alpha, the left one (docs/guide/conventions.md)
    Unary("leaky_relu", sp.Piecewise((x, x > 0), (p * x, True)), None, REAL,
          alphas=(None, 0.2, 3.0), default_alpha=0.01,
          edges=((0.0, 0.0, _alpha), (-0.0, 0.0, _alpha)),
          at_inf=(INF, 1.0), at_ninf=(-INF, _alpha)),
    Unary("elu", sp.Piecewise((x, x > 0), (p * expm1(x), True)), None,
          EXPLIKE, alphas=(None, 0.5, 2.0), default_alpha=1.0,
          edges=((0.0, 0.0, _alpha), (-0.0, 0.0, _alpha)),
          at_inf=(INF, 1.0), at_ninf=(_neg_alpha, 0.0)),
]}


# --------------------------------------------------------------------------
# binary table
# --------------------------------------------------------------------------

@dataclass
class Binary:
    name: str
    expr: object                  # sympy expression in a, b
    math: object                  # Python float function, bit-identical value
    pairs: tuple                  # generic (a, b) points
    op: str = ""                  # Python operator dualml.Dual implements
    domain: object = None         # predicate(a, b): value real
    da: object = None             # hand-derived partials
    db: object = None
    hand: bool = False            # partials cannot be checked by sympy.diff
    db_nan: object = None         # predicate(a, b): d/db is nan (convention)
    # (a, b, value, da, db): conventions and limits; None = not asserted
    specials: tuple = ()
    interior: tuple = ((0.7, 1.9), (2.3, -1.1), (-1.6, 0.45))

    @functools.cached_property
    def pa(self):
        return self.da if self.da is not None else sp.diff(self.expr, a)

    @functools.cached_property
    def pb(self):
        return self.db if self.db is not None else sp.diff(self.expr, b)

    @functools.cached_property
    def second(self):
        """Lambdified (f_aa, f_ab, f_bb)."""
        out = []
        for d in (sp.diff(self.pa, a), sp.diff(self.pa, b),
                  sp.diff(self.pb, b)):
            d = _drop_kinks(d)
            out.append(_lambdify((a, b), d))
        return tuple(out)

    @functools.cached_property
    def f0(self):
        return _lambdify((a, b), self.expr)

    @functools.cached_property
    def fa(self):
        return _lambdify((a, b), self.pa)

    @functools.cached_property
    def fb(self):
        return _lambdify((a, b), self.pb)

    def in_domain(self, s, t):
        return self.domain is None or self.domain(s, t)


def _grid(xs, ys, skip_ties=True):
    return tuple((s, t) for s in xs for t in ys if not (skip_ties and s == t))


_ARITH = (-1e300, -20.0, -2.5, -1e-300, 0.75, 3.0, 1e10)
_ANGLE = (-1e300, -3.0, -1.0, -1e-300, 1e-300, 0.5, 2.0, 1e300)
_ORDER = (-1e300, -2.0, -1e-300, 0.0, 1e-300, 3.0, 1e300)
_LAE = (-800.0, -20.0, -1.0, -1e-300, 0.0, 1e-300, 0.5, 3.0, 40.0, 800.0)
_DIVMOD = _grid((-1e15, -7.5, -3.0, -1e-300, -0.0, 0.0, 0.5, 2.0, 7.0, 1e10),
                (-3.0, -0.7, 0.3, 2.0, 1e5))
_LN2 = math.log(2.0)
_PI = math.pi


def _pow_domain(s, t):
    return s > 0 or (s < 0 and float(t).is_integer()) or (s == 0 and t > 0)


# min/max/fmin/fmax: ties split 0.5/0.5 (docs/guide/conventions.md); maximum/minimum propagate
# nan into value and partials, fmax/fmin take the other operand's.
def _order_specials(is_max, is_f):
    sp_ = [(1.5, 1.5, 1.5, 0.5, 0.5), (-1e300, -1e300, -1e300, 0.5, 0.5),
           (0.0, -0.0, 0.0, 0.5, 0.5), (INF, INF, INF, 0.5, 0.5),
           (INF, 1.0, INF if is_max else 1.0, float(is_max),
            float(not is_max)),
           (-INF, 1.0, 1.0 if is_max else -INF, float(not is_max),
            float(is_max))]
    if is_f:
        sp_ += [(NAN, 1.0, 1.0, 0.0, 1.0), (1.0, NAN, 1.0, 1.0, 0.0),
                (NAN, NAN, NAN, NAN, NAN)]
    else:
        sp_ += [(NAN, 1.0, NAN, NAN, NAN), (1.0, NAN, NAN, NAN, NAN),
                (NAN, NAN, NAN, NAN, NAN)]
    return tuple(sp_)


BINARY = {f.name: f for f in [
    Binary("add", a + b, lambda s, t: s + t, _grid(_ARITH, _ARITH, False),
           op="+", specials=((INF, 1.0, INF, 1.0, 1.0),
                             (1.0, -INF, -INF, 1.0, 1.0),
                             (0.0, -0.0, 0.0, 1.0, 1.0))),
    Binary("subtract", a - b, lambda s, t: s - t,
           _grid(_ARITH, _ARITH, False), op="-",
           specials=((INF, 1.0, INF, 1.0, -1.0),
                     (1.0, INF, -INF, 1.0, -1.0))),
    Binary("multiply", a * b, lambda s, t: s * t,
           _grid(_ARITH, _ARITH, False), op="*",
           specials=((INF, 2.0, INF, 2.0, INF), (0.0, 3.0, 0.0, 3.0, 0.0),
                     (-0.0, 3.0, -0.0, 3.0, -0.0))),
    # conventions: Dual(1,1)/0.0 -> (inf, inf); Dual(0,1)/0.0 -> value nan
    Binary("divide", a / b, lambda s, t: s / t,
           _grid(_ARITH, tuple(t for t in _ARITH if t), False), op="/",
           specials=((1.0, 0.0, INF, INF, -INF), (-1.0, 0.0, -INF, INF, INF),
                     (1.0, -0.0, -INF, -INF, -INF),
                     (0.0, 0.0, NAN, None, None),
                     (1.0, INF, 0.0, 0.0, 0.0), (INF, 2.0, INF, 0.5, -INF))),
    # power, conventions: Dual(0,1)**2 -> (0, 0); Dual(-2,1)**3 -> (-8, 12);
    # Dual(0,1)**0 -> (1, 0); 0.0**Dual(2,1) -> (0, 0);
    # 2.0**Dual(3,1) -> (8, 8 ln 2); Dual(0,1)**0.5: slope +inf;
    # negative base: d/db nan; 0**y: d/dy nan for y <= 0.
    Binary("power", a ** b, math.pow,
           _grid((1e-300, 0.1, 0.5, 1.0, 1.5, 2.0, 10.0, 1e10),
                 (-3.5, -2.0, -0.5, 0.5, 1.0, 2.0, 3.0, 7.25), False)
           + _grid((-3.0, -0.5, -1.5, -1e10), (-3.0, -2.0, 2.0, 3.0, 5.0))
           + ((-2.0, 0.5), (-1.5, 2.5), (-1e-300, 0.25)),
           op="**", domain=_pow_domain, db_nan=lambda s, t: s < 0,
           # a negative base with an integer exponent: f_aa exists, the
           # partials through d/db are nan like d/db itself
           interior=((0.7, 1.9), (2.3, -1.1), (1.6, 0.45), (-1.6, 3.0)),
           specials=((0.0, 2.0, 0.0, 0.0, 0.0), (-2.0, 3.0, -8.0, 12.0, NAN),
                     (0.0, 0.0, 1.0, 0.0, NAN), (2.0, 3.0, 8.0, 12.0,
                                                 8.0 * _LN2),
                     (0.0, 0.5, 0.0, INF, 0.0), (0.0, 1.0, 0.0, 1.0, 0.0),
                     (0.0, -1.0, INF, -INF, NAN), (-2.0, 2.0, 4.0, -4.0, NAN),
                     (-2.0, 0.5, NAN, NAN, NAN), (5.0, 0.0, 1.0, 0.0,
                                                  math.log(5.0)),
                     (INF, 2.0, INF, INF, INF), (2.0, INF, INF, INF, INF),
                     (2.0, -INF, 0.0, 0.0, 0.0), (0.5, INF, 0.0, 0.0, 0.0),
                     # subnormal base, exponent ~ 0: b a**(b-1) ~ a**b ~ 1
                     # although a**(b-1) alone overflows
                     (1e-310, 1e-310, 1.0, 1.0,
                      -713.8013788281542))),
    # arctan2 at the origin: value 0, partials nan (direction-dependent)
    Binary("arctan2", sp.atan2(a, b), math.atan2, _grid(_ANGLE, _ANGLE),
           specials=((0.0, 0.0, 0.0, NAN, NAN), (0.0, -0.0, _PI, NAN, NAN),
                     (-0.0, 0.0, -0.0, NAN, NAN), (0.0, 2.0, 0.0, 0.5, -0.0),
                     (2.0, 0.0, _PI / 2, 0.0, -0.5),
                     (1.0, INF, 0.0, 0.0, 0.0), (INF, 1.0, _PI / 2, 0.0, 0.0))),
    # hypot at the origin: partials 0, like abs at 0
    # Python's math.hypot is correctly rounded; these pairs are ones where
    # a merely faithful hypot (within 1 ulp) gives the other neighbour
    # value: the C library's hypot (dualml calls it), not math.hypot, which
    # CPython computes with its own correctly rounded algorithm (docs/guide/conventions.md);
    # test_rules.test_hypot_within_one_ulp_of_math covers the difference
    Binary("hypot", sp.sqrt(a ** 2 + b ** 2), _libm_hypot,
           _grid(_ANGLE, _ANGLE, False)
           + ((1.894, 1.867), (4.721, 1.007),
              (4.656079136182958e-138, 4.656079136182958e-138)),
           specials=((0.0, 0.0, 0.0, 0.0, 0.0), (-0.0, 0.0, 0.0, 0.0, 0.0),
                     (0.0, 3.0, 3.0, 0.0, 1.0), (-3.0, 0.0, 3.0, -1.0, 0.0),
                     (INF, 1.0, INF, 1.0, 0.0), (1.0, -INF, INF, 0.0, -1.0))),
    Binary("minimum", sp.Piecewise((a, a < b), (b, True)),
           lambda s, t: min(s, t), _grid(_ORDER, _ORDER),
           specials=_order_specials(False, False)),
    Binary("maximum", sp.Piecewise((a, a > b), (b, True)),
           lambda s, t: max(s, t), _grid(_ORDER, _ORDER),
           specials=_order_specials(True, False)),
    Binary("fmin", sp.Piecewise((a, a < b), (b, True)),
           lambda s, t: min(s, t), _grid(_ORDER, _ORDER),
           specials=_order_specials(False, True)),
    Binary("fmax", sp.Piecewise((a, a > b), (b, True)),
           lambda s, t: max(s, t), _grid(_ORDER, _ORDER),
           specials=_order_specials(True, True)),
    # copysign(a, b) = |a| sign(b); b = +-0 counts by its sign bit, which
    # sympy cannot see, so those points are specials.
    Binary("copysign", sp.Piecewise((sp.Abs(a), b > 0), (-sp.Abs(a), True)),
           math.copysign,
           _grid((-1e300, -2.5, -1e-300, 1e-300, 0.75, 1e300),
                 (-1e300, -3.0, -1e-300, 1e-300, 2.0, 1e300), False),
           specials=((2.0, -0.0, -2.0, -1.0, 0.0), (-2.0, 0.0, 2.0, -1.0, 0.0),
                     (2.0, 0.0, 2.0, 1.0, 0.0), (-2.0, -0.0, -2.0, 1.0, 0.0),
                     (INF, -1.0, -INF, -1.0, 0.0))),
    # logaddexp written without cancellation in the reference
    Binary("logaddexp", sp.Piecewise((a + log1p(sp.exp(b - a)), a >= b),
                                     (b + log1p(sp.exp(a - b)), True)),
           None, _grid(_LAE, _LAE) + ((1e10, 1e10 + 0.5), (-1e10, -1e10 - 2.0),
                                      (1e17, 1e17 + 16.0)),
           # logaddexp(x, x) = x + ln 2: at a tie each partial is 1/2
           specials=((1.0, 1.0, 1.0 + _LN2, 0.5, 0.5),
                     (800.0, 800.0, 800.0 + _LN2, 0.5, 0.5),
                     (1e17, 1e17, 1e17, 0.5, 0.5),
                     (-INF, -INF, -INF, None, None),
                     (INF, 1.0, INF, 1.0, 0.0), (-INF, 1.0, 1.0, 0.0, 1.0))),
    # floor_divide: slope 0 everywhere; b = 0 gives a/b (NumPy)
    Binary("floor_divide", sp.floor(a / b), lambda s, t: s // t, _DIVMOD,
           op="//", da=sp.Integer(0), db=sp.Integer(0), hand=True,
           specials=((1.0, 0.0, INF, 0.0, 0.0), (-1.0, 0.0, -INF, 0.0, 0.0),
                     (0.0, 0.0, NAN, NAN, NAN), (1.0, INF, 0.0, 0.0, 0.0),
                     (7.0, 2.0, 3.0, 0.0, 0.0))),
    # remainder a - b floor(a/b): partials (1, -floor(a/b)); b = 0 -> nan
    Binary("remainder", a - b * sp.floor(a / b), lambda s, t: s % t, _DIVMOD,
           op="%", da=sp.Integer(1), db=-sp.floor(a / b), hand=True,
           specials=((1.0, 0.0, NAN, None, None), (1.0, INF, 1.0, 1.0, 0.0),
                     (-1.0, INF, INF, 1.0, 1.0), (7.0, 2.0, 1.0, 1.0, -3.0),
                     (-7.0, 2.0, 1.0, 1.0, 4.0))),
]}
