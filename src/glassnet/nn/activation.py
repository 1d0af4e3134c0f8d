"""Activation layers: thin modules over ``glassnet.functional`` (the math and
its derivative live there)."""

from __future__ import annotations

import numpy as np

from .. import backend
from .. import functional as F
from .module import Module, Parameter


class Sigmoid(Module):
    """σ(x) = 1/(1+e^(−x)) elementwise; σ′ = σ(1−σ) ≤ 1/4, small where σ saturates.

    Shape:
        - Input: any shape.
        - Output: the input's shape, values in (0, 1).

    Examples:
        >>> from glassnet import nn, tensor
        >>> nn.Sigmoid()(tensor([0.0, 2.0]))
        tensor([0.5   , 0.8808])
    """

    def forward(self, x):
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(x) = 2σ(2x) − 1 elementwise; tanh′ = 1 − tanh².

    Shape:
        - Input: any shape.
        - Output: the input's shape, values in (−1, 1).

    Examples:
        >>> from glassnet import nn, tensor
        >>> nn.Tanh()(tensor([0.0, 1.0]))
        tensor([0.    , 0.7616])
    """

    def forward(self, x):
        return F.tanh(x)


class ReLU(Module):
    """max(0, x) elementwise; the gradient is 1 where x > 0, else 0 (a unit
    whose input is ≤ 0 for every example is dead: it never learns again).
    ``inplace`` is accepted for PyTorch code and changes nothing: glassnet's ops
    always write a new array (the graph keeps the input).

    Args:
        inplace: accepted for PyTorch code and changes nothing: glassnet's ops
            always write a new array (the graph keeps the input).

    Shape:
        - Input: any shape.
        - Output: the input's shape.

    Examples:
        >>> from glassnet import nn, tensor
        >>> nn.ReLU()(tensor([-1.0, 0.0, 2.0]))
        tensor([0., 0., 2.])
    """

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = inplace

    def forward(self, x):
        return F.relu(x)


class LeakyReLU(Module):
    """x for x > 0, ``negative_slope``·x otherwise: no unit dies.

    Args:
        negative_slope: the slope a for x ≤ 0 (default 0.01).

    Shape:
        - Input: any shape.
        - Output: the input's shape.

    Examples:
        >>> from glassnet import nn, tensor
        >>> nn.LeakyReLU(0.1)(tensor([-2.0, 3.0]))
        tensor([-0.2,  3. ])
    """

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
    Initial slope ``init`` = 0.25, as in PyTorch.

    Args:
        num_parameters: 1 (one shared slope) or the number of channels C.
        init: the initial slope a (default 0.25).
        dtype: of the slope (default: glassnet's default dtype, float32).

    Shape:
        - Input: any shape; (N, C, ...) when ``num_parameters`` = C.
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.PReLU()(Tensor(np.array([-2.0, 3.0], dtype=np.float32)))
        tensor([-0.5,  3. ], requires_grad=True)
    """

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
    element while training, the mean slope (lower + upper)/2 in evaluation.

    Args:
        lower: the smallest slope (default 1/8).
        upper: the largest slope (default 1/3).
        generator: the ``numpy.random.Generator`` the slopes come from (default:
            glassnet's global one).

    Shape:
        - Input: any shape.
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.RReLU().eval()(Tensor(np.array([-24.0, 3.0], dtype=np.float32)))  # slope (1/8 + 1/3)/2
        tensor([-5.5,  3. ])
    """

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
    """softmax(x)_j = e^(x_j − m) / Σ_k e^(x_k − m) along ``dim``, with m = max_k x_k
    subtracted first: large logits do not overflow.

    Args:
        dim: the axis that sums to 1 (default: the last).

    Shape:
        - Input: any shape.
        - Output: the input's shape; every slice along ``dim`` is a distribution.

    Examples:
        >>> from glassnet import nn, tensor
        >>> nn.Softmax()(tensor([[1000.0, 1000.0], [0.0, 0.0]]))
        tensor([[0.5, 0.5],
                [0.5, 0.5]])
    """

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
