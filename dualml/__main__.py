"""The ``dualml`` command line (also ``python -m dualml``).

Design
------
* ``dualml diff EXPR --at x=1 y=2 [--hessian]``: the expression goes through
  ``dualml._expr`` (an AST whitelist, evaluated by walking the tree; nothing
  reaches eval), then through the public calculus API.
* ``dualml sensitivity MODULE:FUNCTION --at x=1,2,3 [--fixed steps=500]``:
  imports the user's function (a module path, with the current directory on
  the import path as for ``python -m``, or a ``.py`` file, with its own
  directory on the path so it can import its neighbours), calls it with
  keyword arguments named by ``--at`` (differentiated) and ``--fixed``
  (passed as they are: ints stay ints) and prints ``dualml.sensitivity``'s
  table under the function's name.
* ``dualml dgsm MODULE:FUNCTION --bounds x=0,1 y=0,2 --dists y=norm
  --samples N``: the same import and calling convention, ``dualml.dgsm``
  with SALib's distributions.
* ``main(argv)`` returns the exit status instead of exiting, so tests and
  embedding programs can call it: 0 success, 2 usage errors (bad arguments,
  unsafe or unknown expressions, missing variables; message on stderr, as
  argparse does), 1 when the user's own function fails.
"""
import argparse
import importlib
import importlib.util
import inspect
import json
import math
import os
import sys

import numpy as np

__all__ = ["main"]


class UsageError(Exception):
    """A command-line mistake: reported on stderr with exit status 2."""



