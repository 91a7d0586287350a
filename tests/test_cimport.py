"""Third-party Cython code can cimport dualml's C core and the Dual type.

Builds a tiny extension out of tree against the installed .pxd files and
dualml.get_include(), the way a downstream package would.
"""
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import dualml

import Cython  # noqa: F401  (the test extra provides it)

PYX = textwrap.dedent("""
    # cython: language_level=3
    from dualml.dual cimport dual, dual_make, dual_sin, dual_multiply, Dual, new_dual

    def sin_of_square(double v):
        cdef dual r
        with nogil:
            r = dual_sin(dual_multiply(dual_make(v, 1.0), dual_make(v, 1.0)))
        return r.value, r.deriv

    def read(Dual d):
        return d.x.value, d.x.deriv

    def make(double v, double d):
        return new_dual(v, d, 1)          # a user-level Dual: the tag is explicit
""")

SETUP = textwrap.dedent("""
    import dualml, os
    from setuptools import setup, Extension
    from Cython.Build import cythonize
    pkg_parent = os.path.dirname(os.path.dirname(dualml.__file__))
    setup(ext_modules=cythonize(
        [Extension("cimportdemo", ["cimportdemo.pyx"], include_dirs=[dualml.get_include()])],
        include_path=[pkg_parent], quiet=True), script_args=["build_ext", "--inplace"])
""")


def test_cimport_builds_and_runs(tmp_path):
    (tmp_path / "cimportdemo.pyx").write_text(PYX)
    (tmp_path / "setup.py").write_text(SETUP)
    env = dict(os.environ)
    # wherever this dualml lives (installed or built in place), the child uses it
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(dualml.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "setup.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    code = ("import cimportdemo, dualml; print(cimportdemo.sin_of_square(0.7));"
            "print(cimportdemo.read(dualml.Dual(1.5, 2.0)));"
            "d = cimportdemo.make(3.0, 4.0); print(type(d).__name__, d.value, d.deriv)")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    v, d = eval(out[0])
    assert v == pytest.approx(math.sin(0.49), rel=1e-15)
    assert d == pytest.approx(1.4 * math.cos(0.49), rel=1e-15)
    assert eval(out[1]) == (1.5, 2.0)
    assert out[2] == "Dual 3.0 4.0"


# -- the embedding API: derivatives through a third-party extension ----------------
#
# An extension written as docs/guide/embedding.md says: the C struct path for
# numbers and first-order Duals, dualml's functions for nested Duals.  It is
# differentiated by every entry point and checked against closed forms.

EMBED_PYX = textwrap.dedent("""
    # cython: language_level=3
    from dualml.dual cimport (dual, dual_tag_t, dual_read, dual_read2, dual_join_tag,
                              dual_result, dual_like, dual_make, dual_sin, dual_exp,
                              dual_hypot, dual_add, dual_multiply)
    import dualml

    def sin_(x):
        cdef dual d
        if dual_read(x, &d, NULL):
            return dual_like(dual_sin(d), x)
        return dualml.sin(x)

    def sin_sq(x):
        cdef dual d
        if dual_read(x, &d, NULL):
            return dual_like(dual_sin(dual_multiply(d, d)), x)
        return dualml.sin(x * x)

    def hyp_exp(x, y):
        cdef dual a, b
        cdef dual_tag_t t
        if dual_read2(x, y, &a, &b, &t):
            return dual_result(dual_multiply(dual_hypot(a, b), dual_exp(a)), t)
        return dualml.hypot(x, y) * dualml.exp(x)

    def chain(v):
        # exp(v[-1]) + sum_i v[i]**2 sin(v[i+1]), any number of arguments
        cdef dual buf[16]
        cdef dual acc
        cdef dual_tag_t t = 0, ti = 0
        cdef Py_ssize_t i, n = len(v)
        if not 0 < n <= 16:
            raise ValueError("chain: 1 to 16 entries")
        for i in range(n):
            if not dual_read(v[i], &buf[i], &ti) or not dual_join_tag(&t, ti):
                return _chain_nested(v)
        acc = dual_exp(buf[n - 1])
        for i in range(n - 1):
            acc = dual_add(acc, dual_multiply(dual_multiply(buf[i], buf[i]), dual_sin(buf[i + 1])))
        return dual_result(acc, t)

    def _chain_nested(v):
        n = len(v)
        acc = dualml.exp(v[n - 1])
        for i in range(n - 1):
            acc = acc + v[i] * v[i] * dualml.sin(v[i + 1])
        return acc

    def seeded_constant():
        return dual_result(dual_make(1.0, 1.0), 0)

    def like_of(x):
        return dual_like(dual_make(0.0, 0.0), x)
""")


