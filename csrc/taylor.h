/*
 * taylor.h -- univariate Taylor arithmetic in plain C (dualml's Taylor mode).
 *
 * A truncated Taylor polynomial x(t) = x_0 + x_1 t + ... + x_K t^K is a
 * vector of K+1 normalized coefficients (x_k = x^(k)(0) / k!).  Every
 * function of dual_rules.def maps such a vector to the coefficients of
 * f(x(t)), exact to rounding up to degree K.  Depends on dual.h (the value
 * and first partial of each rule come from there, so Taylor mode agrees with
 * the Dual at order 0 and 1) and <math.h> only.
 *
 * Layout of this file:
 *   1. conventions, helpers and the primitive recurrences (Griewank &
 *      Walther, "Evaluating Derivatives", ch. 13): products, quotients,
 *      exp/log, powers, sin/cos, sinh/cosh, and the "integration" step
 *      y' = g(x) x'  ->  y_k = (1/k) sum_{j=1..k} j x_j g_{k-j};
 *   2. one function per row of the rule table, taylor_<name>; rules without
 *      a recurrence of their own compute g = f'(x(t)) in Taylor arithmetic
 *      (atanh' = 1/(1 - x^2)) and integrate it;
 *   3. the rule tables (X-macros over dual_rules.def: a row without a
 *      taylor_<name> does not compile) and the strided loops over n points
 *      that the Python scalar type (n = 1) and the array type both call.
 *
 * Conventions (docs/guide/conventions.md, "Taylor mode at edge points"):
 *   * a constant input (x_1 = ... = x_K = 0) gives f(x_0) and zeros: the
 *     zero-tangent convention of dual.h;
 *   * the first coefficient is the Dual's (dual_<f>_ts: the same partial,
 *     tangent column and zero-tangent rule), bit for bit; where it is nan,
 *     so is every higher coefficient;
 *   * a zero coefficient contributes nothing to a product term (0 * inf =
 *     0), the same convention inside the recurrences;
 *   * a domain error (nan value from a non-nan input) gives nan everywhere;
 *   * kinks and steps (abs, relu, maximum ties, floor, ...) are locally
 *     linear or constant on the side the value selects, with the Dual's
 *     slope at the kink (ties: 0.5 a + 0.5 b in every coefficient);
 *   * x**p, sqrt at x_0 = 0 (p not a non-negative integer): the one-sided
 *     coefficients on the side where x >= 0, 0, +-inf, or nan where they
 *     need input coefficients beyond degree K; cbrt the two-sided limit
 *     (nan where the sides disagree); at x_0 = +-inf and at a pole the
 *     limits of the derivatives term by term;
 *   * a coefficient whose recurrence meets infinities the exact value
 *     cancels is nan, never a wrong number.
 *
 * The degree is at most TAYLOR_MAX_DEGREE (temporaries live on the stack);
 * callers check it.  Compile without fast-math options.
 */
#ifndef DUALML_TAYLOR_H
#define DUALML_TAYLOR_H

#include <math.h>
#include <stddef.h>
#include "dual.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TAYLOR_MAX_DEGREE 128
#define TAYLOR_N (TAYLOR_MAX_DEGREE + 1)

typedef void (*taylor_unary_fn)(int K, const double *x, double p, double *y);
typedef void (*taylor_binary_fn)(int K, const double *a, const double *b, double *y);

/* ===================================================================== *
 * 1. Helpers and primitive recurrences.  Arrays hold K+1 coefficients;  *
 *    outputs never alias inputs unless a comment says so.               *
 * ===================================================================== */

/* a * b where a zero factor wins (0 * inf = 0): the zero-tangent rule. */
static inline double taylor_zmul(double a, double b)
{
    return (a == 0.0 || b == 0.0) ? 0.0 : a * b;
}

static inline void taylor_const(int K, double c, double *y)
{
    int k;
    y[0] = c;
    for (k = 1; k <= K; k++)
        y[k] = 0.0;
}

static inline void taylor_fill(int K, double c, double *y)
{
    int k;
    for (k = 0; k <= K; k++)
        y[k] = c;
}

/* 1 if x_1..x_K are all 0 (a nan coefficient is not 0). */
static inline int taylor_is_const(int K, const double *x)
{
    int k;
    for (k = 1; k <= K; k++)
        if (x[k] != 0.0)
            return 0;
    return 1;
}

static inline void taylor_copy(int K, const double *x, double *y)
{
    int k;
    for (k = 0; k <= K; k++)
        y[k] = x[k];
}

/* y_k = s x_k (y may alias x) */
static inline void taylor_scale(int K, const double *x, double s, double *y)
{
    int k;
    for (k = 0; k <= K; k++)
        y[k] = s * x[k];
}

/* coefficient k of a * b */
static inline double taylor_mul_k(int k, const double *a, const double *b)
{
    double s = 0.0;
    int j;
    for (j = 0; j <= k; j++)
        s += taylor_zmul(a[j], b[k - j]);
    return s;
}

static inline void taylor_mul(int K, const double *a, const double *b, double *y)
{
    int k;
    for (k = 0; k <= K; k++)
        y[k] = taylor_mul_k(k, a, b);
}

/* y = a / b, given y_0 (the caller's correctly rounded a_0 / b_0) */
static inline void taylor_div_y0(int K, const double *a, const double *b, double y0, double *y)
{
    int k, j;
    y[0] = y0;
    for (k = 1; k <= K; k++) {
        double s = a[k];
        for (j = 0; j < k; j++)
            s -= taylor_zmul(y[j], b[k - j]);
        y[k] = s / b[0];
    }
}

/* (1/k) sum_{j=1..k} j x_j g_{k-j}, the step of the integration and exp
   recurrences.  Where the sum overflows but 1/k of it may not (exp(x_0 +
   x_1 t) with x_1^3 beyond the doubles and x_1^3 / 6 not), the terms are
   taken times j/k instead; the first sum is kept wherever it is finite, so
   the bits are unchanged there. */
static inline double taylor_integrate_k(int k, const double *x, const double *g)
{
    double s = 0.0;
    int j;
    for (j = 1; j <= k; j++)
        s += taylor_zmul(j * x[j], g[k - j]);
    if (isinf(s)) {
        double t = 0.0;
        for (j = 1; j <= k; j++)
            t += taylor_zmul(x[j] * ((double)j / k), g[k - j]);
        if (isfinite(t))
            return t;
    }
    return s / k;
}

/* y' = g x': y_k = (1/k) sum_{j=1..k} j x_j g_{k-j} for k >= 1, y_0 given.
   g needs degree K-1.  y may not alias x or g. */
static inline void taylor_integrate(int K, const double *x, const double *g, double y0, double *y)
{
    int k;
    y[0] = y0;
    for (k = 1; k <= K; k++)
        y[k] = taylor_integrate_k(k, x, g);
}

