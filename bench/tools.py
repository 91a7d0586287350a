"""Per-(workload, tool) adapters.

Each adapter is registered with ``@adapter(family, tool, needs=..., kind=...)`` and
builds a ``Prepared``: ``call`` is what gets timed (a zero-argument callable doing
the tool's whole natural job, from plain floats in to plain numbers out), and
``result`` produces the same numbers as a dict (``value`` and/or ``deriv``) for
the error check against the workload's reference.

Libraries are imported inside the builders, never at module level, so the driver
can pin thread counts before NumPy/JAX/PyTorch load and a missing package only
costs its own rows.  A builder raises ``NotAvailable`` when dualml lacks the API
and ``Skip`` when a tool would be hopeless at that size.
"""
from __future__ import annotations

import importlib
import inspect
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import naive_dual
import workloads as wk

THREADS = 1  # set by run.py before any adapter is built


class NotAvailable(Exception):
    """The tool is installed but lacks what the workload needs (dualml while it is being written)."""


class Skip(Exception):
    """The workload is out of the tool's reach (e.g. quadratic cost at large n)."""


@dataclass
class Prepared:
    call: Callable[[], Any]
    result: Callable[[], dict] | None  # None: nothing to check (bandwidth floor)


@dataclass(frozen=True)
class Adapter:
    family: str  # "W1" .. "W6"
    tool: str
    needs: tuple[str, ...]  # import names; "not installed" if one is missing
    build: Callable[[wk.Workload], Prepared]
    kind: str = "tool"  # "floor" (the ratio's denominator), "bound" or "tool"


REGISTRY: list[Adapter] = []


def adapter(family, tool, needs=(), kind="tool"):
    def register(build):
        REGISTRY.append(Adapter(family, tool, tuple(needs), build, kind))
        return build

    return register


def checked(call, to_result):
    """Prepared whose result is to_result(call()): the checked numbers come from the timed call."""
    return Prepared(call, lambda: to_result(call()))


def vd(value=None, deriv=None):
    out = {}
    if value is not None:
        out["value"] = value
    if deriv is not None:
        out["deriv"] = deriv
    return out


# --- lazy library loaders -------------------------------------------------------
def _dualml(*names):
    try:
        import dualml
    except Exception as e:  # ImportError, or a half-built extension
        raise NotAvailable(f"dualml not importable ({type(e).__name__}: {str(e)[:60]})") from None
    missing = [n for n in names if not hasattr(dualml, n)]
    if missing:
        raise NotAvailable("dualml has no " + ", ".join(missing))
    return dualml


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    return jax, jax.numpy


def _torch():
    import torch

    torch.set_num_threads(THREADS)
    try:
        torch.set_num_interop_threads(THREADS)
    except RuntimeError:  # only allowed once, before any parallel work
        pass
    return torch


def _accepts(fn, name):
    try:
        return name in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # no introspectable signature
        return False


def _meth(name, fallback):
    """sin(v) as v.sin() for a library scalar, fallback(v) for a float: each library's fastest call."""
    m = operator.methodcaller(name)

    def fun(v):
        return fallback(v) if type(v) is float else m(v)

    return fun


def _methods(*names):
    return [_meth(n, getattr(math, n)) for n in names]


MATH5 = (math.sin, math.exp, math.tanh, math.log, math.sqrt)
NP5 = (np.sin, np.exp, np.tanh, np.log, np.sqrt)
NAIVE5 = (naive_dual.sin, naive_dual.exp, naive_dual.tanh, naive_dual.log, naive_dual.sqrt)


def _f1x(funs):
    f = wk.make_f1(*funs)
    return lambda x: f(x, wk.Y0)


# =================================================================================
# W1: f(x, y) and df/dx at one point
# =================================================================================
X0 = wk.X0


@adapter("W1", "floor: float + math", kind="floor")
def _(w):
    f = wk.make_f1(*MATH5)
    return checked(lambda: f(X0, wk.Y0), lambda v: vd(v))


@adapter("W1", "hand-written derivative")
def _(w):
    return checked(lambda: wk.hand_f1(X0, wk.Y0), lambda r: vd(*r))


@adapter("W1", "naive dual (pure Python)")
def _(w):
    f, D = wk.make_f1(*NAIVE5), naive_dual.Dual

    def call():
        r = f(D(X0, 1.0), wk.Y0)
        return r.val, r.der

    return checked(call, lambda r: vd(*r))


@adapter("W1", "dualml")
def _(w):
    dm = _dualml("Dual", "sin", "exp", "tanh", "log", "sqrt")
    f, D = wk.make_f1(dm.sin, dm.exp, dm.tanh, dm.log, dm.sqrt), dm.Dual

    def call():
        r = f(D(X0, 1.0), wk.Y0)
        return r.value, r.deriv

    return checked(call, lambda r: vd(*r))


@adapter("W1", "dualml, x already a Dual (evaluation only)")
def _(w):
    # the measure: one evaluation of f with x a Dual, as the floor is
    # one evaluation with x a float; value and derivative are read from the
    # returned Dual by the check, outside the timed call
    dm = _dualml("Dual", "sin", "exp", "tanh", "log", "sqrt")
    f = wk.make_f1(dm.sin, dm.exp, dm.tanh, dm.log, dm.sqrt)
    x = dm.Dual(X0, 1.0)
    return checked(lambda: f(x, wk.Y0), lambda r: vd(r.value, r.deriv))


@adapter("W1", "fastdual", needs=["fastdual"])
def _(w):
    import fastdual as fd

    f, D, der = wk.make_f1(*_methods("sin", "exp", "tanh", "log", "sqrt")), fd.Dual, fd.der

    def call():
        x = D(X0)
        r = f(x, wk.Y0)
        return r.val, der(r, x)

    return checked(call, lambda r: vd(*r))


@adapter("W1", "num-dual", needs=["num_dual"])
def _(w):
    import num_dual as nd

    f, D = wk.make_f1(*_methods("sin", "exp", "tanh", "log", "sqrt")), nd.Dual64

    def call():
        r = f(D(X0, 1.0), wk.Y0)
        return r.value, r.first_derivative

    return checked(call, lambda r: vd(*r))


@adapter("W1", "ad", needs=["ad"])
def _(w):
    from ad import admath, adnumber

    f = wk.make_f1(admath.sin, admath.exp, admath.tanh, admath.log, admath.sqrt)

    def call():
        x = adnumber(X0)
        r = f(x, wk.Y0)
        return r.x, r.d(x)

    return checked(call, lambda r: vd(*r))


