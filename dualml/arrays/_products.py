"""Bilinear operations: matmul, dot, inner, outer, tensordot, einsum.

Design
------
``L(a, b)`` bilinear gives value ``L(av, bv)`` and tangents
``L(ad, bv) + L(av, bd)``, with the direction axis as a leading batch axis
(``_bilinear``); hessian rows add the cross terms ``L(ga_i, gb_j) +
L(ga_j, gb_i)`` for the pairs (i, j) of their layout.  Values are NumPy's
own product (matmul's for ``@``, np.dot's for ``dot``); the tangent terms
of matrix products go through the core's ``_tmatmul``, the rule its C
paths use too (products with a constant matrix, of two dual matrices), so
both give the same bits.  A nan the product makes of inputs that are not
nan (0 * inf, inf - inf) has nan tangents (``_shape._domain_nans``).
These are the general forms.

einsum: the value is NumPy's einsum (its bits); each tangent term is an
einsum with the direction letter on one operand.  A term of two operands
without diagonals or lone summed letters is one matrix product by the rule
of ``_tmatmul`` (batch letters, then each side's free letters, the summed
letters in the first operand's order; ``_einsum_plan``, cached): NumPy's
einsum loops sum the 10^4 products of ``zij,jk->zik`` at 10 x 10 x 10 in
7 us, the product kernel in 0.4 us.  Other terms go to NumPy's einsum.
"""
import functools
import math
import numbers

import numpy as np

from ._core import DualArray, _einsum_pair_g, _has_nan, _new, _tmatmul

try:                                    # np.einsum without optimize= is this call
    from numpy._core.multiarray import c_einsum as _c_einsum
except ImportError:                     # pragma: no cover (a private name NumPy may move)
    _c_einsum = np.einsum


def _bilinear(L, a, b):
    """L(a, b) bilinear: value L(av, bv), tangents L(ad, bv) + L(av, bd).

    L must accept a leading direction (batch) axis on either operand; L is
    called recursively on components.  Where the product makes a nan of
    inputs that are not nan (0 * inf, inf - inf), the tangents are nan
    (_shape._domain_nans).
    """
    r = _bilinear_terms(L, a, b)
    return _domain_nans(r, lambda: _fed(lambda x, y: L(x, y, 0), a, b))


def _fed(L, a, b):
    # L of each operand's nan marks against ones for the other: nan exactly
    # where a nan input (of either operand, constants included) reaches
    ma, mb = _nan_marks(a), _nan_marks(b)
    return L(ma, np.ones(mb.shape)) + L(np.ones(ma.shape), mb)


def _bilinear_terms(L, a, b):
    ta, tb = _tag(a), _tag(b)
    if ta == 0 and tb == 0:
        return L(a, b, 0)
    if ta == tb:
        ka, kb = a._d.shape[0], b._d.shape[0]
        if ka != kb:
            raise ValueError(f"DualArrays of one tag with different numbers of "
                             f"directions: deriv shapes {a._d.shape} and {b._d.shape}")
        v = L(a._v, b._v, 0)
        # the tangent buffers, before they are allocated
        if ka * v.size >= ROWS_CHECKED:
            check_rows(ka, v.size)
        t = _tadd(L(a._d, b._v, 1), L(a._v, b._d, 2))
        if a._o2 is not None:
            if not all(type(c) is _nd for c in (a._v, a._d, b._v, b._d)):
                raise _NeedGeneric("bilinear")
            k, i0, i1, tri = _o2_layout(a._o2)
            ga, gb = a._d[:k], b._d[:k]
            # cross terms L(ga_i, gb_j) + L(ga_j, gb_i) for the layout's pairs
            pairs = _o2_pairs(k, i0, i1, tri)
            if L is _mm and ga.ndim == 3 and gb.ndim == 3 and ga.shape[1] == 1 \
                    and gb.shape[2] == 1 and ga.shape[2] == gb.shape[1]:
                # a row times a column (x @ y of vectors comes here so):
                # every L(ga_i, gb_j) is G[i, j] of the one product
                # G = ga gb' by the same rule (_tmatmul's in-order sums,
                # whose bits do not depend on how the products are batched)
                # instead of two calls per pair (35 of 49 us at k = 10)
                G = _tmatmul(ga[:, 0, :], gb[:, :, 0].T)
                H = _tadd(G, np.ascontiguousarray(G.T))    # H[i, j] = G[i, j] + G[j, i]
                cross = [np.concatenate([H[i, j0:] for i, j0, _ in pairs]).reshape(-1, 1, 1)]
            else:
                cross = [_tadd(L(ga[i], gb[j0:], 2), L(ga[j0:], gb[i], 1))
                         for i, j0, _ in pairs]
            t = np.array(t, copy=True)
            t[k:] += np.concatenate(cross, axis=0) if cross else 0.0
        return _new(v, t, ta, a._o2)
    if ta > tb:
        if a._o2 is not None and type(b) is not _nd:
            raise _NeedGeneric("bilinear")
        v = L(a._v, b, 0)
        if a._d.shape[0] * v.size >= ROWS_CHECKED:
            check_rows(a._d.shape[0], v.size)
        return _new(v, L(a._d, b, 1), ta, a._o2)
    if b._o2 is not None and type(a) is not _nd:
        raise _NeedGeneric("bilinear")
    v = L(a, b._v, 0)
    if b._d.shape[0] * v.size >= ROWS_CHECKED:
        check_rows(b._d.shape[0], v.size)
    return _new(v, L(a, b._d, 2), tb, b._o2)


