"""Small layers with no weights: Dropout, Flatten, Identity."""

from __future__ import annotations

import numpy as np

from .. import functional as F
from .module import Module


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability ``p``
    and scale the survivors by 1/(1 − p), so the expected value is unchanged;
    in evaluation, the identity (nothing to rescale at test time).

    Args:
        p: the probability of dropping an element, in [0, 1).
        generator: the ``numpy.random.Generator`` the masks come from (default:
            glassnet's global one); checkpoints save its state.

    Shape:
        - Input: any shape.
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import nn, tensor
        >>> drop = nn.Dropout(0.5, generator=np.random.default_rng(0))
        >>> y = drop(tensor(np.ones(1000)))
        >>> sorted(set(y.data.tolist())), bool(abs(y.data.mean() - 1) < 0.1)
        ([0.0, 2.0], True)
        >>> drop.eval()(tensor([1.0, 2.0]))
        tensor([1., 2.])
    """

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
    """Merge axes ``start_dim`` … ``end_dim`` into one.

    Args:
        start_dim: the first axis merged (default 1: keep the batch axis).
        end_dim: the last axis merged (default −1).

    Shape:
        - Input: (N, C, H, W) with the defaults.
        - Output: (N, C·H·W).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.Flatten()(Tensor(np.zeros((2, 3, 4, 4)))).shape
        (2, 48)
    """

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