/* y = exp(s x) given y_0 (s x_0 is not formed: exp2 and expm1 pass their
   own y_0): y_k = (1/k) sum j (s x_j) y_{k-j} */
static inline void taylor_exp_core(int K, const double *x, double s, double y0, double *y)
{
    int k, j;
    y[0] = y0;
    for (k = 1; k <= K; k++) {
        double acc = 0.0;
        for (j = 1; j <= k; j++)
            acc += taylor_zmul(j * x[j], y[k - j]);
        /* an overflowing sum: the j/k form of taylor_integrate_k */
        y[k] = isinf(acc) ? s * taylor_integrate_k(k, x, y) : s * acc / k;
    }
}

/* log(u) at u_0 = 0 (u not constant): u = t^m w(t), w_0 = u_m, so
   log u = m log t + log w on t > 0, whose k-th coefficient is the one-sided
   limit (-1)^(k-1) inf.  Where u < 0 for t > 0 but u > 0 for t < 0 (u_m < 0,
   m odd), the limits from that side: log(-t)'s, -inf for every k (the
   Dual's slope there is -inf too); nan where u < 0 on both sides.  y_0 set
   by the caller. */
static inline void taylor_log_zero(int K, const double *u, double *y)
{
    int m = 1, k;
    while (m <= K && u[m] == 0.0)
        m++;
    for (k = 1; k <= K; k++) {
        if (m <= K && u[m] > 0.0)
            y[k] = k % 2 ? HUGE_VAL : -HUGE_VAL;
        else if (m <= K && u[m] < 0.0 && (m & 1))
            y[k] = -HUGE_VAL;
        else
            y[k] = DUAL_NAN;
    }
}

/* L = log(u) where u = x except u_0 = u0 (log1p passes 1 + x_0):
   L_k = (x_k - (1/k) sum_{j=1..k-1} j L_j x_{k-j}) / u0 */
static inline void taylor_log_core(int K, const double *x, double u0, double *y)
{
    int k, j;
    if (u0 == 0.0) {
        taylor_log_zero(K, x, y);
        return;
    }
    for (k = 1; k <= K; k++) {
        double acc = 0.0;
        for (j = 1; j < k; j++)
            acc += taylor_zmul(j * y[j], x[k - j]);
        y[k] = (x[k] - acc / k) / u0;
    }
}

/* y = x^p given y_0, for x_0 != 0:
   y_k = (1/(k x_0)) sum_{j=0..k-1} (p (k - j) - j) x_{k-j} y_j */
static inline void taylor_pow_rec(int K, const double *x, double p, double y0, double *y)
{
    int k, j;
    y[0] = y0;
    for (k = 1; k <= K; k++) {
        double acc = 0.0;
        for (j = 0; j < k; j++)
            acc += taylor_zmul((p * (k - j) - j) * x[k - j], y[j]);
        y[k] = acc / (k * x[0]);
        if (!isfinite(acc) || !(fabs(acc) >= 2.2250738585072014e-308)) {
            /* x_(k-j) y_j overflowed where y_k need not (x_0 = 7.7e300,
               y_0 = 9.4e296: terms of 1e597, c_2 = 1e301), or underflowed
               (sqrt along 1e-300 + 1e-301 t: terms of 5e-453, c_2 =
               -1.25e-153): x_(k-j) / x_0 first, kept where that is finite;
               the bits are unchanged wherever the sum is a normal number */
            double t = 0.0;
            for (j = 0; j < k; j++)
                t += taylor_zmul((p * (k - j) - j) * (x[k - j] / x[0]), y[j]);
            if (isfinite(t))
                y[k] = t / k;
        }
    }
}

/* x^n for an integer n >= 1 by repeated squaring (exact structure at
   x_0 = 0, where the recurrence divides by x_0). */
static inline void taylor_pow_int(int K, const double *x, long n, double *y)
{
    double base[TAYLOR_N], t[TAYLOR_N];
    int first = 1;
    taylor_copy(K, x, base);
    while (n > 0) {
        if (n & 1) {
            if (first) {
                taylor_copy(K, base, y);
                first = 0;
            }
            else {
                taylor_mul(K, y, base, t);
                taylor_copy(K, t, y);
            }
        }
        n >>= 1;
        if (n > 0) {
            taylor_mul(K, base, base, t);
            taylor_copy(K, t, base);
        }
    }
}

/* x^p (or cbrt when cube is set) at x_0 = 0 with x not constant and p not
   a non-negative integer: x = t^m u(t), u_0 = x_m != 0, so
   x^p = t^(m p) u^p on the side of t = 0 where x >= 0 (t > 0 if x_m > 0,
   t < 0 if x_m < 0 and m is odd: the series is mirrored, t -> -t; no side
   for x_m < 0, m even: nan).  With q = m p an integer the coefficients are
   those of u^p shifted by q; the last ones need x beyond degree K (nan).
   Otherwise the k-th coefficient is 0 for k < q and the one-sided limit,
   an infinity with the sign of u_0^p q (q-1) ... (q-k+1), for k > q.
   cbrt is real on both sides: its coefficient is the two-sided limit,
   which exists only where both sides give the same infinity (m + k even:
   cbrt''(0) is -inf from the right, +inf from the left, so nan).
   y_0 is set by the caller. */
static inline void taylor_pow_zero(int K, const double *x, double p, int cube, double *y)
{
    double u[TAYLOR_N], v[TAYLOR_N], c, q;
    int m = 1, k, i;
    while (m <= K && x[m] == 0.0)
        m++;
    if (m > K || x[m] != x[m] || p <= 0.0) {
        /* constant (handled by the caller), nan, or a pole: no series */
        for (k = 1; k <= K; k++)
            y[k] = DUAL_NAN;
        return;
    }
    if (!cube && x[m] < 0.0 && (m & 1)) {
        /* x >= 0 for t < 0: the coefficients of x(-t)^p, mirrored back */
        double r[TAYLOR_N];
        for (k = 0; k <= K; k++)
            r[k] = (k & 1) ? -x[k] : x[k];
        taylor_pow_zero(K, r, p, 0, y);
        for (k = 1; k <= K; k += 2)
            y[k] = y[k] == 0.0 ? 0.0 : -y[k];
        return;
    }
    c = cube ? cbrt(x[m]) : pow(x[m], p);
    q = m * p;
    if (q == floor(q) && q <= K) {
        int iq = (int)q, n = K - m;               /* u is known to degree K - m */
        for (k = 0; k <= n; k++)
            u[k] = x[k + m];
        if (c != c) {
            for (k = 1; k <= K; k++)
                y[k] = DUAL_NAN;
            return;
        }
        taylor_pow_rec(n, u, p, c, v);
        for (k = 1; k <= K; k++)
            y[k] = k < iq ? 0.0 : (k - iq <= n ? v[k - iq] : DUAL_NAN);
        return;
    }
    for (k = 1; k <= K; k++) {
        if (k < q) {
            y[k] = 0.0;
            continue;
        }
        if (c != c) {
            y[k] = DUAL_NAN;
            continue;
        }
        {
            double s = c;
            for (i = 0; i < k; i++)
                s *= (q - i) < 0.0 ? -1.0 : 1.0;
            y[k] = cube && ((m + k) & 1) ? DUAL_NAN : copysign(HUGE_VAL, s);
        }
    }
}

