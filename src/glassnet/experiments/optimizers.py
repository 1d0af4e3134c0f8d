"""Optimizers compared (cs231n, "Parameter updates").

The same 784-100-100-10 ReLU net (same initial weights, same mini-batches)
trained with plain SGD, SGD with momentum 0.9, Nesterov momentum, Adagrad,
RMSprop and Adam. Momentum builds up velocity along directions of consistent
gradient; the adaptive methods scale each parameter's step by its gradient
history. A rate that suits one method starves or breaks another, so each
method gets its best rate from the same log grid, and the best of each are
compared: the training loss after the same number of epochs, on a log scale
(paired by seed: the same initial weights and batches).
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..train import fit
from .common import best_of_grid, fashion_mnist
from .plotting import loss_curves
from .registry import reproduction
from .stats import Rule

OPTIMIZERS = {
    "SGD": lambda p, lr: optim.SGD(p, lr=lr),
    "momentum": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9),
    "Nesterov": lambda p, lr: optim.SGD(p, lr=lr, momentum=0.9, nesterov=True),
    "Adagrad": lambda p, lr: optim.Adagrad(p, lr=lr),
    "RMSprop": lambda p, lr: optim.RMSprop(p, lr=lr),
    "Adam": lambda p, lr: optim.Adam(p, lr=lr),
}
LOSS, LR = "log10 training loss after the last epoch, best learning rate", "log10 of the best learning rate"


def _plot(result, out_dir):
    return loss_curves(result, out_dir, "optimizers-curves",
                       "training loss at each optimizer's best rate (mean, 95% CI)")


@reproduction(
    "optimizers",
    claim="At each method's best learning rate, momentum, Nesterov momentum, Adagrad, RMSprop and Adam all reach a "
          "lower training loss than plain SGD in the same number of epochs.",
    source="cs231n notes, Neural Networks 3 (parameter updates)",
    dataset="Fashion-MNIST, all 60,000 training images",
    conditions=tuple(OPTIMIZERS),
    setup=dict(n_train=60000, epochs=3, batch_size=64, lr_grid=(1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)),
    quick=dict(n_train=600, epochs=1, lr_grid=(1e-3, 1e-1)),
    rules=[Rule(LOSS, name, "<", 0.0, baseline="SGD") for name in OPTIMIZERS if name != "SGD"],
    deviations=["Fashion-MNIST (the notes compare the updates without a data set).",
                "The rate is chosen per method from the grid (1e-4 to 1 in steps of about half a decade) by the "
                "training loss of the last epoch (the first full run's decade grid gave SGD 0.1 and momentum 0.01: "
                "the same effective step 0.1, so momentum's own gain was not tested at its best)."],
    plot=_plot,
)
def trial(config, seed, condition):
    (x, y), _ = fashion_mnist(config.n_train, 0, config.generator(seed, 0))

    def train(lr):
        model = mlp("784-100-100-10", activation="relu", init="he_normal", generator=config.generator(seed, 1))
        history = fit(model, (x, y), nn.CrossEntropyLoss(), OPTIMIZERS[condition](model.parameters(), lr),
                      epochs=config.epochs, batch_size=config.batch_size, generator=config.generator(seed, 2),
                      verbose=False, nan_guard=False, accuracy=False)
        loss = np.array(history["loss"], dtype=float)
        return np.where(np.isfinite(loss), loss, np.inf)

    lr, loss = best_of_grid(train, config.lr_grid, lambda run: -run[-1])
    return {LOSS: np.log10(loss[-1]), LR: np.log10(lr)}, {"training loss per epoch": loss}
