"""Overfitting and regularization (Nielsen, ch. 3).

The book's setting (full mode): a 784-30-10 sigmoid network, with far more
weights (23,820) than training images (1,000), trained by SGD (η = 0.5,
mini-batches of 10) for 400 epochs: its training cost keeps falling long
after its test accuracy has stopped improving; it memorizes the training set.
The same run with L2 (C₀ + λ/2n Σw², the book's λ = 0.1), with L1
(C₀ + λ/n Σ|w|) and with (inverted) dropout on the hidden layer should narrow
the gap between training and test accuracy by more than a point.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..train import fit
from .common import RecordAccuracy, fashion_mnist
from .plotting import figure, save
from .registry import Check, experiment

CLAIM = ("With 1,000 training images the unregularized net's training cost keeps falling while its test "
         "accuracy stalls, leaving a large train/test gap; L2, L1 and dropout each narrow that gap.")


def variants(config) -> dict:
    """label -> (fit keyword arguments, mlp keyword arguments)."""
    return {"no regularization": ({}, {}),
            f"L2, λ = {config.l2}": (dict(l2=config.l2), {}),
            f"L1, λ = {config.l1}": (dict(l1=config.l1), {}),
            f"dropout p = {config.dropout}": ({}, dict(dropout=config.dropout))}


@experiment("overfitting", CLAIM,
            quick=dict(n_train=200, n_test=1000, hidden=100, epochs=50, lr=0.5, batch_size=10, l2=1.0, l1=0.3,
                       dropout=0.5),
            full=dict(n_train=1000, n_test=5000, hidden=30, epochs=400, lr=0.5, batch_size=10, l2=0.1, l1=0.1,
                      dropout=0.5))
def run(config):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(0))
    loss = nn.CrossEntropyLoss()
    tail = max(1, config.epochs // 10)  # the gap is averaged over the last 10% of the epochs
    runs = {}
    for label, (fit_kwargs, net_kwargs) in variants(config).items():
        model = mlp([784, config.hidden, 10], activation="sigmoid", init="book", generator=config.generator(1),
                    **net_kwargs)
        train_accuracy = RecordAccuracy(x, y)
        history = fit(model, (x, y), loss, optim.SGD(model.parameters(), lr=config.lr), epochs=config.epochs,
                      batch_size=config.batch_size, validation_data=(x_test, y_test), callbacks=[train_accuracy],
                      generator=config.generator(2), verbose=False, **fit_kwargs).history
        gaps = np.array(train_accuracy.accuracy) - np.array(history["val_accuracy"])
        runs[label] = {"train_cost": history["loss"], "test_cost": history["val_loss"],
                       "train_accuracy": train_accuracy.accuracy, "test_accuracy": history["val_accuracy"],
                       "gap": float(gaps[-tail:].mean()),
                       "test_cost_rise_from_its_minimum": float(history["val_loss"][-1] - min(history["val_loss"]))}
    base = runs["no regularization"]
    half = config.epochs // 2
    acc, cost = np.array(base["test_accuracy"]), np.array(base["train_cost"])
    numbers = {"runs": runs,
               "no_reg_test_accuracy_gain_second_half": float(acc[half:].max() - acc[:half].max()),
               "no_reg_train_cost_ratio_end_vs_half": float(cost[-1] / cost[half - 1]),
               "gaps_last_10_percent_of_epochs": {k: r["gap"] for k, r in runs.items()}}
    checks = [
        Check(f"no regularization: best test accuracy of epochs {half + 1}-{config.epochs} − best of epochs 1-{half}",
              numbers["no_reg_test_accuracy_gain_second_half"], "<", 0.01),
        Check(f"no regularization: training cost at epoch {config.epochs} / at epoch {half}",
              numbers["no_reg_train_cost_ratio_end_vs_half"], "<", 0.5),
        Check(f"no regularization: train − test accuracy (mean of the last {tail} epochs)", base["gap"], ">", 0.05),
    ]
    checks += [Check(f"{label}: train − test accuracy, minus that of no regularization", r["gap"] - base["gap"],
                     "<", -0.01) for label, r in runs.items() if r is not base]

    fig, axes = figure(1, 3, width=4.6)
    epochs = np.arange(1, config.epochs + 1)
    for i, (label, r) in enumerate(runs.items()):
        axes[0, 0].plot(epochs, r["train_cost"], color=f"C{i}", label=label)
        axes[0, 1].plot(epochs, r["test_cost"], color=f"C{i}", label=label)
        axes[0, 2].plot(epochs, 100 * np.array(r["train_accuracy"]), color=f"C{i}", ls=":", lw=1)
        axes[0, 2].plot(epochs, 100 * np.array(r["test_accuracy"]), color=f"C{i}",
                        label=f"{label} (gap {100 * r['gap']:.1f})")
    axes[0, 0].set(title="training cost C₀ (no penalty term)", xlabel="epoch", ylabel="cost", yscale="log")
    axes[0, 1].set(title="test cost", xlabel="epoch", ylabel="cost")
    axes[0, 2].set(title="accuracy: test (solid), train (dotted)", xlabel="epoch", ylabel="accuracy (%)")
    for ax in axes[0]:
        ax.legend(fontsize=8)
    fig.suptitle(f"Overfitting: 784-{config.hidden}-10 sigmoid, {len(x)} training images, η = {config.lr}, "
                 f"mini-batch {config.batch_size}; test on {len(x_test)} images")
    return numbers, checks, [save(fig, config, "overfitting")]
