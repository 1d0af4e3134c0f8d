"""One resnet_small training step at batch 64: glassnet against PyTorch, and where glassnet's time goes.

    python benchmarks/resnet_step.py                       # step times, alternating, 1 thread each
    python benchmarks/resnet_step.py --threads 2 --steps 20
    python benchmarks/resnet_step.py --ops                 # glassnet's time per op (forward / backward)
    python benchmarks/resnet_step.py --profile             # cProfile of glassnet's steps, by own time
    python benchmarks/resnet_step.py --gemm-floor --threads 2  # the convolutions' products alone

Both contenders run in this process, on the same random batch, in alternating
rounds (glassnet's steps, then PyTorch's), and the medians of the rounds are
compared: on a shared machine the ratio taken in one run is the figure that
means something, the milliseconds move with the load. ``--ops`` attributes each
forward op the time since the previous op was recorded, and each backward
closure its own time (one more untimed step first). ``--gemm-floor`` times the
matrix products a step's convolutions reduce to (forward, weight gradient, input
gradient) at their shapes, one NumPy/OpenBLAS call each on ready contiguous
operands, with no im2col copy and nothing else of the step: a lower bound for any
im2col + GEMM convolution on this BLAS, set against PyTorch's whole step.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import cProfile
import os
import pstats
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def glassnet_step(batch: int, model_name: str = "resnet_small"):
    import glassnet as gn
    import glassnet.functional as F
    from glassnet import optim
    from glassnet.models import resnet

    gn.seed(0)
    model = getattr(resnet, model_name)()
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.random((batch, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, batch)

    def step():
        loss = F.cross_entropy(model(gn.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def torch_step(batch: int):
    import torch

    from worker import torch_resnet_small

    torch.manual_seed(0)
    model = torch_resnet_small()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.random((batch, 1, 28, 28), dtype=np.float32))
    y = torch.from_numpy(rng.integers(0, 10, batch))

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    return step


def timed(step, steps: int) -> float:
    """Median milliseconds of ``steps`` calls."""
    times = []
    for _ in range(steps):
        begin = time.perf_counter()
        step()
        times.append(time.perf_counter() - begin)
    return 1e3 * statistics.median(times)


@contextlib.contextmanager
def hooked_ops(hook):
    """Within the block every op is built by ``hook(build, cls, data, parents, backward, op, …)``,
    ``build`` being the original ``Tensor.from_op``; afterwards ``from_op`` is itself again."""
    from glassnet.tensor import Tensor

    original = Tensor.from_op.__func__
    Tensor.from_op = classmethod(lambda cls, *args, **kwargs: hook(original, cls, *args, **kwargs))
    try:
        yield
    finally:
        Tensor.from_op = classmethod(original)


def op_times(step, steps: int, by_shape: bool = False) -> None:
    """Print glassnet's milliseconds per step by op, forward and backward."""
    forward, backward = collections.defaultdict(float), collections.defaultdict(float)
    last = [time.perf_counter()]

    def timed_op(build, cls, data, parents, back, op, *args, **kwargs):
        now = time.perf_counter()
        if by_shape and data.ndim == 4:
            op = f"{op} {parents[0].shape[1]}→{'x'.join(map(str, data.shape[1:]))}" + (
                f" k{parents[1].shape[2]}" if op.startswith("conv") else "")
        forward[op] += now - last[0]

        def timed_backward(g, _back=back, _op=op):
            begin = time.perf_counter()
            result = _back(g)
            backward[_op] += time.perf_counter() - begin
            return result

        out = build(cls, data, parents, timed_backward, op, *args, **kwargs)
        last[0] = time.perf_counter()
        return out

    with hooked_ops(timed_op):
        step()
        forward.clear()
        backward.clear()
        begin = time.perf_counter()
        for _ in range(steps):
            last[0] = time.perf_counter()
            step()
        total = (time.perf_counter() - begin) / steps
    print(f"glassnet step {1e3 * total:.1f} ms (mean of {steps}, timing overhead included); per op, ms per step:")
    names = sorted(set(forward) | set(backward), key=lambda k: -(forward[k] + backward[k]))
    for name in names:
        print(f"  {name:26s} forward {1e3 * forward[name] / steps:7.2f}   backward {1e3 * backward[name] / steps:7.2f}")
    rest = total - sum(forward.values()) / steps - sum(backward.values()) / steps
    print(f"  {'(rest: graph, SGD)':18s} {1e3 * rest:7.2f}")
    print(f"  total forward {1e3 * sum(forward.values()) / steps:.1f}, backward {1e3 * sum(backward.values()) / steps:.1f}")


