"""Convolution layer and channel dropout."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional.conv import dropout2d, output_size, pair
from ..functional.grouped_conv import grouped_conv2d
from ..functional.padding import pad
from ..random import get_generator
from .module import Module, Parameter


class Conv2d(Module):
    """y = conv2d(x, W, b): x (N, C_in, H, W) or unbatched (C_in, H, W) → y (N, C_out, Ho, Wo)
    (or (C_out, Ho, Wo)), W (C_out, C_in/groups, kh, kw).

    Each output unit sees only a kh×kw patch (sparse interaction) and every
    position uses the same filter (shared weights): C_out·C_in·kh·kw/groups + C_out
    parameters however large the image. ``groups`` splits the channels into
    groups convolved separately (``groups=C_in``: depthwise; see
    ``functional.grouped_conv``). ``padding`` is an int, a pair, ``"valid"`` (0)
    or ``"same"`` (output size = input size, stride 1; an even kernel puts the
    extra row and column at the bottom and right, as PyTorch); ``padding_mode``
    fills the border with zeros, or by ``"reflect"``, ``"replicate"`` or
    ``"circular"`` copies of the input (``functional.padding.pad``).
    Initialised as in PyTorch (kaiming_uniform with a = √5):
    W, b ~ U(−1/√fan_in, 1/√fan_in), fan_in = (C_in/groups)·kh·kw.

    Args:
        in_channels: C_in, the channels of the input.
        out_channels: C_out, the number of filters (output channels).
        kernel_size: kh×kw, an int (square) or a pair.
        stride: the step between windows, an int or a pair (default 1).
        padding: an int or a pair added on each side, ``"valid"`` or ``"same"`` (default 0).
        dilation: the spacing of the kernel's taps, an int or a pair (default 1).
        groups: split the channels into this many groups (default 1: every filter sees every channel).
        bias: learn the per-filter b (default True).
        padding_mode: ``"zeros"`` (default), ``"reflect"``, ``"replicate"`` or ``"circular"``.
        dtype: of the parameters (default: glassnet's default dtype, float32).
        generator: the ``numpy.random.Generator`` the initial values come from.

    Shape:
        - Input: (N, C_in, H, W), or (C_in, H, W).
        - Output: (N, C_out, Ho, Wo), or (C_out, Ho, Wo), with
          Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1 (Wo alike).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> conv = nn.Conv2d(1, 4, 3, padding=1)  # 3×3 filters, the image keeps its size
        >>> conv(Tensor(np.ones((2, 1, 8, 8), dtype=np.float32))).shape
        (2, 4, 8, 8)
        >>> conv.weight.shape, conv.bias.shape
        ((4, 1, 3, 3), (4,))
        >>> nn.Conv2d(3, 8, 5, stride=2)(Tensor(np.zeros((1, 3, 28, 28), dtype=np.float32))).shape
        (1, 8, 12, 12)
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0,
                 dilation=1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros", dtype=None,
                 generator: np.random.Generator | None = None):
        super().__init__()
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size, self.stride = pair(kernel_size, "kernel_size"), pair(stride, "stride")
        self.dilation = pair(dilation, "dilation")
        name = f"Conv2d({in_channels}, {out_channels})"
        if self.groups < 1 or self.in_channels % self.groups or self.out_channels % self.groups:
            raise ValueError(f"{name}: groups={groups} must divide in_channels and out_channels")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {tuple(_PADDING_MODES)}, got {padding_mode!r}")
        self.padding_mode = padding_mode
        self.padding: str | tuple[int, int]
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a pair, 'same' or 'valid', got {padding!r}")
            if padding == "same" and self.stride != (1, 1):
                raise ValueError(f"{name}: padding='same' needs stride 1, got stride {self.stride}")
            self.padding = padding
        else:
            self.padding = pair(padding, "padding")
        dtype = dtype or backend.default_dtype()
        rng = get_generator(generator)
        bound = 1 / math.sqrt(self.in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1])
        shape = (self.out_channels, self.in_channels // self.groups) + self.kernel_size
        self.weight = Parameter(rng.uniform(-bound, bound, shape).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, self.out_channels).astype(dtype)) if bias else None

    def _borders(self) -> tuple:
        """((top, bottom), (left, right)) rows and columns added around the input."""
        if self.padding == "valid":
            return (0, 0), (0, 0)
        if self.padding == "same":
            total = [d * (k - 1) for d, k in zip(self.dilation, self.kernel_size)]
            return tuple((t // 2, t - t // 2) for t in total)
        return tuple((p, p) for p in self.padding)

    def forward(self, x):
        unbatched = x.ndim == 3
        if x.ndim not in (3, 4) or x.shape[-3] != self.in_channels:
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): expected input (N, {self.in_channels}, "
                             f"H, W), got {tuple(x.shape)} (unbatched ({self.in_channels}, H, W) also works)")
        if unbatched:
            x = x.unsqueeze(0)
        (top, bottom), (left, right) = self._borders()
        sizes = [output_size(x.shape[2 + i] + sum(border), self.kernel_size[i], self.stride[i], 0, self.dilation[i])
                 for i, border in enumerate(((top, bottom), (left, right)))]
        if min(sizes) < 1:
            need = [self.dilation[i] * (self.kernel_size[i] - 1) + 1 - sum(b) for i, b in
                    enumerate(((top, bottom), (left, right)))]
            raise ValueError(f"{type(self).__name__}({self.extra_repr()}): input {tuple(x.shape)} is too "
                             f"small for the kernel; expected H ≥ {need[0]} and W ≥ {need[1]}")
        padding = (top, left)
        if self.padding_mode != "zeros" or top != bottom or left != right:
            x = pad(x, (left, right, top, bottom), _PADDING_MODES[self.padding_mode])
            padding = 0
        y = grouped_conv2d(x, self.weight, self.bias, self.stride, padding, self.dilation, self.groups)
        return y.squeeze(0) if unbatched else y

    def extra_repr(self) -> str:
        extra = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            extra += f", padding={self.padding!r}" if isinstance(self.padding, str) else f", padding={self.padding}"
        if self.dilation != (1, 1):
            extra += f", dilation={self.dilation}"
        if self.groups != 1:
            extra += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            extra += f", padding_mode={self.padding_mode!r}"
        return extra + ("" if self.bias is not None else ", bias=False")


_PADDING_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


class Dropout2d(Module):
    """Channel dropout: in training, zero whole feature maps x[n, c] with
    probability ``p`` and scale the kept maps by 1/(1 − p); in evaluation, the identity.

    Args:
        p: the probability of dropping a feature map, in [0, 1).
        generator: the ``numpy.random.Generator`` the masks come from (default:
            glassnet's global one); checkpoints save its state.

    Shape:
        - Input: (N, C, H, W) (or (N, C, L)).
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> drop = nn.Dropout2d(0.5, generator=np.random.default_rng(0))
        >>> y = drop(Tensor(np.ones((4, 8, 3, 3), dtype=np.float32))).data
        >>> sorted(set(y.ravel().tolist()))  # dropped maps are 0, kept ones scaled by 2
        [0.0, 2.0]
        >>> bool(all(len(set(y[n, c].ravel().tolist())) == 1 for n in range(4) for c in range(8)))  # whole maps
        True
    """

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