@pytest.fixture(scope="module")
def embed(tmp_path_factory):
    import importlib
    tmp = tmp_path_factory.mktemp("embed")
    (tmp / "embeddemo.pyx").write_text(EMBED_PYX)
    (tmp / "setup.py").write_text(SETUP.replace("cimportdemo", "embeddemo"))
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(dualml.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "setup.py"], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sys.path.insert(0, str(tmp))
    try:
        yield importlib.import_module("embeddemo")
    finally:
        sys.path.remove(str(tmp))


def test_embedded_first_derivatives(embed):
    assert dualml.derivative(embed.sin_, 0.0) == 1.0          # was 0.0 with new_dual
    x = 0.7
    assert dualml.derivative(embed.sin_sq, x) == pytest.approx(2 * x * math.cos(x * x), rel=1e-15)
    v, d = dualml.value_and_derivative(embed.sin_sq, x)
    assert v == math.sin(x * x)


def test_embedded_numbers_in_numbers_out(embed):
    assert type(embed.sin_(0.5)) is float and embed.sin_(0.5) == math.sin(0.5)
    assert type(embed.hyp_exp(1.0, 2)) is float
    assert embed.hyp_exp(1.0, 2) == pytest.approx(math.hypot(1, 2) * math.e, rel=1e-15)
    r = embed.sin_(dualml.Dual(0.5, 2.0))                 # a user-level Dual keeps its tag
    assert type(r) is dualml.Dual and r.deriv == pytest.approx(2 * math.cos(0.5), rel=1e-15)


def test_embedded_nested_derivatives(embed):
    x = 0.7
    d2 = dualml.derivative(lambda s: dualml.derivative(embed.sin_sq, s), x)
    assert d2 == pytest.approx(2 * math.cos(x * x) - 4 * x * x * math.sin(x * x), rel=1e-14)
    d3 = dualml.derivative(lambda s: dualml.derivative(
        lambda t: dualml.derivative(embed.sin_, t), s), x)
    assert d3 == pytest.approx(-math.cos(x), rel=1e-15)


def test_embedded_two_arguments_and_two_differentiations(embed):
    s0, t0 = 0.8, 0.3
    h = math.hypot(s0, t0)
    e = math.exp(s0)
    g = dualml.gradient(lambda v: embed.hyp_exp(v[0], v[1]), [s0, t0])
    assert np.allclose(g, [(s0 / h + h) * e, t0 / h * e], rtol=1e-15, atol=0)
    # d/ds d/dt: the operands are Duals of two differentiations (the nested path)
    mixed = dualml.derivative(lambda s: dualml.derivative(lambda t: embed.hyp_exp(s, t), t0), s0)
    assert mixed == pytest.approx(e * (t0 / h - t0 * s0 / h ** 3), rel=1e-14)


def _chain_grad_hess(v):
    n = len(v)
    g, H = np.zeros(n), np.zeros((n, n))
    g[n - 1] += math.exp(v[n - 1])
    H[n - 1, n - 1] += math.exp(v[n - 1])
    for i in range(n - 1):
        s, c = math.sin(v[i + 1]), math.cos(v[i + 1])
        g[i] += 2 * v[i] * s
        g[i + 1] += v[i] ** 2 * c
        H[i, i] += 2 * s
        H[i + 1, i + 1] += -v[i] ** 2 * s
        H[i, i + 1] += 2 * v[i] * c
        H[i + 1, i] += 2 * v[i] * c
    return g, H


def test_embedded_gradient_jacobian_hessian_on_lists(embed):
    v = [0.4, -1.3, 2.1, 0.9]
    g, H = _chain_grad_hess(v)
    assert np.allclose(dualml.gradient(embed.chain, v), g, rtol=1e-14, atol=1e-15)
    assert np.allclose(dualml.jacobian(lambda u: [embed.chain(u)], v), [g], rtol=1e-14, atol=1e-15)
    assert np.allclose(dualml.hessian(embed.chain, v), H, rtol=1e-13, atol=1e-14)
    assert np.allclose(dualml.gradient(embed.chain, np.array(v), method="scalar"), g,
                       rtol=1e-14, atol=1e-15)


