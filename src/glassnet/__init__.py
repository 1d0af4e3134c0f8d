"""glassnet: the classic neural-network curriculum on NumPy, real, fast, verified and visible."""

from importlib import metadata as _metadata

from . import functional, init, nn, optim
from .backend import (default_dtype, get_num_threads, set_default_dtype, set_num_threads, threads, tune_allocator,
                      tune_allocator_once)
from .gradcheck import gradcheck
from .io import load, save
from .random import seed
from numpy import float32, float64, int64  # dtypes by their PyTorch names: x.to(glassnet.float64)

from .tensor import Tensor, cat, enable_grad, is_grad_enabled, no_grad, ones, randn, stack, tensor, where, zeros

try:  # the version is written once, in pyproject.toml
    __version__ = _metadata.version("glassnet")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Tensor", "cat", "default_dtype", "enable_grad", "float32", "float64", "functional", "get_num_threads",
    "gradcheck", "init", "int64", "is_grad_enabled", "load", "nn", "no_grad", "ones", "optim", "randn",
    "save", "seed", "set_default_dtype", "set_num_threads", "stack", "tensor", "threads", "tune_allocator",
    "tune_allocator_once", "where", "zeros",
    "__version__",
]
