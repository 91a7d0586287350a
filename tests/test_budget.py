"""dualml.arrays._budget: the memory cap on DualArray's Python path.

Each operation below makes an intermediate much wider than f's input (64
directions of it are ~4.6 MB against a 1 MiB cap).  Under the cap the pass
of 64 directions is refused before that buffer exists and f is rerun with
fewer; the gradient is checked against its closed form (every f here is
linear in its input: grad_j = sum(W * op(A[:, j])), computed on plain NumPy).
"""
import tracemalloc

import numpy as np
import pytest

import dualml
from dualml.arrays import _budget, _core

RNG = np.random.default_rng(8)
A = RNG.standard_normal((300, 64)) / 8
X0 = RNG.standard_normal(64)

OPS = {
    "tile": lambda v: np.tile(v, (30, 1)),
    "repeat": lambda v: np.repeat(v, 30),
    "concatenate": lambda v: np.concatenate([v] * 30),
    "stack": lambda v: np.stack([v] * 30),
    "broadcast copy": lambda v: np.broadcast_to(v, (30, 300)).copy(),
    "cumsum": lambda v: np.cumsum(np.broadcast_to(v, (30, 300)), axis=0),
    "where": lambda v: np.where(np.arange(9000).reshape(30, 300) % 3 == 0, v, 0.0),
    "outer": lambda v: np.outer(v, v[:30]),
    "multiply.outer": lambda v: np.multiply.outer(v[:30], v),
    "einsum": lambda v: np.einsum("i,j->ij", v[:30], v),
    "kron": lambda v: np.kron(v, np.ones(30)),
    "solve": lambda v: np.linalg.solve(2.0 * np.eye(300), np.broadcast_to(v, (30, 300)).T),
    "broadcast add": lambda v: v + np.zeros((30, 1)),
}
LINEAR = {"outer", "multiply.outer", "einsum"}       # bilinear: linear in v only


@pytest.mark.parametrize("name", sorted(OPS))
def test_a_wide_intermediate_stays_under_the_cap(name, monkeypatch):
    op = OPS[name]
    out = np.shape(op(A @ X0))
    W = np.random.default_rng(9).standard_normal(out)
    calls = []

    def f(q):
        calls.append(q.deriv.shape[0])
        return (W * op(A @ q)).sum()
    if name in LINEAR:
        # d/dq of sum(W * B(v, v)) at v = A x0 by the product rule, on floats
        v0 = A @ X0
        ref = np.array([(W * op_pair(name, A[:, j], v0)).sum() +
                        (W * op_pair(name, v0, A[:, j])).sum() for j in range(64)])
    else:
        ref = np.array([(W * op(A[:, j])).sum() for j in range(64)])
    monkeypatch.setenv("DUALML_MAX_BYTES", "1M")
    tracemalloc.start()
    try:
        g = dualml.gradient(f, X0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_allclose(g, ref, rtol=1e-12, atol=1e-12)
    size = int(np.prod(out))
    assert calls[0] == 64 and sum(calls[1:]) == 64, calls     # refused, then split
    assert all(c * size * 8 <= 2**20 for c in calls[1:])
    # a few live buffers, each under the cap (64 directions would be 4.6 MB each)
    assert peak < 4 * 2**20


def op_pair(name, a, b):
    return {"outer": lambda: np.outer(a, b[:30]),
            "multiply.outer": lambda: np.multiply.outer(a[:30], b),
            "einsum": lambda: np.einsum("i,j->ij", a[:30], b)}[name]()


def test_check_rows_is_a_no_op_without_a_budget():
    _budget.check_rows(10**6, 10**6)                    # no budget set: nothing
    old = _core.set_buffer_budget(2**20)
    try:
        _budget.check_rows(1, 2**14)                     # under the pool size: never
        with pytest.raises(_core.BufferBudgetExceeded):
            _budget.check_rows(2, 2**17)
    finally:
        _core.set_buffer_budget(old)
