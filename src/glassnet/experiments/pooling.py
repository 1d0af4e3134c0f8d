"""Pooling (cs231n, "Pooling layer"; Krizhevsky et al. 2012; He et al. 2014).

The course's two-conv network trained three times, identical except for its
two pooling layers: max 2×2 stride 2, average 2×2 stride 2, and overlapping
max 3×3 stride 2 (AlexNet's). cs231n: max pooling "has been shown to work
better in practice" than average pooling; AlexNet found overlapping pooling
slightly better and slightly harder to overfit (train − test gap).

Spatial pyramid pooling replaces the last pooling layer by max pools over a
1×1, 2×2 and 4×4 grid of each feature map, whatever its size, so one network
takes 28×28 images and 36×36 ones (the same images with a 4-pixel black
border), where the flattening network cannot. As in SPP-net's multi-size
training, it is trained on both sizes, alternating every mini-batch.

Accuracy differences between poolings are small; each is judged against its
sampling noise: the standard error of a difference of two accuracies p on n
test images, √(2p(1 − p)/n).
"""

from __future__ import annotations

import numpy as np

from .. import nn, optim
from ..models.cnn import spp_cnn
from ..data import DataLoader
from ..tensor import Tensor, no_grad
from ..train import evaluate, fit
from .common import fashion_mnist
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("In the same CNN, max pooling beats average pooling and overlapping max pooling does at least as well "
         "as non-overlapping (within noise); spatial pyramid pooling gives the same output length for 28×28 and "
         "36×36 inputs, so one network trained on both sizes classifies both about equally well.")

POOLS = {"max 2×2/2": (nn.MaxPool2d, 2, 2), "average 2×2/2": (nn.AvgPool2d, 2, 2),
         "overlapping max 3×3/2": (nn.MaxPool2d, 3, 2)}


def pooled_cnn(pool: str, generator) -> nn.Sequential:
    """conv 20@5×5 → ReLU → pool → conv 40@5×5 → ReLU → pool → FC 100 → ReLU → FC 10."""
    kind, size, stride = POOLS[pool]
    features = nn.Sequential(nn.Conv2d(1, 20, 5, generator=generator), nn.ReLU(), kind(size, stride),
                             nn.Conv2d(20, 40, 5, generator=generator), nn.ReLU(), kind(size, stride), nn.Flatten())
    with no_grad():
        width = features(Tensor(np.zeros((1, 1, 28, 28), dtype=np.float32))).shape[1]
    return nn.Sequential(*features, nn.Linear(width, 100, generator=generator), nn.ReLU(),
                         nn.Linear(100, 10, generator=generator))


def pad(images: np.ndarray, border: int) -> np.ndarray:
    """(N, 1, H, W) → (N, 1, H + 2b, W + 2b) with a black border of ``border`` pixels."""
    return np.pad(images, ((0, 0), (0, 0), (border, border), (border, border)))


class AlternateBorder:
    """A DataLoader transform for multi-size training: every second mini-batch
    gets a black border of ``border`` pixels (28×28 → 36×36), the others pass
    unchanged, so the network sees both sizes throughout training."""

    def __init__(self, border: int):
        self.border, self.calls = border, 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        self.calls += 1
        return pad(images, self.border) if self.calls % 2 == 0 else images


def _train(model, x, y, config, seed, transform=None):
    loader = DataLoader((x, y), batch_size=config.batch_size, shuffle=True, generator=config.generator(seed, 2),
                        transform=transform)
    fit(model, loader, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr, momentum=0.9),
        epochs=config.epochs, verbose=False)


