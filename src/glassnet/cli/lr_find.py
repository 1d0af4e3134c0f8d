"""``glassnet lr-find``: the learning-rate range test for a ``glassnet train`` setup.

    glassnet lr-find                                   # the default MLP on Fashion-MNIST
    glassnet lr-find --model book_cnn --optimizer sgd --steps 300
    glassnet lr-find --config configs/resnet14.toml --out runs/lr_find_resnet

Takes the data, model and optimizer options of ``glassnet train`` (``--lr`` is
ignored: the test sweeps it), raises the rate exponentially from
``--start-lr`` to ``--end-lr`` over ``--steps`` mini-batches, smooths the loss
(bias-corrected moving average) and suggests the rate of its steepest descent,
found after a burn-in (``--burn-in``, a fraction of the steps) so an early
spike cannot fool it. Writes ``lr_find.png`` and ``lr_find.json`` into
``--out``. A common use: train with ``--schedule onecycle --lr`` at the
suggestion or a few times above it (the minimum's rate over 10 is another rule).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from threadpoolctl import threadpool_limits

from ..functional.losses import COSTS
from ..io.serialization import atomic_write_text
from ..train.lr_finder import lr_range_test, plot_range_test
from .train import (
    add_data_and_model_arguments,
    blas_threads,
    make_optimizer,
    parameter_groups,
    prepare_run,
    resolve_options,
)


def add_parser(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("lr-find", help="the learning-rate range test: plot and a suggested rate",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   argument_default=argparse.SUPPRESS)
    add_data_and_model_arguments(parser)
    a = parser.add_argument
    a("--start-lr", type=float, default=1e-7, help="first rate (default 1e-7)")
    a("--end-lr", type=float, default=10.0, help="last rate (default 10)")
    a("--steps", type=int, default=200, help="mini-batches (default 200)")
    a("--burn-in", type=float, default=0.1, help="fraction of the steps ignored by the suggestion (default 0.1)")
    a("--out", default="runs/lr_find", help="output folder (default runs/lr_find)")
    parser.set_defaults(func=run)
    return parser


def run(args) -> int:
    sweep = {k: getattr(args, k.replace("-", "_")) for k in ("start-lr", "end-lr", "steps", "burn-in", "out")}
    for key in sweep:
        delattr(args, key.replace("-", "_"))
    options = resolve_options(args)
    out = Path(sweep["out"])
    out.mkdir(parents=True, exist_ok=True)
    prepared = prepare_run(options)
    optimizer = make_optimizer(options, parameter_groups(prepared.model, options, prepared.head))
    print(f"glassnet lr-find: {prepared.task.name}, {prepared.n_train} training examples, model {options['model']}, "
          f"{options['optimizer']}; lr {sweep['start-lr']:g} → {sweep['end-lr']:g} over {sweep['steps']} batches "
          f"of {options['batch-size']}", flush=True)
    with threadpool_limits(blas_threads(options["threads"])):
        result = lr_range_test(prepared.model, prepared.loader, COSTS[options["cost"]], optimizer,
                               sweep["start-lr"], sweep["end-lr"], sweep["steps"], burn_in=sweep["burn-in"])
    plot_range_test(result, out / "lr_find.png", f"lr range test: {options['model']} on {prepared.task.name}, "
                    f"{options['optimizer']}")
    atomic_write_text(out / "lr_find.json", json.dumps({"options": options, "sweep": sweep, **result.to_dict()},
                                                      indent=1) + "\n")
    print(f"{len(result.lrs)} steps; {result.stop_reason}")
    if result.suggestion is None:
        print("no suggestion: the smoothed loss did not fall after the burn-in; try a wider range or more steps",
              file=sys.stderr)
        return 1
    lowest = result.lrs[result.min_index]
    print(f"suggested lr: {result.suggestion:.3g} (steepest descent of the smoothed loss); minimum at {lowest:.3g} "
          f"(lowest/10 = {lowest / 10:.3g}); plot: {out / 'lr_find.png'}")
    return 0
