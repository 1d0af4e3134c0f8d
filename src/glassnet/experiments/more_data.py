"""More training data, real or artificial (Nielsen, ch. 3).

The same 784-30-10 sigmoid network trained on ever larger subsets of
Fashion-MNIST: test accuracy keeps rising with the size of the training set.
Then the book's cheap substitute for more data: each of 1,000 images plus four
copies shifted by one pixel (up, down, left, right) against the 1,000 images
alone. Every run sees the same number of training examples (steps × batch), so
a larger set buys variety, not extra updates; λ follows the book: λ = 5·n/50,000
keeps the weight decay per step ηλ/n the same for every n.
"""

from __future__ import annotations

import math

import numpy as np

from .. import nn, optim
from ..data.transforms import expand_with_shifts
from ..models.mlp import mlp
from ..train import evaluate, fit
from .common import fashion_mnist
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("Test accuracy rises steadily with the number of training images; adding 1-pixel shifted copies "
         "of a small training set raises its test accuracy too.")


def _train_and_test(x, y, x_test, y_test, config, seed, seed_offset: int = 0) -> float:
    model = mlp([784, config.hidden, 10], activation="sigmoid", init="book", generator=config.generator(seed, 1))
    epochs = max(1, math.ceil(config.budget / len(x)))
    fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr), epochs=epochs,
        batch_size=config.batch_size, l2=5.0 * len(x) / 50000, generator=config.generator(seed, 2 + seed_offset),
        verbose=False)
    return evaluate(model, (x_test, y_test))["accuracy"]


@reproduction("more-data", claim=CLAIM,
            source="Nielsen, Neural Networks and Deep Learning, ch. 3, fig/more_data.py",
            dataset="Fashion-MNIST",
            setup=dict(sizes=(500, 1000, 2000, 5000, 10000, 20000, 50000), expand_base=1000, n_test=10000, hidden=30,
                      lr=0.5, batch_size=10, budget=300000),
            quick=dict(sizes=(50, 100, 200, 400), expand_base=100, n_test=1000, hidden=30, lr=0.5,
                       batch_size=10, budget=12000))
def trial(config, seed, condition):
    (x_all, y_all), (x_test, y_test) = fashion_mnist(max(config.sizes), config.n_test, config.generator(seed, 0))
    order = config.generator(seed, 3).permutation(len(x_all))  # nested subsets: each size contains the smaller ones
    sizes = list(config.sizes)
    accuracy = [_train_and_test(x_all[order[:n]], y_all[order[:n]], x_test, y_test, config, seed) for n in sizes]

    base = order[:config.expand_base]
    x_exp, y_exp = expand_with_shifts(x_all[base], y_all[base], shifts=1)
    raw_acc = accuracy[sizes.index(config.expand_base)] if config.expand_base in sizes else \
        _train_and_test(x_all[base], y_all[base], x_test, y_test, config, seed)
    expanded_acc = _train_and_test(x_exp, y_exp, x_test, y_test, config, seed)
    ranks = np.argsort(np.argsort(accuracy))
    numbers = {"sizes": sizes, "test_accuracy": accuracy,
               "rank_correlation_size_vs_accuracy": float(np.corrcoef(np.arange(len(sizes)), ranks)[0, 1]),
               "expand_base": config.expand_base, "raw_test_accuracy": raw_acc,
               "expanded_size": len(x_exp), "expanded_test_accuracy": expanded_acc,
               "epochs_per_size": [max(1, math.ceil(config.budget / n)) for n in sizes]}
    checks = [
        Check("rank correlation of training-set size with test accuracy",
              numbers["rank_correlation_size_vs_accuracy"], ">=", 0.9),
        Check(f"test accuracy with {sizes[-1]} images − with {sizes[0]}", accuracy[-1] - accuracy[0], ">", 0.05),
        Check(f"test accuracy: {config.expand_base} images + shifted copies − {config.expand_base} images",
              expanded_acc - raw_acc, ">", 0.005),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.0)
        ax = axes[0, 0]
        ax.plot(sizes, 100 * np.array(accuracy), "o-", label="real images")
        ax.plot([config.expand_base], [100 * expanded_acc], "r*", ms=12,
                label=f"{config.expand_base} images + 4 shifted copies each")
        ax.set(xscale="log", title="test accuracy vs training-set size", xlabel="training images",
               ylabel="test accuracy (%)")
        ax.legend()
        ax = axes[0, 1]
        bars = ax.bar([f"{config.expand_base} images", f"+ shifted copies\n({len(x_exp)} images)"],
                      [100 * raw_acc, 100 * expanded_acc], color=["C0", "C3"])
        ax.bar_label(bars, fmt="%.1f%%")
        ax.set(title="artificially expanded training data", ylabel="test accuracy (%)",
               ylim=(100 * min(raw_acc, expanded_acc) - 5, 100 * max(raw_acc, expanded_acc) + 3))
        fig.suptitle(f"More data: 784-{config.hidden}-10 sigmoid, η = {config.lr}, λ = 5n/50000, "
                     f"{config.budget} training examples seen per run, test on {len(x_test)} images")
        figures = {"more-data": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