/* s = sin x, c = cos x given s_0, c_0 */
static inline void taylor_sincos(int K, const double *x, double s0, double c0, double *s, double *c)
{
    int k, j;
    s[0] = s0;
    c[0] = c0;
    for (k = 1; k <= K; k++) {
        double as = 0.0, ac = 0.0;
        for (j = 1; j <= k; j++) {
            as += taylor_zmul(j * x[j], c[k - j]);
            ac += taylor_zmul(j * x[j], s[k - j]);
        }
        /* an overflowing sum: the j/k form of taylor_integrate_k */
        s[k] = isinf(as) ? taylor_integrate_k(k, x, c) : as / k;
        c[k] = isinf(ac) ? -taylor_integrate_k(k, x, s) : -ac / k;
    }
}

/* s = sinh x, c = cosh x given s_0, c_0 */
static inline void taylor_sinhcosh(int K, const double *x, double s0, double c0, double *s, double *c)
{
    int k, j;
    s[0] = s0;
    c[0] = c0;
    for (k = 1; k <= K; k++) {
        double as = 0.0, ac = 0.0;
        for (j = 1; j <= k; j++) {
            as += taylor_zmul(j * x[j], c[k - j]);
            ac += taylor_zmul(j * x[j], s[k - j]);
        }
        s[k] = isinf(as) ? taylor_integrate_k(k, x, c) : as / k;
        c[k] = isinf(ac) ? taylor_integrate_k(k, x, s) : ac / k;
    }
}

/* y' = u x' with u = a + b y^2 + c y (tan: 1 + y^2; tanh: 1 - y^2;
   sigmoid: y - y^2), u_0 given (the rule's accurate slope).  For k >= 1,
   u_k = e y_k + b sum_{0<j<k} y_j y_{k-j} with e = 2 b y_0 + c passed in
   accurately: sigmoid's 1 - 2 y_0 cancels near x = 0 (it is -tanh(x/2),
   1e-30 at x = 2e-30, where 1 - 2 y_0 is 0 and sigmoid'' came out 0). */
static inline void taylor_riccati(int K, const double *x, double y0, double u0,
                           double b, double e, double *y)
{
    double u[TAYLOR_N];
    int k, j;
    y[0] = y0;
    u[0] = u0;
    for (k = 1; k <= K; k++) {
        double acc = 0.0;
        for (j = 1; j <= k; j++)
            acc += taylor_zmul(j * x[j], u[k - j]);
        y[k] = acc / k;
        if (k < K) {
            double q = 0.0;
            for (j = 1; j < k; j++)
                q += taylor_zmul(y[j], y[k - j]);
            u[k] = taylor_zmul(e, y[k]) + b * q;
        }
    }
}

static inline void taylor_sigmoid_series(int K, const double *x, double *y)
{
    double d, y0 = dual_sigmoid_rule(x[0], &d);
    taylor_riccati(K, x, y0, d, -1.0, -tanh(0.5 * x[0]), y);
}

/* x^2 (shared by the g series of arcsin, arctan, erf, ...) */
static inline void taylor_sqr(int K, const double *x, double *y)
{
    taylor_mul(K, x, x, y);
}

/* y_k = p x_k for k >= 1, y_0 given: the locally linear rules (kinks,
   steps, +, -); a zero coefficient stays 0 whatever the slope. */
static inline void taylor_linear1(int K, const double *x, double y0, double p, double *y)
{
    int k;
    y[0] = y0;
    for (k = 1; k <= K; k++)
        y[k] = x[k] == 0.0 ? 0.0 : p * x[k];
}

static inline void taylor_linear2(int K, const double *a, const double *b, double y0,
                           double pa, double pb, double *y)
{
    int k;
    y[0] = y0;
    for (k = 1; k <= K; k++)
        y[k] = (a[k] == 0.0 ? 0.0 : pa * a[k]) + (b[k] == 0.0 ? 0.0 : pb * b[k]);
}

/* The prelude of every unary rule: the value and slope from dual.h, the
   constant-input and domain-error conventions.  Returns 1 when y is done. */
static inline int taylor_prelude1(int K, const double *x, double y0, double *y)
{
    if (taylor_is_const(K, x)) {
        taylor_const(K, y0, y);
        return 1;
    }
    if (y0 != y0 && x[0] == x[0]) {
        /* the value's own nan in every coefficient: the bits (sign) of the
           float path's result and of the Dual's slope (dual_nanprop) */
        taylor_fill(K, y0, y);
        return 1;
    }
    return 0;
}

static inline int taylor_prelude2(int K, const double *a, const double *b, double y0, double *y)
{
    if (taylor_is_const(K, a) && taylor_is_const(K, b)) {
        taylor_const(K, y0, y);
        return 1;
    }
    if (y0 != y0 && a[0] == a[0] && b[0] == b[0]) {
        taylor_fill(K, y0, y);
        return 1;
    }
    return 0;
}

/* g = 1 - x^2 with g_0 as the table writes it (no cancellation near 0 or
   near |x| = 1), then the degree K-1 series is enough for integrate. */
static inline void taylor_one_minus_sqr(int K, const double *x, double *g)
{
    int k;
    double x0 = x[0];
    taylor_sqr(K, x, g);
    for (k = 1; k <= K; k++)
        g[k] = -g[k];
    g[0] = fabs(x0) < 0.5 ? 1.0 - x0 * x0 : (1.0 - x0) * (1.0 + x0);
}

/* ===================================================================== *
 * 2. The rules, in table order.                                          *
 * ===================================================================== */

/* Each rule is a wrapper and a body.  The wrapper evaluates the dual.h
   rule once (value y0, slope d), applies the conventions of the prelude,
   runs the body (the recurrence for the coefficients) and then takes the
   first coefficient from the Dual: dual_<f>_ts, the partial times x_1 with
   the table's tangent column and zero-tangent rule, so that order 1 is the
   Dual's bit for bit at every point (kinks, ties, overflow, infinities).
   Where the Dual's slope is nan (undefined) and the body's is not, every
   higher coefficient is nan too: no finite curvature of an undefined slope. */
static inline void taylor_first(int K, double c1, double *y)
{
    int k;
    if (c1 != c1 && y[1] == y[1])
        for (k = 2; k <= K; k++)
            y[k] = DUAL_NAN;
    y[1] = c1;
}

/* the head of a rule's Taylor function: value and slope from the Dual's
   rule (RULE: its call, with or without the parameter p), the prelude,
   the rule's body, then order 1 from the Dual's tangent column */
