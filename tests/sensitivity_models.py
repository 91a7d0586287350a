"""Models for the sensitivity tests, at module level so that a process pool
(or a dask worker) can unpickle them by reference."""
import numpy as np

ISHIGAMI_A, ISHIGAMI_B = 7.0, 0.1


def ishigami(X, a=ISHIGAMI_A, b=ISHIGAMI_B):
    """Ishigami function, row-wise on an (N, 3) array (or one point (3,))."""
    x1, x2, x3 = X[..., 0], X[..., 1], X[..., 2]
    return np.sin(x1) + a * np.sin(x2) ** 2 + b * x3 ** 4 * np.sin(x1)


def g_function(X, a):
    """Sobol's g-function, row-wise on an (N, D) array; a: (D,) coefficients."""
    return np.prod((np.abs(4.0 * X - 2.0) + a) / (1.0 + a), axis=-1)


def two_outputs(X):
    """(N, 3) -> (N, 2), row-wise, elementwise operations only."""
    x0, x1, x2 = X[..., 0], X[..., 1], X[..., 2]
    return np.stack([x0 * np.exp(x1) + x2 ** 2, np.sin(x0 * x2) / x1], axis=-1)


def two_outputs_point(x):
    """The same model on one point (3,) -> (2,)."""
    return two_outputs(x)


def two_outputs_jacobian(X):
    """Analytic Jacobian of two_outputs: (N, 2, 3)."""
    x0, x1, x2 = X[:, 0], X[:, 1], X[:, 2]
    c = np.cos(x0 * x2)
    J = np.zeros((len(X), 2, 3))
    J[:, 0, 0] = np.exp(x1)
    J[:, 0, 1] = x0 * np.exp(x1)
    J[:, 0, 2] = 2 * x2
    J[:, 1, 0] = x2 * c / x1
    J[:, 1, 1] = -np.sin(x0 * x2) / x1 ** 2
    J[:, 1, 2] = x0 * c / x1
    return J
