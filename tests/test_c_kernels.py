"""csrc/dual_kernels.c is defined behaviour in plain C, not only under -fwrapv.

Python compiles extensions with -fwrapv, which makes some undefined
behaviour (left shifts of negative values) defined and hides it from the
sanitizers; an embedder's build has no such flag.  So a C program that
includes dual_kernels.h and links dual_kernels.c is built here with UBSan and ASan (aborting on the
first report) and runs the loops on what NumPy hands them in practice:
operands at odd byte offsets (np.frombuffer, packed records), negative and
zero tangents, whole and partial blocks, and, where the CPU and glibc have
them, the libmvec SIMD loops of every level.  Its output is checked against
Python's math module.
"""
import ctypes.util
import math
import os
import platform
import shutil
import subprocess
import sys

import pytest

import dualml

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dual_kernels.h"

#define N 600               /* two whole blocks of DUAL_BLOCK and a partial one */

static double xs(int i) { return -3.0 + 6.0 * i / N; }
static double ts(int i) { return i % 7 == 0 ? 0.0 : -(1.0 + i % 3); }   /* <= 0 */

static void put(char *p, int i, double v) { memcpy(p + 8 * i, &v, 8); }
static double get(const char *p, int i) { double v; memcpy(&v, p + 8 * i, 8); return v; }

/* one unary {x, t, y, ty} loop at byte offset off of every operand */
static void run_unary_t(const char *tag, dual_loop loop, int off)
{
    char *buf = malloc(4 * (8 * N + 8));
    char *x = buf + off, *t = x + 8 * N + 8, *y = t + 8 * N + 8, *ty = y + 8 * N + 8;
    char *p[4];
    dual_intp s[4] = {8, 8, 8, 8};
    int i;
    for (i = 0; i < N; i++) {
        put(x, i, xs(i));
        put(t, i, ts(i));
    }
    p[0] = x; p[1] = t; p[2] = y; p[3] = ty;
    loop(N, p, s, NULL);
    for (i = 0; i < N; i++)
        printf("%s %d %.17g %.17g\n", tag, i, get(y, i), get(ty, i));
    free(buf);
}

