"""The benchmark workloads: test functions, inputs, references and the error metric.

Every test function is a factory over the elementary functions it uses
(``make_f1(sin, exp, ...)``), so each tool runs the same expression with its own
``sin``/``exp`` bound as closure cells: no tool pays for attribute look-ups
that another does not.

References are computed independently of every tool: by mpmath at 30 digits
(``mp.diff`` for W1/W2, hand-derived formulas in mpf for W3/W5), in long double
for the 10^6-point W4, and in closed form for the W6 sensitivity measures.
``python bench/workloads.py`` checks the hand-derived formulas against mp.diff.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

SEED = 20240605

# --- W1: scalar expression, d/dx at one point --------------------------------
X0, Y0 = 0.7, 1.3


def make_f1(sin, exp, tanh, log, sqrt):
    def f(x, y):
        return sin(x) * exp(y) / (1 + x * x) + tanh(x * y) - log(1 + y * y) + sqrt(x * x + y * y)

    return f


def hand_f1(x, y):
    """f1 and df1/dx written out by hand on floats (shares subexpressions)."""
    s, c, ey = math.sin(x), math.cos(x), math.exp(y)
    q = 1 + x * x
    t = math.tanh(x * y)
    r = math.sqrt(x * x + y * y)
    val = s * ey / q + t - math.log(1 + y * y) + r
    der = ey * (c * q - 2 * x * s) / (q * q) + y * (1 - t * t) + x / r
    return val, der


# --- W1x: more expressions of W1's kind, over the whole rule table ----------
# Each is a factory over the functions it calls (NumPy's names), evaluated at
# (X0, Y0) with x a Dual: "the same code on floats" is the floor.  Together
# they call every row of csrc/dual_rules.def except the identities
# (positive) and the steps that differ only in name (ceil, rint).
def make_w1x_a(exp, arctan, cosh, log1p):
    """products, float power, exp, arctan, cosh, log1p (the issue's example)"""
    def f(x, y):
        return x * y * exp(-x) + x ** 2.5 - arctan(x * y) + cosh(x) / (1 + x) + log1p(x * x)

    return f


def make_w1x_b(sin, cos, tan, arcsin, arccos, arctan):
    """trigonometric"""
    def f(x, y):
        return sin(x) * cos(y * x) + tan(x / y) + arcsin(x / 2) - arccos(x / 3) + arctan(x) ** 2

    return f


def make_w1x_c(sinh, cosh, tanh, arcsinh, arccosh, arctanh):
    """hyperbolic"""
    def f(x, y):
        return sinh(x) - tanh(x * y) + cosh(x / y) + arcsinh(x * y) + arccosh(x + y) - arctanh(x / 2)

    return f


def make_w1x_d(exp2, expm1, log, log2, log10, sqrt, cbrt):
    """exponentials, logarithms and roots"""
    def f(x, y):
        return exp2(x) + expm1(x * y) - log(x + y) + log2(y * x) + log10(x + 3) + sqrt(x * y) + cbrt(x + 1)

    return f


def make_w1x_e(square, reciprocal):
    """arithmetic and powers"""
    def f(x, y):
        return x ** y + y ** x + 1 / (x + y) + x ** 3 - (x * x) / (y - x) + square(x - y) * reciprocal(x + 2) - x ** 0.5

    return f


def make_w1x_f(erf, erfc, sigmoid, softplus, log_sigmoid, silu, gelu, elu, relu, leaky_relu):
    """special functions and activations"""
    def f(x, y):
        return (erf(x) + erfc(y - x) + sigmoid(x * y) + softplus(x) - log_sigmoid(x) + silu(x)
                + gelu(x * y) + elu(-x) + relu(x - 0.5) + leaky_relu(0.3 - x))

    return f


def make_w1x_g(hypot, arctan2, logaddexp, maximum, minimum, fmax, fmin, copysign, absolute,
               sign, floor, trunc, floor_divide):
    """two-argument functions, kinks and steps"""
    def f(x, y):
        return (hypot(x, y) + arctan2(x, y) + logaddexp(x, y) + maximum(x, 0.5) - minimum(x * y, 1.0)
                + fmax(x, y) - fmin(x, 0.1) + copysign(x, -y) + absolute(x - y) + x % 0.3
                + floor_divide(x, 0.25) + floor(x * 3) + sign(x) + trunc(y * x) - (-x))

    return f


W1X = {"a": make_w1x_a, "b": make_w1x_b, "c": make_w1x_c, "d": make_w1x_d,
       "e": make_w1x_e, "f": make_w1x_f, "g": make_w1x_g}


def bind_w1x(key, namespace):
    """The W1x expression `key` with its functions taken from namespace[name]."""
    import inspect

    make = W1X[key]
    return make(**{n: namespace[n] for n in inspect.signature(make).parameters})


def _mp_namespace(mp):
    """Every function the W1x expressions call, in mpmath (definitions, not dualml's rules)."""
    def sigmoid(t):
        return 1 / (1 + mp.exp(-t))

    return {
        "exp": mp.exp, "exp2": lambda t: mp.mpf(2) ** t, "expm1": mp.expm1, "log": mp.log,
        "log2": lambda t: mp.log(t, 2), "log10": mp.log10, "log1p": mp.log1p, "sqrt": mp.sqrt,
        "cbrt": mp.cbrt, "square": lambda t: t * t, "reciprocal": lambda t: 1 / t,
        "sin": mp.sin, "cos": mp.cos, "tan": mp.tan, "arcsin": mp.asin, "arccos": mp.acos,
        "arctan": mp.atan, "sinh": mp.sinh, "cosh": mp.cosh, "tanh": mp.tanh,
        "arcsinh": mp.asinh, "arccosh": mp.acosh, "arctanh": mp.atanh, "erf": mp.erf,
        "erfc": mp.erfc, "sigmoid": sigmoid, "softplus": lambda t: mp.log1p(mp.exp(t)),
        "log_sigmoid": lambda t: -mp.log1p(mp.exp(-t)), "silu": lambda t: t * sigmoid(t),
        "gelu": lambda t: t * (1 + mp.erf(t / mp.sqrt(2))) / 2,
        "elu": lambda t: t if t > 0 else mp.expm1(t), "relu": lambda t: t if t > 0 else 0 * t,
        "leaky_relu": lambda t: t if t > 0 else t / 100,
        "hypot": mp.hypot, "arctan2": mp.atan2,
        "logaddexp": lambda a, b: mp.log(mp.exp(a) + mp.exp(b)),
        "maximum": max, "minimum": min, "fmax": max, "fmin": min,
        "copysign": lambda a, b: abs(a) * mp.sign(b), "absolute": abs, "sign": mp.sign,
        "floor": mp.floor, "trunc": lambda t: mp.floor(t) if t >= 0 else mp.ceil(t),
        "floor_divide": lambda a, b: mp.floor(a / b),
    }


def ref_w1x(key):
    mp = _mp()
    f = bind_w1x(key, _mp_namespace(mp))
    x, y = mp.mpf(X0), mp.mpf(Y0)
    return {"value": float(f(x, y)), "deriv": float(mp.diff(lambda t: f(t, y), x))}


# --- W7: gradient of scalar Python code with a loop over n variables --------
def w7_data(n):
    return np.random.default_rng(SEED + 7 * n).uniform(-1.0, 1.5, n).tolist()


def make_w7(sin, exp):
    def f(x):
        s = 0.0
        for i in range(len(x) - 1):
            s = s + 100.0 * (x[i + 1] - x[i] * x[i]) ** 2 + (1.0 - x[i]) ** 2 + sin(x[i]) * exp(-x[i + 1])
        return s

    return f


def ref_w7(n):
    # the gradient by hand in mpf: term i depends on x_i and x_{i+1}
    mp = _mp()
    x = [mp.mpf(v) for v in w7_data(n)]
    g = [mp.mpf(0)] * n
    val = mp.mpf(0)
    for i in range(n - 1):
        u = x[i + 1] - x[i] ** 2
        e = mp.exp(-x[i + 1])
        val += 100 * u**2 + (1 - x[i]) ** 2 + mp.sin(x[i]) * e
        g[i] += -400 * x[i] * u - 2 * (1 - x[i]) + mp.cos(x[i]) * e
        g[i + 1] += 200 * u - mp.sin(x[i]) * e
    return {"value": float(val), "deriv": np.array([float(t) for t in g])}


# --- W2: derivative of a univariate function at 20 points -------------------
W2_POINTS = np.linspace(0.25, 5.0, 20).tolist()


def make_g(exp, sin):
    def g(x):
        return x**3 * exp(-x) / (1 + sin(x) ** 2)

    return g


def hand_dg(x):
    e, s, c = math.exp(-x), math.sin(x), math.cos(x)
    q = 1 + s * s
    return ((3 * x * x - x**3) * e * q - x**3 * e * 2 * s * c) / (q * q)


# --- W3: Jacobian of F(x) = tanh(W x + b) * x + sum(sin x) -------------------
def w3_data(n):
    rng = np.random.default_rng(SEED + n)
    W = rng.standard_normal((n, n)) / math.sqrt(n)  # keeps tanh away from saturation
    b = rng.standard_normal(n)
    x = rng.standard_normal(n)
    return W, b, x


def make_F(W, b, tanh, sin):
    def F(x):
        return tanh(W @ x + b) * x + sin(x).sum()

    return F


def hand_jacobian_F(W, b, x):
    t = np.tanh(W @ x + b)
    J = ((1 - t * t) * x)[:, None] * W + np.cos(x)[None, :]
    J[np.diag_indices_from(J)] += t
    return J


# --- W4: h and h' over a large array -----------------------------------------
def w4_data(n, key=None):
    # uniform random points, or (key "linspace") evenly spaced ones: NumPy's
    # own loops are faster on the latter (predictable branches), so both
    # are measured
    if key == "linspace":
        return np.linspace(-3.0, 3.0, n)
    return np.random.default_rng(SEED).uniform(-3.0, 3.0, n)


def make_h(exp, sin, tanh):
    def h(x):
        return exp(-x * x) * sin(3 * x) + tanh(x)

    return h


def hand_h(x):
    e, s3, c3, t = np.exp(-x * x), np.sin(3 * x), np.cos(3 * x), np.tanh(x)
    return e * s3 + t, e * (3 * c3 - 2 * x * s3) + (1 - t * t)


# --- W5: Hessian of the 10-variable Rosenbrock function ----------------------
def w5_data(n=10):
    return np.random.default_rng(SEED).uniform(-1.5, 1.5, n)


def rosen(x):
    return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()


def hand_hessian_rosen(x):
    n = len(x)
    H = np.zeros((n, n))
    d = np.zeros(n)
    d[:-1] = 1200 * x[:-1] ** 2 - 400 * x[1:] + 2
    d[1:] += 200
    H[np.diag_indices(n)] = d
    off = -400 * x[:-1]
    H[np.arange(n - 1), np.arange(1, n)] = off
    H[np.arange(1, n), np.arange(n - 1)] = off
    return H


# --- W5h: Hessian-vector product of the same Rosenbrock function --------------
def w5h_data(n=10):
    return w5_data(n), np.random.default_rng(SEED + 1).normal(size=n)


# --- W6: DGSM of a 10-input model on U[-pi, pi]^10 ---------------------------
W6_A = np.array([1.0, 2.0, 0.5, 0.2, 3.0, 1.0, 0.1, 0.0, 2.0, 1.0])
W6_B = np.array([0.1, 0.0, 0.3, 0.05, 0.0, 0.2, 0.0, 0.5, 0.1, 0.02])
W6_PROBLEM = {
    "num_vars": 10,
    "names": [f"x{i + 1}" for i in range(10)],
    "bounds": [[-math.pi, math.pi]] * 10,
}


def make_model(sin):
    """y = sum_i a_i sin(x_i) + b_i x_i^2; X is (N, 10) or one sample (10,)."""
    a, b = W6_A, W6_B

    def model(X):
        return (a * sin(X) + b * X * X).sum(axis=-1)

    return model


def dgsm_reference():
    # v_i = E[(df/dx_i)^2] = E[(a cos x + 2 b x)^2] = a^2/2 + 4 b^2 pi^2/3 on U[-pi, pi]
    return W6_A**2 / 2 + 4 * W6_B**2 * math.pi**2 / 3


# --- W6b: DGSM of an SIR epidemic integrated by a 200-step RK4 loop ------------
SIR_STEPS = 200
SIR_DAYS = 120.0
W6B_PROBLEM = {
    "num_vars": 3,
    "names": ["beta", "gamma", "i0"],  # infection rate, recovery rate, initial infected fraction
    "bounds": [[0.15, 0.45], [0.05, 0.15], [1e-3, 1e-2]],  # R0 = beta/gamma from 1 to 9
}


def sir_model(X):
    """Final recovered fraction r(T) of an SIR epidemic; X is (N, 3) (beta, gamma, i0 by column).

    ds/dt = -beta s i, di/dt = beta s i - gamma i, dr/dt = gamma i from (1 - i0, i0, 0),
    explicit RK4 with 200 steps over 120 days, in plain array arithmetic: the same
    code runs on ndarrays, DualArrays and complex arrays (the reference's complex step).
    """
    beta, gamma, i0 = X[:, 0], X[:, 1], X[:, 2]
    h = SIR_DAYS / SIR_STEPS
    h2, h6 = h / 2, h / 6

    def rhs(s, i):
        new = beta * s * i
        rec = gamma * i
        return -new, new - rec, rec

    s, i, r = 1 - i0, i0, 0.0
    for _ in range(SIR_STEPS):
        s1, i1, r1 = rhs(s, i)
        s2, i2, r2 = rhs(s + h2 * s1, i + h2 * i1)
        s3, i3, r3 = rhs(s + h2 * s2, i + h2 * i2)
        s4, i4, r4 = rhs(s + h * s3, i + h * i3)
        s = s + h6 * (s1 + 2 * s2 + 2 * s3 + s4)
        i = i + h6 * (i1 + 2 * i2 + 2 * i3 + i4)
        r = r + h6 * (r1 + 2 * r2 + 2 * r3 + r4)
    return r


def sir_gradient_cs(X):
    """Exact gradient of sir_model at the rows of X by complex step (step 1e-30: no cancellation)."""
    G = np.empty(X.shape)
    for j in range(X.shape[1]):
        Xc = X.astype(complex)
        Xc[:, j] += 1e-30j
        G[:, j] = sir_model(Xc).imag / 1e-30
    return G


def sir_vi_reference(m=24):
    """v_i = E[(dr(T)/dx_i)^2] over the uniform box: m-point Gauss-Legendre per axis.

    The integrand is smooth, so the tensor rule converges fast (selfcheck compares
    m = 16 and 32); the gradient is exact (complex step through the same RK4).
    """
    nodes, weights = np.polynomial.legendre.leggauss(m)
    lo, hi = np.array(W6B_PROBLEM["bounds"]).T
    axes = [lo[j] + (hi[j] - lo[j]) * (nodes + 1) / 2 for j in range(3)]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    wgt = np.einsum("i,j,k->ijk", weights, weights, weights).reshape(-1) / 8  # mean over the box
    return wgt @ sir_gradient_cs(X) ** 2


# --- W6c: DGSM of an SEIR model with vaccination solved by scipy's solve_ivp --------
SEIRV_DAYS = 180.0
SEIRV_TOL = {"rtol": 1e-6, "atol": 1e-9}
W6C_PROBLEM = {
    "num_vars": 5,
    # transmission, incubation and recovery rates, vaccination rate, initial infected fraction
    "names": ["beta", "sigma", "gamma", "nu", "i0"],
    "bounds": [[0.2, 0.5], [0.1, 0.3], [0.05, 0.15], [0.0, 0.01], [1e-3, 1e-2]],
}


def seirv_rhs(t, y, beta, sigma, gamma, nu):
    """SEIR with vaccination of susceptibles; c counts infections (the attack rate)."""
    s, e, i, r, c = y
    new = beta * s * i
    onset = sigma * e
    return [-new - nu * s, new - onset, onset - gamma * i, gamma * i + nu * s, onset]


def seirv_y0(i0):
    return [1 - i0, 0.0, i0, 0.0, 0.0]


def seirv_model(x, solve_ivp, **options):
    """The attack rate c(T) at one point x = (beta, sigma, gamma, nu, i0), by `solve_ivp` (RK45).

    `solve_ivp` is SciPy's (plain floats) or dualml's (x may carry derivatives).
    """
    sol = solve_ivp(seirv_rhs, (0.0, SEIRV_DAYS), seirv_y0(x[4]), args=(x[0], x[1], x[2], x[3]),
                    **{**SEIRV_TOL, **options})
    return sol.y[4, -1]


def seirv_rk4(X, steps=720):
    """c(T) at the rows of X by a fixed-step RK4 in array arithmetic (complex X: complex step)."""
    beta, sigma, gamma, nu, i0 = (X[:, j] for j in range(5))
    h = SEIRV_DAYS / steps
    y = [1 - i0, 0 * i0, i0, 0 * i0, 0 * i0]

    def f(y):
        return seirv_rhs(0.0, y, beta, sigma, gamma, nu)

    for _ in range(steps):
        k1 = f(y)
        k2 = f([a + h / 2 * b for a, b in zip(y, k1)])
        k3 = f([a + h / 2 * b for a, b in zip(y, k2)])
        k4 = f([a + h * b for a, b in zip(y, k3)])
        y = [a + h / 6 * (b1 + 2 * b2 + 2 * b3 + b4) for a, b1, b2, b3, b4 in zip(y, k1, k2, k3, k4)]
    return y[4]


def seirv_gradient_cs(X, steps=720):
    """Gradient of c(T) at the rows of X by complex step through seirv_rk4 (all 5 at once)."""
    N, D = X.shape
    Xc = np.repeat(X.astype(complex)[None], D, axis=0)  # (D, N, D)
    for j in range(D):
        Xc[j, :, j] += 1e-30j
    return (seirv_rk4(Xc.reshape(D * N, D), steps).imag / 1e-30).reshape(D, N).T


def seirv_vi_reference(m=6, steps=720):
    """v_i = E[(dc(T)/dx_i)^2] over the uniform box: m-point Gauss-Legendre per axis (m^5 points)."""
    nodes, weights = np.polynomial.legendre.leggauss(m)
    lo, hi = np.array(W6C_PROBLEM["bounds"]).T
    axes = [lo[j] + (hi[j] - lo[j]) * (nodes + 1) / 2 for j in range(5)]
    X = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 5)
    wgt = np.ones(1)
    for _ in range(5):
        wgt = np.multiply.outer(wgt, weights / 2).reshape(-1)
    return wgt @ seirv_gradient_cs(X, steps) ** 2


