"""The calculus API's per-buffer budget, checked on DualArray's Python path.

Design
------
* ``dualml._arraycalc`` sets a per-thread budget (``DUALML_MAX_BYTES``) for
  each pass of two or more directions; a buffer over it raises
  ``BufferBudgetExceeded`` before its memory is touched, and the pass is rerun
  with fewer directions.  The C core checks its own allocations; the Python
  path calls ``check_rows`` with the tangent buffer's size, from the value
  it has just computed, before the tangent rows are made: elementwise
  operations with broadcasting (``np.outer``), bilinear products and
  einsum, the linear shape maps (``_shape._lin``: tile, repeat, cumsum,
  ...), copies, joins, ``where``, and ``linalg.inv``/``solve``.
* Buffers under the core's pooling threshold (128 KiB) are never refused, as
  in the core: the check costs one thread-local read per operation.
"""
from ._core import BufferBudgetExceeded, _budget

__all__ = []  # internal: ROWS_CHECKED, check_rows

_MIN_CHECKED = 1 << 17          # the core's POOL_MIN

# Callers test ``k * size >= ROWS_CHECKED`` before calling check_rows: a
# smaller buffer is never refused, and the call costs ~80 ns on every small
# operation of a pass (a few % of a 10-variable Hessian)
ROWS_CHECKED = _MIN_CHECKED // 8


def check_rows(k, size):
    """Refuse k tangent rows of `size` float64 entries over this thread's budget."""
    limit = getattr(_budget, "limit", None)
    if limit is None:
        return
    nbytes = 8 * int(k) * int(size)
    if nbytes >= _MIN_CHECKED and nbytes > limit:
        raise BufferBudgetExceeded(nbytes, limit)
