"""Weight initialization and speed of learning (Nielsen, ch. 3).

The book's 784-30-10 sigmoid network with the cross-entropy cost summed over
its 10 sigmoid outputs, L2 λ = 5, η = 0.1, mini-batches of 10, started with
weights N(0, 1) ("large": a hidden unit's z has std ≈ √(n_in·E[x²]) and
saturates) and with N(0, 1/n_in) (the book's default; biases N(0, 1) in both).
The scaled init should reach a good accuracy epochs earlier; the book finds the
two end up about equally accurate.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import optim
from ..models.mlp import mlp
from ..train import fit
from .common import fashion_mnist
from .plotting import figure, save
from .registry import Check, experiment

CLAIM = ("On real data (784-30-10 sigmoid, cross-entropy, λ = 5, η = 0.1), weights N(0, 1/n_in) learn faster "
         "than N(0, 1): higher test accuracy after the first epoch and on average over the epochs.")

INITS = {"N(0, 1)": "large", "N(0, 1/n_in)": "book"}


@experiment("init-learning-curves", CLAIM,
            quick=dict(n_train=3000, n_test=2000, epochs=3, hidden=30, lr=0.1, l2=5.0, batch_size=10),
            full=dict(n_train=50000, n_test=10000, epochs=15, hidden=30, lr=0.1, l2=5.0, batch_size=10))
def run(config):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(0))
    histories = {}
    for label, scheme in INITS.items():
        model = mlp([784, config.hidden, 10], activation="sigmoid", init=scheme, generator=config.generator(1))
        histories[label] = fit(model, (x, y), F.sigmoid_cross_entropy, optim.SGD(model.parameters(), lr=config.lr),
                               epochs=config.epochs, batch_size=config.batch_size, l2=config.l2,
                               validation_data=(x_test, y_test), generator=config.generator(2),
                               verbose=False).history
    large, scaled = (np.array(histories[k]["val_accuracy"]) for k in INITS)
    numbers = {label: {"test_accuracy": h["val_accuracy"], "train_cost": h["loss"], "test_cost": h["val_loss"]}
               for label, h in histories.items()}
    numbers["accuracy_gap_after_epoch_1"] = float(scaled[0] - large[0])
    numbers["mean_accuracy_gap_over_epochs"] = float(np.mean(scaled - large))
    numbers["final_test_accuracy"] = {"N(0, 1)": float(large[-1]), "N(0, 1/n_in)": float(scaled[-1])}
    checks = [
        Check("test accuracy after epoch 1: N(0,1/n_in) − N(0,1)", numbers["accuracy_gap_after_epoch_1"], ">", 0.02),
        Check(f"mean over {config.epochs} epochs of that difference", numbers["mean_accuracy_gap_over_epochs"],
              ">", 0.0),
    ]

    fig, axes = figure(1, 2, width=5.0)
    epochs = np.arange(1, config.epochs + 1)
    for label in INITS:
        axes[0, 0].plot(epochs, 100 * np.array(numbers[label]["test_accuracy"]), "o-", ms=3, label=label)
        axes[0, 1].plot(epochs, numbers[label]["train_cost"], "o-", ms=3, label=f"{label}, training")
    axes[0, 0].set(title="test accuracy", xlabel="epoch", ylabel="accuracy (%)")
    axes[0, 1].set(title="training cost (without the L2 term)", xlabel="epoch",
                   ylabel="cost")
    for ax in axes[0]:
        ax.legend()
    fig.suptitle(f"Initialization: 784-{config.hidden}-10 sigmoid on {len(x)} Fashion-MNIST images "
                 f"(test: {len(x_test)}), η = {config.lr}, λ = {config.l2}, mini-batch {config.batch_size}")
    return numbers, checks, [save(fig, config, "init_learning_curves")]
