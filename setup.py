"""Build dualml: render the rule table into Cython, compile against NumPy.

The one table of derivative rules, csrc/dual_rules.def, is rendered through
the Tempita templates dualml/*.tp into dualml/dual.pyx, dual.pxd, dual.pyi,
_functions.pxi and _kernels.pyx (generated, never committed); its nested
column goes through one IR (dualml/_ruleir.py) whose emitters also write
the C second partials and dualml/arrays/_nested_rules.py.  The C headers
are copied into dualml/include so the installed package ships them
(dualml.get_include()).
"""
import ctypes.util
import importlib.util
import os
import platform
import re
import shutil
import sys

import numpy
from Cython.Build import cythonize
from Cython.Tempita import sub
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(HERE, path))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def version():
    """The version, defined once in csrc/dual.h (DUALML_VERSION_*)."""
    with open(os.path.join(HERE, "csrc", "dual.h")) as fh:
        text = fh.read()
    parts = [re.search(rf"#define DUALML_VERSION_{p}\s+(\d+)", text) for p in
             ("MAJOR", "MINOR", "PATCH")]
    if not all(parts):
        sys.exit("csrc/dual.h must define DUALML_VERSION_MAJOR, _MINOR and _PATCH")
    v = ".".join(m.group(1) for m in parts)
    dst = os.path.join(HERE, "dualml", "_version.py")
    text = f'# Written by setup.py from csrc/dual.h; never edit or commit.\n__version__ = "{v}"\n'
    if not os.path.exists(dst) or open(dst).read() != text:
        with open(dst, "w") as fh:
            fh.write(text)
    return v


def _write(dst, text):
    old = open(dst).read() if os.path.exists(dst) else None
    if text != old:                       # keep timestamps for incremental builds
        with open(dst, "w") as fh:
            fh.write(text)


def render():
    table = _load("dualml/_ruletable.py", "_dualml_ruletable")
    docs = _load("dualml/_docs.py", "_dualml_docs")
    rules = table.parse_rules(os.path.join(HERE, "csrc", "dual_rules.def"))
    missing = [r.name for r in rules if r.name not in docs.SUMMARY]
    if missing:
        sys.exit(f"dualml/_docs.py has no docstring for {missing}")
    ir = _load("dualml/_ruleir.py", "_dualml_ruleir")
    # the one IR of the nested column; each target below is one emitter of it
    table_ir = ir.build(rules, ir.CONSTANTS)

    def nested_cy(name, which):
        return ir.cython_partial(table_ir[name][which])

    ns = dict(rules=rules, nested_cy=nested_cy, joint=ir.JOINT_TANGENTS, doc=docs.docstring,
              p2_code=ir.second_order_c(rules, table_ir),
              param=lambda r: docs.PARAMS[r.name], repr=repr)
    for tp in ("dual.pxd.tp", "dual.pyx.tp", "dual.pyi.tp", "_functions.pxi.tp",
               "_kernels.pyx.tp"):
        src = os.path.join(HERE, "dualml", tp)
        with open(src) as fh:
            text = sub(fh.read(), **ns)
        _write(src[:-3], text)
    _write(os.path.join(HERE, "dualml", "arrays", "_nested_rules.py"),
           ir.array_module(rules, table_ir))
    inc = os.path.join(HERE, "dualml", "include")
    os.makedirs(inc, exist_ok=True)
    for f in ("dual.h", "dual_rules.def", "dual_kernels.h", "dual_kernels.c", "taylor.h"):
        src = os.path.join(HERE, "csrc", f)
        if os.path.exists(src):
            shutil.copyfile(src, os.path.join(inc, f))


render()