@adapter("W1", "uncertainties", needs=["uncertainties"])
def _(w):
    from uncertainties import ufloat, umath

    f = wk.make_f1(umath.sin, umath.exp, umath.tanh, umath.log, umath.sqrt)

    def call():
        x = ufloat(X0, 1.0)
        r = f(x, wk.Y0)
        return r.nominal_value, r.derivatives[x]

    return checked(call, lambda r: vd(*r))


@adapter("W1", "autograd (value_and_grad)", needs=["autograd"])
def _(w):
    import autograd
    import autograd.numpy as anp

    vg = autograd.value_and_grad(_f1x((anp.sin, anp.exp, anp.tanh, anp.log, anp.sqrt)))
    return checked(lambda: vg(X0), lambda r: vd(*r))


def _jax_w1(jit):
    jax, jnp = _jax()
    fx = _f1x((jnp.sin, jnp.exp, jnp.tanh, jnp.log, jnp.sqrt))

    def jvp(x):
        return jax.jvp(fx, (x,), (1.0,))

    g = jax.jit(jvp) if jit else jvp
    return checked(lambda: jax.block_until_ready(g(X0)), lambda r: vd(float(r[0]), float(r[1])))


adapter("W1", "jax.jvp", needs=["jax"])(lambda w: _jax_w1(False))
adapter("W1", "jax.jvp (jit)", needs=["jax"])(lambda w: _jax_w1(True))


@adapter("W1", "torch forward_ad", needs=["torch"])
def _(w):
    torch = _torch()
    import torch.autograd.forward_ad as fwAD

    def T(v):
        return torch.tensor(v, dtype=torch.float64)

    x, one, y = T(X0), T(1.0), T(wk.Y0)  # y as a tensor: torch.exp takes no float
    f = wk.make_f1(torch.sin, torch.exp, torch.tanh, torch.log, torch.sqrt)

    def call():
        with fwAD.dual_level():
            p, t = fwAD.unpack_dual(f(fwAD.make_dual(x, one), y))
            return p.item(), t.item()

    return checked(call, lambda r: vd(*r))


@adapter("W1", "scipy.differentiate", needs=["scipy"])
def _(w):
    from scipy.differentiate import derivative

    fx = _f1x(NP5)
    return checked(lambda: derivative(fx, X0).df, lambda d: vd(deriv=float(d)))


@adapter("W1", "numdifftools", needs=["numdifftools"])
def _(w):
    import numdifftools as ndt

    d = ndt.Derivative(_f1x(NP5))
    return checked(lambda: d(X0), lambda r: vd(deriv=float(r)))


# =================================================================================
# W1np: W1 written with NumPy's functions, y a np.float64 (NumPy code as people
# write it); the floor is the same code with x a float
# =================================================================================
Y0NP = np.float64(wk.Y0)


@adapter("W1NP", "floor: float + NumPy functions", kind="floor")
def _(w):
    f = wk.make_f1(*NP5)
    return checked(lambda: f(X0, Y0NP), lambda v: vd(float(v)))


@adapter("W1NP", "dualml, x already a Dual (evaluation only)")
def _(w):
    dm = _dualml("Dual")
    f, x = wk.make_f1(*NP5), dm.Dual(X0, 1.0)
    return checked(lambda: f(x, Y0NP), lambda r: vd(r.value, r.deriv))


@adapter("W1NP", "dualml (construct + evaluate + read)")
def _(w):
    dm = _dualml("Dual")
    f, D = wk.make_f1(*NP5), dm.Dual

    def call():
        r = f(D(X0, 1.0), Y0NP)
        return r.value, r.deriv

    return checked(call, lambda r: vd(*r))


@adapter("W1NP", "fastdual", needs=["fastdual"])
def _(w):
    import fastdual as fd

    f, D, der = wk.make_f1(*NP5), fd.Dual, fd.der

    def call():
        x = D(X0)
        r = f(x, Y0NP)
        return r.val, der(r, x)

    return checked(call, lambda r: vd(*r))


@adapter("W1NP", "num-dual", needs=["num_dual"])
def _(w):
    import num_dual as nd

    f, D = wk.make_f1(*NP5), nd.Dual64

    def call():
        r = f(D(X0, 1.0), Y0NP)
        return r.value, r.first_derivative

    return checked(call, lambda r: vd(*r))


# =================================================================================
# W1x: W1-like expressions over the rule table (evaluation only, x a Dual); the
# floor calls math's function where math has it, dualml's float path otherwise
# =================================================================================
_MATH_NAMES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh",
               "arccosh": "acosh", "arctanh": "atanh", "arctan2": "atan2", "absolute": "fabs",
               "fmax": None, "fmin": None, "maximum": None, "minimum": None, "sign": None}


def _w1x_namespace(dm, floats):
    import inspect

    ns = {}
    for make in wk.W1X.values():
        for name in inspect.signature(make).parameters:
            fn = getattr(dm, name)
            if floats:
                mname = _MATH_NAMES.get(name, name)
                fn = getattr(math, mname, None) if mname else None
                fn = fn or getattr(dm, name)
            ns[name] = fn
    return ns


@adapter("W1X", "floor: float + math", kind="floor")
def _(w):
    f = wk.bind_w1x(w.key, _w1x_namespace(_dualml(), floats=True))
    return checked(lambda: f(X0, wk.Y0), lambda v: vd(v))


@adapter("W1X", "dualml, x already a Dual (evaluation only)")
def _(w):
    dm = _dualml("Dual")
    f, x = wk.bind_w1x(w.key, _w1x_namespace(dm, floats=False)), dm.Dual(X0, 1.0)
    return checked(lambda: f(x, wk.Y0), lambda r: vd(r.value, r.deriv))


# =================================================================================
# W7: gradient of scalar Python code with a loop (list input: the scalar path)
# =================================================================================
@adapter("W7", "floor: one float evaluation", kind="floor")
def _(w):
    f, x = wk.make_w7(math.sin, math.exp), wk.w7_data(w.size)
    return checked(lambda: f(x), lambda v: vd(v))


