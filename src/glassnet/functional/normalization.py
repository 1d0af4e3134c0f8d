"""Batch normalization: one fused node, with the hand-derived backward pass.

Statistics are taken per channel (axis 1) over every other axis, so the same
code serves (N, C) features, (N, C, L) sequences and (N, C, H, W) images. The
input is viewed, without a copy, as a 3-axis array (A, C, B) in its own memory
order: (N, C, L) for C-contiguous data, (1, C, H·W·N) for images in conv2d's
(C, H, W, N) order, so a convolution's output is normalized, and its gradient
handed back, in the layout the next convolution reads for free. The
per-channel sums are ``einsum`` contractions (no temporaries, and faster than
``ndarray.sum`` over axes (0, 2, 3); see benchmarks/README.md).
"""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor
from . import _numba_kernels


def _channel_sum(a: np.ndarray) -> np.ndarray:
    """Σ over axes 0 and 2 of an (N, C, L) array: shape (C,)."""
    return np.einsum("ncl->c", a)


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ over axes 0 and 2 of a ⊙ b for (N, C, L) arrays: shape (C,)."""
    return np.einsum("ncl,ncl->c", a, b)


def _batch_last(a: np.ndarray) -> bool:
    """Whether the image batch ``a`` (N, C, H, W) lies in (C, H, W, N) memory order."""
    return a.ndim == 4 and not a.flags.c_contiguous and a.transpose(1, 2, 3, 0).flags.c_contiguous


def _rows(a: np.ndarray, batch_last: bool) -> np.ndarray:
    """``a`` (N, C, *) as (A, C, B) rows: (1, C, H·W·N) in (C, H, W, N) order when
    ``batch_last``, else (N, C, L); a view when ``a`` has that memory order."""
    if batch_last:
        return np.ascontiguousarray(a.transpose(1, 2, 3, 0)).reshape(1, a.shape[1], -1)
    return a.reshape(a.shape[0], a.shape[1], -1)


def _unrows(r: np.ndarray, shape: tuple, batch_last: bool) -> np.ndarray:
    """The inverse of ``_rows``: (A, C, B) rows back to an array of ``shape`` (a view)."""
    if batch_last:
        n, c, h, w = shape
        return r.reshape(c, h, w, n).transpose(3, 0, 1, 2)
    return r.reshape(shape)


def batch_norm(x: Tensor, running_mean: np.ndarray | None = None, running_var: np.ndarray | None = None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5, relu: bool = False) -> Tensor:
    """y = γ·x̂ + β with x̂ = (x − μ)/√(σ² + ε), per channel c = axis 1;
    with ``relu=True``, y = max(γ·x̂ + β, 0) in the same node (rectified in place,
    and backward masks g by [y > 0] before the batch-norm backward).

    x: (N, C, *); running_mean, running_var, γ = ``weight``, β = ``bias``: (C,).

    Training (``training=True``): μ and σ² are the batch mean and biased
    variance over the m = N·(product of trailing axes) values of each channel;
    if running statistics are given they are updated in place as in PyTorch:
    running ← (1 − momentum)·running + momentum·batch, with the unbiased
    variance σ²·m/(m − 1) for ``running_var``. Backward (g = dL/dy):

        dβ = Σ g,   dγ = Σ g·x̂,   dx = (γ/(m·√(σ²+ε)))·(m·g − Σ g − x̂·Σ g·x̂),

    sums over the m values of the channel (μ and σ² depend on x, which gives
    the two subtracted terms).

    Evaluation (``training=False``): μ, σ² are the running statistics, so the
    layer is the affine map y = x·s + (β − μ·s), s = γ/√(σ²+ε); dx = g·s.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> x = Tensor(np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32))
        >>> mean, var = np.zeros(2, dtype=np.float32), np.ones(2, dtype=np.float32)
        >>> F.batch_norm(x, mean, var, training=True).data.round(3)  # per column: mean 0, variance 1
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> mean, var  # the running statistics moved 10% of the way (var: unbiased)
        (array([0.2, 2. ], dtype=float32), array([ 1.1, 20.9], dtype=float32))
    """
    xd = x.data
    if xd.ndim < 2:
        raise ValueError(f"batch_norm: expected input (N, C, *) with at least 2 axes, got {xd.shape}")
    c = xd.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and np.shape(t.data if isinstance(t, Tensor) else t) != (c,):
            raise ValueError(f"batch_norm: input {xd.shape} has {c} channels (axis 1) but {name} has shape "
                             f"{np.shape(t.data if isinstance(t, Tensor) else t)}")
    batch_last = _batch_last(xd)
    x3 = _rows(xd, batch_last)
    m = x3.shape[0] * x3.shape[2]
    gamma = None if weight is None else weight.data

    if training and m >= 2 and x3.shape[0] == 1 and xd.dtype in (np.float32, np.float64) and _numba_kernels.available():
        return _batch_norm_compiled(x, x3, batch_last, running_mean, running_var, weight, bias, momentum, eps, relu)
    if training:
        if m < 2:
            raise ValueError(f"batch_norm: training needs more than 1 value per channel to take a variance, "
                             f"got input of shape {xd.shape}")
        mean = _channel_sum(x3) / m
        centered = x3 - mean[:, None]  # x − μ, kept for backward (x̂ = centered·inv_std is never formed)
        var = _channel_dot(centered, centered) / m
        inv_std = 1 / np.sqrt(var + eps)
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += (momentum * m / (m - 1)) * var
    else:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: evaluation mode (training=False) needs running_mean and running_var")
        mean = running_mean.astype(xd.dtype, copy=False)
        inv_std = (1 / np.sqrt(running_var + eps)).astype(xd.dtype, copy=False)
        centered = None  # y is an affine map of x; backward rebuilds Σ g·x̂ from x

    # y = γ·x̂ + β = (x − μ)·scale + β with scale = γ/√(σ²+ε), per channel:
    # two broadcast passes over the data (each costs more than a reduction).
    scale = inv_std if gamma is None else gamma * inv_std
    if centered is not None:
        out = centered * scale[:, None]
    else:
        out = x3 * scale[:, None]
        out -= (mean * scale)[:, None]
    if bias is not None:
        out += bias.data[:, None]
    if relu:
        np.maximum(out, 0, out=out)

    def backward(g):
        g3 = _rows(g, batch_last)
        if relu:
            g3 = g3 * (out > 0)
        g_sum = _channel_sum(g3)  # Σ g = dβ
        if centered is not None:
            gx_sum = _channel_dot(g3, centered) * inv_std  # Σ g·x̂ = dγ
        else:
            gx_sum = (_channel_dot(g3, x3) - mean * g_sum) * inv_std
        gx = None
        if x.requires_grad:
            if centered is not None:  # scale·(g − Σg/m − x̂·Σg·x̂/m)
                gx = centered * (-inv_std * gx_sum / m)[:, None]
                gx += g3
                gx -= (g_sum / m)[:, None]
                gx *= scale[:, None]
            else:
                gx = g3 * scale[:, None]
            gx = _unrows(gx, xd.shape, batch_last)
        return _affine_grads(gx, weight, bias, g_sum, gx_sum)

    parents = tuple(t for t in (x, weight, bias) if t is not None)
    op = "batch_norm_relu" if relu else "batch_norm"
    return Tensor.from_op(_unrows(out, xd.shape, batch_last), parents, backward, op)


def _affine_grads(gx, weight, bias, g_sum: np.ndarray, gx_sum: np.ndarray) -> tuple:
    """A batch norm's backward result (dx, dγ, dβ): dγ = Σ g·x̂ and dβ = Σ g per channel (C,),
    each only for a parameter that is given, in that parameter's dtype."""
    grads = [gx]
    if weight is not None:
        grads.append(gx_sum.astype(weight.data.dtype, copy=False))
    if bias is not None:
        grads.append(g_sum.astype(bias.data.dtype, copy=False))
    return tuple(grads)


