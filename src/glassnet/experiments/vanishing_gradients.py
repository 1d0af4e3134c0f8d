"""The vanishing gradient problem (Nielsen, ch. 5, ``fig/generate_gradient.py``).

In a deep sigmoid net δ^l = σ′(z^l) ⊙ (W^{l+1})ᵀ δ^{l+1}: every layer
multiplies the error by weights and by σ′ ≤ 1/4, so it shrinks on its way
back. The book measures the *speed of learning* of hidden layer l as the norm
of the bias gradient ‖∂C/∂b^l‖ = ‖mean over the 1,000 images of δ^l‖, on the
first 1,000 training images of a 784-30-30-30-30-10 sigmoid net with
N(0, 1/n_in) weights and N(0, 1) biases, cross-entropy summed over its 10
sigmoid outputs, then trains it by 500 full-batch steps (η = 0.1, λ = 5),
measuring the speeds as it goes. The book's speeds at initialization:
0.003, 0.017, 0.070, 0.285 (hidden layers 1 to 4).

We run exactly that on real MNIST digits, and the same net with ReLU units
(He init) and with sigmoid units plus batch norm, with the same measure (for
batch norm: ‖∂C/∂β^l‖, the gradient of the shift after normalisation, which
plays the bias's role: the Linear's own bias has zero gradient there). Under
batch norm the book's measure is small by construction below the last hidden
layer: the gradient that reaches a normalised layer's input is centred over the
batch, so its mean over the examples, which is what ‖∂C/∂b‖ measures, nearly
cancels. The batch-norm rule therefore reads the mean over the examples of
each example's ‖δ^l‖ (both are recorded for every condition). The
extension condition trains the sigmoid net by mini-batches of 10 instead
(the regime most of the course uses): there the layers' speeds even out once
training leaves its initial plateau. It is reported, not judged.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..tensor import Tensor
from ..train import Callback, fit
from .common import book_cross_entropy, mnist_digits, mnist_protocol
from .plotting import band, figure, save
from .registry import reproduction
from .stats import Rule

SIGMOID, RELU, BATCH_NORM, MINI_BATCH = ("sigmoid (the book)", "ReLU, He init", "sigmoid + batch norm",
                                         "sigmoid, mini-batches of 10 (extension)")
NETS = {SIGMOID: dict(activation="sigmoid", init="book"), RELU: dict(activation="relu", init="he_normal"),
        BATCH_NORM: dict(activation="sigmoid", init="book", batch_norm=True),
        MINI_BATCH: dict(activation="sigmoid", init="book")}
INIT_RATIO, TRAIN_RATIO = "speed of hidden layer 1 / of hidden layer 4, at init", \
    "speed of hidden layer 1 / of hidden layer 4, geometric mean over training"
BOOK_SPEEDS = (0.003, 0.017, 0.070, 0.285)  # ‖∂C/∂b^l‖ at init, hidden layers 1-4 (ch. 5)
PER_EXAMPLE = "mean over the examples of ‖δ‖: hidden layer 1 / hidden layer 4, at init"
ADJACENT = "largest speed ratio of adjacent hidden layers (l / l+1), at init"


def layer_speeds(model, loss, x: np.ndarray, y: np.ndarray, per_example: bool = False) -> list[float]:
    """The book's speed of each hidden layer l: ‖mean over the examples of δ^l‖,
    δ^l = ∂C_x/∂z^l at the input z^l of the layer's activation (after batch norm
    if any), in training mode; with ``per_example`` the mean over the examples
    of ‖δ^l_x‖ instead. δ is read from a zero "probe" added to z^l: for the mean
    cost over N examples its gradient is δ/N (N, width)."""
    model.train()
    h, probes = Tensor(x), []
    for module in model:
        if isinstance(module, (nn.Sigmoid, nn.ReLU)):
            probes.append(Tensor(np.zeros(h.shape, dtype=h.dtype), requires_grad=True))
            h = h + probes[-1]
        h = module(h)
    loss(h, Tensor(y)).backward()
    model.zero_grad()
    if per_example:
        return [float(np.mean(np.linalg.norm(p.grad * len(x), axis=1))) for p in probes]
    return [float(np.linalg.norm(p.grad.sum(axis=0))) for p in probes]


class _RecordSpeeds(Callback):
    def __init__(self, x, y, record: list):
        self.x, self.y, self.record = x, y, record

    def on_epoch_end(self, trainer, logs):
        self.record.append(layer_speeds(trainer.model, book_cross_entropy, self.x, self.y))


def _deviations(config):
    return [f"Data: {mnist_protocol(config.n_train)}; seeds draw different subsets and initial weights.",
            "The ReLU, batch-norm and mini-batch conditions are ours (the book runs the sigmoid net only); "
            "they use the book's measure, except the batch-norm rule, which reads the per-example measure "
            "(the book's ‖mean δ‖ cancels below a normalised layer; both are recorded).",
            "The mini-batch condition is an extension (mini-batches of 10, η = 0.1, λ = 5, speeds measured after "
            "each epoch on the same 1,000 images): no rule reads it."]


def _plot(result, out_dir):
    curves = result["curves"]
    fig, axes = figure(1, len(NETS), width=3.8)
    for ax, net in zip(axes[0], NETS):
        steps = None
        for layer in range(4):
            table = curves[f"speed of hidden layer {layer + 1}"]
            if net in table:
                n = len(table[net]["mean"])
                steps = np.arange(n) * (result["setup"]["record_every"] if net != MINI_BATCH else 1)
                band(ax, table, net, x=steps, label=f"hidden layer {layer + 1}")
        if net == SIGMOID:
            for layer in range(4):
                ax.plot([0], [result["book"][f"speed of hidden layer {layer + 1} at init"][SIGMOID]], "x",
                        color=f"C{layer}", ms=9, mew=2)
        ax.set(yscale="log", title=net, ylabel="‖∂C/∂b‖ (mean, 95% CI band)",
               xlabel="epoch (mini-batches of 10)" if net == MINI_BATCH else "full-batch step (× = the book at init)")
        ax.legend(fontsize=7)
    fig.suptitle(f"Speed of learning by layer: 784-30-30-30-30-10 on {result['setup']['n_train']} MNIST digits, "
                 f"η = 0.1, λ = 5, {len(result['seeds'])} seeds")
    return [save(fig, out_dir, "vanishing-gradients-speeds")]


@reproduction(
    "vanishing-gradients",
    claim="In a deep sigmoid net the gradient shrinks layer by layer toward the input: at initialization "
          "hidden layer 1 learns about 100× more slowly than hidden layer 4, and it stays far slower during the "
          "book's full-batch training; ReLU units (He init) and batch norm keep the layers' speeds within a "
          "factor of ~3.",
    source="Nielsen, Neural Networks and Deep Learning, ch. 5, fig/generate_gradient.py",
    dataset=lambda config: mnist_protocol(config.n_train),
    conditions=tuple(NETS),
    setup=dict(sizes=(784, 30, 30, 30, 30, 10), n_train=1000, steps=500, lr=0.1, l2=5.0, record_every=5,
               mini_batch=10, mini_batch_epochs=30),
    quick=dict(n_train=200, steps=10, mini_batch_epochs=1),
    rules=[Rule(INIT_RATIO, SIGMOID, "<", 0.1), Rule(ADJACENT, SIGMOID, "<", 1.0),
           Rule(TRAIN_RATIO, SIGMOID, "<", 0.25),
           Rule(INIT_RATIO, RELU, ">", 0.3), Rule(PER_EXAMPLE, BATCH_NORM, ">", 0.3)],
    deviations=_deviations,
    book={INIT_RATIO: {SIGMOID: BOOK_SPEEDS[0] / BOOK_SPEEDS[3]},
          ADJACENT: {SIGMOID: max(a / b for a, b in zip(BOOK_SPEEDS, BOOK_SPEEDS[1:]))},
          **{f"speed of hidden layer {layer + 1} at init": {SIGMOID: v} for layer, v in enumerate(BOOK_SPEEDS)}},
    plot=_plot,
)
def trial(config, seed, condition):
    (x, y), _ = mnist_digits(config.n_train, config.generator(seed, 0))
    model = mlp(list(config.sizes), generator=config.generator(seed, 1), **NETS[condition])
    per_example = layer_speeds(model, book_cross_entropy, x, y, per_example=True)
    record = [layer_speeds(model, book_cross_entropy, x, y)]
    opt = optim.SGD(model.parameters(), lr=config.lr)
    if condition == MINI_BATCH:
        fit(model, (x, y), book_cross_entropy, opt, epochs=config.mini_batch_epochs, batch_size=config.mini_batch,
            l2=config.l2, callbacks=[_RecordSpeeds(x, y, record)], generator=config.generator(seed, 2),
            verbose=False, accuracy=False)
    else:  # the book: update_mini_batch on all 1,000 images at once, 500 times
        for step in range(1, config.steps + 1):
            fit(model, (x, y), book_cross_entropy, opt, epochs=1, batch_size=len(x), l2=config.l2, shuffle=False,
                verbose=False, accuracy=False, nan_guard=False)
            if step % config.record_every == 0:
                record.append(layer_speeds(model, book_cross_entropy, x, y))
    speeds = np.array(record)  # (records, hidden layers)
    ratios = speeds[:, 0] / speeds[:, -1]
    metrics = {INIT_RATIO: ratios[0], PER_EXAMPLE: per_example[0] / per_example[-1], ADJACENT: float(np.max(speeds[0, :-1] / speeds[0, 1:])),
               TRAIN_RATIO: float(np.exp(np.mean(np.log(ratios[1:])))),
               **{f"speed of hidden layer {layer + 1} at init": speeds[0, layer] for layer in range(speeds.shape[1])}}
    curves = {f"speed of hidden layer {layer + 1}": speeds[:, layer] for layer in range(speeds.shape[1])}
    return metrics, curves
