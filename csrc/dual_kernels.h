/*
 * dual_kernels.h -- elementwise array kernels over dualml's rules: the
 * public declarations.  The definitions are in dual_kernels.c (plain C99,
 * compiled together with dual.h and dual_rules.def); this header needs only
 * <stddef.h> and dual_rules.def, and C++ may include it.
 *
 * Data layout.  An array of dual numbers is a value array x and k tangent
 * rows t[0..k) of the same shape (row j: the derivative along direction j).
 *
 * Calling convention of a loop (NumPy's 1-D ufunc loop convention):
 *
 *     void loop(dual_intp n, char **p, const dual_intp *s, const void *ctx);
 *
 * n elements; p[i] the data pointer of operand i and s[i] its stride in
 * bytes (any value, 0 for a broadcast operand, negative allowed; operands
 * may be misaligned); ctx NULL, or for a rule with a parameter (the DUAL_UNARY_P rows
 * of dual_rules.def: leaky_relu's slope, elu's alpha) a pointer to that
 * double.  Operands,
 * in this order, for every rule f of dual_rules.def:
 *
 *   unary   dual_loop_f_v  {x, y}            values only
 *           dual_loop_f_t  {x, t, y, ty}     value and one tangent (k = 1)
 *           dual_loop_f_d  {x, y, d}         value and partial dy/dx
 *   binary  dual_loop_f_v  {a, b, y}
 *           dual_loop_f_t  {a, ta, b, tb, y, ty}
 *           dual_loop_f_ta {a, ta, b, y, ty}        (b constant)
 *           dual_loop_f_tb {a, b, tb, y, ty}        (a constant)
 *           dual_loop_f_d  {a, b, y, da, db}, dual_loop_f_da {a, b, y, da},
 *           dual_loop_f_db {a, b, y, db}
 *
 * Tangents follow the zero-tangent convention of dual.h (a zero tangent
 * contributes 0 even where the partial is inf or nan).  For k > 1 tangents
 * run dual_rows_* with a dual_rows_ctx (the rule's _d/_da/_db loop and the
 * byte stride between tangent rows) as ctx; dual_apply runs any loop over
 * an n-d index space (broadcasting by 0-strides).  dual_find_unary /
 * dual_find_binary look the loops of a rule up by name.
 *
 * In-place use: every loop reads all inputs of element i before writing
 * output i, so an output may be the very same view as an input; partial
 * overlaps are the caller's business (copy the input first).  The loops
 * hold no state: any thread may call any loop at any time.
 */
#ifndef DUALML_DUAL_KERNELS_H
#define DUALML_DUAL_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef ptrdiff_t dual_intp;
typedef void (*dual_loop)(dual_intp n, char **p, const dual_intp *s, const void *ctx);

#define DUAL_BLOCK   256      /* elements per block of the row drivers; a multiple of 8 */
#define DUAL_MAXDIMS 64       /* dual_apply: at most this many dimensions */
#define DUAL_MAXOPS  8        /*             and this many operands */

/* ---- the loops of every rule (names and operands: see above) --------- */

#define DUAL_KERNELS_DECLARE_UNARY(name)                                     \
    void dual_loop_##name##_v(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_t(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_d(dual_intp n, char **p, const dual_intp *s, const void *ctx);
#define DUAL_KERNELS_DECLARE_BINARY(name)                                    \
    void dual_loop_##name##_v(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_t(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_ta(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_tb(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_d(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_da(dual_intp n, char **p, const dual_intp *s, const void *ctx); \
    void dual_loop_##name##_db(dual_intp n, char **p, const dual_intp *s, const void *ctx);
#define DUAL_UNARY(name, value, deriv, nested) DUAL_KERNELS_DECLARE_UNARY(name)
#define DUAL_UNARY_P(name, value, deriv, nested) DUAL_KERNELS_DECLARE_UNARY(name)
#define DUAL_UNARY_FN(name, nested) DUAL_KERNELS_DECLARE_UNARY(name)
#define DUAL_BINARY(name, value, da, db, nested_da, nested_db) DUAL_KERNELS_DECLARE_BINARY(name)
#include "dual_rules.def"
#undef DUAL_UNARY
#undef DUAL_UNARY_P
#undef DUAL_UNARY_FN
#undef DUAL_BINARY

/* ---- lookup by name --------------------------------------------------- */

typedef struct dual_unary_loops {
    dual_loop v, t, d;
} dual_unary_loops;

typedef struct dual_binary_loops {
    dual_loop v, t, ta, tb, d, da, db;
} dual_binary_loops;

/* The loops of the unary rule `name` (dualml's name: "exp", "arctan").
   Returns 0 if there is no such rule (*out untouched), 1 for a rule of one
   argument, 2 for a rule with a parameter (its loops read a double from
   ctx; NULL gives nan). */
int dual_find_unary(const char *name, dual_unary_loops *out);

