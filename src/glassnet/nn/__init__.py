"""Layers in the PyTorch style: ``from glassnet import nn``."""

from .container import ModuleDict, ModuleList, Sequential
from .linear import Linear
from .module import Module, Parameter, register_function, register_module
from .activation import LeakyReLU, LogSoftmax, PReLU, ReLU, RReLU, Sigmoid, Softmax, Tanh
from .basic import Dropout, Flatten, Identity
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss, MultiMarginLoss, NLLLoss, QuadraticCost,
                   SVMLoss)
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm, SyncBatchNorm
from .conv import Conv2d, Dropout2d
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, GlobalAvgPool2d, MaxPool2d,
                      SpatialPyramidPool2d)
from .conv1d import Conv1d
from .embedding import Embedding
from .residual import ResidualBlock
from . import finetune
