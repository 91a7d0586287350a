"""Differential fuzz test: random programs over the rule table, every path
against every other and against mpmath at 50 digits.

Each program is a random expression tree over the rules of
csrc/dual_rules.def (dualml.UNARY, UNARY_PARAM and BINARY) in one to three
variables, with constants and points drawn from special values (signed
zeros, subnormals, tiny and huge magnitudes, overflow edges, integers, inf,
nan) and from random ones.  For every program and point:

* values: the float program, the Dual (scalar) path and the DualArray
  (array) path give the same bits (the array kernels run on their plain
  path, which is the scalar rule; the SIMD path is held to ulps in
  test_kernels);
* first order: gradient on both backends, jvp along a random direction on
  both backends and jacobian agree with the reference and with each other;
* second order: hessian on both backends and, in one variable, derivative
  of derivative agree with the reference and with each other;
* Taylor mode along the same direction, at orders 2 and TAYLOR_K = 4, on
  the array path and (one variable) the scalar one: every coefficient the
  same bits on every run, c0 the float program's, c1 the scalar jvp's,
  2 c2 the nested path's v' H v, and c1..c4 against the mpmath Taylor
  series of the float program (the banner "Taylor mode" below).

The reference carries the chain rule out in mpmath at 50 digits along the
float program: each node's partials are the sympy derivatives of the
mathematical definitions in tests/reference.py, evaluated at the node's
double arguments.  So the reference is the exact derivative of the
floating-point program, which is what dualml claims to compute, and the
tolerance is a running error bound (a few eps times the sum of the
magnitudes of all terms, plus the rounding of subnormal products), not a
guess.  The reference decides per gradient and Hessian entry.  Where it does not
apply the paths are compared with each other instead: at a kink or jump of
a rule (abs at 0, ties of min/max, the origin of hypot/arctan2, base 0 of
power), where dualml's written conventions decide, and where an
intermediate value is inf or nan (first order only).  An entry one of
whose terms overflows the doubles is not compared.  Entries that go
through a known open item (marked "(open)" below: partials that under- or
overflow before the tangent multiplies them, and the scalar/array
conventions at infinities and domain errors) are not compared either; the
comments there name the item and where its fix belongs.

Environment: DUALML_FUZZ_N programs (default 2000, about 22 s; 20000 about 3 min),
DUALML_FUZZ_SEED.  Every finding is one line, a shell command that
reproduces it, followed by what differs.
"""
import functools
import math
import os

import mpmath
import numpy as np
import pytest
import sympy as sp

import dualml
from dualml import _kernels as K

import reference as R
from dualml._ruletable import parse_rules

N_PROGRAMS = int(os.environ.get("DUALML_FUZZ_N", "2000"))
SEED = int(os.environ.get("DUALML_FUZZ_SEED", "20240615"))
EPS = 2.0 ** -53
MAXF = 1.7976931348623157e308
TINY = 2.0 ** -1022
DENORM = 2.0 ** -1074
INF, NAN = math.inf, math.nan

# Constants in programs and coordinates of points.
CONSTS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, -2.5, 0.1, 1e-8, 10.0,
          1e10, 1e-300, 1e300]
SPECIAL_POINTS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 0.75, -0.75, 1e-300,
                  -1e-300, 5e-324, -5e-324, TINY, 1e-12, 1e-8, 1e8, 1e154, 1e300, -1e300,
                  30.0, 40.0, 356.0, 710.0, -745.0, 2.0 ** 53, INF, -INF, NAN]
UNARY = list(dualml.UNARY)
PARAM = list(dualml.UNARY_PARAM)
BINARY = list(dualml.BINARY)
ALPHAS = [0.01, 0.2, 1.5]

# ---------------------------------------------------------------------------
# Programs


def random_program(rng, nvars):
    def node(depth):
        if depth >= 4 or rng.random() < 0.15 + 0.2 * depth:
            if rng.random() < 0.8:
                return ("var", int(rng.integers(nvars)))
            return ("const", float(rng.choice(CONSTS)))
        r = rng.random()
        if r < 0.45:
            return ("u", str(rng.choice(UNARY)), node(depth + 1))
        if r < 0.5:
            return ("p", str(rng.choice(PARAM)), node(depth + 1), float(rng.choice(ALPHAS)))
        return ("b", str(rng.choice(BINARY)), node(depth + 1), node(depth + 1))
    while True:
        prog = node(0)
        if prog[0] not in ("var", "const"):
            return prog


def random_point(rng, nvars):
    out = []
    for _ in range(nvars):
        r = rng.random()
        if r < 0.35:
            out.append(float(rng.choice(SPECIAL_POINTS)))
        elif r < 0.8:
            out.append(float(rng.standard_normal() * 3))
        else:
            out.append(float(rng.choice([-1, 1]) * 10.0 ** rng.uniform(-320, 308)))
    return out


def fnum(c):
    return {INF: "inf", -INF: "-inf"}.get(c, "nan" if c != c else repr(c))


def source(n):
    """The program as a Python expression over v[i] with dualml calls."""
    kind = n[0]
    if kind == "var":
        return f"v[{n[1]}]"
    if kind == "const":
        return fnum(n[1])
    if kind == "u":
        return f"dualml.{n[1]}({source(n[2])})"
    if kind == "p":
        return f"dualml.{n[1]}({source(n[2])}, {n[3]!r})"
    return f"dualml.{n[1]}({source(n[2])}, {source(n[3])})"


NS = {"dualml": dualml, "inf": INF, "nan": NAN, "np": np}


def compile_program(src):
    return eval("lambda v: " + src, NS)          # noqa: S307 (our own generator)


# ---------------------------------------------------------------------------
# The reference: chain rule in mpmath along the float program


class NoMagnitude(Exception):
    """No reference and no error bound here (an intermediate is inf or nan,
    a term overflows, mpmath cannot evaluate a partial)."""


def mp(v):
    return mpmath.mpf(v)


def real(v):
    if isinstance(v, mpmath.mpc):
        if v.imag != 0:
            return mpmath.mpf("nan")
        return v.real
    return mpmath.mpf(v)


def call(fn, *args):
    """fn at the current precision, raised until two precisions agree
    (remembered: the points repeat, and a partial at 1e300 takes 0.1 s)."""
    v = _call(fn, mpmath.mp.prec, *args)
    if v is None:
        raise NoMagnitude("mpmath cannot evaluate this partial")
    return v


