"""Dying ReLUs (cs231n, "Activation functions").

A ReLU unit whose pre-activation z = w·x + b is ≤ 0 for every input outputs 0
and gets gradient 0, so it never learns again: it is dead. One large update
(a high learning rate) can push many units there at once; cs231n warns that
"as much as 40% of your network can be dead". A Leaky ReLU passes a small
gradient (slope 0.01) for z < 0, so such a unit can come back. Measured: the
fraction of hidden units with z ≤ 0 on every training image, after training a
784-100-100-10 net (He init, SGD with momentum 0.9) at a small and a large
learning rate, and whether the first-layer units dead after epoch 1 are still
dead at the end.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..tensor import Tensor, no_grad
from ..train import Callback, evaluate, fit
from .common import fashion_mnist
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("Trained with a large learning rate, a large fraction of ReLU units die (never activate on any "
         "training image) and stay dead; with a small rate few die; Leaky ReLU units die less.")


def active_units(model, x: np.ndarray, batch: int = 5000) -> list[np.ndarray]:
    """For each hidden layer, a boolean per unit: z > 0 for at least one row of ``x``."""
    active = None
    with no_grad():
        for i in range(0, len(x), batch):
            h, found = Tensor(x[i:i + batch]), []
            for module in model:
                if isinstance(module, (nn.ReLU, nn.LeakyReLU)):
                    found.append((h.data > 0).any(axis=0))
                h = module(h)
            active = found if active is None else [a | f for a, f in zip(active, found)]
    return active


class _RecordDead(Callback):
    def __init__(self, x):
        self.x, self.per_epoch = x, []

    def on_epoch_end(self, trainer, logs):
        self.per_epoch.append([~a for a in active_units(trainer.model, self.x)])


@reproduction("dead-relu", claim=CLAIM,
            source="cs231n notes, Neural Networks 1 (dying ReLU)",
            dataset="Fashion-MNIST",
            setup=dict(n_train=60000, n_test=10000, epochs=3, batch_size=32, small_lr=0.01, large_lr=0.1),
            quick=dict(n_train=1000, n_test=300, epochs=1))
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    runs = {}
    for activation in ("relu", "leaky_relu"):
        for lr in (config.small_lr, config.large_lr):
            model = mlp("784-100-100-10", activation=activation, init="he_normal", generator=config.generator(seed, 1))
            record = _RecordDead(x)
            history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=lr, momentum=0.9),
                          epochs=config.epochs, batch_size=config.batch_size, callbacks=[record],
                          generator=config.generator(seed, 2), verbose=False)
            dead = record.per_epoch
            first_dead, last_dead = dead[0][0], dead[-1][0]
            runs[f"{activation}, lr {lr}"] = {
                "dead_fraction_per_epoch": [float(np.mean(np.concatenate(d))) for d in dead],
                "dead_fraction_per_layer": [float(np.mean(d)) for d in dead[-1]],
                "layer1_dead_after_epoch_1": int(first_dead.sum()),
                "layer1_dead_after_epoch_1_still_dead": int((first_dead & last_dead).sum()),
                "test_accuracy": evaluate(model, (x_test, y_test))["accuracy"],
                "stopped": history.stop_reason,
            }
    big_relu, small_relu = runs[f"relu, lr {config.large_lr}"], runs[f"relu, lr {config.small_lr}"]
    big_leaky = runs[f"leaky_relu, lr {config.large_lr}"]
    stay = (big_relu["layer1_dead_after_epoch_1_still_dead"] / big_relu["layer1_dead_after_epoch_1"]
            if big_relu["layer1_dead_after_epoch_1"] else float("nan"))
    leaky_dead = big_leaky["layer1_dead_after_epoch_1"]
    numbers = {"runs": runs, "relu_large_lr_layer1_dead_that_stay_dead": stay,
               "leaky_large_lr_layer1_inactive_that_came_back":
                   1 - big_leaky["layer1_dead_after_epoch_1_still_dead"] / leaky_dead if leaky_dead else None}
    checks = [
        Check(f"ReLU, lr {config.large_lr}: fraction of hidden units dead", big_relu["dead_fraction_per_epoch"][-1],
              ">", 0.1),
        Check(f"ReLU, lr {config.small_lr}: fraction of hidden units dead", small_relu["dead_fraction_per_epoch"][-1],
              "<", 0.02),
        Check(f"ReLU, lr {config.large_lr}: of layer-1 units dead after epoch 1, fraction still dead at the end",
              stay, ">=", 0.99),
        Check(f"lr {config.large_lr}: dead fraction Leaky ReLU − ReLU",
              big_leaky["dead_fraction_per_epoch"][-1] - big_relu["dead_fraction_per_epoch"][-1], "<", 0),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.2)
        epochs = np.arange(1, config.epochs + 1)
        for label, r in runs.items():
            axes[0, 0].plot(epochs, 100 * np.array(r["dead_fraction_per_epoch"]), "o-",
                            label=f"{label} (test acc. {r['test_accuracy']:.0%})")
        axes[0, 0].set(title="hidden units with z ≤ 0 on every training image", xlabel="epoch", ylabel="dead units (%)",
                       xticks=epochs)
        axes[0, 0].legend(fontsize=8)
        ax = axes[0, 1]
        width = 0.2
        for i, (label, r) in enumerate(runs.items()):
            bars = ax.bar(np.arange(2) + (i - 1.5) * width, 100 * np.array(r["dead_fraction_per_layer"]), width,
                          label=label)
            ax.bar_label(bars, fmt="%.0f", fontsize=7)
        ax.set_xticks(np.arange(2), ["hidden layer 1", "hidden layer 2"])
        ax.set(title="dead units after training, by layer", ylabel="dead units (%)")
        ax.legend(fontsize=8)
        fig.suptitle(f"Dead ReLUs: 784-100-100-10, He init, SGD momentum 0.9, mini-batch {config.batch_size}, "
                     f"{len(x)} Fashion-MNIST images")
        figures = {"dead-relu": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