int main(void)
{
    dual_loop v, t, d;
    char *buf = malloc(8 * (6 * N + 6) + 1);
    char *a = buf + 1, *ta = a + 8 * N, *b = ta + 8 * N, *tb = b + 8 * N,
         *y = tb + 8 * N, *ty = y + 8 * N;
    char *p[6];
    dual_intp s[6] = {8, 8, 8, 8, 8, 8};
    dual_rows_ctx rows;
    int i, off, lv;

    for (off = 0; off < 8; off += 3) {
        char tag[32];
        sprintf(tag, "exp-plain-%d", off);
        run_unary_t(tag, dual_loop_exp_t, off);
        for (lv = DUAL_SIMD_AVX2; lv <= dual_simd_detect(); lv++)
            if (dual_simd_unary("exp", lv, &v, &t, &d)) {
                sprintf(tag, "exp-simd%d-%d", lv, off);
                run_unary_t(tag, t, off);
            }
    }
    /* binary at an odd offset: fmin values, multiply with both tangents,
       and the k = 2 row driver */
    for (i = 0; i < N; i++) {
        put(a, i, xs(i));
        put(ta, i, ts(i));
        put(b, i, -xs(i));
        put(tb, i, 2.0);
    }
    p[0] = a; p[1] = b; p[2] = y;
    dual_loop_fmin_v(N, p, s, NULL);
    for (i = 0; i < N; i++)
        printf("fmin %d %.17g 0\n", i, get(y, i));
    p[0] = a; p[1] = ta; p[2] = b; p[3] = tb; p[4] = y; p[5] = ty;
    dual_loop_multiply_t(N, p, s, NULL);
    for (i = 0; i < N; i++)
        printf("mul %d %.17g %.17g\n", i, get(y, i), get(ty, i));
    /* k = 2: rows of N / 2 elements, the second row of each tangent follows */
    rows.dloop = dual_loop_multiply_d;
    rows.dctx = NULL;
    rows.k = 2;
    rows.row[0] = rows.row[1] = rows.row[2] = 8 * (N / 2);
    dual_rows_binary(N / 2, p, s, &rows);
    for (i = 0; i < N; i++)
        printf("mulrows %d %.17g %.17g\n", i, get(y, i % (N / 2)), get(ty, i));
    free(buf);
    return 0;
}
"""

N = 600


def xs(i):
    return -3.0 + 6.0 * i / N


def ts(i):
    return 0.0 if i % 7 == 0 else -(1.0 + i % 3)


def _build(tmp_path):
    src = tmp_path / "kernels.c"
    src.write_text(PROGRAM)
    exe = tmp_path / "kernels"
    flags = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
             "-Wno-unused-parameter", "-fsanitize=address,undefined",
             "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]
    libs = ["-lm"]
    if (sys.platform.startswith("linux") and platform.machine() == "x86_64"
            and ctypes.util.find_library("mvec")):
        flags.append("-DDUALML_LIBMVEC=1")
        libs = ["-lmvec", "-lm"]
    kernels = os.path.join(dualml.get_include(), "dual_kernels.c")
    proc = subprocess.run(["gcc", *flags, "-I", dualml.get_include(), str(src), kernels,
                           "-o", str(exe), *libs], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return exe


def test_kernels_have_no_undefined_behaviour(tmp_path):
    assert shutil.which("gcc"), "gcc is required to build and test dualml"
    exe = _build(tmp_path)
    # the sanitizers abort with a report on stderr at the first error
    proc = subprocess.run([str(exe)], capture_output=True, text=True,
                          env={"ASAN_OPTIONS": "detect_leaks=1"})
    assert proc.returncode == 0, proc.stderr[-4000:]
    rows = {}
    for line in proc.stdout.splitlines():
        tag, i, val, der = line.split()
        rows.setdefault(tag, []).append((int(i), float(val), float(der)))
    exp_tags = [t for t in rows if t.startswith("exp-")]
    assert {"exp-plain-0", "exp-plain-3", "exp-plain-6"} <= set(exp_tags)
    for tag in exp_tags:
        # libmvec is within 4 ulp; the plain loop is libm's exp
        rel = 1e-15 if "plain" in tag else 1e-15 * 4
        assert len(rows[tag]) == N
        for i, val, der in rows[tag]:
            e = math.exp(xs(i))
            assert val == pytest.approx(e, rel=rel), (tag, i)
            assert der == pytest.approx(e * ts(i), rel=2 * rel), (tag, i)
            if ts(i) == 0.0:                                # zero-tangent: +0.0
                assert math.copysign(1.0, der) == 1.0, (tag, i)
    for i, val, _ in rows["fmin"]:
        assert val == min(xs(i), -xs(i))
    for i, val, der in rows["mul"]:
        assert val == -xs(i) * xs(i)
        assert der == pytest.approx(-xs(i) * ts(i) + 2.0 * xs(i), rel=1e-15, abs=1e-300)
    for i, val, der in rows["mulrows"]:
        j = i % (N // 2)
        assert val == -xs(j) * xs(j)
        assert der == pytest.approx(-xs(j) * ts(i) + 2.0 * xs(j), rel=1e-15, abs=1e-300)


# -- the kernels as a library: a C (and C++) program links dual_kernels.c ----------
#
# Built the way an embedder builds it: the header and the .c from
# dualml.get_include() (dualml.get_kernel_sources()), -Wall -Wextra -Werror,
# the program as C99 and as C++11 (the header's extern "C" is what makes the
# C++ one link).  It calls loops found by name: a unary rule with one tangent
# and with k = 3 tangent rows, a binary rule over a (3, 4) index space with
# the second operand broadcast along the rows (0-strides), with one tangent
# and with k = 2, and a rule with a parameter.  Checked against closed forms.

LIB_PROGRAM = r"""
#include <stdio.h>
#include <string.h>
#include <math.h>
#include "dual_kernels.h"

#define N 300
#define K 3
#define R 3
#define C 4

static double xv(int i) { return -2.0 + 4.0 * i / N; }

