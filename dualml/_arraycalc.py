"""The array backend of dualml's calculus: DualArray carrying many directions.

Design
------
* ``dualml.calculus`` calls these functions when x is a real ndarray (or a
  DualArray, inside nested differentiation); signatures and output shapes are
  the scalar path's: gradient ``x.shape``; jacobian ``f(x).shape + x.shape``
  with ``J[i, j] = df_i/dx_j``; hessian ``x.shape + x.shape``; jvp
  ``(f(x), J v)``.
* Each pass seeds ``chunk`` unit directions (direction axis first) under a
  fresh tag.  ``chunk=None`` keeps every tangent buffer of a pass under a
  budget (``DUALML_MAX_BYTES``, default 256 MiB): the seed decides the first
  chunk, and a pass whose intermediate outgrows the budget (a (k, 10000, 80)
  layer of an MLP) stops at that buffer, before touching its memory, and
  is run again with the chunk its size implies (so f may run more than
  once per chunk of directions).  Every pass of two or more directions is
  checked (hessian's row blocks and hvp's rows too; an hvp over it goes
  nested); only a pass of one direction runs whatever its size.
* hessian: one or a few passes of the second-order rows (``arrays._o2``:
  ``[g, H]``, a truncated Taylor array) holding only the upper triangle of
  H (n(n+1)/2 rows, i major, so a chunk of rows i is contiguous; H filled
  symmetric at the end); where that representation has no
  curvature rule (``_NeedGeneric``), or x is itself dual, it falls back to
  forward-over-forward nesting: ``jacobian(gradient(f))``.
  ``value_gradient_and_hessian`` reads f(x) and the gradient off the same
  pass (the rows ``[g, H]`` carry them).
* hvp: the same second-order rows with k = n + 1 first-order directions
  ``[e_1 .. e_n, v]`` and one block of curvature rows, the one for v: row
  j of it is ``v' H e_j``, so H v costs 2(n + 1) rows instead of n(n + 1).
  Fallback as for hessian: ``jvp(gradient(f), x, v)``.
"""
import numbers
import os

import numpy as np

from . import dual as _dual
from .dual import _scoped
from .arrays import DualArray, _new
from .arrays._core import BufferBudgetExceeded, copy_pooled, hessian_pass
from .arrays._core import _budget as _BUDGET       # the core's per-thread budget slot
from .arrays._operands import _NeedGeneric, _operand, _nd
from .arrays._second_order import _o2_hrows, _o2_layout
from .arrays._joins import _concatenate
from .arrays._shape import _moveaxis0_last, _reshape

__all__ = ["jacobian", "gradient", "jvp", "hessian", "value_and_gradient",
           "value_and_jacobian", "hvp", "value_gradient_and_hessian"]

_CAP_BYTES = 256 * 2**20
_F64 = np.dtype(np.float64)


def _point(x, fname):
    if type(x) is _nd and x.dtype is _F64:
        return copy_pooled(x)                   # a copy: f may write into its input
    if type(x) is DualArray:
        return x
    if isinstance(x, (DualArray,)):
        return x
    a = np.asarray(x)
    if a.dtype.kind == "c":
        raise TypeError(f"{fname}(): x is complex ({a.dtype}); dualml differentiates "
                        f"real functions")
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{fname}(): x must hold real numbers, got dtype {a.dtype}")
    if a.dtype == np.float64:
        return copy_pooled(a)                   # a copy: f may write into its input
    return np.array(a, dtype=np.float64)


_CAP_PARSED = [None, _CAP_BYTES]       # the last DUALML_MAX_BYTES text and its value

# os.environ.get costs ~0.5 us (key encoding); every pass reads the budget, so
# the lookup goes to the mapping's own dict (os.environ stays the one source:
# setenv/monkeypatch update it), or to os.environ.get where that is not there
try:
    _ENV_DATA = os.environ._data
    _ENV_KEY = os.environ.encodekey("DUALML_MAX_BYTES")
    _ENV_DECODE = os.environ.decodevalue