def _json(doc):
    """Strict JSON: inf and nan become the strings "inf", "-inf", "nan"
    (json.dumps would write Infinity/NaN, which strict parsers reject and
    some tools silently turn into the largest float)."""
    def clean(o):
        if isinstance(o, float) and not math.isfinite(o):
            return "nan" if o != o else ("inf" if o > 0 else "-inf")
        if isinstance(o, dict):
            return {k: clean(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [clean(v) for v in o]
        return o
    return json.dumps(clean(doc), allow_nan=False)

def _parser():
    from . import __version__
    p = argparse.ArgumentParser(
        prog="dualml",
        description="Exact derivatives and sensitivity analysis from the command line "
                    "(forward-mode automatic differentiation).",
        epilog="examples:\n"
               "  dualml diff \"sin(x)*exp(y) + x**2\" --at x=1 y=2 --hessian\n"
               "  dualml sensitivity mypackage.model:predict --at x=1,2,3 "
               "--names a,b,c --plot sens.png\n"
               "  dualml dgsm model.py:f --bounds a=0,1 b=-1,1 --samples 4096",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"dualml {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = sub.add_parser(
        "diff", help="value, gradient and Hessian of an expression",
        description="Evaluate an arithmetic expression and its exact gradient (and "
                    "Hessian). Allowed: numbers, the variables given with --at, pi, e, "
                    "+ - * / **, and dualml's functions by name (sin, exp, log, sqrt, "
                    "tanh, sigmoid, hypot, ...). Nothing else is evaluated.")
    d.add_argument("expression", help='e.g. "sin(x)*exp(y) + x**2" (quote it)')
    d.add_argument("--at", nargs="+", required=True, metavar="NAME=VALUE",
                   help="the point: one NAME=VALUE per variable (VALUE may itself be a "
                        "constant expression such as pi/4)")
    d.add_argument("--hessian", action="store_true", help="also print the Hessian")
    d.add_argument("--json", action="store_true", help="print JSON instead of text")

    s = sub.add_parser(
        "sensitivity", help="local sensitivity table of a Python function",
        description="Import FUNCTION from MODULE, call it with the keyword arguments "
                    "given by --at, and print its value, derivatives and elasticities "
                    "(x_j/f * df/dx_j), most sensitive input first.")
    s.add_argument("target", metavar="MODULE:FUNCTION",
                   help="e.g. mypackage.model:predict or path/to/model.py:predict")
    s.add_argument("--at", nargs="+", required=True, metavar="NAME=V1[,V2,...]",
                   help="the point: NAME=VALUE for a scalar parameter, NAME=V1,V2,... "
                        "for a vector (passed as a NumPy-like array)")
    s.add_argument("--names", metavar="A,B,...",
                   help="names of the inputs, in order (default: parameter[i])")
    s.add_argument("--output-names", metavar="F,G,...",
                   help="names of the outputs of a vector-valued function")
    s.add_argument("--plot", metavar="FILE.png", help="save a bar chart of the elasticities")
    s.add_argument("--kind", choices=("bar", "tornado"), default="bar",
                   help="chart style for --plot (default: bar)")
    s.add_argument("--fixed", nargs="+", default=[], metavar="NAME=VALUE",
                   help="parameters held constant (not differentiated), passed as "
                        "given: an integer stays an int (e.g. --fixed steps=500)")
    s.add_argument("--json", action="store_true", help="print JSON instead of text")

    g = sub.add_parser(
        "dgsm", help="global sensitivity (DGSM) of a Python function over uniform inputs",
        description="Import FUNCTION from MODULE and compute derivative-based global "
                    "sensitivity measures (vi = E[(df/dx_i)^2], as SALib's dgsm.analyze) "
                    "over inputs uniform on the --bounds, from exact gradients at "
                    "--samples Sobol points.")
    g.add_argument("target", metavar="MODULE:FUNCTION",
                   help="e.g. mypackage.model:predict or path/to/model.py:predict")
    g.add_argument("--bounds", nargs="+", required=True, metavar="NAME=A,B[,...]",
                   help="one scalar input per NAME: LO,HI for a uniform input, or "
                        "SALib's bounds for its --dists entry (norm: MEAN,STD; "
                        "truncnorm: LO,HI,MEAN,STD; lognorm: MEAN,STD of ln x; "
                        "triang: LO,HI,PEAK-FRACTION)")
    g.add_argument("--dists", nargs="+", default=[], metavar="NAME=DIST",
                   help="distribution of an input (SALib's keys: unif, norm, truncnorm, "
                        "lognorm, triang; default unif)")
    g.add_argument("--samples", type=int, default=1024, metavar="N",
                   help="number of sample points (default 1024)")
    g.add_argument("--seed", type=int, default=None, help="seed of the sample")
    g.add_argument("--fixed", nargs="+", default=[], metavar="NAME=VALUE",
                   help="parameters held constant, passed as given")
    g.add_argument("--json", action="store_true", help="print JSON instead of text")
    return p


def main(argv=None):
    """Run the ``dualml`` command line; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 on success, 2 for a usage error, 1 if the user's function failed.

    Examples
    --------
    >>> from dualml.__main__ import main
    >>> main(["diff", "x**2 * y", "--at", "x=3", "y=2"])
    f(x, y) = x**2 * y
    at x = 3.0, y = 2.0
    value     18.0
    gradient
      df/dx   12.0
      df/dy   9.0
    0
    """
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) > 1 and argv[0] == "diff" and argv[1].startswith("-") \
            and argv[1] not in ("-h", "--help", "--at", "--hessian", "--json"):
        # an expression such as "-x**2" would read as an option; a leading
        # space makes argparse take it as the positional (the parser strips it)
        argv[1] = " " + argv[1]
    try:
        ns = parser.parse_args(argv)
    except SystemExit as exc:           # --help, --version, argparse's usage errors
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if ns.command == "diff":
            return _diff(ns)
        if ns.command == "dgsm":
            return _dgsm(ns)
        return _sensitivity(ns)
    except UsageError as exc:
        print(f"dualml {ns.command}: error: {exc}", file=sys.stderr)
        return 2


# -- dualml diff ----------------------------------------------------------------------

def _split_assignments(items, what):
    """['x=1', 'y=2'] (or 'x=1,y=2' for scalars) -> [(name, text)]."""
    out = []
    for item in items:
        if "=" not in item:
            raise UsageError(f"--at expects NAME=VALUE, got {item!r}")
        name, _, text = item.partition("=")
        name = name.strip()
        if not name.isidentifier():
            raise UsageError(f"--at: {name!r} is not a valid {what} name")
        if any(n == name for n, _ in out):
            raise UsageError(f"--at gives {name!r} twice")
        out.append((name, text.strip()))
    return out


def _constant(text, name):
    from ._expr import Expression, ExpressionError
    try:
        v = Expression(text, [])([])
    except ExpressionError as exc:
        raise UsageError(f"--at {name}={text}: {exc}") from None
    return float(v)


def _diff(ns):
    from ._expr import Expression, ExpressionError
    from .calculus import hessian, value_and_gradient
    items = []
    for item in ns.at:
        # "x=1,y=2" is accepted as well as "x=1 y=2"
        if item.count("=") > 1 and "," in item:
            items.extend(p for p in item.split(",") if p.strip())
        else:
            items.append(item)
    assign = _split_assignments(items, "variable")
    names = [n for n, _ in assign]
    try:
        expr = Expression(ns.expression, names)
    except ExpressionError as exc:
        raise UsageError(str(exc)) from None
    unused = [n for n in names if n not in expr.used]
    if unused:
        raise UsageError(f"--at gives {', '.join(unused)}, which the expression does not "
                         f"use (check the spelling); variables in the expression: "
                         f"{', '.join(sorted(expr.used)) or 'none'}")
    point = [_constant(t, n) for n, t in assign]
    value, grad = value_and_gradient(expr, point)
    H = hessian(expr, point) if ns.hessian else None
    if ns.json:
        doc = {"expression": ns.expression, "at": dict(zip(names, point)),
               "value": float(value),
               "gradient": {n: float(g) for n, g in zip(names, np.atleast_1d(grad))}}
        if H is not None:
            doc["hessian"] = np.asarray(H, dtype=float).tolist()
        print(_json(doc))
        return 0
    w = max(len(n) for n in names) + 4
    print(f"f({', '.join(names)}) = {ns.expression}")
    print("at " + ", ".join(f"{n} = {v!r}" for n, v in zip(names, point)))
    print(f"{'value':<{w + 2}}  {float(value)!r}")
    print("gradient")
    for n, g in zip(names, np.atleast_1d(grad)):
        print(f"  {'df/d' + n:<{w}}  {float(g)!r}")
    if H is not None:
        H = np.asarray(H, dtype=float).reshape(len(names), len(names))
        cells = [[repr(float(h)) for h in row] for row in H]
        cw = max(max(len(c) for row in cells for c in row), max(len(n) for n in names))
        print("hessian")
        print(" " * (w + 2) + "  ".join(f"{n:>{cw}}" for n in names))
        for n, row in zip(names, cells):
            print(f"  {n:<{w}}" + "  ".join(f"{c:>{cw}}" for c in row))
    return 0


# -- dualml sensitivity ---------------------------------------------------------------

def _load(target):
    module, sep, attr = target.rpartition(":")
    if not sep or not module or not attr:
        raise UsageError(f"expected MODULE:FUNCTION (e.g. mypackage.model:predict), got "
                         f"{target!r}")
    try:
        if module.endswith(".py") or os.sep in module or "/" in module:
            path = os.path.abspath(module)
            if not os.path.isfile(path):
                raise UsageError(f"no such file: {module}")
            name = os.path.splitext(os.path.basename(path))[0]
            # its neighbours are importable, as when it is run as a script
            folder = os.path.dirname(path)
            if folder not in sys.path:
                sys.path.insert(0, folder)
            spec = importlib.util.spec_from_file_location(name, path)
            mod = importlib.util.module_from_spec(spec)
            sys.modules.setdefault(name, mod)
            spec.loader.exec_module(mod)
        else:
            # as `python -m` does: modules in the current directory are importable
            if "" not in sys.path and os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())
            mod = importlib.import_module(module)
    except UsageError:
        raise
    except ImportError as exc:
        raise UsageError(f"cannot import {module!r}: {exc}") from None
    obj = mod
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise UsageError(f"module {module!r} has no attribute {attr!r}") from None
    if not callable(obj):
        raise UsageError(f"{target} is a {type(obj).__name__}, not a function")
    return obj


