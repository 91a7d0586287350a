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
