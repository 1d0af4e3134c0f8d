"""Transfer learning and fine-tuning (cs231n, "Transfer learning").

Pre-train the course's two-conv network on five Fashion-MNIST classes, then
learn the other five from a few labelled images per class:

(a) from scratch: a fresh network trained on the few images;
(b) a new 5-way head on the pre-trained body, the body frozen (its learning
    rate 0: ``nn.finetune.freeze``), i.e. the body as a fixed feature extractor;
(c) a new head, and every layer trained, the body with a 10× smaller
    learning rate (``layerwise_param_groups``).

cs231n: with a small new dataset *similar* to the original one, the
pre-trained features (b) beat training from scratch; with a *very different*
one, the features of the last layers are too specific to the original
classes and transfer less. Two splits test both sides: "similar" (each new
class has a look-alike among the pre-training ones: T-shirt/shirt,
pullover/coat, sneaker/sandal and ankle boot, trouser/dress) and "different"
(pre-train on the five garments T-shirt…coat, learn sandal, shirt, sneaker,
bag, ankle boot). Each few-shot setting is averaged over several random draws
of the few images.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import NullLocator

from .. import nn, optim
from ..models.cnn import book_cnn
from ..nn.finetune import freeze, layerwise_param_groups, replace_head
from ..train import evaluate, fit
from .common import fashion_mnist
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("After pre-training on 5 classes, learning 5 similar new classes from a few images per class works "
         "better with the pre-trained body (frozen, or fine-tuned with a smaller learning rate) than from "
         "scratch; the frozen body helps less when the new classes are very different.")

# (pre-training classes, new classes); Fashion-MNIST labels: 0 T-shirt, 1 trouser, 2 pullover, 3 dress,
# 4 coat, 5 sandal, 6 shirt, 7 sneaker, 8 bag, 9 ankle boot.
SPLITS = {"similar": ((0, 1, 2, 7, 8), (3, 4, 5, 6, 9)), "different": ((0, 1, 2, 3, 4), (5, 6, 7, 8, 9))}
STRATEGIES = ("(a) from scratch", "(b) frozen body, new head", "(c) all layers, body at lr/10")


def _subset(x, y, classes):
    """The images of ``classes``, labels renumbered 0..len(classes)−1, as (N, 1, 28, 28)."""
    keep = np.isin(y, classes)
    relabel = np.full(10, -1)
    relabel[list(classes)] = np.arange(len(classes))
    return x[keep].reshape(-1, 1, 28, 28), relabel[y[keep]]


def _few_shot(x, y, per_class: int, rng):
    index = np.concatenate([rng.choice(np.flatnonzero(y == c), per_class, replace=False) for c in range(5)])
    return x[index], y[index]


def _strategy_model(strategy: str, pretrained_state: dict, config, draw: int, seed: int):
    generator = config.generator(seed, 100 + draw)
    model = book_cnn(num_classes=5, generator=generator)
    if strategy == STRATEGIES[0]:
        return model, optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    body = {k: v for k, v in pretrained_state.items() if not k.startswith("9.")}  # all but the old head
    model.load_state_dict(body, strict=False)
    replace_head(model, nn.Linear(100, 5, generator=generator))
    if strategy == STRATEGIES[1]:
        freeze(model, ["0", "3", "7"])
        return model, optim.SGD([p for p in model.parameters() if p.requires_grad], lr=config.lr, momentum=0.9)
    groups = layerwise_param_groups(model, {"9": config.lr}, default_lr=config.lr / 10)
    return model, optim.SGD(groups, lr=config.lr, momentum=0.9)


def _pretrain(x, y, x_test, y_test, classes, config, seed) -> tuple[dict, float]:
    """Train the book CNN on ``classes``; its state and its test accuracy on them."""
    xs, ys = _subset(x, y, classes)
    model = book_cnn(num_classes=5, generator=config.generator(seed, 1))
    fit(model, (xs, ys), nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=config.lr, momentum=0.9),
        epochs=config.pretrain_epochs, batch_size=config.batch_size, generator=config.generator(seed, 2), verbose=False)
    accuracy = evaluate(model, _subset(x_test, y_test, classes))["accuracy"]
    return {k: v.copy() for k, v in model.state_dict().items()}, accuracy


@reproduction("fine-tuning", claim=CLAIM,
            source="cs231n notes, Transfer learning",
            dataset="Fashion-MNIST",
            setup=dict(n_train=60000, n_test=10000, pretrain_epochs=2, shots=(5, 20), draws=3, finetune_epochs=30,
                      batch_size=32, lr=0.02),
            quick=dict(n_train=1000, n_test=300, pretrain_epochs=1, shots=(10,), draws=1, finetune_epochs=5))
def trial(config, seed, condition):
    (x, y), (x_test, y_test) = fashion_mnist(config.n_train, config.n_test, config.generator(seed, 0))
    results, source_accuracy = {}, {}
    for split, (source, target) in SPLITS.items():
        state, source_accuracy[split] = _pretrain(x, y, x_test, y_test, source, config, seed)
        xt, yt = _subset(x, y, target)
        xt_test, yt_test = _subset(x_test, y_test, target)
        results[split] = {s: {} for s in STRATEGIES}
        for shots in config.shots:
            for strategy in STRATEGIES:
                accuracies = []
                for draw in range(config.draws):
                    few_x, few_y = _few_shot(xt, yt, shots, config.generator(seed, 10 + draw))
                    model, opt = _strategy_model(strategy, state, config, draw, seed)
                    fit(model, (few_x, few_y), nn.CrossEntropyLoss(), opt, epochs=config.finetune_epochs,
                        batch_size=min(config.batch_size, len(few_x)), generator=config.generator(seed, 20 + draw),
                        verbose=False)
                    accuracies.append(evaluate(model, (xt_test, yt_test))["accuracy"])
                results[split][strategy][shots] = float(np.mean(accuracies))
    few = min(config.shots)
    gain = {split: {s: results[split][s][few] - results[split][STRATEGIES[0]][few] for s in STRATEGIES[1:]}
            for split in SPLITS}
    numbers = {"splits": {k: {"pretrain_classes": v[0], "new_classes": v[1]} for k, v in SPLITS.items()},
               "pretrain_test_accuracy": source_accuracy, "new_classes_test_accuracy": results,
               f"gain_over_scratch_at_{few}_shots": gain, "shots_per_class": list(config.shots),
               "draws": config.draws}
    frozen, tuned = STRATEGIES[1], STRATEGIES[2]
    checks = [
        Check(f"similar split, {few} images/class: frozen body − from scratch", gain["similar"][frozen], ">", 0),
        Check(f"similar split, {few} images/class: fine-tuned − from scratch", gain["similar"][tuned], ">", 0),
        Check(f"{few} images/class: frozen body's gain, different split − similar split",
              gain["different"][frozen] - gain["similar"][frozen], "<", 0),
        Check("pre-trained nets on their own classes: lowest test accuracy", min(source_accuracy.values()), ">", 0.7),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 2, width=5.2, height=4.2)
        shots = list(config.shots)
        for ax, split in zip(axes[0], SPLITS):
            for strategy in STRATEGIES:
                ax.plot(shots, [100 * results[split][strategy][k] for k in shots], "o-", label=strategy)
            ax.axhline(20, color="k", ls=":", lw=0.8, label="chance (5 classes)")
            source, target = SPLITS[split]
            ax.set(xscale="log" if len(shots) > 1 else "linear", xticks=shots, xticklabels=[str(k) for k in shots],
                   title=f"{split} split: pre-train {source} ({source_accuracy[split]:.0%}), learn {target}",
                   xlabel="labelled images per new class", ylabel="test accuracy on the new classes (%)",
                   ylim=(0, 100))
            ax.title.set_fontsize(9)
            ax.xaxis.set_minor_locator(NullLocator())
            ax.legend(fontsize=8, loc="lower right")
        fig.suptitle(f"Fine-tuning the book CNN: mean of {config.draws} draw(s) of the few images")
        figures = {"fine-tuning": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
