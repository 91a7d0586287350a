"""Benchmark driver: ``python bench/run.py [--quick] [--only W1,W3] [--threads N] [--json F] [--plot F.png]``.

Design: arguments are parsed and thread counts pinned through the environment
*before* NumPy, JAX or PyTorch can load (the adapters import them lazily).  For
each workload every registered (workload, tool) adapter is built; its result is
checked against the workload's reference once (which also warms it up, JIT
compilation included), then its inner-loop count is calibrated so one sample
lasts >= ~20 ms (quick: ~5 ms).  Samples are taken round-robin over the tools of
the workload, so machine drift hits all of them alike; the table shows medians,
the ratio to the workload's floor and the max relative error.
"""
from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import platform
import statistics
import sys
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
    return p.parse_args(argv)


def pin_threads(n):
    """Must run before numpy/jax/torch are imported: their pools read these at load time."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(n)
    xla = f"--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads={n}"
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
    out.append(f"- mode: {'quick' if opts.quick else 'full'}; median of up to {opts.repeats} interleaved "
               f"samples of >= {opts.target * 1e3:.0f} ms each")
    out.append("")
    for workload, cases in results:
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
    out.append("Error: max over entries of |got − ref| / max(|ref|, 1e-3·max|ref|), value and derivative "
               "together where the tool returns both; references by mpmath at 30 digits (W1, W2, W3, W5), "
               "long double (W4), closed form (W6, where errors are mostly Monte Carlo noise). "
               "⚠ marks an error above the workload's tolerance.")
    return "\n".join(out)


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
            "target_s": opts.target, "rows": rows}


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
    only = {s.strip().upper() for s in opts.only.split(",") if s.strip()}
    known = {w.id for w in workloads.catalog(opts.quick)}
    if only - known:
        sys.exit(f"--only: unknown workload(s) {', '.join(sorted(only - known))}; "
                 f"choose from {', '.join(sorted(known))}")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    machine = machine_info(opts.threads)
    t_start = time.perf_counter()
    results = []
    for workload in workloads.catalog(opts.quick):
        if only and workload.id not in only:
            continue
        log(f"{workload.label}: {workload.title}")
        try:
            workload.ref()
        except Exception as e:  # e.g. mpmath missing: time anyway, report no errors
            workload.ref_error = short(e)
            log(f"  no reference: {workload.ref_error}")
        results.append((workload, run_workload(workload, tools, opts, log)))
    log(f"total {time.perf_counter() - t_start:.1f}s")

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
