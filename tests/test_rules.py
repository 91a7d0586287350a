"""Every row of csrc/dual_rules.def against an independent reference.

The reference (tests/reference.py) is sympy + mpmath at 50 digits, rounded
once to double; nothing here is compared with dualml's own output.

Tolerances (relative, measured against max(|ref|, smallest normal)):
  * first derivatives: 1e-14 (~45 ulp).  A rule evaluates two to four
    libm calls/roundings, each within ~1 ulp, so a few ulp is what a correct
    rule achieves; 1e-14 leaves margin and still catches any cancellation.
    Looser only where a reference entry has ``kappa``: there the rule must
    round an intermediate (x*x inside exp), and the tolerance is
    4 eps * condition number of the function at that point.
  * values: bit-identical to Python's ``math`` (or float arithmetic) where it
    has the function and does not raise; otherwise within 2 ulp of mpmath.
  * second derivatives through nesting: 1e-12 relative.

Each test walks all points of one function and reports every failure at
once (function, point, expected, got).
"""
import math
import struct

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import dualml
from dualml import Dual

import reference as R

RTOL = 1e-14
RTOL2 = 1e-12
VALUE_ULPS = 2


# --------------------------------------------------------------------------
# comparison helpers
# --------------------------------------------------------------------------

def _ordered(v):
    i = struct.unpack("<q", struct.pack("<d", v))[0]
    return i if i >= 0 else -(i & 0x7FFFFFFFFFFFFFFF)


def ulps(u, v):
    """Distance in units in the last place (+0 and -0 are 0 apart)."""
    if u == v:
        return 0
    return abs(_ordered(u) - _ordered(v))


def same_bits(got, exp):
    if math.isnan(exp):
        return isinstance(got, float) and math.isnan(got)
    return got == exp and math.copysign(1.0, got) == math.copysign(1.0, exp)


def close(got, ref, rtol, atol=0.0):
    if math.isnan(ref):
        return math.isnan(got)
    if math.isinf(ref):
        return got == ref
    return abs(got - ref) <= max(rtol * max(abs(ref), R.TINY), atol)


def near_ulps(got, ref, n, atol=0.0):
    if math.isnan(ref):
        return math.isnan(got)
    if math.isinf(ref) or math.isinf(got):
        return got == ref
    return ulps(got, ref) <= n or abs(got - ref) <= atol


def subnormal_atol(t):
    """Below the smallest normal, precision is absolute: an intermediate
    that underflows (exp(-|x|) in the activations) is off by up to one
    subnormal step, 2**-1074, and the rule may multiply it by |x|.  Such an
    intermediate only arises for |x| < 746, hence the cap."""
    return 4.0 * min(max(1.0, abs(t)), 1024.0) * 2.0 ** -1074


def check(failures):
    assert not failures, "\n" + "\n".join(failures[:40]) + (
        f"\n... {len(failures)} failures" if len(failures) > 40 else "")


# --------------------------------------------------------------------------
# the table is covered
# --------------------------------------------------------------------------

def test_every_unary_rule_has_a_reference():
    names = set(dualml._rules.UNARY) | set(dualml._rules.UNARY_PARAM)
    assert names - set(R.UNARY) == set(), "rows without a reference entry"
    assert set(R.UNARY) - names == set(), "reference entries for no row"


UNARY_NAMES = sorted(R.UNARY)


def _call(u, arg, alpha, fn=None):
    if fn is not None:
        return fn(arg)
    f = getattr(dualml, u.name)
    return f(arg) if alpha is None else f(arg, alpha)


def _np_ufunc(name):
    """NumPy's ufunc of that name, if there is one (Dual.__array_ufunc__)."""
    uf = getattr(np, name, None)
    return uf if isinstance(uf, np.ufunc) else None


def _np64(v):
    """A float constant as the NumPy scalar NumPy code would hand over."""
    return np.float64(v) if type(v) is float else v


def _refargs(u, t, alpha):
    if u.alphas == (None,):
        return (t,)
    return (t, u.default_alpha if alpha is None else alpha)


# --------------------------------------------------------------------------
# unary rules
# --------------------------------------------------------------------------

def _expected_value(u, t, alpha):
    """(expected, exact?) value at t: math bit for bit, else mpmath."""
    if u.math is not None and alpha is None:
        try:
            return u.math(t), True
        except (ValueError, OverflowError, ZeroDivisionError):
            pass
    if not u.in_domain(t):
        return R.NAN, True
    return R.evaluate(u.f0, *_refargs(u, t, alpha)), False