def conv_shapes(step) -> list:
    """(input shape, weight shape, output shape, input needs a gradient) of each conv2d in one step."""
    shapes = []

    def record(build, cls, data, parents, back, op, *args, **kwargs):
        if op == "conv2d":
            shapes.append((parents[0].shape, parents[1].shape, data.shape, parents[0].requires_grad))
        return build(cls, data, parents, back, op, *args, **kwargs)

    with hooked_ops(record):
        step()
    return shapes


def gemm_products(shapes) -> list:
    """The (M, K, P) products of im2col convolutions in (C, H, W, N) order:
    forward W₂ (C_out, C·k²) @ cols (C·k², P), P = Ho·Wo·N; weight gradient
    cols @ Gᵀ (C·k², P) @ (P, C_out); input gradient, stride 1, Wᵀ₂ (C, C_out·k²) @
    (C_out·k², H·W·N), stride 2, W₂ᵀ G (C·k², C_out) @ (C_out, P)."""
    products = []
    for (n, c, h, w), (c_out, _, k, _), (_, _, ho, wo), input_grad in shapes:
        p = n * ho * wo
        products += [(c_out, c * k * k, p), (c * k * k, p, c_out)]
        if input_grad:
            products.append((c, c_out * k * k, n * h * w) if ho == h else (c * k * k, c_out, p))
    return products


def gemm_floor(step):
    """A call that runs a step's convolution products alone (random operands of their shapes)."""
    rng = np.random.default_rng(0)
    operands = [(rng.random((m, k), dtype=np.float32), rng.random((k, p), dtype=np.float32))
                for m, k, p in gemm_products(conv_shapes(step))]

    def products():
        for a, b in operands:
            a @ b

    products()
    return products


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads (default 1)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per round (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--model", default="resnet_small", help="resnet_small or plain_net")
    parser.add_argument("--ops", action="store_true", help="glassnet's time per op")
    parser.add_argument("--by-shape", action="store_true", help="with --ops: per op and shape")
    parser.add_argument("--profile", action="store_true", help="cProfile glassnet's steps")
    parser.add_argument("--no-torch", action="store_true", help="glassnet alone")
    parser.add_argument("--gemm-floor", action="store_true",
                        help="also time the convolutions' matrix products alone (OpenBLAS, no im2col)")
    parser.add_argument("--general-conv", action="store_true",
                        help="also time glassnet with every convolution on the general im2col path")
    args = parser.parse_args(argv)

    import glassnet as gn

    gn.tune_allocator_once()
    with gn.threads(args.threads):
        ours = glassnet_step(args.batch, args.model)
        ours()
        if args.ops:
            op_times(ours, args.steps, args.by_shape)
            return 0
        if args.profile:
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.steps):
                ours()
            profile.disable()
            pstats.Stats(profile).sort_stats("tottime").print_stats(25)
            return 0
        theirs = None
        if not args.no_torch:
            import torch
            torch.set_num_threads(args.threads)
            theirs = torch_step(args.batch)
            theirs()
        general = None
        if args.general_conv:
            from glassnet.functional import blocked_conv as conv3x3

            def general():
                applies, conv3x3.applies = conv3x3.applies, lambda *a: False
                try:
                    return timed(ours, args.steps)
                finally:
                    conv3x3.applies = applies

        floor = gemm_floor(ours) if args.gemm_floor else None
        g, t, o, f = [], [], [], []
        for _ in range(args.rounds):
            g.append(timed(ours, args.steps))
            if floor:  # inside gn.threads(n): the BLAS on n threads
                f.append(timed(floor, args.steps))
            if theirs:
                t.append(timed(theirs, args.steps))
            if general:
                o.append(general())
        load = os.getloadavg()[0]
        gm = statistics.median(g)
        line = f"{args.model} step, batch {args.batch}, {args.threads} thread(s): glassnet {gm:.1f} ms"
        if general:
            line += f" (general conv path {statistics.median(o):.1f} ms: {', '.join(f'{v:.0f}' for v in o)})"
        if theirs:
            tm = statistics.median(t)
            line += f", PyTorch {tm:.1f} ms, ratio {gm / tm:.2f}"
        if f:
            line += (f"; the convolutions' products alone {statistics.median(f):.1f} ms"
                     + (f" (ratio {statistics.median(f) / statistics.median(t):.2f} to PyTorch's step)" if theirs else ""))
        print(line + f" (rounds: {', '.join(f'{v:.0f}' for v in g)}"
              + (f" / {', '.join(f'{v:.0f}' for v in t)}" if theirs else "") + f"; load average {load:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