@functools.lru_cache(maxsize=1 << 16)
def _call(fn, prec, *args):
    try:
        return real(mpmath.autoprec(fn, maxprec=4000)(*args))
    except (ZeroDivisionError, ValueError):
        return mpmath.mpf("nan")
    except (OverflowError, mpmath.libmp.NoConvergence):
        # mpmath's own limits (erfc of 1e300), or a partial that is noise at
        # every precision (it underflows far below the doubles)
        return None


def kink(name, args):
    """A rule at a point where its derivative is a convention of dualml."""
    if name in ("absolute", "relu", "leaky_relu", "elu"):
        return args[0] == 0
    if name in ("minimum", "maximum", "fmin", "fmax"):
        return args[0] == args[1]
    if name == "copysign":
        return args[0] == 0 or args[1] == 0
    if name in ("hypot", "arctan2"):
        return args[0] == 0 and args[1] == 0
    if name == "power":
        return args[0] == 0
    if name in ("floor_divide", "remainder"):
        a, b = args
        if b == 0:
            return True
        # a jump: the float quotient's floor is not the exact one
        return float(mpmath.floor(mp(a) / mp(b))) != dualml.floor_divide(a, b)
    if name in ("sqrt", "cbrt", "log", "log2", "log10"):
        return args[0] == 0                       # slope inf: the sign of 0 decides
    return False


# The accuracy model of the partial formulas (dual.h and the nested
# column), in mpmath: a partial is within a few eps of the sum of the
# magnitudes of the terms its formula adds (its envelope), not of itself,
# where those terms cancel near a zero of the partial; exp(-x*x) with x*x
# rounded is within x^2 eps (erf' at 25 is good to 1e-13).
def _s(t):
    return 1 / (1 + mpmath.exp(-t))


ENV1 = {   # first partial: envelope(x) >= |f'(x)|; binary: (for f_a, for f_b)
    "gelu": lambda t: (mpmath.ncdf(t) + abs(t) * mpmath.npdf(t)) * (1 + t * t),
    "silu": lambda t: _s(t) * (1 + abs(t) * _s(-t)),
    "erf": lambda t: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-t * t) * (1 + 2 * t * t),
    "erfc": lambda t: 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-t * t) * (1 + 2 * t * t),
    # logaddexp's partials are functions of a - b, which is rounded first
    "logaddexp": lambda a, b: (_s(a - b) * (1 + abs(a) + abs(b)),
                               _s(b - a) * (1 + abs(a) + abs(b))),
}
ENV2 = {   # second partials: unary envelope(x), binary (f_aa, f_ab, f_bb)
    "gelu": lambda t: mpmath.npdf(t) * (2 + t * t) * (1 + t * t),
    "silu": lambda t: _s(t) * _s(-t) * (2 + abs(t)),
    "erf": lambda t: 4 / mpmath.sqrt(mpmath.pi) * abs(t) * mpmath.exp(-t * t) * (1 + 2 * t * t),
    "erfc": lambda t: 4 / mpmath.sqrt(mpmath.pi) * abs(t) * mpmath.exp(-t * t) * (1 + 2 * t * t),
    # power's nested f_a is b * a^(b-1) with b - 1 rounded: a^(b-1) is off
    # by |(b-1) ln a| eps (the C partial uses y / a and is not)
    "power": lambda a, b: (abs(b * (b - 1) * abs(a) ** (b - 2) * (b - 1) * mpmath.log(abs(a))),
                           abs(a) ** (b - 1) * (1 + abs(b * mpmath.log(abs(a))))
                           * (1 + abs((b - 1) * mpmath.log(abs(a)))), 0),
    "arctan2": lambda a, b: (0, 1 / (a * a + b * b), 0),
    "logaddexp": lambda a, b: (lambda q: (q, q, q))(
        _s(a - b) * _s(b - a) * (1 + abs(a) + abs(b))),
}


def open_issue(name, args, moving):
    """Points where dualml is known wrong, with the open item they belong to
    (they get no reference; the paths are still compared)."""
    if name in ("hypot", "arctan2") and 0 < max(abs(t) for t in args) < 1 / MAXF:
        # the nested partials divide by the larger operand: its tangent
        # factor 1/m overflows for a subnormal m
        return f"{name}: 1/max(|a|, |b|) overflows (open)"
    return None


class Ref:
    """value (float); gradient g and Hessian H (mpf); their magnitude bounds
    Mg, MH (sums of the absolute values of all terms; above MAXF a term
    overflows in doubles and the entry is not compared) and the bounds Ug,
    UH of errors that are not relative to those (subnormal rounding,
    partials from a subnormal value, conditioned partial formulas).
    whyg, whyH: per entry, why the reference does not decide it (None: it
    does) -- a kink of some rule it went through, or an open item; whyg2:
    whyg as the second-order entries see it (partials out of the normal
    range are open there, _range_why)."""

    def __init__(self, n):
        z = mpmath.mpf(0)
        self.value = 0.0
        self.g, self.Mg, self.Ug = [z] * n, [z] * n, [z] * n
        self.H = [[z] * n for _ in range(n)]
        self.MH = [[z] * n for _ in range(n)]
        self.UH = [[z] * n for _ in range(n)]
        self.whyg = [None] * n
        self.whyg2 = [None] * n
        self.whyH = [[None] * n for _ in range(n)]
        self.Sg = [False] * n                     # structural dependence
        self.peak = [mpmath.mpf(0)] * n          # largest Mg of any node below
        self.SH = [[False] * n for _ in range(n)]


def bounded(M):
    """The terms of an entry are doubles (none overflows, none is nan)."""
    return M == M and M <= MAXF


def _digits(values):
    # enough digits that 1 + x, x + 1/x and the like do not cancel at the
    # magnitudes of the arguments (sigmoid'' at 1e-171 needs 171 + 50), nor
    # a^2 + b^2 at the ratio of two arguments: sympy's hypot f_bb is
    # 1/h - b^2/h^3, which cancels by (a/b)^2 (at a = 1.9e-41, b = 2.1e40
    # it was 0 at 137 digits at every precision autoprec tried, not 4e-203)
    e = [math.log10(abs(v)) for v in values if v != 0 and math.isfinite(v)]
    spread = max(e) - min(e) if e else 0.0
    return 50 + min(800, int(2 * max([abs(t) for t in e] + [0.0]) + 2 * spread) + 5)


