"""Batch normalization and the scale of the initial weights (Ioffe & Szegedy;
cs231n).

A 784-100-100-100-100-10 ReLU net whose He-initialized weights are all
multiplied by a factor s. Without normalization the signal through L layers
scales like s^L: for small s it vanishes (the net barely moves from chance), for
large s the logits explode (huge losses, overflow, NaN). Batch norm after each
hidden Linear rescales every feature to zero mean and unit variance over the
mini-batch, so the hidden layers' output does not depend on s at all, and
the net trains over the whole range.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..train import evaluate, fit
from .common import fashion_mnist
from .plotting import figure, save
from .registry import Check, experiment

CLAIM = ("Across initial weight scales from 0.01× to 10× He, the net with batch norm trains at every scale, "
         "while the plain net fails (stays near chance or diverges) at some of them.")

TRAINS = 0.6  # test accuracy that counts as "trained" (chance is 0.1)


def scaled_mlp(sizes, scale: float, batch_norm: bool, generator) -> nn.Sequential:
    model = mlp(list(sizes), activation="relu", batch_norm=batch_norm, init="he_normal", generator=generator)
    for _, p in model.named_parameters():
        if p.ndim >= 2:
            p.data *= scale
    return model


@experiment("batchnorm", CLAIM,
            quick=dict(n_train=3000, n_test=1000, sizes=(784, 100, 100, 100, 100, 10), scales=(0.01, 1.0, 10.0),
                       epochs=2, batch_size=32, lr=0.01),
            full=dict(n_train=60000, n_test=10000, sizes=(784, 100, 100, 100, 100, 10),
                      scales=(0.01, 0.1, 0.3, 1.0, 3.0, 10.0), epochs=2, batch_size=32, lr=0.01))
def run(config):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(0))
    scales = list(config.scales)
    runs = {}
    for batch_norm in (False, True):
        label = "batch norm" if batch_norm else "plain"
        runs[label] = {"test_accuracy": [], "train_loss": [], "stopped": []}
        for s in scales:
            model = scaled_mlp(config.sizes, s, batch_norm, config.generator(1))
            with np.errstate(over="ignore", invalid="ignore"):  # the plain net overflows at large scales
                history = fit(model, (x, y), nn.CrossEntropyLoss(),
                              optim.SGD(model.parameters(), lr=config.lr, momentum=0.9), epochs=config.epochs,
                              batch_size=config.batch_size, generator=config.generator(2), verbose=False)
                accuracy = evaluate(model, (x_test, y_test))["accuracy"]
            runs[label]["test_accuracy"].append(accuracy)
            runs[label]["train_loss"].append(history["loss"] if "loss" in history else [])
            runs[label]["stopped"].append(history.stop_reason)
    plain, bn = (np.array(runs[k]["test_accuracy"]) for k in ("plain", "batch norm"))
    numbers = {"scales": scales, "runs": runs, "trained_threshold": TRAINS,
               "plain_scales_trained": int(np.sum(plain >= TRAINS)), "bn_scales_trained": int(np.sum(bn >= TRAINS))}
    checks = [
        Check("batch norm: lowest test accuracy over the scales", float(bn.min()), ">=", TRAINS),
        Check(f"plain: scales where test accuracy < {TRAINS}", int(np.sum(plain < TRAINS)), ">=", 1),
    ]

    fig, axes = figure(1, 2, width=5.2)
    ax = axes[0, 0]
    ax.plot(scales, 100 * plain, "o-", label="plain")
    ax.plot(scales, 100 * bn, "s-", label="batch norm")
    ax.axhline(100 * TRAINS, color="gray", ls=":", label=f"'trained' threshold {TRAINS:.0%}")
    ax.axhline(10, color="k", ls="--", lw=0.8, label="chance")
    ax.set(xscale="log", title="test accuracy after training", xlabel="initial weight scale s (× He)",
           ylabel="test accuracy (%)", ylim=(0, 100))
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for label, style in (("plain", "-"), ("batch norm", "--")):
        for i, (s, losses) in enumerate(zip(scales, runs[label]["train_loss"])):
            if losses:
                ax.plot(np.arange(1, len(losses) + 1), losses, style, color=f"C{i}", marker="o", ms=3,
                        label=f"{label}, s = {s:g}")
    ax.set(yscale="log", title="training loss (missing: diverged to NaN)", xlabel="epoch", ylabel="loss",
           xticks=np.arange(1, config.epochs + 1))
    ax.legend(fontsize=7, ncol=2)
    fig.suptitle(f"Batch norm vs init scale: {'-'.join(map(str, config.sizes))} ReLU, SGD η = {config.lr}, "
                 f"momentum 0.9, {len(x)} Fashion-MNIST images")
    return numbers, checks, [save(fig, config, "batchnorm")]