# --- W11: the 10th derivative of a 20-operation scalar expression (Taylor mode) --
W11_X0 = 0.7
W11_N = 10   # derivative order; goal (issue 13): dualml <= 60x one float evaluation


def make_w11(sin, exp, tanh, log, sqrt, arctan):
    """20 operations: sin exp tanh log sqrt arctan, 9 products/quotients, 5 sums"""
    def f(x):
        a = sin(x) * exp(0.5 * x)              # 4
        b = a / (1.0 + x * x)                  # 3
        c = tanh(b + 0.3 * x)                  # 3
        d = log(2.0 + c * c)                   # 3
        e = sqrt(1.0 + x * x) * arctan(x)      # 5
        return d + e * c                       # 2

    return f


def ref_w11():
    mp = _mp()
    mp.mp.dps = 50
    try:
        f = make_w11(mp.sin, mp.exp, mp.tanh, mp.log, mp.sqrt, mp.atan)
        x = mp.mpf(W11_X0)
        return {"value": float(f(x)), "deriv": float(mp.diff(f, x, W11_N))}
    finally:
        mp.mp.dps = 30


# --- W9: one DualArray operation against the same NumPy operation on the values --
W9_K = 10  # directions
W9_SIZES = (10, 10**4)
W9_OPS = {  # name: (expression, goal for the ratio at 10 elements x 10 directions)
    "mul": ("d * d", 1.5),
    "scale": ("d * 2.0", 1.5),
    "sin": ("np.sin(d)", 1.5),
    "sum": ("d.sum()", 1.5),
    "dot": ("d @ w", 1.5),
    "slice": ("d[1:]", 2.5),
    # held-out rows added after the first six were met: another ufunc,
    # an integer index, a selecting reduction, an inner product of two duals
    "exp": ("np.exp(d)", 1.5),
    "index": ("d[3]", 2.5),
    "max": ("d.max()", 1.5),
    "inner": ("d @ d", 1.5),
    # and a second set: a statistic, a product with the matrix on the left
    # (transposed), a binary ufunc called through NumPy, a join
    "std": ("d.std()", 1.5),
    "tdot": ("w.T @ d", 1.5),
    "np.add": ("np.add(d, d)", 1.5),
    "concat": ("np.concatenate((d, d))", 1.5),
}