def _matmul(a, b):
    # fast paths: a constant matrix times a first-order DualArray and v.v.
    if type(a) is _nd and type(b) is DualArray:
        bv, bd = b._v, b._d
        if (type(bv) is _nd and type(bd) is _nd and a.ndim == 2 and 1 <= bv.ndim <= 2
                and a.shape[1] == bv.shape[0]):
            v = a @ bv
            # the tangent buffer, before it is made
            if bd.shape[0] * v.size >= ROWS_CHECKED:
                check_rows(bd.shape[0], v.size)
            if bv.ndim == 1:
                if b._eye is bd and b._o2 is None:
                    # W @ I: the tangent rows are W's columns (no O(n^3) product)
                    r = _new(v, a.T.copy(), b._tag, None)
                else:
                    r = _new(v, _tmatmul(bd, a.T), b._tag, b._o2)
            else:
                r = _new(v, _tmatmul(a, bd), b._tag, b._o2)
            return _domain_nans(r, lambda: _fed(_np_matmul, a, b))
    elif type(b) is _nd and type(a) is DualArray:
        av, ad = a._v, a._d
        if (type(av) is _nd and type(ad) is _nd and b.ndim == 2 and 1 <= av.ndim <= 2
                and av.shape[-1] == b.shape[0]):
            v = av @ b
            if ad.shape[0] * v.size >= ROWS_CHECKED:
                check_rows(ad.shape[0], v.size)
            return _domain_nans(_new(v, _tmatmul(ad, b), a._tag, a._o2),
                                lambda: _fed(_np_matmul, a, b))
    na, nb = len(a.shape), len(b.shape)
    if na == 0 or nb == 0:
        raise ValueError("matmul: Input operand does not have enough dimensions "
                         "(use * for scalars)")
    if na == 1 and nb == 1:
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} do not match")
        r = _dot_o2(a, b)
        if r is not None:
            return r
        return _reshape(_matmul(_reshape(a, (1, -1)), _reshape(b, (-1, 1))), ())
    if na == 1:
        r = _matmul(_reshape(a, (1, -1)), b)
        return _squeeze(r, -2)
    if nb == 1:
        r = _matmul(a, _reshape(b, (-1, 1)))
        return _squeeze(r, -1)
    if a.shape[-1] != b.shape[-2]:
        raise ValueError(f"matmul: mismatch in the core dimension: shapes {a.shape} and "
                         f"{b.shape}")
    return _bilinear(_mm, a, b)


