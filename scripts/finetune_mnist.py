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

    nice -n 10 python scripts/finetune_mnist.py --seeds 0 1 2 --out results/finetune_mnist.json

The table gives, per cell, the mean over the seeds with its 95% t-interval
(:func:`glassnet.experiments.stats.summarize`), and the paired differences
finetuned − scratch and finetuned − frozen: the same seed draws the same K
images per class for every strategy, so the difference per seed removes the
draw's luck that the strategies share. The JSON records the zoo body used
(its sha256, epochs and Fashion-MNIST test accuracy, and each body cell the
sha256): cells measured with another body are not mixed in (the scratch
cells, which do not use it, can be run first, ``--strategies scratch``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


from glassnet.cli.main import main as glassnet
from glassnet.experiments.stats import summarize
from glassnet.models.model_zoo import zoo_index

BODY = "resnet14-fashion"

SCHEDULE = {10: (15, 16), 100: (4, 32), 440: (2, 64)}  # K -> (epochs, batch size): 100-140 steps each
STRATEGIES = {
    "frozen": ["--finetune", BODY, "--freeze", "body"],
    "finetuned": ["--finetune", BODY, "--body-lr-scale", "0.1"],
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
    parser.add_argument("--test-limit", type=int, default=None, help="test on the first N test images only "
                        "(quick checks; the table's numbers use all 5,000)")
    args = parser.parse_args(argv)
    entry = zoo_index()[BODY]
    body = {"name": BODY, "sha256": entry["sha256"], "epochs_run": entry["epochs_run"],
            "test_accuracy": entry["test_accuracy"]}
    results = json.loads(Path(args.out).read_text()) if args.out and Path(args.out).is_file() else {"cells": []}
    other = [c for c in results["cells"] if c["strategy"] != "scratch"
             and c.get("body_sha256", results.get("body", {}).get("sha256")) != body["sha256"]]
    if other:  # the scratch cells do not use the body: they stay valid
        raise SystemExit(f"{args.out} holds {len(other)} cells measured with another {BODY}; write to a new file")
    results["body"] = body
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
                        "cosine", "--seed", str(seed), "--threads", "1", "--quiet", "--no-figures", "--out", str(out)]
                if args.data_dir:
                    argv += ["--data-dir", args.data_dir]
                if args.test_limit:
                    argv += ["--test-limit", str(args.test_limit)]
                start, cpu = time.perf_counter(), time.process_time()
                if glassnet(argv) != 0:
                    raise SystemExit(f"glassnet {' '.join(argv)} failed")
                run = json.loads((out / "run.json").read_text())["results"]
                results["cells"].append({"per_class": k, "strategy": strategy, "seed": seed, "epochs": epochs,
                                         "batch_size": batch, "test_accuracy": run["test_accuracy"],
                                         "wall_s": round(time.perf_counter() - start, 1),
                                         "cpu_s": round(time.process_time() - cpu, 1),
                                         **({} if strategy == "scratch" else {"body_sha256": body["sha256"]})})
                print(f"K={k:5d} {strategy:10s} seed {seed}: test accuracy {100 * run['test_accuracy']:.2f}%",
                      flush=True)
                if args.out:
                    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
                    Path(args.out).write_text(json.dumps(results, indent=1) + "\n")
    print(table(results["cells"]))


def table(cells) -> str:
    """Markdown: one row per K, one column per strategy (mean and 95% t-interval over the seeds, in
    points of test accuracy), then the paired differences finetuned − scratch and finetuned − frozen."""
    pairs = (("finetuned", "scratch"), ("finetuned", "frozen"))
    lines = ["| labelled images per class | " + " | ".join(STRATEGIES) + " | "
             + " | ".join(f"{a} − {b} (paired)" for a, b in pairs) + " |",
             "|---" * (len(STRATEGIES) + len(pairs) + 1) + "|"]
    for k in sorted({c["per_class"] for c in cells}):
        by = {s: {c["seed"]: 100 * c["test_accuracy"] for c in cells if c["per_class"] == k and c["strategy"] == s}
              for s in STRATEGIES}
        row = [cell(list(by[s].values())) for s in STRATEGIES]
        for a, b in pairs:
            seeds = sorted(set(by[a]) & set(by[b]))
            row.append(cell([by[a][s] - by[b][s] for s in seeds], signed=True))
        lines.append(f"| {k} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def cell(values, signed: bool = False) -> str:
    """``m ± h% (n seeds)``: the mean and the half-width of its 95% t-interval; one value alone has none."""
    if not values:
        return ""
    summary = summarize(values)
    mean, (low, high) = summary["mean"], summary["ci95"]
    number = f"{mean:+.2f}" if signed else f"{mean:.2f}"
    if len(values) == 1:
        return f"{number}% (1 seed)"
    return f"{number} ± {(high - low) / 2:.2f}% ({len(values)} seeds)"


if __name__ == "__main__":
    main()
