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
    flat index of each maximum in its (H, W) plane (see ``functional.max_pool2d``)."""

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
    padding counts in the divisor unless ``count_include_pad=False`` (see ``functional.avg_pool2d``)."""

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
