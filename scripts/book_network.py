"""The book's improved network (chapter 3) on the full Fashion-MNIST, through glassnet.classic.

784-100-10 sigmoid network, cross-entropy cost, weights N(0, 1/n_in), L2 with
lmbda = 5.0 over n = 50,000 training images, eta = 0.1, mini-batch 10, trained
on the first 50,000 training images, validated on the last 10,000 after every
epoch, tested on the 10,000 test images. Three recipes, each a separate run:

* ``fixed``: the book's call, ``net.SGD(training_data, 30, 10, 0.1, lmbda=5.0,
  evaluation_data=validation_data, monitor_evaluation_accuracy=True)``; reports
  the test accuracy of the weights after the last epoch.
* ``early-stopping``: the same, at constant eta, until the book's
  no-improvement-in-10 rule fires (``early_stopping_n=10``); reports the test
  accuracy of the weights of the best validation epoch.
* ``schedule``: chapter 3's learning-rate schedule: halve eta each time the
  validation accuracy has not improved on its best for 10 epochs, stop when eta
  has fallen to eta_0 / 128; reports the final weights.

Every run also records the test accuracy of its best-validation weights. The
options use ``network2.SGD``'s ``epoch_callback``, so their first epochs are the
fixed run's epochs, shuffle for shuffle, for the same seed.

    python scripts/book_network.py --out results/book_network.json
    python scripts/book_network.py --recipe fixed early-stopping schedule --seed 0 1 2 --out study.json
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
from threadpoolctl import threadpool_info

from glassnet.classic import mnist_loader, network2

RECIPES = ("fixed", "early-stopping", "schedule")


class EpochObserver:
    """``epoch_callback`` for network2.SGD: records eta per epoch and the best validation weights.

    The validation accuracy a_j (a count) improves when a_j > max_{i<j} a_i, the
    book's rule. With ``patience`` > 0 it also runs the schedule: after
    ``patience`` epochs in a row without improvement, eta <- eta / 2 (the count
    restarts, the best stays); training stops once eta <= eta_0 / ``eta_divisor``.
    """

    def __init__(self, net, eta0, patience=0, eta_divisor=128):
        self.net = net
        self.eta0 = eta0
        self.patience = patience
        self.eta_divisor = eta_divisor
        self.etas = []
        self.best_accuracy = -1
        self.best_epoch = None
        self.best_params = None
        self.no_improvement = 0

    def __call__(self, epoch, eta, monitors):
        accuracy = monitors[1][-1]
        self.etas.append(eta)
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch, self.no_improvement = accuracy, epoch, 0
            self.best_params = ([w.copy() for w in self.net.weights], [b.copy() for b in self.net.biases])
        else:
            self.no_improvement += 1
        if self.patience and self.no_improvement == self.patience:
            self.no_improvement = 0
            eta = eta / 2
            if eta <= self.eta0 / self.eta_divisor:
                print(f"eta has fallen to eta_0 / {self.eta_divisor:g}: stop")
                return None
            print(f"no improvement in {self.patience} epochs: eta halved to {eta:g}")
        return eta

    def best_accuracy_on(self, data):
        """Correct count on ``data`` with the best-validation weights (the net's own weights are restored)."""
        current = self.net.weights, self.net.biases
        self.net.weights, self.net.biases = self.best_params
        try:
            return self.net.accuracy(data)
        finally:
            self.net.weights, self.net.biases = current


def train(recipe, seed, data, args):
    """One run of ``recipe`` from ``random.seed(seed); np.random.seed(seed)``; returns its result dict."""
    training_data, validation_data, test_data = data
    random.seed(seed)
    np.random.seed(seed)
    net = network2.Network([784, args.hidden, 10], cost=network2.CrossEntropyCost)
    observer = EpochObserver(net, args.eta, patience=args.patience if recipe == "schedule" else 0,
                             eta_divisor=args.eta_divisor)
    epochs = args.epochs if recipe == "fixed" else args.max_epochs
    early_stopping_n = args.patience if recipe == "early-stopping" else 0
    print(f"--- {recipe}, seed {seed} ---")
    start = time.perf_counter()
    _, validation_accuracy, _, _ = net.SGD(training_data, epochs, args.mini_batch_size, args.eta,
                                           lmbda=args.lmbda, evaluation_data=validation_data,
                                           monitor_evaluation_accuracy=True, early_stopping_n=early_stopping_n,
                                           epoch_callback=observer)
    train_seconds = time.perf_counter() - start
    n_test, n_val = len(test_data), len(validation_data)
    final_test = net.accuracy(test_data) / n_test
    best_test = observer.best_accuracy_on(test_data) / n_test
    reported = best_test if recipe == "early-stopping" else final_test
    run_epochs = len(validation_accuracy)
    result = {
        "recipe": recipe, "seed": seed,
        "test_accuracy": reported,
        "reported_weights": "best validation epoch" if recipe == "early-stopping" else "last epoch",
        "floor_met": reported >= args.floor,
        "final_test_accuracy": final_test, "best_validation_test_accuracy": best_test,
        "best_validation_accuracy": observer.best_accuracy / n_val, "best_epoch": observer.best_epoch,
        "final_validation_accuracy": validation_accuracy[-1] / n_val,
        "epochs": run_epochs, "hit_epoch_cap": recipe != "fixed" and run_epochs == epochs,
        "final_eta": observer.etas[-1],
        "train_seconds": train_seconds, "images_per_second": run_epochs * len(training_data) / train_seconds,
        "validation_accuracy": [a / n_val for a in validation_accuracy], "eta": observer.etas,
    }
    print(f"{recipe}, seed {seed}: TEST accuracy {reported:.4f} ({result['reported_weights']} weights; "
          f"last epoch {final_test:.4f}, best-validation epoch {observer.best_epoch} {best_test:.4f}); "
          f"floor {args.floor:.2f} {'met' if result['floor_met'] else 'NOT met'}; "
          f"{run_epochs} epochs in {train_seconds:.1f} s")
    return result


def summarise(runs, floor):
    """Per recipe: test accuracies over seeds, their mean, min, max, and how many meet the floor."""
    summary = {}
    for recipe in dict.fromkeys(r["recipe"] for r in runs):
        accs = [r["test_accuracy"] for r in runs if r["recipe"] == recipe]
        summary[recipe] = {"test_accuracy": accs, "mean": float(np.mean(accs)), "min": min(accs),
                           "max": max(accs), "seeds_meeting_floor": sum(a >= floor for a in accs),
                           "seeds": len(accs)}
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", nargs="+", default=["fixed"], choices=RECIPES,
                        help="which recipes to run (default: fixed)")
    parser.add_argument("--seed", nargs="+", type=int, default=[0],
                        help="seeds of random and np.random, as the book's runs; one run per recipe and seed")
    parser.add_argument("--dataset", default="fashion-mnist", choices=["fashion-mnist", "mnist"])
    parser.add_argument("--data-dir", default=None, help="folder holding the IDX files (default: glassnet's lookup)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs of the fixed recipe (default 30)")
    parser.add_argument("--max-epochs", type=int, default=500,
                        help="cap on the epochs of early-stopping and schedule (default 500)")
    parser.add_argument("--patience", type=int, default=10,
                        help="the no-improvement-in-n rule's n for early-stopping and schedule (default 10)")
    parser.add_argument("--eta-divisor", type=float, default=128,
                        help="schedule stops when eta has fallen to eta_0 / this (default 128)")
    parser.add_argument("--hidden", type=int, default=100, help="hidden neurons (default 100)")
    parser.add_argument("--eta", type=float, default=0.1)
    parser.add_argument("--lmbda", type=float, default=5.0)
    parser.add_argument("--mini-batch-size", type=int, default=10)
    parser.add_argument("--floor", type=float, default=0.88, help="the test-accuracy floor from the README (default 0.88)")
    parser.add_argument("--out", default=None, help="write the results as JSON to this path")
    args = parser.parse_args(argv)
    if args.patience < 1 or args.eta_divisor <= 1:
        parser.error(f"--patience must be >= 1 and --eta-divisor > 1, got {args.patience} and {args.eta_divisor}")

    data = mnist_loader.load_data_wrapper(args.dataset, args.data_dir)
    runs = [train(recipe, seed, data, args) for recipe in args.recipe for seed in args.seed]
    summary = summarise(runs, args.floor)

    print(f"\n{'recipe':<15}{'seed':>5}{'test':>8}{'best val':>10}{'test@best':>11}{'epochs':>8}{'seconds':>9}")
    for r in runs:
        print(f"{r['recipe']:<15}{r['seed']:>5}{r['test_accuracy']:>8.4f}{r['best_validation_accuracy']:>10.4f}"
              f"{r['best_validation_test_accuracy']:>11.4f}{r['epochs']:>8}{r['train_seconds']:>9.1f}")
    for recipe, s in summary.items():
        print(f"{recipe}: mean test {s['mean']:.4f} (min {s['min']:.4f}, max {s['max']:.4f}); "
              f"floor {args.floor:.2f} met by {s['seeds_meeting_floor']} of {s['seeds']} seeds")

    if args.out:
        results = {
            "network": f"784-{args.hidden}-10", "activation": "sigmoid", "cost": "CrossEntropyCost",
            "initializer": "default_weight_initializer (N(0, 1/n_in) weights, N(0, 1) biases)",
            "dataset": args.dataset, "n_train": len(data[0]), "n_validation": len(data[1]), "n_test": len(data[2]),
            "epochs_fixed": args.epochs, "max_epochs": args.max_epochs, "patience": args.patience,
            "eta_divisor": args.eta_divisor, "mini_batch_size": args.mini_batch_size, "eta": args.eta,
            "lmbda": args.lmbda, "floor": args.floor, "summary": summary, "runs": runs,
            "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "numpy": np.__version__,
                        "blas_threads": [(i["internal_api"], i["num_threads"]) for i in threadpool_info()]},
            "date": time.strftime("%Y-%m-%d"),
        }
        folder = os.path.dirname(os.path.abspath(args.out))
        os.makedirs(folder, exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(results, f, indent=2)
        print(f"results written to {args.out}")
    return runs


if __name__ == "__main__":
    main()
