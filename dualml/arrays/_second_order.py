"""Hessian's second-order rows: the curvature terms of nonlinear rules.

Design
------
For ``hessian`` the tangent rows are ``[g (k rows), H rows]`` (a truncated
Taylor / hyper-dual array).  The layout ``_o2`` says which pairs (i, j) of
first-order rows the H rows hold, i major: ``(k, i0, i1)`` the full block,
i in [i0, i1) and every j < k (hvp's rows of v, sparse's colors against unit
rows); ``(k, i0, i1, True)`` the upper triangle j >= i, which is all a
symmetric Hessian needs (n(n+1)/2 rows instead of n^2; ``_o2_layout``).
The first-order kernels update all rows at once (f' * row); nonlinear rules
then add ``f'' g_i g_j`` (binary: the bilinear cross terms) from the
table's nested column compiled to C (``_kernels.o2_*``).  Rules whose
second partials vanish (``_O2_FLAT_*``) add nothing.  Anything without a
curvature rule raises ``_NeedGeneric`` and hessian falls back to nested
forward mode.
"""
import math

import numpy as np

from .. import _kernels as _K


def _o2_layout(o2):
    """(k, i0, i1, tri) of a layout ``(k, i0, i1)`` or ``(k, i0, i1, True)``."""
    if len(o2) == 3:
        k, i0, i1 = o2
        return k, i0, i1, False
    k, i0, i1, tri = o2
    return k, i0, i1, bool(tri)


def _o2_hrows(k, i0, i1, tri):
    """The number of H rows of a layout: (i1 - i0) * k, or sum(k - i) over [i0, i1)."""
    c = i1 - i0
    return c * k - (c * (i0 + i1 - 1)) // 2 if tri else c * k


def _o2_pairs(k, i0, i1, tri):
    """(i, j0, r0) per chunk row i: its H rows r0.. hold the pairs (i, j >= j0)."""
    out, r = [], 0
    for i in range(i0, i1):
        j0 = i if tri else 0
        out.append((i, j0, r))
        r += k - j0
    return out


def _o2_add(t, o2, s, terms):
    """t[k:] += sum of coef * gl_i * gr_j over the terms (the layout's pairs i, j)."""
    k, i0, i1, tri = _o2_layout(o2)
    H = t[k:]
    for coef, gl, gr in terms:
        gc = gl[i0:i1]
        if coef is None:
            for i, j0, r in _o2_pairs(k, i0, i1, tri):
                H[r:r + k - j0] += gc[i - i0][None] * gr[j0:]
            continue
        with np.errstate(all="ignore") if not _finite_sum(coef) else _NOCTX:
            scaled = gc * coef
            # decided for the whole chunk, as the full block always was
            exact = not math.isfinite(_add_reduce(scaled, None))
            for i, j0, r in _o2_pairs(k, i0, i1, tri):
                if exact:
                    # zero-tangent convention: a zero product stays 0 (not 0*inf)
                    cross = gc[i - i0][None] * gr[j0:]
                    cross = np.where(cross == 0, 0.0, cross * coef)
                else:
                    cross = scaled[i - i0][None] * gr[j0:]
                H[r:r + k - j0] += cross


class _NoCtx:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


_NOCTX = _NoCtx()


def _finite_sum(c):
    return math.isfinite(_add_reduce(c, None)) if type(c) is _nd else math.isfinite(c)


def _ones_row(shape):
    r = _ONES.get(shape)
    if r is None:
        r = np.ones((1,) + shape)
        r.flags.writeable = False
        if len(_ONES) < 64:
            _ONES[shape] = r
    return r


_ONES = {}


def _o2_unary(name, v, y, d, t, o2, p):
    # f'' from the table's nested column, evaluated in C (_kernels.o2_unary)
    if name in _O2_FLAT_U:
        return
    k, i0, i1, tri = _o2_layout(o2)
    if t.flags.c_contiguous:
        _K.o2_unary(name, v, d, t, k, i0, i1, p, tri)
        return
    c = _K.partials2(name, v, param=p)[2].reshape(v.shape)
    _o2_add(t, o2, v.shape, [(c, d[:k], d[:k])])


