"""How each derivative rule moves index sets: the one classification table.

Sparsity detection needs, per rule of csrc/dual_rules.def, only which
arguments its first derivative depends on and which pairs of arguments its
second derivative couples.  ``UNARY_KIND`` maps every one-argument rule to
``"zero"`` (piecewise constant: the pattern is empty), ``"linear"`` (the
pattern passes through; f'' is zero away from kinks, and zero at them by
dualml's conventions) or ``"nonlinear"`` (f'' is not identically zero: the
Hessian gains the products of the gradient set with itself).  ``BINARY_KIND``
gives, per two-argument rule, the flags (a enters, b enters, aa, ab, bb
second-order couplings, per-element selection of min/max type).  A rule added
to the table without a row here fails tests/test_sparse_classify.py.
"""

#: one-argument rules (dualml.UNARY and dualml.UNARY_PARAM)
UNARY_KIND = {
    # exponentials, logarithms, powers and roots
    "exp": "nonlinear", "exp2": "nonlinear", "expm1": "nonlinear",
    "log": "nonlinear", "log2": "nonlinear", "log10": "nonlinear",
    "log1p": "nonlinear", "sqrt": "nonlinear", "cbrt": "nonlinear",
    "square": "nonlinear", "reciprocal": "nonlinear",
    # trigonometric and hyperbolic
    "sin": "nonlinear", "cos": "nonlinear", "tan": "nonlinear",
    "arcsin": "nonlinear", "arccos": "nonlinear", "arctan": "nonlinear",
    "sinh": "nonlinear", "cosh": "nonlinear", "tanh": "nonlinear",
    "arcsinh": "nonlinear", "arccosh": "nonlinear", "arctanh": "nonlinear",
    # special functions and smooth activations
    "erf": "nonlinear", "erfc": "nonlinear", "sigmoid": "nonlinear",
    "softplus": "nonlinear", "log_sigmoid": "nonlinear", "silu": "nonlinear",
    "gelu": "nonlinear", "elu": "nonlinear",
    # sign changes and kinks: linear pieces (relu and leaky_relu keep the
    # pattern on both sides of 0: conservative where the slope is 0)
    "negative": "linear", "positive": "linear", "absolute": "linear",
    "relu": "linear", "leaky_relu": "linear",
    # steps
    "sign": "zero", "floor": "zero", "ceil": "zero", "trunc": "zero", "rint": "zero",
}

#: two-argument rules: (a enters, b enters, d2/da2, d2/dadb, d2/db2, select)
#: select: per element only the argument that wins enters (min/max type;
#: both on ties and nan, the conservative side of the 0.5/0.5 convention)
BINARY_KIND = {
    "add":          (True,  True,  False, False, False, False),
    "subtract":     (True,  True,  False, False, False, False),
    "multiply":     (True,  True,  False, True,  False, False),
    "divide":       (True,  True,  False, True,  True,  False),
    "power":        (True,  True,  True,  True,  True,  False),
    "arctan2":      (True,  True,  True,  True,  True,  False),
    "hypot":        (True,  True,  True,  True,  True,  False),
    "logaddexp":    (True,  True,  True,  True,  True,  False),
    "minimum":      (True,  True,  False, False, False, True),
    "maximum":      (True,  True,  False, False, False, True),
    "fmin":         (True,  True,  False, False, False, True),
    "fmax":         (True,  True,  False, False, False, True),
    # copysign(a, b): |a| with b's sign; b only picks the sign (a step)
    "copysign":     (True,  False, False, False, False, False),
    "floor_divide": (False, False, False, False, False, False),
    # remainder(a, b) = a - b floor(a/b): slopes 1 and -floor(a/b), steps
    "remainder":    (True,  True,  False, False, False, False),
}

#: NumPy ufuncs that are spelled differently from the rule or have no rule
#: of their own but the same structure as one
NUMPY_ALIASES = {
    "true_divide": "divide", "abs": "absolute", "fabs": "absolute",
    "conjugate": "positive", "conj": "positive", "float_power": "power",
    "fmod": "remainder", "logaddexp2": "logaddexp",
    "deg2rad": "negative", "rad2deg": "negative", "radians": "negative",
    "degrees": "negative",                       # linear, like negative
    "heaviside": "floor_divide",                 # a step in both arguments
}

#: ufuncs whose result is boolean or integral: computed on the values, no
#: pattern (they decide branches, the way the evaluation at x does)
PREDICATES = frozenset({
    "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not",
    "isnan", "isinf", "isfinite", "signbit",
})
