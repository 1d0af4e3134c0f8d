"""Pooling layers: max, average, global, adaptive and spatial pyramid."""

from __future__ import annotations

from .. import functional as F
from ..functional.conv import pair
from ..functional.pooling import pyramid_length
from .module import Module


class _Pool2d(Module):
    """Shared constructor of the windowed pools: kernel, stride (default: the kernel), padding, ceil_mode."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding")
        self.ceil_mode = bool(ceil_mode)

    def extra_repr(self) -> str:
        extra = f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
        return extra + (", ceil_mode=True" if self.ceil_mode else "")


def _batched(pool, x):
    """``pool`` on (N, C, H, W), or on an unbatched (C, H, W) input as a batch of one."""
    if x.ndim != 3:
        return pool(x)
    out = pool(x.unsqueeze(0))
    return tuple(o.squeeze(0) for o in out) if isinstance(out, tuple) else out.squeeze(0)


class MaxPool2d(_Pool2d):
    """Max over kh×kw windows (stride < kernel gives overlapping pooling):
    (N, C, H, W) or (C, H, W) → (N, C, Ho, Wo); with ``return_indices`` also the
    flat index of each maximum in its (H, W) plane (see ``functional.max_pool2d``).

    Args:
        kernel_size: kh×kw, an int or a pair.
        stride: the step between windows (default: the kernel size, windows that tile).
        padding: −∞ added on each side, at most half the kernel (default 0).
        dilation: the spacing of the window's taps (default 1).
        return_indices: also return the argmax of each window (int64, as PyTorch's).
        ceil_mode: round the output size up, so windows may run past the edge.

    Shape:
        - Input: (N, C, H, W), or (C, H, W).
        - Output: (N, C, Ho, Wo), or (C, Ho, Wo), with
          Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1)/stride⌋ + 1 (⌈…⌉ with ``ceil_mode``;
          Wo alike).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> nn.MaxPool2d(2)(x)
        tensor([[[[ 5.,  7.],
                  [13., 15.]]]])
        >>> nn.MaxPool2d(3, stride=1)(x).shape  # overlapping windows
        (1, 1, 2, 2)
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.dilation, self.return_indices = pair(dilation, "dilation"), bool(return_indices)

    def forward(self, x):
        return _batched(lambda x: F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation,
                                               self.ceil_mode, self.return_indices), x)

    def extra_repr(self) -> str:
        extra = super().extra_repr() + (f", dilation={self.dilation}" if self.dilation != (1, 1) else "")
        return extra + (", return_indices=True" if self.return_indices else "")


class AvgPool2d(_Pool2d):
    """Mean over kh×kw windows: (N, C, H, W) or (C, H, W) → (N, C, Ho, Wo). Zero
    padding counts in the divisor unless ``count_include_pad=False`` (see ``functional.avg_pool2d``).

    Args:
        kernel_size: kh×kw, an int or a pair.
        stride: the step between windows (default: the kernel size).
        padding: zeros added on each side, at most half the kernel (default 0).
        ceil_mode: round the output size up, so windows may run past the edge.
        count_include_pad: count the zero padding in each window's divisor (default True).
        divisor_override: divide every window's sum by this instead.

    Shape:
        - Input: (N, C, H, W), or (C, H, W).
        - Output: (N, C, Ho, Wo), or (C, Ho, Wo), with Ho = ⌊(H + 2·padding − kh)/stride⌋ + 1 (Wo alike).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> nn.AvgPool2d(2)(x)
        tensor([[[[ 2.5,  4.5],
                  [10.5, 12.5]]]])
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None):
        super().__init__(kernel_size, stride, padding, ceil_mode)
        self.count_include_pad, self.divisor_override = bool(count_include_pad), divisor_override

    def forward(self, x):
        return _batched(lambda x: F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                                               self.count_include_pad, self.divisor_override), x)

    def extra_repr(self) -> str:
        extra = super().extra_repr() + ("" if self.count_include_pad else ", count_include_pad=False")
        return extra + (f", divisor_override={self.divisor_override}" if self.divisor_override else "")


class GlobalAvgPool2d(Module):
    """Mean of each feature map: (N, C, H, W) → (N, C), as the head of a
    residual net (see ``functional.global_avg_pool2d``).

    Shape:
        - Input: (N, C, H, W).
        - Output: (N, C).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.GlobalAvgPool2d()(Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4)))
        tensor([[7.5]])
    """

    def forward(self, x):
        return F.global_avg_pool2d(x)


class _AdaptivePool2d(Module):
    """Shared constructor of the adaptive pools: the output grid (oh, ow)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = pair(output_size, "output_size")

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_AdaptivePool2d):
    """Max over an output_size grid of bins that adapt to the input: (N, C, H, W) → (N, C, oh, ow)
    (PyTorch's bins, see ``functional.adaptive_bins``).

    Args:
        output_size: (oh, ow), an int or a pair, whatever the input's H and W.

    Shape:
        - Input: (N, C, H, W).
        - Output: (N, C, oh, ow).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> nn.AdaptiveMaxPool2d((2, 1))(x)  # the max of each half of the rows
        tensor([[[[ 7.],
                  [15.]]]])
    """

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """Mean over an output_size grid of bins that adapt to the input: (N, C, H, W) → (N, C, oh, ow)
    (PyTorch's bins, see ``functional.adaptive_bins``). Arguments and shapes as
    :class:`AdaptiveMaxPool2d`'s.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> pool = nn.AdaptiveAvgPool2d(2)
        >>> [pool(Tensor(np.zeros((1, 3, h, w), dtype=np.float32))).shape for h, w in ((7, 9), (5, 5))]
        [(1, 3, 2, 2), (1, 3, 2, 2)]
    """

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class SpatialPyramidPool2d(Module):
    """Spatial pyramid pooling: (N, C, H, W) of any H, W → (N, C·Σ l²) over
    ``levels`` l×l grids, with ``mode`` "max" or "avg". ``output_length(C)``
    gives the width of the layer that follows.

    Args:
        levels: the grid sizes l, e.g. (1, 2, 4): 1 + 4 + 16 bins per channel.
        mode: ``"max"`` (default) or ``"avg"`` pooling in each bin.

    Shape:
        - Input: (N, C, H, W), any H and W (at least the largest level).
        - Output: (N, C·Σ l²).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> spp = nn.SpatialPyramidPool2d((1, 2))
        >>> spp(Tensor(np.zeros((2, 3, 7, 9), dtype=np.float32))).shape, spp.output_length(3)
        ((2, 15), 15)
        >>> spp(Tensor(np.zeros((2, 3, 12, 5), dtype=np.float32))).shape  # another size, the same length
        (2, 15)
    """

    def __init__(self, levels=(1, 2, 4), mode: str = "max"):
        super().__init__()
        if mode not in ("max", "avg"):
            raise ValueError(f"SpatialPyramidPool2d: mode must be 'max' or 'avg', got {mode!r}")
        if not levels or any(int(level) < 1 for level in levels):
            raise ValueError(f"SpatialPyramidPool2d: levels must be positive ints, got {levels!r}")
        self.levels, self.mode = tuple(int(level) for level in levels), mode

    def forward(self, x):
        return F.spatial_pyramid_pool2d(x, self.levels, self.mode)

    def output_length(self, channels: int) -> int:
        return pyramid_length(channels, self.levels)

    def extra_repr(self) -> str:
        return f"levels={self.levels}, mode={self.mode!r}"
