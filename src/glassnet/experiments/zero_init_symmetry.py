"""Symmetry breaking (cs231n, "Pitfall: all zero initialization").

If every hidden unit of a layer starts with the same incoming and outgoing
weights, every unit computes the same output, receives the same gradient and
takes the same step, forever: the layer acts as one unit however wide it is.
A 2-H-2 sigmoid network trained on the two-moons set, started with all
weights 0, with all weights 0.5, and with Xavier's random weights; count the
distinct hidden units after training.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import init, optim
from ..data.synthetic import make_moons
from ..models.mlp import mlp
from ..tensor import Tensor, no_grad
from .common import minimize
from .plotting import decision_regions, figure
from .registry import Check, Outcome, demonstration, scalar_metrics

CLAIM = ("With zero or constant initial weights all hidden units of a layer stay identical through "
         "training (the layer acts as one unit); random initial weights break the symmetry.")

INITS = {"zeros": dict(scheme="zeros"), "constant 0.5": dict(scheme="constant", value=0.5),
         "Xavier": dict(scheme="xavier_normal", nonlinearity="sigmoid")}


def unit_signatures(model) -> np.ndarray:
    """One row per hidden unit: its incoming weights, bias and outgoing weights (H, d + 1 + C)."""
    first, last = model[0], model[2]
    return np.concatenate([first.weight.data, first.bias.data[:, None], last.weight.data.T], axis=1)


def distinct_units(model, tol: float = 1e-6) -> int:
    """How many hidden units differ from every earlier one by more than ``tol``
    (relative to the largest weight)."""
    sig = unit_signatures(model)
    scale = max(np.abs(sig).max(), 1e-12)
    reps = []
    for row in sig:
        if all(np.abs(row - r).max() > tol * scale for r in reps):
            reps.append(row)
    return len(reps)


@demonstration("zero-init-symmetry", claim=CLAIM,
            source="cs231n notes, Neural Networks 2 (pitfall: all-zero initialization)",
            dataset="a generated 2-D spiral",
            setup=dict(points=1000, hidden=10, steps=5000, lr=0.5, noise=0.15),
            quick=dict(points=200, steps=300))
def trial(config, seed, condition):
    x, y = make_moons(config.points, noise=config.noise, generator=config.generator(seed, 0))
    xt = Tensor(x)
    results, models = {}, {}
    for label, kwargs in INITS.items():
        model = mlp([2, config.hidden, 2], activation="sigmoid", init="default")
        init.apply(model, generator=config.generator(seed, 1), **kwargs)
        start = unit_signatures(model).copy()
        opt = optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
        losses = minimize(lambda model=model: F.cross_entropy(model(xt), y), opt, config.steps)
        with no_grad():
            accuracy = float(np.mean(model(xt).data.argmax(axis=1) == y))
        moved = float(np.abs(unit_signatures(model) - start).max())
        results[label] = {"distinct_hidden_units": distinct_units(model), "max_weight_change": moved,
                          "final_loss": losses[-1], "train_accuracy": accuracy,
                          "hidden_weights": model[0].weight.data}
        models[label] = model
    numbers = {"hidden_units": config.hidden, "by_init": results}
    checks = []
    for label in ("zeros", "constant 0.5"):
        checks += [Check(f"{label}: distinct hidden units after training", results[label]["distinct_hidden_units"],
                         "==", 1),
                   Check(f"{label}: largest weight change (it did train)", results[label]["max_weight_change"],
                         ">", 0.1)]
    checks.append(Check("Xavier: distinct hidden units after training",
                        results["Xavier"]["distinct_hidden_units"], "==", config.hidden))

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(2, 3, width=4.2, height=3.6)
        for col, (label, model) in enumerate(models.items()):
            r = results[label]
            with no_grad():
                decision_regions(axes[0, col], lambda g, m=model: m(Tensor(g.astype(np.float32))).data.argmax(axis=1),
                                 x, y, f"{label}\n{r['distinct_hidden_units']} of {config.hidden} units distinct, "
                                       f"train acc. {r['train_accuracy']:.0%}")
            ax = axes[1, col]
            w = model[0].weight.data
            ax.scatter(w[:, 0], w[:, 1], s=60, alpha=0.6, c=np.arange(config.hidden), cmap="tab10",
                       edgecolors="k", label=f"{config.hidden} hidden units")
            ax.set(title=f"{label}: weights into each unit", xlabel="weight from $x_1$",
                   ylabel="weight from $x_2$")
            ax.legend(fontsize=8)
        fig.suptitle(f"2-{config.hidden}-2 sigmoid net on two moons, {config.steps} full-batch SGD steps")
        figures = {"zero-init-symmetry": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
