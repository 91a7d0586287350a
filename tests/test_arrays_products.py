"""Tests of dualml/arrays/_products.py: einsum's tangent terms as products,
tensordot as NumPy's reshaped dot.

The references are NumPy's own einsum applied direction by direction to the
tangents (the map is linear in each operand, so the tangent of a product is
einsum of the tangent against the other operand's value, plus the other
way round for two dual operands): independent code, a different summation
order, hence a tolerance.  The value is NumPy's einsum (tensordot) bit for
bit.
"""
import numpy as np
import pytest

from dualml import DualArray
from dualml.arrays import _products

K = 3


def _dual(shape, seed):
    rng = np.random.default_rng(seed)
    return DualArray(rng.standard_normal(shape), rng.standard_normal((K,) + shape))


# (subscripts, shape of the dual operand, shape of the constant, whether the
# tangent term is one product (_einsum_plan) or NumPy's einsum)
PAIRS = [
    ("ij,jk->ik", (4, 5), (5, 3), True),
    ("ij,kj->ik", (4, 5), (3, 5), True),
    ("ji,jk->ik", (5, 4), (5, 3), True),
    ("ij,jk->ki", (4, 5), (5, 3), True),
    ("ij,j->i", (4, 5), (5,), True),
    ("j,jk->k", (5,), (5, 3), True),
    ("i,i->", (5,), (5,), True),
    ("i,i", (5,), (5,), True),
    ("i,j->ij", (4,), (3,), True),
    ("i,j->ji", (4,), (3,), True),
    ("ij,ij->i", (4, 5), (4, 5), True),
    ("ij,ij->", (4, 5), (4, 5), True),
    ("ij,ij->ij", (4, 5), (4, 5), True),
    ("bij,bjk->bik", (2, 4, 5), (2, 5, 3), True),
    ("bij,bjk->kbi", (2, 4, 5), (2, 5, 3), True),
    ("ijk,ik->ij", (2, 3, 4), (2, 4), True),
    ("abc,cb->a", (2, 3, 4), (4, 3), True),
    ("...ij,...jk->...ik", (2, 4, 5), (2, 5, 3), True),
    ("...ij,jk->...ik", (2, 4, 5), (5, 3), True),
    ("...i,i->...", (2, 4), (4,), True),
    ("ij,jk", (4, 5), (5, 3), True),
    # broadcasting of an ellipsis axis of length 1: NumPy's einsum
    ("...ij,...jk->...ik", (1, 4, 5), (2, 5, 3), False),
    # a diagonal, a letter summed within one operand: NumPy's einsum
    ("ii,i->i", (4, 4), (4,), False),
    ("ij,k->i", (4, 5), (3,), False),
    ("ij,jk->", (4, 5), (5, 3), False),
]


def _per_direction(spec, ops, i):
    # einsum with operand i's tangent rows in place of its value, row by row
    rows = []
    for j in range(K):
        args = [o.value if isinstance(o, DualArray) else o for o in ops]
        args[i] = ops[i].deriv[j]
        rows.append(np.einsum(spec, *args))
    return np.stack(rows)