def _kappa(u, t, alpha, which):
    """Condition number |t g'(t)/g(t)| of g = f (which 'v') or f' ('d')."""
    hi, lo = (u.f1, u.f0) if which == "v" else (u.f2, u.f1)
    args = _refargs(u, t, alpha)
    num, den = R.evaluate_mp(hi, *args), R.evaluate_mp(lo, *args)
    if den == 0:
        return 0.0
    return float(abs(t * num / den))


def _check_point(u, t, alpha, failures, dvalue=None, dderiv=None,
                 kappa_factor=None, fn=None):
    """Compare f(Dual(t, 1)) with the reference at one point.

    kappa_factor: also allow kappa_factor * eps * (condition number of f'
    at t) for the derivative (random points may fall next to a root of f',
    where any floating-point formula loses relative accuracy)."""
    tag = f"{u.name}({t!r}" + ("" if alpha is None else f", {alpha!r}") + ")"
    r = _call(u, Dual(t, 1.0), alpha, fn)
    if not isinstance(r, Dual):
        failures.append(f"{tag}: returned {type(r).__name__}, not Dual")
        return
    # value
    if dvalue is not None:
        ev, exact = dvalue, True
    else:
        ev, exact = _expected_value(u, t, alpha)
    if exact and dvalue is not None and u.math is None:
        # a convention point of an activation: the sign of a zero value
        # is not specified
        ok = r.value == ev or (math.isnan(ev) and math.isnan(r.value))
    elif exact:
        ok = same_bits(r.value, ev)
    else:
        n = VALUE_ULPS
        if "v" in u.kappa:
            n = max(n, 4 * _kappa(u, t, alpha, "v"))
        ok = near_ulps(r.value, ev, n, subnormal_atol(t))
    if not ok:
        failures.append(f"{tag}: value expected {ev!r}, got {r.value!r}")
    # derivative
    if dderiv is not None:
        ed = dderiv
    elif not u.in_domain(t) or (math.isnan(ev) and not math.isnan(t)):
        ed = R.NAN          # outside the domain there is no derivative
    else:
        ed = R.evaluate(u.f1, *_refargs(u, t, alpha))
    rtol = RTOL
    if math.isfinite(ed) and ed != 0:
        if "d" in u.kappa:
            rtol = max(rtol, 4 * R.EPS * _kappa(u, t, alpha, "d"))
        if kappa_factor is not None:
            rtol = max(rtol, kappa_factor * R.EPS * _kappa(u, t, alpha, "d"))
    if not close(r.deriv, ed, rtol, subnormal_atol(t)):
        rel = (abs(r.deriv - ed) / abs(ed)
               if math.isfinite(ed) and ed and math.isfinite(r.deriv)
               else "-")
        failures.append(f"{tag}: derivative expected {ed!r}, got "
                        f"{r.deriv!r} (rel err {rel})")


def _edge(u, t):
    for e in u.edges:
        if same_bits(t, e[0]):
            return e
    return None


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_against_reference(name):
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        for t in u.points + (0.0, -0.0):
            if _edge(u, t) is None:
                _check_point(u, t, alpha, failures)
    check(failures)


@pytest.mark.parametrize("name", sorted(n for n in UNARY_NAMES
                                        if R.UNARY[n].edges))
