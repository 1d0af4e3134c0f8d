"""Overfitting and regularization (Nielsen, ch. 3, ``fig/overfitting.py``).

The book's setting: ``network2`` [784, 30, 10] sigmoid with
``large_weight_initializer`` (weights and biases N(0, 1)), ``CrossEntropyCost``
(summed over the 10 sigmoid outputs), the first 1,000 training images, 400
epochs of SGD with mini-batches of 10 and η = 0.5, tested on 10,000 images.
Unregularized, the net reaches 100% training accuracy while its test cost
bottoms near epoch 15 and then rises: it memorizes. With L2 (C = C₀ +
λ/2n Σw², λ = 0.1) the book's best test accuracy rises from 82.27% to 87.10%.

The claim is about test accuracy, not the train−test gap (a smaller gap can
mean only that the net learned less). Conditions: λ = 0, the book's λ = 0.1,
and λ chosen on a validation split from a grid. ``l1-regularization`` is the
same protocol with C₀ + λ/n Σ|w|.
"""

from __future__ import annotations

import numpy as np

from .. import optim
from ..models.mlp import mlp
from ..train import fit
from .common import RecordAccuracy, book_cross_entropy, mnist_digits, mnist_protocol
from .plotting import band, figure, save
from .registry import reproduction
from .stats import Rule

TEST_TAIL = "test accuracy, mean of the last 40 epochs"
TEST_BEST = "test accuracy, best epoch"
TRAIN_LAST = "training accuracy, last epoch"
COST_RISE = "test cost, last epoch − its minimum"
COST_MIN_EPOCH = "epoch of the lowest test cost"
GAP = "training − test accuracy, mean of the last 40 epochs"
CHOSEN = "λ chosen on the validation split"

NONE, BOOK_L2, CHOSEN_L2 = "λ = 0", "L2, λ = 0.1 (the book)", "L2, λ chosen on validation"
L1_CHOSEN = "L1, λ chosen on validation"


def _train(config, seed, data, penalty: str, lmbda: float):
    """One 400-epoch run; returns (test accuracy, test cost, training accuracy, validation accuracy) per epoch."""
    (x, y), (x_val, y_val), (x_test, y_test) = data
    model = mlp([784, config.hidden, 10], activation="sigmoid", init="large", generator=config.generator(seed, 1))
    train_accuracy, val_accuracy = RecordAccuracy(x, y), RecordAccuracy(x_val, y_val)
    history = fit(model, (x, y), book_cross_entropy, optim.SGD(model.parameters(), lr=config.lr),
                  epochs=config.epochs, batch_size=config.batch_size, validation_data=(x_test, y_test),
                  callbacks=[train_accuracy, val_accuracy], generator=config.generator(seed, 2), verbose=False,
                  **{penalty: lmbda}).history
    return (np.array(history["val_accuracy"]), np.array(history["val_loss"]), np.array(train_accuracy.accuracy),
            np.array(val_accuracy.accuracy))


def regularized_trial(config, seed, condition, conditions: dict):
    """One condition: ``conditions[condition] = (penalty, λ or a tuple of λs to choose from on validation)``."""
    data = mnist_digits(config.n_train, config.generator(seed, 0), n_validation=config.n_validation,
                        n_test=config.n_test)
    penalty, lmbda = conditions[condition]
    tail = config.tail
    if isinstance(lmbda, tuple):  # choose λ by validation accuracy over the last epochs
        runs = {lam: _train(config, seed, data, penalty, lam) for lam in lmbda}
        chosen = max(runs, key=lambda lam: runs[lam][3][-tail:].mean())
        test, cost, train, _ = runs[chosen]
    else:
        chosen = lmbda
        test, cost, train, _ = _train(config, seed, data, penalty, lmbda)
    metrics = {TEST_TAIL: test[-tail:].mean(), TEST_BEST: test.max(), TRAIN_LAST: train[-1],
               COST_RISE: cost[-1] - cost.min(), COST_MIN_EPOCH: int(np.argmin(cost)) + 1,
               GAP: (train - test)[-tail:].mean(), CHOSEN: chosen}
    return metrics, {"test accuracy": test, "training accuracy": train, "test cost": cost}


