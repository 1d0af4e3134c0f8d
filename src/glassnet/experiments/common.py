"""Pieces several experiments share: a full-batch descent loop, the choice of
the best learning rate from a grid, callbacks that records accuracy, the
book's cost, and the data sets the real-data experiments train on (real MNIST
digits, Fashion-MNIST)."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from .. import functional as F
from ..data import DatasetNotFoundError, load_dataset, load_split
from ..data.transforms import flatten, one_hot, to_float
from ..train import Callback, evaluate


def minimize(loss_fn, optimizer, steps: int) -> list[float]:
    """``steps`` optimizer steps on ``loss_fn()`` (a closure that builds the
    loss from the current parameters); returns the loss before each step."""
    losses = []
    for _ in range(steps):
        loss = loss_fn()
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return losses


def best_of_grid(train, grid, score):
    """Run ``train(lr)`` for every rate of ``grid``, in order; returns (best lr, its run) by ``score(run)``,
    highest best (the first of equal scores)."""
    runs = {lr: train(lr) for lr in grid}
    best = max(runs, key=lambda lr: score(runs[lr]))
    return best, runs[best]


@functools.lru_cache(maxsize=1)
def _fashion_mnist_arrays():
    (x_train, y_train), (x_test, y_test) = load_dataset("fashion-mnist")
    return to_float(flatten(x_train)), y_train, to_float(flatten(x_test)), y_test


def fashion_mnist(n_train: int, n_test: int, generator: np.random.Generator):
    """``((x_train, y_train), (x_test, y_test))``: ``n_train`` random images of
    Fashion-MNIST's training set and ``n_test`` of its test set (all of a set
    when n is at least its size), flattened to float32 (N, 784) in [0, 1],
    labels int64 (N,). The 70,000 images are read once per process."""
    x_train, y_train, x_test, y_test = _fashion_mnist_arrays()

    def pick(x, y, n):
        if n >= len(x):
            return x, y
        index = np.sort(generator.choice(len(x), size=n, replace=False))
        return x[index], y[index]

    return pick(x_train, y_train, n_train), pick(x_test, y_test, n_test)


class RecordAccuracy(Callback):
    """After each epoch, the model's accuracy on ``(x, y)`` in evaluation mode
    (``fit``'s own training accuracy is averaged over the epoch in training
    mode, with dropout active); appended to ``self.accuracy``."""

    def __init__(self, x: np.ndarray, y: np.ndarray):
        self.x, self.y, self.accuracy = x, y, []

    def on_epoch_end(self, trainer, logs):
        self.accuracy.append(evaluate(trainer.model, (self.x, self.y))["accuracy"])


def book_cross_entropy(logits, labels):
    """The book's cost (``network2.CrossEntropyCost``): Σ over the 10 sigmoid
    outputs of −[y ln a + (1 − y) ln(1 − a)], a = σ(logits), mean over the
    examples. ``logits`` (N, 10) Tensor, ``labels`` (N,) int Tensor."""
    target = one_hot(labels.data, logits.shape[1])
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(axis=1).mean()


def _shared_mnist_dirs() -> list:
    """Folders that may hold the real MNIST files: ``$GLASSNET_SHARED_DATA/mnist``
    (the project's shared data folder), then ``shared/data/mnist`` beside the
    checkout this package runs from."""
    dirs = []
    if os.environ.get("GLASSNET_SHARED_DATA"):
        dirs.append(Path(os.environ["GLASSNET_SHARED_DATA"]) / "mnist")
    checkout = Path(__file__).resolve().parents[3]  # src/glassnet/experiments -> the repository
    dirs.append(checkout.parent / "shared" / "data" / "mnist")
    return [d for d in dirs if d.is_dir()]


@functools.lru_cache(maxsize=1)
def _mnist_arrays():
    """``(train or None, test)`` of real MNIST as float32 (N, 784) in [0, 1] and
    int64 labels: the test split from the shared folder or the usual search path
    (no download), the training split only where its files are on disk."""
    def find(split):
        for folder in _shared_mnist_dirs() + [None]:
            try:
                x, y = load_split("mnist", split, data_dir=folder, download=False)
                return to_float(flatten(x)), y
            except DatasetNotFoundError:
                continue
        return None

    test = find("test")
    if test is None:
        raise DatasetNotFoundError(
            "real MNIST: the 10,000-image test files (t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) "
            "were not found; set GLASSNET_SHARED_DATA to the folder holding mnist/, or put them where "
            "glassnet.data finds MNIST ($GLASSNET_DATA/mnist/ or ~/.cache/glassnet/mnist/)")
    return find("train"), test


def mnist_protocol(n_train: int, n_validation: int = 0) -> str:
    """In words, where :func:`mnist_digits` takes its images from."""
    train, (x_test, _) = _mnist_arrays()
    if train is not None:
        return (f"MNIST: the first {n_train} training images (validation: the next {n_validation}), "
                f"tested on all {len(x_test)} test images (the source's protocol)")
    rest = len(x_test) - n_train - n_validation
    return (f"real MNIST digits: a seeded random {n_train} of the 10,000 test images for training"
            + (f", {n_validation} more for validation" if n_validation else "")
            + (f", the other {rest} for testing" if rest else "")
            + " (the 60,000 training files are not on this machine)")


def mnist_digits(n_train: int, generator: np.random.Generator, n_validation: int = 0, n_test: int | None = None):
    """Real MNIST as ``[(x_train, y_train), (x_val, y_val), (x_test, y_test)]``
    (the validation pair only when ``n_validation``), float32 (N, 784) in [0, 1].

    With the full MNIST files on disk this is the book's protocol: the first
    ``n_train`` training images, the next ``n_validation`` for validation, all
    10,000 test images. With only the 10,000 test files (this project's shared
    data) it draws a random ``n_train`` (then ``n_validation``) of them with
    ``generator`` and tests on the rest (or on ``n_test`` of the rest)."""
    train, (x_test, y_test) = _mnist_arrays()
    if train is not None:
        x, y = train
        parts = [(x[:n_train], y[:n_train])]
        if n_validation:
            parts.append((x[n_train:n_train + n_validation], y[n_train:n_train + n_validation]))
        index = np.arange(len(x_test)) if n_test is None else np.sort(generator.choice(len(x_test), n_test, False))
        return parts + [(x_test[index], y_test[index])]
    if n_train + n_validation > len(x_test):
        raise ValueError(f"mnist_digits: {n_train} training + {n_validation} validation images are more than "
                         f"the {len(x_test)} real MNIST images on this machine")
    order = generator.permutation(len(x_test))
    cuts = [order[:n_train], order[n_train:n_train + n_validation], order[n_train + n_validation:]]
    if n_test is not None:
        cuts[2] = cuts[2][:n_test]
    parts = [(x_test[np.sort(c)], y_test[np.sort(c)]) for c in cuts]
    return parts if n_validation else [parts[0], parts[2]]
