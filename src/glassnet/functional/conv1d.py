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

    Forward: the windows are unfolded into a matrix X (N·T, C·k) — one copy,
    taken from a strided view — and y = X Wᵀ (one GEMM).
    Backward: dW = Gᵀ X, db = Σ_{n,t} g, dX = G W, folded back into dx by adding
    each of the k taps' columns to its shifted positions (a loop over the k
    kernel taps, not over positions).
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
    xp = np.pad(xd, ((0, 0), (0, 0), (padding, padding))) if padding else xd
    windows = sliding_window_view(xp, k, axis=2)[:, :, ::stride]          # (N, C, T, k), a view
    t = windows.shape[2]
    cols = windows.transpose(0, 2, 1, 3).reshape(n * t, c * k)            # (N·T, C·k), the one copy
    wf = w.reshape(f, c * k)
    out = cols @ wf.T                                                      # (N·T, F)
    if bias is not None:
        out += bias.data
    y = out.reshape(n, t, f).transpose(0, 2, 1)                            # (N, F, T), a view

    def backward(g):
        g2 = g.transpose(0, 2, 1).reshape(n * t, f)                        # (N·T, F)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = (g2.T @ cols).reshape(w.shape)
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=0)
        if x.requires_grad:
            dcols = (g2 @ wf).reshape(n, t, c, k)
            dxp = np.zeros(xp.shape, dtype=xd.dtype)
            span = stride * (t - 1) + 1
            for j in range(k):
                dxp[:, :, j:j + span:stride] += dcols[:, :, :, j].transpose(0, 2, 1)
            gx = dxp[:, :, padding:padding + length] if padding else dxp
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._from_op(y, parents, backward, "conv1d")
