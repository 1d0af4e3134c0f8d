"""Batch normalization layers (per feature for (N, C[, L]), per channel for
images), and layer normalization (per example, over its last axes)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..functional.layer_norm import layer_norm
from ..functional.normalization import batch_norm
from .module import Module, Parameter


class _BatchNorm(Module):
    """Shared body of BatchNorm1d/2d, as in PyTorch.

    Learned scale γ = ``weight`` (ones) and shift β = ``bias`` (zeros) when
    ``affine``; buffers ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` when ``track_running_stats``. Training uses batch
    statistics and updates the running ones with ``momentum`` (``None``: the
    cumulative average 1/num_batches_tracked); evaluation uses the running ones.
    """

    _input_axes: tuple = ()  # the accepted numbers of input axes
    _input_form: str = ""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, dtype=None):
        super().__init__()
        dtype = dtype or backend.default_dtype()
        self.num_features, self.eps, self.momentum = int(num_features), eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        self.weight = Parameter(np.ones(num_features, dtype=dtype)) if affine else None
        self.bias = Parameter(np.zeros(num_features, dtype=dtype)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x):
        if x.ndim not in self._input_axes or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: expected input of shape {self._input_form.format(self.num_features)}, "
                             f"got {tuple(x.shape)}")
        use_batch_stats = self.training or not self.track_running_stats
        momentum = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1  # in place: a 0-d array
            momentum = 1 / int(self.num_batches_tracked) if self.momentum is None else self.momentum
        return batch_norm(x, self.running_mean if self.track_running_stats else None,
                          self.running_var if self.track_running_stats else None,
                          self.weight, self.bias, training=use_batch_stats, momentum=momentum, eps=self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of features (N, C) or sequences (N, C, L): statistics per
    channel C over N (and L)."""

    _input_axes = (2, 3)
    _input_form = "(N, {0}) or (N, {0}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of images (N, C, H, W): statistics per channel over N, H, W."""

    _input_axes = (4,)
    _input_form = "(N, {0}, H, W)"


class LayerNorm(Module):
    """Normalise each example over its last axes ``normalized_shape`` (an int or
    a tuple), then scale by ``weight`` (ones) and shift by ``bias`` (zeros), both
    of that shape, as PyTorch's: no running statistics, the same in training and
    evaluation (see ``functional.layer_norm.layer_norm``)."""

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True, bias: bool = True,
                 dtype=None):
        super().__init__()
        shape = (int(normalized_shape),) if np.ndim(normalized_shape) == 0 else tuple(int(n) for n in normalized_shape)
        dtype = dtype or backend.default_dtype()
        self.normalized_shape, self.eps, self.elementwise_affine = shape, eps, elementwise_affine
        self.weight = Parameter(np.ones(shape, dtype=dtype)) if elementwise_affine else None
        self.bias = Parameter(np.zeros(shape, dtype=dtype)) if elementwise_affine and bias else None

    def forward(self, x):
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
