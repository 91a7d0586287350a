# Stubs for dualml/sparse/_sets.pyx (index-set kernels of sparsity detection).
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

_I64: TypeAlias = npt.NDArray[np.int64]
_Family: TypeAlias = tuple[_I64, _I64]

def gather(indptr: _I64, indices: _I64, rowmap: _I64) -> _Family: ...
def union2(pa: _I64, ia: _I64, ra: _I64 | None,
           pb: _I64, ib: _I64, rb: _I64 | None) -> _Family: ...
def segment_union(indptr: _I64, indices: _I64, seg_ptr: _I64, seg_rows: _I64) -> _Family: ...
def pairs(pa: _I64, ia: _I64, ra: _I64 | None,
          pb: _I64, ib: _I64, rb: _I64 | None, n: int) -> _Family: ...
