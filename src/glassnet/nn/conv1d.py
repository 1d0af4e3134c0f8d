"""1-D convolution over sequences (e.g. windows of words)."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional.conv1d import conv1d
from ..random import get_generator
from .module import Module, Parameter


class Conv1d(Module):
    """y = conv1d(x, W, b): x (N, C_in, L) → y (N, C_out, T), W (C_out, C_in, k).

    Initialised as in PyTorch: W, b ~ U(−1/√(C_in·k), 1/√(C_in·k)). Over a
    sentence of word vectors (C_in = the embedding size, L = words) a filter of
    k words is the text CNN's feature detector (see ``functional.conv1d``).

    Args:
        in_channels: C_in, the channels (features) of each position.
        out_channels: C_out, the number of filters.
        kernel_size: k, the width of each window.
        stride: the step between windows (default 1).
        padding: zeros added at both ends (default 0).
        bias: learn the per-filter b (default True).
        dtype: of the parameters (default: glassnet's default dtype, float32).
        generator: the ``numpy.random.Generator`` the initial values come from.

    Shape:
        - Input: (N, C_in, L).
        - Output: (N, C_out, T), T = ⌊(L + 2·padding − k)/stride⌋ + 1.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> conv = nn.Conv1d(300, 100, 3)  # windows of 3 words of 300-dimensional vectors
        >>> conv(Tensor(np.zeros((2, 300, 10), dtype=np.float32))).shape
        (2, 100, 8)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, bias: bool = True, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size, self.stride, self.padding = int(kernel_size), int(stride), int(padding)
        dtype = dtype or backend.default_dtype()
        rng = get_generator(generator)
        bound = 1 / math.sqrt(in_channels * kernel_size)
        self.weight = Parameter(rng.uniform(-bound, bound, (out_channels, in_channels, kernel_size)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_channels).astype(dtype)) if bias else None

    def forward(self, x):
        if x.ndim != 3 or x.shape[1] != self.in_channels:
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): expected input "
                             f"(N, {self.in_channels}, L), got {tuple(x.shape)}")
        return conv1d(x, self.weight, self.bias, self.stride, self.padding)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, bias={self.bias is not None}")
