"""
Feature sensitivity: one partial derivative at a time of a model's output
=========================================================================

A small fixed model (a tanh hidden layer and a sigmoid output) scores a
customer record; dualml.partial gives d score / d feature_i, one input
direction and one evaluation each.  The analytic derivative is printed
next to it.

Run:  python examples/feature_sensitivity.py
"""
import numpy as np

import dualml

FEATURES = ["age", "income", "debt", "tenure", "late_payments"]


def make_model(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(scale=0.8, size=(4, len(FEATURES))), rng.normal(size=4), \
        rng.normal(size=4), 0.1


def score(x, W, b, v, c):
    h = [dualml.tanh(sum(W[k, i] * x[i] for i in range(len(x))) + b[k]) for k in range(len(b))]
    return dualml.sigmoid(sum(v[k] * h[k] for k in range(len(h))) + c)


def analytic_gradient(x, W, b, v, c):
    h = np.tanh(W @ x + b)
    s = 1.0 / (1.0 + np.exp(-(v @ h + c)))
    return s * (1.0 - s) * ((v * (1.0 - h * h)) @ W)


def main(n=5, steps=1, seed=0):
    """n records are scored (steps is unused; kept for the common signature)."""
    params = make_model(seed)
    rng = np.random.default_rng(seed + 1)
    records = rng.normal(size=(n, len(FEATURES)))
    worst = 0.0
    table = []
    for r, x in enumerate(records):
        xs = x.tolist()
        sens = [dualml.partial(score, xs, i, params) for i in range(len(FEATURES))]
        ref = analytic_gradient(x, *params)
        worst = max(worst, float(np.max(np.abs(np.array(sens) - ref))))
        table.append(sens)
        if r < 3:
            print(f"record {r}: score {float(score(xs, *params)):.4f}")
            for name, d, a in zip(FEATURES, sens, ref):
                print(f"    d score / d {name:<14} {d:+.6f}   (analytic {a:+.6f})")
    table = np.array(table)
    ranking = [FEATURES[i] for i in np.argsort(-np.mean(np.abs(table), axis=0))]
    print(f"features by mean |sensitivity| over {n} records: {', '.join(ranking)}")
    print(f"max |dualml - analytic| = {worst:.1e}")
    return {"sensitivities": table, "max_error": worst, "ranking": ranking}


if __name__ == "__main__":
    main()
