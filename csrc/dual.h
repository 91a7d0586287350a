/*
 * dual.h -- dualml's dual numbers in plain C.
 *
 * A dual number x + x' e (e*e = 0) carries a value and a derivative.  This
 * header is the numerical core of dualml and depends on nothing but
 * <math.h>, so any C or C++ program can embed it:
 *
 *     #include "dual.h"
 *     dual x = dual_make(2.0, 1.0);          // seed dx/dx = 1
 *     dual y = dual_sin(dual_mul(x, x));      // y.value = sin 4, y.deriv = 4 cos 4
 *
 * Layout of this file:
 *   1. the struct and the tangent-scaling helper;
 *   2. hand-written helpers the rule table calls (kinks, stable activations),
 *      under a banner that says why each exists;
 *   3. the rule table (dual_rules.def) expanded into, per function f:
 *        double dual_f_rule(double x, double *dydx)        value and f'(x)
 *        dual   dual_f(dual x)                               unary
 *        double dual_f_rule(double a, double b, double *dyda, double *dydb)
 *        double dual_f_ts(x, p, y, d, t), dual_f_tsa / _tsb(a, b, y, d, t):
 *                 partial d times tangent t (the table's tangent column
 *                 where the plain product under- or overflows)
 *        dual   dual_f(dual, dual), dual_f_dc(dual, double), dual_f_cd(double, dual)
 *      A binary operation has three bodies so that a constant operand is
 *      never promoted to a zero-derivative dual (no 0 * inf = nan).
 *
 * The zero-tangent convention: a zero derivative contributes nothing, even
 * where a partial is infinite (sqrt(dual_make(0, 0)) has derivative 0, not
 * 0 * inf = nan).  A direction that does not move x does not move f(x).
 *
 * Compile without fast-math options: the rules rely on IEEE inf/nan and signed
 * zeros.  -fno-math-errno is harmless and lets the compiler drop unused
 * partials.
 */
#ifndef DUALML_DUAL_H
#define DUALML_DUAL_H