def _dot_o2(a, b):
    """x @ y of two hessian vectors (one tag and layout, ndarray components):
    the steps of the row-times-column product _bilinear_terms makes of them
    (the value NumPy's (1, n) @ (n, 1), each row's terms and the pairs'
    cross terms by _tmatmul's in-order sums, whose bits do not depend on the
    batching), without its reshapes and per-call dispatch; None for other
    operands."""
    if not (type(a) is DualArray and type(b) is DualArray and a._o2 is not None
            and a._tag == b._tag and a._o2 == b._o2):
        return None
    av, ad, bv, bd = a._v, a._d, b._v, b._d
    if not (type(av) is _nd and type(ad) is _nd and type(bv) is _nd and type(bd) is _nd
            and ad.shape[0] == bd.shape[0]):
        return None
    k, i0, i1, tri = _o2_layout(a._o2)
    v = np.matmul(av[None, :], bv[:, None]).reshape(())
    t = _tadd(_tmatmul(ad, bv[:, None])[:, 0], _tmatmul(av[None, :], bd.T)[0])
    G = _tmatmul(ad[:k], bd[:k].T)
    H = _tadd(G, np.ascontiguousarray(G.T))        # H[i, j] = G[i, j] + G[j, i]
    ii, jj = _pair_index(k, i0, i1, tri)
    if len(ii):
        t = np.array(t, copy=True)
        t[k:] += H[ii, jj]
    return _domain_nans(_new(v, t, a._tag, a._o2), lambda: _fed(_np_matmul, a, b))


@functools.lru_cache(maxsize=64)
def _pair_index(k, i0, i1, tri):
    # the (i, j) of the layout's second-order rows, in their order
    # (_o2_pairs: for each i, j from j0 on), as two index arrays
    ii, jj = [], []
    for i, j0, _ in _o2_pairs(k, i0, i1, tri):
        ii += [i] * (k - j0)
        jj += range(j0, k)
    return np.array(ii, dtype=np.intp), np.array(jj, dtype=np.intp)


def _mm(x, y, which):
    # which: 0 value, 1 x carries a leading direction axis, 2 y does
    if which == 1:
        n = max(len(x.shape) - 1, len(y.shape))
        x = _expand_t(x, n)
    elif which == 2:
        n = max(len(x.shape), len(y.shape) - 1)
        y = _expand_t(y, n)
    if type(x) is _nd and type(y) is _nd:
        # values: NumPy's product; tangent terms: the core's rule (_tmatmul)
        return _arr(np.matmul(x, y) if which == 0 else _tmatmul(x, y))
    return _matmul(x, y)


def _tensordot(a, b, axes=2):
    r = _tensordot_flat(a, b, axes)
    if r is not None:
        return r
    na, nb = len(a.shape), len(b.shape)
    if isinstance(axes, numbers.Integral):
        axa = list(range(na - axes, na))
        axb = list(range(0, axes))
    else:
        axa, axb = axes
        axa = [axa] if isinstance(axa, numbers.Integral) else list(axa)
        axb = [axb] if isinstance(axb, numbers.Integral) else list(axb)
    axa = [_norm_axis(i, na) - na for i in axa]
    axb = [_norm_axis(i, nb) for i in axb]
    for i, j in zip(axa, axb):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: shape mismatch for sum: shapes {a.shape} and "
                             f"{b.shape}")
    nfree_a = na - len(axa)

    def L(x, y, which):
        if which == 2:
            yb = [j + 1 for j in axb]
            r = _tensordot_c(x, y, axa, yb)
            return _moveaxis(r, nfree_a, 0)
        return _tensordot_c(x, y, axa, axb if which != 2 else axb)

    return _bilinear(L, a, b)


