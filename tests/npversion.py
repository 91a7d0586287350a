"""The NumPy under test, for the tests that call NumPy's newer API.

dualml supports NumPy 2.0 and later.  A case that calls a function or a
keyword a later release added runs where that release is installed: before
it, NumPy itself has no such call to differentiate.
"""
import numpy as np

NUMPY = np.lib.NumpyVersion(np.__version__)


def since(version, *cases):
    """The cases if the installed NumPy is ``version`` or later, else none."""
    return list(cases) if NUMPY >= version else []
