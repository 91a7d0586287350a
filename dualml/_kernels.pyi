# Stubs for dualml._kernels (rendered from the rule table; see _kernels.pyx.tp).
from typing import Optional, Tuple, Union

import numpy as np
from numpy.typing import NDArray

_F = NDArray[np.float64]

UNARY: Tuple[str, ...]
BINARY: Tuple[str, ...]
PARAM_DEFAULTS: dict[str, float]

def unary(name: str, value: _F, tangent: Optional[_F] = None, param: Optional[float] = None,
          out_value: Optional[_F] = None,
          out_tangent: Optional[_F] = None) -> Tuple[_F, Optional[_F]]: ...
def binary(name: str, a_value: _F, a_tangent: Optional[_F], b_value: _F,
           b_tangent: Optional[_F], out_value: Optional[_F] = None,
           out_tangent: Optional[_F] = None) -> Tuple[_F, Optional[_F]]: ...
def partials(name: str, *values: _F, param: Optional[float] = None) -> Tuple[_F, ...]: ...
def set_simd(level: Union[bool, str]) -> str: ...
def get_simd() -> str: ...
def simd_levels() -> Tuple[str, ...]: ...