def _numbers(text, name):
    # a comma makes a vector ("x=1," is a vector of one)
    vector = "," in text
    parts = [p for p in text.split(",") if p.strip()] if vector else [text]
    if not parts or not parts[0].strip():
        raise UsageError(f"--at {name}= needs a value")
    return [_constant(p, name) for p in parts], vector


def _fixed(items, taken):
    """--fixed NAME=VALUE ... -> {name: value}: ints stay ints, commas make lists."""
    out = {}
    for name, text in _split_assignments(items, "parameter"):
        if name in taken:
            raise UsageError(f"--fixed {name}=...: {name!r} is also given as an input; "
                             f"an input is differentiated, a --fixed parameter is not")
        parts = [p.strip() for p in text.split(",")] if "," in text else [text.strip()]
        vals = []
        for p in parts:
            if not p:
                continue
            try:
                vals.append(int(p))            # steps=500: a count, keep the int
            except ValueError:
                vals.append(_constant(p, name))
        if not vals:
            raise UsageError(f"--fixed {name}= needs a value")
        out[name] = vals if "," in text else vals[0]
    return out


def _check_signature(f, target, names):
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return
    takes_any = any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())
    for name in names:
        if not takes_any and name not in sig.parameters:
            raise UsageError(f"{name}=...: {target}{sig} has no parameter {name!r}")
    try:
        sig.bind(**{n: 0.0 for n in names})
    except TypeError as exc:
        raise UsageError(f"the parameters given must be those of {target}{sig}: "
                         f"{exc}") from None


def _label(target):
    return target.rpartition(":")[2]