@adapter("W7", "dualml.value_and_gradient (list)")
def _(w):
    # the default chunk: all n partials in one pass for n <= 12, else equal
    # chunks of at most 12 (multi-partial Duals, docs/multi-partial-dual.md)
    dm = _dualml("value_and_gradient", "sin", "exp")
    f, x = wk.make_w7(dm.sin, dm.exp), wk.w7_data(w.size)
    return checked(lambda: dm.value_and_gradient(f, x), lambda r: vd(*r))


@adapter("W7", "dualml.value_and_gradient (list, chunk=1)")
def _(w):
    # one direction per pass: n evaluations of f with one Dual among floats
    dm = _dualml("value_and_gradient", "sin", "exp")
    f, x = wk.make_w7(dm.sin, dm.exp), wk.w7_data(w.size)
    return checked(lambda: dm.value_and_gradient(f, x, chunk=1), lambda r: vd(*r))


@adapter("W7", "fastdual", needs=["fastdual"])
def _(w):
    import fastdual as fd

    f, x, D, der = wk.make_w7(*_methods("sin", "exp")), wk.w7_data(w.size), fd.Dual, fd.der

    def call():
        xs = [D(v) for v in x]
        r = f(xs)
        return r.val, [der(r, xi) for xi in xs]

    return checked(call, lambda r: vd(r[0], np.array(r[1])))


@adapter("W7", "num-dual gradient (DualSVec)", needs=["num_dual"])
def _(w):
    import num_dual as nd

    f, x = wk.make_w7(*_methods("sin", "exp")), wk.w7_data(w.size)
    return checked(lambda: nd.gradient(f, x), lambda r: vd(r[0], np.array(r[1])))


@adapter("W7", "ad", needs=["ad"])
def _(w):
    from ad import admath, adnumber

    if w.size > 10:
        raise Skip("ad carries all second derivatives: O(n^2) work per operation")
    f, x = wk.make_w7(admath.sin, admath.exp), wk.w7_data(w.size)

    def call():
        xs = adnumber(x)
        r = f(xs)
        return r.x, [r.d(xi) for xi in xs]

    return checked(call, lambda r: vd(r[0], np.array(r[1])))


# np.sin on one scalar: the cost of NumPy's ufunc protocol on a Dual
@adapter("NPSIN", "floor: np.sin(float)", kind="floor")
def _(w):
    s = np.sin
    return checked(lambda: s(X0), lambda v: vd(float(v)))


@adapter("NPSIN", "np.sin(dualml.Dual)")
def _(w):
    dm = _dualml("Dual")
    s, x = np.sin, dm.Dual(X0, 1.0)
    return checked(lambda: s(x), lambda r: vd(r.value, r.deriv))


@adapter("NPSIN", "dualml.sin(dualml.Dual)")
def _(w):
    dm = _dualml("Dual", "sin")
    s, x = dm.sin, dm.Dual(X0, 1.0)
    return checked(lambda: s(x), lambda r: vd(r.value, r.deriv))


# =================================================================================
# W2: g'(x) at 20 points (one call per point for the scalar dual types)
# =================================================================================
PTS = wk.W2_POINTS


@adapter("W2", "floor: float + math (20 g(x))", kind="floor")
def _(w):
    g = wk.make_g(math.exp, math.sin)
    return checked(lambda: [g(p) for p in PTS], lambda v: vd(np.array(v)))


@adapter("W2", "hand-written derivative")
def _(w):
    return checked(lambda: [wk.hand_dg(p) for p in PTS], lambda d: vd(deriv=np.array(d)))


@adapter("W2", "naive dual (pure Python)")
def _(w):
    g, D = wk.make_g(naive_dual.exp, naive_dual.sin), naive_dual.Dual
    return checked(lambda: [g(D(p, 1.0)).der for p in PTS], lambda d: vd(deriv=np.array(d)))


@adapter("W2", "dualml.derivative")
def _(w):
    dm = _dualml("derivative", "exp", "sin")
    g, derivative = wk.make_g(dm.exp, dm.sin), dm.derivative
    return checked(lambda: [derivative(g, p) for p in PTS], lambda d: vd(deriv=np.array(d, dtype=float)))


@adapter("W2", "fastdual", needs=["fastdual"])
def _(w):
    import fastdual as fd

    g, D, der = wk.make_g(*_methods("exp", "sin")), fd.Dual, fd.der

    def one(p):
        x = D(p)
        return der(g(x), x)

    return checked(lambda: [one(p) for p in PTS], lambda d: vd(deriv=np.array(d)))


@adapter("W2", "num-dual first_derivative", needs=["num_dual"])
def _(w):
    import num_dual as nd

    g, fd1 = wk.make_g(*_methods("exp", "sin")), nd.first_derivative
    return checked(lambda: [fd1(g, p) for p in PTS], lambda r: vd(*np.array(r).T))


@adapter("W2", "ad", needs=["ad"])
def _(w):
    from ad import admath, adnumber

    g = wk.make_g(admath.exp, admath.sin)

    def one(p):
        x = adnumber(p)
        return g(x).d(x)

    return checked(lambda: [one(p) for p in PTS], lambda d: vd(deriv=np.array(d)))


@adapter("W2", "uncertainties", needs=["uncertainties"])
def _(w):
    from uncertainties import ufloat, umath

    g = wk.make_g(umath.exp, umath.sin)

    def one(p):
        x = ufloat(p, 1.0)
        return g(x).derivatives[x]

    return checked(lambda: [one(p) for p in PTS], lambda d: vd(deriv=np.array(d)))


@adapter("W2", "autograd elementwise_grad (vectorized)", needs=["autograd"])
def _(w):
    import autograd
    import autograd.numpy as anp

    dg, xs = autograd.elementwise_grad(wk.make_g(anp.exp, anp.sin)), np.array(PTS)
    return checked(lambda: dg(xs), lambda d: vd(deriv=d))


def _jax_w2(jit):
    jax, jnp = _jax()
    dg = jax.vmap(jax.grad(wk.make_g(jnp.exp, jnp.sin)))
    dg = jax.jit(dg) if jit else dg
    xs = jnp.asarray(PTS)
    return checked(lambda: jax.block_until_ready(dg(xs)), lambda d: vd(deriv=np.asarray(d)))


adapter("W2", "jax vmap(grad)", needs=["jax"])(lambda w: _jax_w2(False))
adapter("W2", "jax vmap(grad) (jit)", needs=["jax"])(lambda w: _jax_w2(True))


