"""Third-party Cython code can cimport dualml's C core and the Dual type.

Builds a tiny extension out of tree against the installed .pxd files and
dualml.get_include(), the way a downstream package would.
"""
import math
import os
import subprocess
import sys
import textwrap

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
        return new_dual(v, d)
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
