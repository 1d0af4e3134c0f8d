"""Activation layers: thin modules over ``glassnet.functional`` (the math and
its derivative live there)."""

from __future__ import annotations

import numpy as np

from .. import backend
from .. import functional as F
from .module import Module, Parameter


class Sigmoid(Module):
    """σ(x) = 1/(1+e^(−x)) elementwise."""

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) = 2σ(2x) − 1 elementwise."""

    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """max(0, x) elementwise. ``inplace`` is accepted for PyTorch code and changes
    nothing: glassnet's ops always write a new array (the graph keeps the input)."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope``·x otherwise."""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace  # inplace: as ReLU's

    def forward(self, x):
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class PReLU(Module):
    """x for x > 0, a·x otherwise, with the slope a learned: one slope shared by
    every channel (``num_parameters=1``) or one per channel (axis 1 of the input).
    Initial slope ``init`` = 0.25, as in PyTorch."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, dtype=None):
        super().__init__()
        # (no ``self.num_parameters``: it would hide Module.num_parameters())
        self.weight = Parameter(np.full(int(num_parameters), init, dtype=dtype or backend.default_dtype()))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.weight.data.size}"


class RReLU(Module):
    """Randomized leaky ReLU: for x < 0 a slope drawn from U(lower, upper) per
    element while training, the mean slope (lower + upper)/2 in evaluation."""

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, inplace: bool = False,
                 generator: np.random.Generator | None = None):
        super().__init__()
        if not 0 <= lower <= upper:
            raise ValueError(f"RReLU: need 0 <= lower <= upper, got lower={lower}, upper={upper}")
        self.lower, self.upper, self.generator = lower, upper, generator
        self.inplace = inplace  # as ReLU's

    def forward(self, x):
        return F.rrelu(x, self.lower, self.upper, training=self.training, generator=self.generator)

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}"


class Softmax(Module):
    """Softmax along ``dim`` (default: the last axis), computed stably."""

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return F.softmax(x, axis=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log softmax along ``dim`` (default: the last axis), computed stably."""

    def forward(self, x):
        return F.log_softmax(x, axis=self.dim)