@adapter("W2", "torch forward_ad (vectorized)", needs=["torch"])
def _(w):
    torch = _torch()
    import torch.autograd.forward_ad as fwAD

    g = wk.make_g(torch.exp, torch.sin)
    xs = torch.tensor(PTS, dtype=torch.float64)
    ones = torch.ones_like(xs)

    def call():
        with fwAD.dual_level():
            p, t = fwAD.unpack_dual(g(fwAD.make_dual(xs, ones)))
            return p.numpy(), t.numpy()

    return checked(call, lambda r: vd(*r))


@adapter("W2", "scipy.differentiate (vectorized)", needs=["scipy"])
def _(w):
    from scipy.differentiate import derivative

    g, xs = wk.make_g(np.exp, np.sin), np.array(PTS)
    return checked(lambda: derivative(g, xs).df, lambda d: vd(deriv=d))


@adapter("W2", "numdifftools (vectorized)", needs=["numdifftools"])
def _(w):
    import numdifftools as ndt

    d, xs = ndt.Derivative(wk.make_g(np.exp, np.sin)), np.array(PTS)
    return checked(lambda: d(xs), lambda r: vd(deriv=r))


# =================================================================================
# W3: Jacobian of F(x) = tanh(W x + b) * x + sum(sin x); J[i, j] = dF_i/dx_j
# =================================================================================
def _w3(w):
    return wk.w3_data(w.size)


@adapter("W3", "floor: numpy F(x)", kind="floor")
def _(w):
    W, b, x = _w3(w)
    F = wk.make_F(W, b, np.tanh, np.sin)
    return checked(lambda: F(x), lambda v: vd(v))


@adapter("W3", "hand-written Jacobian (numpy)")
def _(w):
    W, b, x = _w3(w)
    return checked(lambda: wk.hand_jacobian_F(W, b, x), lambda J: vd(deriv=J))


@adapter("W3", "naive dual (object arrays, n passes)")
def _(w):
    W, b, x = _w3(w)
    F, D = wk.make_F(W, b, np.tanh, np.sin), naive_dual.Dual  # np.tanh calls Dual.tanh per element
    xl, n = x.tolist(), len(x)

    def call():
        cols = []
        for j in range(n):
            xd = np.empty(n, dtype=object)
            xd[:] = [D(v, 1.0 if k == j else 0.0) for k, v in enumerate(xl)]
            cols.append([o.der for o in F(xd)])
        return np.array(cols).T

    return checked(call, lambda J: vd(deriv=J))


@adapter("W3", "dualml.jacobian scalar path (list)")
def _(w):
    W, b, x = _w3(w)
    dm = _dualml("jacobian", "tanh", "sin")
    F, jac, xl = wk.make_F(W, b, dm.tanh, dm.sin), dm.jacobian, x.tolist()
    return checked(lambda: jac(F, xl), lambda J: vd(deriv=np.asarray(J, dtype=float)))


@adapter("W3", "dualml.jacobian array path (ndarray)")
def _(w):
    W, b, x = _w3(w)
    dm = _dualml("jacobian", "tanh", "sin")
    F, jac = wk.make_F(W, b, dm.tanh, dm.sin), dm.jacobian
    # Ask for the array backend by name where jacobian takes `method`, so this row
    # can never silently time the scalar path instead.
    kw = {}
    if _accepts(jac, "method"):
        try:
            importlib.import_module("dualml._arraycalc")
        except ImportError:
            raise NotAvailable("dualml's array backend (dualml._arraycalc) is not built") from None
        kw = {"method": "array"}
    return checked(lambda: jac(F, x, **kw), lambda J: vd(deriv=np.asarray(J, dtype=float)))


@adapter("W3", "fastdual DualArray + jac", needs=["fastdual"])
def _(w):
    import fastdual as fd

    W, b, x = _w3(w)
    F = wk.make_F(W, b, np.tanh, np.sin)

    def call():
        xs = fd.DualArray(x)
        return fd.jac(F(xs), xs)

    return checked(call, lambda J: vd(deriv=J))


@adapter("W3", "num-dual jacobian", needs=["num_dual"])
def _(w):
    import num_dual as nd

    W, b, x = _w3(w)
    F = wk.make_F(W, b, np.tanh, np.sin)
    xl = x.tolist()
    return checked(lambda: nd.jacobian(lambda v: F(np.array(v, dtype=object)), xl),
                   lambda r: vd(np.array(r[0]), np.array(r[1])))


@adapter("W3", "ad jacobian", needs=["ad"])
def _(w):
    import ad
    from ad import admath

    W, b, x = _w3(w)
    if w.size > 10:  # n = 30 already takes seconds per call
        raise Skip("ad carries all second derivatives: O(n^2) work per operation")
    F = wk.make_F(W, b, np.vectorize(admath.tanh, otypes=[object]), np.vectorize(admath.sin, otypes=[object]))

    def call():
        xs = ad.adnumber(x)
        return ad.jacobian(list(F(xs)), list(xs))

    return checked(call, lambda J: vd(deriv=np.array(J, dtype=float)))


@adapter("W3", "autograd jacobian (reverse)", needs=["autograd"])
def _(w):
    import autograd
    import autograd.numpy as anp

    W, b, x = _w3(w)
    jac = autograd.jacobian(wk.make_F(W, b, anp.tanh, anp.sin))
    return checked(lambda: jac(x), lambda J: vd(deriv=J))


def _jax_w3(w, how, jit):
    jax, jnp = _jax()
    W, b, x = _w3(w)
    F = wk.make_F(jnp.asarray(W), jnp.asarray(b), jnp.tanh, jnp.sin)
    j = getattr(jax, how)(F)
    j = jax.jit(j) if jit else j
    xj = jnp.asarray(x)
    return checked(lambda: jax.block_until_ready(j(xj)), lambda J: vd(deriv=np.asarray(J)))


adapter("W3", "jax jacfwd", needs=["jax"])(lambda w: _jax_w3(w, "jacfwd", False))
adapter("W3", "jax jacfwd (jit)", needs=["jax"])(lambda w: _jax_w3(w, "jacfwd", True))
adapter("W3", "jax jacrev (jit)", needs=["jax"])(lambda w: _jax_w3(w, "jacrev", True))


def _torch_w3(w, how):
    torch = _torch()
    W, b, x = _w3(w)

    def T(a):
        return torch.as_tensor(a, dtype=torch.float64)

    j = getattr(torch.func, how)(wk.make_F(T(W), T(b), torch.tanh, torch.sin))
    xt = T(x)
    return checked(lambda: j(xt), lambda J: vd(deriv=J.numpy()))


