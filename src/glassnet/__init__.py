"""glassnet: the classic neural-network curriculum on NumPy, real, fast, verified and visible."""

from . import functional, init, nn, optim
from .backend import default_dtype, get_num_threads, set_default_dtype, set_num_threads
from .gradcheck import gradcheck
from .io import load, save
from .random import seed
from numpy import float32, float64, int64  # dtypes by their PyTorch names: x.to(glassnet.float64)

from .tensor import Tensor, cat, enable_grad, is_grad_enabled, no_grad, ones, randn, stack, tensor, where, zeros

__version__ = "0.1.0"
