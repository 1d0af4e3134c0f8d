"""Padding as an op with a backward pass: PyTorch's ``F.pad`` for the last axes.

``pad`` lists (before, after) amounts from the last axis backwards, as PyTorch:
``(left, right)`` pads W, ``(left, right, top, bottom)`` pads W and H. Modes:

- ``"constant"``: ``value`` outside (the backward crops g);
- ``"reflect"``: mirrored without repeating the edge, x[-i] = x[i] (needs pad < size);
- ``"replicate"``: the edge value repeated;
- ``"circular"``: wrapped around, x[-i] = x[size - i] (needs pad ≤ size).

For the last three each padded position copies one input position, so along
an axis the op is a product with a 0/1 matrix P (padded × size, one 1 per row):
forward takes rows, backward multiplies by Pᵀ, which sums the gradients of all
the positions that copied an input element.
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor

MODES = ("constant", "reflect", "replicate", "circular")


def source_index(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each position of the padded axis, the input position it copies."""
    i = np.arange(-before, size + after)
    if mode == "replicate":
        return np.clip(i, 0, size - 1)
    if mode == "circular":
        return i % size
    reflected = np.abs(i)  # reflect: −i on the left, 2(size−1) − i on the right
    return np.where(reflected > size - 1, 2 * (size - 1) - reflected, reflected)


def _check(x_shape: tuple, pad: tuple, mode: str) -> list:
    """[(axis, before, after)] from PyTorch's flat ``pad`` tuple."""
    if mode not in MODES:
        raise ValueError(f"pad: mode must be one of {MODES}, got {mode!r}")
    if len(pad) % 2 or len(pad) // 2 > len(x_shape):
        raise ValueError(f"pad: expected an even number of amounts for at most {len(x_shape)} axes, got {pad}")
    axes = [(len(x_shape) - 1 - k, int(pad[2 * k]), int(pad[2 * k + 1])) for k in range(len(pad) // 2)]
    for axis, before, after in axes:
        size = x_shape[axis]
        if min(before, after) < 0:
            raise ValueError(f"pad: amounts must be >= 0 (to crop, slice the tensor), got {pad}")
        if mode == "constant":
            continue
        limit = {"reflect": size - 1, "circular": size, "replicate": np.inf}[mode]
        if size == 0 or max(before, after) > limit:
            raise ValueError(f"pad: {mode} padding of ({before}, {after}) on axis {axis} of size {size} "
                             f"needs padding {'<' if mode == 'reflect' else '<='} the size")
    return axes


def pad(x: Tensor, pad: tuple, mode: str = "constant", value: float = 0.0) -> Tensor:
    """x padded on its last ``len(pad) // 2`` axes (see the module docstring).

    Shapes: an axis of size L becomes L + before + after. Backward: constant crops g back to x's shape; the copying
    modes sum g over every padded position that copied an input element.
    """
    xd = x.data
    axes = _check(xd.shape, tuple(pad), mode)
    if mode == "constant":
        widths = [(0, 0)] * xd.ndim
        keep = [slice(None)] * xd.ndim
        for axis, before, after in axes:
            widths[axis] = (before, after)
            keep[axis] = slice(before, before + xd.shape[axis])
        out = np.pad(xd, widths, mode="constant", constant_values=value)
        return Tensor.from_op(out, (x,), lambda g: (g[tuple(keep)],), "pad")

    indices = {axis: source_index(xd.shape[axis], before, after, mode) for axis, before, after in axes}
    out = xd
    for axis, index in indices.items():
        out = np.take(out, index, axis=axis)

    def backward(g):
        for axis, index in indices.items():
            copies = np.zeros((len(index), xd.shape[axis]), dtype=g.dtype)
            copies[np.arange(len(index)), index] = 1
            g = np.moveaxis(np.moveaxis(g, axis, -1) @ copies, -1, axis)
        return (np.ascontiguousarray(g),)

    return Tensor.from_op(out, (x,), backward, "pad")
