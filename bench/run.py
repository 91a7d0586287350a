"""Benchmark driver: ``python bench/run.py [--quick] [--only W1,W3] [--threads N] [--json F] [--plot F.png]``.

Design: arguments are parsed and thread counts pinned through the environment
*before* NumPy, JAX or PyTorch can load (the adapters import them lazily).  By
default every (workload, tool) case is measured in a fresh subprocess of this
script (``--worker``): it builds the case, warms it up, calibrates its
inner-loop count so one sample lasts >= ~20 ms (quick: ~5 ms), takes its
samples, checks its result against the reference and prints one JSON line.  A
figure then does not depend on what ran before it in the process (glibc raises
its mmap threshold after large frees, so a big workload run earlier made a
later one look faster than in a user's fresh process).  The parent computes
each workload's reference once and hands it to the workers as a pickle; it runs
the cases in two rounds, the second in reverse tool order, so slow machine
drift hits every tool alike.  ``--in-process`` keeps the old mode: every case
in this process, samples interleaved round-robin.  The table shows medians,
the ratio to the workload's floor and the max relative error.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import pickle
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

LIBRARIES = [  # (label, distribution name) for the machine header
    ("numpy", "numpy"), ("scipy", "scipy"), ("mpmath", "mpmath"), ("dualml", "dualml"),
    ("fastdual", "fastdual"), ("num-dual", "num-dual"), ("ad", "ad"),
    ("uncertainties", "uncertainties"), ("autograd", "autograd"), ("jax", "jax"),
    ("jaxlib", "jaxlib"), ("torch", "torch"), ("numdifftools", "numdifftools"),
    ("SALib", "SALib"), ("matplotlib", "matplotlib"),
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats: under two minutes")
    p.add_argument("--only", default="", help="comma-separated workload families, e.g. W1,W3")
    p.add_argument("--threads", type=int, default=1, help="threads for every library (default 1)")
    p.add_argument("--repeats", type=int, default=None, help="interleaved samples per tool (default 7, quick 3)")
    p.add_argument("--json", metavar="FILE", help="write all rows, samples included, as JSON")
    p.add_argument("--plot", metavar="FILE.png", help="bar chart of the ratios to the floor (log scale)")
    p.add_argument("--in-process", action="store_true",
                   help="measure every case in this process, samples interleaved (the old mode; "
                        "figures then depend on what ran before)")
    # The worker mode: one (workload, tool) case in this process, one JSON line out.
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--case", help=argparse.SUPPRESS)  # workload label
    p.add_argument("--tool", help=argparse.SUPPRESS)
    p.add_argument("--ref", help=argparse.SUPPRESS)  # pickled reference; absent: no error check
    p.add_argument("--number", type=int, help=argparse.SUPPRESS)  # inner loop count; absent: calibrate
    p.add_argument("--samples", type=int, help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, help=argparse.SUPPRESS)  # seconds of samples
    return p.parse_args(argv)


def pin_threads(n):
    """Must run before numpy/jax/torch are imported: their pools read these at load time."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    xla = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={n}"
    if xla not in os.environ.get("XLA_FLAGS", ""):  # workers inherit the parent's
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + xla).strip()


# --- machine --------------------------------------------------------------------
def machine_info(threads):
    from importlib import metadata

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    versions = {}
    for label, dist in LIBRARIES:
        try:
            versions[label] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[label] = None
    try:  # say which dualml is measured: installed, or built in place in the repo
        import dualml

        where = os.path.dirname(os.path.dirname(os.path.abspath(dualml.__file__)))
        versions["dualml"] = f"{getattr(dualml, '__version__', '?')} (from {where})"
    except Exception:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "threads": threads,
        "versions": versions,
    }


# --- timing ---------------------------------------------------------------------
def timed(call, number):
    """Seconds for `number` back-to-back calls, garbage collector paused as timeit does."""
    loop = itertools.repeat(None, number)
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        t0 = time.perf_counter()
        for _ in loop:
            call()
        return time.perf_counter() - t0
    finally:
        if gc_was_on:
            gc.enable()