def _partials(n, args):
    """mpf partials of rule n at double args: unary (p1, p2); binary
    (pa, pb, paa, pab, pbb)."""
    kind, name = n[0], n[1]
    with mpmath.workdps(_digits(args)):
        m = [mp(a) for a in args]
        if kind in ("u", "p"):
            u = R.UNARY[name]
            extra = (mp(n[3]),) if kind == "p" else ()
            return call(u.f1, m[0], *extra), call(u.f2, m[0], *extra)
        bf = R.BINARY[name]
        faa, fab, fbb = bf.second
        return (call(bf.fa, *m), call(bf.fb, *m), call(faa, *m), call(fab, *m),
                call(fbb, *m))


# Rules whose first-order products are right where the partial is not a
# normal double: the table's tangent columns (DUAL_WITH_T, the hand-written
# dual_<f>_tcol; tests/test_tangents.py), and the rules whose partials are
# doubles exactly (operands, +-1, 0, 1/2, alpha, integers: the plain
# product is one rounding).
FIRST_ORDER_IN_RANGE = {r.name for r in parse_rules()
                        if any(t is not None for t in r.tangents)} | {
    "add", "subtract", "multiply", "negative", "positive", "absolute", "sign",
    "floor", "ceil", "trunc", "rint", "relu", "leaky_relu", "copysign", "minimum",
    "maximum", "fmin", "fmax", "floor_divide", "remainder"}


def _range_why(p, what, name=None):
    # an exact partial that is not a normal double: partials rounded before
    # the tangent multiplies them (issue 15).  On the first-order paths the
    # rules of FIRST_ORDER_IN_RANGE give the product within a few ulp, so
    # their entries are decided by the reference (name given); the others
    # (arcsin & co., whose partials stay normal at double arguments, are not
    # reached here) and the nested paths (second derivatives: the nested
    # columns multiply without a tangent column) are still open, so the
    # entries through such a partial have no reference there, and the paths
    # (which round it at different places) are not held to agree either.
    if name in FIRST_ORDER_IN_RANGE:
        return None
    if p == p and not mpmath.isinf(p) and p != 0 and not (TINY <= abs(p) <= MAXF):
        return f"{what} outside the normal range (open)"
    return None


def _merge(*whys):
    """The reason an entry is not decided: an open item wins (the paths are
    then not compared either), else the first kink."""
    whys = [w for w in whys if w]
    return next((w for w in whys if "(open)" in w), whys[0] if whys else None)


# Rules whose partials go through e = exp(-|x|) (or the normal density):
# where e is subnormal (|x| in 708..745) the partial loses DENORM / e of
# relative accuracy although it may itself be a normal number (silu').
INNER_EXP = {"silu": lambda t: mpmath.exp(-abs(t)), "gelu": lambda t: mpmath.npdf(t),
             "sigmoid": lambda t: mpmath.exp(-abs(t)),
             "softplus": lambda t: mpmath.exp(-abs(t)),
             "log_sigmoid": lambda t: mpmath.exp(-abs(t))}


def _mag(p):
    # magnitude of a partial; inf/nan partials make the entry unbounded
    return abs(p) if p == p else mpmath.inf


def reference(n, point, nvars):
    """The Ref of program n at point (first and second order)."""
    kind = n[0]
    r = Ref(nvars)
    if kind == "var":
        r.value = point[n[1]]
        r.g[n[1]] = r.Mg[n[1]] = r.peak[n[1]] = mpmath.mpf(1)
        r.Sg[n[1]] = True
        return r
    if kind == "const":
        r.value = n[1]
        return r
    kids = [reference(c, point, nvars) for c in
            ((n[2],) if kind in ("u", "p") else (n[2], n[3]))]
    args = [k.value for k in kids]
    fn = getattr(dualml, n[1])
    r.value = y = fn(*args, n[3]) if kind == "p" else fn(*args)
    if not all(math.isfinite(a) for a in args) or not math.isfinite(y):
        raise NoMagnitude("non-finite intermediate")
    # an operand moves if its tangent is not zero by structure (Sg, SH): the
    # exact tangent may cancel to 0 where dualml's rounded one does not, and a
    # zero partial times an inf or nan tangent is nan in doubles
    moving = [any(k.Sg) or any(any(row) for row in k.SH) for k in kids]
    if not any(moving):
        return r
    P = _partials(n, args)
    first = P[:1] if len(kids) == 1 else P[:2]
    second = P[1:2] if len(kids) == 1 else P[2:]
    slack, here = 0, None                          # at a kink: extra magnitude
    if kink(n[1], args):
        here, slack = f"{n[1]} at a kink or jump (a convention decides)", 2
    why1 = [here or _range_why(p, "partial", n[1]) for p in first]
    why1o = [here or _range_why(p, "partial") for p in first]     # for whyg2, H
    why2 = [here or open_issue(n[1], args, moving) or _range_why(q, "second partial")
            for q in second]
    # errors of the partial formulas beyond a few eps of themselves: the
    # envelopes above, and partials computed from a subnormal value y (its
    # rounding is up to DENORM / |y| relative)
    m = [mp(t) for t in args]
    rho = DENORM / abs(mp(y)) if 0 < abs(y) < TINY else mpmath.mpf(0)
    if n[1] in INNER_EXP:
        with mpmath.workdps(_digits(args)):
            inner = INNER_EXP[n[1]](m[0])
        if 0 < inner < TINY:
            rho += DENORM / inner
    e1 = [mpmath.mpf(0)] * len(kids)
    e2 = [mpmath.mpf(0)] * len(second)
    with mpmath.workdps(_digits(args)):
        try:
            if n[1] in ENV1:
                v = ENV1[n[1]](*m)
                e1 = [8 * EPS * w for w in ((v,) if len(kids) == 1 else v)]
            if n[1] in ENV2:
                v = ENV2[n[1]](*m)
                e2 = [8 * EPS * w for w in ((v,) if len(kids) == 1 else v)]
        except (ZeroDivisionError, ValueError):       # at a singular point
            e1 = [mpmath.inf] * len(e1)
            e2 = [mpmath.inf] * len(e2)
    for i in range(nvars):
        r.peak[i] = max(k.peak[i] for k in kids)
        for p, k, e, w, wo in zip(first, kids, e1, why1, why1o):
            if k.Sg[i]:
                r.Sg[i] = True
                r.g[i] += p * k.g[i]
                # a child term beyond the doubles is inf there: inf * 0 is nan
                r.Mg[i] += (_mag(p) + slack) * k.Mg[i] if bounded(k.Mg[i]) else mpmath.inf
                r.Ug[i] += _mag(p) * (k.Ug[i] + rho * k.Mg[i]) + e * k.Mg[i] + DENORM
                r.whyg[i] = _merge(r.whyg[i], k.whyg[i], w)
                r.whyg2[i] = _merge(r.whyg2[i], k.whyg2[i], wo)
        r.peak[i] = max(r.peak[i], r.Mg[i])
    if len(kids) == 1:
        k0 = kids[0]
        pairs = [(k0, k0, second[0], e2[0], why2[0])]
    else:
        a, b = kids
        pairs = [(a, a, second[0], e2[0], why2[0]), (a, b, second[1], e2[1], why2[1]),
                 (b, a, second[1], e2[1], why2[1]), (b, b, second[2], e2[2], why2[2])]
    for i in range(nvars):
        for j in range(nvars):
            h = mh = uh = mpmath.mpf(0)
            why = None
            for p, k, e, w in zip(first, kids, e1, why1o):
                if k.SH[i][j]:
                    r.SH[i][j] = True
                    h += p * k.H[i][j]
                    mh += ((_mag(p) + slack) * k.MH[i][j] if bounded(k.MH[i][j])
                           else mpmath.inf)
                    uh += _mag(p) * (k.UH[i][j] + rho * k.MH[i][j]) + e * k.MH[i][j] + DENORM
                    why = _merge(why, k.whyH[i][j], w)
            for k1, k2, q, e, w in pairs:
                if k1.Sg[i] and k2.Sg[j]:
                    r.SH[i][j] = True
                    h += q * k1.g[i] * k2.g[j]
                    mh += ((_mag(q) + slack) * k1.Mg[i] * k2.Mg[j]
                           if bounded(k1.Mg[i]) and bounded(k2.Mg[j]) else mpmath.inf)
                    uh += (_mag(q) * (k1.Ug[i] * k2.Mg[j] + k1.Mg[i] * k2.Ug[j]
                                      + rho * k1.Mg[i] * k2.Mg[j])
                           + e * k1.Mg[i] * k2.Mg[j] + DENORM)
                    why = _merge(why, k1.whyg2[i], k2.whyg2[j], w)
            r.H[i][j], r.MH[i][j], r.UH[i][j], r.whyH[i][j] = h, mh, uh, why
    return r


