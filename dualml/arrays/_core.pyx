# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: binding=True, embedsignature=True, initializedcheck=False
"""The DualArray extension type: its storage in C fields, the hot operations in C.

Design
------
a. A DualArray is five fields (see d. for how the first two are stored):
   ``_v`` the values (a float64 ndarray of any
   shape, or a DualArray of an outer level when nested), ``_d`` the tangent
   rows ``(k,) + shape`` (direction axis first), ``_tag`` the perturbation
   tag, ``_o2`` the layout ``(k, i0, i1)`` or ``(k, i0, i1, True)`` (the
   upper triangle) of hessian's second-order rows (None for first order;
   see arrays._second_order), and ``_eye``, the read-only identity seed of a
   jacobian pass while ``_d`` is that very array, so ``W @ x`` can skip a
   product with I -- state on the object, so concurrent passes in a thread
   pool never see each other's seed.
b. Fast paths, in this file and the ones it includes, one concern each
   (_core_memory.pxi, _core_elementwise.pxi, _core_indexing.pxi,
   _core_reductions.pxi, _core_blocks.pxi, _core_products.pxi,
   _core_protocols.pxi; one extension module, so they share the type's C
   fields and call each other as C): the operators and in-place operators,
   comparisons, the rule table's ufuncs and ``dualml.<f>``, basic indexing,
   integer and boolean gathers (integer ones along any axis), item
   assignment, sums, means, cumsum, max/min and prod, copies, views, joins
   along any axis, np.where,
   products with constant matrices and of two dual matrices (their tangent
   terms by the one rule of ``_tprod``, shared with the Python paths), the
   NumPy functions of _core_protocols.pxi, and one hessian pass
   (``hessian_pass``), for DualArrays whose components are aligned float64
   ndarrays (first order, and hessian's rows, whose curvature terms come
   from ``_kernels.o2_*_c``).  Operands are classified in C (DualArray /
   float64 ndarray / Python or NumPy scalar), broadcasting is 0-strides
   handed to the loop drivers of ``dualml._kernels`` (no views), and the
   outputs are allocated here.
c. Everything else -- nested levels, n-d fancy indexing, most NumPy
   functions, linear algebra -- is the Python implementation in this
   package, installed at import by ``_install``; a NaN result of a sum or a
   product also goes there (its tangents follow the domain-error rule of
   _shape._domain_nans).  Both give the same bits; the tests compare them
   (tests/test_array_core.py).
d. A small result (under POOL_MIN bytes) is born lazy: its values and
   tangent rows live in one raw block (shape header, then the data) that
   the array owns, and ``_vo``/``_do`` stay None until Python asks for
   ``_v``/``_d``, which hands the block to a ``_Block`` owner and makes the
   two ndarray views on it.  A chain of fast-path operations never builds
   them: at 10 elements x 10 directions the views and their owner cost more
   than the operation's kernel.  The fast paths read either state through
   ``_parts``; the block lives as long as the array (its owner is kept for
   life), so pointers taken from it stay valid whatever Python runs
   meanwhile.
   Dead arrays hand their blocks to a small cache (at most LAZY_SLOTS
   blocks of at most LAZY_MAX bytes) that the next result of the same size
   takes: a chain of small operations needs no malloc and free each.
e. Buffers of at least POOL_MIN bytes come from a small pool of blocks that
   dead arrays released (``_Buffer``): a chain of large operations reuses
   pages the process already touched instead of faulting in fresh ones
   (glibc hands large blocks back to the OS on free, so every temporary of
   a 10^6-element chain would otherwise cost its page faults again).  The
   pool is bounded (POOL_SLOTS blocks, ``set_pool_limit`` bytes in all) and
   only touched with the GIL held.
"""

cimport cython
cimport numpy as cnp
from cpython.object cimport (PyObject, PyTypeObject, PyObject_RichCompare, PyObject_Call,
                             Py_EQ, Py_NE, Py_LT, Py_LE, Py_GT, Py_GE)
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_GET_ITEM, PyTuple_GET_SIZE
from cpython.float cimport PyFloat_AS_DOUBLE
from cpython.long cimport PyLong_AsDouble
from cpython.slice cimport PySlice_Unpack, PySlice_AdjustIndices
from libc.stdlib cimport malloc, free
from libc.stdint cimport int64_t
from cpython.pyport cimport PY_SSIZE_T_MAX
from libc.string cimport memmove, memcpy, memset
from libc.math cimport isfinite, NAN, INFINITY
from cpython.mem cimport PyMem_Malloc, PyMem_Free

from dualml cimport _kernels as K

import os as _os
import threading as _threading

import numpy as np

cnp.import_array()

