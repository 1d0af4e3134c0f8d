"""Dropout (Srivastava et al.; cs231n's "inverted dropout").

While training, each hidden unit is kept with probability 1 − p and the kept
ones are scaled by 1/(1 − p), so the expected activation equals the one at
test time, where nothing is dropped or scaled. A wide ReLU net on a small
training set overfits; dropout on its hidden layers (p = 0.3, 0.5) should
shrink the train/test accuracy gap. Also measured: the mean output of the
first dropout layer in training mode (10 masks) over its mean in evaluation
mode, which inverted dropout keeps at 1.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..tensor import Tensor, no_grad
from ..train import fit
from .common import RecordAccuracy, fashion_mnist
from .plotting import figure, save
from .registry import Check, experiment

CLAIM = ("(Inverted) dropout at p = 0.5 and p = 0.3 narrows the gap between training and test accuracy of an "
         "overfitting net, and keeps the expected activation equal between training and test.")


def activation_ratio(model, x: np.ndarray, draws: int = 10) -> float:
    """Mean output of the first Dropout layer in training mode (averaged over
    ``draws`` masks) over its mean in evaluation mode, on inputs ``x``."""
    layers = list(model)
    first = next(i for i, m in enumerate(layers) if isinstance(m, nn.Dropout))
    dropout = layers[first]
    with no_grad():
        h = Tensor(x)
        for module in layers[:first]:
            h = module(h)
        dropout.train()
        trained = np.mean([dropout(h).data.mean() for _ in range(draws)])
        dropout.eval()
        tested = dropout(h).data.mean()
    model.train()
    return float(trained / tested)


@experiment("dropout", CLAIM,
            quick=dict(n_train=500, n_test=500, sizes=(784, 200, 10), epochs=20, batch_size=20, lr=0.05,
                       rates=(0.3, 0.5)),
            full=dict(n_train=5000, n_test=10000, sizes=(784, 500, 500, 10), epochs=30, batch_size=32, lr=0.05,
                      rates=(0.3, 0.5)))
def run(config):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(0))
    tail = max(1, config.epochs // 10)
    runs, ratios = {}, {}
    for p in (0.0,) + tuple(config.rates):
        model = mlp(list(config.sizes), activation="relu", dropout=p, generator=config.generator(1))
        train_accuracy = RecordAccuracy(x, y)
        history = fit(model, (x, y), nn.CrossEntropyLoss(),
                      optim.SGD(model.parameters(), lr=config.lr, momentum=0.9), epochs=config.epochs,
                      batch_size=config.batch_size, validation_data=(x_test, y_test), callbacks=[train_accuracy],
                      generator=config.generator(2), verbose=False).history
        gaps = np.array(train_accuracy.accuracy) - np.array(history["val_accuracy"])
        label = f"dropout p = {p}" if p else "no dropout"
        runs[label] = {"train_accuracy": train_accuracy.accuracy, "test_accuracy": history["val_accuracy"],
                       "gap": float(gaps[-tail:].mean()),
                       "final_test_accuracy": float(np.mean(history["val_accuracy"][-tail:]))}
        if p:
            ratios[label] = activation_ratio(model, x_test)
    base = runs["no dropout"]
    numbers = {"runs": runs, "gaps": {k: r["gap"] for k, r in runs.items()},
               "mean_activation_train_over_test_mode": ratios}
    checks = [Check("no dropout: train − test accuracy (mean of the last epochs)", base["gap"], ">", 0.05)]
    for label, r in runs.items():
        if r is not base:
            checks += [Check(f"{label}: its train − test gap minus that without dropout", r["gap"] - base["gap"],
                             "<", -0.01),
                       Check(f"{label}: |mean activation, training mode / test mode − 1|", abs(ratios[label] - 1),
                             "<", 0.02)]

    fig, axes = figure(1, 2, width=5.2)
    epochs = np.arange(1, config.epochs + 1)
    for i, (label, r) in enumerate(runs.items()):
        axes[0, 0].plot(epochs, 100 * np.array(r["train_accuracy"]), color=f"C{i}", ls=":", lw=1)
        axes[0, 0].plot(epochs, 100 * np.array(r["test_accuracy"]), color=f"C{i}", label=f"{label}")
    axes[0, 0].set(title="accuracy: test (solid), train (dotted)", xlabel="epoch", ylabel="accuracy (%)")
    axes[0, 0].legend()
    ax = axes[0, 1]
    labels = list(runs)
    bars = ax.bar(labels, [100 * runs[k]["gap"] for k in labels], color=[f"C{i}" for i in range(len(labels))])
    ax.bar_label(bars, fmt="%.1f")
    ax.set(title=f"train − test accuracy (mean of the last {tail} epochs)", ylabel="gap (points)")
    fig.suptitle(f"Dropout: {'-'.join(map(str, config.sizes))} ReLU, {len(x)} training images, "
                 f"SGD η = {config.lr}, momentum 0.9; test on {len(x_test)} images")
    return numbers, checks, [save(fig, config, "dropout")]