def nonfinite_intermediate(n, point):
    """Whether some node of the float program is inf or nan."""
    def walk(n):
        kind = n[0]
        if kind == "var":
            return point[n[1]], False
        if kind == "const":
            return n[1], False
        kids = [walk(c) for c in n[2:] if isinstance(c, tuple)]
        args = [k[0] for k in kids]
        fn = getattr(dualml, n[1])
        y = fn(*args, n[3]) if kind == "p" else fn(*args)
        return y, any(k[1] for k in kids) or not math.isfinite(y)
    return walk(n)[1]


def count_ops(n):
    if n[0] in ("var", "const"):
        return 0
    return 1 + sum(count_ops(c) for c in n[2:] if isinstance(c, tuple))


# ---------------------------------------------------------------------------
# Comparisons


def same_bits(a, b):
    return (a != a and b != b) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def agree(a, b, tol):
    """Two results of different paths: equal within tol, or both nan, or
    the same infinity."""
    a, b = float(a), float(b)
    if a != a or b != b:
        return a != a and b != b
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= tol


def near_ref(got, ref, M, U, nops):
    """dualml's result against the reference entry: relative to the sum of
    the magnitudes of the terms (the error bound of forward mode), plus the
    absolute rounding of subnormal products."""
    got = float(got)
    if ref != ref:
        return got != got
    if got != got or math.isinf(got):
        return False
    tol = 8 * (nops + 2) * EPS * float(M) + 8 * float(U)
    return abs(got - float(ref)) <= tol


# how each path is called, for the reproducer line
CALLS = {
    "Dual value": "dualml.value_and_gradient(f, list(x), method='scalar')[0]",
    "DualArray value": "dualml.value_and_gradient(f, x, method='array')[0]",
    "gradient (scalar)": "dualml.gradient(f, list(x), method='scalar')",
    "gradient (array)": "dualml.gradient(f, x, method='array')",
    "jacobian": "dualml.jacobian(lambda v: [f(v)], x)",
    "jvp (scalar)": "dualml.jvp(f, list(x), V, method='scalar')",
    "jvp (array)": "dualml.jvp(f, x, np.array(V), method='array')",
    "jvp scalar and array": "dualml.jvp(f, list(x), V, method='scalar'), "
                            "dualml.jvp(f, x, np.array(V), method='array')",
    "hessian (scalar)": "dualml.hessian(f, list(x), method='scalar')",
    "hessian (array)": "dualml.hessian(f, x, method='array'), "
                       "dualml.hessian(f, list(x), method='scalar')",
    "derivative(derivative)": "dualml.derivative(lambda u: dualml.derivative("
                              "lambda w: f([w]), u), x[0])",
}


class Findings(list):
    def add(self, i, src, point, what, detail, v_dir=(), call=None):
        if call is None:
            call = CALLS[max((k for k in CALLS if what.startswith(k)), key=len)]
        self.append(
            f"DUALML_SIMD=0 python -c \"import numpy as np, dualml; from numpy import inf, "
            f"nan; f = lambda v: {src}; x = np.array([{', '.join(fnum(c) for c in point)}]); "
            f"V = {list(v_dir)}; print({call})\"  # [#{i} seed={SEED}] {what}: {detail}")


def _tol(M, U, nops):
    return 8 * (nops + 2) * EPS * float(M) + 8 * float(U)


