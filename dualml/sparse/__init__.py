"""Sparse Jacobians and Hessians: coloring and compressed forward evaluation.

A Jacobian or Hessian with few nonzeros per row costs one forward direction
per color of its sparsity pattern instead of one per input.  ``coloring``
colors patterns (C, ``_coloring.pyx``); ``compressed`` seeds the colors,
evaluates and decompresses into ``scipy.sparse.csr_array`` results;
``transforms`` wraps them for SciPy's solvers.  SciPy is needed for the
results and imported lazily.
"""
from .coloring import *  # noqa: F401,F403
from .compressed import *  # noqa: F401,F403
from .transforms import *  # noqa: F401,F403
from . import coloring as _col, compressed as _cmp, transforms as _tr

__all__ = _col.__all__ + _cmp.__all__ + _tr.__all__
