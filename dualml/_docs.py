"""Docstring material for the functions of the rule table.

Pure data (loaded by path from setup.py when rendering the Cython sources).
Every row of csrc/dual_rules.def needs an entry here; the build fails
otherwise, so a new function cannot ship undocumented.
"""

# name -> (summary, math definition)
SUMMARY = {
    "exp": ("Exponential.", "e**x"),
    "exp2": ("Base-2 exponential.", "2**x"),
    "expm1": ("exp(x) - 1, accurate for small x.", "e**x - 1"),
    "log": ("Natural logarithm (log(0) = -inf, log(x < 0) = nan).", "ln x"),
    "log2": ("Base-2 logarithm.", "log2 x"),
    "log10": ("Base-10 logarithm.", "log10 x"),
    "log1p": ("log(1 + x), accurate for small x.", "ln(1 + x)"),
    "sqrt": ("Square root; the derivative at 0 is +inf.", "x**0.5"),
    "cbrt": ("Cube root; the derivative at 0 is +inf.", "x**(1/3)"),
    "square": ("Square.", "x*x"),
    "reciprocal": ("Reciprocal.", "1/x"),
    "sin": ("Sine.", "sin x"),
    "cos": ("Cosine.", "cos x"),
    "tan": ("Tangent.", "tan x"),
    "arcsin": ("Inverse sine.", "asin x"),
    "arccos": ("Inverse cosine.", "acos x"),
    "arctan": ("Inverse tangent.", "atan x"),
    "sinh": ("Hyperbolic sine.", "sinh x"),
    "cosh": ("Hyperbolic cosine.", "cosh x"),
    "tanh": ("Hyperbolic tangent.", "tanh x"),
    "arcsinh": ("Inverse hyperbolic sine.", "asinh x"),
    "arccosh": ("Inverse hyperbolic cosine.", "acosh x"),
    "arctanh": ("Inverse hyperbolic tangent.", "atanh x"),
    "erf": ("Error function.", "2/sqrt(pi) * integral_0^x exp(-t**2) dt"),
    "erfc": ("Complementary error function.", "1 - erf x"),
    "negative": ("Negation.", "-x"),
    "positive": ("Identity (unary plus).", "+x"),
    "absolute": ("Absolute value; derivative 0 at 0.", "|x|"),
    "sign": ("Sign (-1, 0, 1; nan for nan); derivative 0.", "sign x"),
    "floor": ("Floor; derivative 0.", "floor x"),
    "ceil": ("Ceiling; derivative 0.", "ceil x"),
    "trunc": ("Truncation toward 0; derivative 0.", "trunc x"),
    "rint": ("Round half to even; derivative 0.", "rint x"),
    "sigmoid": ("Logistic sigmoid, stable for any x.", "1/(1 + e**-x)"),
    "softplus": ("Softplus, stable (softplus(800.0) == 800.0).", "log(1 + e**x)"),
    "log_sigmoid": ("Log of the sigmoid, stable.", "-softplus(-x)"),
    "silu": ("SiLU / swish.", "x * sigmoid(x)"),
    "gelu": ("GELU, exact (erf) form.", "x * Phi(x), Phi the normal CDF"),
    "relu": ("Rectified linear unit; derivative 0 at 0.", "max(x, 0)"),
    "leaky_relu": ("Leaky ReLU; derivative alpha at 0 (the left slope).",
                   "x if x > 0 else alpha*x"),
    "elu": ("ELU; derivative alpha at 0 (the left slope).",
            "x if x > 0 else alpha*(e**x - 1)"),
    "add": ("Sum.", "a + b"),
    "subtract": ("Difference.", "a - b"),
    "multiply": ("Product.", "a * b"),
    "divide": ("Quotient (IEEE: a/0 is +-inf or nan, no exception).", "a / b"),
    "power": ("Power a**b, with explicit cases for a constant exponent, a zero "
              "and a negative base.", "a**b"),
    "arctan2": ("Four-quadrant inverse tangent of a/b; partials nan at (0, 0).",
                "atan2(a, b)"),
    "hypot": ("Euclidean norm sqrt(a*a + b*b) without overflow; partials 0 at (0, 0).",
              "sqrt(a**2 + b**2)"),
    "minimum": ("Elementwise minimum, nan-propagating; a tie splits the derivative "
                "0.5/0.5.", "min(a, b)"),
    "maximum": ("Elementwise maximum, nan-propagating; a tie splits the derivative "
                "0.5/0.5.", "max(a, b)"),
    "fmin": ("Minimum ignoring nan; a tie splits the derivative 0.5/0.5.", "min(a, b)"),
    "fmax": ("Maximum ignoring nan; a tie splits the derivative 0.5/0.5.", "max(a, b)"),
    "copysign": ("Magnitude of a with the sign of b.", "copysign(a, b)"),
    "logaddexp": ("log(exp(a) + exp(b)) without overflow.", "log(e**a + e**b)"),
    "floor_divide": ("Floor division a // b (Python semantics); derivative 0.",
                     "floor(a / b)"),
    "remainder": ("Remainder a % b with the sign of b (Python semantics).",
                  "a - b*floor(a/b)"),
}