def check_program(i, prog, point, v_dir, found, counts):
    src = source(prog)
    f = compile_program(src)
    n = len(point)
    nops = count_ops(prog)
    # -- values: float, Dual, DualArray
    y = float(f(list(point)))
    yd, g_s = dualml.value_and_gradient(f, list(point), method="scalar")
    ya, g_a = dualml.value_and_gradient(f, np.array(point), method="array")
    for label, other in (("Dual value", yd), ("DualArray value", ya)):
        if not same_bits(float(other), y):
            found.add(i, src, point, f"{label} differs from the float program",
                      f"float {y!r}, {label} {float(other)!r}")
    g_s = np.atleast_1d(np.asarray(g_s, dtype=float))
    g_a = np.atleast_1d(np.asarray(g_a, dtype=float))
    jv_s = float(dualml.jvp(f, list(point), list(v_dir), method="scalar")[1])
    jv_a = float(dualml.jvp(f, np.array(point), np.array(v_dir), method="array")[1])
    J = np.asarray(dualml.jacobian(lambda v: [f(v)], np.array(point)), dtype=float)[0]
    H_s = np.asarray(dualml.hessian(f, list(point), method="scalar"), dtype=float).reshape(n, n)
    H_a = np.asarray(dualml.hessian(f, np.array(point), method="array"),
                     dtype=float).reshape(n, n)
    second = [("hessian (scalar)", H_s), ("hessian (array)", H_a)]
    if n == 1:
        d2 = dualml.derivative(lambda u: dualml.derivative(lambda w: f([w]), u), point[0])
        second.append(("derivative(derivative)", np.array([[float(d2)]])))
    try:
        ref = reference(prog, point, n)
    except NoMagnitude:
        ref = None
    vHv = float(np.asarray(v_dir) @ H_s @ np.asarray(v_dir))
    check_taylor(i, prog, point, v_dir, found, counts, y, jv_s, vHv, ref)
    # -- first order: per entry against the reference where it decides, else
    # the paths against each other within the error bound
    if ref is None:
        # an intermediate is inf or nan: the paths must still tell the same
        # story (the same nan, the same infinity, close finite numbers)
        scale = max([abs(t) for t in np.concatenate([g_s, g_a]) if math.isfinite(t)] + [TINY])
        tol = 64 * (nops + 2) * EPS * scale
        for k in range(n):
            for label, got in (("gradient (array)", g_a[k]), ("jacobian", J[k])):
                if not agree(got, g_s[k], tol):
                    found.add(i, src, point, f"{label}[{k}] differs from gradient (scalar)",
                              f"{float(got)!r} vs {float(g_s[k])!r}")
        if not agree(jv_s, jv_a, tol * (1 + max(abs(c) for c in v_dir))):
            found.add(i, src, point, "jvp scalar and array differ", f"{jv_s!r} vs {jv_a!r}",
                      v_dir)
        # second order: at infinities and domain errors the scalar nested
        # path and the C second partials (array Hessian) follow different
        # conventions -- the scalar path makes the second derivative nan *
        # partial', which is 0 where partial' is 0 (or keeps the slope of an
        # inf), the C path gives nan.  Open, in _nanprop of
        # dualml/dual.pyx.tp (issue 15: "At domain errors the second
        # derivative is 0.0 on the scalar paths").  Not compared here.
        return
    decided = 0
    for k in range(n):
        if not bounded(ref.Mg[k]):
            continue                                   # a term overflows
        tol = _tol(ref.Mg[k], ref.Ug[k], nops)
        for label, got in (("gradient (scalar)", g_s[k]), ("gradient (array)", g_a[k]),
                           ("jacobian", J[k])):
            if ref.whyg[k] is None:
                decided += 1
                if not near_ref(got, ref.g[k], ref.Mg[k], ref.Ug[k], nops):
                    found.add(i, src, point, f"{label}[{k}] off the mpmath reference",
                              f"got {float(got)!r}, expected {float(ref.g[k])!r}")
            elif "(open)" not in ref.whyg[k] and not agree(got, g_s[k], tol):
                found.add(i, src, point, f"{label}[{k}] differs from gradient (scalar)",
                          f"{float(got)!r} vs {float(g_s[k])!r} ({ref.whyg[k]})")
    # jvp: the tangent of every node is v . (its gradient); where that
    # overflows on the way although the result does not, no reference
    if (all(bounded(ref.Mg[k]) and ref.whyg[k] is None for k in range(n))
            and bounded(sum(abs(mp(c)) * m for c, m in zip(v_dir, ref.peak)))):
        jref = sum(mp(c) * g for c, g in zip(v_dir, ref.g))
        jM = sum(abs(mp(c)) * m for c, m in zip(v_dir, ref.Mg))
        jU = sum(abs(mp(c)) * u for c, u in zip(v_dir, ref.Ug))
        for label, got in (("jvp (scalar)", jv_s), ("jvp (array)", jv_a)):
            if not near_ref(got, jref, jM, jU, nops + n):
                found.add(i, src, point, f"{label} off the mpmath reference",
                          f"got {got!r}, expected {float(jref)!r}", v_dir)
    counts["first order against mpmath"] += decided > 0
    # -- second order, per entry likewise; an entry is looked at where both
    # first derivatives it differentiates are numbers on both paths (the
    # derivative of a nan-valued derivative is nan on the array path but
    # keeps its slope on the scalar one: a nan value keeps the rule's slope)
    ok = [math.isfinite(g_s[k]) and math.isfinite(g_a[k]) for k in range(n)]
    decided = 0
    for r_ in range(n):
        for c in range(n):
            if not (ok[r_] and ok[c] and bounded(ref.MH[r_][c])):
                continue
            why = ref.whyH[r_][c]
            tol = _tol(ref.MH[r_][c], ref.UH[r_][c], 2 * nops)
            for label, H in second:
                if why is None:
                    decided += 1
                    if not near_ref(H[r_, c], ref.H[r_][c], ref.MH[r_][c], ref.UH[r_][c],
                                    2 * nops):
                        found.add(i, src, point, f"{label}[{r_},{c}] off the mpmath "
                                  f"reference", f"got {H[r_, c]!r}, expected "
                                  f"{float(ref.H[r_][c])!r}")
                elif "(open)" not in why and not agree(H[r_, c], H_s[r_, c], tol):
                    found.add(i, src, point, f"{label}[{r_},{c}] differs from hessian "
                              f"(scalar)", f"{H[r_, c]!r} vs {H_s[r_, c]!r} ({why})")
    counts["second order against mpmath"] += decided > 0


