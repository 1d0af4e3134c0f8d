"""Dropout (*Deep Learning from Scratch*, ch. 6, ``ch06/overfit_dropout.py``).

The source's setting: 300 MNIST training images, a 784-100-100-100-100-100-100-10
ReLU net (He init, zero biases), softmax cross-entropy, SGD with lr 0.01 and
mini-batches of 100 for 301 epochs, with and without dropout (ratio 0.2 after
every hidden ReLU). The source shows the train−test gap closing; the claim that
matters is the test accuracy, so that decides. Inverted dropout: in training
each unit is kept with probability 1 − p and scaled by 1/(1 − p), at test
nothing changes, so the expected activation is the same in both modes.
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.mlp import mlp
from ..train import fit
from .common import RecordAccuracy, mnist_digits, mnist_protocol
from .plotting import band, figure, save
from .registry import reproduction
from .stats import Rule

NONE = "no dropout"
TEST, TRAIN, GAP = ("test accuracy, mean of the last 10% of epochs", "training accuracy, mean of the last 10% of "
                    "epochs", "training − test accuracy, mean of the last 10% of epochs")


def _plot(result, out_dir):
    fig, ax = figure(width=6.5)
    for i, c in enumerate(result["conditions"]):
        band(ax, result["curves"]["test accuracy"], c, color=f"C{i}", label=f"{c}: test")
        band(ax, result["curves"]["training accuracy"], c, color=f"C{i}", ls=":", label=f"{c}: training")
    s = result["setup"]
    ax.set(title=f"Dropout: {'-'.join(map(str, s['sizes']))} ReLU on {s['n_train']} MNIST digits, SGD lr {s['lr']}",
           xlabel="epoch", ylabel="accuracy (mean, 95% CI band)", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    return [save(fig, out_dir, "dropout-curves")]


@reproduction(
    "dropout",
    claim="Dropout (ratio 0.2) on an overfitting 7-layer ReLU net trained on 300 images raises its test accuracy "
          "(and narrows the train−test gap).",
    source="Saitoh, Deep Learning from Scratch, ch. 6.4, ch06/overfit_dropout.py",
    dataset=lambda config: mnist_protocol(config.n_train),
    conditions=lambda config: (NONE, f"dropout {config.ratio}"),
    setup=dict(n_train=300, n_test=None, sizes=(784, 100, 100, 100, 100, 100, 100, 10), ratio=0.2, epochs=301, batch_size=100,
               lr=0.01),
    quick=dict(n_train=200, n_test=300, epochs=4),
    rules=lambda config: [Rule(TEST, f"dropout {config.ratio}", ">", 0.0, baseline=NONE)],
    deviations=lambda config: [
        f"Data: {mnist_protocol(config.n_train)}.",
        "Inverted dropout (scale by 1/(1 − p) in training) instead of the source's scaling by (1 − p) at test: "
        "the same expected activation.",
        "Each epoch is a shuffled pass without replacement (the source draws each mini-batch at random).",
        "Decided by test accuracy (the source only shows the curves)."],
    plot=_plot,
)
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = mnist_digits(config.n_train, config.generator(seed, 0), n_test=config.n_test)
    p = 0.0 if condition == NONE else config.ratio
    model = mlp(list(config.sizes), activation="relu", dropout=p, init="he_normal", generator=config.generator(seed, 1))
    train = RecordAccuracy(x, y)
    history = fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr),
                  epochs=config.epochs, batch_size=config.batch_size, validation_data=(x_test, y_test),
                  callbacks=[train], generator=config.generator(seed, 2), verbose=False).history
    tail = max(1, config.epochs // 10)
    test, train = np.array(history["val_accuracy"]), np.array(train.accuracy)
    return ({TEST: test[-tail:].mean(), TRAIN: train[-tail:].mean(), GAP: (train - test)[-tail:].mean()},
            {"test accuracy": test, "training accuracy": train})
