"""glassnet against PyTorch CPU: one epoch of Fashion-MNIST per run, side by side.

    python benchmarks/bench.py [--quick] [--workloads a,b] [--runs N] [--threads N] [--json PATH]

Each run trains one workload for one epoch over the 60,000 training images
(``--quick``: 6,000 images, one counted run, no warm-up run) in its own process
(``benchmarks/worker.py``), so that its peak memory is its own. The contenders
alternate, A B A B, after one uncounted warm-up run of each; each gets ``--runs``
counted runs (default 3). ``classic-b10`` compares ``glassnet.classic.network2``
with the book's per-example loop (``benchmarks/reference/book_network2.py``)
instead of PyTorch, and checks that both end with the same weights.

The table gives images/s (median, min–max), the ratio glassnet time / other
time (medians; below 1 means glassnet is faster), peak resident memory (VmHWM
of each run's process, largest over the runs) and the test accuracy after the
epoch. The load average before and after each workload is printed, because on
a shared machine other processes slow both contenders. Threads: each library's
default unless ``--threads N`` (threadpoolctl for BLAS, ``torch.set_num_threads``),
with ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it (see
:func:`worker_environment`).
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
from worker import WORKLOADS  # noqa: E402

DEFAULT_WORKLOADS = ["mlp-book-b10", "classic-b10", "mlp-relu-b128", "cnn-book-b64", "resnet-small-b64"]


def run_worker(workload: str, framework: str, images: int, threads, weights_out=None) -> dict:
    command = [sys.executable, os.path.join(HERE, "worker.py"), "--workload", workload,
               "--framework", framework, "--images", str(images)]
    if threads is not None:
        command += ["--threads", str(threads)]
    if weights_out:
        command += ["--weights-out", weights_out]
    done = subprocess.run(command, capture_output=True, text=True, env=worker_environment())
    if done.returncode != 0:
        raise RuntimeError(f"{workload}/{framework} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def worker_environment() -> dict:
    """The workers' environment: ours, with OMP_WAIT_POLICY=PASSIVE unless set.

    PyTorch's OpenMP threads spin while they wait for work. On a machine whose
    cores are busy with other processes, a spinning thread steals the core its
    partner needs, and PyTorch at mini-batch 10 ran 10-50× slower here. Passive
    waiting removes that handicap (it favours PyTorch, never glassnet, whose
    NumPy/OpenBLAS does not use OpenMP)."""
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return env


def contenders(workload: str, have_torch: bool) -> list:
    if workload == "classic-b10":
        return ["glassnet", "reference"]
    return ["glassnet", "torch"] if have_torch else ["glassnet"]


def bench_workload(workload: str, images: int, runs: int, warmup: bool, threads, have_torch: bool) -> dict:
    names = contenders(workload, have_torch)
    load_before = os.getloadavg()
    runs_of = {name: [] for name in names}
    agreement = None
    with tempfile.TemporaryDirectory() as tmp:
        weights = {name: os.path.join(tmp, f"{name}.npz") for name in names} if workload == "classic-b10" else {}
        for counted in [False] * warmup + [True] * runs:
            for name in names:  # alternate: A B A B ...
                result = run_worker(workload, name, images, threads, weights.get(name))
                print(f"  {workload:16s} {name:9s} {result['images_per_s']:9.0f} images/s"
                      f"{'' if counted else '  (warm-up)'}", flush=True)
                if counted:
                    runs_of[name].append(result)
        if weights:
            a, b = (np.load(weights[name]) for name in names)
            agreement = max(float(np.abs(a[k] - b[k]).max()) for k in a.files)
    summary = {"workload": workload, "about": WORKLOADS[workload]["about"], "images": images,
               "load_average_before": load_before, "load_average_after": os.getloadavg(), "contenders": {}}
    for name, results in runs_of.items():
        speeds = [r["images_per_s"] for r in results]
        summary["contenders"][name] = {
            "images_per_s_median": statistics.median(speeds), "images_per_s_min": min(speeds),
            "images_per_s_max": max(speeds), "seconds_median": statistics.median(r["seconds"] for r in results),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in results),
            "test_accuracy": statistics.median(r["test_accuracy"] for r in results),
            "threads": {k: results[0][k] for k in ("blas_threads", "torch_threads") if k in results[0]},
            "runs": results}
    if len(names) == 2:
        first, other = (summary["contenders"][n]["seconds_median"] for n in names)
        summary["ratio_glassnet_time_over_other"] = first / other
        summary["other"] = names[1]
    if agreement is not None:
        summary["max_abs_weight_difference"] = agreement
    return summary


def format_table(summaries: list) -> str:
    head = (f"{'workload':16s} {'vs':9s} {'glassnet images/s':>26s} {'other images/s':>26s} {'ratio':>6s} "
            f"{'RSS MiB g/o':>12s} {'accuracy g/o':>13s}")
    lines = [head, "-" * len(head)]
    for s in summaries:
        cells = []
        for name in ["glassnet", s.get("other")]:
            c = s["contenders"].get(name)
            cells.append("—" if c is None else f"{c['images_per_s_median']:8.0f} ({c['images_per_s_min']:.0f}–"
                                               f"{c['images_per_s_max']:.0f})")
        g, o = s["contenders"]["glassnet"], s["contenders"].get(s.get("other"))
        ratio = f"{s['ratio_glassnet_time_over_other']:.2f}" if o else "—"
        rss = f"{g['peak_rss_mb']:.0f}/{o['peak_rss_mb']:.0f}" if o else f"{g['peak_rss_mb']:.0f}/—"
        acc = f"{g['test_accuracy']:.3f}/{o['test_accuracy']:.3f}" if o else f"{g['test_accuracy']:.3f}/—"
        lines.append(f"{s['workload']:16s} {s.get('other') or '—':9s} {cells[0]:>26s} {cells[1]:>26s} {ratio:>6s} "
                     f"{rss:>12s} {acc:>13s}")
        notes = [f"load {s['load_average_before'][0]:.1f}→{s['load_average_after'][0]:.1f}"]
        if "max_abs_weight_difference" in s:
            notes.append(f"max |Δweight| vs the book's loop {s['max_abs_weight_difference']:.1e}")
        lines.append(f"{'':16s} {'; '.join(notes)}")
    return "\n".join(lines)


def machine_info(threads) -> dict:
    from threadpoolctl import threadpool_info

    info = {"date": datetime.datetime.now().isoformat(timespec="seconds"), "command": " ".join(sys.argv),
            "python": platform.python_version(), "numpy": np.__version__, "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(), "threads": threads,
            "blas": [{k: lib.get(k) for k in ("internal_api", "version")} for lib in threadpool_info()
                     if lib["user_api"] == "blas"],
            "niceness": os.nice(0), "OMP_WAIT_POLICY": worker_environment()["OMP_WAIT_POLICY"]}
    if importlib.util.find_spec("torch"):
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    return info


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="glassnet vs PyTorch CPU, one epoch of Fashion-MNIST per run.")
    parser.add_argument("--quick", action="store_true", help="6,000 images, one counted run, no warm-up run")
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS),
                        help=f"comma-separated, from {', '.join(WORKLOADS)} (default: {','.join(DEFAULT_WORKLOADS)})")
    parser.add_argument("--runs", type=int, default=None, help="counted runs per contender (default 3; quick 1)")
    parser.add_argument("--images", type=int, default=None, help="training images per epoch (default 60000)")
    parser.add_argument("--threads", type=int, default=None, help="BLAS/torch threads (default: libraries' own)")
    parser.add_argument("--json", default=None, help="write the numbers to this file")
    args = parser.parse_args(argv)

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workloads {unknown}; known: {', '.join(WORKLOADS)}")
    images = args.images or (6000 if args.quick else 60000)
    runs = args.runs or (1 if args.quick else 3)
    have_torch = importlib.util.find_spec("torch") is not None
    if not have_torch:
        print("PyTorch is not installed (pip install torch==2.13.0): running glassnet alone.")
    info = machine_info(args.threads)
    print(f"{images} images per epoch, {runs} counted run(s) each{'' if args.quick else ' after 1 warm-up'}; "
          f"{info['cpus']} CPUs, niceness {info['niceness']}, threads {args.threads or 'default'}, "
          f"OMP_WAIT_POLICY={info['OMP_WAIT_POLICY']}")
    summaries = [bench_workload(w, images, runs, not args.quick, args.threads, have_torch) for w in workloads]
    print()
    print(format_table(summaries))
    print("ratio = glassnet time / other time (median); below 1: glassnet is faster. "
          "RSS = peak resident memory of the run's process.")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "images": images, "runs": runs, "results": summaries}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
