"""The README's worked example: the Fashion-MNIST ResNet of the zoo fine-tuned
on real MNIST digits with few labels, against the same network from scratch.

Data: ``mnist-10k`` — the 10,000 MNIST test images (the project's offline
copy), split once (stratified, seed 0) into a 5,000-image pool and a
5,000-image test set. Each cell draws K labelled images per class from the
pool (``--per-class K``, seeded by the run's seed; K = 10, 100 and 440: the
pool holds only 446 to 567 images per class, so 1,000 per class would need
more than these 10,000 images) and 200 more pool images for validation
(monitored only: the reported accuracy is the last epoch's on the 5,000 test
images). Strategies, each one ``glassnet train`` run:

* ``frozen``: ``--finetune resnet14-fashion --freeze body`` (a new 10-way head
  on the fixed body; batch norm re-estimates its statistics on the new data);
* ``finetuned``: ``--finetune resnet14-fashion --body-lr-scale 0.1`` (every
  layer trains, the body at a tenth of the head's rate);
* ``scratch``: ``--model resnet_small --blocks 2`` from random weights.

All use the zoo model's recipe (SGD with Nesterov momentum 0.9, weight decay
5e-4, cosine decay, random 2-pixel shifts) at lr 0.05, with epochs and batch
size per K below (100 to 160 optimizer steps for every K: a small, equal budget).

    nice -n 10 python scripts/finetune_mnist.py --seeds 0 --out results/finetune_mnist.json
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from glassnet.cli.main import main as glassnet

SCHEDULE = {10: (15, 16), 100: (4, 32), 440: (2, 64)}  # K -> (epochs, batch size): 100-140 steps each
STRATEGIES = {
    "frozen": ["--finetune", "resnet14-fashion", "--freeze", "body"],
    "finetuned": ["--finetune", "resnet14-fashion", "--body-lr-scale", "0.1"],
    "scratch": ["--model", "resnet_small", "--blocks", "2"],
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-class", type=int, nargs="+", default=[10, 100, 440])
    parser.add_argument("--strategies", nargs="+", default=list(STRATEGIES), choices=list(STRATEGIES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--data-dir", default=None, help="folder with MNIST's t10k IDX files")
    parser.add_argument("--runs", default="runs/finetune_mnist", help="folder for the runs' outputs")
    parser.add_argument("--out", default=None, help="write the table as JSON here")
    args = parser.parse_args(argv)
    results = json.loads(Path(args.out).read_text()) if args.out and Path(args.out).is_file() else {"cells": []}
    done = {(c["per_class"], c["strategy"], c["seed"]) for c in results["cells"]}
    for k in args.per_class:
        epochs, batch = SCHEDULE.get(k, (5, 64))
        for seed in args.seeds:
            for strategy in args.strategies:
                if (k, strategy, seed) in done:
                    continue
                out = Path(args.runs) / f"k{k}_{strategy}_seed{seed}"
                argv = ["train", *STRATEGIES[strategy], "--dataset", "mnist-10k", "--per-class", str(k),
                        "--val", "200", "--epochs", str(epochs), "--batch-size", str(batch), "--lr", "0.05",
                        "--optimizer", "nesterov", "--weight-decay", "5e-4", "--augment", "2", "--schedule",
                        "cosine", "--seed", str(seed), "--threads", "1", "--quiet", "--out", str(out)]
                if args.data_dir:
                    argv += ["--data-dir", args.data_dir]
                start = time.perf_counter()
                if glassnet(argv) != 0:
                    raise SystemExit(f"glassnet {' '.join(argv)} failed")
                run = json.loads((out / "run.json").read_text())["results"]
                results["cells"].append({"per_class": k, "strategy": strategy, "seed": seed, "epochs": epochs,
                                         "batch_size": batch, "test_accuracy": run["test_accuracy"],
                                         "wall_s": round(time.perf_counter() - start, 1)})
                print(f"K={k:5d} {strategy:10s} seed {seed}: test accuracy {100 * run['test_accuracy']:.2f}%",
                      flush=True)
                if args.out:
                    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
                    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(table(results["cells"]))


def table(cells) -> str:
    """Markdown: one row per K, one column per strategy, mean ± sample std over seeds (n)."""
    lines = ["| labelled images per class | " + " | ".join(STRATEGIES) + " |", "|---" * (len(STRATEGIES) + 1) + "|"]
    for k in sorted({c["per_class"] for c in cells}):
        row = []
        for strategy in STRATEGIES:
            values = [100 * c["test_accuracy"] for c in cells if c["per_class"] == k and c["strategy"] == strategy]
            if not values:
                row.append("")
            elif len(values) == 1:
                row.append(f"{values[0]:.2f}% (1 seed)")
            else:
                row.append(f"{np.mean(values):.2f} ± {np.std(values, ddof=1):.2f}% ({len(values)} seeds)")
        lines.append(f"| {k} | " + " | ".join(row) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
