# dualml/kernels.pxd -- dualml's array kernels (csrc/dual_kernels.h) for Cython.
#
# A declarations-only .pxd: cimporting it imports no Python module.  The
# definitions are C (dual_kernels.c, shipped in dualml.get_include()), which
# the cimporting extension compiles in itself:
#     Extension(..., sources=["myext.pyx", *dualml.get_kernel_sources()],
#               include_dirs=[dualml.get_include()], libraries=["m"])
# The calling convention (operands, strides in bytes, the zero-tangent rule,
# k > 1 tangent rows) is documented at the top of dual_kernels.h and in
# docs/guide/embedding.md.  Every function is nogil and holds no state.

cdef extern from "dual_kernels.h" nogil:
    ctypedef Py_ssize_t dual_intp
    # loop(n, p, s, ctx): n elements, p[i] operand pointers, s[i] byte strides
    ctypedef void (*dual_loop)(dual_intp n, char **p, const dual_intp *s,
                               const void *ctx) noexcept nogil

    enum:
        DUAL_BLOCK
        DUAL_MAXDIMS
        DUAL_MAXOPS
        DUAL_SIMD_NONE
        DUAL_SIMD_AVX2
        DUAL_SIMD_AVX512

    # the loops of one rule; operands per kind in dual_kernels.h
    ctypedef struct dual_unary_loops:
        dual_loop v             # {x, y}
        dual_loop t             # {x, t, y, ty}
        dual_loop d             # {x, y, d}
    ctypedef struct dual_binary_loops:
        dual_loop v             # {a, b, y}
        dual_loop t             # {a, ta, b, tb, y, ty}
        dual_loop ta            # {a, ta, b, y, ty}
        dual_loop tb            # {a, b, tb, y, ty}
        dual_loop d             # {a, b, y, da, db}
        dual_loop da            # {a, b, y, da}
        dual_loop db            # {a, b, y, db}

    # 0: no such rule; 1: found; 2 (unary): found, the loops read a double
    # parameter from ctx
    int dual_find_unary(const char *name, dual_unary_loops *out)
    int dual_find_binary(const char *name, dual_binary_loops *out)

    # k > 1 tangent rows: pass a dual_rows_ctx as the ctx of these drivers
    ctypedef struct dual_rows_ctx:
        dual_loop dloop         # the rule's d (unary), d, da or db loop
        const void *dctx        # its ctx (the rule's parameter or NULL)
        dual_intp k             # number of tangent rows
        dual_intp row[3]        # byte strides between tangent rows (inputs, then output)
    void dual_rows_unary(dual_intp n, char **p, const dual_intp *s, const void *ctx)
    void dual_rows_binary(dual_intp n, char **p, const dual_intp *s, const void *ctx)
    void dual_rows_binary_a(dual_intp n, char **p, const dual_intp *s, const void *ctx)
    void dual_rows_binary_b(dual_intp n, char **p, const dual_intp *s, const void *ctx)

    # run loop over shape[0..nd), operand op at base[op] with byte strides
    # strides[op * nd + dim] (0 broadcasts)
    void dual_apply(int nd, const dual_intp *shape, int nop, char **base,
                    const dual_intp *strides, dual_loop loop, const void *ctx)

    # libmvec loops (only where dual_kernels.c is built with DUALML_LIBMVEC)
    int dual_simd_detect()
    int dual_simd_unary(const char *name, int level, dual_loop *v, dual_loop *t,
                        dual_loop *d)
