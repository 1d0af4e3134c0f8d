"""The join of a residual block: add the shortcut, then ReLU, in one node."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _numba_kernels


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
    (fa, order), (fb, order_b) = _numba_kernels.flat_view(ad), _numba_kernels.flat_view(bd)
    compiled = (fa is not None and order == order_b and ad.dtype == bd.dtype
                and ad.dtype in (np.float32, np.float64) and _numba_kernels.available())
    if compiled:  # one pass (numba; the NumPy code below is the reference)
        out = _numba_kernels.unflatten(_numba_kernels.add_relu(fa, fb), ad.shape, order)
    else:
        out = np.add(ad, bd)
        np.maximum(out, 0, out=out)

    def backward(g):
        gs = _numba_kernels.relu_mask(g, out) if compiled else None
        if gs is None:
            gs = g * (out > 0)
        return gs, gs

    return Tensor.from_op(out, (a, b), backward, "add_relu")