def test_unary_edges_and_kinks(name):
    """Domain edges and the kink conventions (docs/guide/conventions.md)."""
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        for t, v, d in u.edges:
            if callable(d):
                d = d(u.default_alpha if alpha is None else alpha)
            if callable(v):
                v = v(u.default_alpha if alpha is None else alpha)
            _check_point(u, t, alpha, failures, dvalue=v, dderiv=d)
    check(failures)


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_infinities(name):
    """Value and slope at +-inf are the limits (nan where none exists)."""
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        pa = u.default_alpha if alpha is None else alpha
        for t, (v, d) in ((R.INF, u.at_inf), (-R.INF, u.at_ninf)):
            v = v(pa) if callable(v) else v
            d = d(pa) if callable(d) else d
            r = _call(u, Dual(t, 1.0), alpha)
            tag = f"{name}({t!r}" + ("" if alpha is None else f", {alpha}") + ")"
            if not (r.value == v or (math.isnan(v) and math.isnan(r.value))):
                failures.append(f"{tag}: value expected {v!r}, got {r.value!r}")
            if not close(r.deriv, d, 0.0):
                failures.append(f"{tag}: derivative expected {d!r}, got "
                                f"{r.deriv!r}")
    check(failures)


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_nan(name):
    """nan in: value nan; derivative nan unless the rule's slope is the
    same constant everywhere (conventions: steps have slope 0 everywhere)."""
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        r = _call(u, Dual(R.NAN, 1.0), alpha)
        if not math.isnan(r.value):
            failures.append(f"{name}(nan): value {r.value!r}, expected nan")
        if not close(r.deriv, u.nan_deriv, 0.0):
            failures.append(f"{name}(nan" + ("" if alpha is None else
                                             f", {alpha}") +
                            f"): derivative {r.deriv!r}, expected "
                            f"{u.nan_deriv!r}")
    check(failures)


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_zero_tangent(name):
    """Conventions: a zero tangent gives derivative exactly 0 wherever the value
    is not nan, including at infinite slopes (sqrt(Dual(0, 0)))."""
    u = R.UNARY[name]
    failures = []
    pts = u.points + tuple(e[0] for e in u.edges) + (0.0, -0.0, R.INF,
                                                      -R.INF)
    for alpha in u.alphas:
        for t in pts:
            r = _call(u, Dual(t, 0.0), alpha)
            if math.isnan(r.value):
                continue
            if not (r.deriv == 0.0):
                failures.append(f"{name}(Dual({t!r}, 0.0)): derivative "
                                f"{r.deriv!r}, expected 0.0")
    check(failures)


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_float_path_matches_dual_value(name):
    """f(float) is a float, bit-identical to f(Dual).value."""
    u = R.UNARY[name]
    failures = []
    pts = u.points + tuple(e[0] for e in u.edges) + (0.0, -0.0, R.INF,
                                                      -R.INF, R.NAN)
    for alpha in u.alphas:
        for t in pts:
            fv = _call(u, t, alpha)
            dv = _call(u, Dual(t, 1.0), alpha).value
            if type(fv) is not float or not same_bits(fv, dv):
                failures.append(f"{name}({t!r}) = {fv!r}, Dual value {dv!r}")
    check(failures)


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_unary_second_derivative_nested(name):
    """The table's nested column: d/dt (d/dx f)(t) equals sympy's f''."""
    u = R.UNARY[name]
    failures = []
    for alpha in u.alphas:
        if alpha is None:
            f = getattr(dualml, name)
        else:
            f = (lambda s, _f=getattr(dualml, name), _a=alpha: _f(s, _a))
        for t in u.interior:
            got = dualml.derivative(lambda s: dualml.derivative(f, s), t)
            exp = R.evaluate(u.f2, *_refargs(u, t, alpha))
            if not close(got, exp, RTOL2):
                failures.append(f"{name}''({t!r}" +
                                ("" if alpha is None else f", {alpha}") +
                                f"): expected {exp!r}, got {got!r}")
    check(failures)


@pytest.mark.parametrize("name", sorted(n for n in UNARY_NAMES if _np_ufunc(n)))
def test_unary_numpy_ufunc_against_reference(name):
    """np.<name>(Dual) -- the C fast path of Dual.__array_ufunc__ -- at the
    points, edges, limits and nan of dualml.<name>, against the same
    reference, and its second derivative through nesting."""
    u = R.UNARY[name]
    uf = _np_ufunc(name)
    failures = []
    for t in u.points + (0.0, -0.0):
        if _edge(u, t) is None:
            _check_point(u, t, None, failures, fn=uf)
    for t, v, d in u.edges:
        _check_point(u, t, None, failures, dvalue=v, dderiv=d, fn=uf)
    for t, (v, d) in ((R.INF, u.at_inf), (-R.INF, u.at_ninf), (R.NAN, (R.NAN, u.nan_deriv))):
        r = uf(Dual(t, 1.0))
        if not (type(r) is Dual and (r.value == v or (math.isnan(v) and math.isnan(r.value)))
                and close(r.deriv, d, 0.0)):
            failures.append(f"np.{name}({t!r}): expected ({v!r}, {d!r}), got {r!r}")
    for t in u.interior:
        got = dualml.derivative(lambda s: dualml.derivative(uf, s), t)
        exp = R.evaluate(u.f2, t)
        if not close(got, exp, RTOL2):
            failures.append(f"np.{name}''({t!r}): expected {exp!r}, got {got!r}")
    check(failures)


@pytest.mark.parametrize("name", sorted(n for n in UNARY_NAMES
                                        if R.UNARY[n].d1 is not None
                                        and not R.UNARY[n].hand))
def test_reference_hand_derivatives_match_sympy(name):
    """Where the reference writes f' by hand (to avoid cancellation in the
    reference), it equals sympy.diff of the expression at 50 digits."""
    u = R.UNARY[name]
    auto = R._lambdify(u.args, R.sp.diff(u.expr, R.x))
    for alpha in u.alphas:
        for t in u.interior + (0.05, 3.0):
            args = _refargs(u, t, alpha)
            h, s = R.evaluate_mp(u.f1, *args), R.evaluate_mp(auto, *args)
            assert abs(h - s) <= 1e-40 * max(abs(s), 1), (name, t)


# --------------------------------------------------------------------------
# binary rules
# --------------------------------------------------------------------------

BINARY_NAMES = sorted(R.BINARY)