def w9_data(n, k=W9_K):
    """Values (n,), tangent rows (k, n) and the constant matrix of d @ w: (n, n), or (n, 10) for large n."""
    rng = np.random.default_rng(SEED + n)
    v = rng.standard_normal(n)
    t = rng.standard_normal((k, n))
    w = rng.standard_normal((n, n if n <= 100 else 10))
    return v, t, w


def make_w9(op, d, w):
    """The timed call: one operation on d (the values, or a DualArray), as bare as Python allows."""
    return {
        "mul": lambda: d * d,
        "scale": lambda: d * 2.0,
        "sin": lambda: np.sin(d),
        "sum": lambda: d.sum(),
        "dot": lambda: d @ w,
        "slice": lambda: d[1:],
        "exp": lambda: np.exp(d),
        "index": lambda: d[3],
        "max": lambda: d.max(),
        "inner": lambda: d @ d,
        "std": lambda: d.std(),
        "tdot": lambda: w.T @ d,
        "np.add": lambda: np.add(d, d),
        "concat": lambda: np.concatenate((d, d)),
    }[op]


# --- references ---------------------------------------------------------------
def _mp():
    import mpmath

    mpmath.mp.dps = 30
    return mpmath


def _mpfuns(mp):
    return dict(sin=mp.sin, exp=mp.exp, tanh=mp.tanh, log=mp.log, sqrt=mp.sqrt)


