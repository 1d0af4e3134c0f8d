"""One-dimensional convolution (cross-correlation) over a sequence, e.g. over the
words of a sentence (the sentence CNN), as one matrix product over unfolded windows."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..tensor import Tensor


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0) -> Tensor:
    """y[n, f, t] = b[f] + Σ_c Σ_j W[f, c, j] · x̃[n, c, t·s + j],  x̃ = x zero-padded by p on both ends.

    Shapes (PyTorch's ``conv1d``): x (N, C, L); W (F, C, k); b (F,);
    y (N, F, T) with T = ⌊(L + 2p − k)/s⌋ + 1.

    A window of a sentence of word vectors (C = embedding dim, L = words) with
    k = h words is the same sum as a 2-D convolution with an h × d kernel.

    Forward: the windows are unfolded into a matrix X (N·T, k·C) — one copy,
    taken from a strided view of x in (N, L, C) order, so each of a window's k
    positions contributes a contiguous run of C numbers (free when x is the
    transposed view of an (N, L, C) array, as a sentence of word vectors is) —
    and y = X W₂ᵀ with W₂ (F, k·C) the kernel in the same order (one GEMM).
    Backward: dW₂ = (Xᵀ G)ᵀ, db = Σ_{n,t} g, dX = G W₂, folded back into dx by
    adding each of the k taps' (N, T, C) slab to its shifted positions (a loop
    over the k kernel taps, not over positions); dx comes back as an (N, C, L)
    view of an (N, L, C) array. (Xᵀ G rather than Gᵀ X: OpenBLAS is much slower
    at the second form for these shapes; see benchmarks/README.md.)

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> x = Tensor(np.arange(5, dtype=np.float32).reshape(1, 1, 5))
        >>> F.conv1d(x, Tensor(np.array([[[1.0, -1.0]]], dtype=np.float32)))  # x[t] − x[t + 1]
        tensor([[[-1., -1., -1., -1.]]])
    """
    xd, w = x.data, weight.data
    if xd.ndim != 3 or w.ndim != 3 or xd.shape[1] != w.shape[1]:
        raise ValueError(f"conv1d: expected x (N, C, L) and weight (F, C, k) with the same C, "
                         f"got x {xd.shape} and weight {w.shape}")
    if stride < 1 or padding < 0:
        raise ValueError(f"conv1d: stride must be >= 1 and padding >= 0, got stride={stride}, padding={padding}")
    n, c, length = xd.shape
    f, _, k = w.shape
    if length + 2 * padding < k:
        raise ValueError(f"conv1d: input length {length} (padding {padding}) is shorter than the kernel {k}")
    xl = xd.transpose(0, 2, 1)                                             # (N, L, C), a view
    if padding:
        xl = np.pad(xl, ((0, 0), (padding, padding), (0, 0)))
    windows = sliding_window_view(xl, k, axis=1)[:, ::stride]             # (N, T, C, k), a view
    t = windows.shape[1]
    cols = windows.transpose(0, 1, 3, 2).reshape(n * t, k * c)            # (N·T, k·C), the one copy
    w2 = w.transpose(0, 2, 1).reshape(f, k * c)                            # (F, k·C)
    out = cols @ w2.T                                                      # (N·T, F)
    if bias is not None:
        out += bias.data
    y = out.reshape(n, t, f).transpose(0, 2, 1)                            # (N, F, T), a view

    def backward(g):
        g2 = g.transpose(0, 2, 1).reshape(n * t, f)                        # (N·T, F)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = (cols.T @ g2).T.reshape(f, k, c).transpose(0, 2, 1)
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=0)
        if x.requires_grad:
            dcols = (g2 @ w2).reshape(n, t, k, c)
            dxl = np.zeros(xl.shape, dtype=xd.dtype)                       # (N, L + 2p, C)
            span = stride * (t - 1) + 1
            for j in range(k):
                dxl[:, j:j + span:stride] += dcols[:, :, j]
            gx = dxl[:, padding:padding + length].transpose(0, 2, 1)
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(y, parents, backward, "conv1d")
