"""A lookup table of learned vectors, one row per id (words, tokens, categories)."""

from __future__ import annotations

import numpy as np

from .. import backend
from ..functional.embedding import embedding
from ..random import get_generator
from .module import Module, Parameter


class Embedding(Module):
    """out[..., :] = W[ids[...], :] with W of shape (num_embeddings, embedding_dim).

    Initialised as in PyTorch, W ~ N(0, 1), except the row ``padding_idx`` (if
    given), which is zero and never receives a gradient. ``_weight`` supplies
    the initial table instead (copied); ``_freeze=True`` makes the table a
    constant (``weight.requires_grad = False``). Both follow PyTorch's
    constructor; ``from_pretrained`` is the public way to use them.
    ``max_norm``: looked-up rows longer than it (in ``norm_type``-norm) are
    rescaled to it in place before the lookup, as in PyTorch.

    Args:
        num_embeddings: V, the number of ids (rows).
        embedding_dim: d, the length of each vector.
        padding_idx: an id whose row stays zero.
        dtype: of the table.
        generator: the ``numpy.random.Generator`` of the initial values.

    Shape:
        - Input: integer ids of any shape (...), e.g. (N, L) sentences.
        - Output: (..., d).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor, nn
        >>> table = np.arange(12, dtype=np.float32).reshape(4, 3)
        >>> emb = nn.Embedding.from_pretrained(table, freeze=False)
        >>> out = emb(Tensor(np.array([[1, 3, 1]])))
        >>> out.shape
        (1, 3, 3)
        >>> out.sum().backward()
        >>> emb.weight.grad[:, 0]  # id 1 was looked up twice, id 3 once
        array([0., 2., 0., 1.], dtype=float32)

    The gradient of W is sparse in meaning: only rows that were looked up in the
    batch are non-zero (repeated ids add up). It is stored as a dense (V, d)
    ndarray in ``weight.grad`` with zeros elsewhere, so every optimizer works on
    it unchanged; note that momentum or weight decay still move the other rows,
    exactly as PyTorch's ``Embedding(sparse=False)`` does.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, _weight=None, _freeze: bool = False, dtype=None, generator: np.random.Generator | None = None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        if padding_idx is not None:
            if not -self.num_embeddings <= padding_idx < self.num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} is outside [0, {self.num_embeddings})")
            padding_idx %= self.num_embeddings
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        dtype = dtype or backend.default_dtype()
        if _weight is None:
            weight = get_generator(generator).standard_normal((self.num_embeddings, self.embedding_dim)).astype(dtype)
            if padding_idx is not None:
                weight[padding_idx] = 0
        else:
            weight = np.array(_weight.data if hasattr(_weight, "data") else _weight, dtype=dtype)
            if weight.shape != (self.num_embeddings, self.embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {weight.shape}, expected "
                                 f"({self.num_embeddings}, {self.embedding_dim})")
        self.weight = Parameter(weight, requires_grad=not _freeze)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None,
                        max_norm: float | None = None, norm_type: float = 2.0) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (V, d) (its dtype, if
        floating); ``freeze=True`` makes the table a constant. The padding row
        keeps the given vector, as in PyTorch.

        The table is copied in after construction, so the recorded constructor
        arguments stay small and ``glassnet.save`` can describe the model (the
        values travel with the weights)."""
        table = np.asarray(embeddings.data if hasattr(embeddings, "data") else embeddings)
        if table.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: expected a (V, d) table, got shape {table.shape}")
        dtype = table.dtype if table.dtype.kind == "f" else None
        module = cls(table.shape[0], table.shape[1], padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                     _freeze=freeze, dtype=dtype)
        module.weight.data[...] = table
        return module

    def forward(self, indices):
        return embedding(indices, self.weight, self.padding_idx, self.max_norm, self.norm_type)

    def extra_repr(self) -> str:
        extra = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        extra += f", max_norm={self.max_norm}" if self.max_norm is not None else ""
        frozen = ", frozen" if not self.weight.requires_grad else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{extra}{frozen}"