def test_embedded_functions_take_the_nested_path_for_multis(embed):
    # a gradient of a list seeds multi-partial Duals (chunk > 1): dual_read
    # answers False for them, so the embedded function computes with
    # dualml's own functions, and the result equals one direction per pass
    from dualml.dual import _MultiDual, _new_tag, _seed
    m = _seed(_new_tag(), 0.7, (1.0, -2.0, 0.0))
    r = embed.sin_(m)
    assert type(r) is _MultiDual and r.deriv == dualml.sin(m).deriv
    v = [0.4, -1.3, 2.1, 0.9]
    for fn in (embed.chain, lambda u: embed.hyp_exp(u[0], u[1]) * embed.sin_sq(u[2])):
        assert (dualml.gradient(fn, v) == dualml.gradient(fn, v, chunk=1)).all()


def test_embedded_misuse_raises(embed):
    with pytest.raises(TypeError, match="real number or a dualml.Dual"):
        embed.sin_("a")
    with pytest.raises(TypeError, match="DualArray"):       # the array path: not a scalar
        dualml.gradient(embed.chain, np.array([0.4, -1.3]), method="array")
    with pytest.raises(ValueError, match="tag 0"):
        embed.seeded_constant()
    with pytest.raises(TypeError, match="nested Dual"):
        dualml.derivative(lambda s: dualml.derivative(embed.like_of, s), 1.0)


# -- the array kernels from Cython: dualml/kernels.pxd + dual_kernels.c ------------
#
# An extension that cimports the kernels' .pxd and compiles
# dualml.get_kernel_sources() into itself (docs/guide/embedding.md), runs
# loops found by name over NumPy buffers: a unary rule with k tangent rows
# (k = 1: the fused loop; k > 1: the row driver) and a binary rule over an
# (R, C) index space with the second operand broadcast by 0-strides.

KERNELS_PYX = textwrap.dedent("""
    # cython: language_level=3, boundscheck=False, wraparound=False
    from dualml.kernels cimport (dual_intp, dual_unary_loops, dual_binary_loops,
                                 dual_rows_ctx, dual_find_unary, dual_find_binary,
                                 dual_rows_unary, dual_rows_binary, dual_apply)
    import numpy as np

    def unary(str name, const double[::1] x, const double[:, ::1] t):
        # y = f(x) and the k = t.shape[0] tangent rows ty[j] = f'(x) t[j]
        cdef dual_unary_loops u
        cdef dual_rows_ctx rows
        cdef char *p[4]
        cdef dual_intp s[4]
        cdef Py_ssize_t n = x.shape[0], k = t.shape[0]
        if dual_find_unary(name.encode(), &u) != 1:
            raise ValueError(f"no unary rule {name!r} without a parameter")
        if n == 0 or k == 0 or t.shape[1] != n:
            raise ValueError("x: n > 0 elements; t: (k, n), k > 0")
        y = np.empty(n)
        ty = np.empty((k, n))
        cdef double[::1] yv = y
        cdef double[:, ::1] tyv = ty
        p[0] = <char *>&x[0]
        p[1] = <char *>&t[0, 0]
        p[2] = <char *>&yv[0]
        p[3] = <char *>&tyv[0, 0]
        s[0] = s[1] = s[2] = s[3] = sizeof(double)
        with nogil:
            if k == 1:
                u.t(n, p, s, NULL)
            else:
                rows.dloop = u.d
                rows.dctx = NULL
                rows.k = k
                rows.row[0] = rows.row[1] = n * sizeof(double)
                rows.row[2] = 0
                dual_rows_unary(n, p, s, &rows)
        return y, ty

    def binary_bcast(str name, const double[:, ::1] a, const double[:, :, ::1] ta,
                     const double[::1] b, const double[:, ::1] tb):
        # y[r, c] = f(a[r, c], b[c]) with k tangent rows, b broadcast along r
        cdef dual_binary_loops bl
        cdef dual_rows_ctx rows
        cdef char *p[6]
        cdef dual_intp shape[2]
        cdef dual_intp st[12]
        cdef Py_ssize_t R = a.shape[0], C = a.shape[1], k = ta.shape[0], i
        if dual_find_binary(name.encode(), &bl) != 1:
            raise ValueError(f"no binary rule {name!r}")
        if (R == 0 or C == 0 or k == 0 or b.shape[0] != C or ta.shape[1] != R
                or ta.shape[2] != C or tb.shape[0] != k or tb.shape[1] != C):
            raise ValueError("a: (R, C), ta: (k, R, C), b: (C,), tb: (k, C)")
        y = np.empty((R, C))
        ty = np.empty((k, R, C))
        cdef double[:, ::1] yv = y
        cdef double[:, :, ::1] tyv = ty
        p[0] = <char *>&a[0, 0]
        p[1] = <char *>&ta[0, 0, 0]
        p[2] = <char *>&b[0]
        p[3] = <char *>&tb[0, 0]
        p[4] = <char *>&yv[0, 0]
        p[5] = <char *>&tyv[0, 0, 0]
        shape[0] = R
        shape[1] = C
        for i in range(6):
            st[2 * i] = 0 if i in (2, 3) else C * sizeof(double)
            st[2 * i + 1] = sizeof(double)
        with nogil:
            if k == 1:
                dual_apply(2, shape, 6, p, st, bl.t, NULL)
            else:
                rows.dloop = bl.d
                rows.dctx = NULL
                rows.k = k
                rows.row[0] = R * C * sizeof(double)
                rows.row[1] = C * sizeof(double)
                rows.row[2] = R * C * sizeof(double)
                dual_apply(2, shape, 6, p, st, dual_rows_binary, &rows)
        return y, ty
""")

