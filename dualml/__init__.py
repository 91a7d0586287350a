"""dualml: forward-mode automatic differentiation with dual numbers.

A ``Dual`` carries a value and a derivative through arithmetic, dualml's
elementary functions and NumPy's ufuncs; the arithmetic lives in C (see
``dualml.get_include()`` for the header).
"""
from .dual import *  # noqa: F401,F403  (Dual and the elementary functions)
from .dual import Dual, derivative, get_include, UNARY, UNARY_PARAM, BINARY
from ._embed import get_kernel_sources  # noqa: F401
from . import _rules  # noqa: F401
from .calculus import *  # noqa: F401,F403
from .functional import *  # noqa: F401,F403
from .arrays import *  # noqa: F401,F403
from .sensitivity import *  # noqa: F401,F403
from .uncertainty import *  # noqa: F401,F403
from .custom import *  # noqa: F401,F403
from .implicit import *  # noqa: F401,F403
from ._taylor import *  # noqa: F401,F403  (Taylor mode: dualml.taylor, Taylor, TaylorArray, ...)
from .sparse import *  # noqa: F401,F403
from .ode import *  # noqa: F401,F403

from ._version import __version__  # noqa: F401  (written by setup.py from csrc/dual.h)
