"""Every example in examples/ runs at a small size and gives right results."""
import importlib.util
import math
import pathlib

import numpy as np
import pytest

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_logistic_regression(capsys):
    r = load("logistic_regression").main(n=60, steps=40)
    assert r["grad_error"] < 1e-13            # dualml against the closed-form gradient
    assert r["loss"] < math.log(2.0)          # below the loss of the zero model
    assert r["accuracy"] > 0.6
    assert "training accuracy" in capsys.readouterr().out


def test_mlp_backprop_agrees_with_dualml():
    r = load("mlp_backprop").main(n=16, steps=8)
    assert r["max_rel_diff"] < 1e-12
    assert np.isfinite(r["loss"])


def test_svm_hinge():
    r = load("svm_hinge").main(n=40, steps=30)
    assert r["accuracy"] >= 0.85


def test_gaussian_mle_matches_closed_form():
    r = load("gaussian_mle").main(n=50, steps=40)
    assert r["mu"] == pytest.approx(r["mean"], rel=1e-12)
    assert r["sigma"] == pytest.approx(r["std"], rel=1e-12)


def test_adam_reduces_the_loss():
    r = load("adam").main(n=20, steps=60)
    assert r["loss"] < 0.2 * r["history"][0]


def test_feature_sensitivity_matches_analytic():
    r = load("feature_sensitivity").main(n=2)
    assert r["max_error"] < 1e-14
    assert r["sensitivities"].shape == (2, 5)


def test_bratu_newton_with_sparse_jacobian():
    r = load("bratu").main(n=200, verbose=False)
    assert r["ncolors"] == 3
    assert r["steps"] <= 6                    # Newton: quadratic convergence
    assert r["residual"] < 1e-8
    assert r["error"] < 1e-5                  # O(h^2) from the closed form


@pytest.mark.parametrize("name", ["adam", "logistic_regression"])
def test_convergence_plots(name):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    mod = load(name)
    r = mod.main(**({"steps": 20} if name == "adam" else {"n": 60, "steps": 20}))
    fig = mod.plot(r["history"])
    assert len(fig.axes) >= 1 and len(fig.axes[0].lines) == 1
    assert np.allclose(fig.axes[0].lines[0].get_ydata()[:3],
                       [h if np.ndim(h) == 0 else h[0] for h in r["history"][:3]])
    plt.close(fig)


def test_sir_ode_sensitivity_matches_finite_differences(capsys):
    r = load("sir_ode_sensitivity").main(n=8)
    assert r["local_error"] < 1e-7           # against Richardson differences of SciPy
    assert r["sensitivities"].shape == (10, 2)
    assert np.all(np.isfinite(r["dgsm"]["vi"])) and np.all(r["dgsm"]["vi"] > 0)
    assert "di/dbeta" in capsys.readouterr().out
