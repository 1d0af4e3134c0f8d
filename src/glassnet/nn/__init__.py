"""Layers in the PyTorch style: ``from glassnet import nn``."""

from .container import ModuleDict, ModuleList, Sequential
from .linear import Linear
from .module import (Module, Parameter, register_function, register_module, registered_functions, registered_modules,
                     registry_name, training_mode)
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

__all__ = [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d",
    "BatchNorm2d", "Conv1d", "Conv2d", "CrossEntropyLoss", "Dropout", "Dropout2d", "Embedding", "Flatten",
    "GlobalAvgPool2d", "Identity", "LayerNorm", "LeakyReLU", "Linear", "LogSoftmax", "MSELoss", "MaxPool2d",
    "Module", "ModuleDict", "ModuleList", "MultiMarginLoss", "NLLLoss", "PReLU", "Parameter", "QuadraticCost",
    "RReLU", "ReLU", "ResidualBlock", "SVMLoss", "Sequential", "Sigmoid", "Softmax", "SpatialPyramidPool2d",
    "SyncBatchNorm", "Tanh", "finetune", "register_function", "register_module", "registered_functions",
    "registered_modules", "registry_name", "training_mode",
]