#include <math.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The package's version, defined here once: setup.py reads these three
   lines for the Python package (dualml.__version__, the wheel's metadata). */
#define DUALML_VERSION_MAJOR 0
#define DUALML_VERSION_MINOR 1
#define DUALML_VERSION_PATCH 0

typedef struct dual {
    double value;
    double deriv;
} dual;

/* The rule functions are always inlined where the compiler allows it: a
   caller that needs one partial (the array loops with a constant operand)
   must not pay for the other, and only inlining lets the compiler drop it
   (GCC stopped inlining the power rule into the loops once its nested
   second-order code called it from more places: a log per element, +30%). */
#if defined(__GNUC__) || defined(__clang__)
#define DUAL_RULE_INLINE static inline __attribute__((always_inline))
#else
#define DUAL_RULE_INLINE static inline
#endif

/* Constants used by the rules (also visible to the nested-rule column). */
#define DUAL_LN2        0.693147180559945309417232121458176568
#define DUAL_LN10       2.302585092994045684017991454684364208
#define DUAL_2_SQRTPI   1.128379167095512573896158903121545172   /* 2/sqrt(pi) */
#define DUAL_SQRT1_2    0.707106781186547524400844362104849039   /* 1/sqrt(2) */
#define DUAL_1_SQRT2PI  0.398942280401432677939946059934381868   /* 1/sqrt(2 pi) */
#define DUAL_LOG2E      1.442695040888963407359924681001892137   /* 1/ln 2 */
#define DUAL_LOG10E     0.434294481903251827651128918916605082   /* 1/ln 10 */
#define DUAL_NAN        ((double)NAN)

/* A domain error (a nan value from inputs that are not nan: log(-1),
   arcsin(2), inf - inf) has nan partials: a finite slope of an undefined
   value would be a silently wrong derivative.  A nan input keeps the rule's
   slope (Dual(nan, 1) * 2 has slope 2, as in ForwardDiff and JAX). */
static inline double dual_nanprop(double y, int inputs_nan, double partial)
{
    return (y != y && !inputs_nan) ? y : partial;
}

static inline dual dual_make(double value, double deriv)
{
    dual r;
    r.value = value;
    r.deriv = deriv;
    return r;
}

/* partial * tangent, with the zero-tangent convention above. */
static inline double dual_scale(double partial, double tangent)
{
    return tangent == 0.0 ? 0.0 : partial * tangent;
}

/* ===================================================================== *
 * Hand-written helpers.  Each exists because the obvious formula is      *
 * wrong somewhere (cancellation, overflow, nan at a limit) or because a  *
 * kink needs a written convention.                                       *
 * ===================================================================== */

/* np.sign: -1, 0 (keeping the sign of zero), 1, nan for nan. */
static inline double dual_sign_v(double x)
{
    return x > 0.0 ? 1.0 : (x < 0.0 ? -1.0 : x);
}

/* relu keeps nan (x > 0 is false for nan, x <= 0 too). */
static inline double dual_relu_v(double x)
{
    return x > 0.0 ? x : (x <= 0.0 ? 0.0 : x);
}

/* d tanh = sech^2.  1 - y^2 loses all relative accuracy as |y| -> 1
   (tanh(20) rounds to 1); from |y| = 0.75 on use 4e/(1+e)^2, e = exp(-2|x|).
   Below, 1 - y*y (not (1 - y)(1 + y), whose derivative cancels near 0): the
   table's nested column is this expression, for the second derivative. */
static inline double dual_tanh_d(double x, double y)
{
    double e;
    if (fabs(y) < 0.75)
        return 1.0 - y * y;
    e = exp(-2.0 * fabs(x));
    return 4.0 * e / ((1.0 + e) * (1.0 + e));
}

/* d atan = 1/(1 + x^2); x*x overflows from |x| = 1.34e154 on (slope 0
   instead of a subnormal), and 1 + x^2 == x^2 to rounding from |x| = 1e8:
   there (1/x)^2, the table's nested column. */
static inline double dual_arctan_d(double x)
{
    double r;
    if (fabs(x) < 1e8)
        return 1.0 / (1.0 + x * x);
    r = 1.0 / x;
    return r * r;
}

/* d cosh = sinh(x) and d sinh = cosh(x): each a second libm call as costly
   as the value.  From the value y instead:
   * cosh' = sinh = sqrt((y-1)(y+1)) where y - 1 does not cancel (|x| >= 1,
     y >= 1.54: within 3 ulp) and the product stays finite (y < 1e150;
     above, sinh = cosh to rounding, as tanh(x) rounds to 1 for |x| > 19.1);
     for |x| < 1 the Taylor series of sinh to x^19 (truncation < 1e-19
     relative, all terms positive: within 1 ulp).
   * sinh' = cosh = sqrt(1 + y*y): no cancellation (within 1.5 ulp), |y| past
     1e150 is cosh to rounding. */
static inline double dual_cosh_d(double x, double y)
{
    double z, p;
    if (fabs(x) < 1.0) {
        z = x * x;
        p = 1.0 / 121645100408832000.0;                 /* 1/19! */
        p = p * z + 1.0 / 355687428096000.0;            /* 1/17! */
        p = p * z + 1.0 / 1307674368000.0;              /* 1/15! */
        p = p * z + 1.0 / 6227020800.0;                 /* 1/13! */
        p = p * z + 1.0 / 39916800.0;                   /* 1/11! */
        p = p * z + 1.0 / 362880.0;                     /* 1/9!  */
        p = p * z + 1.0 / 5040.0;                       /* 1/7!  */
        p = p * z + 1.0 / 120.0;                        /* 1/5!  */
        p = p * z + 1.0 / 6.0;                          /* 1/3!  */
        return x + x * (p * z);
    }
    if (y < 1e150)
        return copysign(sqrt((y - 1.0) * (y + 1.0)), x);
    return copysign(y, x);                              /* inf, nan too */
}

static inline double dual_sinh_d(double y)
{
    return fabs(y) < 1e150 ? sqrt(1.0 + y * y) : fabs(y);
}

/* d asinh = 1/sqrt(1 + x^2); hypot(1, x) only where x*x would overflow. */
static inline double dual_arcsinh_d(double x)
{
    return fabs(x) < 1e150 ? 1.0 / sqrt(1.0 + x * x) : 1.0 / hypot(1.0, x);
}

/* sigmoid, softplus, log_sigmoid and silu all come from e = exp(-|x|), which
   never overflows: sigmoid(x) = 1/(1+e) for x >= 0 and e/(1+e) below, and
   the derivative e/(1+e)^2 has no cancellation. */
static inline double dual_sigmoid_rule(double x, double *dydx)
{
    double e = exp(-fabs(x));
    double q = 1.0 / (1.0 + e);
    *dydx = e * q * q;
    return x >= 0.0 ? q : e * q;
}

/* softplus(x) = log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)). */
static inline double dual_softplus_rule(double x, double *dydx)
{
    double e = exp(-fabs(x));
    double q = 1.0 / (1.0 + e);
    *dydx = x >= 0.0 ? q : e * q;
    return (x > 0.0 ? x : 0.0) + log1p(e);
}

/* log_sigmoid(x) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)). */
static inline double dual_log_sigmoid_rule(double x, double *dydx)
{
    double e = exp(-fabs(x));
    double q = 1.0 / (1.0 + e);
    *dydx = x >= 0.0 ? e * q : q;
    return (x < 0.0 ? x : 0.0) - log1p(e);
}

/* silu(x) = x sigmoid(x); d = s (1 + x sigmoid(-x)).  At the limits the
   products x*0 would give nan; the true limits are 0 (value, x -> -inf) and
   1 (slope, x -> +inf). */
static inline double dual_silu_rule(double x, double *dydx)
{
    double e;
    if (x != x) {               /* the input nan itself: its sign must not */
        *dydx = x;              /* depend on how the compiler ordered x * s */
        return x;
    }
    e = exp(-fabs(x));
    double q = 1.0 / (1.0 + e);
    double s = x >= 0.0 ? q : e * q;        /* sigmoid(x)  */
    double m = x >= 0.0 ? e * q : q;        /* sigmoid(-x) */
    *dydx = s == 0.0 ? 0.0 : s * (1.0 + (m == 0.0 ? 0.0 : x * m));
    return s == 0.0 ? -0.0 : x * s;
}

/* gelu(x) = x Phi(x), Phi(x) = erfc(-x/sqrt 2)/2 (erfc, not 1 + erf, so the
   left tail does not cancel); d = Phi(x) + x phi(x). */
static inline double dual_gelu_rule(double x, double *dydx)
{
    double c, phi;
    if (x != x) {               /* as in silu: the input nan, whatever the */
        *dydx = x;              /* operand order of 0.5 * x * c */
        return x;
    }
    c = erfc(-x * DUAL_SQRT1_2);
    phi = exp(-0.5 * x * x) * DUAL_1_SQRT2PI;
    *dydx = 0.5 * c + (phi == 0.0 ? 0.0 : x * phi);
    return c == 0.0 ? -0.0 : 0.5 * x * c;
}

/* x**b: d/dx = b x^(b-1), written so that x = 0 works for every b >= 0
   (Dual(0,1)**2 has slope 0, **1 slope 1, **0 slope 0, **0.5 slope +inf).
   b = 1 and 2 (x**2 in every loss) have exact slopes 1 and 2a.  Otherwise,
   while the value y is a normal number and y / x does not overflow,
   x^(b-1) = y / x: one division instead of a second pow call, within ~1 ulp
   (also for a subnormal x, where pow(x, b-1) is off by |(b-1) ln x| ulp
   from rounding b - 1: 4e-14 at x = 5e-324).  Where y under- or overflows
   pow(a, b-1) may still be finite, and an infinite b with pow(a, b-1) = 0
   has slope 0 (not inf * 0).  Where pow(a, b-1) under- or overflows, b y / a
   is tried in the order that does not: (b / a) y for a tiny b and subnormal
   a, b (y / a) when b / a overflows (subnormal a, y = 0: slope 0, not nan). */
static inline double dual_pow_da(double a, double b, double y)
{
    double t;
    if (b == 2.0)
        return 2.0 * a;
    if (b == 1.0 || b == 0.0)
        return b;
    if (a != 0.0 && isfinite(a) && isfinite(b) && isnormal(y)) {
        t = y / a;
        if (isfinite(t))
            return b * t;
    }
    t = pow(a, b - 1.0);
    if (t == 0.0 || isinf(t)) {
        if (a != 0.0 && isfinite(a) && isfinite(b)) {
            double r = (b / a) * y;
            return r == r ? r : b * (y / a);
        }
        if (t == 0.0)
            return 0.0;
    }
    return b * t;
}

/* a**x: d/dx = log(a) a^x.  At a = 0 the function is 0 for x > 0 (slope 0)
   and jumps at x <= 0 (nan); a < 0 is not real-differentiable in x (nan). */
static inline double dual_pow_db(double a, double b, double y)
{
    if (a == 0.0)
        return b > 0.0 ? 0.0 : DUAL_NAN;
    return a < 0.0 ? DUAL_NAN : log(a) * y;
}

/* d hypot(a, b)/da = a / y.  0/0 -> 0: the kink at the origin, like abs at 0.
   y = inf: the slope tends to sign(a) if a is the infinite one, 0 if b is;
   both infinite is direction-dependent (nan); both finite (hypot overflowed)
   it is a/hypot(a, b) of the halved operands (exact scaling, no overflow). */
static inline double dual_hypot_da(double a, double b, double y)
{
    if (y == 0.0)
        return 0.0;
    if (isinf(y) && !(a != a) && !(b != b)) {
        if (isinf(a) && isinf(b))
            return DUAL_NAN;
        if (isinf(a) || isinf(b))
            return isinf(a) ? copysign(1.0, a) : 0.0;
        return (0.5 * a) / hypot(0.5 * a, 0.5 * b);
    }
    return a / y;
}

/* d atan2(a, b)/da = b / (a^2 + b^2) and d/db = -a / (a^2 + b^2).  While
   a^2 + b^2 is far from under- and overflow it is computed directly (within
   2 ulp); otherwise as (b/h)/h with h = hypot(a, b), and h = inf with one
   operand finite gives the limit 0.  Both partials write the same
   expressions, so the compiler computes them once for the pair. */
static inline double dual_atan2_d(double a, double b, double num)
{
    double s = a * a + b * b, h;
    if (s > 1e-300 && s < 1e300)
        return num / s;
    h = hypot(a, b);
    if (isinf(h) && !(isinf(a) && isinf(b)) && !(a != a) && !(b != b))
        return 0.0;
    return (num / h) / h;
}

static inline double dual_atan2_da(double a, double b)
{
    return dual_atan2_d(a, b, b);
}

static inline double dual_atan2_db(double a, double b)
{
    return dual_atan2_d(a, b, -a);
}

/* np.minimum / np.maximum: nan propagates from either side. */
static inline double dual_minimum_v(double a, double b)
{
    return (a < b || a != a) ? a : b;
}

static inline double dual_maximum_v(double a, double b)
{
    return (a > b || a != a) ? a : b;
}

/* np.fmin / np.fmax: a nan operand is ignored.  Written out because C leaves
   the sign of fmin(+0, -0) to the library; NumPy's choice is the first. */
static inline double dual_fmin_v(double a, double b)
{
    return (a <= b || b != b) ? a : b;
}

static inline double dual_fmax_v(double a, double b)
{
    return (a >= b || b != b) ? a : b;
}

/* d min(a, b)/da: 1 if a is the smaller, 0 if b is, 0.5 at a tie, nan if
   either is nan.  maximum uses it with the arguments swapped. */
static inline double dual_min_da(double a, double b)
{
    return a < b ? 1.0 : (a > b ? 0.0 : (a == b ? 0.5 : DUAL_NAN));
}

/* fmin ignores a nan operand: the slope is that of the other one. */
static inline double dual_fmin_da(double a, double b)
{
    if (b != b)
        return a != a ? DUAL_NAN : 1.0;
    if (a != a)
        return 0.0;
    return dual_min_da(a, b);
}

static inline double dual_copysign_da(double a, double b)
{
    return (signbit(a) != 0) == (signbit(b) != 0) ? 1.0 : -1.0;
}

/* np.logaddexp: exact at a == b (also a = b = -inf), no overflow.  Value
   and both partials write e = exp(-|a - b|) alike, so the compiler computes
   it once for the three (exp(-t) for t > 0 and exp(t) for t <= 0 are it). */
static inline double dual_logaddexp_v(double a, double b)
{
    double t;
    if (a == b)
        return a + DUAL_LN2;
    t = a - b;
    if (t > 0.0)
        return a + log1p(exp(-fabs(a - b)));
    if (t <= 0.0)
        return b + log1p(exp(-fabs(a - b)));
    return t;                               /* nan */
}

/* d logaddexp(a, b)/da = sigmoid(a - b), d/db = sigmoid(b - a): from the
   inputs, not from exp(a - y) with the rounded y (which is off by ~|a| ulp
   for large |a|).  sigmoid(s) = 1/(1+e) for s >= 0, e/(1+e) below, as in
   dual_sigmoid_rule. */
static inline double dual_logaddexp_da(double a, double b)
{
    double e = exp(-fabs(a - b));
    double q = 1.0 / (1.0 + e);
    return a - b >= 0.0 ? q : e * q;
}

static inline double dual_logaddexp_db(double a, double b)
{
    double e = exp(-fabs(a - b));
    double q = 1.0 / (1.0 + e);
    return a - b <= 0.0 ? q : e * q;
}

/* Python's (and NumPy's) float floor division and modulo: the result of
   a % b has the sign of b; b = 0 gives a/b and nan like NumPy (Python
   would raise). */
static inline double dual_divmod_v(double a, double b, double *mod)
{
    double m = fmod(a, b), div, fl;
    if (b == 0.0) {
        *mod = m;
        return a / b;
    }
    div = (a - m) / b;
    if (m != 0.0) {
        if ((b < 0.0) != (m < 0.0)) {
            m += b;
            div -= 1.0;
        }
    }
    else {
        m = copysign(0.0, b);
    }
    if (div != 0.0) {
        fl = floor(div);
        if (div - fl > 0.5)
            fl += 1.0;
    }
    else {
        fl = copysign(0.0, a / b);
    }
    *mod = m;
    return fl;
}

static inline double dual_floor_divide_v(double a, double b)
{
    double m;
    return dual_divmod_v(a, b, &m);
}

static inline double dual_remainder_v(double a, double b)
{
    double m;
    dual_divmod_v(a, b, &m);
    return m;
}

/* Tangent column helpers: u * t / b in an order that neither under- nor
   overflows where the result does not (partial * tangent may: the partial
   alone leaves the double range while the product is in it). */
DUAL_RULE_INLINE int dual_normal_(double r)
{
    /* DBL_MIN, DBL_MAX (only <math.h> here) */
    return fabs(r) >= 2.2250738585072014e-308 && fabs(r) <= 1.7976931348623157e308;
}

static inline double dual_muldiv(double u, double t, double b)
{
    double c[3];
    int i;
    c[0] = u * (t / b);
    c[1] = (u * t) / b;
    c[2] = (u / b) * t;
    for (i = 0; i < 3; i++)
        if (dual_normal_(c[i]))
            return c[i];
    for (i = 0; i < 3; i++)             /* a subnormal result: not 0 or inf */
        if (c[i] != 0.0 && c[i] - c[i] == 0.0)
            return c[i];
    return c[0];
}

/* b pow(a, b - 1) * t.  Where the value y is a normal number, as b y t / a
   in an order that stays in range (dual_muldiv): y / a is within ~1 ulp of
   a^(b-1), as in dual_pow_da, while pow(a, b - 1) is off by |ln a| ulp(b)
   from the rounding of b - 1 (4e-14 at a = 1e308, b = 1e-8).  Else as
   (pow(a, h) t) pow(a, h), h = (b - 1)/2: in range where pow(a, b - 1)
   alone is not (nan for a < 0 with a non-integer h: then the plain product
   stays) */
static inline double dual_pow_t(double a, double b, double y, double t)
{
    double h, q, r;
    if (dual_normal_(y) && a != 0.0 && isfinite(a) && isfinite(b)) {
        r = dual_muldiv(b * y, t, a);
        if (dual_normal_(r) && dual_normal_(b * y))
            return r;
        r = dual_muldiv(y, b * t, a);
        if (dual_normal_(r) && dual_normal_(b * t))
            return r;
    }
    h = 0.5 * (b - 1.0);
    q = pow(a, h);
    return b * ((q * t) * q);
}

/* log(a) pow(a, b) t the same way (y = pow(a, b) itself out of range) */
static inline double dual_powb_t(double a, double b, double t)
{
    double q = pow(a, 0.5 * b);
    return log(a) * ((q * t) * q);
}

/* num / (a^2 + b^2) * t as ((num / h) t) / h, h = hypot(a, b): |num / h| <= 1;
   where num / h is subnormal (a tiny num beside a large h) it has lost
   bits: then (num t / h) / h in the order dual_muldiv picks, which rounds
   to a subnormal at most once, at the end */
static inline double dual_atan2_t(double a, double b, double num, double t)
{
    double h = hypot(a, b), r = ((num / h) * t) / h, c;
    if (dual_normal_(r) && dual_normal_(num / h))
        return r;
    c = dual_muldiv(num, t, h) / h;
    return c != 0.0 && c - c == 0.0 ? c : r;
}

/* -t / x^2 for reciprocal: -(y t) y (y = 1/x), or -((t / x) / x) where y
   overflows (a subnormal x) */
static inline double dual_reciprocal_t(double x, double y, double t)
{
    double r = -(y * t) * y;
    return dual_normal_(r) ? r : -((t / x) / x);
}

/* t / x^2 (arctan beyond |x| = 1e8, where its partial is (1/x)^2): (t/x)/x,
   or t / (x x) where t / x left the normal range */
static inline double dual_divdiv(double t, double x)
{
    double r = (t / x) / x, c = t / (x * x);
    return dual_normal_(r) || !dual_normal_(c) ? r : c;
}

static inline double dual_arctan_t(double x, double t)
{
    return fabs(x) < 1e8 ? DUAL_NAN : dual_divdiv(t, x);
}

/* arcsinh' t and arccosh' t from |x| = 1e150 on, where the partials
   1/hypot(1, x) and 1/(sqrt(x-1) sqrt(x+1)) are 1/|x| to rounding (the
   relative difference is 1/(2 x^2)) and subnormal beyond 4.5e307: t / |x|,
   one rounding.  Below, the partials are normal numbers (nan: the plain
   product stays). */
static inline double dual_arcsinh_t(double x, double t)
{
    return fabs(x) < 1e150 ? DUAL_NAN : t / fabs(x);
}

static inline double dual_arccosh_t(double x, double t)
{
    return x < 1e150 ? DUAL_NAN : t / x;
}

/* The exponential tangent columns: c t exp(zh + zl) (zl a small correction
   of zh) where exp(zh) alone under- or overflows but the product does not.
   c and t are split into mantissa and exponent, c t = m 2^e with
   0.25 <= |m| < 1, and e ln 2 is folded into the argument: c t exp(z) =
   m exp(z + e ln 2), whose factor exp(s), s = zh + e ln2, is then within a
   factor 4 of the result (in range where the result is).  ln 2 is split
   as fdlibm's: LN2_HI has 32 significant bits, so e LN2_HI is exact for
   |e| < 2^21; the rounding error of s = zh + e LN2_HI is recovered exactly
   (two-sum), and that, zl and e LN2_LO (|e LN2_LO| < 5e-7) go into
   exp(lo) = 1 + expm1(lo).  Error: the roundings of m, exp(s) (< 1 ulp in
   glibc), the two products and the sum: within 3 ulp of c t exp(zh + zl).
   Only x, the parameter and t enter (never the rule's value y), so the
   column is the same bits on the SIMD path, whose y is libmvec's.  nan
   (keep the plain product) where an argument is not finite. */
#define DUAL_LN2_HI 6.93147180369123816490e-01      /* 0x3fe62e42fee00000 */
#define DUAL_LN2_LO 1.90821492927058770002e-10      /* ln 2 - LN2_HI */

static inline double dual_ct_frexp_(double c, double t, int *e)
{
    int ec, et;
    double mc = frexp(c, &ec), mt = frexp(t, &et);
    *e = ec + et;
    return mc * mt;
}

static inline double dual_expt(double c, double zh, double zl, double t)
{
    int e;
    double m, k, s, bb, err, lo, r;
    if (!(isfinite(c) && isfinite(zh) && isfinite(zl) && isfinite(t)))
        return DUAL_NAN;
    m = dual_ct_frexp_(c, t, &e);
    k = (double)e;
    s = zh + k * DUAL_LN2_HI;
    bb = s - zh;
    err = (zh - (s - bb)) + (k * DUAL_LN2_HI - bb);
    lo = (err + zl) + k * DUAL_LN2_LO;
    r = m * exp(s);
    return r + r * expm1(lo);
}

/* c t 2^x the same way: c t 2^x = m 2^(x + e), the rounding error of
   s = x + e recovered by two-sum into 2^lo = 1 + expm1(lo ln 2) */
static inline double dual_exp2t(double c, double x, double t)
{
    int e;
    double m, k, s, bb, err, r;
    if (!(isfinite(c) && isfinite(x) && isfinite(t)))
        return DUAL_NAN;
    m = dual_ct_frexp_(c, t, &e);
    k = (double)e;
    s = x + k;
    bb = s - x;
    err = (x - (s - bb)) + (k - bb);
    r = m * exp2(s);
    return r + r * expm1(err * DUAL_LN2);
}

/* The hyperbolic columns from |x| = 20 on, where exp(-2|x|) < 4.3e-18 is
   below half an ulp beside 1: cosh(x) t = t exp(|x|)/2, sinh(x) t =
   sign(x) t exp(|x|)/2, tanh'(x) t = 4 t exp(-2|x|) / (1 + exp(-2|x|))^2
   = 4 t exp(-2|x|) (1 - O(e)).  Below |x| = 20 the partials are normal
   numbers and the plain product is right (nan: keep it). */
static inline double dual_sinh_t(double x, double t)      /* cosh(x) t */
{
    return fabs(x) >= 20.0 ? dual_expt(0.5, fabs(x), 0.0, t) : DUAL_NAN;
}

static inline double dual_cosh_t(double x, double t)      /* sinh(x) t */
{
    return fabs(x) >= 20.0 ? dual_expt(copysign(0.5, x), fabs(x), 0.0, t) : DUAL_NAN;
}

static inline double dual_tanh_t(double x, double t)
{
    return fabs(x) >= 20.0 ? dual_expt(4.0, -2.0 * fabs(x), 0.0, t) : DUAL_NAN;
}

/* c t exp(-(x x)) (erf, erfc): x x split exactly into hi + lo by fma */
static inline double dual_gauss_t(double c, double x, double t)
{
    double z = x * x;
    return dual_expt(c, -z, -fma(x, x, -z), t);
}

/* The activations' columns, from |x| = 40 on where e = exp(-|x|) <
   4.3e-18: sigmoid' = e / (1 + e)^2 = e (1 - O(e)); softplus' = sigmoid(x)
   = e^x (x < -40); log_sigmoid' = sigmoid(-x) = e^-x (x > 40); silu' =
   s (1 + x sigmoid(-x)) = e^x (1 + x) (1 + O(|x| e)) for x < -40.  Within
   40 (and on the side where the partial tends to 1) the partials are
   normal numbers: nan, the plain product stays. */
static inline double dual_sigmoid_tcol(double x, double t)
{
    return fabs(x) > 40.0 ? dual_expt(1.0, -fabs(x), 0.0, t) : DUAL_NAN;
}

static inline double dual_softplus_tcol(double x, double t)
{
    return x < -40.0 ? dual_expt(1.0, x, 0.0, t) : DUAL_NAN;
}

static inline double dual_log_sigmoid_tcol(double x, double t)
{
    return x > 40.0 ? dual_expt(1.0, -x, 0.0, t) : DUAL_NAN;
}

static inline double dual_silu_tcol(double x, double t)
{
    return x < -40.0 ? dual_expt(1.0 + x, x, 0.0, t) : DUAL_NAN;
}

/* gelu' = Phi(x) + x phi(x) = phi(x) x (1 - S / x^2) for x < -37 (where
   phi(x) < 1.6e-298 and the partial leaves the normal range), with
   Phi(x) / phi(x) = S / |x|, S = 1 - u + 3u^2 - 15u^3 + ... (u = 1/x^2,
   the asymptotic series of Mills' ratio: its ninth term is below 1e-20 at
   x = -37).  phi(x) t by the exponential column of -x^2/2 (split by fma);
   nan (the plain product, 0) where x x overflows. */
static inline double dual_gelu_tcol(double x, double t)
{
    double z, u, S;
    if (!(x < -37.0) || x < -1e150)
        return DUAL_NAN;
    z = x * x;
    u = 1.0 / z;
    S = 1.0 - u * (1.0 - u * (3.0 - u * (15.0 - u * (105.0 - u * (945.0
        - u * (10395.0 - u * (135135.0 - u * 2027025.0)))))));
    return dual_expt(DUAL_1_SQRT2PI * x * (1.0 - S * u), -0.5 * z,
                     -0.5 * fma(x, x, -z), t);
}

/* elu' t = p e^x t for x <= 0 */
static inline double dual_elu_t(double x, double p, double t)
{
    return x > 0.0 ? DUAL_NAN : dual_expt(p, x, 0.0, t);
}

/* logaddexp: d/da t = sigmoid(a - b) t = e^(a - b) t for a - b < -40, with
   a - b = s + err exactly (two-sum): the rounding of a - b would cost
   |a - b| ulp/2 relative (dual_logaddexp_tb: the operands swapped) */
static inline double dual_logaddexp_t(double a, double b, double t)
{
    double s = a - b, bb, err;
    if (!(s < -40.0))
        return DUAL_NAN;
    bb = s - a;
    err = (a - (s - bb)) + (-b - bb);
    return dual_expt(1.0, s, err, t);
}

/* a partial off the normal range (0, subnormal or inf) with a nonzero
   tangent: the rule's tangent column, where it has one, computes the
   product in another order (a nan result of that column keeps the plain
   product: the rule's conventions at special points stay).  A normal
   partial d needs no column: the plain product d t is then within an ulp
   or two of the exact one, in range or out of it alike (the column would
   differ only within an ulp of the range's ends), so the test reads d
   alone -- the k > 1 row drivers then test each block's partials once
   instead of every product (dual_kernels.c, dual_offrange_block_). */
DUAL_RULE_INLINE int dual_offrange_(double d, double r, double t)
{
    /* |t| = 1: the product is the partial itself, as the partials API and
       a seeded Dual give it alike.  The common case (d normal) first,
       without short-circuit branches: this runs once per element */
    double ad = fabs(d);
    if ((ad >= 2.2250738585072014e-308) & (ad <= 1.7976931348623157e308))
        return 0;
    return t != 0.0 && fabs(t) != 1.0 && r == r;
}

/* the tangent column's value replaces the plain product where it is in the
   normal range, or where it is subnormal and the plain product is 0 or inf
   or went through a partial d outside the normal range (rounded to fewer
   bits before it met the tangent) */
static inline int dual_ts_better_(double alt, double r, double d)
{
    if (alt != alt)
        return 0;
    if (dual_normal_(alt))
        return 1;
    return (r == 0.0 || isinf(r) || !dual_normal_(d)) && alt != 0.0 && !isinf(alt);
}

#if defined(__GNUC__)
#define DUAL_UNLIKELY(c) __builtin_expect(!!(c), 0)
#else
#define DUAL_UNLIKELY(c) (c)
#endif

/* The derivative column may be DUAL_WITH_T(partial, tangent): the partial,
   and the same derivative times a tangent t written so that it stays in
   range (reciprocal: -(y t) y, not -(y y) t, which is -0.0 for -1e-200 at
   x = t = 1e200).  The rules below see the partial only. */
#define DUAL_WITH_T(d, tx) (d)

/* ===================================================================== *
 * The rule table, expanded.                                              *
 * ===================================================================== */

/* 1. value and partials of each function on doubles */
#define DUAL_UNARY(name, value, deriv, nested)                               \
    DUAL_RULE_INLINE double dual_##name##_rule(double x, double *dydx)     \
    {                                                                       \
        double y = (value);                                                 \
        *dydx = dual_nanprop(y, x != x, (deriv));                                   \
        return y;                                                           \
    }
#define DUAL_UNARY_P(name, value, deriv, nested)                             \
    DUAL_RULE_INLINE double dual_##name##_rule(double x, double p, double *dydx) \
    {                                                                       \
        double y = (value);                                                 \
        *dydx = dual_nanprop(y, x != x, (deriv));                                   \
        return y;                                                           \
    }
#define DUAL_UNARY_FN(name, nested)
#define DUAL_BINARY(name, value, da, db, nested_da, nested_db)               \
    DUAL_RULE_INLINE double dual_##name##_rule(double a, double b,          \
                                            double *dyda, double *dydb)    \
    {                                                                       \
        double y = (value);                                                 \
        *dyda = dual_nanprop(y, a != a || b != b, (da));                                    \
        *dydb = dual_nanprop(y, a != a || b != b, (db));                                    \
        return y;                                                           \
    }
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY

