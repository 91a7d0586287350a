"""
Sensitivity of a trained classifier's predicted probability to each feature
===========================================================================

A logistic-regression credit model is trained on generated data (gradient
descent, the gradient of the regularized loss from dualml), then
dualml.sensitivity answers: at this applicant, how much does the predicted
probability move per percent change of each feature (elasticity), and which
features matter most -- at one applicant and, vectorized, over a batch.

The model's probability is p = sigmoid(w·x + c), so the exact answer is known:
dp/dx_j = p (1 - p) w_j and the elasticity is x_j (1 - p) w_j.

Run:  python examples/sensitivity_classifier.py
"""
import numpy as np

import dualml

FEATURES = ["income", "debt", "age", "years_employed", "late_payments"]
TRUE_W = np.array([1.5, -2.0, 0.3, 0.8, -1.2])


def make_data(n, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(loc=[3.0, 1.5, 4.0, 2.0, 0.5], scale=[1.0, 0.7, 1.2, 1.0, 0.5],
                   size=(n, len(FEATURES)))
    logits = (X - X.mean(axis=0)) @ TRUE_W
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-logits))).astype(float)
    return X, y


def loss(theta, X, y, lam):
    """Mean logistic loss + L2 penalty; theta = (w, c). Works on floats and Duals."""
    w, c = theta[:-1], theta[-1]
    logits = X @ w + c
    return dualml.binary_cross_entropy_with_logits(logits, y) + lam * np.sum(w * w)


def train(X, y, lam=1e-3, steps=300, lr=0.5):
    mu, sd = X.mean(axis=0), X.std(axis=0)
    Z = (X - mu) / sd
    theta = np.zeros(X.shape[1] + 1)
    grad = dualml.grad(loss)
    for _ in range(steps):
        theta = theta - lr * grad(theta, Z, y, lam)
    return theta, mu, sd


def make_predict(theta, mu, sd):
    w, c = theta[:-1], theta[-1]

    def predict(x):
        """P(default) for one applicant x (5,) or row-wise for a batch (N, 5)."""
        return dualml.sigmoid(((x - mu) / sd) @ w + c)

    return predict


def main(n=2000, steps=300, batch=200, seed=0):
    X, y = make_data(n, seed)
    theta, mu, sd = train(X, y, steps=steps)
    predict = make_predict(theta, mu, sd)

    applicant = np.array([2.5, 2.2, 3.5, 1.0, 1.0])
    res = dualml.sensitivity(predict, applicant, names=FEATURES)
    print(res)

    # exact reference: dp/dx = p(1-p) w/sd
    p = res.value
    w_eff = theta[:-1] / sd
    ref = p * (1 - p) * w_eff
    err = float(np.max(np.abs(res.jacobian - ref)))
    print(f"\nmax |dualml - analytic| derivative: {err:.2e}")

    # the same question over a batch of applicants, one vectorized evaluation
    batch_res = dualml.sensitivity(predict, X[:batch], names=FEATURES, vectorized=True)
    print()
    print(batch_res)
    top = [FEATURES[j] for j in batch_res.ranking[:2]]
    print(f"most influential features over {batch} applicants: {', '.join(top)}")
    return {"result": res, "batch": batch_res, "max_abs_error": err, "theta": theta,
            "reference": ref}


if __name__ == "__main__":
    main()
