"""Elementwise kernels vs NumPy: h(x) = exp(-x*x)*sin(3*x) + tanh(x), n = 10**6.

Times, side by side and interleaved (median of several rounds):
  numpy   plain NumPy evaluating h (values only)            -- the floor
  copy    x.copy()                                           -- memory floor
  chain   dualml._kernels called by hand in the order DualArray calls them
          (negative, multiply, exp, multiply, sin, multiply, tanh, add), each
          producing value + one tangent (k = 1), for every SIMD level.
Run: python bench/bench_kernels.py [n] [k]
"""
import statistics
import sys
import timeit

import numpy as np

from dualml import _kernels as K


def h_numpy(x):
    return np.exp(-x * x) * np.sin(3 * x) + np.tanh(x)


def h_chain(x, t):
    # nested so that each intermediate dies as soon as it is consumed, as in
    # the DualArray expression exp(-x*x)*sin(3*x) + tanh(x)
    u, b = K.unary, K.binary
    three = np.broadcast_to(3.0, x.shape)
    return b("add",
             *b("multiply",
                *u("exp", *b("multiply", *u("negative", x, t), x, t)),
                *u("sin", *b("multiply", three, None, x, t))),
             *u("tanh", x, t))


def main(n=10**6, k=1, rounds=9, number=5):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(n)
    t = np.ones((k, n))
    levels = K.simd_levels()
    old = K.get_simd()
    # values agree with NumPy's h (last-bit differences from libm/libmvec)
    for lv in levels:
        K.set_simd(lv)
        v, d = h_chain(x, t)
        err = np.max(np.abs(v - h_numpy(x)) / (1 + np.abs(h_numpy(x))))
        print(f"chain[{lv}] max rel. difference from NumPy's h: {err:.1e}")
    cases = {"numpy": lambda: h_numpy(x), "copy": lambda: x.copy()}

    def chain_at(lv):
        def run():
            K.set_simd(lv)
            h_chain(x, t)
        return run
    for lv in levels:
        cases[f"chain[{lv}]"] = chain_at(lv)
    times = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            times[name].append(min(timeit.repeat(fn, number=number, repeat=1)) / number)
    K.set_simd(old)
    floor = statistics.median(times["numpy"])
    print(f"n = {n}, k = {k}; median of {rounds} interleaved rounds")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"  {name:16s} {med * 1e3:8.3f} ms   {med / floor:6.3f} x NumPy h")


if __name__ == "__main__":
    args = [int(float(a)) for a in sys.argv[1:]]
    main(*args)