/* 2. partial * tangent per rule, the tangent column where the partial or
      the plain product leaves the normal range: dual_<f>_ts(x, p, y, d, t)
      for unary rules (p used by DUAL_UNARY_P only), dual_<f>_tsa / _tsb(a,
      b, y, d, t) for binary ones.  Rules without a column compile to
      dual_scale.  The column is evaluated in a function of its own
      (dual_<f>_tfix*, not inlined), so that no vectorized or if-converted
      loop computes it speculatively: it may raise floating-point flags
      that NumPy's object loops report as warnings. */
#if defined(__GNUC__)
#define DUAL_NOINLINE __attribute__((noinline))
#elif defined(_MSC_VER)
#define DUAL_NOINLINE __declspec(noinline)
#else
#define DUAL_NOINLINE
#endif
#undef DUAL_WITH_T
#define DUAL_WITH_T(d, tx) (dual_has_t_ = 1, dual_alt_ = (tx), (d))
#define DUAL_TFIX_BODY_(deriv)                                               \
    int dual_has_t_ = 0;                                                    \
    double dual_alt_ = 0.0;                                                 \
    (void)(deriv);                                                          \
    return dual_has_t_ && dual_ts_better_(dual_alt_, r, d) ? dual_alt_ : r;
#define DUAL_UNARY(name, value, deriv, nested)                               \
    DUAL_NOINLINE static double dual_##name##_tfix(double x, double p, double y, \
                                                   double d, double t, double r) \
    {                                                                       \
        (void)x; (void)p; (void)y; (void)d; (void)t;                        \
        DUAL_TFIX_BODY_(deriv)                                              \
    }
