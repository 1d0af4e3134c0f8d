"""2-D convolution (im2col + one GEMM) and channel dropout.

Layout. Images are NCHW to the user. Inside, ``conv2d`` works in the
channels-first, batch-last memory order (C, H, W, N): there the im2col copy and
the col2im additions move long contiguous rows (Wo·N numbers) instead of rows of
Wo, and the matrix product ``W (C_out, C·kh·kw) @ cols (C·kh·kw, Ho·Wo·N)`` writes
its (C_out, Ho, Wo, N) result with no transpose at all. The output is returned as
an NCHW *view* of that array (``out.shape == (N, C_out, Ho, Wo)``, strides of the
(C, H, W, N) order); NumPy's elementwise ops and slicing keep that order, so a
ReLU or a pooling layer in between leaves the next convolution an input it reads
without a copy. Code that needs C-contiguous memory calls ``np.ascontiguousarray``.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..random import get_generator, per_example
from ..tensor import Tensor
from . import blocked_conv as _blocked

# OpenBLAS multiplies products with M·N·K up to about 100³ by a kernel that skips packing.
_SMALL_GEMM = 1_000_000


def pair(value, name: str = "value") -> tuple[int, int]:
    """``k`` → (k, k); a pair stays a pair of ints."""
    if isinstance(value, (int, np.integer)):
        return int(value), int(value)
    value = tuple(int(v) for v in value)
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair of ints, got {value}")
    return value


def output_size(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    """⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def _matmul_nt(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ bᵀ for a (M, P), b (K, P) that share a long axis P (a convolution's
    weight gradient: P = Ho·Wo·N positions). With few weights (M·K ≤ 1024, e.g.
    20×25 in the course's first layer) the sum over P runs as a batch of blocks
    of P, each small enough for OpenBLAS's small-matrix kernel, which beats one
    long product there; with more weights one product is faster (the crossover
    was measured: benchmarks/README.md, "Measurements behind kernel choices")."""
    m, p = a.shape
    k = b.shape[0]
    if m * k <= 1024 and m * k * p > _SMALL_GEMM:
        fewest = -(-m * k * p // _SMALL_GEMM)
        blocks = next((d for d in range(fewest, p // 256 + 1) if p % d == 0), None)  # blocks of ≥ 256
        if blocks is not None:
            a3 = a.reshape(m, blocks, p // blocks).transpose(1, 0, 2)
            b3 = b.reshape(k, blocks, p // blocks).transpose(1, 2, 0)
            return np.matmul(a3, b3).sum(axis=0)
    return (b @ a.T).T


def channels_first(a: np.ndarray) -> np.ndarray:
    """An (N, C, H, W) array as a (C, H, W, N) view (free: a transpose of the strides)."""
    return a.transpose(1, 2, 3, 0)


def _pad_hw(a: np.ndarray, top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """A (C, H, W, N) array zero-padded (or, for negative amounts, cropped) on
    axes 1 and 2, as a fresh C-contiguous array (C, H + top + bottom, W + left + right, N)."""
    a = a[:, max(-top, 0):a.shape[1] - max(-bottom, 0), max(-left, 0):a.shape[2] - max(-right, 0)]
    top, bottom, left, right = (max(p, 0) for p in (top, bottom, left, right))
    if not (top or bottom or left or right):
        return np.ascontiguousarray(a)
    c, h, w, n = a.shape
    out = np.zeros((c, h + top + bottom, w + left + right, n), dtype=a.dtype)
    out[:, top:top + h, left:left + w] = a
    return out


def _unfold(xp: np.ndarray, kh: int, kw: int, stride, dilation, ho: int, wo: int) -> np.ndarray:
    """im2col in (C, H, W, N) order: cols[(c, u, v), (i, j, n)] = xp[c, s·i + d·u, s·j + d·v, n].

    xp (C, Hp, Wp, N) C-contiguous → cols (C·kh·kw, Ho·Wo·N). One copy of a
    strided window view whose innermost run is the N contiguous images of a
    pixel; no copy at all for a 1×1 kernel with stride 1 (cols is xp reshaped)."""
    (sh, sw), (dh, dw) = stride, dilation
    c, n = xp.shape[0], xp.shape[3]
    if kh == kw == 1 and sh == sw == 1:
        return xp.reshape(c, -1)
    span_h, span_w = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    windows = sliding_window_view(xp, (span_h, span_w), axis=(1, 2))[:, ::sh, ::sw, :, ::dh, ::dw]
    return np.ascontiguousarray(windows.transpose(0, 4, 5, 1, 2, 3)).reshape(c * kh * kw, ho * wo * n)


TAP_MIN_ROWS = 64  # C·kw from which a stride-1 convolution multiplies by kernel row (benchmarks/README.md)


def _column_shifts(xp: np.ndarray, kw: int, dw: int, wo: int) -> np.ndarray:
    """xs (C·kw, Hp·Wo·N) with xs[(c, v), (h, j, n)] = xp[c, h, j + d·v, n]: the kw column shifts
    of a padded (C, Hp, Wp, N) input, so that kernel row u's im2col rows are the contiguous
    column slice [d·u·Wo·N, d·u·Wo·N + Ho·Wo·N) of xs, which BLAS reads in place."""
    c, hp, _, n = xp.shape
    xs = np.empty((c, kw, hp, wo, n), dtype=xp.dtype)
    for v in range(kw):
        xs[:, v] = xp[:, :, dw * v:dw * v + wo]
    return xs.reshape(c * kw, hp * wo * n)


def _kernel_rows(w: np.ndarray) -> np.ndarray:
    """W (C_out, C, kh, kw) → (kh, C_out, C·kw): W_u, kernel row u, its columns in xs's (c, v) order."""
    c_out, c, kh, kw = w.shape
    return np.ascontiguousarray(w.transpose(2, 0, 1, 3)).reshape(kh, c_out, c * kw)


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1) -> Tensor:
    """Cross-correlation of a batch of images with a bank of filters.

    y[n, o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] · xp[n, c, s·i + d·u, s·j + d·v],
    xp = x zero-padded by ``padding`` on each side, s = stride, d = dilation.

    Shapes: x (N, C, H, W); W (C_out, C, kh, kw); b (C_out,);
    y (N, C_out, Ho, Wo) with Ho = ⌊(H + 2p − d(kh−1) − 1)/s⌋ + 1 (Wo alike).

    Forward, two ways to the same products:
    - im2col: cols (C·kh·kw, Ho·Wo·N) gathers every receptive field (one copy
      of a strided window view), then y = W₂ cols with W₂ = W reshaped
      (C_out, C·kh·kw); backward dW = G colsᵀ (g = dL/dy as G (C_out, Ho·Wo·N));
    - by kernel rows, for stride 1 with C·kw ≥ ``TAP_MIN_ROWS`` (the course
      CNN's second layer: 20·5): xs (C·kw, Hp·Wo·N), the kw column shifts of the
      padded input, is a copy Hp/(kh·Ho) times the size of cols, and kernel row
      u's part of cols is the column slice xs_u = xs[:, d·u·Wo·N + (0 … Ho·Wo·N)],
      read in place: y = Σ_u W_u xs_u with W_u = W[:, :, u, :] as (C_out, C·kw),
      and dW_u = G xs_uᵀ.
    db = Σ G over positions. dx, computed only when x requires a gradient:
    - for stride 1, the transpose of the kernel-row products: dxs_u += W_uᵀ G,
      then each column shift of dxs added back where it was read and the
      padding cropped (kh products and kh + kw additions);
    - for strides > 1, dcols = W₂ᵀ G folded back (col2im): each kernel offset
      (u, v) adds its slice of dcols onto the input positions it read.
    Measured on the course CNN's second layer (20 → 40 maps, 5×5, 12×12, batch
    64, forward and backward, 2 threads): 14.4 ms by im2col and col2im, 7.7 ms
    by kernel rows (benchmarks/README.md).

    The residual nets' convolutions — 3×3 with padding 1 and 1×1 with padding 0,
    stride 1 or 2, dilation 1 — go to ``functional.blocked_conv.blocked_conv2d``:
    the same products in cache-sized blocks, nothing of im2col size kept for
    backward, on several threads under ``glassnet.threads(n)``.

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> x = Tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4))
        >>> F.conv2d(x, Tensor(np.ones((1, 1, 2, 2), dtype=np.float32)))  # the sum of each 2×2 window
        tensor([[[[10., 14., 18.],
                  [26., 30., 34.],
                  [42., 46., 50.]]]])
        >>> F.conv2d(x, Tensor(np.ones((3, 1, 3, 3), dtype=np.float32)), stride=2, padding=1).shape
        (1, 3, 2, 2)
    """
    xd, w = x.data, weight.data
    if xd.ndim != 4 or w.ndim != 4:
        raise ValueError(f"conv2d: expected input (N, C, H, W) and weight (C_out, C, kh, kw), "
                         f"got input {xd.shape} and weight {w.shape}")
    if xd.dtype != w.dtype or (bias is not None and bias.data.dtype != w.dtype):
        raise TypeError(f"conv2d: input, weight and bias must share a dtype, got {xd.dtype}, {w.dtype}"
                        + (f", {bias.data.dtype}" if bias is not None else ""))
    n, c, h, wd = xd.shape
    c_out, c_w, kh, kw = w.shape
    if c != c_w:
        raise ValueError(f"conv2d: weight {w.shape} expects {c_w} input channels, got input {xd.shape}")
    (sh, sw), (ph, pw), (dh, dw) = pair(stride, "stride"), pair(padding, "padding"), pair(dilation, "dilation")
    ho, wo = output_size(h, kh, sh, ph, dh), output_size(wd, kw, sw, pw, dw)
    if ho < 1 or wo < 1:
        raise ValueError(f"conv2d: input {h}×{wd} with padding ({ph}, {pw}) is smaller than the "
                         f"kernel {kh}×{kw} (dilation ({dh}, {dw})); expected at least "
                         f"{dh * (kh - 1) + 1 - 2 * ph}×{dw * (kw - 1) + 1 - 2 * pw}")

    if _blocked.applies((kh, kw), (sh, sw), (ph, pw), (dh, dw)):  # residual nets' 3×3 and 1×1 layers
        return _blocked.blocked_conv2d(x, weight, bias, sh)
    # x in (C, H, W, N) order, padded: no transposing copy when x already has that layout.
    xp = _pad_hw(channels_first(xd), ph, ph, pw, pw)
    span = ho * wo * n
    by_rows = sh == sw == 1 and kh * kw > 1 and c * kw >= TAP_MIN_ROWS
    if by_rows:  # y = Σ_u W_u xs_u
        cols = _column_shifts(xp, kw, dw, wo)
        step = dh * wo * n
        w_rows = _kernel_rows(w)
        y = w_rows[0] @ cols[:, :span]  # (C_out, Ho·Wo·N)
        part = np.empty_like(y)
        for u in range(1, kh):
            np.matmul(w_rows[u], cols[:, u * step:u * step + span], out=part)
            y += part
    else:
        cols = _unfold(xp, kh, kw, (sh, sw), (dh, dw), ho, wo)
        y = w.reshape(c_out, -1) @ cols  # (C_out, Ho·Wo·N)
    if bias is not None:
        y += bias.data[:, None]
    out = y.reshape(c_out, ho, wo, n).transpose(3, 0, 1, 2)
    keep_cols = cols if weight.requires_grad else None  # the only large array backward keeps

    def backward(g):
        g2 = np.ascontiguousarray(channels_first(g)).reshape(c_out, -1)
        gx = gw = gb = None
        if weight.requires_grad:
            if by_rows:  # dW_u = G xs_uᵀ
                gw = np.stack([_matmul_nt(g2, keep_cols[:, u * step:u * step + span]) for u in range(kh)])
                gw = gw.reshape(kh, c_out, c, kw).transpose(1, 2, 0, 3)
            else:
                gw = _matmul_nt(g2, keep_cols).reshape(w.shape)
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=1)
        if x.requires_grad:
            gx = (_input_grad_by_kernel_rows(g2, w, xp.shape, (h, wd), (ph, pw), (dh, dw)) if sh == sw == 1 else
                  _input_grad_col2im(g2, w.reshape(c_out, -1), xp.shape, (h, wd), (kh, kw), (sh, sw), (ph, pw),
                                     (dh, dw)))
            gx = gx.transpose(3, 0, 1, 2)
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(out, parents, backward, "conv2d")


