"""
An Adam loop driven by dualml gradients: fitting a damped oscillation
=====================================================================

Model y = a exp(-b t) cos(c t) + d, fitted to noisy samples by Adam on the
mean squared error.  Each step takes dualml.value_and_gradient of the loss.

Run:  python examples/adam.py
"""
import numpy as np

import dualml


def model(p, t):
    return [p[0] * dualml.exp(-p[1] * ti) * dualml.cos(p[2] * ti) + p[3] for ti in t]


def loss(p, t, y):
    return dualml.mse(model(p, t), y)


def adam(fun, x0, args, steps, lr=0.05, beta1=0.9, beta2=0.999, eps=1e-8):
    x = np.array(x0, dtype=float)
    m = np.zeros_like(x)
    v = np.zeros_like(x)
    history = []
    for k in range(1, steps + 1):
        value, g = dualml.value_and_gradient(fun, x.tolist(), args)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** k)
        v_hat = v / (1 - beta2 ** k)
        x = x - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(value)
    return x, history


def main(n=60, steps=400, seed=0):
    rng = np.random.default_rng(seed)
    true = np.array([1.5, 0.4, 3.0, 0.2])
    t = np.linspace(0.0, 5.0, n).tolist()
    y = (np.array(model(true, t)) + 0.02 * rng.normal(size=n)).tolist()
    p, history = adam(loss, [1.0, 0.2, 2.8, 0.0], (t, y), steps)
    for k in range(0, steps, max(1, steps // 5)):
        print(f"step {k + 1:4d}  mse {history[k]:.6f}")
    final = float(loss(p.tolist(), t, y))
    print(f"fitted (a, b, c, d) = {np.round(p, 4)}; true {true}; final mse {final:.6f}")
    return {"params": p, "loss": final, "history": history, "true": true}


def plot(history):
    """The mean squared error per Adam step (the docs gallery shows it)."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.semilogy(history)
    ax.set_xlabel("Adam step")
    ax.set_ylabel("mean squared error")
    ax.set_title("Fitting a damped oscillation with exact gradients")
    fig.tight_layout()
    return fig


if __name__ == "__main__":
    r = main()
    try:
        plot(r["history"])
    except ImportError:                   # matplotlib is optional
        pass