# Warnings on, kept at zero for our C (csrc/); Cython's generated code is
# compiled with the same flags.  Never the fast-math flag family: the rules rely on IEEE
# inf/nan.  -ffp-contract=off: no fused multiply-add where the source has a
# multiply and an add (the AVX-512 clones of the kernels could use FMA), so
# every path rounds alike and the array path equals the scalar Dual bit for
# bit on every CPU.  -fno-math-errno only lets the compiler treat libm calls as pure
# (drop unused partials, fuse sin/cos); values are unchanged.  -g0: no debug
# info in the shipped extensions (dual.so 6.2 MB -> 1.0 MB).
CFLAGS = ["-O3", "-g0", "-fno-math-errno", "-ffp-contract=off", "-Wall", "-Wextra", "-Wno-unused-function",
          "-Wno-unused-parameter", "-Wno-missing-field-initializers"]
if sys.platform == "win32":
    CFLAGS = ["/O2"]

common = dict(
    # headers are not tracked by setuptools otherwise: a rule edit must rebuild
    depends=[os.path.join("csrc", f) for f in ("dual.h", "dual_rules.def", "dual_kernels.h")]
    + ["dualml/_ufunc_callable.h", "dualml/_function_callable.h"],
    include_dirs=[os.path.join(HERE, "csrc"), numpy.get_include()],
    extra_compile_args=CFLAGS,
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    # link libm explicitly: an unversioned reference to exp() binds to glibc's
    # oldest symbol version (the errno/SVID compatibility wrapper), not the
    # one Python's math module uses
    libraries=[] if sys.platform == "win32" else ["m"],
)

# dual.pyx: the same flag for the k-partial loops of the multi-partial Dual
# (_functions.pxi), vectorized like the kernels' tangent loops
dual_ext = dict(common)
if sys.platform != "win32":
    dual_ext["extra_compile_args"] = CFLAGS + ["-fno-trapping-math"]
extensions = [
    Extension("dualml.dual", ["dualml/dual.pyx"], **dual_ext),
]
# the array kernels
kernels = dict(common)
# x86-64 glibc: the array kernels evaluate some transcendental functions
# with glibc's SIMD math library libmvec (csrc/dual_kernels.c, section 5).
if (sys.platform.startswith("linux") and platform.machine() == "x86_64"
        and platform.libc_ver()[0] == "glibc" and ctypes.util.find_library("mvec")):
    kernels["define_macros"] = common["define_macros"] + [("DUALML_LIBMVEC", "1")]
    kernels["libraries"] = ["mvec", "m"]
if sys.platform != "win32":
    # lets GCC vectorize the zero-tangent select (t == 0 ? 0 : d*t) by
    # computing d*t unconditionally; IEEE results (inf, nan, signed zeros)
    # are unchanged, only FP exception flags may differ (not a fast-math flag).
    kernels["extra_compile_args"] = CFLAGS + ["-fno-trapping-math"]
# csrc/dual_kernels.c (the loops) is compiled into it with the same flags
kernels["depends"] = common["depends"] + ["csrc/dual_kernels.c"]
extensions.append(Extension("dualml._kernels", ["dualml/_kernels.pyx", "csrc/dual_kernels.c"],
                            **kernels))
# the DualArray type; cimports dualml._kernels (its .pxd) for the loop drivers
extensions.append(Extension("dualml.arrays._core", ["dualml/arrays/_core.pyx"], **common))
# Taylor mode: the Taylor type and array drivers over csrc/taylor.h
extensions.append(Extension("dualml._taylor._core", ["dualml/_taylor/_core.pyx"],
                            **dict(common, depends=common["depends"] + ["csrc/taylor.h"])))
# greedy colorings of sparsity patterns (dualml.sparse)
extensions.append(Extension("dualml.sparse._coloring", ["dualml/sparse/_coloring.pyx"], **common))
# index-set kernels of sparsity detection (dualml.sparse)
extensions.append(Extension("dualml.sparse._sets", ["dualml/sparse/_sets.pyx"], **common))

setup(
    version=version(),
    ext_modules=cythonize(
        extensions,
        compiler_directives={"language_level": "3"},
        include_path=[HERE, os.path.join(HERE, "dualml")],
    ),
)
