"""More training data, real or artificial (Nielsen, ch. 3, ``fig/more_data.py``).

The book's setting: ``network2`` [784, 30, 10] sigmoid, cross-entropy, large
initialization (N(0, 1)), trained on the first n training images for
1,500,000 / n epochs (every size sees 1.5 million examples), mini-batches of 10,
η = 0.5, λ = n·10⁻⁴ (so the weight decay per step ηλ/n is the same for every n);
its accuracy rises steadily with n. The book then expands the data for its
conv net (shifted copies); we test the same idea with the same MLP at η = 0.1:
1,000 images against those 1,000 plus their four one-pixel shifts, at an equal
number of updates (the raw set gets 5× the epochs), judged by the mean test
accuracy over the last 10% of epochs.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from ..data.transforms import expand_with_shifts
from ..models.mlp import mlp
from ..train import evaluate, fit
from .common import book_cross_entropy, mnist_digits, mnist_protocol
from .registry import reproduction
from .stats import Rule

TEST, TAIL = "test accuracy after training", "test accuracy, mean of the last 10% of epochs"
RAW, EXPANDED = "1,000 images, η = 0.1", "1,000 images + 4 one-pixel shifts each, η = 0.1"


def size_label(n: int) -> str:
    return f"n = {n}"


def _conditions(config):
    return tuple(size_label(n) for n in config.sizes) + (RAW, EXPANDED)


def _rules(config):
    small, middle, large = (size_label(n) for n in (config.sizes[0], config.sizes[len(config.sizes) // 2],
                                                     config.sizes[-1]))
    return [Rule(TEST, large, ">", 0.0, baseline=small), Rule(TEST, large, ">", 0.0, baseline=middle),
            Rule(TAIL, EXPANDED, ">", 0.0, baseline=RAW)]


@reproduction(
    "more-data",
    claim="Test accuracy rises steadily with the number of training images (at a fixed number of examples seen); "
          "adding one-pixel shifted copies of 1,000 images raises their test accuracy at an equal number of updates.",
    source="Nielsen, Neural Networks and Deep Learning, ch. 3, fig/more_data.py (and the expanded data of src/conv.py)",
    dataset=lambda config: mnist_protocol(max(config.sizes)),
    conditions=_conditions,
    setup=dict(sizes=(100, 200, 500, 1000, 2000, 5000), examples_seen=1_500_000, lr=0.5, batch_size=10, hidden=30,
               expand_base=1000, expand_lr=0.1, expand_epochs=30),
    quick=dict(sizes=(50, 100, 200), examples_seen=1000, expand_base=100, expand_epochs=1),
    rules=_rules,
    deviations=lambda config: [
        f"Data: {mnist_protocol(max(config.sizes))}; every size is a nested subset of the same seeded "
        f"{max(config.sizes)} images and is tested on the same held-out images. Sizes above 5,000 (the book goes "
        "to 50,000) need the full MNIST training files.",
        "Expansion: the book's MLP at η = 0.1 (the book expands data for its conv net); the expanded set gets "
        f"{config.expand_epochs} epochs, the raw one 5× as many, so both make the same number of updates."],
)
def trial(config, seed, condition):
    (x_all, y_all), (x_test, y_test) = mnist_digits(max(config.sizes), config.generator(seed, 0))

    def network():
        return mlp([784, config.hidden, 10], activation="sigmoid", init="large", generator=config.generator(seed, 1))

    if condition in (RAW, EXPANDED):
        x, y = x_all[:config.expand_base], y_all[:config.expand_base]
        epochs = config.expand_epochs
        if condition == EXPANDED:
            x, y = expand_with_shifts(x, y, shifts=1, image_shape=(28, 28))
        else:
            epochs *= 5
        model = network()
        history = fit(model, (x, y), book_cross_entropy, optim.SGD(model.parameters(), lr=config.expand_lr),
                      epochs=epochs, batch_size=config.batch_size, validation_data=(x_test, y_test),
                      generator=config.generator(seed, 2), verbose=False).history
        accuracy = np.array(history["val_accuracy"])
        return {TAIL: accuracy[-max(1, epochs // 10):].mean(), TEST: accuracy[-1]}, {}
    n = int(condition.split("= ")[1])
    model = network()
    fit(model, (x_all[:n], y_all[:n]), book_cross_entropy, optim.SGD(model.parameters(), lr=config.lr),
        epochs=max(1, config.examples_seen // n), batch_size=config.batch_size, l2=n * 1e-4,
        generator=config.generator(seed, 2), verbose=False, accuracy=False)
    return {TEST: evaluate(model, (x_test, y_test))["accuracy"]}, {}