#define DUAL_UNARY_P(name, value, deriv, nested) DUAL_UNARY(name, value, deriv, nested)
/* the hand-written rules' tangent columns: dual_<f>_tcol(x, t) */
#define DUAL_UNARY_FN(name, nested)                                          \
    DUAL_NOINLINE static double dual_##name##_tfix(double x, double p, double y, \
                                                   double d, double t, double r) \
    {                                                                       \
        double dual_alt_ = dual_##name##_tcol(x, t);                        \
        (void)p; (void)y; (void)d;                                          \
        return dual_ts_better_(dual_alt_, r, d) ? dual_alt_ : r;               \
    }
#define DUAL_BINARY(name, value, da, db, nested_da, nested_db)               \
    DUAL_NOINLINE static double dual_##name##_tfixa(double a, double b, double y, \
                                                    double d, double t, double r) \
    {                                                                       \
        (void)a; (void)b; (void)y; (void)d; (void)t;                        \
        DUAL_TFIX_BODY_(da)                                                 \
    }                                                                       \
    DUAL_NOINLINE static double dual_##name##_tfixb(double a, double b, double y, \
                                                    double d, double t, double r) \
    {                                                                       \
        (void)a; (void)b; (void)y; (void)d; (void)t;                        \
        DUAL_TFIX_BODY_(db)                                                 \
    }
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY
#undef DUAL_WITH_T
/* whether a column has a tangent: constant after inlining, so rules without
   one keep the plain, vectorizable product */
