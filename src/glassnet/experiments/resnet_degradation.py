"""Degradation of deep plain networks, and residual connections (He et al., 2016).

Stacking more plain conv layers (each conv → batch norm → ReLU) should never
hurt in principle (the extra layers could learn the identity), yet a deep
plain net reaches a *higher training loss* than a shallow one: an optimization
problem, not overfitting. The residual version of the deep net, whose blocks
compute h(x) = ReLU(f(x) + x) and so only learn a correction to the identity,
trains at least as well as the shallow one.

glassnet's ``plain_net`` and ``resnet_small`` (3 stages, widths 8/16/32), one
or several blocks per stage; to fit the CPU budget the 28×28 images are
averaged down to 14×14 (2×2 means).
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.resnet import plain_net, resnet_small
from ..train import evaluate, fit
from .common import RecordBatchLoss, fashion_mnist
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("A deep plain conv net reaches a higher training loss than a shallow one in the same training, "
         "while the residual version of the deep net trains at least as well as the shallow one.")


def downsample(x: np.ndarray) -> np.ndarray:
    """(N, 784) images → (N, 1, 14, 14): the mean of each 2×2 block."""
    return x.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))


@reproduction("resnet-degradation", claim=CLAIM,
            source="He et al. 2016, Deep Residual Learning, §4.1 (degradation of plain nets)",
            dataset="Fashion-MNIST",
            setup=dict(n_train=10000, n_test=5000, widths=(8, 16, 32), shallow_blocks=1, deep_blocks=5, epochs=3,
                      batch_size=64, lr=0.05),
            quick=dict(n_train=800, n_test=500, widths=(4, 8, 16), shallow_blocks=1, deep_blocks=3, epochs=3,
                       batch_size=32, lr=0.05))
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    x, x_test = downsample(x), downsample(x_test)
    nets = {}
    for build, blocks in ((plain_net, config.shallow_blocks), (plain_net, config.deep_blocks),
                          (resnet_small, config.deep_blocks)):
        model = build(widths=config.widths, blocks_per_stage=blocks, generator=config.generator(seed, 1))
        nets[f"{'residual' if build is resnet_small else 'plain'}, {model.depth} layers"] = model
    runs = {}
    for label, model in nets.items():
        batches = RecordBatchLoss()
        history = fit(model, (x, y), nn.CrossEntropyLoss(),
                      optim.SGD(model.parameters(), lr=config.lr, momentum=0.9), epochs=config.epochs,
                      batch_size=config.batch_size, callbacks=[batches], generator=config.generator(seed, 2),
                      verbose=False)
        runs[label] = {"epoch_loss": history["loss"], "batch_loss": batches.losses,
                       "test_accuracy": evaluate(model, (x_test, y_test))["accuracy"]}
    shallow, deep, residual = (runs[k]["epoch_loss"][-1] for k in nets)
    numbers = {"last_epoch_training_loss": {k: r["epoch_loss"][-1] for k, r in runs.items()},
               "test_accuracy": {k: r["test_accuracy"] for k, r in runs.items()},
               "epoch_loss": {k: r["epoch_loss"] for k, r in runs.items()}}
    names = list(nets)
    checks = [
        Check(f"last-epoch training loss: {names[1]} / {names[0]}", deep / shallow, ">", 1.1),
        Check(f"last-epoch training loss: {names[2]} / {names[0]}", residual / shallow, "<", 1.05),
        Check(f"last-epoch training loss: {names[2]} / {names[1]}", residual / deep, "<", 0.9),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.2)
        ax = axes[0, 0]
        window = max(1, len(runs[names[0]]["batch_loss"]) // 30)
        for label, r in runs.items():
            smooth = np.convolve(r["batch_loss"], np.ones(window) / window, mode="valid")
            ax.plot(np.arange(len(smooth)) + window, smooth, label=label)
        ax.set(title=f"training loss (running mean of {window} mini-batches)", xlabel="mini-batch", ylabel="loss")
        ax.legend()
        ax = axes[0, 1]
        bars = ax.bar(names, [r["epoch_loss"][-1] for r in runs.values()], color=["C0", "C1", "C2"])
        ax.bar_label(bars, fmt="%.3f")
        ax.set(title="training loss, last epoch (test accuracy below)", ylabel="loss",
               ylim=(0, 1.15 * max(r["epoch_loss"][-1] for r in runs.values())))
        ax.set_xticks(range(3), [f"{n}\ntest {runs[n]['test_accuracy']:.1%}" for n in names], fontsize=8)
        fig.suptitle(f"Degradation: Fashion-MNIST at 14×14, {len(x)} images, {config.epochs} epochs, "
                     f"SGD η = {config.lr}, momentum 0.9, widths {config.widths}")
        figures = {"resnet-degradation": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
