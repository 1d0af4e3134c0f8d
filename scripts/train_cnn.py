"""The course's two-conv CNN on Fashion-MNIST, and its spatial-pyramid variant, with glassnet.

``book``: ``glassnet.models.book_cnn`` (conv 20@5×5, ReLU, max-pool 2, conv 40@5×5,
ReLU, max-pool 2, FC 100, ReLU, FC 10; softmax cross-entropy).
``spp``: ``glassnet.models.spp_cnn``, the same network with spatial pyramid
pooling (levels 1, 2, 4) in place of the second max-pool. It is trained on
28×28 images only and then also classifies the test set as 32×32 images (each
image zero-padded by 2 pixels on every side) without any change.

Recipe (both): mini-batches of 64 from the 60,000 training images, reshuffled
every epoch; pixels scaled to [0, 1] and standardized with the training set's
mean and std; SGD with Nesterov momentum 0.9, learning rate 0.05 annealed to 0
by a cosine over the epochs (one step per epoch), weight decay 5e-4. The 10,000
test images are evaluated after every epoch (the curve); the reported accuracy
is the last epoch's, not the best.

    nice -n 10 python scripts/train_cnn.py --out results/cnn.json      # both models
    python scripts/train_cnn.py --model book --epochs 1 --limit 5000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np

import glassnet as gn
from glassnet import nn, optim
from glassnet.data import DataLoader, Standardizer, load_dataset, to_float
from glassnet.models import book_cnn, spp_cnn
from glassnet.train import evaluate, fit


def train(model, x_train, y_train, test, args, rng) -> tuple[dict, float]:
    """Train ``model`` with the recipe above; returns (history, seconds)."""
    loader = DataLoader((x_train, y_train), batch_size=args.batch_size, shuffle=True, generator=rng)
    opt = optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True, weight_decay=args.weight_decay)
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs)
    start = time.perf_counter()
    history = fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=args.epochs,
                  validation_data=DataLoader(test, batch_size=500), scheduler=schedule)
    return history, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=["book", "spp", "both"], default="both")
    parser.add_argument("--data-dir", default=None, help="folder holding the IDX files (default: glassnet's lookup)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--spp-levels", default="1,2,4")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on only this many images (a quick look)")
    parser.add_argument("--floor", type=float, default=0.91, help="the book CNN's test-accuracy floor from the README")
    parser.add_argument("--out", default=None, help="write the results as JSON to this path")
    args = parser.parse_args(argv)

    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist", data_dir=args.data_dir)
    x_train, x_test = to_float(x_train[:, None]), x_test[:, None]  # (N, 1, 28, 28)
    if args.limit:
        x_train, y_train = x_train[:args.limit], y_train[:args.limit]
    standardizer = Standardizer("global").fit(x_train)
    x_train = standardizer(x_train)
    test_28 = (standardizer(to_float(x_test)), y_test)
    test_32 = (standardizer(to_float(np.pad(x_test, ((0, 0), (0, 0), (2, 2), (2, 2))))), y_test)

    results = {"args": vars(args), "machine": f"{platform.node()} ({os.cpu_count()} CPUs), numpy {np.__version__}"}
    names = ["book", "spp"] if args.model == "both" else [args.model]
    for name in names:
        gn.seed(args.seed)
        rng = np.random.default_rng(args.seed)
        levels = tuple(int(level) for level in args.spp_levels.split(","))
        model = book_cnn(generator=rng) if name == "book" else spp_cnn(levels, generator=rng)
        print(f"== {name}: {model.num_parameters():,} parameters, {args.epochs} epochs", flush=True)
        history, seconds = train(model, x_train, y_train, test_28, args, rng)
        result = {"parameters": model.num_parameters(), "train_seconds": seconds,
                  "seconds_per_epoch": seconds / args.epochs, "test_accuracy": history["val_accuracy"][-1],
                  "history": {k: list(v) for k, v in history.history.items()}}
        print(f"{name}: TEST accuracy {result['test_accuracy']:.4f}; wall time {seconds:.0f} s "
              f"({seconds / args.epochs:.0f} s per epoch incl. the test pass)")
        if name == "book":
            result["floor_met"] = result["test_accuracy"] >= args.floor
            print(f"book: floor {args.floor:.2f} {'met' if result['floor_met'] else 'NOT met'}")
        else:
            result["test_accuracy_32_padded"] = evaluate(model, test_32, batch_size=500)["accuracy"]
            print(f"spp: TEST accuracy on 32x32 zero-padded images, same weights: "
                  f"{result['test_accuracy_32_padded']:.4f}")
        results[name] = result
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
