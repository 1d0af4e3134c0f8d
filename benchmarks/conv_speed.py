"""glassnet's convolution and pooling against PyTorch CPU, side by side.

    .venv/bin/python benchmarks/conv_speed.py                 # ops, then 3 epochs each
    .venv/bin/python benchmarks/conv_speed.py --steps 200     # shorter "epochs" (200 batches)
    .venv/bin/python benchmarks/conv_speed.py --skip-ops --rounds 2 --out speed.json

1. Ops at the course CNN's sizes (batch 64): each op's forward (+ backward)
   timed in alternating rounds, glassnet then PyTorch, median per contender.
2. The bar: one training epoch of the course's CNN (conv 20@5×5, ReLU, max-pool 2,
   conv 40@5×5, ReLU, max-pool 2, FC 640→100, ReLU, FC 100→10, softmax
   cross-entropy, plain SGD, batch 64, 60,000 Fashion-MNIST images), each
   contender in a fresh process (so peak RSS is its own), alternating
   glassnet/PyTorch for ``--rounds`` rounds. Both read the same batches in the
   same order from the same NumPy arrays.

Other processes on the machine slow both contenders; compare the ratios, which
come from interleaved runs, rather than the seconds. Ratios > 1 mean glassnet is
slower.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
from worker import read_result  # benchmarks/, this script's folder, is on sys.path

BATCH = 64


def load_images():
    """Fashion-MNIST training images as float32 (N, 1, 28, 28) in [0, 1] and labels;
    random images of that shape when the data set is not installed."""
    try:
        from glassnet.data import load_dataset, to_float
        (x, y), _ = load_dataset("fashion-mnist", download=False)
        return to_float(x).reshape(-1, 1, 28, 28), y.astype(np.int64), "fashion-mnist"
    except Exception as error:  # a missing data set must not stop a speed test
        print(f"(Fashion-MNIST not available: {error}; using random images)", file=sys.stderr)
        rng = np.random.default_rng(0)
        return (rng.random((60000, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, 60000), "random")


# ------------------------------------------------------------------ the epoch
def glassnet_trainer(lr: float):
    import glassnet as gn
    import glassnet.functional as F
    from glassnet import optim
    from glassnet.models import book_cnn

    gn.seed(0)
    model = book_cnn()
    opt = optim.SGD(model.parameters(), lr=lr)

    def step(xb, yb):
        opt.zero_grad()
        loss = F.cross_entropy(model(gn.Tensor(xb)), yb)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def torch_trainer(lr: float):
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 20, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(20, 40, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(640, 100), nn.ReLU(), nn.Linear(100, 10))
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def step(xb, yb):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb))
        loss.backward()
        opt.step()
        return loss.item()

    return step


def limit_threads(threads: int | None) -> None:
    """Both contenders on ``threads`` threads (None: each library's default, 2 here)."""
    if threads:
        import threadpoolctl
        threadpoolctl.threadpool_limits(threads)  # NumPy's BLAS
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads)