# ---------------------------------------------------------------------------
# Taylor mode: the coefficients of t -> f(x + t v) at orders 2 and TAYLOR_K
#
# The reference is the truncated Taylor series of the float program along v,
# composed in mpmath node by node: a node's series is its rule's Taylor
# expansion about the node's double arguments (sympy's derivatives of
# tests/reference.py up to order TAYLOR_K, at _digits precision as above)
# applied to its operands' series minus their constant terms, so coefficient
# 0 is the float program's value and the others are the exact derivatives of
# the float program, as for the gradient.  The same composition over the
# absolute values of every term gives each coefficient's magnitude bound M_k
# (the Taylor recurrences of csrc/taylor.h add terms bounded by it, but for
# the cancellations TENV, ENV1 and ENV2 name), and U_k carries subnormal
# roundings.  Coefficient k is decided where no node below is at a kink,
# has a subnormal value, has a partial of order <= k outside the normal
# range (open, as for the nested paths: the recurrences carry every lower
# order up) or an operand coefficient beyond the doubles, and M_k is a
# double.  The paths are compared with each other everywhere (order 2
# against order 4 where the order-4 run is finite above degree 2: a series
# that vanishes up to degree 2 only is a constant at order 2, an open
# point of the conventions page).

TAYLOR_K = 4


@functools.lru_cache(maxsize=None)
def _unary_k(name, k):
    """The k-th derivative of unary rule name, lambdified (k >= 1)."""
    u = R.UNARY[name]
    if k <= 2:
        return u.f1 if k == 1 else u.f2        # the functions _partials calls
    e = u.deriv2
    for _ in range(k - 2):
        e = R._drop_kinks(sp.diff(e, R.x))
    return R._lambdify(u.args, e)


@functools.lru_cache(maxsize=None)
def _binary_ij(name, i, j):
    """d^(i+j) f / da^i db^j of binary rule name, lambdified (i + j >= 1)."""
    bf = R.BINARY[name]
    if i + j <= 2:                             # the functions _partials calls
        return {(1, 0): bf.fa, (0, 1): bf.fb, (2, 0): bf.second[0],
                (1, 1): bf.second[1], (0, 2): bf.second[2]}[(i, j)]
    e = sp.diff(bf.pa, R.a, i - 1, R.b, j) if i >= 1 else sp.diff(bf.pb, R.b, j - 1)
    return R._lambdify((R.a, R.b), R._drop_kinks(e))


_FAR = (mpmath.mpf("1e-350"), mpmath.mpf("1e350"))


def _call_k(k, fn, *args):
    """A partial of order k, as call(fn, *args); one of order 3 and up first
    at 30 digits, and where that is far outside the doubles (sigmoid's 4th
    derivative at 1e300 is about exp(-1e300), which takes 10 ms at the 650
    digits _digits asks for) that value.  Such a partial only marks
    coefficients undecided (_range_why), so the worst a cancellation at 30
    digits can do is cost coverage, never pass a wrong coefficient."""
    if k >= 3:
        with mpmath.workdps(30):
            try:
                v = real(fn(*args))
            except (ZeroDivisionError, ValueError, OverflowError, TypeError):
                v = mpmath.mpf(0)
        if v == v and v != 0 and not mpmath.isinf(v) and not _FAR[0] < abs(v) < _FAR[1]:
            return v
    return call(fn, *args)


def _smul(s, t, K):
    """Product of two truncated series (lists of K + 1 mpf)."""
    return [sum(s[j] * t[k - j] for j in range(k + 1)) for k in range(K + 1)]


def _powers(d, K):
    """[d^0, d^1, ..., d^K] of a series d with d[0] = 0, truncated."""
    out = [[mpmath.mpf(1)] + [mpmath.mpf(0)] * K]
    for _ in range(K):
        out.append(_smul(out[-1], d, K))
    return out


class TRef:
    """Taylor reference of a node: value (float), c (mpf coefficients), M
    (their magnitude bounds), U (bounds of errors not relative to M: the
    rounding of subnormal coefficients, carried up the program), why (per
    coefficient: why the reference does not decide it, or None), moving
    (some variable reaches it)."""

    def __init__(self, value, K):
        z = mpmath.mpf(0)
        self.value, self.c, self.M = value, [mp(value)] + [z] * K, [abs(mp(value))] + [z] * K
        self.U = [z] * (K + 1)
        self.why = [None] * (K + 1)
        self.moving = False


# Taylor recurrences whose terms cancel where the composed magnitudes do
# not see it (orders 3 and up; orders 1 and 2 are ENV1, ENV2): hypot's
# h_k = (sum a_j a_(k-j) + b_j b_(k-j) - h_j h_(k-j)) / (2 h_0) with |a| >> |b|
# or |b| >> |a| cancels to the size of the homogeneous bound (i+j)!/h^(i+j-1)
# (arctan2 likewise);
# gelu's k-th derivative phi(x) P_k(x) near a root of P_k (x = -2 for k = 3)
TENV = {
    "hypot": lambda m, i, j: mpmath.factorial(i + j) / mpmath.hypot(*m) ** (i + j - 1),
    # arctan2 likewise ((i+j-1)!/r^(i+j)); its 4th b-derivative has the
    # factor b^2 - a^2, which cancels at a = b
    "arctan2": lambda m, i, j: mpmath.factorial(i + j - 1) / mpmath.hypot(*m) ** (i + j),
    "gelu": lambda m, i, j: mpmath.npdf(m[0]) * (2 + abs(m[0])) ** (i + 1),
}


