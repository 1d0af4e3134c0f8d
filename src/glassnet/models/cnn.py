"""The course's convolutional networks for 28×28 grey images."""

from __future__ import annotations

import numpy as np

from .. import nn


def book_cnn(num_classes: int = 10, generator: np.random.Generator | None = None) -> nn.Sequential:
    """The two-conv network of the course (Nielsen, ch. 6):

    (N, 1, 28, 28) → conv 20@5×5 → ReLU → max-pool 2 → (N, 20, 12, 12)
    → conv 40@5×5 → ReLU → max-pool 2 → (N, 40, 4, 4) → flatten (N, 640)
    → FC 100 → ReLU → FC ``num_classes`` (logits; train with ``F.cross_entropy``).
    """
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, generator=generator), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 40, 5, generator=generator), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(640, 100, generator=generator), nn.ReLU(),
        nn.Linear(100, num_classes, generator=generator))


def spp_cnn(levels=(1, 2, 4), mode: str = "max", num_classes: int = 10,
            generator: np.random.Generator | None = None) -> nn.Sequential:
    """``book_cnn`` with spatial pyramid pooling in place of the second max-pool:

    (N, 1, H, W) → conv 20@5×5 → ReLU → max-pool 2 → conv 40@5×5 → ReLU
    → SPP(levels) (N, 40·Σ l²) → FC 100 → ReLU → FC ``num_classes``.

    The pyramid's length does not depend on H and W, so a model trained on
    28×28 images classifies 32×32 ones (any H, W ≥ 14) unchanged.
    """
    spp = nn.SpatialPyramidPool2d(levels, mode)
    return nn.Sequential(
        nn.Conv2d(1, 20, 5, generator=generator), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(20, 40, 5, generator=generator), nn.ReLU(), spp,
        nn.Linear(spp.output_length(40), 100, generator=generator), nn.ReLU(),
        nn.Linear(100, num_classes, generator=generator))
