"""Weight initializers: each fills a parameter in place and returns it.

Fan-in/fan-out for a weight of shape (out, in, *kernel) are
``in·∏kernel`` and ``out·∏kernel`` (as in PyTorch). Every function draws from
``generator`` (default: the global generator of :mod:`glassnet.random`).
"""

from __future__ import annotations

import math

import numpy as np

from .random import get_generator
from .tensor import Tensor


def _fill(tensor: Tensor, values: np.ndarray) -> Tensor:
    tensor.data[...] = values
    return tensor


def fan_in_and_fan_out(shape: tuple) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel)."""
    if len(shape) < 2:
        raise ValueError(f"fan in/out needs a weight with at least 2 dimensions, got shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive
