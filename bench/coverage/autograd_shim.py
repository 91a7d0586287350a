"""A pytest plugin that runs autograd's own test suite through dualml.

Design
------
autograd's tests are written against ``autograd.numpy`` and check every
function with ``check_grads(f, argnum, modes, order)(*args)``.  This plugin
installs a stand-in ``autograd`` package in ``sys.modules`` before the tests
are collected: ``autograd.numpy`` is NumPy itself (so the functions run on
DualArrays through NumPy's protocols, as a user's code would), and
``check_grads``/``grad``/``jacobian`` are dualml's.  Each ``check_grads``
call is one *check*: the arguments named by argnum are flattened into one
real vector x, f's outputs are projected on random weights into a scalar g,
and ``dualml.gradient(g, x)`` (first order) and ``dualml.hessian(g, x)``
(second order) are compared in random directions with a Richardson-
extrapolated central difference of g (an independent reference).  Outcomes
(correct / raises / wrong / n/a for complex or integer arguments) go to the
JSON-lines file named by ``$DUALML_COV_LOG``; a check never fails the test,
so one test's remaining checks still run.
"""
import json
import os
import sys
import traceback
import types
from itertools import product

import numpy
import dualml

_LOG = os.environ.get("DUALML_COV_LOG", "autograd_checks.jsonl")
_RTOL = 1e-5


def _record(**kw):
    with open(_LOG, "a") as fh:
        fh.write(json.dumps(kw) + "\n")


def _current_test():
    return os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0]


# -- flattening the differentiated arguments ------------------------------------

def _is_real(a):
    if isinstance(a, (bool, numpy.bool_)):
        return False
    if isinstance(a, (int, float, numpy.integer, numpy.floating)):
        return isinstance(a, (float, numpy.floating))
    if isinstance(a, numpy.ndarray):
        return a.dtype.kind == "f"
    return False


def _flatten(xs):
    parts, meta = [], []
    for a in xs:
        arr = numpy.asarray(a, dtype=numpy.float64)
        meta.append((numpy.shape(a), isinstance(a, numpy.ndarray)))
        parts.append(arr.ravel())
    return numpy.concatenate(parts) if parts else numpy.zeros(0), meta


def _unflatten(x, meta):
    out, k = [], 0
    for shape, is_arr in meta:
        n = int(numpy.prod(shape)) if shape else 1
        piece = x[k:k + n]
        k += n
        if shape == () and not is_arr:
            out.append(piece[0])            # a scalar argument stays a scalar
        else:
            out.append(piece.reshape(shape))
    return out


def _outputs(r):
    if isinstance(r, (tuple, list)):
        res = []
        for e in r:
            res.extend(_outputs(e))
        return res
    return [r]


def _projector(f, args, argnums, kwargs, meta, weights):
    def g(x):
        sub = list(args)
        for i, v in zip(argnums, _unflatten(x, meta)):
            sub[i] = v
        outs = _outputs(f(*sub, **kwargs))
        total = 0.0
        for w, o in zip(weights, outs):
            total = total + (w * o).sum() if numpy.ndim(w) else total + w * o
        return total
    return g


def _rich1(g, x, v, h):
    d = lambda s: (g(x + s * v) - g(x - s * v)) / (2 * s)
    return (4 * d(h / 2) - d(h)) / 3


def _rich2(g, x, u, v, h):
    def d(s):
        return (g(x + s * u + s * v) - g(x + s * u - s * v) - g(x - s * u + s * v)
                + g(x - s * u - s * v)) / (4 * s * s)
    return (4 * d(h / 2) - d(h)) / 3


def _close(a, b, scale):
    return bool(numpy.isfinite(a) and abs(a - b) <= _RTOL * max(1.0, abs(b), scale))


def _one_check(f, args, argnums, kwargs, order):
    test = _current_test()
    name = getattr(f, "__name__", "?")
    xs = [args[i] for i in argnums]
    base = dict(test=test, f=name)
    if not all(_is_real(a) for a in xs):
        _record(**base, order=1, outcome="n/a", why="complex or integer argument")
        return
    try:
        y0 = f(*args, **kwargs)
    except Exception as e:                      # noqa: BLE001 -- NumPy itself refuses
        _record(**base, order=1, outcome="n/a", why=f"f fails on floats: {e!r}"[:200])
        return
    outs = _outputs(y0)
    if any(numpy.iscomplexobj(o) or not numpy.issubdtype(numpy.asarray(o).dtype, numpy.number)
           for o in outs):
        _record(**base, order=1, outcome="n/a", why="complex or non-numeric output")
        return
    x, meta = _flatten(xs)
    rng = numpy.random.default_rng(len(x))
    weights = [rng.standard_normal(numpy.shape(o)) if numpy.ndim(o) else rng.standard_normal()
               for o in outs]
    g = _projector(f, args, argnums, kwargs, meta, weights)
    v = rng.standard_normal(x.shape)
    u = rng.standard_normal(x.shape)
    h = 1e-4 * max(1.0, float(numpy.max(numpy.abs(x)))) if x.size else 1e-4
    for o in (1, 2)[:max(1, min(order, 2))]:
        try:
            if o == 1:
                ad = float(dualml.gradient(g, x) @ v)
                ref = float(_rich1(g, x, v, h))
            else:
                H = dualml.hessian(g, x)
                ad = float(u @ H @ v)
                ref = float(_rich2(g, x, u, v, 10 * h))
        except Exception as e:                  # noqa: BLE001 -- what we count
            tb = traceback.extract_tb(e.__traceback__)
            _record(**base, order=o, outcome="raises", error=f"{type(e).__name__}: {e}"[:300],
                    where=f"{tb[-1].filename}:{tb[-1].lineno}" if tb else "")
            continue
        if numpy.isfinite(ref) and not _close(ad, ref, abs(ad)):
            # a difference across a kink (min, sort: ties within the step) is
            # no reference; a step 30x smaller decides
            ref2 = float(_rich1(g, x, v, h / 30) if o == 1 else _rich2(g, x, u, v, h / 3))
            if abs(ref2) > 2.5 * abs(ref) and not _close(ad, ref2, abs(ad)):
                _record(**base, order=o, outcome="n/a", why="a kink within the step")
                continue
            ref = ref2
        if not numpy.isfinite(ref):
            _record(**base, order=o, outcome="n/a", why="reference not finite")
        elif _close(ad, ref, abs(ad)):
            _record(**base, order=o, outcome="correct")
        else:
            _record(**base, order=o, outcome="wrong", ad=ad, ref=ref,
                    args=repr([numpy.shape(a) for a in xs]), kwargs=repr(kwargs)[:200])


# -- the stand-in autograd API ------------------------------------------------------

def check_grads(fun, argnum=0, modes=("fwd", "rev"), order=2):
    argnums = (argnum,) if isinstance(argnum, int) else tuple(argnum)

    def run(*args, **kwargs):
        _one_check(fun, args, argnums, kwargs, order)
    return run


def combo_check(fun, *args, **kwargs):
    argnums = args[0] if args else 0
    order = kwargs.pop("order", 2)
    kwargs.pop("modes", None)

    def _combo(*arglists, **kwlists):
        kv = [[(k, x) for x in xs] for k, xs in kwlists.items()]
        for a in product(*arglists):
            for k in product(*kv):
                check_grads(fun, argnums, order=order)(*a, **dict(k))
    return _combo


def _scalar_close(a, b):
    return abs(a - b) < 1e-6 or abs(a - b) / abs(a + b) < 1e-6


def _check_equivalent(a, b):
    assert numpy.allclose(numpy.asarray(a), numpy.asarray(b), rtol=1e-6, atol=1e-6)


def _wrt(f, argnum, op):
    def run(*args, **kwargs):
        x = args[argnum]

        def h(v):
            sub = list(args)
            sub[argnum] = v
            return f(*sub, **kwargs)
        return op(h, x)
    return run


def grad(f, argnum=0):
    def op(h, x):
        if numpy.ndim(x) == 0 and not isinstance(x, numpy.ndarray):
            return dualml.derivative(h, float(x))
        return dualml.gradient(h, numpy.asarray(x, dtype=float))
    return _wrt(f, argnum, op)


def jacobian(f, argnum=0):
    return _wrt(f, argnum, lambda h, x: dualml.jacobian(h, numpy.asarray(x, dtype=float)))


def hessian(f, argnum=0):
    return _wrt(f, argnum, lambda h, x: dualml.hessian(h, numpy.asarray(x, dtype=float)))


def value_and_grad(f, argnum=0):
    def run(*args, **kwargs):
        return f(*args, **kwargs), grad(f, argnum)(*args, **kwargs)
    return run


def elementwise_grad(f, argnum=0):
    def op(h, x):
        if numpy.ndim(x) == 0:
            return dualml.derivative(h, float(x))
        return dualml.jvp(h, numpy.asarray(x, dtype=float), numpy.ones(numpy.shape(x)))
    return _wrt(f, argnum, op)


def grad_and_aux(f, argnum=0):
    def run(*args, **kwargs):
        aux = f(*args, **kwargs)[1]
        return grad(lambda *a, **k: f(*a, **k)[0], argnum)(*args, **kwargs), aux
    return run


def hessian_tensor_product(f, argnum=0):
    def run(*args):
        *a, v = args
        H = hessian(f, argnum)(*a)
        return numpy.tensordot(H, v, numpy.ndim(v))
    return run


def tensor_jacobian_product(f, argnum=0):
    def run(*args):
        *a, v = args
        J = jacobian(f, argnum)(*a)
        return numpy.tensordot(v, J, numpy.ndim(v))
    return run


def make_jvp(f, argnum=0):
    def at(*args):
        def push(v):
            x = numpy.asarray(args[argnum], dtype=float)

            def h(t):
                sub = list(args)
                sub[argnum] = t
                return f(*sub)
            return f(*args), dualml.jvp(h, x, numpy.asarray(v, dtype=float))
        return push
    return at


def make_hvp(f, argnum=0):
    def at(*args):
        return (lambda v: hessian_tensor_product(f, argnum)(*args, v)), f(*args)
    return at


def _not_emulated(name):
    def run(*a, **k):
        raise NotImplementedError(f"autograd.{name} has no dualml stand-in in this shim")
    return run


def _install():
    import scipy
    import scipy.special
    import scipy.stats
    import scipy.signal
    import scipy.linalg
    import scipy.integrate
    ag = types.ModuleType("autograd")
    ag.__path__ = []
    ag.grad, ag.jacobian, ag.hessian = grad, jacobian, hessian
    ag.value_and_grad, ag.elementwise_grad, ag.deriv = value_and_grad, elementwise_grad, grad
    ag.numpy = numpy
    ag.tuple, ag.list = tuple, list
    ag.checkpoint, ag.grad_and_aux = (lambda f: f), grad_and_aux
    ag.hessian_tensor_product, ag.tensor_jacobian_product = (hessian_tensor_product,
                                                             tensor_jacobian_product)
    ag.make_jvp, ag.make_hvp = make_jvp, make_hvp
    ag.make_ggnvp = _not_emulated("make_ggnvp")
    tracer = types.ModuleType("autograd.tracer")
    tracer.isbox = lambda x: False
    tu = types.ModuleType("autograd.test_util")
    tu.check_grads, tu.combo_check = check_grads, combo_check
    tu.scalar_close, tu.check_equivalent = _scalar_close, _check_equivalent
    ag.test_util = tu
    mods = {"autograd": ag, "autograd.numpy": numpy, "autograd.numpy.random": numpy.random,
            "autograd.numpy.linalg": numpy.linalg, "autograd.numpy.fft": numpy.fft,
            "autograd.test_util": tu, "autograd.scipy": scipy, "autograd.tracer": tracer}
    for sub in ("special", "stats", "signal", "linalg", "integrate", "misc"):
        m = getattr(scipy, sub, None)
        if m is not None:
            mods[f"autograd.scipy.{sub}"] = m
    for st in ("norm", "t", "multivariate_normal", "dirichlet", "poisson", "beta", "gamma",
               "chi2", "logistic"):
        mods[f"autograd.scipy.stats.{st}"] = types.SimpleNamespace(
            **{k: getattr(getattr(scipy.stats, st), k) for k in dir(getattr(scipy.stats, st))
               if not k.startswith("__")})
    sys.modules.update(mods)


_install()