def _input_grad_by_kernel_rows(g2: np.ndarray, w: np.ndarray, padded_shape, size, padding, dilation) -> np.ndarray:
    """dx of a stride-1 convolution, (C, H, W, N), from G (C_out, Ho·Wo·N): the transpose of
    the forward pass by kernel rows, dxs_u += W_uᵀ G into the column shifts' slices, then
    each shift v added back at columns d·v … d·v + Wo of the padded input, cropped."""
    (h, wd), (ph, pw), (dh, dw) = size, padding, dilation
    c_out, c, kh, kw = w.shape
    hp, n = padded_shape[1], padded_shape[3]
    wo = output_size(wd, kw, 1, pw, dw)
    span, step = g2.shape[1], dh * wo * n
    dxs = np.zeros((c * kw, hp * wo * n), dtype=g2.dtype)
    part = np.empty((c * kw, span), dtype=g2.dtype)
    for u, w_u in enumerate(_kernel_rows(w)):
        np.matmul(w_u.T, g2, out=part)
        dxs[:, u * step:u * step + span] += part
    dxs = dxs.reshape(c, kw, hp, wo, n)
    dxp = np.zeros(padded_shape, dtype=g2.dtype)
    for v in range(kw):
        dxp[:, :, dw * v:dw * v + wo] += dxs[:, v]
    return dxp[:, ph:ph + h, pw:pw + wd]


