"""Layers in the PyTorch style: ``from glassnet import nn``."""

from .container import Sequential
from .linear import Linear
from .module import Module, Parameter
