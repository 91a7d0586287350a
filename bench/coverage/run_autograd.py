"""Run autograd's test suite through dualml and count the checks.

Usage (a scratch venv with pytest, numpy and scipy; dualml on PYTHONPATH)::

    PYTHONPATH=<worktree>:<worktree>/bench/coverage \\
        python bench/coverage/run_autograd.py <autograd-sdist>/tests [--log out.jsonl]

Design: pytest runs the chosen test files in one process with
``-p autograd_shim`` (the plugin replaces autograd by NumPy + dualml before
collection); each ``check_grads`` call writes one JSON line per order
(correct / raises / wrong / n/a).  This script sums them: totals per order,
the correct share of what has a derivative (correct / (correct + raises +
wrong)), every wrong check, and the most common errors.  It is a
measurement, not a CI test.
"""
import argparse
import collections
import json
import os
import subprocess
import sys

# autograd's files that test NumPy/SciPy functions (the others test autograd's
# own tracer, containers and vector spaces, which have no dualml counterpart).
FILES = ["test_numpy.py", "test_systematic.py", "test_linalg.py", "test_scalar_ops.py",
         "test_binary_ops.py", "test_scipy.py", "test_wrappers.py", "test_jacobian.py",
         "test_truediv.py", "test_fft.py"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tests", help="autograd's tests/ directory (from its sdist)")
    ap.add_argument("--log", default="autograd_checks.jsonl")
    ap.add_argument("-k", default=None, help="pytest -k expression")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    if os.path.exists(a.log):
        os.remove(a.log)
    tests = os.path.abspath(a.tests)
    files = [os.path.join(tests, f) for f in FILES if os.path.exists(os.path.join(tests, f))]
    cmd = [sys.executable, "-m", "pytest", "-q", "-c", os.devnull, "-p", "no:cacheprovider",
           "-p", "autograd_shim",
           "--tb=no", "-rN", "--continue-on-collection-errors", "-W", "ignore"] + files
    if a.k:
        cmd += ["-k", a.k]
    env = dict(os.environ, DUALML_COV_LOG=os.path.abspath(a.log))
    proc = subprocess.run(cmd, env=env, cwd=a.tests, capture_output=True, text=True)
    tail = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    rows = [json.loads(line) for line in open(a.log)] if os.path.exists(a.log) else []
    print(f"pytest: {' '.join(tail)}")
    for order in (1, 2):
        c = collections.Counter(r["outcome"] for r in rows if r["order"] == order)
        has = c["correct"] + c["raises"] + c["wrong"]
        share = 100.0 * c["correct"] / has if has else float("nan")
        print(f"order {order}: {sum(c.values())} checks: {c['correct']} correct, "
              f"{c['raises']} raise, {c['wrong']} wrong, {c['n/a']} n/a "
              f"-> {share:.1f}% correct of {has} with a derivative")
    wrong = [r for r in rows if r["outcome"] == "wrong"]
    if wrong:
        print("\nwrong:")
        for r in wrong:
            print(f"  {r['test']} {r['f']} order {r['order']}: dualml {r['ad']!r} "
                  f"reference {r['ref']!r} args {r['args']} {r['kwargs']}")
    errs = collections.Counter(r["error"] for r in rows if r["outcome"] == "raises")
    if errs:
        print(f"\nmost common errors ({len(errs)} distinct):")
        for e, n in errs.most_common(a.top):
            print(f"  {n:4d}  {e[:160]}")


if __name__ == "__main__":
    main()
