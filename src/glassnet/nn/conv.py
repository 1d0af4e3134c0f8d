"""Convolution layer and channel dropout."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional.conv import conv2d, dropout2d, output_size, pair
from ..random import get_generator
from .module import Module, Parameter


class Conv2d(Module):
    """y = conv2d(x, W, b): x (N, C_in, H, W) → y (N, C_out, Ho, Wo), W (C_out, C_in, kh, kw).

    Each output unit sees only a kh×kw patch (sparse interaction) and every
    position uses the same filter (shared weights): C_out·C_in·kh·kw + C_out
    parameters however large the image. Initialised as in PyTorch
    (kaiming_uniform with a = √5): W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = C_in·kh·kw.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, bias: bool = True, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.padding, self.dilation = pair(padding, "padding"), pair(dilation, "dilation")
        dtype = dtype or backend.default_dtype()
        rng = get_generator(generator)
        bound = 1 / math.sqrt(self.in_channels * self.kernel_size[0] * self.kernel_size[1])
        shape = (self.out_channels, self.in_channels) + self.kernel_size
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, self.out_channels).astype(dtype)) if bias else None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): expected input "
                             f"(N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        sizes = [output_size(x.shape[2 + i], self.kernel_size[i], self.stride[i], self.padding[i],
                             self.dilation[i]) for i in range(2)]
        if min(sizes) < 1:
            need = [self.dilation[i] * (self.kernel_size[i] - 1) + 1 - 2 * self.padding[i] for i in range(2)]
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): input {tuple(x.shape)} is too "
                             f"small for the kernel; expected H ≥ {need[0]} and W ≥ {need[1]}")
        return conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        extra = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            extra += f", padding={self.padding}"
        if self.dilation != (1, 1):
            extra += f", dilation={self.dilation}"
        return extra + ("" if self.bias is not None else ", bias=False")


class Dropout2d(Module):
    """Channel dropout: in training, zero whole feature maps x[n, c] with
    probability ``p`` and scale the kept maps by 1/(1 − p); in evaluation, the identity."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: np.random.Generator | None = None):
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch code; the result is a new array either way
        if not 0 <= p < 1:
            raise ValueError(f"Dropout2d: probability p must be in [0, 1), got {p}")
        self.p, self.generator = p, generator

    def forward(self, x):
        return dropout2d(x, self.p, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"
