"""Where the C sources an embedding extension compiles in are.

dualml ships its C core in ``dualml.get_include()``: the headers (dual.h,
dual_rules.def, dual_kernels.h) and one C file, dual_kernels.c, the array
kernels.  An extension that calls the kernels (``from dualml.kernels
cimport ...``) compiles that file in itself, so it needs no link against
dualml's own extension modules.  This module names those files; the build
recipe is in docs/guide/embedding.md.
"""
import os

__all__ = ["get_kernel_sources"]


def get_kernel_sources():
    """The C source files of dualml's array kernels, to compile into an extension.

    Returns
    -------
    list of str
        Absolute paths (today one: ``dual_kernels.c`` in
        :func:`get_include`), for the ``sources=`` of a setuptools
        ``Extension`` or meson's ``extension_module``. Compile them with
        ``include_dirs=[dualml.get_include()]``, link ``libm``, and never
        with fast-math options (the rules rely on IEEE inf and nan).

    See Also
    --------
    get_include : the directory of the headers (and of these sources).

    Examples
    --------
    >>> import os, dualml
    >>> [os.path.basename(p) for p in dualml.get_kernel_sources()]
    ['dual_kernels.c']
    >>> all(os.path.exists(p) for p in dualml.get_kernel_sources())
    True
    """
    from .dual import get_include
    return [os.path.join(get_include(), "dual_kernels.c")]
