"""Data-parallel scaling: images/s of one and two MPI processes, and the arithmetic for N machines.

    python benchmarks/distributed.py [--workloads a,b] [--runs N] [--json PATH]

Each measurement trains one workload with ``glassnet.train.fit`` for one epoch
over the first ``images`` Fashion-MNIST training images (after an untimed
warm-up epoch of 4 batches), in fresh processes, three ways:

- ``1 process, 1 thread``: one process, one BLAS thread;
- ``1 process, 2 threads``: one process, two BLAS threads (the other way to use two cores);
- ``2 processes``: ``mpirun -n 2``, one BLAS thread each, ``fit(..., distributed=True)``.

They alternate, A B C A B C. The data-parallel runs also time every gradient
Allreduce: ``comm`` is the share of the epoch spent in it (on one machine,
mostly waiting for the slower process).

The second table is on paper, for N machines: the bytes each process sends per
step (a ring Allreduce of the fused buffer: 2·(N−1)/N of its size), their time
at a given bandwidth and latency, the compute time per step at the global
batch B (N processes, each B/N images at the measured one-thread speed) and
the global batch from which communication is under 10% of a step.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from worker import WORKLOADS, build_glassnet, load_fashion_mnist, read_result  # noqa: E402

DEFAULT = {"mlp-relu-b128": 7680, "cnn-book-b64": 3840, "resnet-small-b64": 1280}  # images per run
MODES = {"1 process, 1 thread": (1, 1), "1 process, 2 threads": (1, 2), "2 processes": (2, 1)}
WARMUP_BATCHES = 4
NETWORKS = {"1 Gb/s Ethernet": (125e6, 50e-6), "10 Gb/s Ethernet": (1.25e9, 20e-6),
            "100 Gb/s InfiniBand": (12.5e9, 2e-6)}  # (bytes/s, latency s per message)


# ----------------------------------------------------------------- worker
def worker(workload: str, images: int, threads: int) -> None:
    """One timed epoch in this process (one of several under mpirun); process 0 prints one JSON line."""
    from threadpoolctl import threadpool_limits

    import glassnet as gn
    from glassnet.distributed import from_environment
    from glassnet.train import fit

    threadpool_limits(threads)
    spec = WORKLOADS[workload]
    batch = spec["batch"]
    x, y, _, _ = load_fashion_mnist(images + WARMUP_BATCHES * batch, spec["kind"])
    distributed = from_environment()
    comm_seconds = [0.0]
    if distributed is not None:  # time each collective
        reduce = distributed.world.allreduce_sum_

        def timed(buffer, what):
            start = time.perf_counter()
            result = reduce(buffer, what)
            comm_seconds[0] += time.perf_counter() - start
            return result

        distributed.world.allreduce_sum_ = timed
    gn.seed(0)
    model, loss, optimizer, targets = build_glassnet(workload)
    options = {"batch_size": batch, "verbose": False, "nan_guard": False, "distributed": distributed,
               "accuracy": False}
    warm = slice(images, images + WARMUP_BATCHES * batch)
    fit(model, (x[warm], targets(y[warm])), loss, optimizer, 1, seed=1, **options)
    comm_seconds[0] = 0.0
    start = time.perf_counter()
    fit(model, (x[:images], targets(y[:images])), loss, optimizer, 1, seed=2, **options)
    seconds = time.perf_counter() - start
    if distributed is None or distributed.is_root:
        parameters = sum(p.data.size for p in model.parameters() if p.requires_grad)
        print(json.dumps({"seconds": seconds, "images_per_s": images / seconds, "comm_seconds": comm_seconds[0],
                          "steps": -(-images // batch), "parameters": parameters,
                          "tensors": sum(1 for p in model.parameters() if p.requires_grad)}), flush=True)


# ----------------------------------------------------------------- driver
def measure(workload: str, images: int, mode: str) -> dict:
    processes, threads = MODES[mode]
    command = [sys.executable, os.path.abspath(__file__), "--worker", workload, "--images", str(images),
               "--threads", str(threads)]
    if processes > 1:
        command = ["mpirun", "--oversubscribe", "-n", str(processes),
                   *(["--allow-run-as-root"] if os.geteuid() == 0 else []), *command]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{workload} / {mode} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    return read_result(done.stdout)


def on_paper(workload: str, parameters: int, tensors: int, seconds_per_image: float) -> list[str]:
    """Rows of the N-machine table for one workload (float32 buffer)."""
    buffer_bytes = 4 * (parameters + tensors + 3)
    rows = []
    for n in (2, 8, 32):
        for network, (bandwidth, latency) in NETWORKS.items():
            sent = 2 * (n - 1) / n * buffer_bytes
            comm = 2 * (n - 1) * latency + sent / bandwidth  # ring: 2(N−1) messages of buffer/N
            batch = WORKLOADS[workload]["batch"]
            compute = batch / n * seconds_per_image
            batch_10 = int(np.ceil(9 * comm * n / seconds_per_image))  # comm ≤ 10% of comm + compute
            rows.append(f"| {workload} | {n} | {network} | {sent / 1e6:.2f} MB | {1e3 * comm:.2f} ms | "
                        f"{1e3 * compute:.1f} ms (B = {batch}) | {comm / (comm + compute):.0%} | {batch_10:,} |")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=",".join(DEFAULT))
    parser.add_argument("--runs", type=int, default=2, help="counted runs of each mode (default 2)")
    parser.add_argument("--images", type=int, default=None, help="images per run (default: per workload)")
    parser.add_argument("--json", default=None)
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, args.images, args.threads)
        return 0

    load = os.getloadavg()
    print(f"{datetime.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs, load average {load[0]:.1f} "
          f"(other processes share these cores: the ratios matter more than the speeds)", flush=True)
    results, paper = {}, []
    table = ["| workload | images | " + " | ".join(f"{m}, images/s" for m in MODES) +
             " | 2 processes / 1 thread | 2 processes / 2 threads | comm share (2 processes) |",
             "|---" * (len(MODES) + 5) + "|"]
    for workload in [w.strip() for w in args.workloads.split(",") if w.strip()]:
        images = args.images or DEFAULT[workload]
        runs = {mode: [] for mode in MODES}
        for _ in range(args.runs):
            for mode in MODES:
                result = measure(workload, images, mode)
                runs[mode].append(result)
                share = result["comm_seconds"] / result["seconds"]
                print(f"  {workload:17s} {mode:22s} {result['images_per_s']:8.0f} images/s"
                      + (f", {share:.0%} in the Allreduce" if MODES[mode][0] > 1 else ""), flush=True)
        speed = {mode: statistics.median(r["images_per_s"] for r in rs) for mode, rs in runs.items()}
        comm = statistics.median(r["comm_seconds"] / r["seconds"] for r in runs["2 processes"])
        table.append(f"| {workload} | {images:,} | " + " | ".join(f"{speed[m]:,.0f}" for m in MODES) +
                     f" | {speed['2 processes'] / speed['1 process, 1 thread']:.2f}× | "
                     f"{speed['2 processes'] / speed['1 process, 2 threads']:.2f}× | {comm:.0%} |")
        first = runs["1 process, 1 thread"][0]
        paper += on_paper(workload, first["parameters"], first["tensors"], 1 / speed["1 process, 1 thread"])
        results[workload] = {"images": images, "runs": runs, "images_per_s_median": speed, "comm_share": comm}
    print(f"\nload average after: {os.getloadavg()[0]:.1f}\n")
    print("\n".join(table))
    print("\n| workload | N | network | sent per process and step | Allreduce | compute per step | "
          "comm share | global batch for comm < 10% |\n|---|---|---|---|---|---|---|---|")
    print("\n".join(paper))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"date": datetime.datetime.now().isoformat(timespec="seconds"), "load_before": load,
                       "load_after": os.getloadavg(), "networks": NETWORKS, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