/* The loops of the binary rule `name` ("multiply", "hypot"): 1, or 0 if
   there is no such rule. */
int dual_find_binary(const char *name, dual_binary_loops *out);

/* ---- k > 1 tangents ----------------------------------------------------- */

/* ctx of the row drivers: per block of DUAL_BLOCK elements the value and
   the partials are computed once (dloop, into a stack buffer) and then the
   k tangent rows of the block are scaled. */
typedef struct dual_rows_ctx {
    dual_loop dloop;          /* the rule's f_d (unary) or f_d/f_da/f_db loop */
    const void *dctx;         /* its context (the rule's parameter) */
    dual_intp k;              /* number of tangent rows */
    dual_intp row[3];         /* byte strides between tangent rows, in order
                                 of the tangent operands (inputs, then output) */
} dual_rows_ctx;

/* unary, operands {x, t, y, ty}; dloop is f_d */
void dual_rows_unary(dual_intp n, char **p, const dual_intp *s, const void *ctx);
/* binary, operands {a, ta, b, tb, y, ty}; dloop is f_d */
void dual_rows_binary(dual_intp n, char **p, const dual_intp *s, const void *ctx);
/* binary, operands {a, ta, b, y, ty}; dloop is f_da */
void dual_rows_binary_a(dual_intp n, char **p, const dual_intp *s, const void *ctx);
/* binary, operands {a, b, tb, y, ty}; dloop is f_db */
void dual_rows_binary_b(dual_intp n, char **p, const dual_intp *s, const void *ctx);

/* The same drivers (unary, binary, binary_a, binary_b) that also report whether a
   product may be one a rule's tangent column replaces (dual.h:
   dual_offrange_): offrange is set to 1 if so, and the caller redoes those
   rows with the rule's k = 1 loop (dual_<f>_t), which applies the column
   per element.  Set offrange to 0 before the call. */
typedef struct dual_rows_chk_ctx {
    dual_rows_ctx rc;
    int offrange;
} dual_rows_chk_ctx;
void dual_rows_unary_chk(dual_intp n, char **p, const dual_intp *s, const void *ctx);
void dual_rows_binary_chk(dual_intp n, char **p, const dual_intp *s, const void *ctx);
void dual_rows_binary_a_chk(dual_intp n, char **p, const dual_intp *s, const void *ctx);
void dual_rows_binary_b_chk(dual_intp n, char **p, const dual_intp *s, const void *ctx);

/* ---- the n-d driver ----------------------------------------------------- */

/* Run loop over the index space shape[0..nd) (C order), operand op at
   base[op] with byte strides strides[op * nd + dim] (nd <= DUAL_MAXDIMS,
   nop <= DUAL_MAXOPS).  Unit dimensions are dropped and neighbours that
   are contiguous for every operand merged, so contiguous arrays of any
   shape make a single call; an empty shape runs nothing. */
void dual_apply(int nd, const dual_intp *shape, int nop, char *const *base,
                const dual_intp *strides, dual_loop loop, const void *ctx);

/* ---- SIMD (libmvec) ----------------------------------------------------- */

/* Where dual_kernels.c is compiled with DUALML_LIBMVEC defined on x86-64
   glibc >= 2.35 (and linked with -lmvec -lm), the transcendental functions
   of some unary rules have loops that evaluate 4 (AVX2) or 8 (AVX-512) at
   a time through glibc's libmvec, accurate to 4 ulp; the derivative
   arithmetic is the table's.  Elsewhere only DUAL_SIMD_NONE exists, and
   the plain loops are bit for bit the scalar rules of dual.h. */
#define DUAL_SIMD_NONE   0
#define DUAL_SIMD_AVX2   1
#define DUAL_SIMD_AVX512 2

/* the best level this CPU and build support */
int dual_simd_detect(void);

/* The SIMD loops of unary rule `name` at `level`: returns 1 and sets v, t,
   d; 0 if the rule has no SIMD loops in this build or level is
   DUAL_SIMD_NONE.  The caller checks level <= dual_simd_detect(). */
int dual_simd_unary(const char *name, int level, dual_loop *v, dual_loop *t,
                    dual_loop *d);

/* A SIMD rule's block function: y[0..m) = f(x) and, d not NULL,
   d[0..m) = f'(x) for contiguous x, y, d apart from each other, m <=
   DUAL_BLOCK, at libmvec width lv.  NULL if the rule has none here. */
typedef void (*dual_block_fn)(int lv, dual_intp m, const double *x, double *y, double *d);
dual_block_fn dual_simd_block(const char *name);

/* What the row drivers do for a unary SIMD rule on one contiguous block,
   without the n-d driver and the loop wrappers: y = f(x), the k rows
   ty[j] = scale(f'(x), t[j]) (row j at t + j rt, ty + j rty; each row
   contiguous), for n <= DUAL_BLOCK and outputs apart from the inputs.
   check: the rule has a tangent column, and this is dual_rows_unary_chk's
   work (a partial off the normal range returns 1 and the caller redoes the
   rows with the rule's fused loop); else dual_rows_unary's.  Returns 0 when
   done, -1 if blk is NULL or n too large (nothing written). */
