"""
dualml in one screen: exact derivatives next to their analytic values
=====================================================================

Run:  python examples/demo.py
"""
import math

import numpy as np

import dualml
from dualml import Dual

x0 = 0.7
rows = [
    ("exp(x)", dualml.exp, math.exp(x0)),
    ("log1p(x)", dualml.log1p, 1 / (1 + x0)),
    ("sqrt(x)", dualml.sqrt, 0.5 / math.sqrt(x0)),
    ("sin(x)", dualml.sin, math.cos(x0)),
    ("tanh(x)", dualml.tanh, 1 - math.tanh(x0) ** 2),
    ("arctan(x)", dualml.arctan, 1 / (1 + x0 * x0)),
    ("erf(x)", dualml.erf, 2 / math.sqrt(math.pi) * math.exp(-x0 * x0)),
    ("sigmoid(x)", dualml.sigmoid, math.exp(-x0) / (1 + math.exp(-x0)) ** 2),
    ("softplus(x)", dualml.softplus, 1 / (1 + math.exp(-x0))),
    ("gelu(x)", dualml.gelu, 0.5 * math.erfc(-x0 / math.sqrt(2))
     + x0 * math.exp(-x0 * x0 / 2) / math.sqrt(2 * math.pi)),
    ("x**x", lambda x: x ** x, x0 ** x0 * (math.log(x0) + 1)),
]

print(f"Derivatives at x = {x0}: dualml against the analytic formula\n")
header = ("f(x)", "dualml f'(x)", "analytic", "rel. error")
print(f"{header[0]:<12} {header[1]:>22} {header[2]:>22} {header[3]:>11}")
for name, f, exact in rows:
    got = f(Dual(x0, 1.0)).deriv
    print(f"{name:<12} {got:>22.17g} {exact:>22.17g} {abs(got - exact) / abs(exact):>11.1e}")

g = lambda x: x**3 * dualml.exp(-x) / (1 + dualml.sin(x) ** 2)
print("\nderivative of x**3 exp(-x) / (1 + sin(x)**2) at 1.5:", dualml.derivative(g, 1.5))
print("nested: d/dx [d/dy y**3 at y=x] at x=2 =", dualml.derivative(
    lambda x: dualml.derivative(lambda y: y ** 3, x), 2.0), "(exact: 12)")
print("NumPy ufuncs take Duals:", np.sin(Dual(0.0, 1.0)), np.float64(2) * Dual(1.0, 1.0))
try:
    float(Dual(1.0, 1.0))
except TypeError as exc:
    print("float(Dual) refuses to drop the derivative:", exc)
