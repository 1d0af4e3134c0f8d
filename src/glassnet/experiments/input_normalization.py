"""Input preprocessing: centering and scaling (cs231n, "Data preprocessing").

The same 784-100-10 ReLU net (He init), the same SGD learning rate, fed the
pixels three ways: raw bytes 0–255, scaled to [0, 1], and standardized per
pixel with the training set's mean and std ((x − μ)/σ, glassnet's
Standardizer). With 0–255 inputs the first layer's pre-activations are 255×
larger, the first steps blow the weights up and the net never recovers; [0, 1]
trains; zero-centred, unit-variance inputs train fastest (all-positive inputs
make every weight of a unit move in the same direction at each step).
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..data.transforms import Standardizer
from ..models.mlp import mlp
from ..train import fit
from .common import fashion_mnist
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("With everything else equal, standardized inputs converge faster than inputs in [0, 1], which "
         "converge far faster than raw 0–255 pixels.")


@reproduction("input-normalization", claim=CLAIM,
            source="cs231n notes, Neural Networks 2 (data preprocessing)",
            dataset="Fashion-MNIST",
            setup=dict(n_train=60000, n_test=10000, epochs=5, batch_size=32, lr=0.01),
            quick=dict(n_train=3000, n_test=1000, epochs=2, batch_size=32, lr=0.01))
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    standardize = Standardizer("feature").fit(x)
    inputs = {"raw 0–255": (x * 255, x_test * 255), "[0, 1]": (x, x_test),
              "standardized": (standardize(x), standardize(x_test))}
    runs = {}
    for label, (train_x, test_x) in inputs.items():
        model = mlp("784-100-10", activation="relu", init="he_normal", generator=config.generator(seed, 1))
        with np.errstate(over="ignore", invalid="ignore"):  # raw pixels overflow
            history = fit(model, (train_x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr),
                          epochs=config.epochs, batch_size=config.batch_size, validation_data=(test_x, y_test),
                          generator=config.generator(seed, 2), verbose=False)
        runs[label] = {"train_loss": history["loss"] if "loss" in history else [np.nan],
                       "test_accuracy": history["val_accuracy"] if "val_accuracy" in history else [np.nan],
                       "stopped": history.stop_reason}
    raw, unit, std = (runs[k] for k in inputs)
    numbers = {"runs": runs,
               "first_epoch_loss": {k: r["train_loss"][0] for k, r in runs.items()},
               "final_test_accuracy": {k: r["test_accuracy"][-1] for k, r in runs.items()}}
    checks = [
        Check("epoch-1 training loss: standardized / [0, 1]", std["train_loss"][0] / unit["train_loss"][0], "<", 0.9),
        Check("epoch-1 training loss: [0, 1] / raw 0–255", unit["train_loss"][0] / raw["train_loss"][0], "<", 0.9),
        Check("final test accuracy: standardized − [0, 1]", std["test_accuracy"][-1] - unit["test_accuracy"][-1],
              ">", 0),
        Check("final test accuracy: [0, 1] − raw 0–255", unit["test_accuracy"][-1] - raw["test_accuracy"][-1],
              ">", 0.2),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.2)
        epochs = np.arange(1, config.epochs + 1)
        for label, r in runs.items():
            axes[0, 0].plot(epochs[:len(r["train_loss"])], r["train_loss"], "o-", label=label)
            axes[0, 1].plot(epochs[:len(r["test_accuracy"])], 100 * np.array(r["test_accuracy"]), "o-", label=label)
        axes[0, 0].set(yscale="log", title="training loss (epoch mean)", xlabel="epoch", ylabel="loss", xticks=epochs)
        axes[0, 1].set(title="test accuracy", xlabel="epoch", ylabel="accuracy (%)", xticks=epochs)
        for ax in axes[0]:
            ax.legend()
        fig.suptitle(f"Input scaling: 784-100-10 ReLU, He init, SGD η = {config.lr}, mini-batch {config.batch_size}, "
                     f"{len(x)} Fashion-MNIST images")
        figures = {"input-normalization": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