def worker(framework: str, steps: int | None, threads: int | None) -> dict:
    """One epoch (or ``steps`` batches) in this process; returns the timing as a dict."""
    x, y, source = load_images()
    step = (glassnet_trainer if framework == "glassnet" else torch_trainer)(lr=0.05)
    limit_threads(threads)
    order = np.random.default_rng(1).permutation(len(x))
    starts = range(0, len(x), BATCH)
    if steps is not None:
        starts = starts[:steps]
    step(x[order[:BATCH]], y[order[:BATCH]])  # warm-up (first-call allocations, lazy imports)
    begin = time.perf_counter()
    losses = [step(x[order[i:i + BATCH]], y[order[i:i + BATCH]]) for i in starts]
    seconds = time.perf_counter() - begin
    images = min(len(x), len(starts) * BATCH)
    return {"framework": framework, "seconds": seconds, "images": images, "images_per_s": images / seconds,
            "first_loss": losses[0], "last_loss": float(np.mean(losses[-50:])), "data": source,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_worker(framework: str, steps: int | None, threads: int | None) -> dict:
    command = [sys.executable, __file__, "--worker", framework]
    command += [] if steps is None else ["--steps", str(steps)]
    command += [] if threads is None else ["--threads", str(threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return read_result(done.stdout)


def epochs(rounds: int, steps: int | None, threads: int | None) -> dict:
    runs = {"glassnet": [], "torch": []}
    for r in range(rounds):
        for framework in ("glassnet", "torch"):
            result = run_worker(framework, steps, threads)
            runs[framework].append(result)
            print(f"  round {r + 1} {framework:8s} {result['seconds']:6.1f} s  {result['images_per_s']:6.0f} img/s  "
                  f"peak RSS {result['peak_rss_mb']:5.0f} MB  loss {result['first_loss']:.2f} → "
                  f"{result['last_loss']:.2f}", flush=True)
    g = np.median([r["seconds"] for r in runs["glassnet"]])
    t = np.median([r["seconds"] for r in runs["torch"]])
    per_round = [a["seconds"] / b["seconds"] for a, b in zip(runs["glassnet"], runs["torch"])]
    rss = {k: max(r["peak_rss_mb"] for r in v) for k, v in runs.items()}
    summary = {"glassnet_s": g, "torch_s": t, "ratio": g / t, "ratio_per_round": per_round,
               "glassnet_peak_rss_mb": rss["glassnet"], "torch_peak_rss_mb": rss["torch"],
               "rss_ratio": rss["glassnet"] / rss["torch"], "images": runs["glassnet"][0]["images"],
               "data": runs["glassnet"][0]["data"], "runs": runs}
    print(f"  epoch time ratio glassnet/torch = {g / t:.2f} (median {g:.1f} s vs {t:.1f} s; per round "
          f"{', '.join(f'{q:.2f}' for q in per_round)}); peak RSS ratio = {rss['glassnet'] / rss['torch']:.2f} "
          f"({rss['glassnet']:.0f} MB vs {rss['torch']:.0f} MB)")
    return summary


# -------------------------------------------------------------------- the ops
def op_cases():
    """(name, glassnet closure, torch closure) at the course CNN's sizes."""
    import torch

    import glassnet as gn
    import glassnet.functional as F

    rng = np.random.default_rng(0)

    def chw_n(a):  # the memory order in which glassnet's conv2d hands over its output
        return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)

    def conv_case(name, c_in, c_out, size, input_grad, backward=True):
        x = rng.random((BATCH, c_in, size, size), dtype=np.float32)
        w = (rng.standard_normal((c_out, c_in, 5, 5)) * 0.1).astype(np.float32)
        b = np.zeros(c_out, np.float32)
        gx, gw, gb = (gn.Tensor(chw_n(x), requires_grad=input_grad), gn.Tensor(w, requires_grad=True),
                      gn.Tensor(b, requires_grad=True))
        tx, tw, tb = (torch.tensor(x, requires_grad=input_grad), torch.tensor(w, requires_grad=True),
                      torch.tensor(b, requires_grad=True))
        g = rng.standard_normal((BATCH, c_out, size - 4, size - 4)).astype(np.float32)
        tg = torch.from_numpy(g)

        def ours():
            y = F.conv2d(gx, gw, gb)
            if backward:
                gx.grad = gw.grad = gb.grad = None
                y.backward(g)

        def theirs():
            y = torch.nn.functional.conv2d(tx, tw, tb)
            if backward:
                tx.grad = tw.grad = tb.grad = None
                y.backward(tg)

        return name, ours, theirs

    def pool_case(name, ours_fn, theirs_fn, shape):
        x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)  # pooled after a ReLU
        gx, tx = gn.Tensor(chw_n(x), requires_grad=True), torch.tensor(x, requires_grad=True)

        def ours():
            gx.grad = None
            y = ours_fn(gx)
            y.backward(np.ones(y.shape, np.float32))

        def theirs():
            tx.grad = None
            y = theirs_fn(tx)
            y.backward(torch.ones_like(y))

        return name, ours, theirs

    tf = torch.nn.functional
    return [
        conv_case("conv 1→20 5×5 28² forward", 1, 20, 28, False, backward=False),
        conv_case("conv 1→20 5×5 28² fwd+bwd (dW, db)", 1, 20, 28, False),
        conv_case("conv 20→40 5×5 12² forward", 20, 40, 12, True, backward=False),
        conv_case("conv 20→40 5×5 12² fwd+bwd (dx, dW, db)", 20, 40, 12, True),
        pool_case("max-pool 2 (64,20,24,24) fwd+bwd", lambda x: F.max_pool2d(x, 2), lambda x: tf.max_pool2d(x, 2),
                  (BATCH, 20, 24, 24)),
        pool_case("max-pool 3 stride 2 (overlap) fwd+bwd", lambda x: F.max_pool2d(x, 3, 2),
                  lambda x: tf.max_pool2d(x, 3, 2), (BATCH, 20, 24, 24)),
        pool_case("avg-pool 2 (64,20,24,24) fwd+bwd", lambda x: F.avg_pool2d(x, 2), lambda x: tf.avg_pool2d(x, 2),
                  (BATCH, 20, 24, 24)),
        pool_case("SPP (1,2,4) max (64,40,13,13) fwd+bwd", lambda x: F.spatial_pyramid_pool2d(x),
                  lambda x: torch.cat([tf.adaptive_max_pool2d(x, s).flatten(1) for s in (1, 2, 4)], 1),
                  (BATCH, 40, 13, 13)),
    ]


def ops(rounds: int, threads: int | None, repeat: int = 20) -> list[dict]:
    results = []
    cases = op_cases()
    limit_threads(threads)
    for name, ours, theirs in cases:
        times = {"glassnet": [], "torch": []}
        for fn in (ours, theirs):
            fn()
        for _ in range(rounds):
            for key, fn in (("glassnet", ours), ("torch", theirs)):
                begin = time.perf_counter()
                for _ in range(repeat):
                    fn()
                times[key].append((time.perf_counter() - begin) / repeat * 1e3)
        g, t = np.median(times["glassnet"]), np.median(times["torch"])
        results.append({"op": name, "glassnet_ms": g, "torch_ms": t, "ratio": g / t})
        print(f"  {name:42s} glassnet {g:7.3f} ms  torch {t:7.3f} ms  ratio {g / t:5.2f}", flush=True)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per contender (default 3)")
    parser.add_argument("--steps", type=int, default=None, help="batches per 'epoch' (default: all 938)")
    parser.add_argument("--skip-ops", action="store_true", help="only the epoch comparison")
    parser.add_argument("--skip-epoch", action="store_true", help="only the op comparison")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both contenders (default: each library's default)")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--worker", choices=["glassnet", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(worker(args.worker, args.steps, args.threads)))
        return
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other processes slow both contenders)")
    report = {"threads": args.threads, "load_average": os.getloadavg()[0]}
    if not args.skip_ops:
        print(f"ops, batch {BATCH}, median of {max(args.rounds, 5)} alternating rounds:")
        report["ops"] = ops(max(args.rounds, 5), args.threads)
    if not args.skip_epoch:
        print(f"training epoch of the course CNN, batch {BATCH}, {args.rounds} alternating rounds:")
        report["epoch"] = epochs(args.rounds, args.steps, args.threads)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
