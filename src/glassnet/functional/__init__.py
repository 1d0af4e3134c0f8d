"""Functional ops: forward computations with hand-derived backward passes.

``import glassnet.functional as F`` then ``F.relu(x)``, ``F.cross_entropy(logits, y)``.
"""

from .activations import dropout, leaky_relu, log_softmax, prelu, relu, rrelu, sigmoid, softmax, tanh
from .linear import linear