def taylor_reference(n, point, v_dir, K):
    """The TRef of program n along x + t v_dir (raises NoMagnitude where an
    intermediate is inf or nan or mpmath cannot evaluate a partial)."""
    kind = n[0]
    if kind == "var":
        r = TRef(point[n[1]], K)
        if K >= 1:
            r.c[1] = mp(v_dir[n[1]])
            r.M[1] = abs(r.c[1])
        r.moving = True
        return r
    if kind == "const":
        return TRef(n[1], K)
    kids = [taylor_reference(c, point, v_dir, K) for c in
            ((n[2],) if kind in ("u", "p") else (n[2], n[3]))]
    args = [k.value for k in kids]
    fn = getattr(dualml, n[1])
    y = fn(*args, n[3]) if kind == "p" else fn(*args)
    if not all(math.isfinite(a) for a in args) or not math.isfinite(y):
        raise NoMagnitude("non-finite intermediate")
    r = TRef(y, K)
    r.moving = any(k.moving for k in kids)
    if not r.moving:
        return r
    for k in kids:
        r.why = [_merge(w, kw) for w, kw in zip(r.why, k.why)]
    if kink(n[1], args):
        r.why[1:] = [_merge(w, f"{n[1]} at a kink or jump (a convention decides)")
                     for w in r.why[1:]]
    # an operand's coefficient beyond the doubles is inf there, and 0 * inf
    # is nan even where the partial is 0 (the side maximum does not take)
    for k in range(1, K + 1):
        if any(not bounded(kid.M[j]) for kid in kids for j in range(1, k + 1)):
            r.why[k] = _merge(r.why[k], "an operand's coefficient overflows")
    # partials computed from a subnormal value y, or through a subnormal
    # exp(-|x|) (INNER_EXP), are good to DENORM / y relative only (the
    # accuracy model of the gradient's Ug): no reference there
    inner = INNER_EXP[n[1]](mp(args[0])) if n[1] in INNER_EXP else 1
    if 0 < abs(y) < TINY or 0 < inner < TINY:
        r.why[1:] = [_merge(w, "a partial from a subnormal value") for w in r.why[1:]]
    # (multi-index (i, j), partial) pairs the series needs: j = 0 for a unary
    # rule; only the orders of the operands that move
    with mpmath.workdps(_digits(args)):
        m = [mp(t) for t in args]
        if kind in ("u", "p"):
            extra = (mp(n[3]),) if kind == "p" else ()
            terms = [((i, 0), _call_k(i, _unary_k(n[1], i), m[0], *extra))
                     for i in range(1, K + 1)]
        else:
            terms = [((i, j), _call_k(i + j, _binary_ij(n[1], i, j), *m))
                     for i in range(K + 1) for j in range(K + 1 - i) if i + j >= 1
                     and (kids[0].moving or i == 0) and (kids[1].moving or j == 0)]
    # a partial that is nan (complex: d/db of a negative base's power) makes
    # every partial above it in the lattice nan, although sympy's form of a
    # higher one may be real ((-1)**b log(-1)**2 = -pi**2)
    q_of = dict(terms)
    for (i, j), q in sorted(terms, key=lambda t: sum(t[0])):
        if any(q_of.get(low, 0) != q_of.get(low, 0) for low in ((i - 1, j), (i, j - 1))):
            q_of[(i, j)] = mpmath.mpf("nan")
    terms = [(ij, q_of[ij]) for ij, _ in terms]
    # the partial formulas' own conditioning (ENV1, ENV2: the terms they add
    # cancel near a zero of the partial): order 1 and 2 partials' magnitudes
    env = {}
    with mpmath.workdps(_digits(args)):
        try:
            for table, orders in ((ENV1, ((1, 0), (0, 1))), (ENV2, ((2, 0), (1, 1), (0, 2)))):
                if n[1] in table:
                    v = table[n[1]](*m)
                    v = (v,) if len(kids) == 1 else v
                    env.update({ij: 8 * w for ij, w in zip(orders, v)})
        except (ZeroDivisionError, ValueError):
            env = {ij: mpmath.inf for ij, _ in terms}
    with mpmath.workdps(_digits(args)):
        try:
            if n[1] in TENV:
                for ij, _ in terms:
                    if sum(ij) >= 3:
                        env[ij] = TENV[n[1]](m, *ij)
            if kind in ("u", "p") and K >= 3:
                # near a zero of the k-th derivative (sigmoid's 4th at
                # x = -2.29) the recurrence's terms are of the size of its
                # neighbours: their geometric mean, which scales as the k-th
                # derivative does (log at 1e-100, exp: the same magnitude)
                q = dict(terms)
                q[(K + 1, 0)] = _call_k(K + 1, _unary_k(n[1], K + 1), m[0], *extra)
                for k in range(3, K + 1):
                    env[(k, 0)] = max(env.get((k, 0), 0), mpmath.sqrt(
                        _mag(q[(k - 1, 0)]) * _mag(q[(k + 1, 0)])))
        except (ZeroDivisionError, ValueError):
            env = {ij: mpmath.inf for ij, _ in terms}
    z = mpmath.mpf(0)
    dc = [_powers([z] + k.c[1:], K) for k in kids]
    dM = [_powers([z] + k.M[1:], K) for k in kids]
    dMU = [_powers([z] + [a + b for a, b in zip(k.M[1:], k.U[1:])], K) for k in kids]
    one = [[mpmath.mpf(1)] + [z] * K] * (K + 1)
    if len(kids) == 1:
        dc.append(one)
        dM.append(one)
        dMU.append(one)
    for k in range(1, K + 1):
        r.U[k] = DENORM * (k + 1) ** 2         # this node's subnormal roundings
    for (i, j), q in terms:
        if q == 0 and not env.get((i, j)):
            continue
        w = _range_why(q, f"a partial of order {i + j}")
        if q != q or mpmath.isinf(q):
            w = w or f"a partial of order {i + j} is {q} (a singular point)"
        sc = _smul(dc[0][i], dc[1][j], K)
        sM = _smul(dM[0][i], dM[1][j], K)
        sMU = _smul(dMU[0][i], dMU[1][j], K)
        f = mpmath.factorial(i) * mpmath.factorial(j)
        for k in range(i + j, K + 1):
            if w:
                # the recurrences carry every lower-order partial up to the
                # higher coefficients (as their series' terms), also where
                # the exact coefficient does not use it
                r.why[k] = _merge(r.why[k], w)
                continue
            if sM[k] == 0:
                continue
            r.c[k] += q / f * sc[k]
            r.M[k] += (abs(q) + env.get((i, j), 0)) / f * sM[k]
            # the operands' U carried through (magnitudes compose monotonically)
            r.U[k] += (abs(q) + env.get((i, j), 0)) / f * (sMU[k] - sM[k])
    for k in range(2, K + 1):
        # the recurrences build coefficient k from this node's lower ones:
        # after one that overflows, the next may be +-inf where the exact
        # value is finite (open: conventions, "Known open points")
        if any(not bounded(r.M[j]) for j in range(1, k)):
            r.why[k] = _merge(r.why[k], "a lower coefficient overflows (open)")
        # documented: a**b with both operands moving at a base below 1e-154
        # is nan from where log a's series overflows (conventions)
        if (n[1] == "power" and all(kid.moving for kid in kids)
                and 0 < abs(args[0]) < 1e-154):
            r.why[k] = _merge(r.why[k], "power at a base below 1e-154 (documented nan)")
    return r


