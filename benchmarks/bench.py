"""glassnet against PyTorch CPU: one epoch of Fashion-MNIST (or rt-polarity) per run, side by side.

    python benchmarks/bench.py [--quick] [--workloads a,b] [--runs N] [--threads default,2]
                               [--busy-cores K] [--json PATH] [--markdown PATH]
    python benchmarks/bench.py --workloads resnet14-tta93 --threads default   # seconds to 93% (long)

Each run trains one workload for one epoch over the 60,000 training images
(``--quick``: 6,000 images, one counted run, no warm-up run) in its own process
(``benchmarks/worker.py``), so that its peak memory is its own. The contenders
alternate, A B A B, after one uncounted warm-up run of each; each gets ``--runs``
counted runs (default 3). ``classic-b10`` compares ``glassnet.classic.network2``
with the book's per-example loop (``benchmarks/reference/book_network2.py``), and
``classic1-b10`` chapter 1's ``glassnet.classic.network`` with the same loop's
chapter-1 network (``book_network2.Chapter1Network``), instead of PyTorch, and
checks that both end with the same weights.

The table gives images/s (median, min–max), the ratio glassnet time / other
time (below 1 means glassnet is faster) as the median, min–max, of the ratios of
the runs taken next to each other (glassnet's i-th run over the other's i-th): on a
machine whose speed drifts from minute to minute a pair shares the drift, so the
paired ratios spread less than the two contenders' times, and a range that
straddles a target says the run cannot decide it. Then the GFLOP/s glassnet's
epoch achieved in its matrix products (3 × 2 × the forward multiply-adds of
its Linear/Conv layers per example, see ``worker.training_flops_per_example``)
and that as a fraction of the machine's float32 GEMM peak for the same number
of threads (NumPy's BLAS on 2048³ products, measured in the same run), peak
resident memory (VmHWM of each run's process, largest over the runs) and the
test accuracy after the epoch. The load average before and after each workload
is printed, because on a shared machine other processes slow both contenders.

``resnet14-tta93`` (opt-in: not in the default list, hours rather than minutes) is a
time-to-accuracy row: seconds of training until the test accuracy after an epoch first
reaches 93%, with configs/resnet14.toml's recipe (at most 15 epochs; evaluation untimed),
glassnet's ``resnet_small`` against its PyTorch twin on the same batches; one run, no
warm-up run. ``--epochs``, ``--target`` and ``--test-images`` shrink it for a smoke test.

Threads: ``--threads`` lists the settings to run, each a column of ratios:
``default`` leaves each library its own (glassnet: ``glassnet.threads()``, the
idle cores; PyTorch: its thread pool), a number sets both (threadpoolctl for
BLAS, ``torch.set_num_threads``). ``--quick`` runs ``default`` and the number of
CPUs. With ``--busy-cores`` the workers get ``OMP_WAIT_POLICY=PASSIVE`` unless the
environment sets it; on an idle machine PyTorch keeps its own default (see
:func:`worker_environment`). ``--busy-cores K`` keeps K busy-loop
processes running meanwhile (the situation where another program holds a core).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from worker import WORKLOADS, read_result  # noqa: E402

DEFAULT_WORKLOADS = ["mlp-book-b10", "classic-b10", "classic1-b10", "mlp-relu-b128", "cnn-book-b64",
                     "network3-b10", "resnet-small-b64", "textcnn-b50"]
PEAK_SIZE = 2048


def run_worker(workload: str, framework: str, images: int, threads, weights_out=None, extra=(), env=None) -> dict:
    command = [sys.executable, os.path.join(HERE, "worker.py"), "--workload", workload,
               "--framework", framework, "--images", str(images), *extra]
    if threads is not None:
        command += ["--threads", str(threads)]
    if weights_out:
        command += ["--weights-out", weights_out]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{workload}/{framework} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return read_result(done.stdout)


def worker_environment(busy_cores: int) -> dict:
    """The workers' environment: ours, with OMP_WAIT_POLICY=PASSIVE when busy-loop processes
    hold cores (unless the environment sets it).

    PyTorch's OpenMP threads spin while they wait for work. On a machine whose
    cores are busy with other processes, a spinning thread steals the core its
    partner needs, and PyTorch at mini-batch 10 ran 10-50× slower here; passive
    waiting removes that handicap there. On an idle machine it is a handicap of its
    own: resnet-small-b64 on 2 threads, PyTorch 295 images/s passive against 454 with
    its default (2026-12-02, AMD EPYC 2 vCPUs), so an idle run leaves PyTorch's default.
    glassnet's NumPy/OpenBLAS does not use OpenMP either way.

    The project's shared data (``shared/data`` beside the checkout, where
    rt-polarity lives; see bootstrap.py) becomes ``GLASSNET_DATA`` unless that is
    set, so that the textcnn workload finds its sentences."""
    env = dict(os.environ)
    if busy_cores:
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    shared = os.path.join(os.path.dirname(HERE), os.pardir, "shared", "data")
    if os.path.isdir(shared):
        env.setdefault("GLASSNET_DATA", os.path.abspath(shared))
    return env


def contenders(workload: str, have_torch: bool) -> list:
    if WORKLOADS[workload].get("other") == "reference":
        return ["glassnet", "reference"]
    return ["glassnet", "torch"] if have_torch else ["glassnet"]


def bench_workload(workload: str, images: int, runs: int, warmup: bool, threads, have_torch: bool,
                   extra=(), env=None) -> dict:
    names = contenders(workload, have_torch)
    load_before = os.getloadavg()
    runs_of = {name: [] for name in names}
    agreement = None
    with tempfile.TemporaryDirectory() as tmp:
        weights = {name: os.path.join(tmp, f"{name}.npz") for name in names} if WORKLOADS[workload].get("other") == "reference" else {}
        for counted in [False] * warmup + [True] * runs:
            for name in names:  # alternate: A B A B ...
                result = run_worker(workload, name, images, threads, weights.get(name), extra, env)
                print(f"  {workload:16s} {name:9s} {result['images_per_s']:9.0f} images/s"
                      + (f", {result['seconds']:.0f} s, test accuracy {result['test_accuracy']:.4f} after "
                         f"{result['epochs_run']} epoch(s)" if "epochs_run" in result else "")
                      + f"{'' if counted else '  (warm-up)'}", flush=True)
                if counted:
                    runs_of[name].append(result)
        if weights:
            a, b = (np.load(weights[name]) for name in names)
            agreement = max(float(np.abs(a[k] - b[k]).max()) for k in a.files)
    summary = {"workload": workload, "about": WORKLOADS[workload]["about"], "images": images,
               "threads": "default" if threads is None else threads,
               "load_average_before": load_before, "load_average_after": os.getloadavg(), "contenders": {}}
    for name, results in runs_of.items():
        speeds = [r["images_per_s"] for r in results]
        summary["contenders"][name] = {
            "images_per_s_median": statistics.median(speeds), "images_per_s_min": min(speeds),
            "images_per_s_max": max(speeds), "seconds_median": statistics.median(r["seconds"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "test_accuracy": statistics.median(r["test_accuracy"] for r in results),
            "training_flops_per_example": results[0].get("training_flops_per_example"),
            "threads": {k: results[0][k] for k in ("blas_threads", "torch_threads") if k in results[0]},
            "runs": results}
    if len(names) == 2:
        pairs = [a["seconds"] / b["seconds"] for a, b in zip(*(runs_of[n] for n in names))]
        summary["ratio_pairs"] = pairs
        summary["ratio_glassnet_time_over_other"] = statistics.median(pairs)
        summary["other"] = names[1]
    if agreement is not None:
        summary["max_abs_weight_difference"] = agreement
    if "time_to_accuracy" in WORKLOADS[workload]:
        summary["time_to_accuracy"] = {
            name: {k: results[0][k] for k in ("target_accuracy", "reached", "epochs_to_target", "epochs_run",
                                              "test_accuracies")}
            for name, results in runs_of.items()}
    return summary


def time_to_accuracy_note(summary: dict) -> str:
    """'93% test accuracy: glassnet 412 s (epoch 9), torch 380 s (epoch 9)' for a time-to-accuracy workload."""
    parts = []
    for name, t in summary["time_to_accuracy"].items():
        seconds = summary["contenders"][name]["seconds_median"]
        parts.append(f"{name} {seconds:,.0f} s (epoch {t['epochs_to_target']})" if t["reached"] else
                     f"{name} not reached in {t['epochs_run']} epochs ({seconds:,.0f} s; best "
                     f"{max(t['test_accuracies']):.4f})")
    target = next(iter(summary["time_to_accuracy"].values()))["target_accuracy"]
    return f"{100 * target:g}% test accuracy: " + ", ".join(parts)


def glassnet_gflops(summary: dict, peaks: dict):
    """(GFLOP/s of glassnet's epoch, fraction of the GEMM peak for its thread count) or (None, None)."""
    g = summary["contenders"]["glassnet"]
    flops = g.get("training_flops_per_example") or next(
        (c.get("training_flops_per_example") for c in summary["contenders"].values()
         if c.get("training_flops_per_example")), None)
    if not flops:
        return None, None
    achieved = flops * g["images_per_s_median"] / 1e9
    peak = peaks.get(str(g["threads"].get("blas_threads", 1)))
    return achieved, (achieved / peak if peak else None)


def ratio_cell(summary: dict) -> str:
    """The median paired ratio, with the pairs' range when there are several."""
    pairs = summary.get("ratio_pairs", [])
    cell = f"{summary['ratio_glassnet_time_over_other']:.2f}"
    return cell + (f" ({min(pairs):.2f}–{max(pairs):.2f})" if len(pairs) > 1 else "")


def table_rows(summaries: list, peaks: dict) -> list:
    """One row per workload and thread setting: the cells of both tables."""
    rows = []
    for s in summaries:
        g, o = s["contenders"]["glassnet"], s["contenders"].get(s.get("other"))
        gflops, fraction = glassnet_gflops(s, peaks)
        speed = (lambda c: "—" if c is None else
                 f"{c['images_per_s_median']:,.0f} ({c['images_per_s_min']:,.0f}–{c['images_per_s_max']:,.0f})")
        threads = "/".join(str(c["threads"].get(k)) for c, k in ((g, "blas_threads"), (o, "torch_threads"))
                           if c is not None and c["threads"].get(k) is not None)
        rows.append({
            "workload": s["workload"], "threads": f"{s['threads']} ({threads})", "vs": s.get("other") or "—",
            "glassnet": speed(g), "other": speed(o),
            "ratio": ratio_cell(s) if o else "—",
            "gflops": "—" if gflops is None else f"{gflops:.1f}",
            "peak": "—" if fraction is None else f"{100 * fraction:.0f}%",
            "rss": f"{g['peak_rss_mb']:.0f} / " + (f"{o['peak_rss_mb']:.0f}" if o else "—"),
            "accuracy": f"{g['test_accuracy']:.3f} / " + (f"{o['test_accuracy']:.3f}" if o else "—"),
            "load": f"{s['load_average_before'][0]:.1f}→{s['load_average_after'][0]:.1f}",
            "note": (f"max |Δweight| vs the book's loop {s['max_abs_weight_difference']:.1e}"
                     if "max_abs_weight_difference" in s else
                     time_to_accuracy_note(s) if "time_to_accuracy" in s else "")})
    return rows


COLUMNS = [("workload", "workload"), ("threads", "threads g/o"), ("vs", "vs"),
           ("glassnet", "glassnet images/s"), ("other", "other images/s"), ("ratio", "ratio"),
           ("gflops", "glassnet GFLOP/s"), ("peak", "of peak"), ("rss", "RSS MiB g / o"),
           ("accuracy", "accuracy g / o"), ("load", "load")]


def format_table(summaries: list, peaks: dict) -> str:
    rows = table_rows(summaries, peaks)
    widths = {k: max([len(title)] + [len(r[k]) for r in rows]) for k, title in COLUMNS}
    lines = ["  ".join(title.ljust(widths[k]) for k, title in COLUMNS)]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append("  ".join(r[k].ljust(widths[k]) for k, _ in COLUMNS) + (f"  {r['note']}" if r["note"] else ""))
    return "\n".join(lines)


def format_markdown(summaries: list, info: dict) -> str:
    """The table as markdown, with the machine, date and command above it."""
    peaks = info["gemm_peak_gflops"]
    rows = table_rows(summaries, peaks)
    head = (f"{info['date']}, {info['cpu_model']} ({info['cpus']} CPUs), Python {info['python']}, "
            f"NumPy {info['numpy']} ({', '.join(b['internal_api'] + ' ' + str(b['version']) for b in info['blas'])})"
            + (f", PyTorch {info['torch']}" if "torch" in info else "")
            + f"; float32 GEMM peak (NumPy, {PEAK_SIZE}³): "
            + ", ".join(f"{v:.0f} GFLOP/s on {k} thread{'s' if k != '1' else ''}" for k, v in peaks.items())
            + f"; load average at start {info['load_average'][0]:.1f}"
            + (f"; {info['busy_cores']} busy-loop process(es) running" if info.get("busy_cores") else "") + ".")
    lines = [head, "", f"    python {info['command']}", "",
             "| " + " | ".join(title for _, title in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    for r in rows:
        lines.append("| " + " | ".join(r[k] for k, _ in COLUMNS) + " |")
    notes = [f"- {r['workload']}: {r['note']}" for r in rows if r["note"]]
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n"


def cpu_model() -> str:
    """The processor's name from /proc/cpuinfo (else platform.processor())."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


PEAK_SCRIPT = """
import json, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
n = {size}
a, b = (np.random.default_rng(s).random((n, n), dtype=np.float32) for s in (0, 1))
out = {{}}
for threads in {threads}:
    with threadpool_limits(threads, user_api="blas"):
        a @ b
        times = []
        for _ in range(5):
            start = time.perf_counter(); a @ b; times.append(time.perf_counter() - start)
        out[str(threads)] = 2 * n ** 3 / min(times) / 1e9
print(json.dumps(out))
"""


def gemm_peak(thread_counts) -> dict:
    """{threads: GFLOP/s} of NumPy's float32 GEMM on 2048³ products (best of 5), in a fresh process."""
    script = PEAK_SCRIPT.format(size=PEAK_SIZE, threads=sorted(set(thread_counts)))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return read_result(done.stdout)


def machine_info(threads) -> dict:
    from threadpoolctl import threadpool_info

    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "command": " ".join(sys.argv),
            "python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "cpu_model": cpu_model(), "threads": threads, "load_average": os.getloadavg(),
            "blas": [{k: lib.get(k) for k in ("internal_api", "version")} for lib in threadpool_info()
                     if lib["user_api"] == "blas"],
            "niceness": os.nice(0)}
    if importlib.util.find_spec("torch"):
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def busy_loops(count: int) -> list:
    """``count`` processes that spin forever (each holds one core), for the collapse test."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="glassnet vs PyTorch CPU, one epoch per run.")
    parser.add_argument("--quick", action="store_true",
                        help="6,000 images, one counted run, no warm-up run; threads default and all CPUs")
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS),
                        help=f"comma-separated, from {', '.join(WORKLOADS)} (default: {','.join(DEFAULT_WORKLOADS)})")
    parser.add_argument("--runs", type=int, default=None, help="counted runs per contender (default 3; quick 1)")
    parser.add_argument("--images", type=int, default=None, help="training images per epoch (default 60000)")
    parser.add_argument("--threads", default=None,
                        help="comma-separated thread settings, 'default' or a number each "
                             "(default: 'default'; quick: 'default,<CPUs>')")
    parser.add_argument("--busy-cores", type=int, default=0, help="keep this many busy-loop processes running")
    parser.add_argument("--epochs", type=int, default=None,
                        help="time-to-accuracy workloads (resnet14-tta93): at most this many epochs (default 15)")
    parser.add_argument("--target", type=float, default=None,
                        help="time-to-accuracy workloads: the test accuracy to reach (default 0.93)")
    parser.add_argument("--test-images", type=int, default=None,
                        help="evaluate on the first this many of the 10,000 test images (smoke tests)")
    parser.add_argument("--json", default=None, help="write the numbers to this file")
    parser.add_argument("--markdown", default=None, help="write the table as markdown to this file")
    args = parser.parse_args(argv)

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    cpus = os.cpu_count() or 1
    settings = args.threads or ("default" + (f",{cpus}" if cpus > 1 else "") if args.quick else "default")
    try:
        thread_settings = [None if t.strip() == "default" else int(t) for t in settings.split(",") if t.strip()]
    except ValueError:
        parser.error(f"--threads: expected 'default' or numbers separated by commas, got {settings!r}")
    images = args.images or (6000 if args.quick else 60000)
    runs = args.runs or (1 if args.quick else 3)
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("PyTorch is not installed (pip install torch==2.13.0): running glassnet alone.")
    info = machine_info(settings)
    info["busy_cores"] = args.busy_cores
    env = worker_environment(args.busy_cores)
    info["OMP_WAIT_POLICY"] = env.get("OMP_WAIT_POLICY", "unset (PyTorch's default)")
    info["gemm_peak_gflops"] = gemm_peak([1, cpus] + [t for t in thread_settings if t])
    print(f"{info['cpu_model']}, {cpus} CPUs; float32 GEMM peak "
          + ", ".join(f"{v:.0f} GFLOP/s on {k} thread(s)" for k, v in info["gemm_peak_gflops"].items()))
    print(f"{images} images per epoch, {runs} counted run(s) each{'' if args.quick else ' after 1 warm-up'}; "
          f"niceness {info['niceness']}, threads {settings}, busy-loop processes {args.busy_cores}, "
          f"OMP_WAIT_POLICY={info['OMP_WAIT_POLICY']}")
    extra = [f"--{k.replace('_', '-')}={v}" for k, v in
             (("epochs", args.epochs), ("target", args.target), ("test_images", args.test_images)) if v is not None]

    def bench_one(w, t):
        n = min(images, WORKLOADS[w].get("quick_images", images)) if args.quick else images
        if "time_to_accuracy" in WORKLOADS[w]:  # hours, not seconds: no warm-up run, one counted run unless --runs
            return bench_workload(w, n, args.runs or 1, False, t, have_torch, extra, env)
        return bench_workload(w, n, runs, not args.quick, t, have_torch, extra, env)

    spinners = busy_loops(args.busy_cores)
    try:
        summaries = [bench_one(w, t) for t in thread_settings for w in workloads]
    finally:
        for p in spinners:
            p.kill()
            p.wait()
    print()
    print(format_table(summaries, info["gemm_peak_gflops"]))
    print("ratio = glassnet time / other time (median of the paired runs, their range); below 1: glassnet is faster. GFLOP/s: glassnet's "
          "matrix-product rate, 'of peak': of the GEMM peak on as many threads. RSS = peak resident memory.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "images": images, "runs": runs, "results": summaries}, f, indent=1)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(format_markdown(summaries, info))
    return 0


if __name__ == "__main__":
    sys.exit(main())
