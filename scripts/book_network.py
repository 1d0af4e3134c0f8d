"""The book's improved network (chapter 3) on the full Fashion-MNIST, through glassnet.classic.

784-100-10 sigmoid network, cross-entropy cost, weights N(0, 1/n_in), L2 with
lmbda = 5.0 over n = 50,000 training images, eta = 0.1, mini-batch 10, 30 epochs,
validation accuracy printed after every epoch (the book's
``net.SGD(training_data, 30, 10, 0.1, lmbda=5.0, evaluation_data=validation_data,
monitor_evaluation_accuracy=True)``), then the accuracy on the 10,000 test images.

    python scripts/book_network.py --out results/book_network.json
    python scripts/book_network.py --epochs 5 --dataset mnist
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import time

import numpy as np

from glassnet.classic import mnist_loader, network2


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    parser.add_argument("--data-dir", default=None, help="folder holding the IDX files (default: glassnet's lookup)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=100, help="hidden neurons (default 100)")
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--lmbda", type=float, default=5.0)
    parser.add_argument("--mini-batch-size", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0, help="seeds random and np.random, as the book's runs")
    parser.add_argument("--floor", type=float, default=0.88, help="test accuracy the issue asks for (default 0.88)")
    parser.add_argument("--out", default=None, help="write the results as JSON to this path")
    args = parser.parse_args(argv)

    random.seed(args.seed)
    np.random.seed(args.seed)
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper(args.dataset, args.data_dir)
    sizes = [784, args.hidden, 10]
    net = network2.Network(sizes, cost=network2.CrossEntropyCost)
    start = time.perf_counter()
    _, validation_accuracy, _, _ = net.SGD(training_data, args.epochs, args.mini_batch_size, args.eta,
                                           lmbda=args.lmbda, evaluation_data=validation_data,
                                           monitor_evaluation_accuracy=True)
    train_seconds = time.perf_counter() - start
    test_accuracy = net.accuracy(test_data) / len(test_data)
    images_per_second = args.epochs * len(training_data) / train_seconds
    floor_met = test_accuracy >= args.floor
    print(f"TEST accuracy: {test_accuracy:.4f} ({args.dataset}, {len(test_data)} images); "
          f"floor {args.floor:.2f} {'met' if floor_met else 'NOT met'}")
    print(f"wall time: {train_seconds:.1f} s for {args.epochs} epochs ({images_per_second:.0f} images/s, "
          f"validation evaluated each epoch)")

    if args.out:
        results = {
            "network": "-".join(map(str, sizes)), "activation": "sigmoid", "cost": "CrossEntropyCost",
            "initializer": "default_weight_initializer (N(0, 1/n_in) weights, N(0, 1) biases)",
            "dataset": args.dataset, "n_train": len(training_data), "epochs": args.epochs,
            "mini_batch_size": args.mini_batch_size, "eta": args.eta, "lmbda": args.lmbda, "seed": args.seed,
            "validation_accuracy": [a / len(validation_data) for a in validation_accuracy],
            "test_accuracy": test_accuracy, "floor": args.floor, "floor_met": floor_met, "train_seconds": train_seconds,
            "images_per_second": images_per_second,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "numpy": np.__version__},
            "date": time.strftime("%Y-%m-%d"),
        }
        folder = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(folder, exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {args.out}")
    return test_accuracy


if __name__ == "__main__":
    main()