# how each Taylor path is called, for the reproducer line
TCALLS = {
    "taylor (array)": "dualml.taylor(f, x, np.array(V), order={K})",
    "taylor (scalar)": "dualml.taylor(lambda s: f([s]), x[0], V[0], order={K})",
}


def taylor_paths(f, point, v_dir, K):
    """{label: coefficients (K + 1 floats)} of every Taylor path."""
    out = {"taylor (array)": np.asarray(dualml.taylor(f, np.array(point), np.array(v_dir),
                                                     order=K), dtype=float).reshape(K + 1)}
    if len(point) == 1:
        out["taylor (scalar)"] = np.asarray(dualml.taylor(lambda s: f([s]), point[0],
                                                          v_dir[0], order=K),
                                            dtype=float).reshape(K + 1)
    return out


def check_taylor(i, prog, point, v_dir, found, counts, y, jv_s, vHv, ref):
    """Taylor mode at orders 2 and TAYLOR_K against the reference and the
    other paths.  y, jv_s: the float program's value and the scalar jvp;
    vHv: v' H v of the scalar Hessian (the nested path); ref: the Ref of
    the first- and second-order reference, or None."""
    src = source(prog)
    f = compile_program(src)
    nops = count_ops(prog)
    K = TAYLOR_K
    runs = {}
    for order in (2, K):
        for label, c in taylor_paths(f, point, v_dir, order).items():
            runs[(label, order)] = c

    def add(label, order, what, detail):
        found.add(i, src, point, f"{label} order {order}: {what}", detail, v_dir,
                  TCALLS[label].format(K=order))
    # -- between paths: every coefficient of every run the same bits as the
    # array path at order K (a coefficient does not depend on the degree);
    # c0 the float program's value, c1 the scalar jvp's (the Dual's rule)
    base = runs[("taylor (array)", K)]
    for (label, order), c in runs.items():
        if order < K and not np.isfinite(base[order + 1:]).all():
            # a series that is 0 up to the degree and not above (x**2.009
            # at x = 0, a step's input coefficient overflowing) is a
            # constant at the lower degree only (open: conventions)
            continue
        for k in range(order + 1):
            # (c0 to the bit; above, the sign of a zero is not compared: it is
            # a sum of zero products, whose operands the degree can change)
            if not (same_bits(c[k], base[k]) or (k and c[k] == base[k] == 0)):
                add(label, order, f"c{k} differs from taylor (array) at order {K}",
                    f"{c[k]!r} vs {base[k]!r}")
    if not same_bits(base[0], y):
        add("taylor (array)", K, "c0 differs from the float program", f"{base[0]!r} vs {y!r}")
    # (the sign of a zero slope is the rounding of 0 * tangent sums, on the
    # Dual as here: jvp and Dual(x, v) differ in it too; not compared.  At a
    # domain error reached with a zero slope and higher terms, log(t**2 - 1)
    # at 0, the Dual's zero-tangent rule gives 0 and Taylor nan, as the
    # value: conventions, "Taylor mode at edge points")
    if not (base[1] == jv_s or (base[1] != base[1] and jv_s != jv_s)
            or (y != y and jv_s == 0 and all(c != c for c in base))):
        add("taylor (array)", K, "c1 differs from jvp (scalar)", f"{base[1]!r} vs {jv_s!r}")
    try:
        tref = taylor_reference(prog, point, v_dir, K)
    except NoMagnitude:
        tref = None
    if tref is None or ref is None:
        return
    # -- 2 c2 against the nested path v' H v, where the second-order
    # reference has no open item and the Hessian is finite (the reference
    # decides the Hessian itself)
    n = len(point)
    whys = [ref.whyH[r_][c] for r_ in range(n) for c in range(n)]
    MH = sum(abs(mp(v_dir[r_])) * abs(mp(v_dir[c])) * ref.MH[r_][c]
             for r_ in range(n) for c in range(n))
    UH = sum(abs(mp(v_dir[r_])) * abs(mp(v_dir[c])) * ref.UH[r_][c]
             for r_ in range(n) for c in range(n))
    if (not any(w and "(open)" in w for w in whys) and bounded(MH) and math.isfinite(vHv)
            and tref.why[2] is None):
        # (plus v' H v's own subnormal roundings, n^2 products and sums)
        if not agree(2 * base[2], vHv, 2 * _tol(MH + 2 * tref.M[2], UH, 2 * nops)
                     + 2 * (n * n + 2) * DENORM):
            add("taylor (array)", K, "2 c2 differs from v' H v (hessian (scalar))",
                f"{2 * base[2]!r} vs {vHv!r}")
    # -- every coefficient against the reference where it decides
    decided = 0
    for k in range(1, K + 1):
        if tref.why[k] is not None or not bounded(tref.M[k]):
            continue
        decided += 1
        if not near_ref(base[k], tref.c[k], (k + 1) ** 2 * tref.M[k], tref.U[k], nops):
            add("taylor (array)", K, f"c{k} off the mpmath reference",
                f"got {base[k]!r}, expected {float(tref.c[k])!r}")
    counts["Taylor against mpmath"] += decided == K


@pytest.fixture
def plain_kernels():
    old = K.set_simd(False)           # this thread only (set_simd is per thread)
    yield
    K.set_simd(old)


def test_fuzz_paths_against_each_other_and_mpmath(plain_kernels):
    rng = np.random.default_rng(SEED)
    found = Findings()
    counts = {"first order against mpmath": 0, "second order against mpmath": 0,
              "Taylor against mpmath": 0}
    with mpmath.workdps(50), np.errstate(all="ignore"):
        for i in range(N_PROGRAMS):
            nvars = int(rng.integers(1, 4))
            prog = random_program(rng, nvars)
            point = random_point(rng, nvars)
            v_dir = [float(t) for t in rng.standard_normal(nvars)]
            check_program(i, prog, point, v_dir, found, counts)
    print(f"fuzz: {N_PROGRAMS} programs, seed {SEED}: {counts}")
    assert not found, (f"{len(found)} findings in {N_PROGRAMS} programs (each line: the "
                       f"program f, the point x and what differs):\n" + "\n".join(found[:40]))
    # the reference must actually decide for most programs, or this test
    # could not fail
    assert counts["first order against mpmath"] > N_PROGRAMS // 3
    assert counts["second order against mpmath"] > N_PROGRAMS // 4
    assert counts["Taylor against mpmath"] > N_PROGRAMS // 4
