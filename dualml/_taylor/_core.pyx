# cython: language_level=3, binding=True, embedsignature=True
# cython: cdivision=True, boundscheck=False, wraparound=False
"""The Taylor scalar type and the array drivers over csrc/taylor.h.

Design
------
* The numerics are csrc/taylor.h only: one C function per row of the rule
  table, reached through its tables (taylor_unary_table & co, in the order
  of dualml.UNARY / UNARY_PARAM / BINARY; checked at import).  The scalar
  type calls a rule on its own coefficient vector; the array drivers call
  the same rule through taylor_*_loop over n points.  One source of truth.
* A Taylor holds K+1 doubles (inline up to degree 15, else PyMem) and a tag:
  each dualml.taylor call draws a new one, and operands of different tags
  (two nested Taylor-mode calls) or a Dual raise instead of mixing.
* No silent loss: float(), int(), complex() raise; Taylor is unhashable.
"""

cimport cython
from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.string cimport memcpy

import numpy as np

__all__ = ["Taylor"]

cdef extern from "taylor.h" nogil:
    int TAYLOR_MAX_DEGREE
    int TAYLOR_N_UNARY, TAYLOR_N_UNARY_P, TAYLOR_N_BINARY
    ctypedef void (*taylor_unary_fn)(int K, const double *x, double p, double *y)
    ctypedef void (*taylor_binary_fn)(int K, const double *a, const double *b, double *y)
    const taylor_unary_fn taylor_unary_table[]
    const taylor_unary_fn taylor_unary_p_table[]
    const taylor_binary_fn taylor_binary_table[]
    const char *const taylor_unary_names[]
    const char *const taylor_unary_p_names[]
    const char *const taylor_binary_names[]
    void taylor_unary_loop(taylor_unary_fn f, int K, Py_ssize_t n, double p,
                           const double *x, Py_ssize_t xk, Py_ssize_t xi,
                           double *y, Py_ssize_t yk, Py_ssize_t yi)
    void taylor_binary_loop(taylor_binary_fn f, int K, Py_ssize_t n,
                            const double *a, Py_ssize_t ak, Py_ssize_t ai,
                            const double *b, Py_ssize_t bk, Py_ssize_t bi,
                            double *y, Py_ssize_t yk, Py_ssize_t yi)

# inline coefficients up to degree 15; _N: TAYLOR_MAX_DEGREE + 1, the
# size of the C rules' stack temporaries (checked below)
cdef enum:
    _SMALL = 16
    _N = 129

MAX_ORDER = TAYLOR_MAX_DEGREE
UNARY_RULES = tuple(taylor_unary_names[i].decode() for i in range(TAYLOR_N_UNARY))
UNARY_PARAM_RULES = tuple(taylor_unary_p_names[i].decode() for i in range(TAYLOR_N_UNARY_P))
BINARY_RULES = tuple(taylor_binary_names[i].decode() for i in range(TAYLOR_N_BINARY))
_U = {n: i for i, n in enumerate(UNARY_RULES)}
_UP = {n: i for i, n in enumerate(UNARY_PARAM_RULES)}
_B = {n: i for i, n in enumerate(BINARY_RULES)}
assert TAYLOR_MAX_DEGREE + 1 == _N

cdef int _ADD = _B["add"], _SUB = _B["subtract"], _MUL = _B["multiply"]
cdef int _DIV = _B["divide"], _POW = _B["power"], _FLOORDIV = _B["floor_divide"]
cdef int _MOD = _B["remainder"]
cdef int _NEG = _U["negative"], _POS = _U["positive"], _ABS = _U["absolute"]

# 0: Taylors users make; >= 1: one per dualml.taylor call
cdef unsigned long long _tag_counter = 0


def _new_tag():
    global _tag_counter
    _tag_counter += 1
    return _tag_counter