@reproduction("pooling", claim=CLAIM,
            source="Krizhevsky et al. 2012, §3.4 (overlapping pooling); He et al. 2014 (spatial pyramid pooling)",
            dataset="Fashion-MNIST",
            setup=dict(n_train=20000, n_test=10000, epochs=3, batch_size=32, lr=0.05, border=4),
            quick=dict(n_train=1000, n_test=500, epochs=3, batch_size=32, lr=0.05, border=4))
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    x, x_test = x.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
    runs = {}
    for pool in POOLS:
        model = pooled_cnn(pool, config.generator(seed, 1))
        _train(model, x, y, config, seed)
        train, test = evaluate(model, (x, y))["accuracy"], evaluate(model, (x_test, y_test))["accuracy"]
        runs[pool] = {"train_accuracy": train, "test_accuracy": test, "gap": train - test}

    spp = spp_cnn(levels=(1, 2, 4), generator=config.generator(seed, 1))
    _train(spp, x, y, config, seed, AlternateBorder(config.border))
    big_test = pad(x_test, config.border)
    with no_grad():
        lengths = {f"{s}×{s}": int(spp[:6](Tensor(np.zeros((1, 1, s, s), dtype=np.float32))).shape[1])
                   for s in (28, 28 + 2 * config.border)}
    spp_acc = {f"{x_test.shape[-1]}×{x_test.shape[-1]}": evaluate(spp, (x_test, y_test))["accuracy"],
               f"{big_test.shape[-1]}×{big_test.shape[-1]}": evaluate(spp, (big_test, y_test))["accuracy"]}
    flat = pooled_cnn("max 2×2/2", config.generator(seed, 1))
    try:
        with no_grad():
            flat(Tensor(big_test[:2]))
        flat_error = None
    except ValueError as e:
        flat_error = str(e)

    numbers = {"runs": runs, "spp_feature_length": lengths, "spp_test_accuracy": spp_acc,
               "flattening_cnn_on_bigger_images": flat_error or "ran"}
    mx, avg, over = (runs[p] for p in POOLS)
    (small_len, big_len), (small_acc, big_acc) = lengths.values(), spp_acc.values()
    p = mx["test_accuracy"]
    se = float(np.sqrt(2 * p * (1 - p) / len(x_test)))
    numbers["standard_error_of_a_difference"] = se
    checks = [
        Check("test accuracy: max − average pooling", mx["test_accuracy"] - avg["test_accuracy"], ">", 0),
        Check("test accuracy: overlapping max − max 2×2/2 (≥ −2 standard errors)",
              over["test_accuracy"] - mx["test_accuracy"], ">=", -2 * se),
        Check("SPP feature length, 36×36 input − 28×28 input", big_len - small_len, "==", 0),
        Check("flattening CNN on 36×36 input raises a shape error", int(flat_error is not None), "==", 1),
        Check("SPP net: |test accuracy 36×36 − 28×28| (< 2 standard errors)", abs(big_acc - small_acc), "<", 2 * se),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 3, width=4.4)
        ax = axes[0, 0]
        names = list(runs)
        pos = np.arange(len(names))
        ax.bar(pos - 0.2, [100 * runs[n]["train_accuracy"] for n in names], 0.4, label="train")
        bars = ax.bar(pos + 0.2, [100 * runs[n]["test_accuracy"] for n in names], 0.4, label="test")
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_xticks(pos, names, fontsize=8)
        ax.set(title="same CNN, different pooling", ylabel="accuracy (%)",
               ylim=(100 * min(min(r["test_accuracy"], r["train_accuracy"]) for r in runs.values()) - 5, 100))
        ax.legend(fontsize=8)
        ax = axes[0, 1]
        ax.imshow(big_test[0, 0], cmap="gray")
        ax.set(title=f"a {big_test.shape[-1]}×{big_test.shape[-1]} test image (4-px border)", xticks=[], yticks=[])
        ax = axes[0, 2]
        bars = ax.bar(list(spp_acc), [100 * v for v in spp_acc.values()], color=["C0", "C2"])
        ax.bar_label(bars, fmt="%.1f%%")
        ax.set(title=f"SPP net trained on both sizes: test accuracy\n(feature length {small_len} for both)",
               xlabel="input size", ylabel="accuracy (%)", ylim=(0, 100))
        fig.suptitle(f"Pooling: {len(x)} Fashion-MNIST images, {config.epochs} epoch(s), SGD η = {config.lr}, "
                     f"momentum 0.9; test on {len(x_test)}")
        figures = {"pooling": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
