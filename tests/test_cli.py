"""The dualml command line: diff, sensitivity, the safe expression parser.

Expected numbers are analytic (written out by hand below); every refused
expression is checked to be refused before anything runs.
"""
import json
import math
import os
import subprocess
import sys
import textwrap

import pytest

import dualml
from dualml.__main__ import main
from dualml._expr import Expression, ExpressionError


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def numbers_after(out, label):
    """The float printed after `label` on its line."""
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == label:
            return float(parts[1])
    raise AssertionError(f"{label!r} not in output:\n{out}")


# -- dualml diff ------------------------------------------------------------------------

def test_diff_value_gradient_hessian(capsys):
    code, out, err = run(capsys, "diff", "sin(x)*exp(y) + x**2", "--at", "x=1", "y=2",
                         "--hessian")
    assert code == 0 and err == ""
    s, c, e2 = math.sin(1.0), math.cos(1.0), math.exp(2.0)
    assert numbers_after(out, "value") == pytest.approx(s * e2 + 1.0, rel=1e-15)
    assert numbers_after(out, "df/dx") == pytest.approx(c * e2 + 2.0, rel=1e-15)
    assert numbers_after(out, "df/dy") == pytest.approx(s * e2, rel=1e-15)
    rows = out.split("hessian")[1].strip().splitlines()[1:]
    H = [[float(t) for t in row.split()[1:]] for row in rows]
    ref = [[-s * e2 + 2.0, c * e2], [c * e2, s * e2]]
    for r, q in zip(H, ref):
        assert r == pytest.approx(q, rel=1e-15)


@pytest.mark.parametrize("order", [("x=2", "y=0"), ("y=0", "x=2")])
def test_diff_hessian_of_power_at_zero_exponent_whatever_the_order(capsys, order):
    # d2/dxdy x**y at y = 0 is 1/x; the CLI printed 0 or 0.5 by --at order
    code, out, _ = run(capsys, "diff", "x**y", "--at", *order, "--hessian", "--json")
    assert code == 0
    doc = json.loads(out)
    names = list(doc["at"])                      # rows and columns in --at order
    H = {(names[i], names[j]): v for i, row in enumerate(doc["hessian"])
         for j, v in enumerate(row)}
    assert H["x", "y"] == H["y", "x"] == 0.5
    assert H["x", "x"] == 0.0
    assert H["y", "y"] == pytest.approx(math.log(2.0) ** 2, rel=4e-16)


def test_diff_json_and_constant_values(capsys):
    code, out, _ = run(capsys, "diff", "hypot(x, y) + leaky_relu(x, alpha=0.5) + pi*0",
                       "--at", "x=-3,y=2**2", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["at"] == {"x": -3.0, "y": 4.0}
    assert doc["value"] == pytest.approx(5.0 - 1.5, rel=1e-15)
    assert doc["gradient"]["x"] == pytest.approx(-3.0 / 5.0 + 0.5, rel=1e-15)
    assert doc["gradient"]["y"] == pytest.approx(4.0 / 5.0, rel=1e-15)
    assert "hessian" not in doc


def test_diff_expression_starting_with_minus(capsys):
    code, out, err = run(capsys, "diff", "-x**2", "--at", "x=3")
    assert code == 0, err
    assert numbers_after(out, "value") == -9.0 and numbers_after(out, "df/dx") == -6.0


def test_diff_huge_power_is_inf_not_a_hang(capsys):
    # numbers are floats: 9.0**9.0**9.0 overflows at once instead of building
    # a Python integer with 370 million digits
    code, out, _ = run(capsys, "diff", "9**9**9 * x", "--at", "x=1", "--json")
    assert code == 0
    assert json.loads(out)["value"] == "inf"


def test_json_output_is_strict_json_for_inf_and_nan(capsys):
    # Infinity/NaN literals are not JSON: strict parsers reject them and
    # some tools turn them into the largest float
    code, out, _ = run(capsys, "diff", "1/x + 0*log(x - 1)", "--at", "x=0", "--json")
    assert code == 0
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert doc["value"] == "nan" and doc["gradient"]["x"] == "nan"
    code, out, _ = run(capsys, "diff", "1/x", "--at", "x=0", "--json")
    doc = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c}"))
    assert doc == {"expression": "1/x", "at": {"x": 0.0}, "value": "inf",
                   "gradient": {"x": "-inf"}}