cdef extern from "numpy/arrayobject.h":
    # (not in Cython's numpy declarations) both steal nothing but the descr
    object _new_from_descr "PyArray_NewFromDescr"(
        PyTypeObject *subtype, void *descr, int nd, cnp.npy_intp *dims,
        cnp.npy_intp *strides, void *data, int flags, PyObject *obj)
    object PyArray_MatrixProduct2(object a, object b, PyObject *out)

cdef extern from "Python.h":
    void PyErr_Clear()
    # tracemalloc sees the pool's blocks while arrays use them, as it sees
    # NumPy's own data (which NumPy reports the same way)
    int PyTraceMalloc_Track(unsigned int domain, size_t ptr, size_t size)
    int PyTraceMalloc_Untrack(unsigned int domain, size_t ptr)

cdef enum:
    TRACE_DOMAIN = 0x64756c6d       # "dulm": dualml's pooled data blocks

cdef extern from *:
    """
    #define DUALML_MAXD 32
    """
    enum: DUALML_MAXD

cdef type ndarray = cnp.ndarray
cdef type _np_float64 = np.float64
cdef object _np_add_accumulate = np.add.accumulate

__all__ = ["DualArray", "set_pool_limit", "get_pool_limit", "copy_pooled"]


include "_core_memory.pxi"


# ---------------------------------------------------------------------------
# The Python implementation (installed by dualml.arrays at import)

cdef object _py = None
cdef list _BINARY_NAMES = []
cdef dict _UFUNC1 = {}          # ufunc -> unary rule index
cdef dict _UFUNC2 = {}          # ufunc -> binary rule index
cdef object _np_matmul = np.matmul
cdef dict _NAME1 = {}           # dualml function name -> unary rule index
cdef dict _NAME2 = {}           # -> binary rule index
cdef dict _DEFAULT_P = {}       # unary rule index -> default parameter
# Second order: does the rule need a curvature term?  [rule] for unary, and
# for binary with both operands dual / only a dual / only b dual.
cdef bint _O2U[128]
cdef bint _O2B[128]
cdef bint _O2BA[128]
cdef bint _O2BB[128]
cdef Py_ssize_t R_ADD, R_SUB, R_MUL, R_DIV, R_POW, R_SQUARE, R_NEG, R_ABS, R_MAX, R_MIN
cdef Py_ssize_t R_REM, R_FDIV, R_RINT


def _install(py, ufuncs, o2_unary, o2_binary, o2_const_a, o2_const_b):
    """Connect the Python implementation (the fallbacks) and the rule maps."""
    global _py, _BINARY_NAMES, R_ADD, R_SUB, R_MUL, R_DIV, R_POW, R_SQUARE, R_NEG, R_ABS
    global R_MAX, R_MIN, R_REM, R_FDIV, R_RINT
    cdef Py_ssize_t i
    _py = py
    from dualml._kernels import UNARY, BINARY
    if len(UNARY) > 128 or len(BINARY) > 128:
        raise RuntimeError("dualml.arrays._core: more than 128 rules of a kind")
    from dualml._kernels import PARAM_DEFAULTS
    for i, name in enumerate(UNARY):
        _O2U[i] = name in o2_unary
        _NAME1[name] = i
        if name in PARAM_DEFAULTS:
            _DEFAULT_P[i] = float(PARAM_DEFAULTS[name])
    _BINARY_NAMES = list(BINARY)
    for i, name in enumerate(BINARY):
        _NAME2[name] = i
        _O2B[i] = name in o2_binary
        _O2BA[i] = name in o2_const_a
        _O2BB[i] = name in o2_const_b
    for uf, name in ufuncs.items():
        if name in UNARY:
            _UFUNC1[uf] = UNARY.index(name)
        else:
            _UFUNC2[uf] = BINARY.index(name)
    # np.float_power is power in float64, the only dtype of a DualArray
    _UFUNC2[np.float_power] = _NAME2["power"]
    R_ADD = K._binary_index("add")
    R_SUB = K._binary_index("subtract")
    R_MUL = K._binary_index("multiply")
    R_DIV = K._binary_index("divide")
    R_POW = K._binary_index("power")
    R_SQUARE = K._unary_index("square")
    R_NEG = K._unary_index("negative")
    R_ABS = K._unary_index("absolute")
    R_MAX = K._binary_index("maximum")
    R_MIN = K._binary_index("minimum")
    R_REM = K._binary_index("remainder")
    R_FDIV = K._binary_index("floor_divide")
    R_RINT = K._unary_index("rint")


# ---------------------------------------------------------------------------
# Construction

cdef inline DualArray _make(object v, object d, unsigned long long tag, object o2):
    # (fields already None are left alone: every INCREF/DECREF of None is a
    # write to one shared cache line, a chain that costs more than the rest
    # of a small operation's bookkeeping)
    cdef DualArray r = DualArray.__new__(DualArray)
    if v is not None:
        r._vo = v
    if d is not None:
        r._do = d
    r._tag = tag
    if o2 is not None:
        r._o2 = o2
    return r