int dual_rows_unary_direct(dual_block_fn blk, int lv, int check, dual_intp n, dual_intp k,
                           const double *x, const char *t, dual_intp rt,
                           double *y, char *ty, dual_intp rty);

/* dual_rows_binary's work (check: dual_rows_binary_chk's, for a rule with
   a tangent column) for two dual operands on one contiguous block, without
   the n-d driver: dloop (the rule's f_d loop: y, da, db) then the k rows
   ty[j] = scale(da, ta[j]) + scale(db, tb[j]).  n <= DUAL_BLOCK, every
   operand contiguous and of one shape, outputs apart from the inputs.
   Returns 0 when done, 1 when check finds a partial off the normal range
   (the caller redoes the rows with the fused loop), -1 if n is too large
   (nothing written). */
int dual_rows_binary_direct(dual_loop dloop, int check, dual_intp n, dual_intp k,
                            const double *a, const char *ta, dual_intp rta,
                            const double *b, const char *tb, dual_intp rtb,
                            double *y, char *ty, dual_intp rty);

/* dual_rows_binary_a's / _b's work (check: the _chk variants') for one
   dual operand on one block, without the n-d driver: dloop (the rule's
   f_da or f_db loop: y and the partial of the dual operand) then the k rows
   ty[j] = scale(d, t[j]).  a and b are n contiguous values (sa, sb = 8) or
   one value broadcast (0); the tangent rows and the outputs contiguous and
   apart from the inputs; n <= DUAL_BLOCK.  Returns 0 when done, 1 when
   check finds a partial off the normal range (the caller redoes the rows
   with the fused loop), -1 if n is too large (nothing written). */
int dual_rows_binary1_direct(dual_loop dloop, int check, dual_intp n, dual_intp k,
                             const double *a, dual_intp sa, const double *b, dual_intp sb,
                             const char *t, dual_intp rt, double *y, char *ty, dual_intp rty);

/* add (sub 0) or subtract (sub 1) with both operands dual, every operand
   contiguous and of one shape (no broadcasting), outputs apart from the
   inputs: y = a +- b and each row ty[j] = scale(1, ta[j]) + scale(+-1,
   tb[j]), the row drivers' bits, computed as (ta[j] +- tb[j]) + 0.0 (the
   partials are the constants 1 and +-1; adding +0.0 turns the -0.0 of
   -0 +- +-0 into the +0.0 of dual_scale's zero-tangent convention and
   leaves every other result, nan included, as it is).  Row j at
   ta + j rta, tb + j rtb, ty + j rty (bytes).  Returns 0; 1 if a value is
   a domain error (inf - inf: nan partials, dual_nanprop), the rows then
   left to the row drivers (y is written either way). */
int dual_addsub_rows(int sub, dual_intp n, dual_intp k, const double *a, const char *ta,
                     dual_intp rta, const double *b, const char *tb, dual_intp rtb,
                     double *y, char *ty, dual_intp rty);

/* ---- second order (dualml's hessian rows) ------------------------------ */

#define DUAL_O2_BLOCK 256

/* H[i - i0, j, e] += coef[e] gl[i, e] gr[j, e] for i in [i0, i1), j < k,
   e < n (H's rows m elements apart, gl's sl and gr's sr): one curvature
   term of the hessian rows.  Zero-tangent convention: a zero factor gl or
   gr contributes 0, even where coef is inf or nan. */
void dual_o2_acc(ptrdiff_t n, ptrdiff_t m, ptrdiff_t k, ptrdiff_t i0, ptrdiff_t i1,
                 double *H, const double *gl, ptrdiff_t sl, const double *gr,
                 ptrdiff_t sr, const double *coef);

/* ---- small matrix products (the tangent terms of @ and dot) ------------ */

/* C = A @ B: A (M x K) at element strides (a0, a1), B (K x N) at (b0, b1),
   C (M x N) in contiguous rows, apart from A and B.  Every element is
   ((0 + A[r,0] B[0,c]) + A[r,1] B[1,c]) + ... in the order of the summed
   index, without FMA (-ffp-contract=off), and every nan stored as +nan:
   its bits depend on its operands only, not on M, the strides, the
   batching or the SIMD width, so every path that forms the same product
   gets the same bits.  scratch: room for
   K * N doubles, used when B's rows are not contiguous (b1 != 1). */
void dual_matmul_small(ptrdiff_t M, ptrdiff_t K, ptrdiff_t N, const double *A, ptrdiff_t a0,
                       ptrdiff_t a1, const double *B, ptrdiff_t b0, ptrdiff_t b1, double *C,
                       double *scratch);

#ifdef __cplusplus
}
#endif

#endif /* DUALML_DUAL_KERNELS_H */