def test_python_m_dualml_subprocess(tmp_path):
    # import the dualml under test (installed or built in place), from elsewhere
    root = os.path.dirname(os.path.dirname(os.path.abspath(dualml.__file__)))
    env = dict(os.environ, PYTHONPATH=root)
    proc = subprocess.run([sys.executable, "-m", "dualml", "diff", "x*y**2", "--at",
                           "x=3", "y=2"], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert numbers_after(proc.stdout, "value") == 12.0
    assert numbers_after(proc.stdout, "df/dx") == 4.0
    assert numbers_after(proc.stdout, "df/dy") == 12.0
    bad = subprocess.run([sys.executable, "-m", "dualml", "diff", "x+q", "--at", "x=1"],
                         capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert bad.returncode == 2 and "unknown name 'q'" in bad.stderr and bad.stdout == ""


def test_help_and_version(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0 and "diff" in out and "sensitivity" in out
    code, out, _ = run(capsys, "diff", "--help")
    assert code == 0 and "--hessian" in out
    code, out, _ = run(capsys, "--version")
    assert code == 0 and dualml.__version__ in out


ATTACKS = [
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w')",
    "x.__class__.__bases__",
    "().__class__",
    "x[0]",
    "(lambda: 1)()",
    "[x for x in (1, 2)]",
    "{{x: 1}}",
    "'abc'",
    "x if x else 1",
    "x < 1",
    "x and 1",
    "sin(*(x,))",
    "sin(**{{'x': 1}})",
    "exec('1')",
    "eval('1')",
    "getattr(x, 'real')",
    "globals()",
    "sin(x, foo=1)",
    "leaky_relu(x, alpha=1, beta=2)",
    "x % 2",
    "x // 2",
    "x @ x",
    "(y := 2)",
    "True + x",
    "1j * x",
    "sin",
    "x; import os",
    "1" * 5000,
    "-" * 500 + "x",
]


@pytest.mark.parametrize("expr", ATTACKS)
def test_parser_attacks_are_refused_before_running(capsys, tmp_path, expr):
    marker = tmp_path / "pwned"
    code, out, err = run(capsys, "diff", expr.format(marker=marker), "--at", "x=1")
    assert code == 2 and out == ""
    assert err.startswith("dualml diff: error: ") and len(err) > 30
    assert not marker.exists()


def test_expression_object_directly():
    ex = Expression("x**2 + 3*y - e", ["x", "y"])
    assert ex([2.0, 1.0]) == pytest.approx(7.0 - math.e, rel=1e-15)
    assert ex.used == {"x", "y"}
    assert dualml.gradient(ex, [2.0, 1.0]).tolist() == [4.0, 3.0]
    for bad_vars in (["x", "x"], ["pi"], ["sin"], ["1x"]):
        with pytest.raises(ExpressionError):
            Expression("1", bad_vars)
    with pytest.raises(ExpressionError, match="characters"):
        Expression("x+" * 6000 + "x", ["x"])
    with pytest.raises(ExpressionError, match="string"):
        Expression(42, ["x"])


@pytest.mark.parametrize("argv, match", [
    (["diff", "x+y", "--at", "x=1"], "unknown name 'y'"),
    (["diff", "x+1", "--at", "x=1", "zz=2"], "zz, which the expression does not use"),
    (["diff", "x+1", "--at", "x"], "NAME=VALUE"),
    (["diff", "x+1", "--at", "x=1", "x=2"], "twice"),
    (["diff", "x+1", "--at", "x=abc"], "unknown name 'abc'"),
    (["diff", "x+1", "--at", "x=__import__('os')"], "unknown function '__import__'"),
    (["diff", "x+1", "--at", "2x=1"], "not a valid"),
    (["diff", "pi*x", "--at", "x=1", "pi=3"], "constant"),
    # a parameter is a constant of the function: refused, not a traceback
    (["diff", "leaky_relu(x, alpha=y)", "--at", "x=1", "y=2"],
     "leaky_relu(): alpha must be a constant"),
    (["diff", "elu(x, 2*y)", "--at", "x=1", "y=2"], "elu(): alpha must be a constant"),
    (["diff", "x+1"], "--at"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_usage_errors_exit_2(capsys, argv, match):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == ""
    assert match in err


def test_long_flat_chains_are_not_nesting(capsys):
    # a flat sum of 201 terms was refused as "nests deeper than 200 levels";
    # a chain is evaluated by a loop, left to right, as Python does
    n = 500                                            # within the 10,000 characters
    expr = " + ".join(f"{0.1 * k!r}*x" for k in range(1, n))
    code, out, err = run(capsys, "diff", expr, "--at", "x=1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    ref = 0.1 * 1 * 1.0
    for k in range(2, n):
        ref = ref + (0.1 * k) * 1.0                  # Python's order of additions
    assert doc["value"] == ref
    assert doc["gradient"]["x"] == pytest.approx(sum(0.1 * k for k in range(1, n)), rel=1e-13)
    assert Expression("x - 2 / x * 3 + x ** 2", ["x"])([1.5]) == 1.5 - 2 / 1.5 * 3 + 1.5 ** 2
    # real nesting is still bounded
    with pytest.raises(ExpressionError, match="nests deeper|nested parentheses"):
        Expression("sin(" * 250 + "x" + ")" * 250, ["x"])


# -- dualml sensitivity --------------------------------------------------------------------

MODEL = textwrap.dedent("""
    import numpy as np

    def cobb(x, A=2.0):
        return A * x[0] ** 0.3 * x[1] ** 0.7

    def two(x, y):
        return [x[0] * y, x[1] + y]

    def boom(x):
        raise RuntimeError("kaput")

    not_callable = 3
""")


@pytest.fixture
def model_dir(tmp_path, monkeypatch):
    (tmp_path / "cli_model_mod.py").write_text(MODEL)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "cli_model_mod", raising=False)
    monkeypatch.setattr(sys, "path", list(sys.path))
    yield tmp_path
    sys.modules.pop("cli_model_mod", None)


def test_sensitivity_table_and_plot(capsys, model_dir):
    import matplotlib  # noqa: F401  (the test extra provides it)
    png = model_dir / "sens.png"
    code, out, err = run(capsys, "sensitivity", "cli_model_mod:cobb", "--at", "x=4,9",
                         "--names", "K,L", "--plot", str(png))
    assert code == 0, err
    lines = out.splitlines()
    k = next(i for i, line in enumerate(lines) if line.split()[:1] == ["1"])
    assert lines[k].split()[1] == "L" and float(lines[k].split()[-1]) == 0.7
    assert lines[k + 1].split()[1] == "K" and float(lines[k + 1].split()[-1]) == 0.3
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Sensitivity of cobb = " in out          # the function's name, not "f"


def test_sensitivity_file_target_vector_and_scalar_params(capsys, model_dir):
    code, out, err = run(capsys, "sensitivity", str(model_dir / "cli_model_mod.py") + ":two",
                         "--at", "x=1,2", "y=3", "--output-names", "p,q", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["names"] == ["x[0]", "x[1]", "y"]
    assert doc["value"] == [3.0, 5.0]
    assert doc["jacobian"] == [[3.0, 0.0, 1.0], [0.0, 1.0, 1.0]]
    assert doc["elasticity"] == [[1.0, 0.0, 1.0], [0.0, 0.4, 0.6]]


def test_sensitivity_fixed_parameters_and_neighbour_imports(capsys, tmp_path, monkeypatch):
    sub = tmp_path / "models"
    sub.mkdir()
    (sub / "cli_helper_mod.py").write_text("SCALE = 3.0\n")
    (sub / "cli_main_mod.py").write_text(textwrap.dedent("""
        from cli_helper_mod import SCALE

        def euler(k, y0, steps):
            # y' = -k y by `steps` explicit Euler steps to t = 1 (steps: an int)
            y = y0
            for _ in range(steps):
                y = y - k * y / steps
            return SCALE * y
    """))
    monkeypatch.setattr(sys, "path", list(sys.path))
    for m in ("cli_helper_mod", "cli_main_mod"):
        monkeypatch.delitem(sys.modules, m, raising=False)
    code, out, err = run(capsys, "sensitivity", str(sub / "cli_main_mod.py") + ":euler",
                         "--at", "k=0.5", "y0=2", "--fixed", "steps=4", "--json")
    assert code == 0, err
    doc = json.loads(out)
    # closed form: 3 y0 (1 - k/4)^4, d/dk = -3 y0 (1 - k/4)^3, d/dy0 = 3 (1 - k/4)^4
    assert doc["names"] == ["k", "y0"] and doc["fixed"] == {"steps": 4}
    assert doc["value"] == pytest.approx(6 * 0.875 ** 4, rel=1e-15)
    assert doc["jacobian"] == pytest.approx([-6 * 0.875 ** 3, 3 * 0.875 ** 4], rel=1e-15)
    code, out, err = run(capsys, "sensitivity", str(sub / "cli_main_mod.py") + ":euler",
                         "--at", "k=0.5", "y0=2", "--fixed", "k=4")
    assert code == 2 and "also given as an input" in err


@pytest.mark.parametrize("argv, code, match", [
    (["cli_model_mod:two", "--at", "x=1,2", "z=3"], 2, "no parameter 'z'"),
    (["cli_model_mod:two", "--at", "x=1,2", "--fixed", "z=3"], 2, "has no parameter 'z'"),
    (["cli_model_mod:two", "--at", "x=1,2"], 2, "missing a required argument: 'y'"),
    (["cli_model_mod:cobb", "--at", "x=1,2", "--names", "a"], 2, "--names has 1"),
    (["cli_model_mod:cobb", "--at", "x=1,2", "--output-names", "u,v"], 2, "output_names"),
    (["cli_model_mod:nope", "--at", "x=1"], 2, "no attribute 'nope'"),
    (["cli_model_mod:not_callable", "--at", "x=1"], 2, "not a function"),
    (["no_such_module_xyz:f", "--at", "x=1"], 2, "cannot import"),
    (["cli_model_mod", "--at", "x=1"], 2, "MODULE:FUNCTION"),
    (["missing_file.py:f", "--at", "x=1"], 2, "no such file"),
    (["cli_model_mod:cobb", "--at", "x="], 2, "needs a value"),
    (["cli_model_mod:cobb", "--at", "x=1,os"], 2, "unknown name 'os'"),
    (["cli_model_mod:boom", "--at", "x=1,2"], 1, "RuntimeError: kaput"),
])
def test_sensitivity_errors(capsys, model_dir, argv, code, match):
    got, out, err = run(capsys, "sensitivity", *argv)
    assert got == code and match in err and out == ""


def test_plot_without_matplotlib_is_a_usage_error(capsys, monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    code, out, err = run(capsys, "sensitivity", "math:hypot", "--at", "x=1", "y=2",
                         "--plot", "never.png")
    assert code == 2 and out == ""
    assert "dualml[plot]" in err


def test_at_accepts_inf_and_nan(capsys):
    code, out, _ = run(capsys, "diff", "x*y", "--at", "x=nan", "y=inf", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["value"] == "nan" and doc["gradient"] == {"x": "inf", "y": "nan"}


# -- --fixed, neighbouring imports, names, dgsm -------------------------------------------

@pytest.fixture
def compound_dir(tmp_path):
    (tmp_path / "helper.py").write_text("def growth(r):\n    return 1.0 + r\n")
    (tmp_path / "compound.py").write_text(textwrap.dedent("""\
        from helper import growth          # a neighbouring module
        def compound(r, x0, steps=1):
            x = x0
            for _ in range(steps):         # steps must stay an int
                x = x * growth(r)
            return x
        def linear(a, b, scale=1.0):
            return scale * (3.0 * a - 2.0 * b)
        """))
    return tmp_path


def test_sensitivity_fixed_parameter_and_neighbour_import(capsys, compound_dir):
    target = f"{compound_dir / 'compound.py'}:compound"
    code, out, err = run(capsys, "sensitivity", target, "--at", "r=0.05", "x0=100",
                         "--fixed", "steps=10", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["fixed"] == {"steps": 10}
    # f = x0 (1 + r)^10: df/dr = 10 x0 (1 + r)^9, df/dx0 = (1 + r)^10 (closed form)
    assert doc["jacobian"] == pytest.approx([10 * 100 * 1.05 ** 9, 1.05 ** 10], rel=1e-14)
    code, out, _ = run(capsys, "sensitivity", target, "--at", "r=0.05", "x0=100",
                       "--fixed", "steps=10")
    assert out.startswith("Sensitivity of compound = ")      # the function's name


def test_fixed_errors(capsys, compound_dir):
    target = f"{compound_dir / 'compound.py'}:compound"
    code, _, err = run(capsys, "sensitivity", target, "--at", "r=0.05", "x0=1",
                       "--fixed", "r=2")
    assert code == 2 and "also given as an input" in err
    code, _, err = run(capsys, "sensitivity", target, "--at", "r=0.05", "x0=1",
                       "--fixed", "nsteps=2")
    assert code == 2 and "no parameter 'nsteps'" in err


def test_dgsm_command_against_closed_form(capsys, compound_dir):
    # f = s (3a - 2b): vi = E[(df/dx_i)^2] = (3 s)^2 and (2 s)^2 exactly
    target = f"{compound_dir / 'compound.py'}:linear"
    code, out, err = run(capsys, "dgsm", target, "--bounds", "a=0,1", "b=-1,1",
                         "--fixed", "scale=2", "--samples", "64", "--seed", "3", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["names"] == ["a", "b"] and doc["n_samples"] == 64
    assert doc["vi"] == pytest.approx([36.0, 16.0], rel=1e-14)
    code, out, _ = run(capsys, "dgsm", target, "--bounds", "a=0,1", "b=-1,1",
                       "--samples", "64")
    assert out.startswith("linear: DGSM over 64 points")


@pytest.mark.parametrize("bad, message", [
    (["--bounds", "a=1,0", "b=0,1"], "LO < HI"),
    (["--bounds", "a=0", "b=0,1"], "LO,HI"),
    (["--bounds", "a=0,1", "b=0,1", "--samples", "1"], "at least 2"),
    (["--bounds", "a=0,1", "c=0,1"], "no parameter 'c'"),
])
def test_dgsm_command_usage_errors(capsys, compound_dir, bad, message):
    code, _, err = run(capsys, "dgsm", f"{compound_dir / 'compound.py'}:linear", *bad)
    assert code == 2 and message in err, err


def test_dgsm_command_with_dists(capsys, compound_dir):
    # f = 3a - 2b: vi = 9 and 4 whatever the distributions; with b ~ N(0, 2)
    # and a ~ U[0, 1], Var f = 9/12 + 4*4, and dgsm_b = std^2 vi_b / Var f
    target = f"{compound_dir / 'compound.py'}:linear"
    code, out, err = run(capsys, "dgsm", target, "--bounds", "a=0,1", "b=0,2",
                         "--dists", "b=norm", "--samples", "128", "--seed", "1", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["dists"] == ["unif", "norm"]
    assert doc["vi"] == pytest.approx([9.0, 4.0], rel=1e-14)
    assert doc["dgsm"][1] == pytest.approx(4.0 * 4.0 / doc["variance"], rel=1e-12)
    code, _, err = run(capsys, "dgsm", target, "--bounds", "a=0,1", "b=3",
                       "--dists", "b=norm")
    assert code == 2 and "[mean, std]" in err
    code, _, err = run(capsys, "dgsm", target, "--bounds", "a=0,1", "b=0,1",
                       "--dists", "c=norm")
    assert code == 2 and "--dists names c" in err
