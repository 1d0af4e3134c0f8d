"""Activation functions and their derivatives, measured with glassnet's own
backward passes: σ′ = σ(1 − σ) peaks at 0.25, tanh x = 2σ(2x) − 1, ReLU′ ∈ {0, 1},
Leaky ReLU′ ∈ {a, 1}, PReLU learns its slope, RReLU draws slopes in [l, u] while
training and uses their mean (l + u)/2 at test time.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import optim
from ..nn import Parameter
from ..tensor import Tensor
from .common import minimize
from .plotting import figure
from .registry import Check, Outcome, demonstration, scalar_metrics

CLAIM = ("σ′ ≤ 0.25 (max at 0), tanh(x) = 2σ(2x) − 1, ReLU′ ∈ {0, 1}, Leaky ReLU′ ∈ {0.01, 1}; "
         "PReLU learns its negative slope; RReLU uses random slopes in [1/8, 1/3] when training and "
         "their mean at test; every backward pass matches finite differences.")

LOWER, UPPER = 1 / 8, 1 / 3


def _value_and_derivative(fn, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(x) and f′(x) elementwise, f′ from autograd (the gradient of Σ f(x))."""
    t = Tensor(x, requires_grad=True)
    y = fn(t)
    y.sum().backward()
    return y.data, t.grad


def _learn_prelu_slope(config, seed) -> tuple[float, list]:
    """Fit a PReLU's slope a (started at 0.25) to targets made by a leaky ReLU
    with slope ``config.prelu_target`` by SGD on the quadratic cost."""
    rng = config.generator(seed, 1)
    x = Tensor(rng.standard_normal((256, 1)))
    y = np.where(x.data > 0, x.data, config.prelu_target * x.data)
    a = Parameter(np.array([0.25]))
    opt = optim.SGD([a], lr=0.5)
    path = []

    def loss_fn():
        path.append(float(a.data[0]))
        return F.quadratic_cost(F.prelu(x, a), y)

    minimize(loss_fn, opt, config.prelu_steps)
    return float(a.data[0]), path + [float(a.data[0])]


@demonstration("activations", claim=CLAIM,
            source="cs231n notes (activation functions); He et al. 2015 (PReLU); Xu et al. 2015 (RReLU)",
            dataset="grids of points and random inputs",
            setup=dict(points=1201, span=6.0, rrelu_samples=200000, prelu_target=0.3, prelu_steps=100),
            quick=dict(points=1201, span=6.0, rrelu_samples=20000, prelu_target=0.3, prelu_steps=100))