# "See Also" of the functions NumPy does not have (the others point at NumPy's)
_ACT = ("relu", "leaky_relu", "elu", "gelu", "silu", "softplus", "sigmoid", "log_sigmoid")
SEE_ALSO = {
    name: "\n".join(f"{o} : activation." for o in _ACT if o != name)
    for name in _ACT
}
SEE_ALSO["erf"] = "erfc : the complement, accurate where erf is close to 1."
SEE_ALSO["erfc"] = "erf : the error function."

# parameter name and default of the rules with a constant parameter
PARAMS = {
    "leaky_relu": ("alpha", "0.01"),
    "elu": ("alpha", "1.0"),
}


def docstring(rule):
    """numpydoc text for one Rule of the table."""
    summary, formula = SUMMARY[rule.name]
    if rule.kind == "binary":
        params = ("a, b : float, Dual or array_like\n"
                  "    Operands; either may be a constant.")
        rule_text = f"d/da = {rule.derivs[0]},  d/db = {rule.derivs[1]}"
        example = f">>> dualml.{rule.name}(dualml.Dual(1.5, 1.0), 0.5)  # doctest: +ELLIPSIS"
    else:
        p = PARAMS.get(rule.name)
        params = "x : float, Dual or array_like"
        if p:
            params += (f"\n{p[0]} : float, optional\n    Constant parameter "
                       f"(default {p[1]}); not differentiated.")
        if rule.kind == "unary_fn":
            rule_text = "see dual_%s_rule in dual.h" % rule.name
        else:
            rule_text = f"dy/dx = {rule.derivs[0]}   (y = the value)"
        example = f">>> dualml.{rule.name}(dualml.Dual(0.5, 1.0))  # doctest: +ELLIPSIS"
    # no signature line: Cython's embedsignature puts the real one first
    args = "a or b" if rule.kind == "binary" else "x"
    param_raise = ""
    if rule.kind != "binary" and PARAMS.get(rule.name):
        param_raise = f", or if {PARAMS[rule.name][0]} is not a real number (it is not differentiated)"
    see_also = SEE_ALSO.get(rule.name) or (
        f"numpy.{rule.name} : NumPy's ufunc, which takes Duals and DualArrays too.")
    return f"""{summary}

``{formula}``, elementwise.  A float gives a float, a Dual a Dual (value and
derivative by the chain rule), an array an array.

Parameters
----------
{params}

Returns
-------
float, Dual or ndarray

Raises
------
TypeError
    If {args} is not a real number, a Dual or an array of them (a complex
    number, a string, None){param_raise}.

See Also
--------
{see_also}

Notes
-----
Derivative rule (csrc/dual_rules.def): {rule_text}

Examples
--------
>>> import dualml
{example}
Dual(...)
"""
