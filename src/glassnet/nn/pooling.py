"""Pooling layers: max, average, global, adaptive and spatial pyramid."""

from __future__ import annotations

from .. import functional as F
from ..functional.conv import pair
from ..functional.pooling import pyramid_length
from .module import Module


class _Pool2d(Module):
    """Shared constructor of the windowed pools: kernel, stride (default: the kernel), padding."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding")

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """Max over kh×kw windows (stride < kernel gives overlapping pooling): (N, C, H, W) → (N, C, Ho, Wo)."""

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """Mean over kh×kw windows, zero padding counted (PyTorch's default): (N, C, H, W) → (N, C, Ho, Wo)."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)


class GlobalAvgPool2d(Module):
    """Mean of each feature map: (N, C, H, W) → (N, C)."""

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
    """Max over an output_size grid of bins that adapt to the input: (N, C, H, W) → (N, C, oh, ow)."""

    def forward(self, x):
        return F.adaptive_max_pool2d(x, self.output_size)


class AdaptiveAvgPool2d(_AdaptivePool2d):
    """Mean over an output_size grid of bins that adapt to the input: (N, C, H, W) → (N, C, oh, ow)."""

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)


class SpatialPyramidPool2d(Module):
    """Spatial pyramid pooling: (N, C, H, W) of any H, W → (N, C·Σ l²) over
    ``levels`` l×l grids, with ``mode`` "max" or "avg". ``output_length(C)``
    gives the width of the layer that follows."""

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
