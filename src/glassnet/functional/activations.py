"""Activation functions, each with its hand-derived backward pass.

Every function takes a tensor of any shape and returns one of the same shape,
except softmax/log_softmax, which normalise along ``axis``.
"""

from __future__ import annotations

import numpy as np

from ..random import get_generator, per_example
from ..tensor import Tensor
from . import _numba_kernels


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1/(1+e^(−z)), computed without overflow for any z."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e)).astype(z.dtype, copy=False)


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1/(1+e^(−x)); σ′ = σ(1−σ), at most 0.25 (at x = 0).

    Args:
        x: a Tensor of any shape.

    Shape:
        - Output: ``x``'s shape, values in (0, 1).

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor([0.0, 10.0], requires_grad=True)
        >>> F.sigmoid(x).sum().backward()
        >>> float(x.grad[0]), float(x.grad[1]) < 1e-4  # σ′(0) = 0.25; σ′(10) ≈ 0: saturated
        (0.25, True)
    """
    y = _sigmoid(x.data)
    return Tensor.from_op(y, (x,), lambda g: (g * y * (1 - y),), "sigmoid")


def tanh(x: Tensor) -> Tensor:
    """tanh x = 2σ(2x) − 1; tanh′ = 1 − tanh²."""
    y = np.tanh(x.data)
    return Tensor.from_op(y, (x,), lambda g: (g * (1 - y * y),), "tanh")


def relu(x: Tensor) -> Tensor:
    """max(0, x); the gradient is 1 where x > 0 and 0 elsewhere (a dead unit
    with x ≤ 0 for every input never learns again).

    Args:
        x: a Tensor of any shape.

    Shape:
        - Output: ``x``'s shape.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> x = glassnet.tensor([-1.0, 2.0], requires_grad=True)
        >>> F.relu(x).sum().backward()
        >>> x.grad
        array([0., 1.], dtype=float32)
    """
    xd = x.data
    out = np.maximum(xd, 0)  # keeps x's memory order (conv2d's (C, H, W, N) among them)

    def backward(g):
        gs = _numba_kernels.relu_mask(g, out)  # one compiled pass where it applies
        return (g * (xd > 0) if gs is None else gs),

    return Tensor.from_op(out, (x,), backward, "relu")


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """x for x > 0, a·x otherwise; gradient 1 or a."""
    xd = x.data
    slope = np.where(xd > 0, 1, negative_slope).astype(xd.dtype)
    return Tensor.from_op(xd * slope, (x,), lambda g: (g * slope,), "leaky_relu")


def prelu(x: Tensor, weight: Tensor) -> Tensor:
    """Parametric ReLU: x for x > 0, a·x otherwise, with learned a.

    ``weight`` has one element (shared) or one per channel (axis 1 of x).
    dL/dx = g·(1 or a); dL/da = Σ g·x over the positions where x ≤ 0.
    """
    xd, a = x.data, weight.data
    if a.size not in (1,) and (xd.ndim < 2 or xd.shape[1] != a.size):
        raise ValueError(f"prelu: weight has {a.size} slopes but input {xd.shape} has "
                         f"{xd.shape[1] if xd.ndim > 1 else 1} channels (axis 1)")
    shape = (1, a.size) + (1,) * (xd.ndim - 2) if a.size > 1 else ()
    a_b = a.reshape(shape) if shape else a.reshape(())
    positive = xd > 0
    out = np.where(positive, xd, a_b * xd)

    def backward(g):
        gx = g * np.where(positive, 1, a_b).astype(xd.dtype)
        ga_full = np.where(positive, 0, g * xd)
        if a.size > 1:
            axes = tuple(i for i in range(xd.ndim) if i != 1)
            ga = ga_full.sum(axis=axes)
        else:
            ga = np.asarray(ga_full.sum())
        return gx, ga.reshape(a.shape).astype(a.dtype)

    return Tensor.from_op(out.astype(xd.dtype, copy=False), (x, weight), backward, "prelu")


def rrelu(x: Tensor, lower: float = 1 / 8, upper: float = 1 / 3, training: bool = False,
          generator: np.random.Generator | None = None) -> Tensor:
    """Randomized leaky ReLU: slope a ~ U(lower, upper) per element for x < 0
    while training, the mean slope (lower+upper)/2 at evaluation. Gradient 1 or a."""
    xd = x.data
    if training:
        a = per_example(lambda shape: get_generator(generator).uniform(lower, upper, shape), xd.shape).astype(xd.dtype)
    else:
        a = np.asarray((lower + upper) / 2, dtype=xd.dtype)
    slope = np.where(xd > 0, 1, a).astype(xd.dtype)  # at x = 0 the slope a, as PyTorch's gradient
    return Tensor.from_op(xd * slope, (x,), lambda g: (g * slope,), "rrelu")


def softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """p_i = e^(x_i − max x) / Σ_j e^(x_j − max x) (subtracting the max changes
    nothing mathematically and keeps e^(·) ≤ 1, so large logits cannot overflow).
    Backward: dx = p ⊙ (g − Σ_j g_j p_j).

    Args:
        x: logits, a Tensor of any shape.
        axis: the axis that sums to 1 (default: the last); ``dim`` is PyTorch's name for it.

    Shape:
        - Output: ``x``'s shape.

    Examples:
        >>> import glassnet
        >>> import glassnet.functional as F
        >>> F.softmax(glassnet.tensor([1000.0, 1001.0]))  # no overflow
        tensor([0.2689, 0.7311])
    """
    axis = axis if dim is None else dim
    xd = x.data
    e = np.exp(xd - xd.max(axis=axis, keepdims=True))
    p = e / e.sum(axis=axis, keepdims=True)
    return Tensor.from_op(p, (x,), lambda g: (p * (g - (g * p).sum(axis=axis, keepdims=True)),), "softmax")


def log_softmax_array(xd: np.ndarray, axis: int = -1) -> np.ndarray:
    """log p = (x − m) − log Σ e^(x − m), m = max x: finite for any logits."""
    shifted = xd - xd.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def log_softmax(x: Tensor, axis: int = -1, *, dim: int | None = None) -> Tensor:
    """log softmax(x) along ``axis`` (or ``dim``), stable. Backward: dx = g − p·Σ_j g_j, p = softmax(x)."""
    axis = axis if dim is None else dim
    out = log_softmax_array(x.data, axis)
    return Tensor.from_op(out, (x,), lambda g: (g - np.exp(out) * g.sum(axis=axis, keepdims=True),),
                           "log_softmax")


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            generator: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: keep each element with probability 1−p and scale the
    kept ones by 1/(1−p), so the expected activation is unchanged and evaluation
    (``training=False``) is the identity. Backward: g·mask/(1−p).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> y = F.dropout(Tensor(np.ones(8, dtype=np.float32)), 0.5, generator=np.random.default_rng(0))
        >>> sorted(set(y.data.tolist()))  # dropped: 0; kept: scaled by 1/(1 − p)
        [0.0, 2.0]
        >>> F.dropout(Tensor(np.ones(3, dtype=np.float32)), 0.5, training=False)  # evaluation: the identity
        tensor([1., 1., 1.])
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0:
        return x
    xd = x.data
    mask = (per_example(lambda shape: get_generator(generator).random(shape, dtype=np.float32), xd.shape)
            >= p).astype(xd.dtype)
    mask *= 1 / (1 - p)
    return Tensor.from_op(xd * mask, (x,), lambda g: (g * mask,), "dropout")
