"""Adam and AdamW: momentum on the gradient, RMSprop's scaling, bias-corrected."""

from __future__ import annotations

import math

import numpy as np

from ..functional import _numba_kernels as _kernels
from .optimizer import Optimizer, check_hyperparameters, fused_update_applies


class Adam(Optimizer):
    """PyTorch's Adam (same defaults, same update).

    t ← t+1;  g ← ∇ + λ·w (L2 added to the gradient; AdamW instead decays w);
    m ← β₁·m + (1−β₁)·g;  v ← β₂·v + (1−β₂)·g²  (amsgrad: v̂ ← max(v̂, v), used for v);
    w ← w − (η / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + ε).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False,
                 decoupled_weight_decay: bool = False):
        name = type(self).__name__
        check_hyperparameters(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def update(self, p, grad, state, group):
        w = p.data
        if "exp_avg" not in state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(w)
            state["exp_avg_sq"] = np.zeros_like(w)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(w)
        state["step"] += 1
        t = state["step"]
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        decoupled = bool(wd) and group["decoupled_weight_decay"]
        m, v = state["exp_avg"], state["exp_avg_sq"]
        v_max = state.get("max_exp_avg_sq") if group["amsgrad"] else None
        if fused_update_applies(w, grad, m, v, v_max):
            _kernels.adam(w.reshape(-1), grad.reshape(-1), m.reshape(-1), v.reshape(-1),
                          None if v_max is None else v_max.reshape(-1),
                          decay=1 - lr * wd if decoupled else 1.0, coupled_decay=0.0 if decoupled else wd,
                          beta1=beta1, beta2=beta2, bias2_root=math.sqrt(1 - beta2 ** t), eps=group["eps"],
                          step=lr / (1 - beta1 ** t))
            return
        if decoupled:
            w *= 1 - lr * wd
        elif wd:
            grad = grad + wd * w
        m += (1 - beta1) * (grad - m)
        v *= beta2
        v += (1 - beta2) * (grad * grad)
        if v_max is not None:
            v = np.maximum(v_max, v, out=v_max)
        denom = np.sqrt(v)
        denom /= math.sqrt(1 - beta2 ** t)
        denom += group["eps"]
        w -= (lr / (1 - beta1 ** t)) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): w ← w·(1 − η·λ)
    before the Adam step, instead of adding λ·w to the gradient. Default λ = 0.01."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True)
