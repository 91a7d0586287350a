"""
A linear support vector machine trained on the hinge loss
=========================================================

Labels are -1/+1; the objective is ``mean(max(0, 1 - y (Xw + b))) + alpha/2 |w|^2``,
minimized by (sub)gradient descent with a decreasing step.  dualml.gradient
differentiates the kinked loss with dualml.maximum's convention at ties.

Run:  python examples/svm_hinge.py
"""
import numpy as np

import dualml


def objective(params, X, y, alpha):
    w, b = params[:-1], params[-1]
    return dualml.hinge(X @ w + b, y) + dualml.l2_penalty(w, alpha)


def main(n=200, steps=200, alpha=0.01, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice([-1.0, 1.0], size=n)
    X = rng.normal(size=(n, 2)) + 1.5 * y[:, None] * np.array([1.0, 0.5])
    params = np.zeros(3)
    for step in range(steps):
        value, g = dualml.value_and_gradient(objective, params, (X, y, alpha))
        params = params - 0.5 / np.sqrt(step + 1.0) * g
        if step % max(1, steps // 5) == 0:
            print(f"step {step:4d}  objective {value:.5f}")
    w, b = params[:-1], params[-1]
    margin = y * (X @ w + b)
    accuracy = float(np.mean(margin > 0))
    value = float(objective(params, X, y, alpha))
    print(f"w = {np.round(w, 3)}, b = {b:.3f}; objective {value:.5f}; "
          f"training accuracy {accuracy:.3f}; support vectors (margin <= 1): "
          f"{int(np.sum(margin <= 1))}")
    return {"objective": value, "accuracy": accuracy, "params": params}


if __name__ == "__main__":
    main()
