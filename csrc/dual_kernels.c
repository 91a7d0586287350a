/*
 * dual_kernels.c -- the elementwise array kernels declared in dual_kernels.h.
 *
 * For every rule f of dual_rules.def: 1-D strided loops that call the rule
 * functions of dual.h (the rules are never re-derived here), the k-row
 * drivers, the n-d driver, lookups by name, the libmvec SIMD loops and the
 * small matrix products of tangent rows (section 8).
 * Everything per element is static inline in this one translation unit, so
 * each loop is compiled with its rule inlined and the contiguous case
 * vectorized; only the loops, drivers and lookups have external linkage.
 *
 * Build: plain C99 with dual.h, dual_rules.def and dual_kernels.h on the
 * include path, linked with -lm.  Never with fast-math options (the rules
 * rely on IEEE inf/nan and signed zeros); -ffp-contract=off keeps every
 * path rounding like the scalar rules; -fno-trapping-math only lets GCC
 * vectorize the zero-tangent select.  Optional: -DDUALML_LIBMVEC=1 and
 * -lmvec on x86-64 glibc >= 2.35 for the SIMD section (5).
 */
#include <stdint.h>
#include <string.h>
#include <math.h>
#include "dual.h"
#include "dual_kernels.h"

/* Element i of a strided operand.  NumPy arrays need not be aligned
   (np.frombuffer at an odd offset, fields of packed structured arrays), and
   dereferencing a misaligned double * is undefined behaviour.  GCC and Clang
   get a double type of alignment 1 (the same single load or store on x86-64,
   and the loops still vectorize; a memcpy'd value is moved as an integer,
   which stops GCC from vectorizing selects such as fmin); other compilers
   get memcpy. */
#if defined(__GNUC__) || defined(__clang__)
typedef double dual_udouble __attribute__((aligned(1)));

static inline double dual_ld(const char *p)
{
    return *(const dual_udouble *)p;
}

static inline void dual_st(char *p, double v)
{
    *(dual_udouble *)p = v;
}
#else
static inline double dual_ld(const char *p)
{
    double v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void dual_st(char *p, double v)
{
    memcpy(p, &v, sizeof v);
}
#endif

#define DUAL_LD(ptr, stride, i) dual_ld((ptr) + (i) * (stride))
#define DUAL_ST(ptr, stride, i, v) dual_st((ptr) + (i) * (stride), (v))
/* the parameter of DUAL_UNARY_P rules travels as the loop context */
#define DUAL_PARAM(ctx) ((ctx) ? *(const double *)(ctx) : DUAL_NAN)
#define DUAL_C (dual_intp)sizeof(double)

/* ===================================================================== *
 * 1. Per-rule adapters: every unary rule as f(x, p, &d); the derivative   *
 *    column as a function of (x, y) for the SIMD path.                    *
 * ===================================================================== */

#define DUAL_UNARY(name, value, deriv, nested)                               \
    static inline double dual_##name##_rulep(double x, double p, double *d) \
    {                                                                       \
        (void)p;                                                            \
        return dual_##name##_rule(x, d);                                    \
    }                                                                       \
    static inline double dual_##name##_deriv(double x, double y)            \
    {                                                                       \
        return dual_nanprop(y, x != x, (deriv));                                    \
    }
#define DUAL_UNARY_FN(name, nested)                                          \
    static inline double dual_##name##_rulep(double x, double p, double *d) \
    {                                                                       \
        (void)p;                                                            \
        return dual_##name##_rule(x, d);                                    \
    }
#define DUAL_UNARY_P(name, value, deriv, nested)                             \
    static inline double dual_##name##_rulep(double x, double p, double *d) \
    {                                                                       \
        return dual_##name##_rule(x, p, d);                                 \
    }
#define DUAL_BINARY(name, value, da, db, nested_da, nested_db)
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY

/* ===================================================================== *
 * 2. The plain loops, one set per rule.  Each body is an inline function  *
 *    of the strides, called once with constant unit strides (so the       *
 *    compiler vectorizes the contiguous case) and once with the actual    *
 *    strides.                                                             *
 * ===================================================================== */

/* With k > 1 tangents the work is the partial loops (f_d) and the scaling
   of the k rows of each block (section 3).  On x86-64 ELF with GCC they are also compiled for AVX2 and the
   loader picks the clone the CPU supports (the same IEEE operations, wider
   registers; the zero-tangent select stays exact). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define DUAL_ROWS_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#define DUAL_INLINE static inline __attribute__((always_inline))
#else
#define DUAL_ROWS_CLONES
#define DUAL_INLINE static inline
#endif

#define DUAL_KERNELS_UNARY(name)                                             \
    static inline void dual_k_##name##_v(dual_intp n, char *x, dual_intp sx, \
                                         char *y, dual_intp sy, double p)   \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double d;                                                       \
            DUAL_ST(y, sy, i, dual_##name##_rulep(DUAL_LD(x, sx, i), p, &d)); \
        }                                                                   \
    }                                                                       \
    static inline void dual_k_##name##_t(dual_intp n, char *x, dual_intp sx, \
                                         char *t, dual_intp st, char *y,    \
                                         dual_intp sy, char *ty,            \
                                         dual_intp sty, double p)           \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double d, xi = DUAL_LD(x, sx, i), ti = DUAL_LD(t, st, i);       \
            double yi = dual_##name##_rulep(xi, p, &d);                     \
            DUAL_ST(y, sy, i, yi);                                          \
            DUAL_ST(ty, sty, i, dual_##name##_ts(xi, p, yi, d, ti));        \
        }                                                                   \
    }                                                                       \
    static inline void dual_k_##name##_d(dual_intp n, char *x, dual_intp sx, \
                                         char *y, dual_intp sy, char *dd,   \
                                         dual_intp sd, double p)            \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double d, yi = dual_##name##_rulep(DUAL_LD(x, sx, i), p, &d);   \
            DUAL_ST(y, sy, i, yi);                                          \
            DUAL_ST(dd, sd, i, d);                                          \
        }                                                                   \
    }                                                                       \
    void dual_loop_##name##_v(dual_intp n, char **a, const dual_intp *s,    \
                              const void *ctx)                              \
    {                                                                       \
        double p = DUAL_PARAM(ctx);                                         \
        if (s[0] == DUAL_C && s[1] == DUAL_C)                               \
            dual_k_##name##_v(n, a[0], DUAL_C, a[1], DUAL_C, p);            \
        else                                                                \
            dual_k_##name##_v(n, a[0], s[0], a[1], s[1], p);                \
    }                                                                       \
    void dual_loop_##name##_t(dual_intp n, char **a, const dual_intp *s,    \
                              const void *ctx)                              \
    {                                                                       \
        double p = DUAL_PARAM(ctx);                                         \
        if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == DUAL_C && s[3] == DUAL_C) \
            dual_k_##name##_t(n, a[0], DUAL_C, a[1], DUAL_C, a[2], DUAL_C,  \
                              a[3], DUAL_C, p);                             \
        else                                                                \
            dual_k_##name##_t(n, a[0], s[0], a[1], s[1], a[2], s[2],        \
                              a[3], s[3], p);                               \
    }                                                                       \
    DUAL_ROWS_CLONES                                                        \
    void dual_loop_##name##_d(dual_intp n, char **a, const dual_intp *s,    \
                              const void *ctx)                              \
    {                                                                       \
        double p = DUAL_PARAM(ctx);                                         \
        if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == DUAL_C)             \
            dual_k_##name##_d(n, a[0], DUAL_C, a[1], DUAL_C, a[2], DUAL_C, p); \
        else                                                                \
            dual_k_##name##_d(n, a[0], s[0], a[1], s[1], a[2], s[2], p);    \
    }

/* Binary loops.  The common layouts get their own constant-stride copy:
   everything contiguous, and one operand a broadcast scalar (stride 0). */
#define DUAL_KERNELS_BINARY(name)                                            \
    static inline void dual_k_##name##_v(dual_intp n, char *a, dual_intp sa, \
                                         char *b, dual_intp sb, char *y,    \
                                         dual_intp sy)                      \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double fa, fb;                                                  \
            DUAL_ST(y, sy, i, dual_##name##_rule(DUAL_LD(a, sa, i),         \
                                                 DUAL_LD(b, sb, i), &fa, &fb)); \
        }                                                                   \
    }                                                                       \
    static inline void dual_k_##name##_t(dual_intp n, char *a, dual_intp sa, \
                                         char *ta, dual_intp sta, char *b,  \
                                         dual_intp sb, char *tb,            \
                                         dual_intp stb, char *y,            \
                                         dual_intp sy, char *ty,            \
                                         dual_intp sty)                     \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double fa, fb, ai = DUAL_LD(a, sa, i), bi = DUAL_LD(b, sb, i);  \
            double tai = DUAL_LD(ta, sta, i), tbi = DUAL_LD(tb, stb, i);    \
            double yi = dual_##name##_rule(ai, bi, &fa, &fb);               \
            DUAL_ST(y, sy, i, yi);                                          \
            DUAL_ST(ty, sty, i, dual_##name##_tsa(ai, bi, yi, fa, tai)      \
                                + dual_##name##_tsb(ai, bi, yi, fb, tbi));  \
        }                                                                   \
    }                                                                       \
    static inline void dual_k_##name##_ta(dual_intp n, char *a, dual_intp sa, \
                                          char *ta, dual_intp sta, char *b, \
                                          dual_intp sb, char *y,            \
                                          dual_intp sy, char *ty,           \
                                          dual_intp sty)                    \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double fa, fb, ai = DUAL_LD(a, sa, i), bi = DUAL_LD(b, sb, i);  \
            double tai = DUAL_LD(ta, sta, i);                               \
            double yi = dual_##name##_rule(ai, bi, &fa, &fb);               \
            DUAL_ST(y, sy, i, yi);                                          \
            DUAL_ST(ty, sty, i, dual_##name##_tsa(ai, bi, yi, fa, tai));    \
        }                                                                   \
    }                                                                       \
    static inline void dual_k_##name##_tb(dual_intp n, char *a, dual_intp sa, \
                                          char *b, dual_intp sb, char *tb,  \
                                          dual_intp stb, char *y,           \
                                          dual_intp sy, char *ty,           \
                                          dual_intp sty)                    \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double fa, fb, ai = DUAL_LD(a, sa, i), bi = DUAL_LD(b, sb, i);  \
            double tbi = DUAL_LD(tb, stb, i);                               \
            double yi = dual_##name##_rule(ai, bi, &fa, &fb);               \
            DUAL_ST(y, sy, i, yi);                                          \
            DUAL_ST(ty, sty, i, dual_##name##_tsb(ai, bi, yi, fb, tbi));    \
        }                                                                   \
    }                                                                       \
    /* which: 3 both partials, 1 only dy/da, 2 only dy/db (the unused one   \
       is never computed: the rules are inline and pure) */                \
    static inline void dual_k_##name##_d(dual_intp n, char *a, dual_intp sa, \
                                         char *b, dual_intp sb, char *y,    \
                                         dual_intp sy, char *da,            \
                                         dual_intp sda, char *db,           \
                                         dual_intp sdb, int which)          \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double fa, fb, yi = dual_##name##_rule(DUAL_LD(a, sa, i),       \
                                                   DUAL_LD(b, sb, i), &fa, &fb); \
            DUAL_ST(y, sy, i, yi);                                          \
            if (which & 1)                                                  \
                DUAL_ST(da, sda, i, fa);                                    \
            if (which & 2)                                                  \
                DUAL_ST(db, sdb, i, fb);                                    \
        }                                                                   \
    }                                                                       \
    void dual_loop_##name##_v(dual_intp n, char **p, const dual_intp *s,    \
                              const void *ctx)                              \
    {                                                                       \
        (void)ctx;                                                          \
        if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == DUAL_C)             \
            dual_k_##name##_v(n, p[0], DUAL_C, p[1], DUAL_C, p[2], DUAL_C); \
        else if (s[0] == DUAL_C && s[1] == 0 && s[2] == DUAL_C)             \
            dual_k_##name##_v(n, p[0], DUAL_C, p[1], 0, p[2], DUAL_C);      \
        else if (s[0] == 0 && s[1] == DUAL_C && s[2] == DUAL_C)             \
            dual_k_##name##_v(n, p[0], 0, p[1], DUAL_C, p[2], DUAL_C);      \
        else                                                                \
            dual_k_##name##_v(n, p[0], s[0], p[1], s[1], p[2], s[2]);       \
    }                                                                       \
    void dual_loop_##name##_t(dual_intp n, char **p, const dual_intp *s,    \
                              const void *ctx)                              \
    {                                                                       \
        (void)ctx;                                                          \
        if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == DUAL_C &&           \
            s[3] == DUAL_C && s[4] == DUAL_C && s[5] == DUAL_C)             \
            dual_k_##name##_t(n, p[0], DUAL_C, p[1], DUAL_C, p[2], DUAL_C,  \
                              p[3], DUAL_C, p[4], DUAL_C, p[5], DUAL_C);    \
        else                                                                \
            dual_k_##name##_t(n, p[0], s[0], p[1], s[1], p[2], s[2],        \
                              p[3], s[3], p[4], s[4], p[5], s[5]);          \
    }                                                                       \
    void dual_loop_##name##_ta(dual_intp n, char **p, const dual_intp *s,   \
                               const void *ctx)                             \
    {                                                                       \
        (void)ctx;                                                          \
        if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == DUAL_C &&           \
            s[3] == DUAL_C && s[4] == DUAL_C)                               \
            dual_k_##name##_ta(n, p[0], DUAL_C, p[1], DUAL_C, p[2], DUAL_C, \
                               p[3], DUAL_C, p[4], DUAL_C);                 \
        else if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == 0 &&           \
                 s[3] == DUAL_C && s[4] == DUAL_C)                          \
            dual_k_##name##_ta(n, p[0], DUAL_C, p[1], DUAL_C, p[2], 0,      \
                               p[3], DUAL_C, p[4], DUAL_C);                 \
        else                                                                \
            dual_k_##name##_ta(n, p[0], s[0], p[1], s[1], p[2], s[2],       \
                               p[3], s[3], p[4], s[4]);                     \
    }                                                                       \
    void dual_loop_##name##_tb(dual_intp n, char **p, const dual_intp *s,   \
                               const void *ctx)                             \
    {                                                                       \
        (void)ctx;                                                          \
        if (s[0] == DUAL_C && s[1] == DUAL_C && s[2] == DUAL_C &&           \
            s[3] == DUAL_C && s[4] == DUAL_C)                               \
            dual_k_##name##_tb(n, p[0], DUAL_C, p[1], DUAL_C, p[2], DUAL_C, \
                               p[3], DUAL_C, p[4], DUAL_C);                 \
        else if (s[0] == 0 && s[1] == DUAL_C && s[2] == DUAL_C &&           \
                 s[3] == DUAL_C && s[4] == DUAL_C)                          \
            dual_k_##name##_tb(n, p[0], 0, p[1], DUAL_C, p[2], DUAL_C,      \
                               p[3], DUAL_C, p[4], DUAL_C);                 \
        else                                                                \
            dual_k_##name##_tb(n, p[0], s[0], p[1], s[1], p[2], s[2],       \
                               p[3], s[3], p[4], s[4]);                     \
    }                                                                       \
    /* The partial loops write to contiguous block buffers (dual_rows_*).   \
       Contiguous aligned inputs (one may be a broadcast scalar: ia or ib    \
       0) and an output that is not an input get a restrict-qualified copy,  \
       so the compiler vectorizes it; anything else the strided body. */    \
    static inline void dual_kr_##name(dual_intp n, const double *restrict a, \
                                      dual_intp ia, const double *restrict b, \
                                      dual_intp ib, double *restrict y,     \
                                      double *restrict da,                 \
                                      double *restrict db, int which)      \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i < n; i++) {                                           \
            double fa, fb;                                                  \
            y[i] = dual_##name##_rule(a[i * ia], b[i * ib], &fa, &fb);      \
            if (which & 1)                                                  \
                da[i] = fa;                                                 \
            if (which & 2)                                                  \
                db[i] = fb;                                                 \
        }                                                                   \
    }                                                                       \
    static inline void dual_kd_##name(dual_intp n, char **p, const dual_intp *s, \
                                      int which)                            \
    {                                                                       \
        char *da = which & 1 ? p[3] : NULL;                                 \
        char *db = which == 3 ? p[4] : (which == 2 ? p[3] : NULL);          \
        dual_intp sda = which & 1 ? s[3] : 0;                               \
        dual_intp sdb = which == 3 ? s[4] : (which == 2 ? s[3] : 0);        \
        int fast = s[2] == DUAL_C && (!da || sda == DUAL_C) &&              \
                   (!db || sdb == DUAL_C) && p[2] != p[0] && p[2] != p[1] && \
                   ((uintptr_t)p[0] | (uintptr_t)p[1] | (uintptr_t)p[2] |   \
                    (uintptr_t)da | (uintptr_t)db) % sizeof(double) == 0;   \
        if (fast && s[0] == DUAL_C && s[1] == DUAL_C)                       \
            dual_kr_##name(n, (double *)p[0], 1, (double *)p[1], 1,         \
                           (double *)p[2], (double *)da, (double *)db, which); \
        else if (fast && s[0] == DUAL_C && s[1] == 0)                       \
            dual_kr_##name(n, (double *)p[0], 1, (double *)p[1], 0,         \
                           (double *)p[2], (double *)da, (double *)db, which); \
        else if (fast && s[0] == 0 && s[1] == DUAL_C)                       \
            dual_kr_##name(n, (double *)p[0], 0, (double *)p[1], 1,         \
                           (double *)p[2], (double *)da, (double *)db, which); \
        else                                                                \
            dual_k_##name##_d(n, p[0], s[0], p[1], s[1], p[2], s[2],        \
                              da ? da : p[3], sda, db ? db : p[3], sdb, which); \
    }                                                                       \
    DUAL_ROWS_CLONES                                                        \
    void dual_loop_##name##_d(dual_intp n, char **p, const dual_intp *s,    \
                              const void *ctx)                              \
    {                                                                       \
        (void)ctx;                                                          \
        dual_kd_##name(n, p, s, 3);                                         \
    }                                                                       \
    DUAL_ROWS_CLONES                                                        \
    void dual_loop_##name##_da(dual_intp n, char **p, const dual_intp *s,   \
                               const void *ctx)                             \
    {                                                                       \
        (void)ctx;                                                          \
        dual_kd_##name(n, p, s, 1);                                         \
    }                                                                       \
    DUAL_ROWS_CLONES                                                        \
    void dual_loop_##name##_db(dual_intp n, char **p, const dual_intp *s,   \
                               const void *ctx)                             \
    {                                                                       \
        (void)ctx;                                                          \
        dual_kd_##name(n, p, s, 2);                                         \
    }