cdef class Taylor:
    """Taylor(coefficients)

    A truncated Taylor polynomial c[0] + c[1] t + ... + c[K] t^K carried
    through arithmetic, dualml's functions and NumPy's ufuncs (Taylor mode).

    dualml.taylor and dualml.derivative(f, x, n=K) make these; build one
    yourself only to evaluate a function on a known series.

    Parameters
    ----------
    coefficients : sequence of float, length K + 1
        The normalized coefficients c[k] = x^(k)(0) / k!, 0 <= K <= 128.

    Raises
    ------
    TypeError
        On float(t), int(t), complex(t) (they would drop the higher
        coefficients: use t.value), or an operation with a Dual or a
        Taylor of another dualml.taylor call.

    See Also
    --------
    dualml.taylor, dualml.derivative

    Examples
    --------
    >>> import dualml
    >>> t = dualml.Taylor([0.0, 1.0, 0.0, 0.0])      # t itself, to degree 3
    >>> dualml.exp(t).coefficients.tolist()
    [1.0, 1.0, 0.5, 0.16666666666666666]
    """

    # custom_jvp recognises Taylor mode by this marker: a user rule given
    # with taylor= runs, and a primitive without one raises instead of
    # running its body on a Taylor
    __dualml_taylor__ = True
    cdef int K
    cdef unsigned long long tag
    cdef double *c
    cdef double buf[_SMALL]

    def __cinit__(self):
        self.c = self.buf
        self.K = 0

    def __dealloc__(self):
        if self.c != self.buf and self.c != NULL:
            PyMem_Free(self.c)
        self.c = NULL

    def __init__(self, coefficients):
        a = np.asarray(coefficients, dtype=np.float64)
        if a.ndim != 1 or a.shape[0] < 1:
            raise ValueError("Taylor(): coefficients must be a non-empty 1-d sequence")
        _alloc(self, a.shape[0] - 1)
        for k in range(self.K + 1):
            self.c[k] = a[k]

    # -- accessors -------------------------------------------------------------------
    @property
    def coefficients(self):
        """The K + 1 normalized coefficients, a new float64 array."""
        out = np.empty(self.K + 1)
        cdef double[::1] o = out
        cdef int k
        for k in range(self.K + 1):
            o[k] = self.c[k]
        return out

    @property
    def value(self):
        """c[0], the value at t = 0."""
        return self.c[0]

    @property
    def order(self):
        """K, the degree carried."""
        return self.K

    def __repr__(self):
        return f"Taylor({self.coefficients.tolist()!r})"

    # -- no silent loss ----------------------------------------------------------------
    def __float__(self):
        raise TypeError(_LOSS.format(what="float()"))

    def __int__(self):
        raise TypeError(_LOSS.format(what="int()"))

    def __index__(self):
        raise TypeError(_LOSS.format(what="int()"))

    def __complex__(self):
        raise TypeError(_LOSS.format(what="complex()"))

    __hash__ = None

    def __bool__(self):
        return self.c[0] != 0.0

    # comparisons and predicates look at the value, as branches in f need
    def __richcmp__(self, other, int op):
        cdef double o
        if isinstance(other, Taylor):
            o = (<Taylor>other).c[0]
        else:
            c = _real(other)
            if c is None:
                return NotImplemented
            o = c
        v = self.c[0]
        if op == 0:
            return v < o
        if op == 1:
            return v <= o
        if op == 2:
            return v == o
        if op == 3:
            return v != o
        if op == 4:
            return v > o
        return v >= o

    # -- arithmetic --------------------------------------------------------------------
    def __add__(self, other):
        return _binary(_ADD, self, other)

    def __radd__(self, other):
        return _binary(_ADD, other, self)

    def __sub__(self, other):
        return _binary(_SUB, self, other)

    def __rsub__(self, other):
        return _binary(_SUB, other, self)

    def __mul__(self, other):
        return _binary(_MUL, self, other)

    def __rmul__(self, other):
        return _binary(_MUL, other, self)

    def __truediv__(self, other):
        return _binary(_DIV, self, other)

    def __rtruediv__(self, other):
        return _binary(_DIV, other, self)

    def __floordiv__(self, other):
        return _binary(_FLOORDIV, self, other)

    def __rfloordiv__(self, other):
        return _binary(_FLOORDIV, other, self)

    def __mod__(self, other):
        return _binary(_MOD, self, other)

    def __rmod__(self, other):
        return _binary(_MOD, other, self)

    def __pow__(self, other, mod):
        if mod is not None:
            return NotImplemented
        return _binary(_POW, self, other)

    def __rpow__(self, other, mod):
        if mod is not None:
            return NotImplemented
        return _binary(_POW, other, self)

    def __neg__(self):
        return _unary(_NEG, self, 0.0, False)

    def __pos__(self):
        return _unary(_POS, self, 0.0, False)

    def __abs__(self):
        return _unary(_ABS, self, 0.0, False)

    # -- NumPy and dualml protocols -------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        from . import _array
        return _array.array_ufunc(ufunc, method, inputs, kwargs)

    def __dualml_function__(self, name, args, kwargs):
        """dualml.<name>(...) with a Taylor argument (the core's hook)."""
        cdef Py_ssize_t n = len(args)
        if not kwargs:
            if n == 1:
                i = _U.get(name)
                if i is not None:
                    return _unary(<int>i, self, 0.0, False)
            elif n == 2:
                i = _B.get(name)
                if i is not None:
                    r = _binary(<int>i, args[0], args[1])
                    if r is not NotImplemented:
                        return r
        from . import _array
        return _array.dualml_function(name, args, kwargs)

    def __getattr__(self, name):
        # np.exp on an object array of Taylors calls t.exp()
        if name in _U or name in _UP:
            import dualml
            f = getattr(dualml, name)
            return lambda *a: f(self, *a)
        raise AttributeError(f"'Taylor' object has no attribute {name!r}")

    def __reduce__(self):
        return (_rebuild, (self.coefficients, self.tag))


