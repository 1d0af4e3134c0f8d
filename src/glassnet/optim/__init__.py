"""Optimizers with parameter groups: ``from glassnet import optim``."""

from .optimizer import Optimizer
from .sgd import SGD
