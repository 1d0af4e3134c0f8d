"""Batch normalization layers (per feature for (N, C[, L]), per channel for
images), and layer normalization (per example, over its last axes)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..distributed import world as _world
from ..distributed.sync_batch_norm import sync_batch_norm
from ..functional.activations import relu as relu_
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

    running_mean: np.ndarray | None
    running_var: np.ndarray | None
    num_batches_tracked: np.ndarray | None

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
        if self.running_mean is not None and self.running_var is not None and self.num_batches_tracked is not None:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def forward(self, x, relu: bool = False):
        """BN(x); ``relu=True`` gives max(BN(x), 0) as one fused node (``functional.batch_norm``)."""
        if x.ndim not in self._input_axes or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: expected input of shape {self._input_form.format(self.num_features)}, "
                             f"got {tuple(x.shape)}")
        use_batch_stats = self.training or not self.track_running_stats
        momentum = 0.0
        if self.training and self.track_running_stats:
            tracked = self.num_batches_tracked
            assert tracked is not None  # registered when track_running_stats
            tracked += 1  # in place: a 0-d array
            momentum = 1 / int(tracked) if self.momentum is None else self.momentum
        return self._normalize(x, use_batch_stats, momentum, relu)

    def _normalize(self, x, use_batch_stats: bool, momentum: float, relu: bool = False):
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          training=use_batch_stats, momentum=momentum, eps=self.eps, relu=relu)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm of features (N, C) or sequences (N, C, L): statistics per
    channel C over N (and L).

    y = γ·(x − μ)/√(σ² + ε) + β, with μ, σ² the batch's (biased variance) in
    training, and the running averages in evaluation.

    Args:
        num_features: C.
        eps: ε, added to the variance.
        momentum: running = (1 − momentum)·running + momentum·batch (None: the
            cumulative average).
        affine: learn γ (``weight``) and β (``bias``).
        track_running_stats: keep ``running_mean`` / ``running_var`` for evaluation
            (False: batch statistics in both modes).
        dtype: of the parameters and buffers.

    Shape:
        - Input: (N, C) or (N, C, L).
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> bn = nn.BatchNorm1d(2)
        >>> x = Tensor(np.array([[1.0, 10.0], [3.0, 30.0]], dtype=np.float32))
        >>> bn(x).data.round(4)  # each column to mean 0, variance 1 (up to ε)
        array([[-1., -1.],
               [ 1.,  1.]], dtype=float32)
        >>> bn.running_mean  # moved 10% of the way to the batch mean
        array([0.2, 2. ], dtype=float32)
    """

    _input_axes = (2, 3)
    _input_form = "(N, {0}) or (N, {0}, L)"


class BatchNorm2d(_BatchNorm):
    """Batch norm of images (N, C, H, W): statistics per channel over N, H, W.

    The arguments are those of :class:`BatchNorm1d`, with ``num_features`` the
    number of channels C.

    Shape:
        - Input: (N, C, H, W).
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> x = Tensor(np.random.default_rng(0).normal(5.0, 3.0, (8, 4, 6, 6)).astype(np.float32))
        >>> y = nn.BatchNorm2d(4)(x).data
        >>> bool(np.allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)), bool(np.allclose(y.std(axis=(0, 2, 3)), 1, atol=1e-3))
        (True, True)
    """

    _input_axes = (4,)
    _input_form = "(N, {0}, H, W)"


class SyncBatchNorm(_BatchNorm):
    """Batch norm of (N, C, *) inputs whose training statistics span every
    process of a data-parallel run: K processes with n/K examples each
    normalise exactly as one process with all n (see
    :func:`glassnet.distributed.sync_batch_norm`; two small collectives per
    layer and step). In one process, or in evaluation, it is BatchNorm1d/2d.

    ``SyncBatchNorm.convert_sync_batchnorm(model)`` replaces every BatchNorm1d
    and BatchNorm2d of ``model`` by one, keeping its weights and statistics.
    """

    _input_axes = (2, 3, 4, 5)
    _input_form = "(N, {0}, *)"

    def _normalize(self, x, use_batch_stats: bool, momentum: float, relu: bool = False):
        world = _world.active()
        if world is None or world.size == 1 or not use_batch_stats:
            return super()._normalize(x, use_batch_stats, momentum, relu)
        y = sync_batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, world,
                            momentum=momentum, eps=self.eps)
        return relu_(y) if relu else y

    @classmethod
    def convert_sync_batchnorm(cls, module: Module) -> Module:
        """``module`` with each BatchNorm1d/BatchNorm2d (itself or inside it)
        replaced by a SyncBatchNorm holding the same weights and buffers."""
        if isinstance(module, (BatchNorm1d, BatchNorm2d)):
            holder = module.weight if module.affine else module.running_mean
            sync = cls(module.num_features, eps=module.eps, momentum=module.momentum, affine=module.affine,
                       track_running_stats=module.track_running_stats,
                       dtype=None if holder is None else np.asarray(holder.data if module.affine else holder).dtype)
            sync.weight, sync.bias = module.weight, module.bias  # the same Parameters: optimizers keep them
            if module.track_running_stats:
                sync.running_mean, sync.running_var = module.running_mean, module.running_var
                sync.num_batches_tracked = module.num_batches_tracked
            return sync.train(module.training)
        for name, child in list(module.named_children()):
            converted = cls.convert_sync_batchnorm(child)
            if converted is not child:
                setattr(module, name, converted)
        return module


class LayerNorm(Module):
    """Normalise each example over its last axes ``normalized_shape`` (an int or
    a tuple), then scale by ``weight`` (ones) and shift by ``bias`` (zeros), both
    of that shape, as PyTorch's: no running statistics, the same in training and
    evaluation (see ``functional.layer_norm.layer_norm``).

    Args:
        normalized_shape: the trailing axes normalised together, an int or a tuple.
        eps: ε, added to the variance.
        elementwise_affine: learn ``weight`` and ``bias`` (default True).
        bias: learn ``bias`` (default True).
        dtype: of the parameters.

    Shape:
        - Input: (..., *normalized_shape).
        - Output: the input's shape.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> nn.LayerNorm(3)(Tensor(np.array([[1.0, 2.0, 3.0]], dtype=np.float32)))
        tensor([[-1.2247,  0.    ,  1.2247]], requires_grad=True)
    """

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
