"""Taylor mode: higher derivatives through truncated Taylor polynomials.

``_core`` (Cython) holds the ``Taylor`` scalar type and the array drivers,
both over the C rules of csrc/taylor.h (one function per row of the rule
table); ``_array`` is ``TaylorArray`` and the dispatch of NumPy's ufuncs and
functions; ``api`` holds ``taylor``, ``directional_derivative`` and the
n-th derivative behind ``dualml.derivative(f, x, n=K)``.
"""
from ._array import TaylorArray
from ._core import Taylor
from .api import directional_derivative, taylor

__all__ = ["Taylor", "TaylorArray", "directional_derivative", "taylor"]