def _o2_binary(name, a, b, y, ad, bd, t, o2):
    if name in _O2_FLAT_B:
        _o2_domain_errors(name, a, b, ad, bd, y, t, o2)
        return
    k, i0, i1, tri = _o2_layout(o2)
    if t.flags.c_contiguous:
        _K.o2_binary(name, a, b, ad, bd, t, k, i0, i1, tri)
        return
    s = a.shape
    if name == "divide":
        # the recurrence of _kernels.o2_binary_c: -(y' b' + b' y') / b
        _o2_add(t, o2, s, [(-1.0 / b, t[:k], bd[:k]), (-1.0 / b, bd[:k], t[:k])])
        return
    _, _, _, faa, fab, fbb = _K.partials2(name, a, b)
    ga, gb = ad[:k], bd[:k]
    _o2_add(t, o2, s, [(faa, ga, ga), (fab, ga, gb), (fab, gb, ga), (fbb, gb, gb)])


def _o2_binary_const(name, v, c, y, d, t, o2, x_first):
    na, nb = _NESTED_B[name]
    g = na if x_first else nb
    # a bare name of the constant operand: the partial does not move with x
    if g.zero or g.unit == ("b" if x_first else "a"):
        if x_first:
            _o2_domain_errors(name, v, c, d, None, y, t, o2)
        else:
            _o2_domain_errors(name, c, v, None, d, y, t, o2)
        return
    k, i0, i1, tri = _o2_layout(o2)
    if t.flags.c_contiguous:
        if x_first:
            _K.o2_binary(name, v, c, d, None, t, k, i0, i1, tri)
        else:
            _K.o2_binary(name, c, v, None, d, t, k, i0, i1, tri)
        return
    if name == "divide" and not x_first:
        _o2_add(t, o2, v.shape, [(-1.0 / v, t[:k], d[:k]), (-1.0 / v, d[:k], t[:k])])
        return
    P = _K.partials2(name, v, c) if x_first else _K.partials2(name, c, v)
    _o2_add(t, o2, v.shape, [(P[3] if x_first else P[5], d[:k], d[:k])])


def _o2_domain_errors(name, a, b, ad, bd, y, t, o2):
    """The curvature rows of a binary rule whose second partials vanish
    (skipped above) at its domain errors: where the value is nan from
    operands that are not (inf - inf, x // 0, remainder(inf, x)), the second
    partials are nan (dual_nanprop), on this path as on every other one;
    elsewhere nothing is added.  ``a``/``b``: values (arrays or floats),
    ``ad``/``bd``: their tangent rows, None for a constant; ``t``: the
    result's rows, C-contiguous."""
    y = np.asarray(y)
    if not np.isnan(y).any():
        return
    s, n = y.shape, y.size
    a = np.broadcast_to(np.asarray(a, dtype=float), s).reshape(n)
    b = np.broadcast_to(np.asarray(b, dtype=float), s).reshape(n)
    bad = np.flatnonzero(np.isnan(y.reshape(n)) & ~np.isnan(a) & ~np.isnan(b))
    if not bad.size:
        return
    k, i0, i1, tri = _o2_layout(o2)
    H = t[k:].reshape(-1, n)                     # a view: t is C-contiguous
    rows = [np.broadcast_to(g[:k], (k,) + s).reshape(k, n)[:, bad]
            for g in (ad, bd) if g is not None]
    for gl in rows:
        for gr in rows:
            # nan * g_i g_j, 0 where the product is 0 (zero-tangent convention)
            for i, j0, r in _o2_pairs(k, i0, i1, tri):
                cross = gl[i][None] * gr[j0:]
                H[r:r + k - j0, bad] += np.where(cross == 0, 0.0, np.nan)


def _o2_flat():
    # rules whose second partials vanish identically (CONST or a constant
    # nested expression): their hessian rows need no curvature term
    u = {n for n, g in _NESTED_U.items() if g.zero}
    u |= {n for n, g in _NESTED_UP.items() if g.zero}
    b = {n for n, (na, nb) in _NESTED_B.items()
         if na.zero and nb.zero}
    return frozenset(u), frozenset(b)


# The modules of this package call each other: their names are bound
# here, after this module's own definitions (call time, not import time).
from ._nested import _NESTED_B, _NESTED_U, _NESTED_UP  # noqa: E402
from ._operands import _add_reduce, _nd  # noqa: E402


_O2_FLAT_U, _O2_FLAT_B = _o2_flat()
