"""Sparsity detection vs one NumPy evaluation (issue 12's preparation budget).

Times, side by side and interleaved (median of several rounds, one process):
  eval      one NumPy evaluation of F at x                       -- the floor
  detect    dualml.jacobian_sparsity(F, x) (hessian_sparsity for rosen)
and prints detect / eval with the pattern's nonzeros.  Problems:
  bratu     1-D Bratu, n = 10^4, written with np.empty_like + slice writes
  bratu_pad 1-D Bratu, n = 10^4, written with a padded copy (np.concatenate)
  bruss     2-D Brusselator, N = 32 (2,048 unknowns), periodic (np.roll)
  rosen     chained Rosenbrock, n = 10^4: the Hessian pattern
The issue's goal is detection + coloring <= 20x one evaluation (bratu); the
coloring's share is measured by the coloring workload (W10).
Run: python bench/bench_detect.py [rounds]
"""
import statistics
import sys
import timeit

import numpy as np

import dualml


def bratu(n=10**4, lam=1.0):
    h2 = lam / (n + 1) ** 2

    def F(u):
        r = np.empty_like(u)
        r[0] = -2 * u[0] + u[1] + h2 * np.exp(u[0])
        r[-1] = u[-2] - 2 * u[-1] + h2 * np.exp(u[-1])
        r[1:-1] = u[:-2] - 2 * u[1:-1] + u[2:] + h2 * np.exp(u[1:-1])
        return r
    return F, np.linspace(0.0, 0.1, n)


def bratu_pad(n=10**4, lam=1.0):
    h2 = lam / (n + 1) ** 2

    def F(u):
        up = np.concatenate([[0.0], u, [0.0]])
        return up[:-2] - 2 * up[1:-1] + up[2:] + h2 * np.exp(up[1:-1])
    return F, np.linspace(0.0, 0.1, n)


def brusselator(N=32):
    xyd = np.linspace(0, 1, N)
    X, Y = np.meshgrid(xyd, xyd, indexing="ij")
    forcing = np.where((X - 0.3) ** 2 + (Y - 0.6) ** 2 <= 0.01, 5.0, 0.0)
    alpha = 10.0 * (N - 1) ** 2

    def lap(w):
        return (np.roll(w, 1, 0) + np.roll(w, -1, 0) + np.roll(w, 1, 1) + np.roll(w, -1, 1)
                - 4 * w)

    def F(x):
        u, v = x[:N * N].reshape(N, N), x[N * N:].reshape(N, N)
        du = alpha * lap(u) + 1.0 + u * u * v - 4.4 * u + forcing
        dv = alpha * lap(v) + 3.4 * u - u * u * v
        return np.concatenate([du.ravel(), dv.ravel()])
    rng = np.random.default_rng(0)
    return F, rng.uniform(0, 1, 2 * N * N)


def rosen(n=10**4):
    def f(x):
        return np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    return f, np.full(n, 0.5)


PROBLEMS = {"bratu": (bratu, "jacobian"), "bratu_pad": (bratu_pad, "jacobian"),
            "bruss": (brusselator, "jacobian"), "rosen": (rosen, "hessian")}


def measure(rounds=7):
    rows = []
    for name, (make, kind) in PROBLEMS.items():
        f, x = make()
        detect = dualml.jacobian_sparsity if kind == "jacobian" else dualml.hessian_sparsity
        P = detect(f, x)
        ev = lambda f=f, x=x: f(x)
        de = lambda f=f, x=x, detect=detect: detect(f, x)
        n_ev = max(1, int(0.02 / max(timeit.timeit(ev, number=3) / 3, 1e-7)))
        n_de = max(1, int(0.02 / max(timeit.timeit(de, number=1), 1e-7)))
        t_ev, t_de = [], []
        for _ in range(rounds):                # interleaved: load shifts hit both alike
            t_ev.append(timeit.timeit(ev, number=n_ev) / n_ev)
            t_de.append(timeit.timeit(de, number=n_de) / n_de)
        e, d = statistics.median(t_ev), statistics.median(t_de)
        rows.append((name, x.size, P.nnz, e, d, d / e))
    return rows


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    rounds = int(argv[0]) if argv else 7
    print("| problem | n | nnz | eval | detect | detect / eval |")
    print("|---|---|---|---|---|---|")
    for name, n, nnz, e, d, r in measure(rounds):
        print(f"| {name} | {n} | {nnz} | {e * 1e6:.1f} us | {d * 1e6:.1f} us | {r:.1f}x |")


if __name__ == "__main__":
    main()