def _sensitivity(ns):
    from .sensitivity import SensitivityWarning, sensitivity
    import warnings
    if ns.plot:
        # fail before any work, with the fix, not a traceback after the table
        try:
            import matplotlib as _mpl  # noqa: F401  (imported for real below)
        except ImportError:
            raise UsageError("--plot needs matplotlib, an optional dependency: "
                             "pip install 'dualml[plot]'") from None
    f = _load(ns.target)
    params = []     # (name, start, stop, vector)
    point = []
    for name, text in _split_assignments(ns.at, "parameter"):
        vals, vector = _numbers(text, name)
        params.append((name, len(point), len(point) + len(vals), vector))
        point.extend(vals)
    fixed = _fixed(ns.fixed, {p[0] for p in params})
    _check_signature(f, ns.target, [p[0] for p in params] + list(fixed))
    default = []
    for n, a, b, vec in params:
        default.extend([f"{n}[{k}]" for k in range(b - a)] if vec else [n])
    names = default
    if ns.names:
        names = [s.strip() for s in ns.names.split(",")]
        if len(names) != len(point):
            raise UsageError(f"--names has {len(names)} entries but --at gives "
                             f"{len(point)} inputs ({', '.join(default)})")
    output_names = [s.strip() for s in ns.output_names.split(",")] \
        if ns.output_names else None

    def g(x):
        kwargs = {n: (x[a:b] if vec else x[a]) for n, a, b, vec in params}
        return f(**kwargs, **fixed)

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", SensitivityWarning)
            res = sensitivity(g, np.array(point), names=names, output_names=output_names)
    except ValueError as exc:
        if "output_names" in str(exc):
            raise UsageError(f"--output-names: {exc}") from None
        return _user_error(ns.target, exc)
    except Exception as exc:     # the user's function failed: say so, status 1
        return _user_error(ns.target, exc)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    res.name = _label(ns.target)
    if ns.json:
        doc = {"function": ns.target, "names": res.names, "x": res.x.tolist(),
               "fixed": fixed,
               "value": np.asarray(res.value).tolist(),
               "output_names": res.output_names,
               "jacobian": res.jacobian.tolist(), "elasticity": res.elasticity.tolist(),
               "ranking": res.ranking.tolist()}
        print(_json(doc))
    else:
        print(res)
    if ns.plot:
        import matplotlib
        matplotlib.use("Agg")       # a file, never a window: works headless
        import matplotlib.pyplot as plt
        m = len(res.output_names or [None])
        tall = 0.4 * len(res.names) + 1.5 if ns.kind == "tornado" else 3.5
        fig, axes = plt.subplots(m, 1, figsize=(6.4, tall * m), squeeze=False)
        for k, ax in enumerate(axes[:, 0]):     # one panel per output
            res.plot(ax=ax, kind=ns.kind, output=k)
            ax.set_title(res.name if res.output_names is None
                         else f"{res.name}: {res.output_names[k]}")
        fig.tight_layout()
        try:
            fig.savefig(ns.plot, dpi=120)
        except (OSError, ValueError) as exc:
            raise UsageError(f"--plot: cannot save {ns.plot!r}: {exc}") from None
        finally:
            plt.close(fig)
        if not ns.json:
            print(f"plot saved to {ns.plot}")
    return 0


def _dgsm(ns):
    from .sensitivity import dgsm
    f = _load(ns.target)
    dists = {}
    for name, text in _split_assignments(ns.dists, "input"):
        dists[name] = text.strip().lower()
    bounds = []
    for name, text in _split_assignments(ns.bounds, "input"):
        vals, _ = _numbers(text, name)
        if dists.get(name, "unif") == "unif" and (len(vals) != 2 or not vals[0] < vals[1]):
            raise UsageError(f"--bounds {name}={text}: give LO,HI with LO < HI")
        bounds.append((name, vals))
    unknown = set(dists) - {n for n, _ in bounds}
    if unknown:
        raise UsageError(f"--dists names {', '.join(sorted(unknown))}, which --bounds does "
                         f"not give")
    if ns.samples < 2:
        raise UsageError(f"--samples must be at least 2, got {ns.samples}")
    names = [n for n, _ in bounds]
    fixed = _fixed(ns.fixed, set(names))
    _check_signature(f, ns.target, names + list(fixed))
    problem = {"num_vars": len(names), "names": names, "bounds": [b for _, b in bounds],
               "dists": [dists.get(n, "unif") for n in names]}

    def g(x):
        return f(**{n: x[j] for j, n in enumerate(names)}, **fixed)

    try:
        res = dgsm(g, problem, ns.samples, seed=ns.seed, vectorized=False)
    except ValueError as exc:
        if "problem[" in str(exc):   # bounds/dists the library refuses: a usage error
            raise UsageError(str(exc).replace("dgsm(): ", "")) from None
        return _user_error(ns.target, exc, "dgsm")
    except Exception as exc:     # the user's function failed: say so, status 1
        return _user_error(ns.target, exc, "dgsm")
    if ns.json:
        doc = {"function": ns.target, "names": names, "fixed": fixed,
               "dists": problem["dists"],
               "n_samples": res.n_samples, "variance": float(res.variance),
               **{k: np.asarray(res[k]).tolist() for k in res._KEYS}}
        print(_json(doc))
    else:
        print(f"{_label(ns.target)}: " + str(res))
    return 0


def _user_error(target, exc, command="sensitivity"):
    print(f"dualml {command}: error: {target} failed: {type(exc).__name__}: {exc}",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
