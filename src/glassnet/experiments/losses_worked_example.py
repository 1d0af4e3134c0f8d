"""cs231n's worked example of the linear classifier's losses.

Scores for three images (columns cat, car, frog) and their true classes:
the multiclass SVM loss Σ_{j≠y} max(0, s_j − s_y + 1) gives 2.9, 0 and 12.9
(mean 5.27); the softmax loss of the cat image is −ln p(cat) ≈ 2.04 (the
course prints 0.89, which is −log₁₀ p(cat)). Two weight vectors w1 = [1,0,0,0]
and w2 = [0.25]*4 give the same score w·x = 1 on x = [1,1,1,1], so the same
data loss (here softmax on the scores [w·x, 0]), and only the L2 penalty
Σw² (1.0 vs 0.25) tells them apart.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..tensor import Tensor
from .plotting import figure
from .registry import Check, Outcome, demonstration, scalar_metrics

CLAIM = ("On cs231n's cat/car/frog scores the SVM losses are 2.9, 0 and 12.9 (mean 5.27) and the cat "
         "image's softmax loss is 2.04 in natural log (0.89 in base 10); w1 = [1,0,0,0] and "
         "w2 = [0.25]*4 have equal data loss on x = [1,1,1,1] and L2 penalties 1.0 vs 0.25.")

CLASSES = ("cat", "car", "frog")
# Rows are images, columns class scores; labels: cat, car, frog (cs231n, "Linear classification").
SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LABELS = np.array([0, 1, 2])
# The numbers the course states, which this experiment recomputes.
STATED = dict(svm=(2.9, 0.0, 12.9), svm_mean=5.27, softmax_cat=2.04, softmax_cat_log10=0.89,
              l2_w1=1.0, l2_w2=0.25)


@demonstration("losses-worked-example", claim=CLAIM,
               source="cs231n notes, Linear classification (the worked SVM and softmax example)",
               dataset="the notes' three-example worked case", setup=dict(margin=1.0), seeds=1, quick_seeds=1)
def trial(config, seed, condition):
    scores = Tensor(SCORES)  # float64
    svm = F.svm_loss(scores, LABELS, margin=config.margin, reduction="none").data
    svm_mean = F.svm_loss(scores, LABELS, margin=config.margin).item()
    softmax_loss = F.cross_entropy(scores, LABELS, reduction="none").data
    p_cat = F.softmax(scores).data[0, 0]
    cat_log10 = softmax_loss[0] / np.log(10)

    x = np.ones(4)
    weights = {"w1 = [1, 0, 0, 0]": np.array([1.0, 0, 0, 0]), "w2 = [0.25]*4": np.full(4, 0.25)}
    # A two-class example scored s = [w·x, 0] with true class 0: equal scores, equal data loss.
    data_loss = {k: F.cross_entropy(Tensor(np.array([[w @ x, 0.0]])), np.array([0])).item()
                 for k, w in weights.items()}
    l2 = {k: F.l2_penalty(Tensor(w)).item() for k, w in weights.items()}
    (k1, k2) = weights

    numbers = {"scores": SCORES, "labels": [CLASSES[i] for i in LABELS], "svm_losses": svm,
               "svm_mean": svm_mean, "softmax_losses": softmax_loss, "p_cat": p_cat,
               "softmax_cat_log10": cat_log10, "data_loss": data_loss, "l2_penalty": l2, "stated": STATED}
    checks = [Check(f"|SVM loss({name}) − {stated}|", abs(v - stated), "<", 1e-6)
              for name, v, stated in zip(CLASSES, svm, STATED["svm"])]
    checks += [
        Check(f"|mean SVM loss − {STATED['svm_mean']}|", abs(svm_mean - STATED["svm_mean"]), "<", 0.005),
        Check(f"|softmax loss(cat), natural log − {STATED['softmax_cat']}|",
              abs(softmax_loss[0] - STATED["softmax_cat"]), "<", 0.005),
        Check(f"|softmax loss(cat), base 10 − {STATED['softmax_cat_log10']}|",
              abs(cat_log10 - STATED["softmax_cat_log10"]), "<", 0.005),
        Check("|data loss(w1) − data loss(w2)|", abs(data_loss[k1] - data_loss[k2]), "==", 0),
        Check("L2 penalty(w1) − L2 penalty(w2)", l2[k1] - l2[k2], ">", 0.5),
    ]

    fig, axes = figure(1, 2, width=5.0)
    ax = axes[0, 0]
    pos = np.arange(3)
    for i, (label, values) in enumerate((("SVM (hinge), Δ = 1", svm), ("softmax, ln", softmax_loss),
                                         ("softmax, log₁₀", softmax_loss / np.log(10)))):
        bars = ax.bar(pos + (i - 1) * 0.27, values, 0.27, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=8)
    ax.set_xticks(pos, [f"{c} image" for c in CLASSES])
    ax.set(title="per-image loss on the worked example", ylabel="loss")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    pos = np.arange(2)
    bars = ax.bar(pos - 0.2, [data_loss[k] for k in weights], 0.4, label="data loss (softmax, scores [w·x, 0])")
    ax.bar_label(bars, fmt="%.2f")
    bars = ax.bar(pos + 0.2, [l2[k] for k in weights], 0.4, label="L2 penalty Σw²")
    ax.bar_label(bars, fmt="%.2f")
    ax.set_xticks(pos, list(weights))
    ax.set(title="same scores w·x = 1, different L2 penalty", ylabel="value")
    ax.legend(fontsize=8)
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures={"losses": fig})