def _new(v, d, tag, o2):
    """The internal constructor: no validation (the operations guarantee it)."""
    return _make(v, d, tag, o2)


def _rebuild(v, d, tag, o2):
    """Unpickle a DualArray."""
    return _make(v, d, tag, o2)


cdef inline bint _flat(DualArray x) noexcept:
    # components are aligned float64 ndarrays (first order, or hessian's
    # rows); an unaligned component (a view of a byte buffer) takes the
    # Python path, whose kernels copy it first
    return x._lz != NULL or (
        type(x._vo) is ndarray and type(x._do) is ndarray
        and cnp.PyArray_ISALIGNED(<cnp.ndarray>x._vo)
        and cnp.PyArray_ISALIGNED(<cnp.ndarray>x._do))


include "_core_elementwise.pxi"
include "_core_indexing.pxi"
include "_core_reductions.pxi"
include "_core_blocks.pxi"
include "_core_products.pxi"
include "_core_protocols.pxi"


# ---------------------------------------------------------------------------
# The type

@cython.final
@cython.freelist(64)
cdef class DualArray:
    """A float64 array of any shape with k tangent directions attached.

    Parameters
    ----------
    value : array_like of real numbers
        The values (integers are promoted to float64; complex is refused).
    deriv : array_like, optional
        The tangents, shape ``(k,) + value.shape`` (direction axis first), or
        ``value.shape`` for a single direction (k = 1).  None: no directions
        (k = 0, a constant).

    Notes
    -----
    ``deriv[j]`` is the derivative of the values along direction j.  NumPy's
    ufuncs and the common array functions propagate the tangents (see
    ``__array_function__``); comparisons return plain bool arrays of the
    values.  ``float()`` and ``np.asarray()`` raise instead of dropping the
    derivative: use ``.value``.  The inputs are copied.

    Examples
    --------
    >>> import numpy as np, dualml
    >>> x = dualml.DualArray.seed(np.array([1.0, 2.0]))     # identity seeding, k = 2
    >>> y = np.sin(x) * x[0]
    >>> y.value.round(4)
    array([0.8415, 0.9093])
    >>> y.deriv.round(4)            # y.deriv[j, i] = d y_i / d x_j
    array([[ 1.3818,  0.9093],
           [ 0.    , -0.4161]])
    """

    cdef object _vo                 # the values; None while lazy (design note d.)
    cdef object _do                 # the tangent rows; None while lazy
    cdef void *_mem                 # a lazy result's block while x owns it
    cdef object _blk                # or its owner once a view needed one (for life)
    cdef _Lazy *_lz                 # its layout while lazy, else NULL
    cdef public unsigned long long _tag
    cdef public object _o2
    cdef public object _eye

    __array_priority__ = 100.0
    __hash__ = None

    def __dealloc__(self):
        if self._mem != NULL:
            _lazy_put(self._mem)
            self._mem = NULL

    def __init__(self, value, deriv=None):
        v, d = _py._init_parts(value, deriv)
        self._vo = v
        self._do = d
        self._lz = NULL
        self._tag = 1
        self._o2 = None

    # -- construction helpers ---------------------------------------------------
    @classmethod
    def seed(cls, x, directions=None):
        """DualArray.seed(x, directions=None)

        x with tangents: the identity (k = x.size, direction j is the unit
        vector of flat element j) or the given directions.

        Parameters
        ----------
        x : array_like of real numbers
        directions : array_like, optional
            Shape ``(k,) + x.shape`` or ``x.shape`` (k = 1).

        Examples
        --------
        >>> import numpy as np, dualml
        >>> x = dualml.DualArray.seed(np.zeros((2, 2)))
        >>> x.k, x.deriv.shape
        (4, (4, 2, 2))
        """
        return _py._seed(x, directions)

    @classmethod
    def constant(cls, x, k=0):
        """DualArray.constant(x, k=0)

        x with k zero tangent rows (a constant).

        Examples
        --------
        >>> import dualml
        >>> dualml.DualArray.constant([1.0, 2.0], k=3).deriv.shape
        (3, 2)
        """
        return _py._constant(x, k)

    # -- the components (made on first use for a lazy result) --------------------------
    @property
    def _v(self):
        return _V(self)

    @_v.setter
    def _v(self, v):
        if self._lz != NULL:
            _materialize(self)
        self._vo = v

    @property
    def _d(self):
        return _D(self)

    @_d.setter
    def _d(self, d):
        if self._lz != NULL:
            _materialize(self)
        self._do = d

    @property
    def _lazy(self):
        """Whether the components are still unmade (design note d.; for tests)."""
        return self._lz != NULL

    # -- accessors -----------------------------------------------------------------
    @property
    def value(self):
        """The values (float64 ndarray; a DualArray of an outer level when nested)."""
        v = _V(self)
        if type(v) is ndarray:
            v = v.view()
            v.flags.writeable = False
        return v

    @property
    def deriv(self):
        """The tangents, shape ``(k,) + shape``: ``deriv[j]`` is direction j."""
        d = _D(self) if self._o2 is None else _D(self)[:self._o2[0]]
        if type(d) is ndarray:
            d = d.view()
            d.flags.writeable = False
        return d

    @property
    def tag(self):
        """The perturbation tag (1 for DualArrays made by users)."""
        return self._tag

    @property
    def k(self):
        """The number of tangent directions."""
        if self._o2 is not None:
            return self._o2[0]
        if self._lz != NULL:
            return self._lz.k
        return self._do.shape[0]

    @property
    def ndirs(self):
        """The number of tangent directions (same as ``k``)."""
        return self.k

    @property
    def shape(self):
        """The shape of the values."""
        cdef int i
        if self._lz != NULL:
            return tuple([self._lz.dims[i] for i in range(self._lz.nd)])
        return self._vo.shape

    @property
    def ndim(self):
        """The number of dimensions of the values."""
        if self._lz != NULL:
            return self._lz.nd
        return len(self._vo.shape)

    @property
    def size(self):
        """The number of values."""
        if self._lz != NULL:
            return self._lz.n
        return self._vo.size

    @property
    def dtype(self):
        """float64 (the values' dtype)."""
        return _F64

    @property
    def T(self):
        """The transpose (axes reversed)."""
        r = _transposed(self)
        return _py._transpose(self, None) if r is NotImplemented else r

    def __len__(self):
        shape = self.shape
        if not shape:
            raise TypeError("len() of a 0-d DualArray")
        return shape[0]

    def __iter__(self):
        shape = self.shape
        if not shape:
            raise TypeError("iteration over a 0-d DualArray")
        for i in range(shape[0]):
            yield self[i]

    def __repr__(self):
        tag = "" if self._tag == 1 else f", tag={self._tag}"
        return f"DualArray({_V(self)!r}, deriv={_D(self)!r}{tag})"

    # -- no silent derivative loss ----------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TypeError("converting a DualArray to a NumPy array would drop its "
                        "derivatives (np.asarray, np.array([...]) of DualArrays, or a "
                        "library such as scipy.integrate.solve_ivp converting its input); "
                        "use .value (and .deriv) explicitly, build arrays of DualArrays "
                        "with np.stack/np.concatenate, pass method='scalar' to jacobian/"
                        "gradient for np.array([...]) code, and for an ODE use "
                        "dualml.solve_ivp")

    def __float__(self):
        raise TypeError("float() of a DualArray would drop its derivatives; use "
                        ".value[()] if you mean to drop them")

    def __complex__(self):
        raise TypeError("complex() of a DualArray is not supported (dualml is real)")

    def __int__(self):
        return int(_py._inner(self))

    def __bool__(self):
        return bool(_py._inner(self))

    def __index__(self):
        # also reached by sequence repetition: 'a' * x, [0] * x
        raise TypeError("a DualArray cannot be used as an integer (an index, or a "
                        "repeat count as in 'a' * x): it holds real numbers with "
                        "derivatives")

    def __copy__(self):
        return self.copy()

    def __deepcopy__(self, memo):
        return self.copy()

    def copy(self):
        """A copy with its own value and tangent storage."""
        r = _copied(self, False)
        return _py._copy(self) if r is NotImplemented else r

    def __reduce__(self):
        return (_rebuild, (_V(self), _D(self), self._tag, self._o2))

    # -- indexing ------------------------------------------------------------------------
    def __getitem__(self, idx):
        r = _getitem(self, idx)
        if r is NotImplemented:
            return _py._getitem(self, idx)
        return r

    def __setitem__(self, idx, val):
        if not _setitem(self, idx, val):
            _py._setitem(self, idx, val)

    # -- comparisons: plain bool arrays of the values ----------------------------------
    def __eq__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_EQ)

    def __ne__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_NE)

    def __lt__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_LT)

    def __le__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_LE)

    def __gt__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_GT)

    def __ge__(self, o):
        return PyObject_RichCompare(_values(self), _values_of(o), Py_GE)

    # -- arithmetic ----------------------------------------------------------------------
    def __add__(self, o):
        return _op(R_ADD, "add", self, o)

    def __radd__(self, o):
        return _op(R_ADD, "add", o, self)

    def __sub__(self, o):
        return _op(R_SUB, "subtract", self, o)

    def __rsub__(self, o):
        return _op(R_SUB, "subtract", o, self)

    def __mul__(self, o):
        return _op(R_MUL, "multiply", self, o)

    def __rmul__(self, o):
        return _op(R_MUL, "multiply", o, self)

    def __truediv__(self, o):
        return _op(R_DIV, "divide", self, o)

    def __rtruediv__(self, o):
        return _op(R_DIV, "divide", o, self)

    def __floordiv__(self, o):
        return _op(R_FDIV, "floor_divide", self, o)

    def __rfloordiv__(self, o):
        return _op(R_FDIV, "floor_divide", o, self)

    def __mod__(self, o):
        return _op(R_REM, "remainder", self, o)

    def __rmod__(self, o):
        return _op(R_REM, "remainder", o, self)

    def __divmod__(self, o):
        return (self // o, self % o)

    def __pow__(self, o, m):
        if m is not None:
            return NotImplemented
        # as NumPy's ndarray ** 2 (which computes square)
        if (type(o) is int or type(o) is float) and o == 2:
            r = _unary(R_SQUARE, self, 0.0)
            return _py._ew_unary("square", self) if r is NotImplemented else r
        return _op(R_POW, "power", self, o)

    def __rpow__(self, o, m):
        if m is not None:
            return NotImplemented
        return _op(R_POW, "power", o, self)

    def __matmul__(self, o):
        r = _matmul(self, o)
        if r is NotImplemented:
            return _py._matmul(self, _py._operand(o, "matmul"))
        return r

    def __rmatmul__(self, o):
        r = _matmul(o, self)
        if r is NotImplemented:
            return _py._matmul(_py._operand(o, "matmul"), self)
        return r

    def __neg__(self):
        r = _unary(R_NEG, self, 0.0)
        return _py._ew_unary("negative", self) if r is NotImplemented else r

    def __pos__(self):
        return _py._copy(self)

    def __abs__(self):
        r = _unary(R_ABS, self, 0.0)
        return _py._ew_unary("absolute", self) if r is NotImplemented else r

    # In place: NumPy semantics (the array, and views of it, change).
    def __iadd__(self, o):
        return _inplace(self, self + o)

    def __isub__(self, o):
        return _inplace(self, self - o)

    def __imul__(self, o):
        return _inplace(self, self * o)

    def __itruediv__(self, o):
        return _inplace(self, self / o)

    def __ipow__(self, o):
        return _inplace(self, self ** o)

    def __imod__(self, o):
        return _inplace(self, self % o)

    def __ifloordiv__(self, o):
        return _inplace(self, self // o)

    # -- methods as ndarray's ------------------------------------------------------------
    def reshape(self, *shape, order="C"):
        """Values and tangents reshaped alike (as ndarray.reshape, C or F order)."""
        if PyTuple_GET_SIZE(shape) >= 1 and type(order) is str and <str>order == "C":
            r = _reshaped(self, <object>PyTuple_GET_ITEM(shape, 0)
                          if PyTuple_GET_SIZE(shape) == 1 else shape)
            if r is not NotImplemented:
                return r
        return _py._method_reshape(self, shape, order)

    def transpose(self, *axes):
        """As ndarray.transpose: values and tangents alike."""
        if PyTuple_GET_SIZE(axes) == 0:
            r = _transposed(self)
        else:
            r = _permuted(self, axes[0] if PyTuple_GET_SIZE(axes) == 1 else axes)
        if r is not NotImplemented:
            return r
        return _py._method_transpose(self, axes)

    def swapaxes(self, a, b):
        """swapaxes(a, b): as ndarray.swapaxes."""
        r = _swapped(self, a, b)
        if r is not NotImplemented:
            return r
        return _py._swapaxes(self, a, b)

    def ravel(self, order="C"):
        """ravel(order="C"): the values flattened (a view where possible)."""
        if type(order) is str and <str>order == "C":
            r = _raveled(self)
            if r is not NotImplemented:
                return r
        return _py._ravel(self, order)

    def flatten(self, order="C"):
        """flatten(order="C"): the values flattened, always a copy."""
        if type(order) is str and <str>order == "C":
            r = _copied(self, True)
            if r is not NotImplemented:
                return r
        return _py._copy(_py._reshape_order(self, (-1,), order, "flatten"))

    def squeeze(self, axis=None):
        """squeeze(axis=None): as ndarray.squeeze."""
        if axis is None:
            r = _squeezed(self)
            if r is not NotImplemented:
                return r
        return _py._squeeze(self, axis)

    def sum(self, axis=None, keepdims=False, *, dtype=None, out=None, initial=None,
            where=True):
        """As ndarray.sum (keywords dtype, out, initial, where as NumPy's)."""
        if dtype is not None or out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_sum(self, axis, dtype, None, keepdims, initial, where),
                               out, "sum")
        if axis is None:
            r = _kept(_sum_all(self), self, keepdims)
            if r is not NotImplemented:
                return r
        else:
            r = _reduce_axes(self, axis, keepdims, False)
            if r is not NotImplemented:
                return r
        return _py._sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False, *, dtype=None, out=None, where=True):
        """As ndarray.mean (keywords dtype, out, where as NumPy's)."""
        if dtype is not None or out is not None or where is not True:
            return _py._fn_out(_py._h_mean(self, axis, dtype, None, keepdims, where=where),
                               out, "mean")
        if axis is None:
            s = _kept(_mean_all(self), self, keepdims)
            if s is not NotImplemented:
                return s
        else:
            s = _reduce_axes(self, axis, keepdims, True)
            if s is not NotImplemented:
                return s
        return _py._mean(self, axis, keepdims)

    def prod(self, axis=None, keepdims=False, *, dtype=None, out=None, initial=None,
             where=True):
        """As ndarray.prod (keywords dtype, out, initial, where as NumPy's)."""
        if dtype is not None or out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_prod(self, axis, dtype, None, keepdims, initial, where),
                               out, "prod")
        if axis is None:
            r = _kept(_prod_all(self), self, keepdims)
        else:
            r = _prod_axis(self, axis if type(axis) is not tuple or len(<tuple>axis) != 1
                           else (<tuple>axis)[0], keepdims)
        if r is not NotImplemented:
            return r
        return _py._prod(self, axis, keepdims)

    def max(self, axis=None, keepdims=False, *, out=None, initial=None, where=True):
        """As ndarray.max (keywords out, initial, where as NumPy's): value and
        tangents of the maximum (the first of ties)."""
        if out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_max(self, axis, None, keepdims, initial, where), out,
                               "max")
        if axis is None:
            r = _kept(_select_all(self, True), self, keepdims)
            if r is not NotImplemented:
                return r
        elif type(axis) is int or (type(axis) is tuple and len(<tuple>axis) == 1
                                   and type((<tuple>axis)[0]) is int):
            r = _select_axis(self, axis if type(axis) is int else (<tuple>axis)[0],
                             keepdims, True)
            if r is not NotImplemented:
                return r
        return _py._select_reduce(self, axis, keepdims, np.argmax, "max")

    def min(self, axis=None, keepdims=False, *, out=None, initial=None, where=True):
        """As ndarray.min (keywords out, initial, where as NumPy's): value and
        tangents of the minimum (the first of ties)."""
        if out is not None or initial is not None or where is not True:
            return _py._fn_out(_py._h_min(self, axis, None, keepdims, initial, where), out,
                               "min")
        if axis is None:
            r = _kept(_select_all(self, False), self, keepdims)
            if r is not NotImplemented:
                return r
        elif type(axis) is int or (type(axis) is tuple and len(<tuple>axis) == 1
                                   and type((<tuple>axis)[0]) is int):
            r = _select_axis(self, axis if type(axis) is int else (<tuple>axis)[0],
                             keepdims, False)
            if r is not NotImplemented:
                return r
        return _py._select_reduce(self, axis, keepdims, np.argmin, "min")

    def cumsum(self, axis=None, dtype=None, out=None):
        """cumsum(axis=None, dtype=None, out=None): as ndarray.cumsum."""
        if dtype is not None or out is not None:
            return _py._fn_out(_py._h_cumsum(self, axis, dtype, None), out, "cumsum")
        r = _cumsum_c(self, axis)
        return _py._cumsum(self, axis) if r is NotImplemented else r

    def dot(self, o):
        """dot(o): as ndarray.dot."""
        r = _matmul(self, o, True)
        if r is NotImplemented:
            return _py._dot(self, _py._operand(o, "dot"))
        return r

    def clip(self, a_min=None, a_max=None, *, min=None, max=None):
        """As ndarray.clip (``a_min``/``a_max`` or the keywords ``min``/``max``)."""
        if min is not None:
            if a_min is not None:
                raise TypeError("clip(): give a_min or min=, not both")
            a_min = min
        if max is not None:
            if a_max is not None:
                raise TypeError("clip(): give a_max or max=, not both")
            a_max = max
        # maximum then minimum, as the Python path (_joins._clip), in C
        r = self
        if a_min is not None:
            r = _binary(R_MAX, r, a_min)
        if r is not NotImplemented and a_max is not None:
            r = _binary(R_MIN, r, a_max)
        if r is NotImplemented:
            return _py._clip(self, a_min, a_max)
        return r

    def std(self, *args, **kwargs):
        """std(axis=None, dtype=None, out=None, ddof=0, keepdims=False, ...): as ndarray.std."""
        return _py._h_std(self, *args, **kwargs)

    def var(self, *args, **kwargs):
        """var(axis=None, dtype=None, out=None, ddof=0, keepdims=False, ...): as ndarray.var."""
        return _py._h_var(self, *args, **kwargs)

    def cumprod(self, axis=None, dtype=None, out=None):
        """cumprod(axis=None): as ndarray.cumprod."""
        if dtype is None and out is None and (axis is None or type(axis) is int):
            r = _cumprod(self, axis)
            if r is not NotImplemented:
                return r
        return _py._h_cumprod(self, axis, dtype, out)

    def trace(self, offset=0, axis1=0, axis2=1, dtype=None, out=None):
        """trace(offset=0, axis1=0, axis2=1): as ndarray.trace."""
        if (type(offset) is int and <object>offset == 0 and dtype is None and out is None
                and type(axis1) is int and type(axis2) is int
                and ((<object>axis1 == 0 and <object>axis2 == 1)
                     or (<object>axis1 == 1 and <object>axis2 == 0))):
            r = _trace_c(self)
            if r is not NotImplemented:
                return r
        return _py._h_trace(self, offset, axis1, axis2, dtype, out)

    # ndarray's remaining methods, as NumPy's functions (whose handlers check
    # the arguments); index-valued ones read the values
    def take(self, indices, axis=None, out=None, mode="raise"):
        """take(indices, axis=None, out=None, mode='raise'): as ndarray.take."""
        return np.take(self, indices, axis=axis, out=out, mode=mode)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        """diagonal(offset=0, axis1=0, axis2=1): as ndarray.diagonal."""
        return np.diagonal(self, offset, axis1, axis2)

    def repeat(self, repeats, axis=None):
        """repeat(repeats, axis=None): as ndarray.repeat."""
        return np.repeat(self, repeats, axis)

    def compress(self, condition, axis=None, out=None):
        """compress(condition, axis=None): as ndarray.compress."""
        return np.compress(condition, self, axis, out)

    def choose(self, choices, out=None, mode="raise"):
        """choose(choices): as ndarray.choose (self holds the indices)."""
        return np.choose(self, choices, out, mode)

    def conj(self):
        """conj(): the array itself (a real array)."""
        return self

    def conjugate(self):
        """conjugate(): the array itself (a real array)."""
        return self

    @property
    def real(self):
        """The array itself (a real array)."""
        return self

    @property
    def imag(self):
        """Zeros of the array's shape (a real array; a constant)."""
        return np.zeros(self.shape)

    @property
    def mT(self):
        """The matrix transpose: the last two axes swapped."""
        return np.swapaxes(self, -1, -2)

    def fill(self, value):
        """fill(value): every entry set to value, in place."""
        self[...] = value

    def put(self, indices, values, mode="raise"):
        """put(indices, values, mode='raise'): as ndarray.put, in place."""
        np.put(self, indices, values, mode)

    def partition(self, kth, axis=-1, kind="introselect", order=None):
        """partition(kth, axis=-1): as ndarray.partition, in place."""
        self[...] = np.partition(self, kth, axis, kind, order)

    def argmax(self, axis=None, out=None, *, keepdims=False):
        """argmax(axis=None): of the values."""
        return np.argmax(self.value, axis, out, keepdims=keepdims)

    def argmin(self, axis=None, out=None, *, keepdims=False):
        """argmin(axis=None): of the values."""
        return np.argmin(self.value, axis, out, keepdims=keepdims)

    def argsort(self, axis=-1, kind=None, order=None, *, stable=None):
        """argsort(axis=-1): of the values."""
        return np.argsort(self.value, axis, kind, order, stable=stable)

    def argpartition(self, kth, axis=-1, kind="introselect", order=None):
        """argpartition(kth, axis=-1): of the values."""
        return np.argpartition(self.value, kth, axis, kind, order)

    def nonzero(self):
        """nonzero(): of the values."""
        return np.nonzero(self.value)

    def searchsorted(self, v, side="left", sorter=None):
        """searchsorted(v): of the values (v's values if it is a DualArray)."""
        if type(v) is DualArray:
            v = _py._inner(v)
        return np.searchsorted(_py._inner(self), v, side, sorter)

    def all(self, axis=None, out=None, keepdims=False, *, where=True):
        """all(axis=None): of the values."""
        return np.all(self.value, axis, out, keepdims, where=where)

    def any(self, axis=None, out=None, keepdims=False, *, where=True):
        """any(axis=None): of the values."""
        return np.any(self.value, axis, out, keepdims, where=where)

    def round(self, decimals=0, out=None):
        """round(decimals=0): as ndarray.round (zero derivative: a step function)."""
        if out is None:
            r = _rounded(self, decimals)
            if r is not NotImplemented:
                return r
        return _py._h_round(self, decimals, out)

    def astype(self, dtype, copy=True):
        """astype(float64): a copy (copy=True) or self; other dtypes would drop
        the derivatives and raise."""
        if (dtype is float or dtype is _np_float64) and type(copy) is bool:
            if not copy:
                return self
            r = _copied(self, False)            # (as the copy method)
            if r is not NotImplemented:
                return r
        return _py._h_astype(self, dtype, copy=copy)

    def sort(self, axis=-1, kind=None, order=None):
        """sort(axis=-1): in place, as ndarray.sort; the tangents follow the
        permutation."""
        _py._setitem(self, Ellipsis, _py._h_sort(self, axis, kind, order))

    def item(self):
        raise TypeError("DualArray.item() would drop the derivatives; index it "
                        "(x[()] or x[i]) to keep them, or use .value.item()")

    def tolist(self):
        raise TypeError("DualArray.tolist() would drop the derivatives; use "
                        ".value.tolist() / .deriv.tolist()")

    # -- NumPy protocols -------------------------------------------------------------------
    # __array_ufunc__(self, ufunc, method, *inputs, **kwargs): a C callable
    # (see "NumPy's ufunc protocol" above), not a def, for speed
    __array_ufunc__ = _ARRAY_UFUNC

    # __array_function__(self, func, types, args, kwargs): a C callable
    # (see "NumPy's function protocol" above), not a def, for speed
    __array_function__ = _ARRAY_FUNCTION

    # -- dualml hooks ----------------------------------------------------------------------
    def __dualml_function__(self, name, args, kwargs):
        """dualml.<name>(...) with a DualArray argument (the core's hook)."""
        cdef Py_ssize_t n = len(args)
        if not kwargs:
            if n == 1 and args[0] is self:
                rule = _NAME1.get(name)
                if rule is not None:
                    r = _unary(<Py_ssize_t>rule, self, _DEFAULT_P.get(rule, 0.0))
                    if r is not NotImplemented:
                        return r
            elif n == 2:
                rule = _NAME2.get(name)
                if rule is not None:
                    r = _binary(<Py_ssize_t>rule, args[0], args[1])
                    if r is not NotImplemented:
                        return r
                elif args[0] is self and type(args[1]) is float:
                    rule = _NAME1.get(name)         # a rule with a parameter (alpha)
                    if rule is not None and rule in _DEFAULT_P:
                        r = _unary(<Py_ssize_t>rule, self, <double>args[1])
                        if r is not NotImplemented:
                            return r
        return _py._dualml_function(name, args, kwargs)

    def _dualml_extract(self, tag, want_value):
        """Value, or derivative w.r.t. `tag`, for the core's extractors.

        The derivative is shaped like the value for k = 1 and
        ``value.shape + (k,)`` otherwise (direction last, as a Jacobian's
        column index).
        """
        return _py._extract(self, tag, want_value)