adapter("W3", "torch.func.jacfwd", needs=["torch"])(lambda w: _torch_w3(w, "jacfwd"))
adapter("W3", "torch.func.jacrev", needs=["torch"])(lambda w: _torch_w3(w, "jacrev"))


@adapter("W3", "scipy.differentiate.jacobian", needs=["scipy"])
def _(w):
    from scipy.differentiate import jacobian

    W, b, x = _w3(w)

    def F(xk):  # scipy evaluates many abscissae at once: xk has shape (n, ...)
        bb = b.reshape((-1,) + (1,) * (xk.ndim - 1))
        return np.tanh(np.tensordot(W, xk, axes=1) + bb) * xk + np.sin(xk).sum(axis=0)

    return checked(lambda: jacobian(F, x).df, lambda J: vd(deriv=J))


@adapter("W3", "numdifftools Jacobian", needs=["numdifftools"])
def _(w):
    import numdifftools as ndt

    W, b, x = _w3(w)
    j = ndt.Jacobian(wk.make_F(W, b, np.tanh, np.sin))
    return checked(lambda: j(x), lambda J: vd(deriv=J))


# =================================================================================
# W4: h(x) and h'(x) over a large float64 array
# =================================================================================
def _w4(w):
    x = wk.w4_data(w.size, w.key)
    return x, np.ones_like(x)


@adapter("W4", "floor: numpy h(x), values only", kind="floor")
def _(w):
    x, _ = _w4(w)
    h = wk.make_h(np.exp, np.sin, np.tanh)
    return checked(lambda: h(x), lambda v: vd(v))


@adapter("W4", "bound: memory bandwidth (2 np.copyto)", kind="bound")
def _(w):
    # A value+tangent pass reads x and its tangent and writes h and h': four arrays.
    x, t = _w4(w)
    o1, o2 = np.empty_like(x), np.empty_like(x)

    def call():
        np.copyto(o1, x)
        np.copyto(o2, t)

    return Prepared(call, None)


@adapter("W4", "hand-written derivative (numpy)")
def _(w):
    x, _ = _w4(w)
    return checked(lambda: wk.hand_h(x), lambda r: vd(*r))


@adapter("W4", "naive dual (numpy parts)")
def _(w):
    x, t = _w4(w)
    h, D = wk.make_h(naive_dual.exp, naive_dual.sin, naive_dual.tanh), naive_dual.Dual

    def call():
        r = h(D(x, t))
        return r.val, r.der

    return checked(call, lambda r: vd(*r))


@adapter("W4", "dualml.jvp")
def _(w):
    x, t = _w4(w)
    dm = _dualml("jvp", "exp", "sin", "tanh")
    h = wk.make_h(dm.exp, dm.sin, dm.tanh)
    return checked(lambda: dm.jvp(h, x, t), lambda r: vd(np.asarray(r[0]), np.asarray(r[1])))


@adapter("W4", "fastdual DualArray (object array)", needs=["fastdual"])
def _(w):
    import fastdual as fd

    x, _ = _w4(w)
    h = wk.make_h(np.exp, np.sin, np.tanh)

    def call():
        xs = fd.DualArray(x)  # one seed per element: h' is the Jacobian's diagonal
        r = h(xs)
        return fd.val(r), np.array([fd.der(ri, xi) for ri, xi in zip(r, xs, strict=True)])

    return checked(call, lambda r: vd(*r))


@adapter("W4", "num-dual Dual64 (object array)", needs=["num_dual"])
def _(w):
    import num_dual as nd

    x, _ = _w4(w)
    h, D = wk.make_h(np.exp, np.sin, np.tanh), nd.Dual64

    def call():
        xs = np.array([D(v, 1.0) for v in x.tolist()], dtype=object)
        r = h(xs)
        return np.array([e.value for e in r]), np.array([e.first_derivative for e in r])

    return checked(call, lambda r: vd(*r))


@adapter("W4", "autograd elementwise_grad (h' only)", needs=["autograd"])
def _(w):
    import autograd
    import autograd.numpy as anp

    x, _ = _w4(w)
    dh = autograd.elementwise_grad(wk.make_h(anp.exp, anp.sin, anp.tanh))
    return checked(lambda: dh(x), lambda d: vd(deriv=d))


def _jax_w4(w, jit):
    jax, jnp = _jax()
    x, t = _w4(w)
    h = wk.make_h(jnp.exp, jnp.sin, jnp.tanh)

    def jvp(x, t):
        return jax.jvp(h, (x,), (t,))

    g = jax.jit(jvp) if jit else jvp
    xj, tj = jnp.asarray(x), jnp.asarray(t)
    return checked(lambda: jax.block_until_ready(g(xj, tj)), lambda r: vd(np.asarray(r[0]), np.asarray(r[1])))


adapter("W4", "jax.jvp", needs=["jax"])(lambda w: _jax_w4(w, False))
adapter("W4", "jax.jvp (jit)", needs=["jax"])(lambda w: _jax_w4(w, True))


@adapter("W4", "torch.func.jvp", needs=["torch"])
def _(w):
    torch = _torch()
    x, t = _w4(w)
    h = wk.make_h(torch.exp, torch.sin, torch.tanh)
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    return checked(lambda: torch.func.jvp(h, (xt,), (tt,)), lambda r: vd(r[0].numpy(), r[1].numpy()))


@adapter("W4", "scipy.differentiate (h' only)", needs=["scipy"])
def _(w):
    from scipy.differentiate import derivative

    x, _ = _w4(w)
    h = wk.make_h(np.exp, np.sin, np.tanh)
    return checked(lambda: derivative(h, x).df, lambda d: vd(deriv=d))


@adapter("W4", "numdifftools (h' only)", needs=["numdifftools"])
def _(w):
    import numdifftools as ndt

    x, _ = _w4(w)
    d = ndt.Derivative(wk.make_h(np.exp, np.sin, np.tanh))
    return checked(lambda: d(x), lambda r: vd(deriv=r))


# =================================================================================
# W5: Hessian of the 10-variable Rosenbrock function (NumPy slices)
# =================================================================================
def _rosen_obj(v):
    return wk.rosen(np.array(v, dtype=object))


@adapter("W5", "floor: numpy f(x)", kind="floor")
def _(w):
    x = wk.w5_data()
    return checked(lambda: wk.rosen(x), lambda v: vd(float(v)))


