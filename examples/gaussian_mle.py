"""
Maximum-likelihood fit of a Gaussian through the gradient of the log-likelihood
===============================================================================

Parameters (mu, log sigma); Newton's method on the negative log-likelihood
with dualml.value_and_gradient and dualml.hessian.  The answer is known in
closed form (the sample mean and the biased sample standard deviation),
so the script prints both.

Run:  python examples/gaussian_mle.py
"""
import math

import numpy as np

import dualml


def neg_log_likelihood(theta, data):
    mu, log_sigma = theta[0], theta[1]
    n = len(data)
    sq = sum((x - mu) ** 2 for x in data)
    return n * log_sigma + 0.5 * sq * dualml.exp(-2.0 * log_sigma) + 0.5 * n * math.log(2 * math.pi)


def main(n=500, steps=30, seed=0):
    rng = np.random.default_rng(seed)
    data = rng.normal(loc=1.7, scale=0.6, size=n).tolist()
    theta = np.array([0.0, 0.0])
    for step in range(steps):
        value, g = dualml.value_and_gradient(neg_log_likelihood, theta.tolist(), (data,))
        H = dualml.hessian(neg_log_likelihood, theta.tolist(), (data,))
        # Newton direction where the Hessian is positive definite (near the
        # optimum), else steepest descent; then backtrack until the loss drops.
        try:
            np.linalg.cholesky(H)
            direction = -np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            direction = -g / np.linalg.norm(g)
        t = 1.0
        slack = 1e-12 * abs(value)                      # the loss's own rounding
        while neg_log_likelihood((theta + t * direction).tolist(), data) > value + slack \
                and t > 1e-12:
            t *= 0.5
        theta = theta + t * direction
        print(f"step {step:2d}  -loglik {value:12.6f}  mu {theta[0]:.6f}  "
              f"sigma {math.exp(theta[1]):.6f}  |grad| {np.linalg.norm(g):.1e}")
        if np.linalg.norm(t * direction) < 1e-12:     # converged to rounding
            break
    mean = float(np.mean(data))
    std = float(np.std(data))
    mu, sigma = float(theta[0]), math.exp(theta[1])
    print(f"MLE:         mu   = {mu:.14f}, sigma = {sigma:.14f}")
    print(f"closed form: mean = {mean:.14f}, std   = {std:.14f}")
    return {"mu": mu, "sigma": sigma, "mean": mean, "std": std}


if __name__ == "__main__":
    main()