#define TAYLOR_HEAD_(name, RULE)                                              \
    static inline void taylor_##name##_body(int K, const double *x, double p,  \
                                            double y0, double d, double *y);   \
    static inline void taylor_##name(int K, const double *x, double p, double *y) \
    {                                                                         \
        double d, y0 = RULE;                                                  \
        if (taylor_prelude1(K, x, y0, y))                                     \
            return;                                                           \
        taylor_##name##_body(K, x, p, y0, d, y);                              \
        taylor_first(K, dual_##name##_ts(x[0], p, y0, d, x[1]), y);           \
    }                                                                         \
    static inline void taylor_##name##_body(int K, const double *x, double p,  \
                                            double y0, double d, double *y)

#define TAYLOR_UNARY_HEAD(name) TAYLOR_HEAD_(name, dual_##name##_rule(x[0], &d))
/* the parametrized rules (leaky_relu, elu): the slope depends on p */
#define TAYLOR_UNARY_P_HEAD(name) TAYLOR_HEAD_(name, dual_##name##_rule(x[0], p, &d))

/* first statement of a body: not every body needs every argument */
#define TAYLOR_PRELUDE(name)                                                  \
    (void)p;                                                                  \
    (void)y0;                                                                 \
    (void)d

/* ---- exponentials and logarithms ---------------------------------------- */
/* exp(s x) where the value overflows (|s x_0| beyond 709.78) but the
   coefficients y_0 s^k / k! may not: the ratios r = y / y_0 (the
   recurrence is linear in y) times h = exp(s x_0 / 2) twice, h being in
   range.  sign scales the result (sinh, cosh at large |x|: +-exp(|x|) / 2).
   y_0 is set by the caller. */
static inline void taylor_exp_big(int K, const double *x, double s, double h, double sign, double *y)
{
    int k;
    taylor_exp_core(K, x, s, 1.0, y);
    for (k = 1; k <= K; k++)
        y[k] = ((sign * h) * y[k]) * h;         /* sign: +-1 or +-0.5, exact */
}
#define TAYLOR_EXP_OVERFLOWS(y0, x0) (isinf(y0) && isfinite(x0))

TAYLOR_UNARY_HEAD(exp)
{
    TAYLOR_PRELUDE(exp);
    if (TAYLOR_EXP_OVERFLOWS(y0, x[0])) {
        taylor_exp_big(K, x, 1.0, exp(0.5 * x[0]), 1.0, y);
        y[0] = y0;
        return;
    }
    taylor_exp_core(K, x, 1.0, y0, y);
}
TAYLOR_UNARY_HEAD(exp2)
{
    TAYLOR_PRELUDE(exp2);
    if (TAYLOR_EXP_OVERFLOWS(y0, x[0])) {
        taylor_exp_big(K, x, DUAL_LN2, exp2(0.5 * x[0]), 1.0, y);
        y[0] = y0;
        return;
    }
    taylor_exp_core(K, x, DUAL_LN2, y0, y);
}
TAYLOR_UNARY_HEAD(expm1)
{
    TAYLOR_PRELUDE(expm1);
    if (TAYLOR_EXP_OVERFLOWS(d, x[0]))
        taylor_exp_big(K, x, 1.0, exp(0.5 * x[0]), 1.0, y);
    else
        taylor_exp_core(K, x, 1.0, d, y);      /* d = exp(x_0) */
    y[0] = y0;
}
TAYLOR_UNARY_HEAD(log) { TAYLOR_PRELUDE(log); y[0] = y0; taylor_log_core(K, x, x[0], y); }
TAYLOR_UNARY_HEAD(log2)
{
    TAYLOR_PRELUDE(log2);
    taylor_log_core(K, x, x[0], y);
    taylor_scale(K, y, DUAL_LOG2E, y);
    y[0] = y0;
}
TAYLOR_UNARY_HEAD(log10)
{
    TAYLOR_PRELUDE(log10);
    taylor_log_core(K, x, x[0], y);
    taylor_scale(K, y, DUAL_LOG10E, y);
    y[0] = y0;
}
TAYLOR_UNARY_HEAD(log1p) { TAYLOR_PRELUDE(log1p); y[0] = y0; taylor_log_core(K, x, 1.0 + x[0], y); }

/* ---- powers and roots ---------------------------------------------------- */
/* x^p term by term, binom(p, j) x_0^(p - j) (x - x_0)^j, where the
   recurrence cannot run; y_0 is set by the caller.
   split = 0: at x_0 = +-inf (the recurrence divides inf by inf), and at
   the pole x_0 = +-0 for p < 0: the limits of the derivatives (IEEE pow:
   0 or an infinity), with the zero-coefficient rule for 0 * inf: what the
   Dual and the nested Dual give term by term (sqrt''(inf) = 0; (1/x)'' at
   0 is +inf, as reciprocal's).
   split = 1: x_0 > 0, finite p, where x_0^p itself leaves the range:
   x_0^(p - j) = r r, r = x_0^((p - j) / 2), multiplied in last, so a
   coefficient is in range wherever that factor is within 1e+-616 of it. */
static inline void taylor_pow_terms(int K, const double *x, double p, int split, double *y)
{
    double h[TAYLOR_N], P[TAYLOR_N], t[TAYLOR_N], bin = 1.0;
    int j, k;
    h[0] = 0.0;
    for (k = 1; k <= K; k++) {
        h[k] = x[k];
        y[k] = 0.0;
    }
    taylor_copy(K, h, P);                      /* (x - x_0)^j */
    for (j = 1; j <= K; j++) {
        bin *= (p - (j - 1)) / j;
        if (split) {
            double r = pow(x[0], 0.5 * (p - j));
            for (k = j; k <= K; k++)
                if (bin != 0.0 && P[k] != 0.0)
                    y[k] += ((bin * P[k]) * r) * r;
        } else {
            double f = bin == 0.0 ? 0.0 : bin * pow(x[0], p - j);
            for (k = j; k <= K; k++)
                y[k] += taylor_zmul(f, P[k]);
        }
        if (j < K) {
            taylor_mul(K, P, h, t);
            taylor_copy(K, t, P);
        }
    }
}

