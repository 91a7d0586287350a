"""
Logistic regression with L2 regularization, trained by gradient descent
=======================================================================

The loss is written once, with dualml's binary cross-entropy and penalty;
dualml.value_and_gradient gives the loss and its exact gradient from the
same evaluations.  At the end the gradient is checked against the
closed form X^T (sigmoid(Xw + b) - y) / n + alpha w.

Run:  python examples/logistic_regression.py
"""
import numpy as np

import dualml


def make_data(n, rng):
    X = rng.normal(size=(n, 3))
    w_true, b_true = np.array([2.0, -1.0, 0.5]), -0.3
    p = 1.0 / (1.0 + np.exp(-(X @ w_true + b_true)))
    y = (rng.random(n) < p).astype(float)
    return X, y


def loss(params, X, y, alpha):
    w, b = params[:-1], params[-1]
    return (dualml.binary_cross_entropy_with_logits(X @ w + b, y)
            + dualml.l2_penalty(w, alpha))


def main(n=400, steps=300, lr=0.5, alpha=1e-3, seed=0):
    rng = np.random.default_rng(seed)
    X, y = make_data(n, rng)
    params = np.zeros(4)
    history = []
    for step in range(steps):
        value, g = dualml.value_and_gradient(loss, params, (X, y, alpha))
        history.append((float(value), float(np.linalg.norm(g))))
        params = params - lr * g
        if step % max(1, steps // 5) == 0:
            print(f"step {step:4d}  loss {value:.6f}  |grad| {np.linalg.norm(g):.2e}")
    value, g = dualml.value_and_gradient(loss, params, (X, y, alpha))
    w, b = params[:-1], params[-1]
    z = X @ w + b
    closed_form = np.append(X.T @ (1 / (1 + np.exp(-z)) - y) / n + alpha * w,
                            np.mean(1 / (1 + np.exp(-z)) - y))
    accuracy = float(np.mean((z > 0) == (y == 1)))
    err = float(np.max(np.abs(g - closed_form)))
    print(f"final loss {value:.6f}, weights {np.round(w, 3)}, bias {b:.3f}, "
          f"training accuracy {accuracy:.3f}")
    print(f"max |dualml gradient - closed form| = {err:.1e}")
    return {"loss": float(value), "params": params, "accuracy": accuracy,
            "grad_error": err, "grad_norm": float(np.linalg.norm(g)), "history": history}


def plot(history):
    """Loss and gradient norm per step (the docs gallery shows the figure)."""
    import matplotlib.pyplot as plt
    loss_, gnorm = np.array(history).T
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(loss_, label="loss")
    ax.set_xlabel("gradient-descent step")
    ax.set_ylabel("regularized cross-entropy")
    ax2 = ax.twinx()
    ax2.semilogy(gnorm, color="tab:orange", label="|gradient| (dualml, exact)")
    ax2.set_ylabel("|gradient|")
    fig.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    r = main()
    try:
        plot(r["history"])
    except ImportError:                   # matplotlib is optional
        pass