_OPS = {"+": lambda s, t: s + t, "-": lambda s, t: s - t,
        "*": lambda s, t: s * t, "/": lambda s, t: s / t,
        "**": lambda s, t: s ** t, "//": lambda s, t: s // t,
        "%": lambda s, t: s % t}


def test_every_binary_rule_has_a_reference():
    assert set(dualml._rules.BINARY) - set(R.BINARY) == set(), \
        "rows without a reference entry"
    assert set(R.BINARY) - set(dualml._rules.BINARY) == set(), \
        "reference entries for no row"


def _binary_callers(bf):
    """The module function, NumPy's ufunc and the Python operator if Dual
    has one; the last two also with the constant operand a np.float64 (on
    either side: np.float64(2) * d goes through np.multiply)."""
    out = [(bf.name, getattr(dualml, bf.name))]
    uf = _np_ufunc(bf.name)
    if uf is not None:
        out.append((f"np.{bf.name}", uf))
        out.append((f"np.{bf.name} (np.float64)", lambda u, v, uf=uf: uf(_np64(u), _np64(v))))
    if bf.op:
        op = _OPS[bf.op]
        out.append((bf.op, op))
        out.append((f"{bf.op} (np.float64)", lambda u, v, op=op: op(_np64(u), _np64(v))))
    return out


def _binary_expected(bf, s, t):
    """Expected value, partials at one generic point, and whether the
    value must be bit-identical."""
    exact = False
    ev = None
    if bf.math is not None:
        try:
            ev, exact = bf.math(s, t), True
        except (ValueError, OverflowError, ZeroDivisionError):
            pass
    if not bf.in_domain(s, t):
        return R.NAN, R.NAN, R.NAN, True
    if ev is None:
        ev = R.evaluate(bf.f0, s, t)
    if isinstance(ev, complex):
        ev, exact = R.NAN, True
    pa = R.evaluate_mp(bf.fa, s, t)
    pb = R.evaluate_mp(bf.fb, s, t)
    if bf.db_nan is not None and bf.db_nan(s, t):
        pb = R.mpmath.mpf("nan")
    return ev, pa, pb, exact


def _cmp_value(bf, tag, got, ev, exact, failures):
    if exact:
        # min/max ties of +-0: the sign of the zero is not specified
        ok = same_bits(got, ev) or (ev == 0 and got == 0
                                    and bf.name in ("minimum", "maximum",
                                                    "fmin", "fmax"))
    else:
        ok = near_ulps(got, ev, VALUE_ULPS)
    if not ok:
        failures.append(f"{tag}: value expected {ev!r}, got {got!r}")


def _cmp_deriv(tag, got, exp, failures, scale=None):
    """scale: |pa| + |pb| for a sum of partials (the sum's condition
    number is scale/|sum|, so its error is measured against scale)."""
    if exp is None:
        return
    if isinstance(exp, float):
        e, ref_scale = exp, abs(exp) if math.isfinite(exp) else 0.0
    else:
        e = R.to_double(exp)
        ref_scale = abs(e) if scale is None else scale
    if math.isnan(e) or math.isinf(e):
        ok = close(got, e, 0.0)
    else:
        ok = abs(got - e) <= RTOL * max(ref_scale, abs(e), R.TINY)
    if not ok:
        failures.append(f"{tag}: derivative expected {e!r}, got {got!r}")


