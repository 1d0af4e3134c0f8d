"""Optimizers compared (cs231n, "Parameter updates").

The same 784-100-100-10 ReLU net (same initial weights, same mini-batches)
trained with plain SGD, SGD with momentum 0.9, Nesterov momentum, Adagrad,
RMSprop and Adam at the learning rates the course suggests as defaults
(SGD family 0.01, Adagrad 0.01, RMSprop and Adam 0.001). Momentum builds up
velocity along directions of consistent gradient; the adaptive methods scale
each parameter's step by its gradient history. Second figure: the paths of
each optimizer on the ill-conditioned bowl f(x, y) = x²/2 + 10y² from (−4, 1),
where plain SGD's step must be small for the steep y direction and so crawls
along the shallow x direction.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..nn import Parameter
from ..train import fit
from .common import RecordBatchLoss, fashion_mnist, minimize
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("On the same net and data, momentum, Nesterov momentum, Adagrad, RMSprop and Adam all reach a lower "
         "training loss than plain SGD in the same number of epochs.")

OPTIMIZERS = {
    "SGD": lambda p: optim.SGD(p, lr=0.01),
    "momentum": lambda p: optim.SGD(p, lr=0.01, momentum=0.9),
    "Nesterov": lambda p: optim.SGD(p, lr=0.01, momentum=0.9, nesterov=True),
    "Adagrad": lambda p: optim.Adagrad(p, lr=0.01),
    "RMSprop": lambda p: optim.RMSprop(p, lr=0.001),
    "Adam": lambda p: optim.Adam(p, lr=0.001),
}

# The 2-D bowl and per-optimizer step sizes for the path figure.
BOWL_LRS = {"SGD": 0.09, "momentum": 0.02, "Nesterov": 0.02, "Adagrad": 1.0, "RMSprop": 0.1, "Adam": 0.3}


def _bowl_path(name: str, steps: int) -> np.ndarray:
    point = Parameter(np.array([-4.0, 1.0]))
    factory = OPTIMIZERS[name]
    opt = factory([point])
    for group in opt.param_groups:
        group["lr"] = BOWL_LRS[name]
    path = []

    def loss():
        path.append(point.data.copy())
        return 0.5 * point[0] ** 2 + 10 * point[1] ** 2

    minimize(loss, opt, steps)
    return np.array(path)


@reproduction("optimizers", claim=CLAIM,
            source="cs231n notes, Neural Networks 3 (parameter updates)",
            dataset="Fashion-MNIST",
            setup=dict(n_train=60000, epochs=3, batch_size=64, bowl_steps=60),
            quick=dict(n_train=3000, epochs=2, batch_size=64, bowl_steps=60))
def trial(config, seed, condition):
    (x, y), _ = fashion_mnist(config.n_train, 0, config.generator(seed, 0))
    runs = {}
    for name, make in OPTIMIZERS.items():
        model = mlp("784-100-100-10", activation="relu", init="he_normal", generator=config.generator(seed, 1))
        batches = RecordBatchLoss()
        history = fit(model, (x, y), nn.CrossEntropyLoss(), make(model.parameters()), epochs=config.epochs,
                      batch_size=config.batch_size, callbacks=[batches], generator=config.generator(seed, 2),
                      verbose=False)
        runs[name] = {"epoch_loss": history["loss"], "train_accuracy": history["accuracy"],
                      "batch_loss": batches.losses}
    sgd = runs["SGD"]["epoch_loss"][-1]
    numbers = {"final_epoch_loss": {k: r["epoch_loss"][-1] for k, r in runs.items()},
               "runs": {k: {kk: v for kk, v in r.items() if kk != "batch_loss"} for k, r in runs.items()}}
    checks = [Check(f"{name}: last-epoch training loss / SGD's", runs[name]["epoch_loss"][-1] / sgd, "<", 1.0)
              for name in OPTIMIZERS if name != "SGD"]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.4)
        ax = axes[0, 0]
        window = 20
        for name, r in runs.items():
            smooth = np.convolve(r["batch_loss"], np.ones(window) / window, mode="valid")
            ax.plot(np.arange(len(smooth)) + window, smooth, label=f"{name} (last epoch {r['epoch_loss'][-1]:.3f})")
        ax.set(yscale="log", title=f"training loss (running mean of {window} mini-batches)", xlabel="mini-batch",
               ylabel="loss")
        ax.legend(fontsize=8)
        ax = axes[0, 1]
        gx, gy = np.meshgrid(np.linspace(-4.5, 1.5, 200), np.linspace(-1.5, 1.5, 200))
        ax.contour(gx, gy, 0.5 * gx ** 2 + 10 * gy ** 2, levels=np.geomspace(0.05, 30, 12), colors="lightgray")
        paths = {name: _bowl_path(name, config.bowl_steps) for name in OPTIMIZERS}
        for name, path in paths.items():
            ax.plot(path[:, 0], path[:, 1], ".-", ms=3, lw=1, label=f"{name} (η = {BOWL_LRS[name]})")
        ax.plot(0, 0, "k*", ms=10)
        ax.set(title=f"{config.bowl_steps} steps on f = x²/2 + 10y² from (−4, 1)", xlabel="x", ylabel="y")
        ax.legend(fontsize=7)
        numbers["bowl_final_distance_to_minimum"] = {k: float(np.linalg.norm(p[-1])) for k, p in paths.items()}
        fig.suptitle(f"Optimizers: 784-100-100-10 ReLU, He init, mini-batch {config.batch_size}, "
                     f"{len(x)} Fashion-MNIST images")
        figures = {"optimizers": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