def _tensordot_flat(a, b, axes):
    """np.tensordot of first-order DualArrays and float64 ndarrays as NumPy
    computes it: both operands transposed (summed axes last in a, first in
    b) and reshaped to matrices, one np.dot, the result reshaped -- the
    views and the product by the core's C paths, so the value is NumPy's
    tensordot bit for bit (the same dot of the same matrices) and the
    tangents one product each.  None for other operands (nested, second
    order, other dtypes: _tensordot's component-wise path)."""
    for o in (a, b):
        if type(o) is _nd:
            if o.dtype != _f64:
                return None
        elif not (type(o) is DualArray and o._o2 is None and type(o._v) is _nd):
            return None
    if isinstance(axes, numbers.Integral):
        axa, axb = list(range(-axes, 0)), list(range(0, axes))
    else:
        axa, axb = axes
        axa = [axa] if isinstance(axa, numbers.Integral) else list(axa)
        axb = [axb] if isinstance(axb, numbers.Integral) else list(axb)
    sa, sb = a.shape, b.shape
    na, nb = len(sa), len(sb)
    if len(axa) != len(axb) or any(sa[i] != sb[j] for i, j in zip(axa, axb)):
        raise ValueError("shape-mismatch for sum")
    axa = [i + na if i < 0 else i for i in axa]
    axb = [j + nb if j < 0 else j for j in axb]
    free_a = [k for k in range(na) if k not in axa]
    free_b = [k for k in range(nb) if k not in axb]
    n2 = math.prod(sa[i] for i in axa)
    # (a transpose or reshape that changes nothing is skipped: the same layout)
    at = _view_as(a, free_a + axa, (math.prod(sa[k] for k in free_a), n2))
    bt = _view_as(b, axb + free_b, (n2, math.prod(sb[k] for k in free_b)))
    r = np.dot(at, bt)
    shape = tuple(sa[k] for k in free_a) + tuple(sb[k] for k in free_b)
    return r if r.shape == shape else r.reshape(shape)


def _view_as(x, axes, shape):
    # x.transpose(axes).reshape(shape)
    if axes != list(range(len(axes))):
        x = x.transpose(tuple(axes))
    return x if x.shape == shape else x.reshape(shape)


def _tensordot_c(x, y, axa, axb):
    if type(x) is _nd and type(y) is _nd:
        return _arr(np.tensordot(x, y, axes=(axa, axb)))
    # components: axes of y given from the front; y's leading tangent axes are
    # not summed, so shift them for the recursion
    return _tensordot(x, y, (axa, [j - len(y.shape) for j in axb]))


def _dot(a, b):
    na, nb = len(a.shape), len(b.shape)
    if na == 0 or nb == 0:
        return _ew_binary("multiply", a, b)
    r = _matmul(a, b) if na <= 2 and nb <= 2 else _tensordot(a, b, ([-1], [-2 if nb >= 2 else 0]))
    av, bv = _first_values(a), _first_values(b)
    if type(r) is DualArray and av is not None and bv is not None:
        # the value np.dot's own bits (matmul may sum in another order on
        # strided operands, tensordot's one product in another order than
        # np.dot's inner products of more dimensions), as the core's np.dot
        r = _new(np.asarray(np.dot(av, bv)), r._d, r._tag, r._o2)
    return r


def _first_values(x):
    # the float values of a constant or of a DualArray whose values are floats
    if type(x) is _nd:
        return x
    return x._v if type(x._v) is _nd else None


def _inner_prod(a, b):
    if len(a.shape) == 0 or len(b.shape) == 0:
        return _ew_binary("multiply", a, b)
    if len(a.shape) == 1 and len(b.shape) == 1:
        return _matmul(a, b)
    return _tensordot(a, b, ([-1], [-1]))


def _outer(a, b):
    # a column times a row: the methods and the operator take the core's C
    # paths (views, one broadcast multiply), the Python ones where they do not
    return a.reshape(-1, 1) * b.reshape(1, -1)


_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _einsum(subscripts, *ops, optimize=False, **kwargs):
    if kwargs:
        raise TypeError(f"einsum on DualArray: unsupported arguments {sorted(kwargs)}")
    if len(ops) == 2 and optimize is False and type(subscripts) is str:
        r = _einsum_dual_const(subscripts, ops[0], ops[1])
        if r is None:
            r = _einsum_duals(subscripts, ops[0], ops[1])
        if r is not None:
            return r
    if not isinstance(subscripts, str):
        subscripts, ops = _einsum_sublists((subscripts,) + ops)
    ops = [_operand(o, "einsum") for o in ops]
    ins, out = _einsum_parse(subscripts)
    if len(ins) != len(ops):
        raise ValueError(f"einsum: {len(ins)} operand subscripts for {len(ops)} operands")
    return _einsum_c(ins, out, ops, optimize)


