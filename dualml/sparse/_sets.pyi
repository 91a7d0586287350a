# Stubs for dualml/sparse/_sets.pyx (index-set kernels of sparsity detection).
from typing import Optional, Tuple

import numpy as np
import numpy.typing as npt

_I64 = npt.NDArray[np.int64]
_Family = Tuple[_I64, _I64]

def gather(indptr: _I64, indices: _I64, rowmap: _I64) -> _Family: ...
def union2(pa: _I64, ia: _I64, ra: Optional[_I64],
           pb: _I64, ib: _I64, rb: Optional[_I64]) -> _Family: ...
def segment_union(indptr: _I64, indices: _I64, seg_ptr: _I64, seg_rows: _I64) -> _Family: ...
def pairs(pa: _I64, ia: _I64, ra: Optional[_I64],
          pb: _I64, ib: _I64, rb: Optional[_I64], n: int) -> _Family: ...