def _rebuild(coefficients, tag):
    t = Taylor(coefficients)
    t.tag = tag
    return t


_LOSS = ("{what} of a Taylor would drop its higher coefficients (the derivatives). "
         "Use t.value if you mean the value; inside a function given to dualml.taylor "
         "or dualml.derivative(..., n=K) use dualml's functions or NumPy's, not the "
         "math module")


cdef int _alloc(Taylor t, int K) except -1:
    if K < 0 or K > TAYLOR_MAX_DEGREE:
        raise ValueError(f"Taylor mode carries degree 0..{TAYLOR_MAX_DEGREE}, got {K}")
    if t.c != t.buf:                    # __init__ called again on a built Taylor
        PyMem_Free(t.c)
        t.c = t.buf
        t.K = 0
    if K >= _SMALL:
        t.c = <double *>PyMem_Malloc((K + 1) * sizeof(double))
        if t.c == NULL:
            t.c = t.buf
            raise MemoryError()
    t.K = K
    return 0


cdef Taylor _new(int K, unsigned long long tag):
    cdef Taylor t = Taylor.__new__(Taylor)
    _alloc(t, K)
    t.tag = tag
    return t


def _make(coefficients, unsigned long long tag):
    """A Taylor of the given tag from a 1-d float array (internal)."""
    cdef double[::1] a = np.ascontiguousarray(coefficients, dtype=np.float64)
    cdef Taylor t = _new(a.shape[0] - 1, tag)
    cdef int k
    for k in range(t.K + 1):
        t.c[k] = a[k]
    return t


def _tag(Taylor t):
    return t.tag


cdef object _real(object x):
    """float for a real number that is neither a Dual nor a Taylor, else None."""
    if type(x) is float:
        return x
    if isinstance(x, (int, float)):
        return float(x)
    if isinstance(x, np.generic) and x.dtype.kind in "biuf":
        return float(x)
    return None


cdef object _mixing_error(object other):
    from ..dual import Dual
    if isinstance(other, Dual):
        return TypeError("a Taylor and a Dual cannot meet in one operation: Taylor mode "
                         "(dualml.taylor, derivative(..., n >= 3)) does not nest with the "
                         "Dual's derivative/gradient; differentiate with one of them")
    return None


cdef int _operand(Taylor like, object o, double *tmp, const double **out) except -1:
    """1 with *out set, 0 for NotImplemented; raises on a mix."""
    cdef Taylor t
    cdef int k
    if isinstance(o, Taylor):
        t = <Taylor>o
        if t.tag != like.tag:
            raise TypeError("Taylor operands of two different dualml.taylor calls (nested "
                            "Taylor mode) cannot be combined; nest dualml.derivative "
                            "(n <= 2) instead, or pass the outer variable as an argument")
        if t.K != like.K:
            raise ValueError(f"Taylor operands of degree {like.K} and {t.K}; use one order")
        out[0] = t.c
        return 1
    c = _real(o)
    if c is None:
        err = _mixing_error(o)
        if err is not None:
            raise err
        return 0
    tmp[0] = c
    for k in range(1, like.K + 1):
        tmp[k] = 0.0
    out[0] = tmp
    return 1


