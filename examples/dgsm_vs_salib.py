"""
Wall time of dualml.dgsm against SALib's finite-difference DGSM, equal N
========================================================================

The model is the bench's 10-input W6 model, y = Σ a_i sin(x_i) + b_i x_i² on
U[-π, π]^10, whose measures are known exactly: vi = a_i²/2 + 4 b_i² π²/3.
SALib needs N·(D+1) model runs on a sample matrix (finite_diff.sample) and
then analyze(); dualml evaluates the model once on N points with the D
directions seeded (exact gradients).  Both compute the bootstrap half-widths
(100 resamples).  Run:  python examples/dgsm_vs_salib.py [N ...]
"""
import math
import sys
import timeit

import numpy as np

import dualml

A = np.array([1.0, 2.0, 0.5, 0.2, 3.0, 1.0, 0.1, 0.0, 2.0, 1.0])
B = np.array([0.1, 0.0, 0.3, 0.05, 0.0, 0.2, 0.0, 0.5, 0.1, 0.02])
PROBLEM = {"num_vars": 10, "names": [f"x{i + 1}" for i in range(10)],
           "bounds": [[-math.pi, math.pi]] * 10}
EXACT_VI = A ** 2 / 2 + 4 * B ** 2 * math.pi ** 2 / 3


def model(X):
    """Row-wise on an (N, 10) sample matrix (NumPy code; dualml differentiates it)."""
    return (A * np.sin(X) + B * X * X).sum(axis=-1)


def run_dualml(N):
    return dualml.dgsm(model, PROBLEM, N, seed=1)


def run_salib(N):
    from SALib.analyze import dgsm
    from SALib.sample import finite_diff
    X = finite_diff.sample(PROBLEM, N, seed=1)
    return dgsm.analyze(PROBLEM, X, model(X), seed=1)


def measure(N, repeat=5):
    """Best-of-`repeat` wall times (s) and the max relative error of vi of each."""
    out = {}
    for name, fn in (("dualml", run_dualml), ("SALib", run_salib)):
        res = fn(N)
        err = float(np.max(np.abs(np.asarray(res["vi"]) - EXACT_VI) / EXACT_VI))
        number = max(1, int(0.2 / max(timeit.timeit(lambda: fn(N), number=1), 1e-6)))
        t = min(timeit.repeat(lambda: fn(N), number=number, repeat=repeat)) / number
        out[name] = (t, err)
    return out


def main(sizes):
    print(f"{'N':>7}  {'dualml [s]':>11}  {'SALib [s]':>10}  {'speed-up':>8}  "
          f"{'dualml max rel err vi':>22}  {'SALib max rel err vi':>21}")
    for N in sizes:
        r = measure(N)
        (td, ed), (ts, es) = r["dualml"], r["SALib"]
        print(f"{N:>7}  {td:>11.4f}  {ts:>10.4f}  {ts / td:>7.1f}x  {ed:>22.2e}  {es:>21.2e}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10000])