#define DUAL_UNARY(name, value, deriv, nested) DUAL_KERNELS_UNARY(name)
#define DUAL_UNARY_P(name, value, deriv, nested) DUAL_KERNELS_UNARY(name)
#define DUAL_UNARY_FN(name, nested) DUAL_KERNELS_UNARY(name)
#define DUAL_BINARY(name, value, da, db, nested_da, nested_db) DUAL_KERNELS_BINARY(name)
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY

/* ===================================================================== *
 * 3. k > 1 tangents: per block, y and the partials into a stack buffer,   *
 *    then the k tangent rows.                                             *
 * ===================================================================== */



/* ty = scale(d, t) along one row; d contiguous */
static inline void dual_scale_row_(dual_intp n, const double *d, char *t, dual_intp st,
                                   char *ty, dual_intp sty)
{
    dual_intp i;
    for (i = 0; i < n; i++)
        DUAL_ST(ty, sty, i, dual_scale(d[i], DUAL_LD(t, st, i)));
}

/* A strided block (n <= DUAL_BLOCK) copied to buf, so the loops that read
   it run their contiguous, vectorized copy (a view like x[..., 0] would
   otherwise take the scalar strided body for every row). */
DUAL_INLINE char *dual_gather(dual_intp n, char *p, dual_intp s, double *buf)
{
    dual_intp i;
    if (s == DUAL_C || n > DUAL_BLOCK)
        return p;
    for (i = 0; i < n; i++)
        buf[i] = DUAL_LD(p, s, i);
    return (char *)buf;
}

/* inlined into each clone of the row drivers below, one call per block */
DUAL_INLINE void dual_scale_row(dual_intp n, const double *d, char *t, dual_intp st,
                           char *ty, dual_intp sty)
{
    double bt[DUAL_BLOCK];
    if (sty == DUAL_C && st != DUAL_C && n <= DUAL_BLOCK) {
        t = dual_gather(n, t, st, bt);
        st = DUAL_C;
    }
    if (st == DUAL_C && sty == DUAL_C)
        dual_scale_row_(n, d, t, DUAL_C, ty, DUAL_C);
    else
        dual_scale_row_(n, d, t, st, ty, sty);
}

