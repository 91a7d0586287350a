"""dualml.sensitivity: local sensitivities, elasticities, rankings, batches.

References are analytic: Cobb-Douglas elasticities are its exponents, a
product's elasticities are 1, and the test models carry hand-derived
Jacobians (tests/sensitivity_models.py, module level so that process pools
and dask workers can unpickle them).
"""
import concurrent.futures
import io
import sys
import warnings

import numpy as np
import pytest

import dualml
from dualml import SensitivityWarning
import sensitivity_models as M


def cobb_douglas(x, A=2.5, a=0.3, b=0.6):
    return A * x[0] ** a * x[1] ** b


# -- one point ----------------------------------------------------------------------

def test_cobb_douglas_elasticities_are_the_exponents():
    res = dualml.sensitivity(cobb_douglas, [4.0, 9.0], names=["K", "L"])
    np.testing.assert_allclose(res.elasticity, [0.3, 0.6], rtol=1e-14)
    y = 2.5 * 4.0 ** 0.3 * 9.0 ** 0.6
    assert res.value == pytest.approx(y, rel=1e-15)
    np.testing.assert_allclose(res.jacobian, [0.3 * y / 4.0, 0.6 * y / 9.0], rtol=1e-14)
    assert res.ranking.tolist() == [1, 0]
    assert res.names == ["K", "L"] and res.output_names is None
    assert not res.is_batch and res.n_points == 1


def test_elasticity_is_invariant_to_units():
    # the point of elasticities: rescaling an input (km -> m) changes the
    # derivative by 1000 but not the elasticity
    f = lambda x: x[0] ** 2 * dualml.exp(x[1])   # noqa: E731
    r1 = dualml.sensitivity(f, [3.0, 0.5])
    r2 = dualml.sensitivity(lambda x: f([x[0] / 1000.0, x[1]]), [3000.0, 0.5])
    np.testing.assert_allclose(r1.elasticity, [2.0, 0.5], rtol=1e-14)
    np.testing.assert_allclose(r2.elasticity, r1.elasticity, rtol=1e-14)
    np.testing.assert_allclose(r2.jacobian[0], r1.jacobian[0] / 1000.0, rtol=1e-14)


def test_vector_output_elasticities_and_ranking():
    f = lambda x: [x[0] * x[1], x[0] / x[1] ** 3, x[1] ** 2]   # noqa: E731
    res = dualml.sensitivity(f, [2.0, 5.0], output_names=["prod", "ratio", "sq"])
    np.testing.assert_allclose(res.elasticity, [[1, 1], [1, -3], [0, 2]], rtol=1e-14)
    np.testing.assert_allclose(res.value, [10.0, 2.0 / 125.0, 25.0], rtol=1e-15)
    assert res.jacobian.shape == (3, 2)
    assert res.ranking.tolist() == [[0, 1], [1, 0], [1, 0]]   # ties keep input order
    assert res.output_names == ["prod", "ratio", "sq"]


def test_zero_input_gives_zero_elasticity_even_with_infinite_derivative():
    # d sqrt(x0)/dx0 = inf at x0 = 0, but a relative change of 0 is no change
    res = dualml.sensitivity(lambda x: dualml.sqrt(x[0]) + 3.0 * x[1], [0.0, 2.0])
    assert np.isinf(res.jacobian[0])
    assert res.elasticity[0] == 0.0 and not np.signbit(res.elasticity[0])
    assert res.elasticity[1] == pytest.approx(1.0, rel=1e-15)
    assert res.ranking.tolist() == [1, 0]


def test_negative_zero_never_appears():
    res = dualml.sensitivity(lambda x: [x[0] - x[1]], [0.0, 2.0])
    assert not np.signbit(res.elasticity[0, 0])


def test_zero_output_uses_log_sensitivity_and_warns():
    f = lambda x: x[0] ** 2 - 3.0 * x[1]   # noqa: E731   f(3, 3) = 0
    with pytest.warns(SensitivityWarning, match="exactly 0"):
        res = dualml.sensitivity(f, [3.0, 3.0])
    assert res.value == 0.0 and res.zero_output
    # x_j * df/dx_j = [3 * 6, 3 * (-3)]
    np.testing.assert_allclose(res.elasticity, [18.0, -9.0], rtol=1e-15)
    assert np.isfinite(res.elasticity).all()
    # the ranking and signs are those of the elasticity just beside the zero
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        near = dualml.sensitivity(f, [3.0 + 1e-7, 3.0])
    assert near.ranking.tolist() == res.ranking.tolist() == [0, 1]
    assert (np.sign(near.elasticity) == np.sign(res.elasticity)).all()
    assert "is 0" in str(res)


