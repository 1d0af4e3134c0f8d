"""Stochastic gradient descent, with momentum and Nesterov momentum."""

from __future__ import annotations

import numpy as np

from ..functional import _numba_kernels
from .optimizer import Optimizer, check_hyperparameters, fused_update_applies


class SGD(Optimizer):
    """PyTorch's SGD (same defaults, same update).

    g ← ∇ + λ·w (weight_decay λ);  with momentum μ: v ← μ·v + (1−dampening)·g
    (v = g on the first step), and the step uses v (or g + μ·v with Nesterov);
    w ← w − η·step.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        check_hyperparameters("SGD", lr=lr, momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))

    def update(self, p, grad, state, group):
        w = p.data
        momentum, buf = group["momentum"], state.get("momentum_buffer")
        if fused_update_applies(w, grad, buf):
            first = bool(momentum) and buf is None
            if first:
                buf = state["momentum_buffer"] = np.empty_like(w)
            _numba_kernels.sgd(w.reshape(-1), grad.reshape(-1), buf.reshape(-1) if momentum else None,
                               weight_decay=group["weight_decay"], momentum=momentum, dampening=group["dampening"],
                               first=first, nesterov=group["nesterov"], lr=group["lr"])
            return
        if group["weight_decay"]:
            grad = grad + group["weight_decay"] * w
        if momentum:
            if buf is None:
                buf = state["momentum_buffer"] = grad.copy()
            else:
                buf *= momentum
                buf += grad if group["dampening"] == 0 else (1 - group["dampening"]) * grad
            grad = grad + momentum * buf if group["nesterov"] else buf
        w -= group["lr"] * grad
