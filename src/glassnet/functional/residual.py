"""The join of a residual block: add the shortcut, then ReLU, in one node."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def add_relu(a: Tensor, b: Tensor) -> Tensor:
    """y = max(a + b, 0), elementwise; a and b have the same shape.

    One output array (the sum is rectified in place) and one graph node instead
    of two. Backward: both inputs receive g·[y > 0] (addition hands the same
    gradient to each term; the ReLU passes it where the sum was positive).
    The output keeps the inputs' memory order (e.g. conv2d's (C, H, W, N) views).
    """
    ad, bd = a.data, b.data
    if ad.shape != bd.shape:
        raise ValueError(f"add_relu: inputs must have the same shape, got {ad.shape} and {bd.shape}")
    out = np.add(ad, bd)
    np.maximum(out, 0, out=out)

    def backward(g):
        gs = g * (out > 0)
        return gs, gs

    return Tensor.from_op(out, (a, b), backward, "add_relu")