@adapter("W5", "hand-written Hessian (numpy)")
def _(w):
    x = wk.w5_data()
    return checked(lambda: wk.hand_hessian_rosen(x), lambda H: vd(deriv=H))


@adapter("W5", "naive dual, nested (n(n+1)/2 passes)")
def _(w):
    xl, D = wk.w5_data().tolist(), naive_dual.Dual
    n = len(xl)

    def call():
        H = np.empty((n, n))
        for i in range(n):
            for j in range(i, n):
                xd = np.empty(n, dtype=object)
                xd[:] = [D(D(v, float(k == i)), D(float(k == j), 0.0)) for k, v in enumerate(xl)]
                H[i, j] = H[j, i] = wk.rosen(xd).der.der
        return H

    return checked(call, lambda H: vd(deriv=H))


@adapter("W5", "dualml.hessian")
def _(w):
    dm = _dualml("hessian")
    x = wk.w5_data()
    return checked(lambda: dm.hessian(wk.rosen, x), lambda H: vd(deriv=np.asarray(H, dtype=float)))


@adapter("W5", "fastdual hyper-dual hessian_matrix", needs=["fastdual"])
def _(w):
    from fastdual._hyperdual import hessian_matrix  # what fastdual.autohess runs

    x = wk.w5_data()
    return checked(lambda: hessian_matrix(_rosen_obj, x), lambda H: vd(deriv=H))


@adapter("W5", "num-dual hessian", needs=["num_dual"])
def _(w):
    import num_dual as nd

    xl = wk.w5_data().tolist()
    return checked(lambda: nd.hessian(_rosen_obj, xl), lambda r: vd(r[0], np.array(r[2])))


@adapter("W5", "ad gh", needs=["ad"])
def _(w):
    from ad import gh

    x = wk.w5_data()
    hess = gh(_rosen_obj)[1]
    return checked(lambda: hess(x), lambda H: vd(deriv=np.array(H, dtype=float)))


@adapter("W5", "autograd hessian", needs=["autograd"])
def _(w):
    import autograd

    x = wk.w5_data()
    hess = autograd.hessian(wk.rosen)
    return checked(lambda: hess(x), lambda H: vd(deriv=H))


def _jax_w5(jit):
    jax, jnp = _jax()
    h = jax.hessian(wk.rosen)
    h = jax.jit(h) if jit else h
    x = jnp.asarray(wk.w5_data())
    return checked(lambda: jax.block_until_ready(h(x)), lambda H: vd(deriv=np.asarray(H)))


adapter("W5", "jax.hessian", needs=["jax"])(lambda w: _jax_w5(False))
adapter("W5", "jax.hessian (jit)", needs=["jax"])(lambda w: _jax_w5(True))


@adapter("W5", "torch.func.hessian", needs=["torch"])
def _(w):
    torch = _torch()
    h, x = torch.func.hessian(wk.rosen), torch.from_numpy(wk.w5_data())
    return checked(lambda: h(x), lambda H: vd(deriv=H.numpy()))


@adapter("W5", "scipy.differentiate.hessian", needs=["scipy"])
def _(w):
    from scipy.differentiate import hessian

    x = wk.w5_data()

    def f(xk):  # xk has shape (n, ...): reduce over the variable axis only
        return (100 * (xk[1:] - xk[:-1] ** 2) ** 2 + (1 - xk[:-1]) ** 2).sum(axis=0)

    return checked(lambda: hessian(f, x).ddf, lambda H: vd(deriv=H))


@adapter("W5", "numdifftools Hessian", needs=["numdifftools"])
def _(w):
    import numdifftools as ndt

    x, h = wk.w5_data(), ndt.Hessian(wk.rosen)
    return checked(lambda: h(x), lambda H: vd(deriv=H))


# =================================================================================
# W5h: H v of the same Rosenbrock function; the floor is one dualml.gradient,
# the yardstick of issue 13's goal (hvp at most 3x a gradient)
# =================================================================================
@adapter("W5H", "floor: dualml.gradient", kind="floor")
def _(w):
    dm = _dualml("gradient")
    x, _ = wk.w5h_data()
    return Prepared(lambda: dm.gradient(wk.rosen, x), None)


@adapter("W5H", "numpy f(x)")
def _(w):
    x, _ = wk.w5h_data()
    return Prepared(lambda: wk.rosen(x), None)


@adapter("W5H", "dualml.hvp")
def _(w):
    dm = _dualml("hvp")
    x, v = wk.w5h_data()
    return checked(lambda: dm.hvp(wk.rosen, x, v), lambda r: vd(deriv=r))


@adapter("W5H", "dualml.hessian @ v")
def _(w):
    dm = _dualml("hessian")
    x, v = wk.w5h_data()
    return checked(lambda: dm.hessian(wk.rosen, x) @ v, lambda r: vd(deriv=r))


@adapter("W5H", "autograd hessian_vector_product", needs=["autograd"])
def _(w):
    import autograd

    x, v = wk.w5h_data()
    hvp = autograd.hessian_vector_product(wk.rosen)
    return checked(lambda: hvp(x, v), lambda r: vd(deriv=r))


def _jax_w5h(jit):
    jax, jnp = _jax()

    def hvp(x, v):  # forward over reverse, the JAX documentation's hvp
        return jax.jvp(jax.grad(wk.rosen), (x,), (v,))[1]

    h = jax.jit(hvp) if jit else hvp
    x, v = (jnp.asarray(a) for a in wk.w5h_data())
    return checked(lambda: jax.block_until_ready(h(x, v)), lambda r: vd(deriv=np.asarray(r)))


adapter("W5H", "jax jvp(grad)", needs=["jax"])(lambda w: _jax_w5h(False))
adapter("W5H", "jax jvp(grad) (jit)", needs=["jax"])(lambda w: _jax_w5h(True))
# W10: sparse Jacobians (1-D Bratu, 2-D Brusselator) and a sparse Hessian
# (chained Rosenbrock): compressed forward passes after preparation
# =================================================================================
def _w10_problem(w):
    """(F, x, pattern) of a Jacobian workload; Skip for the Hessian one."""
    if w.key == "bratu":
        return wk.bratu_F, wk.w10_bratu_data(w.size), wk.tridiagonal_pattern(w.size)
    if w.key == "bruss":
        return wk.brusselator_F, wk.w10_bruss_data(), wk.brusselator_pattern()
    raise Skip("a Jacobian row (this workload is a Hessian)")


