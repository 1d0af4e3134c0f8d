"""Layer normalization (Ba, Kiros & Hinton, 2016): each example normalised over
its own last axes, the same computation in training and evaluation."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def layer_norm(x: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """y = x̂·γ + β with x̂ = (x − μ)/√(σ² + ε), where μ and the biased σ² are taken
    over the last ``len(normalized_shape)`` axes of each example.

    x: (..., *normalized_shape); γ = ``weight``, β = ``bias``: normalized_shape (or None).
    Backward, with M the number of elements normalised together and ĝ = g·γ:
    dx = (ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) / √(σ² + ε);  dγ = Σ g·x̂, dβ = Σ g over the other axes.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> F.layer_norm(Tensor(np.array([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]], dtype=np.float32)), 3).data.round(3)
        array([[-1.225,  0.   ,  1.225],
               [-0.707, -0.707,  1.414]], dtype=float32)
    """
    shape = (int(normalized_shape),) if np.ndim(normalized_shape) == 0 else tuple(normalized_shape)
    xd = x.data
    if xd.shape[xd.ndim - len(shape):] != shape or xd.ndim < len(shape):
        raise ValueError(f"layer_norm: expected input whose last axes are {shape}, got shape {xd.shape}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.shape != shape:
            raise ValueError(f"layer_norm: {name} has shape {p.shape}, expected {shape}")
    axes = tuple(range(xd.ndim - len(shape), xd.ndim))
    outer = tuple(range(xd.ndim - len(shape)))
    mean = xd.mean(axis=axes, keepdims=True)
    centered = xd - mean
    inv_std = 1.0 / np.sqrt((centered * centered).mean(axis=axes, keepdims=True) + eps)
    x_hat = centered * inv_std
    out = x_hat if weight is None else x_hat * weight.data
    if bias is not None:
        out = out + bias.data
    parents = (x,) + tuple(p for p in (weight, bias) if p is not None)

    def backward(g):
        g_hat = g if weight is None else g * weight.data
        dx = (g_hat - g_hat.mean(axis=axes, keepdims=True)
              - x_hat * (g_hat * x_hat).mean(axis=axes, keepdims=True)) * inv_std
        grads = [dx]
        if weight is not None:
            grads.append((g * x_hat).sum(axis=outer) if weight.requires_grad else None)
        if bias is not None:
            grads.append(g.sum(axis=outer) if bias.requires_grad else None)
        return tuple(grads)

    return Tensor.from_op(out.astype(xd.dtype, copy=False), parents, backward, "layer_norm")