static inline void taylor_pow_const(int K, const double *x, double p, double y0, int cube, double *y)
{
    if (p == 0.0) {
        taylor_const(K, y0, y);
        return;
    }
    if (isinf(x[0])) {
        taylor_pow_terms(K, x, p, 0, y);
        y[0] = y0;
        return;
    }
    /* small integer powers: repeated products at every x_0 (the recurrence
       divides by x_0 and carries y_0, which under- or overflows where the
       coefficients do not: (1e-300 + t)^2 had a second coefficient 0, not 1);
       larger ones at x_0 = 0, where the recurrence cannot run */
    if (p > 0.0 && p == floor(p) && (p <= 64.0 || (p <= 1024.0 && x[0] == 0.0))) {
        taylor_pow_int(K, x, (long)p, y);
        y[0] = y0;
        return;
    }
    if (x[0] == 0.0 && p < 0.0) {
        taylor_pow_terms(K, x, p, 0, y);            /* the pole: limits from x_0 = +-0 */
        y[0] = y0;
        return;
    }
    if (x[0] == 0.0) {
        taylor_pow_zero(K, x, p, cube, y);
        y[0] = y0;
        return;
    }
    if ((!(fabs(y0) >= 2.2250738585072014e-308) || isinf(y0)) && x[0] > 0.0
        && isfinite(p)) {
        /* x_0^p under- or overflows (or is subnormal) where the coefficients
           need not: the recurrence is linear in y_0 and carried 0 for
           (1.5e-229 + 0.15 t)^1.557, whose c_2 is 1.9e99 (DBL_MIN: only
           <math.h> here).  Term by term instead */
        taylor_pow_terms(K, x, p, 1, y);
        y[0] = y0;
        return;
    }
    taylor_pow_rec(K, x, p, y0, y);
}
TAYLOR_UNARY_HEAD(sqrt) { TAYLOR_PRELUDE(sqrt); taylor_pow_const(K, x, 0.5, y0, 0, y); }
TAYLOR_UNARY_HEAD(cbrt) { TAYLOR_PRELUDE(cbrt); taylor_pow_const(K, x, 1.0 / 3.0, y0, 1, y); }
TAYLOR_UNARY_HEAD(square) { TAYLOR_PRELUDE(square); taylor_sqr(K, x, y); y[0] = y0; }
TAYLOR_UNARY_HEAD(reciprocal)
{
    double one[TAYLOR_N];
    TAYLOR_PRELUDE(reciprocal);
    taylor_const(K, 1.0, one);
    taylor_div_y0(K, one, x, y0, y);
}

/* ---- trigonometric ------------------------------------------------------- */
TAYLOR_UNARY_HEAD(sin)
{
    double c[TAYLOR_N];
    TAYLOR_PRELUDE(sin);
    taylor_sincos(K, x, y0, d, y, c);
}
TAYLOR_UNARY_HEAD(cos)
{
    double s[TAYLOR_N];
    TAYLOR_PRELUDE(cos);
    taylor_sincos(K, x, -d, y0, s, y);
}
TAYLOR_UNARY_HEAD(tan) { TAYLOR_PRELUDE(tan); taylor_riccati(K, x, y0, d, 1.0, 2.0 * y0, y); }