def _w10_out(w, M):
    """What the reference holds: the dense Jacobian (Brusselator) or three diagonals."""
    if w.key == "bruss":
        return vd(deriv=M.toarray() if hasattr(M, "toarray") else np.asarray(M))
    return vd(deriv=wk.tridiag_of(M))


def _w10_rosen(w):
    if w.key != "rosen":
        raise Skip("a Hessian row (this workload is a Jacobian)")
    n = w.size
    import scipy.sparse as sp

    # term k holds x_k and x_k+1
    E = sp.csr_array(sp.eye_array(n - 1, n, dtype=bool) + sp.eye_array(n - 1, n, k=1, dtype=bool))
    return wk.w10_rosen_data(n), E, wk.tridiagonal_pattern(n)


@adapter("W10", "floor: numpy F(x) (f(x) for the Hessian)", kind="floor")
def _(w):
    if w.key == "rosen":
        x = wk.w10_rosen_data(w.size)
        return Prepared(lambda: wk.rosen_chain(x), None)
    F, x, _ = _w10_problem(w)
    return Prepared(lambda: F(x), None)


@adapter("W10", "dualml SparseJacobian / SparseHessian(elements), prepared")
def _(w):
    dm = _dualml("SparseJacobian", "SparseHessian")
    if w.key == "rosen":
        x, E, _ = _w10_rosen(w)
        H = dm.SparseHessian(wk.rosen_terms, x, sparsity=E, elements=True)
        return checked(lambda: H(x), lambda M: vd(deriv=wk.tridiag_of(M)))
    F, x, P = _w10_problem(w)
    J = dm.SparseJacobian(F, x, sparsity=P)
    return checked(lambda: J(x), lambda M: _w10_out(w, M))


@adapter("W10", "dualml SparseHessian (star coloring, general f), prepared")
def _(w):
    dm = _dualml("SparseHessian")
    x, _, P = _w10_rosen(w)
    H = dm.SparseHessian(wk.rosen_chain, x, sparsity=P)
    return checked(lambda: H(x), lambda M: vd(deriv=wk.tridiag_of(M)))


@adapter("W10", "dualml preparation: coloring + seeds + gather (pattern given)")
def _(w):
    dm = _dualml("SparseJacobian", "SparseHessian")
    if w.key == "rosen":
        x, E, _ = _w10_rosen(w)
        prep = lambda: dm.SparseHessian(wk.rosen_terms, x, sparsity=E, elements=True)  # noqa: E731
        return checked(prep, lambda H: vd(deriv=wk.tridiag_of(H(x))))
    F, x, P = _w10_problem(w)
    return checked(lambda: dm.SparseJacobian(F, x, sparsity=P),
                   lambda J: _w10_out(w, J(x)))


@adapter("W10", "dualml preparation: detection + coloring")
def _(w):
    dm = _dualml("SparseJacobian", "SparseHessian", "jacobian_sparsity")
    if w.key == "rosen":
        x, _, _ = _w10_rosen(w)
        prep = lambda: dm.SparseHessian(wk.rosen_terms, x, elements=True)  # noqa: E731
        return checked(prep, lambda H: vd(deriv=wk.tridiag_of(H(x))))
    F, x, _ = _w10_problem(w)
    return checked(lambda: dm.SparseJacobian(F, x), lambda J: _w10_out(w, J(x)))


@adapter("W10", "dualml.jacobian / hessian, dense")
def _(w):
    dm = _dualml("jacobian")
    if w.key == "rosen" or w.size > 4096:
        raise Skip(f"dense: {w.size}^2 entries")
    F, x, _ = _w10_problem(w)
    return checked(lambda: dm.jacobian(F, x), lambda J: _w10_out(w, J))


@adapter("W10", "scipy approx_derivative, grouped columns (FD)", needs=["scipy"])
def _(w):
    from scipy.optimize._numdiff import approx_derivative, group_columns

    if w.key == "rosen":                        # differences of the hand-written gradient
        x, _, P = _w10_rosen(w)
        groups = group_columns(P)
        return checked(lambda: approx_derivative(wk.rosen_chain_grad, x, sparsity=(P, groups)),
                       lambda M: vd(deriv=wk.tridiag_of(M)))
    F, x, P = _w10_problem(w)
    groups = group_columns(P)
    return checked(lambda: approx_derivative(F, x, sparsity=(P, groups)),
                   lambda M: _w10_out(w, M))


@adapter("W10", "jax jacfwd (jit), dense", needs=["jax"])
def _(w):
    if w.key == "rosen" or w.size > 4096:
        raise Skip(f"dense: {w.size}^2 entries")
    jax, jnp = _jax()
    F, x, _ = _w10_problem(w)
    j = jax.jit(jax.jacfwd(lambda u: F(u, xp=jnp) if w.key == "bratu" else
                           wk.brusselator_F(u, xp=jnp)))
    xj = jnp.asarray(x)
    return checked(lambda: jax.block_until_ready(j(xj)), lambda J: _w10_out(w, np.asarray(J)))


# =================================================================================
# W6: DGSM (v_i = E[(df/dx_i)^2]) of a 10-input model, N base samples
# =================================================================================
def _w6_samples(N, seed=0):
    lo, hi = np.array(wk.W6_PROBLEM["bounds"]).T
    return np.random.default_rng(seed).uniform(lo, hi, (N, len(lo)))


@adapter("W6", "floor: numpy model on N samples", kind="floor")
def _(w):
    X, model = _w6_samples(w.size), wk.make_model(np.sin)
    return Prepared(lambda: model(X), None)


@adapter("W6", "hand-written gradient (numpy MC)")
def _(w):
    a, b = wk.W6_A, wk.W6_B
    rng = np.random.default_rng(1)
    lo, hi = np.array(wk.W6_PROBLEM["bounds"]).T

    def call():
        X = rng.uniform(lo, hi, (w.size, len(lo)))
        return ((a * np.cos(X) + 2 * b * X) ** 2).mean(axis=0)

    return checked(call, lambda v: vd(deriv=v))


@adapter("W6", "dualml.dgsm")
def _(w):
    dm = _dualml("dgsm", "sin")
    model = wk.make_model(dm.sin)

    def to_result(out):
        vi = out["vi"] if isinstance(out, dict) else getattr(out, "vi", out)
        return vd(deriv=np.asarray(vi, dtype=float))

    return checked(lambda: dm.dgsm(model, wk.W6_PROBLEM, w.size), to_result)