@functools.lru_cache(maxsize=512)
def _einsum_parse(subscripts):
    # the operands' subscripts (a tuple) and the output's (NumPy's implicit
    # output: the letters seen once, sorted, after any ellipsis)
    subs = subscripts.replace(" ", "")
    if "->" in subs:
        ins, out = subs.split("->")
    else:
        ins = subs
        letters = ins.replace(",", "").replace(".", "")
        out = ("..." if "..." in ins else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    return tuple(ins.split(",")), out


def _einsum_sublists(args):
    """einsum(op0, sublist0, op1, sublist1, ..., [sublistout]) as a subscript string."""
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

    def spell(sub):
        out = []
        for i in sub:
            if i is Ellipsis:
                out.append("...")
            else:
                i = int(i)
                if not 0 <= i < len(letters):
                    raise ValueError(f"einsum: subscript {i} is not in [0, {len(letters)})")
                out.append(letters[i])
        return "".join(out)
    ops = list(args[0::2])
    subs = list(args[1::2])
    out = None
    if len(ops) > len(subs):            # a trailing output sublist
        out = ops.pop()
    s = ",".join(spell(x) for x in subs)
    if out is not None:
        s += "->" + spell(out)
    return s, tuple(ops)


def _einsum_dual_const(subscripts, a, b):
    """einsum of a first-order DualArray and a constant float64 ndarray
    (either order) whose tangent term is one product (_einsum_pair): what
    _einsum_c computes for them, with its checks written for this case
    only; None where it does not apply (a nan value too: _einsum_c's
    domain rule decides its tangents)."""
    if type(a) is DualArray and type(b) is _nd:
        x, c, i = a, b, 0
    elif type(b) is DualArray and type(a) is _nd:
        x, c, i = b, a, 1
    else:
        return None
    if x._o2 is not None or type(x._v) is not _nd or c.dtype != _f64:
        return None
    d = x._d
    key = (subscripts, i, d.shape, c.shape)
    plan = _EINSUM_DC.get(key)
    if plan is None:
        ins, out = _einsum_parse(subscripts)
        spec, z = _einsum_spec(ins, out)
        if len(ins) != 2 or z is None:
            plan = False
        else:
            g = _einsum_geometry(z + ins[i], ins[1 - i], z + out, d.shape, c.shape)
            plan = False if g is None else (spec, g)
        if len(_EINSUM_DC) >= 256:
            _EINSUM_DC.clear()
        _EINSUM_DC[key] = plan
    if plan is False:
        return None
    spec, g = plan
    v = _c_einsum(spec, x._v, c) if i == 0 else _c_einsum(spec, c, x._v)
    if type(v) is not _nd or _has_nan(v):
        return None
    rows = d.shape[0]
    if rows * v.size >= ROWS_CHECKED:
        check_rows(rows, v.size)
    return _new(v, _einsum_pair_g(g, d, c), x._tag, None)


# _einsum_dual_const's plans by (subscripts, which operand is dual, the
# tangent rows' and the constant's shapes): the string work and the product
# geometry once per call site (bounded: cleared when full)
_EINSUM_DC = {}


def _einsum_duals(subscripts, a, b):
    """einsum of two first-order DualArrays of one tag whose tangent terms
    are one product each (_einsum_pair): what _einsum_c computes for them
    (the value NumPy's einsum, then a's term plus b's by the add rule),
    with the plan found once per call site; None where it does not apply
    (a nan value too: _einsum_c's domain rule decides its tangents)."""
    if type(a) is not DualArray or type(b) is not DualArray:
        return None
    if a._o2 is not None or b._o2 is not None or a._tag != b._tag:
        return None
    av, bv = a._v, b._v
    if type(av) is not _nd or type(bv) is not _nd:
        return None
    da, db = a._d, b._d
    if da.shape[0] != db.shape[0]:
        return None                     # (_einsum_c raises)
    key = (subscripts, da.shape, db.shape)
    plan = _EINSUM_DD.get(key)
    if plan is None:
        ins, out = _einsum_parse(subscripts)
        spec, z = _einsum_spec(ins, out)
        plan = False
        if len(ins) == 2 and z is not None:
            ga = _einsum_geometry(z + ins[0], ins[1], z + out, da.shape, bv.shape)
            gb = _einsum_geometry(z + ins[1], ins[0], z + out, db.shape, av.shape)
            if ga is not None and gb is not None:
                plan = (spec, ga, gb)
        if len(_EINSUM_DD) >= 256:
            _EINSUM_DD.clear()
        _EINSUM_DD[key] = plan
    if plan is False:
        return None
    spec, ga, gb = plan
    v = _arr(_c_einsum(spec, av, bv))
    if _has_nan(v):
        return None
    rows = da.shape[0]
    if rows * v.size >= ROWS_CHECKED:
        check_rows(rows, v.size)
    return _new(v, _tadd(_einsum_pair_g(ga, da, bv), _einsum_pair_g(gb, db, av)), a._tag, None)


# _einsum_duals' plans by (subscripts, both operands' tangent shapes)
_EINSUM_DD = {}


def _einsum_c(ins, out, ops, optimize=False):
    # ins: a tuple of subscripts; optimize: np.einsum's, for the values
    # only (with a contraction order, NumPy sums the value in its order)
    spec, z = _einsum_spec(ins, out)
    t = max(_tag(o) for o in ops)
    if t == 0:
        if optimize is False:
            return _arr(_c_einsum(spec, *ops))
        return _arr(np.einsum(spec, *ops, optimize=optimize))
    rows = None
    for o in ops:
        if _tag(o) == t:
            if rows is not None and o._d.shape[0] != rows:
                raise ValueError("einsum: DualArrays of one tag with different numbers "
                                 "of directions")
            rows = o._d.shape[0]
            if o._o2 is not None:
                raise _NeedGeneric("einsum")
    vals = [o._v if _tag(o) == t else o for o in ops]
    if optimize is False and all(type(c) is _nd for c in vals):
        v = _arr(_c_einsum(spec, *vals))
    else:
        v = _einsum_c(ins, out, vals, optimize)
    # the tangent terms, before they are made
    if rows * v.size >= ROWS_CHECKED:
        check_rows(rows, v.size)
    if z is None:
        raise ValueError("einsum on DualArray: the subscripts use all 52 letters; "
                         "the tangents need one more")
    d = None
    for i, o in enumerate(ops):
        if _tag(o) != t:
            continue
        args = list(vals)
        args[i] = o._d
        sub = ins[:i] + (z + ins[i],) + ins[i + 1:]
        term = None
        if len(args) == 2 and type(args[0]) is _nd and type(args[1]) is _nd:
            term = _einsum_pair(sub[i], sub[1 - i], z + out, args[i], args[1 - i])
        if term is None:
            term = _einsum_c(sub, z + out, args)
        d = term if d is None else _tadd(d, term)
    return _domain_nans(_new(v, d, t, None), lambda: _einsum_fed(ins, out, ops))


@functools.lru_cache(maxsize=512)
def _einsum_spec(ins, out):
    # NumPy's subscript string, and a letter the subscripts do not use (the
    # direction axis of the tangent terms)
    used = set("".join(ins) + out)
    return ",".join(ins) + "->" + out, next((c for c in _LETTERS if c not in used), None)


def _einsum_pair(sx, sy, so, x, y):
    """einsum(sx, sy -> so) of two ndarrays as one product by _tmatmul's rule
    (x's summed letters in x's order); None where _einsum_plan declines or
    the sizes need broadcasting or are empty."""
    g = _einsum_geometry(sx, sy, so, x.shape, y.shape)
    if g is None:
        return None
    return _einsum_pair_g(g, x, y)


@functools.lru_cache(maxsize=512)
def _einsum_geometry(sx, sy, so, xshape, yshape):
    # _einsum_plan for operands of these shapes: the axis orders, the
    # operands' shapes as (batched) matrices, the product's shape and the
    # axis order that turns it into so's; None where no product applies
    plan = _einsum_plan(sx, sy, so, len(xshape), len(yshape))
    if plan is None:
        return None
    px, py, nb, nfx, nc, po = plan
    xs = xshape if px is None else tuple(xshape[i] for i in px)
    ys = yshape if py is None else tuple(yshape[i] for i in py)
    bsh = xs[:nb]
    if ys[:nb] != bsh or ys[nb:nb + nc] != xs[nb + nfx:] or 0 in xs or 0 in ys:
        return None
    rsh = bsh + xs[nb:nb + nfx] + ys[nb + nc:]
    if nb:
        xs2 = (-1, math.prod(xs[nb:nb + nfx]), math.prod(xs[nb + nfx:]))
        ys2 = (math.prod(bsh), -1, math.prod(ys[nb + nc:]))
    else:
        xs2 = (math.prod(xs[:nfx]), -1)
        ys2 = (math.prod(ys[:nc]), -1)
    return px, py, xs2, ys2, rsh, po


@functools.lru_cache(maxsize=512)
def _einsum_plan(sx, sy, so, nx, ny):
    """The product form of einsum(sx, sy -> so) for operands of nx and ny
    dimensions: the axis orders (batch, x's free, summed) and (batch, summed,
    y's free), the counts of batch, free-x and summed letters, and the axis
    order that turns (batch, x's free, y's free) into so; None for
    diagonals, letters summed within one operand, or a subscript that does
    not match its operand."""
    letters = set(_LETTERS) - set(sx + sy + so)
    if "..." in sx + sy + so:
        ne = max(nx - len(sx.replace("...", "")), ny - len(sy.replace("...", "")), 0)
        if len(letters) < ne:
            return None
        ell = sorted(letters)[:ne]

        def spell(sub, n):
            if "..." not in sub:
                return sub
            m = n - len(sub.replace("...", ""))
            if m < 0:
                return None
            return sub.replace("...", "".join(ell[ne - m:]))
        sx, sy = spell(sx, nx), spell(sy, ny)
        if sx is None or sy is None:
            return None
        so = so.replace("...", "".join(ell))
    if len(sx) != nx or len(sy) != ny:
        return None
    if len(set(sx)) != nx or len(set(sy)) != ny or len(set(so)) != len(so):
        return None
    if any(c not in sy and c not in so for c in sx) or any(c not in sx and c not in so for c in sy):
        return None
    if any(c not in sx and c not in sy for c in so):
        return None
    batch = [c for c in so if c in sx and c in sy]
    fx = [c for c in so if c in sx and c not in sy]
    fy = [c for c in so if c in sy and c not in sx]
    summed = [c for c in sx if c in sy and c not in so]
    px = tuple(sx.index(c) for c in batch + fx + summed)
    py = tuple(sy.index(c) for c in batch + summed + fy)
    order = batch + fx + fy
    po = tuple(order.index(c) for c in so)
    return (None if px == tuple(range(nx)) else px, None if py == tuple(range(ny)) else py,
            len(batch), len(fx), len(summed), None if po == tuple(range(len(po))) else po)


def _einsum_fed(ins, out, ops):
    # the einsum of each operand's nan marks against ones for the others
    marks = [_nan_marks(o) for o in ops]
    spec = ",".join(ins) + "->" + out
    return sum(np.einsum(spec, *[m if j == i else np.ones(m.shape) for j, m in enumerate(marks)])
               for i in range(len(ops)))


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._budget import ROWS_CHECKED, check_rows  # noqa: E402
from ._elementwise import _ew_binary, _tadd  # noqa: E402
from ._operands import _NeedGeneric, _expand_t, _f64, _nd, _np_matmul, _operand, _tag  # noqa: E402
from ._second_order import _o2_layout, _o2_pairs  # noqa: E402
from ._shape import (_arr, _domain_nans, _moveaxis, _nan_marks, _norm_axis, _reshape,  # noqa: E402
                     _squeeze)  # noqa: E402
