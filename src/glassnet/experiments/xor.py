"""XOR: not linearly separable, solved by two hidden units.

Any linear classifier sign(w·x + b) gets at most 3 of the 4 XOR points right;
the hand-set ReLU network h1 = relu(x1 + x2 − 1), h2 = relu(−x1 − x2 + 1),
out = −h1 − h2 + 1 reproduces the truth table exactly; and a 2-2-1 network
trained by gradient descent from random weights usually finds a solution (a
run can also stall in a local minimum, hence a success rate over seeds).
Every seed's network is trained at once: the weights of S networks are stacked
into (S, ...) tensors and one batched matmul runs them all.
"""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .. import nn, optim
from ..data.synthetic import make_xor
from ..nn import Parameter
from ..tensor import Tensor, no_grad
from .common import minimize
from .plotting import decision_regions, figure
from .registry import Check, Outcome, demonstration, scalar_metrics

CLAIM = ("A linear classifier gets at most 75% of XOR right; the hand-set 2-ReLU network is exact; "
         "a 2-2-1 network trained by gradient descent learns XOR for most random seeds.")

ACTIVATIONS = {"tanh": F.tanh, "relu": F.relu, "sigmoid": F.sigmoid}


def hand_set_network() -> nn.Sequential:
    """h1 = relu(x1 + x2 − 1), h2 = relu(−x1 − x2 + 1), out = −h1 − h2 + 1."""
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    net[0].weight.data[...] = [[1, 1], [-1, -1]]
    net[0].bias.data[...] = [-1, 1]
    net[2].weight.data[...] = [[-1, -1]]
    net[2].bias.data[...] = [1]
    return net


def _linear_search(x: np.ndarray, y: np.ndarray, samples: int, rng) -> tuple[float, np.ndarray]:
    """Best accuracy of ``samples`` random linear classifiers [w1, w2, b] ~ N(0, I), and that classifier."""
    params = rng.standard_normal((samples, 3))
    predictions = (x @ params[:, :2].T + params[:, 2]) > 0  # (4, samples)
    accuracy = np.mean(predictions == y[:, None].astype(bool), axis=0)
    best = int(np.argmax(accuracy))
    return float(accuracy[best]), params[best]


def _train_linear(x, y, steps):
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=1.0)
    target = y[:, None].astype(np.float32)
    minimize(lambda: F.binary_cross_entropy_with_logits(model(Tensor(x)), target), opt, steps)
    return model


def _train_stacked(x, y, seeds: int, activation: str, steps: int, lr: float, rng):
    """Train ``seeds`` independent 2-2-1 networks at once; returns their
    parameters (W1 (S,2,2), b1 (S,1,2), W2 (S,2,1), b2 (S,1,1)) and per-seed accuracy."""
    bound = 1 / np.sqrt(2)  # PyTorch's default for Linear(2, ·): U(−1/√fan_in, 1/√fan_in)
    shapes = ((seeds, 2, 2), (seeds, 1, 2), (seeds, 2, 1), (seeds, 1, 1))
    params = [Parameter(rng.uniform(-bound, bound, s).astype(np.float32)) for s in shapes]
    act = ACTIVATIONS[activation]
    xt = Tensor(x)
    target = np.broadcast_to(y[None, :, None].astype(np.float32), (seeds, 4, 1))
    opt = optim.SGD(params, lr=lr, momentum=0.9)

    def logits(inputs):
        w1, b1, w2, b2 = params
        return act(inputs @ w1 + b1) @ w2 + b2  # (S, N, 1)

    # The sum of the per-network mean losses: each network gets its own gradient.
    minimize(lambda: F.binary_cross_entropy_with_logits(logits(xt), target, reduction="none")
             .mean(axis=(1, 2)).sum(), opt, steps)
    with no_grad():
        accuracy = np.mean((logits(xt).data[..., 0] > 0) == y.astype(bool), axis=1)
    return logits, accuracy


@demonstration("xor", claim=CLAIM,
            source="Goodfellow, Bengio, Courville, Deep Learning, ch. 6.1 (XOR)",
            dataset="the four XOR points",
            setup=dict(linear_samples=1000000, linear_steps=2000, seeds=500, steps=3000, lr=0.5),
            quick=dict(linear_samples=20000, linear_steps=100, seeds=20, steps=300))
def trial(config, seed, condition):
    x, y = make_xor()
    rng = config.generator(seed, 0)
    best_random_linear, best_line = _linear_search(x, y, config.linear_samples, rng)
    linear = _train_linear(x, y, config.linear_steps)
    with no_grad():
        linear_accuracy = float(np.mean((linear(Tensor(x)).data[:, 0] > 0) == y))
        hand = hand_set_network()
        hand_out = hand(Tensor(x)).data[:, 0]

    trained, success = {}, {}
    for name in ACTIVATIONS:
        trained[name] = _train_stacked(x, y, config.seeds, name, config.steps, config.lr, rng)
        success[name] = float(np.mean(trained[name][1] == 1.0))

    numbers = {"best_random_linear_accuracy": best_random_linear, "trained_linear_accuracy": linear_accuracy,
               "hand_set_outputs": hand_out, "targets": y,
               "max_abs_hand_set_error": float(np.max(np.abs(hand_out - y))),
               "trained_2_2_1_success_rate": success,
               "trained_2_2_1_final_accuracies": {k: v[1] for k, v in trained.items()}}
    checks = [
        Check(f"best accuracy of {config.linear_samples} random linear classifiers", best_random_linear, "<=", 0.75),
        Check("accuracy of a trained linear classifier (logistic regression)", linear_accuracy, "<=", 0.75),
        Check("hand-set ReLU network: max |output − target|", numbers["max_abs_hand_set_error"], "==", 0),
        Check(f"2-2-1 tanh net: fraction of {config.seeds} seeds reaching 100%", success["tanh"], ">=", 0.5),
    ]

    figures = {}
    if seed == 0:  # an illustration of the first seed
        fig, axes = figure(1, 4, width=3.8, height=3.6)
        decision_regions(axes[0, 0], lambda g: g @ best_line[:2] + best_line[2] > 0, x, y,
                         f"best of {config.linear_samples} linear: {best_random_linear:.0%}")
        decision_regions(axes[0, 1], lambda g: hand(Tensor(g.astype(np.float32))).data[:, 0] > 0.5, x, y,
                         "hand-set 2-ReLU net: 100%")
        logits, accuracy = trained["tanh"]
        good, bad = np.flatnonzero(accuracy == 1), np.flatnonzero(accuracy < 1)
        for ax, picks, label in ((axes[0, 2], good, "learned"), (axes[0, 3], bad, "stuck")):
            if picks.size:
                i = picks[0]
                with no_grad():
                    decision_regions(ax, lambda g, i=i: logits(Tensor(g.astype(np.float32))).data[i, :, 0] > 0, x, y,
                                     f"2-2-1 tanh, seed {i}: {accuracy[i]:.0%} ({label})")
            else:
                ax.set_axis_off()
                ax.set_title(f"no {label} run among {config.seeds} seeds")
        fig.suptitle(f"XOR — success rate of trained 2-2-1 nets over {config.seeds} seeds: "
                     + ", ".join(f"{k} {v:.0%}" for k, v in success.items()))
        figures = {"xor-decision-boundaries": fig}
    return Outcome(metrics=scalar_metrics(numbers), checks=checks, figures=figures)