@pytest.mark.parametrize("spec, sa, sb, product", PAIRS)
@pytest.mark.parametrize("dual", ["first", "second", "both"])
def test_einsum_tangents_match_numpys_einsum_per_direction(spec, sa, sb, product, dual):
    rng = np.random.default_rng(len(spec) + len(sa))
    a = _dual(sa, 1) if dual in ("first", "both") else rng.standard_normal(sa)
    if dual == "second":
        b = _dual(sb, 2)
    elif dual == "both":
        if sa != sb:
            b = _dual(sb, 2)
        else:
            b = _dual(sb, 3)
    else:
        b = rng.standard_normal(sb)
    if dual == "second":
        a, b = rng.standard_normal(sb), _dual(sa, 2)
        ins, out = spec.split("->") if "->" in spec else (spec, None)
        x, y = ins.split(",")
        spec = f"{y},{x}" + ("" if out is None else "->" + out)
    ops = [a, b]
    r = np.einsum(spec, *ops)
    vals = [o.value if isinstance(o, DualArray) else o for o in ops]
    assert np.array_equal(r.value, np.einsum(spec, *vals))            # NumPy's bits
    ref = sum(_per_direction(spec, ops, i) for i, o in enumerate(ops) if isinstance(o, DualArray))
    np.testing.assert_allclose(r.deriv, ref, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("spec, sa, sb, product", PAIRS)
@pytest.mark.parametrize("first", [True, False])
def test_einsum_of_a_dual_and_a_constant_in_c_equals_the_handler(spec, sa, sb, product, first):
    # np.einsum(spec, dual, constant): the core's path (once the handler
    # has planned the subscripts) gives the handler's bits, value and rows;
    # with the dual second, with lazy operands, with a NaN value (the
    # handler's domain rule) and at sizes over the kernel's alike
    rng = np.random.default_rng(len(spec) + 10 * len(sa) + first)
    if not first:
        ins, out = spec.split("->") if "->" in spec else (spec, None)
        u, w = ins.split(",")
        spec = f"{w},{u}" + ("" if out is None else "->" + out)
        sa, sb = sb, sa
    x = _dual(sa if first else sb, 7)
    c = rng.standard_normal(sb if first else sa)
    ops = (x, c) if first else (c, x)
    _products._EINSUM_DC.clear()
    for xx in (x, x * 1.0):
        o = (xx, c) if first else (c, xx)
        ref = _products._einsum(spec, *o)
        for _ in range(2):                       # (the first call plans, the second is the core's)
            r = np.einsum(spec, *o)
            assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)
    if x.value.size:
        bad = DualArray(np.where(np.arange(x.size).reshape(x.shape) == 0, np.nan, x.value),
                        x.deriv)
        o = (bad, c) if first else (c, bad)
        r, ref = np.einsum(spec, *o), _products._einsum(spec, *o)
        assert np.array_equal(r.value, ref.value, equal_nan=True)
        assert np.array_equal(r.deriv, ref.deriv, equal_nan=True)
    vals = (x.value, c) if first else (c, x.value)
    assert np.array_equal(np.einsum(spec, *ops).value, np.einsum(spec, *vals))


@pytest.mark.parametrize("spec, sa, sb, product", PAIRS)
def test_einsum_of_two_duals_equals_the_general_path(spec, sa, sb, product):
    # two first-order duals: the planned path (_einsum_duals, once per call
    # site) gives _einsum_c's bits, on the first call and the repeated one,
    # with lazy operands, with a NaN value (the general path's domain rule)
    # and declines two tags (the other is then a constant) or a hessian
    a, b = _dual(sa, 11), _dual(sb, 12)
    ins, out = _products._einsum_parse(spec)
    _products._EINSUM_DD.clear()
    for x, y in ((a, b), (a * 1.0, np.sin(b))):
        ref = _products._einsum_c(ins, out, [x, y])
        for _ in range(2):
            r = np.einsum(spec, x, y)
            assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)
            assert r.value.shape == np.einsum(spec, x.value, y.value).shape
    planned = _products._EINSUM_DD[(spec, a.deriv.shape, b.deriv.shape)]
    assert (planned is not False) == product
    bad = DualArray(np.where(np.arange(a.size).reshape(sa) == 0, np.nan, a.value), a.deriv)
    r, ref = np.einsum(spec, bad, b), _products._einsum_c(ins, out, [bad, b])
    assert np.array_equal(r.value, ref.value, equal_nan=True)
    assert np.array_equal(r.deriv, ref.deriv, equal_nan=True)
    assert np.isnan(r.deriv).any()
    short = DualArray(b.value, b.deriv[:2])
    assert _products._einsum_duals(spec, a, short) is None
    with pytest.raises(ValueError, match="directions"):
        np.einsum(spec, a, short)
    inner = _products._new(b.value, b.deriv, a._tag + 1, None)      # another tag
    assert _products._einsum_duals(spec, a, inner) is None
    assert np.einsum(spec, a, inner)._tag == a._tag + 1        # (a nested result)


def test_einsum_core_path_remembers_only_its_own_call_site():
    # the core remembers the last (subscripts, side, shapes) it served: one
    # subscripts object alternating between shapes, sides and row counts,
    # and equal strings of other objects, each give the handler's bits
    rng = np.random.default_rng(13)
    spec = "ij,jk->ik"
    other = "".join(["ij,jk", "->ik"])                   # equal, another object
    cases = []
    for (m, n, p), k in (((3, 4, 5), 2), ((3, 4, 6), 2), ((4, 4, 5), 2), ((3, 4, 5), 3)):
        x = DualArray(rng.standard_normal((m, n)), rng.standard_normal((k, m, n)))
        cases.append((x, rng.standard_normal((n, p))))
    v = DualArray(rng.standard_normal(4), rng.standard_normal((2, 4)))
    for _ in range(3):
        for x, c in cases:
            for s_ in (spec, other):
                r, ref = np.einsum(s_, x, c), _products._einsum(s_, x, c)
                assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)
            r, ref = np.einsum("jk,ij->ik", c, x), _products._einsum("jk,ij->ik", c, x)
            assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)
        c = cases[0][1]
        r, ref = np.einsum("j,jk->k", v, c), _products._einsum("j,jk->k", v, c)
        assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)
        ell = "...ij,jk->...ik"
        for x in (cases[0][0], DualArray(rng.standard_normal((2, 3, 4)),
                                         rng.standard_normal((2, 2, 3, 4)))):
            r, ref = np.einsum(ell, x, c), _products._einsum(ell, x, c)
            assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)