def ref_w1():
    mp = _mp()
    f = make_f1(**_mpfuns(mp))
    x, y = mp.mpf(X0), mp.mpf(Y0)
    return {"value": float(f(x, y)), "deriv": float(mp.diff(lambda t: f(t, y), x))}


def ref_w2():
    mp = _mp()
    g = make_g(mp.exp, mp.sin)
    pts = [mp.mpf(p) for p in W2_POINTS]
    return {
        "value": np.array([float(g(p)) for p in pts]),
        "deriv": np.array([float(mp.diff(g, p)) for p in pts]),
    }


def ref_w3(n):
    mp = _mp()
    W, b, x = w3_data(n)
    Wm, xm = mp.matrix(W.tolist()), [mp.mpf(v) for v in x]
    u = [mp.fsum(Wm[i, j] * xm[j] for j in range(n)) + mp.mpf(b[i]) for i in range(n)]
    t = [mp.tanh(ui) for ui in u]
    s = mp.fsum(mp.sin(v) for v in xm)
    cx = [mp.cos(v) for v in xm]
    J = np.empty((n, n))
    for i in range(n):
        gi = (1 - t[i] ** 2) * xm[i]
        for j in range(n):
            J[i, j] = float(gi * Wm[i, j] + cx[j] + (t[i] if i == j else 0))
    return {"value": np.array([float(t[i] * xm[i] + s) for i in range(n)]), "deriv": J}