def _check_pair(bf, s, t, failures, ev, pa, pb, exact):
    for label, f in _binary_callers(bf):
        tag = f"{label}({s!r}, {t!r})"
        cases = [(f"{tag} d/da", Dual(s, 1.0), t, pa, None),
                 (f"{tag} d/db", s, Dual(t, 1.0), pb, None)]
        if pa is not None and pb is not None:
            if isinstance(pa, float) or isinstance(pb, float):
                both, scale = float(pa) + float(pb), None
            else:
                with R.mpmath.workdps(R.DPS):
                    both = pa + pb
                scale = abs(R.to_double(pa)) + abs(R.to_double(pb))
            cases.append((f"{tag} d/da+d/db", Dual(s, 1.0), Dual(t, 1.0),
                          both, scale))
        for ctag, u, v, exp, scale in cases:
            r = f(u, v)
            if not isinstance(r, Dual):
                failures.append(f"{ctag}: returned {type(r).__name__}")
                continue
            _cmp_value(bf, ctag, r.value, ev, exact, failures)
            _cmp_deriv(ctag, r.deriv, exp, failures, scale)


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_against_reference(name):
    bf = R.BINARY[name]
    failures = []
    for s, t in bf.pairs:
        ev, pa, pb, exact = _binary_expected(bf, s, t)
        _check_pair(bf, s, t, failures, ev, pa, pb, exact)
    check(failures)


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_conventions_and_limits(name):
    """The conventions (ties, zeros, nan, power cases) and +-inf limits."""
    bf = R.BINARY[name]
    failures = []
    for s, t, v, pa, pb in bf.specials:
        exact = True
        # (Python's min/max are not IEEE for nan: skip the self-check there)
        if bf.math is not None and not (math.isnan(s) or math.isnan(t)):
            try:
                v2 = bf.math(s, t)
            except (ValueError, OverflowError, ZeroDivisionError):
                v2 = None
            if v2 is not None and not (v2 == v or (v2 != v2 and v != v)):
                failures.append(f"reference table error {name}{(s, t)}")
        _check_pair(bf, s, t, failures, v, pa, pb, exact)
    check(failures)


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_zero_tangent(name):
    bf = R.BINARY[name]
    failures = []
    pts = bf.pairs + tuple((sp[0], sp[1]) for sp in bf.specials)
    for s, t in pts:
        for label, f in _binary_callers(bf):
            for u, v in ((Dual(s, 0.0), t), (s, Dual(t, 0.0)),
                         (Dual(s, 0.0), Dual(t, 0.0))):
                r = f(u, v)
                if not math.isnan(r.value) and not r.deriv == 0.0:
                    failures.append(f"{label}({u!r}, {v!r}): derivative "
                                    f"{r.deriv!r}, expected 0.0")
    check(failures)


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_float_path_matches_dual_value(name):
    bf = R.BINARY[name]
    f = getattr(dualml, name)
    failures = []
    pts = bf.pairs + tuple((sp[0], sp[1]) for sp in bf.specials)
    for s, t in pts:
        fv = f(s, t)
        dv = f(Dual(s, 1.0), Dual(t, 1.0)).value
        if type(fv) is not float or not same_bits(fv, dv):
            failures.append(f"{name}({s!r}, {t!r}) = {fv!r}, Dual value "
                            f"{dv!r}")
    check(failures)


@pytest.mark.parametrize("name", BINARY_NAMES)
def test_binary_second_derivatives_nested(name):
    """f_aa, f_ab (both nesting orders), f_bb through nested derivatives,
    against sympy's second partials (the table's nested columns)."""
    bf = R.BINARY[name]
    f = getattr(dualml, name)
    d = dualml.derivative
    faa, fab, fbb = bf.second
    failures = []
    for s, t in bf.interior:
        got = {
            "f_aa": d(lambda u: d(lambda w: f(w, t), u), s),
            "f_ab": d(lambda v: d(lambda w: f(w, v), s), t),
            "f_ba": d(lambda u: d(lambda w: f(u, w), t), s),
            "f_bb": d(lambda v: d(lambda w: f(s, w), v), t),
        }
        exp = {"f_aa": faa, "f_ab": fab, "f_ba": fab, "f_bb": fbb}
        for k, g in got.items():
            e = R.evaluate(exp[k], s, t)
            if not close(g, e, RTOL2):
                failures.append(f"{name} {k}({s!r}, {t!r}): expected {e!r}, "
                                f"got {g!r}")
    check(failures)


# --------------------------------------------------------------------------
# the conventions of docs/guide/conventions.md, one by one, as written there
# --------------------------------------------------------------------------

def _mp(expr):
    """A constant from mpmath at 50 digits, rounded to double."""
    with R.mpmath.workdps(R.DPS):
        return R.to_double(expr())


