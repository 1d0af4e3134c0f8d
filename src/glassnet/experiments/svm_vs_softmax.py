"""Multiclass SVM vs softmax (cs231n, "Linear classification").

The same linear score function s = Wx + b trained with the hinge loss
Σ_{j≠y} max(0, s_j − s_y + 1) and with the softmax cross-entropy. cs231n: their
accuracies are usually very close; the SVM is "satisfied" once the correct
score beats the others by the margin (its loss is then exactly 0), while the
softmax loss is never 0: it always wants the correct class's probability higher.
Quick mode: the 2-D spiral (decision regions drawn); full mode: the spiral and
Fashion-MNIST (each class's learned weights drawn as a 28×28 template).
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn, optim
from ..data.synthetic import make_spiral
from ..tensor import Tensor
from ..train import fit, predict
from .common import fashion_mnist
from .plotting import decision_regions, figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("Linear classifiers trained with the multiclass SVM loss and with the softmax loss reach about "
         "the same accuracy (within 5 points); the SVM loss is exactly 0 on examples that meet the margin, "
         "where the softmax loss is still clearly positive (it always wants a higher correct score).")

LOSSES = {"SVM (hinge)": nn.SVMLoss(), "softmax": nn.CrossEntropyLoss()}


def _datasets(config, seed):
    rng = config.generator(seed, 0)
    x, y = make_spiral(config.spiral_per_class, classes=3, generator=rng)
    split = rng.permutation(len(x))
    half = len(x) // 2
    sets = {"spiral": ((x[split[:half]], y[split[:half]]), (x[split[half:]], y[split[half:]]))}
    if config.fashion_mnist:
        sets["Fashion-MNIST"] = fashion_mnist(config.n_train, config.n_test, rng)
    return sets


def _train(data, loss, config, name, seed):
    (x, y), _ = data
    spiral = name == "spiral"
    model = nn.Linear(x.shape[1], int(y.max()) + 1, generator=config.generator(seed, 1))
    fit(model, (x, y), loss, optim.SGD(model.parameters(), lr=config.lr, momentum=0.9),
        epochs=config.spiral_epochs if spiral else config.epochs,
        batch_size=len(x) if spiral else config.batch_size, l2=config.l2, generator=config.generator(seed, 2),
        verbose=False)
    return model


@reproduction("svm-vs-softmax", claim=CLAIM, source="cs231n notes, Linear classification (SVM vs softmax)",
              dataset="a generated 2-D spiral and Fashion-MNIST (60,000 training, 10,000 test images)",
              setup=dict(spiral_per_class=500, spiral_epochs=1000, fashion_mnist=True, n_train=60000, n_test=10000,
                         epochs=10, batch_size=100, lr=0.1, l2=0.1),
              quick=dict(spiral_per_class=200, spiral_epochs=300, fashion_mnist=False))
def trial(config, seed, condition):
    numbers, checks, models, sets = {}, [], {}, _datasets(config, seed)
    for name, data in sets.items():
        (x, y), (x_test, y_test) = data
        numbers[name] = {}
        for label, loss in LOSSES.items():
            model = models[name, label] = _train(data, loss, config, name, seed)
            scores = Tensor(predict(model, x).astype(np.float64))
            satisfied = F.svm_loss(scores, y, reduction="none").data == 0
            softmax_loss = F.cross_entropy(scores, y, reduction="none").data
            numbers[name][label] = {
                "train_accuracy": float(np.mean(scores.data.argmax(1) == y)),
                "test_accuracy": float(np.mean(predict(model, x_test).argmax(1) == y_test)),
                "fraction_zero_svm_loss": float(np.mean(satisfied)),
                "median_softmax_loss_where_svm_loss_is_0": float(np.median(softmax_loss[satisfied]))
                if satisfied.any() else float("nan"),
            }
        svm, soft = numbers[name]["SVM (hinge)"], numbers[name]["softmax"]
        chance = 1 / (int(y.max()) + 1)
        checks += [
            Check(f"{name}: |test accuracy SVM − softmax|", abs(svm["test_accuracy"] - soft["test_accuracy"]),
                  "<", 0.05),
            Check(f"{name}: SVM-trained, fraction of training examples with hinge loss exactly 0",
                  svm["fraction_zero_svm_loss"], ">", 0.1),
            Check(f"{name}: softmax-trained, median softmax loss on examples whose hinge loss is 0",
                  soft["median_softmax_loss_where_svm_loss_is_0"], ">", 1e-3),
            Check(f"{name}: softmax test accuracy / chance", soft["test_accuracy"] / chance, ">", 1.3),
        ]

    figures = {}
    if seed != 0:  # illustrations of the first seed only
        return Outcome(metrics=scalar_metrics(numbers), checks=checks)
    fig, axes = figure(1, 2, width=4.6, height=4.2)
    (x, y), _ = sets["spiral"]
    for ax, label in zip(axes[0], LOSSES):
        model = models["spiral", label]
        decision_regions(ax, lambda g, m=model: predict(m, g.astype(np.float32)).argmax(1), x, y,
                         f"spiral, {label}: test acc. {numbers['spiral'][label]['test_accuracy']:.0%}")
    figures["spiral"] = fig
    if "Fashion-MNIST" in sets:
        fig, axes = figure(2, 10, width=1.3, height=1.6)
        for row, label in enumerate(LOSSES):
            w = models["Fashion-MNIST", label].weight.data
            for c in range(10):
                ax = axes[row, c]
                ax.imshow(w[c].reshape(28, 28), cmap="RdBu_r", vmin=-np.abs(w[c]).max(), vmax=np.abs(w[c]).max())
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_title(f"class {c}", fontsize=8)
            axes[row, 0].set_ylabel(f"{label}\n{numbers['Fashion-MNIST'][label]['test_accuracy']:.1%}", fontsize=8)
        fig.suptitle("Fashion-MNIST linear classifiers: each class's weight template (red +, blue −); "
                     "row label: loss and test accuracy", fontsize=10)
        figures["templates"] = fig
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
