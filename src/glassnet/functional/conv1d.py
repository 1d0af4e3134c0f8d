"""One-dimensional convolution (cross-correlation) over a sequence, e.g. over the
words of a sentence (the sentence CNN), as one matrix product per kernel tap."""

from __future__ import annotations

import numpy as np

from ..tensor import Tensor


def conv1d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int = 1, padding: int = 0) -> Tensor:
    """y[n, f, t] = b[f] + Σ_c Σ_j W[f, c, j] · x̃[n, c, t·s + j],  x̃ = x zero-padded by p on both ends.

    Shapes (PyTorch's ``conv1d``): x (N, C, L); W (F, C, k); b (F,);
    y (N, F, T) with T = ⌊(L + 2p − k)/s⌋ + 1.

    A window of a sentence of word vectors (C = embedding dim, L = words) with
    k = h words is the same sum as a 2-D convolution with an h × d kernel.

    One matrix product per kernel tap, with no unfolded copy of the windows.
    The sentences lie one after another in (N, L, C) order as the rows of a
    matrix X (N·Lq, C), each padded to Lq = s·Tq rows, Tq = ⌈(L + 2p)/s⌉ (free
    when x is the transposed view of an unpadded (N, L, C) array, as a sentence
    of word vectors is). Output row m = n·Tq + t reads rows s·m + j, so tap j's
    rows X_j = X[j::s] are a strided view BLAS reads in place, and

        Y = Σ_j X_j W_jᵀ   (rows m < M = ⌊(N·Lq − k)/s⌋ + 1; W_j = W[:, :, j], (F, C)),

    of which the rows t < T of each sentence are y (the others straddle two
    sentences and are dropped: (k − 1)/Lq of the work for stride 1).
    Backward, with G the same rows of g (zero where y has none) and Gs its k
    shifted copies side by side (N·Lq, k·F), Gs[s·m + j, (j, f)] = G[m, f]:
    dW = Xᵀ Gs (C, k·F), db = Σ_{n,t} g, dX = Gs W_cat with W_cat (k·F, C) the
    taps stacked, each one product; dx comes back as an (N, C, L) view of an
    (N, L, C) array. For the text CNN (50 sentences of 64 words, 300 dims, 100
    maps of widths 3, 4, 5) the three layers' forward and backward take 79 ms
    on 2 threads and 132 ms on one, where one product over an unfolded copy of
    the windows (N·T, k·C) took 121 and 177 (benchmarks/README.md).

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
    s = stride
    t = (length + 2 * padding - k) // s + 1
    tq = -(-(length + 2 * padding) // s)                                   # output rows per sentence
    lq = s * tq                                                            # input rows per sentence
    xl = xd.transpose(0, 2, 1)                                             # (N, L, C), a view
    if padding or lq != length or not xl.flags.c_contiguous:
        padded = np.zeros((n, lq, c), dtype=xd.dtype)
        padded[:, padding:padding + length] = xl
        xl = padded
    rows = xl.reshape(n * lq, c)                                           # X (N·Lq, C)
    m = (n * lq - k) // s + 1

    def tap(a, j):                                                         # a[j::s], the M rows tap j meets
        return a[j:j + s * (m - 1) + 1:s]

    w_taps = np.ascontiguousarray(w.transpose(2, 1, 0))                    # (k, C, F): W_jᵀ
    y_rows = np.zeros((n * tq, f), dtype=xd.dtype)                         # Y (N·Tq, F)
    np.matmul(tap(rows, 0), w_taps[0], out=y_rows[:m])
    for j in range(1, k):
        y_rows[:m] += tap(rows, j) @ w_taps[j]
    out = y_rows.reshape(n, tq, f)[:, :t]                                  # (N, T, F), a view
    if bias is not None:
        out += bias.data
    y = out.transpose(0, 2, 1)                                             # (N, F, T), a view

    def backward(g):
        # Gs (N·Lq, k, F): Gs[s·m + j, j] = G[m], row m of g for tap j (zero elsewhere) — the
        # windows of g, F = 100 wide where those of x are C = 300 — so that both gradients are
        # one product each: dW = Xᵀ Gs and dX = Gs W_cat, W_cat[(j, f), c] = W[f, c, j].
        g_rows = np.zeros((n, tq, f), dtype=xd.dtype)
        g_rows[:, :t] = g.transpose(0, 2, 1)
        g_rows = g_rows.reshape(n * tq, f)[:m]                             # G (M, F)
        g_taps = np.zeros((n * lq, k, f), dtype=xd.dtype)
        for j in range(k):
            tap(g_taps[:, j], j)[...] = g_rows
        g_taps = g_taps.reshape(n * lq, k * f)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = (rows.T @ g_taps).reshape(c, k, f).transpose(2, 0, 1)     # (F, C, k)
        if bias is not None and bias.requires_grad:
            gb = g_rows.sum(axis=0)
        if x.requires_grad:
            dx_rows = g_taps @ w_taps.transpose(0, 2, 1).reshape(k * f, c)  # (N·Lq, C)
            gx = dx_rows.reshape(n, lq, c)[:, padding:padding + length].transpose(0, 2, 1)
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(y, parents, backward, "conv1d")