/* ty = scale(da, ta) + scale(db, tb) along one row */
static inline void dual_scale2_row_(dual_intp n, const double *da, char *ta, dual_intp sta,
                                    const double *db, char *tb, dual_intp stb,
                                    char *ty, dual_intp sty)
{
    dual_intp i;
    for (i = 0; i < n; i++)
        DUAL_ST(ty, sty, i, dual_scale(da[i], DUAL_LD(ta, sta, i)) +
                              dual_scale(db[i], DUAL_LD(tb, stb, i)));
}

DUAL_INLINE void dual_scale2_row(dual_intp n, const double *da, char *ta, dual_intp sta,
                            const double *db, char *tb, dual_intp stb,
                            char *ty, dual_intp sty)
{
    double bta[DUAL_BLOCK], btb[DUAL_BLOCK];
    if (sty == DUAL_C && n <= DUAL_BLOCK && (sta != DUAL_C || stb != DUAL_C)) {
        ta = dual_gather(n, ta, sta, bta);
        tb = dual_gather(n, tb, stb, btb);
        sta = stb = DUAL_C;
    }
    if (sta == DUAL_C && stb == DUAL_C && sty == DUAL_C)
        dual_scale2_row_(n, da, ta, DUAL_C, db, tb, DUAL_C, ty, DUAL_C);
    else
        dual_scale2_row_(n, da, ta, sta, db, tb, stb, ty, sty);
}

#define DUAL_MIN(a, b) ((a) < (b) ? (a) : (b))

/* The k rows of a block when they are one contiguous run of k n tangents
   (rows n elements apart, the layout of every fresh result and of most
   operands): one loop of whole 4-lane vectors over the k n elements, the
   partial of element i being d[i mod n], read from d followed by its first
   three entries (written into the buffer's DUAL_PAD spare entries, so a
   vector starting at any i mod n is one unaligned load).  A row of n = 10
   otherwise costs two vectors and a 2-element tail each, with the loop's
   bookkeeping per row: at 10 x 10
   the rows took as long as the rest of the operation.  The same IEEE
   operation per element as dual_scale (partial * tangent, +0.0 where the
   tangent is +-0: the product's bits and-ed with the nonzero mask), so the
   same values bit for bit.  n >= 4 and n <= DUAL_BLOCK; the caller checks
   (DUAL_FLAT_OK).  Loads and stores through memcpy: no alignment and no
   aliasing assumption beyond double's. */
#define DUAL_PAD 3
#if defined(__GNUC__)
typedef double dual_v4d __attribute__((vector_size(32)));
typedef long long dual_v4i __attribute__((vector_size(32)));

/* (macros, not functions: a vector-typed argument or return value of a
   function changes the ABI between the clones, which GCC warns about) */
#define DUAL_V4_LD(v, p) __builtin_memcpy(&(v), (p), sizeof(v))
#define DUAL_V4_ST(p, v) __builtin_memcpy((p), &(v), sizeof(v))
/* scale(d, t) of four lanes: +0.0 where t is +-0 (nan is nonzero) */
#define DUAL_V4_SCALE(d, t) ((dual_v4d)((dual_v4i)((d) * (t)) & (dual_v4i)((t) != dual_v4_zero)))
static const dual_v4d dual_v4_zero = {0.0, 0.0, 0.0, 0.0};

/* d[n .. n + 3) = d[0 .. 3): the partials' buffer has DUAL_PAD spare entries */
DUAL_INLINE void dual_repeat_(dual_intp n, double *d)
{
    d[n] = d[0];
    d[n + 1] = d[1];
    d[n + 2] = d[2];
}

/* y[j n + i] = scale(d[i], t[j n + i]) for j < k, i < n */
DUAL_INLINE void dual_scale_flat(dual_intp n, dual_intp k, double *d,
                                 const char *t, char *ty)
{
    const double *tv = (const double *)t;
    double *yv = (double *)ty;
    dual_intp i, r = 0, N = n * k;
    dual_repeat_(n, d);
    for (i = 0; i + 4 <= N; i += 4) {
        dual_v4d dv, t4, y4;
        DUAL_V4_LD(dv, d + r);
        DUAL_V4_LD(t4, tv + i);
        y4 = DUAL_V4_SCALE(dv, t4);
        DUAL_V4_ST(yv + i, y4);
        r += 4;
        if (r >= n)
            r -= n;
    }
    for (; i < N; i++) {
        yv[i] = dual_scale(d[r], tv[i]);
        if (++r == n)
            r = 0;
    }
}

/* y[j n + i] = scale(da[i], ta[j n + i]) + scale(db[i], tb[j n + i]) */
DUAL_INLINE void dual_scale2_flat(dual_intp n, dual_intp k, double *da, const char *ta,
                                  double *db, const char *tb, char *ty)
{
    const double *av = (const double *)ta, *bv = (const double *)tb;
    double *yv = (double *)ty;
    dual_intp i, r = 0, N = n * k;
    dual_repeat_(n, da);
    dual_repeat_(n, db);
    for (i = 0; i + 4 <= N; i += 4) {
        dual_v4d da4, db4, a4, b4, y4;
        DUAL_V4_LD(da4, da + r);
        DUAL_V4_LD(db4, db + r);
        DUAL_V4_LD(a4, av + i);
        DUAL_V4_LD(b4, bv + i);
        y4 = DUAL_V4_SCALE(da4, a4) + DUAL_V4_SCALE(db4, b4);
        DUAL_V4_ST(yv + i, y4);
        r += 4;
        if (r >= n)
            r -= n;
    }
    for (; i < N; i++) {
        yv[i] = dual_scale(da[r], av[i]) + dual_scale(db[r], bv[i]);
        if (++r == n)
            r = 0;
    }
}
#else
DUAL_INLINE void dual_scale_flat(dual_intp n, dual_intp k, double *d,
                                 const char *t, char *ty)
{
    dual_intp i;
    for (i = 0; i < n * k; i++)
        ((double *)ty)[i] = dual_scale(d[i % n], ((const double *)t)[i]);
}

DUAL_INLINE void dual_scale2_flat(dual_intp n, dual_intp k, double *da, const char *ta,
                                  double *db, const char *tb, char *ty)
{
    dual_intp i;
    for (i = 0; i < n * k; i++)
        ((double *)ty)[i] = dual_scale(da[i % n], ((const double *)ta)[i])
                            + dual_scale(db[i % n], ((const double *)tb)[i]);
}
#endif

/* whether a block's k rows of n elements (element strides st, row strides
   rt in bytes) are one contiguous run each for every operand of the flat
   loops above */
#define DUAL_FLAT_OK(n, st, rt) ((n) >= 4 && (n) <= DUAL_BLOCK \
                                 && (st) == DUAL_C && (rt) == (n) * DUAL_C)

/* The k rows of a block at once with AVX-512 where the CPU has it and each
   row is contiguous (the common layout): the tail of a row (n = 10: 2 of
   10 elements) is one masked vector instead of a scalar loop with a branch
   per element, which at 10 elements x 10 rows cost more than the vector
   part.  The same IEEE operations as dual_scale (partial * tangent, +0.0
   where the tangent is +-0; a masked-off lane is neither read nor written),
   so the same values bit for bit (a nan's sign: see dual_scale512_).  Rows
   are addressed through char pointers and unaligned loads: a row may start
   anywhere. */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__)
#include <immintrin.h>
#define DUAL_HAVE_ROWS512 1

static inline int dual_rows512(void)
{
    return __builtin_cpu_supports("avx512f");
}

/* dual_scale(d, t) of the lanes of mask, as the product t d: where both
   are nan x86 keeps the first operand's nan (sign), and t d is what the
   whole vectors of the loops these replace computed (their epilogues
   mixed the orders lane by lane, and the k = 1 loops use d t: a nan's sign
   was never the same on every path) */
__attribute__((target("avx512f")))
static inline __m512d dual_scale512_(__mmask8 mask, const double *d, const char *t)
{
    __m512d tv = _mm512_maskz_loadu_pd(mask, t);
    __mmask8 nz = _mm512_mask_cmp_pd_mask(mask, tv, _mm512_setzero_pd(), _CMP_NEQ_UQ);
    return _mm512_maskz_mul_pd(nz, tv, _mm512_maskz_loadu_pd(mask, d));
}

/* ty[j] = scale(d, t[j]) for j < k, rows of n contiguous elements rt / rty
   bytes apart */
__attribute__((target("avx512f")))
static void dual_scale_rows512(dual_intp n, dual_intp k, const double *d, const char *t,
                               dual_intp rt, char *ty, dual_intp rty)
{
    dual_intp i, j, n8 = n & ~(dual_intp)7;
    const __mmask8 tail = (__mmask8)((1u << (n & 7)) - 1u);
    for (j = 0; j < k; j++) {
        const char *tj = t + j * rt;
        char *yj = ty + j * rty;
        for (i = 0; i < n8; i += 8)
            _mm512_storeu_pd(yj + i * DUAL_C, dual_scale512_(0xff, d + i, tj + i * DUAL_C));
        if (tail)
            _mm512_mask_storeu_pd(yj + n8 * DUAL_C, tail,
                                  dual_scale512_(tail, d + n8, tj + n8 * DUAL_C));
    }
}

/* ty[j] = scale(da, ta[j]) + scale(db, tb[j]) likewise */
__attribute__((target("avx512f")))
static void dual_scale2_rows512(dual_intp n, dual_intp k, const double *da, const char *ta,
                                dual_intp rta, const double *db, const char *tb,
                                dual_intp rtb, char *ty, dual_intp rty)
{
    dual_intp i, j, n8 = n & ~(dual_intp)7;
    const __mmask8 tail = (__mmask8)((1u << (n & 7)) - 1u);
    for (j = 0; j < k; j++) {
        const char *aj = ta + j * rta, *bj = tb + j * rtb;
        char *yj = ty + j * rty;
        for (i = 0; i < n8; i += 8)
            _mm512_storeu_pd(yj + i * DUAL_C,
                             _mm512_add_pd(dual_scale512_(0xff, da + i, aj + i * DUAL_C),
                                           dual_scale512_(0xff, db + i, bj + i * DUAL_C)));
        if (tail)
            _mm512_mask_storeu_pd(yj + n8 * DUAL_C, tail,
                                  _mm512_maskz_add_pd(tail,
                                      dual_scale512_(tail, da + n8, aj + n8 * DUAL_C),
                                      dual_scale512_(tail, db + n8, bj + n8 * DUAL_C)));
    }
}
#else
#define DUAL_HAVE_ROWS512 0
#endif