cdef object _binary(int rule, object a, object b):
    cdef double ta[_N]
    cdef double tb[_N]
    cdef const double *pa
    cdef const double *pb
    if not isinstance(a, Taylor) and not isinstance(b, Taylor):
        return NotImplemented
    cdef Taylor like = <Taylor>(a if isinstance(a, Taylor) else b)
    if not _operand(like, a, ta, &pa) or not _operand(like, b, tb, &pb):
        return NotImplemented
    cdef Taylor r = _new(like.K, like.tag)
    taylor_binary_table[rule](like.K, pa, pb, r.c)
    return r


cdef object _unary(int rule, Taylor x, double p, bint param):
    cdef Taylor r = _new(x.K, x.tag)
    if param:
        taylor_unary_p_table[rule](x.K, x.c, p, r.c)
    else:
        taylor_unary_table[rule](x.K, x.c, p, r.c)
    return r


def _apply_scalar(str name, tuple args, double p=0.0):
    """dualml.<name> on Taylor scalars and real numbers (NotImplemented for others)."""
    if name in _U:
        return _unary(<int>_U[name], <Taylor>args[0], 0.0, False)
    if name in _UP:
        return _unary(<int>_UP[name], <Taylor>args[0], p, True)
    return _binary(<int>_B[name], args[0], args[1])


# -- the array drivers: coefficient arrays shaped (K + 1, n) ---------------------

def _unary_array(str name, object c, double p=0.0):
    """Rule `name` over a float64 coefficient array (K + 1, ...) -> same shape."""
    cdef taylor_unary_fn f
    if name in _U:
        f = taylor_unary_table[<int>_U[name]]
    else:
        f = taylor_unary_p_table[<int>_UP[name]]
    x = np.ascontiguousarray(c, dtype=np.float64)
    out = np.empty_like(x)
    cdef int K = x.shape[0] - 1
    cdef Py_ssize_t n = x.size // (K + 1)
    if K > TAYLOR_MAX_DEGREE:
        raise ValueError(f"Taylor mode carries degree 0..{TAYLOR_MAX_DEGREE}, got {K}")
    if n == 0:
        return out
    cdef const double[:, ::1] xv = x.reshape(K + 1, n)
    cdef double[:, ::1] yv = out.reshape(K + 1, n)
    with nogil:
        taylor_unary_loop(f, K, n, p, &xv[0, 0], n, 1, &yv[0, 0], n, 1)
    return out


def _binary_array(str name, object a, object b):
    """Rule `name` over two float64 coefficient arrays of one shape (K + 1, ...)."""
    cdef taylor_binary_fn f = taylor_binary_table[<int>_B[name]]
    x = np.ascontiguousarray(a, dtype=np.float64)
    z = np.ascontiguousarray(b, dtype=np.float64)
    if x.shape != z.shape:
        raise ValueError("internal: coefficient arrays of different shapes")
    out = np.empty_like(x)
    cdef int K = x.shape[0] - 1
    cdef Py_ssize_t n = x.size // (K + 1)
    if K > TAYLOR_MAX_DEGREE:
        raise ValueError(f"Taylor mode carries degree 0..{TAYLOR_MAX_DEGREE}, got {K}")
    if n == 0:
        return out
    cdef const double[:, ::1] av = x.reshape(K + 1, n)
    cdef const double[:, ::1] bv = z.reshape(K + 1, n)
    cdef double[:, ::1] yv = out.reshape(K + 1, n)
    with nogil:
        taylor_binary_loop(f, K, n, &av[0, 0], n, 1, &bv[0, 0], n, 1, &yv[0, 0], n, 1)
    return out


# -- the n-th derivative of a scalar function (dualml.derivative(f, x, n=K)) -----

def derivative_n(f, x, tuple args, object n):
    """f^(n)(x) for a float x: the seed and the read-back in C, the rest (arrays,
    sequences, errors) through api.directional_derivative."""
    cdef Taylor seed, r
    cdef double fact = 1.0
    cdef int k, K
    if type(x) is float and 1 <= n <= TAYLOR_MAX_DEGREE:
        K = n
        seed = _new(K, _new_tag())
        seed.c[0] = <double>x
        seed.c[1] = 1.0
        for k in range(2, K + 1):
            seed.c[k] = 0.0
        out = f(seed, *args)
        if type(out) is Taylor and (<Taylor>out).tag == seed.tag and (<Taylor>out).K == K:
            r = <Taylor>out
            for k in range(2, K + 1):
                fact *= k
            return r.c[K] * fact
        from .api import _read_derivative
        return _read_derivative(out, n, seed.tag)
    from .api import _derivative_n
    return _derivative_n(f, x, args, n)