def ref_w4(n, key=None):
    # 10^6 points is too many for mpmath: hand formula in x87 long double (64-bit mantissa).
    x = w4_data(n, key).astype(np.longdouble)
    e, s3, c3, t = np.exp(-x * x), np.sin(3 * x), np.cos(3 * x), np.tanh(x)
    return {"value": (e * s3 + t).astype(float), "deriv": (e * (3 * c3 - 2 * x * s3) + 1 - t * t).astype(float)}


def ref_w5():
    mp = _mp()
    x = [mp.mpf(v) for v in w5_data()]
    n = len(x)
    H = [[mp.mpf(0)] * n for _ in range(n)]
    for i in range(n - 1):
        H[i][i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1][i + 1] += 200
        H[i][i + 1] = H[i + 1][i] = -400 * x[i]
    val = mp.fsum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(n - 1))
    return {"value": float(val), "deriv": np.array(H, dtype=float)}


def ref_w5h():
    mp = _mp()
    x0, v0 = w5h_data()
    x = [mp.mpf(t) for t in x0]
    v = [mp.mpf(t) for t in v0]
    n = len(x)
    hv = [mp.mpf(0)] * n
    for i in range(n - 1):      # the closed-form Hessian of ref_w5, times v
        hv[i] += (1200 * x[i] ** 2 - 400 * x[i + 1] + 2) * v[i] - 400 * x[i] * v[i + 1]
        hv[i + 1] += -400 * x[i] * v[i] + 200 * v[i + 1]
    return {"deriv": np.array([float(t) for t in hv])}


def ref_w6():
    return {"deriv": dgsm_reference()}


def ref_w6b():
    return {"deriv": sir_vi_reference()}


def ref_w6c():
    return {"deriv": seirv_vi_reference()}


def ref_w9(op, n):
    """NumPy's own result on the values, and the operation's tangent rule applied to each tangent row."""
    v, t, w = w9_data(n)
    value = make_w9(op, v, w)()
    deriv = {
        "mul": lambda: t * v + v * t,
        "scale": lambda: t * 2.0,
        "sin": lambda: np.cos(v) * t,
        "sum": lambda: t.sum(axis=1),
        "dot": lambda: t @ w,
        "slice": lambda: t[:, 1:],
        "exp": lambda: np.exp(v) * t,
        "index": lambda: t[:, 3],
        "max": lambda: t[:, np.argmax(v)],
        "inner": lambda: 2.0 * (t @ v),
        # d std = sum((v - mean) t) / (n std): the deviations sum to zero
        "std": lambda: t @ (v - v.mean()) / (v.size * v.std()),
        "tdot": lambda: t @ w,
        "np.add": lambda: 2.0 * t,
        "concat": lambda: np.concatenate((t, t), axis=1),
    }[op]()
    return {"value": value, "deriv": deriv}


