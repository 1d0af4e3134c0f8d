"""Activation statistics through a deep net, by initialization (cs231n, "Weight
initialization"): 10 layers of 500 units on 1,000 random inputs x ~ N(0, I).

A unit sums n_in = 500 terms, so its input z has std ≈ std(w)·√500·std(a):
with w = 0.01·N(0,1) that factor is 0.22 and tanh activations shrink toward 0
layer after layer; with w ~ N(0,1) it is 22 and tanh saturates at ±1; Xavier
(std √(2/(n_in+n_out)) = 1/√500 here) keeps the scale. ReLU zeroes half its
inputs, so with Xavier the variance halves at each layer, and He's factor √2
(std √(2/n_in)) restores it.
"""

from __future__ import annotations

import numpy as np

from .. import init, nn
from ..tensor import Tensor, no_grad
from .plotting import figure, save
from .registry import Check, experiment

CLAIM = ("In a 10-layer, 500-unit tanh net, 0.01·randn weights make activations collapse to 0, N(0,1) "
         "weights saturate them at ±1, Xavier keeps them spread; with ReLU, Xavier lets them shrink "
         "layer by layer and He keeps their scale.")

# (label, nonlinearity, init scheme of glassnet.init.apply)
SETTINGS = (("tanh, 0.01·N(0,1)", "tanh", "small"),
            ("tanh, N(0,1)", "tanh", "large"),
            ("tanh, Xavier", "tanh", "xavier_normal"),
            ("ReLU, Xavier", "relu", "xavier_normal"),
            ("ReLU, He", "relu", "he_normal"))


def layer_activations(x: np.ndarray, layers: int, width: int, nonlinearity: str, scheme: str) -> list:
    """The activations of each hidden layer of ``layers`` × Linear(width) + nonlinearity."""
    act = nn.Tanh if nonlinearity == "tanh" else nn.ReLU
    net = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width), act())])
    init.apply(net, scheme)
    outputs, h = [], Tensor(x)
    with no_grad():
        for i in range(0, len(net), 2):
            h = net[i + 1](net[i](h))
            outputs.append(h.data)
    return outputs


@experiment("init-histograms", CLAIM,
            quick=dict(inputs=200, layers=10, width=500),
            full=dict(inputs=1000, layers=10, width=500))
def run(config):
    x = config.generator(0).standard_normal((config.inputs, config.width)).astype(np.float32)
    acts = {label: layer_activations(x, config.layers, config.width, nl, scheme) for label, nl, scheme in SETTINGS}
    stats = {label: {"mean": [float(a.mean()) for a in layers], "std": [float(a.std()) for a in layers],
                     "saturated_fraction": [float(np.mean(np.abs(a) > 0.99)) for a in layers]}
             for label, layers in acts.items()}
    last = config.layers - 1
    relu_ratio = {label: stats[label]["std"][last] / stats[label]["std"][0] for label in ("ReLU, Xavier", "ReLU, He")}
    numbers = {"per_layer": stats, "relu_std_last_over_first": relu_ratio}
    checks = [
        Check("tanh, 0.01·N(0,1): std of layer-10 activations", stats["tanh, 0.01·N(0,1)"]["std"][last], "<", 1e-3),
        Check("tanh, N(0,1): fraction of layer-10 activations with |a| > 0.99",
              stats["tanh, N(0,1)"]["saturated_fraction"][last], ">", 0.8),
        Check("tanh, Xavier: std of layer-10 activations", stats["tanh, Xavier"]["std"][last], ">", 0.1),
        Check("tanh, Xavier: fraction of layer-10 activations with |a| > 0.99",
              stats["tanh, Xavier"]["saturated_fraction"][last], "<", 0.05),
        Check("ReLU, Xavier: std layer 10 / std layer 1", relu_ratio["ReLU, Xavier"], "<", 0.1),
        Check("ReLU, He: |log2(std layer 10 / std layer 1)|", abs(np.log2(relu_ratio["ReLU, He"])), "<", 1.0),
    ]

    fig, axes = figure(len(SETTINGS), config.layers, width=1.55, height=1.35, layout=None)
    fig.subplots_adjust(left=0.05, right=0.99, bottom=0.08, top=0.9, wspace=0.15, hspace=0.45)
    for row, (label, layers) in enumerate(acts.items()):
        span = (-1, 1) if label.startswith("tanh") else (0, max(float(layers[0].max()), 1e-6))
        for col, a in enumerate(layers):
            ax = axes[row, col]
            counts, edges = np.histogram(a, bins=30, range=span)
            ax.stairs(counts, edges, fill=True, color=f"C{row}")
            ax.set_xlim(*span)
            ax.set_xticks(span, [f"{v:.2g}" for v in span])
            ax.tick_params(labelsize=6)
            ax.set_yticks([])
            if row == 0:
                ax.set_title(f"layer {col + 1}", fontsize=9)
            if row == len(SETTINGS) - 1:
                ax.set_xlabel("activation", fontsize=8)
        axes[row, 0].set_ylabel(label, fontsize=8)
    fig.suptitle(f"Histograms of activations per layer ({config.inputs} inputs, {config.width} units/layer; "
                 f"rows: nonlinearity and initialization)")
    histograms = save(fig, config, "init_histograms")

    fig, axes = figure(1, 3, width=4.5)
    depth = np.arange(1, config.layers + 1)
    for label in acts:
        axes[0, 0].plot(depth, stats[label]["mean"], "o-", ms=3, label=label)
        axes[0, 1].plot(depth, stats[label]["std"], "o-", ms=3, label=label)
        if label.startswith("tanh"):
            axes[0, 2].plot(depth, stats[label]["saturated_fraction"], "o-", ms=3, label=label)
    axes[0, 0].set(title="mean of activations", xlabel="layer", ylabel="mean")
    axes[0, 1].set(title="std of activations", xlabel="layer", ylabel="std (log scale)", yscale="log")
    axes[0, 2].set(title="tanh: fraction with |a| > 0.99 (saturated)", xlabel="layer", ylabel="fraction")
    for ax in axes[0]:
        ax.legend(fontsize=7)
    return numbers, checks, [histograms, save(fig, config, "init_layer_statistics")]
