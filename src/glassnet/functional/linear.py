"""The affine map, fused into one graph node."""

from __future__ import annotations

from ..tensor import Tensor


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, one graph node.

    Backward: dx = g W, dW = gᵀ x (summed over leading axes), db = Σ_N g.

    Args:
        x: inputs.
        weight: W.
        bias: b, or None for y = x Wᵀ.

    Shape:
        - x: (N, in) or (..., in); W: (out, in); b: (out,).
        - Output: (N, out) or (..., out).

    Examples:
        >>> import numpy as np
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor(np.ones((2, 3), dtype=np.float32))
        >>> w = glassnet.tensor(np.arange(6, dtype=np.float32).reshape(2, 3), requires_grad=True)
        >>> F.linear(x, w, glassnet.tensor([0.5, -0.5]))
        tensor([[ 3.5, 11.5],
                [ 3.5, 11.5]], requires_grad=True)
        >>> F.linear(x, w).sum().backward()
        >>> w.grad  # dW = gᵀ x with g = 1
        array([[2., 2., 2.],
               [2., 2., 2.]], dtype=float32)
    """
    xd, w = x.data, weight.data
    if xd.ndim == 0 or xd.shape[-1] != w.shape[1]:
        raise ValueError(f"linear: expected input (..., {w.shape[1]}) for weight {w.shape}, got {xd.shape}")
    out = xd @ w.T
    if bias is not None:
        out += bias.data

    def backward(g):
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g @ w) if x.requires_grad else None
        gw = (g2.T @ xd.reshape(-1, xd.shape[-1])) if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if bias.requires_grad else None)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(out, parents, backward, "linear")
