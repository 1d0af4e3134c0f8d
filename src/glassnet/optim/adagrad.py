"""Adagrad: a per-weight learning rate that shrinks with the gradients seen so far."""

from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_hyperparameters


class Adagrad(Optimizer):
    """PyTorch's Adagrad (same defaults, same update).

    t ← t+1;  g ← ∇ + λ·w;  η_t = η / (1 + (t−1)·lr_decay);
    G ← G + g²  (G starts at ``initial_accumulator_value``);
    w ← w − η_t · g / (√G + ε).
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 maximize: bool = False):
        check_hyperparameters("Adagrad", lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                              initial_accumulator_value=initial_accumulator_value, eps=eps)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize))

    def update(self, p, grad, state, group):
        w = p.data
        if "sum" not in state:
            state["step"] = 0
            state["sum"] = np.full_like(w, group["initial_accumulator_value"])
        state["step"] += 1
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * w
        lr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        total = state["sum"]
        total += grad * grad
        denom = np.sqrt(total)
        denom += group["eps"]
        w -= lr * (grad / denom)