KERNELS_SETUP = textwrap.dedent("""
    import dualml, os
    from setuptools import setup, Extension
    from Cython.Build import cythonize
    pkg_parent = os.path.dirname(os.path.dirname(dualml.__file__))
    ext = Extension("kernelsdemo", ["kernelsdemo.pyx", *dualml.get_kernel_sources()],
                    include_dirs=[dualml.get_include()], libraries=["m"],
                    extra_compile_args=["-ffp-contract=off"])
    setup(ext_modules=cythonize([ext], include_path=[pkg_parent], quiet=True),
          script_args=["build_ext", "--inplace"])
""")


@pytest.fixture(scope="module")
def kernelsdemo(tmp_path_factory):
    import importlib
    tmp = tmp_path_factory.mktemp("kernelsdemo")
    (tmp / "kernelsdemo.pyx").write_text(KERNELS_PYX)
    (tmp / "setup.py").write_text(KERNELS_SETUP)
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(dualml.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "setup.py"], cwd=tmp, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    sys.path.insert(0, str(tmp))
    try:
        yield importlib.import_module("kernelsdemo")
    finally:
        sys.path.remove(str(tmp))


@pytest.mark.parametrize("k", [1, 4])
def test_cimported_unary_kernel_matches_closed_form(kernelsdemo, k):
    n = 700                                  # two whole blocks of 256 and a partial one
    x = np.linspace(-4.0, 4.0, n)
    t = np.array([[0.0 if i % 6 == 0 else (j + 1) * (-1) ** i for i in range(n)]
                  for j in range(k)])
    y, ty = kernelsdemo.unary("tanh", x, t)
    assert ty.shape == (k, n)
    for i in range(n):
        th = math.tanh(x[i])
        assert y[i] == pytest.approx(th, rel=1e-15, abs=1e-300)
        for j in range(k):
            # sech^2 = 1/cosh^2, an independent spelling of tanh's slope
            assert ty[j, i] == pytest.approx(t[j, i] / math.cosh(x[i]) ** 2, rel=4e-15,
                                             abs=1e-300)
    with pytest.raises(ValueError, match="no unary rule 'nonesuch'"):
        kernelsdemo.unary("nonesuch", x, t)


@pytest.mark.parametrize("k", [1, 3])
def test_cimported_binary_kernel_broadcasts(kernelsdemo, k):
    R, C = 5, 7
    a = np.arange(R * C, dtype=float).reshape(R, C) / 4.0 - 3.0
    b = np.linspace(-2.0, 1.5, C)
    ta = np.stack([np.cos(a + j) for j in range(k)])
    ta[0, 1, :] = 0.0
    tb = np.stack([np.sin(b * (j + 1)) + 0.5 for j in range(k)])
    y, ty = kernelsdemo.binary_bcast("arctan2", a, ta, b, tb)
    assert ty.shape == (k, R, C)
    for r in range(R):
        for c in range(C):
            av, bv = a[r, c], b[c]
            assert y[r, c] == pytest.approx(math.atan2(av, bv), rel=1e-15, abs=1e-300)
            q = av * av + bv * bv
            for j in range(k):
                want = (bv * ta[j, r, c] - av * tb[j, c]) / q     # d atan2 = (b da - a db) / q
                assert ty[j, r, c] == pytest.approx(want, rel=1e-14, abs=1e-15)