def test_einsum_core_path_at_scale_and_strides():
    # over the kernel's size the core declines (the handler's BLAS product);
    # strided and F-ordered constants and transposed duals give the handler's bits
    rng = np.random.default_rng(12)
    for m, n, p in ((3, 70, 70), (10, 10, 10), (4, 5, 6)):
        x = DualArray(rng.standard_normal((m, n)), rng.standard_normal((3, m, n)))
        w = rng.standard_normal((2 * n, 2 * p))
        for xx in (x, DualArray(x.value.T.copy(), x.deriv.transpose(0, 2, 1).copy()).T):
            for c in (w[::2, ::2], np.asfortranarray(w[:n, :p]), w[:n, :p]):
                for _ in range(2):
                    r, ref = np.einsum("ij,jk->ik", xx, c), _products._einsum("ij,jk->ik", xx, c)
                    assert np.array_equal(r.value, ref.value)
                    assert np.array_equal(r.deriv, ref.deriv)
                    assert np.array_equal(r.value, np.einsum("ij,jk->ik", xx.value, c))


@pytest.mark.parametrize("spec, sa, sb, product", PAIRS)
def test_einsum_plan_takes_the_product_form_where_it_applies(spec, sa, sb, product):
    # the tangent term of the dual first operand, as _einsum_c forms it
    ins, out = _products._einsum_parse(spec)
    z = _products._einsum_spec(ins, out)[1]
    x = np.ones((K,) + sa)
    y = np.ones(sb)
    got = _products._einsum_pair(z + ins[0], ins[1], z + out, x, y)
    assert (got is not None) == product
    if product:
        assert np.array_equal(got, np.einsum(f"{z + ins[0]},{ins[1]}->{z + out}", x, y))


def test_einsum_tangent_products_at_scale_match_numpy():
    # sizes over the product kernel's (BLAS) and a batch over the kernel's
    rng = np.random.default_rng(5)
    x = DualArray(rng.standard_normal((70, 80)), rng.standard_normal((4, 70, 80)))
    w = rng.standard_normal((80, 90))
    r = np.einsum("ij,jk->ik", x, w)
    np.testing.assert_allclose(r.deriv, np.einsum("zij,jk->zik", x.deriv, w), rtol=1e-12,
                               atol=1e-12)
    a = DualArray(rng.standard_normal((6, 9, 7)), rng.standard_normal((4, 6, 9, 7)))
    r = np.einsum("bij,bkj->bki", a, a)
    ref = np.einsum("zbij,bkj->zbki", a.deriv, a.value) + np.einsum("bij,zbkj->zbki", a.value,
                                                                       a.deriv)
    np.testing.assert_allclose(r.deriv, ref, rtol=1e-12, atol=1e-12)


def test_einsum_domain_nans_and_optimize():
    # a nan the contraction makes of inf * 0 has nan tangents; optimize=
    # gives NumPy's optimized value (its own summation order)
    x = DualArray(np.array([np.inf, 1.0]), np.ones((2, 2)))
    r = np.einsum("i,i->", x, np.array([0.0, 2.0]))
    assert np.isnan(r.value) and np.isnan(r.deriv).all()
    rng = np.random.default_rng(6)
    a = DualArray(rng.standard_normal((5, 6)), rng.standard_normal((2, 5, 6)))
    w, u = rng.standard_normal((6, 7)), rng.standard_normal((7, 3))
    r = np.einsum("ij,jk,kl->il", a, w, u, optimize=True)
    assert np.array_equal(r.value, np.einsum("ij,jk,kl->il", a.value, w, u, optimize=True))
    np.testing.assert_allclose(r.deriv, np.einsum("zij,jk,kl->zil", a.deriv, w, u),
                               rtol=1e-13, atol=1e-14)