def trial(config, seed, condition):
    x = np.linspace(-config.span, config.span, config.points)  # float64, holds 0 exactly
    nonzero = x != 0  # ReLU-family derivatives are undefined at the kink
    prelu_a = Tensor(np.array([0.25]))
    functions = {
        "sigmoid": F.sigmoid,
        "tanh": F.tanh,
        "ReLU": F.relu,
        "Leaky ReLU (0.01)": lambda t: F.leaky_relu(t, 0.01),
        "PReLU (a = 0.25)": lambda t: F.prelu(t, prelu_a),
        "RReLU (test)": lambda t: F.rrelu(t, LOWER, UPPER, training=False),
    }
    curves = {name: _value_and_derivative(fn, x) for name, fn in functions.items()}

    # Finite differences at points away from the kink at 0.
    h = 1e-6
    probe = x[np.abs(x) > 1e-3]
    fd_error = 0.0
    for fn in functions.values():
        _, analytic = _value_and_derivative(fn, probe)
        numeric = (fn(Tensor(probe + h)).data - fn(Tensor(probe - h)).data) / (2 * h)
        fd_error = max(fd_error, float(np.max(np.abs(analytic - numeric))))

    sig, dsig = curves["sigmoid"]
    th, _ = curves["tanh"]
    tanh_identity = np.max(np.abs(th - (2 * F.sigmoid(Tensor(2 * x)).data - 1)))
    relu_grads = np.unique(curves["ReLU"][1][nonzero])
    leaky_grads = np.unique(curves["Leaky ReLU (0.01)"][1][nonzero])
    off_relu = int(np.sum(~np.isin(curves["ReLU"][1][nonzero], (0.0, 1.0))))
    off_leaky = int(np.sum(~np.isin(curves["Leaky ReLU (0.01)"][1][nonzero], (0.01, 1.0))))

    neg = -np.abs(config.generator(seed, 2).standard_normal(config.rrelu_samples)) - 1e-3
    train_slopes = F.rrelu(Tensor(neg), LOWER, UPPER, training=True, generator=config.generator(seed, 3)).data / neg
    test_slope = F.rrelu(Tensor(neg), LOWER, UPPER, training=False).data / neg
    prelu_learned, prelu_path = _learn_prelu_slope(config, seed)

    numbers = {
        "max_sigmoid_derivative": dsig.max(), "argmax_sigmoid_derivative": x[np.argmax(dsig)],
        "max_abs_tanh_minus_2sigmoid2x_minus_1": tanh_identity,
        "relu_derivative_values": relu_grads, "leaky_relu_derivative_values": leaky_grads,
        "max_abs_autograd_minus_finite_difference": fd_error,
        "rrelu_train_slope_min": train_slopes.min(), "rrelu_train_slope_max": train_slopes.max(),
        "rrelu_train_slope_mean": train_slopes.mean(), "rrelu_test_slope": test_slope.mean(),
        "prelu_target_slope": config.prelu_target, "prelu_learned_slope": prelu_learned,
        "prelu_slope_during_training": prelu_path,
    }
    checks = [
        Check("max σ′(x)", dsig.max(), "<=", 0.25),
        Check("|argmax σ′|", abs(x[np.argmax(dsig)]), "<", 1e-9),
        Check("max |tanh x − (2σ(2x) − 1)|", tanh_identity, "<", 1e-12),
        Check("ReLU′ values outside {0, 1}", off_relu, "==", 0),
        Check("Leaky ReLU′ values outside {0.01, 1}", off_leaky, "==", 0),
        Check("max |autograd − finite difference| over all six", fd_error, "<", 1e-6),
        Check("RReLU training slopes below 1/8", int(np.sum(train_slopes < LOWER - 1e-12)), "==", 0),
        Check("RReLU training slopes above 1/3", int(np.sum(train_slopes > UPPER + 1e-12)), "==", 0),
        Check("|mean RReLU training slope − RReLU test slope|", abs(train_slopes.mean() - test_slope.mean()),
              "<", 0.005),
        Check("|learned PReLU slope − true slope|", abs(prelu_learned - config.prelu_target), "<", 0.01),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 3, width=4.6)
        for name, (y, dy) in curves.items():
            style = dict(ls="--") if name.startswith(("PReLU", "RReLU")) else {}
            axes[0, 0].plot(x, y, label=name, **style)
            axes[0, 1].plot(x, dy, label=name, **style)
        axes[0, 0].set(title="activation f(x)", xlabel="x", ylabel="f(x)", ylim=(-2, 3))
        axes[0, 1].axhline(0.25, color="gray", ls=":", lw=1, label="0.25")
        axes[0, 1].set(title="derivative f′(x) (autograd)", xlabel="x", ylabel="f′(x)", ylim=(-0.1, 1.1))
        slopes = axes[0, 2]
        slopes.hist(train_slopes, bins=40, density=True, alpha=0.6, label="RReLU training slopes")
        slopes.axvline(test_slope.mean(), color="C3", label=f"RReLU test slope {test_slope.mean():.3f}")
        slopes.axvline(prelu_learned, color="C2", ls="--", label=f"PReLU learned slope {prelu_learned:.3f} "
                       f"(true {config.prelu_target})")
        slopes.set(title="negative-side slopes", xlabel="slope a (for x < 0)", ylabel="density")
        for ax in axes[0]:
            ax.legend(fontsize=8, loc="lower right" if ax is slopes else "upper left")
        figures = {"activations": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
