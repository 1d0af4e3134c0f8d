"""Fully connected layer."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional import linear
from ..random import get_generator
from .module import Module, Parameter


class Linear(Module):
    """The affine map y = x Wᵀ + b, with W of shape (out_features, in_features).

    Initialised as in PyTorch: W, b ~ U(−1/√in, 1/√in). Use ``glassnet.init``
    for the curriculum's other schemes.

    Args:
        in_features: size of each input example.
        out_features: size of each output example.
        bias: learn the additive b (default True).
        dtype: of the parameters (default: glassnet's default dtype, float32).
        generator: the ``numpy.random.Generator`` the initial values come from.

    Shape:
        - Input: (N, in_features), or (..., in_features).
        - Output: (N, out_features), or (..., out_features).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> layer = nn.Linear(3, 2)
        >>> layer(Tensor(np.ones((4, 3), dtype=np.float32))).shape
        (4, 2)
        >>> layer.weight.shape, layer.bias.shape
        ((2, 3), (2,))
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.in_features, self.out_features = int(in_features), int(out_features)
        dtype = dtype or backend.default_dtype()
        rng = get_generator(generator)
        bound = 1 / math.sqrt(in_features)
        self.weight = Parameter(rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype))
        self.bias = Parameter(rng.uniform(-bound, bound, out_features).astype(dtype)) if bias else None

    def forward(self, x):
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"{self!r}: expected input of shape (N, {self.in_features}), got {tuple(x.shape)}")
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"