# --- W10: sparse Jacobians and Hessians (issue 12) ----------------------------------
W10_BRATU_N = (10**4, 10**3)   # sparse at both sizes; dense rows only at 10^3
W10_BRUSS_N = 32               # 2 x 32 x 32 = 2,048 unknowns
W10_ROSEN_N = 10**4


def bratu_F(u, lam=1.0, xp=np):
    """1-D Bratu residual, n interior points, u(0) = u(1) = 0: tridiagonal Jacobian."""
    h2 = (u.size + 1.0) ** 2
    up = xp.concatenate([u[1:], xp.zeros(1)])
    um = xp.concatenate([xp.zeros(1), u[:-1]])
    return (up - 2.0 * u + um) * h2 + lam * xp.exp(u)


def w10_bratu_data(n):
    return 0.1 * np.sin(np.pi * np.arange(1, n + 1) / (n + 1.0))


def tridiagonal_pattern(n):
    import scipy.sparse as sp

    return sp.csr_array(sp.diags_array([np.ones(n - 1), np.ones(n), np.ones(n - 1)],
                                       offsets=[-1, 0, 1]) != 0)


def tridiag_of(M):
    """(3, n): main diagonal, upper (padded at the end), lower (padded at the start)."""
    d0, d1, dm = (np.asarray(M.diagonal(k)) for k in (0, 1, -1))
    return np.stack([d0, np.append(d1, 0.0), np.insert(dm, 0, 0.0)])


def ref_w10_bratu(n):
    u = w10_bratu_data(n)
    h2 = (n + 1.0) ** 2
    off = np.full(n - 1, h2)
    return {"deriv": np.stack([-2 * h2 + np.exp(u), np.append(off, 0.0), np.insert(off, 0, 0.0)])}


BRUSS_A, BRUSS_B, BRUSS_ALPHA = 3.4, 1.0, 10.0


def brusselator_F(y, N=W10_BRUSS_N, xp=np):
    """2-D Brusselator right-hand side on a periodic N x N grid, y = [u, v] flattened."""
    dx2 = (1.0 / (N - 1)) ** 2
    u = y[:N * N].reshape(N, N)
    v = y[N * N:].reshape(N, N)

    def lap(w):
        return (xp.roll(w, 1, axis=0) + xp.roll(w, -1, axis=0) + xp.roll(w, 1, axis=1)
                + xp.roll(w, -1, axis=1) - 4.0 * w) * (BRUSS_ALPHA / dx2)
    uuv = u * u * v
    du = lap(u) + BRUSS_B + uuv - (BRUSS_A + 1.0) * u
    dv = lap(v) + BRUSS_A * u - uuv
    return xp.concatenate([du.reshape(-1), dv.reshape(-1)])


def w10_bruss_data(N=W10_BRUSS_N):
    x = np.linspace(0.0, 1.0, N)
    X, Y = np.meshgrid(x, x, indexing="ij")
    u = 22.0 * (Y * (1.0 - Y)) ** 1.5
    v = 27.0 * (X * (1.0 - X)) ** 1.5
    return np.concatenate([u.ravel(), v.ravel()])


def brusselator_pattern(N=W10_BRUSS_N):
    """u and v: each a periodic 5-point stencil of its own field plus the other field."""
    import scipy.sparse as sp

    idx = np.arange(N * N).reshape(N, N)
    r, c = [idx.ravel()], [idx.ravel()]
    for ax in (0, 1):
        for sh in (1, -1):
            r.append(idx.ravel())
            c.append(np.roll(idx, sh, axis=ax).ravel())
    r, c = np.concatenate(r), np.concatenate(c)
    L = sp.csr_array((np.ones(r.size, bool), (r, c)), shape=(N * N, N * N))
    eye = sp.eye_array(N * N, dtype=bool)
    return sp.csr_array(sp.block_array([[L, eye], [eye, L]]) != 0)


def ref_w10_bruss():
    """The dense Jacobian by complex step (exact to rounding; independent of dualml)."""
    y = w10_bruss_data()
    n = y.size
    J = np.empty((n, n))
    for j in range(n):
        z = y.astype(complex)
        z[j] += 1e-30j
        J[:, j] = brusselator_F(z).imag / 1e-30
    return {"deriv": J}


def rosen_terms(x):
    """The chained Rosenbrock function's element functions (their sum is the objective)."""
    return 100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2