@adapter("W6", "SALib finite_diff + dgsm.analyze", needs=["SALib"])
def _(w):
    from SALib.analyze import dgsm
    from SALib.sample import finite_diff

    model = wk.make_model(np.sin)

    def call():
        X = finite_diff.sample(wk.W6_PROBLEM, w.size, seed=1)
        return dgsm.analyze(wk.W6_PROBLEM, X, model(X), seed=1)

    return checked(call, lambda Si: vd(deriv=np.asarray(Si["vi"], dtype=float)))


# =================================================================================
# W6b: DGSM of the SIR model (200-step RK4 in NumPy), 3 inputs, N base samples
# =================================================================================
@adapter("W6b", "floor: numpy model on N samples", kind="floor")
def _(w):
    lo, hi = np.array(wk.W6B_PROBLEM["bounds"]).T
    X = np.random.default_rng(0).uniform(lo, hi, (w.size, len(lo)))
    return Prepared(lambda: wk.sir_model(X), None)


@adapter("W6b", "dualml.dgsm (exact gradients)")
def _(w):
    dm = _dualml("dgsm")
    return checked(lambda: dm.dgsm(wk.sir_model, wk.W6B_PROBLEM, w.size, seed=1, vectorized=True),
                   lambda out: vd(deriv=np.asarray(out["vi"], dtype=float)))


@adapter("W6b", "SALib finite_diff + model + dgsm.analyze", needs=["SALib"])
def _(w):
    from SALib.analyze import dgsm
    from SALib.sample import finite_diff

    def call():  # the whole pipeline: N (D+1) sample rows, one vectorized model run, the analysis
        X = finite_diff.sample(wk.W6B_PROBLEM, w.size, seed=1)
        return dgsm.analyze(wk.W6B_PROBLEM, X, wk.sir_model(X), seed=1)

    return checked(call, lambda Si: vd(deriv=np.asarray(Si["vi"], dtype=float)))


# =================================================================================
# W6c: DGSM of an SEIR-V model solved by scipy.integrate.solve_ivp (RK45), 5 inputs
# =================================================================================
def _w6c_points(n):
    lo, hi = np.array(wk.W6C_PROBLEM["bounds"]).T
    return np.random.default_rng(0).uniform(lo, hi, (n, len(lo)))


@adapter("W6c", "floor: scipy solve_ivp model on N samples", kind="floor", needs=["scipy"])
def _(w):
    from scipy.integrate import solve_ivp

    X = _w6c_points(w.size)
    return Prepared(lambda: [wk.seirv_model(x, solve_ivp) for x in X], None)


@adapter("W6c", "dualml.dgsm + dualml.solve_ivp (sensitivities)", needs=["scipy"])
def _(w):
    dm = _dualml("dgsm", "solve_ivp")

    def model(x):
        return wk.seirv_model(x, dm.solve_ivp)

    return checked(lambda: dm.dgsm(model, wk.W6C_PROBLEM, w.size, seed=1, vectorized=False),
                   lambda out: vd(deriv=np.asarray(out["vi"], dtype=float)))


@adapter("W6c", "dualml.dgsm + dualml.solve_ivp, sens_error_control=False", needs=["scipy"])
def _(w):
    dm = _dualml("dgsm", "solve_ivp")

    def model(x):  # the step size controls y's error only (CVODES' errconS = false)
        return wk.seirv_model(x, dm.solve_ivp, sens_error_control=False)

    return checked(lambda: dm.dgsm(model, wk.W6C_PROBLEM, w.size, seed=1, vectorized=False),
                   lambda out: vd(deriv=np.asarray(out["vi"], dtype=float)))


@adapter("W6c", "SALib finite_diff + scipy solve_ivp + dgsm.analyze", needs=["SALib", "scipy"])
def _(w):
    from SALib.analyze import dgsm
    from SALib.sample import finite_diff
    from scipy.integrate import solve_ivp

    def call():  # N (D+1) sample rows, one solve each, the analysis
        X = finite_diff.sample(wk.W6C_PROBLEM, w.size, seed=1)
        Y = np.array([wk.seirv_model(x, solve_ivp) for x in X])
        return dgsm.analyze(wk.W6C_PROBLEM, X, Y, seed=1)

    return checked(call, lambda Si: vd(deriv=np.asarray(Si["vi"], dtype=float)))


# =================================================================================
# W9: one DualArray operation (k = 10 directions) vs the NumPy operation on the values
# =================================================================================
@adapter("W9", "floor: numpy, values only", kind="floor")
def _(w):
    v, _, m = wk.w9_data(w.size)
    return checked(wk.make_w9(w.op, v, m), lambda r: vd(r))


@adapter("W9", "dualml DualArray")
def _(w):
    dm = _dualml("DualArray")
    v, t, m = wk.w9_data(w.size)
    d = dm.DualArray(v, t)
    return checked(wk.make_w9(w.op, d, m), lambda r: vd(np.asarray(r.value), np.asarray(r.deriv)))


# =================================================================================
# W11: the 10th derivative of a 20-operation expression (Taylor mode vs nesting)
# =================================================================================
@adapter("W11", "floor: float + math (one evaluation)", kind="floor")
def _(w):
    f = wk.make_w11(math.sin, math.exp, math.tanh, math.log, math.sqrt, math.atan)
    return checked(lambda: f(wk.W11_X0), lambda v: vd(v))


@adapter("W11", "dualml.derivative(n=10) (Taylor mode)")
def _(w):
    dm = _dualml("taylor", "derivative")
    f = wk.make_w11(dm.sin, dm.exp, dm.tanh, dm.log, dm.sqrt, dm.arctan)
    derivative, n = dm.derivative, wk.W11_N
    return checked(lambda: derivative(f, wk.W11_X0, n=n), lambda d: vd(deriv=d))


@adapter("W11", "dualml.derivative nested 10 levels (Dual)")
def _(w):
    dm = _dualml("derivative")
    f = wk.make_w11(dm.sin, dm.exp, dm.tanh, dm.log, dm.sqrt, dm.arctan)
    derivative = dm.derivative

    def nest(h):
        return lambda t: derivative(h, t)

    g = f
    for _ in range(wk.W11_N):
        g = nest(g)
    return checked(lambda: g(wk.W11_X0), lambda d: vd(deriv=d))
