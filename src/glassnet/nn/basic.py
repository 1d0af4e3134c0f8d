"""Small layers with no weights: Dropout, Flatten, Identity."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p``
    and scale the survivors by 1/(1 − p); in evaluation, the identity."""

    def __init__(self, p: float = 0.5, inplace: bool = False, generator: np.random.Generator | None = None):
        super().__init__()
        self.inplace = inplace  # accepted for PyTorch code; the result is a new array either way
        if not 0 <= p < 1:
            raise ValueError(f"Dropout: probability p must be in [0, 1), got {p}")
        self.p, self.generator = p, generator

    def forward(self, x):
        return F.dropout(x, self.p, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """Merge axes ``start_dim`` … ``end_dim`` into one: (N, C, H, W) → (N, C·H·W)
    with the defaults."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        shape = x.shape
        start, end = self.start_dim % len(shape), self.end_dim % len(shape)
        if start > end:
            raise ValueError(f"{self!r}: start_dim comes after end_dim for input of shape {shape}")
        return x.reshape(shape[:start] + (-1,) + shape[end + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. for a removed head)."""

    def forward(self, x):
        return x