D = Dual
INF, NAN = R.INF, R.NAN
CONVENTIONS = [
    # (call, expected value, expected derivative)
    ("sqrt(Dual(0, 0))", lambda: dualml.sqrt(D(0.0, 0.0)), 0.0, 0.0),
    ("absolute(Dual(0, 1))", lambda: dualml.absolute(D(0.0, 1.0)), 0.0, 0.0),
    ("relu(Dual(0, 1))", lambda: dualml.relu(D(0.0, 1.0)), 0.0, 0.0),
    ("leaky_relu(Dual(0, 1))", lambda: dualml.leaky_relu(D(0.0, 1.0)),
     0.0, 0.01),
    ("leaky_relu(Dual(0, 1), alpha=0.2)",
     lambda: dualml.leaky_relu(D(0.0, 1.0), alpha=0.2), 0.0, 0.2),
    ("elu(Dual(0, 1))", lambda: dualml.elu(D(0.0, 1.0)), 0.0, 1.0),
    ("elu(Dual(0, 1), alpha=0.5)", lambda: dualml.elu(D(0.0, 1.0), alpha=0.5),
     0.0, 0.5),
    ("sign(Dual(0, 1))", lambda: dualml.sign(D(0.0, 1.0)), 0.0, 0.0),
    ("sign(Dual(-3, 1))", lambda: dualml.sign(D(-3.0, 1.0)), -1.0, 0.0),
    ("floor(Dual(2, 1))", lambda: dualml.floor(D(2.0, 1.0)), 2.0, 0.0),
    ("ceil(Dual(2.5, 1))", lambda: dualml.ceil(D(2.5, 1.0)), 3.0, 0.0),
    ("trunc(Dual(-2.5, 1))", lambda: dualml.trunc(D(-2.5, 1.0)), -2.0, 0.0),
    ("rint(Dual(2.5, 1))", lambda: dualml.rint(D(2.5, 1.0)), 2.0, 0.0),
    ("Dual(7, 1) // Dual(2, 1)", lambda: D(7.0, 1.0) // D(2.0, 1.0),
     3.0, 0.0),
    ("maximum tie", lambda: dualml.maximum(D(2.0, 1.0), D(2.0, 3.0)),
     2.0, 2.0),
    ("minimum tie", lambda: dualml.minimum(D(2.0, 1.0), D(2.0, 3.0)),
     2.0, 2.0),
    ("fmax tie", lambda: dualml.fmax(D(2.0, 1.0), D(2.0, 3.0)), 2.0, 2.0),
    ("fmin tie", lambda: dualml.fmin(D(2.0, 1.0), D(2.0, 3.0)), 2.0, 2.0),
    ("maximum(Dual(2, 1), 2.0)", lambda: dualml.maximum(D(2.0, 1.0), 2.0),
     2.0, 0.5),
    ("maximum(nan, Dual(1, 1))", lambda: dualml.maximum(NAN, D(1.0, 1.0)),
     NAN, NAN),
    ("minimum(Dual(1, 1), nan)", lambda: dualml.minimum(D(1.0, 1.0), NAN),
     NAN, NAN),
    ("fmax(nan, Dual(1, 1))", lambda: dualml.fmax(NAN, D(1.0, 1.0)),
     1.0, 1.0),
    ("fmin(Dual(1, 1), nan)", lambda: dualml.fmin(D(1.0, 1.0), NAN),
     1.0, 1.0),
    ("fmax(Dual(nan, 1), Dual(1, 2))",
     lambda: dualml.fmax(D(NAN, 1.0), D(1.0, 2.0)), 1.0, 2.0),
    ("sqrt(Dual(0, 1))", lambda: dualml.sqrt(D(0.0, 1.0)), 0.0, INF),
    ("sqrt(Dual(-0.0, 1))", lambda: dualml.sqrt(D(-0.0, 1.0)), -0.0, INF),
    ("cbrt(Dual(0, 1))", lambda: dualml.cbrt(D(0.0, 1.0)), 0.0, INF),
    ("cbrt(Dual(-0.0, 1))", lambda: dualml.cbrt(D(-0.0, 1.0)), -0.0, INF),
    ("log(Dual(0, 1))", lambda: dualml.log(D(0.0, 1.0)), -INF, INF),
    ("log(Dual(-1, 1))", lambda: dualml.log(D(-1.0, 1.0)), NAN, NAN),
    ("Dual(0, 1)**2", lambda: D(0.0, 1.0) ** 2, 0.0, 0.0),
    ("Dual(-2, 1)**3", lambda: D(-2.0, 1.0) ** 3, -8.0, 12.0),
    ("Dual(0, 1)**0", lambda: D(0.0, 1.0) ** 0, 1.0, 0.0),
    ("0.0**Dual(2, 1)", lambda: 0.0 ** D(2.0, 1.0), 0.0, 0.0),
    ("2.0**Dual(3, 1)", lambda: 2.0 ** D(3.0, 1.0), 8.0,
     _mp(lambda: 8 * R.mpmath.log(2))),
    ("Dual(0, 1)**0.5", lambda: D(0.0, 1.0) ** 0.5, 0.0, INF),
    ("(-2.0)**Dual(3, 1)", lambda: (-2.0) ** D(3.0, 1.0), -8.0, NAN),
    ("power(Dual(-2, 1), Dual(3, 1))",
     lambda: dualml.power(D(-2.0, 1.0), D(3.0, 1.0)), -8.0, NAN),
    ("arctan2(Dual(0, 1), 0.0)", lambda: dualml.arctan2(D(0.0, 1.0), 0.0),
     0.0, NAN),
    ("arctan2(0.0, Dual(0, 1))", lambda: dualml.arctan2(0.0, D(0.0, 1.0)),
     0.0, NAN),
    ("hypot(Dual(0, 1), Dual(0, 1))",
     lambda: dualml.hypot(D(0.0, 1.0), D(0.0, 1.0)), 0.0, 0.0),
    ("Dual(1, 1) / 0.0", lambda: D(1.0, 1.0) / 0.0, INF, INF),
    ("Dual(0, 1) / 0.0", lambda: D(0.0, 1.0) / 0.0, NAN, None),
    ("Dual(1, 1) // 0.0", lambda: D(1.0, 1.0) // 0.0, INF, 0.0),
    ("Dual(1, 1) % 0.0", lambda: D(1.0, 1.0) % 0.0, NAN, None),
    ("Dual(7, 1) % 2.0", lambda: D(7.0, 1.0) % 2.0, 1.0, 1.0),
    ("7.0 % Dual(2, 1)", lambda: 7.0 % D(2.0, 1.0), 1.0, -3.0),
    ("-7.0 % Dual(2, 1)", lambda: -7.0 % D(2.0, 1.0), 1.0, 4.0),
    ("softplus(Dual(800, 1))", lambda: dualml.softplus(D(800.0, 1.0)),
     800.0, 1.0),
    ("log_sigmoid(Dual(-800, 1))",
     lambda: dualml.log_sigmoid(D(-800.0, 1.0)), -800.0, 1.0),
    ("sigmoid(Dual(-800, 1))", lambda: dualml.sigmoid(D(-800.0, 1.0)),
     0.0, 0.0),
    ("sigmoid(Dual(40, 1))", lambda: dualml.sigmoid(D(40.0, 1.0)), 1.0,
     _mp(lambda: R.mpmath.exp(-40) / (1 + R.mpmath.exp(-40)) ** 2)),
    ("tanh(Dual(20, 1))", lambda: dualml.tanh(D(20.0, 1.0)), 1.0,
     _mp(lambda: 1 / R.mpmath.cosh(20) ** 2)),
]


@pytest.mark.parametrize("call, value, deriv",
                         [c[1:] for c in CONVENTIONS],
                         ids=[c[0] for c in CONVENTIONS])
def test_readme_convention(call, value, deriv):
    r = call()
    assert isinstance(r, Dual)
    assert r.value == value or (math.isnan(value) and math.isnan(r.value)), \
        (r.value, value)
    if deriv is not None:
        assert close(r.deriv, deriv, RTOL), (r.deriv, deriv)


def test_readme_float_conventions():
    assert dualml.softplus(800.0) == 800.0
    assert dualml.log_sigmoid(-800.0) == -800.0
    assert dualml.sigmoid(-800.0) == 0.0
    # spot values of the reference itself (guards the reference)
    assert abs(_mp(lambda: R.mpmath.exp(-40) / (1 + R.mpmath.exp(-40)) ** 2)
               - 4.248354255291589e-18) < 1e-30


# --------------------------------------------------------------------------
# property tests (hypothesis)
# --------------------------------------------------------------------------

_BIG = dict(min_value=-800.0, max_value=800.0)
_POS = dict(min_value=0.0, exclude_min=True)
# where each function is real; exp-like functions are kept to |x| <= 800
# because mpmath needs long to evaluate exp(1e300) at 50 digits
DOMAIN = {
    "exp": _BIG, "expm1": _BIG, "sinh": _BIG, "cosh": _BIG, "tanh": _BIG,
    "exp2": dict(min_value=-1100.0, max_value=1100.0),
    "sigmoid": _BIG, "softplus": _BIG, "log_sigmoid": _BIG, "silu": _BIG,
    "elu": _BIG,
    "erf": dict(min_value=-1e5, max_value=1e5),
    "erfc": dict(min_value=-1e5, max_value=1e5),
    "gelu": dict(min_value=-1e5, max_value=1e5),
    "log": _POS, "log2": _POS, "log10": _POS, "sqrt": _POS,
    "log1p": dict(min_value=-1.0, exclude_min=True),
    "arccosh": dict(min_value=1.0, exclude_min=True),
    "arcsin": dict(min_value=-1.0, max_value=1.0, exclude_min=True,
                   exclude_max=True),
    "arccos": dict(min_value=-1.0, max_value=1.0, exclude_min=True,
                   exclude_max=True),
    "arctanh": dict(min_value=-1.0, max_value=1.0, exclude_min=True,
                    exclude_max=True),
}


def _floats(name):
    return st.floats(allow_nan=False, allow_infinity=False,
                     **DOMAIN.get(name, {}))


MATH_UNARY = sorted(n for n in UNARY_NAMES if R.UNARY[n].math is not None)


@pytest.mark.parametrize("name", MATH_UNARY)
def test_property_value_is_the_float_computation(name):
    """f(Dual(x, 1)).value is bit-identical to Python's math (or float
    arithmetic) wherever that does not raise."""
    u = R.UNARY[name]
    f = getattr(dualml, name)

    @settings(max_examples=40, deadline=None, database=None)
    @given(_floats(name))
    def prop(t):
        try:
            exp = u.math(t)
        except (ValueError, OverflowError, ZeroDivisionError):
            assume(False)
        got = f(Dual(t, 1.0)).value
        assert same_bits(got, exp), (name, t, exp, got)

    prop()


MATH_BINARY = sorted(n for n in BINARY_NAMES if R.BINARY[n].math is not None)


@pytest.mark.parametrize("name", MATH_BINARY)
def test_property_binary_value_is_the_float_computation(name):
    bf = R.BINARY[name]
    f = getattr(dualml, name)
    anyf = st.floats(allow_nan=False, allow_infinity=False)

    @settings(max_examples=40, deadline=None, database=None)
    @given(anyf, anyf)
    def prop(s, t):
        try:
            exp = bf.math(s, t)
        except (ValueError, OverflowError, ZeroDivisionError):
            assume(False)
        got = f(Dual(s, 1.0), Dual(t, 1.0)).value
        tie = s == t and name in ("minimum", "maximum", "fmin", "fmax")
        assert same_bits(got, exp) or (tie and got == exp), \
            (name, s, t, exp, got)

    prop()


@pytest.mark.parametrize("name", UNARY_NAMES)
def test_property_derivative_at_random_points(name):
    """Random points of the domain against the 50-digit reference; the
    tolerance is 1e-14 or 16 eps * kappa, kappa = |x f''/f'| the condition
    number of f' at x (large only next to a root of f')."""
    u = R.UNARY[name]

    @settings(max_examples=25, deadline=None, database=None)
    @given(_floats(name))
    def prop(t):
        failures = []
        e = _edge(u, t)
        if e is None:
            _check_point(u, t, None, failures, kappa_factor=16)
        elif u.alphas == (None,):
            _check_point(u, t, None, failures, dvalue=e[1], dderiv=e[2])
        check(failures)

    prop()


MODERATE = st.floats(min_value=-50.0, max_value=50.0)


@settings(max_examples=200, deadline=None, database=None)
@given(MODERATE)
def test_property_sum_rule(t):
    got = (dualml.sin(Dual(t, 1.0)) + dualml.exp(Dual(t, 1.0))).deriv
    c, e = math.cos(t), math.exp(t)
    # the error of a sum is bounded by the size of its terms
    assert abs(got - (c + e)) <= RTOL * (abs(c) + abs(e))


@settings(max_examples=200, deadline=None, database=None)
@given(MODERATE)
def test_property_product_rule(t):
    x = Dual(t, 1.0)
    got = (x * dualml.sin(x)).deriv
    s, c = math.sin(t), math.cos(t)
    assert abs(got - (s + t * c)) <= RTOL * (abs(s) + abs(t * c))


@settings(max_examples=200, deadline=None, database=None)
@given(MODERATE)
def test_property_quotient_rule(t):
    x = Dual(t, 1.0)
    got = (dualml.sin(x) / (1.0 + x * x)).deriv
    s, c, q = math.sin(t), math.cos(t), 1.0 + t * t
    terms = (abs(c * q) + abs(2.0 * t * s)) / (q * q)
    assert abs(got - (c * q - 2.0 * t * s) / (q * q)) <= RTOL * terms


@settings(max_examples=200, deadline=None, database=None)
@given(MODERATE)
def test_property_chain_rule(t):
    got = dualml.exp(dualml.sin(Dual(t, 1.0))).deriv
    exp = math.cos(t) * math.exp(math.sin(t))
    assert close(got, exp, RTOL), (t, got, exp)


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(min_value=-30.0, max_value=30.0),
       st.floats(min_value=0.1, max_value=10.0))
def test_property_chain_rule_binary(t, c):
    """d/dx hypot(c, x**2) / x**c with both operands moving."""
    x = Dual(t, 1.0)
    got = dualml.hypot(c, x * x).deriv
    h = math.hypot(c, t * t)
    assert close(got, 2.0 * t * (t * t) / h, RTOL), (t, c)
    # (subnormal x: see the power special (1e-310, 1e-310) in reference.py)
    if t >= 1e-300:
        got = (x ** x).deriv
        exp = t ** t * (math.log(t) + 1.0)
        # (log t + 1) cancels near t = 1/e: error bounded by the terms
        assert abs(got - exp) <= RTOL * t ** t * (abs(math.log(t)) + 1.0)


@settings(max_examples=200, deadline=None, database=None)
@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300),
       st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300))
def test_hypot_within_one_ulp_of_math(s, t):
    """dualml.hypot is the C library's (<= 1 ulp); math.hypot is CPython's own
    correctly rounded algorithm, so the two may differ in the last bit only."""
    got, exp = dualml.hypot(s, t), math.hypot(s, t)
    assert abs(got - exp) <= math.ulp(exp), (s, t, got, exp)