# ---------------------------------------------------------------------------
# Reading a list of 0-d results (dualml.solve_ivp's right-hand side, per call)

def _read_scalars(r, unsigned long long tag, Py_ssize_t K, cnp.ndarray out):
    """_read_scalars(r, tag, K, out) -> bool

    ``out[:n]`` = the values and ``out[n:]`` (K rows of n) = the tangents of
    r, a list/tuple of n entries that are 0-d first-order DualArrays of
    `tag` with K tangents, or Python floats (zero tangents).  False, with
    out partly written, when an entry is anything else (the caller then
    reads r the general way).
    """
    cdef Py_ssize_t n, j, k
    cdef DualArray e
    cdef _Parts P
    cdef double *o
    cdef char *p
    cdef cnp.npy_intp stride
    if type(r) is not list and type(r) is not tuple:
        return False
    n = len(r)
    if (cnp.PyArray_TYPE(out) != cnp.NPY_DOUBLE or not cnp.PyArray_IS_C_CONTIGUOUS(out)
            or not cnp.PyArray_ISALIGNED(out) or not cnp.PyArray_ISWRITEABLE(out)
            or cnp.PyArray_NDIM(out) != 1 or cnp.PyArray_DIMS(out)[0] != n * (K + 1)):
        return False
    o = <double *>cnp.PyArray_DATA(out)
    for j in range(n):
        x = r[j]
        if type(x) is DualArray:
            e = <DualArray>x
            # (_flat: aligned, so the double loads below are defined)
            if e._tag != tag or e._o2 is not None or not _flat(e):
                return False
            if e._lz == NULL and (cnp.PyArray_TYPE(<cnp.ndarray>e._vo) != cnp.NPY_DOUBLE
                                  or cnp.PyArray_TYPE(<cnp.ndarray>e._do) != cnp.NPY_DOUBLE):
                return False
            _parts(e, &P)
            if P.nd != 0 or P.k != K:
                return False
            o[j] = (<double *>P.v)[0]
            p = P.d
            stride = P.dst[0]
            for k in range(K):
                o[n + k * n + j] = (<double *>(p + k * stride))[0]
        elif type(x) is float:
            o[j] = PyFloat_AS_DOUBLE(x)
            for k in range(K):
                o[n + k * n + j] = 0.0
        else:
            return False
    return True