def calibrate(call, target):
    """Smallest inner-loop count (roughly) whose sample lasts >= target; returns (number, s/call)."""
    number = 1
    while True:
        t = timed(call, number)
        if t >= target or number >= 10**7:
            return number, t / number
        guess = int(number * 1.2 * target / max(t, 1e-9)) + 1
        number = min(max(guess, 2 * number), 100 * number)


class Case:
    def __init__(self, adapter):
        self.adapter = adapter
        self.tool, self.kind = adapter.tool, adapter.kind
        self.status = "ok"
        self.error = None  # max relative error vs the reference
        self.prepared = None
        self.number = 0
        self.repeats = 0
        self.samples = []

    @property
    def median(self):
        return statistics.median(self.samples) if self.samples else None


def short(exc):
    msg = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    msg = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return msg if len(msg) <= 90 else msg[:87] + "..."


def prepare(case, workload, tools):
    from importlib.util import find_spec

    from workloads import max_rel_error

    missing = [m for m in case.adapter.needs if find_spec(m) is None]
    if missing:
        case.status = "not installed"
        return
    try:
        case.prepared = case.adapter.build(workload)
        if case.prepared.result is not None:
            result = case.prepared.result()
            if workload.ref_error is None:
                case.error = max_rel_error(result, workload.ref())
        else:
            case.prepared.call()  # warm-up
    except tools.NotAvailable as e:
        case.status = f"not available: {e}"
    except tools.Skip as e:
        case.status = f"skipped: {e}"
    except Exception as e:  # any tool failure becomes its row, never the suite's
        case.status = f"error: {short(e)}"
    if case.status != "ok":
        case.prepared = None


def run_workload(workload, tools, opts, log):
    cases = [Case(a) for a in tools.REGISTRY if a.family == workload.id]
    for case in cases:
        t0 = time.perf_counter()
        prepare(case, workload, tools)
        if case.status == "ok":
            try:
                case.number, per_call = calibrate(case.prepared.call, opts.target)
            except Exception as e:
                case.status, case.prepared = f"error: {short(e)}", None
                continue
            sample = case.number * per_call
            # Slow tools get fewer samples so the run stays within its time budget.
            case.repeats = max(1, min(opts.repeats, int(opts.case_budget / max(sample, 1e-9))))
        log(f"  {workload.label:<10} {case.tool:<44} {case.status[:60]:<60} {time.perf_counter() - t0:6.2f}s")

    active = [c for c in cases if c.status == "ok"]
    for rep in range(opts.repeats):
        k = rep % max(len(active), 1)
        for case in active[k:] + active[:k]:  # rotate who goes first
            if len(case.samples) >= case.repeats:
                continue
            try:
                case.samples.append(timed(case.prepared.call, case.number) / case.number)
            except Exception as e:
                case.status = f"error: {short(e)}"
                case.repeats = len(case.samples)
    for case in cases:
        case.prepared = None  # free big inputs before the next workload
    return cases


# --- fresh-process mode -----------------------------------------------------------
WORKER_TAG = "@@bench-worker@@ "  # marks the worker's JSON line among whatever a tool prints


def sample_count(wanted, budget, sample_s):
    """Samples to take: `wanted`, fewer for slow rows so they stay within `budget` seconds."""
    return max(1, min(wanted, int(budget / max(sample_s, 1e-9))))


def worker(opts, tools, workloads):
    """Measure one case in this (fresh) process; print one JSON line.

    Order matters: build and warm up (the checked result comes from that first
    call), calibrate, take the samples, and only then load the reference, so
    unpickling it cannot move the allocator's thresholds before the timing.
    """
    from importlib.util import find_spec

    from workloads import max_rel_error

    out = {"status": "ok", "error": None, "number": 0, "samples": []}
    wanted = opts.samples or opts.repeats  # defaults for a worker started by hand
    budget = opts.budget if opts.budget is not None else opts.case_budget
    workload = next(w for w in workloads.catalog(opts.quick) if w.label == opts.case)
    adapter = next(a for a in tools.REGISTRY if a.family == workload.id and a.tool == opts.tool)
    result = None
    try:
        if any(find_spec(m) is None for m in adapter.needs):  # the parent checks first
            out["status"] = "not installed"
            raise tools.Skip
        prepared = adapter.build(workload)
        if prepared.result is not None:
            result = prepared.result()
        else:
            prepared.call()  # warm-up
        if opts.number:
            number = opts.number
            first = timed(prepared.call, number) / number
            out["samples"].append(first)
        else:
            number, first = calibrate(prepared.call, opts.target)
        out["number"] = number
        repeats = sample_count(wanted, budget, number * first)
        while len(out["samples"]) < repeats:
            out["samples"].append(timed(prepared.call, number) / number)
        if result is not None and opts.ref:
            with open(opts.ref, "rb") as fh:
                out["error"] = max_rel_error(result, pickle.load(fh))
    except tools.NotAvailable as e:
        out["status"] = f"not available: {e}"
    except tools.Skip as e:
        if out["status"] == "ok":
            out["status"] = f"skipped: {e}"
    except Exception as e:  # any tool failure becomes its row, never the suite's
        out["status"] = f"error: {short(e)}"
    print(WORKER_TAG + json.dumps(out), flush=True)


