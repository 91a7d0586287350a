"""
A small MLP: hand-written backpropagation checked against dualml.gradient
=========================================================================

A 2-8-1 tanh network fits y = sin(2 x1) + x2**2 by gradient descent on the
mean squared error.  The parameters live in one flat vector; backprop()
is the textbook chain rule, written by hand, and dualml.gradient must agree
with it to rounding at every checked step.

Run:  python examples/mlp_backprop.py
"""
import numpy as np

import dualml

N_IN, N_HID = 2, 8
N_PARAMS = N_HID * N_IN + N_HID + N_HID + 1


def unpack(theta):
    W1 = theta[:N_HID * N_IN].reshape(N_HID, N_IN)
    b1 = theta[N_HID * N_IN:N_HID * N_IN + N_HID]
    w2 = theta[N_HID * N_IN + N_HID:-1]
    return W1, b1, w2, theta[-1]


def loss(theta, X, y):
    W1, b1, w2, b2 = unpack(theta)
    h = np.tanh(X @ W1.T + b1)          # object arrays of Duals: np.tanh calls Dual.tanh
    return dualml.mse(h @ w2 + b2, y)


def backprop(theta, X, y):
    """The gradient of loss() by the chain rule, written out by hand."""
    W1, b1, w2, b2 = unpack(theta)
    h = np.tanh(X @ W1.T + b1)
    r = h @ w2 + b2 - y
    d_out = 2.0 * r / len(y)                      # dL/d(prediction)
    d_h = np.outer(d_out, w2) * (1.0 - h * h)     # through tanh
    return np.concatenate([(d_h.T @ X).ravel(), d_h.sum(axis=0), h.T @ d_out, [d_out.sum()]])


def main(n=64, steps=200, lr=0.1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1.0, 1.0, size=(n, N_IN))
    y = np.sin(2.0 * X[:, 0]) + X[:, 1] ** 2
    theta = rng.normal(scale=0.5, size=N_PARAMS)
    worst = 0.0
    for step in range(steps):
        g_hand = backprop(theta, X, y)
        if step % max(1, steps // 4) == 0 or step == steps - 1:
            value, g = dualml.value_and_gradient(loss, theta, (X, y))
            diff = float(np.max(np.abs(g - g_hand)) / np.max(np.abs(g_hand)))
            worst = max(worst, diff)
            print(f"step {step:4d}  mse {value:.5f}  max rel |dualml - backprop| {diff:.1e}")
        theta = theta - lr * g_hand
    final = float(loss(theta, X, y))
    print(f"final mse {final:.5f} ({N_PARAMS} parameters); worst disagreement {worst:.1e}")
    return {"loss": final, "max_rel_diff": worst, "theta": theta}


if __name__ == "__main__":
    main()
