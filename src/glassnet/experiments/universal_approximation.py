"""Universal approximation (Nielsen, ch. 4) with one hidden sigmoid layer.

Target f(x) = 0.2 + 0.4x² + 0.3x·sin(15x) + 0.05·cos(50x) on [0, 1] (the
book's wiggly function). Two ways to use N hidden sigmoid units:

* *constructed* (the book's visual proof): unit i is a steep step
  σ(w(x − s_i)) at s_i = i/(N+1), and the output weight on it is the jump
  f(c_i) − f(c_{i−1}) between the midpoints of neighbouring intervals, so the
  network outputs a staircase through f; its worst error shrinks like 1/N;
* *trained*: the same 1-N-1 network from PyTorch's default random weights,
  trained by Adam on the quadratic cost, with the input standardized to
  (x − 0.5)/0.29 (zero mean, unit variance). Gradient descent fits the smooth
  part quickly and the fast cos(50x) wiggle slowly, so with a fixed budget of
  steps its error levels off: capacity grows with N, but finding the weights
  takes optimization the construction does not need.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn, optim
from ..tensor import Tensor, no_grad
from .common import minimize
from .plotting import figure
from .registry import Check, Outcome, reproduction, scalar_metrics

CLAIM = ("One hidden layer of sigmoid units approximates a continuous 1-D function ever better as the "
         "number of hidden units grows, both by the book's step construction (error ∝ 1/N: log-log slope near "
         "−1) and by training (a negative log-log slope).")


def target(x: np.ndarray) -> np.ndarray:
    return 0.2 + 0.4 * x ** 2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def one_hidden_layer(units: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(1, units), nn.Sigmoid(), nn.Linear(units, 1))


def constructed(units: int, steepness: float) -> nn.Sequential:
    """The staircase network: steps at i/N (i = 1..N), heights f(c_i) − f(c_{i−1})
    with c_i the midpoint of the i-th of N+1 intervals, output bias f(c_0)."""
    net = one_hidden_layer(units)
    steps = np.arange(1, units + 1) / (units + 1)
    mids = (np.arange(units + 1) + 0.5) / (units + 1)
    heights = np.diff(target(mids))
    w = steepness * (units + 1)
    net[0].weight.data[...] = w
    net[0].bias.data[...] = -w * steps
    net[2].weight.data[...] = heights[None, :]
    net[2].bias.data[...] = target(mids[0])
    return net


def _standardize(x: np.ndarray) -> Tensor:
    """x ∈ [0, 1] (N,) → (x − 0.5)/0.29 as an (N, 1) tensor (mean 0, std ≈ 1 on the grid)."""
    return Tensor(((x - 0.5) / 0.29).astype(np.float32)[:, None])


def _train(units: int, x: np.ndarray, y: np.ndarray, steps: int, lr: float) -> nn.Sequential:
    net = one_hidden_layer(units)
    opt = optim.Adam(net.parameters(), lr=lr)
    xt, yt = _standardize(x), y[:, None]
    minimize(lambda: F.quadratic_cost(net(xt), yt), opt, steps)
    return net


def _predict(net, inputs: Tensor) -> np.ndarray:
    with no_grad():
        return net(inputs).data[:, 0]


@reproduction("universal-approximation", claim=CLAIM,
            source="Nielsen, Neural Networks and Deep Learning, ch. 4 (universal approximation)",
            dataset="a 1-D target function on a grid",
            setup=dict(units=(1, 2, 4, 8, 16, 32, 64, 128), points=400, steps=6000, lr=0.02, steepness=50.0),
            quick=dict(units=(1, 4, 16), points=200, steps=300))
def trial(config, seed, condition):
    x = np.linspace(0, 1, config.points, dtype=np.float32)
    y = target(x).astype(np.float32)
    grid = np.linspace(0, 1, 2001, dtype=np.float32)
    truth = target(grid)
    units = list(config.units)
    curves = {"constructed": {}, "trained": {}}
    for n in units:
        curves["constructed"][n] = _predict(constructed(n, config.steepness), Tensor(grid[:, None]))
        curves["trained"][n] = _predict(_train(n, x, y, config.steps, config.lr), _standardize(grid))
    errors = {kind: {"max_abs": [float(np.max(np.abs(c[n] - truth))) for n in units],
                     "rms": [float(np.sqrt(np.mean((c[n] - truth) ** 2))) for n in units]}
              for kind, c in curves.items()}

    def improvement(kind):  # how much smaller the error at the most units is than at 1 unit
        return errors[kind]["rms"][-1] / errors[kind]["rms"][0]

    def trend(kind):  # rank correlation of units with error (−1: error always falls)
        e = np.asarray(errors[kind]["rms"])
        return float(np.corrcoef(np.arange(len(e)), np.argsort(np.argsort(e)))[0, 1])

    def slope(kind):  # least-squares slope of log RMS error against log units
        return float(np.polyfit(np.log(units), np.log(errors[kind]["rms"]), 1)[0])

    numbers = {"units": units, "errors": errors, "log_log_slope": {k: slope(k) for k in curves},
               "rms_ratio_most_vs_one_unit": {k: improvement(k) for k in curves},
               "rank_correlation_units_vs_rms": {k: trend(k) for k in curves}}
    checks = [
        # The staircase's error falls like 1/N; allow a factor 4 for the wiggles.
        Check(f"constructed: RMS error with {units[-1]} units / with 1 unit", improvement("constructed"),
              "<", 4 / units[-1]),
        Check("constructed: rank correlation of units with RMS error", trend("constructed"), "<=", -0.8),
        Check(f"trained ({config.steps} Adam steps): RMS error with {units[-1]} units / with 1 unit",
              improvement("trained"), "<", 0.5),
        Check("constructed: slope of log RMS error against log units", slope("constructed"), "<", -0.5),
        Check(f"trained ({config.steps} Adam steps): slope of log RMS error against log units", slope("trained"),
              "<", 0.0),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 3, width=4.6)
        shown = [n for n in units if n in (units[0], units[len(units) // 2], units[-1])]
        for ax, kind in ((axes[0, 0], "constructed"), (axes[0, 1], "trained")):
            ax.plot(grid, truth, "k", lw=2, label="f(x)")
            for n in shown:
                ax.plot(grid, curves[kind][n], lw=1, label=f"{n} units")
            ax.set(title=f"{kind} 1-N-1 sigmoid network", xlabel="x", ylabel="output")
            ax.legend(fontsize=8)
        ax = axes[0, 2]
        for kind, style in (("constructed", "o-"), ("trained", "s-")):
            ax.plot(units, errors[kind]["rms"], style, label=f"{kind}: RMS error")
            ax.plot(units, errors[kind]["max_abs"], style, alpha=0.4, label=f"{kind}: max error")
        ax.plot(units, errors["constructed"]["max_abs"][0] / np.asarray(units), "k:", label="∝ 1/N")
        ax.set(xscale="log", yscale="log", title="error vs hidden units", xlabel="hidden units N", ylabel="error")
        ax.legend(fontsize=8)
        figures = {"universal-approximation": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