def _input_grad_col2im(g2, w2, padded_shape, size, kernel, stride, padding, dilation) -> np.ndarray:
    """dx of a strided convolution, (C, H, W, N): dcols = W₂ᵀ G (C·kh·kw, Ho·Wo·N),
    each kernel offset's slice added onto the padded input positions it read, then cropped."""
    (h, wd), (kh, kw), (sh, sw), (ph, pw), (dh, dw) = size, kernel, stride, padding, dilation
    c, n = padded_shape[0], padded_shape[3]
    ho, wo = output_size(h, kh, sh, ph, dh), output_size(wd, kw, sw, pw, dw)
    dcols = (w2.T @ g2).reshape(c, kh, kw, ho, wo, n)
    dxp = np.zeros(padded_shape, dtype=g2.dtype)
    for u in range(kh):
        rows = slice(u * dh, u * dh + sh * (ho - 1) + 1, sh)
        for v in range(kw):
            dxp[:, rows, v * dw:v * dw + sw * (wo - 1) + 1:sw] += dcols[:, u, v]
    return dxp[:, ph:ph + h, pw:pw + wd]


def dropout2d(x: Tensor, p: float = 0.5, training: bool = True,
              generator: np.random.Generator | None = None) -> Tensor:
    """Channel dropout: zero each whole feature map x[n, c] with probability p
    and scale the kept ones by 1/(1−p) (inverted dropout; identity when not
    training). Neighbouring pixels of a map are strongly correlated, so dropping
    single pixels regularises little; dropping maps does.

    Shapes: x (N, C, H, W) (or (N, C, L)); mask (N, C, 1, 1). Backward: g·mask/(1−p).

    Examples:
        >>> import numpy as np
        >>> from glassnet import Tensor
        >>> import glassnet.functional as F
        >>> y = F.dropout2d(Tensor(np.ones((2, 3, 2, 2), dtype=np.float32)), 0.5, generator=np.random.default_rng(0))
        >>> y.data[:, :, 0, 0]  # one value per map: 0 (dropped) or 2 (kept, scaled by 1/(1 − p))
        array([[2., 2., 2.],
               [0., 0., 0.]], dtype=float32)
    """
    if not 0 <= p < 1:
        raise ValueError(f"dropout2d probability must be in [0, 1), got {p}")
    if x.ndim < 3:
        raise ValueError(f"dropout2d: expected input (N, C, H, W), got shape {x.shape}")
    if not training or p == 0:
        return x
    xd = x.data
    shape = xd.shape[:2] + (1,) * (xd.ndim - 2)
    mask = (per_example(lambda s: get_generator(generator).random(s, dtype=np.float32), shape) >= p).astype(xd.dtype)
    mask *= 1 / (1 - p)
    return Tensor.from_op(xd * mask, (x,), lambda g: (g * mask,), "dropout2d")
