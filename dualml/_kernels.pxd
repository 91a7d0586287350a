# C-level entry points of dualml._kernels for other Cython modules (the
# DualArray core, dualml/arrays/_core.pyx): the rule lookup and the loop
# drivers, without Python objects in between.  Operands travel as data
# pointers and byte strides over one index space, so a caller broadcasts by
# passing 0-strides instead of building views.

# the rule index of a unary / binary rule name (ValueError for an unknown one)
cdef Py_ssize_t _unary_index(object name) except -1
cdef Py_ssize_t _binary_index(object name) except -1
# the parameter of a unary rule (None: the rule's default)
cdef double _param_of(Py_ssize_t i, object param) except? -1.0

# Unary rule i over shape[0..nd): operands {x, t, y, ty} at base[0..4) with
# strides[op * nd + dim]; rows = {row stride of t, of ty}.  k < 1: values
# only (t and ty are not touched and may be NULL).
cdef void run_unary(Py_ssize_t i, double p, int nd, const Py_ssize_t *shape,
                    Py_ssize_t k, char **base, const Py_ssize_t *strides,
                    const Py_ssize_t *rows) noexcept

# Binary rule i: operands {a, ta, b, tb, y, ty} at base[0..6); `which` says
# which tangents exist (1: ta, 2: tb, 3: both); rows = {ta, tb, ty row
# strides}.  k < 1 or which == 0: values only.
cdef void run_binary(Py_ssize_t i, int nd, const Py_ssize_t *shape, Py_ssize_t k,
                     int which, char **base, const Py_ssize_t *strides,
                     const Py_ssize_t *rows) noexcept

# C = A @ B for the tangent terms of products (csrc/dual_kernels.h,
# dual_matmul_small: every element summed in the order of the summed index,
# the same bits whatever the layout); strides in elements, C contiguous rows,
# scratch K * N doubles when b1 != 1.
cdef void matmul_small(Py_ssize_t M, Py_ssize_t K, Py_ssize_t N, const double *A,
                       Py_ssize_t a0, Py_ssize_t a1, const double *B, Py_ssize_t b0,
                       Py_ssize_t b1, double *C, double *scratch) noexcept nogil

# Hessian rows (see o2_unary / o2_binary): contiguous x (m elements),
# gradient rows g (k rows of m contiguous elements, gs elements apart), H the
# rows (m elements apart) after the gradient rows: (i1 - i0) * k of them, the
# pairs (i, j) for i in [i0, i1) and j < k -- with tri only j >= i, the
# upper triangle -- i major.
cdef int o2_unary_c(Py_ssize_t i, double p, Py_ssize_t m, const double *x,
                    const double *g, Py_ssize_t gs, double *H, Py_ssize_t k,
                    Py_ssize_t i0, Py_ssize_t i1, bint tri) except -1
cdef int o2_binary_c(Py_ssize_t i, Py_ssize_t m, const double *a, const double *b,
                     const double *ga, Py_ssize_t gas, const double *gb, Py_ssize_t gbs,
                     double *H, Py_ssize_t k, Py_ssize_t i0, Py_ssize_t i1,
                     bint tri) except -1
