"""Pieces several experiments share: a full-batch descent loop, a callback
that measures training accuracy, and the Fashion-MNIST subsets the real-data
experiments train on."""

from __future__ import annotations

import functools

import numpy as np

from ..data import load_dataset
from ..data.transforms import flatten, to_float
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


class RecordBatchLoss(Callback):
    """The loss of every mini-batch, in order, in ``self.losses``."""

    def __init__(self):
        self.losses = []

    def on_batch_end(self, trainer, logs):
        self.losses.append(logs["loss"])
