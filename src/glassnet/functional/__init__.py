"""Functional ops: forward computations with hand-derived backward passes.

``import glassnet.functional as F`` then ``F.relu(x)``, ``F.cross_entropy(logits, y)``.
"""

from .activations import dropout, leaky_relu, log_softmax, prelu, relu, rrelu, sigmoid, softmax, tanh
from .linear import linear
from .losses import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, l1_penalty, l2_penalty,
                     mse_loss, multi_margin_loss, nll_loss, quadratic_cost, sigmoid_cross_entropy,
                     sigmoid_quadratic_cost, svm_loss)
from .normalization import batch_norm
from .layer_norm import layer_norm
from .conv import conv2d, dropout2d
from .grouped_conv import depthwise_conv2d, grouped_conv2d
from .padding import pad
from .pooling import (adaptive_avg_pool2d, adaptive_max_pool2d, avg_pool2d, global_avg_pool2d, max_pool2d,
                      spatial_pyramid_pool2d)
from .conv1d import conv1d
from .embedding import embedding
from .residual import add_relu

__all__ = [
    "adaptive_avg_pool2d", "adaptive_max_pool2d", "add_relu", "avg_pool2d", "batch_norm",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "conv1d", "conv2d", "cross_entropy",
    "depthwise_conv2d", "dropout", "dropout2d", "embedding", "global_avg_pool2d", "grouped_conv2d",
    "l1_penalty", "l2_penalty", "layer_norm", "leaky_relu", "linear", "log_softmax", "max_pool2d", "mse_loss",
    "multi_margin_loss", "nll_loss", "pad", "prelu", "quadratic_cost", "relu", "rrelu", "sigmoid", "sigmoid_cross_entropy",
    "sigmoid_quadratic_cost", "softmax",
    "spatial_pyramid_pool2d", "svm_loss", "tanh",
]