def test_zero_output_flagged_per_output():
    with pytest.warns(SensitivityWarning):
        res = dualml.sensitivity(lambda x: [x[0] - x[1], x[0] * x[1]], [2.0, 2.0])
    assert res.zero_output.tolist() == [True, False]
    np.testing.assert_allclose(res.elasticity, [[2.0, -2.0], [1.0, 1.0]], rtol=1e-15)


def test_nan_ranks_last_and_ties_keep_input_order():
    from dualml.sensitivity import _rank
    assert _rank(np.array([np.nan, 1.0, -3.0, 1.0])).tolist() == [2, 1, 3, 0]
    # a NaN output gives NaN elasticities, passed through rather than hidden
    res = dualml.sensitivity(lambda x: dualml.sqrt(x[0] - 1.0) + x[1], [0.5, 1.0])
    assert np.isnan(res.value) and np.isnan(res.elasticity).all()


def test_str_table_lists_inputs_by_rank():
    res = dualml.sensitivity(cobb_douglas, [4.0, 9.0], names=["capital", "labour"])
    text = str(res)
    assert text.index("labour") < text.index("capital")
    assert "elasticity" in text and "0.6" in text and "0.3" in text
    assert "SensitivityResult" in repr(res)


def test_to_dataframe():
    import pandas as pd
    res = dualml.sensitivity(lambda x: [x[0] * x[1], x[1]], [2.0, 3.0],
                             names=["a", "b"], output_names=["p", "q"])
    df = res.to_dataframe()
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == ["output", "input", "x", "value", "derivative",
                                "elasticity", "rank"]
    assert df[["output", "input"]].values.tolist() == [["p", "a"], ["p", "b"],
                                                        ["q", "a"], ["q", "b"]]
    np.testing.assert_allclose(df["derivative"], [3.0, 2.0, 0.0, 1.0])
    np.testing.assert_allclose(df["elasticity"], [1.0, 1.0, 0.0, 1.0])
    assert df["rank"].tolist() == [1, 2, 2, 1]


def test_missing_optional_dependencies_name_the_extra(monkeypatch):
    res = dualml.sensitivity(cobb_douglas, [4.0, 9.0])
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"dualml\[sensitivity\]"):
        res.to_dataframe()
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"dualml\[sensitivity\]"):
        res.plot()


@pytest.mark.parametrize("kind", ["bar", "tornado"])
def test_plot_renders_png_with_signed_sorted_bars(kind):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    f = lambda x: x[0] ** 0.5 / x[1] ** 2 * x[2] ** 1.0   # noqa: E731  (0.5, -2, 1)
    res = dualml.sensitivity(f, [1.0, 2.0, 3.0], names=["a", "b", "c"])
    ax = res.plot(kind=kind)
    bars = [p.get_height() if kind == "bar" else p.get_width() for p in ax.patches]
    np.testing.assert_allclose(bars, [-2.0, 1.0, 0.5], rtol=1e-14)
    labels = [t.get_text() for t in (ax.get_xticklabels() if kind == "bar"
                                     else ax.get_yticklabels())]
    assert labels == ["b", "c", "a"]
    if kind == "tornado":       # most sensitive on top
        ys = [p.get_y() for p in ax.patches]
        assert ys == sorted(ys, reverse=True)
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
    plt.close(ax.figure)


def test_plot_bad_arguments():
    res = dualml.sensitivity(lambda x: [x[0], x[1]], [1.0, 2.0], output_names=["u", "v"])
    import matplotlib  # noqa: F401  (the test extra provides it)
    with pytest.raises(ValueError, match="kind"):
        res.plot(kind="pie")
    with pytest.raises(ValueError, match="measure"):
        res.plot(measure="variance")
    with pytest.raises(ValueError, match="output"):
        res.plot(output="w")
    with pytest.raises(ValueError, match="output"):
        res.plot(output=5)


# -- batches ---------------------------------------------------------------------------

@pytest.fixture
def points():
    return np.random.default_rng(42).uniform(0.5, 2.0, size=(37, 3))


