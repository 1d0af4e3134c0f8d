"""Small residual networks for 28×28 images, and their plain twins."""

from __future__ import annotations

import numpy as np

from .. import init
from ..nn.container import Sequential
from ..nn.conv import Conv2d
from ..nn.linear import Linear
from ..nn.module import Module
from ..nn.normalization import BatchNorm1d, BatchNorm2d, _BatchNorm
from ..nn.activation import ReLU
from ..nn.pooling import GlobalAvgPool2d, SpatialPyramidPool2d
from ..nn.residual import ResidualBlock


class ResNet(Module):
    """stem → stages → pool → fc, for images (N, in_channels, H, W) of any size ≥ 8.

    - ``stem``: conv3×3 (in_channels → widths[0]) → BN → ReLU, full resolution (the
      BN and ReLU run as one fused node, as in the blocks);
    - ``stages.i``: ``blocks_per_stage[i]`` ResidualBlocks of width ``widths[i]``;
      every stage after the first starts with a stride-2 block (28 → 14 → 7 for
      three stages) whose shortcut is a 1×1 projection;
    - ``pool``: global average pooling → (N, widths[-1]), or, with ``spp`` levels
      such as (1, 2, 4), spatial pyramid pooling (``spp_mode``) → (N, widths[-1]·Σ l²)
      followed by BatchNorm1d. (The pyramid's max-pooled features are all
      positive and strongly correlated across images, so without centering one
      SGD step at lr 0.1 moved every logit by hundreds: the loss went 3 → 85 and
      the ReLUs died. Global averages are small enough not to need it.);
    - ``fc``: Linear → (N, num_classes) logits.

    Depth counts weighted layers: 2 + 2·Σ blocks_per_stage (ResNet-20 for 3 × 3
    blocks). ``residual=False`` builds the plain network of the same depth.
    Convolutions start from He normal init with fan_out (as torchvision's ResNet),
    batch norm from γ = 1, β = 0, the classifier from Linear's default.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, widths=(16, 32, 64), blocks_per_stage=2,
                 spp=None, spp_mode: str = "max", residual: bool = True, dtype=None,
                 generator: np.random.Generator | None = None):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        blocks = ((int(blocks_per_stage),) * len(widths) if isinstance(blocks_per_stage, (int, np.integer))
                  else tuple(int(b) for b in blocks_per_stage))
        if not widths or len(blocks) != len(widths) or min(blocks) < 1:
            raise ValueError(f"ResNet: blocks_per_stage must be a positive int or one per stage "
                             f"(widths {widths}), got {blocks_per_stage!r}")
        self.widths, self.blocks_per_stage, self.residual = widths, blocks, bool(residual)
        self.stem = Sequential(Conv2d(in_channels, widths[0], 3, 1, 1, bias=False, dtype=dtype, generator=generator),
                               BatchNorm2d(widths[0], dtype=dtype), ReLU())
        stages, channels = [], widths[0]
        for i, (width, count) in enumerate(zip(widths, blocks)):
            stage = [ResidualBlock(channels if b == 0 else width, width, 2 if (i > 0 and b == 0) else 1,
                                   residual=residual, dtype=dtype, generator=generator) for b in range(count)]
            stages.append(Sequential(*stage))
            channels = width
        self.stages = Sequential(*stages)
        if spp is None:
            self.pool, features = GlobalAvgPool2d(), channels
        else:
            spp_layer = SpatialPyramidPool2d(spp, spp_mode)
            features = spp_layer.output_length(channels)
            self.pool = Sequential(spp_layer, BatchNorm1d(features, dtype=dtype))
        self.fc = Linear(features, num_classes, dtype=dtype, generator=generator)
        for module in self.modules():
            if isinstance(module, Conv2d):
                init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu", generator=generator)

    @property
    def depth(self) -> int:
        """Weighted layers on the longest path: stem + 2 per block + fc."""
        return 2 + 2 * sum(self.blocks_per_stage)

    def forward(self, x):
        stem = self.stem
        if len(stem) == 3 and isinstance(stem[1], _BatchNorm) and type(stem[2]) is ReLU:
            h = stem[1](stem[0](x), relu=True)  # the stem's batch norm and ReLU as one fused node
        else:
            h = stem(x)
        return self.fc(self.pool(self.stages(h)))


def resnet_small(num_classes: int = 10, in_channels: int = 1, widths=(16, 32, 64), blocks_per_stage=2,
                 spp=None, **kwargs) -> ResNet:
    """The small ResNet for 28×28 images (Fashion-MNIST): three stages of
    widths 16, 32, 64 at 28×28, 14×14 and 7×7, ``blocks_per_stage`` residual
    blocks each (2: 14 weighted layers), global average pooling or spatial
    pyramid pooling (``spp=(1, 2, 4)``), then a linear classifier."""
    return ResNet(num_classes, in_channels, widths, blocks_per_stage, spp=spp, **kwargs)


def plain_net(num_classes: int = 10, in_channels: int = 1, widths=(16, 32, 64), blocks_per_stage=2,
              spp=None, **kwargs) -> ResNet:
    """``resnet_small`` without shortcuts: the same layers and depth, h(x) = ReLU(f(x))."""
    return ResNet(num_classes, in_channels, widths, blocks_per_stage, spp=spp, residual=False, **kwargs)