def _batch_norm_compiled(x: Tensor, x3: np.ndarray, batch_last: bool, running_mean, running_var, weight, bias,
                         momentum: float, eps: float, relu: bool) -> Tensor:
    """``batch_norm`` in training for rows x3 (1, C, B) (images in (C, H, W, N) order, or one
    example C-contiguous), by the compiled kernels of ``_numba_kernels``
    (the same numbers as the NumPy code to rounding; sums in float64)."""
    xd, x2 = x.data, x3[0]
    m = x2.shape[1]
    out, mean, var, inv_std, scale = _numba_kernels.forward(x2, None if weight is None else weight.data,
                                                           None if bias is None else bias.data, eps, relu)
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += (momentum * mean).astype(running_mean.dtype)
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += (momentum * m / (m - 1) * var).astype(running_var.dtype)

    def backward(g):
        g2 = _rows(g, batch_last)[0]
        dx, g_sum, gx_sum = _numba_kernels.backward(g2, x2, out, mean, inv_std, scale, relu, x.requires_grad)
        return _affine_grads(None if dx is None else _unrows(dx[None], xd.shape, batch_last), weight, bias, g_sum,
                            gx_sum)

    parents = tuple(t for t in (x, weight, bias) if t is not None)
    return Tensor.from_op(_unrows(out[None], xd.shape, batch_last), parents, backward,
                          "batch_norm_relu" if relu else "batch_norm")
