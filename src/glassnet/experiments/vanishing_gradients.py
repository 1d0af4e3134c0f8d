"""The vanishing gradient problem (Nielsen, ch. 5).

In a deep sigmoid net, δ^l = σ′(z^l) ⊙ (W^{l+1})ᵀ δ^{l+1}: every layer
multiplies the error by weights and by σ′ ≤ 0.25, so the gradient shrinks on
its way back and the first hidden layers learn far more slowly than the last.
Measured by the error δ^l = ∂C_x/∂z^l at each hidden layer's activation input
(the book's ∂C/∂b^l is its mean over the examples; batch norm centres the
gradient over the batch, so for a fair comparison this takes the mean of
each example's ‖δ^l‖), on a fixed batch, at initialization and after every
epoch of training: a 784-30-30-30-30-10 net with sigmoid units (the book's
N(0, 1/n_in) weights), with ReLU units (He init), and with sigmoid units and
batch norm.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..tensor import Tensor
from ..train import Callback, fit
from .common import fashion_mnist
from .plotting import figure, save
from .registry import Check, experiment

CLAIM = ("In a deep sigmoid net the gradient shrinks layer by layer toward the input, so the first hidden "
         "layer learns far more slowly than the last, at initialization and during training; ReLU (He init) "
         "and batch norm keep the layers' speeds close.")

NETS = {"sigmoid": dict(activation="sigmoid", init="book"),
        "ReLU (He)": dict(activation="relu", init="he_normal"),
        "sigmoid + batch norm": dict(activation="sigmoid", init="book", batch_norm=True)}


def layer_speeds(model, loss, x: np.ndarray, y: np.ndarray) -> tuple[list[float], list[float]]:
    """For each hidden layer l: the mean over the examples of ‖δ^l‖ = ‖∂C_x/∂z^l‖
    (z^l the input of the layer's activation, after batch norm if any; C_x one
    example's cost), and the book's measure ‖∂C/∂b^l‖ = ‖mean over examples of δ^l‖;
    in training mode.

    δ is read from a zero "probe" tensor added to z^l (its gradient is δ/N for
    the mean cost over N examples)."""
    model.train()
    h, probes = Tensor(x), []
    for module in model:
        if isinstance(module, (nn.Sigmoid, nn.ReLU)):
            probes.append(Tensor(np.zeros(h.shape, dtype=h.dtype), requires_grad=True))
            h = h + probes[-1]
        h = module(h)
    loss(h, y).backward()
    model.zero_grad()
    return ([float(np.mean(np.linalg.norm(p.grad * len(x), axis=1))) for p in probes],
            [float(np.linalg.norm(p.grad.sum(axis=0))) for p in probes])


class _RecordSpeeds(Callback):
    def __init__(self, loss, x, y, record: list):
        self.loss, self.x, self.y, self.record = loss, x, y, record

    def on_epoch_end(self, trainer, logs):
        self.record.append(layer_speeds(trainer.model, self.loss, self.x, self.y))


@experiment("vanishing-gradients", CLAIM,
            quick=dict(sizes=(784, 30, 30, 30, 30, 10), n_train=1000, n_probe=500, epochs=3, batch_size=10, lr=0.1),
            full=dict(sizes=(784, 30, 30, 30, 30, 10), n_train=10000, n_probe=1000, epochs=15, batch_size=10,
                      lr=0.1))
def run(config):
    rng = config.generator(0)
    (x, y), (x_probe, y_probe) = fashion_mnist(config.n_train, config.n_probe, rng)
    loss = nn.CrossEntropyLoss()
    speeds, book_speeds, histories = {}, {}, {}
    for label, kwargs in NETS.items():
        model = mlp(list(config.sizes), generator=config.generator(1), **kwargs)
        record = [layer_speeds(model, loss, x_probe, y_probe)]
        histories[label] = fit(model, (x, y), loss, optim.SGD(model.parameters(), lr=config.lr),
                               epochs=config.epochs, batch_size=config.batch_size,
                               callbacks=[_RecordSpeeds(loss, x_probe, y_probe, record)],
                               generator=config.generator(2), verbose=False).history
        speeds[label] = np.array([per_example for per_example, _ in record])  # (epochs + 1, hidden layers)
        book_speeds[label] = np.array([book for _, book in record])

    def ratio(label, rows=slice(None)):  # first hidden layer's speed / last hidden layer's, geometric mean
        s = speeds[label][rows]
        return float(np.exp(np.mean(np.log(s[:, 0] / s[:, -1]))))

    numbers = {"speeds_per_epoch": {k: v for k, v in speeds.items()},
               "book_bias_gradient_norms_per_epoch": {k: v for k, v in book_speeds.items()},
               "book_measure_first_over_last_during_training": {
                   k: float(np.exp(np.mean(np.log(v[1:, 0] / v[1:, -1])))) for k, v in book_speeds.items()},
               "first_over_last_at_init": {k: ratio(k, slice(0, 1)) for k in NETS},
               "first_over_last_during_training": {k: ratio(k, slice(1, None)) for k in NETS},
               "train_accuracy": {k: h["accuracy"] for k, h in histories.items()}}
    init_ratio, train_ratio = numbers["first_over_last_at_init"], numbers["first_over_last_during_training"]
    checks = [
        Check("sigmoid: mean ‖δ‖ of hidden layer 1 / of hidden layer 4 at init", init_ratio["sigmoid"], "<", 0.1),
        Check("sigmoid: same ratio during training (geometric mean over epochs)", train_ratio["sigmoid"], "<", 0.1),
        Check("ReLU (He): ratio at init", init_ratio["ReLU (He)"], ">", 0.3),
        Check("ReLU (He): ratio during training", train_ratio["ReLU (He)"], ">", 0.3),
        Check("sigmoid + batch norm: ratio at init", init_ratio["sigmoid + batch norm"], ">", 0.3),
        Check("sigmoid + batch norm: ratio during training", train_ratio["sigmoid + batch norm"], ">", 0.3),
    ]

    fig, axes = figure(1, 4, width=4.0)
    epochs = np.arange(config.epochs + 1)
    layers = speeds["sigmoid"].shape[1]
    for ax, label in zip(axes[0], NETS):
        for layer in range(layers):
            ax.plot(epochs, speeds[label][:, layer], "o-", ms=3, label=f"hidden layer {layer + 1}")
        ax.set(yscale="log", title=f"{label}", xlabel="epoch (0 = at initialization)", ylabel="mean ‖δ‖ over examples")
        ax.legend(fontsize=7)
    ax = axes[0, 3]
    for label in NETS:
        ax.plot(np.arange(1, layers + 1), speeds[label][0], "o-", label=f"{label}, at init")
    ax.set(yscale="log", title="speed of learning by layer at init", xlabel="hidden layer", ylabel="mean ‖δ‖",
           xticks=np.arange(1, layers + 1))
    ax.legend(fontsize=7)
    fig.suptitle(f"Vanishing gradients: {'-'.join(map(str, config.sizes))} on {config.n_train} Fashion-MNIST images, "
                 f"SGD η = {config.lr}, mini-batch {config.batch_size}")
    return numbers, checks, [save(fig, config, "vanishing_gradients")]