/* whether any partial of a block is off the normal range (0, subnormal,
   inf; not nan, whose products stay nan): then the block's rows are redone
   per element by the caller, whatever the tangents */
static inline int dual_offrange_block_(dual_intp n, const double *d)
{
    dual_intp i;
    int64_t any = 0;
    for (i = 0; i < n; i++) {
        double ad = fabs(d[i]);
        any |= (int64_t)((ad < 2.2250738585072014e-308) | (ad > 1.7976931348623157e308));
    }
    return any != 0;
}


/* unary, operands {x, t, y, ty}; c->dloop is f_d */
DUAL_INLINE void dual_rows_unary_(dual_intp n, char **p, const dual_intp *s,
                                   const dual_rows_ctx *c, int *off)
{
    double d[DUAL_BLOCK + DUAL_PAD];
    char *q[3];
    dual_intp qs[3], i0, j, m;
    qs[0] = s[0];
    qs[1] = s[2];
    qs[2] = DUAL_C;
    for (i0 = 0; i0 < n; i0 += DUAL_BLOCK) {
        m = DUAL_MIN(n - i0, DUAL_BLOCK);
        q[0] = p[0] + i0 * s[0];
        q[1] = p[2] + i0 * s[2];
        q[2] = (char *)d;
        c->dloop(m, q, qs, c->dctx);
        if (off != NULL)
            *off |= dual_offrange_block_(m, d);
        if (m == n && DUAL_FLAT_OK(m, s[1], c->row[0]) && DUAL_FLAT_OK(m, s[3], c->row[1])) {
            dual_scale_flat(m, c->k, d, p[1], p[3]);
            continue;
        }
#if DUAL_HAVE_ROWS512
        if (s[1] == DUAL_C && s[3] == DUAL_C && dual_rows512()) {
            dual_scale_rows512(m, c->k, d, p[1] + i0 * DUAL_C, c->row[0],
                               p[3] + i0 * DUAL_C, c->row[1]);
            continue;
        }
#endif
        for (j = 0; j < c->k; j++) {
            char *t = p[1] + i0 * s[1] + j * c->row[0];
            char *ty = p[3] + i0 * s[3] + j * c->row[1];
            dual_scale_row(m, d, t, s[1], ty, s[3]);
        }
    }
}

DUAL_ROWS_CLONES
void dual_rows_unary(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_unary_(n, p, s, (const dual_rows_ctx *)vctx, NULL);
}

DUAL_ROWS_CLONES
void dual_rows_unary_chk(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_chk_ctx *c = (dual_rows_chk_ctx *)vctx;
    dual_rows_unary_(n, p, s, &c->rc, &c->offrange);
}

/* the direct drivers' k rows ty[j] = scale(d, t[j]) of one block (rows
   contiguous, rt / rty bytes apart): one run where the rows are, else
   AVX-512's rows or a loop per row */
DUAL_INLINE void dual_scale_block_rows(dual_intp n, dual_intp k, double *d, const char *t,
                                       dual_intp rt, char *ty, dual_intp rty)
{
    dual_intp j;
    if (DUAL_FLAT_OK(n, DUAL_C, rt) && DUAL_FLAT_OK(n, DUAL_C, rty)) {
        dual_scale_flat(n, k, d, t, ty);
        return;
    }
#if DUAL_HAVE_ROWS512
    if (dual_rows512()) {
        dual_scale_rows512(n, k, d, t, rt, ty, rty);
        return;
    }
#endif
    for (j = 0; j < k; j++)
        dual_scale_row(n, d, (char *)t + j * rt, DUAL_C, ty + j * rty, DUAL_C);
}

DUAL_ROWS_CLONES
int dual_rows_unary_direct(dual_block_fn blk, int lv, int check, dual_intp n, dual_intp k,
                           const double *x, const char *t, dual_intp rt,
                           double *y, char *ty, dual_intp rty)
{
    double d[DUAL_BLOCK + DUAL_PAD];
    if (blk == NULL || n > DUAL_BLOCK)
        return -1;
    blk(lv, n, x, y, d);
    if (check && dual_offrange_block_(n, d))
        return 1;
    dual_scale_block_rows(n, k, d, t, rt, ty, rty);
    return 0;
}

DUAL_ROWS_CLONES
int dual_rows_binary1_direct(dual_loop dloop, int check, dual_intp n, dual_intp k,
                             const double *a, dual_intp sa, const double *b, dual_intp sb,
                             const char *t, dual_intp rt, double *y, char *ty, dual_intp rty)
{
    double d[DUAL_BLOCK + DUAL_PAD];
    char *q[4];
    dual_intp qs[4];
    if (n > DUAL_BLOCK)
        return -1;
    q[0] = (char *)a;
    q[1] = (char *)b;
    q[2] = (char *)y;
    q[3] = (char *)d;
    qs[0] = sa;
    qs[1] = sb;
    qs[2] = DUAL_C;
    qs[3] = DUAL_C;
    dloop(n, q, qs, NULL);
    if (check && dual_offrange_block_(n, d))
        return 1;
    dual_scale_block_rows(n, k, d, t, rt, ty, rty);
    return 0;
}

DUAL_ROWS_CLONES
int dual_addsub_rows(int sub, dual_intp n, dual_intp k, const double *a, const char *ta,
                     dual_intp rta, const double *b, const char *tb, dual_intp rtb,
                     double *y, char *ty, dual_intp rty)
{
    dual_intp i, j;
    int dom = 0;
    for (i = 0; i < n; i++) {
        y[i] = sub ? a[i] - b[i] : a[i] + b[i];
        dom |= (y[i] != y[i]) & (a[i] == a[i]) & (b[i] == b[i]);
    }
    if (dom)
        return 1;
    if (rta == n * DUAL_C && rtb == n * DUAL_C && rty == n * DUAL_C) {
        /* contiguous rows: one loop over the k n tangents (the same
           operation per element, without a short loop's tail per row) */
        n *= k;
        k = 1;
    }
    for (j = 0; j < k; j++) {
        const double *u = (const double *)(ta + j * rta), *v = (const double *)(tb + j * rtb);
        double *o = (double *)(ty + j * rty);
        if (sub)
            for (i = 0; i < n; i++)
                o[i] = (u[i] - v[i]) + 0.0;
        else
            for (i = 0; i < n; i++)
                o[i] = (u[i] + v[i]) + 0.0;
    }
    return 0;
}

DUAL_ROWS_CLONES
int dual_rows_binary_direct(dual_loop dloop, int check, dual_intp n, dual_intp k,
                            const double *a, const char *ta, dual_intp rta,
                            const double *b, const char *tb, dual_intp rtb,
                            double *y, char *ty, dual_intp rty)
{
    double da[DUAL_BLOCK + DUAL_PAD], db[DUAL_BLOCK + DUAL_PAD];
    char *q[5];
    static const dual_intp qs[5] = {DUAL_C, DUAL_C, DUAL_C, DUAL_C, DUAL_C};
    dual_intp j;
    if (n > DUAL_BLOCK)
        return -1;
    q[0] = (char *)a;
    q[1] = (char *)b;
    q[2] = (char *)y;
    q[3] = (char *)da;
    q[4] = (char *)db;
    dloop(n, q, qs, NULL);
    if (check && (dual_offrange_block_(n, da) | dual_offrange_block_(n, db)))
        return 1;
    if (DUAL_FLAT_OK(n, DUAL_C, rta) && DUAL_FLAT_OK(n, DUAL_C, rtb)
            && DUAL_FLAT_OK(n, DUAL_C, rty)) {
        dual_scale2_flat(n, k, da, ta, db, tb, ty);
        return 0;
    }
#if DUAL_HAVE_ROWS512
    if (dual_rows512()) {
        dual_scale2_rows512(n, k, da, ta, rta, db, tb, rtb, ty, rty);
        return 0;
    }
#endif
    for (j = 0; j < k; j++)
        dual_scale2_row(n, da, (char *)ta + j * rta, DUAL_C, db, (char *)tb + j * rtb, DUAL_C,
                        ty + j * rty, DUAL_C);
    return 0;
}

/* binary, both tangents: operands {a, ta, b, tb, y, ty}; c->dloop is f_d */
DUAL_INLINE void dual_rows_binary_(dual_intp n, char **p, const dual_intp *s,
                                    const dual_rows_ctx *c, int *off)
{
    double da[DUAL_BLOCK + DUAL_PAD], db[DUAL_BLOCK + DUAL_PAD], ba[DUAL_BLOCK], bb[DUAL_BLOCK];
    char *q[5];
    dual_intp qs[5], i0, j, m;
    qs[0] = s[0] == 0 ? 0 : DUAL_C;
    qs[1] = s[2] == 0 ? 0 : DUAL_C;
    qs[2] = s[4];
    qs[3] = DUAL_C;
    qs[4] = DUAL_C;
    for (i0 = 0; i0 < n; i0 += DUAL_BLOCK) {
        m = DUAL_MIN(n - i0, DUAL_BLOCK);
        q[0] = s[0] == 0 ? p[0] : dual_gather(m, p[0] + i0 * s[0], s[0], ba);
        q[1] = s[2] == 0 ? p[2] : dual_gather(m, p[2] + i0 * s[2], s[2], bb);
        q[2] = p[4] + i0 * s[4];
        q[3] = (char *)da;
        q[4] = (char *)db;
        c->dloop(m, q, qs, c->dctx);
        if (off != NULL)
            *off |= dual_offrange_block_(m, da) | dual_offrange_block_(m, db);
        if (m == n && DUAL_FLAT_OK(m, s[1], c->row[0]) && DUAL_FLAT_OK(m, s[3], c->row[1])
                && DUAL_FLAT_OK(m, s[5], c->row[2])) {
            dual_scale2_flat(m, c->k, da, p[1], db, p[3], p[5]);
            continue;
        }
#if DUAL_HAVE_ROWS512
        if (s[1] == DUAL_C && s[3] == DUAL_C && s[5] == DUAL_C && dual_rows512()) {
            dual_scale2_rows512(m, c->k, da, p[1] + i0 * DUAL_C, c->row[0],
                                db, p[3] + i0 * DUAL_C, c->row[1],
                                p[5] + i0 * DUAL_C, c->row[2]);
            continue;
        }
#endif
        for (j = 0; j < c->k; j++)
            dual_scale2_row(m, da, p[1] + i0 * s[1] + j * c->row[0], s[1],
                            db, p[3] + i0 * s[3] + j * c->row[1], s[3],
                            p[5] + i0 * s[5] + j * c->row[2], s[5]);
    }
}