except AttributeError:                  # pragma: no cover (another Python)
    _ENV_DATA = None


def _cap_bytes():
    """The per-buffer budget: DUALML_MAX_BYTES (bytes; K/M/G suffixes) or 256 MiB."""
    if _ENV_DATA is not None:
        raw = _ENV_DATA.get(_ENV_KEY)
        text = None if raw is None else _ENV_DECODE(raw)
    else:
        text = os.environ.get("DUALML_MAX_BYTES")
    if not text:
        return _CAP_BYTES
    if text == _CAP_PARSED[0]:
        return _CAP_PARSED[1]
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(t[-1:], 1)
    try:
        value = int(float(t[:-1] if scale > 1 else t) * scale)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"DUALML_MAX_BYTES must be a positive number of bytes (e.g. "
                         f"268435456 or 256M), got {text!r}")
    _CAP_PARSED[:] = [text, value]
    return value


def _budgeted(f, X, args, c, budget):
    """f(X, *args) with this thread's buffer budget set, or the exceeding size.

    (The core's thread-local slot is set directly: ``set_buffer_budget``'s two
    calls cost a tenth of a small Jacobian.)
    """
    old = getattr(_BUDGET, "limit", None)
    _BUDGET.limit = budget
    try:
        return f(X, *args), None
    except BufferBudgetExceeded as exc:
        if exc.budget != budget:
            raise           # an enclosing call's budget (nested): not ours to handle
        return None, exc.nbytes
    finally:
        _BUDGET.limit = old


