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


def conv2d(x: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1) -> Tensor:
    """Cross-correlation of a batch of images with a bank of filters.

    y[n, o, i, j] = b[o] + Σ_{c,u,v} W[o, c, u, v] · xp[n, c, s·i + d·u, s·j + d·v],
    xp = x zero-padded by ``padding`` on each side, s = stride, d = dilation.

    Shapes: x (N, C, H, W); W (C_out, C, kh, kw); b (C_out,);
    y (N, C_out, Ho, Wo) with Ho = ⌊(H + 2p − d(kh−1) − 1)/s⌋ + 1 (Wo alike).

    Forward: cols (C·kh·kw, Ho·Wo·N) gathers every receptive field (one copy of a
    strided window view), then y = W₂ @ cols with W₂ = W reshaped (C_out, C·kh·kw).
    Backward, with g = dL/dy as G (C_out, Ho·Wo·N): dW = G colsᵀ, db = Σ G over
    positions, and dx
    - for stride 1 when the output is about as large as the input (padded
      layers), as the transposed convolution it is: the correlation of g,
      zero-padded by d(k−1) − p, with the kernel flipped in both spatial axes and
      its two channel axes swapped (one unfold of g and one product, written
      straight into dx: no scatter);
    - otherwise (strides > 1, valid convolutions that shrink the image), with
      dcols = W₂ᵀ G folded back (col2im): each kernel offset
      (u, v) adds its slice of dcols onto the input positions it read.
    dx is computed only when x requires a gradient.

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
    cols = _unfold(xp, kh, kw, (sh, sw), (dh, dw), ho, wo)
    w2 = w.reshape(c_out, -1)
    y = w2 @ cols  # (C_out, Ho·Wo·N)
    if bias is not None:
        y += bias.data[:, None]
    out = y.reshape(c_out, ho, wo, n).transpose(3, 0, 1, 2)
    keep_cols = cols if weight.requires_grad else None  # the only large array backward keeps

    def backward(g):
        gt = channels_first(g)
        g2 = np.ascontiguousarray(gt).reshape(c_out, -1)
        gx = gw = gb = None
        if weight.requires_grad:
            gw = _matmul_nt(g2, keep_cols).reshape(w.shape)
        if bias is not None and bias.requires_grad:
            gb = g2.sum(axis=1)
        if x.requires_grad:
            # The transposed convolution's product covers H·W positions, col2im's Ho·Wo (then a
            # scatter): for "same"-padded layers the first wins, for a valid 5×5 on 12×12 (64
            # outputs, 144 inputs) the second.
            gx = (_input_grad_transposed(g2.reshape(gt.shape), w, (h, wd), (ph, pw), (dh, dw))
                  if sh == sw == 1 and h * wd <= 1.5 * ho * wo else
                  _input_grad_col2im(g2, w2, xp.shape, (h, wd), (kh, kw), (sh, sw), (ph, pw), (dh, dw)))
            gx = gx.transpose(3, 0, 1, 2)
        return (gx, gw) if bias is None else (gx, gw, gb)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(out, parents, backward, "conv2d")


def _input_grad_transposed(gt: np.ndarray, w: np.ndarray, size, padding, dilation) -> np.ndarray:
    """dx of a stride-1 convolution, (C, H, W, N): g (C_out, Ho, Wo, N) zero-padded
    by d(k−1) − p on each side (cropped where that is negative), correlated with
    Wᵀ[c, o, u, v] = W[o, c, kh−1−u, kw−1−v]."""
    (h, wd), (ph, pw), (dh, dw) = size, padding, dilation
    c_out, c, kh, kw = w.shape
    top, left = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    gp = _pad_hw(gt, top, h + dh * (kh - 1) - gt.shape[1] - top, left, wd + dw * (kw - 1) - gt.shape[2] - left)
    w_t = np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)).reshape(c, -1)
    return (w_t @ _unfold(gp, kh, kw, (1, 1), (dh, dw), h, wd)).reshape(c, h, wd, gt.shape[3])


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