# (shape of a, shape of b, axes): NumPy's forms of tensordot's axes
TENSORDOT = [
    ((4, 5), (5, 3), 1), ((3, 4, 5), (4, 5, 2), 2), ((3, 4), (5, 2), 0),
    ((2, 3, 4), (4, 3), ([1, 2], [1, 0])), ((4, 3), (4, 2), ([0], [0])),
    ((5,), (5, 2), 1), ((3, 5), (5,), (-1, 0)), ((2, 3), (2, 3), 2), ((4, 1), (1, 3), 1),
]


@pytest.mark.parametrize("sa, sb, axes", TENSORDOT)
@pytest.mark.parametrize("which", ["a", "b", "both"])
def test_tensordot_value_is_numpys_and_tangents_the_bilinear_rule(sa, sb, axes, which):
    # NumPy's tensordot of the values bit for bit (the same dot of the same
    # reshaped matrices); the tangents tensordot(da, b) + tensordot(a, db)
    # by NumPy direction by direction
    a, b = _dual(sa, 1), _dual(sb, 2)
    x = a if which != "b" else a.value
    y = b if which != "a" else b.value
    r = np.tensordot(x, y, axes)
    assert np.array_equal(r.value, np.tensordot(a.value, b.value, axes))
    expect = np.zeros((K,) + r.shape)
    for j in range(K):
        if which != "b":
            expect[j] += np.tensordot(a.deriv[j], b.value, axes)
        if which != "a":
            expect[j] += np.tensordot(a.value, b.deriv[j], axes)
    assert np.allclose(r.deriv, expect, rtol=1e-13, atol=1e-13)


def test_tensordot_over_one_axis_in_the_core_equals_the_handler():
    # np.tensordot(a, b, 1) (also axes=1) of vectors and matrices: the core
    # takes np.dot's paths; NumPy's tensordot value bits, the handler's bits
    # for everything, in every layout; hessian's rows stay the handler's
    from dualml.arrays import _core, _numpy_api
    handler = _numpy_api._HANDLED[np.tensordot]
    rng = np.random.default_rng(21)
    for sa, sb in (((4,), (4,)), ((4,), (4, 3)), ((5, 4), (4,)), ((5, 4), (4, 3)),
                   ((2, 1), (1, 6)), ((1, 4), (4, 1)), ((1,), (1, 3)), ((64, 70), (70, 65))):
        a, b = _dual(sa, 3), _dual(sb, 4)
        for x, y in ((a, b), (a.value, b), (a, b.value), (a * 1.0, np.asfortranarray(b.value)),
                     (a.T.T, b[..., ::-1] if len(sb) > 1 else b)):
            yv = y.value if isinstance(y, DualArray) else y
            xv = x.value if isinstance(x, DualArray) else x
            for r in (np.tensordot(x, y, 1), np.tensordot(x, y, axes=1)):
                ref = handler(x, y, 1)
                assert np.array_equal(r.value, np.tensordot(xv, yv, 1))
                assert np.array_equal(r.value, ref.value) and np.array_equal(r.deriv, ref.deriv)
    h = _core._new(rng.standard_normal(4), rng.standard_normal((14, 4)), 7, (4, 0, 4, True))
    W = rng.standard_normal((4, 3))
    r, ref = np.tensordot(h, W, 1), handler(h, W, 1)
    assert r._o2 == ref._o2 and np.array_equal(r._d, ref._d) and np.array_equal(r._v, ref._v)


def test_tensordot_shape_mismatch_is_numpys_error():
    with pytest.raises(ValueError, match="shape-mismatch for sum"):
        np.tensordot(_dual((3, 4), 0), np.ones((5, 2)), 1)


@pytest.mark.parametrize("sa, sb", [((3, 4, 7), (7, 5)), ((7,), (2, 7, 3)), ((2, 3, 9), (4, 9, 2)),
                                    ((5, 6), (3, 6, 2))])
