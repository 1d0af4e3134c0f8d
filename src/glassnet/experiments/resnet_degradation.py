"""Degradation of deep plain networks, and residual connections (He et al., 2016).

Stacking more plain conv layers (each conv → batch norm → ReLU) should never
hurt in principle (the extra layers could learn the identity), yet a deep
plain net reaches a *higher training loss* than a shallow one: an optimization
problem, not overfitting. The residual version of the deep net, whose blocks
compute h(x) = ReLU(f(x) + x) and so only learn a correction to the identity,
trains at least as well as the shallow one.

glassnet's ``plain_net`` and ``resnet_small`` (3 stages, widths 8/16/32), one
or five blocks per stage; to fit the CPU budget the 28×28 images are averaged
down to 14×14 (2×2 means). The claim is about converged training error, so each
net is trained to a plateau: cosine-annealed SGD, whose rate ends at 0.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.resnet import plain_net, resnet_small
from ..train import evaluate, fit
from .common import fashion_mnist
from .plotting import loss_curves
from .registry import reproduction
from .stats import Rule

PLAIN_SHALLOW, PLAIN_DEEP, RESIDUAL_DEEP = "plain, shallow", "plain, deep", "residual, deep"
ERROR, LOSS, TEST = ("training error after training to a plateau", "training loss, last epoch",
                     "test accuracy after the last epoch")


def downsample(x: np.ndarray) -> np.ndarray:
    """(N, 784) images → (N, 1, 14, 14): the mean of each 2×2 block."""
    return x.reshape(-1, 1, 14, 2, 14, 2).mean(axis=(3, 5))


def _plot(result, out_dir):
    return loss_curves(result, out_dir, "resnet-degradation-curves", "training loss, cosine-annealed SGD (mean, 95% CI)")


@reproduction(
    "resnet-degradation",
    claim="Trained to a plateau, a deep plain conv net ends with a higher training error than a shallow one (an "
          "optimization problem, not overfitting), while the residual version of the deep net ends lower than the "
          "deep plain one.",
    source="He et al. 2016, Deep Residual Learning, §4.1 (degradation of plain nets)",
    dataset="Fashion-MNIST, averaged down to 14×14",
    conditions=(PLAIN_SHALLOW, PLAIN_DEEP, RESIDUAL_DEEP),
    setup=dict(n_train=10000, n_test=5000, widths=(8, 16, 32), shallow_blocks=1, deep_blocks=5, epochs=15,
               batch_size=64, lr=0.05),
    quick=dict(n_train=200, n_test=100, widths=(4, 8, 8), deep_blocks=2, epochs=1),
    rules=[Rule(ERROR, PLAIN_DEEP, ">", 0.0, baseline=PLAIN_SHALLOW),
           Rule(ERROR, RESIDUAL_DEEP, "<", 0.0, baseline=PLAIN_DEEP)],
    deviations=["Fashion-MNIST at 14×14 (2×2 means), 10,000 images, instead of CIFAR-10 and ImageNet; widths 8/16/32 "
                "and 1 or 5 blocks per stage (8 and 32 layers): the CPU budget.",
                "Cosine-annealed SGD (momentum 0.9) over 15 epochs instead of He et al.'s step schedule over 64,000 "
                "iterations: the learning rate reaches 0, so the training error has plateaued."],
    plot=_plot,
)
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    x, x_test = downsample(x), downsample(x_test)
    build = resnet_small if condition == RESIDUAL_DEEP else plain_net
    blocks = config.shallow_blocks if condition == PLAIN_SHALLOW else config.deep_blocks
    model = build(widths=config.widths, blocks_per_stage=blocks, generator=config.generator(seed, 1))
    opt = optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), opt, epochs=config.epochs, batch_size=config.batch_size,
                  scheduler=optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs),
                  generator=config.generator(seed, 2), verbose=False)
    metrics = {ERROR: 1 - evaluate(model, (x, y))["accuracy"], LOSS: history["loss"][-1],
               TEST: evaluate(model, (x_test, y_test))["accuracy"], "layers": model.depth}
    return metrics, {"training loss per epoch": history["loss"]}