DUAL_ROWS_CLONES
void dual_rows_binary(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_binary_(n, p, s, (const dual_rows_ctx *)vctx, NULL);
}

DUAL_ROWS_CLONES
void dual_rows_binary_chk(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_chk_ctx *c = (dual_rows_chk_ctx *)vctx;
    dual_rows_binary_(n, p, s, &c->rc, &c->offrange);
}

/* binary, one tangent.  which = 1: operands {a, ta, b, y, ty}, c->dloop is
   f_da; which = 2: operands {a, b, tb, y, ty}, c->dloop is f_db. */
DUAL_INLINE void dual_rows_binary1_(dual_intp n, char **p, const dual_intp *s,
                                      const dual_rows_ctx *c, int which, int *off)
{
    double d[DUAL_BLOCK + DUAL_PAD], ba[DUAL_BLOCK], bb[DUAL_BLOCK];
    char *q[4];
    dual_intp qs[4], i0, j, m;
    int it = which == 1 ? 1 : 2;                 /* tangent operand */
    int ia = 0, ib = which == 1 ? 2 : 1;         /* value operands */
    qs[0] = s[ia] == 0 ? 0 : DUAL_C;
    qs[1] = s[ib] == 0 ? 0 : DUAL_C;
    qs[2] = s[3];
    qs[3] = DUAL_C;
    for (i0 = 0; i0 < n; i0 += DUAL_BLOCK) {
        m = DUAL_MIN(n - i0, DUAL_BLOCK);
        q[0] = s[ia] == 0 ? p[ia] : dual_gather(m, p[ia] + i0 * s[ia], s[ia], ba);
        q[1] = s[ib] == 0 ? p[ib] : dual_gather(m, p[ib] + i0 * s[ib], s[ib], bb);
        q[2] = p[3] + i0 * s[3];
        q[3] = (char *)d;
        c->dloop(m, q, qs, c->dctx);
        if (off != NULL)
            *off |= dual_offrange_block_(m, d);
        if (m == n && DUAL_FLAT_OK(m, s[it], c->row[0]) && DUAL_FLAT_OK(m, s[4], c->row[1])) {
            dual_scale_flat(m, c->k, d, p[it], p[4]);
            continue;
        }
#if DUAL_HAVE_ROWS512
        if (s[it] == DUAL_C && s[4] == DUAL_C && dual_rows512()) {
            dual_scale_rows512(m, c->k, d, p[it] + i0 * DUAL_C, c->row[0],
                               p[4] + i0 * DUAL_C, c->row[1]);
            continue;
        }
#endif
        for (j = 0; j < c->k; j++) {
            char *t = p[it] + i0 * s[it] + j * c->row[0];
            char *ty = p[4] + i0 * s[4] + j * c->row[1];
            dual_scale_row(m, d, t, s[it], ty, s[4]);
        }
    }
}

DUAL_ROWS_CLONES
void dual_rows_binary_a(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_binary1_(n, p, s, (const dual_rows_ctx *)vctx, 1, NULL);
}

DUAL_ROWS_CLONES
void dual_rows_binary_a_chk(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_chk_ctx *c = (dual_rows_chk_ctx *)vctx;
    dual_rows_binary1_(n, p, s, &c->rc, 1, &c->offrange);
}

DUAL_ROWS_CLONES
void dual_rows_binary_b(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_binary1_(n, p, s, (const dual_rows_ctx *)vctx, 2, NULL);
}

DUAL_ROWS_CLONES
void dual_rows_binary_b_chk(dual_intp n, char **p, const dual_intp *s, const void *vctx)
{
    dual_rows_chk_ctx *c = (dual_rows_chk_ctx *)vctx;
    dual_rows_binary1_(n, p, s, &c->rc, 2, &c->offrange);
}

/* ===================================================================== *
 * 4. The n-d driver.                                                      *
 * ===================================================================== */

/* Run loop over the index space shape[0..nd) (C order), operand op at
   base[op] with byte strides strides[op * nd + dim].  Unit dimensions are
   dropped and neighbours that are contiguous for every operand merged, so
   contiguous arrays of any shape make a single call. */
void dual_apply(int nd, const dual_intp *shape, int nop, char *const *base,
                       const dual_intp *strides, dual_loop loop, const void *ctx)
{
    dual_intp sh[DUAL_MAXDIMS], st[DUAL_MAXOPS][DUAL_MAXDIMS];
    dual_intp idx[DUAL_MAXDIMS], inner[DUAL_MAXOPS];
    char *ptr[DUAL_MAXOPS];
    int m = 0, d, op, merge;

    for (d = 0; d < nd; d++) {
        if (shape[d] == 0)
            return;
        if (shape[d] == 1)
            continue;
        merge = m > 0;
        for (op = 0; op < nop && merge; op++)
            merge = st[op][m - 1] == strides[op * nd + d] * shape[d];
        if (merge) {
            sh[m - 1] *= shape[d];
            for (op = 0; op < nop; op++)
                st[op][m - 1] = strides[op * nd + d];
        }
        else {
            sh[m] = shape[d];
            for (op = 0; op < nop; op++)
                st[op][m] = strides[op * nd + d];
            m++;
        }
    }
    if (m == 0) {
        sh[0] = 1;
        for (op = 0; op < nop; op++)
            st[op][0] = 0;
        m = 1;
    }
    for (op = 0; op < nop; op++) {
        ptr[op] = base[op];
        inner[op] = st[op][m - 1];
    }
    for (d = 0; d < m; d++)
        idx[d] = 0;
    for (;;) {
        loop(sh[m - 1], ptr, inner, ctx);
        for (d = m - 2; d >= 0; d--) {
            idx[d]++;
            for (op = 0; op < nop; op++)
                ptr[op] += st[op][d];
            if (idx[d] < sh[d])
                break;
            for (op = 0; op < nop; op++)
                ptr[op] -= st[op][d] * sh[d];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

/* ===================================================================== *
 * 5. SIMD path (libmvec).                                                 *
 * ===================================================================== */

#if defined(DUALML_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__) && \
    defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35))
#define DUAL_HAVE_LIBMVEC 1
#else
#define DUAL_HAVE_LIBMVEC 0
#endif

/* No global state: the level is a parameter (dual_simd_unary hands out the
   loops of one level), so threads can use different levels at once. */

#if DUAL_HAVE_LIBMVEC

#include <immintrin.h>

/* the lanes [0, r) of 4 (0 < r < 4) as an AVX mask */
__attribute__((target("avx2")))
static inline __m256i dual_mask4_(dual_intp r)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)r), _mm256_setr_epi64x(0, 1, 2, 3));
}

/* libmvec's names for the functions we use (vector ABI: d = AVX2 x4,
   e = AVX-512 x8), and one loop per function and ISA over n elements: the
   last vector of a length that is not a multiple of 4 / 8 is loaded and
   stored under a mask (its other lanes evaluate a point inside the
   function's domain, `safe`: each lane apart from the others, so no
   element depends on its neighbours or on the length), so the loops read
   and write x[0..n), y[0..n) only and need no padded copy.  (A lane at 0.0
   sent log, log2, log10 and acosh down libmvec's special-value path, a
   call of the scalar function with its floating-point exception, on every
   short block.)  The target attributes confine the wide registers to these
   functions; the rest of the file is baseline. */
#define DUAL_VM_LIST(X) \
    X(sin, 0.5) X(cos, 0.5) X(tan, 0.5) X(exp, 0.5) X(exp2, 0.5) X(expm1, 0.5) \
    X(log, 0.5) X(log2, 0.5) X(log10, 0.5) X(log1p, 0.5) X(sinh, 0.5)        \
    X(cosh, 0.5) X(tanh, 0.5) X(asin, 0.5) X(acos, 0.5) X(atan, 0.5)         \
    X(asinh, 0.5) X(acosh, 2.0) X(atanh, 0.5) X(cbrt, 0.5) X(erf, 0.5)       \
    X(erfc, 0.5)

