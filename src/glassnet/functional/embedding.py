"""Embedding lookup: a table of vectors indexed by integer ids."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def embedding(indices, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0) -> Tensor:
    """out[..., :] = W[indices[...], :].

    ``max_norm`` (as PyTorch's): first, each looked-up row whose p-norm
    (p = ``norm_type``) exceeds it is scaled *in place* in W to norm max_norm,
    w ← w·max_norm/(‖w‖_p + 1e−7), outside the graph; the lookup then reads the
    rescaled rows.

    Shapes: ``indices`` integer array (any shape S, values in [0, V));
    ``weight`` W (V, d); out S + (d,).

    Backward (a sparse gradient): dW[v] = Σ_{positions p with indices[p] = v} g[p],
    scattered with ``np.add.at`` so repeated ids add up. Only the rows that were
    looked up receive anything; the gradient is *stored* as a dense (V, d) array
    that is zero in every other row (what optimizers and ``Tensor.grad`` expect).
    The row ``padding_idx``, if given, gets no gradient (it stays the padding
    vector, as in PyTorch). The indices themselves get no gradient.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> table = Tensor(np.arange(8, dtype=np.float32).reshape(4, 2), requires_grad=True)
        >>> out = F.embedding(np.array([[3, 0, 3]]), table)
        >>> out
        tensor([[[6., 7.],
                 [0., 1.],
                 [6., 7.]]], requires_grad=True)
        >>> out.sum().backward()
        >>> table.grad  # id 3 was looked up twice
        array([[1., 1.],
               [0., 0.],
               [0., 0.],
               [2., 2.]], dtype=float32)
    """
    idx = np.asarray(indices.data if isinstance(indices, Tensor) else indices)
    w = weight.data
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, dim), got shape {w.shape}")
    if idx.size and (idx.min() < 0 or idx.max() >= w.shape[0]):
        raise IndexError(f"embedding: indices must lie in [0, {w.shape[0]}), "
                         f"got values in [{idx.min()}, {idx.max()}]")
    flat = idx.reshape(-1)
    if max_norm is not None:
        rows = np.unique(flat)
        norms = np.linalg.norm(w[rows], ord=norm_type, axis=1)
        over = norms > max_norm
        w[rows[over]] *= (max_norm / (norms[over] + 1e-7))[:, None].astype(w.dtype)

    def backward(g):
        full = np.zeros_like(w)
        d = w.shape[1]
        # np.add.at over the flat table (element k·d + j for row k) beats np.add.at over rows
        # (figures: benchmarks/README.md, "Measurements behind kernel choices")
        np.add.at(full.reshape(-1), (flat[:, None] * d + np.arange(d)).reshape(-1), g.reshape(-1))
        if padding_idx is not None:
            full[padding_idx] = 0
        return (full,)

    return Tensor.from_op(w[idx], (weight,), backward, "embedding")
