"""A naive pure-Python dual number: the baseline a user would write in an afternoon.

Its parts may be Python floats, NumPy arrays or other Duals (nesting gives second
derivatives), so one class serves the scalar, array and Hessian workloads.
Functions take `math` for floats and `numpy` otherwise, as a careful user would.
"""
import math

import numpy as np


class Dual:
    __slots__ = ("val", "der")

    def __init__(self, val, der=0.0):
        self.val, self.der = val, der

    def __add__(s, o):
        return Dual(s.val + o.val, s.der + o.der) if isinstance(o, Dual) else Dual(s.val + o, s.der)

    __radd__ = __add__

    def __sub__(s, o):
        return Dual(s.val - o.val, s.der - o.der) if isinstance(o, Dual) else Dual(s.val - o, s.der)

    def __rsub__(s, o):
        return Dual(o - s.val, -s.der)

    def __mul__(s, o):
        if isinstance(o, Dual):
            return Dual(s.val * o.val, s.der * o.val + s.val * o.der)
        return Dual(s.val * o, s.der * o)

    __rmul__ = __mul__

    def __truediv__(s, o):
        if isinstance(o, Dual):
            return Dual(s.val / o.val, (s.der * o.val - s.val * o.der) / (o.val * o.val))
        return Dual(s.val / o, s.der / o)

    def __rtruediv__(s, o):
        return Dual(o / s.val, -o * s.der / (s.val * s.val))

    def __neg__(s):
        return Dual(-s.val, -s.der)

    def __pow__(s, n):  # constant exponent only
        return Dual(s.val**n, n * s.val ** (n - 1) * s.der)

    # methods, so np.sin(object array of Dual) works
    def sin(s):
        return Dual(sin(s.val), cos(s.val) * s.der)

    def cos(s):
        return Dual(cos(s.val), -sin(s.val) * s.der)

    def exp(s):
        e = exp(s.val)
        return Dual(e, e * s.der)

    def log(s):
        return Dual(log(s.val), s.der / s.val)

    def sqrt(s):
        r = sqrt(s.val)
        return Dual(r, s.der / (2 * r))

    def tanh(s):
        t = tanh(s.val)
        return Dual(t, (1 - t * t) * s.der)


def _lift(name):
    mfun, nfun = getattr(math, name), getattr(np, name)

    def fun(x):
        if isinstance(x, Dual):
            return getattr(x, name)()
        return mfun(x) if type(x) is float else nfun(x)

    fun.__name__ = name
    return fun


sin, cos, exp, log, sqrt, tanh = map(_lift, ["sin", "cos", "exp", "log", "sqrt", "tanh"])