def _smaller_chunk(c, nbytes, budget):
    # the buffer held c directions: about nbytes / c per direction
    per_dir = max(nbytes / max(c, 1), 1.0)
    return max(1, min(c // 2, int(budget // per_dir)))


def _chunk(chunk, n, per_row, fname):
    if chunk is not None:
        if isinstance(chunk, bool) or not isinstance(chunk, numbers.Integral) or chunk < 1:
            raise ValueError(f"{fname}(): chunk must be None or a positive integer, "
                             f"got {chunk!r}")
        return min(int(chunk), max(n, 1))
    return max(1, min(n, _cap_bytes() // max(8 * per_row, 1)))


_EYES = {}
_EYES_BYTES = 4 * 2**20     # the cache's bound: seeds of n <= 256, 4 MiB in all


def _identity(n):
    # Read-only identity seeds, cached for small n (np.eye costs ~10% of a
    # whole n = 10 Jacobian).  Read-only is safe: a write into the seeded
    # point copies it first, and a write through a view of it raises.
    e = _EYES.get(n)
    if e is None:
        e = np.eye(n)
        e.flags.writeable = False
        if n <= 256 and sum(a.nbytes for a in _EYES.values()) + e.nbytes <= _EYES_BYTES:
            _EYES[n] = e
    return e


def _seed_rows(n, start, c, shape):
    if start == 0 and c == n:
        return _identity(n).reshape((n,) + shape)
    d = np.zeros((c, n))
    d[np.arange(c), start + np.arange(c)] = 1.0
    return d.reshape((c,) + shape)


def _value_copy(x):
    return x.copy() if type(x) is _nd else x


def _parts(r, tag, c, fname):
    """(value, tangents (c,) + out_shape) of f's result w.r.t. tag."""
    t = type(r)
    if t is DualArray:
        if r._tag == tag:
            if r._o2 is not None:
                return r._v, r._d[:r._o2[0]]
            return r._v, r._d
        _dual._check_tags(r._tag, r._tag)
        if r._tag > tag:
            raise ValueError(f"{fname}(): a DualArray from an inner differentiation "
                             f"escaped it (was it stored and reused outside the function?)")
        return r, np.zeros((c,) + r.shape)
    if t is float or t is int:
        return float(r), np.zeros((c,))
    if t is _nd:
        if r.dtype.kind in "biuf":
            return r.astype(np.float64), np.zeros((c,) + r.shape)
        if r.dtype != object:
            raise TypeError(_dual._bad_result(r))
    elif isinstance(r, _dual.Dual):
        _dual._check_tags(_dual._tag_of(r), _dual._tag_of(r))
        if _dual._tag_of(r) >= tag:
            raise ValueError(f"{fname}(): f returned a scalar Dual of this "
                             f"differentiation's tag; return DualArrays (NumPy code)")
        return r, np.zeros((c,))
    elif isinstance(r, (np.generic, numbers.Real)) and not isinstance(r, (str, bytes)):
        if isinstance(r, np.generic) and r.dtype.kind not in "biuf":
            raise TypeError(_dual._bad_result(r))
        return float(r), np.zeros((c,))
    if isinstance(r, (list, tuple, _nd)):
        try:
            arr = _operand(r, fname)
        except TypeError:
            raise TypeError(_dual._bad_result(r)) from None
        return _parts(arr, tag, c, fname)
    raise TypeError(_dual._bad_result(r))


@_scoped
def _passes(f, x, args, chunk, fname, want_value=True, first=None):
    """Seeded passes over all n directions: (value, list of (c,) + out tangents).

    ``first``: the chunk to start with (chunk=None only), e.g. after a one-pass
    attempt outgrew the budget.
    """
    n = x.size
    shape = x.shape
    c = _chunk(chunk, n, n, fname) if first is None else first
    budget = _cap_bytes() if chunk is None else None
    value = None
    blocks = []
    start = 0
    while True:
        # a tag per pass, finished when the pass is read: a DualArray that f
        # cached in one pass raises in the next instead of counting as its seed
        tag = _dual._new_tag()
        cc = min(c, n - start)
        seed = _seed_rows(n, start, cc, shape)
        # x is _point's private copy: f may write into it, so every pass but
        # the last gets a copy of its own (a retried pass too)
        X = _new(x if start + cc >= n and budget is None else _value_copy(x), seed, tag,
                 None)
        if cc == n and len(shape) == 1 and type(x) is _nd:
            X._eye = seed           # W @ X may skip the product with the identity
        if budget is not None and cc > 1:
            r, nbytes = _budgeted(f, X, args, cc, budget)
            if r is None:           # outgrew the budget: again with fewer directions
                c = _smaller_chunk(cc, nbytes, budget)
                continue
        else:
            r = f(X, *args)
        v, d = _parts(r, tag, cc, fname)
        _dual._retire(tag)
        if value is None:
            value = v
        blocks.append(d)
        start += cc
        if start >= n:
            break
    return value, blocks, tag


def _join_rows(blocks):
    if len(blocks) == 1:
        return blocks[0]
    if all(type(b) is _nd for b in blocks):
        return np.concatenate(blocks, axis=0)
    return _concatenate([_operand(b) for b in blocks], 0)


def _finish_jac(blocks, x_shape, n):
    D = _join_rows(blocks)                  # (n,) + out_shape
    out_shape = tuple(D.shape[1:])
    if type(D) is _nd:
        if n == 0:
            return np.zeros(out_shape + tuple(x_shape))
        if not out_shape:
            return D.reshape(x_shape)
        J = D.reshape(n, -1).T.copy()       # out_shape + (n,), C order
        return J.reshape(out_shape + tuple(x_shape))
    J = _moveaxis0_last(D)                  # out_shape + (n,)
    return _reshape(J, out_shape + tuple(x_shape))


def _scalar_out(v, J, fname):
    # a scalar f gives floats, as on the scalar path (not 0-d arrays or
    # np.float64, which d[0] of a tangent row is)
    if (type(v) is _nd and v.ndim == 0) or isinstance(v, np.floating):
        v = float(v)
    if (type(J) is _nd and J.ndim == 0) or isinstance(J, np.floating):
        J = float(J)
    return v, J


@_scoped
def _one_pass(f, x, args, fname):
    """(value, D) from one pass with all n identity directions, or None.

    The common case without the general machinery: x a float64 ndarray with
    0 < n <= _ONE_PASS_N and f returning a first-order DualArray of the
    pass's tag (anything else goes through _parts).
    """
    if type(x) is not _nd or x.dtype != np.float64:
        return None
    n = x.size
    if not 0 < n <= _ONE_PASS_N:
        return None
    xc = copy_pooled(x)
    eye = _identity(n)
    tag = _dual._new_tag()
    if x.ndim == 1:
        X = _new(xc, eye, tag, None)
        X._eye = eye
    else:
        X = _new(xc, eye.reshape((n,) + x.shape), tag, None)
    if n > 1:
        # _budgeted inlined: this is every small Jacobian's path (W3)
        budget = _cap_bytes()
        local = _BUDGET
        old = getattr(local, "limit", None)
        local.limit = budget
        try:
            r = f(X, *args)
        except BufferBudgetExceeded as exc:
            if exc.budget != budget:
                raise       # an enclosing call's budget (nested): not ours to handle
            raise _Outgrew(_smaller_chunk(n, exc.nbytes, budget)) from None
        finally:
            local.limit = old
    else:
        r = f(X, *args)         # one direction: no smaller pass to fall back on
    if type(r) is DualArray and r._tag == tag and r._o2 is None and type(r._d) is _nd:
        return r._v, r._d
    return _parts(r, tag, n, fname)


# one pass holds n directions of n elements: up to 256 MiB of tangents
_ONE_PASS_N = int((_CAP_BYTES // 8) ** 0.5)


class _Outgrew(Exception):
    """The one-pass attempt outgrew the budget; .chunk is the chunk to go on with."""

    def __init__(self, chunk):
        super().__init__(chunk)
        self.chunk = chunk


def _value_and_blocks(f, x, args, chunk, fname):
    """(value, blocks, point) by one pass when it fits, else by chunked passes."""
    first = None
    if chunk is None:
        try:
            vd = _one_pass(f, x, args, fname)
        except _Outgrew as exc:
            vd, first = None, exc.chunk
        if vd is not None:
            return vd[0], [vd[1]], x
    x = _point(x, fname)
    value, blocks, _ = _passes(f, x, args, chunk, fname, first=first)
    return value, blocks, x


def value_and_jacobian(f, x, args=(), chunk=None):
    """(f(x), J) with J shape ``f(x).shape + x.shape``, ``J[i, j] = df_i/dx_j``."""
    value, blocks, x = _value_and_blocks(f, x, args, chunk, "jacobian")
    J = _finish_jac(blocks, x.shape, x.size)
    return _scalar_out(value, J, "jacobian")


def jacobian(f, x, args=(), chunk=None):
    """J with shape ``f(x).shape + x.shape``, ``J[i, j] = df_i/dx_j``."""
    return value_and_jacobian(f, x, args, chunk)[1]


def value_and_gradient(f, x, args=(), chunk=None):
    """(f(x), gradient) for a scalar f; the gradient has x's shape."""
    value, blocks, x = _value_and_blocks(f, x, args, chunk, "gradient")
    out_shape = tuple(blocks[0].shape[1:])
    if out_shape != ():
        raise ValueError(f"gradient(): f must return a scalar, it returned shape "
                         f"{out_shape}; use jacobian for vector-valued f")
    D = _join_rows(blocks)                  # (n,)
    G = _reshape(D, tuple(x.shape))
    return _scalar_out(value, G, "gradient")


def gradient(f, x, args=(), chunk=None):
    """The gradient of a scalar f at x, shape ``x.shape``."""
    return value_and_gradient(f, x, args, chunk)[1]


def _direction(v, x, fname):
    """v as a float64 array of x's shape (a 1-d v of x's size also fits a 0/1-d x)."""
    if type(v) is DualArray:
        raise TypeError(f"{fname}(): v must be real numbers (a DualArray tangent is not "
                        f"supported)")
    va = np.asarray(v)
    if va.dtype.kind == "c":
        raise TypeError(f"{fname}(): v is complex; dualml differentiates real functions")
    if va.dtype.kind not in "biuf":
        raise TypeError(f"{fname}(): v must hold real numbers, got dtype {va.dtype}")
    if va.shape != x.shape:
        if va.size == x.size and va.ndim <= 1 and x.ndim <= 1:
            va = va.reshape(x.shape)
        else:
            raise ValueError(f"{fname}(): v must have the shape of x; got v.shape = "
                             f"{va.shape} and x.shape = {x.shape}")
    return va.astype(np.float64, copy=False)


@_scoped
def jvp(f, x, v, args=()):
    """(f(x), J v) from one pass with one direction."""
    x = _point(x, "jvp")
    va = _direction(v, x, "jvp")
    tag = _dual._new_tag()
    # x is _point's private copy; the tangent row is a read-only view of v
    # (a write through X copies it first, as for the identity seed)
    t = va.view()
    t.flags.writeable = False
    X = _new(x, t[None], tag, None)
    value, d = _parts(f(X, *args), tag, 1, "jvp")
    if type(d) is _nd and np.may_share_memory(d, t):
        d = d.copy()            # f returned (a view of) its input: never alias v
    return _scalar_out(value, d[0], "jvp")


def hessian(f, x, args=(), chunk=None):
    """The Hessian of a scalar f, shape ``x.shape + x.shape``, exact to rounding."""
    return value_gradient_and_hessian(f, x, args, chunk)[2]


def value_gradient_and_hessian(f, x, args=(), chunk=None):
    """(f(x), gradient, Hessian) of a scalar f from the hessian's own passes."""
    pt = _point(x, "hessian")
    if type(pt) is _nd:
        try:
            try:
                v, g, H = _vgh_o2(f, pt, args, chunk)
            except _Outgrew as exc:         # the one pass outgrew the budget
                pt = _point(x, "hessian")
                v, g, H = _vgh_o2(f, pt, args, chunk, first=exc.chunk)
        except _NeedGeneric:
            # f may have written into pt before the fallback was needed
            pt = _point(x, "hessian")
        else:
            shape = pt.shape
            if len(shape) == 1:
                return v, g, H          # already (n,) and (n, n)
            if shape == ():
                return v, float(g[0]), float(H[0, 0])
            return v, g.reshape(shape), H.reshape(shape + shape)
    return _vgh_nested(f, pt, args, chunk)


def _outer_value(box, tag0):
    # f(x) as the inner gradient saw it, without the jacobian's perturbation
    # (whose tag is the only one above tag0, drawn just before that call)
    r = box[0]
    if type(r) is DualArray and r._tag > tag0:
        r = r._v
    if type(r) is _nd and r.ndim == 0:
        r = float(r)
    return r


def _hessian_nested(f, x, args, chunk):
    return _vgh_nested(f, x, args, chunk)[2]


@_scoped
def _vgh_nested(f, x, args, chunk):
    box = []

    def grad(y):
        v, g = value_and_gradient(f, y, args, chunk)
        if not box:
            box.append(v)
        return g
    tag0 = _dual._new_tag()
    g, H = value_and_jacobian(grad, x, (), chunk)
    return _outer_value(box, tag0), g, H


_O2_SEEDS = {}
_O2_SEED_MAX = 32           # one pass up to this n; cached seeds: at most 2.2 MB in all


def _o2_seed(n, tri=True):
    # the read-only rows [I; 0] of a one-pass hessian: (n + h, n), h the
    # n(n+1)/2 rows of the upper triangle (or n*n for the full block)
    r = _O2_SEEDS.get((n, tri))
    if r is None:
        r = np.zeros((n + (n * (n + 1) // 2 if tri else n * n), n))
        r[:n] = np.eye(n)
        r.flags.writeable = False
        _O2_SEEDS[(n, tri)] = r
    return r


def _symmetric(t, n):
    """The (n, n) matrix whose upper triangle, row by row, is t (and its mirror)."""
    H = np.empty((n, n))
    iu = np.triu_indices(n)
    H[iu] = t
    H.T[iu] = t
    return H


def _o2_result(r, tag, o2, fname):
    """(value, rows) of a second-order pass's result; None if f ignores x."""
    if type(r) is DualArray and r._tag == tag:
        if r._v.shape != ():
            raise ValueError(f"{fname}(): f must return a scalar, it returned "
                             f"shape {r._v.shape}")
        if r._o2 != o2 or type(r._d) is not _nd or type(r._v) is not _nd:
            raise _NeedGeneric(f"{fname} result")   # nested, or rows not in C layout
        return float(r._v), r._d
    v, d = _parts(r, tag, o2[0], fname)
    if type(v) is _nd and v.ndim == 0:
        v = float(v)
    if d.shape[1:] != ():
        raise ValueError(f"{fname}(): f must return a scalar, it returned "
                         f"shape {d.shape[1:]}")
    return None if type(v) is not float else v, None


def _constant_value(v):
    if type(v) is not float:
        raise _NeedGeneric("value of an outer level")
    return v


@_scoped
def _vgh_o2_one(f, x, args, budget=None, tri=True):
    """(value, g, H) in one pass of the second-order rows (small n); under a
    budget, _Outgrew with the Hessian rows per pass that would fit (f may
    have written into x by then: the caller starts again from its point)."""
    n = x.size
    tag = _dual._new_tag()
    seed = _o2_seed(n, tri)
    if budget is None:
        res = hessian_pass(f, x, args, seed, tag, tri)
    else:
        # _budgeted inlined, as in _one_pass: every small Hessian's path (W5)
        local = _BUDGET
        old = getattr(local, "limit", None)
        local.limit = budget
        try:
            res = hessian_pass(f, x, args, seed, tag, tri)
        except BufferBudgetExceeded as exc:
            if exc.budget != budget:
                raise       # an enclosing call's budget (nested): not ours to handle
            raise _Outgrew(_o2_rows_within(n, seed.shape[0], exc.nbytes, budget)) from None
        finally:
            local.limit = old
    if type(res) is list:
        return float(res[0]), res[1], res[2]
    o2 = (n, 0, n, True) if tri else (n, 0, n)
    value, _ = _o2_result(res[0], tag, o2, "hessian")
    # f does not depend on x
    return _constant_value(value), np.zeros(n), np.zeros((n, n))


def _o2_rows_within(n, rows, nbytes, budget):
    """Hessian rows i per pass (a block of at most c n tangent rows after the
    n gradient rows) that keep a buffer that held `rows` rows in `nbytes`
    under the budget; at most half of n."""
    per_row = max(nbytes / max(rows, 1), 1.0)
    return max(1, min(n // 2, int((budget // per_row - n) // max(n, 1))))


@_scoped
def _vgh_o2(f, x, args, chunk, first=None, tri=True):
    """(value, g (n,), H (n, n)) from the second-order rows, chunked.

    ``tri``: the rows of the upper triangle only (n(n+1)/2 pairs in all, H
    filled symmetric at the end); False: the full block (n*n pairs, each
    entry computed once per side -- for tests comparing the layouts).
    chunk=None: every pass of two or more Hessian rows runs under the
    budget (DUALML_MAX_BYTES); one outgrowing it is rerun with fewer (the
    one-pass attempt raises _Outgrew: the caller reruns with ``first``, the
    Hessian rows per pass to start with, from a fresh copy of its point).
    """
    n = x.size
    budget = _cap_bytes() if chunk is None else None
    shape = x.shape
    # rows per pass: n (gradient) + at most c*n (a block of Hessian rows)
    if first is not None:
        c = first
    elif chunk is None and 0 < n <= _O2_SEED_MAX:
        return _vgh_o2_one(f, x, args, budget if n > 1 else None, tri)
    elif chunk is None:
        c = max(1, min(n, (budget // max(8 * n, 1) - n) // max(n, 1)))
    else:
        c = _chunk(chunk, n, 1, "hessian")
        if c >= n and 0 < n <= _O2_SEED_MAX:
            return _vgh_o2_one(f, x, args, None, tri)
    tag = _dual._new_tag()
    T = np.zeros(n * (n + 1) // 2 if tri else n * n)     # the H rows, i major
    g = np.zeros(n)
    value = None
    i0 = r0 = 0
    while True:
        i1 = min(n, i0 + c)
        o2 = (n, i0, i1, True) if tri else (n, i0, i1)
        h = _o2_hrows(*_o2_layout(o2))
        rows = np.zeros((n + h, n))
        rows[:n] = _identity(n)
        X = _new(x.copy(), rows.reshape((rows.shape[0],) + shape), tag, o2)
        if budget is not None and i1 - i0 > 1:
            r, nbytes = _budgeted(f, X, args, rows.shape[0], budget)
            if r is None:           # outgrew the budget: this block again, smaller
                c = max(1, min(i1 - i0 - 1,
                               _o2_rows_within(n, rows.shape[0], nbytes, budget)))
                continue
        else:
            r = f(X, *args)
        v, d = _o2_result(r, tag, o2, "hessian")
        if d is not None:
            T[r0:r0 + h] = d[n:]
            if value is None:
                g[:] = d[:n]
        if value is None:
            value = _constant_value(v) if d is None else v
        # else f does not depend on x: zero rows
        i0, r0 = i1, r0 + h
        if i0 >= n:
            break
    return value, g, _symmetric(T, n) if tri else T.reshape(n, n)


def hvp(f, x, v, args=()):
    """H(x) v for a scalar f, shape ``x.shape``, from one second-order pass."""
    pt = _point(x, "hvp")
    va = _direction(v, pt, "hvp")
    if type(pt) is _nd:
        try:
            Hv = _hvp_o2(f, pt, va, args)
        except _NeedGeneric:
            pt = _point(x, "hvp")       # f may have written into pt
        else:
            return float(Hv[0]) if pt.shape == () else Hv.reshape(pt.shape)
    return _hvp_nested(f, pt, va, args)


def _hessian_o2(f, x, args, chunk, tri=True):
    """The Hessian from the second-order rows, shape ``x.shape + x.shape``."""
    try:
        H = _vgh_o2(f, x.copy(), args, chunk, tri=tri)[2]
    except _Outgrew as exc:
        H = _vgh_o2(f, x.copy(), args, chunk, first=exc.chunk, tri=tri)[2]
    if x.shape == ():
        return float(H[0, 0])
    return H.reshape(x.shape + x.shape)


@_scoped
def _hvp_o2(f, x, v, args):
    n = x.size
    k = n + 1
    o2 = (k, n, k)
    # rows [e_1 .. e_n, v | curvature of v against all k]: (2k, n)
    rows = np.zeros((2 * k, n))
    rows[:n] = _identity(n)
    rows[n] = v.ravel()
    tag = _dual._new_tag()
    X = _new(x, rows.reshape((2 * k,) + x.shape), tag, o2)
    # 2(n + 1) rows in one pass (they cannot be split): over the budget, the
    # caller goes nested (jvp of a gradient chunked under the budget)
    budget = _cap_bytes()
    local = _BUDGET                 # _budgeted inlined: every small hvp's path
    old = getattr(local, "limit", None)
    local.limit = budget
    try:
        r = f(X, *args)
    except BufferBudgetExceeded as exc:
        if exc.budget != budget:
            raise
        raise _NeedGeneric("hvp rows over DUALML_MAX_BYTES") from None
    finally:
        local.limit = old
    _, d = _o2_result(r, tag, o2, "hvp")
    if d is None:
        return np.zeros(n)
    return d[k:k + n].copy()


def _hvp_nested(f, x, v, args):
    def grad(y):
        return gradient(f, y, args)
    return jvp(grad, x, v)[1]
