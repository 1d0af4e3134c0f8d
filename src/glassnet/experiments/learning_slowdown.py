"""Learning slowdown (Nielsen, ch. 3): one sigmoid neuron, w = b = 2, input 1,
target 0, η = 0.15. With the quadratic cost the output error is
δ = (a − y)·σ′(z), and σ′(4) ≈ 0.018, so a saturated neuron barely moves at
first; with cross-entropy δ = a − y and it learns fastest when most wrong.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn, optim
from ..tensor import Tensor
from .common import minimize
from .plotting import figure
from .registry import Check, Outcome, demonstration, scalar_metrics

CLAIM = ("A sigmoid neuron started saturated (w = b = 2, x = 1, y = 0, η = 0.15) learns slowly at first "
         "with the quadratic cost and quickly with the cross-entropy cost.")


def _train(cost: str, config) -> tuple[np.ndarray, np.ndarray]:
    """Cost and output a = σ(wx + b) at the start of each epoch (one example, one step per epoch)."""
    neuron = nn.Linear(1, 1)
    neuron.weight.data[...] = config.w0
    neuron.bias.data[...] = config.b0
    opt = optim.SGD(neuron.parameters(), lr=config.lr)
    x = Tensor(np.ones((1, 1), dtype=np.float32))
    y = np.zeros((1, 1), dtype=np.float32)
    outputs = []

    def loss_fn():
        z = neuron(x)
        a = F.sigmoid(z)
        outputs.append(a.item())
        return F.quadratic_cost(a, y) if cost == "quadratic" else F.binary_cross_entropy_with_logits(z, y)

    costs = minimize(loss_fn, opt, config.epochs)
    return np.array(costs), np.array(outputs)


@demonstration("learning-slowdown", claim=CLAIM,
            source="Nielsen, Neural Networks and Deep Learning, ch. 3 (the learning slowdown)",
            dataset="one neuron, one example",
            setup=dict(w0=2.0, b0=2.0, lr=0.15, epochs=300, early=50),
            quick=dict(w0=2.0, b0=2.0, lr=0.15, epochs=300, early=50))
def trial(config, seed, condition):
    runs = {cost: _train(cost, config) for cost in ("quadratic", "cross-entropy")}
    early = config.early
    numbers = {}
    for cost, (costs, outputs) in runs.items():
        below = np.flatnonzero(outputs < 0.2)
        numbers[cost] = {
            "cost": costs, "output": outputs,
            "relative_cost_drop_early": 1 - costs[early] / costs[0],
            "epochs_to_output_below_0.2": int(below[0]) if below.size else None,
            "final_output": outputs[-1],
        }
    q, ce = numbers["quadratic"], numbers["cross-entropy"]
    checks = [
        Check(f"quadratic: fraction of the cost lost in the first {early} epochs",
              q["relative_cost_drop_early"], "<", 0.2),
        Check(f"cross-entropy: fraction of the cost lost in the first {early} epochs",
              ce["relative_cost_drop_early"], ">", 0.8),
        Check("cross-entropy: epochs until a < 0.2", ce["epochs_to_output_below_0.2"] or config.epochs,
              "<", (q["epochs_to_output_below_0.2"] or config.epochs) / 3),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 3, width=4.3)
        epochs = np.arange(config.epochs)
        for ax, cost, color in ((axes[0, 0], "quadratic", "C0"), (axes[0, 1], "cross-entropy", "C1")):
            ax.plot(epochs, numbers[cost]["cost"], color=color, label=cost)
            ax.axvline(early, color="gray", ls=":", label=f"epoch {early}")
            ax.set(title=f"{cost} cost", xlabel="epoch", ylabel="cost", ylim=(0, None))
            ax.legend()
        ax = axes[0, 2]
        for cost, color in (("quadratic", "C0"), ("cross-entropy", "C1")):
            ax.plot(epochs, numbers[cost]["output"], color=color, label=cost)
        ax.set(title="output a = σ(wx+b) (target 0)", xlabel="epoch", ylabel="output a", ylim=(0, 1))
        ax.legend()
        fig.suptitle(f"Learning slowdown: w = {config.w0}, b = {config.b0}, x = 1, y = 0, η = {config.lr}")
        figures = {"learning-slowdown": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