int main(void)
{
    static double x[N], t[K][N], y[N], ty[K][N];
    double a[R][C], ta[2][R][C], b[C], tb[2][C], yb[R][C], tyb[2][R][C];
    dual_unary_loops u;
    dual_binary_loops bl;
    dual_rows_ctx rows;
    char *p[6];
    dual_intp s[6], shape[2], st[12];
    double alpha = 0.5;
    int i, j, r, c;

    if (dual_find_unary("sin", &u) != 1 || dual_find_unary("elu", &u) != 2 ||
        dual_find_unary("nonesuch", &u) != 0 || dual_find_binary("sin", &bl) != 0)
        return 2;
    if (dual_find_unary("sin", &u) != 1 || dual_find_binary("hypot", &bl) != 1)
        return 3;

    /* unary, k = 1: {x, t, y, ty} */
    for (i = 0; i < N; i++) {
        x[i] = xv(i);
        for (j = 0; j < K; j++)
            t[j][i] = i % 5 == 0 ? 0.0 : (double)(j + 1) - 0.25 * (i % 3);
    }
    p[0] = (char *)x; p[1] = (char *)t[0]; p[2] = (char *)y; p[3] = (char *)ty[0];
    for (i = 0; i < 4; i++)
        s[i] = (dual_intp)sizeof(double);
    u.t(N, p, s, NULL);
    for (i = 0; i < N; i++)
        printf("sin1 %d 0 %.17g %.17g\n", i, y[i], ty[0][i]);

    /* unary, k = 3 rows: the d loop per block, then the rows */
    memset(y, 0, sizeof y);
    memset(ty, 0, sizeof ty);
    rows.dloop = u.d;
    rows.dctx = NULL;
    rows.k = K;
    rows.row[0] = rows.row[1] = (dual_intp)(N * sizeof(double));
    rows.row[2] = 0;
    dual_rows_unary(N, p, s, &rows);
    for (j = 0; j < K; j++)
        for (i = 0; i < N; i++)
            printf("sin3 %d %d %.17g %.17g\n", i, j, y[i], ty[j][i]);

    /* a rule with a parameter: elu(x, alpha), values and partials */
    if (dual_find_unary("elu", &u) != 2)
        return 4;
    p[0] = (char *)x; p[1] = (char *)y; p[2] = (char *)ty[0];
    u.d(N, p, s, &alpha);
    for (i = 0; i < N; i++)
        printf("elu %d 0 %.17g %.17g\n", i, y[i], ty[0][i]);

    /* binary over (R, C), b broadcast along the rows: strides (C * 8, 8) for
       a, ta, y, ty and (0, 8) for b, tb; operands {a, ta, b, tb, y, ty} */
    for (r = 0; r < R; r++)
        for (c = 0; c < C; c++) {
            a[r][c] = 0.5 + r - 0.75 * c;
            ta[0][r][c] = 1.0 + r;
            ta[1][r][c] = c == 1 ? 0.0 : -0.5 * c;
        }
    for (c = 0; c < C; c++) {
        b[c] = 1.5 - c;
        tb[0][c] = c == 2 ? 0.0 : 2.0;
        tb[1][c] = 1.0 + c;
    }
    shape[0] = R;
    shape[1] = C;
    for (i = 0; i < 6; i++) {
        int bcast = i == 2 || i == 3;
        st[2 * i] = bcast ? 0 : (dual_intp)(C * sizeof(double));
        st[2 * i + 1] = (dual_intp)sizeof(double);
    }
    p[0] = (char *)a; p[1] = (char *)ta[0]; p[2] = (char *)b; p[3] = (char *)tb[0];
    p[4] = (char *)yb; p[5] = (char *)tyb[0];
    dual_apply(2, shape, 6, p, st, bl.t, NULL);
    for (r = 0; r < R; r++)
        for (c = 0; c < C; c++)
            printf("hyp1 %d 0 %.17g %.17g\n", r * C + c, yb[r][c], tyb[0][r][c]);

    /* the same with k = 2 tangent rows: the row driver as dual_apply's loop */
    memset(yb, 0, sizeof yb);
    memset(tyb, 0, sizeof tyb);
    rows.dloop = bl.d;
    rows.dctx = NULL;
    rows.k = 2;
    rows.row[0] = (dual_intp)(R * C * sizeof(double));
    rows.row[1] = (dual_intp)(C * sizeof(double));
    rows.row[2] = (dual_intp)(R * C * sizeof(double));
    dual_apply(2, shape, 6, p, st, dual_rows_binary, &rows);
    for (j = 0; j < 2; j++)
        for (r = 0; r < R; r++)
            for (c = 0; c < C; c++)
                printf("hyp2 %d %d %.17g %.17g\n", r * C + c, j, yb[r][c], tyb[j][r][c]);
    return 0;
}
"""


def _lib_data():
    N, K = 300, 3
    x = [-2.0 + 4.0 * i / N for i in range(N)]
    t = [[0.0 if i % 5 == 0 else (j + 1) - 0.25 * (i % 3) for i in range(N)] for j in range(K)]
    a = [[0.5 + r - 0.75 * c for c in range(4)] for r in range(3)]
    ta = [[[1.0 + r for c in range(4)] for r in range(3)],
          [[0.0 if c == 1 else -0.5 * c for c in range(4)] for r in range(3)]]
    b = [1.5 - c for c in range(4)]
    tb = [[0.0 if c == 2 else 2.0 for c in range(4)], [1.0 + c for c in range(4)]]
    return x, t, a, ta, b, tb


def _check_lib_output(out):
    x, t, a, ta, b, tb = _lib_data()
    rows = {}
    for line in out.splitlines():
        tag, i, j, v, d = line.split()
        rows.setdefault(tag, {})[int(i), int(j)] = (float(v), float(d))
    assert len(rows["sin1"]) == 300 and len(rows["sin3"]) == 900
    for tag in ("sin1", "sin3"):
        for (i, j), (v, d) in rows[tag].items():
            assert v == pytest.approx(math.sin(x[i]), rel=1e-15, abs=1e-300)
            assert d == pytest.approx(math.cos(x[i]) * t[j][i], rel=1e-15, abs=1e-300)
            if t[j][i] == 0.0:
                assert d == 0.0 and math.copysign(1.0, d) == 1.0
    for (i, _), (v, d) in rows["elu"].items():          # alpha = 0.5
        if x[i] > 0:
            assert (v, d) == (x[i], 1.0)
        else:
            assert v == pytest.approx(0.5 * math.expm1(x[i]), rel=1e-15, abs=1e-300)
            assert d == pytest.approx(0.5 * math.exp(x[i]), rel=1e-15)
    assert len(rows["hyp1"]) == 12 and len(rows["hyp2"]) == 24
    for tag in ("hyp1", "hyp2"):
        for (e, j), (v, d) in rows[tag].items():
            r, c = divmod(e, 4)
            h = math.hypot(a[r][c], b[c])
            assert v == pytest.approx(h, rel=1e-15)
            want = a[r][c] / h * ta[j][r][c] + b[c] / h * tb[j][c]
            assert d == pytest.approx(want, rel=1e-15, abs=1e-15)


@pytest.mark.parametrize("compiler,std", [("gcc", "-std=c99"), ("g++", "-std=c++11")])
def test_kernels_link_into_a_c_or_cxx_program(tmp_path, compiler, std):
    assert shutil.which("gcc") and shutil.which(compiler), \
        f"gcc and {compiler} are required to build and test dualml"
    inc = dualml.get_include()
    (src,) = dualml.get_kernel_sources()
    warn = ["-Wall", "-Wextra", "-Werror"]
    obj = tmp_path / "dual_kernels.o"
    # the library is C in either case; the program is C or C++
    proc = subprocess.run(["gcc", "-std=c99", "-O2", "-ffp-contract=off", *warn, "-I", inc,
                           "-c", src, "-o", str(obj)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    prog = tmp_path / ("prog.cpp" if compiler == "g++" else "prog.c")
    prog.write_text(LIB_PROGRAM)
    exe = tmp_path / "prog"
    proc = subprocess.run([compiler, std, "-O2", *warn, "-I", inc, str(prog), str(obj),
                           "-o", str(exe), "-lm"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-4000:]
    proc = subprocess.run([str(exe)], capture_output=True, text=True)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    _check_lib_output(proc.stdout)


def test_kernel_header_declares_only():
    # the public header: no definitions, nothing from Python or dual.h
    with open(os.path.join(dualml.get_include(), "dual_kernels.h")) as fh:
        text = fh.read()
    includes = {ln.split()[1] for ln in text.splitlines() if ln.lstrip().startswith("#include")}
    assert includes == {"<stddef.h>", '"dual_rules.def"'}, includes
    assert "static" not in text