#define DUAL_VM_DECLARE(f, safe)                                             \
    __attribute__((target("avx2"))) __m256d _ZGVdN4v_##f(__m256d);          \
    __attribute__((target("avx512f"))) __m512d _ZGVeN8v_##f(__m512d);       \
    __attribute__((target("avx2")))                                         \
    static void dual_vm4_##f(dual_intp n, const double *x, double *y)       \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i + 4 <= n; i += 4)                                     \
            _mm256_storeu_pd(y + i, _ZGVdN4v_##f(_mm256_loadu_pd(x + i)));  \
        if (i < n) {                                                        \
            __m256i m = dual_mask4_(n - i);                                 \
            __m256d v = _mm256_blendv_pd(_mm256_set1_pd(safe),              \
                                         _mm256_maskload_pd(x + i, m),      \
                                         _mm256_castsi256_pd(m));           \
            _mm256_maskstore_pd(y + i, m, _ZGVdN4v_##f(v));                 \
        }                                                                   \
    }                                                                       \
    __attribute__((target("avx512f")))                                      \
    static void dual_vm8_##f(dual_intp n, const double *x, double *y)       \
    {                                                                       \
        dual_intp i;                                                        \
        for (i = 0; i + 8 <= n; i += 8)                                     \
            _mm512_storeu_pd(y + i, _ZGVeN8v_##f(_mm512_loadu_pd(x + i)));  \
        if (i < n) {                                                        \
            __mmask8 m = (__mmask8)((1u << (n - i)) - 1u);                  \
            __m512d v = _mm512_mask_loadu_pd(_mm512_set1_pd(safe), m, x + i); \
            _mm512_mask_storeu_pd(y + i, m, _ZGVeN8v_##f(v));               \
        }                                                                   \
    }                                                                       \
    static void dual_vm_##f(int lv, dual_intp n, const double *x, double *y) \
    {                                                                       \
        if (lv == DUAL_SIMD_AVX512)                                         \
            dual_vm8_##f(n, x, y);                                          \
        else                                                                \
            dual_vm4_##f(n, x, y);                                          \
    }
DUAL_VM_LIST(DUAL_VM_DECLARE)

int dual_simd_detect(void)
{
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return DUAL_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return DUAL_SIMD_AVX2;
    return DUAL_SIMD_NONE;
}

/* dual_scale (the zero-tangent convention) without a branch, so that the
   loops below vectorize: the same result bit for bit (+0.0 where the
   tangent is +-0, else partial * tangent).  Unsigned bits: shifting a
   negative signed integer is undefined behaviour (Python builds extensions
   with -fwrapv, which hides it; an embedder's build does not). */
typedef union { double d; unsigned long long u; } dual_bits;

__attribute__((target("avx2")))
static inline double dual_scale_nb(double partial, double tangent)
{
    dual_bits r, t;
    r.d = partial * tangent;
    t.d = tangent;
    r.u &= -(unsigned long long)((t.u << 1) != 0);    /* 0 for +-0.0 */
    return r.d;
}

/* A block function fills y[0..m) = f(x) and, if d is not NULL,
   d[0..m) = f'(x), for contiguous arrays x, y, d of m <= DUAL_BLOCK
   elements (reading and writing nothing beyond them); y and d apart from x
   and from each other. */
typedef dual_block_fn dual_block;

/* Rules whose derivative column is arithmetic in x and y: the value from
   libmvec, the derivative from the table (dual_<f>_deriv). */
#define DUAL_SIMD_Y(name, f)                                                 \
    static void dual_block_##name(int lv, dual_intp m, const double *x,     \
                                  double *y, double *d)                     \
    {                                                                       \
        dual_intp i;                                                        \
        dual_vm_##f(lv, m, x, y);                                           \
        if (d)                                                              \
            for (i = 0; i < m; i++)                                         \
                d[i] = dual_##name##_deriv(x[i], y[i]);                     \
    }
DUAL_SIMD_Y(exp, exp)
DUAL_SIMD_Y(exp2, exp2)
DUAL_SIMD_Y(expm1, expm1)
DUAL_SIMD_Y(log, log)
DUAL_SIMD_Y(log2, log2)
DUAL_SIMD_Y(log10, log10)
DUAL_SIMD_Y(log1p, log1p)
DUAL_SIMD_Y(cbrt, cbrt)
DUAL_SIMD_Y(tan, tan)
DUAL_SIMD_Y(arcsin, asin)
DUAL_SIMD_Y(arccos, acos)
DUAL_SIMD_Y(arctan, atan)
DUAL_SIMD_Y(arcsinh, asinh)
DUAL_SIMD_Y(arccosh, acosh)
DUAL_SIMD_Y(arctanh, atanh)

/* ---- Written by hand: the derivative column calls another transcendental
   function, evaluated here by libmvec too.  Same formulas as the table. */

/* d sin = cos(x) */
static void dual_block_sin(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_vm_sin(lv, m, x, y);
    if (d)
        dual_vm_cos(lv, m, x, d);
}

/* d cos = -sin(x) */
static void dual_block_cos(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_intp i;
    dual_vm_cos(lv, m, x, y);
    if (d) {
        dual_vm_sin(lv, m, x, d);
        for (i = 0; i < m; i++)
            d[i] = -d[i];
    }
}

/* d sinh = cosh(x), d cosh = sinh(x) */
static void dual_block_sinh(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_vm_sinh(lv, m, x, y);
    if (d)
        dual_vm_cosh(lv, m, x, d);
}

static void dual_block_cosh(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_vm_cosh(lv, m, x, y);
    if (d)
        dual_vm_sinh(lv, m, x, d);
}

/* d tanh = dual_tanh_d(x, y): 1 - y y while |y| < 0.75, else
   4e/(1+e)^2 with e = exp(-2|x|).  e is computed for the whole block by the
   vector exp and the two forms blended without a branch: cheaper than
   packing the elements that need it (the test is unpredictable on real
   data), and the same bits. */
static void dual_block_tanh(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_intp i;
    dual_vm_tanh(lv, m, x, y);
    if (!d)
        return;
    for (i = 0; i < m; i++)                 /* e, in d */
        d[i] = -2.0 * fabs(x[i]);
    dual_vm_exp(lv, m, d, d);               /* in place */
    for (i = 0; i < m; i++) {
        double e = d[i];
        double near = 1.0 - y[i] * y[i];
        double far = 4.0 * e / ((1.0 + e) * (1.0 + e));
        d[i] = fabs(y[i]) < 0.75 ? near : far;
    }
}

/* d erf = 2/sqrt(pi) exp(-(x x)), d erfc = -2/sqrt(pi) exp(-(x x)) */
static void dual_block_erf(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_intp i;
    dual_vm_erf(lv, m, x, y);
    if (!d)
        return;
    for (i = 0; i < m; i++)
        d[i] = -(x[i] * x[i]);
    dual_vm_exp(lv, m, d, d);
    for (i = 0; i < m; i++)
        d[i] = DUAL_2_SQRTPI * d[i];
}

static void dual_block_erfc(int lv, dual_intp m, const double *x, double *y, double *d)
{
    dual_intp i;
    dual_vm_erfc(lv, m, x, y);
    if (!d)
        return;
    for (i = 0; i < m; i++)
        d[i] = -(x[i] * x[i]);
    dual_vm_exp(lv, m, d, d);
    for (i = 0; i < m; i++)
        d[i] = -DUAL_2_SQRTPI * d[i];
}

/* The rule's tangent column (dual.h, dual_<f>_tfix): applied after the
   vector loop to the products that left the normal range, as the plain
   loops apply it per element (dual_<f>_ts); the columns of these rules
   read x and t only, so the two paths give the same bits there. */
typedef double (*dual_tfix)(double x, double p, double y, double d, double t, double r);

/* whether any product of the block may be one the tangent column replaces:
   dual.h's dual_offrange_ (t not 0 or +-1, and the partial outside the
   normal range; a nan product is then kept), written without branches so that
   it vectorizes: the common block (none) costs a compare per element */
__attribute__((target("avx2")))
static inline int dual_simd_off_(dual_intp m, const double *db, const char *t, dual_intp st)
{
    dual_intp i;
    int any = 0;
    for (i = 0; i < m; i++) {
        double ti = DUAL_LD(t, st, i), at = fabs(ti), ad = fabs(db[i]);
        any |= (at != 0.0) & (at != 1.0) &
               ((ad < 2.2250738585072014e-308) | (ad > 1.7976931348623157e308));
    }
    return any;
}

__attribute__((target("avx2")))
static int dual_simd_offrange(dual_intp m, const double *db, const char *t, dual_intp st)
{
    return st == DUAL_C ? dual_simd_off_(m, db, t, DUAL_C) : dual_simd_off_(m, db, t, st);
}

/* the products db[i] t[i] into o, and the same test in the same pass (o
   apart from t: a flagged block is then redone from t) */
__attribute__((target("avx2")))
static inline int dual_simd_store_(dual_intp m, const double *db, const char *t, dual_intp st,
                                   char *o, dual_intp so)
{
    dual_intp i;
    int any = 0;
    for (i = 0; i < m; i++) {
        double ti = DUAL_LD(t, st, i), at = fabs(ti), ad = fabs(db[i]);
        DUAL_ST(o, so, i, dual_scale_nb(db[i], ti));
        any |= (at != 0.0) & (at != 1.0) &
               ((ad < 2.2250738585072014e-308) | (ad > 1.7976931348623157e308));
    }
    return any;
}

/* whether m doubles at p and at q do not overlap */
static inline int dual_apart_(const char *p, const char *q, dual_intp m)
{
    return (uintptr_t)p + (uintptr_t)(m * DUAL_C) <= (uintptr_t)q ||
           (uintptr_t)q + (uintptr_t)(m * DUAL_C) <= (uintptr_t)p;
}

/* The three loop kinds over a block function: evaluate, write out.  mode 0:
   {x, y}; 1: {x, t, y, ty}; 2: {x, y, d}.  lv: the libmvec width
   (DUAL_SIMD_AVX2 or _AVX512); fix: the rule's tangent column (mode 1;
   NULL: the rule has none).  A contiguous, aligned block whose output is
   apart from its input (the usual case, at any length) is evaluated in
   place, as is a partial output d apart from both (mode 2: the row
   drivers' buffer); anything else goes through the stack buffers. */
__attribute__((target("avx2")))
static void dual_simd_drive(dual_intp n, char **p, const dual_intp *s,
                            int mode, dual_block blk, int lv, dual_tfix fix)
{
    double xb[DUAL_BLOCK], yb[DUAL_BLOCK], db[DUAL_BLOCK];
    dual_intp i0, i, m;
    char *y, *o = NULL;         /* value output; tangent or partial output */
    dual_intp sy, so = 0;
    sy = s[mode == 1 ? 2 : 1];
    if (mode)
        so = s[mode == 1 ? 3 : 2];
    for (i0 = 0; i0 < n; i0 += DUAL_BLOCK) {
        char *x = p[0] + i0 * s[0];
        double *yout = yb, *dout = mode ? db : NULL;
        m = DUAL_MIN(n - i0, DUAL_BLOCK);
        y = p[mode == 1 ? 2 : 1] + i0 * sy;
        if (mode)
            o = p[mode == 1 ? 3 : 2] + i0 * so;
        if (s[0] == DUAL_C && sy == DUAL_C &&
            ((uintptr_t)x | (uintptr_t)y) % sizeof(double) == 0 && dual_apart_(x, y, m)) {
            /* the block functions index double pointers (aligned) and read
               x after writing y (apart) */
            if (mode == 2 && so == DUAL_C && (uintptr_t)o % sizeof(double) == 0 &&
                dual_apart_(o, x, m) && dual_apart_(o, y, m))
                dout = (double *)o;
            blk(lv, m, (const double *)x, (double *)y, dout);
            yout = NULL;
        }
        else {
            if (s[0] == DUAL_C)
                memcpy(xb, x, (size_t)m * sizeof(double));
            else
                for (i = 0; i < m; i++)
                    xb[i] = DUAL_LD(x, s[0], i);
            blk(lv, m, xb, yb, dout);
        }
        if (mode == 1) {
            char *t = p[1] + i0 * s[1];
            /* t is read before y is written: y may not alias t (the caller
               copies partially overlapping inputs), but ty may be t */
            int fixit = 0;
            if (fix != NULL && o != t)
                fixit = s[1] == DUAL_C && so == DUAL_C
                            ? dual_simd_store_(m, db, t, DUAL_C, o, DUAL_C)
                            : dual_simd_store_(m, db, t, s[1], o, so);
            else if (fix != NULL)
                fixit = dual_simd_offrange(m, db, t, s[1]);
            if (DUAL_UNLIKELY(fixit)) {
                /* x: the input itself (the direct case: y apart from x) or
                   its copy; y: the buffer or the output already written */
                const double *xv = yout == NULL ? (const double *)x : xb;
                const double *yv = yout == NULL ? (const double *)y : yb;
                for (i = 0; i < m; i++) {
                    double ti = DUAL_LD(t, s[1], i), r = dual_scale(db[i], ti);
                    if (dual_offrange_(db[i], r, ti))
                        r = fix(xv[i], 0.0, yv[i], db[i], ti, r);
                    DUAL_ST(o, so, i, r);
                }
            }
            else if (fix != NULL && o != t)
                ;                               /* stored by dual_simd_store_ */
            else if (s[1] == DUAL_C && so == DUAL_C)
                for (i = 0; i < m; i++)
                    DUAL_ST(o, DUAL_C, i, dual_scale_nb(db[i], DUAL_LD(t, DUAL_C, i)));
            else
                for (i = 0; i < m; i++)
                    DUAL_ST(o, so, i, dual_scale_nb(db[i], DUAL_LD(t, s[1], i)));
        }
        else if (mode == 2 && dout == db) {
            if (so == DUAL_C)
                memcpy(o, db, (size_t)m * sizeof(double));
            else
                for (i = 0; i < m; i++)
                    DUAL_ST(o, so, i, db[i]);
        }
        if (yout == NULL)
            continue;
        if (sy == DUAL_C)
            memcpy(y, yb, (size_t)m * sizeof(double));
        else
            for (i = 0; i < m; i++)
                DUAL_ST(y, sy, i, yb[i]);
    }
}

/* per rule and level (suffix 4: AVX2, 8: AVX-512) the three loop kinds */
#define DUAL_SIMD_LOOPS_AT(name, lv, w)                                      \
    __attribute__((target("avx2")))                                         \
    static void dual_simd##w##_##name##_v(dual_intp n, char **p,            \
                                          const dual_intp *s, const void *ctx) \
    {                                                                       \
        (void)ctx;                                                          \
        dual_simd_drive(n, p, s, 0, dual_block_##name, lv,                  \
                        dual_##name##_hast() ? dual_##name##_tfix : NULL);  \
    }                                                                       \
    __attribute__((target("avx2")))                                         \
    static void dual_simd##w##_##name##_t(dual_intp n, char **p,            \
                                          const dual_intp *s, const void *ctx) \
    {                                                                       \
        (void)ctx;                                                          \
        dual_simd_drive(n, p, s, 1, dual_block_##name, lv,                  \
                        dual_##name##_hast() ? dual_##name##_tfix : NULL);  \
    }                                                                       \
    __attribute__((target("avx2")))                                         \
    static void dual_simd##w##_##name##_d(dual_intp n, char **p,            \
                                          const dual_intp *s, const void *ctx) \
    {                                                                       \
        (void)ctx;                                                          \
        dual_simd_drive(n, p, s, 2, dual_block_##name, lv,                  \
                        dual_##name##_hast() ? dual_##name##_tfix : NULL);  \
    }
#define DUAL_SIMD_LOOPS(name)                                                \
    DUAL_SIMD_LOOPS_AT(name, DUAL_SIMD_AVX2, 4)                              \
    DUAL_SIMD_LOOPS_AT(name, DUAL_SIMD_AVX512, 8)

#define DUAL_SIMD_RULES(X) \
    X(exp) X(exp2) X(expm1) X(log) X(log2) X(log10) X(log1p) X(cbrt) X(tan) \
    X(arcsin) X(arccos) X(arctan) X(arcsinh) X(arccosh) X(arctanh)          \
    X(sin) X(cos) X(sinh) X(cosh) X(tanh) X(erf) X(erfc)
DUAL_SIMD_RULES(DUAL_SIMD_LOOPS)

dual_block_fn dual_simd_block(const char *name)
{
#define DUAL_SIMD_BLOCK(nm)                                                  \
    if (strcmp(name, #nm) == 0)                                             \
        return dual_block_##nm;
    DUAL_SIMD_RULES(DUAL_SIMD_BLOCK)
#undef DUAL_SIMD_BLOCK
    return NULL;
}

#else  /* !DUAL_HAVE_LIBMVEC */

int dual_simd_detect(void)
{
    return DUAL_SIMD_NONE;
}

dual_block_fn dual_simd_block(const char *name)
{
    (void)name;
    return NULL;
}

#endif /* DUAL_HAVE_LIBMVEC */

/* The SIMD loops of a unary rule at a level: returns 1 and sets v, t, d;
   0 if the rule has no SIMD loops in this build or level is
   DUAL_SIMD_NONE.  The caller checks the level against dual_simd_detect()
   (the CPU); the loops hold no state, so threads may use different levels
   at the same time. */
int dual_simd_unary(const char *name, int level, dual_loop *v, dual_loop *t,
                    dual_loop *d)
{
#if DUAL_HAVE_LIBMVEC
#define DUAL_SIMD_FIND(nm)                                                   \
    if (strcmp(name, #nm) == 0) {                                           \
        *v = level == DUAL_SIMD_AVX512 ? dual_simd8_##nm##_v : dual_simd4_##nm##_v; \
        *t = level == DUAL_SIMD_AVX512 ? dual_simd8_##nm##_t : dual_simd4_##nm##_t; \
        *d = level == DUAL_SIMD_AVX512 ? dual_simd8_##nm##_d : dual_simd4_##nm##_d; \
        return 1;                                                           \
    }
    if (level == DUAL_SIMD_AVX2 || level == DUAL_SIMD_AVX512) {
        DUAL_SIMD_RULES(DUAL_SIMD_FIND)
    }
#undef DUAL_SIMD_FIND
#endif
    (void)name;
    (void)level;
    (void)v;
    (void)t;
    (void)d;
    return 0;
}

/* ===================================================================== *
 * 6. Lookups by name.                                                     *
 * ===================================================================== */

/* GCC 12 takes the address of a target_clones function (an ifunc) for a
   local variable and warns -Wdangling-pointer on storing it: a false
   positive (the address is the ifunc symbol's, resolved once at load). */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdangling-pointer"
#endif

int dual_find_unary(const char *name, dual_unary_loops *out)
{
#define DUAL_FIND_U(nm, kind)                                                \
    if (strcmp(name, #nm) == 0) {                                           \
        out->v = dual_loop_##nm##_v;                                        \
        out->t = dual_loop_##nm##_t;                                        \
        out->d = dual_loop_##nm##_d;                                        \
        return kind;                                                        \
    }
#define DUAL_UNARY(nm, value, deriv, nested) DUAL_FIND_U(nm, 1)
#define DUAL_UNARY_P(nm, value, deriv, nested) DUAL_FIND_U(nm, 2)
#define DUAL_UNARY_FN(nm, nested) DUAL_FIND_U(nm, 1)
#define DUAL_BINARY(nm, value_, da_, db_, nested_da_, nested_db_)
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY
#undef DUAL_FIND_U
    return 0;
}

int dual_find_binary(const char *name, dual_binary_loops *out)
{
#define DUAL_UNARY(nm, value, deriv, nested)
#define DUAL_UNARY_P(nm, value, deriv, nested)
#define DUAL_UNARY_FN(nm, nested)
#define DUAL_BINARY(nm, value_, da_, db_, nested_da_, nested_db_)           \
    if (strcmp(name, #nm) == 0) {                                           \
        out->v = dual_loop_##nm##_v;                                        \
        out->t = dual_loop_##nm##_t;                                        \
        out->ta = dual_loop_##nm##_ta;                                      \
        out->tb = dual_loop_##nm##_tb;                                      \
        out->d = dual_loop_##nm##_d;                                        \
        out->da = dual_loop_##nm##_da;                                      \
        out->db = dual_loop_##nm##_db;                                      \
        return 1;                                                           \
    }
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY
    return 0;
}

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
#pragma GCC diagnostic pop
#endif

/* ===================================================================== *
 * 7. Second order: one curvature term of dualml's hessian rows.           *
 * ===================================================================== */

DUAL_ROWS_CLONES
void dual_o2_acc(ptrdiff_t n, ptrdiff_t m, ptrdiff_t k, ptrdiff_t i0, ptrdiff_t i1,
                 double *H, const double *gl, ptrdiff_t sl, const double *gr,
                 ptrdiff_t sr, const double *coef)
{
    ptrdiff_t i, j, e;
    for (i = i0; i < i1; i++) {
        const double *restrict li = gl + i * sl;
        for (j = 0; j < k; j++) {
            const double *restrict rj = gr + j * sr;
            double *restrict h = H + ((i - i0) * k + j) * m;
            /* the product is computed unconditionally and selected: no
               branch on the seed pattern (colored seeds alternate zeros
               element by element, which a branch mispredicts every time),
               and the loop vectorizes; the same bits as the branch */
            for (e = 0; e < n; e++) {
                const double l = li[e], r = rj[e];
                const double p = (l * coef[e]) * r;
                h[e] += (l == 0.0 || r == 0.0) ? 0.0 : p;
            }
        }
    }
}

/* ===================================================================== *
 * 8. Small matrix products of tangent rows.                              *
 * ===================================================================== */

/* Register tiles: R <= 4 rows of C by one or two vectors of columns, each
   accumulator summing its element in the order of the summed index from
   0.0 (a multiply, then an add: no FMA), so a tile changes how many
   elements are in flight, never an element's operations.  Four rows at
   once keep four independent chains of additions busy and share each load
   of B's row (the loop this replaced, one element row at a time, waited on
   the adder's latency: 10 x 10 x 10 took 180 ns on AVX-512, the tiles
   50 ns).  The vectors are GCC/Clang vector extensions moved with memcpy
   (unaligned loads and stores; a tile reads and writes its own columns
   only); other compilers get the scalar tile, the same operations.  The
   sign and payload of a nan depend on the operand order the compiler picks
   for a tile: every nan of C is stored as +nan, so that C's bits depend on
   the operands only. */
#if defined(__GNUC__) || defined(__clang__)
typedef double dual_v8 __attribute__((vector_size(64)));
typedef double dual_v4 __attribute__((vector_size(32)));
typedef double dual_v2 __attribute__((vector_size(16)));
typedef long long dual_v8m __attribute__((vector_size(64)));
typedef long long dual_v4m __attribute__((vector_size(32)));
typedef long long dual_v2m __attribute__((vector_size(16)));
#endif
typedef double dual_v1;

/* x with its nans made +nan (the vector comparison x == x is all ones in
   the lanes that are not nan; a scalar one is 1 or 0) */
#define DUAL_MM_NAN_BITS 0x7ff8000000000000LL
#define DUAL_MM_CANON_V(VT, x)                                               \
    do {                                                                    \
        VT##m k_ = (x) == (x), u_;                                          \
        memcpy(&u_, &(x), sizeof u_);                                       \
        u_ = (u_ & k_) | (~k_ & DUAL_MM_NAN_BITS);                          \
        memcpy(&(x), &u_, sizeof u_);                                       \
    } while (0)
#define DUAL_MM_CANON_dual_v8(x) DUAL_MM_CANON_V(dual_v8, x)
#define DUAL_MM_CANON_dual_v4(x) DUAL_MM_CANON_V(dual_v4, x)
#define DUAL_MM_CANON_dual_v2(x) DUAL_MM_CANON_V(dual_v2, x)
#define DUAL_MM_CANON_dual_v1(x) ((x) = (x) == (x) ? (x) : (double)NAN)

/* one accumulator stored at C, its nans made +nan */
#define DUAL_MM_PUT(VT, x, C)                                                \
    do {                                                                    \
        DUAL_MM_CANON_##VT(x);                                              \
        memcpy((C), &(x), sizeof(x));                                       \
    } while (0)

#define DUAL_MM_TILE(VT)                                                     \
    DUAL_INLINE void dual_mm_tile1_##VT(int R, ptrdiff_t K, const double *A, \
                                        ptrdiff_t a0, ptrdiff_t a1,          \
                                        const double *B, ptrdiff_t b0,       \
                                        double *C, ptrdiff_t c0)             \
    {                                                                       \
        VT s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, b;                        \
        ptrdiff_t i;                                                        \
        for (i = 0; i < K; i++) {                                           \
            const double *a = A + i * a1;                                   \
            memcpy(&b, B + i * b0, sizeof b);                               \
            s0 = s0 + a[0] * b;                                             \
            if (R > 1) s1 = s1 + a[a0] * b;                                 \
            if (R > 2) s2 = s2 + a[2 * a0] * b;                             \
            if (R > 3) s3 = s3 + a[3 * a0] * b;                             \
        }                                                                   \
        DUAL_MM_PUT(VT, s0, C);                                             \
        if (R > 1) DUAL_MM_PUT(VT, s1, C + c0);                             \
        if (R > 2) DUAL_MM_PUT(VT, s2, C + 2 * c0);                         \
        if (R > 3) DUAL_MM_PUT(VT, s3, C + 3 * c0);                         \
    }

/* two vectors of columns per row (AVX2: eight accumulators, the width of
   one AVX-512 vector; GCC spills a 2-d array of them, hence the names) */
#define DUAL_MM_TILE2(VT)                                                    \
    DUAL_INLINE void dual_mm_tile2_##VT(int R, ptrdiff_t K, const double *A, \
                                        ptrdiff_t a0, ptrdiff_t a1,          \
                                        const double *B, ptrdiff_t b0,       \
                                        double *C, ptrdiff_t c0)             \
    {                                                                       \
        const ptrdiff_t w = (ptrdiff_t)(sizeof(VT) / sizeof(double));       \
        VT s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, b;                        \
        VT t0 = {0}, t1 = {0}, t2 = {0}, t3 = {0}, e;                        \
        ptrdiff_t i;                                                        \
        for (i = 0; i < K; i++) {                                           \
            const double *a = A + i * a1;                                   \
            memcpy(&b, B + i * b0, sizeof b);                               \
            memcpy(&e, B + i * b0 + w, sizeof e);                           \
            s0 = s0 + a[0] * b;                                             \
            t0 = t0 + a[0] * e;                                             \
            if (R > 1) { s1 = s1 + a[a0] * b; t1 = t1 + a[a0] * e; }        \
            if (R > 2) { s2 = s2 + a[2 * a0] * b; t2 = t2 + a[2 * a0] * e; } \
            if (R > 3) { s3 = s3 + a[3 * a0] * b; t3 = t3 + a[3 * a0] * e; } \
        }                                                                   \
        DUAL_MM_PUT(VT, s0, C);                                             \
        DUAL_MM_PUT(VT, t0, C + w);                                         \
        if (R > 1) { DUAL_MM_PUT(VT, s1, C + c0); DUAL_MM_PUT(VT, t1, C + c0 + w); } \
        if (R > 2) { DUAL_MM_PUT(VT, s2, C + 2 * c0); DUAL_MM_PUT(VT, t2, C + 2 * c0 + w); } \
        if (R > 3) { DUAL_MM_PUT(VT, s3, C + 3 * c0); DUAL_MM_PUT(VT, t3, C + 3 * c0 + w); } \
    }

DUAL_MM_TILE(dual_v1)
#if defined(__GNUC__) || defined(__clang__)
DUAL_MM_TILE(dual_v8)
DUAL_MM_TILE(dual_v4)
DUAL_MM_TILE(dual_v2)
DUAL_MM_TILE2(dual_v4)
DUAL_MM_TILE2(dual_v2)
#endif

/* R rows of C: the widest tile (TILE, W columns) across, then narrower
   ones for the last columns */
#define DUAL_MM_ROWS(NAME, TILE, W)                                          \
    DUAL_INLINE void dual_mm_rows_##NAME(int R, ptrdiff_t K, ptrdiff_t N,    \
                                         const double *A, ptrdiff_t a0,     \
                                         ptrdiff_t a1, const double *B,     \
                                         ptrdiff_t b0, double *C)            \
    {                                                                       \
        ptrdiff_t c = 0;                                                    \
        for (; c + (W) <= N; c += (W))                                      \
            TILE(R, K, A, a0, a1, B + c, b0, C + c, N);                     \
        if ((W) > 4 && c + 4 <= N) {                                        \
            dual_mm_tile1_dual_v4(R, K, A, a0, a1, B + c, b0, C + c, N);    \
            c += 4;                                                         \
        }                                                                   \
        if ((W) > 2 && c + 2 <= N) {                                        \
            dual_mm_tile1_dual_v2(R, K, A, a0, a1, B + c, b0, C + c, N);    \
            c += 2;                                                         \
        }                                                                   \
        if (c < N)                                                          \
            dual_mm_tile1_dual_v1(R, K, A, a0, a1, B + c, b0, C + c, N);    \
    }

/* C, four rows at a time */
#define DUAL_MM_ALL(NAME)                                                    \
    for (r = 0; r + 4 <= M; r += 4)                                         \
        dual_mm_rows_##NAME(4, K, N, A + r * a0, a0, a1, B, b0, C + r * N); \
    switch (M - r) {                                                        \
    case 3: dual_mm_rows_##NAME(3, K, N, A + r * a0, a0, a1, B, b0, C + r * N); break; \
    case 2: dual_mm_rows_##NAME(2, K, N, A + r * a0, a0, a1, B, b0, C + r * N); break; \
    case 1: dual_mm_rows_##NAME(1, K, N, A + r * a0, a0, a1, B, b0, C + r * N); break; \
    default: break;                                                         \
    }

#if defined(__GNUC__) || defined(__clang__)
DUAL_MM_ROWS(v2, dual_mm_tile2_dual_v2, 4)
#else
DUAL_MM_ROWS(v2, dual_mm_tile1_dual_v1, 1)
#endif

static void dual_mm_base(ptrdiff_t M, ptrdiff_t K, ptrdiff_t N, const double *A, ptrdiff_t a0,
                         ptrdiff_t a1, const double *B, ptrdiff_t b0, double *C)
{
    ptrdiff_t r;
    DUAL_MM_ALL(v2)
}

/* x86-64: the tile for the CPU's widest vectors (AVX-512: 4 x 8 in four
   zmm registers; AVX2: 4 x 8 in eight ymm; else the base's 4 x 4) */
#if defined(__GNUC__) && defined(__x86_64__) && defined(__ELF__)
#define DUAL_HAVE_MM_ISA 1
DUAL_MM_ROWS(v8, dual_mm_tile1_dual_v8, 8)
DUAL_MM_ROWS(v4x2, dual_mm_tile2_dual_v4, 8)

__attribute__((target("avx512f")))
static void dual_mm_avx512(ptrdiff_t M, ptrdiff_t K, ptrdiff_t N, const double *A, ptrdiff_t a0,
                           ptrdiff_t a1, const double *B, ptrdiff_t b0, double *C)
{
    ptrdiff_t r;
    DUAL_MM_ALL(v8)
}

__attribute__((target("avx2")))
static void dual_mm_avx2(ptrdiff_t M, ptrdiff_t K, ptrdiff_t N, const double *A, ptrdiff_t a0,
                         ptrdiff_t a1, const double *B, ptrdiff_t b0, double *C)
{
    ptrdiff_t r;
    DUAL_MM_ALL(v4x2)
}
#else
#define DUAL_HAVE_MM_ISA 0
#endif

void dual_matmul_small(ptrdiff_t M, ptrdiff_t K, ptrdiff_t N, const double *A, ptrdiff_t a0,
                       ptrdiff_t a1, const double *B, ptrdiff_t b0, ptrdiff_t b1, double *C,
                       double *scratch)
{
    ptrdiff_t i, c;
    if (b1 != 1 && N > 1) {
        /* B's rows gathered once into contiguous rows (read along B's
           columns where they are contiguous: B a transposed matrix) */
        if (b0 == 1)
            for (c = 0; c < N; c++)
                for (i = 0; i < K; i++)
                    scratch[i * N + c] = B[i + c * b1];
        else
            for (i = 0; i < K; i++)
                for (c = 0; c < N; c++)
                    scratch[i * N + c] = B[i * b0 + c * b1];
        B = scratch;
        b0 = N;
    }
#if DUAL_HAVE_MM_ISA
    if (__builtin_cpu_supports("avx512f")) {
        dual_mm_avx512(M, K, N, A, a0, a1, B, b0, C);
        return;
    }
    if (__builtin_cpu_supports("avx2")) {
        dual_mm_avx2(M, K, N, A, a0, a1, B, b0, C);
        return;
    }
#endif
    dual_mm_base(M, K, N, A, a0, a1, B, b0, C);
}