#define DUAL_WITH_T(d, tx) (dual_has_t_ = 1, 0.0)
#define DUAL_TS_BODY_(deriv, fix)                                           \
    double r = dual_scale(d, t);                                            \
    int dual_has_t_ = 0;                                                    \
    (void)(deriv);                                                          \
    if (dual_has_t_ && DUAL_UNLIKELY(dual_offrange_(d, r, t)))              \
        r = fix;                                                            \
    return r;
/* dual_<f>_hast(): whether unary rule f has a tangent column (a constant;
   the SIMD loops skip their scan of the products without one) */
#define DUAL_UNARY(name, value, deriv, nested)                               \
    static inline double dual_##name##_ts(double x, double p, double y,      \
                                          double d, double t)               \
    {                                                                       \
        (void)x; (void)p; (void)y;                                          \
        DUAL_TS_BODY_(deriv, dual_##name##_tfix(x, p, y, d, t, r))          \
    }                                                                       \
    static inline int dual_##name##_hast(void)                              \
    {                                                                       \
        double x = 0.0, p = 0.0, y = 0.0, t = 0.0;                          \
        int dual_has_t_ = 0;                                                \
        (void)x; (void)p; (void)y; (void)t;                                 \
        (void)(deriv);                                                      \
        return dual_has_t_;                                                 \
    }
#define DUAL_UNARY_P(name, value, deriv, nested) DUAL_UNARY(name, value, deriv, nested)
#define DUAL_UNARY_FN(name, nested)                                          \
    static inline double dual_##name##_ts(double x, double p, double y,      \
                                          double d, double t)               \
    {                                                                       \
        double r = dual_scale(d, t);                                        \
        if (DUAL_UNLIKELY(dual_offrange_(d, r, t)))                         \
            r = dual_##name##_tfix(x, p, y, d, t, r);                       \
        return r;                                                           \
    }                                                                       \
    static inline int dual_##name##_hast(void)                              \
    {                                                                       \
        return 1;                                                           \
    }
