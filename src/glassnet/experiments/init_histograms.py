"""Activation statistics through a deep net, by initialization (cs231n, "Weight
initialization"): 10 layers of 500 units on 1,000 random inputs x ~ N(0, I).

A unit sums n_in = 500 terms, so its input z has std ≈ std(w)·√500·std(a):
with w = 0.01·N(0,1) that factor is 0.22 and tanh activations shrink toward 0
layer after layer; with w ~ N(0,1) it is 22 and tanh saturates at ±1; Xavier
(std √(2/(n_in+n_out)) = 1/√500 here) keeps the scale. ReLU zeroes half its
inputs, so with Xavier the variance halves at each layer, and He's factor √2
(std √(2/n_in)) restores it.

*Deep Learning from Scratch* (ch. 6.2) runs the sigmoid variant: 5 layers of 100
units without biases on 1,000 inputs N(0, I), weights N(0, s²) with s = 1 (z has
std ≈ 5: activations pile up at 0 and 1, where σ′ ≈ 0), s = 0.01 (every unit
outputs ≈ 0.5: the units are interchangeable) and Xavier s = 1/√100 (spread).
"""

from __future__ import annotations

import numpy as np

from .. import init, nn
from ..tensor import Tensor, no_grad
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("In a 10-layer, 500-unit tanh net, 0.01·randn weights make activations collapse to 0, N(0,1) "
         "weights saturate them at ±1, Xavier keeps them spread; with ReLU, Xavier lets them shrink "
         "layer by layer and He keeps their scale. In a 5-layer, 100-unit sigmoid net, std 1 piles them at 0 "
         "and 1, std 0.01 at 0.5, Xavier keeps them spread.")

# (label, nonlinearity, init scheme of glassnet.init.apply)
SETTINGS = (("tanh, 0.01·N(0,1)", "tanh", "small"),
            ("tanh, N(0,1)", "tanh", "large"),
            ("tanh, Xavier", "tanh", "xavier_normal"),
            ("ReLU, Xavier", "relu", "xavier_normal"),
            ("ReLU, He", "relu", "he_normal"))


SIGMOID_STDS = (("sigmoid, std 1", 1.0), ("sigmoid, std 0.01", 0.01), ("sigmoid, Xavier", None))


def layer_activations(x: np.ndarray, layers: int, width: int, nonlinearity: str, scheme, bias: bool = True) -> list:
    """The activations of each hidden layer of ``layers`` × Linear(width) + nonlinearity;
    ``scheme`` is a scheme of :func:`glassnet.init.apply`, or a float: weights N(0, scheme²)."""
    act = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}[nonlinearity]
    net = nn.Sequential(*[m for _ in range(layers) for m in (nn.Linear(width, width, bias=bias), act())])
    if isinstance(scheme, float):
        for i in range(0, len(net), 2):
            init.normal_(net[i].weight, 0.0, scheme)
    else:
        init.apply(net, scheme)
    outputs, h = [], Tensor(x)
    with no_grad():
        for i in range(0, len(net), 2):
            h = net[i + 1](net[i](h))
            outputs.append(h.data)
    return outputs


@reproduction("init-histograms", claim=CLAIM,
            source="cs231n notes, Neural Networks 2 (weight initialization); Saitoh, Deep Learning from Scratch, ch. 6.2 (ch06/weight_init_activation_histogram.py)",
            dataset="random inputs x ~ N(0, I)",
            setup=dict(inputs=1000, layers=10, width=500, sigmoid_layers=5, sigmoid_width=100),
            quick=dict(inputs=100, width=100))
def trial(config, seed, condition):
    x = config.generator(seed, 0).standard_normal((config.inputs, config.width)).astype(np.float32)
    acts = {label: layer_activations(x, config.layers, config.width, nl, scheme) for label, nl, scheme in SETTINGS}
    stats = {label: {"mean": [float(a.mean()) for a in layers], "std": [float(a.std()) for a in layers],
                     "saturated_fraction": [float(np.mean(np.abs(a) > 0.99)) for a in layers]}
             for label, layers in acts.items()}
    x_sigmoid = config.generator(seed, 1).standard_normal((config.inputs, config.sigmoid_width)).astype(np.float32)
    sigmoid = {label: layer_activations(x_sigmoid, config.sigmoid_layers, config.sigmoid_width, "sigmoid",
                                        std if std is not None else "xavier_normal", bias=False)
               for label, std in SIGMOID_STDS}
    for label, layers in sigmoid.items():
        stats[label] = {"std": [float(a.std()) for a in layers],
                        "near_0_or_1_fraction": [float(np.mean((a < 0.05) | (a > 0.95))) for a in layers]}
    top = config.sigmoid_layers - 1
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
        Check(f"sigmoid, std 1: fraction of layer-{top + 1} activations below 0.05 or above 0.95",
              stats["sigmoid, std 1"]["near_0_or_1_fraction"][top], ">", 0.4),
        Check(f"sigmoid, std 0.01: std of layer-{top + 1} activations", stats["sigmoid, std 0.01"]["std"][top],
              "<", 0.02),
        Check(f"sigmoid, Xavier: std of layer-{top + 1} activations", stats["sigmoid, Xavier"]["std"][top], ">", 0.05),
        Check(f"sigmoid, Xavier: fraction of layer-{top + 1} activations below 0.05 or above 0.95",
              stats["sigmoid, Xavier"]["near_0_or_1_fraction"][top], "<", 0.05),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
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
        figures = {"histograms": fig}
        fig, axes = figure(1, len(sigmoid), width=3.6, height=2.8)
        for ax, (label, layers) in zip(axes[0], sigmoid.items()):
            for i, a in enumerate(layers):
                ax.hist(a.ravel(), bins=30, range=(0, 1), histtype="step", label=f"layer {i + 1}")
            ax.set(title=label, xlabel="activation")
            ax.legend(fontsize=6)
        fig.suptitle(f"Sigmoid, {config.sigmoid_layers} × {config.sigmoid_width} units, no biases (DLFS ch. 6.2)")
        figures["sigmoid-histograms"] = fig

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
        figures["layer-statistics"] = fig
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