def spawn(workload, case, opts, ref_path, samples, budget, number=None):
    """Run one worker; returns its JSON dict (a crash or a timeout becomes an error status)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--case", workload.label,
           "--tool", case.tool, "--threads", str(opts.threads), "--samples", str(samples),
           "--budget", repr(budget)]
    if opts.quick:
        cmd.append("--quick")
    if ref_path:
        cmd += ["--ref", ref_path]
    if number:
        cmd += ["--number", str(number)]
    timeout = 300 if opts.quick else 900  # build + warm-up + calibration + samples of the slowest rows
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout,
                              env=os.environ.copy())
    except subprocess.TimeoutExpired:
        return {"status": f"error: worker timed out after {timeout} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(WORKER_TAG):
            return json.loads(line[len(WORKER_TAG):])
    last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"status": f"error: worker exited with code {proc.returncode}: {last[:70]}"}


def run_workload_fresh(workload, tools, opts, log, tmpdir):
    """Every case in its own process, in two rounds of alternating tool order.

    Round 1 (tools in catalog order) calibrates and takes the first half of the
    samples; round 2 (reverse order) reuses round 1's inner-loop count and takes
    the rest.  Each round is a fresh process, so a row's median mixes two
    processes as well as two positions in the sequence.
    """
    from importlib.util import find_spec

    cases = [Case(a) for a in tools.REGISTRY if a.family == workload.id]
    ref_path = None
    if workload.ref_error is None:
        ref_path = os.path.join(tmpdir, re.sub(r"\W+", "_", workload.label) + ".pickle")
        with open(ref_path, "wb") as fh:
            pickle.dump(workload.ref(), fh, protocol=pickle.HIGHEST_PROTOCOL)
    for case in cases:
        if any(find_spec(m) is None for m in case.adapter.needs):
            case.status = "not installed"
    rounds = [opts.repeats - opts.repeats // 2, opts.repeats // 2]
    for r, wanted in enumerate(rounds):
        if not wanted:
            continue
        for case in cases if r % 2 == 0 else cases[::-1]:
            if case.status != "ok":
                continue
            t0 = time.perf_counter()
            got = spawn(workload, case, opts, ref_path, wanted, opts.case_budget * wanted / opts.repeats,
                        number=case.number or None)
            case.status = got["status"]
            if case.status == "ok":
                case.number = got["number"]
                case.samples += got["samples"]
                if got["error"] is not None:
                    case.error = max(case.error or 0.0, got["error"])
            case.repeats = len(case.samples)
            log(f"  {workload.label:<14} {case.tool:<44} round {r + 1}: {case.status[:50]:<50} "
                f"{time.perf_counter() - t0:6.2f}s")
    return cases


# --- output ---------------------------------------------------------------------
def fmt_time(s):
    if s is None:
        return "—"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if s >= scale or unit == "ns":
            v = s / scale
            return f"{v:.3g} {unit}" if v < 1000 else f"{v:.0f} {unit}"


def fmt_err(e, tol):
    if e is None:
        return "—"
    text = "0" if e == 0 else ("inf" if math.isinf(e) else f"{e:.1e}")
    return text + (" ⚠" if e > tol else "")


def md_escape(s):
    return s.replace("|", "\\|")


def render(machine, results, opts):
    out = ["# dualml benchmarks", ""]
    out.append(f"- platform: {machine['platform']}")
    out.append(f"- CPU: {machine['cpu']} ({machine['cores']} logical cores), threads pinned to {machine['threads']}")
    out.append(f"- Python {machine['python']}")
    vers = ", ".join(f"{k} {v}" for k, v in machine["versions"].items() if v)
    absent = ", ".join(k for k, v in machine["versions"].items() if not v)
    out.append(f"- libraries: {vers}" + (f" (not installed: {absent})" if absent else ""))
    if opts.in_process:
        how = "interleaved samples, all cases in one process"
    else:
        how = "samples, each (workload, tool) case in fresh processes (two rounds, alternating tool order)"
    out.append(f"- mode: {'quick' if opts.quick else 'full'}; median of up to {opts.repeats} {how}, "
               f"each sample >= {opts.target * 1e3:.0f} ms; whole run {opts.total_s:.0f} s")
    out.append("")
    per_op = []  # W9: one operation per workload, shown as one summary table
    for workload, cases in results:
        if getattr(workload, "op", None):
            per_op.append((workload, cases))
            continue
        floor = next((c.median for c in cases if c.kind == "floor" and c.median), None)
        out.append(f"## {workload.label}: {workload.title}")
        out.append("")
        out.append("| tool | time / call | × floor | max rel. error |")
        out.append("|---|---:|---:|---:|")
        for c in cases:
            if c.status == "ok":
                ratio = f"{c.median / floor:.3g}" if floor and c.median else "—"
                err = fmt_err(c.error, workload.tol)
                few = f" ({len(c.samples)} samples)" if len(c.samples) < opts.repeats else ""
                out.append(f"| {md_escape(c.tool)} | {fmt_time(c.median)}{few} | {ratio} | {err} |")
            else:
                out.append(f"| {md_escape(c.tool)} | {md_escape(c.status)} | — | — |")
        if workload.ref_error:
            out.append(f"\nNo reference, errors not checked: {workload.ref_error}")
        out.append("")
    if per_op:
        out += render_per_op(per_op, opts)
    out.append("Error: max over entries of |got − ref| / max(|ref|, 1e-3·max|ref|), value and derivative "
               "together where the tool returns both; references by mpmath at 30 digits (W1, W2, W3, W5), "
               "long double (W4), closed form (W6), Gauss-Legendre quadrature of complex-step gradients "
               "(W6b, W6c; W6, W6b and W6c errors are mostly Monte Carlo noise), NumPy on the values and on each "
               "tangent row (W9), closed-form diagonals and complex steps (W10). ⚠ marks an error above "
               "the workload's tolerance.")
    return "\n".join(out)


def render_per_op(per_op, opts):
    """W9 as one table: a row per (operation, size), the tool's time next to NumPy's on the values."""
    out = ["## W9: one DualArray operation (10 directions) vs the same NumPy operation on the values", "",
           "| operation | elements × directions | NumPy, values | dualml | × NumPy | goal | max rel. error |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for workload, cases in per_op:
        floor = next((c for c in cases if c.kind == "floor"), None)
        ours = next((c for c in cases if c.kind != "floor"), None)
        title = workload.title.rsplit(", ", 2)[0]       # (the expression may hold commas)
        dims = workload.label.split()[-1].replace("x", " × ")
        goal = f"≤ {workload.goal:g}" if workload.goal else ""
        if floor is None or ours is None or floor.status != "ok" or ours.status != "ok":
            bad = next(c for c in (floor, ours) if c is None or c.status != "ok")
            out.append(f"| `{md_escape(title)}` | {dims} | {md_escape(bad.status if bad else 'no row')} "
                       f"| — | — | {goal} | — |")
            continue
        ratio = ours.median / floor.median
        flag = " ✗" if workload.goal and ratio > workload.goal else ""
        err = fmt_err(ours.error, workload.tol)
        out.append(f"| `{md_escape(title)}` | {dims} | {fmt_time(floor.median)} | {fmt_time(ours.median)} "
                   f"| {ratio:.3g}{flag} | {goal} | {err} |")
    out += ["", ("✗: above the goal. At 10⁴ elements dualml moves 11× NumPy's data (values + 10 tangent "
                 "rows), so about 11× is par there."), ""]
    return out


def to_json(machine, results, opts):
    rows = []
    for workload, cases in results:
        floor = next((c.median for c in cases if c.kind == "floor" and c.median), None)
        for c in cases:
            rows.append({
                "workload": workload.id, "label": workload.label, "size": workload.size,
                "tool": c.tool, "kind": c.kind, "status": c.status,
                "median_s": c.median, "ratio": (c.median / floor) if floor and c.median else None,
                "max_rel_error": c.error, "number": c.number, "samples_s": c.samples,
            })
    return {"machine": machine, "quick": opts.quick, "repeats": opts.repeats,
            "mode": "in-process" if opts.in_process else "fresh-process",
            "target_s": opts.target, "total_s": opts.total_s, "rows": rows}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = []
    for workload, cases in results:
        floor = next((c.median for c in cases if c.kind == "floor" and c.median), None)
        bars = [(c.tool, c.median / floor, c.kind) for c in cases if floor and c.median and c.kind != "floor"]
        if bars:
            panels.append((workload, bars))
    if not panels:
        return
    heights = [0.6 + 0.28 * len(b) for _, b in panels]
    fig, axes = plt.subplots(len(panels), 1, figsize=(9, sum(heights) + 0.5),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (workload, bars) in zip(axes[:, 0], panels, strict=True):
        labels = [t for t, _, _ in bars][::-1]
        ratios = [r for _, r, _ in bars][::-1]
        colors = ["tab:red" if "dualml" in t else ("tab:gray" if k == "bound" else "tab:blue")
                  for t, _, k in bars][::-1]
        ax.barh(labels, ratios, color=colors)
        ax.set_xscale("log")
        ax.axvline(1.0, color="black", lw=0.8)
        ax.set_title(f"{workload.label}: {workload.title}", fontsize=9, loc="left")
        ax.tick_params(axis="y", labelsize=7)
        ax.tick_params(axis="x", labelsize=7)
    axes[-1, 0].set_xlabel("time / floor (log scale)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    opts = parse_args(argv)
    pin_threads(opts.threads)
    sys.path.insert(0, HERE)
    # An installed dualml wins; a build in place in the repo (setup.py build_ext
    # --inplace) is the fallback, so the suite runs from a checkout without installing.
    sys.path.append(REPO)
    import tools
    import workloads

    tools.THREADS = opts.threads
    opts.repeats = opts.repeats or (3 if opts.quick else 7)
    opts.target = 0.005 if opts.quick else 0.020
    opts.case_budget = 1.5 if opts.quick else 20.0  # seconds of samples per (workload, tool)
    if opts.worker:
        worker(opts, tools, workloads)
        return

    def family(wid):  # "W6b" belongs to W6: --only W6 selects both; "NPSIN" is its own
        m = re.match(r"W\d+", wid)
        return (m.group(0) if m else wid).upper()

    only = {s.strip().upper() for s in opts.only.split(",") if s.strip()}
    known = {w.id.upper() for w in workloads.catalog(opts.quick)}
    known |= {family(k) for k in known}
    if only - known:
        sys.exit(f"--only: unknown workload(s) {', '.join(sorted(only - known))}; "
                 f"choose from {', '.join(sorted(known))}")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    machine = machine_info(opts.threads)
    t_start = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory(prefix="dualml-bench-") as tmpdir:
        for workload in workloads.catalog(opts.quick):
            if only and workload.id.upper() not in only and family(workload.id) not in only:
                continue
            log(f"{workload.label}: {workload.title}")
            try:
                workload.ref()
            except Exception as e:  # e.g. mpmath missing: time anyway, report no errors
                workload.ref_error = short(e)
                log(f"  no reference: {workload.ref_error}")
            if opts.in_process:
                cases = run_workload(workload, tools, opts, log)
            else:
                cases = run_workload_fresh(workload, tools, opts, log, tmpdir)
            results.append((workload, cases))
    opts.total_s = time.perf_counter() - t_start
    log(f"total {opts.total_s:.1f}s")

    print(render(machine, results, opts))
    if opts.json:
        with open(opts.json, "w") as fh:
            json.dump(to_json(machine, results, opts), fh, indent=1)
    if opts.plot:
        try:
            plot(results, opts.plot)
        except Exception as e:  # a missing matplotlib must not lose the table
            log(f"plot failed: {short(e)}")


if __name__ == "__main__":
    main()
