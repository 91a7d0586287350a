"""
Which inputs of the Ishigami function matter? Local and global answers
======================================================================

f(x) = sin x1 + a sin² x2 + b x3⁴ sin x1 with x ~ U[-π, π]³ (a = 7, b = 0.1),
the standard test of sensitivity analysis.  Two views, both from exact
derivatives:

* local: derivatives and elasticities at one point, and at 1024 points in
  one vectorized evaluation;
* global: derivative-based sensitivity measures (DGSM), with the closed
  forms vi = E[(∂f/∂x_i)²] next to the estimates:
  v1 = (1 + 2bπ⁴/5 + b²π⁸/9)/2, v2 = a²/2, v3 = 8b²π⁶/7.

Run as a script, it saves examples/ishigami_sensitivity.png (used in the sensitivity guide).
Run:  python examples/sensitivity_ishigami.py
"""
import math
import pathlib

import numpy as np

import dualml

A, B = 7.0, 0.1
PROBLEM = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-math.pi, math.pi]] * 3}


def ishigami(X):
    """At one point (3,) or row-wise on an (N, 3) array of points."""
    x1, x2, x3 = X[..., 0], X[..., 1], X[..., 2]
    return np.sin(x1) + A * np.sin(x2) ** 2 + B * x3 ** 4 * np.sin(x1)


def exact_vi():
    pi = math.pi
    return np.array([0.5 * (1 + 2 * B * pi ** 4 / 5 + B ** 2 * pi ** 8 / 9), A ** 2 / 2,
                     8 * B ** 2 * pi ** 6 / 7])


def main(n=4096, png=None, seed=0):
    res = dualml.dgsm(ishigami, PROBLEM, n, seed=seed)
    print(res)
    exact = exact_vi()
    print("exact vi:", np.array2string(exact, precision=6))

    # an ndarray point: f gets a DualArray (a list would give scalar Duals,
    # which X[..., 0] cannot index), as dualml.jacobian does
    point = dualml.sensitivity(ishigami, np.array([-1.0, -0.5, 2.0]),
                               names=PROBLEM["names"])
    print()
    print(point)
    X = np.random.default_rng(seed).uniform(-math.pi, math.pi, size=(1024, 3))
    local = dualml.sensitivity(ishigami, X, names=PROBLEM["names"], vectorized=True)
    print()
    print(local)

    try:
        import matplotlib.pyplot as plt
    except ImportError:                   # the plot is optional
        plt = None
    if plt is not None:
        fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
        pos = np.arange(3)
        ax1.bar(pos - 0.2, res["vi"], 0.4, yerr=res["vi_conf"], capsize=3,
                label="dualml.dgsm (exact gradients)")
        ax1.bar(pos + 0.2, exact, 0.4, color="tab:gray", label="closed form")
        ax1.set_xticks(pos)
        ax1.set_xticklabels(PROBLEM["names"])
        ax1.set_ylabel(r"$\nu_i = E[(\partial f/\partial x_i)^2]$")
        ax1.set_title(f"Global: DGSM, N = {n} Sobol points")
        ax1.set_ylim(0, 1.3 * max(exact))
        ax1.legend(fontsize=8, loc="upper left")
        point.plot(ax=ax2, kind="tornado")
        ax2.set_title("Local: elasticities at x = (" +
                      ", ".join(f"{v:g}" for v in point.x) + ")")
        fig.tight_layout()
        if png:
            fig.savefig(png, dpi=110)
            plt.close(fig)
            print(f"\nplot saved to {png}")
    return {"dgsm": res, "exact_vi": exact, "local": local, "point": point}


if __name__ == "__main__":
    # as a script: save the sensitivity guide's figure next to this file; the docs
    # gallery runs this block without a __file__ and shows the figure instead
    here = globals().get("__file__")
    main(png=pathlib.Path(here).with_name("ishigami_sensitivity.png") if here else None)