def plot_curves(result, out_dir):
    curves = result["curves"]
    fig, axes = figure(1, 2, width=5.4)
    for i, c in enumerate(result["conditions"]):
        band(axes[0, 0], curves["test accuracy"], c, color=f"C{i}", label=f"{c}: test")
        band(axes[0, 0], curves["training accuracy"], c, color=f"C{i}", ls=":", label=f"{c}: training")
        band(axes[0, 1], curves["test cost"], c, color=f"C{i}")
    axes[0, 0].set(title="accuracy (mean, 95% CI band)", xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    axes[0, 1].set(title="test cost (the book's cross-entropy)", xlabel="epoch", ylabel="cost")
    for ax in axes[0]:
        ax.legend(fontsize=7)
    s = result["setup"]
    fig.suptitle(f"{result['name']}: 784-{s['hidden']}-10 sigmoid, large init, {s['n_train']} MNIST digits, "
                 f"η = {s['lr']}, mini-batch {s['batch_size']}, {len(result['seeds'])} seeds")
    return [save(fig, out_dir, f"{result['name']}-curves")]


def _deviations(config):
    return [f"Data: {mnist_protocol(config.n_train, config.n_validation)}.",
            f"λ chosen on validation: the grid {config.grid}, by validation accuracy over the last {config.tail} "
            "epochs (the book tunes λ by hand).",
            "The test cost is the cross-entropy only (the book's total_cost also adds the L2 term).",
            "Five seeds: different training subsets, initial weights and shuffles (the book: one run)."]


SETUP = dict(n_train=1000, n_validation=1000, n_test=None, hidden=30, epochs=400, batch_size=10, lr=0.5, tail=40,
             grid=(0.1, 1.0, 5.0))
QUICK = dict(n_train=100, n_validation=100, n_test=300, epochs=6, tail=2, grid=(0.1, 5.0))
L2_CONDITIONS = {NONE: ("l2", 0.0), BOOK_L2: ("l2", 0.1), CHOSEN_L2: ("l2", SETUP["grid"])}


@reproduction(
    "overfitting",
    claim="On 1,000 training images the unregularized 784-30-10 net memorizes (100% training accuracy, a test "
          "cost that rises after an early minimum); L2 regularization raises its test accuracy (the book: best "
          "82.27% → 87.10% with λ = 0.1).",
    source="Nielsen, Neural Networks and Deep Learning, ch. 3, fig/overfitting.py",
    dataset=lambda config: mnist_protocol(config.n_train, config.n_validation),
    conditions=tuple(L2_CONDITIONS),
    setup=SETUP, quick=QUICK,
    rules=[Rule(TEST_TAIL, BOOK_L2, ">", 0.0, baseline=NONE), Rule(TEST_TAIL, CHOSEN_L2, ">", 0.0, baseline=NONE),
           Rule(COST_RISE, NONE, ">", 0.0), Rule(TRAIN_LAST, NONE, ">", 0.98)],
    deviations=_deviations,
    book={TEST_BEST: {NONE: 0.8227, BOOK_L2: 0.8710}, TRAIN_LAST: {NONE: 1.0, BOOK_L2: 1.0},
          COST_MIN_EPOCH: {NONE: 15}},
    plot=plot_curves,
)
def trial(config, seed, condition):
    conditions = dict(L2_CONDITIONS, **{CHOSEN_L2: ("l2", tuple(config.grid))})
    return regularized_trial(config, seed, condition, conditions)


@reproduction(
    "l1-regularization",
    claim="L1 regularization (C₀ + λ/n Σ|w|), with λ chosen on validation, raises the test accuracy of the "
          "overfitting 784-30-10 net on 1,000 images, as L2 does.",
    source="Nielsen, Neural Networks and Deep Learning, ch. 3 (L1 regularization), on fig/overfitting.py's setup",
    dataset=lambda config: mnist_protocol(config.n_train, config.n_validation),
    conditions=(NONE, L1_CHOSEN),
    setup=dict(SETUP, grid=(0.1, 1.0, 5.0)), quick=QUICK,
    rules=[Rule(TEST_TAIL, L1_CHOSEN, ">", 0.0, baseline=NONE)],
    deviations=lambda config: _deviations(config) + ["The book states the L1 update but runs no experiment with "
                                                      "it; the protocol is overfitting's."],
    plot=plot_curves,
)
def l1_trial(config, seed, condition):
    return regularized_trial(config, seed, condition, {NONE: ("l2", 0.0), L1_CHOSEN: ("l1", tuple(config.grid))})
