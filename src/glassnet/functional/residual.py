"""The join of a residual block: add the shortcut, then ReLU, in one node."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _numba_kernels


def _flat(a: np.ndarray):
    """``a`` as a flat view in its own memory order (C or conv2d's (C, H, W, N)), or None."""
    if a.flags.c_contiguous:
        return a.reshape(-1), None
    if a.ndim == 4 and a.transpose(1, 2, 3, 0).flags.c_contiguous:
        return a.transpose(1, 2, 3, 0).reshape(-1), (1, 2, 3, 0)
    return None, None


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
    (fa, order), (fb, order_b) = _flat(ad), _flat(bd)
    compiled = (fa is not None and order == order_b and ad.dtype == bd.dtype
                and ad.dtype in (np.float32, np.float64) and _numba_kernels.available())
    if compiled:  # one pass (numba; the NumPy code below is the reference)
        flat_out = _numba_kernels.add_relu(fa, fb)
        out = (flat_out.reshape(ad.shape) if order is None else
               flat_out.reshape(tuple(ad.shape[i] for i in order)).transpose(3, 0, 1, 2))
    else:
        out = np.add(ad, bd)
        np.maximum(out, 0, out=out)

    def backward(g):
        fg, g_order = _flat(g)
        if compiled and fg is not None and g_order == order and g.dtype == out.dtype:
            flat = _numba_kernels.relu_mask(fg, flat_out)
            gs = flat.reshape(g.shape) if order is None else flat.reshape(
                tuple(g.shape[i] for i in order)).transpose(3, 0, 1, 2)
        else:
            gs = g * (out > 0)
        return gs, gs

    return Tensor.from_op(out, (a, b), backward, "add_relu")