def rosen_chain(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosen_chain_grad(x):
    g = np.zeros_like(x)
    t = x[1:] - x[:-1] ** 2
    g[:-1] = -400.0 * x[:-1] * t - 2.0 * (1.0 - x[:-1])
    g[1:] += 200.0 * t
    return g


def w10_rosen_data(n=W10_ROSEN_N):
    return np.linspace(-1.2, 1.1, n)


def ref_w10_rosen(n=W10_ROSEN_N):
    x = w10_rosen_data(n)
    d0 = np.append(1200.0 * x[:-1] ** 2 - 400.0 * x[1:] + 2.0, 0.0)
    d0[1:] += 200.0
    off = -400.0 * x[:-1]
    return {"deriv": np.stack([d0, np.append(off, 0.0), np.insert(off, 0, 0.0)])}


# --- error metric -------------------------------------------------------------
def max_rel_error(result: dict, ref: dict) -> float:
    """Largest |a - r| / max(|r|, 1e-3 * max|r|) over every entry of every key in result.

    Plain relative error, except that entries below a thousandth of the array's
    largest magnitude (structural zeros of a Hessian, a derivative crossing zero)
    are judged against that scale instead of against themselves.
    """
    worst = 0.0
    for key, got in result.items():
        r = np.asarray(ref[key], dtype=float)
        a = np.asarray(got, dtype=float)
        if a.shape != r.shape:
            a = a.reshape(r.shape)  # raises on a real shape mismatch
        scale = np.maximum(np.abs(r), 1e-3 * np.max(np.abs(r)))
        err = np.abs(a - r) / np.where(scale > 0, scale, 1.0)
        worst = max(worst, float(np.max(err)) if np.all(np.isfinite(a)) else math.inf)
    return worst


# --- the catalog ----------------------------------------------------------------
@dataclass
class Workload:
    id: str  # family, used by --only: "W3"
    label: str  # row label: "W3 n=100"
    title: str
    reference: Callable[[], dict]
    size: int | None = None
    tol: float = 1e-6  # error above this marks the row as suspect
    key: str | None = None  # which member of a family (W1x: the expression)
    ref_error: str | None = None  # set by the driver when the reference cannot be computed
    _ref: Any = field(default=None, repr=False)

    def ref(self) -> dict:
        if self._ref is None:
            self._ref = self.reference()
        return self._ref


def ref_w1np():
    # W1np is W1 written with NumPy's functions: the same numbers
    return ref_w1()


def ref_npsin():
    mp = _mp()
    return {"value": float(mp.sin(mp.mpf(X0))), "deriv": float(mp.cos(mp.mpf(X0)))}


@dataclass
class OpWorkload(Workload):
    """A W9 workload: one operation (a key of W9_OPS) and the goal for its ratio to NumPy."""

    op: str = ""
    goal: float | None = None


def catalog(quick: bool) -> list[Workload]:
    w3_sizes = (10, 30) if quick else (10, 100)
    w4_n = 10**5 if quick else 10**6
    w6_n = 1000 if quick else 10000
    wl = [
        Workload("W1", "W1", "scalar expression f(x, y), value and df/dx", ref_w1),
        Workload("W1NP", "W1np", "W1 written with np.sin/np.exp/np.tanh/np.log/np.sqrt, "
                 "y a np.float64", ref_w1np),
        *[Workload("W1X", f"W1x {k}", f"W1-like expression: {W1X[k].__doc__}",
                   lambda k=k: ref_w1x(k), key=k) for k in W1X],
        Workload("NPSIN", "np.sin", "one NumPy ufunc call on a scalar (np.sin at x = 0.7)",
                 ref_npsin),
        Workload("W2", "W2", "g'(x) at 20 points", ref_w2, size=20),
    ]
    for n in w3_sizes:
        wl.append(Workload("W3", f"W3 n={n}", f"Jacobian of tanh(Wx+b)*x + sum(sin x), n={n}",
                           lambda n=n: ref_w3(n), size=n))
    for n in (10, 100):
        wl.append(Workload("W7", f"W7 n={n}", f"gradient of a Python loop over n={n} variables "
                           f"(list input)", lambda n=n: ref_w7(n), size=n))
    wl += [
        Workload("W4", f"W4 n={w4_n:.0e}".replace("+0", ""), f"h and h' over {w4_n} float64",
                 lambda: ref_w4(w4_n), size=w4_n),
        Workload("W4", f"W4 n={w4_n:.0e} linspace".replace("+0", ""),
                 f"h and h' over {w4_n} evenly spaced float64",
                 lambda: ref_w4(w4_n, "linspace"), size=w4_n, key="linspace"),
        Workload("W5", "W5", "Hessian of 10-variable Rosenbrock", ref_w5, size=10),
        Workload("W5H", "W5h", "Hessian-vector product of 10-variable Rosenbrock; "
                 "floor: one dualml.gradient (goal: hvp at most 3x)", ref_w5h, size=10),
        Workload("W6", f"W6 N={w6_n}", f"DGSM of a 10-input model, N={w6_n} samples",
                 ref_w6, size=w6_n, tol=0.25),
    ]
    w6b_n = 256 if quick else 1024
    wl.append(Workload("W6b", f"W6b N={w6b_n}",
                       f"DGSM of an SIR model (200-step RK4 in NumPy, 3 inputs), N={w6b_n} samples",
                       ref_w6b, size=w6b_n, tol=0.25))
    w6c_n = 32 if quick else 128
    wl.append(Workload("W6c", f"W6c N={w6c_n}",
                       f"DGSM of an SEIR-V model (scipy solve_ivp RK45, 5 inputs), N={w6c_n} samples",
                       ref_w6c, size=w6c_n, tol=0.25))


    wl.append(Workload("W11", "W11", f"d^{W11_N}f/dx^{W11_N} of a 20-operation scalar "
                       f"expression (goal: dualml <= 60x one float evaluation)", ref_w11))
    for n in W10_BRATU_N:
        wl.append(Workload("W10", f"W10 bratu n={n:.0e}".replace("+0", ""),
                           f"sparse Jacobian of the 1-D Bratu residual (tridiagonal), n={n}",
                           lambda n=n: ref_w10_bratu(n), size=n, key="bratu"))
    wl.append(Workload("W10", f"W10 brusselator N={W10_BRUSS_N}",
                       f"sparse Jacobian of the 2-D Brusselator, {2 * W10_BRUSS_N ** 2} unknowns",
                       ref_w10_bruss, size=2 * W10_BRUSS_N ** 2, key="bruss"))
    wl.append(Workload("W10", f"W10 rosenbrock n={W10_ROSEN_N:.0e}".replace("+0", ""),
                       f"sparse Hessian of the chained Rosenbrock function, n={W10_ROSEN_N}",
                       ref_w10_rosen, size=W10_ROSEN_N, key="rosen"))
    for n in W9_SIZES:
        for op, (expr, goal) in W9_OPS.items():
            wl.append(OpWorkload("W9", f"W9 {op} {n}x{W9_K}",
                                 f"{expr}, {n} elements x {W9_K} directions, vs NumPy on the values",
                                 lambda op=op, n=n: ref_w9(op, n), size=n, tol=1e-12,
                                 op=op, goal=goal if n == W9_SIZES[0] else None))
    return wl


def selfcheck():
    """Check the hand-derived formulas (used by references and hand rows) against mp.diff."""
    mp = _mp()

    def report(name, result, ref):
        print(f"{name:<32} max rel. error {max_rel_error(result, ref):.1e}")

    val, der = hand_f1(X0, Y0)
    report("W1 hand-written vs mpmath", {"value": val, "deriv": der}, ref_w1())
    report("W2 hand-written vs mpmath", {"deriv": [hand_dg(p) for p in W2_POINTS]}, ref_w2())

    n = 6
    W, b, x = w3_data(n)

    def elementwise(fun):
        return lambda v: np.array([fun(e) for e in v], dtype=object)

    Fm = make_F(W, b, elementwise(mp.tanh), elementwise(mp.sin))  # F in mpf arithmetic

    def dF(i, j):
        def Fij(t):  # F_i as a function of x_j alone
            xt = x.astype(object)
            xt[j] = t
            return Fm(xt)[i]

        return float(mp.diff(Fij, x[j]))

    Jn = np.array([[dF(i, j) for j in range(n)] for i in range(n)])
    report("W3 reference vs mp.diff", {"deriv": Jn}, ref_w3(n))
    report("W3 hand-written vs reference", {"deriv": hand_jacobian_F(W, b, x)}, ref_w3(n))

    xs = w4_data(50)
    hm = make_h(mp.exp, mp.sin, mp.tanh)
    report("W4 reference vs mp.diff", {"deriv": [float(mp.diff(hm, mp.mpf(v))) for v in xs]}, ref_w4(50))

    x5 = [mp.mpf(v) for v in w5_data()]

    def d2f(i, j):
        order = tuple(int(k == i) + int(k == j) for k in range(len(x5)))  # d/dx_i d/dx_j
        return float(mp.diff(lambda *z: rosen(np.array(z, dtype=object)), x5, order))

    H = np.array([[d2f(i, j) for j in range(len(x5))] for i in range(len(x5))])
    report("W5 reference vs mp.diff", {"deriv": H}, ref_w5())

    f7 = make_w7(mp.sin, mp.exp)
    x7 = [mp.mpf(v) for v in w7_data(6)]

    def d7(j):
        return float(mp.diff(lambda t: f7(x7[:j] + [t] + x7[j + 1:]), x7[j]))

    report("W7 reference vs mp.diff", {"deriv": [d7(j) for j in range(6)]}, ref_w7(6))
    report("W5 hand-written vs reference", {"deriv": hand_hessian_rosen(w5_data())}, ref_w5())

    # W6b: the Gauss-Legendre rule has converged, and the complex step agrees with mp.diff
    report("W6b reference m=24 vs m=40", {"deriv": sir_vi_reference(24)}, {"deriv": sir_vi_reference(40)})
    x6 = np.array([[0.3, 0.1, 0.005]])
    cs = sir_gradient_cs(x6)[0]

    def r_of(j):
        def f(t):
            z = np.array([[mp.mpf(v) for v in x6[0]]], dtype=object)
            z[0, j] = t
            return sir_model(z)[0]

        return f

    md = [float(mp.diff(r_of(j), mp.mpf(x6[0, j]))) for j in range(3)]
    report("W6b complex step vs mp.diff", {"deriv": cs}, {"deriv": md})

    # W10: the closed-form Jacobian / Hessian diagonals against complex steps
    def cs_jac(F, x):
        cols = []
        for j in range(x.size):
            z = x.astype(complex)
            z[j] += 1e-30j
            cols.append(F(z).imag / 1e-30)
        return np.array(cols).T

    u = w10_bratu_data(8)
    report("W10 bratu closed form vs complex step", {"deriv": tridiag_of(cs_jac(bratu_F, u))},
           ref_w10_bratu(8))
    x = w10_rosen_data(8)
    report("W10 rosen gradient vs complex step", {"deriv": rosen_chain_grad(x)},
           {"deriv": cs_jac(lambda z: np.atleast_1d(rosen_chain(z)), x)[0]})
    h = 1e-6
    Hfd = np.array([(rosen_chain_grad(x + h * e) - rosen_chain_grad(x - h * e)) / (2 * h)
                    for e in np.eye(x.size)])
    report("W10 rosen Hessian vs FD of gradient", {"deriv": tridiag_of(Hfd)}, ref_w10_rosen(8))


    # W6c: the quadrature and RK4 step count have converged
    report("W6c reference m=6 vs m=8", {"deriv": seirv_vi_reference(6)},
           {"deriv": seirv_vi_reference(8)})
    report("W6c reference 720 vs 2880 steps", {"deriv": seirv_vi_reference(4, 720)},
           {"deriv": seirv_vi_reference(4, 2880)})


if __name__ == "__main__":
    selfcheck()