def test_batch_vectorized_matches_analytic_and_loop(points):
    v1, J1 = dualml.batch_value_and_jacobian(M.two_outputs, points, vectorized=True)
    v2, J2 = dualml.batch_value_and_jacobian(M.two_outputs_point, points, vectorized=False)
    assert v1.shape == (37, 2) and J1.shape == (37, 2, 3)
    np.testing.assert_allclose(J1, M.two_outputs_jacobian(points), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(v1, M.two_outputs(points), rtol=1e-15)
    np.testing.assert_allclose(J2, J1, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(v2, v1, rtol=1e-15)
    assert np.array_equal(dualml.batch_jacobian(M.two_outputs, points, vectorized=True), J1)


def test_batch_scalar_output_shapes(points):
    v, J = dualml.batch_value_and_jacobian(M.ishigami, points, vectorized=True)
    assert v.shape == (37,) and J.shape == (37, 3)
    a, b = M.ISHIGAMI_A, M.ISHIGAMI_B
    x1, x2, x3 = points.T
    ref = np.stack([np.cos(x1) * (1 + b * x3 ** 4), 2 * a * np.sin(x2) * np.cos(x2),
                    4 * b * x3 ** 3 * np.sin(x1)], axis=1)
    np.testing.assert_allclose(J, ref, rtol=1e-13, atol=1e-14)


def test_batch_sensitivity_equals_pointwise(points):
    res = dualml.sensitivity(M.two_outputs, points, vectorized=True,
                             names=["a", "b", "c"], output_names=["u", "v"])
    assert res.is_batch and len(res) == 37
    assert res.elasticity.shape == (37, 2, 3)
    for k in (0, 17, 36):
        one = dualml.sensitivity(M.two_outputs_point, points[k])
        np.testing.assert_allclose(res.jacobian[k], one.jacobian, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(res.elasticity[k], one.elasticity, rtol=1e-13,
                                   atol=1e-15)
        assert res[k].ranking.tolist() == one.ranking.tolist()
    # batch ranking: by mean |elasticity| over the points
    mean_abs = np.abs(res.elasticity).mean(axis=0)
    assert res.ranking.tolist() == np.argsort(-mean_abs, axis=-1, kind="stable").tolist()
    text = str(res)
    assert "over 37 points" in text and "mean" in text


def test_batch_dataframe_and_plot(points):
    import pandas  # noqa: F401  (the test extra provides it)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    res = dualml.sensitivity(M.ishigami, points[:5], vectorized=True)
    df = res.to_dataframe()
    assert len(df) == 15 and df["point"].tolist() == sorted(list(range(5)) * 3)
    np.testing.assert_allclose(df["elasticity"], res.elasticity.ravel())
    ax = res.plot(kind="tornado")
    widths = sorted((p.get_width() for p in ax.patches), key=abs, reverse=True)
    np.testing.assert_allclose(sorted(np.abs(widths)), sorted(np.abs(
        res.elasticity.mean(axis=0))), rtol=1e-14)
    plt.close(ax.figure)


@pytest.mark.parametrize("vectorized", [True, False])
def test_chunking_does_not_change_results(points, vectorized):
    f = M.two_outputs if vectorized else M.two_outputs_point
    ref = dualml.batch_value_and_jacobian(f, points, vectorized=vectorized)
    for chunksize in (1, 5, 36, 1000):
        out = dualml.batch_value_and_jacobian(f, points, vectorized=vectorized,
                                              chunksize=chunksize)
        assert np.array_equal(out[0], ref[0]) and np.array_equal(out[1], ref[1])


@pytest.mark.parametrize("vectorized", [True, False])
def test_process_pool_executor_identical_to_serial(points, vectorized):
    f = M.two_outputs if vectorized else M.two_outputs_point
    serial = dualml.sensitivity(f, points, vectorized=vectorized)
    with concurrent.futures.ProcessPoolExecutor(max_workers=2) as ex:
        par = dualml.sensitivity(f, points, vectorized=vectorized, executor=ex)
    assert np.array_equal(par.value, serial.value)
    assert np.array_equal(par.jacobian, serial.jacobian)
    assert np.array_equal(par.elasticity, serial.elasticity)


def test_thread_pool_and_args(points):
    a = np.array([0.0, 1.0, 9.0])
    X = points / 2.0
    serial = dualml.batch_jacobian(M.g_function, X, (a,), vectorized=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        par = dualml.batch_jacobian(M.g_function, X, (a,), vectorized=True, executor=ex,
                                    chunksize=4)
    assert np.array_equal(par, serial)


def test_dask_executor_identical_to_serial(points):
    import distributed
    serial = dualml.sensitivity(M.two_outputs, points, vectorized=True)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        par = dualml.sensitivity(M.two_outputs, points, vectorized=True,
                                 executor=client.get_executor(), chunksize=10)
    assert np.array_equal(par.jacobian, serial.jacobian)
    assert np.array_equal(par.value, serial.value)


def test_executor_errors_propagate(points):
    def bad(X):
        raise RuntimeError("model failed")
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        with pytest.raises(RuntimeError, match="model failed"):
            dualml.batch_jacobian(bad, points, vectorized=True, executor=ex, chunksize=5)


def test_progress_bar(points, capsys):
    import tqdm  # noqa: F401  (the test extra provides it)
    dualml.batch_jacobian(M.two_outputs_point, points, progress=True, chunksize=10,
                          vectorized=False)
    assert "37/37" in capsys.readouterr().err
    # default under pytest: stderr is not a terminal -> no bar
    dualml.batch_jacobian(M.two_outputs_point, points, vectorized=False)
    assert capsys.readouterr().err == ""


# -- one API: vectorized default, method=, to_df -----------------------------------------

def _np_array_model(x):
    # builds np.array([...]) of its entries: scalar Duals only (a DualArray refuses)
    return np.array([x[0] * x[1], np.sin(x[0])]).sum()


def test_vectorized_defaults_agree():
    import inspect
    for fn in (dualml.sensitivity, dualml.batch_jacobian, dualml.batch_value_and_jacobian,
               dualml.dgsm):
        assert inspect.signature(fn).parameters["vectorized"].default is True, fn
        assert inspect.signature(fn).parameters["method"].default == "auto", fn


def test_wrong_vectorized_flag_names_the_fix(points):
    def per_point(x):                       # a point (3,) only: x[2] is a row of X
        a, b, c = x
        return a * b + c
    with pytest.raises(ValueError, match="vectorized=False"):
        dualml.batch_jacobian(per_point, points)
    with pytest.raises(IndexError, match="pass vectorized=True"):
        dualml.sensitivity(lambda X: X[:, 0] * X[:, 1], points, vectorized=False)
    with pytest.raises(IndexError, match="pass vectorized=False"):
        dualml.dgsm(lambda x: x[5] * x[0], {"bounds": [[0, 1]] * 6}, 4, vectorized=True)
    res = dualml.dgsm(lambda x: x[5] * x[0], {"bounds": [[0, 1]] * 6}, 4, vectorized=False,
                      num_resamples=2, seed=0)
    assert res["vi"][1] == 0.0 and res["vi"][5] > 0


def test_method_scalar_for_np_array_models(points):
    x = [0.7, 1.3]
    ref = np.array([x[1] + np.cos(x[0]), x[0]])     # closed form
    with pytest.raises(TypeError, match="DualArray"):
        dualml.sensitivity(_np_array_model, np.array(x))       # auto: a DualArray
    with pytest.raises(TypeError, match="DualArray"):
        dualml.sensitivity(_np_array_model, x, method="array")
    res = dualml.sensitivity(_np_array_model, x, method="scalar")
    np.testing.assert_allclose(res.jacobian, ref, rtol=1e-15)
    res = dualml.sensitivity(_np_array_model, np.array(x), method="scalar")
    np.testing.assert_allclose(res.jacobian, ref, rtol=1e-15)
    X = points[:5, :2]
    J = dualml.batch_jacobian(_np_array_model, X, vectorized=False, method="scalar")
    np.testing.assert_allclose(J, np.stack([X[:, 1] + np.cos(X[:, 0]), X[:, 0]], axis=1),
                               rtol=1e-15)
    with pytest.raises(ValueError, match="vectorized=False"):
        dualml.batch_jacobian(_np_array_model, X, method="scalar")
    with pytest.raises(ValueError, match="method"):
        dualml.sensitivity(_np_array_model, x, method="fast")


def test_vectorized_pass_splits_rows_over_the_budget(monkeypatch):
    # a (n, N, 200) hidden layer: 5 x 2000 x 200 x 8 bytes = 16 MB per pass
    rng = np.random.default_rng(3)
    W = rng.standard_normal((5, 200)) / 5
    X = rng.standard_normal((2000, 5))

    def model(X):
        return np.tanh(X @ W).sum(axis=-1)
    ref = (1 - np.tanh(X @ W) ** 2) @ W.T           # closed form, (N, 5)
    monkeypatch.setenv("DUALML_MAX_BYTES", "1M")
    from dualml.arrays import _core
    calls = []
    real = _core.set_buffer_budget
    monkeypatch.setattr(_core, "set_buffer_budget", lambda b: calls.append(b) or real(b))
    J = dualml.batch_jacobian(model, X)
    np.testing.assert_allclose(J, ref, rtol=1e-12, atol=1e-13)
    assert calls.count(2**20) > 8                    # split into many row blocks
    assert real(None) is None                        # restored


def test_every_result_has_to_df():
    res = dualml.sensitivity(cobb_douglas, [4.0, 9.0])
    assert res.to_df().equals(res.to_dataframe())


def test_tables_and_plots_name_the_function():
    res = dualml.sensitivity(cobb_douglas, [4.0, 9.0])
    assert res.name == "cobb_douglas" and "Sensitivity of cobb_douglas" in str(res)
    assert list(res.to_df()["output"]) == ["cobb_douglas"] * 2
    assert "Sensitivity of f " in str(dualml.sensitivity(lambda x: x[0] * x[1], [1.0, 2.0]))
    named = dualml.sensitivity(lambda x: x[0] * x[1], [1.0, 2.0], output_names=["area"])
    assert named.name == "area" and named.output_names is None


# -- bad input ---------------------------------------------------------------------------

def test_bad_names_length():
    with pytest.raises(ValueError, match=r"sensitivity\(\): names has 3 entries but there "
                                         r"are 2 inputs"):
        dualml.sensitivity(cobb_douglas, [1.0, 2.0], names=["a", "b", "c"])
    with pytest.raises(ValueError, match="output_names"):
        dualml.sensitivity(lambda x: [x[0], x[1]], [1.0, 2.0], output_names=["u"])


@pytest.mark.parametrize("x, exc, match", [
    (np.ones((2, 2, 2)), ValueError, "shape"),
    (3.0, ValueError, r"pass \[x\]"),
    ([1 + 2j, 3.0], TypeError, "complex"),
    (["a", "b"], TypeError, "real numbers"),
    (None, TypeError, "real numbers"),
    (np.zeros(0), ValueError, "no inputs"),
    (np.zeros((0, 3)), ValueError, "no points"),
])
def test_bad_points(x, exc, match):
    with pytest.raises(exc, match=match):
        dualml.sensitivity(lambda x: x[0], x)


def test_bad_callables_and_options(points):
    with pytest.raises(TypeError, match="callable"):
        dualml.sensitivity(42, [1.0])
    with pytest.raises(ValueError, match="vectorized=False"):
        dualml.sensitivity(lambda X: X.sum(), points, vectorized=True)
    with pytest.raises(ValueError, match="1-d"):
        dualml.sensitivity(lambda x: [[x[0], x[1]]], [1.0, 2.0])
    with pytest.raises(ValueError, match="chunksize"):
        dualml.batch_jacobian(M.two_outputs, points, vectorized=True, chunksize=0)
    with pytest.raises(TypeError, match="executor"):
        dualml.batch_jacobian(M.two_outputs, points, vectorized=True, executor="dask")
    with pytest.raises(ValueError, match=r"\(N, n\)"):
        dualml.batch_jacobian(M.two_outputs, points[0])


def test_without_dualarray_the_jvp_path_gives_the_same(points, monkeypatch):
    # the fallback (one dualml.jvp per input direction) must agree with the
    # DualArray pass that seeds all directions at once
    mod = sys.modules["dualml.sensitivity"]
    ref = dualml.batch_value_and_jacobian(M.two_outputs, points, vectorized=True)
    monkeypatch.setattr(mod, "_dualarray", lambda: None)
    out = dualml.batch_value_and_jacobian(M.two_outputs, points, vectorized=True)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-15)


# -- examples -----------------------------------------------------------------------------

def _load_example(name):
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_example_classifier(capsys):
    r = _load_example("sensitivity_classifier").main(n=300, steps=60, batch=40)
    # dualml's derivative of the trained model against p(1-p) w_j / sd_j
    np.testing.assert_allclose(r["result"].jacobian, r["reference"], rtol=1e-12)
    assert r["batch"].jacobian.shape == (40, 5)
    assert "most influential" in capsys.readouterr().out


def test_example_ishigami(tmp_path, capsys):
    import matplotlib  # noqa: F401  (the test extra provides it)
    png = tmp_path / "ish.png"
    r = _load_example("sensitivity_ishigami").main(n=1024, png=png)
    # N = 1024: the largest relative error of vi over 40 seeds was 3.4e-2
    np.testing.assert_allclose(r["dgsm"]["vi"], r["exact_vi"], rtol=5e-2)
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize("f", [
    lambda X: X[:, 0] / X[:, 0].mean(),                       # normalised by the batch
    lambda X: (X - X.mean(axis=0)) / X.std(axis=0),           # batch normalisation
    lambda X: np.cumsum(X[:, 0]),                             # a running total
    lambda X: X[:, 0] - X[1, 0],                              # relative to another row
    lambda X: X[::-1, 1],                                     # rows reordered
], ids=["mean", "batchnorm", "cumsum", "other row", "reversed"])
def test_vectorized_models_that_mix_rows_are_refused(f):
    X = np.random.default_rng(3).uniform(1.0, 2.0, (20, 2))
    with pytest.raises(ValueError, match="mixes the rows"):
        dualml.batch_jacobian(f, X, vectorized=True)
    with pytest.raises(ValueError, match="mixes the rows"):
        dualml.sensitivity(f, X, vectorized=True)


def test_row_wise_models_pass_the_row_check_with_exact_jacobians():
    X = np.random.default_rng(4).uniform(1.0, 2.0, (20, 3))
    J = dualml.batch_jacobian(lambda X: np.sin(X).sum(axis=1) * X[:, 0], X, vectorized=True)
    ref = np.cos(X) * X[:, :1]
    ref[:, 0] += np.sin(X).sum(axis=1)
    assert np.allclose(J, ref, rtol=1e-14, atol=0)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5])
def test_chunk_of_input_directions_gives_the_same_jacobians(chunk):
    # f_i = x_i^2 * x_{i+1} (cyclic) row-wise: the Jacobian in closed form,
    # whatever the number of directions per evaluation (and the evaluations
    # counted: ceil(n / chunk) vectorized passes, plus the row-mixing probe)
    rng = np.random.default_rng(4)
    X = rng.uniform(0.5, 2.0, size=(7, 5))
    calls = []

    def f(X):
        calls.append(1)
        return X ** 2 * np.roll(X, -1, axis=-1)

    J = dualml.batch_jacobian(f, X, chunk=chunk)
    ref = np.zeros((7, 5, 5))
    for i in range(5):
        ref[:, i, i] = 2 * X[:, i] * X[:, (i + 1) % 5]
        ref[:, i, (i + 1) % 5] = X[:, i] ** 2
    np.testing.assert_allclose(J, ref, rtol=1e-15)
    assert len(calls) >= -(-5 // chunk)
    r = dualml.sensitivity(lambda x: np.sum(x ** 2, axis=-1), X, chunk=chunk)
    np.testing.assert_allclose(r.jacobian, 2 * X, rtol=1e-15)
    d = dualml.dgsm(lambda X: X[:, 0] + 2 * X[:, 1], {"num_vars": 2, "bounds": [[0, 1]] * 2},
                    16, seed=0, chunk=chunk)
    np.testing.assert_allclose(d["vi"], [1.0, 4.0], rtol=1e-15)


def test_chunk_must_be_a_positive_integer():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="chunk must be None or a positive integer"):
            dualml.batch_jacobian(lambda X: X, np.ones((2, 2)), chunk=bad)


@pytest.mark.parametrize("point", [[0.7, 1.3], (0.7, 1.3)])
def test_list_point_goes_as_jacobian_passes_it(point):
    # the default method passes a list/tuple point as jacobian does (scalar
    # Duals), so a model building np.array([...]) of its entries works in both
    # and they agree; the reference is the closed form
    ref = np.array([point[1] + np.cos(point[0]), point[0]])
    res = dualml.sensitivity(_np_array_model, point)
    J = dualml.jacobian(_np_array_model, point)
    np.testing.assert_allclose(res.jacobian, ref, rtol=1e-15)
    np.testing.assert_array_equal(res.jacobian, J)
    assert res.value == pytest.approx(0.7 * 1.3 + np.sin(0.7), rel=1e-15)
    seen = []

    def spy(x):
        seen.append(type(x))
        return x[0] * x[1]
    dualml.sensitivity(spy, point)
    dualml.jacobian(spy, point)
    assert seen[0] is seen[1] and seen[0] in (list, tuple)
    # an ndarray point: a DualArray in both
    dualml.sensitivity(spy, np.array(point))
    dualml.jacobian(spy, np.array(point))
    assert seen[2] is seen[3] and seen[2].__name__ == "DualArray"
