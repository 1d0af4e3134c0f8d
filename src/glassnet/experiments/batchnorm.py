"""Batch normalization and the scale of the initial weights (*Deep Learning from
Scratch*, ch. 6, ``ch06/batch_norm_test.py``).

The source's setting: 1,000 MNIST training images, a 784-100-100-100-100-100-10
ReLU net whose weights are drawn N(0, s²) for 16 standard deviations s
logspaced from 1 to 1e-4 (zero biases), SGD with lr 0.01 and mini-batches of
100 for 20 epochs, with and without batch norm after every hidden affine layer;
it plots the training accuracy per epoch. Without normalization the signal
through 6 layers scales like (s·√100)^6 and vanishes for small s or explodes
for large s; batch norm rescales every feature to zero mean and unit variance
over the mini-batch, so the forward signal does not depend on s at all.
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

PLAIN, BN = "plain", "batch norm"
ALL, SMALL = ("training accuracy after the last epoch, mean over the 16 scales",
              "training accuracy after the last epoch, mean over the 8 smallest scales")


def scales(config) -> np.ndarray:
    return np.logspace(0, -4, num=config.n_scales)


def scaled_mlp(sizes, std: float, batch_norm: bool, generator) -> nn.Sequential:
    """ReLU net with every weight matrix N(0, std²) and zero biases."""
    model = mlp(list(sizes), activation="relu", batch_norm=batch_norm, init="he_normal", generator=generator)
    for _, p in model.named_parameters():
        if p.ndim >= 2:
            p.data[...] = generator.standard_normal(p.shape).astype(p.dtype) * std
    return model


def _label(std: float) -> str:
    return f"training accuracy after the last epoch, weight std {std:.3g}"


def _plot(result, out_dir):
    stds = np.logspace(0, -4, num=result["setup"]["n_scales"])
    cols = 4
    rows = -(-len(stds) // cols)
    fig, axes = figure(rows, cols, width=3.0, height=2.4)
    for ax, std in zip(axes.ravel(), stds):
        for i, c in enumerate(result["conditions"]):
            band(ax, result["curves"][f"training accuracy, weight std {std:.3g}"], c, color=f"C{i}")
        ax.set(title=f"weight std {std:.3g}", ylim=(0, 1), xlabel="epoch")
        ax.title.set_fontsize(9)
    axes[0, 0].legend(fontsize=7)
    fig.suptitle(f"Training accuracy (mean, 95% CI band, {len(result['seeds'])} seeds): "
                 f"{'-'.join(map(str, result['setup']['sizes']))} ReLU, SGD lr {result['setup']['lr']}")
    return [save(fig, out_dir, "batchnorm-curves")]


@reproduction(
    "batchnorm",
    claim="With batch norm a deep ReLU net learns faster than without it over initial weight scales from 1 to "
          "1e-4, most of all at the small scales where the plain net does not learn.",
    source="Saitoh, Deep Learning from Scratch, ch. 6.3, ch06/batch_norm_test.py",
    dataset=lambda config: mnist_protocol(config.n_train),
    conditions=(PLAIN, BN),
    setup=dict(n_train=1000, sizes=(784, 100, 100, 100, 100, 100, 10), n_scales=16, epochs=20, batch_size=100,
               lr=0.01),
    quick=dict(n_train=200, n_scales=4, epochs=2),
    rules=[Rule(ALL, BN, ">", 0.0, baseline=PLAIN), Rule(SMALL, BN, ">", 0.0, baseline=PLAIN)],
    deviations=lambda config: [
        f"Data: {mnist_protocol(config.n_train)}.",
        "Each epoch is a shuffled pass without replacement (the source draws each mini-batch at random).",
        "Decided by the training accuracy after the last epoch (the source shows the curves), averaged over the "
        "scales; the per-scale values are recorded too."],
    plot=_plot,
)
def trial(config, seed, condition):
    (x, y), _ = mnist_digits(config.n_train, config.generator(seed, 0))
    finals, curves = [], {}
    for std in scales(config):
        model = scaled_mlp(config.sizes, std, condition == BN, config.generator(seed, 1))
        train = RecordAccuracy(x, y)
        fit(model, (x, y), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr), epochs=config.epochs,
            batch_size=config.batch_size, callbacks=[train], generator=config.generator(seed, 2), verbose=False,
            nan_guard=False, accuracy=False)
        accuracy = np.nan_to_num(np.array(train.accuracy), nan=0.0)
        finals.append(accuracy[-1])
        curves[f"training accuracy, weight std {std:.3g}"] = accuracy
    metrics = {ALL: np.mean(finals), SMALL: np.mean(finals[len(finals) // 2:]),
               **{_label(std): f for std, f in zip(scales(config), finals)}}
    return metrics, curves