#define DUAL_BINARY(name, value, da, db, nested_da, nested_db)               \
    static inline double dual_##name##_tsa(double a, double b, double y,     \
                                           double d, double t)              \
    {                                                                       \
        (void)a; (void)b; (void)y;                                          \
        DUAL_TS_BODY_(da, dual_##name##_tfixa(a, b, y, d, t, r))            \
    }                                                                       \
    static inline double dual_##name##_tsb(double a, double b, double y,     \
                                           double d, double t)              \
    {                                                                       \
        (void)a; (void)b; (void)y;                                          \
        DUAL_TS_BODY_(db, dual_##name##_tfixb(a, b, y, d, t, r))            \
    }
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY
#undef DUAL_WITH_T
#define DUAL_WITH_T(d, tx) (d)

/* 3. the same functions on dual numbers (arguments u, v: the names x, a, b
      and value belong to the table's expressions) */
#define DUAL_UNARY(name, value_, deriv_, nested_)                            \
    static inline dual dual_##name(dual u)                                  \
    {                                                                       \
        double d, y = dual_##name##_rule(u.value, &d);                      \
        return dual_make(y, dual_##name##_ts(u.value, 0.0, y, d, u.deriv)); \
    }
#define DUAL_UNARY_FN(name, nested_) DUAL_UNARY(name, 0, 0, nested_)
#define DUAL_UNARY_P(name, value_, deriv_, nested_)                          \
    static inline dual dual_##name(dual u, double p)                        \
    {                                                                       \
        double d, y = dual_##name##_rule(u.value, p, &d);                   \
        return dual_make(y, dual_##name##_ts(u.value, p, y, d, u.deriv));   \
    }
#define DUAL_BINARY(name, value_, da_, db_, nested_da_, nested_db_)          \
    static inline dual dual_##name(dual u, dual v)                          \
    {                                                                       \
        double fa, fb, y = dual_##name##_rule(u.value, v.value, &fa, &fb);  \
        return dual_make(y, dual_##name##_tsa(u.value, v.value, y, fa, u.deriv) \
                            + dual_##name##_tsb(u.value, v.value, y, fb, v.deriv)); \
    }                                                                       \
    static inline dual dual_##name##_dc(dual u, double v)                   \
    {                                                                       \
        double fa, fb, y = dual_##name##_rule(u.value, v, &fa, &fb);        \
        (void)fb;                                                           \
        return dual_make(y, dual_##name##_tsa(u.value, v, y, fa, u.deriv)); \
    }                                                                       \
    static inline dual dual_##name##_cd(double u, dual v)                   \
    {                                                                       \
        double fa, fb, y = dual_##name##_rule(u, v.value, &fa, &fb);        \
        (void)fa;                                                           \
        return dual_make(y, dual_##name##_tsb(u, v.value, y, fb, v.deriv)); \
    }
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY

#ifdef __cplusplus
}
#endif

#endif /* DUALML_DUAL_H */
