"""The residual block of He et al. (2016): learn a correction f(x) to the identity."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from ..functional.residual import add_relu
from .container import Sequential
from .conv import Conv2d
from .module import Module
from .normalization import BatchNorm2d


class ResidualBlock(Module):
    """h(x) = ReLU(f(x) + s(x)) with f = conv3×3(stride) → BN → ReLU → conv3×3 → BN.

    Shapes: x (N, C_in, H, W) → (N, C_out, ⌈H/stride⌉, ⌈W/stride⌉).

    The shortcut s is the identity when the shapes agree, and a 1×1 convolution
    with the same stride followed by batch norm (a projection, ``shortcut`` child)
    when ``stride`` ≠ 1 or C_in ≠ C_out. Because ∂h/∂x contains the identity
    term, the gradient reaches early layers undiminished however deep the
    stack; a block that has nothing to add can learn f ≈ 0.

    ``residual=False`` gives the plain block of the same depth, h(x) = ReLU(f(x)),
    for the degradation comparison (deep plain stacks train worse).
    The convolutions have no bias (batch norm's β takes its place); the first
    batch norm and its ReLU are one fused node, and so are the sum and the
    final ReLU (``functional.residual.add_relu``).

    Args:
        in_channels: C_in.
        out_channels: C_out.
        stride: of the first convolution (and of the projection), default 1.
        residual: add the shortcut (default True); False gives the plain block.
        dtype: of the parameters (default: glassnet's default dtype, float32).
        generator: the ``numpy.random.Generator`` the initial weights come from.

    Shape:
        - Input: (N, C_in, H, W).
        - Output: (N, C_out, ⌈H/stride⌉, ⌈W/stride⌉).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> block = nn.ResidualBlock(16, 32, stride=2)  # halves the image, so a projection shortcut
        >>> block(Tensor(np.zeros((2, 16, 28, 28), dtype=np.float32))).shape
        (2, 32, 14, 14)
        >>> block.shortcut is not None, nn.ResidualBlock(16, 16).shortcut is None
        (True, True)
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, residual: bool = True,
                 dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.in_channels, self.out_channels, self.stride = int(in_channels), int(out_channels), int(stride)
        self.residual = bool(residual)
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride, 1, bias=False, dtype=dtype, generator=generator)
        self.bn1 = BatchNorm2d(out_channels, dtype=dtype)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, bias=False, dtype=dtype, generator=generator)
        self.bn2 = BatchNorm2d(out_channels, dtype=dtype)
        self.shortcut: Sequential | None
        if self.residual and (stride != 1 or in_channels != out_channels):
            self.shortcut = Sequential(Conv2d(in_channels, out_channels, 1, stride, bias=False, dtype=dtype,
                                              generator=generator), BatchNorm2d(out_channels, dtype=dtype))
        else:
            self.shortcut = None

    def forward(self, x):
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"ResidualBlock({self.extra_repr()}): expected input (N, {self.in_channels}, H, W), "
                             f"got {tuple(x.shape)}")
        f = self.bn2(self.conv2(self.bn1(self.conv1(x), relu=True)))
        if not self.residual:
            return F.relu(f)
        return add_relu(f, x if self.shortcut is None else self.shortcut(x))

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, stride={self.stride}"
                + ("" if self.residual else ", residual=False"))
