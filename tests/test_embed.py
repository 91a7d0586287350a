"""dualml.get_kernel_sources (dualml/_embed.py): the C sources an embedder compiles in.

The compile-and-run checks are tests/test_c_kernels.py (a C and a C++
program) and tests/test_cimport.py (a Cython extension); here: the list
itself, and that what it names is the library the header declares.
"""
import os
import re

import dualml


def test_sources_are_the_kernels_c_file_beside_the_headers():
    srcs = dualml.get_kernel_sources()
    assert [os.path.basename(p) for p in srcs] == ["dual_kernels.c"]
    for p in srcs:
        assert os.path.isabs(p) and os.path.isfile(p)
        assert os.path.dirname(p) == dualml.get_include()
    assert srcs is not dualml.get_kernel_sources()     # a fresh list each call


def test_every_function_the_header_declares_is_defined_in_the_source():
    inc = dualml.get_include()
    header = open(os.path.join(inc, "dual_kernels.h")).read()
    source = open(dualml.get_kernel_sources()[0]).read()
    # the non-macro declarations of the header: dual_<name>(... ;
    declared = set(re.findall(r"^(?:int|void) (dual_\w+)\(", header, flags=re.M))
    assert {"dual_find_unary", "dual_find_binary", "dual_apply", "dual_rows_unary",
            "dual_simd_detect", "dual_simd_unary", "dual_o2_acc"} <= declared
    for name in declared:
        assert re.search(r"^(?:int|void) %s\(" % name, source, flags=re.M), name
    assert '#include "dual_kernels.h"' in source


def test_the_cython_declarations_name_only_what_the_header_declares():
    pxd = open(os.path.join(os.path.dirname(dualml.__file__), "kernels.pxd")).read()
    header = open(os.path.join(dualml.get_include(), "dual_kernels.h")).read()
    assert 'cdef extern from "dual_kernels.h" nogil:' in pxd
    for name in re.findall(r"^\s+(?:int|void) (dual_\w+)\(", pxd, flags=re.M):
        assert re.search(r"\b%s\(" % name, header), name