/* arcsin' = (1 - x^2)^(-1/2), from g_0 = d */
static inline void taylor_arcsin_g(int K, const double *x, double d, double *g)
{
    double s[TAYLOR_N];
    taylor_one_minus_sqr(K - 1, x, s);
    taylor_pow_rec(K - 1, s, -0.5, d, g);
}
TAYLOR_UNARY_HEAD(arcsin)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(arcsin);
    taylor_arcsin_g(K, x, d, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(arccos)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(arccos);
    taylor_arcsin_g(K, x, -d, g);          /* -(1 - x^2)^(-1/2): g_0 = d < 0 */
    taylor_scale(K - 1, g, -1.0, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(arctan)
{
    double s[TAYLOR_N], g[TAYLOR_N], one[TAYLOR_N];
    TAYLOR_PRELUDE(arctan);
    s[0] = 0.0;         /* (taylor_sqr writes it: K >= 1; for GCC's flow analysis) */
    taylor_sqr(K - 1, x, s);
    s[0] += 1.0;
    taylor_const(K - 1, 1.0, one);
    taylor_div_y0(K - 1, one, s, d, g);
    taylor_integrate(K, x, g, y0, y);
}

/* ---- hyperbolic ---------------------------------------------------------- */
/* beyond |x| = 710 sinh and cosh are +-exp(|x|)/2 to the last bit
   (exp(-2|x|) < 1e-616): the overflowing value's finite coefficients as
   for exp, over -x where x_0 < 0 */
static inline void taylor_sinhcosh_big(int K, const double *x, int odd, double *y)
{
    /* zeroed: GCC cannot see that taylor_scale fills what the overflow
       fallback of taylor_integrate_k reads (-Wmaybe-uninitialized); this
       path is taken only where sinh/cosh overflow */
    double m[TAYLOR_N] = {0.0};
    double neg = x[0] < 0.0 ? -1.0 : 1.0;
    taylor_scale(K, x, neg, m);
    taylor_exp_big(K, m, 1.0, exp(0.5 * m[0]), (odd && neg < 0.0) ? -0.5 : 0.5, y);
}
TAYLOR_UNARY_HEAD(sinh)
{
    double c[TAYLOR_N];
    TAYLOR_PRELUDE(sinh);
    if (TAYLOR_EXP_OVERFLOWS(y0, x[0])) {
        taylor_sinhcosh_big(K, x, 1, y);
        y[0] = y0;
        return;
    }
    taylor_sinhcosh(K, x, y0, d, y, c);
}
TAYLOR_UNARY_HEAD(cosh)
{
    double s[TAYLOR_N];
    TAYLOR_PRELUDE(cosh);
    if (TAYLOR_EXP_OVERFLOWS(y0, x[0])) {
        taylor_sinhcosh_big(K, x, 0, y);
        y[0] = y0;
        return;
    }
    taylor_sinhcosh(K, x, d, y0, s, y);
}
TAYLOR_UNARY_HEAD(tanh) { TAYLOR_PRELUDE(tanh); taylor_riccati(K, x, y0, d, -1.0, -2.0 * y0, y); }
/* (1 + x^2)^(-1/2), (x^2 - 1)^(-1/2) from g_0 = d.  The power recurrence
   is homogeneous in its base (scaling s scales nothing else once g_0 is
   given), so beyond |x_0| = 1e150, where x^2 overflows, the base is
   (x / x_0)^2 +- x_0^(-2). */
static inline void taylor_inv_hypot_g(int K, const double *x, double d, double one, double *g)
{
    double s[TAYLOR_N], u[TAYLOR_N];
    s[0] = 0.0;         /* (taylor_sqr writes it; for GCC's flow analysis) */
    if (fabs(x[0]) > 1e150) {
        double r = 1.0 / x[0];
        taylor_scale(K, x, r, u);
        u[0] = 1.0;
        taylor_sqr(K, u, s);
        s[0] += one * (r * r);
    }
    else {
        taylor_sqr(K, x, s);
        s[0] = one > 0.0 ? s[0] + 1.0 : (x[0] - 1.0) * (x[0] + 1.0);
    }
    taylor_pow_rec(K, s, -0.5, d, g);
}
TAYLOR_UNARY_HEAD(arcsinh)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(arcsinh);
    taylor_inv_hypot_g(K - 1, x, d, 1.0, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(arccosh)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(arccosh);
    taylor_inv_hypot_g(K - 1, x, d, -1.0, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(arctanh)
{
    double s[TAYLOR_N], g[TAYLOR_N], one[TAYLOR_N];
    TAYLOR_PRELUDE(arctanh);
    taylor_one_minus_sqr(K - 1, x, s);
    taylor_const(K - 1, 1.0, one);
    taylor_div_y0(K - 1, one, s, d, g);
    taylor_integrate(K, x, g, y0, y);
}

/* ---- special functions --------------------------------------------------- */
/* erf' = (2/sqrt(pi)) exp(-x^2), g_0 = d */
static inline void taylor_gauss_g(int K, const double *x, double d, double c, double *g)
{
    double s[TAYLOR_N];
    taylor_sqr(K, x, s);
    taylor_exp_core(K, s, -c, d, g);
}
TAYLOR_UNARY_HEAD(erf)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(erf);
    taylor_gauss_g(K - 1, x, d, 1.0, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(erfc)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(erfc);
    taylor_gauss_g(K - 1, x, d, 1.0, g);   /* -(2/sqrt(pi)) exp(-x^2) */
    taylor_integrate(K, x, g, y0, y);
}

/* ---- sign, kinks and steps: locally linear or constant ------------------- */
#define TAYLOR_LINEAR_UNARY(name)                                             \
    TAYLOR_UNARY_HEAD(name) { TAYLOR_PRELUDE(name); taylor_linear1(K, x, y0, d, y); }
TAYLOR_LINEAR_UNARY(negative)
TAYLOR_LINEAR_UNARY(positive)
TAYLOR_LINEAR_UNARY(absolute)
TAYLOR_LINEAR_UNARY(sign)
TAYLOR_LINEAR_UNARY(floor)
TAYLOR_LINEAR_UNARY(ceil)
TAYLOR_LINEAR_UNARY(trunc)
TAYLOR_LINEAR_UNARY(rint)
TAYLOR_LINEAR_UNARY(relu)

/* ---- activations --------------------------------------------------------- */
TAYLOR_UNARY_HEAD(sigmoid)
{
    TAYLOR_PRELUDE(sigmoid);
    taylor_riccati(K, x, y0, d, -1.0, -tanh(0.5 * x[0]), y);
}
TAYLOR_UNARY_HEAD(softplus)
{
    double g[TAYLOR_N];
    TAYLOR_PRELUDE(softplus);
    taylor_sigmoid_series(K - 1, x, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(log_sigmoid)
{
    double m[TAYLOR_N], g[TAYLOR_N];
    TAYLOR_PRELUDE(log_sigmoid);
    taylor_scale(K - 1, x, -1.0, m);
    taylor_sigmoid_series(K - 1, m, g);
    taylor_integrate(K, x, g, y0, y);
}
TAYLOR_UNARY_HEAD(silu)
{
    double s[TAYLOR_N];
    TAYLOR_PRELUDE(silu);
    taylor_sigmoid_series(K, x, s);
    taylor_mul(K, x, s, y);
    y[0] = y0;
}
TAYLOR_UNARY_HEAD(gelu)
{
    double g[TAYLOR_N], phi[TAYLOR_N];
    TAYLOR_PRELUDE(gelu);
    /* Phi' = exp(-x^2/2) / sqrt(2 pi); gelu = x Phi */
    taylor_gauss_g(K - 1, x, exp(-0.5 * x[0] * x[0]) * DUAL_1_SQRT2PI, 0.5, g);
    taylor_integrate(K, x, g, 0.5 * erfc(-x[0] * DUAL_SQRT1_2), phi);
    taylor_mul(K, x, phi, y);
    y[0] = y0;
}

/* ---- parametrized -------------------------------------------------------- */
TAYLOR_UNARY_P_HEAD(leaky_relu)
{
    TAYLOR_PRELUDE(leaky_relu);
    taylor_linear1(K, x, y0, d, y);
}

TAYLOR_UNARY_P_HEAD(elu)
{
    TAYLOR_PRELUDE(elu);
    if (x[0] > 0.0) {
        taylor_linear1(K, x, y0, d, y);
        return;
    }
    /* p expm1(x) on the left side, also at the kink (slope p); at a nan
       input nan everywhere, as the nested Dual's p exp(x) */
    taylor_exp_core(K, x, 1.0, exp(x[0]), y);
    taylor_scale(K, y, p, y);
    y[0] = y0;
}

/* ---- binary --------------------------------------------------------------- */
/* the first coefficient of a binary rule: the Dual's, with the one-operand
   bodies (_dc, _cd) where the other operand is constant */
#define TAYLOR_BINARY_HEAD(name)                                              \
    static inline void taylor_##name##_body(int K, const double *a, const double *b, \
                                            double y0, double fa, double fb,   \
                                            double *y);                        \
    static inline void taylor_##name(int K, const double *a, const double *b, double *y) \
    {                                                                         \
        double fa, fb, c1, y0 = dual_##name##_rule(a[0], b[0], &fa, &fb);     \
        if (taylor_prelude2(K, a, b, y0, y))                                  \
            return;                                                           \
        taylor_##name##_body(K, a, b, y0, fa, fb, y);                         \
        if (taylor_is_const(K, a))                                            \
            c1 = dual_##name##_tsb(a[0], b[0], y0, fb, b[1]);                 \
        else if (taylor_is_const(K, b))                                       \
            c1 = dual_##name##_tsa(a[0], b[0], y0, fa, a[1]);                 \
        else                                                                  \
            c1 = dual_##name##_tsa(a[0], b[0], y0, fa, a[1])                  \
                 + dual_##name##_tsb(a[0], b[0], y0, fb, b[1]);               \
        taylor_first(K, c1, y);                                               \
    }                                                                         \
    static inline void taylor_##name##_body(int K, const double *a, const double *b, \
                                            double y0, double fa, double fb,   \
                                            double *y)

#define TAYLOR_PRELUDE2(name)                                                 \
    (void)y0;                                                                 \
    (void)fa;                                                                 \
    (void)fb

#define TAYLOR_LINEAR_BINARY(name)                                            \
    TAYLOR_BINARY_HEAD(name) { TAYLOR_PRELUDE2(name); taylor_linear2(K, a, b, y0, fa, fb, y); }

TAYLOR_LINEAR_BINARY(add)
TAYLOR_LINEAR_BINARY(subtract)
TAYLOR_BINARY_HEAD(multiply) { TAYLOR_PRELUDE2(multiply); taylor_mul(K, a, b, y); y[0] = y0; }
/* a constant divisor: y_k = a_k / b_0, a zero a_k giving 0 also where
   b_0 = 0 (the nested Dual's d/da (1/b) is constant in a) */
TAYLOR_BINARY_HEAD(divide)
{
    int k;
    TAYLOR_PRELUDE2(divide);
    if (taylor_is_const(K, b)) {
        y[0] = y0;
        for (k = 1; k <= K; k++)
            y[k] = a[k] == 0.0 ? 0.0 : a[k] / b[0];
        return;
    }
    taylor_div_y0(K, a, b, y0, y);
}

/* a ** b: a constant exponent is a power; otherwise
   a^b = a^(b_0) exp((b - b_0) log a), the first factor by the constant-
   exponent rules (products for small integers, the recurrence, the limits
   at 0 and inf) and the second with value 1: exp(b log a) as one series
   carried a^b's value, which underflows where the coefficients do not
   ((1e-300 + t)^(2 + t) came out 0, for c_2 = 1).  Real only for a > 0, or
   a = 0 with b > 0 (log a's one-sided coefficients, which a zero
   coefficient of a^(b_0) cancels); d/db is nan for a < 0, as the Dual's. */
TAYLOR_BINARY_HEAD(power)
{
    double q[TAYLOR_N], l[TAYLOR_N], w[TAYLOR_N], e[TAYLOR_N];
    int k, j;
    TAYLOR_PRELUDE2(power);
    if (taylor_is_const(K, b)) {
        taylor_pow_const(K, a, b[0], y0, 0, y);
        if (y0 != y0 && a[0] == a[0])
            taylor_fill(K, y0, y);
        return;
    }
    if (a[0] == 0.0 && b[0] > 0.0 && taylor_is_const(K, a)) {
        taylor_const(K, y0, y);                   /* 0 ** b, b > 0: 0 near b */
        return;
    }
    if (!(a[0] > 0.0 || (a[0] == 0.0 && b[0] > 0.0))) {
        taylor_fill(K, DUAL_NAN, y);
        y[0] = y0;
        return;
    }
    if (taylor_is_const(K, a))
        taylor_const(K, y0, q);                   /* (p (k - j) - j) 0 is nan at b_0 = inf */
    else
        taylor_pow_const(K, a, b[0], y0, 0, q);
    l[0] = log(a[0]);
    taylor_log_core(K, a, a[0], l);
    w[0] = 0.0;                                   /* (b - b_0) log a */
    for (k = 1; k <= K; k++) {
        double acc = 0.0;
        for (j = 1; j <= k; j++)
            acc += taylor_zmul(b[j], l[k - j]);
        w[k] = acc;
    }
    taylor_exp_core(K, w, 1.0, 1.0, e);
    taylor_mul(K, q, e, y);
    y[0] = y0;
    if (a[0] > 0.0 && isfinite(a[0]))
        /* log a's coefficient k overflows (a_1 / a_0 beyond 1e154 at
           k = 2): from w_{k+1} on the sums meet infinities that the small
           a^(b_0) factor would cancel in the exact value ((1e-300 + t)^(1 + t)
           gave -inf for 5e299, (1e-300 + t)^(2 + t) a c_3 off by 0.5); nan
           there, never a wrong number */
        for (k = 1; k < K; k++)
            if (!isfinite(l[k])) {
                for (j = k + 1; j <= K; j++)
                    y[j] = DUAL_NAN;
                break;
            }
}

/* atan2' = (b a' - a b') / (a^2 + b^2), integrated.  atan2 is invariant
   under scaling both operands, so they are first scaled by the power of two
   of the larger |a_0|, |b_0| (exactly): a^2 + b^2 then neither under- nor
   overflows at subnormal or huge operands (it did: nan at (0, 5e-324),
   where the exact second coefficient is 0).  At the origin the Dual's
   slope is nan (direction-dependent) and so is every coefficient; at an
   infinite operand every derivative's limit is 0. */
TAYLOR_BINARY_HEAD(arctan2)
{
    double as[TAYLOR_N], bs[TAYLOR_N], n1[TAYLOR_N], s[TAYLOR_N], t[TAYLOR_N],
        h[TAYLOR_N];
    int k, e;
    TAYLOR_PRELUDE2(arctan2);
    n1[0] = s[0] = 1.0; /* (the loops below write them: K >= 1; for GCC's flow analysis) */
    if (a[0] != a[0] || b[0] != b[0] || (a[0] == 0.0 && b[0] == 0.0)) {
        taylor_fill(K, DUAL_NAN, y);
        y[0] = y0;
        return;
    }
    if (isinf(a[0]) || isinf(b[0])) {
        taylor_const(K, y0, y);
        return;
    }
    e = ilogb(fmax(fabs(a[0]), fabs(b[0])));
    for (k = 0; k <= K; k++) {
        as[k] = scalbn(a[k], -e);
        bs[k] = scalbn(b[k], -e);
    }
    /* n = b a' - a b': coefficient m - 1 is sum_j (m - 2 j) b_j a_{m-j}, the
       terms b_j a_{m-j} of the two products paired (b_1 a_1 - a_1 b_1 is
       not formed: inf - inf where 1/|a, b| overflows) */
    for (k = 0; k < K; k++) {
        int m = k + 1, j;
        double acc = 0.0;
        for (j = 0; j <= m; j++)
            if (m != 2 * j)
                acc += taylor_zmul((double)(m - 2 * j) * bs[j], as[m - j]);
        n1[k] = acc;
    }
    taylor_sqr(K - 1, as, s);
    taylor_sqr(K - 1, bs, t);
    for (k = 0; k < K; k++)
        s[k] += t[k];
    taylor_div_y0(K - 1, n1, s, n1[0] / s[0], h);
    y[0] = y0;
    for (k = 1; k <= K; k++)
        y[k] = h[k - 1] / k;
}

/* hypot: h^2 = a^2 + b^2, so for k >= 1
     h_k = (1/2) sum_{j=0..k} [a_j (a_{k-j} / h_0) + b_j (b_{k-j} / h_0)
                                - h_j (h_{k-j} / h_0)]   (h_k terms moved left),
   each product formed with one factor divided by h_0 first: neither
   operand's square is formed, so nothing under- or overflows where the
   coefficient does not (scaling both operands by 1/h_0 lost the second
   coefficient, 1e-300 at (2, 1e300), to underflow).  At the origin the
   Dual's slope 0 (the kink of abs); at an infinite value locally linear. */
TAYLOR_BINARY_HEAD(hypot)
{
    double ra, rb;
    int k, j;
    TAYLOR_PRELUDE2(hypot);
    if (a[0] != a[0] || b[0] != b[0]) {
        /* a nan operand: nan curvature (as the nested partials) */
        taylor_fill(K, DUAL_NAN, y);
        y[0] = y0;
        return;
    }
    if (y0 == 0.0 || isinf(y0)
        || (a[0] == 0.0 && taylor_is_const(K, a)) || (b[0] == 0.0 && taylor_is_const(K, b))) {
        /* hypot(0, b) = |b| exactly, also where 1/h_0 overflows */
        taylor_linear2(K, a, b, y0, fa, fb, y);
        return;
    }
    ra = a[0] / y0;
    rb = b[0] / y0;
    y[0] = y0;
    for (k = 1; k <= K; k++) {
        double acc = taylor_zmul(ra, a[k]) + taylor_zmul(rb, b[k]);
        double sub = 0.0;
        for (j = 1; j < k; j++) {
            acc += 0.5 * (taylor_zmul(a[j], a[k - j] / y0) + taylor_zmul(b[j], b[k - j] / y0));
            sub += 0.5 * taylor_zmul(y[j], y[k - j] / y0);
        }
        y[k] = acc - sub;
        if (k == 2) {
            /* a_1^2 + b_1^2 - h_1^2 = (a_0 b_1 - b_0 a_1)^2 / h_0^2 (Lagrange):
               no cancellation, 0 exactly along the ray (hypot(a t, b t)) */
            double w = taylor_zmul(ra, b[1]) - taylor_zmul(rb, a[1]);
            y[2] = taylor_zmul(ra, a[2]) + taylor_zmul(rb, b[2])
                   + (w == 0.0 ? 0.0 : 0.5 * w * (w / y0));
        }
    }
}

TAYLOR_LINEAR_BINARY(minimum)
TAYLOR_LINEAR_BINARY(maximum)
TAYLOR_LINEAR_BINARY(fmin)
TAYLOR_LINEAR_BINARY(fmax)
TAYLOR_LINEAR_BINARY(copysign)

/* logaddexp' = sigmoid(a - b) a' + sigmoid(b - a) b' */
TAYLOR_BINARY_HEAD(logaddexp)
{
    double u[TAYLOR_N], v[TAYLOR_N], su[TAYLOR_N], sv[TAYLOR_N];
    int k, j;
    TAYLOR_PRELUDE2(logaddexp);
    if (a[0] != a[0] || b[0] != b[0]) {
        taylor_fill(K, DUAL_NAN, y);
        y[0] = y0;
        return;
    }
    for (k = 0; k < K; k++) {
        u[k] = a[k] - b[k];
        v[k] = b[k] - a[k];
    }
    taylor_sigmoid_series(K - 1, u, su);
    taylor_sigmoid_series(K - 1, v, sv);
    su[0] = fa;
    sv[0] = fb;
    y[0] = y0;
    for (k = 1; k <= K; k++) {
        double acc = 0.0;
        for (j = 1; j <= k; j++)
            acc += taylor_zmul(j * a[j], su[k - j]) + taylor_zmul(j * b[j], sv[k - j]);
        y[k] = acc / k;
    }
}

TAYLOR_LINEAR_BINARY(floor_divide)
TAYLOR_LINEAR_BINARY(remainder)

/* ===================================================================== *
 * 3. Tables (one entry per row of dual_rules.def, in its order) and the  *
 *    strided loops.                                                      *
 * ===================================================================== */

#define DUAL_UNARY(name, v, d, n) taylor_##name,
#define DUAL_UNARY_FN(name, n) taylor_##name,
#define DUAL_UNARY_P(name, v, d, n)
#define DUAL_BINARY(name, v, da, db, na, nb)
static const taylor_unary_fn taylor_unary_table[] = {
#include "dual_rules.def"
};
#undef DUAL_UNARY
#undef DUAL_UNARY_FN
#undef DUAL_UNARY_P
#undef DUAL_BINARY

#define DUAL_UNARY(name, v, d, n) #name,
#define DUAL_UNARY_FN(name, n) #name,
#define DUAL_UNARY_P(name, v, d, n)
#define DUAL_BINARY(name, v, da, db, na, nb)
static const char *const taylor_unary_names[] = {
#include "dual_rules.def"
};
#undef DUAL_UNARY
#undef DUAL_UNARY_FN
#undef DUAL_UNARY_P
#undef DUAL_BINARY

#define DUAL_UNARY(name, v, d, n)
#define DUAL_UNARY_FN(name, n)
#define DUAL_UNARY_P(name, v, d, n) taylor_##name,
#define DUAL_BINARY(name, v, da, db, na, nb)
static const taylor_unary_fn taylor_unary_p_table[] = {
#include "dual_rules.def"
};
#undef DUAL_UNARY_P
#define DUAL_UNARY_P(name, v, d, n) #name,
static const char *const taylor_unary_p_names[] = {
#include "dual_rules.def"
};
#undef DUAL_UNARY
#undef DUAL_UNARY_FN
#undef DUAL_UNARY_P
#undef DUAL_BINARY

#define DUAL_UNARY(name, v, d, n)
#define DUAL_UNARY_FN(name, n)
#define DUAL_UNARY_P(name, v, d, n)
#define DUAL_BINARY(name, v, da, db, na, nb) taylor_##name,
static const taylor_binary_fn taylor_binary_table[] = {
#include "dual_rules.def"
};
#undef DUAL_BINARY
#define DUAL_BINARY(name, v, da, db, na, nb) #name,
static const char *const taylor_binary_names[] = {
#include "dual_rules.def"
};
#undef DUAL_UNARY
#undef DUAL_UNARY_FN
#undef DUAL_UNARY_P
#undef DUAL_BINARY

#define TAYLOR_N_UNARY ((int)(sizeof(taylor_unary_table) / sizeof(taylor_unary_table[0])))
#define TAYLOR_N_UNARY_P ((int)(sizeof(taylor_unary_p_table) / sizeof(taylor_unary_p_table[0])))
#define TAYLOR_N_BINARY ((int)(sizeof(taylor_binary_table) / sizeof(taylor_binary_table[0])))

/* n points: coefficient k of point i at x[k * xk + i * xi] (element
   strides).  The scalar type calls these with n = 1.  Each point is
   gathered into a contiguous vector, so the rules see double c[K+1]. */
static inline void taylor_unary_loop(taylor_unary_fn f, int K, ptrdiff_t n, double p,
                              const double *x, ptrdiff_t xk, ptrdiff_t xi,
                              double *y, ptrdiff_t yk, ptrdiff_t yi)
{
    double u[TAYLOR_N], v[TAYLOR_N];
    ptrdiff_t i;
    int k;
    for (i = 0; i < n; i++) {
        for (k = 0; k <= K; k++)
            u[k] = x[k * xk + i * xi];
        f(K, u, p, v);
        for (k = 0; k <= K; k++)
            y[k * yk + i * yi] = v[k];
    }
}

static inline void taylor_binary_loop(taylor_binary_fn f, int K, ptrdiff_t n,
                               const double *a, ptrdiff_t ak, ptrdiff_t ai,
                               const double *b, ptrdiff_t bk, ptrdiff_t bi,
                               double *y, ptrdiff_t yk, ptrdiff_t yi)
{
    double u[TAYLOR_N], v[TAYLOR_N], w[TAYLOR_N];
    ptrdiff_t i;
    int k;
    for (i = 0; i < n; i++) {
        for (k = 0; k <= K; k++) {
            u[k] = a[k * ak + i * ai];
            v[k] = b[k * bk + i * bi];
        }
        f(K, u, v, w);
        for (k = 0; k <= K; k++)
            y[k * yk + i * yi] = w[k];
    }
}

#ifdef __cplusplus
}
#endif

#endif /* DUALML_TAYLOR_H */