@pytest.mark.parametrize("which", ["a", "b", "both"])
def test_dot_of_more_dimensions_has_numpys_value(sa, sb, which):
    # np.dot beyond matrices: NumPy's inner products' bits for the value
    # (not tensordot's one product); tangents np.dot direction by direction
    a, b = _dual(sa, 3), _dual(sb, 4)
    x = a if which != "b" else a.value
    y = b if which != "a" else b.value
    r = np.dot(x, y)
    assert np.array_equal(r.value, np.dot(a.value, b.value))
    expect = np.zeros((K,) + r.shape)
    for j in range(K):
        if which != "b":
            expect[j] += np.dot(a.deriv[j], b.value)
        if which != "a":
            expect[j] += np.dot(a.value, b.deriv[j])
    assert np.allclose(r.deriv, expect, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("n, layout", [(1, (1, 0, 1, True)), (6, (6, 0, 6, True)),
                                       (6, (6, 2, 5, True)), (5, (5, 0, 5, False))])
def test_second_order_cross_terms_of_a_dot_product_equal_the_per_pair_products(n, layout):
    # x @ y of hessian vectors: every pair's cross terms come from one
    # product G = ga gb' (_bilinear_terms); the per-pair products they
    # replace, written out here, give the same bits (special values too)
    from dualml.arrays import _core, _second_order
    from dualml.arrays._elementwise import _tadd
    rng = np.random.default_rng(n)
    k, i0, i1, tri = layout
    m = sum(len(range(j0, k)) for _, j0, _ in _second_order._o2_pairs(k, i0, i1, tri))
    av, bv = rng.standard_normal(n), rng.standard_normal(n)
    ad, bd = rng.standard_normal((k + m, n)), rng.standard_normal((k + m, n))
    ad[0, 0], bd[1 % k, -1], ad[-1, 0] = np.inf, -0.0, np.nan
    a = _core._new(av, ad, 3, layout)
    b = _core._new(bv, bd, 3, layout)
    with np.errstate(all="ignore"):
        r = a @ b
        ga, gb = ad[:k], bd[:k]
        cross = [_tadd(_core._tmatmul(ga[i][None, :], gb[j0:].T)[0],
                       _core._tmatmul(ga[j0:], gb[i][:, None])[:, 0])
                 for i, j0, _ in _second_order._o2_pairs(k, i0, i1, tri)]
        first = _tadd(_core._tmatmul(ad, bv[:, None])[:, 0], _core._tmatmul(av[None, :], bd.T)[0])
    assert np.array_equal(r.value, av @ bv)
    assert np.array_equal(r._d[:k], first[:k], equal_nan=True)
    ref = first[k:] + np.concatenate(cross) if cross else first[k:]
    assert np.array_equal(r._d[k:], ref, equal_nan=True)


def test_hessian_of_quadratic_forms_is_exact():
    import dualml
    rng = np.random.default_rng(7)
    for n in (1, 3, 10, 40):
        A = rng.standard_normal((n, n))
        x = rng.standard_normal(n)
        assert np.array_equal(dualml.hessian(lambda z: z @ z, x), 2.0 * np.eye(n))
        H = dualml.hessian(lambda z: z @ (A @ z), x)
        assert np.allclose(H, A + A.T, rtol=1e-14, atol=1e-14)
        assert np.allclose(dualml.hessian(lambda z: 0.5 * z @ z + np.sum(np.sin(z)), x),
                           np.eye(n) - np.diag(np.sin(x)), rtol=1e-14, atol=1e-14)


def test_dot_of_hessian_vectors_equals_the_row_times_column_path():
    # _dot_o2 (x @ y of hessian vectors without reshapes) against the path
    # it shortcuts, the product of a row and a column, bit for bit
    from dualml.arrays import _core, _second_order
    rng = np.random.default_rng(12)
    for n, layout in ((1, (1, 0, 1, True)), (7, (7, 0, 7, True)), (7, (7, 3, 6, True)),
                      (4, (4, 0, 4, False))):
        k, i0, i1, tri = layout
        m = sum(k - j0 for _, j0, _ in _second_order._o2_pairs(k, i0, i1, tri))
        ad, bd = rng.standard_normal((k + m, n)), rng.standard_normal((k + m, n))
        av, bv = rng.standard_normal(n), rng.standard_normal(n)
        av[0], bd[0, -1] = np.inf, -0.0
        a, b = _core._new(av, ad, 5, layout), _core._new(bv, bd, 5, layout)
        with np.errstate(all="ignore"):
            r = _products._dot_o2(a, b)
            ref = _products._bilinear(_products._mm, _core._new(av[None, :], ad[:, None, :], 5,
                                                                 layout),
                                      _core._new(bv[:, None], bd[:, :, None], 5, layout))
        assert np.array_equal(r.value, ref.value.reshape(()), equal_nan=True)
        assert np.array_equal(r._d, ref._d.reshape(k + m), equal_nan=True)
        assert r._o2 == layout and r._tag == 5
    x = _core._new(np.ones(3), np.ones((4, 3)), 5, None)
    assert _products._dot_o2(x, x) is None                  # first order: not this path
