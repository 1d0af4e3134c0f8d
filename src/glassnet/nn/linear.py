"""Fully connected layer."""

from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..functional import linear
from ..random import get_generator
from .module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b with W of shape (out_features, in_features).

    Initialised as in PyTorch: W, b ~ U(−1/√in, 1/√in). Use ``glassnet.init``
    for the curriculum's other schemes.
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
