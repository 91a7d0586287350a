"""The benchmark's machinery and models (bench/): no timing is asserted here.

A worker process measures one case and checks it against a reference handed
over as a pickle, as run.py's parent does; the W6b model's DualArray gradient
equals its complex-step gradient (the reference's method).
"""
import json
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

BENCH = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "bench")


@pytest.fixture(scope="module")
def workloads():
    sys.path.insert(0, BENCH)
    try:
        import workloads

        yield workloads
    finally:
        sys.path.remove(BENCH)


def run_worker(case, tool, *extra):
    cmd = [sys.executable, os.path.join(BENCH, "run.py"), "--worker", "--quick", "--case", case,
           "--tool", tool, "--samples", "2", "--budget", "0.05", *extra]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120)
    line = [s for s in proc.stdout.splitlines() if s.startswith("@@bench-worker@@ ")][-1]
    return json.loads(line.split(" ", 1)[1])


@pytest.mark.parametrize("op", ["mul", "sin", "dot", "slice", "exp", "index", "max", "inner",
                                "std", "tdot", "np.add", "concat"])
def test_worker_measures_and_checks_one_case(workloads, tmp_path, op):
    ref = tmp_path / "ref.pickle"
    ref.write_bytes(pickle.dumps(workloads.ref_w9(op, 10)))
    out = run_worker(f"W9 {op} 10x10", "dualml DualArray", "--ref", str(ref))
    assert out["status"] == "ok"
    assert len(out["samples"]) == 2 and out["number"] >= 1
    assert out["error"] <= 1e-12


def test_worker_reports_a_broken_reference_as_a_large_error(workloads, tmp_path):
    bad = workloads.ref_w9("mul", 10)
    bad["deriv"] = bad["deriv"] * 2
    ref = tmp_path / "ref.pickle"
    ref.write_bytes(pickle.dumps(bad))
    out = run_worker("W9 mul 10x10", "dualml DualArray", "--ref", str(ref))
    assert out["status"] == "ok" and out["error"] > 0.4


def test_sir_gradient_equals_complex_step(workloads):
    import dualml

    lo, hi = np.array(workloads.W6B_PROBLEM["bounds"]).T
    X = np.random.default_rng(3).uniform(lo, hi, (64, 3))
    seeds = np.zeros((3,) + X.shape)
    for j in range(3):
        seeds[j, :, j] = 1.0
    r = workloads.sir_model(dualml.DualArray(X, seeds))
    np.testing.assert_array_equal(r.value, workloads.sir_model(X))
    np.testing.assert_allclose(r.deriv.T, workloads.sir_gradient_cs(X), rtol=1e-10, atol=0)


def test_seirv_solve_ivp_gradient_equals_complex_step(workloads):
    # W6c: dualml.solve_ivp's sensitivities (through dualml.gradient) against the
    # reference's complex step through a fine fixed-step RK4
    import dualml

    lo, hi = np.array(workloads.W6C_PROBLEM["bounds"]).T
    X = np.random.default_rng(5).uniform(lo, hi, (2, 5))
    ref = workloads.seirv_gradient_cs(X, 2880)
    for x, r in zip(X, ref):
        def model(z):
            return workloads.seirv_model(z, dualml.solve_ivp, rtol=1e-10, atol=1e-12)
        g = dualml.gradient(model, x)
        np.testing.assert_allclose(g, r, rtol=1e-6)
