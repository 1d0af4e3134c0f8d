"""RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class RMSprop(Optimizer):
    """PyTorch's RMSprop (same defaults, same update).

    g ← ∇ + λ·w;  s ← α·s + (1−α)·g²;  centered: ḡ ← α·ḡ + (1−α)·g and
    d = √(s − ḡ²) + ε, else d = √s + ε;
    with momentum μ: b ← μ·b + g/d, w ← w − η·b;  without: w ← w − η·g/d.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *, maximize: bool = False):
        check_hyperparameters("RMSprop", lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                              momentum=momentum)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def update(self, p, grad, state, group):
        w = p.data
        if "square_avg" not in state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(w)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(w)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(w)
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * w
        alpha = group["alpha"]
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1 - alpha) * (grad * grad)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg += (1 - alpha) * (grad - grad_avg)
            denom = square_avg - grad_avg * grad_avg
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(square_avg)
        denom += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += grad / denom
            w -= group["lr"] * buf
        else:
            w -= group["lr"] * (grad / denom)
