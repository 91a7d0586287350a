"""csrc/dual.h is plain C: a C program that includes only it compiles and is right.

The program prints value and derivative of a few expressions; the expected
numbers come from hand-derived formulas evaluated with Python's math module.
"""
import math
import os
import shutil
import subprocess

import pytest

import dualml

PROGRAM = r"""
#include <stdio.h>
#include "dual.h"

int main(void)
{
    dual x = dual_make(0.7, 1.0);
    dual r;
    r = dual_sin(dual_multiply(x, x));                 /* sin(x^2) */
    printf("%.17g %.17g\n", r.value, r.deriv);
    r = dual_divide(dual_exp(x), dual_add_dc(x, 1.0)); /* e^x / (x + 1) */
    printf("%.17g %.17g\n", r.value, r.deriv);
    r = dual_power_dc(dual_make(0.0, 1.0), 2.0);       /* 0**2: slope 0, not nan */
    printf("%.17g %.17g\n", r.value, r.deriv);
    r = dual_power_cd(2.0, x);                         /* 2**x */
    printf("%.17g %.17g\n", r.value, r.deriv);
    r = dual_softplus(dual_make(800.0, 1.0));          /* stable */
    printf("%.17g %.17g\n", r.value, r.deriv);
    r = dual_sqrt(dual_make(0.0, 0.0));                /* zero tangent stays zero */
    printf("%.17g %.17g\n", r.value, r.deriv);
    r = dual_leaky_relu(dual_make(-2.0, 1.0), 0.1);
    printf("%.17g %.17g\n", r.value, r.deriv);
    return 0;
}
"""

x = 0.7
EXPECTED = [
    (math.sin(x * x), 2 * x * math.cos(x * x)),
    (math.exp(x) / (x + 1), math.exp(x) * x / (x + 1) ** 2),
    (0.0, 0.0),
    (2 ** x, math.log(2) * 2 ** x),
    (800.0, 1.0),
    (0.0, 0.0),
    (-0.2, 0.1),
]


def _compile_and_run(tmp_path, compiler, std):
    src = tmp_path / "prog.c"
    src.write_text(PROGRAM)
    exe = tmp_path / f"prog-{compiler}"
    flags = ["-O2", "-Wall", "-Wextra", "-Wpedantic", "-Wshadow", "-Wconversion",
             "-Wdouble-promotion", "-Werror"]
    lang = ["-x", "c++"] if compiler in ("g++", "c++") else []
    subprocess.run([compiler, *lang, std, *flags, "-I", dualml.get_include(),
                    str(src), "-o", str(exe), "-lm"], check=True,
                   capture_output=True, text=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return [tuple(float(v) for v in line.split()) for line in out.splitlines()]


@pytest.mark.parametrize("compiler,std", [("gcc", "-std=c99"), ("g++", "-std=c++11")])
def test_header_compiles_warning_free_and_computes(tmp_path, compiler, std):
    # building dualml needs a C compiler; this test needs it (and g++) too
    assert shutil.which(compiler), f"{compiler} is required to build and test dualml"
    got = _compile_and_run(tmp_path, compiler, std)
    assert len(got) == len(EXPECTED)
    for (v, d), (ev, ed) in zip(got, EXPECTED):
        assert v == pytest.approx(ev, rel=1e-15, abs=1e-300)
        assert d == pytest.approx(ed, rel=1e-14, abs=1e-300)


def test_header_has_no_python_dependency():
    for name in ("dual.h", "dual_rules.def"):
        with open(os.path.join(dualml.get_include(), name)) as fh:
            includes = [ln.split()[1] for ln in fh if ln.lstrip().startswith("#include")]
        assert set(includes) <= {"<math.h>", '"dual_rules.def"'}, includes


def test_the_version_is_defined_once_in_the_header():
    import importlib.metadata
    import re
    text = open(os.path.join(dualml.get_include(), "dual.h")).read()
    v = ".".join(re.search(rf"#define DUALML_VERSION_{p}\s+(\d+)", text).group(1)
                 for p in ("MAJOR", "MINOR", "PATCH"))
    assert dualml.__version__ == v
    try:
        installed = importlib.metadata.version("dualml")
    except importlib.metadata.PackageNotFoundError:
        installed = None            # an in-place build: no wheel metadata to compare
    if installed is not None and dualml.__file__.startswith(os.path.dirname(
            importlib.metadata.distribution("dualml").locate_file("dualml"))):
        assert installed == v
